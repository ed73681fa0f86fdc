// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/*
 * The two baselines of ioasid-bench iotlb, written from how the originals
 * work (no code taken from them):
 *
 * (a) DPDK 22.11's vhost IOTLB cache (lib/vhost/iotlb.c): entries in a
 *     list sorted by IOVA under a spinning reader-writer lock; a lookup
 *     read-locks and walks the list from the head until it passes the IOVA,
 *     accumulating contiguous entries; the cache is bounded (2048 entries)
 *     and evicts a random entry when full; a miss read-locks a pending
 *     list, and if the IOVA is not pending write-locks it to add a pending
 *     entry (the request to the front-end is not modelled).
 *
 * (b) A balanced search tree under the same lock, as the kernel's vhost
 *     IOTLB keeps its mappings in an interval tree: here glibc's red-black
 *     tree (tsearch), whose point lookup over non-overlapping ranges is
 *     what an interval tree lookup does for them.
 */
#define _GNU_SOURCE
#include <search.h>
#include <stdlib.h>
#include <string.h>

#include "tlb_impls.h"

int tlb_fill_each(const struct tlb_impl *impl, void *t, uint32_t n,
		  uint64_t iova0, uint64_t stride, uint64_t len, uint64_t hva0,
		  uint32_t perm)
{
	for (uint32_t i = 0; i < n; i++)
		if (impl->insert(t, iova0 + i * stride, len, hva0 + i * len,
				 perm))
			return -1;
	return 0;
}

/* ---- (a) DPDK 22.11 algorithm ---- */

#define DPDK_CACHE_SIZE	2048

struct dnode {
	struct dnode *next;
	uint64_t iova;
	uint64_t uaddr;
	uint64_t size;
	uint8_t perm;
};

struct dpdk_tlb {
	struct spin_rwlock lock;
	struct dnode *head;
	uint32_t n;
	struct spin_rwlock pending_lock;
	struct dnode *pending;
	uint32_t npending;
	uint64_t seed;
};

static void *dpdk_create(void)
{
	struct dpdk_tlb *t = calloc(1, sizeof(*t));

	if (t)
		t->seed = 0x9e3779b97f4a7c15ULL;
	return t;
}

static void free_list(struct dnode *n)
{
	while (n) {
		struct dnode *next = n->next;

		free(n);
		n = next;
	}
}

static void dpdk_destroy(void *p)
{
	struct dpdk_tlb *t = p;

	free_list(t->head);
	free_list(t->pending);
	free(t);
}

static void dpdk_evict_random(struct dpdk_tlb *t)
{
	struct dnode **link = &t->head, *victim;
	uint32_t k;

	t->seed ^= t->seed << 13;
	t->seed ^= t->seed >> 7;
	t->seed ^= t->seed << 17;
	k = (uint32_t)(t->seed % t->n);
	while (k--)
		link = &(*link)->next;
	victim = *link;
	*link = victim->next;
	free(victim);
	t->n--;
}

static int dpdk_insert(void *p, uint64_t iova, uint64_t len, uint64_t hva,
		       uint32_t perm)
{
	struct dpdk_tlb *t = p;
	struct dnode *n = malloc(sizeof(*n)), **link;

	if (!n)
		return -1;
	n->iova = iova;
	n->size = len;
	n->uaddr = hva;
	n->perm = (uint8_t)perm;
	spin_write_lock(&t->lock);
	if (t->n >= DPDK_CACHE_SIZE)
		dpdk_evict_random(t);
	for (link = &t->head; *link && (*link)->iova < iova;
	     link = &(*link)->next)
		;
	n->next = *link;
	*link = n;
	t->n++;
	spin_write_unlock(&t->lock);
	/* An update answers a pending miss: drop it. */
	spin_write_lock(&t->pending_lock);
	for (link = &t->pending; *link; link = &(*link)->next) {
		if ((*link)->iova == iova) {
			struct dnode *d = *link;

			*link = d->next;
			free(d);
			t->npending--;
			break;
		}
	}
	spin_write_unlock(&t->pending_lock);
	return 0;
}

static int dpdk_remove(void *p, uint64_t iova, uint64_t len)
{
	struct dpdk_tlb *t = p;
	struct dnode **link;

	spin_write_lock(&t->lock);
	for (link = &t->head; *link; ) {
		struct dnode *n = *link;

		if (n->iova >= iova && n->iova + n->size <= iova + len) {
			*link = n->next;
			free(n);
			t->n--;
			continue;
		}
		if (n->iova >= iova + len)
			break;
		link = &n->next;
	}
	spin_write_unlock(&t->lock);
	return 0;
}

static void *dpdk_reader_begin(void *t)
{
	return t;
}

static void dpdk_reader_nop(void *r)
{
	(void)r;
}

static void dpdk_pending_miss(struct dpdk_tlb *t, uint64_t iova)
{
	struct dnode *n;
	int found = 0;

	spin_read_lock(&t->pending_lock);
	for (n = t->pending; n; n = n->next)
		if (n->iova == iova) {
			found = 1;
			break;
		}
	spin_read_unlock(&t->pending_lock);
	if (found || t->npending >= DPDK_CACHE_SIZE)
		return;
	n = calloc(1, sizeof(*n));
	if (!n)
		return;
	n->iova = iova;
	spin_write_lock(&t->pending_lock);
	n->next = t->pending;
	t->pending = n;
	t->npending++;
	spin_write_unlock(&t->pending_lock);
}

