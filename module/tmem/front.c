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
 *				oldest pages back to swap
 *   stats/			one counter per file
 *
 * Writes take pcache_config_mutex; a value that is not accepted fails with
 * -EINVAL and changes nothing.
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

/* Knobs */

struct front_attr {
	struct attribute attr;
	ssize_t (*show)(struct pcache_tmem_front *f, char *buf);
	int (*store)(struct pcache_tmem_front *f, const char *buf);
};

#define FRONT_ATTR(_name)						\
static struct front_attr front_attr_##_name = {				\
	.attr = { .name = __stringify(_name), .mode = 0644 },		\
	.show = _name##_show,						\
	.store = _name##_store,						\
}

static int parse_percent(const char *buf, unsigned int *val)
{
	unsigned int v;

	if (kstrtouint(buf, 10, &v) || v < 1 || v > 100)
		return -EINVAL;
	*val = v;
	return 0;
}

static ssize_t enabled_show(struct pcache_tmem_front *f, char *buf)
{
	return sysfs_emit(buf, "%d\n", READ_ONCE(f->enabled));
}

static int enabled_store(struct pcache_tmem_front *f, const char *buf)
{
	bool on;

	if (pcache_sysfs_parse_bool(buf, &on))
		return -EINVAL;
	if (on && !pcache_hooks_enabled()) {
		pr_info("%s: hooks_enabled is 0: enable the hooks first\n",
			f->name);
		return -EBUSY;
	}
	return f->set_enabled(on);
}
FRONT_ATTR(enabled);

static ssize_t compressor_show(struct pcache_tmem_front *f, char *buf)
{
	return sysfs_emit(buf, "%s\n", tmem_zs_compressor(f->zs));
}

static int compressor_store(struct pcache_tmem_front *f, const char *buf)
{
	char name[CRYPTO_MAX_ALG_NAME], *s;

	if (strscpy(name, buf, sizeof(name)) < 0)
		return -EINVAL;
	s = strim(name);
	if (!*s)
		return -EINVAL;
	return tmem_zs_set_compressor(f->zs, s);
}
FRONT_ATTR(compressor);

static ssize_t max_pool_percent_show(struct pcache_tmem_front *f, char *buf)
{
	return sysfs_emit(buf, "%u\n", READ_ONCE(f->max_pool_percent));
}

static int max_pool_percent_store(struct pcache_tmem_front *f, const char *buf)
{
	unsigned int v;

	if (parse_percent(buf, &v))
		return -EINVAL;
	WRITE_ONCE(f->max_pool_percent, v);
	return 0;
}
FRONT_ATTR(max_pool_percent);

static ssize_t incompressible_show(struct pcache_tmem_front *f, char *buf)
{
	return sysfs_emit(buf, "%s\n", f->store_raw ? "raw" : "reject");
}

static int incompressible_store(struct pcache_tmem_front *f, const char *buf)
{
	if (sysfs_streq(buf, "raw"))
		f->store_raw = true;
	else if (sysfs_streq(buf, "reject"))
		f->store_raw = false;
	else
		return -EINVAL;
	tmem_zs_set_store_raw(f->zs, f->store_raw);
	return 0;
}
FRONT_ATTR(incompressible);

static ssize_t compress_threshold_percent_show(struct pcache_tmem_front *f,
					       char *buf)
{
	return sysfs_emit(buf, "%u\n", f->threshold);
}

static int compress_threshold_percent_store(struct pcache_tmem_front *f,
					    const char *buf)
{
	unsigned int v;

	if (parse_percent(buf, &v))
		return -EINVAL;
	f->threshold = v;
	tmem_zs_set_threshold(f->zs, v);
	return 0;
}
FRONT_ATTR(compress_threshold_percent);

static ssize_t filesystems_show(struct pcache_tmem_front *f, char *buf)
{
	return pcache_cc_filesystems_show(buf);
}

static int filesystems_store(struct pcache_tmem_front *f, const char *buf)
{
	return pcache_cc_set_filesystems(buf);
}
FRONT_ATTR(filesystems);

static ssize_t shared_show(struct pcache_tmem_front *f, char *buf)
{
	return sysfs_emit(buf, "%d\n", pcache_cc_shared());
}

static int shared_store(struct pcache_tmem_front *f, const char *buf)
{
	bool on;

	if (pcache_sysfs_parse_bool(buf, &on))
		return -EINVAL;
	pcache_cc_set_shared(on);
	return 0;
}
FRONT_ATTR(shared);

static ssize_t writeback_show(struct pcache_tmem_front *f, char *buf)
{
	return sysfs_emit(buf, "%d\n", READ_ONCE(pcache_fs_writeback));
}

