/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/*
 * A vhost-user virtio-net backend (device side) over the fast path.
 *
 * It listens on a UNIX socket for one front-end at a time (DPDK's
 * net_virtio_user, QEMU, the project's own front-end), maps the memory
 * table the front-end shares, and serves queue 0 (receive: packets to the
 * driver) and queue 1 (transmit: packets from the driver), or up to
 * VU_MAX_QP such pairs (2p, 2p + 1) with MQ. Every guest
 * address is translated by a fast-path shadow: without an IOMMU the
 * shadow holds the memory table (guest address -> our mapping of it);
 * with VIRTIO_F_IOMMU_PLATFORM negotiated it holds exactly what the
 * front-end's IOTLB update messages installed, invalidations go through
 * the batcher (so they complete only once no worker can use them), and
 * a miss is sent back as an IOTLB miss on the backend request channel.
 *
 * Packets: the application gives two callbacks; the worker thread calls
 * rx() for every packet the driver sent (virtio-net header removed) and
 * tx() to get packets for the driver (header added; mergeable buffers
 * when negotiated).
 */
#ifndef IOASID_VHOST_USER_H
#define IOASID_VHOST_USER_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

struct vu_app {
	/* A packet from the driver. */
	void (*rx)(void *arg, const uint8_t *pkt, uint32_t len);
	/* The next packet for the driver into @buf (at most @max); 0: none. */
	uint32_t (*tx)(void *arg, uint8_t *buf, uint32_t max);
	void *arg;
};

#define VU_OFFER_IOMMU		(1U << 0)	/* offer VIRTIO_F_IOMMU_PLATFORM */
/*
 * The worker polls for 2 ms after its last packet before it naps (50 us
 * a pass), as a DPDK PMD polls: without it a driver faster than the
 * naps finds its ring full. Not the default yet (see worker() in
 * vhost_user.c).
 */
#define VU_POLL			(1U << 1)
/*
 * Client mode: connect to a front-end that listens on the path (QEMU's
 * -chardev socket,server=on) instead of listening there. Until it
 * listens, and again after each disconnect, the backend tries every
 * 100 ms without blocking (a listener whose queue is full holds nothing
 * up); it creates and removes nothing at the path. It connects only to
 * a socket at the path itself (no symbolic link in any part of it, one
 * name only, owned by the backend's user or root) whose listener runs
 * as the backend's user or as root.
 */
#define VU_CLIENT		(1U << 2)

/* Queue pairs a backend serves at most (vu_backend_start_mq). */
#define VU_MAX_QP		4

struct vu_stats {
	uint64_t rx_packets;		/* from the driver */
	uint64_t rx_short;		/* of them, no longer than a header */
	uint64_t tx_packets;		/* to the driver */
	uint64_t iotlb_updates;
	uint64_t iotlb_invalidates;
	uint64_t misses;		/* sent to the front-end, once each */
	uint64_t misses_deferred;	/* the channel was full: sent later */
	uint64_t misses_overflow;	/* outstanding table full: retried */
	uint64_t connections;
	uint64_t accept_failures;	/* accept() failed (no descriptor...) */
	uint64_t connect_failures;	/* VU_CLIENT: nobody took a connect */
	uint32_t broken;		/* queues broken (see stderr) */
	uint32_t running;		/* queues being served now */
	uint32_t pairs;			/* queue pairs offered */
	/*
	 * The worker's time in passes that moved packets (not in idle
	 * polls or naps): with rx_packets + tx_packets, its cost per
	 * packet, counted as DPDK's testpmd counts busy cycles.
	 */
	uint64_t busy_ns;
	uint64_t pair_rx[VU_MAX_QP];	/* rx_packets of each pair */
	uint64_t pair_tx[VU_MAX_QP];	/* tx_packets of each pair */
};

struct vu_backend;

/*
 * Make @path free for a socket's bind(): 0 when nothing is there or a
 * stale socket (nobody listens, twice 100 ms apart) was removed;
 * -EADDRINUSE a listener, -EEXIST not a socket, -EBUSY replaced while it
 * was checked (none of them touched), -EINVAL empty, -ENAMETOOLONG too
 * long for sun_path. Never blocks on a listener. vu_path_why() says which
 * in words. vu_backend_start() claims its path so; ioasid-netd its
 * control socket too.
 */
int vu_path_claim(const char *path);
const char *vu_path_why(int rc);

/*
 * Listen on @path and serve in two threads. A stale socket at @path
 * (nobody listens) is replaced; a live one is -EADDRINUSE, anything not
 * a socket -EEXIST, both left alone (said on stderr); -EBUSY if the
 * path changed while it was checked. Stop removes the
 * socket file only if @path still names the one start made. With
 * VU_CLIENT, connect to @path instead (the front-end listens): start
 * returns at once and the control thread connects when it can.
 */
int vu_backend_start(const char *path, const struct vu_app *app,
		     uint32_t flags, struct vu_backend **out);
/*
 * The same with @npairs queue pairs (1 to VU_MAX_QP), pair p served with
 * @apps[p]: a packet the driver sent on pair p goes to apps[p].rx(), and
 * apps[p].tx() fills pair p's receive queue, so an application that
 * answers on the pair a packet came from keeps each flow in order. More
 * than one pair offers VHOST_USER_PROTOCOL_F_MQ (GET_QUEUE_NUM answers
 * @npairs) and VIRTIO_NET_F_MQ with VIRTIO_NET_F_CTRL_VQ, whose queue the
 * front-end serves; queues past the first pair are refused until the
 * front-end sets the MQ protocol feature, and a pair carries packets
 * once SET_VRING_ENABLE enables it. One worker serves every pair.
 */
int vu_backend_start_mq(const char *path, const struct vu_app *apps,
			uint32_t npairs, uint32_t flags,
			struct vu_backend **out);
void vu_backend_stats(struct vu_backend *b, struct vu_stats *st);
/* Stop the threads, drop the connection and every mapping, close. */
void vu_backend_stop(struct vu_backend *b);

/*
 * For the fuzzer and tests: a backend with no socket and no threads, on a
 * connection @conn the caller owns (replies are written to it). The
 * caller's thread is the worker: vu_session_pass() serves the queues once.
 * vu_session_msg() checks and handles one message exactly as the control
 * thread does (descriptors it does not keep are closed); -1: the backend
 * would end the connection. Closing drops everything the session holds.
 */
struct vu_msg;
int vu_session_open(const struct vu_app *app, uint32_t flags, int conn,
		    struct vu_backend **out);
int vu_session_open_mq(const struct vu_app *apps, uint32_t npairs,
		       uint32_t flags, int conn, struct vu_backend **out);
int vu_session_msg(struct vu_backend *b, struct vu_msg *m, int *fds, int nfds);
int vu_session_pass(struct vu_backend *b);
void vu_session_close(struct vu_backend *b);

#ifdef __cplusplus
}
#endif

#endif /* IOASID_VHOST_USER_H */
