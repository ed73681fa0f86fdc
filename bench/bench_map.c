// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/*
 * ioasid-bench map: mapping and unmapping through the batcher against one
 * backend call per entry, on the embedded backend (the kernel backend joins
 * when the module exists).
 *
 * Each round maps N pages at distinct IOVAs over contiguous memory and
 * unmaps them again. "direct" calls ioasid_map()/ioasid_unmap() per page;
 * "batcher" submits every page to the batcher (max_batch 256) and waits
 * once, which also keeps the shadow up to date (a publish and a grace
 * period per flush): the batcher does more work per page, not less.
 * Operations per second count maps and unmaps; backend calls are counted.
 */
#include <sys/mman.h>

#include "bench.h"
#include "ioasid.h"
#include "ioasid_fastpath.h"

struct setup {
	struct ioasid_handle *h;
	uint32_t as;
	uint8_t *mem;
	size_t len;
};

static void open_setup(struct setup *s, size_t bytes)
{
	struct ioasid_open_opts o = { .size = sizeof(o),
				      .backend = IOASID_BACKEND_EMBEDDED };
	struct ioasid_swdev_create c = {
		.size = sizeof(c),
		.pgsize_bitmap = 4096 | (2ULL << 20) | (1ULL << 30),
		.aperture_last = (1ULL << 48) - 1,
		.group_size = 1,
	};
	uint32_t dev;

	if (ioasid_open(&o, &s->h) || ioasid_alloc(s->h, &s->as) ||
	    ioasid_swdev_create(s->h, &c, &dev) ||
	    ioasid_attach(s->h, dev, s->as))
		die("setup: %s", ioasid_strerror());
	s->len = bytes + (2ULL << 20);
	s->mem = mmap(NULL, s->len, PROT_READ | PROT_WRITE,
		      MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (s->mem == MAP_FAILED)
		die("mmap");
}

static void close_setup(struct setup *s)
{
	ioasid_close(s->h);
	munmap(s->mem, s->len);
}

static uint8_t *aligned(struct setup *s)
{
	return (uint8_t *)(((uintptr_t)s->mem + (2ULL << 20) - 1) &
			   ~(uintptr_t)((2ULL << 20) - 1));
}

/* Returns ns per operation (a map or an unmap). */
static double run_direct(struct setup *s, uint32_t n, uint64_t pg,
			 uint64_t *calls)
{
	uint8_t *base = aligned(s);
	uint64_t t0 = now_ns();

	for (uint32_t i = 0; i < n; i++)
		if (ioasid_map(s->h, s->as, (uint64_t)i * 2 * pg, base + i * pg,
			       pg, IOASID_DMA_READ | IOASID_DMA_WRITE))
			die("map: %s", ioasid_strerror());
	for (uint32_t i = 0; i < n; i++)
		if (ioasid_unmap(s->h, s->as, (uint64_t)i * 2 * pg, pg, NULL))
			die("unmap: %s", ioasid_strerror());
	*calls = 2ULL * n;
	return (double)(now_ns() - t0) / (2.0 * n);
}

static double run_batcher(struct setup *s, uint32_t n, uint64_t pg,
			  uint64_t *calls)
{
	struct ioasid_fp_batcher_cfg cfg = { .size = sizeof(cfg),
					     .max_batch = 256 };
	struct ioasid_fp_req *r = calloc(n, sizeof(*r));
	struct ioasid_fp_backend *be;
	struct ioasid_fp_shadow *sh;
	struct ioasid_fp_batcher *b;
	struct ioasid_fp_stats st;
	uint8_t *base = aligned(s);
	uint64_t t0;

	if (!r || ioasid_fp_shadow_create(&sh) ||
	    ioasid_fp_backend_ioasid(s->h, s->as, &be) ||
	    ioasid_fp_batcher_create(sh, be, &cfg, &b))
		die("batcher setup");
	t0 = now_ns();
	for (uint32_t i = 0; i < n; i++) {
		r[i].op = (struct ioasid_fp_op){ IOASID_FP_MAP, 3,
			(uint64_t)i * 2 * pg, (uintptr_t)(base + i * pg), pg };
		if (ioasid_fp_submit(b, &r[i]))
			die("submit");
	}
	ioasid_fp_barrier(b);
	for (uint32_t i = 0; i < n; i++) {
		if (r[i].result)
			die("batched map %u: %d", i, r[i].result);
		r[i].op = (struct ioasid_fp_op){ IOASID_FP_UNMAP, 0,
			(uint64_t)i * 2 * pg, 0, pg };
		if (ioasid_fp_submit(b, &r[i]))
			die("submit");
	}
	ioasid_fp_barrier(b);
	t0 = now_ns() - t0;
	for (uint32_t i = 0; i < n; i++)
		if (r[i].result)
			die("batched unmap %u: %d", i, r[i].result);
	ioasid_fp_batcher_stats(b, &st);
	*calls = st.backend_calls;
	ioasid_fp_batcher_destroy(b);
	ioasid_fp_backend_destroy(be);
	ioasid_fp_shadow_destroy(sh);
	free(r);
	return (double)t0 / (2.0 * n);
}

int bench_map(struct bench_opts *o)
{
	static const struct { uint64_t pg; uint32_t n; } cases[] = {
		{ 4096, 16384 }, { 2ULL << 20, 512 },
	};

	print_header(o, "map", "map+unmap through the batcher vs one call per entry (embedded backend)");
	for (size_t c = 0; c < 2; c++) {
		uint64_t pg = cases[c].pg;
		uint32_t n = o->quick ? cases[c].n / 4 : cases[c].n;
		double d[5], b[5];
		uint64_t dcalls = 0, bcalls = 0;
		struct setup s;

		open_setup(&s, (size_t)n * pg);
		for (int k = 0; k < 5; k++) {
			d[k] = run_direct(&s, n, pg, &dcalls);
			b[k] = run_batcher(&s, n, pg, &bcalls);
		}
		close_setup(&s);
		emit(o, "{\"bench\":\"map\",\"backend\":\"embedded\",\"page\":%llu,\"entries\":%u,\"mode\":\"direct\",\"ns_per_op\":%.1f,\"ops_per_s\":%.0f,\"backend_calls\":%llu}",
		     (unsigned long long)pg, n, median(d, 5), 1e9 / median(d, 5),
		     (unsigned long long)dcalls);
		emit(o, "{\"bench\":\"map\",\"backend\":\"embedded\",\"page\":%llu,\"entries\":%u,\"mode\":\"batcher\",\"ns_per_op\":%.1f,\"ops_per_s\":%.0f,\"backend_calls\":%llu}",
		     (unsigned long long)pg, n, median(b, 5), 1e9 / median(b, 5),
		     (unsigned long long)bcalls);
		if (pg == 4096) {
			check(o, "map", "embedded",
			      "4K: backend calls, direct/batcher",
			      (double)dcalls / (double)bcalls, ">=", 5.0, n);
			check(o, "map", "embedded",
			      "4K: ops/s, batcher/direct",
			      median(d, 5) / median(b, 5), ">=", 3.0, n);
		}
	}
	return 0;
}
