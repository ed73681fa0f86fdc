// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/* fastpath: shadow translation, batcher coalescing and error routing, and a model check. */
#include <stddef.h>
#include <time.h>

#include "harness.h"
#include "fp_stack.h"
#include "ioasid_fastpath.h"

/*
 * A backend for tests: records every call, accepts partial unmaps when
 * asked, and fails the entry whose iova is fail_iova (all or nothing, as
 * the contract requires).
 */
struct rec_be {
	struct ioasid_fp_backend be;
	uint64_t fail_iova;
	int fail_err;
	uint32_t calls_map, calls_unmap, entries;
};

static int rec_call(struct ioasid_fp_backend *be, const struct ioasid_fp_op *ops,
		    uint32_t n, uint32_t *fail, bool map)
{
	struct rec_be *r = be->priv;

	if (map)
		r->calls_map++;
	else
		r->calls_unmap++;
	for (uint32_t i = 0; i < n; i++) {
		if (ops[i].iova <= r->fail_iova &&
		    r->fail_iova <= ops[i].iova + ops[i].len - 1) {
			*fail = i;
			return r->fail_err;
		}
	}
	r->entries += n;
	return 0;
}

static int rec_map(struct ioasid_fp_backend *be, const struct ioasid_fp_op *ops,
		   uint32_t n, uint32_t *fail)
{
	return rec_call(be, ops, n, fail, true);
}

static int rec_unmap(struct ioasid_fp_backend *be,
		     const struct ioasid_fp_op *ops, uint32_t n, uint32_t *fail)
{
	return rec_call(be, ops, n, fail, false);
}

static const struct ioasid_fp_backend_ops rec_ops = {
	.map = rec_map,
	.unmap = rec_unmap,
};

static void rec_init(struct rec_be *r, uint32_t caps)
{
	memset(r, 0, sizeof(*r));
	r->be.ops = &rec_ops;
	r->be.name = "recorder";
	r->be.caps = caps;
	r->be.priv = r;
	r->fail_iova = UINT64_MAX;
	r->fail_err = -EINVAL;
}

/*
 * Submit @n neighbouring 4 KiB maps from @iova, backed by contiguous
 * memory from @buf, as requests @r[0..n).
 */
static int submit_run(struct fp *p, struct ioasid_fp_req *r, int n,
		      uint64_t iova, uint8_t *buf)
{
	for (int i = 0; i < n; i++) {
		r[i].op = (struct ioasid_fp_op){ IOASID_FP_MAP, RW,
			iova + i * SZ_4K, (uintptr_t)buf + i * SZ_4K, SZ_4K };
		CHECK_OK(ioasid_fp_submit(p->b, &r[i]));
	}
	return 0;
}

static int translate_basic(struct fx *f)
{
	struct rec_be rb;
	struct fp p;
	void *hva;
	uint64_t c;

	rec_init(&rb, IOASID_FP_BE_BATCH);
	CHECK_OK(fp_open(&p, &rb.be, 0));
	CHECK_ERR(ioasid_fp_translate(p.r, 0x1000, 8, IOASID_FP_READ, &hva, &c),
		  -EFAULT);
	CHECK_OK(ioasid_fp_map(p.b, 0x10000, f->buf, SZ_64K, RW));
	CHECK_OK(ioasid_fp_map(p.b, 0x20000, f->buf + SZ_1M, SZ_4K,
			       IOASID_FP_READ));
	CHECK_OK(ioasid_fp_translate(p.r, 0x10010, 64, IOASID_FP_WRITE, &hva,
				     &c));
	CHECK(hva == f->buf + 0x10);
	CHECK_EQ(c, 64);
	/* Crossing the end of a mapping: contig stops there. */
	CHECK_OK(ioasid_fp_translate(p.r, 0x1fff0, 64, IOASID_FP_READ, &hva, &c));
	CHECK(hva == f->buf + SZ_64K - 16);
	CHECK_EQ(c, 16);
	CHECK_OK(ioasid_fp_translate(p.r, 0x20000, 64, IOASID_FP_READ, &hva, &c));
	CHECK(hva == f->buf + SZ_1M);
	CHECK_ERR(ioasid_fp_translate(p.r, 0x20000, 8, IOASID_FP_WRITE, &hva, &c),
		  -EACCES);
	CHECK_ERR(ioasid_fp_translate(p.r, 0x21000, 8, IOASID_FP_READ, &hva, &c),
		  -EFAULT);
	CHECK_ERR(ioasid_fp_translate(p.r, 0xf000, 8, IOASID_FP_READ, &hva, &c),
		  -EFAULT);
	/* Repeated hits are served by the reader's last-hit entry. */
	c = p.r->lookups;
	for (int i = 0; i < 10; i++) {
		uint64_t l;

		CHECK_OK(ioasid_fp_translate(p.r, 0x20100 + i, 8,
					     IOASID_FP_READ, &hva, &l));
	}
	CHECK(p.r->lookups - c <= 1);
	CHECK_OK(ioasid_fp_unmap(p.b, 0x20000, SZ_4K, &c));
	CHECK_EQ(c, SZ_4K);
	CHECK_ERR(ioasid_fp_translate(p.r, 0x20100, 8, IOASID_FP_READ, &hva, &c),
		  -EFAULT);
	fp_close(&p);
	return 0;
}

