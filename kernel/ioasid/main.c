// SPDX-License-Identifier: GPL-2.0
/*
 * /dev/ioasid: the ioasid uAPI on a Linux kernel, by running the project's
 * semantic engine (core/, compiled here unchanged) with a kernel host.
 *
 * Each open() is one engine context. The host below gives the engine:
 *  - pinning: pin_user_pages_fast(FOLL_LONGTERM), the page array kept as
 *    the mapping's cookie; pages are unpinned (and dirtied when the
 *    mapping was writable) only when the engine releases the mapping,
 *    which it does after every listener has flushed;
 *  - accounting: the pinned pages are charged against RLIMIT_MEMLOCK, to
 *    the opener's user (default) or its mm (memlock_per_process=1, the
 *    way VFIO type1 does); CAP_IPC_LOCK exempt; the engine charges each
 *    page once per fd;
 *  - copies to and from the caller;
 *  - software-device DMA through kmap_local_page();
 *  - physical contiguity from the page array, so that the page sizes an
 *    IOMMU would use are reported from real memory.
 * VFIO devices and their IOMMU domains are in vfio_shim.c; this file is
 * the fd and the host.
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

/*
 * A shared mapping of a memfd or hugetlbfs file (what DPDK, QEMU with a
 * shared memory backend and VDUSE users map) is pinned by folio: one pin
 * per folio of the file, so a 2 MiB page is one entry, not 512 pages.
 * Returns 0 with @p filled, or non-zero when the range is not such a
 * mapping (or the folios cannot be had), for the caller to pin by page.
 * The access checks are the ones GUP would make.
 */
static int kh_pin_file(u64 vaddr, u64 len, u32 prot, struct ioasid_kpin *p)
{
	struct mm_struct *mm = current->mm;
	struct vm_area_struct *vma;
	struct file *file = NULL;
	pgoff_t first = 0;
	loff_t start = 0;
	u64 covered = 0;
	long n, i;

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
	/* -EINVAL for a file that is neither shmem nor hugetlbfs. */
	n = memfd_pin_folios(file, start, start + len - 1,
			     (struct folio **)p->p, p->npages, &first);
	fput(file);
	if (n <= 0)
		return -ENOENT;
	for (i = 0; i < n; i++)
		covered += folio_size(((struct folio **)p->p)[i]);
	if (covered < first + len) {
		unpin_folios((struct folio **)p->p, n);
		return -ENOENT;
	}
	p->nfolios = n;
	p->first = first;
	return 0;
}

static int kh_pin(void *host, u64 vaddr, u64 len, u32 prot, void **cookie)
{
	unsigned long npages = len >> PAGE_SHIFT, done = 0;
	unsigned int gup = FOLL_LONGTERM |
			   (prot & IOASID_DMA_WRITE ? FOLL_WRITE : 0);
	struct page **pages;
	struct ioasid_kpin *p;

	if (vaddr & ~PAGE_MASK || len & ~PAGE_MASK || !npages)
		return -EINVAL;
	/* Room for a pointer per page; the counts say which are set. */
	p = kvmalloc(struct_size(p, p, npages), GFP_KERNEL_ACCOUNT);
	if (!p)
		return -ENOMEM;
	p->npages = npages;
	p->nfolios = 0;
	p->first = 0;
	if (!kh_pin_file(vaddr, len, prot, p)) {
		*cookie = p;
		return 0;
	}
	pages = (struct page **)p->p;
	while (done < npages) {
		int rc = pin_user_pages_fast(vaddr + (done << PAGE_SHIFT),
					     min_t(unsigned long, npages - done,
						   INT_MAX / 2),
					     gup, pages + done);

		if (rc <= 0) {
			unpin_user_pages(pages, done);
			kvfree(p);
			return rc == -ENOMEM ? -ENOMEM : -EFAULT;
		}
		done += rc;
	}
	*cookie = p;
	return 0;
}

static void kh_unpin(void *host, u64 vaddr, u64 len, void *cookie)
{
	struct ioasid_kpin *p = cookie;
	unsigned long i;

	if (!p->nfolios) {
		unpin_user_pages_dirty_lock((struct page **)p->p, p->npages,
					    true);
		kvfree(p);
		return;
	}
	/* Dirtied as unpin_user_pages_dirty_lock() would: DMA may write. */
	for (i = 0; i < p->nfolios; i++) {
		struct folio *f = ((struct folio **)p->p)[i];

		if (!folio_test_dirty(f)) {
			folio_lock(f);
			folio_mark_dirty(f);
			folio_unlock(f);
		}
	}
	unpin_folios((struct folio **)p->p, p->nfolios);
	kvfree(p);
}

