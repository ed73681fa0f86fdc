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
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "vhost_user.h"
#include "vhost_user_proto.h"
#include "netq.h"
#include "vring.h"

struct vu_region {
	uint64_t gpa, size, uaddr;
	uint8_t *hva;
	void *map;
	size_t map_len;
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
	struct vu_app app;
	uint32_t flags;
	int listen_fd, conn, req_fd;
	pthread_t ctl, worker;
	volatile bool stop;
	pthread_mutex_t lock;
	uint64_t features, protocol;
	struct vu_region reg[VU_MAX_REGIONS];
	uint32_t nreg;
	struct vu_queue q[2];
	struct ioasid_fp_backend *be;
	struct ioasid_fp_shadow *sh;
	struct ioasid_fp_batcher *b;
	struct vu_stats st;
	struct vu_misses mq;
	struct ioasid_fp_reader *reader;	/* the worker's */
	struct netq nq;			/* the worker's packets */
	struct vu_msg msg;		/* the control thread's */
	bool debug;			/* $IOASID_VU_DEBUG: log each message */
};

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
				b->st.misses_deferred++;
			return;
		}
		/* Sent, or begun: the rest goes out before anything else. */
		mq->out_off = (uint32_t)n;
		e->sent = true;
		mq->unsent--;
		b->st.misses++;
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
		b->st.misses_overflow++;	/* retried when one is answered */
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

static void *worker(void *arg)
{
	struct vu_backend *b = arg;
	struct ioasid_fp_reader *r;

	if (ioasid_fp_reader_register(b->sh, &r))
		return NULL;
	b->reader = r;
	while (!b->stop) {
		int work = 0, i;
		uint32_t running = 0, broken = 0;

		ioasid_fp_reader_offline(r);
		pthread_mutex_lock(&b->lock);
		ioasid_fp_reader_online(r);
		miss_retry(b);
		for (i = 0; i < 2; i++) {
			struct vu_queue *q = &b->q[i];

			if (!q->running || !q->enabled)
				continue;
			if (q->vq.r != r)
				q->vq.r = r;
			if (vq_burst_begin(&q->vq) == 0) {
				bool tell = false;

				b->nq.mergeable = b->features &
						  (1ULL << VIRTIO_NET_F_MRG_RXBUF);
				work += i ? netq_serve_tx(&b->nq, &q->vq, &tell) :
					    netq_serve_rx(&b->nq, &q->vq, &tell);
				if (tell)
					notify(q);
			}
			running += !q->vq.broken;
			broken += q->vq.broken;
		}
		b->st.running = running;
		b->st.broken = broken;
		pthread_mutex_unlock(&b->lock);
		ioasid_fp_reader_quiescent(r);
		if (!work) {
			ioasid_fp_reader_offline(r);
			usleep(50);
			ioasid_fp_reader_online(r);
		}
	}
	b->reader = NULL;
	ioasid_fp_reader_unregister(r);
	return NULL;
}

/* ---- the control thread ---- */

static int recv_msg(int fd, struct vu_msg *m, int *fds, int *nfds)
{
	char cbuf[CMSG_SPACE(VU_MAX_FDS * sizeof(int))];
	struct iovec iov = { &m->h, sizeof(m->h) };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1,
			     .msg_control = cbuf,
			     .msg_controllen = sizeof(cbuf) };
	struct cmsghdr *c;
	ssize_t n;

	*nfds = 0;
	n = recvmsg(fd, &mh, MSG_CMSG_CLOEXEC);
	if (n != sizeof(m->h))
		return -1;
	for (c = CMSG_FIRSTHDR(&mh); c; c = CMSG_NXTHDR(&mh, c)) {
		if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS) {
			int k = (int)((c->cmsg_len - CMSG_LEN(0)) / sizeof(int));

			memcpy(fds, CMSG_DATA(c), (size_t)k * sizeof(int));
			*nfds = k;
		}
	}
	if (m->h.size > sizeof(m->p))
		return -1;
	if (m->h.size && recv(fd, &m->p, m->h.size, MSG_WAITALL) !=
				 (ssize_t)m->h.size)
		return -1;
	return 0;
}

