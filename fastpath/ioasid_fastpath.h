/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/*
 * ioasid fast path: an RCU-protected shadow of one I/O address space for
 * data-path threads, and a batcher that turns many map/unmap requests into
 * few backend calls.
 *
 * Shadow. A shadow maps IOVA ranges to host virtual addresses with a
 * permission. Readers translate with no lock and no atomic read-modify-
 * write; the writer (the batcher) publishes a new immutable snapshot after
 * each flush and frees old ones after an RCU grace period.
 *
 * RCU flavour: liburcu's QSBR (urcu_qsbr_*). Readers are polling threads
 * (DPDK lcores, vhost workers) that can announce a quiescent state between
 * bursts at no cost, and QSBR's read side costs nothing at all. The
 * contract for a reader thread:
 *   - ioasid_fp_reader_register() on the thread that will translate; it
 *     registers the thread with liburcu QSBR (once per thread) and puts it
 *     online;
 *   - a translation (host address and length) stays valid until the
 *     thread's next ioasid_fp_reader_quiescent() or _offline(); use the
 *     bytes before that, then announce a quiescent state regularly (every
 *     burst): an unmap waits for every online reader to do so;
 *   - go offline before blocking (sleep, poll with a timeout, long I/O),
 *     online again after; an offline reader never delays an unmap;
 *   - unregister on the same thread before it exits;
 *   - a batcher call that can block (ioasid_fp_map/unmap/wait/barrier, and
 *     a submit that fills a batch) takes an online reader offline while it
 *     blocks: it counts as a quiescent state, so translations obtained
 *     before it must not be used after it.
 * Across fork(): the child has no registered readers; it must register its
 * own threads and must not use the parent's reader handles.
 *
 * Only what translation must inline is exposed below (the snapshot and the
 * reader); everything else is opaque.
 */
#ifndef IOASID_FASTPATH_H
#define IOASID_FASTPATH_H

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define IOASID_FP_READ		(1U << 0)	/* the same bits as IOASID_DMA_* */
#define IOASID_FP_WRITE		(1U << 1)

/* One translation: [iova, last] -> hva, with perm. Exposed for inlining. */
struct ioasid_fp_entry {
	uint64_t iova;
	uint64_t last;		/* inclusive */
	uint64_t hva;
	uint32_t perm;
	uint32_t __pad;
};

#define IOASID_FP_LEAF_MAX	64

/*
 * An immutable run of entries, ascending; shared between snapshots. key[]
 * mirrors e[].iova (UINT64_MAX past n), in lines of FANOUT keys, and sep[j]
 * is key[FANOUT * (j + 1)]: the first line (n, sep) says which line of
 * keys to rank in, and that line which entry. The writer fills key[] and
 * sep[] before the leaf is published and never changes a published leaf.
 */
struct ioasid_fp_leaf {
	uint32_t n;
	uint32_t __pad;
	uint64_t sep[7];		/* one line with n; key[] starts the next */
	uint64_t key[IOASID_FP_LEAF_MAX];
	struct ioasid_fp_entry e[IOASID_FP_LEAF_MAX];
} __attribute__((aligned(64)));

/* Keys per index node: one cache line. */
#define IOASID_FP_FANOUT	8
/* Index levels: FANOUT^LEVELS leaves covers any uint32_t count. */
#define IOASID_FP_LEVELS	11

/*
 * An immutable snapshot: leaf i holds the entries whose iova is at least
 * first[i] and below first[i + 1]. Above the leaves, a static B+tree with
 * nodes of FANOUT keys (one cache line each): level[0] is first[], and
 * level[k][j] = level[k - 1][FANOUT * j]; every level is padded with
 * UINT64_MAX to whole nodes, and level[depth - 1] is one node, the root.
 * All of it is cache-line aligned. Exposed for inlining.
 */
