// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/*
 * Software devices: the engine's twin of hardware, as iommufd's mock domain
 * and rdma-core's rxe are for theirs. A software device declares the
 * attributes an IOMMU would report (page sizes, aperture, reserved regions,
 * coherency, group) and performs DMA through the ioasid it is attached to.
 *
 * Like hardware it keeps a small IOTLB of translations, filled on a miss by
 * walking the ioasid's tree and emptied by every unmap notification. That
 * makes the ordering rule observable: if an unmap ever returned before the
 * device was told, a later access would hit a stale entry and succeed
 * where it must fault. Its counters (IOASID_SWDEV_STATS) show how many
 * notifications it received, so tests can check "once per batch".
 *
 * Access is all or nothing: the whole range is translated and checked for
 * permission before a byte moves; a miss or a missing permission is an I/O
 * page fault (EFAULT), counted.
 */
#include "core_priv.h"

#define SWDEV_IOTLB_SIZE	8

struct swdev_tlb {
	u64 iova;
	u64 last;
	u64 vaddr;
	void *cookie;
	u32 prot;
	bool valid;
};

struct swdev {
	struct ioasid_dev dev;
	struct ioasid_listener listener;
	struct swdev_tlb tlb[SWDEV_IOTLB_SIZE];
	u32 tlb_next;
	u32 waiting;		/* accesses waiting for a fault's answer */
	struct ioasid_swdev_stats stats;
};

static struct swdev *to_swdev(struct ioasid_dev *dev)
{
	return container_of(dev, struct swdev, dev);
}

static u32 chain_len(const struct ioasid_mapping *m)
{
	u32 n = 0;

	for (; m; m = m->next)
		n++;
	return n;
}

static int swdev_notify_map(struct ioasid_listener *l,
			    struct ioasid_mapping *chain)
{
	struct swdev *sw = container_of(l, struct swdev, listener);

	sw->stats.out_map_calls++;
	sw->stats.out_map_entries += chain_len(chain);
	return 0;
}

static void swdev_flush(struct swdev *sw)
{
	u32 i;

	for (i = 0; i < SWDEV_IOTLB_SIZE; i++)
		sw->tlb[i].valid = false;
}

static void swdev_notify_unmap(struct ioasid_listener *l,
			       struct ioasid_mapping *chain)
{
	struct swdev *sw = container_of(l, struct swdev, listener);

	sw->stats.out_unmap_calls++;
	sw->stats.out_unmap_entries += chain_len(chain);
	swdev_flush(sw);
}

static const struct ioasid_listener_ops swdev_listener_ops = {
	.map = swdev_notify_map,
	.unmap = swdev_notify_unmap,
};

static int swdev_attach(struct ioasid_dev *dev, struct ioasid_as *as)
{
	return ioasid_as_add_listener(as, &to_swdev(dev)->listener);
}

static void swdev_detach(struct ioasid_dev *dev, struct ioasid_as *as)
{
	struct swdev *sw = to_swdev(dev);

	ioasid_as_del_listener(as, &sw->listener, false);
	swdev_flush(sw);
}

static void swdev_release(struct ioasid_dev *dev)
{
	ioh_free(to_swdev(dev));
}

static const struct ioasid_dev_ops swdev_ops = {
	.attach = swdev_attach,
	.detach = swdev_detach,
	.release = swdev_release,
};

long swdev_create(struct ioasid_ctx *ctx, struct ioasid_swdev_create *c,
		  struct ioasid_diag *diag)
{
	struct swdev *sw;
	struct ioasid_attrs *a;
	u64 key;
	u32 i;
	int rc;

