// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/* unmap: VFIO type1v2 unmap rules: whole mappings only, bytes reported, unmap-all. */
#include "harness.h"

static int setup3(struct fx *f)
{
	/* Three mappings: [1M, 1M+16K) [1M+16K, 1M+48K) [2M, 2M+8K) */
	if (ioasid_attach(f->h, f->dev, f->as) ||
	    ioasid_map(f->h, f->as, SZ_1M, f->buf, 4 * SZ_4K, RW) ||
	    ioasid_map(f->h, f->as, SZ_1M + 4 * SZ_4K, f->buf, 8 * SZ_4K, RW) ||
	    ioasid_map(f->h, f->as, SZ_2M, f->buf, 2 * SZ_4K, RW))
		return 1;
	return 0;
}

#define UNMAP_FAILS(f, err, iova, len) do { \
	struct snap _s; \
	SNAP(f, &_s, (f)->dev, (f)->as); \
	CHECK_ERR(ioasid_unmap((f)->h, (f)->as, iova, len, NULL), err); \
	CHECK_UNCHANGED(f, &_s); \
} while (0)

static int unmap_cut(struct fx *f)
{
	CHECK_OK(setup3(f));
	/* Starts inside the first mapping. */
	UNMAP_FAILS(f, -EINVAL, SZ_1M + SZ_4K, 3 * SZ_4K);
	/* Ends inside the second mapping. */
	UNMAP_FAILS(f, -EINVAL, SZ_1M, 8 * SZ_4K);
	/* Strictly inside one mapping. */
	UNMAP_FAILS(f, -EINVAL, SZ_1M + 5 * SZ_4K, SZ_4K);
	/* Starts before the first mapping, ends inside it. */
	UNMAP_FAILS(f, -EINVAL, SZ_1M - SZ_4K, 2 * SZ_4K);
	return 0;
}

static int unmap_several(struct fx *f)
{
	uint64_t bytes = 0;
	struct ioasid_info info;

	CHECK_OK(setup3(f));
	/* A range covering the first two whole mappings and a gap. */
	CHECK_OK(ioasid_unmap(f->h, f->as, 0, SZ_2M, &bytes));
	CHECK_EQ(bytes, 12 * SZ_4K);
	CHECK_OK(ioasid_get_info(f->h, f->as, &info, NULL, 0));
	CHECK_EQ(info.out_num_mappings, 1);
	CHECK_EQ(info.out_mapped_bytes, 2 * SZ_4K);
	return 0;
}

static int unmap_exact(struct fx *f)
{
	uint64_t bytes = 0;

	CHECK_OK(setup3(f));
	CHECK_OK(ioasid_unmap(f->h, f->as, SZ_1M + 4 * SZ_4K, 8 * SZ_4K,
			      &bytes));
	CHECK_EQ(bytes, 8 * SZ_4K);
	return 0;
}

static int unmap_nothing(struct fx *f)
{
	uint64_t bytes = 1;
	struct snap s;

	CHECK_OK(setup3(f));
	SNAP(f, &s, f->dev, f->as);
	/* No mapping in range: success, zero bytes (VFIO v2). */
	CHECK_OK(ioasid_unmap(f->h, f->as, 16 * SZ_1M, SZ_1M, &bytes));
	CHECK_EQ(bytes, 0);
	/* A hole between mappings, too. */
	CHECK_OK(ioasid_unmap(f->h, f->as, SZ_1M + 12 * SZ_4K, SZ_4K, &bytes));
	CHECK_EQ(bytes, 0);
	CHECK_UNCHANGED(f, &s);
	return 0;
}

