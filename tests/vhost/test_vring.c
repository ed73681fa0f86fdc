// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/*
 * vring: the device side of split virtqueues against a reference. Random
 * chains (direct and indirect, crossing mappings) come out as exactly the
 * segments the reference translation gives; malformed chains break the
 * queue with a reason and never hand out memory; an unmapped buffer is a
 * miss that consumes nothing; used entries are published in batches; the
 * event index and mergeable receive buffers follow the virtio rules.
 */
#include <linux/virtio_ring.h>
#include <time.h>

#include "guest.h"

/* Expected segments of [iova, iova + len): split at chunk boundaries. */
static int expect_segs(struct guest *g, uint64_t iova, uint32_t len,
		       struct vq_iov *out, int max)
{
	int n = 0;

	while (len) {
		uint32_t k = (uint32_t)(G_CHUNK - (iova - G_BASE) % G_CHUNK);

		if (k > len)
			k = len;
		if (n == max)
			return -1;
		out[n].base = ref_hva(g, iova);
		out[n].len = k;
		/* IOVA-adjacent chunks are never memory-adjacent here. */
		n++;
		iova += k;
		len -= k;
	}
	return n;
}

struct rng {
	uint64_t s;
};

static uint64_t rnd(struct rng *r, uint64_t n)
{
	r->s ^= r->s << 13;
	r->s ^= r->s >> 7;
	r->s ^= r->s << 17;
	return n ? r->s % n : 0;
}

/* A buffer IOVA in the writable data chunks (2 to 127, not 5 or 100). */
static uint64_t data_iova(struct rng *r, uint32_t len)
{
	for (;;) {
		uint64_t off = 2 * G_CHUNK + rnd(r, (G_CHUNKS - 2) * G_CHUNK - len);
		uint64_t first = off / G_CHUNK, last = (off + len - 1) / G_CHUNK;

		if (first > G_RO_CHUNK || last < G_RO_CHUNK)
			if (first > G_HOLE_CHUNK || last < G_HOLE_CHUNK)
				return G_BASE + off;
	}
}

static int random_chains(struct fx *f, uint64_t features, uint64_t seed)
{
	struct rng r = { seed | 1 };
	struct vq_config c;
	struct vq_chain ch;
	struct guest g;
	struct vq q;
	int round;

	CHECK_OK(guest_ring_open(&g, f, &c, &q, features));
	for (round = 0; round < 400; round++) {
		struct vq_iov want[VQ_MAX_IOV];
		uint32_t nd = 1 + (uint32_t)rnd(&r, 6), i, nw = 0, first_w;
		bool ind = (features & VIRTIO_BIT(VIRTIO_RING_F_INDIRECT_DESC)) && rnd(&r, 2);
		uint16_t head = (uint16_t)rnd(&r, G_RING_SIZE - 8);
		uint64_t table = ind ? G_INDIRECT : G_DESC;
		uint32_t base = ind ? 0 : head;
		uint64_t in_total = 0, out_total = 0;
		int n, j;

		first_w = (uint32_t)rnd(&r, nd + 1);	/* readable before it */
		for (i = 0; i < nd; i++) {
			uint32_t len = 1 + (uint32_t)rnd(&r, 3 * G_CHUNK / 2);
			uint64_t iova = data_iova(&r, len);
			bool w = i >= first_w;

			n = expect_segs(&g, iova, len, want + nw,
					VQ_MAX_IOV - (int)nw);
			CHECK(n > 0);
			nw += (uint32_t)n;
			if (w)
				in_total += len;
			else
				out_total += len;
			drv_desc(&g, table, base + i, iova, len,
				 (uint16_t)((w ? VRING_DESC_F_WRITE : 0) |
					    (i + 1 < nd ? VRING_DESC_F_NEXT : 0)),
				 (uint16_t)(base + i + 1));
		}
		if (ind)
			drv_desc(&g, G_DESC, head, G_INDIRECT, 16 * nd,
				 VRING_DESC_F_INDIRECT, 0);
		drv_post(&g, head);
		CHECK_EQ(vq_pop(&q, &ch), 1);
		CHECK_EQ(ch.head, head);
		CHECK_EQ(ch.out_len, out_total);
		CHECK_EQ(ch.in_len, in_total);
		CHECK_EQ(ch.nout + ch.nin, nw);
		for (j = 0; j < (int)nw; j++) {
			if (ch.iov[j].base != want[j].base ||
			    ch.iov[j].len != want[j].len) {
				diag("round %d segment %d: got %p+%u, want %p+%u",
				     round, j, ch.iov[j].base, ch.iov[j].len,
				     want[j].base, want[j].len);
				return 1;
			}
		}
		/* The device writes its answer; the driver sees it in order. */
		{
			uint8_t pat[64];

			memset(pat, (uint8_t)round, sizeof(pat));
			vq_copy_in(&ch, 0, pat, sizeof(pat));
		}
		vq_push(&q, ch.head, (uint32_t)(in_total < 64 ? in_total : 64));
		if (rnd(&r, 4) == 0 || round == 399) {
			uint16_t before = g.used_seen;

			vq_flush(&q);
			for (; g.used_seen != drv_used_idx(&g); g.used_seen++) {
				uint32_t id, len;

				drv_used_entry(&g, g.used_seen, &id, &len);
				CHECK(id < G_RING_SIZE);
			}
			CHECK(g.used_seen != before);
		}
	}
	CHECK(!q.broken);
	CHECK_EQ(q.chains, 400);
	guest_close(&g);
	return 0;
}

