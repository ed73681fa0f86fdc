// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/*
 * The shadow: a userspace mirror of one address space that data-path
 * threads read with no lock.
 *
 * Structure. A published snapshot is immutable: a top array of leaf
 * pointers with each leaf's first IOVA, and leaves of up to 64 entries,
 * sorted and non-overlapping. Over the top array each snapshot carries a
 * static B+tree (snap_index()): nodes of 8 keys, one cache line each,
 * level[0] being first[] itself; each leaf carries its entries' IOVAs in
 * key[] (8 lines of 8) and, in its first line, sep[] (the first key of
 * key lines 1-7). A lookup (ioasid_fp__find()) ranks one line per index
 * level, the leaf's first line, one line of keys, then reads one entry.
 * The index levels and the leaves' first lines are small (8 bytes a leaf
 * per level, 64 bytes a leaf): they stay in cache, and a lookup waits for
 * memory about once, for the line of keys and its entries, fetched
 * together.
 *
 * The writer never changes a published leaf: for each op it gathers the
 * run of leaves the op's range falls in, applies the op to a copy, cuts
 * the result into new leaves and splices them into a fresh top array. A
 * leaf this apply built is not visible yet and is edited in place.
 * Untouched leaves are shared with the previous snapshot, so an update
 * costs the touched leaves plus the top array and its index (a pointer and
 * about 8/7 of a key per leaf), not the whole table. key[] and sep[] of the
 * new leaves and the index are filled before the publish (leaf_seal(),
 * snap_index()), with plain stores.
 *
 * Partition invariant: leaf i holds exactly the entries whose iova lies in
 * [first[i], first[i + 1]); first[i] is the iova of its first entry. An op
 * on [a, b] only concerns leaves owner(a)..owner(b) (owner(x) = the last
 * leaf with first <= x, or leaf 0), because entries never overlap: an
 * entry that starts before first[owner(a)] ends before it.
 *
 * The shadow keeps that invariant itself, whatever a backend accepts: a
 * map over entries it overlaps replaces them on [a, b] (what lies outside
 * the range stays), as a vhost IOTLB update replaces what it covers. So at
 * most one entry (one that strictly contains [a, b]) splits in two per op,
 * which bounds every array below: an op on k entries yields at most k + 2.
 *
 * Publication and reclamation. The new snapshot is published with a
 * release store; readers load it with acquire (ioasid_fp_translate): that
 * one pair orders everything a reader reaches from the snapshot (the index
 * levels, the top arrays, new leaves with their key[] and sep[]) after the
 * writer's stores to it, so no reader sees a half-built node. What
 * a publish replaced (the old top array and the leaves it no longer
 * shares) is retired and freed by shadow_sync() after
 * urcu_qsbr_synchronize_rcu(). ThreadSanitizer does not see liburcu's
 * barriers, so under TSan each reader thread releases a per-thread token at
 * every quiescent state and the writer acquires all of them after the
 * grace period: that is exactly the ordering the grace period guarantees.
 *
 * Locking: s->lock protects the retired list; threads_lock the list of
 * registered threads; the writer (one batcher) is serialized by the caller.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "fastpath_priv.h"

#if defined(__SANITIZE_THREAD__)
#define FP_TSAN 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define FP_TSAN 1
#endif
#endif

/*
 * liburcu's inline fast paths (_LGPL_SOURCE) use deliberate unannotated
 * races on its futex word; compiled into our objects they would be
 * instrumented and reported. Under TSan we call the library's out-of-line
 * functions instead; otherwise the inline ones.
 */
#ifndef FP_TSAN
#define _LGPL_SOURCE
#endif
#include <urcu/urcu-qsbr.h>

#ifdef FP_TSAN
void __tsan_acquire(void *addr);
void __tsan_release(void *addr);
#define tsan_acquire(p) __tsan_acquire(p)
#define tsan_release(p) __tsan_release(p)
#else
#define tsan_acquire(p) do { (void)(p); } while (0)
#define tsan_release(p) do { (void)(p); } while (0)
#endif

/* Leaves are cut at most this full, leaving room to grow in place. */
#define LEAF_FILL	48

/* What one publish replaced: freed together after a grace period. */
struct retired {
	struct retired *next;
	struct ioasid_fp_snap *snap;
	struct ioasid_fp_leaf **leaves;
	uint32_t n;
};

