// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/*
 * ioasidctl: explore an I/O address space from a scenario file.
 *
 * A scenario is a list of commands, one per line, run in order against one
 * ioasid fd (the embedded engine by default). Objects get names in the file
 * and ids from the engine. Every command prints one line; "info" and
 * "mappings" print tables; a summary closes the run. A command that fails
 * unexpectedly stops the run with a sentence naming the line, the field
 * and the rule; "expect ERRNO ..." asserts a failure instead.
 *
 * Exit status: 0 the scenario ran, 1 a command failed, 2 the file is
 * malformed or cannot be read.
 *
 * The grammar is in docs/ioasidctl.md; examples/ has scenarios.
 */
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "ioasid.h"
#include "vdpa_nl.h"

#define MAX_NAMES	64
#define MAX_TOKENS	24
#define MAX_BATCH	4096

enum kind { K_AS, K_DEV, K_BUF };

struct name {
	char name[32];
	enum kind kind;
	uint32_t id;
	uint8_t *buf;
	uint64_t len;
	void *alloc;
	uint64_t alloc_len;
};

struct run {
	const char *file;
	unsigned int line;
	struct ioasid_handle *h;
	struct ioasid_open_opts opts;
	bool opened;
	struct name names[MAX_NAMES];
	unsigned int nnames;
	unsigned int commands;
	unsigned int expected;
	FILE *in;
};

static int parse_error(struct run *r, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static int parse_error(struct run *r, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "%s:%u: ", r->file, r->line);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return 2;
}

/* Numbers: decimal or 0x hex, with an optional K, M, G or T suffix. */
static bool parse_u64(const char *s, uint64_t *out)
{
	char *end;
	unsigned long long v;
	uint64_t mul = 1;

	if (!*s || *s == '-')
		return false;
	errno = 0;
	v = strtoull(s, &end, 0);
	if (errno || end == s)
		return false;
	if (*end) {
		switch (toupper((unsigned char)*end)) {
		case 'K': mul = 1ULL << 10; break;
		case 'M': mul = 1ULL << 20; break;
		case 'G': mul = 1ULL << 30; break;
		case 'T': mul = 1ULL << 40; break;
		default: return false;
		}
		if (end[1] && !(toupper((unsigned char)end[1]) == 'I' &&
				toupper((unsigned char)end[2]) == 'B' && !end[3]))
			return false;
	}
	if (v && mul > UINT64_MAX / v)
		return false;
	*out = v * mul;
	return true;
}

static int num(struct run *r, const char *what, const char *s, uint64_t *out)
{
	if (!s)
		return parse_error(r, "missing %s", what);
	if (!parse_u64(s, out))
		return parse_error(r, "%s '%s' is not a number (e.g. 4096, 0x1000, 2M)",
				   what, s);
	return 0;
}

static struct name *find(struct run *r, const char *n)
{
	for (unsigned int i = 0; i < r->nnames; i++)
		if (!strcmp(r->names[i].name, n))
			return &r->names[i];
	return NULL;
}

static const char *kind_name(enum kind k)
{
	return k == K_AS ? "ioasid" : k == K_DEV ? "device" : "buffer";
}

static int lookup(struct run *r, const char *n, enum kind k, struct name **out)
{
	struct name *x;

	if (!n)
		return parse_error(r, "missing %s name", kind_name(k));
	x = find(r, n);
	if (!x)
		return parse_error(r, "unknown %s '%s' (declare it first)",
				   kind_name(k), n);
	if (x->kind != k)
		return parse_error(r, "'%s' is a %s, not a %s", n,
				   kind_name(x->kind), kind_name(k));
	*out = x;
	return 0;
}

static int declare(struct run *r, const char *n, enum kind k,
		   struct name **out)
{
	struct name *x;

	if (!n)
		return parse_error(r, "missing %s name", kind_name(k));
	if (strlen(n) >= sizeof(x->name) || !isalpha((unsigned char)n[0]))
		return parse_error(r, "bad name '%s': a letter, then at most 30 more characters", n);
	if (find(r, n))
		return parse_error(r, "'%s' is already declared", n);
	if (r->nnames == MAX_NAMES)
		return parse_error(r, "more than %d names", MAX_NAMES);
	x = &r->names[r->nnames++];
	memset(x, 0, sizeof(*x));
	strcpy(x->name, n);
	x->kind = k;
	*out = x;
	return 0;
}

static int ensure_open(struct run *r)
{
	int rc;

	if (r->opened)
		return 0;
	rc = ioasid_open(&r->opts, &r->h);
	if (rc) {
		fprintf(stderr, "%s:%u: cannot open the %s backend: %s\n",
			r->file, r->line,
			ioasid_backend_name(r->opts.backend), strerror(-rc));
		return 1;
	}
	r->opened = true;
	printf("backend: %s\n", ioasid_backend_name(ioasid_backend_of(r->h)));
	return 0;
}

