// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/* The mdma mdev rig of the kernel tests (see mdma_rig.h). */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "mdma_rig.h"

const char *mdev_uuid;
char mdev_dir[96];

void mdev_rig_init(const char *uuid)
{
	mdev_uuid = uuid;
	snprintf(mdev_dir, sizeof(mdev_dir), "/sys/bus/mdev/devices/%s", uuid);
}

const char *iommu_mode(void)
{
	const char *m = getenv("VFIO_TEST_IOMMU");

	return m ? m : "type1";
}

bool on_shim(void)
{
	return !strcmp(iommu_mode(), "shim");
}

int sysfs_write(const char *path, const char *s)
{
	int fd = open(path, O_WRONLY), rc = 0;

	if (fd < 0)
		return -errno;
	if (write(fd, s, strlen(s)) != (ssize_t)strlen(s))
		rc = -errno;
	close(fd);
	return rc;
}

long sysfs_long(const char *path)
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

bool exists(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0;
}

int mdev_group(void)
{
	char path[128];

	snprintf(path, sizeof(path), "%s/iommu_group", mdev_dir);
	return group_at(path);
}

int mdev_create(void)
{
	CHECK_OK(sysfs_write(MDMA_TYPE_DIR "/create", mdev_uuid));
	CHECK(exists(mdev_dir));
	CHECK(mdev_group() >= 0);
	return 0;
}

int mdev_remove(void)
{
	char path[128];

	snprintf(path, sizeof(path), "%s/remove", mdev_dir);
	CHECK_OK(sysfs_write(path, "1"));
	CHECK(!exists(mdev_dir));
	return 0;
}

void mdev_close(struct mdev *m)
{
	vfio_close_fds(&m->container, &m->group, &m->dev);
}

int mdev_dev_open(struct mdev *m)
{
	struct vfio_region_info ri = { .argsz = sizeof(ri) };

	m->dev = ioctl(m->group, VFIO_GROUP_GET_DEVICE_FD, mdev_uuid);
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

int mdev_open_in(struct mdev *m, int container, bool no_iommu)
{
	char path[64];
	int g = mdev_group();

	m->container = m->group = m->dev = -1;
	if (g < 0)
		diag("no iommu_group for %s", mdev_dir);
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
		diag("VFIO_SET_IOMMU(type1v2) on %s: %s", iommu_mode(),
		     strerror(errno));
		return 1;
	}
	return mdev_dev_open(m);
}

int mdev_open(struct mdev *m)
{
	return mdev_open_in(m, -1, false);
}

int mdev_open_bufs(struct mdev *m, uint8_t **src, uint8_t **dst)
{
	m->container = m->group = m->dev = -1;
	*src = pages(BUF_LEN);
	*dst = pages(BUF_LEN);
	CHECK(*src && *dst);
	return mdev_open(m);
}

int mdev_open_two(struct mdev *m, uint8_t **src, uint8_t **dst)
{
	int rc = mdev_open_bufs(m, src, dst);

	return rc ? rc : map_two(m->container, *src, *dst);
}

int acc(struct mdev *m, uint64_t off, void *v, size_t size, bool wr)
{
	ssize_t n = wr ? pwrite(m->dev, v, size, (off_t)off) :
			 pread(m->dev, v, size, (off_t)off);

	if (n < 0)
		return -errno;
	return n == (ssize_t)size ? 0 : -EIO;
}

uint32_t rd32(struct mdev *m, unsigned int reg)
{
	uint32_t v = 0xdeadbeef;
	int rc = acc(m, m->bar + reg, &v, 4, false);

	if (rc)
		diag("read of register 0x%x failed: %s", reg, strerror(-rc));
	return v;
}

int wr32(struct mdev *m, unsigned int reg, uint32_t v)
{
	return acc(m, m->bar + reg, &v, 4, true);
}

int wr64(struct mdev *m, unsigned int reg, uint64_t v)
{
	return acc(m, m->bar + reg, &v, 8, true);
}

