// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/*
 * dirty: software dirty page tracking (Phase 3). Pages a software device
 * writes, writable mappings unmapped while tracking, everything mapped
 * writable when an untracked device is attached; read-and-clear; the
 * argument rules.
 */
#include "harness.h"

#define BITS_WORDS	64

static int bit(const uint64_t *b, unsigned int i)
{
	return (int)((b[i / 64] >> (i % 64)) & 1);
}

static unsigned int popcount(const uint64_t *b, unsigned int words)
{
	unsigned int n = 0, i;

	for (i = 0; i < words * 64; i++)
		n += (unsigned int)bit(b, i);
	return n;
}

/* Read [0, 64 pages) at 4 KiB granularity into b; returns the call's rc. */
static int read64(struct fx *f, uint64_t *b, uint32_t flags, uint64_t *n)
{
	memset(b, 0xff, BITS_WORDS * sizeof(*b));
	return ioasid_dirty_read(f->h, f->as, 0, 64 * SZ_4K, 12, b, flags, n);
}

/* Tracking stopped and started again: a read reports nothing dirty. */
static int restart_reads_clean(struct fx *f)
{
	uint64_t b[BITS_WORDS], n = 1;

	CHECK_OK(ioasid_dirty_tracking(f->h, f->as, false));
	CHECK_OK(ioasid_dirty_tracking(f->h, f->as, true));
	CHECK_OK(read64(f, b, 0, &n));
	CHECK_EQ(n, 0);
	return 0;
}

static int rules(struct fx *f)
{
	uint64_t b[BITS_WORDS];
	struct snap s;

	/* No operation before a device is attached. */
	CHECK_ERR(ioasid_dirty_tracking(f->h, f->as, true), -ENODEV);
	CHECK_ERR(ioasid_dirty_tracking(f->h, 999, true), -ENOENT);
	CHECK_OK(ioasid_attach(f->h, f->dev, f->as));
	CHECK_ERR(read64(f, b, 0, NULL), -EINVAL);	/* not started */
	CHECK_OK(ioasid_dirty_tracking(f->h, f->as, true));
	CHECK_OK(ioasid_dirty_tracking(f->h, f->as, true));	/* idempotent */
	CHECK_OK(ioasid_map(f->h, f->as, 0, f->buf, 16 * SZ_4K, RW));
	SNAP(f, &s, f->dev, f->as);
	CHECK_ERR(ioasid_dirty_read(f->h, f->as, 0, 0, 12, b, 0, NULL), -EINVAL);
	CHECK_ERR(ioasid_dirty_read(f->h, f->as, 1, SZ_4K, 12, b, 0, NULL),
		  -EINVAL);
	CHECK_ERR(ioasid_dirty_read(f->h, f->as, 0, SZ_4K + 1, 12, b, 0, NULL),
		  -EINVAL);
	CHECK_ERR(ioasid_dirty_read(f->h, f->as, 0, SZ_4K, 11, b, 0, NULL),
		  -EINVAL);
	CHECK_ERR(ioasid_dirty_read(f->h, f->as, 0, SZ_4K, 31, b, 0, NULL),
		  -EINVAL);
	CHECK_ERR(ioasid_dirty_read(f->h, f->as, 0, SZ_4K, 12, b, 2, NULL),
		  -EINVAL);
	CHECK_ERR(ioasid_dirty_read(f->h, f->as, ~0ULL << 12, 2 * SZ_4K, 12, b,
				    0, NULL), -EINVAL);
	/* More pages than the limit. */
	CHECK_ERR(ioasid_dirty_read(f->h, f->as, 0,
				    ((uint64_t)IOASID_DIRTY_MAX_BITS + 1) << 12,
				    12, b, 0, NULL), -EINVAL);
	CHECK_ERR(ioasid_dirty_read(f->h, f->as, 0, SZ_4K, 12, NULL, 0,
				    NULL), -EFAULT);
	CHECK_UNCHANGED(f, &s);
	{
		struct ioasid_dirty_tracking t = {
			.size = sizeof(t), .flags = 3, .ioasid = f->as,
		};

		CHECK_ERR(ioasid_ioctl(f->h, IOASID_DIRTY_TRACKING, &t), -EINVAL);
		t.flags = 0;
		CHECK_ERR(ioasid_ioctl(f->h, IOASID_DIRTY_TRACKING, &t), -EINVAL);
		t.flags = IOASID_DIRTY_STOP;
		t.__reserved = 1;
		CHECK_ERR(ioasid_ioctl(f->h, IOASID_DIRTY_TRACKING, &t), -EINVAL);
	}
	CHECK_OK(ioasid_dirty_tracking(f->h, f->as, false));
	CHECK_OK(ioasid_dirty_tracking(f->h, f->as, false));
	CHECK_ERR(read64(f, b, 0, NULL), -EINVAL);
	return 0;
}

