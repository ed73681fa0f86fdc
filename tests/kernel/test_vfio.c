// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/*
 * VFIO through the ioasid shim, proven with real DMA: QEMU's edu device
 * (PCI 1234:11e8) bound to vfio-pci, behind the guest's emulated Intel
 * IOMMU. Runs in the kernel suite's VM, as root.
 *
 * The type1_* tests are an ordinary VFIO type1v2 program: no ioasid call
 * at all. The suite runs them twice, with VFIO_TEST_IOMMU=shim (ioasid.ko
 * serves VFIO_TYPE1v2_IOMMU) and with VFIO_TEST_IOMMU=type1 (the stock
 * vfio_iommu_type1 does), with the same expectations: what passes on the
 * stock driver and fails on the shim is an incompatibility.
 *
 * The fd_* tests bind containers to an ioasid fd (IOASID_VFIO_BIND) and
 * attach devices to ioasids with the ioasid uAPI.
 *
 * The edu helpers are in edu.c.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <inttypes.h>
#include <stddef.h>
#include <fcntl.h>
#include <linux/vfio.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>

#include <linux/ioasid.h>

#include "edu.h"

static const char *iommu_mode(void)
{
	const char *m = getenv("VFIO_TEST_IOMMU");

	return m ? m : "shim";
}

static unsigned long type1_type(void)
{
	return VFIO_TYPE1v2_IOMMU;
}

/* Map a source and a destination, DMA through the device, compare. */
static int t_type1_dma_roundtrip(struct fx *f)
{
	struct edu e;
	uint8_t *src = pages(SZ_4K), *dst = pages(SZ_4K);
	int rc = edu_open(&e, 0, type1_type());

	(void)f;
	if (rc)
		return rc;
	CHECK(src && dst);
	fill(src, SZ_4K, 0x11);
	memset(dst, 0, SZ_4K);
	CHECK_ERR(vmap(&e, IOVA_SRC, src, SZ_4K, VFIO_DMA_MAP_FLAG_READ), 0);
	CHECK_ERR(vmap(&e, IOVA_DST, dst, SZ_4K,
		       VFIO_DMA_MAP_FLAG_READ | VFIO_DMA_MAP_FLAG_WRITE), 0);
	CHECK(edu_dma(&e, IOVA_SRC, false, EDU_LEN) == 0);
	CHECK(edu_dma(&e, IOVA_DST, true, EDU_LEN) == 0);
	CHECK(memcmp(src, dst, EDU_LEN) == 0);
	/* A second round with other bytes: not a leftover of the first. */
	fill(src, SZ_4K, 0x5a);
	CHECK(edu_dma(&e, IOVA_SRC, false, 512) == 0);
	CHECK(edu_dma(&e, IOVA_DST + 1024, true, 512) == 0);
	CHECK(memcmp(src, dst + 1024, 512) == 0);
	edu_close(&e);
	return 0;
}

/* After unmap the device faults and the buffer stays as it was. */
static int t_type1_unmap_faults(struct fx *f)
{
	struct edu e;
	uint8_t *src = pages(SZ_4K), *dst = pages(SZ_4K);
	uint64_t unmapped = 0;
	int kmsg, rc = edu_open(&e, 0, type1_type());

	(void)f;
	if (rc)
		return rc;
	CHECK(src && dst);
	fill(src, SZ_4K, 0x23);
	memset(dst, 0xee, SZ_4K);
	CHECK_ERR(vmap(&e, IOVA_SRC, src, SZ_4K, VFIO_DMA_MAP_FLAG_READ), 0);
	CHECK_ERR(vmap(&e, IOVA_DST, dst, SZ_4K, VFIO_DMA_MAP_FLAG_WRITE), 0);
	CHECK(edu_dma(&e, IOVA_SRC, false, EDU_LEN) == 0);
	CHECK_ERR(vunmap(&e, IOVA_DST, SZ_4K, 0, &unmapped), 0);
	CHECK(unmapped == SZ_4K);
	kmsg = kmsg_mark();
	CHECK(kmsg >= 0);
	CHECK(edu_dma(&e, IOVA_DST, true, EDU_LEN) == 0);
	CHECK(all_bytes(dst, SZ_4K, 0xee));
	/* The IOMMU reports the blocked write. */
	CHECK(fault_logged(kmsg, IOVA_DST));
	close(kmsg);
	/* A read-only mapping refuses the device's writes too. */
	CHECK_ERR(vmap(&e, IOVA_DST, dst, SZ_4K, VFIO_DMA_MAP_FLAG_READ), 0);
	CHECK(edu_dma(&e, IOVA_DST, true, EDU_LEN) == 0);
	CHECK(all_bytes(dst, SZ_4K, 0xee));
	edu_close(&e);
	return 0;
}

/* type1v2 rules and errnos, compared with the stock driver by the suite. */
static int t_type1_rules(struct fx *f)
{
	struct edu e;
	uint8_t *buf = pages(4 * SZ_4K);
	uint64_t unmapped = 0;
	int rc = edu_open(&e, 0, type1_type());
	const uint32_t rw = VFIO_DMA_MAP_FLAG_READ | VFIO_DMA_MAP_FLAG_WRITE;

	(void)f;
	if (rc)
		return rc;
	CHECK(buf);
	CHECK(ioctl(e.container, VFIO_CHECK_EXTENSION, VFIO_TYPE1v2_IOMMU) == 1);
	CHECK(ioctl(e.container, VFIO_CHECK_EXTENSION, VFIO_UNMAP_ALL) == 1);
	CHECK_ERR(vmap(&e, IOVA_SRC, buf, 2 * SZ_4K, rw), 0);
	CHECK_ERR(vmap(&e, IOVA_SRC + SZ_4K, buf, SZ_4K, rw), -EEXIST);
	CHECK_ERR(vmap(&e, IOVA_SRC + 2 * SZ_4K + 1, buf, SZ_4K, rw), -EINVAL);
	CHECK_ERR(vmap(&e, IOVA_SRC + 4 * SZ_4K, buf, 0, rw), -EINVAL);
	CHECK_ERR(vmap(&e, IOVA_SRC + 4 * SZ_4K, buf, SZ_4K, 0), -EINVAL);
	/* The MSI window is not DMA space. */
	CHECK_ERR(vmap(&e, 0xfee00000ULL, buf, SZ_4K, rw), -EINVAL);
	/* type1v2: an unmap may not cut a mapping in two. */
	CHECK_ERR(vunmap(&e, IOVA_SRC, SZ_4K, 0, NULL), -EINVAL);
	CHECK_ERR(vmap(&e, IOVA_DST, buf + 2 * SZ_4K, SZ_4K, rw), 0);
	CHECK_ERR(vunmap(&e, 0x800000, SZ_4K, 0, &unmapped), 0);
	CHECK(unmapped == 0);
	CHECK_ERR(vunmap(&e, 0, 0, VFIO_DMA_UNMAP_FLAG_ALL, &unmapped), 0);
	CHECK(unmapped == 3 * SZ_4K);
	edu_close(&e);
	return 0;
}

#define DIRTY_START	VFIO_IOMMU_DIRTY_PAGES_FLAG_START
#define DIRTY_STOP	VFIO_IOMMU_DIRTY_PAGES_FLAG_STOP
#define DIRTY_GET	VFIO_IOMMU_DIRTY_PAGES_FLAG_GET_BITMAP

/* Words of a dirty bitmap, in the line the suite compares across backends. */
static void diag_bits(const char *what, const uint64_t *bm, int n)
{
	char line[400];
	int i, k = 0;

	for (i = 0; i < n && k < (int)sizeof(line) - 20; i++)
		k += snprintf(line + k, sizeof(line) - k, " %llx",
			      (unsigned long long)bm[i]);
	diag("type1-dirty %s:%s", what, line);
}

/* What the user's bitmap holds before a read: bits type1 leaves alone. */
#define PAT	0xa5a5a5a5a5a5a5a5ULL

static void bm_fill(uint64_t *bm, int n, uint64_t v)
{
	int i;

	for (i = 0; i < n; i++)
		bm[i] = v;
}

/*
 * Type1 dirty tracking with a physical device: its DMA cannot be seen,
 * so every page of every mapping (read-only ones too) reads dirty at
 * every read, the page the edu wrote among them. A read writes only the
 * u64 words the mappings' pages fall in, or'ing the user's bits into a
 * mapping's first word when it starts inside one; the rest of the bitmap
 * is left as it was. Then the errnos of bad arguments, and an unmap that
 * returns its mapping's bits. The suite compares the "type1-dirty" lines
 * of both backends too.
 *
 * Stock type1 (6.12) keeps in a mapping's bitmap the bits it shifted past
 * the mapping's end (and the user's bits it or'ed in) when the mapping
 * starts inside a word, and reports them again at the next read: so a
 * mapping that starts inside a word is read here only first after a
 * START. The shim reports such a mapping's pages alone at every read
 * (checked on the shim only).
 */
