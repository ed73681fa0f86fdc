// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/*
 * ioasid-netd's control socket: a UNIX stream socket, one JSON request a
 * line in (ctl_parse.h), one JSON object a line out.
 *
 * Anyone who can reach the socket is a client, so every client is
 * bounded before any work: at most NETD_CTL_CLIENTS at once, a request
 * line of at most NETD_CTL_LINE_MAX bytes (a longer one is answered with
 * an error and the client closed), a deadline (the idle limit, 5 s by
 * default, from its connection or its last answer) for its next request
 * to be complete, and a reply the client does not read (the socket's
 * buffer full) closes it too: nothing a client does makes the daemon wait
 * or grow. A new connection always gets a slot: with every slot taken,
 * the client nearest its deadline (idle longest) is told there are too
 * many clients and closed, so clients that connect and say nothing cannot
 * keep the operator out. The socket is made with mode 0600 (umask around
 * bind); the daemon's owner chooses who else may reach it.
 *
 * Everything here runs on the EAL main thread, between signals.
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
#include <time.h>
#include <unistd.h>

#include <rte_cycles.h>

#include "ctl_parse.h"
#include "netd.h"

#define NETD_CTL_CLIENTS	8U
#define NETD_CTL_ACCEPT_RETRY_MS	100U
#define NETD_CTL_REPLY_MAX	16384U

struct client {
	int fd;
	uint32_t len;			/* bytes of an unfinished line */
	uint64_t since_ms;		/* connected, or last answered */
	bool answered;			/* has had a reply */
	char line[NETD_CTL_LINE_MAX];
};

struct netd_ctl {
	struct netd *d;
	int listen_fd;
	char path[NETD_WHERE_MAX];
	dev_t dev;			/* the socket file bind() made */
	ino_t ino;
	uint64_t idle_ms;		/* a client's time for a request */
	uint64_t timed_out, evicted;	/* clients closed for either */
	uint64_t accept_failures;	/* accept() failed, not for EAGAIN */
	uint64_t accept_after_ms;	/* no accept() before then */
	bool accept_failing;		/* said so, until one succeeds */
	struct client c[NETD_CTL_CLIENTS];
};

/* A reply being built; once it overflows it stays overflowed. */
struct reply {
	char buf[NETD_CTL_REPLY_MAX];
	size_t len;
	bool over;
};

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static void put(struct reply *r, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (r->over)
		return;
	va_start(ap, fmt);
	n = vsnprintf(r->buf + r->len, sizeof(r->buf) - r->len, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= sizeof(r->buf) - r->len)
		r->over = true;
	else
		r->len += (size_t)n;
}

static uint64_t rd(const uint64_t *c)
{
	return __atomic_load_n(c, __ATOMIC_RELAXED);
}

static void put_str(struct reply *r, const char *s)
{
	char q[2 * NETD_WHERE_MAX * 3 + 3];

	if (netd_json_str(q, sizeof(q), s) < 0)
		r->over = true;
	else
		put(r, "%s", q);
}

static const char *kind_name(const struct netd_port *p)
{
	return p->kind == NETD_VHOST ? "vhost-user" : "ethdev";
}

static void sub(struct netd_counters *c, const struct netd_counters *b)
{
	c->rx_packets -= b->rx_packets;
	c->rx_bytes -= b->rx_bytes;
	c->rx_drops -= b->rx_drops;
	c->tx_packets -= b->tx_packets;
	c->tx_bytes -= b->tx_bytes;
	c->tx_drops -= b->tx_drops;
}

static void reply_ports(struct netd *d, struct reply *r)
{
	bool first = true;

	put(r, "{\"ports\":[");
	for (unsigned int i = 0; i < d->nports; i++) {
		struct netd_port *p = &d->port[i];

		if (!d->live[i])
			continue;
		put(r, "%s{\"name\":", first ? "" : ",");
		first = false;
		put_str(r, p->name);
		put(r, ",\"kind\":\"%s\",\"%s\":", kind_name(p),
		    p->kind == NETD_VHOST ? "socket" : "device");
		put_str(r, p->where);
		put(r, ",\"peer\":");
		if (p->peer >= 0)
			put_str(r, d->port[p->peer].name);
		else
			put(r, "null");
		if (p->bridge >= 0) {
			put(r, ",\"bridge\":");
			put_str(r, d->bridge[p->bridge]->name);
		}
		if (p->kind == NETD_VHOST) {
			struct vu_stats st;

			vu_backend_stats(p->vu, &st);
			put(r, ",\"mode\":\"%s\",\"iommu\":%s,\"queues\":%u,\"connected\":%s",
			    p->vu_flags & VU_CLIENT ? "client" : "server",
			    p->vu_flags & VU_OFFER_IOMMU ? "true" : "false",
			    st.pairs, st.running ? "true" : "false");
		}
		put(r, "}");
	}
	put(r, "]}\n");
}

