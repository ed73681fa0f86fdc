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
 * Not measured: DPDK's vhost against ours without an IOMMU, both driven by
 * DPDK's net_virtio_user, which needs two testpmd processes of two lcores
 * each on this two-core machine; the figures would measure the scheduler.
 */
#include <pthread.h>
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

int bench_vhost(struct bench_opts *o)
{
	static const uint32_t sizes[] = { 64, 1500 };
	double secs = o->quick ? 1.0 : 3.0;
	bool dpdk = !geteuid() && !access(PMD_PATH, X_OK) && !pmd_hugepages(512);

	print_header(o, "vhost", "Mpps through a vhost-user backend: ioasid vs DPDK 22.11 vhost, driven by the project's front-end");
	if (!dpdk)
		emit(o, "{\"bench\":\"vhost\",\"skipped\":\"dpdk\",\"why\":\"needs root, hugepages and %s\"}",
		     PMD_PATH);
	emit(o, "{\"bench\":\"vhost\",\"skipped\":\"no-iommu vs dpdk\",\"why\":\"DPDK's net_virtio_user would need a second two-lcore testpmd on a two-core machine\"}");
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