/* "key=value" lookup among tokens t[from..n). */
static const char *kv(char **t, int n, int from, const char *key)
{
	size_t kl = strlen(key);

	for (int i = from; i < n; i++)
		if (!strncmp(t[i], key, kl) && t[i][kl] == '=')
			return t[i] + kl + 1;
	return NULL;
}

static bool has(char **t, int n, int from, const char *word)
{
	for (int i = from; i < n; i++)
		if (!strcmp(t[i], word))
			return true;
	return false;
}

static int check_keys(struct run *r, char **t, int n, int from,
		      const char *const *allowed)
{
	for (int i = from; i < n; i++) {
		bool ok = false;

		for (const char *const *a = allowed; *a && !ok; a++) {
			size_t l = strlen(*a);

			/* "key=" takes a value; a bare word must match whole. */
			ok = (*a)[l - 1] == '=' ? !strncmp(t[i], *a, l) :
						  !strcmp(t[i], *a);
		}
		if (!ok)
			return parse_error(r, "unexpected '%s'", t[i]);
	}
	return 0;
}

static int range(struct run *r, const char *what, const char *s, uint64_t *a,
		 uint64_t *b)
{
	char tmp[64];
	char *dash;

	if (!s || strlen(s) >= sizeof(tmp))
		return parse_error(r, "missing or long %s range", what);
	strcpy(tmp, s);
	dash = strchr(tmp, '-');
	if (!dash)
		return parse_error(r, "%s '%s' must be START-LAST", what, s);
	*dash = '\0';
	if (num(r, what, tmp, a) || num(r, what, dash + 1, b))
		return 2;
	return 0;
}

static uint32_t prot_of(const char *s)
{
	if (!s)
		return IOASID_DMA_READ | IOASID_DMA_WRITE;
	if (!strcmp(s, "r"))
		return IOASID_DMA_READ;
	if (!strcmp(s, "w"))
		return IOASID_DMA_WRITE;
	if (!strcmp(s, "rw"))
		return IOASID_DMA_READ | IOASID_DMA_WRITE;
	if (!strcmp(s, "none"))
		return 0;
	return UINT32_MAX;
}

/* BUF or BUF+OFFSET: a process address inside a declared buffer. */
static int vaddr_of(struct run *r, const char *s, uint64_t *va)
{
	char tmp[64];
	char *plus;
	struct name *b;
	uint64_t off = 0;

	if (!s || strlen(s) >= sizeof(tmp))
		return parse_error(r, "missing buffer (BUF or BUF+OFFSET)");
	strcpy(tmp, s);
	plus = strchr(tmp, '+');
	if (plus) {
		*plus = '\0';
		if (num(r, "buffer offset", plus + 1, &off))
			return 2;
	}
	if (lookup(r, tmp, K_BUF, &b))
		return 2;
	if (off > b->len)
		return parse_error(r, "offset 0x%" PRIx64 " is past the end of buffer '%s' (0x%" PRIx64 " bytes)",
				   off, tmp, b->len);
	*va = (uintptr_t)b->buf + off;
	return 0;
}

static void human(uint64_t v, char *out, size_t len)
{
	static const char *const u[] = { "B", "KiB", "MiB", "GiB", "TiB" };
	int i = 0;

	while (v >= 1024 && !(v % 1024) && i < 4) {
		v /= 1024;
		i++;
	}
	snprintf(out, len, "%" PRIu64 " %s", v, u[i]);
}

static void pgsizes_str(uint64_t bm, char *out, size_t len)
{
	size_t n = 0;

	out[0] = '\0';
	for (int b = 0; b < 64 && n < len; b++) {
		char h[32];

		if (!(bm & (1ULL << b)))
			continue;
		human(1ULL << b, h, sizeof(h));
		n += (size_t)snprintf(out + n, len - n, "%s%s", n ? "," : "",
				      h);
	}
	if (!bm)
		snprintf(out, len, "-");
}