static int many_mappings(struct fx *f)
{
	struct rec_be rb;
	struct fp p;
	struct ioasid_fp_req *req = calloc(5000, sizeof(*req));
	void *hva;
	uint64_t c;

	CHECK(req);
	rec_init(&rb, IOASID_FP_BE_BATCH);
	CHECK_OK(fp_open(&p, &rb.be, 512));
	/* 5,000 mappings in descending order: leaves split and shift. */
	for (int i = 0; i < 5000; i++) {
		req[i].op = (struct ioasid_fp_op){ IOASID_FP_MAP, RW,
			(uint64_t)(4999 - i) * 2 * SZ_4K,
			(uintptr_t)f->buf + (uint64_t)(4999 - i) * SZ_4K, SZ_4K };
		CHECK_OK(ioasid_fp_submit(p.b, &req[i]));
	}
	ioasid_fp_barrier(p.b);
	for (int i = 0; i < 5000; i++)
		CHECK_OK(req[i].result);
	CHECK_EQ(ioasid_fp_shadow_count(p.s), 5000);
	for (uint64_t i = 0; i < 5000; i++) {
		CHECK_OK(ioasid_fp_translate(p.r, i * 2 * SZ_4K + 5, 1,
					     IOASID_FP_READ, &hva, &c));
		CHECK(hva == f->buf + i * SZ_4K + 5);
		CHECK_ERR(ioasid_fp_translate(p.r, i * 2 * SZ_4K + SZ_4K, 1,
					      IOASID_FP_READ, &hva, &c), -EFAULT);
	}
	/* One unmap over everything. */
	CHECK_OK(ioasid_fp_unmap(p.b, 0, 10000 * SZ_4K, &c));
	CHECK_EQ(c, 5000 * SZ_4K);
	CHECK_EQ(ioasid_fp_shadow_count(p.s), 0);
	free(req);
	fp_close(&p);
	return 0;
}

/*
 * The destroy calls take NULL, as free() does: a teardown path frees what
 * it made without asking (guest_close, vduse_net_create's error path,
 * the vhost-user backend's free). A crash here fails the test's child.
 */
static int destroy_null(struct fx *f)
{
	(void)f;
	ioasid_fp_batcher_destroy(NULL);
	ioasid_fp_shadow_destroy(NULL);
	ioasid_fp_backend_destroy(NULL);
	return 0;
}

/*
 * The index pads its nodes and leaves with UINT64_MAX keys, so the last
 * byte of the IOVA space takes its own path in the lookup: it can only lie
 * in the last entry of the last leaf. Enough mappings below it for several
 * leaves and index levels; then the top page mapped, cut and gone.
 */
static int top_of_iova_space(struct fx *f)
{
	const uint64_t top = UINT64_MAX - SZ_4K + 1;
	struct rec_be rb;
	struct fp p;
	void *hva;
	uint64_t c;

	rec_init(&rb, IOASID_FP_BE_BATCH | IOASID_FP_BE_PARTIAL_UNMAP);
	rb.fail_iova = 0;	/* its "none" is the byte under test; 0 is free */
	CHECK_OK(fp_open(&p, &rb.be, 512));
	for (uint64_t i = 0; i < 1000; i++)
		CHECK_OK(ioasid_fp_map(p.b, top - (i + 1) * 2 * SZ_4K,
				       f->buf + i * SZ_4K, SZ_4K, RW));
	CHECK_ERR(ioasid_fp_translate(p.r, UINT64_MAX, 1, IOASID_FP_READ,
				      &hva, &c), -EFAULT);
	CHECK_OK(ioasid_fp_map(p.b, top, f->buf + (4 * SZ_2M), SZ_4K, RW));
	CHECK_OK(ioasid_fp_translate(p.r, UINT64_MAX, 1, IOASID_FP_READ,
				     &hva, &c));
	CHECK(hva == f->buf + (4 * SZ_2M) + SZ_4K - 1 && c == 1);
	CHECK_OK(ioasid_fp_translate(p.r, UINT64_MAX - 7, 8, IOASID_FP_READ,
				     &hva, &c));
	CHECK(hva == f->buf + (4 * SZ_2M) + SZ_4K - 8 && c == 8);
	CHECK_OK(ioasid_fp_translate(p.r, top - 2 * SZ_4K + 5, 1,
				     IOASID_FP_READ, &hva, &c));
	CHECK(hva == f->buf + 5);
	/* Only the last byte left of the top page. */
	CHECK_OK(ioasid_fp_unmap(p.b, top, SZ_4K - 1, &c));
	CHECK_EQ(c, SZ_4K - 1);
	CHECK_OK(ioasid_fp_translate(p.r, UINT64_MAX, 1, IOASID_FP_READ,
				     &hva, &c));
	CHECK(hva == f->buf + (4 * SZ_2M) + SZ_4K - 1);
	CHECK_ERR(ioasid_fp_translate(p.r, UINT64_MAX - 1, 1, IOASID_FP_READ,
				      &hva, &c), -EFAULT);
	CHECK_OK(ioasid_fp_unmap(p.b, UINT64_MAX, 1, &c));
	CHECK_ERR(ioasid_fp_translate(p.r, UINT64_MAX, 1, IOASID_FP_READ,
				      &hva, &c), -EFAULT);
	CHECK_EQ(ioasid_fp_shadow_count(p.s), 1000);
	fp_close(&p);
	return 0;
}

