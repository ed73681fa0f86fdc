/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What the parts of ioasid.ko share: the kernel host of one context
 * (main.c), the VFIO shim (vfio_shim.c) and the IOMMU domains
 * (iommu_domain.c); and what ioasid_vdpa.ko uses of them (exported in the
 * IOASID symbol namespace).
 */
#ifndef IOASID_KERNEL_H
#define IOASID_KERNEL_H

#include <linux/fs.h>
#include <linux/mm.h>
#include <linux/mm_types.h>
#include <linux/sched/user.h>
#include <linux/uaccess.h>
#include <linux/version.h>

#include "ioasid_core.h"
#include "sizefirst.h"

/*
 * The IOASID symbol namespace, for EXPORT_SYMBOL_NS_GPL() in ioasid.ko
 * and MODULE_IMPORT_NS() in ioasid_vdpa.ko. Linux 6.13 made their
 * namespace argument a string literal ("IOASID"); 6.12 takes the bare
 * name and stringifies it (after expanding this macro).
 */
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 13, 0)
#define IOASID_NS	"IOASID"
#else
#define IOASID_NS	IOASID
#endif

/* Where a walk over a mapping's folios is; start it zeroed. */
struct ioasid_kpin_pos {
	unsigned long i;		/* folio */
	u64 start;			/* mapping offset of its first used byte */
};

/* Entries per chunk of a pin: one page of pointers. */
#define IOASID_KPIN_CHUNK	(PAGE_SIZE / sizeof(void *))

/*
 * One chunk of a pin's entries and the mapping offset its first entry
 * starts at (0 for the first chunk, whose first folio may begin before
 * the mapping): a folio pin finds the folio of any offset by a binary
 * search over the chunks and a walk of at most one chunk.
 */
struct ioasid_kpin_chunk {
	void **ents;
	u64 start;
};

/*
 * Pinned memory of one mapping: the engine's cookie. Either @nents pages
 * (pin_user_pages) or, for a shared mapping of a memfd or hugetlbfs file,
 * @nents folios of the file (memfd_pin_folios), the mapping starting
 * @first bytes into the first. The entries live in page-sized chunks
 * (every chunk but the last full), allocated as pinning proceeds, so no
 * allocation is sized by the length a user asks for: memory held is
 * proportional to what is really pinned. A nested ioasid's shadow entry
 * carries its parent mapping's pin with a vaddr inside it, so a byte's
 * offset is its vaddr minus @vaddr, never minus the mapping's vaddr
 * (ioasid_kpin_off).
 */
struct ioasid_kpin {
	u64 vaddr;			/* first byte pinned: offsets count from here */
	unsigned long npages;		/* mapping length in pages */
	unsigned long nents;		/* entries pinned */
	unsigned long first;
	u32 prot;			/* IOASID_DMA_*: only WRITE unpins dirty */
	bool folios;			/* entries are folios, not pages */
	unsigned long nchunks;
	unsigned long chunks_cap;
	struct ioasid_kpin_chunk *chunks; /* entry c * CHUNK + j: chunks[c].ents[j] */
	struct ioasid_kpin_pos hint;	/* kh_contig's walk (context lock) */
	struct ioasid_kpin_pos read_hint; /* kh_mem_read's (context lock) */
};

static inline u64 ioasid_kpin_off(const struct ioasid_kpin *p, u64 vaddr)
{
	return vaddr - p->vaddr;
}

static inline void *ioasid_kpin_ent(const struct ioasid_kpin *p,
				    unsigned long i)
{
	return p->chunks[i / IOASID_KPIN_CHUNK].ents[i % IOASID_KPIN_CHUNK];
}

/*
 * The physical address of byte @off of the mapping in *pa, and how many
 * bytes from there (at most @len) are physically contiguous. Cheapest
 * when @off grows from call to call with the same @pos; any other @off
 * costs a search over the chunks and a walk within one.
 */
u64 ioasid_kpin_run(const struct ioasid_kpin *p, struct ioasid_kpin_pos *pos,
		    u64 off, u64 len, phys_addr_t *pa);

/*
 * A shared mapping of a file, with pages behind it: what a device that
 * reaches memory through files (VDUSE) can use, and what the host may pin
 * by folio.
 */
static inline bool ioasid_vma_shared_file(const struct vm_area_struct *vma)
{
	return vma && vma->vm_file && (vma->vm_flags & VM_SHARED) &&
	       !(vma->vm_flags & (VM_IO | VM_PFNMAP));
}

/* One context with its kernel host: an open /dev/ioasid or a container. */
struct ioasid_khost {
	struct ioasid_ctx *ctx;
	struct mm_struct *mm;
	struct user_struct *user;	/* per-user accounting; NULL: per mm */
	struct file *file;		/* its /dev/ioasid file, or NULL */
};

/* Fault queue files (faultq.c): the host's faultq ops. */
struct ioasid_faultq;
int kh_faultq_open(void *host, struct ioasid_faultq *q, int *out_fd);
void kh_faultq_install(void *host, struct ioasid_faultq *q);
void kh_faultq_abort(void *host, struct ioasid_faultq *q);
int kh_faultq_get(void *host, int fd, struct ioasid_faultq **out);
void kh_faultq_notify(void *host, struct ioasid_faultq *q, bool pending);

struct ioasid_khost *ioasid_khost_create(void);
/* Pins and charges nothing: for devices that map by virtual address. */
struct ioasid_khost *ioasid_khost_create_va(void);
void ioasid_khost_destroy(struct ioasid_khost *h);
/* The context behind an ioasid fd, with a reference on @file; or NULL. */
struct ioasid_khost *ioasid_file_khost(struct file *file);
/*
 * The same for file descriptor @fd: the context with a reference on the
 * file, returned in *@file (fput() it when done); NULL for a bad fd or
 * one that is not an ioasid fd (EBADF either way).
 */
struct ioasid_khost *ioasid_fd_khost(int fd, struct file **file);
/* @fn(@arg) under @h's context lock; its result. See main.c. */
int ioasid_khost_run(struct ioasid_khost *h, int (*fn)(void *arg), void *arg);

/*
 * The size-first rule (core/sizefirst.h) for the ioctls outside the
 * decoder: the struct at @uarg starts with its size. A size below
 * @min_size (the end of the first version's last field) is EINVAL; a size
 * past IOASID_UCMD_MAX_SIZE, or bytes past @ksize that are not 0, E2BIG
 * (copy_struct_from_user() checks the tail). The struct is copied into
 * @dst (@ksize bytes), the fields a smaller, older caller does not know
 * reading as 0. The size read is returned in *@usize: copy back
 * sizefirst_len(*@usize, @ksize) bytes, the prefix the caller knows. The
 * caller checks flags and reserved fields.
 */
static inline int ioasid_struct_from_user(void *dst, size_t ksize,
					  size_t min_size,
					  const void __user *uarg, u32 *usize)
{
	u32 size;
	int rc;

	if (get_user(size, (const u32 __user *)uarg))
		return -EFAULT;
	rc = sizefirst_check(size, min_size);
	if (rc)
		return rc;
	rc = copy_struct_from_user(dst, ksize, uarg, size);
	if (rc)
		return rc;
	*usize = size;
	return 0;
}

int ioasid_vfio_shim_init(void);
void ioasid_vfio_shim_exit(void);

#endif /* IOASID_KERNEL_H */
