// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/*
 * fuzz_uapi: libFuzzer target over the ioctl decoder and the engine.
 *
 * The input drives one context through the same entry point the kernel
 * module uses, ioasid_ctx_ioctl(), with a host whose whole "user address
 * space" is an 8 MiB arena the fuzzer fills: every user pointer and every
 * vaddr in a struct is an offset into it, so the fuzzer reaches every
 * field, pointer and page. After each command the context's invariants are
 * checked (ioasid_ctx_verify), and at the end the context is destroyed and
 * the host checks that nothing is left pinned or charged.
 *
 * Input format, repeated up to 64 times:
 *   u8 command (modulo the number of commands), or a memory write:
 *   a byte >= MEMWRITE, then u8 page, u8 slot, u8 n and 8*n bytes placed
 *   at arena offset 0x10000 + page * 4096 + slot * 8 (page-table entries
 *   of nested ioasids, whose tables live in parent-mapped memory)
 *   u8 n, then n bytes: the struct, placed at arena offset 0
 *   u8 m, then 8*m bytes: placed at arena offset 0x1000 (entries, ranges)
 *   or, for a byte in [FAULTQ_OP, MEMWRITE), a fault queue's read (even)
 *   or write (odd) on fd FZ_FD0 + (byte >> 1) % 4, u8 n, then n bytes at
 *   arena offset 0, read or written with length n
 * The arena's pages from 0x10000 on are "mapped" for pinning, except
 * 0x80000-0x8ffff, a hole. At the end, the walker of nested ioasids' tables
 * (core/pgtable_x86.c) also walks the arena from 0x10000 as a table, and
 * every leaf it reports must be what a walk from the root gives.
 *
 * Fault queues get fd numbers FZ_FD0, FZ_FD0 + 1, ... from the host. The
 * fuzzer has one thread, so nobody answers a fault: an access that misses
 * on an ioasid with a queue waits ioh_wait_cap_ms (1 ms) and times out,
 * which covers raising, the full queue and withdrawal; reads and writes
 * meet queues with no record read (EAGAIN, EINVAL).
 */
#include <stdio.h>

#include "ioasid_core.h"
#include "pgtable_x86.h"

#define ARENA		(8U << 20)
#define MAPPED_FROM	0x10000ULL
#define HOLE_START	0x80000ULL
#define HOLE_END	0x90000ULL

struct fz_host {
	unsigned char *arena;
	u64 pinned;		/* bytes pinned, counted per pin call */
	u64 charged;
	u32 fds;		/* fault queue fds open: bit i is FZ_FD0 + i */
};

static int fz_pin(void *host, u64 vaddr, u64 len, u32 prot, void **cookie)
{
	struct fz_host *h = host;

	if (vaddr < MAPPED_FROM || vaddr >= ARENA || len > ARENA - vaddr ||
	    (vaddr < HOLE_END && vaddr + len > HOLE_START))
		return -EFAULT;
	h->pinned += len;
	*cookie = (void *)(uintptr_t)len;
	return 0;
}

static void fz_unpin(void *host, u64 vaddr, u64 len, void *cookie)
{
	struct fz_host *h = host;

	if ((u64)(uintptr_t)cookie != len || len > h->pinned)
		__builtin_trap();
	h->pinned -= len;
}

static int fz_charge(void *host, u64 bytes)
{
	struct fz_host *h = host;

	if (h->charged + bytes > 1024 * 4096)
		return -ENOMEM;
	h->charged += bytes;
	return 0;
}

static void fz_uncharge(void *host, u64 bytes)
{
	struct fz_host *h = host;

	if (bytes > h->charged)
		__builtin_trap();
	h->charged -= bytes;
}

static bool in_arena(u64 uptr, u64 len)
{
	return uptr < ARENA && len <= ARENA - uptr;
}

static int fz_copy_from(void *host, void *dst, u64 uptr, size_t len)
{
	struct fz_host *h = host;

	if (!in_arena(uptr, len))
		return -EFAULT;
	memcpy(dst, h->arena + uptr, len);
	return 0;
}

