// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/*
 * I/O page fault queues: recoverable faults of devices, reported to the
 * owner of the ioasid and answered by it (docs/architecture.md, "How a
 * fault flows").
 *
 * A queue is a file of the host (a kernel anon inode, an eventfd in the
 * embedded backend) whose read, write and poll land here. An access that
 * misses on an ioasid with a queue builds its record on its own stack,
 * links it in the queue and sleeps with ctx->lock released
 * (ioh_wait_timeout), so that the responder can read the record, change
 * the ioasid (map, invalidate) and answer. Every change of a record's
 * state is made under ctx->lock: raised (linked), read, answered or
 * failed (unlinked, done set, woken), or withdrawn by its own access on a
 * timeout (unlinked). The access touches its record again only with the
 * lock held, and a record that is done is no longer linked, so neither
 * side can see the other's memory after it is gone.
 *
 * Limits (the threat model: /dev/ioasid is 0666): IOASID_FAULTQ_MAX
 * queues per context, each of at most IOASID_FAULTQ_DEPTH_MAX records
 * (unanswered faults are waiting threads of the user's, and a full queue
 * fails the access at once), every wait bounded by the queue's timeout,
 * IOASID_FAULT_RESP_MAX responses per write copied to a fixed buffer. No
 * user value sizes an allocation: a queue is one fixed-size object.
 */
#include "core_priv.h"

#define REC_SIZE	sizeof(struct ioasid_fault)
#define RESP_SIZE	sizeof(struct ioasid_fault_response)
#define REC_CLOSED	(-1)

static void faultq_notify(struct ioasid_faultq *q)
{
	struct ioasid_ctx *ctx = q->ctx;

	if (ctx->ops->faultq_notify)
		ctx->ops->faultq_notify(ctx->host, q, q->nunread != 0);
}

static void faultq_unlink(struct ioasid_faultq *q, struct faultq_rec *r)
{
	struct faultq_rec **pp;

	for (pp = &q->recs; *pp; pp = &(*pp)->next) {
		if (*pp == r) {
			*pp = r->next;
			r->next = NULL;
			q->nrecs--;
			if (!r->read)
				q->nunread--;
			return;
		}
	}
	(void)IOH_WARN_ON(1);
}

static struct faultq_rec *faultq_find(struct ioasid_faultq *q, u32 cookie)
{
	struct faultq_rec *r;

	for (r = q->recs; r; r = r->next)
		if (r->f.cookie == cookie)
			return r;
	return NULL;
}

/*
 * A cookie no linked record has: at most IOASID_FAULTQ_DEPTH_MAX tries.
 * Counted per context, not per queue: a queue made on the number of one
 * just closed never hands out that one's cookies (a failed copy-out
 * finds its records again by cookie, on the queue of that number).
 */
static u32 faultq_new_cookie(struct ioasid_faultq *q)
{
	for (;;) {
		u32 c = ++q->ctx->next_cookie;

		if (c && !faultq_find(q, c))
			return c;
	}
}

int faultq_alloc(struct ioasid_ctx *ctx, struct ioasid_faultq_alloc *c,
		 struct ioasid_diag *diag)
{
	struct ioasid_faultq *q;
	int fd = -1, rc;

	if (c->flags)
		return diag_set(diag, -EINVAL, IOASID_RULE_FLAGS, c->flags, 0);
	if (c->__reserved)
		return diag_set(diag, -EINVAL, IOASID_RULE_RESERVED,
				c->__reserved, 0);
	if (c->timeout_ms > IOASID_FAULTQ_TIMEOUT_MAX)
		return diag_set(diag, -EINVAL, IOASID_RULE_FAULTQ_TIMEOUT,
				c->timeout_ms, IOASID_FAULTQ_TIMEOUT_MAX);
	if (c->depth > IOASID_FAULTQ_DEPTH_MAX)
		return diag_set(diag, -EINVAL, IOASID_RULE_FAULTQ_DEPTH,
				c->depth, IOASID_FAULTQ_DEPTH_MAX);
	if (!ctx->ops->faultq_open)
		return diag_set(diag, -EOPNOTSUPP, IOASID_RULE_FAULTQ_FD, 0, 0);
	if (ctx->nfaultqs >= IOASID_FAULTQ_MAX)
		return diag_set(diag, -ENOSPC, IOASID_RULE_FAULTQ_MAX,
				ctx->nfaultqs, IOASID_FAULTQ_MAX);
	q = ioc_zalloc(sizeof(*q));
	if (!q)
		return diag_set(diag, -ENOMEM, IOASID_RULE_NOMEM, 0, 0);
	q->ctx = ctx;
	q->timeout_ms = c->timeout_ms ? c->timeout_ms :
					IOASID_FAULTQ_TIMEOUT_DEFAULT;
	q->depth = c->depth ? c->depth : IOASID_FAULTQ_DEPTH_MAX;
	rc = ioh_should_fail() ? -ENOMEM :
				 ctx->ops->faultq_open(ctx->host, q, &fd);
	if (rc) {
		ioh_free(q);
		return diag_set(diag, rc, IOASID_RULE_NOMEM, 0, 0);
	}
	q->fd = fd;
	q->next = ctx->faultqs;
	ctx->faultqs = q;
	ctx->nfaultqs++;
	c->out_fd = fd;
	return 0;
}

static struct ioasid_faultq *faultq_by_fd(struct ioasid_ctx *ctx, int fd)
{
	struct ioasid_faultq *q;

	for (q = ctx->faultqs; q; q = q->next)
		if (q->fd == fd)
			return q;
	return NULL;
}

static void faultq_unlist(struct ioasid_faultq *q)
{
	struct ioasid_faultq **pp;

	for (pp = &q->ctx->faultqs; *pp; pp = &(*pp)->next) {
		if (*pp == q) {
			*pp = q->next;
			q->ctx->nfaultqs--;
			return;
		}
	}
	(void)IOH_WARN_ON(1);
}

/* The caller has the fd's number: publish it. */
void faultq_alloc_commit(struct ioasid_ctx *ctx, int fd)
{
	struct ioasid_faultq *q = faultq_by_fd(ctx, fd);

	if (!IOH_WARN_ON(!q) && ctx->ops->faultq_install)
		ctx->ops->faultq_install(ctx->host, q);
}

/* The caller never learnt the fd: the queue must not exist. */
void faultq_alloc_abort(struct ioasid_ctx *ctx, int fd)
{
	struct ioasid_faultq *q = faultq_by_fd(ctx, fd);

	if (IOH_WARN_ON(!q))
		return;
	faultq_unlist(q);
	if (ctx->ops->faultq_abort)
		ctx->ops->faultq_abort(ctx->host, q);
	ioh_free(q);
}

static int faultq_lookup(struct ioasid_ctx *ctx, int fd,
			 struct ioasid_faultq **out, struct ioasid_diag *diag)
{
	struct ioasid_faultq *q = NULL;
	int rc = 0;

	if (fd < 0)
		rc = -EBADF;
	else if (ctx->ops->faultq_get)
		rc = ctx->ops->faultq_get(ctx->host, fd, &q);
	else if (!(q = faultq_by_fd(ctx, fd)))
		rc = -EBADF;
	if (!rc && (!q || q->ctx != ctx))
		rc = -EBADF;
	if (rc)
		return diag_set(diag, rc, IOASID_RULE_FAULTQ_FD, (u32)fd, 0);
	*out = q;
	return 0;
}

int faultq_attach(struct ioasid_ctx *ctx, struct ioasid_faultq_attach *c,
		  struct ioasid_diag *diag)
{
	struct ioasid_faultq *q;
	struct ioasid_as *as;
	int rc;

	if (c->flags & ~IOASID_FAULTQ_DETACH)
		return diag_set(diag, -EINVAL, IOASID_RULE_FLAGS, c->flags,
				IOASID_FAULTQ_DETACH);
	if ((c->flags & IOASID_FAULTQ_DETACH) && c->fd != -1)
		return diag_set(diag, -EINVAL, IOASID_RULE_FAULTQ_NONE,
				c->ioasid, 0);
	as = ctx_get_as(ctx, c->ioasid, diag);
	if (!as)
		return -ENOENT;
	if (c->flags & IOASID_FAULTQ_DETACH) {
		if (!as->faultq)
			return diag_set(diag, -EINVAL, IOASID_RULE_FAULTQ_NONE,
					c->ioasid, 0);
		as->faultq = NULL;
		return 0;
	}
	rc = faultq_lookup(ctx, c->fd, &q, diag);
	if (rc)
		return rc;
	if (as->faultq)
		return diag_set(diag, -EBUSY, IOASID_RULE_FAULTQ_BUSY,
				c->ioasid, 0);
	as->faultq = q;
	return 0;
}

/*
 * A device's access to @iova of @as, needing @need (IOASID_DMA_*), found
 * no translation; @len bytes of the access are at and after @iova. With
 * ctx->lock held (it is released while waiting and held again on return).
 * 0: answered SUCCESS, translate again. Else the access fails: -EFAULT
 * (queue full, answered INVALID, queue closed), -ETIMEDOUT, -EINTR.
 */
int faultq_raise(struct ioasid_as *as, struct ioasid_dev *dev, u64 iova,
		 u32 need, u64 len, struct ioasid_diag *diag)
{
	struct ioasid_faultq *q = as->faultq;
	struct ioasid_ctx *ctx = as->ctx;
	u32 timeout = q->timeout_ms;
	struct faultq_rec r, **pp;
	int rc;

	ioh_lock_assert_held(&ctx->lock);
	if (q->nrecs >= q->depth)
		return diag_set(diag, -EFAULT, IOASID_RULE_FAULTQ_FULL, iova,
				q->depth);
	memset(&r, 0, sizeof(r));
	r.f.flags = IOASID_FAULT_LAST_PAGE;
	r.f.dev_id = dev->obj.id;
	r.f.ioasid = as->obj.id;
	r.f.perm = need & IOASID_DMA_WRITE ? IOASID_FAULT_PERM_WRITE :
					     IOASID_FAULT_PERM_READ;
	r.f.addr = iova & ~4095ULL;
	r.f.length = (u32)(len + (iova & 4095));
	r.f.cookie = faultq_new_cookie(q);
	r.f.grpid = r.f.cookie;
	ioh_wait_init(&r.wait);
	for (pp = &q->recs; *pp; pp = &(*pp)->next)
		;
	*pp = &r;
	q->nrecs++;
	q->nunread++;
	faultq_notify(q);

	rc = ioh_wait_timeout(&r.wait, &ctx->lock, &r.done, timeout);

	/* Not done: still linked, so @q still exists. */
	if (!r.done) {
		faultq_unlink(q, &r);
		faultq_notify(q);
	}
	ioh_wait_destroy(&r.wait);
	if (!r.done)
		return diag_set(diag, rc == -EINTR ? -EINTR : -ETIMEDOUT,
				rc == -EINTR ? IOASID_RULE_FAULTQ_INTR :
					       IOASID_RULE_FAULTQ_TIMEDOUT,
				iova, timeout);
	if (r.result == IOASID_FAULT_RESP_SUCCESS)
		return 0;
	return diag_set(diag, -EFAULT, r.result == REC_CLOSED ?
			IOASID_RULE_FAULTQ_CLOSED : IOASID_RULE_FAULTQ_INVALID,
			iova, 0);
}

/* Records one read() takes at most: they go through a bounce buffer. */
#define READ_MAX	16

/*
 * Neither read nor write touches the caller's memory with the context
 * lock held: a buffer that faults slowly (a FUSE or userfaultfd mapping)
 * would freeze every call on the context and, behind the lock, waiters
 * whose time is up. Read marks up to READ_MAX records read under the
 * lock, copies them out after it, and on a failed copy marks those still
 * queued unread again.
 */
/* Up to READ_MAX unread records of @q into @out, marked read (ctx locked). */
static u32 faultq_take(struct ioasid_faultq *q, struct ioasid_fault *out,
		       u64 len)
{
	struct faultq_rec *r;
	u32 n = 0;

	for (r = q->recs; r && n < READ_MAX && len - n * REC_SIZE >= REC_SIZE;
	     r = r->next) {
		if (r->read)
			continue;
		out[n++] = r->f;
		r->read = true;
		q->nunread--;
	}
	if (n)
		faultq_notify(q);
	return n;
}

/* A copy-out failed: those of @out still queued are unread again. */
static void faultq_untake(struct ioasid_faultq *q,
			  const struct ioasid_fault *out, u32 n)
{
	for (u32 i = 0; i < n; i++) {
		struct faultq_rec *r = faultq_find(q, out[i].cookie);

		if (r && r->read) {
			r->read = false;
			q->nunread++;
		}
	}
	faultq_notify(q);
}

long ioasid_faultq_file_read(struct ioasid_faultq *q, u64 uptr, u64 len)
{
	struct ioasid_fault out[READ_MAX];
	struct ioasid_ctx *ctx = q->ctx;
	u32 n;

	if (len < REC_SIZE)
		return -EINVAL;
	ioh_lock(&ctx->lock);
	n = faultq_take(q, out, len);
	ioh_unlock(&ctx->lock);
	if (!n)
		return -EAGAIN;
	if (!ioc_copy_to_user(ctx, uptr, out, n * REC_SIZE))
		return (long)(n * REC_SIZE);
	ioh_lock(&ctx->lock);
	faultq_untake(q, out, n);
	ioh_unlock(&ctx->lock);
	return -EFAULT;
}

/* All or nothing: every response is checked before any is applied. */
static long faultq_write_locked(struct ioasid_faultq *q,
				const struct ioasid_fault_response *resp,
				u32 n)
{
	struct faultq_rec *recs[IOASID_FAULT_RESP_MAX];
	u32 i, j;

	for (i = 0; i < n; i++) {
		if (resp[i].code != IOASID_FAULT_RESP_SUCCESS &&
		    resp[i].code != IOASID_FAULT_RESP_INVALID)
			return -EINVAL;
		recs[i] = faultq_find(q, resp[i].cookie);
		if (!recs[i] || !recs[i]->read)
			return -EINVAL;
		for (j = 0; j < i; j++)
			if (recs[j] == recs[i])
				return -EINVAL;
	}
	for (i = 0; i < n; i++) {
		faultq_unlink(q, recs[i]);
		recs[i]->result = (int)resp[i].code;
		recs[i]->done = true;
		ioh_wake(&recs[i]->wait);
	}
	return (long)(n * RESP_SIZE);
}

/* @len bytes of responses at @uptr into @resp, before any lock: their count. */
static long faultq_resp_in(struct ioasid_ctx *ctx,
			   struct ioasid_fault_response *resp, u64 uptr,
			   u64 len)
{
	if (!len || len % RESP_SIZE || len / RESP_SIZE > IOASID_FAULT_RESP_MAX)
		return -EINVAL;
	if (ioc_copy_from_user(ctx, resp, uptr, len))
		return -EFAULT;
	return (long)(len / RESP_SIZE);
}

long ioasid_faultq_file_write(struct ioasid_faultq *q, u64 uptr, u64 len)
{
	struct ioasid_fault_response resp[IOASID_FAULT_RESP_MAX];
	struct ioasid_ctx *ctx = q->ctx;
	long n = faultq_resp_in(ctx, resp, uptr, len);

	if (n < 0)
		return n;
	ioh_lock(&ctx->lock);
	n = faultq_write_locked(q, resp, (u32)n);
	ioh_unlock(&ctx->lock);
	return n;
}

bool ioasid_faultq_file_pending(struct ioasid_faultq *q)
{
	struct ioasid_ctx *ctx = q->ctx;
	bool pending;

	ioh_lock(&ctx->lock);
	pending = q->nunread != 0;
	ioh_unlock(&ctx->lock);
	return pending;
}

/* Fail every waiting access, disconnect every ioasid, free the queue. */
static void faultq_destroy(struct ioasid_faultq *q)
{
	struct ioasid_ctx *ctx = q->ctx;
	u32 id;

	while (q->recs) {
		struct faultq_rec *r = q->recs;

		faultq_unlink(q, r);
		r->result = REC_CLOSED;
		r->done = true;
		ioh_wake(&r->wait);
	}
	for (id = 1; id < ctx->objs_cap; id++) {
		struct ioasid_obj *o = ctx->objs[id];
		struct ioasid_as *as;

		if (!o || o->type != IOASID_OBJ_AS)
			continue;
		as = container_of(o, struct ioasid_as, obj);
		if (as->faultq == q)
			as->faultq = NULL;
	}
	faultq_unlist(q);
	ioh_free(q);
}

void ioasid_faultq_file_release(struct ioasid_faultq *q)
{
	struct ioasid_ctx *ctx = q->ctx;

	ioh_lock(&ctx->lock);
	faultq_destroy(q);
	ioh_unlock(&ctx->lock);
}

/* Context destroy: queues the host still has open (embedded backend). */
void faultq_destroy_all(struct ioasid_ctx *ctx)
{
	while (ctx->faultqs) {
		struct ioasid_faultq *q = ctx->faultqs;

		if (ctx->ops->faultq_close)
			ctx->ops->faultq_close(ctx->host, q);
		faultq_destroy(q);
	}
}

void *ioasid_faultq_host_data(struct ioasid_faultq *q)
{
	return q->host_data;
}

void ioasid_faultq_set_host_data(struct ioasid_faultq *q, void *data, int fd)
{
	q->host_data = data;
	q->fd = fd;
}

int ioasid_faultq_fd(struct ioasid_faultq *q)
{
	return q->fd;
}

struct ioasid_ctx *ioasid_faultq_ctx(struct ioasid_faultq *q)
{
	return q->ctx;
}

long ioasid_faultq_read_fd(struct ioasid_ctx *ctx, int fd, u64 uptr, u64 len)
{
	struct ioasid_fault out[READ_MAX];
	struct ioasid_faultq *q;
	long rc;
	u32 n = 0;

	if (len < REC_SIZE)
		return -EINVAL;
	ioh_lock(&ctx->lock);
	rc = faultq_lookup(ctx, fd, &q, NULL);
	if (!rc)
		n = faultq_take(q, out, len);
	ioh_unlock(&ctx->lock);
	if (rc)
		return rc;
	if (!n)
		return -EAGAIN;
	if (!ioc_copy_to_user(ctx, uptr, out, n * REC_SIZE))
		return (long)(n * REC_SIZE);
	ioh_lock(&ctx->lock);
	if (!faultq_lookup(ctx, fd, &q, NULL))
		faultq_untake(q, out, n);
	ioh_unlock(&ctx->lock);
	return -EFAULT;
}

long ioasid_faultq_write_fd(struct ioasid_ctx *ctx, int fd, u64 uptr,
			    u64 len)
{
	struct ioasid_fault_response resp[IOASID_FAULT_RESP_MAX];
	struct ioasid_faultq *q;
	long n = faultq_resp_in(ctx, resp, uptr, len);

	if (n < 0)
		return n;
	ioh_lock(&ctx->lock);
	if (!faultq_lookup(ctx, fd, &q, NULL))
		n = faultq_write_locked(q, resp, (u32)n);
	else
		n = -EBADF;
	ioh_unlock(&ctx->lock);
	return n;
}

int ioasid_faultq_close_fd(struct ioasid_ctx *ctx, int fd)
{
	struct ioasid_faultq *q;
	int rc;

	ioh_lock(&ctx->lock);
	rc = faultq_lookup(ctx, fd, &q, NULL);
	if (!rc) {
		if (ctx->ops->faultq_close)
			ctx->ops->faultq_close(ctx->host, q);
		faultq_destroy(q);
	}
	ioh_unlock(&ctx->lock);
	return rc;
}

/* @q (an ioasid's queue, or NULL) is one of @ctx's open queues. */
int faultq_verify(struct ioasid_ctx *ctx, const struct ioasid_faultq *q)
{
	const struct ioasid_faultq *p;

	if (!q)
		return 0;
	for (p = ctx->faultqs; p; p = p->next)
		if (p == q)
			return 0;
	return -EIO;
}

/* Counts agree with the lists, and no queue is past its limits. */
int faultq_verify_all(struct ioasid_ctx *ctx)
{
	const struct ioasid_faultq *q;
	u32 nq = 0;

	for (q = ctx->faultqs; q; q = q->next, nq++) {
		const struct faultq_rec *r;
		u32 n = 0, unread = 0;

		for (r = q->recs; r; r = r->next, n++) {
			if (!r->read)
				unread++;
			if (r->done || n > IOASID_FAULTQ_DEPTH_MAX)
				return -EIO;
		}
		if (q->ctx != ctx || n != q->nrecs || unread != q->nunread ||
		    n > q->depth || q->depth > IOASID_FAULTQ_DEPTH_MAX ||
		    !q->timeout_ms || q->timeout_ms > IOASID_FAULTQ_TIMEOUT_MAX)
			return -EIO;
	}
	return nq == ctx->nfaultqs && nq <= IOASID_FAULTQ_MAX ? 0 : -EIO;
}
