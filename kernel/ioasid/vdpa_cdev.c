// SPDX-License-Identifier: GPL-2.0
/*
 * ioasid_vdpa: a vDPA bus driver that gives a vDPA device the vhost-vdpa
 * character device uAPI, with each of the device's address spaces (ASIDs)
 * translating through an ioasid of the ioasid engine.
 *
 * This file is the character device: open and release, the vhost and
 * vhost-vdpa ioctls (features, status, config space, vrings, kicks and
 * calls), IOTLB messages as written to the file, and the driver's probe
 * and remove. What an ASID translates through, and how the device learns
 * it, is in vdpa_as.c.
 *
 * Devices served: those with set_map that map by user virtual address
 * (use_va: VDUSE). Devices that map physical addresses or sit behind the
 * platform IOMMU are refused at probe (-EOPNOTSUPP); see docs/kernel.md.
 */
#include <linux/cdev.h>
#include <linux/device.h>
#include <linux/eventfd.h>
#include <linux/file.h>
#include <linux/idr.h>
#include <linux/module.h>
#include <linux/mm.h>
#include <linux/nospec.h>
#include <linux/poll.h>
#include <linux/sched/mm.h>
#include <linux/slab.h>
#include <linux/uio.h>
#include <linux/vdpa.h>
#include <linux/vhost_iotlb.h>
#include <linux/vhost_types.h>
#include <linux/vhost.h>
#include <linux/virtio_config.h>

#include "vdpa_priv.h"

#define IV_DEV_MAX	BIT(MINORBITS)
#define IV_BACKEND_FEATURES	(BIT_ULL(VHOST_BACKEND_F_IOTLB_MSG_V2) | \
				 BIT_ULL(VHOST_BACKEND_F_IOTLB_BATCH) | \
				 BIT_ULL(VHOST_BACKEND_F_IOTLB_ASID))

static dev_t iv_major;
static DEFINE_IDA(iv_ida);

/* Virtqueue kicks and calls. */

/*
 * A kick goes to the device from the eventfd's wakeup, in atomic context,
 * as a doorbell write would; kick_vq may not sleep (VDUSE defers its own
 * eventfd signal when it cannot signal from there). No worker hop.
 */
static int iv_kick_wake(wait_queue_entry_t *wait, unsigned int mode,
			int sync, void *key)
{
	struct iv_vq *vq = container_of(wait, struct iv_vq, kick_wait);

	if (key_to_poll(key) & EPOLLIN)
		vq->v->vdpa->config->kick_vq(vq->v->vdpa, vq->idx);
	return 0;
}

static void iv_kick_queue(struct file *file, wait_queue_head_t *wqh,
			  poll_table *pt)
{
	struct iv_vq *vq = container_of(pt, struct iv_vq, kick_pt);

	vq->kick_wqh = wqh;
	add_wait_queue(wqh, &vq->kick_wait);
}

static void iv_kick_put(struct iv_vq *vq)
{
	if (!vq->kick)
		return;
	remove_wait_queue(vq->kick_wqh, &vq->kick_wait);
	fput(vq->kick);
	vq->kick = NULL;
}

static int iv_kick_set(struct iv_vq *vq, int fd)
{
	struct file *f;

	iv_kick_put(vq);
	if (fd == VHOST_FILE_UNBIND)
		return 0;
	f = eventfd_fget(fd);
	if (IS_ERR(f))
		return PTR_ERR(f);
	vq->kick = f;
	init_waitqueue_func_entry(&vq->kick_wait, iv_kick_wake);
	init_poll_funcptr(&vq->kick_pt, iv_kick_queue);
	if (vfs_poll(f, &vq->kick_pt) & EPOLLIN)
		vq->v->vdpa->config->kick_vq(vq->v->vdpa, vq->idx);
	return 0;
}

/* The device's interrupt for a queue or the config space: an eventfd. */
static irqreturn_t iv_signal(void *private)
{
	eventfd_signal(private);
	return IRQ_HANDLED;
}

/*
 * In @cb a callback that signals eventfd @fd (no callback for
 * VHOST_FILE_UNBIND), in *@ctx its context. The caller installs @cb, then
 * iv_eventfd_swap()s: once the device has the new callback, nothing can
 * signal the old context any more and it can be put.
 */
