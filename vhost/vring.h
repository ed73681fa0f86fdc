/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/*
 * The device side of a virtqueue, with every guest address translated
 * through the fast path's shadow (fastpath/ioasid_fastpath.h): rings,
 * indirect tables and buffers alike. Split and packed layouts; indirect
 * descriptors; event index (split) and event suppression (packed); used
 * updates batched until vq_flush().
 *
 * A guest address that does not translate is an IOTLB miss: vq_pop()
 * consumes nothing, reports the miss through the queue's callback (a
 * vhost-user backend sends it to the front-end) and returns -EAGAIN, to be
 * retried once the mapping arrives. Anything else that breaks the virtio
 * rules (a loop, an index out of range, a zero-length or wrapping buffer,
 * nested indirection, a buffer without the permission it needs) puts the
 * queue in a broken state with a logged reason; a broken queue does
 * nothing more. No path reads memory the shadow did not translate.
 *
 * Threading: one thread owns a queue. Its fast-path reader must be online
 * from vq_burst_begin() until the burst's last use of a vq_chain's
 * pointers; report a quiescent state only between bursts.
 */
#ifndef IOASID_VHOST_VRING_H
#define IOASID_VHOST_VRING_H

#include <stdbool.h>
#include <stdint.h>

#include "ioasid_fastpath.h"
#include "virtio_features.h"

