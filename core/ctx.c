// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/*
 * The context (one ioasid fd) and the lifetime of its objects.
 *
 * Objects: ioasids and devices share one id table, as iommufd's objects
 * share one xarray. Ids start at 1 and are reused after free; every object
 * starts with struct ioasid_obj so that typed getters can check the type.
 *
 * Creation is two-phase: an object is built completely, and only then is
 * its id reserved and the pointer published in the table, the last step
 * that cannot fail. Destruction cannot fail.
 *
 * Groups: a device comes with its host's identity of its IOMMU group and
 * the group's size. An ioasid is "viable" when every group that has a
 * device attached to it has all of its devices attached to it; map and
 * unmap need a viable ioasid (seed plan, Phase 1). The flag is recomputed
 * on each attach and detach, so the map path only reads it.
 *
 * Attributes: the first device attached to an ioasid fixes its attributes.
 * They stay while the ioasid has a device or a mapping, and are forgotten
 * when it has neither, so the next first device fixes them anew.
 *
 * Locking: one mutex per context, ctx->lock, protects every object of the
 * context and both trees. Entry points from outside core/ take it; helpers
 * named ctx_* and as_* expect it held.
 */
#include "core_priv.h"

void ioasid_ctx_lock(struct ioasid_ctx *ctx)
{
	ioh_lock(&ctx->lock);
}

void ioasid_ctx_unlock(struct ioasid_ctx *ctx)
{
	ioh_unlock(&ctx->lock);
}

int ioasid_ctx_create(const struct ioasid_host_ops *ops, void *host,
		      const struct ioasid_ctx_config *cfg,
		      struct ioasid_ctx **out)
{
	struct ioasid_ctx *ctx;
	int rc;

	ctx = ioc_zalloc(sizeof(*ctx));
	if (!ctx)
		return -ENOMEM;
	rc = ioh_cache_init(&ctx->map_cache, sizeof(struct ioasid_mapping));
	if (rc) {
		ioh_free(ctx);
		return rc;
	}
	rc = ioh_cache_init(&ctx->shadow_cache, sizeof(struct nest_entry));
	if (rc) {
		ioh_cache_destroy(&ctx->map_cache);
		ioh_free(ctx);
		return rc;
	}
	ioh_lock_init(&ctx->lock);
	ctx->ops = ops;
	ctx->host = host;
	if (cfg)
		ctx->cfg = *cfg;
	if (!ctx->cfg.max_mappings)
		ctx->cfg.max_mappings = IOASID_DEFAULT_MAX_MAPPINGS;
	if (!ctx->cfg.max_objects)
		ctx->cfg.max_objects = IOASID_DEFAULT_MAX_OBJECTS;
	ctx->id_hint = 1;
	*out = ctx;
	return 0;
}

/* The object @id if it is of @type, else NULL with @rule in @diag. */
static struct ioasid_obj *ctx_get(struct ioasid_ctx *ctx, u32 id, u32 type,
				  unsigned int rule, struct ioasid_diag *diag)
{
	struct ioasid_obj *o = NULL;

	if (id && id < ctx->objs_cap)
		o = ctx->objs[id];
	if (o && o->type == type)
		return o;
	diag_set(diag, -ENOENT, rule, id, 0);
	return NULL;
}

struct ioasid_as *ctx_get_as(struct ioasid_ctx *ctx, u32 id,
			     struct ioasid_diag *diag)
{
	struct ioasid_obj *o = ctx_get(ctx, id, IOASID_OBJ_AS,
				       IOASID_RULE_NO_IOASID, diag);

	return o ? container_of(o, struct ioasid_as, obj) : NULL;
}

struct ioasid_dev *ctx_get_dev(struct ioasid_ctx *ctx, u32 id,
			       struct ioasid_diag *diag)
{
	struct ioasid_obj *o = ctx_get(ctx, id, IOASID_OBJ_DEV,
				       IOASID_RULE_NO_DEVICE_ID, diag);