/* Writes by a software device are dirty; its reads are not. */
static int device_writes(struct fx *f)
{
	uint64_t b[BITS_WORDS], n = 0;
	uint8_t data[SZ_4K];

	memset(data, 0x5c, sizeof(data));
	CHECK_OK(ioasid_attach(f->h, f->dev, f->as));
	CHECK_OK(ioasid_map(f->h, f->as, 0, f->buf, 32 * SZ_4K, RW));
	/* Before tracking starts: not recorded. */
	CHECK_OK(ioasid_swdev_access(f->h, f->dev, IOASID_ACCESS_WRITE,
				     20 * SZ_4K, data, 16));
	CHECK_OK(ioasid_dirty_tracking(f->h, f->as, true));
	CHECK_OK(read64(f, b, 0, &n));
	CHECK_EQ(n, 0);
	CHECK_EQ(popcount(b, 1), 0);
	/* One byte on page 3; 100 bytes across pages 7 and 8. */
	CHECK_OK(ioasid_swdev_access(f->h, f->dev, IOASID_ACCESS_WRITE,
				     3 * SZ_4K + 17, data, 1));
	CHECK_OK(ioasid_swdev_access(f->h, f->dev, IOASID_ACCESS_WRITE,
				     8 * SZ_4K - 50, data, 100));
	CHECK_OK(ioasid_swdev_access(f->h, f->dev, IOASID_ACCESS_READ,
				     12 * SZ_4K, data, SZ_4K));
	CHECK_OK(read64(f, b, IOASID_DIRTY_NO_CLEAR, &n));
	CHECK_EQ(n, 3);
	CHECK(bit(b, 3) && bit(b, 7) && bit(b, 8) && !bit(b, 12));
	CHECK_EQ(popcount(b, 1), 3);
	/* A coarser bitmap: 2 MiB pages, one bit for all of them. */
	memset(b, 0, sizeof(b));
	CHECK_OK(ioasid_dirty_read(f->h, f->as, 0, SZ_2M, 21, b,
				   IOASID_DIRTY_NO_CLEAR, &n));
	CHECK_EQ(n, 1);
	CHECK_EQ(b[0], 1);
	/* A read of pages 0-7 clears 3 and 7, not 8. */
	CHECK_OK(ioasid_dirty_read(f->h, f->as, 0, 8 * SZ_4K, 12, b, 0, &n));
	CHECK_EQ(n, 2);
	CHECK_OK(read64(f, b, 0, &n));
	CHECK_EQ(n, 1);
	CHECK(bit(b, 8));
	CHECK_OK(read64(f, b, 0, &n));
	CHECK_EQ(n, 0);
	return 0;
}

/* A writable mapping unmapped during tracking reads dirty; read-only not. */
static int unmapped_writable(struct fx *f)
{
	uint64_t b[BITS_WORDS], n = 0;

	CHECK_OK(ioasid_attach(f->h, f->dev, f->as));
	CHECK_OK(ioasid_map(f->h, f->as, 0, f->buf, 4 * SZ_4K, RW));
	CHECK_OK(ioasid_map(f->h, f->as, 8 * SZ_4K, f->buf + SZ_1M, 2 * SZ_4K,
			    IOASID_DMA_READ));
	CHECK_OK(ioasid_dirty_tracking(f->h, f->as, true));
	CHECK_OK(ioasid_unmap(f->h, f->as, 0, 4 * SZ_4K, NULL));
	CHECK_OK(ioasid_unmap(f->h, f->as, 8 * SZ_4K, 2 * SZ_4K, NULL));
	CHECK_OK(read64(f, b, 0, &n));
	CHECK_EQ(n, 4);
	CHECK_EQ(b[0], 0xf);
	/* Restarting forgets. */
	CHECK_OK(ioasid_map(f->h, f->as, 0, f->buf, 4 * SZ_4K, RW));
	CHECK_OK(ioasid_unmap(f->h, f->as, 0, 4 * SZ_4K, NULL));
	return restart_reads_clean(f);
}

/*
 * An untracked device (like a VFIO device) makes every mapped writable
 * page dirty at every read, until tracking restarts without it.
 */
