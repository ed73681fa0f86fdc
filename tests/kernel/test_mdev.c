// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/*
 * The emulated DMA engine of kernel/mdma (ioasid_mdma.ko) as a VFIO
 * program sees it: an mdev created through sysfs, opened with the legacy
 * container and group API, its transfers through vfio_dma_rw and through
 * pinned pages, the backend's dma_unmap callback releasing the pins before
 * an unmap completes, and hostile register values and region accesses.
 * Runs in the kernel suite's VM, as root, with the module loaded.
 *
 * VFIO_TEST_IOMMU says which backend serves VFIO_TYPE1v2_IOMMU ("type1",
 * the stock driver, or "shim"); the expectations are the same, so the
 * stock driver's answers (its errnos, when it calls dma_unmap) are the
 * reference for the shim. The tests share one mdev: "create" makes it
 * and "remove" removes it, the others open it in their own container.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <pthread.h>
#include <sys/ioctl.h>

#include "mdma_rig.h"

#define MDEV_UUID	"6d646d61-0000-4000-8000-00000000000e"

static int t_create(struct fx *f)
{
	long avail = sysfs_long(MDMA_TYPE_DIR "/available_instances");
	char api[32] = "";
	FILE *fp;

	(void)f;
	diag("iommu %s", iommu_mode());
	CHECK(avail > 0);
	if (mdev_create())
		return 1;
	CHECK_EQ(sysfs_long(MDMA_TYPE_DIR "/available_instances"), avail - 1);
	/* The same UUID twice is refused. */
	CHECK_ERR(sysfs_write(MDMA_TYPE_DIR "/create", MDEV_UUID), -EEXIST);
	fp = fopen(MDMA_TYPE_DIR "/device_api", "r");
	CHECK(fp);
	CHECK(fgets(api, sizeof(api), fp));
	fclose(fp);
	CHECK(!strncmp(api, "vfio-pci", 8));
	return 0;
}

/* What a vfio-pci program discovers: info, regions, ids, limits. */
static int t_info(struct fx *f)
{
	struct vfio_device_info di = { .argsz = sizeof(di) };
	struct vfio_region_info ri = { .argsz = sizeof(ri) };
	struct vfio_irq_info ii = { .argsz = sizeof(ii) };
	struct mdev m;
	uint16_t id;
	uint32_t v;
	int rc = mdev_open(&m);

	(void)f;
	if (rc)
		return rc;
	CHECK(ioctl(m.dev, VFIO_DEVICE_GET_INFO, &di) == 0);
	CHECK(di.flags & VFIO_DEVICE_FLAGS_PCI);
	CHECK(di.flags & VFIO_DEVICE_FLAGS_RESET);
	CHECK_EQ(di.num_regions, VFIO_PCI_NUM_REGIONS);
	CHECK_EQ(di.num_irqs, VFIO_PCI_NUM_IRQS);
	ri.index = VFIO_PCI_BAR1_REGION_INDEX;
	CHECK(ioctl(m.dev, VFIO_DEVICE_GET_REGION_INFO, &ri) == 0);
	CHECK_EQ(ri.size, 0);
	ri.index = VFIO_PCI_NUM_REGIONS;
	CHECK(ioctl(m.dev, VFIO_DEVICE_GET_REGION_INFO, &ri) == -1 &&
	      errno == EINVAL);
	ri.index = VFIO_PCI_BAR0_REGION_INDEX;
	ri.argsz = 8;
	CHECK(ioctl(m.dev, VFIO_DEVICE_GET_REGION_INFO, &ri) == -1 &&
	      errno == EINVAL);
	ii.index = VFIO_PCI_INTX_IRQ_INDEX;
	CHECK(ioctl(m.dev, VFIO_DEVICE_GET_IRQ_INFO, &ii) == 0);
	CHECK_EQ(ii.count, 0);
	ii.index = VFIO_PCI_NUM_IRQS;
	CHECK(ioctl(m.dev, VFIO_DEVICE_GET_IRQ_INFO, &ii) == -1 &&
	      errno == EINVAL);
	CHECK_OK(acc(&m, m.cfg + 0, &id, 2, false));
	CHECK_EQ(id, MDMA_VENDOR_ID);
	CHECK_OK(acc(&m, m.cfg + 2, &id, 2, false));
	CHECK_EQ(id, MDMA_DEVICE_ID);
	/* BAR sizing, as firmware and QEMU do it. */
	v = 0xffffffff;
	CHECK_OK(acc(&m, m.cfg + 0x10, &v, 4, true));
	CHECK_OK(acc(&m, m.cfg + 0x10, &v, 4, false));
	CHECK_EQ(v, ~(uint32_t)(MDMA_BAR0_SIZE - 1));
	CHECK_EQ(rd32(&m, MDMA_REG_ID), MDMA_ID);
	CHECK_EQ(rd32(&m, MDMA_REG_MAX_LEN), MDMA_MAX_LEN);
	CHECK_EQ(rd32(&m, MDMA_REG_MAX_PINS), MDMA_MAX_PINS);
	CHECK_EQ(rd32(&m, MDMA_REG_STATUS), MDMA_STATUS_IDLE);
	CHECK(ioctl(m.dev, VFIO_DEVICE_RESET) == 0);
	mdev_close(&m);
	return 0;
}

