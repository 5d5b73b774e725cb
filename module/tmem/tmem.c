// SPDX-License-Identifier: GPL-2.0
/*
 * tmem: transcendent memory pools, after Dan Magenheimer's tmem for Xen
 * (2009), the core under pcache's cleancache (an ephemeral pool per
 * filesystem) and frontswap (a persistent pool per swap device).
 *
 * A page is addressed by a handle (pool id, 64-bit object id, 32-bit
 * index) and is only ever copied in and out: tmem never maps or lends its
 * pages.  The rules, as the original defines them:
 *
 *  - a put copies and may be rejected; a put that fails also drops any
 *    older copy at that handle (put-put-get: after put D1, put D2, a get
 *    never returns D1);
 *  - a persistent pool returns a page on every get until it is flushed;
 *    an ephemeral page may vanish at any time;
 *  - a get from a private pool is exclusive (it removes the page), from a
 *    shared pool it is not (get-get: two gets return the same data);
 *  - flush_page drops one page, flush_object every page of an object,
 *    destroy_pool the pool.
 *
 * Pages are kept by a backend (struct tmem_backend): tmem holds handles.
 * Each pool keeps its entries in put order, so that a front can evict
 * (ephemeral) or write back (persistent) the oldest first.
 *
 * Locking: tmem_pools_lock guards changes to the pool table; lookups are
 * lock-free under RCU (pools are freed after a grace period), as they sit
 * on every put and get.  Each pool has one
 * spinlock, taken with interrupts off (puts come from page cache removal
 * under the i_pages lock), that guards its object xarray, each object's
 * page xarray and the counters; xarray nodes are allocated under it with
 * GFP_NOWAIT.  Backends are called without it: an entry is refcounted so
 * that a get from a shared pool can copy outside the lock while a flush
 * removes it.
 */
#include <linux/err.h>
#include <linux/idr.h>
#include <linux/rcupdate.h>
#include <linux/refcount.h>
#include <linux/slab.h>
#include <linux/spinlock.h>
#include <linux/xarray.h>

#include "tmem.h"

struct tmem_entry {
	refcount_t ref;
	unsigned long handle;
	struct list_head lru;		/* pool->lru, oldest first */
	u64 oid;
	u32 index;
};

struct tmem_obj {
	struct xarray pages;		/* index -> struct tmem_entry */
};

struct tmem_pool {
	struct rcu_head rcu;
	int id;
	unsigned int flags;
	uuid_t uuid;
	refcount_t users;		/* shared pools: one per new_pool */
	const struct tmem_backend *be;
	spinlock_t lock;		/* objs, their pages, nr_pages */
	struct xarray objs;		/* oid -> struct tmem_obj */
	struct list_head lru;		/* every entry, oldest put first */
	long nr_pages;
};

static DEFINE_IDR(tmem_pools);
static DEFINE_SPINLOCK(tmem_pools_lock);

#define TMEM_GFP_LOCKED	(GFP_NOWAIT | __GFP_NOWARN)

/*
 * The pool of @pool_id.  The caller must not destroy it concurrently (the
 * fronts destroy a pool only after their last put and get on it).
 */
static struct tmem_pool *tmem_pool_find(int pool_id)
{
	struct tmem_pool *pool;

	rcu_read_lock();
	pool = idr_find(&tmem_pools, pool_id);
	rcu_read_unlock();
	return pool;
}

static void tmem_entry_put(struct tmem_pool *pool, struct tmem_entry *e)
{
	if (refcount_dec_and_test(&e->ref)) {
		pool->be->free(pool->be->priv, e->handle);
		kfree(e);
	}
}

/* Remove the entry at (oid, index); pool->lock held.  Returns it or NULL. */
static struct tmem_entry *tmem_unlink(struct tmem_pool *pool, u64 oid,
				      u32 index)
{
	struct tmem_obj *obj = xa_load(&pool->objs, oid);
	struct tmem_entry *e;

	if (!obj)
		return NULL;
	e = xa_erase(&obj->pages, index);
	if (e) {
		list_del(&e->lru);
		pool->nr_pages--;
	}
	if (xa_empty(&obj->pages)) {
		xa_erase(&pool->objs, oid);
		xa_destroy(&obj->pages);
		kfree(obj);
	}
	return e;
}