static int t_type1_dirty(struct fx *f)
{
	/* 384 pages from IOVA_SRC: src at bit 0, dst at 256, ro at 326. */
	const uint64_t base = IOVA_SRC, len = 384 * SZ_4K;
	const uint64_t ro_iova = IOVA_DST + 70 * SZ_4K;
	const uint32_t rw = VFIO_DMA_MAP_FLAG_READ | VFIO_DMA_MAP_FLAG_WRITE;
	const uint32_t get_argsz = sizeof(struct vfio_iommu_type1_dirty_bitmap) +
				   sizeof(struct vfio_iommu_type1_dirty_bitmap_get);
	uint8_t *src = pages(SZ_4K), *dst = pages(4 * SZ_4K), *ro = pages(SZ_4K);
	uint64_t bm[8], want[8], unmapped = 1;
	void *kernel_ptr = (void *)0xffff888000000000ULL;
	void *unmapped_ptr = pages(SZ_4K);
	struct edu e;
	int c, i, rc = edu_open(&e, 0, type1_type());

	(void)f;
	if (rc)
		return rc;
	c = e.container;
	CHECK(src && dst && ro && unmapped_ptr);
	munmap(unmapped_ptr, SZ_4K);	/* a user address with nothing there */
	fill(src, SZ_4K, 0x19);
	CHECK_ERR(vmap(&e, IOVA_SRC, src, SZ_4K, VFIO_DMA_MAP_FLAG_READ), 0);
	CHECK_ERR(vmap(&e, IOVA_DST, dst, 4 * SZ_4K, rw), 0);
	CHECK_ERR(vmap(&e, ro_iova, ro, SZ_4K, VFIO_DMA_MAP_FLAG_READ), 0);
	/* Not started: no bitmap; the flags: exactly one known. */
	CHECK_ERR(vdirty_get(c, base, len, SZ_4K, bm, sizeof(bm), 0), -EINVAL);
	CHECK_ERR(vunmap_dirty(c, IOVA_DST, 4 * SZ_4K, 0, SZ_4K, bm,
			       sizeof(bm), 0, NULL), -EINVAL);
	CHECK_ERR(vdirty(c, 0), -EINVAL);
	CHECK_ERR(vdirty(c, DIRTY_START | DIRTY_STOP), -EINVAL);
	CHECK_ERR(vdirty(c, DIRTY_START | DIRTY_GET), -EINVAL);
	CHECK_ERR(vdirty(c, 1u << 3), -EINVAL);
	CHECK_ERR(vdirty(c, DIRTY_STOP), 0);	/* stopping a stopped one */
	CHECK_ERR(vdirty(c, DIRTY_START), 0);
	CHECK_ERR(vdirty(c, DIRTY_START), 0);	/* and starting twice */

	/* Before any DMA: every mapped page, as the edu is there. */
	for (i = 0; i < 8; i++)
		want[i] = PAT;
	want[0] = 1;			/* src: the word overwritten */
	want[4] = 0xf;			/* dst */
	want[5] = PAT | 1ULL << 6;	/* ro starts inside word 5: or'ed */
	bm_fill(bm, 8, PAT);
	CHECK_ERR(vdirty_get(c, base, len, SZ_4K, bm, sizeof(bm), 0), 0);
	diag_bits("edu before dma", bm, 8);
	for (i = 0; i < 8; i++)
		CHECK_EQ(bm[i], want[i]);
	if (!strcmp(iommu_mode(), "shim")) {
		/* ro again, with a clean bitmap: its one page, no more. */
		bm_fill(bm, 8, 0);
		CHECK_ERR(vdirty_get(c, base, len, SZ_4K, bm, sizeof(bm), 0),
			  0);
		CHECK_EQ(bm[5], 1ULL << 6);
	}
	/* The edu reads src and writes dst's second page; tracked afresh. */
	CHECK_ERR(vdirty(c, DIRTY_STOP), 0);
	CHECK_ERR(vdirty(c, DIRTY_START), 0);
	CHECK(edu_dma(&e, IOVA_SRC, false, EDU_LEN) == 0);
	CHECK(edu_dma(&e, IOVA_DST + SZ_4K, true, EDU_LEN) == 0);
	CHECK(memcmp(dst + SZ_4K, src, EDU_LEN) == 0);
	bm_fill(bm, 8, 0);
	CHECK_ERR(vdirty_get(c, base, len, SZ_4K, bm, sizeof(bm), 0), 0);
	diag_bits("edu after dma", bm, 8);
	for (i = 0; i < 8; i++)
		CHECK_EQ(bm[i], i == 0 ? 1 : i == 4 ? 0xf :
				i == 5 ? 1ULL << 6 : 0);
	/* src and dst again (word-aligned): still all, every read. */
	bm_fill(bm, 8, PAT);
	CHECK_ERR(vdirty_get(c, base, IOVA_DST + 4 * SZ_4K - base, SZ_4K, bm,
			     sizeof(bm), 0), 0);
	diag_bits("edu again", bm, 8);
	for (i = 0; i < 8; i++)
		CHECK_EQ(bm[i], i == 0 ? 1 : i == 4 ? 0xf : PAT);
	/* Only dst's range. */
	bm_fill(bm, 8, 0);
	CHECK_ERR(vdirty_get(c, IOVA_DST, 4 * SZ_4K, SZ_4K, bm, 8, 0), 0);
	diag_bits("dst alone", bm, 1);
	CHECK_EQ(bm[0], 0xf);

	/* Bad arguments: all EINVAL, but a bitmap that faults. */
	CHECK_ERR(vdirty_get(c, base + 0x800, len, SZ_4K, bm, sizeof(bm), 0),
		  -EINVAL);		/* iova not aligned */
	CHECK_ERR(vdirty_get(c, base, len - 0x800, SZ_4K, bm, sizeof(bm), 0),
		  -EINVAL);		/* size not aligned */
	CHECK_ERR(vdirty_get(c, base, 0, SZ_4K, bm, sizeof(bm), 0), -EINVAL);
	CHECK_ERR(vdirty_get(c, base, len, SZ_4K, bm, 40, 0),
		  -EINVAL);		/* bitmap too small: 384 bits need 48 */
	CHECK_ERR(vdirty_get(c, base, len, SZ_4K, bm, 0, 0), -EINVAL);
	CHECK_ERR(vdirty_get(c, base, len, SZ_4K, bm, (1ULL << 28) + 8, 0),
		  -EINVAL);		/* past the largest bitmap */
	CHECK_ERR(vdirty_get(c, base, len, 2 * SZ_4K, bm, sizeof(bm), 0),
		  -EINVAL);		/* page size not offered */
	CHECK_ERR(vdirty_get(c, base, len, SZ_2M, bm, sizeof(bm), 0),
		  -EINVAL);		/* offered or not: not the smallest */
	CHECK_ERR(vdirty_get(c, ~0ULL << 12, 2 * SZ_4K, SZ_4K, bm,
			     sizeof(bm), 0), -EINVAL);	/* wraps */
	CHECK_ERR(vdirty_get(c, IOVA_DST + SZ_4K, SZ_4K, SZ_4K, bm, 8, 0),
		  -EINVAL);		/* starts inside dst */
	CHECK_ERR(vdirty_get(c, IOVA_DST, 2 * SZ_4K, SZ_4K, bm, 8, 0),
		  -EINVAL);		/* ends inside dst */
	CHECK_ERR(vdirty_get(c, base, len, SZ_4K, bm, sizeof(bm),
			     get_argsz - 1), -EINVAL);	/* argsz short */
	CHECK_ERR(vdirty_get(c, base, len, SZ_4K, kernel_ptr, sizeof(bm), 0),
		  -EINVAL);		/* not a user address */
	CHECK_ERR(vdirty_get(c, base, len, SZ_4K, unmapped_ptr, sizeof(bm), 0),
		  -EFAULT);

	/* An unmap that returns its bits: its arguments first. */
	CHECK_ERR(vunmap_dirty(c, 0, 0, VFIO_DMA_UNMAP_FLAG_ALL, SZ_4K, bm,
			       sizeof(bm), 0, NULL), -EINVAL);
	CHECK_ERR(vunmap_dirty(c, IOVA_DST, 4 * SZ_4K, 0, SZ_4K, bm,
			       sizeof(bm), 24 + 23, NULL), -EINVAL);
	CHECK_ERR(vunmap_dirty(c, IOVA_DST, 4 * SZ_4K, 0, 2 * SZ_4K, bm,
			       sizeof(bm), 0, NULL), -EINVAL);
	CHECK_ERR(vunmap_dirty(c, IOVA_DST, 4 * SZ_4K, 0, SZ_4K, bm, 0, 0,
			       NULL), -EINVAL);
	CHECK_ERR(vunmap_dirty(c, IOVA_DST + 0x800, 4 * SZ_4K, 0, SZ_4K, bm,
			       sizeof(bm), 0, NULL), -EINVAL);
	CHECK_ERR(vunmap_dirty(c, IOVA_DST, 2 * SZ_4K, 0, SZ_4K, bm,
			       sizeof(bm), 0, NULL), -EINVAL);	/* cuts dst */
	/* Refused ones left dst mapped: the edu still writes it. */
	memset(dst, 0, 4 * SZ_4K);
	CHECK(edu_dma(&e, IOVA_DST + 3 * SZ_4K, true, EDU_LEN) == 0);
	CHECK(memcmp(dst + 3 * SZ_4K, src, EDU_LEN) == 0);
	bm_fill(bm, 8, 0);
	CHECK_ERR(vunmap_dirty(c, IOVA_DST, 4 * SZ_4K, 0, SZ_4K, bm,
			       sizeof(bm), 0, &unmapped), 0);
	diag_bits("unmap dst", bm, 1);
	CHECK_EQ(unmapped, 4 * SZ_4K);
	CHECK_EQ(bm[0], 0xf);
	/* Nothing mapped there now: success, nothing unmapped or written. */
	bm_fill(bm, 8, PAT);
	CHECK_ERR(vunmap_dirty(c, IOVA_DST, 4 * SZ_4K, 0, SZ_4K, bm,
			       sizeof(bm), 0, &unmapped), 0);
	CHECK_EQ(unmapped, 0);
	CHECK_EQ(bm[0], PAT);

	/*
	 * A bitmap that faults at the second mapping's word: the first is
	 * reported and unmapped, the second stays, EFAULT (type1 reports
	 * and removes mapping by mapping).
	 */
	{
		uint8_t *two = pages(2 * SZ_4K);
		uint64_t *edge;

		CHECK(two);
		munmap(two + SZ_4K, SZ_4K);
		edge = (uint64_t *)(two + SZ_4K) - 1;	/* word 0; 1 faults */
		*edge = 0;
		CHECK_ERR(vmap(&e, IOVA_DST, dst, 4 * SZ_4K, rw), 0);
		CHECK_ERR(vmap(&e, IOVA_DST + 64 * SZ_4K, dst, SZ_4K, rw), 0);
		CHECK_ERR(vunmap_dirty(c, IOVA_DST, 65 * SZ_4K, 0, SZ_4K, edge,
				       16, 0, &unmapped), -EFAULT);
		diag_bits("unmap faulting", edge, 1);
		CHECK_EQ(*edge, 0xf);
		CHECK_ERR(vunmap(&e, IOVA_DST, 4 * SZ_4K, 0, &unmapped), 0);
		CHECK_EQ(unmapped, 0);
		CHECK_ERR(vunmap(&e, IOVA_DST + 64 * SZ_4K, SZ_4K, 0,
				 &unmapped), 0);
		CHECK_EQ(unmapped, SZ_4K);
		munmap(two, SZ_4K);
	}
	/* Stopped: no bitmap, either way; the mappings stay. */
	CHECK_ERR(vdirty(c, DIRTY_STOP), 0);
	CHECK_ERR(vdirty_get(c, base, len, SZ_4K, bm, sizeof(bm), 0), -EINVAL);
	CHECK_ERR(vunmap_dirty(c, ro_iova, SZ_4K, 0, SZ_4K, bm, sizeof(bm), 0,
			       NULL), -EINVAL);
	CHECK_ERR(vunmap(&e, ro_iova, SZ_4K, 0, &unmapped), 0);
	CHECK_EQ(unmapped, SZ_4K);
	/* Restarted: src alone, dirty. */
	CHECK_ERR(vdirty(c, DIRTY_START), 0);
	bm_fill(bm, 8, 0);
	CHECK_ERR(vdirty_get(c, base, len, SZ_4K, bm, sizeof(bm), 0), 0);
	diag_bits("restarted", bm, 8);
	CHECK_EQ(bm[0], 1);
	for (i = 1; i < 8; i++)
		CHECK_EQ(bm[i], 0);
	/*
	 * The largest bitmap, 2^28 bytes for 2^31 pages from IOVA 0, said
	 * to be at a 4 KiB buffer: only the words of src (page 256) are
	 * written, and the work follows the one mapping, not the 8 TiB. A
	 * page more needs more than the largest bitmap.
	 */
	{
		/* Low enough that the 2^28 bytes pass access_ok(). */
		uint64_t *big = mmap((void *)0x100000000000ULL, SZ_4K,
				     PROT_READ | PROT_WRITE,
				     MAP_PRIVATE | MAP_ANONYMOUS |
				     MAP_FIXED_NOREPLACE, -1, 0);

		CHECK(big != MAP_FAILED);
		bm_fill(big, SZ_4K / 8, PAT);
		CHECK_ERR(vdirty_get(c, 0, 1ULL << 43, SZ_4K, big, 1ULL << 28,
				     0), 0);
		diag_bits("largest bitmap", big, 8);
		for (i = 0; i < (int)(SZ_4K / 8); i++)
			CHECK_EQ(big[i], i == 4 ? 1 : PAT);
		CHECK_ERR(vdirty_get(c, 0, (1ULL << 43) + SZ_4K, SZ_4K, big,
				     (1ULL << 28) + 8, 0), -EINVAL);
		munmap(big, SZ_4K);
	}
	edu_close(&e);
	munmap(src, SZ_4K);
	munmap(dst, 4 * SZ_4K);
	munmap(ro, SZ_4K);
	return 0;
}

