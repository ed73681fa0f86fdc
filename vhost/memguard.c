// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/*
 * The SIGBUS guard of memguard.h. Slots are written by whoever maps and
 * unmaps guest memory (the control thread, under its backend's lock) and
 * read by the handler, on whichever thread touched the memory.
 *
 * A handler may run while another thread removes or reuses a slot, so a
 * slot is read only while the handler is counted in the slot's @busy:
 * memguard_del() clears @start and then waits until no handler is busy
 * on the slot, so once it returns no handler reads the old values or maps
 * over the old range (the caller unmaps next, and the range may be
 * reused). memguard_add() publishes @start last, after @len and @pgsize,
 * so a handler that sees a non-zero @start sees the values that go with
 * it. The page replaced is checked to lie inside [start, start + len).
 *
 * Only a SIGBUS the kernel raised for an access to a lost page of a file
 * mapping (si_code BUS_ADRERR) is handled: a signal sent by a process
 * (kill, sigqueue: si_code <= 0, whose si_addr the sender chose), a
 * machine-check report (BUS_MCEERR_*) and any other kind go to the
 * handler installed before, or take the default action.
 */
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdbool.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>

#include "memguard.h"

struct slot {
	uintptr_t start;	/* 0: free */
	uintptr_t len;
	uintptr_t pgsize;
	uint64_t hits;
	int taken;		/* reserved by memguard_add() */
	int busy;		/* handlers reading this slot */
};

static struct slot slots[MEMGUARD_SLOTS];
static uint64_t total;
static struct sigaction prev;
static pthread_once_t once = PTHREAD_ONCE_INIT;
static int install_err;

static bool replace(struct slot *s, uintptr_t addr)
{
	uintptr_t start, len, pg, page;
	bool done = false;

	__atomic_fetch_add(&s->busy, 1, __ATOMIC_SEQ_CST);
	start = __atomic_load_n(&s->start, __ATOMIC_SEQ_CST);
	len = __atomic_load_n(&s->len, __ATOMIC_RELAXED);
	pg = __atomic_load_n(&s->pgsize, __ATOMIC_RELAXED);
	if (!start || addr - start >= len)
		goto out;
	/* A hugetlbfs mapping can only be replaced by whole huge pages. */
	page = start + ((addr - start) & ~(pg - 1));
	if (page - start > len - pg)
		goto out;	/* memguard_add() keeps len a multiple of pg */
	if (mmap((void *)page, pg, PROT_READ | PROT_WRITE,
		 MAP_FIXED | MAP_PRIVATE | MAP_ANONYMOUS, -1, 0) == MAP_FAILED)
		goto out;
	__atomic_fetch_add(&s->hits, 1, __ATOMIC_RELAXED);
	__atomic_fetch_add(&total, 1, __ATOMIC_RELEASE);
	done = true;
out:
	__atomic_fetch_sub(&s->busy, 1, __ATOMIC_RELEASE);
	return done;
}

static void on_sigbus(int sig, siginfo_t *si, void *uc)
{
	uintptr_t addr = (uintptr_t)si->si_addr;
	int saved = errno;

	if (si->si_code == BUS_ADRERR) {
		for (int i = 0; i < MEMGUARD_SLOTS; i++) {
			if (replace(&slots[i], addr)) {
				errno = saved;
				return;	/* the access runs again, on zeros */
			}
		}
	}
	errno = saved;
	if (prev.sa_flags & SA_SIGINFO) {
		prev.sa_sigaction(sig, si, uc);
		return;
	}
	if (prev.sa_handler == SIG_IGN && si->si_code <= 0)
		return;		/* sent, and ignored before we came */
	if (prev.sa_handler != SIG_DFL && prev.sa_handler != SIG_IGN) {
		prev.sa_handler(sig);
		return;
	}
	/*
	 * Not ours: the default action, now (SA_NODEFER: raise() delivers
	 * at once). Returning instead would swallow a signal that was sent
	 * or an asynchronous machine-check report.
	 */
	signal(SIGBUS, SIG_DFL);
	raise(SIGBUS);
}

/*
 * In a child of fork() only the forking thread exists: no handler can be
 * busy there, whatever the counters copied from the parent say.
 */
static void forked_child(void)
{
	for (int i = 0; i < MEMGUARD_SLOTS; i++)
		__atomic_store_n(&slots[i].busy, 0, __ATOMIC_RELAXED);
}

static void install(void)
{
	struct sigaction sa;

	/*
	 * @prev is read before our handler goes in: a SIGBUS that arrives
	 * just after finds the earlier handler there, not a zeroed @prev.
	 */
	if (sigaction(SIGBUS, NULL, &prev)) {
		install_err = errno;
		return;
	}
	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = on_sigbus;
	sa.sa_flags = SA_SIGINFO | SA_RESTART | SA_NODEFER;
	sigemptyset(&sa.sa_mask);
	if (sigaction(SIGBUS, &sa, NULL)) {
		install_err = errno;
		return;
	}
	install_err = pthread_atfork(NULL, NULL, forked_child);
}

int memguard_add(void *map, size_t len, size_t pgsize)
{
	if (!map || !len || !pgsize || (pgsize & (pgsize - 1)) ||
	    ((uintptr_t)map & (pgsize - 1)) || (len & (pgsize - 1)) ||
	    (uintptr_t)map + len < (uintptr_t)map)
		return -EINVAL;
	pthread_once(&once, install);
	if (install_err)
		return -install_err;
	for (int i = 0; i < MEMGUARD_SLOTS; i++) {
		int expect = 0;

		if (!__atomic_compare_exchange_n(&slots[i].taken, &expect, 1,
						 false, __ATOMIC_ACQUIRE,
						 __ATOMIC_RELAXED))
			continue;
		__atomic_store_n(&slots[i].len, len, __ATOMIC_RELAXED);
		__atomic_store_n(&slots[i].pgsize, pgsize, __ATOMIC_RELAXED);
		__atomic_store_n(&slots[i].hits, 0, __ATOMIC_RELAXED);
		__atomic_store_n(&slots[i].start, (uintptr_t)map,
				 __ATOMIC_RELEASE);
		return i;
	}
	return -ENOSPC;
}

void memguard_del(int slot)
{
	if (slot < 0 || slot >= MEMGUARD_SLOTS)
		return;
	__atomic_store_n(&slots[slot].start, 0, __ATOMIC_SEQ_CST);
	/*
	 * A handler that read the old start finishes before we go on. The
	 * store above and this load are both seq_cst, against the handler's
	 * increment and load: one of the two sides sees the other.
	 */
	for (unsigned int spins = 0;
	     __atomic_load_n(&slots[slot].busy, __ATOMIC_SEQ_CST); spins++) {
		/*
		 * A handler is busy for one mmap() call. Yield first; then
		 * sleep, so that a handler on a thread of lower real-time
		 * priority on this CPU gets to finish (sched_yield() never
		 * lets it run).
		 */
		if (spins < 64)
			sched_yield();
		else
			nanosleep(&(struct timespec){ .tv_nsec = 50000 }, NULL);
	}
	__atomic_store_n(&slots[slot].taken, 0, __ATOMIC_RELEASE);
}

uint64_t memguard_hits(int slot)
{
	if (slot < 0 || slot >= MEMGUARD_SLOTS)
		return 0;
	return __atomic_load_n(&slots[slot].hits, __ATOMIC_RELAXED);
}

uint64_t memguard_total(void)
{
	return __atomic_load_n(&total, __ATOMIC_ACQUIRE);
}
