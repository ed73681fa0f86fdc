/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/*
 * The front-end's side of a client-mode vhost-user port, for the tests
 * that play it (vu_hostile, netd_hostile): a UNIX listener, and the
 * backend's next connection to it.
 */
#ifndef IOASID_TESTS_LISTEN_H
#define IOASID_TESTS_LISTEN_H

/* A listener at @path with a queue of @backlog; -1 on failure. */
int fx_listen(const char *path, int backlog);
/* The next connection to listener @l within @ms; -1 if none came. */
int fx_accept_within(int l, int ms);

#endif /* IOASID_TESTS_LISTEN_H */
