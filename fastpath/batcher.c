// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/*
 * The batcher: many map and unmap requests, few backend calls, one shadow
 * update and at most one grace period per flush.
 *
 * Requests are queued in order. A flush happens when max_batch requests
 * are pending (inline, in the submitting thread), when the oldest pending
 * request is deadline_us old (a flusher thread), on ioasid_fp_barrier(),
 * or when someone waits for a request that is still pending.
 *
 * A flush:
 *  1. coalesces: a map and a later unmap of exactly the same range cancel
 *     when nothing else in the flush or in the shadow touches that range
 *     (both succeed without reaching the backend); neighbouring maps with
 *     contiguous host addresses and the same permission merge into one
 *     entry, but only for backends that accept an unmap cutting a mapping
 *     (IOASID_FP_BE_PARTIAL_UNMAP): a type1v2 backend would refuse a
 *     later unmap of half of a merged mapping;
 *  2. sends runs of same-kind requests as backend batches, in order. A
 *     backend batch is all or nothing: when entry i fails, nothing was
 *     applied, so entry i's request gets the error (a merged entry is
 *     split back into its requests first) and the rest is sent again.
 *     Other callers' requests never fail because of someone else's;
 *  3. applies what the backend accepted to the shadow as one publish;
 *  4. waits for a grace period, so that an unmap completes only when the
 *     backend has removed the mapping and no reader can still use the old
 *     translation;
 *  5. completes the requests and wakes their waiters.
 *
 * Locking: b->flush_lock serializes flushes (and so the shadow's single
 * writer); b->lock protects the pending list, request states and stats.
 * Order: flush_lock, then lock. Backend calls and grace periods run with
 * flush_lock only.
 */
#include <pthread.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "fastpath_priv.h"
#include "sizefirst.h"

enum req_state {
	REQ_IDLE = 0,
	REQ_QUEUED,
	REQ_FLUSHING,
	REQ_DONE,
};

struct ioasid_fp_batcher {
	struct ioasid_fp_shadow *shadow;
	struct ioasid_fp_backend *be;
	struct ioasid_fp_batcher_cfg cfg;
	pthread_mutex_t flush_lock;
	pthread_mutex_t lock;
	pthread_cond_t done_cv;
	pthread_cond_t work_cv;
	struct ioasid_fp_req *head;
	struct ioasid_fp_req **tail;
	uint32_t npending;
	uint64_t first_ns;		/* when the oldest pending was queued */
	pthread_t flusher;
	bool has_flusher;
	bool stop;
	struct ioasid_fp_stats st;
};

static uint64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

static void flush(struct ioasid_fp_batcher *b);

static void *flusher_main(void *arg)
{
	struct ioasid_fp_batcher *b = arg;

	pthread_mutex_lock(&b->lock);
	while (!b->stop) {
		struct timespec ts;
		uint64_t due;

		if (!b->npending) {
			pthread_cond_wait(&b->work_cv, &b->lock);
			continue;
		}
		due = b->first_ns + (uint64_t)b->cfg.deadline_us * 1000;
		if (mono_ns() < due) {
			ts.tv_sec = (time_t)(due / 1000000000ULL);
			ts.tv_nsec = (long)(due % 1000000000ULL);
			pthread_cond_timedwait(&b->work_cv, &b->lock, &ts);
			continue;
		}
		pthread_mutex_unlock(&b->lock);
		flush(b);
		pthread_mutex_lock(&b->lock);
	}
	pthread_mutex_unlock(&b->lock);
	return NULL;
}

/*
 * The first version of struct ioasid_fp_batcher_cfg ends at flags, its
 * last field today: the smallest cfg->size accepted (core/sizefirst.h). A
 * field added later goes after flags, and a caller built before it keeps
 * passing this size (the fields it lacks read as zero); say so here and
 * in ioasid_fastpath.h.
 */
#define BATCHER_CFG_SIZE_VER0 \
	SIZEFIRST_VER0(struct ioasid_fp_batcher_cfg, flags)
SIZEFIRST_ASSERT_LAST(struct ioasid_fp_batcher_cfg, flags);

