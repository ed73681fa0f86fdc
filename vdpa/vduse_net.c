// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/* A VDUSE virtio-net device, control side (see vduse_net.h). */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/vduse.h>
#include <linux/virtio_config.h>
#include <linux/virtio_ids.h>
#include <linux/virtio_net.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include "ioasid_fastpath.h"
#include "netq.h"
#include "vduse_net.h"
#include "vring.h"
#include "virtio_features.h"

#define MAX_MAPS	256		/* ranges mapped for the data path */

struct dmap {
	uint64_t start, last;
	void *p;
	size_t len;
};

struct vduse_net {
	char name[VDUSE_NAME_MAX];
	int ctl, dev;
	pthread_t th, worker;
	volatile int stop, run;
	bool has_app, worker_up;
	pthread_mutex_t lock;
	struct vduse_net_stats st;
	void *last_map;			/* the latest lookup's mapping */
	size_t last_len;
	/* data path */
	struct ioasid_fp_backend *be;
	struct ioasid_fp_shadow *sh;
	struct ioasid_fp_batcher *b;
	pthread_mutex_t map_lock;	/* maps[] */
	struct dmap maps[MAX_MAPS];
	uint32_t nmaps;
	volatile uint64_t want;		/* a missed IOVA, or UINT64_MAX */
	struct vq vq[2];
	struct netq nq;
};

/* Map the VDUSE range holding @iova into the shadow (worker, offline). */
static int fetch(struct vduse_net *n, uint64_t iova)
{
	struct vduse_iotlb_entry e = { .start = iova, .last = iova };
	int fd = ioctl(n->dev, VDUSE_IOTLB_GET_FD, &e), rc;
	uint32_t perm;
	void *p;

	if (fd < 0)
		return -errno;
	perm = (e.perm & VDUSE_ACCESS_RO ? IOASID_FP_READ : 0) |
	       (e.perm & VDUSE_ACCESS_WO ? IOASID_FP_WRITE : 0);
	p = mmap(NULL, e.last - e.start + 1,
		 (perm & IOASID_FP_READ ? PROT_READ : 0) |
		 (perm & IOASID_FP_WRITE ? PROT_WRITE : 0), MAP_SHARED, fd,
		 (off_t)e.offset);
	close(fd);
	if (p == MAP_FAILED)
		return -errno;
	pthread_mutex_lock(&n->map_lock);
	rc = n->nmaps == MAX_MAPS ? -ENOSPC :
	     ioasid_fp_map(n->b, e.start, p, e.last - e.start + 1, perm);
	if (!rc)
		n->maps[n->nmaps++] = (struct dmap){ e.start, e.last, p,
						     e.last - e.start + 1 };
	pthread_mutex_unlock(&n->map_lock);
	if (rc)
		munmap(p, e.last - e.start + 1);
	return rc;
}

/*
 * Withdraw every cached range overlapping [start, last]: out of the
 * shadow first (the batcher returns after the grace period), then unmap.
 */
static void withdraw(struct vduse_net *n, uint64_t start, uint64_t last)
{
	uint32_t i = 0;

	pthread_mutex_lock(&n->map_lock);
	while (i < n->nmaps) {
		struct dmap *m = &n->maps[i];

		if (m->last < start || m->start > last) {
			i++;
			continue;
		}
		ioasid_fp_unmap(n->b, m->start, m->last - m->start + 1, NULL);
		munmap(m->p, m->len);
		*m = n->maps[--n->nmaps];
	}
	pthread_mutex_unlock(&n->map_lock);
}

static void on_miss(void *arg, uint64_t iova, uint64_t len, uint32_t perm)
{
	struct vduse_net *n = arg;

	(void)len;
	(void)perm;
	n->want = iova;
}

