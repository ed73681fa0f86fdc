// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/*
 * Virtqueues, device side, split and packed, through the fast path (see
 * vring.h).
 *
 * Split layout (virtio 1.x, little-endian, which is the host's order here):
 *   desc   size * 16 bytes: addr, len, flags, next
 *   avail  flags, idx, ring[size], used_event        (16-bit words)
 *   used   flags, idx, ring[size] of {id, len} (32-bit), avail_event
 *
 * Packed layout: one ring of size 16-byte descriptors (addr, len, id,
 * flags) whose AVAIL and USED flag bits, compared with the ring's wrap
 * counter, say whether a slot is the device's; the avail and used
 * addresses are then the driver's and the device's event suppression
 * areas (off_wrap, flags). A used chain gets its id and length in its
 * first slot; a flush writes every pending entry, then stores their flags
 * from the last to the first.
 *
 * The driver may change anything in guest memory at any time, so each
 * descriptor is read once into a local copy and only the copy is used;
 * the avail index (split) or a slot's flags (packed) is read with acquire
 * semantics and the used index or flags published with release
 * semantics, and a full fence separates that publication from reading the
 * driver's event index (split) or event suppression area (packed).
 */
#include <errno.h>
#include <linux/virtio_ring.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vring.h"

#define MRG_HDR_LEN	12	/* struct virtio_net_hdr_mrg_rxbuf */
#define MRG_NUM_BUFFERS	10	/* its num_buffers field */

static void vq_vbreak(struct vq *q, const char *fmt, va_list ap)
{
	if (!q->broken) {
		vsnprintf(q->why, sizeof(q->why), fmt, ap);
		q->broken = true;
		fprintf(stderr, "vhost: queue broken: %s\n", q->why);
	}
}

static int vq_break(struct vq *q, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static int vq_break(struct vq *q, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vq_vbreak(q, fmt, ap);
	va_end(ap);
	return -EIO;
}

int vq_fail(struct vq *q, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vq_vbreak(q, fmt, ap);
	va_end(ap);
	return -EIO;
}

/* Whether the queue runs with ring feature @bit (VQ_FEATURES). */
static bool vq_has(const struct vq *q, unsigned int bit)
{
	return q->c.features & VIRTIO_BIT(bit);
}

/* ---- $IOASID_VQ_CHECK (vring.h) ---- */

#define VQ_CHECK_HIST	256	/* heads remembered for vq_unpop() */

struct vq_check {
	bool abort;
	uint32_t npop;			/* pops so far, less unpops */
	uint16_t popped[VQ_CHECK_HIST];	/* the last heads popped */
	struct vq_check_head {
		uint64_t addr;		/* split: the head descriptor popped */
		uint32_t len;
		bool out;		/* popped, not yet used */
	} h[];
};

/* The check, when the environment asks for it: 0 or -ENOMEM. */
static int vq_check_new(struct vq *q)
{
	const char *v = getenv("IOASID_VQ_CHECK");

	if (!v || !*v || !strcmp(v, "0"))
		return 0;
	q->chk = calloc(1, sizeof(*q->chk) + q->c.size * sizeof(q->chk->h[0]));
	if (!q->chk)
		return -ENOMEM;
	q->chk->abort = !strcmp(v, "abort");
	return 0;
}

/* A fault of the device's bookkeeping: said loudly, and nothing written. */
static void vq_check_fault(struct vq *q, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void vq_check_fault(struct vq *q, const char *fmt, ...)
{
	char msg[112];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	fprintf(stderr, "vhost: VQ CHECK: %s queue at 0x%llx (size %u): %s\n",
		q->c.features & VIRTIO_BIT(VIRTIO_F_RING_PACKED) ? "packed" : "split",
		(unsigned long long)q->c.desc, q->c.size, msg);
	if (q->chk->abort)
		abort();
	vq_break(q, "VQ CHECK: %s", msg);
}

static void vq_check_pop(struct vq *q, uint16_t head)
{
	struct vq_check *k = q->chk;

	if (head >= q->c.size) {
		vq_check_fault(q, "popped head %u, outside the ring", head);
		return;
	}
	if (k->h[head].out)
		vq_check_fault(q, "popped head %u, which is already outstanding",
			       head);
	k->h[head].out = true;
	if (!vq_has(q, VIRTIO_F_RING_PACKED)) {
		k->h[head].addr = q->desc[head].addr;
		k->h[head].len = q->desc[head].len;
	}
	k->popped[k->npop++ % VQ_CHECK_HIST] = head;
}

static void vq_check_unpop(struct vq *q, uint16_t n)
{
	struct vq_check *k = q->chk;

	if (n > k->npop || n > VQ_CHECK_HIST) {
		vq_check_fault(q, "gave back %u chains, more than were popped (%u)",
			       n, k->npop);
		return;
	}
	while (n--) {
		uint16_t head = k->popped[--k->npop % VQ_CHECK_HIST];

		if (!k->h[head].out)
			vq_check_fault(q, "gave back head %u, which was used already",
				       head);
		k->h[head].out = false;
	}
}

/* Whether the used entry for @head may be written. */
static bool vq_check_push(struct vq *q, uint16_t head)
{
	struct vq_check *k = q->chk;

	if (head >= q->c.size) {
		vq_check_fault(q, "pushed head %u, outside the ring", head);
		return false;
	}
	if (!k->h[head].out) {
		vq_check_fault(q, "pushed head %u, which is not outstanding (used twice, or never popped)",
			       head);
		return false;
	}
	/*
	 * Split: the driver rewrites a head's descriptor only once it has
	 * the head back, so one that changed while the device held it was
	 * not the driver's to give: the pop read a stale entry.
	 */
	if (!vq_has(q, VIRTIO_F_RING_PACKED) && q->ready &&
	    (q->desc[head].addr != k->h[head].addr ||
	     q->desc[head].len != k->h[head].len)) {
		vq_check_fault(q, "pushed head %u, whose descriptor changed while it was out (0x%llx+%u, now 0x%llx+%u)",
			       head, (unsigned long long)k->h[head].addr,
			       k->h[head].len,
			       (unsigned long long)q->desc[head].addr,
			       (uint32_t)q->desc[head].len);
		return false;
	}
	k->h[head].out = false;
	return true;
}

static int vq_miss(struct vq *q, uint64_t iova, uint64_t len, uint32_t perm)
{
	q->misses++;
	if (q->c.miss)
		q->c.miss(q->c.miss_arg, iova, len, perm);
	return -EAGAIN;
}

int vq_init(struct vq *q, const struct vq_config *c,
	    struct ioasid_fp_reader *r)
{
	bool packed = c->features & VIRTIO_BIT(VIRTIO_F_RING_PACKED);

	memset(q, 0, sizeof(*q));
	if (!c->size || c->size > VQ_MAX_SIZE ||
	    (!packed && (c->size & (c->size - 1))))
		return -EINVAL;
	/* The alignments virtio requires of the three areas. */
	if ((c->desc & 15) || (c->avail & (packed ? 3 : 1)) || (c->used & 3))
		return -EINVAL;
	q->c = *c;
	q->r = r;
	if (packed) {
		/* Pending used entries, then each buffer id's slot count. */
		q->pend = calloc(c->size, sizeof(*q->pend) + sizeof(uint16_t));
		if (!q->pend)
			return -ENOMEM;
		q->avail_wrap = q->used_wrap = true;
	}
	if (vq_check_new(q)) {
		vq_fini(q);
		return -ENOMEM;
	}
	return 0;
}

int vq_set_base(struct vq *q, uint16_t avail, bool avail_wrap, uint16_t used,
		bool used_wrap)
{
	if (vq_has(q, VIRTIO_F_RING_PACKED)) {
		if (avail >= q->c.size || used >= q->c.size)
			return -EINVAL;
		q->avail_wrap = avail_wrap;
		q->used_wrap = used_wrap;
	}
	q->last_avail = avail;
	q->avail_seen = avail;
	q->used_idx = used;
	if (q->chk) {
		memset(q->chk->h, 0, q->c.size * sizeof(q->chk->h[0]));
		q->chk->npop = 0;
	}
	return 0;
}

void vq_fini(struct vq *q)
{
	free(q->pend);
	q->pend = NULL;
	free(q->chk);
	q->chk = NULL;
}

static uint16_t *ndesc_of(struct vq *q)
{
	return (uint16_t *)(q->pend + q->c.size);
}

/* A ring area, whole, in one translation. */
static volatile void *ring_area(struct vq *q, const char *what, uint64_t iova,
				uint64_t len, uint32_t perm, int *rc)
{
	uint64_t contig = 0;
	void *hva = NULL;
	int t = ioasid_fp_translate(q->r, iova, len, perm, &hva, &contig);

	if (t == -EFAULT) {
		*rc = vq_miss(q, iova, len, perm);
		return NULL;
	}
	if (t) {
		*rc = vq_break(q, "%s ring at 0x%llx is mapped without %s access",
			       what, (unsigned long long)iova,
			       perm & IOASID_FP_WRITE ? "write" : "read");
		return NULL;
	}
	if (contig < len) {
		*rc = vq_break(q, "%s ring at 0x%llx (%llu bytes) crosses mappings",
			       what, (unsigned long long)iova,
			       (unsigned long long)len);
		return NULL;
	}
	return hva;
}

/*
 * A polled queue tells the driver once that it needs no kicks. Only the
 * device writes these flags, so once is enough until the queue starts
 * again (vq_init()).
 */
static void quiet_packed(struct vq *q)
{
	volatile uint16_t *dev_event;
	int rc = 0;

	if (!q->c.polled || q->quiet)
		return;
	dev_event = ring_area(q, "device event", q->c.used, 4,
			      IOASID_FP_READ | IOASID_FP_WRITE, &rc);
	if (!dev_event)
		return;		/* a miss, or broken: the caller sees it */
	__atomic_store_n(&dev_event[1], (uint16_t)VRING_PACKED_EVENT_FLAG_DISABLE,
			 __ATOMIC_RELAXED);
	q->quiet = true;
}

static void quiet_split(struct vq *q)
{
	if (!q->c.polled || q->quiet)
		return;
	__atomic_store_n(&q->used[0], (uint16_t)VRING_USED_F_NO_NOTIFY,
			 __ATOMIC_RELAXED);
	q->quiet = true;
}

int vq_burst_begin(struct vq *q)
{
	uint64_t n = q->c.size;
	int rc = 0;

	if (q->broken)
		return -EIO;
	q->ready = false;
	if (vq_has(q, VIRTIO_F_RING_PACKED)) {
		/* One ring, written back by the device; the driver's area. */
		q->pdesc = ring_area(q, "descriptor", q->c.desc, 16 * n,
				     IOASID_FP_READ | IOASID_FP_WRITE, &rc);
		if (q->pdesc)
			q->drv_event = ring_area(q, "driver event", q->c.avail,
						 4, IOASID_FP_READ, &rc);
		if (!rc)
			quiet_packed(q);
		q->ready = !rc && !q->broken;
		return q->broken ? -EIO : rc;
	}
	q->desc = ring_area(q, "descriptor", q->c.desc, 16 * n,
			    IOASID_FP_READ, &rc);
	if (q->desc)
		q->avail = ring_area(q, "available", q->c.avail, 6 + 2 * n,
				     IOASID_FP_READ, &rc);
	if (q->desc && q->avail)
		q->used = ring_area(q, "used", q->c.used, 6 + 8 * n,
				    IOASID_FP_READ | IOASID_FP_WRITE, &rc);
	if (!rc)
		quiet_split(q);
	q->ready = !rc;
	return rc;
}

/* Append [addr, addr + len) to the chain, segment by mapping. */
static int add_buffer(struct vq *q, struct vq_chain *c, uint64_t addr,
		      uint32_t len, bool write)
{
	uint32_t perm = write ? IOASID_FP_WRITE : IOASID_FP_READ;
	uint64_t left = len;

	if (!len)
		return vq_break(q, "descriptor of chain %u has length 0",
				c->head);
	if (addr + len - 1 < addr)
		return vq_break(q, "buffer at 0x%llx of %u bytes wraps the address space",
				(unsigned long long)addr, len);
	if (!write && c->nin)
		return vq_break(q, "chain %u has a readable buffer after a writable one",
				c->head);
	if (write)
		c->in_len += len;
	else
		c->out_len += len;
	if (c->out_len + c->in_len > UINT32_MAX)
		return vq_break(q, "chain %u is longer than 4 GiB", c->head);
	while (left) {
		uint64_t contig = 0;
		void *hva = NULL;
		int t = ioasid_fp_translate(q->r, addr, left, perm, &hva,
					    &contig);

		if (t == -EFAULT)
			return vq_miss(q, addr, left, perm);
		if (t)
			return vq_break(q, "buffer at 0x%llx of chain %u is mapped without %s access",
					(unsigned long long)addr, c->head,
					write ? "write" : "read");
		if (c->nout + c->nin == VQ_MAX_IOV)
			return vq_break(q, "chain %u needs more than %d segments",
					c->head, VQ_MAX_IOV);
		c->iov[c->nout + c->nin].base = hva;
		c->iov[c->nout + c->nin].len = (uint32_t)contig;
		if (write)
			c->nin++;
		else
			c->nout++;
		addr += contig;
		left -= contig;
	}
	return 0;
}

static void read_desc(const volatile struct vring_desc_le *t, uint32_t i,
		      struct vring_desc_le *d)
{
	d->addr = t[i].addr;
	d->len = t[i].len;
	d->flags = t[i].flags;
	d->next = t[i].next;
}

/* Walk the chain at @head into @c. */
static int walk(struct vq *q, uint16_t head, struct vq_chain *c)
{
	const volatile struct vring_desc_le *tbl = q->desc;
	uint32_t tsize = q->c.size, idx = head, seen = 0, k;
	/*
	 * A chain of more than VQ_MAX_IOV descriptors cannot fit anyway, so
	 * remembering that many indices is enough to tell a loop apart.
	 */
	uint16_t visited[VQ_MAX_IOV + 1];
	bool indirect = false;
	struct vring_desc_le d;
	int rc;

	memset(c, 0, offsetof(struct vq_chain, iov));
	c->head = head;
	for (;;) {
		if (idx >= tsize)
			return vq_break(q, "chain %u: descriptor index %u is outside the %s table of %u",
					head, idx, indirect ? "indirect" : "ring",
					tsize);
		for (k = 0; k < seen && k <= VQ_MAX_IOV; k++)
			if (visited[k] == idx)
				return vq_break(q, "chain %u: descriptors loop back to %u",
						head, idx);
		if (seen <= VQ_MAX_IOV)
			visited[seen] = (uint16_t)idx;
		if (++seen > tsize)
			return vq_break(q, "chain %u: descriptors loop (more than %u)",
					head, tsize);
		read_desc(tbl, idx, &d);
		if (d.flags & VRING_DESC_F_INDIRECT) {
			uint64_t contig = 0;
			void *hva = NULL;
			int t;

			if (!vq_has(q, VIRTIO_RING_F_INDIRECT_DESC))
				return vq_break(q, "chain %u: indirect descriptor without the feature",
						head);
			if (indirect)
				return vq_break(q, "chain %u: indirect table inside an indirect table",
						head);
			if (d.flags & VRING_DESC_F_NEXT)
				return vq_break(q, "chain %u: indirect descriptor also has NEXT",
						head);
			if (!d.len || d.len % 16 || d.len / 16 > 65536)
				return vq_break(q, "chain %u: indirect table length %u is not a whole number of 1 to 65536 descriptors",
						head, d.len);
			t = ioasid_fp_translate(q->r, d.addr, d.len,
						IOASID_FP_READ, &hva, &contig);
			if (t == -EFAULT)
				return vq_miss(q, d.addr, d.len,
					       IOASID_FP_READ);
			if (t)
				return vq_break(q, "chain %u: indirect table at 0x%llx is not readable",
						head,
						(unsigned long long)d.addr);
			if (contig < d.len)
				return vq_break(q, "chain %u: indirect table at 0x%llx crosses mappings",
						head,
						(unsigned long long)d.addr);
			if ((uintptr_t)hva & 15)
				return vq_break(q, "chain %u: indirect table at 0x%llx is not 16-byte aligned",
						head,
						(unsigned long long)d.addr);
			tbl = hva;
			tsize = d.len / 16;
			idx = 0;
			seen = 0;
			indirect = true;
			continue;
		}
		rc = add_buffer(q, c, d.addr, d.len,
				d.flags & VRING_DESC_F_WRITE);
		if (rc)
			return rc;
		if (!(d.flags & VRING_DESC_F_NEXT))
			return 0;
		idx = d.next;
	}
}

/*
 * With the event index, where the driver's next kick is wanted. A polled
 * queue wants none: its avail_event is left behind, so the driver's
 * window passes it once in 65,536 chains (the event index makes the
 * driver ignore VRING_USED_F_NO_NOTIFY).
 */
static void set_avail_event(struct vq *q)
{
	if (vq_has(q, VIRTIO_RING_F_EVENT_IDX) && !q->c.polled)
		q->used[2 + 4 * (uint32_t)q->c.size] = q->last_avail;
}

#define PK_AVAIL	(1U << VRING_PACKED_DESC_F_AVAIL)
#define PK_USED		(1U << VRING_PACKED_DESC_F_USED)

/* An indirect table of packed descriptors: all of them, in order. */
static int walk_packed_table(struct vq *q, struct vq_chain *c, uint64_t addr,
			     uint32_t len)
{
	const volatile struct vring_packed_desc_le *t;
	uint64_t contig = 0;
	void *hva = NULL;
	uint32_t i;
	int rc;

	if (!vq_has(q, VIRTIO_RING_F_INDIRECT_DESC))
		return vq_break(q, "slot %u: indirect descriptor without the feature",
				q->last_avail);
	if (!len || len % 16 || len / 16 > 65536)
		return vq_break(q, "slot %u: indirect table length %u is not a whole number of 1 to 65536 descriptors",
				q->last_avail, len);
	rc = ioasid_fp_translate(q->r, addr, len, IOASID_FP_READ, &hva, &contig);
	if (rc == -EFAULT)
		return vq_miss(q, addr, len, IOASID_FP_READ);
	if (rc || contig < len || ((uintptr_t)hva & 15))
		return vq_break(q, "slot %u: indirect table at 0x%llx is not readable, contiguous and aligned",
				q->last_avail, (unsigned long long)addr);
	t = hva;
	for (i = 0; i < len / 16; i++) {
		uint64_t a = t[i].addr;
		uint32_t l = t[i].len;
		uint16_t f = t[i].flags;

		if (f & VRING_DESC_F_INDIRECT)
			return vq_break(q, "slot %u: indirect table inside an indirect table",
					q->last_avail);
		rc = add_buffer(q, c, a, l, f & VRING_DESC_F_WRITE);
		if (rc)
			return rc;
	}
	return 0;
}

/* The chain at the packed ring's next slot: 1, 0 if none, or an error. */
static int pop_packed(struct vq *q, struct vq_chain *c)
{
	uint32_t n = q->c.size, count = 0;
	uint16_t slot = q->last_avail, id = 0;
	bool wrap = q->avail_wrap;
	int rc;

	memset(c, 0, offsetof(struct vq_chain, iov));
	c->head = slot;		/* for messages until the id is known */
	if (slot >= n)		/* vq_set_base() refuses it; never index past */
		return vq_break(q, "slot %u is outside the ring of %u", slot, n);
	for (;;) {
		uint16_t f = q->pdesc[slot].flags;
		bool avail = f & PK_AVAIL, used = f & PK_USED;
		uint64_t addr;
		uint32_t len;

		if (avail != wrap || used == wrap) {
			if (!count)
				return 0;
			return vq_break(q, "slot %u: chain continues into slot %u, which is not available",
					q->last_avail, slot);
		}
		/* The rest of the descriptor only after its flags. */
		__atomic_thread_fence(__ATOMIC_ACQUIRE);
		addr = q->pdesc[slot].addr;
		len = q->pdesc[slot].len;
		id = q->pdesc[slot].id;
		if (++count > n)
			return vq_break(q, "slot %u: chain longer than the ring (%u)",
					q->last_avail, n);
		if (f & VRING_DESC_F_INDIRECT) {
			if (count > 1 || (f & VRING_DESC_F_NEXT))
				return vq_break(q, "slot %u: an indirect descriptor must be a chain's only one",
						q->last_avail);
			rc = walk_packed_table(q, c, addr, len);
		} else {
			rc = add_buffer(q, c, addr, len, f & VRING_DESC_F_WRITE);
		}
		if (rc)
			return rc;
		if (++slot == n) {
			slot = 0;
			wrap = !wrap;
		}
		if (!(f & VRING_DESC_F_NEXT))
			break;
	}
	if (id >= n)
		return vq_break(q, "slot %u: buffer id %u is outside the ring of %u",
				q->last_avail, id, n);
	if (q->chk)
		vq_check_pop(q, id);
	c->head = id;
	c->ndesc = (uint16_t)count;
	ndesc_of(q)[id] = (uint16_t)count;
	q->hist[q->nhist % VQ_PACKED_HIST].slot = q->last_avail;
	q->hist[q->nhist % VQ_PACKED_HIST].wrap = q->avail_wrap;
	q->nhist++;
	q->last_avail = slot;
	q->avail_wrap = wrap;
	q->chains++;
	return 1;
}

int vq_pop(struct vq *q, struct vq_chain *c)
{
	uint16_t avail_idx, head;
	int rc;

	if (q->broken)
		return -EIO;
	if (!q->ready) {
		rc = vq_burst_begin(q);
		if (rc)
			return rc;
	}
	if (vq_has(q, VIRTIO_F_RING_PACKED))
		return pop_packed(q, c);
	/*
	 * The driver's index once per run of chains it made available, not
	 * once per chain: its cache line is the one the driver writes.
	 */
	if (q->last_avail == q->avail_seen) {
		avail_idx = __atomic_load_n(&q->avail[1], __ATOMIC_ACQUIRE);
		if (avail_idx == q->last_avail)
			return 0;
		if ((uint16_t)(avail_idx - q->last_avail) > q->c.size)
			return vq_break(q, "available index moved by %u, more than the ring size %u",
					(uint16_t)(avail_idx - q->last_avail),
					q->c.size);
		q->avail_seen = avail_idx;
	}
	head = q->avail[2 + (q->last_avail & (q->c.size - 1))];
	/* The next chain's first descriptor, while this one is walked. */
	if ((uint16_t)(q->last_avail + 1) != q->avail_seen) {
		uint16_t next = q->avail[2 + ((q->last_avail + 1) &
					      (q->c.size - 1))];

		if (next < q->c.size)
			__builtin_prefetch((const void *)&q->desc[next]);
	}
	rc = walk(q, head, c);
	if (rc)
		return rc;
	if (q->chk)
		vq_check_pop(q, head);
	q->last_avail++;
	q->chains++;
	set_avail_event(q);
	return 1;
}

void vq_unpop(struct vq *q, uint16_t n)
{
	if (q->chk)
		vq_check_unpop(q, n);
	if (vq_has(q, VIRTIO_F_RING_PACKED)) {
		if (!n)
			return;
		q->nhist -= n;
		q->last_avail = q->hist[q->nhist % VQ_PACKED_HIST].slot;
		q->avail_wrap = q->hist[q->nhist % VQ_PACKED_HIST].wrap;
		q->chains -= n;
		return;
	}
	q->last_avail -= n;
	q->avail_seen = q->last_avail;	/* read the index again */
	q->chains -= n;
	if (q->ready)
		set_avail_event(q);
}

void vq_push(struct vq *q, uint16_t head, uint32_t written)
{
	if (q->chk && !vq_check_push(q, head))
		return;
	if (vq_has(q, VIRTIO_F_RING_PACKED)) {
		struct vq_packed_used *u;
		uint16_t nd = head < q->c.size ? ndesc_of(q)[head] : 1;

		/*
		 * A driver that makes slots available again before the used
		 * entries of one burst are published can hand out more chains
		 * than the ring holds: more pending entries than @pend has.
		 */
		if (q->pending >= q->c.size) {
			vq_break(q, "more than %u chains used before one flush: the driver reused slots not yet returned",
				 q->c.size);
			return;
		}
		u = &q->pend[q->pending++];

		u->slot = q->used_idx;
		u->id = head;
		u->len = written;
		u->wrap = q->used_wrap;
		q->used_idx = (uint16_t)(q->used_idx + nd);
		if (q->used_idx >= q->c.size) {
			q->used_idx = (uint16_t)(q->used_idx - q->c.size);
			q->used_wrap = !q->used_wrap;
		}
		return;
	}
	{
	uint32_t i = (uint16_t)(q->used_idx + q->pending) & (q->c.size - 1);
	volatile uint32_t *e = (volatile uint32_t *)(q->used + 2) + 2 * i;

	e[0] = head;
	e[1] = written;
	q->pending++;
	}
}

/*
 * Packed: ids and lengths first, then the flags from the last entry to the
 * first, each a release store, so the driver, which reads in ring order,
 * sees the batch whole or not at all.
 */
static bool flush_packed(struct vq *q)
{
	uint16_t i, first = q->pend[0].slot, off, flags;
	bool first_wrap = q->pend[0].wrap, ev_wrap;
	int32_t event, old, new;

	for (i = 0; i < q->pending; i++) {
		q->pdesc[q->pend[i].slot].id = q->pend[i].id;
		q->pdesc[q->pend[i].slot].len = q->pend[i].len;
	}
	for (i = q->pending; i-- > 0;)
		__atomic_store_n(&q->pdesc[q->pend[i].slot].flags,
				 (uint16_t)(q->pend[i].wrap ? PK_AVAIL | PK_USED : 0),
				 __ATOMIC_RELEASE);
	q->pending = 0;
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	flags = q->drv_event[1];
	if (flags == VRING_PACKED_EVENT_FLAG_DISABLE)
		return false;
	if (flags != VRING_PACKED_EVENT_FLAG_DESC)
		return true;
	/* Did the used slots just written pass the driver's event slot? */
	off = q->drv_event[0];
	ev_wrap = off >> 15;
	event = off & 0x7fff;
	old = first;
	new = q->used_idx;
	if (q->used_wrap != first_wrap)
		new += q->c.size;		/* the batch wrapped the ring */
	if (ev_wrap != first_wrap)
		event += q->c.size;
	return event >= old && event < new;
}

bool vq_flush(struct vq *q)
{
	uint16_t old = q->used_idx, new = (uint16_t)(old + q->pending);

	if (!q->pending || q->broken)
		return false;
	if (vq_has(q, VIRTIO_F_RING_PACKED))
		return flush_packed(q);
	__atomic_store_n(&q->used[1], new, __ATOMIC_RELEASE);
	q->used_idx = new;
	q->pending = 0;
	/* Our index must be visible before we read whether to notify. */
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	if (vq_has(q, VIRTIO_RING_F_EVENT_IDX)) {
		uint16_t event = q->avail[2 + q->c.size];

		return (uint16_t)(new - event - 1) < (uint16_t)(new - old);
	}
	return !(q->avail[0] & VRING_AVAIL_F_NO_INTERRUPT);
}

static uint64_t copy_seg(const struct vq_iov *iov, uint16_t n, uint64_t off,
			 void *buf, uint64_t len, bool to_iov)
{
	uint64_t done = 0;
	uint16_t i;

	for (i = 0; i < n && done < len; i++) {
		uint64_t k;

		if (off >= iov[i].len) {
			off -= iov[i].len;
			continue;
		}
		k = iov[i].len - off;
		if (k > len - done)
			k = len - done;
		if (to_iov)
			memcpy((uint8_t *)iov[i].base + off,
			       (const uint8_t *)buf + done, k);
		else
			memcpy((uint8_t *)buf + done,
			       (const uint8_t *)iov[i].base + off, k);
		done += k;
		off = 0;
	}
	return done;
}

uint64_t vq_copy_out(const struct vq_chain *c, uint64_t off, void *dst,
		     uint64_t len)
{
	return copy_seg(c->iov, c->nout, off, dst, len, false);
}

uint64_t vq_copy_in(const struct vq_chain *c, uint64_t off, const void *src,
		    uint64_t len)
{
	return copy_seg(c->iov + c->nout, c->nin, off, (void *)src, len, true);
}

int vq_rx_mergeable(struct vq *q, const void *pkt, uint32_t len)
{
	static __thread struct vq_chain c, first;
	uint16_t heads[64], num = 0;
	uint32_t written[64];
	uint8_t *num_at = NULL;	/* num_buffers, in the first segment */
	uint64_t off = 0;
	int rc;

	if (len < MRG_HDR_LEN)
		return -EINVAL;
	while (off < len) {
		if (num == 64) {
			vq_unpop(q, num);
			return -ENOBUFS;
		}
		rc = vq_pop(q, &c);
		if (rc <= 0) {
			vq_unpop(q, num);
			return rc ? rc : -ENOBUFS;
		}
		if (c.nout || !c.in_len || (!num && c.in_len < MRG_HDR_LEN)) {
			vq_unpop(q, (uint16_t)(num + 1));
			return vq_break(q, "receive chain %u is not a writable buffer of at least %d bytes",
					c.head, num ? 1 : MRG_HDR_LEN);
		}
		heads[num] = c.head;
		written[num] = (uint32_t)vq_copy_in(&c, 0,
						    (const uint8_t *)pkt + off,
						    len - off);
		off += written[num];
		/*
		 * The first chain is needed again for num_buffers: where its
		 * first segment holds the whole header (as drivers post it),
		 * only that field's address; otherwise the chain (1 KiB).
		 */
		if (!num && c.iov[0].len >= MRG_HDR_LEN)
			num_at = (uint8_t *)c.iov[0].base + MRG_NUM_BUFFERS;
		else if (!num)
			first = c;
		num++;
	}
	if (num_at)
		memcpy(num_at, &num, sizeof(num));
	else
		vq_copy_in(&first, MRG_NUM_BUFFERS, &num, sizeof(num));
	for (uint16_t i = 0; i < num; i++)
		vq_push(q, heads[i], written[i]);
	return 0;
}
