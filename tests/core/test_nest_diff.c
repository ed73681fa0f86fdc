// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/* nest_diff: random nesting operations against a reference that walks the table from scratch. */
#include <time.h>

#include "harness.h"

/*
 * The scene: a nesting parent whose IOVAs [0, 16 MiB) are 64 slots of
 * 256 KiB, each mapped or not on its own (a parent mapping each), onto
 * the fixture's buffer at the same offset; a pool of 32 table pages in
 * slot 60; a nested ioasid with a software device and a table whose root
 * is pool page 0.
 *
 * Operations: table writes (pointers into the pool, leaves at the three
 * levels, malformed entries, loops, garbage, clears), parent map and
 * unmap of slots, invalidations (a page, a range, a 2 MiB block, all),
 * unbind and rebind with other flags, device reads and writes.
 *
 * The model: for each of 272 probe pages, the set of translations the
 * engine may show. An invalidation that succeeds fixes the probes in its
 * range to the reference walk's result (checked at once); for the others
 * it adds that result, since the engine may widen the range. A table
 * write or a parent map adds nothing: the engine must keep showing what
 * it showed. Whatever the engine shows must also be valid now: a
 * translation into a parent slot that was unmapped, or unmapped and
 * mapped again, must be gone (parent unmap withdraws it), and its access
 * must be within the slot's. The reference (ref_walk) is written apart
 * from the engine's walker: per address, from the root, through this
 * test's own record of the parent.
 */
#define SLOT		(256 * 1024ULL)
#define NSLOTS		64U
#define WINDOW		(NSLOTS * SLOT)
#define POOL		(60 * SLOT)	/* parent IOVA of pool page 0 */
#define NPOOL		32U
#define NPROBES		(2 * 8 * 17)
#define MAXV		16U
#define MAX_MAPS	4096U
#define DEFAULT_OPS	100000UL

#define P_	(1ULL << 0)
#define RW_	(1ULL << 1)
#define US_	(1ULL << 2)
#define PS_	(1ULL << 7)
#define ADDR_	0x000ffffffffff000ULL

struct tv {
	bool present;
	uint64_t piova;			/* the probe page's parent IOVA */
	uint32_t prot;
	uint32_t gen;			/* of the parent slot it points into */
};

struct model {
	struct fx *f;
	uint32_t parent, child, cdev;
	uint32_t slot_prot[NSLOTS];	/* 0: unmapped */
	uint32_t slot_gen[NSLOTS];
	uint32_t gen;
	bool bound;
	uint32_t flags;			/* bind flags */
	uint64_t probe[NPROBES];
	struct tv allowed[NPROBES][MAXV];
	uint32_t nallowed[NPROBES];
	bool loose[NPROBES];		/* too many candidates: unchecked */
	struct ioasid_mapping_info *shadow;
	uint32_t nshadow;
	uint64_t rng;
	/* Counters for the summary. */
	unsigned long checks, exact, accesses, enospc, loose_n, present;
};

static uint64_t rnd(struct model *m)
{
	m->rng ^= m->rng << 13;
	m->rng ^= m->rng >> 7;
	m->rng ^= m->rng << 17;
	return m->rng;
}

static unsigned int pick(struct model *m, unsigned int n)
{
	return (unsigned int)(rnd(m) % n);
}

static uint64_t *ram64(struct model *m, uint64_t piova)
{
	return (uint64_t *)(m->f->buf + piova);
}

/* The reference: one address, from the root, through the model's parent. */
static bool ref_read(struct model *m, uint64_t table, unsigned int idx,
		     uint64_t *pte)
{
	unsigned int s = (unsigned int)(table / SLOT);

	if (table >= WINDOW || (table & 4095) || !m->slot_prot[s] ||
	    !(m->slot_prot[s] & IOASID_DMA_READ))
		return false;
	*pte = *ram64(m, table + idx * 8ULL);
	return true;
}