static int reply(struct vu_backend *b, struct vu_msg *m, uint32_t size)
{
	m->h.flags = VU_VERSION | VU_FLAG_REPLY;
	m->h.size = size;
	return send(b->conn, m, sizeof(m->h) + size, MSG_NOSIGNAL) ==
	       (ssize_t)(sizeof(m->h) + size) ? 0 : -1;
}

static void stop_queue(struct vu_queue *q)
{
	q->running = false;
	if (q->kick >= 0)
		close(q->kick);
	q->kick = -1;
}

/* Forget every translation and every region (caller holds the lock). */
static void drop_memory(struct vu_backend *b)
{
	uint32_t i;

	ioasid_fp_unmap(b->b, 0, UINT64_MAX, NULL);
	miss_settle(b, UINT64_MAX, 0);
	for (i = 0; i < b->nreg; i++)
		munmap(b->reg[i].map, b->reg[i].map_len);
	b->nreg = 0;
}

static int set_mem_table(struct vu_backend *b, struct vu_msg *m, int *fds,
			 int nfds)
{
	uint32_t i, n = m->p.mem.nregions;

	if (n > VU_MAX_REGIONS || (int)n != nfds)
		return -EINVAL;
	drop_memory(b);
	for (i = 0; i < n; i++) {
		struct vu_region_desc dd, *d = &dd;
		struct vu_region *r = &b->reg[i];
		struct stat s;
		size_t len, align = 4096;

		memcpy(d, m->p.raw + 8 + i * sizeof(*d), sizeof(*d));
		len = d->size + d->offset;

		if (!fstat(fds[i], &s) && s.st_blksize > 0)
			align = (size_t)s.st_blksize;
		len = (len + align - 1) / align * align;
		r->map = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED,
			      fds[i], 0);
		close(fds[i]);
		fds[i] = -1;
		if (r->map == MAP_FAILED) {
			b->nreg = i;
			return -errno;
		}
		r->map_len = len;
		r->hva = (uint8_t *)r->map + d->offset;
		r->gpa = d->gpa;
		r->size = d->size;
		r->uaddr = d->uaddr;
		b->nreg = i + 1;
		/* Without an IOMMU the memory table is the translation. */
		if (!iommu_on(b) &&
		    ioasid_fp_map(b->b, r->gpa, r->hva, r->size,
				  IOASID_FP_READ | IOASID_FP_WRITE))
			return -EINVAL;
	}
	return 0;
}

static int iotlb_msg(struct vu_backend *b, struct vhost_iotlb_msg *t)
{
	uint32_t perm = (t->perm & VHOST_ACCESS_RO ? IOASID_FP_READ : 0) |
			(t->perm & VHOST_ACCESS_WO ? IOASID_FP_WRITE : 0);
	uint8_t *hva;
	int rc;

	switch (t->type) {
	case VHOST_IOTLB_UPDATE:
		hva = uaddr_hva(b, t->uaddr, t->size);
		if (!hva || !t->size || !perm)
			return -EINVAL;
		b->st.iotlb_updates++;
		/*
		 * An update over older ones replaces them on its range, in
		 * one publish (the shadow's rule): QEMU sends such updates
		 * whenever a guest maps a page again before unmapping it.
		 */
		rc = ioasid_fp_map(b->b, t->iova, hva, t->size, perm);
		miss_settle(b, t->iova, t->size);
		return rc;
	case VHOST_IOTLB_INVALIDATE:
		b->st.iotlb_invalidates++;
		rc = ioasid_fp_unmap(b->b, t->iova, t->size, NULL);
		miss_settle(b, t->iova, t->size);
		return rc;
	default:
		return -EINVAL;
	}
}

static uint64_t offered(struct vu_backend *b)
{
	uint64_t f = (1ULL << VIRTIO_F_VERSION_1) |
		     (1ULL << VIRTIO_NET_F_MRG_RXBUF) |
		     (1ULL << VIRTIO_RING_F_INDIRECT_DESC) |
		     (1ULL << VIRTIO_RING_F_EVENT_IDX) |
		     (1ULL << VIRTIO_F_RING_PACKED) |
		     (1ULL << VU_F_PROTOCOL_FEATURES);

	if (b->flags & VU_OFFER_IOMMU)
		f |= 1ULL << VIRTIO_F_ACCESS_PLATFORM;
	return f;
}

