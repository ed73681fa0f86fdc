// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/*
 * ioasid-netd's ports and its forwarding loop (see netd.h for threads).
 *
 * Every port looks the same to the loop: a receive burst and a transmit
 * burst of mbufs. An ethdev's are rte_eth_rx_burst/rte_eth_tx_burst on
 * queue 0. A vhost-user port's are its two rings: the backend's worker
 * thread calls rx() for each frame the driver sent, which copies it into
 * an mbuf and enqueues it on from_guest, and tx() when the driver has
 * room, which dequeues from to_guest. The rings, rather than ethdev calls
 * from the callbacks, because the callbacks come one frame at a time on
 * a thread that is not an lcore and holds the backend's lock: bursts,
 * the mempool's per-lcore cache and the ethdev queues all stay on the one
 * lcore that owns them, and a slow ethdev never stalls the virtqueues.
 *
 * Counting. rx_*: frames the port handed to the daemon; tx_*: frames the
 * port took from it. A frame lost in between is counted once, as rx_drops
 * of the port it came from when it never left the daemon's intake (no
 * mbuf, too long, ring full, no peer), or as tx_drops of the port it was
 * going to when that port refused it (ring full, queue full).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <rte_cycles.h>
#include <rte_ethdev.h>
#include <rte_lcore.h>
#include <rte_mbuf.h>

#include "netd.h"


static void count(uint64_t *c, uint64_t n)
{
	__atomic_fetch_add(c, n, __ATOMIC_RELAXED);
}

void netd_port_counters(const struct netd_port *p, struct netd_counters *c)
{
	c->rx_packets = __atomic_load_n(&p->c.rx_packets, __ATOMIC_RELAXED);
	c->rx_bytes = __atomic_load_n(&p->c.rx_bytes, __ATOMIC_RELAXED);
	c->rx_drops = __atomic_load_n(&p->c.rx_drops, __ATOMIC_RELAXED);
	c->tx_packets = __atomic_load_n(&p->c.tx_packets, __ATOMIC_RELAXED);
	c->tx_bytes = __atomic_load_n(&p->c.tx_bytes, __ATOMIC_RELAXED);
	c->tx_drops = __atomic_load_n(&p->c.tx_drops, __ATOMIC_RELAXED);
}

/* ---- the vhost-user side: the backend's worker thread ---- */

static void vu_rx(void *arg, const uint8_t *pkt, uint32_t len)
{
	struct netd_port *p = arg;
	struct rte_mbuf *m = rte_pktmbuf_alloc(p->d->pool);

	count(&p->c.rx_packets, 1);
	count(&p->c.rx_bytes, len);
	if (!m || len > rte_pktmbuf_tailroom(m)) {
		if (m)
			rte_pktmbuf_free(m);
		count(&p->c.rx_drops, 1);
		return;
	}
	memcpy(rte_pktmbuf_mtod(m, void *), pkt, len);
	m->data_len = (uint16_t)len;
	m->pkt_len = len;
	if (rte_ring_sp_enqueue(p->from_guest, m)) {
		rte_pktmbuf_free(m);
		count(&p->c.rx_drops, 1);
	}
}

static uint32_t vu_tx(void *arg, uint8_t *buf, uint32_t max)
{
	struct netd_port *p = arg;
	struct rte_mbuf *m;
	const void *src;
	uint32_t len;

	if (rte_ring_mc_dequeue(p->to_guest, (void **)&m))
		return 0;
	len = m->pkt_len;
	src = len <= max ? rte_pktmbuf_read(m, 0, len, buf) : NULL;
	if (!src) {
		/* Never with the backend's 64 KiB; counted, not wedged. */
		rte_pktmbuf_free(m);
		count(&p->c.tx_drops, 1);
		return 0;
	}
	/* It copied into buf only if the frame was in segments. */
	if (src != buf)
		memcpy(buf, src, len);
	rte_pktmbuf_free(m);
	count(&p->c.tx_packets, 1);
	count(&p->c.tx_bytes, len);
	return len;
}

/* ---- the forwarding lcore ---- */

static uint64_t burst_bytes(struct rte_mbuf **m, uint16_t n)
{
	uint64_t b = 0;

	for (uint16_t i = 0; i < n; i++)
		b += m[i]->pkt_len;
	return b;
}

static uint16_t port_rx(struct netd_port *p, struct rte_mbuf **m)
{
	uint16_t n;

	if (p->kind == NETD_VHOST)
		return (uint16_t)rte_ring_sc_dequeue_burst(p->from_guest,
							   (void **)m,
							   NETD_BURST, NULL);
	n = rte_eth_rx_burst(p->eth_id, 0, m, NETD_BURST);
	if (n) {
		count(&p->c.rx_packets, n);
		count(&p->c.rx_bytes, burst_bytes(m, n));
	}
	return n;
}

