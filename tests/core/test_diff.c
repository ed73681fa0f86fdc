// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/*
 * diff: random operations on the engine and on a flat-list model, compared
 * step by step.
 *
 * The model is deliberately simple and shares no code with core/: each
 * ioasid is an unsorted array of mappings, overlap is a loop over all of
 * them, pinned pages are the sum of the mappings' lengths. Operations are
 * drawn with adversarial arguments (overlaps, exact boundaries, the
 * reserved window, wrap-around, misalignment, holes in memory, unknown
 * flags) over a small IOVA space so that collisions are common.
 *
 * Every operation's return value (and unmapped bytes, and a batch's failing
 * index) is compared; the whole state (each ioasid's mapping list and
 * counters, devices, flags, pinned pages) is compared every 64 operations
 * and at the end. A failure prints the seed and the step; running
 * "test_diff SEED OPS" repeats it exactly.
 */
#include <time.h>

#include <sys/resource.h>

#include "harness.h"

#define PG		SZ_4K
#define BUF_PAGES	1024	/* model's view of the buffer; all mapped but the hole */
#define PICK_PAGES	256	/* where vaddrs are drawn */
#define HOLE_FIRST	200
#define HOLE_PAGES	8
#define MAX_MAPS	16
#define MEMLOCK_PAGES	64
#define NAS		3
#define NDEV		6
#define MMAX		(MAX_MAPS + 4)
#define GROUP_G		7

static uint64_t rng;

static uint64_t rnd(void)
{
	rng ^= rng >> 12;
	rng ^= rng << 25;
	rng ^= rng >> 27;
	return rng * 0x2545F4914F6CDD1DULL;
}

static uint64_t below(uint64_t n)
{
	return n ? rnd() % n : 0;
}

struct mattrs {
	uint64_t pgsizes, ap_start, ap_last, resv_start, resv_last;
	bool has_resv, coherent;
};

struct mmap_ent {
	uint64_t iova, len, vaddr;
	uint32_t prot;
};

struct mas {
	uint32_t id;
	bool has_attrs;
	struct mattrs attrs;
	uint32_t nmaps;
	struct mmap_ent maps[MMAX];
};

struct mdev {
	uint32_t id;
	struct mattrs attrs;
	uint32_t group;		/* 0: own group */
	int as;			/* index into model ioasids, -1 */
};

struct model {
	struct mas as[NAS];
	struct mdev dev[NDEV];
	uint8_t *buf;
};

static const struct mattrs dev_attrs[NDEV] = {
	/* d0: 4K|2M, 16 MiB, a reserved window at 8 MiB */
	{ PG | SZ_2M, 0, 16 * SZ_1M - 1, 8 * SZ_1M, 8 * SZ_1M + SZ_64K - 1,
	  true, false },
	/* d1, d2: like d0, one group of two */
	{ PG | SZ_2M, 0, 16 * SZ_1M - 1, 8 * SZ_1M, 8 * SZ_1M + SZ_64K - 1,
	  true, false },
	{ PG | SZ_2M, 0, 16 * SZ_1M - 1, 8 * SZ_1M, 8 * SZ_1M + SZ_64K - 1,
	  true, false },
	/* d3: 4K only, no reserved window */
	{ PG, 0, 16 * SZ_1M - 1, 0, 0, false, false },
	/* d4: like d0 but coherent */
	{ PG | SZ_2M, 0, 16 * SZ_1M - 1, 8 * SZ_1M, 8 * SZ_1M + SZ_64K - 1,
	  true, true },
	/* d5: 4K, the whole 64-bit space, so wrap-around is reachable */
	{ PG, 0, UINT64_MAX, 0, 0, false, false },
};

/* ---- the model ---- */

static bool m_compat(const struct mattrs *as, const struct mattrs *d)
{
	if ((as->pgsizes & d->pgsizes) != as->pgsizes)
		return false;
	if (d->ap_start > as->ap_start || d->ap_last < as->ap_last)
		return false;
	if (d->has_resv && !(as->has_resv && as->resv_start <= d->resv_start &&
			     d->resv_last <= as->resv_last))
		return false;
	if (as->coherent && !d->coherent)
		return false;
	return true;
}

static uint32_t m_ndevs(struct model *m, int a)
{
	uint32_t n = 0;

	for (int i = 0; i < NDEV; i++)
		n += m->dev[i].as == a;
	return n;
}