	return o ? container_of(o, struct ioasid_dev, obj) : NULL;
}

/* Make room for one more object; the table only grows. */
static int ctx_reserve_slot(struct ioasid_ctx *ctx, struct ioasid_diag *diag)
{
	struct ioasid_obj **objs;
	u32 cap;

	if (ctx->nobjs >= ctx->cfg.max_objects)
		return diag_set(diag, -ENOSPC, IOASID_RULE_ID_SPACE, ctx->nobjs,
				ctx->cfg.max_objects);
	if (ctx->nobjs + 1 < ctx->objs_cap)
		return 0;
	cap = ctx->objs_cap ? ctx->objs_cap * 2 : 16;
	if (cap > ctx->cfg.max_objects + 1)
		cap = ctx->cfg.max_objects + 1;
	objs = ioc_zalloc(sizeof(*objs) * cap);
	if (!objs)
		return diag_set(diag, -ENOMEM, IOASID_RULE_NOMEM, 0, 0);
	if (ctx->objs_cap)
		memcpy(objs, ctx->objs, sizeof(*objs) * ctx->objs_cap);
	ioh_free(ctx->objs);
	ctx->objs = objs;
	ctx->objs_cap = cap;
	return 0;
}

/* Publish: the last step of a creation, after ctx_reserve_slot(). */
static u32 ctx_publish(struct ioasid_ctx *ctx, struct ioasid_obj *o, u32 type)
{
	u32 id = ctx->id_hint;

	while (id >= ctx->objs_cap || !id || ctx->objs[id]) {
		id++;
		if (id >= ctx->objs_cap)
			id = 1;
	}
	o->id = id;
	o->type = type;
	ctx->objs[id] = o;
	ctx->nobjs++;
	ctx->id_hint = id + 1 < ctx->objs_cap ? id + 1 : 1;
	return id;
}

static void ctx_unpublish(struct ioasid_ctx *ctx, struct ioasid_obj *o)
{
	ctx->objs[o->id] = NULL;
	ctx->nobjs--;
	if (o->id < ctx->id_hint)
		ctx->id_hint = o->id;
}

int ctx_alloc_as(struct ioasid_ctx *ctx, u32 *out_id, struct ioasid_diag *diag)
{
	struct ioasid_as *as;
	int rc;

	rc = ctx_reserve_slot(ctx, diag);
	if (rc)
		return rc;
	as = ioc_zalloc(sizeof(*as));
	if (!as)
		return diag_set(diag, -ENOMEM, IOASID_RULE_NOMEM, 0, 0);
	as->ctx = ctx;
	as->viable = true;
	*out_id = ctx_publish(ctx, &as->obj, IOASID_OBJ_AS);
	return 0;
}

static void as_destroy(struct ioasid_as *as)
{
	nest_release(as);
	as_unmap_everything(as);
	as_dirty_reset(as);
	ctx_unpublish(as->ctx, &as->obj);
	ioh_free(as);
}

int ctx_free_as(struct ioasid_ctx *ctx, u32 id, struct ioasid_diag *diag)
{
	struct ioasid_as *as = ctx_get_as(ctx, id, diag);

	if (!as)
		return -ENOENT;
	if (as->ndevs)
		return diag_set(diag, -EBUSY, IOASID_RULE_FREE_BUSY, id,
				as->ndevs);
	if (as->nchildren)
		return diag_set(diag, -EBUSY, IOASID_RULE_NEST_HAS_CHILDREN,
				id, as->nchildren);
	as_destroy(as);
	return 0;
}

static struct ioasid_group *ctx_find_group(struct ioasid_ctx *ctx, u64 key)
{
	struct ioasid_group *g;

	for (g = ctx->groups; g; g = g->next)
		if (g->key == key)
			return g;
	return NULL;
}

