// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/*
 * netd_hostile: ioasid-netd against bad arguments (an empty or overlong
 * --control among them), socket paths already taken (by a listener that
 * never accepts too), its control socket replaced while it runs, and
 * control-socket clients that break every bound (garbage, NUL bytes,
 * overlong and half-sent lines, silent connections in every slot, a
 * client that never reads, the daemon out of descriptors); after each
 * the daemon still answers a good request, and at SIGTERM it exits 0
 * with its sockets gone (but not one that is no longer its own).
 *
 * The daemon runs with vhost-user ports only and EAL --no-huge
 * --no-shconf, so no hugepage or device is needed; root is (the EAL).
 * TAP on stdout; exit 77 (skip) when not root.
 *
 * Usage: test_netd_hostile IOASID-NETD WORKDIR
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <dirent.h>
#include <arpa/inet.h>
#include <linux/if_packet.h>
#include <net/ethernet.h>
#include <net/if.h>
#include <sys/ioctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "frontend.h"
#include "listen.h"

static const char *netd, *work;
static int ntest, failed;

static void result(bool ok, const char *fmt, ...)
{
	va_list ap;

	printf("%sok %d - ", ok ? "" : "not ", ++ntest);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	fflush(stdout);
	failed |= !ok;
}

static void diag(const char *fmt, ...)
{
	va_list ap;

	printf("# ");
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

struct daemon {
	pid_t pid;
	char err[256];			/* its stderr, a file */
	int status;			/* once it exited */
};

/* Start the daemon with its own arguments @own (NULL-terminated). */
static void start(struct daemon *d, const char *tag, const char *const *own)
{
	static unsigned int seq;
	const char *argv[64];
	char prefix[64];
	int n = 0;

	snprintf(prefix, sizeof(prefix), "--file-prefix=netd-hostile-%d-%u",
		 getpid(), seq++);
	snprintf(d->err, sizeof(d->err), "%s/%s.err", work, tag);
	argv[n++] = netd;
	argv[n++] = "-l";
	argv[n++] = "0,1";
	argv[n++] = "--no-huge";
	argv[n++] = "-m";
	argv[n++] = "64";
	argv[n++] = "--no-shconf";
	argv[n++] = "--no-pci";
	argv[n++] = prefix;
	argv[n++] = "--log-level=lib.eal:warning";
	for (int i = 0; own[i] && n < 62; i++)
		argv[n++] = own[i];
	argv[n] = NULL;
	d->status = -1;
	d->pid = fork();
	if (d->pid == 0) {
		int fd = open(d->err, O_WRONLY | O_CREAT | O_TRUNC, 0644);

		dup2(fd, 2);
		dup2(fd, 1);
		execv(netd, (char **)argv);
		_exit(127);
	}
}

/* Its exit status within @secs, else -1 (killed). */
static int wait_exit(struct daemon *d, double secs)
{
	double end = now_s() + secs;
	int st;

	while (now_s() < end) {
		pid_t r = waitpid(d->pid, &st, WNOHANG);

		if (r == d->pid) {
			d->status = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
			return d->status;
		}
		usleep(20000);
	}
	kill(d->pid, SIGKILL);
	waitpid(d->pid, &st, 0);
	return -1;
}

/* The lines of its stderr that start "ioasid-netd:"; the last in @last. */
static int own_lines(const struct daemon *d, char *last, size_t size)
{
	FILE *f = fopen(d->err, "r");
	char line[512];
	int n = 0;

	last[0] = '\0';
	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f))
		if (!strncmp(line, "ioasid-netd:", 12)) {
			n++;
			line[strcspn(line, "\n")] = '\0';
			snprintf(last, size, "%s", line);
		}
	fclose(f);
	return n;
}

static void show_err(const struct daemon *d)
{
	char cmd[400];

	snprintf(cmd, sizeof(cmd), "sed 's/^/# daemon: /' %s | tail -20", d->err);
	fflush(stdout);
	(void)!system(cmd);
}

static int ctl_connect(const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int s = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
	if (s >= 0 && connect(s, (struct sockaddr *)&sa, sizeof(sa))) {
		close(s);
		return -1;
	}
	return s;
}

/* Wait until @path accepts connections (the daemon is up). */
static bool wait_listen(const char *path, double secs)
{
	double end = now_s() + secs;

	while (now_s() < end) {
		int s = ctl_connect(path);

		if (s >= 0) {
			close(s);
			return true;
		}
		usleep(50000);
	}
	return false;
}

/* One reply line within @secs into @buf; its length, 0 at EOF, -1 late. */
static int read_line(int s, char *buf, size_t size, double secs)
{
	double end = now_s() + secs;
	size_t n = 0;

	while (n + 1 < size) {
		struct pollfd p = { .fd = s, .events = POLLIN };
		int left = (int)((end - now_s()) * 1000);
		ssize_t r;

		if (left <= 0 || poll(&p, 1, left) <= 0)
			return -1;
		r = recv(s, buf + n, 1, 0);
		if (r <= 0)
			break;
		if (buf[n] == '\n')
			break;
		n++;
	}
	buf[n] = '\0';
	return (int)n;
}

static bool is_eof(int s, double secs)
{
	char b;
	struct pollfd p = { .fd = s, .events = POLLIN };

	return poll(&p, 1, (int)(secs * 1000)) == 1 && recv(s, &b, 1, 0) <= 0;
}

/* A fresh client's request: its reply in @buf, or false. */
static bool ask(const char *ctl, const char *req, char *buf, size_t size)
{
	int s = ctl_connect(ctl);
	bool ok;

	if (s < 0)
		return false;
	ok = send(s, req, strlen(req), MSG_NOSIGNAL) == (ssize_t)strlen(req) &&
	     read_line(s, buf, size, 3) > 0;
	close(s);
	return ok;
}

/* The number after "@key": in @buf, or -1. */
static long long json_num(const char *buf, const char *key)
{
	char k[64];
	const char *p;

	snprintf(k, sizeof(k), "\"%s\":", key);
	p = strstr(buf, k);
	if (!p)
		return -1;
	p += strlen(k);
	return *p >= '0' && *p <= '9' ? strtoll(p, NULL, 10) : -1;
}

static bool serves(const char *ctl)
{
	char buf[4096];

	return ask(ctl, "{\"cmd\":\"stats\"}\n", buf, sizeof(buf)) &&
	       !strncmp(buf, "{\"ports\":[{\"name\":\"v0\"", 21);
}

/* ---- arguments ---- */

static void bad_args(const char *what, const char *const *own, int want_rc,
		     const char *want)
{
	struct daemon d;
	char last[512];
	int rc, n;

	start(&d, "args", own);
	rc = wait_exit(&d, 60);
	n = own_lines(&d, last, sizeof(last));
	result(rc == want_rc && n == 1 && strstr(last, want), "%s: exit %d, one line",
	       what, want_rc);
	if (rc != want_rc || n != 1 || !strstr(last, want)) {
		diag("exit %d, %d own lines, last: %s", rc, n, last);
		show_err(&d);
	}
}

