// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/*
 * vhost-user virtio-net backend over the fast path (see vhost_user.h).
 *
 * Two threads. The control thread accepts a front-end and handles its
 * messages; the worker thread serves the queues. A mutex held by the
 * worker for each burst, and by the control thread while it changes queue
 * or memory state, keeps them apart; the worker is offline (for RCU)
 * whenever it waits, so a control-thread unmap never waits on it.
 *
 * IOTLB misses. The worker is an RCU reader while it serves a burst, and
 * an IOTLB update or invalidation waits for its grace period, so the
 * worker must never block while online, least of all on the front-end:
 * QEMU does not read the backend channel while it waits for the reply to
 * its own IOTLB message. A miss is therefore recorded in a small table
 * of outstanding misses (struct vu_misses) and written to the channel
 * without blocking, once: an entry stays until an update covering its
 * address answers it or an invalidation covering it drops it, and a miss
 * on a page with an outstanding entry is not sent again. A miss the
 * channel has no room for stays unsent and is retried on the worker's
 * next pass (a message the socket took in part is finished first); a
 * full table takes no more entries until the front-end answers, so the
 * queues that missed wait, and the others go on.
 *
 * Message numbers and layouts follow QEMU's docs/interop/vhost-user.rst.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/magic.h>
#include <linux/vhost_types.h>
#include <linux/virtio_config.h>
#include <linux/virtio_net.h>
#include <linux/virtio_ring.h>
#include <poll.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/openat2.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "vhost_user.h"
#include "vhost_user_proto.h"
#include "memguard.h"
#include "netq.h"
#include "vring.h"
#include "virtio_features.h"

#define VU_ACCEPT_RETRY_MS 100
#define VU_CONNECT_RETRY_MS 100		/* VU_CLIENT: between two tries */

struct vu_region {
	uint64_t gpa, size, uaddr;
	uint8_t *hva;
	void *map;
	size_t map_len;
	int guard;		/* memguard slot */
};

struct vu_queue {
	struct vq vq;
	struct vq_config cfg;
	uint64_t desc_addr, avail_addr, used_addr;	/* as the front-end sent */
	uint16_t base;
	int kick, call;
	bool enabled;
	bool running;
};

/* The worker's outstanding misses (see the top of the file). */
#define VU_MISS_MAX	64

struct vu_miss {
	uint64_t iova;
	uint32_t perm;			/* IOASID_FP_READ / _WRITE */
	bool sent;
};

struct vu_misses {
	/*
	 * Taken by the worker (inside the backend's lock) and by the control
	 * thread's IOTLB handling (without it); nothing waits while it is
	 * held: the channel is written with MSG_DONTWAIT.
	 */
	pthread_mutex_t lock;
	struct vu_miss m[VU_MISS_MAX];
	uint32_t n;
	uint32_t unsent;		/* entries not written yet */
	uint8_t out[sizeof(struct vu_hdr) + sizeof(struct vhost_iotlb_msg)];
	uint32_t out_off, out_len;	/* a message the socket took in part */
};

struct vu_backend {
	char path[108];
	dev_t dev;			/* the socket file bind() made */
	ino_t ino;
	bool bound;			/* dev, ino set */
	struct vu_app app;
	uint32_t flags;
	int listen_fd, conn, req_fd;
	pthread_t ctl, worker;
	bool stop;			/* atomic */
	/* conn's assignment and close, against vu_backend_stop()'s shutdown */
	pthread_mutex_t conn_lock;
	pthread_mutex_t lock;
	uint64_t features, protocol;
	struct vu_region reg[VU_MAX_REGIONS];
	uint32_t nreg;
	uint32_t npairs;		/* queue pairs served: 1 to VU_MAX_QP */
	struct vu_queue q[2 * VU_MAX_QP];	/* pair p: rx 2p, tx 2p + 1 */
	struct ioasid_fp_backend *be;
	struct ioasid_fp_shadow *sh;
	struct ioasid_fp_batcher *b;
	/*
	 * running and broken under lock; the counters bumped outside it
	 * (IOTLB messages, misses under mq's lock, connections) through
	 * stat_add(), read with atomic loads by vu_backend_stats().
	 */
	struct vu_stats st;
	struct vu_misses mq;
	struct ioasid_fp_reader *reader;	/* the worker's */
	struct netq nq[VU_MAX_QP];	/* the worker's packets, per pair */
	bool spin;			/* the worker's: poll when idle (worker()) */
	struct vu_msg msg;		/* the control thread's */
	bool debug;			/* $IOASID_VU_DEBUG: log each message */
	uint64_t guard_seen;		/* memguard_total() last looked at */
};

/* A counter of vu_stats bumped outside the backend's lock, and its read. */
static void stat_add(uint64_t *c)
{
	__atomic_fetch_add(c, 1, __ATOMIC_RELAXED);
}

static uint64_t stat_read(const uint64_t *c)
{
	return __atomic_load_n(c, __ATOMIC_RELAXED);
}

static bool iommu_on(struct vu_backend *b)
{
	return b->features & (1ULL << VIRTIO_F_ACCESS_PLATFORM);
}

static uint8_t *uaddr_hva(struct vu_backend *b, uint64_t uaddr, uint64_t len)
{
	uint32_t i;

	for (i = 0; i < b->nreg; i++) {
		struct vu_region *r = &b->reg[i];

		if (uaddr >= r->uaddr && uaddr - r->uaddr < r->size &&
		    len <= r->size - (uaddr - r->uaddr))
			return r->hva + (uaddr - r->uaddr);
	}
	return NULL;
}

/* A ring address from SET_VRING_ADDR as the shadow knows it. */
static uint64_t ring_iova(struct vu_backend *b, uint64_t uaddr)
{
	uint32_t i;

	if (iommu_on(b))
		return uaddr;			/* an IOVA already */
	for (i = 0; i < b->nreg; i++)
		if (uaddr >= b->reg[i].uaddr &&
		    uaddr - b->reg[i].uaddr < b->reg[i].size)
			return b->reg[i].gpa + (uaddr - b->reg[i].uaddr);
	return uaddr;			/* untranslatable: the vq reports it */
}

/* ---- the worker ---- */

static bool miss_page_eq(uint64_t a, uint64_t b)
{
	return (a >> 12) == (b >> 12);
}

/* Whether @iova lies in [start, start + size), without overflowing. */
static bool in_range(uint64_t iova, uint64_t start, uint64_t size)
{
	return size && iova >= start && iova - start <= size - 1;
}

static void miss_remove(struct vu_misses *mq, uint32_t i)
{
	if (!mq->m[i].sent)
		mq->unsent--;
	mq->m[i] = mq->m[--mq->n];
}

/*
 * Write what the channel takes without blocking: first the rest of a
 * message the socket took in part, then each unsent miss. Stops at the
 * first write that would block, to be retried on the next pass
 * (mq->lock held).
 */
static void miss_flush(struct vu_backend *b)
{
	struct vu_misses *mq = &b->mq;
	uint32_t i;
	ssize_t n;

	if (b->req_fd < 0)
		return;
	while (mq->out_off < mq->out_len) {
		n = send(b->req_fd, mq->out + mq->out_off,
			 mq->out_len - mq->out_off, MSG_NOSIGNAL | MSG_DONTWAIT);
		if (n <= 0)
			return;
		mq->out_off += (uint32_t)n;
	}
	for (i = 0; i < mq->n && mq->unsent; i++) {
		struct vu_miss *e = &mq->m[i];
		struct vu_hdr h = { .request = VU_BACKEND_IOTLB_MSG,
				    .flags = VU_VERSION,
				    .size = sizeof(struct vhost_iotlb_msg) };
		struct vhost_iotlb_msg t = {
			.iova = e->iova,
			.perm = (uint8_t)((e->perm & IOASID_FP_READ ? VHOST_ACCESS_RO : 0) |
					  (e->perm & IOASID_FP_WRITE ? VHOST_ACCESS_WO : 0)),
			.type = VHOST_IOTLB_MISS,
		};

		if (e->sent)
			continue;
		memcpy(mq->out, &h, sizeof(h));
		memcpy(mq->out + sizeof(h), &t, sizeof(t));
		mq->out_len = sizeof(mq->out);
		n = send(b->req_fd, mq->out, mq->out_len,
			 MSG_NOSIGNAL | MSG_DONTWAIT);
		if (n <= 0) {
			mq->out_len = 0;
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				stat_add(&b->st.misses_deferred);
			return;
		}
		/* Sent, or begun: the rest goes out before anything else. */
		mq->out_off = (uint32_t)n;
		e->sent = true;
		mq->unsent--;
		stat_add(&b->st.misses);
		if (mq->out_off < mq->out_len)
			return;
	}
}

