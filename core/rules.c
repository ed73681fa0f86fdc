// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/*
 * The rules that need no state: argument checks of map and unmap, attach
 * compatibility, a device's declared attributes, the usable ranges of an
 * attribute set, and the page sizes an IOMMU picks for a range.
 *
 * They are pure so that two callers share them: the engine, before it
 * touches a tree, and the userspace library, which runs them on the
 * attributes an ioasid reports to say which rule a kernel errno came from.
 *
 * Each failing check names its rule (enum ioasid_rule) in the diag; the
 * table at the bottom gives every rule its field and a sentence.
 */
#include "core_priv.h"

static bool is_aligned(u64 v, u64 align)
{
	return (v & (align - 1)) == 0;
}

/* Does [start, last] intersect any reserved region? Returns it or NULL. */
static const struct ioasid_range *resv_hit(const struct ioasid_attrs *a,
					   u64 start, u64 last)
{
	u32 i;

	for (i = 0; i < a->num_resv; i++)
		if (start <= a->resv[i].last && a->resv[i].start <= last)
			return &a->resv[i];
	return NULL;
}

int ioasid_check_map(const struct ioasid_attrs *a, u32 flags, u32 max_pgshift,
		     u64 iova, u64 vaddr, u64 length, struct ioasid_diag *d)
{
	u64 pg = attrs_min_pgsize(a);
	const struct ioasid_range *r;

	if (flags & ~IOASID_PROT_MASK)
		return diag_set(d, -EINVAL, IOASID_RULE_FLAGS, flags,
				IOASID_PROT_MASK);
	if (!(flags & IOASID_PROT_MASK))
		return diag_set(d, -EINVAL, IOASID_RULE_NO_PROT, flags, 0);
	if (max_pgshift && (max_pgshift > 63 || (1ULL << max_pgshift) < pg))
		return diag_set(d, -EINVAL, IOASID_RULE_MAX_PGSHIFT,
				max_pgshift, pg);
	if (!length)
		return diag_set(d, -EINVAL, IOASID_RULE_LENGTH_ZERO, 0, 0);
	if (!is_aligned(iova, pg))
		return diag_set(d, -EINVAL, IOASID_RULE_ALIGN_IOVA, iova, pg);
	if (!is_aligned(vaddr, pg))
		return diag_set(d, -EINVAL, IOASID_RULE_ALIGN_VADDR, vaddr, pg);
	if (!is_aligned(length, pg))
		return diag_set(d, -EINVAL, IOASID_RULE_ALIGN_LENGTH, length,
				pg);
	if (iova + length - 1 < iova)
		return diag_set(d, -EINVAL, IOASID_RULE_WRAP_IOVA, iova, length);
	if (vaddr + length - 1 < vaddr)
		return diag_set(d, -EINVAL, IOASID_RULE_WRAP_VADDR, vaddr,
				length);
	if (iova < a->aperture_start)
		return diag_set(d, -EINVAL, IOASID_RULE_APERTURE, iova,
				a->aperture_start);
	if (iova + length - 1 > a->aperture_last)
		return diag_set(d, -EINVAL, IOASID_RULE_APERTURE,
				iova + length - 1, a->aperture_last);
	r = resv_hit(a, iova, iova + length - 1);
	if (r)
		return diag_set(d, -EINVAL, IOASID_RULE_RESV_OVERLAP, iova,
				r->start);
	return 0;
}

int ioasid_check_unmap(const struct ioasid_attrs *a, u32 flags, u64 iova,
		       u64 length, struct ioasid_diag *d)
{
	u64 pg = attrs_min_pgsize(a);

	if (flags & ~IOASID_UNMAP_ALL)
		return diag_set(d, -EINVAL, IOASID_RULE_FLAGS, flags,
				IOASID_UNMAP_ALL);
	if (flags & IOASID_UNMAP_ALL) {
		if (iova || length)
			return diag_set(d, -EINVAL, IOASID_RULE_UNMAP_ALL_ARGS,
					iova ? iova : length, 0);
		return 0;
	}
	if (!length)
		return diag_set(d, -EINVAL, IOASID_RULE_LENGTH_ZERO, 0, 0);
	if (!is_aligned(iova, pg))
		return diag_set(d, -EINVAL, IOASID_RULE_ALIGN_IOVA, iova, pg);
	if (!is_aligned(length, pg))
		return diag_set(d, -EINVAL, IOASID_RULE_ALIGN_LENGTH, length,
				pg);
	if (iova + length - 1 < iova)
		return diag_set(d, -EINVAL, IOASID_RULE_WRAP_IOVA, iova, length);
	return 0;
}

