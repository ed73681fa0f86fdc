// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/*
 * Virtqueues, driver side (see vq_driver.h). Little-endian layouts, the
 * host's order here, as on the device side.
 *
 * Publication: a split ring's avail entries, and the descriptors they
 * name, are written before the avail index is stored with release
 * semantics; the used index is loaded with acquire semantics before the
 * entries below it are read. A packed chain's slots after the first are
 * released one by one, its first slot last, so the device never sees a
 * head whose chain is not complete.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "vq_driver.h"

static void free_all(struct vqd *q)
{
	uint16_t i;

	if (!q->next_free)
		return;
	for (i = 0; i < q->size; i++)
		q->next_free[i] = (uint16_t)(i + 1);
	q->free_head = 0;
	q->nfree = q->size;
}

void vqd_reset(struct vqd *q)
{
	q->avail_idx = q->last_used = q->used_idx = 0;
	q->pk_next = q->pk_used = 0;
	q->pk_wrap = q->pk_used_wrap = true;
	free_all(q);
}

/*
 * What both layouts start from: @q zeroed, @size checked (a split ring's
 * is a power of 2), the per-slot state allocated, nothing outstanding.
 */
static int vqd_init(struct vqd *q, uint16_t size, bool packed)
{
	memset(q, 0, sizeof(*q));
	if (!size || size > 32768 || (!packed && (size & (size - 1))))
		return -EINVAL;
	if (packed)
		q->pk_ndesc = calloc(size, sizeof(*q->pk_ndesc));
	else
		q->next_free = calloc(size, sizeof(*q->next_free));
	if (!q->pk_ndesc && !q->next_free)
		return -ENOMEM;
	q->size = size;
	q->packed = packed;
	vqd_reset(q);
	return 0;
}

int vqd_init_split(struct vqd *q, uint16_t size, void *desc, void *avail,
		   void *used)
{
	int rc = vqd_init(q, size, false);

	if (!rc) {
		q->desc = desc;
		q->avail = avail;
		q->used = used;
	}
	return rc;
}

int vqd_init_packed(struct vqd *q, uint16_t size, void *desc,
		    void *drv_event)
{
	int rc = vqd_init(q, size, true);

	if (!rc) {
		q->pdesc = desc;
		q->drv_event = drv_event;
	}
	return rc;
}

void vqd_fini(struct vqd *q)
{
	free(q->next_free);
	free(q->pk_ndesc);
	memset(q, 0, sizeof(*q));
}

void vqd_desc_at(struct vring_desc *table, uint32_t i, uint64_t addr,
		 uint32_t len, uint16_t flags, uint16_t next)
{
	table[i] = (struct vring_desc){ .addr = addr, .len = len,
					.flags = flags, .next = next };
}

void vqd_desc(struct vqd *q, uint16_t i, uint64_t addr, uint32_t len,
	      uint16_t flags, uint16_t next)
{
	vqd_desc_at(q->desc, i, addr, len, flags, next);
}

void vqd_add(struct vqd *q, uint16_t head)
{
	q->avail[2 + (q->avail_idx & (q->size - 1))] = head;
	q->avail_idx++;
}

void vqd_publish(struct vqd *q)
{
	__atomic_store_n(&q->avail[1], q->avail_idx, __ATOMIC_RELEASE);
}

void vqd_post(struct vqd *q, uint16_t head)
{
	vqd_add(q, head);
	vqd_publish(q);
}

uint16_t vqd_used_idx(const struct vqd *q)
{
	return __atomic_load_n(&q->used[1], __ATOMIC_ACQUIRE);
}

void vqd_used_entry(const struct vqd *q, uint16_t i, uint32_t *id,
		    uint32_t *len)
{
	const uint32_t *e = (const uint32_t *)(q->used + 2) +
			    2 * (i & (q->size - 1));

	*id = e[0];
	*len = e[1];
}

int vqd_used(struct vqd *q, uint16_t *id, uint32_t *len)
{
	uint32_t raw;

	if (q->last_used == q->used_idx) {
		q->used_idx = vqd_used_idx(q);
		if (q->last_used == q->used_idx)
			return 0;
	}
	vqd_used_entry(q, q->last_used, &raw, len);
	q->last_used++;
	if (raw >= q->size)
		return -EIO;
	*id = (uint16_t)raw;
	return 1;
}