static void test_args(void)
{
	char sock[300];

	snprintf(sock, sizeof(sock), "v=%s/args.sock", work);
	bad_args("no -- before its own arguments",
		 (const char *const[]){ "--vhost", sock, NULL }, 2, "expected EAL arguments");
	bad_args("a port spec with no NAME=",
		 (const char *const[]){ "--", "--vhost", "nothing", NULL }, 2,
		 "expected NAME=");
	bad_args("a vhost port with no path",
		 (const char *const[]){ "--", "--vhost", "v=", NULL }, 2,
		 "names nothing");
	bad_args("an unknown vhost option",
		 (const char *const[]){ "--", "--vhost", "v=/tmp/x,fast", NULL }, 2,
		 "unknown option");
	bad_args("no queue pairs",
		 (const char *const[]){ "--", "--vhost", "v=/tmp/x,queues=0", NULL },
		 2, "queues=N takes 1 to 4 queue pairs");
	bad_args("more queue pairs than the backend serves",
		 (const char *const[]){ "--", "--vhost", "v=/tmp/x,queues=5", NULL },
		 2, "queues=N takes 1 to 4 queue pairs");
	bad_args("a queue count with a suffix",
		 (const char *const[]){ "--", "--vhost", "v=/tmp/x,queues=2x", NULL },
		 2, "queues=N takes 1 to 4 queue pairs");
	bad_args("a bridge of one port",
		 (const char *const[]){ "--", "--vhost", "a=/tmp/xa", "--bridge",
					"b=a", NULL },
		 2, "a bridge needs two ports at least");
	bad_args("a bridge without a name",
		 (const char *const[]){ "--", "--vhost", "a=/tmp/xa", "--bridge",
					"=a,a", NULL },
		 2, "expected NAME=A,B...");
	bad_args("a bridge member that is cross-connected",
		 (const char *const[]){ "--", "--vhost", "a=/tmp/xa", "--vhost",
					"b=/tmp/xb", "--xconnect", "a,b",
					"--bridge", "br=a,b", NULL },
		 2, "a is cross-connected");
	bad_args("a port in two bridges",
		 (const char *const[]){ "--", "--vhost", "a=/tmp/xa", "--vhost",
					"b=/tmp/xb", "--vhost", "c=/tmp/xc",
					"--bridge", "x=a,b", "--bridge", "y=b,c",
					NULL },
		 2, "b is in bridge x already");
	bad_args("a bridge naming a port twice",
		 (const char *const[]){ "--", "--vhost", "a=/tmp/xa", "--vhost",
					"b=/tmp/xb", "--bridge", "x=a,b,a", NULL },
		 2, "a is in bridge x already");
	bad_args("a bridge member that does not exist",
		 (const char *const[]){ "--", "--vhost", "a=/tmp/xa", "--bridge",
					"x=a,tap9", NULL },
		 2, "no port or DPDK device named tap9");
	bad_args("client mode with a value",
		 (const char *const[]){ "--", "--vhost", "v=/tmp/x,client=1", NULL },
		 2, "unknown option (known: iommu, queues=N, client, poll)");
	bad_args("a queue count that is empty",
		 (const char *const[]){ "--", "--vhost", "v=/tmp/x,queues=", NULL },
		 2, "unknown option");
	bad_args("an --eth device that does not exist",
		 (const char *const[]){ "--", "--eth", "t=net_nothing0", NULL }, 2,
		 "no DPDK device named net_nothing0");
	bad_args("an --xconnect naming nothing",
		 (const char *const[]){ "--", "--vhost", sock, "--xconnect", "v,tap9", NULL },
		 2, "no port or DPDK device named tap9");
	bad_args("a port connected to itself",
		 (const char *const[]){ "--", "--vhost", sock, "--xconnect", "v,v", NULL },
		 2, "itself");
	bad_args("no ports",
		 (const char *const[]){ "--", NULL }, 2, "nothing to serve");
	{
		char longp[200];

		memset(longp, 'x', sizeof(longp) - 1);
		memcpy(longp, "v=/tmp/", 7);
		longp[sizeof(longp) - 1] = '\0';
		bad_args("a socket path too long for a UNIX socket",
			 (const char *const[]){ "--", "--vhost", longp, NULL }, 2,
			 "socket path too long");
		bad_args("a control socket path too long for a UNIX socket",
			 (const char *const[]){ "--", "--vhost", sock, "--control",
						longp + 2, NULL }, 2,
			 "path too long");
	}
	/* It bound an abstract socket that no path names, and ran. */
	bad_args("an empty control socket path",
		 (const char *const[]){ "--", "--vhost", sock, "--control", "", NULL },
		 2, "--control: needs a path");
	bad_args("a control timeout of 0",
		 (const char *const[]){ "--", "--vhost", sock, "--control", "/tmp/c",
					"--control-timeout", "0", NULL }, 2,
		 "--control-timeout 0: expected whole seconds");
	bad_args("a control timeout with a unit",
		 (const char *const[]){ "--", "--vhost", sock, "--control", "/tmp/c",
					"--control-timeout", "5s", NULL }, 2,
		 "--control-timeout 5s: expected whole seconds");
	bad_args("a control timeout without a control socket",
		 (const char *const[]){ "--", "--vhost", sock,
					"--control-timeout", "5", NULL }, 2,
		 "needs --control");
	bad_args("an unknown option",
		 (const char *const[]){ "--", "--frobnicate", "1", NULL }, 2,
		 "unknown");
}

/* ---- socket paths ---- */

/*
 * A listener at @path that never accepts, its queue full: @fill[] the
 * queued clients (until one is refused with EAGAIN). The listener, or -1.
 */
static int listen_full(const char *path, int *fill, int max, int *nfill)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int l = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

	*nfill = 0;
	if (strlen(path) >= sizeof(sa.sun_path))
		return -1;
	memcpy(sa.sun_path, path, strlen(path));
	unlink(path);
	if (l < 0 || bind(l, (struct sockaddr *)&sa, sizeof(sa)) || listen(l, 0))
		return -1;
	while (*nfill < max) {
		int c = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);

		if (c < 0)
			break;
		if (connect(c, (struct sockaddr *)&sa, sizeof(sa))) {
			close(c);
			return errno == EAGAIN ? l : -1;
		}
		fill[(*nfill)++] = c;
	}
	return -1;
}

