// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/* The vhost tests' guest: see guest.h. */
#include <linux/virtio_ring.h>

#include "guest.h"

#define G_MEM_LEN	((size_t)G_CHUNKS * G_CHUNK)

uint32_t guest_perm(uint32_t k)
{
	return (k * 37U) % G_CHUNKS;	/* 37 is odd: a permutation */
}

uint8_t *ref_hva(struct guest *g, uint64_t iova)
{
	uint64_t k;

	if (iova < G_BASE || iova >= G_BASE + G_MEM_LEN)
		return NULL;
	k = (iova - G_BASE) / G_CHUNK;
	if (k == G_HOLE_CHUNK && !g->hole_mapped)
		return NULL;
	return g->mem + (uint64_t)guest_perm((uint32_t)k) * G_CHUNK +
	       (iova - G_BASE) % G_CHUNK;
}

static int map_chunk(struct guest *g, uint32_t k)
{
	return ioasid_fp_map(g->b, G_BASE + (uint64_t)k * G_CHUNK,
			     g->mem + (uint64_t)guest_perm(k) * G_CHUNK,
			     G_CHUNK,
			     k == G_RO_CHUNK ? IOASID_FP_READ :
					       IOASID_FP_READ | IOASID_FP_WRITE);
}

int guest_open(struct guest *g, struct fx *f)
{
	struct ioasid_fp_batcher_cfg cfg = { .size = sizeof(cfg) };
	uint32_t k;
	int rc;

	memset(g, 0, sizeof(*g));
	/* The fixture's buffer is the guest's memory; its device, the IOMMU. */
	g->mem = f->buf;
	memset(g->mem, 0, G_MEM_LEN);
	rc = ioasid_attach(f->h, f->dev, f->as);
	if (!rc)
		rc = ioasid_fp_backend_ioasid(f->h, f->as, &g->be);
	if (!rc)
		rc = ioasid_fp_shadow_create(&g->sh);
	if (!rc)
		rc = ioasid_fp_batcher_create(g->sh, g->be, &cfg, &g->b);
	for (k = 0; !rc && k < G_CHUNKS; k++)
		if (k != G_HOLE_CHUNK)
			rc = map_chunk(g, k);
	if (!rc)
		rc = ioasid_fp_reader_register(g->sh, &g->r);
	return rc;
}

int guest_fill_hole(struct guest *g)
{
	int rc = map_chunk(g, G_HOLE_CHUNK);

	g->hole_mapped = !rc;
	return rc;
}

void guest_close(struct guest *g)
{
	if (g->r)
		ioasid_fp_reader_unregister(g->r);
	if (g->b)
		ioasid_fp_batcher_destroy(g->b);
	if (g->sh)
		ioasid_fp_shadow_destroy(g->sh);
	if (g->be)
		ioasid_fp_backend_destroy(g->be);
}

void guest_vq_config(struct vq_config *c, uint64_t features)
{
	memset(c, 0, sizeof(*c));
	c->size = G_RING_SIZE;
	c->features = features;
	c->desc = G_DESC;
	c->avail = G_AVAIL;
	c->used = G_USED;
}

void drv_reset(struct guest *g)
{
	memset(ref_hva(g, G_BASE), 0, 2 * G_CHUNK);
	memset(ref_hva(g, G_INDIRECT), 0, G_CHUNK);
	g->avail_idx = 0;
	g->used_seen = 0;
}

void drv_desc(struct guest *g, uint64_t table, uint32_t i, uint64_t addr,
	      uint32_t len, uint16_t flags, uint16_t next)
{
	struct vring_desc_le *d = (void *)ref_hva(g, table + 16ULL * i);

	d->addr = addr;
	d->len = len;
	d->flags = flags;
	d->next = next;
}

static uint16_t *avail(struct guest *g)
{
	return (uint16_t *)ref_hva(g, G_AVAIL);
}

