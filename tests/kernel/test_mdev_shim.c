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
#include <sys/stat.h>
#include <sys/wait.h>

#include "edu.h"
#include "mdma_regs.h"

#define MDEV_UUID	"6d646d61-0000-4000-8000-00000000000f"
#define TYPE_DIR	"/sys/class/mdev_bus/ioasid_mdma/mdev_supported_types/ioasid_mdma-dma"
#define MDEV_DIR	"/sys/bus/mdev/devices/" MDEV_UUID
#define FAIL_NTH	"/sys/module/ioasid/parameters/fail_nth"

#define BUF_LEN		SZ_64K
#define BUF_PAGES	(BUF_LEN / SZ_4K)
#define NOBODY		65534

#define RD	VFIO_DMA_MAP_FLAG_READ
#define RDWR	(VFIO_DMA_MAP_FLAG_READ | VFIO_DMA_MAP_FLAG_WRITE)

struct mdev {
	int container, group, dev;
	uint64_t bar;		/* where BAR0 starts in the device file */
};

static bool on_shim(void)
{
	const char *m = getenv("VFIO_TEST_IOMMU");

	return m && !strcmp(m, "shim");
}

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

/* What each backend charges pins to: per user (VmPin) or per mm (VmLck). */
static long long charged_kb(void)
{
	return proc_status_kb(0, on_shim() ? "VmPin" : "VmLck");
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

/*
 * The mdev's group into @container (a new one if < 0, with SET_IOMMU
 * unless @no_iommu); the device is opened when the IOMMU is set.
 */
static int mdev_open_in(struct mdev *m, int container, bool no_iommu)
{
	struct vfio_region_info ri = { .argsz = sizeof(ri) };
	char path[64];
	int g = mdev_group();

	m->container = m->group = m->dev = -1;
	CHECK(g >= 0);
	if (container < 0) {
		m->container = open("/dev/vfio/vfio", O_RDWR);
		CHECK(m->container >= 0);
		container = m->container;
	}
	snprintf(path, sizeof(path), "/dev/vfio/%d", g);
	m->group = open(path, O_RDWR);
	CHECK(m->group >= 0);
	CHECK(ioctl(m->group, VFIO_GROUP_SET_CONTAINER, &container) == 0);
	if (no_iommu)
		return 0;
	if (m->container >= 0 &&
	    ioctl(m->container, VFIO_SET_IOMMU, VFIO_TYPE1v2_IOMMU)) {
		diag("VFIO_SET_IOMMU: %s", strerror(errno));
		return 1;
	}
	m->dev = ioctl(m->group, VFIO_GROUP_GET_DEVICE_FD, MDEV_UUID);
	if (m->dev < 0)
		diag("VFIO_GROUP_GET_DEVICE_FD: %s", strerror(errno));
	CHECK(m->dev >= 0);
	ri.index = VFIO_PCI_BAR0_REGION_INDEX;
	CHECK(ioctl(m->dev, VFIO_DEVICE_GET_REGION_INFO, &ri) == 0);
	m->bar = ri.offset;
	return 0;
}

static int acc(struct mdev *m, unsigned int reg, void *v, size_t size,
	       bool wr)
{
	off_t off = (off_t)(m->bar + reg);
	ssize_t n = wr ? pwrite(m->dev, v, size, off) :
			 pread(m->dev, v, size, off);

	if (n < 0)
		return -errno;
	return n == (ssize_t)size ? 0 : -EIO;
}

static uint32_t rd32(struct mdev *m, unsigned int reg)
{
	uint32_t v = 0xdeadbeef;

	acc(m, reg, &v, 4, false);
	return v;
}

static int wr32(struct mdev *m, unsigned int reg, uint32_t v)
{
	return acc(m, reg, &v, 4, true);
}

static int wr64(struct mdev *m, unsigned int reg, uint64_t v)
{
	return acc(m, reg, &v, 8, true);
}

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

#define XFER(m, src, dst, len, ctrl, status, err) do { \
	CHECK_OK(xfer(m, src, dst, len, ctrl)); \
	CHECK_EQ(rd32(m, MDMA_REG_STATUS), status); \
	CHECK_EQ(rd32(m, MDMA_REG_ERROR), err); \
} while (0)

static int dmap(int container, uint64_t iova, void *va, uint64_t len,
		uint32_t flags)
{
	struct vfio_iommu_type1_dma_map d = {
		.argsz = sizeof(d), .flags = flags, .vaddr = (uintptr_t)va,
		.iova = iova, .size = len,
	};

	return ioctl(container, VFIO_IOMMU_MAP_DMA, &d) ? -errno : 0;
}

static int dunmap(int container, uint64_t iova, uint64_t len, uint32_t flags)
{
	struct vfio_iommu_type1_dma_unmap u = {
		.argsz = sizeof(u), .flags = flags, .iova = iova, .size = len,
	};

	return ioctl(container, VFIO_IOMMU_UNMAP_DMA, &u) ? -errno : 0;
}

