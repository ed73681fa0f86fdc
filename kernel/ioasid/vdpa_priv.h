/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What the two halves of ioasid_vdpa.ko share: the address-space side
 * (vdpa_as.c: each ASID's IOTLB mirror, its listener on an ioasid, its
 * binding to a context, IOTLB messages) and the vhost-vdpa character
 * device (vdpa_cdev.c: vrings, kicks, calls, config space, the file).
 * Not for other modules.
 */
#ifndef IOASID_VDPA_PRIV_H
#define IOASID_VDPA_PRIV_H

#include <linux/completion.h>
#include <linux/cdev.h>
#include <linux/device.h>
#include <linux/eventfd.h>
#include <linux/mutex.h>
#include <linux/poll.h>
#include <linux/vdpa.h>
#include <linux/vhost_iotlb.h>
#include <linux/vhost_types.h>

#include "ioasid_kernel.h"

struct iv_dev;

struct iv_vq {
	struct iv_dev *v;
	u16 idx;
	u16 num;
	u32 base;			/* last avail (| last used << 16, packed) */
	struct eventfd_ctx *call;
	struct file *kick;
	wait_queue_head_t *kick_wqh;
	wait_queue_entry_t kick_wait;
	poll_table kick_pt;
};

/* One address space of the device and the ioasid it translates through. */
struct iv_as {
	struct iv_dev *v;
	u32 asid;
	struct ioasid_dev dev;
	struct ioasid_listener l;
	struct vhost_iotlb *iotlb;	/* what the device was given */
	struct ioasid_khost *h;		/* context the ASID is bound to */
	struct file *file;		/* attached: the ioasid fd, held */
	u32 ioasid;
	bool bound;
	bool defer;			/* in an IOTLB batch: maps wait */
	bool hold;			/* switching ioasids: unmaps wait */
	bool dirty;			/* maps not pushed yet */
	u64 pushes, map_events, unmap_events;
	u64 device_entries;		/* in the last push, merged */
};

struct iv_dev {
	struct vdpa_device *vdpa;
	struct device dev;
	struct cdev cdev;
	int minor;
	u32 nas;			/* vdpa->nas, for iv_free */
	atomic_t opened;
	struct completion closed;
	struct mutex lock;		/* the ioctls and writes of the file */
	u32 nvqs;
	struct iv_vq *vqs;
	struct iv_as *as;		/* vdpa->nas of them */
	struct ioasid_khost *priv;	/* the open file's private context */
	struct mm_struct *owner;	/* VHOST_SET_OWNER */
	struct eventfd_ctx *config_call;
	u64 backend_features;
	bool in_batch;
	u32 batch_asid;
};

/*
 * vdpa_as.c. All under v->lock (the file's ioctls, writes, open and
 * release); each takes the lock of the context its ASID is bound to
 * where the listener's state needs it.
 */
/* At probe: ASID @asid of @v, unbound, with an empty mirror. */
int iv_as_init(struct iv_as *as, struct iv_dev *v, u32 asid);
/* Compat mode: bind the ASID to a fresh ioasid of v->priv. */
int iv_as_compat(struct iv_as *as);
/* Leave compat mode: unbind, and free the ASID's ioasid of v->priv. */
void iv_as_compat_free(struct iv_as *as);
/* Leave an ioasid fd's ioasid: unbind, and drop the fd. */
void iv_as_detach_file(struct iv_as *as);
/* IOASID_VDPA_ATTACH, IOASID_VDPA_DETACH, IOASID_VDPA_STATS. */
long iv_attach(struct iv_dev *v, void __user *argp);
long iv_detach(struct iv_dev *v, void __user *argp);
long iv_stats(struct iv_dev *v, void __user *argp);
/* One vhost IOTLB message for ASID @asid. */
long iv_iotlb_msg(struct iv_dev *v, u32 asid, struct vhost_iotlb_msg *msg);

#endif /* IOASID_VDPA_PRIV_H */
