// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/*
 * The vDPA adaptor (ioasid_vdpa.ko: kernel/ioasid/vdpa_as.c and
 * vdpa_cdev.c), in the kernel suite's VM, with the project's VDUSE
 * virtio-net device (vdpa/vduse_net.c) bound to it in place of vhost_vdpa:
 *
 * - compat mode: vhost IOTLB messages, batched, reach the device in one
 *   push and pin nothing; bad attach requests fail with their errno;
 * - one ioasid shared by an edu (VFIO shim) and the vDPA device: one
 *   batched map reaches both, one unmap takes the buffer from both;
 * - unmodified dpdk-testpmd on the adaptor's node: killed with traffic
 *   running, then run again to the end; and switched, while running, from
 *   its compat ioasid to an ioasid of another process's ioasid fd;
 * - only the owner (VHOST_SET_OWNER) maps: a file passed to another
 *   process before an owner is set translates the new owner's memory, not
 *   the opener's; a child forked after VHOST_SET_OWNER, as nobody, can
 *   neither send IOTLB messages nor attach or detach the owner's device.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <fcntl.h>
#include <linux/vhost.h>
#include <signal.h>
#include <stddef.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include "edu.h"
#include "harness.h"
#include "pmd.h"
#include "traffic.h"
#include "vdpa_nl.h"
#include "vduse_net.h"

/* A fresh device name per test: a failed test cannot block the next. */
static char dev_name[32];
static int dev_seq;
#define NAME	dev_name
#define DRIVER	"ioasid_vdpa"
#define PIECE	SZ_1M
#define IOVA	0x100000ULL

static int needs(bool pmd)
{
	if (access("/dev/vduse/control", F_OK) &&
	    system("modprobe vduse 2>/dev/null")) {
		skip_reason("no VDUSE in this kernel");
		return SKIP_RC;
	}
	if (access("/sys/bus/vdpa/drivers/" DRIVER, F_OK)) {
		skip_reason("ioasid_vdpa.ko is not loaded");
		return SKIP_RC;
	}
	if (pmd && access(PMD_PATH, X_OK)) {
		skip_reason("needs dpdk-testpmd");
		return SKIP_RC;
	}
	if (pmd && pmd_hugepages(200)) {
		skip_reason("cannot reserve hugepages in the guest");
		return SKIP_RC;
	}
	return 0;
}

/*
 * Create the VDUSE device (with @app's data path, or none), add it to the
 * vDPA bus, hand it to the adaptor and wait for the adaptor's node.
 */
static int adaptor_up(const struct vu_app *app, struct vduse_net **n,
		      char *node, size_t len)
{
	char drv[64];
	int i, rc;

	snprintf(dev_name, sizeof(dev_name), "ioasid-vduse%d", ++dev_seq);
	rc = vduse_net_create(NAME, app, n);
	if (rc) {
		diag("vduse_net_create: %s", strerror(-rc));
		return 1;
	}
	CHECK_OK(vdpa_nl_dev_add(NAME, "vduse"));
	for (i = 0; i < 100 && vdpa_dev_driver(NAME, drv, sizeof(drv)); i++)
		usleep(50000);
	CHECK_OK(vdpa_dev_bind(NAME, DRIVER));
	CHECK_OK(vdpa_dev_driver(NAME, drv, sizeof(drv)));
	CHECK(!strcmp(drv, DRIVER));
	CHECK_OK(vdpa_dev_node_wait(NAME, node, len, 5000));
	CHECK(!strncmp(node, "/dev/ioasid-vdpa-", 17));
	return 0;
}

static int adaptor_down(struct vduse_net *n)
{
	CHECK_OK(vdpa_nl_dev_del(NAME));
	CHECK_OK(vduse_net_destroy(n));
	return 0;
}

/* One IOTLB message (vdpa/vdpa_nl.c), under a name short enough here. */
#define iotlb	vdpa_iotlb_msg

static int stats(int fd, struct ioasid_vdpa_stats *st)
{
	memset(st, 0, sizeof(*st));
	st->size = sizeof(*st);
	return ioctl(fd, IOASID_VDPA_STATS, st) ? -errno : 0;
}

static int attach(int fd, int iofd, uint32_t ioasid, uint32_t asid)
{
	struct ioasid_vdpa_attach a = {
		.size = sizeof(a), .ioasid_fd = iofd, .ioasid = ioasid,
		.asid = asid,
	};

	return ioctl(fd, IOASID_VDPA_ATTACH, &a) ? -errno : 0;
}

static int detach(int fd, uint32_t asid)
{
	struct ioasid_vdpa_detach d = { .size = sizeof(d), .asid = asid };

	return ioctl(fd, IOASID_VDPA_DETACH, &d) ? -errno : 0;
}

static int open_owned(const char *node, bool batch)
{
	uint64_t bf = 0;
	int fd = open(node, O_RDWR);

	if (fd < 0)
		return -errno;
	if (ioctl(fd, VHOST_SET_OWNER) ||
	    ioctl(fd, VHOST_GET_BACKEND_FEATURES, &bf)) {
		close(fd);
		return -errno;
	}
	bf &= (1ULL << VHOST_BACKEND_F_IOTLB_MSG_V2) |
	      (1ULL << VHOST_BACKEND_F_IOTLB_ASID) |
	      (batch ? 1ULL << VHOST_BACKEND_F_IOTLB_BATCH : 0);
	if (ioctl(fd, VHOST_SET_BACKEND_FEATURES, &bf)) {
		close(fd);
		return -errno;
	}
	return fd;
}

/*
 * Compat mode: IOTLB messages in a batch become one push; the device sees
 * the bytes; INVALIDATE takes them away; then the attach requests that
 * must fail, and one that works.
 */
