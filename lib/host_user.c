// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/*
 * The embedded backend's host: what core/ needs from a process.
 *
 * The software IOMMU of the embedded engine outputs process virtual
 * addresses, so "pinning" is a check that the range is mapped in the
 * process (msync(MS_ASYNC) fails with ENOMEM on a hole: one system call
 * whatever the length) and DMA is a memcpy. Protection bits of the
 * caller's memory are not checked: a read-only buffer mapped for device
 * writes is refused by the kernel backend at pin time but only faults here
 * at access time.
 *
 * Accounting models RLIMIT_MEMLOCK per context: with
 * IOASID_OPEN_MEMLOCK_RLIMIT the limit is the process's RLIMIT_MEMLOCK,
 * read at each charge as the kernel does, and CAP_IPC_LOCK exempts;
 * otherwise a fixed byte limit (0: none). The engine charges each mapping's
 * whole length before pinning it (per mapping, as the kernel backend and
 * VFIO type1), so the same buffer mapped twice counts twice here too. The
 * kernel backend charges the user (or the process) instead; see
 * docs/uapi.md.
 */
#include <fcntl.h>
#include <linux/capability.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "ioasid_core.h"
#include "libioasid_priv.h"

#define SLAB_BYTES	(64 * 1024)

int ioh_cache_init(struct ioh_cache *c, size_t obj_size)
{
	memset(c, 0, sizeof(*c));
	/* Room for the free-list link, pointer aligned. */
	if (obj_size < sizeof(void *))
		obj_size = sizeof(void *);
	c->obj_size = (obj_size + 7) & ~(size_t)7;
	return 0;
}

void ioh_cache_destroy(struct ioh_cache *c)
{
	void *s = c->slabs;

	IOH_WARN_ON(c->live);
	while (s) {
		void *next = *(void **)s;

		free(s);
		s = next;
	}
	memset(c, 0, sizeof(*c));
}

void *ioh_cache_zalloc(struct ioh_cache *c)
{
	void *p = c->free_list;

	if (p) {
		c->free_list = *(void **)p;
	} else {
		if (!c->cur || c->cur + c->obj_size > c->end) {
			char *slab = malloc(SLAB_BYTES);

			if (!slab)
				return NULL;
			*(void **)slab = c->slabs;
			c->slabs = slab;
			c->slab_bytes += SLAB_BYTES;
			/* The first object starts after the slab link. */
			c->cur = slab + 64;
			c->end = slab + SLAB_BYTES;
		}
		p = c->cur;
		c->cur += c->obj_size;
	}
	c->live++;
	memset(p, 0, c->obj_size);
	return ioh_counted(p);
}

void ioh_cache_free(struct ioh_cache *c, void *p)
{
	if (!p)
		return;
	*(void **)p = c->free_list;
	c->free_list = p;
	c->live--;
	ioh_uncounted(p);
}

u64 ioh_fail_countdown;
u32 ioh_wait_cap_ms;
u64 ioh_live_objs;

/* Decrement an armed countdown; the call that takes it to 0 fails. */
void ioh_warn(const char *file, int line, const char *cond)
{
	const char *env = getenv("IOASID_WARN_ABORT");

	fprintf(stderr, "ioasid: WARNING %s:%d: %s\n", file, line, cond);
#ifdef IOASID_WARN_ABORT
	abort();
#endif
	if (env && !strcmp(env, "1"))
		abort();
}

bool ioh_fail_slow(void)
{
	u64 v = __atomic_load_n(&ioh_fail_countdown, __ATOMIC_RELAXED);

	while (v) {
		if (__atomic_compare_exchange_n(&ioh_fail_countdown, &v, v - 1,
						false, __ATOMIC_RELAXED,
						__ATOMIC_RELAXED))
			return v == 1;
	}
	return false;
}

/*
 * A window of the address space found mapped earlier in the same call,
 * so that a batch of neighbouring entries costs one msync() per window
 * instead of one per entry. Thread-local and reset by the library before
 * every call (emb_host_call_begin), so nothing carries across calls: a
 * munmap() between two calls is always seen.
 */
static __thread u64 verified_start, verified_end;

#define VERIFY_WINDOW	(2ULL << 20)

void emb_host_call_begin(void)
{
	verified_start = verified_end = 0;
}

static int user_pin(void *host, u64 vaddr, u64 len, u32 prot, void **cookie)
{
	u64 end = vaddr + len, win;

	(void)host;
	(void)prot;
	*cookie = NULL;
	if (vaddr >= verified_start && end <= verified_end && end > vaddr)
		return 0;
	/* Try a window past the entry; fall back to the entry alone. */
	win = len < VERIFY_WINDOW ? VERIFY_WINDOW : len;
	if (end > vaddr && vaddr + win > vaddr &&
	    !msync((void *)(uintptr_t)vaddr, win, MS_ASYNC)) {
		verified_start = vaddr;
		verified_end = vaddr + win;
		return 0;
	}
	if (msync((void *)(uintptr_t)vaddr, len, MS_ASYNC))
		return -EFAULT;
	return 0;
}

