// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/*
 * packed: the device side of packed virtqueues against a reference
 * driver. Random chains (direct and indirect, crossing mappings, wrapping
 * the ring many times) come out as exactly the segments the reference
 * translation gives and come back used in order; malformed chains break
 * the queue with a reason; a miss consumes nothing; used entries stay
 * invisible until vq_flush(); event suppression; mergeable receive.
 */
#include <linux/virtio_ring.h>
#include <time.h>

#include "guest.h"

static uint64_t rnd(uint64_t *s, uint64_t n)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return n ? *s % n : 0;
}

static uint64_t data_iova(uint64_t *r, uint32_t len)
{
	for (;;) {
		uint64_t off = 2 * G_CHUNK + rnd(r, (G_CHUNKS - 2) * G_CHUNK - len);
		uint64_t first = off / G_CHUNK, last = (off + len - 1) / G_CHUNK;

		if ((first > G_RO_CHUNK || last < G_RO_CHUNK) &&
		    (first > G_HOLE_CHUNK || last < G_HOLE_CHUNK))
			return G_BASE + off;
	}
}

static void pk_config(struct vq_config *c, uint64_t features)
{
	guest_vq_config(c, features | VIRTIO_BIT(VIRTIO_F_RING_PACKED));
}

static int pk_open(struct guest *g, struct fx *f, struct vq_config *c,
		   struct vq *q, uint64_t features)
{
	return guest_ring_open(g, f, c, q,
			       features | VIRTIO_BIT(VIRTIO_F_RING_PACKED));
}

static int random_chains(struct fx *f, uint64_t features, uint64_t seed)
{
	uint64_t r = seed | 1;
	struct vq_config c;
	struct vq_chain ch;
	struct guest g;
	struct vq q;
	uint32_t round, inflight = 0;
	uint16_t next_id = 0;

	CHECK_OK(pk_open(&g, f, &c, &q, features));
	for (round = 0; round < 2000; round++) {
		struct drv_seg s[6];
		uint32_t n = 1 + (uint32_t)rnd(&r, 6), i, first_w, segs = 0;
		bool ind = (features & VIRTIO_BIT(VIRTIO_RING_F_INDIRECT_DESC)) && rnd(&r, 2);
		uint16_t id = next_id, uid;
		uint32_t ulen, j;
		uint64_t out = 0, in = 0;

		next_id = (uint16_t)((next_id + 1) % G_RING_SIZE);
		first_w = (uint32_t)rnd(&r, n + 1);
		for (i = 0; i < n; i++) {
			s[i].len = 1 + (uint32_t)rnd(&r, 3 * G_CHUNK / 2);
			s[i].addr = data_iova(&r, s[i].len);
			s[i].write = i >= first_w;
			if (s[i].write)
				in += s[i].len;
			else
				out += s[i].len;
		}
		drv_pk_add(&g, s, n, id, ind);
		CHECK_EQ(vq_pop(&q, &ch), 1);
		CHECK_EQ(ch.head, id);
		CHECK_EQ(ch.ndesc, ind ? 1 : n);
		CHECK_EQ(ch.out_len, out);
		CHECK_EQ(ch.in_len, in);
		/* Segment by segment, as the reference translates. */
		for (i = 0; i < n; i++) {
			uint64_t a = s[i].addr, left = s[i].len;

			while (left) {
				uint64_t k = G_CHUNK - (a - G_BASE) % G_CHUNK;

				if (k > left)
					k = left;
				if (ch.iov[segs].base != ref_hva(&g, a) ||
				    ch.iov[segs].len != k) {
					diag("round %u segment %u differs", round, segs);
					return 1;
				}
				segs++;
				a += k;
				left -= k;
			}
		}
		CHECK_EQ(ch.nout + ch.nin, segs);
		vq_push(&q, ch.head, (uint32_t)(in < 100 ? in : 100));
		inflight++;
		if (rnd(&r, 3) == 0 || inflight > G_RING_SIZE / 8) {
			/* Nothing is visible before the flush. */
			CHECK_EQ(drv_pk_used(&g, &uid, &ulen), 0);
			vq_flush(&q);
			for (j = 0; j < inflight; j++) {
				CHECK_EQ(drv_pk_used(&g, &uid, &ulen), 1);
				CHECK(uid < G_RING_SIZE);
			}
			CHECK_EQ(drv_pk_used(&g, &uid, &ulen), 0);
			inflight = 0;
		}
	}
	CHECK(!q.broken);
	vq_fini(&q);
	guest_close(&g);
	return 0;
}

