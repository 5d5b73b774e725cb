// SPDX-License-Identifier: GPL-2.0
/*
 * tmem backend "zs": each page compressed with a kernel crypto compressor
 * (lz4 by default) and kept in a zsmalloc pool, as zswap keeps swap pages.
 *
 * A handle is a pointer to a struct tmem_zs_entry, in one of these states:
 *
 *  TMEM_ZS_SAME    every word of the page is one value: kept in the
 *                  entry, no allocation;
 *  TMEM_ZS_COMP    compressed, in zsmalloc, with the compressor named in
 *                  e->comp (which a compressor switch keeps alive for it);
 *  TMEM_ZS_RAW     incompressible, PAGE_SIZE bytes in zsmalloc;
 *  TMEM_ZS_STAGED  stored from atomic context: a raw copy in a page of its
 *                  own, queued to the worker, which moves it to
 *                  TMEM_ZS_COMP or TMEM_ZS_RAW (or TMEM_ZS_PAGE);
 *  TMEM_ZS_PAGE    the worker could not move it into zsmalloc (no memory,
 *                  or the compressor failed): the put was already
 *                  accepted, so the entry keeps its raw page for good;
 *  TMEM_ZS_DEAD    freed while TMEM_ZS_STAGED: the worker owns it and
 *                  releases it.
 *
 * Why a worker: cleancache puts come with interrupts off under the
 * mapping's i_pages lock (HARDIRQ-safe).  zsmalloc's locks are taken with
 * interrupts on, so taking them there would be a HARDIRQ-safe ->
 * HARDIRQ-unsafe order, and compressing means a per-CPU mutex.  An atomic
 * store therefore only copies the page and queues it; an atomic free of
 * an entry in zsmalloc queues it too.  The worker runs on a WQ_MEM_RECLAIM
 * workqueue of the instance, as it is what turns staged pages back into
 * free memory, and empties both queues on every run.
 *
 * Races:
 *  - only the worker moves an entry out of TMEM_ZS_STAGED, under zs->lock (an
 *    irq-safe spinlock), and it frees the staged page only after that;
 *    load() copies a staged page under zs->lock, so it never reads a
 *    freed page, and sees the new state otherwise;
 *  - free() of a TMEM_ZS_STAGED entry marks it TMEM_ZS_DEAD under zs->lock and
 *    leaves the rest to the worker, which finds it dead either before
 *    compressing or when publishing (then it drops what it made);
 *  - every other state is final until free(): tmem never frees an entry
 *    while it loads it, so load() and free() do not race with each other;
 *  - destroy waits for the worker before it frees anything.
 *
 * Gauges (struct tmem_zs_stats): stored counts the handles callers
 * hold, so free() drops it at once; the others count memory held, so a
 * deferred free drops them when the worker releases the entry.  A staged
 * page counts PAGE_SIZE bytes; TMEM_ZS_RAW and TMEM_ZS_PAGE entries count
 * as raw.
 * The worker never rejects, so its fallbacks are not counted as rejects.
 */
#include <linux/cpumask.h>
#include <linux/crypto.h>
#include <linux/err.h>
#include <linux/highmem.h>
#include <linux/list.h>
#include <linux/llist.h>
#include <linux/mutex.h>
#include <linux/percpu.h>
#include <linux/slab.h>
#include <linux/spinlock.h>
#include <linux/string.h>
#include <linux/workqueue.h>
#include <linux/zsmalloc.h>

#include "../mutant.h"
#include "zs.h"

/*
 * Atomic stores waiting for the worker, at most (8 MiB with 4 KiB pages):
 * beyond it a burst of atomic puts is rejected rather than pinning ever
 * more raw pages while the worker catches up.
 */
#define TMEM_ZS_MAX_STAGED		2048

/*
 * zs_malloc() in process context: no direct reclaim, as zswap (the store
 * is itself reclaim's way out); zspages may be highmem and movable.
 */
#define TMEM_ZS_GFP	(__GFP_NORETRY | __GFP_NOWARN | __GFP_KSWAPD_RECLAIM | \
			 __GFP_HIGHMEM | __GFP_MOVABLE)

