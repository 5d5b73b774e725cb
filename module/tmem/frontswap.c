// SPDX-License-Identifier: GPL-2.0
/*
 * frontswap: a persistent tmem pool in front of each swap device
 * (Magenheimer's frontswap, mainline 3.5 to 5.17, where zswap now sits).
 *
 *   store	swap_writepage(), when neither the zeromap nor zswap took
 *		the folio: a stored folio is not written to the device.  A
 *		refused store drops any older copy of the slot, so the pool
 *		never holds stale data;
 *   load	swap_read_folio(), after the zeromap and zswap.  Into the swap
 *		cache the get is exclusive and the folio is dirtied (it must
 *		be written again if reclaimed), as zswap does; into a private
 *		folio (SWP_SYNCHRONOUS_IO) the copy stays;
 *   invalidate	the slot was freed, or the zeromap or zswap took the folio
 *		swapped out to it (the older copy goes);
 *   swapoff	try_to_unuse() has loaded every page back: drop the pool.
 *
 * A page is keyed by (pool of the swap type, offset / 512, offset % 512).
 * The pool is created on the first store to a swap type.  Everything that
 * uses a pool id runs inside frontswap_srcu, and a pool is destroyed (swapoff,
 * unload) only after its id was cleared and frontswap_srcu synchronized.
 *
 * The pool may hold the only copy of swapped memory.  When it is full the
 * store is refused (the folio goes to the device) and, with the writeback
 * knob, a worker writes the oldest pages back to their slots until the
 * pool is under 90 % of its limit.  Switching frontswap off (and unloading
 * pcache) first writes every stored page back (pcache_swap_writeback(),
 * in the hook series); if that cannot finish, switching off fails with
 * -EBUSY and frontswap stays on.  Unloading retries until it finishes.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": frontswap: " fmt

#include <linux/delay.h>
#include <linux/jiffies.h>
#include <linux/sched/mm.h>
#include <linux/swap.h>
#include <linux/swapops.h>
#include <linux/workqueue.h>

#include "front.h"
#include "trace.h"

struct pcache_tmem_front pcache_frontswap = {
	.name			= "persistent",
	.persistent		= true,
	.max_pool_percent	= 20,
	.store_raw		= true,
	.threshold		= 75,
	.set_enabled		= pcache_frontswap_set_enabled,
};

/* tmem/persistent/writeback: when full, write the oldest pages back. */
static bool pcache_frontswap_writeback = true;

/*
 * Writeback to make room starts when the pool uses
 * FRONTSWAP_WB_FULL_PERCENT of its limit.  A writeback left with pages
 * being swapped in looks again every FRONTSWAP_WB_POLL_MS, saying in dmesg
 * every FRONTSWAP_WB_REPORT_POLLS polls (10 s) what is left.  Disabling
 * the front waits FRONTSWAP_DISABLE_TIMEOUT for the pool to empty before
 * it gives up with -EBUSY.
 */
#define FRONTSWAP_WB_FULL_PERCENT	90
#define FRONTSWAP_WB_POLL_MS		20
#define FRONTSWAP_WB_REPORT_POLLS	500
#define FRONTSWAP_DISABLE_TIMEOUT	(10 * HZ)

#define FRONTSWAP_OBJ_SHIFT	9
#define FRONTSWAP_NO_POOL	-1

static int frontswap_pools[MAX_SWAPFILES] = {
	[0 ... MAX_SWAPFILES - 1] = FRONTSWAP_NO_POOL
};

static DEFINE_MUTEX(frontswap_mutex);		/* pool creation and teardown */
DEFINE_STATIC_SRCU(frontswap_srcu);		/* users of a pool id */
static struct work_struct frontswap_shrink_work;

#define FRONTSWAP_GFP	(GFP_NOIO | __GFP_NORETRY | __GFP_NOWARN)

static inline u64 slot_oid(pgoff_t offset)
{
	return offset >> FRONTSWAP_OBJ_SHIFT;
}

