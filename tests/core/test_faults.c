// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/*
 * faults: every failure the engine can meet, one at a time.
 *
 * Each fault point (core/core_priv.h: allocations, charges, pins, copies,
 * listener maps, device attaches, and in the kernel host the chunks of a
 * pin) can be made to fail with ioasid_fault_inject(). For each operation
 * below, the walk runs it with point 1 failing, then point 2, and so on
 * until the operation passes fewer points than the one armed. After each
 * run the operation must have returned an errno and left everything as it
 * was (mappings, ioasids, devices, their notifications, dirty bits, pins,
 * charges, the engine's objects), or (for the few commands whose effect
 * stands when only the final copy to the caller fails, as VFIO type1's
 * UNMAP does) be exactly as after a success, or (an invalidation whose
 * listener failed) hold only mappings a success has. The same program runs
 * against the kernel module in the VM (module parameter fail_nth, as root).
 */
#include <fcntl.h>
#include <sys/syscall.h>

#include "harness.h"

#define MAX_POINTS	256
#define CENSUS_IDS	32
#define NDIRTY		5

struct scen;

/* Everything a fault could disturb, to compare runs with. */
struct state {
	struct snap s;
	uint8_t census[CENSUS_IDS];	/* 1: ioasid, 2: device, 0: none */
	uint64_t dirty;			/* dirty pages (NO_CLEAR read) */
	int dirty_rc;			/* -EINVAL while tracking is off */
	uint64_t live;			/* engine objects */
	long long pins;			/* kernel FOLL_PIN pages, or 0 */
	long long vmpin;		/* kernel: VmPin kB, or 0 */
};

struct walk {
	struct fx *f;
	const struct scen *sc;
	uint32_t dev2;			/* second device (attach walk) */
	uint32_t new_id;		/* what the operation created */
	uint64_t *bitmap;
	int memfd;
	uint8_t *mbuf;			/* memfd-backed buffer */
	uint32_t snap_as;		/* the ioasid observed; 0: f->as */
	uint32_t parent;		/* nesting walks: also observed */
	uint32_t pdev;			/* the parent's device */
};

struct scen {
	const char *name;
	int (*prep)(struct walk *w);
	int (*op)(struct walk *w);
	int (*undo)(struct walk *w);
	/* The effect stands if only the final copy-out fails. */
	bool commit_ok;
	/*
	 * A listener's failure (ENOMEM) may leave part of a success: every
	 * mapping left is one a success has (an invalidation's contract).
	 */
	bool partial_ok;
};

static long long status_kb(const char *field)
{
	char line[256];
	long long v = -1;
	size_t n = strlen(field);
	FILE *fp = fopen("/proc/self/status", "r");

	if (!fp)
		return -1;
	while (fgets(line, sizeof(line), fp))
		if (!strncmp(line, field, n) && line[n] == ':')
			v = strtoll(line + n + 1, NULL, 10);
	fclose(fp);
	return v;
}

static int take(struct walk *w, struct state *st)
{
	struct fx *f = w->f;
	uint32_t id;
	int rc;

	uint32_t ids[2] = { w->snap_as ? w->snap_as : f->as, w->parent };

	memset(st, 0, sizeof(*st));
	rc = snap_take(f, &st->s, ids, w->parent ? 2 : 1, f->dev);
	if (rc)
		return rc;
	for (id = 1; id < CENSUS_IDS; id++) {
		struct ioasid_info info;
		struct ioasid_swdev_stats ds;

		if (!ioasid_get_info(f->h, id, &info, NULL, 0))
			st->census[id] = 1;
		else if (!ioasid_swdev_stats(f->h, id, &ds))
			st->census[id] = 2;
	}
	if (st->s.as[0].info.out_num_devices) {
		uint64_t b[64];

		st->dirty_rc = ioasid_dirty_read(f->h, ids[0], 0,
						 64 * 64 * SZ_4K, 12, b,
						 IOASID_DIRTY_NO_CLEAR,
						 &st->dirty);
		if (st->dirty_rc && st->dirty_rc != -EINVAL)
			return st->dirty_rc;
	}
	rc = ioasid_fault_state(f->h, NULL, &st->live);
	if (rc)
		return rc;
	if (is_kernel(f)) {
		st->pins = kernel_pins();
		st->vmpin = status_kb("VmPin");
	}
	return 0;
}