static int iv_eventfd_cb(int fd, struct vdpa_callback *cb,
			 struct eventfd_ctx **ctx)
{
	memset(cb, 0, sizeof(*cb));
	*ctx = NULL;
	if (fd == VHOST_FILE_UNBIND)
		return 0;
	*ctx = eventfd_ctx_fdget(fd);
	if (IS_ERR(*ctx))
		return PTR_ERR(*ctx);
	cb->callback = iv_signal;
	cb->private = *ctx;
	return 0;
}

static void iv_eventfd_swap(struct eventfd_ctx **slot, struct eventfd_ctx *ctx)
{
	if (*slot)
		eventfd_ctx_put(*slot);
	*slot = ctx;
}

/* Point @vq's call, or with @vq NULL the config interrupt, at eventfd @fd. */
static int iv_callback_set(struct iv_dev *v, struct iv_vq *vq, int fd)
{
	const struct vdpa_config_ops *ops = v->vdpa->config;
	struct vdpa_callback cb;
	struct eventfd_ctx *ctx;
	int rc = iv_eventfd_cb(fd, &cb, &ctx);

	if (rc)
		return rc;
	if (vq) {
		cb.trigger = ctx;	/* the device may signal it itself */
		ops->set_vq_cb(v->vdpa, vq->idx, &cb);
		iv_eventfd_swap(&vq->call, ctx);
	} else {
		ops->set_config_cb(v->vdpa, &cb);
		iv_eventfd_swap(&v->config_call, ctx);
	}
	return 0;
}

static int iv_call_set(struct iv_vq *vq, int fd)
{
	return iv_callback_set(vq->v, vq, fd);
}

static int iv_config_call_set(struct iv_dev *v, int fd)
{
	return iv_callback_set(v, NULL, fd);
}

static bool iv_packed(struct iv_dev *v)
{
	const struct vdpa_config_ops *ops = v->vdpa->config;

	return ops->get_driver_features(v->vdpa) &
	       BIT_ULL(VIRTIO_F_RING_PACKED);
}

static bool iv_driver_ok(struct iv_dev *v)
{
	return v->vdpa->config->get_status(v->vdpa) &
	       VIRTIO_CONFIG_S_DRIVER_OK;
}