static void start_queue(struct vu_backend *b, struct vu_queue *q)
{
	struct vq_config c = {
		.size = q->cfg.size,
		.features = (b->features & (1ULL << VIRTIO_RING_F_INDIRECT_DESC) ?
			     VQ_F_INDIRECT : 0) |
			    (b->features & (1ULL << VIRTIO_RING_F_EVENT_IDX) ?
			     VQ_F_EVENT_IDX : 0) |
			    (b->features & (1ULL << VIRTIO_F_RING_PACKED) ?
			     VQ_F_PACKED : 0),
		.desc = ring_iova(b, q->desc_addr),
		.avail = ring_iova(b, q->avail_addr),
		.used = ring_iova(b, q->used_addr),
		.miss = send_miss,
		.miss_arg = b,
	};

	vq_fini(&q->vq);
	if (vq_init(&q->vq, &c, NULL)) {
		fprintf(stderr, "vhost-user: queue of size %u refused\n", c.size);
		return;
	}
	if (c.features & VQ_F_PACKED) {
		/* Index in bits 0-14, its wrap counter in bit 15. */
		q->vq.last_avail = q->vq.used_idx = q->base & 0x7fff;
		q->vq.avail_wrap = q->vq.used_wrap = q->base >> 15;
	} else {
		q->vq.last_avail = q->base;
		q->vq.used_idx = q->base;
	}
	q->running = true;
	/* Without protocol features a started ring is enabled. */
	if (!(b->features & (1ULL << VU_F_PROTOCOL_FEATURES)))
		q->enabled = true;
}

/* One message; returns whether a REPLY_ACK should say failure. */
static int handle(struct vu_backend *b, struct vu_msg *m, int *fds, int nfds)
{
	uint32_t idx;
	struct vu_queue *q = NULL;
	int rc = 0;

	switch (m->h.request) {
	case VU_SET_VRING_NUM: case VU_SET_VRING_ADDR: case VU_SET_VRING_BASE:
	case VU_GET_VRING_BASE: case VU_SET_VRING_ENABLE:
		idx = m->p.state.index;
		if (idx >= 2)
			return -EINVAL;
		q = &b->q[idx];
		break;
	case VU_SET_VRING_KICK: case VU_SET_VRING_CALL: case VU_SET_VRING_ERR:
		idx = (uint32_t)(m->p.u64 & 0xff);
		if (idx >= 2)
			return -EINVAL;
		q = &b->q[idx];
		break;
	}
	switch (m->h.request) {
	case VU_GET_FEATURES:
		m->p.u64 = offered(b);
		return reply(b, m, 8);
	case VU_SET_FEATURES:
		if (m->p.u64 & ~offered(b))
			return -EINVAL;
		b->features = m->p.u64;
		return 0;
	case VU_GET_PROTOCOL_FEATURES:
		m->p.u64 = (1ULL << VU_PF_REPLY_ACK) |
			   (b->flags & VU_OFFER_IOMMU ?
			    1ULL << VU_PF_BACKEND_REQ : 0);
		return reply(b, m, 8);
	case VU_SET_PROTOCOL_FEATURES:
		b->protocol = m->p.u64;
		return 0;
	case VU_GET_QUEUE_NUM:
		m->p.u64 = 1;
		return reply(b, m, 8);
	case VU_SET_OWNER: case VU_RESET_OWNER: case VU_SEND_RARP:
	case VU_NET_SET_MTU:
		return 0;
	case VU_SET_MEM_TABLE:
		rc = set_mem_table(b, m, fds, nfds);
		return rc;
	case VU_SET_VRING_NUM:
		if (!m->p.state.num || m->p.state.num > VQ_MAX_SIZE ||
		    (m->p.state.num & (m->p.state.num - 1)))
			return -EINVAL;
		q->cfg.size = (uint16_t)m->p.state.num;
		return 0;
	case VU_SET_VRING_ADDR:
		q->desc_addr = m->p.addr.desc_user_addr;
		q->avail_addr = m->p.addr.avail_user_addr;
		q->used_addr = m->p.addr.used_user_addr;
		return 0;
	case VU_SET_VRING_BASE:
		q->base = (uint16_t)m->p.state.num;
		if ((b->features & (1ULL << VIRTIO_F_RING_PACKED)) &&
		    !(q->base & 0x7fff) && !m->p.state.num)
			q->base = 0x8000;	/* a new packed ring: wrap 1 */
		return 0;
	case VU_GET_VRING_BASE:
		m->p.state.num = !q->running ? q->base :
				 q->vq.c.features & VQ_F_PACKED ?
				 (uint32_t)(q->vq.last_avail |
					    (q->vq.avail_wrap ? 0x8000 : 0)) :
				 q->vq.last_avail;
		stop_queue(q);
		q->enabled = false;
		return reply(b, m, sizeof(m->p.state));
	case VU_SET_VRING_KICK:
		stop_queue(q);
		q->kick = (m->p.u64 & VU_VRING_NOFD) || nfds < 1 ? -1 : fds[0];
		if (q->kick >= 0)
			fds[0] = -1;
		start_queue(b, q);
		return 0;
	case VU_SET_VRING_CALL:
		if (q->call >= 0)
			close(q->call);
		q->call = (m->p.u64 & VU_VRING_NOFD) || nfds < 1 ? -1 : fds[0];
		if (q->call >= 0)
			fds[0] = -1;
		return 0;
	case VU_SET_VRING_ERR:
		return 0;
	case VU_SET_VRING_ENABLE:
		q->enabled = m->p.state.num != 0;
		return 0;
	case VU_SET_BACKEND_REQ_FD:
		if (nfds < 1)
			return -EINVAL;
		if (b->req_fd >= 0)
			close(b->req_fd);
		b->req_fd = fds[0];
		fds[0] = -1;
		miss_settle(b, UINT64_MAX, 0);	/* a new channel */
		return 0;
	case VU_IOTLB_MSG:
		{
			struct vhost_iotlb_msg t;

			memcpy(&t, m->p.raw, sizeof(t));
			return iotlb_msg(b, &t);
		}
	default:
		fprintf(stderr, "vhost-user: request %u not supported\n",
			m->h.request);
		return -EOPNOTSUPP;
	}
}

