// SPDX-License-Identifier: GPL-2.0
/*
 * cleancache: an ephemeral tmem pool per filesystem, a victim cache for
 * clean page cache folios (Magenheimer's cleancache, mainline 3.0 to 5.16).
 *
 *   put	reclaim removes a clean, uptodate folio from the page cache
 *		(remove_folio with reclaim set: under the i_pages lock,
 *		interrupts off, so GFP_NOWAIT and the backend stages it);
 *   get	a read miss, before any I/O (fill_folio: READ_FOLIO and
 *		READAHEAD); a hit fills the folio and no I/O is issued.  Gets
 *		from the private pools are exclusive;
 *   flush	truncate, hole punch, invalidation (O_DIRECT writes, fadvise,
 *		drop_caches), inode eviction (the whole object), a write-intent
 *		lookup (WRITE_BEGIN), and unmount (the pool).
 *
 * A page is keyed by (pool of the superblock, inode number, page index).
 * Never stale: the pool holds a copy of a page only while the page cache
 * does not hold it, and the copy is of clean, uptodate data, i.e. what is
 * on disk.  Every way the page cache can drop a page without a put (a
 * refused put, invalidation, truncation, eviction) flushes the copy, and
 * every way the disk can change under the pool (O_DIRECT writes invalidate
 * the range, writes go through the page cache) does too.  A reclaimed folio
 * that cannot be put (large, not uptodate, over the limit) flushes any
 * older copy at its indices, as a refused put does in tmem.
 *
 * Pools are created at mount (or when cleancache is switched on, for the
 * filesystems mounted then) for the filesystem types listed in
 * tmem/ephemeral/filesystems, and destroyed at unmount (after the last
 * inode was evicted) or when cleancache is switched off.  An inode
 * evicted from the inode cache takes its pages out of the pool with it
 * (they are keyed by inode number, which a new inode may reuse).  Every hook runs
 * inside cc_srcu, so that switching off (and unmount) can wait for the
 * callers in flight before a pool goes.
 *
 * The pool is kept under max_pool_percent of RAM by evicting its oldest
 * pages at put time, and shrinks under memory pressure through a shrinker.
 *
 * Shared pools (tmem's uuid pools) are not used: two ext4 superblocks with
 * one uuid are copies whose contents may diverge, and sharing their pages
 * would return one's data to the other.  Original cleancache shared pools
 * only for cluster filesystems (ocfs2), which see one device.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": cleancache: " fmt

#include <linux/fs.h>
#include <linux/module.h>
#include <linux/pagemap.h>
#include <linux/shrinker.h>
#include <linux/slab.h>
#include <linux/srcu.h>
#include <linux/string.h>
#include <linux/xarray.h>

#include "front.h"
#include "trace.h"

struct pcache_tmem_front pcache_cleancache = {
	.name			= "ephemeral",
	.max_pool_percent	= 10,
	.store_raw		= true,
	.threshold		= 75,
	.set_enabled		= pcache_cc_set_enabled,
};

/* A filesystem with a pool: found by s_dev, checked against the sb. */
struct cc_fs {
	struct super_block *sb;
	int pool;
};

static DEFINE_XARRAY(cc_fss);		/* sb->s_dev -> struct cc_fs */
static DEFINE_MUTEX(cc_mutex);		/* pool creation and teardown */
DEFINE_STATIC_SRCU(cc_srcu);		/* hooks in flight */
static struct shrinker *cc_shrinker;

#define CC_MAX_FS_TYPES	8
static char cc_fs_types[CC_MAX_FS_TYPES][32] = { "ext4" };
static int cc_nr_fs_types = 1;

/* At put time, over the limit: evict this many of the pool's oldest. */
#define CC_EVICT_BATCH	16

#define CC_GFP	(GFP_NOWAIT | __GFP_NOWARN)

static bool cc_on(void)
{
	return READ_ONCE(pcache_cleancache.enabled);
}

static int cc_pool(struct address_space *mapping)
{
	struct inode *host = mapping ? mapping->host : NULL;
	struct cc_fs *fs;

	if (!host)
		return -1;
	fs = xa_load(&cc_fss, host->i_sb->s_dev);
	return fs && fs->sb == host->i_sb ? fs->pool : -1;
}