static int chains_direct(struct fx *f)
{
	uint64_t seed = (uint64_t)time(NULL);

	diag("seed %llu", (unsigned long long)seed);
	return random_chains(f, 0, seed);
}

static int chains_indirect(struct fx *f)
{
	uint64_t seed = (uint64_t)time(NULL) * 3;

	diag("seed %llu", (unsigned long long)seed);
	return random_chains(f, VIRTIO_BIT(VIRTIO_RING_F_INDIRECT_DESC), seed);
}

/* One malformed-chain case: set it up, pop, expect a break naming it. */
struct bad {
	const char *name;
	const char *why;		/* substring of the logged reason */
	void (*build)(struct guest *g);
};

static void b_loop(struct guest *g)
{
	drv_desc(g, G_DESC, 0, G_BASE + 3 * G_CHUNK, 16, VRING_DESC_F_NEXT, 1);
	drv_desc(g, G_DESC, 1, G_BASE + 4 * G_CHUNK, 16, VRING_DESC_F_NEXT, 0);
	drv_post(g, 0);
}

static void b_next_range(struct guest *g)
{
	drv_desc(g, G_DESC, 0, G_BASE + 3 * G_CHUNK, 16, VRING_DESC_F_NEXT,
		 G_RING_SIZE + 3);
	drv_post(g, 0);
}

static void b_head_range(struct guest *g)
{
	drv_post(g, G_RING_SIZE);
}

static void b_zero_len(struct guest *g)
{
	drv_desc(g, G_DESC, 0, G_BASE + 3 * G_CHUNK, 0, 0, 0);
	drv_post(g, 0);
}

static void b_wrap(struct guest *g)
{
	drv_desc(g, G_DESC, 0, ~0ULL - 15, 64, 0, 0);
	drv_post(g, 0);
}

static void b_indirect_nested(struct guest *g)
{
	drv_desc(g, G_DESC, 0, G_INDIRECT, 16, VRING_DESC_F_INDIRECT, 0);
	drv_desc(g, G_INDIRECT, 0, G_INDIRECT + 64, 16, VRING_DESC_F_INDIRECT,
		 0);
	drv_post(g, 0);
}

static void b_indirect_len(struct guest *g)
{
	drv_desc(g, G_DESC, 0, G_INDIRECT, 15, VRING_DESC_F_INDIRECT, 0);
	drv_post(g, 0);
}

