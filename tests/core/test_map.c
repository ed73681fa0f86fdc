// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/* map: VFIO type1v2 map rules, accounting, granularity and the page-size query. */
#include <sys/resource.h>
#include <sys/syscall.h>
#include <linux/capability.h>

#include "harness.h"

static int attach(struct fx *f)
{
	return ioasid_attach(f->h, f->dev, f->as);
}

/* Expect @err from a map and no change at all. */
#define MAP_FAILS(f, err, iova, va, len, flags) do { \
	struct snap _s; \
	SNAP(f, &_s, (f)->dev, (f)->as); \
	CHECK_ERR(ioasid_map((f)->h, (f)->as, iova, va, len, flags), err); \
	CHECK_UNCHANGED(f, &_s); \
} while (0)

static int map_basic(struct fx *f)
{
	struct ioasid_mapping_info m[2];
	struct ioasid_info info;
	uint32_t n = 2;
	bool more;

	CHECK_OK(attach(f));
	CHECK_OK(ioasid_map(f->h, f->as, 0x200000, f->buf, SZ_2M,
			    IOASID_DMA_READ));
	CHECK_OK(ioasid_list(f->h, f->as, 0, m, &n, &more));
	CHECK_EQ(n, 1);
	CHECK(!more);
	CHECK_EQ(m[0].iova, 0x200000);
	CHECK_EQ(m[0].vaddr, (uintptr_t)f->buf);
	CHECK_EQ(m[0].length, SZ_2M);
	CHECK_EQ(m[0].flags, IOASID_DMA_READ);
	CHECK_OK(ioasid_get_info(f->h, f->as, &info, NULL, 0));
	CHECK_EQ(info.out_num_mappings, 1);
	CHECK_EQ(info.out_mapped_bytes, SZ_2M);
	CHECK_EQ(info.out_fd_pinned_pages, 512);
	return 0;
}

static int map_alignment(struct fx *f)
{
	CHECK_OK(attach(f));
	MAP_FAILS(f, -EINVAL, 0x1001, f->buf, SZ_4K, RW);
	MAP_FAILS(f, -EINVAL, 0x1000, f->buf + 8, SZ_4K, RW);
	MAP_FAILS(f, -EINVAL, 0x1000, f->buf, SZ_4K + 1, RW);
	MAP_FAILS(f, -EINVAL, 0x1000, f->buf, 0x800, RW);
	return 0;
}

static int map_length_zero(struct fx *f)
{
	CHECK_OK(attach(f));
	MAP_FAILS(f, -EINVAL, 0x1000, f->buf, 0, RW);
	return 0;
}

static int map_wrap(struct fx *f)
{
	uint32_t wide, as2;

	/* An aperture to the top of the space, so only the wrap rule fires. */
	CHECK_OK(new_swdev(f, SZ_4K, 0, UINT64_MAX, 0, 0, 1, &wide));
	CHECK_OK(ioasid_alloc(f->h, &as2));
	CHECK_OK(ioasid_attach(f->h, wide, as2));
	CHECK_ERR(ioasid_map(f->h, as2, UINT64_MAX - SZ_4K + 1, f->buf,
			     2 * SZ_4K, RW), -EINVAL);
	CHECK_ERR(ioasid_map(f->h, as2, 0, (void *)(uintptr_t)(UINT64_MAX - SZ_4K + 1),
			     2 * SZ_4K, RW), -EINVAL);
	/* The very last page is fine: iova + length - 1 does not wrap. */
	CHECK_OK(ioasid_map(f->h, as2, UINT64_MAX - SZ_4K + 1, f->buf, SZ_4K,
			    RW));
	CHECK_OK(ioasid_unmap(f->h, as2, UINT64_MAX - SZ_4K + 1, SZ_4K, NULL));
	return 0;
}

static int map_prot(struct fx *f)
{
	CHECK_OK(attach(f));
	MAP_FAILS(f, -EINVAL, 0, f->buf, SZ_4K, 0);
	MAP_FAILS(f, -EINVAL, 0, f->buf, SZ_4K, RW | 0x4);
	MAP_FAILS(f, -EINVAL, 0, f->buf, SZ_4K, 0x80000000);
	CHECK_OK(ioasid_map(f->h, f->as, 0, f->buf, SZ_4K, IOASID_DMA_WRITE));
	return 0;
}