static void cc_flush(int pool, u64 oid, pgoff_t first, pgoff_t last)
{
	int n;

	if (first > U32_MAX)
		return;
	n = tmem_flush_range(pool, oid, first, min_t(pgoff_t, last, U32_MAX));
	trace_pcache_tmem_flush(false, pool, oid, first, last, n);
	if (n > 0)
		pcache_tmem_count(&pcache_cleancache, PCACHE_TMEM_FLUSHES, n);
}

void pcache_cc_remove_folio(struct address_space *mapping,
			    struct folio *folio, bool reclaim)
{
	struct pcache_tmem_front *f = &pcache_cleancache;
	u64 oid;
	int idx, pool, ret;
	long n;

	if (!reclaim)
		return;		/* truncation or invalidation: flushed after */
	idx = srcu_read_lock(&cc_srcu);
	if (!cc_on())
		goto out;
	pool = cc_pool(mapping);
	if (pool < 0)
		goto out;
	oid = mapping->host->i_ino;
	pcache_tmem_count(f, PCACHE_TMEM_PUTS, 1);
	if (folio_test_large(folio) || !folio_test_uptodate(folio) ||
	    folio->index > U32_MAX) {
		ret = -E2BIG;
		pcache_tmem_count(f, PCACHE_TMEM_REJECT_LARGE_FOLIO, 1);
		goto reject;
	}
	if (pcache_tmem_over_limit(f)) {
		pcache_tmem_count(f, PCACHE_TMEM_POOL_LIMIT_HIT, 1);
		n = tmem_evict_oldest(pool, CC_EVICT_BATCH);
		if (n > 0)
			pcache_tmem_count(f, PCACHE_TMEM_EVICTED, n);
		if (n <= 0) {
			ret = -ENOSPC;
			pcache_tmem_count(f, PCACHE_TMEM_REJECT_POOL_LIMIT, 1);
			goto reject;
		}
	}
	ret = tmem_put_page(pool, oid, folio->index, folio_page(folio, 0),
			    CC_GFP);
	trace_pcache_tmem_put(false, pool, oid, folio->index, ret);
	if (ret)
		pcache_tmem_count(f, PCACHE_TMEM_PUT_REJECTS, 1);
	goto out;
reject:
	trace_pcache_tmem_put(false, pool, oid, folio->index, ret);
	pcache_tmem_count(f, PCACHE_TMEM_PUT_REJECTS, 1);
	cc_flush(pool, oid, folio->index, folio_next_index(folio) - 1);
out:
	srcu_read_unlock(&cc_srcu, idx);
}

bool pcache_cc_fill_folio(struct address_space *mapping, struct folio *folio)
{
	struct pcache_tmem_front *f = &pcache_cleancache;
	bool hit = false;
	int idx, pool, ret;
	u64 oid;

	idx = srcu_read_lock(&cc_srcu);
	if (!cc_on())
		goto out;
	pool = cc_pool(mapping);
	if (pool < 0 || folio_test_large(folio) || folio->index > U32_MAX)
		goto out;
	oid = mapping->host->i_ino;
	pcache_tmem_count(f, PCACHE_TMEM_GETS, 1);
	ret = tmem_get_page(pool, oid, folio->index, folio_page(folio, 0));
	trace_pcache_tmem_get(false, pool, oid, folio->index, ret);
	if (!ret) {
		pcache_tmem_count(f, PCACHE_TMEM_GET_HITS, 1);
		hit = true;
	}
out:
	srcu_read_unlock(&cc_srcu, idx);
	return hit;
}

/*
 * A write is coming to these pages: no copy of the old data may stay.
 * Only a folio that is not uptodate can have one: an uptodate folio was
 * read in (a private get took the copy) or created by an earlier write,
 * which flushed here, and the pool gains a copy only when reclaim removes
 * the folio.  So rewrites of cached pages, the common case on this path,
 * skip the pool.
 */
void pcache_cc_write_folio(struct address_space *mapping, struct folio *folio)
{
	int idx, pool;

	if (folio_test_uptodate(folio))
		return;
	idx = srcu_read_lock(&cc_srcu);
	pool = cc_on() ? cc_pool(mapping) : -1;
	if (pool >= 0)
		cc_flush(pool, mapping->host->i_ino, folio->index,
			 folio_next_index(folio) - 1);
	srcu_read_unlock(&cc_srcu, idx);
}

