/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/*
 * Unmodified dpdk-testpmd (Debian's dpdk-dev) as a child process, for the
 * vhost tests and benchmarks: io forwarding on one port in loop topology,
 * two lcores, 256 MiB of hugepages in one file, its output in a log
 * (p->log, removed by pmd_stop()). Needs root.
 */
#ifndef IOASID_VHOST_PMD_H
#define IOASID_VHOST_PMD_H

#include <stdbool.h>
#include <stdio.h>
#include <sys/types.h>

#define PMD_PATH	"/usr/bin/dpdk-testpmd"

struct pmd {
	pid_t pid;
	int in;				/* its stdin: a line stops it */
	char prefix[64], log[160];
};

/*
 * Reserve @n 2 MiB pages (root) and make sure hugetlbfs is mounted at
 * /dev/hugepages: 0, or -1 if either cannot be done.
 */
int pmd_hugepages(unsigned int n);
/* Start testpmd with @vdev as its one port. */
int pmd_start(struct pmd *p, const char *vdev);
/* The same with one more EAL argument (e.g. "--iova-mode=va"). */
int pmd_start_eal(struct pmd *p, const char *vdev, const char *eal);
/*
 * The same, and @node (a vhost-vdpa character device) is the only one
 * DPDK 22.11 can recognise: it takes the first "vhost-vdpa" major in
 * /proc/devices, and ioasid_vdpa's region has that name too, so with both
 * drivers loaded testpmd would see one of them only. The child gets a
 * private mount namespace with a /proc/devices naming @node's major.
 */
int pmd_start_vdpa(struct pmd *p, const char *vdev, const char *eal,
		   const char *node);
/*
 * Testpmd with its lcores mapped by @lcores (EAL --lcores), @vdev its one
 * port, and @args (NULL-terminated) as its own arguments in place of the
 * io-forwarding defaults above; 256 MiB in one file as above.
 */
int pmd_start_lcores(struct pmd *p, const char *lcores, const char *vdev,
		     const char *const *args);
bool pmd_alive(struct pmd *p);
/*
 * Stop it (a line on stdin, SIGKILL after 30 s), print its log to @show
 * if not NULL, and remove what it leaves (hugepage files, runtime dir).
 */
void pmd_stop(struct pmd *p, FILE *show);

#endif /* IOASID_VHOST_PMD_H */