/* The frames @p took; the caller frees the rest. */
static uint16_t port_tx(struct netd_port *p, struct rte_mbuf **m, uint16_t n)
{
	if (p->kind == NETD_VHOST) {
		unsigned int held;

		if (!p->up)
			return 0;
		/*
		 * A driver that stops taking frames (a hostile or paused
		 * guest) must not hold the mbufs every port draws from: at
		 * most NETD_TO_GUEST_MAX wait for it, the rest are dropped.
		 */
		held = rte_ring_count(p->to_guest);
		if (held >= NETD_TO_GUEST_MAX)
			return 0;
		if (n > NETD_TO_GUEST_MAX - held)
			n = (uint16_t)(NETD_TO_GUEST_MAX - held);
		return (uint16_t)rte_ring_sp_enqueue_burst(p->to_guest,
							   (void **)m, n, NULL);
	}
	return rte_eth_tx_burst(p->eth_id, 0, m, n);
}

/*
 * Whether each vhost-user port has a driver, every 10 ms: frames for a
 * port nobody serves are dropped (tx_drops) instead of waiting in its
 * ring for the next front-end, and when its driver goes, what its ring
 * still holds is dropped too: a new driver must not get an old one's
 * frames. (to_guest is multi-consumer for this: the worker and, here,
 * the lcore dequeue.)
 */
static void check_up(struct netd *d, uint64_t *next)
{
	uint64_t now = rte_get_timer_cycles();
	struct vu_stats st;

	if (now < *next)
		return;
	*next = now + rte_get_timer_hz() / 100;
	for (unsigned int i = 0; i < d->nports; i++) {
		struct netd_port *p = &d->port[i];

		if (p->kind != NETD_VHOST)
			continue;
		vu_backend_stats(p->vu, &st);
		if (p->up && !st.running) {
			struct rte_mbuf *m[NETD_BURST];
			unsigned int n;

			while ((n = rte_ring_mc_dequeue_burst(p->to_guest,
							      (void **)m,
							      NETD_BURST, NULL))) {
				rte_pktmbuf_free_bulk(m, n);
				count(&p->c.tx_drops, n);
			}
		}
		p->up = st.running > 0;
	}
}

/* @n frames out of @q; what it refuses is dropped and counted. */
static void send_burst(struct netd_port *q, struct rte_mbuf **m, uint16_t n)
{
	/* The PMD owns what it sent: measure first. */
	uint64_t bytes = burst_bytes(m, n);
	uint16_t sent = port_tx(q, m, n);

	if (q->kind == NETD_ETH && sent) {
		count(&q->c.tx_packets, sent);
		count(&q->c.tx_bytes, sent == n ? bytes :
			  bytes - burst_bytes(m + sent, n - sent));
	}
	if (sent < n) {
		rte_pktmbuf_free_bulk(m + sent, n - sent);
		count(&q->c.tx_drops, n - sent);
	}
}

int netd_fwd_loop(void *arg)
{
	static struct netd_out out[NETD_MAX_PORTS];	/* the one lcore's */
	struct netd *d = arg;
	unsigned int idle = 0;
	uint64_t next = 0;

	while (!__atomic_load_n(&d->stop, __ATOMIC_ACQUIRE)) {
		unsigned int work = 0;

		check_up(d, &next);
		for (unsigned int i = 0; i < d->nports; i++) {
			struct netd_port *p = &d->port[i];
			struct rte_mbuf *m[NETD_BURST];
			uint16_t n;

			n = port_rx(p, m);
			if (!n)
				continue;
			work += n;
			if (p->bridge >= 0) {
				netd_bridge_burst(d, p, m, n, out);
				for (unsigned int k = 0; k < d->nports; k++) {
					if (!out[k].n)
						continue;
					send_burst(&d->port[k], out[k].m,
						   out[k].n);
					out[k].n = 0;
				}
				continue;
			}
			if (p->peer < 0) {
				rte_pktmbuf_free_bulk(m, n);
				count(&p->c.rx_drops, n);
				continue;
			}
			send_burst(&d->port[p->peer], m, n);
		}
		/* On a shared machine an idle lcore gives its CPU back. */
		if (work)
			idle = 0;
		else if (++idle > 256)
			usleep(50);
	}
	return 0;
}

/* ---- opening and closing ---- */

