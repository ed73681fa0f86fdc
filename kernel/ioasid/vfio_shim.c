// SPDX-License-Identifier: GPL-2.0
/*
 * The VFIO shim: a VFIO IOMMU backend whose containers are served by the
 * ioasid engine.
 *
 * Devices. When VFIO attaches a group to a container of this backend, each
 * device of the group becomes an engine device (struct shim_dev) whose
 * attributes are read from the IOMMU: page sizes and aperture of a paging
 * domain for it, the group's reserved regions (the MSI window), and cache
 * coherency. The devices are bound to a context, either the container's
 * own (type1 mode) or an ioasid fd's (IOASID_VFIO_BIND), and attached to
 * ioasids by the engine's rules.
 *
 * Domains. Each ioasid that has VFIO devices attached is backed by one
 * IOMMU paging domain (iommu_domain.c), shared by all its groups: a group
 * joins it when its first device attaches and leaves it (back to VFIO's
 * blocking domain) when its last device detaches.
 *
 * Emulated devices. A group of type VFIO_EMULATED_IOMMU (an mdev) joins
 * a type1 container as an engine device with no IOMMU of its own: it
 * takes any page size, the whole IOVA space and no reserved region, so it
 * fits any ioasid a physical device has fixed the attributes of, and its
 * container's mappings are pinned and charged at map time as for any
 * device. Its driver's vfio_pin_pages() gets the pages the mapping
 * already pinned: a pin is a count per IOVA page in the container
 * (shim_container.pins), with no second page pin and no second charge;
 * vfio_dma_rw() copies through the same pages. An unmap of a range with
 * pins first calls dma_unmap of every registered device for each pinned
 * mapping, without our locks held (the driver unpins from it), and runs
 * only when no pin is left in the range, so that the pages a driver holds
 * stay pinned by their mapping until it lets go.
 *
 * Dirty tracking (type1's VFIO_IOMMU_DIRTY_PAGES, the migration capability
 * and unmaps with a bitmap) runs on the engine's software tracking of the
 * container's ioasid (core/dirty.c), with type1's rules: a physical
 * device's DMA cannot be seen, so while one is attached every mapped page
 * is dirty; otherwise the pages emulated devices pinned or wrote through
 * dma_rw. The shim writes type1's bitmap layout itself, a bounded chunk at
 * a time (shim_dirty_report()).
 *
 * Locking: VFIO calls us under its container rwsem; then devs_lock (held
 * across the dma_unmap callbacks, which take the driver's locks and then
 * ours), then shim_container lock, then the context lock (the engine
 * calls the device and listener ops under it), then the domains' list
 * lock (iommu_domain.c).
 *
 * Vaddr updates (VFIO_UPDATE_VADDR: an unmap with VFIO_DMA_UNMAP_FLAG_VADDR
 * invalidates the user address of whole mappings, a map with
 * VFIO_DMA_MAP_FLAG_VADDR supplies a new one) change nothing the device
 * sees: the pages stay pinned and mapped in the IOMMU. The engine's
 * mapping keeps the vaddr it was pinned at (m->vaddr), which is what
 * every lookup into its pin counts from (ioasid_kpin_off: the IOMMU
 * domain, dma_rw, nested tables); the shim records the invalid state and
 * the user's newer vaddr apart, in shim_container.vaddrs, by IOVA, under
 * the context lock. Its listener drops a mapping's record when the
 * mapping goes. As in type1 (6.12), no emulated device may be in the
 * container while a vaddr is invalid: the invalidation fails with EBUSY
 * if one is, an attach of any group fails with EBUSY while a vaddr is
 * invalid, and pins and dma_rw fail with EBUSY then (they cannot happen).
 */
#include <linux/file.h>
#include <linux/highmem.h>
#include <linux/iommu.h>
#include <linux/module.h>
#include <linux/pci.h>
#include <linux/slab.h>
#include <linux/uaccess.h>
#include <linux/vfio.h>
#include <linux/xarray.h>

#include "ioasid_kernel.h"
#include "iommu_domain.h"
#include "vfio_compat.h"

static bool vfio_type1 = true;
module_param(vfio_type1, bool, 0644);
MODULE_PARM_DESC(vfio_type1,
		 "serve VFIO_TYPE1v2_IOMMU containers (the type1 shim); off leaves them to vfio_iommu_type1");

/* Group keys of VFIO devices in a context (swdevs use 2 << 56 and 3 << 62). */
#define SHIM_GROUP_KEY(g)	((1ULL << 56) | (u32)iommu_group_id(g))

struct shim_group;

/* Pins one IOVA page may hold at once; past it vfio_pin_pages fails. */
#define SHIM_PIN_MAX_REFS	INT_MAX
/*
 * dma_unmap rounds before an unmap gives up (EBUSY): in a row on one
 * mapping (type1's bound), and in all without progress.
 */
#define SHIM_UNMAP_TRIES	10
#define SHIM_UNMAP_ROUNDS	(1000 * SHIM_UNMAP_TRIES)

/*
 * Dirty bitmaps, as type1 bounds them: INT_MAX pages at most, in bytes of
 * whole u64 words. The shim builds a bitmap SHIM_DIRTY_WORDS words at a
 * time on the stack and copies each piece out: nothing is allocated by a
 * size the user gives.
 */
#define SHIM_DIRTY_PAGES_MAX	((u64)INT_MAX)
#define SHIM_DIRTY_SIZE_MAX	((SHIM_DIRTY_PAGES_MAX + 63) / 64 * 8)
#define SHIM_DIRTY_WORDS	64

struct shim_dev {
	struct ioasid_dev dev;
	struct shim_group *grp;
	struct device *kdev;
	const char *nest_why;		/* the hardware nesting probe's answer */
	bool nest_said;			/* nest_why logged (once a binding) */
	bool bound;
};

struct shim_group {
	struct list_head node;		/* in the container */
	struct iommu_group *group;
	struct ioasid_domain *sd;	/* while devices are attached */
	bool emulated;			/* VFIO_EMULATED_IOMMU: no IOMMU */
	unsigned int nattached;
	unsigned int ndevs;
	struct shim_dev devs[] __counted_by(ndevs);
};

struct shim_container {
	struct mutex lock;		/* the rest; outside the context lock */
	bool type1;
	struct ioasid_khost *h;		/* type1: own; else the bound fd's */
	struct file *file;		/* the bound ioasid fd */
	u32 ioasid;			/* type1: the container's ioasid */
	struct list_head groups;
	/* Emulated devices (type1 only); pins and ndevices under lock. */
	struct xarray pins;		/* IOVA >> PAGE_SHIFT: pin count */
	unsigned int nemulated;		/* emulated groups attached */
	unsigned int ndevices;		/* of devices, with dma_unmap */
	struct mutex devs_lock;		/* devices; outside lock */
	struct list_head devices;	/* vfio_device.iommu_entry */
	/*
	 * Type1 only, under the context lock: IOVA >> PAGE_SHIFT of each
	 * mapping whose vaddr was ever invalidated, to its user vaddr >>
	 * PAGE_SHIFT (pin-time one until updated), marked SHIM_VADDR_INVALID
	 * while it is invalid. vaddr_l drops a record with its mapping.
	 */
	struct xarray vaddrs;
	struct ioasid_listener vaddr_l;
};

#define SHIM_VADDR_INVALID	XA_MARK_0

/* Engine device ops, called under the context lock. */
static int shim_dev_attach(struct ioasid_dev *d, struct ioasid_as *as)
{
	struct shim_dev *sdev = container_of(d, struct shim_dev, dev);
	struct shim_group *g = sdev->grp;
	struct ioasid_domain *sd;

	if (g->sd) {
		/* One IOMMU group translates through one domain. */
		if (g->sd->as != as)
			return -EBUSY;
		g->nattached++;
		return 0;
	}
	sd = ioasid_domain_attach(as, sdev->kdev, g->group,
				  d->attrs.flags & IOASID_ATTR_COHERENT);
	if (IS_ERR(sd))
		return PTR_ERR(sd);
	/*
	 * Hardware nesting is not built: a nested ioasid is a shadow. Said
	 * once a device while its group is bound, and rate-limited across
	 * rebinds: attach and detach in a loop must not flood the log.
	 */
	if (ioasid_as_nested(as) && !sdev->nest_said) {
		sdev->nest_said = true;
		dev_info_ratelimited(sdev->kdev,
			 "ioasid %u nested in software; hardware nesting %s (%s)\n",
			 ioasid_as_id(as),
			 d->attrs.flags & IOASID_ATTR_NEST_HW ?
			 "possible, not implemented" : "unavailable",
			 sdev->nest_why);
	}
	g->sd = sd;
	g->nattached = 1;
	return 0;
}