/*
 * Quiet comparison; what differs goes to @why. Devices' notification
 * counts only grow, so they are compared as the step from @a0 to @a and
 * from @b0 to @b (pass a == a0, b == b0 for "no notification at all").
 */
static bool same_from(const struct state *a0, const struct state *a,
		      const struct state *b0, const struct state *b, char *why,
		      size_t n)
{
	const struct snap_as *x = &a->s.as[0], *y = &b->s.as[0];
	uint32_t i;
	uint64_t am = a->s.stats.out_map_calls - a0->s.stats.out_map_calls;
	uint64_t au = a->s.stats.out_unmap_calls - a0->s.stats.out_unmap_calls;
	uint64_t bm = b->s.stats.out_map_calls - b0->s.stats.out_map_calls;
	uint64_t bu = b->s.stats.out_unmap_calls - b0->s.stats.out_unmap_calls;

	for (i = 1; i < a->s.n && i < b->s.n; i++) {
		/* The other ioasids observed: the first that differs. */
		if (memcmp(&a->s.as[i].info, &b->s.as[i].info,
			   sizeof(x->info)) ||
		    a->s.as[i].nmaps != b->s.as[i].nmaps ||
		    memcmp(a->s.as[i].maps, b->s.as[i].maps,
			   a->s.as[i].nmaps * sizeof(x->maps[0]))) {
			x = &a->s.as[i];
			y = &b->s.as[i];
			break;
		}
	}
	if (memcmp(&x->info, &y->info, sizeof(x->info)) ||
	    x->nmaps != y->nmaps ||
	    memcmp(x->maps, y->maps, x->nmaps * sizeof(x->maps[0])))
		snprintf(why, n, "ioasid (%u -> %u mappings, %llu -> %llu bytes)",
			 x->nmaps, y->nmaps,
			 (unsigned long long)x->info.out_mapped_bytes,
			 (unsigned long long)y->info.out_mapped_bytes);
	else if (am != bm || au != bu)
		snprintf(why, n, "device notifications (map calls +%llu vs +%llu, unmap calls +%llu vs +%llu)",
			 (unsigned long long)am, (unsigned long long)bm,
			 (unsigned long long)au, (unsigned long long)bu);
	else if (memcmp(a->census, b->census, sizeof(a->census)))
		snprintf(why, n, "the set of ioasids and devices");
	else if (a->dirty != b->dirty || a->dirty_rc != b->dirty_rc)
		snprintf(why, n, "dirty pages %llu -> %llu",
			 (unsigned long long)a->dirty,
			 (unsigned long long)b->dirty);
	else if (a->live != b->live)
		snprintf(why, n, "engine objects %llu -> %llu (a leak)",
			 (unsigned long long)a->live,
			 (unsigned long long)b->live);
	else if (a->pins != b->pins)
		snprintf(why, n, "pinned pages %lld -> %lld", a->pins, b->pins);
	else if (a->vmpin != b->vmpin)
		snprintf(why, n, "VmPin %lld -> %lld kB", a->vmpin, b->vmpin);
	else
		return true;
	return false;
}

/* @b is exactly @a: not even a notification on the way. */
static bool same(const struct state *a, const struct state *b, char *why,
		 size_t n)
{
	return same_from(a, a, a, b, why, n);
}

/* The same objects and memory, whatever was notified on the way. */
static bool same_objects(const struct state *a, const struct state *b,
			 char *why, size_t n)
{
	return same_from(a, a, b, b, why, n);
}

