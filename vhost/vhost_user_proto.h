/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/*
 * The vhost-user wire format both sides of the project use (the backend,
 * vhost_user.c, and the test front-end, tests/lib/frontend.c): message numbers, flags
 * and payloads as QEMU's docs/interop/vhost-user.rst defines them.
 */
#ifndef IOASID_VHOST_USER_PROTO_H
#define IOASID_VHOST_USER_PROTO_H

#include <linux/vhost_types.h>
#include <stdint.h>

enum {
	VU_GET_FEATURES = 1, VU_SET_FEATURES = 2, VU_SET_OWNER = 3,
	VU_RESET_OWNER = 4, VU_SET_MEM_TABLE = 5, VU_SET_LOG_BASE = 6,
	VU_SET_LOG_FD = 7, VU_SET_VRING_NUM = 8, VU_SET_VRING_ADDR = 9,
	VU_SET_VRING_BASE = 10, VU_GET_VRING_BASE = 11, VU_SET_VRING_KICK = 12,
	VU_SET_VRING_CALL = 13, VU_SET_VRING_ERR = 14,
	VU_GET_PROTOCOL_FEATURES = 15, VU_SET_PROTOCOL_FEATURES = 16,
	VU_GET_QUEUE_NUM = 17, VU_SET_VRING_ENABLE = 18, VU_SEND_RARP = 19,
	VU_NET_SET_MTU = 20, VU_SET_BACKEND_REQ_FD = 21, VU_IOTLB_MSG = 22,
};

#define VU_BACKEND_IOTLB_MSG	1	/* backend -> front-end */

#define VU_F_PROTOCOL_FEATURES	30
#define VU_PF_MQ		0
#define VU_PF_REPLY_ACK		3
#define VU_PF_BACKEND_REQ	5

#define VU_VERSION		0x1
#define VU_FLAG_REPLY		0x4
#define VU_FLAG_NEED_REPLY	0x8
#define VU_VRING_NOFD		(1ULL << 8)
#define VU_MAX_REGIONS		8
#define VU_MAX_FDS		8
#define VU_HDR_LEN		12	/* virtio_net_hdr_mrg_rxbuf */
#define VU_PKT_MAX		65536
#define VU_BURST		32

struct vu_hdr {
	uint32_t request;
	uint32_t flags;
	uint32_t size;
} __attribute__((packed));

struct vu_region_desc {
	uint64_t gpa;
	uint64_t size;
	uint64_t uaddr;
	uint64_t offset;
};

struct vu_msg {
	struct vu_hdr h;
	union {
		uint64_t u64;
		struct vhost_vring_state state;
		struct vhost_vring_addr addr;
		struct {
			uint32_t nregions;
			uint32_t pad;
			struct vu_region_desc r[VU_MAX_REGIONS];
		} mem;
		struct vhost_iotlb_msg iotlb;
		uint8_t raw[4096];
	} p;
} __attribute__((packed));

#endif /* IOASID_VHOST_USER_PROTO_H */