static int map_aperture(struct fx *f)
{
	uint32_t d, as2;

	CHECK_OK(new_swdev(f, SZ_4K, 0x100000, 0x1fffff, 0, 0, 1, &d));
	CHECK_OK(ioasid_alloc(f->h, &as2));
	CHECK_OK(ioasid_attach(f->h, d, as2));
	CHECK_ERR(ioasid_map(f->h, as2, 0xff000, f->buf, SZ_4K, RW), -EINVAL);
	CHECK_ERR(ioasid_map(f->h, as2, 0x200000, f->buf, SZ_4K, RW), -EINVAL);
	/* Straddling the top edge. */
	CHECK_ERR(ioasid_map(f->h, as2, 0x1ff000, f->buf, 2 * SZ_4K, RW),
		  -EINVAL);
	CHECK_OK(ioasid_map(f->h, as2, 0x100000, f->buf, SZ_1M, RW));
	return 0;
}

static int map_reserved(struct fx *f)
{
	CHECK_OK(attach(f));
	MAP_FAILS(f, -EINVAL, MSI_START, f->buf, SZ_4K, RW);
	MAP_FAILS(f, -EINVAL, MSI_LAST - SZ_4K + 1, f->buf, SZ_4K, RW);
	MAP_FAILS(f, -EINVAL, MSI_START - SZ_4K, f->buf, 2 * SZ_4K, RW);
	/* Right next to the window on both sides is usable. */
	CHECK_OK(ioasid_map(f->h, f->as, MSI_START - SZ_4K, f->buf, SZ_4K, RW));
	CHECK_OK(ioasid_map(f->h, f->as, MSI_LAST + 1, f->buf, SZ_4K, RW));
	return 0;
}

static int map_overlap(struct fx *f)
{
	uint64_t b = 0x400000;

	CHECK_OK(attach(f));
	CHECK_OK(ioasid_map(f->h, f->as, b, f->buf, 4 * SZ_4K, RW));
	MAP_FAILS(f, -EEXIST, b, f->buf, 4 * SZ_4K, RW);		/* same */
	MAP_FAILS(f, -EEXIST, b - SZ_4K, f->buf, 2 * SZ_4K, RW);	/* front */
	MAP_FAILS(f, -EEXIST, b + 3 * SZ_4K, f->buf, 2 * SZ_4K, RW);	/* back */
	MAP_FAILS(f, -EEXIST, b - SZ_4K, f->buf, 6 * SZ_4K, RW);	/* covers */
	MAP_FAILS(f, -EEXIST, b + SZ_4K, f->buf, SZ_4K, RW);		/* inside */
	/* Touching on either side is not overlap. */
	CHECK_OK(ioasid_map(f->h, f->as, b - SZ_4K, f->buf, SZ_4K, RW));
	CHECK_OK(ioasid_map(f->h, f->as, b + 4 * SZ_4K, f->buf, SZ_4K, RW));
	return 0;
}

static int map_limit(struct fx *f)
{
	struct ioasid_info info;
	struct ioasid_dma_entry *e;
	uint32_t max, i, done = 0;

	CHECK_OK(attach(f));
	CHECK_OK(ioasid_get_info(f->h, f->as, &info, NULL, 0));
	max = info.out_max_mappings;
	CHECK(max > 0 && max <= 65535);
	e = calloc(4096, sizeof(*e));
	CHECK(e);
	/* Fill to the limit in batches, each page its own mapping. */
	while (done < max) {
		uint32_t n = max - done < 4096 ? max - done : 4096;

		for (i = 0; i < n; i++)
			e[i] = ent((uint64_t)(done + i) * SZ_4K, f->buf, SZ_4K,
				   RW);
		CHECK_OK(ioasid_map_batch(f->h, f->as, e, n, NULL));
		done += n;
	}
	free(e);
	CHECK_OK(ioasid_get_info(f->h, f->as, &info, NULL, 0));
	CHECK_EQ(info.out_num_mappings, max);
	/* The same page mapped max times is pinned and charged max times. */
	CHECK_EQ(info.out_fd_pinned_pages, max);
	/* Too many mappings to snapshot: check the counters instead. */
	CHECK_ERR(ioasid_map(f->h, f->as, (uint64_t)max * SZ_4K, f->buf + SZ_4K,
			     SZ_4K, RW), -ENOSPC);
	CHECK_OK(ioasid_get_info(f->h, f->as, &info, NULL, 0));
	CHECK_EQ(info.out_num_mappings, max);
	CHECK_EQ(info.out_mapped_bytes, (uint64_t)max * SZ_4K);
	CHECK_EQ(info.out_fd_pinned_pages, max);
	CHECK_OK(ioasid_unmap(f->h, f->as, 0, SZ_4K, NULL));
	CHECK_OK(ioasid_map(f->h, f->as, (uint64_t)max * SZ_4K, f->buf, SZ_4K,
			    RW));
	return 0;
}