static bool m_viable(struct model *m, int a)
{
	uint32_t in = 0, attached_g = 0;

	for (int i = 0; i < NDEV; i++) {
		if (m->dev[i].group == GROUP_G) {
			in += m->dev[i].as == a;
			attached_g++;
		}
	}
	(void)attached_g;
	return in == 0 || in == 2;
}

static int m_ready(struct model *m, int a)
{
	if (!m_ndevs(m, a))
		return -ENODEV;
	if (!m_viable(m, a))
		return -EPERM;
	return 0;
}

/* Is the page of the buffer at this vaddr mapped in the process? */
static bool m_mapped(struct model *m, uint64_t va, uint64_t len)
{
	uint64_t b = (uintptr_t)m->buf;

	if (va < b || va + len > b + BUF_PAGES * PG || va + len < va)
		return false;
	for (uint64_t p = (va - b) / PG; p < (va - b + len) / PG; p++)
		if (p >= HOLE_FIRST && p < HOLE_FIRST + HOLE_PAGES)
			return false;
	return true;
}

/* Each mapping is charged whole (per mapping, as VFIO type1). */
static uint64_t m_pinned(struct model *m)
{
	uint64_t n = 0;

	for (int a = 0; a < NAS; a++)
		for (uint32_t i = 0; i < m->as[a].nmaps; i++)
			n += m->as[a].maps[i].len / PG;
	return n;
}

static bool m_args_bad(const struct mattrs *at, uint32_t flags, uint64_t iova,
		       uint64_t va, uint64_t len)
{
	uint64_t pg = at->pgsizes & -at->pgsizes;

	if (flags & ~(uint32_t)RW || !(flags & RW) || !len)
		return true;
	if (iova % pg || va % pg || len % pg)
		return true;
	if (iova + len - 1 < iova || va + len - 1 < va)
		return true;
	if (iova < at->ap_start || iova + len - 1 > at->ap_last)
		return true;
	if (at->has_resv && iova <= at->resv_last &&
	    at->resv_start <= iova + len - 1)
		return true;
	return false;
}

static int m_map_one(struct model *m, int a, uint32_t flags, uint64_t iova,
		     uint64_t va, uint64_t len)
{
	struct mas *s = &m->as[a];
	struct mmap_ent e = { iova, len, va, flags };

	if (m_args_bad(&s->attrs, flags, iova, va, len))
		return -EINVAL;
	for (uint32_t i = 0; i < s->nmaps; i++)
		if (iova <= s->maps[i].iova + s->maps[i].len - 1 &&
		    s->maps[i].iova <= iova + len - 1)
			return -EEXIST;
	if (s->nmaps >= MAX_MAPS)
		return -ENOSPC;
	/* The limit is checked before anything is pinned. */
	if (m_pinned(m) + len / PG > MEMLOCK_PAGES)
		return -ENOMEM;
	if (!m_mapped(m, va, len))
		return -EFAULT;
	s->maps[s->nmaps++] = e;
	return 0;
}

static int m_unmap_one(struct model *m, int a, uint32_t flags, uint64_t iova,
		       uint64_t len, uint64_t *bytes)
{
	struct mas *s = &m->as[a];
	uint64_t pg = s->attrs.pgsizes & -s->attrs.pgsizes, last;
	uint32_t i;

	if (flags & ~IOASID_UNMAP_ALL)
		return -EINVAL;
	if (flags & IOASID_UNMAP_ALL) {
		if (iova || len)
			return -EINVAL;
		iova = 0;
		last = UINT64_MAX;
	} else {
		if (!len || iova % pg || len % pg || iova + len - 1 < iova)
			return -EINVAL;
		last = iova + len - 1;
	}
	for (i = 0; i < s->nmaps; i++) {
		uint64_t ms = s->maps[i].iova, ml = ms + s->maps[i].len - 1;

		if (ms <= last && iova <= ml && (ms < iova || ml > last))
			return -EINVAL;
	}
	for (i = 0; i < s->nmaps;) {
		uint64_t ms = s->maps[i].iova;

		if (ms >= iova && ms <= last) {
			*bytes += s->maps[i].len;
			s->maps[i] = s->maps[--s->nmaps];
		} else {
			i++;
		}
	}
	return 0;
}

static void m_reset_attrs(struct model *m, int a)
{
	if (!m_ndevs(m, a) && !m->as[a].nmaps)
		m->as[a].has_attrs = false;
}

/* ---- random arguments ---- */

