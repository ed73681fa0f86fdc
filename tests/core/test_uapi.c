// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/* uapi: struct decoding, sizes, flags, reserved fields, info, and error sentences. */
#include "harness.h"

static int version_and_extensions(struct fx *f)
{
	CHECK_EQ(ioasid_api_version(f->h), IOASID_API_VERSION);
	CHECK_EQ(ioasid_check_extension(f->h, IOASID_EXT_TYPE1V2), 1);
	CHECK_EQ(ioasid_check_extension(f->h, IOASID_EXT_BATCH), 1);
	CHECK_EQ(ioasid_check_extension(f->h, IOASID_EXT_PGSIZE_QUERY), 1);
	CHECK_EQ(ioasid_check_extension(f->h, 0), 0);
	CHECK_EQ(ioasid_check_extension(f->h, 1000), 0);
	return 0;
}

static int unknown_command(struct fx *f)
{
	struct ioasid_alloc a = { .size = sizeof(a) };

	CHECK_ERR(ioasid_ioctl(f->h, _IO(IOASID_TYPE, IOASID_CMD_LAST), &a),
		  -ENOTTY);
	CHECK_ERR(ioasid_ioctl(f->h, _IO(IOASID_TYPE, IOASID_CMD_BASE - 1), &a),
		  -ENOTTY);
	/* The right number with size or direction bits is not the command. */
	CHECK_ERR(ioasid_ioctl(f->h, _IOW(IOASID_TYPE, IOASID_CMD_ALLOC,
					  struct ioasid_alloc), &a), -ENOTTY);
	CHECK_ERR(ioasid_ioctl(f->h, _IO('j', IOASID_CMD_ALLOC), &a), -ENOTTY);
	return 0;
}

/* The kernel's offsetofend(), which userspace lacks. */
#define offsetofend(type, member) \
	(offsetof(type, member) + sizeof(((type *)0)->member))

#define NOID		4321U	/* an id the fixture never hands out */
#define MAX_SIZE	4096U	/* the largest size a newer caller may pass */
#define TAIL		16U	/* a newer caller's extra bytes */
#define JUNK		0xa5	/* memory beyond an older caller's struct */

/*
 * One row per command that takes a struct, as the decoder's table in
 * core/uapi.c: the struct's size now, the size of its first version (the
 * end of its last field, as the decoder's row names it), and an argument
 * the handler can run on. The argument either succeeds or fails with
 * ENOENT (an id nobody has), neither of which the size rules return, so
 * the result tells whether the decoder let the call through. @out_id: the
 * offset of an out_ id that success sets, or 0.
 */
struct size_row {
	const char *name;
	unsigned int nr;
	unsigned long cmd;
	uint32_t size;
	uint32_t first;
	const void *arg;
	int want;
	size_t out_id;
};

#define ROW(nr_, type, last, tmpl, want_, out_) { \
	.name = #nr_, \
	.nr = IOASID_CMD_##nr_, \
	.cmd = IOASID_##nr_, \
	.size = sizeof(struct type), \
	.first = offsetofend(struct type, last), \
	.arg = &(tmpl), \
	.want = (want_), \
	.out_id = (out_), \
}

static const struct ioasid_alloc arg_alloc;
static const struct ioasid_free arg_free = { .ioasid = NOID };
static const struct ioasid_info arg_info = { .ioasid = NOID };
static const struct ioasid_map_dma arg_map = {
	.flags = RW, .ioasid = NOID, .length = SZ_4K,
};
static const struct ioasid_unmap_dma arg_unmap = {
	.ioasid = NOID, .length = SZ_4K,
};
static const struct ioasid_batch arg_batch = {
	.ioasid = NOID, .count = 1,
	.entry_size = sizeof(struct ioasid_dma_entry),
};
static const struct ioasid_query_pgsize arg_query = {
	.ioasid = NOID, .length = SZ_4K,
};
static const struct ioasid_list_mappings arg_list = { .ioasid = NOID };
static const struct ioasid_swdev_create arg_swdev_create = {
	.pgsize_bitmap = SZ_4K, .aperture_last = APERTURE_LAST,
};
static const struct ioasid_swdev_destroy arg_swdev_destroy = {
	.dev_id = NOID,
};
static const struct ioasid_device_attach arg_attach = {
	.dev_id = NOID, .ioasid = NOID,
};
static const struct ioasid_device_detach arg_detach = { .dev_id = NOID };
static const struct ioasid_swdev_access arg_access = {
	.flags = IOASID_ACCESS_READ, .dev_id = NOID, .length = 8,
};
static const struct ioasid_swdev_stats arg_stats = { .dev_id = NOID };
static const struct ioasid_dirty_tracking arg_dirty_tracking = {
	.flags = IOASID_DIRTY_START, .ioasid = NOID,
};
static const struct ioasid_dirty_read arg_dirty_read = {
	.ioasid = NOID, .pgshift = 12, .length = SZ_4K,
};