/*
 * Set a module parameter if the module is loaded; returns its old value,
 * or -1 (not loaded, or not root).
 */
static long set_param(const char *path, long v)
{
	char buf[32];
	long old = -1;
	FILE *fp = fopen(path, "r+");

	if (!fp)
		return -1;
	if (fgets(buf, sizeof(buf), fp))
		old = strtol(buf, NULL, 10);
	rewind(fp);
	fprintf(fp, "%ld\n", v);
	fclose(fp);
	return old;
}

#define TYPE1_LIMIT	"/sys/module/vfio_iommu_type1/parameters/dma_entry_limit"
#define SHIM_LIMIT	"/sys/module/ioasid/parameters/max_mappings"

/*
 * GET_INFO: page sizes, IOVA ranges that leave out the MSI window, and
 * the mappings still available under the backend's limit (stock type1's
 * dma_entry_limit, the shim's max_mappings: both set to 1000 here, read
 * when the container is opened).
 */
static int t_type1_info(struct fx *f)
{
	struct {
		struct vfio_iommu_type1_info info;
		uint8_t caps[512];
	} b = { .info.argsz = sizeof(b) };
	struct vfio_info_cap_header *h;
	struct vfio_iommu_type1_info_cap_iova_range *r = NULL;
	struct vfio_iommu_type1_info_dma_avail *avail = NULL;
	struct vfio_iommu_type1_info_cap_migration *mig = NULL;
	long old_type1 = set_param(TYPE1_LIMIT, 1000);
	long old_shim = set_param(SHIM_LIMIT, 1000);
	struct edu e;
	uint32_t off, i;
	bool msi_out = true, low_in = false;
	int rc = edu_open(&e, 0, type1_type());

	(void)f;
	if (old_type1 >= 0)
		set_param(TYPE1_LIMIT, old_type1);
	if (old_shim >= 0)
		set_param(SHIM_LIMIT, old_shim);
	if (rc)
		return rc;
	CHECK(ioctl(e.container, VFIO_IOMMU_GET_INFO, &b) == 0);
	CHECK(b.info.flags & VFIO_IOMMU_INFO_PGSIZES);
	CHECK(b.info.iova_pgsizes & SZ_4K);
	diag("iova_pgsizes 0x%llx", (unsigned long long)b.info.iova_pgsizes);
	CHECK(b.info.flags & VFIO_IOMMU_INFO_CAPS);
	for (off = b.info.cap_offset; off; off = h->next) {
		CHECK(off >= sizeof(b.info) && off < sizeof(b));
		h = (void *)((uint8_t *)&b + off);
		if (h->id == VFIO_IOMMU_TYPE1_INFO_CAP_IOVA_RANGE)
			r = (void *)h;
		if (h->id == VFIO_IOMMU_TYPE1_INFO_DMA_AVAIL)
			avail = (void *)h;
		if (h->id == VFIO_IOMMU_TYPE1_INFO_CAP_MIGRATION)
			mig = (void *)h;
		diag("info cap %u at %u", h->id, off);
	}
	diag("info argsz %u", b.info.argsz);
	/* Dirty bitmaps: in the smallest page, at most type1's size. */
	CHECK(mig);
	diag("migration flags %u pgsize_bitmap 0x%llx max_dirty_bitmap_size 0x%llx",
	     mig->flags, (unsigned long long)mig->pgsize_bitmap,
	     (unsigned long long)mig->max_dirty_bitmap_size);
	CHECK_EQ(mig->pgsize_bitmap,
		 b.info.iova_pgsizes & -b.info.iova_pgsizes);
	CHECK_EQ(mig->max_dirty_bitmap_size, (1ULL << 31) / 8);
	CHECK(avail);
	diag("dma_avail %u (limit set to 1000, nothing mapped)", avail->avail);
	CHECK_EQ(avail->avail, 1000);
	CHECK(r && r->nr_iovas >= 2);
	for (i = 0; i < r->nr_iovas; i++) {
		diag("iova range 0x%llx-0x%llx",
		     (unsigned long long)r->iova_ranges[i].start,
		     (unsigned long long)r->iova_ranges[i].end);
		if (r->iova_ranges[i].start <= 0xfee00000ULL &&
		    r->iova_ranges[i].end >= 0xfee00000ULL)
			msi_out = false;
		if (r->iova_ranges[i].start <= IOVA_SRC &&
		    r->iova_ranges[i].end >= IOVA_DST)
			low_in = true;
	}
	CHECK(msi_out && low_in);
	edu_close(&e);
	return 0;
}

/* ---- containers bound to an ioasid fd ---- */

/*
 * One 2 MiB hugepage, reserving a few first (root); NULL with a reason.
 * Private anonymous memory (pinned page by page), or with @shared a
 * hugetlb memfd mapped shared, which the kernel host pins by folio.
 */
static uint8_t *hugepage(bool shared)
{
	int hp = open("/proc/sys/vm/nr_hugepages", O_WRONLY), mfd = -1;
	void *p;

	if (hp >= 0) {
		if (write(hp, "8", 1) != 1)
			diag("cannot reserve hugepages");
		close(hp);
	}
	if (shared) {
		mfd = memfd_create("edu-huge", MFD_CLOEXEC | MFD_HUGETLB);
		if (mfd < 0 || ftruncate(mfd, SZ_2M)) {
			skip_reason("no hugetlb memfd: %s", strerror(errno));
			return NULL;
		}
	}
	p = mmap(NULL, SZ_2M, PROT_READ | PROT_WRITE,
		 shared ? MAP_SHARED | MAP_POPULATE :
			  MAP_PRIVATE | MAP_ANONYMOUS | MAP_HUGETLB | MAP_POPULATE,
		 mfd, 0);
	if (mfd >= 0)
		close(mfd);
	if (p == MAP_FAILED) {
		skip_reason("no 2 MiB hugepage: %s", strerror(errno));
		return NULL;
	}
	return p;
}

static int fd_shim_only(void)
{
	if (strcmp(iommu_mode(), "shim")) {
		skip_reason("binding to an ioasid fd needs the shim (this run uses %s)",
			    iommu_mode());
		return SKIP_RC;
	}
	return 0;
}

/*
 * What an fd test starts with: @n edu devices (1 or 2), each alone in its
 * IOMMU group and in a VFIO_IOASID_IOMMU container, and an ioasid fd.
 */
struct fd_rig {
	struct edu e[2];
	uint32_t dev[2];	/* the devices' ids in @fd, from FD_BOUND */
	uint32_t as;		/* FD_ATTACHED: an ioasid, device 0 on it */
	int n;			/* devices open */
	int fd;
	uint8_t *huge;		/* fd_rig_huge(): a 2 MiB hugepage */
};

enum fd_stage {
	FD_OPENED,		/* devices and fd open, nothing bound */
	FD_BOUND,		/* every container bound to the fd */
	FD_ATTACHED,		/* and device 0 attached to a new ioasid */
};

/* The devices, then the fd. */
static void fd_rig_close(struct fd_rig *r)
{
	int i;

	for (i = 0; i < r->n; i++)
		edu_close(&r->e[i]);
	if (r->fd >= 0)
		close(r->fd);
	if (r->huge)
		munmap(r->huge, SZ_2M);
}

/*
 * The prologue of the fd tests, as far as @stage; skipped unless the shim
 * serves VFIO and there are @n edus alone in their groups.
 */
static int fd_rig_open(struct fd_rig *r, int n, enum fd_stage stage)
{
	int i, rc;

	memset(r, 0, sizeof(*r));
	r->fd = -1;
	rc = fd_shim_only();
	if (rc)
		return rc;
	for (i = 0; i < n; i++, r->n++) {
		rc = edu_open(&r->e[i], i, VFIO_IOASID_IOMMU);
		if (rc) {
			fd_rig_close(r);
			return rc;
		}
	}
	r->fd = open("/dev/ioasid", O_RDWR);
	CHECK(r->fd >= 0);
	for (i = 0; stage >= FD_BOUND && i < n; i++)
		CHECK_ERR(io_bind(&r->e[i], r->fd, &r->dev[i]), 0);
	if (stage >= FD_ATTACHED) {
		CHECK_ERR(io_alloc(r->fd, &r->as), 0);
		CHECK_ERR(io_attach(r->fd, r->dev[0], r->as), 0);
	}
	return 0;
}

/* A 2 MiB hugepage in r->huge, shared (a memfd) or not; else a skip. */
static int fd_rig_huge(struct fd_rig *r, bool shared)
{
	r->huge = hugepage(shared);
	if (r->huge)
		return 0;
	fd_rig_close(r);
	return SKIP_RC;
}

/*
 * Two devices, two ioasids, the same IOVAs mapped to different buffers:
 * each device reads and writes only its own.
 */
static int t_fd_two_ioasids_isolated(struct fx *f)
{
	uint8_t *s0 = pages(SZ_4K), *d0 = pages(SZ_4K);
	uint8_t *s1 = pages(SZ_4K), *d1 = pages(SZ_4K);
	uint32_t as0 = 0, as1 = 0, dev0 = 0, dev1 = 0;
	struct edu *e0, *e1;
	struct fd_rig r;
	int fd, rc;

	(void)f;
	rc = fd_rig_open(&r, 2, FD_OPENED);
	if (rc)
		return rc;
	e0 = &r.e[0];
	e1 = &r.e[1];
	fd = r.fd;
	CHECK(s0 && d0 && s1 && d1);
	/* The type1 ioctls belong to the ioasid fd in this mode. */
	CHECK_ERR(vmap(e0, IOVA_SRC, s0, SZ_4K, VFIO_DMA_MAP_FLAG_READ),
		  -EINVAL);
	CHECK_ERR(io_bind(e0, fd, &dev0), 0);
	CHECK_ERR(io_bind(e1, fd, &dev1), 0);
	CHECK(dev0 != dev1);
	CHECK_ERR(io_alloc(fd, &as0), 0);
	CHECK_ERR(io_alloc(fd, &as1), 0);
	/* No operation before a device is attached. */
	CHECK_ERR(io_map(fd, as0, IOVA_SRC, s0, SZ_4K), -ENODEV);
	CHECK_ERR(io_attach(fd, dev0, as0), 0);
	CHECK_ERR(io_attach(fd, dev1, as1), 0);
	CHECK_ERR(io_attach(fd, dev1, as0), -EBUSY);
	fill(s0, SZ_4K, 0x31);
	fill(s1, SZ_4K, 0x97);
	memset(d0, 0, SZ_4K);
	memset(d1, 0, SZ_4K);
	CHECK_ERR(io_map(fd, as0, IOVA_SRC, s0, SZ_4K), 0);
	CHECK_ERR(io_map(fd, as0, IOVA_DST, d0, SZ_4K), 0);
	CHECK_ERR(io_map(fd, as1, IOVA_SRC, s1, SZ_4K), 0);
	CHECK_ERR(io_map(fd, as1, IOVA_DST, d1, SZ_4K), 0);
	CHECK(edu_dma(e0, IOVA_SRC, false, EDU_LEN) == 0);
	CHECK(edu_dma(e0, IOVA_DST, true, EDU_LEN) == 0);
	CHECK(memcmp(d0, s0, EDU_LEN) == 0);
	CHECK(all_bytes(d1, SZ_4K, 0));
	CHECK(edu_dma(e1, IOVA_SRC, false, EDU_LEN) == 0);
	CHECK(edu_dma(e1, IOVA_DST, true, EDU_LEN) == 0);
	CHECK(memcmp(d1, s1, EDU_LEN) == 0);
	CHECK(memcmp(d0, s0, EDU_LEN) == 0);
	/* Closing the ioasid fd first: the containers still hold it. */
	close(fd);
	r.fd = -1;
	edu_close(e1);
	edu_close(e0);
	return 0;
}