static int writeback_store(struct pcache_tmem_front *f, const char *buf)
{
	bool on;

	if (pcache_sysfs_parse_bool(buf, &on))
		return -EINVAL;
	pcache_fs_set_writeback(on);
	return 0;
}
FRONT_ATTR(writeback);

static struct attribute *ephemeral_attrs[] = {
	&front_attr_enabled.attr,
	&front_attr_compressor.attr,
	&front_attr_max_pool_percent.attr,
	&front_attr_incompressible.attr,
	&front_attr_compress_threshold_percent.attr,
	&front_attr_filesystems.attr,
	&front_attr_shared.attr,
	NULL,
};
ATTRIBUTE_GROUPS(ephemeral);

static struct attribute *persistent_attrs[] = {
	&front_attr_enabled.attr,
	&front_attr_compressor.attr,
	&front_attr_max_pool_percent.attr,
	&front_attr_incompressible.attr,
	&front_attr_compress_threshold_percent.attr,
	&front_attr_writeback.attr,
	NULL,
};
ATTRIBUTE_GROUPS(persistent);

static ssize_t front_attr_show(struct kobject *kobj, struct attribute *attr,
			       char *buf)
{
	struct pcache_tmem_front *f =
		container_of(kobj, struct pcache_tmem_front, kobj);
	ssize_t ret;

	/* The compressor's name lives as long as it is the current one. */
	mutex_lock(&pcache_config_mutex);
	ret = container_of(attr, struct front_attr, attr)->show(f, buf);
	mutex_unlock(&pcache_config_mutex);
	return ret;
}

static ssize_t front_attr_store(struct kobject *kobj, struct attribute *attr,
				const char *buf, size_t count)
{
	struct pcache_tmem_front *f =
		container_of(kobj, struct pcache_tmem_front, kobj);
	int ret;

	mutex_lock(&pcache_config_mutex);
	ret = container_of(attr, struct front_attr, attr)->store(f, buf);
	mutex_unlock(&pcache_config_mutex);
	return ret ? ret : count;
}

static const struct sysfs_ops front_sysfs_ops = {
	.show	= front_attr_show,
	.store	= front_attr_store,
};

/* The kobjects are part of static structures: nothing to free. */
static void front_release(struct kobject *kobj)
{
}

static const struct kobj_type ephemeral_ktype = {
	.sysfs_ops	= &front_sysfs_ops,
	.default_groups	= ephemeral_groups,
	.release	= front_release,
};

static const struct kobj_type persistent_ktype = {
	.sysfs_ops	= &front_sysfs_ops,
	.default_groups	= persistent_groups,
	.release	= front_release,
};

/* Counters: stats/ */

struct stat_attr {
	struct attribute attr;
	int stat;		/* enum pcache_tmem_stat, or -1: use @get */
	long (*get)(struct pcache_tmem_front *f);
};

#define ZS_STAT(_field) \
	atomic_long_read(&tmem_zs_stats(f->zs)->_field)

static long get_compress_poor(struct pcache_tmem_front *f)
{
	return ZS_STAT(reject_compress_poor);
}

static long get_compress_fail(struct pcache_tmem_front *f)
{
	return ZS_STAT(reject_compress_fail);
}

static long get_alloc_fail(struct pcache_tmem_front *f)
{
	return ZS_STAT(reject_alloc_fail) + ZS_STAT(reject_kmemcache_fail);
}

static long get_stored_pages(struct pcache_tmem_front *f)
{
	return ZS_STAT(stored);
}

static long get_pool_bytes(struct pcache_tmem_front *f)
{
	return ZS_STAT(bytes);
}

static long get_pool_total_size(struct pcache_tmem_front *f)
{
	return tmem_zs_total_pages(f->zs) << PAGE_SHIFT;
}

static long get_same_filled_pages(struct pcache_tmem_front *f)
{
	return ZS_STAT(same_filled);
}

static long get_raw_pages(struct pcache_tmem_front *f)
{
	return ZS_STAT(raw);
}

static long get_pools(struct pcache_tmem_front *f)
{
	return atomic_read(&f->pools);
}

static long get_shared_pools(struct pcache_tmem_front *f)
{
	return pcache_cc_shared_pools();
}

static long get_shared_members(struct pcache_tmem_front *f)
{
	return pcache_cc_shared_members();
}

#define STAT(_name, _stat) \
static struct stat_attr stat_attr_##_name = { \
	.attr = { .name = __stringify(_name), .mode = 0444 }, .stat = _stat }
#define STAT_FN(_name, _fn) \
static struct stat_attr stat_attr_##_name = { \
	.attr = { .name = __stringify(_name), .mode = 0444 }, .stat = -1, \
	.get = _fn }

