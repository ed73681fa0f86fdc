// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/*
 * vu_hostile: a front-end that breaks the vhost-user rules on purpose,
 * against the project's backend (in this process, so that its mappings
 * in /proc/self/maps and its descriptors in /proc/self/fd can be counted).
 * Each message is raw: the test builds headers, payloads and descriptor
 * lists itself. A broken rule must give a NACK (REPLY_ACK) or, when the
 * framing itself is wrong, end the connection; never a mapping of memory
 * the table does not name, a queue that reads past its ring, a descriptor
 * kept or a worker that blocks. After each case the backend must still
 * serve a well-behaved connection.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <linux/virtio_config.h>
#include <linux/virtio_ring.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/statfs.h>
#include <linux/magic.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <signal.h>
#include <time.h>

#include "echo.h"
#include "harness.h"
#include "listen.h"
#include "memguard.h"
#include "vhost_user.h"
#include "vhost_user_proto.h"
#include "virtio_features.h"

#define H_MEM		(1U << 20)	/* the memfd behind each region */
#define H_UADDR		0x7f0000000000ULL

static char sock[64];
static struct vu_backend *be;
static struct vu_echo echo;

/*
 * The harness runs each test in a child process of its own: the backend
 * starts there, so that its mappings and descriptors are the ones this
 * process counts.
 */
static int be_start(void)
{
	struct vu_app app;

	vu_echo_init(&echo, &app);
	snprintf(sock, sizeof(sock), "/tmp/ioasid-vuh-%d.sock", (int)getpid());
	return vu_backend_start(sock, &app, VU_OFFER_IOMMU, &be);
}

static int cl_open(void)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", sock);
	for (int i = 0; i < 100; i++) {
		if (!connect(fd, (struct sockaddr *)&sa, sizeof(sa)))
			return fd;
		usleep(10000);	/* the backend accepts one at a time */
	}
	close(fd);
	return -1;
}

/* One raw message: header fields as given, @size payload bytes, @fds. */
static int cl_send(int fd, uint32_t req, uint32_t flags, const void *p,
		   uint32_t size, const int *fds, int nfds)
{
	char cbuf[CMSG_SPACE(16 * sizeof(int))];
	struct vu_hdr h = { .request = req, .flags = flags, .size = size };
	struct iovec iov[2] = { { &h, sizeof(h) }, { (void *)p, size } };
	struct msghdr mh = { .msg_iov = iov, .msg_iovlen = size ? 2 : 1 };

	if (nfds) {
		struct cmsghdr *c;

		mh.msg_control = cbuf;
		mh.msg_controllen = CMSG_SPACE(nfds * sizeof(int));
		c = CMSG_FIRSTHDR(&mh);
		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_RIGHTS;
		c->cmsg_len = CMSG_LEN(nfds * sizeof(int));
		memcpy(CMSG_DATA(c), fds, nfds * sizeof(int));
	}
	return sendmsg(fd, &mh, MSG_NOSIGNAL) ==
	       (ssize_t)(sizeof(h) + size) ? 0 : -1;
}

/* A reply's u64, or -1 when the backend closed the connection (10 s). */
static int64_t cl_reply(int fd)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };
	struct vu_hdr h;
	uint64_t v = 0;

	if (poll(&p, 1, 10000) != 1)
		return -2;		/* neither answered nor closed */
	if (recv(fd, &h, sizeof(h), MSG_WAITALL) != sizeof(h))
		return -1;
	if (h.size != 8 || recv(fd, &v, 8, MSG_WAITALL) != 8)
		return -3;
	return (int64_t)v;
}

/* Send with NEED_REPLY: 0 accepted, 1 refused, -1 connection ended. */
static int64_t cl_ack(int fd, uint32_t req, const void *p, uint32_t size,
		      const int *fds, int nfds)
{
	if (cl_send(fd, req, VU_VERSION | VU_FLAG_NEED_REPLY, p, size, fds,
		    nfds))
		return -1;
	return cl_reply(fd);
}

static int64_t cl_u64(int fd, uint32_t req, uint64_t v)
{
	return cl_ack(fd, req, &v, 8, NULL, 0);
}

static int64_t cl_state(int fd, uint32_t req, uint32_t index, uint32_t num)
{
	struct vhost_vring_state s = { .index = index, .num = num };

	return cl_ack(fd, req, &s, sizeof(s), NULL, 0);
}

/* Negotiate REPLY_ACK (and @features): the connection, or -1. */
static int cl_hello(uint64_t features)
{
	int fd = cl_open();

	if (fd < 0 || cl_send(fd, VU_GET_FEATURES, VU_VERSION, NULL, 0, NULL, 0) ||
	    cl_reply(fd) < 0 ||
	    cl_send(fd, VU_SET_FEATURES, VU_VERSION, &features, 8, NULL, 0))
		goto fail;
	{
		uint64_t pf = 1ULL << VU_PF_REPLY_ACK;

		if (cl_send(fd, VU_SET_PROTOCOL_FEATURES, VU_VERSION, &pf, 8,
			    NULL, 0))
			goto fail;
	}
	return fd;
fail:
	if (fd >= 0)
		close(fd);
	return -1;
}

static int memfd(uint64_t size)
{
	int fd = memfd_create("vu-hostile", MFD_CLOEXEC);

	if (fd >= 0 && ftruncate(fd, (off_t)size)) {
		close(fd);
		return -1;
	}
	return fd;
}

/* This process's mappings of vu-hostile memfds, and its open descriptors. */
static int count_maps(void)
{
	FILE *f = fopen("/proc/self/maps", "r");
	char line[512];
	int n = 0;

	while (f && fgets(line, sizeof(line), f))
		n += strstr(line, "memfd:vu-hostile") != NULL;
	if (f)
		fclose(f);
	return n;
}

static int count_fds(void)
{
	char path[64];
	int n = 0;

	for (int i = 0; i < 4096; i++) {
		snprintf(path, sizeof(path), "/proc/self/fd/%d", i);
		n += !access(path, F_OK);
	}
	return n;
}

/* Close @fd and wait until the backend serves the next connection. */
static bool backend_idle(int fd)
{
	close(fd);
	for (int i = 0; i < 500; i++) {
		int probe = cl_open();
		int64_t r;

		if (probe < 0)
			return false;
		r = cl_send(probe, VU_GET_FEATURES, VU_VERSION, NULL, 0, NULL, 0) ?
		    -1 : cl_reply(probe);
		close(probe);
		if (r > 0)
			return true;
		usleep(10000);
	}
	return false;
}

/*
 * The descriptors open now, once the backend has let go of the last
 * connection (it closes its end when it reads the end of the stream).
 */
static int fds_settled(int want)
{
	int n = count_fds();

	for (int i = 0; i < 200 && n != want; i++) {
		usleep(10000);
		n = count_fds();
	}
	return n;
}