static int dpdk_translate(void *r, uint64_t iova, uint64_t len, uint32_t perm,
			  uint64_t *hva, uint64_t *contig)
{
	struct dpdk_tlb *t = r;
	uint64_t vva = 0, mapped = 0, want = len;
	struct dnode *n;

	spin_read_lock(&t->lock);
	for (n = t->head; n; n = n->next) {
		uint64_t off;

		if (iova < n->iova)
			break;
		if (iova >= n->iova + n->size)
			continue;
		if ((n->perm & perm) != perm) {
			vva = 0;
			break;
		}
		off = iova - n->iova;
		if (!vva)
			vva = n->uaddr + off;
		mapped += n->size - off;
		iova = n->iova + n->size;
		if (mapped >= want)
			break;
	}
	spin_read_unlock(&t->lock);
	if (!vva) {
		dpdk_pending_miss(t, iova);
		return -1;
	}
	*hva = vva;
	*contig = mapped < want ? mapped : want;
	return 0;
}

static int dpdk_update(void *t, uint64_t iova, uint64_t len, uint64_t hva,
		       uint32_t perm)
{
	dpdk_remove(t, iova, len);
	return dpdk_insert(t, iova, len, hva, perm);
}

const struct tlb_impl tlb_dpdk = {
	.name = "dpdk-22.11-iotlb",
	.label = "(a) sorted list, linear scan, rwlock, bounded cache, pending list",
	.create = dpdk_create,
	.destroy = dpdk_destroy,
	.insert = dpdk_insert,
	.remove = dpdk_remove,
	.update = dpdk_update,
	.reader_begin = dpdk_reader_begin,
	.reader_quiescent = dpdk_reader_nop,
	.reader_end = dpdk_reader_nop,
	.translate = dpdk_translate,
};

/* ---- (b) tree under a rwlock ---- */

struct inode {
	uint64_t iova;
	uint64_t last;
	uint64_t hva;
	uint32_t perm;
};

struct itree_tlb {
	struct spin_rwlock lock;
	void *root;
};

/* Ranges never overlap: a range "equals" any range it intersects. */
static int icmp(const void *a, const void *b)
{
	const struct inode *x = a, *y = b;

	if (x->last < y->iova)
		return -1;
	if (x->iova > y->last)
		return 1;
	return 0;
}

static void *itree_create(void)
{
	return calloc(1, sizeof(struct itree_tlb));
}

static void itree_destroy(void *p)
{
	struct itree_tlb *t = p;

	tdestroy(t->root, free);
	free(t);
}

static int itree_insert(void *p, uint64_t iova, uint64_t len, uint64_t hva,
			uint32_t perm)
{
	struct itree_tlb *t = p;
	struct inode *n = malloc(sizeof(*n));
	void *slot;

	if (!n)
		return -1;
	*n = (struct inode){ iova, iova + len - 1, hva, perm };
	spin_write_lock(&t->lock);
	slot = tsearch(n, &t->root, icmp);
	spin_write_unlock(&t->lock);
	if (!slot || *(struct inode **)slot != n) {
		free(n);
		return -1;
	}
	return 0;
}

static int itree_remove(void *p, uint64_t iova, uint64_t len)
{
	struct itree_tlb *t = p;
	struct inode key = { iova, iova + len - 1, 0, 0 }, *found = NULL;
	void *slot;

	spin_write_lock(&t->lock);
	slot = tfind(&key, &t->root, icmp);
	if (slot) {
		found = *(struct inode **)slot;
		tdelete(&key, &t->root, icmp);
	}
	spin_write_unlock(&t->lock);
	free(found);
	return 0;
}

static int itree_translate(void *r, uint64_t iova, uint64_t len, uint32_t perm,
			   uint64_t *hva, uint64_t *contig)
{
	struct itree_tlb *t = r;
	struct inode key = { iova, iova, 0, 0 };
	const struct inode *n;
	void *slot;
	int rc = -1;

	spin_read_lock(&t->lock);
	slot = tfind(&key, &t->root, icmp);
	if (slot) {
		n = *(struct inode **)slot;
		if ((n->perm & perm) == perm) {
			uint64_t avail = n->last - iova + 1;

			*hva = n->hva + (iova - n->iova);
			*contig = avail < len ? avail : len;
			rc = 0;
		}
	}
	spin_read_unlock(&t->lock);
	return rc;
}

static int itree_update(void *t, uint64_t iova, uint64_t len, uint64_t hva,
			uint32_t perm)
{
	itree_remove(t, iova, len);
	return itree_insert(t, iova, len, hva, perm);
}

const struct tlb_impl tlb_itree = {
	.name = "rwlock-tree",
	.label = "(b) balanced tree (glibc red-black) under a rwlock, as vhost's interval tree",
	.create = itree_create,
	.destroy = itree_destroy,
	.insert = itree_insert,
	.remove = itree_remove,
	.update = itree_update,
	.reader_begin = dpdk_reader_begin,
	.reader_quiescent = dpdk_reader_nop,
	.reader_end = dpdk_reader_nop,
	.translate = itree_translate,
};
