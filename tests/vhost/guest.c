// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/* The vhost tests' guest: see guest.h. */
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
	/* The rings live in chunks 0 (rings) and 1 (indirect tables). */
	if (!rc)
		rc = vqd_init_split(&g->split, G_RING_SIZE, ref_hva(g, G_DESC),
				    ref_hva(g, G_AVAIL), ref_hva(g, G_USED));
	if (!rc)
		rc = vqd_init_packed(&g->packed, G_RING_SIZE,
				     ref_hva(g, G_DESC), ref_hva(g, G_AVAIL));
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
	vqd_fini(&g->split);
	vqd_fini(&g->packed);
	if (g->r)
		ioasid_fp_reader_unregister(g->r);
	ioasid_fp_batcher_destroy(g->b);
	ioasid_fp_shadow_destroy(g->sh);
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

int guest_ring_open(struct guest *g, struct fx *f, struct vq_config *c,
		    struct vq *q, uint64_t features)
{
	int rc = guest_open(g, f);

	if (rc)
		return rc;
	if (features & VIRTIO_BIT(VIRTIO_F_RING_PACKED))
		drv_pk_reset(g);
	else
		drv_reset(g);
	guest_vq_config(c, features);
	rc = vq_init(q, c, g->r);
	if (rc)
		guest_close(g);
	return rc;
}

void drv_reset(struct guest *g)
{
	memset(ref_hva(g, G_BASE), 0, 2 * G_CHUNK);
	memset(ref_hva(g, G_INDIRECT), 0, G_CHUNK);
	vqd_reset(&g->split);
	g->used_seen = 0;
}

void drv_desc(struct guest *g, uint64_t table, uint32_t i, uint64_t addr,
	      uint32_t len, uint16_t flags, uint16_t next)
{
	vqd_desc_at((void *)ref_hva(g, table + 16ULL * i), 0, addr, len,
		    flags, next);
}

void drv_post(struct guest *g, uint16_t head)
{
	vqd_post(&g->split, head);
}

uint16_t drv_used_idx(struct guest *g)
{
	return vqd_used_idx(&g->split);
}

void drv_used_entry(struct guest *g, uint16_t i, uint32_t *id, uint32_t *len)
{
	vqd_used_entry(&g->split, i, id, len);
}

void drv_set_used_event(struct guest *g, uint16_t v)
{
	vqd_set_used_event(&g->split, v);
}

void drv_set_avail_flags(struct guest *g, uint16_t v)
{
	vqd_set_avail_flags(&g->split, v);
}

uint16_t drv_avail_event(struct guest *g)
{
	return vqd_avail_event(&g->split);
}

void drv_pk_reset(struct guest *g)
{
	drv_reset(g);
	vqd_reset(&g->packed);
}

void drv_pk_add(struct guest *g, const struct drv_seg *s, uint32_t n,
		uint16_t id, bool indirect)
{
	vqd_pk_add(&g->packed, s, n, id,
		   indirect ? (void *)ref_hva(g, G_INDIRECT) : NULL,
		   G_INDIRECT);
}

int drv_pk_used(struct guest *g, uint16_t *id, uint32_t *len)
{
	return vqd_pk_used(&g->packed, id, len);
}

void drv_pk_event(struct guest *g, uint16_t off_wrap, uint16_t flags)
{
	vqd_pk_event(&g->packed, off_wrap, flags);
}