static void shim_dev_detach(struct ioasid_dev *d, struct ioasid_as *as)
{
	struct shim_group *g = container_of(d, struct shim_dev, dev)->grp;
	struct ioasid_domain *sd = g->sd;

	if (WARN_ON(!sd) || --g->nattached)
		return;
	g->sd = NULL;
	/* The group falls back to VFIO's blocking domain: no DMA at all. */
	ioasid_domain_detach(sd, as, g->group);
}

static void shim_dev_release(struct ioasid_dev *d)
{
	container_of(d, struct shim_dev, dev)->bound = false;
}

static const struct ioasid_dev_ops shim_dev_ops = {
	.attach = shim_dev_attach,
	.detach = shim_dev_detach,
	.release = shim_dev_release,
};

/* An emulated device has no IOMMU domain to join or leave. */
static const struct ioasid_dev_ops shim_mdev_ops = {
	.release = shim_dev_release,
};

/*
 * What an emulated device accepts: every page size from PAGE_SIZE up,
 * the whole IOVA space, no reserved region (type1 offers the same to a
 * container of emulated devices only).
 */
static int shim_mdev_attrs(struct shim_dev *sdev)
{
	struct ioasid_attrs *a = &sdev->dev.attrs;

	memset(a, 0, sizeof(*a));
	a->pgsize_bitmap = (u64)PAGE_MASK;
	a->aperture_start = 0;
	a->aperture_last = U64_MAX;
	a->flags = IOASID_ATTR_COHERENT;
	return ioasid_check_dev_attrs(a, NULL);
}

/* Reserved regions of @group, merged and sorted, into @a. */
static int shim_resv(struct device *dev, struct iommu_group *group,
		     struct ioasid_attrs *a)
{
	struct iommu_resv_region *r;
	LIST_HEAD(list);
	int rc = 0;

	rc = iommu_get_group_resv_regions(group, &list);
	if (rc)
		return rc;
	list_for_each_entry(r, &list, list) {
		u64 start = r->start, last = r->start + r->length - 1;
		u32 i;

		if (!r->length || last < a->aperture_start ||
		    start > a->aperture_last)
			continue;
		start = max(start, a->aperture_start);
		last = min(last, a->aperture_last);
		for (i = 0; i < a->num_resv && a->resv[i].last < start; i++)
			;
		if (i < a->num_resv && a->resv[i].start <= last) {
			/* Overlaps: merge with every region it touches. */
			ioasid_range_merge(a->resv, &a->num_resv, i, start,
					   last, 0);
			continue;
		}
		if (a->num_resv == ARRAY_SIZE(a->resv)) {
			rc = -E2BIG;
			break;
		}
		ioasid_range_insert(a->resv, &a->num_resv, i, start, last);
	}
	iommu_put_resv_regions(dev, &list);
	return rc;
}

static int shim_dev_attrs(struct shim_dev *sdev, struct iommu_group *group)
{
	struct ioasid_attrs *a = &sdev->dev.attrs;
	struct iommu_domain *d = iommu_paging_domain_alloc(sdev->kdev);
	int rc;

	if (IS_ERR(d))
		return PTR_ERR(d);
	/*
	 * A domain learns the IOMMU's superpage sizes and address width when
	 * it is first attached (Intel finalizes both then), so attach it to
	 * the group, which VFIO owns and which has no DMA set up yet, read
	 * the attributes, and let the group go back to blocking.
	 */
	rc = iommu_attach_group(d, group);
	if (rc) {
		iommu_domain_free(d);
		return rc;
	}
	memset(a, 0, sizeof(*a));
	a->pgsize_bitmap = d->pgsize_bitmap;
	a->aperture_start = d->geometry.aperture_start;
	a->aperture_last = d->geometry.aperture_end;
	iommu_detach_group(d, group);
	iommu_domain_free(d);
	/* Pins are in CPU pages: the IOMMU must map a page that small. */
	if (!(a->pgsize_bitmap & PAGE_SIZE))
		return -EINVAL;
	a->pgsize_bitmap &= ~(PAGE_SIZE - 1);
	if (device_iommu_capable(sdev->kdev, IOMMU_CAP_CACHE_COHERENCY))
		a->flags |= IOASID_ATTR_COHERENT;
	if (ioasid_nest_hw_probe(sdev->kdev, &sdev->nest_why))
		a->flags |= IOASID_ATTR_NEST_HW;
	rc = shim_resv(sdev->kdev, group, a);
	if (rc)
		return rc;
	return ioasid_check_dev_attrs(a, NULL);
}

/*
 * The devices of a group that count for the group rule: all but PCI
 * bridges, which vfio-pci never drives and which do no DMA of their own
 * (a conventional bus's devices share their bridge's group, bridge
 * included).
 */
static bool shim_counts(struct device *dev)
{
	return !dev_is_pci(dev) || !pci_is_bridge(to_pci_dev(dev));
}

static int count_dev(struct device *dev, void *data)
{
	if (shim_counts(dev))
		(*(unsigned int *)data)++;
	return 0;
}

struct fill_ctx {
	struct shim_group *g;
	unsigned int n;
};

static int fill_dev(struct device *dev, void *data)
{
	struct fill_ctx *f = data;

	if (!shim_counts(dev))
		return 0;
	if (f->n == f->g->ndevs)
		return -EAGAIN;		/* the group grew meanwhile */
	f->g->devs[f->n].kdev = get_device(dev);
	f->g->devs[f->n].grp = f->g;
	f->g->devs[f->n].dev.ops = f->g->emulated ? &shim_mdev_ops :
						    &shim_dev_ops;
	/*
	 * A physical device's DMA bypasses the engine: dirty tracking must
	 * assume writes (type1's "non-pinned-page-scope" group). An emulated
	 * device writes only through pins and dma_rw, which the shim marks.
	 */
	f->g->devs[f->n].dev.untracked_dma = !f->g->emulated;
	f->n++;
	return 0;
}

static void shim_group_free(struct shim_group *g)
{
	unsigned int i;

	for (i = 0; i < g->ndevs; i++)
		put_device(g->devs[i].kdev);
	kfree(g);
}

static struct shim_group *shim_group_alloc(struct iommu_group *group,
					   bool emulated)
{
	struct fill_ctx f = { .n = 0 };
	unsigned int n = 0, i;
	struct shim_group *g;
	int rc;

	iommu_group_for_each_dev(group, &n, count_dev);
	if (!n)
		return ERR_PTR(-ENODEV);
	g = kzalloc(struct_size(g, devs, n), GFP_KERNEL_ACCOUNT);
	if (!g)
		return ERR_PTR(-ENOMEM);
	g->ndevs = n;
	g->group = group;
	g->emulated = emulated;
	f.g = g;
	rc = iommu_group_for_each_dev(group, &f, fill_dev);
	g->ndevs = f.n;
	if (!rc && f.n != n)
		rc = -EAGAIN;
	for (i = 0; !rc && i < g->ndevs; i++)
		rc = emulated ? shim_mdev_attrs(&g->devs[i]) :
				shim_dev_attrs(&g->devs[i], group);
	if (rc) {
		shim_group_free(g);
		return ERR_PTR(rc);
	}
	return g;
}

/*
 * Bind the group's devices to @h's context: all or none (a group is bound
 * whole, so none of its devices is bound yet unless all are).
 */
static int shim_group_bind(struct ioasid_khost *h, struct shim_group *g)
{
	unsigned int i;
	int rc = 0;

	ioasid_ctx_lock(h->ctx);
	for (i = 0; i < g->ndevs && !g->devs[i].bound; i++) {
		rc = ioasid_dev_bind(h->ctx, &g->devs[i].dev,
				     SHIM_GROUP_KEY(g->group), g->ndevs, NULL);
		if (rc)
			break;
		g->devs[i].bound = true;
	}
	if (rc)
		while (i--)
			ioasid_dev_unbind(&g->devs[i].dev);
	ioasid_ctx_unlock(h->ctx);
	return rc;
}

static void shim_group_unbind(struct ioasid_khost *h, struct shim_group *g)
{
	unsigned int i;

	ioasid_ctx_lock(h->ctx);
	for (i = 0; i < g->ndevs; i++)
		if (g->devs[i].bound)
			ioasid_dev_unbind(&g->devs[i].dev);
	ioasid_ctx_unlock(h->ctx);
}

/* Type1 mode: every device of the group on the container's ioasid. */
static int shim_group_attach_all(struct shim_container *c,
				 struct shim_group *g)
{
	struct ioasid_device_attach at = {
		.size = sizeof(at),
		.ioasid = c->ioasid,
	};
	unsigned int i;
	int rc;

	rc = shim_group_bind(c->h, g);
	if (rc)
		return rc;
	for (i = 0; i < g->ndevs; i++) {
		at.dev_id = g->devs[i].dev.obj.id;
		rc = ioasid_ctx_call(c->h->ctx, IOASID_CMD_DEVICE_ATTACH, &at,
				     NULL);
		if (rc) {
			/* Unbinding detaches the ones attached so far. */
			shim_group_unbind(c->h, g);
			return rc;
		}
	}
	return 0;
}