static int open_eth(struct netd *d, struct netd_port *p)
{
	struct rte_eth_conf conf;
	int socket = rte_eth_dev_socket_id(p->eth_id), rc;

	memset(&conf, 0, sizeof(conf));
	if (socket < 0)
		socket = (int)rte_socket_id();
	rc = rte_eth_dev_configure(p->eth_id, 1, 1, &conf);
	if (!rc)
		rc = rte_eth_rx_queue_setup(p->eth_id, 0, NETD_ETH_DESC,
					    (unsigned int)socket, NULL, d->pool);
	if (!rc)
		rc = rte_eth_tx_queue_setup(p->eth_id, 0, NETD_ETH_DESC,
					    (unsigned int)socket, NULL);
	if (!rc)
		rc = rte_eth_dev_start(p->eth_id);
	if (rc) {
		fprintf(stderr, "ioasid-netd: port %s (%s): cannot start: %s\n",
			p->name, p->where, strerror(-rc));
		return rc;
	}
	p->eth_started = true;
	/* A cross-connect forwards every frame, whatever its address. */
	rte_eth_promiscuous_enable(p->eth_id);
	return 0;
}

static int open_vhost(struct netd_port *p, unsigned int idx)
{
	struct vu_app app = { .rx = vu_rx, .tx = vu_tx, .arg = p };
	struct vu_app apps[VU_MAX_QP];
	char rname[RTE_RING_NAMESIZE];
	int rc;

	/*
	 * Every pair feeds the same rings: the backend serves its pairs on
	 * one worker thread, so they keep one producer and one consumer.
	 */
	for (uint32_t q = 0; q < VU_MAX_QP; q++)
		apps[q] = app;
	snprintf(rname, sizeof(rname), "netd_fg%u", idx);
	p->from_guest = rte_ring_create(rname, NETD_RING_SIZE, SOCKET_ID_ANY,
					RING_F_SP_ENQ | RING_F_SC_DEQ);
	snprintf(rname, sizeof(rname), "netd_tg%u", idx);
	p->to_guest = rte_ring_create(rname, NETD_RING_SIZE, SOCKET_ID_ANY,
				      RING_F_SP_ENQ);
	if (!p->from_guest || !p->to_guest) {
		fprintf(stderr, "ioasid-netd: port %s: cannot make its rings: %s\n",
			p->name, rte_strerror(rte_errno));
		return -ENOMEM;
	}
	/* A client connects to the front-end's socket: never claim it. */
	rc = p->vu_flags & VU_CLIENT ? 0 : vu_path_claim(p->where);
	if (rc) {
		fprintf(stderr, "ioasid-netd: port %s: %s: %s\n", p->name,
			p->where, vu_path_why(rc));
		return rc;
	}
	rc = vu_backend_start_mq(p->where, apps, p->vu_queues, p->vu_flags,
				 &p->vu);
	if (rc) {
		fprintf(stderr, "ioasid-netd: port %s: cannot %s %s: %s\n",
			p->name, p->vu_flags & VU_CLIENT ? "connect to" :
			"listen on", p->where, strerror(-rc));
		p->vu = NULL;
	}
	return rc;
}

/* Every port, or none: a failure closes what was opened. */
int netd_ports_open(struct netd *d)
{
	int rc = 0;

	for (unsigned int i = 0; i < d->nports && !rc; i++) {
		struct netd_port *p = &d->port[i];

		p->d = d;
		rc = p->kind == NETD_ETH ? open_eth(d, p) : open_vhost(p, i);
	}
	if (rc)
		netd_ports_close(d);
	return rc;
}

static void ring_free(struct rte_ring **r)
{
	struct rte_mbuf *m;

	if (!*r)
		return;
	while (!rte_ring_dequeue(*r, (void **)&m))
		rte_pktmbuf_free(m);
	rte_ring_free(*r);
	*r = NULL;
}

/* The forwarding lcore has stopped; the backends stop here first. */
void netd_ports_close(struct netd *d)
{
	for (unsigned int i = 0; i < d->nports; i++) {
		struct netd_port *p = &d->port[i];

		if (p->vu) {
			vu_backend_stop(p->vu);	/* removes the socket */
			p->vu = NULL;
		}
	}
	for (unsigned int i = 0; i < d->nports; i++) {
		struct netd_port *p = &d->port[i];

		ring_free(&p->from_guest);
		ring_free(&p->to_guest);
		if (p->eth_started) {
			rte_eth_dev_stop(p->eth_id);
			p->eth_started = false;
		}
		if (p->kind == NETD_ETH && !p->eth_closed) {
			/* A TAP PMD's interface goes with it. */
			rte_eth_dev_close(p->eth_id);
			p->eth_closed = true;
		}
	}
}