enum tmem_zs_state {
	TMEM_ZS_SAME,
	TMEM_ZS_STAGED,
	TMEM_ZS_DEAD,
	TMEM_ZS_PAGE,
	TMEM_ZS_RAW,
	TMEM_ZS_COMP,
};

struct tmem_zs_comp;

struct tmem_zs_entry {
	struct llist_node node;		/* on zs->staged, or on zs->frees */
	union {
		unsigned long value;	/* TMEM_ZS_SAME */
		struct page *page;	/* TMEM_ZS_STAGED, TMEM_ZS_DEAD, TMEM_ZS_PAGE */
		unsigned long handle;	/* TMEM_ZS_RAW, TMEM_ZS_COMP */
	};
	struct tmem_zs_comp *comp;		/* TMEM_ZS_COMP */
	unsigned int length;		/* TMEM_ZS_COMP: compressed bytes */
	unsigned int state;		/* enum tmem_zs_state */
};

/* One CPU's share of a compressor, as zswap's crypto_acomp_ctx. */
struct tmem_zs_cpu {
	struct mutex mutex;		/* tfm and buffer */
	struct crypto_comp *tfm;
	u8 *buffer;			/* 2 pages: output may exceed a page */
};

struct tmem_zs_comp {
	struct list_head list;		/* on zs->comps */
	atomic_long_t users;		/* its TMEM_ZS_COMP entries, compressions */
	struct tmem_zs_cpu __percpu *cpu;
	char name[CRYPTO_MAX_ALG_NAME];
};

struct tmem_zs {
	struct tmem_backend be;
	struct zs_pool *pool;
	struct workqueue_struct *wq;
	struct work_struct work;
	struct llist_head staged;	/* TMEM_ZS_STAGED and TMEM_ZS_DEAD entries */
	struct llist_head frees;	/* deferred zs_free()s */
	spinlock_t lock;		/* leaving TMEM_ZS_STAGED; irq-safe */
	atomic_long_t pages;		/* raw pages outside zsmalloc */
	bool store_raw;
	unsigned int threshold;		/* percent of PAGE_SIZE */

	struct mutex comp_mutex;	/* serialises set_compressor */
	spinlock_t comp_lock;		/* cur, comps, a new user of cur */
	struct tmem_zs_comp *cur;
	struct list_head comps;

	struct tmem_zs_stats stats;
	struct pcache_counters rejects;	/* enum tmem_zs_reject */
};

/*
 * The entries of every instance of this module share one cache; it is
 * named after the module so that pcache.ko and pcache_kunit.ko, both with
 * this file, never create two caches of one name.
 */
static DEFINE_MUTEX(tmem_zs_cache_mutex);
static struct kmem_cache *tmem_zs_entry_cache;
static unsigned int tmem_zs_cache_users;

static int tmem_zs_cache_get(void)
{
	int ret = 0;

	mutex_lock(&tmem_zs_cache_mutex);
	if (!tmem_zs_cache_users) {
		tmem_zs_entry_cache = kmem_cache_create(KBUILD_MODNAME "_zs_entry",
							sizeof(struct tmem_zs_entry), 0,
						   0, NULL);
		if (!tmem_zs_entry_cache)
			ret = -ENOMEM;
	}
	if (!ret)
		tmem_zs_cache_users++;
	mutex_unlock(&tmem_zs_cache_mutex);
	return ret;
}

static void tmem_zs_cache_put(void)
{
	mutex_lock(&tmem_zs_cache_mutex);
	if (!--tmem_zs_cache_users) {
		kmem_cache_destroy(tmem_zs_entry_cache);
		tmem_zs_entry_cache = NULL;
	}
	mutex_unlock(&tmem_zs_cache_mutex);
}

static void tmem_zs_comp_free(struct tmem_zs_comp *comp)
{
	int cpu;

	for_each_possible_cpu(cpu) {
		struct tmem_zs_cpu *c = per_cpu_ptr(comp->cpu, cpu);

		if (c->tfm)
			crypto_free_comp(c->tfm);
		if (pcache_mutant(15))
			c->buffer = NULL;	/* lost, not freed */
		kfree(c->buffer);
		mutex_destroy(&c->mutex);
	}
	free_percpu(comp->cpu);
	kfree(comp);
}

