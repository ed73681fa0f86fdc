// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/*
 * vdpa, in the kernel suite's VM: the project's VDUSE virtio-net device
 * (vdpa/vduse_net.c) on the vDPA bus, bound to the stock vhost_vdpa
 * driver, fed by the fast path's vhost-vdpa backend
 * (fastpath/backend_vhost_vdpa.c) through the batcher. The mappings a
 * batch installs reach the device as the same bytes; an unmap takes them
 * away from it. This is the stock-kernel half of the vDPA work: the
 * adaptor that binds such a device to an ioasid (ioasid_vdpa.ko) is
 * tested in test_vdpa_adaptor.c.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <fcntl.h>
#include <linux/vhost.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <time.h>

#include "harness.h"
#include "ioasid_fastpath.h"
#include "pmd.h"
#include "traffic.h"
#include "vdpa_nl.h"
#include "vduse_net.h"

#define NAME	"ioasid-vduse0"
#define IOVA	0x100000ULL
#define PIECE	SZ_1M

/*
 * Create the VDUSE device (with @app's data path, or none), add it to the
 * vDPA bus and wait for vhost_vdpa's node: 0 with *n and @node set.
 */
static int bring_up(const struct vu_app *app, struct vduse_net **n,
		    char *node, size_t len)
{
	int rc = vduse_net_create(NAME, app, n);

	if (rc) {
		diag("vduse_net_create: %s", strerror(-rc));
		return 1;
	}
	CHECK_OK(vdpa_nl_dev_add(NAME, "vduse"));
	CHECK_OK(vdpa_dev_node_wait(NAME, node, len, 5000));
	return 0;
}

static int t_vduse_vhost_vdpa_batches(struct fx *f)
{
	struct ioasid_fp_batcher_cfg cfg = { .size = sizeof(cfg) };
	struct ioasid_fp_req r[4];
	struct ioasid_fp_backend *be = NULL;
	struct ioasid_fp_shadow *sh = NULL;
	struct ioasid_fp_batcher *b = NULL;
	struct vduse_net_stats st;
	struct vduse_net *n = NULL;
	uint64_t bf = 0, len = 0, unmapped = 0;
	char node[300];
	uint8_t *mem, *dev;
	int fd = -1, memfd, i;

	(void)f;
	if (access("/dev/vduse/control", F_OK) &&
	    system("modprobe vduse 2>/dev/null")) {
		skip_reason("no VDUSE in this kernel");
		return SKIP_RC;
	}
	if (system("modprobe vhost_vdpa 2>/dev/null")) {
		skip_reason("needs the vhost_vdpa module");
		return SKIP_RC;
	}
	CHECK_OK(bring_up(NULL, &n, node, sizeof(node)));
	diag("%s bound to vhost_vdpa as %s", NAME, node);
	/* The netlink view: listed, a virtio-net device of VDUSE; no twin. */
	{
		struct vdpa_nl_dev d[8];
		int k, nd = vdpa_nl_dev_list(d, 8);

		CHECK(nd >= 1);
		for (k = 0; k < nd && k < 8 && strcmp(d[k].name, NAME); k++)
			;
		CHECK(k < nd && k < 8);
		CHECK_EQ(d[k].device_id, 1);
		CHECK(!strcmp(d[k].mgmtdev, "vduse"));
		CHECK_ERR(vdpa_nl_dev_add(NAME, "vduse"), -EEXIST);
		CHECK_ERR(vdpa_nl_dev_add("ioasid-nope", "no-such-mgmtdev"),
			  -ENODEV);
		CHECK_ERR(vdpa_nl_dev_del("ioasid-nope"), -ENODEV);
	}
	fd = open(node, O_RDWR);
	CHECK(fd >= 0);
	CHECK(ioctl(fd, VHOST_SET_OWNER) == 0);
	CHECK(ioctl(fd, VHOST_GET_BACKEND_FEATURES, &bf) == 0);
	bf &= (1ULL << VHOST_BACKEND_F_IOTLB_MSG_V2) |
	      (1ULL << VHOST_BACKEND_F_IOTLB_BATCH);
	CHECK(ioctl(fd, VHOST_SET_BACKEND_FEATURES, &bf) == 0);
	CHECK(bf & (1ULL << VHOST_BACKEND_F_IOTLB_BATCH));
	/* VDUSE maps by file: the driver's memory is a memfd. */
	memfd = memfd_create("vdpa-guest", MFD_CLOEXEC);
	CHECK(memfd >= 0 && ftruncate(memfd, 4 * PIECE) == 0);
	mem = mmap(NULL, 4 * PIECE, PROT_READ | PROT_WRITE, MAP_SHARED, memfd, 0);
	CHECK(mem != MAP_FAILED);
	for (i = 0; i < (int)(4 * PIECE); i++)
		mem[i] = (uint8_t)(i * 7 + i / 4096);
	CHECK_OK(ioasid_fp_backend_vhost_vdpa(fd, 0, bf, &be));
	CHECK_OK(ioasid_fp_shadow_create(&sh));
	CHECK_OK(ioasid_fp_batcher_create(sh, be, &cfg, &b));
	/* Four maps in one flush: one BATCH_BEGIN..END on the device fd. */
	memset(r, 0, sizeof(r));
	for (i = 0; i < 4; i++) {
		r[i].op = (struct ioasid_fp_op){ IOASID_FP_MAP,
			IOASID_FP_READ | IOASID_FP_WRITE,
			IOVA + (uint64_t)i * PIECE, (uintptr_t)(mem + i * PIECE),
			PIECE };
		CHECK_OK(ioasid_fp_submit(b, &r[i]));
	}
	ioasid_fp_barrier(b);
	for (i = 0; i < 4; i++)
		CHECK_EQ(r[i].result, 0);
	vduse_net_stats(n, &st);
	diag("device: %llu requests, %llu IOTLB updates, status 0x%x; backend calls %llu",
	     (unsigned long long)st.requests,
	     (unsigned long long)st.iotlb_updates, st.status,
	     (unsigned long long)be->calls);
	/* One batch: one set_map, one update request to the device. */
	CHECK_EQ(st.iotlb_updates, 1);
	CHECK_EQ(be->calls, 1);
	/* The device sees the bytes at every IOVA the batch mapped. */
	for (i = 0; i < 4; i++) {
		uint64_t at = IOVA + (uint64_t)i * PIECE + 4096 * (uint64_t)i + 123;

		dev = vduse_net_lookup(n, at, &len);
		CHECK(dev != NULL);
		CHECK(len >= 64);
		CHECK(!memcmp(dev, mem + (at - IOVA), 64));
	}
	/* And writes through the device land in the driver's memory. */
	dev = vduse_net_lookup(n, IOVA + 2 * PIECE, &len);
	CHECK(dev != NULL);
	memset(dev, 0xab, 32);
	CHECK(mem[2 * PIECE] == 0xab && mem[2 * PIECE + 31] == 0xab);
	/* Unmapped: the device has nothing there any more. */
	CHECK_OK(ioasid_fp_unmap(b, IOVA + PIECE, PIECE, &unmapped));
	CHECK_EQ(unmapped, PIECE);
	CHECK(vduse_net_lookup(n, IOVA + PIECE + 100, &len) == NULL);
	CHECK(vduse_net_lookup(n, IOVA + 100, &len) != NULL);
	vduse_net_stats(n, &st);
	CHECK_EQ(st.iotlb_updates, 2);
	ioasid_fp_batcher_destroy(b);
	ioasid_fp_shadow_destroy(sh);
	ioasid_fp_backend_destroy(be);
	close(fd);
	CHECK_OK(vdpa_nl_dev_del(NAME));
	{
		struct vdpa_nl_dev d[8];
		int k, nd = vdpa_nl_dev_list(d, 8);

		for (k = 0; k < nd && k < 8; k++)
			CHECK(strcmp(d[k].name, NAME));
	}
	CHECK_OK(vduse_net_destroy(n));
	munmap(mem, 4 * PIECE);
	close(memfd);
	return 0;
}