static long iv_vring_ioctl(struct iv_dev *v, unsigned int cmd,
			   void __user *argp)
{
	const struct vdpa_config_ops *ops = v->vdpa->config;
	struct vdpa_device *vdpa = v->vdpa;
	struct vhost_vring_state s;
	struct vhost_vring_addr a;
	struct vhost_vring_file f;
	struct vdpa_vq_state st;
	struct iv_vq *vq;
	u32 idx;
	long rc;

	if (get_user(idx, (u32 __user *)argp))
		return -EFAULT;
	if (idx >= v->nvqs)
		return -ENOBUFS;
	idx = array_index_nospec(idx, v->nvqs);
	vq = &v->vqs[idx];

	switch (cmd) {
	case VHOST_SET_VRING_NUM:
		if (copy_from_user(&s, argp, sizeof(s)))
			return -EFAULT;
		if (!s.num || s.num > ops->get_vq_num_max(vdpa) ||
		    !is_power_of_2(s.num))
			return -EINVAL;
		vq->num = s.num;
		ops->set_vq_num(vdpa, idx, s.num);
		return 0;
	case VHOST_SET_VRING_ADDR:
		if (copy_from_user(&a, argp, sizeof(a)))
			return -EFAULT;
		if (a.flags & ~(1U << VHOST_VRING_F_LOG))
			return -EOPNOTSUPP;
		if (iv_driver_ok(v))
			return -EINVAL;
		return ops->set_vq_address(vdpa, idx, a.desc_user_addr,
					   a.avail_user_addr,
					   a.used_user_addr) ? -EINVAL : 0;
	case VHOST_SET_VRING_BASE:
		if (copy_from_user(&s, argp, sizeof(s)))
			return -EFAULT;
		if (iv_driver_ok(v))
			return -EINVAL;
		memset(&st, 0, sizeof(st));
		if (iv_packed(v)) {
			st.packed.last_avail_idx = s.num & 0x7fff;
			st.packed.last_avail_counter = !!(s.num & 0x8000);
			st.packed.last_used_idx = (s.num >> 16) & 0x7fff;
			st.packed.last_used_counter = !!(s.num & 0x80000000);
		} else {
			st.split.avail_index = s.num;
		}
		vq->base = s.num;
		return ops->set_vq_state(vdpa, idx, &st);
	case VHOST_GET_VRING_BASE:
		rc = ops->get_vq_state(vdpa, idx, &st);
		if (rc)
			return rc;
		s.index = idx;
		if (iv_packed(v))
			s.num = st.packed.last_avail_idx |
				st.packed.last_avail_counter << 15 |
				(st.packed.last_used_idx |
				 st.packed.last_used_counter << 15) << 16;
		else
			s.num = st.split.avail_index;
		return copy_to_user(argp, &s, sizeof(s)) ? -EFAULT : 0;
	case VHOST_SET_VRING_KICK:
	case VHOST_SET_VRING_CALL:
		if (copy_from_user(&f, argp, sizeof(f)))
			return -EFAULT;
		return cmd == VHOST_SET_VRING_KICK ? iv_kick_set(vq, f.fd) :
						      iv_call_set(vq, f.fd);
	case VHOST_VDPA_SET_VRING_ENABLE:
		if (copy_from_user(&s, argp, sizeof(s)))
			return -EFAULT;
		ops->set_vq_ready(vdpa, idx, s.num);
		return 0;
	case VHOST_VDPA_GET_VRING_GROUP:
		if (!ops->get_vq_group)
			return -EOPNOTSUPP;
		s.index = idx;
		s.num = ops->get_vq_group(vdpa, idx);
		if (s.num >= vdpa->ngroups)
			return -EIO;
		return copy_to_user(argp, &s, sizeof(s)) ? -EFAULT : 0;
	case VHOST_VDPA_SET_GROUP_ASID:
		if (copy_from_user(&s, argp, sizeof(s)))
			return -EFAULT;
		if (idx >= vdpa->ngroups || s.num >= vdpa->nas)
			return -EINVAL;
		if (!ops->set_group_asid)
			return -EOPNOTSUPP;
		return ops->set_group_asid(vdpa, idx, s.num);
	case VHOST_VDPA_GET_VRING_SIZE:
		if (!ops->get_vq_size)
			return -EOPNOTSUPP;
		s.index = idx;
		s.num = ops->get_vq_size(vdpa, idx);
		return copy_to_user(argp, &s, sizeof(s)) ? -EFAULT : 0;
	}
	return -ENOIOCTLCMD;
}

/* Stop the device and drop what the driver side set up. */
static void iv_reset(struct iv_dev *v)
{
	u32 i;

	for (i = 0; i < v->nvqs; i++) {
		iv_kick_put(&v->vqs[i]);
		iv_call_set(&v->vqs[i], VHOST_FILE_UNBIND);
	}
	vdpa_reset(v->vdpa, 0);
}

static long iv_set_status(struct iv_dev *v, u8 __user *p)
{
	const struct vdpa_config_ops *ops = v->vdpa->config;
	u8 status, old;

	if (get_user(status, p))
		return -EFAULT;
	old = ops->get_status(v->vdpa);
	/* Bits go away only with a reset to 0, as with vhost_vdpa. */
	if (status && (old & ~status))
		return -EINVAL;
	if (!status)
		return vdpa_reset(v->vdpa, 0);
	vdpa_set_status(v->vdpa, status);
	return 0;
}

static long iv_config(struct iv_dev *v, struct vhost_vdpa_config __user *c,
		      bool set)
{
	const struct vdpa_config_ops *ops = v->vdpa->config;
	struct vhost_vdpa_config h;
	size_t size = ops->get_config_size(v->vdpa);
	u8 *buf;
	long rc = 0;

	if (copy_from_user(&h, c, sizeof(h)))
		return -EFAULT;
	if (!h.len || h.len > size || h.off > size - h.len)
		return -EINVAL;
	if (set) {
		buf = vmemdup_user(c->buf, h.len);
		if (IS_ERR(buf))
			return PTR_ERR(buf);
		vdpa_set_config(v->vdpa, h.off, buf, h.len);
	} else {
		buf = kvzalloc(h.len, GFP_KERNEL);
		if (!buf)
			return -ENOMEM;
		vdpa_get_config(v->vdpa, h.off, buf, h.len);
		if (copy_to_user(c->buf, buf, h.len))
			rc = -EFAULT;
	}
	kvfree(buf);
	return rc;
}

