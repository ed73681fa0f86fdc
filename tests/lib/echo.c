// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/* The echo application (see echo.h). */
#include <string.h>

#include "echo.h"

static void echo_rx(void *arg, const uint8_t *pkt, uint32_t len)
{
	struct vu_echo *e = arg;

	if (e->head - e->tail == VU_ECHO_SLOTS || len > VU_ECHO_MAX) {
		e->dropped++;
		return;
	}
	memcpy(e->pkt[e->head % VU_ECHO_SLOTS], pkt, len);
	e->len[e->head % VU_ECHO_SLOTS] = len;
	e->head++;
}

static uint32_t echo_tx(void *arg, uint8_t *buf, uint32_t max)
{
	struct vu_echo *e = arg;
	uint32_t len;

	if (e->head == e->tail)
		return 0;
	len = e->len[e->tail % VU_ECHO_SLOTS];
	if (len > max)
		return 0;
	memcpy(buf, e->pkt[e->tail % VU_ECHO_SLOTS], len);
	e->tail++;
	return len;
}

void vu_echo_init(struct vu_echo *e, struct vu_app *app)
{
	memset(e, 0, sizeof(*e));
	app->rx = echo_rx;
	app->tx = echo_tx;
	app->arg = e;
}