/*
 * Forget entries whose address translates now: an update can answer a
 * miss between the worker's failed lookup and its record of the miss,
 * and such an entry would hold its slot until the page is invalidated.
 */
static void miss_prune(struct vu_backend *b)
{
	struct vu_misses *mq = &b->mq;
	uint32_t i = 0;

	while (i < mq->n) {
		uint64_t contig = 0;
		void *hva = NULL;

		if (b->reader &&
		    !ioasid_fp_translate(b->reader, mq->m[i].iova, 1,
					 mq->m[i].perm, &hva, &contig))
			miss_remove(mq, i);
		else
			i++;
	}
}

/* The vq's miss callback, on the worker: record the miss, send it once. */
static void send_miss(void *arg, uint64_t iova, uint64_t len, uint32_t perm)
{
	struct vu_backend *b = arg;
	struct vu_misses *mq = &b->mq;
	uint32_t i;

	(void)len;
	if (b->req_fd < 0)
		return;
	pthread_mutex_lock(&mq->lock);
	for (i = 0; i < mq->n; i++)
		if (miss_page_eq(mq->m[i].iova, iova) &&
		    (mq->m[i].perm & perm) == perm)
			break;
	if (i == mq->n && mq->n == VU_MISS_MAX)
		miss_prune(b);
	if (i == mq->n && mq->n == VU_MISS_MAX) {
		stat_add(&b->st.misses_overflow); /* retried when one is answered */
	} else if (i == mq->n) {
		mq->m[mq->n++] = (struct vu_miss){ .iova = iova, .perm = perm };
		mq->unsent++;
	}
	miss_flush(b);
	pthread_mutex_unlock(&mq->lock);
}

/*
 * An IOTLB message covering [iova, iova + size): an update answers the
 * misses in it, an invalidation drops them (a later miss there is a new
 * one). UINT64_MAX/0 forgets everything, with a half-written message
 * (the channel changed or the memory went).
 */
static void miss_settle(struct vu_backend *b, uint64_t iova, uint64_t size)
{
	struct vu_misses *mq = &b->mq;
	uint32_t i = 0;

	pthread_mutex_lock(&mq->lock);
	if (iova == UINT64_MAX && !size) {
		mq->n = mq->unsent = 0;
		mq->out_off = mq->out_len = 0;
	}
	while (i < mq->n) {
		if (in_range(mq->m[i].iova, iova, size))
			miss_remove(mq, i);
		else
			i++;
	}
	pthread_mutex_unlock(&mq->lock);
}

/* The worker's pass: retry what the channel had no room for. */
static void miss_retry(struct vu_backend *b)
{
	struct vu_misses *mq = &b->mq;

	pthread_mutex_lock(&mq->lock);
	if (mq->unsent || mq->out_off < mq->out_len)
		miss_flush(b);
	pthread_mutex_unlock(&mq->lock);
}

static void notify(struct vu_queue *q)
{
	uint64_t one = 1;

	if (q->call >= 0 && write(q->call, &one, sizeof(one)) < 0)
		return;
}

/*
 * A region whose file the front-end shrank reads as zeros now (memguard):
 * the queues of this connection stop, with the reason, and stay stopped
 * until a new memory table and rings are set up.
 */
static void guard_check(struct vu_backend *b)
{
	uint64_t now = memguard_total();
	uint32_t i;

	if (now == b->guard_seen)
		return;
	b->guard_seen = now;
	for (i = 0; i < b->nreg; i++) {
		if (!memguard_hits(b->reg[i].guard))
			continue;
		for (uint32_t k = 0; k < 2 * b->npairs; k++)
			vq_fail(&b->q[k].vq,
				"memory region %u: the front-end shrank its file under the mapping (pages lost: %llu)",
				i, (unsigned long long)memguard_hits(b->reg[i].guard));
	}
}

/*
 * One pass of the worker over the queues, as reader @r: returns the
 * packets it moved. The lock is taken offline, so that a control-thread
 * unmap waiting for a grace period under it never waits for the worker.
 */
static int worker_pass(struct vu_backend *b, struct ioasid_fp_reader *r)
{
	uint32_t running = 0, broken = 0, i;
	int work = 0;

	ioasid_fp_reader_offline(r);
	pthread_mutex_lock(&b->lock);
	ioasid_fp_reader_online(r);
	if (b->req_fd >= 0)	/* no channel: send_miss() records nothing */
		miss_retry(b);
	guard_check(b);
	for (i = 0; i < 2 * b->npairs; i++) {
		struct vu_queue *q = &b->q[i];
		struct netq *nq = &b->nq[i / 2];

		if (!q->running || !q->enabled)
			continue;
		if (q->vq.r != r)
			q->vq.r = r;
		if (vq_burst_begin(&q->vq) == 0) {
			bool tell = false;

			nq->mergeable = b->features &
					(1ULL << VIRTIO_NET_F_MRG_RXBUF);
			work += i & 1 ? netq_serve_tx(nq, &q->vq, &tell) :
					netq_serve_rx(nq, &q->vq, &tell);
			if (tell)
				notify(q);
		}
		running += !q->vq.broken;
		broken += q->vq.broken;
	}
	b->st.running = running;
	b->st.broken = broken;
	b->spin = b->flags & VU_POLL;
	pthread_mutex_unlock(&b->lock);
	ioasid_fp_reader_quiescent(r);
	return work;
}

static uint64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);	/* the vDSO: no system call */
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

/*
 * The worker polls while packets flow and for VU_SPIN_NS after the last
 * one, then naps VU_NAP_US between passes. A nap (50 us asked, 100 or
 * more with the timer slack) is longer than a 256-entry ring lasts at a
 * few Mpps: napping as soon as one pass finds nothing would leave the
 * driver a full ring (it drops) whenever it runs ahead of the worker.
 *
 * Only when asked (VU_POLL) for now. With the worker polling, QEMU
 * guests lost frames more often (2026-12-03: 4 strict boots of 4); the
 * loss was the guest's qdisc (fq_codel) dropping frames that waited
 * while the device, short of CPU on two cores, waited on IOTLB round
 * trips (issue 11), and the tests now send past it. Polling by default
 * waits for a measurement of what it costs the guest on a shared
 * machine.
 */
#define VU_SPIN_NS	2000000ULL
#define VU_NAP_US	50

static void *worker(void *arg)
{
	struct vu_backend *b = arg;
	struct ioasid_fp_reader *r;
	uint64_t idle_since = 0, busy_from = 0;

	if (ioasid_fp_reader_register(b->sh, &r))
		return NULL;
	b->reader = r;
	while (!__atomic_load_n(&b->stop, __ATOMIC_ACQUIRE)) {
		/* One clock read a pass: it also ends a busy pass's time. */
		uint64_t now = mono_ns();

		if (busy_from)
			__atomic_fetch_add(&b->st.busy_ns, now - busy_from,
					   __ATOMIC_RELAXED);
		busy_from = 0;
		if (worker_pass(b, r)) {
			busy_from = now;
			idle_since = 0;
			continue;
		}
		if (!idle_since)
			idle_since = now;
		if (b->spin && now - idle_since < VU_SPIN_NS)
			continue;
		ioasid_fp_reader_offline(r);
		usleep(VU_NAP_US);
		ioasid_fp_reader_online(r);
	}
	b->reader = NULL;
	ioasid_fp_reader_unregister(r);
	return NULL;
}

/* ---- the control thread ---- */

/*
 * Read one message: the header, then exactly the payload it announces
 * (at most sizeof(m->p)); the rest of the payload area reads as zero, so
 * a short message never sees an earlier one's bytes. Every descriptor
 * that came with it is in @fds, however many control messages carried
 * them. -1 (the connection goes): a short read, a payload too large for
 * any request, or descriptors cut off for lack of room; nothing leaks.
 */
