/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/*
 * ioasid-netd's control protocol, the request side: one JSON object a
 * line, from anyone who can reach the control socket. Not for users of
 * the project's libraries (private to netd/ and its tests).
 *
 * A request is a flat object whose members are all strings:
 *   {"cmd":"stats"}, {"cmd":"ports"}, {"cmd":"reset"},
 *   {"cmd":"add","vhost":"NAME=PATH[,iommu][,queues=N][,client][,poll]"},
 *   {"cmd":"add","eth":"NAME=DEVICE"}, either with "xconnect":"PEER" or
 *   "bridge":"BRIDGE" (not both), and {"cmd":"remove","port":"NAME"}.
 * The port specs are the command line's (--vhost, --eth), checked by the
 * same code. Keys and values are printable ASCII without escapes, a key
 * at most NETD_CTL_STR_MAX bytes, a value at most as long as its field;
 * no value is empty; every key comes at most once, "cmd" exactly once,
 * and a key the command does not take is an error.
 */
#ifndef IOASID_NETD_CTL_PARSE_H
#define IOASID_NETD_CTL_PARSE_H

#include <stddef.h>

#define NETD_CTL_LINE_MAX	256U	/* bytes of a request, newline included */
#define NETD_CTL_STR_MAX	32U	/* bytes of a key, or of a name value */
#define NETD_CTL_SPEC_MAX	200U	/* bytes of a port spec value */
#define NETD_CTL_MEMBERS_MAX	8U

enum netd_cmd {
	NETD_CMD_STATS = 1,
	NETD_CMD_PORTS = 2,
	NETD_CMD_RESET = 3,
	NETD_CMD_ADD = 4,
	NETD_CMD_REMOVE = 5,
};

/* A parsed request; members not given are "". */
struct netd_ctl_req {
	int cmd;			/* enum netd_cmd */
	char vhost[NETD_CTL_SPEC_MAX + 1];	/* add */
	char eth[NETD_CTL_SPEC_MAX + 1];	/* add */
	char xconnect[NETD_CTL_STR_MAX + 1];	/* add: the peer port */
	char bridge[NETD_CTL_STR_MAX + 1];	/* add: the bridge to join */
	char port[NETD_CTL_STR_MAX + 1];	/* remove */
};

/*
 * Parse @len bytes of @line (no newline; NUL bytes are just bytes) into
 * @req: the command (> 0, also req->cmd), or -EINVAL with *@why a static
 * one-line reason (then @req holds nothing usable).
 */
int netd_ctl_parse(const char *line, size_t len, struct netd_ctl_req *req,
		   const char **why);

/*
 * Write @s as a JSON string (quotes included) into @out of @size bytes,
 * escaping what JSON requires; the length written, or -1 if it does not
 * fit (then @out holds nothing usable).
 */
int netd_json_str(char *out, size_t size, const char *s);

#endif /* IOASID_NETD_CTL_PARSE_H */