static void test_paths(const char *ctl, const char *vsock)
{
	char other[400], ctl2[300], stale[300], file[300], vstale[400];
	char last[512];
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct daemon d;
	struct stat st;
	int s, rc;

	snprintf(other, sizeof(other), "v=%s", vsock);
	snprintf(ctl2, sizeof(ctl2), "%s/ctl2", work);
	start(&d, "inuse", (const char *const[]){ "--", "--vhost", other,
						   "--control", ctl2, NULL });
	rc = wait_exit(&d, 60);
	own_lines(&d, last, sizeof(last));
	result(rc == 1 && strstr(last, "in use") && serves(ctl),
	       "a vhost-user socket another daemon listens on: refused, the other serves on");
	if (rc != 1 || !strstr(last, "in use"))
		show_err(&d);
	result(stat(ctl2, &st) && errno == ENOENT,
	       "the refused daemon removed its control socket");

	snprintf(other, sizeof(other), "v=%s/free.sock", work);
	start(&d, "ctlinuse", (const char *const[]){ "--", "--vhost", other,
						      "--control", ctl, NULL });
	rc = wait_exit(&d, 60);
	own_lines(&d, last, sizeof(last));
	result(rc == 1 && strstr(last, "--control") && strstr(last, "in use") &&
	       serves(ctl), "a control socket in use: refused, the other serves on");
	if (rc != 1)
		show_err(&d);

	/* A socket nobody listens on: what a killed daemon leaves. */
	snprintf(stale, sizeof(stale), "%s/stale.sock", work);
	snprintf(vstale, sizeof(vstale), "v0=%s", stale);
	memcpy(sa.sun_path, stale, strlen(stale) < sizeof(sa.sun_path) ?
	       strlen(stale) : sizeof(sa.sun_path) - 1);
	s = socket(AF_UNIX, SOCK_STREAM, 0);
	unlink(stale);
	if (s < 0 || bind(s, (struct sockaddr *)&sa, sizeof(sa)))
		diag("cannot make a stale socket: %s", strerror(errno));
	close(s);
	snprintf(ctl2, sizeof(ctl2), "%s/ctl-stale", work);
	start(&d, "stale", (const char *const[]){ "--", "--vhost", vstale,
						   "--control", ctl2, NULL });
	result(wait_listen(ctl2, 60) && wait_listen(stale, 5) && serves(ctl2),
	       "a stale socket file is replaced and served");
	kill(d.pid, SIGTERM);
	rc = wait_exit(&d, 30);
	result(rc == 0 && stat(stale, &st) && stat(ctl2, &st),
	       "SIGTERM: exit 0, both sockets removed");
	if (rc != 0)
		show_err(&d);

	/*
	 * The control socket replaced while the daemon runs (removed by
	 * hand, another daemon's in its place): at exit it used to remove
	 * whatever the path named. It removes only the socket it made.
	 * This daemon also gives its clients 1 s (--control-timeout).
	 */
	{
		char vfree[400], buf[256];
		struct stat mine;
		int l, c;
		double t;
		bool ok;

		snprintf(ctl2, sizeof(ctl2), "%s/ctl-replaced", work);
		snprintf(vfree, sizeof(vfree), "v0=%s/replaced.sock", work);
		start(&d, "replaced", (const char *const[]){ "--", "--vhost", vfree,
							      "--control", ctl2,
							      "--control-timeout", "1",
							      NULL });
		rc = wait_listen(ctl2, 60);
		c = ctl_connect(ctl2);
		t = now_s();
		ok = rc && c >= 0 && read_line(c, buf, sizeof(buf), 10) > 0 &&
		     strstr(buf, "idle too long") && is_eof(c, 3);
		result(ok, "--control-timeout 1: a silent client is closed as idle (%.1f s)",
		       now_s() - t);
		if (c >= 0)
			close(c);
		unlink(ctl2);
		memset(sa.sun_path, 0, sizeof(sa.sun_path));
		memcpy(sa.sun_path, ctl2, strlen(ctl2));
		l = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (l < 0 || bind(l, (struct sockaddr *)&sa, sizeof(sa)) || listen(l, 1) ||
		    stat(ctl2, &mine))
			diag("cannot put a socket at %s: %s", ctl2, strerror(errno));
		kill(d.pid, SIGTERM);
		rc = wait_exit(&d, 30);
		own_lines(&d, last, sizeof(last));
		result(rc == 0 && !stat(ctl2, &st) && st.st_ino == mine.st_ino &&
		       st.st_dev == mine.st_dev && strstr(last, "stopped"),
		       "a control socket replaced while it ran: left in place at exit");
		if (rc != 0)
			show_err(&d);
		if (l >= 0)
			close(l);
		unlink(ctl2);
	}

	/* Not a socket at all: never deleted. */
	snprintf(file, sizeof(file), "%s/precious", work);
	s = open(file, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	(void)!write(s, "data\n", 5);
	close(s);
	snprintf(other, sizeof(other), "v=%s", file);
	start(&d, "notsock", (const char *const[]){ "--", "--vhost", other, NULL });
	rc = wait_exit(&d, 60);
	own_lines(&d, last, sizeof(last));
	result(rc == 1 && strstr(last, "not a socket") && !stat(file, &st) &&
	       st.st_size == 5, "a path that is a regular file: refused, left alone");
	if (rc != 1)
		show_err(&d);

	/*
	 * A listener that never accepts, its queue full: the probe for a
	 * stale socket blocked in connect() on it, and the daemon never
	 * started nor stopped. It is in use, and said so at once.
	 */
	{
		char full[300], vfull[400];
		int fill[64], nfill, l;

		snprintf(full, sizeof(full), "%s/full.sock", work);
		snprintf(vfull, sizeof(vfull), "v=%s", full);
		snprintf(other, sizeof(other), "v=%s/free.sock", work);
		l = listen_full(full, fill, 64, &nfill);
		if (l < 0)
			diag("cannot fill a listener's queue: %s", strerror(errno));
		start(&d, "full", (const char *const[]){ "--", "--vhost", other,
							  "--control", full, NULL });
		rc = wait_exit(&d, 30);
		own_lines(&d, last, sizeof(last));
		result(l >= 0 && rc == 1 && strstr(last, "--control") &&
		       strstr(last, "in use") && !lstat(full, &st) && S_ISSOCK(st.st_mode),
		       "a control path whose listener never accepts: in use, not waited on");
		if (rc != 1)
			show_err(&d);
		start(&d, "vfull", (const char *const[]){ "--", "--vhost", vfull, NULL });
		rc = wait_exit(&d, 30);
		own_lines(&d, last, sizeof(last));
		result(l >= 0 && rc == 1 && strstr(last, "port v:") &&
		       strstr(last, "in use") && !lstat(full, &st) && S_ISSOCK(st.st_mode),
		       "a vhost-user path whose listener never accepts: in use, not waited on");
		if (rc != 1)
			show_err(&d);
		while (nfill)
			close(fill[--nfill]);
		if (l >= 0)
			close(l);
		unlink(full);
	}
}

/* ---- the control socket ---- */

/* The lowest descriptor number @pid has free, or -1. */
static int lowest_free_fd(pid_t pid)
{
	static bool used[4096];
	char dir[64];
	struct dirent *e;
	DIR *dp;

	snprintf(dir, sizeof(dir), "/proc/%d/fd", (int)pid);
	dp = opendir(dir);
	if (!dp)
		return -1;
	memset(used, 0, sizeof(used));
	while ((e = readdir(dp))) {
		long n = strtol(e->d_name, NULL, 10);

		if (e->d_name[0] >= '0' && e->d_name[0] <= '9' && n >= 0 && n < 4096)
			used[n] = true;
	}
	closedir(dp);
	for (int i = 0; i < 4096; i++)
		if (!used[i])
			return i;
	return -1;
}

/* CPU seconds @pid's main thread (the control socket's) has used. */
static double main_thread_cpu(pid_t pid)
{
	char path[64], buf[1024], *p;
	unsigned long long ut = 0, st = 0;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/task/%d/stat", (int)pid, (int)pid);
	f = fopen(path, "r");
	if (!f)
		return -1;
	p = fgets(buf, sizeof(buf), f) ? strrchr(buf, ')') : NULL;
	fclose(f);
	/* After the name: state and 10 more fields, then utime and stime. */
	if (!p || sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu",
			 &ut, &st) != 2)
		return -1;
	return (double)(ut + st) / (double)sysconf(_SC_CLK_TCK);
}

/*
 * The daemon out of descriptors: accept() on the control socket fails
 * with EMFILE while the connection stays queued, and the loop spun on
 * it. It retries every 100 ms, counts the failures, and the queued
 * client is answered once descriptors are free again.
 */
static void test_no_fds(const char *ctl, pid_t pid)
{
	struct rlimit old, low;
	char buf[4096];
	double t, cpu;
	long long fails;
	int fd, s;
	bool ok;

	usleep(300000);		/* the earlier clients' descriptors are closed */
	fd = lowest_free_fd(pid);
	if (fd < 0 || prlimit(pid, RLIMIT_NOFILE, NULL, &old)) {
		result(false, "the daemon's descriptors and limit can be read");
		return;
	}
	low = old;
	low.rlim_cur = (rlim_t)fd;
	ok = !prlimit(pid, RLIMIT_NOFILE, &low, NULL);
	s = ctl_connect(ctl);
	ok = ok && s >= 0 &&
	     send(s, "{\"cmd\":\"stats\"}\n", 16, MSG_NOSIGNAL) == 16;
	t = now_s();
	cpu = main_thread_cpu(pid);
	usleep(1000000);
	cpu = main_thread_cpu(pid) - cpu;
	t = now_s() - t;
	prlimit(pid, RLIMIT_NOFILE, &old, NULL);
	ok = ok && read_line(s, buf, sizeof(buf), 30) > 0 &&
	     !strncmp(buf, "{\"ports\":[", 10);
	if (s >= 0)
		close(s);
	diag("limit %d descriptors: the control thread used %.2f s of CPU in %.2f s",
	     fd, cpu, t);
	result(ok, "out of descriptors: a client waits, and is answered once there are");
	ok = ask(ctl, "{\"cmd\":\"stats\"}\n", buf, sizeof(buf));
	fails = ok ? json_num(buf, "accept_failures") : -1;
	/* 100 ms apart: about 10 in that second; spinning made thousands. */
	result(fails >= 1 && fails <= 20 + (long long)(t * 20),
	       "stats count the failed accepts, retried every 100 ms, not spun on (%lld in %.1f s)",
	       fails, t);
	if (fails < 1)
		diag("stats: %s", buf);
}

