/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/*
 * The semantic engine's interface to its hosts.
 *
 * Two hosts build core/ unchanged: the Linux module (kernel/ioasid/) and the
 * userspace library's embedded backend (lib/). A host supplies two things:
 *
 *  1. At compile time, a header named "ioasid_host.h" on the include path,
 *     giving fixed-width types (u8..u64, bool, size_t), memset/memcpy/
 *     memcmp, errno names, and:
 *        void *ioh_zalloc(size_t size);          may fail (NULL)
 *        void ioh_free(void *p);                 NULL is fine
 *        void *ioh_cache_zalloc(struct ioh_cache *c);   fixed-size objects
 *        void ioh_cache_free(struct ioh_cache *c, void *p);
 *        int ioh_cache_init(struct ioh_cache *c, size_t size); (and _destroy)
 *        u64 ioh_cache_live(c), u64 ioh_cache_bytes(c)   objects, bytes held
 *        ioh_lock_t, ioh_lock_init/destroy/lock/unlock, ioh_lock_assert_held
 *        IOH_WARN_ON(cond)
 *        ioh_wait_t, ioh_wait_init/destroy, ioh_wake(w), and
 *        int ioh_wait_timeout(ioh_wait_t *w, ioh_lock_t *l,
 *                             const bool *done, u32 ms):
 *                                      called with @l held: releases
 *                                      it, sleeps until *done (set under
 *                                      @l, then ioh_wake) or @ms pass,
 *                                      takes @l again; 0 when *done,
 *                                      -ETIMEDOUT, -EINTR (kernel: a
 *                                      fatal signal)
 *        bool ioh_should_fail(void);   fault injection: true when this
 *                                      is the call a test armed to fail
 *     None of these may sleep while holding anything the engine does not
 *     know about; all of them may sleep in the kernel (the engine's lock is
 *     a mutex).
 *
 *  2. At run time, struct ioasid_host_ops, given to ioasid_ctx_create():
 *     pinning, memory accounting and copies to and from the caller.
 *
 * Everything else (rules, trees, objects, batches, notifications) lives in
 * core/ and has no global state: every function takes the context.
 */
#ifndef IOASID_CORE_H
#define IOASID_CORE_H

#include "ioasid_host.h"
#include <linux/ioasid.h>

struct ioasid_ctx;
struct ioasid_faultq;
struct ioasid_as;
struct ioasid_dev;
struct ioasid_listener;

/* Memory protection bits of a mapping: the uAPI's IOASID_DMA_READ/WRITE. */
#define IOASID_PROT_MASK	(IOASID_DMA_READ | IOASID_DMA_WRITE)

/*
 * One mapping. Hosts and listeners read it; only the engine writes it.
 * The layout is kept small on purpose (see docs/architecture.md): 64
 * bytes, two treap links, no parent pointer, the batch chain in @next.
 */
struct ioasid_mapping {
	struct ioasid_mapping *il, *ir;	/* IOVA treap of the ioasid */
	u64 iova;
	u64 last;			/* last IOVA, inclusive */
	u64 vaddr;
	u16 prot;			/* IOASID_DMA_READ | IOASID_DMA_WRITE */
	u8 max_pgshift;			/* 0: no limit */
	u8 engine_mark;			/* engine-private scratch (nest.c) */
	u32 nshadow;			/* nest.c: shadow entries pointing in */
	void *cookie;			/* what the host's pin() returned */
	struct ioasid_mapping *next;	/* chain of one map or unmap batch */
};

/*
 * A nested ioasid's shadow entry is a mapping and a pointer to the parent
 * mapping it lands in (struct nest_entry, core_priv.h, checks this): the
 * object size a host's second cache must hold.
 */
#define IOASID_SHADOW_ENTRY_SIZE \
	(sizeof(struct ioasid_mapping) + sizeof(void *))

static inline u64 ioasid_mapping_length(const struct ioasid_mapping *m)
{
	return m->last - m->iova + 1;
}

