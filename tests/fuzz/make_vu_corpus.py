#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
"""Write the seed corpus of fuzz_vhost_user (the record format is at the
top of tests/fuzz/fuzz_vhost_user.c): sessions that set up a queue pair the
way QEMU and DPDK do, with and without the IOMMU, split and packed, with
one packet in each direction, and the reproducers of issue 11's defects.

Usage: make_vu_corpus.py DIR"""
import os
import struct
import sys

GET_FEATURES, SET_FEATURES, SET_OWNER = 1, 2, 3
SET_MEM_TABLE, SET_VRING_NUM, SET_VRING_ADDR = 5, 8, 9
SET_VRING_BASE, GET_VRING_BASE, SET_VRING_KICK, SET_VRING_CALL = 10, 11, 12, 13
GET_PROTOCOL_FEATURES, SET_PROTOCOL_FEATURES = 15, 16
SET_VRING_ENABLE, NET_SET_MTU, SET_BACKEND_REQ_FD, IOTLB_MSG = 18, 20, 21, 22

F_VERSION_1, F_ACCESS_PLATFORM, F_RING_PACKED = 32, 33, 34
F_MRG_RXBUF, F_INDIRECT, F_EVENT_IDX, F_PROTOCOL = 15, 28, 29, 30
PF_MQ, PF_REPLY_ACK, PF_BACKEND_REQ = 0, 3, 5
F_CTRL_VQ, F_MQ = 17, 22
GET_QUEUE_NUM = 17

FD_MEMFD, FD_EVENT, FD_PIPE, FD_SOCKET = 0, 1, 2, 3
UADDR = 0x10000000
ACK = 1


def rec(req, payload=b"", flags=ACK, nfds=0, kind=0):
    return struct.pack("<BBBH", req, flags, nfds | kind << 2,
                       len(payload)) + payload


def write(off, data):
    return rec(0, struct.pack("<H", off) + data, flags=0)


def u64(v):
    return struct.pack("<Q", v)


def state(index, num):
    return struct.pack("<II", index, num)


def hello(features, protocol=0):
    return (rec(GET_FEATURES, flags=0) +
            rec(SET_FEATURES, u64(features), flags=0) +
            rec(GET_PROTOCOL_FEATURES, flags=0) +
            rec(SET_PROTOCOL_FEATURES,
                u64(1 << PF_REPLY_ACK | 1 << PF_BACKEND_REQ | protocol),
                flags=0))


def pairs(data, n):
    """Pad @data with a guest-memory write so that the fuzzer serves @n
    queue pairs (1 + its length modulo 4)."""
    while 1 + len(data) % 4 != n:
        data += write(0xf000, b"")
    return data


def mem_table(regions):
    p = struct.pack("<II", len(regions), 0)
    for gpa, size, uaddr, off in regions:
        p += struct.pack("<QQQQ", gpa, size, uaddr, off)
    return rec(SET_MEM_TABLE, p, nfds=len(regions), kind=FD_MEMFD)


def rings(base_of, size=16, base=0, iommu=False, first=0):
    """Queues @first and @first + 1 (a pair) with the rings of pair 0."""
    out = b""
    for q in (first, first + 1):
        d, a, u = base_of(q - first)
        out += rec(SET_VRING_NUM, state(q, size))
        out += rec(SET_VRING_ADDR, struct.pack("<IIQQQQ", q, 0, d, u, a, 0))
        out += rec(SET_VRING_BASE, state(q, base))
        out += rec(SET_VRING_CALL, u64(q), nfds=1, kind=FD_EVENT)
        out += rec(SET_VRING_KICK, u64(q), nfds=1, kind=FD_EVENT)
        out += rec(SET_VRING_ENABLE, state(q, 1))
    return out


def split_packets():
    """TX (queue 1): one 100-byte chain; RX (queue 0): one 2 KiB buffer."""
    hdr = bytes(12)
    pkt = hdr + bytes(range(88))
    out = write(0x8000, pkt)
    out += write(0x4000, struct.pack("<QIHH", 0x8000, len(pkt), 0, 0))
    out += write(0x5000, struct.pack("<HHH", 0, 1, 0))      # avail idx 1
    out += write(0x1000, struct.pack("<QIHH", 0x9000, 2048, 2, 0))
    out += write(0x2000, struct.pack("<HHH", 0, 1, 0))
    return out + rec(NET_SET_MTU, u64(1500)) + rec(NET_SET_MTU, u64(1500))