/*
 * How a test that mapped guest memory ends: nothing mapped and no
 * descriptor left over (@fds0 were open at its start), then the backend
 * stopped.
 */
static int stop_clean(int fds0)
{
	CHECK_EQ(count_maps(), 0);
	CHECK_EQ(fds_settled(fds0), fds0);
	vu_backend_stop(be);
	return 0;
}

struct region_msg {
	uint32_t n, pad;
	struct vu_region_desc r[VU_MAX_REGIONS + 1];
} __attribute__((packed));

static int64_t mem_table(int fd, const struct vu_region_desc *r, uint32_t n,
			 uint32_t nfds)
{
	struct region_msg m = { .n = n };
	int fds[VU_MAX_REGIONS + 1] = { -1 };
	int64_t rc;
	uint32_t i;

	for (i = 0; i < nfds; i++)
		fds[i] = memfd(H_MEM);
	memcpy(m.r, r, (n < VU_MAX_REGIONS + 1 ? n : VU_MAX_REGIONS + 1) * sizeof(*r));
	rc = cl_ack(fd, VU_SET_MEM_TABLE, &m,
		    8 + (n < VU_MAX_REGIONS + 1 ? n : VU_MAX_REGIONS + 1) * sizeof(*r),
		    fds, (int)nfds);
	for (i = 0; i < nfds; i++)
		close(fds[i]);
	return rc;
}

#define GOOD(i) ((struct vu_region_desc){ .gpa = (uint64_t)(i) * H_MEM, \
	.size = H_MEM, .uaddr = H_UADDR + (uint64_t)(i) * H_MEM, .offset = 0 })

/*
 * Issue 11, defect 5 and the memory table's other rules. One good table
 * first; every bad one after it is refused and leaves exactly the good
 * one mapped; the connection's end unmaps it and closes every descriptor.
 */
static int mem_table_rules(struct fx *fx)
{
	static const struct {
		const char *what;
		struct vu_region_desc r[2];
		uint32_t n;
	} bad[] = {
		{ "offset + size wraps (offset 2^64 - 4 KiB, size 8 KiB)",
		  { { 0, 0x2000, H_UADDR, UINT64_MAX - 0xfff } }, 1 },
		{ "size 0", { { 0, 0, H_UADDR, 0 } }, 1 },
		{ "guest address + size wraps",
		  { { UINT64_MAX - 0xfff, 0x2000, H_UADDR, 0 } }, 1 },
		{ "guest range ends at 2^64 - 1 (a range no unmap can name)",
		  { { UINT64_MAX - 0xfff, 0x1000, H_UADDR, 0 } }, 1 },
		{ "front-end address + size wraps",
		  { { 0, 0x2000, UINT64_MAX - 0xfff, 0 } }, 1 },
		{ "past the end of the file",
		  { { 0, H_MEM, H_UADDR, 0x1000 } }, 1 },
		{ "larger than the file", { { 0, 2 * H_MEM, H_UADDR, 0 } }, 1 },
		{ "guest ranges overlap",
		  { GOOD(0), { H_MEM / 2, H_MEM, H_UADDR + 4 * H_MEM, 0 } }, 2 },
		{ "front-end ranges overlap",
		  { GOOD(0), { 4 * H_MEM, H_MEM, H_UADDR + H_MEM / 2, 0 } }, 2 },
	};
	struct vu_region_desc nine[VU_MAX_REGIONS + 1];
	int fd, fds0;

	(void)fx;
	CHECK_OK(be_start());
	fds0 = count_fds();
	fd = cl_hello(1ULL << VU_F_PROTOCOL_FEATURES);
	CHECK(fd >= 0);
	CHECK_EQ(mem_table(fd, (struct vu_region_desc[]){ GOOD(0) }, 1, 1), 0);
	CHECK_EQ(count_maps(), 1);
	for (uint32_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		int64_t rc = mem_table(fd, bad[i].r, bad[i].n, bad[i].n);

		if (rc != 1 || count_maps() != 1) {
			diag("%s: reply %lld (want 1, refused), %d mappings (want the old table's 1)",
			     bad[i].what, (long long)rc, count_maps());
			return 1;
		}
	}
	/* More regions than the backend takes; regions without descriptors. */
	for (uint32_t i = 0; i <= VU_MAX_REGIONS; i++)
		nine[i] = GOOD(i);
	CHECK_EQ(mem_table(fd, nine, VU_MAX_REGIONS + 1, VU_MAX_REGIONS), -1);
	CHECK(backend_idle(fd));
	CHECK_EQ(count_maps(), 0);
	fd = cl_hello(1ULL << VU_F_PROTOCOL_FEATURES);
	CHECK(fd >= 0);
	CHECK_EQ(mem_table(fd, nine, 2, 1), 1);
	CHECK_EQ(count_maps(), 0);
	/* Two good regions, each descriptor in a control message of its own. */
	{
		struct region_msg m = { .n = 2, .r = { GOOD(0), GOOD(1) } };
		struct vu_hdr h = { VU_SET_MEM_TABLE,
				    VU_VERSION | VU_FLAG_NEED_REPLY,
				    8 + 2 * sizeof(m.r[0]) };
		char cbuf[2 * CMSG_SPACE(sizeof(int))];
		struct iovec iov[2] = { { &h, sizeof(h) }, { &m, h.size } };
		struct msghdr mh = { .msg_iov = iov, .msg_iovlen = 2,
				     .msg_control = cbuf,
				     .msg_controllen = sizeof(cbuf) };
		struct cmsghdr *c = CMSG_FIRSTHDR(&mh);
		int a = memfd(H_MEM), b2 = memfd(H_MEM);

		memset(cbuf, 0, sizeof(cbuf));
		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_RIGHTS;
		c->cmsg_len = CMSG_LEN(sizeof(int));
		memcpy(CMSG_DATA(c), &a, sizeof(int));
		c = CMSG_NXTHDR(&mh, c);
		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_RIGHTS;
		c->cmsg_len = CMSG_LEN(sizeof(int));
		memcpy(CMSG_DATA(c), &b2, sizeof(int));
		CHECK(sendmsg(fd, &mh, MSG_NOSIGNAL) == (ssize_t)(sizeof(h) + h.size));
		CHECK_EQ(cl_reply(fd), 0);
		close(a);
		close(b2);
		CHECK_EQ(count_maps(), 2);
	}
	CHECK(backend_idle(fd));
	return stop_clean(fds0);
}

/*
 * A region whose file is not shared memory: a file on the file system of
 * the build directory (ext4, overlay...; on FUSE, which a front-end may
 * serve itself, every access of the worker would wait on it). Refused,
 * nothing mapped; a memfd region on the same connection still works.
 */