/**
 * tmem_new_pool - create a pool, or join the shared pool of @uuid
 * @be: the backend that keeps the pages
 * @flags: TMEM_POOL_PERSIST, TMEM_POOL_SHARED
 * @uuid: for a shared pool, its identity; ignored otherwise
 *
 * Return: the pool id (>= 0), or -errno.
 */
int tmem_new_pool(const struct tmem_backend *be, unsigned int flags,
		  const uuid_t *uuid)
{
	struct tmem_pool *pool, *p;
	int id;

	if (!be || (flags & ~(TMEM_POOL_PERSIST | TMEM_POOL_SHARED)) ||
	    ((flags & TMEM_POOL_SHARED) && !uuid))
		return -EINVAL;
	pool = kzalloc(sizeof(*pool), GFP_KERNEL);
	if (!pool)
		return -ENOMEM;
	pool->flags = flags;
	pool->be = be;
	if (flags & TMEM_POOL_SHARED)
		uuid_copy(&pool->uuid, uuid);
	refcount_set(&pool->users, 1);
	spin_lock_init(&pool->lock);
	xa_init(&pool->objs);
	INIT_LIST_HEAD(&pool->lru);

	idr_preload(GFP_KERNEL);
	spin_lock(&tmem_pools_lock);
	if (flags & TMEM_POOL_SHARED) {
		idr_for_each_entry(&tmem_pools, p, id) {
			if (p->flags == flags && p->be == be &&
			    uuid_equal(&p->uuid, uuid)) {
				refcount_inc(&p->users);
				spin_unlock(&tmem_pools_lock);
				idr_preload_end();
				kfree(pool);
				return id;
			}
		}
	}
	id = idr_alloc(&tmem_pools, pool, 0, INT_MAX, GFP_NOWAIT);
	if (id >= 0)
		pool->id = id;
	spin_unlock(&tmem_pools_lock);
	idr_preload_end();
	if (id < 0)
		kfree(pool);
	return id;
}

/**
 * tmem_destroy_pool - drop a pool (for a shared pool: one user of it)
 * @pool_id: the pool
 *
 * The last user frees every page the pool holds.
 *
 * Return: 0, or -EINVAL if there is no such pool.
 */
int tmem_destroy_pool(int pool_id)
{
	struct tmem_pool *pool;
	struct tmem_obj *obj;
	struct tmem_entry *e;
	unsigned long oid, index;

	spin_lock(&tmem_pools_lock);
	pool = idr_find(&tmem_pools, pool_id);
	if (pool && !refcount_dec_and_test(&pool->users)) {
		spin_unlock(&tmem_pools_lock);
		return 0;
	}
	if (pool)
		idr_remove(&tmem_pools, pool_id);
	spin_unlock(&tmem_pools_lock);
	if (!pool)
		return -EINVAL;

	/* Nobody can find the pool now; callers in flight are the caller's. */
	xa_for_each(&pool->objs, oid, obj) {
		xa_for_each(&obj->pages, index, e)
			tmem_entry_put(pool, e);
		xa_destroy(&obj->pages);
		kfree(obj);
	}
	xa_destroy(&pool->objs);
	kfree_rcu(pool, rcu);
	return 0;
}

/* A new entry holding the backend's copy of @page, or an ERR_PTR. */
static struct tmem_entry *tmem_entry_new(struct tmem_pool *pool, u64 oid,
					 u32 index, struct page *page,
					 gfp_t gfp)
{
	struct tmem_entry *e;
	int ret;

	e = kmalloc(sizeof(*e), gfp | __GFP_NOWARN);
	if (!e)
		return ERR_PTR(-ENOMEM);
	refcount_set(&e->ref, 1);
	e->oid = oid;
	e->index = index;
	ret = pool->be->store(pool->be->priv, page, &e->handle, gfp);
	if (ret) {
		kfree(e);
		return ERR_PTR(ret);
	}
	return e;
}