struct reader_node {
	struct ioasid_fp_reader r;
};

/*
 * One record per thread registered with liburcu: under TSan its token is
 * released at each quiescent state and acquired by writers after a grace
 * period. The list is protected by threads_lock.
 */
struct qsbr_thread {
	int tsan_token;
	struct qsbr_thread *next;
};

static pthread_mutex_t threads_lock = PTHREAD_MUTEX_INITIALIZER;
static struct qsbr_thread *threads;
static __thread struct qsbr_thread *self;

struct ioasid_fp_shadow {
	struct ioasid_fp_snap *snap;	/* published; atomic */
	pthread_mutex_t lock;		/* retired */
	struct retired *retired;
	uint64_t gen;
	uint32_t flush_tag;		/* marks leaves built by this apply */
	uint32_t count;			/* entries published; atomic */
};

/* A thread registers with liburcu once, however many readers it has. */
static __thread unsigned int qsbr_refs;

/* ioasid_fp__rank() and the leaf's sep[] are written out for these. */
_Static_assert(IOASID_FP_FANOUT == 8 && IOASID_FP_LEAF_MAX == 64 &&
	       sizeof(((struct ioasid_fp_leaf *)0)->sep) == 7 * 8,
	       "the lookup ranks 8 keys a line and 7 separators a leaf");

/* Entries of index level sizes rounded up to whole nodes. */
static uint32_t whole_nodes(uint32_t n)
{
	return (n + IOASID_FP_FANOUT - 1) / IOASID_FP_FANOUT * IOASID_FP_FANOUT;
}

/*
 * A snapshot of @nleaves leaves with room for its index, in one block
 * aligned to a cache line: the header, then every index level (level[0]
 * is first[]), each a whole number of nodes, then the leaf pointers. The
 * caller fills first[] and leaves[] (nleaves of each), then calls
 * snap_index().
 */
static struct ioasid_fp_snap *snap_alloc(uint32_t nleaves)
{
	struct ioasid_fp_snap *s;
	size_t hdr = (sizeof(*s) + 63) & ~(size_t)63, keys = 0, sz;
	uint32_t depth = 0, n = nleaves;
	uint64_t *k;

	if (n) {
		for (depth = 1;; depth++) {
			keys += whole_nodes(n);
			if (n <= IOASID_FP_FANOUT)
				break;
			n = (n + IOASID_FP_FANOUT - 1) / IOASID_FP_FANOUT;
		}
	}
	sz = hdr + keys * sizeof(uint64_t) + nleaves * sizeof(void *);
	s = aligned_alloc(64, (sz + 63) & ~(size_t)63);
	if (!s)
		return NULL;
	memset(s, 0, sizeof(*s));
	k = (uint64_t *)((char *)s + hdr);
	n = nleaves;
	for (uint32_t lv = 0; lv < depth; lv++) {
		s->level[lv] = k;
		k += whole_nodes(n);
		n = (n + IOASID_FP_FANOUT - 1) / IOASID_FP_FANOUT;
	}
	s->first = nleaves ? s->level[0] : (const uint64_t *)k;
	s->leaves = (struct ioasid_fp_leaf *const *)k;
	s->nleaves = nleaves;
	s->depth = depth;
	return s;
}

/*
 * Build the levels above first[] (filled by the caller) and pad every
 * level with UINT64_MAX. The snapshot is not published yet: plain stores.
 */
static void snap_index(struct ioasid_fp_snap *s)
{
	uint32_t n = s->nleaves;

	for (uint32_t lv = 0; lv < s->depth; lv++) {
		uint64_t *k = (uint64_t *)s->level[lv];

		if (lv)
			for (uint32_t j = 0; j < n; j++)
				k[j] = s->level[lv - 1][IOASID_FP_FANOUT * j];
		for (uint32_t j = n; j < whole_nodes(n); j++)
			k[j] = UINT64_MAX;
		n = (n + IOASID_FP_FANOUT - 1) / IOASID_FP_FANOUT;
	}
}

/* A leaf for the writer; its key[] is filled by leaf_seal(). */
static struct ioasid_fp_leaf *leaf_alloc(void)
{
	return aligned_alloc(64, sizeof(struct ioasid_fp_leaf));
}

