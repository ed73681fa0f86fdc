// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/*
 * ioasid-bench map --backend kernel: map+unmap throughput of /dev/ioasid
 * against the stock vfio_iommu_type1 driver, on the same VFIO device in
 * the same boot, so both pin the same memory and program the same IOMMU.
 *
 * Four ways to map N pages at distinct IOVAs and unmap them again:
 *   type1        VFIO_IOMMU_MAP_DMA/UNMAP_DMA per page, stock driver
 *   shim-type1   the same program, served by ioasid.ko's VFIO shim
 *   ioasid       IOASID_MAP_DMA/UNMAP_DMA per page, device bound through
 *                IOASID_VFIO_BIND
 *   ioasid-b256  IOASID_MAP_BATCH/UNMAP_BATCH of 256 entries
 * The stock driver is selected by turning ioasid.ko's vfio_type1
 * parameter off for its container (root; restored afterwards). 4 KiB
 * pages come from anonymous memory, 2 MiB pages from hugetlbfs (the
 * benchmark reserves them when it can). Needs a device bound to vfio-pci
 * alone in its IOMMU group (the lowest address, or $IOASID_BENCH_DEVICE), as
 * in the kernel VM.
 * $IOASID_BENCH_MODE=<mode> runs that mode alone, for profiling.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/vfio.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <linux/ioasid.h>

#include "bench.h"

#define PARAM	"/sys/module/ioasid/parameters/vfio_type1"
#define RW	(IOASID_DMA_READ | IOASID_DMA_WRITE)

static char bdf[300];
static int groupno = -1;

/* Devices in @name's IOMMU group (the benchmark wants one alone). */
static int group_devices(const char *name)
{
	char path[400];
	struct dirent *e;
	DIR *d;
	int n = 0;

	snprintf(path, sizeof(path),
		 "/sys/bus/pci/devices/%s/iommu_group/devices", name);
	d = opendir(path);
	while (d && (e = readdir(d)))
		n += e->d_name[0] != '.';
	if (d)
		closedir(d);
	return n;
}

bool bench_vfio_find(void)
{
	const char *want = getenv("IOASID_BENCH_DEVICE");
	DIR *d = opendir("/sys/bus/pci/drivers/vfio-pci");
	struct dirent *e;
	char path[700], link[300];
	ssize_t n;

	while (d && (e = readdir(d))) {
		if (!strchr(e->d_name, ':') || (want && strcmp(want, e->d_name)))
			continue;
		if (!want && group_devices(e->d_name) != 1)
			continue;
		if (!bdf[0] || strcmp(e->d_name, bdf) < 0)
			snprintf(bdf, sizeof(bdf), "%s", e->d_name);
	}
	if (d)
		closedir(d);
	if (!bdf[0])
		return false;
	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/iommu_group",
		 bdf);
	n = readlink(path, link, sizeof(link) - 1);
	if (n < 0)
		return false;
	link[n] = '\0';
	groupno = atoi(strrchr(link, '/') + 1);
	return true;
}

void bench_vfio_type1_param(bool on)
{
	int fd = open(PARAM, O_WRONLY);

	if (fd < 0 || write(fd, on ? "1" : "0", 1) != 1)
		die("cannot write %s (load ioasid.ko, run as root)", PARAM);
	close(fd);
}

/* A container with the device's group, IOMMU type @type. */
void vdev_open(struct vdev *v, unsigned long type)
{
	char path[64];

	memset(v, 0, sizeof(*v));
	v->ioasid_fd = -1;
	snprintf(path, sizeof(path), "/dev/vfio/%d", groupno);
	v->container = open("/dev/vfio/vfio", O_RDWR);
	v->group = open(path, O_RDWR);
	if (v->container < 0 || v->group < 0 ||
	    ioctl(v->group, VFIO_GROUP_SET_CONTAINER, &v->container) ||
	    ioctl(v->container, VFIO_SET_IOMMU, type))
		die("VFIO setup of %s (group %d, type %lu): %s", bdf, groupno,
		    type, strerror(errno));
	if (type == VFIO_IOASID_IOMMU) {
		struct ioasid_alloc a = { .size = sizeof(a) };
		uint32_t dev = 0;
		struct ioasid_vfio_bind b = {
			.size = sizeof(b), .num_devs = 1,
			.dev_ids_uptr = (uintptr_t)&dev,
		};
		struct ioasid_device_attach at = { .size = sizeof(at) };

		v->ioasid_fd = open("/dev/ioasid", O_RDWR);
		b.ioasid_fd = v->ioasid_fd;
		if (v->ioasid_fd < 0 || ioctl(v->ioasid_fd, IOASID_ALLOC, &a) ||
		    ioctl(v->container, IOASID_VFIO_BIND, &b))
			die("ioasid bind: %s", strerror(errno));
		v->as = at.ioasid = a.out_ioasid;
		v->dev = at.dev_id = dev;
		if (ioctl(v->ioasid_fd, IOASID_DEVICE_ATTACH, &at))
			die("ioasid attach: %s", strerror(errno));
	}
}

