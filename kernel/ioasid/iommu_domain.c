// SPDX-License-Identifier: GPL-2.0
/*
 * The IOMMU paging domains behind ioasids (iommu_domain.h).
 *
 * Each ioasid that has devices behind the platform IOMMU attached (VFIO
 * devices, through the shim) is backed by one IOMMU paging domain (struct
 * ioasid_domain), shared by all their groups and registered with the
 * engine as a listener: map events install each mapping's physically
 * contiguous runs of pinned pages with the largest pages the domain and
 * the memory allow (never above the mapping's max_pgshift, never across
 * two mappings) and then sync the IOTLB once for the whole call or batch;
 * unmap events remove a whole chain with iommu_unmap_fast() and one
 * iommu_iotlb_sync() before the engine unpins (the driver may sync
 * earlier when the ranges are far apart). A group joins the domain with
 * ioasid_domain_attach() and leaves it with ioasid_domain_detach(); the
 * domain is freed with its last group.
 *
 * Locking: callers hold the context lock (the engine calls the device and
 * listener ops under it); ioasid_domains_lock, taken under it, guards the
 * list of domains and their group counts.
 */
#include <linux/iommu.h>
#include <linux/mutex.h>
#include <linux/slab.h>
#include <uapi/linux/iommufd.h>

#include "ioasid_kernel.h"
#include "iommu_domain.h"

static LIST_HEAD(ioasid_domains);
static DEFINE_MUTEX(ioasid_domains_lock);

static int sd_prot(struct ioasid_domain *sd, struct ioasid_mapping *m)
{
	return sd->prot | (m->prot & IOASID_DMA_READ ? IOMMU_READ : 0) |
	       (m->prot & IOASID_DMA_WRITE ? IOMMU_WRITE : 0);
}

/*
 * The largest page of @sizes that both @iova and @pa are aligned to and
 * that fits in @len, and in *count how many such pages to map before a
 * larger page could start (or the range ends).
 */
static size_t sd_pgsize(unsigned long sizes, u64 iova, phys_addr_t pa,
			u64 len, size_t *count)
{
	unsigned long fit = sizes & GENMASK_ULL(__fls((unsigned long)len), 0);
	u64 align = iova | pa;
	unsigned long bigger;
	size_t pg;
	u64 n;

	if (align)
		fit &= GENMASK_ULL(__ffs64(align), 0);
	pg = 1UL << __fls(fit);
	n = len;
	bigger = sizes & ~GENMASK_ULL(__fls(fit), 0);
	if (bigger) {
		u64 next = 1ULL << __ffs(bigger);
		u64 to_next = next - (iova & (next - 1));

		/* Only worth stopping if memory can align there too. */
		if (!((iova ^ pa) & (next - 1)) && to_next < n)
			n = to_next;
	}
	*count = n / pg;
	return pg;
}

/*
 * Map [iova, iova + len) to @pa with the domain's own map_pages() and no
 * IOTLB sync: the caller syncs once for the whole batch. This is what
 * iommu_map() does minus its sync (Linux 6.12 exports no map without
 * one). On failure nothing of the range stays mapped.
 */
static int sd_map_range(struct ioasid_domain *sd, u64 iova, phys_addr_t pa,
			u64 len, int prot, unsigned long sizes)
{
	const struct iommu_domain_ops *ops = sd->domain->ops;
	u64 done = 0;
	int rc = 0;

	while (done < len) {
		size_t count, mapped = 0;
		size_t pg = sd_pgsize(sizes, iova + done, pa + done, len - done,
				      &count);

		rc = ops->map_pages(sd->domain, iova + done, pa + done, pg,
				    count, prot, GFP_KERNEL_ACCOUNT, &mapped);
		done += mapped;
		if (rc || !mapped)
			break;
	}
	if (done < len) {
		if (done)
			iommu_unmap(sd->domain, iova, done);
		return rc ? rc : -EIO;
	}
	return 0;
}

/*
 * Map one mapping's pinned pages, run by physically contiguous run, with
 * pages no larger than its max_pgshift; on failure none of it stays.
 */
static int sd_map_one(struct ioasid_domain *sd, struct ioasid_mapping *m)
{
	struct ioasid_kpin_pos pos = {};
	unsigned long sizes = sd->domain->pgsize_bitmap;
	u64 len = ioasid_mapping_length(m), done = 0;
	/* A nested ioasid's entry starts inside its parent mapping's pin. */
	u64 base = ioasid_kpin_off(m->cookie, m->vaddr);
	int prot = sd_prot(sd, m);
	int rc;

	if (m->max_pgshift)
		sizes &= GENMASK_ULL(m->max_pgshift, 0);
	while (done < len) {
		phys_addr_t pa;
		u64 run = ioasid_kpin_run(m->cookie, &pos, base + done,
					  len - done, &pa);

		rc = sd_map_range(sd, m->iova + done, pa, run, prot, sizes);
		if (rc) {
			if (done)
				iommu_unmap(sd->domain, m->iova, done);
			return rc;
		}
		done += run;
	}
	return 0;
}