/* Every mapping of @b's first ioasid is one of @a's. */
static bool maps_subset(const struct state *a, const struct state *b)
{
	const struct snap_as *x = &a->s.as[0], *y = &b->s.as[0];
	uint32_t i, j;

	for (j = 0; j < y->nmaps; j++) {
		for (i = 0; i < x->nmaps; i++)
			if (!memcmp(&x->maps[i], &y->maps[j], sizeof(x->maps[i])))
				break;
		if (i == x->nmaps)
			return false;
	}
	return true;
}

static int disarm(struct fx *f)
{
	return ioasid_fault_inject(f->h, 0);
}

static int walk(struct fx *f, const struct scen *sc)
{
	struct walk w = { .f = f, .sc = sc, .memfd = -1 };
	struct state before, after, pre, now;
	unsigned int n, clean = 0, absorbed = 0, committed = 0, partial = 0;
	unsigned int by_errno[3] = { 0 };	/* ENOMEM EFAULT other */
	char why[160];
	int rc;

	rc = ioasid_fault_inject(f->h, 0);
	if (rc == -EACCES || rc == -EPERM || rc == -ENOENT) {
		skip_reason("the module's fail_nth parameter cannot be written (%s): root and a module with fault injection are needed",
			    ioasid_errno_name(rc));
		return SKIP_RC;
	}
	CHECK_OK(rc);
	w.bitmap = calloc(64, sizeof(uint64_t));
	CHECK(w.bitmap);
	if (sc->prep)
		CHECK_OK(sc->prep(&w));

	/* Calibration: the state after a success, and back again. */
	CHECK_OK(take(&w, &before));
	CHECK_OK(sc->op(&w));
	CHECK_OK(take(&w, &after));
	if (sc->undo) {
		CHECK(!same(&before, &after, why, sizeof(why)));
		CHECK_OK(sc->undo(&w));
	}
	CHECK_OK(take(&w, &now));
	if (!same_objects(&before, &now, why, sizeof(why))) {
		diag("%s: undoing a success changed %s", sc->name, why);
		return 1;
	}

	for (n = 1; n <= MAX_POINTS; n++) {
		uint64_t left = 0;
		int err;

		CHECK_OK(take(&w, &pre));
		CHECK_OK(ioasid_fault_inject(f->h, n));
		rc = sc->op(&w);
		err = ioasid_fault_state(f->h, &left, NULL);
		CHECK_OK(disarm(f));
		CHECK_OK(err);
		CHECK_OK(take(&w, &now));
		if (left) {
			/* Fewer than n points: nothing failed. */
			if (rc) {
				diag("%s: failed with %s and no fault (point %u not reached): %s",
				     sc->name, ioasid_errno_name(rc), n,
				     ioasid_strerror());
				return 1;
			}
			break;
		}
		if (!rc) {
			/* The host absorbed the failure (a fallback). */
			if (!same_from(&before, &after, &pre, &now, why,
				       sizeof(why))) {
				diag("%s: point %u failed, the call succeeded, but %s differs from a success",
				     sc->name, n, why);
				return 1;
			}
			absorbed++;
		} else if (same(&pre, &now, why, sizeof(why))) {
			clean++;
			by_errno[rc == -ENOMEM ? 0 : rc == -EFAULT ? 1 : 2]++;
			continue;
		} else if (sc->commit_ok && rc == -EFAULT &&
			   same_from(&before, &after, &pre, &now, why,
				     sizeof(why))) {
			committed++;
		} else if (sc->partial_ok && rc == -ENOMEM &&
			   maps_subset(&after, &now)) {
			partial++;
		} else {
			same(&pre, &now, why, sizeof(why));
			diag("%s: point %u failed the call with %s but changed %s",
			     sc->name, n, ioasid_errno_name(rc), why);
			return 1;
		}
		if (sc->undo)
			CHECK_OK(sc->undo(&w));
		CHECK_OK(take(&w, &now));
		if (!same_objects(&before, &now, why, sizeof(why))) {
			diag("%s: after point %u, undoing changed %s", sc->name,
			     n, why);
			return 1;
		}
	}
	if (n > MAX_POINTS) {
		diag("%s: more than %u fault points: the walk did not end",
		     sc->name, MAX_POINTS);
		return 1;
	}
	if (n == 1) {
		diag("%s: no fault point on this path", sc->name);
		return 1;
	}
	diag("%s (%s): %u points walked: %u failed cleanly (ENOMEM %u, EFAULT %u, other %u), %u absorbed by a fallback, %u kept their effect with EFAULT, %u left part of a success (a listener failed); leaks 0",
	     sc->name, ioasid_backend_name(ioasid_backend_of(f->h)), n - 1,
	     clean, by_errno[0], by_errno[1], by_errno[2], absorbed,
	     committed, partial);
	free(w.bitmap);
	if (w.memfd >= 0)
		close(w.memfd);
	return 0;
}

