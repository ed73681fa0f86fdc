// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/*
 * ioasid-bench nest: a guest page-table change of N 4 KiB pages, applied
 * the two ways a VMM with a virtual IOMMU can apply it, on the same edu
 * device in the same boot (issue 13):
 *   type1          what QEMU's intel-iommu in caching mode does today: it
 *                  walks the guest table itself and replays each changed
 *                  page as VFIO_IOMMU_UNMAP_DMA of the old translation and
 *                  VFIO_IOMMU_MAP_DMA of the new one on the stock
 *                  vfio_iommu_type1 (a pin, an unpin and IOTLB flushes per
 *                  page)
 *   nest           the guest table lives in process memory mapped once
 *                  into a nesting parent; the N PTEs are rewritten in
 *                  place and one IOASID_INVALIDATE of the range makes the
 *                  kernel re-walk it and update the device's IOMMU domain
 *   nest-per-page  the same with one IOASID_INVALIDATE per page (a guest
 *                  that flushes page by page)
 * Each change moves the N IOVAs between two sets of pages (A and B), so
 * every call really changes the translation. After the nested runs the
 * child's mappings are read back (IOASID_LIST_MAPPINGS) to check the
 * change took effect. Needs what "map --backend kernel" needs: a device
 * bound to vfio-pci alone in its IOMMU group, root, ioasid.ko loaded.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/vfio.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <linux/ioasid.h>

#include "bench.h"

#define PG		4096ULL
#define NPAGES_MAX	512U
#define NEST_GPA	0x40000000ULL	/* parent IOVA of the "guest RAM" */
#define CHILD_IOVA	0x200000ULL	/* l4[0] l3[0] l2[1]: one l1 table */
/* Guest RAM in pages: tables at 0-3, set A at 512, set B at 1024. */
#define RAM_PAGES	1536U
#define SET_A		512U
#define SET_B		1024U
#define PTE_PRW		0x7ULL		/* P, R/W, U/S */

enum mode { TYPE1, NEST, NEST_PER_PAGE, NMODES };

static const char *const mode_name[NMODES] = {
	"type1", "nest", "nest-per-page",
};

static uint64_t set_page(uint32_t set, uint32_t i)
{
	return set + i;
}

/* N pages, one change: each IOVA unmapped and mapped to the other set. */
static void change_type1(struct vdev *v, uint8_t *ram, uint32_t n,
			 uint32_t to)
{
	for (uint32_t i = 0; i < n; i++) {
		struct vfio_iommu_type1_dma_unmap u = {
			.argsz = sizeof(u), .iova = CHILD_IOVA + i * PG,
			.size = PG,
		};
		struct vfio_iommu_type1_dma_map m = {
			.argsz = sizeof(m),
			.flags = VFIO_DMA_MAP_FLAG_READ | VFIO_DMA_MAP_FLAG_WRITE,
			.vaddr = (uintptr_t)(ram + set_page(to, i) * PG),
			.iova = CHILD_IOVA + i * PG, .size = PG,
		};

		if (ioctl(v->container, VFIO_IOMMU_UNMAP_DMA, &u) ||
		    u.size != PG)
			die("VFIO unmap %u: %s", i, strerror(errno));
		if (ioctl(v->container, VFIO_IOMMU_MAP_DMA, &m))
			die("VFIO map %u: %s", i, strerror(errno));
	}
}

static void invalidate(int fd, uint32_t child, uint64_t addr, uint64_t npages)
{
	struct ioasid_inv_entry e = { .addr = addr, .npages = npages };
	struct ioasid_invalidate iv = {
		.size = sizeof(iv), .ioasid = child, .entry_size = sizeof(e),
		.entries_uptr = (uintptr_t)&e, .entry_num = 1,
	};

	if (ioctl(fd, IOASID_INVALIDATE, &iv) || iv.entry_num != 1)
		die("IOASID_INVALIDATE of %llu pages at 0x%llx: %s (%u done)",
		    (unsigned long long)npages, (unsigned long long)addr,
		    strerror(errno), iv.entry_num);
}

static void change_nest(struct vdev *v, uint32_t child, uint64_t *l1,
			uint32_t n, uint32_t to, bool per_page)
{
	for (uint32_t i = 0; i < n; i++)
		l1[i] = (NEST_GPA + set_page(to, i) * PG) | PTE_PRW;
	if (!per_page) {
		invalidate(v->ioasid_fd, child, CHILD_IOVA, n);
		return;
	}
	for (uint32_t i = 0; i < n; i++)
		invalidate(v->ioasid_fd, child, CHILD_IOVA + i * PG, 1);
}

