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
#include <sys/stat.h>

#include "edu.h"
#include "mdma_regs.h"

#define MDEV_UUID	"6d646d61-0000-4000-8000-00000000000e"
#define TYPE_DIR	"/sys/class/mdev_bus/ioasid_mdma/mdev_supported_types/ioasid_mdma-dma"
#define MDEV_DIR	"/sys/bus/mdev/devices/" MDEV_UUID

#define BUF_LEN		SZ_64K

struct mdev {
	int container, group, dev;
	uint64_t bar, cfg;	/* where the regions start in the device file */
};

static const char *iommu_mode(void)
{
	const char *m = getenv("VFIO_TEST_IOMMU");

	return m ? m : "type1";
}

/* Write @s to sysfs file @path: 0 or -errno. */
static int sysfs_write(const char *path, const char *s)
{
	int fd = open(path, O_WRONLY), rc = 0;

	if (fd < 0)
		return -errno;
	if (write(fd, s, strlen(s)) != (ssize_t)strlen(s))
		rc = -errno;
	close(fd);
	return rc;
}

static long sysfs_long(const char *path)
{
	char buf[64] = "";
	FILE *f = fopen(path, "r");

	if (!f)
		return -1;
	if (!fgets(buf, sizeof(buf), f))
		buf[0] = '\0';
	fclose(f);
	return buf[0] ? strtol(buf, NULL, 10) : -1;
}

static bool exists(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0;
}

static int mdev_group(void)
{
	char link[300];
	ssize_t n = readlink(MDEV_DIR "/iommu_group", link, sizeof(link) - 1);
	const char *slash;

	if (n < 0)
		return -1;
	link[n] = '\0';
	slash = strrchr(link, '/');
	return slash ? atoi(slash + 1) : -1;
}

static void mdev_close(struct mdev *m)
{
	if (m->dev >= 0)
		close(m->dev);
	if (m->group >= 0)
		close(m->group);
	if (m->container >= 0)
		close(m->container);
	m->dev = m->group = m->container = -1;
}

/* The mdev in a new type1v2 container; its region offsets in @m. */
static int mdev_open(struct mdev *m)
{
	struct vfio_region_info ri = { .argsz = sizeof(ri) };
	char path[64];
	int g = mdev_group();

	m->container = m->group = m->dev = -1;
	if (g < 0)
		diag("no iommu_group for %s", MDEV_DIR);
	CHECK(g >= 0);
	m->container = open("/dev/vfio/vfio", O_RDWR);
	CHECK(m->container >= 0);
	snprintf(path, sizeof(path), "/dev/vfio/%d", g);
	m->group = open(path, O_RDWR);
	CHECK(m->group >= 0);
	CHECK(ioctl(m->group, VFIO_GROUP_SET_CONTAINER, &m->container) == 0);
	if (ioctl(m->container, VFIO_SET_IOMMU, VFIO_TYPE1v2_IOMMU)) {
		diag("VFIO_SET_IOMMU(type1v2) on %s: %s", iommu_mode(),
		     strerror(errno));
		return 1;
	}
	m->dev = ioctl(m->group, VFIO_GROUP_GET_DEVICE_FD, MDEV_UUID);
	if (m->dev < 0)
		diag("VFIO_GROUP_GET_DEVICE_FD: %s", strerror(errno));
	CHECK(m->dev >= 0);
	ri.index = VFIO_PCI_BAR0_REGION_INDEX;
	CHECK(ioctl(m->dev, VFIO_DEVICE_GET_REGION_INFO, &ri) == 0);
	CHECK_EQ(ri.size, MDMA_BAR0_SIZE);
	m->bar = ri.offset;
	ri.index = VFIO_PCI_CONFIG_REGION_INDEX;
	CHECK(ioctl(m->dev, VFIO_DEVICE_GET_REGION_INFO, &ri) == 0);
	CHECK_EQ(ri.size, MDMA_CONFIG_SIZE);
	m->cfg = ri.offset;
	return 0;
}

