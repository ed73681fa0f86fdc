// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/*
 * The mdev DMA engine of kernel/mdma (ioasid_mdma.ko) on both backends of
 * VFIO_TYPE1v2_IOMMU, the stock vfio_iommu_type1 and the ioasid shim
 * (VFIO_TEST_IOMMU=type1 or shim): the shim's differential check for
 * issue 14 item 1. The same transfers, unmaps and errnos on both; where
 * the two differ by design it is said at the check:
 *
 *  - the shim pins and charges a mapping when it is made, whatever the
 *    devices (an mdev's vfio_pin_pages takes the mapping's pages and adds
 *    no page pin and no charge); type1 with only emulated devices pins
 *    nothing at map and pins and charges each page at vfio_pin_pages;
 *  - so RLIMIT_MEMLOCK bounds an mdev-only container's mappings on the
 *    shim and its pins on type1: either way no more than the limit is
 *    ever pinned for the device.
 *
 * Runs in the kernel suite's VM as root, with ioasid_mdma.ko loaded and
 * the edus bound to vfio-pci (VFIO_TEST_EDU picks the edu). Uses its own
 * mdev (another UUID than test_mdev's).
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <pthread.h>
#include <sys/ioctl.h>
#include <sys/resource.h>
#include <sys/wait.h>

#include "mdma_rig.h"

#define MDEV_UUID	"6d646d61-0000-4000-8000-00000000000f"
#define FAIL_NTH	"/sys/module/ioasid/parameters/fail_nth"
#define LEAK_PINS	"/sys/module/ioasid_mdma/parameters/leak_pins"

/* FOLL_PINs a mapping of @bytes costs at map time (see the top). */
static long long map_pins(uint64_t bytes)
{
	return on_shim() ? (long long)(bytes / SZ_4K) : 0;
}

/* FOLL_PINs @n mdev pins add in an mdev-only container. */
static long long dev_pins(long long n)
{
	return on_shim() ? 0 : n;
}

/* What each backend charges pins to: per user (VmPin) or per mm (VmLck). */
static long long charged_kb(void)
{
	return proc_status_kb(0, on_shim() ? "VmPin" : "VmLck");
}

static int t_create(struct fx *f)
{
	(void)f;
	diag("iommu %s", iommu_mode());
	return mdev_create();
}

/* Bytes land, by vfio_dma_rw and by pins; the backend's errnos. */
static int t_bytes(struct fx *f)
{
	long long p0 = kernel_pins(), p1;
	uint8_t *src, *dst;
	struct mdev m;
	int rc;

	(void)f;
	CHECK(p0 >= 0);
	rc = mdev_open_two(&m, &src, &dst);
	if (rc)
		return rc;
	p1 = kernel_pins();
	CHECK_EQ(p1 - p0, map_pins(2 * BUF_LEN));
	XFER(&m, IOVA_SRC + 100, IOVA_DST + 7, 40000, 0, MDMA_STATUS_DONE, 0);
	CHECK(!memcmp(dst + 7, src + 100, 40000));
	CHECK(all_bytes(dst, 7, 0));
	CHECK(all_bytes(dst + 7 + 40000, BUF_LEN - 7 - 40000, 0));
	CHECK_EQ(kernel_pins(), p1);
	/* Pinned: the pages are the mapping's, new bytes show through. */
	fill(src, BUF_LEN, 0x95);
	XFER(&m, IOVA_SRC + 0x800, IOVA_DST, 3 * 4096, MDMA_CTRL_PIN,
	     MDMA_STATUS_DONE, 0);
	CHECK(!memcmp(dst, src + 0x800, 3 * 4096));
	CHECK_EQ(rd32(&m, MDMA_REG_PINNED), 7);
	CHECK_EQ(kernel_pins() - p1, dev_pins(7));
	CHECK_OK(wr32(&m, MDMA_REG_CTRL, MDMA_CTRL_RELEASE));
	CHECK_EQ(kernel_pins(), p1);
	/*
	 * Unmapped IOVAs and past a mapping's end: EINVAL; writing into a
	 * read-only mapping: EPERM; by either way, type1's errnos.
	 */
	memset(dst, 0, BUF_LEN);
	CHECK_OK(xfer_refused(&m, mdma_bad_iova, mdma_bad_iova_count));
	CHECK(all_bytes(dst, BUF_LEN, 0));
	CHECK_EQ(rd32(&m, MDMA_REG_PINNED), 0);
	CHECK_EQ(kernel_pins(), p1);
	CHECK_EQ(rd32(&m, MDMA_REG_UNMAPS), 0);
	mdev_close(&m);
	CHECK_EQ(kernel_pins(), p0);
	munmap(src, BUF_LEN);
	munmap(dst, BUF_LEN);
	return 0;
}

/*
 * Pin, then unmap: dma_unmap is called once per pinned mapping the unmap
 * covers, the driver unpins, the unmap completes; FOLL_PIN counters and
 * the charge come back to the start. An unmap the backend refuses, or
 * of a mapping without pins, calls nobody.
 */
static int t_pin_unmap(struct fx *f)
{
	uint8_t *more = pages(BUF_LEN), *src, *dst;
	long long p0 = kernel_pins(), kb0 = charged_kb();
	struct mdev m;
	int rc;

	(void)f;
	CHECK(more && p0 >= 0 && kb0 >= 0);
	rc = mdev_open_two(&m, &src, &dst);
	if (rc)
		return rc;
	CHECK_OK(dmap(m.container, 0x300000, more, BUF_LEN, RDWR));
	XFER(&m, IOVA_SRC + 0x800, IOVA_DST, 3 * 4096, MDMA_CTRL_PIN,
	     MDMA_STATUS_DONE, 0);
	CHECK(!memcmp(dst, src + 0x800, 3 * 4096));
	CHECK_EQ(rd32(&m, MDMA_REG_PINNED), 7);
	CHECK_EQ(kernel_pins() - p0, map_pins(3 * BUF_LEN) + dev_pins(7));
	/* One charge: the shim's at map, type1's at pin. */
	CHECK_EQ(charged_kb() - kb0, on_shim() ? 3 * BUF_LEN / 1024 : 7 * 4);
	/* Refused (cuts the pinned mapping): no callback, pins kept. */
	CHECK_ERR(dunmap(m.container, IOVA_SRC, 4096, 0, NULL), -EINVAL);
	CHECK_ERR(dunmap(m.container, IOVA_SRC + 4096, BUF_LEN - 4096, 0,
			 NULL), -EINVAL);
	CHECK_EQ(rd32(&m, MDMA_REG_UNMAPS), 0);
	CHECK_EQ(rd32(&m, MDMA_REG_PINNED), 7);
	/* A mapping without pins: unmapped, nobody called. */
	CHECK_OK(dunmap(m.container, 0x300000, BUF_LEN, 0, NULL));
	CHECK_EQ(rd32(&m, MDMA_REG_UNMAPS), 0);
	/* The source: one callback, its 4 pages unpinned first. */
	CHECK_OK(dunmap(m.container, IOVA_SRC, BUF_LEN, 0, NULL));
	CHECK_EQ(rd32(&m, MDMA_REG_UNMAPS), 1);
	CHECK_EQ(rd32(&m, MDMA_REG_UNMAP_PAGES), 4);
	CHECK_EQ(rd32(&m, MDMA_REG_PINNED), 3);
	CHECK_EQ(kernel_pins() - p0, map_pins(BUF_LEN) + dev_pins(3));
	/* The same IOVA again is unmapped: the source is gone. */
	XFER(&m, IOVA_SRC, IOVA_DST, 16, 0, MDMA_STATUS_ERROR, EINVAL);
	/* The destination through UNMAP_ALL. */
	CHECK_OK(dunmap(m.container, 0, 0, VFIO_DMA_UNMAP_FLAG_ALL, NULL));
	CHECK_EQ(rd32(&m, MDMA_REG_UNMAPS), 2);
	CHECK_EQ(rd32(&m, MDMA_REG_UNMAP_PAGES), 7);
	CHECK_EQ(rd32(&m, MDMA_REG_PINNED), 0);
	CHECK_EQ(kernel_pins(), p0);
	CHECK_EQ(charged_kb(), kb0);
	/* Two pinned mappings under one unmap: one callback each. */
	if (map_two(m.container, src, dst))
		return 1;
	XFER(&m, IOVA_SRC, IOVA_DST, 4096, MDMA_CTRL_PIN, MDMA_STATUS_DONE, 0);
	CHECK_OK(dunmap(m.container, IOVA_SRC, IOVA_DST + BUF_LEN - IOVA_SRC,
			0, NULL));
	CHECK_EQ(rd32(&m, MDMA_REG_UNMAPS), 4);
	CHECK_EQ(rd32(&m, MDMA_REG_PINNED), 0);
	CHECK_EQ(kernel_pins(), p0);
	mdev_close(&m);
	CHECK_EQ(kernel_pins(), p0);
	munmap(src, BUF_LEN);
	munmap(dst, BUF_LEN);
	munmap(more, BUF_LEN);
	return 0;
}

/*
 * As nobody with RLIMIT_MEMLOCK of 16 pages: the device never gets more
 * than that pinned. The child sets the IOMMU (so the container's account
 * is its own), maps and runs the transfers; exit status 0 is a pass.
 */
static int nobody_child(struct mdev *m)
{
	uint8_t *src = pages(8 * SZ_4K), *dst = pages(8 * SZ_4K);
	uint8_t *one = pages(SZ_4K);
	int rc;

	if (!src || !dst || !one)
		return 10;
	if (become_nobody(16 * SZ_4K))
		return 11;
	if (ioctl(m->container, VFIO_SET_IOMMU, VFIO_TYPE1v2_IOMMU))
		return 12;
	if (mdev_dev_open(m))
		return 13;
	fill(src, 8 * SZ_4K, 0x11);
	if (dmap(m->container, IOVA_SRC, src, 8 * SZ_4K, RD) ||
	    dmap(m->container, IOVA_DST, dst, 8 * SZ_4K, RDWR))
		return 14;
	/*
	 * The shim has charged the limit: a page more (right after the
	 * destination) is refused. Type1 maps it, charging nothing yet.
	 */
	rc = dmap(m->container, IOVA_DST + 8 * SZ_4K, one, SZ_4K, RDWR);
	if (rc != (on_shim() ? -ENOMEM : 0)) {
		diag("map past the limit: %d", rc);
		return 15;
	}
	/* All 16 pages pinned for the device: fits on both. */
	if (xfer(m, IOVA_SRC, IOVA_DST, 8 * SZ_4K, MDMA_CTRL_PIN) ||
	    rd32(m, MDMA_REG_STATUS) != MDMA_STATUS_DONE ||
	    rd32(m, MDMA_REG_PINNED) != 16 || memcmp(src, dst, 8 * SZ_4K))
		return 16;
	if (charged_kb() != 64) {
		diag("charged %lld kB with 16 pages pinned", charged_kb());
		return 17;
	}
	/*
	 * Type1: 17 pages (the destination 0x800 in, into the extra page)
	 * are over the limit: ENOMEM from vfio_pin_pages, nothing kept.
	 */
	if (!on_shim() &&
	    (xfer(m, IOVA_SRC, IOVA_DST + 0x800, 8 * SZ_4K, MDMA_CTRL_PIN) ||
	     rd32(m, MDMA_REG_STATUS) != MDMA_STATUS_ERROR ||
	     rd32(m, MDMA_REG_ERROR) != ENOMEM)) {
		diag("17 pages: status %u error %u", rd32(m, MDMA_REG_STATUS),
		     rd32(m, MDMA_REG_ERROR));
		return 18;
	}
	if (wr32(m, MDMA_REG_CTRL, MDMA_CTRL_RELEASE))
		return 19;
	/* Released: type1 uncharges; the shim's charge is the mappings'. */
	if (rd32(m, MDMA_REG_PINNED) != 0 ||
	    charged_kb() != (on_shim() ? 64 : 0)) {
		diag("after release: %u pinned, %lld kB charged",
		     rd32(m, MDMA_REG_PINNED), charged_kb());
		return 20;
	}
	if (dunmap(m->container, 0, 0, VFIO_DMA_UNMAP_FLAG_ALL, NULL) ||
	    charged_kb() != 0)
		return 21;
	return 0;
}

static int t_memlock_nobody(struct fx *f)
{
	long long p0 = kernel_pins();
	struct mdev m;
	int status, rc;
	pid_t pid;

	(void)f;
	rc = mdev_open_in(&m, -1, true);
	if (rc)
		return rc;
	pid = fork();
	if (pid == 0)
		_exit(nobody_child(&m));
	CHECK(pid > 0 && waitpid(pid, &status, 0) == pid);
	if (!WIFEXITED(status) || WEXITSTATUS(status))
		diag("child status 0x%x", status);
	CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	mdev_close(&m);
	CHECK_EQ(kernel_pins(), p0);
	return 0;
}

/*
 * An edu and the mdev in one container (so, on the shim, on one ioasid):
 * what the mdev writes the edu reads at the same IOVA, and back.
 */
static int t_edu_shared(struct fx *f)
{
	uint8_t *a = pages(BUF_LEN), *b = pages(BUF_LEN);
	long long p0 = kernel_pins();
	struct edu e;
	struct mdev m;
	int rc;

	(void)f;
	CHECK(a && b);
	rc = edu_open(&e, 0, VFIO_TYPE1v2_IOMMU);
	if (rc)
		return rc;
	rc = mdev_open_in(&m, e.container, false);
	if (rc)
		return rc;
	fill(a, BUF_LEN, 0x5a);
	memset(b, 0, BUF_LEN);
	CHECK_OK(dmap(e.container, IOVA_SRC, a, BUF_LEN, RDWR));
	CHECK_OK(dmap(e.container, IOVA_DST, b, BUF_LEN, RDWR));
	/* Both backends pin the mappings of a container with an edu. */
	CHECK_EQ(kernel_pins() - p0, 2 * BUF_PAGES);
	/* mdev: a -> b; edu: b -> its buffer -> a + 0x8000. */
	XFER(&m, IOVA_SRC, IOVA_DST, EDU_LEN, 0, MDMA_STATUS_DONE, 0);
	CHECK_OK(edu_dma(&e, IOVA_DST, false, EDU_LEN));
	CHECK_OK(edu_dma(&e, IOVA_SRC + 0x8000, true, EDU_LEN));
	CHECK(!memcmp(a + 0x8000, a, EDU_LEN));
	/* edu writes b + 0x4000; the mdev copies it, pinned, to a + 0xc000. */
	fill(a, EDU_LEN, 0x77);
	CHECK_OK(edu_dma(&e, IOVA_SRC, false, EDU_LEN));
	CHECK_OK(edu_dma(&e, IOVA_DST + 0x4000, true, EDU_LEN));
	XFER(&m, IOVA_DST + 0x4000, IOVA_SRC + 0xc000, EDU_LEN, MDMA_CTRL_PIN,
	     MDMA_STATUS_DONE, 0);
	CHECK(!memcmp(a + 0xc000, a, EDU_LEN));
	CHECK(!memcmp(b + 0x4000, a, EDU_LEN));
	CHECK_EQ(rd32(&m, MDMA_REG_PINNED), 2);
	/* Unmapping both: a callback each, the pins gone, then the pages. */
	CHECK_OK(dunmap(e.container, 0, 0, VFIO_DMA_UNMAP_FLAG_ALL, NULL));
	CHECK_EQ(rd32(&m, MDMA_REG_UNMAPS), 2);
	CHECK_EQ(rd32(&m, MDMA_REG_PINNED), 0);
	CHECK_EQ(kernel_pins(), p0);
	/* The edu no longer reaches b: the mdev's rw does not either. */
	XFER(&m, IOVA_SRC, IOVA_DST, 16, 0, MDMA_STATUS_ERROR, EINVAL);
	mdev_close(&m);
	edu_close(&e);
	CHECK_EQ(kernel_pins(), p0);
	return 0;
}

/* The dirty bitmaps of src and dst (BUF_PAGES bits each) into *bs, *bd. */
static int dirty_two(int c, uint64_t *bs, uint64_t *bd)
{
	*bs = *bd = 0;
	CHECK_OK(vdirty_get(c, IOVA_SRC, BUF_LEN, SZ_4K, bs, 8, 0));
	CHECK_OK(vdirty_get(c, IOVA_DST, BUF_LEN, SZ_4K, bd, 8, 0));
	return 0;
}

#define DIRTY_TWO(m, what, ws, wd) do { \
	uint64_t _s, _d; \
	CHECK_OK(dirty_two((m)->container, &_s, &_d)); \
	diag("type1-dirty %s: src %llx dst %llx", what, (unsigned long long)_s, \
	     (unsigned long long)_d); \
	CHECK_EQ(_s, ws); \
	CHECK_EQ(_d, wd); \
} while (0)

