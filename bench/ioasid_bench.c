// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/*
 * ioasid-bench: the project's benchmarks, one subcommand each.
 *   ioasid-bench core [--json] [--quick]    the engine (issue 2)
 *   ioasid-bench iotlb [--json] [--quick]   the fast path's translation
 *   ioasid-bench map [--json] [--quick]     the batcher against single calls
 *   ioasid-bench vhost [--json] [--quick]   vhost-user backend vs DPDK's vhost
 *   ioasid-bench netd [--json] [--quick]    ioasid-netd vs dpdk-testpmd under a
 *                                           QEMU guest (as root)
 *   ioasid-bench map --backend kernel ...   /dev/ioasid against VFIO type1
 *                                           (in the kernel VM, as root)
 *   ioasid-bench nest [--json] [--quick]    a guest page-table change: type1
 *                                           unmap+map vs a nested ioasid's
 *                                           invalidation (kernel VM, root)
 * Results are one JSON object per configuration with --json; each run
 * measures its own baselines and reports every target as a check.
 */
#include <stdarg.h>
#include <time.h>

#include "bench.h"

uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

double median(double *v, int n)
{
	qsort(v, (size_t)n, sizeof(*v), cmp_double);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

void die(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "ioasid-bench: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(1);
}

void emit(struct bench_opts *o, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	if (o->json) {
		vprintf(fmt, ap);
		putchar('\n');
	} else {
		char buf[1024], *p, *q;

		/* Readable form: the JSON without quotes and braces. */
		vsnprintf(buf, sizeof(buf), fmt, ap);
		for (p = q = buf; *p; p++)
			if (*p != '"' && *p != '{' && *p != '}')
				*q++ = *p == ',' ? ' ' : (*p == ':' ? '=' : *p);
		*q = '\0';
		printf("  %s\n", buf);
	}
	va_end(ap);
	fflush(stdout);
}

void print_header(struct bench_opts *o, const char *bench, const char *what)
{
	if (!o->json)
		printf("ioasid-bench %s: %s\n", bench, what);
}

void check(struct bench_opts *o, const char *bench, const char *layer,
	   const char *what, double value, const char *op, double target,
	   uint64_t at)
{
	bool pass = op[0] == '<' ? value <= target : value >= target;

	o->checks++;
	if (!pass)
		o->failed++;
	emit(o, "{\"bench\":\"%s\",\"check\":\"%s\",\"layer\":\"%s\",\"at\":%llu,\"value\":%.2f,\"target\":\"%s %.2f\",\"pass\":%s}",
	     bench, what, layer, (unsigned long long)at, value, op, target,
	     pass ? "true" : "false");
}

static void usage(FILE *f)
{
	fprintf(f, "usage: ioasid-bench core|iotlb|map|vhost [--json] [--quick]\n"
		   "       ioasid-bench map --backend kernel [--json] [--quick]\n"
		   "       ioasid-bench vdpa [--json] [--quick]   (root, in the kernel VM)\n"
		   "       ioasid-bench nest [--json] [--quick]   (root, in the kernel VM)\n"
		   "       ioasid-bench netd [--json] [--quick]   (root: QEMU guests, ioasid-netd vs testpmd)\n");
}

int main(int argc, char **argv)
{
	struct bench_opts o = { 0 };
	int i, rc;

	if (argc < 2) {
		usage(stderr);
		return 2;
	}
	for (i = 2; i < argc; i++) {
		if (!strcmp(argv[i], "--json"))
			o.json = true;
		else if (!strcmp(argv[i], "--quick"))
			o.quick = true;
		else if (!strcmp(argv[i], "--backend") && i + 1 < argc &&
			 (!strcmp(argv[i + 1], "kernel") ||
			  !strcmp(argv[i + 1], "embedded")))
			o.kernel = !strcmp(argv[++i], "kernel");
		else {
			usage(stderr);
			return 2;
		}
	}
	if (!strcmp(argv[1], "core"))
		rc = bench_core(&o);
	else if (!strcmp(argv[1], "iotlb"))
		rc = bench_iotlb(&o);
	else if (!strcmp(argv[1], "map"))
		rc = o.kernel ? bench_map_kernel(&o) : bench_map(&o);
	else if (!strcmp(argv[1], "vhost"))
		rc = bench_vhost(&o);
	else if (!strcmp(argv[1], "vdpa"))
		rc = bench_vdpa(&o);
	else if (!strcmp(argv[1], "nest"))
		rc = bench_nest(&o);
	else if (!strcmp(argv[1], "netd"))
		rc = bench_netd(&o);
	else if (!strcmp(argv[1], "--help"))
		return usage(stdout), 0;
	else {
		usage(stderr);
		return 2;
	}
	if (!o.json)
		printf("%u of %u targets met\n", o.checks - o.failed, o.checks);
	return rc;
}