static void b_indirect_next(struct guest *g)
{
	drv_desc(g, G_DESC, 0, G_INDIRECT, 16,
		 VRING_DESC_F_INDIRECT | VRING_DESC_F_NEXT, 1);
	drv_post(g, 0);
}

static void b_read_after_write(struct guest *g)
{
	drv_desc(g, G_DESC, 0, G_BASE + 3 * G_CHUNK, 16,
		 VRING_DESC_F_WRITE | VRING_DESC_F_NEXT, 1);
	drv_desc(g, G_DESC, 1, G_BASE + 4 * G_CHUNK, 16, 0, 0);
	drv_post(g, 0);
}

static void b_write_ro(struct guest *g)
{
	drv_desc(g, G_DESC, 0, G_BASE + G_RO_CHUNK * G_CHUNK, 16,
		 VRING_DESC_F_WRITE, 0);
	drv_post(g, 0);
}

static void b_avail_jump(struct guest *g)
{
	uint16_t *a = (uint16_t *)ref_hva(g, G_AVAIL);

	a[1] = G_RING_SIZE + 1;
}

static void b_too_many_segments(struct guest *g)
{
	uint32_t i;

	/* 65 one-byte buffers: more segments than a chain may have. */
	for (i = 0; i < VQ_MAX_IOV + 1; i++)
		drv_desc(g, G_DESC, i, G_BASE + (2 + i) * G_CHUNK + 100, 1,
			 VRING_DESC_F_NEXT, (uint16_t)(i + 1));
	drv_desc(g, G_DESC, VQ_MAX_IOV, G_BASE + 90 * G_CHUNK, 1, 0, 0);
	drv_post(g, 0);
}

static void b_ring_crosses(struct guest *g)
{
	(void)g;	/* the config below puts the used ring across chunks */
}

static const struct bad bads[] = {
	{ "loop", "loop", b_loop },
	{ "next out of range", "outside the ring table", b_next_range },
	{ "head out of range", "outside the ring table", b_head_range },
	{ "zero length", "length 0", b_zero_len },
	{ "wrapping buffer", "wraps", b_wrap },
	{ "nested indirect", "inside an indirect", b_indirect_nested },
	{ "indirect length", "whole number", b_indirect_len },
	{ "indirect with next", "also has NEXT", b_indirect_next },
	{ "readable after writable", "readable buffer after", b_read_after_write },
	{ "write to read-only", "without write access", b_write_ro },
	{ "avail index jump", "more than the ring size", b_avail_jump },
	{ "too many segments", "more than 64 segments", b_too_many_segments },
	{ "ring across mappings", "crosses mappings", b_ring_crosses },
};

static int malformed(struct fx *f)
{
	struct vq_chain ch;
	struct guest g;
	size_t i;

	CHECK_OK(guest_open(&g, f));
	for (i = 0; i < sizeof(bads) / sizeof(bads[0]); i++) {
		struct vq_config c;
		struct vq q;
		int rc;

		drv_reset(&g);
		guest_vq_config(&c, VIRTIO_BIT(VIRTIO_RING_F_INDIRECT_DESC));
		if (bads[i].build == b_ring_crosses)
			c.used = G_BASE + G_CHUNK - 8;
		bads[i].build(&g);
		CHECK_OK(vq_init(&q, &c, g.r));
		memset(&ch, 0xa5, sizeof(ch));
		rc = vq_pop(&q, &ch);
		if (rc != -EIO || !q.broken || !strstr(q.why, bads[i].why)) {
			diag("%s: vq_pop returned %d, reason \"%s\"", bads[i].name,
			     rc, q.why);
			return 1;
		}
		/* Broken stays broken, and hands out nothing. */
		CHECK_EQ(vq_pop(&q, &ch), -EIO);
		CHECK_EQ(q.chains, 0);
	}
	/* Indirect without the feature. */
	{
		struct vq_config c;
		struct vq q;

		drv_reset(&g);
		guest_vq_config(&c, 0);
		drv_desc(&g, G_DESC, 0, G_INDIRECT, 16, VRING_DESC_F_INDIRECT, 0);
		drv_post(&g, 0);
		CHECK_OK(vq_init(&q, &c, g.r));
		CHECK_EQ(vq_pop(&q, &ch), -EIO);
		CHECK(strstr(q.why, "without the feature"));
	}
	guest_close(&g);
	return 0;
}

