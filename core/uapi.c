// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/*
 * The ioctl decoder, shared by the kernel module and the embedded backend,
 * so that both accept and refuse exactly the same bytes.
 *
 * Dispatch is a table indexed by command number: each row gives the
 * struct, the last field of its first version (the smallest size accepted
 * is the end of that field), the handler, whether the out_ fields are
 * copied back on failure (batches and info report why), the undo of a
 * result that could not be copied back, and whether in-kernel callers may
 * use the command. The decoder reads the caller's size, refuses a size
 * below the first version (EINVAL) or an unknown tail that is not zero
 * (E2BIG), copies the struct in (the size-first rule of sizefirst.h), runs
 * the handler under the context lock, and copies the struct back.
 *
 * Handlers check flags and reserved fields first and then call ctx.c,
 * map.c and swdev.c. Nothing here keeps state.
 */
#include "core_priv.h"
#include "sizefirst.h"

/* The kernel's, from <linux/stddef.h>; userspace has no such macro. */
#ifndef offsetofend
#define offsetofend(type, member) \
	(offsetof(type, member) + sizeof(((type *)0)->member))
#endif

/* Largest struct size accepted from a newer caller (its tail is checked). */
#define UCMD_MAX_SIZE		IOASID_UCMD_MAX_SIZE
/* Batch entries and list outputs are copied in chunks of this many. */
#define UCMD_CHUNK		16U
#define LIST_MAX		4096U

union ucmd_buffer {
	struct ioasid_alloc alloc;
	struct ioasid_free free;
	struct ioasid_info info;
	struct ioasid_map_dma map;
	struct ioasid_unmap_dma unmap;
	struct ioasid_batch batch;
	struct ioasid_query_pgsize query;
	struct ioasid_list_mappings list;
	struct ioasid_swdev_create swdev_create;
	struct ioasid_swdev_destroy swdev_destroy;
	struct ioasid_device_attach attach;
	struct ioasid_device_detach detach;
	struct ioasid_swdev_access access;
	struct ioasid_swdev_stats stats;
	struct ioasid_dirty_tracking dirty_tracking;
	struct ioasid_dirty_read dirty_read;
	struct ioasid_pgtbl_bind bind;
	struct ioasid_pgtbl_unbind unbind;
	struct ioasid_invalidate inv;
	struct ioasid_faultq_alloc faultq_alloc;
	struct ioasid_faultq_attach faultq_attach;
};

struct ucmd {
	struct ioasid_ctx *ctx;
	u64 uptr;
	void *cmd;
	struct ioasid_diag *diag;
};

/* When the struct is copied back to the caller. */
enum ucmd_out {
	OUT_NONE,		/* no out_ fields: never */
	OUT_OK,			/* on success */
	OUT_ALWAYS,		/* also on failure (batches report progress) */
};

/* Whether ioasid_ctx_call() (the VFIO shim, the vDPA adaptor) may run it. */
enum ucmd_kernel {
	USER_ONLY,		/* only through the fd */
	KERNEL_OK,		/* also for in-kernel callers */
};

struct ioctl_op {
	u32 size;		/* the current struct */
	u32 min_size;		/* its first version: offsetofend(last field) */
	enum ucmd_out out;
	enum ucmd_kernel kernel;
	long (*execute)(struct ucmd *u);
	/*
	 * Undo a successful execute() whose result could not be copied back:
	 * the caller never learnt the new object's id, so it must not exist
	 * (iommufd aborts such objects too). NULL: the command's effect
	 * stands and the caller gets -EFAULT, as VFIO type1 does for UNMAP.
	 */
	void (*abort)(struct ucmd *u);
	/*
	 * Publish what a successful execute() made, once its result has
	 * reached the caller (a new fd is installed only then). NULL: none.
	 */
	void (*commit)(struct ucmd *u);
};

static int copy_in(struct ioasid_ctx *ctx, void *dst, u64 uptr, size_t len,
		   struct ioasid_diag *diag)
{
	if (ioc_copy_from_user(ctx, dst, uptr, len))
		return diag_set(diag, -EFAULT, IOASID_RULE_BAD_POINTER, uptr,
				0);
	return 0;
}

