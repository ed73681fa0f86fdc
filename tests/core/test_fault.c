// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/*
 * fault: I/O page fault queues. A device access that misses on an ioasid
 * with a queue waits for the queue's answer while another thread reads
 * the record, fixes the ioasid (map, or table write and invalidation) and
 * answers; every way it can end, and every bad input with its errno.
 * The waiting access runs in a thread; the test's main thread plays the
 * fault handler (a VMM's vIOMMU).
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <time.h>

#include "harness.h"

#define REC	sizeof(struct ioasid_fault)
#define RESP	sizeof(struct ioasid_fault_response)

struct acc {
	struct ioasid_handle *h;
	uint32_t dev;
	uint32_t flags;
	uint64_t iova;
	void *buf;
	uint64_t len;
	long rc;
	uint64_t ms;			/* how long the access took */
	volatile bool finished;
	pthread_t t;
};

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static void *acc_fn(void *p)
{
	struct acc *a = p;
	uint64_t t0 = now_ms();

	a->rc = ioasid_swdev_access(a->h, a->dev, a->flags, a->iova, a->buf,
				    a->len);
	a->ms = now_ms() - t0;
	__atomic_store_n(&a->finished, true, __ATOMIC_RELEASE);
	return NULL;
}

static int acc_start(struct acc *a, struct fx *f, uint32_t dev,
		     uint32_t flags, uint64_t iova, void *buf, uint64_t len)
{
	memset(a, 0, sizeof(*a));
	a->h = f->h;
	a->dev = dev;
	a->flags = flags;
	a->iova = iova;
	a->buf = buf;
	a->len = len;
	return pthread_create(&a->t, NULL, acc_fn, a) ? -1 : 0;
}

static bool acc_done(struct acc *a)
{
	return __atomic_load_n(&a->finished, __ATOMIC_ACQUIRE);
}

static long acc_join(struct acc *a)
{
	pthread_join(a->t, NULL);
	return a->rc;
}

/* POLLIN on the queue within @ms: 1, 0 on timeout. */
static int wait_readable(int fd, int ms)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };

	return poll(&p, 1, ms) == 1 && (p.revents & POLLIN);
}

/* Wait for one record and read it. */
static int get_rec(struct fx *f, int fd, struct ioasid_fault *r)
{
	CHECK(wait_readable(fd, 5000));
	CHECK_ERR(ioasid_faultq_read(f->h, fd, r, REC), (long)REC);
	return 0;
}

static int respond(struct fx *f, int fd, uint32_t cookie, uint32_t code)
{
	struct ioasid_fault_response r = { .cookie = cookie, .code = code };
	long rc = ioasid_faultq_respond(f->h, fd, &r, sizeof(r));

	return rc == (long)sizeof(r) ? 0 : (int)rc;
}

static uint64_t dev_faults(struct fx *f, uint32_t dev)
{
	struct ioasid_swdev_stats st;

	if (ioasid_swdev_stats(f->h, dev, &st))
		return UINT64_MAX;
	return st.out_faults;
}

/* The fixture's device on its ioasid with a queue: page 0 mapped. */
static int setup(struct fx *f, uint32_t timeout_ms, uint32_t depth, int *fd)
{
	CHECK_OK(ioasid_attach(f->h, f->dev, f->as));
	CHECK_OK(ioasid_map(f->h, f->as, 0, f->buf, SZ_4K, RW));
	CHECK_OK(ioasid_faultq_alloc(f->h, timeout_ms, depth, fd));
	CHECK(*fd >= 0);
	CHECK_OK(ioasid_faultq_attach(f->h, f->as, *fd));
	return 0;
}

/* An 8-byte read of the unmapped SZ_1M by the fixture's device, waiting. */
struct miss {
	struct ioasid_fault r;
	struct acc a;
	uint8_t in[8];
	int fd;
};

/* Start the read on its thread. */
static int miss_start(struct fx *f, struct miss *m)
{
	return acc_start(&m->a, f, f->dev, IOASID_ACCESS_READ, SZ_1M, m->in,
			 sizeof(m->in));
}

/* setup() with @timeout_ms, then a miss whose record is read into m->r. */
static int miss_setup(struct fx *f, uint32_t timeout_ms, struct miss *m)
{
	CHECK_OK(setup(f, timeout_ms, 0, &m->fd));
	CHECK_OK(miss_start(f, m));
	CHECK_OK(get_rec(f, m->fd, &m->r));
	return 0;
}

