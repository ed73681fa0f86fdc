// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/*
 * DPDK memory for an ioasid, through the fast-path batcher.
 *
 * Attach walks the memory segments (rte_memseg_walk, memory hotplug lock
 * taken by DPDK) and queues one map per segment, then waits once. Memory
 * events arrive with the hotplug lock write-held, so the callback finds the
 * segments of [addr, addr + len) with rte_mem_virt2memseg() (no lock) and
 * queues one map or unmap per segment, then waits: DPDK uses the memory
 * as soon as the callback returns, so the mapping must be in place.
 *
 * A segment's IOVA is rte_memseg.iova: the virtual address in IOVA-as-VA
 * mode, the physical one in IOVA-as-PA mode. Segments without a valid IOVA
 * (RTE_BAD_IOVA) are skipped.
 *
 * Messages go through DPDK's log under the logtype "lib.ioasid" (level
 * NOTICE by default; --log-level=lib.ioasid:debug raises it).
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_log.h>
#include <rte_memory.h>

#include "rte_ioasid.h"

RTE_LOG_REGISTER(rte_ioasid_logtype, lib.ioasid, NOTICE);
#define RTE_LOGTYPE_IOASID rte_ioasid_logtype

struct rte_ioasid_dma {
	struct ioasid_fp_batcher *b;
	char name[RTE_MEM_EVENT_CALLBACK_NAME_LEN];
	pthread_mutex_t lock;		/* stats; one event at a time */
	struct rte_ioasid_dma_info info;
};

struct seg_batch {
	struct ioasid_fp_req *req;
	uint32_t n;
	uint32_t cap;
	int err;
};

static void batch_add(struct seg_batch *sb, uint32_t kind,
		      const struct rte_memseg *ms)
{
	if (ms->iova == RTE_BAD_IOVA || sb->err)
		return;
	if (sb->n == sb->cap) {
		uint32_t cap = sb->cap ? sb->cap * 2 : 64;
		struct ioasid_fp_req *r = realloc(sb->req, cap * sizeof(*r));

		if (!r) {
			sb->err = -ENOMEM;
			return;
		}
		sb->req = r;
		sb->cap = cap;
	}
	sb->req[sb->n++] = (struct ioasid_fp_req){ .op = {
		.kind = kind,
		.perm = kind == IOASID_FP_MAP ?
			IOASID_FP_READ | IOASID_FP_WRITE : 0,
		.iova = ms->iova,
		.hva = kind == IOASID_FP_MAP ? (uintptr_t)ms->addr : 0,
		.len = ms->len,
	} };
}

/* Submit everything, wait once, count what failed. */
static int batch_run(struct rte_ioasid_dma *d, struct seg_batch *sb)
{
	uint32_t i, failed = 0, done = 0;
	int first = 0;

	for (i = 0; i < sb->n && !sb->err; i++)
		if (ioasid_fp_submit(d->b, &sb->req[i]))
			break;
	ioasid_fp_barrier(d->b);
	for (uint32_t k = 0; k < i; k++) {
		int rc = ioasid_fp_wait(d->b, &sb->req[k]);

		if (rc) {
			failed++;
			if (!first)
				first = rc;
		} else {
			done++;
		}
	}
	pthread_mutex_lock(&d->lock);
	if (sb->n && sb->req[0].op.kind == IOASID_FP_MAP) {
		d->info.segments_mapped += done;
		d->info.map_failures += failed;
	} else {
		d->info.segments_mapped -= done;
	}
	pthread_mutex_unlock(&d->lock);
	free(sb->req);
	if (sb->err)
		return sb->err;
	return i < sb->n ? -EINVAL : first;
}

static int walk_map(const struct rte_memseg_list *msl,
		    const struct rte_memseg *ms, void *arg)
{
	(void)msl;
	batch_add(arg, IOASID_FP_MAP, ms);
	return 0;
}

static int walk_unmap(const struct rte_memseg_list *msl,
		      const struct rte_memseg *ms, void *arg)
{
	(void)msl;
	batch_add(arg, IOASID_FP_UNMAP, ms);
	return 0;
}