int xfer(struct mdev *m, uint64_t src, uint64_t dst, uint32_t len,
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

int xfer_refused(struct mdev *m, const struct bad_xfer *t, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		const struct bad_xfer *x = &t[i];
		int rc = xfer(m, x->src, x->dst, x->len, x->ctrl);
		uint32_t st = rd32(m, MDMA_REG_STATUS);
		uint32_t err = rd32(m, MDMA_REG_ERROR);

		if (rc || st != MDMA_STATUS_ERROR || err != x->err) {
			diag("case %zu (src 0x%llx dst 0x%llx len %u ctrl 0x%x): write %d, status %u error %u, expected error %u",
			     i, (unsigned long long)x->src,
			     (unsigned long long)x->dst, x->len, x->ctrl, rc,
			     st, err, x->err);
			return 1;
		}
	}
	return 0;
}

const struct bad_xfer mdma_bad_iova[] = {
	/* Nothing mapped there: by rw and by pins, as source and dest. */
	{ 0x800000, IOVA_DST, 4096, 0, EINVAL },
	{ IOVA_SRC, 0x800000, 4096, 0, EINVAL },
	{ 0x800000, IOVA_DST, 4096, MDMA_CTRL_PIN, EINVAL },
	{ IOVA_SRC, 0x800000, 4096, MDMA_CTRL_PIN, EINVAL },
	/* Running off the end of a mapping. */
	{ IOVA_SRC + BUF_LEN - 100, IOVA_DST, 200, 0, EINVAL },
	{ IOVA_SRC, IOVA_DST + BUF_LEN - 4096, 8192, MDMA_CTRL_PIN, EINVAL },
	/* The last byte of the IOVA space: addressable, and unmapped. */
	{ ~0ULL, IOVA_DST, 1, 0, EINVAL },
	/* Writing into a read-only mapping. */
	{ IOVA_DST, IOVA_SRC, 4096, 0, EPERM },
	{ IOVA_DST, IOVA_SRC, 4096, MDMA_CTRL_PIN, EPERM },
};
const size_t mdma_bad_iova_count = sizeof(mdma_bad_iova) /
				   sizeof(mdma_bad_iova[0]);

int dmap(int container, uint64_t iova, void *va, uint64_t len,
	 uint32_t flags)
{
	struct vfio_iommu_type1_dma_map d = {
		.argsz = sizeof(d), .flags = flags, .vaddr = (uintptr_t)va,
		.iova = iova, .size = len,
	};

	return ioctl(container, VFIO_IOMMU_MAP_DMA, &d) ? -errno : 0;
}

int dunmap(int container, uint64_t iova, uint64_t len, uint32_t flags,
	   uint64_t *unmapped)
{
	struct vfio_iommu_type1_dma_unmap u = {
		.argsz = sizeof(u), .flags = flags, .iova = iova, .size = len,
	};

	if (ioctl(container, VFIO_IOMMU_UNMAP_DMA, &u))
		return -errno;
	if (unmapped)
		*unmapped = u.size;
	return 0;
}

int map_two(int container, uint8_t *src, uint8_t *dst)
{
	fill(src, BUF_LEN, 0x3c);
	memset(dst, 0, BUF_LEN);
	CHECK_OK(dmap(container, IOVA_SRC, src, BUF_LEN, RD));
	CHECK_OK(dmap(container, IOVA_DST, dst, BUF_LEN, RDWR));
	return 0;
}

int mdev_main(const char *suite, const struct test *t, size_t n, int argc,
	      char **argv)
{
	if (!exists(MDMA_TYPE_DIR)) {
		printf("TAP version 13\n1..0 # SKIP no %s (ioasid_mdma.ko not loaded)\n",
		       MDMA_TYPE_DIR);
		return SKIP_RC;
	}
	return run_tests(suite, t, n, argc, argv);
}
