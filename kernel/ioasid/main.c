// SPDX-License-Identifier: GPL-2.0
/*
 * /dev/ioasid: the ioasid uAPI on a Linux kernel, by running the project's
 * semantic engine (core/, compiled here unchanged) with a kernel host.
 *
 * Each open() is one engine context. The host below gives the engine:
 *  - pinning: pin_user_pages_fast(FOLL_LONGTERM) in page-sized chunks of
 *    entries, kept as the mapping's cookie; pages are unpinned (and
 *    dirtied only when the mapping was writable) only when the engine
 *    releases the mapping, which it does after every listener has
 *    flushed; only the opener's memory is pinned (see kh_pin);
 *  - accounting: each mapping's whole length is charged against
 *    RLIMIT_MEMLOCK before it is pinned, to the opener's user (default)
 *    or its mm (memlock_per_process=1, the way VFIO type1 does);
 *    CAP_IPC_LOCK exempt; charged per mapping, as type1 and iommufd;
 *  - copies to and from the caller;
 *  - software-device DMA through kmap_local_page();
 *  - physical contiguity from the page array, so that the page sizes an
 *    IOMMU would use are reported from real memory;
 *  - table reads for nested ioasids (kh_mem_read) from the parent
 *    mapping's pinned pages through kmap_local_page();
 *  - fault queue files (faultq.c).
 * VFIO devices are in vfio_shim.c, their IOMMU domains in iommu_domain.c;
 * this file is the fd and the host.
 *
 * Lifetime: the context holds a reference on the opener's mm (mmgrab) and
 * user for uncharging at release, which may run after the process is gone.
 */
#include <linux/fs.h>
#include <linux/file.h>
#include <linux/highmem.h>
#include <linux/io.h>
#include <linux/memfd.h>
#include <linux/miscdevice.h>
#include <linux/mm.h>
#include <linux/module.h>
#include <linux/pagemap.h>
#include <linux/pfn.h>
#include <linux/sched/mm.h>
#include <linux/uaccess.h>

#include "ioasid_kernel.h"

struct kmem_cache *ioasid_node_cache;
struct kmem_cache *ioasid_shadow_cache;

/*
 * Pins are made in page-sized chunks of entries (ioasid_kernel.h), so that
 * the work and the memory of a map grow with what is really pinned, and
 * the length a user asks for sizes nothing. The engine has charged the
 * whole length before pin() runs: a request over RLIMIT_MEMLOCK costs no
 * pinning at all.
 */
static void **kpin_new_chunk(struct ioasid_kpin *p, u64 start)
{
	void **c;

	if (p->nchunks == p->chunks_cap) {
		unsigned long cap = p->chunks_cap ? p->chunks_cap * 2 : 8;
		struct ioasid_kpin_chunk *n = ioh_should_fail() ? NULL :
			kvmalloc_array(cap, sizeof(*n), GFP_KERNEL_ACCOUNT);

		if (!n)
			return NULL;
		ioh_counted(n);
		if (p->nchunks)
			memcpy(n, p->chunks, p->nchunks * sizeof(*n));
		ioh_uncounted(p->chunks);
		kvfree(p->chunks);
		p->chunks = n;
		p->chunks_cap = cap;
	}
	/* A fault here fails a pin part of the way through (tests). */
	c = ioh_should_fail() ? NULL : kmalloc(PAGE_SIZE, GFP_KERNEL_ACCOUNT);
	if (c) {
		p->chunks[p->nchunks].ents = ioh_counted(c);
		p->chunks[p->nchunks++].start = start;
	}
	return c;
}

/*
 * Unpin every entry and free the chunks, leaving @p empty. Pages and
 * folios are dirtied only when @dirty: a device could have written them.
 * A read-only mapping's pages are never dirtied (that would write back
 * a file the user may only read, or dirty pages of a read-only mount).
 */
