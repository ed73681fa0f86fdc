// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/*
 * testpmd: unmodified dpdk-testpmd, with DPDK's net_virtio_user front-end,
 * exchanges packets with the project's vhost-user backend. The backend
 * sends a counted number of numbered packets of varied lengths; testpmd
 * forwards every packet it receives straight back (io mode, one port in
 * loop topology); the backend checks each one arrives intact, in order.
 * Needs root (hugepages, which the test reserves) and dpdk-testpmd.
 */
#include <fcntl.h>
#include <signal.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <time.h>

#include "harness.h"
#include "frontend.h"
#include "pmd.h"
#include "traffic.h"
#include "vhost_user.h"

#define NPKT	20000U

#define WINDOW	128U	/* packets in flight at most: testpmd drops on a full ring */

static int pmd_ready(void)
{
	if (geteuid()) {
		skip_reason("needs root for hugepages");
		return SKIP_RC;
	}
	if (access(PMD_PATH, X_OK)) {
		skip_reason("dpdk-testpmd is not installed (Debian's dpdk-dev; tools/setup.sh installs it)");
		return SKIP_RC;
	}
	if (pmd_hugepages(512)) {
		skip_reason("cannot set up hugetlbfs at /dev/hugepages");
		return SKIP_RC;
	}
	return 0;
}

static int testpmd_exchange(bool packed)
{
	static struct vu_traffic t;
	struct vu_app app;
	char sock[64], vdev[160];
	struct vu_backend *b;
	struct vu_stats st;
	struct pmd p;
	int i, idle, rc;
	uint32_t last = 0;
	bool ok;

	rc = pmd_ready();
	if (rc)
		return rc;
	CHECK_OK(vu_traffic_init(&t, NPKT, WINDOW, &app));
	snprintf(sock, sizeof(sock), "/tmp/ioasid-vu-%d.sock", (int)getpid());
	snprintf(vdev, sizeof(vdev), "net_virtio_user0,path=%s,queues=1,queue_size=256%s",
		 sock, packed ? ",packed_vq=1" : "");
	CHECK_OK(vu_backend_start(sock, &app, 0, &b));
	CHECK_OK(pmd_start(&p, vdev));
	/*
	 * Until every packet is back, or nothing moved for 20 s (testpmd
	 * takes a few seconds to start), or 180 s in all.
	 */
	for (i = 0, idle = 0; i < 1800 && idle < 200; i++) {
		uint32_t now = __atomic_load_n(&t.got, __ATOMIC_ACQUIRE);

		if (now + __atomic_load_n(&t.bad, __ATOMIC_ACQUIRE) >= NPKT)
			break;
		idle = now == last ? idle + 1 : 0;
		last = now;
		if (!pmd_alive(&p))
			break;
		usleep(100000);
	}
	vu_backend_stats(b, &st);
	ok = t.got == NPKT && !t.bad;
	pmd_stop(&p, ok ? NULL : stdout);
	vu_backend_stop(b);
	diag("backend: %u packets sent, %u came back intact, %u damaged, %u out of order (after %u probes); %llu connections, queues running %u, broken %u",
	     t.sent, t.got, t.bad, t.out_of_order, t.probes,
	     (unsigned long long)st.connections, st.running, st.broken);
	diag("round trips: %.0f packets/s (a functional test, not a benchmark)",
	     vu_traffic_rate(&t));
	if (!ok) {
		vu_traffic_report_missing(&t, stdout, 8);
		if (t.bad)
			diag("first damaged packet after %u good ones", t.first_bad);
	}
	vu_traffic_fini(&t);
	CHECK_EQ(t.sent, NPKT);
	CHECK_EQ(t.got, NPKT);
	CHECK_EQ(t.bad, 0);
	CHECK_EQ(t.out_of_order, 0);
	CHECK_EQ(st.broken, 0);
	return 0;
}

/*
 * The other way round: the project's front-end, with IOMMU translation
 * on, drives DPDK's own vhost backend (testpmd's net_vhost with
 * iommu-support=1), which forwards every packet back. Eager IOTLB, then
 * lazy (every translation DPDK needs arrives through a miss).
 */
