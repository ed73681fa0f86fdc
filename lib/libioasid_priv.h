/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/*
 * Private to lib/: the embedded backend's host state. Not for users of
 * libioasid.
 */
#ifndef LIBIOASID_PRIV_H
#define LIBIOASID_PRIV_H

#include "ioasid_core.h"

struct emb_host {
	u64 memlock_bytes;	/* fixed limit, 0: none */
	bool memlock_rlimit;	/* use RLIMIT_MEMLOCK and CAP_IPC_LOCK */
	u64 charged;		/* bytes charged now */
};

extern const struct ioasid_host_ops emb_host_ops;

/* Forget what the previous call learned about the address space. */
void emb_host_call_begin(void);

#endif /* LIBIOASID_PRIV_H */