static int t_compat_iotlb(struct fx *f)
{
	struct ioasid_vdpa_stats st;
	struct vduse_net_stats ds;
	struct ioasid_alloc al = { .size = sizeof(al) };
	struct ioasid_swdev_create sc = {
		.size = sizeof(sc), .pgsize_bitmap = SZ_4K,
		.aperture_start = 0, .aperture_last = (1ULL << 39) - 1,
	};
	struct vduse_net *n = NULL;
	uint64_t len = 0, feat = 0;
	char node[300];
	uint8_t *mem, *dev, *anon;
	long long pins;
	long long pin0;
	int fd, iofd, memfd, i, rc;
	uint32_t freed;

	(void)f;
	rc = needs(false);
	if (rc)
		return rc;
	CHECK_OK(adaptor_up(NULL, &n, node, sizeof(node)));
	diag("%s bound to %s as %s", NAME, DRIVER, node);
	fd = open_owned(node, true);
	CHECK(fd >= 0);
	/* A second open is refused, as with vhost_vdpa. */
	CHECK(open(node, O_RDWR) == -1 && errno == EBUSY);
	CHECK(ioctl(fd, VHOST_GET_FEATURES, &feat) == 0);
	CHECK(feat & (1ULL << 32));	/* VIRTIO_F_VERSION_1 */
	memfd = memfd_create("vdpa-guest", MFD_CLOEXEC);
	CHECK(memfd >= 0 && ftruncate(memfd, 4 * PIECE) == 0);
	mem = mmap(NULL, 4 * PIECE, PROT_READ | PROT_WRITE, MAP_SHARED,
		   memfd, 0);
	CHECK(mem != MAP_FAILED);
	fill(mem, 4 * PIECE, 0x5a);
	pin0 = proc_status_kb(0, "VmPin");
	pins = kernel_pins();
	CHECK_OK(iotlb(fd, 0, VHOST_IOTLB_BATCH_BEGIN, 0, 0, NULL, 0));
	for (i = 0; i < 4; i++)
		CHECK_OK(iotlb(fd, 0, VHOST_IOTLB_UPDATE, IOVA + i * PIECE,
			       PIECE, mem + i * PIECE, VHOST_ACCESS_RW));
	/* Nothing reaches the device before the batch ends. */
	CHECK_OK(stats(fd, &st));
	CHECK_EQ(st.out_pushes, 0);
	CHECK_OK(iotlb(fd, 0, VHOST_IOTLB_BATCH_END, 0, 0, NULL, 0));
	CHECK_OK(stats(fd, &st));
	vduse_net_stats(n, &ds);
	diag("compat: %llu pushes, %llu entries, %llu map events; device: %llu IOTLB updates; VmPin %lld -> %lld kB",
	     (unsigned long long)st.out_pushes,
	     (unsigned long long)st.out_entries,
	     (unsigned long long)st.out_map_events,
	     (unsigned long long)ds.iotlb_updates, pin0, proc_status_kb(0, "VmPin"));
	CHECK_EQ(st.out_attached, 0);
	CHECK_EQ(st.out_pushes, 1);
	CHECK_EQ(st.out_entries, 4);
	/* One file, contiguous: the device gets one merged entry. */
	CHECK_EQ(st.out_device_entries, 1);
	CHECK_EQ(ds.iotlb_updates, 1);
	/* The device maps by file, so compat pins nothing (as vhost_vdpa). */
	CHECK_EQ(proc_status_kb(0, "VmPin"), pin0);
	CHECK_EQ(kernel_pins(), pins);
	for (i = 0; i < 4; i++) {
		uint64_t at = IOVA + i * PIECE + 4096 * (uint64_t)i + 77;

		dev = vduse_net_lookup(n, at, &len);
		CHECK(dev != NULL && len >= 64);
		CHECK(!memcmp(dev, mem + (at - IOVA), 64));
	}
	/* What vhost_vdpa refuses, refused alike. */
	CHECK_ERR(iotlb(fd, 0, VHOST_IOTLB_UPDATE, IOVA, PIECE, mem,
			VHOST_ACCESS_RW), -EEXIST);
	CHECK_ERR(iotlb(fd, 1, VHOST_IOTLB_UPDATE, 0x40000000, PIECE, mem,
			VHOST_ACCESS_RW), -EINVAL);
	CHECK_ERR(iotlb(fd, 0, 77, IOVA, PIECE, mem, VHOST_ACCESS_RW),
		  -EINVAL);
	/* INVALIDATE inside a piece removes the whole entry, as in vhost. */
	CHECK_OK(iotlb(fd, 0, VHOST_IOTLB_INVALIDATE, IOVA + PIECE + 4096,
		       4096, NULL, 0));
	CHECK(vduse_net_lookup(n, IOVA + PIECE + 100, &len) == NULL);
	CHECK(vduse_net_lookup(n, IOVA + 100, &len) != NULL);
	/* The hole splits the merged entry; the far side still maps right. */
	CHECK_OK(stats(fd, &st));
	CHECK_EQ(st.out_entries, 3);
	CHECK_EQ(st.out_device_entries, 2);
	dev = vduse_net_lookup(n, IOVA + 3 * PIECE + 4096 + 9, &len);
	CHECK(dev != NULL && !memcmp(dev, mem + 3 * PIECE + 4096 + 9, 64));
	/* Mapped again from another part of the file: no merge across. */
	CHECK_OK(iotlb(fd, 0, VHOST_IOTLB_UPDATE, IOVA + PIECE, PIECE,
		       mem + 3 * PIECE, VHOST_ACCESS_RW));
	CHECK_OK(stats(fd, &st));
	CHECK_EQ(st.out_device_entries, 3);
	dev = vduse_net_lookup(n, IOVA + PIECE + 9, &len);
	CHECK(dev != NULL && !memcmp(dev, mem + 3 * PIECE + 9, 64));
	CHECK_OK(iotlb(fd, 0, VHOST_IOTLB_INVALIDATE, IOVA + PIECE, PIECE,
		       NULL, 0));

	/* Attach requests that must fail, each with its errno. */
	iofd = open("/dev/ioasid", O_RDWR);
	CHECK(iofd >= 0);
	CHECK(ioctl(iofd, IOASID_ALLOC, &al) == 0);
	freed = al.out_ioasid;
	CHECK(ioctl(iofd, IOASID_FREE, &al) == 0);
	/* A freed ioasid; not an ioasid fd; ASID 1 of 1; not attached. */
	CHECK_ERR(attach(fd, iofd, freed, 0), -ENOENT);
	CHECK_ERR(attach(fd, memfd, 1, 0), -EBADF);
	CHECK(ioctl(iofd, IOASID_ALLOC, &al) == 0);
	CHECK_ERR(attach(fd, iofd, al.out_ioasid, 1), -EINVAL);
	CHECK_ERR(detach(fd, 0), -EINVAL);
	/* Mid-batch: refused, and the batch goes on. */
	CHECK_OK(iotlb(fd, 0, VHOST_IOTLB_BATCH_BEGIN, 0, 0, NULL, 0));
	CHECK_ERR(attach(fd, iofd, al.out_ioasid, 0), -EINVAL);
	CHECK_OK(iotlb(fd, 0, VHOST_IOTLB_BATCH_END, 0, 0, NULL, 0));
	/* The failed attaches left compat mode whole. */
	CHECK(vduse_net_lookup(n, IOVA + 100, &len) != NULL);
	CHECK_OK(stats(fd, &st));
	CHECK_EQ(st.out_entries, 3);

	/*
	 * Attached: an ioasid fixed by a software device with a 39-bit
	 * aperture (the vDPA device covers it). Compat mappings are gone;
	 * IOTLB messages are refused; the ioasid's maps arrive, pinned, as
	 * the ioasid may serve devices behind an IOMMU too.
	 */
	CHECK(ioctl(iofd, IOASID_SWDEV_CREATE, &sc) == 0);
	CHECK_OK(io_attach(iofd, sc.out_dev_id, al.out_ioasid));
	CHECK_OK(attach(fd, iofd, al.out_ioasid, 0));
	CHECK_ERR(attach(fd, iofd, al.out_ioasid, 0), -EBUSY);
	CHECK(vduse_net_lookup(n, IOVA + 100, &len) == NULL);
	CHECK_ERR(iotlb(fd, 0, VHOST_IOTLB_UPDATE, IOVA, PIECE, mem,
			VHOST_ACCESS_RW), -EPERM);
	CHECK_OK(io_map(iofd, al.out_ioasid, IOVA, mem, PIECE));
	CHECK_EQ(proc_status_kb(0, "VmPin") - pin0, PIECE / 1024);
	dev = vduse_net_lookup(n, IOVA + 5, &len);
	CHECK(dev != NULL && !memcmp(dev, mem + 5, 64));
	CHECK_OK(stats(fd, &st));
	CHECK_EQ(st.out_attached, 1);
	CHECK_EQ(st.out_ioasid, al.out_ioasid);
	/* The ioasid is busy while the device is on it. */
	CHECK(ioctl(iofd, IOASID_FREE, &al) == -1 && errno == EBUSY);
	/*
	 * Anonymous memory is out of the device's reach (it maps files): the
	 * vDPA device vetoes the map, which fails whole for every device of
	 * the ioasid and pins nothing.
	 */
	anon = mmap(NULL, PIECE, PROT_READ | PROT_WRITE,
		    MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
	CHECK(anon != MAP_FAILED);
	CHECK_ERR(io_map(iofd, al.out_ioasid, IOVA + 2 * PIECE, anon, PIECE),
		  -EINVAL);
	CHECK_EQ(proc_status_kb(0, "VmPin") - pin0, PIECE / 1024);
	CHECK_OK(stats(fd, &st));
	CHECK_EQ(st.out_entries, 1);
	/* Detached: the device has nothing; compat works again. */
	CHECK_OK(detach(fd, 0));
	CHECK(vduse_net_lookup(n, IOVA + 5, &len) == NULL);
	CHECK_OK(iotlb(fd, 0, VHOST_IOTLB_UPDATE, IOVA, PIECE, mem,
		       VHOST_ACCESS_RW));
	CHECK(vduse_net_lookup(n, IOVA + 5, &len) != NULL);
	/* Compat refuses anonymous memory the same way. */
	CHECK_ERR(iotlb(fd, 0, VHOST_IOTLB_UPDATE, IOVA + 2 * PIECE, PIECE,
			anon, VHOST_ACCESS_RW), -EINVAL);
	munmap(anon, PIECE);
	close(fd);
	/* The ioasid keeps its mapping, pinned, until its fd goes. */
	CHECK_EQ(proc_status_kb(0, "VmPin") - pin0, PIECE / 1024);
	close(iofd);
	CHECK_EQ(proc_status_kb(0, "VmPin"), pin0);
	CHECK_EQ(kernel_pins(), pins);
	munmap(mem, 4 * PIECE);
	close(memfd);
	return adaptor_down(n);
}

/*
 * One ioasid, two devices: an edu behind the IOMMU (VFIO shim) and the
 * vDPA device. One batch maps source and destination for both; one unmap
 * takes the destination from both, and only then is it unpinned.
 */
static int t_shared_with_edu(struct fx *f)
{
	struct ioasid_vdpa_stats st0, st;
	struct ioasid_dma_entry e[2];
	struct ioasid_batch b = { .size = sizeof(b) };
	struct ioasid_unmap_dma u = { .size = sizeof(u) };
	struct vduse_net *n = NULL;
	struct edu ed, ed2;
	uint32_t as = 0, as2 = 0, dev = 0, dev2 = 0;
	uint64_t len = 0;
	uint8_t *mem, *p;
	char node[300];
	long long pins;
	int fd, iofd, memfd, rc;

	(void)f;
	rc = needs(false);
	if (rc)
		return rc;
	find_edus();
	rc = edu_open(&ed, 0, VFIO_IOASID_IOMMU);
	if (rc)
		return rc;
	rc = edu_open(&ed2, 1, VFIO_IOASID_IOMMU);
	if (rc)
		return rc;
	CHECK_OK(adaptor_up(NULL, &n, node, sizeof(node)));
	fd = open_owned(node, true);
	CHECK(fd >= 0);
	iofd = open("/dev/ioasid", O_RDWR);
	CHECK(iofd >= 0);
	CHECK_OK(io_bind(&ed, iofd, &dev));
	CHECK_OK(io_bind(&ed2, iofd, &dev2));
	/*
	 * Attributes: an ioasid first fixed by the vDPA device (any page
	 * size, any IOVA) does not fit the IOMMU (4K/2M/1G pages, a 48-bit
	 * aperture), so the edu is refused there.
	 */
	CHECK_OK(io_alloc(iofd, &as2));
	CHECK_OK(attach(fd, iofd, as2, 0));
	CHECK_ERR(io_attach(iofd, dev2, as2), -EINVAL);
	CHECK_OK(detach(fd, 0));
	/* The other order works: the IOMMU's ioasid fits the vDPA device. */
	CHECK_OK(io_alloc(iofd, &as));
	CHECK_OK(io_attach(iofd, dev, as));
	CHECK_OK(attach(fd, iofd, as, 0));
	CHECK_OK(stats(fd, &st0));
	/* The driver's memory: a memfd, so the VDUSE device can reach it. */
	memfd = memfd_create("shared", MFD_CLOEXEC);
	CHECK(memfd >= 0 && ftruncate(memfd, 2 * SZ_4K) == 0);
	mem = mmap(NULL, 2 * SZ_4K, PROT_READ | PROT_WRITE, MAP_SHARED,
		   memfd, 0);
	CHECK(mem != MAP_FAILED);
	fill(mem, SZ_4K, 0x3c);
	memset(mem + SZ_4K, 0, SZ_4K);
	pins = kernel_pins();
	memset(e, 0, sizeof(e));
	e[0] = (struct ioasid_dma_entry){ .flags = RW, .iova = IOVA_SRC,
		.vaddr = (uintptr_t)mem, .length = SZ_4K };
	e[1] = (struct ioasid_dma_entry){ .flags = RW, .iova = IOVA_DST,
		.vaddr = (uintptr_t)(mem + SZ_4K), .length = SZ_4K };
	b.ioasid = as;
	b.count = 2;
	b.entry_size = sizeof(e[0]);
	b.entries_uptr = (uintptr_t)e;
	CHECK(ioctl(iofd, IOASID_MAP_BATCH, &b) == 0);
	CHECK_EQ(kernel_pins() - pins, 2);
	/* One batch, one push to the vDPA device. */
	CHECK_OK(stats(fd, &st));
	CHECK_EQ(st.out_map_events - st0.out_map_events, 1);
	CHECK_EQ(st.out_pushes - st0.out_pushes, 1);
	CHECK_EQ(st.out_entries, 2);
	/* Both devices reach the same bytes. */
	p = vduse_net_lookup(n, IOVA_SRC, &len);
	CHECK(p != NULL && len >= SZ_4K && !memcmp(p, mem, SZ_4K));
	CHECK(edu_dma(&ed, IOVA_SRC, false, EDU_LEN) == 0);
	CHECK(edu_dma(&ed, IOVA_DST, true, EDU_LEN) == 0);
	CHECK(!memcmp(mem + SZ_4K, mem, EDU_LEN));
	/* What the vDPA device writes, the edu reads. */
	p = vduse_net_lookup(n, IOVA_SRC, &len);
	CHECK(p != NULL);
	memset(p, 0xe7, EDU_LEN);
	CHECK(edu_dma(&ed, IOVA_SRC, false, EDU_LEN) == 0);
	CHECK(edu_dma(&ed, IOVA_DST, true, EDU_LEN) == 0);
	CHECK(all_bytes(mem + SZ_4K, EDU_LEN, 0xe7));
	/* One unmap: gone from both, and unpinned once it returns. */
	u.ioasid = as;
	u.iova = IOVA_DST;
	u.length = SZ_4K;
	memset(mem + SZ_4K, 0x11, SZ_4K);
	CHECK(ioctl(iofd, IOASID_UNMAP_DMA, &u) == 0);
	CHECK_EQ(u.out_unmapped, SZ_4K);
	CHECK_EQ(kernel_pins() - pins, 1);
	CHECK_OK(stats(fd, &st));
	CHECK_EQ(st.out_unmap_events - st0.out_unmap_events, 1);
	CHECK_EQ(st.out_entries, 1);
	errno = 0;
	CHECK(vduse_net_lookup(n, IOVA_DST, &len) == NULL);
	diag("after the unmap the vDPA device reports a miss at 0x%llx (%s)",
	     IOVA_DST, strerror(errno));
	CHECK(vduse_net_lookup(n, IOVA_SRC, &len) != NULL);
	edu_dma(&ed, IOVA_DST, true, EDU_LEN);	/* faults in the IOMMU */
	CHECK(all_bytes(mem + SZ_4K, SZ_4K, 0x11));
	/* Closing the vDPA file detaches it; the edu keeps the ioasid. */
	close(fd);
	CHECK(edu_dma(&ed, IOVA_SRC, false, EDU_LEN) == 0);
	edu_close(&ed2);
	edu_close(&ed);
	close(iofd);
	CHECK_EQ(kernel_pins(), pins);
	munmap(mem, 2 * SZ_4K);
	close(memfd);
	return adaptor_down(n);
}

#define NPKT	3000U
#define WINDOW	64U
/* Runs that are interrupted midway: long enough to still be running. */
#define NPKT_LONG	200000U

static uint32_t got(struct vu_traffic *t)
{
	return __atomic_load_n(&t->got, __ATOMIC_ACQUIRE) +
	       __atomic_load_n(&t->bad, __ATOMIC_ACQUIRE);
}

/* Wait until @want packets are back or testpmd died: up to 300 s (TCG). */
static void wait_for(struct pmd *p, struct vu_traffic *t, uint32_t want)
{
	int i;

	for (i = 0; i < 300000 && got(t) < want && (i % 100 || pmd_alive(p));
	     i++)
		usleep(1000);
}

/*
 * A long numbered-traffic run (@app's packets, NPKT_LONG of them) on a
 * new device on the adaptor; @node its node, @vdev testpmd's port for it.
 */
static int traffic_up(struct vu_traffic *t, struct vu_app *app,
		      struct vduse_net **n, char node[300], char vdev[400])
{
	CHECK_OK(vu_traffic_init(t, NPKT_LONG, WINDOW, app));
	CHECK_OK(adaptor_up(app, n, node, 300));
	snprintf(vdev, 400,
		 "net_virtio_user0,path=%s,queues=1,queue_size=256", node);
	return 0;
}

static int traffic_ok(struct pmd *p, struct vu_traffic *t,
		      struct vduse_net *n, const char *what)
{
	struct vduse_net_stats st;

	vduse_net_stats(n, &st);
	pmd_stop(p, t->got != t->npkt || t->bad ? stdout : NULL);
	diag("%s: %u sent, %u back intact, %u bad, %u out of order; device: %llu translations fetched, %llu IOTLB updates, broken %u",
	     what, t->sent, t->got, t->bad, t->out_of_order,
	     (unsigned long long)st.misses,
	     (unsigned long long)st.iotlb_updates, st.broken);
	if (t->got != t->npkt)
		vu_traffic_report_missing(t, stdout, 8);
	CHECK_EQ(t->got, t->npkt);
	CHECK_EQ(t->bad, 0);
	CHECK_EQ(t->out_of_order, 0);
	CHECK_EQ(st.broken, 0);
	return 0;
}

/*
 * Unmodified testpmd (net_virtio_user, which recognises the node by the
 * "vhost-vdpa" major in /proc/devices) on the adaptor, compat mode. The
 * first run is killed with traffic flowing: its pins go, the node opens
 * again, and a second run on the same device gets every packet back.
 */
static int t_testpmd_compat(struct fx *f)
{
	static struct vu_traffic t;
	struct vduse_net *n = NULL;
	struct vu_app app;
	char node[300], vdev[400];
	long long pins;
	struct pmd p;
	int fd, rc;

	(void)f;
	rc = needs(true);
	if (rc)
		return rc;
	CHECK_OK(traffic_up(&t, &app, &n, node, vdev));
	pins = kernel_pins();
	CHECK_OK(pmd_start(&p, vdev));
	wait_for(&p, &t, 1000);
	diag("first run: %u of %u packets back; SIGKILL with traffic running",
	     got(&t), NPKT_LONG);
	CHECK(got(&t) >= 1000 && got(&t) < NPKT_LONG);
	CHECK(pmd_alive(&p));
	kill(p.pid, SIGKILL);
	pmd_stop(&p, NULL);
	/* Its device file is closed: every pin it caused is gone. */
	CHECK_EQ(kernel_pins(), pins);
	fd = open(node, O_RDWR);
	CHECK(fd >= 0);
	close(fd);
	vu_traffic_fini(&t);
	CHECK_OK(vu_traffic_init(&t, NPKT, WINDOW, &app));
	CHECK_OK(pmd_start(&p, vdev));
	wait_for(&p, &t, NPKT);
	rc = traffic_ok(&p, &t, n, "second run, compat");
	vu_traffic_fini(&t);
	if (rc)
		return rc;
	CHECK_EQ(kernel_pins(), pins);
	return adaptor_down(n);
}

/* testpmd's descriptor for @node, duplicated into this process. */
static int steal_fd(pid_t pid, const char *node)
{
	char dir[64], path[400], link[400];
	struct dirent *e;
	int pidfd, fd = -1;
	DIR *d;

	snprintf(dir, sizeof(dir), "/proc/%d/fd", (int)pid);
	d = opendir(dir);
	while (d && (e = readdir(d))) {
		ssize_t k;

		snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
		k = readlink(path, link, sizeof(link) - 1);
		if (k <= 0)
			continue;
		link[k] = 0;
		if (!strcmp(link, node)) {
			pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
			if (pidfd >= 0) {
				fd = (int)syscall(SYS_pidfd_getfd, pidfd,
						  atoi(e->d_name), 0);
				close(pidfd);
			}
			break;
		}
	}
	if (d)
		closedir(d);
	return fd;
}

#define MAX_SEGS	512

/*
 * testpmd's hugepage memory, mapped into this process from the same
 * files: IOVA = testpmd's address (--iova-mode=va), vaddr = ours.
 */
static int map_pmd_memory(pid_t pid, struct ioasid_dma_entry *e, int max,
			  void **ours, uint64_t *lens)
{
	char path[64], line[512], file[300];
	unsigned long long start, end, off;
	int n = 0;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/maps", (int)pid);
	f = fopen(path, "r");
	while (f && fgets(line, sizeof(line), f) && n < max) {
		int fd;

		file[0] = 0;
		if (sscanf(line, "%llx-%llx %*s %llx %*s %*s %299s", &start,
			   &end, &off, file) != 4 ||
		    strncmp(file, "/dev/hugepages/", 15))
			continue;
		fd = open(file, O_RDWR);
		if (fd < 0)
			continue;
		ours[n] = mmap(NULL, end - start, PROT_READ | PROT_WRITE,
			       MAP_SHARED, fd, (off_t)off);
		close(fd);
		if (ours[n] == MAP_FAILED)
			continue;
		lens[n] = end - start;
		e[n] = (struct ioasid_dma_entry){ .flags = RW, .iova = start,
			.vaddr = (uintptr_t)ours[n], .length = end - start };
		n++;
	}
	if (f)
		fclose(f);
	return n;
}

/*
 * Unmodified testpmd starts in compat mode; with traffic flowing, this
 * process takes a duplicate of its device file, maps testpmd's memory
 * into an ioasid of its own ioasid fd (one batch; a software device holds
 * the ioasid until the vDPA device joins) and attaches the running device
 * to it. testpmd notices nothing; every packet comes back.
 */
static int t_testpmd_attached(struct fx *f)
{
	static struct vu_traffic t;
	struct ioasid_swdev_create sc = {
		.size = sizeof(sc), .pgsize_bitmap = SZ_4K,
		.aperture_start = 0, .aperture_last = (1ULL << 47) - 1,
	};
	static struct ioasid_dma_entry e[MAX_SEGS];
	struct ioasid_batch b = { .size = sizeof(b) };
	struct ioasid_vdpa_stats st0, st;
	struct vduse_net *n = NULL;
	static void *ours[MAX_SEGS];
	static uint64_t lens[MAX_SEGS];
	struct vu_app app;
	char node[300], vdev[400];
	uint32_t as = 0, before;
	long long pins;
	struct pmd p;
	int fd, iofd, nseg, i, rc;

	(void)f;
	rc = needs(true);
	if (rc)
		return rc;
	CHECK_OK(traffic_up(&t, &app, &n, node, vdev));
	pins = kernel_pins();
	CHECK_OK(pmd_start_eal(&p, vdev, "--iova-mode=va"));
	wait_for(&p, &t, 1000);
	CHECK(pmd_alive(&p));
	fd = steal_fd(p.pid, node);
	CHECK(fd >= 0);
	iofd = open("/dev/ioasid", O_RDWR);
	CHECK(iofd >= 0);
	CHECK_OK(io_alloc(iofd, &as));
	CHECK(ioctl(iofd, IOASID_SWDEV_CREATE, &sc) == 0);
	CHECK_OK(io_attach(iofd, sc.out_dev_id, as));
	nseg = map_pmd_memory(p.pid, e, MAX_SEGS, ours, lens);
	CHECK(nseg > 0 && nseg < MAX_SEGS);
	b.ioasid = as;
	b.count = (uint32_t)nseg;
	b.entry_size = sizeof(e[0]);
	b.entries_uptr = (uintptr_t)e;
	CHECK(ioctl(iofd, IOASID_MAP_BATCH, &b) == 0);
	CHECK_OK(stats(fd, &st0));
	before = got(&t);
	CHECK_OK(attach(fd, iofd, as, 0));
	CHECK_OK(stats(fd, &st));
	diag("attached with %u packets back: %d hugepage segments in one batch; compat had %llu entries, the ioasid gives %llu (%llu merged for the device), in %llu push",
	     before, nseg, (unsigned long long)st0.out_entries,
	     (unsigned long long)st.out_entries,
	     (unsigned long long)st.out_device_entries,
	     (unsigned long long)(st.out_pushes - st0.out_pushes));
	CHECK_EQ(st.out_attached, 1);
	CHECK_EQ(st.out_pushes - st0.out_pushes, 1);
	CHECK(st.out_entries >= (uint64_t)nseg);
	CHECK(before < NPKT_LONG);
	wait_for(&p, &t, NPKT_LONG);
	CHECK(got(&t) > before);
	/* testpmd holds the device file: the stolen copy can go. */
	close(fd);
	rc = traffic_ok(&p, &t, n, "attached");
	vu_traffic_fini(&t);
	close(iofd);
	for (i = 0; i < nseg; i++)
		munmap(ours[i], lens[i]);
	if (rc)
		return rc;
	/* testpmd gone, the ioasid fd closed: nothing stays pinned. */
	CHECK_EQ(kernel_pins(), pins);
	return adaptor_down(n);
}

/* Owners. */

/* What a child did, one result (0 or -errno) per step, sent to the parent. */
struct child_res {
	int r[4];
};

static int child_wait(pid_t pid, int rd, struct child_res *res)
{
	int status = 0;

	memset(res, 0x7f, sizeof(*res));
	CHECK(read(rd, res, sizeof(*res)) == (ssize_t)sizeof(*res));
	CHECK(waitpid(pid, &status, 0) == pid);
	CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	return 0;
}

static const char *rname(int r)
{
	return r ? ioasid_errno_name(r) : "ok";
}

static int set_v2(int fd)
{
	uint64_t bf = 0;

	if (ioctl(fd, VHOST_GET_BACKEND_FEATURES, &bf))
		return -errno;
	bf &= (1ULL << VHOST_BACKEND_F_IOTLB_MSG_V2) |
	      (1ULL << VHOST_BACKEND_F_IOTLB_ASID);
	return ioctl(fd, VHOST_SET_BACKEND_FEATURES, &bf) ? -errno : 0;
}

/*
 * The node is opened by this process and passed, before anyone is the
 * owner, to a child over a unix socket (as a management process hands a
 * vhost-vdpa file to a VMM). The child becomes the owner and maps an
 * address where it has its own memory and the opener has other memory:
 * the device must get the owner's bytes, never the opener's. The opener,
 * not the owner, is refused.
 */
static int t_owner_not_opener(struct fx *f)
{
	struct child_res res;
	struct vduse_net *n = NULL;
	uint8_t *addr, *owner_view, *dev;
	uint64_t len = 0;
	char node[300];
	int fd, sv[2], pipefd[2], secret, mine, rc;
	pid_t pid;

	(void)f;
	rc = needs(false);
	if (rc)
		return rc;
	CHECK_OK(adaptor_up(NULL, &n, node, sizeof(node)));
	/* At @addr: the opener's secret here, the owner's memory there. */
	secret = memfd_create("opener-secret", MFD_CLOEXEC);
	mine = memfd_create("owner-memory", MFD_CLOEXEC);
	CHECK(secret >= 0 && ftruncate(secret, PIECE) == 0);
	CHECK(mine >= 0 && ftruncate(mine, PIECE) == 0);
	addr = mmap(NULL, PIECE, PROT_READ | PROT_WRITE, MAP_SHARED, secret, 0);
	owner_view = mmap(NULL, PIECE, PROT_READ | PROT_WRITE, MAP_SHARED,
			  mine, 0);
	CHECK(addr != MAP_FAILED && owner_view != MAP_FAILED);
	fill(addr, PIECE, 0x5e);
	fill(owner_view, PIECE, 0x0e);
	CHECK(memcmp(addr, owner_view, 64));
	CHECK_OK(socketpair(AF_UNIX, SOCK_STREAM, 0, sv));
	CHECK_OK(pipe(pipefd));
	fflush(stdout);
	pid = fork();
	CHECK(pid >= 0);
	if (!pid) {
		int vfd;

		close(sv[0]);
		close(pipefd[0]);
		memset(&res, 0, sizeof(res));
		if (mmap(addr, PIECE, PROT_READ | PROT_WRITE,
			 MAP_SHARED | MAP_FIXED, mine, 0) != addr)
			_exit(2);
		vfd = recv_fd(sv[1]);
		if (vfd < 0)
			_exit(3);
		res.r[0] = ioctl(vfd, VHOST_SET_OWNER) ? -errno : 0;
		res.r[1] = set_v2(vfd);
		res.r[2] = iotlb(vfd, 0, VHOST_IOTLB_UPDATE, IOVA, PIECE, addr,
				 VHOST_ACCESS_RW);
		_exit(write(pipefd[1], &res, sizeof(res)) == sizeof(res) ?
		      0 : 4);
	}
	close(sv[1]);
	close(pipefd[1]);
	fd = open(node, O_RDWR);
	CHECK(fd >= 0);
	CHECK_OK(send_fd(sv[0], fd));
	CHECK_OK(child_wait(pid, pipefd[0], &res));
	close(sv[0]);
	close(pipefd[0]);
	CHECK_OK(res.r[0]);
	CHECK_OK(res.r[1]);
	CHECK_OK(res.r[2]);
	/* The device translates through the owner's memory. */
	dev = vduse_net_lookup(n, IOVA + 4096 + 5, &len);
	CHECK(dev != NULL && len >= 64);
	diag("opener passed the file, the owner mapped 0x%llx: the device reads 0x%02x (owner's 0x%02x, opener's 0x%02x)",
	     IOVA, dev[0], owner_view[4096 + 5], addr[4096 + 5]);
	CHECK(memcmp(dev, addr + 4096 + 5, 64));
	CHECK(!memcmp(dev, owner_view + 4096 + 5, 64));
	/* The opener is not the owner: refused, nothing changes. */
	CHECK_OK(set_v2(fd));
	CHECK_ERR(iotlb(fd, 0, VHOST_IOTLB_UPDATE, IOVA + PIECE, PIECE, addr,
			VHOST_ACCESS_RW), -EPERM);
	CHECK_ERR(iotlb(fd, 0, VHOST_IOTLB_INVALIDATE, IOVA, PIECE, NULL, 0),
		  -EPERM);
	CHECK(vduse_net_lookup(n, IOVA + PIECE + 5, &len) == NULL);
	CHECK(vduse_net_lookup(n, IOVA + 5, &len) != NULL);
	close(fd);
	munmap(addr, PIECE);
	munmap(owner_view, PIECE);
	close(secret);
	close(mine);
	return adaptor_down(n);
}

/*
 * The owner forks; the child, which holds the file but is not the owner,
 * sends an IOTLB message, then, as nobody (no privilege to manage vDPA
 * devices), tries to switch the device to an ioasid of its own, whose
 * memory it could then pin for the owner's device. Everything is refused,
 * and the owner's maps keep working. No IOTLB message is accepted before
 * there is an owner.
 */
static int t_fork_after_owner(struct fx *f)
{
	struct ioasid_vdpa_stats st;
	struct child_res res;
	struct vduse_net *n = NULL;
	uint64_t len = 0;
	uint8_t *mem, *dev;
	char node[300];
	int fd, memfd, pipefd[2], rc;
	pid_t pid;

	(void)f;
	rc = needs(false);
	if (rc)
		return rc;
	CHECK_OK(adaptor_up(NULL, &n, node, sizeof(node)));
	memfd = memfd_create("owner", MFD_CLOEXEC);
	CHECK(memfd >= 0 && ftruncate(memfd, 2 * PIECE) == 0);
	mem = mmap(NULL, 2 * PIECE, PROT_READ | PROT_WRITE, MAP_SHARED,
		   memfd, 0);
	CHECK(mem != MAP_FAILED);
	fill(mem, 2 * PIECE, 0x6b);
	/* Before VHOST_SET_OWNER nobody maps, the opener included. */
	fd = open(node, O_RDWR);
	CHECK(fd >= 0);
	CHECK_OK(set_v2(fd));
	CHECK_ERR(iotlb(fd, 0, VHOST_IOTLB_UPDATE, IOVA, PIECE, mem,
			VHOST_ACCESS_RW), -EPERM);
	close(fd);
	fd = open_owned(node, true);
	CHECK(fd >= 0);
	CHECK_OK(iotlb(fd, 0, VHOST_IOTLB_UPDATE, IOVA, PIECE, mem,
		       VHOST_ACCESS_RW));
	CHECK_OK(pipe(pipefd));
	fflush(stdout);
	pid = fork();
	CHECK(pid >= 0);
	if (!pid) {
		struct ioasid_alloc al = { .size = sizeof(al) };
		int iofd;

		close(pipefd[0]);
		memset(&res, 0, sizeof(res));
		res.r[0] = iotlb(fd, 0, VHOST_IOTLB_UPDATE, IOVA + PIECE,
				 PIECE, mem + PIECE, VHOST_ACCESS_RW);
		if (setgid(NOBODY) || setuid(NOBODY))
			_exit(2);
		iofd = open("/dev/ioasid", O_RDWR);
		if (iofd < 0 || ioctl(iofd, IOASID_ALLOC, &al))
			_exit(3);
		res.r[1] = iotlb(fd, 0, VHOST_IOTLB_INVALIDATE, IOVA, PIECE,
				 NULL, 0);
		res.r[2] = detach(fd, 0);
		res.r[3] = attach(fd, iofd, al.out_ioasid, 0);
		_exit(write(pipefd[1], &res, sizeof(res)) == sizeof(res) ?
		      0 : 4);
	}
	close(pipefd[1]);
	CHECK_OK(child_wait(pid, pipefd[0], &res));
	close(pipefd[0]);
	diag("forked child (not the owner): IOTLB update %s, invalidate %s; as nobody: detach %s, attach %s",
	     rname(res.r[0]), rname(res.r[1]), rname(res.r[2]),
	     rname(res.r[3]));
	CHECK_ERR(res.r[0], -EPERM);
	CHECK_ERR(res.r[1], -EPERM);
	CHECK_ERR(res.r[2], -EPERM);
	CHECK_ERR(res.r[3], -EPERM);
	/* The owner's device is as it was, and the owner still maps. */
	CHECK_OK(stats(fd, &st));
	CHECK_EQ(st.out_attached, 0);
	CHECK_EQ(st.out_entries, 1);
	CHECK(vduse_net_lookup(n, IOVA + PIECE + 5, &len) == NULL);
	CHECK_OK(iotlb(fd, 0, VHOST_IOTLB_UPDATE, IOVA + PIECE, PIECE,
		       mem + PIECE, VHOST_ACCESS_RW));
	dev = vduse_net_lookup(n, IOVA + PIECE + 5, &len);
	CHECK(dev != NULL && !memcmp(dev, mem + PIECE + 5, 64));
	dev = vduse_net_lookup(n, IOVA + 5, &len);
	CHECK(dev != NULL && !memcmp(dev, mem + 5, 64));
	CHECK_OK(stats(fd, &st));
	CHECK_EQ(st.out_entries, 2);
	close(fd);
	munmap(mem, 2 * PIECE);
	close(memfd);
	return adaptor_down(n);
}

/* The end of @field in @type: a struct version's size, by its last field. */
#define END_OF(type, field) \
	(offsetof(type, field) + sizeof(((type *)0)->field))

/* One of the adaptor's own ioctls at @size from @buf: 0 or -errno. */
static int sized(int fd, unsigned long cmd, void *buf, uint32_t size)
{
	*(uint32_t *)buf = size;
	return ioctl(fd, cmd, buf) ? -errno : 0;
}

/*
 * IOASID_VDPA_ATTACH, _DETACH and _STATS read their structs the way the
 * ioasid fd's decoder does (size first). Each: the first version's size
 * served; a newer caller's larger struct served with a zero tail, E2BIG
 * with a non-zero one or past the 4 KiB bound; a size below the first
 * version, unknown flags and reserved bits EINVAL. STATS, an output,
 * writes back only the size it was given: a caller of the first version
 * (before its flags) gets that prefix.
 */
static int t_struct_sizes(struct fx *f)
{
	const uint32_t at_first = END_OF(struct ioasid_vdpa_attach, out_dev_id);
	const uint32_t dt_first = END_OF(struct ioasid_vdpa_detach, __reserved);
	const uint32_t st_first = END_OF(struct ioasid_vdpa_stats,
					 out_device_entries);
	struct ioasid_alloc al = { .size = sizeof(al) };
	struct ioasid_vdpa_attach *at;
	struct ioasid_vdpa_detach *dt;
	struct ioasid_vdpa_stats *st;
	struct vduse_net *n = NULL;
	uint8_t *buf = calloc(1, 8192);
	uint32_t big, i;
	char node[300];
	int fd, iofd, rc;

	(void)f;
	rc = needs(false);
	if (rc)
		return rc;
	CHECK(buf != NULL);
	CHECK_OK(adaptor_up(NULL, &n, node, sizeof(node)));
	fd = open_owned(node, true);
	CHECK(fd >= 0);
	iofd = open("/dev/ioasid", O_RDWR);
	CHECK(iofd >= 0 && ioctl(iofd, IOASID_ALLOC, &al) == 0);

	/* STATS: the first version (no flags) gets its prefix, no more. */
	CHECK(st_first < sizeof(*st));
	st = (struct ioasid_vdpa_stats *)buf;
	memset(buf, 0xa5, 8192);
	st->asid = 0;
	CHECK_ERR(sized(fd, IOASID_VDPA_STATS, buf, st_first), 0);
	CHECK_EQ(st->out_attached, 0);
	CHECK(st->out_ioasid != 0);
	for (i = st_first; i < 64; i++)
		CHECK_EQ(buf[i], 0xa5);
	memset(buf, 0, 8192);
	big = sizeof(*st) + 24;
	CHECK_ERR(sized(fd, IOASID_VDPA_STATS, buf, big), 0);
	CHECK(st->out_ioasid != 0);
	for (i = sizeof(*st); i < big; i++)
		CHECK_EQ(buf[i], 0);
	buf[big - 1] = 1;
	CHECK_ERR(sized(fd, IOASID_VDPA_STATS, buf, big), -E2BIG);
	buf[big - 1] = 0;
	CHECK_ERR(sized(fd, IOASID_VDPA_STATS, buf, 8192), -E2BIG);
	CHECK_ERR(sized(fd, IOASID_VDPA_STATS, buf, st_first - 8), -EINVAL);
	CHECK_ERR(sized(fd, IOASID_VDPA_STATS, buf, 4), -EINVAL);
	st->flags = 1;
	CHECK_ERR(sized(fd, IOASID_VDPA_STATS, buf, sizeof(*st)), -EINVAL);
	st->flags = 0;
	st->__reserved = 1;
	CHECK_ERR(sized(fd, IOASID_VDPA_STATS, buf, sizeof(*st)), -EINVAL);

	/* ATTACH: every refusal first; nothing is attached by one. */
	memset(buf, 0, 8192);
	at = (struct ioasid_vdpa_attach *)buf;
	at->ioasid_fd = iofd;
	at->ioasid = al.out_ioasid;
	big = sizeof(*at) + 40;
	buf[big - 1] = 1;
	CHECK_ERR(sized(fd, IOASID_VDPA_ATTACH, buf, big), -E2BIG);
	buf[big - 1] = 0;
	CHECK_ERR(sized(fd, IOASID_VDPA_ATTACH, buf, 8192), -E2BIG);
	CHECK_ERR(sized(fd, IOASID_VDPA_ATTACH, buf, at_first - 4), -EINVAL);
	CHECK_ERR(sized(fd, IOASID_VDPA_ATTACH, buf, 4), -EINVAL);
	at->flags = 1;
	CHECK_ERR(sized(fd, IOASID_VDPA_ATTACH, buf, at_first), -EINVAL);
	at->flags = 1u << 31;
	CHECK_ERR(sized(fd, IOASID_VDPA_ATTACH, buf, big), -EINVAL);
	at->flags = 0;
	CHECK_OK(stats(fd, (struct ioasid_vdpa_stats *)(buf + 4096)));
	CHECK_EQ(((struct ioasid_vdpa_stats *)(buf + 4096))->out_attached, 0);
	/* A newer caller, zero tail: attached; the tail is left alone. */
	CHECK_ERR(sized(fd, IOASID_VDPA_ATTACH, buf, big), 0);
	CHECK(at->out_dev_id != 0);
	for (i = sizeof(*at); i < big; i++)
		CHECK_EQ(buf[i], 0);
	CHECK_OK(stats(fd, (struct ioasid_vdpa_stats *)(buf + 4096)));
	CHECK_EQ(((struct ioasid_vdpa_stats *)(buf + 4096))->out_attached, 1);

	/* DETACH: the refusals leave it attached; a larger zero tail works. */
	memset(buf, 0, 8192);
	dt = (struct ioasid_vdpa_detach *)buf;
	big = sizeof(*dt) + 16;
	buf[big - 1] = 1;
	CHECK_ERR(sized(fd, IOASID_VDPA_DETACH, buf, big), -E2BIG);
	buf[big - 1] = 0;
	CHECK_ERR(sized(fd, IOASID_VDPA_DETACH, buf, 8192), -E2BIG);
	CHECK_ERR(sized(fd, IOASID_VDPA_DETACH, buf, dt_first - 4), -EINVAL);
	dt->flags = 1;
	CHECK_ERR(sized(fd, IOASID_VDPA_DETACH, buf, dt_first), -EINVAL);
	dt->flags = 0;
	dt->__reserved = 1;
	CHECK_ERR(sized(fd, IOASID_VDPA_DETACH, buf, dt_first), -EINVAL);
	dt->__reserved = 0;
	CHECK_OK(stats(fd, (struct ioasid_vdpa_stats *)(buf + 4096)));
	CHECK_EQ(((struct ioasid_vdpa_stats *)(buf + 4096))->out_attached, 1);
	CHECK_ERR(sized(fd, IOASID_VDPA_DETACH, buf, big), 0);
	CHECK_OK(stats(fd, (struct ioasid_vdpa_stats *)(buf + 4096)));
	CHECK_EQ(((struct ioasid_vdpa_stats *)(buf + 4096))->out_attached, 0);

	/* The first versions of attach and detach, as old callers pass them. */
	memset(buf, 0, 8192);
	at->ioasid_fd = iofd;
	at->ioasid = al.out_ioasid;
	CHECK_ERR(sized(fd, IOASID_VDPA_ATTACH, buf, at_first), 0);
	CHECK(at->out_dev_id != 0);
	memset(buf, 0, 8192);
	CHECK_ERR(sized(fd, IOASID_VDPA_DETACH, buf, dt_first), 0);
	CHECK_OK(stats(fd, (struct ioasid_vdpa_stats *)(buf + 4096)));
	CHECK_EQ(((struct ioasid_vdpa_stats *)(buf + 4096))->out_attached, 0);
	close(iofd);
	close(fd);
	free(buf);
	return adaptor_down(n);
}

/* The module's test switches (main.c): fail_nth and live_objects. */
#define PARAMS	"/sys/module/ioasid/parameters/"

static int param_get(const char *name, uint64_t *v)
{
	char path[128], buf[32];
	ssize_t got;
	int fd, err;

	snprintf(path, sizeof(path), PARAMS "%s", name);
	fd = open(path, O_RDONLY);
	if (fd < 0)
		return -errno;
	got = read(fd, buf, sizeof(buf) - 1);
	err = errno;
	close(fd);
	if (got <= 0)
		return got < 0 ? -err : -EIO;
	buf[got] = 0;
	*v = strtoull(buf, NULL, 10);
	return 0;
}

static int param_set(const char *name, uint64_t v)
{
	char path[128], buf[32];
	int fd, len, rc = 0;

	snprintf(path, sizeof(path), PARAMS "%s", name);
	fd = open(path, O_WRONLY);
	if (fd < 0)
		return -errno;
	len = snprintf(buf, sizeof(buf), "%" PRIu64, v);
	if (write(fd, buf, len) != len)
		rc = -errno;
	close(fd);
	return rc;
}

/*
 * Arm the module's fault switch at point @nth, make @call, disarm: @rc is
 * the call's result, @fired whether it reached the point.
 */
#define FAULT_AT(nth, call, rc, fired) do { \
	uint64_t left_ = 0; \
	int err_; \
	CHECK_OK(param_set("fail_nth", (nth))); \
	(rc) = (call); \
	err_ = param_get("fail_nth", &left_); \
	CHECK_OK(param_set("fail_nth", 0)); \
	CHECK_OK(err_); \
	(fired) = !left_; \
} while (0)

