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
 * Shared pools (tmem's uuid pools, tmem/ephemeral/shared, off by default):
 * identical copies of one filesystem mounted read-only (golden images,
 * container layers, a cloned disk) share one pool, so a page one of them
 * reads from the disk is a hit for all the others.  A uuid alone does not
 * prove that two filesystems hold the same data (copies diverge once one is
 * written), so a mount joins a shared pool only when it is read-only at
 * mount time and its uuid, type, device size and a crc32 of the first 64 KiB
 * of its device (superblock, group descriptors: what every write changes)
 * match the pool's.  A member seen writable by any hook (remount rw: every
 * change of file data passes a write-intent lookup, page_mkwrite,
 * truncation or invalidation first) leaves the pool at once, before the
 * change, and gets a private pool: its later writes never reach the other
 * members, and their pages never reach it.  Members are read-only, so their
 * data does not change and flushes skip the shared pool.  A device changed
 * under a read-only mount (writes to the block device itself) is stale for
 * the page cache as well, and is not handled.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": cleancache: " fmt

#include <linux/blkdev.h>
#include <linux/buffer_head.h>
#include <linux/crc32.h>
#include <linux/fs.h>
#include <linux/module.h>
#include <linux/pagemap.h>
#include <linux/shrinker.h>
#include <linux/slab.h>
#include <linux/srcu.h>
#include <linux/string.h>
#include <linux/workqueue.h>
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

/*
 * A shared pool: the read-only copies of one filesystem, identified by what
 * cc_fingerprint() reads.  Under cc_mutex.
 */
struct cc_group {
	struct list_head node;
	struct file_system_type *type;
	uuid_t uuid;		/* the filesystems' */
	loff_t size;		/* of their devices, bytes */
	u32 crc;		/* of the first CC_FP_BYTES of their devices */
	uuid_t pool_uuid;	/* random: the tmem pool's identity */
	int pool;
	int members;
};

/* A filesystem with a pool: found by s_dev, checked against the sb. */
struct cc_fs {
	struct super_block *sb;
	int pool;		/* read by the hooks; -1 while leaving a group */
	bool shared;		/* @pool is @group's; read by the hooks */
	unsigned long leaving;	/* bit 0: seen writable, cc_leave_work queued */
	struct cc_group *group;	/* cc_mutex */
};

static DEFINE_XARRAY(cc_fss);		/* sb->s_dev -> struct cc_fs */
static DEFINE_MUTEX(cc_mutex);		/* pool creation and teardown */
DEFINE_STATIC_SRCU(cc_srcu);		/* hooks in flight */
static struct shrinker *cc_shrinker;
static LIST_HEAD(cc_groups);		/* struct cc_group, cc_mutex */
static atomic_t cc_nr_shared;		/* mounts in a shared pool */
static atomic_t cc_nr_groups;		/* shared pools */
static bool cc_shared;			/* tmem/ephemeral/shared, cc_mutex */
static void cc_leave_workfn(struct work_struct *work);
static DECLARE_WORK(cc_leave_work, cc_leave_workfn);

/* Bytes at the start of a device that identify a copy of a filesystem. */
#define CC_FP_BYTES	SZ_64K

/*
 * tmem/ephemeral/filesystems: the types whose mounts get a pool.  A new
 * list rebuilds the pools, so the cache starts empty.
 */
static void cc_fs_changed(void);
PCACHE_FS_LIST(cc_fs, NULL, "ephemeral/filesystems",
	       "disable cleancache instead", cc_fs_changed);

/* At put time, over the limit: evict this many of the pool's oldest. */
#define CC_EVICT_BATCH	16

#define CC_GFP	(GFP_NOWAIT | __GFP_NOWARN)

static bool cc_on(void)
{
	return READ_ONCE(pcache_cleancache.enabled);
}

/*
 * A member of a shared pool was seen writable: it stops using the pool now
 * (the hooks see pool -1), and cc_leave_work gives it a private one.  Any
 * context: puts call it under the i_pages lock, so it only queues.
 */
static void cc_leave(struct cc_fs *fs)
{
	if (test_and_set_bit(0, &fs->leaving))
		return;
	WRITE_ONCE(fs->pool, -1);
	pcache_tmem_count(&pcache_cleancache, PCACHE_TMEM_SHARED_LEFT, 1);
	queue_work(system_unbound_wq, &cc_leave_work);
}