/*
 * Two devices on one ioasid share its domain; a mapping made before the
 * second device attaches reaches it too, and a 2 MiB hugepage is mapped
 * with a 2 MiB IOMMU page when the IOMMU has one.
 */
static int fd_shared_ioasid_hugepage(bool shared)
{
	struct ioasid_query_pgsize q = { .size = sizeof(q) };
	long long pins;
	uint8_t *huge, *dst = pages(SZ_4K);
	struct fd_rig r;
	uint32_t as;
	int fd, rc;

	rc = fd_rig_open(&r, 2, FD_ATTACHED);
	if (rc)
		return rc;
	rc = fd_rig_huge(&r, shared);
	if (rc)
		return rc;
	huge = r.huge;
	fd = r.fd;
	as = r.as;
	CHECK(dst);
	fill(huge, SZ_2M, 0x42);
	pins = kernel_pins();
	CHECK_ERR(io_map(fd, as, IOVA_HUGE, huge, SZ_2M), 0);
	/* By page, 512 pins; a shared memfd by folio, one. */
	CHECK_EQ(kernel_pins() - pins, shared ? 1 : 512);
	CHECK_ERR(io_map(fd, as, IOVA_DST, dst, SZ_4K), 0);
	CHECK_ERR(io_attach(fd, r.dev[1], as), 0);
	q.ioasid = as;
	q.iova = IOVA_HUGE;
	q.length = SZ_2M;
	CHECK(ioctl(fd, IOASID_QUERY_PGSIZE, &q) == 0);
	diag("2 MiB hugepage mapped with page sizes 0x%llx",
	     (unsigned long long)q.out_pgsize_bitmap);
	CHECK(q.out_mapped_bytes == SZ_2M);
	{
		struct ioasid_info info = { .size = sizeof(info), .ioasid = as };

		CHECK(ioctl(fd, IOASID_GET_INFO, &info) == 0);
		diag("ioasid page sizes 0x%llx",
		     (unsigned long long)info.out_pgsize_bitmap);
		/* The largest page the IOMMU has and the memory allows. */
		CHECK(q.out_pgsize_bitmap ==
		      (info.out_pgsize_bitmap & SZ_2M ? SZ_2M : SZ_4K));
	}
	/* Device 1 reads the end of the hugepage through the shared domain. */
	CHECK(edu_dma(&r.e[1], IOVA_HUGE + SZ_2M - SZ_4K, false, EDU_LEN) == 0);
	CHECK(edu_dma(&r.e[1], IOVA_DST, true, EDU_LEN) == 0);
	CHECK(memcmp(dst, huge + SZ_2M - SZ_4K, EDU_LEN) == 0);
	/* Detaching device 0 leaves device 1 working. */
	memset(dst, 0, SZ_4K);
	{
		struct ioasid_device_detach d = { .size = sizeof(d),
						  .dev_id = r.dev[0] };

		CHECK(ioctl(fd, IOASID_DEVICE_DETACH, &d) == 0);
	}
	CHECK(edu_dma(&r.e[1], IOVA_DST, true, EDU_LEN) == 0);
	CHECK(memcmp(dst, huge + SZ_2M - SZ_4K, EDU_LEN) == 0);
	fd_rig_close(&r);
	return 0;
}

static int t_fd_shared_ioasid_hugepage(struct fx *f)
{
	(void)f;
	return fd_shared_ioasid_hugepage(false);
}

/* The same on a shared hugetlb memfd: pinned by folio, not by page. */
static int t_fd_shared_ioasid_hugepage_memfd(struct fx *f)
{
	(void)f;
	return fd_shared_ioasid_hugepage(true);
}

/*
 * Two mappings that split one 2 MiB hugepage, mapped in one batch: the
 * shim maps a batch's IOVA-contiguous mappings together, and must not let
 * an IOMMU page straddle them. Unmapping the first must leave the second
 * translating, and the first faulting.
 */
static int fd_batch_halves_unmap_apart(bool shared)
{
	struct ioasid_dma_entry e[3];
	struct ioasid_batch b = {
		.size = sizeof(b), .count = 3, .entry_size = sizeof(e[0]),
		.entries_uptr = (uintptr_t)e,
	};
	struct ioasid_unmap_dma u = { .size = sizeof(u) };
	uint8_t *huge, *dst = pages(SZ_4K), *src = pages(SZ_4K);
	struct fd_rig r;
	struct edu *e0;
	uint32_t as;
	int fd, rc, kmsg;

	rc = fd_rig_open(&r, 1, FD_ATTACHED);
	if (rc)
		return rc;
	rc = fd_rig_huge(&r, shared);
	if (rc)
		return rc;
	huge = r.huge;
	e0 = &r.e[0];
	fd = r.fd;
	as = r.as;
	CHECK(dst && src);
	fill(src, SZ_4K, 0x6b);
	memset(huge, 0, SZ_2M);
	/* [IOVA_HUGE, +1M) and [+1M, +2M): halves of one hugepage; then src. */
	e[0] = (struct ioasid_dma_entry){ .flags = RW, .iova = IOVA_HUGE,
		.vaddr = (uintptr_t)huge, .length = SZ_1M };
	e[1] = (struct ioasid_dma_entry){ .flags = RW, .iova = IOVA_HUGE + SZ_1M,
		.vaddr = (uintptr_t)huge + SZ_1M, .length = SZ_1M };
	e[2] = (struct ioasid_dma_entry){ .flags = RW, .iova = IOVA_HUGE + SZ_2M,
		.vaddr = (uintptr_t)src, .length = SZ_4K };
	b.ioasid = as;
	CHECK(ioctl(fd, IOASID_MAP_BATCH, &b) == 0);
	u.ioasid = as;
	u.iova = IOVA_HUGE;
	u.length = SZ_1M;
	CHECK(ioctl(fd, IOASID_UNMAP_DMA, &u) == 0);
	CHECK(u.out_unmapped == SZ_1M);
	/* The second half still takes the device's writes... */
	CHECK(edu_dma(e0, IOVA_HUGE + SZ_2M, false, EDU_LEN) == 0);
	CHECK(edu_dma(e0, IOVA_HUGE + SZ_1M, true, EDU_LEN) == 0);
	CHECK(memcmp(huge + SZ_1M, src, EDU_LEN) == 0);
	/* ...and the first half does not. */
	kmsg = kmsg_mark();
	CHECK(edu_dma(e0, IOVA_HUGE + SZ_1M - SZ_4K, true, EDU_LEN) == 0);
	CHECK(all_bytes(huge + SZ_1M - SZ_4K, SZ_4K, 0));
	CHECK(fault_logged(kmsg, IOVA_HUGE + SZ_1M - SZ_4K));
	close(kmsg);
	fd_rig_close(&r);
	return 0;
}

static int t_fd_batch_halves_unmap_apart(struct fx *f)
{
	(void)f;
	return fd_batch_halves_unmap_apart(false);
}

/* The same on a shared hugetlb memfd: two pins on one folio. */
static int t_fd_batch_halves_unmap_apart_memfd(struct fx *f)
{
	(void)f;
	return fd_batch_halves_unmap_apart(true);
}

/*
 * Two devices of one IOMMU group (behind the VM's PCIe-to-PCI bridge):
 * the container binds both, and the ioasid refuses map and unmap until
 * both are attached to it, as the plan's Phase 1 rule says; a device of
 * the group cannot go to another ioasid.
 */
static int t_fd_group_completeness(struct fx *f)
{
	struct ioasid_device_detach det = { .size = sizeof(det) };
	struct ioasid_unmap_dma u = { .size = sizeof(u) };
	struct edu e0, e1;
	uint8_t *src = pages(SZ_4K), *dst = pages(SZ_4K);
	uint32_t ids[2] = { 0, 0 }, as = 0, as2 = 0;
	struct ioasid_vfio_bind b = {
		.size = sizeof(b), .num_devs = 1,
		.dev_ids_uptr = (uintptr_t)ids,
	};
	int fd, rc;

	(void)f;
	rc = fd_shim_only();
	if (rc)
		return rc;
	if (shared_count != 2) {
		skip_reason("needs two edu devices sharing an IOMMU group, found %d",
			    shared_count);
		return SKIP_RC;
	}
	CHECK(group_of(shared_bdf[0]) == group_of(shared_bdf[1]));
	rc = edu_open_bdf(&e0, shared_bdf[0], VFIO_IOASID_IOMMU);
	if (rc)
		return rc;
	e1 = e0;
	rc = edu_dev_open(&e1, shared_bdf[1]);
	e1.container = e1.group = -1;	/* e0 owns them */
	if (rc)
		return rc;
	fd = open("/dev/ioasid", O_RDWR);
	CHECK(fd >= 0 && src && dst);
	b.ioasid_fd = fd;
	/* Room for one id: EMSGSIZE and the count, the devices bound anyway. */
	CHECK(ioctl(e0.container, IOASID_VFIO_BIND, &b) == -1 && errno == EMSGSIZE);
	if (b.num_devs != 2)
		diag("bind reported %u devices", b.num_devs);
	CHECK(b.num_devs == 2);
	CHECK(ioctl(e0.container, IOASID_VFIO_BIND, &b) == 0);
	CHECK(b.num_devs == 2 && ids[0] && ids[1] && ids[0] != ids[1]);
	CHECK_ERR(io_alloc(fd, &as), 0);
	CHECK_ERR(io_alloc(fd, &as2), 0);
	CHECK_ERR(io_attach(fd, ids[0], as), 0);
	/* Half the group is attached: no map, no unmap. */
	CHECK_ERR(io_map(fd, as, IOVA_SRC, src, SZ_4K), -EPERM);
	u.ioasid = as;
	u.iova = IOVA_SRC;
	u.length = SZ_4K;
	CHECK(ioctl(fd, IOASID_UNMAP_DMA, &u) == -1 && errno == EPERM);
	/* The group's other device may not translate elsewhere. */
	CHECK_ERR(io_attach(fd, ids[1], as2), -EBUSY);
	CHECK_ERR(io_attach(fd, ids[1], as), 0);
	fill(src, SZ_4K, 0x77);
	memset(dst, 0, SZ_4K);
	CHECK_ERR(io_map(fd, as, IOVA_SRC, src, SZ_4K), 0);
	CHECK_ERR(io_map(fd, as, IOVA_DST, dst, SZ_4K), 0);
	/* Both devices DMA through the group's one domain. */
	CHECK(edu_dma(&e0, IOVA_SRC, false, EDU_LEN) == 0);
	CHECK(edu_dma(&e1, IOVA_SRC, false, EDU_LEN) == 0);
	CHECK(edu_dma(&e1, IOVA_DST, true, EDU_LEN) == 0);
	CHECK(memcmp(dst, src, EDU_LEN) == 0);
	/* One device leaves: the group is incomplete again. */
	det.dev_id = ids[0];
	CHECK(ioctl(fd, IOASID_DEVICE_DETACH, &det) == 0);
	CHECK_ERR(io_map(fd, as, IOVA_SRC + SZ_1M, src, SZ_4K), -EPERM);
	edu_close(&e1);
	edu_close(&e0);
	close(fd);
	return 0;
}