/*
 * The whole flow: miss, record, the handler maps the page (the engine's
 * lock is free while the access waits, or the map would hang), answers
 * SUCCESS, the access completes with the new page's bytes.
 */
static int fault_map_respond(struct fx *f)
{
	struct ioasid_fault r, r2;
	struct acc a;
	uint8_t in[16];
	int fd;

	CHECK_OK(setup(f, 5000, 0, &fd));
	CHECK(!wait_readable(fd, 0));
	memset(f->buf + SZ_1M + 0x10, 0x5a, sizeof(in));
	memset(in, 0, sizeof(in));
	CHECK_OK(acc_start(&a, f, f->dev, IOASID_ACCESS_READ, SZ_1M + 0x10,
			   in, sizeof(in)));
	CHECK_OK(get_rec(f, fd, &r));
	CHECK_EQ(r.flags, IOASID_FAULT_LAST_PAGE);
	CHECK_EQ(r.dev_id, f->dev);
	CHECK_EQ(r.ioasid, f->as);
	CHECK_EQ(r.perm, IOASID_FAULT_PERM_READ);
	CHECK_EQ(r.__reserved, 0);
	CHECK_EQ(r.addr, SZ_1M);
	CHECK_EQ(r.length, 0x10 + sizeof(in));
	CHECK(r.cookie != 0);
	/* A record is read once; the access still waits. */
	CHECK(!wait_readable(fd, 0));
	CHECK_ERR(ioasid_faultq_read(f->h, fd, &r2, REC), -EAGAIN);
	CHECK(!acc_done(&a));
	CHECK_OK(ioasid_map(f->h, f->as, SZ_1M, f->buf + SZ_1M, SZ_4K, RW));
	CHECK(!acc_done(&a));
	CHECK_OK(respond(f, fd, r.cookie, IOASID_FAULT_RESP_SUCCESS));
	CHECK_OK(acc_join(&a));
	CHECK(!memcmp(in, f->buf + SZ_1M + 0x10, sizeof(in)));
	CHECK_EQ(dev_faults(f, f->dev), 1);
	/* The record is answered: its cookie is gone. */
	CHECK_ERR(respond(f, fd, r.cookie, IOASID_FAULT_RESP_SUCCESS),
		  -EINVAL);
	/* A write without permission faults too; perm says WRITE. */
	CHECK_OK(ioasid_map(f->h, f->as, SZ_2M, f->buf + SZ_2M, SZ_4K,
			    IOASID_DMA_READ));
	CHECK_OK(acc_start(&a, f, f->dev, IOASID_ACCESS_WRITE, SZ_2M, in, 8));
	CHECK_OK(get_rec(f, fd, &r));
	CHECK_EQ(r.perm, IOASID_FAULT_PERM_WRITE);
	CHECK_EQ(r.addr, SZ_2M);
	CHECK_OK(ioasid_unmap(f->h, f->as, SZ_2M, SZ_4K, NULL));
	CHECK_OK(ioasid_map(f->h, f->as, SZ_2M, f->buf + SZ_2M, SZ_4K, RW));
	CHECK_OK(respond(f, fd, r.cookie, IOASID_FAULT_RESP_SUCCESS));
	CHECK_OK(acc_join(&a));
	CHECK(!memcmp(f->buf + SZ_2M, in, 8));
	CHECK_OK(ioasid_faultq_close(f->h, fd));
	return 0;
}

/* A nested ioasid: the handler writes the guest's PTE and invalidates. */
#define PBASE		0x10000000ULL
#define TABLES		(48 * SZ_1M)
#define PTE_P		(1ULL << 0)
#define PTE_RW		(1ULL << 1)
#define PTE_US		(1ULL << 2)
#define T		(PTE_P | PTE_RW | PTE_US)

static uint64_t *table_at(struct fx *f, uint64_t piova)
{
	return (uint64_t *)(f->buf + (piova - PBASE));
}

