/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/*
 * A userspace vDPA virtio-net device on VDUSE (/dev/vduse/control, Linux
 * 5.15 and later), the first piece of the vDPA adaptor work: it creates
 * the device, answers the kernel's requests (status, queue state, IOTLB
 * updates) on its own thread, and looks translations up the way VDUSE
 * gives them, a file and an offset per IOVA range (VDUSE_IOTLB_GET_FD),
 * mapped into this process. Bind it to a vDPA bus driver with the vdpa
 * tool ("vdpa dev add name NAME mgmtdev vduse"). Needs root.
 *
 * Data path: when the driver sets DRIVER_OK, a worker thread serves the
 * queue pair (vhost/netq.c over vhost/vring.c) with the application's
 * packets. Every guest address goes through a fast-path shadow that is
 * filled on demand: a miss looks the range up with VDUSE_IOTLB_GET_FD and
 * maps it; an IOTLB update request from the kernel unmaps the range from
 * the shadow (waiting for the worker's grace period) before it is
 * answered, so the device never uses a translation the kernel withdrew.
 */
#ifndef IOASID_VDUSE_NET_H
#define IOASID_VDUSE_NET_H

#include <stdint.h>

#include "vhost_user.h"

struct vduse_net;

struct vduse_net_stats {
	uint64_t requests;
	uint64_t iotlb_updates;		/* VDUSE_UPDATE_IOTLB requests */
	uint64_t status_changes;
	uint8_t status;			/* the last status the driver set */
	uint64_t rx_packets, tx_packets;	/* from / to the driver */
	uint64_t misses;		/* translations fetched on demand */
	uint32_t broken;		/* queues broken (see stderr) */
	uint32_t running;
};

/* @app may be NULL (control side only). */
int vduse_net_create(const char *name, const struct vu_app *app,
		     struct vduse_net **out);
/*
 * The host address of IOVA @iova as the device can reach it now, and in
 * *len the bytes mapped from there in that range; NULL (errno set) if the
 * device has no mapping for it. Every call maps the range afresh.
 */
void *vduse_net_lookup(struct vduse_net *n, uint64_t iova, uint64_t *len);
void vduse_net_stats(struct vduse_net *n, struct vduse_net_stats *st);
/* Stop the thread and destroy the device (after "vdpa dev del"). */
int vduse_net_destroy(struct vduse_net *n);

#endif /* IOASID_VDUSE_NET_H */
