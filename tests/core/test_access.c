// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/* access: DMA through the ioasid lands where mapped, faults where not, never after unmap. */
#include "harness.h"

static int dma_write_read(struct fx *f)
{
	uint8_t out[8192], in[8192];
	uint32_t i;

	for (i = 0; i < sizeof(out); i++)
		out[i] = (uint8_t)(i * 7 + 3);
	CHECK_OK(ioasid_attach(f->h, f->dev, f->as));
	/* Two mappings back to back, with different memory behind them. */
	CHECK_OK(ioasid_map(f->h, f->as, SZ_1M, f->buf + SZ_2M, SZ_4K, RW));
	CHECK_OK(ioasid_map(f->h, f->as, SZ_1M + SZ_4K, f->buf, SZ_4K, RW));
	/* The device writes across the boundary. */
	CHECK_OK(ioasid_swdev_access(f->h, f->dev, IOASID_ACCESS_WRITE,
				     SZ_1M + 100, out, 5000));
	CHECK(!memcmp(f->buf + SZ_2M + 100, out, SZ_4K - 100));
	CHECK(!memcmp(f->buf, out + SZ_4K - 100, 5000 - (SZ_4K - 100)));
	CHECK_OK(ioasid_swdev_access(f->h, f->dev, IOASID_ACCESS_READ,
				     SZ_1M + 100, in, 5000));
	CHECK(!memcmp(in, out, 5000));
	return 0;
}

static int dma_faults(struct fx *f)
{
	uint8_t b[64];
	struct ioasid_swdev_stats st;

	memset(f->buf, 0xaa, SZ_4K);
	memset(b, 0x55, sizeof(b));
	CHECK_OK(ioasid_attach(f->h, f->dev, f->as));
	CHECK_OK(ioasid_map(f->h, f->as, 0, f->buf, SZ_4K, IOASID_DMA_READ));
	/* Unmapped IOVA. */
	CHECK_ERR(ioasid_swdev_access(f->h, f->dev, IOASID_ACCESS_READ,
				      SZ_1M, b, 8), -EFAULT);
	/* Read-only mapping, device writes: fault, memory untouched. */
	CHECK_ERR(ioasid_swdev_access(f->h, f->dev, IOASID_ACCESS_WRITE, 0, b,
				      8), -EFAULT);
	CHECK_EQ(f->buf[0], 0xaa);
	/* Crossing the end of the mapping: all or nothing. */
	CHECK_ERR(ioasid_swdev_access(f->h, f->dev, IOASID_ACCESS_READ,
				      SZ_4K - 8, b, 16), -EFAULT);
	CHECK_EQ(b[0], 0x55);
	CHECK_OK(ioasid_swdev_stats(f->h, f->dev, &st));
	CHECK_EQ(st.out_faults, 3);
	CHECK_OK(ioasid_swdev_access(f->h, f->dev, IOASID_ACCESS_READ,
				     SZ_4K - 8, b, 8));
	CHECK_EQ(b[0], 0xaa);
	return 0;
}

static int no_translation_after_unmap(struct fx *f)
{
	uint8_t b[16];
	struct ioasid_swdev_stats st;
	uint32_t i;

	memset(b, 0x11, sizeof(b));
	CHECK_OK(ioasid_attach(f->h, f->dev, f->as));
	CHECK_OK(ioasid_map(f->h, f->as, 0, f->buf, SZ_64K, RW));
	/* Warm the device's IOTLB. */
	for (i = 0; i < 4; i++)
		CHECK_OK(ioasid_swdev_access(f->h, f->dev,
					     IOASID_ACCESS_WRITE, 64, b, 16));
	CHECK_OK(ioasid_swdev_stats(f->h, f->dev, &st));
	CHECK(st.out_iotlb_hits >= 3);
	CHECK_OK(ioasid_unmap(f->h, f->as, 0, SZ_64K, NULL));
	/* The IOTLB held the translation; unmap must have flushed it. */
	memset(f->buf, 0, 128);
	memset(b, 0x22, sizeof(b));
	CHECK_ERR(ioasid_swdev_access(f->h, f->dev, IOASID_ACCESS_WRITE, 64, b,
				      16), -EFAULT);
	CHECK_EQ(f->buf[64], 0);
	CHECK_OK(ioasid_swdev_stats(f->h, f->dev, &st));
	CHECK_EQ(st.out_unmap_calls, 1);
	return 0;
}

static int two_ioasids_isolated(struct fx *f)
{
	uint32_t as2, d2;
	uint8_t b[8] = { 1, 2, 3, 4, 5, 6, 7, 8 };

	CHECK_OK(ioasid_alloc(f->h, &as2));
	CHECK_OK(new_swdev(f, SZ_4K, 0, APERTURE_LAST, 0, 0, 1, &d2));
	CHECK_OK(ioasid_attach(f->h, f->dev, f->as));
	CHECK_OK(ioasid_attach(f->h, d2, as2));
	CHECK_OK(ioasid_map(f->h, f->as, 0, f->buf, SZ_4K, RW));
	CHECK_OK(ioasid_map(f->h, as2, SZ_4K, f->buf + SZ_4K, SZ_4K, RW));
	/* Each device sees only its own ioasid's mappings. */
	CHECK_ERR(ioasid_swdev_access(f->h, d2, IOASID_ACCESS_WRITE, 0, b, 8),
		  -EFAULT);
	CHECK_ERR(ioasid_swdev_access(f->h, f->dev, IOASID_ACCESS_WRITE, SZ_4K,
				      b, 8), -EFAULT);
	CHECK_OK(ioasid_swdev_access(f->h, d2, IOASID_ACCESS_WRITE, SZ_4K, b,
				     8));
	CHECK(!memcmp(f->buf + SZ_4K, b, 8));
	return 0;
}

static int access_args(struct fx *f)
{
	uint8_t b[8];

	CHECK_ERR(ioasid_swdev_access(f->h, f->dev, IOASID_ACCESS_READ, 0, b,
				      8), -ENODEV);
	CHECK_OK(ioasid_attach(f->h, f->dev, f->as));
	CHECK_ERR(ioasid_swdev_access(f->h, f->dev, 0, 0, b, 8), -EINVAL);
	CHECK_ERR(ioasid_swdev_access(f->h, f->dev, 3, 0, b, 8), -EINVAL);
	CHECK_ERR(ioasid_swdev_access(f->h, f->dev, IOASID_ACCESS_READ, 0, b,
				      0), -EINVAL);
	CHECK_ERR(ioasid_swdev_access(f->h, f->dev, IOASID_ACCESS_READ, 0, b,
				      IOASID_SWDEV_ACCESS_MAX + 1), -EINVAL);
	CHECK_ERR(ioasid_swdev_access(f->h, f->dev, IOASID_ACCESS_READ,
				      UINT64_MAX - 3, b, 8), -EINVAL);
	return 0;
}

static const struct test tests[] = {
	{ "dma_write_read", dma_write_read, NULL },
	{ "dma_faults", dma_faults, NULL },
	{ "no_translation_after_unmap", no_translation_after_unmap, NULL },
	{ "two_ioasids_isolated", two_ioasids_isolated, NULL },
	{ "access_args", access_args, NULL },
};

int main(int argc, char **argv)
{
	return run_tests("access", tests, sizeof(tests) / sizeof(tests[0]),
			 argc, argv);
}