/*
 * Type1 dirty tracking with an emulated device only (issue 14 item 3):
 * pages written by vfio_dma_rw are dirty once (a read clears them); pages
 * pinned are dirty at every read while pinned, read-only ones too, and at
 * one read more after the unpin (type1 refills its bitmap with the pins
 * still held at each read); an unmapped range forgets its bits. The suite
 * compares the "type1-dirty" lines of both backends.
 */
static int t_dirty(struct fx *f)
{
	uint64_t bm = 0, unmapped = 0;
	uint8_t *src, *dst;
	struct mdev m;
	int c, rc;

	(void)f;
	rc = mdev_open_two(&m, &src, &dst);
	if (rc)
		return rc;
	c = m.container;
	CHECK_ERR(vdirty_get(c, IOVA_DST, BUF_LEN, SZ_4K, &bm, 8, 0), -EINVAL);
	CHECK_OK(vdirty(c, VFIO_IOMMU_DIRTY_PAGES_FLAG_START));
	DIRTY_TWO(&m, "started", 0, 0);
	/* By vfio_dma_rw: bytes 7 to 40006 of dst, its pages 0 to 9. */
	XFER(&m, IOVA_SRC + 100, IOVA_DST + 7, 40000, 0, MDMA_STATUS_DONE, 0);
	CHECK(!memcmp(dst + 7, src + 100, 40000));
	DIRTY_TWO(&m, "dma_rw", 0, 0x3ff);
	DIRTY_TWO(&m, "dma_rw read again", 0, 0);
	/* Pinned: src pages 0-3 (read-only), dst pages 0-2. */
	XFER(&m, IOVA_SRC + 0x800, IOVA_DST, 3 * 4096, MDMA_CTRL_PIN,
	     MDMA_STATUS_DONE, 0);
	CHECK_EQ(rd32(&m, MDMA_REG_PINNED), 7);
	DIRTY_TWO(&m, "pinned", 0xf, 0x7);
	DIRTY_TWO(&m, "still pinned", 0xf, 0x7);
	CHECK_OK(wr32(&m, MDMA_REG_CTRL, MDMA_CTRL_RELEASE));
	CHECK_EQ(rd32(&m, MDMA_REG_PINNED), 0);
	DIRTY_TWO(&m, "released", 0xf, 0x7);
	DIRTY_TWO(&m, "released read again", 0, 0);
	/* An unmap returns its bits; mapped again, the range starts clean. */
	XFER(&m, IOVA_SRC, IOVA_DST + 0x5000, 100, 0, MDMA_STATUS_DONE, 0);
	XFER(&m, IOVA_SRC, IOVA_DST + 0x9000, 100, 0, MDMA_STATUS_DONE, 0);
	CHECK_OK(vunmap_dirty(c, IOVA_DST, BUF_LEN, 0, SZ_4K, &bm, 8, 0,
			      &unmapped));
	diag("type1-dirty unmap: %llx", (unsigned long long)bm);
	CHECK_EQ(bm, 0x220);
	CHECK_EQ(unmapped, BUF_LEN);
	CHECK_OK(dmap(c, IOVA_DST, dst, BUF_LEN, RDWR));
	DIRTY_TWO(&m, "mapped again", 0, 0);
	CHECK_OK(vdirty(c, VFIO_IOMMU_DIRTY_PAGES_FLAG_STOP));
	CHECK_ERR(vdirty_get(c, IOVA_DST, BUF_LEN, SZ_4K, &bm, 8, 0), -EINVAL);
	mdev_close(&m);
	munmap(src, BUF_LEN);
	munmap(dst, BUF_LEN);
	return 0;
}

