// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/* backends: VFIO type1 and vhost-vdpa backends produce the right call sequences and route errors. */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <stdarg.h>
#include <sys/ioctl.h>
#include <linux/vfio.h>
#include <linux/vhost.h>

#include "harness.h"
#include "fp_stack.h"
#include "ioasid_fastpath.h"

/*
 * ioctl() and write() on FAKE_FD are recorded (and can be made to fail)
 * by defining them here: the fastpath library's calls resolve to these
 * before libc's. Every other fd goes to the real functions.
 */
#define FAKE_FD		1000
#define MAX_REC		256

struct rec {
	unsigned long req;		/* ioctl request, or 0 for write */
	uint64_t iova, size, vaddr;
	uint32_t flags;			/* VFIO flags or vhost perm */
	uint8_t type;			/* vhost message type */
	uint32_t asid;
};

static struct rec recs[MAX_REC];
static int nrec;
static uint64_t fail_iova = UINT64_MAX;
static int fail_errno;

static bool should_fail(uint64_t iova)
{
	return iova == fail_iova;
}

int ioctl(int fd, unsigned long req, ...)
{
	static int (*real)(int, unsigned long, ...);
	va_list ap;
	void *arg;

	va_start(ap, req);
	arg = va_arg(ap, void *);
	va_end(ap);
	if (fd != FAKE_FD) {
		if (!real)
			real = (int (*)(int, unsigned long, ...))dlsym(RTLD_NEXT,
								       "ioctl");
		return real(fd, req, arg);
	}
	if (nrec < MAX_REC) {
		struct rec *r = &recs[nrec++];

		r->req = req;
		if (req == VFIO_IOMMU_MAP_DMA) {
			struct vfio_iommu_type1_dma_map *m = arg;

			r->iova = m->iova;
			r->size = m->size;
			r->vaddr = m->vaddr;
			r->flags = m->flags;
			if (m->argsz != sizeof(*m)) {
				errno = EINVAL;
				return -1;
			}
			if (should_fail(m->iova)) {
				errno = fail_errno;
				return -1;
			}
		} else if (req == VFIO_IOMMU_UNMAP_DMA) {
			struct vfio_iommu_type1_dma_unmap *u = arg;

			r->iova = u->iova;
			r->size = u->size;
			if (should_fail(u->iova)) {
				errno = fail_errno;
				return -1;
			}
		}
	}
	return 0;
}

ssize_t write(int fd, const void *buf, size_t len)
{
	static ssize_t (*real)(int, const void *, size_t);
	const struct vhost_msg_v2 *m = buf;

	if (fd != FAKE_FD) {
		if (!real)
			real = (ssize_t (*)(int, const void *, size_t))dlsym(
				RTLD_NEXT, "write");
		return real(fd, buf, len);
	}
	if (len != sizeof(*m) || m->type != VHOST_IOTLB_MSG_V2) {
		errno = EINVAL;
		return -1;
	}
	if (nrec < MAX_REC) {
		struct rec *r = &recs[nrec++];

		r->type = m->iotlb.type;
		r->iova = m->iotlb.iova;
		r->size = m->iotlb.size;
		r->vaddr = m->iotlb.uaddr;
		r->flags = m->iotlb.perm;
		r->asid = m->asid;
	}
	if (m->iotlb.type == VHOST_IOTLB_UPDATE && should_fail(m->iotlb.iova)) {
		errno = fail_errno;
		return -1;
	}
	return (ssize_t)len;
}

static void reset(void)
{
	memset(recs, 0, sizeof(recs));
	nrec = 0;
	fail_iova = UINT64_MAX;
	fail_errno = 0;
}

static void submit3(struct fp *p, struct ioasid_fp_req *r, uint32_t kind,
		    uint8_t *buf)
{
	for (int i = 0; i < 3; i++) {
		r[i] = (struct ioasid_fp_req){ .op = { kind,
			kind == IOASID_FP_MAP ? RW : 0,
			0x100000 + i * SZ_64K,
			kind == IOASID_FP_MAP ? (uintptr_t)buf + i * SZ_64K : 0,
			SZ_64K } };
		ioasid_fp_submit(p->b, &r[i]);
	}
	ioasid_fp_barrier(p->b);
}