/* Before a leaf is published: key[] mirrors e[].iova, padded; sep[] key[]. */
static void leaf_seal(struct ioasid_fp_leaf *l)
{
	uint32_t k;

	for (k = 0; k < l->n; k++)
		l->key[k] = l->e[k].iova;
	for (; k < IOASID_FP_LEAF_MAX; k++)
		l->key[k] = UINT64_MAX;
	for (k = 0; k < IOASID_FP_LEAF_MAX / IOASID_FP_FANOUT - 1; k++)
		l->sep[k] = l->key[IOASID_FP_FANOUT * (k + 1)];
}

int ioasid_fp_shadow_create(struct ioasid_fp_shadow **out)
{
	struct ioasid_fp_shadow *s = calloc(1, sizeof(*s));

	if (!s)
		return -ENOMEM;
	s->snap = snap_alloc(0);
	if (!s->snap) {
		free(s);
		return -ENOMEM;
	}
	s->gen = 1;
	s->snap->gen = 1;
	pthread_mutex_init(&s->lock, NULL);
	*out = s;
	return 0;
}

static void free_retired(struct retired *r)
{
	while (r) {
		struct retired *next = r->next;

		for (uint32_t i = 0; i < r->n; i++)
			free(r->leaves[i]);
		free(r->leaves);
		free(r->snap);
		free(r);
		r = next;
	}
}

void ioasid_fp_shadow_destroy(struct ioasid_fp_shadow *s)
{
	struct ioasid_fp_snap *snap;

	if (!s)
		return;
	snap = s->snap;
	for (uint32_t i = 0; i < snap->nleaves; i++)
		free((void *)snap->leaves[i]);
	free(snap);
	free_retired(s->retired);
	pthread_mutex_destroy(&s->lock);
	free(s);
}

/* Any thread may ask, reader or not: no snapshot is dereferenced. */
uint32_t ioasid_fp_shadow_count(struct ioasid_fp_shadow *s)
{
	return __atomic_load_n(&s->count, __ATOMIC_ACQUIRE);
}

int ioasid_fp_reader_register(struct ioasid_fp_shadow *s,
			      struct ioasid_fp_reader **out)
{
	struct reader_node *n = calloc(1, sizeof(*n));

	if (!n)
		return -ENOMEM;
	if (!qsbr_refs) {
		self = calloc(1, sizeof(*self));
		if (!self) {
			free(n);
			return -ENOMEM;
		}
		pthread_mutex_lock(&threads_lock);
		self->next = threads;
		threads = self;
		pthread_mutex_unlock(&threads_lock);
		urcu_qsbr_register_thread();
	}
	qsbr_refs++;
	n->r.snap = (struct ioasid_fp_snap *const *)&s->snap;
	n->r.shadow = s;
	n->r.priv = n;
	*out = &n->r;
	return 0;
}

void ioasid_fp_reader_unregister(struct ioasid_fp_reader *r)
{
	struct qsbr_thread **link;

	free(r->priv);
	if (--qsbr_refs)
		return;
	urcu_qsbr_unregister_thread();
	/* The unlock orders this thread's reads before later frees. */
	pthread_mutex_lock(&threads_lock);
	for (link = &threads; *link; link = &(*link)->next) {
		if (*link == self) {
			*link = self->next;
			break;
		}
	}
	pthread_mutex_unlock(&threads_lock);
	free(self);
	self = NULL;
}

void ioasid_fp_reader_quiescent(struct ioasid_fp_reader *r)
{
	(void)r;
	tsan_release(&self->tsan_token);
	urcu_qsbr_quiescent_state();
}

void ioasid_fp_reader_offline(struct ioasid_fp_reader *r)
{
	(void)r;
	tsan_release(&self->tsan_token);
	urcu_qsbr_thread_offline();
}

void ioasid_fp_reader_online(struct ioasid_fp_reader *r)
{
	(void)r;
	urcu_qsbr_thread_online();
}

bool fp_block_begin(void)
{
	if (!qsbr_refs || !urcu_qsbr_read_ongoing())
		return false;
	tsan_release(&self->tsan_token);
	urcu_qsbr_thread_offline();
	return true;
}

void fp_block_end(bool was_online)
{
	if (was_online)
		urcu_qsbr_thread_online();
}