static void user_unpin(void *host, u64 vaddr, u64 len, void *cookie)
{
	(void)host;
	(void)vaddr;
	(void)len;
	(void)cookie;
}

static bool has_cap_ipc_lock(void)
{
	struct __user_cap_header_struct hdr = {
		.version = _LINUX_CAPABILITY_VERSION_3,
	};
	struct __user_cap_data_struct data[2];

	memset(data, 0, sizeof(data));
	if (syscall(SYS_capget, &hdr, data))
		return false;
	return data[CAP_IPC_LOCK / 32].effective & (1U << (CAP_IPC_LOCK % 32));
}

static int user_charge(void *host, u64 bytes)
{
	struct emb_host *h = host;
	u64 limit = h->memlock_bytes;
	bool limited = limit != 0;

	if (h->memlock_rlimit) {
		struct rlimit rl;

		limited = !has_cap_ipc_lock() &&
			  !getrlimit(RLIMIT_MEMLOCK, &rl) &&
			  rl.rlim_cur != RLIM_INFINITY;
		limit = limited ? rl.rlim_cur : 0;
	}
	if (limited &&
	    (h->charged + bytes < bytes || h->charged + bytes > limit))
		return -ENOMEM;
	h->charged += bytes;
	return 0;
}

static void user_uncharge(void *host, u64 bytes)
{
	struct emb_host *h = host;

	IOH_WARN_ON(bytes > h->charged);
	h->charged -= bytes;
}

static int user_copy_from(void *host, void *dst, u64 uptr, size_t len)
{
	(void)host;
	if (!uptr && len)
		return -EFAULT;
	memcpy(dst, (const void *)(uintptr_t)uptr, len);
	return 0;
}

static int user_copy_to(void *host, u64 uptr, const void *src, size_t len)
{
	(void)host;
	if (!uptr && len)
		return -EFAULT;
	memcpy((void *)(uintptr_t)uptr, src, len);
	return 0;
}

static int user_dma_rw(void *host, void *cookie, u64 map_vaddr, u64 vaddr,
		       u64 uptr, u64 len, bool to_mem)
{
	(void)host;
	(void)cookie;
	(void)map_vaddr;
	if (!uptr)
		return -EFAULT;
	if (to_mem)
		memcpy((void *)(uintptr_t)vaddr, (void *)(uintptr_t)uptr, len);
	else
		memcpy((void *)(uintptr_t)uptr, (void *)(uintptr_t)vaddr, len);
	return 0;
}

/* A nested ioasid's table page, read where the parent maps it. */
static int user_mem_read(void *host, void *cookie, u64 map_vaddr, u64 vaddr,
			 void *dst, size_t len)
{
	(void)host;
	(void)cookie;
	(void)map_vaddr;
	memcpy(dst, (const void *)(uintptr_t)vaddr, len);
	return 0;
}

/*
 * A fault queue's fd is an eventfd, readable while records wait; the
 * engine finds the queue by its number (no faultq_get).
 */
static int user_faultq_open(void *host, struct ioasid_faultq *q, int *out_fd)
{
	int fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);

	(void)host;
	if (fd < 0)
		return -errno;
	ioasid_faultq_set_host_data(q, NULL, fd);
	*out_fd = fd;
	return 0;
}

static void user_faultq_close(void *host, struct ioasid_faultq *q)
{
	(void)host;
	close(ioasid_faultq_fd(q));
}

/*
 * The eventfd is made readable while records wait and drained when none
 * does, from its own state (poll), not from a copy: a caller that drained
 * it itself, as eventfd users do, must not make the two disagree. A
 * caller must not close it (ioasid_faultq_close() does).
 */
static void user_faultq_notify(void *host, struct ioasid_faultq *q,
			       bool pending)
{
	struct pollfd p = { .fd = ioasid_faultq_fd(q), .events = POLLIN };
	bool signalled = poll(&p, 1, 0) == 1 && (p.revents & POLLIN);
	uint64_t v = 1;

	(void)host;
	if (pending && !signalled)
		(void)!write(p.fd, &v, sizeof(v));
	else if (!pending && signalled &&
		 (fcntl(p.fd, F_GETFL) & O_NONBLOCK))
		/* Under the context's lock: never a read that may block. */
		(void)!read(p.fd, &v, sizeof(v));
}

const struct ioasid_host_ops emb_host_ops = {
	.pin = user_pin,
	.unpin = user_unpin,
	.charge = user_charge,
	.uncharge = user_uncharge,
	.copy_from_user = user_copy_from,
	.copy_to_user = user_copy_to,
	.dma_rw = user_dma_rw,
	.contig = NULL,
	.mem_read = user_mem_read,
	.faultq_open = user_faultq_open,
	.faultq_abort = user_faultq_close,
	.faultq_close = user_faultq_close,
	.faultq_notify = user_faultq_notify,
};
