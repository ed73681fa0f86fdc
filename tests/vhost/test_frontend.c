// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/*
 * frontend: the project's vhost-user front-end against the project's
 * backend, which echoes every packet back. Without an IOMMU; with one and
 * every IOTLB entry sent up front; with one and nothing sent until the
 * backend misses (each miss travels back on the backend request channel
 * and is answered); and with entries invalidated and re-sent while the
 * traffic flows. Every packet must come back intact and in order.
 *
 * miss_channel_unread plays a front-end that does what QEMU does: it
 * sends an IOTLB update and waits for the reply without reading the
 * backend channel, while the worker misses on both queues. The backend
 * must answer, send each miss once, drop the misses an update or an
 * invalidation settles, and never resend a miss the front-end answered
 * and then invalidated.
 */
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <time.h>

#include "echo.h"
#include "frontend.h"
#include "harness.h"
#include "vhost_user.h"
#include "vhost_user_proto.h"

#define NPKT	6000U

static uint32_t plen(uint32_t seq)
{
	return 60 + (seq * 131) % 1400;
}

static void make(uint8_t *p, uint32_t seq)
{
	uint32_t i, len = plen(seq);

	memcpy(p, &seq, 4);
	for (i = 4; i < len; i++)
		p[i] = (uint8_t)(seq + i * 3);
}

static uint64_t ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static int exchange(bool iommu, bool lazy, uint32_t churn_every)
{
	static struct vu_echo e;
	struct vu_app app;
	struct vu_front_cfg cfg = { .iommu = iommu, .lazy = lazy,
				    .iotlb_entries = 64 };
	char sock[64];
	struct vu_backend *b;
	struct vu_front *f;
	struct vu_front_stats fs;
	struct vu_stats bs;
	uint8_t out[2048], in[2048];
	uint32_t sent = 0, got = 0, bad = 0, churns = 0;
	uint64_t start = ms();

	vu_echo_init(&e, &app);
	snprintf(sock, sizeof(sock), "/tmp/ioasid-vuf-%d.sock", (int)getpid());
	cfg.path = sock;
	CHECK_OK(vu_backend_start(sock, &app, VU_OFFER_IOMMU, &b));
	CHECK_OK(vu_front_open(&cfg, &f));
	while (got + bad < NPKT && ms() - start < 60000) {
		uint32_t n;

		if (sent < NPKT && sent - got - bad < 128) {
			make(out, sent);
			if (!vu_front_send(f, out, plen(sent)))
				sent++;
		}
		while ((n = vu_front_recv(f, in, sizeof(in))) != 0) {
			uint32_t seq;

			make(out, got + bad);
			memcpy(&seq, in, 4);
			if (n == plen(seq) && seq == got + bad &&
			    !memcmp(in, out, n))
				got++;
			else
				bad++;
		}
		vu_front_serve(f);
		if (churn_every && sent && sent % churn_every == 0 &&
		    churns < sent / churn_every) {
			/* Remap an entry with buffers in it (not the rings'). */
			CHECK_OK(vu_front_churn(f, 1 + churns % 2));
			churns++;
		}
	}
	vu_front_stats(f, &fs);
	vu_backend_stats(b, &bs);
	vu_front_close(f);
	vu_backend_stop(b);
	diag("%s%s%s: %u sent, %u back intact, %u bad in %llu ms; IOTLB: %llu updates, %llu invalidates, %llu misses answered; backend saw %llu updates, %llu invalidates, sent %llu misses, %u broken",
	     iommu ? "iommu" : "no iommu", lazy ? ", lazy" : "",
	     churn_every ? ", churn" : "", sent, got, bad,
	     (unsigned long long)(ms() - start),
	     (unsigned long long)fs.updates, (unsigned long long)fs.invalidates,
	     (unsigned long long)fs.misses_served,
	     (unsigned long long)bs.iotlb_updates,
	     (unsigned long long)bs.iotlb_invalidates,
	     (unsigned long long)bs.misses, bs.broken);
	CHECK_EQ(got, NPKT);
	CHECK_EQ(bad, 0);
	CHECK_EQ(bs.broken, 0);
	if (iommu)
		CHECK(bs.iotlb_updates > 0);
	if (lazy) {
		CHECK(fs.misses_served > 0);
		CHECK_EQ(bs.misses, fs.misses_served);
	}
	if (churn_every)
		CHECK(bs.iotlb_invalidates >= churns);
	return 0;
}