/*
 * A tfm and buffer for every possible CPU, not only the online ones: no
 * CPU hotplug callbacks, and a task that migrates between picking its
 * CPU's share and locking it still finds a live one.
 */
static struct tmem_zs_comp *tmem_zs_comp_alloc(const char *name)
{
	struct tmem_zs_comp *comp;
	int cpu, ret = -ENOMEM;

	comp = kzalloc(sizeof(*comp), GFP_KERNEL);
	if (!comp)
		return ERR_PTR(-ENOMEM);
	strscpy(comp->name, name);
	comp->cpu = alloc_percpu(struct tmem_zs_cpu);
	if (!comp->cpu) {
		kfree(comp);
		return ERR_PTR(-ENOMEM);
	}
	for_each_possible_cpu(cpu)
		mutex_init(&per_cpu_ptr(comp->cpu, cpu)->mutex);
	for_each_possible_cpu(cpu) {
		struct tmem_zs_cpu *c = per_cpu_ptr(comp->cpu, cpu);
		struct crypto_comp *tfm;

		tfm = crypto_alloc_comp(name, 0, 0);
		if (IS_ERR(tfm)) {
			ret = PTR_ERR(tfm);
			goto fail;
		}
		c->tfm = tfm;
		c->buffer = kmalloc_node(2 * PAGE_SIZE, GFP_KERNEL,
					 cpu_to_node(cpu));
		if (!c->buffer)
			goto fail;
	}
	return comp;

fail:
	tmem_zs_comp_free(comp);
	return ERR_PTR(ret);
}

/* The current compressor, with a user taken: process context. */
static struct tmem_zs_comp *tmem_zs_comp_get(struct tmem_zs *zs)
{
	struct tmem_zs_comp *comp;

	spin_lock(&zs->comp_lock);
	comp = zs->cur;
	atomic_long_inc(&comp->users);
	spin_unlock(&zs->comp_lock);
	return comp;
}

/* This CPU's share of @comp, locked; the task may migrate, that is fine. */
static struct tmem_zs_cpu *tmem_zs_cpu_lock(struct tmem_zs_comp *comp)
{
	struct tmem_zs_cpu *c = raw_cpu_ptr(comp->cpu);

	mutex_lock(&c->mutex);
	return c;
}

static bool tmem_zs_same_filled(struct page *page, unsigned long *value)
{
	unsigned long *data = kmap_local_page(page);
	unsigned int i, n = PAGE_SIZE / sizeof(*data);
	bool same = data[n - 1] == data[0];

	for (i = 1; same && i < n - 1; i++)
		same = data[i] == data[0];
	*value = data[0];
	kunmap_local(data);
	return same;
}

/* Where tmem_zs_compress() put a page. */
struct tmem_zs_result {
	unsigned int state;		/* TMEM_ZS_COMP or TMEM_ZS_RAW */
	unsigned long handle;
	unsigned int length;
	struct tmem_zs_comp *comp;		/* TMEM_ZS_COMP: holds a user */
};

/*
 * Compress @page into zsmalloc; process context.  @accepted: the page was
 * already accepted (the worker), so an incompressible one is kept raw
 * whatever the mode and nothing is counted as a reject.
 *
 * Return: 0 and *@r filled, or -E2BIG (incompressible, mode reject),
 * -ENOMEM (zs_malloc failed), or the compressor's error.
 */
