// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/*
 * libioasid: one handle, two backends.
 *
 * Every call goes through ioasid_ioctl(), which either issues the ioctl on
 * /dev/ioasid (kernel backend) or hands the same struct to the engine's
 * decoder in this process (embedded backend). The convenience functions
 * only fill uAPI structs; no rule is checked here, so the rules exist once,
 * in core/.
 *
 * Errors: the embedded engine explains a failure itself (struct
 * ioasid_diag). For the kernel backend, which returns only an errno, the
 * library re-runs the engine's pure checks (core/rules.c) on the ioasid's
 * reported attributes to name the rule; if none matches, the sentence says
 * what that errno means for the command. The explanation is kept per
 * thread.
 */
#include <fcntl.h>
#include <stdarg.h>
#include <unistd.h>

#include "ioasid.h"
#include "ioasid_core.h"
#include "sizefirst.h"
#include "libioasid_priv.h"

struct ioasid_handle {
	enum ioasid_backend backend;
	int fd;				/* kernel */
	struct ioasid_ctx *ctx;		/* embedded */
	struct emb_host host;		/* embedded */
	unsigned int inflight;		/* atomic: ioasid_ioctl() calls running */
};

struct last_error {
	struct ioasid_diag diag;
	const char *what;		/* a call on a fault queue's fd, or NULL */
	bool explained;
	char text[320];
};

static __thread struct last_error last_err;

const char *ioasid_backend_name(enum ioasid_backend b)
{
	switch (b) {
	case IOASID_BACKEND_EMBEDDED:
		return "embedded";
	case IOASID_BACKEND_KERNEL:
		return "kernel";
	default:
		return "auto";
	}
}

enum ioasid_backend ioasid_backend_from_env(void)
{
	const char *s = getenv("IOASID_BACKEND");

	if (s && !strcmp(s, "embedded"))
		return IOASID_BACKEND_EMBEDDED;
	if (s && !strcmp(s, "kernel"))
		return IOASID_BACKEND_KERNEL;
	return IOASID_BACKEND_AUTO;
}

/*
 * The first version of struct ioasid_open_opts ends at dev_path, its last
 * field today: the smallest opts->size accepted (core/sizefirst.h). A
 * field added later goes after dev_path, and a caller built before it
 * keeps passing this size (the fields it lacks read as zero).
 */
#define OPEN_OPTS_SIZE_VER0 \
	(offsetof(struct ioasid_open_opts, dev_path) + \
	 sizeof(((struct ioasid_open_opts *)0)->dev_path))
_Static_assert(sizeof(struct ioasid_open_opts) - OPEN_OPTS_SIZE_VER0 <
	       _Alignof(struct ioasid_open_opts),
	       "a field after dev_path: the first version still ends at "
	       "dev_path; say so here and in ioasid.h");

int ioasid_open(const struct ioasid_open_opts *opts, struct ioasid_handle **out)
{
	struct ioasid_open_opts o = { .size = sizeof(o) };
	const char *path;
	struct ioasid_handle *h;
	int rc;

	if (opts) {
		rc = sizefirst_copy(&o, sizeof(o), OPEN_OPTS_SIZE_VER0, opts);
		if (rc)
			return rc;
	}
	if (o.flags & ~IOASID_OPEN_MEMLOCK_RLIMIT ||
	    o.backend > IOASID_BACKEND_KERNEL)
		return -EINVAL;
	path = o.dev_path ? o.dev_path : "/dev/ioasid";
	if (o.backend == IOASID_BACKEND_AUTO)
		o.backend = access(path, F_OK) == 0 ? IOASID_BACKEND_KERNEL :
						      IOASID_BACKEND_EMBEDDED;
	h = calloc(1, sizeof(*h));
	if (!h)
		return -ENOMEM;
	h->backend = o.backend;
	h->fd = -1;
	if (o.backend == IOASID_BACKEND_KERNEL) {
		h->fd = open(path, O_RDWR | O_CLOEXEC);
		if (h->fd < 0) {
			rc = -errno;
			free(h);
			return rc;
		}
	} else {
		struct ioasid_ctx_config cfg = {
			.max_mappings = o.max_mappings,
		};

		h->host.memlock_bytes = o.memlock_bytes;
		h->host.memlock_rlimit = o.flags & IOASID_OPEN_MEMLOCK_RLIMIT;
		rc = ioasid_ctx_create(&emb_host_ops, &h->host, &cfg, &h->ctx);
		if (rc) {
			free(h);
			return rc;
		}
	}
	*out = h;
	return 0;
}

