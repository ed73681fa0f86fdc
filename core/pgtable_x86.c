// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/*
 * The x86-64 paging format as VT-d's first stage uses it, walked in
 * software for nested ioasids (nest.c is the only engine user).
 *
 * Levels are numbered from the leaf: level 1 holds 4 KiB PTEs, level 2
 * PDEs (PS: a 2 MiB leaf), level 3 PDPTEs (PS: a 1 GiB leaf), level 4 the
 * PML4 and level 5 the PML5. An entry at level L covers 1 << (12 + 9 *
 * (L - 1)) bytes of input. Only the lower canonical half of the input
 * space is walked: the top level's entries 256-511 are never read.
 *
 * Permissions accumulate down the walk: a user request (the default)
 * needs U/S at every level and a write needs R/W at every level; a
 * supervisor request (X86PT_F_SUPERVISOR) ignores U/S and needs R/W
 * for writes only with X86PT_F_WPE. Reads need only P. A, D, XD,
 * PWT, PCD, G, PAT and the ignored bits change nothing; the walker never
 * writes the table.
 *
 * Malformed entries are absent, never an error: PS at levels 4 and 5,
 * non-zero bits 20:13 of a 2 MiB leaf or 29:13 of a 1 GiB leaf. A table
 * the reader cannot read (outside the parent) is absent as a whole. The
 * walk has a fixed depth, so a table that points back at itself (a loop)
 * terminates; what bounds its work is the budget: one unit per entry read,
 * so that a table whose every entry points at the same page (512^levels
 * leaves from one page) costs what the caller allowed and no more.
 */
#include <linux/ioasid.h>

#include "pgtable_x86.h"

struct walk {
	const struct x86pt *pt;
	const struct x86pt_reader *r;
	u64 *budget;
	x86pt_emit_t emit;
	void *arg;
	bool user;
	bool wp;			/* writes honour R/W */
};

static u32 level_shift(u32 level)
{
	return 12 + 9 * (level - 1);
}

/* Reserved low bits of a leaf's address field, by level. */
static u64 leaf_reserved(u32 level)
{
	if (level == 2)
		return 0x1fe000ULL;		/* 20:13 */
	if (level == 3)
		return 0x3fffe000ULL;		/* 29:13 */
	return 0;
}

/*
 * Decode @pte at @level; false if it grants nothing (absent, malformed,
 * or no permission). *leaf tells whether it maps or points to a table.
 */
static bool decode(const struct walk *w, u32 level, u64 pte, bool *write,
		   bool *leaf)
{
	if (!(pte & X86PT_P))
		return false;
	if (w->user && !(pte & X86PT_US))
		return false;
	if (w->wp && !(pte & X86PT_RW))
		*write = false;
	*leaf = level == 1 || ((pte & X86PT_PS) && level <= 3);
	if ((pte & X86PT_PS) && level > 3)
		return false;
	if (*leaf && (pte & leaf_reserved(level)))
		return false;
	return true;
}

static u64 leaf_out(u32 level, u64 pte)
{
	return pte & X86PT_ADDR & ~((1ULL << level_shift(level)) - 1);
}

static int walk_table(struct walk *w, u64 table, u32 level, u64 base,
		      u64 start, u64 last, bool write)
{
	u32 shift = level_shift(level);
	u32 i = (u32)((start - base) >> shift);
	u32 end = (u32)((last - base) >> shift);
	int rc;

	for (; i <= end; i++) {
		u64 va = base + ((u64)i << shift), pte;
		bool wr = write, leaf;

		if (!*w->budget)
			return -ENOSPC;
		if (!(--*w->budget & 511))
			ioh_resched();
		if (!w->r->read(w->r->arg, table, i, &pte))
			return 0;
		if (!decode(w, level, pte, &wr, &leaf))
			continue;
		if (leaf) {
			struct x86pt_leaf l = {
				.iova = va,
				.out = leaf_out(level, pte),
				.prot = IOASID_DMA_READ |
					(wr ? IOASID_DMA_WRITE : 0),
				.shift = shift,
			};

			rc = w->emit(w->arg, &l);
		} else {
			u64 lo = start > va ? start : va;
			u64 hi = va + ((1ULL << shift) - 1);

			rc = walk_table(w, pte & X86PT_ADDR, level - 1, va, lo,
					last < hi ? last : hi, wr);
		}
		if (rc)
			return rc;
	}
	return 0;
}

static void walk_init(struct walk *w, const struct x86pt *pt,
		      const struct x86pt_reader *r)
{
	w->pt = pt;
	w->r = r;
	w->user = !(pt->flags & X86PT_F_SUPERVISOR);
	w->wp = w->user || (pt->flags & X86PT_F_WPE);
}

int x86pt_walk(const struct x86pt *pt, const struct x86pt_reader *r,
	       u64 start, u64 last, u64 *budget, x86pt_emit_t emit, void *arg)
{
	struct walk w = { .budget = budget, .emit = emit, .arg = arg };
	u64 top = x86pt_input_last(pt);

	walk_init(&w, pt, r);
	if (start > last || start > top)
		return 0;
	if (last > top)
		last = top;
	return walk_table(&w, pt->root, pt->levels, 0, start, last, true);
}

int x86pt_translate(const struct x86pt *pt, const struct x86pt_reader *r,
		    u64 iova, struct x86pt_leaf *out)
{
	struct walk w;
	u64 table = pt->root, pte;
	bool write = true, leaf;
	u32 level;

	walk_init(&w, pt, r);
	if (iova > x86pt_input_last(pt))
		return -ENOENT;
	for (level = pt->levels; level; level--) {
		u32 shift = level_shift(level);

		if (!r->read(r->arg, table, (u32)(iova >> shift) & 511, &pte) ||
		    !decode(&w, level, pte, &write, &leaf))
			return -ENOENT;
		if (leaf) {
			out->iova = iova & ~((1ULL << shift) - 1);
			out->out = leaf_out(level, pte);
			out->prot = IOASID_DMA_READ |
				    (write ? IOASID_DMA_WRITE : 0);
			out->shift = shift;
			return 0;
		}
		table = pte & X86PT_ADDR;
	}
	return -ENOENT;
}