static int fault_nested_invalidate(struct fx *f)
{
	uint32_t parent, child, cdev;
	uint64_t root = PBASE + TABLES, next = root + SZ_4K, table, v;
	uint64_t iova = 0x40201000ULL, data_off = 5 * SZ_1M;
	struct ioasid_inv_entry e = { .addr = iova, .npages = 1 };
	struct ioasid_fault r;
	struct acc a;
	unsigned int l;
	int fd;

	CHECK_OK(ioasid_alloc_nest_parent(f->h, &parent));
	CHECK_OK(ioasid_attach(f->h, f->dev, parent));
	CHECK_OK(ioasid_map(f->h, parent, PBASE, f->buf, 64 * SZ_1M, RW));
	CHECK_OK(ioasid_alloc_nested(f->h, parent, &child));
	CHECK_OK(new_swdev(f, SZ_4K | SZ_2M | SZ_1G, 0, APERTURE_LAST, 0, 0, 1,
			   &cdev));
	CHECK_OK(ioasid_attach(f->h, cdev, child));
	memset(table_at(f, root), 0, SZ_4K);
	CHECK_OK(ioasid_pgtbl_bind(f->h, child, IOASID_PGTBL_X86_64, 48, root,
				   0));
	CHECK_OK(ioasid_invalidate_all(f->h, child));
	CHECK_OK(ioasid_faultq_alloc(f->h, 5000, 0, &fd));
	CHECK_OK(ioasid_faultq_attach(f->h, child, fd));

	v = 0x1122334455667788ULL;
	CHECK_OK(acc_start(&a, f, cdev, IOASID_ACCESS_WRITE, iova + 8, &v,
			   sizeof(v)));
	CHECK_OK(get_rec(f, fd, &r));
	CHECK_EQ(r.ioasid, child);
	CHECK_EQ(r.dev_id, cdev);
	CHECK_EQ(r.addr, iova);
	CHECK_EQ(r.perm, IOASID_FAULT_PERM_WRITE);
	/* The guest's handler: a 4 KiB leaf, then the invalidation. */
	table = root;
	for (l = 4; l > 1; l--) {
		uint64_t *pe = &table_at(f, table)[(iova >> (12 + 9 * (l - 1))) &
						   511];

		memset(table_at(f, next), 0, SZ_4K);
		*pe = next | T;
		table = next;
		next += SZ_4K;
	}
	table_at(f, table)[(iova >> 12) & 511] = (PBASE + data_off) | T;
	CHECK_OK(ioasid_invalidate(f->h, child, &e, 1, NULL));
	CHECK_OK(respond(f, fd, r.cookie, IOASID_FAULT_RESP_SUCCESS));
	CHECK_OK(acc_join(&a));
	CHECK(!memcmp(f->buf + data_off + 8, &v, sizeof(v)));
	CHECK_EQ(dev_faults(f, cdev), 1);
	CHECK_OK(ioasid_faultq_close(f->h, fd));
	return 0;
}

/* INVALID: the access fails with EFAULT and moves no byte. */
static int respond_invalid(struct fx *f)
{
	struct ioasid_fault r;
	struct acc a;
	uint8_t out[8] = { 1, 2, 3, 4, 5, 6, 7, 8 };
	int fd;

	CHECK_OK(setup(f, 5000, 0, &fd));
	CHECK_OK(acc_start(&a, f, f->dev, IOASID_ACCESS_WRITE, SZ_4K - 4, out,
			   sizeof(out)));
	CHECK_OK(get_rec(f, fd, &r));
	CHECK_EQ(r.addr, SZ_4K);
	CHECK_EQ(r.length, 4);
	memset(f->buf, 0, SZ_4K);
	CHECK_OK(respond(f, fd, r.cookie, IOASID_FAULT_RESP_INVALID));
	CHECK_ERR(acc_join(&a), -EFAULT);
	CHECK_EQ(f->buf[SZ_4K - 4], 0);
	CHECK_EQ(dev_faults(f, f->dev), 1);
	CHECK_OK(ioasid_faultq_close(f->h, fd));
	return 0;
}

/* SUCCESS without a fix: the one retry faults again, EFAULT, no record. */
static int retry_once(struct fx *f)
{
	struct miss m;

	CHECK_OK(miss_setup(f, 5000, &m));
	CHECK_OK(respond(f, m.fd, m.r.cookie, IOASID_FAULT_RESP_SUCCESS));
	CHECK_ERR(acc_join(&m.a), -EFAULT);
	CHECK_EQ(dev_faults(f, f->dev), 2);
	CHECK(!wait_readable(m.fd, 0));
	CHECK_OK(ioasid_faultq_close(f->h, m.fd));
	return 0;
}

/*
 * No answer: ETIMEDOUT after the queue's timeout, the record withdrawn
 * whether it was read or not; a late answer is EINVAL.
 */