static struct tv ref_walk(struct model *m, uint64_t iova)
{
	struct tv none = { 0 }, t = { 0 };
	bool user = !(m->flags & IOASID_PGTBL_SUPERVISOR);
	bool wp = user || (m->flags & IOASID_PGTBL_WPE), w = true;
	uint64_t table = POOL, pte = 0, out = 0;
	int level;
	unsigned int s;

	if (!m->bound)
		return none;
	for (level = 4; level >= 1; level--) {
		unsigned int shift = 12 + 9 * (level - 1);
		uint64_t size = 1ULL << shift;

		if (!ref_read(m, table, (iova >> shift) & 511, &pte) ||
		    !(pte & P_) || (user && !(pte & US_)))
			return none;
		if (wp && !(pte & RW_))
			w = false;
		if (level == 4 && (pte & PS_))
			return none;
		if (level == 1 || ((pte & PS_) && level <= 3)) {
			uint64_t rsv = level == 2 ? 0x1fe000ULL :
				       level == 3 ? 0x3fffe000ULL : 0;

			if (pte & rsv)
				return none;
			out = (pte & ADDR_ & ~(size - 1)) + (iova & (size - 1));
			break;
		}
		table = pte & ADDR_;
	}
	out &= ~4095ULL;
	if (out >= WINDOW)
		return none;
	s = (unsigned int)(out / SLOT);
	t.prot = (IOASID_DMA_READ | (w ? IOASID_DMA_WRITE : 0)) &
		 m->slot_prot[s];
	if (!t.prot)
		return none;
	t.present = true;
	t.piova = out;
	t.gen = m->slot_gen[s];
	return t;
}

static bool tv_eq(const struct tv *a, const struct tv *b)
{
	if (a->present != b->present)
		return false;
	return !a->present || (a->piova == b->piova && a->prot == b->prot &&
			       a->gen == b->gen);
}

/* What the engine shows for a probe, from the listed shadow. */
static struct tv engine_tv(struct model *m, uint64_t iova)
{
	struct tv t = { 0 };
	uint32_t lo = 0, hi = m->nshadow;

	while (lo < hi) {
		uint32_t mid = (lo + hi) / 2;

		if (m->shadow[mid].iova <= iova)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo && iova - m->shadow[lo - 1].iova < m->shadow[lo - 1].length) {
		struct ioasid_mapping_info *e = &m->shadow[lo - 1];
		uint64_t piova = e->vaddr - (uintptr_t)m->f->buf +
				 (iova - e->iova);

		t.present = true;
		t.piova = piova;
		t.prot = e->flags;
		t.gen = piova < WINDOW ? m->slot_gen[piova / SLOT] : ~0U;
	}
	return t;
}

static int refresh(struct model *m)
{
	uint64_t start = 0;
	bool more = true;

	m->nshadow = 0;
	while (more) {
		uint32_t cnt = 256;

		CHECK(m->nshadow + cnt <= MAX_MAPS + 256);
		CHECK_OK(ioasid_list(m->f->h, m->child, start,
				     m->shadow + m->nshadow, &cnt, &more));
		if (!cnt)
			break;
		m->nshadow += cnt;
		start = m->shadow[m->nshadow - 1].iova +
			m->shadow[m->nshadow - 1].length;
	}
	return 0;
}

static void allow_only(struct model *m, unsigned int p, const struct tv *t)
{
	m->allowed[p][0] = *t;
	m->nallowed[p] = 1;
	m->loose[p] = false;
}

static void allow_add(struct model *m, unsigned int p, const struct tv *t)
{
	uint32_t i;

	for (i = 0; i < m->nallowed[p]; i++)
		if (tv_eq(&m->allowed[p][i], t))
			return;
	if (m->nallowed[p] == MAXV) {
		m->loose[p] = true;
		return;
	}
	m->allowed[p][m->nallowed[p]++] = *t;
}