/* Maps three entries with the middle one failing with EEXIST: only that
 * request carries the error. */
static int map3_fail_middle(struct fp *p, struct ioasid_fp_req *r,
			    uint8_t *buf)
{
	reset();
	fail_iova = 0x110000;
	fail_errno = EEXIST;
	submit3(p, r, IOASID_FP_MAP, buf);
	CHECK_OK(r[0].result);
	CHECK_ERR(r[1].result, -EEXIST);
	CHECK_OK(r[2].result);
	return 0;
}

static int vfio_sequence(struct fx *f)
{
	struct ioasid_fp_backend *be;
	struct ioasid_fp_req r[3];
	struct fp p;
	void *hva;
	uint64_t c;

	reset();
	CHECK_OK(ioasid_fp_backend_vfio(FAKE_FD, &be));
	CHECK_OK(fp_open(&p, be, 0));
	submit3(&p, r, IOASID_FP_MAP, f->buf);
	/* type1 has no batch call: one MAP_DMA per entry, in order. */
	CHECK_EQ(nrec, 3);
	for (int i = 0; i < 3; i++) {
		CHECK_OK(r[i].result);
		CHECK_EQ(recs[i].req, VFIO_IOMMU_MAP_DMA);
		CHECK_EQ(recs[i].iova, 0x100000 + i * SZ_64K);
		CHECK_EQ(recs[i].size, SZ_64K);
		CHECK_EQ(recs[i].vaddr, (uintptr_t)f->buf + i * SZ_64K);
		CHECK_EQ(recs[i].flags,
			 VFIO_DMA_MAP_FLAG_READ | VFIO_DMA_MAP_FLAG_WRITE);
	}
	reset();
	submit3(&p, r, IOASID_FP_UNMAP, NULL);
	CHECK_EQ(nrec, 3);
	for (int i = 0; i < 3; i++) {
		CHECK_OK(r[i].result);
		CHECK_EQ(recs[i].req, VFIO_IOMMU_UNMAP_DMA);
		CHECK_EQ(recs[i].iova, 0x100000 + i * SZ_64K);
	}
	CHECK_ERR(ioasid_fp_translate(p.r, 0x100000, 8, 0, &hva, &c), -EFAULT);
	/* An error goes to its own request; the others are applied. */
	CHECK_OK(map3_fail_middle(&p, r, f->buf));
	CHECK_OK(ioasid_fp_translate(p.r, 0x100000, 8, 0, &hva, &c));
	CHECK_ERR(ioasid_fp_translate(p.r, 0x110000, 8, 0, &hva, &c), -EFAULT);
	CHECK_OK(ioasid_fp_translate(p.r, 0x120000, 8, 0, &hva, &c));
	fp_close(&p);
	ioasid_fp_backend_destroy(be);
	return 0;
}

