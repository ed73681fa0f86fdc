// SPDX-License-Identifier: GPL-2.0
/*
 * ioasid_vdpa: a vDPA bus driver that gives a vDPA device the vhost-vdpa
 * character device uAPI, with each of the device's address spaces (ASIDs)
 * translating through an ioasid of the ioasid engine.
 *
 * Compat mode, the default: the open file owns a private ioasid context
 * with one ioasid per ASID, and vhost IOTLB messages written to the file
 * become map and unmap calls on it. Attached: IOASID_VDPA_ATTACH binds the
 * ASID to the context of an ioasid fd as a device and attaches it to one
 * of its ioasids; the device then follows that ioasid.
 *
 * Either way the device learns its translations from one place: the ASID's
 * listener on its ioasid. The listener keeps a vhost_iotlb mirror of the
 * ioasid and pushes it to the device with set_map once per map call or
 * batch. Unmaps are pushed before the listener returns, so the engine
 * unpins only after the device has let go (vhost_vdpa defers unmaps inside
 * an IOTLB batch; this driver does not). Inside an IOTLB batch, maps are
 * pushed once at BATCH_END, as vhost_vdpa does.
 *
 * Devices served: those with set_map that map by user virtual address
 * (use_va: VDUSE). Their translation entries carry the file and offset
 * behind each virtual address, as vhost_vdpa's do. Devices that map
 * physical addresses or sit behind the platform IOMMU are refused at probe
 * (-EOPNOTSUPP); see docs/kernel.md.
 */
#include <linux/capability.h>
#include <linux/cdev.h>
#include <linux/device.h>
#include <linux/eventfd.h>
#include <linux/file.h>
#include <linux/idr.h>
#include <linux/module.h>
#include <linux/mm.h>
#include <linux/nospec.h>
#include <linux/poll.h>
#include <linux/sched/mm.h>
#include <linux/slab.h>
#include <linux/uio.h>
#include <linux/vdpa.h>
#include <linux/vhost_iotlb.h>
#include <linux/vhost_types.h>
#include <linux/vhost.h>
#include <linux/virtio_config.h>

#include "ioasid_kernel.h"

#define IV_DEV_MAX	(1U << MINORBITS)
#define IV_BACKEND_FEATURES	(BIT_ULL(VHOST_BACKEND_F_IOTLB_MSG_V2) | \
				 BIT_ULL(VHOST_BACKEND_F_IOTLB_BATCH) | \
				 BIT_ULL(VHOST_BACKEND_F_IOTLB_ASID))

/* Group keys of the engine: VFIO uses 1 << 56, software devices 2 << 56. */
#define IV_GROUP_KEY(as) \
	((3ULL << 56) | ((u64)(as)->v->minor << 16) | (as)->asid)

static dev_t iv_major;
static DEFINE_IDA(iv_ida);

struct iv_dev;

struct iv_vq {
	struct iv_dev *v;
	u16 idx;
	u16 num;
	u32 base;			/* last avail (| last used << 16, packed) */
	struct eventfd_ctx *call;
	struct file *kick;
	wait_queue_head_t *kick_wqh;
	wait_queue_entry_t kick_wait;
	poll_table kick_pt;
};

/* One address space of the device and the ioasid it translates through. */
struct iv_as {
	struct iv_dev *v;
	u32 asid;
	struct ioasid_dev dev;
	struct ioasid_listener l;
	struct vhost_iotlb *iotlb;	/* what the device was given */
	struct ioasid_khost *h;		/* context the ASID is bound to */
	struct file *file;		/* attached: the ioasid fd, held */
	u32 ioasid;
	bool bound;
	bool defer;			/* in an IOTLB batch: maps wait */
	bool hold;			/* switching ioasids: unmaps wait */
	bool dirty;			/* maps not pushed yet */
	u64 pushes, map_events, unmap_events;
	u64 device_entries;		/* in the last push, merged */
};

struct iv_dev {
	struct vdpa_device *vdpa;
	struct device dev;
	struct cdev cdev;
	int minor;
	u32 nas;			/* vdpa->nas, for iv_free */
	atomic_t opened;
	struct completion closed;
	struct mutex lock;		/* the ioctls and writes of the file */
	u32 nvqs;
	struct iv_vq *vqs;
	struct iv_as *as;		/* vdpa->nas of them */
	struct ioasid_khost *priv;	/* the open file's private context */
	struct mm_struct *owner;	/* VHOST_SET_OWNER */
	struct eventfd_ctx *config_call;
	u64 backend_features;
	bool in_batch;
	u32 batch_asid;
};

/* Translation entries: file and offset behind each virtual address. */

static void iv_iotlb_del(struct vhost_iotlb *iotlb, u64 start, u64 last)
{
	struct vhost_iotlb_map *map;

	while ((map = vhost_iotlb_itree_first(iotlb, start, last))) {
		struct vdpa_map_file *mf = map->opaque;

		fput(mf->file);
		kfree(mf);
		vhost_iotlb_map_free(iotlb, map);
	}
}

static u32 iv_perm(u32 prot)
{
	u32 perm = 0;

	if (prot & IOASID_DMA_READ)
		perm |= VHOST_MAP_RO;
	if (prot & IOASID_DMA_WRITE)
		perm |= VHOST_MAP_WO;
	return perm;
}

/*
 * Add one mapping's entries, one per VMA it crosses. The device reaches
 * memory through the file behind it, so every VMA must be a shared file
 * mapping; anything else is refused (vhost_vdpa skips such VMAs and
 * leaves the device without the range).
 */
static int iv_iotlb_add(struct iv_as *as, struct mm_struct *mm,
			struct ioasid_mapping *m)
{
	u64 va = m->vaddr, iova = m->iova, left = ioasid_mapping_length(m);
	int rc = 0;

	mmap_read_lock(mm);
	while (left) {
		struct vm_area_struct *vma = vma_lookup(mm, va);
		struct vdpa_map_file *mf;
		u64 len;

		if (!ioasid_vma_shared_file(vma)) {
			rc = -EINVAL;
			break;
		}
		len = min_t(u64, left, vma->vm_end - va);
		mf = kzalloc(sizeof(*mf), GFP_KERNEL_ACCOUNT);
		if (!mf) {
			rc = -ENOMEM;
			break;
		}
		mf->offset = (vma->vm_pgoff << PAGE_SHIFT) + va - vma->vm_start;
		mf->file = get_file(vma->vm_file);
		rc = vhost_iotlb_add_range_ctx(as->iotlb, iova, iova + len - 1,
					       va, iv_perm(m->prot), mf);
		if (rc) {
			fput(mf->file);
			kfree(mf);
			break;
		}
		va += len;
		iova += len;
		left -= len;
	}
	mmap_read_unlock(mm);
	if (rc) {
		if (iova > m->iova)
			iv_iotlb_del(as->iotlb, m->iova, iova - 1);
		pr_warn_ratelimited("ioasid_vdpa: %s asid %u: iova 0x%llx: %s at vaddr 0x%llx (%d)\n",
				    dev_name(&as->v->vdpa->dev), as->asid,
				    m->iova, rc == -EINVAL ?
				    "not a shared file mapping" :
				    "no memory for the entry", va, rc);
	}
	return rc;
}

