// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/* dpdk-testpmd as a child process, for tests and benchmarks: see pmd.h. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <unistd.h>

#include "pmd.h"

int pmd_hugepages(unsigned int n)
{
	unsigned int have = 0;
	FILE *f = fopen("/proc/sys/vm/nr_hugepages", "r+");
	struct stat st;

	if (!f)
		return -1;
	if (fscanf(f, "%u", &have) != 1)
		have = 0;
	if (have < n) {
		rewind(f);
		fprintf(f, "%u\n", n);
		fflush(f);
		rewind(f);
		if (fscanf(f, "%u", &have) != 1)
			have = 0;
	}
	fclose(f);
	if (have < n)
		return -1;
	if (stat("/dev/hugepages", &st))
		mkdir("/dev/hugepages", 0755);
	/* Mount it unless it is mounted (mounting again would stack). */
	if (system("grep -q ' /dev/hugepages hugetlbfs ' /proc/mounts") &&
	    mount("hugetlbfs", "/dev/hugepages", "hugetlbfs", 0, NULL))
		return -1;
	return 0;
}

/* What a testpmd that died may leave: hugepage files, its runtime dir. */
static void clean_prefix(const char *prefix)
{
	char cmd[256];

	snprintf(cmd, sizeof(cmd),
		 "rm -rf /dev/hugepages/%s* /var/run/dpdk/%s", prefix, prefix);
	if (system(cmd))
		fprintf(stderr, "testpmd: could not clean up after %s\n", prefix);
}

static void show_log(const char *path, FILE *to)
{
	char line[512];
	FILE *f = fopen(path, "r");
	int n = 0;

	while (f && fgets(line, sizeof(line), f))
		if (n++ < 60)
			fprintf(to, "# testpmd: %s\n", strtok(line, "\n") ? line : "");
	if (f)
		fclose(f);
}

int pmd_start(struct pmd *p, const char *vdev)
{
	return pmd_start_eal(p, vdev, NULL);
}

int pmd_start_eal(struct pmd *p, const char *vdev, const char *eal)
{
	return pmd_start_vdpa(p, vdev, eal, NULL);
}

/*
 * In the child, before exec: a private mount namespace where
 * /proc/devices names only @node's major "vhost-vdpa" (other lines kept).
 */
static int only_this_vdpa(const char *node, const char *tmp)
{
	char line[256];
	unsigned int major;
	struct stat st;
	FILE *in, *out;

	if (stat(node, &st) || !S_ISCHR(st.st_mode))
		return -1;
	in = fopen("/proc/devices", "r");
	out = fopen(tmp, "w");
	while (in && out && fgets(line, sizeof(line), in)) {
		char name[64];

		if (sscanf(line, "%u %63s", &major, name) == 2 &&
		    !strcmp(name, "vhost-vdpa") && major != major(st.st_rdev))
			continue;
		fputs(line, out);
	}
	if (in)
		fclose(in);
	if (!out || fclose(out))
		return -1;
	if (unshare(CLONE_NEWNS) ||
	    mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) ||
	    mount(tmp, "/proc/devices", NULL, MS_BIND, NULL))
		return -1;
	return 0;
}

/*
 * A prefix and log of this child's own: a process may run two testpmds at
 * once (a driver and a device). The letter ends the number, so that
 * clean_prefix()'s glob for child 1 does not match child 10's files.
 */
static void name_child(struct pmd *p)
{
	static unsigned int children;
	unsigned int n = __atomic_fetch_add(&children, 1, __ATOMIC_RELAXED);

	snprintf(p->prefix, sizeof(p->prefix), "ioasid-vu-%d-%uc",
		 (int)getpid(), n);
	snprintf(p->log, sizeof(p->log), "%s/%s.log",
		 getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp", p->prefix);
}

/* Fork testpmd with @argv (argv[0] first), stdin a pipe, output to the log. */
static int spawn(struct pmd *p, char *const argv[], const char *node)
{
	int in[2], fd;

	/*
	 * testpmd without -i waits for a line on stdin and then stops: a pipe
	 * keeps its main thread asleep (--stats-period would keep it busy on
	 * one of the machine's two cores).
	 */
	if (pipe(in))
		return -errno;
	p->pid = fork();
	if (p->pid == 0) {
		fd = open(p->log, O_WRONLY | O_CREAT | O_TRUNC, 0644);
		if (fd >= 0) {
			dup2(fd, 1);
			dup2(fd, 2);
		}
		dup2(in[0], 0);
		close(in[1]);
		if (node) {
			char tmp[sizeof(p->log) + 16];

			snprintf(tmp, sizeof(tmp), "%s.devices", p->log);
			if (only_this_vdpa(node, tmp)) {
				perror("pmd: a /proc/devices for one vhost-vdpa driver");
				_exit(126);
			}
		}
		execv(PMD_PATH, argv);
		_exit(127);
	}
	close(in[0]);
	p->in = in[1];
	return p->pid > 0 ? 0 : -errno;
}

int pmd_start_vdpa(struct pmd *p, const char *vdev, const char *eal,
		   const char *node)
{
	char *argv[] = { "dpdk-testpmd", "-l", "0-1", "-n", "1",
		"--no-pci", "--file-prefix", p->prefix,
		"-m", "256", "--single-file-segments",
		"--vdev", (char *)vdev, "--",
		"--forward-mode=io", "--port-topology=loop",
		"--auto-start", "--nb-cores=1", "--rxd=256",
		"--txd=256", NULL, NULL };

	name_child(p);
	if (eal) {	/* before the "--": shift the tail */
		memmove(&argv[14], &argv[13],
			(sizeof(argv) / sizeof(argv[0]) - 14) * sizeof(argv[0]));
		argv[13] = (char *)eal;
	}
	return spawn(p, argv, node);
}

int pmd_start_lcores(struct pmd *p, const char *lcores, const char *vdev,
		     const char *const *args)
{
	char *argv[40] = { "dpdk-testpmd", "--lcores", (char *)lcores, "-n",
		"1", "--no-pci", "--file-prefix", p->prefix, "-m", "256",
		"--single-file-segments", "--vdev", (char *)vdev, "--" };
	size_t n = 14, i;

	name_child(p);
	for (i = 0; args[i]; i++) {
		if (n == sizeof(argv) / sizeof(argv[0]) - 1)
			return -E2BIG;
		argv[n++] = (char *)args[i];
	}
	argv[n] = NULL;
	return spawn(p, argv, NULL);
}

bool pmd_alive(struct pmd *p)
{
	int status;

	if (p->pid > 0 && waitpid(p->pid, &status, WNOHANG) == p->pid)
		p->pid = -1;
	return p->pid > 0;
}

void pmd_stop(struct pmd *p, FILE *show)
{
	int status, i;

	if (pmd_alive(p)) {
		if (write(p->in, "\n", 1) != 1)
			kill(p->pid, SIGINT);
		for (i = 0; i < 300 && waitpid(p->pid, &status, WNOHANG) != p->pid;
		     i++)
			usleep(100000);
		if (i == 300) {
			kill(p->pid, SIGKILL);
			waitpid(p->pid, &status, 0);
		}
	}
	close(p->in);
	if (show)
		show_log(p->log, show);
	unlink(p->log);
	clean_prefix(p->prefix);
}

