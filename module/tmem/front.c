// SPDX-License-Identifier: GPL-2.0
/*
 * The tmem fronts' common part: each front's compressed backend, its size
 * limit and its sysfs directory.
 *
 * /sys/kernel/mm/pcache/tmem/{ephemeral,persistent}/
 *   enabled			0 or 1
 *   compressor			a crypto compression algorithm (lz4, lzo,
 *				zstd, ...); pages stored keep theirs
 *   max_pool_percent		1..100: memory the pool may use, % of RAM
 *   incompressible		raw or reject: pages that do not compress
 *				below compress_threshold_percent
 *   compress_threshold_percent	1..100 of a page
 *   filesystems		(ephemeral) filesystem types with a pool
 *   shared			(ephemeral) 0 or 1: read-only copies of one
 *				filesystem share a pool (cleancache.c)
 *   writeback			(persistent) 0 or 1: when full, write the
 *				oldest pages back to swap (frontswap.c)
 *   stats/			one counter per file
 *
 * The knobs are the core's helpers (pcache.h), each reading or setting a
 * field of the front that owns the directory; writes take
 * pcache_config_mutex; a value that is not accepted fails with -EINVAL
 * and changes nothing.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": tmem: " fmt

#include <linux/crypto.h>
#include <linux/kernel.h>
#include <linux/mm.h>
#include <linux/string.h>
#include <linux/sysfs.h>

#include "../pcache.h"
#include "front.h"

unsigned long pcache_tmem_limit_pages(struct pcache_tmem_front *f)
{
	return totalram_pages() / 100 * READ_ONCE(f->max_pool_percent);
}

bool pcache_tmem_over_limit(struct pcache_tmem_front *f)
{
	return tmem_zs_total_pages(f->zs) >= pcache_tmem_limit_pages(f);
}

/* Knobs: every front's; a front's own are in its ->group. */

static struct pcache_tmem_front *front_of(struct kobject *k)
{
	return pcache_sysfs_owner(k);
}

static int front_set_enabled(void *owner, bool on)
{
	struct pcache_tmem_front *f = owner;

	return f->set_enabled(on);
}

static void front_threshold_changed(void *owner, unsigned int pct)
{
	struct pcache_tmem_front *f = owner;

	tmem_zs_set_threshold(f->zs, pct);
}

PCACHE_ENABLED_FIELD_KNOB(front_attr_enabled, struct pcache_tmem_front,
			  enabled, front_set_enabled);
PCACHE_UINT_FIELD_KNOB(front_attr_max_pool_percent, max_pool_percent,
		       struct pcache_tmem_front, max_pool_percent, 1, 100,
		       NULL);
PCACHE_UINT_FIELD_KNOB(front_attr_compress_threshold_percent,
		       compress_threshold_percent, struct pcache_tmem_front,
		       threshold, 1, 100, front_threshold_changed);

static ssize_t compressor_show(struct kobject *k, struct kobj_attribute *a,
			       char *buf)
{
	ssize_t ret;

	/* The compressor's name lives as long as it is the current one. */
	mutex_lock(&pcache_config_mutex);
	ret = sysfs_emit(buf, "%s\n", tmem_zs_compressor(front_of(k)->zs));
	mutex_unlock(&pcache_config_mutex);
	return ret;
}

static ssize_t compressor_store(struct kobject *k, struct kobj_attribute *a,
				const char *buf, size_t len)
{
	char name[CRYPTO_MAX_ALG_NAME], *s;
	int ret;

	if (strscpy(name, buf, sizeof(name)) < 0)
		return -EINVAL;
	s = strim(name);
	if (!*s)
		return -EINVAL;
	mutex_lock(&pcache_config_mutex);
	ret = tmem_zs_set_compressor(front_of(k)->zs, s);
	mutex_unlock(&pcache_config_mutex);
	return ret ? ret : len;
}

static ssize_t incompressible_show(struct kobject *k,
				   struct kobj_attribute *a, char *buf)
{
	return sysfs_emit(buf, "%s\n",
			  READ_ONCE(front_of(k)->store_raw) ? "raw" : "reject");
}

