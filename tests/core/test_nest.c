// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/* nest: nested ioasids, bound tables, invalidation; every rule and its errno. */
#define _GNU_SOURCE
#include <sys/mman.h>

#include "harness.h"

/*
 * The scene: a nesting parent maps the fixture's 64 MiB buffer ("guest
 * RAM") at PBASE; a nested ioasid's table lives in that memory, from
 * TABLES on; a second software device is attached to the child, the
 * fixture's device to the parent.
 */
#define PBASE		0x10000000ULL
#define RAM		(64 * SZ_1M)
#define TABLES		(48 * SZ_1M)	/* buffer offset of the table pool */
#define T		(1ULL << 0 | 1ULL << 1 | 1ULL << 2)	/* P RW US */
#define PTE_P		(1ULL << 0)
#define PTE_RW		(1ULL << 1)
#define PTE_US		(1ULL << 2)
#define PTE_PS		(1ULL << 7)

struct nest {
	struct fx *f;
	uint32_t parent, child, cdev;
	uint64_t root;			/* parent IOVA of the root table */
	uint8_t *mem;			/* what the parent maps at PBASE */
	uint64_t tnext;			/* offset in @mem of the next table */
	int64_t tstep;
};

static uint64_t *table_at(struct nest *n, uint64_t piova)
{
	return (uint64_t *)(n->mem + (piova - PBASE));
}

static uint64_t new_table(struct nest *n)
{
	uint64_t piova = PBASE + n->tnext;

	n->tnext += n->tstep;
	memset(table_at(n, piova), 0, SZ_4K);
	return piova;
}

/* Install a leaf for child IOVA @iova at @level (1: 4K, 2: 2M, 3: 1G). */
static void set_leaf(struct nest *n, uint64_t iova, unsigned int level,
		     uint64_t pte)
{
	uint64_t table = n->root;
	unsigned int l;

	for (l = 4; l > level; l--) {
		uint64_t *e = &table_at(n, table)[(iova >> (12 + 9 * (l - 1))) &
						  511];

		if (!(*e & PTE_P))
			*e = new_table(n) | T;
		table = *e & 0x000ffffffffff000ULL;
	}
	table_at(n, table)[(iova >> (12 + 9 * (level - 1))) & 511] =
		pte | (level > 1 ? PTE_PS : 0);
}

/* The nested ioasid with a device, without a table bound. */
static int scene(struct fx *f, struct nest *n, bool bind)
{
	memset(n, 0, sizeof(*n));
	n->f = f;
	n->mem = f->buf;
	n->tnext = TABLES;
	n->tstep = SZ_4K;
	CHECK_OK(ioasid_alloc_nest_parent(f->h, &n->parent));
	CHECK_OK(ioasid_attach(f->h, f->dev, n->parent));
	CHECK_OK(ioasid_map(f->h, n->parent, PBASE, f->buf, RAM, RW));
	CHECK_OK(ioasid_alloc_nested(f->h, n->parent, &n->child));
	CHECK_OK(new_swdev(f, SZ_4K | SZ_2M | SZ_1G, 0, APERTURE_LAST, 0, 0, 1,
			   &n->cdev));
	CHECK_OK(ioasid_attach(f->h, n->cdev, n->child));
	n->root = new_table(n);
	if (bind)
		CHECK_OK(ioasid_pgtbl_bind(f->h, n->child, IOASID_PGTBL_X86_64,
					   48, n->root, 0));
	return 0;
}

static int inv(struct nest *n, uint64_t iova, uint64_t npages)
{
	struct ioasid_inv_entry e = { .addr = iova, .npages = npages };

	return ioasid_invalidate(n->f->h, n->child, &e, 1, NULL);
}

/* The child's device reads 8 bytes at @iova: 0 and the value, or -errno. */
static int cread(struct nest *n, uint64_t iova, uint64_t *v)
{
	return ioasid_swdev_access(n->f->h, n->cdev, IOASID_ACCESS_READ, iova,
				   v, sizeof(*v));
}

static int cwrite(struct nest *n, uint64_t iova, uint64_t v)
{
	return ioasid_swdev_access(n->f->h, n->cdev, IOASID_ACCESS_WRITE, iova,
				   &v, sizeof(v));
}

static uint64_t *ram(struct nest *n, uint64_t off)
{
	return (uint64_t *)(n->mem + off);
}

static uint32_t child_maps(struct nest *n)
{
	struct ioasid_info info;

	if (ioasid_get_info(n->f->h, n->child, &info, NULL, 0))
		return UINT32_MAX;
	return info.out_num_mappings;
}

static int alloc_rules(struct fx *f)
{
	struct ioasid_alloc a = { .size = sizeof(a) };
	struct ioasid_info info;
	struct nest n;
	uint32_t id;
	struct snap s;

	CHECK_OK(scene(f, &n, false));
	SNAP(f, &s, n.cdev, f->as, n.parent, n.child);
	/* Nested on an ioasid that is not a nesting parent, or on none. */
	CHECK_ERR(ioasid_alloc_nested(f->h, f->as, &id), -EINVAL);
	CHECK_ERR(ioasid_alloc_nested(f->h, n.child, &id), -EINVAL);
	CHECK_ERR(ioasid_alloc_nested(f->h, 4321, &id), -ENOENT);
	a.flags = IOASID_ALLOC_NEST_PARENT | IOASID_ALLOC_NESTED;
	a.parent = n.parent;
	CHECK_ERR(ioasid_ioctl(f->h, IOASID_ALLOC, &a), -EINVAL);
	a.flags = IOASID_ALLOC_NEST_PARENT;
	CHECK_ERR(ioasid_ioctl(f->h, IOASID_ALLOC, &a), -EINVAL);
	a.flags = 0;
	CHECK_ERR(ioasid_ioctl(f->h, IOASID_ALLOC, &a), -EINVAL);
	/* A parent with children cannot go. */
	CHECK_ERR(ioasid_free(f->h, n.parent), -EBUSY);
	CHECK_UNCHANGED(f, &s);
	/* What info says: nested in software, the parent, no hardware id. */
	CHECK_OK(ioasid_get_info(f->h, n.child, &info, NULL, 0));
	CHECK_EQ(info.out_flags & (IOASID_INFO_NESTED | IOASID_INFO_NESTED_SW |
				   IOASID_INFO_NESTED_HW |
				   IOASID_INFO_NEST_PARENT |
				   IOASID_INFO_PGTBL_BOUND),
		 IOASID_INFO_NESTED | IOASID_INFO_NESTED_SW);
	CHECK_EQ(info.out_parent, n.parent);
	CHECK_OK(ioasid_get_info(f->h, n.parent, &info, NULL, 0));
	CHECK_EQ(info.out_flags & (IOASID_INFO_NESTED | IOASID_INFO_NEST_PARENT),
		 IOASID_INFO_NEST_PARENT);
	CHECK_EQ(info.out_parent, 0);
	CHECK_OK(ioasid_get_info(f->h, f->as, &info, NULL, 0));
	CHECK_EQ(info.out_flags & (IOASID_INFO_NESTED | IOASID_INFO_NEST_PARENT),
		 0);
	/* The child goes first, then the parent can. */
	CHECK_OK(ioasid_detach(f->h, n.cdev));
	CHECK_OK(ioasid_free(f->h, n.child));
	CHECK_OK(ioasid_detach(f->h, f->dev));
	CHECK_OK(ioasid_free(f->h, n.parent));
	return 0;
}