/* vfio_dma_rw transfers: unaligned, across pages, and the longest. */
static int t_dma_rw(struct fx *f)
{
	struct mdev m;
	uint8_t *src, *dst, *big_src, *big_dst;
	long long pins = kernel_pins();
	uint64_t v;
	int rc = mdev_open_two(&m, &src, &dst);

	(void)f;
	if (rc)
		return rc;
	XFER(&m, IOVA_SRC + 100, IOVA_DST + 7, 40000, 0, MDMA_STATUS_DONE, 0);
	CHECK_EQ(rd32(&m, MDMA_REG_DONE), 40000);
	CHECK(!memcmp(dst + 7, src + 100, 40000));
	CHECK(all_bytes(dst, 7, 0));
	CHECK(all_bytes(dst + 7 + 40000, BUF_LEN - 7 - 40000, 0));
	/* Registers read back as written, 64-bit ones in halves too. */
	CHECK_OK(acc(&m, m.bar + MDMA_REG_SRC, &v, 8, false));
	CHECK_EQ(v, IOVA_SRC + 100);
	CHECK_EQ(rd32(&m, MDMA_REG_DST + 4), 0);
	/* Reading through the mapping pins nothing. */
	CHECK_EQ(kernel_pins(), pins);
	CHECK_EQ(rd32(&m, MDMA_REG_PINNED), 0);
	/* The longest transfer, 1 MiB. */
	big_src = pages(MDMA_MAX_LEN);
	big_dst = pages(MDMA_MAX_LEN);
	CHECK(big_src && big_dst);
	fill(big_src, MDMA_MAX_LEN, 0x71);
	CHECK_OK(dmap(m.container, 0x1000000, big_src, MDMA_MAX_LEN, RD));
	CHECK_OK(dmap(m.container, 0x2000000, big_dst, MDMA_MAX_LEN, RDWR));
	XFER(&m, 0x1000000, 0x2000000, MDMA_MAX_LEN, 0, MDMA_STATUS_DONE, 0);
	CHECK(!memcmp(big_src, big_dst, MDMA_MAX_LEN));
	/* No dma_unmap without pins. */
	CHECK_OK(dunmap(m.container, 0, 0, VFIO_DMA_UNMAP_FLAG_ALL, NULL));
	CHECK_EQ(rd32(&m, MDMA_REG_UNMAPS), 0);
	mdev_close(&m);
	return 0;
}

