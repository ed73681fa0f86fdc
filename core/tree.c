// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/*
 * The two trees of the engine, both treaps over struct ioasid_mapping.
 *
 * A treap is a binary search tree by key that is also a heap by priority.
 * Here a node's priority is a 64-bit mix of its own address, so it costs no
 * memory and the tree's shape is a pure function of its set of nodes: for
 * a given set there is exactly one treap. That canonical shape is what
 * makes undo cheap and safe: re-inserting the nodes a failed batch removed
 * restores the very same tree. Expected depth is about 2 ln n (28 at a
 * million mappings); no node stores a parent pointer or a colour, so each
 * tree costs two pointers per mapping.
 *
 * IOVA tree ("it_"), one per ioasid: keys are iova, unique because mappings
 * never overlap. Insert, remove, split and merge are iterative; nothing
 * here recurses.
 *
 * vaddr tree ("vt_"), one per context: keys are (vaddr, node address), so
 * overlapping and identical ranges coexist (the same buffer mapped into
 * two ioasids). Each node carries vmax, the largest vaddr_last in its
 * subtree, which lets vt_covered() find the part of a range that other
 * mappings already pin, in O(log n + k) for k overlapping mappings. These
 * functions recurse, to depth at most the tree's depth.
 *
 * Terms: "last" is inclusive; lengths are last - start + 1.
 */
#include "core_priv.h"

/* A total order on priorities: the mix is a bijection, ties cannot occur. */
static inline bool prio_above(const struct ioasid_mapping *a,
			      const struct ioasid_mapping *b)
{
	return mapping_prio(a) > mapping_prio(b);
}

struct ioasid_mapping *it_find_le(struct ioasid_mapping *t, u64 key)
{
	struct ioasid_mapping *best = NULL;

	while (t) {
		if (t->iova <= key) {
			best = t;
			t = t->ir;
		} else {
			t = t->il;
		}
	}
	return best;
}

struct ioasid_mapping *it_first_ge(struct ioasid_mapping *t, u64 key)
{
	struct ioasid_mapping *best = NULL;

	while (t) {
		if (t->iova >= key) {
			best = t;
			t = t->il;
		} else {
			t = t->ir;
		}
	}
	return best;
}

struct ioasid_mapping *it_max(struct ioasid_mapping *t)
{
	if (!t)
		return NULL;
	while (t->ir)
		t = t->ir;
	return t;
}

/* lo gets every node with iova < key, hi the rest. */
void it_split(struct ioasid_mapping *t, u64 key, struct ioasid_mapping **lo,
	      struct ioasid_mapping **hi)
{
	struct ioasid_mapping **lp = lo, **hp = hi;

	while (t) {
		if (t->iova < key) {
			*lp = t;
			lp = &t->ir;
			t = t->ir;
		} else {
			*hp = t;
			hp = &t->il;
			t = t->il;
		}
	}
	*lp = NULL;
	*hp = NULL;
}

/* Every key of a is below every key of b. */
struct ioasid_mapping *it_merge(struct ioasid_mapping *a,
				struct ioasid_mapping *b)
{
	struct ioasid_mapping *root = NULL, **link = &root;

	while (a && b) {
		if (prio_above(a, b)) {
			*link = a;
			link = &a->ir;
			a = a->ir;
		} else {
			*link = b;
			link = &b->il;
			b = b->il;
		}
	}
	*link = a ? a : b;
	return root;
}

void it_insert(struct ioasid_mapping **root, struct ioasid_mapping *m)
{
	struct ioasid_mapping **link = root, *t;

	while ((t = *link) && prio_above(t, m))
		link = m->iova < t->iova ? &t->il : &t->ir;
	it_split(t, m->iova, &m->il, &m->ir);
	*link = m;
}

void it_remove(struct ioasid_mapping **root, struct ioasid_mapping *m)
{
	struct ioasid_mapping **link = root;

	while (*link != m) {
		if (IOH_WARN_ON(!*link))
			return;
		link = m->iova < (*link)->iova ? &(*link)->il : &(*link)->ir;
	}
	*link = it_merge(m->il, m->ir);
}

/*
 * Flatten a detached tree into a chain through ->next, in IOVA order, by
 * rotating left children up until none is left (no stack, O(n)). The
 * nodes' tree links are meaningless afterwards.
 */
