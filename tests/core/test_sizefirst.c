// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/*
 * sizefirst: the size-first rule itself (core/sizefirst.h), on a struct
 * that has grown, which no real struct has yet: an older caller's smaller
 * size is served with the fields it lacks zeroed, a newer caller's larger
 * size with a zero tail, and the refusals leave the destination alone.
 * The entry points that use the rule (the uAPI decoder, ioasid_open, the
 * batcher) have their own tests in test_uapi, test_attach and
 * test_fastpath.
 */
#include "harness.h"
#include "sizefirst.h"

/* Version 1 ends at a; version 2, this build's, appended b and c. */
struct grown {
	uint32_t size;
	uint32_t flags;
	uint64_t a;
	uint64_t b;	/* version 2 */
	uint32_t c;	/* version 2 */
	uint32_t d;	/* version 2 */
};

#define V1_SIZE	(offsetof(struct grown, a) + sizeof(uint64_t))
#define JUNK	0xa5

/* The caller's memory: a struct of @size, junk past it. */
static uint8_t src[IOASID_UCMD_MAX_SIZE + 64] __attribute__((aligned(8)));

static void caller(uint32_t size)
{
	struct grown g = { .size = size, .flags = 3, .a = 0x1111, .b = 0x2222,
			   .c = 0x33, .d = 0x44 };

	memset(src, JUNK, sizeof(src));
	memcpy(src, &g, size < sizeof(g) ? size : sizeof(g));
	if (size > sizeof(g))
		memset(src + sizeof(g), 0, size - sizeof(g));
}

/* sizefirst_copy of the caller's struct must fail with @want, no write. */
static int refused(uint32_t size, int want)
{
	struct grown dst;
	uint8_t before[sizeof(dst)];

	memset(&dst, 0x5a, sizeof(dst));
	memcpy(before, &dst, sizeof(dst));
	diag("size %u", size);
	CHECK_ERR(sizefirst_copy(&dst, sizeof(dst), V1_SIZE, src), want);
	CHECK(memcmp(before, &dst, sizeof(dst)) == 0);
	return 0;
}

static int check_and_len(struct fx *f)
{
	(void)f;
	CHECK_ERR(sizefirst_check(0, V1_SIZE), -EINVAL);
	CHECK_ERR(sizefirst_check(V1_SIZE - 1, V1_SIZE), -EINVAL);
	CHECK_OK(sizefirst_check(V1_SIZE, V1_SIZE));
	CHECK_OK(sizefirst_check(IOASID_UCMD_MAX_SIZE, V1_SIZE));
	CHECK_ERR(sizefirst_check(IOASID_UCMD_MAX_SIZE + 1, V1_SIZE), -E2BIG);
	CHECK_ERR(sizefirst_check(UINT32_MAX, V1_SIZE), -E2BIG);
	CHECK_EQ(sizefirst_len(V1_SIZE, sizeof(struct grown)), V1_SIZE);
	CHECK_EQ(sizefirst_len(4096, sizeof(struct grown)),
		 sizeof(struct grown));
	CHECK(sizefirst_tail_zero(src, 0));
	memset(src, 0, 8);
	CHECK(sizefirst_tail_zero(src, 8));
	src[7] = 1;
	CHECK(!sizefirst_tail_zero(src, 8));
	CHECK(sizefirst_tail_zero(src, 7));
	return 0;
}

/*
 * A version-1 caller: a, no more, is read; b, c and d read as 0 though
 * junk follows the caller's struct. So does a caller between versions.
 */
static int older_size_served(struct fx *f)
{
	struct grown dst;

	(void)f;
	caller(V1_SIZE);
	memset(&dst, 0x5a, sizeof(dst));
	CHECK_OK(sizefirst_copy(&dst, sizeof(dst), V1_SIZE, src));
	CHECK_EQ(dst.size, V1_SIZE);
	CHECK_EQ(dst.flags, 3);
	CHECK_EQ(dst.a, 0x1111);
	CHECK_EQ(dst.b, 0);
	CHECK_EQ(dst.c, 0);
	CHECK_EQ(dst.d, 0);
	caller(offsetof(struct grown, c));
	memset(&dst, 0x5a, sizeof(dst));
	CHECK_OK(sizefirst_copy(&dst, sizeof(dst), V1_SIZE, src));
	CHECK_EQ(dst.a, 0x1111);
	CHECK_EQ(dst.b, 0x2222);
	CHECK_EQ(dst.c, 0);
	CHECK_EQ(dst.d, 0);
	return 0;
}

/* This build's size, and a newer one whose tail is 0, up to the bound. */
static int current_and_newer_served(struct fx *f)
{
	uint32_t sizes[] = { sizeof(struct grown), sizeof(struct grown) + 1,
			     sizeof(struct grown) + 40, IOASID_UCMD_MAX_SIZE };
	struct grown dst;

	(void)f;
	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		diag("size %u", sizes[i]);
		caller(sizes[i]);
		memset(&dst, 0x5a, sizeof(dst));
		CHECK_OK(sizefirst_copy(&dst, sizeof(dst), V1_SIZE, src));
		CHECK_EQ(dst.size, sizes[i]);
		CHECK_EQ(dst.b, 0x2222);
		CHECK_EQ(dst.d, 0x44);
	}
	return 0;
}

static int too_small_refused(struct fx *f)
{
	uint32_t sizes[] = { V1_SIZE - 1, sizeof(uint32_t), 1, 0 };

	(void)f;
	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		caller(sizes[i]);
		memcpy(src, &sizes[i], sizeof(sizes[i]));
		if (refused(sizes[i], -EINVAL))
			return 1;
	}
	return 0;
}

/*
 * A newer caller's non-zero tail, at its first or its last byte, and any
 * size past the bound whatever it holds, are E2BIG.
 */
static int larger_nonzero_tail_refused(struct fx *f)
{
	const uint32_t big = sizeof(struct grown) + 40;

	(void)f;
	caller(big);
	src[sizeof(struct grown)] = 1;
	if (refused(big, -E2BIG))
		return 1;
	caller(big);
	src[big - 1] = 0x80;
	if (refused(big, -E2BIG))
		return 1;
	caller(IOASID_UCMD_MAX_SIZE + 1);
	if (refused(IOASID_UCMD_MAX_SIZE + 1, -E2BIG))
		return 1;
	caller(sizeof(struct grown));
	memcpy(src, &(uint32_t){ UINT32_MAX }, sizeof(uint32_t));
	return refused(UINT32_MAX, -E2BIG);
}

static const struct test tests[] = {
	{ "check_and_len", check_and_len, NULL },
	{ "older_size_served", older_size_served, NULL },
	{ "current_and_newer_served", current_and_newer_served, NULL },
	{ "too_small_refused", too_small_refused, NULL },
	{ "larger_nonzero_tail_refused", larger_nonzero_tail_refused, NULL },
};

int main(int argc, char **argv)
{
	return run_tests("sizefirst", tests, sizeof(tests) / sizeof(tests[0]),
			 argc, argv);
}