void pcache_cc_invalidate(struct address_space *mapping, pgoff_t start,
			  pgoff_t end, enum pcache_site site)
{
	int idx, pool;
	u64 oid;

	idx = srcu_read_lock(&cc_srcu);
	pool = cc_on() ? cc_pool(mapping) : -1;
	if (pool < 0)
		goto out;
	oid = mapping->host->i_ino;
	if (site == PCACHE_SITE_EVICT)
		start = 0, end = ULONG_MAX;
	cc_flush(pool, oid, start, end);
out:
	srcu_read_unlock(&cc_srcu, idx);
}

static bool cc_fs_type_listed(struct super_block *sb)
{
	int i;

	for (i = 0; i < cc_nr_fs_types; i++)
		if (!strcmp(sb->s_type->name, cc_fs_types[i]))
			return true;
	return false;
}

/* Give @sb a pool; cc_mutex held. */
static void cc_fs_add(struct super_block *sb, void *unused)
{
	struct cc_fs *fs;
	int pool;

	if (!cc_fs_type_listed(sb) || xa_load(&cc_fss, sb->s_dev))
		return;
	fs = kzalloc(sizeof(*fs), GFP_KERNEL);
	if (!fs)
		goto fail;
	pool = tmem_new_pool(tmem_zs_backend(pcache_cleancache.zs), 0, NULL);
	if (pool < 0) {
		kfree(fs);
		goto fail;
	}
	fs->sb = sb;
	fs->pool = pool;
	if (xa_err(xa_store(&cc_fss, sb->s_dev, fs, GFP_KERNEL))) {
		tmem_destroy_pool(pool);
		kfree(fs);
		goto fail;
	}
	atomic_inc(&pcache_cleancache.pools);
	pr_debug("pool %d for %s (%s)\n", pool, sb->s_id, sb->s_type->name);
	return;
fail:
	pr_warn("no pool for %s (%s): out of memory, it is not cached\n",
		sb->s_id, sb->s_type->name);
}

/* Drop the pool of the filesystem at @dev; cc_mutex held. */
static void cc_fs_del(unsigned long dev)
{
	struct cc_fs *fs = xa_erase(&cc_fss, dev);

	if (!fs)
		return;
	synchronize_srcu(&cc_srcu);	/* no hook uses the pool any more */
	tmem_destroy_pool(fs->pool);
	atomic_dec(&pcache_cleancache.pools);
	kfree(fs);
}

void pcache_cc_sb_event(struct super_block *sb, enum pcache_site site)
{
	struct cc_fs *fs;

	mutex_lock(&cc_mutex);
	if (site == PCACHE_SITE_MOUNT) {
		if (cc_on())
			cc_fs_add(sb, NULL);
	} else if (site == PCACHE_SITE_UNMOUNT) {
		fs = xa_load(&cc_fss, sb->s_dev);
		if (fs && fs->sb == sb)
			cc_fs_del(sb->s_dev);
	}
	mutex_unlock(&cc_mutex);
}

static void cc_add_mounted(void)
{
	struct file_system_type *type;
	int i;

	for (i = 0; i < cc_nr_fs_types; i++) {
		type = get_fs_type(cc_fs_types[i]);
		if (!type)
			continue;
		iterate_supers_type(type, cc_fs_add, NULL);
		module_put(type->owner);	/* put_filesystem() */
	}
}

static void cc_del_all(void)
{
	unsigned long dev;
	struct cc_fs *fs;

	xa_for_each(&cc_fss, dev, fs)
		cc_fs_del(dev);
}