/*
 * Dirty tracking with a VFIO device: its DMA cannot be seen, so every
 * mapped writable page reads dirty (software tracking, as VFIO type1 does
 * without IOMMU dirty bits), and the page it really wrote is among them.
 */
static int t_fd_dirty_vfio_device(struct fx *f)
{
	struct ioasid_dirty_tracking t = { .size = sizeof(t),
					   .flags = IOASID_DIRTY_START };
	struct ioasid_dirty_read r = { .size = sizeof(r), .pgshift = 12,
				       .length = 64 * SZ_4K };
	struct ioasid_map_dma ro = { .size = sizeof(ro),
				     .flags = IOASID_DMA_READ,
				     .iova = IOVA_DST + 8 * SZ_4K,
				     .length = SZ_4K };
	uint64_t bits[1] = { 0 };
	uint8_t *src = pages(SZ_4K), *dst = pages(4 * SZ_4K);
	struct fd_rig rig;
	uint32_t as;
	int fd, rc;

	(void)f;
	rc = fd_rig_open(&rig, 1, FD_ATTACHED);
	if (rc)
		return rc;
	fd = rig.fd;
	as = rig.as;
	CHECK(src && dst);
	CHECK_ERR(io_map(fd, as, IOVA_SRC, src, SZ_4K), 0);
	CHECK_ERR(io_map(fd, as, IOVA_DST, dst, 4 * SZ_4K), 0);
	ro.ioasid = as;
	ro.vaddr = (uintptr_t)src;
	CHECK(ioctl(fd, IOASID_MAP_DMA, &ro) == 0);
	t.ioasid = as;
	CHECK(ioctl(fd, IOASID_DIRTY_TRACKING, &t) == 0);
	CHECK(edu_dma(&rig.e[0], IOVA_SRC, false, EDU_LEN) == 0);
	CHECK(edu_dma(&rig.e[0], IOVA_DST + SZ_4K, true, EDU_LEN) == 0);
	/* Bitmap of the 64 pages from IOVA_SRC (1 MiB): src at bit 0. */
	r.ioasid = as;
	r.iova = IOVA_SRC;
	r.bitmap_uptr = (uintptr_t)bits;
	CHECK(ioctl(fd, IOASID_DIRTY_READ, &r) == 0);
	CHECK(r.out_dirty_pages == 1);		/* src: writable, mapped */
	CHECK(bits[0] == 1);
	r.iova = IOVA_DST;
	CHECK(ioctl(fd, IOASID_DIRTY_READ, &r) == 0);
	diag("dirty bitmap from IOVA 0x%llx: 0x%llx",
	     (unsigned long long)IOVA_DST, (unsigned long long)bits[0]);
	CHECK(r.out_dirty_pages == 4);		/* dst, not the read-only page */
	CHECK(bits[0] == 0xf);
	fd_rig_close(&rig);
	return 0;
}

/*
 * Phase 2 with a real device: the edu DMAs through a nested ioasid whose
 * x86-64 table lives in "guest RAM" (process memory the parent maps at
 * NEST_GPA). A software device on the parent gives it the device it needs
 * before it can map; the edu is the child's. The bytes land where the
 * table says; a rewritten PTE, once invalidated, moves the next DMA; a
 * cleared one, once invalidated, stops it and the memory stays untouched.
 */
#define NEST_GPA	0x40000000ULL	/* parent IOVA of guest RAM */
#define NEST_RAM	(1 * SZ_1M)
#define NEST_PTE	0x7ULL		/* P RW US */

static int nest_inv(int fd, uint32_t child, uint64_t addr, uint64_t npages)
{
	struct ioasid_inv_entry e = { .addr = addr, .npages = npages };
	struct ioasid_invalidate v = {
		.size = sizeof(v), .ioasid = child, .entry_size = sizeof(e),
		.entries_uptr = (uintptr_t)&e, .entry_num = 1,
	};

	if (ioctl(fd, IOASID_INVALIDATE, &v))
		return -errno;
	return v.entry_num == 1 ? 0 : -EPROTO;
}

/*
 * What a nested test starts with: the fd rig with one edu bound, a
 * software device (which needs no IOMMU) on a nesting parent, and with
 * @ram NEST_RAM of guest RAM mapped at NEST_GPA in the parent.
 */
struct nest_rig {
	struct fd_rig r;
	struct ioasid_swdev_create sw;
	uint32_t parent;
	uint8_t *ram;
	/* The guest's tables at pages 0-4 of its RAM (nest_tables()). */
	uint64_t *l4, *l3, *l2, *l1s, *l1;
};

static void nest_close(struct nest_rig *n)
{
	fd_rig_close(&n->r);
	if (n->ram)
		munmap(n->ram, NEST_RAM);
}

static int nest_open(struct nest_rig *n, uint64_t sw_pgsizes, bool ram)
{
	struct ioasid_alloc pa = { .size = sizeof(pa),
				   .flags = IOASID_ALLOC_NEST_PARENT };
	int rc;

	memset(n, 0, sizeof(*n));
	if (ram) {
		n->ram = pages(NEST_RAM);
		CHECK(n->ram);
		n->l4 = (uint64_t *)n->ram;
		n->l3 = n->l4 + 512;
		n->l2 = n->l3 + 512;
		n->l1s = n->l2 + 512;
		n->l1 = n->l1s + 512;
	}
	rc = fd_rig_open(&n->r, 1, FD_BOUND);
	if (rc) {
		/* The rig closes itself on a skip or an error. */
		if (n->ram)
			munmap(n->ram, NEST_RAM);
		return rc;
	}
	n->sw = (struct ioasid_swdev_create){
		.size = sizeof(n->sw), .pgsize_bitmap = sw_pgsizes,
		.aperture_last = ~0ULL,
	};
	CHECK(ioctl(n->r.fd, IOASID_SWDEV_CREATE, &n->sw) == 0);
	CHECK(ioctl(n->r.fd, IOASID_ALLOC, &pa) == 0);
	n->parent = pa.out_ioasid;
	CHECK_ERR(io_attach(n->r.fd, n->sw.out_dev_id, n->parent), 0);
	if (ram)
		CHECK_ERR(io_map(n->r.fd, n->parent, NEST_GPA, n->ram,
				 NEST_RAM), 0);
	return 0;
}

/* A nested ioasid under the parent in *@child, @dev attached to it. */
static int nest_child(struct nest_rig *n, uint32_t dev, uint32_t *child)
{
	struct ioasid_alloc ca = { .size = sizeof(ca),
				   .flags = IOASID_ALLOC_NESTED,
				   .parent = n->parent };

	CHECK(ioctl(n->r.fd, IOASID_ALLOC, &ca) == 0);
	*child = ca.out_ioasid;
	CHECK_ERR(io_attach(n->r.fd, dev, *child), 0);
	return 0;
}

/*
 * The guest's table: IOVA_SRC (first 2 MiB, l1s) to page 16, IOVA_DST
 * (second 2 MiB, l1) to page 17.
 */
static void nest_tables(struct nest_rig *n)
{
	n->l4[0] = (NEST_GPA + SZ_4K) | NEST_PTE;
	n->l3[0] = (NEST_GPA + 2 * SZ_4K) | NEST_PTE;
	n->l2[IOVA_SRC >> 21 & 511] = (NEST_GPA + 3 * SZ_4K) | NEST_PTE;
	n->l2[IOVA_DST >> 21 & 511] = (NEST_GPA + 4 * SZ_4K) | NEST_PTE;
	n->l1s[IOVA_SRC >> 12 & 511] = (NEST_GPA + 16 * SZ_4K) | NEST_PTE;
	n->l1[IOVA_DST >> 12 & 511] = (NEST_GPA + 17 * SZ_4K) | NEST_PTE;
}

/* The table at NEST_GPA bound to @child and all of it invalidated. */
static int nest_bind(struct nest_rig *n, uint32_t child)
{
	struct ioasid_pgtbl_bind b = { .size = sizeof(b),
				       .format = IOASID_PGTBL_X86_64,
				       .addr_width = 48, .root = NEST_GPA,
				       .ioasid = child };

	CHECK(ioctl(n->r.fd, IOASID_PGTBL_BIND, &b) == 0);
	return nest_inv(n->r.fd, child, 0, ~0ULL);
}

static int t_fd_nested_table(struct fx *f)
{
	struct nest_rig n;
	uint8_t *src, *a, *bb;
	uint64_t *l1;
	uint32_t child;
	int rc, fd;

	(void)f;
	rc = nest_open(&n, SZ_4K | SZ_2M, true);
	if (rc)
		return rc;
	fd = n.r.fd;
	/* Data at pages 16, 17 and 18. */
	src = n.ram + 16 * SZ_4K;
	a = n.ram + 17 * SZ_4K;
	bb = n.ram + 18 * SZ_4K;
	l1 = n.l1;
	CHECK_OK(nest_child(&n, n.r.dev[0], &child));
	nest_tables(&n);
	/* Nothing is translated before the first invalidation... */
	CHECK_ERR(nest_bind(&n, child), 0);
	fill(src, SZ_4K, 0x5a);
	memset(a, 0xee, SZ_4K);
	memset(bb, 0xee, SZ_4K);
	CHECK(edu_dma(&n.r.e[0], IOVA_SRC, false, EDU_LEN) == 0);
	CHECK(edu_dma(&n.r.e[0], IOVA_DST, true, EDU_LEN) == 0);
	CHECK(memcmp(a, src, EDU_LEN) == 0);
	CHECK(all_bytes(bb, SZ_4K, 0xee));
	/* The PTE rewritten and invalidated: the next DMA lands in bb. */
	memset(a, 0xee, SZ_4K);
	l1[IOVA_DST >> 12 & 511] = (NEST_GPA + 18 * SZ_4K) | NEST_PTE;
	CHECK_ERR(nest_inv(fd, child, IOVA_DST, 1), 0);
	CHECK(edu_dma(&n.r.e[0], IOVA_DST, true, EDU_LEN) == 0);
	CHECK(memcmp(bb, src, EDU_LEN) == 0);
	CHECK(all_bytes(a, SZ_4K, 0xee));
	/* Cleared and invalidated: the write is blocked, nothing changes. */
	memset(bb, 0xee, SZ_4K);
	l1[IOVA_DST >> 12 & 511] = 0;
	CHECK_ERR(nest_inv(fd, child, IOVA_DST, 1), 0);
	CHECK(edu_dma(&n.r.e[0], IOVA_DST, true, EDU_LEN) == 0);
	CHECK(all_bytes(a, SZ_4K, 0xee));
	CHECK(all_bytes(bb, SZ_4K, 0xee));
	/* Read-only at stage 1: writes blocked too; reads still work. */
	l1[IOVA_DST >> 12 & 511] = (NEST_GPA + 17 * SZ_4K) | 0x5;
	CHECK_ERR(nest_inv(fd, child, IOVA_DST, 1), 0);
	CHECK(edu_dma(&n.r.e[0], IOVA_DST, true, EDU_LEN) == 0);
	CHECK(all_bytes(a, SZ_4K, 0xee));
	nest_close(&n);
	return 0;
}