/* Is [start, last] covered by the union of the (ascending) ranges? */
static bool covered_by(const struct ioasid_range *r, u32 n, u64 start,
		       u64 last)
{
	u32 i;

	for (i = 0; i < n; i++) {
		if (r[i].last < start)
			continue;
		if (r[i].start > start)
			return false;
		if (r[i].last >= last)
			return true;
		start = r[i].last + 1;
	}
	return false;
}

int ioasid_check_compat(const struct ioasid_attrs *as,
			const struct ioasid_attrs *dev, struct ioasid_diag *d)
{
	u32 i;

	if ((as->pgsize_bitmap & dev->pgsize_bitmap) != as->pgsize_bitmap)
		return diag_set(d, -EINVAL, IOASID_RULE_COMPAT_PGSIZE,
				dev->pgsize_bitmap, as->pgsize_bitmap);
	if (dev->aperture_start > as->aperture_start)
		return diag_set(d, -EINVAL, IOASID_RULE_COMPAT_APERTURE,
				dev->aperture_start, as->aperture_start);
	if (dev->aperture_last < as->aperture_last)
		return diag_set(d, -EINVAL, IOASID_RULE_COMPAT_APERTURE,
				dev->aperture_last, as->aperture_last);
	for (i = 0; i < dev->num_resv; i++)
		if (!covered_by(as->resv, as->num_resv, dev->resv[i].start,
				dev->resv[i].last))
			return diag_set(d, -EINVAL, IOASID_RULE_COMPAT_RESV,
					dev->resv[i].start, dev->resv[i].last);
	if ((as->flags & IOASID_ATTR_COHERENT) &&
	    !(dev->flags & IOASID_ATTR_COHERENT))
		return diag_set(d, -EINVAL, IOASID_RULE_COMPAT_COHERENT, 0, 1);
	return 0;
}

int ioasid_check_dev_attrs(const struct ioasid_attrs *a, struct ioasid_diag *d)
{
	u32 i;

	if (!a->pgsize_bitmap || attrs_min_pgsize(a) < 4096)
		return diag_set(d, -EINVAL, IOASID_RULE_SWDEV_PGSIZE,
				a->pgsize_bitmap, 4096);
	if (a->aperture_last < a->aperture_start ||
	    !is_aligned(a->aperture_start, attrs_min_pgsize(a)) ||
	    !is_aligned(a->aperture_last + 1, attrs_min_pgsize(a)))
		return diag_set(d, -EINVAL, IOASID_RULE_SWDEV_APERTURE,
				a->aperture_start, a->aperture_last);
	if (a->num_resv > IOASID_SWDEV_MAX_RESV)
		return diag_set(d, -EINVAL, IOASID_RULE_SWDEV_RESV,
				a->num_resv, IOASID_SWDEV_MAX_RESV);
	for (i = 0; i < a->num_resv; i++) {
		const struct ioasid_range *r = &a->resv[i];

		if (r->last < r->start || r->start < a->aperture_start ||
		    r->last > a->aperture_last ||
		    (i && r->start <= a->resv[i - 1].last))
			return diag_set(d, -EINVAL, IOASID_RULE_SWDEV_RESV,
					r->start, r->last);
	}
	return 0;
}

u32 ioasid_attrs_ranges(const struct ioasid_attrs *a, struct ioasid_range *out,
			u32 max)
{
	u64 next = a->aperture_start;
	bool done = false;
	u32 n = 0, i;

	for (i = 0; i < a->num_resv && !done; i++) {
		const struct ioasid_range *r = &a->resv[i];

		if (r->start > next) {
			if (n < max) {
				out[n].start = next;
				out[n].last = r->start - 1;
			}
			n++;
		}
		if (r->last >= a->aperture_last)
			done = true;
		else
			next = r->last + 1;
	}
	if (!done) {
		if (n < max) {
			out[n].start = next;
			out[n].last = a->aperture_last;
		}
		n++;
	}
	return n;
}