static void mem_event(enum rte_mem_event type, const void *addr, size_t len,
		      void *arg)
{
	struct rte_ioasid_dma *d = arg;
	struct seg_batch sb = { 0 };
	const struct rte_memseg_list *msl = rte_mem_virt2memseg_list(addr);
	uintptr_t va = (uintptr_t)addr, end = va + len;
	int rc;

	pthread_mutex_lock(&d->lock);
	d->info.events_seen++;
	pthread_mutex_unlock(&d->lock);
	while (msl && va < end) {
		const struct rte_memseg *ms =
			rte_mem_virt2memseg((const void *)va, msl);

		if (!ms || !ms->len)
			break;
		batch_add(&sb, type == RTE_MEM_EVENT_ALLOC ? IOASID_FP_MAP :
							     IOASID_FP_UNMAP, ms);
		va = (uintptr_t)ms->addr + ms->len;
	}
	rc = batch_run(d, &sb);
	if (rc)
		RTE_LOG(ERR, IOASID, "%s of %zu bytes at %p: %s\n",
			type == RTE_MEM_EVENT_ALLOC ? "map" : "unmap", len,
			addr, strerror(-rc));
}

int rte_ioasid_dma_attach(struct ioasid_fp_batcher *b,
			  struct rte_ioasid_dma **out)
{
	struct rte_ioasid_dma *d;
	struct seg_batch sb = { 0 };
	int rc;

	if (!b || !out) {
		rte_errno = EINVAL;
		return -EINVAL;
	}
	d = calloc(1, sizeof(*d));
	if (!d) {
		rte_errno = ENOMEM;
		return -ENOMEM;
	}
	d->b = b;
	pthread_mutex_init(&d->lock, NULL);
	d->info.iova_as_va = rte_eal_iova_mode() == RTE_IOVA_VA;
	snprintf(d->name, sizeof(d->name), "rte_ioasid-%p", (void *)d);
	/*
	 * Register first, then walk, both under DPDK's hotplug lock order:
	 * an event between the two would otherwise be lost. The walk maps
	 * what existed; a segment added meanwhile is mapped by its event and
	 * the walk's duplicate fails harmlessly with EEXIST.
	 */
	d->info.events = !rte_mem_event_callback_register(d->name, mem_event,
							   d);
	if (!d->info.events && rte_errno != ENOTSUP) {
		rc = -rte_errno;
		goto err;
	}
	if (rte_memseg_walk(walk_map, &sb) < 0) {
		rc = -EIO;
		free(sb.req);
		goto err_unreg;
	}
	rc = batch_run(d, &sb);
	if (rc && rc != -EEXIST)
		goto err_unreg;
	*out = d;
	return 0;

err_unreg:
	if (d->info.events)
		rte_mem_event_callback_unregister(d->name, d);
	{
		struct seg_batch un = { 0 };

		rte_memseg_walk(walk_unmap, &un);
		batch_run(d, &un);
	}
err:
	pthread_mutex_destroy(&d->lock);
	free(d);
	rte_errno = -rc;
	return rc;
}

int rte_ioasid_dma_detach(struct rte_ioasid_dma *d)
{
	struct seg_batch sb = { 0 };
	int rc;

	if (!d) {
		rte_errno = EINVAL;
		return -EINVAL;
	}
	if (d->info.events)
		rte_mem_event_callback_unregister(d->name, d);
	if (rte_memseg_walk(walk_unmap, &sb) < 0) {
		free(sb.req);
		rc = -EIO;
	} else {
		rc = batch_run(d, &sb);
	}
	pthread_mutex_destroy(&d->lock);
	free(d);
	if (rc)
		rte_errno = -rc;
	return rc;
}

void rte_ioasid_dma_info_get(struct rte_ioasid_dma *d,
			     struct rte_ioasid_dma_info *info)
{
	pthread_mutex_lock(&d->lock);
	*info = d->info;
	pthread_mutex_unlock(&d->lock);
}