static int chains_direct(struct fx *f)
{
	uint64_t seed = (uint64_t)time(NULL) * 5;

	diag("seed %llu", (unsigned long long)seed);
	return random_chains(f, 0, seed);
}

static int chains_indirect(struct fx *f)
{
	uint64_t seed = (uint64_t)time(NULL) * 7;

	diag("seed %llu", (unsigned long long)seed);
	return random_chains(f, VIRTIO_BIT(VIRTIO_RING_F_INDIRECT_DESC), seed);
}

static int expect_break_n(struct guest *g, const char *why, uint16_t size)
{
	struct vq_config c;
	struct vq_chain ch;
	struct vq q;
	int rc;

	pk_config(&c, VIRTIO_BIT(VIRTIO_RING_F_INDIRECT_DESC));
	if (size)
		c.size = size;
	CHECK_OK(vq_init(&q, &c, g->r));
	rc = vq_pop(&q, &ch);
	if (rc != -EIO || !strstr(q.why, why)) {
		diag("expected a break with \"%s\": vq_pop %d, \"%s\"", why, rc,
		     q.why);
		vq_fini(&q);
		return 1;
	}
	CHECK_EQ(vq_pop(&q, &ch), -EIO);
	vq_fini(&q);
	return 0;
}

static int expect_break(struct guest *g, const char *why)
{
	return expect_break_n(g, why, 0);
}

static int malformed(struct fx *f)
{
	struct drv_seg s[2] = {
		{ G_BASE + 3 * G_CHUNK, 16, false },
		{ G_BASE + 4 * G_CHUNK, 16, false },
	};
	struct vring_packed_desc_le *ring;
	struct guest g;

	CHECK_OK(guest_open(&g, f));
	ring = (void *)ref_hva(&g, G_DESC);

	drv_pk_reset(&g);
	s[0].len = 0;
	drv_pk_add(&g, s, 1, 0, false);
	CHECK_OK(expect_break(&g, "length 0"));
	s[0].len = 16;

	drv_pk_reset(&g);
	drv_pk_add(&g, s, 1, G_RING_SIZE + 2, false);
	CHECK_OK(expect_break(&g, "outside the ring"));

	/* A chain whose second descriptor was never made available. */
	drv_pk_reset(&g);
	drv_pk_add(&g, s, 2, 0, false);
	ring[1].flags = 0;
	CHECK_OK(expect_break(&g, "not available"));

	drv_pk_reset(&g);
	drv_pk_add(&g, s, 2, 0, true);
	ring[0].flags |= VRING_DESC_F_NEXT;
	CHECK_OK(expect_break(&g, "only one"));

	/*
	 * Every slot says NEXT. In a ring of 16 the chain runs into its own
	 * first slot, whose flags belong to the previous lap: not available.
	 */
	drv_pk_reset(&g);
	for (uint32_t i = 0; i < 16; i++) {
		struct drv_seg one = { G_BASE + 3 * G_CHUNK + i, 1, false };

		drv_pk_add(&g, &one, 1, 0, false);
		ring[i].flags |= VRING_DESC_F_NEXT;
	}
	CHECK_OK(expect_break_n(&g, "not available", 16));

	drv_pk_reset(&g);
	drv_pk_add(&g, s, 1, 0, true);
	((struct vring_packed_desc_le *)ref_hva(&g, G_INDIRECT))[0].flags =
		VRING_DESC_F_INDIRECT;
	CHECK_OK(expect_break(&g, "inside an indirect"));

	drv_pk_reset(&g);
	s[0].addr = G_BASE + G_RO_CHUNK * G_CHUNK;
	s[0].write = true;
	drv_pk_add(&g, s, 1, 0, false);
	CHECK_OK(expect_break(&g, "without write access"));
	guest_close(&g);
	return 0;
}