/*
 * Pin mode: the pins stay after the transfer; an unmap of a pinned range
 * first calls the device's dma_unmap, which unpins, and only the range's
 * own run is released.
 */
static int t_pin_unmap(struct fx *f)
{
	struct mdev m;
	uint8_t *src, *dst;
	uint64_t unmapped = 0;
	long long pins = kernel_pins();
	int rc = mdev_open_two(&m, &src, &dst);

	(void)f;
	if (rc)
		return rc;
	CHECK(pins >= 0);
	/* 3 pages from 0x800 into the source: 4 source pages, 3 dest. */
	XFER(&m, IOVA_SRC + 0x800, IOVA_DST, 3 * 4096, MDMA_CTRL_PIN,
	     MDMA_STATUS_DONE, 0);
	CHECK(!memcmp(dst, src + 0x800, 3 * 4096));
	CHECK(all_bytes(dst + 3 * 4096, BUF_LEN - 3 * 4096, 0));
	CHECK_EQ(rd32(&m, MDMA_REG_PINNED), 7);
	CHECK_EQ(kernel_pins() - pins, 7);
	CHECK_EQ(rd32(&m, MDMA_REG_UNMAPS), 0);
	/* The pinned pages are the mapping's: new bytes show through them. */
	fill(src, BUF_LEN, 0x95);
	XFER(&m, IOVA_SRC + 0x800, IOVA_DST, 3 * 4096, MDMA_CTRL_PIN,
	     MDMA_STATUS_DONE, 0);
	CHECK(!memcmp(dst, src + 0x800, 3 * 4096));
	CHECK_EQ(kernel_pins() - pins, 7);
	/* Unmap the source: callback, its 4 pages unpinned, unmap done. */
	CHECK_OK(dunmap(m.container, IOVA_SRC, BUF_LEN, 0, &unmapped));
	CHECK_EQ(unmapped, BUF_LEN);
	CHECK_EQ(rd32(&m, MDMA_REG_UNMAPS), 1);
	CHECK_EQ(rd32(&m, MDMA_REG_UNMAP_PAGES), 4);
	CHECK_EQ(rd32(&m, MDMA_REG_PINNED), 3);
	CHECK_EQ(kernel_pins() - pins, 3);
	/* And the destination, through UNMAP_ALL. */
	CHECK_OK(dunmap(m.container, 0, 0, VFIO_DMA_UNMAP_FLAG_ALL, &unmapped));
	CHECK_EQ(unmapped, BUF_LEN);
	CHECK_EQ(rd32(&m, MDMA_REG_UNMAPS), 2);
	CHECK_EQ(rd32(&m, MDMA_REG_UNMAP_PAGES), 7);
	CHECK_EQ(rd32(&m, MDMA_REG_PINNED), 0);
	CHECK_EQ(kernel_pins(), pins);
	/* Pins released by the driver: a later unmap calls nobody. */
	CHECK_OK(dmap(m.container, IOVA_SRC, src, BUF_LEN, RD));
	CHECK_OK(dmap(m.container, IOVA_DST, dst, BUF_LEN, RDWR));
	XFER(&m, IOVA_SRC, IOVA_DST, 4096, MDMA_CTRL_PIN, MDMA_STATUS_DONE, 0);
	CHECK_EQ(kernel_pins() - pins, 2);
	CHECK_OK(wr32(&m, MDMA_REG_CTRL, MDMA_CTRL_RELEASE));
	CHECK_EQ(rd32(&m, MDMA_REG_PINNED), 0);
	CHECK_EQ(kernel_pins(), pins);
	CHECK_OK(dunmap(m.container, 0, 0, VFIO_DMA_UNMAP_FLAG_ALL, NULL));
	CHECK_EQ(rd32(&m, MDMA_REG_UNMAPS), 2);
	mdev_close(&m);
	return 0;
}