static int tmem_zs_compress(struct tmem_zs *zs, struct page *page,
			    bool accepted, struct tmem_zs_result *r)
{
	unsigned int dlen = 2 * PAGE_SIZE;
	unsigned int limit = PAGE_SIZE * READ_ONCE(zs->threshold) / 100;
	struct tmem_zs_comp *comp = tmem_zs_comp_get(zs);
	struct tmem_zs_cpu *c = tmem_zs_cpu_lock(comp);
	void *src, *dst;
	int ret;

	src = kmap_local_page(page);
	ret = crypto_comp_compress(c->tfm, src, PAGE_SIZE, c->buffer, &dlen);
	kunmap_local(src);
	if (ret) {
		if (!accepted)
			pcache_count(&zs->rejects, TMEM_ZS_REJECT_COMPRESS_FAIL);
		goto out;
	}
	if (dlen > limit) {
		if (!accepted && !READ_ONCE(zs->store_raw)) {
			pcache_count(&zs->rejects, TMEM_ZS_REJECT_COMPRESS_POOR);
			ret = -E2BIG;
			goto out;
		}
		r->state = TMEM_ZS_RAW;
		r->length = PAGE_SIZE;
	} else {
		r->state = TMEM_ZS_COMP;
		r->length = dlen;
	}
	r->handle = zs_malloc(zs->pool, r->length, TMEM_ZS_GFP);
	if (IS_ERR_VALUE(r->handle)) {
		if (!accepted)
			pcache_count(&zs->rejects, TMEM_ZS_REJECT_ALLOC_FAIL);
		ret = -ENOMEM;
		goto out;
	}
	dst = zs_map_object(zs->pool, r->handle, ZS_MM_WO);
	if (r->state == TMEM_ZS_COMP)
		memcpy(dst, c->buffer, dlen);
	else
		memcpy_from_page(dst, page, 0, PAGE_SIZE);
	zs_unmap_object(zs->pool, r->handle);
out:
	mutex_unlock(&c->mutex);
	if (!ret && r->state == TMEM_ZS_COMP) {
		r->comp = comp;
	} else {
		r->comp = NULL;
		atomic_long_dec(&comp->users);
	}
	return ret;
}

/* Account a tmem_zs_compress() result now held by an entry. */
static void tmem_zs_account(struct tmem_zs *zs, const struct tmem_zs_result *r)
{
	if (r->state == TMEM_ZS_RAW)
		atomic_long_inc(&zs->stats.raw);
	atomic_long_add(r->length, &zs->stats.bytes);
}

/*
 * Free @e and what it holds, in any state but TMEM_ZS_STAGED.  TMEM_ZS_RAW and
 * TMEM_ZS_COMP take zsmalloc's locks: process context with interrupts on.
 */
static void tmem_zs_release(struct tmem_zs *zs, struct tmem_zs_entry *e)
{
	switch (e->state) {
	case TMEM_ZS_SAME:
		atomic_long_dec(&zs->stats.same_filled);
		break;
	case TMEM_ZS_DEAD:
	case TMEM_ZS_PAGE:
		if (e->state == TMEM_ZS_DEAD)
			atomic_long_dec(&zs->stats.staged);
		else
			atomic_long_dec(&zs->stats.raw);
		__free_page(e->page);
		atomic_long_dec(&zs->pages);
		atomic_long_sub(PAGE_SIZE, &zs->stats.bytes);
		break;
	case TMEM_ZS_RAW:
		atomic_long_dec(&zs->stats.raw);
		fallthrough;
	case TMEM_ZS_COMP:
		zs_free(zs->pool, e->handle);
		atomic_long_sub(e->state == TMEM_ZS_COMP ? e->length : PAGE_SIZE,
				&zs->stats.bytes);
		if (e->state == TMEM_ZS_COMP)
			atomic_long_dec(&e->comp->users);
		break;
	default:
		WARN_ONCE(1, "tmem zs: releasing an entry in state %u\n",
			  e->state);
		return;
	}
	kmem_cache_free(tmem_zs_entry_cache, e);
}