struct missed {
	uint64_t iova, len;
	uint32_t perm;
	int n;
};

static void on_miss(void *arg, uint64_t iova, uint64_t len, uint32_t perm)
{
	struct missed *m = arg;

	m->iova = iova;
	m->len = len;
	m->perm = perm;
	m->n++;
}

/* An unmapped buffer: a miss, nothing consumed; after the map, it works. */
static int miss_then_map(struct fx *f)
{
	struct missed m = { 0 };
	uint64_t hole = G_BASE + (uint64_t)G_HOLE_CHUNK * G_CHUNK;
	struct vq_config c;
	struct vq_chain ch;
	struct guest g;
	struct vq q;

	CHECK_OK(guest_open(&g, f));
	drv_reset(&g);
	guest_vq_config(&c, 0);
	c.miss = on_miss;
	c.miss_arg = &m;
	/* 100 bytes before the hole, 200 into it. */
	drv_desc(&g, G_DESC, 7, hole - 100, 300, VRING_DESC_F_WRITE, 0);
	drv_post(&g, 7);
	CHECK_OK(vq_init(&q, &c, g.r));
	CHECK_EQ(vq_pop(&q, &ch), -EAGAIN);
	CHECK_EQ(m.n, 1);
	CHECK_EQ(m.iova, hole);
	CHECK_EQ(m.len, 200);
	CHECK_EQ(m.perm, IOASID_FP_WRITE);
	CHECK(!q.broken);
	CHECK_EQ(q.last_avail, 0);
	CHECK_EQ(vq_pop(&q, &ch), -EAGAIN);
	CHECK_OK(guest_fill_hole(&g));
	CHECK_EQ(vq_pop(&q, &ch), 1);
	CHECK_EQ(ch.head, 7);
	CHECK_EQ(ch.nin, 2);
	if (ch.iov[1].base != ref_hva(&g, hole))
		diag("iov0 %p+%u iov1 %p+%u, want %p then %p", ch.iov[0].base,
		     ch.iov[0].len, ch.iov[1].base, ch.iov[1].len,
		     ref_hva(&g, hole - 100), ref_hva(&g, hole));
	CHECK(ch.iov[1].base == ref_hva(&g, hole));
	CHECK_EQ(vq_pop(&q, &ch), 0);
	/* A ring that is not mapped is a miss too. */
	{
		struct vq q2;

		c.used = G_BASE + 200ULL * G_CHUNK;	/* outside memory */
		CHECK_OK(vq_init(&q2, &c, g.r));
		CHECK_EQ(vq_burst_begin(&q2), -EAGAIN);
		CHECK_EQ(m.iova, c.used);
	}
	guest_close(&g);
	return 0;
}

/* Used entries wait for vq_flush and go out in one index update. */
static int batched_used(struct fx *f)
{
	struct vq_config c;
	struct vq_chain ch;
	struct guest g;
	struct vq q;
	uint16_t i;

	CHECK_OK(guest_ring_open(&g, f, &c, &q, 0));
	for (i = 0; i < 10; i++) {
		drv_desc(&g, G_DESC, i, G_BASE + 3 * G_CHUNK + i * 64U, 64,
			 VRING_DESC_F_WRITE, 0);
		drv_post(&g, i);
	}
	for (i = 0; i < 10; i++) {
		CHECK_EQ(vq_pop(&q, &ch), 1);
		vq_push(&q, ch.head, 10U + i);
		CHECK_EQ(drv_used_idx(&g), 0);
	}
	CHECK(vq_flush(&q));
	CHECK_EQ(drv_used_idx(&g), 10);
	for (i = 0; i < 10; i++) {
		uint32_t id, len;

		drv_used_entry(&g, i, &id, &len);
		CHECK_EQ(id, i);
		CHECK_EQ(len, 10U + i);
	}
	/* Nothing pending: no update, no notification. */
	CHECK(!vq_flush(&q));
	/* Without the event index, the no-interrupt flag is obeyed. */
	drv_set_avail_flags(&g, VRING_AVAIL_F_NO_INTERRUPT);
	drv_desc(&g, G_DESC, 10, G_BASE + 3 * G_CHUNK, 64, VRING_DESC_F_WRITE, 0);
	drv_post(&g, 10);
	CHECK_EQ(vq_pop(&q, &ch), 1);
	vq_push(&q, ch.head, 1);
	CHECK(!vq_flush(&q));
	CHECK_EQ(drv_used_idx(&g), 11);
	guest_close(&g);
	return 0;
}