/* Attributes of a device's IOMMU, and of an ioasid once fixed. */
#define IOASID_ATTR_COHERENT	(1U << 0)
/*
 * Set by a host for a device whose IOMMU could nest the x86-64 table
 * format in hardware (the kernel host's probe); only reported
 * (IOASID_INFO_NESTED_HW_CAPABLE), not a compatibility rule.
 */
#define IOASID_ATTR_NEST_HW	(1U << 1)

struct ioasid_range {
	u64 start;
	u64 last;			/* inclusive */
};

/*
 * Two steps of adding [@start, @last] to the ascending, disjoint ranges
 * @r[0..*@n), where @i is the first range that does not end before it:
 * merge it into r[i], which it meets (@touch 1: or adjoins), with every
 * later range the result then meets; or insert it as r[i] (room for one
 * more is the caller's to check).
 */
static inline void ioasid_range_merge(struct ioasid_range *r, u32 *n, u32 i,
				      u64 start, u64 last, u64 touch)
{
	u32 k;

	if (start < r[i].start)
		r[i].start = start;
	if (last > r[i].last)
		r[i].last = last;
	for (k = i + 1; k < *n && r[k].start <= r[i].last + touch; k++)
		if (r[k].last > r[i].last)
			r[i].last = r[k].last;
	memmove(&r[i + 1], &r[k], (*n - k) * sizeof(r[0]));
	*n -= k - i - 1;
}

static inline void ioasid_range_insert(struct ioasid_range *r, u32 *n, u32 i,
				       u64 start, u64 last)
{
	memmove(&r[i + 1], &r[i], (*n - i) * sizeof(r[0]));
	r[i].start = start;
	r[i].last = last;
	(*n)++;
}

struct ioasid_attrs {
	u64 pgsize_bitmap;
	u64 aperture_start;
	u64 aperture_last;		/* inclusive */
	u32 flags;			/* IOASID_ATTR_* */
	u32 num_resv;
	struct ioasid_range resv[IOASID_SWDEV_MAX_RESV];	/* ascending */
};

/*
 * What a host does for the engine. Each op gets the host pointer given to
 * ioasid_ctx_create(). Ops are called with the context lock held.
 */
struct ioasid_host_ops {
	/*
	 * Pin [vaddr, vaddr + len) for DMA with @prot; store what unpin and
	 * the copies need in *cookie. -EFAULT if part of the range is not
	 * mapped, -ENOMEM if out of memory. Nothing pinned on failure.
	 */
	int (*pin)(void *host, u64 vaddr, u64 len, u32 prot, void **cookie);
	void (*unpin)(void *host, u64 vaddr, u64 len, void *cookie);
	/*
	 * Charge @bytes that are about to be pinned: the engine charges each
	 * mapping's whole length before pin() and uncharges it after unpin()
	 * (per mapping, as VFIO type1 does). -ENOMEM past the limit, with
	 * nothing charged.
	 */
	int (*charge)(void *host, u64 bytes);
	void (*uncharge)(void *host, u64 bytes);
	/* Copy from or to the caller; -EFAULT on a bad pointer. */
	int (*copy_from_user)(void *host, void *dst, u64 uptr, size_t len);
	int (*copy_to_user)(void *host, u64 uptr, const void *src, size_t len);
	/*
	 * A software device's DMA: copy @len bytes between the caller's
	 * buffer @uptr and pinned memory at @vaddr, which lies inside the
	 * mapping pinned as (@map_vaddr, @cookie). @to_mem: buffer to memory.
	 */
	int (*dma_rw)(void *host, void *cookie, u64 map_vaddr, u64 vaddr,
		      u64 uptr, u64 len, bool to_mem);
	/*
	 * Bytes physically contiguous from @vaddr, at most @len, inside the
	 * mapping pinned as (@map_vaddr, @cookie), and in *out_addr the
	 * address the IOMMU outputs for @vaddr. Used to report which page
	 * sizes an IOMMU uses. NULL: the whole range is contiguous (the
	 * embedded host, whose software IOMMU outputs process addresses).
	 */
	u64 (*contig)(void *host, void *cookie, u64 map_vaddr, u64 vaddr,
		      u64 len, u64 *out_addr);
	/*
	 * Copy @len bytes (inside one 4 KiB page) of pinned memory at
	 * @vaddr, inside the mapping pinned as (@map_vaddr, @cookie), to
	 * @dst in the engine: a nested ioasid's walk reads its table pages
	 * this way (the kernel from the pinned pages, the embedded host from
	 * the address). -EFAULT if it cannot; NULL: tables are unreadable.
	 */
	int (*mem_read)(void *host, void *cookie, u64 map_vaddr, u64 vaddr,
			void *dst, size_t len);
	/*
	 * Fault queues (core/fault.c). open makes the fd of a new queue @q
	 * without publishing it (kernel: an fd reserved and a file whose
	 * private data leads to @q); install publishes it once the caller
	 * has its number; abort undoes open when the call fails after it
	 * (the file's release must then not touch @q, which the engine
	 * frees). close is called when the engine frees a queue that is
	 * still open in the host (the embedded backend's close and context
	 * destroy; the kernel frees queues only from its file's release,
	 * where the file goes anyway: NULL). get finds the queue of @fd
	 * among this host's, or -EBADF; NULL: the engine matches @fd
	 * against the queues' q->fd. notify tells pollers whether records
	 * wait to be read. All under the context lock. NULL open: no fault
	 * queues (EOPNOTSUPP).
	 */
	int (*faultq_open)(void *host, struct ioasid_faultq *q, int *out_fd);
	void (*faultq_install)(void *host, struct ioasid_faultq *q);
	void (*faultq_abort)(void *host, struct ioasid_faultq *q);
	void (*faultq_close)(void *host, struct ioasid_faultq *q);
	int (*faultq_get)(void *host, int fd, struct ioasid_faultq **out);
	void (*faultq_notify)(void *host, struct ioasid_faultq *q,
			      bool pending);
};