static void test_control(const char *ctl)
{
	char buf[4096], big[1000];
	int s, hold[8], extra;
	bool ok;
	double t;

	/* Garbage, then a good request on the same connection. */
	s = ctl_connect(ctl);
	ok = send(s, "hello\n", 6, MSG_NOSIGNAL) == 6 &&
	     read_line(s, buf, sizeof(buf), 3) > 0 && strstr(buf, "\"error\"");
	ok = ok && send(s, "{\"cmd\":\"ports\"}\n", 16, MSG_NOSIGNAL) == 16 &&
	     read_line(s, buf, sizeof(buf), 3) > 0 &&
	     strstr(buf, "\"kind\":\"vhost-user\"");
	close(s);
	result(ok, "garbage gets an error, the next request on that client an answer");

	static const char *const bad[] = {
		"{\"cmd\":\"stats\"", "{\"cmd\":\"halt\"}", "{\"cmd\":1}",
		"{\"cmd\":\"st\\u0061ts\"}", "{\"cmd\":\"stats\",\"cmd\":\"stats\"}",
		"{\"x\":\"y\"}", "{}", "[]", "{\"cmd\":\"stats\"}}", "\"cmd\"",
	};
	ok = true;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char req[128];

		snprintf(req, sizeof(req), "%s\n", bad[i]);
		if (!ask(ctl, req, buf, sizeof(buf)) || !strstr(buf, "\"error\"")) {
			diag("%s: %s", bad[i], buf);
			ok = false;
		}
	}
	result(ok, "malformed requests each get an error");

	s = ctl_connect(ctl);
	ok = send(s, "{\"cmd\":\0\"stats\"}\n", 17, MSG_NOSIGNAL) == 17 &&
	     read_line(s, buf, sizeof(buf), 3) > 0 && strstr(buf, "\"error\"");
	close(s);
	result(ok && serves(ctl), "a NUL byte in a request: an error");

	memset(big, 'a', sizeof(big));
	s = ctl_connect(ctl);
	ok = send(s, big, sizeof(big), MSG_NOSIGNAL) > 0 &&
	     read_line(s, buf, sizeof(buf), 3) > 0 && strstr(buf, "too long") &&
	     is_eof(s, 3);
	close(s);
	result(ok && serves(ctl), "an overlong line: an error, the client closed");

	/*
	 * Eight clients hold every slot with a line begun, never ended
	 * (once the daemon has seen the earlier clients go). A ninth is
	 * served all the same: the one connected first makes room.
	 */
	usleep(300000);
	for (int i = 0; i < 8; i++) {
		hold[i] = ctl_connect(ctl);
		(void)!send(hold[i], "{\"cmd\":\"st", 10, MSG_NOSIGNAL);
		usleep(20000);
	}
	usleep(300000);
	result(serves(ctl), "every slot held by a half-sent line: a ninth client is served");
	ok = read_line(hold[0], buf, sizeof(buf), 3) > 0 &&
	     strstr(buf, "too many clients") && is_eof(hold[0], 3);
	result(ok, "the client connected first made room: told there are too many, closed");
	t = now_s();
	ok = true;
	for (int i = 1; i < 8 && ok; i++) {
		ok = read_line(hold[i], buf, sizeof(buf), 10) > 0 &&
		     strstr(buf, "not finished in time") && is_eof(hold[i], 3);
		if (!ok)
			diag("client %d: %s", i, buf);
	}
	result(ok && now_s() - t < 9, "half-sent lines are dropped after the time limit (%.1f s)",
	       now_s() - t);
	for (int i = 0; i < 8; i++)
		close(hold[i]);
	result(serves(ctl), "after them a new client is served");

	/*
	 * Eight clients that connect and never send a byte. They used to
	 * keep every slot for good, and every later client was turned away.
	 */
	for (int i = 0; i < 8; i++) {
		hold[i] = ctl_connect(ctl);
		usleep(20000);
	}
	usleep(300000);
	extra = ctl_connect(ctl);
	ok = extra >= 0 &&
	     send(extra, "{\"cmd\":\"stats\"}\n", 16, MSG_NOSIGNAL) == 16 &&
	     read_line(extra, buf, sizeof(buf), 30) > 0 &&
	     !strncmp(buf, "{\"ports\":[", 10);
	if (!ok)
		diag("reply: %s", buf);
	close(extra);
	result(ok, "eight silent clients hold every slot: a new client is answered");
	ok = read_line(hold[0], buf, sizeof(buf), 3) > 0 &&
	     strstr(buf, "too many clients") && is_eof(hold[0], 3);
	for (int i = 1; i < 8 && ok; i++) {
		ok = read_line(hold[i], buf, sizeof(buf), 30) > 0 &&
		     strstr(buf, "idle too long") && is_eof(hold[i], 3);
		if (!ok)
			diag("client %d: %s", i, buf);
	}
	for (int i = 0; i < 8; i++)
		close(hold[i]);
	result(ok, "silent clients: the first made room, the rest are closed as idle");
	ok = ask(ctl, "{\"cmd\":\"stats\"}\n", buf, sizeof(buf));
	result(ok && json_num(buf, "evicted") == 2 && json_num(buf, "timed_out") == 14,
	       "stats count 2 clients evicted and 14 timed out");
	if (!ok || json_num(buf, "evicted") != 2 || json_num(buf, "timed_out") != 14)
		diag("stats: %s", buf);

	/*
	 * Clients that connect and ask at once, over and over, while seven
	 * others hold slots: each looked newer than an operator who
	 * connected 20 ms before sending, and the operator was the one
	 * evicted every time (0 of 20 answered, review of 2026-12-03). A
	 * client is not evicted in its first moments any more.
	 */
	for (int i = 0; i < 7; i++) {
		hold[i] = ctl_connect(ctl);
		(void)!send(hold[i], "{\"cmd\":\"ports\"}\n", 16, MSG_NOSIGNAL);
	}
	{
		pid_t churn = fork();
		int served = 0;

		if (churn == 0) {
			/* Each churner stays ~32 ms: longer than the wait. */
			int ring[32], k = 0;
			double end = now_s() + 2.5;

			for (int i = 0; i < 32; i++)
				ring[i] = -1;
			while (now_s() < end) {
				if (ring[k] >= 0)
					close(ring[k]);
				ring[k] = ctl_connect(ctl);
				if (ring[k] >= 0)
					(void)!send(ring[k], "{\"cmd\":\"ports\"}\n",
						    16, MSG_NOSIGNAL);
				k = (k + 1) % 32;
				usleep(1000);
			}
			_exit(0);
		}
		usleep(200000);
		for (int i = 0; i < 10; i++) {
			int op = ctl_connect(ctl);

			usleep(20000);
			if (op >= 0 &&
			    send(op, "{\"cmd\":\"stats\"}\n", 16, MSG_NOSIGNAL) == 16 &&
			    read_line(op, buf, sizeof(buf), 5) > 0 &&
			    !strncmp(buf, "{\"ports\":[", 10))
				served++;
			if (op >= 0)
				close(op);
		}
		waitpid(churn, NULL, 0);
		result(served == 10, "clients churning while seven hold slots: an operator who waits 20 ms is answered (%d of 10)",
		       served);
	}
	for (int i = 0; i < 7; i++)
		close(hold[i]);

	/* A client that sends requests and never reads its replies. */
	s = ctl_connect(ctl);
	ok = true;
	t = now_s();
	for (int i = 0; i < 20000 && now_s() - t < 10; i++) {
		if (send(s, "{\"cmd\":\"stats\"}\n", 16, MSG_NOSIGNAL | MSG_DONTWAIT) < 0) {
			if (errno == EAGAIN) {
				usleep(1000);
				continue;
			}
			break;		/* the daemon closed it */
		}
	}
	close(s);
	result(serves(ctl), "a client that never reads does not stop the daemon");

	ok = ask(ctl, "{\"cmd\":\"reset\"}\n", buf, sizeof(buf)) &&
	     !strcmp(buf, "{\"ok\":true}") &&
	     ask(ctl, "  {\"cmd\" : \"stats\"}  \n", buf, sizeof(buf)) &&
	     strstr(buf, "\"rx_packets\":0,");
	result(ok, "reset answers ok and stats read zero after it");
}

/*
 * A client-mode port (,client): the front-end listens and the daemon
 * connects, though the path is live (a server-mode port refuses a path
 * someone listens on); after the front-end hangs up the daemon connects
 * again; ports says the mode; SIGTERM leaves the front-end's socket.
 */
