// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/*
 * ioasid-bench vhost: packets per second through a vhost-user backend,
 * the project's (vhost/vhost_user.c, in this process, one worker thread)
 * against DPDK 22.11's own (dpdk-testpmd with net_vhost, one forwarding
 * lcore), both driven by the project's front-end (tests/lib/frontend.c) on
 * one thread, so each side has the same two cores: one for the driver,
 * one for the device. The project's backend echoes each packet; testpmd
 * forwards each packet back (io mode, one port in loop). A packet counts
 * when it is back at the front-end; at most 256 are in flight.
 *
 * Configurations, for 64- and 1,500-byte packets:
 *   ioasid, no IOMMU       memory table translation
 *   ioasid, IOMMU, still   the IOTLB below, no churn (for the breakdown)
 *   ioasid, IOMMU          VIRTIO_F_ACCESS_PLATFORM, 1,024 IOTLB entries
 *                          of 64 KiB, and a control thread that
 *                          invalidates and re-sends one entry holding
 *                          packet buffers 1,000 times a second (churn)
 * The 512 packet buffers are spread over the 64 MiB of guest memory (one
 * every 124 KiB), as a guest's buffers are scattered, so a translation
 * may need any of the 1,024 entries.
 *   dpdk, IOMMU            the same, against testpmd (iommu-support=1)
 *
 * Without an IOMMU, as a user comparing the two would: unmodified
 * dpdk-testpmd with net_virtio_user is the driver, in txonly mode (into
 * the backend) or rxonly mode (the backend transmits), split or packed
 * rings, 64 or 1,500 bytes; the device is either the project's backend
 * (in this process, polling (VU_POLL); a sink or a source application)
 * or a second testpmd
 * with net_vhost in the opposite mode (rxonly or txonly). Each process's
 * forwarding lcore has a CPU of its own: the driver's lcore 1 runs on CPU
 * 0, the device's (testpmd's lcore 1, or the backend's worker) on CPU 1;
 * the main lcores sleep. The rate is the driver's own (testpmd's Tx-pps
 * or Rx-pps, printed every second): the median of the seconds after the
 * first that moved packets. The two devices alternate, so both see
 * the same load on the shared machine.
 *
 * IOASID_BENCH_VHOST=virtio-user runs these rows only;
 * IOASID_BENCH_VHOST=virtio-user:split:txonly:64 (say) the one
 * configuration, and =virtio-user:split:txonly:64:ioasid (or :dpdk) one
 * device of it, alone (for a profile: perf record -p this process).
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "bench.h"
#include "echo.h"
#include "frontend.h"
#include "pmd.h"
#include "vhost_user.h"

#define ENTRIES		1024U
#define CHURN_HZ	1000U
#define WINDOW		256U
/* Guest memory 64 MiB in 1,024 entries of 64 KiB; entries 0-15 hold the
 * rings, the buffers are spread over entries 16 to 1,023. */
#define BUF_ENTRY	16U
#define BUF_ENTRIES	(ENTRIES - BUF_ENTRY)

struct result {
	double mpps;
	uint64_t packets;
	uint64_t misses;
	uint64_t churns;
	uint64_t lost;
};

static uint64_t ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

struct churner {
	struct vu_front *f;
	volatile bool stop;
	uint64_t n;
	int err;
};

/* The control plane: remap buffer entries at CHURN_HZ while traffic runs. */
static void *churn(void *arg)
{
	struct churner *c = arg;

	while (!c->stop) {
		if (vu_front_churn(c->f, BUF_ENTRY + (uint32_t)((c->n * 7919) %
								   BUF_ENTRIES))) {
			c->err = 1;
			break;
		}
		c->n++;
		usleep(1000000 / CHURN_HZ);
	}
	return NULL;
}

/* Send and take back packets of @len bytes for @secs seconds. */
static int drive(struct vu_front *f, uint32_t len, double secs, bool churning,
		 struct result *r)
{
	static uint8_t out[2048], in[2048];
	uint64_t sent = 0, got = 0, got0 = 0, lost = 0, t0, t1, end, moved;
	struct churner c = { .f = f };
	struct vu_front_stats st;
	pthread_t th;