static int no_response_timeout(struct fx *f)
{
	struct miss m;

	CHECK_OK(setup(f, 200, 0, &m.fd));
	/* Not read. */
	CHECK_OK(miss_start(f, &m));
	CHECK_ERR(acc_join(&m.a), -ETIMEDOUT);
	CHECK(m.a.ms >= 150 && m.a.ms < 5000);
	CHECK(!wait_readable(m.fd, 0));
	CHECK_ERR(ioasid_faultq_read(f->h, m.fd, &m.r, REC), -EAGAIN);
	/* Read, never answered. */
	CHECK_OK(miss_start(f, &m));
	CHECK_OK(get_rec(f, m.fd, &m.r));
	CHECK_ERR(acc_join(&m.a), -ETIMEDOUT);
	CHECK_ERR(respond(f, m.fd, m.r.cookie, IOASID_FAULT_RESP_SUCCESS),
		  -EINVAL);
	CHECK_EQ(dev_faults(f, f->dev), 2);
	/* The device and the queue work on. */
	CHECK_OK(ioasid_swdev_access(f->h, f->dev, IOASID_ACCESS_READ, 0, m.in,
				     sizeof(m.in)));
	CHECK_OK(ioasid_faultq_close(f->h, m.fd));
	return 0;
}

/* A full queue fails the next fault at once; the rest are unharmed. */
static int queue_full(struct fx *f)
{
	struct ioasid_fault r[2];
	struct ioasid_fault_response resp[2];
	struct acc a[2];
	uint8_t in[2][8], b[8];
	uint64_t t0;
	int fd, i;

	CHECK_OK(setup(f, 5000, 2, &fd));
	for (i = 0; i < 2; i++) {
		CHECK_OK(acc_start(&a[i], f, f->dev, IOASID_ACCESS_READ,
				   SZ_1M * (i + 1), in[i], 8));
		CHECK_OK(get_rec(f, fd, &r[i]));
	}
	CHECK(r[0].cookie != r[1].cookie);
	t0 = now_ms();
	CHECK_ERR(ioasid_swdev_access(f->h, f->dev, IOASID_ACCESS_READ,
				      3 * SZ_1M, b, 8), -EFAULT);
	CHECK(now_ms() - t0 < 1000);
	CHECK_EQ(dev_faults(f, f->dev), 3);
	CHECK(!wait_readable(fd, 0));
	/* Both answered in one write, in either order. */
	CHECK_OK(ioasid_map(f->h, f->as, SZ_1M, f->buf + SZ_1M, SZ_4K, RW));
	resp[0] = (struct ioasid_fault_response){ r[1].cookie,
						  IOASID_FAULT_RESP_INVALID };
	resp[1] = (struct ioasid_fault_response){ r[0].cookie,
						  IOASID_FAULT_RESP_SUCCESS };
	CHECK_ERR(ioasid_faultq_respond(f->h, fd, resp, sizeof(resp)),
		  (long)sizeof(resp));
	CHECK_OK(acc_join(&a[0]));
	CHECK_ERR(acc_join(&a[1]), -EFAULT);
	CHECK(!memcmp(in[0], f->buf + SZ_1M, 8));
	CHECK_OK(ioasid_faultq_close(f->h, fd));
	return 0;
}

/*
 * The queue closed with faults pending, read or not: the accesses fail
 * at once, the ioasid loses its queue (a later miss is a plain fault),
 * and nothing stays behind (the fd's queue count, the engine's objects).
 */
