/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/*
 * ioasid-netd's control protocol, the request side: one JSON object a
 * line, from anyone who can reach the control socket. Not for users of
 * the project's libraries (private to netd/ and its tests).
 *
 * A request is a flat object whose members are all strings:
 * {"cmd":"stats"}, {"cmd":"ports"}, {"cmd":"reset"}. Keys and values
 * are printable ASCII without escapes, at most NETD_CTL_STR_MAX bytes;
 * "cmd" comes exactly once, and no other key is known yet.
 */
#ifndef IOASID_NETD_CTL_PARSE_H
#define IOASID_NETD_CTL_PARSE_H

#include <stddef.h>

#define NETD_CTL_LINE_MAX	256U	/* bytes of a request, newline included */
#define NETD_CTL_STR_MAX	32U	/* bytes of a key or value */
#define NETD_CTL_MEMBERS_MAX	8U

enum netd_cmd {
	NETD_CMD_STATS = 1,
	NETD_CMD_PORTS = 2,
	NETD_CMD_RESET = 3,
};

/*
 * Parse @len bytes of @line (no newline; NUL bytes are just bytes): the
 * command (> 0), or -EINVAL with *@why a static one-line reason.
 */
int netd_ctl_parse(const char *line, size_t len, const char **why);

/*
 * Write @s as a JSON string (quotes included) into @out of @size bytes,
 * escaping what JSON requires; the length written, or -1 if it does not
 * fit (then @out holds nothing usable).
 */
int netd_json_str(char *out, size_t size, const char *s);

#endif /* IOASID_NETD_CTL_PARSE_H */