/* Give @dst one entry [run->start, last] with @run's file and offset. */
static int iv_copy_entry(struct vhost_iotlb *dst, struct vhost_iotlb_map *run,
			 u64 last)
{
	struct vdpa_map_file *rf = run->opaque, *mf;
	int rc;

	mf = kzalloc(sizeof(*mf), GFP_KERNEL_ACCOUNT);
	if (!mf)
		return -ENOMEM;
	mf->file = get_file(rf->file);
	mf->offset = rf->offset;
	rc = vhost_iotlb_add_range_ctx(dst, run->start, last, run->addr,
				       run->perm, mf);
	if (rc) {
		fput(mf->file);
		kfree(mf);
	}
	return rc;
}

/*
 * The table the device gets: the mirror with neighbours merged where they
 * continue each other (next IOVA, same file, next offset, next address,
 * same permission), so that memory mapped page by page reaches the device
 * as a few ranges. Devices whose set_map copies the whole table (VDUSE)
 * then copy a few entries per push, and their users fetch larger ranges.
 * NULL if out of memory: the mirror itself is pushed then.
 */
static struct vhost_iotlb *iv_coalesce(struct vhost_iotlb *src)
{
	struct vhost_iotlb *dst = vhost_iotlb_alloc(U32_MAX, 0);
	struct vhost_iotlb_map *m, *run = NULL;
	u64 last = 0;

	if (!dst)
		return NULL;
	for (m = vhost_iotlb_itree_first(src, 0, U64_MAX); m;
	     m = vhost_iotlb_itree_next(m, 0, U64_MAX)) {
		struct vdpa_map_file *mf = m->opaque;

		if (run) {
			struct vdpa_map_file *rf = run->opaque;
			u64 len = last - run->start + 1;

			if (m->start == last + 1 && mf->file == rf->file &&
			    mf->offset == rf->offset + len &&
			    m->addr == run->addr + len && m->perm == run->perm) {
				last = m->last;
				continue;
			}
			if (iv_copy_entry(dst, run, last))
				goto fail;
		}
		run = m;
		last = m->last;
	}
	if (run && iv_copy_entry(dst, run, last))
		goto fail;
	return dst;
fail:
	iv_iotlb_del(dst, 0, U64_MAX);
	vhost_iotlb_free(dst);
	return NULL;
}

static int iv_push(struct iv_as *as)
{
	const struct vdpa_config_ops *ops = as->v->vdpa->config;
	struct vhost_iotlb *tlb = iv_coalesce(as->iotlb);
	int rc;

	as->dirty = false;
	as->pushes++;
	rc = ops->set_map(as->v->vdpa, as->asid, tlb ?: as->iotlb);
	as->device_entries = tlb ? tlb->nmaps : as->iotlb->nmaps;
	if (tlb) {
		/* The device took its own references. */
		iv_iotlb_del(tlb, 0, U64_MAX);
		vhost_iotlb_free(tlb);
	}
	if (rc)
		dev_warn(&as->v->dev, "asid %u: set_map failed: %d\n",
			 as->asid, rc);
	return rc;
}

/*
 * The address space whose VMAs give the entries of a map. Compat mode: the
 * owner's (VHOST_SET_OWNER), the only process whose IOTLB messages fill the
 * private context, and the one calling here. Not the private context's own
 * mm: that is whoever opened the node, who may have forked or passed the
 * file on before an owner was set, and whose memory the owner must not
 * reach. Attached: the ioasid fd's opener, the only process whose memory
 * that ioasid pins (kh_pin).
 */
static struct mm_struct *iv_map_mm(struct iv_as *as)
{
	struct iv_dev *v = as->v;

	if (as->h != v->priv)
		return as->h->mm;
	if (!v->owner || v->owner != current->mm)
		return NULL;
	return v->owner;
}

/* Listener ops: called under the lock of the context the ASID is bound to. */
static int iv_map(struct ioasid_listener *l, struct ioasid_mapping *chain)
{
	struct iv_as *as = container_of(l, struct iv_as, l);
	struct mm_struct *mm = iv_map_mm(as);
	struct ioasid_mapping *m;
	int rc = 0;

	as->map_events++;
	if (!mm)
		return -EPERM;
	if (!mmget_not_zero(mm))
		return -EFAULT;
	for (m = chain; m; m = m->next) {
		rc = iv_iotlb_add(as, mm, m);
		if (rc)
			break;
	}
	mmput(mm);
	if (!rc) {
		if (as->defer) {
			as->dirty = true;
			return 0;
		}
		rc = iv_push(as);
		if (!rc)
			return 0;
	}
	/* Undo this chain only (m's own entries are gone already). */
	for (; chain != m; chain = chain->next)
		iv_iotlb_del(as->iotlb, chain->iova, chain->last);
	if (!m)		/* the push failed: give the device its old map */
		iv_push(as);
	return rc;
}

static void iv_unmap(struct ioasid_listener *l, struct ioasid_mapping *chain)
{
	struct iv_as *as = container_of(l, struct iv_as, l);

	as->unmap_events++;
	for (; chain; chain = chain->next)
		iv_iotlb_del(as->iotlb, chain->iova, chain->last);
	/*
	 * In an IOTLB batch, or while switching ioasids, the push waits (as
	 * vhost_vdpa's does in a batch), although the engine unpins when this
	 * returns: a device served here reaches memory through the files its
	 * entries hold, not through the pages the engine pinned, so it can
	 * never see a freed page, only, until the push, what the client
	 * itself asked to keep for the batch.
	 */
	if (as->hold || as->defer)
		as->dirty = true;
	else
		iv_push(as);
}

static const struct ioasid_listener_ops iv_listener_ops = {
	.map = iv_map,
	.unmap = iv_unmap,
};