/* ---- preparations, operations, undos ---- */

static int attach_default(struct walk *w)
{
	return ioasid_attach(w->f->h, w->f->dev, w->f->as);
}

/* A memfd-backed shared buffer: the kernel pins it by folio. */
static int prep_memfd(struct walk *w)
{
	int rc = attach_default(w);

	if (rc)
		return rc;
	w->memfd = (int)syscall(SYS_memfd_create, "faults", 0);
	if (w->memfd < 0 || ftruncate(w->memfd, (off_t)(4 * SZ_1M)))
		return -errno;
	w->mbuf = mmap(NULL, 4 * SZ_1M, PROT_READ | PROT_WRITE, MAP_SHARED,
		       w->memfd, 0);
	if (w->mbuf == MAP_FAILED)
		return -errno;
	memset(w->mbuf, 1, 4 * SZ_1M);
	return 0;
}

/* Some mappings already there, of which one spans several pin chunks. */
static int prep_mapped(struct walk *w)
{
	struct fx *f = w->f;
	int rc = attach_default(w);

	if (!rc)
		rc = ioasid_map(f->h, f->as, 0, f->buf, 4 * SZ_1M, RW);
	if (!rc)
		rc = ioasid_map(f->h, f->as, 8 * SZ_1M, f->buf + 8 * SZ_1M,
				SZ_64K, IOASID_DMA_READ);
	return rc;
}

static int op_open(struct walk *w)
{
	struct ioasid_open_opts o = {
		.size = sizeof(o),
		.backend = ioasid_backend_of(w->f->h),
	};
	struct ioasid_handle *h;
	uint32_t id;
	int rc = ioasid_open(&o, &h);

	if (rc)
		return rc;
	rc = ioasid_alloc(h, &id);
	ioasid_close(h);
	return rc;
}

static int op_alloc(struct walk *w)
{
	return ioasid_alloc(w->f->h, &w->new_id);
}

static int undo_free(struct walk *w)
{
	return ioasid_free(w->f->h, w->new_id);
}

/* A fault queue: its object and, in the kernel, its file. */
static int op_faultq_alloc(struct walk *w)
{
	int fd = -1, rc = ioasid_faultq_alloc(w->f->h, 0, 0, &fd);

	w->new_id = (uint32_t)fd;
	return rc;
}

static int undo_faultq_alloc(struct walk *w)
{
	return ioasid_faultq_close(w->f->h, (int)w->new_id);
}

static int op_swdev(struct walk *w)
{
	struct ioasid_swdev_create c;
	struct ioasid_iova_range r;

	swdev_default(&c, &r);
	return ioasid_swdev_create(w->f->h, &c, &w->new_id);
}

static int undo_swdev(struct walk *w)
{
	return ioasid_swdev_destroy(w->f->h, w->new_id);
}

static int prep_attach(struct walk *w)
{
	int rc = prep_mapped(w);

	if (!rc)
		rc = op_swdev(w);
	w->dev2 = w->new_id;
	return rc;
}

static int op_attach(struct walk *w)
{
	return ioasid_attach(w->f->h, w->dev2, w->f->as);
}

