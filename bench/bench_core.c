// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/*
 * ioasid-bench core: the cost of map+unmap in the engine as the number of
 * mappings grows, single calls against batches, and the engine's memory
 * per mapping.
 *
 * Two layers are measured, both through the uAPI decoder:
 *   engine    ioasid_ctx_ioctl() with a host that pins and charges nothing:
 *             the rules, the trees and the decoder alone
 *   embedded  libioasid's embedded backend: the same plus its host, which
 *             checks every vaddr range with one msync() system call
 *
 * Each configuration holds N mappings of 4 KiB (distinct IOVAs and vaddrs)
 * and keeps the tree at N while it churns, in two patterns:
 *   random  unmap a uniformly random mapping and map it back (the worst
 *           case for caches: a vIOMMU guest's scattered DMA buffers)
 *   stream  unmap the oldest mapping and map a new one after the newest
 *           (FIFO churn over a ring of 2N slots: DPDK memory events, a
 *           vhost IOTLB that streams through guest memory)
 * "single" issues one IOASID_UNMAP_DMA and one IOASID_MAP_DMA per entry;
 * "batch256" one IOASID_UNMAP_BATCH and one IOASID_MAP_BATCH of 256
 * entries each. Cost is nanoseconds per entry (an unmap plus a map count
 * as one operation), the median of five rounds.
 *
 * Baselines in the same run: the 1k configuration (growth to 1M) and the
 * single-call mode (the batch gain).
 */
#include <malloc.h>
#include <sys/mman.h>

#include "bench.h"
#include "ioasid.h"
#include "ioasid_core.h"

#define BATCH		256
#define ROUNDS		5

struct layer {
	const char *name;
	struct ioasid_ctx *ctx;		/* engine */
	struct ioasid_handle *h;	/* embedded */
};

static int null_pin(void *host, u64 vaddr, u64 len, u32 prot, void **cookie)
{
	*cookie = NULL;
	return 0;
}

static void null_unpin(void *host, u64 vaddr, u64 len, void *cookie)
{
}

static int null_charge(void *host, u64 bytes)
{
	return 0;
}

static void null_uncharge(void *host, u64 bytes)
{
}

static int mem_from(void *host, void *dst, u64 uptr, size_t len)
{
	memcpy(dst, (const void *)(uintptr_t)uptr, len);
	return 0;
}

static int mem_to(void *host, u64 uptr, const void *src, size_t len)
{
	memcpy((void *)(uintptr_t)uptr, src, len);
	return 0;
}

static const struct ioasid_host_ops null_host = {
	.pin = null_pin,
	.unpin = null_unpin,
	.charge = null_charge,
	.uncharge = null_uncharge,
	.copy_from_user = mem_from,
	.copy_to_user = mem_to,
};

static long call(struct layer *l, unsigned long cmd, void *arg)
{
	if (l->ctx)
		return ioasid_ctx_ioctl(l->ctx, (unsigned int)cmd,
					(u64)(uintptr_t)arg, NULL);
	return ioasid_ioctl(l->h, cmd, arg);
}

struct setup {
	uint32_t as;
	uint8_t *mem;			/* 2N pages: the ring of slots */
	size_t mem_len;
	uint64_t n;
	uint64_t tail;			/* stream: oldest mapped slot */
};

static uint64_t slot_iova(uint64_t i)
{
	return i * 2 * 4096;		/* a gap between neighbours */
}

static int prepare(struct layer *l, struct setup *s, uint64_t n)
{
	struct ioasid_swdev_create c = {
		.size = sizeof(c),
		.pgsize_bitmap = 4096 | (2ULL << 20) | (1ULL << 30),
		.aperture_last = (1ULL << 48) - 1,
		.group_size = 1,
	};
	struct ioasid_alloc a = { .size = sizeof(a) };
	struct ioasid_device_attach at = { .size = sizeof(at) };
	struct ioasid_dma_entry *e;
	uint64_t done = 0;
	long rc;

	s->n = n;
	s->tail = 0;
	s->mem_len = 2 * n * 4096;
	s->mem = mmap(NULL, s->mem_len, PROT_READ | PROT_WRITE,
		      MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (s->mem == MAP_FAILED)
		return -ENOMEM;
	if (call(l, IOASID_ALLOC, &a) || call(l, IOASID_SWDEV_CREATE, &c))
		return -EIO;
	s->as = a.out_ioasid;
	at.dev_id = c.out_dev_id;
	at.ioasid = s->as;
	if (call(l, IOASID_DEVICE_ATTACH, &at))
		return -EIO;
	e = calloc(4096, sizeof(*e));
	if (!e)
		return -ENOMEM;
	while (done < n) {
		uint32_t k = n - done < 4096 ? (uint32_t)(n - done) : 4096, i;
		struct ioasid_batch b = {
			.size = sizeof(b), .ioasid = s->as, .count = k,
			.entry_size = sizeof(*e),
			.entries_uptr = (uintptr_t)e,
		};

		for (i = 0; i < k; i++) {
			e[i].flags = IOASID_DMA_READ | IOASID_DMA_WRITE;
			e[i].iova = slot_iova(done + i);
			e[i].vaddr = (uintptr_t)s->mem + (done + i) * 4096;
			e[i].length = 4096;
		}
		rc = call(l, IOASID_MAP_BATCH, &b);
		if (rc) {
			free(e);
			return (int)rc;
		}
		done += k;
	}
	free(e);
	return 0;
}

static void unprepare(struct setup *s)
{
	munmap(s->mem, s->mem_len);
}

enum pattern { RANDOM, STREAM };

/* The slot to unmap and the slot to map next. */
static void next_slots(struct setup *s, enum pattern p, struct rng *r,
		       uint64_t *out, uint64_t *in)
{
	if (p == RANDOM) {
		*out = *in = rng_below(r, s->n);
		return;
	}
	*out = s->tail % (2 * s->n);
	*in = (s->tail + s->n) % (2 * s->n);
	s->tail++;
}

/* One round of @ops operations; returns ns per operation. */
static double round_single(struct layer *l, struct setup *s, uint64_t ops,
			   struct rng *r, enum pattern p)
{
	struct ioasid_map_dma m = {
		.size = sizeof(m), .ioasid = s->as,
		.flags = IOASID_DMA_READ | IOASID_DMA_WRITE, .length = 4096,
	};
	struct ioasid_unmap_dma u = {
		.size = sizeof(u), .ioasid = s->as, .length = 4096,
	};
	uint64_t t0 = now_ns(), i;

	for (i = 0; i < ops; i++) {
		uint64_t old, slot;

		next_slots(s, p, r, &old, &slot);
		u.iova = slot_iova(old);
		m.iova = slot_iova(slot);
		m.vaddr = (uintptr_t)s->mem + slot * 4096;
		if (call(l, IOASID_UNMAP_DMA, &u) || u.out_unmapped != 4096 ||
		    call(l, IOASID_MAP_DMA, &m))
			die("single map/unmap failed at slot %llu",
			    (unsigned long long)slot);
	}
	return (double)(now_ns() - t0) / (double)ops;
}

static double round_batch(struct layer *l, struct setup *s, uint64_t ops,
			  struct rng *r, enum pattern p)
{
	static struct ioasid_dma_entry me[BATCH], ue[BATCH];
	struct ioasid_batch mb = {
		.size = sizeof(mb), .ioasid = s->as, .count = BATCH,
		.entry_size = sizeof(me[0]), .entries_uptr = (uintptr_t)me,
	};
	struct ioasid_batch ub = mb;
	uint64_t t0, i, done = 0, batches = ops / BATCH;

	ub.entries_uptr = (uintptr_t)ue;
	t0 = now_ns();
	for (i = 0; i < batches; i++) {
		uint32_t k;
		/* Random: distinct slots spread over the whole tree, by a
		 * stride walk from a random start. Stream: the 256 oldest
		 * out, 256 new ones in. */
		uint64_t start = rng_below(r, s->n);
		uint64_t stride = s->n > BATCH ? s->n / BATCH : 1;

		for (k = 0; k < BATCH; k++) {
			uint64_t old, slot;

			if (p == RANDOM) {
				old = slot = (start + k * stride) % s->n;
			} else {
				next_slots(s, p, r, &old, &slot);
			}
			ue[k].iova = slot_iova(old);
			me[k].iova = slot_iova(slot);
			ue[k].length = me[k].length = 4096;
			me[k].vaddr = (uintptr_t)s->mem + slot * 4096;
			me[k].flags = IOASID_DMA_READ | IOASID_DMA_WRITE;
		}
		if (call(l, IOASID_UNMAP_BATCH, &ub) ||
		    ub.out_bytes != BATCH * 4096ULL ||
		    call(l, IOASID_MAP_BATCH, &mb))
			die("batch map/unmap failed");
		done += BATCH;
	}
	return (double)(now_ns() - t0) / (double)done;
}

static int open_layer(struct layer *l, const char *name)
{
	struct ioasid_ctx_config cfg = { .max_mappings = 1U << 21,
					 .max_objects = 16 };

	memset(l, 0, sizeof(*l));
	l->name = name;
	if (!strcmp(name, "engine"))
		return ioasid_ctx_create(&null_host, NULL, &cfg, &l->ctx);
	{
		struct ioasid_open_opts o = {
			.size = sizeof(o),
			.backend = IOASID_BACKEND_EMBEDDED,
			/* VFIO's default is 65535; a million needs more. */
			.max_mappings = 1U << 21,
		};

		return ioasid_open(&o, &l->h);
	}
}

static void close_layer(struct layer *l)
{
	if (l->ctx)
		ioasid_ctx_destroy(l->ctx);
	if (l->h)
		ioasid_close(l->h);
}

struct result {
	const char *layer;
	const char *pattern;
	uint64_t n;
	const char *mode;
	double ns;
};

int bench_core(struct bench_opts *o)
{
	static const uint64_t sizes[] = { 1000, 64000, 1000000 };
	static const char *const layers[] = { "engine", "embedded" };
	struct result res[32];
	int nres = 0;

	print_header(o, "core", "map+unmap ns per entry (median of 5 rounds), engine memory per mapping");
	for (size_t li = 0; li < 2; li++) {
		for (size_t si = 0; si < 3; si++) {
			uint64_t n = sizes[si];
			struct layer l;
			struct setup s;
			struct rng r = { 0x1234 + n };
			double single[ROUNDS], batch[ROUNDS], bpm = 0;
			size_t heap0 = mallinfo2().uordblks, heap1;
			uint64_t ops = o->quick ? 20000 : 100000;
			int rc;

			if (open_layer(&l, layers[li]))
				die("cannot open layer %s", layers[li]);
			rc = prepare(&l, &s, n);
			if (rc)
				die("prefill of %llu mappings failed: %d",
				    (unsigned long long)n, rc);
			heap1 = mallinfo2().uordblks;
			if (l.ctx) {
				struct ioasid_mem_stats ms;

				ioasid_ctx_mem_stats(l.ctx, &ms);
				bpm = (double)ms.mapping_bytes / (double)ms.mappings;
			}
			for (int pi = 0; pi < 2; pi++) {
				enum pattern pat = pi ? STREAM : RANDOM;
				const char *pn = pi ? "stream" : "random";

				for (int k = 0; k < ROUNDS; k++) {
					single[k] = round_single(&l, &s, ops / ROUNDS,
								 &r, pat);
					batch[k] = round_batch(&l, &s, ops / ROUNDS,
							       &r, pat);
				}
				res[nres++] = (struct result){ layers[li], pn, n,
					"single", median(single, ROUNDS) };
				res[nres++] = (struct result){ layers[li], pn, n,
					"batch256", median(batch, ROUNDS) };
				for (int k = nres - 2; k < nres; k++)
					emit(o, "{\"bench\":\"core\",\"layer\":\"%s\",\"pattern\":\"%s\",\"mappings\":%llu,\"mode\":\"%s\",\"ns_per_op\":%.1f,\"ops_per_s\":%.0f,\"engine_bytes_per_mapping\":%.1f,\"heap_bytes_per_mapping\":%.1f}",
					     res[k].layer, pn, (unsigned long long)n,
					     res[k].mode, res[k].ns, 1e9 / res[k].ns,
					     bpm, (double)(heap1 - heap0) / (double)n);
			}
			close_layer(&l);
			unprepare(&s);
		}
	}
	/* Checks against the targets, from this run's own baselines. */
	for (size_t li = 0; li < 2; li++) {
		for (int pi = 0; pi < 2; pi++) {
			const char *ln = layers[li], *pn = pi ? "stream" : "random";
			double v[2][2] = { { 0 } };	/* [1k|1M][single|batch] */
			char what[96];

			for (int k = 0; k < nres; k++) {
				if (strcmp(res[k].layer, ln) ||
				    strcmp(res[k].pattern, pn) || res[k].n == 64000)
					continue;
				v[res[k].n == 1000 ? 0 : 1]
				 [strcmp(res[k].mode, "single") ? 1 : 0] = res[k].ns;
			}
			snprintf(what, sizeof(what), "%s single: cost growth 1k -> 1M", pn);
			check(o, "core", ln, what, v[1][0] / v[0][0], "<=", 2.0, 1000000);
			snprintf(what, sizeof(what), "%s batch256: cost growth 1k -> 1M", pn);
			check(o, "core", ln, what, v[1][1] / v[0][1], "<=", 2.0, 1000000);
			snprintf(what, sizeof(what), "%s: single/batch256 per-entry cost at 1k", pn);
			check(o, "core", ln, what, v[0][0] / v[0][1], ">=", 2.0, 1000);
			snprintf(what, sizeof(what), "%s: single/batch256 per-entry cost at 1M", pn);
			check(o, "core", ln, what, v[1][0] / v[1][1], ">=", 2.0, 1000000);
		}
	}
	{
		struct ioasid_mem_stats ms;
		struct layer l;
		struct setup s;

		if (open_layer(&l, "engine") || prepare(&l, &s, 1000000))
			die("memory probe failed");
		ioasid_ctx_mem_stats(l.ctx, &ms);
		check(o, "core", "engine", "engine bytes per mapping at 1M",
		      (double)ms.mapping_bytes / (double)ms.mappings, "<=", 96.0,
		      1000000);
		emit(o, "{\"bench\":\"core\",\"layer\":\"engine\",\"metric\":\"node_size\",\"bytes\":%llu}",
		     (unsigned long long)ms.node_size);
		close_layer(&l);
		unprepare(&s);
	}
	return 0;
}
