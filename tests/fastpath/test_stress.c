// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/*
 * stress: readers translate while a writer maps, unmaps and remaps at full
 * speed; after an unmap returns no reader ever uses the removed translation.
 *
 * Each slot's memory is a fresh mmap() page stamped with (slot, generation).
 * The writer maps it, later unmaps it through the batcher and, as soon as
 * the unmap returns, munmap()s the page: a reader still using the old
 * translation would fault (the test dies) or, if the address was reused
 * for another slot's page, read a stamp that does not match the slot it
 * translated (the test fails). Readers check every stamp they read and
 * announce a quiescent state after each burst, as a DPDK lcore would.
 */
#include <pthread.h>
#include <stdatomic.h>

#include "harness.h"
#include "ioasid_fastpath.h"

#define SLOTS		64
#define READERS		2

struct stamp {
	uint64_t slot;
	uint64_t gen;
};

struct stress {
	struct ioasid_fp_shadow *s;
	atomic_bool stop;
	atomic_uint_fast64_t reads;
	atomic_uint_fast64_t bad;
	atomic_uint_fast64_t misses;
};

static void *reader_main(void *arg)
{
	struct stress *st = arg;
	struct ioasid_fp_reader *r;
	uint64_t x = (uint64_t)(uintptr_t)&r | 1, reads = 0, misses = 0;

	if (ioasid_fp_reader_register(st->s, &r))
		return (void *)1;
	while (!atomic_load_explicit(&st->stop, memory_order_relaxed)) {
		for (int burst = 0; burst < 32; burst++) {
			uint64_t slot, c;
			void *hva;
			const struct stamp *sp;

			x ^= x << 13;
			x ^= x >> 7;
			x ^= x << 17;
			slot = x % SLOTS;
			if (ioasid_fp_translate(r, slot * SZ_64K + 16,
						sizeof(*sp), IOASID_FP_READ,
						&hva, &c)) {
				misses++;
				continue;
			}
			sp = (const struct stamp *)((char *)hva - 16);
			if (sp->slot != slot || c != sizeof(*sp))
				atomic_fetch_add(&st->bad, 1);
			reads++;
		}
		ioasid_fp_reader_quiescent(r);
	}
	atomic_fetch_add(&st->reads, reads);
	atomic_fetch_add(&st->misses, misses);
	ioasid_fp_reader_unregister(r);
	return NULL;
}

/* The stress backend accepts everything: the shadow's ordering is tested. */
static int ok_call(struct ioasid_fp_backend *be, const struct ioasid_fp_op *ops,
		   uint32_t n, uint32_t *fail)
{
	return 0;
}

static const struct ioasid_fp_backend_ops ok_ops = {
	.map = ok_call,
	.unmap = ok_call,
};