/*
 * An IOMMU maps a range with the largest page that the bitmap offers, that
 * both addresses are aligned to, and that fits what is left. Pages of one
 * size come in runs, so this walks runs, not pages: a run of size s ends
 * where the next larger size becomes aligned or too little is left.
 */
u64 ioasid_pgsizes_used(u64 bitmap, u32 max_pgshift, u64 iova, u64 out_addr,
			u64 len, u64 clip_start, u64 clip_last)
{
	u64 used = 0;

	if (max_pgshift && max_pgshift < 64)
		bitmap &= (2ULL << max_pgshift) - 1;
	if (!bitmap)
		return 0;
	while (len) {
		u64 align = iova | out_addr, cand, s = 0, n, run;

		cand = bitmap;
		while (cand) {
			u64 b = cand & (~cand + 1);

			cand &= cand - 1;
			if (b <= len && !(align & (b - 1)))
				s = b;
		}
		if (!s)
			return used;	/* cannot happen for aligned input */
		n = len / s;
		cand = bitmap & ~((s << 1) - 1);	/* larger sizes */
		if (cand) {
			u64 big = cand & (~cand + 1);
			u64 to_big = (big - (iova & (big - 1))) & (big - 1);

			/* Both addresses must reach alignment together. */
			if (to_big && ((out_addr + to_big) & (big - 1)) == 0 &&
			    to_big / s < n)
				n = to_big / s;
		}
		run = n * s;
		if (iova <= clip_last && clip_start <= iova + run - 1)
			used |= s;
		iova += run;
		out_addr += run;
		len -= run;
	}
	return used;
}

struct rule_desc {
	const char *field;
	const char *text;
};

/*
 * Sentences use %v and %l for the value and the limit in hex, %u and %U for
 * them in decimal (ids, counts). Keep each one a plain statement of the
 * rule that failed.
 */