static int bind_rules(struct fx *f)
{
	struct ioasid_pgtbl_bind b = { .size = sizeof(b),
				       .format = IOASID_PGTBL_X86_64,
				       .addr_width = 48 };
	struct nest n;
	struct snap s;
	uint32_t bare;

	CHECK_OK(scene(f, &n, false));
	b.root = n.root;
	/* Bind on a nested ioasid with no device: ENODEV. */
	CHECK_OK(ioasid_alloc_nested(f->h, n.parent, &bare));
	CHECK_ERR(ioasid_pgtbl_bind(f->h, bare, IOASID_PGTBL_X86_64, 48, n.root,
				    0), -ENODEV);
	SNAP(f, &s, n.cdev, n.parent, n.child, bare);
	/* Not nested: a plain ioasid, a parent. */
	b.ioasid = f->as;
	CHECK_ERR(ioasid_ioctl(f->h, IOASID_PGTBL_BIND, &b), -EINVAL);
	b.ioasid = n.parent;
	CHECK_ERR(ioasid_ioctl(f->h, IOASID_PGTBL_BIND, &b), -EINVAL);
	b.ioasid = 4321;
	CHECK_ERR(ioasid_ioctl(f->h, IOASID_PGTBL_BIND, &b), -ENOENT);
	b.ioasid = n.child;
	b.format = 2;
	CHECK_ERR(ioasid_ioctl(f->h, IOASID_PGTBL_BIND, &b), -EINVAL);
	b.format = IOASID_PGTBL_X86_64;
	b.addr_width = 39;
	CHECK_ERR(ioasid_ioctl(f->h, IOASID_PGTBL_BIND, &b), -EINVAL);
	b.addr_width = 48;
	b.flags = IOASID_PGTBL_AD;
	CHECK_ERR(ioasid_ioctl(f->h, IOASID_PGTBL_BIND, &b), -EOPNOTSUPP);
	b.flags = 1U << 9;
	CHECK_ERR(ioasid_ioctl(f->h, IOASID_PGTBL_BIND, &b), -EINVAL);
	b.flags = 0;
	b.__reserved = 1;
	CHECK_ERR(ioasid_ioctl(f->h, IOASID_PGTBL_BIND, &b), -EINVAL);
	b.__reserved = 0;
	/* Root outside the parent, unaligned, in a write-only mapping. */
	b.root = PBASE + RAM;
	CHECK_ERR(ioasid_ioctl(f->h, IOASID_PGTBL_BIND, &b), -EINVAL);
	b.root = n.root + 8;
	CHECK_ERR(ioasid_ioctl(f->h, IOASID_PGTBL_BIND, &b), -EINVAL);
	CHECK_OK(ioasid_map(f->h, n.parent, PBASE + RAM, f->buf, SZ_4K,
			    IOASID_DMA_WRITE));
	b.root = PBASE + RAM;
	CHECK_ERR(ioasid_ioctl(f->h, IOASID_PGTBL_BIND, &b), -EINVAL);
	CHECK_OK(ioasid_unmap(f->h, n.parent, PBASE + RAM, SZ_4K, NULL));
	CHECK_UNCHANGED(f, &s);
	/* Bound once; a second bind: EBUSY. Unbind when not bound: EINVAL. */
	CHECK_ERR(ioasid_pgtbl_unbind(f->h, n.child), -EINVAL);
	CHECK_ERR(ioasid_pgtbl_unbind(f->h, n.parent), -EINVAL);
	b.root = n.root;
	CHECK_OK(ioasid_ioctl(f->h, IOASID_PGTBL_BIND, &b));
	SNAP(f, &s, n.cdev, n.parent, n.child, bare);
	CHECK_ERR(ioasid_ioctl(f->h, IOASID_PGTBL_BIND, &b), -EBUSY);
	CHECK_UNCHANGED(f, &s);
	return 0;
}

static int map_on_child(struct fx *f)
{
	struct ioasid_dma_entry e = ent(0, f->buf, SZ_4K, RW);
	struct nest n;
	struct snap s;
	uint32_t fi;

	CHECK_OK(scene(f, &n, false));
	/* Unbound: a nested ioasid never takes vaddr mappings. */
	CHECK_ERR(ioasid_map(f->h, n.child, 0, f->buf, SZ_4K, RW), -EINVAL);
	CHECK_OK(ioasid_pgtbl_bind(f->h, n.child, IOASID_PGTBL_X86_64, 48,
				   n.root, 0));
	set_leaf(&n, 0, 1, (PBASE + SZ_4K) | T);
	CHECK_OK(ioasid_invalidate_all(f->h, n.child));
	SNAP(f, &s, n.cdev, n.parent, n.child);
	/* Bound: its translations belong to the table. EBUSY. */
	CHECK_ERR(ioasid_map(f->h, n.child, SZ_1M, f->buf, SZ_4K, RW), -EBUSY);
	CHECK_ERR(ioasid_unmap(f->h, n.child, 0, SZ_4K, NULL), -EBUSY);
	CHECK_ERR(ioasid_unmap_all(f->h, n.child, NULL), -EBUSY);
	CHECK_ERR(ioasid_map_batch(f->h, n.child, &e, 1, &fi), -EBUSY);
	CHECK_UNCHANGED(f, &s);
	CHECK_EQ(child_maps(&n), 1);
	return 0;
}