static void disconnect(struct vu_backend *b)
{
	int i;

	pthread_mutex_lock(&b->lock);
	for (i = 0; i < 2; i++) {
		stop_queue(&b->q[i]);
		b->q[i].enabled = false;
		if (b->q[i].call >= 0)
			close(b->q[i].call);
		b->q[i].call = -1;
	}
	drop_memory(b);
	if (b->req_fd >= 0)
		close(b->req_fd);
	b->req_fd = -1;
	b->features = b->protocol = 0;
	b->nq.txlen = 0;
	pthread_mutex_unlock(&b->lock);
	close(b->conn);
	b->conn = -1;
}

static void *control(void *arg)
{
	struct vu_backend *b = arg;
	struct vu_msg *m = &b->msg;

	while (!b->stop) {
		b->conn = accept4(b->listen_fd, NULL, NULL, SOCK_CLOEXEC);
		if (b->conn < 0)
			continue;
		b->st.connections++;
		for (;;) {
			int fds[VU_MAX_FDS], nfds, rc, i;
			bool ack, replied;

			if (recv_msg(b->conn, m, fds, &nfds))
				break;
			ack = (m->h.flags & VU_FLAG_NEED_REPLY) &&
			      (b->protocol & (1ULL << VU_PF_REPLY_ACK));
			replied = m->h.request == VU_GET_FEATURES ||
				  m->h.request == VU_GET_PROTOCOL_FEATURES ||
				  m->h.request == VU_GET_QUEUE_NUM ||
				  m->h.request == VU_GET_VRING_BASE;
			if (b->debug)
				fprintf(stderr, "vhost-user: request %u size %u flags 0x%x u64 0x%llx\n",
					m->h.request, m->h.size, m->h.flags,
					(unsigned long long)m->p.u64);
			/*
			 * IOTLB messages only touch the shadow, which the
			 * worker reads under RCU: they do not stop the worker
			 * (an invalidation waits for its grace period only).
			 */
			if (m->h.request == VU_IOTLB_MSG) {
				rc = handle(b, m, fds, nfds);
			} else {
				pthread_mutex_lock(&b->lock);
				rc = handle(b, m, fds, nfds);
				pthread_mutex_unlock(&b->lock);
			}
			for (i = 0; i < nfds; i++)
				if (fds[i] >= 0)
					close(fds[i]);
			if (rc)
				fprintf(stderr, "vhost-user: request %u failed: %s\n",
					m->h.request, strerror(-rc));
			if (ack && !replied) {
				m->p.u64 = rc ? 1 : 0;
				reply(b, m, 8);
			}
		}
		disconnect(b);
	}
	return NULL;
}