static uint64_t pick_iova(struct model *m, int a)
{
	struct mas *s = &m->as[a];
	uint64_t r = below(100), v;

	if (r < 40)
		v = below(48) * PG;
	else if (r < 55 && s->nmaps)
		v = s->maps[below(s->nmaps)].iova +
		    (below(3) == 0 ? PG * below(3) : 0);
	else if (r < 65)
		v = 8 * SZ_1M - PG * below(4) + PG * below(20);	/* resv */
	else if (r < 72)
		v = 16 * SZ_1M - PG * below(4);			/* top */
	else if (r < 78)
		v = UINT64_MAX - PG * below(4) + 1;		/* wrap */
	else if (r < 84)
		v = below(48) * PG + 1 + below(PG - 1);		/* misaligned */
	else if (r < 88)
		v = SZ_2M * below(8);
	else
		v = below(4096) * PG;
	return v;
}

static uint64_t pick_len(void)
{
	uint64_t r = below(100);

	if (r < 70)
		return (1 + below(8)) * PG;
	if (r < 75)
		return 0;
	if (r < 80)
		return PG + 1 + below(PG - 1);
	if (r < 85)
		return (32 + below(64)) * PG;
	if (r < 90)
		return UINT64_MAX - PG + 1;
	return (1 + below(3)) * SZ_64K;
}

static uint64_t pick_vaddr(struct model *m)
{
	uint64_t b = (uintptr_t)m->buf, r = below(100);

	if (r < 50)
		return b + below(16) * PG;	/* shared pages: charged per mapping */
	if (r < 85)
		return b + below(PICK_PAGES - 8) * PG;
	if (r < 90)
		return b + (HOLE_FIRST - 2 + below(4)) * PG;	/* hole */
	if (r < 95)
		return b + below(PICK_PAGES) * PG + 8;		/* misaligned */
	return UINT64_MAX - PG * below(2) + 1;			/* wrap */
}

static uint32_t pick_flags(void)
{
	uint64_t r = below(100);

	if (r < 60)
		return RW;
	if (r < 75)
		return IOASID_DMA_READ;
	if (r < 90)
		return IOASID_DMA_WRITE;
	if (r < 95)
		return 0;
	return RW | 0x10;
}

/* ---- comparing ---- */

static uint64_t step;
static uint64_t seed;
/* Outcomes by errno (0..133), so a run shows which paths it exercised. */
static uint64_t outcome[134];

static void count_outcome(long rc)
{
	if (rc <= 0 && -rc < 134)
		outcome[-rc]++;
}

#define FAIL(...) do { \
	diag("step %llu (seed %llu): ", (unsigned long long)step, \
	     (unsigned long long)seed); \
	diag(__VA_ARGS__); \
	diag("reproduce: test_diff %llu %llu", (unsigned long long)seed, \
	     (unsigned long long)step + 1); \
	return 1; \
} while (0)

static int cmp_maps(const void *a, const void *b)
{
	const struct mmap_ent *x = a, *y = b;

	return x->iova < y->iova ? -1 : x->iova > y->iova;
}

static int compare_state(struct fx *f, struct model *m)
{
	for (int a = 0; a < NAS; a++) {
		struct mas *s = &m->as[a];
		struct ioasid_mapping_info got[MMAX];
		struct mmap_ent want[MMAX];
		struct ioasid_info info;
		uint32_t n = MMAX, flags = 0;
		bool more;

		if (ioasid_get_info(f->h, s->id, &info, NULL, 0) ||
		    ioasid_list(f->h, s->id, 0, got, &n, &more))
			FAIL("ioasid %u: info/list failed: %s", s->id,
			     ioasid_strerror());
		memcpy(want, s->maps, s->nmaps * sizeof(want[0]));
		qsort(want, s->nmaps, sizeof(want[0]), cmp_maps);
		if (n != s->nmaps)
			FAIL("ioasid %u: %u mappings, model has %u", s->id, n,
			     s->nmaps);
		for (uint32_t i = 0; i < n; i++)
			if (got[i].iova != want[i].iova ||
			    got[i].length != want[i].len ||
			    got[i].vaddr != want[i].vaddr ||
			    got[i].flags != want[i].prot)
				FAIL("ioasid %u mapping %u: engine 0x%llx+0x%llx, model 0x%llx+0x%llx",
				     s->id, i, (unsigned long long)got[i].iova,
				     (unsigned long long)got[i].length,
				     (unsigned long long)want[i].iova,
				     (unsigned long long)want[i].len);
		if (m_ndevs(m, a))
			flags |= IOASID_INFO_ATTACHED;
		if (m_ndevs(m, a) && m_viable(m, a))
			flags |= IOASID_INFO_VIABLE;
		if (s->has_attrs)
			flags |= IOASID_INFO_HAS_ATTRS;
		if (s->has_attrs && s->attrs.coherent)
			flags |= IOASID_INFO_COHERENT;
		if (info.out_flags != flags)
			FAIL("ioasid %u: flags 0x%x, model 0x%x", s->id,
			     info.out_flags, flags);
		if (info.out_num_devices != m_ndevs(m, a))
			FAIL("ioasid %u: %u devices, model %u", s->id,
			     info.out_num_devices, m_ndevs(m, a));
		if (s->has_attrs && info.out_pgsize_bitmap != s->attrs.pgsizes)
			FAIL("ioasid %u: page sizes differ", s->id);
		if (info.out_fd_pinned_pages != m_pinned(m))
			FAIL("pinned pages %llu, model %llu",
			     (unsigned long long)info.out_fd_pinned_pages,
			     (unsigned long long)m_pinned(m));
	}
	return 0;
}

