// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/*
 * ioasid-demo: the project's main job, on the embedded engine (no kernel
 * module, no VM, no hugepages).
 *
 * A driver maps 16 buffer pools of 2 MiB into an ioasid, each as 32
 * mappings submitted to the fast path's batcher, and sends packets of 64
 * to 1,500 bytes on a split virtqueue. A device thread takes every
 * descriptor off the ring through vhost/vring.c, which translates ring
 * and buffer addresses with the fast path's RCU shadow, and checks every
 * packet's bytes (a stale translation would read the wrong memory). A
 * control thread keeps remapping pools while traffic flows: it takes a
 * pool out of use, waits for its packets, unmaps it (the batcher returns
 * once no reader can use the old translation) and maps it again at
 * another IOVA.
 *
 * Two runs: translation on (pools remapped under traffic) and off (all
 * memory as one fixed mapping, as a device without an IOMMU sees it).
 * Live progress, then a table, results as JSON and, with gnuplot, a PNG.
 * Usage: ioasid-demo [--seconds N] [--out DIR]
 */
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "ioasid.h"
#include "ioasid_fastpath.h"
#include "vq_driver.h"
#include "vring.h"

#define MEM_LEN		(40ULL << 20)
#define RING_SIZE	256U
#define POOLS		16U
#define POOL_LEN	(2ULL << 20)
#define POOL_OFF	(4ULL << 20)		/* pools' memory from here */
#define PIECES		32U			/* mappings per pool */
#define BUF_LEN		2048U
#define BUFS		(POOL_LEN / BUF_LEN)	/* per pool */
#define RING_IOVA	0x10000000ULL
#define POOL_IOVA	0x40000000ULL		/* two slots per pool */
#define FLAT_IOVA	0x80000000ULL		/* translation off */

struct pool {
	volatile int active;
	uint32_t slot;				/* 0 or 1: which IOVA */
	uint32_t next;				/* next buffer to use */
	volatile uint32_t inflight;
};

struct demo {
	uint8_t *mem;
	struct ioasid_handle *h;
	uint32_t as, dev;
	struct ioasid_fp_backend *be;
	struct ioasid_fp_shadow *sh;
	struct ioasid_fp_batcher *b;
	bool flat;
	struct pool pool[POOLS];
	struct vqd vq;				/* the ring, driver side */
	uint32_t buf_of[RING_SIZE];		/* pool << 16 | buffer */
	uint32_t cursor;			/* next pool to take from */
	/*
	 * The main thread stops the others through @stop and prints @done,
	 * @bad and @remaps while they count: those go through stopped() and
	 * the atomics of count() and live(); the rest is read after the
	 * threads are joined.
	 */
	bool stop;
	/* results */
	uint64_t sent, done, bad, misses, remaps, ns_pop, lookups;
};

static bool stopped(struct demo *d)
{
	return __atomic_load_n(&d->stop, __ATOMIC_ACQUIRE);
}

/* A counter the main thread reads live; one thread writes each. */
static void count(uint64_t *c, uint64_t n)
{
	__atomic_store_n(c, *c + n, __ATOMIC_RELAXED);
}

static uint64_t live(const uint64_t *c)
{
	return __atomic_load_n(c, __ATOMIC_RELAXED);
}

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

static uint64_t pool_iova(struct demo *d, uint32_t p)
{
	if (d->flat)
		return FLAT_IOVA + POOL_OFF + p * POOL_LEN;
	return POOL_IOVA + (2ULL * p + d->pool[p].slot) * POOL_LEN;
}

static uint8_t *pool_mem(struct demo *d, uint32_t p)
{
	return d->mem + POOL_OFF + p * POOL_LEN;
}