static inline u32 slot_index(pgoff_t offset)
{
	return offset & ((1 << FRONTSWAP_OBJ_SHIFT) - 1);
}

static inline pgoff_t frontswap_offset(u64 oid, u32 index)
{
	return (oid << FRONTSWAP_OBJ_SHIFT) | index;
}

static int frontswap_pool(int type)
{
	return type >= 0 && type < MAX_SWAPFILES ? READ_ONCE(frontswap_pools[type]) :
						   FRONTSWAP_NO_POOL;
}

static void frontswap_flush(int pool, pgoff_t offset, unsigned int nr)
{
	unsigned int i;
	int n = 0;

	if (pool < 0)
		return;
	for (i = 0; i < nr; i++)
		if (!tmem_flush_page(pool, slot_oid(offset + i),
				     slot_index(offset + i)))
			n++;
	if (n) {
		trace_pcache_tmem_flush(true, pool, slot_oid(offset),
					slot_index(offset), slot_index(offset) + nr - 1, n);
		pcache_tmem_count(&pcache_frontswap, PCACHE_TMEM_FLUSHES, n);
	}
}

/* The pool of swap @type, created on first use. */
static int frontswap_get_pool(int type)
{
	unsigned int noio;
	int pool = frontswap_pool(type);

	if (pool >= 0 || type < 0 || type >= MAX_SWAPFILES)
		return pool;
	/* Called from swap_writepage(), maybe in reclaim: no I/O to allocate. */
	noio = memalloc_noio_save();
	mutex_lock(&frontswap_mutex);
	pool = frontswap_pools[type];
	if (pool < 0) {
		pool = tmem_new_pool(tmem_zs_backend(pcache_frontswap.zs),
				     TMEM_POOL_PERSIST, NULL);
		if (pool >= 0) {
			WRITE_ONCE(frontswap_pools[type], pool);
			atomic_inc(&pcache_frontswap.pools);
		} else {
			/* The store is refused; the next one tries again. */
			pcache_tmem_count(&pcache_frontswap,
					  PCACHE_TMEM_POOL_ALLOC_FAIL, 1);
		}
	}
	mutex_unlock(&frontswap_mutex);
	memalloc_noio_restore(noio);
	return pool;
}

static bool __pcache_frontswap_store(struct folio *folio)
{
	struct pcache_tmem_front *f = &pcache_frontswap;
	int type = swp_type(folio->swap);
	pgoff_t offset = swp_offset(folio->swap);
	int pool = frontswap_pool(type);
	int ret;

	if (!READ_ONCE(f->enabled))
		goto drop;
	pcache_tmem_count(f, PCACHE_TMEM_PUTS, 1);
	if (folio_test_large(folio)) {
		ret = -E2BIG;
		pcache_tmem_count(f, PCACHE_TMEM_REJECT_LARGE_FOLIO, 1);
		goto reject;
	}
	if (pcache_tmem_over_limit(f)) {
		ret = -ENOSPC;
		pcache_tmem_count(f, PCACHE_TMEM_POOL_LIMIT_HIT, 1);
		pcache_tmem_count(f, PCACHE_TMEM_REJECT_POOL_LIMIT, 1);
		if (READ_ONCE(pcache_frontswap_writeback))
			queue_work(system_unbound_wq, &frontswap_shrink_work);
		goto reject;
	}
	if (pool < 0) {
		ret = -ENOMEM;
		pcache_tmem_count(f, PCACHE_TMEM_REJECT_NO_POOL, 1);
		goto reject;
	}
	ret = tmem_put_page(pool, slot_oid(offset), slot_index(offset),
			    folio_page(folio, 0), FRONTSWAP_GFP);
	trace_pcache_tmem_put(true, pool, slot_oid(offset), slot_index(offset), ret);
	if (!ret)
		return true;
	pcache_tmem_count_put_reject(f, ret);
	return false;	/* tmem dropped the older copy */
reject:
	trace_pcache_tmem_put(true, pool, slot_oid(offset), slot_index(offset), ret);
	pcache_tmem_count(f, PCACHE_TMEM_PUT_REJECTS, 1);
drop:
	frontswap_flush(pool, offset, folio_nr_pages(folio));
	return false;
}

