// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/*
 * vu-echo-server: the project's vhost-user backend with the echo
 * application on a socket, for front-ends the tests do not link with
 * (QEMU in tests/vhost/test_qemu.sh). It offers VIRTIO_F_ACCESS_PLATFORM,
 * so the front-end decides whether IOTLB messages flow.
 *
 * Every half second it rewrites STATS (when given) with its counters, one
 * "name value" per line, and it prints them on stdout when it stops: at
 * SIGTERM or SIGINT, or after --seconds. A backend that wedges shows as
 * counters that stop moving while the front-end still waits.
 *
 * With --delay-us N each frame goes back to the driver no sooner than N
 * microseconds after it came (the echo holds it), as a daemon's frames
 * do: the driver's receive queue then fills while its transmit queue is
 * quiet, which the same-pass echo never makes happen. --hold N keeps
 * frames until N are held (or the oldest waited 2 ms) and returns them in
 * one burst. --stall-us N makes the application take N microseconds over
 * each frame it receives, so that the transmit chain it came in is used
 * (returned to the driver) that much later.
 *
 * With --client the backend connects to SOCKET, where the front-end
 * listens (QEMU's -chardev socket,server=on), and connects again after
 * each disconnect.
 *
 * Usage: vu-echo-server SOCKET [--stats FILE] [--seconds N]
 *                      [--delay-us N] [--hold N] [--stall-us N]
 *                      [--queues N] [--client]
 */
#include <errno.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "../vm/vnet_frame.h"
#include "echo.h"
#include "vhost_user.h"

static volatile sig_atomic_t done;

/*
 * The late echo: when each held frame came (indexed as the echo's slots),
 * and the rules for letting it go.
 */
static struct late {
	uint32_t (*tx)(void *arg, uint8_t *buf, uint32_t max);
	struct vu_echo *e;
	uint64_t delay_ns;
	uint32_t hold;
	uint64_t at[VU_ECHO_SLOTS];
	bool burst;			/* a held burst is going out */
	unsigned int stall_us;
} late;

static uint64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

static void late_stamp(void)
{
	struct vu_echo *e = late.e;

	/* The slot the echo is about to fill, unless it drops the frame. */
	if (e->head - e->tail < VU_ECHO_SLOTS)
		late.at[e->head % VU_ECHO_SLOTS] = mono_ns();
}

static uint32_t late_tx(void *arg, uint8_t *buf, uint32_t max)
{
	struct vu_echo *e = late.e;
	uint32_t held = e->head - e->tail;
	uint64_t age;

	if (!held) {
		late.burst = false;
		return 0;
	}
	age = mono_ns() - late.at[e->tail % VU_ECHO_SLOTS];
	if (age < late.delay_ns)
		return 0;
	if (late.hold && !late.burst) {
		if (held < late.hold && age < 2000000)
			return 0;
		late.burst = true;
	}
	return late.tx(arg, buf, max);
}

/*
 * The frames of tests/vm/vnet_frames.c (EtherType 0x88b5, a sequence
 * number, then bytes that follow from it) are checked on their way
 * through, so that a frame the guest misses can be placed: one that
 * reached the backend damaged or out of sequence was read wrongly here
 * (or sent so); one that came intact was lost on its way back.
 */
static struct vnet_check {
	void (*rx)(void *arg, const uint8_t *pkt, uint32_t len);
	void *arg;
	uint64_t frames, damaged, gaps, other;
	uint32_t next;
	unsigned int told, told_other;
} check;

static void check_rx(void *arg, const uint8_t *pkt, uint32_t len)
{
	const char *what = NULL;
	uint32_t seq;

	if (vnet_frame_is_test(pkt, len)) {
		seq = vnet_frame_seq(pkt);
		__atomic_fetch_add(&check.frames, 1, __ATOMIC_RELAXED);
		if (len != vnet_frame_len(seq))
			what = "length differs";
		else if (!vnet_frame_intact(pkt, len))
			what = "content differs";
		if (what)
			__atomic_fetch_add(&check.damaged, 1, __ATOMIC_RELAXED);
		else if (seq > check.next)
			__atomic_fetch_add(&check.gaps, 1, __ATOMIC_RELAXED);
		if ((what || seq != check.next) && check.told++ < 10)
			fprintf(stderr, "vnet-check: frame %u (%u bytes) after %u: %s\n",
				seq, len, check.next,
				what ? what : seq > check.next ?
				"frames before it never came" : "out of order");
		if (!what && seq >= check.next)
			check.next = seq + 1;
	} else {
		/*
		 * Not a test frame: the guest's own (ARP, IPv6), or, when a
		 * test frame goes missing, what was read in its place. The
		 * first few are shown so that a gap can be told apart.
		 */
		__atomic_fetch_add(&check.other, 1, __ATOMIC_RELAXED);
		if (check.told_other++ < 10 && len >= 14)
			fprintf(stderr, "vnet-check: other frame of %u bytes after %u: type %02x%02x, bytes 14-21 %02x%02x%02x%02x %02x%02x%02x%02x\n",
				len, check.next, pkt[12], pkt[13],
				len > 14 ? pkt[14] : 0, len > 15 ? pkt[15] : 0,
				len > 16 ? pkt[16] : 0, len > 17 ? pkt[17] : 0,
				len > 18 ? pkt[18] : 0, len > 19 ? pkt[19] : 0,
				len > 20 ? pkt[20] : 0, len > 21 ? pkt[21] : 0);
	}
	if (late.e)
		late_stamp();
	if (late.stall_us)
		usleep(late.stall_us);
	check.rx(arg, pkt, len);
}

static void on_signal(int sig)
{
	(void)sig;
	done = 1;
}

/* One echo per queue pair. */
static struct vu_echo echoes[VU_MAX_QP];

static void dump(FILE *f, const struct vu_stats *s)
{
	uint64_t dropped = 0;

	for (uint32_t p = 0; p < s->pairs; p++) {
		dropped += echoes[p].dropped;
		fprintf(f, "pair%u_rx %llu\npair%u_tx %llu\n", p,
			(unsigned long long)s->pair_rx[p], p,
			(unsigned long long)s->pair_tx[p]);
	}
	fprintf(f, "rx_packets %llu\nrx_short %llu\ntx_packets %llu\niotlb_updates %llu\n"
		"iotlb_invalidates %llu\nmisses %llu\nmisses_deferred %llu\n"
		"misses_overflow %llu\nconnections %llu\nconnect_failures %llu\n"
		"broken %u\nrunning %u\necho_dropped %llu\n"
		"vnet_frames %llu\nvnet_damaged %llu\nvnet_gaps %llu\n"
		"vnet_other %llu\n",
		(unsigned long long)s->rx_packets,
		(unsigned long long)s->rx_short,
		(unsigned long long)s->tx_packets,
		(unsigned long long)s->iotlb_updates,
		(unsigned long long)s->iotlb_invalidates,
		(unsigned long long)s->misses,
		(unsigned long long)s->misses_deferred,
		(unsigned long long)s->misses_overflow,
		(unsigned long long)s->connections,
		(unsigned long long)s->connect_failures, s->broken, s->running,
		(unsigned long long)dropped,
		(unsigned long long)__atomic_load_n(&check.frames, __ATOMIC_RELAXED),
		(unsigned long long)__atomic_load_n(&check.damaged, __ATOMIC_RELAXED),
		(unsigned long long)__atomic_load_n(&check.gaps, __ATOMIC_RELAXED),
		(unsigned long long)__atomic_load_n(&check.other, __ATOMIC_RELAXED));
}

static void write_stats(const char *path, const struct vu_stats *s)
{
	char tmp[4096];
	FILE *f = vnet_stats_begin(path, tmp, sizeof(tmp));

	if (!f)
		return;
	dump(f, s);
	vnet_stats_end(f, tmp, path);
}

int main(int argc, char **argv)
{
	struct vu_echo *e = &echoes[0];
	struct vu_app apps[VU_MAX_QP];
	unsigned long pairs = 1;
	const char *stats = NULL;
	double seconds = 0, delay_us = 0;
	long hold = 0;
	struct vu_backend *b;
	struct vu_stats st;
	struct sigaction sa;
	struct timespec t0, now;
	uint32_t flags = VU_OFFER_IOMMU;
	int i, rc;

	if (argc < 2) {
		fprintf(stderr, "usage: %s SOCKET [--stats FILE] [--seconds N]"
			" [--delay-us N] [--hold N] [--stall-us N] [--queues N]"
			" [--client]\n",
			argv[0]);
		return 2;
	}
	for (i = 2; i < argc; i++) {
		if (!strcmp(argv[i], "--stats") && i + 1 < argc) {
			stats = argv[++i];
		} else if (!strcmp(argv[i], "--seconds") && i + 1 < argc) {
			seconds = atof(argv[++i]);
		} else if (!strcmp(argv[i], "--delay-us") && i + 1 < argc) {
			delay_us = atof(argv[++i]);
		} else if (!strcmp(argv[i], "--stall-us") && i + 1 < argc) {
			late.stall_us = (unsigned int)atoi(argv[++i]);
		} else if (!strcmp(argv[i], "--queues") && i + 1 < argc) {
			pairs = strtoul(argv[++i], NULL, 10);
			if (pairs < 1 || pairs > VU_MAX_QP) {
				fprintf(stderr, "%s: --queues takes 1 to %u queue pairs\n",
					argv[0], VU_MAX_QP);
				return 2;
			}
		} else if (!strcmp(argv[i], "--client")) {
			flags |= VU_CLIENT;	/* QEMU listens on SOCKET */
		} else if (!strcmp(argv[i], "--hold") && i + 1 < argc) {
			hold = atol(argv[++i]);
			if (hold < 0 || hold > (long)VU_ECHO_SLOTS) {
				fprintf(stderr, "%s: --hold takes 0 to %u frames\n",
					argv[0], VU_ECHO_SLOTS);
				return 2;
			}
		} else {
			fprintf(stderr, "%s: unknown argument %s\n", argv[0],
				argv[i]);
			return 2;
		}
	}
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	if (pairs > 1 && (delay_us > 0 || hold > 0)) {
		fprintf(stderr, "%s: --delay-us and --hold serve one queue pair only\n",
			argv[0]);
		return 2;
	}
	/* An echo per pair: a frame goes back on the pair it came from. */
	for (i = 0; i < (int)pairs; i++) {
		vu_echo_init(&echoes[i], &apps[i]);
		check.rx = apps[i].rx;
		apps[i].rx = check_rx;
	}
	if (delay_us > 0 || hold > 0) {
		late.e = e;
		late.tx = apps[0].tx;
		late.delay_ns = (uint64_t)(delay_us * 1000);
		late.hold = (uint32_t)hold;
		apps[0].tx = late_tx;
	}
	rc = vu_backend_start_mq(argv[1], apps, (uint32_t)pairs, flags,
				 &b);
	if (rc) {
		fprintf(stderr, "%s: cannot serve %s: %s\n", argv[0], argv[1],
			strerror(-rc));
		return 1;
	}
	clock_gettime(CLOCK_MONOTONIC, &t0);
	while (!done) {
		usleep(500000);
		vu_backend_stats(b, &st);
		if (stats)
			write_stats(stats, &st);
		clock_gettime(CLOCK_MONOTONIC, &now);
		if (seconds > 0 && (double)(now.tv_sec - t0.tv_sec) +
				   (now.tv_nsec - t0.tv_nsec) / 1e9 >= seconds)
			break;
	}
	vu_backend_stats(b, &st);
	vu_backend_stop(b);
	if (stats)
		write_stats(stats, &st);
	dump(stdout, &st);
	return 0;
}