static int no_late_reads(struct fx *f, struct ioasid_fp_backend *be,
			 uint64_t ops)
{
	struct ioasid_fp_batcher_cfg cfg = { .size = sizeof(cfg),
					     .max_batch = 8 };
	static struct stress st;
	struct ioasid_fp_batcher *b;
	void *page[SLOTS] = { 0 };
	pthread_t th[READERS];
	uint64_t gen = 0, x = 12345;

	memset(&st, 0, sizeof(st));
	CHECK_OK(ioasid_fp_shadow_create(&st.s));
	CHECK_OK(ioasid_fp_batcher_create(st.s, be, &cfg, &b));
	for (int i = 0; i < READERS; i++)
		CHECK(!pthread_create(&th[i], NULL, reader_main, &st));
	for (uint64_t i = 0; i < ops; i++) {
		uint64_t slot;

		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		slot = x % SLOTS;
		if (page[slot]) {
			uint64_t un = 0;

			CHECK_OK(ioasid_fp_unmap(b, slot * SZ_64K, SZ_4K, &un));
			CHECK_EQ(un, SZ_4K);
			/* No reader may touch it from here on. */
			CHECK_OK(munmap(page[slot], SZ_4K));
			page[slot] = NULL;
		} else {
			struct stamp *sp;

			page[slot] = mmap(NULL, SZ_4K, PROT_READ | PROT_WRITE,
					  MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
			CHECK(page[slot] != MAP_FAILED);
			sp = page[slot];
			sp->slot = slot;
			sp->gen = ++gen;
			CHECK_OK(ioasid_fp_map(b, slot * SZ_64K, page[slot],
					       SZ_4K, IOASID_FP_READ));
		}
	}
	atomic_store(&st.stop, true);
	for (int i = 0; i < READERS; i++)
		CHECK(!pthread_join(th[i], NULL));
	for (int i = 0; i < SLOTS; i++) {
		if (!page[i])
			continue;
		CHECK_OK(ioasid_fp_unmap(b, (uint64_t)i * SZ_64K, SZ_4K, NULL));
		munmap(page[i], SZ_4K);
	}
	diag("%llu writer ops, %llu reads, %llu misses, %llu bad stamps",
	     (unsigned long long)ops, (unsigned long long)st.reads,
	     (unsigned long long)st.misses, (unsigned long long)st.bad);
	CHECK_EQ(atomic_load(&st.bad), 0);
	CHECK(atomic_load(&st.reads) > 0);
	ioasid_fp_batcher_destroy(b);
	ioasid_fp_shadow_destroy(st.s);
	return 0;
}

static uint64_t stress_ops(void)
{
	const char *e = getenv("IOASID_STRESS_OPS");

	return e ? strtoull(e, NULL, 0) : 20000;
}

static int stress_shadow(struct fx *f)
{
	struct ioasid_fp_backend be = { .ops = &ok_ops, .name = "accept-all",
					.caps = IOASID_FP_BE_BATCH };

	return no_late_reads(f, &be, stress_ops());
}

static int stress_engine(struct fx *f)
{
	struct ioasid_fp_backend *be;
	int rc;

	/* The same through the embedded engine as the backend. */
	CHECK_OK(ioasid_attach(f->h, f->dev, f->as));
	CHECK_OK(ioasid_fp_backend_ioasid(f->h, f->as, &be));
	rc = no_late_reads(f, be, stress_ops() / 2);
	ioasid_fp_backend_destroy(be);
	return rc;
}

/*
 * Threads that both read and write: each is an online reader and maps and
 * unmaps through the same batcher, so one waits for a flush while the
 * other's flush waits for a grace period. Blocking must not keep a reader
 * online, or the two wait for each other forever.
 */
struct rw {
	struct ioasid_fp_shadow *s;
	struct ioasid_fp_batcher *b;
	void *mem;
	int id;
	int err;
};

static void *rw_main(void *arg)
{
	struct rw *w = arg;
	struct ioasid_fp_reader *r;
	uint64_t base = (uint64_t)(w->id + 1) << 32;

	if (ioasid_fp_reader_register(w->s, &r)) {
		w->err = 1;
		return NULL;
	}
	for (int i = 0; i < 2000 && !w->err; i++) {
		uint64_t iova = base + (uint64_t)(i % 16) * SZ_64K, c;
		void *hva;

		if (ioasid_fp_map(w->b, iova, w->mem, SZ_4K, IOASID_FP_READ) ||
		    ioasid_fp_translate(r, iova, 8, IOASID_FP_READ, &hva, &c) ||
		    hva != w->mem ||
		    ioasid_fp_unmap(w->b, iova, SZ_4K, NULL))
			w->err = 2;
		ioasid_fp_reader_quiescent(r);
	}
	ioasid_fp_reader_unregister(r);
	return NULL;
}

static int readers_that_write(struct fx *f)
{
	struct ioasid_fp_backend be = { .ops = &ok_ops, .name = "accept-all",
					.caps = IOASID_FP_BE_BATCH };
	struct ioasid_fp_shadow *s;
	struct ioasid_fp_batcher *b;
	struct rw w[2];
	pthread_t th[2];

	CHECK_OK(ioasid_fp_shadow_create(&s));
	CHECK_OK(ioasid_fp_batcher_create(s, &be, NULL, &b));
	for (int i = 0; i < 2; i++) {
		w[i] = (struct rw){ s, b, f->buf, i, 0 };
		CHECK(!pthread_create(&th[i], NULL, rw_main, &w[i]));
	}
	for (int i = 0; i < 2; i++) {
		CHECK(!pthread_join(th[i], NULL));
		CHECK_EQ(w[i].err, 0);
	}
	ioasid_fp_batcher_destroy(b);
	ioasid_fp_shadow_destroy(s);
	return 0;
}

static const struct test tests[] = {
	{ "stress_shadow", stress_shadow, NULL },
	{ "stress_engine", stress_engine, NULL },
	{ "readers_that_write", readers_that_write, NULL },
};

int main(int argc, char **argv)
{
	return run_tests("stress", tests, sizeof(tests) / sizeof(tests[0]),
			 argc, argv);
}