static void kpin_release(struct ioasid_kpin *p, bool dirty)
{
	unsigned long c, i, n;

	for (c = 0; c < p->nchunks; c++) {
		void **e = p->chunks[c].ents;

		n = 0;
		if (p->nents > c * IOASID_KPIN_CHUNK)
			n = min_t(unsigned long, IOASID_KPIN_CHUNK,
				  p->nents - c * IOASID_KPIN_CHUNK);
		if (n && p->folios) {
			for (i = 0; dirty && i < n; i++) {
				struct folio *f = e[i];

				if (!folio_test_dirty(f)) {
					folio_lock(f);
					folio_mark_dirty(f);
					folio_unlock(f);
				}
			}
			unpin_folios((struct folio **)e, n);
		} else if (n && dirty) {
			unpin_user_pages_dirty_lock((struct page **)e, n, true);
		} else if (n) {
			unpin_user_pages((struct page **)e, n);
		}
		ioh_uncounted(e);
		kfree(e);
		cond_resched();
	}
	ioh_uncounted(p->chunks);
	kvfree(p->chunks);
	p->chunks = NULL;
	p->nchunks = 0;
	p->chunks_cap = 0;
	p->nents = 0;
	p->first = 0;
	p->folios = false;
}

/*
 * A shared mapping of a memfd or hugetlbfs file (what DPDK, QEMU with a
 * shared memory backend and VDUSE users map) is pinned by folio: one pin
 * per folio of the file, so a 2 MiB page is one entry, not 512 pages.
 * Returns 0 with @p filled, or non-zero with @p empty when the range is
 * not such a mapping (or the folios cannot be had), for the caller to pin
 * by page. The access checks are the ones GUP would make.
 */
static int kh_pin_file(u64 vaddr, u64 len, u32 prot, struct ioasid_kpin *p)
{
	struct mm_struct *mm = current->mm;
	struct vm_area_struct *vma;
	struct file *file = NULL;
	loff_t start = 0, pos;
	u64 covered = 0;
	int rc = 0;

	mmap_read_lock(mm);
	vma = vma_lookup(mm, vaddr);
	if (ioasid_vma_shared_file(vma) && (vma->vm_flags & VM_READ) &&
	    (!(prot & IOASID_DMA_WRITE) || (vma->vm_flags & VM_WRITE)) &&
	    vaddr + len <= vma->vm_end) {
		file = get_file(vma->vm_file);
		start = ((loff_t)vma->vm_pgoff << PAGE_SHIFT) +
			(vaddr - vma->vm_start);
	}
	mmap_read_unlock(mm);
	if (!file)
		return -ENOENT;
	p->folios = true;
	pos = start;
	while (covered < len) {
		struct folio **f = (struct folio **)kpin_new_chunk(p, covered);
		pgoff_t off = 0;
		long n, i;
		u64 bytes = 0;

		if (!f) {
			rc = -ENOMEM;
			break;
		}
		/* -EINVAL for a file that is neither shmem nor hugetlbfs. */
		n = memfd_pin_folios(file, pos, start + len - 1, f,
				     IOASID_KPIN_CHUNK, &off);
		if (n <= 0) {
			rc = -ENOENT;
			break;
		}
		p->nents += n;
		for (i = 0; i < n; i++)
			bytes += folio_size(f[i]);
		/* Only the first call may start inside a folio. */
		if (p->nents == n)
			p->first = off;
		else if (off)
			rc = -ENOENT;
		if (rc || bytes <= off)
			break;
		covered += bytes - off;
		pos += bytes - off;
		/* Every chunk but the last is full, for ioasid_kpin_ent(). */
		if (covered < len && n != IOASID_KPIN_CHUNK) {
			rc = -ENOENT;
			break;
		}
		cond_resched();
	}
	fput(file);
	if (!rc && covered < len)
		rc = -ENOENT;
	if (rc)
		kpin_release(p, false);
	return rc;
}

static int kh_pin_pages(u64 vaddr, struct ioasid_kpin *p)
{
	unsigned int gup = FOLL_LONGTERM |
			   (p->prot & IOASID_DMA_WRITE ? FOLL_WRITE : 0);
	void **c = NULL;

	while (p->nents < p->npages) {
		unsigned long j = p->nents % IOASID_KPIN_CHUNK;
		long rc;

		if (!j) {
			c = kpin_new_chunk(p, (u64)p->nents << PAGE_SHIFT);
			if (!c)
				return -ENOMEM;
			cond_resched();
			if (fatal_signal_pending(current))
				return -EINTR;
		}
		rc = pin_user_pages_fast(vaddr + (p->nents << PAGE_SHIFT),
					 min(p->npages - p->nents,
					     IOASID_KPIN_CHUNK - j),
					 gup, (struct page **)c + j);
		if (rc <= 0)
			return rc == -ENOMEM ? -ENOMEM : -EFAULT;
		p->nents += rc;
	}
	return 0;
}