def packed_packets():
    avail = 1 << 7
    pkt = bytes(12) + bytes(range(88))
    out = write(0x8000, pkt)
    out += write(0x4000, struct.pack("<QIHH", 0x8000, len(pkt), 0, avail))
    out += write(0x1000, struct.pack("<QIHH", 0x9000, 2048, 0, avail | 2))
    return out + rec(NET_SET_MTU, u64(1500)) + rec(NET_SET_MTU, u64(1500))


def gpa_rings(q):
    return (UADDR + 0x1000 + q * 0x3000, UADDR + 0x2000 + q * 0x3000,
            UADDR + 0x3000 + q * 0x3000)


def iova_rings(q):
    return (0x1000 + q * 0x3000, 0x2000 + q * 0x3000, 0x3000 + q * 0x3000)


def iotlb(iova, size, uaddr, perm, typ):
    return rec(IOTLB_MSG, struct.pack("<QQQBB6x", iova, size, uaddr, perm, typ))


BASE = 1 << F_VERSION_1 | 1 << F_PROTOCOL | 1 << F_MRG_RXBUF
MEM = [(0, 0x10000, UADDR, 0)]
seeds = {
    "split": hello(BASE | 1 << F_EVENT_IDX | 1 << F_INDIRECT) +
    mem_table(MEM) + rings(gpa_rings) + split_packets() +
    rec(GET_VRING_BASE, state(1, 0)),
    "packed": hello(BASE | 1 << F_RING_PACKED) + mem_table(MEM) +
    rings(gpa_rings) + packed_packets() + rec(GET_VRING_BASE, state(0, 0)),
    "iommu": hello(BASE | 1 << F_ACCESS_PLATFORM) +
    rec(SET_BACKEND_REQ_FD, nfds=1, kind=FD_SOCKET) + mem_table(MEM) +
    iotlb(0, 0x10000, UADDR, 3, 2) + rings(iova_rings) + split_packets() +
    iotlb(0x4000, 0x1000, 0, 0, 3),
    "iommu_misses": hello(BASE | 1 << F_ACCESS_PLATFORM) +
    rec(SET_BACKEND_REQ_FD, nfds=1, kind=FD_SOCKET) + mem_table(MEM) +
    rings(iova_rings) + split_packets() + iotlb(0x1000, 0x1000, UADDR + 0x1000, 3, 2),
    # issue 11, defect 4: nested updates, then an invalidation inside them
    "overlap": hello(BASE | 1 << F_ACCESS_PLATFORM) + mem_table(MEM) +
    iotlb(0, 0x10000, UADDR, 3, 2) + iotlb(0x1000, 0xe000, UADDR + 0x1000, 3, 2) +
    iotlb(0x2000, 0xc000, UADDR + 0x2000, 3, 2) + iotlb(0x8000, 0x1000, 0, 0, 3),
    # defect 5: offset + size wraps
    "mem_wrap": hello(BASE) + mem_table([(0, 0x2000, UADDR, 2**64 - 0x1000)]) +
    rings(gpa_rings) + split_packets(),
    # defect 6: a packed base past the ring
    "packed_base": hello(BASE | 1 << F_RING_PACKED) + mem_table(MEM) +
    rings(gpa_rings, base=0x8000 | 300) + packed_packets(),
    # a call descriptor nobody reads, and short payloads
    "pipe_call": hello(BASE) + mem_table(MEM) +
    rec(SET_VRING_CALL, u64(0), nfds=1, kind=FD_PIPE) + rings(gpa_rings) +
    split_packets(),
    "short": hello(BASE) + rec(SET_VRING_ADDR, b"\x01") + rec(SET_OWNER),
    # two queue pairs (MQ): a packet each way on the second pair, then
    # an index past the pairs
    "mq": pairs(hello(BASE | 1 << F_MQ | 1 << F_CTRL_VQ, 1 << PF_MQ) +
                rec(GET_QUEUE_NUM, flags=0) + mem_table(MEM) +
                rings(gpa_rings, first=2) + split_packets() +
                rec(SET_VRING_NUM, state(4, 16)) +
                rec(GET_VRING_BASE, state(3, 0)), 2),
}

out = sys.argv[1]
os.makedirs(out, exist_ok=True)
for name, data in seeds.items():
    with open(os.path.join(out, name), "wb") as f:
        f.write(data)
print(f"{len(seeds)} seeds in {out}")