/* Map or unmap a pool as PIECES requests in one batcher flush. */
static int pool_apply(struct demo *d, uint32_t p, bool map)
{
	struct ioasid_fp_req r[PIECES];
	uint64_t piece = POOL_LEN / PIECES;
	uint32_t i;

	memset(r, 0, sizeof(r));
	for (i = 0; i < PIECES; i++) {
		r[i].op = (struct ioasid_fp_op){
			map ? IOASID_FP_MAP : IOASID_FP_UNMAP,
			map ? IOASID_FP_READ : 0,
			pool_iova(d, p) + i * piece,
			map ? (uintptr_t)(pool_mem(d, p) + i * piece) : 0, piece };
		if (ioasid_fp_submit(d->b, &r[i]))
			return -1;
	}
	ioasid_fp_barrier(d->b);
	for (i = 0; i < PIECES; i++)
		if (r[i].result)
			return r[i].result;
	return 0;
}

static uint32_t plen(uint64_t seq)
{
	return 64 + (uint32_t)((seq * 193) % (1500 - 64 + 1));
}

static uint8_t pat(uint64_t seq, uint32_t i)
{
	return (uint8_t)(seq * 13 + i);
}

/* Driver: take back used descriptors, then post new packets. */
static void driver_step(struct demo *d)
{
	uint32_t posted = 0, tries = 0, ulen;
	uint16_t id;
	int rc;

	while ((rc = vqd_used(&d->vq, &id, &ulen))) {
		if (rc < 0)
			continue;	/* an id not ours: vqd_used() said so */
		__atomic_fetch_sub(&d->pool[d->buf_of[id] >> 16].inflight, 1,
				   __ATOMIC_RELEASE);
		vqd_put(&d->vq, id);
	}
	while (vqd_nfree(&d->vq) && posted < 32 && tries < POOLS) {
		uint32_t p = d->cursor++ % POOLS, k, len, i;
		struct pool *pl = &d->pool[p];
		uint8_t *buf;

		if (!__atomic_load_n(&pl->active, __ATOMIC_ACQUIRE)) {
			tries++;	/* being remapped: the next pool */
			continue;
		}
		__atomic_fetch_add(&pl->inflight, 1, __ATOMIC_ACQUIRE);
		/* The pool may have been taken out meanwhile: give it back. */
		if (!__atomic_load_n(&pl->active, __ATOMIC_ACQUIRE)) {
			__atomic_fetch_sub(&pl->inflight, 1, __ATOMIC_RELEASE);
			tries++;
			continue;
		}
		k = pl->next++ % BUFS;
		len = plen(d->sent);
		buf = pool_mem(d, p) + (uint64_t)k * BUF_LEN;
		memcpy(buf, &d->sent, 8);
		for (i = 8; i < len; i++)
			buf[i] = pat(d->sent, i);
		id = (uint16_t)vqd_get(&d->vq);	/* vqd_nfree() said one is */
		d->buf_of[id] = p << 16 | k;
		vqd_desc(&d->vq, id, pool_iova(d, p) + (uint64_t)k * BUF_LEN,
			 len, 0, 0);
		vqd_add(&d->vq, id);
		d->sent++;
		posted++;
	}
	if (posted)
		vqd_publish(&d->vq);
}

static void *device(void *arg)
{
	struct demo *d = arg;
	static __thread struct vq_chain c;
	struct ioasid_fp_reader *r;
	struct vq_config cfg = {
		.size = RING_SIZE,
		.desc = d->flat ? FLAT_IOVA : RING_IOVA,
		.avail = (d->flat ? FLAT_IOVA : RING_IOVA) + 0x4000,
		.used = (d->flat ? FLAT_IOVA : RING_IOVA) + 0x8000,
	};
	struct vq q;

	if (ioasid_fp_reader_register(d->sh, &r) || vq_init(&q, &cfg, r))
		return NULL;
	while (!stopped(d)) {
		uint64_t t0 = now_ns(), n = 0;
		int rc;

		if (vq_burst_begin(&q)) {
			ioasid_fp_reader_quiescent(r);
			continue;
		}
		while (n < 32 && (rc = vq_pop(&q, &c)) == 1) {
			uint64_t seq;
			uint32_t i, len = (uint32_t)c.out_len;
			const uint8_t *p = c.iov[0].base;

			memcpy(&seq, p, 8);
			if (c.nout != 1 || len != plen(seq))
				count(&d->bad, 1);
			else
				for (i = 8; i < len; i++)
					if (p[i] != pat(seq, i)) {
						count(&d->bad, 1);
						break;
					}
			vq_push(&q, c.head, 0);
			n++;
		}
		if (n)
			vq_flush(&q);
		d->ns_pop += now_ns() - t0;
		count(&d->done, n);
		ioasid_fp_reader_quiescent(r);
		if (q.broken) {
			fprintf(stderr, "demo: the device's queue broke: %s\n",
				q.why);
			break;
		}
	}
	d->misses = q.misses;
	d->lookups = r->lookups;
	ioasid_fp_reader_unregister(r);
	return NULL;
}