u64 ioasid_kpin_run(const struct ioasid_kpin *p, struct ioasid_kpin_pos *pos,
		    u64 off, u64 len, phys_addr_t *pa)
{
	struct folio **f = (struct folio **)p->p;
	u64 run, in, skip;
	unsigned long j;

	if (!p->nfolios) {
		struct page **pg = (struct page **)p->p;
		unsigned long i = off >> PAGE_SHIFT;

		*pa = page_to_phys(pg[i]) + offset_in_page(off);
		run = PAGE_SIZE - offset_in_page(off);
		for (j = i + 1; j < p->npages && run < len; j++) {
			if (page_to_pfn(pg[j]) != page_to_pfn(pg[j - 1]) + 1)
				break;
			run += PAGE_SIZE;
		}
		return min(run, len);
	}
	if (off < pos->start) {		/* walked past it: start again */
		pos->i = 0;
		pos->start = 0;
	}
	for (;;) {
		skip = pos->i ? 0 : p->first;
		if (off < pos->start + folio_size(f[pos->i]) - skip ||
		    pos->i + 1 == p->nfolios)
			break;
		pos->start += folio_size(f[pos->i]) - skip;
		pos->i++;
	}
	in = off - pos->start + skip;
	*pa = PFN_PHYS(folio_pfn(f[pos->i])) + in;
	run = folio_size(f[pos->i]) - in;
	for (j = pos->i + 1; j < p->nfolios && run < len; j++) {
		if (folio_pfn(f[j]) != folio_pfn(f[j - 1]) +
				       folio_nr_pages(f[j - 1]))
			break;
		run += folio_size(f[j]);
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
	u64 off = vaddr - map_vaddr;

	if (WARN_ON(off + len > (u64)p->npages << PAGE_SHIFT))
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

static u64 kh_contig(void *host, void *cookie, u64 map_vaddr, u64 vaddr,
		     u64 len, u64 *out_addr)
{
	struct ioasid_kpin_pos pos = {};
	phys_addr_t pa;
	u64 run = ioasid_kpin_run(cookie, &pos, vaddr - map_vaddr, len, &pa);

	*out_addr = pa;
	return run;
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
EXPORT_SYMBOL_GPL(ioasid_khost_create);

struct ioasid_khost *ioasid_khost_create_va(void)
{
	return khost_create(&kh_va_ops);
}
EXPORT_SYMBOL_GPL(ioasid_khost_create_va);

void ioasid_khost_destroy(struct ioasid_khost *h)
{
	ioasid_ctx_destroy(h->ctx);
	free_uid(h->user);
	mmdrop(h->mm);
	kfree(h);
}
EXPORT_SYMBOL_GPL(ioasid_khost_destroy);

static int ioasid_open(struct inode *inode, struct file *file)
{
	struct ioasid_khost *h = ioasid_khost_create();

	if (!h)
		return -ENOMEM;
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
EXPORT_SYMBOL_GPL(ioasid_file_khost);

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
EXPORT_SYMBOL_GPL(ioasid_fd_khost);

/*
 * For ioasid_vdpa.ko, the vDPA adaptor: it binds vDPA address spaces to
 * contexts as devices and listens to their ioasids. These live in core/,
 * which userspace builds too, so they are exported here (checkpatch
 * would have each export follow its function).
 */
EXPORT_SYMBOL_GPL(ioasid_ctx_call);
EXPORT_SYMBOL_GPL(ioasid_ctx_lock);
EXPORT_SYMBOL_GPL(ioasid_ctx_unlock);
EXPORT_SYMBOL_GPL(ioasid_dev_bind);
EXPORT_SYMBOL_GPL(ioasid_dev_unbind);
EXPORT_SYMBOL_GPL(ioasid_dev_attach);
EXPORT_SYMBOL_GPL(ioasid_as_add_listener);
EXPORT_SYMBOL_GPL(ioasid_as_del_listener);
EXPORT_SYMBOL_GPL(ioasid_as_find);
EXPORT_SYMBOL_GPL(ioasid_ctx_as_attrs);
EXPORT_SYMBOL_GPL(ioasid_check_compat);

static int __init ioasid_init(void)
{
	int rc;

	ioasid_node_cache = kmem_cache_create("ioasid_mapping",
					      sizeof(struct ioasid_mapping), 0,
					      SLAB_ACCOUNT, NULL);
	if (!ioasid_node_cache)
		return -ENOMEM;
	rc = misc_register(&ioasid_misc);
	if (rc)
		goto err_cache;
	rc = ioasid_vfio_shim_init();
	if (rc)
		goto err_misc;
	return 0;

err_misc:
	misc_deregister(&ioasid_misc);
err_cache:
	kmem_cache_destroy(ioasid_node_cache);
	return rc;
}

static void __exit ioasid_exit(void)
{
	ioasid_vfio_shim_exit();
	misc_deregister(&ioasid_misc);
	kmem_cache_destroy(ioasid_node_cache);
}

module_init(ioasid_init);
module_exit(ioasid_exit);
MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("/dev/ioasid: one I/O address space for VFIO and vDPA devices");