/*
 * A 2 MiB stage-1 leaf over a hugepage the parent maps gets a 2 MiB IOMMU
 * page (when the IOMMU has one): the page size is the largest both stages
 * and the memory allow. The same hugepage mapped a second time in the
 * parent with max_pgshift 12 caps a 2 MiB leaf over it at 4 KiB, and a
 * 4 KiB leaf over the hugepage is a 4 KiB page. The edu reads the far end
 * of each 2 MiB leaf through the nested domain.
 */
#define NEST_HUGE_GPA	(NEST_GPA + SZ_2M)	/* the hugepage, 2 MiB aligned */
#define NEST_HUGE4K_GPA	(NEST_GPA + 2 * SZ_2M)	/* again, max_pgshift 12 */
#define PTE_PS		0x80ULL

static int nest_query(int fd, uint32_t as, uint64_t iova, uint64_t len,
		      uint64_t *pgsizes)
{
	struct ioasid_query_pgsize q = { .size = sizeof(q), .ioasid = as,
					 .iova = iova, .length = len };

	if (ioctl(fd, IOASID_QUERY_PGSIZE, &q))
		return -errno;
	*pgsizes = q.out_pgsize_bitmap;
	return q.out_mapped_bytes == len ? 0 : -ERANGE;
}

static int t_fd_nested_hugepage(struct fx *f)
{
	struct ioasid_info info = { .size = sizeof(info) };
	struct ioasid_map_dma m4k = {
		.size = sizeof(m4k), .flags = IOASID_DMA_READ | IOASID_DMA_WRITE,
		.max_pgshift = 12, .iova = NEST_HUGE4K_GPA, .length = SZ_2M,
	};
	struct nest_rig n;
	uint64_t *l2, *l1;
	uint8_t *dst, *huge;
	uint64_t want, got = 0;
	uint32_t child;
	int rc, fd;

	(void)f;
	rc = nest_open(&n, SZ_4K | SZ_2M, true);
	if (rc)
		return rc;
	rc = fd_rig_huge(&n.r, false);
	if (rc) {
		/* fd_rig_huge() closed the rig. */
		munmap(n.ram, NEST_RAM);
		return rc;
	}
	huge = n.r.huge;
	fd = n.r.fd;
	/* One level-1 table, at page 3; data at page 16. */
	l2 = n.l2;
	l1 = n.l2 + 512;
	dst = n.ram + 16 * SZ_4K;
	fill(huge, SZ_2M, 0x6b);
	CHECK_ERR(io_map(fd, n.parent, NEST_HUGE_GPA, huge, SZ_2M), 0);
	m4k.ioasid = n.parent;
	m4k.vaddr = (uintptr_t)huge;
	CHECK(ioctl(fd, IOASID_MAP_DMA, &m4k) == 0);
	CHECK_OK(nest_child(&n, n.r.dev[0], &child));
	n.l4[0] = (NEST_GPA + SZ_4K) | NEST_PTE;
	n.l3[0] = (NEST_GPA + 2 * SZ_4K) | NEST_PTE;
	/* Two 2 MiB leaves, and a 4 KiB leaf into the hugepage. */
	l2[IOVA_HUGE >> 21 & 511] = NEST_HUGE_GPA | PTE_PS | NEST_PTE;
	l2[(IOVA_HUGE + SZ_2M) >> 21 & 511] = NEST_HUGE4K_GPA | PTE_PS |
					      NEST_PTE;
	l2[IOVA_DST >> 21 & 511] = (NEST_GPA + 3 * SZ_4K) | NEST_PTE;
	l1[IOVA_DST >> 12 & 511] = (NEST_GPA + 16 * SZ_4K) | NEST_PTE;
	l1[(IOVA_DST >> 12 & 511) + 1] = (NEST_HUGE_GPA + SZ_4K) | NEST_PTE;
	CHECK_ERR(nest_bind(&n, child), 0);
	info.ioasid = child;
	CHECK(ioctl(fd, IOASID_GET_INFO, &info) == 0);
	diag("nested ioasid page sizes 0x%llx",
	     (unsigned long long)info.out_pgsize_bitmap);
	want = info.out_pgsize_bitmap & SZ_2M ? SZ_2M : SZ_4K;
	if (want != SZ_2M)
		diag("the IOMMU has no 2 MiB page: expecting 4 KiB pages");
	CHECK_ERR(nest_query(fd, child, IOVA_HUGE, SZ_2M, &got), 0);
	diag("2 MiB stage-1 leaf over a hugepage: page sizes 0x%llx",
	     (unsigned long long)got);
	CHECK_EQ(got, want);
	CHECK_ERR(nest_query(fd, child, IOVA_HUGE + SZ_2M, SZ_2M, &got),
		  0);
	CHECK_EQ(got, SZ_4K);
	CHECK_ERR(nest_query(fd, child, IOVA_DST + SZ_4K, SZ_4K, &got),
		  0);
	CHECK_EQ(got, SZ_4K);
	/* The device reaches the last page of each 2 MiB leaf. */
	memset(dst, 0, SZ_4K);
	huge[SZ_2M - SZ_4K] = 0x11;
	CHECK(edu_dma(&n.r.e[0], IOVA_HUGE + SZ_2M - SZ_4K, false, EDU_LEN) == 0);
	CHECK(edu_dma(&n.r.e[0], IOVA_DST, true, EDU_LEN) == 0);
	CHECK(memcmp(dst, huge + SZ_2M - SZ_4K, EDU_LEN) == 0);
	memset(dst, 0, SZ_4K);
	huge[SZ_2M - SZ_4K] = 0x22;
	CHECK(edu_dma(&n.r.e[0], IOVA_HUGE + 2 * SZ_2M - SZ_4K, false,
		      EDU_LEN) == 0);
	CHECK(edu_dma(&n.r.e[0], IOVA_DST, true, EDU_LEN) == 0);
	CHECK(memcmp(dst, huge + SZ_2M - SZ_4K, EDU_LEN) == 0);
	/* And writes through the 4 KiB leaf land in the hugepage. */
	CHECK(edu_dma(&n.r.e[0], IOVA_DST + SZ_4K, true, EDU_LEN) == 0);
	CHECK(memcmp(huge + SZ_4K, huge + SZ_2M - SZ_4K, EDU_LEN) == 0);
	nest_close(&n);
	return 0;
}

/*
 * The hardware nesting probe decides from the device's IOMMU: only VT-d
 * with first-stage translation, nesting and scalable mode (ECAP bits 47,
 * 26, 43, in the IOMMU's sysfs ecap) could nest the x86-64 table in
 * hardware. QEMU 7.2's emulated VT-d has no first stage: the nested
 * ioasid says software and not capable, and the module says why in the
 * kernel log at attach. A nested ioasid with a software device only is
 * never capable.
 */
static int dev_ecap(const char *bdf, uint64_t *ecap)
{
	char path[512];
	FILE *fp;
	int n;

	snprintf(path, sizeof(path),
		 "/sys/bus/pci/devices/%s/iommu/intel-iommu/ecap", bdf);
	fp = fopen(path, "r");
	if (!fp)
		return -errno;
	n = fscanf(fp, "%" SCNx64, ecap);
	fclose(fp);
	return n == 1 ? 0 : -EINVAL;
}

/* IOASID_GET_INFO of @as without ranges: 0 or -errno. */
static int nest_info(int fd, uint32_t as, struct ioasid_info *info)
{
	memset(info, 0, sizeof(*info));
	info->size = sizeof(*info);
	info->ioasid = as;
	return ioctl(fd, IOASID_GET_INFO, info) ? -errno : 0;
}

static int t_fd_nested_probe(struct fx *f)
{
	const uint32_t mask = IOASID_INFO_NESTED | IOASID_INFO_NESTED_SW |
			      IOASID_INFO_NESTED_HW |
			      IOASID_INFO_NESTED_HW_CAPABLE;
	struct ioasid_alloc ca = { .size = sizeof(ca),
				   .flags = IOASID_ALLOC_NESTED };
	struct ioasid_alloc ca2 = { .size = sizeof(ca2),
				    .flags = IOASID_ALLOC_NESTED };
	struct ioasid_swdev_create *sw;
	struct ioasid_info info;
	struct nest_rig n;
	uint32_t sw2 = 0;
	uint64_t ecap = 0;
	bool hw;
	int rc, fd, kmsg;

	(void)f;
	rc = nest_open(&n, SZ_4K, false);
	if (rc)
		return rc;
	fd = n.r.fd;
	sw = &n.sw;
	CHECK_ERR(dev_ecap(n.r.e[0].bdf, &ecap), 0);
	hw = (ecap >> 47 & 1) && (ecap >> 26 & 1) && (ecap >> 43 & 1);
	diag("%s: VT-d ecap 0x%" PRIx64 ": first stage %d, nesting %d, scalable %d",
	     n.r.e[0].bdf, ecap, (int)(ecap >> 47 & 1), (int)(ecap >> 26 & 1),
	     (int)(ecap >> 43 & 1));
	ca.parent = n.parent;
	ca2.parent = n.parent;
	CHECK(ioctl(fd, IOASID_ALLOC, &ca) == 0);
	CHECK(ioctl(fd, IOASID_ALLOC, &ca2) == 0);
	/* No device yet: nothing to probe, not capable. */
	CHECK_ERR(nest_info(fd, ca.out_ioasid, &info), 0);
	CHECK_EQ(info.out_flags & mask,
		 IOASID_INFO_NESTED | IOASID_INFO_NESTED_SW);
	kmsg = kmsg_mark();
	CHECK(kmsg >= 0);
	CHECK_ERR(io_attach(fd, n.r.dev[0], ca.out_ioasid), 0);
	CHECK_ERR(nest_info(fd, ca.out_ioasid, &info), 0);
	if (hw && !(info.out_flags & IOASID_INFO_NESTED_HW_CAPABLE))
		diag("the ecap offers nesting but the driver allocates no nesting parent (scalable mode off?)");
	if (!hw)
		CHECK_EQ(info.out_flags & mask,
			 IOASID_INFO_NESTED | IOASID_INFO_NESTED_SW);
	/* Decided either way, the shadow is what runs: software. */
	CHECK(info.out_flags & IOASID_INFO_NESTED_SW);
	CHECK(!(info.out_flags & IOASID_INFO_NESTED_HW));
	CHECK(kmsg_has(kmsg, hw ? "nested in software; hardware nesting" :
			     "nested in software; hardware nesting unavailable"));
	close(kmsg);
	/* Said once a device: attach and detach again say nothing more. */
	kmsg = kmsg_mark();
	CHECK(kmsg >= 0);
	for (int i = 0; i < 3; i++) {
		struct ioasid_device_detach dd = {
			.size = sizeof(dd), .dev_id = n.r.dev[0],
		};

		CHECK(ioctl(fd, IOASID_DEVICE_DETACH, &dd) == 0);
		CHECK_ERR(io_attach(fd, n.r.dev[0], ca.out_ioasid), 0);
	}
	CHECK(!kmsg_has(kmsg, "nested in software"));
	close(kmsg);
	/* The plain ioasid the device could be on instead is never capable. */
	CHECK_ERR(nest_info(fd, n.parent, &info), 0);
	CHECK(!(info.out_flags & IOASID_INFO_NESTED_HW_CAPABLE));
	/* A software device has no IOMMU: never capable. */
	sw->pgsize_bitmap = SZ_4K | SZ_2M;
	CHECK(ioctl(fd, IOASID_SWDEV_CREATE, sw) == 0);
	sw2 = sw->out_dev_id;
	CHECK_ERR(io_attach(fd, sw2, ca2.out_ioasid), 0);
	CHECK_ERR(nest_info(fd, ca2.out_ioasid, &info), 0);
	CHECK_EQ(info.out_flags & mask,
		 IOASID_INFO_NESTED | IOASID_INFO_NESTED_SW);
	nest_close(&n);
	return 0;
}