/* @oid's object in @pool, created if need be, or NULL; pool->lock held. */
static struct tmem_obj *tmem_obj_get(struct tmem_pool *pool, u64 oid)
{
	struct tmem_obj *obj;

	lockdep_assert_held(&pool->lock);
	obj = xa_load(&pool->objs, oid);
	if (obj)
		return obj;
	obj = kmalloc(sizeof(*obj), TMEM_GFP_LOCKED);
	if (!obj)
		return NULL;
	xa_init(&obj->pages);
	if (xa_err(xa_store(&pool->objs, oid, obj, TMEM_GFP_LOCKED))) {
		kfree(obj);
		return NULL;
	}
	return obj;
}

/*
 * Link @e at its index of @obj, the newest of the pool's LRU; pool->lock
 * held.  *@old is the entry it replaced, or on failure the one it unlinked
 * from that index, for the caller to put: no older copy stays either way.
 */
static int tmem_link(struct tmem_pool *pool, struct tmem_obj *obj,
		     struct tmem_entry *e, struct tmem_entry **old)
{
	struct tmem_entry *prev;

	lockdep_assert_held(&pool->lock);
	prev = xa_store(&obj->pages, e->index, e, TMEM_GFP_LOCKED);
	if (xa_is_err(prev)) {
		*old = tmem_unlink(pool, e->oid, e->index);
		return xa_err(prev);
	}
	if (prev)
		list_del(&prev->lru);
	else
		pool->nr_pages++;
	list_add_tail(&e->lru, &pool->lru);
	*old = prev;
	return 0;
}

/**
 * tmem_put_page - copy @page into the pool at (@oid, @index)
 * @pool_id: the pool
 * @oid: object id
 * @index: page index in the object
 * @page: the data
 * @gfp: allocation context of the caller
 *
 * Return: 0 if stored; -errno if rejected, in which case no older copy at
 * that handle remains either.
 */
int tmem_put_page(int pool_id, u64 oid, u32 index, struct page *page,
		  gfp_t gfp)
{
	struct tmem_pool *pool = tmem_pool_find(pool_id);
	struct tmem_entry *e, *old = NULL;
	struct tmem_obj *obj;
	unsigned long flags;
	int ret = -ENOMEM;

	if (!pool)
		return -EINVAL;
	e = tmem_entry_new(pool, oid, index, page, gfp);
	if (IS_ERR(e)) {
		tmem_flush_page(pool_id, oid, index);
		return PTR_ERR(e);
	}
	spin_lock_irqsave(&pool->lock, flags);
	/* No object means no older copy to drop. */
	obj = tmem_obj_get(pool, oid);
	if (obj)
		ret = tmem_link(pool, obj, e, &old);
	spin_unlock_irqrestore(&pool->lock, flags);
	if (old)
		tmem_entry_put(pool, old);
	if (ret)
		tmem_entry_put(pool, e);
	return ret;
}

static int __tmem_get_page(int pool_id, u64 oid, u32 index, struct page *page,
			   bool keep)
{
	struct tmem_pool *pool = tmem_pool_find(pool_id);
	struct tmem_entry *e = NULL;
	struct tmem_obj *obj;
	unsigned long flags;
	int ret;

	if (!pool)
		return -EINVAL;
	spin_lock_irqsave(&pool->lock, flags);
	if (keep || (pool->flags & TMEM_POOL_SHARED)) {
		obj = xa_load(&pool->objs, oid);
		e = obj ? xa_load(&obj->pages, index) : NULL;
		if (e)
			refcount_inc(&e->ref);
	} else {
		e = tmem_unlink(pool, oid, index);
	}
	spin_unlock_irqrestore(&pool->lock, flags);
	if (!e)
		return -ENOENT;
	ret = page ? pool->be->load(pool->be->priv, e->handle, page) : 0;
	tmem_entry_put(pool, e);
	return ret;
}

