/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/*
 * A guest for the vhost tests: 8 MiB of memory mapped into an ioasid in
 * 64 KiB chunks whose IOVA order is shuffled against their memory order
 * (so IOVA-contiguous buffers cross mappings), one chunk read-only, one
 * left unmapped; a fast-path shadow of it; and the driver side of a split
 * and a packed virtqueue at fixed IOVAs (driver/vq_driver.c, bound to
 * this guest's layout). ref_hva() is the reference translation the tests
 * compare the device against.
 */
#ifndef IOASID_TEST_VHOST_GUEST_H
#define IOASID_TEST_VHOST_GUEST_H

#include "harness.h"
#include "vq_driver.h"
#include "vring.h"

#define G_BASE		0x40000000ULL	/* IOVA of chunk 0 */
#define G_CHUNK		SZ_64K
#define G_CHUNKS	128U
#define G_RO_CHUNK	5U		/* mapped read-only */
#define G_HOLE_CHUNK	100U		/* not mapped */
#define G_RING_SIZE	256U

/* IOVAs of the rings and of the indirect tables (chunks 0 and 1). */
#define G_DESC		(G_BASE)
#define G_AVAIL		(G_BASE + 0x4000)
#define G_USED		(G_BASE + 0x8000)
#define G_INDIRECT	(G_BASE + G_CHUNK)

struct guest {
	struct ioasid_fp_backend *be;
	struct ioasid_fp_shadow *sh;
	struct ioasid_fp_batcher *b;
	struct ioasid_fp_reader *r;
	uint8_t *mem;
	uint16_t used_seen;		/* a test's cursor in the used ring */
	bool hole_mapped;		/* guest_fill_hole() was called */
	struct vqd split, packed;	/* driver side; one ring area */
};

#define drv_seg vqd_seg

int guest_open(struct guest *g, struct fx *f);
void guest_close(struct guest *g);
/* Memory chunk behind IOVA chunk @k. */
uint32_t guest_perm(uint32_t k);
/* Reference translation; NULL if unmapped. */
uint8_t *ref_hva(struct guest *g, uint64_t iova);
/* Map the hole chunk (for miss tests). */
int guest_fill_hole(struct guest *g);

/* Driver side. */
void drv_reset(struct guest *g);
void drv_desc(struct guest *g, uint64_t table, uint32_t i, uint64_t addr,
	      uint32_t len, uint16_t flags, uint16_t next);
void drv_post(struct guest *g, uint16_t head);
uint16_t drv_used_idx(struct guest *g);
void drv_used_entry(struct guest *g, uint16_t i, uint32_t *id, uint32_t *len);
void drv_set_used_event(struct guest *g, uint16_t v);
void drv_set_avail_flags(struct guest *g, uint16_t v);
uint16_t drv_avail_event(struct guest *g);

void guest_vq_config(struct vq_config *c, uint64_t features);
/*
 * guest_open(), the driver side reset (packed if @features has
 * VIRTIO_F_RING_PACKED), @c set up for @features and @q initialised on
 * it: 0, or the first -errno (the guest closed again).
 */
int guest_ring_open(struct guest *g, struct fx *f, struct vq_config *c,
		    struct vq *q, uint64_t features);

/*
 * Packed ring (descriptors at G_DESC, driver events at G_AVAIL, device
 * events at G_USED). drv_pk_add() writes a chain of @n segments as buffer
 * @id (through an indirect table at G_INDIRECT if @indirect), its first
 * descriptor's flags last; drv_pk_used() takes the next used buffer: 1
 * with id and length, 0 if none.
 */
void drv_pk_reset(struct guest *g);
void drv_pk_add(struct guest *g, const struct drv_seg *s, uint32_t n,
		uint16_t id, bool indirect);
int drv_pk_used(struct guest *g, uint16_t *id, uint32_t *len);
void drv_pk_event(struct guest *g, uint16_t off_wrap, uint16_t flags);

#endif /* IOASID_TEST_VHOST_GUEST_H */