/*
 * The other order: the mdev's group first. Type1 narrows the container
 * for the edu; the shim has fixed the ioasid's attributes from the mdev's
 * (any page size, all 64 bits) and refuses the edu (docs/kernel.md).
 */
static int t_mdev_first(struct fx *f)
{
	const char *base = getenv("VFIO_TEST_EDU");
	int i = base ? atoi(base) : 0, g, rc, set;
	char path[64];
	struct mdev m;

	(void)f;
	if (i >= solo_count) {
		skip_reason("needs edu number %d alone in its group", i + 1);
		return SKIP_RC;
	}
	rc = mdev_open_in(&m, -1, false);
	if (rc)
		return rc;
	g = group_of(solo_bdf[i]);
	CHECK(g >= 0);
	snprintf(path, sizeof(path), "/dev/vfio/%d", g);
	rc = open(path, O_RDWR);
	CHECK(rc >= 0);
	set = ioctl(rc, VFIO_GROUP_SET_CONTAINER, &m.container) ? -errno : 0;
	CHECK_EQ(set, on_shim() ? -EINVAL : 0);
	if (!set)
		CHECK(ioctl(rc, VFIO_GROUP_UNSET_CONTAINER) == 0);
	close(rc);
	mdev_close(&m);
	return 0;
}

