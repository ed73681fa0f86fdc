// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/*
 * ioasid-bench vdpa: the vDPA adaptor (ioasid_vdpa.ko) against the stock
 * vhost_vdpa driver, on the same VDUSE device (vdpa/vduse_net.c) in the
 * same boot; the device is rebound between the drivers.
 *
 * Mapping rate: N pages at distinct IOVAs mapped and unmapped again,
 *   stock         vhost_vdpa, one IOTLB message per page, no batching
 *   stock-batch   vhost_vdpa, IOTLB_BATCH_BEGIN/END around 256 messages
 *   compat-batch  ioasid_vdpa in compat mode, the same messages
 *   ioasid-b256   ioasid_vdpa attached to an ioasid, IOASID_MAP_BATCH and
 *                 IOASID_UNMAP_BATCH of 256 entries on the ioasid fd
 * and, for one VFIO device (an edu) and the vDPA device serving the same
 * memory, which is what the ioasid is for:
 *   pair-stock    stock vfio_iommu_type1 VFIO_IOMMU_MAP_DMA per page and
 *                 the stock-batch messages: two sets of mappings and pins
 *   pair-ioasid   one ioasid, the edu on it through the VFIO shim and the
 *                 vDPA device attached: one batch of 256 serves both
 * Every push to the device costs one VDUSE_UPDATE_IOTLB round trip to
 * the device process. 4 KiB pages come from a memfd, 2 MiB pages from a
 * hugetlb memfd (VDUSE reaches memory through files).
 *
 * Packets: unmodified dpdk-testpmd (net_virtio_user on the driver's node)
 * forwards numbered packets the device sends; packets back per second on
 * each driver.
 *
 * Needs root, the vduse, vhost_vdpa and ioasid_vdpa modules, and for the
 * packet part dpdk-testpmd and hugepages: the kernel VM
 * (tests/vm/kernel_bench.sh).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/vfio.h>
#include <linux/vhost.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <linux/ioasid.h>

#include "bench.h"
#include "pmd.h"
#include "traffic.h"
#include "vdpa_nl.h"
#include "vduse_net.h"

#define DEV		"ioasid-bench0"
#define IOVA0		(1ULL << 32)
#define CHUNK		256U
#define RW		(IOASID_DMA_READ | IOASID_DMA_WRITE)

enum mode {
	STOCK, STOCK_BATCH, COMPAT_BATCH, IOASID_B256, PAIR_STOCK, PAIR_IOASID,
	NMODES
};

static const char *const mode_name[NMODES] = {
	"stock", "stock-batch", "compat-batch", "ioasid-b256", "pair-stock",
	"pair-ioasid",
};

static double last_map_ns;

/* Bind the device to @driver and open its node as the owner. */
static int open_on(const char *driver, bool batch, char *node, size_t len)
{
	uint64_t bf = 0;
	int fd, rc = vdpa_dev_bind(DEV, driver);

	if (rc)
		die("binding %s to %s: %s", DEV, driver, strerror(-rc));
	if (vdpa_dev_node_wait(DEV, node, len, 2000))
		die("%s: %s made no node", DEV, driver);
	fd = open(node, O_RDWR);
	if (fd < 0 || ioctl(fd, VHOST_SET_OWNER) ||
	    ioctl(fd, VHOST_GET_BACKEND_FEATURES, &bf))
		die("%s (%s): %s", node, driver, strerror(errno));
	bf &= (1ULL << VHOST_BACKEND_F_IOTLB_MSG_V2) |
	      (batch ? 1ULL << VHOST_BACKEND_F_IOTLB_BATCH : 0);
	if (ioctl(fd, VHOST_SET_BACKEND_FEATURES, &bf))
		die("%s: backend features: %s", node, strerror(errno));
	return fd;
}

static void msg(int fd, uint8_t type, uint64_t iova, uint64_t size,
		const void *uaddr)
{
	int rc = vdpa_iotlb_msg(fd, 0, type, iova, size, uaddr,
				VHOST_ACCESS_RW);

	if (rc)
		die("IOTLB message %u at 0x%llx: %s", type,
		    (unsigned long long)iova, strerror(-rc));
}

/* Stock type1 map or unmap of one page, for the pair modes. */
static void type1_op(struct vdev *v, bool unmap, uint64_t iova, uint64_t pg,
		     uint8_t *va)
{
	if (!unmap) {
		struct vfio_iommu_type1_dma_map m = {
			.argsz = sizeof(m), .vaddr = (uintptr_t)va,
			.flags = VFIO_DMA_MAP_FLAG_READ | VFIO_DMA_MAP_FLAG_WRITE,
			.iova = iova, .size = pg,
		};

		if (ioctl(v->container, VFIO_IOMMU_MAP_DMA, &m))
			die("VFIO map at 0x%llx: %s", (unsigned long long)iova,
			    strerror(errno));
	} else {
		struct vfio_iommu_type1_dma_unmap u = {
			.argsz = sizeof(u), .iova = iova, .size = pg,
		};

		if (ioctl(v->container, VFIO_IOMMU_UNMAP_DMA, &u))
			die("VFIO unmap at 0x%llx: %s",
			    (unsigned long long)iova, strerror(errno));
	}
}

/*
 * ns per operation (a map or an unmap), IOTLB messages; with @v, each
 * page is also mapped for the VFIO device through stock type1.
 */
static double round_msgs(int fd, uint8_t *mem, uint32_t n, uint64_t pg,
			 bool batch, struct vdev *v)
{
	uint64_t t0 = now_ns();

	for (int unmap = 0; unmap < 2; unmap++) {
		for (uint32_t i = 0; i < n; i++) {
			if (v)
				type1_op(v, unmap, IOVA0 + i * pg, pg,
					 mem + i * pg);
			if (batch && i % CHUNK == 0)
				msg(fd, VHOST_IOTLB_BATCH_BEGIN, 0, 0, NULL);
			msg(fd, unmap ? VHOST_IOTLB_INVALIDATE :
				VHOST_IOTLB_UPDATE, IOVA0 + i * pg, pg,
			    unmap ? NULL : mem + i * pg);
			if (batch && (i % CHUNK == CHUNK - 1 || i == n - 1))
				msg(fd, VHOST_IOTLB_BATCH_END, 0, 0, NULL);
		}
		if (!unmap)
			last_map_ns = (double)(now_ns() - t0) / n;
	}
	return (double)(now_ns() - t0) / (2.0 * n);
}

/*
 * IOASID batches on a fresh ioasid with the vDPA device attached, or,
 * with @v, on @v's ioasid, where its VFIO device already is.
 */
static double round_ioasid(int fd, uint8_t *mem, uint32_t n, uint64_t pg,
			   struct ioasid_dma_entry *me,
			   struct ioasid_dma_entry *ue, struct vdev *v)
{
	struct ioasid_alloc a = { .size = sizeof(a) };
	struct ioasid_vdpa_attach at = { .size = sizeof(at) };
	int iofd = v ? v->ioasid_fd : open("/dev/ioasid", O_RDWR);
	uint64_t t0;

	if (v)
		a.out_ioasid = v->as;
	else if (iofd < 0 || ioctl(iofd, IOASID_ALLOC, &a))
		die("/dev/ioasid: %s", strerror(errno));
	at.ioasid_fd = iofd;
	at.ioasid = a.out_ioasid;
	if (ioctl(fd, IOASID_VDPA_ATTACH, &at))
		die("IOASID_VDPA_ATTACH: %s", strerror(errno));
	for (uint32_t i = 0; i < n; i++) {
		me[i] = (struct ioasid_dma_entry){ .flags = RW,
			.iova = IOVA0 + i * pg,
			.vaddr = (uintptr_t)(mem + i * pg), .length = pg };
		ue[i] = (struct ioasid_dma_entry){ .iova = IOVA0 + i * pg,
			.length = pg };
	}
	t0 = now_ns();
	for (int unmap = 0; unmap < 2; unmap++) {
		for (uint32_t i = 0; i < n; i += CHUNK) {
			struct ioasid_batch b = {
				.size = sizeof(b), .ioasid = a.out_ioasid,
				.count = n - i < CHUNK ? n - i : CHUNK,
				.entry_size = sizeof(*me),
				.entries_uptr = (uintptr_t)((unmap ? ue : me) + i),
			};

			if (ioctl(iofd, unmap ? IOASID_UNMAP_BATCH :
				  IOASID_MAP_BATCH, &b))
				die("ioasid batch at %u: %s", i, strerror(errno));
		}
		if (!unmap)
			last_map_ns = (double)(now_ns() - t0) / n;
	}
	t0 = now_ns() - t0;
	if (!v)
		close(iofd);
	return (double)t0 / (2.0 * n);
}

static uint8_t *file_memory(uint64_t pg, uint32_t n, int *memfd)
{
	unsigned int flags = MFD_CLOEXEC;
	uint8_t *m;

	if (pg == (2ULL << 20)) {
		if (pmd_hugepages(n + 8 + 200))
			return NULL;
		flags |= MFD_HUGETLB;
	}
	*memfd = memfd_create("bench-vdpa", flags);
	if (*memfd < 0 || ftruncate(*memfd, (off_t)(n * pg)))
		return NULL;
	m = mmap(NULL, n * pg, PROT_READ | PROT_WRITE,
		 MAP_SHARED | MAP_POPULATE, *memfd, 0);
	return m == MAP_FAILED ? NULL : m;
}

static void bench_mapping(struct bench_opts *o)
{
	/* vhost_vdpa holds at most 2048 entries (max_iotlb_entries). */
	static const struct { uint64_t pg; uint32_t n; } cases[] = {
		{ 4096, 2048 }, { 2ULL << 20, 64 },
	};
	char node[300];

	for (size_t c = 0; c < 2; c++) {
		uint64_t pg = cases[c].pg;
		uint32_t n = o->quick ? cases[c].n / 4 : cases[c].n;
		int memfd = -1;
		uint8_t *mem = file_memory(pg, n, &memfd);
		struct ioasid_dma_entry *me = calloc(n, sizeof(*me));
		struct ioasid_dma_entry *ue = calloc(n, sizeof(*ue));
		double t[NMODES][3], tm[NMODES][3], med[NMODES], medm[NMODES];
		bool vfio = bench_vfio_find();

		if (!mem) {
			emit(o, "{\"bench\":\"vdpa\",\"page\":%llu,\"skipped\":\"no file memory of this page size: %s\"}",
			     (unsigned long long)pg, strerror(errno));
			free(me);
			free(ue);
			continue;
		}
		if (!me || !ue)
			die("out of memory");
		for (int k = 0; k < 3; k++) {
			for (int m = 0; m < NMODES; m++) {
				bool stock = m <= STOCK_BATCH || m == PAIR_STOCK;
				struct vdev v;
				int fd;

				if (m >= PAIR_STOCK && !vfio) {
					t[m][k] = tm[m][k] = 0;
					continue;
				}
				fd = open_on(stock ? "vhost_vdpa" : "ioasid_vdpa",
					     m != STOCK, node, sizeof(node));
				if (m == PAIR_STOCK) {
					bench_vfio_type1_param(false);
					vdev_open(&v, VFIO_TYPE1v2_IOMMU);
					bench_vfio_type1_param(true);
				} else if (m == PAIR_IOASID) {
					vdev_open(&v, VFIO_IOASID_IOMMU);
				}
				if (m == IOASID_B256 || m == PAIR_IOASID)
					t[m][k] = round_ioasid(fd, mem, n, pg,
							       me, ue,
							       m == PAIR_IOASID ? &v : NULL);
				else
					t[m][k] = round_msgs(fd, mem, n, pg,
							     m != STOCK,
							     m == PAIR_STOCK ? &v : NULL);
				tm[m][k] = last_map_ns;
				close(fd);
				if (m >= PAIR_STOCK)
					vdev_close(&v);
			}
		}
		for (int m = 0; m < NMODES; m++) {
			if (m >= PAIR_STOCK && !vfio) {
				emit(o, "{\"bench\":\"vdpa\",\"page\":%llu,\"mode\":\"%s\",\"skipped\":\"no VFIO device alone in its group\"}",
				     (unsigned long long)pg, mode_name[m]);
				continue;
			}
			med[m] = median(t[m], 3);
			medm[m] = median(tm[m], 3);
			emit(o, "{\"bench\":\"vdpa\",\"page\":%llu,\"entries\":%u,\"mode\":\"%s\",\"ns_per_op\":%.1f,\"ops_per_s\":%.0f,\"map_ns\":%.1f,\"unmap_ns\":%.1f,\"maps_per_s\":%.0f}",
			     (unsigned long long)pg, n, mode_name[m], med[m],
			     1e9 / med[m], medm[m], 2 * med[m] - medm[m],
			     1e9 / medm[m]);
		}
		check(o, "vdpa", "adaptor",
		      pg == 4096 ? "4K: maps/s, ioasid batch of 256 / stock vhost_vdpa with IOTLB_BATCH" :
				   "2M: maps/s, ioasid batch of 256 / stock vhost_vdpa with IOTLB_BATCH",
		      medm[STOCK_BATCH] / medm[IOASID_B256], ">=", 3.0, n);
		if (vfio)
			check(o, "vdpa", "adaptor",
			      pg == 4096 ? "4K: maps/s for a VFIO and a vDPA device, one ioasid batch / type1 + vhost_vdpa batch" :
					   "2M: maps/s for a VFIO and a vDPA device, one ioasid batch / type1 + vhost_vdpa batch",
			      medm[PAIR_STOCK] / medm[PAIR_IOASID], ">=", 3.0, n);
		check(o, "vdpa", "adaptor",
		      pg == 4096 ? "4K: maps/s, compat batch / stock with IOTLB_BATCH" :
				   "2M: maps/s, compat batch / stock with IOTLB_BATCH",
		      medm[STOCK_BATCH] / medm[COMPAT_BATCH], ">=", 1.0, n);
		munmap(mem, n * pg);
		close(memfd);
		free(me);
		free(ue);
	}
}

#define PPS_PKT		100000U
#define PPS_WINDOW	64U

/* Packets per second through testpmd on @driver's node; 0 on failure. */
static double pps_on(struct bench_opts *o, const char *driver,
		     struct vu_traffic *t)
{
	char node[300], vdev[400];
	struct pmd p;
	double rate = 0;
	int i, rc = vdpa_dev_bind(DEV, driver);

	if (rc)
		die("binding %s to %s: %s", DEV, driver, strerror(-rc));
	if (vdpa_dev_node_wait(DEV, node, sizeof(node), 2000))
		die("%s: %s made no node", DEV, driver);
	snprintf(vdev, sizeof(vdev),
		 "net_virtio_user0,path=%s,queues=1,queue_size=256", node);
	if (pmd_start_vdpa(&p, vdev, NULL, node))
		die("testpmd: %s", strerror(errno));
	for (i = 0; i < 300000 && (i % 100 || pmd_alive(&p)) &&
		    __atomic_load_n(&t->got, __ATOMIC_ACQUIRE) +
		    __atomic_load_n(&t->bad, __ATOMIC_ACQUIRE) < t->npkt; i++)
		usleep(1000);
	if (t->got == t->npkt && !t->bad)
		rate = vu_traffic_rate(t);
	pmd_stop(&p, rate ? NULL : stderr);
	emit(o, "{\"bench\":\"vdpa\",\"driver\":\"%s\",\"packets\":%u,\"back\":%u,\"bad\":%u,\"pps\":%.0f}",
	     driver, t->npkt, t->got, t->bad, rate);
	return rate;
}

static void bench_packets(struct bench_opts *o)
{
	static struct vu_traffic t;
	static const char *const drv[2] = { "vhost_vdpa", "ioasid_vdpa" };
	struct vduse_net *n = NULL;
	struct vu_app app;
	double r[2][3], med[2];
	int rc;

	if (access(PMD_PATH, X_OK) || pmd_hugepages(200)) {
		emit(o, "{\"bench\":\"vdpa\",\"skipped\":\"packets\",\"why\":\"needs %s and hugepages\"}",
		     PMD_PATH);
		return;
	}
	for (int k = 0; k < 3; k++) {
		for (int d = 0; d < 2; d++) {
			if (vu_traffic_init(&t, o->quick ? PPS_PKT / 10 : PPS_PKT,
					    PPS_WINDOW, &app))
				die("out of memory");
			rc = vduse_net_create(DEV, &app, &n);
			if (rc || (rc = vdpa_nl_dev_add(DEV, "vduse")))
				die("VDUSE device: %s", strerror(-rc));
			r[d][k] = pps_on(o, drv[d], &t);
			vdpa_nl_dev_del(DEV);
			vduse_net_destroy(n);
			vu_traffic_fini(&t);
		}
	}
	med[0] = median(r[0], 3);
	med[1] = median(r[1], 3);
	emit(o, "{\"bench\":\"vdpa\",\"what\":\"pps median of 3\",\"stock\":%.0f,\"adaptor\":%.0f,\"ratio\":%.3f}",
	     med[0], med[1], med[0] ? med[1] / med[0] : 0);
	check(o, "vdpa", "adaptor", "pps, adaptor (compat) / stock vhost_vdpa",
	      med[0] ? med[1] / med[0] : 0, ">=", 0.95, PPS_PKT);
}

int bench_vdpa(struct bench_opts *o)
{
	struct vduse_net *n = NULL;
	int rc;

	print_header(o, "vdpa", "ioasid_vdpa against vhost_vdpa on one VDUSE device, same boot");
	if (geteuid())
		die("needs root");
	if (system("modprobe vduse && modprobe vhost_vdpa") ||
	    access("/sys/bus/vdpa/drivers/ioasid_vdpa", F_OK))
		die("needs the vduse and vhost_vdpa modules and ioasid_vdpa.ko loaded");
	rc = vduse_net_create(DEV, NULL, &n);
	if (rc || (rc = vdpa_nl_dev_add(DEV, "vduse")))
		die("VDUSE device: %s", strerror(-rc));
	bench_mapping(o);
	vdpa_nl_dev_del(DEV);
	vduse_net_destroy(n);
	bench_packets(o);
	return 0;
}