/* The worker: move one staged entry into zsmalloc, or release it. */
static void tmem_zs_convert(struct tmem_zs *zs, struct tmem_zs_entry *e)
{
	struct page *page = e->page;	/* only the worker changes it */
	struct tmem_zs_result r;
	unsigned long flags;
	unsigned int state;
	int ret;

	/* Freed before its turn: nothing to compress. */
	if (READ_ONCE(e->state) == TMEM_ZS_DEAD) {
		tmem_zs_release(zs, e);
		return;
	}

	ret = tmem_zs_compress(zs, page, true, &r);

	spin_lock_irqsave(&zs->lock, flags);
	state = e->state;
	if (state == TMEM_ZS_STAGED) {
		/*
		 * Counted before it is published: free() may release the
		 * entry as soon as the lock is dropped.
		 */
		atomic_long_dec(&zs->stats.staged);
		if (ret) {
			state = TMEM_ZS_PAGE;
			atomic_long_inc(&zs->stats.raw);
		} else {
			state = r.state;
			e->handle = r.handle;
			e->length = r.length;
			e->comp = r.comp;
			tmem_zs_account(zs, &r);
			atomic_long_sub(PAGE_SIZE, &zs->stats.bytes);
		}
		/* Pairs with the lockless smp_load_acquire() of load/free. */
		smp_store_release(&e->state, state);
	}
	spin_unlock_irqrestore(&zs->lock, flags);

	if (state == TMEM_ZS_DEAD) {
		/* Freed while being compressed: drop what was made too. */
		if (!ret) {
			zs_free(zs->pool, r.handle);
			if (r.comp)
				atomic_long_dec(&r.comp->users);
		}
		tmem_zs_release(zs, e);
		return;
	}
	/* @e may be gone by now; a TMEM_ZS_PAGE entry kept @page. */
	if (state != TMEM_ZS_PAGE) {
		__free_page(page);
		atomic_long_dec(&zs->pages);
	}
}

static void tmem_zs_work(struct work_struct *work)
{
	struct tmem_zs *zs = container_of(work, struct tmem_zs, work);
	struct tmem_zs_entry *e, *next;
	struct llist_node *list;

	/* Frees first: they give memory back. */
	list = llist_del_all(&zs->frees);
	llist_for_each_entry_safe(e, next, list, node)
		tmem_zs_release(zs, e);

	/* Oldest first; a store queued meanwhile queues the work again. */
	list = llist_reverse_order(llist_del_all(&zs->staged));
	llist_for_each_entry_safe(e, next, list, node) {
		tmem_zs_convert(zs, e);
		cond_resched();
	}
}

/* Atomic context: copy @page aside for the worker. */
static int tmem_zs_stage(struct tmem_zs *zs, struct tmem_zs_entry *e,
			 struct page *page, gfp_t gfp)
{
	struct page *copy;

	if (atomic_long_read(&zs->stats.staged) >= TMEM_ZS_MAX_STAGED) {
		pcache_count(&zs->rejects, TMEM_ZS_REJECT_ALLOC_FAIL);
		return -ENOMEM;
	}
	copy = alloc_page(gfp | __GFP_NOWARN);
	if (!copy) {
		pcache_count(&zs->rejects, TMEM_ZS_REJECT_ALLOC_FAIL);
		return -ENOMEM;
	}
	copy_highpage(copy, page);
	e->page = copy;
	e->state = TMEM_ZS_STAGED;
	atomic_long_inc(&zs->stats.staged);
	atomic_long_inc(&zs->pages);
	atomic_long_add(PAGE_SIZE, &zs->stats.bytes);
	/* Counted first: the worker may take it at once. */
	llist_add(&e->node, &zs->staged);
	queue_work(zs->wq, &zs->work);
	return 0;
}

static int tmem_zs_store(void *priv, struct page *page, unsigned long *handle,
			 gfp_t gfp)
{
	struct tmem_zs *zs = priv;
	struct tmem_zs_result r;
	struct tmem_zs_entry *e;
	int ret;

	e = kmem_cache_alloc(tmem_zs_entry_cache, gfp | __GFP_NOWARN);
	if (!e) {
		pcache_count(&zs->rejects, TMEM_ZS_REJECT_KMEMCACHE_FAIL);
		return -ENOMEM;
	}

	if (tmem_zs_same_filled(page, &e->value)) {
		e->state = TMEM_ZS_SAME;
		atomic_long_inc(&zs->stats.same_filled);
	} else if (!gfpflags_allow_blocking(gfp)) {
		ret = tmem_zs_stage(zs, e, page, gfp);
		if (ret)
			goto fail;
	} else {
		ret = tmem_zs_compress(zs, page, false, &r);
		if (ret)
			goto fail;
		e->handle = r.handle;
		e->length = r.length;
		e->comp = r.comp;
		e->state = r.state;
		tmem_zs_account(zs, &r);
	}
	atomic_long_inc(&zs->stats.stored);
	*handle = (unsigned long)e;
	return 0;

fail:
	kmem_cache_free(tmem_zs_entry_cache, e);
	return ret;
}

