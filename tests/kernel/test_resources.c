// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/*
 * Resource safety of /dev/ioasid in the kernel suite's VM (as root, which
 * drops to an unprivileged user where a test needs one): RLIMIT_MEMLOCK
 * per user and per process, a process killed in the middle of batches,
 * an fd closed with devices attached and mappings in place. Pins are
 * counted with the kernel's own FOLL_PIN counters (/proc/vmstat), so a
 * leaked page shows whoever pinned it.
 */
#include <fcntl.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/resource.h>
#include <time.h>

#include <linux/ioasid.h>

#include "harness.h"

#define PARAM		"/sys/module/ioasid/parameters/memlock_per_process"

static int kmap(struct kfd *k, uint64_t iova, void *va, uint64_t len)
{
	return kmap_prot(k, iova, (uintptr_t)va, len, RW);
}

static void *pages(size_t len)
{
	void *p = mmap(NULL, len, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);

	return p == MAP_FAILED ? NULL : p;
}

static int set_param(int per_process)
{
	int fd = open(PARAM, O_WRONLY);
	int ok;

	if (fd < 0)
		return -errno;
	ok = write(fd, per_process ? "1" : "0", 1) == 1;
	close(fd);
	return ok ? 0 : -EIO;
}

/*
 * Run @fn in a child that became nobody with @limit; its exit status is
 * the result (0 pass).
 */