static int cancel_and_merge(struct fx *f)
{
	struct ioasid_fp_req r[6];
	struct ioasid_fp_stats st;
	struct rec_be rb;
	struct fp p;
	void *hva;
	uint64_t c;

	rec_init(&rb, IOASID_FP_BE_BATCH | IOASID_FP_BE_PARTIAL_UNMAP);
	CHECK_OK(fp_open(&p, &rb.be, 0));
	/* map A, unmap A: cancelled, the backend never hears of them. */
	r[0].op = (struct ioasid_fp_op){ IOASID_FP_MAP, RW, 0x100000,
					 (uintptr_t)f->buf, SZ_64K };
	r[1].op = (struct ioasid_fp_op){ IOASID_FP_UNMAP, 0, 0x100000, 0,
					 SZ_64K };
	CHECK_OK(ioasid_fp_submit(p.b, &r[0]));
	CHECK_OK(ioasid_fp_submit(p.b, &r[1]));
	/* Three neighbouring maps with contiguous memory: one entry. */
	CHECK_OK(submit_run(&p, &r[2], 3, 0x200000, f->buf));
	ioasid_fp_barrier(p.b);
	for (int i = 0; i < 5; i++)
		CHECK_OK(r[i].result);
	CHECK_EQ(r[1].unmapped, SZ_64K);
	ioasid_fp_batcher_stats(p.b, &st);
	CHECK_EQ(st.cancelled, 1);
	CHECK_EQ(st.merged, 2);
	CHECK_EQ(st.backend_calls, 1);
	CHECK_EQ(st.backend_entries, 1);
	CHECK_ERR(ioasid_fp_translate(p.r, 0x100000, 8, IOASID_FP_READ, &hva,
				      &c), -EFAULT);
	CHECK_OK(ioasid_fp_translate(p.r, 0x202000, 8, IOASID_FP_READ, &hva, &c));
	CHECK(hva == f->buf + 2 * SZ_4K);
	/* A partial unmap trims the shadow like the backend. */
	CHECK_OK(ioasid_fp_unmap(p.b, 0x201000, SZ_4K, &c));
	CHECK_EQ(c, SZ_4K);
	CHECK_OK(ioasid_fp_translate(p.r, 0x200ff0, 64, IOASID_FP_READ, &hva,
				     &c));
	CHECK_EQ(c, 16);
	CHECK_ERR(ioasid_fp_translate(p.r, 0x201000, 8, IOASID_FP_READ, &hva,
				      &c), -EFAULT);
	CHECK_OK(ioasid_fp_translate(p.r, 0x202000, 8, IOASID_FP_READ, &hva,
				     &c));
	CHECK(hva == f->buf + 2 * SZ_4K);
	fp_close(&p);
	return 0;
}

static int no_merge_for_type1v2(struct fx *f)
{
	struct ioasid_fp_req r[3];
	struct ioasid_fp_stats st;
	struct rec_be rb;
	struct fp p;

	rec_init(&rb, IOASID_FP_BE_BATCH);	/* no partial unmap */
	CHECK_OK(fp_open(&p, &rb.be, 0));
	CHECK_OK(submit_run(&p, r, 3, 0x200000, f->buf));
	ioasid_fp_barrier(p.b);
	ioasid_fp_batcher_stats(p.b, &st);
	CHECK_EQ(st.merged, 0);
	CHECK_EQ(st.backend_calls, 1);
	CHECK_EQ(st.backend_entries, 3);
	fp_close(&p);
	return 0;
}

static int errors_reach_their_caller(struct fx *f)
{
	struct ioasid_fp_req r[8];
	struct ioasid_fp_stats st;
	struct rec_be rb;
	struct fp p;
	void *hva;
	uint64_t c;

	rec_init(&rb, IOASID_FP_BE_BATCH | IOASID_FP_BE_PARTIAL_UNMAP);
	rb.fail_iova = 0x305000;
	rb.fail_err = -EFAULT;
	CHECK_OK(fp_open(&p, &rb.be, 0));
	/* Eight neighbouring maps (merged into one entry); the sixth is bad. */
	CHECK_OK(submit_run(&p, r, 8, 0x300000, f->buf));
	ioasid_fp_barrier(p.b);
	for (int i = 0; i < 8; i++)
		CHECK_ERR(r[i].result, i == 5 ? -EFAULT : 0);
	/* The shadow holds exactly what the backend accepted. */
	for (int i = 0; i < 8; i++)
		CHECK_ERR(ioasid_fp_translate(p.r, 0x300000 + i * SZ_4K, 8,
					      IOASID_FP_READ, &hva, &c),
			  i == 5 ? -EFAULT : 0);
	ioasid_fp_batcher_stats(p.b, &st);
	CHECK(st.retries >= 2);
	/* Bad requests are refused at submit. */
	r[0].op = (struct ioasid_fp_op){ IOASID_FP_MAP, 0, 0, 0, SZ_4K };
	CHECK_ERR(ioasid_fp_submit(p.b, &r[0]), -EINVAL);
	r[0].op = (struct ioasid_fp_op){ 9, RW, 0, 0, SZ_4K };
	CHECK_ERR(ioasid_fp_submit(p.b, &r[0]), -EINVAL);
	r[0].op = (struct ioasid_fp_op){ IOASID_FP_UNMAP, 0, UINT64_MAX, 0, 2 };
	CHECK_ERR(ioasid_fp_submit(p.b, &r[0]), -EINVAL);
	fp_close(&p);
	return 0;
}

static int flush_by_count_and_deadline(struct fx *f)
{
	struct ioasid_fp_batcher_cfg cfg = { .size = sizeof(cfg),
					     .max_batch = 4,
					     .deadline_us = 300000 };
	struct ioasid_fp_req r[5];
	struct ioasid_fp_stats st;
	struct ioasid_fp_shadow *s;
	struct ioasid_fp_batcher *b;
	struct rec_be rb;

	rec_init(&rb, IOASID_FP_BE_BATCH);
	CHECK_OK(ioasid_fp_shadow_create(&s));
	CHECK_OK(ioasid_fp_batcher_create(s, &rb.be, &cfg, &b));
	for (int i = 0; i < 5; i++) {
		r[i].op = (struct ioasid_fp_op){ IOASID_FP_MAP, RW,
			(uint64_t)i * SZ_64K, (uintptr_t)f->buf, SZ_4K };
		CHECK_OK(ioasid_fp_submit(b, &r[i]));
	}
	/*
	 * The fourth submit flushed four; the fifth waits for the deadline
	 * (300 ms: long enough that a slow machine still submits all five
	 * first; the wait below is generous for the same reason).
	 */
	ioasid_fp_batcher_stats(b, &st);
	CHECK_EQ(st.flushes, 1);
	for (int i = 0; i < 10000 && ioasid_fp_shadow_count(s) < 5; i++)
		usleep(1000);
	CHECK_EQ(ioasid_fp_shadow_count(s), 5);
	CHECK_OK(ioasid_fp_wait(b, &r[4]));
	ioasid_fp_batcher_stats(b, &st);
	CHECK_EQ(st.flushes, 2);
	ioasid_fp_batcher_destroy(b);
	ioasid_fp_shadow_destroy(s);
	return 0;
}