#define EXPECT(got, want, what) do { \
	if ((long)(got) != (long)(want)) \
		FAIL("%s: engine %ld (%s), model %ld (%s); engine says: %s", \
		     what, (long)(got), ioasid_errno_name((int)(got)), \
		     (long)(want), ioasid_errno_name((int)(want)), \
		     ioasid_strerror()); \
} while (0)

/* ---- operations ---- */

static int op_map(struct fx *f, struct model *m, int a, bool fill)
{
	uint64_t iova = pick_iova(m, a), len = pick_len(), va = pick_vaddr(m);
	uint32_t flags = pick_flags();

	if (fill) {
		/* Small valid maps that pile up, to reach the count limit. */
		iova = (64 + below(64)) * PG;
		len = PG;
		va = (uintptr_t)m->buf + below(16) * PG;
		flags = RW;
	}
	int want = m_ready(m, a), got;

	if (!want)
		want = m_map_one(m, a, flags, iova, va, len);
	got = ioasid_map(f->h, m->as[a].id, iova, (void *)(uintptr_t)va, len,
			 flags);
	count_outcome(got);
	EXPECT(got, want, "map");
	return 0;
}

static int op_unmap(struct fx *f, struct model *m, int a, bool all)
{
	uint64_t iova = all ? 0 : pick_iova(m, a), len = all ? 0 : pick_len();
	uint64_t want_bytes = 0, got_bytes = 0;
	int want = m_ready(m, a), got;

	if (!all && below(4) == 0 && m->as[a].nmaps) {
		/* Exactly one or more whole mappings: the success path. */
		struct mmap_ent *e = &m->as[a].maps[below(m->as[a].nmaps)];

		iova = e->iova;
		len = e->len + PG * below(3);
	}
	if (!want)
		want = m_unmap_one(m, a, all ? IOASID_UNMAP_ALL : 0, iova, len,
				   &want_bytes);
	if (!want)
		m_reset_attrs(m, a);
	if (all)
		got = ioasid_unmap_all(f->h, m->as[a].id, &got_bytes);
	else
		got = ioasid_unmap(f->h, m->as[a].id, iova, len, &got_bytes);
	count_outcome(got);
	EXPECT(got, want, all ? "unmap-all" : "unmap");
	EXPECT(got_bytes, want_bytes, "unmapped bytes");
	return 0;
}