static int iv_dev_attach(struct ioasid_dev *d, struct ioasid_as *ioas)
{
	struct iv_as *as = container_of(d, struct iv_as, dev);

	return ioasid_as_add_listener(ioas, &as->l);
}

static void iv_dev_detach(struct ioasid_dev *d, struct ioasid_as *ioas)
{
	struct iv_as *as = container_of(d, struct iv_as, dev);

	ioasid_as_del_listener(ioas, &as->l, true);
}

static void iv_dev_release(struct ioasid_dev *d)
{
	container_of(d, struct iv_as, dev)->bound = false;
}

static const struct ioasid_dev_ops iv_dev_ops = {
	.attach = iv_dev_attach,
	.detach = iv_dev_detach,
	.release = iv_dev_release,
};

/*
 * What the device declares to the engine: any page-aligned range inside
 * its IOVA range. It does its own translation, so it is coherent and has
 * no reserved regions.
 */
static void iv_attrs(struct iv_dev *v, struct ioasid_attrs *a)
{
	const struct vdpa_config_ops *ops = v->vdpa->config;

	memset(a, 0, sizeof(*a));
	a->pgsize_bitmap = PAGE_MASK;
	a->aperture_start = 0;
	a->aperture_last = U64_MAX;
	if (ops->get_iova_range) {
		struct vdpa_iova_range r = ops->get_iova_range(v->vdpa);

		a->aperture_start = ALIGN(r.first, PAGE_SIZE);
		a->aperture_last = r.last == U64_MAX ? U64_MAX :
				   ALIGN_DOWN(r.last + 1, PAGE_SIZE) - 1;
	}
	a->flags = IOASID_ATTR_COHERENT;
}

/*
 * The work below runs under the lock of the context the ASID is bound to,
 * through ioasid_khost_run(): the engine's bind, attach, unbind and lookup
 * want it, and the ASID's listener (iv_map, iv_unmap) runs under it, so
 * whatever else touches the state the listener writes (the mirror, the
 * defer, hold and dirty bits, the counters) takes it too.
 */
struct iv_bind_args {
	struct iv_as *as;
	struct ioasid_khost *h;
	u32 ioasid;
	struct ioasid_diag *diag;
};

static int iv_bind_attach_locked(void *arg)
{
	struct iv_bind_args *a = arg;
	struct iv_as *as = a->as;
	int rc;

	rc = ioasid_dev_bind(a->h->ctx, &as->dev, IV_GROUP_KEY(as), 1, a->diag);
	if (!rc) {
		as->h = a->h;
		as->bound = true;
		rc = ioasid_dev_attach(&as->dev, a->ioasid, a->diag);
		if (rc)
			ioasid_dev_unbind(&as->dev);
		else
			as->ioasid = a->ioasid;
	}
	return rc;
}

/* Bind the ASID to @h's context and attach it to @ioasid. */
static int iv_as_bind_attach(struct iv_as *as, struct ioasid_khost *h,
			     u32 ioasid, struct ioasid_diag *diag)
{
	struct iv_bind_args a = {
		.as = as, .h = h, .ioasid = ioasid, .diag = diag,
	};

	memset(&as->dev, 0, sizeof(as->dev));
	as->dev.ops = &iv_dev_ops;
	iv_attrs(as->v, &as->dev.attrs);
	return ioasid_khost_run(h, iv_bind_attach_locked, &a);
}

static int iv_unbind_locked(void *arg)
{
	struct iv_as *as = arg;

	if (as->bound)
		ioasid_dev_unbind(&as->dev);
	return 0;
}

/* Detach (removing every entry from the device) and unbind. */
static void iv_as_unbind(struct iv_as *as)
{
	struct ioasid_khost *h = as->h;

	if (!h)
		return;
	ioasid_khost_run(h, iv_unbind_locked, as);
	as->h = NULL;
	as->defer = false;
	as->dirty = false;
}

/* Compat mode: a fresh ioasid of the private context. */
static int iv_as_compat(struct iv_as *as)
{
	struct ioasid_alloc al = { .size = sizeof(al) };
	struct ioasid_khost *h = as->v->priv;
	long rc;

	rc = ioasid_ctx_call(h->ctx, IOASID_CMD_ALLOC, &al, NULL);
	if (rc)
		return rc;
	rc = iv_as_bind_attach(as, h, al.out_ioasid, NULL);
	if (rc) {
		struct ioasid_alloc fr = {
			.size = sizeof(fr), .out_ioasid = al.out_ioasid,
		};

		ioasid_ctx_call(h->ctx, IOASID_CMD_FREE, &fr, NULL);
	}
	return rc;
}

static void iv_as_compat_free(struct iv_as *as)
{
	struct ioasid_khost *h = as->h;
	u32 ioasid = as->ioasid;

	iv_as_unbind(as);
	if (h) {
		struct ioasid_alloc fr = { .size = sizeof(fr), .out_ioasid = ioasid };

		ioasid_ctx_call(h->ctx, IOASID_CMD_FREE, &fr, NULL);
	}
}

/* Virtqueue kicks and calls. */

/*
 * A kick goes to the device from the eventfd's wakeup, in atomic context,
 * as a doorbell write would; kick_vq may not sleep (VDUSE defers its own
 * eventfd signal when it cannot signal from there). No worker hop.
 */
static int iv_kick_wake(wait_queue_entry_t *wait, unsigned int mode,
			int sync, void *key)
{
	struct iv_vq *vq = container_of(wait, struct iv_vq, kick_wait);

	if (key_to_poll(key) & EPOLLIN)
		vq->v->vdpa->config->kick_vq(vq->v->vdpa, vq->idx);
	return 0;
}

static void iv_kick_queue(struct file *file, wait_queue_head_t *wqh,
			  poll_table *pt)
{
	struct iv_vq *vq = container_of(pt, struct iv_vq, kick_pt);

	vq->kick_wqh = wqh;
	add_wait_queue(wqh, &vq->kick_wait);
}

static void iv_kick_put(struct iv_vq *vq)
{
	if (!vq->kick)
		return;
	remove_wait_queue(vq->kick_wqh, &vq->kick_wait);
	fput(vq->kick);
	vq->kick = NULL;
}

static int iv_kick_set(struct iv_vq *vq, int fd)
{
	struct file *f;

	iv_kick_put(vq);
	if (fd == VHOST_FILE_UNBIND)
		return 0;
	f = eventfd_fget(fd);
	if (IS_ERR(f))
		return PTR_ERR(f);
	vq->kick = f;
	init_waitqueue_func_entry(&vq->kick_wait, iv_kick_wake);
	init_poll_funcptr(&vq->kick_pt, iv_kick_queue);
	if (vfs_poll(f, &vq->kick_pt) & EPOLLIN)
		vq->v->vdpa->config->kick_vq(vq->v->vdpa, vq->idx);
	return 0;
}