static int close_pending(struct fx *f)
{
	struct ioasid_fault r;
	struct acc a[2];
	uint64_t live0, live1, left;
	uint8_t in[2][8], b[8];
	int fd, fds[IOASID_FAULTQ_MAX], i;
	bool counted;

	CHECK_OK(ioasid_attach(f->h, f->dev, f->as));
	CHECK_OK(ioasid_map(f->h, f->as, 0, f->buf, SZ_4K, RW));
	counted = !ioasid_fault_state(f->h, &left, &live0);
	CHECK_OK(ioasid_faultq_alloc(f->h, IOASID_FAULTQ_TIMEOUT_MAX, 0, &fd));
	CHECK_OK(ioasid_faultq_attach(f->h, f->as, fd));
	for (i = 0; i < 2; i++)
		CHECK_OK(acc_start(&a[i], f, f->dev, IOASID_ACCESS_READ,
				   SZ_1M * (i + 1), in[i], 8));
	CHECK_OK(get_rec(f, fd, &r));
	/* The second record is queued (unread) before the close. */
	for (i = 0; i < 500 && !wait_readable(fd, 10); i++)
		;
	CHECK(wait_readable(fd, 0));
	CHECK_OK(ioasid_faultq_close(f->h, fd));
	for (i = 0; i < 2; i++) {
		CHECK_ERR(acc_join(&a[i]), -EFAULT);
		CHECK(a[i].ms < 5000);
	}
	CHECK_ERR(ioasid_swdev_access(f->h, f->dev, IOASID_ACCESS_READ,
				      SZ_1M, b, 8), -EFAULT);
	CHECK_ERR(ioasid_faultq_detach(f->h, f->as), -EINVAL);
	/* Every slot is free again. */
	for (i = 0; i < (int)IOASID_FAULTQ_MAX; i++)
		CHECK_OK(ioasid_faultq_alloc(f->h, 0, 0, &fds[i]));
	CHECK_ERR(ioasid_faultq_alloc(f->h, 0, 0, &fd), -ENOSPC);
	for (i = 0; i < (int)IOASID_FAULTQ_MAX; i++)
		CHECK_OK(ioasid_faultq_close(f->h, fds[i]));
	if (counted) {
		CHECK_OK(ioasid_fault_state(f->h, &left, &live1));
		CHECK_EQ(live1, live0);
	}
	return 0;
}

/* Detach under a waiting access; destroy is refused while it waits. */
static int device_gone_while_waiting(struct fx *f)
{
	struct miss m;

	CHECK_OK(miss_setup(f, 5000, &m));
	CHECK_ERR(ioasid_swdev_destroy(f->h, f->dev), -EBUSY);
	CHECK_OK(ioasid_detach(f->h, f->dev));
	CHECK_OK(respond(f, m.fd, m.r.cookie, IOASID_FAULT_RESP_SUCCESS));
	CHECK_ERR(acc_join(&m.a), -ENODEV);
	CHECK_OK(ioasid_swdev_destroy(f->h, f->dev));
	CHECK_OK(ioasid_faultq_close(f->h, m.fd));
	return 0;
}

static int raw_alloc(struct fx *f, uint32_t flags, uint32_t timeout,
		     uint32_t depth, uint32_t reserved)
{
	struct ioasid_faultq_alloc a = {
		.size = sizeof(a), .flags = flags, .timeout_ms = timeout,
		.depth = depth, .__reserved = reserved,
	};

	return (int)ioasid_ioctl(f->h, IOASID_FAULTQ_ALLOC, &a);
}

static int raw_attach(struct fx *f, uint32_t flags, uint32_t ioasid, int fd)
{
	struct ioasid_faultq_attach a = {
		.size = sizeof(a), .flags = flags, .ioasid = ioasid, .fd = fd,
	};

	return (int)ioasid_ioctl(f->h, IOASID_FAULTQ_ATTACH, &a);
}