/*
 * Calls still running on other threads end first: on the embedded
 * backend an access waiting for a fault's answer is failed at once (its
 * queues closed); on the kernel backend it ends by its queue's timeout.
 * A call begun after ioasid_close() is the caller's bug, as with free().
 */
void ioasid_close(struct ioasid_handle *h)
{
	if (!h)
		return;
	if (h->ctx)
		ioasid_ctx_quiesce(h->ctx);
	while (__atomic_load_n(&h->inflight, __ATOMIC_ACQUIRE))
		usleep(1000);
	if (h->ctx)
		ioasid_ctx_destroy(h->ctx);
	if (h->fd >= 0)
		close(h->fd);
	free(h);
}

enum ioasid_backend ioasid_backend_of(const struct ioasid_handle *h)
{
	return h->backend;
}

static void explain_kernel(struct ioasid_handle *h, unsigned long cmd,
			   void *arg, int err);

static long handle_ioctl(struct ioasid_handle *h, unsigned long cmd,
			 void *arg)
{
	struct ioasid_diag diag;
	long rc;

	if (h->backend == IOASID_BACKEND_EMBEDDED) {
		emb_host_call_begin();
		rc = ioasid_ctx_ioctl(h->ctx, (unsigned int)cmd,
				      (u64)(uintptr_t)arg, &diag);
		if (rc < 0) {
			last_err.diag = diag;
			last_err.diag.err = (int)rc;
			last_err.explained = true;
			last_err.what = NULL;
		}
		return rc;
	}
	rc = ioctl(h->fd, cmd, arg);
	if (rc < 0) {
		rc = -errno;
		explain_kernel(h, cmd, arg, (int)rc);
	}
	return rc;
}

/* A call on @h in progress, which ioasid_close() waits for. */
static void call_enter(struct ioasid_handle *h)
{
	__atomic_fetch_add(&h->inflight, 1, __ATOMIC_ACQ_REL);
}

static long call_leave(struct ioasid_handle *h, long rc)
{
	__atomic_fetch_sub(&h->inflight, 1, __ATOMIC_RELEASE);
	return rc;
}

long ioasid_ioctl(struct ioasid_handle *h, unsigned long cmd, void *arg)
{
	call_enter(h);
	return call_leave(h, handle_ioctl(h, cmd, arg));
}

int ioasid_api_version(struct ioasid_handle *h)
{
	return (int)ioasid_ioctl(h, IOASID_GET_API_VERSION, NULL);
}

int ioasid_check_extension(struct ioasid_handle *h, unsigned int ext)
{
	return (int)ioasid_ioctl(h, IOASID_CHECK_EXTENSION,
				 (void *)(uintptr_t)ext);
}

int ioasid_alloc(struct ioasid_handle *h, uint32_t *ioasid)
{
	struct ioasid_alloc a = { .size = sizeof(a) };
	long rc = ioasid_ioctl(h, IOASID_ALLOC, &a);

	if (rc)
		return (int)rc;
	*ioasid = a.out_ioasid;
	return 0;
}

int ioasid_free(struct ioasid_handle *h, uint32_t ioasid)
{
	struct ioasid_free f = { .size = sizeof(f), .ioasid = ioasid };

	return (int)ioasid_ioctl(h, IOASID_FREE, &f);
}

