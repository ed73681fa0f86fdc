// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/* attach: objects, attach compatibility, groups, and the before-attach rule. */
#include "harness.h"

static int alloc_free(struct fx *f)
{
	uint32_t a, b;

	CHECK(f->as != 0);
	CHECK_OK(ioasid_alloc(f->h, &a));
	CHECK_OK(ioasid_alloc(f->h, &b));
	CHECK(a && b && a != b && a != f->as && b != f->as);
	CHECK_OK(ioasid_free(f->h, a));
	CHECK_ERR(ioasid_free(f->h, a), -ENOENT);
	CHECK_ERR(ioasid_free(f->h, 0), -ENOENT);
	CHECK_ERR(ioasid_free(f->h, 99999), -ENOENT);
	/* A device id is not an ioasid. */
	CHECK_ERR(ioasid_free(f->h, f->dev), -ENOENT);
	CHECK_OK(ioasid_free(f->h, b));
	return 0;
}

static int first_device_fixes_attrs(struct fx *f)
{
	struct ioasid_iova_range r[4];
	struct ioasid_info info;

	CHECK_OK(ioasid_get_info(f->h, f->as, &info, r, 4));
	CHECK_EQ(info.out_flags, 0);
	CHECK_EQ(info.out_pgsize_bitmap, 0);
	CHECK_EQ(info.num_ranges, 0);
	CHECK_OK(ioasid_attach(f->h, f->dev, f->as));
	CHECK_OK(ioasid_get_info(f->h, f->as, &info, r, 4));
	CHECK_EQ(info.out_pgsize_bitmap, SZ_4K | SZ_2M | SZ_1G);
	CHECK_EQ(info.out_num_devices, 1);
	CHECK(info.out_flags & IOASID_INFO_ATTACHED);
	CHECK(info.out_flags & IOASID_INFO_VIABLE);
	CHECK(info.out_flags & IOASID_INFO_HAS_ATTRS);
	CHECK(!(info.out_flags & IOASID_INFO_COHERENT));
	/* Usable ranges: the aperture with the MSI window cut out. */
	CHECK_EQ(info.num_ranges, 2);
	CHECK_EQ(r[0].start, 0);
	CHECK_EQ(r[0].last, MSI_START - 1);
	CHECK_EQ(r[1].start, MSI_LAST + 1);
	CHECK_EQ(r[1].last, APERTURE_LAST);
	return 0;
}

/* A second device that cannot use the ioasid's table fails, changing nothing. */
static int incompatible(struct fx *f, uint64_t pgsizes, uint64_t ap_start,
			uint64_t ap_last, uint32_t flags, bool extra_resv)
{
	struct ioasid_iova_range resv[2];
	struct ioasid_swdev_create c;
	struct snap s;
	uint32_t d2, other;

	CHECK_OK(ioasid_attach(f->h, f->dev, f->as));
	CHECK_OK(ioasid_map(f->h, f->as, 0x100000, f->buf, SZ_64K, RW));
	swdev_default(&c, &resv[0]);
	c.pgsize_bitmap = pgsizes;
	c.aperture_start = ap_start;
	c.aperture_last = ap_last;
	c.flags = flags;
	if (extra_resv) {
		resv[1].start = 0xfef00000;
		resv[1].last = 0xfef0ffff;
		c.num_resv = 2;
	}
	if (ap_start > MSI_START || ap_last < MSI_LAST)
		c.num_resv = 0;
	CHECK_OK(ioasid_swdev_create(f->h, &c, &d2));
	SNAP(f, &s, f->dev, f->as);
	CHECK_ERR(ioasid_attach(f->h, d2, f->as), -EINVAL);
	CHECK_UNCHANGED(f, &s);
	/* The device itself is untouched: it attaches elsewhere. */
	CHECK_OK(ioasid_alloc(f->h, &other));
	CHECK_OK(ioasid_attach(f->h, d2, other));
	return 0;
}