/* The device's interrupt for a queue or the config space: an eventfd. */
static irqreturn_t iv_signal(void *private)
{
	eventfd_signal(private);
	return IRQ_HANDLED;
}

/*
 * In @cb a callback that signals eventfd @fd (no callback for
 * VHOST_FILE_UNBIND), in *@ctx its context. The caller installs @cb, then
 * iv_eventfd_swap()s: once the device has the new callback, nothing can
 * signal the old context any more and it can be put.
 */
static int iv_eventfd_cb(int fd, struct vdpa_callback *cb,
			 struct eventfd_ctx **ctx)
{
	memset(cb, 0, sizeof(*cb));
	*ctx = NULL;
	if (fd == VHOST_FILE_UNBIND)
		return 0;
	*ctx = eventfd_ctx_fdget(fd);
	if (IS_ERR(*ctx))
		return PTR_ERR(*ctx);
	cb->callback = iv_signal;
	cb->private = *ctx;
	return 0;
}

static void iv_eventfd_swap(struct eventfd_ctx **slot, struct eventfd_ctx *ctx)
{
	if (*slot)
		eventfd_ctx_put(*slot);
	*slot = ctx;
}

static int iv_call_set(struct iv_vq *vq, int fd)
{
	struct vdpa_callback cb;
	struct eventfd_ctx *ctx;
	int rc = iv_eventfd_cb(fd, &cb, &ctx);

	if (rc)
		return rc;
	cb.trigger = ctx;	/* the device may signal it itself */
	vq->v->vdpa->config->set_vq_cb(vq->v->vdpa, vq->idx, &cb);
	iv_eventfd_swap(&vq->call, ctx);
	return 0;
}

static int iv_config_call_set(struct iv_dev *v, int fd)
{
	struct vdpa_callback cb;
	struct eventfd_ctx *ctx;
	int rc = iv_eventfd_cb(fd, &cb, &ctx);

	if (rc)
		return rc;
	v->vdpa->config->set_config_cb(v->vdpa, &cb);
	iv_eventfd_swap(&v->config_call, ctx);
	return 0;
}

static bool iv_packed(struct iv_dev *v)
{
	const struct vdpa_config_ops *ops = v->vdpa->config;

	return ops->get_driver_features(v->vdpa) &
	       BIT_ULL(VIRTIO_F_RING_PACKED);
}

static bool iv_driver_ok(struct iv_dev *v)
{
	return v->vdpa->config->get_status(v->vdpa) &
	       VIRTIO_CONFIG_S_DRIVER_OK;
}

static long iv_vring_ioctl(struct iv_dev *v, unsigned int cmd,
			   void __user *argp)
{
	const struct vdpa_config_ops *ops = v->vdpa->config;
	struct vdpa_device *vdpa = v->vdpa;
	struct vhost_vring_state s;
	struct vhost_vring_addr a;
	struct vhost_vring_file f;
	struct vdpa_vq_state st;
	struct iv_vq *vq;
	u32 idx;
	long rc;

	if (get_user(idx, (u32 __user *)argp))
		return -EFAULT;
	if (idx >= v->nvqs)
		return -ENOBUFS;
	idx = array_index_nospec(idx, v->nvqs);
	vq = &v->vqs[idx];

	switch (cmd) {
	case VHOST_SET_VRING_NUM:
		if (copy_from_user(&s, argp, sizeof(s)))
			return -EFAULT;
		if (!s.num || s.num > ops->get_vq_num_max(vdpa) ||
		    !is_power_of_2(s.num))
			return -EINVAL;
		vq->num = s.num;
		ops->set_vq_num(vdpa, idx, s.num);
		return 0;
	case VHOST_SET_VRING_ADDR:
		if (copy_from_user(&a, argp, sizeof(a)))
			return -EFAULT;
		if (a.flags & ~(1U << VHOST_VRING_F_LOG))
			return -EOPNOTSUPP;
		if (iv_driver_ok(v))
			return -EINVAL;
		return ops->set_vq_address(vdpa, idx, a.desc_user_addr,
					   a.avail_user_addr,
					   a.used_user_addr) ? -EINVAL : 0;
	case VHOST_SET_VRING_BASE:
		if (copy_from_user(&s, argp, sizeof(s)))
			return -EFAULT;
		if (iv_driver_ok(v))
			return -EINVAL;
		memset(&st, 0, sizeof(st));
		if (iv_packed(v)) {
			st.packed.last_avail_idx = s.num & 0x7fff;
			st.packed.last_avail_counter = !!(s.num & 0x8000);
			st.packed.last_used_idx = (s.num >> 16) & 0x7fff;
			st.packed.last_used_counter = !!(s.num & 0x80000000);
		} else {
			st.split.avail_index = s.num;
		}
		vq->base = s.num;
		return ops->set_vq_state(vdpa, idx, &st);
	case VHOST_GET_VRING_BASE:
		rc = ops->get_vq_state(vdpa, idx, &st);
		if (rc)
			return rc;
		s.index = idx;
		if (iv_packed(v))
			s.num = st.packed.last_avail_idx |
				st.packed.last_avail_counter << 15 |
				(st.packed.last_used_idx |
				 st.packed.last_used_counter << 15) << 16;
		else
			s.num = st.split.avail_index;
		return copy_to_user(argp, &s, sizeof(s)) ? -EFAULT : 0;
	case VHOST_SET_VRING_KICK:
	case VHOST_SET_VRING_CALL:
		if (copy_from_user(&f, argp, sizeof(f)))
			return -EFAULT;
		return cmd == VHOST_SET_VRING_KICK ? iv_kick_set(vq, f.fd) :
						      iv_call_set(vq, f.fd);
	case VHOST_VDPA_SET_VRING_ENABLE:
		if (copy_from_user(&s, argp, sizeof(s)))
			return -EFAULT;
		ops->set_vq_ready(vdpa, idx, s.num);
		return 0;
	case VHOST_VDPA_GET_VRING_GROUP:
		if (!ops->get_vq_group)
			return -EOPNOTSUPP;
		s.index = idx;
		s.num = ops->get_vq_group(vdpa, idx);
		if (s.num >= vdpa->ngroups)
			return -EIO;
		return copy_to_user(argp, &s, sizeof(s)) ? -EFAULT : 0;
	case VHOST_VDPA_SET_GROUP_ASID:
		if (copy_from_user(&s, argp, sizeof(s)))
			return -EFAULT;
		if (idx >= vdpa->ngroups || s.num >= vdpa->nas)
			return -EINVAL;
		if (!ops->set_group_asid)
			return -EOPNOTSUPP;
		return ops->set_group_asid(vdpa, idx, s.num);
	case VHOST_VDPA_GET_VRING_SIZE:
		if (!ops->get_vq_size)
			return -EOPNOTSUPP;
		s.index = idx;
		s.num = ops->get_vq_size(vdpa, idx);
		return copy_to_user(argp, &s, sizeof(s)) ? -EFAULT : 0;
	}
	return -ENOIOCTLCMD;
}