int ioasid_dev_bind(struct ioasid_ctx *ctx, struct ioasid_dev *dev,
		    u64 group_key, u32 group_size, struct ioasid_diag *diag)
{
	struct ioasid_group *g, *newg = NULL;
	int rc;

	ioh_lock_assert_held(&ctx->lock);
	if (!group_size || group_size > 64)
		return diag_set(diag, -EINVAL, IOASID_RULE_SWDEV_GROUP,
				group_size, 64);
	g = ctx_find_group(ctx, group_key);
	if (g && (g->size != group_size || g->nbound >= g->size))
		return diag_set(diag, -EINVAL, IOASID_RULE_SWDEV_GROUP,
				group_size, g->size);
	rc = ctx_reserve_slot(ctx, diag);
	if (rc)
		return rc;
	if (!g) {
		newg = ioc_zalloc(sizeof(*newg));
		if (!newg)
			return diag_set(diag, -ENOMEM, IOASID_RULE_NOMEM, 0, 0);
		newg->key = group_key;
		newg->size = group_size;
		newg->next = ctx->groups;
		ctx->groups = newg;
		g = newg;
	}
	g->nbound++;
	dev->ctx = ctx;
	dev->group = g;
	dev->as = NULL;
	ctx_publish(ctx, &dev->obj, IOASID_OBJ_DEV);
	return 0;
}

static void ctx_put_group(struct ioasid_ctx *ctx, struct ioasid_group *g)
{
	struct ioasid_group **link;

	if (--g->nbound)
		return;
	for (link = &ctx->groups; *link; link = &(*link)->next) {
		if (*link == g) {
			*link = g->next;
			break;
		}
	}
	ioh_free(g);
}

static void as_update_viable(struct ioasid_as *as)
{
	struct ioasid_dev *d, *e;

	as->viable = true;
	for (d = as->devs; d; d = d->as_next) {
		u32 n = 0;

		for (e = as->devs; e; e = e->as_next)
			n += e->group == d->group;
		if (n != d->group->size) {
			as->viable = false;
			return;
		}
	}
}

int ctx_attach(struct ioasid_dev *dev, u32 ioasid, struct ioasid_diag *diag)
{
	struct ioasid_ctx *ctx = dev->ctx;
	struct ioasid_as *as;
	int rc;

	if (dev->as)
		return diag_set(diag, -EBUSY, IOASID_RULE_ALREADY_ATTACHED,
				dev->obj.id, dev->as->obj.id);
	as = ctx_get_as(ctx, ioasid, diag);
	if (!as)
		return -ENOENT;
	if (as->has_attrs) {
		rc = ioasid_check_compat(&as->attrs, &dev->attrs, diag);
		if (rc)
			return rc;
	}
	if (dev->ops && dev->ops->attach) {
		/* Let the device see the attributes it is about to get. */
		bool fresh = !as->has_attrs;

		if (fresh) {
			as->attrs = dev->attrs;
			as->has_attrs = true;
		}
		rc = ioh_should_fail() ? -ENOMEM : dev->ops->attach(dev, as);
		if (rc) {
			if (fresh)
				as->has_attrs = false;
			return diag_set(diag, rc, IOASID_RULE_LISTENER, -rc, 0);
		}
	} else if (!as->has_attrs) {
		as->attrs = dev->attrs;
		as->has_attrs = true;
	}
	dev->as = as;
	dev->as_next = as->devs;
	as->devs = dev;
	as->ndevs++;
	as_update_viable(as);
	as_dirty_note_attach(as, dev);
	return 0;
}

int ioasid_dev_attach(struct ioasid_dev *dev, u32 ioasid,
		      struct ioasid_diag *diag)
{
	ioh_lock_assert_held(&dev->ctx->lock);
	return ctx_attach(dev, ioasid, diag);
}

