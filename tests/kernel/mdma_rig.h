/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/*
 * The mdma mdev (kernel/mdma, ioasid_mdma.ko) as a VFIO program drives
 * it, shared by test_mdev and test_mdev_shim: the mdev made and removed
 * through sysfs, its group opened in a type1v2 container, its registers
 * read and written through the device file, transfers programmed and
 * checked, and the container's maps and unmaps. A program names its own
 * mdev (mdev_rig_init) so two programs never share one.
 */
#ifndef IOASID_TEST_MDMA_RIG_H
#define IOASID_TEST_MDMA_RIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "edu.h"
#include "mdma_regs.h"

#define MDMA_TYPE_DIR \
	"/sys/class/mdev_bus/ioasid_mdma/mdev_supported_types/ioasid_mdma-dma"

#define BUF_LEN		SZ_64K
#define BUF_PAGES	(BUF_LEN / SZ_4K)

#define RD	VFIO_DMA_MAP_FLAG_READ
#define RDWR	(VFIO_DMA_MAP_FLAG_READ | VFIO_DMA_MAP_FLAG_WRITE)

struct mdev {
	int container, group, dev;
	uint64_t bar, cfg;	/* where the regions start in the device file */
};

/* The mdev this program uses: @uuid; its sysfs directory after this. */
void mdev_rig_init(const char *uuid);
extern const char *mdev_uuid;
extern char mdev_dir[96];

/* VFIO_TEST_IOMMU: "type1" (the default) or "shim". */
const char *iommu_mode(void);
bool on_shim(void);

/* Write @s to sysfs file @path: 0 or -errno. */
int sysfs_write(const char *path, const char *s);
/* The number in sysfs file @path, -1 if none. */
long sysfs_long(const char *path);
bool exists(const char *path);
/* The mdev's IOMMU group number, -1 if it has none. */
int mdev_group(void);
/* Create the mdev (a CHECK-style 0 or 1), remove it. */
int mdev_create(void);
int mdev_remove(void);

/*
 * The mdev's group into @container (a new one if < 0, with SET_IOMMU
 * type1v2 unless @no_iommu); the device is opened when the IOMMU is set
 * (mdev_dev_open). 0, 1 on a failed check.
 */
int mdev_open_in(struct mdev *m, int container, bool no_iommu);
/* The mdev in a new type1v2 container. */
int mdev_open(struct mdev *m);
/* The device fd of an @m whose container has its IOMMU set; regions. */
int mdev_dev_open(struct mdev *m);
void mdev_close(struct mdev *m);
/* The mdev in a new type1v2 container, and two new BUF_LEN buffers. */
int mdev_open_bufs(struct mdev *m, uint8_t **src, uint8_t **dst);
/* The same, the buffers mapped by map_two. */
int mdev_open_two(struct mdev *m, uint8_t **src, uint8_t **dst);

/* One access of @size bytes at @off of the device file: 0 or -errno. */
int acc(struct mdev *m, uint64_t off, void *v, size_t size, bool wr);
uint32_t rd32(struct mdev *m, unsigned int reg);
int wr32(struct mdev *m, unsigned int reg, uint32_t v);
int wr64(struct mdev *m, unsigned int reg, uint64_t v);

/* Program a transfer and start it; 0 or the -errno of a refused write. */
int xfer(struct mdev *m, uint64_t src, uint64_t dst, uint32_t len,
	 uint32_t ctrl);

/* A transfer that must end with @status and error @err. */
#define XFER(m, src, dst, len, ctrl, status, err) do { \
	CHECK_OK(xfer(m, src, dst, len, ctrl)); \
	CHECK_EQ(rd32(m, MDMA_REG_STATUS), status); \
	CHECK_EQ(rd32(m, MDMA_REG_ERROR), err); \
} while (0)

/* A transfer the engine must refuse with @err. */
struct bad_xfer {
	uint64_t src, dst;
	uint32_t len, ctrl, err;
};

/* Each of @n transfers of @t ends in MDMA_STATUS_ERROR with its errno. */
int xfer_refused(struct mdev *m, const struct bad_xfer *t, size_t n);
#define XFER_REFUSED(m, t) \
	CHECK_OK(xfer_refused(m, t, sizeof(t) / sizeof((t)[0])))

/*
 * IOVAs the backend refuses when IOVA_SRC (read-only) and IOVA_DST
 * (read-write) are mapped BUF_LEN long: nothing mapped there, past a
 * mapping's end, and a write into the read-only one; by vfio_dma_rw and
 * by pins. Type1's errnos, the shim's reference.
 */
extern const struct bad_xfer mdma_bad_iova[];
extern const size_t mdma_bad_iova_count;

/* VFIO type1 map and unmap on @container: 0 or -errno. */
int dmap(int container, uint64_t iova, void *va, uint64_t len,
	 uint32_t flags);
int dunmap(int container, uint64_t iova, uint64_t len, uint32_t flags,
	   uint64_t *unmapped);
/* @src (filled, read-only) and @dst (zeroed) at IOVA_SRC and IOVA_DST. */
int map_two(int container, uint8_t *src, uint8_t *dst);

/* main()'s skip when ioasid_mdma.ko is not loaded; else run_tests. */
int mdev_main(const char *suite, const struct test *t, size_t n, int argc,
	      char **argv);

#endif /* IOASID_TEST_MDMA_RIG_H */