static int untracked_device(struct fx *f)
{
	uint64_t b[BITS_WORDS], n = 0;
	uint32_t hw;

	CHECK_OK(new_swdev(f, SZ_4K | SZ_2M | SZ_1G, 0, APERTURE_LAST,
			   IOASID_SWDEV_UNTRACKED, 0, 0, &hw));
	CHECK_OK(ioasid_attach(f->h, f->dev, f->as));
	CHECK_OK(ioasid_map(f->h, f->as, 2 * SZ_4K, f->buf, 3 * SZ_4K, RW));
	CHECK_OK(ioasid_map(f->h, f->as, 10 * SZ_4K, f->buf + SZ_1M, SZ_4K,
			    IOASID_DMA_READ));
	CHECK_OK(ioasid_dirty_tracking(f->h, f->as, true));
	CHECK_OK(read64(f, b, 0, &n));
	CHECK_EQ(n, 0);
	CHECK_OK(ioasid_attach(f->h, hw, f->as));
	CHECK_OK(read64(f, b, 0, &n));
	CHECK_EQ(n, 3);
	CHECK_EQ(b[0], 0x1c);
	/* Every read, not once; and it stays after the device leaves. */
	CHECK_OK(read64(f, b, 0, &n));
	CHECK_EQ(n, 3);
	CHECK_OK(ioasid_detach(f->h, hw));
	CHECK_OK(read64(f, b, 0, &n));
	CHECK_EQ(n, 3);
	/* A restart without it is precise again. */
	return restart_reads_clean(f);
}

/*
 * A set scattered into many ranges, cleared in windows that cut ranges
 * at either end, fall inside one, or cover many: every read must report
 * exactly what a model says, and clear exactly its window. (The clear
 * moves the ranges it drops in one step: a user who scattered the set
 * cannot make one clear quadratic.)
 */
static int scattered_clear(struct fx *f)
{
	enum { NP = 4000 };
	static const uint32_t win[][2] = {	/* [first, last] pages cleared */
		{ 100, 699 }, { 1501, 1504 }, { 1500, 1500 }, { 0, 98 },
		{ 2000, NP - 1 },
	};
	static uint64_t b[(NP + 63) / 64];
	static bool model[NP];
	uint8_t one = 0x77;
	uint64_t n;

	CHECK_OK(ioasid_attach(f->h, f->dev, f->as));
	CHECK_OK(ioasid_map(f->h, f->as, 0, f->buf, (uint64_t)NP * SZ_4K, RW));
	CHECK_OK(ioasid_dirty_tracking(f->h, f->as, true));
	/* Ranges of two pages, one page apart (pages 3k and 3k + 1). */
	for (uint32_t p = 0; p + 1 < 1500; p += 3) {
		CHECK_OK(ioasid_swdev_access(f->h, f->dev, IOASID_ACCESS_WRITE,
					     (uint64_t)p * SZ_4K, &one, 1));
		CHECK_OK(ioasid_swdev_access(f->h, f->dev, IOASID_ACCESS_WRITE,
					     (uint64_t)(p + 1) * SZ_4K, &one, 1));
		model[p] = model[p + 1] = true;
	}
	/* One long range: pages 1500-1519. */
	for (uint32_t p = 1500; p < 1520; p++) {
		CHECK_OK(ioasid_swdev_access(f->h, f->dev, IOASID_ACCESS_WRITE,
					     (uint64_t)p * SZ_4K, &one, 1));
		model[p] = true;
	}
	for (size_t w = 0; w < sizeof(win) / sizeof(win[0]); w++) {
		uint32_t first = win[w][0], last = win[w][1], want = 0;

		for (uint32_t p = first; p <= last; p++) {
			want += model[p];
			model[p] = false;
		}
		CHECK_OK(ioasid_dirty_read(f->h, f->as, (uint64_t)first * SZ_4K,
					   (uint64_t)(last - first + 1) * SZ_4K,
					   12, b, 0, &n));
		CHECK_EQ(n, want);
		/* The whole set, not cleared: exactly the model. */
		CHECK_OK(ioasid_dirty_read(f->h, f->as, 0,
					   (uint64_t)NP * SZ_4K, 12, b,
					   IOASID_DIRTY_NO_CLEAR, &n));
		for (uint32_t p = 0; p < NP; p++)
			CHECK_EQ(bit(b, p), model[p]);
	}
	CHECK_OK(ioasid_dirty_read(f->h, f->as, 0, (uint64_t)NP * SZ_4K, 12,
				   b, 0, &n));
	CHECK_OK(ioasid_dirty_read(f->h, f->as, 0, (uint64_t)NP * SZ_4K, 12,
				   b, 0, &n));
	CHECK_EQ(n, 0);
	return 0;
}

static const struct test tests[] = {
	{ "dirty_rules", rules, NULL },
	{ "dirty_device_writes", device_writes, NULL },
	{ "dirty_unmapped_writable", unmapped_writable, NULL },
	{ "dirty_untracked_device", untracked_device, NULL },
	{ "dirty_scattered_clear", scattered_clear, NULL },
};

int main(int argc, char **argv)
{
	return run_tests("dirty", tests, sizeof(tests) / sizeof(tests[0]),
			 argc, argv);
}