int ioasid_get_info(struct ioasid_handle *h, uint32_t ioasid,
		    struct ioasid_info *info, struct ioasid_iova_range *ranges,
		    uint32_t num_ranges)
{
	memset(info, 0, sizeof(*info));
	info->size = sizeof(*info);
	info->ioasid = ioasid;
	info->num_ranges = ranges ? num_ranges : 0;
	info->ranges_uptr = (uintptr_t)ranges;
	return (int)ioasid_ioctl(h, IOASID_GET_INFO, info);
}

int ioasid_map_pgshift(struct ioasid_handle *h, uint32_t ioasid, uint64_t iova,
		       const void *vaddr, uint64_t length, uint32_t flags,
		       uint32_t max_pgshift)
{
	struct ioasid_map_dma m = {
		.size = sizeof(m),
		.flags = flags,
		.ioasid = ioasid,
		.max_pgshift = max_pgshift,
		.iova = iova,
		.vaddr = (uintptr_t)vaddr,
		.length = length,
	};

	return (int)ioasid_ioctl(h, IOASID_MAP_DMA, &m);
}

int ioasid_map(struct ioasid_handle *h, uint32_t ioasid, uint64_t iova,
	       const void *vaddr, uint64_t length, uint32_t flags)
{
	return ioasid_map_pgshift(h, ioasid, iova, vaddr, length, flags, 0);
}

static int unmap(struct ioasid_handle *h, uint32_t ioasid, uint32_t flags,
		 uint64_t iova, uint64_t length, uint64_t *unmapped)
{
	struct ioasid_unmap_dma u = {
		.size = sizeof(u),
		.flags = flags,
		.ioasid = ioasid,
		.iova = iova,
		.length = length,
	};
	long rc = ioasid_ioctl(h, IOASID_UNMAP_DMA, &u);

	if (unmapped)
		*unmapped = rc ? 0 : u.out_unmapped;
	return (int)rc;
}

int ioasid_unmap(struct ioasid_handle *h, uint32_t ioasid, uint64_t iova,
		 uint64_t length, uint64_t *unmapped)
{
	return unmap(h, ioasid, 0, iova, length, unmapped);
}

int ioasid_unmap_all(struct ioasid_handle *h, uint32_t ioasid,
		     uint64_t *unmapped)
{
	return unmap(h, ioasid, IOASID_UNMAP_ALL, 0, 0, unmapped);
}

static int batch(struct ioasid_handle *h, unsigned long cmd, uint32_t ioasid,
		 const struct ioasid_dma_entry *e, uint32_t count,
		 uint64_t *bytes, uint32_t *fail_index)
{
	struct ioasid_batch b = {
		.size = sizeof(b),
		.ioasid = ioasid,
		.count = count,
		.entry_size = sizeof(*e),
		.entries_uptr = (uintptr_t)e,
	};
	long rc = ioasid_ioctl(h, cmd, &b);

	if (bytes)
		*bytes = rc ? 0 : b.out_bytes;
	if (fail_index)
		*fail_index = rc ? b.out_fail_index : 0;
	return (int)rc;
}

int ioasid_map_batch(struct ioasid_handle *h, uint32_t ioasid,
		     const struct ioasid_dma_entry *e, uint32_t count,
		     uint32_t *fail_index)
{
	return batch(h, IOASID_MAP_BATCH, ioasid, e, count, NULL, fail_index);
}

int ioasid_unmap_batch(struct ioasid_handle *h, uint32_t ioasid,
		       const struct ioasid_dma_entry *e, uint32_t count,
		       uint64_t *unmapped, uint32_t *fail_index)
{
	return batch(h, IOASID_UNMAP_BATCH, ioasid, e, count, unmapped,
		     fail_index);
}