static int leaves_each_level(struct fx *f)
{
	struct ioasid_mapping_info mi[4];
	uint64_t v, pgs, mapped;
	uint32_t cnt = 4;
	struct nest n;
	bool more;

	CHECK_OK(scene(f, &n, true));
	*ram(&n, SZ_4K + 8) = 0x1111;
	*ram(&n, 4 * SZ_2M + 16) = 0x2222;
	*ram(&n, 0x18) = 0x3333;
	set_leaf(&n, 0x5000, 1, (PBASE + SZ_4K) | T);
	set_leaf(&n, SZ_2M, 2, (PBASE + 4 * SZ_2M) | T);
	/* A 1 GiB leaf the parent maps only 64 MiB of. */
	set_leaf(&n, SZ_1G, 3, 0 | T);
	/* Nothing until the invalidation. */
	CHECK_ERR(cread(&n, 0x5008, &v), -EFAULT);
	CHECK_OK(ioasid_invalidate_all(f->h, n.child));
	CHECK_OK(cread(&n, 0x5008, &v));
	CHECK_EQ(v, 0x1111);
	CHECK_OK(cread(&n, SZ_2M + 16, &v));
	CHECK_EQ(v, 0x2222);
	CHECK_OK(cread(&n, SZ_1G + PBASE + 0x18, &v));
	CHECK_EQ(v, 0x3333);
	CHECK_ERR(cread(&n, SZ_1G + PBASE - 8, &v), -EFAULT);
	CHECK_ERR(cread(&n, SZ_1G + PBASE + RAM, &v), -EFAULT);
	CHECK_ERR(cread(&n, 0x6000, &v), -EFAULT);
	/* Three shadow entries, each limited to its leaf's size. */
	CHECK_OK(ioasid_list(f->h, n.child, 0, mi, &cnt, &more));
	CHECK_EQ(cnt, 3);
	CHECK_EQ(mi[0].iova, 0x5000);
	CHECK_EQ(mi[0].length, SZ_4K);
	CHECK_EQ(mi[0].max_pgshift, 12);
	CHECK_EQ(mi[1].iova, SZ_2M);
	CHECK_EQ(mi[1].length, SZ_2M);
	CHECK_EQ(mi[1].max_pgshift, 21);
	CHECK_EQ(mi[2].iova, SZ_1G + PBASE);
	CHECK_EQ(mi[2].length, RAM);
	CHECK_EQ(mi[2].max_pgshift, 30);
	/* A 2 MiB leaf over 2 MiB-aligned parent memory: a 2 MiB page. */
	CHECK_OK(ioasid_query_pgsize(f->h, n.child, SZ_2M, SZ_2M, &pgs,
				     &mapped));
	if (!is_kernel(f))
		CHECK_EQ(pgs, SZ_2M);
	CHECK_EQ(mapped, SZ_2M);
	/* Writes land in parent memory. */
	CHECK_OK(cwrite(&n, SZ_2M + 0x1000, 0xabcd));
	CHECK_EQ(*ram(&n, 4 * SZ_2M + 0x1000), 0xabcd);
	/* Five levels: the same leaves under one more table. */
	{
		uint64_t top = new_table(&n);

		table_at(&n, top)[0] = n.root | T;
		CHECK_OK(ioasid_pgtbl_unbind(f->h, n.child));
		CHECK_OK(ioasid_pgtbl_bind(f->h, n.child, IOASID_PGTBL_X86_64,
					   57, top, 0));
		CHECK_OK(ioasid_invalidate_all(f->h, n.child));
		CHECK_OK(cread(&n, 0x5008, &v));
		CHECK_EQ(v, 0x1111);
		CHECK_EQ(child_maps(&n), 3);
	}
	return 0;
}

static int permission_composition(struct fx *f)
{
	struct nest n;
	uint64_t v;

	CHECK_OK(scene(f, &n, true));
	/* A read-only parent mapping next to the RAM. */
	CHECK_OK(ioasid_map(f->h, n.parent, PBASE + RAM, f->buf + RAM - SZ_1M,
			    SZ_1M, IOASID_DMA_READ));
	*ram(&n, 0) = 7;
	set_leaf(&n, 0x0000, 1, PBASE | T);		/* RW over RW */
	set_leaf(&n, 0x1000, 1, PBASE | PTE_P | PTE_US);	/* RO over RW */
	set_leaf(&n, 0x2000, 1, (PBASE + RAM) | T);	/* RW over RO */
	set_leaf(&n, 0x3000, 1, PBASE | PTE_P | PTE_RW);	/* no U/S */
	CHECK_OK(ioasid_invalidate_all(f->h, n.child));
	CHECK_OK(cwrite(&n, 0x0, 1));
	CHECK_OK(cread(&n, 0x1000, &v));
	CHECK_EQ(v, 1);
	CHECK_ERR(cwrite(&n, 0x1000, 2), -EFAULT);
	CHECK_OK(cread(&n, 0x2000, &v));
	CHECK_ERR(cwrite(&n, 0x2000, 2), -EFAULT);
	CHECK_ERR(cread(&n, 0x3000, &v), -EFAULT);
	CHECK_EQ(*ram(&n, 0), 1);
	CHECK_EQ(child_maps(&n), 3);
	/* Supervisor requests: U/S ignored; without WPE, R/W ignored too. */
	CHECK_OK(ioasid_pgtbl_unbind(f->h, n.child));
	CHECK_OK(ioasid_pgtbl_bind(f->h, n.child, IOASID_PGTBL_X86_64, 48,
				   n.root, IOASID_PGTBL_SUPERVISOR));
	CHECK_OK(ioasid_invalidate_all(f->h, n.child));
	CHECK_OK(cread(&n, 0x3000, &v));
	CHECK_OK(cwrite(&n, 0x1000, 3));
	CHECK_ERR(cwrite(&n, 0x2000, 2), -EFAULT);	/* the parent's AND */
	CHECK_OK(ioasid_pgtbl_unbind(f->h, n.child));
	CHECK_OK(ioasid_pgtbl_bind(f->h, n.child, IOASID_PGTBL_X86_64, 48,
				   n.root, IOASID_PGTBL_SUPERVISOR |
				   IOASID_PGTBL_WPE));
	CHECK_OK(ioasid_invalidate_all(f->h, n.child));
	CHECK_ERR(cwrite(&n, 0x1000, 4), -EFAULT);
	CHECK_EQ(*ram(&n, 0), 3);
	return 0;
}