static long iv_ioctl_locked(struct iv_dev *v, unsigned int cmd,
			    unsigned long arg)
{
	const struct vdpa_config_ops *ops = v->vdpa->config;
	struct vdpa_device *vdpa = v->vdpa;
	void __user *argp = (void __user *)arg;
	u64 features;
	u32 val;

	switch (cmd) {
	case VHOST_SET_OWNER:
		if (v->owner)
			return -EBUSY;
		v->owner = current->mm;
		mmgrab(v->owner);
		return 0;
	case IOASID_VDPA_STATS:
		return iv_stats(v, argp);
	}
	switch (cmd) {
	case VHOST_GET_FEATURES:
		features = ops->get_device_features(vdpa);
		return copy_to_user(argp, &features, sizeof(features)) ?
		       -EFAULT : 0;
	case VHOST_SET_FEATURES:
		if (ops->get_status(vdpa) & VIRTIO_CONFIG_S_FEATURES_OK)
			return -EBUSY;
		if (copy_from_user(&features, argp, sizeof(features)))
			return -EFAULT;
		return vdpa_set_features(vdpa, features) ? -EINVAL : 0;
	case VHOST_GET_BACKEND_FEATURES:
		features = IV_BACKEND_FEATURES;
		return copy_to_user(argp, &features, sizeof(features)) ?
		       -EFAULT : 0;
	case VHOST_SET_BACKEND_FEATURES:
		if (copy_from_user(&features, argp, sizeof(features)))
			return -EFAULT;
		if (features & ~IV_BACKEND_FEATURES)
			return -EOPNOTSUPP;
		v->backend_features = features;
		return 0;
	case VHOST_VDPA_GET_DEVICE_ID:
		val = ops->get_device_id(vdpa);
		return put_user(val, (u32 __user *)argp);
	case VHOST_VDPA_GET_STATUS:
		return put_user(ops->get_status(vdpa), (u8 __user *)argp);
	case VHOST_VDPA_SET_STATUS:
		return iv_set_status(v, argp);
	case VHOST_VDPA_GET_CONFIG:
		return iv_config(v, argp, false);
	case VHOST_VDPA_SET_CONFIG:
		return iv_config(v, argp, true);
	case VHOST_VDPA_GET_VRING_NUM:
		return put_user(ops->get_vq_num_max(vdpa), (u16 __user *)argp);
	case VHOST_VDPA_GET_GROUP_NUM:
		return put_user(vdpa->ngroups, (u32 __user *)argp);
	case VHOST_VDPA_GET_AS_NUM:
		return put_user(vdpa->nas, (u32 __user *)argp);
	case VHOST_VDPA_GET_VQS_COUNT:
		return put_user(vdpa->nvqs, (u32 __user *)argp);
	case VHOST_VDPA_GET_CONFIG_SIZE:
		val = ops->get_config_size(vdpa);
		return put_user(val, (u32 __user *)argp);
	case VHOST_VDPA_GET_IOVA_RANGE: {
		struct vhost_vdpa_iova_range r = { 0, U64_MAX };

		if (ops->get_iova_range) {
			struct vdpa_iova_range dr = ops->get_iova_range(vdpa);

			r.first = dr.first;
			r.last = dr.last;
		}
		return copy_to_user(argp, &r, sizeof(r)) ? -EFAULT : 0;
	}
	case VHOST_VDPA_SET_CONFIG_CALL:
		if (get_user(val, (int __user *)argp))
			return -EFAULT;
		return iv_config_call_set(v, (int)val);
	case VHOST_SET_LOG_BASE:
	case VHOST_SET_LOG_FD:
		return -ENOIOCTLCMD;
	case VHOST_VDPA_SUSPEND:
	case VHOST_VDPA_RESUME:
		return -EOPNOTSUPP;
	case IOASID_VDPA_ATTACH:
		return iv_attach(v, argp);
	case IOASID_VDPA_DETACH:
		return iv_detach(v, argp);
	}
	return iv_vring_ioctl(v, cmd, argp);
}