struct ioasid_fp_snap {
	uint64_t gen;			/* increases with every publish */
	uint32_t nleaves;
	uint32_t nentries;
	const uint64_t *first;
	struct ioasid_fp_leaf *const *leaves;
	uint32_t depth;			/* levels of the index; 0 when empty */
	uint32_t __pad;
	const uint64_t *level[IOASID_FP_LEVELS];
};

struct ioasid_fp_shadow;

/* A reader: one thread translating through one shadow. Exposed for inlining. */
struct ioasid_fp_reader {
	struct ioasid_fp_snap *const *snap;	/* the shadow's published pointer */
	uint64_t last_gen;			/* generation of last_hit, or 0 */
	struct ioasid_fp_entry last_hit;
	uint64_t lookups;			/* translations that searched */
	struct ioasid_fp_shadow *shadow;
	void *priv;
};

int ioasid_fp_shadow_create(struct ioasid_fp_shadow **out);
/* No reader may be registered. NULL: nothing. */
void ioasid_fp_shadow_destroy(struct ioasid_fp_shadow *s);
uint32_t ioasid_fp_shadow_count(struct ioasid_fp_shadow *s);

int ioasid_fp_reader_register(struct ioasid_fp_shadow *s,
			      struct ioasid_fp_reader **out);
void ioasid_fp_reader_unregister(struct ioasid_fp_reader *r);
void ioasid_fp_reader_quiescent(struct ioasid_fp_reader *r);
void ioasid_fp_reader_offline(struct ioasid_fp_reader *r);
void ioasid_fp_reader_online(struct ioasid_fp_reader *r);

/*
 * How many of the FANOUT keys at @k are at most @iova: eight independent
 * compares, no branch (written out: compilers do not unroll the loop).
 */
static inline uint32_t ioasid_fp__rank(const uint64_t *k, uint64_t iova)
{
	return (uint32_t)(k[0] <= iova) + (k[1] <= iova) + (k[2] <= iova) +
	       (k[3] <= iova) + (k[4] <= iova) + (k[5] <= iova) +
	       (k[6] <= iova) + (k[7] <= iova);
}

/*
 * One line per index level and the leaf's first line: together a few KiB
 * per thousand leaves, so they stay in cache. Then one line of keys and the
 * four lines of that line's entries, all fetched at once: a lookup waits
 * for memory about once. Padding keys are UINT64_MAX, so they count for no
 * IOVA but that one, which can only lie in the last entry of all.
 */
static inline const struct ioasid_fp_entry *
ioasid_fp__find(const struct ioasid_fp_snap *s, uint64_t iova)
{
	const struct ioasid_fp_leaf *leaf;
	const struct ioasid_fp_entry *e;
	uint32_t i = 0, b;

	if (!s->nleaves || iova < s->first[0])
		return 0;
	if (__builtin_expect(iova == UINT64_MAX, 0)) {
		leaf = s->leaves[s->nleaves - 1];
		e = &leaf->e[leaf->n - 1];
		return e->last == UINT64_MAX ? e : 0;
	}
	/* Last leaf with first <= iova: the root's key 0 is first[0]. */
	for (uint32_t lv = s->depth - 1; lv; lv--)
		i = IOASID_FP_FANOUT * i +
		    ioasid_fp__rank(s->level[lv] + IOASID_FP_FANOUT * i,
				    iova) - 1;
	/* The line of leaf pointers while the last node ranks. */
	i *= IOASID_FP_FANOUT;
	__builtin_prefetch(&s->leaves[i]);
	leaf = s->leaves[i + ioasid_fp__rank(s->first + i, iova) - 1];
	b = (uint32_t)(leaf->sep[0] <= iova) + (leaf->sep[1] <= iova) +
	    (leaf->sep[2] <= iova) + (leaf->sep[3] <= iova) +
	    (leaf->sep[4] <= iova) + (leaf->sep[5] <= iova) +
	    (leaf->sep[6] <= iova);
	b *= IOASID_FP_FANOUT;
	/* Entries are 32 bytes: FANOUT of them are four lines. */
	for (int j = 0; j < IOASID_FP_FANOUT; j += 2)
		__builtin_prefetch(&leaf->e[b + j]);
	/* key[b] <= iova (b = 0: key[0] = first[i]). */
	e = &leaf->e[b + ioasid_fp__rank(leaf->key + b, iova) - 1];
	return iova <= e->last ? e : 0;
}