static void small_limit(struct ioasid_open_opts *o)
{
	o->max_mappings = 100;
	o->flags |= IOASID_OPEN_MEMLOCK_RLIMIT;
}

static int drop_cap_ipc_lock(void)
{
	struct __user_cap_header_struct hdr = {
		.version = _LINUX_CAPABILITY_VERSION_3,
	};
	struct __user_cap_data_struct d[2];

	if (syscall(SYS_capget, &hdr, d))
		return -errno;
	d[CAP_IPC_LOCK / 32].effective &= ~(1U << (CAP_IPC_LOCK % 32));
	if (syscall(SYS_capset, &hdr, d))
		return -errno;
	return 0;
}

static int map_memlock(struct fx *f)
{
	struct rlimit rl = { .rlim_cur = 16 * SZ_4K, .rlim_max = RLIM_INFINITY };
	uint32_t as2;

	CHECK_OK(drop_cap_ipc_lock());
	rl.rlim_max = rl.rlim_cur;
	CHECK_OK(setrlimit(RLIMIT_MEMLOCK, &rl));
	CHECK_OK(attach(f));
	CHECK_OK(ioasid_map(f->h, f->as, 0, f->buf, 12 * SZ_4K, RW));
	/* 12 + 8 pages > 16: refused, nothing left pinned by the attempt. */
	MAP_FAILS(f, -ENOMEM, SZ_1M, f->buf + SZ_1M, 8 * SZ_4K, RW);
	CHECK_OK(ioasid_map(f->h, f->as, SZ_1M, f->buf + SZ_1M, 4 * SZ_4K, RW));
	CHECK_EQ(fd_pinned(f, f->as), 16);
	/*
	 * Pages already pinned cost again in another ioasid (each mapping is
	 * charged): the budget is spent, even a page more is refused.
	 */
	CHECK_OK(ioasid_alloc(f->h, &as2));
	CHECK_OK(new_swdev(f, SZ_4K, 0, APERTURE_LAST, 0, 0, 1, &f->dev));
	CHECK_OK(ioasid_attach(f->h, f->dev, as2));
	CHECK_ERR(ioasid_map(f->h, as2, 0, f->buf, SZ_4K, RW), -ENOMEM);
	CHECK_EQ(fd_pinned(f, f->as), 16);
	/* Unmapping frees the budget of what it unmapped. */
	CHECK_OK(ioasid_unmap(f->h, f->as, 0, 12 * SZ_4K, NULL));
	CHECK_EQ(fd_pinned(f, f->as), 4);
	CHECK_OK(ioasid_map(f->h, as2, 0, f->buf, 12 * SZ_4K, RW));
	CHECK_EQ(fd_pinned(f, f->as), 16);
	CHECK_ERR(ioasid_map(f->h, as2, SZ_2M, f->buf + SZ_2M, SZ_4K, RW),
		  -ENOMEM);
	CHECK_OK(ioasid_unmap_all(f->h, as2, NULL));
	CHECK_EQ(fd_pinned(f, f->as), 4);
	CHECK_OK(ioasid_map(f->h, as2, SZ_2M, f->buf + SZ_2M, 12 * SZ_4K, RW));
	CHECK_EQ(fd_pinned(f, f->as), 16);
	return 0;
}

/*
 * Charges are per mapping, as VFIO type1's: the same memory mapped twice
 * is charged twice (it is pinned twice too), so a charge can never be
 * shared by pages that changed behind the same virtual address.
 */
