// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/*
 * The vhost-vdpa backend, for the fast path on a stock kernel's vhost-vdpa
 * device: VHOST_IOTLB_MSG_V2 messages written to the device fd.
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
#include <unistd.h>
#include <linux/vhost.h>

#include "fastpath_priv.h"

struct be_vdpa {
	struct ioasid_fp_backend be;
	int fd;				/* the vhost-vdpa device, not owned */
	uint32_t asid;
	bool batch;			/* VHOST_BACKEND_F_IOTLB_BATCH */
};

static int vdpa_msg(struct be_vdpa *p, uint8_t type, const struct ioasid_fp_op *op)
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
	struct be_vdpa *p = be->priv;
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
	.destroy = fp_backend_free_priv,
};

int ioasid_fp_backend_vhost_vdpa(int vdpa_fd, uint32_t asid,
				 uint64_t backend_features,
				 struct ioasid_fp_backend **out)
{
	struct be_vdpa *p;

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