static int print_info(struct run *r, struct name *a)
{
	struct ioasid_iova_range ranges[16];
	struct ioasid_info in;
	char pg[128], b[32];
	int rc = ioasid_get_info(r->h, a->id, &in, ranges, 16);

	if (rc)
		return rc;
	pgsizes_str(in.out_pgsize_bitmap, pg, sizeof(pg));
	human(in.out_mapped_bytes, b, sizeof(b));
	printf("ioasid %s (id %u)\n", a->name, a->id);
	printf("  %-18s %s\n", "devices", in.out_num_devices ?
	       (in.out_flags & IOASID_INFO_VIABLE ? "attached, groups complete" :
						     "attached, a group is incomplete") :
	       "none attached");
	printf("  %-18s %u\n", "device count", in.out_num_devices);
	printf("  %-18s %s\n", "page sizes", pg);
	printf("  %-18s %s\n", "coherent",
	       in.out_flags & IOASID_INFO_COHERENT ? "yes" : "no");
	printf("  %-18s %u of %u (%u free)\n", "mappings",
	       in.out_num_mappings, in.out_max_mappings,
	       in.out_max_mappings - in.out_num_mappings);
	printf("  %-18s %s\n", "mapped", b);
	printf("  %-18s %" PRIu64 " (whole fd, each page once)\n",
	       "pinned pages", (uint64_t)in.out_fd_pinned_pages);
	for (uint32_t i = 0; i < in.num_ranges && i < 16; i++)
		printf("  %-18s 0x%" PRIx64 "-0x%" PRIx64 "\n",
		       i ? "" : "usable IOVA", (uint64_t)ranges[i].start,
		       (uint64_t)ranges[i].last);
	return 0;
}

static const char *buf_name(struct run *r, uint64_t va, uint64_t *off)
{
	for (unsigned int i = 0; i < r->nnames; i++) {
		struct name *b = &r->names[i];

		if (b->kind == K_BUF && va >= (uintptr_t)b->buf &&
		    va < (uintptr_t)b->buf + b->len) {
			*off = va - (uintptr_t)b->buf;
			return b->name;
		}
	}
	*off = va;
	return "?";
}

static int print_mappings(struct run *r, struct name *a)
{
	struct ioasid_mapping_info m[64];
	uint64_t start = 0, total = 0;
	unsigned int count = 0;
	bool more = true;

	printf("  %-20s %-20s %-22s %-4s %s\n", "IOVA first", "IOVA last",
	       "memory", "perm", "page sizes");
	while (more) {
		uint32_t n = 64;
		int rc = ioasid_list(r->h, a->id, start, m, &n, &more);

		if (rc)
			return rc;
		for (uint32_t i = 0; i < n; i++) {
			char pg[64], mem[64];
			uint64_t off;
			const char *bn = buf_name(r, m[i].vaddr, &off);

			pgsizes_str(m[i].pgsize_bitmap, pg, sizeof(pg));
			snprintf(mem, sizeof(mem), "%s+0x%" PRIx64, bn, off);
			printf("  0x%-18" PRIx64 " 0x%-18" PRIx64 " %-22s %s%s   %s\n",
			       (uint64_t)m[i].iova,
			       (uint64_t)(m[i].iova + m[i].length - 1), mem,
			       m[i].flags & IOASID_DMA_READ ? "r" : "-",
			       m[i].flags & IOASID_DMA_WRITE ? "w" : "-", pg);
			total += m[i].length;
			count++;
		}
		if (n)
			start = m[n - 1].iova + m[n - 1].length;
		if (!n)
			break;
	}
	printf("  %u mapping(s), 0x%" PRIx64 " bytes\n", count, total);
	return 0;
}

static const struct {
	const char *name;
	int err;
} errnames[] = {
	{ "EINVAL", EINVAL }, { "EEXIST", EEXIST }, { "ENOSPC", ENOSPC },
	{ "ENOMEM", ENOMEM }, { "EFAULT", EFAULT }, { "ENODEV", ENODEV },
	{ "EPERM", EPERM }, { "EBUSY", EBUSY }, { "ENOENT", ENOENT },
	{ "EMSGSIZE", EMSGSIZE }, { "E2BIG", E2BIG }, { "ENOTTY", ENOTTY },
};

static int errno_by_name(const char *s)
{
	for (size_t i = 0; i < sizeof(errnames) / sizeof(errnames[0]); i++)
		if (!strcmp(errnames[i].name, s))
			return errnames[i].err;
	return 0;
}

static int tokenize(char *line, char **t)
{
	int n = 0;
	char *p = line;

	while (*p && n < MAX_TOKENS) {
		while (isspace((unsigned char)*p))
			p++;
		if (!*p || *p == '#')
			break;
		t[n++] = p;
		while (*p && !isspace((unsigned char)*p))
			p++;
		if (*p)
			*p++ = '\0';
	}
	while (isspace((unsigned char)*p))
		p++;
	if (*p && *p != '#')
		return -1;
	return n;
}