static int same_memory_charged_twice(struct fx *f)
{
	uint32_t as2, d2;

	CHECK_OK(attach(f));
	CHECK_OK(ioasid_alloc(f->h, &as2));
	CHECK_OK(new_swdev(f, SZ_4K, 0, APERTURE_LAST, 0, 0, 1, &d2));
	CHECK_OK(ioasid_attach(f->h, d2, as2));
	CHECK_OK(ioasid_map(f->h, f->as, 0, f->buf, 8 * SZ_4K, RW));
	CHECK_EQ(fd_pinned(f, f->as), 8);
	/* Same pages in another ioasid: charged again. */
	CHECK_OK(ioasid_map(f->h, as2, 0x10000, f->buf, 8 * SZ_4K, RW));
	CHECK_EQ(fd_pinned(f, f->as), 16);
	/* Half overlapping: the whole mapping counts. */
	CHECK_OK(ioasid_map(f->h, as2, 0x40000, f->buf + 4 * SZ_4K, 8 * SZ_4K,
			    RW));
	CHECK_EQ(fd_pinned(f, f->as), 24);
	/* Same pages at another IOVA of the same ioasid: charged again. */
	CHECK_OK(ioasid_map(f->h, f->as, 0x80000, f->buf, 2 * SZ_4K, RW));
	CHECK_EQ(fd_pinned(f, f->as), 26);
	/* Each unmap gives back exactly what its mappings were charged. */
	CHECK_OK(ioasid_unmap_all(f->h, f->as, NULL));
	CHECK_EQ(fd_pinned(f, f->as), 16);
	CHECK_OK(ioasid_unmap(f->h, as2, 0x10000, 8 * SZ_4K, NULL));
	CHECK_EQ(fd_pinned(f, f->as), 8);
	CHECK_OK(ioasid_unmap_all(f->h, as2, NULL));
	CHECK_EQ(fd_pinned(f, f->as), 0);
	return 0;
}

static int map_efault(struct fx *f)
{
	uint8_t *hole = f->buf + 8 * SZ_1M;

	CHECK_OK(attach(f));
	CHECK_OK(munmap(hole + SZ_4K, SZ_4K));
	MAP_FAILS(f, -EFAULT, 0, hole, 4 * SZ_4K, RW);
	MAP_FAILS(f, -EFAULT, 0, hole + SZ_4K, SZ_4K, RW);
	CHECK_EQ(fd_pinned(f, f->as), 0);
	CHECK_OK(ioasid_map(f->h, f->as, 0, hole, SZ_4K, RW));
	return 0;
}

static int map_granularity(struct fx *f)
{
	uint64_t pg, mapped;
	struct ioasid_mapping_info m[4];
	uint32_t n = 4;
	bool more;

	if (is_kernel(f)) {
		/* The kernel reports what the memory really allows: huge
		 * pages need huge pages behind them, tested in the VM. */
		skip_reason("page sizes depend on physical contiguity; covered by the kernel suite");
		return SKIP_RC;
	}
	CHECK_OK(attach(f));
	/* 2 MiB aligned on both sides: the IOMMU uses 2 MiB pages. */
	CHECK_OK(ioasid_map(f->h, f->as, SZ_2M, f->buf, 2 * SZ_2M, RW));
	CHECK_OK(ioasid_query_pgsize(f->h, f->as, SZ_2M, 2 * SZ_2M, &pg,
				     &mapped));
	CHECK_EQ(pg, SZ_2M);
	CHECK_EQ(mapped, 2 * SZ_2M);
	/* The same with max_pgshift 12: no huge pages. */
	CHECK_OK(ioasid_map_pgshift(f->h, f->as, 8 * SZ_2M, f->buf, 2 * SZ_2M,
				    RW, 12));
	CHECK_OK(ioasid_query_pgsize(f->h, f->as, 8 * SZ_2M, 2 * SZ_2M, &pg,
				     NULL));
	CHECK_EQ(pg, SZ_4K);
	/* Misaligned start: 4K pages up to the 2M boundary, then 2M. */
	CHECK_OK(ioasid_map(f->h, f->as, 16 * SZ_2M - SZ_64K,
			    f->buf + SZ_2M - SZ_64K, SZ_2M + SZ_64K, RW));
	CHECK_OK(ioasid_query_pgsize(f->h, f->as, 16 * SZ_2M - SZ_64K,
				     SZ_2M + SZ_64K, &pg, NULL));
	CHECK_EQ(pg, SZ_4K | SZ_2M);
	/* Only the part inside the queried range counts. */
	CHECK_OK(ioasid_query_pgsize(f->h, f->as, 16 * SZ_2M, SZ_4K, &pg,
				     &mapped));
	CHECK_EQ(pg, SZ_2M);
	CHECK_EQ(mapped, SZ_4K);
	/* Unmapped ranges report nothing. */
	CHECK_OK(ioasid_query_pgsize(f->h, f->as, 64 * SZ_2M, SZ_2M, &pg,
				     &mapped));
	CHECK_EQ(pg, 0);
	CHECK_EQ(mapped, 0);
	/* The list reports each mapping's page sizes. */
	CHECK_OK(ioasid_list(f->h, f->as, 0, m, &n, &more));
	CHECK_EQ(n, 3);
	CHECK_EQ(m[0].pgsize_bitmap, SZ_2M);
	CHECK_EQ(m[1].pgsize_bitmap, SZ_4K);
	CHECK_EQ(m[1].max_pgshift, 12);
	CHECK_EQ(m[2].pgsize_bitmap, SZ_4K | SZ_2M);
	return 0;
}