/* The child's translation of page @i must be page @i of set @to. */
static void check_nest(struct vdev *v, uint32_t child, uint8_t *ram,
		       uint32_t i, uint32_t to)
{
	struct ioasid_mapping_info mi = { 0 };
	struct ioasid_list_mappings l = {
		.size = sizeof(l), .ioasid = child, .count = 1,
		.start_iova = CHILD_IOVA + i * PG,
		.mappings_uptr = (uintptr_t)&mi,
	};

	if (ioctl(v->ioasid_fd, IOASID_LIST_MAPPINGS, &l))
		die("IOASID_LIST_MAPPINGS: %s", strerror(errno));
	if (l.count != 1 || mi.iova != CHILD_IOVA + i * PG ||
	    mi.vaddr != (uintptr_t)(ram + set_page(to, i) * PG))
		die("nested page %u not moved by the invalidation (iova 0x%llx vaddr 0x%llx)",
		    i, (unsigned long long)mi.iova,
		    (unsigned long long)mi.vaddr);
}

/* The ioasid side: swdev on a nesting parent, the device on its child. */
static uint32_t nest_open(struct vdev *v, uint8_t *ram)
{
	struct ioasid_device_detach d = { .size = sizeof(d) };
	struct ioasid_swdev_create sw = {
		.size = sizeof(sw), .pgsize_bitmap = PG,
		.aperture_last = ~0ULL,
	};
	struct ioasid_alloc pa = { .size = sizeof(pa),
				   .flags = IOASID_ALLOC_NEST_PARENT };
	struct ioasid_alloc ca = { .size = sizeof(ca),
				   .flags = IOASID_ALLOC_NESTED };
	struct ioasid_device_attach at = { .size = sizeof(at) };
	struct ioasid_map_dma m = {
		.size = sizeof(m), .flags = IOASID_DMA_READ | IOASID_DMA_WRITE,
		.iova = NEST_GPA, .vaddr = (uintptr_t)ram,
		.length = RAM_PAGES * PG,
	};
	struct ioasid_pgtbl_bind b = { .size = sizeof(b),
				       .format = IOASID_PGTBL_X86_64,
				       .addr_width = 48, .root = NEST_GPA };
	uint64_t *l4 = (uint64_t *)ram, *l3 = l4 + 512, *l2 = l3 + 512,
		 *l1 = l2 + 512;
	int fd;

	vdev_open(v, VFIO_IOASID_IOMMU);
	fd = v->ioasid_fd;
	d.dev_id = v->dev;
	if (ioctl(fd, IOASID_DEVICE_DETACH, &d) ||
	    ioctl(fd, IOASID_SWDEV_CREATE, &sw) ||
	    ioctl(fd, IOASID_ALLOC, &pa))
		die("nest parent: %s", strerror(errno));
	at.dev_id = sw.out_dev_id;
	at.ioasid = pa.out_ioasid;
	m.ioasid = pa.out_ioasid;
	if (ioctl(fd, IOASID_DEVICE_ATTACH, &at) ||
	    ioctl(fd, IOASID_MAP_DMA, &m))
		die("nest parent map: %s", strerror(errno));
	ca.parent = pa.out_ioasid;
	if (ioctl(fd, IOASID_ALLOC, &ca))
		die("nested ioasid: %s", strerror(errno));
	at.dev_id = v->dev;
	at.ioasid = ca.out_ioasid;
	if (ioctl(fd, IOASID_DEVICE_ATTACH, &at))
		die("attach to the nested ioasid: %s", strerror(errno));
	memset(ram, 0, 4 * PG);
	l4[0] = (NEST_GPA + 1 * PG) | PTE_PRW;
	l3[0] = (NEST_GPA + 2 * PG) | PTE_PRW;
	l2[CHILD_IOVA >> 21 & 511] = (NEST_GPA + 3 * PG) | PTE_PRW;
	for (uint32_t i = 0; i < NPAGES_MAX; i++)
		l1[i] = (NEST_GPA + set_page(SET_A, i) * PG) | PTE_PRW;
	b.ioasid = ca.out_ioasid;
	if (ioctl(fd, IOASID_PGTBL_BIND, &b))
		die("IOASID_PGTBL_BIND: %s", strerror(errno));
	invalidate(fd, ca.out_ioasid, 0, ~0ULL);
	check_nest(v, ca.out_ioasid, ram, NPAGES_MAX - 1, SET_A);
	return ca.out_ioasid;
}