/*
 * The batcher's cfg is size-first: the first version's size (the struct
 * up to flags; it has not grown, so today's struct) and a newer caller's
 * larger struct with a zero tail are accepted, a smaller size (EINVAL) or
 * a non-zero tail (E2BIG) refused, as the uAPI's decoder does.
 */
#define CFG_SIZE_VER0	(offsetof(struct ioasid_fp_batcher_cfg, flags) + \
			 sizeof(uint32_t))

struct big_cfg {
	struct ioasid_fp_batcher_cfg c;
	uint8_t tail[16];
};

/*
 * max_batch 2 and IOASID_FP_NO_COALESCE: a map and an unmap of the same
 * range reach the backend in one flush instead of cancelling; this shows
 * the batcher read the cfg through its last field.
 */
static int cfg_applied(const struct ioasid_fp_batcher_cfg *cfg, void *buf)
{
	struct ioasid_fp_batcher *b;
	struct ioasid_fp_shadow *s;
	struct ioasid_fp_req r[2];
	struct ioasid_fp_stats st;
	struct rec_be rb;

	rec_init(&rb, IOASID_FP_BE_BATCH);
	CHECK_OK(ioasid_fp_shadow_create(&s));
	CHECK_OK(ioasid_fp_batcher_create(s, &rb.be, cfg, &b));
	r[0].op = (struct ioasid_fp_op){ IOASID_FP_MAP, RW, 0x10000,
		(uintptr_t)buf, SZ_4K };
	r[1].op = (struct ioasid_fp_op){ IOASID_FP_UNMAP, 0, 0x10000, 0, SZ_4K };
	CHECK_OK(ioasid_fp_submit(b, &r[0]));
	CHECK_OK(ioasid_fp_submit(b, &r[1]));
	ioasid_fp_batcher_stats(b, &st);
	CHECK_EQ(st.flushes, 1);		/* max_batch */
	CHECK_EQ(st.cancelled, 0);		/* flags */
	CHECK_EQ(rb.calls_map, 1);
	CHECK_EQ(rb.calls_unmap, 1);
	CHECK_OK(ioasid_fp_wait(b, &r[0]));
	CHECK_OK(ioasid_fp_wait(b, &r[1]));
	ioasid_fp_batcher_destroy(b);
	ioasid_fp_shadow_destroy(s);
	return 0;
}

/* The cfg must be refused with @want, leaving *out alone. */
static int cfg_refused(const struct ioasid_fp_batcher_cfg *cfg, int want)
{
	struct ioasid_fp_batcher *b = (void *)1;
	struct ioasid_fp_shadow *s;
	struct rec_be rb;

	rec_init(&rb, IOASID_FP_BE_BATCH);
	CHECK_OK(ioasid_fp_shadow_create(&s));
	CHECK_ERR(ioasid_fp_batcher_create(s, &rb.be, cfg, &b), want);
	CHECK(b == (void *)1);
	ioasid_fp_shadow_destroy(s);
	return 0;
}

/*
 * The first version's size is served, and nothing past it is read: the
 * bytes after it hold junk that a read would refuse (E2BIG).
 */
static int cfg_size_first_version(struct fx *f)
{
	struct big_cfg big;

	memset(&big, 0xa5, sizeof(big));
	memset(&big.c, 0, CFG_SIZE_VER0);
	big.c.size = CFG_SIZE_VER0;
	big.c.max_batch = 2;
	big.c.flags = IOASID_FP_NO_COALESCE;
	CHECK(CFG_SIZE_VER0 <= sizeof(big.c));
	return cfg_applied(&big.c, f->buf);
}

static int cfg_size_too_small(struct fx *f)
{
	struct ioasid_fp_batcher_cfg cfg = { .max_batch = 2 };
	uint32_t sizes[] = { CFG_SIZE_VER0 - 1, sizeof(uint32_t), 1, 0 };

	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		cfg.size = sizes[i];
		diag("size %u", cfg.size);
		if (cfg_refused(&cfg, -EINVAL))
			return 1;
	}
	return 0;
}

static int cfg_size_zero_tail(struct fx *f)
{
	struct big_cfg big;

	memset(&big, 0, sizeof(big));
	big.c.size = sizeof(big);
	big.c.max_batch = 2;
	big.c.flags = IOASID_FP_NO_COALESCE;
	CHECK(sizeof(big) > sizeof(big.c));
	return cfg_applied(&big.c, f->buf);
}

static int cfg_size_nonzero_tail(struct fx *f)
{
	struct big_cfg big;

	memset(&big, 0, sizeof(big));
	big.c.size = sizeof(big);
	big.tail[sizeof(big.tail) - 1] = 1;	/* the last byte */
	if (cfg_refused(&big.c, -E2BIG))
		return 1;
	memset(big.tail, 0, sizeof(big.tail));
	big.tail[0] = 0x80;			/* the first byte past sizeof */
	if (cfg_refused(&big.c, -E2BIG))
		return 1;
	/* A size past what any struct could need, as the uAPI caps it. */
	memset(big.tail, 0, sizeof(big.tail));
	big.c.size = 1U << 20;
	return cfg_refused(&big.c, -E2BIG);
}

