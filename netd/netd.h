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
#include <sys/types.h>

#include <rte_mbuf.h>
#include <rte_mempool.h>
#include <rte_ring.h>

#include "vhost_user.h"

#define NETD_MAX_PORTS	16U
#define NETD_NAME_MAX	32U		/* with the NUL */
#define NETD_WHERE_MAX	108U		/* a UNIX socket path, with the NUL */
#define NETD_BURST	32U
#define NETD_RING_SIZE	1024U
/*
 * Frames a vhost-user port may hold for its driver (in to_guest): a
 * driver that stops taking them holds no more of the shared pool.
 */
#define NETD_TO_GUEST_MAX 256U
#define NETD_ETH_DESC	512U
#define NETD_MAX_BRIDGES 8U		/* two ports each at least */
#define NETD_FDB_SIZE	4096U		/* addresses a bridge learns, a power of 2 */
#define NETD_FDB_PROBE	8U		/* slots an address may take */
#define NETD_FDB_AGE_S	300U		/* an address not seen since is forgotten */

enum netd_park {
	NETD_RUN = 0,
	NETD_PARK_REQ = 1,
	NETD_PARKED = 2,
};

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
	int bridge;			/* bridge index, -1: in none */
	struct netd *d;
	/* vhost-user */
	uint32_t vu_flags;
	uint32_t vu_queues;		/* queue pairs offered, 1 to VU_MAX_QP */
	struct vu_backend *vu;
	struct rte_ring *from_guest, *to_guest;
	bool up;			/* the lcore's: a driver is there */
	/* ethdev */
	uint16_t eth_id;
	bool eth_started;
	struct netd_counters c;		/* relaxed atomics, any thread */
	struct netd_counters base;	/* control thread: at the last reset */
};

/* A bridge's counters since the daemon started: relaxed atomics. */
struct netd_bridge_stats {
	uint64_t entries;		/* table slots taken (a port that leaves
					 * gives its back) */
	uint64_t learned, moved;	/* new addresses; ones seen on another port */
	uint64_t flooded, filtered;	/* frames to every port; to their own */
	uint64_t fdb_full;		/* addresses not learned: window full */
	uint64_t port_limit;		/* not learned: their port holds its share */
};

struct netd_fdb_entry {
	uint8_t mac[6];
	uint16_t port;
	bool used;
	uint64_t seen;			/* timer cycles */
};

struct netd_bridge {
	char name[NETD_NAME_MAX];
	int member[NETD_MAX_PORTS];	/* port indexes, in the order given */
	unsigned int nmembers;
	struct netd_bridge_stats st;
	uint64_t key[2];		/* the table's hash key, random */
	/* The lcore's alone: the table, and the slots each port holds. */
	uint32_t held[NETD_MAX_PORTS];
	struct netd_fdb_entry fdb[NETD_FDB_SIZE];
};

/* Frames for one port, gathered over one received burst. */
struct netd_out {
	struct rte_mbuf *m[NETD_BURST * 2];
	uint16_t n;
};

struct netd {
	/*
	 * Ports are slots. live[i]: slot i is a port; written only while
	 * the lcore is parked (below), and the lcore never reads a slot that
	 * is not live, so the control thread fills or empties one freely.
	 * A removed port is unlinked first (peer, bridge, learned addresses)
	 * so nothing names its index when a new port takes the slot.
	 * nports: the slots ever used.
	 */
	struct netd_port port[NETD_MAX_PORTS];
	bool live[NETD_MAX_PORTS];
	unsigned int nports;
	struct netd_bridge *bridge[NETD_MAX_BRIDGES];
	unsigned int nbridges;
	struct rte_mempool *pool;
	unsigned int fwd_lcore;
	bool stop;			/* atomic: the lcore returns */
	bool forwarding;		/* the lcore runs the loop */
	bool ctl_bound;			/* ctl_dev, ctl_ino: the control socket */
	dev_t ctl_dev;
	ino_t ctl_ino;
	uint64_t busy_cycles;		/* relaxed atomic: the lcore's passes
					 * that moved frames, TSC cycles */
	/*
	 * Parking (ports.c): one atomic state. The control thread moves it
	 * RUN to REQ, the lcore REQ to PARKED at the top of its loop, and
	 * the control thread changes ports, peers or bridges only in PARKED,
	 * then stores RUN. A control thread that gives up moves REQ back to
	 * RUN; if that fails, the lcore had parked.
	 */
	uint32_t park;			/* enum netd_park, atomic */
};

/* ports.c */
#define NETD_WHY_MAX	320U		/* a reason, for stderr or a reply */
bool netd_name_ok(const char *s, size_t len);
/* The live port named @name, or -1. */
int netd_port_find(const struct netd *d, const char *name);
/*
 * NAME=WHAT[,opt...], the spec of a port of @kind (--vhost, --eth, the
 * control socket's add), into @p: 0, or -EINVAL with the reason in @why
 * (no NAME, a NAME in use, no WHAT, an unknown option).
 */
/* An ethdev port's DPDK device into p->eth_id: 0, or -EINVAL and @why. */
int netd_eth_resolve(struct netd_port *p, char *why, size_t size);
int netd_port_parse(const struct netd *d, enum netd_kind kind,
		    const char *spec, struct netd_port *p, char *why,
		    size_t size);
/*
 * While the daemon runs (the control thread): a port of @kind from
 * @spec, cross-connected to the port @xconnect or joining the bridge
 * @bridge (either may be "": neither), opened and then made live; or
 * the live port @name unlinked, then closed (its socket removed, its
 * frames freed). 0, or a negative errno with the reason in @why and
 * nothing changed.
 */
int netd_port_add(struct netd *d, enum netd_kind kind, const char *spec,
		  const char *xconnect, const char *bridge, char *why,
		  size_t size);
int netd_port_remove(struct netd *d, const char *name, char *why,
		     size_t size);
int netd_ports_open(struct netd *d);
int netd_fwd_loop(void *arg);
void netd_ports_close(struct netd *d);
void netd_port_counters(const struct netd_port *p, struct netd_counters *c);
/* Socket paths are claimed with vhost's vu_path_claim() (vhost_user.h). */

/* bridge.c */
int netd_bridge_new(struct netd *d, const char *name, struct netd_bridge **out);
void netd_bridges_free(struct netd *d);
/* Port @ix leaves its bridge: its learned addresses are forgotten. */
void netd_bridge_leave(struct netd *d, int ix);
/* Learn from and route @n frames @p received, into @out (per port). */
void netd_bridge_burst(struct netd *d, struct netd_port *p,
		       struct rte_mbuf **m, uint16_t n, struct netd_out *out);

/* control.c */
struct netd_ctl;
/* Clients get @idle_ms for each request (docs/netd.md). */
int netd_ctl_open(struct netd *d, const char *path, unsigned int idle_ms,
		  struct netd_ctl **out);
/* Serve requests for at most @ms milliseconds. */
void netd_ctl_poll(struct netd_ctl *ctl, int ms);
void netd_ctl_close(struct netd_ctl *ctl);

#endif /* IOASID_NETD_H */
