// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/*
 * make_corpus: write the seed corpus of fuzz_uapi (tests/fuzz/corpus/uapi)
 * from real uAPI structs, so the seeds follow the header when it changes.
 * Each seed is a short, valid scenario; the fuzzer mutates from there.
 * Usage: make_corpus DIR
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/ioasid.h>

static unsigned char out[8192];
static size_t len;

static void cmd(unsigned int nr, const void *s, size_t n, const void *extra,
		size_t m)
{
	out[len++] = (unsigned char)(nr - IOASID_CMD_BASE);
	out[len++] = (unsigned char)n;
	memcpy(out + len, s, n);
	len += n;
	out[len++] = (unsigned char)(m / 8);
	memcpy(out + len, extra, m);
	len += m;
}

static void swdev(unsigned long long pgsizes, unsigned int group,
		  unsigned int gsize)
{
	struct ioasid_iova_range r = { 0xfee00000, 0xfeefffff };
	struct ioasid_swdev_create c = {
		.size = sizeof(c), .pgsize_bitmap = pgsizes,
		.aperture_last = 0xffffffff, .group_id = group,
		.group_size = gsize, .num_resv = 1, .resv_uptr = 0x1000,
	};

	cmd(IOASID_CMD_SWDEV_CREATE, &c, sizeof(c), &r, sizeof(r));
}

static void alloc_as(void)
{
	struct ioasid_alloc a = { .size = sizeof(a) };

	cmd(IOASID_CMD_ALLOC, &a, sizeof(a), NULL, 0);
}

static void attach(unsigned int dev, unsigned int as)
{
	struct ioasid_device_attach a = { sizeof(a), 0, dev, as };

	cmd(IOASID_CMD_DEVICE_ATTACH, &a, sizeof(a), NULL, 0);
}

static void map(unsigned int as, unsigned long long iova,
		unsigned long long va, unsigned long long n, unsigned int fl)
{
	struct ioasid_map_dma m = { .size = sizeof(m), .flags = fl,
				    .ioasid = as, .iova = iova, .vaddr = va,
				    .length = n };

	cmd(IOASID_CMD_MAP_DMA, &m, sizeof(m), NULL, 0);
}

static void unmap(unsigned int as, unsigned long long iova,
		  unsigned long long n, unsigned int fl)
{
	struct ioasid_unmap_dma u = { .size = sizeof(u), .flags = fl,
				      .ioasid = as, .iova = iova, .length = n };

	cmd(IOASID_CMD_UNMAP_DMA, &u, sizeof(u), NULL, 0);
}

static void batch(unsigned int nr, unsigned int as,
		  const struct ioasid_dma_entry *e, unsigned int n)
{
	struct ioasid_batch b = { .size = sizeof(b), .ioasid = as, .count = n,
				  .entry_size = sizeof(*e),
				  .entries_uptr = 0x1000 };

	cmd(nr, &b, sizeof(b), e, n * sizeof(*e));
}

/* Page-table entries at arena 0x10000 + page * 4096 + slot * 8. */
static void memwrite(unsigned int page, unsigned int slot,
		     const unsigned long long *e, unsigned int n)
{
	out[len++] = 0xf0;
	out[len++] = (unsigned char)page;
	out[len++] = (unsigned char)slot;
	out[len++] = (unsigned char)n;
	memcpy(out + len, e, n * 8);
	len += n * 8;
}

static void save(const char *dir, const char *name)
{
	char path[4096];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "wb");
	if (!f || fwrite(out, 1, len, f) != len) {
		perror(path);
		exit(1);
	}
	fclose(f);
	len = 0;
}