/*
 * The batcher over the real embedded engine, compared with a model after
 * every flush: random maps and unmaps (some refused by type1v2 rules),
 * and the shadow must translate exactly what the engine holds.
 */
static int model_vs_engine(struct fx *f)
{
	enum { SLOTS = 96, OPS = 20000 };
	struct { bool mapped; uint64_t len, hva; uint32_t perm; } m[SLOTS];
	struct ioasid_fp_backend *be;
	struct ioasid_fp_req req[16];
	uint64_t seed = (uint64_t)time(NULL), x;
	struct fp p;
	int done = 0;

	memset(m, 0, sizeof(m));
	diag("seed %llu", (unsigned long long)seed);
	x = seed | 1;
	CHECK_OK(ioasid_attach(f->h, f->dev, f->as));
	CHECK_OK(ioasid_fp_backend_ioasid(f->h, f->as, &be));
	CHECK_OK(fp_open(&p, be, 16));
	while (done < OPS) {
		uint32_t n = 1 + (uint32_t)(x % 16), i;

		for (i = 0; i < n; i++) {
			uint32_t slot, len;

			x ^= x << 13; x ^= x >> 7; x ^= x << 17;
			slot = (uint32_t)(x % SLOTS);
			len = 1 + (uint32_t)((x >> 20) % 3);	/* 1-3 pages */
			if ((x >> 32) & 1)
				req[i].op = (struct ioasid_fp_op){ IOASID_FP_MAP,
					1 + (uint32_t)((x >> 40) % 3),
					(uint64_t)slot * SZ_4K,
					(uintptr_t)f->buf + ((x >> 44) % 256) * SZ_4K,
					(uint64_t)len * SZ_4K };
			else
				req[i].op = (struct ioasid_fp_op){
					IOASID_FP_UNMAP, 0,
					(uint64_t)slot * SZ_4K, 0,
					(uint64_t)len * SZ_4K };
			CHECK_OK(ioasid_fp_submit(p.b, &req[i]));
		}
		ioasid_fp_barrier(p.b);
		/* The model: apply in order what the engine accepted. */
		for (i = 0; i < n; i++) {
			struct ioasid_fp_op *o = &req[i].op;
			uint32_t s0 = (uint32_t)(o->iova / SZ_4K);

			if (req[i].result)
				continue;
			if (o->kind == IOASID_FP_MAP) {
				m[s0].mapped = true;
				m[s0].len = o->len;
				m[s0].hva = o->hva;
				m[s0].perm = o->perm;
			} else {
				for (uint32_t k = 0; k < SLOTS; k++)
					if (m[k].mapped && k * SZ_4K >= o->iova &&
					    k * SZ_4K < o->iova + o->len)
						m[k].mapped = false;
			}
		}
		/* Every page of the space translates as the model says. */
		for (uint32_t pg = 0; pg < SLOTS + 3; pg++) {
			void *hva = NULL;
			uint64_t c = 0, want = 0;
			int rc = ioasid_fp_translate(p.r, (uint64_t)pg * SZ_4K + 8,
						     SZ_64K, 0, &hva, &c);
			bool hit = false;

			for (uint32_t k = 0; k < SLOTS && !hit; k++) {
				if (m[k].mapped && pg >= k &&
				    (uint64_t)(pg - k) * SZ_4K < m[k].len) {
					hit = true;
					want = m[k].hva + (uint64_t)(pg - k) * SZ_4K + 8;
				}
			}
			if (hit != !rc || (hit && (uintptr_t)hva != want)) {
				diag("page %u: shadow rc %d hva %p, model %s 0x%llx (seed %llu, op %d)",
				     pg, rc, hva, hit ? "mapped" : "unmapped",
				     (unsigned long long)want,
				     (unsigned long long)seed, done);
				return 1;
			}
		}
		ioasid_fp_reader_quiescent(p.r);
		done += (int)n;
	}
	{
		struct ioasid_info info;
		uint32_t cnt = 0;

		for (uint32_t k = 0; k < SLOTS; k++)
			cnt += m[k].mapped;
		CHECK_OK(ioasid_get_info(f->h, f->as, &info, NULL, 0));
		CHECK_EQ(info.out_num_mappings, cnt);
		CHECK_EQ(ioasid_fp_shadow_count(p.s), cnt);
		diag("%d requests, %u mappings at the end", done, cnt);
	}
	fp_close(&p);
	ioasid_fp_backend_destroy(be);
	return 0;
}

/*
 * A backend like vhost-vdpa's IOTLB: overlap is refused with EEXIST, an
 * unmap may cut mappings. It keeps its own page table (page -> hva) as the
 * model the shadow must match, and applies a batch all or nothing.
 */
#define VP_PAGES	128

struct vdpa_be {
	struct ioasid_fp_backend be;
	uint64_t hva[VP_PAGES];		/* 0: unmapped */
	uint32_t perm[VP_PAGES];
};

static int vp_map(struct ioasid_fp_backend *be, const struct ioasid_fp_op *ops,
		  uint32_t n, uint32_t *fail)
{
	struct vdpa_be *v = be->priv;
	uint64_t save[VP_PAGES];
	uint32_t i;

	memcpy(save, v->hva, sizeof(save));
	for (i = 0; i < n; i++) {
		uint64_t p0 = ops[i].iova / SZ_4K, np = ops[i].len / SZ_4K;

		for (uint64_t p = p0; p < p0 + np; p++) {
			if (p >= VP_PAGES || v->hva[p]) {
				memcpy(v->hva, save, sizeof(save));
				*fail = i;
				return p >= VP_PAGES ? -EINVAL : -EEXIST;
			}
			v->hva[p] = ops[i].hva + (p - p0) * SZ_4K;
			v->perm[p] = ops[i].perm;
		}
	}
	return 0;
}