/*
 * Which process's pages: a context pins only the memory of the process
 * that opened it (its mm), because that is who is charged for the pins
 * (the opener's user, or its mm with memlock_per_process) and whose
 * RLIMIT_MEMLOCK and CAP_IPC_LOCK apply. A process that got the fd by
 * fork or over a unix socket would otherwise pin its own memory against
 * someone else's limit, past its own; its maps are refused with EPERM
 * (nothing pinned, nothing charged: kh_charge, which the engine calls
 * first, refuses too). VFIO type1 pins and charges the
 * caller's mm at each map; here the opener is the one account.
 */
static int kh_pin(void *host, u64 vaddr, u64 len, u32 prot, void **cookie)
{
	struct ioasid_khost *h = host;
	struct ioasid_kpin *p;
	int rc;

	if (vaddr & ~PAGE_MASK || len & ~PAGE_MASK || !len)
		return -EINVAL;
	if (current->mm != h->mm)
		return -EPERM;
	p = ioh_zalloc(sizeof(*p));
	if (!p)
		return -ENOMEM;
	p->vaddr = vaddr;
	p->npages = len >> PAGE_SHIFT;
	p->prot = prot;
	if (!kh_pin_file(vaddr, len, prot, p)) {
		*cookie = p;
		return 0;
	}
	rc = kh_pin_pages(vaddr, p);
	if (rc) {
		kpin_release(p, false);
		ioh_free(p);
		return rc;
	}
	*cookie = p;
	return 0;
}

static void kh_unpin(void *host, u64 vaddr, u64 len, void *cookie)
{
	struct ioasid_kpin *p = cookie;

	kpin_release(p, p->prot & IOASID_DMA_WRITE);
	ioh_free(p);
}

u64 ioasid_kpin_run(const struct ioasid_kpin *p, struct ioasid_kpin_pos *pos,
		    u64 off, u64 len, phys_addr_t *pa)
{
	u64 end = (u64)p->npages << PAGE_SHIFT;
	struct folio *f, *g;
	u64 run, in, skip;
	unsigned long j;

	/*
	 * Callers stay inside the pin. Were one not to, the walk below would
	 * stop at the last entry and return a run past it: clamp to the last
	 * byte instead, a page of the pin the caller holds.
	 */
	if (WARN_ON_ONCE(!len || off >= end)) {
		off = end - 1;
		len = 1;
	}
	if (!p->folios) {
		unsigned long i = off >> PAGE_SHIFT;
		struct page *pg = ioasid_kpin_ent(p, i), *q;

		*pa = page_to_phys(pg) + offset_in_page(off);
		run = PAGE_SIZE - offset_in_page(off);
		for (j = i + 1; j < p->nents && run < len; j++) {
			q = ioasid_kpin_ent(p, j);
			if (page_to_pfn(q) != page_to_pfn(pg) + 1)
				break;
			pg = q;
			run += PAGE_SIZE;
		}
		return min(run, len);
	}
	/*
	 * Not ahead of @pos within its chunk: the chunk that holds @off, by
	 * its start (a nested table walk reads pages in any order).
	 */
	j = pos->i / IOASID_KPIN_CHUNK;
	if (off < pos->start ||
	    (j + 1 < p->nchunks && off >= p->chunks[j + 1].start)) {
		unsigned long lo = 0, hi = p->nchunks - 1;

		while (lo < hi) {
			unsigned long mid = lo + (hi - lo + 1) / 2;

			if (p->chunks[mid].start <= off)
				lo = mid;
			else
				hi = mid - 1;
		}
		pos->i = lo * IOASID_KPIN_CHUNK;
		pos->start = p->chunks[lo].start;
	}
	for (;;) {
		f = ioasid_kpin_ent(p, pos->i);
		skip = pos->i ? 0 : p->first;
		if (off < pos->start + folio_size(f) - skip ||
		    pos->i + 1 == p->nents)
			break;
		pos->start += folio_size(f) - skip;
		pos->i++;
	}
	in = off - pos->start + skip;
	*pa = PFN_PHYS(folio_pfn(f)) + in;
	run = folio_size(f) - in;
	for (j = pos->i + 1; j < p->nents && run < len; j++) {
		g = ioasid_kpin_ent(p, j);
		if (folio_pfn(g) != folio_pfn(f) + folio_nr_pages(f))
			break;
		f = g;
		run += folio_size(g);
	}
	return min(run, len);
}

