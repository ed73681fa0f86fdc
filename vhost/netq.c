// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/* A virtio-net queue pair served with an application's packets: netq.h. */
#include <errno.h>
#include <string.h>

#include "netq.h"

/* Packets from the driver: queue 1. */
int netq_serve_tx(struct netq *b, struct vq *vq, bool *notify)
{
	static __thread struct vq_chain c;
	int n = 0, rc;

	while (n < NETQ_BURST && (rc = vq_pop(vq, &c)) == 1) {
		uint64_t len = vq_copy_out(&c, 0, b->rxbuf, sizeof(b->rxbuf));

		if (len <= NETQ_HDR_LEN)
			b->rx_short++;	/* a header and no packet: counted */
		else if (b->app.rx)
			b->app.rx(b->app.arg, b->rxbuf + NETQ_HDR_LEN,
				  (uint32_t)(len - NETQ_HDR_LEN));
		vq_push(vq, c.head, 0);
		b->rx_packets++;
		n++;
	}
	*notify = n && vq_flush(vq);
	return n;
}

/* Packets to the driver: queue 0. */
int netq_serve_rx(struct netq *b, struct vq *vq, bool *notify)
{
	int n = 0, rc;

	while (n < NETQ_BURST && b->app.tx) {
		if (!b->txlen) {
			uint32_t len = b->app.tx(b->app.arg, b->txbuf + NETQ_HDR_LEN,
						 NETQ_PKT_MAX);

			if (!len)
				break;
			memset(b->txbuf, 0, NETQ_HDR_LEN);
			b->txlen = NETQ_HDR_LEN + len;
		}
		if (b->mergeable) {
			rc = vq_rx_mergeable(vq, b->txbuf, b->txlen);
		} else {
			static __thread struct vq_chain c;
			uint16_t one = 1;

			rc = vq_pop(vq, &c);
			if (rc == 1 && c.in_len < b->txlen) {
				vq_unpop(vq, 1);
				rc = -ENOBUFS;	/* no room: wait for a bigger one */
			} else if (rc == 1) {
				memcpy(b->txbuf + 10, &one, 2);
				vq_copy_in(&c, 0, b->txbuf, b->txlen);
				vq_push(vq, c.head, b->txlen);
				rc = 0;
			} else if (rc == 0) {
				rc = -ENOBUFS;
			}
		}
		if (rc)
			break;
		b->txlen = 0;
		b->tx_packets++;
		n++;
	}
	*notify = n && vq_flush(vq);
	return n;
}