static int incompatible_pgsize(struct fx *f)
{
	return incompatible(f, SZ_4K | SZ_2M, 0, APERTURE_LAST, 0, false);
}

static int incompatible_aperture(struct fx *f)
{
	return incompatible(f, SZ_4K | SZ_2M | SZ_1G, 0, 0x7fffffff, 0, false);
}

static int incompatible_resv(struct fx *f)
{
	return incompatible(f, SZ_4K | SZ_2M | SZ_1G, 0, APERTURE_LAST, 0,
			    true);
}

static int incompatible_coherency(struct fx *f)
{
	uint32_t coh, coh2, as2;

	/* A coherent ioasid refuses a non-coherent device... */
	CHECK_OK(ioasid_alloc(f->h, &as2));
	CHECK_OK(new_swdev(f, SZ_4K | SZ_2M | SZ_1G, 0, APERTURE_LAST,
			   IOASID_SWDEV_COHERENT, 0, 1, &coh));
	CHECK_OK(ioasid_attach(f->h, coh, as2));
	CHECK_ERR(ioasid_attach(f->h, f->dev, as2), -EINVAL);
	/* ...a non-coherent one accepts a coherent device. */
	CHECK_OK(new_swdev(f, SZ_4K | SZ_2M | SZ_1G, 0, APERTURE_LAST,
			   IOASID_SWDEV_COHERENT, 0, 1, &coh2));
	CHECK_OK(ioasid_attach(f->h, f->dev, f->as));
	CHECK_OK(ioasid_attach(f->h, coh2, f->as));
	return 0;
}

static int compatible_superset(struct fx *f)
{
	struct ioasid_info info;
	uint32_t d2;

	/* More page sizes and a wider aperture than the ioasid: fine. */
	CHECK_OK(new_swdev(f, SZ_4K | SZ_64K | SZ_2M | SZ_1G, 0,
			   0xffffffffffffULL, 0, 0, 1, &d2));
	CHECK_OK(ioasid_attach(f->h, f->dev, f->as));
	CHECK_OK(ioasid_attach(f->h, d2, f->as));
	CHECK_OK(ioasid_get_info(f->h, f->as, &info, NULL, 0));
	CHECK_EQ(info.out_num_devices, 2);
	/* The first device's attributes stay. */
	CHECK_EQ(info.out_pgsize_bitmap, SZ_4K | SZ_2M | SZ_1G);
	return 0;
}

static int before_attach(struct fx *f)
{
	struct ioasid_dma_entry e = ent(0, f->buf, SZ_4K, RW);
	struct ioasid_mapping_info m[1];
	uint32_t n = 1, fail = 0;
	uint64_t pg;
	struct snap s;
	bool more;

	SNAP(f, &s, 0, f->as);
	CHECK_ERR(ioasid_map(f->h, f->as, 0, f->buf, SZ_4K, RW), -ENODEV);
	CHECK_ERR(ioasid_unmap(f->h, f->as, 0, SZ_4K, NULL), -ENODEV);
	CHECK_ERR(ioasid_unmap_all(f->h, f->as, NULL), -ENODEV);
	CHECK_ERR(ioasid_map_batch(f->h, f->as, &e, 1, &fail), -ENODEV);
	CHECK_EQ(fail, UINT32_MAX);
	CHECK_ERR(ioasid_unmap_batch(f->h, f->as, &e, 1, NULL, NULL), -ENODEV);
	CHECK_ERR(ioasid_query_pgsize(f->h, f->as, 0, SZ_4K, &pg, NULL),
		  -ENODEV);
	CHECK_UNCHANGED(f, &s);
	/* Info, list and free are allowed. */
	CHECK_OK(ioasid_list(f->h, f->as, 0, m, &n, &more));
	CHECK_EQ(n, 0);
	CHECK_OK(ioasid_free(f->h, f->as));
	return 0;
}

