/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/*
 * The fast path as the fastpath tests drive it: a shadow, a batcher that
 * sends to a backend the test chose, and one reader of the shadow.
 */
#ifndef IOASID_TEST_FP_STACK_H
#define IOASID_TEST_FP_STACK_H

#include <string.h>

#include "ioasid_fastpath.h"

struct fp {
	struct ioasid_fp_shadow *s;
	struct ioasid_fp_batcher *b;
	struct ioasid_fp_reader *r;
};

/*
 * Shadow, batcher over @be flushing at @max_batch pending (0: the
 * default), reader: 0 or -errno. fp_close() undoes a partial open too.
 */
static inline int fp_open(struct fp *p, struct ioasid_fp_backend *be,
			  uint32_t max_batch)
{
	struct ioasid_fp_batcher_cfg cfg = { .size = sizeof(cfg),
					     .max_batch = max_batch };
	int rc;

	memset(p, 0, sizeof(*p));
	rc = ioasid_fp_shadow_create(&p->s);
	if (!rc)
		rc = ioasid_fp_batcher_create(p->s, be, &cfg, &p->b);
	if (!rc)
		rc = ioasid_fp_reader_register(p->s, &p->r);
	return rc;
}

/* The backend stays the caller's. */
static inline void fp_close(struct fp *p)
{
	if (p->r)
		ioasid_fp_reader_unregister(p->r);
	ioasid_fp_batcher_destroy(p->b);
	ioasid_fp_shadow_destroy(p->s);
}

#endif /* IOASID_TEST_FP_STACK_H */