void vqd_set_used_event(struct vqd *q, uint16_t v)
{
	q->avail[2 + q->size] = v;
}

void vqd_set_avail_flags(struct vqd *q, uint16_t v)
{
	q->avail[0] = v;
}

uint16_t vqd_avail_event(const struct vqd *q)
{
	return q->used[2 + 4 * q->size];
}

int vqd_get(struct vqd *q)
{
	uint16_t id;

	if (!q->nfree)
		return -ENOBUFS;
	id = q->free_head;
	q->free_head = q->next_free[id];
	q->nfree--;
	return id;
}

void vqd_put(struct vqd *q, uint16_t id)
{
	q->next_free[id] = q->free_head;
	q->free_head = id;
	q->nfree++;
}

uint16_t vqd_nfree(const struct vqd *q)
{
	return q->nfree;
}

/* The AVAIL and USED bits of a slot the driver makes available. */
static uint16_t pk_flags(bool wrap)
{
	return (uint16_t)(wrap ? 1U << VRING_PACKED_DESC_F_AVAIL :
				 1U << VRING_PACKED_DESC_F_USED);
}

void vqd_pk_add(struct vqd *q, const struct vqd_seg *s, uint32_t n,
		uint16_t id, struct vring_packed_desc *itable,
		uint64_t itable_addr)
{
	struct vring_packed_desc *ring = q->pdesc;
	uint16_t head = q->pk_next, head_flags = 0;
	uint32_t i, slots = itable ? 1 : n;

	for (i = 0; itable && i < n; i++)
		itable[i] = (struct vring_packed_desc){
			.addr = s[i].addr, .len = s[i].len,
			.flags = s[i].write ? VRING_DESC_F_WRITE : 0 };
	for (i = 0; i < slots; i++) {
		uint16_t f = pk_flags(q->pk_wrap);
		uint16_t slot = q->pk_next;

		if (itable) {
			ring[slot].addr = itable_addr;
			ring[slot].len = 16 * n;
			f |= VRING_DESC_F_INDIRECT;
		} else {
			ring[slot].addr = s[i].addr;
			ring[slot].len = s[i].len;
			f |= (s[i].write ? VRING_DESC_F_WRITE : 0) |
			     (i + 1 < n ? VRING_DESC_F_NEXT : 0);
		}
		ring[slot].id = id;
		if (i)
			__atomic_store_n(&ring[slot].flags, f, __ATOMIC_RELEASE);
		else
			head_flags = f;
		if (++q->pk_next == q->size) {
			q->pk_next = 0;
			q->pk_wrap = !q->pk_wrap;
		}
	}
	q->pk_ndesc[id % q->size] = (uint16_t)slots;
	__atomic_store_n(&ring[head].flags, head_flags, __ATOMIC_RELEASE);
}

int vqd_pk_used(struct vqd *q, uint16_t *id, uint32_t *len)
{
	struct vring_packed_desc *ring = q->pdesc;
	uint16_t f = __atomic_load_n(&ring[q->pk_used].flags, __ATOMIC_ACQUIRE);
	bool avail = f & (1U << VRING_PACKED_DESC_F_AVAIL);
	bool used = f & (1U << VRING_PACKED_DESC_F_USED);

	if (avail != used || used != q->pk_used_wrap)
		return 0;
	*id = ring[q->pk_used].id;
	*len = ring[q->pk_used].len;
	q->pk_used = (uint16_t)(q->pk_used + q->pk_ndesc[*id % q->size]);
	if (q->pk_used >= q->size) {
		q->pk_used = (uint16_t)(q->pk_used - q->size);
		q->pk_used_wrap = !q->pk_used_wrap;
	}
	return 1;
}

void vqd_pk_event(struct vqd *q, uint16_t off_wrap, uint16_t flags)
{
	q->drv_event[0] = off_wrap;
	q->drv_event[1] = flags;
}