static int group_incomplete(struct fx *f)
{
	struct ioasid_info info;
	uint32_t a, b;
	struct snap s;

	CHECK_OK(new_swdev(f, SZ_4K | SZ_2M, 0, APERTURE_LAST, 0, 7, 2, &a));
	CHECK_OK(new_swdev(f, SZ_4K | SZ_2M, 0, APERTURE_LAST, 0, 7, 2, &b));
	CHECK_OK(ioasid_attach(f->h, a, f->as));
	CHECK_OK(ioasid_get_info(f->h, f->as, &info, NULL, 0));
	CHECK(info.out_flags & IOASID_INFO_ATTACHED);
	CHECK(!(info.out_flags & IOASID_INFO_VIABLE));
	SNAP(f, &s, a, f->as);
	CHECK_ERR(ioasid_map(f->h, f->as, 0, f->buf, SZ_4K, RW), -EPERM);
	CHECK_ERR(ioasid_unmap(f->h, f->as, 0, SZ_4K, NULL), -EPERM);
	CHECK_UNCHANGED(f, &s);
	CHECK_OK(ioasid_attach(f->h, b, f->as));
	CHECK_OK(ioasid_get_info(f->h, f->as, &info, NULL, 0));
	CHECK(info.out_flags & IOASID_INFO_VIABLE);
	CHECK_OK(ioasid_map(f->h, f->as, 0, f->buf, SZ_4K, RW));
	/* Losing one member makes the ioasid non-viable again. */
	CHECK_OK(ioasid_detach(f->h, b));
	CHECK_ERR(ioasid_unmap(f->h, f->as, 0, SZ_4K, NULL), -EPERM);
	CHECK_OK(ioasid_attach(f->h, b, f->as));
	CHECK_OK(ioasid_unmap(f->h, f->as, 0, SZ_4K, NULL));
	return 0;
}

static int group_split(struct fx *f)
{
	uint32_t a, b, as2;

	/* Members of one group on two ioasids: neither is viable. */
	CHECK_OK(ioasid_alloc(f->h, &as2));
	CHECK_OK(new_swdev(f, SZ_4K, 0, APERTURE_LAST, 0, 9, 2, &a));
	CHECK_OK(new_swdev(f, SZ_4K, 0, APERTURE_LAST, 0, 9, 2, &b));
	CHECK_OK(ioasid_attach(f->h, a, f->as));
	CHECK_OK(ioasid_attach(f->h, b, as2));
	CHECK_ERR(ioasid_map(f->h, f->as, 0, f->buf, SZ_4K, RW), -EPERM);
	CHECK_ERR(ioasid_map(f->h, as2, 0, f->buf, SZ_4K, RW), -EPERM);
	return 0;
}

static int group_size_rules(struct fx *f)
{
	uint32_t a, b, c;

	CHECK_ERR(new_swdev(f, SZ_4K, 0, APERTURE_LAST, 0, 5, 0, &a), -EINVAL);
	CHECK_ERR(new_swdev(f, SZ_4K, 0, APERTURE_LAST, 0, 5, 65, &a), -EINVAL);
	CHECK_OK(new_swdev(f, SZ_4K, 0, APERTURE_LAST, 0, 5, 2, &a));
	/* Members must agree on the group's size... */
	CHECK_ERR(new_swdev(f, SZ_4K, 0, APERTURE_LAST, 0, 5, 3, &b), -EINVAL);
	CHECK_OK(new_swdev(f, SZ_4K, 0, APERTURE_LAST, 0, 5, 2, &b));
	/* ...and a group cannot have more members than it said. */
	CHECK_ERR(new_swdev(f, SZ_4K, 0, APERTURE_LAST, 0, 5, 2, &c), -EINVAL);
	return 0;
}

static int free_busy(struct fx *f)
{
	struct snap s;

	CHECK_OK(ioasid_attach(f->h, f->dev, f->as));
	CHECK_OK(ioasid_map(f->h, f->as, 0, f->buf, SZ_64K, RW));
	SNAP(f, &s, f->dev, f->as);
	CHECK_ERR(ioasid_free(f->h, f->as), -EBUSY);
	CHECK_UNCHANGED(f, &s);
	CHECK_OK(ioasid_detach(f->h, f->dev));
	CHECK_OK(ioasid_free(f->h, f->as));
	return 0;
}

