// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/*
 * A full consistency check of a context, for fuzzers and stress tests: it
 * walks everything (O(n), recursion to the trees' depth) and is never
 * called by the engine itself.
 *
 * Checked: each IOVA tree is ordered, non-overlapping and a heap by
 * priority, and its counters match; pinned_bytes (what is charged) equals
 * the sum of the lengths of all mappings of all ioasids, since each
 * mapping is charged whole (map.c); every device's ioasid lists it; every
 * group's bound count is right; every shadow entry of a nested ioasid
 * lies in a live mapping of its parent, with no more access (nest.c).
 */
#include "core_priv.h"

struct it_walk {
	const struct ioasid_mapping *prev;
	u32 n;
	u64 bytes;
	bool bad;
};

static void it_check(const struct ioasid_mapping *t, struct it_walk *w,
		     u32 depth)
{
	if (!t || w->bad)
		return;
	if (depth > 4096 || (t->il && mapping_prio(t->il) > mapping_prio(t)) ||
	    (t->ir && mapping_prio(t->ir) > mapping_prio(t)) || t->last < t->iova) {
		w->bad = true;
		return;
	}
	it_check(t->il, w, depth + 1);
	if (w->prev && w->prev->last >= t->iova)
		w->bad = true;
	w->prev = t;
	w->n++;
	w->bytes += t->last - t->iova + 1;
	it_check(t->ir, w, depth + 1);
}

int ioasid_ctx_verify(struct ioasid_ctx *ctx)
{
	u32 id;
	u64 bytes = 0;
	struct ioasid_group *g;
	int rc = 0;

	ioh_lock(&ctx->lock);
	for (id = 1; id < ctx->objs_cap && !rc; id++) {
		struct ioasid_obj *o = ctx->objs[id];
		struct ioasid_as *as;
		struct ioasid_dev *d;
		struct it_walk w = { 0 };
		u32 nd = 0;

		if (!o)
			continue;
		if (o->id != id)
			rc = -EIO;
		if (o->type == IOASID_OBJ_DEV) {
			d = container_of(o, struct ioasid_dev, obj);
			if (d->as) {
				struct ioasid_dev *e = d->as->devs;

				while (e && e != d)
					e = e->as_next;
				if (!e)
					rc = -EIO;
			}
			continue;
		}
		as = container_of(o, struct ioasid_as, obj);
		it_check(as->root, &w, 0);
		if (w.bad || w.n != as->nmaps || w.bytes != as->mapped_bytes ||
		    as->nmaps > ctx->cfg.max_mappings)
			rc = -EIO;
		if ((as->nmaps || as->ndevs) && !as->has_attrs)
			rc = -EIO;
		for (d = as->devs; d; d = d->as_next, nd++)
			if (d->as != as)
				rc = -EIO;
		if (nd != as->ndevs)
			rc = -EIO;
		if (as_dirty_verify(as) || nest_verify(as) ||
		    faultq_verify(ctx, as->faultq))
			rc = -EIO;
		/* A nested ioasid's shadow pins nothing. */
		if (as->nest != NEST_CHILD)
			bytes += as->mapped_bytes;
	}
	if (!rc && bytes != ctx->pinned_bytes)
		rc = -EIO;
	for (g = ctx->groups; g && !rc; g = g->next)
		if (!g->nbound || g->nbound > g->size)
			rc = -EIO;
	if (!rc && faultq_verify_all(ctx))
		rc = -EIO;
	ioh_unlock(&ctx->lock);
	return rc;
}