static int copy_out(struct ioasid_ctx *ctx, u64 uptr, const void *src,
		    size_t len, struct ioasid_diag *diag)
{
	if (ioc_copy_to_user(ctx, uptr, src, len))
		return diag_set(diag, -EFAULT, IOASID_RULE_BAD_POINTER, uptr,
				0);
	return 0;
}

static int check_zero(u32 flags, u32 reserved, struct ioasid_diag *diag)
{
	if (flags)
		return diag_set(diag, -EINVAL, IOASID_RULE_FLAGS, flags, 0);
	if (reserved)
		return diag_set(diag, -EINVAL, IOASID_RULE_RESERVED, reserved,
				0);
	return 0;
}

static long do_alloc(struct ucmd *u)
{
	struct ioasid_alloc *c = u->cmd;

	return nest_alloc(u->ctx, c->flags, c->parent, &c->out_ioasid,
			  u->diag);
}

static void abort_alloc(struct ucmd *u)
{
	struct ioasid_alloc *c = u->cmd;

	ctx_free_as(u->ctx, c->out_ioasid, NULL);
}

static long do_free(struct ucmd *u)
{
	struct ioasid_free *c = u->cmd;
	int rc = check_zero(c->flags, c->__reserved, u->diag);

	return rc ? rc : ctx_free_as(u->ctx, c->ioasid, u->diag);
}

static long do_info(struct ucmd *u)
{
	struct ioasid_range ranges[IOASID_SWDEV_MAX_RESV + 1];
	struct ioasid_info *c = u->cmd;
	struct ioasid_as *as;
	u32 n = 0, i;
	int rc;

	rc = check_zero(c->flags, c->__reserved, u->diag);
	if (rc)
		return rc;
	as = ctx_get_as(u->ctx, c->ioasid, u->diag);
	if (!as)
		return -ENOENT;
	c->out_flags = 0;
	c->out_parent = 0;
	if (as->nest == NEST_PARENT)
		c->out_flags |= IOASID_INFO_NEST_PARENT;
	if (as->nest == NEST_CHILD) {
		struct ioasid_dev *d;
		bool hw = as->ndevs;

		c->out_flags |= IOASID_INFO_NESTED | IOASID_INFO_NESTED_SW;
		c->out_parent = as->parent->obj.id;
		for (d = as->devs; d; d = d->as_next)
			hw = hw && (d->attrs.flags & IOASID_ATTR_NEST_HW);
		if (hw)
			c->out_flags |= IOASID_INFO_NESTED_HW_CAPABLE;
	}
	if (as->bound)
		c->out_flags |= IOASID_INFO_PGTBL_BOUND;
	if (as->ndevs)
		c->out_flags |= IOASID_INFO_ATTACHED;
	if (as->viable && as->ndevs)
		c->out_flags |= IOASID_INFO_VIABLE;
	if (as->has_attrs) {
		c->out_flags |= IOASID_INFO_HAS_ATTRS;
		if (as->attrs.flags & IOASID_ATTR_COHERENT)
			c->out_flags |= IOASID_INFO_COHERENT;
		n = ioasid_attrs_ranges(&as->attrs, ranges,
					IOASID_SWDEV_MAX_RESV + 1);
	}
	c->out_num_devices = as->ndevs;
	c->out_pgsize_bitmap = as->has_attrs ? as->attrs.pgsize_bitmap : 0;
	c->out_max_mappings = u->ctx->cfg.max_mappings;
	c->out_num_mappings = as->nmaps;
	c->out_mapped_bytes = as->mapped_bytes;
	c->out_fd_pinned_pages = u->ctx->pinned_bytes / 4096;
	for (i = 0; i < n && i < c->num_ranges; i++) {
		struct ioasid_iova_range r = {
			.start = ranges[i].start,
			.last = ranges[i].last,
		};

		rc = copy_out(u->ctx, c->ranges_uptr + i * sizeof(r), &r,
			      sizeof(r), u->diag);
		if (rc)
			return rc;
	}
	if (c->num_ranges && c->num_ranges < n) {
		diag_set(u->diag, -EMSGSIZE, IOASID_RULE_RANGES_SHORT,
			 c->num_ranges, n);
		c->num_ranges = n;
		return -EMSGSIZE;
	}
	c->num_ranges = n;
	return 0;
}

