/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The IOMMU paging domain behind an ioasid (iommu_domain.c): one per
 * ioasid with devices behind the platform IOMMU, shared by their IOMMU
 * groups, and registered with the engine as the ioasid's listener so that
 * its page table follows the ioasid's mappings. Used by the VFIO shim;
 * meant for any other device behind the platform IOMMU too.
 */
#ifndef IOASID_IOMMU_DOMAIN_H
#define IOASID_IOMMU_DOMAIN_H

#include <linux/iommu.h>
#include <linux/list.h>

#include "ioasid_core.h"

struct ioasid_domain {
	struct ioasid_listener l;
	struct iommu_domain *domain;
	struct ioasid_as *as;
	unsigned int users;		/* groups attached */
	int prot;			/* IOMMU_CACHE when coherent */
	struct list_head node;
};

/*
 * @group joins the domain behind @as. If @as has none yet, one is made
 * for @dev (IOMMU_CACHE in its mappings if @coherent) and registered as
 * @as's listener, which replays the mappings @as already has into it.
 * Called under the lock of @as's context (from a device's attach op).
 * Returns the domain, or an ERR_PTR with nothing changed.
 */
struct ioasid_domain *ioasid_domain_attach(struct ioasid_as *as,
					   struct device *dev,
					   struct iommu_group *group,
					   bool coherent);

/*
 * @group leaves @sd, going back to the domain its owner left it in; the
 * domain, its listener on @as and its page table go with its last group.
 * Called under the lock of @as's context (from a device's detach op).
 */
void ioasid_domain_detach(struct ioasid_domain *sd, struct ioasid_as *as,
			  struct iommu_group *group);

/*
 * The hardware nesting probe: can @dev's IOMMU translate a nested
 * ioasid's bound table (IOASID_PGTBL_X86_64, VT-d's first stage) itself,
 * as the first stage over a nesting-parent domain? True only when the
 * driver reports Intel VT-d hardware information with first-stage
 * translation and nesting, and it allocates a nesting-parent domain for
 * @dev. *@why says what decided. The probe allocates nothing that it
 * keeps; it may sleep.
 */
bool ioasid_nest_hw_probe(struct device *dev, const char **why);

#endif /* IOASID_IOMMU_DOMAIN_H */
