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

static int struct_size(struct fx *f)
{
	struct {
		struct ioasid_alloc a;
		uint8_t tail[16];
	} big;

	memset(&big, 0, sizeof(big));
	big.a.size = sizeof(big.a) - 1;
	CHECK_ERR(ioasid_ioctl(f->h, IOASID_ALLOC, &big), -EINVAL);
	big.a.size = 0;
	CHECK_ERR(ioasid_ioctl(f->h, IOASID_ALLOC, &big), -EINVAL);
	/* A newer caller's larger struct with a zero tail is fine... */
	big.a.size = sizeof(big);
	CHECK_OK(ioasid_ioctl(f->h, IOASID_ALLOC, &big));
	CHECK(big.a.out_ioasid != 0);
	/* ...with a non-zero tail it is refused. */
	big.tail[15] = 1;
	CHECK_ERR(ioasid_ioctl(f->h, IOASID_ALLOC, &big), -E2BIG);
	big.a.size = 1 << 20;
	CHECK_ERR(ioasid_ioctl(f->h, IOASID_ALLOC, &big), -E2BIG);
	CHECK_ERR(ioasid_ioctl(f->h, IOASID_ALLOC, NULL), -EFAULT);
	return 0;
}

static int flags_and_reserved(struct fx *f)
{
	struct ioasid_alloc a = { .size = sizeof(a), .flags = 1 };
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
	a.__reserved = 1;
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
	{ "struct_size", struct_size, NULL },
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