int vu_backend_start(const char *path, const struct vu_app *app,
		     uint32_t flags, struct vu_backend **out)
{
	struct ioasid_fp_batcher_cfg cfg = { .size = sizeof(cfg) };
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct vu_backend *b;
	int rc;

	if (strlen(path) >= sizeof(sa.sun_path))
		return -ENAMETOOLONG;
	b = calloc(1, sizeof(*b));
	if (!b)
		return -ENOMEM;
	b->app = *app;
	b->nq.app = *app;
	b->flags = flags;
	b->conn = b->req_fd = -1;
	b->q[0].kick = b->q[0].call = b->q[1].kick = b->q[1].call = -1;
	pthread_mutex_init(&b->mq.lock, NULL);
	b->debug = getenv("IOASID_VU_DEBUG") != NULL;
	pthread_mutex_init(&b->lock, NULL);
	snprintf(b->path, sizeof(b->path), "%s", path);
	strcpy(sa.sun_path, path);
	rc = ioasid_fp_backend_none(&b->be);
	if (!rc)
		rc = ioasid_fp_shadow_create(&b->sh);
	if (!rc)
		rc = ioasid_fp_batcher_create(b->sh, b->be, &cfg, &b->b);
	if (rc)
		goto err;
	unlink(path);
	b->listen_fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (b->listen_fd < 0 ||
	    bind(b->listen_fd, (struct sockaddr *)&sa, sizeof(sa)) ||
	    listen(b->listen_fd, 1)) {
		rc = -errno;
		goto err;
	}
	if (pthread_create(&b->worker, NULL, worker, b)) {
		rc = -EAGAIN;
		goto err;
	}
	if (pthread_create(&b->ctl, NULL, control, b)) {
		b->stop = true;
		pthread_join(b->worker, NULL);
		rc = -EAGAIN;
		goto err;
	}
	*out = b;
	return 0;
err:
	if (b->listen_fd > 0)
		close(b->listen_fd);
	if (b->b)
		ioasid_fp_batcher_destroy(b->b);
	if (b->sh)
		ioasid_fp_shadow_destroy(b->sh);
	if (b->be)
		ioasid_fp_backend_destroy(b->be);
	pthread_mutex_destroy(&b->mq.lock);
	pthread_mutex_destroy(&b->lock);
	free(b);
	return rc;
}

void vu_backend_stats(struct vu_backend *b, struct vu_stats *st)
{
	pthread_mutex_lock(&b->lock);
	*st = b->st;
	st->rx_packets = b->nq.rx_packets;
	st->tx_packets = b->nq.tx_packets;
	pthread_mutex_unlock(&b->lock);
}

void vu_backend_stop(struct vu_backend *b)
{
	int i;

	b->stop = true;
	shutdown(b->listen_fd, SHUT_RDWR);
	if (b->conn >= 0)
		shutdown(b->conn, SHUT_RDWR);
	pthread_join(b->ctl, NULL);
	pthread_join(b->worker, NULL);
	close(b->listen_fd);
	unlink(b->path);
	for (i = 0; i < 2; i++)
		vq_fini(&b->q[i].vq);
	ioasid_fp_batcher_destroy(b->b);
	ioasid_fp_shadow_destroy(b->sh);
	ioasid_fp_backend_destroy(b->be);
	pthread_mutex_destroy(&b->mq.lock);
	pthread_mutex_destroy(&b->lock);
	free(b);
}