/* Every probe: what the engine shows is allowed and valid now. */
static int check_all(struct model *m)
{
	unsigned int p, i;

	CHECK_OK(refresh(m));
	for (p = 0; p < NPROBES; p++) {
		struct tv e = engine_tv(m, m->probe[p]);
		bool ok = false;

		m->checks++;
		if (e.present) {
			m->present++;
			unsigned int s = (unsigned int)(e.piova / SLOT);

			if (e.piova >= WINDOW || !m->slot_prot[s] ||
			    (e.prot & ~m->slot_prot[s])) {
				diag("probe 0x%" PRIx64 " translates to 0x%" PRIx64
				     " prot %u, which the parent does not map so",
				     m->probe[p], e.piova, e.prot);
				return 1;
			}
		}
		if (m->loose[p]) {
			m->loose_n++;
			continue;
		}
		for (i = 0; i < m->nallowed[p] && !ok; i++)
			ok = tv_eq(&m->allowed[p][i], &e);
		if (!ok) {
			struct tv r = ref_walk(m, m->probe[p]);

			diag("probe 0x%" PRIx64 ": engine %s 0x%" PRIx64
			     " prot %u gen %u; reference now %s 0x%" PRIx64
			     " prot %u; %u allowed", m->probe[p],
			     e.present ? "maps" : "absent", e.piova, e.prot,
			     e.gen, r.present ? "maps" : "absent", r.piova,
			     r.prot, m->nallowed[p]);
			return 1;
		}
	}
	return 0;
}

static bool in_range(uint64_t iova, uint64_t start, uint64_t npages)
{
	return npages == ~0ULL ? true :
	       iova >= start && iova - start < npages * SZ_4K;
}

static int op_invalidate(struct model *m)
{
	struct ioasid_inv_entry e = { .flags = pick(m, 2) ? IOASID_INV_LEAF : 0 };
	unsigned int k = pick(m, 10), p;
	uint32_t handled;
	int rc;

	if (k < 4) {
		e.addr = m->probe[pick(m, NPROBES)];
		e.npages = 1;
	} else if (k < 7) {
		e.addr = m->probe[pick(m, NPROBES)] & ~(SZ_2M - 1);
		e.npages = 1 + pick(m, 1024);
	} else if (k < 8) {
		e.addr = m->probe[pick(m, NPROBES)] & ~(SZ_1G - 1);
		e.npages = SZ_1G / SZ_4K;
	} else {
		e.addr = 0;
		e.npages = ~0ULL;
	}
	rc = ioasid_invalidate(m->f->h, m->child, &e, 1, &handled);
	if (!m->bound) {
		CHECK_ERR(rc, -EINVAL);
		return 0;
	}
	if (rc == -ENOSPC)
		m->enospc++;
	else
		CHECK_OK(rc);
	CHECK_EQ(handled, rc ? 0 : 1);
	for (p = 0; p < NPROBES; p++) {
		struct tv r = ref_walk(m, m->probe[p]), none = { 0 };

		if (!rc && in_range(m->probe[p], e.addr, e.npages)) {
			allow_only(m, p, &r);
			m->exact++;
		} else {
			allow_add(m, p, &r);
			if (rc)
				allow_add(m, p, &none);
		}
	}
	return check_all(m);
}

static uint64_t flags_of(struct model *m)
{
	uint64_t r = rnd(m), f = P_;

	if (r % 100 < 85)
		f |= RW_;
	if ((r >> 8) % 100 < 92)
		f |= US_;
	if ((r >> 16) % 100 < 3)
		f &= ~P_;
	return f | ((r >> 24) & 0x60);		/* A, D: no effect */
}

/*
 * The pool by intent: page 0 the root, 1-3 PDPTs, 4-11 PDs, 12-31 PTs.
 * Entries mostly follow the intent (so that most probes translate), and
 * sometimes break it: pointers to any pool page (aliases and loops),
 * pointers outside, leaves outside, reserved bits, PS at level 4,
 * garbage, clears.
 */