/* Lines of a batch block, up to "end". */
static int read_batch(struct run *r, bool map, struct ioasid_dma_entry *e,
		      uint32_t *count)
{
	char line[512], *t[MAX_TOKENS];
	uint32_t n = 0;

	while (fgets(line, sizeof(line), r->in)) {
		int nt;

		r->line++;
		nt = tokenize(line, t);
		if (nt < 0)
			return parse_error(r, "too many words on one line");
		if (!nt)
			continue;
		if (!strcmp(t[0], "end")) {
			*count = n;
			if (!n)
				return parse_error(r, "empty batch");
			return 0;
		}
		if (n == MAX_BATCH)
			return parse_error(r, "more than %d entries in a batch",
					   MAX_BATCH);
		memset(&e[n], 0, sizeof(e[n]));
		{
			uint64_t iova;

			if (num(r, "iova", t[0], &iova))
				return 2;
			e[n].iova = iova;
		}
		if (map) {
			uint64_t va, len;

			if (nt < 3 || nt > 4)
				return parse_error(r, "batch map entry: IOVA BUF[+OFF] LEN [r|w|rw]");
			if (vaddr_of(r, t[1], &va) || num(r, "length", t[2], &len))
				return 2;
			e[n].vaddr = va;
			e[n].length = len;
			e[n].flags = prot_of(nt > 3 ? t[3] : NULL);
			if (e[n].flags == UINT32_MAX)
				return parse_error(r, "permission '%s' must be r, w or rw", t[3]);
		} else {
			uint64_t len;

			if (nt != 2)
				return parse_error(r, "batch unmap entry: IOVA LEN");
			if (num(r, "length", t[1], &len))
				return 2;
			e[n].length = len;
		}
		n++;
	}
	return parse_error(r, "batch not closed by 'end'");
}