struct one_src {
	struct ioasid_entry_src base;
	struct ioasid_dma_entry e;
};

static int one_get(struct ioasid_entry_src *s, u32 i, struct ioasid_dma_entry *e)
{
	*e = container_of(s, struct one_src, base)->e;
	return 0;
}

struct user_src {
	struct ioasid_entry_src base;
	struct ioasid_ctx *ctx;
	struct ioasid_diag *diag;
	u64 uptr;
	u32 first;
	u32 n;
	struct ioasid_dma_entry buf[UCMD_CHUNK];
};

static int user_get(struct ioasid_entry_src *s, u32 i, struct ioasid_dma_entry *e)
{
	struct user_src *u = container_of(s, struct user_src, base);

	if (i < u->first || i >= u->first + u->n) {
		u32 n = u->base.count - i;
		int rc;

		if (n > UCMD_CHUNK)
			n = UCMD_CHUNK;
		rc = copy_in(u->ctx, u->buf, u->uptr + (u64)i * sizeof(*e),
			     n * sizeof(*e), u->diag);
		if (rc)
			return rc;
		u->first = i;
		u->n = n;
	}
	*e = u->buf[i - u->first];
	return 0;
}

static struct ioasid_as *get_as(struct ucmd *u, u32 id)
{
	return ctx_get_as(u->ctx, id, u->diag);
}

static long do_map(struct ucmd *u)
{
	struct ioasid_map_dma *c = u->cmd;
	struct ioasid_batch_result res;
	struct one_src src = {
		.base = { .get = one_get, .count = 1 },
		.e = {
			.flags = c->flags,
			.max_pgshift = c->max_pgshift,
			.iova = c->iova,
			.vaddr = c->vaddr,
			.length = c->length,
		},
	};
	struct ioasid_as *as = get_as(u, c->ioasid);
	int rc;

	if (!as)
		return -ENOENT;
	rc = as_map_batch(as, &src.base, &res, u->diag);
	if (rc && u->diag)
		u->diag->index = IOH_U32_MAX;	/* one call, not a batch */
	return rc;
}

static long do_unmap(struct ucmd *u)
{
	struct ioasid_unmap_dma *c = u->cmd;
	struct ioasid_batch_result res;
	struct one_src src = {
		.base = { .get = one_get, .count = 1 },
		.e = { .iova = c->iova, .length = c->length },
	};
	struct ioasid_as *as;
	int rc;

	if (c->__reserved)
		return diag_set(u->diag, -EINVAL, IOASID_RULE_RESERVED,
				c->__reserved, 0);
	as = get_as(u, c->ioasid);
	if (!as)
		return -ENOENT;
	rc = as_unmap_batch(as, &src.base, c->flags, &res, u->diag);
	if (rc) {
		if (u->diag)
			u->diag->index = IOH_U32_MAX;
		return rc;
	}
	c->out_unmapped = res.bytes;
	return 0;
}

static long do_batch(struct ucmd *u, bool map)
{
	struct ioasid_batch *c = u->cmd;
	struct ioasid_batch_result res = { .fail_index = IOH_U32_MAX };
	struct user_src src = {
		.base = { .get = user_get, .count = c->count },
		.ctx = u->ctx,
		.diag = u->diag,
		.uptr = c->entries_uptr,
	};
	struct ioasid_as *as;
	int rc;

	rc = check_zero(c->flags, c->__reserved | c->__reserved2, u->diag);
	if (!rc && (!c->count || c->count > IOASID_BATCH_MAX))
		rc = diag_set(u->diag, -EINVAL, IOASID_RULE_BATCH_COUNT,
			      c->count, IOASID_BATCH_MAX);
	if (!rc && c->entry_size != sizeof(struct ioasid_dma_entry))
		rc = diag_set(u->diag, -EINVAL, IOASID_RULE_BATCH_ENTRY_SIZE,
			      c->entry_size, sizeof(struct ioasid_dma_entry));
	if (!rc) {
		as = get_as(u, c->ioasid);
		if (!as)
			rc = -ENOENT;
		else if (map)
			rc = as_map_batch(as, &src.base, &res, u->diag);
		else
			rc = as_unmap_batch(as, &src.base, 0, &res, u->diag);
	}
	if (rc && res.fail_index == IOH_U32_MAX)
		res.fail_errno = (u32)-rc;
	c->out_done = rc ? 0 : res.done;
	c->out_fail_index = rc ? res.fail_index : 0;
	c->out_fail_errno = rc ? res.fail_errno : 0;
	c->out_bytes = rc ? 0 : res.bytes;
	return rc;
}