/* Numbered packets the device sends; testpmd forwards them back. */
#define NPKT	3000U
#define WINDOW	64U

/*
 * Unmodified dpdk-testpmd with net_virtio_user on /dev/vhost-vdpa-N, over
 * the stock vhost_vdpa driver, exchanges numbered packets with the VDUSE
 * device, whose data path translates through the shadow filled from
 * VDUSE's IOTLB.
 */
static int t_vduse_testpmd(struct fx *f)
{
	static struct vu_traffic t;
	struct vu_app app;
	struct vduse_net_stats st;
	struct vduse_net *n = NULL;
	char node[300], vdev[400];
	struct pmd p;
	int i;

	(void)f;
	if (access(PMD_PATH, X_OK) || system("modprobe vduse 2>/dev/null") ||
	    system("modprobe vhost_vdpa 2>/dev/null")) {
		skip_reason("needs dpdk-testpmd, vduse and vhost_vdpa");
		return SKIP_RC;
	}
	if (pmd_hugepages(200)) {
		skip_reason("cannot reserve hugepages in the guest");
		return SKIP_RC;
	}
	CHECK_OK(vu_traffic_init(&t, NPKT, WINDOW, &app));
	CHECK_OK(bring_up(&app, &n, node, sizeof(node)));
	snprintf(vdev, sizeof(vdev), "net_virtio_user0,path=%s,queues=1,queue_size=256",
		 node);
	CHECK_OK(pmd_start(&p, vdev));
	/* Up to 240 s under TCG: testpmd starts slowly in the guest. */
	for (i = 0; i < 2400 && pmd_alive(&p) &&
		    __atomic_load_n(&t.got, __ATOMIC_ACQUIRE) +
		    __atomic_load_n(&t.bad, __ATOMIC_ACQUIRE) < NPKT; i++)
		usleep(100000);
	vduse_net_stats(n, &st);
	pmd_stop(&p, t.got != NPKT || t.bad ? stdout : NULL);
	diag("VDUSE device: %u sent, %u back intact, %u bad, %u out of order; %llu translations fetched, %llu IOTLB updates, queues running %u, broken %u",
	     t.sent, t.got, t.bad, t.out_of_order, (unsigned long long)st.misses,
	     (unsigned long long)st.iotlb_updates, st.running, st.broken);
	if (vdpa_nl_dev_del(NAME))
		diag("vdpa_nl_dev_del failed");
	CHECK_OK(vduse_net_destroy(n));
	if (t.got != NPKT)
		vu_traffic_report_missing(&t, stdout, 8);
	vu_traffic_fini(&t);
	CHECK_EQ(t.got, NPKT);
	CHECK_EQ(t.bad, 0);
	CHECK_EQ(t.out_of_order, 0);
	CHECK_EQ(st.broken, 0);
	return 0;
}

static const struct test tests[] = {
	{ "vduse_vhost_vdpa_batches", t_vduse_vhost_vdpa_batches, NULL },
	{ "vduse_testpmd", t_vduse_testpmd, NULL },
};

int main(int argc, char **argv)
{
	return run_tests("vdpa", tests, sizeof(tests) / sizeof(tests[0]),
			 argc, argv);
}
