// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/*
 * hello_ioasid: the smallest complete use of libioasid. Opens the embedded
 * engine, creates a software device, maps a buffer, lets the device write
 * into it through the IOMMU, unmaps, and shows that the device now faults.
 *
 *   cc hello_ioasid.c $(pkg-config --cflags --libs libioasid)
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <ioasid.h>

#define CHECK(call) do { \
	int rc_ = (call); \
	if (rc_ < 0) { \
		fprintf(stderr, "%s\n", ioasid_strerror()); \
		return 1; \
	} \
} while (0)

int main(void)
{
	struct ioasid_open_opts opts = {
		.size = sizeof(opts),
		.backend = IOASID_BACKEND_EMBEDDED,
	};
	struct ioasid_iova_range msi = { 0xfee00000, 0xfeefffff };
	struct ioasid_swdev_create dev = {
		.size = sizeof(dev),
		.pgsize_bitmap = 4096 | (2 << 20),
		.aperture_last = 0xffffffff,
		.group_size = 1,
		.num_resv = 1,
		.resv_uptr = (unsigned long)&msi,
	};
	struct ioasid_handle *h;
	uint32_t ioasid, dev_id;
	char msg[] = "written by the device", got[32] = "";
	char *buf = mmap(NULL, 65536, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (buf == MAP_FAILED)
		return 1;
	CHECK(ioasid_open(&opts, &h));
	CHECK(ioasid_swdev_create(h, &dev, &dev_id));
	CHECK(ioasid_alloc(h, &ioasid));
	CHECK(ioasid_attach(h, dev_id, ioasid));
	CHECK(ioasid_map(h, ioasid, 0x100000, buf, 65536,
			 IOASID_DMA_READ | IOASID_DMA_WRITE));
	CHECK(ioasid_swdev_access(h, dev_id, IOASID_ACCESS_WRITE, 0x100010, msg,
				  sizeof(msg)));
	printf("memory at +0x10: \"%s\"\n", buf + 0x10);
	CHECK(ioasid_unmap(h, ioasid, 0x100000, 65536, NULL));
	if (ioasid_swdev_access(h, dev_id, IOASID_ACCESS_READ, 0x100010, got,
				sizeof(got)) == 0)
		return 1;
	printf("after unmap: %s\n", ioasid_strerror());
	ioasid_close(h);
	return strcmp(buf + 0x10, msg) != 0;
}