/**
 * tmem_get_page - copy the page at (@oid, @index) into @page
 * @pool_id: the pool
 * @oid: object id
 * @index: page index in the object
 * @page: where the data goes
 *
 * A get from a private pool removes the page; from a shared pool it does
 * not.
 *
 * Return: 0, -ENOENT if the pool has no such page, -EINVAL if no pool.
 */
int tmem_get_page(int pool_id, u64 oid, u32 index, struct page *page)
{
	return __tmem_get_page(pool_id, oid, index, page, false);
}

/**
 * tmem_peek_page - copy the page at (@oid, @index), leaving it in the pool
 * @pool_id: the pool
 * @oid: object id
 * @index: page index in the object
 * @page: where the data goes, or NULL to only test that the page is there
 *
 * A non-exclusive get, whatever the pool: frontswap's swap-in into a page
 * outside the swap cache, which may be dropped again, uses it.
 *
 * Return: 0, -ENOENT if the pool has no such page, -EINVAL if no pool.
 */
int tmem_peek_page(int pool_id, u64 oid, u32 index, struct page *page)
{
	return __tmem_get_page(pool_id, oid, index, page, true);
}

/**
 * tmem_flush_page - drop the page at (@oid, @index)
 * @pool_id: the pool
 * @oid: object id
 * @index: page index in the object
 *
 * Return: 0, -ENOENT if there was no such page, -EINVAL if no pool.
 */
int tmem_flush_page(int pool_id, u64 oid, u32 index)
{
	struct tmem_pool *pool = tmem_pool_find(pool_id);
	struct tmem_entry *e;
	unsigned long flags;

	if (!pool)
		return -EINVAL;
	spin_lock_irqsave(&pool->lock, flags);
	e = tmem_unlink(pool, oid, index);
	spin_unlock_irqrestore(&pool->lock, flags);
	if (!e)
		return -ENOENT;
	tmem_entry_put(pool, e);
	return 0;
}

/**
 * tmem_flush_object - drop every page of object @oid
 * @pool_id: the pool
 * @oid: object id
 *
 * Return: the number of pages dropped, or -EINVAL if no pool.
 */
int tmem_flush_object(int pool_id, u64 oid)
{
	struct tmem_pool *pool = tmem_pool_find(pool_id);
	struct tmem_entry *e;
	struct tmem_obj *obj;
	unsigned long flags, index;
	int n = 0;

	if (!pool)
		return -EINVAL;
	spin_lock_irqsave(&pool->lock, flags);
	obj = xa_erase(&pool->objs, oid);
	if (obj) {
		xa_for_each(&obj->pages, index, e) {
			list_del(&e->lru);
			n++;
		}
		pool->nr_pages -= n;
	}
	spin_unlock_irqrestore(&pool->lock, flags);
	if (!obj)
		return 0;
	/* Unlinked: no other caller can reach the object any more. */
	xa_for_each(&obj->pages, index, e)
		tmem_entry_put(pool, e);
	xa_destroy(&obj->pages);
	kfree(obj);
	return n;
}

/**
 * tmem_pool_pages - pages a pool holds
 * @pool_id: the pool
 *
 * Return: the count, or -EINVAL if no pool.
 */
long tmem_pool_pages(int pool_id)
{
	struct tmem_pool *pool = tmem_pool_find(pool_id);

	return pool ? READ_ONCE(pool->nr_pages) : -EINVAL;
}

/**
 * tmem_flush_range - drop the pages @first..@last (inclusive) of @oid
 * @pool_id: the pool
 * @oid: object id
 * @first: first index
 * @last: last index
 *
 * Return: the number of pages dropped, or -EINVAL if no pool.
 */
