/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The kernel host of core/: what the engine needs, in kernel terms. The
 * userspace twin is lib/host/ioasid_host.h; the contract is described at
 * the top of core/ioasid_core.h. Not for users.
 */
#ifndef IOASID_HOST_H
#define IOASID_HOST_H

#include <linux/atomic.h>
#include <linux/bug.h>
#include <linux/container_of.h>
#include <linux/errno.h>
#include <linux/ioctl.h>
#include <linux/limits.h>
#include <linux/lockdep.h>
#include <linux/mutex.h>
#include <linux/sched.h>
#include <linux/slab.h>
#include <linux/string.h>
#include <linux/types.h>
#include <linux/wait.h>
#include <linux/jiffies.h>

#define IOH_U64_MAX	U64_MAX
#define IOH_U32_MAX	U32_MAX

#define IOH_WARN_ON(cond)	WARN_ON(cond)

/*
 * Fault injection and leak counting (core/core_priv.h, "Fault points";
 * main.c, module parameters fail_nth and live_objects): the point that
 * takes the armed countdown from 1 to 0 fails; ioasid_live_objs counts
 * what the engine and the pins hold from the allocators.
 */
extern atomic64_t ioasid_fail_countdown;
extern atomic64_t ioasid_live_objs;

static inline bool ioh_should_fail(void)
{
	return atomic64_read(&ioasid_fail_countdown) > 0 &&
	       atomic64_dec_if_positive(&ioasid_fail_countdown) == 0;
}

static inline void *ioh_counted(void *p)
{
	if (p)
		atomic64_inc(&ioasid_live_objs);
	return p;
}

static inline void ioh_uncounted(const void *p)
{
	if (p)
		atomic64_dec(&ioasid_live_objs);
}

static inline void *ioh_zalloc(size_t size)
{
	return ioh_counted(kzalloc(size, GFP_KERNEL_ACCOUNT));
}

static inline void ioh_free(void *p)
{
	ioh_uncounted(p);
	kfree(p);
}

/*
 * For arrays that grow with what users do, up to a bound the engine sets:
 * large ones come from vmalloc rather than failing for want of contiguous
 * pages. Free with ioh_kvfree().
 */
static inline void *ioh_kvzalloc(size_t size)
{
	return ioh_counted(kvzalloc(size, GFP_KERNEL_ACCOUNT));
}

static inline void ioh_kvfree(void *p)
{
	ioh_uncounted(p);
	kvfree(p);
}

/*
 * A point in a long walk, sized by a user's request, where the engine holds
 * only its context mutex: let others run.
 */
static inline void ioh_resched(void)
{
	cond_resched();
}

/*
 * Mapping nodes and nested ioasids' shadow entries come from two
 * kmem_caches of the module (main.c), the smallest that holds the object;
 * each context counts its own objects.
 */
struct ioh_cache {
	struct kmem_cache *cache;
	size_t obj_size;
	u64 live;
};

extern struct kmem_cache *ioasid_node_cache;
extern struct kmem_cache *ioasid_shadow_cache;

static inline int ioh_cache_init(struct ioh_cache *c, size_t obj_size)
{
	struct kmem_cache *k = ioasid_node_cache;

	if (k && kmem_cache_size(k) < obj_size)
		k = ioasid_shadow_cache;
	if (!k || kmem_cache_size(k) < obj_size)
		return -EINVAL;
	c->cache = k;
	c->obj_size = obj_size;
	c->live = 0;
	return 0;
}

static inline void ioh_cache_destroy(struct ioh_cache *c)
{
	WARN_ON(c->live);
}

static inline void *ioh_cache_zalloc(struct ioh_cache *c)
{
	void *p = kmem_cache_zalloc(c->cache, GFP_KERNEL_ACCOUNT);

	if (p)
		c->live++;
	return ioh_counted(p);
}

static inline void ioh_cache_free(struct ioh_cache *c, void *p)
{
	if (!p)
		return;
	c->live--;
	ioh_uncounted(p);
	kmem_cache_free(c->cache, p);
}

static inline u64 ioh_cache_live(const struct ioh_cache *c)
{
	return c->live;
}

static inline u64 ioh_cache_bytes(const struct ioh_cache *c)
{
	return c->live * kmem_cache_size(c->cache);
}

typedef struct mutex ioh_lock_t;

#define ioh_lock_init(l)	mutex_init(l)
#define ioh_lock_destroy(l)	mutex_destroy(l)
#define ioh_lock(l)		mutex_lock(l)
#define ioh_unlock(l)		mutex_unlock(l)
#define ioh_lock_assert_held(l)	lockdep_assert_held(l)

/*
 * The wait of an access for its fault's answer (core/fault.c): a wait
 * queue on the waiter's stack, the context mutex released while asleep.
 * The waker sets *done and wakes with the mutex held, and the waiter
 * looks at *done (and returns, freeing its stack) only after taking the
 * mutex again, so the wake never touches a queue that is gone. Killable:
 * a fatal signal ends the wait.
 */
typedef struct {
	wait_queue_head_t wq;
} ioh_wait_t;

static inline void ioh_wait_init(ioh_wait_t *w)
{
	init_waitqueue_head(&w->wq);
}

static inline void ioh_wait_destroy(ioh_wait_t *w)
{
}

static inline void ioh_wake(ioh_wait_t *w)
{
	wake_up(&w->wq);
}

static inline int ioh_wait_timeout(ioh_wait_t *w, ioh_lock_t *l,
				   const bool *done, u32 ms)
{
	long t;

	mutex_unlock(l);
	t = wait_event_killable_timeout(w->wq, READ_ONCE(*done),
					msecs_to_jiffies(ms));
	mutex_lock(l);
	if (*done)
		return 0;
	return t < 0 ? -EINTR : -ETIMEDOUT;
}

#endif /* IOASID_HOST_H */