static const struct rule_desc rules[IOASID_RULE_COUNT] = {
	[IOASID_RULE_NONE] = { "", "no error" },
	[IOASID_RULE_UNKNOWN_CMD] = { "cmd", "unknown command" },
	[IOASID_RULE_SIZE_SMALL] = { "size",
		"size %u is smaller than the first version of the struct (%U bytes)" },
	[IOASID_RULE_SIZE_TAIL] = { "size",
		"size %u is larger than this build knows (%U bytes) and the extra bytes are not zero" },
	[IOASID_RULE_FLAGS] = { "flags",
		"flags %v has bits this call does not accept (allowed: %l)" },
	[IOASID_RULE_RESERVED] = { "__reserved",
		"reserved field is %v; it must be zero" },
	[IOASID_RULE_NO_IOASID] = { "ioasid", "no ioasid %u in this fd" },
	[IOASID_RULE_NO_DEVICE_ID] = { "dev_id", "no device %u in this fd" },
	[IOASID_RULE_NOT_ATTACHED] = { "ioasid",
		"ioasid %u has no device attached; only attach, info, list and free are allowed before the first attach" },
	[IOASID_RULE_GROUP_INCOMPLETE] = { "ioasid",
		"IOMMU group %u is only partly attached to this ioasid (%U devices in the group); map and unmap wait until every device of the group is attached" },
	[IOASID_RULE_FREE_BUSY] = { "ioasid",
		"ioasid %u still has %U device(s) attached; detach them before freeing" },
	[IOASID_RULE_ALREADY_ATTACHED] = { "dev_id",
		"device %u is already attached to ioasid %U" },
	[IOASID_RULE_DEV_NOT_ATTACHED] = { "dev_id",
		"device %u is not attached" },
	[IOASID_RULE_COMPAT_PGSIZE] = { "pgsize_bitmap",
		"device page sizes %v lack some of the ioasid's page sizes %l" },
	[IOASID_RULE_COMPAT_APERTURE] = { "aperture",
		"device aperture bound %v does not cover the ioasid's aperture bound %l" },
	[IOASID_RULE_COMPAT_RESV] = { "reserved",
		"device reserved region %v-%l is not reserved in the ioasid" },
	[IOASID_RULE_COMPAT_COHERENT] = { "flags",
		"device is not cache coherent but the ioasid is" },
	[IOASID_RULE_NO_PROT] = { "flags",
		"flags %v grant neither READ nor WRITE; at least one is needed" },
	[IOASID_RULE_LENGTH_ZERO] = { "length", "length is 0; it must be > 0" },
	[IOASID_RULE_ALIGN_IOVA] = { "iova",
		"iova %v is not aligned to the smallest page size %l" },
	[IOASID_RULE_ALIGN_VADDR] = { "vaddr",
		"vaddr %v is not aligned to the smallest page size %l" },
	[IOASID_RULE_ALIGN_LENGTH] = { "length",
		"length %v is not a multiple of the smallest page size %l" },
	[IOASID_RULE_WRAP_IOVA] = { "iova",
		"iova %v + length %l wraps past the end of the address space" },
	[IOASID_RULE_WRAP_VADDR] = { "vaddr",
		"vaddr %v + length %l wraps past the end of the address space" },
	[IOASID_RULE_APERTURE] = { "iova",
		"IOVA %v lies outside the aperture (bound %l)" },
	[IOASID_RULE_RESV_OVERLAP] = { "iova",
		"range at %v overlaps the reserved region starting at %l" },
	[IOASID_RULE_MAX_PGSHIFT] = { "max_pgshift",
		"max_pgshift %u allows no page size: the smallest is %l" },
	[IOASID_RULE_OVERLAP] = { "iova",
		"range at %v overlaps the existing mapping at %l" },
	[IOASID_RULE_MAP_LIMIT] = { "ioasid",
		"the ioasid already holds %u mappings, its limit is %U" },
	[IOASID_RULE_MEMLOCK] = { "vaddr",
		"pinning %v more bytes would pass the locked-memory limit (RLIMIT_MEMLOCK); the fd has %l bytes pinned" },
	[IOASID_RULE_VADDR_FAULT] = { "vaddr",
		"vaddr range at %v is not mapped in the caller" },
	[IOASID_RULE_NOMEM] = { "", "out of memory" },
	[IOASID_RULE_UNMAP_CUT_START] = { "iova",
		"unmap range starting at %v cuts the mapping at %l; type1v2 removes whole mappings only" },
	[IOASID_RULE_UNMAP_CUT_END] = { "length",
		"unmap range ending at %v cuts the mapping ending at %l; type1v2 removes whole mappings only" },
	[IOASID_RULE_UNMAP_ALL_ARGS] = { "iova",
		"IOASID_UNMAP_ALL needs iova = length = 0, got %v" },
	[IOASID_RULE_BATCH_COUNT] = { "count",
		"count %u must be 1 to %U" },
	[IOASID_RULE_BATCH_ENTRY_SIZE] = { "entry_size",
		"entry_size %u does not match struct ioasid_dma_entry (%U bytes)" },
	[IOASID_RULE_RANGES_SHORT] = { "num_ranges",
		"ranges array holds %u entries, %U are needed" },
	[IOASID_RULE_ID_SPACE] = { "", "the fd holds %u objects, its limit is %U" },
	[IOASID_RULE_BAD_POINTER] = { "uptr",
		"user pointer %v cannot be read or written" },
	[IOASID_RULE_LISTENER] = { "",
		"a device could not install the mappings (errno %u)" },
	[IOASID_RULE_SWDEV_PGSIZE] = { "pgsize_bitmap",
		"page size bitmap %v must be non-zero with a smallest size of at least %l" },
	[IOASID_RULE_SWDEV_APERTURE] = { "aperture",
		"aperture %v-%l must be ascending and aligned to the smallest page size" },
	[IOASID_RULE_SWDEV_RESV] = { "resv",
		"reserved region %v-%l must lie in the aperture, ascending, not overlapping (at most 8)" },
	[IOASID_RULE_SWDEV_GROUP] = { "group_size",
		"group_size %u must be 1 to 64 and the same for every device of the group (%U)" },
	[IOASID_RULE_NOT_SWDEV] = { "dev_id", "device %u is not a software device" },
	[IOASID_RULE_ACCESS_FLAGS] = { "flags",
		"flags %v must be exactly one of READ or WRITE" },
	[IOASID_RULE_ACCESS_LENGTH] = { "length",
		"length %u must be 1 to %U" },
	[IOASID_RULE_IO_PAGE_FAULT] = { "iova",
		"I/O page fault: IOVA %v is not mapped with the access the device needs" },
	[IOASID_RULE_DIRTY_FLAGS] = { "flags",
		"flags %v must be exactly one of IOASID_DIRTY_START and IOASID_DIRTY_STOP" },
	[IOASID_RULE_DIRTY_OFF] = { "ioasid",
		"dirty tracking is not started on ioasid %u (IOASID_DIRTY_TRACKING with IOASID_DIRTY_START)" },
	[IOASID_RULE_DIRTY_PGSHIFT] = { "pgshift",
		"pgshift %u must be between the ioasid's smallest page shift %U and 30" },
	[IOASID_RULE_DIRTY_BITS] = { "length",
		"the bitmap would have %u pages, more than the limit of %U" },
	[IOASID_RULE_NEST_FLAGS] = { "flags",
		"flags %v: at most one of IOASID_ALLOC_NEST_PARENT and IOASID_ALLOC_NESTED, and parent only with IOASID_ALLOC_NESTED" },
	[IOASID_RULE_NEST_NOT_PARENT] = { "parent",
		"ioasid %u was not allocated as a nesting parent (IOASID_ALLOC_NEST_PARENT)" },
	[IOASID_RULE_NEST_HAS_CHILDREN] = { "ioasid",
		"ioasid %u has %U nested ioasids; free them first" },
	[IOASID_RULE_NOT_NESTED] = { "ioasid",
		"ioasid %u is not nested (IOASID_ALLOC_NESTED): it has no page table to bind or invalidate" },
	[IOASID_RULE_NESTED_MAP] = { "ioasid",
		"ioasid %u is nested: its mappings come from a bound page table, never from map or unmap" },
	[IOASID_RULE_PGTBL_BOUND] = { "ioasid",
		"ioasid %u has a page table bound: its translations belong to the table (unbind first)" },
	[IOASID_RULE_PGTBL_NOT_BOUND] = { "ioasid",
		"ioasid %u has no page table bound" },
	[IOASID_RULE_PGTBL_FORMAT] = { "format",
		"page table format %u is not known (IOASID_PGTBL_X86_64)" },
	[IOASID_RULE_PGTBL_WIDTH] = { "addr_width",
		"address width %u must be 48 (4 levels) or 57 (5 levels)" },
	[IOASID_RULE_PGTBL_AD] = { "flags",
		"accessed/dirty update (IOASID_PGTBL_AD) is not supported: the software walker never writes the table" },
	[IOASID_RULE_PGTBL_ROOT] = { "root",
		"root %v must be 4 KiB aligned and inside a readable mapping of the parent ioasid" },
	[IOASID_RULE_INV_COUNT] = { "entry_num",
		"entry count %u must be between 1 and %U" },
	[IOASID_RULE_INV_ENTRY_SIZE] = { "entry_size",
		"entry size %u must be %U" },
	[IOASID_RULE_INV_RANGE] = { "addr",
		"invalidation at %v: addr must be 4 KiB aligned, npages > 0 and the range must not wrap (addr 0, npages ~0 for everything)" },
	[IOASID_RULE_INV_LIMIT] = { "npages",
		"the shadow of this range would pass the mapping-count limit of %U" },
	[IOASID_RULE_INV_WORK] = { "npages",
		"the walk read the limit of %U table entries in one call; invalidate the rest in another" },
	[IOASID_RULE_INV_BYTES] = { "npages",
		"the shadow at %v would cover more than %U bytes, twice what the parent ioasid maps" },
	[IOASID_RULE_FAULTQ_TIMEOUT] = { "timeout_ms",
		"timeout %u ms must be at most %U (0: the default)" },
	[IOASID_RULE_FAULTQ_DEPTH] = { "depth",
		"depth %u must be at most %U (0: the maximum)" },
	[IOASID_RULE_FAULTQ_MAX] = { "",
		"this fd already has %U fault queues open" },
	[IOASID_RULE_FAULTQ_FD] = { "fd",
		"fd %u is not a fault queue of this ioasid fd" },
	[IOASID_RULE_FAULTQ_BUSY] = { "ioasid",
		"ioasid %u already has a fault queue; detach it first" },
	[IOASID_RULE_FAULTQ_NONE] = { "ioasid",
		"ioasid %u has no fault queue (or fd must be -1 to detach)" },
	[IOASID_RULE_FAULTQ_FULL] = { "iova",
		"I/O page fault at %v: the fault queue is full (%U records unanswered)" },
	[IOASID_RULE_FAULTQ_INVALID] = { "iova",
		"I/O page fault at %v: the fault queue answered invalid, or the retry faulted again" },
	[IOASID_RULE_FAULTQ_TIMEDOUT] = { "iova",
		"I/O page fault at %v: no answer within the queue's timeout of %U ms" },
	[IOASID_RULE_FAULTQ_CLOSED] = { "iova",
		"I/O page fault at %v: the fault queue was closed before it answered" },
	[IOASID_RULE_FAULTQ_INTR] = { "iova",
		"I/O page fault at %v: the wait for the answer was interrupted" },
	[IOASID_RULE_FAULTQ_WAITING] = { "dev_id",
		"device %u has an access waiting for a fault response" },
};