static ssize_t incompressible_store(struct kobject *k,
				    struct kobj_attribute *a,
				    const char *buf, size_t len)
{
	struct pcache_tmem_front *f = front_of(k);
	bool raw;

	if (sysfs_streq(buf, "raw"))
		raw = true;
	else if (sysfs_streq(buf, "reject"))
		raw = false;
	else
		return -EINVAL;
	mutex_lock(&pcache_config_mutex);
	WRITE_ONCE(f->store_raw, raw);
	tmem_zs_set_store_raw(f->zs, raw);
	mutex_unlock(&pcache_config_mutex);
	return len;
}

static struct kobj_attribute front_attr_compressor = __ATTR_RW(compressor);
static struct kobj_attribute front_attr_incompressible =
	__ATTR_RW(incompressible);

static struct attribute *front_attrs[] = {
	&front_attr_enabled.attr.attr,
	&front_attr_compressor.attr,
	&front_attr_max_pool_percent.attr.attr,
	&front_attr_incompressible.attr,
	&front_attr_compress_threshold_percent.attr.attr,
	NULL,
};

const struct attribute_group pcache_tmem_front_group = {
	.attrs = front_attrs,
};

/* Counters: stats/ */

static struct tmem_zs *stat_zs(void *owner)
{
	return ((struct pcache_tmem_front *)owner)->zs;
}

static long get_compress_poor(void *f)
{
	return tmem_zs_rejects(stat_zs(f), TMEM_ZS_REJECT_COMPRESS_POOR);
}

static long get_compress_fail(void *f)
{
	return tmem_zs_rejects(stat_zs(f), TMEM_ZS_REJECT_COMPRESS_FAIL);
}

static long get_stored_pages(void *f)
{
	return atomic_long_read(&tmem_zs_stats(stat_zs(f))->stored);
}

static long get_pool_bytes(void *f)
{
	return atomic_long_read(&tmem_zs_stats(stat_zs(f))->bytes);
}

static long get_pool_total_size(void *f)
{
	return tmem_zs_total_pages(stat_zs(f)) << PAGE_SHIFT;
}

static long get_same_filled_pages(void *f)
{
	return atomic_long_read(&tmem_zs_stats(stat_zs(f))->same_filled);
}

static long get_raw_pages(void *f)
{
	return atomic_long_read(&tmem_zs_stats(stat_zs(f))->raw);
}

static long get_pools(void *f)
{
	return atomic_read(&((struct pcache_tmem_front *)f)->pools);
}

static long get_shared_pools(void *f)
{
	return pcache_cc_shared_pools();
}

static long get_shared_members(void *f)
{
	return pcache_cc_shared_members();
}