static int huge_leaf_small_parent(struct fx *f)
{
	struct ioasid_mapping_info mi[8];
	uint32_t cnt = 8, i;
	struct nest n;
	uint64_t v;
	bool more;

	CHECK_OK(scene(f, &n, true));
	/* Parent IOVAs 256 MiB + [0, 2M) as four 512 KiB mappings. */
	for (i = 0; i < 4; i++)
		CHECK_OK(ioasid_map_pgshift(f->h, n.parent,
					    PBASE + RAM + i * 0x80000,
					    f->buf + SZ_2M * 8 + i * 0x80000,
					    0x80000, RW, i == 1 ? 12 : 0));
	*ram(&n, SZ_2M * 8 + 0x80000 + 8) = 0x55;
	set_leaf(&n, SZ_1G - SZ_2M, 2, (PBASE + RAM) | T);
	CHECK_OK(ioasid_invalidate_all(f->h, n.child));
	CHECK_OK(ioasid_list(f->h, n.child, 0, mi, &cnt, &more));
	CHECK_EQ(cnt, 4);
	for (i = 0; i < 4; i++) {
		CHECK_EQ(mi[i].iova, SZ_1G - SZ_2M + i * 0x80000);
		CHECK_EQ(mi[i].length, 0x80000);
		CHECK_EQ(mi[i].max_pgshift, i == 1 ? 12 : 21);
	}
	CHECK_OK(cread(&n, SZ_1G - SZ_2M + 0x80000 + 8, &v));
	CHECK_EQ(v, 0x55);
	/* DMA across two parent mappings. */
	{
		uint8_t b[64];

		CHECK_OK(ioasid_swdev_access(f->h, n.cdev, IOASID_ACCESS_READ,
					     SZ_1G - SZ_2M + 0x80000 - 32, b,
					     64));
		CHECK(!memcmp(b, f->buf + SZ_2M * 8 + 0x80000 - 32, 64));
	}
	return 0;
}

static int invalidate_rules(struct fx *f)
{
	struct ioasid_inv_entry e[3] = {
		{ .addr = 0, .npages = 1, .flags = IOASID_INV_LEAF },
		{ .addr = 0x1001, .npages = 1 },
		{ .addr = 0x2000, .npages = 1 },
	};
	struct ioasid_invalidate iv = { .size = sizeof(iv),
					.entry_size = sizeof(e[0]),
					.entries_uptr = (uintptr_t)e };
	struct ioasid_swdev_stats st0, st1;
	uint32_t handled;
	struct nest n;
	struct snap s;
	uint64_t v;

	CHECK_OK(scene(f, &n, true));
	set_leaf(&n, 0x0000, 1, (PBASE + 0x10000) | T);
	set_leaf(&n, 0x1000, 1, (PBASE + 0x11000) | T);
	set_leaf(&n, 0x2000, 1, (PBASE + 0x12000) | T);
	*ram(&n, 0x10000) = 10;
	*ram(&n, 0x20000) = 20;
	CHECK_OK(ioasid_invalidate_all(f->h, n.child));
	CHECK_EQ(child_maps(&n), 3);
	/* A table write is not seen until its invalidation. */
	set_leaf(&n, 0x0000, 1, (PBASE + 0x20000) | T);
	set_leaf(&n, 0x2000, 1, 0);
	CHECK_OK(cread(&n, 0, &v));
	CHECK_EQ(v, 10);
	/* Three entries, the second unaligned: one handled, EINVAL. */
	CHECK_ERR(ioasid_invalidate(f->h, n.child, e, 3, &handled), -EINVAL);
	CHECK_EQ(handled, 1);
	CHECK_OK(cread(&n, 0, &v));
	CHECK_EQ(v, 20);
	CHECK_OK(cread(&n, 0x2000, &v));	/* the third was not handled */
	/* Header rules, each changing nothing. */
	SNAP(f, &s, n.cdev, n.parent, n.child);
	iv.ioasid = n.child;
	iv.entry_num = 0;
	CHECK_ERR(ioasid_ioctl(f->h, IOASID_INVALIDATE, &iv), -EINVAL);
	iv.entry_num = IOASID_INV_MAX + 1;
	CHECK_ERR(ioasid_ioctl(f->h, IOASID_INVALIDATE, &iv), -EINVAL);
	CHECK_EQ(iv.entry_num, 0);
	iv.entry_num = 1;
	iv.entry_size = sizeof(e[0]) + 8;
	CHECK_ERR(ioasid_ioctl(f->h, IOASID_INVALIDATE, &iv), -EINVAL);
	iv.entry_size = sizeof(e[0]);
	iv.entry_num = 1;		/* every call writes back what it did */
	iv.flags = 1;
	CHECK_ERR(ioasid_ioctl(f->h, IOASID_INVALIDATE, &iv), -EINVAL);
	iv.flags = 0;
	iv.entry_num = 1;
	iv.entries_uptr = 0;
	CHECK_ERR(ioasid_ioctl(f->h, IOASID_INVALIDATE, &iv), -EFAULT);
	iv.entries_uptr = (uintptr_t)e;
	iv.entry_num = 1;
	iv.ioasid = n.parent;
	CHECK_ERR(ioasid_ioctl(f->h, IOASID_INVALIDATE, &iv), -EINVAL);
	iv.entry_num = 1;
	iv.ioasid = f->as;
	CHECK_ERR(ioasid_ioctl(f->h, IOASID_INVALIDATE, &iv), -EINVAL);
	e[0].flags = 2;
	CHECK_ERR(ioasid_invalidate(f->h, n.child, e, 1, &handled), -EINVAL);
	e[0].flags = 0;
	e[0].__reserved = 1;
	CHECK_ERR(ioasid_invalidate(f->h, n.child, e, 1, &handled), -EINVAL);
	e[0].__reserved = 0;
	e[0].npages = 0;
	CHECK_ERR(ioasid_invalidate(f->h, n.child, e, 1, &handled), -EINVAL);
	e[0].addr = 0xfffffffffffff000ULL;
	e[0].npages = 2;
	CHECK_ERR(ioasid_invalidate(f->h, n.child, e, 1, &handled), -EINVAL);
	CHECK_EQ(handled, 0);
	CHECK_UNCHANGED(f, &s);
	/* A range: the cleared PTE goes, memory untouched by the fault. */
	e[0].addr = 0x1000;
	e[0].npages = 2;
	CHECK_OK(ioasid_invalidate(f->h, n.child, e, 1, &handled));
	CHECK_EQ(handled, 1);
	CHECK_ERR(cwrite(&n, 0x2000, 99), -EFAULT);
	CHECK_EQ(*ram(&n, 0x12000), 0);
	CHECK_EQ(child_maps(&n), 2);
	/* Unchanged entries stay: no event for an invalidation of them. */
	CHECK_OK(ioasid_swdev_stats(f->h, n.cdev, &st0));
	CHECK_OK(ioasid_invalidate_all(f->h, n.child));
	CHECK_OK(ioasid_swdev_stats(f->h, n.cdev, &st1));
	CHECK_EQ(st1.out_map_calls, st0.out_map_calls);
	CHECK_EQ(st1.out_unmap_calls, st0.out_unmap_calls);
	/* A changed one: one unmap and one map event. */
	set_leaf(&n, 0x1000, 1, (PBASE + 0x20000) | T);
	CHECK_OK(inv(&n, 0x1000, 1));
	CHECK_OK(ioasid_swdev_stats(f->h, n.cdev, &st0));
	CHECK_EQ(st0.out_map_calls, st1.out_map_calls + 1);
	CHECK_EQ(st0.out_unmap_calls, st1.out_unmap_calls + 1);
	CHECK_OK(cread(&n, 0x1000, &v));
	CHECK_EQ(v, 20);
	/* A 4K invalidation inside a 2M leaf takes the whole leaf. */
	set_leaf(&n, SZ_2M, 2, (PBASE + SZ_2M) | T);
	CHECK_OK(inv(&n, SZ_2M + 0x5000, 1));
	CHECK_OK(cread(&n, SZ_2M + 0x100000, &v));
	return 0;
}

