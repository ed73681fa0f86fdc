/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/*
 * The userspace host of core/: what the engine needs from its environment,
 * in C11 and POSIX. The kernel's twin is kernel/ioasid/ioasid_host.h.
 * Not for users of libioasid.
 */
#ifndef IOASID_HOST_H
#define IOASID_HOST_H

#include <assert.h>
#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>

#include <linux/types.h>

/* The kernel's spellings, so that u64 is the uAPI's __u64 on both hosts. */
typedef __u8 u8;
typedef __u16 u16;
typedef __u32 u32;
typedef __u64 u64;

#define IOH_U64_MAX	UINT64_MAX
#define IOH_U32_MAX	UINT32_MAX

#ifndef container_of
#define container_of(ptr, type, member) \
	((type *)((char *)(ptr) - offsetof(type, member)))
#endif

/*
 * A warning is a bug the kernel's panic_on_warn turns into a crash, so
 * tests and fuzzers make it one too: ioh_warn() aborts in a fuzz build
 * (IOASID_WARN_ABORT defined) or when IOASID_WARN_ABORT=1 is in the
 * environment (the core suite sets it).
 */
void ioh_warn(const char *file, int line, const char *cond);

#define IOH_WARN_ON(cond) \
	((cond) ? (ioh_warn(__FILE__, __LINE__, #cond), 1) : 0)

/*
 * Fault injection and leak counting (core/core_priv.h, "Fault points"):
 * ioh_fail_countdown is armed by ioasid_fault_inject(); the point that
 * brings it from 1 to 0 fails. ioh_live_objs counts what the engine holds
 * from the allocator (objects and cache entries), so that a test can see
 * a leak without a leak checker. Process-wide, like the kernel's module
 * parameters.
 */
extern u64 ioh_fail_countdown;
extern u64 ioh_live_objs;

bool ioh_fail_slow(void);

static inline bool ioh_should_fail(void)
{
	return __atomic_load_n(&ioh_fail_countdown, __ATOMIC_RELAXED) &&
	       ioh_fail_slow();
}

static inline void *ioh_counted(void *p)
{
	if (p)
		__atomic_fetch_add(&ioh_live_objs, 1, __ATOMIC_RELAXED);
	return p;
}

static inline void ioh_uncounted(void *p)
{
	if (p)
		__atomic_fetch_sub(&ioh_live_objs, 1, __ATOMIC_RELAXED);
}

static inline void *ioh_zalloc(size_t size)
{
	return ioh_counted(calloc(1, size));
}

static inline void ioh_free(void *p)
{
	ioh_uncounted(p);
	free(p);
}

/* Arrays that grow with what users do (the kernel's kvzalloc/kvfree). */
static inline void *ioh_kvzalloc(size_t size)
{
	return ioh_counted(calloc(1, size));
}

static inline void ioh_kvfree(void *p)
{
	ioh_uncounted(p);
	free(p);
}

/* A point in a long walk where the kernel host reschedules: nothing here. */
static inline void ioh_resched(void)
{
}

/*
 * Fixed-size object cache, the userspace twin of a kmem_cache: objects are
 * carved from 64 KiB slabs and recycled through a free list, so that the
 * engine's memory per mapping is the object size, not malloc's rounding.
 * Slabs are returned when the cache is destroyed. Not thread-safe: the
 * engine calls it under the context lock.
 */
struct ioh_cache {
	size_t obj_size;
	void *free_list;
	void *slabs;		/* chain of slabs; first word links them */
	char *cur;		/* carve pointer in the newest slab */
	char *end;
	size_t slab_bytes;	/* bytes held in slabs */
	size_t live;		/* objects handed out */
};

int ioh_cache_init(struct ioh_cache *c, size_t obj_size);
void ioh_cache_destroy(struct ioh_cache *c);
void *ioh_cache_zalloc(struct ioh_cache *c);
void ioh_cache_free(struct ioh_cache *c, void *p);

static inline u64 ioh_cache_live(const struct ioh_cache *c)
{
	return c->live;
}

/* Memory the cache holds from the system, whether in use or free. */
static inline u64 ioh_cache_bytes(const struct ioh_cache *c)
{
	return c->slab_bytes;
}

typedef struct {
	pthread_mutex_t m;
	pthread_t owner;
	bool held;
} ioh_lock_t;

static inline void ioh_lock_init(ioh_lock_t *l)
{
	pthread_mutex_init(&l->m, NULL);
	l->held = false;
}

static inline void ioh_lock_destroy(ioh_lock_t *l)
{
	pthread_mutex_destroy(&l->m);
}

static inline void ioh_lock(ioh_lock_t *l)
{
	pthread_mutex_lock(&l->m);
	l->owner = pthread_self();
	l->held = true;
}

static inline void ioh_unlock(ioh_lock_t *l)
{
	l->held = false;
	pthread_mutex_unlock(&l->m);
}

/*
 * The wait of an access for its fault's answer (core/fault.c): a condition
 * variable on the context's mutex, timed on CLOCK_MONOTONIC.
 */
typedef struct {
	pthread_cond_t c;
} ioh_wait_t;

static inline void ioh_wait_init(ioh_wait_t *w)
{
	pthread_condattr_t a;

	pthread_condattr_init(&a);
	pthread_condattr_setclock(&a, CLOCK_MONOTONIC);
	pthread_cond_init(&w->c, &a);
	pthread_condattr_destroy(&a);
}

static inline void ioh_wait_destroy(ioh_wait_t *w)
{
	pthread_cond_destroy(&w->c);
}

static inline void ioh_wake(ioh_wait_t *w)
{
	pthread_cond_broadcast(&w->c);
}

/*
 * For single-threaded fuzzers, which have no one to answer a fault: when
 * set, no wait lasts longer than this many ms. 0 (the default): no cap.
 */
extern u32 ioh_wait_cap_ms;

static inline int ioh_wait_timeout(ioh_wait_t *w, ioh_lock_t *l,
				   const bool *done, u32 ms)
{
	struct timespec ts;
	int rc = 0;

	if (ioh_wait_cap_ms && ms > ioh_wait_cap_ms)
		ms = ioh_wait_cap_ms;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	ts.tv_sec += ms / 1000;
	ts.tv_nsec += (long)(ms % 1000) * 1000000L;
	if (ts.tv_nsec >= 1000000000L) {
		ts.tv_sec++;
		ts.tv_nsec -= 1000000000L;
	}
	l->held = false;
	while (!*done && rc != ETIMEDOUT)
		rc = pthread_cond_timedwait(&w->c, &l->m, &ts);
	l->owner = pthread_self();
	l->held = true;
	return *done ? 0 : -ETIMEDOUT;
}

/* Only the owner reads held/owner while it holds the lock. */
#define ioh_lock_assert_held(l) \
	assert((l)->held && pthread_equal((l)->owner, pthread_self()))

#endif /* IOASID_HOST_H */