static long do_map_batch(struct ucmd *u)
{
	return do_batch(u, true);
}

static long do_unmap_batch(struct ucmd *u)
{
	return do_batch(u, false);
}

static long do_query(struct ucmd *u)
{
	struct ioasid_query_pgsize *c = u->cmd;
	struct ioasid_as *as;
	int rc;

	rc = check_zero(c->flags, c->__reserved, u->diag);
	if (rc)
		return rc;
	as = get_as(u, c->ioasid);
	if (!as)
		return -ENOENT;
	if (!as->ndevs)
		return diag_set(u->diag, -ENODEV, IOASID_RULE_NOT_ATTACHED,
				c->ioasid, 0);
	rc = ioasid_check_unmap(&as->attrs, 0, c->iova, c->length, u->diag);
	if (rc)
		return rc;
	as_query(as, c->iova, c->iova + c->length - 1, &c->out_pgsize_bitmap,
		 &c->out_mapped_bytes);
	return 0;
}

static long do_list(struct ucmd *u)
{
	struct ioasid_list_mappings *c = u->cmd;
	struct ioasid_mapping *found[UCMD_CHUNK];
	u64 start = c->start_iova;
	struct ioasid_as *as;
	u32 written = 0;
	bool more = false;
	int rc;

	rc = check_zero(c->flags, c->__reserved, u->diag);
	if (rc)
		return rc;
	if (c->count > LIST_MAX)
		return diag_set(u->diag, -EINVAL, IOASID_RULE_BATCH_COUNT,
				c->count, LIST_MAX);
	as = get_as(u, c->ioasid);
	if (!as)
		return -ENOENT;
	while (written < c->count) {
		u32 want = c->count - written, n, i;

		if (want > UCMD_CHUNK)
			want = UCMD_CHUNK;
		n = as_list(as, start, found, want, &more);
		for (i = 0; i < n; i++) {
			struct ioasid_mapping *m = found[i];
			struct ioasid_mapping_info o = {
				.flags = m->prot,
				.max_pgshift = m->max_pgshift,
				.iova = m->iova,
				.vaddr = m->vaddr,
				.length = ioasid_mapping_length(m),
				.pgsize_bitmap = as_pgsizes_of(as, m, m->iova,
							       m->last),
			};

			rc = copy_out(u->ctx, c->mappings_uptr +
				      (u64)(written + i) * sizeof(o),
				      &o, sizeof(o), u->diag);
			if (rc)
				return rc;
		}
		written += n;
		if (!n || !more)
			break;
		start = found[n - 1]->last + 1;
	}
	if (written == c->count && !c->count)
		more = as->nmaps && it_first_ge(as->root, start);
	c->count = written;
	c->out_more = more;
	return 0;
}

static long do_swdev_create(struct ucmd *u)
{
	return swdev_create(u->ctx, u->cmd, u->diag);
}

static void abort_swdev_create(struct ucmd *u)
{
	struct ioasid_swdev_create *c = u->cmd;

	swdev_destroy(u->ctx, c->out_dev_id, NULL);
}

static long do_swdev_destroy(struct ucmd *u)
{
	struct ioasid_swdev_destroy *c = u->cmd;
	int rc = check_zero(c->flags, c->__reserved, u->diag);

	return rc ? rc : swdev_destroy(u->ctx, c->dev_id, u->diag);
}

static long do_attach(struct ucmd *u)
{
	struct ioasid_device_attach *c = u->cmd;
	struct ioasid_dev *dev;
	int rc;

	rc = check_zero(c->flags, 0, u->diag);
	if (rc)
		return rc;
	dev = ctx_get_dev(u->ctx, c->dev_id, u->diag);
	if (!dev)
		return -ENOENT;
	return ctx_attach(dev, c->ioasid, u->diag);
}