static int op_batch(struct fx *f, struct model *m, int a, bool map)
{
	struct ioasid_dma_entry e[8];
	uint32_t n = 1 + (uint32_t)below(8), i, fail = 0, want_fail = 0;
	struct mas saved = m->as[a];
	uint64_t want_bytes = 0, got_bytes = 0;
	int want = m_ready(m, a), got;

	for (i = 0; i < n; i++) {
		if (map) {
			e[i] = ent(pick_iova(m, a),
				   (void *)(uintptr_t)pick_vaddr(m),
				   pick_len(), pick_flags());
		} else {
			e[i] = uent(pick_iova(m, a), pick_len());
			if (below(30) == 0)
				e[i].vaddr = PG;
			if (below(40) == 0) {
				e[i] = uent(0, 0);
				e[i].flags = IOASID_UNMAP_ALL;
			}
		}
	}
	if (want) {
		want_fail = UINT32_MAX;
	} else {
		for (i = 0; i < n && !want; i++) {
			if (map)
				want = m_map_one(m, a, e[i].flags, e[i].iova,
						 e[i].vaddr, e[i].length);
			else if (e[i].vaddr || e[i].max_pgshift)
				want = -EINVAL;
			else
				want = m_unmap_one(m, a, e[i].flags, e[i].iova,
						   e[i].length, &want_bytes);
			if (want)
				want_fail = i;
		}
		if (want) {
			m->as[a] = saved;
			want_bytes = 0;
		} else {
			m_reset_attrs(m, a);
		}
	}
	if (map)
		got = ioasid_map_batch(f->h, m->as[a].id, e, n, &fail);
	else
		got = ioasid_unmap_batch(f->h, m->as[a].id, e, n, &got_bytes,
					 &fail);
	count_outcome(got);
	EXPECT(got, want, map ? "map-batch" : "unmap-batch");
	if (got)
		EXPECT(fail, want_fail, "batch failing index");
	EXPECT(got_bytes, want_bytes, "batch bytes");
	return 0;
}

static int op_attach(struct fx *f, struct model *m, int d, int a)
{
	struct mdev *dv = &m->dev[d];
	struct mas *s = &m->as[a];
	int want = 0, got;

	if (dv->as >= 0)
		want = -EBUSY;
	else if (s->has_attrs && !m_compat(&s->attrs, &dv->attrs))
		want = -EINVAL;
	if (!want) {
		dv->as = a;
		if (!s->has_attrs) {
			s->attrs = dv->attrs;
			s->has_attrs = true;
		}
	}
	got = ioasid_attach(f->h, dv->id, s->id);
	count_outcome(got);
	EXPECT(got, want, "attach");
	return 0;
}

static int op_detach(struct fx *f, struct model *m, int d)
{
	struct mdev *dv = &m->dev[d];
	int want = dv->as < 0 ? -ENOENT : 0, got, a = dv->as;

	if (!want) {
		dv->as = -1;
		m_reset_attrs(m, a);
	}
	got = ioasid_detach(f->h, dv->id);
	count_outcome(got);
	EXPECT(got, want, "detach");
	return 0;
}

static int op_free(struct fx *f, struct model *m, int a)
{
	int want = m_ndevs(m, a) ? -EBUSY : 0, got;

	got = ioasid_free(f->h, m->as[a].id);
	EXPECT(got, want, "free");
	if (!got) {
		memset(&m->as[a], 0, sizeof(m->as[a]));
		got = ioasid_alloc(f->h, &m->as[a].id);
		EXPECT(got, 0, "alloc");
	}
	return 0;
}

static void diff_opts(struct ioasid_open_opts *o)
{
	o->max_mappings = MAX_MAPS;
	o->memlock_bytes = MEMLOCK_PAGES * PG;
}

static uint64_t n_ops = 100000;

/*
 * The kernel backend has the model's limits too, set the kernel's way:
 * ioasid.ko's max_mappings parameter and RLIMIT_MEMLOCK of an
 * unprivileged user, who owns the fd the test then uses (charges are per
 * user). Needs root, as the kernel suite runs it.
 */
static int become_limited_user(void)
{
	struct rlimit rl = { MEMLOCK_PAGES * PG, MEMLOCK_PAGES * PG };

	if (setrlimit(RLIMIT_MEMLOCK, &rl) || setgid(65534) || setuid(65534))
		return -errno;
	return 0;
}

static int kernel_limits(struct fx *f)
{
	CHECK_OK(kernel_reopen_limited(f, MAX_MAPS, become_limited_user));
	/* The new fd has none of the fixture's objects: make them again. */
	CHECK_OK(ioasid_alloc(f->h, &f->as));
	return new_swdev(f, SZ_4K | SZ_2M | SZ_1G, 0, APERTURE_LAST, 0, 0, 0,
			 &f->dev);
}