static void *worker(void *arg)
{
	struct vduse_net *n = arg;
	struct ioasid_fp_reader *r;
	int i;

	if (ioasid_fp_reader_register(n->sh, &r))
		return NULL;
	for (i = 0; i < 2; i++) {
		struct vduse_vq_info info = { .index = (uint32_t)i };
		/* What the driver acked is a subset: no ring features. */
		struct vq_config c = { .features = VDUSE_NET_FEATURES,
				       .miss = on_miss, .miss_arg = n };

		if (ioctl(n->dev, VDUSE_VQ_GET_INFO, &info))
			goto out;
		c.size = (uint16_t)info.num;
		c.desc = info.desc_addr;
		c.avail = info.driver_addr;
		c.used = info.device_addr;
		if (vq_init(&n->vq[i], &c, r)) {
			fprintf(stderr, "vduse: queue %d refused\n", i);
			goto out;
		}
		n->vq[i].last_avail = n->vq[i].used_idx = info.split.avail_index;
	}
	n->want = UINT64_MAX;
	while (n->run && !n->stop) {
		int work = 0, running = 0, broken = 0;

		for (i = 0; i < 2; i++) {
			bool tell = false;

			if (vq_burst_begin(&n->vq[i]) == 0)
				work += i ? netq_serve_tx(&n->nq, &n->vq[i], &tell) :
					    netq_serve_rx(&n->nq, &n->vq[i], &tell);
			if (tell) {
				uint32_t idx = (uint32_t)i;

				ioctl(n->dev, VDUSE_VQ_INJECT_IRQ, &idx);
			}
			running += !n->vq[i].broken;
			broken += n->vq[i].broken;
		}
		pthread_mutex_lock(&n->lock);
		n->st.rx_packets = n->nq.rx_packets;
		n->st.tx_packets = n->nq.tx_packets;
		n->st.running = (uint32_t)running;
		n->st.broken = (uint32_t)broken;
		pthread_mutex_unlock(&n->lock);
		ioasid_fp_reader_quiescent(r);
		if (n->want != UINT64_MAX) {
			uint64_t w = n->want;

			n->want = UINT64_MAX;
			ioasid_fp_reader_offline(r);
			if (!fetch(n, w)) {
				pthread_mutex_lock(&n->lock);
				n->st.misses++;
				pthread_mutex_unlock(&n->lock);
			}
			ioasid_fp_reader_online(r);
			continue;
		}
		if (!work) {
			ioasid_fp_reader_offline(r);
			usleep(50);
			ioasid_fp_reader_online(r);
		}
	}
out:
	for (i = 0; i < 2; i++)
		vq_fini(&n->vq[i]);
	ioasid_fp_reader_unregister(r);
	return NULL;
}

/* Driver status: start the data path at DRIVER_OK, stop it at reset. */
static void set_status(struct vduse_net *n, uint8_t status)
{
	bool ok = status & VIRTIO_CONFIG_S_DRIVER_OK;

	if (!n->has_app)
		return;
	if (ok && !n->worker_up) {
		n->run = 1;
		n->nq.txlen = 0;
		if (!pthread_create(&n->worker, NULL, worker, n))
			n->worker_up = true;
	} else if (!ok && n->worker_up) {
		n->run = 0;
		pthread_join(n->worker, NULL);
		n->worker_up = false;
		withdraw(n, 0, UINT64_MAX);
	}
}

static void answer(struct vduse_net *n, const struct vduse_dev_request *req)
{
	struct vduse_dev_response rsp;

	memset(&rsp, 0, sizeof(rsp));
	rsp.request_id = req->request_id;
	rsp.result = VDUSE_REQ_RESULT_OK;
	pthread_mutex_lock(&n->lock);
	n->st.requests++;
	switch (req->type) {
	case VDUSE_GET_VQ_STATE:
		/* A fresh queue: everything from index 0. */
		rsp.vq_state.index = req->vq_state.index;
		break;
	case VDUSE_SET_STATUS:
		n->st.status = req->s.status;
		n->st.status_changes++;
		break;
	case VDUSE_UPDATE_IOTLB:
		n->st.iotlb_updates++;
		break;
	default:
		rsp.result = VDUSE_REQ_RESULT_FAILED;
	}
	pthread_mutex_unlock(&n->lock);
	/* Outside the stats lock: these may wait for the worker. */
	if (req->type == VDUSE_SET_STATUS)
		set_status(n, req->s.status);
	else if (req->type == VDUSE_UPDATE_IOTLB)
		withdraw(n, req->iova.start, req->iova.last);
	if (write(n->dev, &rsp, sizeof(rsp)) != sizeof(rsp))
		fprintf(stderr, "vduse: cannot answer request %u\n",
			req->request_id);
}

static void *serve(void *arg)
{
	struct vduse_net *n = arg;
	struct vduse_dev_request req;
	struct pollfd p = { .fd = n->dev, .events = POLLIN };

	while (!n->stop) {
		if (poll(&p, 1, 100) <= 0)
			continue;
		if (read(n->dev, &req, sizeof(req)) == sizeof(req))
			answer(n, &req);
	}
	return NULL;
}

int vduse_net_create(const char *name, const struct vu_app *app,
		     struct vduse_net **out)
{
	struct ioasid_fp_batcher_cfg bc = { .size = sizeof(bc) };
	struct {
		struct vduse_dev_config c;
		struct virtio_net_config net;
	} cfg;
	struct vduse_net *n = calloc(1, sizeof(*n));
	uint64_t api = 0;
	char path[VDUSE_NAME_MAX + 16];
	int rc, i;