static int tmem_zs_decompress(struct tmem_zs *zs, struct tmem_zs_entry *e,
			      struct page *page)
{
	struct tmem_zs_cpu *c = tmem_zs_cpu_lock(e->comp);
	unsigned int dlen = PAGE_SIZE;
	void *src, *dst;
	int ret;

	/* The lz4, lzo and zstd tfms do not sleep: fine inside the map. */
	src = zs_map_object(zs->pool, e->handle, ZS_MM_RO);
	dst = kmap_local_page(page);
	ret = crypto_comp_decompress(c->tfm, src, e->length, dst, &dlen);
	kunmap_local(dst);
	zs_unmap_object(zs->pool, e->handle);
	mutex_unlock(&c->mutex);
	if (!ret && dlen != PAGE_SIZE)
		ret = -EIO;
	WARN_ONCE(ret, "tmem zs: %s decompression failed: %d\n",
		  e->comp->name, ret);
	return ret;
}

static int tmem_zs_load(void *priv, unsigned long handle, struct page *page)
{
	struct tmem_zs_entry *e = (struct tmem_zs_entry *)handle;
	struct tmem_zs *zs = priv;
	unsigned long flags;
	unsigned int state;
	void *p;

	/* Pairs with tmem_zs_convert()'s release: the fields of a new state. */
	state = smp_load_acquire(&e->state);
	if (state == TMEM_ZS_STAGED) {
		/* Under the lock the worker cannot free the page. */
		spin_lock_irqsave(&zs->lock, flags);
		state = e->state;
		if (state == TMEM_ZS_STAGED)
			copy_highpage(page, e->page);
		spin_unlock_irqrestore(&zs->lock, flags);
		if (state == TMEM_ZS_STAGED)
			return 0;
	}

	switch (state) {
	case TMEM_ZS_SAME:
		p = kmap_local_page(page);
		memset_l(p, e->value, PAGE_SIZE / sizeof(unsigned long));
		kunmap_local(p);
		return 0;
	case TMEM_ZS_PAGE:
		copy_highpage(page, e->page);
		return 0;
	case TMEM_ZS_RAW:
		p = zs_map_object(zs->pool, e->handle, ZS_MM_RO);
		memcpy_to_page(page, 0, p, PAGE_SIZE);
		zs_unmap_object(zs->pool, e->handle);
		return 0;
	case TMEM_ZS_COMP:
		return tmem_zs_decompress(zs, e, page);
	}
	WARN_ONCE(1, "tmem zs: load of an entry in state %u\n", state);
	return -EINVAL;
}

static void tmem_zs_free(void *priv, unsigned long handle)
{
	struct tmem_zs_entry *e = (struct tmem_zs_entry *)handle;
	struct tmem_zs *zs = priv;
	unsigned long flags;
	unsigned int state;

	atomic_long_dec(&zs->stats.stored);
	/* Pairs with tmem_zs_convert()'s release: the fields of a new state. */
	state = smp_load_acquire(&e->state);
	if (state == TMEM_ZS_STAGED) {
		spin_lock_irqsave(&zs->lock, flags);
		state = e->state;
		if (state == TMEM_ZS_STAGED)
			WRITE_ONCE(e->state, TMEM_ZS_DEAD);
		spin_unlock_irqrestore(&zs->lock, flags);
		if (state == TMEM_ZS_STAGED)
			return;		/* the worker has it queued */
	}

	/* zs_free() takes zsmalloc's locks, which must not nest in ours. */
	if ((state == TMEM_ZS_RAW || state == TMEM_ZS_COMP) &&
	    (irqs_disabled() || in_interrupt())) {
		llist_add(&e->node, &zs->frees);
		queue_work(zs->wq, &zs->work);
		return;
	}
	tmem_zs_release(zs, e);
}