/*
 * Translate [iova, iova + len) for @perm. On success *hva is the host
 * address of @iova and *contig the bytes contiguous from it (at most
 * @len): walk a buffer that crosses mappings by calling again at
 * iova + *contig. -EFAULT: not mapped. -EACCES: mapped without @perm.
 */
static inline int ioasid_fp_translate(struct ioasid_fp_reader *r,
				      uint64_t iova, uint64_t len,
				      uint32_t perm, void **hva,
				      uint64_t *contig)
{
	const struct ioasid_fp_snap *s = __atomic_load_n(r->snap,
							 __ATOMIC_ACQUIRE);
	const struct ioasid_fp_entry *e = &r->last_hit;
	uint64_t avail;

	if (__builtin_expect(r->last_gen != s->gen ||
			     iova - e->iova > e->last - e->iova, 0)) {
		r->lookups++;
		e = ioasid_fp__find(s, iova);
		if (!e)
			return -EFAULT;
		r->last_hit = *e;
		r->last_gen = s->gen;
	}
	if ((e->perm & perm) != perm)
		return -EACCES;
	*hva = (void *)(uintptr_t)(e->hva + (iova - e->iova));
	avail = e->last - iova;		/* bytes after iova, minus one */
	*contig = len - 1 <= avail ? len : avail + 1;
	return 0;
}

/* Requests for the batcher. */
enum ioasid_fp_kind {
	IOASID_FP_MAP = 1,
	IOASID_FP_UNMAP = 2,
};

struct ioasid_fp_op {
	uint32_t kind;			/* enum ioasid_fp_kind */
	uint32_t perm;			/* map: IOASID_FP_READ/WRITE */
	uint64_t iova;
	uint64_t hva;			/* map */
	uint64_t len;
};

/*
 * A request in flight. The caller owns it and keeps it alive until
 * ioasid_fp_wait() returned; the fields below "private" are the batcher's.
 */
struct ioasid_fp_req {
	struct ioasid_fp_op op;
	int result;			/* 0 or -errno, once done */
	uint64_t unmapped;		/* unmap: bytes removed */
	/* private */
	uint32_t state;
	uint32_t merged;
	struct ioasid_fp_req *next;
};

/*
 * A backend applies ops to the real address space. map and unmap get n
 * entries of one kind and are all or nothing: on failure nothing is
 * applied and *fail_index names the entry at fault (UINT32_MAX if none).
 * A backend without IOASID_FP_BE_BATCH is only ever given n = 1.
 */
#define IOASID_FP_BE_BATCH		(1U << 0)
#define IOASID_FP_BE_PARTIAL_UNMAP	(1U << 1)	/* an unmap may cut a
							 * mapping, keeping the
							 * rest */
#define IOASID_FP_BE_UNMAP_OVERLAP	(1U << 2)	/* an unmap removes every
							 * mapping it overlaps,
							 * whole (vhost IOTLB) */

struct ioasid_fp_backend;

struct ioasid_fp_backend_ops {
	int (*map)(struct ioasid_fp_backend *be, const struct ioasid_fp_op *ops,
		   uint32_t n, uint32_t *fail_index);
	int (*unmap)(struct ioasid_fp_backend *be,
		     const struct ioasid_fp_op *ops, uint32_t n,
		     uint32_t *fail_index);
	void (*destroy)(struct ioasid_fp_backend *be);
};

struct ioasid_fp_backend {
	const struct ioasid_fp_backend_ops *ops;
	const char *name;
	uint32_t caps;
	uint32_t max_batch;		/* entries per call; 0: no limit */
	uint64_t calls;			/* backend calls made */
	void *priv;
};

struct ioasid_handle;