/*
 * Every fault point of a nested invalidation that moves a PTE under an edu
 * fails in turn. Before the work (the copy-in of its entries: EFAULT; the
 * walk's allocations: ENOMEM) the old translation stays; at the IOMMU
 * domain's replace (ENOMEM) the entry is withdrawn and neither page is
 * reached; at the copy-out of entry_num (EFAULT) the move has taken, as for
 * any ioctl whose result cannot be written back. Either way the next
 * invalidation installs the new translation and the edu's DMA lands there,
 * the kernel log stays clean (the suite checks it), and the module's
 * objects come back to their count.
 */
#define FAIL_NTH	"/sys/module/ioasid/parameters/fail_nth"
#define LIVE_OBJS	"/sys/module/ioasid/parameters/live_objects"

static long read_param(const char *path)
{
	FILE *fp = fopen(path, "r");
	long v = -1;

	if (fp) {
		if (fscanf(fp, "%ld", &v) != 1)
			v = -1;
		fclose(fp);
	}
	return v;
}

static int t_fd_nested_fault_walk(struct fx *f)
{
	unsigned int n, failed = 0, kept_old = 0, withdrawn = 0, after = 0;
	struct nest_rig nr;
	uint8_t *src, *a, *bb;
	uint64_t *l1;
	bool moved, kept;
	uint32_t child;
	long live0;
	int rc, fd;

	(void)f;
	live0 = read_param(LIVE_OBJS);
	if (live0 < 0 || set_param(FAIL_NTH, 0) < 0) {
		skip_reason("ioasid.ko's fail_nth and live_objects are needed (root)");
		return SKIP_RC;
	}
	rc = nest_open(&nr, SZ_4K, true);
	if (rc)
		return rc;
	fd = nr.r.fd;
	src = nr.ram + 16 * SZ_4K;
	a = nr.ram + 17 * SZ_4K;
	bb = nr.ram + 18 * SZ_4K;
	l1 = nr.l1;
	CHECK_OK(nest_child(&nr, nr.r.dev[0], &child));
	nest_tables(&nr);
	CHECK_ERR(nest_bind(&nr, child), 0);
	fill(src, SZ_4K, 0x3d);
	/* The edu's buffer holds src from here on. */
	CHECK(edu_dma(&nr.r.e[0], IOVA_SRC, false, EDU_LEN) == 0);
	for (n = 1; n < 64; n++) {
		long left;

		/* Back to a, then moved to bb with the n-th point failing. */
		l1[IOVA_DST >> 12 & 511] = (NEST_GPA + 17 * SZ_4K) | NEST_PTE;
		CHECK_ERR(nest_inv(fd, child, IOVA_DST, 1), 0);
		memset(a, 0xee, SZ_4K);
		memset(bb, 0xee, SZ_4K);
		l1[IOVA_DST >> 12 & 511] = (NEST_GPA + 18 * SZ_4K) | NEST_PTE;
		CHECK(set_param(FAIL_NTH, n) == 0);
		rc = nest_inv(fd, child, IOVA_DST, 1);
		left = set_param(FAIL_NTH, 0);
		if (left > 0) {
			/* The call passed no n-th point: all are done. */
			CHECK_ERR(rc, 0);
			CHECK(edu_dma(&nr.r.e[0], IOVA_DST, true, EDU_LEN) == 0);
			CHECK(memcmp(bb, src, EDU_LEN) == 0);
			CHECK(all_bytes(a, SZ_4K, 0xee));
			break;
		}
		failed++;
		CHECK(edu_dma(&nr.r.e[0], IOVA_DST, true, EDU_LEN) == 0);
		moved = !all_bytes(bb, SZ_4K, 0xee);
		kept = !all_bytes(a, SZ_4K, 0xee);
		diag("point %u: %s, old %s, new %s", n, strerror(-rc),
		     kept ? "kept" : "gone", moved ? "in effect" : "absent");
		CHECK(!(moved && kept));
		if (moved) {
			/* The copy-out of entry_num, after the work. */
			CHECK_ERR(rc, -EFAULT);
			CHECK(memcmp(bb, src, EDU_LEN) == 0);
			after++;
		} else if (kept) {
			/* The copy-in (EFAULT) or the walk (ENOMEM). */
			CHECK(rc == -EFAULT || rc == -ENOMEM);
			CHECK(memcmp(a, src, EDU_LEN) == 0);
			kept_old++;
		} else {
			/* The IOMMU domain's replace: the entry withdrawn. */
			CHECK_ERR(rc, -ENOMEM);
			withdrawn++;
		}
		memset(bb, 0xee, SZ_4K);
		/* Invalidated again without a fault: the move takes. */
		memset(a, 0xee, SZ_4K);
		CHECK_ERR(nest_inv(fd, child, IOVA_DST, 1), 0);
		CHECK(edu_dma(&nr.r.e[0], IOVA_DST, true, EDU_LEN) == 0);
		CHECK(memcmp(bb, src, EDU_LEN) == 0);
		CHECK(all_bytes(a, SZ_4K, 0xee));
	}
	diag("moving one PTE: %u fault points: %u kept the old translation, %u withdrew it, %u failed after the move",
	     failed, kept_old, withdrawn, after);
	CHECK(n < 64);
	CHECK(kept_old > 0);
	CHECK(withdrawn > 0);
	nest_close(&nr);
	CHECK_EQ(read_param(LIVE_OBJS), live0);
	return 0;
}

/* The end of @field in @type: a struct version's size, by its last field. */
#define END_OF(type, field) \
	(offsetof(type, field) + sizeof(((type *)0)->field))

/* IOASID_VFIO_BIND at @size from @buf: 0 or -errno. */
static int bind_sized(int container, void *buf, uint32_t size)
{
	((struct ioasid_vfio_bind *)buf)->size = size;
	return ioctl(container, IOASID_VFIO_BIND, buf) ? -errno : 0;
}

/*
 * IOASID_VFIO_BIND reads its struct the way the ioasid fd's decoder does
 * (size first): the first version's size is served; a newer caller's
 * larger struct is served when the bytes this build does not know are 0
 * and refused with E2BIG otherwise, as is a size past the 4 KiB bound; a
 * size below the first version and unknown flags are EINVAL. Nothing is
 * bound by a refused call, and a served call writes back no byte past the
 * struct it knows.
 */
static int t_fd_bind_struct_sizes(struct fx *f)
{
	const uint32_t first = END_OF(struct ioasid_vfio_bind, dev_ids_uptr);
	const uint32_t big = sizeof(struct ioasid_vfio_bind) + 40;
	struct ioasid_vfio_bind *b;
	uint8_t *buf = calloc(1, 8192);
	uint32_t id = 0, i;
	struct fd_rig r;
	int container, rc;

	(void)f;
	rc = fd_rig_open(&r, 1, FD_OPENED);
	if (rc)
		return rc;
	container = r.e[0].container;
	CHECK(buf);
	b = (struct ioasid_vfio_bind *)buf;
	b->ioasid_fd = r.fd;
	b->num_devs = 1;
	b->dev_ids_uptr = (uintptr_t)&id;
	CHECK_ERR(bind_sized(container, buf, first - 8), -EINVAL);
	CHECK_ERR(bind_sized(container, buf, 4), -EINVAL);
	b->flags = 1;
	CHECK_ERR(bind_sized(container, buf, first), -EINVAL);
	b->flags = 1u << 31;
	CHECK_ERR(bind_sized(container, buf, big), -EINVAL);
	b->flags = 0;
	buf[big - 1] = 1;
	CHECK_ERR(bind_sized(container, buf, big), -E2BIG);
	buf[big - 1] = 0;
	CHECK_ERR(bind_sized(container, buf, 8192), -E2BIG);
	CHECK_EQ(id, 0);			/* nothing bound so far */
	/* A newer caller: zero tail, served; the tail is left alone. */
	memset(buf + sizeof(*b), 0, 8192 - sizeof(*b));
	CHECK_ERR(bind_sized(container, buf, big), 0);
	CHECK_EQ(b->num_devs, 1);
	CHECK(id != 0);
	for (i = sizeof(*b); i < big; i++)
		CHECK_EQ(buf[i], 0);
	/* The first version, again on the same fd: the same device. */
	b->num_devs = 1;
	id = 0;
	CHECK_ERR(bind_sized(container, buf, first), 0);
	CHECK_EQ(b->num_devs, 1);
	CHECK(id != 0);
	fd_rig_close(&r);
	free(buf);
	return 0;
}

#define UNMAP_VADDR	VFIO_DMA_UNMAP_FLAG_VADDR
#define MAP_VADDR	VFIO_DMA_MAP_FLAG_VADDR
#define IOVA_LOW	0x80000ULL	/* below IOVA_SRC */
#define IOVA_NEW	0x600000ULL

/*
 * VFIO_UPDATE_VADDR (type1 6.12's rules, the same on both backends): an
 * unmap with VFIO_DMA_UNMAP_FLAG_VADDR invalidates the vaddr of whole
 * mappings and leaves them mapped (the device still reads them); a map
 * with VFIO_DMA_MAP_FLAG_VADDR supplies the new vaddr of exactly one
 * invalidated mapping. The live update: the source page lives in a
 * memfd, its mapping in the process is replaced by a new mmap at another
 * address (and the destination, anonymous, is moved with mremap), the
 * new vaddrs are supplied, and the edu's DMA reads the bytes written
 * through the new mapping and writes where the moved one reads.
 */