/**
 * tmem_zs_create - a compressed RAM backend
 * @name: names its zsmalloc pool and workqueue
 * @compressor: crypto compression algorithm, "lz4" for instance
 *
 * Process context (GFP_KERNEL).  Stores incompressible pages raw and
 * takes 75 percent of a page as the compression threshold until told
 * otherwise.
 *
 * Return: the backend, or ERR_PTR(-EINVAL) if the kernel has no such
 * compressor, ERR_PTR(-ENOMEM).
 */
struct tmem_zs *tmem_zs_create(const char *name, const char *compressor)
{
	struct tmem_zs_comp *comp;
	struct tmem_zs *zs;
	int ret = -ENOMEM;

	if (!compressor || !crypto_has_comp(compressor, 0, 0))
		return ERR_PTR(-EINVAL);
	zs = kzalloc(sizeof(*zs), GFP_KERNEL);
	if (!zs)
		return ERR_PTR(-ENOMEM);
	if (pcache_counters_init(&zs->rejects, TMEM_ZS_NR_REJECTS))
		goto free_zs;
	if (tmem_zs_cache_get())
		goto free_counters;
	zs->pool = zs_create_pool(name);
	if (!zs->pool)
		goto put_cache;
	zs->wq = alloc_workqueue(pcache_mutant(14) ? "tmem_zs_%s" : "%s",
				 WQ_UNBOUND | WQ_MEM_RECLAIM, 0, name);
	if (!zs->wq)
		goto destroy_pool;
	comp = tmem_zs_comp_alloc(compressor);
	if (IS_ERR(comp)) {
		ret = PTR_ERR(comp);
		goto destroy_wq;
	}

	INIT_WORK(&zs->work, tmem_zs_work);
	init_llist_head(&zs->staged);
	init_llist_head(&zs->frees);
	spin_lock_init(&zs->lock);
	zs->store_raw = true;
	zs->threshold = 75;
	mutex_init(&zs->comp_mutex);
	spin_lock_init(&zs->comp_lock);
	INIT_LIST_HEAD(&zs->comps);
	list_add(&comp->list, &zs->comps);
	zs->cur = comp;
	zs->be = (struct tmem_backend){
		.name = "zs", .store = tmem_zs_store, .load = tmem_zs_load,
		.free = tmem_zs_free, .priv = zs,
	};
	return zs;

destroy_wq:
	destroy_workqueue(zs->wq);
destroy_pool:
	zs_destroy_pool(zs->pool);
put_cache:
	tmem_zs_cache_put();
free_counters:
	pcache_counters_free(&zs->rejects);
free_zs:
	kfree(zs);
	return ERR_PTR(ret);
}

/**
 * tmem_zs_destroy - free a backend
 * @zs: from tmem_zs_create(); NULL or an error pointer is ignored
 *
 * Every handle must have been freed already; waits for the worker to
 * finish the deferred frees first.  Process context.
 */
void tmem_zs_destroy(struct tmem_zs *zs)
{
	struct tmem_zs_comp *comp, *tmp;

	if (IS_ERR_OR_NULL(zs))
		return;
	tmem_zs_drain(zs);
	destroy_workqueue(zs->wq);
	WARN_ONCE(atomic_long_read(&zs->stats.stored),
		  "tmem zs: destroyed with %ld pages stored\n",
		  atomic_long_read(&zs->stats.stored));
	list_for_each_entry_safe(comp, tmp, &zs->comps, list)
		tmem_zs_comp_free(comp);
	zs_destroy_pool(zs->pool);
	mutex_destroy(&zs->comp_mutex);
	pcache_counters_free(&zs->rejects);
	kfree(zs);
	tmem_zs_cache_put();
}

/**
 * tmem_zs_backend - the tmem backend of @zs, for tmem_new_pool()
 * @zs: the backend instance
 *
 * Return: its ops, with .priv = @zs; valid until tmem_zs_destroy().
 */
const struct tmem_backend *tmem_zs_backend(struct tmem_zs *zs)
{
	return &zs->be;
}

/**
 * tmem_zs_set_compressor - compress the next stores with @name
 * @zs: the backend instance
 * @name: crypto compression algorithm
 *
 * Pages already stored keep the compressor they were stored with, which
 * stays loaded while any of them is left; one that no page uses any
 * more is freed here.  Process context.
 *
 * Return: 0, -EINVAL if the kernel has no compressor @name, -ENOMEM.
 */