static const struct ioasid_pgtbl_bind arg_bind = {
	.ioasid = NOID, .format = IOASID_PGTBL_X86_64, .addr_width = 48,
};
static const struct ioasid_pgtbl_unbind arg_unbind = { .ioasid = NOID };
static const struct ioasid_invalidate arg_inv = {
	.ioasid = NOID, .entry_size = sizeof(struct ioasid_inv_entry),
	.entry_num = 1,
};

static const struct ioasid_faultq_alloc arg_faultq_alloc;
static const struct ioasid_faultq_attach arg_faultq_attach = {
	.ioasid = NOID, .fd = -1,
};

static const struct size_row size_rows[] = {
	ROW(ALLOC, ioasid_alloc, parent, arg_alloc, 0,
	    offsetof(struct ioasid_alloc, out_ioasid)),
	ROW(FREE, ioasid_free, __reserved, arg_free, -ENOENT, 0),
	ROW(GET_INFO, ioasid_info, out_fd_pinned_pages, arg_info, -ENOENT, 0),
	ROW(MAP_DMA, ioasid_map_dma, length, arg_map, -ENOENT, 0),
	ROW(UNMAP_DMA, ioasid_unmap_dma, out_unmapped, arg_unmap, -ENOENT, 0),
	ROW(MAP_BATCH, ioasid_batch, out_bytes, arg_batch, -ENOENT, 0),
	ROW(UNMAP_BATCH, ioasid_batch, out_bytes, arg_batch, -ENOENT, 0),
	ROW(QUERY_PGSIZE, ioasid_query_pgsize, out_mapped_bytes, arg_query,
	    -ENOENT, 0),
	ROW(LIST_MAPPINGS, ioasid_list_mappings, __reserved, arg_list,
	    -ENOENT, 0),
	ROW(SWDEV_CREATE, ioasid_swdev_create, resv_uptr, arg_swdev_create, 0,
	    offsetof(struct ioasid_swdev_create, out_dev_id)),
	ROW(SWDEV_DESTROY, ioasid_swdev_destroy, __reserved,
	    arg_swdev_destroy, -ENOENT, 0),
	ROW(DEVICE_ATTACH, ioasid_device_attach, ioasid, arg_attach, -ENOENT,
	    0),
	ROW(DEVICE_DETACH, ioasid_device_detach, __reserved, arg_detach,
	    -ENOENT, 0),
	ROW(SWDEV_ACCESS, ioasid_swdev_access, out_faults, arg_access,
	    -ENOENT, 0),
	ROW(SWDEV_STATS, ioasid_swdev_stats, out_iotlb_misses, arg_stats,
	    -ENOENT, 0),
	ROW(DIRTY_TRACKING, ioasid_dirty_tracking, __reserved,
	    arg_dirty_tracking, -ENOENT, 0),
	ROW(DIRTY_READ, ioasid_dirty_read, out_dirty_pages, arg_dirty_read,
	    -ENOENT, 0),
	ROW(PGTBL_BIND, ioasid_pgtbl_bind, root, arg_bind, -ENOENT, 0),
	ROW(PGTBL_UNBIND, ioasid_pgtbl_unbind, __reserved, arg_unbind,
	    -ENOENT, 0),
	ROW(INVALIDATE, ioasid_invalidate, __reserved, arg_inv, -ENOENT, 0),
	ROW(FAULTQ_ALLOC, ioasid_faultq_alloc, __reserved, arg_faultq_alloc, 0,
	    offsetof(struct ioasid_faultq_alloc, out_fd)),
	ROW(FAULTQ_ATTACH, ioasid_faultq_attach, fd, arg_faultq_attach,
	    -ENOENT, 0),
};

#define NROWS	(sizeof(size_rows) / sizeof(size_rows[0]))

