/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/*
 * Private to core/: the context and ioasid objects. Not for hosts (they use
 * ioasid_core.h) and not for users.
 */
#ifndef IOASID_CORE_PRIV_H
#define IOASID_CORE_PRIV_H

#include "ioasid_core.h"
#include "pgtable_x86.h"

/*
 * Fault points. Every allocation, charge, pin and copy the engine asks of
 * its host, and every listener map and device attach, goes through one of
 * these, so that a test can fail any one of them (the host's switch,
 * ioh_should_fail(): see docs/architecture.md, "Fault injection") and
 * check that the call returns an errno and leaves nothing behind. The
 * error is what the real operation would return when it fails that way.
 */
static inline void *ioc_zalloc(size_t size)
{
	return ioh_should_fail() ? NULL : ioh_zalloc(size);
}

static inline void *ioc_kvzalloc(size_t size)
{
	return ioh_should_fail() ? NULL : ioh_kvzalloc(size);
}

static inline void *ioc_cache_zalloc(struct ioh_cache *c)
{
	return ioh_should_fail() ? NULL : ioh_cache_zalloc(c);
}

#define ioc_host_call(ctx, fail_rc, op, ...) \
	(ioh_should_fail() ? (fail_rc) : (ctx)->ops->op((ctx)->host, __VA_ARGS__))

#define ioc_charge(ctx, bytes)	ioc_host_call(ctx, -ENOMEM, charge, bytes)
#define ioc_pin(ctx, va, len, prot, cookie) \
	ioc_host_call(ctx, -ENOMEM, pin, va, len, prot, cookie)
#define ioc_copy_from_user(ctx, dst, uptr, len) \
	ioc_host_call(ctx, -EFAULT, copy_from_user, dst, uptr, len)
#define ioc_copy_to_user(ctx, uptr, src, len) \
	ioc_host_call(ctx, -EFAULT, copy_to_user, uptr, src, len)
#define ioc_dma_rw(ctx, ...)	ioc_host_call(ctx, -EFAULT, dma_rw, __VA_ARGS__)

/* A table page read for a nested ioasid's walk; NULL op: unreadable. */
#define ioc_mem_read(ctx, cookie, map_vaddr, vaddr, dst, len) \
	((ctx)->ops->mem_read ? \
	 (ctx)->ops->mem_read((ctx)->host, cookie, map_vaddr, vaddr, dst, len) : \
	 -EFAULT)

/* A listener's map: an IOMMU domain's map can fail for want of memory. */
#define ioc_listener_map(l, chain) \
	(ioh_should_fail() ? -ENOMEM : (l)->ops->map(l, chain))

enum ioasid_obj_type {
	IOASID_OBJ_NONE = 0,
	IOASID_OBJ_AS,
	IOASID_OBJ_DEV,
};

/* An IOMMU group, as far as this context knows it. */
struct ioasid_group {
	u64 key;		/* host's identity of the group */
	u32 size;		/* devices in the group */
	u32 nbound;		/* of them, bound to this context */
	struct ioasid_group *next;
};

/* ioasid_as.nest */
enum ioasid_nest_role {
	NEST_NONE = 0,
	NEST_PARENT,		/* IOASID_ALLOC_NEST_PARENT */
	NEST_CHILD,		/* IOASID_ALLOC_NESTED: mappings are a shadow */
};

/*
 * A shadow entry of a nested ioasid (nest.c): what its listeners see is
 * @m, an ordinary mapping whose vaddr and cookie are those of the parent
 * mapping @pm it lies in. It pins and charges nothing.
 */
struct nest_entry {
	struct ioasid_mapping m;	/* first */
	struct ioasid_mapping *pm;
};
static_assert(sizeof(struct nest_entry) <= IOASID_SHADOW_ENTRY_SIZE,
	      "IOASID_SHADOW_ENTRY_SIZE (ioasid_core.h) no longer holds a shadow entry");

/*
 * One ioasid: one I/O page table. Every field is protected by ctx->lock.
 * The tree holds non-overlapping mappings keyed by iova; a nested
 * ioasid's tree holds only shadow entries (struct nest_entry).
 */
struct ioasid_as {
	struct ioasid_obj obj;		/* first */
	struct ioasid_ctx *ctx;
	struct ioasid_mapping *root;	/* IOVA treap */
	struct ioasid_dev *devs;	/* attached devices, via as_next */
	struct ioasid_listener *listeners;
	struct ioasid_attrs attrs;	/* valid when has_attrs */
	bool has_attrs;
	bool viable;			/* every attached group complete */
	u32 ndevs;
	u32 nmaps;
	u64 mapped_bytes;
	/* Dirty tracking (dirty.c): sorted, disjoint, non-adjacent ranges. */
	bool dirty_on;
	bool dirty_all;			/* every mapped writable page is dirty */
	bool dirty_forget;		/* unmaps drop their range (type1) */
	u32 ndirty;
	u32 dirty_cap;
	struct ioasid_range *dirty;
	/* Nesting (nest.c). */
	u8 nest;			/* enum ioasid_nest_role */
	bool bound;			/* a child with a table bound */
	struct ioasid_as *parent;	/* a child's parent */
	struct ioasid_as *children;	/* a parent's, linked by sibling */
	struct ioasid_as *sibling;
	u32 nchildren;
	struct x86pt pt;		/* the bound table */
	/* I/O page faults (fault.c): where this ioasid's faults go. */
	struct ioasid_faultq *faultq;
};