#define STAT(_name, _stat) \
	PCACHE_STAT_COUNTER(stat_attr_##_name, _name, _stat)
#define STAT_FN(_name, _fn) \
	PCACHE_STAT_VALUE(stat_attr_##_name, _name, _fn)

STAT(puts, PCACHE_TMEM_PUTS);
STAT(put_rejects, PCACHE_TMEM_PUT_REJECTS);
STAT_FN(put_reject_compress_poor, get_compress_poor);
STAT_FN(put_reject_compress_fail, get_compress_fail);
STAT(put_reject_alloc_fail, PCACHE_TMEM_REJECT_ALLOC_FAIL);
STAT(put_reject_pool_limit, PCACHE_TMEM_REJECT_POOL_LIMIT);
STAT(put_reject_large_folio, PCACHE_TMEM_REJECT_LARGE_FOLIO);
STAT(put_reject_no_pool, PCACHE_TMEM_REJECT_NO_POOL);
STAT(pool_alloc_fail, PCACHE_TMEM_POOL_ALLOC_FAIL);
STAT(gets, PCACHE_TMEM_GETS);
STAT(get_hits, PCACHE_TMEM_GET_HITS);
STAT(flushes, PCACHE_TMEM_FLUSHES);
STAT_FN(stored_pages, get_stored_pages);
STAT_FN(pool_bytes, get_pool_bytes);
STAT_FN(pool_total_size, get_pool_total_size);
STAT_FN(same_filled_pages, get_same_filled_pages);
STAT_FN(raw_pages, get_raw_pages);
STAT(evicted, PCACHE_TMEM_EVICTED);
STAT(written_back_pages, PCACHE_TMEM_WRITTEN_BACK);
STAT(pool_limit_hit, PCACHE_TMEM_POOL_LIMIT_HIT);
STAT_FN(pools, get_pools);
STAT(shared_left, PCACHE_TMEM_SHARED_LEFT);
STAT(shared_mismatch, PCACHE_TMEM_SHARED_MISMATCH);
STAT_FN(shared_pools, get_shared_pools);
STAT_FN(shared_members, get_shared_members);

static struct attribute *stats_attrs[] = {
	&stat_attr_puts.attr.attr,
	&stat_attr_put_rejects.attr.attr,
	&stat_attr_put_reject_compress_poor.attr.attr,
	&stat_attr_put_reject_compress_fail.attr.attr,
	&stat_attr_put_reject_alloc_fail.attr.attr,
	&stat_attr_put_reject_pool_limit.attr.attr,
	&stat_attr_put_reject_large_folio.attr.attr,
	&stat_attr_put_reject_no_pool.attr.attr,
	&stat_attr_pool_alloc_fail.attr.attr,
	&stat_attr_gets.attr.attr,
	&stat_attr_get_hits.attr.attr,
	&stat_attr_flushes.attr.attr,
	&stat_attr_stored_pages.attr.attr,
	&stat_attr_pool_bytes.attr.attr,
	&stat_attr_pool_total_size.attr.attr,
	&stat_attr_same_filled_pages.attr.attr,
	&stat_attr_raw_pages.attr.attr,
	&stat_attr_evicted.attr.attr,
	&stat_attr_written_back_pages.attr.attr,
	&stat_attr_pool_limit_hit.attr.attr,
	&stat_attr_pools.attr.attr,
	&stat_attr_shared_pools.attr.attr,
	&stat_attr_shared_members.attr.attr,
	&stat_attr_shared_left.attr.attr,
	&stat_attr_shared_mismatch.attr.attr,
	NULL,
};

/* The shared_* counters are cleancache's only. */
static umode_t stats_visible(struct kobject *kobj, struct attribute *attr,
			     int n)
{
	if (front_of(kobj)->persistent && strstarts(attr->name, "shared_"))
		return 0;
	return attr->mode;
}

static const struct attribute_group stats_group = {
	.attrs		= stats_attrs,
	.is_visible	= stats_visible,
};

const struct attribute_group *pcache_tmem_front_stat_groups[] = {
	&stats_group,
	NULL,
};

/*
 * A front's counters and compressed backend, the front off (the core
 * makes its directory, tmem/<name>/, from its struct pcache_feature_files).
 * On failure everything is undone.
 */
int pcache_tmem_front_init(struct pcache_tmem_front *f)
{
	char name[40];
	int ret;

	ret = pcache_counters_init(&f->stats, PCACHE_TMEM_NR_STATS);
	if (ret)
		return ret;
	/*
	 * zsmalloc names its slab caches after the pool.  A cache another
	 * user merged into outlives our pool, so a fixed name would be a
	 * duplicate at the next load: make it unique.
	 */
	snprintf(name, sizeof(name), "pcache_%s_%08x", f->name,
		 get_random_u32());
	f->zs = tmem_zs_create(name, "lz4");
	if (IS_ERR(f->zs)) {
		ret = PTR_ERR(f->zs);
		f->zs = NULL;
		pr_err("%s: cannot create the compressed backend (%d)\n",
		       f->name, ret);
		goto out;
	}
	tmem_zs_set_store_raw(f->zs, f->store_raw);
	tmem_zs_set_threshold(f->zs, f->threshold);
	return 0;
out:
	pcache_tmem_front_free(f);
	return ret;
}

/* The front is off and empty, and no hook calls it: free its backend. */
void pcache_tmem_front_free(struct pcache_tmem_front *f)
{
	tmem_zs_destroy(f->zs);
	f->zs = NULL;
	pcache_counters_free(&f->stats);
}