int main(int argc, char **argv)
{
	struct ioasid_dma_entry e[4];
	const char *dir = argc > 1 ? argv[1] : ".";
	int i;

	/* Devices get id 1, the ioasid id 2 (ids are handed out in order). */
	swdev(0x40201000ULL, 0, 1);
	alloc_as();
	attach(1, 2);
	map(2, 0x100000, 0x10000, 0x4000, 3);
	map(2, 0x104000, 0x10000, 0x2000, 1);
	unmap(2, 0x100000, 0x4000, 0);
	unmap(2, 0, 0, IOASID_UNMAP_ALL);
	save(dir, "map_unmap");

	swdev(0x1000, 0, 1);
	alloc_as();
	attach(1, 2);
	for (i = 0; i < 4; i++) {
		memset(&e[i], 0, sizeof(e[i]));
		e[i].flags = 3;
		e[i].iova = 0x200000 + i * 0x2000;
		e[i].vaddr = 0x20000 + i * 0x1000;
		e[i].length = 0x2000;
	}
	batch(IOASID_CMD_MAP_BATCH, 2, e, 4);
	for (i = 0; i < 4; i++)
		e[i].vaddr = 0, e[i].flags = 0;
	batch(IOASID_CMD_UNMAP_BATCH, 2, e, 4);
	save(dir, "batch");

	swdev(0x1000, 5, 2);
	swdev(0x1000, 5, 2);
	alloc_as();
	attach(1, 3);
	map(3, 0, 0x10000, 0x1000, 3);
	attach(2, 3);
	map(3, 0, 0x10000, 0x1000, 3);
	{
		struct ioasid_device_detach d = { sizeof(d), 0, 2, 0 };

		cmd(IOASID_CMD_DEVICE_DETACH, &d, sizeof(d), NULL, 0);
	}
	{
		struct ioasid_free f = { sizeof(f), 0, 3, 0 };

		cmd(IOASID_CMD_FREE, &f, sizeof(f), NULL, 0);
	}
	save(dir, "group");

	swdev(0x40201000ULL, 0, 1);
	alloc_as();
	attach(1, 2);
	map(2, 0x200000, 0x200000, 0x400000, 3);
	{
		struct ioasid_query_pgsize q = { .size = sizeof(q), .ioasid = 2,
						 .iova = 0x200000,
						 .length = 0x400000 };
		struct ioasid_list_mappings l = { .size = sizeof(l),
						  .ioasid = 2, .count = 4,
						  .mappings_uptr = 0x1000 };
		struct ioasid_info in = { .size = sizeof(in), .ioasid = 2,
					  .num_ranges = 4,
					  .ranges_uptr = 0x1000 };
		struct ioasid_swdev_access a = { .size = sizeof(a),
						 .flags = IOASID_ACCESS_WRITE,
						 .dev_id = 1, .iova = 0x200100,
						 .length = 64,
						 .buf_uptr = 0x1000 };
		struct ioasid_swdev_stats s = { .size = sizeof(s), .dev_id = 1 };

		cmd(IOASID_CMD_QUERY_PGSIZE, &q, sizeof(q), NULL, 0);
		cmd(IOASID_CMD_LIST_MAPPINGS, &l, sizeof(l), NULL, 0);
		cmd(IOASID_CMD_GET_INFO, &in, sizeof(in), NULL, 0);
		cmd(IOASID_CMD_SWDEV_ACCESS, &a, sizeof(a), NULL, 0);
		cmd(IOASID_CMD_SWDEV_STATS, &s, sizeof(s), NULL, 0);
	}
	save(dir, "visibility");

	/* Dirty tracking: start, a device write, an unmap, reads. */
	swdev(0x40201000ULL, 0, 1);
	alloc_as();
	attach(1, 2);
	map(2, 0x200000, 0x200000, 0x10000, 3);
	{
		struct ioasid_dirty_tracking t = { .size = sizeof(t),
						   .flags = IOASID_DIRTY_START,
						   .ioasid = 2 };
		struct ioasid_swdev_access a = { .size = sizeof(a),
						 .flags = IOASID_ACCESS_WRITE,
						 .dev_id = 1, .iova = 0x203ff0,
						 .length = 64,
						 .buf_uptr = 0x1000 };
		struct ioasid_unmap_dma u = { .size = sizeof(u), .ioasid = 2,
					      .iova = 0x200000,
					      .length = 0x10000 };
		struct ioasid_dirty_read r = { .size = sizeof(r), .ioasid = 2,
					       .pgshift = 12,
					       .iova = 0x200000,
					       .length = 0x20000,
					       .bitmap_uptr = 0x1000 };

		cmd(IOASID_CMD_DIRTY_TRACKING, &t, sizeof(t), NULL, 0);
		cmd(IOASID_CMD_SWDEV_ACCESS, &a, sizeof(a), NULL, 0);
		r.flags = IOASID_DIRTY_NO_CLEAR;
		cmd(IOASID_CMD_DIRTY_READ, &r, sizeof(r), NULL, 0);
		cmd(IOASID_CMD_UNMAP_DMA, &u, sizeof(u), NULL, 0);
		r.flags = 0;
		cmd(IOASID_CMD_DIRTY_READ, &r, sizeof(r), NULL, 0);
	}
	save(dir, "dirty");

	/*
	 * Nesting: a parent (2) maps arena 0x10000 at IOVA 0x100000 in two
	 * mappings; a
	 * child (3) with its own device (4) binds a table there (root,
	 * PDPT, PD, PT at 0x100000-0x103000; four 4 KiB leaves and a 2 MiB
	 * one), invalidates, DMAs, invalidates a range, loses part of the
	 * parent, unbinds.
	 */
	swdev(0x40201000ULL, 0, 1);
	{
		struct ioasid_alloc a = { .size = sizeof(a),
					  .flags = IOASID_ALLOC_NEST_PARENT };

		cmd(IOASID_CMD_ALLOC, &a, sizeof(a), NULL, 0);
	}
	attach(1, 2);
	map(2, 0x100000, 0x10000, 0x40000, 3);
	map(2, 0x140000, 0x90000, 0xc0000, 3);
	{
		struct ioasid_alloc a = { .size = sizeof(a),
					  .flags = IOASID_ALLOC_NESTED,
					  .parent = 2 };
		unsigned long long t[4];
		struct ioasid_pgtbl_bind b = { .size = sizeof(b), .ioasid = 3,
					       .format = IOASID_PGTBL_X86_64,
					       .addr_width = 48,
					       .root = 0x100000 };
		struct ioasid_inv_entry all = { .addr = 0, .npages = ~0ULL };
		struct ioasid_inv_entry some[2] = {
			{ .addr = 0x1000, .npages = 2,
			  .flags = IOASID_INV_LEAF },
			{ .addr = 0x200000, .npages = 512 },
		};
		struct ioasid_invalidate iv = { .size = sizeof(iv),
						.ioasid = 3,
						.entry_size = sizeof(all),
						.entries_uptr = 0x1000,
						.entry_num = 1 };
		struct ioasid_swdev_access ac = { .size = sizeof(ac),
						  .flags = IOASID_ACCESS_WRITE,
						  .dev_id = 4, .iova = 0x1008,
						  .length = 64,
						  .buf_uptr = 0x1000 };
		struct ioasid_pgtbl_unbind ub = { .size = sizeof(ub),
						  .ioasid = 3 };

		cmd(IOASID_CMD_ALLOC, &a, sizeof(a), NULL, 0);
		swdev(0x40201000ULL, 0, 1);
		attach(4, 3);
		t[0] = 0x101000 | 7;
		memwrite(0, 0, t, 1);
		t[0] = 0x102000 | 7;
		memwrite(1, 0, t, 1);
		t[0] = 0x103000 | 7;
		t[1] = 0x100000 | 0x87;		/* a 2 MiB leaf */
		memwrite(2, 0, t, 2);
		for (i = 0; i < 4; i++)
			t[i] = (0x140000 + i * 0x1000ULL) | 7;
		memwrite(3, 0, t, 4);
		cmd(IOASID_CMD_PGTBL_BIND, &b, sizeof(b), NULL, 0);
		cmd(IOASID_CMD_INVALIDATE, &iv, sizeof(iv), &all, sizeof(all));
		cmd(IOASID_CMD_SWDEV_ACCESS, &ac, sizeof(ac), NULL, 0);
		t[0] = 0x150000 | 5;
		memwrite(3, 1, t, 1);
		iv.entry_num = 2;
		cmd(IOASID_CMD_INVALIDATE, &iv, sizeof(iv), some, sizeof(some));
		unmap(2, 0x140000, 0xc0000, 0);
		cmd(IOASID_CMD_PGTBL_UNBIND, &ub, sizeof(ub), NULL, 0);
	}
	save(dir, "nest");

	/*
	 * Fault queues: a queue on an ioasid, an access that misses (it
	 * waits the fuzzer's 1 ms and times out), a read and a response on
	 * the queue's fd (fuzz_uapi.c: bytes 0xe0 and 0xe1, fd 100).
	 */
	swdev(0x1000, 0, 1);
	alloc_as();
	attach(1, 2);
	map(2, 0, 0x10000, 0x1000, 3);
	{
		struct ioasid_faultq_alloc fa = { .size = sizeof(fa),
						  .timeout_ms = 5,
						  .depth = 2 };
		struct ioasid_faultq_attach at = { .size = sizeof(at),
						   .ioasid = 2, .fd = 100 };
		struct ioasid_swdev_access ac = { .size = sizeof(ac),
						  .flags = IOASID_ACCESS_READ,
						  .dev_id = 1, .iova = 0x3000,
						  .length = 16,
						  .buf_uptr = 0x1000 };
		struct ioasid_fault_response r = { .cookie = 1 };

		cmd(IOASID_CMD_FAULTQ_ALLOC, &fa, sizeof(fa), NULL, 0);
		cmd(IOASID_CMD_FAULTQ_ATTACH, &at, sizeof(at), NULL, 0);
		cmd(IOASID_CMD_SWDEV_ACCESS, &ac, sizeof(ac), NULL, 0);
		out[len++] = 0xe0;
		out[len++] = (unsigned char)sizeof(struct ioasid_fault);
		memset(out + len, 0, sizeof(struct ioasid_fault));
		len += sizeof(struct ioasid_fault);
		out[len++] = 0xe1;
		out[len++] = (unsigned char)sizeof(r);
		memcpy(out + len, &r, sizeof(r));
		len += sizeof(r);
		at.flags = IOASID_FAULTQ_DETACH;
		at.fd = -1;
		cmd(IOASID_CMD_FAULTQ_ATTACH, &at, sizeof(at), NULL, 0);
	}
	save(dir, "faultq");
	return 0;
}