int ioasid_fp_batcher_create(struct ioasid_fp_shadow *s,
			     struct ioasid_fp_backend *be,
			     const struct ioasid_fp_batcher_cfg *cfg,
			     struct ioasid_fp_batcher **out)
{
	struct ioasid_fp_batcher_cfg c;
	struct ioasid_fp_batcher *b;
	pthread_condattr_t ca;
	int rc;

	if (!s || !be)
		return -EINVAL;
	memset(&c, 0, sizeof(c));
	if (cfg) {
		rc = sizefirst_copy(&c, sizeof(c), BATCHER_CFG_SIZE_VER0, cfg);
		if (rc)
			return rc;
	}
	if (c.flags & ~IOASID_FP_NO_COALESCE)
		return -EINVAL;
	b = calloc(1, sizeof(*b));
	if (!b)
		return -ENOMEM;
	b->shadow = s;
	b->be = be;
	b->cfg = c;
	if (!b->cfg.max_batch)
		b->cfg.max_batch = 256;
	b->tail = &b->head;
	pthread_mutex_init(&b->flush_lock, NULL);
	pthread_mutex_init(&b->lock, NULL);
	pthread_cond_init(&b->done_cv, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&b->work_cv, &ca);
	pthread_condattr_destroy(&ca);
	if (b->cfg.deadline_us) {
		if (pthread_create(&b->flusher, NULL, flusher_main, b)) {
			pthread_cond_destroy(&b->work_cv);
			pthread_cond_destroy(&b->done_cv);
			pthread_mutex_destroy(&b->lock);
			pthread_mutex_destroy(&b->flush_lock);
			free(b);
			return -EAGAIN;
		}
		b->has_flusher = true;
	}
	*out = b;
	return 0;
}

void ioasid_fp_batcher_destroy(struct ioasid_fp_batcher *b)
{
	if (!b)
		return;
	if (b->has_flusher) {
		pthread_mutex_lock(&b->lock);
		b->stop = true;
		pthread_cond_signal(&b->work_cv);
		pthread_mutex_unlock(&b->lock);
		pthread_join(b->flusher, NULL);
	}
	flush(b);
	pthread_cond_destroy(&b->work_cv);
	pthread_cond_destroy(&b->done_cv);
	pthread_mutex_destroy(&b->lock);
	pthread_mutex_destroy(&b->flush_lock);
	free(b);
}

static int check_op(const struct ioasid_fp_op *op)
{
	if (op->kind != IOASID_FP_MAP && op->kind != IOASID_FP_UNMAP)
		return -EINVAL;
	if (!op->len || op->iova + op->len - 1 < op->iova)
		return -EINVAL;
	if (op->kind == IOASID_FP_UNMAP && (op->perm || op->hva))
		return -EINVAL;		/* unmaps carry neither */
	if (op->kind == IOASID_FP_MAP &&
	    (!(op->perm & (IOASID_FP_READ | IOASID_FP_WRITE)) ||
	     op->perm & ~(IOASID_FP_READ | IOASID_FP_WRITE) ||
	     op->hva + op->len - 1 < op->hva))
		return -EINVAL;
	return 0;
}

int ioasid_fp_submit(struct ioasid_fp_batcher *b, struct ioasid_fp_req *req)
{
	int rc = check_op(&req->op);
	bool full;

	req->next = NULL;
	req->merged = 0;
	req->unmapped = 0;
	if (rc) {
		req->result = rc;
		req->state = REQ_DONE;
		return rc;
	}
	pthread_mutex_lock(&b->lock);
	req->state = REQ_QUEUED;
	*b->tail = req;
	b->tail = &req->next;
	if (!b->npending++) {
		b->first_ns = mono_ns();
		pthread_cond_signal(&b->work_cv);
	}
	b->st.submitted++;
	full = b->npending >= b->cfg.max_batch;
	pthread_mutex_unlock(&b->lock);
	if (full)
		flush(b);
	return 0;
}

int ioasid_fp_wait(struct ioasid_fp_batcher *b, struct ioasid_fp_req *req)
{
	bool on = fp_block_begin();

	pthread_mutex_lock(&b->lock);
	if (req->state == REQ_IDLE) {
		pthread_mutex_unlock(&b->lock);
		fp_block_end(on);
		return -EINVAL;		/* never submitted */
	}
	while (req->state != REQ_DONE) {
		if (req->state == REQ_QUEUED) {
			pthread_mutex_unlock(&b->lock);
			flush(b);
			pthread_mutex_lock(&b->lock);
		} else {
			pthread_cond_wait(&b->done_cv, &b->lock);
		}
	}
	pthread_mutex_unlock(&b->lock);
	fp_block_end(on);
	return req->result;
}