static void test_client(void)
{
	char ctl[160], path[160], spec[200], buf[4096];
	struct daemon d;
	struct stat st;
	int l, c;
	bool ok;

	snprintf(ctl, sizeof(ctl), "%s/ctl-client", work);
	snprintf(path, sizeof(path), "%s/qemu.sock", work);
	snprintf(spec, sizeof(spec), "c0=%s,client", path);
	l = fx_listen(path, 4);
	if (l < 0) {
		result(false, "client mode: a front-end listens at %s", path);
		return;
	}
	start(&d, "client", (const char *const[]){ "--", "--vhost", spec,
						    "--control", ctl, NULL });
	c = fx_accept_within(l, 60000);
	result(c >= 0, "client mode: the daemon connects to a listening front-end");
	ok = wait_listen(ctl, 30) &&
	     ask(ctl, "{\"cmd\":\"ports\"}\n", buf, sizeof(buf)) &&
	     strstr(buf, "\"mode\":\"client\"");
	result(ok, "client mode: ports says \"mode\":\"client\"");
	if (!ok)
		diag("ports: %.300s", buf);
	if (c >= 0)
		close(c);
	c = fx_accept_within(l, 10000);
	result(c >= 0, "client mode: after the front-end hangs up, the daemon connects again");
	/* The backend counts a connection just after connect() returns. */
	for (int t = 0; t < 20; t++) {
		ok = ask(ctl, "{\"cmd\":\"stats\"}\n", buf, sizeof(buf)) &&
		     json_num(buf, "connections") == 2;
		if (ok)
			break;
		usleep(100000);
	}
	result(ok, "client mode: stats counts 2 connections");
	if (!ok)
		diag("stats: %.400s", buf);
	if (c >= 0)
		close(c);
	kill(d.pid, SIGTERM);
	ok = wait_exit(&d, 30) == 0;
	result(ok && !stat(path, &st) && S_ISSOCK(st.st_mode) && stat(ctl, &st),
	       "client mode: SIGTERM: exit 0, the front-end's socket left, the control socket removed");
	if (!ok)
		show_err(&d);
	close(l);
	unlink(path);
}

/* ---- the MAC-learning bridge, through three net_tap ports ---- */

#define BR_TYPE		0x88b6		/* this test's frames */
#define BR_PORTS	3

static int br_sock[BR_PORTS];
static char br_if[BR_PORTS][IFNAMSIZ];

/* A packet socket on @ifname, taking BR_TYPE frames that arrive. */
static int br_open(const char *ifname)
{
	struct sockaddr_ll sll = { .sll_family = AF_PACKET,
				   .sll_protocol = htons(BR_TYPE) };
	struct ifreq ifr;
	int one = 1, s = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC,
				htons(BR_TYPE));

	if (s < 0)
		return -1;
	memset(&ifr, 0, sizeof(ifr));
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", ifname);
	if (ioctl(s, SIOCGIFFLAGS, &ifr) == 0) {
		ifr.ifr_flags |= IFF_UP;
		(void)ioctl(s, SIOCSIFFLAGS, &ifr);
	}
	sll.sll_ifindex = (int)if_nametoindex(ifname);
	if (!sll.sll_ifindex ||
	    bind(s, (struct sockaddr *)&sll, sizeof(sll)) ||
	    setsockopt(s, SOL_PACKET, PACKET_IGNORE_OUTGOING, &one,
		       sizeof(one))) {
		close(s);
		return -1;
	}
	return s;
}

static void br_mac(uint8_t *m, unsigned int host)
{
	const uint8_t base[6] = { 0x02, 0x10, 0x00, 0x00, 0x00, 0x00 };

	memcpy(m, base, 6);
	m[4] = (uint8_t)(host >> 8);
	m[5] = (uint8_t)host;
}

#define BR_FRAME	64

/* This test's frame @id from host @src to @dst (0xffff: broadcast). */
static void br_frame(uint8_t f[BR_FRAME], unsigned int src, unsigned int dst,
		     uint32_t id)
{
	uint16_t type = htons(BR_TYPE);

	memset(f, 0, BR_FRAME);
	if (dst == 0xffff)
		memset(f, 0xff, 6);
	else
		br_mac(f, dst);
	br_mac(f + 6, src);
	memcpy(f + 12, &type, 2);
	memcpy(f + 14, &id, 4);
}

/* Frame @id from @src to @dst (a host number; 0xffff: broadcast) on port @from. */
static bool br_send(int from, unsigned int src, unsigned int dst, uint32_t id)
{
	uint8_t f[BR_FRAME];

	br_frame(f, src, dst, id);
	return send(br_sock[from], f, sizeof(f), 0) == (ssize_t)sizeof(f);
}

/*
 * Which ports frame @id came out of (a bit each): waits until every port
 * in @want has it (at most 3 s), then 300 ms more for any other.
 */
static unsigned int br_seen(uint32_t id, unsigned int want)
{
	double end = now_s() + 3, quiet = 0;
	unsigned int got = 0;

	for (;;) {
		struct pollfd p[BR_PORTS];
		double now = now_s();

		if ((got & want) == want && !quiet)
			quiet = now + 0.3;
		if (now > (quiet ? quiet : end))
			return got;
		for (int k = 0; k < BR_PORTS; k++)
			p[k] = (struct pollfd){ .fd = br_sock[k], .events = POLLIN };
		if (poll(p, BR_PORTS, 50) <= 0)
			continue;
		for (int k = 0; k < BR_PORTS; k++) {
			uint8_t f[2048];
			uint32_t fid;
			ssize_t n;

			if (!(p[k].revents & POLLIN))
				continue;
			n = recv(br_sock[k], f, sizeof(f), MSG_DONTWAIT);
			if (n < 18)
				continue;
			memcpy(&fid, f + 14, 4);
			if (fid == id)
				got |= 1U << k;
		}
	}
}

/* Drain what the ports received (a flood's frames). */
static void br_drain(void)
{
	uint8_t f[2048];

	for (int k = 0; k < BR_PORTS; k++)
		while (recv(br_sock[k], f, sizeof(f), MSG_DONTWAIT) > 0)
			;
}

/*
 * The daemon with BR_PORTS net_tap devices (interfaces @ifpfx<pid>_<k>,
 * br_sock[] on them) and --bridge @bridge, answering on @ctl; one result
 * @what. False (the daemon killed) if it did not come up.
 */
static bool br_start(struct daemon *d, const char *tag, const char *ifpfx,
		     const char *bridge, const char *ctl, const char *what)
{
	char vdev[BR_PORTS][64];
	const char *args[32];
	int n = 0, k;
	bool ok;

	for (k = 0; k < BR_PORTS; k++) {
		snprintf(br_if[k], sizeof(br_if[k]), "%s%d_%d", ifpfx,
			 getpid() % 10000, k);
		snprintf(vdev[k], sizeof(vdev[k]), "net_tap%d,iface=%s", k,
			 br_if[k]);
		args[n++] = "--vdev";
		args[n++] = vdev[k];
	}
	args[n++] = "--";
	args[n++] = "--bridge";
	args[n++] = bridge;
	args[n++] = "--control";
	args[n++] = ctl;
	args[n] = NULL;
	start(d, tag, args);
	ok = wait_listen(ctl, 60);
	for (k = 0; k < BR_PORTS && ok; k++) {
		br_sock[k] = br_open(br_if[k]);
		ok = br_sock[k] >= 0;
	}
	result(ok, "%s", what);
	if (!ok) {
		show_err(d);
		kill(d->pid, SIGKILL);
		wait_exit(d, 10);
		return false;
	}
	usleep(300000);		/* the interfaces' own first frames */
	br_drain();
	return true;
}

/*
 * --bridge over three net_tap ports, driven from the host through their
 * TAP interfaces: a broadcast floods to the other two; a reply to a
 * learned address goes to its port alone; an unknown destination
 * floods; a frame to its own port is filtered; an address that moves
 * is followed; and a flood of made-up source addresses (a hostile
 * guest) leaves the table bounded, counted as fdb_full, with the
 * addresses in use still forwarded.
 */