static int region_file_system(struct fx *fx)
{
	char path[64];
	struct region_msg m = { .n = 1, .r = { GOOD(0) } };
	struct statfs sfs;
	int fd, file;
	void *map;

	(void)fx;
	snprintf(path, sizeof(path), "vu-hostile-%d.mem", (int)getpid());
	file = open(path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	CHECK(file >= 0);
	unlink(path);
	CHECK_OK(ftruncate(file, H_MEM));
	CHECK_OK(fstatfs(file, &sfs));
	if (sfs.f_type == TMPFS_MAGIC || sfs.f_type == HUGETLBFS_MAGIC) {
		close(file);
		skip_reason("the build directory is on tmpfs or hugetlbfs: no other file system to try");
		return SKIP_RC;
	}
	/* The file itself can be mapped shared: only the backend's rule refuses it. */
	map = mmap(NULL, H_MEM, PROT_READ | PROT_WRITE, MAP_SHARED, file, 0);
	CHECK(map != MAP_FAILED);
	munmap(map, H_MEM);
	CHECK_OK(be_start());
	fd = cl_hello(1ULL << VU_F_PROTOCOL_FEATURES);
	CHECK(fd >= 0);
	CHECK_EQ(cl_ack(fd, VU_SET_MEM_TABLE, &m, 8 + sizeof(m.r[0]), &file, 1), 1);
	close(file);
	CHECK_EQ(count_maps(), 0);
	CHECK_EQ(mem_table(fd, (struct vu_region_desc[]){ GOOD(0) }, 1, 1), 0);
	CHECK_EQ(count_maps(), 1);
	CHECK(backend_idle(fd));
	CHECK_EQ(count_maps(), 0);
	vu_backend_stop(be);
	return 0;
}

/*
 * The backend's end of connection @client: the socket descriptor in this
 * process that is neither @client, nor @other, nor listening. -1 if none.
 */
static int backend_conn_fd(int client, int other)
{
	for (int i = 0; i < 4096; i++) {
		int listening = 0;
		socklen_t len = sizeof(listening);

		if (i == client || i == other ||
		    getsockopt(i, SOL_SOCKET, SO_ACCEPTCONN, &listening, &len))
			continue;
		if (!listening)
			return i;
	}
	return -1;
}

/*
 * Out of descriptors: a local user can open connections until the
 * backend's process has none left, and accept() then fails at once for
 * as long as a connection waits. The control thread must wait between
 * tries, not spin (count its failures over half a second: about 5 at
 * one try per 100 ms, millions spinning), and serve the waiting
 * connection once descriptors are free again.
 *
 * accept() takes its descriptor number before it blocks, and the backend
 * calls it right after closing its end of a connection, so that number
 * is the one to keep from it: the limit is set to it, with every number
 * below it taken.
 */
static int accept_exhausted(struct fx *fx)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd, second, conn, fill[4096], nfill = 0;
	struct rlimit old, low;
	struct vu_stats st;

	(void)fx;
	CHECK_OK(be_start());
	fd = cl_open();
	CHECK(fd >= 0);
	CHECK(cl_send(fd, VU_GET_FEATURES, VU_VERSION, NULL, 0, NULL, 0) == 0);
	CHECK(cl_reply(fd) > 0);
	second = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	CHECK(second >= 0);
	conn = backend_conn_fd(fd, second);
	CHECK(conn >= 0);
	CHECK_OK(getrlimit(RLIMIT_NOFILE, &old));
	low = old;
	low.rlim_cur = (rlim_t)conn;
	CHECK_OK(setrlimit(RLIMIT_NOFILE, &low));
	while (nfill < 4096 &&
	       (fill[nfill] = open("/dev/null", O_RDONLY | O_CLOEXEC)) >= 0)
		nfill++;
	CHECK(nfill < 4096 && errno == EMFILE);
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", sock);
	CHECK_OK(connect(second, (struct sockaddr *)&sa, sizeof(sa)));
	/* End the first connection but keep its descriptor number taken. */
	CHECK_OK(shutdown(fd, SHUT_RDWR));
	usleep(500000);
	vu_backend_stats(be, &st);
	diag("accept() failed %llu times in 0.5 s with no descriptor free",
	     (unsigned long long)st.accept_failures);
	CHECK(st.accept_failures >= 1);
	CHECK(st.accept_failures <= 50);
	while (nfill)
		close(fill[--nfill]);
	CHECK_OK(setrlimit(RLIMIT_NOFILE, &old));
	CHECK(cl_send(second, VU_GET_FEATURES, VU_VERSION, NULL, 0, NULL, 0) == 0);
	CHECK(cl_reply(second) > 0);
	close(second);
	close(fd);
	vu_backend_stop(be);
	return 0;
}

/*
 * Framing: a payload shorter or longer than the request's, descriptors a
 * request does not take, flags that are not a request's. Each ends the
 * connection (the next one works), and every descriptor sent is closed.
 */
static int framing(struct fx *fx)
{
	static const struct {
		const char *what;
		uint32_t req, flags, size, nfds;
	} bad[] = {
		{ "SET_VRING_ADDR without its payload", VU_SET_VRING_ADDR,
		  VU_VERSION, 0, 0 },
		{ "SET_VRING_NUM with 4 bytes", VU_SET_VRING_NUM, VU_VERSION, 4, 0 },
		{ "SET_FEATURES with 16 bytes", VU_SET_FEATURES, VU_VERSION, 16, 0 },
		{ "IOTLB_MSG with 8 bytes", VU_IOTLB_MSG, VU_VERSION, 8, 0 },
		{ "GET_FEATURES with 3 descriptors", VU_GET_FEATURES, VU_VERSION, 0, 3 },
		{ "SET_OWNER with a descriptor", VU_SET_OWNER, VU_VERSION, 0, 1 },
		{ "SET_BACKEND_REQ_FD without one", VU_SET_BACKEND_REQ_FD,
		  VU_VERSION, 0, 0 },
		{ "version 2", VU_SET_OWNER, 2, 0, 0 },
		{ "the reply flag on a request", VU_SET_OWNER,
		  VU_VERSION | VU_FLAG_REPLY, 0, 0 },
	};
	uint8_t payload[64] = { 0 };
	int fds0;

	(void)fx;
	CHECK_OK(be_start());
	fds0 = count_fds();
	for (uint32_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		int fd = cl_hello(1ULL << VU_F_PROTOCOL_FEATURES), ev[3];
		int64_t rc;

		CHECK(fd >= 0);
		for (uint32_t k = 0; k < bad[i].nfds; k++)
			ev[k] = memfd(4096);
		rc = cl_send(fd, bad[i].req, bad[i].flags | VU_FLAG_NEED_REPLY,
			     payload, bad[i].size, ev, (int)bad[i].nfds) ?
		     -1 : cl_reply(fd);
		for (uint32_t k = 0; k < bad[i].nfds; k++)
			close(ev[k]);
		if (rc != -1) {
			diag("%s: reply %lld, want the connection closed",
			     bad[i].what, (long long)rc);
			return 1;
		}
		CHECK(backend_idle(fd));
	}
	/*
	 * A front-end that never reads its replies: the backend must drop it
	 * rather than wait in send() under its lock (which stopped the worker
	 * and every vu_backend_stats() caller). SIGALRM ends a wedged run.
	 */
	{
		int fd = cl_hello(1ULL << VU_F_PROTOCOL_FEATURES);
		struct vu_stats st;
		int i;

		CHECK(fd >= 0);
		alarm(60);
		for (i = 0; i < 100000; i++)
			if (cl_send(fd, VU_GET_FEATURES, VU_VERSION, NULL, 0, NULL, 0))
				break;
		diag("unread replies: the backend dropped the front-end after %d requests", i);
		CHECK(i < 100000);
		vu_backend_stats(be, &st);	/* the lock is free */
		alarm(0);
		CHECK(backend_idle(fd));
	}
	/* A request the backend does not know: refused, the connection stays. */
	{
		int fd = cl_hello(1ULL << VU_F_PROTOCOL_FEATURES);

		CHECK(fd >= 0);
		CHECK_EQ(cl_ack(fd, 99, payload, 16, NULL, 0), 1);
		CHECK_EQ(cl_u64(fd, VU_NET_SET_MTU, 1500), 0);
		CHECK(backend_idle(fd));
	}
	CHECK_EQ(fds_settled(fds0), fds0);
	vu_backend_stop(be);
	return 0;
}