void ioasid_fp_barrier(struct ioasid_fp_batcher *b)
{
	flush(b);
}

int ioasid_fp_map(struct ioasid_fp_batcher *b, uint64_t iova, void *hva,
		  uint64_t len, uint32_t perm)
{
	struct ioasid_fp_req r = {
		.op = { .kind = IOASID_FP_MAP, .perm = perm, .iova = iova,
			.hva = (uintptr_t)hva, .len = len },
	};
	int rc = ioasid_fp_submit(b, &r);

	return rc ? rc : ioasid_fp_wait(b, &r);
}

int ioasid_fp_unmap(struct ioasid_fp_batcher *b, uint64_t iova, uint64_t len,
		    uint64_t *unmapped)
{
	struct ioasid_fp_req r = {
		.op = { .kind = IOASID_FP_UNMAP, .iova = iova, .len = len },
	};
	int rc = ioasid_fp_submit(b, &r);

	if (!rc)
		rc = ioasid_fp_wait(b, &r);
	if (unmapped)
		*unmapped = rc ? 0 : r.unmapped;
	return rc;
}

void ioasid_fp_batcher_stats(struct ioasid_fp_batcher *b,
			     struct ioasid_fp_stats *st)
{
	pthread_mutex_lock(&b->lock);
	*st = b->st;
	pthread_mutex_unlock(&b->lock);
}

/* ---- one flush ---- */

struct flush_ctx {
	struct ioasid_fp_batcher *b;
	struct ioasid_fp_req **reqs;	/* in submission order */
	uint32_t n;
	bool *cancelled;
	bool *ok;			/* accepted by the backend */
	/* Backend entries of the current run and the requests they carry. */
	struct ioasid_fp_op *ent;
	uint32_t *first;		/* first request index of each entry */
	uint32_t *count;		/* requests merged into each entry */
};

static bool overlaps(const struct ioasid_fp_op *x, const struct ioasid_fp_op *y)
{
	return x->iova <= y->iova + y->len - 1 && y->iova <= x->iova + x->len - 1;
}

static void cancel_pairs(struct flush_ctx *f)
{
	uint32_t maps = 0;

	for (uint32_t j = 0; j < f->n; j++)
		maps += f->reqs[j]->op.kind == IOASID_FP_MAP;
	if (!maps || maps == f->n)
		return;		/* a pair needs one of each */
	for (uint32_t j = 0; j < f->n; j++) {
		const struct ioasid_fp_op *u = &f->reqs[j]->op;
		uint32_t i, k;
		bool alone = true;

		if (u->kind != IOASID_FP_UNMAP || f->cancelled[j])
			continue;
		for (i = j; i-- > 0;) {
			const struct ioasid_fp_op *m = &f->reqs[i]->op;

			if (!f->cancelled[i] && m->kind == IOASID_FP_MAP &&
			    m->iova == u->iova && m->len == u->len)
				break;
		}
		if (i == UINT32_MAX)
			continue;
		for (k = 0; k < f->n && alone; k++)
			if (k != i && k != j && !f->cancelled[k] &&
			    overlaps(&f->reqs[k]->op, u))
				alone = false;
		if (!alone || shadow_overlaps(f->b->shadow, u->iova, u->len))
			continue;
		f->cancelled[i] = f->cancelled[j] = true;
		f->reqs[i]->result = 0;
		f->reqs[j]->result = 0;
		f->reqs[j]->unmapped = u->len;
		f->b->st.cancelled++;
	}
}

static bool can_merge(const struct ioasid_fp_op *a, const struct ioasid_fp_op *b)
{
	return a->kind == IOASID_FP_MAP && b->kind == IOASID_FP_MAP &&
	       a->perm == b->perm && a->iova + a->len == b->iova &&
	       a->hva + a->len == b->hva;
}