	memset(out, 0x5a, sizeof(out));
	memset(r, 0, sizeof(*r));
	if (churning && pthread_create(&th, NULL, churn, &c))
		return -1;
	/* Warm up: the first packets pay for misses and ring setup. */
	end = ns() + 200000000ULL;
	moved = ns();
	t0 = 0;
	for (;;) {
		uint64_t now = ns();

		if (!t0 && now >= end) {
			t0 = now;
			got0 = got;
			end = now + (uint64_t)(secs * 1e9);
		} else if (t0 && now >= end) {
			break;
		}
		while (sent - got - lost < WINDOW && !vu_front_send(f, out, len))
			sent++;
		while (vu_front_recv(f, in, sizeof(in))) {
			got++;
			moved = now;
		}
		vu_front_serve(f);
		/*
		 * A backend may drop (DPDK's does on a miss): after 20 ms
		 * without a packet, what is in flight counts as lost; a
		 * packet that turns up later only slowed down.
		 */
		if (lost > sent - got)
			lost = sent - got;
		if (now - moved > 20000000ULL) {
			lost = sent - got;
			moved = now;
		}
	}
	t1 = ns();
	if (churning) {
		c.stop = true;
		pthread_join(th, NULL);
	}
	vu_front_stats(f, &st);
	r->packets = got - got0;
	r->misses = st.misses_served;
	r->churns = c.n;
	r->lost = lost;
	r->mpps = (double)r->packets / ((double)(t1 - t0) / 1e9) / 1e6;
	return c.err ? -1 : 0;
}

static int run_ours(bool iommu, bool churning, uint32_t len, double secs,
		    struct result *r)
{
	static struct vu_echo e;
	struct vu_front_cfg cfg = { .iommu = iommu, .iotlb_entries = ENTRIES,
				    .spread = true };
	struct vu_backend *b;
	struct vu_front *f;
	struct vu_app app;
	char sock[64];
	int rc;

	vu_echo_init(&e, &app);
	snprintf(sock, sizeof(sock), "/tmp/ioasid-bench-%d.sock", (int)getpid());
	cfg.path = sock;
	if (vu_backend_start(sock, &app, VU_OFFER_IOMMU, &b))
		return -1;
	rc = vu_front_open(&cfg, &f);
	if (!rc) {
		rc = drive(f, len, secs, churning, r);
		vu_front_close(f);
	}
	vu_backend_stop(b);
	return rc;
}

static int run_dpdk(uint32_t len, double secs, struct result *r)
{
	struct vu_front_cfg cfg = { .iommu = true, .iotlb_entries = ENTRIES,
				    .spread = true };
	struct vu_front *f = NULL;
	char sock[64], vdev[160];
	struct pmd p;
	int i, rc;

	snprintf(sock, sizeof(sock), "/tmp/ioasid-bench-dpdk-%d.sock",
		 (int)getpid());
	unlink(sock);
	snprintf(vdev, sizeof(vdev), "net_vhost0,iface=%s,queues=1,iommu-support=1",
		 sock);
	cfg.path = sock;
	if (pmd_start(&p, vdev))
		return -1;
	for (i = 0; i < 300 && pmd_alive(&p); i++) {
		if (!access(sock, F_OK) && !vu_front_open(&cfg, &f))
			break;
		usleep(100000);
	}
	rc = f ? drive(f, len, secs, true, r) : -1;
	if (f)
		vu_front_close(f);
	pmd_stop(&p, rc ? stderr : NULL);
	unlink(sock);
	return rc;
}

/* The device's applications: count what the driver sends; send @len. */
struct vu_sink {
	uint64_t packets;		/* the worker's only */
};

static void sink_rx(void *arg, const uint8_t *pkt, uint32_t len)
{
	struct vu_sink *k = arg;

	(void)pkt;
	(void)len;
	k->packets++;
}

struct vu_source {
	uint8_t frame[1536];
	uint32_t len;
};

static uint32_t source_tx(void *arg, uint8_t *buf, uint32_t max)
{
	struct vu_source *s = arg;

	if (s->len > max)
		return 0;
	memcpy(buf, s->frame, s->len);
	return s->len;
}

