// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/*
 * The IOVA tree of the engine, a treap over struct ioasid_mapping.
 *
 * A treap is a binary search tree by key that is also a heap by priority.
 * Here a node's priority is a 64-bit mix of its own address, so it costs no
 * memory and the tree's shape is a pure function of its set of nodes: for
 * a given set there is exactly one treap. That canonical shape is what
 * makes undo cheap and safe: re-inserting the nodes a failed batch removed
 * restores the very same tree. Expected depth is about 2 ln n (28 at a
 * million mappings); no node stores a parent pointer or a colour, so the
 * tree costs two pointers per mapping.
 *
 * IOVA tree ("it_"), one per ioasid: keys are iova, unique because mappings
 * never overlap. Insert, remove, split and merge are iterative; nothing
 * here recurses.
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