static int no_iommu(struct fx *f)
{
	(void)f;
	return exchange(false, false, 0);
}

static int iommu_eager(struct fx *f)
{
	(void)f;
	return exchange(true, false, 0);
}

static int iommu_lazy(struct fx *f)
{
	(void)f;
	return exchange(true, true, 0);
}

static int iommu_churn(struct fx *f)
{
	(void)f;
	return exchange(true, false, 200);
}

static int iommu_lazy_churn(struct fx *f)
{
	(void)f;
	return exchange(true, true, 300);
}

/* Entries of 64 KiB: 0 and 1 hold queue 0's and queue 1's rings. */
#define U_ENTRIES	1024U
#define U_ENTRY		0x10000ULL
#define U_IOVA		0x100000000ULL	/* frontend.c's IOVA_BASE */
#define U_RXBUF		16U		/* entries of the receive buffers */
#define U_TXBUF		24U		/* and of the first transmit one */

static void wedged(int sig)
{
	static const char m[] = "# the backend did not answer in 30 s: wedged\n";

	(void)sig;
	if (write(1, m, sizeof(m) - 1) < 0)
		_exit(1);
	_exit(1);
}

/*
 * Every miss the channel holds now (it is not read otherwise): their
 * IOVAs into @iova, how many; -1 if a message is not an IOTLB miss.
 */
static int drain_misses(int fd, uint64_t *iova, int max)
{
	struct {
		struct vu_hdr h;
		struct vhost_iotlb_msg t;
	} __attribute__((packed)) m;
	int n = 0;

	usleep(300000);		/* many worker passes */
	while (recv(fd, &m, sizeof(m), MSG_DONTWAIT | MSG_WAITALL) ==
	       sizeof(m)) {
		if (m.h.request != VU_BACKEND_IOTLB_MSG ||
		    m.h.size != sizeof(m.t) || m.t.type != VHOST_IOTLB_MISS)
			return -1;
		if (n < max)
			iova[n] = m.t.iova;
		n++;
	}
	return n;
}

static int count_of(const uint64_t *iova, int n, uint64_t want)
{
	int i, k = 0;

	for (i = 0; i < n; i++)
		k += iova[i] == want;
	return k;
}