/* Allocation and attach: every refusal, and that it changed nothing. */
static int bad_alloc_attach(struct fx *f)
{
	struct ioasid_handle *h2;
	struct ioasid_open_opts o = { .size = sizeof(o) };
	struct ioasid_fault r;
	struct snap s;
	uint32_t as2;
	int fd, fd2, nullfd;

	o.backend = ioasid_backend_of(f->h);
	CHECK_EQ(ioasid_check_extension(f->h, IOASID_EXT_FAULTQ), 1);
	CHECK_ERR(raw_alloc(f, 1, 0, 0, 0), -EINVAL);
	CHECK_ERR(raw_alloc(f, 1U << 31, 0, 0, 0), -EINVAL);
	CHECK_ERR(raw_alloc(f, 0, 0, 0, 1), -EINVAL);
	CHECK_ERR(raw_alloc(f, 0, IOASID_FAULTQ_TIMEOUT_MAX + 1, 0, 0),
		  -EINVAL);
	CHECK_ERR(raw_alloc(f, 0, 0, IOASID_FAULTQ_DEPTH_MAX + 1, 0), -EINVAL);
	CHECK_OK(ioasid_faultq_alloc(f->h, IOASID_FAULTQ_TIMEOUT_MAX,
				     IOASID_FAULTQ_DEPTH_MAX, &fd));

	CHECK_OK(ioasid_attach(f->h, f->dev, f->as));
	CHECK_OK(ioasid_map(f->h, f->as, 0, f->buf, SZ_4K, RW));
	CHECK_OK(snap_take(f, &s, &f->as, 1, f->dev));
	CHECK_ERR(raw_attach(f, 2, f->as, fd), -EINVAL);
	CHECK_ERR(raw_attach(f, IOASID_FAULTQ_DETACH, f->as, fd), -EINVAL);
	CHECK_ERR(raw_attach(f, IOASID_FAULTQ_DETACH, f->as, -1), -EINVAL);
	CHECK_ERR(raw_attach(f, 0, 4321, fd), -ENOENT);
	CHECK_ERR(raw_attach(f, 0, f->as, -1), -EBADF);
	CHECK_ERR(raw_attach(f, 0, f->as, 1 << 20), -EBADF);
	nullfd = open("/dev/null", O_RDWR | O_CLOEXEC);
	CHECK(nullfd >= 0);
	CHECK_ERR(raw_attach(f, 0, f->as, nullfd), -EBADF);
	close(nullfd);
	/* A queue of another ioasid fd. */
	CHECK_OK(ioasid_open(&o, &h2));
	CHECK_OK(ioasid_faultq_alloc(h2, 0, 0, &fd2));
	CHECK_ERR(raw_attach(f, 0, f->as, fd2), -EBADF);
	CHECK_OK(ioasid_faultq_close(h2, fd2));
	ioasid_close(h2);
	/* A freed ioasid. */
	CHECK_OK(ioasid_alloc(f->h, &as2));
	CHECK_OK(ioasid_free(f->h, as2));
	CHECK_ERR(raw_attach(f, 0, as2, fd), -ENOENT);
	CHECK_OK(snap_same(f, &s));
	/* Nothing was connected: a miss is a plain fault. */
	CHECK_ERR(ioasid_swdev_access(f->h, f->dev, IOASID_ACCESS_READ, SZ_1M,
				      &r, 8), -EFAULT);
	CHECK(!wait_readable(fd, 0));

	CHECK_OK(ioasid_faultq_attach(f->h, f->as, fd));
	CHECK_ERR(ioasid_faultq_attach(f->h, f->as, fd), -EBUSY);
	CHECK_OK(ioasid_faultq_detach(f->h, f->as));
	CHECK_ERR(ioasid_faultq_detach(f->h, f->as), -EINVAL);
	/* An ioasid with a queue can be freed; the queue lives on. */
	CHECK_OK(ioasid_alloc(f->h, &as2));
	CHECK_OK(ioasid_faultq_attach(f->h, as2, fd));
	CHECK_OK(ioasid_free(f->h, as2));
	CHECK_OK(ioasid_faultq_attach(f->h, f->as, fd));
	CHECK_OK(ioasid_faultq_close(f->h, fd));
	/* Closed: its number is no queue any more. */
	CHECK_ERR(raw_attach(f, 0, f->as, fd), -EBADF);
	return 0;
}

/*
 * Reads and writes: a short buffer, a bad cookie, a bad code, a short or
 * long write, a cookie twice; each refused with the record unchanged (it
 * is still readable, or still waiting for its answer).
 */
