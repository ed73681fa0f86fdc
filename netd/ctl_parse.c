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
#include <stddef.h>
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

/* A string of at most @max bytes into @out (NUL-terminated); false with c->why set if not. */
static bool string(struct cursor *c, char *out, size_t max)
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
		if (n == max) {
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
	{ "add", NETD_CMD_ADD },
	{ "remove", NETD_CMD_REMOVE },
};

#define FIELD(f) offsetof(struct netd_ctl_req, f), \
		 sizeof(((struct netd_ctl_req *)0)->f)
#define CMD(c)	(1U << (c))

/* The members besides "cmd": where each goes, which commands take it. */
static const struct {
	const char *key;
	size_t off, size;
	unsigned int cmds;
} members[] = {
	{ "vhost", FIELD(vhost), CMD(NETD_CMD_ADD) },
	{ "eth", FIELD(eth), CMD(NETD_CMD_ADD) },
	{ "xconnect", FIELD(xconnect), CMD(NETD_CMD_ADD) },
	{ "bridge", FIELD(bridge), CMD(NETD_CMD_ADD) },
	{ "port", FIELD(port), CMD(NETD_CMD_REMOVE) },
};

#define NMEMBERS (sizeof(members) / sizeof(members[0]))
#define HAS(given, key) (!!((given) & (1U << member_index(key))))

static int member_index(const char *key)
{
	for (size_t i = 0; i < NMEMBERS; i++)
		if (!strcmp(key, members[i].key))
			return (int)i;
	return -1;
}

/* Whether the members @given (a bit each) make a whole request for @cmd. */
static const char *incomplete(int cmd, unsigned int given)
{
	for (size_t i = 0; i < NMEMBERS; i++)
		if ((given & (1U << i)) && !(members[i].cmds & CMD(cmd)))
			return cmd == NETD_CMD_ADD ?
			       "add takes vhost or eth, and xconnect or bridge" :
			       cmd == NETD_CMD_REMOVE ? "remove takes port" :
			       "this cmd takes no other member";
	if (cmd == NETD_CMD_ADD) {
		if (HAS(given, "vhost") == HAS(given, "eth"))
			return "add needs vhost or eth (one of them)";
		if (HAS(given, "xconnect") && HAS(given, "bridge"))
			return "add takes xconnect or bridge, not both";
	}
	if (cmd == NETD_CMD_REMOVE && !HAS(given, "port"))
		return "remove needs port";
	return NULL;
}

int netd_ctl_parse(const char *line, size_t len, struct netd_ctl_req *req,
		   const char **why)
{
	struct cursor c = { line, line + len, NULL };
	char key[NETD_CTL_STR_MAX + 1], val[NETD_CTL_SPEC_MAX + 1];
	unsigned int n = 0, given = 0;
	int cmd = 0;

	memset(req, 0, sizeof(*req));
	*why = NULL;
	if (!take(&c, '{')) {
		*why = "a request is a JSON object";
		return -EINVAL;
	}
	if (!take(&c, '}')) {
		do {
			int m;

			if (++n > NETD_CTL_MEMBERS_MAX) {
				*why = "too many members";
				return -EINVAL;
			}
			if (!string(&c, key, NETD_CTL_STR_MAX))
				goto bad;
			if (!take(&c, ':')) {
				*why = "expected ':'";
				return -EINVAL;
			}
			if (!string(&c, val, NETD_CTL_SPEC_MAX))
				goto bad;
			if (!strcmp(key, "cmd")) {
				if (cmd) {
					*why = "cmd given twice";
					return -EINVAL;
				}
				cmd = -1;
				for (size_t i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++)
					if (!strcmp(val, cmds[i].name))
						cmd = cmds[i].cmd;
				if (cmd < 0) {
					*why = "unknown cmd (stats, ports, reset, add, remove)";
					return -EINVAL;
				}
				continue;
			}
			m = member_index(key);
			if (m < 0) {
				*why = "unknown key";
				return -EINVAL;
			}
			if (given & (1U << m)) {
				*why = "a key given twice";
				return -EINVAL;
			}
			if (!val[0]) {
				*why = "a value is empty";
				return -EINVAL;
			}
			if (strlen(val) >= members[m].size) {
				*why = "value too long for its key";
				return -EINVAL;
			}
			given |= 1U << m;
			strcpy((char *)req + members[m].off, val);
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
	*why = incomplete(cmd, given);
	if (*why)
		return -EINVAL;
	req->cmd = cmd;
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
