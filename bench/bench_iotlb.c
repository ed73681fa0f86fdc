// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/*
 * ioasid-bench iotlb: translation throughput and latency of the shadow
 * against two baselines built from the same primitives (tlb_baselines.c),
 * with 1 and 2 reader threads, with and without a writer churning, at 8,
 * 1,024 and 65,536 mappings of 4 KiB.
 *
 * Readers translate 64-byte accesses at random IOVAs inside random
 * mappings, in bursts of 64 with a quiescent state after each burst (what a
 * DPDK lcore does per receive burst). Throughput is counted over a fixed
 * time; latency is then sampled per translation with rdtsc, less the
 * timer's own cost, converted with the measured TSC rate. The churning
 * writer takes a random mapping out and puts it back, as fast as it can;
 * every implementation gets the same update load: 100,000 updates per
 * second, in bursts of 64 (the achieved rate is reported). The shadow is
 * measured as designed, its updates going through the batcher (one
 * publish and one grace period per burst), and unbatched, with a publish
 * and a grace period per update, as the worst case.
 *
 * The machine has two cores: with two readers and a writer they share, so
 * the writer competes with the readers for CPU as well as for the lock.
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <unistd.h>
#include <x86intrin.h>

#include "bench.h"
#include "ioasid_fastpath.h"
#include "tlb_impls.h"

#define SAMPLES		(1U << 16)	/* IOVAs readers cycle through */
#define LAT_SAMPLES	100000
#define BURST		64
#define PAGE		4096ULL

static double tsc_per_ns;
static uint64_t timer_cost;		/* cycles of an empty rdtsc pair */

static void calibrate(void)
{
	uint64_t t0 = now_ns(), c0 = __rdtsc(), t1, c1;
	double v[64];

	while ((t1 = now_ns()) - t0 < 50000000ULL)
		;
	c1 = __rdtsc();
	tsc_per_ns = (double)(c1 - c0) / (double)(t1 - t0);
	for (int i = 0; i < 64; i++) {
		unsigned int aux;
		uint64_t a = __rdtscp(&aux), b = __rdtscp(&aux);

		v[i] = (double)(b - a);
	}
	timer_cost = (uint64_t)median(v, 64);
}

struct run {
	const struct tlb_impl *impl;
	void *t;
	uint32_t nmaps;
	const uint64_t *iovas;
	atomic_int phase;		/* 0 warm, 1 throughput, 2 latency, 3 stop */
	atomic_int ready;
	bool churn;
	uint64_t writer_updates;
};

struct reader {
	struct run *run;
	int cpu;
	uint64_t ops;
	uint64_t misses;
	uint32_t *lat;			/* cycles, LAT_SAMPLES */
	uint32_t nlat;
	uint64_t seq;			/* where this reader starts */
	int err;
};

static void pin(int cpu)
{
	cpu_set_t set;

	if (cpu < 0 || cpu >= sysconf(_SC_NPROCESSORS_ONLN))
		return;
	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	pthread_setaffinity_np(pthread_self(), sizeof(set), &set);
}

static void *reader_main(void *arg)
{
	struct reader *rd = arg;
	struct run *run = rd->run;
	const struct tlb_impl *impl = run->impl;
	void *r;
	uint64_t k = rd->seq, hva, c, sink = 0;

	pin(rd->cpu);
	r = impl->reader_begin(run->t);
	if (!r) {
		rd->err = 1;
		atomic_fetch_add(&run->ready, 1);
		return NULL;
	}
	atomic_fetch_add(&run->ready, 1);
	while (atomic_load_explicit(&run->phase, memory_order_relaxed) == 0) {
		for (int i = 0; i < BURST; i++)
			impl->translate(r, run->iovas[k++ & (SAMPLES - 1)], 64,
					1, &hva, &c);
		impl->reader_quiescent(r);
	}
	while (atomic_load_explicit(&run->phase, memory_order_relaxed) == 1) {
		for (int i = 0; i < BURST; i++) {
			if (impl->translate(r, run->iovas[k++ & (SAMPLES - 1)],
					    64, 1, &hva, &c))
				rd->misses++;
			sink += hva;
		}
		rd->ops += BURST;
		impl->reader_quiescent(r);
	}
	while (rd->nlat < LAT_SAMPLES &&
	       atomic_load_explicit(&run->phase, memory_order_relaxed) == 2) {
		for (int i = 0; i < BURST && rd->nlat < LAT_SAMPLES; i++) {
			unsigned int aux;
			uint64_t a = __rdtscp(&aux), b;

			impl->translate(r, run->iovas[k++ & (SAMPLES - 1)], 64,
					1, &hva, &c);
			b = __rdtscp(&aux);
			rd->lat[rd->nlat++] = (uint32_t)(b - a > timer_cost ?
							 b - a - timer_cost : 0);
			sink += hva;
		}
		impl->reader_quiescent(r);
	}
	impl->reader_end(r);
	if (sink == 42)
		rd->err = 2;	/* keeps the loads alive */
	return NULL;
}