static int fz_copy_to(void *host, u64 uptr, const void *src, size_t len)
{
	struct fz_host *h = host;

	if (!in_arena(uptr, len))
		return -EFAULT;
	memcpy(h->arena + uptr, src, len);
	return 0;
}

static int fz_dma_rw(void *host, void *cookie, u64 map_vaddr, u64 vaddr,
		     u64 uptr, u64 len, bool to_mem)
{
	struct fz_host *h = host;

	if (!in_arena(vaddr, len))
		__builtin_trap();	/* the engine let a device stray */
	if (!in_arena(uptr, len))
		return -EFAULT;
	if (to_mem)
		memmove(h->arena + vaddr, h->arena + uptr, len);
	else
		memmove(h->arena + uptr, h->arena + vaddr, len);
	return 0;
}

static int fz_mem_read(void *host, void *cookie, u64 map_vaddr, u64 vaddr,
		       void *dst, size_t len)
{
	struct fz_host *h = host;

	if (vaddr < map_vaddr || !in_arena(vaddr, len))
		__builtin_trap();	/* a table read outside its mapping */
	memcpy(dst, h->arena + vaddr, len);
	return 0;
}

#define FZ_FD0		100

static int fz_faultq_open(void *host, struct ioasid_faultq *q, int *out_fd)
{
	struct fz_host *h = host;
	u32 i;

	for (i = 0; i < 32 && (h->fds & (1U << i)); i++)
		;
	if (i == 32)
		__builtin_trap();	/* more than IOASID_FAULTQ_MAX */
	h->fds |= 1U << i;
	*out_fd = FZ_FD0 + (int)i;
	return 0;
}

static void fz_faultq_close(void *host, struct ioasid_faultq *q)
{
	struct fz_host *h = host;
	u32 i = (u32)(ioasid_faultq_fd(q) - FZ_FD0);

	if (i >= 32 || !(h->fds & (1U << i)))
		__builtin_trap();
	h->fds &= ~(1U << i);
}

static const struct ioasid_host_ops fz_ops = {
	.faultq_open = fz_faultq_open,
	.faultq_abort = fz_faultq_close,
	.faultq_close = fz_faultq_close,
	.pin = fz_pin,
	.unpin = fz_unpin,
	.charge = fz_charge,
	.uncharge = fz_uncharge,
	.copy_from_user = fz_copy_from,
	.copy_to_user = fz_copy_to,
	.dma_rw = fz_dma_rw,
	.mem_read = fz_mem_read,
};

#define MEMWRITE	0xf0U
#define FAULTQ_OP	0xe0U
#define TABLES		0x10000ULL	/* table space of the direct walk */
#define TABLES_END	0x110000ULL

static bool arena_read(void *arg, u64 table, u32 index, u64 *pte)
{
	const unsigned char *arena = arg;

	if (table < TABLES || table >= TABLES_END || (table & 4095))
		return false;
	memcpy(pte, arena + table + index * 8ULL, sizeof(*pte));
	return true;
}

struct leaf_check {
	const struct x86pt *pt;
	const struct x86pt_reader *r;
	u64 next;			/* leaves come in ascending order */
};

static int check_leaf(void *arg, const struct x86pt_leaf *l)
{
	struct leaf_check *c = arg;
	struct x86pt_leaf t;
	u64 size = 1ULL << l->shift;

	if ((l->shift != 12 && l->shift != 21 && l->shift != 30) ||
	    (l->iova & (size - 1)) || (l->out & (size - 1)) ||
	    !(l->prot & IOASID_DMA_READ) || l->iova < c->next ||
	    l->iova + size - 1 > x86pt_input_last(c->pt))
		__builtin_trap();
	if (x86pt_translate(c->pt, c->r, l->iova + size - 1, &t) ||
	    t.iova != l->iova || t.out != l->out || t.prot != l->prot ||
	    t.shift != l->shift)
		__builtin_trap();
	c->next = l->iova + size;
	return 0;
}