static int parent_unmap_under_child(struct fx *f)
{
	struct nest n;
	uint64_t v, pinned;

	CHECK_OK(scene(f, &n, true));
	/* Child pages in parent [32M, 32M + 8K), and [40M, 40M + 4K). */
	CHECK_OK(ioasid_unmap(f->h, n.parent, PBASE, RAM, NULL));
	CHECK_OK(ioasid_map(f->h, n.parent, PBASE, f->buf, 32 * SZ_1M, RW));
	CHECK_OK(ioasid_map(f->h, n.parent, PBASE + 32 * SZ_1M,
			    f->buf + 32 * SZ_1M, 8 * SZ_1M, RW));
	CHECK_OK(ioasid_map(f->h, n.parent, PBASE + 40 * SZ_1M,
			    f->buf + 40 * SZ_1M, 24 * SZ_1M, RW));
	pinned = fd_pinned(f, n.parent);
	set_leaf(&n, 0x0000, 1, (PBASE + 32 * SZ_1M) | T);
	set_leaf(&n, 0x1000, 1, (PBASE + 32 * SZ_1M + SZ_4K) | T);
	set_leaf(&n, 0x2000, 1, (PBASE + 40 * SZ_1M) | T);
	CHECK_OK(ioasid_invalidate_all(f->h, n.child));
	CHECK_EQ(child_maps(&n), 3);
	/* The shadow pins nothing. */
	CHECK_EQ(fd_pinned(f, n.parent), pinned);
	CHECK_OK(ioasid_unmap(f->h, n.parent, PBASE + 32 * SZ_1M, 8 * SZ_1M,
			      NULL));
	CHECK_EQ(child_maps(&n), 1);
	CHECK_ERR(cread(&n, 0x0, &v), -EFAULT);
	CHECK_ERR(cread(&n, 0x1000, &v), -EFAULT);
	CHECK_OK(cread(&n, 0x2000, &v));
	/* A parent map is picked up by the next invalidation only. */
	CHECK_OK(ioasid_map(f->h, n.parent, PBASE + 32 * SZ_1M,
			    f->buf + 32 * SZ_1M, 8 * SZ_1M, RW));
	CHECK_ERR(cread(&n, 0x0, &v), -EFAULT);
	CHECK_OK(inv(&n, 0, 2));
	CHECK_OK(cread(&n, 0x0, &v));
	/* The table's pages unmapped: the next walk finds nothing. */
	CHECK_OK(ioasid_unmap(f->h, n.parent, PBASE + 40 * SZ_1M, 24 * SZ_1M,
			      NULL));
	CHECK_OK(ioasid_invalidate_all(f->h, n.child));
	CHECK_EQ(child_maps(&n), 0);
	CHECK_ERR(cread(&n, 0x0, &v), -EFAULT);
	return 0;
}

static int unbind_rebind(struct fx *f)
{
	struct nest n;
	struct ioasid_info info;
	uint64_t v;

	CHECK_OK(scene(f, &n, true));
	set_leaf(&n, 0x3000, 1, PBASE | T);
	CHECK_OK(ioasid_invalidate_all(f->h, n.child));
	CHECK_OK(cread(&n, 0x3000, &v));
	CHECK_OK(ioasid_get_info(f->h, n.child, &info, NULL, 0));
	CHECK(info.out_flags & IOASID_INFO_PGTBL_BOUND);
	CHECK_OK(ioasid_pgtbl_unbind(f->h, n.child));
	CHECK_ERR(cread(&n, 0x3000, &v), -EFAULT);
	CHECK_OK(ioasid_get_info(f->h, n.child, &info, NULL, 0));
	CHECK(!(info.out_flags & IOASID_INFO_PGTBL_BOUND));
	CHECK_EQ(info.out_num_mappings, 0);
	CHECK_ERR(inv(&n, 0, 1), -EINVAL);
	CHECK_ERR(ioasid_pgtbl_unbind(f->h, n.child), -EINVAL);
	CHECK_OK(ioasid_pgtbl_bind(f->h, n.child, IOASID_PGTBL_X86_64, 48,
				   n.root, 0));
	CHECK_ERR(cread(&n, 0x3000, &v), -EFAULT);
	CHECK_OK(ioasid_invalidate_all(f->h, n.child));
	CHECK_OK(cread(&n, 0x3000, &v));
	/* Freeing the bound child withdraws its shadow. */
	CHECK_OK(ioasid_detach(f->h, n.cdev));
	CHECK_OK(ioasid_free(f->h, n.child));
	return 0;
}