static void test_bridge(void)
{
	char ctl[160], buf[8192];
	struct daemon d;
	unsigned int got;
	long long v;
	int k;
	bool ok;

	snprintf(ctl, sizeof(ctl), "%s/ctl-bridge", work);
	if (!br_start(&d, "bridge", "nbr", "br0=net_tap0,net_tap1,net_tap2", ctl,
		      "bridge: the daemon serves three net_tap ports in br0"))
		return;
	/* Host 1 on port 0, 2 on port 1, 3 on port 2. */
	got = br_send(0, 1, 0xffff, 101) ? br_seen(101, 6) : 0;
	result(got == 6, "bridge: a broadcast from port 0 floods to ports 1 and 2 (got 0x%x)", got);
	got = br_send(1, 2, 1, 102) ? br_seen(102, 1) : 0;
	result(got == 1, "bridge: a reply to a learned address goes to its port alone (got 0x%x)", got);
	got = br_send(2, 3, 77, 103) ? br_seen(103, 3) : 0;
	result(got == 3, "bridge: an unknown destination floods (got 0x%x)", got);
	got = br_send(0, 1, 1, 104) ? br_seen(104, 0) : 0;
	result(got == 0, "bridge: a frame to an address on its own port is filtered (got 0x%x)", got);
	got = br_send(2, 1, 0xffff, 105) ? br_seen(105, 3) : 0;
	got = br_send(1, 2, 1, 106) ? br_seen(106, 4) : 0;
	result(got == 4, "bridge: host 1 moved to port 2, and frames follow it (got 0x%x)", got);

	/* A flood of made-up sources, all to host 2 (on port 1). */
	for (uint32_t i = 0; i < 6000; i++) {
		if (!br_send(0, 0x1000 + i, 2, 200000 + i))
			usleep(1000);	/* the interface's queue is full */
		if (i % 256 == 255) {
			usleep(2000);
			br_drain();
		}
	}
	usleep(300000);
	br_drain();
	ok = ask(ctl, "{\"cmd\":\"stats\"}\n", buf, sizeof(buf));
	v = ok ? json_num(buf, "entries") : -1;
	/*
	 * Port 0's share is 4096 / 3 = 1365 slots; the rest: hosts 1-3 and
	 * the TAP interfaces' own addresses (their IPv6 chatter).
	 */
	result(ok && v > 0 && v <= 1365 + 8 && json_num(buf, "port_limit") > 0 &&
	       json_num(buf, "moved") >= 1 && json_num(buf, "filtered") >= 1,
	       "bridge: 6000 made-up sources from one port take at most its share (%lld slots of 4096), port_limit counted",
	       v);
	if (!ok || v <= 0 || v > 1365 + 8 || json_num(buf, "port_limit") <= 0)
		diag("stats: %.600s", strstr(buf, "\"bridges\"") ? strstr(buf, "\"bridges\"") : buf);
	got = br_send(1, 2, 1, 107) ? br_seen(107, 4) : 0;
	result(got == 4, "bridge: after the flood, host 1 is still reached on port 2 alone (got 0x%x)", got);
	/* Room for the other ports' newcomers: host 4 on port 1, learned. */
	got = br_send(1, 4, 0xffff, 108) ? br_seen(108, 5) : 0;
	got = br_send(2, 1, 4, 109) ? br_seen(109, 2) : 0;
	result(got == 2, "bridge: after the flood, a new host on another port is learned: frames to it reach its port alone (got 0x%x)", got);
	ok = ask(ctl, "{\"cmd\":\"ports\"}\n", buf, sizeof(buf)) &&
	     strstr(buf, "\"bridge\":\"br0\"");
	result(ok, "bridge: ports names each port's bridge");
	for (k = 0; k < BR_PORTS; k++)
		close(br_sock[k]);
	kill(d.pid, SIGTERM);
	result(wait_exit(&d, 30) == 0, "bridge: SIGTERM: exit 0");
}

/*
 * A guest that stops taking frames (its receive buffers used up, none
 * posted again: a hostile or paused driver) holds at most
 * NETD_TO_GUEST_MAX (256) of the mbufs every port draws from; the rest
 * of what its peer sends it is dropped and counted. The driver here is
 * the project's front-end (tests/lib/frontend.c) that never reads.
 */
static void test_stuck_guest(void)
{
	char ctl[160], sock[160], spec[200], vdev[64], ifname[IFNAMSIZ], buf[8192];
	struct vu_front_cfg fc = { 0 };
	struct vu_front *fr = NULL;
	long long rx = -1, tx = -1, drops = -1, held = -1;
	struct daemon d;
	int s = -1;
	bool ok;

	snprintf(ctl, sizeof(ctl), "%s/ctl-stuck", work);
	snprintf(sock, sizeof(sock), "%s/stuck.sock", work);
	snprintf(ifname, sizeof(ifname), "nsg%d", getpid() % 100000);
	snprintf(vdev, sizeof(vdev), "net_tap0,iface=%s", ifname);
	snprintf(spec, sizeof(spec), "v0=%s", sock);
	start(&d, "stuck", (const char *const[]){ "--vdev", vdev, "--",
		"--vhost", spec, "--xconnect", "v0,net_tap0", "--control", ctl,
		NULL });
	ok = wait_listen(ctl, 60);
	fc.path = sock;
	ok = ok && !vu_front_open(&fc, &fr);
	for (int t = 0; ok && t < 50; t++) {	/* the port comes up */
		if (ask(ctl, "{\"cmd\":\"stats\"}\n", buf, sizeof(buf)) &&
		    json_num(buf, "running") == 2)
			break;
		usleep(100000);
	}
	if (ok) {
		s = br_open(ifname);
		ok = s >= 0;
	}
	result(ok, "stuck guest: a driver that never reads on a port cross-connected to net_tap");
	if (ok) {
		for (uint32_t i = 0; i < 3000; i++) {
			uint8_t f[BR_FRAME];

			br_frame(f, 9, 0xffff, 0);
			if (send(s, f, sizeof(f), 0) != (ssize_t)sizeof(f))
				usleep(1000);
			if (i % 64 == 63)
				usleep(2000);
		}
		usleep(500000);
		if (ask(ctl, "{\"cmd\":\"stats\"}\n", buf, sizeof(buf))) {
			const char *t = strstr(buf, "\"name\":\"net_tap0\"");

			tx = json_num(buf, "tx_packets");	/* v0 comes first */
			drops = json_num(buf, "tx_drops");
			rx = t ? json_num(t, "rx_packets") : -1;
			held = rx - tx - drops;
		}
		result(rx >= 1000 && held >= 0 && held <= 256,
		       "stuck guest: of %lld frames for it, %lld delivered, %lld dropped, %lld held (at most 256)",
		       rx, tx, drops, held);
	}
	if (s >= 0)
		close(s);
	if (fr)
		vu_front_close(fr);
	kill(d.pid, SIGTERM);
	result(wait_exit(&d, 30) == 0, "stuck guest: SIGTERM: exit 0");
}

/* ---- ports added and removed at run time ---- */

/* One request; true if the reply has @want in it (diag otherwise). */
static bool rt_ask(const char *ctl, const char *req, const char *want)
{
	char line[600], buf[8192];
	bool ok;

	snprintf(line, sizeof(line), "%s\n", req);
	ok = ask(ctl, line, buf, sizeof(buf)) && strstr(buf, want);
	if (!ok)
		diag("%s -> %.300s", req, buf);
	return ok;
}

/* The daemon's "ports" reply into @buf; false if none. */
static bool rt_ports(const char *ctl, char *buf, size_t size)
{
	return ask(ctl, "{\"cmd\":\"ports\"}\n", buf, size);
}

/* Frames a front-end received in 3 s (one: 100 ms), of the @n with id @id0.. sent. */
static unsigned int rt_front_got(struct vu_front *fr, uint32_t id0,
				 unsigned int n)
{
	double end = now_s() + (n == 1 ? 0.1 : 3);
	unsigned int got = 0;

	while (got < n && now_s() < end) {
		uint8_t f[2048];
		uint32_t len = vu_front_recv(fr, f, sizeof(f)), id;

		if (!len) {
			usleep(1000);
			continue;
		}
		memcpy(&id, f + 14, 4);
		got += len >= 18 && id >= id0 && id < id0 + n;
	}
	return got;
}

