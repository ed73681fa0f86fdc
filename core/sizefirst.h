/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/*
 * The size-first rule, the one home of how every struct that starts with
 * its own size is read: the uAPI's decoder (core/uapi.c), the kernel's
 * ioctls outside it (ioasid_struct_from_user() in
 * kernel/ioasid/ioasid_kernel.h), libioasid's ioasid_open() and the fast
 * path's ioasid_fp_batcher_create(). Not for users of any library.
 *
 * A struct's first field is "u32 size", the size its caller was built
 * with. The first version of the struct ends at a named field (its last
 * field); later versions only append. So, for the size a caller passes:
 *
 *   below the first version                EINVAL
 *   from the first version up to ours      served; the fields the caller
 *                                          does not know read as 0, and
 *                                          nothing past its size is read
 *   above ours, up to IOASID_UCMD_MAX_SIZE served if every byte past ours
 *                                          is 0, else E2BIG
 *   above IOASID_UCMD_MAX_SIZE             E2BIG
 *
 * and what is copied back is the prefix both sides know. The bound is a
 * constant, so that no caller's size sizes anything.
 *
 * sizefirst_check(), sizefirst_tail_zero() and sizefirst_len() are the
 * rule's three parts, for a reader that fetches the struct in pieces (the
 * decoder through the host's copy, the kernel through
 * copy_struct_from_user()); sizefirst_copy() is the whole rule for a struct
 * in the caller's own memory. Both hosts build this header: it names no
 * header but "ioasid_host.h".
 */
#ifndef IOASID_SIZEFIRST_H
#define IOASID_SIZEFIRST_H

#include "ioasid_host.h"

/*
 * Largest size accepted from a newer caller, whose bytes past the struct
 * this build knows must be 0.
 */
#define IOASID_UCMD_MAX_SIZE	4096U

/*
 * The size of @type's first version, which ends at its field @last: the
 * smallest size the rule accepts.
 */
#define SIZEFIRST_VER0(type, last) \
	(offsetof(type, last) + sizeof(((type *)0)->last))

/*
 * A build-time check that @last is still @type's last field (only padding
 * after it): a field added later must say where the first version ends.
 */
#define SIZEFIRST_ASSERT_LAST(type, last) \
	_Static_assert(sizeof(type) - SIZEFIRST_VER0(type, last) < \
		       _Alignof(type), \
		       "a field after " #last ": the first version of " \
		       #type " still ends at " #last "; say so where it is read")

/*
 * The rule on @size alone, for a struct whose first version is @min_size
 * bytes: -EINVAL below it, -E2BIG above IOASID_UCMD_MAX_SIZE, else 0.
 */
static inline int sizefirst_check(u32 size, u32 min_size)
{
	if (size < min_size)
		return -EINVAL;
	if (size > IOASID_UCMD_MAX_SIZE)
		return -E2BIG;
	return 0;
}

/* Whether the @n bytes at @p, a newer caller's tail, are all 0. */
static inline bool sizefirst_tail_zero(const void *p, u32 n)
{
	const u8 *b = p;
	u32 i;

	for (i = 0; i < n; i++)
		if (b[i])
			return false;
	return true;
}

/*
 * How much of a struct to copy in and back: the prefix that a caller of
 * @size and this build, which knows @ksize bytes, both know.
 */
static inline u32 sizefirst_len(u32 size, u32 ksize)
{
	return size < ksize ? size : ksize;
}

/*
 * The whole rule for the struct at @src, in this address space: its size
 * is checked against @min_size, the first version's size, and its tail
 * past @ksize must be 0; then @dst (@ksize bytes) receives the prefix
 * both know, the rest zeroed. 0, -EINVAL or -E2BIG; @dst is untouched on
 * failure.
 */
static inline int sizefirst_copy(void *dst, u32 ksize, u32 min_size,
				 const void *src)
{
	u32 size;
	int rc;

	memcpy(&size, src, sizeof(size));
	rc = sizefirst_check(size, min_size);
	if (rc)
		return rc;
	if (size > ksize &&
	    !sizefirst_tail_zero((const u8 *)src + ksize, size - ksize))
		return -E2BIG;
	memset(dst, 0, ksize);
	memcpy(dst, src, sizefirst_len(size, ksize));
	return 0;
}

#endif /* IOASID_SIZEFIRST_H */