/* The event index: notify only when used crosses the driver's used_event. */
static int event_index(struct fx *f)
{
	struct vq_config c;
	struct vq_chain ch;
	struct guest g;
	struct vq q;
	uint16_t i;

	CHECK_OK(guest_ring_open(&g, f, &c, &q, VIRTIO_BIT(VIRTIO_RING_F_EVENT_IDX)));
	for (i = 0; i < 8; i++) {
		drv_desc(&g, G_DESC, i, G_BASE + 3 * G_CHUNK, 64,
			 VRING_DESC_F_WRITE, 0);
		drv_post(&g, i);
	}
	/* The driver wants a notification once entry 5 is used. */
	drv_set_used_event(&g, 5);
	for (i = 0; i < 8; i++) {
		CHECK_EQ(vq_pop(&q, &ch), 1);
		vq_push(&q, ch.head, 1);
		if (i == 2 || i == 5 || i == 7) {
			bool n = vq_flush(&q);

			/* used 0->3: no; 3->6 crosses 5: yes; 6->8: no. */
			CHECK_EQ(n, i == 5);
		}
	}
	/* The device tells the driver where it stands. */
	CHECK_EQ(drv_avail_event(&g), 8);
	guest_close(&g);
	return 0;
}

/* Mergeable receive: a packet across three buffers, num_buffers set. */
static int rx_mergeable(struct fx *f)
{
	uint8_t pkt[2500], back[2500];
	struct vq_config c;
	struct guest g;
	struct vq q;
	uint32_t i, id, len;
	uint16_t nb;

	for (i = 0; i < sizeof(pkt); i++)
		pkt[i] = (uint8_t)(i * 13 + 1);
	memset(pkt, 0, 12);		/* header; num_buffers to be set */
	CHECK_OK(guest_ring_open(&g, f, &c, &q, 0));
	for (i = 0; i < 5; i++) {
		drv_desc(&g, G_DESC, i, G_BASE + (10 + i) * G_CHUNK, 1000,
			 VRING_DESC_F_WRITE, 0);
		drv_post(&g, (uint16_t)i);
	}
	CHECK_OK(vq_rx_mergeable(&q, pkt, sizeof(pkt)));
	vq_flush(&q);
	CHECK_EQ(drv_used_idx(&g), 3);
	for (i = 0; i < 3; i++) {
		drv_used_entry(&g, (uint16_t)i, &id, &len);
		CHECK_EQ(id, i);
		CHECK_EQ(len, i < 2 ? 1000 : 500);
		memcpy(back + i * 1000, ref_hva(&g, G_BASE + (10 + i) * G_CHUNK),
		       len);
	}
	memcpy(&nb, back + 10, 2);
	CHECK_EQ(nb, 3);
	CHECK(!memcmp(back + 12, pkt + 12, sizeof(pkt) - 12));
	/* Two buffers left: a packet needing three is refused, none taken. */
	CHECK_ERR(vq_rx_mergeable(&q, pkt, sizeof(pkt)), -ENOBUFS);
	CHECK_EQ(q.last_avail, 3);
	CHECK_OK(vq_rx_mergeable(&q, pkt, 1500));
	vq_flush(&q);
	CHECK_EQ(drv_used_idx(&g), 5);
	guest_close(&g);
	return 0;
}