void vdev_close(struct vdev *v)
{
	close(v->group);
	close(v->container);
	if (v->ioasid_fd >= 0)
		close(v->ioasid_fd);
}

enum mode { TYPE1, SHIM_TYPE1, IOASID_ONE, IOASID_B256, NMODES };

/* The map half of the last round, ns per map (the rest is unmaps). */
static double last_map_ns;

static const char *const mode_name[NMODES] = {
	"type1", "shim-type1", "ioasid", "ioasid-b256",
};

/* ns per operation (a map or an unmap) for one round of @n pages. */
static double round_type1(struct vdev *v, uint8_t *mem, uint32_t n,
			  uint64_t pg)
{
	uint64_t t0 = now_ns();

	for (uint32_t i = 0; i < n; i++) {
		struct vfio_iommu_type1_dma_map m = {
			.argsz = sizeof(m),
			.flags = VFIO_DMA_MAP_FLAG_READ | VFIO_DMA_MAP_FLAG_WRITE,
			.vaddr = (uintptr_t)(mem + i * pg),
			.iova = (uint64_t)i * pg, .size = pg,
		};

		if (ioctl(v->container, VFIO_IOMMU_MAP_DMA, &m))
			die("VFIO map %u: %s", i, strerror(errno));
	}
	last_map_ns = (double)(now_ns() - t0) / n;
	for (uint32_t i = 0; i < n; i++) {
		struct vfio_iommu_type1_dma_unmap u = {
			.argsz = sizeof(u), .iova = (uint64_t)i * pg, .size = pg,
		};

		if (ioctl(v->container, VFIO_IOMMU_UNMAP_DMA, &u) ||
		    u.size != pg)
			die("VFIO unmap %u: %s", i, strerror(errno));
	}
	return (double)(now_ns() - t0) / (2.0 * n);
}

static double round_ioasid(struct vdev *v, uint8_t *mem, uint32_t n,
			   uint64_t pg)
{
	uint64_t t0 = now_ns();

	for (uint32_t i = 0; i < n; i++) {
		struct ioasid_map_dma m = {
			.size = sizeof(m), .flags = RW, .ioasid = v->as,
			.iova = (uint64_t)i * pg,
			.vaddr = (uintptr_t)(mem + i * pg), .length = pg,
		};

		if (ioctl(v->ioasid_fd, IOASID_MAP_DMA, &m))
			die("ioasid map %u: %s", i, strerror(errno));
	}
	last_map_ns = (double)(now_ns() - t0) / n;
	for (uint32_t i = 0; i < n; i++) {
		struct ioasid_unmap_dma u = {
			.size = sizeof(u), .ioasid = v->as,
			.iova = (uint64_t)i * pg, .length = pg,
		};

		if (ioctl(v->ioasid_fd, IOASID_UNMAP_DMA, &u))
			die("ioasid unmap %u: %s", i, strerror(errno));
	}
	return (double)(now_ns() - t0) / (2.0 * n);
}

static double round_batch(struct vdev *v, uint8_t *mem, uint32_t n,
			  uint64_t pg, struct ioasid_dma_entry *me,
			  struct ioasid_dma_entry *ue)
{
	uint64_t t0;

	for (uint32_t i = 0; i < n; i++) {
		me[i] = (struct ioasid_dma_entry){
			.flags = RW, .iova = (uint64_t)i * pg,
			.vaddr = (uintptr_t)(mem + i * pg), .length = pg,
		};
		ue[i] = (struct ioasid_dma_entry){
			.iova = (uint64_t)i * pg, .length = pg,
		};
	}
	t0 = now_ns();
	for (int unmap = 0; unmap < 2; unmap++) {
		for (uint32_t i = 0; i < n; i += 256) {
			struct ioasid_batch b = {
				.size = sizeof(b), .ioasid = v->as,
				.count = n - i < 256 ? n - i : 256,
				.entry_size = sizeof(*me),
				.entries_uptr = (uintptr_t)((unmap ? ue : me) + i),
			};

			if (ioctl(v->ioasid_fd, unmap ? IOASID_UNMAP_BATCH :
				  IOASID_MAP_BATCH, &b))
				die("ioasid batch at %u: %s (entry %u)", i,
				    strerror(errno), b.out_fail_index);
		}
		if (!unmap)
			last_map_ns = (double)(now_ns() - t0) / n;
	}
	return (double)(now_ns() - t0) / (2.0 * n);
}