	if (!n)
		return -ENOMEM;
	n->ctl = n->dev = -1;
	pthread_mutex_init(&n->lock, NULL);
	pthread_mutex_init(&n->map_lock, NULL);
	if (app) {
		n->has_app = true;
		n->nq.app = *app;
		n->nq.mergeable = true;
		if (ioasid_fp_backend_none(&n->be) ||
		    ioasid_fp_shadow_create(&n->sh) ||
		    ioasid_fp_batcher_create(n->sh, n->be, &bc, &n->b)) {
			errno = ENOMEM;
			goto err;
		}
	}
	snprintf(n->name, sizeof(n->name), "%s", name);
	memset(&cfg, 0, sizeof(cfg));
	snprintf(cfg.c.name, sizeof(cfg.c.name), "%s", name);
	cfg.c.device_id = VIRTIO_ID_NET;
	/* VDUSE wants ACCESS_PLATFORM, and no control queue for net. */
	cfg.c.features = VDUSE_NET_FEATURES;
	cfg.c.vq_num = 2;
	cfg.c.vq_align = 4096;
	cfg.c.config_size = sizeof(cfg.net);
	memcpy(cfg.net.mac, "\x02\x10\xa5\x00\x00\x01", 6);
	cfg.net.max_virtqueue_pairs = 1;
	n->ctl = open("/dev/vduse/control", O_RDWR | O_CLOEXEC);
	if (n->ctl < 0 || ioctl(n->ctl, VDUSE_SET_API_VERSION, &api) ||
	    ioctl(n->ctl, VDUSE_CREATE_DEV, &cfg))
		goto err;
	snprintf(path, sizeof(path), "/dev/vduse/%s", name);
	for (i = 0; i < 50 && n->dev < 0; i++) {
		n->dev = open(path, O_RDWR | O_CLOEXEC);
		if (n->dev < 0)
			usleep(20000);	/* udev may still be making the node */
	}
	if (n->dev < 0)
		goto err;
	/* Every queue set up before the device joins the vDPA bus. */
	for (i = 0; i < 2; i++) {
		struct vduse_vq_config vq = { .index = (uint32_t)i,
					      .max_size = 256 };

		if (ioctl(n->dev, VDUSE_VQ_SETUP, &vq))
			goto err;
	}
	if (pthread_create(&n->th, NULL, serve, n)) {
		errno = EAGAIN;
		goto err;
	}
	*out = n;
	return 0;
err:
	rc = -errno;
	if (n->dev >= 0)
		close(n->dev);
	if (n->ctl >= 0) {
		ioctl(n->ctl, VDUSE_DESTROY_DEV, n->name);
		close(n->ctl);
	}
	ioasid_fp_batcher_destroy(n->b);
	ioasid_fp_shadow_destroy(n->sh);
	ioasid_fp_backend_destroy(n->be);
	free(n);
	return rc;
}

void *vduse_net_lookup(struct vduse_net *n, uint64_t iova, uint64_t *len)
{
	struct vduse_iotlb_entry e = { .start = iova, .last = iova };
	int fd = ioctl(n->dev, VDUSE_IOTLB_GET_FD, &e);
	void *p;

	if (fd < 0)
		return NULL;
	p = mmap(NULL, e.last - e.start + 1,
		 (e.perm & VDUSE_ACCESS_WO ? PROT_WRITE : 0) |
		 (e.perm & VDUSE_ACCESS_RO ? PROT_READ : 0), MAP_SHARED, fd,
		 (off_t)e.offset);
	close(fd);
	if (p == MAP_FAILED)
		return NULL;
	if (n->last_map)
		munmap(n->last_map, n->last_len);
	n->last_map = p;
	n->last_len = e.last - e.start + 1;
	*len = e.last - iova + 1;
	return (uint8_t *)p + (iova - e.start);
}

void vduse_net_stats(struct vduse_net *n, struct vduse_net_stats *st)
{
	pthread_mutex_lock(&n->lock);
	*st = n->st;
	pthread_mutex_unlock(&n->lock);
}

int vduse_net_destroy(struct vduse_net *n)
{
	int rc = 0;

	n->stop = 1;
	pthread_join(n->th, NULL);
	if (n->worker_up) {
		n->run = 0;
		pthread_join(n->worker, NULL);
	}
	if (n->has_app) {
		withdraw(n, 0, UINT64_MAX);
		ioasid_fp_batcher_destroy(n->b);
		ioasid_fp_shadow_destroy(n->sh);
		ioasid_fp_backend_destroy(n->be);
	}
	if (n->last_map)
		munmap(n->last_map, n->last_len);
	close(n->dev);
	if (ioctl(n->ctl, VDUSE_DESTROY_DEV, n->name))
		rc = -errno;
	close(n->ctl);
	pthread_mutex_destroy(&n->lock);
	pthread_mutex_destroy(&n->map_lock);
	free(n);
	return rc;
}
