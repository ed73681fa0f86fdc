// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/*
 * The fast path's VFIO type1 backend on a real kernel: the batcher maps
 * and unmaps through VFIO_IOMMU_MAP_DMA/UNMAP_DMA on a container with an
 * edu device, and the device's DMA shows the IOMMU doing what the shadow
 * says. Run twice by the kernel suite: on the stock vfio_iommu_type1
 * (VFIO_TEST_IOMMU=type1) and on ioasid.ko's shim (=shim).
 */
#include <fcntl.h>
#include <sys/ioctl.h>

#include "edu.h"
#include "ioasid_fastpath.h"

struct fp {
	struct edu e;
	struct ioasid_fp_shadow *sh;
	struct ioasid_fp_backend *be;
	struct ioasid_fp_batcher *b;
};

static int fp_open(struct fp *p, uint32_t max_batch)
{
	struct ioasid_fp_batcher_cfg cfg = { .size = sizeof(cfg),
					     .max_batch = max_batch };
	int rc = edu_open(&p->e, 0, VFIO_TYPE1v2_IOMMU);

	if (rc)
		return rc;
	CHECK_OK(ioasid_fp_shadow_create(&p->sh));
	CHECK_OK(ioasid_fp_backend_vfio(p->e.container, &p->be));
	CHECK_OK(ioasid_fp_batcher_create(p->sh, p->be, &cfg, &p->b));
	return 0;
}

static void fp_close(struct fp *p)
{
	ioasid_fp_batcher_destroy(p->b);
	ioasid_fp_backend_destroy(p->be);
	ioasid_fp_shadow_destroy(p->sh);
	edu_close(&p->e);
}

/* What the shadow says @iova translates to, for @len bytes, or NULL. */
static void *shadow_hva(struct fp *p, uint64_t iova, uint64_t len)
{
	struct ioasid_fp_reader *r = NULL;
	uint64_t got = 0;
	void *hva = NULL;

	if (ioasid_fp_reader_register(p->sh, &r))
		return NULL;
	if (ioasid_fp_translate(r, iova, len, IOASID_FP_READ, &hva, &got) ||
	    got < len)
		hva = NULL;
	ioasid_fp_reader_unregister(r);
	return hva;
}

/* Map through the batcher, DMA, unmap, DMA again: the IOMMU follows. */
static int t_map_dma_unmap(struct fx *f)
{
	struct fp p;
	uint8_t *src = pages(SZ_4K), *dst = pages(SZ_4K);
	uint64_t unmapped = 0;
	int kmsg, rc = fp_open(&p, 256);

	(void)f;
	if (rc)
		return rc;
	CHECK(src && dst);
	fill(src, SZ_4K, 0x3c);
	memset(dst, 0xee, SZ_4K);
	CHECK_OK(ioasid_fp_map(p.b, IOVA_SRC, src, SZ_4K, IOASID_FP_READ));
	CHECK_OK(ioasid_fp_map(p.b, IOVA_DST, dst, SZ_4K,
			       IOASID_FP_READ | IOASID_FP_WRITE));
	CHECK(shadow_hva(&p, IOVA_DST, SZ_4K) == dst);
	CHECK(edu_dma(&p.e, IOVA_SRC, false, EDU_LEN) == 0);
	CHECK(edu_dma(&p.e, IOVA_DST, true, EDU_LEN) == 0);
	CHECK(memcmp(src, dst, EDU_LEN) == 0);
	CHECK_OK(ioasid_fp_unmap(p.b, IOVA_DST, SZ_4K, &unmapped));
	CHECK_EQ(unmapped, SZ_4K);
	CHECK(!shadow_hva(&p, IOVA_DST, SZ_4K));
	memset(dst, 0xee, SZ_4K);
	kmsg = kmsg_mark();
	CHECK(edu_dma(&p.e, IOVA_DST, true, EDU_LEN) == 0);
	CHECK(all_bytes(dst, SZ_4K, 0xee));
	CHECK(fault_logged(kmsg, IOVA_DST));
	close(kmsg);
	fp_close(&p);
	return 0;
}

/*
 * 64 page maps submitted at once: VFIO type1 has no batch call, and
 * type1v2 refuses an unmap that cuts a mapping, so the batcher must send
 * one call per page and merge nothing (a merged run could not lose one
 * page later). Every page translates in the IOMMU; one page in the middle
 * can go alone; one unmap of the whole range removes the rest.
 */