static unsigned int nclients(const struct netd_ctl *ctl)
{
	unsigned int n = 0;

	for (unsigned int i = 0; i < NETD_CTL_CLIENTS; i++)
		n += ctl->c[i].fd >= 0;
	return n;
}

static void reply_stats(struct netd_ctl *ctl, struct reply *r)
{
	struct netd *d = ctl->d;
	bool first = true;

	put(r, "{\"ports\":[");
	for (unsigned int i = 0; i < d->nports; i++) {
		struct netd_port *p = &d->port[i];
		struct netd_counters c;

		if (!d->live[i])
			continue;
		netd_port_counters(p, &c);
		sub(&c, &p->base);
		put(r, "%s{\"name\":", first ? "" : ",");
		first = false;
		put_str(r, p->name);
		put(r, ",\"rx_packets\":%llu,\"rx_bytes\":%llu,\"rx_drops\":%llu,"
		    "\"tx_packets\":%llu,\"tx_bytes\":%llu,\"tx_drops\":%llu",
		    (unsigned long long)c.rx_packets,
		    (unsigned long long)c.rx_bytes,
		    (unsigned long long)c.rx_drops,
		    (unsigned long long)c.tx_packets,
		    (unsigned long long)c.tx_bytes,
		    (unsigned long long)c.tx_drops);
		if (p->kind == NETD_VHOST) {
			struct vu_stats st;

			/* The backend's own, since it started: not reset. */
			vu_backend_stats(p->vu, &st);
			put(r, ",\"connections\":%llu,\"connect_failures\":%llu,"
			    "\"running\":%u,\"broken\":%u,"
			    "\"iotlb_updates\":%llu,\"iotlb_invalidates\":%llu,"
			    "\"iotlb_misses\":%llu,\"worker_busy_ns\":%llu",
			    (unsigned long long)st.connections,
			    (unsigned long long)st.connect_failures, st.running,
			    st.broken, (unsigned long long)st.iotlb_updates,
			    (unsigned long long)st.iotlb_invalidates,
			    (unsigned long long)st.misses,
			    (unsigned long long)st.busy_ns);
			/* Per queue pair, from the guest and to it. */
			put(r, ",\"queues\":[");
			for (uint32_t q = 0; q < st.pairs && q < VU_MAX_QP; q++)
				put(r, "%s{\"from_guest\":%llu,\"to_guest\":%llu}",
				    q ? "," : "",
				    (unsigned long long)st.pair_rx[q],
				    (unsigned long long)st.pair_tx[q]);
			put(r, "]");
		}
		put(r, "}");
	}
	put(r, "],\"bridges\":[");
	for (unsigned int i = 0; i < d->nbridges; i++) {
		const struct netd_bridge_stats *s = &d->bridge[i]->st;

		put(r, "%s{\"name\":", i ? "," : "");
		put_str(r, d->bridge[i]->name);
		put(r, ",\"entries\":%llu,\"learned\":%llu,\"moved\":%llu,"
		    "\"flooded\":%llu,\"filtered\":%llu,\"fdb_full\":%llu,"
		    "\"port_limit\":%llu}",
		    (unsigned long long)rd(&s->entries),
		    (unsigned long long)rd(&s->learned),
		    (unsigned long long)rd(&s->moved),
		    (unsigned long long)rd(&s->flooded),
		    (unsigned long long)rd(&s->filtered),
		    (unsigned long long)rd(&s->fdb_full),
		    (unsigned long long)rd(&s->port_limit));
	}
	put(r, "],\"fwd\":{\"busy_cycles\":%llu,\"tsc_hz\":%llu}",
	    (unsigned long long)rd(&d->busy_cycles),
	    (unsigned long long)rte_get_tsc_hz());
	put(r, ",\"control\":{\"clients\":%u,\"timed_out\":%llu,"
	    "\"evicted\":%llu,\"accept_failures\":%llu}}\n", nclients(ctl),
	    (unsigned long long)ctl->timed_out,
	    (unsigned long long)ctl->evicted,
	    (unsigned long long)ctl->accept_failures);
}

static void client_close(struct client *c)
{
	close(c->fd);
	c->fd = -1;
	c->len = 0;
}

/* All of it or nothing more: a client that does not read is dropped. */
static bool send_all(struct client *c, const char *buf, size_t len)
{
	ssize_t n = send(c->fd, buf, len, MSG_DONTWAIT | MSG_NOSIGNAL);

	if (n < 0 || (size_t)n != len) {
		client_close(c);
		return false;
	}
	return true;
}

