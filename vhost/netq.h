/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/*
 * Serving a virtio-net queue pair with an application's packets (struct
 * vu_app): the transmit queue's packets to app->rx() without their
 * virtio-net header, app->tx()'s packets into the receive queue with one
 * (mergeable buffers when negotiated). Shared by the vhost-user backend
 * and the VDUSE device. Called on the thread that owns both queues.
 */
#ifndef IOASID_VHOST_NETQ_H
#define IOASID_VHOST_NETQ_H

#include <stdbool.h>
#include <stdint.h>

#include "vhost_user.h"
#include "vring.h"

#define NETQ_HDR_LEN	12		/* virtio_net_hdr_mrg_rxbuf */
#define NETQ_PKT_MAX	65536
#define NETQ_BURST	32

struct netq {
	struct vu_app app;
	bool mergeable;			/* VIRTIO_NET_F_MRG_RXBUF */
	uint64_t rx_packets;		/* from the driver */
	uint64_t rx_short;		/* of them, no longer than a header */
	uint64_t tx_packets;		/* to the driver */
	uint32_t txlen;			/* a packet waiting for room */
	uint8_t txbuf[NETQ_HDR_LEN + NETQ_PKT_MAX];
	uint8_t rxbuf[NETQ_HDR_LEN + NETQ_PKT_MAX];
};

/*
 * One burst on the driver's transmit queue, or on its receive queue.
 * Returns the packets moved; *notify says whether the driver asked to
 * be told.
 */
int netq_serve_tx(struct netq *n, struct vq *q, bool *notify);
int netq_serve_rx(struct netq *n, struct vq *q, bool *notify);

#endif /* IOASID_VHOST_NETQ_H */