static int undo_attach(struct walk *w)
{
	return ioasid_detach(w->f->h, w->dev2);
}

static int op_map(struct walk *w)
{
	struct fx *f = w->f;

	return ioasid_map(f->h, f->as, 16 * SZ_1M, f->buf + 16 * SZ_1M,
			  4 * SZ_1M + SZ_64K, RW);
}

static int undo_map(struct walk *w)
{
	return ioasid_unmap(w->f->h, w->f->as, 16 * SZ_1M,
			    4 * SZ_1M + SZ_64K, NULL);
}

static int op_map_memfd(struct walk *w)
{
	return ioasid_map(w->f->h, w->f->as, 32 * SZ_1M, w->mbuf, 4 * SZ_1M,
			  IOASID_DMA_READ);
}

static int undo_map_memfd(struct walk *w)
{
	return ioasid_unmap(w->f->h, w->f->as, 32 * SZ_1M, 4 * SZ_1M, NULL);
}

#define NBATCH	6

static void batch_entries(struct walk *w, struct ioasid_dma_entry *e,
			  bool unmap)
{
	unsigned int i;

	for (i = 0; i < NBATCH; i++) {
		uint64_t iova = 16 * SZ_1M + i * SZ_2M;
		uint64_t len = i == 2 ? SZ_2M : SZ_64K * (i + 1);

		e[i] = unmap ? uent(iova, len) :
			       ent(iova, w->f->buf + iova, len, RW);
	}
}

static int op_map_batch(struct walk *w)
{
	struct ioasid_dma_entry e[NBATCH];

	batch_entries(w, e, false);
	return ioasid_map_batch(w->f->h, w->f->as, e, NBATCH, NULL);
}

static int op_unmap_batch(struct walk *w)
{
	struct ioasid_dma_entry e[NBATCH];

	batch_entries(w, e, true);
	return ioasid_unmap_batch(w->f->h, w->f->as, e, NBATCH, NULL, NULL);
}

static int prep_batch_mapped(struct walk *w)
{
	int rc = prep_mapped(w);

	return rc ? rc : op_map_batch(w);
}

static int op_unmap_range(struct walk *w)
{
	uint64_t done = 0;

	return ioasid_unmap(w->f->h, w->f->as, 0, 4 * SZ_1M, &done);
}

static int undo_unmap_range(struct walk *w)
{
	return ioasid_map(w->f->h, w->f->as, 0, w->f->buf, 4 * SZ_1M, RW);
}

static int op_tracking_on(struct walk *w)
{
	return ioasid_dirty_tracking(w->f->h, w->f->as, true);
}

static int undo_tracking_on(struct walk *w)
{
	return ioasid_dirty_tracking(w->f->h, w->f->as, false);
}

/* The device writes NDIRTY scattered pages of the 4 MiB mapping. */
static int device_writes(struct walk *w)
{
	uint8_t v = 0x5a;
	unsigned int i;
	int rc;

	for (i = 0; i < NDIRTY; i++) {
		rc = ioasid_swdev_access(w->f->h, w->f->dev,
					 IOASID_ACCESS_WRITE,
					 (uint64_t)i * 37 * SZ_4K, &v, 1);
		if (rc)
			return rc;
	}
	return 0;
}

static int prep_dirty(struct walk *w)
{
	int rc = prep_mapped(w);

	if (!rc)
		rc = op_tracking_on(w);
	return rc ? rc : device_writes(w);
}

static int op_dirty_read(struct walk *w)
{
	uint64_t n = 0;
	int rc = ioasid_dirty_read(w->f->h, w->f->as, 0, 64 * 64 * SZ_4K, 12,
				   w->bitmap, 0, &n);

	if (!rc && n != NDIRTY)
		return -EILSEQ;	/* not what the device wrote */
	return rc;
}

static int op_access(struct walk *w)
{
	return device_writes(w);
}

