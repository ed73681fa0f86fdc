// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/*
 * tap-reflect: the host end of the netd suite's traffic. On a host
 * interface (the TAP interface of ioasid-netd's net_tap port) it takes
 * every frame of the test's EtherType that arrives (what the guest's
 * vnet-frames sent, through the daemon), checks it is the numbered frame
 * vnet-frames makes (its length and every byte follow from its number),
 * and sends it straight back the way it came: the guest then checks the
 * return leg. So each frame crosses the daemon in both directions and is
 * checked after each.
 *
 * Every half second, and at SIGTERM or SIGINT, it rewrites STATS with
 * "intact N" and "bad N" lines, and prints the first bad frame's number.
 *
 * Usage: tap-reflect IFNAME STATS
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <linux/if_packet.h>
#include <net/ethernet.h>
#include <net/if.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "../vm/vnet_frame.h"

static volatile sig_atomic_t done;

static void on_signal(int sig)
{
	(void)sig;
	done = 1;
}

static void write_stats(const char *path, unsigned long intact,
			unsigned long bad)
{
	char tmp[4096];
	FILE *f = vnet_stats_begin(path, tmp, sizeof(tmp));

	if (!f)
		return;
	fprintf(f, "intact %lu\nbad %lu\n", intact, bad);
	vnet_stats_end(f, tmp, path);
}

int main(int argc, char **argv)
{
	static uint8_t buf[VNET_FRAME_MAX + 64];
	struct sockaddr_ll sll = { .sll_family = AF_PACKET };
	unsigned long intact = 0, bad = 0;
	struct timespec last = { 0 }, now;
	struct sigaction sa;
	int s;

	if (argc != 3) {
		fprintf(stderr, "usage: %s IFNAME STATS\n", argv[0]);
		return 2;
	}
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sll.sll_protocol = htons(VNET_ETHERTYPE);
	sll.sll_ifindex = (int)if_nametoindex(argv[1]);
	if (!sll.sll_ifindex) {
		fprintf(stderr, "tap-reflect: no interface %s\n", argv[1]);
		return 1;
	}
	s = socket(AF_PACKET, SOCK_RAW, htons(VNET_ETHERTYPE));
	if (s < 0 || bind(s, (struct sockaddr *)&sll, sizeof(sll))) {
		fprintf(stderr, "tap-reflect: %s: %s\n", argv[1], strerror(errno));
		return 1;
	}
	write_stats(argv[2], 0, 0);
	while (!done) {
		struct pollfd p = { .fd = s, .events = POLLIN };
		struct sockaddr_ll from;
		socklen_t fl = sizeof(from);
		ssize_t n;

		clock_gettime(CLOCK_MONOTONIC, &now);
		if (now.tv_sec * 1000L + now.tv_nsec / 1000000 -
		    (last.tv_sec * 1000L + last.tv_nsec / 1000000) >= 500) {
			write_stats(argv[2], intact, bad);
			last = now;
		}
		if (poll(&p, 1, 200) <= 0)
			continue;
		n = recvfrom(s, buf, sizeof(buf), MSG_DONTWAIT,
			     (struct sockaddr *)&from, &fl);
		/* Our own frames going out come back to us: not the guest's. */
		if (n <= 0 || from.sll_pkttype == PACKET_OUTGOING)
			continue;
		if (vnet_frame_intact(buf, (size_t)n)) {
			intact++;
		} else {
			uint32_t seq = 0;

			if (n >= 18)
				memcpy(&seq, buf + 14, 4);
			if (!bad++)
				fprintf(stderr, "tap-reflect: frame %u (%zd bytes) is not what vnet-frames sent\n",
					seq, n);
		}
		/* Back as it came, damaged or not: the guest sees the rest. */
		(void)!sendto(s, buf, (size_t)n, 0, (struct sockaddr *)&sll,
			      sizeof(sll));
	}
	write_stats(argv[2], intact, bad);
	printf("intact %lu\nbad %lu\n", intact, bad);
	return 0;
}