struct missed {
	uint64_t iova;
	int n;
};

static void on_miss(void *arg, uint64_t iova, uint64_t len, uint32_t perm)
{
	struct missed *m = arg;

	(void)len;
	(void)perm;
	m->iova = iova;
	m->n++;
}

static int miss_then_map(struct fx *f)
{
	uint64_t hole = G_BASE + (uint64_t)G_HOLE_CHUNK * G_CHUNK;
	struct drv_seg s = { hole - 64, 128, true };
	struct missed m = { 0 };
	struct vq_config c;
	struct vq_chain ch;
	struct guest g;
	struct vq q;

	CHECK_OK(guest_open(&g, f));
	drv_pk_reset(&g);
	pk_config(&c, 0);
	c.miss = on_miss;
	c.miss_arg = &m;
	CHECK_OK(vq_init(&q, &c, g.r));
	drv_pk_add(&g, &s, 1, 9, false);
	CHECK_EQ(vq_pop(&q, &ch), -EAGAIN);
	CHECK_EQ(m.iova, hole);
	CHECK_EQ(q.last_avail, 0);
	CHECK_OK(guest_fill_hole(&g));
	CHECK_EQ(vq_pop(&q, &ch), 1);
	CHECK_EQ(ch.head, 9);
	CHECK_EQ(ch.nin, 2);
	CHECK_EQ(vq_pop(&q, &ch), 0);
	vq_fini(&q);
	guest_close(&g);
	return 0;
}

/* Event suppression: enable, disable, and a descriptor event. */
static int event_suppression(struct fx *f)
{
	struct drv_seg s = { G_BASE + 3 * G_CHUNK, 64, true };
	struct vq_config c;
	struct vq_chain ch;
	struct guest g;
	struct vq q;
	uint16_t i;

	CHECK_OK(pk_open(&g, f, &c, &q, 0));
	for (i = 0; i < 8; i++)
		drv_pk_add(&g, &s, 1, i, false);
	drv_pk_event(&g, 0, VRING_PACKED_EVENT_FLAG_ENABLE);
	CHECK_EQ(vq_pop(&q, &ch), 1);
	vq_push(&q, ch.head, 1);
	CHECK(vq_flush(&q));
	drv_pk_event(&g, 0, VRING_PACKED_EVENT_FLAG_DISABLE);
	CHECK_EQ(vq_pop(&q, &ch), 1);
	vq_push(&q, ch.head, 1);
	CHECK(!vq_flush(&q));
	/* Notify when slot 5 (this lap) is used: slots 2-3 no, 4-5 yes. */
	drv_pk_event(&g, 5 | 1U << 15, VRING_PACKED_EVENT_FLAG_DESC);
	for (i = 0; i < 2; i++) {
		CHECK_EQ(vq_pop(&q, &ch), 1);
		vq_push(&q, ch.head, 1);
	}
	CHECK(!vq_flush(&q));
	for (i = 0; i < 2; i++) {
		CHECK_EQ(vq_pop(&q, &ch), 1);
		vq_push(&q, ch.head, 1);
	}
	CHECK(vq_flush(&q));
	vq_fini(&q);
	guest_close(&g);
	return 0;
}

