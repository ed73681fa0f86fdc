// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/*
 * Nested ioasids in software: a bound page table shadowed as ordinary
 * mappings (seed plan, Phase 2).
 *
 * A nesting parent is an ordinary ioasid. A child (nested on it) has a
 * page table bound to it (pgtable_x86.c's format) whose output addresses,
 * and table pages, are parent IOVAs. The engine keeps the composition of
 * the two stages in the child's own IOVA tree, as shadow entries (struct
 * nest_entry): each is one stage-1 leaf cut to one parent mapping, with
 * the parent mapping's vaddr and cookie, prot = stage-1 AND parent, and a
 * page size limit (max_pgshift) of the leaf's size or the parent
 * mapping's, the smaller. Every listener of the child (software devices,
 * IOMMU domains, the vDPA adaptor, the fast path's shadow) gets the
 * shadow as ordinary map and unmap events and needs nothing new. The
 * shadow pins and charges nothing: the parent mappings hold the pages,
 * and a parent unmap first withdraws every shadow entry that lies in a
 * mapping it removes (nest_parent_unmap, from as_notify_unmap, before the
 * parent's own listeners and before the pages are unpinned).
 *
 * Invalidation of a range [start, last]:
 *   1. the range is widened to whole stage-1 leaves and whole shadow
 *      entries at its two ends, so that no entry is cut: a few rounds of
 *      taking in the leaf and the entry at each end, and if that has not
 *      settled, the 1 GiB block around each end (leaves are aligned to
 *      their size, at most 1 GiB, and entries lie in leaves);
 *   2. the shadow entries inside are cut out of the tree (kept aside in
 *      their own treap);
 *   3. the table is walked over the range; each piece it yields that is
 *      identical to a kept-aside entry puts that entry back (a device
 *      sees no gap where nothing changed); others become new entries;
 *   4. what is left aside is withdrawn (listeners' unmap, then freed),
 *      then the new entries go to the listeners in one map call.
 * A failure of the walk (mapping limit, work limit, memory) leaves the
 * range exactly as it was: nothing was notified yet, so the new entries
 * are dropped and the ones set aside go back. A listener's failure to
 * map the new entries leaves the range with the unchanged entries only
 * (the changed ones were withdrawn already): a subset of a fresh walk. Pieces outside the parent, without permission, or that break the
 * child's attributes (aperture, reserved regions, page sizes) are absent.
 * A parent MAP_DMA changes no shadow: the next invalidation picks it up.
 *
 * Work: the walk costs one unit of a per-call budget
 * (IOASID_INV_WALK_MAX) per table entry read and per parent mapping
 * visited for a leaf; non-present entries cost their read only, and a
 * non-present entry above a leaf skips what it covers. The number of
 * shadow entries is bounded by the mapping-count limit, per child and for
 * all the children of one parent together, and the bytes they
 * cover by twice the bytes the parent maps (a new entry past either:
 * ENOSPC). Finding the
 * entries that point into a removed parent mapping scans the children's
 * trees only when some point into it (each parent mapping counts them,
 * nshadow), and stops when all are found.
 *
 * Everything here runs under ctx->lock.
 */
#include "core_priv.h"

static struct nest_entry *to_entry(struct ioasid_mapping *m)
{
	return container_of(m, struct nest_entry, m);
}

int nest_alloc(struct ioasid_ctx *ctx, u32 flags, u32 parent_id, u32 *out_id,
	       struct ioasid_diag *diag)
{
	struct ioasid_as *parent = NULL, *as;
	u32 known = IOASID_ALLOC_NEST_PARENT | IOASID_ALLOC_NESTED;
	int rc;

	if (flags & ~known)
		return diag_set(diag, -EINVAL, IOASID_RULE_FLAGS, flags, known);
	if (flags == known || (parent_id && flags != IOASID_ALLOC_NESTED))
		return diag_set(diag, -EINVAL, IOASID_RULE_NEST_FLAGS, flags,
				0);
	if (flags & IOASID_ALLOC_NESTED) {
		parent = ctx_get_as(ctx, parent_id, diag);
		if (!parent)
			return -ENOENT;
		if (parent->nest != NEST_PARENT)
			return diag_set(diag, -EINVAL,
					IOASID_RULE_NEST_NOT_PARENT,
					parent_id, 0);
	}
	rc = ctx_alloc_as(ctx, out_id, diag);
	if (rc || !flags)
		return rc;
	as = ctx_get_as(ctx, *out_id, NULL);
	if (!parent) {
		as->nest = NEST_PARENT;
		return 0;
	}
	as->nest = NEST_CHILD;
	as->parent = parent;
	as->sibling = parent->children;
	parent->children = as;
	parent->nchildren++;
	return 0;
}

/* Take shadow entries out of the child's counters and free them. */
static void entries_free(struct ioasid_as *as, struct ioasid_mapping *chain)
{
	while (chain) {
		struct ioasid_mapping *next = chain->next;

		to_entry(chain)->pm->nshadow--;
		ioh_cache_free(&as->ctx->shadow_cache, to_entry(chain));
		chain = next;
		ioh_resched();
	}
}

static void account_out(struct ioasid_as *as, struct ioasid_mapping *chain)
{
	struct ioasid_mapping *m;

	for (m = chain; m; m = m->next) {
		as->nmaps--;
		as->mapped_bytes -= ioasid_mapping_length(m);
	}
}

/* Withdraw a chain already out of the tree: listeners first, then free. */
static void withdraw(struct ioasid_as *as, struct ioasid_mapping *chain)
{
	if (!chain)
		return;
	account_out(as, chain);
	as_notify_unmap(as, chain);
	entries_free(as, chain);
}

static void withdraw_all(struct ioasid_as *as)
{
	struct ioasid_mapping *chain = it_to_chain(as->root);

	as->root = NULL;
	withdraw(as, chain);
}

static void forget_attrs_if_idle(struct ioasid_as *as)
{
	if (!as->ndevs && !as->nmaps)
		as->has_attrs = false;
}

void nest_release(struct ioasid_as *as)
{
	struct ioasid_as **link;

	if (as->nest != NEST_CHILD)
		return;
	withdraw_all(as);
	as->bound = false;
	for (link = &as->parent->children; *link; link = &(*link)->sibling) {
		if (*link == as) {
			*link = as->sibling;
			break;
		}
	}
	as->parent->nchildren--;
	as->parent = NULL;
}

int nest_check_map(struct ioasid_as *as, struct ioasid_diag *diag)
{
	if (as->nest != NEST_CHILD)
		return 0;
	if (as->bound)
		return diag_set(diag, -EBUSY, IOASID_RULE_PGTBL_BOUND,
				as->obj.id, 0);
	return diag_set(diag, -EINVAL, IOASID_RULE_NESTED_MAP, as->obj.id, 0);
}

void nest_parent_unmap(struct ioasid_as *parent, struct ioasid_mapping *chain)
{
	struct ioasid_mapping *m, *next, *gone, **tail;
	struct ioasid_as *c;
	u64 want = 0;

	/* Each parent mapping counts the shadow entries that point into it. */
	for (m = chain; m; m = m->next)
		want += m->nshadow;
	if (!want)
		return;
	for (m = chain; m; m = m->next)
		m->engine_mark = 1;
	for (c = parent->children; c && want; c = c->sibling) {
		gone = NULL;
		tail = &gone;
		for (m = as_first_from(c, 0); m && want; m = as_next(c, m)) {
			if (to_entry(m)->pm->engine_mark) {
				*tail = m;
				tail = &m->next;
				want--;
			}
			ioh_resched();
		}
		*tail = NULL;
		for (m = gone; m; m = next) {
			next = m->next;
			it_remove(&c->root, m);
		}
		withdraw(c, gone);
		forget_attrs_if_idle(c);
	}
	for (m = chain; m; m = m->next)
		m->engine_mark = 0;
}

/* The reader of a child's table: pages through the parent's mappings. */
struct pt_reader {
	struct ioasid_as *parent;
	u64 page;			/* the last page found, and its mapping */
	struct ioasid_mapping *pm;
};

static bool parent_read(void *arg, u64 table, u32 index, u64 *pte)
{
	struct pt_reader *r = arg;
	struct ioasid_ctx *ctx = r->parent->ctx;
	struct ioasid_mapping *pm = r->pm;
	u64 addr = table + (u64)index * 8;

	if (table & 4095)
		return false;
	if (!pm || r->page != table) {
		pm = ioasid_as_find(r->parent, table);
		if (!pm || !(pm->prot & IOASID_DMA_READ) ||
		    pm->last - table < 4095)
			return false;
		r->page = table;
		r->pm = pm;
	}
	return !ioc_mem_read(ctx, pm->cookie, pm->vaddr,
			     pm->vaddr + (addr - pm->iova), pte, sizeof(*pte));
}

static void reader_init(struct pt_reader *pr, struct x86pt_reader *r,
			struct ioasid_as *child)
{
	pr->parent = child->parent;
	pr->page = 0;
	pr->pm = NULL;
	r->read = parent_read;
	r->arg = pr;
}

static u32 width_levels(u32 width)
{
	return width == 48 ? 4 : width == 57 ? 5 : 0;
}

static struct ioasid_as *get_child(struct ioasid_ctx *ctx, u32 id,
				   struct ioasid_diag *diag, int *rc)
{
	struct ioasid_as *as = ctx_get_as(ctx, id, diag);

	*rc = -ENOENT;
	if (!as)
		return NULL;
	if (as->nest != NEST_CHILD) {
		*rc = diag_set(diag, -EINVAL, IOASID_RULE_NOT_NESTED, id, 0);
		return NULL;
	}
	*rc = 0;
	return as;
}

int nest_bind(struct ioasid_ctx *ctx, struct ioasid_pgtbl_bind *b,
	      struct ioasid_diag *diag)
{
	u32 known = IOASID_PGTBL_WPE | IOASID_PGTBL_AD |
		    IOASID_PGTBL_SUPERVISOR;
	struct ioasid_mapping *pm;
	struct ioasid_as *as;
	int rc;

	if (b->flags & ~known)
		return diag_set(diag, -EINVAL, IOASID_RULE_FLAGS, b->flags,
				known);
	if (b->__reserved)
		return diag_set(diag, -EINVAL, IOASID_RULE_RESERVED,
				b->__reserved, 0);
	as = get_child(ctx, b->ioasid, diag, &rc);
	if (!as)
		return rc;
	if (b->format != IOASID_PGTBL_X86_64)
		return diag_set(diag, -EINVAL, IOASID_RULE_PGTBL_FORMAT,
				b->format, 0);
	if (!width_levels(b->addr_width))
		return diag_set(diag, -EINVAL, IOASID_RULE_PGTBL_WIDTH,
				b->addr_width, 0);
	if (b->flags & IOASID_PGTBL_AD)
		return diag_set(diag, -EOPNOTSUPP, IOASID_RULE_PGTBL_AD,
				b->flags, 0);
	if (as->bound)
		return diag_set(diag, -EBUSY, IOASID_RULE_PGTBL_BOUND,
				b->ioasid, 0);
	rc = as_check_ready(as, diag);
	if (rc)
		return rc;
	pm = ioasid_as_find(as->parent, b->root);
	if ((b->root & 4095) || !pm || !(pm->prot & IOASID_DMA_READ))
		return diag_set(diag, -EINVAL, IOASID_RULE_PGTBL_ROOT,
				b->root, 0);
	as->pt.root = b->root;
	as->pt.levels = width_levels(b->addr_width);
	as->pt.flags = (b->flags & IOASID_PGTBL_WPE ? X86PT_F_WPE : 0) |
		       (b->flags & IOASID_PGTBL_SUPERVISOR ?
			X86PT_F_SUPERVISOR : 0);
	as->bound = true;
	return 0;
}

int nest_unbind(struct ioasid_ctx *ctx, u32 id, struct ioasid_diag *diag)
{
	struct ioasid_as *as;
	int rc;

	as = get_child(ctx, id, diag, &rc);
	if (!as)
		return rc;
	if (!as->bound)
		return diag_set(diag, -EINVAL, IOASID_RULE_PGTBL_NOT_BOUND, id,
				0);
	withdraw_all(as);
	as->bound = false;
	forget_attrs_if_idle(as);
	return 0;
}

/* One invalidation's walk (steps 2-3 above). */
struct inv {
	struct ioasid_as *as;
	u64 start, last;		/* the widened range */
	struct ioasid_mapping *aside;	/* treap of the entries cut out */
	struct ioasid_mapping *added, **tail;
	u32 others;			/* shadow entries of the other children */
	u64 *budget;
	struct ioasid_diag *diag;
};

static bool same_entry(struct ioasid_mapping *o, const struct ioasid_mapping *n,
		       struct ioasid_mapping *pm)
{
	return o->iova == n->iova && o->last == n->last &&
	       o->vaddr == n->vaddr && o->prot == n->prot &&
	       o->max_pgshift == n->max_pgshift && to_entry(o)->pm == pm;
}

/* The bytes a child's shadow may cover: twice what the parent maps. */
static u64 nest_shadow_limit(const struct ioasid_as *parent)
{
	u64 b = parent->mapped_bytes;

	return b > IOH_U64_MAX / 2 ? IOH_U64_MAX : 2 * b;
}

static int add_piece(struct inv *v, u64 iova, u64 len, struct ioasid_mapping *pm,
		     u64 out, u32 prot, u32 shift)
{
	struct ioasid_as *as = v->as;
	struct ioasid_ctx *ctx = as->ctx;
	struct ioasid_mapping n = {
		.iova = iova,
		.last = iova + len - 1,
		.vaddr = pm->vaddr + (out - pm->iova),
		.prot = prot,
		.max_pgshift = (u8)(pm->max_pgshift && pm->max_pgshift < shift ?
				    pm->max_pgshift : shift),
		.cookie = pm->cookie,
	};
	struct ioasid_mapping *o, *prev;
	struct nest_entry *e;
	u64 limit;

	if (ioasid_check_map(&as->attrs, prot, n.max_pgshift, iova, n.vaddr,
			     len, NULL))
		return 0;		/* the child's device cannot use it */
	o = it_find_le(v->aside, iova);
	if (o && same_entry(o, &n, pm)) {
		it_remove(&v->aside, o);
		it_insert(&as->root, o);
		as->nmaps++;
		as->mapped_bytes += len;
		return 0;
	}
	prev = it_find_le(as->root, n.last);
	if (IOH_WARN_ON(prev && prev->last >= iova))
		return 0;
	/*
	 * The limit holds per child and for the shadow entries of all the
	 * parent's children together: a parent unmap scans all of them.
	 */
	if (as->nmaps >= ctx->cfg.max_mappings ||
	    v->others >= ctx->cfg.max_mappings - as->nmaps)
		return diag_set(v->diag, -ENOSPC, IOASID_RULE_INV_LIMIT,
				iova, ctx->cfg.max_mappings);
	/*
	 * A table may alias parent memory, but the shadow covers no more
	 * than twice the bytes the parent maps (all of it, and an alias of
	 * all of it): each byte of shadow is work for every listener (an
	 * IOMMU domain maps it), and nothing is charged for it.
	 */
	limit = nest_shadow_limit(as->parent);
	if (as->mapped_bytes > limit || len > limit - as->mapped_bytes)
		return diag_set(v->diag, -ENOSPC, IOASID_RULE_INV_BYTES,
				iova, limit);
	e = ioc_cache_zalloc(&ctx->shadow_cache);
	if (!e)
		return diag_set(v->diag, -ENOMEM, IOASID_RULE_NOMEM, 0, 0);
	e->m = n;
	e->pm = pm;
	pm->nshadow++;
	it_insert(&as->root, &e->m);
	as->nmaps++;
	as->mapped_bytes += len;
	e->m.next = NULL;
	*v->tail = &e->m;
	v->tail = &e->m.next;
	return 0;
}

/* A stage-1 leaf: cut to the range, then to each parent mapping. */
static int inv_leaf(void *arg, const struct x86pt_leaf *l)
{
	struct inv *v = arg;
	u64 lo = l->iova > v->start ? l->iova : v->start;
	u64 leaf_last = l->iova + ((1ULL << l->shift) - 1);
	u64 hi = leaf_last < v->last ? leaf_last : v->last;
	u64 out_lo = l->out + (lo - l->iova), out_hi = out_lo + (hi - lo);
	struct ioasid_mapping *pm;
	int rc;

	for (pm = as_first_from(v->as->parent, out_lo); pm && pm->iova <= out_hi;
	     pm = as_next(v->as->parent, pm)) {
		u64 a = pm->iova > out_lo ? pm->iova : out_lo;
		u64 b = pm->last < out_hi ? pm->last : out_hi;
		u32 prot = l->prot & pm->prot;

		if (!*v->budget)
			return diag_set(v->diag, -ENOSPC, IOASID_RULE_INV_WORK,
					0, IOASID_INV_WALK_MAX);
		--*v->budget;
		if (!prot)
			continue;
		rc = add_piece(v, lo + (a - out_lo), b - a + 1, pm, a, prot,
			       l->shift);
		if (rc)
			return rc;
	}
	return 0;
}

/*
 * Step 1: widen [*start, *last] to whole leaves and shadow entries. Each
 * round takes in the leaf and the entry at each end; entries cut at parent
 * mapping boundaries and leaves of another size can chain (an entry ends
 * inside the next leaf, whose end is inside the next entry, ...). Neither
 * a leaf nor an entry crosses a 1 GiB boundary (leaves are aligned to
 * their size, at most 1 GiB; entries lie in leaves of some earlier walk),
 * so the enclosing 1 GiB blocks are a fixed point: taken when a few
 * rounds do not reach one.
 */
#define WIDEN_ROUNDS	4
#define WIDEN_BLOCK	(1ULL << 30)

static void widen(struct ioasid_as *as, const struct x86pt_reader *r,
		  u64 *start, u64 *last)
{
	unsigned int round;

	for (round = 0; round < WIDEN_ROUNDS; round++) {
		struct ioasid_mapping *m;
		struct x86pt_leaf l;
		u64 s = *start, e = *last;

		m = ioasid_as_find(as, s);
		if (m && m->iova < s)
			s = m->iova;
		m = ioasid_as_find(as, e);
		if (m && m->last > e)
			e = m->last;
		if (!x86pt_translate(&as->pt, r, s, &l) && l.iova < s)
			s = l.iova;
		if (!x86pt_translate(&as->pt, r, e, &l) &&
		    l.iova + ((1ULL << l.shift) - 1) > e)
			e = l.iova + ((1ULL << l.shift) - 1);
		if (s == *start && e == *last)
			return;
		*start = s;
		*last = e;
	}
	*start &= ~(WIDEN_BLOCK - 1);
	*last |= WIDEN_BLOCK - 1;
}

int nest_invalidate(struct ioasid_as *as, u64 start, u64 last, u64 *budget,
		    struct ioasid_diag *diag)
{
	struct ioasid_mapping *lo, *mid, *hi, *m, *left;
	struct x86pt_reader r;
	struct ioasid_as *c;
	struct pt_reader pr;
	struct inv v = {
		.as = as,
		.budget = budget,
		.diag = diag,
	};
	int rc;

	for (c = as->parent->children; c; c = c->sibling)
		if (c != as)
			v.others += c->nmaps;
	reader_init(&pr, &r, as);
	widen(as, &r, &start, &last);
	v.start = start;
	v.last = last;
	v.tail = &v.added;

	/* Step 2: the entries inside, aside; none is cut after widening. */
	it_split(as->root, start, &lo, &mid);
	if (last == IOH_U64_MAX)
		hi = NULL;
	else
		it_split(mid, last + 1, &mid, &hi);
	as->root = it_merge(lo, hi);
	for (m = it_to_chain(mid); m; m = left) {
		left = m->next;
		as->nmaps--;
		as->mapped_bytes -= ioasid_mapping_length(m);
		m->il = m->ir = NULL;
		it_insert(&v.aside, m);
	}

	/* Step 3. */
	rc = x86pt_walk(&as->pt, &r, start, last, budget, inv_leaf, &v);
	if (rc == -ENOSPC && !*budget)
		diag_set(diag, rc, IOASID_RULE_INV_WORK, start,
			 IOASID_INV_WALK_MAX);
	*v.tail = NULL;
	if (rc) {
		/* Nothing was notified: put the range back as it was. */
		for (m = v.added; m; m = m->next)
			it_remove(&as->root, m);
		account_out(as, v.added);
		entries_free(as, v.added);
		for (m = it_to_chain(v.aside); m; m = left) {
			left = m->next;
			as->nmaps++;
			as->mapped_bytes += ioasid_mapping_length(m);
			m->il = m->ir = NULL;
			it_insert(&as->root, m);
		}
		return rc;
	}

	/*
	 * Step 4: the old ones out and the new ones in, each listener in one
	 * step (an IOMMU domain flushes once), the old first in each so that
	 * no listener sees an overlap.
	 */
	left = it_to_chain(v.aside);
	if (left || v.added) {
		rc = as_notify_replace(as, left, v.added);
		if (left)
			entries_free(as, left);
		if (rc && v.added) {
			for (m = v.added; m; m = m->next)
				it_remove(&as->root, m);
			account_out(as, v.added);
			entries_free(as, v.added);
			diag_set(diag, rc, IOASID_RULE_LISTENER, (u64)-rc, 0);
		}
	}
	forget_attrs_if_idle(as);
	return rc;
}

/* verify.c: every shadow entry lies in a live mapping of the parent. */
int nest_verify(const struct ioasid_as *as)
{
	struct ioasid_as *self = (struct ioasid_as *)as, *c;
	struct ioasid_mapping *m;
	u32 n = 0;

	if (as->nest != NEST_CHILD) {
		u64 counted = 0, entries = 0;

		for (c = as->children; c; c = c->sibling) {
			n++;
			entries += c->nmaps;
		}
		if (n != as->nchildren)
			return -EIO;
		/*
		 * A parent unmap trusts nshadow to skip the children: the
		 * counts must add up to the children's entries (each entry
		 * also needs a non-zero count: below, from the child).
		 */
		for (m = as_first_from(self, 0); m; m = as_next(self, m))
			counted += m->nshadow;
		return counted == entries ? 0 : -EIO;
	}
	if (!as->parent || (!as->bound && as->nmaps))
		return -EIO;
	for (m = as_first_from(self, 0); m; m = as_next(self, m)) {
		struct ioasid_mapping *pm = to_entry(m)->pm;
		u64 piova = pm->iova + (m->vaddr - pm->vaddr);

		if (ioasid_as_find(as->parent, piova) != pm ||
		    m->vaddr < pm->vaddr ||
		    pm->last - piova < ioasid_mapping_length(m) - 1 ||
		    m->cookie != pm->cookie || (m->prot & ~pm->prot) ||
		    !pm->nshadow)
			return -EIO;
	}
	return 0;
}
