// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/* pgtable: the x86-64 (VT-d first stage) walker on tables in a flat buffer. */
#include <inttypes.h>
#include <stdio.h>

#include <linux/ioasid.h>

#include "pgtable_x86.h"

/* Table memory: NPAGES pages at output address BASE. */
#define BASE	0x40000000ULL
#define NPAGES	64U

static uint64_t mem[NPAGES][512];

static bool flat_read(void *arg, u64 table, u32 index, u64 *pte)
{
	(void)arg;
	if (table < BASE || table >= BASE + NPAGES * 4096ULL || (table & 4095))
		return false;
	*pte = mem[(table - BASE) / 4096][index];
	return true;
}

static const struct x86pt_reader rd = { .read = flat_read };

static int failures, count;

#define CHECK(cond) do { \
	if (!(cond)) { \
		printf("# %s:%d: CHECK(%s) failed\n", __FILE__, __LINE__, \
		       #cond); \
		return 1; \
	} \
} while (0)

static u64 pg(unsigned int i)
{
	return BASE + i * 4096ULL;
}

#define T	(X86PT_P | X86PT_RW | X86PT_US)

struct collect {
	struct x86pt_leaf l[64];
	unsigned int n;
};

static int collect_emit(void *arg, const struct x86pt_leaf *l)
{
	struct collect *c = arg;

	if (c->n < 64)
		c->l[c->n] = *l;
	c->n++;
	return 0;
}

static int walk(const struct x86pt *pt, u64 start, u64 last,
		struct collect *c)
{
	u64 budget = 1 << 20;

	c->n = 0;
	return x86pt_walk(pt, &rd, start, last, &budget, collect_emit, c);
}

static bool tr(const struct x86pt *pt, u64 iova, u64 *out, u32 *prot)
{
	struct x86pt_leaf l;

	if (x86pt_translate(pt, &rd, iova, &l))
		return false;
	*out = l.out + (iova - l.iova);
	*prot = l.prot;
	return true;
}

/* A 4-level chain root(0) -> pdpt(1) -> pd(2) -> pt(3) for IOVA 0. */
static struct x86pt chain4(void)
{
	struct x86pt pt = { .root = pg(0), .levels = 4 };

	memset(mem, 0, sizeof(mem));
	mem[0][0] = pg(1) | T;
	mem[1][0] = pg(2) | T;
	mem[2][0] = pg(3) | T;
	return pt;
}

static int leaves_each_level(void)
{
	struct x86pt pt = chain4();
	struct collect c;
	u64 out;
	u32 prot;

	mem[3][5] = 0x123000ULL | T;			/* 4 KiB at 0x5000 */
	mem[2][1] = 0x40000000ULL | T | X86PT_PS;	/* 2 MiB at 2 MiB */
	mem[1][1] = 0x80000000ULL | T | X86PT_PS;	/* 1 GiB at 1 GiB */
	CHECK(!walk(&pt, 0, (1ULL << 31) - 1, &c));
	CHECK(c.n == 3);
	CHECK(c.l[0].iova == 0x5000 && c.l[0].shift == 12 &&
	      c.l[0].out == 0x123000);
	CHECK(c.l[1].iova == 0x200000 && c.l[1].shift == 21 &&
	      c.l[1].out == 0x40000000);
	CHECK(c.l[2].iova == 0x40000000 && c.l[2].shift == 30 &&
	      c.l[2].out == 0x80000000);
	CHECK(tr(&pt, 0x5abc, &out, &prot) && out == 0x123abc);
	CHECK(tr(&pt, 0x3fffff, &out, &prot) && out == 0x401fffff);
	CHECK(tr(&pt, 0x7fffffff, &out, &prot) && out == 0xbfffffff);
	CHECK(!tr(&pt, 0x6000, &out, &prot));
	/* A range that starts inside a leaf reports it whole. */
	CHECK(!walk(&pt, 0x300000, 0x300fff, &c));
	CHECK(c.n == 1 && c.l[0].iova == 0x200000);
	/* 5 levels: one more table on top. */
	mem[4][0] = pg(0) | T;
	pt.root = pg(4);
	pt.levels = 5;
	CHECK(tr(&pt, 0x5abc, &out, &prot) && out == 0x123abc);
	CHECK(!walk(&pt, 0, (1ULL << 31) - 1, &c) && c.n == 3);
	return 0;
}