/*
 * Cookies are shared: a nested ioasid's shadow entry carries the cookie of
 * the parent mapping it lies in, with a vaddr inside that mapping, so a
 * mapping's vaddr is not always where its cookie starts. Hosts and
 * listeners find a byte in a cookie by its vaddr against the pin's own
 * start (the kernel's struct ioasid_kpin keeps it), never against the
 * mapping's vaddr.
 */

/*
 * A listener receives an ioasid's map and unmap events: an IOMMU domain, a
 * vDPA device with its own translation, a userspace shadow. Events come as
 * a chain of mappings linked by ->next, once per call or batch.
 */
struct ioasid_listener_ops {
	/*
	 * Install every mapping of the chain, or none: on failure the
	 * listener has undone its own work. Called after pinning.
	 */
	int (*map)(struct ioasid_listener *l, struct ioasid_mapping *chain);
	/*
	 * Remove every mapping of the chain. Cannot fail. When it returns,
	 * the listener can no longer translate through any of them (IOTLB
	 * flushed, readers past a grace period); the engine unpins after.
	 */
	void (*unmap)(struct ioasid_listener *l, struct ioasid_mapping *chain);
	/*
	 * Optional: remove every mapping of @old and install every mapping
	 * of @new (either chain may be NULL; they do not overlap each other's
	 * live neighbours) as one change, as a nested ioasid's invalidation
	 * does; between the call and its return the listener may translate
	 * through old, new or neither. When it returns 0 it translates @new
	 * and nothing of @old; on failure, neither (the new chain undone, the
	 * old one removed as by unmap). Without it the engine calls unmap,
	 * then map. An IOMMU domain implements it to flush its IOTLB once.
	 */
	int (*replace)(struct ioasid_listener *l, struct ioasid_mapping *old,
		       struct ioasid_mapping *new);
};

struct ioasid_listener {
	const struct ioasid_listener_ops *ops;
	struct ioasid_listener *next;	/* engine-owned */
};

/*
 * A device bound to a context. The host (or core/swdev.c) embeds it and
 * fills attrs, group and ops before ioasid_dev_bind().
 */