/* The walker alone, on the arena's bytes as tables. */
static void walk_arena(unsigned char *arena, u8 sel)
{
	struct x86pt pt = { .root = TABLES + (sel >> 4) * 4096ULL,
			    .levels = sel & 1 ? 5 : 4,
			    .flags = (sel >> 1) & 3 };
	struct x86pt_reader r = { .read = arena_read, .arg = arena };
	struct leaf_check c = { .pt = &pt, .r = &r };
	u64 budget = 1 << 14;
	int rc = x86pt_walk(&pt, &r, 0, ~0ULL, &budget, check_leaf, &c);

	if (rc && rc != -ENOSPC)
		__builtin_trap();
}

/*
 * A command's argument: a length byte at data[*pos] (the caller has checked
 * that it is there), then that many bytes, cut to what the input holds,
 * copied over a cleared arena start. Returns the length copied.
 */
static size_t fz_take_arg(unsigned char *arena, const uint8_t *data,
			  size_t size, size_t *pos)
{
	size_t n = data[(*pos)++];

	if (n > size - *pos)
		n = size - *pos;
	memset(arena, 0, 0x200);
	memcpy(arena, data + *pos, n);
	*pos += n;
	return n;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static unsigned char *arena;
	struct ioasid_ctx_config cfg = { .max_mappings = 64,
					 .max_objects = 32 };
	struct fz_host h = { 0 };
	struct ioasid_ctx *ctx;
	size_t pos = 0;
	int step;
	long rc;
	static int trace = -1;

	if (trace < 0)
		trace = getenv("FUZZ_TRACE") != NULL;

	if (!arena) {
		arena = calloc(1, ARENA);
		if (!arena)
			return 0;
	}
	memset(arena, 0, 0x2000);
	h.arena = arena;
	ioh_wait_cap_ms = 1;
	if (ioasid_ctx_create(&fz_ops, &h, &cfg, &ctx))
		return 0;
	memset(arena + TABLES, 0, TABLES_END - TABLES);
	for (step = 0; step < 64 && pos < size; step++) {
		unsigned int nr = IOASID_CMD_BASE +
				  data[pos++] % (IOASID_CMD_LAST - IOASID_CMD_BASE);
		struct ioasid_diag diag;
		size_t n, m;

		if (data[pos - 1] >= MEMWRITE) {
			u64 at;

			if (size - pos < 3)
				break;
			at = TABLES + data[pos] * 4096ULL + data[pos + 1] * 8ULL;
			n = (size_t)data[pos + 2] * 8;
			pos += 3;
			if (n > size - pos)
				n = size - pos;
			memcpy(arena + at, data + pos, n);
			pos += n;
			continue;
		}
		if (data[pos - 1] >= FAULTQ_OP) {
			u8 op = data[pos - 1];
			int fd = FZ_FD0 + (op >> 1) % 4;

			if (pos >= size)
				break;
			n = fz_take_arg(arena, data, size, &pos);
			rc = op & 1 ? ioasid_faultq_write_fd(ctx, fd, 0, n) :
				      ioasid_faultq_read_fd(ctx, fd, 0, n);
			if (rc > 0 && (u64)rc > n)
				__builtin_trap();
			if (ioasid_ctx_verify(ctx))
				__builtin_trap();
			continue;
		}
		if (pos >= size)
			break;
		fz_take_arg(arena, data, size, &pos);
		if (pos < size) {
			m = (size_t)data[pos++] * 8;
			if (m > size - pos)
				m = size - pos;
			memcpy(arena + 0x1000, data + pos, m);
			pos += m;
		}
		rc = ioasid_ctx_ioctl(ctx, _IO(IOASID_TYPE, nr),
				      nr == IOASID_CMD_CHECK_EXTENSION ?
				      arena[0] : 0, &diag);
		if (trace)
			fprintf(stderr, "%s -> %ld\n", ioasid_cmd_name(nr), rc);
		if (ioasid_ctx_verify(ctx))
			__builtin_trap();
	}
	ioasid_ctx_destroy(ctx);
	if (h.pinned || h.charged || h.fds)
		__builtin_trap();
	walk_arena(arena, size ? data[0] : 0);
	return 0;
}