static long iv_ioctl(struct file *file, unsigned int cmd, unsigned long arg)
{
	struct iv_dev *v = file->private_data;
	long rc;

	mutex_lock(&v->lock);
	rc = iv_ioctl_locked(v, cmd, arg);
	mutex_unlock(&v->lock);
	return rc;
}

/* vhost IOTLB messages written to the file; vdpa_as.c carries them out. */

/* One message of @size from @from, which holds @len bytes: whole or not. */
static bool iv_msg_from_iter(void *m, size_t size, size_t len,
			     struct iov_iter *from)
{
	return len >= size && copy_from_iter(m, size, from) == size;
}

static ssize_t iv_write_iter(struct kiocb *iocb, struct iov_iter *from)
{
	struct iv_dev *v = iocb->ki_filp->private_data;
	size_t len = iov_iter_count(from);
	struct vhost_msg_v2 m2;
	struct vhost_msg m1;
	struct vhost_iotlb_msg *msg;
	u32 asid = 0;
	ssize_t rc;

	mutex_lock(&v->lock);
	rc = -EINVAL;
	if (v->backend_features & BIT_ULL(VHOST_BACKEND_F_IOTLB_MSG_V2)) {
		if (!iv_msg_from_iter(&m2, sizeof(m2), len, from) ||
		    m2.type != VHOST_IOTLB_MSG_V2)
			goto out;
		asid = m2.asid;
		msg = &m2.iotlb;
		if (asid && !(v->backend_features &
			      BIT_ULL(VHOST_BACKEND_F_IOTLB_ASID)))
			goto out;
	} else {
		if (!iv_msg_from_iter(&m1, sizeof(m1), len, from) ||
		    m1.type != VHOST_IOTLB_MSG)
			goto out;
		msg = &m1.iotlb;
	}
	rc = iv_iotlb_msg(v, asid, msg);
	if (!rc)
		rc = len;
out:
	mutex_unlock(&v->lock);
	return rc;
}

static int iv_open(struct inode *inode, struct file *file)
{
	struct iv_dev *v = container_of(inode->i_cdev, struct iv_dev, cdev);
	u32 i;
	int rc;

	if (atomic_cmpxchg(&v->opened, 0, 1))
		return -EBUSY;
	reinit_completion(&v->closed);
	mutex_lock(&v->lock);
	/* The device maps by virtual address: compat pins nothing. */
	v->priv = ioasid_khost_create_va();
	if (!v->priv) {
		rc = -ENOMEM;
		goto err;
	}
	vdpa_reset(v->vdpa, 0);
	for (i = 0; i < v->vdpa->nas; i++) {
		rc = iv_as_compat(&v->as[i]);
		if (rc)
			goto err_as;
	}
	v->backend_features = 0;
	v->in_batch = false;
	file->private_data = v;
	mutex_unlock(&v->lock);
	return 0;

err_as:
	while (i--)
		iv_as_compat_free(&v->as[i]);
	ioasid_khost_destroy(v->priv);
	v->priv = NULL;
err:
	mutex_unlock(&v->lock);
	atomic_set(&v->opened, 0);
	complete_all(&v->closed);
	return rc;
}

/* Also the end of a client that died: nothing it set up outlives it. */
static int iv_release(struct inode *inode, struct file *file)
{
	struct iv_dev *v = file->private_data;
	u32 i;

	mutex_lock(&v->lock);
	iv_reset(v);
	iv_config_call_set(v, VHOST_FILE_UNBIND);
	for (i = 0; i < v->vdpa->nas; i++) {
		if (v->as[i].file)
			iv_as_detach_file(&v->as[i]);
		else
			iv_as_compat_free(&v->as[i]);
	}
	ioasid_khost_destroy(v->priv);
	v->priv = NULL;
	if (v->owner) {
		mmdrop(v->owner);
		v->owner = NULL;
	}
	mutex_unlock(&v->lock);
	atomic_set(&v->opened, 0);
	complete_all(&v->closed);
	return 0;
}

static const struct file_operations iv_fops = {
	.owner = THIS_MODULE,
	.open = iv_open,
	.release = iv_release,
	.write_iter = iv_write_iter,
	.unlocked_ioctl = iv_ioctl,
	.compat_ioctl = compat_ptr_ioctl,
	.llseek = noop_llseek,
};