static int map_max_pgshift_rules(struct fx *f)
{
	struct snap s;

	CHECK_OK(attach(f));
	SNAP(f, &s, f->dev, f->as);
	CHECK_ERR(ioasid_map_pgshift(f->h, f->as, 0, f->buf, SZ_4K, RW, 11),
		  -EINVAL);
	CHECK_ERR(ioasid_map_pgshift(f->h, f->as, 0, f->buf, SZ_4K, RW, 64),
		  -EINVAL);
	CHECK_UNCHANGED(f, &s);
	CHECK_OK(ioasid_map_pgshift(f->h, f->as, 0, f->buf, SZ_4K, RW, 12));
	return 0;
}

static int map_notifies_once(struct fx *f)
{
	struct ioasid_swdev_stats st;

	CHECK_OK(attach(f));
	CHECK_OK(ioasid_map(f->h, f->as, 0, f->buf, SZ_4K, RW));
	CHECK_OK(ioasid_map(f->h, f->as, SZ_4K, f->buf, SZ_4K, RW));
	CHECK_OK(ioasid_swdev_stats(f->h, f->dev, &st));
	CHECK_EQ(st.out_map_calls, 2);
	CHECK_EQ(st.out_map_entries, 2);
	return 0;
}

static int list_pagination(struct fx *f)
{
	struct ioasid_mapping_info m[3];
	uint64_t start = 0, seen = 0;
	uint32_t i, n;
	bool more = true;

	CHECK_OK(attach(f));
	for (i = 0; i < 10; i++)
		CHECK_OK(ioasid_map(f->h, f->as, (uint64_t)i * 2 * SZ_4K,
				    f->buf, SZ_4K, RW));
	while (more) {
		n = 3;
		CHECK_OK(ioasid_list(f->h, f->as, start, m, &n, &more));
		for (i = 0; i < n; i++) {
			CHECK_EQ(m[i].iova, seen * 2 * SZ_4K);
			seen++;
		}
		if (n)
			start = m[n - 1].iova + m[n - 1].length;
	}
	CHECK_EQ(seen, 10);
	return 0;
}

static const struct test tests[] = {
	{ "map_basic", map_basic, NULL },
	{ "map_alignment", map_alignment, NULL },
	{ "map_length_zero", map_length_zero, NULL },
	{ "map_wrap", map_wrap, NULL },
	{ "map_prot", map_prot, NULL },
	{ "map_aperture", map_aperture, NULL },
	{ "map_reserved", map_reserved, NULL },
	{ "map_overlap", map_overlap, NULL },
	{ "map_limit", map_limit, NULL },
	{ "map_limit_small", map_limit, small_limit },
	{ "map_memlock", map_memlock, small_limit },
	{ "same_memory_charged_twice", same_memory_charged_twice, NULL },
	{ "map_efault", map_efault, NULL },
	{ "map_granularity", map_granularity, NULL },
	{ "map_max_pgshift_rules", map_max_pgshift_rules, NULL },
	{ "map_notifies_once", map_notifies_once, NULL },
	{ "list_pagination", list_pagination, NULL },
};

int main(int argc, char **argv)
{
	return run_tests("map", tests, sizeof(tests) / sizeof(tests[0]), argc,
			 argv);
}