static bool memlock_per_process;
module_param(memlock_per_process, bool, 0644);
MODULE_PARM_DESC(memlock_per_process,
		 "charge pinned pages to the opening process's locked_vm (as VFIO type1 does) instead of its user's (as io_uring and iommufd do); read at open");

/*
 * Pinned pages count against RLIMIT_MEMLOCK. Per user (the default), the
 * sum over all of a user's processes and fds is limited, so forking does
 * not multiply the limit; the pages also show in the process's VmPin.
 * CAP_IPC_LOCK lifts the limit, not the counting, so uncharging never
 * depends on who releases.
 */
static int kh_charge(void *host, u64 bytes)
{
	struct ioasid_khost *h = host;
	unsigned long npages = bytes >> PAGE_SHIFT, lim, cur;

	/* Only the opener's process is charged, and pinned (kh_pin). */
	if (current->mm != h->mm)
		return -EPERM;
	if (!h->user)
		return account_locked_vm(h->mm, npages, true);
	lim = rlimit(RLIMIT_MEMLOCK) >> PAGE_SHIFT;
	cur = atomic_long_read(&h->user->locked_vm);
	do {
		if (cur + npages > lim && !capable(CAP_IPC_LOCK))
			return -ENOMEM;
	} while (!atomic_long_try_cmpxchg(&h->user->locked_vm, &cur,
					  cur + npages));
	atomic64_add(npages, &h->mm->pinned_vm);
	return 0;
}

static void kh_uncharge(void *host, u64 bytes)
{
	struct ioasid_khost *h = host;
	unsigned long npages = bytes >> PAGE_SHIFT;

	if (!h->user) {
		account_locked_vm(h->mm, npages, false);
		return;
	}
	atomic_long_sub(npages, &h->user->locked_vm);
	atomic64_sub(npages, &h->mm->pinned_vm);
}

static int kh_copy_from(void *host, void *dst, u64 uptr, size_t len)
{
	return copy_from_user(dst, u64_to_user_ptr(uptr), len) ? -EFAULT : 0;
}

static int kh_copy_to(void *host, u64 uptr, const void *src, size_t len)
{
	return copy_to_user(u64_to_user_ptr(uptr), src, len) ? -EFAULT : 0;
}

static int kh_dma_rw(void *host, void *cookie, u64 map_vaddr, u64 vaddr,
		     u64 uptr, u64 len, bool to_mem)
{
	struct ioasid_kpin_pos pos = {};
	struct ioasid_kpin *p = cookie;
	u64 off = ioasid_kpin_off(p, vaddr);

	if (WARN_ON(vaddr < p->vaddr ||
		    off + len > (u64)p->npages << PAGE_SHIFT))
		return -EFAULT;
	while (len) {
		phys_addr_t pa;
		size_t in, n;
		void *va;
		unsigned long left;

		ioasid_kpin_run(p, &pos, off, len, &pa);
		in = offset_in_page(pa);
		n = min_t(u64, len, PAGE_SIZE - in);
		va = kmap_local_page(pfn_to_page(PHYS_PFN(pa)));
		if (to_mem)
			left = copy_from_user(va + in, u64_to_user_ptr(uptr), n);
		else
			left = copy_to_user(u64_to_user_ptr(uptr), va + in, n);
		kunmap_local(va);
		if (left)
			return -EFAULT;
		off += n;
		uptr += n;
		len -= n;
	}
	return 0;
}

/*
 * The engine asks for a mapping's runs in ascending order, under the
 * context lock (as_pgsizes_of): the walk goes on from where the previous
 * call stopped, kept in the cookie, so one pass over a mapping of n
 * folios costs O(n), not O(n^2) as a walk from the first folio at each
 * call would.
 */
static u64 kh_contig(void *host, void *cookie, u64 map_vaddr, u64 vaddr,
		     u64 len, u64 *out_addr)
{
	struct ioasid_kpin *p = cookie;
	phys_addr_t pa;
	u64 run = ioasid_kpin_run(p, &p->hint, ioasid_kpin_off(p, vaddr), len,
				  &pa);

	*out_addr = pa;
	return run;
}