/* Pins held at close (or at a process's death) are released. */
static int t_pin_close(struct fx *f)
{
	struct mdev m;
	uint8_t *src, *dst;
	long long pins = kernel_pins();
	int rc = mdev_open_two(&m, &src, &dst);

	(void)f;
	if (rc)
		return rc;
	XFER(&m, IOVA_SRC, IOVA_DST, BUF_LEN, MDMA_CTRL_PIN, MDMA_STATUS_DONE,
	     0);
	CHECK_EQ(kernel_pins() - pins, 32);
	CHECK(!memcmp(src, dst, BUF_LEN));
	/* Reset releases them too. */
	CHECK(ioctl(m.dev, VFIO_DEVICE_RESET) == 0);
	CHECK_EQ(kernel_pins(), pins);
	XFER(&m, IOVA_SRC, IOVA_DST, BUF_LEN, MDMA_CTRL_PIN, MDMA_STATUS_DONE,
	     0);
	CHECK_EQ(kernel_pins() - pins, 32);
	mdev_close(&m);
	CHECK_EQ(kernel_pins(), pins);
	/* Reopened, the counters start again. */
	rc = mdev_open(&m);
	if (rc)
		return rc;
	CHECK_EQ(rd32(&m, MDMA_REG_PINNED), 0);
	CHECK_EQ(rd32(&m, MDMA_REG_UNMAPS), 0);
	mdev_close(&m);
	return 0;
}

/* Values a user chooses, each refused before any work. */
static const struct bad_xfer bad_regs[] = {
	{ IOVA_SRC, IOVA_DST, 0, 0, EINVAL },
	{ IOVA_SRC, IOVA_DST, MDMA_MAX_LEN + 1, 0, E2BIG },
	{ IOVA_SRC, IOVA_DST, 0xffffffff, MDMA_CTRL_PIN, E2BIG },
	/* 1 MiB is allowed, but not as 512 pins. */
	{ IOVA_SRC, IOVA_DST, MDMA_MAX_LEN, MDMA_CTRL_PIN, E2BIG },
	{ ~0ULL - 15, IOVA_DST, 4096, 0, EOVERFLOW },
	{ IOVA_SRC, ~0ULL - 4094, 4096, MDMA_CTRL_PIN, EOVERFLOW },
	/* The last byte of the IOVA space is addressable, and unmapped. */
	{ ~0ULL, IOVA_DST, 1, 0, EINVAL },
};

/* Control bits: unknown ones, and release with anything else. */
static const uint32_t bad_ctrl[] = {
	0x8, 0x80000001, MDMA_CTRL_RELEASE | MDMA_CTRL_START,
};

static int t_hostile_regs(struct fx *f)
{
	struct mdev m;
	uint8_t *src, *dst;
	long long pins = kernel_pins();
	int rc = mdev_open_two(&m, &src, &dst);
	size_t i;

	(void)f;
	if (rc)
		return rc;
	XFER_REFUSED(&m, bad_regs);
	CHECK_EQ(rd32(&m, MDMA_REG_DONE), 0);
	for (i = 0; i < sizeof(bad_ctrl) / sizeof(bad_ctrl[0]); i++)
		CHECK_ERR(wr32(&m, MDMA_REG_CTRL, bad_ctrl[i]), -EINVAL);
	/* Nothing was pinned, nothing copied, and the engine still works. */
	CHECK_EQ(kernel_pins(), pins);
	CHECK(all_bytes(dst, BUF_LEN, 0));
	XFER(&m, IOVA_SRC, IOVA_DST, 512, MDMA_CTRL_PIN, MDMA_STATUS_DONE, 0);
	CHECK(!memcmp(src, dst, 512));
	mdev_close(&m);
	CHECK_EQ(kernel_pins(), pins);
	return 0;
}

/*
 * IOVAs the backend refuses (type1: EINVAL where nothing is mapped or a
 * mapping ends, EPERM for a write into a read-only one, for rw and for
 * pins): its errno lands in the error register.
 */