static uint64_t pool_page(unsigned int i)
{
	return POOL + i * SZ_4K;
}

static uint64_t leaf_4k(struct model *m)
{
	return (pick(m, 20) ? pick(m, WINDOW / SZ_4K) * SZ_4K :
			      WINDOW + pick(m, 64) * SZ_4K) | flags_of(m);
}

static uint64_t leaf_2m(struct model *m)
{
	return (pick(m, WINDOW / SZ_2M + 1) * SZ_2M) | PS_ | flags_of(m) |
	       (pick(m, 20) ? 0 : 1ULL << (13 + pick(m, 8)));
}

static uint64_t leaf_1g(struct model *m)
{
	return (pick(m, 4) ? 0 : SZ_1G) | PS_ | flags_of(m) |
	       (pick(m, 10) ? 0 : 1ULL << (13 + pick(m, 17)));
}

static uint64_t random_pte(struct model *m, unsigned int page)
{
	unsigned int k = pick(m, 100);

	if (k < 8)
		return 0;
	if (k < 11)
		return pool_page(pick(m, NPOOL)) | flags_of(m);	/* alias */
	if (k < 12)
		return (WINDOW + pick(m, 8) * SZ_4K) | flags_of(m);
	if (k < 13)
		return rnd(m);					/* garbage */
	if (page == 0)
		return pool_page(1 + pick(m, 3)) | flags_of(m) |
		       (pick(m, 30) ? 0 : PS_);		/* PS: reserved */
	if (page < 4)
		return k < 80 ? pool_page(4 + pick(m, 8)) | flags_of(m) :
				leaf_1g(m);
	if (page < 12)
		return k < 65 ? pool_page(12 + pick(m, 20)) | flags_of(m) :
				leaf_2m(m);
	return pick(m, 30) ? leaf_4k(m) : leaf_2m(m);	/* PS at level 1: PAT */
}

static const unsigned int idx_set[] = { 0, 1, 2, 3, 4, 5, 6, 7, 8, 9,
					10, 11, 12, 13, 14, 15, 300 };

static void op_table_write(struct model *m)
{
	unsigned int page = pick(m, NPOOL), idx;

	if (page == 0)
		idx = pick(m, 2);
	else if (page < 4)
		idx = pick(m, 8) ? pick(m, 2) : pick(m, 512);
	else if (page < 12)
		idx = pick(m, 8);
	else
		idx = idx_set[pick(m, sizeof(idx_set) / sizeof(idx_set[0]))];
	*ram64(m, pool_page(page) + idx * 8ULL) = random_pte(m, page);
}

/* A parent unmap of slot @s: what pointed into it must be absent now. */
static void withdrawn(struct model *m, unsigned int s)
{
	struct tv none = { 0 };
	unsigned int p, i, n;

	for (p = 0; p < NPROBES; p++) {
		bool hit = false;

		for (i = n = 0; i < m->nallowed[p]; i++) {
			struct tv *t = &m->allowed[p][i];

			if (t->present && t->piova / SLOT == s)
				hit = true;
			else
				m->allowed[p][n++] = *t;
		}
		m->nallowed[p] = n;
		if (hit)
			allow_add(m, p, &none);
	}
}

static int op_parent(struct model *m)
{
	unsigned int s = pick(m, NSLOTS);
	uint32_t prots[] = { RW, RW, RW, IOASID_DMA_READ, IOASID_DMA_WRITE };

	/* The pool's slot: rarely unmapped, and mapped back soon. */
	if (s == POOL / SLOT && m->slot_prot[s] && pick(m, 8))
		s = (s + 1) % NSLOTS;
	if (!(m->slot_prot[POOL / SLOT] & IOASID_DMA_READ) && pick(m, 4) == 0)
		s = POOL / SLOT;
	if (m->slot_prot[s]) {
		CHECK_OK(ioasid_unmap(m->f->h, m->parent, s * SLOT, SLOT,
				      NULL));
		m->slot_prot[s] = 0;
		m->slot_gen[s] = ++m->gen;
		withdrawn(m, s);
		return check_all(m);
	}
	m->slot_prot[s] = s == POOL / SLOT ? RW : prots[pick(m, 5)];
	m->slot_gen[s] = ++m->gen;
	CHECK_OK(ioasid_map(m->f->h, m->parent, s * SLOT, m->f->buf + s * SLOT,
			    SLOT, m->slot_prot[s]));
	return 0;
}

