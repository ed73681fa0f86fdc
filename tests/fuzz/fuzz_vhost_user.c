// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/*
 * fuzz_vhost_user: the vhost-user backend's message handling, driven by a
 * front-end the fuzzer plays. Each input is one connection to a fresh
 * session (vu_session_open: the real message checks and handlers, no
 * threads), and after every message the worker serves the queues once,
 * so a memory table, ring addresses and bases the fuzzer chose are also
 * walked. AddressSanitizer sees any access outside what the backend
 * mapped; a worker that blocks shows as a libFuzzer timeout.
 *
 * Input: records of
 *   byte 0   request (0: write guest memory instead of a message)
 *   byte 1   bit 0 NEED_REPLY, bit 1 a wrong version, bit 2 the reply flag
 *   byte 2   descriptors: bits 0-1 how many (0-3), bits 2-3 their kind
 *            (a memfd of guest memory, an eventfd, a pipe's write end
 *            that nobody reads, a socket whose peer is drained)
 *   byte 3-4 payload size (little endian), clamped to what is left
 *   payload
 * A guest-memory write's payload is a 16-bit offset and the bytes to
 * write there (the guest's rings and buffers). Guest memory: one 64 KiB
 * memfd; the seeds map it at guest address 0 and front-end address
 * 0x10000000. tests/fuzz/make_vu_corpus.py writes the seeds.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

#include "echo.h"
#include "vhost_user.h"
#include "vhost_user_proto.h"

#define G_MEM	0x10000U

static int gfd = -1;
static uint8_t *gmem;

static void setup(void)
{
	gfd = memfd_create("fuzz-guest", MFD_CLOEXEC);
	if (gfd < 0 || ftruncate(gfd, G_MEM))
		abort();
	gmem = mmap(NULL, G_MEM, PROT_READ | PROT_WRITE, MAP_SHARED, gfd, 0);
	if (gmem == MAP_FAILED)
		abort();
}

/* A descriptor of @kind for the backend; *extra gets one to close after. */
static int make_fd(unsigned int kind, int *extra)
{
	int p[2];

	*extra = -1;
	switch (kind) {
	case 0:
		return dup(gfd);
	case 1:
		return eventfd(0, EFD_CLOEXEC);
	case 2:
		if (pipe2(p, O_CLOEXEC))
			return -1;
		*extra = p[0];		/* never read */
		return p[1];
	default:
		if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, p))
			return -1;
		fcntl(p[0], F_SETFL, O_NONBLOCK);
		*extra = p[0];		/* the front-end's end: drained at the end */
		return p[1];
	}
}

static void drain(int fd)
{
	char buf[4096];

	while (recv(fd, buf, sizeof(buf), MSG_DONTWAIT) > 0)
		;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct vu_msg m;
	static struct vu_echo echo[VU_MAX_QP];
	/* Queue pairs from the input's length: one to VU_MAX_QP (MQ). */
	uint32_t pairs = 1 + (uint32_t)(size % VU_MAX_QP);
	int extra[64], nextra = 0, sv[2];
	struct vu_backend *b;
	struct vu_app app[VU_MAX_QP];
	size_t pos = 0;
	int msgs = 0;

	if (gfd < 0)
		setup();
	memset(gmem, 0, G_MEM);
	for (uint32_t i = 0; i < pairs; i++)
		vu_echo_init(&echo[i], &app[i]);
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv))
		abort();
	/* Replies must never block the fuzzer: the backend's end is non-blocking. */
	fcntl(sv[1], F_SETFL, O_NONBLOCK);
	if (vu_session_open_mq(app, pairs, VU_OFFER_IOMMU, sv[1], &b))
		abort();
	while (pos + 5 <= size && msgs++ < 64) {
		uint32_t req = data[pos], fl = data[pos + 1], fdsel = data[pos + 2];
		uint32_t len = (uint32_t)data[pos + 3] | (uint32_t)data[pos + 4] << 8;
		int fds[VU_MAX_FDS], nfds = 0, rc;

		pos += 5;
		if (len > size - pos)
			len = (uint32_t)(size - pos);
		if (!req) {		/* write guest memory */
			if (len >= 2) {
				uint32_t off = ((uint32_t)data[pos] |
						(uint32_t)data[pos + 1] << 8) % G_MEM;
				uint32_t n = len - 2;

				if (n > G_MEM - off)
					n = G_MEM - off;
				memcpy(gmem + off, data + pos + 2, n);
			}
			pos += len;
			continue;
		}
		if (len > sizeof(m.p))
			len = sizeof(m.p);
		memset(&m, 0, sizeof(m));
		m.h.request = req;
		m.h.flags = (fl & 2 ? 2 : VU_VERSION) |
			    (fl & 1 ? VU_FLAG_NEED_REPLY : 0) |
			    (fl & 4 ? VU_FLAG_REPLY : 0);
		m.h.size = len;
		memcpy(&m.p, data + pos, len);
		pos += len;
		for (uint32_t k = 0; k < (fdsel & 3); k++) {
			int e, fd = make_fd((fdsel >> 2) & 3, &e);

			if (fd >= 0)
				fds[nfds++] = fd;
			if (e >= 0 && nextra < 64)
				extra[nextra++] = e;
			else if (e >= 0)
				close(e);
		}
		rc = vu_session_msg(b, &m, fds, nfds);
		drain(sv[0]);
		if (rc)
			break;		/* the backend ends the connection */
		vu_session_pass(b);
	}
	if (getenv("FUZZ_VU_VERBOSE")) {
		uint16_t u0, u1;

		memcpy(&u0, gmem + 0x3002, 2);	/* the seeds' used rings */
		memcpy(&u1, gmem + 0x6002, 2);
		fprintf(stderr, "fuzz_vhost_user: %d messages, %u pairs, used idx rx %u tx %u\n",
			msgs, pairs, u0, u1);
		for (uint32_t i = 0; i < pairs; i++)
			fprintf(stderr, "fuzz_vhost_user: pair %u: echo in %u out %u\n",
				i, echo[i].head, echo[i].tail);
	}
	vu_session_close(b);
	for (int i = 0; i < nextra; i++)
		close(extra[i]);
	close(sv[0]);
	close(sv[1]);
	return 0;
}
