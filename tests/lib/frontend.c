// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/*
 * vhost-user front-end with the IOMMU variant (see frontend.h).
 *
 * Guest memory layout (one memfd): queue q's rings at q * 64 KiB
 * (descriptors, then the avail ring at +16 KiB, the used ring at +32 KiB),
 * packet buffers of VU_FBUF bytes from 1 MiB on, one per descriptor:
 * receive buffers first, then transmit buffers. Addresses the backend
 * sees are IOVAs (IOVA_BASE + offset) with an IOMMU, or our own virtual
 * addresses without one (the memory table's guest addresses are ours,
 * as DPDK's virtio_user does).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/virtio_config.h>
#include <linux/virtio_net.h>
#include <linux/virtio_ring.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "frontend.h"
#include "vhost_user_proto.h"
#include "virtio_features.h"
#include "vq_driver.h"

#define IOVA_BASE	0x100000000ULL
#define VU_FBUF		2048U
#define RING_AREA	0x10000ULL
#define BUF_BASE	0x100000ULL

struct fq {
	struct vqd vq;			/* driver side; transmit: free ids */
	int kick, call;
};

struct vu_front {
	struct vu_front_cfg c;
	int sock, req, memfd;
	uint8_t *mem;
	size_t mem_len;
	uint64_t features, protocol;
	uint64_t entry_len;
	uint64_t stride;		/* spread buffers: distance */
	uint16_t n;
	struct fq q[2];
	pthread_mutex_t lock;		/* the socket's request/reply order */
	struct vu_front_stats st;
	struct vu_msg msg;
};

static uint64_t addr_of(struct vu_front *f, uint64_t off)
{
	return f->c.iommu ? IOVA_BASE + off : (uint64_t)(uintptr_t)(f->mem + off);
}

static int send_fds(struct vu_front *f, struct vu_msg *m, const int *fds,
		    int nfds)
{
	char cbuf[CMSG_SPACE(VU_MAX_FDS * sizeof(int))];
	struct iovec iov = { m, sizeof(m->h) + m->h.size };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1 };
	struct cmsghdr *c;

	if (nfds) {
		memset(cbuf, 0, sizeof(cbuf));
		mh.msg_control = cbuf;
		mh.msg_controllen = CMSG_SPACE((size_t)nfds * sizeof(int));
		c = CMSG_FIRSTHDR(&mh);
		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_RIGHTS;
		c->cmsg_len = CMSG_LEN((size_t)nfds * sizeof(int));
		memcpy(CMSG_DATA(c), fds, (size_t)nfds * sizeof(int));
	}
	return sendmsg(f->sock, &mh, MSG_NOSIGNAL) == (ssize_t)iov.iov_len ?
		       0 : -EIO;
}

static int recv_reply(struct vu_front *f, struct vu_msg *m)
{
	if (recv(f->sock, &m->h, sizeof(m->h), MSG_WAITALL) != sizeof(m->h) ||
	    m->h.size > sizeof(m->p) ||
	    (m->h.size && recv(f->sock, &m->p, m->h.size, MSG_WAITALL) !=
				  (ssize_t)m->h.size))
		return -EIO;
	return 0;
}

/*
 * One request. @get: a reply carries a value back. Otherwise, with
 * REPLY_ACK negotiated, ask for an acknowledgement and check it.
 */
static int request(struct vu_front *f, uint32_t req, const void *payload,
		   uint32_t size, const int *fds, int nfds, uint64_t *get)
{
	struct vu_msg *m = &f->msg;
	bool ack = !get && (f->protocol & (1ULL << VU_PF_REPLY_ACK));
	int rc;

	pthread_mutex_lock(&f->lock);
	memset(&m->h, 0, sizeof(m->h));
	m->h.request = req;
	m->h.flags = VU_VERSION | (ack ? VU_FLAG_NEED_REPLY : 0);
	m->h.size = size;
	if (size)
		memcpy(&m->p, payload, size);
	rc = send_fds(f, m, fds, nfds);
	if (!rc && (get || ack)) {
		rc = recv_reply(f, m);
		if (!rc && get)
			*get = m->p.u64;
		if (!rc && ack && m->p.u64)
			rc = -EPROTO;
	}
	pthread_mutex_unlock(&f->lock);
	return rc;
}