static int attach_errors(struct fx *f)
{
	uint32_t as2;

	CHECK_ERR(ioasid_attach(f->h, 4242, f->as), -ENOENT);
	CHECK_ERR(ioasid_attach(f->h, f->dev, 4242), -ENOENT);
	CHECK_ERR(ioasid_attach(f->h, f->as, f->as), -ENOENT);
	CHECK_ERR(ioasid_detach(f->h, f->dev), -ENOENT);
	CHECK_OK(ioasid_attach(f->h, f->dev, f->as));
	CHECK_OK(ioasid_alloc(f->h, &as2));
	CHECK_ERR(ioasid_attach(f->h, f->dev, as2), -EBUSY);
	CHECK_ERR(ioasid_attach(f->h, f->dev, f->as), -EBUSY);
	return 0;
}

static int detach_keeps_mappings(struct fx *f)
{
	struct ioasid_info info;
	uint32_t d2;

	CHECK_OK(ioasid_attach(f->h, f->dev, f->as));
	CHECK_OK(ioasid_map(f->h, f->as, 0, f->buf, SZ_64K, RW));
	CHECK_OK(ioasid_detach(f->h, f->dev));
	CHECK_OK(ioasid_get_info(f->h, f->as, &info, NULL, 0));
	CHECK_EQ(info.out_num_mappings, 1);
	CHECK(info.out_flags & IOASID_INFO_HAS_ATTRS);
	CHECK_EQ(info.out_fd_pinned_pages, 16);
	/* No device: map and unmap wait for one. */
	CHECK_ERR(ioasid_unmap_all(f->h, f->as, NULL), -ENODEV);
	/* The kept attributes still decide who may attach. */
	CHECK_OK(new_swdev(f, SZ_4K, 0, APERTURE_LAST, 0, 0, 1, &d2));
	CHECK_ERR(ioasid_attach(f->h, d2, f->as), -EINVAL);
	CHECK_OK(ioasid_attach(f->h, f->dev, f->as));
	CHECK_OK(ioasid_detach(f->h, f->dev));
	/* Freeing unmaps and unpins. */
	CHECK_OK(ioasid_free(f->h, f->as));
	CHECK_OK(ioasid_alloc(f->h, &f->as));
	CHECK_EQ(fd_pinned(f, f->as), 0);
	return 0;
}

static int attrs_reset_when_empty(struct fx *f)
{
	struct ioasid_info info;
	uint32_t d2;

	CHECK_OK(ioasid_attach(f->h, f->dev, f->as));
	CHECK_OK(ioasid_detach(f->h, f->dev));
	CHECK_OK(ioasid_get_info(f->h, f->as, &info, NULL, 0));
	CHECK(!(info.out_flags & IOASID_INFO_HAS_ATTRS));
	/* With no device and no mapping, the next device fixes them anew. */
	CHECK_OK(new_swdev(f, SZ_4K, 0, APERTURE_LAST, 0, 0, 1, &d2));
	CHECK_OK(ioasid_attach(f->h, d2, f->as));
	CHECK_OK(ioasid_get_info(f->h, f->as, &info, NULL, 0));
	CHECK_EQ(info.out_pgsize_bitmap, SZ_4K);
	return 0;
}

static int destroy_detaches(struct fx *f)
{
	struct ioasid_info info;

	CHECK_OK(ioasid_attach(f->h, f->dev, f->as));
	CHECK_OK(ioasid_map(f->h, f->as, 0, f->buf, SZ_64K, RW));
	CHECK_OK(ioasid_swdev_destroy(f->h, f->dev));
	CHECK_OK(ioasid_get_info(f->h, f->as, &info, NULL, 0));
	CHECK_EQ(info.out_num_devices, 0);
	CHECK_ERR(ioasid_swdev_destroy(f->h, f->dev), -ENOENT);
	CHECK_ERR(ioasid_swdev_destroy(f->h, f->as), -ENOENT);
	CHECK_OK(ioasid_free(f->h, f->as));
	return 0;
}