static int vp_unmap(struct ioasid_fp_backend *be,
		    const struct ioasid_fp_op *ops, uint32_t n, uint32_t *fail)
{
	struct vdpa_be *v = be->priv;

	for (uint32_t i = 0; i < n; i++)
		for (uint64_t p = ops[i].iova / SZ_4K;
		     p < (ops[i].iova + ops[i].len) / SZ_4K && p < VP_PAGES; p++)
			v->hva[p] = 0;
	return 0;
}

static const struct ioasid_fp_backend_ops vp_ops = {
	.map = vp_map,
	.unmap = vp_unmap,
};

static int model_partial_unmap(struct fx *f)
{
	static struct vdpa_be v;
	struct ioasid_fp_req req[24];
	uint64_t seed = (uint64_t)time(NULL) * 7 + 1, x = seed;
	struct ioasid_fp_stats st;
	struct fp p;

	memset(&v, 0, sizeof(v));
	v.be.ops = &vp_ops;
	v.be.name = "vdpa-like";
	v.be.caps = IOASID_FP_BE_BATCH | IOASID_FP_BE_PARTIAL_UNMAP;
	v.be.priv = &v;
	diag("seed %llu", (unsigned long long)seed);
	CHECK_OK(fp_open(&p, &v.be, 24));
	for (int round = 0; round < 2000; round++) {
		uint32_t n = 1 + (uint32_t)(x % 24), i;

		for (i = 0; i < n; i++) {
			uint64_t pg, np;

			x ^= x << 13; x ^= x >> 7; x ^= x << 17;
			pg = x % (VP_PAGES - 4);
			np = 1 + (x >> 20) % 4;
			/* Often continue right after the previous map. */
			if (i && (x >> 50) % 2 &&
			    req[i - 1].op.kind == IOASID_FP_MAP &&
			    req[i - 1].op.iova + req[i - 1].op.len + np * SZ_4K <=
			    (VP_PAGES - 4) * SZ_4K)
				pg = (req[i - 1].op.iova + req[i - 1].op.len) /
				     SZ_4K;
			/* Runs of neighbours in memory, so maps can merge. */
			if ((x >> 30) % 3)
				req[i].op = (struct ioasid_fp_op){ IOASID_FP_MAP,
					1 + (uint32_t)((x >> 40) % 2) * 2, pg * SZ_4K,
					(uintptr_t)f->buf + pg * SZ_4K, np * SZ_4K };
			else
				req[i].op = (struct ioasid_fp_op){ IOASID_FP_UNMAP,
					0, pg * SZ_4K, 0, np * SZ_4K };
			CHECK_OK(ioasid_fp_submit(p.b, &req[i]));
		}
		ioasid_fp_barrier(p.b);
		for (uint32_t pg = 0; pg < VP_PAGES; pg++) {
			void *hva = NULL;
			uint64_t c = 0;
			int rc = ioasid_fp_translate(p.r, pg * SZ_4K + 100, 8, 0,
						     &hva, &c);

			if ((v.hva[pg] != 0) != !rc ||
			    (!rc && (uintptr_t)hva != v.hva[pg] + 100)) {
				diag("round %d page %u: shadow rc %d hva %p, backend 0x%llx (seed %llu)",
				     round, pg, rc, hva,
				     (unsigned long long)v.hva[pg],
				     (unsigned long long)seed);
				return 1;
			}
		}
		ioasid_fp_reader_quiescent(p.r);
	}
	ioasid_fp_batcher_stats(p.b, &st);
	diag("%llu requests, %llu merged, %llu cancelled, %llu backend calls, %llu retries",
	     (unsigned long long)st.submitted, (unsigned long long)st.merged,
	     (unsigned long long)st.cancelled,
	     (unsigned long long)st.backend_calls,
	     (unsigned long long)st.retries);
	CHECK(st.merged > 0 && st.retries > 0);
	fp_close(&p);
	return 0;
}

/*
 * The shadow's own invariant: every leaf sorted, entries disjoint across
 * the whole snapshot, first[i] the iova of leaf i's first entry, and the
 * entry count what the shadow reports. Returns 0 or the first broken rule.
 */
static const char *snap_broken(struct fp *p)
{
	const struct ioasid_fp_snap *s = *p->r->snap;
	uint64_t prev_last = 0, total = 0;
	bool any = false;

	for (uint32_t i = 0; i < s->nleaves; i++) {
		const struct ioasid_fp_leaf *l = s->leaves[i];

		if (!l->n)
			return "an empty leaf";
		if (s->first[i] != l->e[0].iova)
			return "first[i] is not the leaf's first iova";
		for (uint32_t k = 0; k < l->n; k++) {
			if (l->e[k].last < l->e[k].iova)
				return "an entry ends before it starts";
			if (any && l->e[k].iova <= prev_last)
				return "two entries overlap or are out of order";
			prev_last = l->e[k].last;
			any = true;
		}
		total += l->n;
	}
	if (total != s->nentries || total != ioasid_fp_shadow_count(p->s))
		return "the entry count is wrong";
	return NULL;
}

/*
 * Issue 11, defect 4: with the shadow-only backend (which accepts
 * anything, as the vhost-user backend's IOTLB does), three nested updates
 * then an invalidation in their middle overflowed apply_op's array (ASan:
 * heap-buffer-overflow in cut_entry). Each map now replaces what it
 * overlaps: the last one wins on its range, the others keep the rest.
 */