static int differential(struct fx *f)
{
	struct model m;
	uint64_t counts[9] = { 0 };

	if (is_kernel(f))
		CHECK_OK(kernel_limits(f));
	diag("seed %llu, %llu operations (reproduce: test_diff %llu %llu)",
	     (unsigned long long)seed, (unsigned long long)n_ops,
	     (unsigned long long)seed, (unsigned long long)n_ops);
	memset(&m, 0, sizeof(m));
	m.buf = f->buf;
	CHECK_OK(munmap(f->buf + HOLE_FIRST * PG, HOLE_PAGES * PG));
	CHECK_OK(ioasid_free(f->h, f->as));
	CHECK_OK(ioasid_swdev_destroy(f->h, f->dev));
	for (int a = 0; a < NAS; a++)
		CHECK_OK(ioasid_alloc(f->h, &m.as[a].id));
	for (int d = 0; d < NDEV; d++) {
		const struct mattrs *at = &dev_attrs[d];
		struct ioasid_iova_range r = { at->resv_start, at->resv_last };
		struct ioasid_swdev_create c = {
			.size = sizeof(c),
			.flags = at->coherent ? IOASID_SWDEV_COHERENT : 0,
			.pgsize_bitmap = at->pgsizes,
			.aperture_start = at->ap_start,
			.aperture_last = at->ap_last,
			.group_id = (d == 1 || d == 2) ? GROUP_G : 0,
			.group_size = (d == 1 || d == 2) ? 2 : 1,
			.num_resv = at->has_resv,
			.resv_uptr = (uintptr_t)&r,
		};

		m.dev[d].attrs = *at;
		m.dev[d].group = c.group_id;
		m.dev[d].as = -1;
		CHECK_OK(ioasid_swdev_create(f->h, &c, &m.dev[d].id));
	}
	for (step = 0; step < n_ops; step++) {
		uint64_t r = below(100);
		int a = (int)below(NAS), rc;

		if (r < 33) {
			rc = op_map(f, &m, a, r < 10);
			counts[0]++;
		} else if (r < 55) {
			rc = op_unmap(f, &m, a, false);
			counts[1]++;
		} else if (r < 63) {
			rc = op_batch(f, &m, a, true);
			counts[2]++;
		} else if (r < 70) {
			rc = op_batch(f, &m, a, false);
			counts[3]++;
		} else if (r < 72) {
			rc = op_unmap(f, &m, a, true);
			counts[4]++;
		} else if (r < 90) {
			rc = op_attach(f, &m, (int)below(NDEV), a);
			counts[5]++;
		} else if (r < 97) {
			rc = op_detach(f, &m, (int)below(NDEV));
			counts[6]++;
		} else {
			rc = op_free(f, &m, a);
			counts[7]++;
		}
		if (rc)
			return rc;
		if ((step & 63) == 63 && compare_state(f, &m))
			return 1;
	}
	if (compare_state(f, &m))
		return 1;
	diag("outcomes: ok %llu, EINVAL %llu, EEXIST %llu, ENOSPC %llu, EFAULT %llu, ENOMEM %llu, ENODEV %llu, EPERM %llu, EBUSY %llu, ENOENT %llu",
	     (unsigned long long)outcome[0], (unsigned long long)outcome[EINVAL],
	     (unsigned long long)outcome[EEXIST], (unsigned long long)outcome[ENOSPC],
	     (unsigned long long)outcome[EFAULT], (unsigned long long)outcome[ENOMEM],
	     (unsigned long long)outcome[ENODEV], (unsigned long long)outcome[EPERM],
	     (unsigned long long)outcome[EBUSY], (unsigned long long)outcome[ENOENT]);
	diag("seed %llu: %llu operations compared: map %llu, unmap %llu, map-batch %llu, unmap-batch %llu, unmap-all %llu, attach %llu, detach %llu, free %llu",
	     (unsigned long long)seed, (unsigned long long)n_ops,
	     (unsigned long long)counts[0], (unsigned long long)counts[1],
	     (unsigned long long)counts[2], (unsigned long long)counts[3],
	     (unsigned long long)counts[4], (unsigned long long)counts[5],
	     (unsigned long long)counts[6], (unsigned long long)counts[7]);
	return 0;
}

static const struct test tests[] = {
	{ "differential", differential, diff_opts },
};

int main(int argc, char **argv)
{
	const char *env = getenv("IOASID_DIFF_SEED");

	seed = env ? strtoull(env, NULL, 0) : (uint64_t)time(NULL) ^
						(uint64_t)getpid() << 20;
	if (argc > 1)
		seed = strtoull(argv[1], NULL, 0);
	if (argc > 2)
		n_ops = strtoull(argv[2], NULL, 0);
	if (!seed)
		seed = 1;
	rng = seed;
	return run_tests("diff", tests, 1, 1, argv);
}