static int recv_msg(int fd, struct vu_msg *m, int *fds, int *nfds)
{
	char cbuf[CMSG_SPACE(VU_MAX_FDS * sizeof(int))];
	struct iovec iov = { &m->h, sizeof(m->h) };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1,
			     .msg_control = cbuf,
			     .msg_controllen = sizeof(cbuf) };
	struct cmsghdr *c;
	ssize_t n;
	int i;

	*nfds = 0;
	memset(&m->p, 0, sizeof(m->p));
	n = recvmsg(fd, &mh, MSG_CMSG_CLOEXEC | MSG_WAITALL);
	for (c = n >= 0 ? CMSG_FIRSTHDR(&mh) : NULL; c;
	     c = CMSG_NXTHDR(&mh, c)) {
		int k, j;

		if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS)
			continue;
		k = (int)((c->cmsg_len - CMSG_LEN(0)) / sizeof(int));
		for (j = 0; j < k; j++) {
			int f;

			memcpy(&f, CMSG_DATA(c) + j * sizeof(int), sizeof(f));
			if (*nfds < VU_MAX_FDS)
				fds[(*nfds)++] = f;
			else
				close(f);	/* cannot happen: cbuf's size */
		}
	}
	if (n != sizeof(m->h) || (mh.msg_flags & MSG_CTRUNC) ||
	    m->h.size > sizeof(m->p))
		goto fail;
	if (m->h.size && recv(fd, &m->p, m->h.size, MSG_WAITALL) !=
				 (ssize_t)m->h.size)
		goto fail;
	return 0;
fail:
	for (i = 0; i < *nfds; i++)
		close(fds[i]);
	*nfds = 0;
	return -1;
}

static int reply(struct vu_backend *b, struct vu_msg *m, uint32_t size)
{
	m->h.flags = VU_VERSION | VU_FLAG_REPLY;
	m->h.size = size;
	/*
	 * Never wait on the front-end (replies go out under the backend's
	 * lock): one that does not read its replies loses the connection.
	 */
	return send(b->conn, m, sizeof(m->h) + size,
		    MSG_NOSIGNAL | MSG_DONTWAIT) ==
	       (ssize_t)(sizeof(m->h) + size) ? 0 : -1;
}

static void stop_queue(struct vu_queue *q)
{
	q->running = false;
	if (q->kick >= 0)
		close(q->kick);
	q->kick = -1;
}

static void unmap_regions(struct vu_region *reg, uint32_t n)
{
	for (uint32_t i = 0; i < n; i++) {
		memguard_del(reg[i].guard);
		munmap(reg[i].map, reg[i].map_len);
	}
}

/* Forget every translation and every region (caller holds the lock). */
static void drop_memory(struct vu_backend *b)
{
	/* Two calls: one range of 2^64 bytes has no length. */
	ioasid_fp_unmap(b->b, 0, UINT64_MAX, NULL);
	ioasid_fp_unmap(b->b, UINT64_MAX, 1, NULL);
	miss_settle(b, 0, UINT64_MAX);
	miss_settle(b, UINT64_MAX, 1);
	unmap_regions(b->reg, b->nreg);
	b->nreg = 0;
}

/* Whether [a, a + as) and [c, c + cs) share a byte (sizes non-zero, no wrap). */
static bool ranges_meet(uint64_t a, uint64_t as, uint64_t c, uint64_t cs)
{
	return a <= c + (cs - 1) && c <= a + (as - 1);
}

/*
 * Check region @i of a memory table against the rules and map it: its
 * sizes non-zero, no range that wraps, apart from the regions before it
 * in guest-physical and in front-end addresses, and inside its file
 * (fstat), so that every byte the table names is one this process maps.
 */
static int map_region(const struct vu_region_desc *d, int fd,
		      const struct vu_region *prev, uint32_t i,
		      struct vu_region *r)
{
	uint64_t align = 4096, start, end;
	struct statfs sfs;
	struct stat st;
	uint32_t k;

	if (!d->size) {
		fprintf(stderr, "vhost-user: SET_MEM_TABLE: region %u: size is 0\n", i);
		return -EINVAL;
	}
	if (d->gpa + d->size <= d->gpa ||
	    d->uaddr + d->size <= d->uaddr ||
	    d->offset + d->size <= d->offset) {
		fprintf(stderr, "vhost-user: SET_MEM_TABLE: region %u: guest address, front-end address or offset + size 0x%llx reaches 2^64\n",
			i, (unsigned long long)d->size);
		return -EINVAL;
	}
	for (k = 0; k < i; k++) {
		if (ranges_meet(d->gpa, d->size, prev[k].gpa, prev[k].size) ||
		    ranges_meet(d->uaddr, d->size, prev[k].uaddr, prev[k].size)) {
			fprintf(stderr, "vhost-user: SET_MEM_TABLE: region %u overlaps region %u\n",
				i, k);
			return -EINVAL;
		}
	}
	if (fstat(fd, &st))
		return -errno;
	if (!S_ISREG(st.st_mode) || st.st_size < 0 ||
	    d->offset > (uint64_t)st.st_size ||
	    d->size > (uint64_t)st.st_size - d->offset) {
		fprintf(stderr, "vhost-user: SET_MEM_TABLE: region %u: offset 0x%llx + size 0x%llx is past the end of its file (0x%llx bytes)\n",
			i, (unsigned long long)d->offset,
			(unsigned long long)d->size,
			(unsigned long long)st.st_size);
		return -EINVAL;
	}
	/*
	 * Guest memory is shared memory (memfd, tmpfs) or hugetlbfs. A file
	 * elsewhere is refused: on FUSE, which the front-end may serve
	 * itself, every access of the worker could wait on the front-end's
	 * answer for as long as it likes, and a disk file's pages are
	 * written back under the guest's feet.
	 */
	if (fstatfs(fd, &sfs))
		return -errno;
	if (sfs.f_type != TMPFS_MAGIC && sfs.f_type != HUGETLBFS_MAGIC) {
		fprintf(stderr, "vhost-user: SET_MEM_TABLE: region %u: its file is on a file system of type 0x%llx; only shared memory (memfd, tmpfs) and hugetlbfs are mapped\n",
			i, (unsigned long long)sfs.f_type);
		return -EINVAL;
	}
	/* hugetlbfs reports its page size: mappings start on one. */
	if (sfs.f_type == HUGETLBFS_MAGIC && st.st_blksize > 4096 &&
	    !(st.st_blksize & (st.st_blksize - 1)))
		align = (uint64_t)st.st_blksize;
	start = d->offset & ~(align - 1);
	end = d->offset + d->size;
	end = end + (align - 1) < end ? end : (end + (align - 1)) & ~(align - 1);
	if (end - start > SIZE_MAX || start > (uint64_t)INT64_MAX)
		return -EINVAL;
	r->map = mmap(NULL, (size_t)(end - start), PROT_READ | PROT_WRITE,
		      MAP_SHARED, fd, (off_t)start);
	if (r->map == MAP_FAILED) {
		int e = errno;

		fprintf(stderr, "vhost-user: SET_MEM_TABLE: region %u: mmap: %s\n",
			i, strerror(e));
		return -e;
	}
	r->map_len = (size_t)(end - start);
	/* The front-end keeps the file: it may shrink it under us. */
	r->guard = memguard_add(r->map, r->map_len, (size_t)align);
	if (r->guard < 0) {
		fprintf(stderr, "vhost-user: SET_MEM_TABLE: region %u: no SIGBUS guard: %s\n",
			i, strerror(-r->guard));
		munmap(r->map, r->map_len);
		return r->guard;
	}
	r->hva = (uint8_t *)r->map + (d->offset - start);
	r->gpa = d->gpa;
	r->size = d->size;
	r->uaddr = d->uaddr;
	return 0;
}

/*
 * A new memory table replaces the old one only once all of it is checked
 * and mapped: a table that breaks a rule leaves the old one in use. The
 * descriptors are closed here, used or not.
 */