static int req_u64(struct vu_front *f, uint32_t req, uint64_t v)
{
	return request(f, req, &v, sizeof(v), NULL, 0, NULL);
}

static int iotlb(struct vu_front *f, uint8_t type, uint32_t entry)
{
	struct vhost_iotlb_msg t = {
		.iova = IOVA_BASE + entry * f->entry_len,
		.size = f->entry_len,
		.uaddr = (uint64_t)(uintptr_t)(f->mem + entry * f->entry_len),
		.perm = VHOST_ACCESS_RW,
		.type = type,
	};

	if (entry * f->entry_len >= f->mem_len)
		return -EINVAL;
	if (type == VHOST_IOTLB_UPDATE)
		f->st.updates++;
	else
		f->st.invalidates++;
	return request(f, VU_IOTLB_MSG, &t, sizeof(t), NULL, 0, NULL);
}

void vu_front_serve(struct vu_front *f)
{
	struct {
		struct vu_hdr h;
		struct vhost_iotlb_msg t;
	} __attribute__((packed)) r;

	if (f->req < 0)
		return;
	while (recv(f->req, &r, sizeof(r), MSG_DONTWAIT) == sizeof(r)) {
		if (r.h.request != VU_BACKEND_IOTLB_MSG ||
		    r.t.type != VHOST_IOTLB_MISS || r.t.iova < IOVA_BASE)
			continue;
		if (!iotlb(f, VHOST_IOTLB_UPDATE,
			   (uint32_t)((r.t.iova - IOVA_BASE) / f->entry_len)))
			f->st.misses_served++;
		if (r.h.flags & VU_FLAG_NEED_REPLY) {
			uint64_t ok = 0;

			r.h.flags = VU_VERSION | VU_FLAG_REPLY;
			r.h.size = 8;
			if (send(f->req, &r.h, sizeof(r.h), MSG_NOSIGNAL) < 0 ||
			    send(f->req, &ok, 8, MSG_NOSIGNAL) < 0)
				return;
		}
	}
}

int vu_front_churn(struct vu_front *f, uint32_t i)
{
	int rc;

	if (!f->c.iommu)
		return -EINVAL;
	rc = iotlb(f, VHOST_IOTLB_INVALIDATE, i);
	if (!rc && !f->c.lazy)
		rc = iotlb(f, VHOST_IOTLB_UPDATE, i);
	return rc;
}

int vu_front_map(struct vu_front *f, uint32_t i)
{
	return f->c.iommu ? iotlb(f, VHOST_IOTLB_UPDATE, i) : -EINVAL;
}

int vu_front_req_fd(const struct vu_front *f)
{
	return f->req;
}

static int setup_queue(struct vu_front *f, uint32_t qi)
{
	struct fq *q = &f->q[qi];
	uint64_t off = qi * RING_AREA;
	struct vhost_vring_state s = { .index = qi, .num = f->n };
	struct vhost_vring_addr a = {
		.index = qi,
		.desc_user_addr = addr_of(f, off),
		.avail_user_addr = addr_of(f, off + 0x4000),
		.used_user_addr = addr_of(f, off + 0x8000),
	};
	uint64_t v;
	int rc;

	q->kick = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	q->call = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (q->kick < 0 || q->call < 0)
		return -errno;
	rc = request(f, VU_SET_VRING_NUM, &s, sizeof(s), NULL, 0, NULL);
	s.num = 0;
	if (!rc)
		rc = request(f, VU_SET_VRING_BASE, &s, sizeof(s), NULL, 0, NULL);
	if (!rc)
		rc = request(f, VU_SET_VRING_ADDR, &a, sizeof(a), NULL, 0, NULL);
	v = qi;
	if (!rc)
		rc = request(f, VU_SET_VRING_CALL, &v, 8, &q->call, 1, NULL);
	if (!rc)
		rc = request(f, VU_SET_VRING_KICK, &v, 8, &q->kick, 1, NULL);
	s.num = 1;
	if (!rc && (f->features & (1ULL << VU_F_PROTOCOL_FEATURES)))
		rc = request(f, VU_SET_VRING_ENABLE, &s, sizeof(s), NULL, 0,
			     NULL);
	return rc;
}

