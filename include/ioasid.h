/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/*
 * libioasid: the userspace API of ioasid.
 *
 * It mirrors the uAPI in <linux/ioasid.h>: every call there has a function
 * here, and ioasid_ioctl() passes any uAPI struct through unchanged. Two
 * backends sit behind one handle, chosen at open time:
 *
 *   kernel    ioctls on /dev/ioasid (the kernel module)
 *   embedded  the same semantic engine (core/) running in this process,
 *             with software devices; needs no module and no privilege
 *
 * Both decode arguments with the same code, so a program behaves the same
 * on either. Every function returns 0 (or a count) on success and a
 * negative errno on failure, never touching errno; ioasid_strerror()
 * renders the calling thread's last failure as a sentence that names the
 * field and the rule.
 *
 * Thread safety: a handle may be used from several threads; calls on one
 * handle are serialized inside.
 */
#ifndef IOASID_H
#define IOASID_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <linux/ioasid.h>

#ifdef __cplusplus
extern "C" {
#endif

struct ioasid_handle;

enum ioasid_backend {
	IOASID_BACKEND_AUTO = 0,	/* kernel if /dev/ioasid exists */
	IOASID_BACKEND_EMBEDDED = 1,
	IOASID_BACKEND_KERNEL = 2,
};

/* ioasid_open_opts.flags */
#define IOASID_OPEN_MEMLOCK_RLIMIT	(1U << 0)	/* embedded: charge
							 * RLIMIT_MEMLOCK */

/*
 * Read size-first, as the uAPI's structs are: size is the struct's size
 * as the caller was built, at least the first version's, which ends at
 * dev_path (today's struct); fields past the caller's size read as 0, and
 * a larger size needs every byte past today's struct to be 0 (E2BIG).
 */
struct ioasid_open_opts {
	uint32_t size;			/* sizeof(struct ioasid_open_opts) */
	uint32_t backend;		/* enum ioasid_backend */
	uint32_t flags;			/* IOASID_OPEN_* */
	uint32_t max_mappings;		/* embedded: per ioasid; 0: 65535 */
	uint64_t memlock_bytes;		/* embedded: fixed limit; 0: none */
	const char *dev_path;		/* kernel: NULL for /dev/ioasid */
};

/* Open a handle; opts may be NULL (auto backend, defaults). */
int ioasid_open(const struct ioasid_open_opts *opts,
		struct ioasid_handle **out);
void ioasid_close(struct ioasid_handle *h);
enum ioasid_backend ioasid_backend_of(const struct ioasid_handle *h);
const char *ioasid_backend_name(enum ioasid_backend b);
/* The backend named by $IOASID_BACKEND ("embedded", "kernel"), or AUTO. */
enum ioasid_backend ioasid_backend_from_env(void);

/* Any uAPI command with its struct (or value); >= 0 or -errno. */
long ioasid_ioctl(struct ioasid_handle *h, unsigned long cmd, void *arg);

int ioasid_api_version(struct ioasid_handle *h);
int ioasid_check_extension(struct ioasid_handle *h, unsigned int ext);

int ioasid_alloc(struct ioasid_handle *h, uint32_t *ioasid);
int ioasid_free(struct ioasid_handle *h, uint32_t ioasid);
/* info->size and info->ioasid set by the function; ranges optional. */
int ioasid_get_info(struct ioasid_handle *h, uint32_t ioasid,
		    struct ioasid_info *info,
		    struct ioasid_iova_range *ranges, uint32_t num_ranges);

int ioasid_map(struct ioasid_handle *h, uint32_t ioasid, uint64_t iova,
	       const void *vaddr, uint64_t length, uint32_t flags);
/* Map with a granularity limit: no page larger than 1 << max_pgshift. */
int ioasid_map_pgshift(struct ioasid_handle *h, uint32_t ioasid,
		       uint64_t iova, const void *vaddr, uint64_t length,
		       uint32_t flags, uint32_t max_pgshift);
int ioasid_unmap(struct ioasid_handle *h, uint32_t ioasid, uint64_t iova,
		 uint64_t length, uint64_t *unmapped);
int ioasid_unmap_all(struct ioasid_handle *h, uint32_t ioasid,
		     uint64_t *unmapped);
/*
 * Batches: all or nothing. On failure, *fail_index (if given) is the entry
 * that failed, or UINT32_MAX when the failure was not one entry's.
 */
int ioasid_map_batch(struct ioasid_handle *h, uint32_t ioasid,
		     const struct ioasid_dma_entry *e, uint32_t count,
		     uint32_t *fail_index);
int ioasid_unmap_batch(struct ioasid_handle *h, uint32_t ioasid,
		       const struct ioasid_dma_entry *e, uint32_t count,
		       uint64_t *unmapped, uint32_t *fail_index);
int ioasid_query_pgsize(struct ioasid_handle *h, uint32_t ioasid,
			uint64_t iova, uint64_t length, uint64_t *pgsizes,
			uint64_t *mapped);
/*
 * Up to *count mappings from start_iova; *count becomes how many were
 * written, *more whether any follow.
 */
int ioasid_list(struct ioasid_handle *h, uint32_t ioasid, uint64_t start_iova,
		struct ioasid_mapping_info *out, uint32_t *count, bool *more);

/* Software devices; c->size and friends filled by the caller. */
int ioasid_swdev_create(struct ioasid_handle *h,
			struct ioasid_swdev_create *c, uint32_t *dev_id);
int ioasid_swdev_destroy(struct ioasid_handle *h, uint32_t dev_id);
int ioasid_attach(struct ioasid_handle *h, uint32_t dev_id, uint32_t ioasid);
int ioasid_detach(struct ioasid_handle *h, uint32_t dev_id);
/*
 * A vDPA device's address space @asid, on the ioasid_vdpa adaptor's
 * character device @vdpa_fd (/dev/ioasid-vdpa-N), translates through
 * @ioasid of @h (kernel backend only: -EOPNOTSUPP otherwise) until
 * detached or the device file is closed; see IOASID_VDPA_ATTACH.
 */
int ioasid_vdpa_attach(struct ioasid_handle *h, int vdpa_fd, uint32_t ioasid,
		       uint32_t asid, uint32_t *dev_id);
int ioasid_vdpa_detach(int vdpa_fd, uint32_t asid);
/* DMA by a software device: IOASID_ACCESS_READ or _WRITE. */
int ioasid_swdev_access(struct ioasid_handle *h, uint32_t dev_id,
			uint32_t flags, uint64_t iova, void *buf,
			uint64_t length);
int ioasid_swdev_stats(struct ioasid_handle *h, uint32_t dev_id,
		       struct ioasid_swdev_stats *stats);

/*
 * Dirty page tracking (software; see IOASID_DIRTY_TRACKING). Reading fills
 * @bitmap with one bit per (1 << pgshift) bytes of [iova, iova + length),
 * rounded up to whole uint64_t words, and clears what it reported unless
 * @flags has IOASID_DIRTY_NO_CLEAR; *dirty_pages (if given) counts them.
 */
int ioasid_dirty_tracking(struct ioasid_handle *h, uint32_t ioasid, bool on);
int ioasid_dirty_read(struct ioasid_handle *h, uint32_t ioasid, uint64_t iova,
		      uint64_t length, uint32_t pgshift, uint64_t *bitmap,
		      uint32_t flags, uint64_t *dirty_pages);

/*
 * Nesting (IOASID_ALLOC flags, IOASID_PGTBL_BIND, IOASID_INVALIDATE; see
 * docs/uapi.md). A nesting parent is an ordinary ioasid that nested
 * ioasids may use as their second stage; a nested ioasid translates
 * through a bound page table whose addresses are parent IOVAs. Binding
 * walks nothing: invalidate (everything, after binding) to build the
 * shadow. ioasid_invalidate() handles @count entries in order and stops
 * at the first failure, whose errno it returns; *handled (if given) is
 * the number handled before it.
 */
int ioasid_alloc_nest_parent(struct ioasid_handle *h, uint32_t *ioasid);
int ioasid_alloc_nested(struct ioasid_handle *h, uint32_t parent,
			uint32_t *ioasid);
int ioasid_pgtbl_bind(struct ioasid_handle *h, uint32_t ioasid,
		      uint32_t format, uint32_t addr_width, uint64_t root,
		      uint32_t flags);
int ioasid_pgtbl_unbind(struct ioasid_handle *h, uint32_t ioasid);
int ioasid_invalidate(struct ioasid_handle *h, uint32_t ioasid,
		      const struct ioasid_inv_entry *e, uint32_t count,
		      uint32_t *handled);
/* One entry: addr 0, npages ~0. */
int ioasid_invalidate_all(struct ioasid_handle *h, uint32_t ioasid);

/*
 * I/O page fault queues (IOASID_FAULTQ_ALLOC, IOASID_FAULTQ_ATTACH; see
 * docs/uapi.md). ioasid_faultq_alloc() gives the queue's fd: with the
 * kernel backend the fault file itself, with the embedded backend an
 * eventfd that polls readable while records wait. Read, respond and close
 * it through these functions on either backend (read(2), write(2) and
 * close(2) with the kernel one): read returns the bytes of whole struct
 * ioasid_fault records copied, respond takes struct ioasid_fault_response
 * entries and returns the bytes taken; both -errno on failure (EAGAIN:
 * nothing to read).
 */
int ioasid_faultq_alloc(struct ioasid_handle *h, uint32_t timeout_ms,
			uint32_t depth, int *fd);
int ioasid_faultq_attach(struct ioasid_handle *h, uint32_t ioasid, int fd);
int ioasid_faultq_detach(struct ioasid_handle *h, uint32_t ioasid);
long ioasid_faultq_read(struct ioasid_handle *h, int fd, void *buf,
			size_t len);
long ioasid_faultq_respond(struct ioasid_handle *h, int fd, const void *buf,
			   size_t len);
int ioasid_faultq_close(struct ioasid_handle *h, int fd);

/*
 * Fault injection, for tests (docs/architecture.md, "Fault injection").
 * Every allocation, charge, pin and copy the engine asks of its host, and
 * every listener map and device attach, is a fault point. After
 * ioasid_fault_inject(h, n), the nth point passed from then on fails once
 * (0 disarms). The switch belongs to @h's backend and is not per handle:
 * process-wide for the embedded backend, module-wide for the kernel one
 * (its module parameters fail_nth and live_objects, root only: -EACCES
 * otherwise). ioasid_fault_state() gives the points still to pass before
 * the failure (0: it happened, or nothing is armed) and the objects the
 * engine holds from the allocator, to compare before and after.
 */
int ioasid_fault_inject(struct ioasid_handle *h, uint64_t nth);
int ioasid_fault_state(struct ioasid_handle *h, uint64_t *left,
		       uint64_t *live_objects);

/*
 * The calling thread's last failure on any handle, as one sentence:
 * "map: iova 0x1001 is not aligned to the smallest page size 0x1000
 * (EINVAL)". Valid until the thread's next failing call.
 */
const char *ioasid_strerror(void);
/* The errno name of a negative or positive errno ("EINVAL"). */
const char *ioasid_errno_name(int err);

#ifdef __cplusplus
}
#endif

#endif /* IOASID_H */