static int close_with_everything(struct fx *f)
{
	struct ioasid_handle *h2;
	struct ioasid_open_opts o = {
		.size = sizeof(o),
		.backend = ioasid_backend_of(f->h),
	};
	uint32_t as2;

	/* A second fd is independent of the first. */
	CHECK_OK(ioasid_open(&o, &h2));
	CHECK_OK(ioasid_attach(f->h, f->dev, f->as));
	CHECK_OK(ioasid_map(f->h, f->as, 0, f->buf, SZ_2M, RW));
	CHECK_OK(ioasid_alloc(h2, &as2));
	CHECK_EQ(fd_pinned(f, f->as), 512);
	/* Closing with devices attached and mappings in place detaches,
	 * unmaps and unpins (the sanitizer builds check nothing leaks). */
	ioasid_close(h2);
	return 0;
}

/*
 * ioasid_open's opts are size-first: the first version's size (the struct
 * up to dev_path; it has not grown, so today's struct) and a newer
 * caller's larger struct with a zero tail are accepted, a smaller size
 * (EINVAL) or a non-zero tail (E2BIG) refused, as the uAPI's decoder does.
 */
#define OPTS_SIZE_VER0	(offsetof(struct ioasid_open_opts, dev_path) + \
			 sizeof(const char *))

struct big_opts {
	struct ioasid_open_opts o;
	uint8_t tail[16];
};

/*
 * Opening with @o works and gives its backend; with dev_path "/" instead
 * the kernel backend fails with EISDIR, which shows that the last field of
 * the first version was read.
 */
static int opts_applied(struct ioasid_open_opts *o, enum ioasid_backend be)
{
	struct ioasid_handle *h2 = NULL;
	uint32_t as2;

	o->backend = be;
	CHECK_OK(ioasid_open(o, &h2));
	CHECK(h2 != NULL);
	CHECK_EQ(ioasid_backend_of(h2), be);
	CHECK_OK(ioasid_alloc(h2, &as2));
	ioasid_close(h2);
	o->backend = IOASID_BACKEND_KERNEL;
	o->dev_path = "/";
	CHECK_ERR(ioasid_open(o, &h2), -EISDIR);
	return 0;
}

/* Opening with @o must fail with @want, leaving *out alone. */
static int opts_refused(const struct ioasid_open_opts *o, int want)
{
	struct ioasid_handle *h2 = (void *)1;

	CHECK_ERR(ioasid_open(o, &h2), want);
	CHECK(h2 == (void *)1);
	return 0;
}

/*
 * The first version's size is served, and nothing past it is read: the
 * bytes after it hold junk that a read would refuse (E2BIG).
 */
static int open_size_first_version(struct fx *f)
{
	struct big_opts big;

	memset(&big, 0xa5, sizeof(big));
	memset(&big.o, 0, OPTS_SIZE_VER0);
	big.o.size = OPTS_SIZE_VER0;
	CHECK(OPTS_SIZE_VER0 <= sizeof(big.o));
	return opts_applied(&big.o, ioasid_backend_of(f->h));
}

static int open_size_too_small(struct fx *f)
{
	struct ioasid_open_opts o = { .backend = ioasid_backend_of(f->h) };
	uint32_t sizes[] = { OPTS_SIZE_VER0 - 1, sizeof(uint32_t), 1, 0 };

	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		o.size = sizes[i];
		diag("size %u", o.size);
		if (opts_refused(&o, -EINVAL))
			return 1;
	}
	return 0;
}

static int open_size_zero_tail(struct fx *f)
{
	struct big_opts big;

	memset(&big, 0, sizeof(big));
	big.o.size = sizeof(big);
	CHECK(sizeof(big) > sizeof(big.o));
	return opts_applied(&big.o, ioasid_backend_of(f->h));
}