struct race_arg {
	struct mdev *m;
	volatile int stop;
	int done, unmapped, bad;
};

static void *race_pinner(void *p)
{
	struct race_arg *a = p;

	while (!a->stop) {
		uint32_t st, err;

		if (xfer(a->m, IOVA_SRC, IOVA_DST, 3 * 4096, MDMA_CTRL_PIN)) {
			a->bad++;
			continue;
		}
		st = rd32(a->m, MDMA_REG_STATUS);
		err = rd32(a->m, MDMA_REG_ERROR);
		if (st == MDMA_STATUS_DONE)
			a->done++;
		else if (st == MDMA_STATUS_ERROR && err == EINVAL)
			a->unmapped++;
		else
			a->bad++;
	}
	return NULL;
}

/*
 * Pinned transfers racing maps and unmaps of their buffers: each unmap
 * completes (or, while the pins keep being retaken, fails with EBUSY and
 * is tried again: type1 BUGs there, so this runs on the shim only), each
 * transfer is done or finds its memory unmapped, and nothing stays
 * pinned. Exercises the unmap's callback loop against the pin path.
 */
static int t_race_unmap(struct fx *f)
{
	struct race_arg a = { .m = NULL };
	long long p0 = kernel_pins();
	uint8_t *src, *dst;
	int i, busy = 0, tries, rc;
	struct mdev m;
	pthread_t th;

	(void)f;
	if (!on_shim()) {
		skip_reason("type1 BUG()s when pins are retaken through 10 dma_unmap calls");
		return SKIP_RC;
	}
	rc = mdev_open_bufs(&m, &src, &dst);
	if (rc)
		return rc;
	a.m = &m;
	CHECK(pthread_create(&th, NULL, race_pinner, &a) == 0);
	for (i = 0; i < 300; i++) {
		if (map_two(m.container, src, dst))
			break;
		for (tries = 0; tries < 1000; tries++) {
			rc = dunmap(m.container, 0, 0, VFIO_DMA_UNMAP_FLAG_ALL,
				    NULL);
			if (rc != -EBUSY)
				break;
			busy++;
		}
		if (rc)
			break;
	}
	a.stop = 1;
	pthread_join(th, NULL);
	diag("%d rounds: %d transfers done, %d found no mapping, %d unmaps EBUSY, %u callbacks",
	     i, a.done, a.unmapped, busy, rd32(&m, MDMA_REG_UNMAPS));
	CHECK_EQ(i, 300);
	CHECK_EQ(a.bad, 0);
	CHECK(a.done + a.unmapped > 0);
	CHECK_EQ(rd32(&m, MDMA_REG_PINNED), 0);
	CHECK_EQ(kernel_pins(), p0);
	mdev_close(&m);
	CHECK_EQ(kernel_pins(), p0);
	return 0;
}

