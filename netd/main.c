// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/*
 * ioasid-netd: a DPDK application that gives VMs virtio-net ports served
 * by the project's vhost-user backend (vhost/), cross-connected to DPDK
 * ethdevs (net_tap, net_af_packet, a NIC) or to each other.
 *
 *   ioasid-netd EAL-ARGS -- [--vhost NAME=PATH[,iommu]]...
 *               [--eth NAME=DEVICE]... --xconnect A,B... [--control PATH]
 *               [--control-timeout SECONDS]
 *
 * This file: the arguments (all checked before the EAL starts, except
 * that a DEVICE must exist, which only the EAL can say), the lifetime
 * (EAL, mempool, ports, the forwarding lcore, the control socket) and a
 * clean end at SIGTERM or SIGINT: the forwarding stops, the backends stop
 * and remove their sockets, the ethdevs close, the control socket goes,
 * the EAL is cleaned up, exit 0. Bad arguments: one line, exit 2; a port
 * that cannot be opened: one line, exit 1.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <rte_eal.h>
#include <rte_ethdev.h>
#include <rte_lcore.h>
#include <rte_mbuf.h>

#include "netd.h"

#define NETD_MBUFS	8191U
#define NETD_MBUF_CACHE	256U
#define NETD_CTL_IDLE_S	5U
#define NETD_CTL_IDLE_S_MAX	3600U

static volatile sig_atomic_t done;
static char rundir[PATH_MAX];

/*
 * The EAL leaves its runtime directory, and its telemetry removes its
 * socket there only at exit: registered before the EAL starts, this runs
 * after that, and removes the directory once it is empty.
 */
static void remove_rundir(void)
{
	if (rundir[0])
		rmdir(rundir);
}

static void on_signal(int sig)
{
	(void)sig;
	done = 1;
}

static void usage(FILE *f)
{
	fprintf(f,
		"usage: ioasid-netd EAL-ARGS -- [--vhost NAME=PATH[,iommu][,queues=N][,client][,poll]]... [--eth NAME=DEVICE]...\n"
		"                   [--xconnect A,B]... [--bridge NAME=A,B[,C...]]...\n"
		"                   [--control PATH] [--control-timeout SECONDS]\n"
		"  --vhost NAME=PATH[,iommu][,queues=N][,client][,poll]\n"
		"                             a vhost-user port listening on PATH (iommu: offer\n"
		"                             VIRTIO_F_IOMMU_PLATFORM, IOTLB through the fast path;\n"
		"                             queues: offer N queue pairs, 1 to 4, default 1;\n"
		"                             client: connect to PATH, where the front-end\n"
		"                             listens, and again after each disconnect;\n"
		"                             poll: the worker polls 2 ms after a frame before\n"
		"                             it naps, for a driver with a core of its own)\n"
		"  --eth NAME=DEVICE          a DPDK port (from EAL --vdev or a PCI address)\n"
		"  --xconnect A,B             every frame from A goes to B and back; A or B may\n"
		"                             also be a DPDK device name\n"
		"  --bridge NAME=A,B[,C...]   a MAC-learning bridge of two or more ports (names\n"
		"                             or DPDK device names), in no cross-connect\n"
		"  --control PATH             the control socket (docs/netd.md)\n"
		"  --control-timeout SECONDS  a control client's time for each request, from\n"
		"                             its connection or last answer (1-3600, default 5)\n");
}

static int bad(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* One line on stderr; -EINVAL. */
static int bad(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "ioasid-netd: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\n");
	return -EINVAL;
}

/* NAME=WHAT[,opt...] into a new port of @kind (netd_port_parse). */
static int add_port(struct netd *d, enum netd_kind kind, const char *arg)
{
	char why[NETD_WHY_MAX];
	struct netd_port *p;

	if (d->nports == NETD_MAX_PORTS)
		return bad("%s %s: too many ports (at most %u)",
			   kind == NETD_VHOST ? "--vhost" : "--eth", arg,
			   NETD_MAX_PORTS);
	p = &d->port[d->nports];
	if (netd_port_parse(d, kind, arg, p, why, sizeof(why)))
		return bad("%s %s: %s", kind == NETD_VHOST ? "--vhost" : "--eth",
			   arg, why);
	d->live[d->nports++] = true;
	return 0;
}

/* After the EAL: every --eth DEVICE names a DPDK port. */
static int resolve_eth(struct netd *d)
{
	char why[NETD_WHY_MAX];

	for (unsigned int i = 0; i < d->nports; i++) {
		struct netd_port *p = &d->port[i];

		if (p->kind == NETD_ETH && netd_eth_resolve(p, why, sizeof(why)))
			return bad("port %s: %s", p->name, why);
	}
	return 0;
}

/*
 * The port named @n, or a new port of a DPDK device of that name; -1
 * (said) if neither. After the EAL: a device name needs it.
 */
