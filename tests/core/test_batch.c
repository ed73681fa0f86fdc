// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/* batch: all-or-nothing map and unmap batches, one notification per batch. */
#include "harness.h"

static int map_batch_ok(struct fx *f)
{
	struct ioasid_dma_entry e[64];
	struct ioasid_swdev_stats st;
	struct ioasid_info info;
	uint32_t i;

	CHECK_OK(ioasid_attach(f->h, f->dev, f->as));
	for (i = 0; i < 64; i++)
		e[i] = ent((uint64_t)i * SZ_64K, f->buf + i * SZ_64K, SZ_64K,
			   RW);
	CHECK_OK(ioasid_map_batch(f->h, f->as, e, 64, NULL));
	CHECK_OK(ioasid_get_info(f->h, f->as, &info, NULL, 0));
	CHECK_EQ(info.out_num_mappings, 64);
	CHECK_EQ(info.out_mapped_bytes, 64 * SZ_64K);
	CHECK_EQ(info.out_fd_pinned_pages, 64 * 16);
	CHECK_OK(ioasid_swdev_stats(f->h, f->dev, &st));
	CHECK_EQ(st.out_map_calls, 1);
	CHECK_EQ(st.out_map_entries, 64);
	return 0;
}

/* A batch failing at entry @bad with @err leaves everything as it was. */
static int map_batch_fails(struct fx *f, struct ioasid_dma_entry *e,
			   uint32_t n, uint32_t bad, int err)
{
	struct ioasid_batch b = {
		.size = sizeof(b),
		.ioasid = f->as,
		.count = n,
		.entry_size = sizeof(*e),
		.entries_uptr = (uintptr_t)e,
	};
	struct snap s;

	SNAP(f, &s, f->dev, f->as);
	CHECK_ERR(ioasid_ioctl(f->h, IOASID_MAP_BATCH, &b), err);
	CHECK_EQ(b.out_fail_index, bad);
	CHECK_EQ(b.out_fail_errno, -err);
	CHECK_EQ(b.out_done, 0);
	CHECK_EQ(b.out_bytes, 0);
	CHECK_UNCHANGED(f, &s);
	return 0;
}

static int map_batch_all_or_nothing(struct fx *f)
{
	struct ioasid_dma_entry e[8];
	uint32_t i;

	CHECK_OK(ioasid_attach(f->h, f->dev, f->as));
	CHECK_OK(ioasid_map(f->h, f->as, 64 * SZ_1M, f->buf, SZ_4K, RW));
	for (i = 0; i < 8; i++)
		e[i] = ent((uint64_t)i * SZ_64K, f->buf + i * SZ_64K, SZ_64K,
			   RW);
	/* Overlap with an earlier entry of the same batch. */
	e[5] = ent(2 * SZ_64K, f->buf, SZ_4K, RW);
	CHECK_OK(map_batch_fails(f, e, 8, 5, -EEXIST));
	/* Overlap with an existing mapping. */
	e[5] = ent(64 * SZ_1M, f->buf, SZ_4K, RW);
	CHECK_OK(map_batch_fails(f, e, 8, 5, -EEXIST));
	/* A misaligned last entry. */
	e[5] = ent(5 * SZ_64K, f->buf, SZ_64K, RW);
	e[7] = ent(7 * SZ_64K + 1, f->buf, SZ_64K, RW);
	CHECK_OK(map_batch_fails(f, e, 8, 7, -EINVAL));
	/* A hole in the caller's memory. */
	e[7] = ent(7 * SZ_64K, f->buf + 32 * SZ_1M, SZ_64K, RW);
	CHECK_OK(munmap(f->buf + 32 * SZ_1M + SZ_4K, SZ_4K));
	CHECK_OK(map_batch_fails(f, e, 8, 7, -EFAULT));
	/* The first entry. */
	e[0].flags = 0;
	CHECK_OK(map_batch_fails(f, e, 8, 0, -EINVAL));
	return 0;
}

/* Attaches the device and maps sixteen 64K entries from IOVA 0. */
static int attach_map16(struct fx *f)
{
	struct ioasid_dma_entry e[16];
	uint32_t i;

	CHECK_OK(ioasid_attach(f->h, f->dev, f->as));
	for (i = 0; i < 16; i++)
		e[i] = ent((uint64_t)i * SZ_64K, f->buf, SZ_64K, RW);
	CHECK_OK(ioasid_map_batch(f->h, f->as, e, 16, NULL));
	return 0;
}

static int unmap_batch_ok(struct fx *f)
{
	struct ioasid_dma_entry u[3];
	struct ioasid_swdev_stats st;
	uint64_t bytes = 0;

	CHECK_OK(attach_map16(f));
	u[0] = uent(0, 4 * SZ_64K);
	u[1] = uent(8 * SZ_64K, 8 * SZ_64K);
	u[2] = uent(0, 4 * SZ_64K);	/* already gone: 0 bytes, fine */
	CHECK_OK(ioasid_unmap_batch(f->h, f->as, u, 3, &bytes, NULL));
	CHECK_EQ(bytes, 12 * SZ_64K);
	CHECK_OK(ioasid_swdev_stats(f->h, f->dev, &st));
	CHECK_EQ(st.out_unmap_calls, 1);
	CHECK_EQ(st.out_unmap_entries, 12);
	return 0;
}