void shadow_sync(struct ioasid_fp_shadow *s)
{
	struct qsbr_thread *t;
	struct retired *r;
	/* A writer that is also an online reader must not wait for itself. */
	bool on = fp_block_begin();

	urcu_qsbr_synchronize_rcu();
	fp_block_end(on);
	pthread_mutex_lock(&threads_lock);
	for (t = threads; t; t = t->next)
		tsan_acquire(&t->tsan_token);
	pthread_mutex_unlock(&threads_lock);
	pthread_mutex_lock(&s->lock);
	r = s->retired;
	s->retired = NULL;
	pthread_mutex_unlock(&s->lock);
	free_retired(r);
}

/* ---- the writer: a mutable top array during one apply ---- */

struct work {
	uint64_t *first;
	struct ioasid_fp_leaf **leaves;
	uint32_t n;
	uint32_t cap;
	struct ioasid_fp_leaf **gone;	/* published leaves replaced */
	uint32_t ngone;
	uint32_t capgone;
	uint32_t tag;			/* marks leaves built by this apply */
};

static uint32_t owner(const uint64_t *first, uint32_t n, uint64_t iova)
{
	uint32_t lo = 0, hi = n;

	if (!hi || iova < first[0])
		return 0;
	while (hi - lo > 1) {
		uint32_t mid = (lo + hi) / 2;

		if (first[mid] <= iova)
			lo = mid;
		else
			hi = mid;
	}
	return lo;
}

static int grow_array(void **p, uint32_t *cap, uint32_t need, size_t elem)
{
	uint32_t c = *cap ? *cap : 16;
	void *q;

	if (need <= *cap)
		return 0;
	while (c < need)
		c *= 2;
	q = realloc(*p, c * elem);
	if (!q)
		return -ENOMEM;
	*p = q;
	*cap = c;
	return 0;
}

static int grow(struct work *w, uint32_t need)
{
	uint32_t cap = w->cap;

	if (grow_array((void **)&w->first, &cap, need, sizeof(*w->first)))
		return -ENOMEM;
	cap = w->cap;
	if (grow_array((void **)&w->leaves, &cap, need, sizeof(*w->leaves)))
		return -ENOMEM;
	w->cap = cap;
	return 0;
}

/*
 * Leave a leaf out of the new table: free it now if this apply built it,
 * else keep it for retirement. Room in w->gone was reserved by the caller.
 */
static void drop_leaf(struct work *w, struct ioasid_fp_leaf *l)
{
	if (l->__pad == w->tag)
		free(l);
	else
		w->gone[w->ngone++] = l;
}

/*
 * Take [a, b] out of @e, appending what remains (nothing, a head, a tail,
 * or both) to @out; with @whole the entry goes entirely, as a vhost IOTLB
 * drops every mapping an invalidation overlaps. Returns the bytes removed.
 * @e must overlap [a, b].
 */
static uint64_t cut_entry(struct ioasid_fp_entry e, uint64_t a, uint64_t b,
			  bool whole, struct ioasid_fp_entry *out, uint32_t *n)
{
	if (whole)
		return e.last - e.iova + 1;
	if (e.iova < a) {
		out[*n] = e;
		out[(*n)++].last = a - 1;
	}
	if (e.last > b) {
		out[*n] = e;
		out[*n].hva = e.hva + (b + 1 - e.iova);
		out[(*n)++].iova = b + 1;
	}
	return (e.last < b ? e.last : b) - (e.iova > a ? e.iova : a) + 1;
}

/*
 * The common case of a flush: an op inside one leaf that this apply built
 * itself (so no reader can see it yet) and that has room. Edit it in place:
 * no allocation, no copy of the rest of the leaf. Returns false when the
 * op needs the general path (a published leaf, a run of leaves, a full
 * leaf, or a leaf that would become empty).
 */