static uint8_t *page_memory(uint64_t pg, uint32_t n)
{
	int flags = MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE;
	uint8_t *m;

	if (pg == (2ULL << 20)) {
		int fd = open("/proc/sys/vm/nr_hugepages", O_RDWR);
		char want[32];
		int len = snprintf(want, sizeof(want), "%u", n + 8);

		/* Reserve enough 2 MiB pages if we may; fine if we may not. */
		if (fd >= 0) {
			(void)!write(fd, want, (size_t)len);
			close(fd);
		}
		flags |= MAP_HUGETLB;
	}
	m = mmap(NULL, (size_t)n * pg, PROT_READ | PROT_WRITE, flags, -1, 0);
	return m == MAP_FAILED ? NULL : m;
}

int bench_map_kernel(struct bench_opts *o)
{
	static const struct { uint64_t pg; uint32_t n; } cases[] = {
		{ 4096, 4096 }, { 2ULL << 20, 64 },
	};

	print_header(o, "map", "map+unmap on /dev/ioasid vs stock vfio_iommu_type1, same device, same boot");
	if (!bench_vfio_find())
		die("no device bound to vfio-pci (bind one, or set IOASID_BENCH_DEVICE)");
	for (size_t c = 0; c < 2; c++) {
		uint64_t pg = cases[c].pg;
		uint32_t n = o->quick ? cases[c].n / 4 : cases[c].n;
		uint8_t *mem = page_memory(pg, n);
		struct ioasid_dma_entry *me = calloc(n, sizeof(*me));
		struct ioasid_dma_entry *ue = calloc(n, sizeof(*ue));
		double t[NMODES][5], tm[NMODES][5], med[NMODES], medm[NMODES];

		if (!mem) {
			emit(o, "{\"bench\":\"map\",\"backend\":\"kernel\",\"page\":%llu,\"skipped\":\"no memory of this page size: %s\"}",
			     (unsigned long long)pg, strerror(errno));
			free(me);
			free(ue);
			continue;
		}
		if (!me || !ue)
			die("out of memory");
		for (int k = 0; k < 5; k++) {
			for (int m = 0; m < NMODES; m++) {
				const char *only = getenv("IOASID_BENCH_MODE");
				struct vdev v;

				/* For profiling one mode: the others read 1 ns. */
				if (only && strcmp(only, mode_name[m])) {
					t[m][k] = tm[m][k] = 1;
					continue;
				}

				bench_vfio_type1_param(m != TYPE1);
				vdev_open(&v, m <= SHIM_TYPE1 ? VFIO_TYPE1v2_IOMMU :
					  VFIO_IOASID_IOMMU);
				bench_vfio_type1_param(true);
				if (m <= SHIM_TYPE1)
					t[m][k] = round_type1(&v, mem, n, pg);
				else if (m == IOASID_ONE)
					t[m][k] = round_ioasid(&v, mem, n, pg);
				else
					t[m][k] = round_batch(&v, mem, n, pg,
							      me, ue);
				tm[m][k] = last_map_ns;
				vdev_close(&v);
			}
		}
		for (int m = 0; m < NMODES; m++) {
			med[m] = median(t[m], 5);
			medm[m] = median(tm[m], 5);
			emit(o, "{\"bench\":\"map\",\"backend\":\"kernel\",\"device\":\"%s\",\"page\":%llu,\"entries\":%u,\"mode\":\"%s\",\"ns_per_op\":%.1f,\"ops_per_s\":%.0f,\"map_ns\":%.1f,\"unmap_ns\":%.1f}",
			     bdf, (unsigned long long)pg, n, mode_name[m], med[m],
			     1e9 / med[m], medm[m], 2 * med[m] - medm[m]);
		}
		check(o, "map", "kernel",
		      pg == 4096 ? "4K: ops/s, ioasid batch of 256 / type1" :
				   "2M: ops/s, ioasid batch of 256 / type1",
		      med[TYPE1] / med[IOASID_B256], ">=", 5.0, n);
		check(o, "map", "kernel",
		      pg == 4096 ? "4K: ops/s, ioasid single / type1" :
				   "2M: ops/s, ioasid single / type1",
		      med[TYPE1] / med[IOASID_ONE], ">=", 1.0, n);
		check(o, "map", "kernel",
		      pg == 4096 ? "4K: ops/s, shim type1 / type1" :
				   "2M: ops/s, shim type1 / type1",
		      med[TYPE1] / med[SHIM_TYPE1], ">=", 1.0, n);
		munmap(mem, (size_t)n * pg);
		free(me);
		free(ue);
	}
	return 0;
}