static int op_rebind(struct model *m)
{
	unsigned int p;
	struct tv none = { 0 };

	if (m->bound) {
		CHECK_OK(ioasid_pgtbl_unbind(m->f->h, m->child));
		m->bound = false;
		for (p = 0; p < NPROBES; p++)
			allow_only(m, p, &none);
		CHECK_OK(check_all(m));
	}
	m->flags = pick(m, 3) ? 0 : (uint32_t)pick(m, 2) * IOASID_PGTBL_WPE |
				    IOASID_PGTBL_SUPERVISOR;
	if (!(m->slot_prot[POOL / SLOT] & IOASID_DMA_READ)) {
		CHECK_ERR(ioasid_pgtbl_bind(m->f->h, m->child,
					    IOASID_PGTBL_X86_64, 48, POOL,
					    m->flags), -EINVAL);
		return 0;
	}
	CHECK_OK(ioasid_pgtbl_bind(m->f->h, m->child, IOASID_PGTBL_X86_64, 48,
				   POOL, m->flags));
	m->bound = true;
	return check_all(m);
}

/* A device access agrees with the listed shadow (the IOTLB is right). */
static int op_access(struct model *m)
{
	unsigned int p = pick(m, NPROBES);
	uint64_t off = pick(m, 512) * 8ULL, v = 0, iova = m->probe[p] + off;
	struct tv e = engine_tv(m, m->probe[p]);
	int rc;

	m->accesses++;
	rc = ioasid_swdev_access(m->f->h, m->cdev, IOASID_ACCESS_READ, iova,
				 &v, 8);
	if (e.present && (e.prot & IOASID_DMA_READ)) {
		CHECK_OK(rc);
		CHECK_EQ(v, *ram64(m, e.piova + off));
	} else {
		CHECK_ERR(rc, -EFAULT);
		v = *ram64(m, e.present ? e.piova + off : 0);
	}
	rc = ioasid_swdev_access(m->f->h, m->cdev, IOASID_ACCESS_WRITE, iova,
				 &v, 8);
	CHECK_ERR(rc, e.present && (e.prot & IOASID_DMA_WRITE) ? 0 : -EFAULT);
	return 0;
}

static void more_mappings(struct ioasid_open_opts *o)
{
	o->max_mappings = MAX_MAPS;
}

