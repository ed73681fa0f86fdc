/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/*
 * Private to core/: the walker of the x86-64 4- and 5-level paging format
 * (VT-d's first stage), for nested ioasids (nest.c) and its tests. It
 * knows nothing of ioasids: table pages come through a reader.
 */
#ifndef IOASID_PGTABLE_X86_H
#define IOASID_PGTABLE_X86_H

#include "ioasid_host.h"

/* A bound table: IOASID_PGTBL_BIND's fields, checked. */
struct x86pt {
	u64 root;			/* table address (an output address) */
	u32 levels;			/* 4 or 5 */
	u32 flags;			/* X86PT_F_* */
};

#define X86PT_F_WPE		(1U << 0)	/* supervisor writes honour R/W */
#define X86PT_F_SUPERVISOR	(1U << 1)	/* requests are supervisor's */

/*
 * Entry @index (0..511) of the table page at @table (4 KiB aligned) in
 * *pte; false if that page cannot be read (outside the parent): then all
 * its entries are absent.
 */
struct x86pt_reader {
	bool (*read)(void *arg, u64 table, u32 index, u64 *pte);
	void *arg;
};

/* One leaf: [iova, iova + (1 << shift)) translates to [out, ...). */
struct x86pt_leaf {
	u64 iova;			/* aligned to 1 << shift */
	u64 out;
	u32 prot;			/* IOASID_DMA_READ, IOASID_DMA_WRITE */
	u32 shift;			/* 12, 21 or 30 */
};

#define X86PT_P		(1ULL << 0)
#define X86PT_RW	(1ULL << 1)
#define X86PT_US	(1ULL << 2)
#define X86PT_A		(1ULL << 5)
#define X86PT_D		(1ULL << 6)
#define X86PT_PS	(1ULL << 7)
#define X86PT_XD	(1ULL << 63)
#define X86PT_ADDR	0x000ffffffffff000ULL	/* bits 51:12 */

/* The last input address that can translate (the lower canonical half). */
static inline u64 x86pt_input_last(const struct x86pt *pt)
{
	return (1ULL << (12 + 9 * pt->levels - 1)) - 1;
}

typedef int (*x86pt_emit_t)(void *arg, const struct x86pt_leaf *leaf);

/*
 * Every leaf that intersects [start, last], in ascending order, whole
 * (it may begin before @start or end after @last). Each table entry read
 * costs one unit of *@budget; at 0 the walk stops with -ENOSPC. A non-zero
 * return of @emit stops the walk and is returned. Malformed entries
 * (reserved bits, PS at levels 4 and 5) and unreadable tables are absent.
 */
int x86pt_walk(const struct x86pt *pt, const struct x86pt_reader *r,
	       u64 start, u64 last, u64 *budget, x86pt_emit_t emit,
	       void *arg);

/* The leaf holding @iova, walked from the root; 0 or -ENOENT. */
int x86pt_translate(const struct x86pt *pt, const struct x86pt_reader *r,
		    u64 iova, struct x86pt_leaf *out);

#endif /* IOASID_PGTABLE_X86_H */