/* The key of mapping @m in shim_container.vaddrs. */
static unsigned long shim_vaddr_key(const struct ioasid_mapping *m)
{
	return m->iova >> PAGE_SHIFT;
}

/* The context lock held: whether a vaddr of @c is invalid now. */
static bool shim_vaddr_busy_locked(struct shim_container *c)
{
	return xa_marked(&c->vaddrs, SHIM_VADDR_INVALID);
}

static bool shim_vaddr_busy(struct shim_container *c)
{
	bool busy;

	ioasid_ctx_lock(c->h->ctx);
	busy = shim_vaddr_busy_locked(c);
	ioasid_ctx_unlock(c->h->ctx);
	return busy;
}

/* New mappings have no record: nothing to do. */
static int shim_vaddr_map(struct ioasid_listener *l,
			  struct ioasid_mapping *chain)
{
	return 0;
}

/* Under the context lock: unmapped mappings take their records along. */
static void shim_vaddr_unmap(struct ioasid_listener *l,
			     struct ioasid_mapping *chain)
{
	struct shim_container *c = container_of(l, struct shim_container,
						vaddr_l);
	struct ioasid_mapping *m;

	for (m = chain; m; m = m->next)
		xa_erase(&c->vaddrs, shim_vaddr_key(m));
}

static const struct ioasid_listener_ops shim_vaddr_listener_ops = {
	.map = shim_vaddr_map,
	.unmap = shim_vaddr_unmap,
};

/* The container's ioasid, just allocated, tells vaddr_l of its unmaps. */
static int shim_vaddr_listen(struct shim_container *c)
{
	struct ioasid_as *as;
	int rc;

	ioasid_ctx_lock(c->h->ctx);
	as = ioasid_ctx_as(c->h->ctx, c->ioasid);
	rc = as ? ioasid_as_add_listener(as, &c->vaddr_l) : -ENOENT;
	ioasid_ctx_unlock(c->h->ctx);
	return rc;
}

static void *shim_open(unsigned long arg)
{
	struct ioasid_alloc al = { .size = sizeof(al) };
	struct shim_container *c;
	long rc;

	if (arg != VFIO_IOASID_IOMMU && !(arg == VFIO_TYPE1v2_IOMMU &&
					  READ_ONCE(vfio_type1)))
		return ERR_PTR(-EINVAL);
	c = kzalloc(sizeof(*c), GFP_KERNEL_ACCOUNT);
	if (!c)
		return ERR_PTR(-ENOMEM);
	mutex_init(&c->lock);
	INIT_LIST_HEAD(&c->groups);
	xa_init(&c->pins);
	mutex_init(&c->devs_lock);
	INIT_LIST_HEAD(&c->devices);
	xa_init(&c->vaddrs);
	c->vaddr_l.ops = &shim_vaddr_listener_ops;
	if (arg == VFIO_TYPE1v2_IOMMU) {
		c->type1 = true;
		c->h = ioasid_khost_create();
		if (!c->h) {
			kfree(c);
			return ERR_PTR(-ENOMEM);
		}
		rc = ioasid_ctx_call(c->h->ctx, IOASID_CMD_ALLOC, &al, NULL);
		if (rc) {
			ioasid_khost_destroy(c->h);
			kfree(c);
			return ERR_PTR(rc);
		}
		c->ioasid = al.out_ioasid;
		rc = shim_vaddr_listen(c);
		if (rc) {
			ioasid_khost_destroy(c->h);
			kfree(c);
			return ERR_PTR(rc);
		}
	}
	return c;
}

static void shim_release(void *data)
{
	struct shim_container *c = data;

	WARN_ON(!list_empty(&c->groups));
	WARN_ON(!list_empty(&c->devices));
	/* Counts only: the pages are the mappings', unpinned with them. */
	xa_destroy(&c->pins);
	mutex_destroy(&c->devs_lock);
	if (c->type1)
		ioasid_khost_destroy(c->h);
	else if (c->file)
		fput(c->file);
	/* After the context: its last unmaps called vaddr_l. */
	xa_destroy(&c->vaddrs);
	mutex_destroy(&c->lock);
	kfree(c);
}

static int shim_attach_group(void *data, struct iommu_group *group,
			     enum vfio_group_type type)
{
	struct shim_container *c = data;
	struct shim_group *g;
	int rc = 0;

	/*
	 * Emulated devices only in type1 mode, where every unmap of their
	 * ioasid comes through shim_unmap_dma() and can call dma_unmap.
	 */
	if (type != VFIO_IOMMU && (type != VFIO_EMULATED_IOMMU || !c->type1))
		return -EINVAL;
	g = shim_group_alloc(group, type == VFIO_EMULATED_IOMMU);
	if (IS_ERR(g))
		return PTR_ERR(g);
	mutex_lock(&c->lock);
	/* Type1: no attach while a vaddr is invalid (it could need pins). */
	if (c->type1 && shim_vaddr_busy(c))
		rc = -EBUSY;
	else if (c->type1)
		rc = shim_group_attach_all(c, g);
	else if (c->h)
		rc = shim_group_bind(c->h, g);
	if (rc) {
		mutex_unlock(&c->lock);
		shim_group_free(g);
		return rc;
	}
	list_add_tail(&g->node, &c->groups);
	c->nemulated += g->emulated;
	mutex_unlock(&c->lock);
	return 0;
}

/*
 * c->lock held, the last emulated group gone. Pins its driver left (it
 * must unpin at close) would hold up every unmap of their range: drop
 * the counts, and say how many. Nothing else to undo: a pin takes no
 * page reference and no charge of its own, the mapping holds both until
 * it is unmapped.
 */
static void shim_pins_drop(struct shim_container *c)
{
	unsigned long idx, n = 0;
	void *e;

	xa_for_each(&c->pins, idx, e)
		n += xa_to_value(e);
	xa_destroy(&c->pins);
	if (n)
		pr_notice_ratelimited("ioasid: vfio shim: %lu pins of emulated devices left at their last detach, dropped\n",
				      n);
}

static void shim_detach_group(void *data, struct iommu_group *group)
{
	struct shim_container *c = data;
	struct shim_group *g;

	mutex_lock(&c->lock);
	list_for_each_entry(g, &c->groups, node) {
		if (g->group != group)
			continue;
		if (c->h)
			shim_group_unbind(c->h, g);
		if (g->emulated && !--c->nemulated)
			shim_pins_drop(c);
		list_del(&g->node);
		shim_group_free(g);
		break;
	}
	mutex_unlock(&c->lock);
}

static long shim_check_extension(struct shim_container *c,
				 unsigned long ext)
{
	bool emulated;

	switch (ext) {
	case VFIO_TYPE1v2_IOMMU:
		return READ_ONCE(vfio_type1);
	case VFIO_IOASID_IOMMU:
		return 1;
	case VFIO_UNMAP_ALL:
		return READ_ONCE(vfio_type1);
	case VFIO_UPDATE_VADDR:
		/* As type1: a container's, and none with emulated devices. */
		if (!c || !c->type1)
			return 0;
		mutex_lock(&c->lock);
		emulated = c->nemulated;
		mutex_unlock(&c->lock);
		return !emulated;
	default:
		return 0;
	}
}

/*
 * The capabilities ahead of the IOVA ranges, laid out as type1 lays them
 * out (each one 8-byte aligned, in the order type1 adds them): migration,
 * then the free mapping slots.
 */
struct shim_info_caps {
	struct vfio_iommu_type1_info_cap_migration mig;
	struct vfio_iommu_type1_info_dma_avail avail;
	u8 pad[ALIGN(sizeof(struct vfio_iommu_type1_info_dma_avail), 8) -
	       sizeof(struct vfio_iommu_type1_info_dma_avail)];
};

static_assert(sizeof(struct shim_info_caps) == 48);

/*
 * VFIO_IOMMU_GET_INFO: page sizes; the migration capability (dirty
 * bitmaps in the smallest page, up to type1's bitmap size), free slots,
 * the usable IOVA ranges.
 */
