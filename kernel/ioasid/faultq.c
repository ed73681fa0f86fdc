// SPDX-License-Identifier: GPL-2.0
/*
 * Fault queue files: the kernel host's side of core/fault.c. A queue is an
 * anonymous inode whose read, write and poll go to the engine; the file
 * holds a reference on its /dev/ioasid file, so the context outlives
 * every queue of it, and the queue's release (the last close) fails the
 * accesses still waiting on it and frees it under the context lock.
 *
 * The fd is reserved and the file made while the engine runs the
 * allocation (kh_faultq_open), and installed only once the decoder has
 * copied its number back (kh_faultq_install), so that a failed copy
 * leaves no fd behind: kh_faultq_abort returns the number and drops the
 * file, whose release then finds no queue (the engine freed it).
 */
#include <linux/anon_inodes.h>
#include <linux/file.h>
#include <linux/fs.h>
#include <linux/poll.h>
#include <linux/slab.h>
#include <linux/wait.h>

#include "ioasid_kernel.h"

struct ioasid_kfaultq {
	struct ioasid_faultq *q;	/* NULL once aborted */
	struct file *file;
	struct file *ioasid_file;	/* holds the context */
	wait_queue_head_t poll_wq;
	int fd;				/* reserved until installed */
};

static ssize_t kfq_read(struct file *file, char __user *buf, size_t count,
			loff_t *ppos)
{
	struct ioasid_kfaultq *k = file->private_data;

	return ioasid_faultq_file_read(k->q, (u64)(uintptr_t)buf, count);
}

static ssize_t kfq_write(struct file *file, const char __user *buf,
			 size_t count, loff_t *ppos)
{
	struct ioasid_kfaultq *k = file->private_data;

	return ioasid_faultq_file_write(k->q, (u64)(uintptr_t)buf, count);
}

static __poll_t kfq_poll(struct file *file, poll_table *wait)
{
	struct ioasid_kfaultq *k = file->private_data;
	__poll_t mask = EPOLLOUT | EPOLLWRNORM;

	poll_wait(file, &k->poll_wq, wait);
	if (ioasid_faultq_file_pending(k->q))
		mask |= EPOLLIN | EPOLLRDNORM;
	return mask;
}

static int kfq_release(struct inode *inode, struct file *file)
{
	struct ioasid_kfaultq *k = file->private_data;

	if (k->q)
		ioasid_faultq_file_release(k->q);
	fput(k->ioasid_file);
	ioh_free(k);
	return 0;
}

static const struct file_operations kfq_fops = {
	.owner = THIS_MODULE,
	.read = kfq_read,
	.write = kfq_write,
	.poll = kfq_poll,
	.release = kfq_release,
};

int kh_faultq_open(void *host, struct ioasid_faultq *q, int *out_fd)
{
	struct ioasid_khost *h = host;
	struct ioasid_kfaultq *k;
	struct file *file;
	int fd;

	if (!h->file)
		return -EOPNOTSUPP;
	k = ioh_zalloc(sizeof(*k));
	if (!k)
		return -ENOMEM;
	init_waitqueue_head(&k->poll_wq);
	k->q = q;
	fd = get_unused_fd_flags(O_CLOEXEC);
	if (fd < 0) {
		ioh_free(k);
		return fd;
	}
	file = anon_inode_getfile("[ioasid-faultq]", &kfq_fops, k, O_RDWR);
	if (IS_ERR(file)) {
		put_unused_fd(fd);
		ioh_free(k);
		return PTR_ERR(file);
	}
	stream_open(file_inode(file), file);
	k->ioasid_file = get_file(h->file);
	k->file = file;
	k->fd = fd;
	ioasid_faultq_set_host_data(q, k, fd);
	*out_fd = fd;
	return 0;
}

void kh_faultq_install(void *host, struct ioasid_faultq *q)
{
	struct ioasid_kfaultq *k = ioasid_faultq_host_data(q);

	fd_install(k->fd, k->file);
}

void kh_faultq_abort(void *host, struct ioasid_faultq *q)
{
	struct ioasid_kfaultq *k = ioasid_faultq_host_data(q);

	k->q = NULL;
	put_unused_fd(k->fd);
	fput(k->file);
}

/*
 * @fd's queue. Called under the context lock: a queue whose file is
 * being released waits for that lock to be freed, so the pointer stays
 * good while the caller holds it, after this fput().
 */
int kh_faultq_get(void *host, int fd, struct ioasid_faultq **out)
{
	struct file *file = fget(fd);
	struct ioasid_kfaultq *k;
	int rc = -EBADF;

	if (!file)
		return -EBADF;
	if (file->f_op == &kfq_fops) {
		k = file->private_data;
		if (k->q) {
			*out = k->q;
			rc = 0;
		}
	}
	fput(file);
	return rc;
}

void kh_faultq_notify(void *host, struct ioasid_faultq *q, bool pending)
{
	struct ioasid_kfaultq *k = ioasid_faultq_host_data(q);

	if (pending)
		wake_up_interruptible_poll(&k->poll_wq, EPOLLIN | EPOLLRDNORM);
}