int tmem_flush_range(int pool_id, u64 oid, u32 first, u32 last)
{
	struct tmem_pool *pool = tmem_pool_find(pool_id);
	struct tmem_entry *e, *next;
	struct tmem_obj *obj;
	unsigned long flags, index;
	LIST_HEAD(dead);
	int n = 0;

	if (!pool)
		return -EINVAL;
	if (first == 0 && last == U32_MAX)
		return tmem_flush_object(pool_id, oid);
	spin_lock_irqsave(&pool->lock, flags);
	obj = xa_load(&pool->objs, oid);
	if (obj) {
		xa_for_each_range(&obj->pages, index, e, first, last) {
			tmem_unlink(pool, oid, index);
			/* The lru link is free once unlinked: collect on it. */
			list_add(&e->lru, &dead);
			n++;
			if (xa_load(&pool->objs, oid) != obj)
				break;	/* the object went with its last page */
		}
	}
	spin_unlock_irqrestore(&pool->lock, flags);
	list_for_each_entry_safe(e, next, &dead, lru)
		tmem_entry_put(pool, e);
	return n;
}

/**
 * tmem_evict_oldest - drop up to @nr of the oldest pages of a pool
 * @pool_id: the pool
 * @nr: how many at most
 *
 * For ephemeral pools (a victim cache may lose pages at any time); a
 * persistent pool refuses.
 *
 * Return: the number of pages dropped, or -EINVAL.
 */
long tmem_evict_oldest(int pool_id, long nr)
{
	struct tmem_pool *pool = tmem_pool_find(pool_id);
	struct tmem_entry *e, *next;
	unsigned long flags;
	LIST_HEAD(dead);
	long n = 0;

	if (!pool || (pool->flags & TMEM_POOL_PERSIST))
		return -EINVAL;
	spin_lock_irqsave(&pool->lock, flags);
	while (n < nr && !list_empty(&pool->lru)) {
		e = list_first_entry(&pool->lru, struct tmem_entry, lru);
		tmem_unlink(pool, e->oid, e->index);
		list_add(&e->lru, &dead);
		n++;
	}
	spin_unlock_irqrestore(&pool->lock, flags);
	list_for_each_entry_safe(e, next, &dead, lru)
		tmem_entry_put(pool, e);
	return n;
}

/**
 * tmem_oldest - the handle of the oldest page of a pool
 * @pool_id: the pool
 * @oid: set to its object id
 * @index: set to its index
 *
 * Return: 0, -ENOENT if the pool is empty, -EINVAL if no pool.
 */
int tmem_oldest(int pool_id, u64 *oid, u32 *index)
{
	struct tmem_pool *pool = tmem_pool_find(pool_id);
	struct tmem_entry *e;
	unsigned long flags;
	int ret = -ENOENT;

	if (!pool)
		return -EINVAL;
	spin_lock_irqsave(&pool->lock, flags);
	e = list_first_entry_or_null(&pool->lru, struct tmem_entry, lru);
	if (e) {
		*oid = e->oid;
		*index = e->index;
		ret = 0;
	}
	spin_unlock_irqrestore(&pool->lock, flags);
	return ret;
}

/**
 * tmem_touch - make the page at (@oid, @index) the newest of its pool
 * @pool_id: the pool
 * @oid: object id
 * @index: page index in the object
 *
 * Return: 0, -ENOENT if the pool has no such page, -EINVAL if no pool.
 */
int tmem_touch(int pool_id, u64 oid, u32 index)
{
	struct tmem_pool *pool = tmem_pool_find(pool_id);
	struct tmem_entry *e = NULL;
	struct tmem_obj *obj;
	unsigned long flags;

	if (!pool)
		return -EINVAL;
	spin_lock_irqsave(&pool->lock, flags);
	obj = xa_load(&pool->objs, oid);
	if (obj)
		e = xa_load(&obj->pages, index);
	if (e)
		list_move_tail(&e->lru, &pool->lru);
	spin_unlock_irqrestore(&pool->lock, flags);
	return e ? 0 : -ENOENT;
}