int tmem_zs_set_compressor(struct tmem_zs *zs, const char *name)
{
	struct tmem_zs_comp *comp, *tmp, *found = NULL;
	LIST_HEAD(unused);
	bool new = false;

	if (!name || !crypto_has_comp(name, 0, 0))
		return -EINVAL;

	mutex_lock(&zs->comp_mutex);
	/* Only set_compressor changes the list: no comp_lock to read it. */
	list_for_each_entry(comp, &zs->comps, list) {
		if (!strcmp(comp->name, name)) {
			found = comp;
			break;
		}
	}
	if (!found) {
		found = tmem_zs_comp_alloc(name);
		if (IS_ERR(found)) {
			mutex_unlock(&zs->comp_mutex);
			return PTR_ERR(found);
		}
		new = true;
	}

	spin_lock(&zs->comp_lock);
	if (new)
		list_add(&found->list, &zs->comps);
	WRITE_ONCE(zs->cur, found);
	/*
	 * A compressor that is not current and has no user gets none any
	 * more: users are only taken of zs->cur, under comp_lock.
	 */
	list_for_each_entry_safe(comp, tmp, &zs->comps, list) {
		if (comp != found && !atomic_long_read(&comp->users))
			list_move(&comp->list, &unused);
	}
	spin_unlock(&zs->comp_lock);
	mutex_unlock(&zs->comp_mutex);

	list_for_each_entry_safe(comp, tmp, &unused, list)
		tmem_zs_comp_free(comp);
	return 0;
}

/**
 * tmem_zs_compressor - name of the compressor of the next stores
 * @zs: the backend instance
 *
 * Return: the name, valid until the next tmem_zs_set_compressor().
 */
const char *tmem_zs_compressor(struct tmem_zs *zs)
{
	return READ_ONCE(zs->cur)->name;
}

/**
 * tmem_zs_set_store_raw - what to do with incompressible pages
 * @zs: the backend instance
 * @raw: true: store them uncompressed (the default); false: reject them
 *	(-E2BIG from store, counted in reject_compress_poor)
 *
 * An atomic-context store is already accepted when the worker finds it
 * incompressible: it is kept raw either way.
 */
void tmem_zs_set_store_raw(struct tmem_zs *zs, bool raw)
{
	WRITE_ONCE(zs->store_raw, raw);
}

/**
 * tmem_zs_set_threshold - when a page counts as incompressible
 * @zs: the backend instance
 * @pct: 1..100 (clamped), default 75: a page that compresses to more than
 *	@pct percent of PAGE_SIZE is incompressible
 */
void tmem_zs_set_threshold(struct tmem_zs *zs, unsigned int pct)
{
	WRITE_ONCE(zs->threshold, clamp(pct, 1U, 100U));
}

/**
 * tmem_zs_total_pages - memory the backend uses
 * @zs: the backend instance
 *
 * Return: pages of the zsmalloc pool plus raw pages held outside it
 * (staged stores, and those the worker had to keep raw).
 */
unsigned long tmem_zs_total_pages(struct tmem_zs *zs)
{
	return zs_get_total_pages(zs->pool) + atomic_long_read(&zs->pages);
}

/**
 * tmem_zs_drain - wait for the worker
 * @zs: the backend instance
 *
 * Returns when every store staged and every free deferred before the call
 * is done.  Process context.
 */
void tmem_zs_drain(struct tmem_zs *zs)
{
	flush_work(&zs->work);
}

/**
 * tmem_zs_stats - the counters of @zs
 * @zs: the backend instance
 *
 * Return: its counters, read with atomic_long_read().
 */
struct tmem_zs_stats *tmem_zs_stats(struct tmem_zs *zs)
{
	return &zs->stats;
}

/**
 * tmem_zs_rejects - how many stores @zs refused, and why
 * @zs: the backend
 * @why: the reason
 *
 * Return: the count since tmem_zs_create().
 */
unsigned long tmem_zs_rejects(struct tmem_zs *zs, enum tmem_zs_reject why)
{
	return pcache_counter_read(&zs->rejects, why);
}