static long shim_get_info(struct shim_container *c, unsigned long arg)
{
	struct vfio_iommu_type1_info info;
	struct vfio_iommu_type1_info_cap_iova_range *ranges;
	struct shim_info_caps head;
	struct ioasid_range r[IOASID_SWDEV_MAX_RESV + 1];
	size_t minsz = offsetofend(struct vfio_iommu_type1_info, iova_pgsizes);
	size_t rsz, capsz;
	struct ioasid_attrs a;
	u32 n, nmaps, max, i;
	long rc;

	if (copy_from_user(&info, (void __user *)arg, minsz))
		return -EFAULT;
	if (info.argsz < minsz)
		return -EINVAL;
	/* Copied out whole: its padding too must be zero, not stack. */
	memset(&head, 0, sizeof(head));
	head.mig.header.id = VFIO_IOMMU_TYPE1_INFO_CAP_MIGRATION;
	head.mig.header.version = 1;
	head.avail.header.id = VFIO_IOMMU_TYPE1_INFO_DMA_AVAIL;
	head.avail.header.version = 1;
	rc = ioasid_ctx_as_attrs(c->h->ctx, c->ioasid, &a, &nmaps);
	if (rc)
		return rc;
	info.flags = VFIO_IOMMU_INFO_PGSIZES;
	info.iova_pgsizes = a.pgsize_bitmap;
	if (info.argsz < offsetofend(struct vfio_iommu_type1_info, cap_offset))
		return copy_to_user((void __user *)arg, &info, minsz) ?
			-EFAULT : 0;

	n = ioasid_attrs_ranges(&a, r, ARRAY_SIZE(r));
	rsz = struct_size(ranges, iova_ranges, n);
	capsz = sizeof(head) + rsz;
	info.flags |= VFIO_IOMMU_INFO_CAPS;
	info.cap_offset = 0;
	minsz = offsetofend(struct vfio_iommu_type1_info, cap_offset);
	if (info.argsz < sizeof(info) + capsz) {
		/* Tell the caller how much room the capabilities need. */
		info.argsz = sizeof(info) + capsz;
		return copy_to_user((void __user *)arg, &info, minsz) ?
			-EFAULT : 0;
	}
	ranges = kzalloc(rsz, GFP_KERNEL);
	if (!ranges)
		return -ENOMEM;
	ranges->header.id = VFIO_IOMMU_TYPE1_INFO_CAP_IOVA_RANGE;
	ranges->header.version = 1;
	ranges->nr_iovas = n;
	for (i = 0; i < n; i++) {
		ranges->iova_ranges[i].start = r[i].start;
		ranges->iova_ranges[i].end = r[i].last;
	}
	head.mig.header.next = sizeof(info) + offsetof(typeof(head), avail);
	head.mig.pgsize_bitmap = a.pgsize_bitmap & -a.pgsize_bitmap;
	head.mig.max_dirty_bitmap_size = SHIM_DIRTY_SIZE_MAX;
	head.avail.header.next = sizeof(info) + sizeof(head);
	max = ioasid_ctx_max_mappings(c->h->ctx);
	head.avail.avail = nmaps < max ? max - nmaps : 0;
	info.cap_offset = sizeof(info);
	rc = 0;
	if (copy_to_user((void __user *)arg + sizeof(info), &head,
			 sizeof(head)) ||
	    copy_to_user((void __user *)arg + sizeof(info) + sizeof(head),
			 ranges, rsz) ||
	    copy_to_user((void __user *)arg, &info, minsz))
		rc = -EFAULT;
	kfree(ranges);
	return rc;
}

static long shim_map_dma(struct shim_container *c, unsigned long arg)
{
	size_t minsz = offsetofend(struct vfio_iommu_type1_dma_map, size);
	struct vfio_iommu_type1_dma_map map;
	struct ioasid_map_dma m = { .size = sizeof(m) };
	long rc;

	if (copy_from_user(&map, (void __user *)arg, minsz))
		return -EFAULT;
	if (map.argsz < minsz ||
	    map.flags & ~(VFIO_DMA_MAP_FLAG_READ | VFIO_DMA_MAP_FLAG_WRITE))
		return -EINVAL;
	m.ioasid = c->ioasid;
	m.flags = (map.flags & VFIO_DMA_MAP_FLAG_READ ? IOASID_DMA_READ : 0) |
		  (map.flags & VFIO_DMA_MAP_FLAG_WRITE ? IOASID_DMA_WRITE : 0);
	m.iova = map.iova;
	m.vaddr = map.vaddr;
	m.length = map.size;
	/* Under c->lock: an unmap that reports dirty bits is one step. */
	mutex_lock(&c->lock);
	rc = ioasid_ctx_call(c->h->ctx, IOASID_CMD_MAP_DMA, &m, NULL);
	mutex_unlock(&c->lock);
	return rc;
}

/*
 * c->lock held. Whether an unmap of [iova, last] would run (it cuts no
 * mapping at either end, as type1 v2 checks before any callback) and a
 * mapping inside it has pins of emulated devices: that mapping's extent.
 */
static bool shim_pinned_mapping(struct shim_container *c, u64 iova, u64 last,
				u64 *m_iova, u64 *m_len)
{
	unsigned long idx = iova >> PAGE_SHIFT;
	struct ioasid_mapping *m;
	struct ioasid_as *as;
	bool found = false;

	if (xa_empty(&c->pins))
		return false;
	ioasid_ctx_lock(c->h->ctx);
	as = ioasid_ctx_as(c->h->ctx, c->ioasid);
	if (!as)
		goto out;
	m = ioasid_as_find(as, iova);
	if (m && m->iova != iova)
		goto out;
	m = ioasid_as_find(as, last);
	if (m && m->last != last)
		goto out;
	if (!xa_find(&c->pins, &idx, last >> PAGE_SHIFT, XA_PRESENT))
		goto out;
	m = ioasid_as_find(as, (u64)idx << PAGE_SHIFT);
	if (m) {
		*m_iova = m->iova;
		*m_len = ioasid_mapping_length(m);
		found = true;
	}
out:
	ioasid_ctx_unlock(c->h->ctx);
	return found;
}

/* Tell every registered device that [iova, iova + len) is going away. */
static void shim_notify_unmap(struct shim_container *c, u64 iova, u64 len)
{
	struct vfio_device *vdev;

	mutex_lock(&c->devs_lock);
	list_for_each_entry(vdev, &c->devices, iommu_entry)
		vdev->ops->dma_unmap(vdev, iova, len);
	mutex_unlock(&c->devs_lock);
}

/*
 * Type1's checks of a dirty bitmap for @size bytes of IOVA, before any
 * lock (vfio_iommu_type1_dirty_pages(), verify_bitmap_size()): EINVAL
 * for a bitmap outside user space, no page, no byte, more than type1's
 * largest bitmap, or fewer bytes than the pages need. A page size of 0
 * (which type1 takes __ffs() of) is EINVAL here already; type1 refuses
 * it as not the smallest page a step later, with the same errno.
 */
/* Bytes of @n bits in whole u64 words, without overflow for any @n. */
static u64 shim_dirty_bytes(u64 n)
{
	return (n / 64 + !!(n % 64)) * 8;
}

static int shim_bitmap_check(u64 size, const struct vfio_bitmap *b)
{
	u64 npages;

	if (!access_ok(b->data, b->size) || !b->pgsize)
		return -EINVAL;
	npages = size >> __ffs64(b->pgsize);
	if (!npages || !b->size || b->size > SHIM_DIRTY_SIZE_MAX ||
	    b->size < shim_dirty_bytes(npages))
		return -EINVAL;
	return 0;
}

/*
 * c->lock held. The checks type1 makes under its lock (EINVAL for each):
 * the bitmap's page is the smallest page, the range is aligned to it, not
 * empty and does not wrap, tracking runs, and the range cuts no mapping.
 * Returns the page shift through @pgshift.
 */
static int shim_dirty_locked_check(struct shim_container *c, u64 iova,
				   u64 size, u64 bitmap_pgsize, u32 *pgshift)
{
	struct ioasid_mapping *m;
	struct ioasid_attrs a;
	struct ioasid_as *as;
	u32 nmaps;
	u64 pg;
	int rc;

	rc = ioasid_ctx_as_attrs(c->h->ctx, c->ioasid, &a, &nmaps);
	if (rc)
		return rc;
	pg = a.pgsize_bitmap & -a.pgsize_bitmap;
	if (bitmap_pgsize != pg || iova & (pg - 1) || !size ||
	    size & (pg - 1) || iova + size - 1 < iova)
		return -EINVAL;
	ioasid_ctx_lock(c->h->ctx);
	as = ioasid_ctx_as(c->h->ctx, c->ioasid);
	rc = -EINVAL;
	if (!as || !ioasid_as_dirty_on(as))
		goto out;
	m = ioasid_as_find(as, iova);
	if (m && m->iova != iova)
		goto out;
	m = ioasid_as_find(as, iova + size - 1);
	if (m && m->last != iova + size - 1)
		goto out;
	*pgshift = __ffs64(pg);
	rc = 0;
out:
	ioasid_ctx_unlock(c->h->ctx);
	return rc;
}

/*
 * c->lock and the context lock held, tracking on. Mapping @m's dirty bits
 * into the user's bitmap whose bit 0 is the page at @base, as type1's
 * update_user_bitmap() writes them: the u64 words @m's pages fall in, the
 * first one or'ed with the user's own bits when @m does not start a word;
 * the others are left as they are. A page is dirty if a device the shim
 * cannot see is attached (all of them, read-only ones too), if the engine
 * recorded it (dma_rw writes, pins since the last read), or if an
 * emulated device holds it pinned now. What was reported is then cleared.
 */
