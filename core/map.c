// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/*
 * Map and unmap with VFIO type1v2 rules, one call or a batch.
 *
 * A single call is a batch of one: the same code runs both, so the rules
 * cannot drift apart.
 *
 * Map batch, all or nothing:
 *   1. each entry in order: check the arguments (rules.c), check overlap
 *      with the tree (which already holds the batch's earlier entries), the
 *      mapping-count limit, allocate the node, charge the whole length,
 *      pin, insert into the tree;
 *   2. every listener gets the whole batch in one map call;
 *   3. on any failure, the entries already done are taken out of the tree,
 *      unpinned, uncharged and freed, in that order, and no listener has
 *      seen them (or those that had, got the matching unmap).
 *
 * Unmap batch, all or nothing:
 *   1. each entry in order: check the arguments, split the tree into the
 *      part before the range, the part inside and the part after; refuse a
 *      range that cuts a mapping (put the tree back, nothing changed);
 *      otherwise keep the inside part on the batch's chain;
 *   2. on failure of a later entry, re-insert every node of the chain:
 *      because a treap's shape is a function of its nodes, the tree is
 *      exactly as it was;
 *   3. on success every listener gets one unmap call with the whole chain
 *      and, when it returns, can no longer translate through it; only then
 *      are the pages uncharged and unpinned and the nodes freed.
 *
 * Charging: per mapping, as VFIO type1 does and as iommufd does for two
 * IOAS maps of the same virtual address. Every mapping charges its whole
 * length before its pages are pinned (so a request over the limit costs
 * no pinning work) and uncharges it after they are unpinned;
 * ctx->pinned_bytes is the sum of the lengths of the context's mappings.
 * The same memory mapped twice is charged twice: it is also pinned twice.
 * Charging once per virtual address is not safe, because the pages behind
 * an address change (munmap, mmap MAP_FIXED) while the first pin still
 * holds the old ones: the user would pin unbounded memory for one charge.
 *
 * A nested ioasid (nest.c) refuses map and unmap: its tree holds shadow
 * entries, which pin nothing. A parent's unmap withdraws the shadow
 * entries in the removed mappings before its own listeners run.
 *
 * Everything here runs under ctx->lock.
 */
#include "core_priv.h"

int as_check_ready(struct ioasid_as *as, struct ioasid_diag *diag)
{
	struct ioasid_dev *d, *e;

	if (!as->ndevs)
		return diag_set(diag, -ENODEV, IOASID_RULE_NOT_ATTACHED,
				as->obj.id, 0);
	if (as->viable)
		return 0;
	for (d = as->devs; d; d = d->as_next) {
		u32 n = 0;

		for (e = as->devs; e; e = e->as_next)
			n += e->group == d->group;
		if (n != d->group->size)
			return diag_set(diag, -EPERM,
					IOASID_RULE_GROUP_INCOMPLETE,
					(u32)d->group->key, d->group->size);
	}
	return diag_set(diag, -EPERM, IOASID_RULE_GROUP_INCOMPLETE, 0, 0);
}

/* Release a node that is out of the IOVA tree: unpin, uncharge, free. */
static void mapping_release(struct ioasid_ctx *ctx, struct ioasid_mapping *m)
{
	u64 len = ioasid_mapping_length(m);

	ctx->ops->unpin(ctx->host, m->vaddr, len, m->cookie);
	ctx->ops->uncharge(ctx->host, len);
	ctx->pinned_bytes -= len;
	ioh_cache_free(&ctx->map_cache, m);
}

static void chain_release(struct ioasid_ctx *ctx, struct ioasid_mapping *chain)
{
	while (chain) {
		struct ioasid_mapping *next = chain->next;

		mapping_release(ctx, chain);
		chain = next;
	}
}

static int as_map_one(struct ioasid_as *as, const struct ioasid_dma_entry *e,
		      struct ioasid_mapping **out, struct ioasid_diag *diag)
{
	struct ioasid_ctx *ctx = as->ctx;
	struct ioasid_mapping *m, *prev;
	u64 last;
	int rc;

	rc = ioasid_check_map(&as->attrs, e->flags, e->max_pgshift, e->iova,
			      e->vaddr, e->length, diag);
	if (rc)
		return rc;
	last = e->iova + e->length - 1;
	prev = it_find_le(as->root, last);
	if (prev && prev->last >= e->iova)
		return diag_set(diag, -EEXIST, IOASID_RULE_OVERLAP, e->iova,
				prev->iova);
	if (as->nmaps >= ctx->cfg.max_mappings)
		return diag_set(diag, -ENOSPC, IOASID_RULE_MAP_LIMIT, as->nmaps,
				ctx->cfg.max_mappings);
	m = ioc_cache_zalloc(&ctx->map_cache);
	if (!m)
		return diag_set(diag, -ENOMEM, IOASID_RULE_NOMEM, 0, 0);
	m->iova = e->iova;
	m->last = last;
	m->vaddr = e->vaddr;
	m->prot = e->flags & IOASID_PROT_MASK;
	m->max_pgshift = (u8)e->max_pgshift;
	/* The limit first: a request over it must cost no pinning. */
	rc = ioc_charge(ctx, e->length);
	if (rc) {
		ioh_cache_free(&ctx->map_cache, m);
		return diag_set(diag, rc, IOASID_RULE_MEMLOCK, e->length,
				ctx->pinned_bytes);
	}
	rc = ioc_pin(ctx, e->vaddr, e->length, m->prot, &m->cookie);
	if (rc) {
		ctx->ops->uncharge(ctx->host, e->length);
		ioh_cache_free(&ctx->map_cache, m);
		return diag_set(diag, rc,
				rc == -EFAULT ? IOASID_RULE_VADDR_FAULT :
						IOASID_RULE_NOMEM,
				e->vaddr, 0);
	}
	ctx->pinned_bytes += e->length;
	it_insert(&as->root, m);
	as->nmaps++;
	as->mapped_bytes += e->length;
	*out = m;
	return 0;
}

/* Undo of a map batch: the chain's nodes are in both trees. */
static void as_map_undo(struct ioasid_as *as, struct ioasid_mapping *chain)
{
	struct ioasid_mapping *m;

	for (m = chain; m; m = m->next) {
		it_remove(&as->root, m);
		as->nmaps--;
		as->mapped_bytes -= ioasid_mapping_length(m);
	}
	chain_release(as->ctx, chain);
}

static int notify_map(struct ioasid_as *as, struct ioasid_mapping *chain)
{
	struct ioasid_listener *l, *u;
	int rc;

	for (l = as->listeners; l; l = l->next) {
		rc = ioc_listener_map(l, chain);
		if (rc) {
			for (u = as->listeners; u != l; u = u->next)
				u->ops->unmap(u, chain);
			return rc;
		}
	}
	return 0;
}

static void notify_unmap(struct ioasid_as *as, struct ioasid_mapping *chain)
{
	struct ioasid_listener *l;

	/* Shadow entries in these mappings go before their pages can. */
	if (as->nchildren)
		nest_parent_unmap(as, chain);
	as_dirty_note_unmap(as, chain);
	for (l = as->listeners; l; l = l->next)
		l->ops->unmap(l, chain);
}

int as_notify_map(struct ioasid_as *as, struct ioasid_mapping *chain)
{
	return notify_map(as, chain);
}

/* One listener's replace; on failure it holds neither chain. */
static int listener_replace(struct ioasid_listener *l,
			    struct ioasid_mapping *old,
			    struct ioasid_mapping *new)
{
	if (!new) {
		l->ops->unmap(l, old);
		return 0;
	}
	if (l->ops->replace && !ioh_should_fail())
		return l->ops->replace(l, old, new);
	if (old)
		l->ops->unmap(l, old);
	if (!l->ops->replace)
		return ioc_listener_map(l, new);
	return -ENOMEM;		/* the injected failure */
}

int as_notify_replace(struct ioasid_as *as, struct ioasid_mapping *old,
		      struct ioasid_mapping *new)
{
	struct ioasid_listener *l, *u;
	int rc;

	if (old) {
		/* What notify_unmap does before its listeners. */
		if (as->nchildren)
			nest_parent_unmap(as, old);
		as_dirty_note_unmap(as, old);
	}
	for (l = as->listeners; l; l = l->next) {
		rc = listener_replace(l, old, new);
		if (rc) {
			/* Those before have @new, those after still @old. */
			for (u = as->listeners; u != l; u = u->next)
				if (new)
					u->ops->unmap(u, new);
			for (u = l->next; u; u = u->next)
				if (old)
					u->ops->unmap(u, old);
			return rc;
		}
	}
	return 0;
}

void as_notify_unmap(struct ioasid_as *as, struct ioasid_mapping *chain)
{
	notify_unmap(as, chain);
}

static void batch_ok(struct ioasid_batch_result *res, u32 count, u64 bytes)
{
	res->done = count;
	res->fail_index = 0;
	res->fail_errno = 0;
	res->bytes = bytes;
}

static void batch_fail(struct ioasid_batch_result *res, u32 index, int rc)
{
	res->done = 0;
	res->fail_index = index;
	res->fail_errno = (u32)-rc;
	res->bytes = 0;
}

/* What a batch checks of the address space before its first entry. */
static int batch_check_as(struct ioasid_as *as,
			  struct ioasid_batch_result *res,
			  struct ioasid_diag *diag)
{
	int rc = nest_check_map(as, diag);

	if (!rc)
		rc = as_check_ready(as, diag);
	if (rc)
		batch_fail(res, IOH_U32_MAX, rc);
	return rc;
}

int as_map_batch(struct ioasid_as *as, struct ioasid_entry_src *src,
		 struct ioasid_batch_result *res, struct ioasid_diag *diag)
{
	struct ioasid_mapping *chain = NULL, **tail = &chain, *m;
	struct ioasid_dma_entry e;
	u64 bytes = 0;
	u32 i;
	int rc;

	rc = batch_check_as(as, res, diag);
	if (rc)
		return rc;
	for (i = 0; i < src->count; i++) {
		rc = src->get(src, i, &e);
		if (!rc)
			rc = as_map_one(as, &e, &m, diag);
		if (rc) {
			if (diag)
				diag->index = i;
			as_map_undo(as, chain);
			batch_fail(res, i, rc);
			return rc;
		}
		m->next = NULL;
		*tail = m;
		tail = &m->next;
		bytes += e.length;
	}
	rc = notify_map(as, chain);
	if (rc) {
		diag_set(diag, rc, IOASID_RULE_LISTENER, (u64)-rc, 0);
		as_map_undo(as, chain);
		batch_fail(res, IOH_U32_MAX, rc);
		return rc;
	}
	batch_ok(res, src->count, bytes);
	return 0;
}

/*
 * Detach the mappings inside [iova, last] from the tree onto *tail, or
 * refuse with EINVAL (tree unchanged) if the range cuts one.
 */
static int as_cut_out(struct ioasid_as *as, u64 iova, u64 last,
		      struct ioasid_mapping ***tail, u64 *bytes, u32 *nmaps,
		      struct ioasid_diag *diag)
{
	struct ioasid_mapping *lo, *mid, *hi, *pred, *mx, *m;

	it_split(as->root, iova, &lo, &mid);
	if (last == IOH_U64_MAX)
		hi = NULL;
	else
		it_split(mid, last + 1, &mid, &hi);
	pred = it_max(lo);
	mx = it_max(mid);
	if (pred && pred->last >= iova) {
		as->root = it_merge(it_merge(lo, mid), hi);
		return diag_set(diag, -EINVAL, IOASID_RULE_UNMAP_CUT_START,
				iova, pred->iova);
	}
	if (mx && mx->last > last) {
		as->root = it_merge(it_merge(lo, mid), hi);
		return diag_set(diag, -EINVAL, IOASID_RULE_UNMAP_CUT_END, last,
				mx->last);
	}
	as->root = it_merge(lo, hi);
	for (m = it_to_chain(mid); m; m = m->next) {
		**tail = m;
		*tail = &m->next;
		*bytes += ioasid_mapping_length(m);
		(*nmaps)++;
	}
	**tail = NULL;
	return 0;
}

int as_unmap_batch(struct ioasid_as *as, struct ioasid_entry_src *src,
		   u32 flags, struct ioasid_batch_result *res,
		   struct ioasid_diag *diag)
{
	struct ioasid_mapping *chain = NULL, **tail = &chain, *m, *next;
	struct ioasid_dma_entry e;
	u64 bytes = 0;
	u32 nmaps = 0, i;
	int rc;

	rc = batch_check_as(as, res, diag);
	if (rc)
		return rc;
	for (i = 0; i < src->count; i++) {
		rc = src->get(src, i, &e);
		if (!rc && (e.vaddr || e.max_pgshift))
			rc = diag_set(diag, -EINVAL, IOASID_RULE_RESERVED,
				      e.vaddr ? e.vaddr : e.max_pgshift, 0);
		if (!rc)
			rc = ioasid_check_unmap(&as->attrs, e.flags | flags,
						e.iova, e.length, diag);
		if (!rc) {
			if ((e.flags | flags) & IOASID_UNMAP_ALL)
				rc = as_cut_out(as, 0, IOH_U64_MAX, &tail,
						&bytes, &nmaps, diag);
			else
				rc = as_cut_out(as, e.iova,
						e.iova + e.length - 1, &tail,
						&bytes, &nmaps, diag);
		}
		if (rc) {
			if (diag)
				diag->index = i;
			for (m = chain; m; m = next) {
				next = m->next;
				it_insert(&as->root, m);
			}
			batch_fail(res, i, rc);
			return rc;
		}
	}
	as->nmaps -= nmaps;
	as->mapped_bytes -= bytes;
	if (chain) {
		notify_unmap(as, chain);
		chain_release(as->ctx, chain);
	}
	if (!as->ndevs && !as->nmaps)
		as->has_attrs = false;
	batch_ok(res, src->count, bytes);
	return 0;
}

void as_unmap_everything(struct ioasid_as *as)
{
	struct ioasid_mapping *chain = it_to_chain(as->root);

	as->root = NULL;
	as->nmaps = 0;
	as->mapped_bytes = 0;
	if (chain) {
		notify_unmap(as, chain);
		chain_release(as->ctx, chain);
	}
}

struct ioasid_mapping *as_next(struct ioasid_as *as, struct ioasid_mapping *m)
{
	if (m->last == IOH_U64_MAX)
		return NULL;
	return it_first_ge(as->root, m->last + 1);
}

/* The first mapping that holds or follows @iova. */
struct ioasid_mapping *as_first_from(struct ioasid_as *as, u64 iova)
{
	struct ioasid_mapping *m = it_find_le(as->root, iova);

	if (m && m->last >= iova)
		return m;
	return it_first_ge(as->root, iova);
}

struct ioasid_mapping *ioasid_as_find(struct ioasid_as *as, u64 iova)
{
	struct ioasid_mapping *m = it_find_le(as->root, iova);

	return m && m->last >= iova ? m : NULL;
}

struct ioasid_mapping *ioasid_as_next(struct ioasid_as *as, u64 iova)
{
	return it_first_ge(as->root, iova);
}

int ioasid_as_add_listener(struct ioasid_as *as, struct ioasid_listener *l)
{
	struct ioasid_mapping *m, *chain = NULL, **tail = &chain;
	int rc;

	ioh_lock_assert_held(&as->ctx->lock);
	for (m = as_first_from(as, 0); m; m = as_next(as, m)) {
		*tail = m;
		tail = &m->next;
	}
	*tail = NULL;
	if (chain) {
		rc = ioc_listener_map(l, chain);
		if (rc)
			return rc;
	}
	l->next = as->listeners;
	as->listeners = l;
	return 0;
}

void ioasid_as_del_listener(struct ioasid_as *as, struct ioasid_listener *l,
			    bool unmap_all)
{
	struct ioasid_listener **link;
	struct ioasid_mapping *m, *chain = NULL, **tail = &chain;

	ioh_lock_assert_held(&as->ctx->lock);
	for (link = &as->listeners; *link; link = &(*link)->next) {
		if (*link == l) {
			*link = l->next;
			break;
		}
	}
	if (!unmap_all)
		return;
	for (m = as_first_from(as, 0); m; m = as_next(as, m)) {
		*tail = m;
		tail = &m->next;
	}
	*tail = NULL;
	if (chain)
		l->ops->unmap(l, chain);
}

u64 as_pgsizes_of(struct ioasid_as *as, struct ioasid_mapping *m,
		  u64 clip_start, u64 clip_last)
{
	struct ioasid_ctx *ctx = as->ctx;
	u64 len = ioasid_mapping_length(m), off = 0, used = 0;

	if (!ctx->ops->contig)
		return ioasid_pgsizes_used(as->attrs.pgsize_bitmap,
					   m->max_pgshift, m->iova, m->vaddr,
					   len, clip_start, clip_last);
	while (off < len) {
		u64 addr = 0;
		u64 c = ctx->ops->contig(ctx->host, m->cookie, m->vaddr,
					 m->vaddr + off, len - off, &addr);

		if (IOH_WARN_ON(!c || c > len - off))
			break;
		used |= ioasid_pgsizes_used(as->attrs.pgsize_bitmap,
					    m->max_pgshift, m->iova + off, addr,
					    c, clip_start, clip_last);
		off += c;
	}
	return used;
}

/* Used by the query handler: page sizes and mapped bytes in a range. */
void as_query(struct ioasid_as *as, u64 iova, u64 last, u64 *pgsizes,
	      u64 *mapped)
{
	struct ioasid_mapping *m;

	*pgsizes = 0;
	*mapped = 0;
	for (m = as_first_from(as, iova); m && m->iova <= last;
	     m = as_next(as, m)) {
		u64 lo = m->iova > iova ? m->iova : iova;
		u64 hi = m->last < last ? m->last : last;

		*mapped += hi - lo + 1;
		*pgsizes |= as_pgsizes_of(as, m, iova, last);
	}
}

/* Used by the list handler: up to @max mappings from @start. */
u32 as_list(struct ioasid_as *as, u64 start, struct ioasid_mapping **out,
	    u32 max, bool *more)
{
	struct ioasid_mapping *m = it_first_ge(as->root, start);
	u32 n = 0;

	while (m && n < max) {
		out[n++] = m;
		m = as_next(as, m);
	}
	*more = m != NULL;
	return n;
}