static bool send_error(struct client *c, const char *why)
{
	struct reply r = { .len = 0 };

	put(&r, "{\"error\":");
	put_str(&r, why);
	put(&r, "}\n");
	return send_all(c, r.buf, r.len);
}

static bool request(struct netd_ctl *ctl, struct client *c, const char *line,
		    size_t len)
{
	static struct reply r;
	static struct netd_ctl_req req;
	char why[NETD_WHY_MAX];
	const char *bad = NULL;
	struct netd *d = ctl->d;
	int cmd = netd_ctl_parse(line, len, &req, &bad);

	r.len = 0;
	r.over = false;
	switch (cmd) {
	case NETD_CMD_STATS:
		reply_stats(ctl, &r);
		break;
	case NETD_CMD_PORTS:
		reply_ports(d, &r);
		break;
	case NETD_CMD_RESET:
		for (unsigned int i = 0; i < d->nports; i++)
			if (d->live[i])
				netd_port_counters(&d->port[i], &d->port[i].base);
		put(&r, "{\"ok\":true}\n");
		break;
	case NETD_CMD_ADD:
		if (netd_port_add(d, req.vhost[0] ? NETD_VHOST : NETD_ETH,
				  req.vhost[0] ? req.vhost : req.eth,
				  req.xconnect, req.bridge, why, sizeof(why)))
			return send_error(c, why);
		put(&r, "{\"ok\":true}\n");
		break;
	case NETD_CMD_REMOVE:
		if (netd_port_remove(d, req.port, why, sizeof(why)))
			return send_error(c, why);
		put(&r, "{\"ok\":true}\n");
		break;
	default:
		return send_error(c, bad ? bad : "bad request");
	}
	if (r.over)
		return send_error(c, "reply too long");
	return send_all(c, r.buf, r.len);
}

/* Read what is there and answer every complete line. */
static void client_read(struct netd_ctl *ctl, struct client *c)
{
	char buf[NETD_CTL_LINE_MAX];
	ssize_t n = recv(c->fd, buf, sizeof(buf), MSG_DONTWAIT);

	if (n <= 0) {
		if (n == 0 || (errno != EAGAIN && errno != EINTR))
			client_close(c);
		return;
	}
	for (ssize_t i = 0; i < n; i++) {
		if (buf[i] == '\n') {
			if (!request(ctl, c, c->line, c->len))
				return;
			c->len = 0;
			c->since_ms = now_ms();
			c->answered = true;
			continue;
		}
		if (c->len == sizeof(c->line) - 1) {
			if (send_error(c, "line too long"))
				client_close(c);
			return;
		}
		c->line[c->len++] = buf[i];
	}
}

/*
 * With every slot taken, who makes room: a client that has had its answer
 * (the one answered longest ago), else the one connected first. Clients
 * that connect and ask at once, over and over, are answered at once, so
 * they make room for each other, not for an operator who connected a
 * moment before sending (who was the one evicted every time when the
 * choice went by the last answer alone).
 */
static struct client *oldest(struct netd_ctl *ctl)
{
	struct client *o = &ctl->c[0];

	for (unsigned int i = 1; i < NETD_CTL_CLIENTS; i++) {
		struct client *c = &ctl->c[i];

		if (c->answered != o->answered ? c->answered :
		    c->since_ms < o->since_ms)
			o = c;
	}
	return o;
}

/*
 * accept() failed. Out of descriptors or memory (a local user can open
 * connections until the process has none left), the connection stays
 * queued, the listener stays readable and accept() fails again at once:
 * the listener is left out of poll() for NETD_CTL_ACCEPT_RETRY_MS rather
 * than spun on, the clients already there are still served, and the
 * first failure of a run is said once. Gone before it was taken, or a
 * signal: nothing to wait for.
 */
static void accept_failed(struct netd_ctl *ctl, int e)
{
	if (e == EAGAIN || e == EINTR || e == ECONNABORTED)
		return;
	ctl->accept_failures++;
	ctl->accept_after_ms = now_ms() + NETD_CTL_ACCEPT_RETRY_MS;
	if (!ctl->accept_failing)
		fprintf(stderr, "ioasid-netd: control: accept: %s; trying again every %u ms\n",
			strerror(e), NETD_CTL_ACCEPT_RETRY_MS);
	ctl->accept_failing = true;
}