static int vdpa_batched_sequence(struct fx *f)
{
	uint64_t feat = (1ULL << VHOST_BACKEND_F_IOTLB_MSG_V2) |
			(1ULL << VHOST_BACKEND_F_IOTLB_BATCH);
	static const uint8_t want_fail[] = {
		VHOST_IOTLB_BATCH_BEGIN, VHOST_IOTLB_UPDATE, VHOST_IOTLB_UPDATE,
		VHOST_IOTLB_INVALIDATE, VHOST_IOTLB_BATCH_END,
		VHOST_IOTLB_BATCH_BEGIN, VHOST_IOTLB_UPDATE, VHOST_IOTLB_UPDATE,
		VHOST_IOTLB_BATCH_END,
	};
	struct ioasid_fp_backend *be;
	struct ioasid_fp_req r[3];
	struct fp p;
	void *hva;
	uint64_t c;

	reset();
	CHECK_ERR(ioasid_fp_backend_vhost_vdpa(FAKE_FD, 1, 0, &be), -EOPNOTSUPP);
	CHECK_OK(ioasid_fp_backend_vhost_vdpa(FAKE_FD, 1, feat, &be));
	CHECK_OK(fp_open(&p, be, 0));
	submit3(&p, r, IOASID_FP_MAP, f->buf);
	/* One batch: BEGIN, three updates, END, all for address space 1. */
	CHECK_EQ(nrec, 5);
	CHECK_EQ(recs[0].type, VHOST_IOTLB_BATCH_BEGIN);
	for (int i = 0; i < 3; i++) {
		CHECK_OK(r[i].result);
		CHECK_EQ(recs[1 + i].type, VHOST_IOTLB_UPDATE);
		CHECK_EQ(recs[1 + i].iova, 0x100000 + i * SZ_64K);
		CHECK_EQ(recs[1 + i].vaddr, (uintptr_t)f->buf + i * SZ_64K);
		CHECK_EQ(recs[1 + i].flags, VHOST_ACCESS_RW);
		CHECK_EQ(recs[1 + i].asid, 1);
	}
	CHECK_EQ(recs[4].type, VHOST_IOTLB_BATCH_END);
	/* Invalidating part of a mapping removes it whole, as vhost does. */
	reset();
	CHECK_OK(ioasid_fp_unmap(p.b, 0x104000, SZ_4K, &c));
	CHECK_EQ(c, SZ_64K);
	CHECK_EQ(recs[1].type, VHOST_IOTLB_INVALIDATE);
	CHECK_ERR(ioasid_fp_translate(p.r, 0x100000, 8, 0, &hva, &c), -EFAULT);
	CHECK_OK(ioasid_fp_unmap(p.b, 0, SZ_1G, &c));
	/* An update that fails: earlier updates are taken back before END,
	 * then the rest is sent again without the failing one. */
	CHECK_OK(map3_fail_middle(&p, r, f->buf));
	CHECK_EQ(nrec, (int)sizeof(want_fail));
	for (int i = 0; i < nrec; i++)
		CHECK_EQ(recs[i].type, want_fail[i]);
	CHECK_EQ(recs[3].iova, 0x100000);	/* the undo of entry 0 */
	CHECK_EQ(recs[7].iova, 0x120000);
	CHECK_OK(ioasid_fp_translate(p.r, 0x120000, 8, 0, &hva, &c));
	CHECK_ERR(ioasid_fp_translate(p.r, 0x110000, 8, 0, &hva, &c), -EFAULT);
	fp_close(&p);
	ioasid_fp_backend_destroy(be);
	return 0;
}

static int vdpa_unbatched_sequence(struct fx *f)
{
	struct ioasid_fp_backend *be;
	struct ioasid_fp_req r[3];
	struct fp p;

	reset();
	CHECK_OK(ioasid_fp_backend_vhost_vdpa(FAKE_FD, 0,
		1ULL << VHOST_BACKEND_F_IOTLB_MSG_V2, &be));
	CHECK_OK(fp_open(&p, be, 0));
	submit3(&p, r, IOASID_FP_MAP, f->buf);
	/* Without IOTLB_BATCH: one update per entry, no BEGIN/END. */
	CHECK_EQ(nrec, 3);
	for (int i = 0; i < 3; i++) {
		CHECK_OK(r[i].result);
		CHECK_EQ(recs[i].type, VHOST_IOTLB_UPDATE);
	}
	fp_close(&p);
	ioasid_fp_backend_destroy(be);
	return 0;
}

static const struct test tests[] = {
	{ "vfio_sequence", vfio_sequence, NULL },
	{ "vdpa_batched_sequence", vdpa_batched_sequence, NULL },
	{ "vdpa_unbatched_sequence", vdpa_unbatched_sequence, NULL },
};

int main(int argc, char **argv)
{
	return run_tests("backends", tests, sizeof(tests) / sizeof(tests[0]),
			 argc, argv);
}
