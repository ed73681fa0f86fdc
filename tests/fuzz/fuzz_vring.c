// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/*
 * fuzz_vring: descriptor tables from the fuzzer, through the device side
 * of a split virtqueue (vhost/vring.c) over a fast-path shadow.
 *
 * Input: byte 0 features (bit n: the n-th lowest bit of VQ_FEATURES, so
 * bit 0 indirect, bit 1 event index, bit 2 the packed layout, whose
 * descriptors' flags then come from the input), byte 1 the
 * ring size's log2 (mod 9: 1 to 256 entries), two bytes of avail index,
 * then the descriptor table, the avail ring, and the rest as one indirect
 * table area; missing bytes read as zero. Descriptor addresses with the
 * top bit clear are folded into the guest's IOVA window, so most point at
 * guest memory; with it set they are taken raw.
 *
 * The guest: 1 MiB of malloc()ed memory (so AddressSanitizer sees any
 * access outside it) in 16 chunks mapped at shuffled IOVAs, one read-only,
 * one unmapped. Every chain the queue hands out is read and written in
 * full, and every segment must lie inside guest memory, else abort().
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "vring.h"

#define F_BASE		0x100000ULL
#define F_CHUNK		0x10000ULL
#define F_CHUNKS	16U
#define F_RO		3U
#define F_HOLE		9U
#define F_MEM		(F_CHUNKS * F_CHUNK)

static uint8_t *mem;
static struct ioasid_fp_shadow *sh;
static struct ioasid_fp_reader *rd;

static int ok_map(struct ioasid_fp_backend *be, const struct ioasid_fp_op *op,
		  uint32_t n, uint32_t *fail)
{
	(void)be;
	(void)op;
	(void)n;
	(void)fail;
	return 0;
}

static void no_destroy(struct ioasid_fp_backend *be)
{
	(void)be;
}

static const struct ioasid_fp_backend_ops ok_ops = {
	.map = ok_map, .unmap = ok_map, .destroy = no_destroy,
};

static struct ioasid_fp_backend ok_be = {
	.ops = &ok_ops, .name = "accept-all", .caps = IOASID_FP_BE_BATCH,
};

static uint32_t chunk_of(uint32_t k)
{
	return (k * 7U) % F_CHUNKS;
}

static void setup(void)
{
	struct ioasid_fp_batcher_cfg cfg = { .size = sizeof(cfg) };
	struct ioasid_fp_batcher *b;
	uint32_t k;

	mem = malloc(F_MEM);
	if (!mem || ioasid_fp_shadow_create(&sh) ||
	    ioasid_fp_batcher_create(sh, &ok_be, &cfg, &b))
		abort();
	for (k = 0; k < F_CHUNKS; k++)
		if (k != F_HOLE &&
		    ioasid_fp_map(b, F_BASE + k * F_CHUNK,
				  mem + chunk_of(k) * F_CHUNK, F_CHUNK,
				  k == F_RO ? IOASID_FP_READ :
					      IOASID_FP_READ | IOASID_FP_WRITE))
			abort();
	ioasid_fp_batcher_destroy(b);
	if (ioasid_fp_reader_register(sh, &rd))
		abort();
}

/* Copy input bytes to guest IOVA @iova (chunk by chunk), zero-padding. */
static void put(uint64_t iova, const uint8_t *src, size_t have, size_t len)
{
	while (len) {
		uint64_t k = (iova - F_BASE) / F_CHUNK, off = iova % F_CHUNK;
		size_t n = F_CHUNK - off < len ? F_CHUNK - off : len;
		uint8_t *dst = mem + chunk_of((uint32_t)k) * F_CHUNK + off;

		if (have >= n) {
			memcpy(dst, src, n);
			src += n;
			have -= n;
		} else {
			if (have)
				memcpy(dst, src, have);
			memset(dst + have, 0, n - have);
			have = 0;
		}
		iova += n;
		len -= n;
	}
}

static void check_chain(const struct vq_chain *c)
{
	volatile uint8_t sum = 0;
	uint32_t i, j;

	for (i = 0; i < (uint32_t)(c->nout + c->nin); i++) {
		uint8_t *p = c->iov[i].base;

		if (p < mem || p + c->iov[i].len > mem + F_MEM)
			abort();
		for (j = 0; j < c->iov[i].len; j++)
			sum = (uint8_t)(sum + p[j]);
		if (i >= c->nout)
			memset(p, 0x5a, c->iov[i].len);
	}
}

/* Input bit n turns on the n-th lowest ring feature of VQ_FEATURES. */
static uint64_t ring_features(uint8_t in)
{
	uint64_t f = 0, left = VQ_FEATURES;

	for (; left && in; in >>= 1, left &= left - 1)
		if (in & 1)
			f |= left & -left;
	return f;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct vq_config c = { 0 };
	static struct vq_chain ch;
	struct vq q;
	uint16_t n, avail_idx, i;
	size_t pos = 4, dlen, alen;
	uint8_t pkt[300];
	int rc, round;

	if (!mem)
		setup();
	if (size < 4)
		return 0;
	n = (uint16_t)(1U << (data[1] % 9));
	c.size = n;
	c.features = ring_features(data[0]);
	c.desc = F_BASE;			/* chunk 0 */
	c.avail = F_BASE + 0x8000;
	c.used = F_BASE + 0xc000;
	memcpy(&avail_idx, data + 2, 2);
	memset(mem + chunk_of(0) * F_CHUNK, 0, F_CHUNK);
	/* Descriptors: fold addresses into the window unless the top bit. */
	dlen = (size_t)n * 16;
	for (i = 0; i < n; i++) {
		struct vring_desc_le d = { 0 };
		size_t at = pos + (size_t)i * 16;

		if (at < size)
			memcpy(&d, data + at, size - at < 16 ? size - at : 16);
		if (!(d.addr >> 63))
			d.addr = F_BASE + d.addr % (F_MEM + F_CHUNK);
		put(c.desc + (uint64_t)i * 16, (const uint8_t *)&d, 16, 16);
	}
	pos += dlen;
	/* The avail ring: flags, idx, ring[n], used_event. */
	{
		uint16_t hdr[2] = { 0, avail_idx };

		put(c.avail, (const uint8_t *)hdr, 4, 4);
		alen = (size_t)n * 2 + 2;
		put(c.avail + 4, pos < size ? data + pos : NULL,
		    pos < size ? size - pos : 0, alen);
		pos += alen;
	}
	/* The rest: an indirect table area at chunk 1 (4 KiB of it). */
	{
		uint8_t tbl[4096] = { 0 };
		size_t m = pos < size ? size - pos : 0;

		if (m > sizeof(tbl))
			m = sizeof(tbl);
		if (m)
			memcpy(tbl, data + pos, m);
		for (i = 0; i < sizeof(tbl) / 16; i++) {
			uint64_t a;

			memcpy(&a, tbl + i * 16, 8);
			if (!(a >> 63))
				a = F_BASE + a % (F_MEM + F_CHUNK);
			memcpy(tbl + i * 16, &a, 8);
		}
		put(F_BASE + F_CHUNK, tbl, sizeof(tbl), sizeof(tbl));
	}
	if (vq_init(&q, &c, rd))
		return 0;
	for (round = 0; round < 2 * n + 2; round++) {
		rc = vq_pop(&q, &ch);
		if (rc <= 0)
			break;
		check_chain(&ch);
		vq_push(&q, ch.head, (uint32_t)ch.in_len);
		if (round % 3 == 2)
			vq_flush(&q);
	}
	vq_flush(&q);
	/* A mergeable receive on what is left, if the queue still works. */
	if (!q.broken) {
		memset(pkt, 0x11, sizeof(pkt));
		(void)vq_rx_mergeable(&q, pkt, sizeof(pkt));
		vq_flush(&q);
	}
	vq_fini(&q);
	ioasid_fp_reader_quiescent(rd);
	return 0;
}
