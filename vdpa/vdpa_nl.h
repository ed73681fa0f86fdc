/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/*
 * The kernel's vDPA management over generic netlink (family "vdpa", the
 * interface iproute2's vdpa tool uses): add a device from a management
 * device, delete it, list devices. Needs CAP_NET_ADMIN for add and del.
 * Errors are negative errnos as the kernel returned them.
 */
#ifndef IOASID_VDPA_NL_H
#define IOASID_VDPA_NL_H

#include <stddef.h>
#include <stdint.h>

struct vdpa_nl_dev {
	char name[64];
	char mgmtdev[64];
	uint32_t device_id;		/* virtio device id: 1 net, 2 block */
	uint32_t vendor_id;
	uint32_t max_vqs;
};

/* @mgmtdev: e.g. "vduse" (a management device without a bus). */
int vdpa_nl_dev_add(const char *name, const char *mgmtdev);
int vdpa_nl_dev_del(const char *name);
/* Up to @max devices into @out; returns how many there are, or -errno. */
int vdpa_nl_dev_list(struct vdpa_nl_dev *out, int max);

/*
 * Sysfs side of vDPA management (the vdpa bus, not netlink):
 * vdpa_dev_bind() hands device @name to vDPA bus driver @driver (e.g.
 * "ioasid_vdpa" or "vhost_vdpa") through driver_override, unbinding it
 * from its driver first; 0 once @driver has it, -ENODEV for no such
 * device, -ENOENT for no such driver, -EIO if the driver refused it (see
 * dmesg). vdpa_dev_driver() puts the current driver's name in @drv ("" if
 * none). vdpa_dev_node() finds the character device the driver created
 * for it (/dev/vhost-vdpa-N or /dev/ioasid-vdpa-N): 0 or -ENOENT.
 */
int vdpa_dev_bind(const char *name, const char *driver);
int vdpa_dev_driver(const char *name, char *drv, size_t len);
int vdpa_dev_node(const char *name, char *path, size_t len);
/* The same, waiting up to @ms milliseconds for the node to appear. */
int vdpa_dev_node_wait(const char *name, char *path, size_t len, int ms);

/*
 * One vhost IOTLB message (struct vhost_msg_v2, so the backend feature
 * IOTLB_MSG_V2 must be on) written to a vhost-vdpa node @fd: @type is
 * VHOST_IOTLB_UPDATE, _INVALIDATE, _BATCH_BEGIN or _BATCH_END, @perm
 * VHOST_ACCESS_*. 0 or -errno.
 */
int vdpa_iotlb_msg(int fd, uint32_t asid, uint8_t type, uint64_t iova,
		   uint64_t size, const void *uaddr, uint8_t perm);

#endif /* IOASID_VDPA_NL_H */
