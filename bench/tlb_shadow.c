// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/*
 * The project's shadow behind the benchmark's interface: writes go through
 * the batcher (one flush, one publish and one grace period per update, the
 * way an unmap must complete), reads through ioasid_fp_translate(). The
 * backend accepts everything: this measures the shadow, not a kernel.
 */
#include <stdbool.h>
#include <stdlib.h>

#include "bench.h"
#include "ioasid_fastpath.h"
#include "tlb_impls.h"

#define CHURN_BATCH	64	/* updates per flush when batched */

struct shadow_tlb {
	struct ioasid_fp_shadow *s;
	struct ioasid_fp_batcher *b;
	struct ioasid_fp_backend be;
	bool batched;
	uint32_t npending;
	struct ioasid_fp_req req[2 * CHURN_BATCH];
};

static int accept_all(struct ioasid_fp_backend *be,
		      const struct ioasid_fp_op *ops, uint32_t n,
		      uint32_t *fail)
{
	return 0;
}

static const struct ioasid_fp_backend_ops accept_ops = {
	.map = accept_all,
	.unmap = accept_all,
};

static void *create(bool batched)
{
	struct shadow_tlb *t = calloc(1, sizeof(*t));
	struct ioasid_fp_batcher_cfg cfg = { .size = sizeof(cfg),
					     .max_batch = 4096 };

	if (!t)
		return NULL;
	t->be.ops = &accept_ops;
	t->be.name = "accept-all";
	t->be.caps = IOASID_FP_BE_BATCH;
	t->batched = batched;
	if (ioasid_fp_shadow_create(&t->s) ||
	    ioasid_fp_batcher_create(t->s, &t->be, &cfg, &t->b)) {
		free(t);
		return NULL;
	}
	return t;
}

static void *sh_create(void)
{
	return create(true);
}

static void *sh_create_unbatched(void)
{
	return create(false);
}

static void sh_destroy(void *p)
{
	struct shadow_tlb *t = p;

	ioasid_fp_batcher_destroy(t->b);
	ioasid_fp_shadow_destroy(t->s);
	free(t);
}

static int sh_insert(void *p, uint64_t iova, uint64_t len, uint64_t hva,
		     uint32_t perm)
{
	struct shadow_tlb *t = p;

	return ioasid_fp_map(t->b, iova, (void *)(uintptr_t)hva, len, perm);
}

static int sh_remove(void *p, uint64_t iova, uint64_t len)
{
	struct shadow_tlb *t = p;

	return ioasid_fp_unmap(t->b, iova, len, NULL);
}

static int sh_fill(void *p, uint32_t n, uint64_t iova0, uint64_t stride,
		   uint64_t len, uint64_t hva0, uint32_t perm)
{
	struct shadow_tlb *t = p;
	struct ioasid_fp_req *r = calloc(n, sizeof(*r));
	int rc = 0;

	if (!r)
		return -1;
	for (uint32_t i = 0; i < n && !rc; i++) {
		r[i].op = (struct ioasid_fp_op){ IOASID_FP_MAP, perm,
			iova0 + i * stride, hva0 + i * len, len };
		rc = ioasid_fp_submit(t->b, &r[i]);
	}
	ioasid_fp_barrier(t->b);
	for (uint32_t i = 0; i < n && !rc; i++)
		rc = r[i].result;
	free(r);
	return rc;
}

/*
 * Churn: an unmap and a map of the same range. Batched (the design), the
 * writer queues updates and flushes every CHURN_BATCH of them: one publish
 * and one grace period per flush. Unbatched, every update is a flush.
 */
static int sh_update(void *p, uint64_t iova, uint64_t len, uint64_t hva,
		     uint32_t perm)
{
	struct shadow_tlb *t = p;
	struct ioasid_fp_req *r = &t->req[2 * t->npending];
	int rc = 0;

	r[0] = (struct ioasid_fp_req){ .op = { IOASID_FP_UNMAP, 0, iova, 0,
					       len } };
	r[1] = (struct ioasid_fp_req){ .op = { IOASID_FP_MAP, perm, iova, hva,
					       len } };
	if (ioasid_fp_submit(t->b, &r[0]) || ioasid_fp_submit(t->b, &r[1]))
		return -1;
	if (t->batched && ++t->npending < CHURN_BATCH)
		return 0;
	ioasid_fp_barrier(t->b);
	for (uint32_t i = 0; i < 2 * (t->batched ? CHURN_BATCH : 1); i++)
		rc |= t->req[i].result;
	t->npending = 0;
	return rc;
}

static void *sh_reader_begin(void *p)
{
	struct shadow_tlb *t = p;
	struct ioasid_fp_reader *r;

	return ioasid_fp_reader_register(t->s, &r) ? NULL : r;
}

static void sh_quiescent(void *r)
{
	ioasid_fp_reader_quiescent(r);
}

static void sh_reader_end(void *r)
{
	ioasid_fp_reader_unregister(r);
}

static int sh_translate(void *r, uint64_t iova, uint64_t len, uint32_t perm,
			uint64_t *hva, uint64_t *contig)
{
	void *h = NULL;
	int rc = ioasid_fp_translate(r, iova, len, perm, &h, contig);

	*hva = (uintptr_t)h;
	return rc;
}

#define SHADOW_IMPL(_name, _label, _create) {	\
	.name = _name,					\
	.label = _label,				\
	.create = _create,				\
	.destroy = sh_destroy,				\
	.insert = sh_insert,				\
	.remove = sh_remove,				\
	.fill = sh_fill,				\
	.update = sh_update,				\
	.reader_begin = sh_reader_begin,		\
	.reader_quiescent = sh_quiescent,		\
	.reader_end = sh_reader_end,			\
	.translate = sh_translate,			\
}

const struct tlb_impl tlb_shadow = SHADOW_IMPL("ioasid-shadow",
	"RCU (QSBR) snapshot, B+tree of 8-key cache-line nodes over leaves with key arrays, per-reader last hit; updates through the batcher",
	sh_create);

const struct tlb_impl tlb_shadow_unbatched = SHADOW_IMPL(
	"ioasid-shadow-unbatched",
	"the shadow with a publish and a grace period per update (worst case)",
	sh_create_unbatched);

/* Used by bench_iotlb.c: the last-hit path without the adapter's call. */
double shadow_inline_hit_ns(void *p);

double shadow_inline_hit_ns(void *p)
{
	struct shadow_tlb *t = p;
	struct ioasid_fp_reader *r;
	uint64_t c, sink = 0, n = 50000000;
	double v[5];

	if (ioasid_fp_reader_register(t->s, &r))
		return 0;
	for (int k = 0; k < 5; k++) {
		uint64_t t0 = now_ns();

		for (uint64_t i = 0; i < n; i++) {
			void *h;

			if (!ioasid_fp_translate(r, 0x2010 + (i & 7) * 8, 64,
						 IOASID_FP_READ, &h, &c))
				sink += (uintptr_t)h;
			if ((i & 63) == 63)
				ioasid_fp_reader_quiescent(r);
		}
		v[k] = (double)(now_ns() - t0) / (double)n;
	}
	ioasid_fp_reader_unregister(r);
	return sink == 42 ? 0 : median(v, 5);
}
