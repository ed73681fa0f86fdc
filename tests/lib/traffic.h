/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/*
 * Numbered traffic for a device's application (struct vu_app) when an
 * unmodified packet forwarder (dpdk-testpmd in io mode) sends every packet
 * back: the device sends @npkt numbered Ethernet frames of 64 to 1,514
 * bytes with a per-packet pattern and checks each one that comes back.
 * testpmd drops what arrives before it forwards and on a full ring, so it
 * first sends a probe every 10 ms until one returns, then keeps at most
 * @window packets in flight. Callbacks run on the device's worker thread;
 * the counters may be read from any thread.
 */
#ifndef IOASID_VHOST_TRAFFIC_H
#define IOASID_VHOST_TRAFFIC_H

#include <stdint.h>
#include <stdio.h>

#include "vhost_user.h"

struct vu_traffic {
	uint32_t npkt, window;
	uint32_t sent, got, bad;	/* read with __atomic_load_n */
	uint32_t out_of_order, probes, first_bad, last_seq;
	uint32_t forwarding;
	uint64_t last_probe_us, first_us, last_us;
	uint8_t *seen;			/* npkt flags: which came back */
};

/* 0, or -ENOMEM; fills @app. vu_traffic_fini() frees. */
int vu_traffic_init(struct vu_traffic *t, uint32_t npkt, uint32_t window,
		    struct vu_app *app);
void vu_traffic_fini(struct vu_traffic *t);
/* Packets back per second, between the first and the last. */
double vu_traffic_rate(const struct vu_traffic *t);
/* Ranges of packets that never came back, one line each, to @to. */
void vu_traffic_report_missing(const struct vu_traffic *t, FILE *to,
			       uint32_t max_ranges);

#endif /* IOASID_VHOST_TRAFFIC_H */