STAT(puts, PCACHE_TMEM_PUTS);
STAT(put_rejects, PCACHE_TMEM_PUT_REJECTS);
STAT_FN(put_reject_compress_poor, get_compress_poor);
STAT_FN(put_reject_compress_fail, get_compress_fail);
STAT_FN(put_reject_alloc_fail, get_alloc_fail);
STAT(put_reject_pool_limit, PCACHE_TMEM_REJECT_POOL_LIMIT);
STAT(put_reject_large_folio, PCACHE_TMEM_REJECT_LARGE_FOLIO);
STAT(put_reject_no_pool, PCACHE_TMEM_REJECT_NO_POOL);
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
	&stat_attr_puts.attr,
	&stat_attr_put_rejects.attr,
	&stat_attr_put_reject_compress_poor.attr,
	&stat_attr_put_reject_compress_fail.attr,
	&stat_attr_put_reject_alloc_fail.attr,
	&stat_attr_put_reject_pool_limit.attr,
	&stat_attr_put_reject_large_folio.attr,
	&stat_attr_put_reject_no_pool.attr,
	&stat_attr_gets.attr,
	&stat_attr_get_hits.attr,
	&stat_attr_flushes.attr,
	&stat_attr_stored_pages.attr,
	&stat_attr_pool_bytes.attr,
	&stat_attr_pool_total_size.attr,
	&stat_attr_same_filled_pages.attr,
	&stat_attr_raw_pages.attr,
	&stat_attr_evicted.attr,
	&stat_attr_written_back_pages.attr,
	&stat_attr_pool_limit_hit.attr,
	&stat_attr_pools.attr,
	&stat_attr_shared_pools.attr,
	&stat_attr_shared_members.attr,
	&stat_attr_shared_left.attr,
	&stat_attr_shared_mismatch.attr,
	NULL,
};

/* The shared_* counters are cleancache's only. */
static umode_t stats_visible(struct kobject *kobj, struct attribute *attr,
			     int n)
{
	struct pcache_tmem_front *f =
		container_of(kobj, struct pcache_tmem_front, stats_kobj);

	if (f->persistent && !strncmp(attr->name, "shared_", 7))
		return 0;
	return attr->mode;
}

static const struct attribute_group stats_group = {
	.attrs		= stats_attrs,
	.is_visible	= stats_visible,
};
__ATTRIBUTE_GROUPS(stats);

static ssize_t stat_attr_show(struct kobject *kobj, struct attribute *attr,
			      char *buf)
{
	struct pcache_tmem_front *f =
		container_of(kobj, struct pcache_tmem_front, stats_kobj);
	struct stat_attr *sa = container_of(attr, struct stat_attr, attr);

	return sysfs_emit(buf, "%ld\n", sa->stat >= 0 ?
			  atomic_long_read(&f->stats[sa->stat]) : sa->get(f));
}

static const struct sysfs_ops stats_sysfs_ops = {
	.show	= stat_attr_show,
};

static const struct kobj_type stats_ktype = {
	.sysfs_ops	= &stats_sysfs_ops,
	.default_groups	= stats_groups,
	.release	= front_release,
};

/*
 * A front's compressed backend and its directory @parent/<name>/ (sysfs
 * tmem/), the front off.  On failure everything is undone.
 */
int pcache_tmem_front_init(struct pcache_tmem_front *f, struct kobject *parent)
{
	char name[40];
	int ret;

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
		return ret;
	}
	tmem_zs_set_store_raw(f->zs, f->store_raw);
	tmem_zs_set_threshold(f->zs, f->threshold);
	ret = kobject_init_and_add(&f->kobj, f->persistent ? &persistent_ktype :
				   &ephemeral_ktype, parent, "%s", f->name);
	if (!ret)
		ret = kobject_init_and_add(&f->stats_kobj, &stats_ktype,
					   &f->kobj, "stats");
	if (ret) {
		pcache_tmem_front_remove(f);
		pcache_tmem_front_free(f);
	}
	return ret;
}

/* The front's directory goes: no knob can switch it on again. */
void pcache_tmem_front_remove(struct pcache_tmem_front *f)
{
	if (f->stats_kobj.state_initialized)
		kobject_put(&f->stats_kobj);
	if (f->kobj.state_initialized)
		kobject_put(&f->kobj);
}

/* The front is off and empty, and no hook calls it: free its backend. */
void pcache_tmem_front_free(struct pcache_tmem_front *f)
{
	if (f->zs)
		tmem_zs_destroy(f->zs);
	f->zs = NULL;
}