/*
 * A nested ioasid's table entry, read from the parent mapping's pinned
 * page (the walk reads whole entries, never across a page). The walk
 * reads a table page's entries in ascending order, so a folio pin's
 * position is kept from call to call (under the context lock); the table
 * pages themselves lie wherever the guest put them, and a jump to one
 * costs a binary search over the pin's chunks and a walk within one
 * chunk (ioasid_kpin_run), not a walk from the pin's first folio.
 */
static int kh_mem_read(void *host, void *cookie, u64 map_vaddr, u64 vaddr,
		       void *dst, size_t len)
{
	struct ioasid_kpin *p = cookie;
	u64 off = ioasid_kpin_off(p, vaddr);
	phys_addr_t pa;
	void *va;

	if (WARN_ON(vaddr < p->vaddr || !len ||
		    off + len > (u64)p->npages << PAGE_SHIFT ||
		    offset_in_page(vaddr) + len > PAGE_SIZE))
		return -EFAULT;
	ioasid_kpin_run(p, &p->read_hint, off, len, &pa);
	va = kmap_local_page(pfn_to_page(PHYS_PFN(pa)));
	memcpy(dst, va + offset_in_page(pa), len);
	kunmap_local(va);
	return 0;
}

static const struct ioasid_host_ops kh_ops = {
	.pin = kh_pin,
	.unpin = kh_unpin,
	.charge = kh_charge,
	.uncharge = kh_uncharge,
	.copy_from_user = kh_copy_from,
	.copy_to_user = kh_copy_to,
	.dma_rw = kh_dma_rw,
	.contig = kh_contig,
	.mem_read = kh_mem_read,
	.faultq_open = kh_faultq_open,
	.faultq_install = kh_faultq_install,
	.faultq_abort = kh_faultq_abort,
	.faultq_get = kh_faultq_get,
	.faultq_notify = kh_faultq_notify,
};

/*
 * A context whose only devices reach memory by virtual address (the vDPA
 * adaptor's private compat context, for VDUSE-like devices): nothing is
 * pinned or charged, as vhost_vdpa does not for such devices. The engine
 * still keeps the mappings and their rules; a device that needs pages
 * cannot be bound to such a context (none can: it has no fd).
 */
static int kh_va_pin(void *host, u64 vaddr, u64 len, u32 prot, void **cookie)
{
	if (vaddr & ~PAGE_MASK || len & ~PAGE_MASK || !len)
		return -EINVAL;
	*cookie = NULL;
	return 0;
}

static void kh_va_unpin(void *host, u64 vaddr, u64 len, void *cookie)
{
}

static int kh_va_charge(void *host, u64 bytes)
{
	return 0;
}

static void kh_va_uncharge(void *host, u64 bytes)
{
}

static int kh_va_dma_rw(void *host, void *cookie, u64 map_vaddr, u64 vaddr,
			u64 uptr, u64 len, bool to_mem)
{
	return -EOPNOTSUPP;
}

static const struct ioasid_host_ops kh_va_ops = {
	.pin = kh_va_pin,
	.unpin = kh_va_unpin,
	.charge = kh_va_charge,
	.uncharge = kh_va_uncharge,
	.copy_from_user = kh_copy_from,
	.copy_to_user = kh_copy_to,
	.dma_rw = kh_va_dma_rw,
};

/*
 * Fault injection, for the tests (docs/architecture.md, "Fault
 * injection"): writing N to fail_nth makes the Nth fault point passed
 * from then on fail, once, whichever context passes it (the module has
 * one switch, as the kernel's own fail-nth is per task but Debian's kernel
 * is built without it); reading gives the points still to pass (0: fired
 * or disarmed). live_objects is what the engine and the pins hold from
 * the allocators, for leak checks. Root only: a countdown anyone could arm
 * would let one user fail another's calls.
 */
atomic64_t ioasid_fail_countdown = ATOMIC64_INIT(0);
atomic64_t ioasid_live_objs = ATOMIC64_INIT(0);

static int fail_nth_set(const char *val, const struct kernel_param *kp)
{
	u64 n;
	int rc = kstrtou64(val, 0, &n);

	if (rc)
		return rc;
	if (n > S64_MAX)
		return -EINVAL;
	atomic64_set(&ioasid_fail_countdown, n);
	return 0;
}