/* Unmap @chain up to @stop into @gather; the caller syncs it. */
static void sd_unmap_gather(struct ioasid_domain *sd,
			    struct ioasid_mapping *chain,
			    struct ioasid_mapping *stop,
			    struct iommu_iotlb_gather *gather)
{
	struct ioasid_mapping *m;

	for (m = chain; m != stop; m = m->next) {
		size_t len = ioasid_mapping_length(m);

		WARN_ON(iommu_unmap_fast(sd->domain, m->iova, len, gather) !=
			len);
		/* a shadow's chain may hold 65535 entries (ctx->lock is a mutex) */
		cond_resched();
	}
}

static void sd_unmap_chain(struct ioasid_domain *sd,
			   struct ioasid_mapping *chain,
			   struct ioasid_mapping *stop)
{
	struct iommu_iotlb_gather gather;

	iommu_iotlb_gather_init(&gather);
	sd_unmap_gather(sd, chain, stop, &gather);
	iommu_iotlb_sync(sd->domain, &gather);
}

/*
 * Map each mapping of @chain; on failure *@fail is the one that failed (none
 * of it stays) and the ones before it stay mapped for the caller to undo.
 * [*@lo, *@hi] is the span of those mapped.
 */
static int sd_map_chain(struct ioasid_domain *sd, struct ioasid_mapping *chain,
			struct ioasid_mapping **fail, u64 *lo, u64 *hi)
{
	struct ioasid_mapping *m;
	int rc = 0;

	*lo = U64_MAX;
	*hi = 0;
	for (m = chain; m; m = m->next) {
		rc = sd_map_one(sd, m);
		if (rc)
			break;
		*lo = min(*lo, m->iova);
		*hi = max(*hi, m->last);
		cond_resched();
	}
	*fail = m;
	return rc;
}

/*
 * A whole map call or batch: every mapping installed, then one IOTLB sync
 * over the span they cover (a real flush on an IOMMU in caching mode, such
 * as a virtual one; nearly free otherwise).
 */
static int sd_map(struct ioasid_listener *l, struct ioasid_mapping *chain)
{
	struct ioasid_domain *sd = container_of(l, struct ioasid_domain, l);
	const struct iommu_domain_ops *ops = sd->domain->ops;
	struct ioasid_mapping *m;
	u64 lo, hi;
	int rc;

	rc = sd_map_chain(sd, chain, &m, &lo, &hi);
	if (!rc && chain && ops->iotlb_sync_map)
		rc = ops->iotlb_sync_map(sd->domain, lo, hi - lo + 1);
	if (rc) {
		sd_unmap_chain(sd, chain, m);
		return rc;
	}
	return 0;
}

static void sd_unmap(struct ioasid_listener *l, struct ioasid_mapping *chain)
{
	sd_unmap_chain(container_of(l, struct ioasid_domain, l), chain, NULL);
}

/*
 * A nested ioasid's invalidation: @old's entries out and @new's in, the
 * unmap's gathered IOTLB flush, then iotlb_sync_map for the new ones as
 * sd_map does. The second is not skipped when the first covers the new
 * range: Intel's unmap flush is leaf-only (IH=1) when no table page was
 * freed, while the map may have added table pages that a caching-mode
 * IOMMU must be told of (iotlb_sync_map is a no-op on hardware without
 * caching mode or RWBF, so only those pay for it). Until the flush a
 * device may see old, new or no translation, as between a guest's table
 * write and its invalidation on hardware. Page-table pages the unmap frees
 * stay on the gather's list until the flush.
 */
static int sd_replace(struct ioasid_listener *l, struct ioasid_mapping *old,
		      struct ioasid_mapping *new)
{
	struct ioasid_domain *sd = container_of(l, struct ioasid_domain, l);
	const struct iommu_domain_ops *ops = sd->domain->ops;
	struct iommu_iotlb_gather gather;
	struct ioasid_mapping *m;
	u64 lo, hi;
	int rc;

	iommu_iotlb_gather_init(&gather);
	sd_unmap_gather(sd, old, NULL, &gather);
	rc = sd_map_chain(sd, new, &m, &lo, &hi);
	if (rc) {
		sd_unmap_gather(sd, new, m, &gather);
		if (old || new != m)
			iommu_iotlb_sync(sd->domain, &gather);
		return rc;
	}
	if (old)
		iommu_iotlb_sync(sd->domain, &gather);
	if (!new || !ops->iotlb_sync_map)
		return 0;
	rc = ops->iotlb_sync_map(sd->domain, lo, hi - lo + 1);
	if (rc)
		sd_unmap_chain(sd, new, NULL);
	return rc;
}

static const struct ioasid_listener_ops sd_ops = {
	.map = sd_map,
	.unmap = sd_unmap,
	.replace = sd_replace,
};

static struct ioasid_domain *sd_find(struct ioasid_as *as)
{
	struct ioasid_domain *sd;