static int miss_channel_unread(struct fx *fx)
{
	static struct vu_echo e;
	struct vu_app app;
	struct vu_front_cfg cfg = { .iommu = true, .lazy = true,
				    .iotlb_entries = U_ENTRIES };
	const uint64_t ring0 = U_IOVA, ring1 = U_IOVA + U_ENTRY;
	const uint64_t txbuf = U_IOVA + U_TXBUF * U_ENTRY;
	uint64_t iova[4096];
	uint8_t out[2048], in[2048];
	struct vu_backend *b;
	struct vu_front *f;
	struct vu_stats bs;
	char sock[64];
	int req, n, queued = 0, i, sent_ring1;
	uint32_t got = 0;
	uint64_t start;

	(void)fx;
	vu_echo_init(&e, &app);
	snprintf(sock, sizeof(sock), "/tmp/ioasid-vum-%d.sock", (int)getpid());
	cfg.path = sock;
	CHECK_OK(vu_backend_start(sock, &app, VU_OFFER_IOMMU, &b));
	CHECK_OK(vu_front_open(&cfg, &f));
	req = vu_front_req_fd(f);
	CHECK(req >= 0);
	signal(SIGALRM, wedged);
	alarm(30);
	/*
	 * Queue 1's rings translate, queue 0's do not: the receive queue
	 * misses on its descriptors; one packet to send, in a buffer that
	 * does not translate: the transmit queue misses on it. Two queues,
	 * two addresses, on every pass of the worker, for a second, and
	 * nobody reads the channel.
	 */
	CHECK_OK(vu_front_map(f, 1));
	make(out, 0);
	CHECK_OK(vu_front_send(f, out, plen(0)));
	sleep(1);
	/* An acknowledged update while the channel is still unread. */
	CHECK_OK(ioctl(req, FIONREAD, &queued));
	CHECK_OK(vu_front_map(f, U_TXBUF));
	n = drain_misses(req, iova, 4096);
	diag("after 1 s unread: %d bytes queued, %d misses (%d for the ring, %d for the buffer)",
	     queued, n, count_of(iova, n, ring0), count_of(iova, n, txbuf));
	/* Queue 1's rings may have missed before their entry came. */
	sent_ring1 = count_of(iova, n, ring1);
	CHECK(sent_ring1 <= 1);
	CHECK_EQ(n, 2 + count_of(iova, n, ring1));
	CHECK_EQ(count_of(iova, n, ring0), 1);
	CHECK_EQ(count_of(iova, n, txbuf), 1);
	vu_backend_stats(b, &bs);
	CHECK_EQ(bs.rx_packets, 1);	/* the answer let the packet through */
	/*
	 * The buffer's entry goes (the packet is gone from the ring): no miss
	 * for it comes back, and the ring's, outstanding, is not sent again.
	 */
	CHECK_OK(vu_front_churn(f, U_TXBUF));
	n = drain_misses(req, iova, 4096);
	CHECK_EQ(n, 0);
	/*
	 * An invalidation over an outstanding miss drops it: the worker's
	 * next miss there is a new one, sent once.
	 */
	CHECK_OK(vu_front_churn(f, 0));
	n = drain_misses(req, iova, 4096);
	CHECK_EQ(n, 1);
	CHECK_EQ(count_of(iova, n, ring0), 1);
	/* Answered: the echoed packet reaches the receive buffers. */
	for (i = 0; i < 8; i++)
		CHECK_OK(vu_front_map(f, U_RXBUF + (uint32_t)i));
	CHECK_OK(vu_front_map(f, 0));
	start = ms();
	while (!got && ms() - start < 10000) {
		got = vu_front_recv(f, in, sizeof(in));
		if (!got)
			usleep(1000);
	}
	CHECK_EQ(got, plen(0));
	CHECK(!memcmp(in, out, got));
	n = drain_misses(req, iova, 4096);
	CHECK_EQ(n, 0);
	vu_backend_stats(b, &bs);
	diag("backend: %llu updates, %llu invalidates, %llu misses sent, %llu deferred",
	     (unsigned long long)bs.iotlb_updates,
	     (unsigned long long)bs.iotlb_invalidates,
	     (unsigned long long)bs.misses,
	     (unsigned long long)bs.misses_deferred);
	CHECK_EQ(bs.misses, 3 + (uint64_t)sent_ring1);
	CHECK_EQ(bs.broken, 0);
	alarm(0);
	vu_front_close(f);
	vu_backend_stop(b);
	return 0;
}

static const struct test tests[] = {
	{ "no_iommu", no_iommu, NULL },
	{ "iommu_eager", iommu_eager, NULL },
	{ "iommu_lazy_misses", iommu_lazy, NULL },
	{ "iommu_churn", iommu_churn, NULL },
	{ "iommu_lazy_churn", iommu_lazy_churn, NULL },
	{ "miss_channel_unread", miss_channel_unread, NULL },
};

int main(int argc, char **argv)
{
	return run_tests("frontend", tests, sizeof(tests) / sizeof(tests[0]),
			 argc, argv);
}