static long do_detach(struct ucmd *u)
{
	struct ioasid_device_detach *c = u->cmd;
	struct ioasid_dev *dev;
	int rc;

	rc = check_zero(c->flags, c->__reserved, u->diag);
	if (rc)
		return rc;
	dev = ctx_get_dev(u->ctx, c->dev_id, u->diag);
	if (!dev)
		return -ENOENT;
	if (!dev->as)
		return diag_set(u->diag, -ENOENT, IOASID_RULE_DEV_NOT_ATTACHED,
				c->dev_id, 0);
	ctx_detach(dev);
	return 0;
}

static long do_access(struct ucmd *u)
{
	return swdev_access(u->ctx, u->cmd, u->diag);
}

static long do_stats(struct ucmd *u)
{
	return swdev_stats(u->ctx, u->cmd, u->diag);
}

static long do_dirty_tracking(struct ucmd *u)
{
	struct ioasid_dirty_tracking *c = u->cmd;
	struct ioasid_as *as;

	if (c->__reserved)
		return diag_set(u->diag, -EINVAL, IOASID_RULE_RESERVED,
				c->__reserved, 0);
	as = get_as(u, c->ioasid);
	if (!as)
		return -ENOENT;
	return as_dirty_tracking(as, c->flags, u->diag);
}

static long do_dirty_read(struct ucmd *u)
{
	struct ioasid_dirty_read *c = u->cmd;
	struct ioasid_as *as = get_as(u, c->ioasid);

	if (!as)
		return -ENOENT;
	return as_dirty_read(as, c, u->diag);
}

static long do_pgtbl_bind(struct ucmd *u)
{
	return nest_bind(u->ctx, u->cmd, u->diag);
}

static long do_pgtbl_unbind(struct ucmd *u)
{
	struct ioasid_pgtbl_unbind *c = u->cmd;
	int rc = check_zero(c->flags, c->__reserved, u->diag);

	return rc ? rc : nest_unbind(u->ctx, c->ioasid, u->diag);
}

static int inv_entry(struct ioasid_as *as, const struct ioasid_inv_entry *e,
		     u64 *budget, struct ioasid_diag *diag)
{
	int rc = check_zero(e->flags & ~IOASID_INV_LEAF, e->__reserved, diag);

	if (rc)
		return rc;
	if (!e->addr && e->npages == IOH_U64_MAX)
		return nest_invalidate(as, 0, IOH_U64_MAX, budget, diag);
	if ((e->addr & 4095) || !e->npages ||
	    e->npages > ((IOH_U64_MAX - e->addr) >> 12) + 1)
		return diag_set(diag, -EINVAL, IOASID_RULE_INV_RANGE, e->addr,
				e->npages);
	return nest_invalidate(as, e->addr, e->addr + (e->npages << 12) - 1,
			       budget, diag);
}

/*
 * Entries come in chunks of UCMD_CHUNK, so the count (bounded first)
 * sizes no allocation; one walk budget covers the whole call.
 */
static long do_invalidate(struct ucmd *u)
{
	struct ioasid_invalidate *c = u->cmd;
	struct ioasid_inv_entry e[UCMD_CHUNK];
	u64 budget = IOASID_INV_WALK_MAX;
	u32 count = c->entry_num, i, n;
	struct ioasid_as *as;
	int rc;

	c->entry_num = 0;
	rc = check_zero(c->flags, c->__reserved, u->diag);
	if (rc)
		return rc;
	if (!count || count > IOASID_INV_MAX)
		return diag_set(u->diag, -EINVAL, IOASID_RULE_INV_COUNT, count,
				IOASID_INV_MAX);
	if (c->entry_size != sizeof(e[0]))
		return diag_set(u->diag, -EINVAL, IOASID_RULE_INV_ENTRY_SIZE,
				c->entry_size, sizeof(e[0]));
	as = get_as(u, c->ioasid);
	if (!as)
		return -ENOENT;
	if (as->nest != NEST_CHILD)
		return diag_set(u->diag, -EINVAL, IOASID_RULE_NOT_NESTED,
				c->ioasid, 0);
	if (!as->bound)
		return diag_set(u->diag, -EINVAL, IOASID_RULE_PGTBL_NOT_BOUND,
				c->ioasid, 0);
	rc = as_check_ready(as, u->diag);
	if (rc)
		return rc;
	for (i = 0; i < count; i += n) {
		u32 j;

		n = count - i < UCMD_CHUNK ? count - i : UCMD_CHUNK;
		rc = copy_in(u->ctx, e, c->entries_uptr + (u64)i * sizeof(e[0]),
			     n * sizeof(e[0]), u->diag);
		if (rc)
			return rc;
		for (j = 0; j < n; j++) {
			rc = inv_entry(as, &e[j], &budget, u->diag);
			if (rc) {
				if (u->diag)
					u->diag->index = i + j;
				return rc;
			}
			c->entry_num = i + j + 1;
		}
	}
	return 0;
}