/* Under pcache_config_mutex. */
int pcache_cc_set_enabled(bool on)
{
	struct pcache_tmem_front *f = &pcache_cleancache;

	if (on == f->enabled)
		return 0;
	mutex_lock(&cc_mutex);
	if (on) {
		/* Flushes must reach every pool before the first put. */
		pcache_feature_ops(PCACHE_FEAT_CLEANCACHE, true);
		WRITE_ONCE(f->enabled, true);
		cc_add_mounted();
	} else {
		WRITE_ONCE(f->enabled, false);
		synchronize_srcu(&cc_srcu);
		cc_del_all();
		pcache_feature_ops(PCACHE_FEAT_CLEANCACHE, false);
	}
	mutex_unlock(&cc_mutex);
	tmem_zs_drain(f->zs);
	pr_info("%s\n", on ? "enabled" : "disabled, every pool dropped");
	return 0;
}

ssize_t pcache_cc_filesystems_show(char *buf)
{
	ssize_t len = 0;
	int i;

	mutex_lock(&cc_mutex);
	for (i = 0; i < cc_nr_fs_types; i++)
		len += sysfs_emit_at(buf, len, "%s%s", i ? " " : "",
				     cc_fs_types[i]);
	mutex_unlock(&cc_mutex);
	len += sysfs_emit_at(buf, len, "\n");
	return len;
}

/*
 * Set the filesystem types that get a pool: names separated by spaces,
 * each a registered filesystem type, at least one.  Under pcache_config_mutex.  The pools
 * are rebuilt, so the cache starts empty.
 */
int pcache_cc_set_filesystems(const char *buf)
{
	char types[CC_MAX_FS_TYPES][32];
	struct file_system_type *type;
	char *s, *p, *tok;
	bool on = pcache_cleancache.enabled;
	int n = 0, ret = 0;

	s = kstrdup(buf, GFP_KERNEL);
	if (!s)
		return -ENOMEM;
	p = strim(s);
	while ((tok = strsep(&p, " \t\n")) != NULL) {
		if (!*tok)
			continue;
		if (n == CC_MAX_FS_TYPES || strlen(tok) >= sizeof(types[0])) {
			ret = -EINVAL;
			break;
		}
		type = get_fs_type(tok);
		if (!type) {
			pr_info("filesystems: no filesystem type \"%s\"\n", tok);
			ret = -EINVAL;
			break;
		}
		module_put(type->owner);
		strscpy(types[n++], tok, sizeof(types[0]));
	}
	kfree(s);
	if (!ret && !n) {
		pr_info("filesystems: empty: disable cleancache instead\n");
		ret = -EINVAL;
	}
	if (ret)
		return ret;
	if (on)
		pcache_cc_set_enabled(false);
	mutex_lock(&cc_mutex);
	memcpy(cc_fs_types, types, sizeof(types));
	cc_nr_fs_types = n;
	mutex_unlock(&cc_mutex);
	if (on)
		pcache_cc_set_enabled(true);
	return 0;
}

/* The shrinker: under memory pressure, evict the oldest pages. */
static unsigned long cc_shrink_count(struct shrinker *s,
				     struct shrink_control *sc)
{
	if (!cc_on())
		return 0;
	return atomic_long_read(&tmem_zs_stats(pcache_cleancache.zs)->stored);
}

static unsigned long cc_shrink_scan(struct shrinker *s,
				    struct shrink_control *sc)
{
	unsigned long dev, freed = 0;
	struct cc_fs *fs;
	long n;
	int idx;

	idx = srcu_read_lock(&cc_srcu);
	if (!cc_on())
		goto out;
	/* A share from every pool, oldest first. */
	xa_for_each(&cc_fss, dev, fs) {
		if (freed >= sc->nr_to_scan)
			break;
		n = tmem_evict_oldest(fs->pool, sc->nr_to_scan - freed);
		if (n > 0)
			freed += n;
	}
	pcache_tmem_count(&pcache_cleancache, PCACHE_TMEM_EVICTED, freed);
out:
	srcu_read_unlock(&cc_srcu, idx);
	return freed ? freed : SHRINK_STOP;
}

int pcache_cc_init(void)
{
	cc_shrinker = shrinker_alloc(0, "pcache-cleancache");
	if (!cc_shrinker)
		return -ENOMEM;
	cc_shrinker->count_objects = cc_shrink_count;
	cc_shrinker->scan_objects = cc_shrink_scan;
	shrinker_register(cc_shrinker);
	return 0;
}

/* After pcache_cc_set_enabled(false). */
void pcache_cc_exit(void)
{
	shrinker_free(cc_shrinker);
}