int ioasid_query_pgsize(struct ioasid_handle *h, uint32_t ioasid,
			uint64_t iova, uint64_t length, uint64_t *pgsizes,
			uint64_t *mapped)
{
	struct ioasid_query_pgsize q = {
		.size = sizeof(q),
		.ioasid = ioasid,
		.iova = iova,
		.length = length,
	};
	long rc = ioasid_ioctl(h, IOASID_QUERY_PGSIZE, &q);

	if (rc)
		return (int)rc;
	if (pgsizes)
		*pgsizes = q.out_pgsize_bitmap;
	if (mapped)
		*mapped = q.out_mapped_bytes;
	return 0;
}

int ioasid_list(struct ioasid_handle *h, uint32_t ioasid, uint64_t start_iova,
		struct ioasid_mapping_info *out, uint32_t *count, bool *more)
{
	struct ioasid_list_mappings l = {
		.size = sizeof(l),
		.ioasid = ioasid,
		.count = *count,
		.start_iova = start_iova,
		.mappings_uptr = (uintptr_t)out,
	};
	long rc = ioasid_ioctl(h, IOASID_LIST_MAPPINGS, &l);

	if (rc)
		return (int)rc;
	*count = l.count;
	if (more)
		*more = l.out_more;
	return 0;
}

int ioasid_swdev_create(struct ioasid_handle *h, struct ioasid_swdev_create *c,
			uint32_t *dev_id)
{
	long rc;

	c->size = sizeof(*c);
	rc = ioasid_ioctl(h, IOASID_SWDEV_CREATE, c);
	if (rc)
		return (int)rc;
	if (dev_id)
		*dev_id = c->out_dev_id;
	return 0;
}

int ioasid_swdev_destroy(struct ioasid_handle *h, uint32_t dev_id)
{
	struct ioasid_swdev_destroy d = { .size = sizeof(d), .dev_id = dev_id };

	return (int)ioasid_ioctl(h, IOASID_SWDEV_DESTROY, &d);
}

int ioasid_attach(struct ioasid_handle *h, uint32_t dev_id, uint32_t ioasid)
{
	struct ioasid_device_attach a = {
		.size = sizeof(a),
		.dev_id = dev_id,
		.ioasid = ioasid,
	};

	return (int)ioasid_ioctl(h, IOASID_DEVICE_ATTACH, &a);
}

int ioasid_detach(struct ioasid_handle *h, uint32_t dev_id)
{
	struct ioasid_device_detach d = { .size = sizeof(d), .dev_id = dev_id };

	return (int)ioasid_ioctl(h, IOASID_DEVICE_DETACH, &d);
}

/*
 * vDPA: the adaptor's ioctls take the ioasid fd, so they need the kernel
 * backend; the embedded one has no fd a kernel driver could hold.
 */
int ioasid_vdpa_attach(struct ioasid_handle *h, int vdpa_fd, uint32_t ioasid,
		       uint32_t asid, uint32_t *dev_id)
{
	struct ioasid_vdpa_attach a = {
		.size = sizeof(a),
		.ioasid_fd = h->fd,
		.ioasid = ioasid,
		.asid = asid,
	};

	last_err.explained = false;
	if (h->backend != IOASID_BACKEND_KERNEL)
		return -EOPNOTSUPP;
	if (ioctl(vdpa_fd, IOASID_VDPA_ATTACH, &a))
		return -errno;
	if (dev_id)
		*dev_id = a.out_dev_id;
	return 0;
}

int ioasid_vdpa_detach(int vdpa_fd, uint32_t asid)
{
	struct ioasid_vdpa_detach d = { .size = sizeof(d), .asid = asid };

	last_err.explained = false;
	return ioctl(vdpa_fd, IOASID_VDPA_DETACH, &d) ? -errno : 0;
}

int ioasid_swdev_access(struct ioasid_handle *h, uint32_t dev_id,
			uint32_t flags, uint64_t iova, void *buf,
			uint64_t length)
{
	struct ioasid_swdev_access a = {
		.size = sizeof(a),
		.flags = flags,
		.dev_id = dev_id,
		.iova = iova,
		.length = length,
		.buf_uptr = (uintptr_t)buf,
	};

	return (int)ioasid_ioctl(h, IOASID_SWDEV_ACCESS, &a);
}

