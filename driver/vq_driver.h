/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/*
 * The driver (guest) side of a virtqueue, split or packed, written the way
 * a virtio driver writes it: for the programs that play the guest (the
 * demo, the vhost-user test front-end, the vring tests). The device side
 * is vhost/vring.c; this holds nothing of it.
 *
 * The caller owns the ring memory and gives its addresses as this process
 * sees them; what it puts in descriptors (IOVAs or guest addresses) is its
 * business. Split rings: vqd_add() queues a head in the avail ring and
 * vqd_publish() makes every queued head visible in one release store of
 * the avail index; vqd_used() takes used entries in order, reading the
 * used index with acquire semantics. Packed rings: vqd_pk_add() writes a
 * chain's descriptors, its head's flags last with release semantics;
 * vqd_pk_used() takes the next used buffer. A used id the device makes
 * up is never an index into memory here unchecked.
 *
 * A free list of descriptor ids (vqd_get/vqd_put) serves drivers that
 * use one descriptor per buffer. One thread drives a queue.
 */
#ifndef IOASID_DRIVER_VQ_DRIVER_H
#define IOASID_DRIVER_VQ_DRIVER_H

#include <linux/virtio_ring.h>
#include <stdbool.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

struct vqd {
	uint16_t size;
	bool packed;
	/* split */
	struct vring_desc *desc;
	uint16_t *avail;		/* flags, idx, ring[size], used_event */
	uint16_t *used;			/* flags, idx, {id, len}[size], avail_event */
	uint16_t avail_idx;		/* next avail index (queued included) */
	uint16_t last_used;		/* next used entry to take */
	uint16_t used_idx;		/* the device's used index, last read */
	/* free descriptor ids */
	uint16_t free_head, nfree;
	uint16_t *next_free;
	/* packed */
	struct vring_packed_desc *pdesc;
	uint16_t *drv_event;		/* off_wrap, flags */
	uint16_t pk_next, pk_used;
	bool pk_wrap, pk_used_wrap;
	uint16_t *pk_ndesc;		/* slots of each buffer id */
};

/* One segment of a packed chain. */
struct vqd_seg {
	uint64_t addr;
	uint32_t len;
	bool write;
};

/*
 * A split ring of @size entries (a power of 2, at most 32768) at @desc,
 * @avail and @used; every descriptor id free. 0, -EINVAL, -ENOMEM.
 */
int vqd_init_split(struct vqd *q, uint16_t size, void *desc, void *avail,
		   void *used);
/* A packed ring of @size slots at @desc, driver event area @drv_event. */
int vqd_init_packed(struct vqd *q, uint16_t size, void *desc,
		    void *drv_event);
/* Indices, wrap counters and free list back to a new ring's. */
void vqd_reset(struct vqd *q);
void vqd_fini(struct vqd *q);

/* Split rings. Write descriptor @i of @table (the ring's or indirect). */
void vqd_desc_at(struct vring_desc *table, uint32_t i, uint64_t addr,
		 uint32_t len, uint16_t flags, uint16_t next);
void vqd_desc(struct vqd *q, uint16_t i, uint64_t addr, uint32_t len,
	      uint16_t flags, uint16_t next);
/* Queue @head in the avail ring; vqd_publish() shows the device. */
void vqd_add(struct vqd *q, uint16_t head);
void vqd_publish(struct vqd *q);
/* vqd_add() and vqd_publish(). */
void vqd_post(struct vqd *q, uint16_t head);
/*
 * The next used entry: 1 with its id and length, 0 if none, -EIO for an
 * id not below the ring's size (the entry is consumed all the same).
 */
int vqd_used(struct vqd *q, uint16_t *id, uint32_t *len);
/* The device's used index (acquire) and entry @i of the used ring, raw. */
uint16_t vqd_used_idx(const struct vqd *q);
void vqd_used_entry(const struct vqd *q, uint16_t i, uint32_t *id,
		    uint32_t *len);
/* Event index and flags: the driver's used_event and avail flags; the
 * device's avail_event. */
void vqd_set_used_event(struct vqd *q, uint16_t v);
void vqd_set_avail_flags(struct vqd *q, uint16_t v);
uint16_t vqd_avail_event(const struct vqd *q);

/* A free descriptor id, or -ENOBUFS; give it back with vqd_put(). */
int vqd_get(struct vqd *q);
void vqd_put(struct vqd *q, uint16_t id);
uint16_t vqd_nfree(const struct vqd *q);

/*
 * Packed rings. Add a chain of @n segments as buffer @id: in @n slots, or
 * (@itable not NULL) in one slot pointing at the indirect table @itable,
 * which the device sees at @itable_addr. Its head's flags go last.
 */
void vqd_pk_add(struct vqd *q, const struct vqd_seg *s, uint32_t n,
		uint16_t id, struct vring_packed_desc *itable,
		uint64_t itable_addr);
/* The next used buffer: 1 with its id and length, 0 if none. */
int vqd_pk_used(struct vqd *q, uint16_t *id, uint32_t *len);
/* The driver's event suppression area. */
void vqd_pk_event(struct vqd *q, uint16_t off_wrap, uint16_t flags);

#ifdef __cplusplus
}
#endif

#endif /* IOASID_DRIVER_VQ_DRIVER_H */