static int as_nobody(uint64_t limit, int (*fn)(void *), void *arg)
{
	int status;
	pid_t pid = fork();

	if (pid == 0) {
		if (become_nobody(limit))
			_exit(3);
		_exit(fn(arg));
	}
	if (pid < 0 || waitpid(pid, &status, 0) != pid)
		return -1;
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

struct limit_arg {
	uint64_t first;		/* bytes to map, expected to fit */
	uint64_t second;	/* bytes more, expected to fit or not */
	int second_rc;
	uint8_t *buf;
	const char *status_field;	/* VmPin: per user; VmLck: per mm */
};

static int limit_child(void *p)
{
	struct limit_arg *a = p;
	struct kfd k;
	int rc;

	if (kfd_open(&k, 39))
		return 10;
	rc = kmap(&k, 0, a->buf, a->first);
	if (rc) {
		diag("map of %llu bytes: %s", (unsigned long long)a->first,
		     strerror(-rc));
		return 11;
	}
	rc = kmap(&k, SZ_1G, a->buf + a->first, a->second);
	if (rc != a->second_rc) {
		diag("map of %llu more bytes: %s", (unsigned long long)a->second,
		     strerror(-rc));
		return 12;
	}
	/* A refused map leaves nothing more charged. */
	if (a->second_rc && proc_status_kb(0, a->status_field) != (long long)a->first / 1024) {
		diag("%s %lld kB, expected %llu", a->status_field,
		     proc_status_kb(0, a->status_field),
		     (unsigned long long)a->first / 1024);
		return 13;
	}
	close(k.fd);
	return 0;
}

/* Per user: one process of nobody, limit 1 MiB; 768 KiB fits, 512 more not. */
static int t_memlock_limit(struct fx *f)
{
	struct limit_arg a = { .first = 768 * 1024, .second = 512 * 1024,
			       .second_rc = -ENOMEM, .status_field = "VmPin" };
	long long base = kernel_pins();

	(void)f;
	CHECK(base >= 0);
	a.buf = pages(SZ_2M);
	CHECK(a.buf);
	CHECK_ERR(set_param(0), 0);
	CHECK_ERR(as_nobody(SZ_1M, limit_child, &a), 0);
	CHECK(pins_settled(base) == base);
	/* Root (CAP_IPC_LOCK) is not limited by the same rlimit. */
	{
		struct rlimit r = { SZ_1M, SZ_1M };
		struct kfd k;

		CHECK(setrlimit(RLIMIT_MEMLOCK, &r) == 0);
		CHECK_ERR(kfd_open(&k, 39), 0);
		CHECK_ERR(kmap(&k, 0, a.buf, SZ_2M), 0);
		close(k.fd);
	}
	CHECK(pins_settled(base) == base);
	return 0;
}

struct hold_arg {
	uint8_t *buf;
	uint64_t len;
	int ready[2];
	int go[2];
};

/* Map @len and hold it until told to go. */
static int hold_child(void *p)
{
	struct hold_arg *a = p;
	struct kfd k;
	char c;

	if (kfd_open(&k, 39))
		return 10;
	c = kmap(&k, 0, a->buf, a->len) ? 'n' : 'y';
	if (write(a->ready[1], &c, 1) != 1 || read(a->go[0], &c, 1) != 1)
		return 11;
	close(k.fd);
	return 0;
}

/*
 * The accounting unit: per user, a second process of the same user sees
 * the first one's pins; per process (memlock_per_process=1) it does not.
 */
static int t_memlock_per_user_or_process(struct fx *f)
{
	struct hold_arg h = { .len = 768 * 1024 };
	struct limit_arg a = { .status_field = "VmPin" };
	long long base = kernel_pins();
	int mode, status, rc;

	(void)f;
	h.buf = pages(SZ_1M);
	a.buf = pages(SZ_1M);
	CHECK(h.buf && a.buf && base >= 0);
	for (mode = 0; mode < 2; mode++) {
		pid_t pid;
		char c = 0;

		CHECK_ERR(set_param(mode), 0);
		CHECK(pipe(h.ready) == 0 && pipe(h.go) == 0);
		pid = fork();
		if (pid == 0)
			_exit(become_nobody(SZ_1M) ? 3 : hold_child(&h));
		CHECK(read(h.ready[0], &c, 1) == 1 && c == 'y');
		/*
		 * 768 KiB are held by another process of nobody. Per user,
		 * 4 KiB more fit and 512 KiB more do not; per process, the
		 * second process has its own 1 MiB.
		 */
		if (mode == 0) {
			a.first = SZ_4K;
			a.second = 512 * 1024;
			a.second_rc = -ENOMEM;
		} else {
			a.first = 512 * 1024;
			a.second = SZ_4K;
			a.second_rc = 0;
		}
		rc = as_nobody(SZ_1M, limit_child, &a);
		if (rc)
			diag("%s: the second process exited %d",
			     mode ? "per process" : "per user", rc);
		/* Release the holder before judging, so nothing outlives us. */
		if (write(h.go[1], "g", 1) != 1)
			kill(pid, SIGKILL);
		CHECK(waitpid(pid, &status, 0) == pid);
		CHECK(rc == 0);
		CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
		close(h.ready[0]);
		close(h.ready[1]);
		close(h.go[0]);
		close(h.go[1]);
		CHECK(pins_settled(base) == base);
	}
	CHECK_ERR(set_param(0), 0);
	return 0;
}

struct churn {
	volatile uint64_t batches;
};

/* Map and unmap batches of 256 entries until killed. */
static void churn_child(struct churn *sh, uint8_t *buf)
{
	struct ioasid_dma_entry e[256], u[256];
	struct ioasid_batch b = {
		.size = sizeof(b), .count = 256, .entry_size = sizeof(e[0]),
		.entries_uptr = (uintptr_t)e,
	};
	struct ioasid_batch ub = b;
	struct kfd k;
	int i;

	if (kfd_open(&k, 39))
		_exit(10);
	b.ioasid = ub.ioasid = k.as;
	for (i = 0; i < 256; i++) {
		e[i].flags = RW;
		e[i].max_pgshift = 0;
		e[i].iova = (uint64_t)i * SZ_64K;
		e[i].vaddr = (uintptr_t)buf + (uint64_t)i * SZ_64K;
		e[i].length = SZ_64K;
		u[i] = (struct ioasid_dma_entry){ .iova = e[i].iova,
						  .length = SZ_64K };
	}
	ub.entries_uptr = (uintptr_t)u;
	for (;;) {
		if (ioctl(k.fd, IOASID_MAP_BATCH, &b))
			_exit(11);
		if (ioctl(k.fd, IOASID_UNMAP_BATCH, &ub))
			_exit(12);
		sh->batches++;
	}
}

/*
 * A process killed while it maps and unmaps 16 MiB batches as fast as it
 * can leaves no page pinned and nothing charged: afterwards the same user
 * can map its whole limit again.
 */
static int t_kill_mid_batch(struct fx *f)
{
	struct churn *sh = mmap(NULL, SZ_4K, PROT_READ | PROT_WRITE,
				MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	uint8_t *buf = pages(17 * SZ_1M);
	struct limit_arg a = { .first = 16 * SZ_1M, .second = SZ_4K,
			       .second_rc = -ENOMEM, .status_field = "VmPin",
			       .buf = buf };
	long long base = kernel_pins(), during = 0;
	uint64_t before = 0;
	int round, status, waited;

	(void)f;
	CHECK(sh != MAP_FAILED && buf && base >= 0);
	CHECK_ERR(set_param(0), 0);
	for (round = 0; round < 5; round++) {
		pid_t pid = fork();

		if (pid == 0) {
			if (become_nobody(16 * SZ_1M))
				_exit(3);
			churn_child(sh, buf);
		}
		CHECK(pid > 0);
		/*
		 * Wait for its first whole batch (under TCG on a busy host
		 * that can take seconds), then let it run a while more, a
		 * different while each round, so the kill lands mid-batch.
		 */
		for (waited = 0; sh->batches == before && waited < 1200;
		     waited++)
			usleep(50000);
		if (sh->batches == before) {
			kill(pid, SIGKILL);
			waitpid(pid, &status, 0);
			diag("round %d: the child mapped no batch in 60 s", round);
			CHECK(sh->batches > before);
		}
		usleep(20000 + round * 37000);
		during = kernel_pins() - base;
		CHECK(kill(pid, SIGKILL) == 0);
		CHECK(waitpid(pid, &status, 0) == pid);
		if (!WIFSIGNALED(status))
			diag("the churning child exited %d by itself",
			     WEXITSTATUS(status));
		CHECK(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
		CHECK(pins_settled(base) == base);
		before = sh->batches;
	}
	diag("%llu batches of 256 mapped and unmapped across 5 kills; %lld pages pinned at the last kill",
	     (unsigned long long)sh->batches, during);
	CHECK(sh->batches > 0);
	/* Nothing stayed charged to nobody: the whole limit maps again. */
	CHECK_ERR(as_nobody(16 * SZ_1M, limit_child, &a), 0);
	CHECK(pins_settled(base) == base);
	return 0;
}

/* close() with devices attached and mappings in place releases it all. */
static int t_close_attached(struct fx *f)
{
	struct kfd k;
	uint8_t *buf = pages(8 * SZ_1M);
	long long base = kernel_pins();
	int i;

	(void)f;
	CHECK(buf && base >= 0);
	CHECK_ERR(kfd_open(&k, 39), 0);
	for (i = 0; i < 8; i++)
		CHECK_ERR(kmap(&k, (uint64_t)i * SZ_2M, buf + i * SZ_1M, SZ_1M),
			  0);
	CHECK(kernel_pins() - base == 8 * SZ_1M / SZ_4K);
	close(k.fd);
	CHECK(pins_settled(base) == base);
	return 0;
}

static const struct test tests[] = {
	{ "memlock_limit", t_memlock_limit, NULL },
	{ "memlock_per_user_or_process", t_memlock_per_user_or_process, NULL },
	{ "kill_mid_batch", t_kill_mid_batch, NULL },
	{ "close_attached", t_close_attached, NULL },
};

int main(int argc, char **argv)
{
	if (geteuid() != 0) {
		printf("1..0 # SKIP needs root in the VM\n");
		return SKIP_RC;
	}
	return run_tests("resources", tests, sizeof(tests) / sizeof(tests[0]),
			 argc, argv);
}