/* The caller's memory: the row's argument, @size in its size field. */
static uint8_t size_buf[MAX_SIZE + 8] __attribute__((aligned(8)));

static void *size_arg(const struct size_row *r, uint32_t size)
{
	memset(size_buf, 0, sizeof(size_buf));
	memcpy(size_buf, r->arg, r->size);
	memcpy(size_buf, &size, sizeof(size));
	return size_buf;
}

static uint32_t out_id_of(const struct size_row *r)
{
	uint32_t id;

	memcpy(&id, size_buf + r->out_id, sizeof(id));
	return id;
}

/* The rows, not the decoder: every command has one, and they can tell. */
static int size_table(struct fx *f)
{
	unsigned int nr;
	size_t i, n;

	for (nr = IOASID_CMD_ALLOC; nr < IOASID_CMD_LAST; nr++) {
		for (i = 0, n = 0; i < NROWS; i++)
			n += size_rows[i].nr == nr;
		if (n != 1)
			diag("command 0x%x has %zu rows", nr, n);
		CHECK_EQ(n, 1);
	}
	CHECK_EQ(NROWS, IOASID_CMD_LAST - IOASID_CMD_ALLOC);
	for (i = 0; i < NROWS; i++) {
		const struct size_row *r = &size_rows[i];

		CHECK_EQ(r->cmd, _IO(IOASID_TYPE, r->nr));
		CHECK(r->first > sizeof(uint32_t) && r->first <= r->size);
		CHECK(r->size + TAIL <= MAX_SIZE);
		/* Not an errno of the size rules, or nothing would show. */
		CHECK(r->want != -EINVAL && r->want != -E2BIG &&
		      r->want != -EFAULT);
	}
	return 0;
}

#define FOR_EACH_ROW(r) \
	for ((r) = size_rows; (r) < size_rows + NROWS; (r)++)

/* One call of a row's command with @size in the size field of @arg. */
static int row_call(struct fx *f, const struct size_row *r, uint32_t size,
		    void *arg, int want)
{
	long rc = ioasid_ioctl(f->h, r->cmd, arg);

	if (rc == want)
		return 0;
	diag("%s with size %u%s returned %ld (%s), expected %d (%s); "
	     "last error: %s", r->name, size, arg ? "" : " at NULL", rc,
	     rc < 0 ? ioasid_errno_name((int)rc) : "ok", want,
	     want < 0 ? ioasid_errno_name(want) : "ok", ioasid_strerror());
	return 1;
}

#define CHECK_ROW(f, r, size, arg, want) do { \
	if (row_call(f, r, size, arg, want)) \
		return 1; \
} while (0)

/*
 * A caller built against the first version passes the end of its last
 * field as the size and is served; the decoder neither reads nor writes
 * the caller's memory past that size.
 */
static int size_first_version(struct fx *f)
{
	const struct size_row *r;
	uint32_t i;

	FOR_EACH_ROW(r) {
		void *arg = size_arg(r, r->first);

		memset(size_buf + r->first, JUNK, r->size + TAIL - r->first);
		CHECK_ROW(f, r, r->first, arg, r->want);
		for (i = r->first; i < r->size + TAIL; i++)
			if (size_buf[i] != JUNK)
				break;
		if (i < r->size + TAIL)
			diag("%s: byte %u past the size was written", r->name,
			     i);
		CHECK_EQ(i, r->size + TAIL);
		if (r->out_id && !r->want && r->first >= r->out_id + 4)
			CHECK(out_id_of(r) != 0);
	}
	return 0;
}

/* A size below the first version, or none at all, is refused. */
static int size_too_small(struct fx *f)
{
	const struct size_row *r;

	FOR_EACH_ROW(r) {
		CHECK_ROW(f, r, r->first - 1, size_arg(r, r->first - 1),
			  -EINVAL);
		CHECK_ROW(f, r, 0, size_arg(r, 0), -EINVAL);
		CHECK_ROW(f, r, 0, NULL, -EFAULT);
	}
	return 0;
}

/*
 * A newer caller's larger struct is served when the bytes this build does
 * not know are zero, refused with E2BIG when one of them is not (the first
 * or the last), and refused past MAX_SIZE whatever the tail holds.
 */