static int differential(struct fx *f)
{
	static struct model m;
	const char *env = getenv("IOASID_SEED");
	const char *nenv = getenv("IOASID_NEST_OPS");
	unsigned long ops = nenv ? strtoul(nenv, NULL, 0) : DEFAULT_OPS, i;
	uint64_t seed;
	unsigned int s, a, b, c, p = 0;
	struct ioasid_info info;

	memset(&m, 0, sizeof(m));
	m.f = f;
	seed = env ? strtoull(env, NULL, 0) : (uint64_t)time(NULL) * 2654435761ULL;
	if (!seed)
		seed = 1;
	m.rng = seed;
	diag("seed %" PRIu64 " (IOASID_SEED=%" PRIu64 " repeats this run), %lu operations",
	     seed, seed, ops);
	m.shadow = calloc(MAX_MAPS + 512, sizeof(*m.shadow));
	CHECK(m.shadow);
	/* Words tagged with their own address, so a read tells where. */
	for (i = 0; i < WINDOW / 8; i++)
		((uint64_t *)f->buf)[i] = i * 8 | 0xa500000000000000ULL;
	memset(f->buf + POOL, 0, NPOOL * SZ_4K);
	CHECK_OK(ioasid_alloc_nest_parent(f->h, &m.parent));
	CHECK_OK(ioasid_attach(f->h, f->dev, m.parent));
	for (s = 0; s < NSLOTS; s++) {
		if (s != POOL / SLOT && pick(&m, 4) == 0)
			continue;
		m.slot_prot[s] = s == POOL / SLOT ? RW : (pick(&m, 5) ? RW :
						 IOASID_DMA_READ);
		m.slot_gen[s] = ++m.gen;
		CHECK_OK(ioasid_map(f->h, m.parent, s * SLOT, f->buf + s * SLOT,
				    SLOT, m.slot_prot[s]));
	}
	CHECK_OK(ioasid_alloc_nested(f->h, m.parent, &m.child));
	CHECK_OK(new_swdev(f, SZ_4K | SZ_2M | SZ_1G, 0, APERTURE_LAST, 0, 0, 1,
			   &m.cdev));
	CHECK_OK(ioasid_attach(f->h, m.cdev, m.child));
	CHECK_OK(ioasid_pgtbl_bind(f->h, m.child, IOASID_PGTBL_X86_64, 48, POOL,
				   0));
	m.bound = true;
	for (a = 0; a < 2; a++)
		for (b = 0; b < 8; b++)
			for (c = 0; c < 17; c++) {
				m.probe[p] = ((uint64_t)a << 30) |
					     ((uint64_t)b << 21) |
					     ((uint64_t)(c < 16 ? c : 300) << 12);
				m.nallowed[p++] = 1;	/* absent */
			}
	/* A start that translates: root -> pdpt -> pd -> pt. */
	*ram64(&m, POOL) = (POOL + SZ_4K) | P_ | RW_ | US_;
	*ram64(&m, POOL + SZ_4K) = (POOL + 2 * SZ_4K) | P_ | RW_ | US_;
	*ram64(&m, POOL + 2 * SZ_4K) = (POOL + 3 * SZ_4K) | P_ | RW_ | US_;
	for (i = 0; i < ops; i++) {
		unsigned int k = pick(&m, 100);
		int rc = 0;

		if (k < 35)
			op_table_write(&m);
		else if (k < 60)
			rc = op_invalidate(&m);
		else if (k < 76)
			rc = op_parent(&m);
		else if (k < 77)
			rc = op_rebind(&m);
		else if (k < 97)
			rc = op_access(&m);
		else
			rc = check_all(&m);
		if (rc) {
			diag("operation %lu (kind %u) failed; seed %" PRIu64,
			     i, k, seed);
			free(m.shadow);
			return 1;
		}
	}
	CHECK_OK(ioasid_get_info(f->h, m.child, &info, NULL, 0));
	diag("%lu probe checks (%lu translated, %lu exact after their "
	     "invalidation, %lu unchecked: too many candidates), %lu device "
	     "accesses, %lu ENOSPC; shadow now %u entries", m.checks,
	     m.present, m.exact, m.loose_n, m.accesses, m.enospc,
	     info.out_num_mappings);
	/*
	 * A run that translated little would prove little. Runs of 5,000
	 * operations (the kernel suite's) translate 12-20% of their probes
	 * (60 seeds), but seed 4768488539957001216 only 9.3%, which failed
	 * a 10% bound: a coverage floor, not a defect, so 5%.
	 */
	CHECK(m.exact > ops / 10);
	CHECK(m.present > m.checks / 20);
	free(m.shadow);
	return 0;
}

static const struct test tests[] = {
	{ "differential", differential, more_mappings },
};

int main(int argc, char **argv)
{
	return run_tests("nest_diff", tests, sizeof(tests) / sizeof(tests[0]),
			 argc, argv);
}
