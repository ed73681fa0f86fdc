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
	uint64_t last_miss;
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

static void send_miss(void *arg, uint64_t iova, uint64_t len, uint32_t perm)
{
	struct vu_backend *b = arg;
	struct vu_msg m;

	(void)len;
	if (b->req_fd < 0 || iova == b->last_miss)
		return;
	b->last_miss = iova;
	memset(&m, 0, sizeof(m));
	m.h.request = VU_BACKEND_IOTLB_MSG;
	m.h.flags = VU_VERSION;
	m.h.size = sizeof(m.p.iotlb);
	m.p.iotlb.iova = iova;
	m.p.iotlb.perm = (uint8_t)((perm & IOASID_FP_READ ? VHOST_ACCESS_RO : 0) |
				   (perm & IOASID_FP_WRITE ? VHOST_ACCESS_WO : 0));
	m.p.iotlb.type = VHOST_IOTLB_MISS;
	if (send(b->req_fd, &m, sizeof(m.h) + m.h.size, MSG_NOSIGNAL) > 0)
		b->st.misses++;
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
	while (!b->stop) {
		int work = 0, i;
		uint32_t running = 0, broken = 0;

		ioasid_fp_reader_offline(r);
		pthread_mutex_lock(&b->lock);
		ioasid_fp_reader_online(r);
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
		rc = ioasid_fp_map(b->b, t->iova, hva, t->size, perm);
		if (rc) {
			/* An update over an older one replaces it. */
			ioasid_fp_unmap(b->b, t->iova, t->size, NULL);
			rc = ioasid_fp_map(b->b, t->iova, hva, t->size, perm);
		}
		b->last_miss = UINT64_MAX;
		return rc;
	case VHOST_IOTLB_INVALIDATE:
		b->st.iotlb_invalidates++;
		return ioasid_fp_unmap(b->b, t->iova, t->size, NULL);
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
	b->last_miss = UINT64_MAX;
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
	pthread_mutex_destroy(&b->lock);
	free(b);
}
