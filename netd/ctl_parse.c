// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/*
 * The control protocol's request parser (see ctl_parse.h).
 *
 * A cursor walks the bytes once, left to right, and never looks past
 * @len: every step checks the end first. The grammar is deliberately
 * smaller than JSON (no escapes, no nesting, no numbers): whatever it
 * does not know is an error with a reason, never a guess, so a request
 * the daemon answers is one it understood.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "ctl_parse.h"

struct cursor {
	const char *p, *end;
	const char *why;
};

static void skip_ws(struct cursor *c)
{
	while (c->p < c->end && (*c->p == ' ' || *c->p == '\t' ||
				 *c->p == '\r'))
		c->p++;
}

static bool take(struct cursor *c, char ch)
{
	skip_ws(c);
	if (c->p < c->end && *c->p == ch) {
		c->p++;
		return true;
	}
	return false;
}

/* A string into @out (NUL-terminated); false with c->why set if not. */
static bool string(struct cursor *c, char out[NETD_CTL_STR_MAX + 1])
{
	size_t n = 0;

	if (!take(c, '"')) {
		c->why = "expected a string";
		return false;
	}
	for (;;) {
		unsigned char ch;

		if (c->p == c->end) {
			c->why = "unterminated string";
			return false;
		}
		ch = (unsigned char)*c->p++;
		if (ch == '"')
			break;
		if (ch == '\\') {
			c->why = "escapes are not supported";
			return false;
		}
		if (ch < 0x20 || ch > 0x7e) {
			c->why = "strings are printable ASCII";
			return false;
		}
		if (n == NETD_CTL_STR_MAX) {
			c->why = "string too long";
			return false;
		}
		out[n++] = (char)ch;
	}
	out[n] = '\0';
	return true;
}

static const struct {
	const char *name;
	enum netd_cmd cmd;
} cmds[] = {
	{ "stats", NETD_CMD_STATS },
	{ "ports", NETD_CMD_PORTS },
	{ "reset", NETD_CMD_RESET },
};

int netd_ctl_parse(const char *line, size_t len, const char **why)
{
	struct cursor c = { line, line + len, NULL };
	char key[NETD_CTL_STR_MAX + 1], val[NETD_CTL_STR_MAX + 1];
	unsigned int members = 0;
	int cmd = 0;

	if (!take(&c, '{')) {
		*why = "a request is a JSON object";
		return -EINVAL;
	}
	if (!take(&c, '}')) {
		do {
			if (++members > NETD_CTL_MEMBERS_MAX) {
				*why = "too many members";
				return -EINVAL;
			}
			if (!string(&c, key))
				goto bad;
			if (!take(&c, ':')) {
				*why = "expected ':'";
				return -EINVAL;
			}
			if (!string(&c, val))
				goto bad;
			if (strcmp(key, "cmd")) {
				*why = "unknown key";
				return -EINVAL;
			}
			if (cmd) {
				*why = "cmd given twice";
				return -EINVAL;
			}
			cmd = -1;
			for (size_t i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++)
				if (!strcmp(val, cmds[i].name))
					cmd = cmds[i].cmd;
			if (cmd < 0) {
				*why = "unknown cmd (stats, ports, reset)";
				return -EINVAL;
			}
		} while (take(&c, ','));
		if (!take(&c, '}')) {
			*why = "expected ',' or '}'";
			return -EINVAL;
		}
	}
	skip_ws(&c);
	if (c.p != c.end) {
		*why = "bytes after the object";
		return -EINVAL;
	}
	if (!cmd) {
		*why = "no cmd";
		return -EINVAL;
	}
	return cmd;
bad:
	*why = c.why;
	return -EINVAL;
}

int netd_json_str(char *out, size_t size, const char *s)
{
	size_t n = 0;

	if (size < 3)
		return -1;
	out[n++] = '"';
	for (; *s; s++) {
		unsigned char ch = (unsigned char)*s;
		char esc[8];
		size_t k;

		if (ch == '"' || ch == '\\') {
			esc[0] = '\\';
			esc[1] = (char)ch;
			k = 2;
		} else if (ch < 0x20 || ch == 0x7f) {
			k = (size_t)snprintf(esc, sizeof(esc), "\\u%04x", ch);
		} else {
			esc[0] = (char)ch;
			k = 1;
		}
		if (n + k + 2 > size)
			return -1;
		memcpy(out + n, esc, k);
		n += k;
	}
	out[n++] = '"';
	out[n] = '\0';
	return (int)n;
}