static int set_mem_table(struct vu_backend *b, struct vu_msg *m, int *fds,
			 int nfds)
{
	struct vu_region fresh[VU_MAX_REGIONS];
	uint32_t i, n = m->p.mem.nregions;
	int rc = 0;

	if (n > VU_MAX_REGIONS || m->h.size != 8 + n * sizeof(struct vu_region_desc) ||
	    (int)n != nfds) {
		fprintf(stderr, "vhost-user: SET_MEM_TABLE: %u regions need %u to %u, a payload of %zu bytes and as many descriptors (got %u bytes, %d descriptors)\n",
			n, 0, VU_MAX_REGIONS,
			8 + (size_t)(n <= VU_MAX_REGIONS ? n : 0) * sizeof(struct vu_region_desc),
			m->h.size, nfds);
		return -EINVAL;
	}
	for (i = 0; i < n && !rc; i++) {
		struct vu_region_desc d;

		memcpy(&d, m->p.raw + 8 + i * sizeof(d), sizeof(d));
		rc = map_region(&d, fds[i], fresh, i, &fresh[i]);
		if (rc)
			unmap_regions(fresh, i);
	}
	for (i = 0; i < (uint32_t)nfds; i++) {
		close(fds[i]);
		fds[i] = -1;
	}
	if (rc)
		return rc;
	drop_memory(b);
	memcpy(b->reg, fresh, n * sizeof(*fresh));
	b->nreg = n;
	/* Without an IOMMU the memory table is the translation. */
	for (i = 0; i < n && !iommu_on(b); i++) {
		rc = ioasid_fp_map(b->b, b->reg[i].gpa, b->reg[i].hva,
				   b->reg[i].size,
				   IOASID_FP_READ | IOASID_FP_WRITE);
		if (rc) {
			drop_memory(b);	/* nothing half-installed */
			return rc;
		}
	}
	return 0;
}

static int iotlb_msg(struct vu_backend *b, struct vhost_iotlb_msg *t)
{
	uint32_t perm = (t->perm & VHOST_ACCESS_RO ? IOASID_FP_READ : 0) |
			(t->perm & VHOST_ACCESS_WO ? IOASID_FP_WRITE : 0);
	uint8_t *hva;
	int rc;

	if (b->debug)
		fprintf(stderr, "vhost-user: IOTLB_MSG type %u iova 0x%llx size 0x%llx uaddr 0x%llx perm %u\n",
			t->type, (unsigned long long)t->iova,
			(unsigned long long)t->size,
			(unsigned long long)t->uaddr, t->perm);
	if (!iommu_on(b)) {
		fprintf(stderr, "vhost-user: IOTLB_MSG: VIRTIO_F_ACCESS_PLATFORM was not negotiated\n");
		return -EINVAL;
	}
	switch (t->type) {
	case VHOST_IOTLB_UPDATE:
		hva = uaddr_hva(b, t->uaddr, t->size);
		if (!hva || !t->size || !perm || (t->perm & ~VHOST_ACCESS_RW) ||
		    t->iova + t->size <= t->iova) {
			fprintf(stderr, "vhost-user: IOTLB_MSG: update of 0x%llx bytes at front-end address 0x%llx, permission %u: %s\n",
				(unsigned long long)t->size,
				(unsigned long long)t->uaddr, t->perm,
				!t->size ? "size is 0" :
				!hva ? "not inside one memory region" :
				t->perm & ~VHOST_ACCESS_RW || !perm ?
				"permission is not RO, WO or RW" :
				"iova + size reaches 2^64");
			return -EINVAL;
		}
		/*
		 * An update over older ones replaces them on its range, in
		 * one publish (the shadow's rule): QEMU sends such updates
		 * whenever a guest maps a page again before unmapping it.
		 */
		rc = ioasid_fp_map(b->b, t->iova, hva, t->size, perm);
		if (rc)
			return rc;
		stat_add(&b->st.iotlb_updates);
		miss_settle(b, t->iova, t->size);
		return 0;
	case VHOST_IOTLB_INVALIDATE:
		rc = ioasid_fp_unmap(b->b, t->iova, t->size, NULL);
		if (rc)
			return rc;
		stat_add(&b->st.iotlb_invalidates);
		miss_settle(b, t->iova, t->size);
		return 0;
	default:
		return -EINVAL;
	}
}

/*
 * Several pairs: virtio-net's MQ, which needs a control queue; the
 * front-end serves the control queue itself (QEMU, DPDK's virtio_user)
 * and tells the backend which pairs the driver uses by SET_VRING_ENABLE.
 */
static uint64_t offered(struct vu_backend *b)
{
	return VU_FEATURES |
	       (b->flags & VU_OFFER_IOMMU ? VU_FEATURES_IOMMU : 0) |
	       (b->npairs > 1 ? VU_FEATURES_MQ : 0);
}

static uint64_t offered_protocol(struct vu_backend *b)
{
	return (1ULL << VU_PF_REPLY_ACK) |
	       (b->flags & VU_OFFER_IOMMU ? 1ULL << VU_PF_BACKEND_REQ : 0) |
	       (b->npairs > 1 ? 1ULL << VU_PF_MQ : 0);
}

/*
 * SET_VRING_KICK starts a queue with what the front-end set: its size,
 * ring addresses and base. -EINVAL (the queue stays stopped) if they do
 * not make a queue: a size never set, misaligned rings, a packed base
 * past the ring.
 */
static int start_queue(struct vu_backend *b, struct vu_queue *q)
{
	bool packed = b->features & (1ULL << VIRTIO_F_RING_PACKED);
	struct vq_config c = {
		.size = q->cfg.size,
		.features = b->features,
		.desc = ring_iova(b, q->desc_addr),
		.avail = ring_iova(b, q->avail_addr),
		.used = ring_iova(b, q->used_addr),
		.polled = true,		/* the worker polls; kicks go unread */
		.miss = send_miss,
		.miss_arg = b,
	};
	uint16_t slot = packed ? q->base & 0x7fff : q->base;
	bool wrap = packed && (q->base >> 15);

	/*
	 * Memory this connection lost stays lost (it reads as zeros): a
	 * queue does not start again on it until a new memory table comes.
	 */
	for (uint32_t i = 0; i < b->nreg; i++) {
		if (memguard_hits(b->reg[i].guard)) {
			fprintf(stderr, "vhost-user: SET_VRING_KICK: queue %d refused: memory region %u lost pages (the front-end shrank its file); send a new memory table first\n",
				(int)(q - b->q), i);
			return -EIO;
		}
	}
	vq_fini(&q->vq);
	if (vq_init(&q->vq, &c, NULL)) {
		fprintf(stderr, "vhost-user: SET_VRING_KICK: queue %d refused: size %u (set by SET_VRING_NUM) or ring addresses not aligned\n",
			(int)(q - b->q), c.size);
		return -EINVAL;
	}
	/* Packed: the used side starts where the driver's avail side is. */
	if (vq_set_base(&q->vq, slot, wrap, slot, wrap)) {
		fprintf(stderr, "vhost-user: SET_VRING_KICK: queue %d refused: base slot %u is past the ring of %u\n",
			(int)(q - b->q), slot, c.size);
		vq_fini(&q->vq);
		return -EINVAL;
	}
	q->running = true;
	/* Without protocol features a started ring is enabled. */
	if (!(b->features & (1ULL << VU_F_PROTOCOL_FEATURES)))
		q->enabled = true;
	return 0;
}

/*
 * What each request may carry, in one place: payload bytes (exact unless
 * min < max), descriptors, whether the payload names a queue, whether it
 * is always answered and whether it runs without the backend's lock.
 * process() checks every message against its row before any handler
 * runs; a request without a row is refused (EOPNOTSUPP).
 */
#define VR_QUEUE	(1U << 0)	/* u32 queue index first (vring state) */
#define VR_QUEUE_FD	(1U << 1)	/* u64: index in bits 0-7, bit 8 "no fd" */
#define VR_FD		(1U << 2)	/* exactly one descriptor */
#define VR_REPLIES	(1U << 3)	/* answered whatever the flags */
#define VR_UNLOCKED	(1U << 4)	/* IOTLB: the worker goes on */

struct vu_rule {
	const char *name;
	uint16_t min, max;		/* payload bytes */
	uint8_t fds;			/* at most */
	uint8_t flags;
};