static int open_size_nonzero_tail(struct fx *f)
{
	struct big_opts big;

	memset(&big, 0, sizeof(big));
	big.o.size = sizeof(big);
	big.o.backend = ioasid_backend_of(f->h);
	big.tail[sizeof(big.tail) - 1] = 1;	/* the last byte */
	if (opts_refused(&big.o, -E2BIG))
		return 1;
	memset(big.tail, 0, sizeof(big.tail));
	big.tail[0] = 0x80;			/* the first byte past sizeof */
	if (opts_refused(&big.o, -E2BIG))
		return 1;
	/* A size past what any struct could need, as the uAPI caps it. */
	memset(big.tail, 0, sizeof(big.tail));
	big.o.size = 1U << 20;
	return opts_refused(&big.o, -E2BIG);
}

static int swdev_attr_rules(struct fx *f)
{
	struct ioasid_iova_range resv[9];
	struct ioasid_swdev_create c;
	uint32_t d;

	CHECK_ERR(new_swdev(f, 0, 0, APERTURE_LAST, 0, 0, 1, &d), -EINVAL);
	CHECK_ERR(new_swdev(f, 0x800, 0, APERTURE_LAST, 0, 0, 1, &d), -EINVAL);
	CHECK_ERR(new_swdev(f, SZ_4K, 0x2000, 0x1000, 0, 0, 1, &d), -EINVAL);
	CHECK_ERR(new_swdev(f, SZ_4K, 0x1001, APERTURE_LAST, 0, 0, 1, &d),
		  -EINVAL);
	CHECK_ERR(new_swdev(f, SZ_4K, 0, APERTURE_LAST, 0x80, 0, 1, &d),
		  -EINVAL);
	swdev_default(&c, &resv[0]);
	c.num_resv = 9;
	CHECK_ERR(ioasid_swdev_create(f->h, &c, &d), -EINVAL);
	/* Reserved regions must be ascending and inside the aperture. */
	resv[0].start = 0x2000;
	resv[0].last = 0x2fff;
	resv[1].start = 0x1000;
	resv[1].last = 0x1fff;
	c.num_resv = 2;
	CHECK_ERR(ioasid_swdev_create(f->h, &c, &d), -EINVAL);
	resv[1].start = 0x1ffffffff;
	resv[1].last = 0x200000fff;
	CHECK_ERR(ioasid_swdev_create(f->h, &c, &d), -EINVAL);
	return 0;
}

static const struct test tests[] = {
	{ "alloc_free", alloc_free, NULL },
	{ "first_device_fixes_attrs", first_device_fixes_attrs, NULL },
	{ "incompatible_pgsize", incompatible_pgsize, NULL },
	{ "incompatible_aperture", incompatible_aperture, NULL },
	{ "incompatible_resv", incompatible_resv, NULL },
	{ "incompatible_coherency", incompatible_coherency, NULL },
	{ "compatible_superset", compatible_superset, NULL },
	{ "before_attach", before_attach, NULL },
	{ "group_incomplete", group_incomplete, NULL },
	{ "group_split", group_split, NULL },
	{ "group_size_rules", group_size_rules, NULL },
	{ "free_busy", free_busy, NULL },
	{ "attach_errors", attach_errors, NULL },
	{ "detach_keeps_mappings", detach_keeps_mappings, NULL },
	{ "attrs_reset_when_empty", attrs_reset_when_empty, NULL },
	{ "destroy_detaches", destroy_detaches, NULL },
	{ "close_with_everything", close_with_everything, NULL },
	{ "swdev_attr_rules", swdev_attr_rules, NULL },
	{ "open_size_first_version", open_size_first_version, NULL },
	{ "open_size_too_small", open_size_too_small, NULL },
	{ "open_size_zero_tail", open_size_zero_tail, NULL },
	{ "open_size_nonzero_tail", open_size_nonzero_tail, NULL },
};

int main(int argc, char **argv)
{
	return run_tests("attach", tests, sizeof(tests) / sizeof(tests[0]),
			 argc, argv);
}