const char *ioasid_rule_field(unsigned int rule)
{
	if (rule >= IOASID_RULE_COUNT || !rules[rule].text)
		return "";
	return rules[rule].field;
}

const char *ioasid_rule_text(unsigned int rule)
{
	if (rule >= IOASID_RULE_COUNT || !rules[rule].text)
		return "unknown rule";
	return rules[rule].text;
}

static const char *const cmd_names[IOASID_CMD_LAST - IOASID_CMD_BASE] = {
	[IOASID_CMD_GET_API_VERSION - IOASID_CMD_BASE] = "get-api-version",
	[IOASID_CMD_CHECK_EXTENSION - IOASID_CMD_BASE] = "check-extension",
	[IOASID_CMD_ALLOC - IOASID_CMD_BASE] = "alloc",
	[IOASID_CMD_FREE - IOASID_CMD_BASE] = "free",
	[IOASID_CMD_GET_INFO - IOASID_CMD_BASE] = "info",
	[IOASID_CMD_MAP_DMA - IOASID_CMD_BASE] = "map",
	[IOASID_CMD_UNMAP_DMA - IOASID_CMD_BASE] = "unmap",
	[IOASID_CMD_MAP_BATCH - IOASID_CMD_BASE] = "map-batch",
	[IOASID_CMD_UNMAP_BATCH - IOASID_CMD_BASE] = "unmap-batch",
	[IOASID_CMD_QUERY_PGSIZE - IOASID_CMD_BASE] = "query",
	[IOASID_CMD_LIST_MAPPINGS - IOASID_CMD_BASE] = "list",
	[IOASID_CMD_SWDEV_CREATE - IOASID_CMD_BASE] = "swdev-create",
	[IOASID_CMD_SWDEV_DESTROY - IOASID_CMD_BASE] = "swdev-destroy",
	[IOASID_CMD_DEVICE_ATTACH - IOASID_CMD_BASE] = "attach",
	[IOASID_CMD_DEVICE_DETACH - IOASID_CMD_BASE] = "detach",
	[IOASID_CMD_SWDEV_ACCESS - IOASID_CMD_BASE] = "access",
	[IOASID_CMD_SWDEV_STATS - IOASID_CMD_BASE] = "swdev-stats",
	[IOASID_CMD_DIRTY_TRACKING - IOASID_CMD_BASE] = "dirty-tracking",
	[IOASID_CMD_DIRTY_READ - IOASID_CMD_BASE] = "dirty-read",
	[IOASID_CMD_PGTBL_BIND - IOASID_CMD_BASE] = "pgtbl-bind",
	[IOASID_CMD_PGTBL_UNBIND - IOASID_CMD_BASE] = "pgtbl-unbind",
	[IOASID_CMD_INVALIDATE - IOASID_CMD_BASE] = "invalidate",
	[IOASID_CMD_FAULTQ_ALLOC - IOASID_CMD_BASE] = "faultq-alloc",
	[IOASID_CMD_FAULTQ_ATTACH - IOASID_CMD_BASE] = "faultq-attach",
};

const char *ioasid_cmd_name(unsigned int nr)
{
	if (nr < IOASID_CMD_BASE || nr >= IOASID_CMD_LAST)
		return "unknown";
	return cmd_names[nr - IOASID_CMD_BASE];
}