static void iv_free(struct iv_dev *v)
{
	u32 i;

	/*
	 * The last reference may go after iv_remove() returned and the vDPA
	 * device was freed (an open file's cdev holds one until its final
	 * fput): nothing here may look at v->vdpa.
	 */
	if (v->as)
		for (i = 0; i < v->nas; i++)
			if (v->as[i].iotlb)
				vhost_iotlb_free(v->as[i].iotlb);
	kfree(v->as);
	kfree(v->vqs);
	ida_free(&iv_ida, v->minor);
	kfree(v);
}

static void iv_release_dev(struct device *dev)
{
	iv_free(container_of(dev, struct iv_dev, dev));
}

static int iv_probe(struct vdpa_device *vdpa)
{
	const struct vdpa_config_ops *ops = vdpa->config;
	struct iv_dev *v;
	int minor, rc;
	u32 i;

	if (!ops->set_map || !vdpa->use_va) {
		dev_warn(&vdpa->dev,
			 "ioasid_vdpa serves devices that map user virtual addresses with set_map (VDUSE); this one does not\n");
		return -EOPNOTSUPP;
	}
	minor = ida_alloc_max(&iv_ida, IV_DEV_MAX - 1, GFP_KERNEL);
	if (minor < 0)
		return minor;
	v = kzalloc(sizeof(*v), GFP_KERNEL);
	if (!v) {
		ida_free(&iv_ida, minor);
		return -ENOMEM;
	}
	v->minor = minor;
	v->vdpa = vdpa;
	v->nvqs = vdpa->nvqs;
	v->nas = vdpa->nas;
	mutex_init(&v->lock);
	init_completion(&v->closed);
	complete_all(&v->closed);
	device_initialize(&v->dev);
	v->dev.release = iv_release_dev;
	v->dev.parent = &vdpa->dev;
	v->dev.devt = MKDEV(MAJOR(iv_major), minor);
	v->vqs = kcalloc(v->nvqs, sizeof(*v->vqs), GFP_KERNEL);
	v->as = kcalloc(vdpa->nas, sizeof(*v->as), GFP_KERNEL);
	if (!v->vqs || !v->as) {
		rc = -ENOMEM;
		goto err;
	}
	for (i = 0; i < v->nvqs; i++) {
		v->vqs[i].v = v;
		v->vqs[i].idx = i;
	}
	for (i = 0; i < vdpa->nas; i++) {
		rc = iv_as_init(&v->as[i], v, i);
		if (rc)
			goto err;
	}
	rc = dev_set_name(&v->dev, "ioasid-vdpa-%u", minor);
	if (rc)
		goto err;
	cdev_init(&v->cdev, &iv_fops);
	v->cdev.owner = THIS_MODULE;
	rc = cdev_device_add(&v->cdev, &v->dev);
	if (rc)
		goto err;
	vdpa_set_drvdata(vdpa, v);
	return 0;

err:
	put_device(&v->dev);
	return rc;
}

static void iv_remove(struct vdpa_device *vdpa)
{
	struct iv_dev *v = vdpa_get_drvdata(vdpa);

	cdev_device_del(&v->cdev, &v->dev);
	/* Wait for the last close; no new open can start now. */
	while (atomic_cmpxchg(&v->opened, 0, 1))
		wait_for_completion(&v->closed);
	put_device(&v->dev);
}

static struct vdpa_driver iv_driver = {
	.driver = {
		.name = "ioasid_vdpa",
	},
	.probe = iv_probe,
	.remove = iv_remove,
};

static int __init iv_init(void)
{
	int rc;

	/* The region's name is what clients look for in /proc/devices. */
	rc = alloc_chrdev_region(&iv_major, 0, IV_DEV_MAX, "vhost-vdpa");
	if (rc)
		return rc;
	rc = vdpa_register_driver(&iv_driver);
	if (rc)
		unregister_chrdev_region(iv_major, IV_DEV_MAX);
	return rc;
}

static void __exit iv_exit(void)
{
	vdpa_unregister_driver(&iv_driver);
	unregister_chrdev_region(iv_major, IV_DEV_MAX);
}

module_init(iv_init);
module_exit(iv_exit);
MODULE_IMPORT_NS(IOASID_NS);
MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("vhost-vdpa devices whose address spaces are ioasids");
