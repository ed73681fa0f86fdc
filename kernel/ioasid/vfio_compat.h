/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The one place where ioasid.ko depends on a kernel-internal layout.
 *
 * The VFIO IOMMU backend interface is declared in drivers/vfio/vfio.h,
 * which Debian's headers package does not ship. This header declares the
 * same struct vfio_iommu_driver_ops and enum vfio_group_type as Linux
 * 6.12's drivers/vfio/vfio.h (CONFIG_VFIO_CONTAINER=y), field for field,
 * and the two functions drivers/vfio/container.c exports to register a
 * backend. Any other kernel version stops the build here: check the
 * layout against that version's drivers/vfio/vfio.h, then widen the guard.
 */
#ifndef IOASID_VFIO_COMPAT_H
#define IOASID_VFIO_COMPAT_H

#include <linux/types.h>
#include <linux/version.h>

#if LINUX_VERSION_CODE < KERNEL_VERSION(6, 12, 0) || \
	LINUX_VERSION_CODE >= KERNEL_VERSION(6, 13, 0)
#error "vfio_compat.h mirrors Linux 6.12's drivers/vfio/vfio.h; check the layout for this kernel"
#endif

struct iommu_domain;
struct iommu_group;
struct module;
struct page;
struct vfio_device;

enum vfio_group_type {
	VFIO_IOMMU,		/* a physical device behind an IOMMU */
	VFIO_EMULATED_IOMMU,	/* mdev-style: no IOMMU group of its own */
	VFIO_NO_IOMMU,
};

struct vfio_iommu_driver_ops {
	char *name;
	struct module *owner;
	void *(*open)(unsigned long arg);
	void (*release)(void *iommu_data);
	long (*ioctl)(void *iommu_data, unsigned int cmd, unsigned long arg);
	int (*attach_group)(void *iommu_data, struct iommu_group *group,
			    enum vfio_group_type type);
	void (*detach_group)(void *iommu_data, struct iommu_group *group);
	int (*pin_pages)(void *iommu_data, struct iommu_group *group,
			 dma_addr_t user_iova, int npage, int prot,
			 struct page **pages);
	void (*unpin_pages)(void *iommu_data, dma_addr_t user_iova, int npage);
	void (*register_device)(void *iommu_data, struct vfio_device *vdev);
	void (*unregister_device)(void *iommu_data, struct vfio_device *vdev);
	int (*dma_rw)(void *iommu_data, dma_addr_t user_iova, void *data,
		      size_t count, bool write);
	struct iommu_domain *(*group_iommu_domain)(void *iommu_data,
						   struct iommu_group *group);
};

int vfio_register_iommu_driver(const struct vfio_iommu_driver_ops *ops);
void vfio_unregister_iommu_driver(const struct vfio_iommu_driver_ops *ops);

#endif /* IOASID_VFIO_COMPAT_H */