/* A queue of 4 heads posted, with $IOASID_VQ_CHECK as @check (NULL: unset). */
static int check_queue(struct guest *g, struct vq *q, const char *check)
{
	struct vq_config c;
	uint16_t i;

	drv_reset(g);
	guest_vq_config(&c, 0);
	if (check)
		setenv("IOASID_VQ_CHECK", check, 1);
	else
		unsetenv("IOASID_VQ_CHECK");
	CHECK_OK(vq_init(q, &c, g->r));
	unsetenv("IOASID_VQ_CHECK");
	for (i = 0; i < 4; i++) {
		drv_desc(g, G_DESC, i, G_BASE + 3 * G_CHUNK + i * 64U, 64,
			 VRING_DESC_F_WRITE, 0);
		drv_post(g, i);
	}
	return 0;
}

/*
 * $IOASID_VQ_CHECK: a used entry for a head that is not outstanding (a
 * double completion, one never popped, one outside the ring) breaks the
 * queue before it is written; unset, nothing is checked.
 */
static int vq_check(struct fx *f)
{
	struct vq_chain ch;
	struct guest g;
	struct vq q;

	CHECK_OK(guest_open(&g, f));
	/* Unset: a double push goes through to the driver. */
	CHECK_OK(check_queue(&g, &q, NULL));
	CHECK(!q.chk);
	CHECK_EQ(vq_pop(&q, &ch), 1);
	vq_push(&q, ch.head, 1);
	vq_push(&q, ch.head, 1);
	vq_flush(&q);
	CHECK_EQ(drv_used_idx(&g), 2);
	vq_fini(&q);

	/* A double push: the first published, the second refused. */
	CHECK_OK(check_queue(&g, &q, "1"));
	CHECK(q.chk);
	CHECK_EQ(vq_pop(&q, &ch), 1);
	vq_push(&q, ch.head, 1);
	vq_flush(&q);
	CHECK_EQ(drv_used_idx(&g), 1);
	CHECK(!q.broken);
	vq_push(&q, ch.head, 1);
	CHECK(q.broken);
	CHECK(strstr(q.why, "VQ CHECK: pushed head 0, which is not outstanding"));
	CHECK(!vq_flush(&q));
	CHECK_EQ(drv_used_idx(&g), 1);
	vq_fini(&q);

	/* Popped, given back, pushed: not outstanding any more. */
	CHECK_OK(check_queue(&g, &q, "1"));
	CHECK_EQ(vq_pop(&q, &ch), 1);
	CHECK_EQ(vq_pop(&q, &ch), 1);
	vq_unpop(&q, 1);
	vq_push(&q, 0, 1);
	CHECK(!q.broken);
	vq_push(&q, 1, 1);
	CHECK(q.broken);
	vq_fini(&q);

	/*
	 * A head whose descriptor the driver rewrote while the device held
	 * it was not the driver's to give (a stale pop): refused.
	 */
	CHECK_OK(check_queue(&g, &q, "1"));
	CHECK_EQ(vq_pop(&q, &ch), 1);
	drv_desc(&g, G_DESC, 0, G_BASE + 4 * G_CHUNK, 128, VRING_DESC_F_WRITE, 0);
	vq_push(&q, 0, 1);
	CHECK(q.broken);
	CHECK(strstr(q.why, "whose descriptor changed while it was out"));
	vq_fini(&q);

	/* A head outside the ring, and more given back than popped. */
	CHECK_OK(check_queue(&g, &q, "1"));
	CHECK_EQ(vq_pop(&q, &ch), 1);
	vq_push(&q, G_RING_SIZE, 1);
	CHECK(q.broken);
	CHECK(strstr(q.why, "outside the ring"));
	vq_fini(&q);
	CHECK_OK(check_queue(&g, &q, "1"));
	CHECK_EQ(vq_pop(&q, &ch), 1);
	vq_unpop(&q, 2);
	CHECK(q.broken);
	CHECK(strstr(q.why, "more than were popped"));
	vq_fini(&q);
	guest_close(&g);
	return 0;
}