/*
 * An invalidation whose widening to whole leaves and entries takes many
 * rounds: old entries (of a 1 GiB leaf) straddle every 2 MiB boundary, the
 * new table has 2 MiB leaves, so each round grows the range by one leaf.
 * The whole 1 GiB block is re-walked: no entry of the old table is left
 * overlapping the new ones (was: a warning after 8 rounds, and stale
 * entries crossing 2 MiB boundaries).
 */
static int widen_many_rounds(struct fx *f)
{
	struct ioasid_mapping_info mi[64];
	uint64_t k, pd, pdpt, n_bound = 15;
	uint32_t cnt = 64, i;
	struct nest n;
	bool more;

	CHECK_OK(scene(f, &n, true));
	for (k = 1; k <= n_bound; k++)
		CHECK_OK(ioasid_map(f->h, n.parent, SZ_1G + k * SZ_2M - SZ_4K,
				    f->buf + k * 2 * SZ_4K, 2 * SZ_4K, RW));
	set_leaf(&n, 0, 3, SZ_1G | T);
	CHECK_OK(ioasid_invalidate_all(f->h, n.child));
	CHECK_EQ(child_maps(&n), n_bound);
	/* The same translation with 2 MiB leaves; one page invalidated. */
	pdpt = table_at(&n, n.root)[0] & 0x000ffffffffff000ULL;
	pd = new_table(&n);
	for (k = 0; k < 512; k++)
		table_at(&n, pd)[k] = (SZ_1G + k * SZ_2M) | T | PTE_PS;
	table_at(&n, pdpt)[0] = pd | T;
	CHECK_OK(inv(&n, n_bound * SZ_2M, 1));
	CHECK_OK(ioasid_list(f->h, n.child, 0, mi, &cnt, &more));
	CHECK(!more);
	CHECK_EQ(cnt, 2 * n_bound);
	for (i = 0; i < cnt; i++) {
		CHECK_EQ(mi[i].iova / SZ_2M,
			 (mi[i].iova + mi[i].length - 1) / SZ_2M);
		if (i)
			CHECK(mi[i].iova >= mi[i - 1].iova + mi[i - 1].length);
	}
	return 0;
}

/*
 * Aliasing: many child pages may land on one parent page, but a child's
 * shadow covers no more than twice the bytes the parent maps (128 MiB
 * here), or one invalidation would hand the child's devices (an IOMMU
 * domain) terabytes to map for one pinned range. Past it: ENOSPC, the
 * range as it was.
 */
static int alias_bounded(struct fx *f)
{
	struct ioasid_info info;
	struct nest n;
	uint64_t k, v;

	CHECK_OK(scene(f, &n, true));
	for (k = 0; k < 72; k++)		/* 144 MiB, all on PBASE's 2 MiB */
		set_leaf(&n, k * SZ_2M, 2, PBASE | T);
	CHECK_ERR(ioasid_invalidate_all(f->h, n.child), -ENOSPC);
	CHECK_EQ(child_maps(&n), 0);
	CHECK_OK(inv(&n, 0, 64 * (SZ_2M / SZ_4K)));	/* 128 MiB: allowed */
	CHECK_EQ(child_maps(&n), 64);
	CHECK_OK(ioasid_get_info(f->h, n.child, &info, NULL, 0));
	CHECK_EQ(info.out_mapped_bytes, 2 * RAM);
	*ram(&n, 0x40) = 0x5a5a;
	CHECK_OK(cread(&n, 63 * SZ_2M + 0x40, &v));
	CHECK_EQ(v, 0x5a5a);
	CHECK_ERR(inv(&n, 64 * SZ_2M, 1), -ENOSPC);
	CHECK_EQ(child_maps(&n), 64);
	CHECK_ERR(cread(&n, 64 * SZ_2M, &v), -EFAULT);
	/* Old leaves gone from the table: room again. */
	for (k = 0; k < 8; k++)
		set_leaf(&n, k * SZ_2M, 2, 0);
	CHECK_OK(inv(&n, 0, 8 * (SZ_2M / SZ_4K)));
	CHECK_OK(inv(&n, 64 * SZ_2M, 8 * (SZ_2M / SZ_4K)));
	CHECK_EQ(child_maps(&n), 64);
	CHECK_OK(cread(&n, 71 * SZ_2M, &v));
	/* More parent memory, more room: 4 MiB mapped, 4 more leaves. */
	CHECK_OK(ioasid_map(f->h, n.parent, 0x80000000ULL, f->buf, 4 * SZ_1M,
			    RW));
	for (k = 0; k < 4; k++)
		set_leaf(&n, (72 + k) * SZ_2M, 2, PBASE | T);
	CHECK_OK(inv(&n, 72 * SZ_2M, 4 * (SZ_2M / SZ_4K)));
	CHECK_EQ(child_maps(&n), 68);
	CHECK_OK(ioasid_unmap(f->h, n.parent, 0x80000000ULL, 4 * SZ_1M, NULL));
	set_leaf(&n, 0, 2, PBASE | T);
	CHECK_ERR(inv(&n, 0, 1), -ENOSPC);
	return 0;
}

/*
 * Migration: a device write through the nested ioasid dirties the page in
 * the parent's bitmap (guest RAM), where the VMM reads it (was: only the
 * child's).
 */
static int dirty_through_child(struct fx *f)
{
	uint64_t bm[1] = { 0 }, nd = 0;
	struct nest n;

	CHECK_OK(scene(f, &n, true));
	set_leaf(&n, 0x7000, 1, (PBASE + 3 * SZ_4K) | T);
	CHECK_OK(ioasid_invalidate_all(f->h, n.child));
	CHECK_OK(ioasid_dirty_tracking(f->h, n.parent, true));
	CHECK_OK(cwrite(&n, 0x7008, 0x4141));
	CHECK_EQ(*ram(&n, 3 * SZ_4K + 8), 0x4141);
	CHECK_OK(ioasid_dirty_read(f->h, n.parent, PBASE, 64 * SZ_4K, 12, bm,
				   0, &nd));
	CHECK_EQ(nd, 1);
	CHECK_EQ(bm[0], 1ULL << 3);
	return 0;
}