struct writer {
	struct run *run;
	uint64_t seed;
};

#define CHURN_RATE	100000	/* updates per second */
#define CHURN_BURST	64

static void *writer_main(void *arg)
{
	struct writer *w = arg;
	struct run *run = w->run;
	uint64_t x = w->seed, t0 = now_ns(), bursts = 0;

	while (atomic_load_explicit(&run->phase, memory_order_relaxed) < 3) {
		uint64_t due, now;

		for (int k = 0; k < CHURN_BURST; k++) {
			uint64_t i;

			x ^= x << 13;
			x ^= x >> 7;
			x ^= x << 17;
			i = x % run->nmaps;
			/* A new host address each time: a real remap. */
			run->impl->update(run->t, i * 2 * PAGE, PAGE,
					  0x10000000ULL + i * PAGE +
					  ((x >> 40) & 1) * 0x40000000ULL, 3);
			__atomic_fetch_add(&run->writer_updates, 1,
					   __ATOMIC_RELAXED);
		}
		bursts++;
		due = t0 + bursts * CHURN_BURST * (1000000000ULL / CHURN_RATE);
		now = now_ns();
		if (due > now)
			usleep((useconds_t)((due - now) / 1000));
	}
	return NULL;
}

static int cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

struct result {
	double mops, p50, p99, p999, hit, wups;
};

static void measure(struct bench_opts *o, const struct tlb_impl *impl,
		    void *t, uint32_t nmaps, const uint64_t *iovas,
		    int readers, bool churn, struct result *res)
{
	static uint32_t lat_all[2 * LAT_SAMPLES];
	struct run run = { .impl = impl, .t = t, .nmaps = nmaps,
			   .iovas = iovas, .churn = churn };
	struct reader rd[2];
	struct writer wr = { &run, 0x5eed + nmaps };
	pthread_t th[2], wt;
	uint64_t t0, t1, ops = 0, misses = 0, nl = 0, w0;
	uint64_t dur = o->quick ? 100000000ULL : 300000000ULL;

	memset(rd, 0, sizeof(rd));
	for (int i = 0; i < readers; i++) {
		rd[i].run = &run;
		rd[i].cpu = i;
		rd[i].seq = (uint64_t)i * 7919;
		rd[i].lat = malloc(LAT_SAMPLES * sizeof(uint32_t));
		if (!rd[i].lat ||
		    pthread_create(&th[i], NULL, reader_main, &rd[i]))
			die("cannot start a reader");
	}
	while (atomic_load(&run.ready) < readers)
		usleep(100);
	if (churn && pthread_create(&wt, NULL, writer_main, &wr))
		die("cannot start the writer");
	usleep(20000);
	w0 = run.writer_updates;
	t0 = now_ns();
	atomic_store(&run.phase, 1);
	usleep((useconds_t)(dur / 1000));
	atomic_store(&run.phase, 2);
	t1 = now_ns();
	for (int i = 0; i < readers; i++) {
		/* Latency phase ends when every reader has its samples. */
		while (__atomic_load_n(&rd[i].nlat, __ATOMIC_RELAXED) <
		       LAT_SAMPLES)
			usleep(1000);
	}
	res->wups = churn ? (double)(run.writer_updates - w0) * 1e9 /
			    (double)(now_ns() - t0) : 0;
	atomic_store(&run.phase, 3);
	for (int i = 0; i < readers; i++) {
		pthread_join(th[i], NULL);
		if (rd[i].err == 1)
			die("reader registration failed");
		ops += rd[i].ops;
		misses += rd[i].misses;
		memcpy(lat_all + nl, rd[i].lat, rd[i].nlat * sizeof(uint32_t));
		nl += rd[i].nlat;
		free(rd[i].lat);
	}
	if (churn)
		pthread_join(wt, NULL);
	qsort(lat_all, nl, sizeof(uint32_t), cmp_u32);
	res->mops = (double)ops / (double)(t1 - t0) * 1e3;
	res->hit = ops ? 1.0 - (double)misses / (double)ops : 0;
	res->p50 = lat_all[nl / 2] / tsc_per_ns;
	res->p99 = lat_all[nl * 99 / 100] / tsc_per_ns;
	res->p999 = lat_all[nl * 999 / 1000] / tsc_per_ns;
}

/*
 * The shadow's last-hit path as a caller sees it: ioasid_fp_translate()
 * inlined, no benchmark indirection. @t is the shadow adapter's object.
 */
double shadow_inline_hit_ns(void *t);

/* The last-hit path: one reader translating the same IOVA. */
static double repeated_hit_ns(const struct tlb_impl *impl, void *t)
{
	void *r = impl->reader_begin(t);
	uint64_t hva, c, sink = 0, n = 20000000, t0;
	double v[5];

	for (int k = 0; k < 5; k++) {
		t0 = now_ns();
		for (uint64_t i = 0; i < n; i++) {
			impl->translate(r, 0x2010 + (i & 7) * 8, 64, 1, &hva, &c);
			sink += hva;
			if ((i & 63) == 63)
				impl->reader_quiescent(r);
		}
		v[k] = (double)(now_ns() - t0) / (double)n;
	}
	impl->reader_end(r);
	return sink == 42 ? 0 : median(v, 5);
}