static int bad_read_write(struct fx *f)
{
	struct ioasid_fault_response resp[IOASID_FAULT_RESP_MAX + 1];
	struct ioasid_fault r, rr[2];
	uint8_t small[REC - 1], raw[RESP + 4];
	struct acc a;
	uint8_t in[8];
	int fd;

	CHECK_OK(setup(f, 5000, 0, &fd));
	CHECK_ERR(ioasid_faultq_read(f->h, fd, &r, REC), -EAGAIN);
	CHECK_ERR(ioasid_faultq_read(f->h, fd, small, sizeof(small)), -EINVAL);
	CHECK_OK(acc_start(&a, f, f->dev, IOASID_ACCESS_READ, SZ_1M, in,
			   sizeof(in)));
	CHECK(wait_readable(fd, 5000));
	CHECK_ERR(ioasid_faultq_read(f->h, fd, small, sizeof(small)), -EINVAL);
	CHECK(wait_readable(fd, 0));
	/*
	 * A copy-out that fails (the records go out after the lock is
	 * dropped) leaves them unread: the queue stays readable.
	 */
	CHECK_ERR(ioasid_faultq_read(f->h, fd, NULL, REC), -EFAULT);
	CHECK(wait_readable(fd, 0));
	/* A buffer for two gets the one record there is. */
	CHECK_ERR(ioasid_faultq_read(f->h, fd, rr, sizeof(rr)), (long)REC);
	r = rr[0];
	CHECK(r.cookie != 0);

	CHECK_ERR(respond(f, fd, r.cookie + 1, IOASID_FAULT_RESP_SUCCESS),
		  -EINVAL);
	CHECK_ERR(respond(f, fd, 0, IOASID_FAULT_RESP_SUCCESS), -EINVAL);
	CHECK_ERR(respond(f, fd, r.cookie, 2), -EINVAL);
	memset(raw, 0, sizeof(raw));
	memcpy(raw, &r.cookie, sizeof(r.cookie));
	CHECK_ERR(ioasid_faultq_respond(f->h, fd, raw, 4), -EINVAL);
	CHECK_ERR(ioasid_faultq_respond(f->h, fd, raw, RESP + 4), -EINVAL);
	CHECK_ERR(ioasid_faultq_respond(f->h, fd, raw, 0), -EINVAL);
	memset(resp, 0, sizeof(resp));
	resp[0].cookie = r.cookie;
	CHECK_ERR(ioasid_faultq_respond(f->h, fd, resp, sizeof(resp)),
		  -EINVAL);
	/* The same cookie twice, and a good answer with a bad one. */
	resp[1].cookie = r.cookie;
	CHECK_ERR(ioasid_faultq_respond(f->h, fd, resp, 2 * RESP), -EINVAL);
	resp[1].cookie = r.cookie + 7;
	CHECK_ERR(ioasid_faultq_respond(f->h, fd, resp, 2 * RESP), -EINVAL);
	/* None of that reached the access. */
	usleep(50 * 1000);
	CHECK(!acc_done(&a));
	CHECK_EQ(dev_faults(f, f->dev), 1);
	CHECK_OK(ioasid_map(f->h, f->as, SZ_1M, f->buf + SZ_1M, SZ_4K, RW));
	CHECK_OK(respond(f, fd, r.cookie, IOASID_FAULT_RESP_SUCCESS));
	CHECK_OK(acc_join(&a));
	CHECK_OK(ioasid_faultq_close(f->h, fd));
	return 0;
}

/*
 * ioasid_close() while another thread's access waits for an answer: the
 * access ends (embedded: at once, its queue closed; kernel: by the
 * queue's timeout) before anything it touches is freed. The embedded
 * backend freed the context under the waiter (found by an attacker's
 * review: a use-after-free, a hang under ASan).
 */
static int close_while_waiting(struct fx *f)
{
	bool kernel = ioasid_backend_of(f->h) == IOASID_BACKEND_KERNEL;
	struct acc a;
	uint8_t in[8];
	long rc;
	int fd;

	CHECK_OK(setup(f, 500, 0, &fd));
	CHECK_OK(acc_start(&a, f, f->dev, IOASID_ACCESS_READ, SZ_1M, in,
			   sizeof(in)));
	CHECK(wait_readable(fd, 5000));
	ioasid_close(f->h);
	f->h = NULL;		/* the fixture's teardown closes nothing */
	rc = acc_join(&a);
	CHECK(rc == (kernel ? -ETIMEDOUT : -EFAULT));
	if (kernel)
		close(fd);	/* the embedded queue went with the context */
	return 0;
}

/*
 * Many accesses fault at once while the handler answers SUCCESS, INVALID
 * or nothing, and now and then closes the queue and opens another: every
 * access ends with one of the documented errnos within its bound, and
 * nothing is left behind.
 */
#define STRESS_THREADS	4
#define STRESS_ACCESSES	60

struct stress {
	struct fx *f;
	int idx;
	unsigned int ok, efault, etimedout, other;
	volatile bool finished;
};

static void *stress_fn(void *p)
{
	struct stress *s = p;
	uint8_t b[8];
	int i;

	for (i = 0; i < STRESS_ACCESSES; i++) {
		uint64_t iova = SZ_1M + (uint64_t)(s->idx * 16 + i % 16) * SZ_4K;
		long rc = ioasid_swdev_access(s->f->h, s->f->dev,
					      IOASID_ACCESS_READ, iova, b, 8);

		if (!rc)
			s->ok++;
		else if (rc == -EFAULT)
			s->efault++;
		else if (rc == -ETIMEDOUT)
			s->etimedout++;
		else
			s->other++;
	}
	__atomic_store_n(&s->finished, true, __ATOMIC_RELEASE);
	return NULL;
}

