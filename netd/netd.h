/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/*
 * ioasid-netd's shared state: its ports, their counters and the
 * forwarding loop, between main.c (arguments and lifetime), ports.c
 * (ports and forwarding) and control.c (the control socket). Private to
 * netd/.
 *
 * Threads. The EAL main thread runs the control socket and waits for a
 * signal; one EAL worker lcore forwards; each vhost-user port has the
 * backend's two threads, whose worker calls the port's callbacks. A
 * vhost-user port and the lcore meet only in two rte_rings of mbufs
 * (from_guest: worker to lcore, single producer and consumer; to_guest:
 * lcore to worker, single producer, and the lcore also empties it when
 * the driver goes). Counters are written with relaxed atomic
 * adds by whichever thread saw the event and read the same way; a reset
 * only moves the control thread's baseline, so no writer is disturbed.
 */
#ifndef IOASID_NETD_H
#define IOASID_NETD_H

#include <stdbool.h>
#include <stdint.h>

#include <rte_mempool.h>
#include <rte_ring.h>

#include "vhost_user.h"

#define NETD_MAX_PORTS	16U
#define NETD_NAME_MAX	32U		/* with the NUL */
#define NETD_WHERE_MAX	108U		/* a UNIX socket path, with the NUL */
#define NETD_BURST	32U
#define NETD_RING_SIZE	1024U
#define NETD_ETH_DESC	512U

enum netd_kind {
	NETD_VHOST,
	NETD_ETH,
};

/* Frames a port received or sent; *_drops: lost on the way, counted once. */
struct netd_counters {
	uint64_t rx_packets, rx_bytes, rx_drops;
	uint64_t tx_packets, tx_bytes, tx_drops;
};

struct netd_port {
	char name[NETD_NAME_MAX];
	enum netd_kind kind;
	char where[NETD_WHERE_MAX];	/* socket path, or DPDK device name */
	int peer;			/* port index, -1: not connected */
	struct netd *d;
	/* vhost-user */
	uint32_t vu_flags;
	uint32_t vu_queues;		/* queue pairs offered, 1 to VU_MAX_QP */
	struct vu_backend *vu;
	struct rte_ring *from_guest, *to_guest;
	bool up;			/* the lcore's: a driver is there */
	/* ethdev */
	uint16_t eth_id;
	bool eth_started, eth_closed;
	struct netd_counters c;		/* relaxed atomics, any thread */
	struct netd_counters base;	/* control thread: at the last reset */
};

struct netd {
	struct netd_port port[NETD_MAX_PORTS];
	unsigned int nports;
	struct rte_mempool *pool;
	unsigned int fwd_lcore;
	bool stop;			/* atomic: the lcore returns */
};

/* ports.c */
int netd_ports_open(struct netd *d);
int netd_fwd_loop(void *arg);
void netd_ports_close(struct netd *d);
void netd_port_counters(const struct netd_port *p, struct netd_counters *c);
/* Socket paths are claimed with vhost's vu_path_claim() (vhost_user.h). */

/* control.c */
struct netd_ctl;
/* Clients get @idle_ms for each request (docs/netd.md). */
int netd_ctl_open(struct netd *d, const char *path, unsigned int idle_ms,
		  struct netd_ctl **out);
/* Serve requests for at most @ms milliseconds. */
void netd_ctl_poll(struct netd_ctl *ctl, int ms);
void netd_ctl_close(struct netd_ctl *ctl);

#endif /* IOASID_NETD_H */