bool pcache_frontswap_store(struct folio *folio)
{
	int type = swp_type(folio->swap);
	bool stored;
	int idx;

	/* Outside frontswap_srcu: creating the pool takes frontswap_mutex. */
	if (READ_ONCE(pcache_frontswap.enabled) && frontswap_pool(type) < 0)
		frontswap_get_pool(type);
	idx = srcu_read_lock(&frontswap_srcu);
	stored = __pcache_frontswap_store(folio);
	srcu_read_unlock(&frontswap_srcu, idx);
	return stored;
}

static bool __pcache_frontswap_load(struct folio *folio)
{
	struct pcache_tmem_front *f = &pcache_frontswap;
	pgoff_t offset = swp_offset(folio->swap) ^ pcache_mutant(5);
	int pool = frontswap_pool(swp_type(folio->swap));
	bool swapcache = folio_test_swapcache(folio);
	long i;
	int ret;

	if (pool < 0)
		return false;
	if (folio_test_large(folio)) {
		/*
		 * Large swap-in (only from SWP_SYNCHRONOUS_IO devices): if
		 * any of its pages is here the folio cannot be read whole
		 * from the device.  Fail the read without marking the folio
		 * uptodate, as zswap_load() does.
		 */
		for (i = 0; i < folio_nr_pages(folio); i++)
			if (!tmem_peek_page(pool, slot_oid(offset + i),
					    slot_index(offset + i), NULL))
				return true;
		return false;
	}
	pcache_tmem_count(f, PCACHE_TMEM_GETS, 1);
	if (swapcache)
		ret = tmem_get_page(pool, slot_oid(offset), slot_index(offset),
				    folio_page(folio, 0));
	else
		ret = tmem_peek_page(pool, slot_oid(offset), slot_index(offset),
				     folio_page(folio, 0));
	trace_pcache_tmem_get(true, pool, slot_oid(offset), slot_index(offset), ret);
	if (ret)
		return false;
	pcache_tmem_count(f, PCACHE_TMEM_GET_HITS, 1);
	if (swapcache)
		folio_mark_dirty(folio);	/* the only copy is this folio */
	folio_mark_uptodate(folio);
	return true;
}

bool pcache_frontswap_load(struct folio *folio)
{
	int idx = srcu_read_lock(&frontswap_srcu);
	bool loaded = __pcache_frontswap_load(folio);

	srcu_read_unlock(&frontswap_srcu, idx);
	return loaded;
}

void pcache_frontswap_invalidate(int type, pgoff_t offset, unsigned int nr)
{
	int idx = srcu_read_lock(&frontswap_srcu);

	frontswap_flush(frontswap_pool(type), offset, nr);
	srcu_read_unlock(&frontswap_srcu, idx);
}

/* frontswap_mutex held. */
static void frontswap_destroy_pool(int type)
{
	int pool = frontswap_pools[type];

	if (pool < 0)
		return;
	WRITE_ONCE(frontswap_pools[type], FRONTSWAP_NO_POOL);
	synchronize_srcu(&frontswap_srcu);
	tmem_destroy_pool(pool);
	atomic_dec(&pcache_frontswap.pools);
}

void pcache_frontswap_swapoff(int type)
{
	if (type < 0 || type >= MAX_SWAPFILES)
		return;
	/* try_to_unuse() loaded every page: what is left is unused. */
	mutex_lock(&frontswap_mutex);
	frontswap_destroy_pool(type);
	mutex_unlock(&frontswap_mutex);
}