static bool apply_in_place(struct work *w, const struct ioasid_fp_op *op,
			   uint64_t *unmapped)
{
	uint64_t a = op->iova, b = op->iova + op->len - 1, removed = 0;
	struct ioasid_fp_entry tmp[IOASID_FP_LEAF_MAX + 2];
	struct ioasid_fp_leaf *l;
	uint32_t lo, k, n = 0;

	if (!w->n)
		return false;
	lo = owner(w->first, w->n, a);
	if (lo != owner(w->first, w->n, b))
		return false;
	l = w->leaves[lo];
	if (l->__pad != w->tag)
		return false;
	if (op->kind == IOASID_FP_MAP) {
		if (l->n >= IOASID_FP_LEAF_MAX)
			return false;
		for (k = 0; k < l->n; k++)
			if (l->e[k].last >= a && l->e[k].iova <= b)
				return false;	/* a replacement */
		for (k = l->n; k > 0 && l->e[k - 1].iova > a; k--)
			l->e[k] = l->e[k - 1];
		l->e[k] = (struct ioasid_fp_entry){ .iova = a, .last = b,
						    .hva = op->hva,
						    .perm = op->perm };
		l->n++;
		w->first[lo] = l->e[0].iova;
		if (unmapped)
			*unmapped = 0;
		return true;
	}
	for (k = 0; k < l->n; k++) {
		struct ioasid_fp_entry e = l->e[k];

		if (e.last < a || e.iova > b)
			tmp[n++] = e;
		else
			removed += cut_entry(e, a, b, op->perm & FP_UNMAP_WHOLE,
					     tmp, &n);
	}
	if (!n || n > IOASID_FP_LEAF_MAX)
		return false;
	memcpy(l->e, tmp, n * sizeof(*tmp));
	l->n = n;
	w->first[lo] = l->e[0].iova;
	if (unmapped)
		*unmapped = removed;
	return true;
}

/* Apply one op to the run of leaves it concerns and splice the result. */
static int apply_op(struct work *w, const struct ioasid_fp_op *op,
		    uint64_t *unmapped)
{
	uint64_t a = op->iova, b = op->iova + op->len - 1, removed = 0;
	uint32_t lo = owner(w->first, w->n, a), hi = owner(w->first, w->n, b);
	uint32_t old = w->n ? hi - lo + 1 : 0, i, k, n = 0, nl, per;
	struct ioasid_fp_leaf **fresh = NULL;
	struct ioasid_fp_entry *v;
	size_t cap = 2;		/* one split and one insert (see the top) */
	int rc = -ENOMEM;

	for (i = 0; i < old; i++)
		cap += w->leaves[lo + i]->n;
	v = malloc(cap * sizeof(*v));
	if (!v)
		return -ENOMEM;
	for (i = 0; i < old; i++) {
		const struct ioasid_fp_leaf *l = w->leaves[lo + i];

		for (k = 0; k < l->n; k++) {
			struct ioasid_fp_entry e = l->e[k];

			if (e.last < a || e.iova > b)
				v[n++] = e;
			else	/* an unmap, or a map that replaces */
				removed += cut_entry(e, a, b,
						     op->kind == IOASID_FP_UNMAP &&
						     (op->perm & FP_UNMAP_WHOLE),
						     v, &n);
		}
	}
	if (op->kind == IOASID_FP_MAP) {
		/* Keep v sorted: insert in place. */
		for (k = n; k > 0 && v[k - 1].iova > a; k--)
			v[k] = v[k - 1];
		v[k] = (struct ioasid_fp_entry){ .iova = a, .last = b,
						 .hva = op->hva,
						 .perm = op->perm };
		n++;
	}
	/* Cut into leaves of at most LEAF_FILL entries, evenly. */
	nl = (n + LEAF_FILL - 1) / LEAF_FILL;
	per = nl ? (n + nl - 1) / nl : 0;
	if (nl) {
		fresh = calloc(nl, sizeof(*fresh));
		if (!fresh)
			goto out;
	}
	for (i = 0; i < nl; i++) {
		uint32_t from = i * per, cnt = n - from < per ? n - from : per;

		fresh[i] = leaf_alloc();
		if (!fresh[i])
			goto out_fresh;
		fresh[i]->n = cnt;
		fresh[i]->__pad = w->tag;
		memcpy(fresh[i]->e, v + from, cnt * sizeof(*v));
	}
	if (grow(w, w->n - old + nl) ||
	    grow_array((void **)&w->gone, &w->capgone, w->ngone + old,
		       sizeof(*w->gone)))
		goto out_fresh;
	/* Nothing below fails. */
	for (i = 0; i < old; i++)
		drop_leaf(w, w->leaves[lo + i]);
	memmove(w->leaves + lo + nl, w->leaves + lo + old,
		(w->n - lo - old) * sizeof(*w->leaves));
	memmove(w->first + lo + nl, w->first + lo + old,
		(w->n - lo - old) * sizeof(*w->first));
	for (i = 0; i < nl; i++) {
		w->leaves[lo + i] = fresh[i];
		w->first[lo + i] = fresh[i]->e[0].iova;
	}
	w->n = w->n - old + nl;
	if (unmapped)
		*unmapped = removed;
	rc = 0;
	goto out;
out_fresh:
	for (i = 0; i < nl; i++)
		free(fresh[i]);
out:
	free(fresh);
	free(v);
	return rc;
}