struct ioasid_dev_ops {
	/*
	 * Called under the context lock after the rules allowed the attach
	 * and before it is published; may add listeners. A failure aborts
	 * the attach with nothing changed.
	 */
	int (*attach)(struct ioasid_dev *dev, struct ioasid_as *as);
	void (*detach)(struct ioasid_dev *dev, struct ioasid_as *as);
	/* Called once when the device is unbound (context close, destroy). */
	void (*release)(struct ioasid_dev *dev);
};

struct ioasid_group;

/* Common header of every object in a context's id table. */
struct ioasid_obj {
	u32 id;
	u32 type;
};

struct ioasid_dev {
	struct ioasid_obj obj;		/* engine-owned; first */
	bool is_swdev;			/* set by core/swdev.c */
	bool untracked_dma;		/* writes not seen by dirty tracking */
	struct ioasid_ctx *ctx;		/* engine-owned */
	struct ioasid_group *group;	/* engine-owned */
	struct ioasid_as *as;		/* attached to; engine-owned */
	struct ioasid_dev *as_next;	/* engine-owned */
	const struct ioasid_dev_ops *ops;
	struct ioasid_attrs attrs;
};

/* Per-context limits; zero fields take the defaults below. */
struct ioasid_ctx_config {
	u32 max_mappings;		/* per ioasid; default 65535 (VFIO's) */
	u32 max_objects;		/* ioasids + devices; default 65535 */
};

#define IOASID_DEFAULT_MAX_MAPPINGS	65535U
#define IOASID_DEFAULT_MAX_OBJECTS	65535U

/*
 * Why a call failed, beyond the errno: the rule that was broken, the field
 * it concerns, and the values involved. Filled by the engine when the
 * caller passes one; rendered as a sentence by the library.
 */
struct ioasid_diag {
	int err;			/* negative errno, 0 if none */
	u16 rule;			/* enum ioasid_rule */
	u16 cmd;			/* IOASID_CMD_* */
	u32 index;			/* batch entry, or (u32)-1 */
	u64 value;			/* the offending value */
	u64 limit;			/* what it was checked against */
};