/*
 * Start the project's backend on @sock with its threads on CPU 1 (they
 * take the creating thread's affinity; this thread's is given back).
 */
static int start_ours_on_cpu1(const char *sock, const struct vu_app *app,
			      struct vu_backend **b)
{
	cpu_set_t old, one;
	int rc;

	if (sched_getaffinity(0, sizeof(old), &old))
		return -1;
	CPU_ZERO(&one);
	CPU_SET(1, &one);
	if (sched_setaffinity(0, sizeof(one), &one))
		return -1;
	rc = vu_backend_start(sock, app, VU_POLL, b);
	sched_setaffinity(0, sizeof(old), &old);
	return rc;
}

/*
 * The driver's rate from its log: every "Tx-pps:" (or "Rx-pps:") value,
 * the first non-zero second (a partial one) dropped, the median of the
 * rest (0 if none is left).
 */
static double driver_mpps(const char *log, bool tx, int *samples)
{
	const char *key = tx ? "Tx-pps:" : "Rx-pps:";
	double v[256];
	int n = 0, moved = 0;
	char line[512];
	FILE *f = fopen(log, "r");

	while (f && fgets(line, sizeof(line), f)) {
		char *k = strstr(line, key);
		unsigned long long pps;

		if (!k || sscanf(k + strlen(key), "%llu", &pps) != 1 || !pps)
			continue;
		if (moved++ < 1 || n == 256)
			continue;
		v[n++] = (double)pps / 1e6;
	}
	if (f)
		fclose(f);
	*samples = n;
	return n ? median(v, n) : 0;
}

/* Stop a testpmd that runs until SIGINT, waiting for its exit. */
static void pmd_interrupt(struct pmd *p)
{
	int i;

	if (!pmd_alive(p))
		return;
	kill(p->pid, SIGINT);
	for (i = 0; i < 100 && pmd_alive(p); i++)
		usleep(100000);
}

/*
 * One configuration driven by net_virtio_user: @tx, the driver transmits
 * (txonly, the device receives); otherwise the device transmits @len-byte
 * packets and the driver receives (rxonly). @dpdk: the device is testpmd
 * with net_vhost, otherwise the project's backend. Mpps at the driver.
 */
static int run_virtio_user(bool dpdk, bool packed, bool tx, uint32_t len,
			   double secs, double *mpps, int *samples)
{
	static struct vu_sink sink;
	static struct vu_source src;
	char sock[64], vdev[192], dvdev[160], txpkts[32];
	const char *dargs[] = { "--forward-mode=txonly", "--auto-start",
				"--nb-cores=1", "--rxd=256", "--txd=256",
				"--stats-period=1", txpkts, NULL };
	const char *vargs[] = { "--forward-mode=rxonly", "--auto-start",
				"--nb-cores=1", "--rxd=256", "--txd=256",
				txpkts, NULL };
	struct vu_backend *b = NULL;
	struct pmd dev, drv;
	struct vu_app app = { 0 };
	uint64_t end;
	int rc = 0, i;

	snprintf(sock, sizeof(sock), "/tmp/ioasid-bench-vu-%d.sock",
		 (int)getpid());
	unlink(sock);
	snprintf(txpkts, sizeof(txpkts), "--txpkts=%u", len);
	memset(&src, 0, sizeof(src));
	memset(&sink, 0, sizeof(sink));
	if (!tx) {		/* the device sends, the driver counts */
		dargs[0] = "--forward-mode=rxonly";
		vargs[0] = "--forward-mode=txonly";
	}
	if (dpdk) {
		snprintf(dvdev, sizeof(dvdev), "net_vhost0,iface=%s,queues=1",
			 sock);
		if (pmd_start_lcores(&dev, "0@0,1@1", dvdev, vargs))
			return -1;
		for (i = 0; i < 300 && pmd_alive(&dev) && access(sock, F_OK); i++)
			usleep(100000);
		if (!pmd_alive(&dev)) {
			pmd_stop(&dev, stderr);
			return -1;
		}
	} else {
		if (tx) {
			app.rx = sink_rx;
			app.arg = &sink;
		} else {
			/* A frame of the driver's length: MACs, IPv4 type. */
			memset(src.frame, 0x5a, sizeof(src.frame));
			memset(src.frame, 0xff, 6);
			src.frame[12] = 0x08;
			src.frame[13] = 0x00;
			src.len = len;
			app.tx = source_tx;
			app.arg = &src;
		}
		if (start_ours_on_cpu1(sock, &app, &b))
			return -1;
	}
	snprintf(vdev, sizeof(vdev), "net_virtio_user0,path=%s,queues=1,queue_size=256%s",
		 sock, packed ? ",packed_vq=1" : "");
	if (pmd_start_lcores(&drv, "0@1,1@0", vdev, dargs)) {
		rc = -1;
	} else {
		/* Start-up (a second or two), a warm-up second, then @secs. */
		end = now_ns() + (uint64_t)((secs + 3) * 1e9);
		while (now_ns() < end && pmd_alive(&drv))
			usleep(100000);
		if (!pmd_alive(&drv))
			rc = -1;
		pmd_interrupt(&drv);
		*mpps = driver_mpps(drv.log, tx, samples);
		if (!*samples)
			rc = -1;
		pmd_stop(&drv, rc ? stderr : NULL);
	}
	if (dpdk)
		pmd_stop(&dev, rc ? stderr : NULL);
	else
		vu_backend_stop(b);
	unlink(sock);
	return rc;
}