/* One access of @size bytes at @off of the device file: 0 or -errno. */
static int acc(struct mdev *m, uint64_t off, void *v, size_t size, bool wr)
{
	ssize_t n = wr ? pwrite(m->dev, v, size, (off_t)off) :
			 pread(m->dev, v, size, (off_t)off);

	if (n < 0)
		return -errno;
	return n == (ssize_t)size ? 0 : -EIO;
}

static uint32_t rd32(struct mdev *m, unsigned int reg)
{
	uint32_t v = 0xdeadbeef;

	if (acc(m, m->bar + reg, &v, 4, false))
		diag("read of register 0x%x failed: %s", reg, strerror(errno));
	return v;
}

static int wr32(struct mdev *m, unsigned int reg, uint32_t v)
{
	return acc(m, m->bar + reg, &v, 4, true);
}

static int wr64(struct mdev *m, unsigned int reg, uint64_t v)
{
	return acc(m, m->bar + reg, &v, 8, true);
}

/* Program a transfer and start it; 0 or the -errno of a refused write. */
static int xfer(struct mdev *m, uint64_t src, uint64_t dst, uint32_t len,
		uint32_t ctrl)
{
	int rc = wr64(m, MDMA_REG_SRC, src);

	if (!rc)
		rc = wr64(m, MDMA_REG_DST, dst);
	if (!rc)
		rc = wr32(m, MDMA_REG_LEN, len);
	if (!rc)
		rc = wr32(m, MDMA_REG_CTRL, MDMA_CTRL_START | ctrl);
	return rc;
}

/* A transfer that must end with @status and error @err. */
#define XFER(m, src, dst, len, ctrl, status, err) do { \
	CHECK_OK(xfer(m, src, dst, len, ctrl)); \
	CHECK_EQ(rd32(m, MDMA_REG_STATUS), status); \
	CHECK_EQ(rd32(m, MDMA_REG_ERROR), err); \
} while (0)

static int dmap(struct mdev *m, uint64_t iova, void *va, uint64_t len,
		uint32_t flags)
{
	struct vfio_iommu_type1_dma_map d = {
		.argsz = sizeof(d), .flags = flags, .vaddr = (uintptr_t)va,
		.iova = iova, .size = len,
	};

	return ioctl(m->container, VFIO_IOMMU_MAP_DMA, &d) ? -errno : 0;
}

static int dunmap(struct mdev *m, uint64_t iova, uint64_t len, uint32_t flags,
		  uint64_t *unmapped)
{
	struct vfio_iommu_type1_dma_unmap u = {
		.argsz = sizeof(u), .flags = flags, .iova = iova, .size = len,
	};

	if (ioctl(m->container, VFIO_IOMMU_UNMAP_DMA, &u))
		return -errno;
	if (unmapped)
		*unmapped = u.size;
	return 0;
}

#define RD	VFIO_DMA_MAP_FLAG_READ
#define RDWR	(VFIO_DMA_MAP_FLAG_READ | VFIO_DMA_MAP_FLAG_WRITE)

/* Source (read-only) and destination buffers mapped at IOVA_SRC/_DST. */
static int map_two(struct mdev *m, uint8_t **src, uint8_t **dst)
{
	*src = pages(BUF_LEN);
	*dst = pages(BUF_LEN);
	CHECK(*src && *dst);
	fill(*src, BUF_LEN, 0x3c);
	memset(*dst, 0, BUF_LEN);
	CHECK_OK(dmap(m, IOVA_SRC, *src, BUF_LEN, RD));
	CHECK_OK(dmap(m, IOVA_DST, *dst, BUF_LEN, RDWR));
	return 0;
}