static struct cc_fs *cc_fs_of(struct address_space *mapping)
{
	struct inode *host = mapping ? mapping->host : NULL;
	struct cc_fs *fs;

	if (!host)
		return NULL;
	fs = xa_load(&cc_fss, host->i_sb->s_dev);
	if (!fs || fs->sb != host->i_sb)
		return NULL;
	if (READ_ONCE(fs->shared) && !sb_rdonly(fs->sb))
		cc_leave(fs);
	return fs;
}

/* The pool of @mapping's filesystem, or -1.  Inside cc_srcu. */
static int cc_pool(struct address_space *mapping)
{
	struct cc_fs *fs = cc_fs_of(mapping);

	return fs ? READ_ONCE(fs->pool) : -1;
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
		pcache_tmem_count_put_reject(f, ret);
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
 * A write is coming to these pages (WRITE_BEGIN, MKWRITE): no copy of the
 * old data may stay.  Only a folio that is not uptodate can have one: an
 * uptodate folio was read in (a private get took the copy) or created by
 * an earlier write, which flushed here, and the pool gains a copy only when
 * reclaim removes the folio.  So rewrites of cached pages, the common case
 * on this path, skip the pool, unless a shared pool has members: the write
 * tells a member that it was made writable (cc_fs_of()).
 */
void pcache_cc_write_folio(struct address_space *mapping, struct folio *folio)
{
	struct cc_fs *fs;
	int idx, pool;

	if ((folio_test_uptodate(folio) && !atomic_read(&cc_nr_shared)) ||
	    pcache_mutant(3))
		return;
	idx = srcu_read_lock(&cc_srcu);
	fs = cc_on() ? cc_fs_of(mapping) : NULL;
	pool = fs ? READ_ONCE(fs->pool) : -1;
	if (pool >= 0 && !folio_test_uptodate(folio))
		cc_flush(pool, mapping->host->i_ino, folio->index,
			 folio_next_index(folio) - 1);
	srcu_read_unlock(&cc_srcu, idx);
}

/*
 * Truncation, invalidation, eviction: drop the pool's copies.  Members of
 * a shared pool are read-only (a writable one has left it), so their data
 * does not change and the other members keep the pages.
 */
void pcache_cc_invalidate(struct address_space *mapping, pgoff_t start,
			  pgoff_t end, enum pcache_site site)
{
	struct cc_fs *fs;
	int idx, pool;
	u64 oid;

	idx = srcu_read_lock(&cc_srcu);
	fs = cc_on() ? cc_fs_of(mapping) : NULL;
	if (!fs || READ_ONCE(fs->shared))
		goto out;
	pool = READ_ONCE(fs->pool);
	if (pool < 0)
		goto out;
	oid = mapping->host->i_ino;
	if (site == PCACHE_SITE_EVICT)
		start = 0, end = ULONG_MAX;
	if (pcache_mutant(4) && (site == PCACHE_SITE_TRUNCATE ||
				 site == PCACHE_SITE_INVALIDATE2))
		goto out;
	cc_flush(pool, oid, start, end);
out:
	srcu_read_unlock(&cc_srcu, idx);
}

static bool cc_fs_type_listed(struct super_block *sb)
{
	return pcache_fs_list_has(&cc_fs, sb);
}

/*
 * What identifies a copy of @sb's filesystem: its device's size and a crc32
 * of the device's first CC_FP_BYTES, read through the buffer cache.
 */
static int cc_fingerprint(struct super_block *sb, loff_t *size, u32 *crc)
{
	struct buffer_head *bh;
	sector_t blk, nr;
	u32 c = ~0;

	if (!sb->s_bdev || sb->s_uuid_len == 0 || uuid_is_null(&sb->s_uuid))
		return -ENODEV;
	*size = bdev_nr_bytes(sb->s_bdev);
	nr = min_t(sector_t, CC_FP_BYTES, *size) >> sb->s_blocksize_bits;
	for (blk = 0; blk < nr; blk++) {
		bh = sb_bread(sb, blk);
		if (!bh)
			return -EIO;
		c = crc32_le(c, bh->b_data, bh->b_size);
		brelse(bh);
	}
	*crc = c;
	return 0;
}

/*
 * The shared pool of @sb's copies, by uuid and contents, or NULL.  A pool
 * of the same uuid with other contents is counted and said in dmesg.
 */
static struct cc_group *cc_group_find(struct super_block *sb, loff_t size,
				      u32 crc)
{
	bool mismatch = false;
	struct cc_group *g;

	lockdep_assert_held(&cc_mutex);
	list_for_each_entry(g, &cc_groups, node) {
		if (g->type != sb->s_type || !uuid_equal(&g->uuid, &sb->s_uuid))
			continue;
		if (g->size == size && g->crc == crc)
			return g;
		mismatch = true;
	}
	if (mismatch) {
		pcache_tmem_count(&pcache_cleancache, PCACHE_TMEM_SHARED_MISMATCH,
				  1);
		pr_info("%s: uuid %pU is shared, but the contents differ: a pool of its own\n",
			sb->s_id, &sb->s_uuid);
	}
	return NULL;
}

/* A new shared pool for @sb's copies, no member yet, or an ERR_PTR. */
static struct cc_group *cc_group_new(struct super_block *sb, loff_t size,
				     u32 crc)
{
	struct cc_group *g;
	int pool;

	g = kzalloc(sizeof(*g), GFP_KERNEL);
	if (!g)
		return ERR_PTR(-ENOMEM);
	g->type = sb->s_type;
	uuid_copy(&g->uuid, &sb->s_uuid);
	g->size = size;
	g->crc = crc;
	uuid_gen(&g->pool_uuid);
	/* The group holds the pool's first reference, each member one more. */
	g->pool = tmem_new_pool(tmem_zs_backend(pcache_cleancache.zs),
				TMEM_POOL_SHARED, &g->pool_uuid);
	if (g->pool < 0) {
		pool = g->pool;
		kfree(g);
		return ERR_PTR(pool);
	}
	list_add(&g->node, &cc_groups);
	atomic_inc(&pcache_cleancache.pools);
	atomic_inc(&cc_nr_groups);
	pr_info("shared pool %d for read-only copies of %pU\n", g->pool,
		&g->uuid);
	return g;
}

/* A shared pool's last member has left: the pool and its pages go. */
static void cc_group_free(struct cc_group *g)
{
	list_del(&g->node);
	tmem_destroy_pool(g->pool);	/* the group's: frees the pages */
	atomic_dec(&pcache_cleancache.pools);
	atomic_dec(&cc_nr_groups);
	kfree(g);
}

/*
 * Join (or start) the shared pool of @sb's copies.  Returns the pool,
 * -ENODEV if @sb cannot share, or another -errno.  cc_mutex held.
 */
static int cc_group_join(struct cc_fs *fs)
{
	struct super_block *sb = fs->sb;
	struct cc_group *g;
	loff_t size;
	int pool;
	u32 crc;

	lockdep_assert_held(&cc_mutex);
	if (!cc_shared || !sb_rdonly(sb))
		return -ENODEV;
	if (cc_fingerprint(sb, &size, &crc))
		return -ENODEV;
	g = cc_group_find(sb, size, crc) ?: cc_group_new(sb, size, crc);
	if (IS_ERR(g))
		return PTR_ERR(g);
	pool = tmem_new_pool(tmem_zs_backend(pcache_cleancache.zs),
			     TMEM_POOL_SHARED, &g->pool_uuid);
	if (pool < 0) {
		if (!g->members)
			cc_group_free(g);
		return pool;
	}
	g->members++;
	fs->group = g;
	WRITE_ONCE(fs->shared, true);
	atomic_inc(&cc_nr_shared);
	pr_info("%s joins shared pool %d (%d members)\n", sb->s_id, pool,
		g->members);
	return pool;
}

/*
 * @fs leaves its shared pool; cc_mutex held, and no hook uses the pool for
 * @fs any more (cc_srcu synchronized since @fs stopped using it).
 */
static void cc_group_leave(struct cc_fs *fs)
{
	struct cc_group *g = fs->group;

	fs->group = NULL;
	WRITE_ONCE(fs->shared, false);
	atomic_dec(&cc_nr_shared);
	tmem_destroy_pool(g->pool);	/* the member's reference */
	if (!--g->members)
		cc_group_free(g);
}

static int cc_private_pool(void)
{
	int pool = tmem_new_pool(tmem_zs_backend(pcache_cleancache.zs), 0,
				 NULL);

	if (pool >= 0)
		atomic_inc(&pcache_cleancache.pools);
	return pool;
}

/*
 * Give @sb a pool; cc_mutex held.  Without memory for it @sb is not
 * cached (counted in pool_alloc_fail, and in *@failed if set) until it
 * is mounted again or the pools are rebuilt.
 */
static void cc_fs_add(struct super_block *sb, void *failed)
{
	struct cc_fs *fs;
	int pool;

	if (!cc_fs_type_listed(sb) || xa_load(&cc_fss, sb->s_dev))
		return;
	fs = kzalloc(sizeof(*fs), GFP_KERNEL);
	if (!fs)
		goto fail;
	fs->sb = sb;
	pool = cc_group_join(fs);
	if (pool == -ENODEV)
		pool = cc_private_pool();
	if (pool < 0) {
		kfree(fs);
		goto fail;
	}
	fs->pool = pool;
	if (xa_err(xa_store(&cc_fss, sb->s_dev, fs, GFP_KERNEL))) {
		if (fs->group) {
			cc_group_leave(fs);
		} else {
			tmem_destroy_pool(pool);
			atomic_dec(&pcache_cleancache.pools);
		}
		kfree(fs);
		goto fail;
	}
	pr_debug("pool %d for %s (%s)\n", pool, sb->s_id, sb->s_type->name);
	return;
fail:
	pcache_tmem_count(&pcache_cleancache, PCACHE_TMEM_POOL_ALLOC_FAIL, 1);
	if (failed)
		(*(unsigned int *)failed)++;
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
	if (fs->group) {
		cc_group_leave(fs);
	} else if (fs->pool >= 0) {
		tmem_destroy_pool(fs->pool);
		atomic_dec(&pcache_cleancache.pools);
	}
	kfree(fs);
}

/*
 * Members seen writable (cc_leave()) leave their shared pools and get a
 * private one each.
 */
static void cc_leave_workfn(struct work_struct *work)
{
	unsigned long dev;
	struct cc_fs *fs;
	bool synced = false;
	int pool;

	mutex_lock(&cc_mutex);
	xa_for_each(&cc_fss, dev, fs) {
		if (!test_bit(0, &fs->leaving) || !fs->group)
			continue;
		if (!synced) {
			/* Hooks that still use the shared pool for it end. */
			synchronize_srcu(&cc_srcu);
			synced = true;
		}
		cc_group_leave(fs);
		pr_info("%s was made writable: it left its shared pool\n",
			fs->sb->s_id);
		pool = cc_private_pool();
		if (pool < 0) {
			pcache_tmem_count(&pcache_cleancache,
					  PCACHE_TMEM_POOL_ALLOC_FAIL, 1);
			pr_warn("%s: no private pool: out of memory, it is not cached\n",
				fs->sb->s_id);
		}
		WRITE_ONCE(fs->pool, pool < 0 ? -1 : pool);
	}
	mutex_unlock(&cc_mutex);
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

/* Returns how many of them got no pool. */
static unsigned int cc_add_mounted(void)
{
	unsigned int failed = 0;

	pcache_fs_list_iterate_supers(&cc_fs, cc_fs_add, &failed);
	return failed;
}

static void cc_del_all(void)
{
	unsigned long dev;
	struct cc_fs *fs;

	xa_for_each(&cc_fss, dev, fs)
		cc_fs_del(dev);
}

/*
 * Switch cleancache on or off.  Returns how many mounted filesystems of a
 * listed type got no pool for lack of memory: they are not cached.
 */
static unsigned int cc_switch(bool on)
{
	struct pcache_tmem_front *f = &pcache_cleancache;
	unsigned int failed = 0;

	lockdep_assert_held(&pcache_config_mutex);
	if (on == f->enabled)
		return 0;
	/*
	 * Flushes must reach every pool before the first put.  The ops
	 * switch waits for the hooks in flight, and sb_event takes cc_mutex
	 * inside one: switch them outside cc_mutex.
	 */
	if (on)
		pcache_feature_ops(PCACHE_FEAT_CLEANCACHE, true);
	mutex_lock(&cc_mutex);
	if (on) {
		WRITE_ONCE(f->enabled, true);
		failed = cc_add_mounted();
	} else {
		WRITE_ONCE(f->enabled, false);
		synchronize_srcu(&cc_srcu);
		cc_del_all();
	}
	mutex_unlock(&cc_mutex);
	if (!on) {
		pcache_feature_ops(PCACHE_FEAT_CLEANCACHE, false);
		flush_work(&cc_leave_work);	/* it finds no pool */
	}
	tmem_zs_drain(f->zs);
	pr_info("%s\n", on ? "enabled" : "disabled, every pool dropped");
	return failed;
}

/*
 * The enabled knob, all or nothing: if a mounted filesystem of a listed
 * type cannot get a pool, cleancache is switched off again, every pool
 * made dropped, and the write fails with -ENOMEM.
 */
int pcache_cc_set_enabled(bool on)
{
	if (!cc_switch(on))
		return 0;
	cc_switch(false);
	pr_warn("not enabled: out of memory for the pools\n");
	return -ENOMEM;
}

/* Shared pools on or off.  Pools are rebuilt. */
static int cc_set_shared(void *unused, bool on)
{
	bool enabled = pcache_cleancache.enabled;

	lockdep_assert_held(&pcache_config_mutex);
	if (on == cc_shared)
		return 0;
	if (enabled)
		cc_switch(false);
	mutex_lock(&cc_mutex);
	WRITE_ONCE(cc_shared, on);
	mutex_unlock(&cc_mutex);
	if (enabled)
		cc_switch(true);	/* a filesystem may be left uncached */
	return 0;
}

long pcache_cc_shared_pools(void)
{
	return atomic_read(&cc_nr_groups);
}

long pcache_cc_shared_members(void)
{
	return atomic_read(&cc_nr_shared);
}

/* sysfs: tmem/ephemeral/'s own knobs */

static void cc_fs_changed(void)
{
	lockdep_assert_held(&pcache_config_mutex);
	if (pcache_cleancache.enabled) {
		cc_switch(false);
		cc_switch(true);	/* a filesystem may be left uncached */
	}
}

PCACHE_BOOL_KNOB(cc_attr_shared, shared, &cc_shared, cc_set_shared);

static struct attribute *cc_attrs[] = {
	&cc_fs.attr.attr,
	&cc_attr_shared.attr.attr,
	NULL,
};

static const struct attribute_group cc_group = {
	.attrs = cc_attrs,
};

static const struct attribute_group *cc_attr_groups[] = {
	&pcache_tmem_front_group,
	&cc_group,
	NULL,
};

const struct pcache_feature_files pcache_cc_files = {
	.subdir		= "ephemeral",
	.owner		= &pcache_cleancache,
	.groups		= cc_attr_groups,
	.stats		= &pcache_cleancache.stats,
	.stat_groups	= pcache_tmem_front_stat_groups,
};

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

bool pcache_cc_enabled(void)
{
	return READ_ONCE(pcache_cleancache.enabled);
}

int pcache_cc_init(void)
{
	int ret;

	ret = pcache_fs_list_init(&cc_fs, "ext4");
	if (ret)
		return ret;
	cc_shrinker = shrinker_alloc(0, "pcache-cleancache");
	if (!cc_shrinker) {
		ret = -ENOMEM;
		goto out_fs;
	}
	cc_shrinker->count_objects = cc_shrink_count;
	cc_shrinker->scan_objects = cc_shrink_scan;
	shrinker_register(cc_shrinker);
	ret = pcache_tmem_front_init(&pcache_cleancache);
	if (ret)
		goto out_shrinker;
	return 0;

out_shrinker:
	shrinker_free(cc_shrinker);
out_fs:
	pcache_fs_list_free(&cc_fs);
	return ret;
}

/* Unload, hooks still called: no knob, every pool dropped. */
void pcache_cc_drain(void)
{
	mutex_lock(&pcache_config_mutex);
	pcache_cc_set_enabled(false);
	mutex_unlock(&pcache_config_mutex);
}

/* Unload, retired: no hook calls cleancache any more. */
void pcache_cc_free(void)
{
	/*
	 * No entry is left (drain switched cleancache off), but a store that
	 * failed for memory may have left empty nodes in the tree, which only
	 * xa_destroy() frees (kmemleak saw two after the injection soak).
	 */
	xa_destroy(&cc_fss);
	shrinker_free(cc_shrinker);
	pcache_tmem_front_free(&pcache_cleancache);
	pcache_fs_list_free(&cc_fs);
}