/*
 * A device whose writes the engine cannot see (a VFIO device; here an
 * untracked software device) behind the nested ioasid makes the parent
 * "all dirty", whichever comes first, the attach or the start (was: the
 * parent's bitmap stayed clean, and migration lost what it wrote).
 */
static int untracked_behind_child(struct fx *f)
{
	uint64_t bm[1] = { 0 }, nd = 0;
	struct nest n;
	uint32_t hw;

	CHECK_OK(scene(f, &n, true));
	CHECK_OK(new_swdev(f, SZ_4K | SZ_2M | SZ_1G, 0, APERTURE_LAST,
			   IOASID_SWDEV_UNTRACKED, 0, 0, &hw));
	CHECK_OK(ioasid_dirty_tracking(f->h, n.parent, true));
	CHECK_OK(ioasid_dirty_read(f->h, n.parent, PBASE, 64 * SZ_4K, 12, bm,
				   0, &nd));
	CHECK_EQ(nd, 0);
	CHECK_OK(ioasid_attach(f->h, hw, n.child));
	CHECK_OK(ioasid_dirty_read(f->h, n.parent, PBASE, 64 * SZ_4K, 12, bm,
				   0, &nd));
	CHECK_EQ(nd, 64);
	CHECK_EQ(bm[0], ~0ULL);
	/* Attached first, tracking started after. */
	CHECK_OK(ioasid_dirty_tracking(f->h, n.parent, false));
	CHECK_OK(ioasid_dirty_tracking(f->h, n.parent, true));
	bm[0] = 0;
	CHECK_OK(ioasid_dirty_read(f->h, n.parent, PBASE, 64 * SZ_4K, 12, bm,
				   0, &nd));
	CHECK_EQ(nd, 64);
	CHECK_EQ(bm[0], ~0ULL);
	/* Without it, a restart is precise again. */
	CHECK_OK(ioasid_detach(f->h, hw));
	CHECK_OK(ioasid_dirty_tracking(f->h, n.parent, false));
	CHECK_OK(ioasid_dirty_tracking(f->h, n.parent, true));
	CHECK_OK(ioasid_dirty_read(f->h, n.parent, PBASE, 64 * SZ_4K, 12, bm,
				   0, &nd));
	CHECK_EQ(nd, 0);
	return 0;
}

#define SMALL_LIMIT	300

static void small_limit(struct ioasid_open_opts *o)
{
	o->max_mappings = SMALL_LIMIT;
}

/*
 * The mapping-count limit holds for all of a parent's children together:
 * a parent unmap scans every child's shadow, so children sharing one table
 * cannot multiply it (was: 300 entries per child, without end).
 */
static int children_share_limit(struct fx *f)
{
	uint32_t child2;
	struct nest n;
	uint64_t k;

	if (is_kernel(f)) {	/* small_limit's, the kernel's way */
		CHECK_OK(kernel_reopen_limited(f, SMALL_LIMIT, NULL));
		CHECK_OK(ioasid_alloc(f->h, &f->as));
		CHECK_OK(new_swdev(f, SZ_4K | SZ_2M | SZ_1G, 0, APERTURE_LAST,
				   0, 0, 1, &f->dev));
	}
	CHECK_OK(scene(f, &n, true));
	for (k = 0; k < 200; k++)
		set_leaf(&n, k * SZ_4K, 1, (PBASE + k * SZ_4K) | T);
	CHECK_OK(inv(&n, 0, 200));
	CHECK_EQ(child_maps(&n), 200);
	CHECK_OK(ioasid_detach(f->h, n.cdev));
	CHECK_OK(ioasid_alloc_nested(f->h, n.parent, &child2));
	CHECK_OK(ioasid_attach(f->h, n.cdev, child2));
	CHECK_OK(ioasid_pgtbl_bind(f->h, child2, IOASID_PGTBL_X86_64, 48,
				   n.root, 0));
	n.child = child2;
	CHECK_ERR(inv(&n, 0, 200), -ENOSPC);
	CHECK_EQ(child_maps(&n), 0);
	CHECK_OK(inv(&n, 0, 100));
	CHECK_EQ(child_maps(&n), 100);
	/* An unrelated parent unmap leaves both shadows alone. */
	CHECK_OK(ioasid_map(f->h, n.parent, 0x80000000ULL, f->buf, SZ_4K, RW));
	CHECK_OK(ioasid_unmap(f->h, n.parent, 0x80000000ULL, SZ_4K, NULL));
	CHECK_EQ(child_maps(&n), 100);
	return 0;
}


static int malformed_and_bounded(struct fx *f)
{
	uint64_t *root, v;
	struct nest n;
	unsigned int i;

	CHECK_OK(scene(f, &n, true));
	root = table_at(&n, n.root);
	/* Reserved bits in a 2M leaf; PS at level 4; a table outside. */
	set_leaf(&n, SZ_2M, 2, (PBASE + SZ_2M) | T | (1ULL << 13));
	set_leaf(&n, 0, 1, PBASE | T);
	root[1] = n.root | T | PTE_PS;
	root[2] = 0x7000000000ULL | T;
	CHECK_OK(ioasid_invalidate_all(f->h, n.child));
	CHECK_EQ(child_maps(&n), 1);
	CHECK_ERR(cread(&n, SZ_2M, &v), -EFAULT);
	CHECK_ERR(cread(&n, 1ULL << 39, &v), -EFAULT);
	/*
	 * A loop: every root entry points at the root, so 256 * 512^3 leaves
	 * (each the root page itself). The mapping limit stops it: ENOSPC,
	 * and the shadow is as it was.
	 */
	for (i = 0; i < 512; i++)
		root[i] = n.root | T;
	CHECK_ERR(ioasid_invalidate_all(f->h, n.child), -ENOSPC);
	CHECK_EQ(child_maps(&n), 1);
	CHECK_OK(cread(&n, 0x10, &v));
	CHECK_EQ(v, *ram(&n, 0x10));
	/* A range the limit allows: the loop's leaves, as the format says. */
	CHECK_OK(inv(&n, 0x1000, 16));
	CHECK_OK(cread(&n, 0x1010, &v));
	CHECK_EQ(v, root[2]);
	/*
	 * Leaves that all point outside the parent: nothing to keep, so the
	 * walk's work limit stops it, with ENOSPC.
	 */
	for (i = 0; i < 512; i++)
		root[i] = 0;
	{
		uint64_t pdpt = new_table(&n), pd = new_table(&n);
		uint64_t pt = new_table(&n);

		root[0] = pdpt | T;
		for (i = 0; i < 512; i++) {
			table_at(&n, pdpt)[i] = pd | T;
			table_at(&n, pd)[i] = pt | T;
			table_at(&n, pt)[i] = 0x7000000000ULL | T;
		}
		CHECK_ERR(ioasid_invalidate_all(f->h, n.child), -ENOSPC);
	}
	CHECK_EQ(child_maps(&n), 17);
	return 0;
}