/* Mark every request of backend entry @e with @rc. */
static void entry_fail(struct flush_ctx *f, uint32_t e, int rc)
{
	for (uint32_t k = 0; k < f->count[e]; k++)
		f->reqs[f->first[e] + k]->result = rc;
}

/*
 * Send entries [0, n) of the current run of one kind, all or nothing per
 * call, routing each failure to its request(s).
 */
static void send_run(struct flush_ctx *f, uint32_t kind, uint32_t n)
{
	struct ioasid_fp_batcher *b = f->b;
	struct ioasid_fp_backend *be = b->be;
	uint32_t max = be->caps & IOASID_FP_BE_BATCH ?
		       (be->max_batch ? be->max_batch : UINT32_MAX) : 1;
	uint32_t pos = 0;

	while (pos < n) {
		uint32_t cnt = n - pos < max ? n - pos : max, fail = UINT32_MAX;
		int rc;

		rc = kind == IOASID_FP_MAP ?
		     be->ops->map(be, f->ent + pos, cnt, &fail) :
		     be->ops->unmap(be, f->ent + pos, cnt, &fail);
		be->calls++;
		pthread_mutex_lock(&b->lock);
		b->st.backend_calls++;
		b->st.backend_entries += cnt;
		pthread_mutex_unlock(&b->lock);
		if (!rc) {
			for (uint32_t e = pos; e < pos + cnt; e++)
				for (uint32_t k = 0; k < f->count[e]; k++)
					f->ok[f->first[e] + k] = true;
			pos += cnt;
			continue;
		}
		if (fail >= cnt) {
			/* Not one entry's fault: the whole call failed. */
			for (uint32_t e = pos; e < pos + cnt; e++)
				entry_fail(f, e, rc);
			pos += cnt;
			continue;
		}
		fail += pos;
		pthread_mutex_lock(&b->lock);
		b->st.retries++;
		pthread_mutex_unlock(&b->lock);
		if (f->count[fail] > 1) {
			/* Split the merged entry back into its requests. */
			uint32_t extra = f->count[fail] - 1, r0 = f->first[fail];

			memmove(f->ent + fail + 1 + extra, f->ent + fail + 1,
				(n - fail - 1) * sizeof(*f->ent));
			memmove(f->first + fail + 1 + extra, f->first + fail + 1,
				(n - fail - 1) * sizeof(*f->first));
			memmove(f->count + fail + 1 + extra, f->count + fail + 1,
				(n - fail - 1) * sizeof(*f->count));
			for (uint32_t k = 0; k <= extra; k++) {
				f->ent[fail + k] = f->reqs[r0 + k]->op;
				f->first[fail + k] = r0 + k;
				f->count[fail + k] = 1;
			}
			n += extra;
			continue;
		}
		entry_fail(f, fail, rc);
		memmove(f->ent + fail, f->ent + fail + 1,
			(n - fail - 1) * sizeof(*f->ent));
		memmove(f->first + fail, f->first + fail + 1,
			(n - fail - 1) * sizeof(*f->first));
		memmove(f->count + fail, f->count + fail + 1,
			(n - fail - 1) * sizeof(*f->count));
		n--;
	}
}

/* Build runs of one kind and send them, in submission order. */
static void send_all(struct flush_ctx *f)
{
	bool merge = !(f->b->cfg.flags & IOASID_FP_NO_COALESCE) &&
		     (f->b->be->caps & IOASID_FP_BE_PARTIAL_UNMAP);
	uint32_t i = 0;

	while (i < f->n) {
		uint32_t kind, n = 0;

		if (f->cancelled[i]) {
			i++;
			continue;
		}
		kind = f->reqs[i]->op.kind;
		for (; i < f->n && (f->cancelled[i] ||
				    f->reqs[i]->op.kind == kind); i++) {
			if (f->cancelled[i])
				continue;
			if (merge && n && f->first[n - 1] + f->count[n - 1] == i &&
			    can_merge(&f->ent[n - 1], &f->reqs[i]->op)) {
				f->ent[n - 1].len += f->reqs[i]->op.len;
				f->count[n - 1]++;
				f->b->st.merged++;
				continue;
			}
			f->ent[n] = f->reqs[i]->op;
			f->first[n] = i;
			f->count[n] = 1;
			n++;
		}
		send_run(f, kind, n);
	}
}