static long do_faultq_alloc(struct ucmd *u)
{
	return faultq_alloc(u->ctx, u->cmd, u->diag);
}

static void abort_faultq_alloc(struct ucmd *u)
{
	struct ioasid_faultq_alloc *c = u->cmd;

	faultq_alloc_abort(u->ctx, c->out_fd);
}

static void commit_faultq_alloc(struct ucmd *u)
{
	struct ioasid_faultq_alloc *c = u->cmd;

	faultq_alloc_commit(u->ctx, c->out_fd);
}

static long do_faultq_attach(struct ucmd *u)
{
	return faultq_attach(u->ctx, u->cmd, u->diag);
}

/*
 * 0, or a build error if union ucmd_buffer cannot hold struct @type: the
 * decoder copies a row's struct into that union. A static assertion usable
 * inside an initializer (the kernel's BUILD_BUG_ON_ZERO() is not there in
 * userspace), so that no row can be added without it.
 */
#define UCMD_FITS(type) \
	(0 * sizeof(struct { \
		static_assert(sizeof(struct type) <= \
			      sizeof(union ucmd_buffer) && \
			      __alignof__(struct type) <= \
			      __alignof__(union ucmd_buffer), \
			      "union ucmd_buffer lacks struct " #type); \
		char c; \
	}))

/*
 * One row per command. @last is the last field of the struct's first
 * version: a caller built against that version passes
 * offsetofend(struct, @last) and is served; a smaller size is EINVAL. A
 * later version appends fields and keeps @last, so that older callers
 * keep working (their missing fields read as 0).
 */
#define OP(nr, type, last, handler, when, undo, who) \
	OPC(nr, type, last, handler, when, undo, who, NULL)
#define OPC(nr, type, last, handler, when, undo, who, publish) \
	[IOASID_CMD_##nr - IOASID_CMD_BASE] = { \
		.size = sizeof(struct type) + UCMD_FITS(type), \
		.min_size = offsetofend(struct type, last), \
		.out = when, \
		.kernel = who, \
		.execute = handler, \
		.abort = undo, \
		.commit = publish, \
	}

static const struct ioctl_op ops[IOASID_CMD_LAST - IOASID_CMD_BASE] = {
	OP(ALLOC, ioasid_alloc, parent,
	   do_alloc, OUT_OK, abort_alloc, KERNEL_OK),
	OP(FREE, ioasid_free, __reserved,
	   do_free, OUT_NONE, NULL, KERNEL_OK),
	OP(GET_INFO, ioasid_info, out_fd_pinned_pages,
	   do_info, OUT_ALWAYS, NULL, USER_ONLY),
	OP(MAP_DMA, ioasid_map_dma, length,
	   do_map, OUT_NONE, NULL, KERNEL_OK),
	OP(UNMAP_DMA, ioasid_unmap_dma, out_unmapped,
	   do_unmap, OUT_OK, NULL, KERNEL_OK),
	OP(MAP_BATCH, ioasid_batch, out_bytes,
	   do_map_batch, OUT_ALWAYS, NULL, USER_ONLY),
	OP(UNMAP_BATCH, ioasid_batch, out_bytes,
	   do_unmap_batch, OUT_ALWAYS, NULL, USER_ONLY),
	OP(QUERY_PGSIZE, ioasid_query_pgsize, out_mapped_bytes,
	   do_query, OUT_OK, NULL, KERNEL_OK),
	OP(LIST_MAPPINGS, ioasid_list_mappings, __reserved,
	   do_list, OUT_OK, NULL, USER_ONLY),
	OP(SWDEV_CREATE, ioasid_swdev_create, resv_uptr,
	   do_swdev_create, OUT_OK, abort_swdev_create, USER_ONLY),
	OP(SWDEV_DESTROY, ioasid_swdev_destroy, __reserved,
	   do_swdev_destroy, OUT_NONE, NULL, USER_ONLY),
	OP(DEVICE_ATTACH, ioasid_device_attach, ioasid,
	   do_attach, OUT_NONE, NULL, KERNEL_OK),
	OP(DEVICE_DETACH, ioasid_device_detach, __reserved,
	   do_detach, OUT_NONE, NULL, KERNEL_OK),
	OP(SWDEV_ACCESS, ioasid_swdev_access, out_faults,
	   do_access, OUT_ALWAYS, NULL, USER_ONLY),
	OP(SWDEV_STATS, ioasid_swdev_stats, out_iotlb_misses,
	   do_stats, OUT_OK, NULL, USER_ONLY),
	OP(DIRTY_TRACKING, ioasid_dirty_tracking, __reserved,
	   do_dirty_tracking, OUT_NONE, NULL, USER_ONLY),
	OP(DIRTY_READ, ioasid_dirty_read, out_dirty_pages,
	   do_dirty_read, OUT_OK, NULL, USER_ONLY),
	OP(PGTBL_BIND, ioasid_pgtbl_bind, root,
	   do_pgtbl_bind, OUT_NONE, NULL, USER_ONLY),
	OP(PGTBL_UNBIND, ioasid_pgtbl_unbind, __reserved,
	   do_pgtbl_unbind, OUT_NONE, NULL, USER_ONLY),
	OP(INVALIDATE, ioasid_invalidate, __reserved,
	   do_invalidate, OUT_ALWAYS, NULL, USER_ONLY),
	OPC(FAULTQ_ALLOC, ioasid_faultq_alloc, __reserved,
	    do_faultq_alloc, OUT_OK, abort_faultq_alloc, USER_ONLY,
	    commit_faultq_alloc),
	OP(FAULTQ_ATTACH, ioasid_faultq_attach, fd,
	   do_faultq_attach, OUT_NONE, NULL, USER_ONLY),
};

static long check_extension(struct ioasid_ctx *ctx, u64 ext)
{
	if (ext == IOASID_EXT_FAULTQ)
		return ctx->ops->faultq_open != NULL;
	switch (ext) {
	case IOASID_EXT_TYPE1V2:
	case IOASID_EXT_BATCH:
	case IOASID_EXT_PGSIZE_QUERY:
	case IOASID_EXT_SWDEV:
	case IOASID_EXT_LIST:
	case IOASID_EXT_DIRTY:
	case IOASID_EXT_NEST:
		return 1;
	default:
		return 0;
	}
}

/* A newer caller's struct: the bytes this build does not know must be 0. */
static int check_tail_zero(struct ioasid_ctx *ctx, u64 uptr, u32 from, u32 to,
			   struct ioasid_diag *diag)
{
	u8 buf[64];

	while (from < to) {
		u32 n = to - from < sizeof(buf) ? to - from : sizeof(buf);
		int rc = copy_in(ctx, buf, uptr + from, n, diag);

		if (rc)
			return rc;
		if (!sizefirst_tail_zero(buf, n))
			return diag_set(diag, -E2BIG, IOASID_RULE_SIZE_TAIL,
					to, from);
		from += n;
	}
	return 0;
}

long ioasid_ctx_ioctl(struct ioasid_ctx *ctx, unsigned int cmd, u64 arg,
		      struct ioasid_diag *diag)
{
	union ucmd_buffer buf;
	const struct ioctl_op *op;
	struct ucmd u = { .ctx = ctx, .uptr = arg, .cmd = &buf, .diag = diag };
	unsigned int nr = _IOC_NR(cmd);
	u32 size, len;
	long rc;

	if (diag) {
		memset(diag, 0, sizeof(*diag));
		diag->cmd = (u16)nr;
		diag->index = IOH_U32_MAX;
	}
	if (cmd != _IO(IOASID_TYPE, nr) || nr < IOASID_CMD_BASE ||
	    nr >= IOASID_CMD_LAST)
		return diag_set(diag, -ENOTTY, IOASID_RULE_UNKNOWN_CMD, cmd, 0);
	if (nr == IOASID_CMD_GET_API_VERSION)
		return IOASID_API_VERSION;
	if (nr == IOASID_CMD_CHECK_EXTENSION)
		return check_extension(ctx, arg);
	op = &ops[nr - IOASID_CMD_BASE];

	rc = copy_in(ctx, &size, arg, sizeof(size), diag);
	if (rc)
		return rc;
	rc = sizefirst_check(size, op->min_size);
	if (rc == -EINVAL)
		return diag_set(diag, rc, IOASID_RULE_SIZE_SMALL, size,
				op->min_size);
	if (rc)
		return diag_set(diag, rc, IOASID_RULE_SIZE_TAIL, size,
				UCMD_MAX_SIZE);
	if (size > op->size) {
		rc = check_tail_zero(ctx, arg, op->size, size, diag);
		if (rc)
			return rc;
	}
	len = sizefirst_len(size, op->size);
	memset(&buf, 0, sizeof(buf));
	rc = copy_in(ctx, &buf, arg, len, diag);
	if (rc)
		return rc;

	/*
	 * The result is copied back under the lock, so that an abort undoes
	 * an object nobody else can have seen yet.
	 */
	ioh_lock(&ctx->lock);
	rc = op->execute(&u);
	if (diag && rc < 0)
		diag->err = (int)rc;
	if (rc == 0 ? op->out != OUT_NONE : op->out == OUT_ALWAYS) {
		int crc = copy_out(ctx, arg, &buf, len, diag);

		if (crc && !rc) {
			rc = crc;
			if (op->abort)
				op->abort(&u);
		} else if (!rc && op->commit) {
			op->commit(&u);
		}
	}
	ioh_unlock(&ctx->lock);
	return rc;
}

/*
 * The same handlers for an in-kernel caller (the VFIO shim, the vDPA
 * adaptor) that holds the struct in kernel memory: no copies, same rules,
 * same diagnostics. Only the rows marked KERNEL_OK, whose handlers follow
 * no user pointer, are allowed, and only at the current size.
 */
long ioasid_ctx_call(struct ioasid_ctx *ctx, unsigned int nr, void *kcmd,
		     struct ioasid_diag *diag)
{
	struct ucmd u = { .ctx = ctx, .cmd = kcmd, .diag = diag };
	const struct ioctl_op *op;
	long rc;

	if (nr < IOASID_CMD_BASE || nr >= IOASID_CMD_LAST)
		return -EINVAL;
	op = &ops[nr - IOASID_CMD_BASE];
	if (op->kernel != KERNEL_OK)
		return -EINVAL;
	if (*(u32 *)kcmd != op->size)
		return -EINVAL;
	if (diag) {
		memset(diag, 0, sizeof(*diag));
		diag->cmd = (u16)nr;
		diag->index = IOH_U32_MAX;
	}
	ioh_lock(&ctx->lock);
	rc = op->execute(&u);
	ioh_unlock(&ctx->lock);
	if (diag && rc < 0)
		diag->err = (int)rc;
	return rc;
}

u32 ioasid_ctx_max_mappings(struct ioasid_ctx *ctx)
{
	return ctx->cfg.max_mappings;	/* fixed at creation */
}

struct ioasid_as *ioasid_ctx_as(struct ioasid_ctx *ctx, u32 ioasid)
{
	ioh_lock_assert_held(&ctx->lock);
	return ctx_get_as(ctx, ioasid, NULL);
}

int ioasid_ctx_as_attrs(struct ioasid_ctx *ctx, u32 ioasid,
			struct ioasid_attrs *out, u32 *nmaps)
{
	struct ioasid_as *as;
	int rc = 0;

	ioh_lock(&ctx->lock);
	as = ctx_get_as(ctx, ioasid, NULL);
	if (!as)
		rc = -ENOENT;
	else if (!as->has_attrs)
		rc = -ENODEV;
	else {
		*out = as->attrs;
		*nmaps = as->nmaps;
	}
	ioh_unlock(&ctx->lock);
	return rc;
}