/*
 * An mdev cannot join a VFIO_IOASID_IOMMU container (its unmaps would
 * come through an ioasid fd, which does not call dma_unmap): the shim's
 * attach refuses it, so VFIO_SET_IOMMU fails, with either backend loaded
 * for type1v2.
 */
static int t_ioasid_mode(struct fx *f)
{
	struct mdev m;
	int rc;

	(void)f;
	rc = mdev_open_in(&m, -1, true);
	if (rc)
		return rc;
	CHECK(ioctl(m.container, VFIO_SET_IOMMU, VFIO_IOASID_IOMMU) == -1);
	CHECK_EQ(errno, EINVAL);
	/* The container is still unset: type1v2 takes the group. */
	CHECK(ioctl(m.container, VFIO_SET_IOMMU, VFIO_TYPE1v2_IOMMU) == 0);
	mdev_close(&m);
	return 0;
}

static int fail_nth(unsigned int n)
{
	char s[16];

	snprintf(s, sizeof(s), "%u", n);
	return sysfs_write(FAIL_NTH, s);
}

/*
 * The shim's pin path fails at each of its fault points in turn (the pin
 * count's allocation, one per page newly pinned): the transfer fails with
 * ENOMEM, nothing stays pinned, and an unmap calls no dma_unmap.
 */