static int fail_nth_get(char *buf, const struct kernel_param *kp)
{
	return sysfs_emit(buf, "%lld\n",
			  (long long)atomic64_read(&ioasid_fail_countdown));
}

static const struct kernel_param_ops fail_nth_ops = {
	.set = fail_nth_set,
	.get = fail_nth_get,
};
module_param_cb(fail_nth, &fail_nth_ops, NULL, 0600);
MODULE_PARM_DESC(fail_nth,
		 "tests: fail the Nth fault point (allocation, charge, pin, copy, listener map, attach) from now on; reads the points left");

static int live_objects_get(char *buf, const struct kernel_param *kp)
{
	return sysfs_emit(buf, "%lld\n",
			  (long long)atomic64_read(&ioasid_live_objs));
}

static int live_objects_set(const char *val, const struct kernel_param *kp)
{
	return -EPERM;
}

static const struct kernel_param_ops live_objects_ops = {
	.set = live_objects_set,
	.get = live_objects_get,
};
module_param_cb(live_objects, &live_objects_ops, NULL, 0400);
MODULE_PARM_DESC(live_objects,
		 "tests: objects the engine and its pins hold from the allocators");

static unsigned int max_mappings = IOASID_DEFAULT_MAX_MAPPINGS;
module_param(max_mappings, uint, 0644);
MODULE_PARM_DESC(max_mappings,
		 "mappings per ioasid (VFIO type1's dma_entry_limit is 65535); read at open");

static struct ioasid_khost *khost_create(const struct ioasid_host_ops *ops)
{
	struct ioasid_ctx_config cfg = {
		.max_mappings = READ_ONCE(max_mappings),
	};
	struct ioasid_khost *h = kzalloc(sizeof(*h), GFP_KERNEL_ACCOUNT);

	if (!h)
		return NULL;
	h->mm = current->mm;
	mmgrab(h->mm);
	if (!READ_ONCE(memlock_per_process))
		h->user = get_uid(current_user());
	if (ioasid_ctx_create(ops, h, &cfg, &h->ctx)) {
		free_uid(h->user);
		mmdrop(h->mm);
		kfree(h);
		return NULL;
	}
	return h;
}

struct ioasid_khost *ioasid_khost_create(void)
{
	return khost_create(&kh_ops);
}
EXPORT_SYMBOL_NS_GPL(ioasid_khost_create, IOASID_NS);

struct ioasid_khost *ioasid_khost_create_va(void)
{
	return khost_create(&kh_va_ops);
}
EXPORT_SYMBOL_NS_GPL(ioasid_khost_create_va, IOASID_NS);

void ioasid_khost_destroy(struct ioasid_khost *h)
{
	ioasid_ctx_destroy(h->ctx);
	free_uid(h->user);
	mmdrop(h->mm);
	kfree(h);
}
EXPORT_SYMBOL_NS_GPL(ioasid_khost_destroy, IOASID_NS);

/*
 * The one way another module runs code under a context's lock: @fn(@arg)
 * with @h's context lock held, its result returned. The lock itself is not
 * exported, so no module can hold it past a call or leave it held on an
 * error path. ioasid_vdpa.ko needs it for the engine calls made under the
 * lock (bind, attach, unbind, lookup) and for its own state, which its
 * listener writes under that lock. @fn must not sleep on anything a
 * listener of the context waits for, nor call ioasid_ctx_call() (which
 * takes the lock).
 */
int ioasid_khost_run(struct ioasid_khost *h, int (*fn)(void *arg), void *arg)
{
	int rc;

	ioasid_ctx_lock(h->ctx);
	rc = fn(arg);
	ioasid_ctx_unlock(h->ctx);
	return rc;
}
EXPORT_SYMBOL_NS_GPL(ioasid_khost_run, IOASID_NS);

static int ioasid_open(struct inode *inode, struct file *file)
{
	struct ioasid_khost *h = ioasid_khost_create();

	if (!h)
		return -ENOMEM;
	h->file = file;			/* fault queues hold it (faultq.c) */
	file->private_data = h;
	return 0;
}

static int ioasid_release(struct inode *inode, struct file *file)
{
	ioasid_khost_destroy(file->private_data);
	return 0;
}

