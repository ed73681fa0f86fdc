// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/* Numbered traffic for a forwarder that sends everything back: traffic.h. */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "traffic.h"

#define ETH_HLEN	14
#define PROBE		0xffffffffU

static uint64_t now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000 + (uint64_t)ts.tv_nsec / 1000;
}

static uint32_t pkt_len(uint32_t seq)
{
	return 64 + (seq * 97) % (1514 - 64 + 1);
}

static uint8_t pat(uint32_t seq, uint32_t i)
{
	return (uint8_t)(seq * 31 + i * 7);
}

static uint32_t gen(void *arg, uint8_t *buf, uint32_t max)
{
	struct vu_traffic *t = arg;
	uint32_t seq = t->sent, len = pkt_len(seq), i;
	static const uint8_t hdr[ETH_HLEN] = {
		0x02, 0, 0, 0, 0, 0x01, 0x02, 0, 0, 0, 0, 0x02, 0x88, 0xb5,
	};

	if (!__atomic_load_n(&t->forwarding, __ATOMIC_ACQUIRE)) {
		uint64_t now = now_us();

		if (now - t->last_probe_us < 10000)
			return 0;
		t->last_probe_us = now;
		seq = PROBE;
		len = 64;
	} else if (seq == t->npkt || len > max ||
		   seq - __atomic_load_n(&t->got, __ATOMIC_ACQUIRE) - t->bad >=
			   t->window) {
		return 0;
	}
	memcpy(buf, hdr, ETH_HLEN);
	memcpy(buf + ETH_HLEN, &seq, 4);
	memcpy(buf + ETH_HLEN + 4, &len, 4);
	for (i = ETH_HLEN + 8; i < len; i++)
		buf[i] = pat(seq, i);
	if (seq != PROBE)
		__atomic_store_n(&t->sent, seq + 1, __ATOMIC_RELEASE);
	return len;
}

static void check(void *arg, const uint8_t *pkt, uint32_t len)
{
	struct vu_traffic *t = arg;
	uint32_t seq = 0, l, i;
	bool ok = len >= ETH_HLEN + 8;

	if (ok) {
		memcpy(&seq, pkt + ETH_HLEN, 4);
		if (seq == PROBE) {
			t->probes++;
			__atomic_store_n(&t->forwarding, 1, __ATOMIC_RELEASE);
			return;
		}
		memcpy(&l, pkt + ETH_HLEN + 4, 4);
		ok = l == len && seq < t->npkt && l == pkt_len(seq);
		for (i = ETH_HLEN + 8; ok && i < len; i++)
			ok = pkt[i] == pat(seq, i);
	}
	if (!ok) {
		if (!t->bad)
			t->first_bad = t->got;
		__atomic_store_n(&t->bad, t->bad + 1, __ATOMIC_RELEASE);
		return;
	}
	if (t->got && seq <= t->last_seq)
		t->out_of_order++;
	t->last_seq = seq;
	t->seen[seq] = 1;
	if (!t->got)
		t->first_us = now_us();
	t->last_us = now_us();
	__atomic_store_n(&t->got, t->got + 1, __ATOMIC_RELEASE);
}

int vu_traffic_init(struct vu_traffic *t, uint32_t npkt, uint32_t window,
		    struct vu_app *app)
{
	memset(t, 0, sizeof(*t));
	t->npkt = npkt;
	t->window = window;
	t->seen = calloc(npkt ? npkt : 1, 1);
	if (!t->seen)
		return -ENOMEM;
	app->rx = check;
	app->tx = gen;
	app->arg = t;
	return 0;
}

void vu_traffic_fini(struct vu_traffic *t)
{
	free(t->seen);
	t->seen = NULL;
}

double vu_traffic_rate(const struct vu_traffic *t)
{
	if (t->got < 2 || t->last_us <= t->first_us)
		return 0;
	return (double)(t->got - 1) * 1e6 / (double)(t->last_us - t->first_us);
}

void vu_traffic_report_missing(const struct vu_traffic *t, FILE *to,
			       uint32_t max_ranges)
{
	uint32_t k, from = UINT32_MAX, ranges = 0;

	for (k = 0; k <= t->npkt && ranges < max_ranges; k++) {
		bool miss = k < t->npkt && !t->seen[k];

		if (miss && from == UINT32_MAX)
			from = k;
		if (!miss && from != UINT32_MAX) {
			fprintf(to, "# packets %u to %u never came back\n", from,
				k - 1);
			from = UINT32_MAX;
			ranges++;
		}
	}
}