/*
 * Buffer @i of queue @qi: packed one after the other from 1 MiB, or
 * spread evenly over the rest of guest memory (as a guest's buffers are
 * scattered), each in IOTLB entries of its own when they are small enough.
 */
static uint64_t buf_off(struct vu_front *f, uint32_t qi, uint16_t i)
{
	uint64_t k = (uint64_t)qi * f->n + i;

	if (f->c.spread)
		return BUF_BASE + k * f->stride;
	return BUF_BASE + k * VU_FBUF;
}

int vu_front_open(const struct vu_front_cfg *cfg, struct vu_front **out)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct vu_front *f = calloc(1, sizeof(*f));
	uint64_t offered = 0, want, pf = 0;
	int sv[2] = { -1, -1 }, rc;
	uint16_t i;

	if (!f)
		return -ENOMEM;
	f->c = *cfg;
	f->sock = f->req = f->memfd = -1;
	f->n = cfg->ring_size ? cfg->ring_size : 256;
	if (f->n > 1024 || (f->n & (f->n - 1))) {
		free(f);
		return -EINVAL;
	}
	f->mem_len = (size_t)(cfg->mem_mb ? cfg->mem_mb : 64) << 20;
	if (!f->c.iotlb_entries)
		f->c.iotlb_entries = 64;
	f->entry_len = f->mem_len / f->c.iotlb_entries & ~4095ULL;
	f->stride = (f->mem_len - BUF_BASE) / (2ULL * f->n) & ~4095ULL;
	pthread_mutex_init(&f->lock, NULL);
	rc = -EINVAL;
	if (!f->entry_len || BUF_BASE + 2ULL * f->n * VU_FBUF > f->mem_len ||
	    strlen(cfg->path) >= sizeof(sa.sun_path))
		goto err;
	f->memfd = memfd_create("ioasid-vu-guest", MFD_CLOEXEC);
	if (f->memfd < 0 || ftruncate(f->memfd, (off_t)f->mem_len))
		goto err_errno;
	f->mem = mmap(NULL, f->mem_len, PROT_READ | PROT_WRITE, MAP_SHARED,
		      f->memfd, 0);
	if (f->mem == MAP_FAILED) {
		f->mem = NULL;
		goto err_errno;
	}
	for (i = 0; i < 2; i++) {
		uint8_t *area = f->mem + i * RING_AREA;

		rc = vqd_init_split(&f->q[i].vq, f->n, area, area + 0x4000,
				    area + 0x8000);
		if (rc)
			goto err;
	}
	strcpy(sa.sun_path, cfg->path);
	f->sock = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (f->sock < 0 || connect(f->sock, (struct sockaddr *)&sa, sizeof(sa)))
		goto err_errno;

	rc = request(f, VU_SET_OWNER, NULL, 0, NULL, 0, NULL);
	if (!rc)
		rc = request(f, VU_GET_FEATURES, NULL, 0, NULL, 0, &offered);
	if (rc)
		goto err;
	want = VU_FRONTEND_FEATURES | (cfg->iommu ? VU_FEATURES_IOMMU : 0);
	rc = -EOPNOTSUPP;
	if ((want & offered) != want)
		goto err;
	rc = request(f, VU_GET_PROTOCOL_FEATURES, NULL, 0, NULL, 0, &pf);
	if (rc)
		goto err;
	pf &= (1ULL << VU_PF_REPLY_ACK) |
	      (cfg->iommu ? 1ULL << VU_PF_BACKEND_REQ : 0);
	rc = -EOPNOTSUPP;
	if (cfg->iommu && !(pf & (1ULL << VU_PF_BACKEND_REQ)))
		goto err;
	rc = req_u64(f, VU_SET_PROTOCOL_FEATURES, pf);
	if (rc)
		goto err;
	f->protocol = pf;
	if (cfg->iommu) {
		if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv))
			goto err_errno;
		rc = request(f, VU_SET_BACKEND_REQ_FD, NULL, 0, &sv[1], 1, NULL);
		close(sv[1]);
		f->req = sv[0];
		if (rc)
			goto err;
	}
	rc = req_u64(f, VU_SET_FEATURES, want);
	if (rc)
		goto err;
	f->features = want;
	{
		struct {
			uint32_t n, pad;
			struct vu_region_desc r;
		} mt = { 1, 0, { (uint64_t)(uintptr_t)f->mem, f->mem_len,
				 (uint64_t)(uintptr_t)f->mem, 0 } };

		rc = request(f, VU_SET_MEM_TABLE, &mt, sizeof(mt), &f->memfd, 1,
			     NULL);
		if (rc)
			goto err;
	}
	/* Receive buffers: every descriptor of queue 0, posted. */
	for (i = 0; i < f->n; i++) {
		vqd_desc(&f->q[0].vq, i, addr_of(f, buf_off(f, 0, i)), VU_FBUF,
			 VRING_DESC_F_WRITE, 0);
		vqd_add(&f->q[0].vq, i);
	}
	vqd_publish(&f->q[0].vq);
	/* Transmit descriptors: all free (vqd's list), each its own buffer. */
	for (i = 0; !rc && i < 2; i++)
		rc = setup_queue(f, i);
	/*
	 * Eager IOTLB after the rings exist: a backend may keep its IOTLB
	 * per queue (DPDK does) and drop updates for queues not set up yet.
	 */
	if (cfg->iommu && !cfg->lazy)
		for (i = 0; !rc && i < f->c.iotlb_entries; i++)
			rc = iotlb(f, VHOST_IOTLB_UPDATE, i);
	if (rc)
		goto err;
	*out = f;
	return 0;