static int t_type1_update_vaddr(struct fx *f)
{
	const uint32_t rw = VFIO_DMA_MAP_FLAG_READ | VFIO_DMA_MAP_FLAG_WRITE;
	int fresh, mfd, rc;
	uint8_t *va1, *va2, *dst, *dst2, *low = pages(2 * SZ_4K);
	uint8_t *other = pages(SZ_4K), *spare;
	uint64_t unmapped = 0;
	struct edu e;

	(void)f;
	rc = edu_open(&e, 0, type1_type());
	if (rc)
		return rc;
	CHECK(low && other);
	/* Offered on a type1v2 container; not before VFIO_SET_IOMMU. */
	CHECK_EQ(ioctl(e.container, VFIO_CHECK_EXTENSION, VFIO_UPDATE_VADDR),
		 1);
	fresh = open("/dev/vfio/vfio", O_RDWR);
	CHECK(fresh >= 0);
	CHECK_EQ(ioctl(fresh, VFIO_CHECK_EXTENSION, VFIO_UPDATE_VADDR), 0);
	close(fresh);

	mfd = memfd_create("vaddr", 0);
	CHECK(mfd >= 0);
	CHECK_OK(ftruncate(mfd, SZ_4K));
	va1 = mmap(NULL, SZ_4K, PROT_READ | PROT_WRITE, MAP_SHARED, mfd, 0);
	dst = pages(SZ_4K);
	/* Where the moved mappings go: reserved, then given back. */
	spare = pages(2 * SZ_4K);
	CHECK(va1 != MAP_FAILED && dst && spare);
	CHECK_OK(munmap(spare, 2 * SZ_4K));
	fill(va1, SZ_4K, 0x31);
	memset(dst, 0, SZ_4K);
	CHECK_ERR(vmap(&e, IOVA_LOW, low, 2 * SZ_4K, rw), 0);
	CHECK_ERR(vmap(&e, IOVA_SRC, va1, SZ_4K, VFIO_DMA_MAP_FLAG_READ), 0);
	CHECK_ERR(vmap(&e, IOVA_DST, dst, SZ_4K, rw), 0);

	/* Bad arguments while every vaddr is valid. */
	CHECK_ERR(vmap(&e, IOVA_SRC, va1, SZ_4K, MAP_VADDR), -EINVAL);
	CHECK_ERR(vmap(&e, IOVA_SRC, va1, SZ_4K,
		       MAP_VADDR | VFIO_DMA_MAP_FLAG_READ), -EINVAL);
	CHECK_ERR(vmap(&e, IOVA_NEW, va1, SZ_4K, MAP_VADDR), -ENOENT);
	CHECK_ERR(vunmap(&e, IOVA_LOW, SZ_4K, UNMAP_VADDR, NULL),
		  -EINVAL);		/* part of a mapping */
	CHECK_ERR(vunmap(&e, IOVA_LOW + SZ_4K, SZ_4K, UNMAP_VADDR, NULL),
		  -EINVAL);		/* the other part */
	CHECK_ERR(vunmap(&e, IOVA_LOW + 0x800, SZ_4K, UNMAP_VADDR, NULL),
		  -EINVAL);		/* not aligned */
	CHECK_ERR(vunmap(&e, IOVA_LOW, 2 * SZ_4K - 0x800, UNMAP_VADDR, NULL),
		  -EINVAL);
	CHECK_ERR(vunmap(&e, IOVA_LOW, 0, UNMAP_VADDR, NULL), -EINVAL);
	CHECK_ERR(vunmap(&e, ~0ULL << 12, 2 * SZ_4K, UNMAP_VADDR, NULL),
		  -EINVAL);		/* wraps */
	CHECK_ERR(vunmap(&e, IOVA_LOW, SZ_4K,
			 UNMAP_VADDR | VFIO_DMA_UNMAP_FLAG_ALL, NULL),
		  -EINVAL);		/* ALL takes no range */
	CHECK_ERR(vunmap(&e, IOVA_LOW, 2 * SZ_4K,
			 UNMAP_VADDR | VFIO_DMA_UNMAP_FLAG_GET_DIRTY_BITMAP,
			 NULL), -EINVAL);
	CHECK_ERR(vunmap(&e, IOVA_LOW, 2 * SZ_4K, 1u << 5, NULL), -EINVAL);
	/* A range with no mapping: done, nothing. */
	CHECK_ERR(vunmap(&e, IOVA_NEW, SZ_4K, UNMAP_VADDR, &unmapped), 0);
	CHECK_EQ(unmapped, 0);

	/* Invalidate src: still mapped, the device reads it. */
	CHECK_ERR(vunmap(&e, IOVA_SRC, SZ_4K, UNMAP_VADDR, &unmapped), 0);
	CHECK_EQ(unmapped, SZ_4K);
	CHECK(edu_dma(&e, IOVA_SRC, false, EDU_LEN) == 0);
	CHECK(edu_dma(&e, IOVA_DST, true, EDU_LEN) == 0);
	CHECK(memcmp(dst, va1, EDU_LEN) == 0);
	CHECK_ERR(vunmap(&e, IOVA_SRC, SZ_4K, UNMAP_VADDR, NULL), -EINVAL);
	/*
	 * low and src in one call: src is invalid already, so nothing is
	 * invalidated (type1 undoes low): low is still valid after.
	 */
	CHECK_ERR(vunmap(&e, IOVA_LOW, IOVA_SRC + SZ_4K - IOVA_LOW,
			 UNMAP_VADDR, NULL), -EINVAL);
	CHECK_ERR(vmap(&e, IOVA_LOW, low, 2 * SZ_4K, MAP_VADDR), -EINVAL);
	/* Updates must name exactly the mapping, aligned, not wrapping. */
	CHECK_ERR(vmap(&e, IOVA_SRC, va1, 2 * SZ_4K, MAP_VADDR), -EINVAL);
	CHECK_ERR(vmap(&e, IOVA_SRC - SZ_4K, va1, 2 * SZ_4K, MAP_VADDR),
		  -EINVAL);
	CHECK_ERR(vmap(&e, IOVA_SRC, va1 + 0x800, SZ_4K, MAP_VADDR), -EINVAL);
	CHECK_ERR(vmap(&e, IOVA_SRC + 0x800, va1, SZ_4K, MAP_VADDR), -EINVAL);
	CHECK_ERR(vmap(&e, IOVA_SRC, va1, 0, MAP_VADDR), -EINVAL);
	CHECK_ERR(vmap(&e, IOVA_SRC, (void *)(uintptr_t)(~0ULL << 12),
		       2 * SZ_4K, MAP_VADDR), -EINVAL);
	CHECK_ERR(vmap(&e, IOVA_SRC - SZ_4K, va1, SZ_4K, MAP_VADDR),
		  -ENOENT);		/* nothing there */
	CHECK_ERR(vmap(&e, IOVA_SRC, va1, SZ_4K,
		       MAP_VADDR | VFIO_DMA_MAP_FLAG_WRITE), -EINVAL);
	/* A new mapping elsewhere meanwhile: type1 (6.12) takes it. */
	CHECK_ERR(vmap(&e, IOVA_NEW, other, SZ_4K, rw), 0);
	CHECK_ERR(vunmap(&e, IOVA_NEW, SZ_4K, 0, &unmapped), 0);
	CHECK_EQ(unmapped, SZ_4K);
	/* The same vaddr back. */
	CHECK_ERR(vmap(&e, IOVA_SRC, va1, SZ_4K, MAP_VADDR), 0);
	CHECK_ERR(vmap(&e, IOVA_SRC, va1, SZ_4K, MAP_VADDR), -EINVAL);

	/*
	 * The live update. Invalidate src and dst; the memfd page gets a
	 * new mapping at another address (the old one goes), dst's pages
	 * move with mremap; new bytes are written through the new mapping.
	 */
	CHECK_ERR(vunmap(&e, IOVA_SRC, IOVA_DST + SZ_4K - IOVA_SRC,
			 UNMAP_VADDR, &unmapped), 0);
	CHECK_EQ(unmapped, 2 * SZ_4K);
	CHECK_OK(munmap(va1, SZ_4K));
	va2 = mmap(spare, SZ_4K, PROT_READ | PROT_WRITE,
		   MAP_SHARED | MAP_FIXED_NOREPLACE, mfd, 0);
	CHECK(va2 == spare && va2 != va1);
	dst2 = mremap(dst, SZ_4K, SZ_4K, MREMAP_MAYMOVE | MREMAP_FIXED,
		      spare + SZ_4K);
	CHECK(dst2 == spare + SZ_4K);
	fill(va2, SZ_4K, 0x77);
	memset(dst2, 0xee, SZ_4K);
	CHECK_ERR(vmap(&e, IOVA_SRC, va2, SZ_4K, MAP_VADDR), 0);
	CHECK_ERR(vmap(&e, IOVA_DST, dst2, SZ_4K, MAP_VADDR), 0);
	CHECK(edu_dma(&e, IOVA_SRC, false, EDU_LEN) == 0);
	CHECK(edu_dma(&e, IOVA_DST + 1024, true, EDU_LEN) == 0);
	CHECK(all_bytes(dst2, 1024, 0xee));
	CHECK(memcmp(dst2 + 1024, va2, EDU_LEN) == 0);

	/* Every mapping at once, then back one by one. */
	CHECK_ERR(vunmap(&e, 0, 0, UNMAP_VADDR | VFIO_DMA_UNMAP_FLAG_ALL,
			 &unmapped), 0);
	CHECK_EQ(unmapped, 4 * SZ_4K);
	CHECK_ERR(vunmap(&e, 0, 0, UNMAP_VADDR | VFIO_DMA_UNMAP_FLAG_ALL,
			 NULL), -EINVAL);
	CHECK_ERR(vmap(&e, IOVA_SRC, va2, SZ_4K, MAP_VADDR), 0);
	CHECK_ERR(vmap(&e, IOVA_DST, dst2, SZ_4K, MAP_VADDR), 0);
	/* An invalid vaddr's mapping unmaps as any; its state goes too. */
	CHECK_ERR(vunmap(&e, IOVA_LOW, 2 * SZ_4K, 0, &unmapped), 0);
	CHECK_EQ(unmapped, 2 * SZ_4K);
	CHECK_ERR(vmap(&e, IOVA_LOW, low, 2 * SZ_4K, MAP_VADDR), -ENOENT);
	CHECK_ERR(vmap(&e, IOVA_LOW, low, 2 * SZ_4K, rw), 0);
	CHECK_ERR(vmap(&e, IOVA_LOW, low, 2 * SZ_4K, MAP_VADDR), -EINVAL);
	memset(dst2, 0, SZ_4K);
	CHECK(edu_dma(&e, IOVA_DST, true, EDU_LEN) == 0);
	CHECK(memcmp(dst2, va2, EDU_LEN) == 0);
	/* Closed with a vaddr invalid: the container goes all the same. */
	CHECK_ERR(vunmap(&e, IOVA_SRC, SZ_4K, UNMAP_VADDR, NULL), 0);
	edu_close(&e);
	munmap(va2, SZ_4K);
	munmap(dst2, SZ_4K);
	munmap(low, 2 * SZ_4K);
	munmap(other, SZ_4K);
	close(mfd);
	return 0;
}

static const struct test tests[] = {
	{ "type1_dma_roundtrip", t_type1_dma_roundtrip, NULL },
	{ "type1_unmap_faults", t_type1_unmap_faults, NULL },
	{ "type1_rules", t_type1_rules, NULL },
	{ "type1_info", t_type1_info, NULL },
	{ "type1_dirty", t_type1_dirty, NULL },
	{ "fd_two_ioasids_isolated", t_fd_two_ioasids_isolated, NULL },
	{ "fd_shared_ioasid_hugepage", t_fd_shared_ioasid_hugepage, NULL },
	{ "fd_shared_ioasid_hugepage_memfd", t_fd_shared_ioasid_hugepage_memfd,
	  NULL },
	{ "fd_batch_halves_unmap_apart", t_fd_batch_halves_unmap_apart, NULL },
	{ "fd_batch_halves_unmap_apart_memfd",
	  t_fd_batch_halves_unmap_apart_memfd, NULL },
	{ "fd_group_completeness", t_fd_group_completeness, NULL },
	{ "fd_dirty_vfio_device", t_fd_dirty_vfio_device, NULL },
	{ "fd_bind_struct_sizes", t_fd_bind_struct_sizes, NULL },
	{ "fd_nested_table", t_fd_nested_table, NULL },
	{ "fd_nested_hugepage", t_fd_nested_hugepage, NULL },
	{ "fd_nested_probe", t_fd_nested_probe, NULL },
	{ "fd_nested_fault_walk", t_fd_nested_fault_walk, NULL },
	{ "type1_update_vaddr", t_type1_update_vaddr, NULL },
};

int main(int argc, char **argv)
{
	find_edus();
	return run_tests("vfio", tests, sizeof(tests) / sizeof(tests[0]),
			 argc, argv);
}