/* The rows of the comparison without an IOMMU, driven by net_virtio_user. */
static void bench_virtio_user(struct bench_opts *o)
{
	static const uint32_t sizes[] = { 64, 1500 };
	double secs = o->quick ? 2.0 : 5.0;

	const char *only = getenv("IOASID_BENCH_VHOST");

	if (only && strncmp(only, "virtio-user:", 12))
		only = NULL;
	for (int ring = 0; ring < 2; ring++) {
		for (int dir = 0; dir < 2; dir++) {
			for (size_t k = 0; k < 2; k++) {
				bool packed = ring, tx = !dir;
				uint32_t len = sizes[k];
				double ours = 0, dpdk = 0;
				int ns_ours = 0, ns_dpdk = 0;
				char what[128], cfg[64];
				bool run_d = true, run_o = true;

				snprintf(cfg, sizeof(cfg), "virtio-user:%s:%s:%u",
					 packed ? "packed" : "split",
					 tx ? "txonly" : "rxonly", len);
				if (only && strncmp(only, cfg, strlen(cfg)))
					continue;
				if (only && only[strlen(cfg)] == ':') {
					run_d = !strcmp(only + strlen(cfg), ":dpdk");
					run_o = !strcmp(only + strlen(cfg), ":ioasid");
				}
				if (run_d && run_virtio_user(true, packed, tx, len,
							     secs, &dpdk, &ns_dpdk))
					fprintf(stderr, "vhost: %s against net_vhost did not run\n",
						cfg);
				if (run_o && run_virtio_user(false, packed, tx, len,
							     secs, &ours, &ns_ours))
					fprintf(stderr, "vhost: %s against the project's backend did not run\n",
						cfg);
				if (run_d)
					emit(o, "{\"bench\":\"vhost\",\"driver\":\"net_virtio_user\",\"iommu\":false,\"ring\":\"%s\",\"driver_mode\":\"%s\",\"len\":%u,\"backend\":\"dpdk-22.11\",\"mpps\":%.3f,\"seconds\":%d}",
					     packed ? "packed" : "split",
					     tx ? "txonly" : "rxonly", len, dpdk,
					     ns_dpdk);
				if (run_o)
					emit(o, "{\"bench\":\"vhost\",\"driver\":\"net_virtio_user\",\"iommu\":false,\"ring\":\"%s\",\"driver_mode\":\"%s\",\"len\":%u,\"backend\":\"ioasid\",\"mpps\":%.3f,\"seconds\":%d}",
					     packed ? "packed" : "split",
					     tx ? "txonly" : "rxonly", len, ours,
					     ns_ours);
				snprintf(what, sizeof(what),
					 "%uB %s, driver %s (net_virtio_user): Mpps, ioasid / dpdk net_vhost",
					 len, packed ? "packed" : "split",
					 tx ? "txonly" : "rxonly");
				if (ns_dpdk && ns_ours)
					check(o, "vhost", "ioasid-vs-dpdk-no-iommu",
					      what, ours / dpdk, ">=", 1.0, len);
			}
		}
	}
}