err_errno:
	rc = -errno;
err:
	vu_front_close(f);
	return rc;
}

/* Take back transmit descriptors the backend has used. */
static void reap_tx(struct vu_front *f)
{
	struct vqd *q = &f->q[1].vq;
	uint32_t len;
	uint16_t id;
	int rc;

	while ((rc = vqd_used(q, &id, &len)))
		if (rc == 1)
			vqd_put(q, id);
}

int vu_front_send(struct vu_front *f, const void *pkt, uint32_t len)
{
	struct vqd *q = &f->q[1].vq;
	uint16_t id;
	uint8_t *buf;
	int rc;

	if (len + VU_HDR_LEN > VU_FBUF)
		return -EMSGSIZE;
	if (!vqd_nfree(q))
		reap_tx(f);
	rc = vqd_get(q);
	if (rc < 0)
		return rc;
	id = (uint16_t)rc;
	buf = f->mem + buf_off(f, 1, id);
	memset(buf, 0, VU_HDR_LEN);
	memcpy(buf + VU_HDR_LEN, pkt, len);
	vqd_desc(q, id, addr_of(f, buf_off(f, 1, id)), VU_HDR_LEN + len, 0, 0);
	vqd_post(q, id);
	f->st.sent++;
	return 0;
}

uint32_t vu_front_recv(struct vu_front *f, void *out, uint32_t max)
{
	struct vqd *q = &f->q[0].vq;
	uint32_t len;
	uint16_t id;

	if (vqd_used(q, &id, &len) != 1)
		return 0;
	if (len > VU_FBUF)
		len = VU_FBUF;
	len = len > VU_HDR_LEN ? len - VU_HDR_LEN : 0;
	if (len > max)
		len = max;
	memcpy(out, f->mem + buf_off(f, 0, id) + VU_HDR_LEN, len);
	/* The buffer goes back to the ring. */
	vqd_post(q, id);
	f->st.received++;
	return len;
}

void vu_front_stats(struct vu_front *f, struct vu_front_stats *st)
{
	*st = f->st;
}

void vu_front_close(struct vu_front *f)
{
	int i;

	if (f->sock >= 0)
		close(f->sock);
	if (f->req >= 0)
		close(f->req);
	for (i = 0; i < 2; i++) {
		if (f->q[i].kick > 0)
			close(f->q[i].kick);
		if (f->q[i].call > 0)
			close(f->q[i].call);
		vqd_fini(&f->q[i].vq);
	}
	if (f->mem)
		munmap(f->mem, f->mem_len);
	if (f->memfd >= 0)
		close(f->memfd);
	pthread_mutex_destroy(&f->lock);
	free(f);
}
