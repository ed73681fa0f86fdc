// SPDX-License-Identifier: GPL-2.0
/*
 * ioasid_vdpa's address-space side: each address space (ASID) of a vDPA
 * device translates through an ioasid of the ioasid engine. The character
 * device that carries the vhost-vdpa uAPI is in vdpa_cdev.c.
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
 * The devices served map by user virtual address (use_va: VDUSE): the
 * mirror's entries carry the file and offset behind each virtual address,
 * as vhost_vdpa's do.
 */
#include <linux/capability.h>
#include <linux/file.h>
#include <linux/mm.h>
#include <linux/nospec.h>
#include <linux/sched/mm.h>
#include <linux/slab.h>
#include <linux/uaccess.h>
#include <linux/vhost.h>

#include "vdpa_priv.h"

/* Group keys of the engine: VFIO uses 1 << 56, software devices 2 << 56. */
static u64 iv_group_key(const struct iv_as *as)
{
	return (3ULL << 56) | ((u64)as->v->minor << 16) | as->asid;
}

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

/*
 * Bound and attached, or neither: an attach that fails unbinds, and the
 * ASID is left as it came, with no context and no ioasid. Nothing may
 * then reach @h through it (IOTLB messages, stats, a later unbind or a
 * compat free of an ioasid number it no longer owns).
 */
static int iv_bind_attach_locked(void *arg)
{
	struct iv_bind_args *a = arg;
	struct iv_as *as = a->as;
	int rc;

	rc = ioasid_dev_bind(a->h->ctx, &as->dev, iv_group_key(as), 1, a->diag);
	if (rc)
		return rc;
	/* Before the attach: its replay of mappings asks iv_map_mm(). */
	as->h = a->h;
	as->bound = true;
	rc = ioasid_dev_attach(&as->dev, a->ioasid, a->diag);
	if (rc) {
		ioasid_dev_unbind(&as->dev);	/* iv_dev_release: unbound */
		as->h = NULL;
		return rc;
	}
	as->ioasid = a->ioasid;
	return 0;
}

/* Bind the ASID to @h's context and attach it to @ioasid. */
static int iv_as_bind_attach(struct iv_as *as, struct ioasid_khost *h,
			     u32 ioasid, struct ioasid_diag *diag)
{
	struct iv_bind_args a = {
		.as = as, .h = h, .ioasid = ioasid, .diag = diag,
	};

	/* Callers unbind first: as->dev is the engine's while bound. */
	if (WARN_ON(as->h))
		return -EBUSY;
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

/*
 * Detach (removing every entry from the device) and unbind. The ASID is
 * then unbound whatever it was: no context, no ioasid (0 is never one),
 * no maps waiting for an IOTLB batch to end.
 */
static void iv_as_unbind(struct iv_as *as)
{
	struct ioasid_khost *h = as->h;

	if (h)
		ioasid_khost_run(h, iv_unbind_locked, as);
	as->h = NULL;
	as->ioasid = 0;
	as->defer = false;
	as->dirty = false;
}

/* Compat mode: a fresh ioasid of the private context. */
int iv_as_compat(struct iv_as *as)
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

void iv_as_compat_free(struct iv_as *as)
{
	struct ioasid_khost *h = as->h;
	u32 ioasid = as->ioasid;

	iv_as_unbind(as);
	if (h) {
		struct ioasid_alloc fr = { .size = sizeof(fr), .out_ioasid = ioasid };

		ioasid_ctx_call(h->ctx, IOASID_CMD_FREE, &fr, NULL);
	}
}

int iv_as_init(struct iv_as *as, struct iv_dev *v, u32 asid)
{
	as->v = v;
	as->asid = asid;
	as->l.ops = &iv_listener_ops;
	/* The engine bounds the mappings; entries need a limit set. */
	as->iotlb = vhost_iotlb_alloc(U32_MAX, 0);
	return as->iotlb ? 0 : -ENOMEM;
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

/* The address space @asid names, or NULL past the device's last one. */
static struct iv_as *iv_as_of(struct iv_dev *v, u32 asid)
{
	if (asid >= v->vdpa->nas)
		return NULL;
	return &v->as[array_index_nospec(asid, v->vdpa->nas)];
}

long iv_attach(struct iv_dev *v, void __user *argp)
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
	as = iv_as_of(v, at.asid);
	if (!as)
		return -EINVAL;
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

void iv_as_detach_file(struct iv_as *as)
{
	struct file *f = as->file;

	iv_as_unbind(as);
	as->file = NULL;
	fput(f);
}

long iv_detach(struct iv_dev *v, void __user *argp)
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
	as = iv_as_of(v, dt.asid);
	if (!as || !as->file)
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

long iv_stats(struct iv_dev *v, void __user *argp)
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
	as = iv_as_of(v, st.asid);
	if (!as)
		return -EINVAL;
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
	if (!first && last == U64_MAX) {
		u.flags = IOASID_UNMAP_ALL;
	} else {
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

long iv_iotlb_msg(struct iv_dev *v, u32 asid, struct vhost_iotlb_msg *msg)
{
	struct iv_as *as;
	long rc = 0;

	/* As vhost_vdpa: the owner only, and nobody before there is one. */
	if (!v->owner || v->owner != current->mm)
		return -EPERM;
	as = iv_as_of(v, asid);
	if (!as)
		return -EINVAL;
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
