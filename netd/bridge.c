// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/*
 * ioasid-netd's MAC-learning bridge (see netd.h for threads).
 *
 * A bridge joins two or more ports. Each frame's source address is
 * learned for the port it came in on; a frame to a learned address goes
 * out of that port alone (or nowhere, when that is the port it came in
 * on: filtered), and a frame to a group address (broadcast, multicast) or
 * to an address not learned goes out of every other port of the bridge
 * (flooded: the first port gets the frame, each other one a copy).
 *
 * The forwarding database is a fixed table of NETD_FDB_SIZE entries,
 * allocated with the bridge: an address hashes to a window of
 * NETD_FDB_PROBE slots, where it is found, or takes a free slot or one
 * not seen for NETD_FDB_AGE_S seconds. A guest that sends from a flood of
 * made-up addresses cannot grow it nor push out addresses still in use,
 * and cannot crowd out the other ports' addresses either:
 *  - each port holds at most its share of the slots (the table over the
 *    number of members); past it, an address of that port is learned
 *    only into a stale slot the port already holds (port_limit counts
 *    the rest);
 *  - the hash is keyed with a random key drawn for each bridge, so a
 *    guest cannot compute addresses that fill another address's window.
 * An address not learned (fdb_full: its window full) is flooded to, which
 * is still correct. Only the forwarding lcore reads or writes the table;
 * the counters are relaxed atomics the control thread reads.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include <rte_cycles.h>
#include <rte_ether.h>
#include <rte_mbuf.h>

#include "netd.h"

static void count(uint64_t *c, uint64_t n)
{
	__atomic_fetch_add(c, n, __ATOMIC_RELAXED);
}

int netd_bridge_new(struct netd *d, const char *name, struct netd_bridge **out)
{
	struct netd_bridge *b;

	if (d->nbridges == NETD_MAX_BRIDGES)
		return -ENOSPC;
	b = calloc(1, sizeof(*b));
	if (!b)
		return -ENOMEM;
	if (getrandom(b->key, sizeof(b->key), 0) != sizeof(b->key)) {
		free(b);
		return -EIO;
	}
	snprintf(b->name, sizeof(b->name), "%s", name);
	d->bridge[d->nbridges++] = b;
	*out = b;
	return 0;
}

void netd_bridges_free(struct netd *d)
{
	for (unsigned int i = 0; i < d->nbridges; i++)
		free(d->bridge[i]);
	d->nbridges = 0;
}

void netd_bridge_leave(struct netd *d, int ix)
{
	struct netd_bridge *b = d->bridge[d->port[ix].bridge];
	unsigned int k = 0;

	for (unsigned int i = 0; i < b->nmembers; i++)
		if (b->member[i] != ix)
			b->member[k++] = b->member[i];
	b->nmembers = k;
	for (unsigned int i = 0; i < NETD_FDB_SIZE; i++)
		if (b->fdb[i].used && b->fdb[i].port == ix) {
			b->fdb[i].used = false;
			__atomic_fetch_sub(&b->st.entries, 1, __ATOMIC_RELAXED);
		}
	b->held[ix] = 0;
	d->port[ix].bridge = -1;
}

/* The address, keyed, through a 64-bit finalizer (MurmurHash3's). */
static uint32_t mac_hash(const struct netd_bridge *b, const uint8_t *mac)
{
	uint64_t v = 0;

	memcpy(&v, mac, 6);
	v = (v ^ b->key[0]) + b->key[1];
	v ^= v >> 33;
	v *= 0xff51afd7ed558ccdULL;
	v ^= v >> 33;
	v *= 0xc4ceb9fe1a85ec53ULL;
	v ^= v >> 33;
	return (uint32_t)v & (NETD_FDB_SIZE - 1);
}

static bool live(const struct netd_fdb_entry *e, uint64_t now, uint64_t age)
{
	return e->used && now - e->seen < age;
}

/* The port @mac was learned on, or -1. */
static int fdb_find(struct netd_bridge *b, const uint8_t *mac, uint64_t now,
		    uint64_t age)
{
	uint32_t h = mac_hash(b, mac);

	for (uint32_t k = 0; k < NETD_FDB_PROBE; k++) {
		struct netd_fdb_entry *e = &b->fdb[(h + k) & (NETD_FDB_SIZE - 1)];

		if (live(e, now, age) && !memcmp(e->mac, mac, 6))
			return e->port;
	}
	return -1;
}

