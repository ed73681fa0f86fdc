// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/* A UNIX listener for the tests: see listen.h. */
#define _GNU_SOURCE
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "listen.h"

int fx_listen(const char *path, int backlog)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int l;

	if (strlen(path) >= sizeof(sa.sun_path))
		return -1;
	strcpy(sa.sun_path, path);
	l = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (l < 0 || bind(l, (struct sockaddr *)&sa, sizeof(sa)) ||
	    listen(l, backlog)) {
		if (l >= 0)
			close(l);
		return -1;
	}
	return l;
}

int fx_accept_within(int l, int ms)
{
	struct pollfd p = { .fd = l, .events = POLLIN };

	if (poll(&p, 1, ms) != 1)
		return -1;
	return accept4(l, NULL, NULL, SOCK_CLOEXEC);
}