static int t_fault_walk(struct fx *f)
{
	unsigned int n, failed = 0;
	long long p0 = kernel_pins();
	uint8_t *src, *dst;
	struct mdev m;
	int rc;

	(void)f;
	if (!on_shim()) {
		skip_reason("fault points are the shim's (fail_nth of ioasid.ko)");
		return SKIP_RC;
	}
	rc = mdev_open_bufs(&m, &src, &dst);
	if (rc)
		return rc;
	for (n = 1; n < 32; n++) {
		if (map_two(m.container, src, dst))
			return 1;
		CHECK_OK(fail_nth(n));
		CHECK_OK(xfer(&m, IOVA_SRC + 0x800, IOVA_DST, 3 * 4096,
			      MDMA_CTRL_PIN));
		CHECK_OK(fail_nth(0));
		if (rd32(&m, MDMA_REG_STATUS) == MDMA_STATUS_DONE)
			break;
		failed++;
		CHECK_EQ(rd32(&m, MDMA_REG_STATUS), MDMA_STATUS_ERROR);
		CHECK_EQ(rd32(&m, MDMA_REG_ERROR), ENOMEM);
		CHECK_EQ(rd32(&m, MDMA_REG_PINNED), 0);
		/* No pin count left behind: nobody to call back. */
		CHECK_OK(dunmap(m.container, 0, 0, VFIO_DMA_UNMAP_FLAG_ALL,
				NULL));
		CHECK_EQ(rd32(&m, MDMA_REG_UNMAPS), 0);
		CHECK_EQ(kernel_pins(), p0);
	}
	diag("pinned transfer of 7 pages: %u fault points", failed);
	CHECK_EQ(failed, 7);
	CHECK(!memcmp(dst, src + 0x800, 3 * 4096));
	CHECK_OK(dunmap(m.container, 0, 0, VFIO_DMA_UNMAP_FLAG_ALL, NULL));
	CHECK_EQ(rd32(&m, MDMA_REG_UNMAPS), 2);
	mdev_close(&m);
	CHECK_EQ(kernel_pins(), p0);
	return 0;
}

/*
 * A driver that forgets its pins at close (mdma's leak_pins): at the
 * detach of the container's last emulated group the shim drops the pin
 * counts and says how many in the kernel log (issue 14 item 2b); the
 * pages come back unpinned and uncharged with the container, and the
 * mdev in a new container pins and unmaps as ever.
 */