static int shim_dirty_report(struct shim_container *c, struct ioasid_as *as,
			     struct ioasid_mapping *m, u64 base, u32 pgshift,
			     u64 __user *bitmap)
{
	u64 nbits = ioasid_mapping_length(m) >> pgshift;
	u64 boff = (m->iova - base) >> pgshift;
	u64 shift = boff % 64, nwords = DIV_ROUND_UP_ULL(nbits + shift, 64);
	u64 __user *out = bitmap + boff / 64;
	u64 words[SHIM_DIRTY_WORDS];
	u64 w;

	for (w = 0; w < nwords; w += SHIM_DIRTY_WORDS) {
		u64 n = min_t(u64, nwords - w, SHIM_DIRTY_WORDS);
		u64 b0 = w * 64;	/* first bit here, counted from @out */
		u64 pfirst = b0 > shift ? b0 - shift : 0;
		u64 plast = min_t(u64, nbits - 1, b0 + n * 64 - 1 - shift);
		u64 start = m->iova + (pfirst << pgshift);
		unsigned long idx = start >> PAGE_SHIFT;
		unsigned long lidx = (start + ((plast - pfirst + 1) << pgshift) -
				      1) >> PAGE_SHIFT;
		void *e;

		memset(words, 0, sizeof(words));
		ioasid_as_dirty_bits(as, start, plast - pfirst + 1, pgshift,
				     words, pfirst + shift - b0);
		xa_for_each_range(&c->pins, idx, e, idx, lidx) {
			u64 bit = ((((u64)idx << PAGE_SHIFT) - m->iova) >>
				   pgshift) + shift - b0;

			words[bit / 64] |= 1ULL << (bit % 64);
		}
		if (!w && shift) {
			u64 mine;

			if (get_user(mine, out))
				return -EFAULT;
			words[0] |= mine;
		}
		if (copy_to_user(out + w, words, n * sizeof(u64)))
			return -EFAULT;
		cond_resched();
	}
	ioasid_as_dirty_clear(as, m->iova, m->last);
	return 0;
}

/*
 * c->lock held, shim_dirty_locked_check() passed. Every mapping in
 * [iova, iova + size) into @bitmap, in IOVA order; on a fault the IOVA
 * of the mapping that failed is in @failed (those before it reported and
 * cleared, as in type1).
 */
static int shim_dirty_range(struct shim_container *c, u64 iova, u64 size,
			    u32 pgshift, u64 __user *bitmap, u64 *failed)
{
	u64 last = iova + size - 1;
	struct ioasid_mapping *m;
	struct ioasid_as *as;
	int rc = 0;

	ioasid_ctx_lock(c->h->ctx);
	as = ioasid_ctx_as(c->h->ctx, c->ioasid);
	for (m = as ? ioasid_as_next(as, iova) : NULL; m && m->iova <= last;
	     m = m->last == U64_MAX ? NULL : ioasid_as_next(as, m->last + 1)) {
		rc = shim_dirty_report(c, as, m, iova, pgshift, bitmap);
		if (rc) {
			*failed = m->iova;
			break;
		}
	}
	ioasid_ctx_unlock(c->h->ctx);
	return rc;
}

/*
 * VFIO_IOMMU_DIRTY_PAGES: start, stop, or read a bitmap, with type1's
 * arguments and errnos. Tracking is the engine's, on the container's
 * ioasid, with type1's unmap rule (an unmapped range forgets its bits).
 */
static long shim_dirty_pages(struct shim_container *c, unsigned long arg)
{
	size_t minsz = offsetofend(struct vfio_iommu_type1_dirty_bitmap, flags);
	u32 mask = VFIO_IOMMU_DIRTY_PAGES_FLAG_START |
		   VFIO_IOMMU_DIRTY_PAGES_FLAG_STOP |
		   VFIO_IOMMU_DIRTY_PAGES_FLAG_GET_BITMAP;
	struct vfio_iommu_type1_dirty_bitmap_get range;
	struct vfio_iommu_type1_dirty_bitmap dirty;
	struct ioasid_as *as;
	u64 failed;
	u32 pgshift;
	int rc;

	if (copy_from_user(&dirty, (void __user *)arg, minsz))
		return -EFAULT;
	if (dirty.argsz < minsz || dirty.flags & ~mask ||
	    hweight32(dirty.flags) != 1)
		return -EINVAL;
	if (dirty.flags != VFIO_IOMMU_DIRTY_PAGES_FLAG_GET_BITMAP) {
		mutex_lock(&c->lock);
		ioasid_ctx_lock(c->h->ctx);
		as = ioasid_ctx_as(c->h->ctx, c->ioasid);
		rc = as ? ioasid_as_dirty_set(as, dirty.flags ==
					      VFIO_IOMMU_DIRTY_PAGES_FLAG_START,
					      true) : -ENODEV;
		ioasid_ctx_unlock(c->h->ctx);
		mutex_unlock(&c->lock);
		return rc;
	}
	if (dirty.argsz - minsz < sizeof(range))
		return -EINVAL;
	if (copy_from_user(&range, (void __user *)arg + minsz, sizeof(range)))
		return -EFAULT;
	if (range.iova + range.size < range.iova)
		return -EINVAL;
	rc = shim_bitmap_check(range.size, &range.bitmap);
	if (rc)
		return rc;
	mutex_lock(&c->lock);
	rc = shim_dirty_locked_check(c, range.iova, range.size,
				     range.bitmap.pgsize, &pgshift);
	if (!rc)
		rc = shim_dirty_range(c, range.iova, range.size, pgshift,
				      range.bitmap.data, &failed);
	mutex_unlock(&c->lock);
	return rc;
}

/*
 * c->lock held: an unmap with VFIO_DMA_UNMAP_FLAG_GET_DIRTY_BITMAP, its
 * pins gone. Type1's checks, the mappings' bits into @b, then the unmap,
 * all under c->lock, which pins, dma_rw and maps take too. If the bitmap
 * faults, the mappings reported before the fault are unmapped and the
 * call fails with EFAULT, as in type1.
 */
static long shim_unmap_dirty(struct shim_container *c,
			     struct ioasid_unmap_dma *u,
			     const struct vfio_bitmap *b)
{
	u64 failed = 0;
	u32 pgshift;
	long rc;

	/* Again: c->lock was let go for the dma_unmap callbacks. */
	rc = shim_dirty_locked_check(c, u->iova, u->length, b->pgsize,
				     &pgshift);
	if (rc)
		return rc;
	rc = shim_dirty_range(c, u->iova, u->length, pgshift, b->data,
			      &failed);
	if (rc != -EFAULT)
		return rc ? rc : ioasid_ctx_call(c->h->ctx,
						 IOASID_CMD_UNMAP_DMA, u,
						 NULL);
	if (failed > u->iova) {
		u->length = failed - u->iova;
		ioasid_ctx_call(c->h->ctx, IOASID_CMD_UNMAP_DMA, u, NULL);
	}
	return -EFAULT;
}

