// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/* dpdk: rte_ioasid maps DPDK's memory at attach and follows its memory events, in VA and PA modes. */
#include <rte_eal.h>
#include <rte_malloc.h>
#include <rte_memory.h>

#include "fp_stack.h"
#include "harness.h"
#include "pmd.h"
#include "rte_ioasid.h"

struct env {
	struct ioasid_fp_backend *be;
	struct fp fp;
	struct rte_ioasid_dma *d;
};

static int eal_up(const char *mode, bool huge)
{
	char prefix[64];
	char *argv[16];
	int argc = 0;

	snprintf(prefix, sizeof(prefix), "--file-prefix=ioasid%d", getpid());
	argv[argc++] = "test_dpdk";
	argv[argc++] = "--no-pci";
	/* No files in hugetlbfs or /var/run; --no-huge keeps its own. */
	argv[argc++] = huge ? "--in-memory" : "--no-shconf";
	argv[argc++] = prefix;
	argv[argc++] = "-l";
	argv[argc++] = "0";
	argv[argc++] = (char *)mode;
	argv[argc++] = "--log-level=lib.eal:error";
	if (!huge) {
		argv[argc++] = "--no-huge";
		argv[argc++] = "-m";
		argv[argc++] = "64";
	}
	argv[argc] = NULL;
	return rte_eal_init(argc, argv) < 0 ? -1 : 0;
}

static int env_up(struct fx *f, struct env *e)
{
	struct ioasid_swdev_create c;
	struct ioasid_iova_range resv;
	uint32_t dev;

	/* A device with a 48-bit aperture and no reserved region: VA and
	 * PA addresses of this machine fit. */
	swdev_default(&c, &resv);
	c.aperture_last = (1ULL << 48) - 1;
	c.num_resv = 0;
	memset(e, 0, sizeof(*e));
	if (ioasid_swdev_create(f->h, &c, &dev) ||
	    ioasid_attach(f->h, dev, f->as) ||
	    ioasid_fp_backend_ioasid(f->h, f->as, &e->be) ||
	    fp_open(&e->fp, e->be, 0))
		return -1;
	return 0;
}

static void env_down(struct env *e)
{
	fp_close(&e->fp);
	ioasid_fp_backend_destroy(e->be);
}

struct walk_check {
	struct ioasid_fp_reader *r;
	uint32_t segs;
	uint32_t bad;
};

static int check_seg(const struct rte_memseg_list *msl,
		     const struct rte_memseg *ms, void *arg)
{
	struct walk_check *w = arg;
	void *hva;
	uint64_t c;

	(void)msl;
	if (ms->iova == RTE_BAD_IOVA)
		return 0;
	w->segs++;
	if (ioasid_fp_translate(w->r, ms->iova + ms->len - 64, 64,
				IOASID_FP_WRITE, &hva, &c) ||
	    hva != (char *)ms->addr + ms->len - 64 || c != 64)
		w->bad++;
	return 0;
}

static uint32_t engine_mappings(struct fx *f)
{
	struct ioasid_info info;

	return ioasid_get_info(f->h, f->as, &info, NULL, 0) ? UINT32_MAX :
	       info.out_num_mappings;
}

static int run_mode(struct fx *f, const char *mode, bool huge)
{
	struct rte_ioasid_dma_info info;
	struct walk_check w = { 0 };
	struct env e;
	void *hva;
	uint64_t c;

	if (huge && (geteuid() || pmd_hugepages(256))) {
		skip_reason("needs 256 free 2 MiB hugepages and root to reserve them");
		return SKIP_RC;
	}
	if (!strcmp(mode, "--iova-mode=pa") && geteuid()) {
		skip_reason("IOVA-as-PA needs root to read physical addresses");
		return SKIP_RC;
	}
	CHECK_OK(eal_up(mode, huge));
	CHECK_OK(env_up(f, &e));
	CHECK_OK(rte_ioasid_dma_attach(e.fp.b, &e.d));
	rte_ioasid_dma_info_get(e.d, &info);
	CHECK_EQ(info.events, huge);
	CHECK_EQ(info.iova_as_va, !strcmp(mode, "--iova-mode=va"));
	/* Every segment translates to its own memory. */
	w.r = e.fp.r;
	CHECK(rte_memseg_walk(check_seg, &w) == 0);
	CHECK(w.segs > 0);
	CHECK_EQ(w.bad, 0);
	CHECK_EQ(info.segments_mapped, w.segs);
	CHECK_EQ(engine_mappings(f), w.segs);
	diag("%s%s: %u segments mapped at attach", mode,
	     huge ? "" : " --no-huge", w.segs);
	if (huge) {
		/* Hot-add: DPDK allocates pages and tells us. */
		size_t len = 128 * SZ_1M;
		char *p = rte_malloc("ioasid-test", len, SZ_2M);
		uint64_t iova;
		struct rte_ioasid_dma_info after;

		CHECK(p != NULL);
		rte_ioasid_dma_info_get(e.d, &after);
		CHECK(after.events_seen > info.events_seen);
		CHECK(after.segments_mapped >= info.segments_mapped + 64);
		iova = rte_mem_virt2iova(p + len - SZ_4K);
		CHECK(iova != RTE_BAD_IOVA);
		CHECK_OK(ioasid_fp_translate(e.fp.r, iova, 64, IOASID_FP_READ,
					     &hva, &c));
		CHECK(hva == p + len - SZ_4K);
		memset(p, 0x5a, len);	/* the memory is real */
		diag("rte_malloc of 128 MiB: %llu events, %llu segments mapped",
		     (unsigned long long)after.events_seen,
		     (unsigned long long)after.segments_mapped);
		/* Free: DPDK gives the pages back and tells us. */
		rte_free(p);
		rte_ioasid_dma_info_get(e.d, &info);
		CHECK(info.events_seen > after.events_seen);
		CHECK(info.segments_mapped < after.segments_mapped);
		CHECK_ERR(ioasid_fp_translate(e.fp.r, iova, 64, IOASID_FP_READ,
					      &hva, &c), -EFAULT);
		CHECK_EQ(engine_mappings(f), info.segments_mapped);
	}
	CHECK_OK(rte_ioasid_dma_detach(e.d));
	CHECK_EQ(engine_mappings(f), 0);
	CHECK_EQ(ioasid_fp_shadow_count(e.fp.s), 0);
	env_down(&e);
	rte_eal_cleanup();
	return 0;
}

static int iova_va(struct fx *f)
{
	return run_mode(f, "--iova-mode=va", true);
}

static int iova_pa(struct fx *f)
{
	return run_mode(f, "--iova-mode=pa", true);
}

static int no_huge(struct fx *f)
{
	return run_mode(f, "--iova-mode=va", false);
}

static const struct test tests[] = {
	{ "iova_va_events", iova_va, NULL },
	{ "iova_pa_events", iova_pa, NULL },
	{ "no_huge_walk_only", no_huge, NULL },
};

int main(int argc, char **argv)
{
	return run_tests("dpdk", tests, sizeof(tests) / sizeof(tests[0]),
			 argc, argv);
}