/* Source (read-only) and destination buffers mapped at IOVA_SRC/_DST. */
static int map_two(int container, uint8_t *src, uint8_t *dst)
{
	fill(src, BUF_LEN, 0x3c);
	memset(dst, 0, BUF_LEN);
	CHECK_OK(dmap(container, IOVA_SRC, src, BUF_LEN, RD));
	CHECK_OK(dmap(container, IOVA_DST, dst, BUF_LEN, RDWR));
	return 0;
}

static int t_create(struct fx *f)
{
	(void)f;
	diag("iommu %s", on_shim() ? "shim" : "type1");
	CHECK_OK(sysfs_write(TYPE_DIR "/create", MDEV_UUID));
	CHECK(exists(MDEV_DIR));
	CHECK(mdev_group() >= 0);
	return 0;
}

/* Bytes land, by vfio_dma_rw and by pins; the backend's errnos. */
static int t_bytes(struct fx *f)
{
	uint8_t *src = pages(BUF_LEN), *dst = pages(BUF_LEN);
	long long p0 = kernel_pins(), p1;
	struct mdev m;
	int rc;

	(void)f;
	CHECK(src && dst && p0 >= 0);
	rc = mdev_open_in(&m, -1, false);
	if (rc)
		return rc;
	if (map_two(m.container, src, dst))
		return 1;
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
	/* Unmapped IOVAs: EINVAL; past a mapping's end: EINVAL. */
	XFER(&m, 0x800000, IOVA_DST, 4096, 0, MDMA_STATUS_ERROR, EINVAL);
	XFER(&m, IOVA_SRC, 0x800000, 4096, MDMA_CTRL_PIN, MDMA_STATUS_ERROR,
	     EINVAL);
	XFER(&m, IOVA_SRC + BUF_LEN - 100, IOVA_DST, 200, 0, MDMA_STATUS_ERROR,
	     EINVAL);
	XFER(&m, IOVA_SRC, IOVA_DST + BUF_LEN - 4096, 8192, MDMA_CTRL_PIN,
	     MDMA_STATUS_ERROR, EINVAL);
	XFER(&m, ~0ULL, IOVA_DST, 1, 0, MDMA_STATUS_ERROR, EINVAL);
	/* Writing into a read-only mapping: EPERM, by either way. */
	memset(dst, 0, BUF_LEN);
	XFER(&m, IOVA_DST, IOVA_SRC, 4096, 0, MDMA_STATUS_ERROR, EPERM);
	XFER(&m, IOVA_DST, IOVA_SRC, 4096, MDMA_CTRL_PIN, MDMA_STATUS_ERROR,
	     EPERM);
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
	uint8_t *src = pages(BUF_LEN), *dst = pages(BUF_LEN);
	uint8_t *more = pages(BUF_LEN);
	long long p0 = kernel_pins(), kb0 = charged_kb();
	struct mdev m;
	int rc;

	(void)f;
	CHECK(src && dst && more && p0 >= 0 && kb0 >= 0);
	rc = mdev_open_in(&m, -1, false);
	if (rc)
		return rc;
	if (map_two(m.container, src, dst))
		return 1;
	CHECK_OK(dmap(m.container, 0x300000, more, BUF_LEN, RDWR));
	XFER(&m, IOVA_SRC + 0x800, IOVA_DST, 3 * 4096, MDMA_CTRL_PIN,
	     MDMA_STATUS_DONE, 0);
	CHECK(!memcmp(dst, src + 0x800, 3 * 4096));
	CHECK_EQ(rd32(&m, MDMA_REG_PINNED), 7);
	CHECK_EQ(kernel_pins() - p0, map_pins(3 * BUF_LEN) + dev_pins(7));
	/* One charge: the shim's at map, type1's at pin. */
	CHECK_EQ(charged_kb() - kb0, on_shim() ? 3 * BUF_LEN / 1024 : 7 * 4);
	/* Refused (cuts the pinned mapping): no callback, pins kept. */
	CHECK_ERR(dunmap(m.container, IOVA_SRC, 4096, 0), -EINVAL);
	CHECK_ERR(dunmap(m.container, IOVA_SRC + 4096, BUF_LEN - 4096, 0),
		  -EINVAL);
	CHECK_EQ(rd32(&m, MDMA_REG_UNMAPS), 0);
	CHECK_EQ(rd32(&m, MDMA_REG_PINNED), 7);
	/* A mapping without pins: unmapped, nobody called. */
	CHECK_OK(dunmap(m.container, 0x300000, BUF_LEN, 0));
	CHECK_EQ(rd32(&m, MDMA_REG_UNMAPS), 0);
	/* The source: one callback, its 4 pages unpinned first. */
	CHECK_OK(dunmap(m.container, IOVA_SRC, BUF_LEN, 0));
	CHECK_EQ(rd32(&m, MDMA_REG_UNMAPS), 1);
	CHECK_EQ(rd32(&m, MDMA_REG_UNMAP_PAGES), 4);
	CHECK_EQ(rd32(&m, MDMA_REG_PINNED), 3);
	CHECK_EQ(kernel_pins() - p0, map_pins(BUF_LEN) + dev_pins(3));
	/* The same IOVA again is unmapped: the source is gone. */
	XFER(&m, IOVA_SRC, IOVA_DST, 16, 0, MDMA_STATUS_ERROR, EINVAL);
	/* The destination through UNMAP_ALL. */
	CHECK_OK(dunmap(m.container, 0, 0, VFIO_DMA_UNMAP_FLAG_ALL));
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
			0));
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
	struct rlimit r = { .rlim_cur = 16 * SZ_4K, .rlim_max = 16 * SZ_4K };
	uint8_t *src = pages(8 * SZ_4K), *dst = pages(8 * SZ_4K);
	uint8_t *one = pages(SZ_4K);
	struct vfio_region_info ri = { .argsz = sizeof(ri) };
	int rc;

	if (!src || !dst || !one)
		return 10;
	if (setrlimit(RLIMIT_MEMLOCK, &r) || setgid(NOBODY) || setuid(NOBODY))
		return 11;
	if (ioctl(m->container, VFIO_SET_IOMMU, VFIO_TYPE1v2_IOMMU))
		return 12;
	m->dev = ioctl(m->group, VFIO_GROUP_GET_DEVICE_FD, MDEV_UUID);
	ri.index = VFIO_PCI_BAR0_REGION_INDEX;
	if (m->dev < 0 || ioctl(m->dev, VFIO_DEVICE_GET_REGION_INFO, &ri))
		return 13;
	m->bar = ri.offset;
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
	if (dunmap(m->container, 0, 0, VFIO_DMA_UNMAP_FLAG_ALL) ||
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
	CHECK_OK(dunmap(e.container, 0, 0, VFIO_DMA_UNMAP_FLAG_ALL));
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
	uint8_t *src = pages(BUF_LEN), *dst = pages(BUF_LEN);
	long long p0 = kernel_pins();
	struct race_arg a = { .m = NULL };
	int i, busy = 0, tries, rc;
	struct mdev m;
	pthread_t th;

	(void)f;
	if (!on_shim()) {
		skip_reason("type1 BUG()s when pins are retaken through 10 dma_unmap calls");
		return SKIP_RC;
	}
	CHECK(src && dst);
	rc = mdev_open_in(&m, -1, false);
	if (rc)
		return rc;
	a.m = &m;
	CHECK(pthread_create(&th, NULL, race_pinner, &a) == 0);
	for (i = 0; i < 300; i++) {
		if (map_two(m.container, src, dst))
			break;
		for (tries = 0; tries < 1000; tries++) {
			rc = dunmap(m.container, 0, 0, VFIO_DMA_UNMAP_FLAG_ALL);
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
	uint8_t *src = pages(BUF_LEN), *dst = pages(BUF_LEN);
	long long p0 = kernel_pins();
	unsigned int n, failed = 0;
	struct mdev m;
	int rc;

	(void)f;
	if (!on_shim()) {
		skip_reason("fault points are the shim's (fail_nth of ioasid.ko)");
		return SKIP_RC;
	}
	CHECK(src && dst);
	rc = mdev_open_in(&m, -1, false);
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
		CHECK_OK(dunmap(m.container, 0, 0, VFIO_DMA_UNMAP_FLAG_ALL));
		CHECK_EQ(rd32(&m, MDMA_REG_UNMAPS), 0);
		CHECK_EQ(kernel_pins(), p0);
	}
	diag("pinned transfer of 7 pages: %u fault points", failed);
	CHECK_EQ(failed, 7);
	CHECK(!memcmp(dst, src + 0x800, 3 * 4096));
	CHECK_OK(dunmap(m.container, 0, 0, VFIO_DMA_UNMAP_FLAG_ALL));
	CHECK_EQ(rd32(&m, MDMA_REG_UNMAPS), 2);
	mdev_close(&m);
	CHECK_EQ(kernel_pins(), p0);
	return 0;
}

static int t_remove(struct fx *f)
{
	(void)f;
	CHECK_OK(sysfs_write(MDEV_DIR "/remove", "1"));
	CHECK(!exists(MDEV_DIR));
	return 0;
}

static const struct test tests[] = {
	{ "create", t_create, NULL },
	{ "bytes", t_bytes, NULL },
	{ "pin_unmap", t_pin_unmap, NULL },
	{ "memlock_nobody", t_memlock_nobody, NULL },
	{ "edu_shared", t_edu_shared, NULL },
	{ "mdev_first", t_mdev_first, NULL },
	{ "ioasid_mode", t_ioasid_mode, NULL },
	{ "fault_walk", t_fault_walk, NULL },
	{ "race_unmap", t_race_unmap, NULL },
	{ "remove", t_remove, NULL },
};

int main(int argc, char **argv)
{
	if (!exists(TYPE_DIR)) {
		printf("TAP version 13\n1..0 # SKIP no %s (ioasid_mdma.ko not loaded)\n",
		       TYPE_DIR);
		return SKIP_RC;
	}
	find_edus();
	return run_tests(on_shim() ? "mdev_shim" : "mdev_type1", tests,
			 sizeof(tests) / sizeof(tests[0]), argc, argv);
}