/*
 * Queue indices and ring state (issue 11, defect 6): an index past the
 * queue pair, sizes that are not a ring's, reserved bits in the kick and
 * call payloads, and a packed base past the ring, which used to start a
 * queue that read descriptors beyond it (here: past the end of the
 * region, a fault).
 */
static int ring_rules(struct fx *fx)
{
	const uint64_t f = (1ULL << VU_F_PROTOCOL_FEATURES) |
			   (1ULL << VIRTIO_F_VERSION_1) |
			   (1ULL << VIRTIO_F_RING_PACKED);
	struct vhost_vring_addr a = { .index = 1 };
	struct vu_stats st;
	int fd, ev, fds0, fl, p[2];

	(void)fx;
	CHECK_OK(be_start());
	fds0 = count_fds();
	fd = cl_hello(f);
	CHECK(fd >= 0);
	CHECK_EQ(cl_state(fd, VU_SET_VRING_NUM, 2, 256), 1);
	CHECK_EQ(cl_state(fd, VU_SET_VRING_NUM, UINT32_MAX, 256), 1);
	CHECK_EQ(cl_state(fd, VU_SET_VRING_ENABLE, 7, 1), 1);
	CHECK_EQ(cl_state(fd, VU_GET_VRING_BASE, 2, 0) , -1);
	CHECK(backend_idle(fd));
	fd = cl_hello(f);
	CHECK(fd >= 0);
	CHECK_EQ(cl_state(fd, VU_SET_VRING_NUM, 1, 0), 1);
	CHECK_EQ(cl_state(fd, VU_SET_VRING_NUM, 1, 3), 1);
	CHECK_EQ(cl_state(fd, VU_SET_VRING_NUM, 1, 65536), 1);
	CHECK_EQ(cl_state(fd, VU_SET_VRING_ENABLE, 1, 2), 1);
	ev = memfd(4096);
	CHECK_EQ(cl_ack(fd, VU_SET_VRING_KICK, &(uint64_t){ 5 }, 8, &ev, 1), 1);
	CHECK_EQ(cl_ack(fd, VU_SET_VRING_CALL, &(uint64_t){ 1ULL << 12 }, 8,
			&ev, 1), -1);
	CHECK(backend_idle(fd));
	/*
	 * Call and kick descriptors the worker writes: an eventfd, made
	 * non-blocking; a pipe nobody reads (or a file) is refused.
	 */
	close(ev);
	ev = eventfd(0, EFD_CLOEXEC);
	CHECK(ev >= 0);
	fd = cl_hello(f);
	CHECK(fd >= 0);
	CHECK_OK(pipe2(p, O_CLOEXEC));
	CHECK_EQ(cl_ack(fd, VU_SET_VRING_CALL, &(uint64_t){ 1 }, 8, &p[1], 1), 1);
	close(p[0]);
	close(p[1]);
	p[0] = memfd(4096);
	CHECK_EQ(cl_ack(fd, VU_SET_VRING_KICK, &(uint64_t){ 1 }, 8, &p[0], 1), 1);
	close(p[0]);
	CHECK_EQ(cl_ack(fd, VU_SET_VRING_CALL, &(uint64_t){ 1 }, 8, &ev, 1), 0);
	fl = fcntl(ev, F_GETFL);
	CHECK(fl >= 0 && (fl & O_NONBLOCK));
	/* The desc ring in the region's last page; a packed base past it. */
	CHECK_EQ(mem_table(fd, (struct vu_region_desc[]){ GOOD(0) }, 1, 1), 0);
	CHECK_EQ(cl_state(fd, VU_SET_VRING_NUM, 1, 256), 0);
	a.desc_user_addr = H_UADDR + H_MEM - 4096;
	a.avail_user_addr = H_UADDR;
	a.used_user_addr = H_UADDR + 64;
	CHECK_EQ(cl_ack(fd, VU_SET_VRING_ADDR, &a, sizeof(a), NULL, 0), 0);
	CHECK_EQ(cl_state(fd, VU_SET_VRING_BASE, 1, 0x8000 | 300), 0);
	CHECK_EQ(cl_state(fd, VU_SET_VRING_ENABLE, 1, 1), 0);
	CHECK_EQ(cl_ack(fd, VU_SET_VRING_KICK, &(uint64_t){ 1 }, 8, &ev, 1), 1);
	usleep(20000);
	vu_backend_stats(be, &st);
	CHECK_EQ(st.running, 0);
	/* The same queue with a base inside the ring runs. */
	CHECK_EQ(cl_state(fd, VU_SET_VRING_BASE, 1, 0x8000 | 255), 0);
	CHECK_EQ(cl_ack(fd, VU_SET_VRING_KICK, &(uint64_t){ 1 }, 8, &ev, 1), 0);
	for (int i = 0; i < 200 && (vu_backend_stats(be, &st), !st.running); i++)
		usleep(10000);
	CHECK_EQ(st.running, 1);
	CHECK_EQ(st.broken, 0);
	/* Split rings take 16-bit bases only. */
	CHECK(backend_idle(fd));
	fd = cl_hello(1ULL << VU_F_PROTOCOL_FEATURES);
	CHECK(fd >= 0);
	CHECK_EQ(cl_state(fd, VU_SET_VRING_BASE, 0, 0x10000), 1);
	CHECK_EQ(cl_state(fd, VU_SET_VRING_BASE, 0, 0xffff), 0);
	/* IOTLB messages without VIRTIO_F_ACCESS_PLATFORM. */
	{
		struct vhost_iotlb_msg t = { .iova = 0, .size = 4096,
					     .uaddr = H_UADDR,
					     .perm = VHOST_ACCESS_RW,
					     .type = VHOST_IOTLB_UPDATE };

		CHECK_EQ(mem_table(fd, (struct vu_region_desc[]){ GOOD(0) }, 1, 1), 0);
		CHECK_EQ(cl_ack(fd, VU_IOTLB_MSG, &t, sizeof(t), NULL, 0), 1);
	}
	CHECK(backend_idle(fd));
	close(ev);
	return stop_clean(fds0);
}

