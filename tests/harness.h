/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/*
 * The test harness shared by the test programs: TAP output, one forked
 * child per test (so a crash, an rlimit or a dropped capability stays in
 * its test), a fixture per test, and snapshots of an fd's state to check
 * that a failed call changed nothing.
 *
 * The backend comes from $IOASID_BACKEND (embedded by default); the same
 * programs run against the kernel module in the VM.
 *
 * Helpers come in three forms (kselftest's convention): _do_x() returns
 * the errno, do_x() asserts success, do_x_err(errno, ...) expects it.
 * Here the last two are the CHECK_OK and CHECK_ERR macros around any call.
 */
#ifndef IOASID_TEST_HARNESS_H
#define IOASID_TEST_HARNESS_H

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include "ioasid.h"

#define SZ_4K	0x1000ULL
#define SZ_64K	0x10000ULL
#define SZ_1M	0x100000ULL
#define SZ_2M	0x200000ULL
#define SZ_1G	0x40000000ULL

#define RW	(IOASID_DMA_READ | IOASID_DMA_WRITE)

#define SKIP_RC	77

struct fx {
	struct ioasid_handle *h;
	uint8_t *buf;		/* 64 MiB, 2 MiB aligned, anonymous */
	size_t buf_len;
	void *buf_alloc;
	size_t buf_alloc_len;
	uint32_t as;		/* allocated, not attached */
	uint32_t dev;		/* default software device, not attached */
};

struct test {
	const char *name;
	int (*fn)(struct fx *f);
	/* Open options beyond the defaults, or NULL. */
	void (*opts)(struct ioasid_open_opts *o);
};

void diag(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void skip_reason(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/*
 * Pages pinned with FOLL_PIN system-wide (/proc/vmstat acquired minus
 * released), for the kernel suite's leak checks; -1 if not available.
 * Exact only for root, who can fold the per-CPU counters first.
 */
long long kernel_pins(void);
/* One /proc/vmstat counter, per-CPU deltas folded in first (root); -1. */
long long vmstat(const char *field);
/* A field of /proc/PID/status ("VmPin", "VmLck") in kB; @pid 0: this process; -1 if absent. */
long long proc_status_kb(pid_t pid, const char *field);

/*
 * The kernel suite's raw fd (no libioasid): one ioasid with one software
 * device (4K|2M pages, aperture of @aperture_bits) attached. -errno.
 */
struct kfd {
	int fd;
	uint32_t as, dev;
};

int kfd_open(struct kfd *k, unsigned int aperture_bits);

/* The kernel suite's unprivileged user. */
#define NOBODY		65534

/* Become nobody with a memlock limit of @bytes: 0 or -errno. */
int become_nobody(uint64_t bytes);
/*
 * kernel_pins() once it equals @want, or its value after about two
 * seconds: release runs at the last fput, which may lag a close.
 */
long long pins_settled(long long want);
/* Pass @fd over the unix socket @sock (one byte, SCM_RIGHTS): 0 or -errno. */
int send_fd(int sock, int fd);
/* The fd passed by send_fd, or -errno (-EBADMSG: no fd came with it). */
int recv_fd(int sock);
int kmap_prot(struct kfd *k, uint64_t iova, uint64_t va, uint64_t len,
	      uint32_t prot);
int run_tests(const char *suite, const struct test *t, size_t n, int argc,
	      char **argv);

#define CHECK(cond) do { \
	if (!(cond)) { \
		diag("%s:%d: CHECK(%s) failed", __FILE__, __LINE__, #cond); \
		return 1; \
	} \
} while (0)

#define CHECK_ERR(expr, want) do { \
	long _r = (long)(expr); \
	long _w = (long)(want); \
	if (_r != _w) { \
		diag("%s:%d: %s returned %ld (%s), expected %ld (%s); last error: %s", \
		     __FILE__, __LINE__, #expr, _r, \
		     _r < 0 ? ioasid_errno_name((int)_r) : "ok", _w, \
		     _w < 0 ? ioasid_errno_name((int)_w) : "ok", \
		     ioasid_strerror()); \
		return 1; \
	} \
} while (0)

#define CHECK_OK(expr)	CHECK_ERR(expr, 0)

#define CHECK_EQ(a, b) do { \
	unsigned long long _a = (unsigned long long)(a); \
	unsigned long long _b = (unsigned long long)(b); \
	if (_a != _b) { \
		diag("%s:%d: %s = 0x%llx, expected %s = 0x%llx", __FILE__, \
		     __LINE__, #a, _a, #b, _b); \
		return 1; \
	} \
} while (0)

/* Default software device: 4K|2M|1G pages, 4 GiB aperture, MSI window. */
#define MSI_START	0xfee00000ULL
#define MSI_LAST	0xfeefffffULL
#define APERTURE_LAST	0xffffffffULL

void swdev_default(struct ioasid_swdev_create *c,
		   struct ioasid_iova_range *resv);
int new_swdev(struct fx *f, uint64_t pgsizes, uint64_t ap_start,
	      uint64_t ap_last, uint32_t flags, uint32_t group_id,
	      uint32_t group_size, uint32_t *dev);

/* Everything a test can observe of an fd, to compare before and after. */
#define SNAP_MAX_AS	4
#define SNAP_MAX_MAPS	512

struct snap_as {
	uint32_t id;
	struct ioasid_info info;
	uint32_t nmaps;
	struct ioasid_mapping_info maps[SNAP_MAX_MAPS];
};

struct snap {
	uint32_t n;
	struct snap_as as[SNAP_MAX_AS];
	struct ioasid_swdev_stats stats;
	uint32_t stats_dev;
};

int snap_take(struct fx *f, struct snap *s, const uint32_t *ids, uint32_t n,
	      uint32_t dev);
/* 0 if the fd still looks exactly like the snapshot, else 1 (reported). */
int snap_same(struct fx *f, const struct snap *s);

#define SNAP(f, s, dev, ...) do { \
	uint32_t _ids[] = { __VA_ARGS__ }; \
	CHECK_OK(snap_take(f, s, _ids, sizeof(_ids) / sizeof(_ids[0]), dev)); \
} while (0)

#define CHECK_UNCHANGED(f, s) do { \
	if (snap_same(f, s)) { \
		diag("%s:%d: state changed by a failed call", __FILE__, \
		     __LINE__); \
		return 1; \
	} \
} while (0)

/* A map entry for batches. */
static inline struct ioasid_dma_entry ent(uint64_t iova, const void *va,
					  uint64_t len, uint32_t flags)
{
	struct ioasid_dma_entry e = {
		.flags = flags,
		.iova = iova,
		.vaddr = (uintptr_t)va,
		.length = len,
	};
	return e;
}

static inline struct ioasid_dma_entry uent(uint64_t iova, uint64_t len)
{
	struct ioasid_dma_entry e = { .iova = iova, .length = len };

	return e;
}

uint64_t fd_pinned(struct fx *f, uint32_t as);
bool is_kernel(struct fx *f);
/*
 * The kernel backend's mapping limit is ioasid.ko's max_mappings
 * parameter, read at open: reopen f->h with @max_mappings in force (the
 * parameter is put back at once), calling @before_open (if any) first,
 * e.g. to drop privileges. The new fd holds none of the fixture's
 * objects. Skips the test (exit SKIP_RC) without root; 0 or -errno.
 */
int kernel_reopen_limited(struct fx *f, unsigned int max_mappings,
			  int (*before_open)(void));

#endif /* IOASID_TEST_HARNESS_H */
