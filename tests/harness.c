// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/*
 * The harness behind harness.h. Each test runs in a child process with a
 * fresh handle, a 64 MiB buffer and a default software device; the parent
 * prints one TAP line per test, with the child's diagnostics above it.
 * Exit status: 0 all passed, 1 any failed, 77 all skipped.
 */
#include <fcntl.h>
#include <sys/ioctl.h>
#include <sys/resource.h>
#include <sys/socket.h>

#include "harness.h"

static int out_fd = 1;

void diag(const char *fmt, ...)
{
	char line[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	dprintf(out_fd, "# %s\n", line);
}

/* Shared with the parent, which prints it on the test's TAP line. */
static char *skip_buf;
#define SKIP_BUF_LEN	256

void skip_reason(const char *fmt, ...)
{
	va_list ap;

	if (!skip_buf)
		return;
	va_start(ap, fmt);
	vsnprintf(skip_buf, SKIP_BUF_LEN, fmt, ap);
	va_end(ap);
}

void swdev_default(struct ioasid_swdev_create *c,
		   struct ioasid_iova_range *resv)
{
	memset(c, 0, sizeof(*c));
	c->size = sizeof(*c);
	c->pgsize_bitmap = SZ_4K | SZ_2M | SZ_1G;
	c->aperture_start = 0;
	c->aperture_last = APERTURE_LAST;
	c->group_size = 1;
	resv->start = MSI_START;
	resv->last = MSI_LAST;
	c->num_resv = 1;
	c->resv_uptr = (uintptr_t)resv;
}

int new_swdev(struct fx *f, uint64_t pgsizes, uint64_t ap_start,
	      uint64_t ap_last, uint32_t flags, uint32_t group_id,
	      uint32_t group_size, uint32_t *dev)
{
	struct ioasid_iova_range resv;
	struct ioasid_swdev_create c;

	swdev_default(&c, &resv);
	c.pgsize_bitmap = pgsizes;
	c.aperture_start = ap_start;
	c.aperture_last = ap_last;
	c.flags = flags;
	c.group_id = group_id;
	c.group_size = group_size;
	if (resv.start < ap_start || resv.last > ap_last)
		c.num_resv = 0;
	return ioasid_swdev_create(f->h, &c, dev);
}

bool is_kernel(struct fx *f)
{
	return ioasid_backend_of(f->h) == IOASID_BACKEND_KERNEL;
}

int kernel_reopen_limited(struct fx *f, unsigned int max_mappings,
			  int (*before_open)(void))
{
	static const char *param = "/sys/module/ioasid/parameters/max_mappings";
	struct ioasid_open_opts o = { .size = sizeof(o),
				      .backend = IOASID_BACKEND_KERNEL };
	char old[32] = "", want[32];
	FILE *p = fopen(param, "r+");
	int rc;

	if (!p || !fgets(old, sizeof(old), p)) {
		skip_reason("cannot set the kernel's mapping limit (%s, as root)",
			    param);
		if (p)
			fclose(p);
		exit(SKIP_RC);
	}
	snprintf(want, sizeof(want), "%u", max_mappings);
	rewind(p);
	if (fputs(want, p) < 0 || fflush(p)) {
		diag("writing %s: %s", param, strerror(errno));
		fclose(p);
		return -EIO;
	}
	ioasid_close(f->h);
	f->h = NULL;
	rc = before_open ? before_open() : 0;
	if (!rc)
		rc = ioasid_open(&o, &f->h);
	rewind(p);
	fputs(old, p);
	fclose(p);
	return rc;
}

uint64_t fd_pinned(struct fx *f, uint32_t as)
{
	struct ioasid_info info;

	if (ioasid_get_info(f->h, as, &info, NULL, 0))
		return UINT64_MAX;
	return info.out_fd_pinned_pages;
}

int snap_take(struct fx *f, struct snap *s, const uint32_t *ids, uint32_t n,
	      uint32_t dev)
{
	uint32_t i;
	int rc;

	memset(s, 0, sizeof(*s));
	if (n > SNAP_MAX_AS)
		return -E2BIG;
	s->n = n;
	for (i = 0; i < n; i++) {
		struct snap_as *a = &s->as[i];
		bool more = false;

		a->id = ids[i];
		rc = ioasid_get_info(f->h, ids[i], &a->info, NULL, 0);
		if (rc)
			return rc;
		a->nmaps = SNAP_MAX_MAPS;
		rc = ioasid_list(f->h, ids[i], 0, a->maps, &a->nmaps, &more);
		if (rc)
			return rc;
		if (more)
			return -E2BIG;
	}
	s->stats_dev = dev;
	if (dev)
		return ioasid_swdev_stats(f->h, dev, &s->stats);
	return 0;
}

int snap_same(struct fx *f, const struct snap *s)
{
	static struct snap now;
	uint32_t ids[SNAP_MAX_AS], i;

	for (i = 0; i < s->n; i++)
		ids[i] = s->as[i].id;
	if (snap_take(f, &now, ids, s->n, s->stats_dev)) {
		diag("snapshot failed: %s", ioasid_strerror());
		return 1;
	}
	for (i = 0; i < s->n; i++) {
		const struct snap_as *a = &s->as[i], *b = &now.as[i];

		if (memcmp(&a->info, &b->info, sizeof(a->info))) {
			diag("ioasid %u: info changed: mappings %u -> %u, bytes 0x%llx -> 0x%llx, pinned pages %llu -> %llu, devices %u -> %u, flags 0x%x -> 0x%x",
			     a->id, a->info.out_num_mappings,
			     b->info.out_num_mappings,
			     (unsigned long long)a->info.out_mapped_bytes,
			     (unsigned long long)b->info.out_mapped_bytes,
			     (unsigned long long)a->info.out_fd_pinned_pages,
			     (unsigned long long)b->info.out_fd_pinned_pages,
			     a->info.out_num_devices, b->info.out_num_devices,
			     a->info.out_flags, b->info.out_flags);
			return 1;
		}
		if (a->nmaps != b->nmaps ||
		    memcmp(a->maps, b->maps, a->nmaps * sizeof(a->maps[0]))) {
			diag("ioasid %u: mapping list changed (%u -> %u entries)",
			     a->id, a->nmaps, b->nmaps);
			return 1;
		}
	}
	if (s->stats_dev &&
	    (s->stats.out_map_calls != now.stats.out_map_calls ||
	     s->stats.out_unmap_calls != now.stats.out_unmap_calls)) {
		diag("device %u was notified by a failed call (map calls %llu -> %llu, unmap calls %llu -> %llu)",
		     s->stats_dev,
		     (unsigned long long)s->stats.out_map_calls,
		     (unsigned long long)now.stats.out_map_calls,
		     (unsigned long long)s->stats.out_unmap_calls,
		     (unsigned long long)now.stats.out_unmap_calls);
		return 1;
	}
	return 0;
}

static int fx_setup(struct fx *f, const struct test *t)
{
	struct ioasid_open_opts o = { .size = sizeof(o) };
	int rc;

	memset(f, 0, sizeof(*f));
	o.backend = ioasid_backend_from_env();
	if (o.backend == IOASID_BACKEND_AUTO)
		o.backend = IOASID_BACKEND_EMBEDDED;
	if (t->opts)
		t->opts(&o);
	rc = ioasid_open(&o, &f->h);
	if (rc) {
		diag("ioasid_open(%s): %s", ioasid_backend_name(o.backend),
		     strerror(-rc));
		return 1;
	}
	f->buf_len = 64 * SZ_1M;
	f->buf_alloc_len = f->buf_len + SZ_2M;
	f->buf_alloc = mmap(NULL, f->buf_alloc_len, PROT_READ | PROT_WRITE,
			    MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (f->buf_alloc == MAP_FAILED) {
		diag("mmap of the test buffer failed");
		return 1;
	}
	f->buf = (uint8_t *)(((uintptr_t)f->buf_alloc + SZ_2M - 1) &
			     ~(uintptr_t)(SZ_2M - 1));
	if (ioasid_alloc(f->h, &f->as) ||
	    new_swdev(f, SZ_4K | SZ_2M | SZ_1G, 0, APERTURE_LAST, 0, 0, 1,
		      &f->dev)) {
		diag("fixture: %s", ioasid_strerror());
		return 1;
	}
	return 0;
}

static void fx_teardown(struct fx *f)
{
	ioasid_close(f->h);
	munmap(f->buf_alloc, f->buf_alloc_len);
}

static int run_one(const struct test *t)
{
	struct fx f;
	int rc;

	if (fx_setup(&f, t))
		return 1;
	rc = t->fn(&f);
	fx_teardown(&f);
	return rc;
}

int run_tests(const char *suite, const struct test *t, size_t n, int argc,
	      char **argv)
{
	const char *only = argc > 1 ? argv[1] : NULL;
	size_t i, ran = 0, failed = 0, skipped = 0;
	const char *backend = getenv("IOASID_BACKEND");

	setvbuf(stdout, NULL, _IONBF, 0);
	skip_buf = mmap(NULL, SKIP_BUF_LEN, PROT_READ | PROT_WRITE,
			MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (skip_buf == MAP_FAILED)
		skip_buf = NULL;
	printf("TAP version 13\n");
	printf("# %s, backend %s\n", suite, backend ? backend : "embedded");
	for (i = 0; i < n; i++) {
		int status = 0, rc;
		pid_t pid;

		if (only && strcmp(only, t[i].name))
			continue;
		ran++;
		pid = fork();
		if (pid == 0) {
			if (skip_buf)
				skip_buf[0] = '\0';
			rc = run_one(&t[i]);
			/* exit(), not _exit(): LeakSanitizer checks at exit. */
			exit(rc);
		}
		if (pid < 0 || waitpid(pid, &status, 0) != pid) {
			printf("not ok %zu - %s # fork failed\n", ran, t[i].name);
			failed++;
			continue;
		}
		if (WIFSIGNALED(status)) {
			printf("# killed by signal %d\n", WTERMSIG(status));
			rc = 1;
		} else {
			rc = WEXITSTATUS(status);
		}
		if (rc == 0) {
			printf("ok %zu - %s\n", ran, t[i].name);
		} else if (rc == SKIP_RC) {
			printf("ok %zu - %s # SKIP %s\n", ran, t[i].name,
			       skip_buf && skip_buf[0] ? skip_buf :
							 "no reason given");
			skipped++;
		} else {
			printf("not ok %zu - %s\n", ran, t[i].name);
			failed++;
		}
	}
	printf("1..%zu\n", ran);
	if (failed)
		return 1;
	return ran && skipped == ran ? SKIP_RC : 0;
}

long long vmstat(const char *field)
{
	char name[64];
	long long v, out = -1;
	FILE *f;
	int fd = open("/proc/sys/vm/stat_refresh", O_WRONLY);

	/* Fold the per-CPU deltas in first (root only), or counts lag. */
	if (fd >= 0) {
		/* EINVAL reports negative transients; the fold happened. */
		(void)!write(fd, "1", 1);
		close(fd);
	}
	f = fopen("/proc/vmstat", "r");
	if (!f)
		return -1;
	while (fscanf(f, "%63s %lld", name, &v) == 2)
		if (!strcmp(name, field))
			out = v;
	fclose(f);
	return out;
}

long long proc_status_kb(pid_t pid, const char *field)
{
	char path[64], line[256];
	long long v = -1;
	size_t n = strlen(field);
	FILE *f;

	if (pid)
		snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	else
		snprintf(path, sizeof(path), "/proc/self/status");
	f = fopen(path, "r");
	while (f && fgets(line, sizeof(line), f))
		if (!strncmp(line, field, n) && line[n] == ':')
			v = atoll(line + n + 1);
	if (f)
		fclose(f);
	return v;
}

long long kernel_pins(void)
{
	long long acq = vmstat("nr_foll_pin_acquired");
	long long rel = vmstat("nr_foll_pin_released");

	return acq < 0 || rel < 0 ? -1 : acq - rel;
}

int become_nobody(uint64_t bytes)
{
	struct rlimit r = { .rlim_cur = bytes, .rlim_max = bytes };

	if (setrlimit(RLIMIT_MEMLOCK, &r) || setgid(NOBODY) || setuid(NOBODY))
		return -errno;
	return 0;
}

long long pins_settled(long long want)
{
	long long p = kernel_pins();
	int i;

	for (i = 0; i < 200 && p != want; i++) {
		usleep(10000);
		p = kernel_pins();
	}
	return p;
}

/* One byte with room for one fd: the message send_fd and recv_fd pass. */
struct fd_msg {
	char c;
	struct iovec iov;
	struct msghdr m;
	union {
		char b[CMSG_SPACE(sizeof(int))];
		struct cmsghdr align;
	} u;
};

static void fd_msg_init(struct fd_msg *x)
{
	memset(x, 0, sizeof(*x));
	x->iov.iov_base = &x->c;
	x->iov.iov_len = 1;
	x->m.msg_iov = &x->iov;
	x->m.msg_iovlen = 1;
	x->m.msg_control = x->u.b;
	x->m.msg_controllen = sizeof(x->u.b);
}

int send_fd(int sock, int fd)
{
	struct fd_msg x;
	struct cmsghdr *cm;

	fd_msg_init(&x);
	cm = CMSG_FIRSTHDR(&x.m);
	cm->cmsg_level = SOL_SOCKET;
	cm->cmsg_type = SCM_RIGHTS;
	cm->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(cm), &fd, sizeof(int));
	return sendmsg(sock, &x.m, 0) == 1 ? 0 : -errno;
}

int recv_fd(int sock)
{
	struct fd_msg x;
	struct cmsghdr *cm;
	int fd;

	fd_msg_init(&x);
	if (recvmsg(sock, &x.m, 0) != 1)
		return -errno;
	cm = CMSG_FIRSTHDR(&x.m);
	if (!cm || cm->cmsg_type != SCM_RIGHTS)
		return -EBADMSG;
	memcpy(&fd, CMSG_DATA(cm), sizeof(int));
	return fd;
}

int kfd_open(struct kfd *k, unsigned int aperture_bits)
{
	struct ioasid_alloc a = { .size = sizeof(a) };
	struct ioasid_swdev_create c = {
		.size = sizeof(c),
		.pgsize_bitmap = SZ_4K | SZ_2M,
		.aperture_last = (1ULL << aperture_bits) - 1,
	};
	struct ioasid_device_attach at = { .size = sizeof(at) };

	k->fd = open("/dev/ioasid", O_RDWR);
	if (k->fd < 0)
		return -errno;
	if (ioctl(k->fd, IOASID_ALLOC, &a) ||
	    ioctl(k->fd, IOASID_SWDEV_CREATE, &c))
		return -errno;
	k->as = at.ioasid = a.out_ioasid;
	k->dev = at.dev_id = c.out_dev_id;
	return ioctl(k->fd, IOASID_DEVICE_ATTACH, &at) ? -errno : 0;
}

int kmap_prot(struct kfd *k, uint64_t iova, uint64_t va, uint64_t len,
	      uint32_t prot)
{
	struct ioasid_map_dma m = {
		.size = sizeof(m), .flags = prot, .ioasid = k->as,
		.iova = iova, .vaddr = va, .length = len,
	};

	return ioctl(k->fd, IOASID_MAP_DMA, &m) ? -errno : 0;
}