/* A GET_* request's answer (u64), or -1. */
static int64_t cl_get(int fd, uint32_t req)
{
	if (cl_send(fd, req, VU_VERSION, NULL, 0, NULL, 0))
		return -1;
	return cl_reply(fd);
}

/*
 * Queue pairs (issue 15, multiqueue): one pair offers neither MQ nor
 * queues past the first; two pairs offer the MQ protocol feature, MQ
 * and a control queue, answer GET_QUEUE_NUM with 2, refuse queues 2-3
 * until the front-end agrees to MQ and every index past them after;
 * a queue of the second pair then runs. Bad pair counts are refused.
 */
static int queue_pairs(struct fx *fx)
{
	const uint64_t f = (1ULL << VU_F_PROTOCOL_FEATURES) |
			   (1ULL << VIRTIO_F_VERSION_1);
	const uint64_t mq = VU_FEATURES_MQ;
	static struct vu_echo echoes[2];
	struct vu_app apps[VU_MAX_QP + 1];
	struct vhost_vring_addr a = { .index = 3 };
	struct vu_stats st;
	int fd, ev, fds0;

	(void)fx;
	for (int i = 0; i < 2; i++)
		vu_echo_init(&echoes[i], &apps[i]);
	for (int i = 2; i <= VU_MAX_QP; i++)
		apps[i] = apps[0];
	snprintf(sock, sizeof(sock), "/tmp/ioasid-vuh-%d.sock", (int)getpid());
	CHECK_ERR(vu_backend_start_mq(sock, apps, 0, 0, &be), -EINVAL);
	CHECK_ERR(vu_backend_start_mq(sock, apps, VU_MAX_QP + 1, 0, &be),
		  -EINVAL);
	CHECK_ERR(access(sock, F_OK), -1);	/* refused before the socket */

	/* One pair: nothing of MQ. */
	CHECK_OK(be_start());
	fd = cl_hello(f);
	CHECK(fd >= 0);
	CHECK_EQ(cl_get(fd, VU_GET_FEATURES) & (int64_t)mq, 0);
	CHECK_EQ(cl_get(fd, VU_GET_PROTOCOL_FEATURES) & (1 << VU_PF_MQ), 0);
	CHECK_EQ(cl_get(fd, VU_GET_QUEUE_NUM), 1);
	CHECK_EQ(cl_u64(fd, VU_SET_PROTOCOL_FEATURES,
			(1ULL << VU_PF_REPLY_ACK) | (1ULL << VU_PF_MQ)), 1);
	CHECK_EQ(cl_state(fd, VU_SET_VRING_NUM, 2, 256), 1);
	CHECK(backend_idle(fd));
	vu_backend_stop(be);

	/* Two pairs. */
	CHECK_OK(vu_backend_start_mq(sock, apps, 2, VU_OFFER_IOMMU, &be));
	fds0 = count_fds();
	fd = cl_hello(f);
	CHECK(fd >= 0);
	CHECK_EQ(cl_get(fd, VU_GET_FEATURES) & (int64_t)mq, (int64_t)mq);
	CHECK(cl_get(fd, VU_GET_PROTOCOL_FEATURES) & (1 << VU_PF_MQ));
	CHECK_EQ(cl_get(fd, VU_GET_QUEUE_NUM), 2);
	/* MQ not agreed to yet: the first pair only. */
	CHECK_EQ(cl_state(fd, VU_SET_VRING_NUM, 1, 256), 0);
	CHECK_EQ(cl_state(fd, VU_SET_VRING_NUM, 2, 256), 1);
	CHECK_EQ(cl_u64(fd, VU_SET_PROTOCOL_FEATURES,
			(1ULL << VU_PF_REPLY_ACK) | (1ULL << VU_PF_MQ)), 0);
	CHECK_EQ(cl_state(fd, VU_SET_VRING_NUM, 2, 256), 0);
	CHECK_EQ(cl_state(fd, VU_SET_VRING_NUM, 3, 256), 0);
	CHECK_EQ(cl_state(fd, VU_SET_VRING_NUM, 4, 256), 1);
	CHECK_EQ(cl_state(fd, VU_SET_VRING_NUM, 2 * VU_MAX_QP, 256), 1);
	CHECK_EQ(cl_state(fd, VU_SET_VRING_NUM, UINT32_MAX, 256), 1);
	CHECK_EQ(cl_state(fd, VU_SET_VRING_ENABLE, 4, 1), 1);
	ev = eventfd(0, EFD_CLOEXEC);
	CHECK(ev >= 0);
	CHECK_EQ(cl_ack(fd, VU_SET_VRING_KICK, &(uint64_t){ 4 }, 8, &ev, 1), 1);
	/* The second pair's transmit queue runs once enabled. */
	CHECK_EQ(mem_table(fd, (struct vu_region_desc[]){ GOOD(0) }, 1, 1), 0);
	a.desc_user_addr = H_UADDR;
	a.avail_user_addr = H_UADDR + 256 * 16;
	a.used_user_addr = H_UADDR + 8192;
	CHECK_EQ(cl_ack(fd, VU_SET_VRING_ADDR, &a, sizeof(a), NULL, 0), 0);
	CHECK_EQ(cl_state(fd, VU_SET_VRING_BASE, 3, 0), 0);
	CHECK_EQ(cl_ack(fd, VU_SET_VRING_KICK, &(uint64_t){ 3 }, 8, &ev, 1), 0);
	usleep(20000);
	vu_backend_stats(be, &st);
	CHECK_EQ(st.running, 0);		/* started, not enabled */
	CHECK_EQ(st.pairs, 2);
	CHECK_EQ(cl_state(fd, VU_SET_VRING_ENABLE, 3, 1), 0);
	for (int i = 0; i < 200 && (vu_backend_stats(be, &st), !st.running); i++)
		usleep(10000);
	CHECK_EQ(st.running, 1);
	CHECK_EQ(st.broken, 0);
	/* The answer: index 3, base 0 (nothing moved). */
	CHECK_EQ(cl_state(fd, VU_GET_VRING_BASE, 3, 0), 3);
	CHECK(backend_idle(fd));
	close(ev);
	return stop_clean(fds0);
}

