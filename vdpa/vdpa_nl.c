// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/* vDPA management over generic netlink (see vdpa_nl.h). */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <linux/genetlink.h>
#include <linux/netlink.h>
#include <linux/vhost.h>
#include <linux/vdpa.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "vdpa_nl.h"

#define BUF	8192

struct req {
	struct nlmsghdr n;
	struct genlmsghdr g;
	char attrs[512];
};

static void put_attr(struct req *r, uint16_t type, const void *data,
		     uint16_t len)
{
	struct nlattr *a = (void *)((char *)r + NLMSG_ALIGN(r->n.nlmsg_len));

	a->nla_type = type;
	a->nla_len = (uint16_t)(NLA_HDRLEN + len);
	memcpy((char *)a + NLA_HDRLEN, data, len);
	r->n.nlmsg_len = NLMSG_ALIGN(r->n.nlmsg_len) + NLA_ALIGN(a->nla_len);
}

static void put_str(struct req *r, uint16_t type, const char *s)
{
	put_attr(r, type, s, (uint16_t)(strlen(s) + 1));
}

static void start(struct req *r, uint16_t family, uint8_t cmd, uint16_t flags)
{
	memset(r, 0, sizeof(*r));
	r->n.nlmsg_len = NLMSG_LENGTH(GENL_HDRLEN);
	r->n.nlmsg_type = family;
	r->n.nlmsg_flags = NLM_F_REQUEST | flags;
	r->n.nlmsg_seq = 1;
	r->g.cmd = cmd;
	r->g.version = 1;
}

/* Walk the attributes of a generic netlink message. */
#define FOR_ATTRS(a, nh)						\
	for (a = (struct nlattr *)((char *)NLMSG_DATA(nh) + GENL_HDRLEN);	\
	     (char *)a + NLA_HDRLEN <= (char *)(nh) + (nh)->nlmsg_len &&	\
	     a->nla_len >= NLA_HDRLEN;					\
	     a = (struct nlattr *)((char *)a + NLA_ALIGN(a->nla_len)))

/*
 * Send @r and read the answer: an ack (0 or -errno), or with @each, every
 * message of a dump until NLMSG_DONE.
 */
static int talk(int fd, struct req *r,
		int (*each)(struct nlmsghdr *nh, void *arg), void *arg)
{
	static char buf[BUF] __attribute__((aligned(8)));
	ssize_t n;

	if (send(fd, r, r->n.nlmsg_len, 0) < 0)
		return -errno;
	for (;;) {
		struct nlmsghdr *nh;

		n = recv(fd, buf, sizeof(buf), 0);
		if (n < 0)
			return -errno;
		for (nh = (void *)buf; NLMSG_OK(nh, (unsigned)n);
		     nh = NLMSG_NEXT(nh, n)) {
			if (nh->nlmsg_type == NLMSG_DONE)
				return 0;
			if (nh->nlmsg_type == NLMSG_ERROR) {
				struct nlmsgerr *e = NLMSG_DATA(nh);

				if (e->error || !each)
					return e->error;
				continue;
			}
			if (!each)
				continue;
			if (each(nh, arg))
				return 0;
		}
		if (!each)
			return 0;
	}
}

static int family_of(struct nlmsghdr *nh, void *arg)
{
	struct nlattr *a;

	FOR_ATTRS(a, nh)
		if (a->nla_type == CTRL_ATTR_FAMILY_ID)
			memcpy(arg, (char *)a + NLA_HDRLEN, sizeof(uint16_t));
	return 1;
}

/* A socket and the "vdpa" family id, or -errno. */
static int open_vdpa(uint16_t *family)
{
	struct sockaddr_nl sa = { .nl_family = AF_NETLINK };
	struct req r;
	int fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_GENERIC);
	int rc;

	if (fd < 0)
		return -errno;
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa))) {
		rc = -errno;
		close(fd);
		return rc;
	}
	*family = 0;
	start(&r, GENL_ID_CTRL, CTRL_CMD_GETFAMILY, 0);
	put_str(&r, CTRL_ATTR_FAMILY_NAME, VDPA_GENL_NAME);
	rc = talk(fd, &r, family_of, family);
	if (!rc && !*family)
		rc = -ENOENT;	/* no vdpa module loaded */
	if (rc) {
		close(fd);
		return rc;
	}
	return fd;
}

/*
 * One vdpa request answered by the kernel, each answer to @cb: @mgmtdev
 * (for add) and @name are its attributes where not NULL.
 */
static int vdpa_request(uint8_t cmd, uint16_t flags, const char *name,
			const char *mgmtdev,
			int (*cb)(struct nlmsghdr *, void *), void *arg)
{
	uint16_t family;
	struct req r;
	int fd = open_vdpa(&family), rc;

	if (fd < 0)
		return fd;
	start(&r, family, cmd, flags);
	if (mgmtdev)
		put_str(&r, VDPA_ATTR_MGMTDEV_DEV_NAME, mgmtdev);
	if (name)
		put_str(&r, VDPA_ATTR_DEV_NAME, name);
	rc = talk(fd, &r, cb, arg);
	close(fd);
	return rc;
}

int vdpa_nl_dev_add(const char *name, const char *mgmtdev)
{
	return vdpa_request(VDPA_CMD_DEV_NEW, NLM_F_ACK, name, mgmtdev, NULL,
			    NULL);
}