int ioasid_swdev_stats(struct ioasid_handle *h, uint32_t dev_id,
		       struct ioasid_swdev_stats *s)
{
	memset(s, 0, sizeof(*s));
	s->size = sizeof(*s);
	s->dev_id = dev_id;
	return (int)ioasid_ioctl(h, IOASID_SWDEV_STATS, s);
}

int ioasid_dirty_tracking(struct ioasid_handle *h, uint32_t ioasid, bool on)
{
	struct ioasid_dirty_tracking t = {
		.size = sizeof(t),
		.flags = on ? IOASID_DIRTY_START : IOASID_DIRTY_STOP,
		.ioasid = ioasid,
	};

	return (int)ioasid_ioctl(h, IOASID_DIRTY_TRACKING, &t);
}

int ioasid_dirty_read(struct ioasid_handle *h, uint32_t ioasid, uint64_t iova,
		      uint64_t length, uint32_t pgshift, uint64_t *bitmap,
		      uint32_t flags, uint64_t *dirty_pages)
{
	struct ioasid_dirty_read r = {
		.size = sizeof(r),
		.flags = flags,
		.ioasid = ioasid,
		.pgshift = pgshift,
		.iova = iova,
		.length = length,
		.bitmap_uptr = (uintptr_t)bitmap,
	};
	int rc = (int)ioasid_ioctl(h, IOASID_DIRTY_READ, &r);

	if (!rc && dirty_pages)
		*dirty_pages = r.out_dirty_pages;
	return rc;
}

/* Nesting */

static int alloc_flags(struct ioasid_handle *h, uint32_t flags,
		       uint32_t parent, uint32_t *ioasid)
{
	struct ioasid_alloc a = {
		.size = sizeof(a),
		.flags = flags,
		.parent = parent,
	};
	long rc = ioasid_ioctl(h, IOASID_ALLOC, &a);

	if (rc)
		return (int)rc;
	*ioasid = a.out_ioasid;
	return 0;
}

int ioasid_alloc_nest_parent(struct ioasid_handle *h, uint32_t *ioasid)
{
	return alloc_flags(h, IOASID_ALLOC_NEST_PARENT, 0, ioasid);
}

int ioasid_alloc_nested(struct ioasid_handle *h, uint32_t parent,
			uint32_t *ioasid)
{
	return alloc_flags(h, IOASID_ALLOC_NESTED, parent, ioasid);
}

int ioasid_pgtbl_bind(struct ioasid_handle *h, uint32_t ioasid,
		      uint32_t format, uint32_t addr_width, uint64_t root,
		      uint32_t flags)
{
	struct ioasid_pgtbl_bind b = {
		.size = sizeof(b),
		.flags = flags,
		.ioasid = ioasid,
		.format = format,
		.addr_width = addr_width,
		.root = root,
	};

	return (int)ioasid_ioctl(h, IOASID_PGTBL_BIND, &b);
}

int ioasid_pgtbl_unbind(struct ioasid_handle *h, uint32_t ioasid)
{
	struct ioasid_pgtbl_unbind u = { .size = sizeof(u), .ioasid = ioasid };

	return (int)ioasid_ioctl(h, IOASID_PGTBL_UNBIND, &u);
}

int ioasid_invalidate(struct ioasid_handle *h, uint32_t ioasid,
		      const struct ioasid_inv_entry *e, uint32_t count,
		      uint32_t *handled)
{
	struct ioasid_invalidate inv = {
		.size = sizeof(inv),
		.ioasid = ioasid,
		.entry_size = sizeof(*e),
		.entries_uptr = (uintptr_t)e,
		.entry_num = count,
	};
	long rc = ioasid_ioctl(h, IOASID_INVALIDATE, &inv);

	if (handled)
		*handled = inv.entry_num;
	return (int)rc;
}

