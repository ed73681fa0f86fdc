// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/*
 * Backends that work on stock kernels, so the fast path is useful without
 * the project's module.
 *
 * VFIO type1: one VFIO_IOMMU_MAP_DMA or VFIO_IOMMU_UNMAP_DMA per entry on
 * the container (type1 has no batch call); v2 rules, so an unmap that cuts
 * a mapping fails and neither partial unmaps nor merging are offered.
 *
 * vhost-vdpa: VHOST_IOTLB_MSG_V2 messages written to the device fd.
 * With VHOST_BACKEND_F_IOTLB_BATCH a batch is BATCH_BEGIN, the updates or
 * invalidations, BATCH_END: the device sees the whole batch at BATCH_END.
 * vhost applies each update to its IOTLB as it arrives, so when update i
 * fails the updates before it are invalidated again before BATCH_END: the
 * batch stays all or nothing, as the batcher requires. vhost refuses an
 * update that overlaps a mapping (EEXIST) and an invalidation removes every
 * mapping it overlaps, whole: IOASID_FP_BE_UNMAP_OVERLAP, so the shadow
 * does the same.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>
#include <linux/vfio.h>
#include <linux/vhost.h>

#include "fastpath_priv.h"

struct be_fd {
	struct ioasid_fp_backend be;
	int fd;
	uint32_t asid;
	bool batch;
};

static int vfio_map(struct ioasid_fp_backend *be,
		    const struct ioasid_fp_op *ops, uint32_t n,
		    uint32_t *fail_index)
{
	struct be_fd *p = be->priv;

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

		if (ioctl(p->fd, VFIO_IOMMU_MAP_DMA, &m)) {
			*fail_index = i;
			return -errno;
		}
	}
	return 0;
}

static int vfio_unmap(struct ioasid_fp_backend *be,
		      const struct ioasid_fp_op *ops, uint32_t n,
		      uint32_t *fail_index)
{
	struct be_fd *p = be->priv;

	for (uint32_t i = 0; i < n; i++) {
		struct vfio_iommu_type1_dma_unmap u = {
			.argsz = sizeof(u),
			.iova = ops[i].iova,
			.size = ops[i].len,
		};

		if (ioctl(p->fd, VFIO_IOMMU_UNMAP_DMA, &u)) {
			*fail_index = i;
			return -errno;
		}
	}
	return 0;
}

static void be_fd_destroy(struct ioasid_fp_backend *be)
{
	free(be->priv);
}

static const struct ioasid_fp_backend_ops vfio_ops = {
	.map = vfio_map,
	.unmap = vfio_unmap,
	.destroy = be_fd_destroy,
};