struct ioasid_mapping *it_to_chain(struct ioasid_mapping *t)
{
	struct ioasid_mapping *head = NULL, **tail = &head;

	while (t) {
		struct ioasid_mapping *l = t->il;

		if (l) {
			t->il = l->ir;
			l->ir = t;
			t = l;
		} else {
			*tail = t;
			tail = &t->next;
			t = t->ir;
		}
	}
	*tail = NULL;
	return head;
}

static inline bool vt_less(const struct ioasid_mapping *a,
			   const struct ioasid_mapping *b)
{
	if (a->vaddr != b->vaddr)
		return a->vaddr < b->vaddr;
	return (uintptr_t)a < (uintptr_t)b;
}

static inline void vt_update(struct ioasid_mapping *t)
{
	u64 v = mapping_vlast(t);

	if (t->vl && t->vl->vmax > v)
		v = t->vl->vmax;
	if (t->vr && t->vr->vmax > v)
		v = t->vr->vmax;
	t->vmax = v;
}

static void vt_split(struct ioasid_mapping *t, const struct ioasid_mapping *key,
		     struct ioasid_mapping **lo, struct ioasid_mapping **hi)
{
	if (!t) {
		*lo = NULL;
		*hi = NULL;
		return;
	}
	if (vt_less(t, key)) {
		vt_split(t->vr, key, &t->vr, hi);
		*lo = t;
	} else {
		vt_split(t->vl, key, lo, &t->vl);
		*hi = t;
	}
	vt_update(t);
}

static struct ioasid_mapping *vt_merge(struct ioasid_mapping *a,
				       struct ioasid_mapping *b)
{
	if (!a)
		return b;
	if (!b)
		return a;
	if (prio_above(a, b)) {
		a->vr = vt_merge(a->vr, b);
		vt_update(a);
		return a;
	}
	b->vl = vt_merge(a, b->vl);
	vt_update(b);
	return b;
}

static struct ioasid_mapping *vt_ins(struct ioasid_mapping *t,
				     struct ioasid_mapping *m)
{
	if (!t || prio_above(m, t)) {
		vt_split(t, m, &m->vl, &m->vr);
		vt_update(m);
		return m;
	}
	if (vt_less(m, t))
		t->vl = vt_ins(t->vl, m);
	else
		t->vr = vt_ins(t->vr, m);
	vt_update(t);
	return t;
}

void vt_insert(struct ioasid_mapping **root, struct ioasid_mapping *m)
{
	*root = vt_ins(*root, m);
}

static struct ioasid_mapping *vt_del(struct ioasid_mapping *t,
				     struct ioasid_mapping *m)
{
	if (IOH_WARN_ON(!t))
		return NULL;
	if (t == m)
		return vt_merge(t->vl, t->vr);
	if (vt_less(m, t))
		t->vl = vt_del(t->vl, m);
	else
		t->vr = vt_del(t->vr, m);
	vt_update(t);
	return t;
}

void vt_remove(struct ioasid_mapping **root, struct ioasid_mapping *m)
{
	*root = vt_del(*root, m);
}

struct cover {
	u64 last;		/* query's last byte */
	u64 next;		/* first byte not yet counted */
	bool done;		/* counted up to U64_MAX */
	u64 bytes;
};

/* In-order walk: starts ascend, so a cursor counts the union exactly once. */
static void vt_cover(const struct ioasid_mapping *t, struct cover *c)
{
	while (t && !c->done && t->vmax >= c->next) {
		u64 lo, hi;

		vt_cover(t->vl, c);
		if (c->done || t->vaddr > c->last)
			return;
		lo = t->vaddr > c->next ? t->vaddr : c->next;
		hi = mapping_vlast(t) < c->last ? mapping_vlast(t) : c->last;
		if (lo <= hi) {
			c->bytes += hi - lo + 1;
			if (hi == IOH_U64_MAX)
				c->done = true;
			else
				c->next = hi + 1;
		}
		t = t->vr;
	}
}

u64 vt_covered(struct ioasid_mapping *t, u64 start, u64 last)
{
	struct cover c = { .last = last, .next = start };

	vt_cover(t, &c);
	return c.bytes;
}