int ioasid_invalidate_all(struct ioasid_handle *h, uint32_t ioasid)
{
	struct ioasid_inv_entry e = { .addr = 0, .npages = ~0ULL };

	return ioasid_invalidate(h, ioasid, &e, 1, NULL);
}

int ioasid_faultq_alloc(struct ioasid_handle *h, uint32_t timeout_ms,
			uint32_t depth, int *fd)
{
	struct ioasid_faultq_alloc a = {
		.size = sizeof(a),
		.timeout_ms = timeout_ms,
		.depth = depth,
	};
	long rc = ioasid_ioctl(h, IOASID_FAULTQ_ALLOC, &a);

	if (rc)
		return (int)rc;
	*fd = a.out_fd;
	return 0;
}

static int faultq_attach(struct ioasid_handle *h, uint32_t ioasid, int fd,
			 uint32_t flags)
{
	struct ioasid_faultq_attach a = {
		.size = sizeof(a),
		.flags = flags,
		.ioasid = ioasid,
		.fd = fd,
	};

	return (int)ioasid_ioctl(h, IOASID_FAULTQ_ATTACH, &a);
}

int ioasid_faultq_attach(struct ioasid_handle *h, uint32_t ioasid, int fd)
{
	return faultq_attach(h, ioasid, fd, 0);
}

int ioasid_faultq_detach(struct ioasid_handle *h, uint32_t ioasid)
{
	return faultq_attach(h, ioasid, -1, IOASID_FAULTQ_DETACH);
}

/* A failed call on a fault queue's fd: the errno says it all. */
static long fd_call_failed(const char *what, long rc)
{
	if (rc < 0) {
		memset(&last_err.diag, 0, sizeof(last_err.diag));
		last_err.diag.err = (int)rc;
		last_err.diag.index = UINT32_MAX;
		last_err.explained = true;
		last_err.what = what;
	}
	return rc;
}

/* A read (records) or a write (responses) of @len at @buf on queue @fd. */
static long faultq_io(struct ioasid_handle *h, int fd, uintptr_t buf,
		      size_t len, bool respond)
{
	const char *what = respond ? "faultq respond" : "faultq read";
	ssize_t n;

	if (h->backend == IOASID_BACKEND_EMBEDDED) {
		/* Counted: the copy runs outside the lock, on h->ctx. */
		call_enter(h);
		n = respond ? ioasid_faultq_write_fd(h->ctx, fd, buf, len) :
			      ioasid_faultq_read_fd(h->ctx, fd, buf, len);
		return call_leave(h, fd_call_failed(what, n));
	}
	n = respond ? write(fd, (const void *)buf, len) :
		      read(fd, (void *)buf, len);
	return fd_call_failed(what, n < 0 ? -errno : (long)n);
}

long ioasid_faultq_read(struct ioasid_handle *h, int fd, void *buf,
			size_t len)
{
	return faultq_io(h, fd, (uintptr_t)buf, len, false);
}

long ioasid_faultq_respond(struct ioasid_handle *h, int fd, const void *buf,
			   size_t len)
{
	return faultq_io(h, fd, (uintptr_t)buf, len, true);
}

int ioasid_faultq_close(struct ioasid_handle *h, int fd)
{
	if (h->backend == IOASID_BACKEND_EMBEDDED) {
		call_enter(h);
		return (int)call_leave(h, fd_call_failed("faultq close",
					   ioasid_faultq_close_fd(h->ctx, fd)));
	}
	return (int)fd_call_failed("faultq close", close(fd) ? -errno : 0);
}

/* Errors */