/*
 * A failed attach unwinds the whole bind (issue 12). Each fault point of
 * DETACH's way back to compat mode (a fresh ioasid, the bind, the attach)
 * and of ATTACH fails in turn. A failed detach leaves the ASID with no
 * ioasid at all: STATS reports none, an IOTLB message gets ENODEV (not a
 * map into an ioasid number the ASID no longer owns), and the next attach
 * works. A failed attach falls back to a compat ioasid that maps. Every
 * object the engine took is given back (live_objects).
 */
static int t_failed_attach_unwinds(struct fx *f)
{
	struct ioasid_alloc al = { .size = sizeof(al) };
	unsigned int nth, failed_detach = 0, failed_attach = 0;
	uint64_t live0 = 0, live = 0, len = 0;
	struct ioasid_vdpa_stats st;
	struct vduse_net *n = NULL;
	char node[300];
	uint8_t *mem;
	int fd, iofd, memfd, rc;
	bool fired;

	(void)f;
	rc = needs(false);
	if (rc)
		return rc;
	rc = param_set("fail_nth", 0);
	if (rc) {
		skip_reason("ioasid.ko's fail_nth parameter cannot be written (%s): root is needed",
			    strerror(-rc));
		return SKIP_RC;
	}
	CHECK_OK(adaptor_up(NULL, &n, node, sizeof(node)));
	memfd = memfd_create("vdpa-guest", MFD_CLOEXEC);
	CHECK(memfd >= 0 && ftruncate(memfd, PIECE) == 0);
	mem = mmap(NULL, PIECE, PROT_READ | PROT_WRITE, MAP_SHARED, memfd, 0);
	CHECK(mem != MAP_FAILED);
	fill(mem, PIECE, 0x3c);
	CHECK_OK(param_get("live_objects", &live0));
	fd = open_owned(node, false);
	CHECK(fd >= 0);
	iofd = open("/dev/ioasid", O_RDWR);
	CHECK(iofd >= 0 && ioctl(iofd, IOASID_ALLOC, &al) == 0);

	for (nth = 1; nth <= 64; nth++) {
		/* After a failure too: the ASID can be attached again. */
		CHECK_OK(attach(fd, iofd, al.out_ioasid, 0));
		FAULT_AT(nth, detach(fd, 0), rc, fired);
		CHECK_OK(stats(fd, &st));
		CHECK_EQ(st.out_attached, 0);
		if (!fired) {
			CHECK_OK(rc);
			CHECK(st.out_ioasid != 0);
			break;
		}
		if (!rc) {		/* absorbed: back in compat mode */
			CHECK(st.out_ioasid != 0);
			continue;
		}
		failed_detach++;
		CHECK_EQ(st.out_ioasid, 0);
		CHECK_ERR(iotlb(fd, 0, VHOST_IOTLB_UPDATE, IOVA, PIECE, mem,
				VHOST_ACCESS_RW), -ENODEV);
		CHECK(vduse_net_lookup(n, IOVA + 5, &len) == NULL);
	}
	CHECK(nth <= 64);
	CHECK(failed_detach > 0);
	/* Compat mode after the walk: the device gets what is mapped. */
	CHECK_OK(iotlb(fd, 0, VHOST_IOTLB_UPDATE, IOVA, PIECE, mem,
		       VHOST_ACCESS_RW));
	CHECK(vduse_net_lookup(n, IOVA + 5, &len) != NULL);
	CHECK_OK(iotlb(fd, 0, VHOST_IOTLB_INVALIDATE, IOVA, PIECE, NULL, 0));

	for (nth = 1; nth <= 64; nth++) {
		FAULT_AT(nth, attach(fd, iofd, al.out_ioasid, 0), rc, fired);
		CHECK_OK(stats(fd, &st));
		if (!rc) {
			CHECK_EQ(st.out_attached, 1);
			CHECK_EQ(st.out_ioasid, al.out_ioasid);
			if (!fired)
				break;
			CHECK_OK(detach(fd, 0));	/* absorbed */
			continue;
		}
		CHECK(fired);
		failed_attach++;
		/* Compat mode again, on a fresh ioasid that maps. */
		CHECK_EQ(st.out_attached, 0);
		CHECK(st.out_ioasid != 0);
		CHECK_OK(iotlb(fd, 0, VHOST_IOTLB_UPDATE, IOVA, PIECE, mem,
			       VHOST_ACCESS_RW));
		CHECK(vduse_net_lookup(n, IOVA + 5, &len) != NULL);
		CHECK_OK(iotlb(fd, 0, VHOST_IOTLB_INVALIDATE, IOVA, PIECE,
			       NULL, 0));
	}
	CHECK(nth <= 64);
	CHECK(failed_attach > 0);
	CHECK_OK(detach(fd, 0));
	close(iofd);
	close(fd);
	CHECK_OK(param_get("live_objects", &live));
	diag("detach: %u points failed, attach: %u; live objects %" PRIu64
	     " before, %" PRIu64 " after", failed_detach, failed_attach, live0,
	     live);
	CHECK_EQ(live, live0);
	munmap(mem, PIECE);
	close(memfd);
	return adaptor_down(n);
}