static long ioasid_ioctl(struct file *file, unsigned int cmd,
			 unsigned long arg)
{
	struct ioasid_khost *h = file->private_data;

	return ioasid_ctx_ioctl(h->ctx, cmd, arg, NULL);
}

static const struct file_operations ioasid_fops = {
	.owner = THIS_MODULE,
	.open = ioasid_open,
	.release = ioasid_release,
	.unlocked_ioctl = ioasid_ioctl,
	.compat_ioctl = compat_ptr_ioctl,
};

static struct miscdevice ioasid_misc = {
	.minor = MISC_DYNAMIC_MINOR,
	.name = "ioasid",
	.fops = &ioasid_fops,
	.mode = 0666,
};

struct ioasid_khost *ioasid_file_khost(struct file *file)
{
	if (file->f_op != &ioasid_fops)
		return NULL;
	get_file(file);
	return file->private_data;
}
EXPORT_SYMBOL_NS_GPL(ioasid_file_khost, IOASID_NS);

struct ioasid_khost *ioasid_fd_khost(int fd, struct file **file)
{
	struct file *f = fget(fd);
	struct ioasid_khost *h;

	if (!f)
		return NULL;
	h = ioasid_file_khost(f);
	fput(f);
	*file = f;
	return h;
}
EXPORT_SYMBOL_NS_GPL(ioasid_fd_khost, IOASID_NS);

/*
 * For ioasid_vdpa.ko, the vDPA adaptor: it binds vDPA address spaces to
 * contexts as devices and listens to their ioasids. These live in core/,
 * which userspace builds too, so they are exported here (checkpatch
 * would have each export follow its function). All of the module's
 * exports are in the IOASID namespace (MODULE_IMPORT_NS(IOASID_NS)
 * to use them). The context lock is not exported: see ioasid_khost_run().
 */
EXPORT_SYMBOL_NS_GPL(ioasid_ctx_call, IOASID_NS);
EXPORT_SYMBOL_NS_GPL(ioasid_dev_bind, IOASID_NS);
EXPORT_SYMBOL_NS_GPL(ioasid_dev_unbind, IOASID_NS);
EXPORT_SYMBOL_NS_GPL(ioasid_dev_attach, IOASID_NS);
EXPORT_SYMBOL_NS_GPL(ioasid_as_add_listener, IOASID_NS);
EXPORT_SYMBOL_NS_GPL(ioasid_as_del_listener, IOASID_NS);
EXPORT_SYMBOL_NS_GPL(ioasid_as_find, IOASID_NS);
EXPORT_SYMBOL_NS_GPL(ioasid_ctx_as_attrs, IOASID_NS);
EXPORT_SYMBOL_NS_GPL(ioasid_check_compat, IOASID_NS);

static int __init ioasid_init(void)
{
	int rc;

	ioasid_node_cache = kmem_cache_create("ioasid_mapping",
					      sizeof(struct ioasid_mapping), 0,
					      SLAB_ACCOUNT, NULL);
	if (!ioasid_node_cache)
		return -ENOMEM;
	ioasid_shadow_cache = kmem_cache_create("ioasid_shadow",
						IOASID_SHADOW_ENTRY_SIZE, 0,
						SLAB_ACCOUNT, NULL);
	if (!ioasid_shadow_cache) {
		rc = -ENOMEM;
		goto err_cache;
	}
	rc = ioasid_vfio_shim_init();
	if (rc)
		goto err_shadow;
	/* Last: once the node exists, anyone may open it. */
	rc = misc_register(&ioasid_misc);
	if (rc)
		goto err_shim;
	return 0;

err_shim:
	ioasid_vfio_shim_exit();
err_shadow:
	kmem_cache_destroy(ioasid_shadow_cache);
err_cache:
	kmem_cache_destroy(ioasid_node_cache);
	return rc;
}

static void __exit ioasid_exit(void)
{
	misc_deregister(&ioasid_misc);
	ioasid_vfio_shim_exit();
	kmem_cache_destroy(ioasid_shadow_cache);
	kmem_cache_destroy(ioasid_node_cache);
}

module_init(ioasid_init);
module_exit(ioasid_exit);
MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("/dev/ioasid: one I/O address space for VFIO and vDPA devices");