static int unmap_batch_all_or_nothing(struct fx *f)
{
	struct ioasid_dma_entry u[4];
	struct ioasid_batch b = {
		.size = sizeof(b),
		.ioasid = f->as,
		.count = 4,
		.entry_size = sizeof(u[0]),
		.entries_uptr = (uintptr_t)u,
	};
	struct snap s;

	CHECK_OK(attach_map16(f));
	u[0] = uent(0, 4 * SZ_64K);
	u[1] = uent(8 * SZ_64K, 2 * SZ_64K);
	u[2] = uent(12 * SZ_64K + SZ_4K, SZ_64K);	/* cuts */
	u[3] = uent(14 * SZ_64K, SZ_64K);
	SNAP(f, &s, f->dev, f->as);
	CHECK_ERR(ioasid_ioctl(f->h, IOASID_UNMAP_BATCH, &b), -EINVAL);
	CHECK_EQ(b.out_fail_index, 2);
	CHECK_EQ(b.out_fail_errno, EINVAL);
	/* Entries 0 and 1 were undone: the tree is whole again. */
	CHECK_UNCHANGED(f, &s);
	/* An unmap-all entry followed by a bad one: undone as well. */
	u[0] = uent(0, 0);
	u[0].flags = IOASID_UNMAP_ALL;
	u[1] = uent(0, 3);
	b.count = 2;
	CHECK_ERR(ioasid_ioctl(f->h, IOASID_UNMAP_BATCH, &b), -EINVAL);
	CHECK_EQ(b.out_fail_index, 1);
	CHECK_UNCHANGED(f, &s);
	/* Unmap entries must not carry map fields. */
	u[0] = uent(0, SZ_64K);
	u[0].vaddr = 0x1000;
	b.count = 1;
	CHECK_ERR(ioasid_ioctl(f->h, IOASID_UNMAP_BATCH, &b), -EINVAL);
	CHECK_EQ(b.out_fail_index, 0);
	CHECK_UNCHANGED(f, &s);
	return 0;
}

static int batch_header(struct fx *f)
{
	struct ioasid_dma_entry e = ent(0, f->buf, SZ_4K, RW);
	struct ioasid_batch b = {
		.size = sizeof(b),
		.ioasid = f->as,
		.count = 1,
		.entry_size = sizeof(e),
		.entries_uptr = (uintptr_t)&e,
	};
	struct snap s;

	CHECK_OK(ioasid_attach(f->h, f->dev, f->as));
	SNAP(f, &s, f->dev, f->as);
	b.count = 0;
	CHECK_ERR(ioasid_ioctl(f->h, IOASID_MAP_BATCH, &b), -EINVAL);
	CHECK_EQ(b.out_fail_index, UINT32_MAX);
	b.count = IOASID_BATCH_MAX + 1;
	CHECK_ERR(ioasid_ioctl(f->h, IOASID_MAP_BATCH, &b), -EINVAL);
	b.count = 1;
	b.entry_size = 24;
	CHECK_ERR(ioasid_ioctl(f->h, IOASID_MAP_BATCH, &b), -EINVAL);
	b.entry_size = sizeof(e);
	b.flags = 1;
	CHECK_ERR(ioasid_ioctl(f->h, IOASID_MAP_BATCH, &b), -EINVAL);
	b.flags = 0;
	b.__reserved = 1;
	CHECK_ERR(ioasid_ioctl(f->h, IOASID_UNMAP_BATCH, &b), -EINVAL);
	b.__reserved = 0;
	b.__reserved2 = 1;
	CHECK_ERR(ioasid_ioctl(f->h, IOASID_MAP_BATCH, &b), -EINVAL);
	b.__reserved2 = 0;
	b.ioasid = 999;
	CHECK_ERR(ioasid_ioctl(f->h, IOASID_MAP_BATCH, &b), -ENOENT);
	CHECK_EQ(b.out_fail_index, UINT32_MAX);
	CHECK_EQ(b.out_fail_errno, ENOENT);
	b.ioasid = f->as;
	b.entries_uptr = 0;
	CHECK_ERR(ioasid_ioctl(f->h, IOASID_MAP_BATCH, &b), -EFAULT);
	CHECK_UNCHANGED(f, &s);
	return 0;
}

static int batch_large(struct fx *f)
{
	uint32_t n = 4096, i;
	struct ioasid_dma_entry *e = calloc(n, sizeof(*e));
	uint64_t bytes = 0;

	CHECK(e);
	CHECK_OK(ioasid_attach(f->h, f->dev, f->as));
	/* More entries than the decoder copies at once; 4K each. */
	for (i = 0; i < n; i++)
		e[i] = ent((uint64_t)i * SZ_4K, f->buf + (uint64_t)i * SZ_4K,
			   SZ_4K, RW);
	CHECK_OK(ioasid_map_batch(f->h, f->as, e, n, NULL));
	CHECK_EQ(fd_pinned(f, f->as), n);
	for (i = 0; i < n; i++)
		e[i] = uent((uint64_t)i * SZ_4K, SZ_4K);
	CHECK_OK(ioasid_unmap_batch(f->h, f->as, e, n, &bytes, NULL));
	CHECK_EQ(bytes, (uint64_t)n * SZ_4K);
	CHECK_EQ(fd_pinned(f, f->as), 0);
	free(e);
	return 0;
}

static const struct test tests[] = {
	{ "map_batch_ok", map_batch_ok, NULL },
	{ "map_batch_all_or_nothing", map_batch_all_or_nothing, NULL },
	{ "unmap_batch_ok", unmap_batch_ok, NULL },
	{ "unmap_batch_all_or_nothing", unmap_batch_all_or_nothing, NULL },
	{ "batch_header", batch_header, NULL },
	{ "batch_large", batch_large, NULL },
};

int main(int argc, char **argv)
{
	return run_tests("batch", tests, sizeof(tests) / sizeof(tests[0]),
			 argc, argv);
}