/*
 * One fault waiting for its answer (fault.c). It lives on the stack of
 * the access that raised it, so that a fault allocates nothing; it is
 * linked in its queue from the raise until it is answered, withdrawn
 * (timeout) or failed (queue release), all under ctx->lock.
 */
struct faultq_rec {
	struct ioasid_fault f;
	struct faultq_rec *next;	/* in the queue, oldest first */
	bool read;			/* handed to a reader */
	bool done;			/* answered: @result is set */
	int result;			/* IOASID_FAULT_RESP_*, or -1: closed */
	ioh_wait_t wait;
};

/* A fault queue (fault.c). Every field is protected by ctx->lock. */
struct ioasid_faultq {
	struct ioasid_ctx *ctx;
	struct ioasid_faultq *next;	/* ctx->faultqs */
	struct faultq_rec *recs;	/* unanswered records, oldest first */
	u32 nrecs;			/* linked in @recs */
	u32 nunread;			/* of them, not yet read */
	u32 depth;			/* @nrecs at most */
	u32 timeout_ms;
	int fd;				/* the host's number, for _fd lookups */
	void *host_data;
};

/*
 * One ioasid fd. Lock order: ctx->lock, then whatever the host takes in
 * its ops (mmap lock, page locks). Listeners are called with ctx->lock
 * held and must not call back into the engine's locked entry points.
 */
struct ioasid_ctx {
	ioh_lock_t lock;
	const struct ioasid_host_ops *ops;
	void *host;
	struct ioasid_ctx_config cfg;
	struct ioasid_obj **objs;	/* id table; objs[0] is never used */
	u32 objs_cap;
	u32 nobjs;
	u32 id_hint;			/* where the next free-id search starts */
	struct ioasid_group *groups;
	u64 pinned_bytes;		/* sum of mapping lengths, charged */
	struct ioh_cache map_cache;
	struct ioh_cache shadow_cache;	/* struct nest_entry */
	struct ioasid_faultq *faultqs;	/* open fault queues */
	u32 next_cookie;		/* the last fault cookie handed out */
	u32 nfaultqs;
};

/* tree.c */
struct ioasid_mapping *it_find_le(struct ioasid_mapping *t, u64 key);
struct ioasid_mapping *it_first_ge(struct ioasid_mapping *t, u64 key);
struct ioasid_mapping *it_max(struct ioasid_mapping *t);
void it_insert(struct ioasid_mapping **root, struct ioasid_mapping *m);
void it_remove(struct ioasid_mapping **root, struct ioasid_mapping *m);
void it_split(struct ioasid_mapping *t, u64 key, struct ioasid_mapping **lo,
	      struct ioasid_mapping **hi);
struct ioasid_mapping *it_merge(struct ioasid_mapping *a,
				struct ioasid_mapping *b);
struct ioasid_mapping *it_to_chain(struct ioasid_mapping *t);

/*
 * A node's treap priority: a bijective mix of its address, so it costs no
 * memory and two nodes never tie (tree.c explains why).
 */
static inline u64 mapping_prio(const struct ioasid_mapping *m)
{
	u64 x = (u64)(uintptr_t)m;

	x ^= x >> 33;
	x *= 0xff51afd7ed558ccdULL;
	x ^= x >> 33;
	x *= 0xc4ceb9fe1a85ec53ULL;
	x ^= x >> 33;
	return x;
}

/* dirty.c */
void as_dirty_mark(struct ioasid_as *as, u64 start, u64 last);
void as_dirty_note_unmap(struct ioasid_as *as, struct ioasid_mapping *chain);
void as_dirty_note_attach(struct ioasid_as *as, struct ioasid_dev *dev);
void as_dirty_reset(struct ioasid_as *as);
int as_dirty_tracking(struct ioasid_as *as, u32 flags,
		      struct ioasid_diag *diag);
int as_dirty_read(struct ioasid_as *as, struct ioasid_dirty_read *r,
		  struct ioasid_diag *diag);
int as_dirty_verify(const struct ioasid_as *as);

/* ctx.c */
struct ioasid_as *ctx_get_as(struct ioasid_ctx *ctx, u32 id,
			     struct ioasid_diag *diag);
struct ioasid_dev *ctx_get_dev(struct ioasid_ctx *ctx, u32 id,
			       struct ioasid_diag *diag);
int ctx_alloc_as(struct ioasid_ctx *ctx, u32 *out_id,
		 struct ioasid_diag *diag);
int ctx_free_as(struct ioasid_ctx *ctx, u32 id, struct ioasid_diag *diag);
int ctx_attach(struct ioasid_dev *dev, u32 ioasid, struct ioasid_diag *diag);
void ctx_detach(struct ioasid_dev *dev);
void ctx_unbind(struct ioasid_dev *dev);