enum ioasid_rule {
	IOASID_RULE_NONE = 0,
	IOASID_RULE_UNKNOWN_CMD,
	IOASID_RULE_SIZE_SMALL,
	IOASID_RULE_SIZE_TAIL,
	IOASID_RULE_FLAGS,
	IOASID_RULE_RESERVED,
	IOASID_RULE_NO_IOASID,
	IOASID_RULE_NO_DEVICE_ID,
	IOASID_RULE_NOT_ATTACHED,
	IOASID_RULE_GROUP_INCOMPLETE,
	IOASID_RULE_FREE_BUSY,
	IOASID_RULE_ALREADY_ATTACHED,
	IOASID_RULE_DEV_NOT_ATTACHED,
	IOASID_RULE_COMPAT_PGSIZE,
	IOASID_RULE_COMPAT_APERTURE,
	IOASID_RULE_COMPAT_RESV,
	IOASID_RULE_COMPAT_COHERENT,
	IOASID_RULE_NO_PROT,
	IOASID_RULE_LENGTH_ZERO,
	IOASID_RULE_ALIGN_IOVA,
	IOASID_RULE_ALIGN_VADDR,
	IOASID_RULE_ALIGN_LENGTH,
	IOASID_RULE_WRAP_IOVA,
	IOASID_RULE_WRAP_VADDR,
	IOASID_RULE_APERTURE,
	IOASID_RULE_RESV_OVERLAP,
	IOASID_RULE_MAX_PGSHIFT,
	IOASID_RULE_OVERLAP,
	IOASID_RULE_MAP_LIMIT,
	IOASID_RULE_MEMLOCK,
	IOASID_RULE_VADDR_FAULT,
	IOASID_RULE_NOMEM,
	IOASID_RULE_UNMAP_CUT_START,
	IOASID_RULE_UNMAP_CUT_END,
	IOASID_RULE_UNMAP_ALL_ARGS,
	IOASID_RULE_BATCH_COUNT,
	IOASID_RULE_BATCH_ENTRY_SIZE,
	IOASID_RULE_RANGES_SHORT,
	IOASID_RULE_ID_SPACE,
	IOASID_RULE_BAD_POINTER,
	IOASID_RULE_LISTENER,
	IOASID_RULE_SWDEV_PGSIZE,
	IOASID_RULE_SWDEV_APERTURE,
	IOASID_RULE_SWDEV_RESV,
	IOASID_RULE_SWDEV_GROUP,
	IOASID_RULE_NOT_SWDEV,
	IOASID_RULE_ACCESS_FLAGS,
	IOASID_RULE_ACCESS_LENGTH,
	IOASID_RULE_IO_PAGE_FAULT,
	IOASID_RULE_DIRTY_FLAGS,
	IOASID_RULE_DIRTY_OFF,
	IOASID_RULE_DIRTY_PGSHIFT,
	IOASID_RULE_DIRTY_BITS,
	IOASID_RULE_NEST_FLAGS,
	IOASID_RULE_NEST_NOT_PARENT,
	IOASID_RULE_NEST_HAS_CHILDREN,
	IOASID_RULE_NOT_NESTED,
	IOASID_RULE_NESTED_MAP,
	IOASID_RULE_PGTBL_BOUND,
	IOASID_RULE_PGTBL_NOT_BOUND,
	IOASID_RULE_PGTBL_FORMAT,
	IOASID_RULE_PGTBL_WIDTH,
	IOASID_RULE_PGTBL_AD,
	IOASID_RULE_PGTBL_ROOT,
	IOASID_RULE_INV_COUNT,
	IOASID_RULE_INV_ENTRY_SIZE,
	IOASID_RULE_INV_RANGE,
	IOASID_RULE_INV_LIMIT,
	IOASID_RULE_INV_WORK,
	IOASID_RULE_INV_BYTES,
	IOASID_RULE_FAULTQ_TIMEOUT,
	IOASID_RULE_FAULTQ_DEPTH,
	IOASID_RULE_FAULTQ_MAX,
	IOASID_RULE_FAULTQ_FD,
	IOASID_RULE_FAULTQ_BUSY,
	IOASID_RULE_FAULTQ_NONE,
	IOASID_RULE_FAULTQ_FULL,
	IOASID_RULE_FAULTQ_INVALID,
	IOASID_RULE_FAULTQ_TIMEDOUT,
	IOASID_RULE_FAULTQ_CLOSED,
	IOASID_RULE_FAULTQ_INTR,
	IOASID_RULE_FAULTQ_WAITING,
	IOASID_RULE_COUNT,
};

/* The rule's field name and a sentence template (%v value, %l limit). */
const char *ioasid_rule_field(unsigned int rule);
const char *ioasid_rule_text(unsigned int rule);
/* Name of an IOASID_CMD_* number, e.g. "map". */
const char *ioasid_cmd_name(unsigned int cmd_nr);

/* Context: one fd. */
int ioasid_ctx_create(const struct ioasid_host_ops *ops, void *host,
		      const struct ioasid_ctx_config *cfg,
		      struct ioasid_ctx **out);
/* Detaches, unmaps and unpins everything, then frees. Cannot fail. */
void ioasid_ctx_destroy(struct ioasid_ctx *ctx);
/*
 * Close the fault queues the host still has open (embedded backend), so
 * accesses waiting for an answer end at once, before the caller waits
 * for its calls in progress and destroys the context.
 */
void ioasid_ctx_quiesce(struct ioasid_ctx *ctx);
/*
 * Check every invariant of the context (trees, counters, accounting); for
 * fuzzers and stress tests, O(n). 0 or -EIO.
 */
int ioasid_ctx_verify(struct ioasid_ctx *ctx);

/* What the engine holds in memory, for benchmarks and debugging. */
struct ioasid_mem_stats {
	u64 mappings;		/* live mappings, all ioasids */
	u64 mapping_bytes;	/* memory behind mapping nodes (slabs) */
	u64 node_size;		/* bytes of one mapping node */
	u64 table_bytes;	/* the id table */
};