/*
 * Stock-kernel backends, for the fast path without the project's module.
 * VFIO type1 (v2): one VFIO_IOMMU_MAP_DMA / UNMAP_DMA per entry on a
 * container fd whose IOMMU is set. vhost-vdpa: VHOST_IOTLB_MSG_V2
 * messages written to the device fd for address space @asid, wrapped in
 * VHOST_IOTLB_BATCH_BEGIN/END when @backend_features (as negotiated with
 * VHOST_SET_BACKEND_FEATURES) has VHOST_BACKEND_F_IOTLB_BATCH.
 */
int ioasid_fp_backend_vfio(int container_fd, struct ioasid_fp_backend **out);
int ioasid_fp_backend_vhost_vdpa(int vdpa_fd, uint32_t asid,
				 uint64_t backend_features,
				 struct ioasid_fp_backend **out);

/* Shadow only: no translation below the shadow (a vhost-user device). */
int ioasid_fp_backend_none(struct ioasid_fp_backend **out);

/* libioasid (embedded or kernel): batches through IOASID_*_BATCH. */
int ioasid_fp_backend_ioasid(struct ioasid_handle *h, uint32_t ioasid,
			     struct ioasid_fp_backend **out);
/* Any backend above; NULL: nothing. */
void ioasid_fp_backend_destroy(struct ioasid_fp_backend *be);

struct ioasid_fp_batcher;

/*
 * Read size-first, as the uAPI's structs are: size is the struct's size
 * as the caller was built, at least the first version's, which ends at
 * flags (today's struct); fields past the caller's size read as 0, and a
 * larger size needs every byte past today's struct to be 0 (E2BIG).
 */
struct ioasid_fp_batcher_cfg {
	uint32_t size;			/* sizeof(struct ioasid_fp_batcher_cfg) */
	uint32_t max_batch;		/* flush at this many pending; 0: 256 */
	uint32_t deadline_us;		/* flush this long after the first
					 * pending request (a flusher thread);
					 * 0: only by count or barrier */
	uint32_t flags;			/* IOASID_FP_NO_COALESCE */
};

#define IOASID_FP_NO_COALESCE	(1U << 0)

int ioasid_fp_batcher_create(struct ioasid_fp_shadow *s,
			     struct ioasid_fp_backend *be,
			     const struct ioasid_fp_batcher_cfg *cfg,
			     struct ioasid_fp_batcher **out);
/*
 * Flushes what is pending, then frees; the backend stays the caller's.
 * NULL: nothing.
 */
void ioasid_fp_batcher_destroy(struct ioasid_fp_batcher *b);

/* Queue a request; may flush inline when max_batch requests are pending. */
int ioasid_fp_submit(struct ioasid_fp_batcher *b, struct ioasid_fp_req *req);
/* Wait for a request (flushing if needed); returns its result. */
int ioasid_fp_wait(struct ioasid_fp_batcher *b, struct ioasid_fp_req *req);
/* Flush everything pending now; returns when it is done. */
void ioasid_fp_barrier(struct ioasid_fp_batcher *b);

/* Synchronous helpers: submit and wait. */
int ioasid_fp_map(struct ioasid_fp_batcher *b, uint64_t iova, void *hva,
		  uint64_t len, uint32_t perm);
int ioasid_fp_unmap(struct ioasid_fp_batcher *b, uint64_t iova, uint64_t len,
		    uint64_t *unmapped);

struct ioasid_fp_stats {
	uint64_t submitted;		/* requests */
	uint64_t flushes;
	uint64_t cancelled;		/* map+unmap pairs never sent */
	uint64_t merged;		/* maps merged into a neighbour */
	uint64_t backend_calls;
	uint64_t backend_entries;
	uint64_t retries;		/* backend calls repeated after a failure */
	uint64_t grace_periods;
};

void ioasid_fp_batcher_stats(struct ioasid_fp_batcher *b,
			     struct ioasid_fp_stats *st);

#ifdef __cplusplus
}
#endif

#endif /* IOASID_FASTPATH_H */