static int permissions(void)
{
	struct x86pt pt = chain4();
	u64 out;
	u32 prot;

	mem[3][0] = 0x1000 | T;
	mem[3][1] = 0x2000 | X86PT_P | X86PT_US;	/* read-only leaf */
	mem[3][2] = 0x3000 | X86PT_P | X86PT_RW;	/* supervisor page */
	CHECK(tr(&pt, 0, &out, &prot) &&
	      prot == (IOASID_DMA_READ | IOASID_DMA_WRITE));
	CHECK(tr(&pt, 0x1000, &out, &prot) && prot == IOASID_DMA_READ);
	CHECK(!tr(&pt, 0x2000, &out, &prot));		/* user: U/S needed */
	/* R/W clear in the middle: read-only below it. */
	mem[1][0] &= ~X86PT_RW;
	CHECK(tr(&pt, 0, &out, &prot) && prot == IOASID_DMA_READ);
	/* Supervisor requests: U/S ignored; R/W only with WPE. */
	pt.flags = X86PT_F_SUPERVISOR;
	CHECK(tr(&pt, 0x2000, &out, &prot) &&
	      prot == (IOASID_DMA_READ | IOASID_DMA_WRITE));
	CHECK(tr(&pt, 0x1000, &out, &prot) &&
	      prot == (IOASID_DMA_READ | IOASID_DMA_WRITE));
	pt.flags |= X86PT_F_WPE;
	CHECK(tr(&pt, 0x1000, &out, &prot) && prot == IOASID_DMA_READ);
	CHECK(tr(&pt, 0x2000, &out, &prot) && prot == IOASID_DMA_READ);
	/* A, D, XD, PAT and ignored bits change nothing. */
	pt.flags = 0;
	mem[1][0] |= X86PT_RW;
	mem[3][0] |= X86PT_A | X86PT_D | X86PT_XD | (1ULL << 9) | (1ULL << 52);
	CHECK(tr(&pt, 0x10, &out, &prot) && out == 0x1010 &&
	      prot == (IOASID_DMA_READ | IOASID_DMA_WRITE));
	return 0;
}

static int malformed(void)
{
	struct x86pt pt = chain4();
	struct collect c;
	u64 out;
	u32 prot;

	mem[2][1] = 0x40000000ULL | T | X86PT_PS | (1ULL << 13);
	mem[2][2] = 0x40000000ULL | T | X86PT_PS | (1ULL << 12);  /* PAT */
	mem[1][1] = 0x80000000ULL | T | X86PT_PS | (1ULL << 20);
	mem[0][1] = pg(1) | T | X86PT_PS;		/* PS at level 4 */
	mem[2][3] = 0x7000000000ULL | T;		/* table outside */
	CHECK(!tr(&pt, 0x200000, &out, &prot));
	CHECK(tr(&pt, 0x400000, &out, &prot) && out == 0x40000000);
	CHECK(!tr(&pt, 0x40000000, &out, &prot));
	CHECK(!tr(&pt, 1ULL << 39, &out, &prot));
	CHECK(!tr(&pt, 0x600000, &out, &prot));
	CHECK(!walk(&pt, 0, (1ULL << 40) - 1, &c));
	CHECK(c.n == 1 && c.l[0].iova == 0x400000);
	/* The upper half of the input space is never walked. */
	mem[0][256] = pg(1) | T;
	CHECK(!tr(&pt, 1ULL << 47, &out, &prot));
	CHECK(!walk(&pt, 0, ~0ULL, &c) && c.n == 1);
	return 0;
}

static int count_emit(void *arg, const struct x86pt_leaf *l)
{
	(void)l;
	(*(u64 *)arg)++;
	return 0;
}