static void client_accept(struct netd_ctl *ctl)
{
	int fd = accept4(ctl->listen_fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
	struct client *c = NULL;
	uint64_t now;

	if (fd < 0) {
		accept_failed(ctl, errno);
		return;
	}
	ctl->accept_failing = false;
	now = now_ms();
	for (unsigned int i = 0; i < NETD_CTL_CLIENTS && !c; i++)
		if (ctl->c[i].fd < 0)
			c = &ctl->c[i];
	if (!c) {
		c = oldest(ctl);
		if (send_error(c, "too many clients"))
			client_close(c);
		ctl->evicted++;
	}
	c->fd = fd;
	c->len = 0;
	c->since_ms = now;
	c->answered = false;
}

void netd_ctl_poll(struct netd_ctl *ctl, int ms)
{
	struct pollfd pfd[NETD_CTL_CLIENTS + 1];
	struct client *who[NETD_CTL_CLIENTS + 1];
	unsigned int n = 0;
	uint64_t now = now_ms();

	/* A negative descriptor is one poll() leaves out. */
	pfd[n].fd = now < ctl->accept_after_ms ? -1 : ctl->listen_fd;
	if (pfd[n].fd < 0 && ctl->accept_after_ms - now < (uint64_t)ms)
		ms = (int)(ctl->accept_after_ms - now);
	pfd[n].events = POLLIN;
	who[n++] = NULL;
	for (unsigned int i = 0; i < NETD_CTL_CLIENTS; i++) {
		if (ctl->c[i].fd < 0)
			continue;
		pfd[n].fd = ctl->c[i].fd;
		pfd[n].events = POLLIN;
		who[n++] = &ctl->c[i];
	}
	if (poll(pfd, n, ms) > 0) {
		for (unsigned int i = 1; i < n; i++)
			if (pfd[i].revents && who[i]->fd >= 0)
				client_read(ctl, who[i]);
		if (pfd[0].revents & POLLIN)
			client_accept(ctl);
	}
	now = now_ms();
	for (unsigned int i = 0; i < NETD_CTL_CLIENTS; i++) {
		struct client *c = &ctl->c[i];

		if (c->fd < 0 || now - c->since_ms <= ctl->idle_ms)
			continue;
		if (send_error(c, c->len ? "request not finished in time" :
				   "idle too long"))
			client_close(c);
		ctl->timed_out++;
	}
}

/*
 * Remove the socket file, if the path still names the one bind() made:
 * another daemon may have put its own there since (after this one's was
 * removed by hand), and that one is not ours to remove.
 */
static void unlink_own(struct netd_ctl *ctl)
{
	struct stat st;

	if (lstat(ctl->path, &st))
		return;
	if (S_ISSOCK(st.st_mode) && st.st_dev == ctl->dev &&
	    st.st_ino == ctl->ino)
		unlink(ctl->path);
	else
		fprintf(stderr, "ioasid-netd: --control %s: no longer the socket it made; left in place\n",
			ctl->path);
}

int netd_ctl_open(struct netd *d, const char *path, unsigned int idle_ms,
		  struct netd_ctl **out)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct netd_ctl *ctl;
	struct stat st;
	mode_t old;
	int rc;

	rc = vu_path_claim(path);
	if (rc)
		return rc;
	ctl = calloc(1, sizeof(*ctl));
	if (!ctl)
		return -ENOMEM;
	ctl->d = d;
	ctl->idle_ms = idle_ms;
	for (unsigned int i = 0; i < NETD_CTL_CLIENTS; i++)
		ctl->c[i].fd = -1;
	snprintf(ctl->path, sizeof(ctl->path), "%s", path);
	strcpy(sa.sun_path, path);	/* length checked by vu_path_claim */
	ctl->listen_fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (ctl->listen_fd < 0) {
		rc = -errno;
		goto err_free;
	}
	old = umask(0077);
	rc = bind(ctl->listen_fd, (struct sockaddr *)&sa, sizeof(sa)) ? -errno : 0;
	umask(old);
	if (rc)
		goto err_close;
	if (lstat(path, &st) || !S_ISSOCK(st.st_mode)) {
		rc = -EBUSY;		/* replaced already: not ours to remove */
		goto err_close;
	}
	ctl->dev = st.st_dev;
	ctl->ino = st.st_ino;
	d->ctl_dev = st.st_dev;
	d->ctl_ino = st.st_ino;
	d->ctl_bound = true;
	if (listen(ctl->listen_fd, 16)) {
		rc = -errno;
		unlink_own(ctl);
		goto err_close;
	}
	*out = ctl;
	return 0;
err_close:
	close(ctl->listen_fd);
err_free:
	free(ctl);
	return rc;
}

void netd_ctl_close(struct netd_ctl *ctl)
{
	for (unsigned int i = 0; i < NETD_CTL_CLIENTS; i++)
		if (ctl->c[i].fd >= 0)
			client_close(&ctl->c[i]);
	close(ctl->listen_fd);
	unlink_own(ctl);
	free(ctl);
}
