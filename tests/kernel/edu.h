/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/*
 * QEMU's edu device (PCI 1234:11e8) as a DMA engine behind the guest's
 * IOMMU: a 4 KiB buffer at device address 0x40000 and registers 0x80
 * source, 0x88 destination, 0x90 count, 0x98 command (bit 0 run, bit 1
 * direction: 1 = buffer to memory). Its DMA mask is 28 bits, so every
 * IOVA the tests use is below 256 MiB.
 */
#ifndef IOASID_TEST_EDU_H
#define IOASID_TEST_EDU_H

#include <linux/vfio.h>
#include <stdbool.h>
#include <stdint.h>

#include "harness.h"

#define EDU_BUF		0x40000u
/*
 * QEMU 7.2's edu refuses a transfer that reaches the last byte of its
 * buffer (its bounds check is off by one), so transfers stay below it.
 */
#define EDU_LEN		2048u
#define EDU_DMA_SRC	0x80
#define EDU_DMA_DST	0x88
#define EDU_DMA_CNT	0x90
#define EDU_DMA_CMD	0x98
#define EDU_RUN		0x1u
#define EDU_TO_RAM	0x2u

#define IOVA_SRC	0x100000ULL
#define IOVA_DST	0x200000ULL
#define IOVA_HUGE	0x400000ULL

struct edu {
	int container, group, dev;
	volatile uint8_t *bar;
	size_t bar_len;
	char bdf[300];
};

#define MAX_EDU 8

/* Edus bound to vfio-pci, by PCI address: alone in their group, or not. */
extern char solo_bdf[MAX_EDU][300], shared_bdf[MAX_EDU][300];
extern int solo_count, shared_count;

void find_edus(void);
/* The group number an iommu_group link at @path names, -1 if none. */
int group_at(const char *path);
int group_of(const char *bdf);
/* A new container of IOMMU @type with @bdf's group, and @bdf opened. */
int edu_open_bdf(struct edu *e, const char *bdf, unsigned long type);
/* The @idx-th solo edu (SKIP_RC with a reason if there is none). */
int edu_open(struct edu *e, int idx, unsigned long type);
/* Another device of @e's group, in @e (its container and group reused). */
int edu_dev_open(struct edu *e, const char *bdf);
void edu_close(struct edu *e);
/*
 * Close a VFIO device, its group and its container, those that are open
 * (>= 0), in that order; all three become -1.
 */
void vfio_close_fds(int *container, int *group, int *dev);
/* One DMA of @len bytes between the edu buffer and @iova; 0 when done. */
int edu_dma(struct edu *e, uint64_t iova, bool to_ram, uint32_t len);
/* VFIO type1 map and unmap on @e's container: 0 or -errno. */
int vmap(struct edu *e, uint64_t iova, void *va, uint64_t len, uint32_t flags);
int vunmap(struct edu *e, uint64_t iova, uint64_t len, uint32_t flags,
	   uint64_t *unmapped);
/*
 * VFIO_IOMMU_DIRTY_PAGES on @container, 0 or -errno: vdirty with @flags
 * (START, STOP, or anything else to see it refused); vdirty_get reads
 * the bitmap of [iova, iova + size) in pages of @pgsize into @bm, which
 * the call is told holds @bsize bytes, with @argsz (0: the full size).
 */
int vdirty(int container, uint32_t flags);
int vdirty_get(int container, uint64_t iova, uint64_t size, uint64_t pgsize,
	       void *bm, uint64_t bsize, uint32_t argsz);
/*
 * VFIO_IOMMU_UNMAP_DMA with VFIO_DMA_UNMAP_FLAG_GET_DIRTY_BITMAP and
 * @flags, the bitmap as for vdirty_get; the bytes unmapped in *unmapped.
 */
int vunmap_dirty(int container, uint64_t iova, uint64_t len, uint32_t flags,
		 uint64_t pgsize, void *bm, uint64_t bsize, uint32_t argsz,
		 uint64_t *unmapped);
void *pages(size_t len);
void fill(uint8_t *p, size_t len, uint8_t seed);
int all_bytes(const uint8_t *p, size_t len, uint8_t v);
/* An fd at the end of /dev/kmsg; then whether a DMAR fault was logged. */
int kmsg_mark(void);
bool fault_logged(int fd, uint64_t iova);
/* Whether a record since kmsg_mark() @fd contains @needle (it is logged). */
bool kmsg_has(int fd, const char *needle);

/* On an ioasid fd: 0 or -errno. io_map maps read and write. */
int io_alloc(int fd, uint32_t *id);
int io_attach(int fd, uint32_t dev, uint32_t as);
int io_map(int fd, uint32_t as, uint64_t iova, void *va, uint64_t len);
/* Bind @e's container to ioasid fd @fd; its one device's id in *dev. */
int io_bind(struct edu *e, int fd, uint32_t *dev);

#endif /* IOASID_TEST_EDU_H */