#define RULE(req, mn, mx, nfd, fl) [VU_##req] = { #req, mn, mx, nfd, fl }
static const struct vu_rule rules[] = {
	RULE(GET_FEATURES, 0, 0, 0, VR_REPLIES),
	RULE(SET_FEATURES, 8, 8, 0, 0),
	RULE(SET_OWNER, 0, 0, 0, 0),
	RULE(RESET_OWNER, 0, 0, 0, 0),
	RULE(SET_MEM_TABLE, 8, 8 + VU_MAX_REGIONS * sizeof(struct vu_region_desc),
	     VU_MAX_REGIONS, 0),
	RULE(SET_VRING_NUM, 8, 8, 0, VR_QUEUE),
	RULE(SET_VRING_ADDR, sizeof(struct vhost_vring_addr),
	     sizeof(struct vhost_vring_addr), 0, VR_QUEUE),
	RULE(SET_VRING_BASE, 8, 8, 0, VR_QUEUE),
	RULE(GET_VRING_BASE, 8, 8, 0, VR_QUEUE | VR_REPLIES),
	RULE(SET_VRING_KICK, 8, 8, 1, VR_QUEUE_FD),
	RULE(SET_VRING_CALL, 8, 8, 1, VR_QUEUE_FD),
	RULE(SET_VRING_ERR, 8, 8, 1, VR_QUEUE_FD),
	RULE(GET_PROTOCOL_FEATURES, 0, 0, 0, VR_REPLIES),
	RULE(SET_PROTOCOL_FEATURES, 8, 8, 0, 0),
	RULE(GET_QUEUE_NUM, 0, 0, 0, VR_REPLIES),
	RULE(SET_VRING_ENABLE, 8, 8, 0, VR_QUEUE),
	RULE(SEND_RARP, 8, 8, 0, 0),
	RULE(NET_SET_MTU, 8, 8, 0, 0),
	RULE(SET_BACKEND_REQ_FD, 0, 0, 1, VR_FD),
	RULE(IOTLB_MSG, sizeof(struct vhost_iotlb_msg),
	     sizeof(struct vhost_iotlb_msg), 0, VR_UNLOCKED),
};
#undef RULE

static const struct vu_rule *rule_of(uint32_t request)
{
	if (request >= sizeof(rules) / sizeof(rules[0]) || !rules[request].name)
		return NULL;
	return &rules[request];
}

/*
 * The message's framing against its rule: 0, or -EINVAL with one line
 * naming the request, the field and the rule. A message that fails here
 * ends the connection (the front-end and the backend no longer agree on
 * what was said).
 */
static int check_framing(const struct vu_rule *r, const struct vu_msg *m,
			 int nfds)
{
	uint32_t f = m->h.flags, sz = m->h.size;

	if ((f & 3) != VU_VERSION || (f & ~(3U | VU_FLAG_NEED_REPLY))) {
		fprintf(stderr, "vhost-user: %s: flags 0x%x: version must be 1, and only NEED_REPLY may be set\n",
			r->name, f);
		return -EINVAL;
	}
	if (sz < r->min || sz > r->max) {
		if (r->min == r->max)
			fprintf(stderr, "vhost-user: %s: payload of %u bytes, must be %u\n",
				r->name, sz, r->min);
		else
			fprintf(stderr, "vhost-user: %s: payload of %u bytes, must be %u to %u\n",
				r->name, sz, r->min, r->max);
		return -EINVAL;
	}
	if (nfds > r->fds || ((r->flags & VR_FD) && nfds != 1)) {
		fprintf(stderr, "vhost-user: %s: %d descriptors, %s %u\n",
			r->name, nfds, r->flags & VR_FD ? "must be" : "at most",
			r->fds);
		return -EINVAL;
	}
	if (r->flags & VR_QUEUE_FD) {
		uint64_t v = m->p.u64;

		if (v & ~(0xffULL | VU_VRING_NOFD)) {
			fprintf(stderr, "vhost-user: %s: payload 0x%llx: only bits 0-8 (queue index, no-fd flag) may be set\n",
				r->name, (unsigned long long)v);
			return -EINVAL;
		}
		if ((v & VU_VRING_NOFD) ? nfds != 0 : nfds != 1) {
			fprintf(stderr, "vhost-user: %s: no-fd flag %s but %d descriptors\n",
				r->name, v & VU_VRING_NOFD ? "set" : "clear", nfds);
			return -EINVAL;
		}
	}
	return 0;
}

/*
 * The queue a message names: NULL (with its line) past the pairs served,
 * or past the first pair while the front-end has not agreed to MQ.
 */
static struct vu_queue *queue_of(struct vu_backend *b, const struct vu_rule *r,
				 const struct vu_msg *m)
{
	uint32_t idx = r->flags & VR_QUEUE ? m->p.state.index :
		       (uint32_t)(m->p.u64 & 0xff);
	uint32_t n = b->protocol & (1ULL << VU_PF_MQ) ? 2 * b->npairs : 2;

	if (idx >= n) {
		fprintf(stderr, "vhost-user: %s: queue index %u, must be below %u (%u queue pair%s%s)\n",
			r->name, idx, n, n / 2, n > 2 ? "s" : "",
			n < 2 * b->npairs ? "; MQ not negotiated" : "");
		return NULL;
	}
	return &b->q[idx];
}

/*
 * A kick or call descriptor the worker may write must never block it:
 * only an anonymous-inode file (an eventfd, as every front-end sends; no
 * pipe, socket or file on a filesystem the front-end may serve, such as
 * FUSE), and made non-blocking.
 */
static int take_event_fd(const char *req, int fd)
{
	struct stat st;
	int fl;

	if (fstat(fd, &st))
		return -errno;
	if (st.st_mode & S_IFMT) {
		fprintf(stderr, "vhost-user: %s: the descriptor is not an eventfd (file type 0%o)\n",
			req, (unsigned int)(st.st_mode & S_IFMT));
		return -EINVAL;
	}
	fl = fcntl(fd, F_GETFL);
	if (fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0)
		return -errno;
	return 0;
}

/* One checked message; returns 0 or the errno a REPLY_ACK reports. */
/* SET_FEATURES, SET_PROTOCOL_FEATURES: take @want if all of it was offered. */
static int set_offered(const struct vu_rule *r, uint64_t want,
		       uint64_t offer, uint64_t *dst)
{
	if (want & ~offer) {
		fprintf(stderr, "vhost-user: %s: 0x%llx has bits not offered (0x%llx)\n",
			r->name, (unsigned long long)want,
			(unsigned long long)offer);
		return -EINVAL;
	}
	*dst = want;
	return 0;
}

static int handle(struct vu_backend *b, const struct vu_rule *r,
		  struct vu_msg *m, int *fds, int nfds)
{
	struct vu_queue *q = NULL;
	uint32_t num;