/* Stop the device and drop what the driver side set up. */
static void iv_reset(struct iv_dev *v)
{
	u32 i;

	for (i = 0; i < v->nvqs; i++) {
		iv_kick_put(&v->vqs[i]);
		iv_call_set(&v->vqs[i], VHOST_FILE_UNBIND);
	}
	vdpa_reset(v->vdpa, 0);
}

static long iv_set_status(struct iv_dev *v, u8 __user *p)
{
	const struct vdpa_config_ops *ops = v->vdpa->config;
	u8 status, old;

	if (get_user(status, p))
		return -EFAULT;
	old = ops->get_status(v->vdpa);
	/* Bits go away only with a reset to 0, as with vhost_vdpa. */
	if (status && (old & ~status))
		return -EINVAL;
	if (!status)
		return vdpa_reset(v->vdpa, 0);
	vdpa_set_status(v->vdpa, status);
	return 0;
}

static long iv_config(struct iv_dev *v, struct vhost_vdpa_config __user *c,
		      bool set)
{
	const struct vdpa_config_ops *ops = v->vdpa->config;
	struct vhost_vdpa_config h;
	size_t size = ops->get_config_size(v->vdpa);
	u8 *buf;
	long rc = 0;

	if (copy_from_user(&h, c, sizeof(h)))
		return -EFAULT;
	if (!h.len || h.len > size || h.off > size - h.len)
		return -EINVAL;
	if (set) {
		buf = vmemdup_user(c->buf, h.len);
		if (IS_ERR(buf))
			return PTR_ERR(buf);
		vdpa_set_config(v->vdpa, h.off, buf, h.len);
	} else {
		buf = kvzalloc(h.len, GFP_KERNEL);
		if (!buf)
			return -ENOMEM;
		vdpa_get_config(v->vdpa, h.off, buf, h.len);
		if (copy_to_user(c->buf, buf, h.len))
			rc = -EFAULT;
	}
	kvfree(buf);
	return rc;
}

static int iv_switch_done_locked(void *arg)
{
	struct iv_as *as = arg;

	as->hold = false;
	as->defer = false;
	iv_push(as);
	return 0;
}

/* After a switch: the device gets the ASID's new entries in one push. */
static void iv_switch_done(struct iv_as *as)
{
	ioasid_khost_run(as->h, iv_switch_done_locked, as);
}

/*
 * What would refuse the attach, checked before compat mode is given up:
 * no such ioasid, or attributes the device does not fit. What can still
 * fail after (memory, the device's set_map) leaves an empty compat ioasid.
 */
static int iv_attach_check(struct iv_as *as, struct ioasid_khost *h,
			   u32 ioasid)
{
	struct ioasid_attrs cur, mine;
	u32 nmaps;
	int rc = ioasid_ctx_as_attrs(h->ctx, ioasid, &cur, &nmaps);

	if (rc == -ENODEV)	/* no device yet: this one fixes them */
		return 0;
	if (rc)
		return rc;
	iv_attrs(as->v, &mine);
	return ioasid_check_compat(&cur, &mine, NULL);
}

/*
 * Who may change what an ASID translates through (attach, detach): the
 * owner, as only the owner may send IOTLB messages; or a process with the
 * privilege that manages vDPA devices (the vdpa netlink family's
 * CAP_NET_ADMIN), which can take the device away anyway. A process that
 * merely holds the file (a child forked after VHOST_SET_OWNER, a receiver
 * over a unix socket) cannot point the owner's device at memory it pins.
 */
static int iv_may_switch(struct iv_dev *v)
{
	if (v->owner && v->owner == current->mm)
		return 0;
	return capable(CAP_NET_ADMIN) ? 0 : -EPERM;
}

/*
 * The first version of each of the adaptor's own structs ends at this
 * field: a caller passes at least that size (ioasid_struct_from_user()).
 */
#define IV_ATTACH_MIN_SIZE	offsetofend(struct ioasid_vdpa_attach, out_dev_id)
#define IV_DETACH_MIN_SIZE	offsetofend(struct ioasid_vdpa_detach, __reserved)
#define IV_STATS_MIN_SIZE \
	offsetofend(struct ioasid_vdpa_stats, out_device_entries)

static long iv_attach(struct iv_dev *v, void __user *argp)
{
	struct ioasid_vdpa_attach at;
	struct ioasid_khost *h;
	struct iv_as *as;
	struct file *f;
	u32 usize;
	long rc;

	rc = ioasid_struct_from_user(&at, sizeof(at), IV_ATTACH_MIN_SIZE, argp,
				     &usize);
	if (rc)
		return rc;
	if (at.flags)
		return -EINVAL;
	rc = iv_may_switch(v);
	if (rc)
		return rc;
	if (at.asid >= v->vdpa->nas)
		return -EINVAL;
	as = &v->as[array_index_nospec(at.asid, v->vdpa->nas)];
	if (as->file)
		return -EBUSY;
	if (v->in_batch)
		return -EINVAL;
	h = ioasid_fd_khost(at.ioasid_fd, &f);
	if (!h)
		return -EBADF;
	rc = iv_attach_check(as, h, at.ioasid);
	if (rc) {
		fput(f);
		return rc;
	}
	/*
	 * Like a device moving to another domain, the compat mappings go;
	 * the device keeps translating through them until the ioasid's
	 * mappings replace them (one push), so a running device sees no gap.
	 */
	as->hold = true;
	iv_as_compat_free(as);
	as->defer = true;
	rc = iv_as_bind_attach(as, h, at.ioasid, NULL);
	if (rc) {
		iv_as_unbind(as);
		fput(f);
		if (iv_as_compat(as)) {
			dev_warn(&v->dev, "asid %u: no compat ioasid\n",
				 at.asid);
			as->hold = false;
			iv_push(as);	/* unbound: empty, and nobody else */
			return rc;
		}
		iv_switch_done(as);
		return rc;
	}
	as->file = f;
	iv_switch_done(as);
	at.out_dev_id = as->dev.obj.id;
	return copy_to_user(argp, &at, sizefirst_len(usize, sizeof(at))) ?
	       -EFAULT : 0;
}