static int t_create(struct fx *f)
{
	long avail = sysfs_long(TYPE_DIR "/available_instances");
	char api[32] = "";
	FILE *fp;

	(void)f;
	diag("iommu %s", iommu_mode());
	CHECK(avail > 0);
	CHECK_OK(sysfs_write(TYPE_DIR "/create", MDEV_UUID));
	CHECK(exists(MDEV_DIR));
	CHECK_EQ(sysfs_long(TYPE_DIR "/available_instances"), avail - 1);
	/* The same UUID twice is refused. */
	CHECK_ERR(sysfs_write(TYPE_DIR "/create", MDEV_UUID), -EEXIST);
	CHECK(mdev_group() >= 0);
	fp = fopen(TYPE_DIR "/device_api", "r");
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
	int rc = mdev_open(&m);

	(void)f;
	if (rc)
		return rc;
	if (map_two(&m, &src, &dst))
		return 1;
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
	CHECK_OK(dmap(&m, 0x1000000, big_src, MDMA_MAX_LEN, RD));
	CHECK_OK(dmap(&m, 0x2000000, big_dst, MDMA_MAX_LEN, RDWR));
	XFER(&m, 0x1000000, 0x2000000, MDMA_MAX_LEN, 0, MDMA_STATUS_DONE, 0);
	CHECK(!memcmp(big_src, big_dst, MDMA_MAX_LEN));
	/* No dma_unmap without pins. */
	CHECK_OK(dunmap(&m, 0, 0, VFIO_DMA_UNMAP_FLAG_ALL, NULL));
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
	int rc = mdev_open(&m);

	(void)f;
	if (rc)
		return rc;
	CHECK(pins >= 0);
	if (map_two(&m, &src, &dst))
		return 1;
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
	CHECK_OK(dunmap(&m, IOVA_SRC, BUF_LEN, 0, &unmapped));
	CHECK_EQ(unmapped, BUF_LEN);
	CHECK_EQ(rd32(&m, MDMA_REG_UNMAPS), 1);
	CHECK_EQ(rd32(&m, MDMA_REG_UNMAP_PAGES), 4);
	CHECK_EQ(rd32(&m, MDMA_REG_PINNED), 3);
	CHECK_EQ(kernel_pins() - pins, 3);
	/* And the destination, through UNMAP_ALL. */
	CHECK_OK(dunmap(&m, 0, 0, VFIO_DMA_UNMAP_FLAG_ALL, &unmapped));
	CHECK_EQ(unmapped, BUF_LEN);
	CHECK_EQ(rd32(&m, MDMA_REG_UNMAPS), 2);
	CHECK_EQ(rd32(&m, MDMA_REG_UNMAP_PAGES), 7);
	CHECK_EQ(rd32(&m, MDMA_REG_PINNED), 0);
	CHECK_EQ(kernel_pins(), pins);
	/* Pins released by the driver: a later unmap calls nobody. */
	CHECK_OK(dmap(&m, IOVA_SRC, src, BUF_LEN, RD));
	CHECK_OK(dmap(&m, IOVA_DST, dst, BUF_LEN, RDWR));
	XFER(&m, IOVA_SRC, IOVA_DST, 4096, MDMA_CTRL_PIN, MDMA_STATUS_DONE, 0);
	CHECK_EQ(kernel_pins() - pins, 2);
	CHECK_OK(wr32(&m, MDMA_REG_CTRL, MDMA_CTRL_RELEASE));
	CHECK_EQ(rd32(&m, MDMA_REG_PINNED), 0);
	CHECK_EQ(kernel_pins(), pins);
	CHECK_OK(dunmap(&m, 0, 0, VFIO_DMA_UNMAP_FLAG_ALL, NULL));
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
	int rc = mdev_open(&m);

	(void)f;
	if (rc)
		return rc;
	if (map_two(&m, &src, &dst))
		return 1;
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
static int t_hostile_regs(struct fx *f)
{
	struct mdev m;
	uint8_t *src, *dst;
	long long pins = kernel_pins();
	int rc = mdev_open(&m);

	(void)f;
	if (rc)
		return rc;
	if (map_two(&m, &src, &dst))
		return 1;
	XFER(&m, IOVA_SRC, IOVA_DST, 0, 0, MDMA_STATUS_ERROR, EINVAL);
	XFER(&m, IOVA_SRC, IOVA_DST, MDMA_MAX_LEN + 1, 0, MDMA_STATUS_ERROR,
	     E2BIG);
	XFER(&m, IOVA_SRC, IOVA_DST, 0xffffffff, MDMA_CTRL_PIN,
	     MDMA_STATUS_ERROR, E2BIG);
	/* 1 MiB is allowed, but not as 512 pins. */
	XFER(&m, IOVA_SRC, IOVA_DST, MDMA_MAX_LEN, MDMA_CTRL_PIN,
	     MDMA_STATUS_ERROR, E2BIG);
	XFER(&m, ~0ULL - 15, IOVA_DST, 4096, 0, MDMA_STATUS_ERROR, EOVERFLOW);
	XFER(&m, IOVA_SRC, ~0ULL - 4094, 4096, MDMA_CTRL_PIN,
	     MDMA_STATUS_ERROR, EOVERFLOW);
	/* The last byte of the IOVA space is addressable, and unmapped. */
	XFER(&m, ~0ULL, IOVA_DST, 1, 0, MDMA_STATUS_ERROR, EINVAL);
	CHECK_EQ(rd32(&m, MDMA_REG_DONE), 0);
	/* Control bits: unknown ones, and release with anything else. */
	CHECK_ERR(wr32(&m, MDMA_REG_CTRL, 0x8), -EINVAL);
	CHECK_ERR(wr32(&m, MDMA_REG_CTRL, 0x80000001), -EINVAL);
	CHECK_ERR(wr32(&m, MDMA_REG_CTRL, MDMA_CTRL_RELEASE | MDMA_CTRL_START),
		  -EINVAL);
	/* Nothing was pinned, nothing copied, and the engine still works. */
	CHECK_EQ(kernel_pins(), pins);
	CHECK(all_bytes(dst, BUF_LEN, 0));
	XFER(&m, IOVA_SRC, IOVA_DST, 512, MDMA_CTRL_PIN, MDMA_STATUS_DONE, 0);
	CHECK(!memcmp(src, dst, 512));
	mdev_close(&m);
	CHECK_EQ(kernel_pins(), pins);
	return 0;
}

/* IOVAs the backend refuses: its errno lands in the error register. */
static int t_hostile_iova(struct fx *f)
{
	struct mdev m;
	uint8_t *src, *dst;
	long long pins = kernel_pins();
	int rc = mdev_open(&m);

	(void)f;
	if (rc)
		return rc;
	if (map_two(&m, &src, &dst))
		return 1;
	/* Nothing mapped there (type1: EINVAL, for rw and for pins). */
	XFER(&m, 0x800000, IOVA_DST, 4096, 0, MDMA_STATUS_ERROR, EINVAL);
	XFER(&m, IOVA_SRC, 0x800000, 4096, 0, MDMA_STATUS_ERROR, EINVAL);
	XFER(&m, 0x800000, IOVA_DST, 4096, MDMA_CTRL_PIN, MDMA_STATUS_ERROR,
	     EINVAL);
	XFER(&m, IOVA_SRC, 0x800000, 4096, MDMA_CTRL_PIN, MDMA_STATUS_ERROR,
	     EINVAL);
	/* Running off the end of a mapping. */
	XFER(&m, IOVA_SRC + BUF_LEN - 100, IOVA_DST, 200, 0, MDMA_STATUS_ERROR,
	     EINVAL);
	XFER(&m, IOVA_SRC, IOVA_DST + BUF_LEN - 4096, 8192, MDMA_CTRL_PIN,
	     MDMA_STATUS_ERROR, EINVAL);
	CHECK_EQ(kernel_pins(), pins);
	/* Writing into a read-only mapping (type1: EPERM). */
	XFER(&m, IOVA_DST, IOVA_SRC, 4096, 0, MDMA_STATUS_ERROR, EPERM);
	XFER(&m, IOVA_DST, IOVA_SRC, 4096, MDMA_CTRL_PIN, MDMA_STATUS_ERROR,
	     EPERM);
	CHECK(all_bytes(dst, BUF_LEN, 0));
	CHECK_EQ(rd32(&m, MDMA_REG_PINNED), 0);
	CHECK_EQ(kernel_pins(), pins);
	mdev_close(&m);
	return 0;
}

/* Region accesses outside what the device has: EINVAL, nothing done. */
static int t_hostile_region(struct fx *f)
{
	struct mdev m;
	uint64_t v = 0;
	uint8_t big[16] = { 0 };
	int rc = mdev_open(&m);

	(void)f;
	if (rc)
		return rc;
	CHECK_ERR(acc(&m, m.bar + MDMA_BAR0_SIZE, &v, 4, false), -EINVAL);
	CHECK_ERR(acc(&m, m.bar + MDMA_BAR0_SIZE - 4, &v, 8, false), -EINVAL);
	CHECK_ERR(acc(&m, m.bar + MDMA_BAR0_SIZE, &v, 4, true), -EINVAL);
	CHECK_ERR(acc(&m, m.bar + 2, &v, 4, false), -EINVAL);
	CHECK_ERR(acc(&m, m.bar + 4, &v, 8, false), -EINVAL);
	CHECK_ERR(acc(&m, m.bar + MDMA_REG_LEN, &v, 8, true), -EINVAL);
	CHECK_ERR(acc(&m, m.bar + MDMA_REG_ID, &v, 2, false), -EINVAL);
	CHECK_ERR(acc(&m, m.bar, &v, 3, false), -EINVAL);
	CHECK_ERR(acc(&m, m.bar, big, sizeof(big), false), -EINVAL);
	CHECK_ERR(acc(&m, m.bar, &v, 0, false), -EINVAL);
	/* Read-only registers and holes refuse writes. */
	CHECK_ERR(wr32(&m, MDMA_REG_STATUS, MDMA_STATUS_DONE), -EINVAL);
	CHECK_ERR(wr32(&m, MDMA_REG_PINNED, 0), -EINVAL);
	CHECK_ERR(wr32(&m, 0x80, 0), -EINVAL);
	CHECK_EQ(rd32(&m, MDMA_REG_STATUS), MDMA_STATUS_IDLE);
	/* Config space: 256 bytes, no 8-byte access. */
	CHECK_ERR(acc(&m, m.cfg + MDMA_CONFIG_SIZE, &v, 1, false), -EINVAL);
	CHECK_ERR(acc(&m, m.cfg + MDMA_CONFIG_SIZE - 2, &v, 4, false),
		  -EINVAL);
	CHECK_ERR(acc(&m, m.cfg, &v, 8, false), -EINVAL);
	CHECK_ERR(acc(&m, m.cfg + 1, &v, 2, false), -EINVAL);
	/* Other regions, and offsets no region has. */
	CHECK_ERR(acc(&m, m.bar + (1ULL << 40), &v, 4, false), -EINVAL);
	CHECK_ERR(acc(&m, m.cfg + (1ULL << 40), &v, 4, false), -EINVAL);
	CHECK_ERR(acc(&m, 0x7fffffffffffff00ULL, &v, 4, false), -EINVAL);
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
	CHECK_OK(dmap(&m, IOVA_SRC, src, MDMA_MAX_LEN, RD));
	CHECK_OK(dmap(&m, 0x1000000, dst, MDMA_MAX_LEN, RDWR));
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
	long avail = sysfs_long(TYPE_DIR "/available_instances");

	(void)f;
	CHECK_OK(sysfs_write(MDEV_DIR "/remove", "1"));
	CHECK(!exists(MDEV_DIR));
	CHECK_EQ(sysfs_long(TYPE_DIR "/available_instances"), avail + 1);
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
	if (!exists(TYPE_DIR)) {
		printf("TAP version 13\n1..0 # SKIP no %s (ioasid_mdma.ko not loaded)\n",
		       TYPE_DIR);
		return SKIP_RC;
	}
	return run_tests("mdev", tests, sizeof(tests) / sizeof(tests[0]),
			 argc, argv);
}
