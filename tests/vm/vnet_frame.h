/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/*
 * The numbered test frames of vnet-frames (tests/vm/vnet_frames.c): an
 * Ethernet header with EtherType VNET_ETHERTYPE, a 32-bit sequence number
 * at byte 14, then bytes that follow from it; the length follows from the
 * number too, from VNET_FRAME_MIN to VNET_FRAME_MAX. One definition for
 * the guest that makes them and the checkers on the way (vu-echo-server,
 * tap-reflect). Header only: vnet-frames is built static on its own.
 */
#ifndef IOASID_TESTS_VNET_FRAME_H
#define IOASID_TESTS_VNET_FRAME_H

#include <arpa/inet.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#define VNET_ETHERTYPE	0x88b5		/* IEEE local experimental */
#define VNET_FRAME_MIN	64U
#define VNET_FRAME_MAX	1514U
#define VNET_FRAME_HDR	18U		/* Ethernet header + sequence */

static inline uint32_t vnet_frame_len(uint32_t seq)
{
	return VNET_FRAME_MIN + (seq * 131U) % (VNET_FRAME_MAX - VNET_FRAME_MIN + 1);
}

static inline uint8_t vnet_frame_byte(uint32_t seq, size_t i)
{
	return (uint8_t)(seq * 7 + i);
}

/* Frame @seq from @mac to itself into @f (vnet_frame_len(seq) bytes). */
static inline void vnet_frame_fill(uint8_t *f, const uint8_t *mac, uint32_t seq)
{
	uint16_t type = htons(VNET_ETHERTYPE);
	uint32_t i, len = vnet_frame_len(seq);

	memcpy(f, mac, 6);
	memcpy(f + 6, mac, 6);
	memcpy(f + 12, &type, 2);
	memcpy(f + 14, &seq, 4);
	for (i = VNET_FRAME_HDR; i < len; i++)
		f[i] = vnet_frame_byte(seq, i);
}

/* Whether @f carries the test EtherType (and so a sequence number). */
static inline int vnet_frame_is_test(const uint8_t *f, size_t len)
{
	uint16_t type;

	if (len < VNET_FRAME_HDR)
		return 0;
	memcpy(&type, f + 12, 2);
	return type == htons(VNET_ETHERTYPE);
}

static inline uint32_t vnet_frame_seq(const uint8_t *f)
{
	uint32_t seq;

	memcpy(&seq, f + 14, 4);
	return seq;
}

/* Whether the @len bytes at @f are exactly the frame their number names. */
static inline int vnet_frame_intact(const uint8_t *f, size_t len)
{
	uint32_t seq;

	if (len < VNET_FRAME_HDR)
		return 0;
	seq = vnet_frame_seq(f);
	if (len != vnet_frame_len(seq))
		return 0;
	for (size_t i = VNET_FRAME_HDR; i < len; i++)
		if (f[i] != vnet_frame_byte(seq, i))
			return 0;
	return 1;
}

/*
 * The checkers' stats file, replaced whole so that a reader never sees
 * half of it: vnet_stats_begin() opens @path.new (named in @tmp) for
 * writing, NULL on error; vnet_stats_end() closes it and, if all was
 * written, renames it over @path.
 */
static inline FILE *vnet_stats_begin(const char *path, char *tmp, size_t size)
{
	snprintf(tmp, size, "%s.new", path);
	return fopen(tmp, "w");
}

static inline void vnet_stats_end(FILE *f, const char *tmp, const char *path)
{
	if (fclose(f) == 0)
		rename(tmp, path);
}

#endif /* IOASID_TESTS_VNET_FRAME_H */