static int t_hostile_iova(struct fx *f)
{
	struct mdev m;
	uint8_t *src, *dst;
	long long pins = kernel_pins();
	int rc = mdev_open_two(&m, &src, &dst);

	(void)f;
	if (rc)
		return rc;
	CHECK_OK(xfer_refused(&m, mdma_bad_iova, mdma_bad_iova_count));
	CHECK(all_bytes(dst, BUF_LEN, 0));
	CHECK_EQ(rd32(&m, MDMA_REG_PINNED), 0);
	CHECK_EQ(kernel_pins(), pins);
	mdev_close(&m);
	return 0;
}

/* A region access that must fail with EINVAL, at @base + @off. */
enum { AT_BAR, AT_CFG, AT_ABS };

static const struct bad_acc {
	int base;
	uint64_t off;
	unsigned int size;
	bool wr;
} bad_acc[] = {
	/* BAR0: past its end, unaligned, wider than a register, odd sizes. */
	{ AT_BAR, MDMA_BAR0_SIZE, 4, false },
	{ AT_BAR, MDMA_BAR0_SIZE - 4, 8, false },
	{ AT_BAR, MDMA_BAR0_SIZE, 4, true },
	{ AT_BAR, 2, 4, false },
	{ AT_BAR, 4, 8, false },
	{ AT_BAR, MDMA_REG_LEN, 8, true },
	{ AT_BAR, MDMA_REG_ID, 2, false },
	{ AT_BAR, 0, 3, false },
	{ AT_BAR, 0, 16, false },
	{ AT_BAR, 0, 0, false },
	/* Read-only registers and holes refuse writes. */
	{ AT_BAR, MDMA_REG_STATUS, 4, true },
	{ AT_BAR, MDMA_REG_PINNED, 4, true },
	{ AT_BAR, 0x80, 4, true },
	/* Config space: 256 bytes, no 8-byte access. */
	{ AT_CFG, MDMA_CONFIG_SIZE, 1, false },
	{ AT_CFG, MDMA_CONFIG_SIZE - 2, 4, false },
	{ AT_CFG, 0, 8, false },
	{ AT_CFG, 1, 2, false },
	/* Other regions, and offsets no region has. */
	{ AT_BAR, 1ULL << 40, 4, false },
	{ AT_CFG, 1ULL << 40, 4, false },
	{ AT_ABS, 0x7fffffffffffff00ULL, 4, false },
};

/* Region accesses outside what the device has: EINVAL, nothing done. */
static int t_hostile_region(struct fx *f)
{
	struct mdev m;
	uint64_t v = 0;
	/* What a write would write: a status of DONE, zeroes elsewhere. */
	uint32_t big[4] = { MDMA_STATUS_DONE };
	size_t i;
	int rc = mdev_open(&m);

	(void)f;
	if (rc)
		return rc;
	for (i = 0; i < sizeof(bad_acc) / sizeof(bad_acc[0]); i++) {
		const struct bad_acc *b = &bad_acc[i];
		uint64_t at = b->base == AT_BAR ? m.bar :
			      b->base == AT_CFG ? m.cfg : 0;

		rc = acc(&m, at + b->off, big, b->size, b->wr);
		if (rc != -EINVAL)
			diag("case %zu: %s of %u at 0x%llx: %d", i,
			     b->wr ? "write" : "read", b->size,
			     (unsigned long long)b->off, rc);
		CHECK_ERR(rc, -EINVAL);
	}
	CHECK_EQ(rd32(&m, MDMA_REG_STATUS), MDMA_STATUS_IDLE);
	/* Writes to the vendor id are ignored, as by hardware. */
	v = 0xabcd;
	CHECK_OK(acc(&m, m.cfg, &v, 2, true));
	v = 0;
	CHECK_OK(acc(&m, m.cfg, &v, 2, false));
	CHECK_EQ(v, MDMA_VENDOR_ID);
	mdev_close(&m);
	return 0;
}

