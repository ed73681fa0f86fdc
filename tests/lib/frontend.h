/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/*
 * A vhost-user front-end that speaks the IOMMU variant of the protocol
 * (DPDK's net_virtio_user does not send IOTLB messages). It owns a memfd
 * of "guest" memory and the driver side of one virtio-net queue pair
 * (split rings), and drives any vhost-user net backend: the project's or
 * DPDK's (net_vhost with iommu-support=1).
 *
 * With iommu set it plays the guest's IOMMU: guest memory is reachable
 * only through IOVAs, in iotlb_entries equal pieces; the rings and
 * buffers are addressed by IOVA; the backend learns translations from
 * IOTLB update messages, eagerly at start or (lazy) only when it reports
 * a miss, and vu_front_churn() invalidates and re-sends entries while
 * traffic flows, as a guest remapping its buffers would.
 */
#ifndef IOASID_VHOST_FRONTEND_H
#define IOASID_VHOST_FRONTEND_H

#include <stdbool.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

struct vu_front_cfg {
	const char *path;		/* the backend's socket */
	uint32_t mem_mb;		/* guest memory; 0: 64 */
	uint16_t ring_size;		/* 0: 256 */
	bool iommu;			/* VIRTIO_F_ACCESS_PLATFORM + IOTLB */
	bool lazy;			/* iommu: map only on misses */
	uint32_t iotlb_entries;		/* iommu: pieces of memory; 0: 64 */
	bool spread;			/* buffers spread over all memory,
					 * not packed after the rings */
};

struct vu_front_stats {
	uint64_t sent, received;
	uint64_t misses_served;		/* IOTLB miss requests answered */
	uint64_t updates, invalidates;	/* IOTLB messages sent */
};

struct vu_front;

int vu_front_open(const struct vu_front_cfg *cfg, struct vu_front **out);
/* Queue one packet for the backend: 0, or -ENOBUFS while the ring is full. */
int vu_front_send(struct vu_front *f, const void *pkt, uint32_t len);
/* One packet from the backend into @buf: its length, or 0 if none. */
uint32_t vu_front_recv(struct vu_front *f, void *buf, uint32_t max);
/* Answer pending IOTLB misses; call regularly when lazy. */
void vu_front_serve(struct vu_front *f);
/* Invalidate IOTLB entry @i and send it again (a remap). */
int vu_front_churn(struct vu_front *f, uint32_t i);
/* Send IOTLB entry @i (an update, acknowledged), whether asked or not. */
int vu_front_map(struct vu_front *f, uint32_t i);
/*
 * The backend request channel (iommu), for a test that reads it itself
 * instead of vu_front_serve(); -1 without one.
 */
int vu_front_req_fd(const struct vu_front *f);
void vu_front_stats(struct vu_front *f, struct vu_front_stats *st);
void vu_front_close(struct vu_front *f);

#ifdef __cplusplus
}
#endif

#endif /* IOASID_VHOST_FRONTEND_H */
