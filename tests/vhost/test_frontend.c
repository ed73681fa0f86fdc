// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/*
 * frontend: the project's vhost-user front-end against the project's
 * backend, which echoes every packet back. Without an IOMMU; with one and
 * every IOTLB entry sent up front; with one and nothing sent until the
 * backend misses (each miss travels back on the backend request channel
 * and is answered); and with entries invalidated and re-sent while the
 * traffic flows. Every packet must come back intact and in order.
 */
#include <time.h>

#include "echo.h"
#include "frontend.h"
#include "harness.h"
#include "vhost_user.h"

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

static const struct test tests[] = {
	{ "no_iommu", no_iommu, NULL },
	{ "iommu_eager", iommu_eager, NULL },
	{ "iommu_lazy_misses", iommu_lazy, NULL },
	{ "iommu_churn", iommu_churn, NULL },
	{ "iommu_lazy_churn", iommu_lazy_churn, NULL },
};

int main(int argc, char **argv)
{
	return run_tests("frontend", tests, sizeof(tests) / sizeof(tests[0]),
			 argc, argv);
}