static int stress(struct fx *f)
{
	struct stress st[STRESS_THREADS];
	pthread_t t[STRESS_THREADS];
	struct ioasid_fault recs[16];
	uint64_t live0, live1, left, seed = 12345, t0 = now_ms();
	unsigned int done = 0, loops = 0, answered = 0, ok = 0, i;
	uint64_t mapped = 0;
	bool counted;
	int fd;

	CHECK_OK(ioasid_attach(f->h, f->dev, f->as));
	CHECK_OK(ioasid_map(f->h, f->as, 0, f->buf, SZ_4K, RW));
	counted = !ioasid_fault_state(f->h, &left, &live0);
	CHECK_OK(ioasid_faultq_alloc(f->h, 50, 8, &fd));
	CHECK_OK(ioasid_faultq_attach(f->h, f->as, fd));
	for (i = 0; i < STRESS_THREADS; i++) {
		memset(&st[i], 0, sizeof(st[i]));
		st[i].f = f;
		st[i].idx = (int)i;
		CHECK(!pthread_create(&t[i], NULL, stress_fn, &st[i]));
	}
	while (done < STRESS_THREADS) {
		long got;

		if (++loops % 40 == 0) {
			/* Close with whatever is pending; a new queue. */
			CHECK_OK(ioasid_faultq_close(f->h, fd));
			CHECK_OK(ioasid_faultq_alloc(f->h, 50, 8, &fd));
			CHECK_OK(ioasid_faultq_attach(f->h, f->as, fd));
		}
		wait_readable(fd, 5);
		got = ioasid_faultq_read(f->h, fd, recs, sizeof(recs));
		CHECK(got > 0 || got == -EAGAIN);
		for (i = 0; got > 0 && i < got / REC; i++) {
			uint32_t pick;

			seed = seed * 6364136223846793005ULL + 1442695040888963407ULL;
			pick = (uint32_t)(seed >> 33) % 5;
			if (pick == 4)
				continue;	/* no answer: it times out */
			if (pick == 0) {
				/* Fix it: the page is mapped for good. */
				uint64_t pg = (recs[i].addr - SZ_1M) / SZ_4K;

				CHECK(pg < 64);
				if (!(mapped & (1ULL << pg)))
					CHECK_OK(ioasid_map(f->h, f->as,
							    recs[i].addr,
							    f->buf + SZ_1M +
							    pg * SZ_4K, SZ_4K,
							    RW));
				mapped |= 1ULL << pg;
			}
			CHECK_OK(respond(f, fd, recs[i].cookie,
					 pick < 2 ? IOASID_FAULT_RESP_SUCCESS :
						    IOASID_FAULT_RESP_INVALID));
			answered++;
		}
		for (i = 0, done = 0; i < STRESS_THREADS; i++)
			done += __atomic_load_n(&st[i].finished,
						__ATOMIC_ACQUIRE);
		CHECK(now_ms() - t0 < 120000);
	}
	for (i = 0; i < STRESS_THREADS; i++) {
		pthread_join(t[i], NULL);
		CHECK_EQ(st[i].other, 0);
		CHECK_EQ(st[i].ok + st[i].efault + st[i].etimedout,
			 STRESS_ACCESSES);
		ok += st[i].ok;
	}
	CHECK(answered > 0 && ok > 0 && mapped);
	diag("%u answers, %u loops, %u accesses completed", answered, loops,
	     ok);
	/* The pages mapped on the way are counted as the map calls were. */
	CHECK_OK(ioasid_unmap(f->h, f->as, SZ_1M, 64 * SZ_4K, NULL));
	CHECK_OK(ioasid_faultq_close(f->h, fd));
	if (counted) {
		CHECK_OK(ioasid_fault_state(f->h, &left, &live1));
		CHECK_EQ(live1, live0);
	}
	return 0;
}

static const struct test tests[] = {
	{ "fault_map_respond", fault_map_respond, NULL },
	{ "fault_nested_invalidate", fault_nested_invalidate, NULL },
	{ "respond_invalid", respond_invalid, NULL },
	{ "retry_once", retry_once, NULL },
	{ "no_response_timeout", no_response_timeout, NULL },
	{ "queue_full", queue_full, NULL },
	{ "close_pending", close_pending, NULL },
	{ "device_gone_while_waiting", device_gone_while_waiting, NULL },
	{ "bad_alloc_attach", bad_alloc_attach, NULL },
	{ "bad_read_write", bad_read_write, NULL },
	{ "close_while_waiting", close_while_waiting, NULL },
	{ "stress", stress, NULL },
};

int main(int argc, char **argv)
{
	return run_tests("fault", tests, sizeof(tests) / sizeof(tests[0]),
			 argc, argv);
}