/* pcache_swap_writeback()'s fill: move the page from the pool to @folio. */
static bool frontswap_writeback_fill(struct folio *folio)
{
	pgoff_t offset = swp_offset(folio->swap);
	int pool = frontswap_pool(swp_type(folio->swap));

	return pool >= 0 && !tmem_get_page(pool, slot_oid(offset),
					   slot_index(offset),
					   folio_page(folio, 0));
}

/*
 * Write the oldest page of swap @type back to its slot.  Returns 0 when
 * written, -ENOENT when the pool is empty, or -EAGAIN when that page could
 * not be written now (it was moved to the newest end).
 */
static int frontswap_writeback_oldest(int type)
{
	int idx = srcu_read_lock(&frontswap_srcu);
	int pool = frontswap_pool(type);
	u64 oid;
	u32 index;
	int ret = -ENOENT;

	if (pool < 0 || tmem_oldest(pool, &oid, &index))
		goto out;
	ret = pcache_swap_writeback(swp_entry(type, frontswap_offset(oid, index)),
				    frontswap_writeback_fill);
	if (!ret) {
		pcache_tmem_count(&pcache_frontswap, PCACHE_TMEM_WRITTEN_BACK, 1);
		goto out;
	}
	/*
	 * -EEXIST: a swap-in is reading it, which takes it from the pool;
	 * -ENOENT: the slot was freed (its invalidation drops the page) or
	 * its device is going away (swapoff drops the pool); -ENOMEM: try
	 * later.  Never drop the page here: the slot may be in use again.
	 */
	tmem_touch(pool, oid, index);
	ret = -EAGAIN;
out:
	srcu_read_unlock(&frontswap_srcu, idx);
	return ret;
}

static long frontswap_stored(void)
{
	int idx = srcu_read_lock(&frontswap_srcu);
	long n = 0;
	int type, pool;

	for (type = 0; type < MAX_SWAPFILES; type++) {
		pool = frontswap_pool(type);
		if (pool >= 0)
			n += max(tmem_pool_pages(pool), 0L);
	}
	srcu_read_unlock(&frontswap_srcu, idx);
	return n;
}

/*
 * Write pages back until the pool is under @target pages (0: empty), for
 * at most @timeout jiffies (0: no limit).  Returns 0 or -EBUSY.
 */
static int frontswap_writeback(unsigned long target, unsigned long timeout)
{
	unsigned long end = jiffies + timeout;
	int type, stalls = 0;
	bool progress;

	while (frontswap_stored() > target) {
		progress = false;
		for (type = 0; type < MAX_SWAPFILES; type++) {
			if (frontswap_pool(type) < 0)
				continue;
			if (!frontswap_writeback_oldest(type))
				progress = true;
			cond_resched();
		}
		if (progress) {
			stalls = 0;
			continue;
		}
		if (timeout && time_after(jiffies, end))
			return -EBUSY;
		/* Only pages being swapped in are left: let that finish. */
		if (++stalls % FRONTSWAP_WB_REPORT_POLLS == 0)
			pr_info("%ld pages still to write back\n", frontswap_stored());
		msleep(FRONTSWAP_WB_POLL_MS);
	}
	return 0;
}

static void frontswap_shrink_fn(struct work_struct *work)
{
	struct pcache_tmem_front *f = &pcache_frontswap;
	unsigned long limit = pcache_tmem_limit_pages(f);
	long stored = frontswap_stored();
	unsigned long used = tmem_zs_total_pages(f->zs);
	unsigned long target;

	if (!READ_ONCE(pcache_frontswap_writeback) || !stored ||
	    used < limit * FRONTSWAP_WB_FULL_PERCENT / 100)
		return;
	/* Pages to keep so that the memory used falls to that mark. */
	target = stored * (limit * FRONTSWAP_WB_FULL_PERCENT / 100) / used;
	frontswap_writeback(target, HZ);
}