static int unmap_all(struct fx *f)
{
	uint64_t bytes = 0;
	struct ioasid_info info;
	struct ioasid_unmap_dma u = {
		.size = sizeof(u),
		.flags = IOASID_UNMAP_ALL,
		.ioasid = f->as,
		.iova = SZ_1M,
	};

	CHECK_OK(setup3(f));
	/* UNMAP_ALL needs iova = length = 0. */
	CHECK_ERR(ioasid_ioctl(f->h, IOASID_UNMAP_DMA, &u), -EINVAL);
	u.iova = 0;
	u.length = SZ_4K;
	CHECK_ERR(ioasid_ioctl(f->h, IOASID_UNMAP_DMA, &u), -EINVAL);
	CHECK_OK(ioasid_unmap_all(f->h, f->as, &bytes));
	CHECK_EQ(bytes, 14 * SZ_4K);
	CHECK_OK(ioasid_get_info(f->h, f->as, &info, NULL, 0));
	CHECK_EQ(info.out_num_mappings, 0);
	CHECK_EQ(info.out_fd_pinned_pages, 0);
	CHECK_OK(ioasid_unmap_all(f->h, f->as, &bytes));
	CHECK_EQ(bytes, 0);
	return 0;
}

static int unmap_args(struct fx *f)
{
	struct ioasid_unmap_dma u = {
		.size = sizeof(u),
		.flags = 0x2,
		.ioasid = f->as,
		.length = SZ_4K,
	};

	CHECK_OK(setup3(f));
	UNMAP_FAILS(f, -EINVAL, SZ_1M, 0);
	UNMAP_FAILS(f, -EINVAL, SZ_1M + 1, SZ_4K);
	UNMAP_FAILS(f, -EINVAL, SZ_1M, SZ_4K + 8);
	UNMAP_FAILS(f, -EINVAL, UINT64_MAX - SZ_4K + 1, 2 * SZ_4K);
	CHECK_ERR(ioasid_ioctl(f->h, IOASID_UNMAP_DMA, &u), -EINVAL);
	u.flags = 0;
	u.__reserved = 1;
	CHECK_ERR(ioasid_ioctl(f->h, IOASID_UNMAP_DMA, &u), -EINVAL);
	CHECK_ERR(ioasid_unmap(f->h, 777, SZ_1M, SZ_4K, NULL), -ENOENT);
	return 0;
}

static int unmap_to_the_top(struct fx *f)
{
	uint32_t d, as2;
	uint64_t bytes;

	/* A range ending at the last IOVA of the space. */
	CHECK_OK(new_swdev(f, SZ_4K, 0, UINT64_MAX, 0, 0, 1, &d));
	CHECK_OK(ioasid_alloc(f->h, &as2));
	CHECK_OK(ioasid_attach(f->h, d, as2));
	CHECK_OK(ioasid_map(f->h, as2, UINT64_MAX - SZ_64K + 1, f->buf, SZ_64K,
			    RW));
	CHECK_ERR(ioasid_unmap(f->h, as2, UINT64_MAX - SZ_4K + 1, SZ_4K, NULL),
		  -EINVAL);
	CHECK_OK(ioasid_unmap(f->h, as2, UINT64_MAX - SZ_1M + 1, SZ_1M,
			      &bytes));
	CHECK_EQ(bytes, SZ_64K);
	return 0;
}

static int unmap_notifies_once(struct fx *f)
{
	struct ioasid_swdev_stats st;

	CHECK_OK(setup3(f));
	CHECK_OK(ioasid_unmap(f->h, f->as, 0, 4 * SZ_1M, NULL));
	CHECK_OK(ioasid_swdev_stats(f->h, f->dev, &st));
	CHECK_EQ(st.out_unmap_calls, 1);
	CHECK_EQ(st.out_unmap_entries, 3);
	/* An unmap that removes nothing tells nobody. */
	CHECK_OK(ioasid_unmap(f->h, f->as, 0, 4 * SZ_1M, NULL));
	CHECK_OK(ioasid_swdev_stats(f->h, f->dev, &st));
	CHECK_EQ(st.out_unmap_calls, 1);
	return 0;
}

static const struct test tests[] = {
	{ "unmap_cut", unmap_cut, NULL },
	{ "unmap_several", unmap_several, NULL },
	{ "unmap_exact", unmap_exact, NULL },
	{ "unmap_nothing", unmap_nothing, NULL },
	{ "unmap_all", unmap_all, NULL },
	{ "unmap_args", unmap_args, NULL },
	{ "unmap_to_the_top", unmap_to_the_top, NULL },
	{ "unmap_notifies_once", unmap_notifies_once, NULL },
};

int main(int argc, char **argv)
{
	return run_tests("unmap", tests, sizeof(tests) / sizeof(tests[0]),
			 argc, argv);
}