struct busy_arg {
	struct mdev *m;
	int rounds, bad;
	volatile int stop;
};

static void *busy_worker(void *p)
{
	struct busy_arg *a = p;
	int i;

	for (i = 0; i < a->rounds; i++) {
		if (wr32(a->m, MDMA_REG_CTRL, MDMA_CTRL_START) ||
		    rd32(a->m, MDMA_REG_STATUS) != MDMA_STATUS_DONE ||
		    rd32(a->m, MDMA_REG_DONE) != MDMA_MAX_LEN)
			a->bad++;
	}
	a->stop = 1;
	return NULL;
}

/*
 * Writes while a transfer runs are refused with EBUSY and do not disturb
 * it; registers stay readable. The writer rewrites the value already
 * there, so a write let through would not be seen in the bytes: what is
 * checked is that the driver says EBUSY (seen at least once in 50
 * transfers of 1 MiB, each many syscalls long) and nothing else.
 */
static int t_busy(struct fx *f)
{
	struct mdev m;
	struct busy_arg a = { .m = &m, .rounds = 50 };
	uint8_t *src = pages(MDMA_MAX_LEN), *dst = pages(MDMA_MAX_LEN);
	pthread_t th;
	int busy = 0, other = 0, seen_busy = 0;
	int rc = mdev_open(&m);

	(void)f;
	if (rc)
		return rc;
	CHECK(src && dst);
	fill(src, MDMA_MAX_LEN, 0x42);
	CHECK_OK(dmap(m.container, IOVA_SRC, src, MDMA_MAX_LEN, RD));
	CHECK_OK(dmap(m.container, 0x1000000, dst, MDMA_MAX_LEN, RDWR));
	CHECK_OK(wr64(&m, MDMA_REG_SRC, IOVA_SRC));
	CHECK_OK(wr64(&m, MDMA_REG_DST, 0x1000000));
	CHECK_OK(wr32(&m, MDMA_REG_LEN, MDMA_MAX_LEN));
	CHECK(pthread_create(&th, NULL, busy_worker, &a) == 0);
	while (!a.stop) {
		int r = wr32(&m, MDMA_REG_LEN, MDMA_MAX_LEN);

		if (r == -EBUSY)
			busy++;
		else if (r)
			other++;
		seen_busy += rd32(&m, MDMA_REG_STATUS) == MDMA_STATUS_BUSY;
	}
	pthread_join(th, NULL);
	diag("writes refused busy: %d, status read busy: %d", busy, seen_busy);
	CHECK_EQ(a.bad, 0);
	CHECK_EQ(other, 0);
	CHECK(busy > 0);
	CHECK(!memcmp(src, dst, MDMA_MAX_LEN));
	mdev_close(&m);
	return 0;
}

static int t_remove(struct fx *f)
{
	long avail = sysfs_long(MDMA_TYPE_DIR "/available_instances");

	(void)f;
	if (mdev_remove())
		return 1;
	CHECK_EQ(sysfs_long(MDMA_TYPE_DIR "/available_instances"), avail + 1);
	return 0;
}

static const struct test tests[] = {
	{ "create", t_create, NULL },
	{ "info", t_info, NULL },
	{ "dma_rw", t_dma_rw, NULL },
	{ "pin_unmap", t_pin_unmap, NULL },
	{ "pin_close", t_pin_close, NULL },
	{ "hostile_regs", t_hostile_regs, NULL },
	{ "hostile_iova", t_hostile_iova, NULL },
	{ "hostile_region", t_hostile_region, NULL },
	{ "busy", t_busy, NULL },
	{ "remove", t_remove, NULL },
};

int main(int argc, char **argv)
{
	mdev_rig_init(MDEV_UUID);
	return mdev_main("mdev", tests, sizeof(tests) / sizeof(tests[0]),
			 argc, argv);
}