/*
 * The writeback knob.  Switching it off returns once no writeback to make
 * room runs any more: it waits for a pass in progress to reach its target,
 * and a pass queued by a store that read the knob just before is
 * cancelled, or runs, sees the knob off and writes nothing.
 */
static int frontswap_set_writeback(void *unused, bool on)
{
	lockdep_assert_held(&pcache_config_mutex);
	WRITE_ONCE(pcache_frontswap_writeback, on);
	if (!on)
		cancel_work_sync(&frontswap_shrink_work);
	return 0;
}

PCACHE_BOOL_KNOB(frontswap_attr_writeback, writeback,
		 &pcache_frontswap_writeback, frontswap_set_writeback);

static struct attribute *frontswap_attrs[] = {
	&frontswap_attr_writeback.attr.attr,
	NULL,
};

static const struct attribute_group frontswap_group = {
	.attrs = frontswap_attrs,
};

static const struct attribute_group *frontswap_groups[] = {
	&pcache_tmem_front_group,
	&frontswap_group,
	NULL,
};

const struct pcache_feature_files pcache_frontswap_files = {
	.subdir		= "persistent",
	.owner		= &pcache_frontswap,
	.groups		= frontswap_groups,
	.stats		= &pcache_frontswap.stats,
	.stat_groups	= pcache_tmem_front_stat_groups,
};

/*
 * Switching off writes every stored page back first; if some cannot be
 * written within 10 seconds, frontswap stays on and this returns -EBUSY.
 */
int pcache_frontswap_set_enabled(bool on)
{
	struct pcache_tmem_front *f = &pcache_frontswap;
	int ret;

	lockdep_assert_held(&pcache_config_mutex);
	if (on == f->enabled)
		return 0;
	if (on) {
		pcache_feature_ops(PCACHE_FEAT_FRONTSWAP, true);
		WRITE_ONCE(f->enabled, true);
		pr_info("enabled\n");
		return 0;
	}
	WRITE_ONCE(f->enabled, false);	/* stores refused from now on */
	synchronize_srcu(&frontswap_srcu);	/* and none in flight */
	cancel_work_sync(&frontswap_shrink_work);
	ret = frontswap_writeback(0, FRONTSWAP_DISABLE_TIMEOUT);
	if (ret) {
		WRITE_ONCE(f->enabled, true);
		pr_warn("cannot disable: %ld stored pages could not be written back to swap\n",
			frontswap_stored());
		return ret;
	}
	/* Empty, and nothing is stored any more: the swap ops may go. */
	pcache_feature_ops(PCACHE_FEAT_FRONTSWAP, false);
	pr_info("disabled, every stored page written back\n");
	return 0;
}

bool pcache_frontswap_enabled(void)
{
	return READ_ONCE(pcache_frontswap.enabled);
}

int pcache_frontswap_init(void)
{
	INIT_WORK(&frontswap_shrink_work, frontswap_shrink_fn);
	return pcache_tmem_front_init(&pcache_frontswap);
}

/*
 * Unload, hooks still called: no knob; no store is accepted any more;
 * write everything back, however long that takes (loads and invalidations
 * are still served).
 */
void pcache_frontswap_drain(void)
{
	WRITE_ONCE(pcache_frontswap.enabled, false);
	synchronize_srcu(&frontswap_srcu);
	cancel_work_sync(&frontswap_shrink_work);
	if (frontswap_stored())
		pr_info("writing %ld stored pages back to swap\n", frontswap_stored());
	if (!pcache_mutant(6))
		frontswap_writeback(0, 0);
}

/* Unload, retired: no hook calls frontswap any more: drop the pools. */
void pcache_frontswap_free(void)
{
	int type;

	mutex_lock(&frontswap_mutex);
	for (type = 0; type < MAX_SWAPFILES; type++)
		frontswap_destroy_pool(type);
	mutex_unlock(&frontswap_mutex);
	pcache_tmem_front_free(&pcache_frontswap);
}
