// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/*
 * Dirty page tracking, software edition (Phase 3 of the plan).
 *
 * While tracking runs on an ioasid, the engine keeps a set of dirty IOVA
 * ranges, rounded out to the ioasid's smallest page: what software devices
 * wrote, and every writable mapping that was unmapped (a device may have
 * written it before it went). Devices whose writes the engine cannot see
 * (VFIO devices, IOASID_SWDEV_UNTRACKED software devices) switch the
 * ioasid to "all dirty": every mapped writable page reads dirty at every
 * read until tracking restarts. That is also the fallback when the set
 * would outgrow DIRTY_MAX_RANGES, so that nothing dirty is ever lost.
 *
 * A read builds the bitmap a chunk at a time (DIRTY_CHUNK bytes of it, on
 * the stack: nothing is allocated by the size a user asks for), copies each
 * chunk out, and clears the range only once every chunk has been copied, so
 * a bad bitmap pointer clears nothing. A read may cover up to
 * IOASID_DIRTY_MAX_BITS pages (65536 chunks), so the walk goes through the
 * sorted set once over all chunks, and lets others run between chunks
 * (ioh_resched()).
 *
 * The set grows with what devices write, up to DIRTY_MAX_RANGES entries
 * (1 MiB): it comes from ioh_kvzalloc(), which in the kernel may use
 * vmalloc rather than need that many contiguous pages.
 */
#include "core_priv.h"

#define DIRTY_MAX_RANGES	65536U
#define DIRTY_CHUNK		512U		/* bytes of bitmap per copy */

static u64 as_min_page(const struct ioasid_as *as)
{
	return as->attrs.pgsize_bitmap & (~as->attrs.pgsize_bitmap + 1);
}

static bool dirty_grow(struct ioasid_as *as)
{
	u32 cap = as->dirty_cap ? as->dirty_cap * 2 : 16;
	struct ioasid_range *n;

	if (cap > DIRTY_MAX_RANGES)
		return false;
	n = ioc_kvzalloc(cap * sizeof(*n));
	if (!n)
		return false;
	if (as->ndirty)
		memcpy(n, as->dirty, as->ndirty * sizeof(*n));
	ioh_kvfree(as->dirty);
	as->dirty = n;
	as->dirty_cap = cap;
	return true;
}

/*
 * The first range that ends at or after start - 1 (touching merges): the
 * set is sorted and disjoint, so the ranges before it are a prefix.
 */