static const struct {
	int err;
	const char *name;
	const char *meaning;
} errnos[] = {
	{ ENOTTY, "ENOTTY", "unknown command" },
	{ E2BIG, "E2BIG", "the struct has non-zero bytes this build does not know" },
	{ EINVAL, "EINVAL", "an argument breaks a rule" },
	{ EOPNOTSUPP, "EOPNOTSUPP", "a value this build does not support" },
	{ ENOENT, "ENOENT", "no object with that id" },
	{ ENODEV, "ENODEV", "the ioasid has no device attached" },
	{ EPERM, "EPERM", "an IOMMU group is only partly attached to the ioasid" },
	{ EBUSY, "EBUSY", "the object is in use" },
	{ EEXIST, "EEXIST", "the range overlaps an existing mapping" },
	{ ENOSPC, "ENOSPC", "a count limit is reached" },
	{ ENOMEM, "ENOMEM", "out of memory or past RLIMIT_MEMLOCK" },
	{ EFAULT, "EFAULT", "an address is not mapped (or an I/O page fault)" },
	{ EMSGSIZE, "EMSGSIZE", "an output array is too short" },
	{ EOVERFLOW, "EOVERFLOW", "a value does not fit its field" },
	{ EACCES, "EACCES", "permission denied" },
	{ EBADF, "EBADF", "not an fd of the kind asked for" },
	{ ETIMEDOUT, "ETIMEDOUT", "an I/O page fault was not answered in time" },
	{ EAGAIN, "EAGAIN", "nothing to read yet" },
	{ EINTR, "EINTR", "interrupted by a signal" },
};

#define FAULT_PARAM_DIR	"/sys/module/ioasid/parameters/"

static int param_write(const char *name, uint64_t v)
{
	char path[96], buf[32];
	int fd, len, rc = 0;

	snprintf(path, sizeof(path), FAULT_PARAM_DIR "%s", name);
	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	len = snprintf(buf, sizeof(buf), "%llu\n", (unsigned long long)v);
	if (write(fd, buf, (size_t)len) != len)
		rc = -errno;
	close(fd);
	return rc;
}

static int param_read(const char *name, uint64_t *v)
{
	char path[96], buf[32];
	int fd;
	ssize_t n;

	snprintf(path, sizeof(path), FAULT_PARAM_DIR "%s", name);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return n < 0 ? -errno : -EIO;
	buf[n] = 0;
	*v = strtoull(buf, NULL, 10);
	return 0;
}

int ioasid_fault_inject(struct ioasid_handle *h, uint64_t nth)
{
	if (!h)
		return -EINVAL;
	if (h->backend == IOASID_BACKEND_KERNEL)
		return param_write("fail_nth", nth);
	__atomic_store_n(&ioh_fail_countdown, nth, __ATOMIC_RELAXED);
	return 0;
}

int ioasid_fault_state(struct ioasid_handle *h, uint64_t *left,
		       uint64_t *live_objects)
{
	uint64_t l, o;
	int rc;

	if (!h)
		return -EINVAL;
	if (h->backend == IOASID_BACKEND_KERNEL) {
		rc = param_read("fail_nth", &l);
		if (!rc)
			rc = param_read("live_objects", &o);
		if (rc)
			return rc;
	} else {
		l = __atomic_load_n(&ioh_fail_countdown, __ATOMIC_RELAXED);
		o = __atomic_load_n(&ioh_live_objs, __ATOMIC_RELAXED);
	}
	if (left)
		*left = l;
	if (live_objects)
		*live_objects = o;
	return 0;
}

const char *ioasid_errno_name(int err)
{
	size_t i;

	if (err < 0)
		err = -err;
	if (!err)
		return "OK";
	for (i = 0; i < sizeof(errnos) / sizeof(errnos[0]); i++)
		if (errnos[i].err == err)
			return errnos[i].name;
	return "E?";
}

static const char *errno_meaning(int err)
{
	size_t i;

	if (err < 0)
		err = -err;
	for (i = 0; i < sizeof(errnos) / sizeof(errnos[0]); i++)
		if (errnos[i].err == err)
			return errnos[i].meaning;
	return "error";
}

