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
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
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

/* ---- naming ports ---- */

bool netd_name_ok(const char *s, size_t len)
{
	if (!len || len >= NETD_NAME_MAX)
		return false;
	for (size_t i = 0; i < len; i++)
		if (!(s[i] == '_' || s[i] == '-' || (s[i] >= '0' && s[i] <= '9') ||
		      (s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' && s[i] <= 'Z')))
			return false;
	return true;
}

int netd_port_find(const struct netd *d, const char *name)
{
	for (unsigned int i = 0; i < d->nports; i++)
		if (d->live[i] && !strcmp(d->port[i].name, name))
			return (int)i;
	return -1;
}

static int why_is(char *why, size_t size, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int why_is(char *why, size_t size, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, size, fmt, ap);
	va_end(ap);
	return -EINVAL;
}

int netd_port_parse(const struct netd *d, enum netd_kind kind,
		    const char *spec, struct netd_port *p, char *why,
		    size_t size)
{
	const char *eq = strchr(spec, '='), *what, *comma;
	size_t wlen;

	if (!eq || !netd_name_ok(spec, (size_t)(eq - spec)))
		return why_is(why, size, "expected NAME=... with NAME of letters, digits, '-' or '_' (at most 31)");
	memset(p, 0, sizeof(*p));
	memcpy(p->name, spec, (size_t)(eq - spec));
	if (netd_port_find(d, p->name) >= 0)
		return why_is(why, size, "a port of that name exists");
	p->kind = kind;
	p->peer = -1;
	p->bridge = -1;
	p->vu_queues = 1;
	what = eq + 1;
	comma = kind == NETD_VHOST ? strchr(what, ',') : NULL;
	wlen = comma ? (size_t)(comma - what) : strlen(what);
	if (!wlen)
		return why_is(why, size, "names nothing");
	if (wlen >= NETD_WHERE_MAX)
		return why_is(why, size, "%s too long (at most %u bytes)",
			      kind == NETD_VHOST ? "socket path" : "device name",
			      NETD_WHERE_MAX - 1);
	memcpy(p->where, what, wlen);
	while (comma) {
		const char *o = comma + 1;
		size_t olen;

		comma = strchr(o, ',');
		olen = comma ? (size_t)(comma - o) : strlen(o);
		if (olen == 5 && !strncmp(o, "iommu", 5)) {
			p->vu_flags |= VU_OFFER_IOMMU;
		} else if (olen == 6 && !strncmp(o, "client", 6)) {
			p->vu_flags |= VU_CLIENT;
		} else if (olen == 4 && !strncmp(o, "poll", 4)) {
			p->vu_flags |= VU_POLL;
		} else if (olen > 7 && !strncmp(o, "queues=", 7)) {
			char *end;
			unsigned long n = strtoul(o + 7, &end, 10);

			if (end != o + olen || o[7] < '1' || o[7] > '9' ||
			    n > VU_MAX_QP)
				return why_is(why, size, "queues=N takes 1 to %u queue pairs",
					      VU_MAX_QP);
			p->vu_queues = (uint32_t)n;
		} else {
			return why_is(why, size, "unknown option (known: iommu, queues=N, client, poll)");
		}
	}
	return 0;
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

		if (!d->live[i] || p->kind != NETD_VHOST)
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

/* At the top of the loop, nothing in hand: wait while the control thread changes ports. */
static void park(struct netd *d)
{
	uint32_t req = NETD_PARK_REQ;

	if (__atomic_load_n(&d->park, __ATOMIC_ACQUIRE) != NETD_PARK_REQ ||
	    !__atomic_compare_exchange_n(&d->park, &req, NETD_PARKED, false,
					 __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE))
		return;
	while (__atomic_load_n(&d->park, __ATOMIC_ACQUIRE) == NETD_PARKED)
		rte_pause();
}

int netd_fwd_loop(void *arg)
{
	static struct netd_out out[NETD_MAX_PORTS];	/* the one lcore's */
	struct netd *d = arg;
	unsigned int idle = 0;
	uint64_t next = 0;

	while (!__atomic_load_n(&d->stop, __ATOMIC_ACQUIRE)) {
		unsigned int work = 0;
		uint64_t t0;

		park(d);
		t0 = rte_rdtsc();
		check_up(d, &next);
		for (unsigned int i = 0; i < d->nports; i++) {
			struct netd_port *p = &d->port[i];
			struct rte_mbuf *m[NETD_BURST];
			uint16_t n;

			if (!d->live[i])
				continue;
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
		if (work) {
			count(&d->busy_cycles, rte_rdtsc() - t0);
			idle = 0;
		}
		else if (++idle > 256)
			usleep(50);
	}
	return 0;
}

/* ---- opening and closing ---- */

static int open_eth(struct netd *d, struct netd_port *p, char *why,
		    size_t size)
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
		snprintf(why, size, "port %s (%s): cannot start: %s", p->name,
			 p->where, strerror(-rc));
		return rc;
	}
	p->eth_started = true;
	/* A cross-connect forwards every frame, whatever its address. */
	rte_eth_promiscuous_enable(p->eth_id);
	return 0;
}

static int open_vhost(struct netd_port *p, unsigned int idx, char *why,
		      size_t size)
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
		snprintf(why, size, "port %s: cannot make its rings: %s",
			 p->name, rte_strerror(rte_errno));
		return -ENOMEM;
	}
	/* A client connects to the front-end's socket: never claim it. */
	rc = p->vu_flags & VU_CLIENT ? 0 : vu_path_claim(p->where);
	if (rc) {
		snprintf(why, size, "port %s: %s: %s", p->name, p->where,
			 vu_path_why(rc));
		return rc;
	}
	rc = vu_backend_start_mq(p->where, apps, p->vu_queues, p->vu_flags,
				 &p->vu);
	if (rc) {
		snprintf(why, size, "port %s: cannot %s %s: %s", p->name,
			 p->vu_flags & VU_CLIENT ? "connect to" : "listen on",
			 p->where, strerror(-rc));
		p->vu = NULL;
	}
	return rc;
}

/*
 * A client-mode port must not connect to this daemon's own sockets (its
 * control socket, a server port's): it would take a control slot or that
 * port's front-end connection and, retrying every 100 ms, keep it.
 * Checked at add (and at start, against the sockets made before): a
 * socket moved to the path later is the operator's doing.
 */
static int self_socket(const struct netd *d, const struct netd_port *p,
		       char *why, size_t size)
{
	struct stat st, own;

	if (!(p->vu_flags & VU_CLIENT) || stat(p->where, &st) ||
	    !S_ISSOCK(st.st_mode))
		return 0;
	if (d->ctl_bound && st.st_dev == d->ctl_dev && st.st_ino == d->ctl_ino)
		return why_is(why, size, "%s is this daemon's control socket",
			      p->where);
	for (unsigned int i = 0; i < d->nports; i++) {
		const struct netd_port *q = &d->port[i];

		if (d->live[i] && q->kind == NETD_VHOST &&
		    !(q->vu_flags & VU_CLIENT) && !stat(q->where, &own) &&
		    own.st_dev == st.st_dev && own.st_ino == st.st_ino)
			return why_is(why, size, "%s is port %s's socket",
				      p->where, q->name);
	}
	return 0;
}

static int port_open(struct netd *d, unsigned int idx, char *why,
		     size_t size)
{
	struct netd_port *p = &d->port[idx];

	p->d = d;
	return p->kind == NETD_ETH ? open_eth(d, p, why, size) :
	       open_vhost(p, idx, why, size);
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

/*
 * What port_open() opened, once the lcore no longer looks at the port:
 * the backend first (it stops calling rx/tx and removes its socket),
 * then the rings and what they hold. An ethdev is stopped, not closed:
 * it can be a port again (netd_ports_close() closes every device).
 */
static void port_close(struct netd_port *p)
{
	if (p->vu) {
		vu_backend_stop(p->vu);
		p->vu = NULL;
	}
	ring_free(&p->from_guest);
	ring_free(&p->to_guest);
	if (p->eth_started) {
		int rc = rte_eth_dev_stop(p->eth_id);

		if (rc)
			fprintf(stderr, "ioasid-netd: port %s (%s): cannot stop: %s\n",
				p->name, p->where, strerror(-rc));
		p->eth_started = false;
	}
	p->up = false;
}

/* Every port, or none: a failure closes what was opened. */
int netd_ports_open(struct netd *d)
{
	char why[NETD_WHY_MAX];
	int rc = 0;

	for (unsigned int i = 0; i < d->nports && !rc; i++) {
		rc = self_socket(d, &d->port[i], why, sizeof(why));
		if (!rc)
			rc = port_open(d, i, why, sizeof(why));
		if (rc)
			fprintf(stderr, "ioasid-netd: %s\n", why);
	}
	if (rc)
		netd_ports_close(d);
	return rc;
}

/* The forwarding lcore has stopped (or never started). */
void netd_ports_close(struct netd *d)
{
	uint16_t id;

	/* Each backend stops before its own rings go (port_close). */
	for (unsigned int i = 0; i < d->nports; i++)
		port_close(&d->port[i]);
	/* A TAP PMD's interface goes with its device, a port's or not. */
	RTE_ETH_FOREACH_DEV(id)
		rte_eth_dev_close(id);
}

/* ---- ports added and removed while the daemon runs ---- */

#define NETD_PARK_MS	1000U

/*
 * Stop the lcore at the top of its loop (nothing in hand); -ETIMEDOUT if
 * it does not answer within NETD_PARK_MS (then nothing may change). The
 * state is RUN between requests: unpark stores it, and a request that
 * gives up either takes its REQ back or finds the lcore parked.
 */
static int fwd_park(struct netd *d)
{
	uint32_t req = NETD_PARK_REQ;

	if (!d->forwarding)
		return 0;
	__atomic_store_n(&d->park, NETD_PARK_REQ, __ATOMIC_SEQ_CST);
	for (unsigned int t = 0; t < NETD_PARK_MS * 10; t++) {
		if (__atomic_load_n(&d->park, __ATOMIC_ACQUIRE) == NETD_PARKED)
			return 0;
		usleep(100);
	}
	if (__atomic_compare_exchange_n(&d->park, &req, NETD_RUN, false,
					__ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE))
		return -ETIMEDOUT;
	return 0;			/* it parked just now */
}

/* And let it go. */
static void fwd_unpark(struct netd *d)
{
	if (d->forwarding)
		__atomic_store_n(&d->park, NETD_RUN, __ATOMIC_RELEASE);
}

int netd_eth_resolve(struct netd_port *p, char *why, size_t size)
{
	if (!rte_eth_dev_get_port_by_name(p->where, &p->eth_id))
		return 0;
	return why_is(why, size, "no DPDK device named %s (give it with EAL --vdev, or -a for a PCI device)",
		      p->where);
}

/* The device @id is a live port's already: its name, else NULL. */
static const char *eth_owner(const struct netd *d, uint16_t id)
{
	for (unsigned int i = 0; i < d->nports; i++)
		if (d->live[i] && d->port[i].kind == NETD_ETH &&
		    d->port[i].eth_id == id)
			return d->port[i].name;
	return NULL;
}

/* Where a new port may go, checked against what exists; -errno if not. */
static int add_check(struct netd *d, struct netd_port *p, const char *xc,
		     const char *br, int *peer, int *bridge, char *why,
		     size_t size)
{
	*peer = -1;
	*bridge = -1;
	if (self_socket(d, p, why, size))
		return -EINVAL;
	if (p->kind == NETD_ETH) {
		const char *owner;

		if (netd_eth_resolve(p, why, size))
			return -EINVAL;
		owner = eth_owner(d, p->eth_id);
		if (owner)
			return why_is(why, size, "device %s is port %s already",
				      p->where, owner);
	}
	if (xc[0]) {
		*peer = netd_port_find(d, xc);
		if (*peer < 0)
			return why_is(why, size, "xconnect: no port named %s", xc);
		if (d->port[*peer].peer >= 0 || d->port[*peer].bridge >= 0)
			return why_is(why, size, "xconnect: %s is %s already", xc,
				      d->port[*peer].peer >= 0 ?
				      "cross-connected" : "in a bridge");
	}
	if (br[0]) {
		for (unsigned int i = 0; i < d->nbridges; i++)
			if (!strcmp(d->bridge[i]->name, br))
				*bridge = (int)i;
		if (*bridge < 0)
			return why_is(why, size, "bridge: no bridge named %s", br);
	}
	return 0;
}

int netd_port_add(struct netd *d, enum netd_kind kind, const char *spec,
		  const char *xconnect, const char *bridge, char *why,
		  size_t size)
{
	const char *opt = kind == NETD_VHOST ? "vhost" : "eth";
	struct netd_port np, *p;
	unsigned int idx;
	int peer, br, rc;
	char what[NETD_WHY_MAX];

	/* A slot no live port holds: a removed port's, or a new one. */
	for (idx = 0; idx < d->nports && d->live[idx]; idx++)
		;
	if (idx == NETD_MAX_PORTS)
		return why_is(why, size, "%s %s: too many ports (at most %u)",
			      opt, spec, NETD_MAX_PORTS);
	rc = netd_port_parse(d, kind, spec, &np, what, sizeof(what));
	if (!rc)
		rc = add_check(d, &np, xconnect, bridge, &peer, &br, what,
			       sizeof(what));
	if (rc) {
		snprintf(why, size, "%s %s: %s", opt, spec, what);
		return rc;
	}
	p = &d->port[idx];
	*p = np;			/* not live: the lcore skips it */
	rc = port_open(d, idx, why, size);
	if (!rc) {
		rc = fwd_park(d);
		if (rc)
			snprintf(why, size, "the forwarding lcore does not answer");
	}
	if (rc) {
		port_close(p);
		memset(p, 0, sizeof(*p));
		return rc;
	}
	if (peer >= 0) {
		p->peer = peer;
		d->port[peer].peer = (int)idx;
	}
	if (br >= 0) {
		struct netd_bridge *b = d->bridge[br];

		p->bridge = br;
		b->member[b->nmembers++] = (int)idx;
	}
	d->live[idx] = true;
	if (idx == d->nports)
		d->nports++;
	fwd_unpark(d);
	/* Whoever reaches the control socket may do this: say each. */
	fprintf(stderr, "ioasid-netd: port %s added (%s %s%s%s)\n", p->name,
		kind == NETD_VHOST ? "vhost" : "eth", spec,
		xconnect[0] ? ", xconnect " : bridge[0] ? ", bridge " : "",
		xconnect[0] ? xconnect : bridge);
	return 0;
}

int netd_port_remove(struct netd *d, const char *name, char *why,
		     size_t size)
{
	int ix = netd_port_find(d, name), rc;
	struct netd_port *p;

	if (ix < 0)
		return why_is(why, size, "remove: no port named %s", name);
	p = &d->port[ix];
	rc = fwd_park(d);
	if (rc) {
		snprintf(why, size, "the forwarding lcore does not answer");
		return rc;
	}
	d->live[ix] = false;
	if (p->peer >= 0)
		d->port[p->peer].peer = -1;
	if (p->bridge >= 0)
		netd_bridge_leave(d, ix);
	fwd_unpark(d);
	/* The lcore no longer looks at it; the backend may, until stopped. */
	port_close(p);
	fprintf(stderr, "ioasid-netd: port %s removed\n", p->name);
	memset(p, 0, sizeof(*p));
	return 0;
}
