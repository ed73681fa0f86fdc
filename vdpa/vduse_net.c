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

#include "vduse_net.h"

struct vduse_net {
	char name[VDUSE_NAME_MAX];
	int ctl, dev;
	pthread_t th;
	volatile int stop;
	pthread_mutex_t lock;
	struct vduse_net_stats st;
	void *last_map;			/* the latest lookup's mapping */
	size_t last_len;
};

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
		/* Lookups map afresh each time: nothing cached to drop. */
		n->st.iotlb_updates++;
		break;
	default:
		rsp.result = VDUSE_REQ_RESULT_FAILED;
	}
	pthread_mutex_unlock(&n->lock);
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

int vduse_net_create(const char *name, struct vduse_net **out)
{
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
	snprintf(n->name, sizeof(n->name), "%s", name);
	memset(&cfg, 0, sizeof(cfg));
	snprintf(cfg.c.name, sizeof(cfg.c.name), "%s", name);
	cfg.c.device_id = VIRTIO_ID_NET;
	/* VDUSE wants ACCESS_PLATFORM, and no control queue for net. */
	cfg.c.features = (1ULL << VIRTIO_F_VERSION_1) |
			 (1ULL << VIRTIO_F_ACCESS_PLATFORM) |
			 (1ULL << VIRTIO_NET_F_MAC) |
			 (1ULL << VIRTIO_NET_F_MRG_RXBUF);
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
	if (n->last_map)
		munmap(n->last_map, n->last_len);
	close(n->dev);
	if (ioctl(n->ctl, VDUSE_DESTROY_DEV, n->name))
		rc = -errno;
	close(n->ctl);
	pthread_mutex_destroy(&n->lock);
	free(n);
	return rc;
}