/* IOTLB messages with the IOMMU on: ranges, permissions, types. */
static int iotlb_rules(struct fx *fx)
{
	const uint64_t f = (1ULL << VU_F_PROTOCOL_FEATURES) |
			   (1ULL << VIRTIO_F_VERSION_1) |
			   (1ULL << VIRTIO_F_ACCESS_PLATFORM);
	static const struct {
		const char *what;
		struct vhost_iotlb_msg t;
	} bad[] = {
		{ "size 0", { 0, 0, H_UADDR, VHOST_ACCESS_RW, VHOST_IOTLB_UPDATE } },
		{ "outside the region", { 0, 4096, H_UADDR + H_MEM, VHOST_ACCESS_RW,
					  VHOST_IOTLB_UPDATE } },
		{ "across the region's end", { 0, 8192, H_UADDR + H_MEM - 4096,
					       VHOST_ACCESS_RW, VHOST_IOTLB_UPDATE } },
		{ "front-end address wraps", { 0, 8192, UINT64_MAX - 4095,
					       VHOST_ACCESS_RW, VHOST_IOTLB_UPDATE } },
		{ "iova + size wraps", { UINT64_MAX - 4095, 8192, H_UADDR,
					 VHOST_ACCESS_RW, VHOST_IOTLB_UPDATE } },
		{ "iova range ends at 2^64 - 1", { UINT64_MAX - 4095, 4096, H_UADDR,
						  VHOST_ACCESS_RW, VHOST_IOTLB_UPDATE } },
		{ "no permission", { 0, 4096, H_UADDR, 0, VHOST_IOTLB_UPDATE } },
		{ "unknown permission bits", { 0, 4096, H_UADDR, 0x13,
					       VHOST_IOTLB_UPDATE } },
		{ "a miss from the front-end", { 0, 4096, H_UADDR, VHOST_ACCESS_RW,
						 VHOST_IOTLB_MISS } },
		{ "unknown type", { 0, 4096, H_UADDR, VHOST_ACCESS_RW, 77 } },
		{ "invalidation of size 0", { 0, 0, 0, 0, VHOST_IOTLB_INVALIDATE } },
	};
	struct vhost_iotlb_msg good = { 0x10000, 4096, H_UADDR, VHOST_ACCESS_RW,
					VHOST_IOTLB_UPDATE };
	struct vu_stats st0, st;
	int fd;

	(void)fx;
	CHECK_OK(be_start());
	vu_backend_stats(be, &st0);
	fd = cl_hello(f);
	CHECK(fd >= 0);
	CHECK_EQ(mem_table(fd, (struct vu_region_desc[]){ GOOD(0) }, 1, 1), 0);
	for (uint32_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		int64_t rc = cl_ack(fd, VU_IOTLB_MSG, &bad[i].t, sizeof(bad[i].t),
				    NULL, 0);

		if (rc != 1) {
			diag("%s: reply %lld, want 1 (refused)", bad[i].what,
			     (long long)rc);
			return 1;
		}
	}
	CHECK_EQ(cl_ack(fd, VU_IOTLB_MSG, &good, sizeof(good), NULL, 0), 0);
	good.type = VHOST_IOTLB_INVALIDATE;
	CHECK_EQ(cl_ack(fd, VU_IOTLB_MSG, &good, sizeof(good), NULL, 0), 0);
	vu_backend_stats(be, &st);
	CHECK_EQ(st.iotlb_updates - st0.iotlb_updates, 1);
	CHECK(backend_idle(fd));
	vu_backend_stop(be);
	return 0;
}

/*
 * A front-end that shrinks a region's file after the backend mapped it:
 * the worker's next look at the ring would take SIGBUS and kill the
 * process (every connection with it). The guard puts zeros there and the
 * queues of that connection stop with the reason; the backend serves the
 * next connection.
 */
static int shrunk_region(struct fx *fx)
{
	const uint64_t f = (1ULL << VU_F_PROTOCOL_FEATURES) |
			   (1ULL << VIRTIO_F_VERSION_1);
	struct vhost_vring_addr a = {
		.index = 1,
		.desc_user_addr = H_UADDR,
		.avail_user_addr = H_UADDR + 4096,
		.used_user_addr = H_UADDR + 8192,
	};
	struct region_msg m = { .n = 1, .r = { GOOD(0) } };
	struct vu_stats st;
	int fd, mfd, ev, i;

	(void)fx;
	CHECK_OK(be_start());
	fd = cl_hello(f);
	CHECK(fd >= 0);
	mfd = memfd(H_MEM);
	CHECK(mfd >= 0);
	CHECK_EQ(cl_ack(fd, VU_SET_MEM_TABLE, &m, 8 + sizeof(m.r[0]), &mfd, 1),
		 0);
	ev = eventfd(0, EFD_CLOEXEC);
	CHECK(ev >= 0);
	CHECK_EQ(cl_state(fd, VU_SET_VRING_NUM, 1, 256), 0);
	CHECK_EQ(cl_ack(fd, VU_SET_VRING_ADDR, &a, sizeof(a), NULL, 0), 0);
	CHECK_EQ(cl_state(fd, VU_SET_VRING_BASE, 1, 0), 0);
	CHECK_EQ(cl_state(fd, VU_SET_VRING_ENABLE, 1, 1), 0);
	CHECK_EQ(cl_ack(fd, VU_SET_VRING_KICK, &(uint64_t){ 1 }, 8, &ev, 1), 0);
	for (i = 0; i < 500 && (vu_backend_stats(be, &st), !st.running); i++)
		usleep(10000);
	CHECK_EQ(st.running, 1);
	CHECK_OK(ftruncate(mfd, 0));
	for (i = 0; i < 500 && (vu_backend_stats(be, &st), !st.broken); i++)
		usleep(10000);
	CHECK_EQ(st.running, 0);
	CHECK(st.broken >= 1);
	/* A new kick on the lost memory is refused; the queue stays down. */
	CHECK(cl_ack(fd, VU_SET_VRING_KICK, &(uint64_t){ 1 }, 8, &ev, 1) != 0);
	usleep(100000);
	vu_backend_stats(be, &st);
	CHECK_EQ(st.running, 0);
	close(mfd);
	close(ev);
	CHECK(backend_idle(fd));
	vu_backend_stop(be);
	return 0;
}