static int loops_are_bounded(void)
{
	struct x86pt pt = { .root = pg(0), .levels = 4 };
	u64 budget = 100000, leaves = 0;
	unsigned int i;

	memset(mem, 0, sizeof(mem));
	/* Every entry points back at the root: 256 * 512^3 leaves. */
	for (i = 0; i < 512; i++)
		mem[0][i] = pg(0) | T;
	CHECK(x86pt_walk(&pt, &rd, 0, ~0ULL, &budget, count_emit,
			 &leaves) == -ENOSPC);
	CHECK(budget == 0);
	CHECK(leaves > 0 && leaves < 100000);
	/* A self-referential table translates as the format says. */
	{
		u64 out;
		u32 prot;

		CHECK(tr(&pt, 0x1234, &out, &prot) && out == pg(0) + 0x234);
	}
	/* A sparse table costs its present entries' pages, not the space. */
	pt = chain4();
	mem[3][7] = 0x7000 | T;
	budget = 1 << 20;
	leaves = 0;
	CHECK(!x86pt_walk(&pt, &rd, 0, ~0ULL, &budget, count_emit, &leaves));
	CHECK(leaves == 1);
	CHECK((1 << 20) - budget == 256 + 3 * 512);
	return 0;
}

static u64 rnd_state;

static u64 rnd(void)
{
	rnd_state ^= rnd_state << 13;
	rnd_state ^= rnd_state >> 7;
	rnd_state ^= rnd_state << 17;
	return rnd_state;
}

struct check_arg {
	const struct x86pt *pt;
	u64 prev_end;
	int bad;
};

/* Every leaf the walk reports is what a walk from the root finds. */
static int check_emit(void *arg, const struct x86pt_leaf *l)
{
	struct check_arg *a = arg;
	u64 size = 1ULL << l->shift, probe[3] = { 0, size / 2, size - 1 };
	unsigned int i;

	if (l->iova < a->prev_end)
		a->bad = 1;
	a->prev_end = l->iova + size;
	for (i = 0; i < 3; i++) {
		struct x86pt_leaf t;

		if (x86pt_translate(a->pt, &rd, l->iova + probe[i], &t) ||
		    t.iova != l->iova || t.out != l->out ||
		    t.prot != l->prot || t.shift != l->shift)
			a->bad = 1;
	}
	return 0;
}

/* Random entries, pointers mostly into the table memory. */
static u64 random_pte(void)
{
	u64 r = rnd(), pte = r & (X86PT_P | X86PT_RW | X86PT_US | X86PT_PS);

	if (r & (1ULL << 40))
		pte |= rnd();			/* any bits at all */
	else
		pte |= pg((unsigned int)(rnd() % (NPAGES + 2)));
	if (!(r & (3ULL << 41)))
		pte |= 1ULL << (13 + rnd() % 17);
	return pte;
}

static int walk_equals_translate(void)
{
	unsigned int round, i, j;

	rnd_state = 0x9e3779b97f4a7c15ULL;
	for (round = 0; round < 200; round++) {
		struct x86pt pt = { .root = pg(0), .levels = round & 1 ? 5 : 4,
				    .flags = (u32)(rnd() % 8) &
					     (X86PT_F_WPE |
					      X86PT_F_SUPERVISOR) };
		struct check_arg a = { .pt = &pt };
		u64 budget = 1 << 16;

		for (i = 0; i < NPAGES; i++)
			for (j = 0; j < 512; j++)
				mem[i][j] = rnd() % 64 ? 0 : random_pte();
		for (j = 0; j < 4; j++)
			mem[0][j] = random_pte() | X86PT_P | X86PT_US;
		x86pt_walk(&pt, &rd, 0, ~0ULL, &budget, check_emit, &a);
		CHECK(!a.bad);
		/* And no translation the walk missed, at random addresses. */
		for (i = 0; i < 2000; i++) {
			u64 iova = rnd() & ((1ULL << 41) - 1) & ~4095ULL;
			struct x86pt_leaf t;
			struct collect c;

			if (x86pt_translate(&pt, &rd, iova, &t))
				continue;
			budget = 1 << 16;
			c.n = 0;
			CHECK(!x86pt_walk(&pt, &rd, iova, iova, &budget,
					  collect_emit, &c));
			CHECK(c.n == 1 && c.l[0].iova == t.iova &&
			      c.l[0].out == t.out);
		}
	}
	return 0;
}

static void run(const char *name, int (*fn)(void))
{
	int rc = fn();

	count++;
	failures += rc != 0;
	printf("%s %d - %s\n", rc ? "not ok" : "ok", count, name);
}

int main(void)
{
	printf("TAP version 13\n");
	run("leaves_each_level", leaves_each_level);
	run("permissions", permissions);
	run("malformed", malformed);
	run("loops_are_bounded", loops_are_bounded);
	run("walk_equals_translate", walk_equals_translate);
	printf("1..%d\n", count);
	return failures ? 1 : 0;
}