/* Frames with ids @id0.. (@n of them) seen on TAP @k within 3 s. */
static unsigned int rt_tap_got(int k, uint32_t id0, unsigned int n)
{
	double end = now_s() + 3;
	uint32_t seen = 0;		/* a bit per id, n <= 32 */
	unsigned int got = 0;

	while (got < n && now_s() < end) {
		struct pollfd p = { .fd = br_sock[k], .events = POLLIN };
		uint8_t f[2048];
		uint32_t id;

		if (poll(&p, 1, 50) != 1)
			continue;
		if (recv(br_sock[k], f, sizeof(f), MSG_DONTWAIT) < 18)
			continue;
		memcpy(&id, f + 14, 4);
		if (id >= id0 && id < id0 + n && !(seen & (1U << (id - id0)))) {
			seen |= 1U << (id - id0);
			got++;
		}
	}
	return got;
}

/*
 * A bad add or remove (@fmt, a request with %s for @arg): the reason
 * @why, and the port list as it was.
 */
static void rt_refused(const char *ctl, const char *what, const char *why,
		       const char *arg, const char *fmt)
{
	char before[8192], after[8192], req[400];
	bool ok;

	snprintf(req, sizeof(req), fmt, arg);
	ok = rt_ports(ctl, before, sizeof(before)) &&
	     rt_ask(ctl, req, "\"error\"") && rt_ask(ctl, req, why) &&
	     rt_ports(ctl, after, sizeof(after)) && !strcmp(before, after);
	result(ok, "runtime: %s: refused (\"%s\"), the ports as they were", what,
	       why);
}

/*
 * Ports added and removed over the control socket while the daemon
 * forwards: an ethdev that joins a running bridge gets its floods and
 * stops getting them once removed; a vhost-user port added beside it is
 * served (frames both ways with the project's front-end) and, removed
 * with its front-end still connected, leaves no socket and no peer
 * behind; its name and path can be used again. Every bad request is
 * refused with its reason and changes nothing; 16 ports at most.
 */
static void test_runtime(void)
{
	char ctl[160], sock[160], req[400], buf[8192], fill[160], nowhere[160];
	struct vu_front_cfg fc = { 0 };
	struct vu_front *fr = NULL;
	unsigned int got;
	struct daemon d;
	struct stat st;
	int k;
	bool ok;

	snprintf(ctl, sizeof(ctl), "%s/ctl-runtime", work);
	snprintf(sock, sizeof(sock), "%s/rt-v1.sock", work);
	snprintf(nowhere, sizeof(nowhere), "%s/rt-nowhere.sock", work);
	if (!br_start(&d, "runtime", "nrt", "br0=net_tap0,net_tap1", ctl,
		      "runtime: the daemon serves br0 of two net_tap ports"))
		return;

	/* An ethdev joins the bridge, then leaves it. */
	ok = rt_ask(ctl, "{\"cmd\":\"add\",\"eth\":\"t2=net_tap2\",\"bridge\":\"br0\"}",
		    "{\"ok\":true}");
	got = ok && br_send(0, 1, 0xffff, 301) ? br_seen(301, 6) : 0;
	result(ok && got == 6, "runtime: net_tap2 added to br0 gets a broadcast from port 0 (got 0x%x)", got);
	ok = rt_ask(ctl, "{\"cmd\":\"remove\",\"port\":\"t2\"}", "{\"ok\":true}") &&
	     rt_ports(ctl, buf, sizeof(buf)) && !strstr(buf, "\"t2\"");
	got = ok && br_send(0, 1, 0xffff, 302) ? br_seen(302, 2) : 0;
	result(ok && got == 2, "runtime: removed, it is gone from ports and the bridge floods to port 1 alone (got 0x%x)", got);

	/* A vhost-user port beside a new ethdev port, frames both ways. */
	snprintf(req, sizeof(req), "{\"cmd\":\"add\",\"vhost\":\"v1=%s\",\"xconnect\":\"t2\"}", sock);
	ok = rt_ask(ctl, "{\"cmd\":\"add\",\"eth\":\"t2=net_tap2\"}", "{\"ok\":true}") &&
	     rt_ask(ctl, req, "{\"ok\":true}") && !stat(sock, &st);
	fc.path = sock;
	ok = ok && !vu_front_open(&fc, &fr);
	for (int t = 0; ok && t < 50; t++) {
		if (ask(ctl, "{\"cmd\":\"stats\"}\n", buf, sizeof(buf)) &&
		    json_num(buf, "running") == 2)
			break;
		usleep(100000);
	}
	result(ok && json_num(buf, "running") == 2,
	       "runtime: v1 added, cross-connected to t2: its socket is there and a front-end's queues run");
	got = 0;
	if (ok) {
		/*
		 * The lcore sees the driver within 10 ms and the restarted
		 * TAP comes up on its own time: probe until a frame passes.
		 */
		for (int t = 0; t < 50 && !got; t++) {
			br_send(2, 5, 0xffff, 399);
			got = rt_front_got(fr, 399, 1);
		}
		while (rt_front_got(fr, 399, 1))
			;
		for (uint32_t i = 0; i < 32; i++)
			br_send(2, 5, 0xffff, 400 + i);
		got = rt_front_got(fr, 400, 32);
	}
	result(got == 32, "runtime: 32 frames from t2's TAP reach v1's front-end (got %u)", got);
	got = 0;
	if (ok) {
		for (uint32_t i = 0; i < 8; i++) {
			uint8_t f[BR_FRAME];

			br_frame(f, 6, 0xffff, 500 + i);
			vu_front_send(fr, f, sizeof(f));
		}
		got = rt_tap_got(2, 500, 8);
	}
	result(got == 8, "runtime: 8 frames from v1's front-end come out of t2's TAP (got %u)", got);
	ok = ask(ctl, "{\"cmd\":\"stats\"}\n", buf, sizeof(buf));
	{
		const char *v1 = ok ? strstr(buf, "\"name\":\"v1\"") : NULL;

		result(v1 && json_num(v1, "worker_busy_ns") > 0 &&
		       json_num(buf, "busy_cycles") > 0,
		       "runtime: frames moved: v1's worker and the lcore count busy time (%lld ns, %lld cycles)",
		       v1 ? json_num(v1, "worker_busy_ns") : -1,
		       json_num(buf, "busy_cycles"));
	}

	/* Bad requests, each refused with nothing changed. */
	rt_refused(ctl, "a name in use", "a port of that name exists", nowhere,
		   "{\"cmd\":\"add\",\"vhost\":\"v1=%s\"}");
	snprintf(req, sizeof(req), "{\"cmd\":\"add\",\"vhost\":\"v2=%s\"}", sock);
	rt_refused(ctl, "a socket path in use", "in use", nowhere, req);
	rt_refused(ctl, "a client port aimed at the control socket",
		   "is this daemon's control socket", ctl,
		   "{\"cmd\":\"add\",\"vhost\":\"c1=%s,client\"}");
	rt_refused(ctl, "a client port aimed at another port's socket",
		   "is port v1's socket", sock,
		   "{\"cmd\":\"add\",\"vhost\":\"c1=%s,client\"}");
	rt_refused(ctl, "a peer that does not exist", "xconnect: no port named zz", nowhere,
		   "{\"cmd\":\"add\",\"vhost\":\"v2=%s\",\"xconnect\":\"zz\"}");
	rt_refused(ctl, "a peer that is cross-connected", "t2 is cross-connected already", nowhere,
		   "{\"cmd\":\"add\",\"vhost\":\"v2=%s\",\"xconnect\":\"t2\"}");
	rt_refused(ctl, "a peer in a bridge", "net_tap0 is in a bridge already", nowhere,
		   "{\"cmd\":\"add\",\"vhost\":\"v2=%s\",\"xconnect\":\"net_tap0\"}");
	rt_refused(ctl, "a bridge that does not exist", "no bridge named br9", nowhere,
		   "{\"cmd\":\"add\",\"vhost\":\"v2=%s\",\"bridge\":\"br9\"}");
	rt_refused(ctl, "a device that is a port already", "device net_tap0 is port net_tap0 already", nowhere,
		   "{\"cmd\":\"add\",\"eth\":\"e=net_tap0\"}");
	rt_refused(ctl, "a device that does not exist", "no DPDK device named net_nothing0", nowhere,
		   "{\"cmd\":\"add\",\"eth\":\"e=net_nothing0\"}");
	rt_refused(ctl, "an unknown vhost option", "unknown option", nowhere,
		   "{\"cmd\":\"add\",\"vhost\":\"v2=%s,fast\"}");
	rt_refused(ctl, "both xconnect and bridge", "not both", nowhere,
		   "{\"cmd\":\"add\",\"vhost\":\"v2=/tmp/x\",\"xconnect\":\"t2\",\"bridge\":\"br0\"}");
	rt_refused(ctl, "neither vhost nor eth", "add needs vhost or eth", nowhere,
		   "{\"cmd\":\"add\",\"xconnect\":\"t2\"}");
	rt_refused(ctl, "an empty spec", "a value is empty", nowhere,
		   "{\"cmd\":\"add\",\"vhost\":\"\"}");
	rt_refused(ctl, "remove with a spec", "remove takes port", nowhere,
		   "{\"cmd\":\"remove\",\"vhost\":\"v1=/x\"}");
	rt_refused(ctl, "remove of a port that does not exist", "no port named zz", nowhere,
		   "{\"cmd\":\"remove\",\"port\":\"zz\"}");
	result(stat(nowhere, &st) != 0,
	       "runtime: no refused add left a socket behind");

	/*
	 * Removed with its front-end connected and frames in flight both
	 * ways (its ring filled, the TAP sending to it): no socket, no peer.
	 */
	if (fr) {
		for (uint32_t i = 0; i < 300; i++) {
			uint8_t f[BR_FRAME];

			br_frame(f, 6, 0xffff, 0);
			if (vu_front_send(fr, f, sizeof(f)))
				break;
		}
		for (uint32_t i = 0; i < 64; i++)
			br_send(2, 5, 0xffff, 700 + i);
	}
	ok = rt_ask(ctl, "{\"cmd\":\"remove\",\"port\":\"v1\"}", "{\"ok\":true}") &&
	     stat(sock, &st) && rt_ports(ctl, buf, sizeof(buf)) &&
	     !strstr(buf, "\"v1\"") &&
	     strstr(buf, "{\"name\":\"t2\",\"kind\":\"ethdev\",\"device\":\"net_tap2\",\"peer\":null}");
	result(ok, "runtime: v1 removed under traffic: its socket gone, t2 has no peer");
	if (!ok)
		diag("ports: %.600s", buf);
	if (fr)
		vu_front_close(fr);
	fr = NULL;
	snprintf(req, sizeof(req), "{\"cmd\":\"add\",\"vhost\":\"v1=%s\",\"xconnect\":\"t2\"}", sock);
	ok = rt_ask(ctl, req, "{\"ok\":true}") && !stat(sock, &st);
	result(ok, "runtime: the same name and path can be added again");
	/* t2 took its old slot back, outside br0: floods must not reach it. */
	br_drain();
	got = br_send(0, 1, 0xffff, 601) ? br_seen(601, 2) : 0;
	result(got == 2, "runtime: br0 floods to net_tap1 alone, not to t2 in the slot its removed member had (got 0x%x)", got);
	result(ask(ctl, "{\"cmd\":\"stats\"}\n", buf, sizeof(buf)) &&
	       json_num(buf, "running") == 0 && strstr(buf, "\"name\":\"v1\""),
	       "runtime: stats has the new v1, no front-end on it");

	/* At most 16 ports: 4 now, 12 more, then one too many. */
	for (k = 0, ok = true; k < 12 && ok; k++) {
		snprintf(req, sizeof(req), "{\"cmd\":\"add\",\"vhost\":\"f%d=%s/rt-f%d.sock\"}",
			 k, work, k);
		ok = rt_ask(ctl, req, "{\"ok\":true}");
	}
	snprintf(fill, sizeof(fill), "%s/rt-one-more.sock", work);
	snprintf(req, sizeof(req), "{\"cmd\":\"add\",\"vhost\":\"g=%s\"}", fill);
	ok = ok && rt_ask(ctl, req, "too many ports (at most 16)") && stat(fill, &st);
	result(ok, "runtime: 16 ports, and a 17th is refused with no socket made");
	for (k = 0, ok = true; k < 12 && ok; k++) {
		snprintf(req, sizeof(req), "{\"cmd\":\"remove\",\"port\":\"f%d\"}", k);
		snprintf(fill, sizeof(fill), "%s/rt-f%d.sock", work, k);
		ok = rt_ask(ctl, req, "{\"ok\":true}") && stat(fill, &st);
	}
	result(ok, "runtime: the 12 removed again, their sockets gone");
	for (k = 0; k < BR_PORTS; k++)
		close(br_sock[k]);
	kill(d.pid, SIGTERM);
	ok = wait_exit(&d, 30) == 0;
	result(ok && stat(sock, &st) && stat(ctl, &st),
	       "runtime: SIGTERM: exit 0, sockets removed");
	if (!ok)
		show_err(&d);
}