static long shim_unmap_dma(struct shim_container *c, unsigned long arg)
{
	size_t minsz = offsetofend(struct vfio_iommu_type1_dma_unmap, size);
	struct vfio_iommu_type1_dma_unmap unmap;
	struct ioasid_unmap_dma u = { .size = sizeof(u) };
	struct vfio_bitmap bitmap = {};
	unsigned int tries = 0, rounds = 0;
	u64 last = U64_MAX, m_iova, m_len, prev = 0, reach = 0;
	bool notify = true, dirty;
	long rc;

	if (copy_from_user(&unmap, (void __user *)arg, minsz))
		return -EFAULT;
	/* A vaddr flag never gets here: shim_vaddr_ioctl() took the call. */
	if (unmap.argsz < minsz ||
	    unmap.flags & ~(VFIO_DMA_UNMAP_FLAG_ALL |
			    VFIO_DMA_UNMAP_FLAG_GET_DIRTY_BITMAP))
		return -EINVAL;
	dirty = unmap.flags & VFIO_DMA_UNMAP_FLAG_GET_DIRTY_BITMAP;
	if (dirty) {
		/* Type1's order: the flags, the size, the bitmap. */
		if (unmap.flags & VFIO_DMA_UNMAP_FLAG_ALL ||
		    unmap.argsz < minsz + sizeof(bitmap))
			return -EINVAL;
		if (copy_from_user(&bitmap, (void __user *)arg + minsz,
				   sizeof(bitmap)))
			return -EFAULT;
		rc = shim_bitmap_check(unmap.size, &bitmap);
		if (rc)
			return rc;
	}
	u.ioasid = c->ioasid;
	u.flags = unmap.flags & VFIO_DMA_UNMAP_FLAG_ALL ? IOASID_UNMAP_ALL : 0;
	u.iova = unmap.iova;
	u.length = unmap.size;
	/* Arguments the engine refuses call no dma_unmap. */
	if (!(u.flags & IOASID_UNMAP_ALL) &&
	    (!u.length || (u.iova | u.length) & ~PAGE_MASK ||
	     check_add_overflow(u.iova, u.length - 1, &last)))
		notify = false;
	mutex_lock(&c->lock);
	if (dirty) {
		/* Refused before any dma_unmap, as type1 refuses it. */
		u32 pgshift;

		rc = shim_dirty_locked_check(c, u.iova, u.length,
					     bitmap.pgsize, &pgshift);
		if (rc) {
			mutex_unlock(&c->lock);
			return rc;
		}
	}
	while (notify && shim_pinned_mapping(c, u.iova, last, &m_iova,
					     &m_len)) {
		/*
		 * The drivers unpin from dma_unmap; one that keeps (or
		 * retakes) its pins fails the unmap, not the kernel. Both
		 * bounds start again on progress, when the first pinned
		 * mapping lies past every one seen so far: an unmap of
		 * any number of pinned mappings that each let go runs to
		 * the end, one whose pins keep being retaken (here and
		 * behind) does not.
		 */
		if (!rounds || m_iova > reach) {
			reach = m_iova;
			rounds = 0;
			tries = 0;
		} else if (m_iova == prev) {
			tries++;
		} else {
			tries = 0;
		}
		if (tries > SHIM_UNMAP_TRIES || ++rounds > SHIM_UNMAP_ROUNDS) {
			mutex_unlock(&c->lock);
			return -EBUSY;
		}
		prev = m_iova;
		mutex_unlock(&c->lock);
		shim_notify_unmap(c, m_iova, m_len);
		if (fatal_signal_pending(current))
			return -EINTR;
		cond_resched();
		mutex_lock(&c->lock);
	}
	/*
	 * The last check found no pin in the range with c->lock held, and
	 * it stays held to the end of the unmap: a pin (vfio_pin_pages
	 * takes c->lock) waits for it, then finds the range unmapped.
	 */
	if (dirty)
		rc = shim_unmap_dirty(c, &u, &bitmap);
	else
		rc = ioasid_ctx_call(c->h->ctx, IOASID_CMD_UNMAP_DMA, &u, NULL);
	mutex_unlock(&c->lock);
	if (rc)
		return rc;
	unmap.size = u.out_unmapped;
	return copy_to_user((void __user *)arg, &unmap, minsz) ? -EFAULT : 0;
}

/* IOASID_VFIO_BIND's first version ends here; later ones append. */
#define SHIM_BIND_MIN_SIZE	offsetofend(struct ioasid_vfio_bind, dev_ids_uptr)

static long shim_bind(struct shim_container *c, unsigned long arg)
{
	struct ioasid_vfio_bind b;
	struct ioasid_khost *h;
	struct shim_group *g;
	struct file *f;
	u32 n = 0, i, usize;
	long rc;

	rc = ioasid_struct_from_user(&b, sizeof(b), SHIM_BIND_MIN_SIZE,
				     (void __user *)arg, &usize);
	if (rc)
		return rc;
	if (b.flags)
		return -EINVAL;
	if (c->type1)
		return -EINVAL;
	h = ioasid_fd_khost(b.ioasid_fd, &f);
	if (!h)
		return -EBADF;
	mutex_lock(&c->lock);
	if (c->file && c->file != f) {
		rc = -EBUSY;
		goto out_put;
	}
	list_for_each_entry(g, &c->groups, node) {
		rc = shim_group_bind(h, g);
		if (rc)
			goto out_put;
	}
	if (!c->file) {
		c->file = f;
		c->h = h;
	} else {
		fput(f);
	}
	list_for_each_entry(g, &c->groups, node) {
		for (i = 0; i < g->ndevs; i++, n++) {
			u32 id = g->devs[i].dev.obj.id;
			u32 __user *out = u64_to_user_ptr(b.dev_ids_uptr);

			if (n < b.num_devs && put_user(id, out + n))
				rc = -EFAULT;
		}
	}
	if (!rc && n > b.num_devs)
		rc = -EMSGSIZE;
	b.num_devs = n;
	if (copy_to_user((void __user *)arg, &b,
			 sizefirst_len(usize, sizeof(b))))
		rc = -EFAULT;
	mutex_unlock(&c->lock);
	return rc;

out_put:
	/* Groups bound before the failure stay bound only if c->file is f. */
	if (!c->file) {
		list_for_each_entry(g, &c->groups, node)
			shim_group_unbind(h, g);
	}
	mutex_unlock(&c->lock);
	fput(f);
	return rc;
}

/* The smallest page of the container's ioasid: type1's unit of vaddrs. */
static int shim_vaddr_pgsize(struct shim_container *c, u64 *pg)
{
	struct ioasid_attrs a;
	u32 nmaps;
	int rc;

	rc = ioasid_ctx_as_attrs(c->h->ctx, c->ioasid, &a, &nmaps);
	if (rc)
		return rc;
	*pg = a.pgsize_bitmap & -a.pgsize_bitmap;
	return 0;
}

/* The context lock held: the first mapping that meets [iova, last]. */
static struct ioasid_mapping *shim_vaddr_first(struct ioasid_as *as,
					       u64 iova, u64 last)
{
	struct ioasid_mapping *m = ioasid_as_find(as, iova);

	if (!m)
		m = ioasid_as_next(as, iova);
	return m && m->iova <= last ? m : NULL;
}

/* The one after @m that still starts in [.., last], or NULL. */
static struct ioasid_mapping *shim_vaddr_next(struct ioasid_as *as,
					      struct ioasid_mapping *m,
					      u64 last)
{
	if (m->last >= last)
		return NULL;
	m = ioasid_as_next(as, m->last + 1);
	return m && m->iova <= last ? m : NULL;
}

/*
 * c->lock and the context lock held; [iova, last] checked as type1
 * checks it. Invalidate the vaddr of every mapping in it, or of none:
 * EINVAL if one is invalid already (type1 undoes the ones it marked),
 * ENOMEM if a record cannot be stored (records made so far stay, not
 * marked: they hold the vaddr the mapping has anyway).
 */
static int shim_vaddr_invalidate(struct shim_container *c,
				 struct ioasid_as *as, u64 iova, u64 last,
				 u64 *done)
{
	struct ioasid_mapping *m;
	int rc;

	for (m = shim_vaddr_first(as, iova, last); m;
	     m = shim_vaddr_next(as, m, last))
		if (xa_get_mark(&c->vaddrs, shim_vaddr_key(m),
				SHIM_VADDR_INVALID))
			return -EINVAL;
	for (m = shim_vaddr_first(as, iova, last); m;
	     m = shim_vaddr_next(as, m, last)) {
		if (xa_load(&c->vaddrs, shim_vaddr_key(m)))
			continue;
		rc = xa_insert(&c->vaddrs, shim_vaddr_key(m),
			       xa_mk_value(m->vaddr >> PAGE_SHIFT),
			       GFP_KERNEL_ACCOUNT);
		if (rc)
			return rc;
	}
	*done = 0;
	for (m = shim_vaddr_first(as, iova, last); m;
	     m = shim_vaddr_next(as, m, last)) {
		xa_set_mark(&c->vaddrs, shim_vaddr_key(m), SHIM_VADDR_INVALID);
		*done += ioasid_mapping_length(m);
	}
	return 0;
}

/*
 * VFIO_IOMMU_UNMAP_DMA with VFIO_DMA_UNMAP_FLAG_VADDR, with type1's
 * arguments and errnos (vfio_dma_do_unmap): EBUSY with emulated devices
 * in the container; EINVAL for an IOVA or a size not aligned to the
 * smallest page, an empty or wrapping range, VFIO_DMA_UNMAP_FLAG_ALL with
 * an IOVA or a size, a range that cuts a mapping, or a vaddr in it that
 * is invalid already. The mappings stay; their size is returned.
 */
static long shim_unmap_vaddr(struct shim_container *c,
			     struct vfio_iommu_type1_dma_unmap *unmap,
			     unsigned long arg)
{
	size_t minsz = offsetofend(struct vfio_iommu_type1_dma_unmap, size);
	bool all = unmap->flags & VFIO_DMA_UNMAP_FLAG_ALL;
	u64 iova = unmap->iova, size = unmap->size, last = U64_MAX, pg, done;
	struct ioasid_mapping *m;
	struct ioasid_as *as;
	long rc;

	/* Type1 refuses a dirty bitmap along with it before anything. */
	if (unmap->flags & VFIO_DMA_UNMAP_FLAG_GET_DIRTY_BITMAP)
		return -EINVAL;
	mutex_lock(&c->lock);
	rc = -EBUSY;
	if (c->nemulated)
		goto out;
	rc = shim_vaddr_pgsize(c, &pg);
	if (rc)
		goto out;
	rc = -EINVAL;
	if (iova & (pg - 1))
		goto out;
	if (all ? iova || size :
	    !size || size & (pg - 1) || check_add_overflow(iova, size - 1,
							   &last))
		goto out;
	ioasid_ctx_lock(c->h->ctx);
	as = ioasid_ctx_as(c->h->ctx, c->ioasid);
	if (!as)
		goto out_ctx;
	/* Whole mappings only (type1 v2). */
	m = ioasid_as_find(as, iova);
	if (!all && m && m->iova != iova)
		goto out_ctx;
	m = ioasid_as_find(as, last);
	if (!all && m && m->last != last)
		goto out_ctx;
	rc = shim_vaddr_invalidate(c, as, iova, last, &done);
out_ctx:
	ioasid_ctx_unlock(c->h->ctx);
out:
	mutex_unlock(&c->lock);
	if (rc)
		return rc;
	unmap->size = done;
	return copy_to_user((void __user *)arg, unmap, minsz) ? -EFAULT : 0;
}