static void iv_as_detach_file(struct iv_as *as)
{
	struct file *f = as->file;

	iv_as_unbind(as);
	as->file = NULL;
	fput(f);
}

static long iv_detach(struct iv_dev *v, void __user *argp)
{
	struct ioasid_vdpa_detach dt;
	struct iv_as *as;
	u32 usize;
	int rc;

	rc = ioasid_struct_from_user(&dt, sizeof(dt), IV_DETACH_MIN_SIZE, argp,
				     &usize);
	if (rc)
		return rc;
	if (dt.flags || dt.__reserved)
		return -EINVAL;
	rc = iv_may_switch(v);
	if (rc)
		return rc;
	if (dt.asid >= v->vdpa->nas)
		return -EINVAL;
	as = &v->as[array_index_nospec(dt.asid, v->vdpa->nas)];
	if (!as->file)
		return -EINVAL;
	iv_as_detach_file(as);
	return iv_as_compat(as);
}

struct iv_stats_args {
	struct iv_as *as;
	struct ioasid_vdpa_stats *st;
};

static int iv_stats_fill(void *arg)
{
	struct iv_stats_args *a = arg;
	struct ioasid_vdpa_stats *st = a->st;
	struct iv_as *as = a->as;

	st->out_attached = !!as->file;
	st->out_ioasid = as->ioasid;
	st->out_pushes = as->pushes;
	st->out_map_events = as->map_events;
	st->out_unmap_events = as->unmap_events;
	st->out_entries = as->iotlb->nmaps;
	st->out_device_entries = as->device_entries;
	return 0;
}

static long iv_stats(struct iv_dev *v, void __user *argp)
{
	struct iv_stats_args a;
	struct ioasid_vdpa_stats st;
	struct iv_as *as;
	u32 usize;
	int rc;

	rc = ioasid_struct_from_user(&st, sizeof(st), IV_STATS_MIN_SIZE, argp,
				     &usize);
	if (rc)
		return rc;
	if (st.flags || st.__reserved)
		return -EINVAL;
	if (st.asid >= v->vdpa->nas)
		return -EINVAL;
	as = &v->as[array_index_nospec(st.asid, v->vdpa->nas)];
	a.as = as;
	a.st = &st;
	/* Unbound, no listener writes the counters: read them directly. */
	if (as->h)
		ioasid_khost_run(as->h, iv_stats_fill, &a);
	else
		iv_stats_fill(&a);
	/* An older caller gets the prefix it knows. */
	return copy_to_user(argp, &st, sizefirst_len(usize, sizeof(st))) ?
	       -EFAULT : 0;
}

static long iv_ioctl_locked(struct iv_dev *v, unsigned int cmd,
			    unsigned long arg)
{
	const struct vdpa_config_ops *ops = v->vdpa->config;
	struct vdpa_device *vdpa = v->vdpa;
	void __user *argp = (void __user *)arg;
	u64 features;
	u32 val;

	switch (cmd) {
	case VHOST_SET_OWNER:
		if (v->owner)
			return -EBUSY;
		v->owner = current->mm;
		mmgrab(v->owner);
		return 0;
	case IOASID_VDPA_STATS:
		return iv_stats(v, argp);
	}
	switch (cmd) {
	case VHOST_GET_FEATURES:
		features = ops->get_device_features(vdpa);
		return copy_to_user(argp, &features, sizeof(features)) ?
		       -EFAULT : 0;
	case VHOST_SET_FEATURES:
		if (ops->get_status(vdpa) & VIRTIO_CONFIG_S_FEATURES_OK)
			return -EBUSY;
		if (copy_from_user(&features, argp, sizeof(features)))
			return -EFAULT;
		return vdpa_set_features(vdpa, features) ? -EINVAL : 0;
	case VHOST_GET_BACKEND_FEATURES:
		features = IV_BACKEND_FEATURES;
		return copy_to_user(argp, &features, sizeof(features)) ?
		       -EFAULT : 0;
	case VHOST_SET_BACKEND_FEATURES:
		if (copy_from_user(&features, argp, sizeof(features)))
			return -EFAULT;
		if (features & ~IV_BACKEND_FEATURES)
			return -EOPNOTSUPP;
		v->backend_features = features;
		return 0;
	case VHOST_VDPA_GET_DEVICE_ID:
		val = ops->get_device_id(vdpa);
		return put_user(val, (u32 __user *)argp);
	case VHOST_VDPA_GET_STATUS:
		return put_user(ops->get_status(vdpa), (u8 __user *)argp);
	case VHOST_VDPA_SET_STATUS:
		return iv_set_status(v, argp);
	case VHOST_VDPA_GET_CONFIG:
		return iv_config(v, argp, false);
	case VHOST_VDPA_SET_CONFIG:
		return iv_config(v, argp, true);
	case VHOST_VDPA_GET_VRING_NUM:
		return put_user(ops->get_vq_num_max(vdpa), (u16 __user *)argp);
	case VHOST_VDPA_GET_GROUP_NUM:
		return put_user(vdpa->ngroups, (u32 __user *)argp);
	case VHOST_VDPA_GET_AS_NUM:
		return put_user(vdpa->nas, (u32 __user *)argp);
	case VHOST_VDPA_GET_VQS_COUNT:
		return put_user(vdpa->nvqs, (u32 __user *)argp);
	case VHOST_VDPA_GET_CONFIG_SIZE:
		val = ops->get_config_size(vdpa);
		return put_user(val, (u32 __user *)argp);
	case VHOST_VDPA_GET_IOVA_RANGE: {
		struct vhost_vdpa_iova_range r = { 0, U64_MAX };

		if (ops->get_iova_range) {
			struct vdpa_iova_range dr = ops->get_iova_range(vdpa);

			r.first = dr.first;
			r.last = dr.last;
		}
		return copy_to_user(argp, &r, sizeof(r)) ? -EFAULT : 0;
	}
	case VHOST_VDPA_SET_CONFIG_CALL:
		if (get_user(val, (int __user *)argp))
			return -EFAULT;
		return iv_config_call_set(v, (int)val);
	case VHOST_SET_LOG_BASE:
	case VHOST_SET_LOG_FD:
		return -ENOIOCTLCMD;
	case VHOST_VDPA_SUSPEND:
	case VHOST_VDPA_RESUME:
		return -EOPNOTSUPP;
	case IOASID_VDPA_ATTACH:
		return iv_attach(v, argp);
	case IOASID_VDPA_DETACH:
		return iv_detach(v, argp);
	}
	return iv_vring_ioctl(v, cmd, argp);
}