static int front_to_dpdk(bool lazy)
{
	struct vu_front_cfg cfg = { .iommu = true, .lazy = lazy,
				    .iotlb_entries = lazy ? 64 : 1024 };
	uint8_t out[2048], in[2048];
	uint32_t sent = 0, got = 0, bad = 0, i;
	char sock[64], vdev[160];
	struct vu_front_stats fs;
	struct vu_front *fr = NULL;
	struct pmd p;
	int rc;

	rc = pmd_ready();
	if (rc)
		return rc;
	snprintf(sock, sizeof(sock), "/tmp/ioasid-vud-%d.sock", (int)getpid());
	unlink(sock);
	snprintf(vdev, sizeof(vdev), "net_vhost0,iface=%s,queues=1,iommu-support=1",
		 sock);
	cfg.path = sock;
	CHECK_OK(pmd_start(&p, vdev));
	/* testpmd creates the socket once its EAL is up. */
	for (i = 0; i < 300 && pmd_alive(&p); i++) {
		if (!access(sock, F_OK) && !vu_front_open(&cfg, &fr))
			break;
		usleep(100000);
	}
	if (!fr) {
		pmd_stop(&p, stdout);
		diag("could not connect to testpmd's vhost socket %s", sock);
		return 1;
	}
	for (i = 0; i < 1200000 && got + bad < NPKT && pmd_alive(&p); i++) {
		uint32_t n, seq;

		if (sent < NPKT && sent - got - bad < WINDOW) {
			memset(out, 0, 14);
			memcpy(out + 14, &sent, 4);
			memset(out + 18, (int)(sent & 0xff), 46);
			if (!vu_front_send(fr, out, 64))
				sent++;
		}
		while ((n = vu_front_recv(fr, in, sizeof(in))) != 0) {
			memcpy(&seq, in + 14, 4);
			memset(out + 18, (int)(seq & 0xff), 46);
			if (n == 64 && seq == got + bad && !memcmp(in + 18, out + 18, 46)) {
				got++;
			} else {
				if (!bad)
					diag("first bad packet: %u bytes, seq %u (expected %u), byte 18 0x%02x",
					     n, seq, got + bad, in[18]);
				bad++;
			}
		}
		vu_front_serve(fr);
		if (!(i & 1023))
			usleep(100);
	}
	vu_front_stats(fr, &fs);
	vu_front_close(fr);
	pmd_stop(&p, got != NPKT || bad ? stdout : NULL);
	unlink(sock);
	diag("front-end -> DPDK vhost%s: %u sent, %u back intact, %u bad; IOTLB %llu updates, %llu misses answered",
	     lazy ? " (lazy IOTLB)" : "", sent, got, bad,
	     (unsigned long long)fs.updates,
	     (unsigned long long)fs.misses_served);
	CHECK_EQ(got, NPKT);
	CHECK_EQ(bad, 0);
	if (lazy)
		CHECK(fs.misses_served > 0);
	return 0;
}

static int t_testpmd_exchange(struct fx *f)
{
	(void)f;
	return testpmd_exchange(false);
}

static int t_testpmd_exchange_packed(struct fx *f)
{
	(void)f;
	return testpmd_exchange(true);
}

static int t_front_to_dpdk_eager(struct fx *f)
{
	(void)f;
	return front_to_dpdk(false);
}

static int t_front_to_dpdk_lazy(struct fx *f)
{
	(void)f;
	return front_to_dpdk(true);
}

static const struct test tests[] = {
	{ "testpmd_exchange", t_testpmd_exchange, NULL },
	{ "testpmd_exchange_packed", t_testpmd_exchange_packed, NULL },
	{ "frontend_to_dpdk_vhost", t_front_to_dpdk_eager, NULL },
	{ "frontend_to_dpdk_vhost_lazy", t_front_to_dpdk_lazy, NULL },
};

int main(int argc, char **argv)
{
	return run_tests("testpmd", tests, sizeof(tests) / sizeof(tests[0]),
			 argc, argv);
}