void ioasid_ctx_mem_stats(struct ioasid_ctx *ctx, struct ioasid_mem_stats *s);

/*
 * The ioctl entry point, shared by the kernel module and the embedded
 * backend: decodes the uAPI struct at @arg (a user pointer, or a value for
 * the commands that take one), applies the rules, copies results out.
 * Returns >= 0 or a negative errno; @diag may be NULL.
 */
long ioasid_ctx_ioctl(struct ioasid_ctx *ctx, unsigned int cmd, u64 arg,
		      struct ioasid_diag *diag);

/*
 * In-kernel callers (the VFIO shim): run command @nr (IOASID_CMD_ALLOC,
 * FREE, MAP_DMA, UNMAP_DMA, QUERY_PGSIZE, DEVICE_ATTACH or DEVICE_DETACH)
 * on a struct in kernel memory whose size field is the current size.
 * Same rules and results as the ioctl; takes the context lock.
 */
long ioasid_ctx_call(struct ioasid_ctx *ctx, unsigned int nr, void *kcmd,
		     struct ioasid_diag *diag);
/* Mappings each ioasid of @ctx may hold (its configuration's limit). */
u32 ioasid_ctx_max_mappings(struct ioasid_ctx *ctx);
/* An ioasid's fixed attributes and mapping count; -ENODEV if none yet. */
int ioasid_ctx_as_attrs(struct ioasid_ctx *ctx, u32 ioasid,
			struct ioasid_attrs *out, u32 *nmaps);

/*
 * Device binding, for hosts (VFIO, vDPA) and core/swdev.c. @group_key is
 * the host's identity of the IOMMU group; its low 32 bits are the group id
 * that error messages show the user (the iommu_group id, or a software
 * device's group_id).
 */
int ioasid_dev_bind(struct ioasid_ctx *ctx, struct ioasid_dev *dev,
		    u64 group_key, u32 group_size, struct ioasid_diag *diag);
void ioasid_dev_unbind(struct ioasid_dev *dev);
int ioasid_dev_attach(struct ioasid_dev *dev, u32 ioasid,
		      struct ioasid_diag *diag);
void ioasid_dev_detach(struct ioasid_dev *dev);

/*
 * Listeners, for dev_ops->attach and hosts, under the context lock.
 * add replays every existing mapping as one map call; a failure leaves the
 * listener out. del does not unmap: pass unmap_all to have the listener's
 * mappings removed (a domain being torn down does not need it).
 */
int ioasid_as_add_listener(struct ioasid_as *as, struct ioasid_listener *l);
void ioasid_as_del_listener(struct ioasid_as *as, struct ioasid_listener *l,
			    bool unmap_all);

/* Under the context lock: ioasid @ioasid of @ctx, or NULL. */
struct ioasid_as *ioasid_ctx_as(struct ioasid_ctx *ctx, u32 ioasid);
/* Lookup for hosts under the context lock: the mapping holding @iova. */
struct ioasid_mapping *ioasid_as_find(struct ioasid_as *as, u64 iova);
u32 ioasid_as_id(const struct ioasid_as *as);
bool ioasid_as_nested(const struct ioasid_as *as);	/* nested on a parent */
struct ioasid_ctx *ioasid_as_ctx(const struct ioasid_as *as);

/*
 * Dirty tracking for hosts that lay out their own bitmap (the VFIO shim,
 * by type1's rules), under the context lock. ioasid_as_dirty_set starts
 * or stops it (as IOASID_DIRTY_TRACKING); with @forget an unmap drops
 * what its range held instead of marking it dirty. mark adds a range
 * (pages a device pinned or wrote), clear removes one (a read), and bits
 * sets bit (@bit0 + i) of @words for each page i of the @npages pages of
 * 1 << @pgshift bytes from @iova the record holds dirty: all of them
 * while a device the engine cannot see is attached. @pgshift is at least
 * the ioasid's smallest page; nothing happens while tracking is off.
 */
