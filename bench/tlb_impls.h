/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/*
 * Translation caches compared by ioasid-bench iotlb, behind one interface:
 * the project's shadow and two baselines built from the same primitives.
 */
#ifndef IOASID_BENCH_TLB_IMPLS_H
#define IOASID_BENCH_TLB_IMPLS_H

#include <stdint.h>

struct tlb_impl {
	const char *name;
	const char *label;
	void *(*create)(void);
	void (*destroy)(void *t);
	/* Writer side; the benchmark's writer thread calls these. */
	int (*insert)(void *t, uint64_t iova, uint64_t len, uint64_t hva,
		      uint32_t perm);
	int (*remove)(void *t, uint64_t iova, uint64_t len);
	/* Fill: n mappings of len at iova0 + i * stride -> hva0 + i * len. */
	int (*fill)(void *t, uint32_t n, uint64_t iova0, uint64_t stride,
		    uint64_t len, uint64_t hva0, uint32_t perm);
	/* Churn: take a mapping out and put it back, one writer operation. */
	int (*update)(void *t, uint64_t iova, uint64_t len, uint64_t hva,
		      uint32_t perm);
	/* Reader side, one context per reader thread. */
	void *(*reader_begin)(void *t);
	void (*reader_quiescent)(void *r);
	void (*reader_end)(void *r);
	int (*translate)(void *r, uint64_t iova, uint64_t len, uint32_t perm,
			 uint64_t *hva, uint64_t *contig);
};

/* Fill through insert(), one mapping at a time. */
int tlb_fill_each(const struct tlb_impl *impl, void *t, uint32_t n,
		  uint64_t iova0, uint64_t stride, uint64_t len, uint64_t hva0,
		  uint32_t perm);

extern const struct tlb_impl tlb_shadow;	/* fastpath/, batched writes */
extern const struct tlb_impl tlb_shadow_unbatched;
extern const struct tlb_impl tlb_dpdk;		/* (a) DPDK 22.11 algorithm */
extern const struct tlb_impl tlb_itree;		/* (b) tree under a rwlock */

/* A spinning reader-writer lock, as DPDK's rte_rwlock is built. */
struct spin_rwlock {
	int32_t cnt;			/* > 0 readers, -1 writer */
};

static inline void spin_read_lock(struct spin_rwlock *l)
{
	for (;;) {
		int32_t x = __atomic_load_n(&l->cnt, __ATOMIC_RELAXED);

		if (x < 0) {
			__builtin_ia32_pause();
			continue;
		}
		if (__atomic_compare_exchange_n(&l->cnt, &x, x + 1, 0,
						__ATOMIC_ACQUIRE,
						__ATOMIC_RELAXED))
			return;
	}
}

static inline void spin_read_unlock(struct spin_rwlock *l)
{
	__atomic_fetch_sub(&l->cnt, 1, __ATOMIC_RELEASE);
}

static inline void spin_write_lock(struct spin_rwlock *l)
{
	for (;;) {
		int32_t x = 0;

		if (__atomic_compare_exchange_n(&l->cnt, &x, -1, 0,
						__ATOMIC_ACQUIRE,
						__ATOMIC_RELAXED))
			return;
		__builtin_ia32_pause();
	}
}

static inline void spin_write_unlock(struct spin_rwlock *l)
{
	__atomic_store_n(&l->cnt, 0, __ATOMIC_RELEASE);
}

#endif /* IOASID_BENCH_TLB_IMPLS_H */