static int port_or_device(struct netd *d, const char *opt, const char *arg,
			  const char *n)
{
	char spec[NETD_NAME_MAX * 4 + 2];
	int ix = netd_port_find(d, n);
	uint16_t id;

	if (ix >= 0)
		return ix;
	if (!netd_name_ok(n, strlen(n)) || rte_eth_dev_get_port_by_name(n, &id)) {
		bad("%s %s: no port or DPDK device named %s", opt, arg, n);
		return -1;
	}
	snprintf(spec, sizeof(spec), "%s=%s", n, n);
	if (add_port(d, NETD_ETH, spec))
		return -1;
	d->port[d->nports - 1].eth_id = id;
	return (int)d->nports - 1;
}

/*
 * NAME=A,B[,C...]: a MAC-learning bridge (bridge.c) of two or more
 * ports, each a port name or a DPDK device name, in no cross-connect or
 * other bridge.
 */
static int bridge(struct netd *d, const char *arg)
{
	char list[NETD_NAME_MAX * (NETD_MAX_PORTS + 1)], *name, *n, *save;
	struct netd_bridge *b;
	char *eq;
	int rc;

	if (strlen(arg) >= sizeof(list))
		return bad("--bridge %s: too long", arg);
	strcpy(list, arg);
	eq = strchr(list, '=');
	if (!eq || !netd_name_ok(list, (size_t)(eq - list)))
		return bad("--bridge %s: expected NAME=A,B... with NAME of letters, digits, '-' or '_' (at most 31)",
			   arg);
	*eq = '\0';
	name = list;
	for (unsigned int i = 0; i < d->nbridges; i++)
		if (!strcmp(d->bridge[i]->name, name))
			return bad("--bridge %s: a bridge of that name exists",
				   arg);
	rc = netd_bridge_new(d, name, &b);
	if (rc)
		return bad("--bridge %s: %s", arg, rc == -ENOSPC ?
			   "too many bridges (at most 8)" : strerror(-rc));
	for (n = strtok_r(eq + 1, ",", &save); n; n = strtok_r(NULL, ",", &save)) {
		int ix = port_or_device(d, "--bridge", arg, n);

		if (ix < 0)
			return -EINVAL;
		if (d->port[ix].peer >= 0)
			return bad("--bridge %s: %s is cross-connected", arg, n);
		if (d->port[ix].bridge >= 0)
			return bad("--bridge %s: %s is in bridge %s already", arg,
				   n, d->bridge[d->port[ix].bridge]->name);
		d->port[ix].bridge = (int)d->nbridges - 1;
		b->member[b->nmembers++] = ix;
	}
	if (b->nmembers < 2)
		return bad("--bridge %s: a bridge needs two ports at least",
			   arg);
	return 0;
}

/*
 * A,B: each a port name, or a DPDK device name that becomes a port of
 * that name. Ports are looked up after the EAL (a device name needs it).
 */
static int xconnect(struct netd *d, const char *arg)
{
	char a[NETD_NAME_MAX * 4], *b;
	int ia, ib;

	if (strlen(arg) >= sizeof(a) || !(b = strchr(strcpy(a, arg), ',')))
		return bad("--xconnect %s: expected A,B", arg);
	*b++ = '\0';
	ia = port_or_device(d, "--xconnect", arg, a);
	ib = ia < 0 ? -1 : port_or_device(d, "--xconnect", arg, b);
	if (ia < 0 || ib < 0)
		return -EINVAL;
	if (ia == ib)
		return bad("--xconnect %s: a port cannot be connected to itself",
			   arg);
	if (d->port[ia].peer >= 0 || d->port[ib].peer >= 0)
		return bad("--xconnect %s: %s is already cross-connected", arg,
			   d->port[ia].peer >= 0 ? a : b);
	d->port[ia].peer = ib;
	d->port[ib].peer = ia;
	return 0;
}

struct args {
	const char *control;
	unsigned int idle_s;		/* 0: not given */
	const char *xc[NETD_MAX_PORTS];
	unsigned int nxc;
	const char *br[NETD_MAX_BRIDGES];
	unsigned int nbr;
};

/* A whole number of seconds, 1 to NETD_CTL_IDLE_S_MAX, into *@out. */
static int seconds(const char *o, const char *v, unsigned int *out)
{
	char *end;
	unsigned long n;

	errno = 0;
	n = strtoul(v, &end, 10);
	if (v[0] < '0' || v[0] > '9' || *end || errno || !n ||
	    n > NETD_CTL_IDLE_S_MAX)
		return bad("%s %s: expected whole seconds, 1 to %u", o, v,
			   NETD_CTL_IDLE_S_MAX);
	*out = (unsigned int)n;
	return 0;
}