/*
 * Undo after a failed apply: free every leaf this apply built. Leaves in
 * w->gone are still referenced by the published snapshot: keep them.
 */
static void work_abort(struct work *w)
{
	for (uint32_t i = 0; i < w->n; i++)
		if (w->leaves[i]->__pad == w->tag)
			free(w->leaves[i]);
	free(w->first);
	free(w->leaves);
	free(w->gone);
}

int shadow_apply(struct ioasid_fp_shadow *s, const struct ioasid_fp_op *ops,
		 uint32_t n, uint64_t *unmapped)
{
	struct ioasid_fp_snap *old = s->snap, *snap = NULL;
	struct work w = { 0 };
	struct retired *ret;
	uint32_t i, total = 0;
	int rc = 0;

	w.tag = ++s->flush_tag ? s->flush_tag : ++s->flush_tag;
	if (grow(&w, old->nleaves + 1)) {
		work_abort(&w);
		return -ENOMEM;
	}
	memcpy(w.first, old->first, old->nleaves * sizeof(*w.first));
	memcpy(w.leaves, old->leaves, old->nleaves * sizeof(*w.leaves));
	w.n = old->nleaves;
	for (i = 0; i < n && !rc; i++)
		if (!apply_in_place(&w, &ops[i], unmapped ? &unmapped[i] : NULL))
			rc = apply_op(&w, &ops[i],
				      unmapped ? &unmapped[i] : NULL);
	/* Everything that can fail happens before the publish point. */
	ret = rc ? NULL : calloc(1, sizeof(*ret));
	if (ret)
		snap = snap_alloc(w.n);
	if (!snap) {
		free(ret);
		work_abort(&w);
		return rc ? rc : -ENOMEM;
	}
	memcpy((uint64_t *)snap->first, w.first, w.n * sizeof(*w.first));
	memcpy((void *)snap->leaves, w.leaves, w.n * sizeof(*w.leaves));
	snap_index(snap);
	for (i = 0; i < w.n; i++) {
		total += w.leaves[i]->n;
		if (w.leaves[i]->__pad == w.tag) {
			/* Not visible yet: the publish below releases these. */
			leaf_seal(w.leaves[i]);
			w.leaves[i]->__pad = 0;
		}
	}
	snap->nentries = total;
	snap->gen = ++s->gen;
	free(w.first);
	free(w.leaves);
	/*
	 * Publish point: readers see the whole new snapshot or the old. The
	 * release orders the stores above (top arrays, index, sealed leaves)
	 * before the pointer; readers' acquire load pairs with it.
	 */
	__atomic_store_n(&s->snap, snap, __ATOMIC_RELEASE);
	__atomic_store_n(&s->count, total, __ATOMIC_RELEASE);
	ret->snap = old;
	ret->leaves = w.gone;
	ret->n = w.ngone;
	pthread_mutex_lock(&s->lock);
	ret->next = s->retired;
	s->retired = ret;
	pthread_mutex_unlock(&s->lock);
	return 0;
}

bool shadow_overlaps(struct ioasid_fp_shadow *s, uint64_t iova, uint64_t len)
{
	return shadow_mapped(s, iova, len) != 0;
}

uint64_t shadow_mapped(struct ioasid_fp_shadow *s, uint64_t iova, uint64_t len)
{
	const struct ioasid_fp_snap *snap = s->snap;
	uint64_t a = iova, b = iova + len - 1, bytes = 0;
	uint32_t i, k;

	for (i = owner(snap->first, snap->nleaves, a); i < snap->nleaves; i++) {
		const struct ioasid_fp_leaf *l = snap->leaves[i];

		if (snap->first[i] > b)
			break;
		for (k = 0; k < l->n; k++) {
			const struct ioasid_fp_entry *e = &l->e[k];

			if (e->last < a || e->iova > b)
				continue;
			bytes += (e->last < b ? e->last : b) -
				 (e->iova > a ? e->iova : a) + 1;
		}
	}
	return bytes;
}
