/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/*
 * An application for the vhost-user backend that sends every packet it
 * receives straight back, for tests, benchmarks and the demo. Its two
 * callbacks run on the backend's worker thread only.
 */
#ifndef IOASID_VHOST_ECHO_H
#define IOASID_VHOST_ECHO_H

#include <stdint.h>

#include "vhost_user.h"

#define VU_ECHO_SLOTS	512U
#define VU_ECHO_MAX	2048U

struct vu_echo {
	uint8_t pkt[VU_ECHO_SLOTS][VU_ECHO_MAX];
	uint32_t len[VU_ECHO_SLOTS];
	uint32_t head, tail;
	uint64_t dropped;		/* no room, or too long */
};

/* Fill @app with @e's callbacks (@e zeroed). */
void vu_echo_init(struct vu_echo *e, struct vu_app *app);

#endif /* IOASID_VHOST_ECHO_H */