/* Our own arguments (after "--"), before the EAL starts. */
static int parse_args(struct netd *d, struct args *a, int argc, char **argv)
{
	/* Every option takes one value: a pair of words at a time. */
	for (int i = 0; i < argc; i += 2) {
		const char *o = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
		int rc = 0;

		if (!strcmp(o, "--help") || !strcmp(o, "-h")) {
			usage(stdout);
			exit(0);
		}
		if (!v)
			return bad("%s: needs a value, or is unknown (--help)", o);
		if (!strcmp(o, "--vhost"))
			rc = add_port(d, NETD_VHOST, v);
		else if (!strcmp(o, "--eth"))
			rc = add_port(d, NETD_ETH, v);
		else if (!strcmp(o, "--xconnect") && a->nxc < NETD_MAX_PORTS)
			a->xc[a->nxc++] = v;
		else if (!strcmp(o, "--bridge") && a->nbr < NETD_MAX_BRIDGES)
			a->br[a->nbr++] = v;
		else if (!strcmp(o, "--control") && !a->control)
			a->control = v;
		else if (!strcmp(o, "--control-timeout") && !a->idle_s)
			rc = seconds(o, v, &a->idle_s);
		else
			return bad("%s: unknown, repeated or too often (--help)", o);
		if (rc)
			return rc;
	}
	if (!d->nports && !a->nxc && !a->nbr)
		return bad("nothing to serve: give --vhost, --eth, --xconnect or --bridge");
	/* "" would bind an abstract socket no path names: refused. */
	if (a->control && !a->control[0])
		return bad("--control: needs a path, not an empty one");
	if (a->idle_s && !a->control)
		return bad("--control-timeout: needs --control");
	if (!a->idle_s)
		a->idle_s = NETD_CTL_IDLE_S;
	if (a->control && strlen(a->control) >= NETD_WHERE_MAX)
		return bad("--control %s: path too long for a UNIX socket (at most %u bytes)",
			   a->control, NETD_WHERE_MAX - 1);
	return 0;
}

static int start_fwd(struct netd *d)
{
	unsigned int lc = rte_get_next_lcore(-1, 1, 0);

	if (lc >= RTE_MAX_LCORE) {
		fprintf(stderr, "ioasid-netd: needs a worker lcore to forward on (EAL -l 0,1)\n");
		return -EINVAL;
	}
	if (rte_eal_remote_launch(netd_fwd_loop, d, lc)) {
		fprintf(stderr, "ioasid-netd: cannot start forwarding on lcore %u\n", lc);
		return -EBUSY;
	}
	d->fwd_lcore = lc;
	d->forwarding = true;
	return 0;
}

int main(int argc, char **argv)
{
	static struct netd d;
	struct netd_ctl *ctl = NULL;
	struct sigaction sa;
	struct args a = { 0 };
	int own = argc, rc, status = 1;

	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--")) {
			own = i;
			break;
		}
		if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
			usage(stdout);
			return 0;
		}
	}
	if (own == argc) {
		fprintf(stderr, "ioasid-netd: expected EAL arguments, then -- and its own (--help)\n");
		return 2;
	}
	if (parse_args(&d, &a, argc - own - 1, argv + own + 1))
		return 2;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	atexit(remove_rundir);
	rc = rte_eal_init(own, argv);
	if (rc < 0) {
		fprintf(stderr, "ioasid-netd: cannot start the EAL: %s\n",
			rte_strerror(rte_errno));
		return 1;
	}
	snprintf(rundir, sizeof(rundir), "%s", rte_eal_get_runtime_dir());
	for (unsigned int i = 0; i < a.nxc; i++)
		if (xconnect(&d, a.xc[i])) {
			status = 2;
			goto out_eal;
		}
	for (unsigned int i = 0; i < a.nbr; i++)
		if (bridge(&d, a.br[i])) {
			status = 2;
			goto out_eal;
		}
	if (resolve_eth(&d)) {
		status = 2;
		goto out_eal;
	}
	d.pool = rte_pktmbuf_pool_create("netd_mbufs", NETD_MBUFS,
					 NETD_MBUF_CACHE, 0,
					 RTE_MBUF_DEFAULT_BUF_SIZE,
					 (int)rte_socket_id());
	if (!d.pool) {
		fprintf(stderr, "ioasid-netd: cannot make the mbuf pool: %s\n",
			rte_strerror(rte_errno));
		goto out_eal;
	}
	if (a.control) {
		rc = netd_ctl_open(&d, a.control, a.idle_s * 1000U, &ctl);
		if (rc) {
			fprintf(stderr, "ioasid-netd: --control %s: %s\n", a.control,
				vu_path_why(rc));
			goto out_pool;
		}
	}
	if (netd_ports_open(&d))
		goto out_ctl;
	if (start_fwd(&d))
		goto out_ports;
	fprintf(stderr, "ioasid-netd: serving %u ports, forwarding on lcore %u\n",
		d.nports, d.fwd_lcore);
	while (!done) {
		if (ctl)
			netd_ctl_poll(ctl, 200);
		else
			usleep(200000);
	}
	status = 0;
	__atomic_store_n(&d.stop, true, __ATOMIC_RELEASE);
	rte_eal_wait_lcore(d.fwd_lcore);
	d.forwarding = false;
out_ports:
	netd_ports_close(&d);
out_ctl:
	if (ctl)
		netd_ctl_close(ctl);
out_pool:
	rte_mempool_free(d.pool);
out_eal:
	netd_bridges_free(&d);
	rte_eal_cleanup();
	if (!status)
		fprintf(stderr, "ioasid-netd: stopped\n");
	return status;
}
