/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/*
 * rte_ioasid: keep an ioasid (and its fast-path shadow) in step with a DPDK
 * application's memory.
 *
 * rte_ioasid_dma_attach() maps every DPDK memory segment that exists, in
 * one batch, and registers for DPDK memory events: a hot-added segment is
 * mapped, a freed one unmapped, each event in one batch through the
 * fast-path batcher, and only what the event changed (never unmapping and
 * remapping everything). Segments are mapped one by one (one hugepage per
 * mapping), as DPDK's own VFIO code does, so that a later free never needs
 * to cut a mapping, which type1v2 backends refuse.
 *
 * IOVA-as-VA and IOVA-as-PA both work: each segment is mapped at its
 * rte_memseg iova. With legacy memory or --no-huge DPDK raises no events;
 * the initial walk is then the whole story (see rte_ioasid_dma_info).
 *
 * Conventions: functions return 0 or a negative errno and set rte_errno.
 * Call attach and detach from a thread that may take DPDK's memory
 * hotplug lock (not from inside a memory event callback).
 */
#ifndef RTE_IOASID_H
#define RTE_IOASID_H

#include <stdbool.h>
#include <stdint.h>

#include "ioasid_fastpath.h"

#ifdef __cplusplus
extern "C" {
#endif

struct rte_ioasid_dma;

struct rte_ioasid_dma_info {
	bool events;			/* memory events are delivered */
	bool iova_as_va;		/* RTE_IOVA_VA */
	uint64_t segments_mapped;	/* mapped now */
	uint64_t events_seen;
	uint64_t map_failures;		/* segments a backend refused */
};

int rte_ioasid_dma_attach(struct ioasid_fp_batcher *b,
			  struct rte_ioasid_dma **out);
/* Unregisters and unmaps every segment it mapped. */
int rte_ioasid_dma_detach(struct rte_ioasid_dma *d);
void rte_ioasid_dma_info_get(struct rte_ioasid_dma *d,
			     struct rte_ioasid_dma_info *info);

#ifdef __cplusplus
}
#endif

#endif /* RTE_IOASID_H */