int vdpa_nl_dev_del(const char *name)
{
	return vdpa_request(VDPA_CMD_DEV_DEL, NLM_F_ACK, name, NULL, NULL, NULL);
}

struct list {
	struct vdpa_nl_dev *out;
	int max, n;
};

static void copy_str(char *dst, size_t len, const struct nlattr *a)
{
	size_t n = a->nla_len - NLA_HDRLEN;

	if (n >= len)
		n = len - 1;
	memcpy(dst, (const char *)a + NLA_HDRLEN, n);
	dst[n] = '\0';
}

static int one_dev(struct nlmsghdr *nh, void *arg)
{
	struct list *l = arg;
	struct vdpa_nl_dev d;
	struct nlattr *a;

	memset(&d, 0, sizeof(d));
	FOR_ATTRS(a, nh) {
		const void *v = (const char *)a + NLA_HDRLEN;

		switch (a->nla_type) {
		case VDPA_ATTR_DEV_NAME:
			copy_str(d.name, sizeof(d.name), a);
			break;
		case VDPA_ATTR_MGMTDEV_DEV_NAME:
			copy_str(d.mgmtdev, sizeof(d.mgmtdev), a);
			break;
		case VDPA_ATTR_DEV_ID:
			memcpy(&d.device_id, v, 4);
			break;
		case VDPA_ATTR_DEV_VENDOR_ID:
			memcpy(&d.vendor_id, v, 4);
			break;
		case VDPA_ATTR_DEV_MAX_VQS:
			memcpy(&d.max_vqs, v, 4);
			break;
		}
	}
	if (l->n < l->max)
		l->out[l->n] = d;
	l->n++;
	return 0;
}

int vdpa_nl_dev_list(struct vdpa_nl_dev *out, int max)
{
	struct list l = { out, max, 0 };
	int rc = vdpa_request(VDPA_CMD_DEV_GET, NLM_F_DUMP, NULL, NULL, one_dev,
			      &l);

	return rc ? rc : l.n;
}

/* ---- the vdpa bus in sysfs ---- */

#define BUS	"/sys/bus/vdpa"

static int put_sysfs(const char *path, const char *val)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC), rc = 0;

	if (fd < 0)
		return -errno;
	if (write(fd, val, strlen(val)) < 0)
		rc = -errno;
	close(fd);
	return rc;
}

int vdpa_dev_driver(const char *name, char *drv, size_t len)
{
	char path[512], link[512];
	ssize_t n;

	snprintf(path, sizeof(path), BUS "/devices/%s", name);
	if (access(path, F_OK))
		return -ENODEV;
	drv[0] = 0;
	snprintf(path, sizeof(path), BUS "/devices/%s/driver", name);
	n = readlink(path, link, sizeof(link) - 1);
	if (n > 0) {
		link[n] = 0;
		snprintf(drv, len, "%s", basename(link));
	}
	return 0;
}

int vdpa_dev_bind(const char *name, const char *driver)
{
	char path[512], cur[128];
	int rc = vdpa_dev_driver(name, cur, sizeof(cur));

	if (rc)
		return rc;
	snprintf(path, sizeof(path), BUS "/drivers/%s", driver);
	if (access(path, F_OK))
		return -ENOENT;
	if (!strcmp(cur, driver))
		return 0;
	snprintf(path, sizeof(path), BUS "/devices/%s/driver_override", name);
	rc = put_sysfs(path, driver);
	if (rc)
		return rc;
	if (cur[0]) {
		snprintf(path, sizeof(path), BUS "/drivers/%s/unbind", cur);
		rc = put_sysfs(path, name);
		if (rc)
			return rc;
	}
	/* The probe's own failure is in dmesg; here only its outcome. */
	put_sysfs(BUS "/drivers_probe", name);
	rc = vdpa_dev_driver(name, cur, sizeof(cur));
	if (rc)
		return rc;
	return strcmp(cur, driver) ? -EIO : 0;
}

int vdpa_dev_node(const char *name, char *path, size_t len)
{
	char dir[512];
	struct dirent *e;
	DIR *d;
	int rc = -ENOENT;

	snprintf(dir, sizeof(dir), BUS "/devices/%s", name);
	d = opendir(dir);
	if (!d)
		return -ENOENT;
	while ((e = readdir(d)))
		if (!strncmp(e->d_name, "vhost-vdpa-", 11) ||
		    !strncmp(e->d_name, "ioasid-vdpa-", 12)) {
			snprintf(path, len, "/dev/%s", e->d_name);
			rc = 0;
			break;
		}
	closedir(d);
	return rc;
}

int vdpa_dev_node_wait(const char *name, char *path, size_t len, int ms)
{
	for (int t = 0; t <= ms; t += 10) {
		if (!vdpa_dev_node(name, path, len) && !access(path, F_OK))
			return 0;
		usleep(10000);
	}
	return -ENOENT;
}

int vdpa_iotlb_msg(int fd, uint32_t asid, uint8_t type, uint64_t iova,
		   uint64_t size, const void *uaddr, uint8_t perm)
{
	struct vhost_msg_v2 m;

	memset(&m, 0, sizeof(m));
	m.type = VHOST_IOTLB_MSG_V2;
	m.asid = asid;
	m.iotlb.type = type;
	m.iotlb.iova = iova;
	m.iotlb.size = size;
	m.iotlb.uaddr = (uintptr_t)uaddr;
	m.iotlb.perm = perm;
	return write(fd, &m, sizeof(m)) == (ssize_t)sizeof(m) ? 0 : -errno;
}