static u32 dirty_find(const struct ioasid_as *as, u64 start)
{
	u32 lo = 0, hi = as->ndirty;

	while (lo < hi) {
		u32 mid = lo + (hi - lo) / 2;
		u64 l = as->dirty[mid].last;

		if (l != IOH_U64_MAX && l + 1 < start)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/* Add [start, last] to the set, merging with what it touches. */
void as_dirty_mark(struct ioasid_as *as, u64 start, u64 last)
{
	u64 pg = as_min_page(as);
	u32 i;

	if (!as->dirty_on || as->dirty_all)
		return;
	start &= ~(pg - 1);
	last |= pg - 1;
	i = dirty_find(as, start);
	if (i < as->ndirty && as->dirty[i].start <= last + 1 &&
	    last != IOH_U64_MAX) {
		ioasid_range_merge(as->dirty, &as->ndirty, i, start, last, 1);
		return;
	}
	if (as->ndirty == as->dirty_cap && !dirty_grow(as)) {
		/* Out of room: report everything rather than lose a page. */
		as->dirty_all = true;
		return;
	}
	ioasid_range_insert(as->dirty, &as->ndirty, i, start, last);
}

static void dirty_clear(struct ioasid_as *as, u64 start, u64 last);

/*
 * One unmap call may carry every mapping of the ioasid (up to 65535).
 * With dirty_forget (the VFIO shim, type1's rules) what the mappings held
 * goes with them, so that a new mapping at the same IOVAs starts clean.
 */
void as_dirty_note_unmap(struct ioasid_as *as, struct ioasid_mapping *chain)
{
	if (!as->dirty_on)
		return;
	for (; chain; chain = chain->next) {
		if (as->dirty_forget)
			dirty_clear(as, chain->iova, chain->last);
		else if (chain->prot & IOASID_DMA_WRITE)
			as_dirty_mark(as, chain->iova, chain->last);
		ioh_resched();
	}
}

/*
 * A device whose writes the engine cannot see makes its ioasid "all
 * dirty", and, behind a nested ioasid, the parent too: what it writes
 * through the child's shadow lands in the parent's pages, and which ones
 * only the device knows.
 */
void as_dirty_note_attach(struct ioasid_as *as, struct ioasid_dev *dev)
{
	if (!dev->untracked_dma)
		return;
	if (as->dirty_on)
		as->dirty_all = true;
	if (as->nest == NEST_CHILD && as->parent->dirty_on)
		as->parent->dirty_all = true;
}

void as_dirty_reset(struct ioasid_as *as)
{
	ioh_kvfree(as->dirty);
	as->dirty = NULL;
	as->ndirty = 0;
	as->dirty_cap = 0;
	as->dirty_all = false;
	as->dirty_forget = false;
}

int as_dirty_tracking(struct ioasid_as *as, u32 flags,
		      struct ioasid_diag *diag)
{
	struct ioasid_as *c;
	struct ioasid_dev *d;

	if (flags != IOASID_DIRTY_START && flags != IOASID_DIRTY_STOP)
		return diag_set(diag, -EINVAL, IOASID_RULE_DIRTY_FLAGS, flags,
				0);
	if (!as->ndevs)
		return diag_set(diag, -ENODEV, IOASID_RULE_NOT_ATTACHED,
				as->obj.id, 0);
	if ((flags == IOASID_DIRTY_START) == as->dirty_on)
		return 0;
	as_dirty_reset(as);
	as->dirty_on = flags == IOASID_DIRTY_START;
	for (d = as->devs; d; d = d->as_next)
		as_dirty_note_attach(as, d);
	for (c = as->children; c; c = c->sibling)
		for (d = c->devs; d; d = d->as_next)
			as_dirty_note_attach(c, d);
	return 0;
}

/*
 * Remove [start, last] from the set (page-aligned bounds). The set is
 * sorted and disjoint: at most one range overlaps the cleared one from
 * before (it is cut, or split when the cleared one is inside it), the
 * ranges wholly inside go in one move, and at most one overlaps from
 * after (it is cut). Linear in the set's size whatever is cleared: a
 * user who scattered the set into its 65,536 ranges cannot make one
 * clear quadratic.
 */
static void dirty_clear(struct ioasid_as *as, u64 start, u64 last)
{
	u32 i = dirty_find(as, start), j;

	while (i < as->ndirty && as->dirty[i].last < start)
		i++;
	if (i == as->ndirty || as->dirty[i].start > last)
		return;
	if (as->dirty[i].start < start) {
		if (as->dirty[i].last > last) {
			/* The cleared range is inside: split in two. */
			if (as->ndirty == as->dirty_cap && !dirty_grow(as)) {
				/* Cannot split: leave it dirty, never lose. */
				return;
			}
			memmove(&as->dirty[i + 1], &as->dirty[i],
				(as->ndirty - i) * sizeof(as->dirty[0]));
			as->ndirty++;
			as->dirty[i].last = start - 1;
			as->dirty[i + 1].start = last + 1;
			return;
		}
		as->dirty[i].last = start - 1;
		i++;
	}
	for (j = i; j < as->ndirty && as->dirty[j].last <= last; j++)
		;
	if (j > i) {
		memmove(&as->dirty[i], &as->dirty[j],
			(as->ndirty - j) * sizeof(as->dirty[0]));
		as->ndirty -= j - i;
	}
	if (i < as->ndirty && as->dirty[i].start <= last)
		as->dirty[i].start = last + 1;
}

static void set_bits(u64 *words, u64 first, u64 last, u64 base_page)
{
	u64 b;

	for (b = first; b <= last; b++) {
		u64 rel = b - base_page;

		words[rel / 64] |= 1ULL << (rel % 64);
	}
}

/* Mark pages of [start, last] that fall in this chunk's pages. */
static void chunk_mark(u64 *words, u64 cfirst, u64 clast, u32 shift,
		       u64 start, u64 last)
{
	u64 pfirst = start >> shift, plast = last >> shift;

	if (plast < cfirst || pfirst > clast)
		return;
	set_bits(words, pfirst > cfirst ? pfirst : cfirst,
		 plast < clast ? plast : clast, cfirst);
}

static u64 popcount64(u64 x)
{
	u64 n = 0;

	while (x) {
		x &= x - 1;
		n++;
	}
	return n;
}

int as_dirty_read(struct ioasid_as *as, struct ioasid_dirty_read *r,
		  struct ioasid_diag *diag)
{
	u64 words[DIRTY_CHUNK / sizeof(u64)];
	u64 pg, last, pages, first_page, done, count = 0;
	bool all;
	struct ioasid_dev *d;
	u32 shift_min = 0, i, from = 0;
	int rc;

	if (r->flags & ~IOASID_DIRTY_NO_CLEAR)
		return diag_set(diag, -EINVAL, IOASID_RULE_FLAGS, r->flags, 0);
	if (!as->ndevs)
		return diag_set(diag, -ENODEV, IOASID_RULE_NOT_ATTACHED,
				as->obj.id, 0);
	if (!as->dirty_on)
		return diag_set(diag, -EINVAL, IOASID_RULE_DIRTY_OFF,
				as->obj.id, 0);
	for (pg = as_min_page(as); pg > 1; pg >>= 1)
		shift_min++;
	if (r->pgshift < shift_min || r->pgshift > 30)
		return diag_set(diag, -EINVAL, IOASID_RULE_DIRTY_PGSHIFT,
				r->pgshift, shift_min);
	pg = 1ULL << r->pgshift;
	if (!r->length)
		return diag_set(diag, -EINVAL, IOASID_RULE_LENGTH_ZERO, 0, 0);
	if (r->iova & (pg - 1))
		return diag_set(diag, -EINVAL, IOASID_RULE_ALIGN_IOVA, r->iova,
				pg);
	if (r->length & (pg - 1))
		return diag_set(diag, -EINVAL, IOASID_RULE_ALIGN_LENGTH,
				r->length, pg);
	last = r->iova + r->length - 1;
	if (last < r->iova)
		return diag_set(diag, -EINVAL, IOASID_RULE_WRAP_IOVA, r->iova,
				r->length);
	pages = r->length >> r->pgshift;
	if (pages > IOASID_DIRTY_MAX_BITS)
		return diag_set(diag, -EINVAL, IOASID_RULE_DIRTY_BITS, pages,
				IOASID_DIRTY_MAX_BITS);

	all = as->dirty_all;
	for (d = as->devs; d && !all; d = d->as_next)
		all = d->untracked_dma;
	first_page = r->iova >> r->pgshift;
	for (done = 0; done < pages; done += DIRTY_CHUNK * 8) {
		u64 n = pages - done < DIRTY_CHUNK * 8 ? pages - done :
							 DIRTY_CHUNK * 8;
		u64 cfirst = first_page + done, clast = cfirst + n - 1;
		u64 cstart = cfirst << r->pgshift;
		u64 clast_b = ((clast + 1) << r->pgshift) - 1;
		u32 nwords = (u32)((n + 63) / 64);

		memset(words, 0, sizeof(words));
		/*
		 * The set is sorted and disjoint: ranges that end before this
		 * chunk end before every later one too, so each chunk starts
		 * where the previous one stopped, and stops at the first range
		 * past it.
		 */
		while (from < as->ndirty &&
		       (as->dirty[from].last >> r->pgshift) < cfirst)
			from++;
		for (i = from; i < as->ndirty &&
		     (as->dirty[i].start >> r->pgshift) <= clast; i++)
			chunk_mark(words, cfirst, clast, r->pgshift,
				   as->dirty[i].start, as->dirty[i].last);
		if (all) {
			struct ioasid_mapping *m = it_find_le(as->root, cstart);

			if (!m || m->last < cstart)
				m = it_first_ge(as->root, cstart);
			for (; m && m->iova <= clast_b;
			     m = m->last == IOH_U64_MAX ? NULL :
				 it_first_ge(as->root, m->last + 1))
				if (m->prot & IOASID_DMA_WRITE)
					chunk_mark(words, cfirst, clast,
						   r->pgshift, m->iova,
						   m->last);
		}
		for (i = 0; i < nwords; i++)
			count += popcount64(words[i]);
		rc = ioc_copy_to_user(as->ctx, r->bitmap_uptr + done / 8,
				      words, nwords * sizeof(u64));
		if (rc)
			return diag_set(diag, -EFAULT, IOASID_RULE_BAD_POINTER,
					r->bitmap_uptr, 0);
		ioh_resched();
	}
	if (!(r->flags & IOASID_DIRTY_NO_CLEAR))
		dirty_clear(as, r->iova, last);
	r->out_dirty_pages = count;
	return 0;
}

/* Hosts with a bitmap layout of their own (the VFIO shim's type1). */
int ioasid_as_dirty_set(struct ioasid_as *as, bool start, bool forget)
{
	int rc = as_dirty_tracking(as, start ? IOASID_DIRTY_START :
					       IOASID_DIRTY_STOP, NULL);

	if (!rc && start)
		as->dirty_forget = forget;
	return rc;
}

bool ioasid_as_dirty_on(const struct ioasid_as *as)
{
	return as->dirty_on;
}

void ioasid_as_dirty_mark(struct ioasid_as *as, u64 start, u64 last)
{
	as_dirty_mark(as, start, last);
}

void ioasid_as_dirty_clear(struct ioasid_as *as, u64 start, u64 last)
{
	u64 pg = as_min_page(as);

	if (as->dirty_on && !as->dirty_all)
		dirty_clear(as, start & ~(pg - 1), last | (pg - 1));
}

void ioasid_as_dirty_bits(struct ioasid_as *as, u64 iova, u64 npages,
			  u32 pgshift, u64 *words, u64 bit0)
{
	u64 last = iova + (npages << pgshift) - 1, s, l;
	u32 i;

	if (!as->dirty_on || !npages)
		return;
	if (as->dirty_all) {
		set_bits(words, bit0, bit0 + npages - 1, 0);
		return;
	}
	for (i = dirty_find(as, iova);
	     i < as->ndirty && as->dirty[i].start <= last; i++) {
		if (as->dirty[i].last < iova)
			continue;
		s = as->dirty[i].start > iova ? as->dirty[i].start : iova;
		l = as->dirty[i].last < last ? as->dirty[i].last : last;
		set_bits(words, bit0 + ((s - iova) >> pgshift),
			 bit0 + ((l - iova) >> pgshift), 0);
	}
}

int as_dirty_verify(const struct ioasid_as *as)
{
	u64 pg = as->has_attrs ? as_min_page(as) : 1;
	u32 i;

	if (!as->dirty_on && (as->ndirty || as->dirty_all))
		return -EIO;
	if (as->ndirty > as->dirty_cap)
		return -EIO;
	for (i = 0; i < as->ndirty; i++) {
		const struct ioasid_range *r = &as->dirty[i];

		if (r->start > r->last || (r->start & (pg - 1)) ||
		    ((r->last + 1) & (pg - 1)))
			return -EIO;
		if (i && as->dirty[i - 1].last + 1 >= r->start)
			return -EIO;
	}
	return 0;
}