static int t_pins_at_detach(struct fx *f)
{
	long long p0 = kernel_pins(), kb0 = charged_kb();
	uint8_t *src, *dst;
	struct mdev m;
	int rc, k;

	(void)f;
	if (!on_shim()) {
		skip_reason("type1 WARNs (vfio_remove_dma) at pages a driver never unpinned");
		return SKIP_RC;
	}
	CHECK(p0 >= 0 && kb0 >= 0);
	rc = mdev_open_two(&m, &src, &dst);
	if (rc)
		return rc;
	XFER(&m, IOVA_SRC + 0x800, IOVA_DST, 3 * 4096, MDMA_CTRL_PIN,
	     MDMA_STATUS_DONE, 0);
	CHECK_EQ(rd32(&m, MDMA_REG_PINNED), 7);
	k = kmsg_mark();
	CHECK(k >= 0);
	CHECK_OK(sysfs_write(LEAK_PINS, "1"));
	close(m.dev);
	m.dev = -1;
	rc = sysfs_write(LEAK_PINS, "0");
	CHECK_OK(rc);
	CHECK(ioctl(m.group, VFIO_GROUP_UNSET_CONTAINER) == 0);
	rc = kmsg_has(k, "7 pins of emulated devices left at their last detach");
	close(k);
	CHECK(rc);
	mdev_close(&m);
	CHECK_EQ(kernel_pins(), p0);
	CHECK_EQ(charged_kb(), kb0);
	munmap(src, BUF_LEN);
	munmap(dst, BUF_LEN);
	rc = mdev_open_two(&m, &src, &dst);
	if (rc)
		return rc;
	CHECK_EQ(rd32(&m, MDMA_REG_PINNED), 0);
	XFER(&m, IOVA_SRC + 0x800, IOVA_DST, 3 * 4096, MDMA_CTRL_PIN,
	     MDMA_STATUS_DONE, 0);
	CHECK(!memcmp(dst, src + 0x800, 3 * 4096));
	CHECK_OK(dunmap(m.container, 0, 0, VFIO_DMA_UNMAP_FLAG_ALL, NULL));
	CHECK_EQ(rd32(&m, MDMA_REG_UNMAPS), 2);
	CHECK_EQ(rd32(&m, MDMA_REG_PINNED), 0);
	mdev_close(&m);
	CHECK_EQ(kernel_pins(), p0);
	munmap(src, BUF_LEN);
	munmap(dst, BUF_LEN);
	return 0;
}

static int t_remove(struct fx *f)
{
	(void)f;
	return mdev_remove();
}

/*
 * VFIO_UPDATE_VADDR with an emulated device in the container, as type1
 * (6.12) has it: not offered, an invalidation fails with EBUSY (the
 * device could not pin or read while a vaddr is invalid), an update finds
 * no invalid vaddr; the mappings and the device work on.
 */
static int t_vaddr_refused(struct fx *f)
{
	uint8_t *src, *dst;
	struct mdev m;
	int rc;

	(void)f;
	rc = mdev_open_two(&m, &src, &dst);
	if (rc)
		return rc;
	CHECK_EQ(ioctl(m.container, VFIO_CHECK_EXTENSION, VFIO_UPDATE_VADDR),
		 0);
	CHECK_ERR(dunmap(m.container, IOVA_SRC, BUF_LEN,
			 VFIO_DMA_UNMAP_FLAG_VADDR, NULL), -EBUSY);
	CHECK_ERR(dunmap(m.container, 0, 0, VFIO_DMA_UNMAP_FLAG_VADDR |
			 VFIO_DMA_UNMAP_FLAG_ALL, NULL), -EBUSY);
	CHECK_ERR(dmap(m.container, IOVA_SRC, src, BUF_LEN,
		       VFIO_DMA_MAP_FLAG_VADDR), -EINVAL);
	XFER(&m, IOVA_SRC, IOVA_DST, 4096, MDMA_CTRL_PIN, MDMA_STATUS_DONE, 0);
	CHECK(!memcmp(dst, src, 4096));
	CHECK_OK(wr32(&m, MDMA_REG_CTRL, MDMA_CTRL_RELEASE));
	mdev_close(&m);
	munmap(src, BUF_LEN);
	munmap(dst, BUF_LEN);
	return 0;
}

/*
 * A live update with an edu in the container, then an mdev (the same on
 * type1 and the shim): while the source's vaddr is invalid no mdev may
 * join (EBUSY); its memfd page is mapped again at another address, the
 * new vaddr supplied; then the mdev joins and copies the bytes written
 * through the new mapping, by dma_rw and pinned. Last the edu's group
 * leaves and joins again, so its new IOMMU domain gets the mappings from
 * scratch (on the shim from the pins, at offsets that must not count
 * from the new vaddr), and the edu reads the bytes written now.
 */