#define QEMU	"/usr/bin/qemu-system-x86_64"

/*
 * QEMU's vhost-vdpa netdev, unmodified, initialises against the adaptor's
 * node: it negotiates features and backend features, reads the config
 * space and the IOVA range, and sets the owner. The machine stays paused
 * (-S): a guest driver would need a nested guest, far too slow under TCG.
 */
static int t_qemu_netdev(struct fx *f)
{
	struct vduse_net *n = NULL;
	char node[300], cmd[1200], out[4096];
	size_t got_bytes;
	FILE *p;
	int rc, status;

	(void)f;
	rc = needs(false);
	if (rc)
		return rc;
	if (access(QEMU, X_OK)) {
		skip_reason("needs %s", QEMU);
		return SKIP_RC;
	}
	CHECK_OK(adaptor_up(NULL, &n, node, sizeof(node)));
	snprintf(cmd, sizeof(cmd),
		 "printf 'info network\\nquit\\n' | " QEMU
		 " -machine q35,accel=tcg -nodefaults -display none -m 64"
		 " -netdev vhost-vdpa,id=n0,vhostdev=%s"
		 " -device virtio-net-pci,netdev=n0 -S -monitor stdio 2>&1",
		 node);
	p = popen(cmd, "r");
	CHECK(p != NULL);
	got_bytes = fread(out, 1, sizeof(out) - 1, p);
	out[got_bytes] = 0;
	status = pclose(p);
	/* "info network" lists the netdev with its type. */
	rc = strstr(out, "type=vhost-vdpa") != NULL;
	diag("QEMU on %s said:", node);
	for (char *l = strtok(out, "\n"); l; l = strtok(NULL, "\n"))
		if (strstr(l, "n0") || strstr(l, "vhost") || strstr(l, "error"))
			diag("  %s", l);
	CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	CHECK(rc);
	/* The node is free again: QEMU closed it. */
	rc = open(node, O_RDWR);
	CHECK(rc >= 0);
	close(rc);
	return adaptor_down(n);
}

static const struct test tests[] = {
	{ "compat_iotlb", t_compat_iotlb, NULL },
	{ "shared_with_edu", t_shared_with_edu, NULL },
	{ "testpmd_compat_kill_rerun", t_testpmd_compat, NULL },
	{ "testpmd_attached", t_testpmd_attached, NULL },
	{ "qemu_vhost_vdpa_netdev", t_qemu_netdev, NULL },
	{ "owner_not_opener", t_owner_not_opener, NULL },
	{ "fork_after_owner", t_fork_after_owner, NULL },
	{ "struct_sizes", t_struct_sizes, NULL },
	{ "failed_attach_unwinds", t_failed_attach_unwinds, NULL },
};

int main(int argc, char **argv)
{
	return run_tests("adaptor", tests, sizeof(tests) / sizeof(tests[0]),
			 argc, argv);
}