/*
 * The SIGBUS guard handles only the kernel's report of a lost page. A
 * SIGBUS that a process sent (kill, or sigqueue with an si_addr of the
 * sender's choosing inside a guarded mapping) goes to the handler that
 * was there before the guard: it must neither replace guarded memory
 * with zeros nor be swallowed.
 * Each case runs in a child of its own, which the signal kills.
 */
static void before_guard(int sig)
{
	(void)sig;
	_exit(42);
}

static int sent_sigbus_child(bool queued)
{
	uint8_t *map = mmap(NULL, 4096, PROT_READ | PROT_WRITE,
			    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	/*
	 * A handler of the program's own, installed before the guard (the
	 * default action is what a sanitizer build replaces with its own).
	 */
	if (map == MAP_FAILED || signal(SIGBUS, before_guard) == SIG_ERR)
		_exit(10);
	memset(map, 0xa5, 4096);
	if (memguard_add(map, 4096, 4096) < 0)
		_exit(11);
	if (queued) {
		siginfo_t si;

		memset(&si, 0, sizeof(si));
		si.si_signo = SIGBUS;
		si.si_code = SI_QUEUE;
		si.si_addr = map;	/* the sender chose it */
		if (syscall(SYS_rt_sigqueueinfo, getpid(), SIGBUS, &si))
			_exit(12);
	} else {
		kill(getpid(), SIGBUS);
	}
	/* Still here: the signal was swallowed (and map zeroed?). */
	_exit(map[0] == 0xa5 ? 2 : 3);
}

static int sent_sigbus(struct fx *fx)
{
	for (int queued = 0; queued < 2; queued++) {
		pid_t pid = fork();
		int status;

		(void)fx;
		CHECK(pid >= 0);
		if (!pid)
			sent_sigbus_child(queued);
		CHECK_EQ(waitpid(pid, &status, 0), pid);
		if (!WIFEXITED(status) || WEXITSTATUS(status) != 42)
			diag("%s: the child %s %d (42: the earlier handler ran; 2: the signal was swallowed, 3: and the guarded page zeroed)",
			     queued ? "sigqueue" : "kill",
			     WIFEXITED(status) ? "exited" : "died of signal",
			     WIFEXITED(status) ? WEXITSTATUS(status) :
						 WTERMSIG(status));
		CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 42);
	}
	return 0;
}

/*
 * The socket path: a second backend on a live one is refused and the
 * first still answers; a file that is not a socket is left alone; a
 * stale socket is replaced; stop leaves a socket someone else has put
 * at the path since. (Before: the path was unlinked unconditionally.)
 */
static int socket_path(struct fx *fx)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct vu_backend *first, *second;
	struct vu_app app;
	struct stat st;
	int fd, other;

	(void)fx;
	CHECK_OK(be_start());
	first = be;
	vu_echo_init(&echo, &app);
	CHECK_ERR(vu_backend_start(sock, &app, VU_OFFER_IOMMU, &second),
		  -EADDRINUSE);
	fd = cl_open();
	CHECK(fd >= 0);
	CHECK_OK(cl_send(fd, VU_GET_FEATURES, 1, NULL, 0, NULL, 0));
	{
		struct pollfd p = { .fd = fd, .events = POLLIN };

		CHECK_EQ(poll(&p, 1, 2000), 1);	/* the first one answers */
	}
	close(fd);

	/* Replaced under it: stop leaves the new socket in place. */
	CHECK_OK(unlink(sock));
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", sock);
	other = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	CHECK(other >= 0);
	CHECK_OK(bind(other, (struct sockaddr *)&sa, sizeof(sa)));
	vu_backend_stop(first);
	CHECK_OK(lstat(sock, &st));
	CHECK(S_ISSOCK(st.st_mode));

	/* That socket is stale now (nobody listens): replaced. */
	close(other);
	CHECK_OK(vu_backend_start(sock, &app, VU_OFFER_IOMMU, &be));
	fd = cl_open();
	CHECK(fd >= 0);
	close(fd);
	vu_backend_stop(be);
	CHECK_ERR(lstat(sock, &st), -1);	/* its own: removed */

	/* A regular file is neither deleted nor bound over. */
	fd = open(sock, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	CHECK(fd >= 0);
	CHECK_EQ(write(fd, "x", 1), 1);
	close(fd);
	CHECK_ERR(vu_backend_start(sock, &app, VU_OFFER_IOMMU, &be), -EEXIST);
	CHECK_OK(lstat(sock, &st));
	CHECK(S_ISREG(st.st_mode) && st.st_size == 1);
	unlink(sock);
	return 0;
}

/*
 * A client-mode backend started at @path does not reach the listener @l
 * (the path must not lead to it): it counts a failure and serves nobody.
 */