/*
 * VFIO_IOMMU_MAP_DMA with VFIO_DMA_MAP_FLAG_VADDR: the new vaddr of
 * exactly one invalidated mapping, with type1's errnos (vfio_dma_do_map):
 * EINVAL with READ or WRITE, for a size, IOVA or vaddr not aligned to the
 * smallest page, an empty size, an IOVA or vaddr range that wraps, and
 * for a mapping met whose vaddr is valid or that is not exactly [iova,
 * iova + size); ENOENT when no mapping meets the range. Only the record
 * changes: the pages pinned at map time stay pinned and mapped. EPERM
 * from another process than the container's opener (type1 moves the
 * mapping's locked_vm charge to the caller's mm there; the shim charges
 * one account per container, the opener's).
 */
static long shim_map_vaddr(struct shim_container *c,
			   struct vfio_iommu_type1_dma_map *map)
{
	u64 iova = map->iova, vaddr = map->vaddr, size = map->size, last, pg;
	struct ioasid_mapping *m;
	struct ioasid_as *as;
	unsigned long key;
	long rc;

	if (map->flags & (VFIO_DMA_MAP_FLAG_READ | VFIO_DMA_MAP_FLAG_WRITE))
		return -EINVAL;
	mutex_lock(&c->lock);
	rc = shim_vaddr_pgsize(c, &pg);
	if (rc)
		goto out;
	rc = -EINVAL;
	if (!size || (size | iova | vaddr) & (pg - 1) ||
	    check_add_overflow(iova, size - 1, &last) ||
	    vaddr + size - 1 < vaddr)
		goto out;
	ioasid_ctx_lock(c->h->ctx);
	as = ioasid_ctx_as(c->h->ctx, c->ioasid);
	m = as ? shim_vaddr_first(as, iova, last) : NULL;
	if (!m)
		rc = -ENOENT;
	else if (m->iova != iova || m->last != last ||
		 !xa_get_mark(&c->vaddrs, shim_vaddr_key(m),
			      SHIM_VADDR_INVALID))
		rc = -EINVAL;
	else if (current->mm != c->h->mm)
		rc = -EPERM;
	else
		rc = 0;
	if (!rc) {
		/* The record exists: storing over it allocates nothing. */
		key = shim_vaddr_key(m);
		xa_store(&c->vaddrs, key, xa_mk_value(vaddr >> PAGE_SHIFT),
			 GFP_KERNEL);
		xa_clear_mark(&c->vaddrs, key, SHIM_VADDR_INVALID);
	}
	ioasid_ctx_unlock(c->h->ctx);
out:
	mutex_unlock(&c->lock);
	return rc;
}

/*
 * A map or unmap with a vaddr flag: the whole call, here. Anything else:
 * -ENOIOCTLCMD, for the ordinary paths (which read the struct again; a
 * flag set meanwhile is theirs to refuse).
 */
static long shim_vaddr_ioctl(struct shim_container *c, unsigned int cmd,
			     unsigned long arg)
{
	size_t unmap_minsz = offsetofend(struct vfio_iommu_type1_dma_unmap,
					 size);
	size_t map_minsz = offsetofend(struct vfio_iommu_type1_dma_map, size);
	struct vfio_iommu_type1_dma_unmap unmap;
	struct vfio_iommu_type1_dma_map map;

	if (cmd == VFIO_IOMMU_MAP_DMA) {
		if (copy_from_user(&map, (void __user *)arg, map_minsz))
			return -EFAULT;
		if (!(map.flags & VFIO_DMA_MAP_FLAG_VADDR))
			return -ENOIOCTLCMD;
		if (map.argsz < map_minsz ||
		    map.flags & ~(VFIO_DMA_MAP_FLAG_READ |
				  VFIO_DMA_MAP_FLAG_WRITE |
				  VFIO_DMA_MAP_FLAG_VADDR))
			return -EINVAL;
		return shim_map_vaddr(c, &map);
	}
	if (cmd == VFIO_IOMMU_UNMAP_DMA) {
		if (copy_from_user(&unmap, (void __user *)arg, unmap_minsz))
			return -EFAULT;
		if (!(unmap.flags & VFIO_DMA_UNMAP_FLAG_VADDR))
			return -ENOIOCTLCMD;
		if (unmap.argsz < unmap_minsz ||
		    unmap.flags & ~(VFIO_DMA_UNMAP_FLAG_ALL |
				    VFIO_DMA_UNMAP_FLAG_VADDR |
				    VFIO_DMA_UNMAP_FLAG_GET_DIRTY_BITMAP))
			return -EINVAL;
		return shim_unmap_vaddr(c, &unmap, arg);
	}
	return -ENOIOCTLCMD;
}

static long shim_ioctl(void *data, unsigned int cmd, unsigned long arg)
{
	struct shim_container *c = data;
	long rc;

	if (cmd == VFIO_CHECK_EXTENSION)
		return shim_check_extension(c, arg);
	if (!c)
		return -EINVAL;
	if (cmd == IOASID_VFIO_BIND)
		return shim_bind(c, arg);
	if (!c->type1)
		return -EINVAL;	/* map through the ioasid fd instead */
	rc = shim_vaddr_ioctl(c, cmd, arg);
	if (rc != -ENOIOCTLCMD)
		return rc;
	switch (cmd) {
	case VFIO_IOMMU_GET_INFO:
		return shim_get_info(c, arg);
	case VFIO_IOMMU_MAP_DMA:
		return shim_map_dma(c, arg);
	case VFIO_IOMMU_UNMAP_DMA:
		return shim_unmap_dma(c, arg);
	case VFIO_IOMMU_DIRTY_PAGES:
		return shim_dirty_pages(c, arg);
	default:
		return -ENOTTY;
	}
}

/* c->lock and the context lock held. */
static int shim_pin_get(struct shim_container *c, unsigned long idx)
{
	void *e = xa_load(&c->pins, idx);
	unsigned long n = e ? xa_to_value(e) : 0;

	if (n >= SHIM_PIN_MAX_REFS)
		return -ENOSPC;
	/* A fault here is a failed allocation of the xarray (tests). */
	if (!e && ioh_should_fail())
		return -ENOMEM;
	return xa_err(xa_store(&c->pins, idx, xa_mk_value(n + 1),
			       GFP_KERNEL_ACCOUNT));
}

/* Whether the page had a pin to drop. */
static bool shim_pin_put(struct shim_container *c, unsigned long idx)
{
	void *e = xa_load(&c->pins, idx);
	unsigned long n = e ? xa_to_value(e) : 0;

	if (n > 1)
		xa_store(&c->pins, idx, xa_mk_value(n - 1), GFP_KERNEL);
	else if (n)
		xa_erase(&c->pins, idx);
	return n;
}

/* The page of mapping @m holding @iova (the host's pin, kernel/main.c). */
static struct page *shim_map_page(struct ioasid_mapping *m, u64 iova,
				  struct ioasid_kpin_pos *pos)
{
	phys_addr_t pa;

	ioasid_kpin_run(m->cookie, pos, iova - m->iova, 1, &pa);
	return pfn_to_page(PHYS_PFN(pa));
}

/* IOMMU_READ/WRITE to the engine's IOASID_DMA_READ/WRITE. */
static u32 shim_prot(int prot)
{
	return (prot & IOMMU_READ ? IOASID_DMA_READ : 0) |
	       (prot & IOMMU_WRITE ? IOASID_DMA_WRITE : 0);
}