int ioasid_fp_backend_vfio(int container_fd, struct ioasid_fp_backend **out)
{
	struct be_fd *p;

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

static int vdpa_msg(struct be_fd *p, uint8_t type, const struct ioasid_fp_op *op)
{
	struct vhost_msg_v2 m;

	memset(&m, 0, sizeof(m));
	m.type = VHOST_IOTLB_MSG_V2;
	m.asid = p->asid;
	m.iotlb.type = type;
	if (op) {
		m.iotlb.iova = op->iova;
		m.iotlb.size = op->len;
		if (type == VHOST_IOTLB_UPDATE) {
			m.iotlb.uaddr = op->hva;
			m.iotlb.perm = (op->perm & IOASID_FP_READ ?
					VHOST_ACCESS_RO : 0) |
				       (op->perm & IOASID_FP_WRITE ?
					VHOST_ACCESS_WO : 0);
		}
	}
	if (write(p->fd, &m, sizeof(m)) != (ssize_t)sizeof(m))
		return errno ? -errno : -EIO;
	return 0;
}

/*
 * One batch of updates or invalidations, framed by BATCH_BEGIN/END when
 * negotiated. If update i fails, the updates vhost already took are
 * invalidated again before BATCH_END, so the batch is all or nothing.
 * Invalidations before a failing one stay done; that is safe: the batcher
 * sends them again with the rest of the run, and invalidating what is gone
 * is a no-op for vhost.
 */
static int vdpa_batch(struct ioasid_fp_backend *be, uint8_t type,
		      const struct ioasid_fp_op *ops, uint32_t n,
		      uint32_t *fail_index)
{
	struct be_fd *p = be->priv;
	int rc = 0;
	uint32_t i;

	if (p->batch) {
		rc = vdpa_msg(p, VHOST_IOTLB_BATCH_BEGIN, NULL);
		if (rc)
			return rc;
	}
	for (i = 0; i < n && !rc; i++)
		rc = vdpa_msg(p, type, &ops[i]);
	if (rc) {
		*fail_index = i - 1;
		if (type == VHOST_IOTLB_UPDATE)
			for (uint32_t k = 0; k + 1 < i; k++)
				vdpa_msg(p, VHOST_IOTLB_INVALIDATE, &ops[k]);
	}
	if (p->batch) {
		int end = vdpa_msg(p, VHOST_IOTLB_BATCH_END, NULL);

		if (!rc && end) {
			*fail_index = UINT32_MAX;
			rc = end;
		}
	}
	return rc;
}

static int vdpa_map(struct ioasid_fp_backend *be,
		    const struct ioasid_fp_op *ops, uint32_t n,
		    uint32_t *fail_index)
{
	return vdpa_batch(be, VHOST_IOTLB_UPDATE, ops, n, fail_index);
}

static int vdpa_unmap(struct ioasid_fp_backend *be,
		      const struct ioasid_fp_op *ops, uint32_t n,
		      uint32_t *fail_index)
{
	return vdpa_batch(be, VHOST_IOTLB_INVALIDATE, ops, n, fail_index);
}

static const struct ioasid_fp_backend_ops vdpa_ops = {
	.map = vdpa_map,
	.unmap = vdpa_unmap,
	.destroy = be_fd_destroy,
};

int ioasid_fp_backend_vhost_vdpa(int vdpa_fd, uint32_t asid,
				 uint64_t backend_features,
				 struct ioasid_fp_backend **out)
{
	struct be_fd *p;

	if (vdpa_fd < 0)
		return -EBADF;
	if (!(backend_features & (1ULL << VHOST_BACKEND_F_IOTLB_MSG_V2)))
		return -EOPNOTSUPP;	/* v1 messages carry no asid */
	p = calloc(1, sizeof(*p));
	if (!p)
		return -ENOMEM;
	p->fd = vdpa_fd;
	p->asid = asid;
	p->batch = backend_features & (1ULL << VHOST_BACKEND_F_IOTLB_BATCH);
	p->be.ops = &vdpa_ops;
	p->be.name = "vhost-vdpa";
	p->be.caps = IOASID_FP_BE_UNMAP_OVERLAP |
		     (p->batch ? IOASID_FP_BE_BATCH : 0);
	p->be.priv = p;
	*out = &p->be;
	return 0;
}

/*
 * Shadow only: nothing below the shadow, which is then the one translation
 * there is. For a device that reads guest memory itself through the shadow
 * (a vhost-user backend: the front-end's memory table and IOTLB messages
 * are all it gets), the batcher still gives it coalescing and unmaps that
 * return only after no reader can use the old translation.
 */
static int none_apply(struct ioasid_fp_backend *be,
		      const struct ioasid_fp_op *ops, uint32_t n,
		      uint32_t *fail_index)
{
	(void)be;
	(void)ops;
	(void)n;
	(void)fail_index;
	return 0;
}

static void none_destroy(struct ioasid_fp_backend *be)
{
	free(be);
}

static const struct ioasid_fp_backend_ops none_ops = {
	.map = none_apply,
	.unmap = none_apply,
	.destroy = none_destroy,
};

int ioasid_fp_backend_none(struct ioasid_fp_backend **out)
{
	struct ioasid_fp_backend *be = calloc(1, sizeof(*be));

	if (!be)
		return -ENOMEM;
	be->ops = &none_ops;
	be->name = "shadow-only";
	be->caps = IOASID_FP_BE_BATCH | IOASID_FP_BE_PARTIAL_UNMAP;
	*out = be;
	return 0;
}