static int client_kept_out(const char *path, struct vu_app *app, int l)
{
	struct vu_backend *cb;
	struct vu_stats st;

	CHECK_OK(vu_backend_start_mq(path, app, 1, VU_CLIENT, &cb));
	CHECK_EQ(fx_accept_within(l, 500), -1);
	vu_backend_stats(cb, &st);
	CHECK(st.connections == 0 && st.connect_failures >= 1);
	vu_backend_stop(cb);
	return 0;
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/*
 * Client mode (VU_CLIENT): the front-end listens and the backend
 * connects. With nobody listening it retries at its pace (a few tries in
 * half a second, not a spin) and creates nothing at the path; once a
 * listener is there it connects and serves; a front-end that hangs up
 * is connected to again; a listener whose queue is full cannot hold the
 * backend's stop; stop removes nothing at the path and leaks no
 * descriptor. An empty path is refused.
 */
static int client_mode(struct fx *fx)
{
	struct vu_backend *cb;
	struct vu_app app;
	struct vu_stats st;
	struct stat sb;
	char path[64], full[64];
	int fds0, l, c, fill[64], nfill = 0;
	double t0;

	(void)fx;
	vu_echo_init(&echo, &app);
	CHECK_ERR(vu_backend_start_mq("", &app, 1, VU_CLIENT, &cb), -EINVAL);
	snprintf(path, sizeof(path), "/tmp/ioasid-vuc-%d.sock", (int)getpid());
	unlink(path);
	fds0 = count_fds();
	CHECK_OK(vu_backend_start_mq(path, &app, 1, VU_CLIENT | VU_OFFER_IOMMU,
				     &cb));
	usleep(500000);
	vu_backend_stats(cb, &st);
	diag("nobody listening: %llu connect tries failed in 0.5 s",
	     (unsigned long long)st.connect_failures);
	CHECK(st.connect_failures >= 2 && st.connect_failures <= 20);
	CHECK(st.connections == 0);
	CHECK_ERR(lstat(path, &sb), -1);	/* nothing made at the path */

	/* A listener appears: the backend connects and is served. */
	l = fx_listen(path, 4);
	CHECK(l >= 0);
	c = fx_accept_within(l, 3000);
	CHECK(c >= 0);
	CHECK_OK(cl_send(c, VU_GET_FEATURES, VU_VERSION, NULL, 0, NULL, 0));
	CHECK(cl_reply(c) > 0);

	/* The front-end hangs up: the backend connects again. */
	close(c);
	c = fx_accept_within(l, 3000);
	CHECK(c >= 0);
	CHECK_OK(cl_send(c, VU_GET_FEATURES, VU_VERSION, NULL, 0, NULL, 0));
	CHECK(cl_reply(c) > 0);
	vu_backend_stats(cb, &st);
	CHECK_EQ(st.connections, 2);

	/* One that accepts and hangs up at once is not reconnected in a spin. */
	t0 = now_s();
	close(c);
	while (now_s() - t0 < 0.5) {
		c = fx_accept_within(l, 100);
		if (c >= 0)
			close(c);
	}
	vu_backend_stats(cb, &st);
	diag("hung up at once for 0.5 s: %llu connections",
	     (unsigned long long)st.connections);
	CHECK(st.connections <= 2 + 10);
	vu_backend_stop(cb);
	CHECK_OK(lstat(path, &sb));		/* the front-end's: left */
	CHECK(S_ISSOCK(sb.st_mode));
	close(l);
	unlink(path);

	/* A listener that never accepts, its queue full: stop still returns. */
	snprintf(full, sizeof(full), "/tmp/ioasid-vuf-%d.sock", (int)getpid());
	unlink(full);
	l = fx_listen(full, 0);
	CHECK(l >= 0);
	for (nfill = 0; nfill < 64; nfill++) {
		struct sockaddr_un sa = { .sun_family = AF_UNIX };

		snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", full);
		fill[nfill] = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC |
				     SOCK_NONBLOCK, 0);
		CHECK(fill[nfill] >= 0);
		if (connect(fill[nfill], (struct sockaddr *)&sa, sizeof(sa))) {
			CHECK(errno == EAGAIN);
			close(fill[nfill]);
			break;
		}
	}
	CHECK(nfill < 64);
	CHECK_OK(vu_backend_start_mq(full, &app, 1, VU_CLIENT, &cb));
	usleep(300000);
	vu_backend_stats(cb, &st);
	CHECK(st.connect_failures >= 1 && st.connections == 0);
	t0 = now_s();
	vu_backend_stop(cb);
	diag("stop against a full listener took %.3f s", now_s() - t0);
	CHECK(now_s() - t0 < 5.0);
	while (nfill)
		close(fill[--nfill]);
	close(l);
	CHECK_OK(lstat(full, &sb));
	unlink(full);

	/*
	 * A symbolic link at the path, to a live listener: not followed
	 * (someone who may write the directory could point it anywhere).
	 */
	l = fx_listen(full, 4);
	CHECK(l >= 0);
	CHECK_OK(symlink(full, path));
	CHECK_OK(client_kept_out(path, &app, l));
	CHECK_OK(lstat(path, &sb));		/* the link: left alone */
	CHECK(S_ISLNK(sb.st_mode));
	unlink(path);
	close(l);
	unlink(full);

	/*
	 * A link in a directory of the path (say /tmp/vmA made a link to
	 * another VM's socket directory): not followed either.
	 */
	{
		char dir[40], real[80], via[80];

		snprintf(dir, sizeof(dir), "/tmp/ioasid-vud-%d", (int)getpid());
		snprintf(real, sizeof(real), "%s/s.sock", dir);
		snprintf(via, sizeof(via), "%s.link/s.sock", dir);
		CHECK_OK(mkdir(dir, 0700));
		l = fx_listen(real, 4);
		CHECK(l >= 0);
		snprintf(full, sizeof(full), "%s.link", dir);
		CHECK_OK(symlink(dir, full));
		CHECK_OK(client_kept_out(via, &app, l));
		close(l);
		unlink(full);
		unlink(real);
		rmdir(dir);
	}

	/*
	 * A listener of another user: refused (its socket file is that
	 * user's; and were it ours, SO_PEERCRED would still say so).
	 */
	if (geteuid() == 0) {
		int sv[2];
		pid_t pid;
		char got = 0;

		CHECK_OK(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv));
		pid = fork();
		CHECK(pid >= 0);
		if (!pid) {
			int ll, cc;
			char r = 'n';

			close(sv[0]);
			signal(SIGPIPE, SIG_IGN);
			if (setgid(65534) || setuid(65534))
				_exit(2);
			ll = fx_listen(path, 4);
			(void)!write(sv[1], "l", 1);
			cc = ll >= 0 ? fx_accept_within(ll, 3000) : -1;
			/* Served: GET_FEATURES answered. Refused: closed. */
			if (cc >= 0)
				r = !cl_send(cc, VU_GET_FEATURES, VU_VERSION, NULL,
					     0, NULL, 0) && cl_reply(cc) > 0 ?
				    's' : 'r';
			(void)!write(sv[1], &r, 1);
			_exit(0);
		}
		close(sv[1]);
		CHECK_EQ(read(sv[0], &got, 1), 1);	/* it listens */
		CHECK_OK(vu_backend_start_mq(path, &app, 1, VU_CLIENT, &cb));
		CHECK_EQ(read(sv[0], &got, 1), 1);
		diag("a listener of uid 65534: %s", got == 's' ? "served" :
		     got == 'r' ? "connected, then dropped" :
		     "never connected (its socket file is not ours)");
		CHECK(got == 'r' || got == 'n');
		vu_backend_stats(cb, &st);
		CHECK(st.connections == 0 && st.connect_failures >= 1);
		vu_backend_stop(cb);
		waitpid(pid, NULL, 0);
		close(sv[0]);
		unlink(path);
	} else {
		diag("not root: the other user's listener is not tried");
	}
	CHECK_EQ(fds_settled(fds0), fds0);
	return 0;
}

static const struct test tests[] = {
	{ "socket_path", socket_path, NULL },
	{ "mem_table_rules", mem_table_rules, NULL },
	{ "region_file_system", region_file_system, NULL },
	{ "accept_exhausted", accept_exhausted, NULL },
	{ "framing", framing, NULL },
	{ "ring_rules", ring_rules, NULL },
	{ "queue_pairs", queue_pairs, NULL },
	{ "iotlb_rules", iotlb_rules, NULL },
	{ "shrunk_region", shrunk_region, NULL },
	{ "sent_sigbus", sent_sigbus, NULL },
	{ "client_mode", client_mode, NULL },
};

int main(int argc, char **argv)
{
	return run_tests("vu_hostile", tests, sizeof(tests) / sizeof(tests[0]),
			 argc, argv);
}