/* Run one command. Returns 0, a negative errno (the call failed), or 2. */
static int run_cmd(struct run *r, char **t, int n)
{
	static struct ioasid_dma_entry batch_buf[MAX_BATCH];
	const char *c = t[0];
	struct name *a, *d, *b;
	uint64_t x, y, z;
	int rc;

	if (!strcmp(c, "option")) {
		static const char *const keys[] = { "backend=", "max_mappings=",
						    "memlock=", NULL };
		const char *v;

		if (r->opened)
			return parse_error(r, "'option' must come before the first command");
		if (check_keys(r, t, n, 1, keys))
			return 2;
		v = kv(t, n, 1, "backend");
		if (v && !strcmp(v, "kernel"))
			r->opts.backend = IOASID_BACKEND_KERNEL;
		else if (v && strcmp(v, "embedded"))
			return parse_error(r, "backend '%s' must be embedded or kernel", v);
		v = kv(t, n, 1, "max_mappings");
		if (v) {
			if (num(r, "max_mappings", v, &x))
				return 2;
			if (!x || x > 65535)
				return parse_error(r, "max_mappings must be 1 to 65535");
			r->opts.max_mappings = (uint32_t)x;
		}
		v = kv(t, n, 1, "memlock");
		if (v) {
			if (num(r, "memlock", v, &x))
				return 2;
			r->opts.memlock_bytes = x;
		}
		printf("option: ok\n");
		return 0;
	}
	if (ensure_open(r))
		return 1;
	if (!strcmp(c, "buffer")) {
		if (n != 3)
			return parse_error(r, "usage: buffer NAME SIZE");
		if (declare(r, t[1], K_BUF, &b) || num(r, "size", t[2], &x))
			return 2;
		if (!x || x > (1ULL << 32))
			return parse_error(r, "buffer size must be 1 byte to 4 GiB");
		/* 2 MiB aligned, so scenarios can show huge pages. */
		b->alloc_len = x + (2ULL << 20);
		b->alloc = mmap(NULL, b->alloc_len, PROT_READ | PROT_WRITE,
				MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
		if (b->alloc == MAP_FAILED) {
			b->alloc = NULL;
			return parse_error(r, "cannot allocate %s", t[2]);
		}
		b->buf = (uint8_t *)(((uintptr_t)b->alloc + (2ULL << 20) - 1) &
				     ~(uintptr_t)((2ULL << 20) - 1));
		b->len = x;
		printf("buffer %s: 0x%" PRIx64 " bytes\n", b->name, x);
		return 0;
	}
	if (!strcmp(c, "alloc")) {
		if (n != 2)
			return parse_error(r, "usage: alloc NAME");
		if (declare(r, t[1], K_AS, &a))
			return 2;
		rc = ioasid_alloc(r->h, &a->id);
		if (rc) {
			r->nnames--;
			return rc;
		}
		printf("alloc %s: ioasid %u\n", a->name, a->id);
		return 0;
	}
	if (!strcmp(c, "device")) {
		static const char *const keys[] = { "pgsizes=", "aperture=",
						    "resv=", "group=",
						    "coherent", NULL };
		struct ioasid_iova_range resv[IOASID_SWDEV_MAX_RESV];
		struct ioasid_swdev_create sc = { .size = sizeof(sc) };
		const char *v;

		if (n < 2)
			return parse_error(r, "usage: device NAME [pgsizes=4K,2M] [aperture=START-LAST] [resv=START-LAST]... [group=ID/SIZE] [coherent]");
		if (check_keys(r, t, n, 2, keys))
			return 2;
		sc.pgsize_bitmap = 0x1000 | (2ULL << 20) | (1ULL << 30);
		sc.aperture_last = (1ULL << 48) - 1;
		sc.group_size = 1;
		v = kv(t, n, 2, "pgsizes");
		if (v) {
			char tmp[128], *tok, *save;

			if (strlen(v) >= sizeof(tmp))
				return parse_error(r, "pgsizes too long");
			strcpy(tmp, v);
			sc.pgsize_bitmap = 0;
			for (tok = strtok_r(tmp, ",", &save); tok;
			     tok = strtok_r(NULL, ",", &save)) {
				if (num(r, "page size", tok, &x))
					return 2;
				if (!x || (x & (x - 1)))
					return parse_error(r, "page size %s is not a power of two", tok);
				sc.pgsize_bitmap |= x;
			}
		}
		v = kv(t, n, 2, "aperture");
		if (v && range(r, "aperture", v, &x, &y))
			return 2;
		if (v) {
			sc.aperture_start = x;
			sc.aperture_last = y;
		}
		for (int i = 2; i < n; i++) {
			if (strncmp(t[i], "resv=", 5))
				continue;
			if (sc.num_resv == IOASID_SWDEV_MAX_RESV)
				return parse_error(r, "at most %u reserved regions",
						   IOASID_SWDEV_MAX_RESV);
			if (range(r, "resv", t[i] + 5, &x, &y))
				return 2;
			resv[sc.num_resv].start = x;
			resv[sc.num_resv].last = y;
			sc.num_resv++;
		}
		sc.resv_uptr = (uintptr_t)resv;
		v = kv(t, n, 2, "group");
		if (v) {
			char tmp[64], *slash;

			if (strlen(v) >= sizeof(tmp))
				return parse_error(r, "group too long");
			strcpy(tmp, v);
			slash = strchr(tmp, '/');
			if (!slash)
				return parse_error(r, "group '%s' must be ID/SIZE", v);
			*slash = '\0';
			if (num(r, "group id", tmp, &x) ||
			    num(r, "group size", slash + 1, &y))
				return 2;
			if (!x || x > UINT32_MAX || y > UINT32_MAX)
				return parse_error(r, "group id must be 1 to 2^32-1");
			sc.group_id = (uint32_t)x;
			sc.group_size = (uint32_t)y;
		}
		if (has(t, n, 2, "coherent"))
			sc.flags |= IOASID_SWDEV_COHERENT;
		if (declare(r, t[1], K_DEV, &d))
			return 2;
		rc = ioasid_swdev_create(r->h, &sc, &d->id);
		if (rc) {
			r->nnames--;
			return rc;
		}
		printf("device %s: software device %u\n", d->name, d->id);
		return 0;
	}
	if (!strcmp(c, "attach")) {
		if (n != 3)
			return parse_error(r, "usage: attach DEVICE IOASID");
		if (lookup(r, t[1], K_DEV, &d) || lookup(r, t[2], K_AS, &a))
			return 2;
		rc = ioasid_attach(r->h, d->id, a->id);
		if (!rc)
			printf("attach %s -> %s: ok\n", d->name, a->name);
		return rc;
	}
	if (!strcmp(c, "detach") || !strcmp(c, "destroy")) {
		if (n != 2)
			return parse_error(r, "usage: %s DEVICE", c);
		if (lookup(r, t[1], K_DEV, &d))
			return 2;
		rc = !strcmp(c, "detach") ? ioasid_detach(r->h, d->id) :
					    ioasid_swdev_destroy(r->h, d->id);
		if (!rc)
			printf("%s %s: ok\n", c, d->name);
		return rc;
	}
	if (!strcmp(c, "free")) {
		if (n != 2)
			return parse_error(r, "usage: free IOASID");
		if (lookup(r, t[1], K_AS, &a))
			return 2;
		rc = ioasid_free(r->h, a->id);
		if (!rc)
			printf("free %s: ok\n", a->name);
		return rc;
	}
	if (!strcmp(c, "map")) {
		uint32_t prot, maxpg = 0;
		const char *v;

		if (n < 5)
			return parse_error(r, "usage: map IOASID IOVA BUF[+OFF] LEN [r|w|rw] [maxpg=SIZE]");
		if (lookup(r, t[1], K_AS, &a) || num(r, "iova", t[2], &x) ||
		    vaddr_of(r, t[3], &y) || num(r, "length", t[4], &z))
			return 2;
		prot = prot_of(n > 5 && strncmp(t[5], "maxpg=", 6) ? t[5] : NULL);
		if (prot == UINT32_MAX)
			return parse_error(r, "permission '%s' must be r, w or rw", t[5]);
		v = kv(t, n, 5, "maxpg");
		if (v) {
			uint64_t s;

			if (num(r, "maxpg", v, &s))
				return 2;
			if (!s || (s & (s - 1)))
				return parse_error(r, "maxpg %s is not a power of two", v);
			maxpg = (uint32_t)__builtin_ctzll(s);
		}
		rc = ioasid_map_pgshift(r->h, a->id, x, (void *)(uintptr_t)y,
					z, prot, maxpg);
		if (!rc)
			printf("map %s 0x%" PRIx64 "+0x%" PRIx64 ": ok\n",
			       a->name, x, z);
		return rc;
	}
	if (!strcmp(c, "unmap")) {
		if (n != 4)
			return parse_error(r, "usage: unmap IOASID IOVA LEN");
		if (lookup(r, t[1], K_AS, &a) || num(r, "iova", t[2], &x) ||
		    num(r, "length", t[3], &y))
			return 2;
		rc = ioasid_unmap(r->h, a->id, x, y, &z);
		if (!rc)
			printf("unmap %s 0x%" PRIx64 "+0x%" PRIx64 ": 0x%" PRIx64 " bytes unmapped\n",
			       a->name, x, y, z);
		return rc;
	}
	if (!strcmp(c, "unmap-all")) {
		if (n != 2)
			return parse_error(r, "usage: unmap-all IOASID");
		if (lookup(r, t[1], K_AS, &a))
			return 2;
		rc = ioasid_unmap_all(r->h, a->id, &z);
		if (!rc)
			printf("unmap-all %s: 0x%" PRIx64 " bytes unmapped\n",
			       a->name, z);
		return rc;
	}
	if (!strcmp(c, "batch")) {
		uint32_t cnt = 0, fail = 0;
		bool map;

		if (n != 3 || (strcmp(t[1], "map") && strcmp(t[1], "unmap")))
			return parse_error(r, "usage: batch map|unmap IOASID, entries on the next lines, then 'end'");
		map = !strcmp(t[1], "map");
		if (lookup(r, t[2], K_AS, &a))
			return 2;
		rc = read_batch(r, map, batch_buf, &cnt);
		if (rc)
			return rc;
		rc = map ? ioasid_map_batch(r->h, a->id, batch_buf, cnt, &fail) :
			   ioasid_unmap_batch(r->h, a->id, batch_buf, cnt, &z,
					      &fail);
		if (!rc && map)
			printf("batch map %s: %u entries mapped\n", a->name, cnt);
		else if (!rc)
			printf("batch unmap %s: %u entries, 0x%" PRIx64 " bytes unmapped\n",
			       a->name, cnt, z);
		return rc;
	}
	if (!strcmp(c, "write") || !strcmp(c, "read")) {
		bool wr = c[0] == 'w';
		uint8_t *tmp;

		if (n != 4)
			return parse_error(r, wr ? "usage: write DEVICE IOVA TEXT" :
						   "usage: read DEVICE IOVA LEN");
		if (lookup(r, t[1], K_DEV, &d) || num(r, "iova", t[2], &x))
			return 2;
		if (wr) {
			rc = ioasid_swdev_access(r->h, d->id,
						 IOASID_ACCESS_WRITE, x,
						 t[3], strlen(t[3]));
			if (!rc)
				printf("write %s @0x%" PRIx64 ": %zu bytes\n",
				       d->name, x, strlen(t[3]));
			return rc;
		}
		if (num(r, "length", t[3], &y))
			return 2;
		if (!y || y > 4096)
			return parse_error(r, "read length must be 1 to 4096");
		tmp = calloc(1, y + 1);
		if (!tmp)
			return -ENOMEM;
		rc = ioasid_swdev_access(r->h, d->id, IOASID_ACCESS_READ, x,
					 tmp, y);
		if (!rc) {
			printf("read %s @0x%" PRIx64 ": \"", d->name, x);
			for (uint64_t i = 0; i < y; i++)
				putchar(isprint(tmp[i]) ? tmp[i] : '.');
			printf("\"\n");
		}
		free(tmp);
		return rc;
	}
	if (!strcmp(c, "query")) {
		char pg[128];

		if (n != 4)
			return parse_error(r, "usage: query IOASID IOVA LEN");
		if (lookup(r, t[1], K_AS, &a) || num(r, "iova", t[2], &x) ||
		    num(r, "length", t[3], &y))
			return 2;
		rc = ioasid_query_pgsize(r->h, a->id, x, y, &z, &y);
		if (!rc) {
			pgsizes_str(z, pg, sizeof(pg));
			printf("query %s @0x%" PRIx64 ": 0x%" PRIx64 " bytes mapped, IOMMU page sizes %s\n",
			       a->name, x, y, pg);
		}
		return rc;
	}
	if (!strcmp(c, "info") || !strcmp(c, "mappings")) {
		if (n != 2)
			return parse_error(r, "usage: %s IOASID", c);
		if (lookup(r, t[1], K_AS, &a))
			return 2;
		return c[0] == 'i' ? print_info(r, a) : print_mappings(r, a);
	}
	if (!strcmp(c, "stats")) {
		struct ioasid_swdev_stats s;

		if (n != 2)
			return parse_error(r, "usage: stats DEVICE");
		if (lookup(r, t[1], K_DEV, &d))
			return 2;
		rc = ioasid_swdev_stats(r->h, d->id, &s);
		if (!rc)
			printf("stats %s: map notifications %llu (%llu mappings), unmap notifications %llu (%llu mappings), IOTLB hits %llu, misses %llu, faults %llu\n",
			       d->name, (unsigned long long)s.out_map_calls,
			       (unsigned long long)s.out_map_entries,
			       (unsigned long long)s.out_unmap_calls,
			       (unsigned long long)s.out_unmap_entries,
			       (unsigned long long)s.out_iotlb_hits,
			       (unsigned long long)s.out_iotlb_misses,
			       (unsigned long long)s.out_faults);
		return rc;
	}
	return parse_error(r, "unknown command '%s' (see docs/ioasidctl.md)", c);
}

static void summary(struct run *r)
{
	unsigned long long maps = 0, bytes = 0, pinned = 0;
	unsigned int nas = 0, ndev = 0;

	for (unsigned int i = 0; i < r->nnames; i++) {
		struct ioasid_info in;

		if (r->names[i].kind == K_DEV)
			ndev++;
		if (r->names[i].kind != K_AS ||
		    ioasid_get_info(r->h, r->names[i].id, &in, NULL, 0))
			continue;
		nas++;
		maps += in.out_num_mappings;
		bytes += in.out_mapped_bytes;
		pinned = in.out_fd_pinned_pages;
	}
	printf("\nsummary: %u commands, %u expected failures seen; %u ioasid(s), %u device(s), %llu mapping(s) of 0x%llx bytes, %llu pages pinned\n",
	       r->commands, r->expected, nas, ndev, maps, bytes, pinned);
}

static int run_file(struct run *r)
{
	char line[512], *t[MAX_TOKENS];
	int rc = 0;

	while (fgets(line, sizeof(line), r->in)) {
		int n, want = 0, first = 0;

		r->line++;
		if (!strchr(line, '\n') && !feof(r->in))
			return parse_error(r, "line longer than %zu characters",
					   sizeof(line) - 2);
		n = tokenize(line, t);
		if (n < 0)
			return parse_error(r, "more than %d words on one line",
					   MAX_TOKENS);
		if (!n)
			continue;
		if (!strcmp(t[0], "expect")) {
			if (n < 3)
				return parse_error(r, "usage: expect ERRNO COMMAND ...");
			want = errno_by_name(t[1]);
			if (!want)
				return parse_error(r, "unknown errno '%s' (EINVAL, EEXIST, ...)", t[1]);
			first = 2;
		}
		r->commands++;
		rc = run_cmd(r, t + first, n - first);
		if (rc == 2 || rc == 1)
			return rc;
		if (want) {
			if (rc == -want) {
				printf("expected %s: %s\n", t[1],
				       ioasid_strerror());
				r->expected++;
				continue;
			}
			fprintf(stderr, "%s:%u: expected %s, but %s\n", r->file,
				r->line, t[1],
				rc ? ioasid_strerror() : "the command succeeded");
			return 1;
		}
		if (rc) {
			fprintf(stderr, "%s:%u: %s\n", r->file, r->line,
				ioasid_strerror());
			return 1;
		}
	}
	if (ferror(r->in))
		return parse_error(r, "read error");
	if (ensure_open(r))
		return 1;
	summary(r);
	return 0;
}

static void usage(FILE *f)
{
	fprintf(f,
		"usage: ioasidctl run [--backend embedded|kernel] SCENARIO\n"
		"       ioasidctl vdpa list | add NAME MGMTDEV | del NAME\n"
		"       ioasidctl vdpa bind NAME DRIVER | node NAME\n"
		"       ioasidctl --help\n"
		"run: runs the scenario's commands against one ioasid fd and\n"
		"prints the results; see docs/ioasidctl.md for the commands.\n"
		"vdpa: the kernel's vDPA devices over netlink (root for add/del);\n"
		"bind hands a device to a vDPA bus driver (ioasid_vdpa, vhost_vdpa),\n"
		"node prints the character device its driver made for it.\n");
}

/* ioasidctl vdpa ...: list, add and delete vDPA devices. */
static int vdpa_cmd(int argc, char **argv)
{
	struct vdpa_nl_dev d[64];
	int n, k, rc;

	if (argc == 3 && !strcmp(argv[2], "list")) {
		n = vdpa_nl_dev_list(d, 64);
		if (n < 0) {
			fprintf(stderr, "ioasidctl: vdpa list: %s\n",
				n == -ENOENT ? "this kernel has no vDPA netlink family (load the vdpa module)" :
				strerror(-n));
			return 1;
		}
		printf("%-24s %-16s %-10s %-8s %s\n", "name", "mgmtdev",
		       "device", "max_vqs", "driver");
		for (k = 0; k < n && k < 64; k++) {
			char drv[128] = "";

			vdpa_dev_driver(d[k].name, drv, sizeof(drv));
			printf("%-24s %-16s %-10s %-8u %s\n", d[k].name,
			       d[k].mgmtdev, d[k].device_id == 1 ? "net" :
			       d[k].device_id == 2 ? "block" : "other",
			       d[k].max_vqs, drv[0] ? drv : "-");
		}
		return 0;
	}
	if (argc == 4 && !strcmp(argv[2], "node")) {
		char node[300];

		rc = vdpa_dev_node(argv[3], node, sizeof(node));
		if (rc) {
			fprintf(stderr, "ioasidctl: vdpa node %s: no such device, or its driver made no character device\n",
				argv[3]);
			return 1;
		}
		printf("%s\n", node);
		return 0;
	}
	if (argc == 5 && !strcmp(argv[2], "add"))
		rc = vdpa_nl_dev_add(argv[3], argv[4]);
	else if (argc == 4 && !strcmp(argv[2], "del"))
		rc = vdpa_nl_dev_del(argv[3]);
	else if (argc == 5 && !strcmp(argv[2], "bind"))
		rc = vdpa_dev_bind(argv[3], argv[4]);
	else {
		usage(stderr);
		return 2;
	}
	if (rc) {
		fprintf(stderr, "ioasidctl: vdpa %s %s: %s\n", argv[2], argv[3],
			rc == -ENOENT && !strcmp(argv[2], "bind") ? "no such vDPA bus driver (load its module)" :
			rc == -ENOENT ? "this kernel has no vDPA netlink family (load the vdpa module)" :
			rc == -ENODEV ? "no such device or management device" :
			rc == -EEXIST ? "a device of that name exists" :
			rc == -EIO ? "the driver refused the device (see dmesg)" :
			strerror(-rc));
		return 1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	struct run r;
	int i = 2, rc;

	memset(&r, 0, sizeof(r));
	r.opts.size = sizeof(r.opts);
	r.opts.backend = ioasid_backend_from_env();
	if (r.opts.backend == IOASID_BACKEND_AUTO)
		r.opts.backend = IOASID_BACKEND_EMBEDDED;
	if (argc >= 2 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))) {
		usage(stdout);
		return 0;
	}
	if (argc >= 2 && !strcmp(argv[1], "vdpa"))
		return vdpa_cmd(argc, argv);
	if (argc < 3 || strcmp(argv[1], "run")) {
		usage(stderr);
		return 2;
	}
	if (!strcmp(argv[i], "--backend")) {
		if (argc < 5) {
			usage(stderr);
			return 2;
		}
		if (!strcmp(argv[3], "kernel")) {
			r.opts.backend = IOASID_BACKEND_KERNEL;
		} else if (strcmp(argv[3], "embedded")) {
			fprintf(stderr, "ioasidctl: backend '%s' must be embedded or kernel\n",
				argv[3]);
			return 2;
		}
		i = 4;
	}
	if (argc != i + 1) {
		usage(stderr);
		return 2;
	}
	r.file = argv[i];
	r.in = fopen(r.file, "r");
	if (!r.in) {
		fprintf(stderr, "ioasidctl: cannot open %s: %s\n", r.file,
			strerror(errno));
		return 2;
	}
	rc = run_file(&r);
	fclose(r.in);
	if (r.opened)
		ioasid_close(r.h);
	for (unsigned int k = 0; k < r.nnames; k++)
		if (r.names[k].alloc)
			munmap(r.names[k].alloc, r.names[k].alloc_len);
	return rc;
}