/*
 * Nesting: a parent with its own device maps 4 MiB in two mappings; a
 * nested ioasid, observed with the fixture's device attached, has a
 * 4-level table in that memory with eight 4 KiB leaves, four into each
 * parent mapping.
 */
#define NEST_PB		(64 * SZ_1M)	/* parent IOVA of f->buf */
#define NEST_TBL	(3 * SZ_1M)	/* buffer offset of the tables */

static int prep_nest_parent(struct walk *w)
{
	struct fx *f = w->f;
	int rc = ioasid_alloc_nest_parent(f->h, &w->parent);

	if (!rc)
		rc = new_swdev(f, SZ_4K | SZ_2M, 0, APERTURE_LAST, 0, 0, 1,
			       &w->pdev);
	if (!rc)
		rc = ioasid_attach(f->h, w->pdev, w->parent);
	if (!rc)
		rc = ioasid_map(f->h, w->parent, NEST_PB, f->buf, SZ_2M, RW);
	if (!rc)
		rc = ioasid_map(f->h, w->parent, NEST_PB + SZ_2M, f->buf + SZ_2M,
				SZ_2M, IOASID_DMA_READ);
	return rc;
}

/* Eight leaves; @moved: the last four point elsewhere. */
static void nest_leaves(struct walk *w, bool moved)
{
	uint64_t *t = (uint64_t *)(w->f->buf + NEST_TBL);
	unsigned int i;

	for (i = 0; i < 8; i++)
		t[3 * 512 + i * 2] = (NEST_PB + (i < 4 ? 0 : SZ_2M) +
				      i * SZ_64K + (moved && i >= 4 ? SZ_4K : 0)) |
				     7;
}

static int prep_nest_child(struct walk *w)
{
	struct fx *f = w->f;
	uint64_t *t = (uint64_t *)(f->buf + NEST_TBL);
	unsigned int i;
	int rc = prep_nest_parent(w);

	if (!rc)
		rc = ioasid_alloc_nested(f->h, w->parent, &w->snap_as);
	if (!rc)
		rc = ioasid_attach(f->h, f->dev, w->snap_as);
	memset(t, 0, 4 * SZ_4K);
	for (i = 0; i < 3; i++)
		t[i * 512] = (NEST_PB + NEST_TBL + (i + 1) * SZ_4K) | 7;
	nest_leaves(w, false);
	return rc;
}

static int op_nest_alloc(struct walk *w)
{
	return ioasid_alloc_nested(w->f->h, w->parent, &w->new_id);
}

static int op_bind(struct walk *w)
{
	return ioasid_pgtbl_bind(w->f->h, w->snap_as, IOASID_PGTBL_X86_64, 48,
				 NEST_PB + NEST_TBL, 0);
}

static int op_unbind(struct walk *w)
{
	return ioasid_pgtbl_unbind(w->f->h, w->snap_as);
}

static int prep_nest_bound(struct walk *w)
{
	int rc = prep_nest_child(w);

	return rc ? rc : op_bind(w);
}

static int op_invalidate(struct walk *w)
{
	return ioasid_invalidate_all(w->f->h, w->snap_as);
}

static int undo_invalidate(struct walk *w)
{
	int rc = op_unbind(w);

	return rc ? rc : op_bind(w);
}

static int prep_nest_shadow(struct walk *w)
{
	int rc = prep_nest_bound(w);

	return rc ? rc : op_invalidate(w);
}

/*
 * The shadow of the first leaves, the table already moved on: the
 * invalidation keeps four entries and replaces four, so a listener's
 * failure leaves part of a success.
 */
static int undo_invalidate_moved(struct walk *w)
{
	int rc;

	nest_leaves(w, false);
	rc = op_invalidate(w);
	nest_leaves(w, true);
	return rc;
}

static int prep_nest_moved(struct walk *w)
{
	int rc = prep_nest_shadow(w);

	nest_leaves(w, true);
	return rc;
}

