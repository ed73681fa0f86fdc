/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/*
 * Private to fastpath/: the shadow's writer side, used by the batcher.
 * Not for users.
 */
#ifndef IOASID_FASTPATH_PRIV_H
#define IOASID_FASTPATH_PRIV_H

#include "ioasid_fastpath.h"

/*
 * In an unmap op given to shadow_apply(): remove every entry the range
 * overlaps, whole, as a vhost IOTLB does (set by the batcher for
 * IOASID_FP_BE_UNMAP_OVERLAP backends). Unmaps carry no permission, so the
 * bit lives in op.perm.
 */
#define FP_UNMAP_WHOLE	(1U << 31)

/*
 * Apply @n ops in order to the shadow and publish the result as one new
 * snapshot. A map replaces what it overlaps on its range. @unmapped[i]
 * gets the bytes op i removed (unmaps) or replaced (maps). The caller
 * serializes writers. Returns 0 or -ENOMEM (nothing published).
 */
int shadow_apply(struct ioasid_fp_shadow *s, const struct ioasid_fp_op *ops,
		 uint32_t n, uint64_t *unmapped);
/*
 * Wait for a grace period and free what the last publishes retired. After
 * it returns no reader uses a translation that was removed before it.
 */
void shadow_sync(struct ioasid_fp_shadow *s);
/*
 * Around anything that may block: a thread that is an online reader goes
 * offline (a quiescent state), so that a grace period another thread waits
 * for does not wait for it; end restores exactly what begin found.
 */
bool fp_block_begin(void);
void fp_block_end(bool was_online);
/* Does [iova, iova + len) overlap any entry of the current snapshot? */
bool shadow_overlaps(struct ioasid_fp_shadow *s, uint64_t iova, uint64_t len);
/* Bytes of [iova, iova + len) the current snapshot maps. */
uint64_t shadow_mapped(struct ioasid_fp_shadow *s, uint64_t iova, uint64_t len);
/*
 * The ops' destroy for a backend whose state is one allocation that
 * embeds the struct ioasid_fp_backend and is its priv.
 */
void fp_backend_free_priv(struct ioasid_fp_backend *be);

#endif /* IOASID_FASTPATH_PRIV_H */