void drv_post(struct guest *g, uint16_t head)
{
	uint16_t *a = avail(g);

	a[2 + (g->avail_idx & (G_RING_SIZE - 1))] = head;
	g->avail_idx++;
	__atomic_store_n(&a[1], g->avail_idx, __ATOMIC_RELEASE);
}

uint16_t drv_used_idx(struct guest *g)
{
	return __atomic_load_n((uint16_t *)ref_hva(g, G_USED) + 1,
			       __ATOMIC_ACQUIRE);
}

void drv_used_entry(struct guest *g, uint16_t i, uint32_t *id, uint32_t *len)
{
	uint32_t *e = (uint32_t *)ref_hva(g, G_USED + 4) +
		      2 * (i & (G_RING_SIZE - 1));

	*id = e[0];
	*len = e[1];
}

void drv_set_used_event(struct guest *g, uint16_t v)
{
	avail(g)[2 + G_RING_SIZE] = v;
}

void drv_set_avail_flags(struct guest *g, uint16_t v)
{
	avail(g)[0] = v;
}

uint16_t drv_avail_event(struct guest *g)
{
	return ((uint16_t *)ref_hva(g, G_USED))[2 + 4 * G_RING_SIZE];
}

void drv_pk_reset(struct guest *g)
{
	drv_reset(g);
	g->pk_next = g->pk_used = 0;
	g->pk_wrap = g->pk_used_wrap = true;
}

static uint16_t pk_flags(bool wrap)
{
	return (uint16_t)(wrap ? 1U << VRING_PACKED_DESC_F_AVAIL :
				 1U << VRING_PACKED_DESC_F_USED);
}

void drv_pk_add(struct guest *g, const struct drv_seg *s, uint32_t n,
		uint16_t id, bool indirect)
{
	struct vring_packed_desc_le *ring = (void *)ref_hva(g, G_DESC);
	uint16_t head = g->pk_next, head_flags = 0;
	uint32_t i, slots = indirect ? 1 : n;

	if (indirect) {
		struct vring_packed_desc_le *t = (void *)ref_hva(g, G_INDIRECT);

		for (i = 0; i < n; i++)
			t[i] = (struct vring_packed_desc_le){
				.addr = s[i].addr, .len = s[i].len,
				.flags = s[i].write ? VRING_DESC_F_WRITE : 0 };
	}
	for (i = 0; i < slots; i++) {
		uint16_t f = pk_flags(g->pk_wrap);
		uint16_t slot = g->pk_next;

		if (indirect) {
			ring[slot].addr = G_INDIRECT;
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
		if (++g->pk_next == G_RING_SIZE) {
			g->pk_next = 0;
			g->pk_wrap = !g->pk_wrap;
		}
	}
	g->pk_ndesc[id % G_RING_SIZE] = (uint16_t)slots;
	__atomic_store_n(&ring[head].flags, head_flags, __ATOMIC_RELEASE);
}

int drv_pk_used(struct guest *g, uint16_t *id, uint32_t *len)
{
	struct vring_packed_desc_le *ring = (void *)ref_hva(g, G_DESC);
	uint16_t f = __atomic_load_n(&ring[g->pk_used].flags, __ATOMIC_ACQUIRE);
	bool avail = f & (1U << VRING_PACKED_DESC_F_AVAIL);
	bool used = f & (1U << VRING_PACKED_DESC_F_USED);

	if (avail != used || used != g->pk_used_wrap)
		return 0;
	*id = ring[g->pk_used].id;
	*len = ring[g->pk_used].len;
	g->pk_used = (uint16_t)(g->pk_used + g->pk_ndesc[*id % G_RING_SIZE]);
	if (g->pk_used >= G_RING_SIZE) {
		g->pk_used = (uint16_t)(g->pk_used - G_RING_SIZE);
		g->pk_used_wrap = !g->pk_used_wrap;
	}
	return 1;
}

void drv_pk_event(struct guest *g, uint16_t off_wrap, uint16_t flags)
{
	uint16_t *e = (uint16_t *)ref_hva(g, G_AVAIL);

	e[0] = off_wrap;
	e[1] = flags;
}