static int op_parent_unmap(struct walk *w)
{
	return ioasid_unmap(w->f->h, w->parent, NEST_PB + SZ_2M, SZ_2M, NULL);
}

static int undo_parent_unmap(struct walk *w)
{
	int rc = ioasid_map(w->f->h, w->parent, NEST_PB + SZ_2M,
			    w->f->buf + SZ_2M, SZ_2M, IOASID_DMA_READ);

	return rc ? rc : op_invalidate(w);
}

static const struct scen scens[] = {
	{ "open", NULL, op_open, NULL, false, false },
	{ "alloc", NULL, op_alloc, undo_free, false, false },
	{ "swdev_create", NULL, op_swdev, undo_swdev, false, false },
	{ "attach", prep_attach, op_attach, undo_attach, false, false },
	{ "map", prep_mapped, op_map, undo_map, false, false },
	{ "map_memfd", prep_memfd, op_map_memfd, undo_map_memfd, false,
	  false },
	{ "map_batch", prep_mapped, op_map_batch, op_unmap_batch, true, false },
	{ "unmap", prep_mapped, op_unmap_range, undo_unmap_range, true, false },
	{ "unmap_batch", prep_batch_mapped, op_unmap_batch, op_map_batch,
	  true, false },
	{ "dirty_tracking", prep_mapped, op_tracking_on, undo_tracking_on,
	  false, false },
	{ "dirty_read", prep_dirty, op_dirty_read, device_writes, true, false },
	{ "access", prep_dirty, op_access, NULL, true, false },
	{ "nest_alloc", prep_nest_parent, op_nest_alloc, undo_free, false,
	  false },
	{ "pgtbl_bind", prep_nest_child, op_bind, op_unbind, false, false },
	{ "invalidate", prep_nest_bound, op_invalidate, undo_invalidate, true,
	  true },
	{ "parent_unmap_nested", prep_nest_shadow, op_parent_unmap,
	  undo_parent_unmap, true, false },
	{ "invalidate_changed", prep_nest_moved, op_invalidate,
	  undo_invalidate_moved, true, true },
	{ "faultq_alloc", NULL, op_faultq_alloc, undo_faultq_alloc, false,
	  false },
};

#define SCEN_FN(i) \
	static int t_##i(struct fx *f) \
	{ \
		int rc = walk(f, &scens[i]); \
		\
		disarm(f); \
		return rc; \
	}
SCEN_FN(0) SCEN_FN(1) SCEN_FN(2) SCEN_FN(3) SCEN_FN(4) SCEN_FN(5)
SCEN_FN(6) SCEN_FN(7) SCEN_FN(8) SCEN_FN(9) SCEN_FN(10) SCEN_FN(11)
SCEN_FN(12) SCEN_FN(13) SCEN_FN(14) SCEN_FN(15) SCEN_FN(16)
SCEN_FN(17)

static const struct test tests[] = {
	{ "open", t_0, NULL },
	{ "alloc", t_1, NULL },
	{ "swdev_create", t_2, NULL },
	{ "attach", t_3, NULL },
	{ "map", t_4, NULL },
	{ "map_memfd", t_5, NULL },
	{ "map_batch", t_6, NULL },
	{ "unmap", t_7, NULL },
	{ "unmap_batch", t_8, NULL },
	{ "dirty_tracking", t_9, NULL },
	{ "dirty_read", t_10, NULL },
	{ "access", t_11, NULL },
	{ "nest_alloc", t_12, NULL },
	{ "pgtbl_bind", t_13, NULL },
	{ "invalidate", t_14, NULL },
	{ "parent_unmap_nested", t_15, NULL },
	{ "invalidate_changed", t_16, NULL },
	{ "faultq_alloc", t_17, NULL },
};

int main(int argc, char **argv)
{
	_Static_assert(sizeof(tests) / sizeof(tests[0]) ==
		       sizeof(scens) / sizeof(scens[0]), "one test per walk");
	return run_tests("faults", tests, sizeof(tests) / sizeof(tests[0]),
			 argc, argv);
}