static int size_tail(struct fx *f)
{
	const struct size_row *r;
	uint8_t *arg;

	FOR_EACH_ROW(r) {
		uint32_t big = r->size + TAIL;

		arg = size_arg(r, big);
		CHECK_ROW(f, r, big, arg, r->want);
		if (r->out_id && !r->want)
			CHECK(out_id_of(r) != 0);
		arg = size_arg(r, big);
		arg[r->size] = 1;
		CHECK_ROW(f, r, big, arg, -E2BIG);
		arg = size_arg(r, big);
		arg[big - 1] = 0x80;
		CHECK_ROW(f, r, big, arg, -E2BIG);
		CHECK_ROW(f, r, MAX_SIZE, size_arg(r, MAX_SIZE), r->want);
		CHECK_ROW(f, r, MAX_SIZE + 1, size_arg(r, MAX_SIZE + 1),
			  -E2BIG);
		CHECK_ROW(f, r, 1U << 20, size_arg(r, 1U << 20), -E2BIG);
	}
	return 0;
}

static int flags_and_reserved(struct fx *f)
{
	struct ioasid_alloc a = { .size = sizeof(a), .flags = 1U << 31 };
	struct ioasid_free fr = { .size = sizeof(fr), .ioasid = f->as,
				  .__reserved = 1 };
	struct ioasid_info in = { .size = sizeof(in), .ioasid = f->as,
				  .flags = 4 };
	struct ioasid_device_attach at = { .size = sizeof(at), .flags = 1,
					   .dev_id = f->dev, .ioasid = f->as };
	struct ioasid_device_detach de = { .size = sizeof(de),
					   .dev_id = f->dev, .__reserved = 9 };
	struct ioasid_query_pgsize q = { .size = sizeof(q), .ioasid = f->as,
					 .flags = 2 };
	struct ioasid_list_mappings l = { .size = sizeof(l), .ioasid = f->as,
					  .__reserved = 1 };
	struct ioasid_swdev_destroy sd = { .size = sizeof(sd),
					   .dev_id = f->dev, .flags = 1 };
	struct ioasid_swdev_stats st = { .size = sizeof(st), .dev_id = f->dev,
					 .__reserved = 1 };

	CHECK_ERR(ioasid_ioctl(f->h, IOASID_ALLOC, &a), -EINVAL);
	a.flags = 0;
	a.parent = 1;		/* the first version's reserved field */
	CHECK_ERR(ioasid_ioctl(f->h, IOASID_ALLOC, &a), -EINVAL);
	CHECK_ERR(ioasid_ioctl(f->h, IOASID_FREE, &fr), -EINVAL);
	CHECK_ERR(ioasid_ioctl(f->h, IOASID_GET_INFO, &in), -EINVAL);
	CHECK_ERR(ioasid_ioctl(f->h, IOASID_DEVICE_ATTACH, &at), -EINVAL);
	CHECK_ERR(ioasid_ioctl(f->h, IOASID_DEVICE_DETACH, &de), -EINVAL);
	CHECK_ERR(ioasid_ioctl(f->h, IOASID_SWDEV_DESTROY, &sd), -EINVAL);
	CHECK_ERR(ioasid_ioctl(f->h, IOASID_SWDEV_STATS, &st), -EINVAL);
	CHECK_OK(ioasid_attach(f->h, f->dev, f->as));
	CHECK_ERR(ioasid_ioctl(f->h, IOASID_QUERY_PGSIZE, &q), -EINVAL);
	CHECK_ERR(ioasid_ioctl(f->h, IOASID_LIST_MAPPINGS, &l), -EINVAL);
	/* Nothing happened: the ioasid still exists, the device attached. */
	CHECK_ERR(ioasid_attach(f->h, f->dev, f->as), -EBUSY);
	return 0;
}

static int info_ranges_short(struct fx *f)
{
	struct ioasid_iova_range r[2] = { { 0, 0 }, { 0x55, 0x55 } };
	struct ioasid_info info;

	CHECK_OK(ioasid_attach(f->h, f->dev, f->as));
	CHECK_ERR(ioasid_get_info(f->h, f->as, &info, r, 1), -EMSGSIZE);
	/* The needed count and the other outputs are still written. */
	CHECK_EQ(info.num_ranges, 2);
	CHECK_EQ(info.out_pgsize_bitmap, SZ_4K | SZ_2M | SZ_1G);
	CHECK_EQ(r[0].last, MSI_START - 1);
	CHECK_EQ(r[1].start, 0x55);	/* beyond the array: untouched */
	CHECK_OK(ioasid_get_info(f->h, f->as, &info, NULL, 0));
	CHECK_EQ(info.num_ranges, 2);
	return 0;
}