static int overlapping_maps_replace(struct fx *f)
{
	static const struct { uint64_t a, b; } upd[] = {
		{ 0, 0xffff }, { 0x1000, 0xefff }, { 0x2000, 0xdfff },
	};
	struct ioasid_fp_backend *none;
	const char *why;
	uint64_t got, c;
	struct fp p;
	void *hva;

	CHECK_OK(ioasid_fp_backend_none(&none));
	CHECK_OK(fp_open(&p, none, 16));
	for (uint32_t i = 0; i < 3; i++)
		CHECK_OK(ioasid_fp_map(p.b, upd[i].a, f->buf + SZ_1M * (i + 1),
				       upd[i].b - upd[i].a + 1,
				       IOASID_FP_READ | IOASID_FP_WRITE));
	/* [0,0xfff] [0x1000,0x1fff] [0x2000,0xdfff] [0xe000,0xefff] [0xf000,0xffff] */
	CHECK_EQ(ioasid_fp_shadow_count(p.s), 5);
	why = snap_broken(&p);
	if (why) {
		diag("after the updates: %s", why);
		return 1;
	}
	CHECK_OK(ioasid_fp_translate(p.r, 0x500, 1, 0, &hva, &c));
	CHECK(hva == f->buf + SZ_1M + 0x500);
	CHECK_OK(ioasid_fp_translate(p.r, 0x1800, 1, 0, &hva, &c));
	CHECK(hva == f->buf + 2 * SZ_1M + 0x800);
	CHECK_OK(ioasid_fp_translate(p.r, 0x8000, 0x10000, 0, &hva, &c));
	CHECK(hva == f->buf + 3 * SZ_1M + 0x6000);
	CHECK_EQ(c, 0xe000 - 0x8000);
	CHECK_OK(ioasid_fp_translate(p.r, 0xe800, 1, 0, &hva, &c));
	CHECK(hva == f->buf + 2 * SZ_1M + 0xd800);
	CHECK_OK(ioasid_fp_translate(p.r, 0xf800, 1, 0, &hva, &c));
	CHECK(hva == f->buf + SZ_1M + 0xf800);
	/* The invalidation of the reproducer: it cuts the innermost only. */
	CHECK_OK(ioasid_fp_unmap(p.b, 0x8000, 0x1000, &got));
	CHECK_EQ(got, 0x1000);
	CHECK_EQ(ioasid_fp_shadow_count(p.s), 6);
	CHECK_EQ(ioasid_fp_translate(p.r, 0x8000, 1, 0, &hva, &c), -EFAULT);
	CHECK_OK(ioasid_fp_translate(p.r, 0x9000, 1, 0, &hva, &c));
	CHECK(hva == f->buf + 3 * SZ_1M + 0x7000);
	why = snap_broken(&p);
	if (why) {
		diag("after the invalidation: %s", why);
		return 1;
	}
	/* One map over all of it replaces all of it. */
	CHECK_OK(ioasid_fp_map(p.b, 0, f->buf, 0x10000, IOASID_FP_READ));
	CHECK_EQ(ioasid_fp_shadow_count(p.s), 1);
	CHECK_OK(ioasid_fp_translate(p.r, 0x8000, 0x10000, 0, &hva, &c));
	CHECK(hva == f->buf + 0x8000);
	CHECK_EQ(c, 0x8000);
	CHECK_EQ(ioasid_fp_translate(p.r, 0x8000, 1, IOASID_FP_WRITE, &hva, &c),
		 -EACCES);
	ioasid_fp_reader_quiescent(p.r);
	fp_close(&p);
	ioasid_fp_backend_destroy(none);
	return 0;
}

/*
 * Random maps and unmaps, most of them overlapping what is there, on the
 * shadow-only backend against a flat model: a page table of (piece, hva,
 * perm), where a map gives its pages a new piece and splits every piece it
 * cuts into a head and a tail of their own. Entries are small and many, so
 * ops span runs of leaves; big maps replace hundreds at once. After every
 * batch each page translates as the model says and the snapshot keeps its
 * invariant. A second pass repeats it with vhost's whole-entry unmaps.
 */
#define OV_PAGES	2048

struct ov_page {
	uint32_t piece;			/* 0: unmapped */
	uint32_t perm;
	uint64_t hva;
};

static void ov_relabel(struct ov_page *pg, uint64_t from, uint64_t to,
		       uint32_t *next)
{
	/* The run of one piece that ends at or starts at a cut gets a new id. */
	uint32_t old = pg[from].piece, id = ++*next;

	for (uint64_t q = from; q < to && pg[q].piece == old; q++)
		pg[q].piece = id;
}