#ifdef __cplusplus
extern "C" {
#endif

#define VQ_MAX_IOV		64	/* segments of one chain */
#define VQ_MAX_SIZE		32768	/* ring entries */

struct vq_iov {
	void *base;
	uint32_t len;
};

/* One descriptor chain: the readable segments first, then the writable. */
struct vq_chain {
	uint16_t head;			/* split: head index; packed: buffer id */
	uint16_t ndesc;			/* packed: ring slots it took */
	uint16_t nout;			/* readable segments */
	uint16_t nin;			/* writable segments, after them */
	uint64_t out_len;
	uint64_t in_len;
	struct vq_iov iov[VQ_MAX_IOV];
};

struct vq_config {
	uint16_t size;			/* 1 to VQ_MAX_SIZE; split: power of 2 */
	/*
	 * The negotiated virtio feature bits. The queue acts on its ring
	 * features (VQ_FEATURES) and ignores the device's own.
	 */
	uint64_t features;
	uint64_t desc;			/* guest addresses (IOVAs) */
	uint64_t avail;			/* packed: driver event suppression */
	uint64_t used;			/* packed: device event suppression */
	/*
	 * The device polls the ring and reads no kicks: ask the driver not
	 * to send them (split: VRING_USED_F_NO_NOTIFY in the used flags;
	 * packed: the device event area's flags say disable), so that it
	 * does not pay a system call per burst for nothing.
	 */
	bool polled;
	/* An IOTLB miss: the front-end should map [iova, iova + len). */
	void (*miss)(void *arg, uint64_t iova, uint64_t len, uint32_t perm);
	void *miss_arg;
};

struct vring_desc_le {
	uint64_t addr;
	uint32_t len;
	uint16_t flags;
	uint16_t next;
};

struct vring_packed_desc_le {
	uint64_t addr;
	uint32_t len;
	uint16_t id;
	uint16_t flags;
};

#define VQ_PACKED_HIST	64	/* chains vq_unpop() can give back */

/*
 * A debugging check of the device's own bookkeeping, on when a queue is
 * set up with $IOASID_VQ_CHECK in the environment ("abort": abort the
 * process; any other value but "0": log and break the queue): it tracks
 * which heads (split) or buffer ids (packed) are outstanding, popped and
 * not yet pushed used, and stops a push of a head that is not outstanding
 * (a double or stale completion), a push of a head outside the ring, a
 * pop of a head that already is outstanding, and an unpop of more than
 * was popped, before the used entry is written. Off, it costs one test of
 * a NULL pointer per pop and push.
 */
struct vq_check;

struct vq_packed_used {
	uint16_t slot, id;
	uint32_t len;
	bool wrap;
};

struct vq {
	struct vq_config c;
	struct ioasid_fp_reader *r;
	/* Ring pointers, valid for one burst. */
	const volatile struct vring_desc_le *desc;
	volatile uint16_t *avail;	/* flags, idx, ring[size], used_event */
	volatile uint16_t *used;	/* flags, idx, then ring entries */
	uint16_t last_avail;
	uint16_t avail_seen;		/* split: the avail index last read */
	uint16_t used_idx;
	uint16_t pending;		/* used entries written, not published */
	/* Packed layout. */
	volatile struct vring_packed_desc_le *pdesc;
	volatile uint16_t *drv_event;	/* off_wrap, flags */
	bool avail_wrap, used_wrap;
	struct { uint16_t slot; bool wrap; } hist[VQ_PACKED_HIST];
	uint32_t nhist;
	struct vq_packed_used *pend;	/* @size entries, or NULL */
	bool ready;			/* rings translated for this burst */
	bool quiet;			/* polled: the no-kick flag is written */
	bool broken;
	struct vq_check *chk;		/* NULL unless $IOASID_VQ_CHECK */
	char why[128];
	uint64_t chains;
	uint64_t misses;
};

/* 0, -EINVAL for a bad size or ring alignment, -ENOMEM. */
int vq_init(struct vq *q, const struct vq_config *c,
	    struct ioasid_fp_reader *r);
/*
 * Where a queue starts (vhost-user's SET_VRING_BASE, a VDUSE queue's
 * state): split rings take free-running 16-bit indices; packed rings a
 * slot below the ring's size and its wrap counter. 0, or -EINVAL (the
 * queue is left as it was).
 */
int vq_set_base(struct vq *q, uint16_t avail, bool avail_wrap, uint16_t used,
		bool used_wrap);
/* Free what vq_init() allocated (packed queues, the check). */
void vq_fini(struct vq *q);
/*
 * Break the queue from outside (its memory was lost, say), logging the
 * reason as the queue's own checks do. Returns -EIO.
 */
int vq_fail(struct vq *q, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/*
 * Translate the rings for a burst: 0, -EAGAIN on a miss (reported), -EIO
 * if the queue is or becomes broken (a ring not contiguous in one mapping).
 */
int vq_burst_begin(struct vq *q);
/*
 * The next available chain: 1 with *c filled, 0 if none, -EAGAIN on an
 * IOTLB miss (nothing consumed; the miss was reported), -EIO if broken.
 */
int vq_pop(struct vq *q, struct vq_chain *c);
/* Give back chains not pushed yet (the last @n popped), e.g. on no room. */
void vq_unpop(struct vq *q, uint16_t n);
/* Queue a used entry: @head with @written bytes; published by vq_flush. */
void vq_push(struct vq *q, uint16_t head, uint32_t written);
/*
 * Publish the queued used entries in one index update. Returns whether the
 * driver asked to be notified (event index or the no-interrupt flag).
 */
bool vq_flush(struct vq *q);

/* Copy between a chain's segments and a flat buffer. */
uint64_t vq_copy_out(const struct vq_chain *c, uint64_t off, void *dst,
		     uint64_t len);
uint64_t vq_copy_in(const struct vq_chain *c, uint64_t off, const void *src,
		    uint64_t len);

/*
 * virtio-net receive with VIRTIO_NET_F_MRG_RXBUF: put one packet (@hdr_len
 * bytes of virtio-net header already at the start of @pkt) into as many
 * chains as it needs, set num_buffers in the first, and queue them used.
 * 0, -ENOBUFS when the ring has too few buffers (nothing consumed),
 * -EAGAIN on a miss, -EIO if broken.
 */
int vq_rx_mergeable(struct vq *q, const void *pkt, uint32_t len);

#ifdef __cplusplus
}
#endif

#endif /* IOASID_VHOST_VRING_H */