	if (c->flags & ~(IOASID_SWDEV_COHERENT | IOASID_SWDEV_UNTRACKED))
		return diag_set(diag, -EINVAL, IOASID_RULE_FLAGS, c->flags,
				IOASID_SWDEV_COHERENT);
	if (c->num_resv > IOASID_SWDEV_MAX_RESV)
		return diag_set(diag, -EINVAL, IOASID_RULE_SWDEV_RESV,
				c->num_resv, IOASID_SWDEV_MAX_RESV);
	sw = ioc_zalloc(sizeof(*sw));
	if (!sw)
		return diag_set(diag, -ENOMEM, IOASID_RULE_NOMEM, 0, 0);
	a = &sw->dev.attrs;
	a->pgsize_bitmap = c->pgsize_bitmap;
	a->aperture_start = c->aperture_start;
	a->aperture_last = c->aperture_last;
	a->flags = (c->flags & IOASID_SWDEV_COHERENT) ? IOASID_ATTR_COHERENT : 0;
	a->num_resv = c->num_resv;
	for (i = 0; i < c->num_resv; i++) {
		struct ioasid_iova_range r;

		rc = ioc_copy_from_user(ctx, &r,
					      c->resv_uptr + i * sizeof(r),
					      sizeof(r));
		if (rc) {
			diag_set(diag, -EFAULT, IOASID_RULE_BAD_POINTER,
				 c->resv_uptr, 0);
			goto err_free;
		}
		a->resv[i].start = r.start;
		a->resv[i].last = r.last;
	}
	rc = ioasid_check_dev_attrs(a, diag);
	if (rc)
		goto err_free;
	sw->dev.is_swdev = true;
	sw->dev.untracked_dma = c->flags & IOASID_SWDEV_UNTRACKED;
	sw->dev.ops = &swdev_ops;
	sw->listener.ops = &swdev_listener_ops;
	/* Own group: a key no shared group id can take (top bits 11). */
	if (c->group_id)
		key = (2ULL << 56) | c->group_id;
	else
		key = (3ULL << 62) ^ (u64)(uintptr_t)sw;
	rc = ioasid_dev_bind(ctx, &sw->dev, key,
			     c->group_id ? c->group_size : 1, diag);
	if (rc)
		goto err_free;
	c->out_dev_id = sw->dev.obj.id;
	return 0;

err_free:
	ioh_free(sw);
	return rc;
}

static int get_swdev(struct ioasid_ctx *ctx, u32 id, struct swdev **out,
		     struct ioasid_diag *diag)
{
	struct ioasid_dev *dev = ctx_get_dev(ctx, id, diag);

	if (!dev)
		return -ENOENT;
	if (!dev->is_swdev)
		return diag_set(diag, -EINVAL, IOASID_RULE_NOT_SWDEV, id, 0);
	*out = to_swdev(dev);
	return 0;
}

long swdev_destroy(struct ioasid_ctx *ctx, u32 dev_id, struct ioasid_diag *diag)
{
	struct swdev *sw;
	int rc = get_swdev(ctx, dev_id, &sw, diag);

	if (rc)
		return rc;
	/* A waiting access comes back to this device (fault.c). */
	if (sw->waiting)
		return diag_set(diag, -EBUSY, IOASID_RULE_FAULTQ_WAITING,
				dev_id, sw->waiting);
	ctx_unbind(&sw->dev);
	return 0;
}

/*
 * Translate @iova for @need, through the IOTLB first. Returns the entry
 * (in the IOTLB) or NULL for a fault.
 */
static struct swdev_tlb *swdev_translate(struct swdev *sw, u64 iova, u32 need,
					 bool count)
{
	struct ioasid_mapping *m;
	struct swdev_tlb *t;
	u32 i;

	for (i = 0; i < SWDEV_IOTLB_SIZE; i++) {
		t = &sw->tlb[i];
		if (t->valid && t->iova <= iova && iova <= t->last &&
		    (t->prot & need) == need) {
			if (count)
				sw->stats.out_iotlb_hits++;
			return t;
		}
	}
	if (count)
		sw->stats.out_iotlb_misses++;
	m = ioasid_as_find(sw->dev.as, iova);
	if (!m || (m->prot & need) != need)
		return NULL;
	t = &sw->tlb[sw->tlb_next++ % SWDEV_IOTLB_SIZE];
	t->iova = m->iova;
	t->last = m->last;
	t->vaddr = m->vaddr;
	t->cookie = m->cookie;
	t->prot = m->prot;
	t->valid = true;
	return t;
}

/*
 * A device write dirties its pages in @as and, for a nested ioasid, in
 * the parent mapping the shadow entry lands in: the parent's bitmap is
 * the one a migrating VMM reads (guest RAM). [pos, pos + len) lies in
 * one translation, so in one shadow entry.
 */
static void swdev_dirty(struct ioasid_as *as, u64 pos, u64 len)
{
	struct ioasid_mapping *m, *pm;
	u64 p;

	as_dirty_mark(as, pos, pos + len - 1);
	if (as->nest != NEST_CHILD)
		return;
	m = ioasid_as_find(as, pos);
	if (IOH_WARN_ON(!m || m->last - pos < len - 1))
		return;
	pm = container_of(m, struct nest_entry, m)->pm;
	p = pm->iova + (m->vaddr - pm->vaddr) + (pos - m->iova);
	as_dirty_mark(as->parent, p, p + len - 1);
}

