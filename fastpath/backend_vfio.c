// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/*
 * The VFIO type1 backend, for the fast path on a stock kernel's VFIO
 * container: one VFIO_IOMMU_MAP_DMA or VFIO_IOMMU_UNMAP_DMA per entry on
 * the container (type1 has no batch call); v2 rules, so an unmap that cuts
 * a mapping fails and neither partial unmaps nor merging are offered.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <linux/vfio.h>

#include "fastpath_priv.h"

struct be_vfio {
	struct ioasid_fp_backend be;
	int fd;				/* the container, not owned */
};

/* One MAP_DMA or UNMAP_DMA per op, in order, stopping at the first error. */
static int vfio_each(struct ioasid_fp_backend *be, bool map,
		     const struct ioasid_fp_op *ops, uint32_t n,
		     uint32_t *fail_index)
{
	struct be_vfio *p = be->priv;

	for (uint32_t i = 0; i < n; i++) {
		struct vfio_iommu_type1_dma_map m = {
			.argsz = sizeof(m),
			.flags = (ops[i].perm & IOASID_FP_READ ?
				  VFIO_DMA_MAP_FLAG_READ : 0) |
				 (ops[i].perm & IOASID_FP_WRITE ?
				  VFIO_DMA_MAP_FLAG_WRITE : 0),
			.vaddr = ops[i].hva,
			.iova = ops[i].iova,
			.size = ops[i].len,
		};
		struct vfio_iommu_type1_dma_unmap u = {
			.argsz = sizeof(u),
			.iova = ops[i].iova,
			.size = ops[i].len,
		};
		int rc = map ? ioctl(p->fd, VFIO_IOMMU_MAP_DMA, &m) :
			       ioctl(p->fd, VFIO_IOMMU_UNMAP_DMA, &u);

		if (rc) {
			*fail_index = i;
			return -errno;
		}
	}
	return 0;
}

static int vfio_map(struct ioasid_fp_backend *be,
		    const struct ioasid_fp_op *ops, uint32_t n,
		    uint32_t *fail_index)
{
	return vfio_each(be, true, ops, n, fail_index);
}

static int vfio_unmap(struct ioasid_fp_backend *be,
		      const struct ioasid_fp_op *ops, uint32_t n,
		      uint32_t *fail_index)
{
	return vfio_each(be, false, ops, n, fail_index);
}

static const struct ioasid_fp_backend_ops vfio_ops = {
	.map = vfio_map,
	.unmap = vfio_unmap,
	.destroy = fp_backend_free_priv,
};

int ioasid_fp_backend_vfio(int container_fd, struct ioasid_fp_backend **out)
{
	struct be_vfio *p;

	if (container_fd < 0)
		return -EBADF;
	p = calloc(1, sizeof(*p));
	if (!p)
		return -ENOMEM;
	p->fd = container_fd;
	p->be.ops = &vfio_ops;
	p->be.name = "vfio-type1";
	p->be.caps = 0;		/* one ioctl per entry, v2 rules */
	p->be.priv = p;
	*out = &p->be;
	return 0;
}
