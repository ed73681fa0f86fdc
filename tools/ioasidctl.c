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
 * Commands are table rows: cmds[] for a scenario's, tools[] for the
 * tool's own (run, vdpa, help). A row holds a command's name, how many
 * words it takes, its usage and its one-line description; dispatch checks
 * the words against the row before the handler runs, and "ioasidctl help"
 * prints the rows. Errno names are libioasid's (ioasid_errno_name()).
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
#include <poll.h>
#include <pthread.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "ioasid.h"
#include "vdpa_nl.h"

#define MAX_NAMES	64
#define MAX_TOKENS	24
#define MAX_BATCH	4096

enum kind { K_AS, K_DEV, K_BUF, K_FQ };

struct name {
	char name[32];
	enum kind kind;
	uint32_t id;
	uint8_t *buf;
	uint64_t len;
	void *alloc;
	uint64_t alloc_len;
};

/*
 * The one access a scenario can leave waiting for a fault's answer
 * ("background"), in a thread of its own, until "wait" joins it.
 */
struct bg {
	bool active;
	pthread_t t;
	struct ioasid_handle *h;
	uint32_t dev, flags;
	uint64_t iova, len;
	uint8_t buf[4097];
	char what[80];
	long rc;
	char err[320];
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
	struct bg bg;
	uint32_t last_cookie;		/* of the last fault record read */
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
	return k == K_AS ? "ioasid" : k == K_DEV ? "device" :
	       k == K_FQ ? "fault queue" : "buffer";
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

/*
 * Errno names are libioasid's, the ones its error sentences end with: a
 * name is what ioasid_errno_name() gives for some errno, which it renders
 * as "E?" when its table has none.
 */
#define ERRNO_MAX	4095

static bool errno_word(const char *s)
{
	if (s[0] != 'E' || !s[1])
		return false;
	for (s++; *s; s++)
		if (!isupper((unsigned char)*s) && !isdigit((unsigned char)*s))
			return false;
	return true;
}

static int errno_by_name(const char *s)
{
	if (!errno_word(s))
		return 0;
	for (int e = 1; e <= ERRNO_MAX; e++)
		if (!strcmp(ioasid_errno_name(e), s))
			return e;
	return 0;
}

/* "EPERM, ENOENT, ...": every name libioasid has, in errno order. */
static void errno_names(char *out, size_t len)
{
	size_t n = 0;

	out[0] = '\0';
	for (int e = 1; e <= ERRNO_MAX && n < len; e++) {
		const char *s = ioasid_errno_name(e);

		if (errno_word(s))
			n += (size_t)snprintf(out + n, len - n, "%s%s",
					      n ? ", " : "", s);
	}
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

/*
 * The scenario commands. Each handler gets the line's words, t[0] its
 * name, and returns 0, a negative errno (the call failed), 1 (the backend
 * cannot be opened) or 2 (the line is malformed). The table below says
 * how many words each takes; run_cmd() checks that before the handler
 * runs.
 */
static int cmd_option(struct run *r, char **t, int n)
{
	static const char *const keys[] = { "backend=", "max_mappings=",
					    "memlock=", NULL };
	const char *v;
	uint64_t x;

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

static int cmd_buffer(struct run *r, char **t, int n)
{
	struct name *b;
	uint64_t x;

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

/* alloc NAME [nest-parent | nested=PARENT] */
static int cmd_alloc(struct run *r, char **t, int n)
{
	struct name *a, *parent = NULL;
	bool nest_parent = false;
	int rc;

	if (n == 3) {
		if (!strcmp(t[2], "nest-parent"))
			nest_parent = true;
		else if (strncmp(t[2], "nested=", 7))
			return parse_error(r, "unexpected '%s' (nest-parent or nested=PARENT)",
					   t[2]);
		else if (lookup(r, t[2] + 7, K_AS, &parent))
			return 2;
	}
	if (declare(r, t[1], K_AS, &a))
		return 2;
	rc = parent ? ioasid_alloc_nested(r->h, parent->id, &a->id) :
	     nest_parent ? ioasid_alloc_nest_parent(r->h, &a->id) :
	     ioasid_alloc(r->h, &a->id);
	if (rc) {
		r->nnames--;
		return rc;
	}
	printf("alloc %s: ioasid %u%s%s\n", a->name, a->id,
	       nest_parent ? ", a nesting parent" : parent ? ", nested on " : "",
	       parent ? parent->name : "");
	return 0;
}

/*
 * pte BUF[+OFF] VALUE [p] [w] [u] [ps]: one 8-byte page-table entry into
 * process memory (little-endian), VALUE with the named bits set: P (0),
 * R/W (1), U/S (2), PS (7). The table is read by the engine only at an
 * invalidation, as hardware reads it at a walk.
 */
static int cmd_pte(struct run *r, char **t, int n)
{
	static const struct { const char *name; uint64_t bit; } bits[] = {
		{ "p", 1ULL << 0 }, { "w", 1ULL << 1 }, { "u", 1ULL << 2 },
		{ "ps", 1ULL << 7 },
	};
	uint64_t va, v, start;
	struct name *b;

	if (vaddr_of(r, t[1], &va) || num(r, "entry", t[2], &v))
		return 2;
	for (int i = 3; i < n; i++) {
		size_t k;

		for (k = 0; k < sizeof(bits) / sizeof(bits[0]); k++)
			if (!strcmp(t[i], bits[k].name))
				break;
		if (k == sizeof(bits) / sizeof(bits[0]))
			return parse_error(r, "unexpected '%s' (bits: p, w, u, ps)",
					   t[i]);
		v |= bits[k].bit;
	}
	if (va & 7)
		return parse_error(r, "entry at '%s' is not 8-byte aligned", t[1]);
	{
		char tmp[64];

		snprintf(tmp, sizeof(tmp), "%s", t[1]);
		tmp[strcspn(tmp, "+")] = '\0';
		if (lookup(r, tmp, K_BUF, &b))
			return 2;
	}
	start = (uintptr_t)b->buf;
	if (va + 8 > start + b->len)
		return parse_error(r, "entry at '%s' ends past buffer '%s'", t[1],
				   b->name);
	memcpy((void *)(uintptr_t)va, &v, sizeof(v));
	printf("pte %s: 0x%016" PRIx64 "\n", t[1], v);
	return 0;
}

/* bind IOASID ROOT [width=48|57] [wpe] [supervisor] */
static int cmd_bind(struct run *r, char **t, int n)
{
	uint32_t width = 48, flags = 0;
	struct name *a;
	uint64_t root;
	int rc;

	if (lookup(r, t[1], K_AS, &a) || num(r, "root", t[2], &root))
		return 2;
	for (int i = 3; i < n; i++) {
		if (!strcmp(t[i], "wpe"))
			flags |= IOASID_PGTBL_WPE;
		else if (!strcmp(t[i], "supervisor"))
			flags |= IOASID_PGTBL_SUPERVISOR;
		else if (!strcmp(t[i], "width=48") || !strcmp(t[i], "width=57"))
			width = (uint32_t)atoi(t[i] + 6);
		else
			return parse_error(r, "unexpected '%s' (width=48|57, wpe, supervisor)",
					   t[i]);
	}
	rc = ioasid_pgtbl_bind(r->h, a->id, IOASID_PGTBL_X86_64, width, root,
			       flags);
	if (!rc)
		printf("bind %s: x86-64 table of %u bits at parent IOVA 0x%" PRIx64 "\n",
		       a->name, width, root);
	return rc;
}

static int cmd_unbind(struct run *r, char **t, int n)
{
	struct name *a;
	int rc;

	(void)n;
	if (lookup(r, t[1], K_AS, &a))
		return 2;
	rc = ioasid_pgtbl_unbind(r->h, a->id);
	if (!rc)
		printf("unbind %s\n", a->name);
	return rc;
}

/* invalidate IOASID [IOVA PAGES [leaf]]: without a range, everything. */
static int cmd_invalidate(struct run *r, char **t, int n)
{
	struct ioasid_inv_entry e = { 0 };
	uint32_t handled = 0;
	uint64_t addr, pages;
	struct name *a;
	int rc;

	if (lookup(r, t[1], K_AS, &a))
		return 2;
	if (n == 3)
		return parse_error(r, "usage: invalidate IOASID [IOVA PAGES [leaf]]");
	if (n == 2) {
		rc = ioasid_invalidate_all(r->h, a->id);
		if (!rc)
			printf("invalidate %s: everything\n", a->name);
		return rc;
	}
	if (num(r, "iova", t[2], &addr) || num(r, "pages", t[3], &pages))
		return 2;
	e.addr = addr;
	e.npages = pages;
	if (n == 5 && strcmp(t[4], "leaf"))
		return parse_error(r, "unexpected '%s' (leaf)", t[4]);
	if (n == 5)
		e.flags = IOASID_INV_LEAF;
	rc = ioasid_invalidate(r->h, a->id, &e, 1, &handled);
	if (!rc)
		printf("invalidate %s: 0x%" PRIx64 ", %" PRIu64 " pages\n", a->name,
		       addr, pages);
	return rc;
}

static int cmd_device(struct run *r, char **t, int n)
{
	static const char *const keys[] = { "pgsizes=", "aperture=", "resv=",
					    "group=", "coherent", NULL };
	struct ioasid_iova_range resv[IOASID_SWDEV_MAX_RESV];
	struct ioasid_swdev_create sc = { .size = sizeof(sc) };
	struct name *d;
	const char *v;
	uint64_t x, y;
	int rc;

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

static int cmd_attach(struct run *r, char **t, int n)
{
	struct name *a, *d;
	int rc;

	if (lookup(r, t[1], K_DEV, &d) || lookup(r, t[2], K_AS, &a))
		return 2;
	rc = ioasid_attach(r->h, d->id, a->id);
	if (!rc)
		printf("attach %s -> %s: ok\n", d->name, a->name);
	return rc;
}

static int cmd_detach(struct run *r, char **t, int n)
{
	struct name *d;
	int rc;

	if (lookup(r, t[1], K_DEV, &d))
		return 2;
	rc = ioasid_detach(r->h, d->id);
	if (!rc)
		printf("detach %s: ok\n", d->name);
	return rc;
}

static int cmd_destroy(struct run *r, char **t, int n)
{
	struct name *d;
	int rc;

	if (lookup(r, t[1], K_DEV, &d))
		return 2;
	rc = ioasid_swdev_destroy(r->h, d->id);
	if (!rc)
		printf("destroy %s: ok\n", d->name);
	return rc;
}

static int cmd_free(struct run *r, char **t, int n)
{
	struct name *a;
	int rc;

	if (lookup(r, t[1], K_AS, &a))
		return 2;
	rc = ioasid_free(r->h, a->id);
	if (!rc)
		printf("free %s: ok\n", a->name);
	return rc;
}

/* map IOASID IOVA BUF[+OFF] LEN, then a permission and maxpg=, any order. */
static int cmd_map(struct run *r, char **t, int n)
{
	const char *perm = NULL, *v = NULL;
	uint32_t prot, maxpg = 0;
	struct name *a;
	uint64_t x, y, z;
	int rc;

	if (lookup(r, t[1], K_AS, &a) || num(r, "iova", t[2], &x) ||
	    vaddr_of(r, t[3], &y) || num(r, "length", t[4], &z))
		return 2;
	for (int i = 5; i < n; i++) {
		bool is_maxpg = !strncmp(t[i], "maxpg=", 6);

		if (is_maxpg ? v != NULL : perm != NULL)
			return parse_error(r, "unexpected '%s' (one permission and one maxpg= at most)",
					   t[i]);
		if (is_maxpg)
			v = t[i] + 6;
		else
			perm = t[i];
	}
	prot = prot_of(perm);
	if (prot == UINT32_MAX)
		return parse_error(r, "permission '%s' must be r, w or rw", perm);
	if (v) {
		uint64_t s;

		if (num(r, "maxpg", v, &s))
			return 2;
		if (!s || (s & (s - 1)))
			return parse_error(r, "maxpg %s is not a power of two", v);
		maxpg = (uint32_t)__builtin_ctzll(s);
	}
	rc = ioasid_map_pgshift(r->h, a->id, x, (void *)(uintptr_t)y, z, prot,
				maxpg);
	if (!rc)
		printf("map %s 0x%" PRIx64 "+0x%" PRIx64 ": ok\n", a->name, x,
		       z);
	return rc;
}

static int cmd_unmap(struct run *r, char **t, int n)
{
	struct name *a;
	uint64_t x, y, z;
	int rc;

	if (lookup(r, t[1], K_AS, &a) || num(r, "iova", t[2], &x) ||
	    num(r, "length", t[3], &y))
		return 2;
	rc = ioasid_unmap(r->h, a->id, x, y, &z);
	if (!rc)
		printf("unmap %s 0x%" PRIx64 "+0x%" PRIx64 ": 0x%" PRIx64 " bytes unmapped\n",
		       a->name, x, y, z);
	return rc;
}

static int cmd_unmap_all(struct run *r, char **t, int n)
{
	struct name *a;
	uint64_t z;
	int rc;

	if (lookup(r, t[1], K_AS, &a))
		return 2;
	rc = ioasid_unmap_all(r->h, a->id, &z);
	if (!rc)
		printf("unmap-all %s: 0x%" PRIx64 " bytes unmapped\n", a->name,
		       z);
	return rc;
}

static int cmd_batch(struct run *r, char **t, int n)
{
	static struct ioasid_dma_entry batch_buf[MAX_BATCH];
	uint32_t cnt = 0, fail = 0;
	struct name *a;
	uint64_t z;
	bool map;
	int rc;

	if (strcmp(t[1], "map") && strcmp(t[1], "unmap"))
		return parse_error(r, "batch '%s' must be map or unmap", t[1]);
	map = !strcmp(t[1], "map");
	if (lookup(r, t[2], K_AS, &a))
		return 2;
	rc = read_batch(r, map, batch_buf, &cnt);
	if (rc)
		return rc;
	rc = map ? ioasid_map_batch(r->h, a->id, batch_buf, cnt, &fail) :
		   ioasid_unmap_batch(r->h, a->id, batch_buf, cnt, &z, &fail);
	if (!rc && map)
		printf("batch map %s: %u entries mapped\n", a->name, cnt);
	else if (!rc)
		printf("batch unmap %s: %u entries, 0x%" PRIx64 " bytes unmapped\n",
		       a->name, cnt, z);
	return rc;
}

static int cmd_write(struct run *r, char **t, int n)
{
	struct name *d;
	uint64_t x;
	int rc;

	if (lookup(r, t[1], K_DEV, &d) || num(r, "iova", t[2], &x))
		return 2;
	rc = ioasid_swdev_access(r->h, d->id, IOASID_ACCESS_WRITE, x, t[3],
				 strlen(t[3]));
	if (!rc)
		printf("write %s @0x%" PRIx64 ": %zu bytes\n", d->name, x,
		       strlen(t[3]));
	return rc;
}

static int cmd_read(struct run *r, char **t, int n)
{
	struct name *d;
	uint8_t *tmp;
	uint64_t x, y;
	int rc;

	if (lookup(r, t[1], K_DEV, &d) || num(r, "iova", t[2], &x) ||
	    num(r, "length", t[3], &y))
		return 2;
	if (!y || y > 4096)
		return parse_error(r, "read length must be 1 to 4096");
	tmp = calloc(1, y + 1);
	if (!tmp)
		return -ENOMEM;
	rc = ioasid_swdev_access(r->h, d->id, IOASID_ACCESS_READ, x, tmp, y);
	if (!rc) {
		printf("read %s @0x%" PRIx64 ": \"", d->name, x);
		for (uint64_t i = 0; i < y; i++)
			putchar(isprint(tmp[i]) ? tmp[i] : '.');
		printf("\"\n");
	}
	free(tmp);
	return rc;
}

static int cmd_query(struct run *r, char **t, int n)
{
	struct name *a;
	uint64_t x, y, z;
	char pg[128];
	int rc;

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

static int cmd_info(struct run *r, char **t, int n)
{
	struct name *a;

	if (lookup(r, t[1], K_AS, &a))
		return 2;
	return print_info(r, a);
}

static int cmd_mappings(struct run *r, char **t, int n)
{
	struct name *a;

	if (lookup(r, t[1], K_AS, &a))
		return 2;
	return print_mappings(r, a);
}

static int cmd_stats(struct run *r, char **t, int n)
{
	struct ioasid_swdev_stats s;
	struct name *d;
	int rc;

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

/* faultq NAME [timeout=MS] [depth=N]: a fault queue; its fd is the id. */
static int cmd_faultq(struct run *r, char **t, int n)
{
	static const char *const keys[] = { "timeout=", "depth=", NULL };
	uint64_t timeout = 0, depth = 0;
	struct name *q;
	int fd, rc;

	if (check_keys(r, t, n, 2, keys) ||
	    (kv(t, n, 2, "timeout") &&
	     num(r, "timeout", kv(t, n, 2, "timeout"), &timeout)) ||
	    (kv(t, n, 2, "depth") &&
	     num(r, "depth", kv(t, n, 2, "depth"), &depth)))
		return 2;
	if (timeout > UINT32_MAX || depth > UINT32_MAX)
		return parse_error(r, "timeout and depth must fit 32 bits");
	if (find(r, t[1]))
		return parse_error(r, "'%s' is already declared", t[1]);
	rc = ioasid_faultq_alloc(r->h, (uint32_t)timeout, (uint32_t)depth, &fd);
	if (rc)
		return rc;
	if (declare(r, t[1], K_FQ, &q)) {
		ioasid_faultq_close(r->h, fd);
		return 2;
	}
	q->id = (uint32_t)fd;
	printf("faultq %s: timeout %" PRIu64 " ms, depth %" PRIu64 "\n", q->name,
	       timeout ? timeout : IOASID_FAULTQ_TIMEOUT_DEFAULT,
	       depth ? depth : IOASID_FAULTQ_DEPTH_MAX);
	return 0;
}

/* faultq-attach IOASID FAULTQ, faultq-detach IOASID */
static int cmd_faultq_attach(struct run *r, char **t, int n)
{
	struct name *a, *q;
	int rc;

	if (lookup(r, t[1], K_AS, &a) || lookup(r, t[2], K_FQ, &q))
		return 2;
	rc = ioasid_faultq_attach(r->h, a->id, (int)q->id);
	if (!rc)
		printf("faultq-attach %s: faults go to %s\n", a->name, q->name);
	return rc;
}

static int cmd_faultq_detach(struct run *r, char **t, int n)
{
	struct name *a;
	int rc;

	if (lookup(r, t[1], K_AS, &a))
		return 2;
	rc = ioasid_faultq_detach(r->h, a->id);
	if (!rc)
		printf("faultq-detach %s\n", a->name);
	return rc;
}

static const char *name_of(struct run *r, enum kind k, uint32_t id)
{
	for (unsigned int i = 0; i < r->nnames; i++)
		if (r->names[i].kind == k && r->names[i].id == id)
			return r->names[i].name;
	return "?";
}

/*
 * faults FAULTQ: wait (up to 5 s) for records, read what is there and
 * print one line each; "respond FAULTQ last" answers the last one.
 */
static int cmd_faults(struct run *r, char **t, int n)
{
	struct ioasid_fault recs[16];
	struct name *q;
	struct pollfd p;
	long got;

	if (lookup(r, t[1], K_FQ, &q))
		return 2;
	p.fd = (int)q->id;
	p.events = POLLIN;
	if (poll(&p, 1, 5000) != 1)
		return -EAGAIN;
	got = ioasid_faultq_read(r->h, (int)q->id, recs, sizeof(recs));
	if (got < 0)
		return (int)got;
	for (long i = 0; i < got / (long)sizeof(recs[0]); i++) {
		const struct ioasid_fault *f = &recs[i];

		printf("fault %s: cookie %u device %s ioasid %s @0x%" PRIx64 " length %u %s%s\n",
		       q->name, f->cookie, name_of(r, K_DEV, f->dev_id),
		       name_of(r, K_AS, f->ioasid), (uint64_t)f->addr,
		       f->length,
		       f->perm & IOASID_FAULT_PERM_WRITE ? "write" : "read",
		       f->flags & IOASID_FAULT_LAST_PAGE ? " (last of group)" :
							   "");
		r->last_cookie = f->cookie;
	}
	return 0;
}

/* respond FAULTQ COOKIE|last success|invalid */
static int cmd_respond(struct run *r, char **t, int n)
{
	struct ioasid_fault_response resp;
	struct name *q;
	uint64_t c;
	long rc;

	if (lookup(r, t[1], K_FQ, &q))
		return 2;
	if (!strcmp(t[2], "last"))
		c = r->last_cookie;
	else if (num(r, "cookie", t[2], &c))
		return 2;
	if (c > UINT32_MAX)
		return parse_error(r, "cookie must fit 32 bits");
	if (!strcmp(t[3], "success"))
		resp.code = IOASID_FAULT_RESP_SUCCESS;
	else if (!strcmp(t[3], "invalid"))
		resp.code = IOASID_FAULT_RESP_INVALID;
	else
		return parse_error(r, "answer '%s' must be success or invalid",
				   t[3]);
	resp.cookie = (uint32_t)c;
	rc = ioasid_faultq_respond(r->h, (int)q->id, &resp, sizeof(resp));
	if (rc < 0)
		return (int)rc;
	printf("respond %s: cookie %u %s\n", q->name, resp.cookie, t[3]);
	return 0;
}

static void *bg_run(void *arg)
{
	struct bg *b = arg;

	b->rc = ioasid_swdev_access(b->h, b->dev, b->flags, b->iova, b->buf,
				    b->len);
	if (b->rc)
		snprintf(b->err, sizeof(b->err), "%s", ioasid_strerror());
	return NULL;
}

/*
 * background write DEVICE IOVA TEXT, background read DEVICE IOVA LEN:
 * start the access in a thread, so that it may wait for a fault's answer
 * while the next commands read the fault, fix the ioasid and respond.
 */
static int cmd_background(struct run *r, char **t, int n)
{
	struct bg *b = &r->bg;
	bool wr = !strcmp(t[1], "write");
	struct name *d;
	uint64_t x, y;

	if (!wr && strcmp(t[1], "read"))
		return parse_error(r, "usage: background write DEVICE IOVA TEXT | read DEVICE IOVA LEN");
	if (b->active)
		return parse_error(r, "an access is already in the background ('wait' for it first)");
	if (lookup(r, t[2], K_DEV, &d) || num(r, "iova", t[3], &x))
		return 2;
	if (wr) {
		y = strlen(t[4]);
		if (y > 4096)
			return parse_error(r, "text longer than 4096 bytes");
	} else if (num(r, "length", t[4], &y)) {
		return 2;
	} else if (!y || y > 4096) {
		return parse_error(r, "read length must be 1 to 4096");
	}
	memset(b, 0, sizeof(*b));
	b->h = r->h;
	b->dev = d->id;
	b->flags = wr ? IOASID_ACCESS_WRITE : IOASID_ACCESS_READ;
	b->iova = x;
	b->len = y;
	if (wr)
		memcpy(b->buf, t[4], y);
	snprintf(b->what, sizeof(b->what), "%s %s @0x%" PRIx64, t[1], d->name,
		 x);
	if (pthread_create(&b->t, NULL, bg_run, b))
		return -ENOMEM;
	b->active = true;
	printf("background %s: started\n", b->what);
	return 0;
}

/* wait [ERRNO]: join the background access; it must succeed, or fail so. */
static int cmd_wait(struct run *r, char **t, int n)
{
	struct bg *b = &r->bg;
	int want = 0;

	if (n > 1 && !(want = errno_by_name(t[1])))
		return parse_error(r, "unknown errno '%s'", t[1]);
	if (!b->active)
		return parse_error(r, "no access in the background");
	pthread_join(b->t, NULL);
	b->active = false;
	if (b->rc == -want && want) {
		printf("wait %s: expected %s: %s\n", b->what, t[1], b->err);
		r->expected++;
		return 0;
	}
	if (b->rc) {
		fprintf(stderr, "%s:%u: %s: %s\n", r->file, r->line, b->what,
			b->err);
		return 1;
	}
	if (want) {
		fprintf(stderr, "%s:%u: expected %s, but %s succeeded\n",
			r->file, r->line, t[1], b->what);
		return 1;
	}
	if (b->flags == IOASID_ACCESS_READ) {
		printf("wait %s: \"", b->what);
		for (uint64_t i = 0; i < b->len; i++)
			putchar(isprint(b->buf[i]) ? b->buf[i] : '.');
		printf("\"\n");
	} else {
		printf("wait %s: %" PRIu64 " bytes\n", b->what, b->len);
	}
	return 0;
}

static int run_cmd(struct run *r, char **t, int n);

/* expect ERRNO COMMAND...: the command must fail with that errno. */
static int cmd_expect(struct run *r, char **t, int n)
{
	int want = errno_by_name(t[1]);
	int rc;

	if (!want) {
		char names[512];

		errno_names(names, sizeof(names));
		return parse_error(r, "unknown errno '%s' (one of %s)", t[1],
				   names);
	}
	if (!strcmp(t[2], "expect"))
		return parse_error(r, "'expect' cannot take another 'expect'");
	rc = run_cmd(r, t + 2, n - 2);
	if (rc == 2 || rc == 1)
		return rc;
	if (rc == -want) {
		printf("expected %s: %s\n", t[1], ioasid_strerror());
		r->expected++;
		return 0;
	}
	fprintf(stderr, "%s:%u: expected %s, but %s\n", r->file, r->line,
		t[1], rc ? ioasid_strerror() : "the command succeeded");
	return 1;
}

#define ANY	MAX_TOKENS

/*
 * Every scenario command, in the order "ioasidctl help" lists them: its
 * arguments (min to max words after the name, and how usage spells
 * them), one line on what it does, and whether it runs before the fd is
 * opened (option, and expect, whose command decides).
 */
static const struct cmd {
	const char *name;
	const char *args;
	const char *what;
	int min, max;
	bool before_open;
	int (*run)(struct run *r, char **t, int n);
} cmds[] = {
	{ "option", "[backend=embedded|kernel] [max_mappings=N] [memlock=BYTES]",
	  "before any other command: open options", 0, ANY, true, cmd_option },
	{ "buffer", "NAME SIZE", "process memory, 2 MiB aligned",
	  2, 2, false, cmd_buffer },
	{ "device", "NAME [pgsizes=4K,2M,...] [aperture=START-LAST] [resv=START-LAST]... [group=ID/SIZE] [coherent]",
	  "a software device (default 4K,2M,1G, 48-bit aperture)",
	  1, ANY, false, cmd_device },
	{ "alloc", "NAME [nest-parent|nested=PARENT]",
	  "an ioasid; a nesting parent, or one nested on PARENT",
	  1, 2, false, cmd_alloc },
	{ "pte", "BUF[+OFF] VALUE [p] [w] [u] [ps]",
	  "write an 8-byte page-table entry into BUF (bits OR'ed in)",
	  2, 6, false, cmd_pte },
	{ "bind", "IOASID ROOT [width=48|57] [wpe] [supervisor]",
	  "bind an x86-64 table (root: a parent IOVA) to a nested ioasid",
	  2, 5, false, cmd_bind },
	{ "unbind", "IOASID", "unbind a nested ioasid's table",
	  1, 1, false, cmd_unbind },
	{ "invalidate", "IOASID [IOVA PAGES [leaf]]",
	  "walk the table again (all, or a range): the shadow follows",
	  1, 4, false, cmd_invalidate },
	{ "attach", "DEVICE IOASID", "attach a device to an ioasid",
	  2, 2, false, cmd_attach },
	{ "detach", "DEVICE", "detach a device from its ioasid",
	  1, 1, false, cmd_detach },
	{ "destroy", "DEVICE", "destroy a software device",
	  1, 1, false, cmd_destroy },
	{ "map", "IOASID IOVA BUF[+OFF] LEN [r|w|rw] [maxpg=SIZE]",
	  "default rw; maxpg= caps the IOMMU page size",
	  4, 6, false, cmd_map },
	{ "unmap", "IOASID IOVA LEN", "unmap a range", 3, 3, false, cmd_unmap },
	{ "unmap-all", "IOASID", "unmap every mapping",
	  1, 1, false, cmd_unmap_all },
	{ "batch", "map|unmap IOASID",
	  "all or nothing; entries on the next lines, then 'end'",
	  2, 2, false, cmd_batch },
	{ "write", "DEVICE IOVA TEXT", "DMA: the device writes TEXT to memory",
	  3, 3, false, cmd_write },
	{ "read", "DEVICE IOVA LEN", "DMA: the device reads LEN bytes; prints them",
	  3, 3, false, cmd_read },
	{ "query", "IOASID IOVA LEN", "mapped bytes and IOMMU page sizes used",
	  3, 3, false, cmd_query },
	{ "info", "IOASID", "a table: devices, page sizes, mappings, IOVA",
	  1, 1, false, cmd_info },
	{ "mappings", "IOASID", "a table of the mappings",
	  1, 1, false, cmd_mappings },
	{ "stats", "DEVICE", "notifications, IOTLB hits and misses, faults",
	  1, 1, false, cmd_stats },
	{ "free", "IOASID", "free an ioasid", 1, 1, false, cmd_free },
	{ "faultq", "NAME [timeout=MS] [depth=N]",
	  "an I/O page fault queue (default 1000 ms, 256 records)",
	  1, 3, false, cmd_faultq },
	{ "faultq-attach", "IOASID FAULTQ",
	  "the ioasid's faults go to the queue", 2, 2, false,
	  cmd_faultq_attach },
	{ "faultq-detach", "IOASID", "the ioasid's faults fault again",
	  1, 1, false, cmd_faultq_detach },
	{ "background", "write DEVICE IOVA TEXT | read DEVICE IOVA LEN",
	  "start an access in a thread (it may wait for a fault's answer)",
	  4, 4, false, cmd_background },
	{ "faults", "FAULTQ", "wait for fault records and print them",
	  1, 1, false, cmd_faults },
	{ "respond", "FAULTQ COOKIE|last success|invalid",
	  "answer a fault", 3, 3, false, cmd_respond },
	{ "wait", "[ERRNO]",
	  "join the background access: it must succeed (or fail with ERRNO)",
	  0, 1, false, cmd_wait },
	{ "expect", "ERRNO COMMAND...",
	  "the command must fail with ERRNO; the run goes on",
	  2, ANY, true, cmd_expect },
};

#define NCMDS	(sizeof(cmds) / sizeof(cmds[0]))

/* Run one command. Returns 0, a negative errno (the call failed), 1 or 2. */
static int run_cmd(struct run *r, char **t, int n)
{
	const struct cmd *c = NULL;

	for (size_t i = 0; i < NCMDS && !c; i++)
		if (!strcmp(cmds[i].name, t[0]))
			c = &cmds[i];
	if (!c)
		return parse_error(r, "unknown command '%s' ('ioasidctl help' lists the commands)",
				   t[0]);
	if (n - 1 < c->min || n - 1 > c->max)
		return parse_error(r, "usage: %s %s", c->name, c->args);
	if (!c->before_open && ensure_open(r))
		return 1;
	return c->run(r, t, n);
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
		int n;

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
		r->commands++;
		rc = run_cmd(r, t, n);
		if (rc == 2 || rc == 1)
			return rc;
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

/*
 * The tool's own commands: a first word, for vdpa a second, then the
 * arguments (min to max words, and how usage spells them).
 */
struct tool {
	const char *name;
	const char *sub;
	const char *args;
	const char *what;
	int min, max;
	int (*run)(const struct tool *tc, int argc, char **argv);
};

static int tool_usage(const struct tool *tc)
{
	fprintf(stderr, "usage: ioasidctl %s%s%s%s%s\n", tc->name,
		tc->sub ? " " : "", tc->sub ? tc->sub : "",
		*tc->args ? " " : "", tc->args);
	return 2;
}

/* run [--backend embedded|kernel] SCENARIO */
static int tool_run(const struct tool *tc, int argc, char **argv)
{
	struct run r;
	int rc;

	memset(&r, 0, sizeof(r));
	r.opts.size = sizeof(r.opts);
	r.opts.backend = ioasid_backend_from_env();
	if (r.opts.backend == IOASID_BACKEND_AUTO)
		r.opts.backend = IOASID_BACKEND_EMBEDDED;
	if (!strcmp(argv[0], "--backend")) {
		if (argc != 3)
			return tool_usage(tc);
		if (!strcmp(argv[1], "kernel")) {
			r.opts.backend = IOASID_BACKEND_KERNEL;
		} else if (strcmp(argv[1], "embedded")) {
			fprintf(stderr, "ioasidctl: backend '%s' must be embedded or kernel\n",
				argv[1]);
			return 2;
		}
		argv += 2;
		argc -= 2;
	}
	if (argc != 1)
		return tool_usage(tc);
	r.file = argv[0];
	r.in = fopen(r.file, "r");
	if (!r.in) {
		fprintf(stderr, "ioasidctl: cannot open %s: %s\n", r.file,
			strerror(errno));
		return 2;
	}
	rc = run_file(&r);
	fclose(r.in);
	/* Closing the queues ends a background access that still waits. */
	for (unsigned int k = 0; k < r.nnames; k++)
		if (r.names[k].kind == K_FQ)
			ioasid_faultq_close(r.h, (int)r.names[k].id);
	if (r.bg.active)
		pthread_join(r.bg.t, NULL);
	if (r.opened)
		ioasid_close(r.h);
	for (unsigned int k = 0; k < r.nnames; k++)
		if (r.names[k].alloc)
			munmap(r.names[k].alloc, r.names[k].alloc_len);
	return rc;
}

static const char *const no_vdpa =
	"this kernel has no vDPA netlink family (load the vdpa module)";

static int vdpa_failed(const struct tool *tc, const char *dev, int rc)
{
	bool bind = !strcmp(tc->sub, "bind");

	fprintf(stderr, "ioasidctl: vdpa %s %s: %s\n", tc->sub, dev,
		rc == -ENOENT && bind ? "no such vDPA bus driver (load its module)" :
		rc == -ENOENT ? no_vdpa :
		rc == -ENODEV ? "no such device or management device" :
		rc == -EEXIST ? "a device of that name exists" :
		rc == -EIO ? "the driver refused the device (see dmesg)" :
		strerror(-rc));
	return 1;
}

static int tool_vdpa_list(const struct tool *tc, int argc, char **argv)
{
	struct vdpa_nl_dev d[64];
	int n;

	n = vdpa_nl_dev_list(d, 64);
	if (n < 0) {
		fprintf(stderr, "ioasidctl: vdpa list: %s\n",
			n == -ENOENT ? no_vdpa : strerror(-n));
		return 1;
	}
	printf("%-24s %-16s %-10s %-8s %s\n", "name", "mgmtdev", "device",
	       "max_vqs", "driver");
	for (int k = 0; k < n && k < 64; k++) {
		char drv[128] = "";

		vdpa_dev_driver(d[k].name, drv, sizeof(drv));
		printf("%-24s %-16s %-10s %-8u %s\n", d[k].name, d[k].mgmtdev,
		       d[k].device_id == 1 ? "net" :
		       d[k].device_id == 2 ? "block" : "other",
		       d[k].max_vqs, drv[0] ? drv : "-");
	}
	return 0;
}

static int tool_vdpa_add(const struct tool *tc, int argc, char **argv)
{
	int rc = vdpa_nl_dev_add(argv[0], argv[1]);

	return rc ? vdpa_failed(tc, argv[0], rc) : 0;
}

static int tool_vdpa_del(const struct tool *tc, int argc, char **argv)
{
	int rc = vdpa_nl_dev_del(argv[0]);

	return rc ? vdpa_failed(tc, argv[0], rc) : 0;
}

static int tool_vdpa_bind(const struct tool *tc, int argc, char **argv)
{
	int rc = vdpa_dev_bind(argv[0], argv[1]);

	return rc ? vdpa_failed(tc, argv[0], rc) : 0;
}

static int tool_vdpa_node(const struct tool *tc, int argc, char **argv)
{
	char node[300];

	if (vdpa_dev_node(argv[0], node, sizeof(node))) {
		fprintf(stderr, "ioasidctl: vdpa node %s: no such device, or its driver made no character device\n",
			argv[0]);
		return 1;
	}
	printf("%s\n", node);
	return 0;
}

/* ", "KEY":"VALUE" onto @req; false if VALUE needs an escape (none exist). */
static bool netd_member(char *req, size_t size, const char *key,
			const char *val)
{
	size_t n = strlen(req);

	if (strpbrk(val, "\"\\"))
		return false;
	for (const char *c = val; *c; c++)
		if ((unsigned char)*c < 0x20 || (unsigned char)*c > 0x7e)
			return false;
	return (size_t)snprintf(req + n, size - n, ",\"%s\":\"%s\"", key,
				val) < size - n;
}

/*
 * The request for @tc with the arguments after --control PATH: stats,
 * ports, reset take none; add takes --vhost SPEC or --eth SPEC, then
 * optionally --xconnect PEER or --bridge BRIDGE; remove takes NAME.
 * Its length, or -1 for bad arguments (the usage said) or -2 for a value
 * the protocol cannot carry (said).
 */
static int netd_request(const struct tool *tc, int argc, char **argv,
			char *req, size_t size)
{
	bool ok = true;
	int len;

	snprintf(req, size, "{\"cmd\":\"%s\"", tc->sub);
	if (!strcmp(tc->sub, "add")) {
		if ((strcmp(argv[0], "--vhost") && strcmp(argv[0], "--eth")) ||
		    (argc == 4 && strcmp(argv[2], "--xconnect") &&
		     strcmp(argv[2], "--bridge")) || argc == 3)
			return -1;
		ok = netd_member(req, size, argv[0] + 2, argv[1]) &&
		     (argc < 4 || netd_member(req, size, argv[2] + 2, argv[3]));
	} else if (!strcmp(tc->sub, "remove")) {
		ok = netd_member(req, size, "port", argv[0]);
	}
	if (!ok) {
		fprintf(stderr, "ioasidctl: netd %s: a value must be printable ASCII without '\"' or '\\' (the protocol has no escapes), and fit in a request\n",
			tc->sub);
		return -2;
	}
	len = (int)strlen(req);
	if ((size_t)len + 3 > size)
		return -2;
	memcpy(req + len, "}\n", 3);
	return len + 2;
}

/*
 * netd stats|ports|reset|add|remove --control PATH ...: one request to
 * ioasid-netd's control socket (docs/netd.md), its one-line JSON reply
 * on stdout; exit 1 if the reply is an error or does not come within 5 s.
 */
static int tool_netd(const struct tool *tc, int argc, char **argv)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	char req[512], reply[65536];
	size_t n = 0;
	int s, len;

	if (strcmp(argv[0], "--control"))
		return tool_usage(tc);
	len = netd_request(tc, argc - 2, argv + 2, req, sizeof(req));
	if (len == -1)
		return tool_usage(tc);
	if (len < 0)
		return 2;
	if (strlen(argv[1]) >= sizeof(sa.sun_path)) {
		fprintf(stderr, "ioasidctl: netd %s: control socket path too long\n",
			tc->sub);
		return 2;
	}
	memcpy(sa.sun_path, argv[1], strlen(argv[1]));
	s = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (s < 0 || connect(s, (struct sockaddr *)&sa, sizeof(sa))) {
		fprintf(stderr, "ioasidctl: netd %s: cannot reach %s: %s\n",
			tc->sub, argv[1], strerror(errno));
		if (s >= 0)
			close(s);
		return 1;
	}
	if (send(s, req, (size_t)len, MSG_NOSIGNAL) != len) {
		fprintf(stderr, "ioasidctl: netd %s: %s\n", tc->sub, strerror(errno));
		close(s);
		return 1;
	}
	while (n + 1 < sizeof(reply)) {
		struct pollfd p = { .fd = s, .events = POLLIN };
		ssize_t r;

		if (poll(&p, 1, 5000) != 1)
			break;
		r = recv(s, reply + n, sizeof(reply) - 1 - n, 0);
		if (r <= 0)
			break;
		n += (size_t)r;
		if (memchr(reply, '\n', n))
			break;
	}
	close(s);
	reply[n] = '\0';
	if (!memchr(reply, '\n', n)) {
		fprintf(stderr, "ioasidctl: netd %s: no reply from %s\n", tc->sub,
			argv[1]);
		return 1;
	}
	fputs(reply, stdout);
	return strncmp(reply, "{\"error\"", 8) ? 0 : 1;
}

static void usage(FILE *f);

static int tool_help(const struct tool *tc, int argc, char **argv)
{
	usage(stdout);
	return 0;
}

static const struct tool tools[] = {
	{ "run", NULL, "[--backend embedded|kernel] SCENARIO",
	  "run a scenario against one ioasid fd (commands below)",
	  1, 3, tool_run },
	{ "vdpa", "list", "", "the kernel's vDPA devices and their drivers",
	  0, 0, tool_vdpa_list },
	{ "vdpa", "add", "NAME MGMTDEV",
	  "add a vDPA device, e.g. MGMTDEV vduse (root)",
	  2, 2, tool_vdpa_add },
	{ "vdpa", "del", "NAME", "delete a vDPA device (root)",
	  1, 1, tool_vdpa_del },
	{ "vdpa", "bind", "NAME DRIVER",
	  "hand a device to ioasid_vdpa or vhost_vdpa (root)",
	  2, 2, tool_vdpa_bind },
	{ "vdpa", "node", "NAME",
	  "the character device its driver made for it",
	  1, 1, tool_vdpa_node },
	{ "netd", "stats", "--control PATH",
	  "ioasid-netd's per-port counters, as JSON", 2, 2, tool_netd },
	{ "netd", "ports", "--control PATH",
	  "ioasid-netd's ports and what they connect, as JSON", 2, 2, tool_netd },
	{ "netd", "reset", "--control PATH",
	  "zero ioasid-netd's per-port counters", 2, 2, tool_netd },
	{ "netd", "add", "--control PATH --vhost|--eth SPEC [--xconnect PEER|--bridge BR]",
	  "add a port to a running ioasid-netd (SPEC as its --vhost/--eth)",
	  4, 6, tool_netd },
	{ "netd", "remove", "--control PATH NAME",
	  "remove a port from a running ioasid-netd", 3, 3, tool_netd },
	{ "help", NULL, "", "this text (also --help, -h)", 0, 0, tool_help },
};

#define NTOOLS	(sizeof(tools) / sizeof(tools[0]))
#define HELP_COL	24

/* "  NAME ARGS  what", the description on a line of its own if need be. */
static void help_row(FILE *f, const char *name, const char *sub,
		     const char *args, const char *what)
{
	char s[160];
	int len = snprintf(s, sizeof(s), "%s%s%s%s%s", name, sub ? " " : "",
			   sub ? sub : "", *args ? " " : "", args);

	if (len < HELP_COL)
		fprintf(f, "  %-*s %s\n", HELP_COL, s, what);
	else
		fprintf(f, "  %s\n  %-*s %s\n", s, HELP_COL, "", what);
}

static void usage(FILE *f)
{
	fprintf(f, "usage: ioasidctl COMMAND [ARGUMENTS]\n");
	for (size_t i = 0; i < NTOOLS; i++)
		help_row(f, tools[i].name, tools[i].sub, tools[i].args,
			 tools[i].what);
	fprintf(f, "\nScenario commands, one a line ('#' starts a comment; docs/ioasidctl.md):\n");
	for (size_t i = 0; i < NCMDS; i++)
		help_row(f, cmds[i].name, NULL, cmds[i].args, cmds[i].what);
}

int main(int argc, char **argv)
{
	const struct tool *tc = NULL;
	bool named = false;
	int skip;

	if (argc < 2) {
		fprintf(stderr, "usage: ioasidctl COMMAND [ARGUMENTS] ('ioasidctl help' lists the commands)\n");
		return 2;
	}
	if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
		usage(stdout);
		return 0;
	}
	for (size_t i = 0; i < NTOOLS && !tc; i++) {
		if (strcmp(tools[i].name, argv[1]))
			continue;
		named = true;
		if (!tools[i].sub || (argc > 2 && !strcmp(tools[i].sub, argv[2])))
			tc = &tools[i];
	}
	if (!tc && named && argc > 2) {
		fprintf(stderr, "ioasidctl: unknown command '%s %s' ('ioasidctl help' lists the commands)\n",
			argv[1], argv[2]);
		return 2;
	}
	if (!tc) {
		fprintf(stderr, named ? "ioasidctl: '%s' needs a command ('ioasidctl help' lists them)\n" :
					"ioasidctl: unknown command '%s' ('ioasidctl help' lists the commands)\n",
			argv[1]);
		return 2;
	}
	skip = tc->sub ? 3 : 2;
	if (argc - skip < tc->min || argc - skip > tc->max)
		return tool_usage(tc);
	return tc->run(tc, argc - skip, argv + skip);
}