/*
 * Apply the accepted requests to the shadow. Under memory pressure fall
 * back to one op per publish; a map that still cannot be shadowed is
 * taken back from the backend and fails with ENOMEM; an unmap must reach
 * the shadow, so it is retried until memory frees up.
 */
static bool update_shadow(struct flush_ctx *f)
{
	struct ioasid_fp_batcher *b = f->b;
	struct ioasid_fp_op *ops = f->ent;	/* reused: runs are sent */
	uint64_t *unmapped = calloc(f->n ? f->n : 1, sizeof(*unmapped));
	uint32_t *idx = f->first;
	uint32_t n = 0, i;

	for (i = 0; i < f->n; i++) {
		if (f->ok[i]) {
			ops[n] = f->reqs[i]->op;
			if (ops[n].kind == IOASID_FP_UNMAP &&
			    (b->be->caps & IOASID_FP_BE_UNMAP_OVERLAP))
				ops[n].perm |= FP_UNMAP_WHOLE;
			idx[n++] = i;
		}
	}
	if (!n) {
		free(unmapped);
		return false;
	}
	if (unmapped && !shadow_apply(b->shadow, ops, n, unmapped)) {
		for (i = 0; i < n; i++)
			f->reqs[idx[i]]->unmapped = unmapped[i];
		free(unmapped);
		return true;
	}
	free(unmapped);
	for (i = 0; i < n; i++) {
		uint64_t u = 0;

		while (shadow_apply(b->shadow, &ops[i], 1, &u)) {
			if (ops[i].kind == IOASID_FP_MAP) {
				uint32_t fail;

				b->be->ops->unmap(b->be, &ops[i], 1, &fail);
				f->reqs[idx[i]]->result = -ENOMEM;
				break;
			}
			usleep(1000);
		}
		f->reqs[idx[i]]->unmapped = u;
	}
	return true;
}

static void flush(struct ioasid_fp_batcher *b)
{
	struct flush_ctx f = { .b = b };
	struct ioasid_fp_req *list, *r;
	bool on = fp_block_begin();	/* flush_lock may wait on a flush */
	uint32_t i;

	pthread_mutex_lock(&b->flush_lock);
	pthread_mutex_lock(&b->lock);
	list = b->head;
	f.n = b->npending;
	b->head = NULL;
	b->tail = &b->head;
	b->npending = 0;
	for (r = list; r; r = r->next) {
		r->state = REQ_FLUSHING;
		r->result = 0;
	}
	if (f.n)
		b->st.flushes++;
	pthread_mutex_unlock(&b->lock);
	if (!f.n) {
		pthread_mutex_unlock(&b->flush_lock);
		fp_block_end(on);
		return;
	}
	f.reqs = calloc(f.n, sizeof(*f.reqs));
	f.cancelled = calloc(f.n, sizeof(bool));
	f.ok = calloc(f.n, sizeof(bool));
	f.ent = calloc(f.n, sizeof(*f.ent));
	f.first = calloc(f.n, sizeof(*f.first));
	f.count = calloc(f.n, sizeof(*f.count));
	if (!f.reqs || !f.cancelled || !f.ok || !f.ent || !f.first ||
	    !f.count) {
		for (r = list; r; r = r->next)
			r->result = -ENOMEM;
		goto complete;
	}
	for (i = 0, r = list; r; r = r->next)
		f.reqs[i++] = r;
	if (!(b->cfg.flags & IOASID_FP_NO_COALESCE))
		cancel_pairs(&f);
	send_all(&f);
	if (update_shadow(&f)) {
		/* After the grace period no reader holds a removed translation. */
		shadow_sync(b->shadow);
		pthread_mutex_lock(&b->lock);
		b->st.grace_periods++;
		pthread_mutex_unlock(&b->lock);
	}
complete:
	pthread_mutex_lock(&b->lock);
	for (r = list; r; r = r->next)
		r->state = REQ_DONE;
	pthread_cond_broadcast(&b->done_cv);
	pthread_mutex_unlock(&b->lock);
	free(f.reqs);
	free(f.cancelled);
	free(f.ok);
	free(f.ent);
	free(f.first);
	free(f.count);
	pthread_mutex_unlock(&b->flush_lock);
	fp_block_end(on);
}