/*
 * A polled queue (vq_config.polled) asks the driver for no kicks as soon
 * as its rings are translated: split, VRING_USED_F_NO_NOTIFY in the used
 * flags; packed, the device event area's flags say disable. A queue not
 * polled leaves both as the driver zeroed them.
 */
static int polled_no_notify(struct fx *f)
{
	static const uint64_t rings[] = {
		0, VIRTIO_BIT(VIRTIO_F_RING_PACKED)
	};
	struct vq_config c;
	struct guest g;
	struct vq q;

	CHECK_OK(guest_open(&g, f));
	for (int k = 0; k < 2; k++) {
		for (int polled = 0; polled < 2; polled++) {
			volatile uint16_t *flags;
			uint16_t want;

			drv_reset(&g);
			if (rings[k])
				drv_pk_reset(&g);
			/* split: used flags; packed: device event flags */
			flags = (volatile uint16_t *)ref_hva(&g, G_USED) + k;
			guest_vq_config(&c, rings[k]);
			c.polled = polled;
			CHECK_OK(vq_init(&q, &c, g.r));
			CHECK_EQ(*flags, 0);
			CHECK_OK(vq_burst_begin(&q));
			want = !polled ? 0 : k ? VRING_PACKED_EVENT_FLAG_DISABLE :
						 VRING_USED_F_NO_NOTIFY;
			CHECK_EQ(*flags, want);
			vq_fini(&q);
		}
	}
	guest_close(&g);
	return 0;
}

/*
 * A polled queue with VIRTIO_RING_F_EVENT_IDX: the driver ignores
 * VRING_USED_F_NO_NOTIFY then and kicks when its new avail index passes
 * avail_event, so the device leaves avail_event where it is (was: moved
 * to last_avail at every pop, a kick invited per chain).
 */
static bool need_event(uint16_t event, uint16_t new_idx, uint16_t old)
{
	return (uint16_t)(new_idx - event - 1) < (uint16_t)(new_idx - old);
}

static int polled_event_idx(struct fx *f)
{
	struct vq_config c;
	struct vq_chain ch;
	struct guest g;
	struct vq q;
	int kicks = 0;

	CHECK_OK(guest_open(&g, f));
	drv_reset(&g);
	guest_vq_config(&c, VIRTIO_BIT(VIRTIO_RING_F_EVENT_IDX));
	c.polled = true;
	CHECK_OK(vq_init(&q, &c, g.r));
	for (uint16_t i = 0; i < 8; i++) {
		drv_desc(&g, G_DESC, i, G_BASE + 3 * G_CHUNK, 64,
			 VRING_DESC_F_WRITE, 0);
		drv_post(&g, i);
		/* What a driver computes after publishing avail index i + 1. */
		kicks += need_event(drv_avail_event(&g), (uint16_t)(i + 1), i);
		CHECK_EQ(vq_pop(&q, &ch), 1);
		vq_push(&q, ch.head, 1);
		vq_flush(&q);
	}
	vq_fini(&q);
	guest_close(&g);
	/* A polled queue should be kicked at most once (before its first pass). */
	CHECK(kicks <= 1);
	return 0;
}

static const struct test tests[] = {
	{ "chains_direct", chains_direct, NULL },
	{ "chains_indirect", chains_indirect, NULL },
	{ "malformed", malformed, NULL },
	{ "miss_then_map", miss_then_map, NULL },
	{ "batched_used", batched_used, NULL },
	{ "event_index", event_index, NULL },
	{ "rx_mergeable", rx_mergeable, NULL },
	{ "vq_check", vq_check, NULL },
	{ "polled_no_notify", polled_no_notify, NULL },
	{ "polled_event_idx", polled_event_idx, NULL },
};

int main(int argc, char **argv)
{
	return run_tests("vring", tests, sizeof(tests) / sizeof(tests[0]),
			 argc, argv);
}