static int t_batched_pages(struct fx *f)
{
	struct ioasid_fp_req r[64];
	struct ioasid_fp_stats st;
	struct fp p;
	uint8_t *src = pages(SZ_4K), *buf = pages(64 * SZ_4K);
	uint64_t unmapped = 0;
	int i, rc = fp_open(&p, 256);

	(void)f;
	if (rc)
		return rc;
	CHECK(src && buf);
	fill(src, SZ_4K, 0x81);
	memset(buf, 0, 64 * SZ_4K);
	CHECK_OK(ioasid_fp_map(p.b, IOVA_SRC, src, SZ_4K, IOASID_FP_READ));
	for (i = 0; i < 64; i++) {
		memset(&r[i], 0, sizeof(r[i]));
		r[i].op = (struct ioasid_fp_op){ IOASID_FP_MAP,
			IOASID_FP_READ | IOASID_FP_WRITE,
			IOVA_HUGE + (uint64_t)i * SZ_4K,
			(uintptr_t)(buf + i * SZ_4K), SZ_4K };
		CHECK_OK(ioasid_fp_submit(p.b, &r[i]));
	}
	ioasid_fp_barrier(p.b);
	for (i = 0; i < 64; i++)
		CHECK_EQ(r[i].result, 0);
	ioasid_fp_batcher_stats(p.b, &st);
	diag("64 page maps: %llu backend calls, %llu merged",
	     (unsigned long long)st.backend_calls,
	     (unsigned long long)st.merged);
	CHECK_EQ(st.backend_calls, 65);
	CHECK_EQ(st.merged, 0);
	CHECK(edu_dma(&p.e, IOVA_SRC, false, EDU_LEN) == 0);
	CHECK(edu_dma(&p.e, IOVA_HUGE + 37 * SZ_4K, true, EDU_LEN) == 0);
	CHECK(memcmp(buf + 37 * SZ_4K, src, EDU_LEN) == 0);
	CHECK(all_bytes(buf + 36 * SZ_4K, SZ_4K, 0));
	CHECK_OK(ioasid_fp_unmap(p.b, IOVA_HUGE + 20 * SZ_4K, SZ_4K, &unmapped));
	CHECK_EQ(unmapped, SZ_4K);
	CHECK(!shadow_hva(&p, IOVA_HUGE + 20 * SZ_4K, 1));
	CHECK(shadow_hva(&p, IOVA_HUGE + 21 * SZ_4K, 1) == buf + 21 * SZ_4K);
	CHECK_OK(ioasid_fp_unmap(p.b, IOVA_HUGE, 64 * SZ_4K, &unmapped));
	CHECK_EQ(unmapped, 63 * SZ_4K);
	memset(buf, 0, 64 * SZ_4K);
	CHECK(edu_dma(&p.e, IOVA_HUGE + 5 * SZ_4K, true, EDU_LEN) == 0);
	CHECK(all_bytes(buf, 64 * SZ_4K, 0));
	fp_close(&p);
	return 0;
}

/* A backend error (an IOVA in the MSI window) reaches its own request. */
static int t_error_reaches_caller(struct fx *f)
{
	struct ioasid_fp_req ok = { 0 }, bad = { 0 };
	struct fp p;
	uint8_t *buf = pages(2 * SZ_4K);
	int rc = fp_open(&p, 256);

	(void)f;
	if (rc)
		return rc;
	CHECK(buf);
	ok.op = (struct ioasid_fp_op){ IOASID_FP_MAP, IOASID_FP_READ,
				       IOVA_SRC, (uintptr_t)buf, SZ_4K };
	bad.op = (struct ioasid_fp_op){ IOASID_FP_MAP, IOASID_FP_READ,
					0xfee00000ULL, (uintptr_t)(buf + SZ_4K),
					SZ_4K };
	CHECK_OK(ioasid_fp_submit(p.b, &ok));
	CHECK_OK(ioasid_fp_submit(p.b, &bad));
	ioasid_fp_barrier(p.b);
	CHECK_EQ(ok.result, 0);
	CHECK_EQ(bad.result, -EINVAL);
	CHECK(shadow_hva(&p, IOVA_SRC, SZ_4K) == buf);
	CHECK(!shadow_hva(&p, 0xfee00000ULL, SZ_4K));
	fp_close(&p);
	return 0;
}

static const struct test tests[] = {
	{ "map_dma_unmap", t_map_dma_unmap, NULL },
	{ "batched_pages", t_batched_pages, NULL },
	{ "error_reaches_caller", t_error_reaches_caller, NULL },
};

int main(int argc, char **argv)
{
	find_edus();
	return run_tests("fastpath-vfio", tests,
			 sizeof(tests) / sizeof(tests[0]), argc, argv);
}