static long iv_ioctl(struct file *file, unsigned int cmd, unsigned long arg)
{
	struct iv_dev *v = file->private_data;
	long rc;

	mutex_lock(&v->lock);
	rc = iv_ioctl_locked(v, cmd, arg);
	mutex_unlock(&v->lock);
	return rc;
}

/* vhost IOTLB messages, compat mode. */

static long iv_iotlb_update(struct iv_as *as, struct vhost_iotlb_msg *msg)
{
	struct ioasid_map_dma m = {
		.size = sizeof(m),
		.ioasid = as->ioasid,
		.iova = msg->iova,
		.vaddr = msg->uaddr,
		.length = msg->size,
	};

	if (msg->perm & VHOST_ACCESS_RO)
		m.flags |= IOASID_DMA_READ;
	if (msg->perm & VHOST_ACCESS_WO)
		m.flags |= IOASID_DMA_WRITE;
	return ioasid_ctx_call(as->h->ctx, IOASID_CMD_MAP_DMA, &m, NULL);
}

struct iv_span_args {
	struct iv_as *as;
	u64 first, last;
};

/* Widen [first, last] to the mappings that hold its ends. */
static int iv_span_locked(void *arg)
{
	struct iv_span_args *a = arg;
	struct ioasid_as *ioas = a->as->dev.as;
	struct ioasid_mapping *m;

	m = ioas ? ioasid_as_find(ioas, a->first) : NULL;
	a->first = m ? m->iova : round_down(a->first, PAGE_SIZE);
	m = ioas ? ioasid_as_find(ioas, a->last) : NULL;
	a->last = m ? m->last : (a->last | (PAGE_SIZE - 1));
	return 0;
}

/*
 * vhost's INVALIDATE removes every entry that meets the range, whole; the
 * engine's unmap refuses to cut a mapping. Widen the range to the
 * mappings at its ends; the whole space is IOASID_UNMAP_ALL.
 */
static long iv_iotlb_invalidate(struct iv_as *as, struct vhost_iotlb_msg *msg)
{
	struct ioasid_unmap_dma u = { .size = sizeof(u), .ioasid = as->ioasid };
	struct iv_span_args a = { .as = as, .first = msg->iova };
	u64 first, last;

	if (!msg->size)
		return 0;
	a.last = msg->size > U64_MAX - a.first ? U64_MAX :
		 a.first + msg->size - 1;
	ioasid_khost_run(as->h, iv_span_locked, &a);
	first = a.first;
	last = a.last;
	if (!first && last == U64_MAX)
		u.flags = IOASID_UNMAP_ALL;
	else {
		u.iova = first;
		u.length = last - first + 1;
	}
	return ioasid_ctx_call(as->h->ctx, IOASID_CMD_UNMAP_DMA, &u, NULL);
}

/* BATCH_END: the maps of the batch reach the device in one push. */
static int iv_batch_end_locked(void *arg)
{
	struct iv_as *as = arg;

	as->defer = false;
	return as->dirty ? iv_push(as) : 0;
}

static long iv_iotlb_msg(struct iv_dev *v, u32 asid,
			 struct vhost_iotlb_msg *msg)
{
	struct iv_as *as;
	long rc = 0;

	/* As vhost_vdpa: the owner only, and nobody before there is one. */
	if (!v->owner || v->owner != current->mm)
		return -EPERM;
	if (asid >= v->vdpa->nas)
		return -EINVAL;
	as = &v->as[array_index_nospec(asid, v->vdpa->nas)];
	if (as->file) {
		dev_info_ratelimited(&v->dev,
				     "asid %u is attached to an ioasid: map through the ioasid fd, not IOTLB messages\n",
				     asid);
		return -EPERM;
	}
	if (!as->h)
		return -ENODEV;
	if (v->in_batch && v->batch_asid != asid)
		return -EINVAL;

	switch (msg->type) {
	case VHOST_IOTLB_UPDATE:
		rc = iv_iotlb_update(as, msg);
		break;
	case VHOST_IOTLB_INVALIDATE:
		rc = iv_iotlb_invalidate(as, msg);
		break;
	case VHOST_IOTLB_BATCH_BEGIN:
		v->in_batch = true;
		v->batch_asid = asid;
		as->defer = true;
		break;
	case VHOST_IOTLB_BATCH_END:
		v->in_batch = false;
		rc = ioasid_khost_run(as->h, iv_batch_end_locked, as);
		break;
	default:
		rc = -EINVAL;
	}
	return rc;
}

static ssize_t iv_write_iter(struct kiocb *iocb, struct iov_iter *from)
{
	struct iv_dev *v = iocb->ki_filp->private_data;
	size_t len = iov_iter_count(from);
	struct vhost_msg_v2 m2;
	struct vhost_msg m1;
	struct vhost_iotlb_msg *msg;
	u32 asid = 0;
	ssize_t rc;

	mutex_lock(&v->lock);
	if (v->backend_features & BIT_ULL(VHOST_BACKEND_F_IOTLB_MSG_V2)) {
		rc = -EINVAL;
		if (len < sizeof(m2) ||
		    copy_from_iter(&m2, sizeof(m2), from) != sizeof(m2))
			goto out;
		if (m2.type != VHOST_IOTLB_MSG_V2)
			goto out;
		asid = m2.asid;
		msg = &m2.iotlb;
		if (asid && !(v->backend_features &
			      BIT_ULL(VHOST_BACKEND_F_IOTLB_ASID)))
			goto out;
	} else {
		rc = -EINVAL;
		if (len < sizeof(m1) ||
		    copy_from_iter(&m1, sizeof(m1), from) != sizeof(m1))
			goto out;
		if (m1.type != VHOST_IOTLB_MSG)
			goto out;
		msg = &m1.iotlb;
	}
	rc = iv_iotlb_msg(v, asid, msg);
	if (!rc)
		rc = len;
out:
	mutex_unlock(&v->lock);
	return rc;
}