int main(int argc, char **argv)
{
	char ctl[300], vsock[300], vspec[400], cmd[700];
	struct daemon d;
	struct stat st;
	int rc;

	if (argc != 3) {
		fprintf(stderr, "usage: %s IOASID-NETD WORKDIR\n", argv[0]);
		return 2;
	}
	netd = argv[1];
	work = argv[2];
	printf("TAP version 13\n");
	if (geteuid()) {
		printf("1..0 # SKIP needs root (the DPDK EAL)\n");
		return 77;
	}
	snprintf(cmd, sizeof(cmd), "rm -rf '%s' && mkdir -p '%s'", work, work);
	if (system(cmd)) {
		printf("1..0 # SKIP cannot make %s\n", work);
		return 77;
	}
	signal(SIGPIPE, SIG_IGN);
	test_args();

	snprintf(ctl, sizeof(ctl), "%s/ctl", work);
	snprintf(vsock, sizeof(vsock), "%s/v0.sock", work);
	snprintf(vspec, sizeof(vspec), "v0=%s,queues=2", vsock);
	start(&d, "main", (const char *const[]){ "--", "--vhost", vspec,
						  "--control", ctl, NULL });
	if (!wait_listen(ctl, 60) || !serves(ctl)) {
		result(false, "the daemon starts and answers stats");
		show_err(&d);
		kill(d.pid, SIGKILL);
		printf("1..%d\n", ntest);
		return 1;
	}
	result(true, "the daemon starts and answers stats");
	{
		char pbuf[4096], sbuf[4096];
		bool ok = ask(ctl, "{\"cmd\":\"ports\"}\n", pbuf, sizeof(pbuf)) &&
			  ask(ctl, "{\"cmd\":\"stats\"}\n", sbuf, sizeof(sbuf));
		const char *q = ok ? strstr(sbuf, "\"queues\":[") : NULL;

		ok = ok && json_num(pbuf, "queues") == 2 && q &&
		     !strncmp(q, "\"queues\":[{\"from_guest\":0,\"to_guest\":0},"
			      "{\"from_guest\":0,\"to_guest\":0}]", 70);
		result(ok, "ports and stats show the port's two queue pairs");
		if (!ok)
			diag("ports: %.300s / stats: %.400s", pbuf, sbuf);
		/* Idle polling and naps are not busy time. */
		result(json_num(sbuf, "busy_cycles") == 0 &&
		       json_num(sbuf, "worker_busy_ns") == 0 &&
		       json_num(sbuf, "tsc_hz") > 0,
		       "with no frames, no busy cycles on the lcore or the worker (tsc_hz %lld)",
		       json_num(sbuf, "tsc_hz"));
	}
	test_paths(ctl, vsock);
	test_control(ctl);
	test_no_fds(ctl, d.pid);
	kill(d.pid, SIGTERM);
	rc = wait_exit(&d, 30);
	result(rc == 0 && stat(ctl, &st) && stat(vsock, &st),
	       "SIGTERM after all that: exit 0, sockets removed");
	if (rc)
		show_err(&d);
	test_client();
	test_bridge();
	test_stuck_guest();
	test_runtime();
	printf("1..%d\n", ntest);
	return failed;
}