int bench_iotlb(struct bench_opts *o)
{
	static const uint32_t sizes[] = { 8, 1024, 65536 };
	static const struct tlb_impl *const impls[] = { &tlb_shadow, &tlb_dpdk,
							&tlb_itree,
							&tlb_shadow_unbatched };
	static uint64_t iovas[SAMPLES];
	struct result res[4][3][2][2];	/* impl, size, readers-1, churn */
	double hit_ns[4], inline_hit = 0, load[1] = { -1 };

	calibrate();
	print_header(o, "iotlb", "translations per second and latency, shadow vs baselines");
	/* Tails depend on what else runs: say how busy the machine was. */
	getloadavg(load, 1);
	emit(o, "{\"bench\":\"iotlb\",\"tsc_ghz\":%.3f,\"timer_cost_cycles\":%llu,\"cpus\":%ld,\"loadavg_1m\":%.2f}",
	     tsc_per_ns, (unsigned long long)timer_cost,
	     sysconf(_SC_NPROCESSORS_ONLN), load[0]);
	for (int ii = 0; ii < 4; ii++) {
		const struct tlb_impl *impl = impls[ii];

		emit(o, "{\"bench\":\"iotlb\",\"impl\":\"%s\",\"what\":\"%s\",\"churn_rate_target\":%d}",
		     impl->name, impl->label, CHURN_RATE);
		for (int si = 0; si < 3; si++) {
			uint32_t n = sizes[si];
			struct rng r = { 0xabcdef + n };
			void *t = impl->create();
			int rc;

			if (!t)
				die("cannot create %s", impl->name);
			rc = impl->fill ? impl->fill(t, n, 0, 2 * PAGE, PAGE,
						     0x10000000ULL, 3) :
					  tlb_fill_each(impl, t, n, 0, 2 * PAGE,
							PAGE, 0x10000000ULL, 3);
			if (rc)
				die("cannot fill %s with %u mappings",
				    impl->name, n);
			for (uint32_t k = 0; k < SAMPLES; k++)
				iovas[k] = rng_below(&r, n) * 2 * PAGE +
					   rng_below(&r, PAGE - 64);
			if (si == 0)
				hit_ns[ii] = repeated_hit_ns(impl, t);
			if (si == 0 && impl == &tlb_shadow) {
				inline_hit = shadow_inline_hit_ns(t);
				emit(o, "{\"bench\":\"iotlb\",\"impl\":\"%s\",\"repeated_hit_inline_ns\":%.2f}",
				     impl->name, inline_hit);
			}
			for (int rd = 1; rd <= 2; rd++) {
				for (int ch = 0; ch < 2; ch++) {
					struct result *x = &res[ii][si][rd - 1][ch];

					measure(o, impl, t, n, iovas, rd, ch, x);
					emit(o, "{\"bench\":\"iotlb\",\"impl\":\"%s\",\"mappings\":%u,\"readers\":%d,\"churn\":%s,\"mops\":%.2f,\"p50_ns\":%.1f,\"p99_ns\":%.1f,\"p999_ns\":%.1f,\"hit_ratio\":%.3f,\"writer_updates_per_s\":%.0f}",
					     impl->name, n, rd, ch ? "true" : "false",
					     x->mops, x->p50, x->p99, x->p999,
					     x->hit, x->wups);
				}
			}
			impl->destroy(t);
		}
		emit(o, "{\"bench\":\"iotlb\",\"impl\":\"%s\",\"repeated_hit_ns\":%.2f}",
		     impl->name, hit_ns[ii]);
	}
	for (int rd = 1; rd <= 2; rd++)
		for (int ch = 0; ch < 2; ch++) {
			char what[96];

			snprintf(what, sizeof(what),
				 "shadow/(a) throughput at 1024, %d reader(s)%s",
				 rd, ch ? ", churn" : "");
			check(o, "iotlb", "shadow", what,
			      res[0][1][rd - 1][ch].mops /
			      res[1][1][rd - 1][ch].mops, ">=", 20.0, 1024);
		}
	check(o, "iotlb", "shadow",
	      "shadow/(b) throughput at 65536, 2 readers, churn",
	      res[0][2][1][1].mops / res[2][2][1][1].mops, ">=", 3.0, 65536);
	check(o, "iotlb", "shadow", "repeated hit ns, inline (last-hit entry)",
	      inline_hit, "<=", 5.0, 8);
	for (int si = 0; si < 3; si++)
		for (int rd = 1; rd <= 2; rd++) {
			char what[96];

			snprintf(what, sizeof(what),
				 "p99.9 ns under churn, %d reader(s)", rd);
			check(o, "iotlb", "shadow", what,
			      res[0][si][rd - 1][1].p999, "<", 200.0,
			      sizes[si]);
		}
	return 0;
}