static void type1_open(struct vdev *v, uint8_t *ram)
{
	bench_vfio_type1_param(false);
	vdev_open(v, VFIO_TYPE1v2_IOMMU);
	bench_vfio_type1_param(true);
	for (uint32_t i = 0; i < NPAGES_MAX; i++) {
		struct vfio_iommu_type1_dma_map m = {
			.argsz = sizeof(m),
			.flags = VFIO_DMA_MAP_FLAG_READ | VFIO_DMA_MAP_FLAG_WRITE,
			.vaddr = (uintptr_t)(ram + set_page(SET_A, i) * PG),
			.iova = CHILD_IOVA + i * PG, .size = PG,
		};

		if (ioctl(v->container, VFIO_IOMMU_MAP_DMA, &m))
			die("VFIO map %u: %s", i, strerror(errno));
	}
}

/* ns per change of @n pages in mode @m, over @rounds changes. */
static double run_mode(enum mode m, uint8_t *ram, uint32_t n,
		       uint32_t rounds)
{
	uint64_t *l1 = (uint64_t *)(ram + 3 * PG);
	uint32_t to = SET_A, child = 0;
	struct vdev v;
	uint64_t t0, t;

	if (m == TYPE1)
		type1_open(&v, ram);
	else
		child = nest_open(&v, ram);
	t0 = now_ns();
	for (uint32_t r = 0; r < rounds; r++) {
		to = to == SET_A ? SET_B : SET_A;
		if (m == TYPE1)
			change_type1(&v, ram, n, to);
		else
			change_nest(&v, child, l1, n, to, m == NEST_PER_PAGE);
	}
	t = now_ns() - t0;
	if (m != TYPE1) {
		check_nest(&v, child, ram, 0, to);
		check_nest(&v, child, ram, n - 1, to);
		if (n < NPAGES_MAX)
			check_nest(&v, child, ram, n, SET_A);
	}
	vdev_close(&v);
	return (double)t / rounds;
}

int bench_nest(struct bench_opts *o)
{
	static const uint32_t sizes[] = { 1, 64, 512 };
	const char *only = getenv("IOASID_BENCH_MODE");
	uint8_t *ram;

	print_header(o, "nest", "a guest page-table change: per-page type1 unmap+map vs one invalidation of a nested ioasid, same device, same boot");
	if (!bench_vfio_find())
		die("no device bound to vfio-pci (bind one, or set IOASID_BENCH_DEVICE)");
	ram = mmap(NULL, RAM_PAGES * PG, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
	if (ram == MAP_FAILED)
		die("guest RAM: %s", strerror(errno));
	for (size_t s = 0; s < sizeof(sizes) / sizeof(sizes[0]); s++) {
		uint32_t n = sizes[s];
		/*
		 * Each timed run long enough (0.1 s and more under TCG) that
		 * a scheduling blip on the shared host moves it little.
		 */
		uint32_t rounds = (o->quick ? 1024 : 16384) / n;
		double t[NMODES][5], med[NMODES];

		if (rounds < (o->quick ? 8U : 64U))
			rounds = o->quick ? 8 : 64;
		for (int k = 0; k < 5; k++)
			for (int m = 0; m < NMODES; m++)
				/* Profiling one mode: the others read 1 ns. */
				t[m][k] = only && strcmp(only, mode_name[m]) ?
					  1 : run_mode(m, ram, n, rounds);
		for (int m = 0; m < NMODES; m++) {
			med[m] = median(t[m], 5);
			emit(o, "{\"bench\":\"nest\",\"backend\":\"kernel\",\"pages\":%u,\"mode\":\"%s\",\"changes\":%u,\"ns_per_change\":%.0f,\"ns_per_page\":%.1f,\"speedup_vs_type1\":%.2f}",
			     n, mode_name[m], rounds, med[m], med[m] / n,
			     med[TYPE1] / med[m]);
		}
		if (n == 1)
			check(o, "nest", "kernel",
			      "1 page: type1 unmap+map / nested invalidate",
			      med[TYPE1] / med[NEST], ">=", 2.0, n);
		if (n == NPAGES_MAX)
			check(o, "nest", "kernel",
			      "512 pages: type1 unmap+map / nested invalidate",
			      med[TYPE1] / med[NEST], ">=", 10.0, n);
	}
	munmap(ram, RAM_PAGES * PG);
	return 0;
}
