// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/*
 * The shadow-only backend: nothing below the shadow, which is then the one
 * translation there is. For a device that reads guest memory itself
 * through the shadow (a vhost-user backend: the front-end's memory table
 * and IOTLB messages are all it gets), the batcher still gives it
 * coalescing and unmaps that return only after no reader can use the old
 * translation.
 */
#include <stdlib.h>

#include "fastpath_priv.h"

static int none_apply(struct ioasid_fp_backend *be,
		      const struct ioasid_fp_op *ops, uint32_t n,
		      uint32_t *fail_index)
{
	(void)be;
	(void)ops;
	(void)n;
	(void)fail_index;
	return 0;
}

static void none_destroy(struct ioasid_fp_backend *be)
{
	free(be);
}

static const struct ioasid_fp_backend_ops none_ops = {
	.map = none_apply,
	.unmap = none_apply,
	.destroy = none_destroy,
};

int ioasid_fp_backend_none(struct ioasid_fp_backend **out)
{
	struct ioasid_fp_backend *be = calloc(1, sizeof(*be));

	if (!be)
		return -ENOMEM;
	be->ops = &none_ops;
	be->name = "shadow-only";
	be->caps = IOASID_FP_BE_BATCH | IOASID_FP_BE_PARTIAL_UNMAP;
	*out = be;
	return 0;
}