static int t_vaddr_moved(struct fx *f)
{
	const size_t len = 4 * SZ_4K;
	uint8_t *va1, *va2, *b = pages(len), *spare;
	char path[64], bdf[sizeof(((struct edu *)0)->bdf)];
	struct edu e;
	struct mdev m;
	int g, mfd, rc;

	(void)f;
	CHECK(b);
	rc = edu_open(&e, 0, VFIO_TYPE1v2_IOMMU);
	if (rc)
		return rc;
	mfd = memfd_create("vaddr", 0);
	CHECK(mfd >= 0);
	CHECK_OK(ftruncate(mfd, len));
	va1 = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, mfd, 0);
	CHECK(va1 != MAP_FAILED);
	/* Where the source moves to: not where it is (reserved meanwhile). */
	spare = pages(len);
	CHECK(spare && spare != va1);
	CHECK_OK(munmap(spare, len));
	fill(va1, len, 0x21);
	memset(b, 0, len);
	CHECK_OK(dmap(e.container, IOVA_SRC, va1, len, RDWR));
	CHECK_OK(dmap(e.container, IOVA_DST, b, len, RDWR));
	CHECK_OK(dunmap(e.container, IOVA_SRC, len, VFIO_DMA_UNMAP_FLAG_VADDR,
			NULL));
	g = mdev_group();
	CHECK(g >= 0);
	snprintf(path, sizeof(path), "/dev/vfio/%d", g);
	m.group = open(path, O_RDWR);
	CHECK(m.group >= 0);
	CHECK_ERR(ioctl(m.group, VFIO_GROUP_SET_CONTAINER, &e.container) ?
		  -errno : 0, -EBUSY);
	close(m.group);
	CHECK_OK(munmap(va1, len));
	va2 = mmap(spare, len, PROT_READ | PROT_WRITE,
		   MAP_SHARED | MAP_FIXED_NOREPLACE, mfd, 0);
	CHECK(va2 == spare && va2 != va1);
	diag("source moved by %lld bytes", (long long)(va2 - va1));
	fill(va2, len, 0x63);
	CHECK_OK(dmap(e.container, IOVA_SRC, va2, len,
		      VFIO_DMA_MAP_FLAG_VADDR));
	rc = mdev_open_in(&m, e.container, false);
	if (rc)
		return rc;
	XFER(&m, IOVA_SRC, IOVA_DST, 2 * SZ_4K, 0, MDMA_STATUS_DONE, 0);
	CHECK(!memcmp(b, va2, 2 * SZ_4K));
	XFER(&m, IOVA_SRC + 2 * SZ_4K, IOVA_DST + 2 * SZ_4K, 2 * SZ_4K,
	     MDMA_CTRL_PIN, MDMA_STATUS_DONE, 0);
	CHECK(!memcmp(b + 2 * SZ_4K, va2 + 2 * SZ_4K, 2 * SZ_4K));
	CHECK_OK(wr32(&m, MDMA_REG_CTRL, MDMA_CTRL_RELEASE));
	/* The edu's group out and back in: a new domain, mapped afresh. */
	munmap((void *)e.bar, e.bar_len);
	e.bar = NULL;
	close(e.dev);
	e.dev = -1;
	CHECK_OK(ioctl(e.group, VFIO_GROUP_UNSET_CONTAINER));
	CHECK_OK(ioctl(e.group, VFIO_GROUP_SET_CONTAINER, &e.container));
	snprintf(bdf, sizeof(bdf), "%s", e.bdf);	/* edu_dev_open writes e.bdf */
	CHECK_OK(edu_dev_open(&e, bdf));
	fill(va2, len, 0x4d);
	memset(b, 0, len);
	CHECK_OK(edu_dma(&e, IOVA_SRC + SZ_4K, false, EDU_LEN));
	CHECK_OK(edu_dma(&e, IOVA_DST + SZ_4K, true, EDU_LEN));
	CHECK(!memcmp(b + SZ_4K, va2 + SZ_4K, EDU_LEN));
	CHECK(all_bytes(b, SZ_4K, 0));
	mdev_close(&m);
	edu_close(&e);
	munmap(va2, len);
	munmap(b, len);
	close(mfd);
	return 0;
}

static const struct test tests[] = {
	{ "create", t_create, NULL },
	{ "bytes", t_bytes, NULL },
	{ "pin_unmap", t_pin_unmap, NULL },
	{ "memlock_nobody", t_memlock_nobody, NULL },
	{ "edu_shared", t_edu_shared, NULL },
	{ "dirty", t_dirty, NULL },
	{ "mdev_first", t_mdev_first, NULL },
	{ "ioasid_mode", t_ioasid_mode, NULL },
	{ "fault_walk", t_fault_walk, NULL },
	{ "race_unmap", t_race_unmap, NULL },
	{ "pins_at_detach", t_pins_at_detach, NULL },
	{ "vaddr_refused", t_vaddr_refused, NULL },
	{ "vaddr_moved", t_vaddr_moved, NULL },
	{ "remove", t_remove, NULL },
};

int main(int argc, char **argv)
{
	mdev_rig_init(MDEV_UUID);
	find_edus();
	return mdev_main(on_shim() ? "mdev_shim" : "mdev_type1", tests,
			 sizeof(tests) / sizeof(tests[0]), argc, argv);
}