long swdev_access(struct ioasid_ctx *ctx, struct ioasid_swdev_access *a,
		  struct ioasid_diag *diag)
{
	u32 need = a->flags == IOASID_ACCESS_READ ? IOASID_DMA_READ :
						     IOASID_DMA_WRITE;
	struct swdev *sw;
	struct swdev_tlb *t;
	u64 pos, last, done;
	bool retried = false;
	int pass, rc;

	if (a->__reserved)
		return diag_set(diag, -EINVAL, IOASID_RULE_RESERVED,
				a->__reserved, 0);
	if (a->flags != IOASID_ACCESS_READ && a->flags != IOASID_ACCESS_WRITE)
		return diag_set(diag, -EINVAL, IOASID_RULE_ACCESS_FLAGS,
				a->flags, 0);
	if (!a->length || a->length > IOASID_SWDEV_ACCESS_MAX)
		return diag_set(diag, -EINVAL, IOASID_RULE_ACCESS_LENGTH,
				a->length, IOASID_SWDEV_ACCESS_MAX);
	if (a->iova + a->length - 1 < a->iova)
		return diag_set(diag, -EINVAL, IOASID_RULE_WRAP_IOVA, a->iova,
				a->length);
	rc = get_swdev(ctx, a->dev_id, &sw, diag);
	if (rc)
		return rc;
	if (!sw->dev.as)
		return diag_set(diag, -ENODEV, IOASID_RULE_DEV_NOT_ATTACHED,
				a->dev_id, 0);
	last = a->iova + a->length - 1;
	/*
	 * Pass 0 checks every byte translates; pass 1 moves the data. A
	 * miss on an ioasid with a fault queue waits for the queue's answer
	 * (the context lock released: the device may be detached meanwhile,
	 * but not destroyed) and, answered SUCCESS, starts again, once.
	 */
again:
	for (pass = 0; pass < 2; pass++) {
		for (pos = a->iova, done = 0; done < a->length;) {
			u64 chunk;

			t = swdev_translate(sw, pos, need, pass == 0);
			if (!t) {
				struct ioasid_as *as = sw->dev.as;

				sw->stats.out_faults++;
				a->out_faults = sw->stats.out_faults;
				if (retried || !as->faultq)
					return diag_set(diag, -EFAULT,
							retried ?
							IOASID_RULE_FAULTQ_INVALID :
							IOASID_RULE_IO_PAGE_FAULT,
							pos, 0);
				sw->waiting++;
				rc = faultq_raise(as, &sw->dev, pos, need,
						  a->length - done, diag);
				sw->waiting--;
				a->out_faults = sw->stats.out_faults;
				if (rc)
					return rc;
				if (!sw->dev.as)
					return diag_set(diag, -ENODEV,
							IOASID_RULE_DEV_NOT_ATTACHED,
							a->dev_id, 0);
				retried = true;
				goto again;
			}
			chunk = (t->last < last ? t->last : last) - pos + 1;
			if (pass == 1) {
				rc = ioc_dma_rw(ctx, t->cookie,
						      t->vaddr,
						      t->vaddr + (pos - t->iova),
						      a->buf_uptr + done, chunk,
						      need == IOASID_DMA_WRITE);
				if (rc)
					return diag_set(diag, rc,
							IOASID_RULE_BAD_POINTER,
							a->buf_uptr, 0);
				if (need == IOASID_DMA_WRITE &&
				    !sw->dev.untracked_dma)
					swdev_dirty(sw->dev.as, pos, chunk);
			}
			done += chunk;
			pos += chunk;
		}
	}
	a->out_faults = sw->stats.out_faults;
	return 0;
}

long swdev_stats(struct ioasid_ctx *ctx, struct ioasid_swdev_stats *s,
		 struct ioasid_diag *diag)
{
	struct swdev *sw;
	int rc;

	if (s->flags)
		return diag_set(diag, -EINVAL, IOASID_RULE_FLAGS, s->flags, 0);
	if (s->__reserved)
		return diag_set(diag, -EINVAL, IOASID_RULE_RESERVED,
				s->__reserved, 0);
	rc = get_swdev(ctx, s->dev_id, &sw, diag);
	if (rc)
		return rc;
	s->out_faults = sw->stats.out_faults;
	s->out_map_calls = sw->stats.out_map_calls;
	s->out_map_entries = sw->stats.out_map_entries;
	s->out_unmap_calls = sw->stats.out_unmap_calls;
	s->out_unmap_entries = sw->stats.out_unmap_entries;
	s->out_iotlb_hits = sw->stats.out_iotlb_hits;
	s->out_iotlb_misses = sw->stats.out_iotlb_misses;
	return 0;
}