static void fdb_learn(struct netd_bridge *b, const uint8_t *mac, int port,
		      uint64_t now, uint64_t age)
{
	uint32_t h = mac_hash(b, mac), share = NETD_FDB_SIZE / b->nmembers;
	struct netd_fdb_entry *spare = NULL, *own = NULL;

	for (uint32_t k = 0; k < NETD_FDB_PROBE; k++) {
		struct netd_fdb_entry *e = &b->fdb[(h + k) & (NETD_FDB_SIZE - 1)];

		if (e->used && !memcmp(e->mac, mac, 6)) {
			/* A move keeps the slot: it adds nothing to the table. */
			if (live(e, now, age) && e->port != port)
				count(&b->st.moved, 1);
			else if (!live(e, now, age))
				count(&b->st.learned, 1);
			b->held[e->port]--;
			b->held[port]++;
			e->port = (uint16_t)port;
			e->seen = now;
			return;
		}
		if (!spare && !live(e, now, age))
			spare = e;
		if (!own && e->used && e->port == port && !live(e, now, age))
			own = e;
	}
	if (b->held[port] >= share) {
		/* At its share: only a stale slot of its own. */
		if (!own) {
			count(&b->st.port_limit, 1);
			return;
		}
		spare = own;
	}
	if (!spare) {
		count(&b->st.fdb_full, 1);
		return;
	}
	if (!spare->used)
		count(&b->st.entries, 1);
	else
		b->held[spare->port]--;
	b->held[port]++;
	memcpy(spare->mac, mac, 6);
	spare->port = (uint16_t)port;
	spare->seen = now;
	spare->used = true;
	count(&b->st.learned, 1);
}

/* Queue @m for port @to in @out; what does not fit is dropped, counted. */
static void put(struct netd *d, struct netd_out *out, int to,
		struct rte_mbuf *m)
{
	struct netd_out *o = &out[to];

	if (o->n == NETD_BURST * 2) {
		rte_pktmbuf_free(m);
		count(&d->port[to].c.tx_drops, 1);
		return;
	}
	o->m[o->n++] = m;
}

void netd_bridge_burst(struct netd *d, struct netd_port *p,
		       struct rte_mbuf **m, uint16_t n, struct netd_out *out)
{
	struct netd_bridge *b = d->bridge[p->bridge];
	uint64_t now = rte_get_timer_cycles();
	uint64_t age = rte_get_timer_hz() * NETD_FDB_AGE_S;
	int self = (int)(p - d->port);
	int first_out;

	/* Its other members removed: nowhere to go. */
	if (b->nmembers < 2) {
		rte_pktmbuf_free_bulk(m, n);
		count(&p->c.rx_drops, n);
		return;
	}
	/* Flooded frames go to this member, copies to the others. */
	first_out = b->member[0] == self ? b->member[1] : b->member[0];
	for (uint16_t i = 0; i < n; i++) {
		const struct rte_ether_hdr *eh;
		struct rte_mbuf *f = m[i];
		int to;

		if (rte_pktmbuf_data_len(f) < sizeof(*eh)) {
			rte_pktmbuf_free(f);	/* no Ethernet header */
			count(&p->c.rx_drops, 1);
			continue;
		}
		eh = rte_pktmbuf_mtod(f, const struct rte_ether_hdr *);
		/* A group address is never a source: not learned. */
		if (!rte_is_multicast_ether_addr(&eh->src_addr) &&
		    !rte_is_zero_ether_addr(&eh->src_addr))
			fdb_learn(b, eh->src_addr.addr_bytes, self, now, age);
		to = rte_is_multicast_ether_addr(&eh->dst_addr) ? -1 :
		     fdb_find(b, eh->dst_addr.addr_bytes, now, age);
		if (to == self) {
			rte_pktmbuf_free(f);
			count(&b->st.filtered, 1);
			continue;
		}
		if (to >= 0) {
			put(d, out, to, f);
			continue;
		}
		/* Copies first: the original may be dropped once queued. */
		count(&b->st.flooded, 1);
		for (unsigned int k = 0; k < b->nmembers; k++) {
			struct rte_mbuf *c;

			if (b->member[k] == self || b->member[k] == first_out)
				continue;
			c = rte_pktmbuf_copy(f, d->pool, 0, UINT32_MAX);
			if (c)
				put(d, out, b->member[k], c);
			else
				count(&d->port[b->member[k]].c.tx_drops, 1);
		}
		put(d, out, first_out, f);
	}
}