static int info_slots(struct fx *f)
{
	struct ioasid_info info;

	CHECK_OK(ioasid_attach(f->h, f->dev, f->as));
	CHECK_OK(ioasid_map(f->h, f->as, 0, f->buf, SZ_4K, RW));
	CHECK_OK(ioasid_map(f->h, f->as, SZ_4K, f->buf, SZ_4K, RW));
	CHECK_OK(ioasid_get_info(f->h, f->as, &info, NULL, 0));
	CHECK_EQ(info.out_max_mappings - info.out_num_mappings,
		 info.out_max_mappings - 2);
	CHECK_EQ(info.out_num_mappings, 2);
	CHECK_EQ(info.out_num_devices, 1);
	return 0;
}

static int unknown_ids(struct fx *f)
{
	uint64_t pg;
	struct ioasid_info info;
	struct ioasid_swdev_stats st;
	uint8_t b[8];

	CHECK_ERR(ioasid_get_info(f->h, 4321, &info, NULL, 0), -ENOENT);
	CHECK_ERR(ioasid_map(f->h, 4321, 0, f->buf, SZ_4K, RW), -ENOENT);
	CHECK_ERR(ioasid_query_pgsize(f->h, 4321, 0, SZ_4K, &pg, NULL),
		  -ENOENT);
	CHECK_ERR(ioasid_swdev_stats(f->h, 4321, &st), -ENOENT);
	CHECK_ERR(ioasid_swdev_access(f->h, 4321, IOASID_ACCESS_READ, 0, b, 8),
		  -ENOENT);
	/* An ioasid id where a device id is expected, and back. */
	CHECK_ERR(ioasid_swdev_stats(f->h, f->as, &st), -ENOENT);
	CHECK_ERR(ioasid_map(f->h, f->dev, 0, f->buf, SZ_4K, RW), -ENOENT);
	return 0;
}

static int error_sentences(struct fx *f)
{
	const char *s;

	if (is_kernel(f)) {
		CHECK_OK(ioasid_attach(f->h, f->dev, f->as));
		CHECK_ERR(ioasid_map(f->h, f->as, 0x1001, f->buf, SZ_4K, RW),
			  -EINVAL);
		s = ioasid_strerror();
		diag("kernel: %s", s);
		CHECK(strstr(s, "iova") && strstr(s, "aligned"));
		return 0;
	}
	CHECK_ERR(ioasid_map(f->h, f->as, 0, f->buf, SZ_4K, RW), -ENODEV);
	s = ioasid_strerror();
	CHECK(strstr(s, "map:") && strstr(s, "no device attached") &&
	      strstr(s, "ENODEV"));
	CHECK_OK(ioasid_attach(f->h, f->dev, f->as));
	CHECK_ERR(ioasid_map(f->h, f->as, 0x1001, f->buf, SZ_4K, RW), -EINVAL);
	s = ioasid_strerror();
	diag("%s", s);
	CHECK(strstr(s, "iova 0x1001") && strstr(s, "aligned") &&
	      strstr(s, "0x1000") && strstr(s, "EINVAL"));
	CHECK_OK(ioasid_map(f->h, f->as, 0, f->buf, SZ_4K, RW));
	CHECK_ERR(ioasid_map(f->h, f->as, 0, f->buf, SZ_4K, RW), -EEXIST);
	s = ioasid_strerror();
	CHECK(strstr(s, "overlaps") && strstr(s, "EEXIST"));
	return 0;
}

static const struct test tests[] = {
	{ "version_and_extensions", version_and_extensions, NULL },
	{ "unknown_command", unknown_command, NULL },
	{ "size_table", size_table, NULL },
	{ "size_first_version", size_first_version, NULL },
	{ "size_too_small", size_too_small, NULL },
	{ "size_tail", size_tail, NULL },
	{ "flags_and_reserved", flags_and_reserved, NULL },
	{ "info_ranges_short", info_ranges_short, NULL },
	{ "info_slots", info_slots, NULL },
	{ "unknown_ids", unknown_ids, NULL },
	{ "error_sentences", error_sentences, NULL },
};

int main(int argc, char **argv)
{
	return run_tests("uapi", tests, sizeof(tests) / sizeof(tests[0]),
			 argc, argv);
}