static int iv_open(struct inode *inode, struct file *file)
{
	struct iv_dev *v = container_of(inode->i_cdev, struct iv_dev, cdev);
	u32 i;
	int rc;

	if (atomic_cmpxchg(&v->opened, 0, 1))
		return -EBUSY;
	reinit_completion(&v->closed);
	mutex_lock(&v->lock);
	/* The device maps by virtual address: compat pins nothing. */
	v->priv = ioasid_khost_create_va();
	if (!v->priv) {
		rc = -ENOMEM;
		goto err;
	}
	vdpa_reset(v->vdpa, 0);
	for (i = 0; i < v->vdpa->nas; i++) {
		rc = iv_as_compat(&v->as[i]);
		if (rc)
			goto err_as;
	}
	v->backend_features = 0;
	v->in_batch = false;
	file->private_data = v;
	mutex_unlock(&v->lock);
	return 0;

err_as:
	while (i--)
		iv_as_compat_free(&v->as[i]);
	ioasid_khost_destroy(v->priv);
	v->priv = NULL;
err:
	mutex_unlock(&v->lock);
	atomic_set(&v->opened, 0);
	complete_all(&v->closed);
	return rc;
}

/* Also the end of a client that died: nothing it set up outlives it. */
static int iv_release(struct inode *inode, struct file *file)
{
	struct iv_dev *v = file->private_data;
	u32 i;

	mutex_lock(&v->lock);
	iv_reset(v);
	iv_config_call_set(v, VHOST_FILE_UNBIND);
	for (i = 0; i < v->vdpa->nas; i++) {
		if (v->as[i].file)
			iv_as_detach_file(&v->as[i]);
		else
			iv_as_compat_free(&v->as[i]);
	}
	ioasid_khost_destroy(v->priv);
	v->priv = NULL;
	if (v->owner) {
		mmdrop(v->owner);
		v->owner = NULL;
	}
	mutex_unlock(&v->lock);
	atomic_set(&v->opened, 0);
	complete_all(&v->closed);
	return 0;
}

static const struct file_operations iv_fops = {
	.owner = THIS_MODULE,
	.open = iv_open,
	.release = iv_release,
	.write_iter = iv_write_iter,
	.unlocked_ioctl = iv_ioctl,
	.compat_ioctl = compat_ptr_ioctl,
	.llseek = noop_llseek,
};

static void iv_free(struct iv_dev *v)
{
	u32 i;

	/*
	 * The last reference may go after iv_remove() returned and the vDPA
	 * device was freed (an open file's cdev holds one until its final
	 * fput): nothing here may look at v->vdpa.
	 */
	if (v->as)
		for (i = 0; i < v->nas; i++)
			if (v->as[i].iotlb)
				vhost_iotlb_free(v->as[i].iotlb);
	kfree(v->as);
	kfree(v->vqs);
	ida_free(&iv_ida, v->minor);
	kfree(v);
}

static void iv_release_dev(struct device *dev)
{
	iv_free(container_of(dev, struct iv_dev, dev));
}

static int iv_probe(struct vdpa_device *vdpa)
{
	const struct vdpa_config_ops *ops = vdpa->config;
	struct iv_dev *v;
	int minor, rc;
	u32 i;

	if (!ops->set_map || !vdpa->use_va) {
		dev_warn(&vdpa->dev,
			 "ioasid_vdpa serves devices that map user virtual addresses with set_map (VDUSE); this one does not\n");
		return -EOPNOTSUPP;
	}
	minor = ida_alloc_max(&iv_ida, IV_DEV_MAX - 1, GFP_KERNEL);
	if (minor < 0)
		return minor;
	v = kzalloc(sizeof(*v), GFP_KERNEL);
	if (!v) {
		ida_free(&iv_ida, minor);
		return -ENOMEM;
	}
	v->minor = minor;
	v->vdpa = vdpa;
	v->nvqs = vdpa->nvqs;
	v->nas = vdpa->nas;
	mutex_init(&v->lock);
	init_completion(&v->closed);
	complete_all(&v->closed);
	device_initialize(&v->dev);
	v->dev.release = iv_release_dev;
	v->dev.parent = &vdpa->dev;
	v->dev.devt = MKDEV(MAJOR(iv_major), minor);
	v->vqs = kcalloc(v->nvqs, sizeof(*v->vqs), GFP_KERNEL);
	v->as = kcalloc(vdpa->nas, sizeof(*v->as), GFP_KERNEL);
	if (!v->vqs || !v->as) {
		rc = -ENOMEM;
		goto err;
	}
	for (i = 0; i < v->nvqs; i++) {
		v->vqs[i].v = v;
		v->vqs[i].idx = i;
	}
	for (i = 0; i < vdpa->nas; i++) {
		struct iv_as *as = &v->as[i];

		as->v = v;
		as->asid = i;
		as->l.ops = &iv_listener_ops;
		/* The engine bounds the mappings; entries need a limit set. */
		as->iotlb = vhost_iotlb_alloc(U32_MAX, 0);
		if (!as->iotlb) {
			rc = -ENOMEM;
			goto err;
		}
	}
	rc = dev_set_name(&v->dev, "ioasid-vdpa-%u", minor);
	if (rc)
		goto err;
	cdev_init(&v->cdev, &iv_fops);
	v->cdev.owner = THIS_MODULE;
	rc = cdev_device_add(&v->cdev, &v->dev);
	if (rc)
		goto err;
	vdpa_set_drvdata(vdpa, v);
	return 0;

err:
	put_device(&v->dev);
	return rc;
}

static void iv_remove(struct vdpa_device *vdpa)
{
	struct iv_dev *v = vdpa_get_drvdata(vdpa);

	cdev_device_del(&v->cdev, &v->dev);
	/* Wait for the last close; no new open can start now. */
	while (atomic_cmpxchg(&v->opened, 0, 1))
		wait_for_completion(&v->closed);
	put_device(&v->dev);
}

static struct vdpa_driver iv_driver = {
	.driver = {
		.name = "ioasid_vdpa",
	},
	.probe = iv_probe,
	.remove = iv_remove,
};

static int __init iv_init(void)
{
	int rc;

	/* The region's name is what clients look for in /proc/devices. */
	rc = alloc_chrdev_region(&iv_major, 0, IV_DEV_MAX, "vhost-vdpa");
	if (rc)
		return rc;
	rc = vdpa_register_driver(&iv_driver);
	if (rc)
		unregister_chrdev_region(iv_major, IV_DEV_MAX);
	return rc;
}

static void __exit iv_exit(void)
{
	vdpa_unregister_driver(&iv_driver);
	unregister_chrdev_region(iv_major, IV_DEV_MAX);
}

module_init(iv_init);
module_exit(iv_exit);
MODULE_IMPORT_NS(IOASID);
MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("vhost-vdpa devices whose address spaces are ioasids");