static int ov_pass(struct fx *f, bool whole, uint64_t seed)
{
	static struct ov_page pg[OV_PAGES];
	struct ioasid_fp_req req[32];
	struct ioasid_fp_backend *none;
	uint64_t x = seed, maxn = 0;
	uint32_t next = 0;
	struct fp p;

	memset(pg, 0, sizeof(pg));
	CHECK_OK(ioasid_fp_backend_none(&none));
	if (whole)
		none->caps |= IOASID_FP_BE_UNMAP_OVERLAP;
	CHECK_OK(fp_open(&p, none, 32));
	for (int round = 0; round < 1500; round++) {
		uint32_t n = 1 + (uint32_t)(x % 32), i;
		const char *why;
		uint64_t cnt = 0;

		for (i = 0; i < n; i++) {
			uint64_t p0, np, q, lo, hi;

			x ^= x << 13; x ^= x >> 7; x ^= x << 17;
			np = (x >> 8) % 16 == 0 ? 1 + (x >> 16) % 400 :
			     1 + (x >> 16) % 3;
			p0 = (x >> 32) % (OV_PAGES - np);
			if ((x >> 28) % 4) {
				uint32_t perm = 1 + (uint32_t)((x >> 40) % 3);
				uint64_t hva = (uintptr_t)f->buf +
					       ((x >> 44) % 4096) * SZ_4K;

				req[i].op = (struct ioasid_fp_op){ IOASID_FP_MAP,
					perm, p0 * SZ_4K, hva, np * SZ_4K };
				/* The pieces cut at either end get new ids. */
				if (p0 && pg[p0 - 1].piece &&
				    pg[p0 - 1].piece == pg[p0].piece) {
					for (lo = p0; lo > 0 &&
					     pg[lo - 1].piece == pg[p0].piece; lo--)
						;
					ov_relabel(pg, lo, p0, &next);
				}
				hi = p0 + np;
				if (hi < OV_PAGES && pg[hi].piece &&
				    pg[hi].piece == pg[hi - 1].piece)
					ov_relabel(pg, hi, OV_PAGES, &next);
				next++;
				for (q = p0; q < p0 + np; q++)
					pg[q] = (struct ov_page){ next, perm,
						hva + (q - p0) * SZ_4K };
			} else {
				req[i].op = (struct ioasid_fp_op){ IOASID_FP_UNMAP,
					0, p0 * SZ_4K, 0, np * SZ_4K };
				lo = p0;
				hi = p0 + np;
				if (whole) {	/* every piece it touches, whole */
					while (lo > 0 && pg[lo].piece &&
					       pg[lo - 1].piece == pg[lo].piece)
						lo--;
					while (hi < OV_PAGES && pg[hi - 1].piece &&
					       pg[hi].piece == pg[hi - 1].piece)
						hi++;
				} else {
					if (p0 && pg[p0 - 1].piece &&
					    pg[p0 - 1].piece == pg[p0].piece) {
						uint64_t s0;

						for (s0 = p0; s0 > 0 &&
						     pg[s0 - 1].piece == pg[p0].piece; s0--)
							;
						ov_relabel(pg, s0, p0, &next);
					}
					if (hi < OV_PAGES && pg[hi].piece &&
					    pg[hi].piece == pg[hi - 1].piece)
						ov_relabel(pg, hi, OV_PAGES, &next);
				}
				for (q = lo; q < hi; q++)
					pg[q].piece = 0;
			}
			CHECK_OK(ioasid_fp_submit(p.b, &req[i]));
		}
		ioasid_fp_barrier(p.b);
		for (uint32_t q = 0; q < OV_PAGES; q++) {
			void *hva = NULL;
			uint64_t c = 0;
			int rc = ioasid_fp_translate(p.r, q * SZ_4K + 8, 8, 0,
						     &hva, &c);
			bool want = pg[q].piece != 0;

			cnt += want && (!q || pg[q - 1].piece != pg[q].piece);
			if (want != !rc ||
			    (!rc && (uintptr_t)hva != pg[q].hva + 8)) {
				diag("%s round %d page %u: shadow rc %d hva %p, model 0x%llx (seed %llu)",
				     whole ? "whole" : "cut", round, q, rc, hva,
				     (unsigned long long)pg[q].hva,
				     (unsigned long long)seed);
				return 1;
			}
		}
		why = snap_broken(&p);
		if (why || cnt != ioasid_fp_shadow_count(p.s)) {
			diag("%s round %d: %s; %llu pieces, shadow %u (seed %llu)",
			     whole ? "whole" : "cut", round, why ? why : "count",
			     (unsigned long long)cnt, ioasid_fp_shadow_count(p.s),
			     (unsigned long long)seed);
			return 1;
		}
		if (cnt > maxn)
			maxn = cnt;
		ioasid_fp_reader_quiescent(p.r);
	}
	diag("%s unmaps: up to %llu entries (%u leaves at the end)",
	     whole ? "whole-entry" : "cutting", (unsigned long long)maxn,
	     (*p.r->snap)->nleaves);
	CHECK(maxn > 2 * 48);		/* runs of several leaves were cut */
	fp_close(&p);
	ioasid_fp_backend_destroy(none);
	return 0;
}

static int model_overlap_replace(struct fx *f)
{
	uint64_t seed = (uint64_t)time(NULL) * 11 + 3;

	diag("seed %llu", (unsigned long long)seed);
	return ov_pass(f, false, seed) || ov_pass(f, true, seed ^ 0x9e3779b97f4a7c15ULL);
}

static const struct test tests[] = {
	{ "translate_basic", translate_basic, NULL },
	{ "many_mappings", many_mappings, NULL },
	{ "top_of_iova_space", top_of_iova_space, NULL },
	{ "cancel_and_merge", cancel_and_merge, NULL },
	{ "no_merge_for_type1v2", no_merge_for_type1v2, NULL },
	{ "errors_reach_their_caller", errors_reach_their_caller, NULL },
	{ "flush_by_count_and_deadline", flush_by_count_and_deadline, NULL },
	{ "cfg_size_first_version", cfg_size_first_version, NULL },
	{ "cfg_size_too_small", cfg_size_too_small, NULL },
	{ "cfg_size_zero_tail", cfg_size_zero_tail, NULL },
	{ "cfg_size_nonzero_tail", cfg_size_nonzero_tail, NULL },
	{ "model_vs_engine", model_vs_engine, NULL },
	{ "model_partial_unmap", model_partial_unmap, NULL },
	{ "overlapping_maps_replace", overlapping_maps_replace, NULL },
	{ "model_overlap_replace", model_overlap_replace, NULL },
	{ "destroy_null", destroy_null, NULL },
};

int main(int argc, char **argv)
{
	return run_tests("fastpath", tests, sizeof(tests) / sizeof(tests[0]),
			 argc, argv);
}