/*
 * Guest RAM in a shared memfd (what QEMU with a memfd backend maps), which
 * the kernel pins by folio, with the tables laid out from the top of it
 * downwards, 24 KiB apart, over all of its chunks of folios: every table
 * read after the first is behind the one before, and the leaves point at
 * pages in scrambled order. Each read must come from the right page
 * (the kernel finds a folio by its chunk, ioasid_kpin_run).
 */
#define MFD_LEN		(8 * SZ_1M)
#define MFD_LEAVES	256
#define MFD_PAGE(k, perm) (6 * (((k) * (perm)) % 300) + 2) /* no table's */

static int mfd_check(struct nest *n, unsigned int perm, bool reverse)
{
	unsigned int i;
	uint64_t v;

	for (i = 0; i < MFD_LEAVES; i++) {
		unsigned int k = reverse ? MFD_LEAVES - 1 - i : i;
		uint64_t iova = k * (SZ_2M + SZ_4K);

		*ram(n, MFD_PAGE(k, perm) * SZ_4K) = 0xdada0000ULL + k * perm;
		set_leaf(n, iova, 1, (PBASE + MFD_PAGE(k, perm) * SZ_4K) | T);
		if (reverse)
			CHECK_OK(inv(n, iova, 1));
	}
	if (!reverse)
		CHECK_OK(ioasid_invalidate_all(n->f->h, n->child));
	for (i = 0; i < MFD_LEAVES; i++) {
		uint64_t iova = i * (SZ_2M + SZ_4K);

		CHECK_OK(cread(n, iova, &v));
		CHECK_EQ(v, 0xdada0000ULL + i * perm);
	}
	CHECK_EQ(child_maps(n), MFD_LEAVES);
	return 0;
}

static int tables_in_memfd(struct fx *f)
{
	struct nest n = { .f = f, .tnext = MFD_LEN - SZ_4K,
			  .tstep = -6 * (int64_t)SZ_4K };
	int fd = memfd_create("ioasid-nest", MFD_CLOEXEC);
	uint64_t v;

	CHECK(fd >= 0);
	CHECK_OK(ftruncate(fd, MFD_LEN));
	n.mem = mmap(NULL, MFD_LEN, PROT_READ | PROT_WRITE, MAP_SHARED, fd,
		     0);
	close(fd);
	CHECK(n.mem != MAP_FAILED);
	CHECK_OK(ioasid_alloc_nest_parent(f->h, &n.parent));
	CHECK_OK(ioasid_attach(f->h, f->dev, n.parent));
	CHECK_OK(ioasid_map(f->h, n.parent, PBASE, n.mem, MFD_LEN, RW));
	CHECK_OK(ioasid_alloc_nested(f->h, n.parent, &n.child));
	CHECK_OK(new_swdev(f, SZ_4K | SZ_2M | SZ_1G, 0, APERTURE_LAST, 0, 0, 1,
			   &n.cdev));
	CHECK_OK(ioasid_attach(f->h, n.cdev, n.child));
	n.root = new_table(&n);
	CHECK_OK(ioasid_pgtbl_bind(f->h, n.child, IOASID_PGTBL_X86_64, 48,
				   n.root, 0));
	/* Root, one table at each of levels 3 and 2, and 256 at level 1. */
	CHECK_OK(mfd_check(&n, 97, false));
	CHECK_EQ(n.tnext, MFD_LEN - SZ_4K - 259 * 6 * SZ_4K);
	/* Every leaf moved, invalidated one by one from the last. */
	CHECK_OK(mfd_check(&n, 31, true));
	/* A write through the child lands in the file's page. */
	CHECK_OK(cwrite(&n, 7 * (SZ_2M + SZ_4K) + 8, 0x5eed));
	CHECK_EQ(*ram(&n, MFD_PAGE(7, 31) * SZ_4K + 8), 0x5eed);
	CHECK_OK(cread(&n, 7 * (SZ_2M + SZ_4K) + 8, &v));
	CHECK_EQ(v, 0x5eed);
	CHECK_OK(ioasid_pgtbl_unbind(f->h, n.child));
	CHECK_OK(ioasid_unmap(f->h, n.parent, PBASE, MFD_LEN, NULL));
	munmap(n.mem, MFD_LEN);
	return 0;
}

static const struct test tests[] = {
	{ "alloc_rules", alloc_rules, NULL },
	{ "bind_rules", bind_rules, NULL },
	{ "map_on_child", map_on_child, NULL },
	{ "leaves_each_level", leaves_each_level, NULL },
	{ "permission_composition", permission_composition, NULL },
	{ "huge_leaf_small_parent", huge_leaf_small_parent, NULL },
	{ "invalidate_rules", invalidate_rules, NULL },
	{ "parent_unmap_under_child", parent_unmap_under_child, NULL },
	{ "unbind_rebind", unbind_rebind, NULL },
	{ "malformed_and_bounded", malformed_and_bounded, small_limit },
	{ "widen_many_rounds", widen_many_rounds, NULL },
	{ "alias_bounded", alias_bounded, NULL },
	{ "dirty_through_child", dirty_through_child, NULL },
	{ "children_share_limit", children_share_limit, small_limit },
	{ "tables_in_memfd", tables_in_memfd, NULL },
	{ "untracked_behind_child", untracked_behind_child, NULL },
};

int main(int argc, char **argv)
{
	return run_tests("nest", tests, sizeof(tests) / sizeof(tests[0]),
			 argc, argv);
}
