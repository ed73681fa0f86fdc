// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/*
 * The libioasid backend: a batch of the batcher becomes one
 * IOASID_MAP_BATCH or IOASID_UNMAP_BATCH on one ioasid, embedded or in the
 * kernel. Both are all or nothing and name the failing entry, which is
 * exactly what the batcher needs. Type1v2 rules: no partial unmap.
 */
#include <stdlib.h>

#include "ioasid.h"
#include "fastpath_priv.h"

struct be_ioasid {
	struct ioasid_fp_backend be;
	struct ioasid_handle *h;
	uint32_t ioasid;
	struct ioasid_dma_entry *buf;
	uint32_t cap;
};

static int to_entries(struct be_ioasid *p, const struct ioasid_fp_op *ops,
		      uint32_t n, bool map)
{
	if (n > p->cap) {
		struct ioasid_dma_entry *e = realloc(p->buf, n * sizeof(*e));

		if (!e)
			return -ENOMEM;
		p->buf = e;
		p->cap = n;
	}
	for (uint32_t i = 0; i < n; i++) {
		p->buf[i] = (struct ioasid_dma_entry){
			.flags = map ? ops[i].perm : 0,
			.iova = ops[i].iova,
			.vaddr = map ? ops[i].hva : 0,
			.length = ops[i].len,
		};
	}
	return 0;
}

static int be_map(struct ioasid_fp_backend *be, const struct ioasid_fp_op *ops,
		  uint32_t n, uint32_t *fail_index)
{
	struct be_ioasid *p = be->priv;
	int rc = to_entries(p, ops, n, true);

	if (rc)
		return rc;
	return ioasid_map_batch(p->h, p->ioasid, p->buf, n, fail_index);
}

static int be_unmap(struct ioasid_fp_backend *be,
		    const struct ioasid_fp_op *ops, uint32_t n,
		    uint32_t *fail_index)
{
	struct be_ioasid *p = be->priv;
	int rc = to_entries(p, ops, n, false);

	if (rc)
		return rc;
	return ioasid_unmap_batch(p->h, p->ioasid, p->buf, n, NULL,
				  fail_index);
}

static void be_destroy(struct ioasid_fp_backend *be)
{
	struct be_ioasid *p = be->priv;

	free(p->buf);
	free(p);
}

static const struct ioasid_fp_backend_ops be_ioasid_ops = {
	.map = be_map,
	.unmap = be_unmap,
	.destroy = be_destroy,
};

int ioasid_fp_backend_ioasid(struct ioasid_handle *h, uint32_t ioasid,
			     struct ioasid_fp_backend **out)
{
	struct be_ioasid *p = calloc(1, sizeof(*p));

	if (!p)
		return -ENOMEM;
	p->h = h;
	p->ioasid = ioasid;
	p->be.ops = &be_ioasid_ops;
	p->be.name = ioasid_backend_of(h) == IOASID_BACKEND_KERNEL ?
		     "ioasid-kernel" : "ioasid-embedded";
	p->be.caps = IOASID_FP_BE_BATCH;
	p->be.max_batch = IOASID_BATCH_MAX;
	p->be.priv = p;
	*out = &p->be;
	return 0;
}

void fp_backend_free_priv(struct ioasid_fp_backend *be)
{
	free(be->priv);
}

void ioasid_fp_backend_destroy(struct ioasid_fp_backend *be)
{
	if (be && be->ops->destroy)
		be->ops->destroy(be);
}