int bench_vhost(struct bench_opts *o)
{
	static const uint32_t sizes[] = { 64, 1500 };
	double secs = o->quick ? 1.0 : 3.0;
	bool dpdk = !geteuid() && !access(PMD_PATH, X_OK) && !pmd_hugepages(512);

	print_header(o, "vhost", "Mpps through a vhost-user backend: ioasid vs DPDK 22.11 vhost, driven by the project's front-end");
	if (!dpdk)
		emit(o, "{\"bench\":\"vhost\",\"skipped\":\"dpdk\",\"why\":\"needs root, hugepages and %s\"}",
		     PMD_PATH);
	if (dpdk)
		bench_virtio_user(o);
	else
		emit(o, "{\"bench\":\"vhost\",\"skipped\":\"no-iommu vs dpdk\",\"why\":\"needs root, hugepages and %s\"}",
		     PMD_PATH);
	if (getenv("IOASID_BENCH_VHOST") &&
	    !strncmp(getenv("IOASID_BENCH_VHOST"), "virtio-user", 11))
		return 0;
	for (size_t k = 0; k < 2; k++) {
		uint32_t len = sizes[k];
		struct result off, still, on, d;

		if (run_ours(false, false, len, secs, &off) ||
		    run_ours(true, false, len, secs, &still) ||
		    run_ours(true, true, len, secs, &on))
			die("vhost: the project's backend did not run");
		emit(o, "{\"bench\":\"vhost\",\"backend\":\"ioasid\",\"iommu\":false,\"len\":%u,\"mpps\":%.3f,\"packets\":%llu}",
		     len, off.mpps, (unsigned long long)off.packets);
		emit(o, "{\"bench\":\"vhost\",\"backend\":\"ioasid\",\"iommu\":true,\"iotlb_entries\":%u,\"churns\":0,\"len\":%u,\"mpps\":%.3f,\"packets\":%llu}",
		     ENTRIES, len, still.mpps, (unsigned long long)still.packets);
		emit(o, "{\"bench\":\"vhost\",\"backend\":\"ioasid\",\"iommu\":true,\"iotlb_entries\":%u,\"churns\":%llu,\"len\":%u,\"mpps\":%.3f,\"packets\":%llu,\"misses\":%llu,\"lost\":%llu}",
		     ENTRIES, (unsigned long long)on.churns, len, on.mpps,
		     (unsigned long long)on.packets,
		     (unsigned long long)on.misses, (unsigned long long)on.lost);
		check(o, "vhost", "ioasid",
		      len == 64 ? "64B: Mpps, IOMMU on with churn / off" :
				  "1500B: Mpps, IOMMU on with churn / off",
		      on.mpps / off.mpps, ">=", 0.95, len);
		if (!dpdk)
			continue;
		if (run_dpdk(len, secs, &d))
			die("vhost: testpmd with net_vhost did not run");
		emit(o, "{\"bench\":\"vhost\",\"backend\":\"dpdk-22.11\",\"iommu\":true,\"iotlb_entries\":%u,\"churns\":%llu,\"len\":%u,\"mpps\":%.3f,\"packets\":%llu,\"misses\":%llu,\"lost\":%llu}",
		     ENTRIES, (unsigned long long)d.churns, len, d.mpps,
		     (unsigned long long)d.packets, (unsigned long long)d.misses,
		     (unsigned long long)d.lost);
		check(o, "vhost", "ioasid-vs-dpdk",
		      len == 64 ? "64B: Mpps with IOMMU and churn, ioasid / dpdk" :
				  "1500B: Mpps with IOMMU and churn, ioasid / dpdk",
		      on.mpps / d.mpps, ">=", 2.0, len);
	}
	return 0;
}
