// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/*
 * fuzz_netd_ctl: ioasid-netd's control requests (netd/ctl_parse.c), the
 * bytes any local user who reaches the control socket may send.
 *
 * Input: one request line, of any length and any bytes (the daemon hands
 * the parser at most NETD_CTL_LINE_MAX - 1, without the newline; longer
 * inputs are cut the same way). A known command must come with no reason
 * and a whole request (check_req), an error with one, and nothing else. The same bytes, as a C string, go
 * through the JSON string writer (how replies quote names), whose output
 * must be a quoted string without raw control bytes, quote or backslash
 * except where escaped.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ctl_parse.h"

static void check_json(const char *in)
{
	char out[64];
	int n = netd_json_str(out, sizeof(out), in);

	if (n < 0)
		return;
	if (n < 2 || (size_t)n != strlen(out) || out[0] != '"' ||
	    out[n - 1] != '"')
		abort();
	for (int i = 1; i < n - 1; i++) {
		unsigned char ch = (unsigned char)out[i];

		if (ch < 0x20 || ch == 0x7f)
			abort();
		if (ch == '\\') {
			i++;	/* the escaped byte, or the u of \\uXXXX */
			if (i >= n - 1)
				abort();
			continue;
		}
		if (ch == '"')
			abort();
	}
}

/*
 * A request the parser accepted is whole: each member NUL-terminated
 * within its field, add with one of vhost and eth and at most one of
 * xconnect and bridge, remove with a port, the others with nothing.
 */
static void check_req(const struct netd_ctl_req *r)
{
	bool vhost, eth, xc, br, port;

	if (!memchr(r->vhost, 0, sizeof(r->vhost)) ||
	    !memchr(r->eth, 0, sizeof(r->eth)) ||
	    !memchr(r->xconnect, 0, sizeof(r->xconnect)) ||
	    !memchr(r->bridge, 0, sizeof(r->bridge)) ||
	    !memchr(r->port, 0, sizeof(r->port)))
		abort();
	vhost = r->vhost[0];
	eth = r->eth[0];
	xc = r->xconnect[0];
	br = r->bridge[0];
	port = r->port[0];
	switch (r->cmd) {
	case NETD_CMD_ADD:
		if (vhost == eth || (xc && br) || port)
			abort();
		break;
	case NETD_CMD_REMOVE:
		if (!port || vhost || eth || xc || br)
			abort();
		break;
	default:
		if (vhost || eth || xc || br || port)
			abort();
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct netd_ctl_req req;
	char *line, *str;
	const char *why = NULL;
	int cmd;

	if (size > NETD_CTL_LINE_MAX - 1)
		size = NETD_CTL_LINE_MAX - 1;
	/* An exact-size copy: AddressSanitizer sees a read past the end. */
	line = malloc(size ? size : 1);
	if (!line)
		return 0;
	memcpy(line, data, size);
	cmd = netd_ctl_parse(line, size, &req, &why);
	if (cmd > 0) {
		if (why || req.cmd != cmd || cmd > NETD_CMD_REMOVE)
			abort();
		check_req(&req);
	} else if (cmd != -EINVAL || !why || !*why) {
		abort();
	}
	str = malloc(size + 1);
	if (str) {
		memcpy(str, data, size);
		str[size] = '\0';
		check_json(str);
		free(str);
	}
	free(line);
	return 0;
}
