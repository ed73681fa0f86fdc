// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/*
 * The SIGBUS guard of memguard.h. Slots are written by whoever maps and
 * unmaps guest memory (the control thread, under its backend's lock) and
 * read by the handler, on whichever thread touched the memory: every slot
 * field is accessed atomically, and a slot is published (start last) only
 * once its length and page size are set.
 */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <string.h>
#include <sys/mman.h>

#include "memguard.h"

struct slot {
	uintptr_t start;	/* 0: free */
	uintptr_t len;
	uintptr_t pgsize;
	uint64_t hits;
	int taken;		/* reserved by memguard_add() */
};

static struct slot slots[MEMGUARD_SLOTS];
static uint64_t total;
static struct sigaction prev;
static pthread_once_t once = PTHREAD_ONCE_INIT;
static int install_err;

static bool replace(struct slot *s, uintptr_t addr)
{
	uintptr_t start = __atomic_load_n(&s->start, __ATOMIC_ACQUIRE);
	uintptr_t len = __atomic_load_n(&s->len, __ATOMIC_RELAXED);
	uintptr_t pg = __atomic_load_n(&s->pgsize, __ATOMIC_RELAXED);
	uintptr_t page;

	if (!start || addr - start >= len)
		return false;
	/* A hugetlbfs mapping can only be replaced by whole huge pages. */
	page = start + ((addr - start) & ~(pg - 1));
	if (mmap((void *)page, pg, PROT_READ | PROT_WRITE,
		 MAP_FIXED | MAP_PRIVATE | MAP_ANONYMOUS, -1, 0) == MAP_FAILED)
		return false;
	__atomic_fetch_add(&s->hits, 1, __ATOMIC_RELAXED);
	__atomic_fetch_add(&total, 1, __ATOMIC_RELEASE);
	return true;
}

static void on_sigbus(int sig, siginfo_t *si, void *uc)
{
	uintptr_t addr = (uintptr_t)si->si_addr;
	int saved = errno;

	for (int i = 0; i < MEMGUARD_SLOTS; i++) {
		if (replace(&slots[i], addr)) {
			errno = saved;
			return;	/* the access runs again, on zeros */
		}
	}
	errno = saved;
	if (prev.sa_flags & SA_SIGINFO) {
		prev.sa_sigaction(sig, si, uc);
		return;
	}
	if (prev.sa_handler != SIG_DFL && prev.sa_handler != SIG_IGN) {
		prev.sa_handler(sig);
		return;
	}
	/* Not ours: the default action, when the access runs again. */
	signal(SIGBUS, SIG_DFL);
}

static void install(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = on_sigbus;
	sa.sa_flags = SA_SIGINFO | SA_RESTART | SA_NODEFER;
	sigemptyset(&sa.sa_mask);
	if (sigaction(SIGBUS, &sa, &prev))
		install_err = errno;
}

int memguard_add(void *map, size_t len, size_t pgsize)
{
	if (!map || !len || !pgsize || (pgsize & (pgsize - 1)) ||
	    ((uintptr_t)map & (pgsize - 1)))
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
	__atomic_store_n(&slots[slot].start, 0, __ATOMIC_RELEASE);
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