/* map.c */
struct ioasid_map_req {
	u32 flags;
	u32 max_pgshift;
	u64 iova;
	u64 vaddr;
	u64 length;
};

/*
 * Entries of a batch come from the caller through this iterator, so that
 * the same code serves one call (an entry on the stack) and a batch (a
 * user array copied in chunks).
 */
struct ioasid_entry_src {
	int (*get)(struct ioasid_entry_src *src, u32 i,
		   struct ioasid_dma_entry *e);
	u32 count;
};

struct ioasid_batch_result {
	u32 done;
	u32 fail_index;
	u32 fail_errno;
	u64 bytes;
};

int as_map_batch(struct ioasid_as *as, struct ioasid_entry_src *src,
		 struct ioasid_batch_result *res, struct ioasid_diag *diag);
int as_unmap_batch(struct ioasid_as *as, struct ioasid_entry_src *src,
		   u32 flags, struct ioasid_batch_result *res,
		   struct ioasid_diag *diag);
void as_unmap_everything(struct ioasid_as *as);
int as_notify_map(struct ioasid_as *as, struct ioasid_mapping *chain);
void as_notify_unmap(struct ioasid_as *as, struct ioasid_mapping *chain);
/*
 * @old out of every listener and @new in (a nested invalidation's
 * change). On failure no listener has either chain.
 */
int as_notify_replace(struct ioasid_as *as, struct ioasid_mapping *old,
		      struct ioasid_mapping *new);
struct ioasid_mapping *as_first_from(struct ioasid_as *as, u64 iova);
struct ioasid_mapping *as_next(struct ioasid_as *as, struct ioasid_mapping *m);
int as_check_ready(struct ioasid_as *as, struct ioasid_diag *diag);
u64 as_pgsizes_of(struct ioasid_as *as, struct ioasid_mapping *m,
		  u64 clip_start, u64 clip_last);
void as_query(struct ioasid_as *as, u64 iova, u64 last, u64 *pgsizes,
	      u64 *mapped);
u32 as_list(struct ioasid_as *as, u64 start, struct ioasid_mapping **out,
	    u32 max, bool *more);

/* nest.c */
int nest_alloc(struct ioasid_ctx *ctx, u32 flags, u32 parent, u32 *out_id,
	       struct ioasid_diag *diag);
void nest_release(struct ioasid_as *as);
int nest_check_map(struct ioasid_as *as, struct ioasid_diag *diag);
void nest_parent_unmap(struct ioasid_as *parent, struct ioasid_mapping *chain);
int nest_bind(struct ioasid_ctx *ctx, struct ioasid_pgtbl_bind *b,
	      struct ioasid_diag *diag);
int nest_unbind(struct ioasid_ctx *ctx, u32 id, struct ioasid_diag *diag);
int nest_invalidate(struct ioasid_as *as, u64 start, u64 last, u64 *budget,
		    struct ioasid_diag *diag);
int nest_verify(const struct ioasid_as *as);

/* fault.c */
struct ioasid_faultq_alloc;
struct ioasid_faultq_attach;
int faultq_alloc(struct ioasid_ctx *ctx, struct ioasid_faultq_alloc *c,
		 struct ioasid_diag *diag);
void faultq_alloc_commit(struct ioasid_ctx *ctx, int fd);
void faultq_alloc_abort(struct ioasid_ctx *ctx, int fd);
int faultq_attach(struct ioasid_ctx *ctx, struct ioasid_faultq_attach *c,
		  struct ioasid_diag *diag);
int faultq_raise(struct ioasid_as *as, struct ioasid_dev *dev, u64 iova,
		 u32 need, u64 len, struct ioasid_diag *diag);
void faultq_destroy_all(struct ioasid_ctx *ctx);
int faultq_verify(struct ioasid_ctx *ctx, const struct ioasid_faultq *q);
int faultq_verify_all(struct ioasid_ctx *ctx);

/* rules.c */
static inline int diag_set(struct ioasid_diag *d, int err, unsigned int rule,
			   u64 value, u64 limit)
{
	if (d) {
		d->err = err;
		d->rule = (u16)rule;
		d->value = value;
		d->limit = limit;
	}
	return err;
}

static inline u64 attrs_min_pgsize(const struct ioasid_attrs *a)
{
	return a->pgsize_bitmap & (~a->pgsize_bitmap + 1);
}

/* swdev.c */
long swdev_create(struct ioasid_ctx *ctx, struct ioasid_swdev_create *c,
		  struct ioasid_diag *diag);
long swdev_destroy(struct ioasid_ctx *ctx, u32 dev_id,
		   struct ioasid_diag *diag);
long swdev_access(struct ioasid_ctx *ctx, struct ioasid_swdev_access *a,
		  struct ioasid_diag *diag);
long swdev_stats(struct ioasid_ctx *ctx, struct ioasid_swdev_stats *s,
		 struct ioasid_diag *diag);

#endif /* IOASID_CORE_PRIV_H */