/* The control plane: remap one pool after another at a new IOVA. */
static void *control(void *arg)
{
	struct demo *d = arg;
	uint32_t p = 0;

	while (!stopped(d)) {
		struct pool *pl = &d->pool[p];

		__atomic_store_n(&pl->active, 0, __ATOMIC_RELEASE);
		while (__atomic_load_n(&pl->inflight, __ATOMIC_ACQUIRE) &&
		       !stopped(d))
			usleep(50);
		if (pool_apply(d, p, false))
			break;
		pl->slot ^= 1;
		if (pool_apply(d, p, true))
			break;
		__atomic_store_n(&pl->active, 1, __ATOMIC_RELEASE);
		count(&d->remaps, 1);
		p = (p + 1) % POOLS;
		usleep(2000);
	}
	return NULL;
}

struct result {
	double mpps, ns_per_pkt, lookups_per_pkt, batches_s, remaps_s;
	uint64_t packets, bad, misses, remaps, batches, backend_calls;
};

static int run(bool flat, double secs, struct result *res)
{
	struct ioasid_open_opts o = { .size = sizeof(o),
				      .backend = IOASID_BACKEND_EMBEDDED };
	struct ioasid_swdev_create c = {
		.size = sizeof(c), .pgsize_bitmap = 4096 | (2ULL << 20),
		.aperture_last = (1ULL << 39) - 1, .group_size = 1,
	};
	struct ioasid_fp_batcher_cfg bc = { .size = sizeof(bc) };
	struct ioasid_fp_stats st0, st1;
	pthread_t dev_th, ctl_th;
	struct demo *d = calloc(1, sizeof(*d));
	uint64_t t0, t1, last = 0, tick;
	uint32_t p;

	if (!d)
		return -1;
	d->flat = flat;
	d->mem = mmap(NULL, MEM_LEN, PROT_READ | PROT_WRITE,
		      MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
	if (d->mem == MAP_FAILED ||
	    ioasid_open(&o, &d->h) || ioasid_alloc(d->h, &d->as) ||
	    ioasid_swdev_create(d->h, &c, &d->dev) ||
	    ioasid_attach(d->h, d->dev, d->as) ||
	    ioasid_fp_backend_ioasid(d->h, d->as, &d->be) ||
	    ioasid_fp_shadow_create(&d->sh) ||
	    ioasid_fp_batcher_create(d->sh, d->be, &bc, &d->b)) {
		fprintf(stderr, "demo: setup failed: %s\n", ioasid_strerror());
		return -1;
	}
	if (vqd_init_split(&d->vq, RING_SIZE, d->mem, d->mem + 0x4000,
			   d->mem + 0x8000))
		return -1;
	/* Rings (and, without translation, everything) mapped once. */
	if (flat) {
		if (ioasid_fp_map(d->b, FLAT_IOVA, d->mem, MEM_LEN,
				  IOASID_FP_READ | IOASID_FP_WRITE))
			return -1;
	} else if (ioasid_fp_map(d->b, RING_IOVA, d->mem, 0x10000,
				 IOASID_FP_READ | IOASID_FP_WRITE)) {
		return -1;
	}
	for (p = 0; p < POOLS; p++) {
		if (!flat && pool_apply(d, p, true))
			return -1;
		d->pool[p].active = 1;
	}
	ioasid_fp_batcher_stats(d->b, &st0);
	pthread_create(&dev_th, NULL, device, d);
	if (!flat)
		pthread_create(&ctl_th, NULL, control, d);
	t0 = tick = now_ns();
	while ((t1 = now_ns()) - t0 < (uint64_t)(secs * 1e9)) {
		driver_step(d);
		if (t1 - tick >= 500000000ULL) {
			printf("  %-16s %6.2f s  %8.3f Mpps  %6" PRIu64 " remaps  %" PRIu64 " bad\n",
			       flat ? "translation off" : "translation on",
			       (double)(t1 - t0) / 1e9,
			       (double)(live(&d->done) - last) / ((double)(t1 - tick) / 1e3),
			       live(&d->remaps), live(&d->bad));
			fflush(stdout);
			last = live(&d->done);
			tick = t1;
		}
	}
	__atomic_store_n(&d->stop, true, __ATOMIC_RELEASE);
	pthread_join(dev_th, NULL);
	if (!flat)
		pthread_join(ctl_th, NULL);
	ioasid_fp_batcher_stats(d->b, &st1);
	res->packets = d->done;
	res->bad = d->bad;
	res->misses = d->misses;
	res->remaps = d->remaps;
	res->batches = st1.flushes - st0.flushes;
	res->backend_calls = st1.backend_calls - st0.backend_calls;
	res->mpps = (double)d->done / ((double)(t1 - t0) / 1e3);
	res->ns_per_pkt = d->done ? (double)d->ns_pop / (double)d->done : 0;
	res->lookups_per_pkt = d->done ? (double)d->lookups / (double)d->done : 0;
	res->batches_s = (double)res->batches / ((double)(t1 - t0) / 1e9);
	res->remaps_s = (double)d->remaps / ((double)(t1 - t0) / 1e9);
	ioasid_fp_batcher_destroy(d->b);
	ioasid_fp_shadow_destroy(d->sh);
	ioasid_fp_backend_destroy(d->be);
	ioasid_close(d->h);
	vqd_fini(&d->vq);
	munmap(d->mem, MEM_LEN);
	free(d);
	return 0;
}

static void write_outputs(const char *dir, const struct result *on,
			  const struct result *off)
{
	char path[512], cmd[1400];
	FILE *f;

	mkdir(dir, 0755);
	snprintf(path, sizeof(path), "%s/demo.json", dir);
	f = fopen(path, "w");
	if (f) {
		const struct result *r[2] = { on, off };

		fprintf(f, "[\n");
		for (int i = 0; i < 2; i++)
			fprintf(f, "  {\"translation\":\"%s\",\"mpps\":%.4f,\"device_ns_per_packet\":%.1f,\"lookups_per_packet\":%.3f,\"packets\":%" PRIu64 ",\"bad\":%" PRIu64 ",\"misses\":%" PRIu64 ",\"remaps\":%" PRIu64 ",\"remaps_per_s\":%.1f,\"batches\":%" PRIu64 ",\"batches_per_s\":%.1f,\"backend_calls\":%" PRIu64 "}%s\n",
				i ? "off" : "on", r[i]->mpps, r[i]->ns_per_pkt,
				r[i]->lookups_per_pkt, r[i]->packets, r[i]->bad,
				r[i]->misses, r[i]->remaps, r[i]->remaps_s,
				r[i]->batches, r[i]->batches_s,
				r[i]->backend_calls, i ? "" : ",");
		fprintf(f, "]\n");
		fclose(f);
		printf("results: %s\n", path);
	}
	if (system("command -v gnuplot >/dev/null 2>&1")) {
		printf("chart: skipped (gnuplot is not installed; tools/setup.sh installs gnuplot-nox)\n");
		return;
	}
	/* A data file and a script beside the results; gnuplot draws them. */
	snprintf(path, sizeof(path), "%s/demo.dat", dir);
	f = fopen(path, "w");
	if (!f)
		return;
	fprintf(f, "\"translation on\\n(%.0f remaps/s)\" %.4f %.1f\n",
		on->remaps_s, on->mpps, on->ns_per_pkt);
	fprintf(f, "\"translation off\" %.4f %.1f\n", off->mpps,
		off->ns_per_pkt);
	fclose(f);
	snprintf(path, sizeof(path), "%s/demo.gp", dir);
	f = fopen(path, "w");
	if (!f)
		return;
	fprintf(f, "set terminal pngcairo size 800,450\n"
		   "set output '%s/demo.png'\n"
		   "set title 'ioasid-demo: packets through the fast path'\n"
		   "set style data histograms\n"
		   "set style histogram clustered gap 2\n"
		   "set style fill solid 0.8 border -1\n"
		   "set ylabel 'million packets/s'\n"
		   "set y2label 'device ns per packet'\n"
		   "set ytics nomirror\nset y2tics\n"
		   "set yrange [0:*]\nset y2range [0:*]\n"
		   "set key top left\nset bmargin 5\n"
		   "plot '%s/demo.dat' using 2:xtic(1) title 'Mpps' axes x1y1, "
		   "'' using 3 title 'ns per packet' axes x1y2\n", dir, dir);
	fclose(f);
	snprintf(cmd, sizeof(cmd), "gnuplot '%s' 2>&1", path);
	snprintf(path, sizeof(path), "%s/demo.png", dir);
	if (system(cmd))
		printf("chart: gnuplot failed\n");
	else
		printf("chart: %s\n", path);
}

int main(int argc, char **argv)
{
	double secs = 3;
	const char *out = "build/demo";
	struct result on, off;
	int i;

	for (i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--seconds") && i + 1 < argc)
			secs = atof(argv[++i]);
		else if (!strcmp(argv[i], "--out") && i + 1 < argc)
			out = argv[++i];
		else {
			fprintf(stderr, "usage: ioasid-demo [--seconds N] [--out DIR]\n");
			return 2;
		}
	}
	if (secs <= 0)
		secs = 3;
	printf("ioasid-demo: a driver sends packets of 64-1500 bytes on a virtqueue from %u buffer pools\n"
	       "mapped into an ioasid (embedded engine) in batches of %u; a device thread takes each\n"
	       "descriptor through the fast path's RCU shadow and checks every byte; a control\n"
	       "thread remaps pools to new IOVAs while traffic flows.\n\n", POOLS, PIECES);
	if (run(false, secs, &on) || run(true, secs, &off)) {
		fprintf(stderr, "demo: failed\n");
		return 1;
	}
	printf("\n%-34s %16s %16s\n", "", "translation on", "translation off");
	printf("%-34s %16.3f %16.3f\n", "packets/s (millions)", on.mpps, off.mpps);
	printf("%-34s %16.1f %16.1f\n", "device ns per packet (ring+xlate)", on.ns_per_pkt, off.ns_per_pkt);
	printf("%-34s %16.3f %16.3f\n", "shadow lookups per packet", on.lookups_per_pkt, off.lookups_per_pkt);
	printf("%-34s %16.1f %16.1f\n", "batches/s (batcher flushes)", on.batches_s, off.batches_s);
	printf("%-34s %16" PRIu64 " %16" PRIu64 "\n", "backend calls", on.backend_calls, off.backend_calls);
	printf("%-34s %16.1f %16.1f\n", "pool remaps/s", on.remaps_s, off.remaps_s);
	printf("%-34s %16" PRIu64 " %16" PRIu64 "\n", "IOTLB misses", on.misses, off.misses);
	printf("%-34s %16" PRIu64 " %16" PRIu64 "\n", "packets with wrong bytes", on.bad, off.bad);
	write_outputs(out, &on, &off);
	return on.bad || off.bad ? 1 : 0;
}