	list_for_each_entry(sd, &ioasid_domains, node)
		if (sd->as == as)
			return sd;
	return NULL;
}

struct ioasid_domain *ioasid_domain_attach(struct ioasid_as *as,
					   struct device *dev,
					   struct iommu_group *group,
					   bool coherent)
{
	struct ioasid_domain *sd;
	bool fresh = false;
	int rc;

	mutex_lock(&ioasid_domains_lock);
	sd = sd_find(as);
	if (!sd) {
		sd = kzalloc(sizeof(*sd), GFP_KERNEL_ACCOUNT);
		if (!sd) {
			rc = -ENOMEM;
			goto out;
		}
		sd->domain = iommu_paging_domain_alloc(dev);
		if (IS_ERR(sd->domain)) {
			rc = PTR_ERR(sd->domain);
			kfree(sd);
			goto out;
		}
		sd->as = as;
		sd->l.ops = &sd_ops;
		if (coherent)
			sd->prot = IOMMU_CACHE;
		fresh = true;
	}
	rc = iommu_attach_group(sd->domain, group);
	if (!rc && fresh) {
		/* Replays the ioasid's existing mappings into the domain. */
		rc = ioasid_as_add_listener(as, &sd->l);
		if (rc)
			iommu_detach_group(sd->domain, group);
		else
			list_add(&sd->node, &ioasid_domains);
	}
	if (rc) {
		if (fresh) {
			iommu_domain_free(sd->domain);
			kfree(sd);
		}
		goto out;
	}
	sd->users++;
out:
	mutex_unlock(&ioasid_domains_lock);
	return rc ? ERR_PTR(rc) : sd;
}

void ioasid_domain_detach(struct ioasid_domain *sd, struct ioasid_as *as,
			  struct iommu_group *group)
{
	iommu_detach_group(sd->domain, group);
	mutex_lock(&ioasid_domains_lock);
	if (--sd->users) {
		mutex_unlock(&ioasid_domains_lock);
		return;
	}
	list_del(&sd->node);
	mutex_unlock(&ioasid_domains_lock);
	/* No group uses the domain: its page table goes with it. */
	ioasid_as_del_listener(as, &sd->l, false);
	iommu_domain_free(sd->domain);
	kfree(sd);
}

/* VT-d extended capability bits (VT-d spec 11.4.3) the probe needs. */
#define VTD_ECAP_NEST	BIT_ULL(26)	/* nested translation */
#define VTD_ECAP_SMTS	BIT_ULL(43)	/* scalable mode */
#define VTD_ECAP_FLTS	BIT_ULL(47)	/* first-stage translation */

/*
 * 6.12 exports no accessor for a device's IOMMU ops (dev_iommu_ops() is in
 * drivers/iommu/iommu-priv.h); struct dev_iommu and struct iommu_device
 * are in <linux/iommu.h>, and the ops stay valid while the device is
 * bound to a driver (vfio-pci here) that uses its IOMMU group.
 */
static const struct iommu_ops *nest_dev_ops(struct device *dev)
{
	if (!dev->iommu || !dev->iommu->iommu_dev)
		return NULL;
	return dev->iommu->iommu_dev->ops;
}

bool ioasid_nest_hw_probe(struct device *dev, const char **why)
{
	const struct iommu_ops *ops = nest_dev_ops(dev);
	struct iommu_hw_info_vtd *vtd;
	struct iommu_domain *parent;
	u32 len = 0, type = 0;
	u64 ecap;

	if (!ops) {
		*why = "no IOMMU";
		return false;
	}
	if (!ops->hw_info || !ops->domain_alloc_user) {
		*why = "the IOMMU driver offers no user domains";
		return false;
	}
	vtd = ops->hw_info(dev, &len, &type);
	if (IS_ERR_OR_NULL(vtd)) {
		*why = "the IOMMU driver reports no hardware information";
		return false;
	}
	/* The layout behind the pointer is @type's. */
	if (type != IOMMU_HW_INFO_TYPE_INTEL_VTD || len < sizeof(*vtd)) {
		kfree(vtd);
		*why = "not a VT-d IOMMU: no x86-64 first stage";
		return false;
	}
	ecap = vtd->ecap_reg;
	kfree(vtd);
	if (!(ecap & VTD_ECAP_FLTS)) {
		*why = "VT-d without first-stage translation (ECAP.FLTS)";
		return false;
	}
	if (!(ecap & VTD_ECAP_NEST) || !(ecap & VTD_ECAP_SMTS)) {
		*why = "VT-d without nesting (ECAP.NEST, ECAP.SMTS)";
		return false;
	}
	/* The driver's own word: scalable mode may be off (intel_iommu=sm_off). */
	parent = ops->domain_alloc_user(dev, IOMMU_HWPT_ALLOC_NEST_PARENT,
					NULL, NULL);
	if (IS_ERR_OR_NULL(parent)) {
		*why = "the IOMMU driver allocates no nesting parent";
		return false;
	}
	iommu_domain_free(parent);
	*why = "VT-d with first-stage translation and nesting";
	return true;
}