/* c->lock and the context lock held; arguments checked. */
static int shim_pin_locked(struct shim_container *c, u64 iova, int npage,
			   int prot, struct page **pages)
{
	struct ioasid_as *as = ioasid_ctx_as(c->h->ctx, c->ioasid);
	struct ioasid_mapping *m = NULL;
	struct ioasid_kpin_pos pos = {};
	u32 need = shim_prot(prot);
	int i, rc = 0;

	for (i = 0; i < npage; i++) {
		u64 va = iova + ((u64)i << PAGE_SHIFT);

		if (!m || va > m->last) {
			m = as ? ioasid_as_find(as, va) : NULL;
			memset(&pos, 0, sizeof(pos));
		}
		if (!m) {
			rc = -EINVAL;		/* nothing mapped there */
			break;
		}
		if ((m->prot & need) != need) {
			rc = -EPERM;
			break;
		}
		rc = shim_pin_get(c, va >> PAGE_SHIFT);
		if (rc)
			break;
		pages[i] = shim_map_page(m, va, &pos);
	}
	if (!rc) {
		/* Pinned pages are dirty while tracking runs (type1). */
		ioasid_as_dirty_mark(as, iova,
				     iova + ((u64)npage << PAGE_SHIFT) - 1);
		return npage;
	}
	pages[i] = NULL;
	while (i--) {
		shim_pin_put(c, (iova >> PAGE_SHIFT) + i);
		pages[i] = NULL;
	}
	return rc;
}

/*
 * vfio_pin_pages() of an emulated device: the pages of @npage IOVA pages
 * from @user_iova, mapped with at least @prot (IOMMU_READ/WRITE); the
 * number pinned or a negative errno, nothing pinned. As type1: EINVAL
 * for a page not mapped (or no device to tell of unmaps), EPERM for one
 * mapped without @prot, E2BIG past VFIO_PIN_PAGES_MAX_ENTRIES. Checked
 * here as well as by VFIO: EINVAL for a count below 1, an IOVA not page
 * aligned or a range that wraps.
 */
static int shim_pin_pages(void *data, struct iommu_group *group,
			  dma_addr_t user_iova, int npage, int prot,
			  struct page **pages)
{
	struct shim_container *c = data;
	struct shim_group *g;
	u64 iova = user_iova, last;
	bool found = false;
	int rc;

	if (!c || !pages || !group || npage <= 0)
		return -EINVAL;
	if (npage > VFIO_PIN_PAGES_MAX_ENTRIES)
		return -E2BIG;
	if (!c->type1 || iova & ~PAGE_MASK ||
	    check_add_overflow(iova, ((u64)npage << PAGE_SHIFT) - 1, &last))
		return -EINVAL;
	if (prot & ~(IOMMU_READ | IOMMU_WRITE))
		return -EPERM;		/* no mapping has other rights */
	mutex_lock(&c->lock);
	list_for_each_entry(g, &c->groups, node)
		found |= g->group == group && g->emulated;
	if (!found || !c->ndevices) {
		mutex_unlock(&c->lock);
		return -EINVAL;
	}
	ioasid_ctx_lock(c->h->ctx);
	/* Type1 refuses pins while a vaddr is invalid (none can be here). */
	rc = shim_vaddr_busy_locked(c) ? -EBUSY :
	     shim_pin_locked(c, iova, npage, prot, pages);
	ioasid_ctx_unlock(c->h->ctx);
	mutex_unlock(&c->lock);
	return rc;
}

/*
 * vfio_unpin_pages(): one pin less on each of @npage pages from
 * @user_iova, stopping at the first not mapped (as type1). Pages not
 * pinned are left alone.
 */
static void shim_unpin_pages(void *data, dma_addr_t user_iova, int npage)
{
	struct shim_container *c = data;
	u64 iova = user_iova, last;
	struct ioasid_as *as;
	int i;

	if (!c || !c->type1 || npage <= 0 ||
	    npage > VFIO_PIN_PAGES_MAX_ENTRIES || iova & ~PAGE_MASK ||
	    check_add_overflow(iova, ((u64)npage << PAGE_SHIFT) - 1, &last))
		return;
	mutex_lock(&c->lock);
	ioasid_ctx_lock(c->h->ctx);
	as = ioasid_ctx_as(c->h->ctx, c->ioasid);
	for (i = 0; as && i < npage; i++) {
		u64 va = iova + ((u64)i << PAGE_SHIFT);

		if (!ioasid_as_find(as, va))
			break;
		/*
		 * Type1 reports a page pinned at its last read dirty at the
		 * next one too, unpinned meanwhile or not: the unpin marks it
		 * (shim_dirty_report() reads the pins still held).
		 */
		if (shim_pin_put(c, va >> PAGE_SHIFT))
			ioasid_as_dirty_mark(as, va, va + PAGE_SIZE - 1);
	}
	ioasid_ctx_unlock(c->h->ctx);
	mutex_unlock(&c->lock);
}

/* Copy @len bytes at @iova of mapping @m from or to @buf. */
static void shim_copy(struct ioasid_mapping *m, u64 iova, void *buf,
		      u64 len, bool write)
{
	struct ioasid_kpin_pos pos = {};

	while (len) {
		phys_addr_t pa;
		size_t in, n;
		void *va;

		/* One page at a time: a longer run would be walked again. */
		ioasid_kpin_run(m->cookie, &pos, iova - m->iova,
				min_t(u64, len, PAGE_SIZE), &pa);
		in = offset_in_page(pa);
		n = min_t(u64, len, PAGE_SIZE - in);
		va = kmap_local_page(pfn_to_page(PHYS_PFN(pa)));
		if (write)
			memcpy(va + in, buf, n);
		else
			memcpy(buf, va + in, n);
		kunmap_local(va);
		iova += n;
		buf += n;
		len -= n;
		cond_resched();
	}
}

/*
 * vfio_dma_rw(): copy @count bytes between @data and the IOVA range from
 * @user_iova, through the pages the mappings pinned, from any context.
 * As type1: EINVAL where nothing is mapped, EPERM for a mapping that is
 * not readable, or not writable when writing; bytes before the failing
 * mapping are copied. EINVAL for a range that wraps.
 */
static int shim_dma_rw(void *data, dma_addr_t user_iova, void *buf,
		       size_t count, bool write)
{
	struct shim_container *c = data;
	u64 iova = user_iova, last;
	struct ioasid_as *as;
	int rc = 0;

	if (!c || !c->type1 || !buf)
		return -EINVAL;
	if (!count)
		return 0;
	if (check_add_overflow(iova, (u64)count - 1, &last))
		return -EINVAL;
	/* c->lock: a write lands before or after an unmap's dirty report. */
	mutex_lock(&c->lock);
	ioasid_ctx_lock(c->h->ctx);
	as = ioasid_ctx_as(c->h->ctx, c->ioasid);
	/* As pins: EBUSY while a vaddr is invalid (type1 6.12). */
	if (shim_vaddr_busy_locked(c))
		rc = -EBUSY;
	while (!rc && count) {
		struct ioasid_mapping *m = as ? ioasid_as_find(as, iova) : NULL;
		u64 n;

		if (!m) {
			rc = -EINVAL;
			break;
		}
		if (!(m->prot & IOASID_DMA_READ) ||
		    (write && !(m->prot & IOASID_DMA_WRITE))) {
			rc = -EPERM;
			break;
		}
		n = min_t(u64, count, m->last - iova + 1);
		shim_copy(m, iova, buf, n, write);
		if (write)
			ioasid_as_dirty_mark(as, iova, iova + n - 1);
		count -= n;
		buf += n;
		iova += n;
	}
	ioasid_ctx_unlock(c->h->ctx);
	mutex_unlock(&c->lock);
	return rc;
}

/* Devices that pin must hear of unmaps (type1 keeps those with dma_unmap). */
static void shim_register_device(void *data, struct vfio_device *vdev)
{
	struct shim_container *c = data;

	if (!c || !vdev->ops->dma_unmap)
		return;
	mutex_lock(&c->devs_lock);
	list_add(&vdev->iommu_entry, &c->devices);
	mutex_lock(&c->lock);
	c->ndevices++;
	mutex_unlock(&c->lock);
	mutex_unlock(&c->devs_lock);
}

static void shim_unregister_device(void *data, struct vfio_device *vdev)
{
	struct shim_container *c = data;

	if (!c || !vdev->ops->dma_unmap)
		return;
	mutex_lock(&c->devs_lock);
	list_del(&vdev->iommu_entry);
	mutex_lock(&c->lock);
	c->ndevices--;
	mutex_unlock(&c->lock);
	mutex_unlock(&c->devs_lock);
}

static const struct vfio_iommu_driver_ops shim_ops = {
	.name = "ioasid",
	.owner = THIS_MODULE,
	.open = shim_open,
	.release = shim_release,
	.ioctl = shim_ioctl,
	.attach_group = shim_attach_group,
	.detach_group = shim_detach_group,
	.pin_pages = shim_pin_pages,
	.unpin_pages = shim_unpin_pages,
	.register_device = shim_register_device,
	.unregister_device = shim_unregister_device,
	.dma_rw = shim_dma_rw,
};

int ioasid_vfio_shim_init(void)
{
	return vfio_register_iommu_driver(&shim_ops);
}

void ioasid_vfio_shim_exit(void)
{
	vfio_unregister_iommu_driver(&shim_ops);
}
