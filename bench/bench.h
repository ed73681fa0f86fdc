/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/*
 * Shared by the ioasid-bench subcommands: options, timing, a small PRNG,
 * and output. With --json every result is one JSON object per line;
 * otherwise the same objects are printed as readable lines. A "check"
 * compares a measured ratio with its target and says pass or fail; the
 * exit status does not depend on it (benchmarks report, tests assert).
 */
#ifndef IOASID_BENCH_H
#define IOASID_BENCH_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct bench_opts {
	bool json;
	bool quick;		/* fewer operations, for smoke runs */
	bool kernel;		/* map: --backend kernel (/dev/ioasid, VFIO) */
	unsigned int checks;
	unsigned int failed;
};

struct rng {
	uint64_t s;
};

static inline uint64_t rng_next(struct rng *r)
{
	r->s ^= r->s >> 12;
	r->s ^= r->s << 25;
	r->s ^= r->s >> 27;
	return r->s * 0x2545F4914F6CDD1DULL;
}

static inline uint64_t rng_below(struct rng *r, uint64_t n)
{
	return n ? rng_next(r) % n : 0;
}

uint64_t now_ns(void);
double median(double *v, int n);
void die(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
void emit(struct bench_opts *o, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
void print_header(struct bench_opts *o, const char *bench, const char *what);
void check(struct bench_opts *o, const char *bench, const char *layer,
	   const char *what, double value, const char *op, double target,
	   uint64_t at);

/*
 * VFIO for the kernel benchmarks (bench_kmap.c): a device bound to
 * vfio-pci alone in its IOMMU group, in a container of IOMMU type
 * VFIO_TYPE1v2_IOMMU or VFIO_IOASID_IOMMU (then bound and attached to a
 * fresh ioasid of a new ioasid fd). bench_vfio_type1_param() turns
 * ioasid.ko's vfio_type1 parameter on or off (off: stock type1 serves the
 * next TYPE1v2 container).
 */
struct vdev {
	int container, group;
	int ioasid_fd;
	uint32_t as;
	uint32_t dev;		/* the device's id in ioasid_fd */
};

bool bench_vfio_find(void);
void bench_vfio_type1_param(bool on);
void vdev_open(struct vdev *v, unsigned long type);
void vdev_close(struct vdev *v);

int bench_core(struct bench_opts *o);
int bench_iotlb(struct bench_opts *o);
int bench_map(struct bench_opts *o);
int bench_map_kernel(struct bench_opts *o);
int bench_vhost(struct bench_opts *o);
int bench_vdpa(struct bench_opts *o);
int bench_nest(struct bench_opts *o);
int bench_netd(struct bench_opts *o);

#endif /* IOASID_BENCH_H */
