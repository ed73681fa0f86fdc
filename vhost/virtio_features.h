/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/*
 * The virtio feature bits of the project, in one place: what the queues
 * (vring.c) and the virtio-net data path (netq.c) implement, and from
 * those, what each device offers and what the test front-end asks for.
 * A new feature is added here once, next to the code that implements it;
 * the vhost-user backend, the VDUSE device, the front-end and the fuzzers
 * all read these names.
 */
#ifndef IOASID_VHOST_VIRTIO_FEATURES_H
#define IOASID_VHOST_VIRTIO_FEATURES_H

#include <linux/virtio_config.h>
#include <linux/virtio_net.h>
#include <linux/virtio_ring.h>

#include "vhost_user_proto.h"

#define VIRTIO_BIT(b)		(1ULL << (b))

/* Ring features a queue implements (vq_init() acts on these only). */
#define VQ_FEATURES		(VIRTIO_BIT(VIRTIO_RING_F_INDIRECT_DESC) | \
				 VIRTIO_BIT(VIRTIO_RING_F_EVENT_IDX) | \
				 VIRTIO_BIT(VIRTIO_F_RING_PACKED))

/* virtio-net as netq.c serves it: virtio 1.x with mergeable rx buffers. */
#define NETQ_FEATURES		(VIRTIO_BIT(VIRTIO_F_VERSION_1) | \
				 VIRTIO_BIT(VIRTIO_NET_F_MRG_RXBUF))

/*
 * The vhost-user backend offers everything the data path implements, plus
 * protocol features; VIRTIO_F_ACCESS_PLATFORM only when it speaks the IOTLB
 * protocol (VU_OFFER_IOMMU).
 */
#define VU_FEATURES		(NETQ_FEATURES | VQ_FEATURES | \
				 VIRTIO_BIT(VU_F_PROTOCOL_FEATURES))
#define VU_FEATURES_IOMMU	VIRTIO_BIT(VIRTIO_F_ACCESS_PLATFORM)
/* With more than one queue pair; the front-end serves the control queue. */
#define VU_FEATURES_MQ		(VIRTIO_BIT(VIRTIO_NET_F_MQ) | \
				 VIRTIO_BIT(VIRTIO_NET_F_CTRL_VQ))

/*
 * The test front-end's driver rings are split ones without indirect
 * descriptors or event index: it asks for virtio-net and protocol
 * features only (and VU_FEATURES_IOMMU when it runs an IOTLB).
 */
#define VU_FRONTEND_FEATURES	(NETQ_FEATURES | \
				 VIRTIO_BIT(VU_F_PROTOCOL_FEATURES))

/*
 * The VDUSE virtio-net device: VDUSE requires ACCESS_PLATFORM; a MAC in
 * its config space; its queues are plain split rings (no VQ_FEATURES).
 */
#define VDUSE_NET_FEATURES	(NETQ_FEATURES | \
				 VIRTIO_BIT(VIRTIO_F_ACCESS_PLATFORM) | \
				 VIRTIO_BIT(VIRTIO_NET_F_MAC))

#endif /* IOASID_VHOST_VIRTIO_FEATURES_H */