	if (r->flags & (VR_QUEUE | VR_QUEUE_FD)) {
		q = queue_of(b, r, m);
		if (!q)
			return -EINVAL;
	}
	switch (m->h.request) {
	case VU_GET_FEATURES:
		m->p.u64 = offered(b);
		return reply(b, m, 8);
	case VU_SET_FEATURES:
		return set_offered(r, m->p.u64, offered(b), &b->features);
	case VU_GET_PROTOCOL_FEATURES:
		m->p.u64 = offered_protocol(b);
		return reply(b, m, 8);
	case VU_SET_PROTOCOL_FEATURES:
		return set_offered(r, m->p.u64, offered_protocol(b),
				   &b->protocol);
	case VU_GET_QUEUE_NUM:
		m->p.u64 = b->npairs;
		return reply(b, m, 8);
	case VU_SET_OWNER: case VU_RESET_OWNER: case VU_SEND_RARP:
	case VU_NET_SET_MTU:
		return 0;
	case VU_SET_MEM_TABLE:
		return set_mem_table(b, m, fds, nfds);
	case VU_SET_VRING_NUM:
		num = m->p.state.num;
		if (!num || num > VQ_MAX_SIZE || (num & (num - 1))) {
			fprintf(stderr, "vhost-user: SET_VRING_NUM: %u entries, must be a power of 2 from 1 to %u\n",
				num, VQ_MAX_SIZE);
			return -EINVAL;
		}
		q->cfg.size = (uint16_t)num;
		return 0;
	case VU_SET_VRING_ADDR:
		q->desc_addr = m->p.addr.desc_user_addr;
		q->avail_addr = m->p.addr.avail_user_addr;
		q->used_addr = m->p.addr.used_user_addr;
		return 0;
	case VU_SET_VRING_BASE:
		/*
		 * Split: a free-running 16-bit index. Packed: the slot in
		 * bits 0-14 and its wrap counter in bit 15 (bits 16-31, the
		 * used side some front-ends add, are not used: the backend
		 * starts its used side where the driver's avail side is).
		 * The slot is checked against the ring's size when the
		 * queue starts, as the two may come in either order.
		 */
		num = m->p.state.num;
		if (!(b->features & (1ULL << VIRTIO_F_RING_PACKED)) && num > 0xffff) {
			fprintf(stderr, "vhost-user: SET_VRING_BASE: %u is not a 16-bit ring index\n",
				num);
			return -EINVAL;
		}
		q->base = (uint16_t)num;
		if ((b->features & (1ULL << VIRTIO_F_RING_PACKED)) && !num)
			q->base = 0x8000;	/* a new packed ring: wrap 1 */
		return 0;
	case VU_GET_VRING_BASE:
		m->p.state.num = !q->running ? q->base :
				 q->vq.c.features & VIRTIO_BIT(VIRTIO_F_RING_PACKED) ?
				 (uint32_t)(q->vq.last_avail |
					    (q->vq.avail_wrap ? 0x8000 : 0)) :
				 q->vq.last_avail;
		stop_queue(q);
		q->enabled = false;
		return reply(b, m, sizeof(m->p.state));
	case VU_SET_VRING_KICK:
		stop_queue(q);
		if (nfds) {
			int rc = take_event_fd(r->name, fds[0]);

			if (rc)
				return rc;
			q->kick = fds[0];
			fds[0] = -1;
		}
		return start_queue(b, q);
	case VU_SET_VRING_CALL:
		if (nfds) {
			int rc = take_event_fd(r->name, fds[0]);

			if (rc)
				return rc;
		}
		if (q->call >= 0)
			close(q->call);
		q->call = nfds ? fds[0] : -1;
		if (nfds)
			fds[0] = -1;
		return 0;
	case VU_SET_VRING_ERR:
		return 0;		/* not used: the descriptor is closed */
	case VU_SET_VRING_ENABLE:
		if (m->p.state.num > 1) {
			fprintf(stderr, "vhost-user: SET_VRING_ENABLE: %u, must be 0 or 1\n",
				m->p.state.num);
			return -EINVAL;
		}
		q->enabled = m->p.state.num != 0;
		return 0;
	case VU_SET_BACKEND_REQ_FD:
		if (b->req_fd >= 0)
			close(b->req_fd);
		b->req_fd = fds[0];
		fds[0] = -1;
		miss_settle(b, UINT64_MAX, 0);	/* a new channel */
		return 0;
	case VU_IOTLB_MSG: {
		struct vhost_iotlb_msg t;	/* the payload is unaligned */

		memcpy(&t, m->p.raw, sizeof(t));
		return iotlb_msg(b, &t);
	}
	}
	return -EOPNOTSUPP;		/* a row without a case: not reached */
}

/*
 * One message from the front-end, checked against its rule and handled,
 * answered as asked; descriptors it did not keep are closed. Returns 0, or
 * -1 when the connection must go (framing broken, or a reply not sent).
 */
static int process(struct vu_backend *b, struct vu_msg *m, int *fds, int nfds)
{
	const struct vu_rule *r = rule_of(m->h.request);
	bool ack = (m->h.flags & VU_FLAG_NEED_REPLY) &&
		   (b->protocol & (1ULL << VU_PF_REPLY_ACK));
	int rc, i, drop = 0;

	if (b->debug)
		fprintf(stderr, "vhost-user: request %u (%s) size %u flags 0x%x fds %d u64 0x%llx\n",
			m->h.request, r ? r->name : "?", m->h.size, m->h.flags,
			nfds, (unsigned long long)m->p.u64);
	if (!r) {
		fprintf(stderr, "vhost-user: request %u not supported\n",
			m->h.request);
		rc = -EOPNOTSUPP;
	} else if ((rc = check_framing(r, m, nfds))) {
		drop = -1;
	} else if (r->flags & VR_UNLOCKED) {
		/*
		 * IOTLB messages only touch the shadow, which the worker
		 * reads under RCU: they do not stop the worker (an
		 * invalidation waits for its grace period only).
		 */
		rc = handle(b, r, m, fds, nfds);
	} else {
		pthread_mutex_lock(&b->lock);
		rc = handle(b, r, m, fds, nfds);
		pthread_mutex_unlock(&b->lock);
	}
	for (i = 0; i < nfds; i++)
		if (fds[i] >= 0)
			close(fds[i]);
	if (rc && r)
		fprintf(stderr, "vhost-user: %s failed: %s\n", r->name,
			strerror(-rc));
	if (drop || (r && (r->flags & VR_REPLIES) && rc))
		return -1;		/* an answer the front-end waits for */
	if (ack && !(r && (r->flags & VR_REPLIES))) {
		m->p.u64 = rc ? 1 : 0;
		if (reply(b, m, 8))
			return -1;
	}
	return 0;
}

static void disconnect(struct vu_backend *b)
{
	int i;

	pthread_mutex_lock(&b->lock);
	/* The next front-end inherits nothing of this one's queues. */
	for (i = 0; i < 2 * VU_MAX_QP; i++) {
		struct vu_queue *q = &b->q[i];

		stop_queue(q);
		if (q->call >= 0)
			close(q->call);
		vq_fini(&q->vq);
		memset(q, 0, sizeof(*q));
		q->kick = q->call = -1;
	}
	drop_memory(b);
	if (b->req_fd >= 0)
		close(b->req_fd);
	b->req_fd = -1;
	b->features = b->protocol = 0;
	for (i = 0; i < VU_MAX_QP; i++)
		b->nq[i].txlen = 0;
	pthread_mutex_unlock(&b->lock);
	pthread_mutex_lock(&b->conn_lock);
	close(b->conn);
	b->conn = -1;
	pthread_mutex_unlock(&b->conn_lock);
}

/*
 * accept() failed. Out of descriptors or memory (a local user can open
 * connections until the process has no descriptor left), the pending
 * connection stays queued and accept() would fail again at once: wait a
 * little before the next try rather than spin, and say so once per run
 * of failures. An aborted connection or a signal: try again now.
 */
static void accept_failed(struct vu_backend *b, int e, bool *failing)
{
	if (e == EINTR || e == ECONNABORTED || e == EAGAIN ||
	    __atomic_load_n(&b->stop, __ATOMIC_ACQUIRE))
		return;		/* stopping: the loop ends */
	stat_add(&b->st.accept_failures);
	if (!*failing)
		fprintf(stderr, "vhost-user: accept: %s; trying again every %d ms\n",
			strerror(e), VU_ACCEPT_RETRY_MS);
	*failing = true;
	poll(NULL, 0, VU_ACCEPT_RETRY_MS);
}

/*
 * @path as an O_PATH descriptor, no symbolic link followed anywhere in it
 * (ELOOP); a last component that is a link comes back as the link. On a
 * kernel without openat2 (before 5.6), only the last component is held.
 */
static int open_nofollow(const char *path)
{
	struct open_how how = {
		.flags = O_PATH | O_NOFOLLOW | O_CLOEXEC,
		.resolve = RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS,
	};
	int fd = (int)syscall(SYS_openat2, AT_FDCWD, path, &how, sizeof(how));

	if (fd < 0 && errno == ENOSYS)
		fd = open(path, O_PATH | O_NOFOLLOW | O_CLOEXEC);
	return fd;
}

/* A socket file or a listener we may trust: our user's, or root's. */
/*
 * Whether @uid is this process's user or root; if not, @why (@n bytes)
 * says so, naming @who.
 */