int ioasid_as_dirty_set(struct ioasid_as *as, bool start, bool forget);
bool ioasid_as_dirty_on(const struct ioasid_as *as);
void ioasid_as_dirty_mark(struct ioasid_as *as, u64 start, u64 last);
void ioasid_as_dirty_clear(struct ioasid_as *as, u64 start, u64 last);
void ioasid_as_dirty_bits(struct ioasid_as *as, u64 iova, u64 npages,
			  u32 pgshift, u64 *words, u64 bit0);
/* The first mapping that starts at or after @iova, or NULL. */
struct ioasid_mapping *ioasid_as_next(struct ioasid_as *as, u64 iova);

/*
 * A fault queue's file operations, for hosts (core/fault.c). The host
 * keeps what it needs for the fd in q's host_data. read copies whole
 * records to @uptr (at most @len bytes) and returns the bytes copied;
 * write applies the responses at @uptr and returns @len; pending says
 * whether records wait to be read (poll). release fails the waiting
 * accesses, disconnects the queue and frees it: call it once, from the
 * file's release. Each takes the context lock. The _fd variants find the
 * queue by its fd first (the embedded backend, whose fds are eventfds);
 * ioasid_faultq_close_fd() also calls the host's close op.
 */
long ioasid_faultq_file_read(struct ioasid_faultq *q, u64 uptr, u64 len);
long ioasid_faultq_file_write(struct ioasid_faultq *q, u64 uptr, u64 len);
bool ioasid_faultq_file_pending(struct ioasid_faultq *q);
void ioasid_faultq_file_release(struct ioasid_faultq *q);
void *ioasid_faultq_host_data(struct ioasid_faultq *q);
void ioasid_faultq_set_host_data(struct ioasid_faultq *q, void *data, int fd);
int ioasid_faultq_fd(struct ioasid_faultq *q);
struct ioasid_ctx *ioasid_faultq_ctx(struct ioasid_faultq *q);
long ioasid_faultq_read_fd(struct ioasid_ctx *ctx, int fd, u64 uptr, u64 len);
long ioasid_faultq_write_fd(struct ioasid_ctx *ctx, int fd, u64 uptr,
			    u64 len);
int ioasid_faultq_close_fd(struct ioasid_ctx *ctx, int fd);

void ioasid_ctx_lock(struct ioasid_ctx *ctx);
void ioasid_ctx_unlock(struct ioasid_ctx *ctx);

/*
 * Pure rule checks, shared by the engine and by the library (which runs
 * them on an ioasid's reported attributes to explain a kernel errno).
 * Return 0 or a negative errno with @diag filled.
 */
int ioasid_check_map(const struct ioasid_attrs *a, u32 flags, u32 max_pgshift,
		     u64 iova, u64 vaddr, u64 length, struct ioasid_diag *diag);
int ioasid_check_unmap(const struct ioasid_attrs *a, u32 flags, u64 iova,
		       u64 length, struct ioasid_diag *diag);
int ioasid_check_compat(const struct ioasid_attrs *as_attrs,
			const struct ioasid_attrs *dev_attrs,
			struct ioasid_diag *diag);
/* Validate a device's declared attributes (software devices). */
int ioasid_check_dev_attrs(const struct ioasid_attrs *a,
			   struct ioasid_diag *diag);
/* Usable ranges: aperture minus reserved regions. Returns the count. */
u32 ioasid_attrs_ranges(const struct ioasid_attrs *a,
			struct ioasid_range *out, u32 max);
/*
 * Page sizes an IOMMU with @pgsize_bitmap uses for [iova, iova + len)
 * mapped to addresses starting at @out_addr, physically contiguous for
 * the whole length, no page above 1 << @max_pgshift (0: any). Only pages
 * that intersect [clip_start, clip_last] count.
 */
u64 ioasid_pgsizes_used(u64 pgsize_bitmap, u32 max_pgshift, u64 iova,
			u64 out_addr, u64 len, u64 clip_start, u64 clip_last);

#endif /* IOASID_CORE_H */