static int rx_mergeable(struct fx *f)
{
	uint8_t pkt[2500], back[2500];
	struct vq_config c;
	struct guest g;
	struct vq q;
	uint16_t id, nb, i;
	uint32_t len;

	for (i = 0; i < sizeof(pkt); i++)
		pkt[i] = (uint8_t)(i * 11 + 5);
	memset(pkt, 0, 12);
	CHECK_OK(pk_open(&g, f, &c, &q, 0));
	for (i = 0; i < 4; i++) {
		struct drv_seg s = { G_BASE + (10U + i) * G_CHUNK, 1000, true };

		drv_pk_add(&g, &s, 1, (uint16_t)(20 + i), false);
	}
	CHECK_OK(vq_rx_mergeable(&q, pkt, sizeof(pkt)));
	vq_flush(&q);
	for (i = 0; i < 3; i++) {
		CHECK_EQ(drv_pk_used(&g, &id, &len), 1);
		CHECK_EQ(id, 20 + i);
		CHECK_EQ(len, i < 2 ? 1000 : 500);
		memcpy(back + i * 1000, ref_hva(&g, G_BASE + (10U + i) * G_CHUNK),
		       len);
	}
	memcpy(&nb, back + 10, 2);
	CHECK_EQ(nb, 3);
	CHECK(!memcmp(back + 12, pkt + 12, sizeof(pkt) - 12));
	/* One buffer left: too few for the packet, nothing taken. */
	CHECK_ERR(vq_rx_mergeable(&q, pkt, sizeof(pkt)), -ENOBUFS);
	CHECK_OK(vq_rx_mergeable(&q, pkt, 800));
	vq_flush(&q);
	CHECK_EQ(drv_pk_used(&g, &id, &len), 1);
	CHECK_EQ(id, 23);
	vq_fini(&q);
	guest_close(&g);
	return 0;
}

/*
 * A driver that makes slots available again before the device returned
 * them: in a ring of 4, four chains are popped and pushed (not flushed),
 * then the driver writes the next lap's flags over the same slots. The
 * device may pop them, but the fifth push has no room in the batch of
 * used entries (@pend holds one ring's worth): the queue breaks, nothing
 * is written past @pend (ASan checks) and nothing is published.
 */
static int reused_before_flush(struct fx *f)
{
	struct vring_packed_desc_le *ring;
	struct vq_config c;
	struct vq_chain ch;
	struct guest g;
	struct vq q;

	CHECK_OK(guest_open(&g, f));
	ring = (void *)ref_hva(&g, G_DESC);
	pk_config(&c, 0);
	c.size = 4;
	for (int lap = 0; lap < 2; lap++) {
		for (uint16_t i = 0; i < 4; i++) {
			ring[i].addr = G_BASE + 3 * G_CHUNK + 64 * i;
			ring[i].len = 16;
			ring[i].id = i;
			/* Lap 0: AVAIL 1, USED 0; lap 1: AVAIL 0, USED 1. */
			__atomic_store_n(&ring[i].flags,
					 (uint16_t)(lap ? 1U << 15 : 1U << 7),
					 __ATOMIC_RELEASE);
		}
		if (!lap)
			CHECK_OK(vq_init(&q, &c, g.r));
		for (uint16_t i = 0; i < 4; i++) {
			CHECK_EQ(vq_pop(&q, &ch), 1);
			CHECK_EQ(ch.head, i);
			vq_push(&q, ch.head, 0);
			if (q.broken)
				break;
		}
	}
	CHECK(q.broken);
	CHECK(strstr(q.why, "before one flush") != NULL);
	/* Nothing was published: lap 1's flags are as the driver wrote them. */
	for (uint16_t i = 0; i < 4; i++)
		CHECK_EQ(ring[i].flags, 1U << 15);
	CHECK_EQ(vq_pop(&q, &ch), -EIO);
	vq_fini(&q);
	guest_close(&g);
	return 0;
}

static const struct test tests[] = {
	{ "packed_chains_direct", chains_direct, NULL },
	{ "packed_chains_indirect", chains_indirect, NULL },
	{ "packed_malformed", malformed, NULL },
	{ "packed_miss_then_map", miss_then_map, NULL },
	{ "packed_event_suppression", event_suppression, NULL },
	{ "packed_rx_mergeable", rx_mergeable, NULL },
	{ "packed_reused_before_flush", reused_before_flush, NULL },
};

int main(int argc, char **argv)
{
	return run_tests("packed", tests, sizeof(tests) / sizeof(tests[0]),
			 argc, argv);
}