static bool trusted_uid(uid_t uid, const char *who, char *why, size_t n)
{
	if (uid == 0 || uid == geteuid())
		return true;
	snprintf(why, n,
		 "%s uid %u, neither this process's user nor root: refused",
		 who, (unsigned int)uid);
	return false;
}

/*
 * VU_CLIENT: one try at connecting to the front-end's socket. The path is
 * opened without following any symbolic link, in a directory part or
 * the last (openat2 RESOLVE_NO_SYMLINKS, O_PATH | O_NOFOLLOW), and must
 * be a socket owned by this process's user or root with one name only
 * (no hard link made to another's), connected to through /proc/self/fd:
 * a link planted in the path cannot point the backend at another
 * service's or another VM's socket. The listener must run as this
 * process's user or as root (SO_PEERCRED): in a directory others may
 * write (/tmp), anyone could otherwise listen at the path and become the
 * front-end. Non-blocking, so a listener whose
 * queue is full (EAGAIN) cannot hold the control thread, and stop is seen
 * within VU_CONNECT_RETRY_MS; the connection is made blocking once it is
 * up. -1 after a failed try (counted, said once per run of failures,
 * then a pause).
 */
static int client_connect(struct vu_backend *b, bool *failing)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct ucred cred;
	socklen_t clen = sizeof(cred);
	char why[128] = "";
	struct stat st;
	int c = -1, p, e = 0;

	p = open_nofollow(b->path);
	if (p < 0) {
		e = errno;
		if (e == ELOOP)
			snprintf(why, sizeof(why), "%s",
				 "a symbolic link in the path: refused");
		goto fail;
	}
	if (fstat(p, &st)) {
		e = errno;
		goto fail;
	}
	if (!S_ISSOCK(st.st_mode)) {
		snprintf(why, sizeof(why), "%s", S_ISLNK(st.st_mode) ?
			 "a symbolic link, not the front-end's socket: refused" :
			 "not a socket");
		goto fail;
	}
	if (!trusted_uid(st.st_uid, "the socket is owned by", why, sizeof(why)))
		goto fail;
	if (st.st_nlink != 1) {
		snprintf(why, sizeof(why),
			 "the socket has %u names (a hard link): refused",
			 (unsigned int)st.st_nlink);
		goto fail;
	}
	snprintf(sa.sun_path, sizeof(sa.sun_path), "/proc/self/fd/%d", p);
	c = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (c < 0 || connect(c, (struct sockaddr *)&sa, sizeof(sa))) {
		e = errno;
		goto fail;
	}
	if (getsockopt(c, SOL_SOCKET, SO_PEERCRED, &cred, &clen)) {
		e = errno;
		goto fail;
	}
	if (!trusted_uid(cred.uid, "the listener runs as", why, sizeof(why)))
		goto fail;
	if (fcntl(c, F_SETFL, fcntl(c, F_GETFL) & ~O_NONBLOCK)) {
		e = errno;
		goto fail;
	}
	close(p);
	return c;
fail:
	if (c >= 0)
		close(c);
	if (p >= 0)
		close(p);
	if (__atomic_load_n(&b->stop, __ATOMIC_ACQUIRE))
		return -1;
	stat_add(&b->st.connect_failures);
	if (!*failing)
		fprintf(stderr, "vhost-user: connect to %s: %s; trying again every %d ms\n",
			b->path, why[0] ? why : strerror(e), VU_CONNECT_RETRY_MS);
	*failing = true;
	poll(NULL, 0, VU_CONNECT_RETRY_MS);
	return -1;
}

static void *control(void *arg)
{
	struct vu_backend *b = arg;
	struct vu_msg *m = &b->msg;
	bool failing = false, client = b->flags & VU_CLIENT;

	while (!__atomic_load_n(&b->stop, __ATOMIC_ACQUIRE)) {
		int c = client ? client_connect(b, &failing) :
			accept4(b->listen_fd, NULL, NULL, SOCK_CLOEXEC);

		if (c < 0) {
			if (!client)
				accept_failed(b, errno, &failing);
			continue;
		}
		if (failing && client)
			fprintf(stderr, "vhost-user: connected to %s\n", b->path);
		failing = false;
		pthread_mutex_lock(&b->conn_lock);
		if (__atomic_load_n(&b->stop, __ATOMIC_ACQUIRE)) {
			pthread_mutex_unlock(&b->conn_lock);
			close(c);
			break;
		}
		b->conn = c;
		pthread_mutex_unlock(&b->conn_lock);
		stat_add(&b->st.connections);
		for (;;) {
			int fds[VU_MAX_FDS], nfds;

			if (recv_msg(b->conn, m, fds, &nfds) ||
			    process(b, m, fds, nfds))
				break;
		}
		disconnect(b);
		/*
		 * A front-end that accepts and hangs up at once must not make
		 * the client spin: the next connect waits a little.
		 */
		if (client && !__atomic_load_n(&b->stop, __ATOMIC_ACQUIRE))
			poll(NULL, 0, VU_CONNECT_RETRY_MS);
	}
	return NULL;
}

static void backend_free(struct vu_backend *b);

/*
 * A backend's state without socket or threads: the fast path (shadow-only
 * backend, shadow, batcher) and no queue or memory. NULL on failure.
 */
static struct vu_backend *backend_new(const struct vu_app *apps,
				      uint32_t npairs, uint32_t flags)
{
	struct ioasid_fp_batcher_cfg cfg = { .size = sizeof(cfg) };
	struct vu_backend *b = calloc(1, sizeof(*b));

	if (!b)
		return NULL;
	b->app = apps[0];
	b->npairs = npairs;
	for (uint32_t i = 0; i < npairs; i++)
		b->nq[i].app = apps[i];
	b->flags = flags;
	b->listen_fd = b->conn = b->req_fd = -1;
	for (uint32_t i = 0; i < 2 * VU_MAX_QP; i++)
		b->q[i].kick = b->q[i].call = -1;
	pthread_mutex_init(&b->mq.lock, NULL);
	pthread_mutex_init(&b->lock, NULL);
	pthread_mutex_init(&b->conn_lock, NULL);
	if (ioasid_fp_backend_none(&b->be) ||
	    ioasid_fp_shadow_create(&b->sh) ||
	    ioasid_fp_batcher_create(b->sh, b->be, &cfg, &b->b)) {
		backend_free(b);
		return NULL;
	}
	return b;
}

/* Free what backend_new() made, and the queues' memory (no threads left). */
static void backend_free(struct vu_backend *b)
{
	for (int i = 0; i < 2 * VU_MAX_QP; i++)
		vq_fini(&b->q[i].vq);
	ioasid_fp_batcher_destroy(b->b);
	ioasid_fp_shadow_destroy(b->sh);
	ioasid_fp_backend_destroy(b->be);
	pthread_mutex_destroy(&b->mq.lock);
	pthread_mutex_destroy(&b->lock);
	pthread_mutex_destroy(&b->conn_lock);
	free(b);
}

/*
 * Is anyone listening on @sa? 0 nobody (stale), -EADDRINUSE someone, else
 * why it cannot tell. A non-blocking connect, so a listener that never
 * accepts cannot hold the caller: AF_UNIX answers at once (queued, EAGAIN
 * for a full queue, ECONNREFUSED for a socket nobody listens on); should
 * it say EINPROGRESS, the answer is waited for VU_PROBE_MS and no longer,
 * and a late one means in use.
 */
#define VU_PROBE_MS		1000
#define VU_PROBE_AGAIN_MS	100	/* between two looks at a socket */

static int path_probe(const struct sockaddr_un *sa)
{
	int s = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	int rc;

	if (s < 0)
		return -errno;
	rc = connect(s, (const struct sockaddr *)sa, sizeof(*sa)) ? -errno : 0;
	if (rc == -EINPROGRESS) {
		struct pollfd p = { .fd = s, .events = POLLOUT };
		socklen_t elen = sizeof(int);
		int e = 0;

		if (poll(&p, 1, VU_PROBE_MS) != 1)
			rc = -EADDRINUSE;
		else if (getsockopt(s, SOL_SOCKET, SO_ERROR, &e, &elen))
			rc = -errno;
		else
			rc = -e;
	}
	close(s);
	if (!rc || rc == -EAGAIN)
		return -EADDRINUSE;
	return rc == -ECONNREFUSED ? 0 : rc;
}