/* Render a rule's template: %v, %l in hex and %u, %U in decimal. */
static void render(char *out, size_t len, const struct ioasid_diag *d)
{
	const char *t = ioasid_rule_text(d->rule);
	size_t n;

	n = (size_t)snprintf(out, len, "%s: ", last_err.what ? last_err.what :
					       ioasid_cmd_name(d->cmd));
	if (d->index != UINT32_MAX && n < len)
		n += (size_t)snprintf(out + n, len - n, "entry %u: ", d->index);
	if (d->rule == IOASID_RULE_NONE && n < len)
		n += (size_t)snprintf(out + n, len - n, "%s",
				      errno_meaning(d->err));
	for (; d->rule != IOASID_RULE_NONE && *t && n + 1 < len; t++) {
		if (t[0] == '%' && strchr("vluU", t[1]) && t[1]) {
			bool lim = t[1] == 'l' || t[1] == 'U';
			bool dec = t[1] == 'u' || t[1] == 'U';

			n += (size_t)snprintf(out + n, len - n,
					      dec ? "%llu" : "0x%llx",
					      (unsigned long long)(lim ?
						d->limit : d->value));
			t++;
		} else {
			out[n++] = *t;
			out[n] = '\0';
		}
	}
	if (n < len)
		snprintf(out + n, len - n, " (%s)", ioasid_errno_name(d->err));
}

const char *ioasid_strerror(void)
{
	if (!last_err.explained)
		return "no error";
	render(last_err.text, sizeof(last_err.text), &last_err.diag);
	return last_err.text;
}

/*
 * Rebuild an ioasid's attributes from what GET_INFO reports: page sizes,
 * and the usable ranges, whose gaps are the reserved regions.
 */
static bool attrs_from_info(struct ioasid_handle *h, uint32_t ioasid,
			    struct ioasid_attrs *a)
{
	struct ioasid_iova_range r[IOASID_SWDEV_MAX_RESV + 1];
	struct ioasid_info info = {
		.size = sizeof(info),
		.ioasid = ioasid,
		.num_ranges = IOASID_SWDEV_MAX_RESV + 1,
		.ranges_uptr = (uintptr_t)r,
	};
	uint32_t i;

	if (ioctl(h->fd, IOASID_GET_INFO, &info) ||
	    !(info.out_flags & IOASID_INFO_HAS_ATTRS) || !info.num_ranges)
		return false;
	memset(a, 0, sizeof(*a));
	a->pgsize_bitmap = info.out_pgsize_bitmap;
	a->aperture_start = r[0].start;
	a->aperture_last = r[info.num_ranges - 1].last;
	for (i = 1; i < info.num_ranges; i++) {
		a->resv[a->num_resv].start = r[i - 1].last + 1;
		a->resv[a->num_resv].last = r[i].start - 1;
		a->num_resv++;
	}
	return true;
}

static void explain_kernel(struct ioasid_handle *h, unsigned long cmd,
			   void *arg, int err)
{
	struct ioasid_diag *d = &last_err.diag;
	struct ioasid_attrs a;
	unsigned int nr = _IOC_NR(cmd);

	memset(d, 0, sizeof(*d));
	d->err = err;
	d->cmd = (u16)nr;
	d->index = UINT32_MAX;
	last_err.explained = true;
	last_err.what = NULL;
	if (err != -EINVAL || !arg)
		return;
	if (nr == IOASID_CMD_MAP_DMA) {
		struct ioasid_map_dma *m = arg;

		if (attrs_from_info(h, m->ioasid, &a))
			ioasid_check_map(&a, m->flags, m->max_pgshift, m->iova,
					 m->vaddr, m->length, d);
	} else if (nr == IOASID_CMD_UNMAP_DMA) {
		struct ioasid_unmap_dma *u = arg;

		if (attrs_from_info(h, u->ioasid, &a))
			ioasid_check_unmap(&a, u->flags, u->iova, u->length, d);
	}
	d->err = err;
}