void ctx_detach(struct ioasid_dev *dev)
{
	struct ioasid_as *as = dev->as;
	struct ioasid_dev **link;

	if (!as)
		return;
	for (link = &as->devs; *link; link = &(*link)->as_next) {
		if (*link == dev) {
			*link = dev->as_next;
			break;
		}
	}
	as->ndevs--;
	dev->as = NULL;
	dev->as_next = NULL;
	if (dev->ops && dev->ops->detach)
		dev->ops->detach(dev, as);
	as_update_viable(as);
	if (!as->ndevs && !as->nmaps) {
		/* Attributes go, and with them the page size tracking used. */
		as->has_attrs = false;
		as_dirty_reset(as);
		as->dirty_on = false;
	}
}

void ioasid_dev_detach(struct ioasid_dev *dev)
{
	ioh_lock_assert_held(&dev->ctx->lock);
	ctx_detach(dev);
}

void ctx_unbind(struct ioasid_dev *dev)
{
	struct ioasid_ctx *ctx = dev->ctx;

	ctx_detach(dev);
	ctx_unpublish(ctx, &dev->obj);
	ctx_put_group(ctx, dev->group);
	dev->group = NULL;
	if (dev->ops && dev->ops->release)
		dev->ops->release(dev);
}

void ioasid_dev_unbind(struct ioasid_dev *dev)
{
	ioh_lock_assert_held(&dev->ctx->lock);
	ctx_unbind(dev);
}

void ioasid_ctx_quiesce(struct ioasid_ctx *ctx)
{
	ioh_lock(&ctx->lock);
	faultq_destroy_all(ctx);
	ioh_unlock(&ctx->lock);
}

void ioasid_ctx_destroy(struct ioasid_ctx *ctx)
{
	u32 id;

	ioh_lock(&ctx->lock);
	/* Queues the host still has open (embedded backend only). */
	faultq_destroy_all(ctx);
	/* Devices first, so that no ioasid is busy when it goes. */
	for (id = 1; id < ctx->objs_cap; id++) {
		struct ioasid_obj *o = ctx->objs[id];

		if (o && o->type == IOASID_OBJ_DEV)
			ctx_unbind(container_of(o, struct ioasid_dev, obj));
	}
	/* Nested ioasids before their parents, whose pages they use. */
	for (id = 1; id < ctx->objs_cap; id++) {
		struct ioasid_obj *o = ctx->objs[id];

		if (o && o->type == IOASID_OBJ_AS &&
		    container_of(o, struct ioasid_as, obj)->nest == NEST_CHILD)
			as_destroy(container_of(o, struct ioasid_as, obj));
	}
	for (id = 1; id < ctx->objs_cap; id++) {
		struct ioasid_obj *o = ctx->objs[id];

		if (o && o->type == IOASID_OBJ_AS)
			as_destroy(container_of(o, struct ioasid_as, obj));
	}
	IOH_WARN_ON(ctx->nobjs || ctx->groups ||
		    ctx->pinned_bytes || ctx->faultqs);
	ioh_unlock(&ctx->lock);
	ioh_lock_destroy(&ctx->lock);
	ioh_cache_destroy(&ctx->map_cache);
	ioh_cache_destroy(&ctx->shadow_cache);
	ioh_free(ctx->objs);
	ioh_free(ctx);
}

u32 ioasid_as_id(const struct ioasid_as *as)
{
	return as->obj.id;
}

bool ioasid_as_nested(const struct ioasid_as *as)
{
	return as->nest == NEST_CHILD;
}

struct ioasid_ctx *ioasid_as_ctx(const struct ioasid_as *as)
{
	return as->ctx;
}

void ioasid_ctx_mem_stats(struct ioasid_ctx *ctx, struct ioasid_mem_stats *s)
{
	ioh_lock(&ctx->lock);
	s->mappings = ioh_cache_live(&ctx->map_cache);
	s->mapping_bytes = ioh_cache_bytes(&ctx->map_cache);
	s->node_size = sizeof(struct ioasid_mapping);
	s->table_bytes = (u64)ctx->objs_cap * sizeof(*ctx->objs);
	ioh_unlock(&ctx->lock);
}