/*
 * A socket is stale when nobody listens on it twice, VU_PROBE_AGAIN_MS
 * apart (a process between its bind and its listen is not mistaken for a
 * dead one), and it is removed only if the path still names the same
 * socket file as when it was first looked at: never a file that is not a
 * socket, never one put there in between.
 */
int vu_path_claim(const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct stat st, now;
	int rc;

	if (!path[0])
		return -EINVAL;
	if (strlen(path) >= sizeof(sa.sun_path))
		return -ENAMETOOLONG;
	if (lstat(path, &st))
		return errno == ENOENT ? 0 : -errno;
	if (!S_ISSOCK(st.st_mode))
		return -EEXIST;
	strcpy(sa.sun_path, path);
	for (int look = 0; look < 2; look++) {
		rc = path_probe(&sa);
		if (rc == -ENOENT)
			break;		/* gone meanwhile: the lstat below says */
		if (rc)
			return rc;
		if (!look)
			poll(NULL, 0, VU_PROBE_AGAIN_MS);
	}
	if (lstat(path, &now))
		return errno == ENOENT ? 0 : -errno;
	if (!S_ISSOCK(now.st_mode) || now.st_dev != st.st_dev ||
	    now.st_ino != st.st_ino)
		return -EBUSY;
	return unlink(path) && errno != ENOENT ? -errno : 0;
}

const char *vu_path_why(int rc)
{
	switch (rc) {
	case -EADDRINUSE:
		return "in use (another process listens on it)";
	case -EEXIST:
		return "exists and is not a socket";
	case -EBUSY:
		return "replaced while it was checked; left alone";
	case -EINVAL:
		return "empty path";
	default:
		return strerror(-rc);
	}
}

/* Remove the socket file only if the path still names the one we bound. */
static void path_unlink_own(struct vu_backend *b)
{
	struct stat st;

	if (lstat(b->path, &st))
		return;
	if (S_ISSOCK(st.st_mode) && st.st_dev == b->dev && st.st_ino == b->ino)
		unlink(b->path);
	else
		fprintf(stderr, "vhost-user: %s is no longer our socket; left in place\n",
			b->path);
}

int vu_backend_start(const char *path, const struct vu_app *app,
		     uint32_t flags, struct vu_backend **out)
{
	return vu_backend_start_mq(path, app, 1, flags, out);
}

int vu_backend_start_mq(const char *path, const struct vu_app *apps,
			uint32_t npairs, uint32_t flags,
			struct vu_backend **out)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct vu_backend *b;
	int rc;

	if (!npairs || npairs > VU_MAX_QP) {
		fprintf(stderr, "vhost-user: %s: %u queue pairs, must be 1 to %u\n",
			path, npairs, VU_MAX_QP);
		return -EINVAL;
	}
	if (strlen(path) >= sizeof(sa.sun_path))
		return -ENAMETOOLONG;
	if ((flags & VU_CLIENT) && !path[0]) {
		fprintf(stderr, "vhost-user: client mode needs the front-end's socket path\n");
		return -EINVAL;
	}
	b = backend_new(apps, npairs, flags);
	if (!b)
		return -ENOMEM;
	b->debug = getenv("IOASID_VU_DEBUG") != NULL;
	snprintf(b->path, sizeof(b->path), "%s", path);
	strcpy(sa.sun_path, path);
	if (flags & VU_CLIENT)
		goto threads;	/* nothing of ours at the path */
	rc = vu_path_claim(path);
	if (rc) {
		fprintf(stderr, "vhost-user: %s: %s\n", path, vu_path_why(rc));
		goto err;
	}
	b->listen_fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (b->listen_fd < 0 ||
	    bind(b->listen_fd, (struct sockaddr *)&sa, sizeof(sa))) {
		rc = -errno;
		goto err;
	}
	/*
	 * Listening at once: another starter's probe (two looks, 100 ms
	 * apart) then finds this socket live, not stale, and leaves it.
	 */
	rc = listen(b->listen_fd, 1) ? -errno : 0;
	{
		struct stat st;

		if (lstat(path, &st) || !S_ISSOCK(st.st_mode)) {
			rc = -EBUSY;	/* replaced already: not ours */
			goto err;
		}
		b->dev = st.st_dev;
		b->ino = st.st_ino;
		b->bound = true;
	}
	if (rc)
		goto err;
threads:
	if (pthread_create(&b->worker, NULL, worker, b)) {
		rc = -EAGAIN;
		goto err;
	}
	if (pthread_create(&b->ctl, NULL, control, b)) {
		__atomic_store_n(&b->stop, true, __ATOMIC_RELEASE);
		pthread_join(b->worker, NULL);
		rc = -EAGAIN;
		goto err;
	}
	*out = b;
	return 0;
err:
	if (b->bound)
		path_unlink_own(b);
	if (b->listen_fd >= 0)
		close(b->listen_fd);
	backend_free(b);
	return rc;
}

void vu_backend_stats(struct vu_backend *b, struct vu_stats *st)
{
	const struct vu_stats *s = &b->st;

	pthread_mutex_lock(&b->lock);
	*st = (struct vu_stats){
		.iotlb_updates = stat_read(&s->iotlb_updates),
		.iotlb_invalidates = stat_read(&s->iotlb_invalidates),
		.misses = stat_read(&s->misses),
		.misses_deferred = stat_read(&s->misses_deferred),
		.misses_overflow = stat_read(&s->misses_overflow),
		.connections = stat_read(&s->connections),
		.accept_failures = stat_read(&s->accept_failures),
		.connect_failures = stat_read(&s->connect_failures),
		.broken = s->broken,
		.running = s->running,
		.busy_ns = stat_read(&s->busy_ns),
	};
	st->pairs = b->npairs;
	for (uint32_t i = 0; i < b->npairs; i++) {
		st->pair_rx[i] = b->nq[i].rx_packets;
		st->pair_tx[i] = b->nq[i].tx_packets;
		st->rx_packets += b->nq[i].rx_packets;
		st->rx_short += b->nq[i].rx_short;
		st->tx_packets += b->nq[i].tx_packets;
	}
	pthread_mutex_unlock(&b->lock);
}

void vu_backend_stop(struct vu_backend *b)
{
	__atomic_store_n(&b->stop, true, __ATOMIC_RELEASE);
	if (b->listen_fd >= 0)
		shutdown(b->listen_fd, SHUT_RDWR);
	pthread_mutex_lock(&b->conn_lock);
	if (b->conn >= 0)
		shutdown(b->conn, SHUT_RDWR);
	pthread_mutex_unlock(&b->conn_lock);
	pthread_join(b->ctl, NULL);
	pthread_join(b->worker, NULL);
	if (b->listen_fd >= 0)
		close(b->listen_fd);
	if (b->bound)
		path_unlink_own(b);
	backend_free(b);
}

/* ---- a session without threads or socket: the fuzzer's entry ---- */

int vu_session_open(const struct vu_app *app, uint32_t flags, int conn,
		    struct vu_backend **out)
{
	return vu_session_open_mq(app, 1, flags, conn, out);
}

int vu_session_open_mq(const struct vu_app *apps, uint32_t npairs,
		       uint32_t flags, int conn, struct vu_backend **out)
{
	struct vu_backend *b;
	int rc;

	if (!npairs || npairs > VU_MAX_QP)
		return -EINVAL;
	b = backend_new(apps, npairs, flags);
	if (!b)
		return -ENOMEM;
	b->conn = conn;
	rc = ioasid_fp_reader_register(b->sh, &b->reader);
	if (rc) {
		b->reader = NULL;
		backend_free(b);
		return rc;
	}
	*out = b;
	return 0;
}

int vu_session_msg(struct vu_backend *b, struct vu_msg *m, int *fds, int nfds)
{
	return process(b, m, fds, nfds);
}

int vu_session_pass(struct vu_backend *b)
{
	return worker_pass(b, b->reader);
}

void vu_session_close(struct vu_backend *b)
{
	b->conn = dup(b->conn);		/* disconnect() closes its own */
	disconnect(b);
	ioasid_fp_reader_unregister(b->reader);
	backend_free(b);
}
