// SPDX-License-Identifier: GPL-2.0
/*
 * pcache fork-on-write (page forking, after Tux3's core patch, 2015).
 *
 * On a device that needs stable pages, stock Linux makes every write to a
 * page under writeback wait for the I/O (folio_wait_stable()).  Here a
 * writer that finds its folio under writeback forks it instead: a new
 * folio with the same contents, flags and buffer state takes the old
 * one's place in the page cache (replace_page_cache_folio()) and receives
 * the write; the old folio, out of the page cache, keeps its own buffer
 * heads and finishes its I/O, then is freed.
 *
 * Where it happens: at the write-intent lookups, with the old folio
 * locked (__filemap_get_folio(FGP_WRITE) for write(2), before it would
 * wait in folio_wait_stable()) or about to be made writable through a
 * mapping (do_page_mkwrite(), before ->page_mkwrite would wait).  Every
 * PTE that maps the old folio, in every process, is zapped first
 * (unmap_mapping_pages(), which walks the mapping's interval tree with
 * vma_address(), right across fork() and mremap()); with the old folio
 * locked until it is out of the page cache, the next fault maps the new
 * one.  A write fault then returns VM_FAULT_NOPAGE and is taken again.
 *
 * What is refused (counted per reason; the writer then waits as in stock
 * Linux): a folio with references beyond the page cache, its buffer
 * heads, its mappings and the caller (GUP pins for O_DIRECT, io_uring
 * fixed buffers or RDMA; vmsplice and splice pipe buffers; ptrace
 * access), a dirty folio or buffer, a large folio, a mapping that is not
 * an ext4 (data=ordered or writeback) or ext2 regular file with buffer
 * heads, and no memory for the copy.
 *
 * Writeback state stays exact.  replace_page_cache_folio() clears the old
 * folio's ->mapping, so the hook in __folio_end_writeback() names the
 * mapping again (fork_writeback_end()): the xarray WRITEBACK mark at the
 * index, the wb counters, the inode's writeback state and the node and
 * memcg counters then end exactly as without a fork.  The new folio is
 * charged to the old one's memcg; the old one is uncharged when freed.
 *
 * Ordering on disk: writeback of the new folio does not start while the
 * old one's I/O is in flight, so the device never sees the older content
 * after the newer.  Background writeback skips the copy meanwhile (the
 * WB_BUSY hook where it picks folios, as it skips a folio under
 * writeback); data integrity writeback waits for the old I/O (the
 * WB_PREPARE hook in folio_clear_dirty_for_io()).  fsync, fdatasync, sync_file_range(),
 * O_SYNC writes, sync(2) and unmount wait for forked-off I/O in their
 * range (the FDATAWAIT hook), and so do truncate, hole punch and the
 * fallocate ranges (the TRUNCATE hook, after the page cache is truncated
 * and before the filesystem frees blocks) and inode eviction (EVICT).
 *
 * The new folio is marked dirty at once: if the old folio's I/O fails,
 * its blocks are written again with the newer data.
 *
 * Lifetime of a forked-off folio: the module holds a reference in a
 * struct fork_rec, found by folio (fork_recs_ht, for the end of its I/O)
 * and by mapping and index (struct fork_map, for the waits).  When the
 * I/O ends, fork_writeback_end() flags the record and kicks the release
 * work, which drops the buffer heads and the reference; a slow sweep
 * catches an I/O that ended while the fork was being made.
 *
 * Locks: the old folio's lock, then i_mmap_rwsem (unmap), then the new
 * folio's lock and the mapping's i_pages lock (in the kernel's
 * replace_page_cache_folio()); fork_lock (a spinlock, never taken in
 * interrupt context) guards the in-flight list and the map index.  The
 * hooks at the end of writeback take no lock of ours.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": fork: " fmt

#include <linux/buffer_head.h>
#include <linux/debugfs.h>
#include <linux/fs.h>
#include <linux/ktime.h>
#include <linux/log2.h>
#include <linux/migrate.h>
#include <linux/mm.h>
#include <linux/pagemap.h>
#include <linux/pagevec.h>
#include <linux/percpu.h>
#include <linux/rhashtable.h>
#include <linux/seq_file.h>
#include <linux/slab.h>
#include <linux/swap.h>
#include <linux/srcu.h>
#include <linux/sysfs.h>
#include <linux/writeback.h>
#include <linux/workqueue.h>
#include <linux/xarray.h>

#include "../pcache.h"
#include "../trace.h"
#include "fork.h"
#include "policy.h"

static const char * const fork_reason_names[FORK_NR_REASONS] = {
	[FORK_PINNED]		= "pinned",
	[FORK_REFS]		= "refs",
	[FORK_NOMEM]		= "nomem",
	[FORK_DIRTY]		= "dirty",
	[FORK_LARGE]		= "large",
	[FORK_UNSUPPORTED]	= "unsupported",
};

const char *pcache_fork_reason_name(int reason)
{
	return reason >= 0 && reason < FORK_NR_REASONS ?
		fork_reason_names[reason] : "?";
}

/* Counters: the refusal reasons first, in enum fork_reason order. */
enum fork_stat {
	FORK_REFUSED_FIRST,
	FORK_FORKED = FORK_NR_REASONS,
	FORK_FORKED_MKWRITE,
	FORK_REFUSED,
	FORK_WAITED,
	FORK_WAITED_ORDER,
	FORK_WB_SKIPPED,
	FORK_ORDER_VIOLATIONS,
	FORK_RELEASED,
	FORK_RELEASE_BUSY,
	FORK_NR_STATS
};

static struct pcache_counters fork_counters;

static void fork_count(enum fork_stat stat)
{
	pcache_count(&fork_counters, stat);
}

/* The mappings with forked-off folios, each indexing them by page. */
struct fork_map {
	struct rhash_head node;		/* fork_maps_ht */
	struct address_space *mapping;
	struct xarray recs;		/* index -> latest struct fork_rec */
	struct list_head list;		/* fork_maps, under fork_lock */
	bool dead;			/* removed, under fork_lock */
	struct rcu_head rcu;
};

/* A forked-off folio whose I/O has not been seen to end. */
struct fork_rec {
	struct rhash_head node;		/* fork_recs_ht, by folio */
	struct folio *old;		/* referenced until released */
	struct address_space *mapping;	/* for the end of writeback */
	struct fork_map *fm;		/* NULL once the inode is evicted */
	pgoff_t index;
	unsigned int dev;		/* for the tracepoints */
	unsigned long ino;
	u64 forked_ns;
	u64 ended_ns;			/* set by fork_writeback_end() */
	unsigned long flags;
	struct list_head list;		/* fork_inflight, under fork_lock */
	struct rcu_head rcu;
};

#define FORK_REC_ENDED	0

/*
 * Records come and go by the hundred as I/O starts and ends: a table
 * sized for that, not shrunk and grown again (a resize per burst) as the
 * count swings to 0 and back.
 */
#define FORK_RECS_MIN	1024

static const struct rhashtable_params fork_rec_params = {
	.key_len = sizeof(struct folio *),
	.key_offset = offsetof(struct fork_rec, old),
	.head_offset = offsetof(struct fork_rec, node),
	.min_size = FORK_RECS_MIN,
};

static const struct rhashtable_params fork_map_params = {
	.key_len = sizeof(struct address_space *),
	.key_offset = offsetof(struct fork_map, mapping),
	.head_offset = offsetof(struct fork_map, node),
	.min_size = 64,
};

static struct rhashtable fork_recs_ht, fork_maps_ht;
static DEFINE_SPINLOCK(fork_lock);	/* fork_inflight, fork_maps, fm->recs */
static LIST_HEAD(fork_inflight);
static LIST_HEAD(fork_maps);
static atomic_long_t fork_nr_inflight;
static DEFINE_MUTEX(fork_release_mutex);	/* one release pass at a time */
static void fork_release_workfn(struct work_struct *work);
static DECLARE_DELAYED_WORK(fork_release_work, fork_release_workfn);
DEFINE_STATIC_SRCU(fork_srcu);		/* forks in progress */

/* The filesystems forking is known to work on, and fork/filesystems. */
static const char * const fork_fs_known[] = { "ext4", "ext2", NULL };
PCACHE_FS_LIST(fork_fs, fork_fs_known, "fork/filesystems",
	       "disable fork-on-write instead", NULL);

/* Knobs, under pcache_config_mutex. */
static bool fork_enabled;

/* debugfs fork/avoided_wait_us: how long the I/O ran on after a fork. */
static struct pcache_hist fork_hist = {
	.header = "forks, by how long the old folio's I/O ran on (us, below)",
};

static struct dentry *fork_debugfs;

static unsigned int fork_dev(struct address_space *mapping)
{
	return mapping->host->i_sb->s_dev;
}

static void fork_refuse(struct address_space *mapping, struct folio *folio,
			enum fork_reason reason)
{
	fork_count(FORK_REFUSED_FIRST + reason);
	fork_count(FORK_REFUSED);
	trace_pcache_fork_refused(fork_dev(mapping), mapping->host->i_ino,
				  folio->index, reason);
}

/*
 * A mapping whose folios may be forked: a regular file of a listed
 * filesystem whose folios carry buffer heads written back by the
 * filesystem itself.  ext4 uses buffer_migrate_folio for data=ordered and
 * data=writeback and buffer_migrate_folio_norefs for data=journal, whose
 * buffers belong to the journal: only the first kind is forked.
 */
static bool fork_mapping_listed(struct address_space *mapping)
{
	struct inode *host = mapping->host;

	if (!host || !S_ISREG(host->i_mode))
		return false;
	return pcache_fs_list_has(&fork_fs, host->i_sb);
}

static bool fork_mapping_supported(struct address_space *mapping)
{
	return mapping->a_ops->migrate_folio == buffer_migrate_folio;
}

/*
 * Buffers that a copy can take over: none dirty, no private state.  A
 * folio without buffers (ext2 writes whole mapped folios by mpage without
 * them) is copied without.
 */
static enum fork_reason fork_check_buffers(struct folio *folio)
{
	struct buffer_head *head = folio_buffers(folio), *bh = head;
	enum fork_reason reason;

	if (!head)			/* written without (ext2's mpage) */
		return FORK_NR_REASONS;
	do {
		reason = fork_policy_buffer(READ_ONCE(bh->b_state),
					    bh->b_private);
		if (reason != FORK_NR_REASONS)
			return reason;
	} while ((bh = bh->b_this_page) != head);
	return FORK_NR_REASONS;
}

/* Give @new buffer heads like @old's, without their I/O state. */
static bool fork_copy_buffers(struct folio *new, struct folio *old)
{
	struct buffer_head *ohead = folio_buffers(old), *obh = ohead;
	struct buffer_head *head, *bh, *tail = NULL;

	if (!ohead)			/* the copy has none either */
		return true;
	head = folio_alloc_buffers(new, ohead->b_size,
				   GFP_NOFS | __GFP_NOWARN | __GFP_ACCOUNT);
	if (!head)
		return false;
	bh = head;
	do {
		bh->b_state = READ_ONCE(obh->b_state) & FORK_BH_COPY;
		bh->b_blocknr = obh->b_blocknr;
		bh->b_bdev = obh->b_bdev;
		tail = bh;
		bh = bh->b_this_page;
		obh = obh->b_this_page;
	} while (bh);
	tail->b_this_page = head;
	folio_attach_private(new, head);
	return true;
}

/*
 * Dirty @folio, in the page cache and locked, and those of its buffers
 * that have a disk mapping: the filesystem writes them back as it would
 * after a write(2) to the whole folio, and allocates nothing.
 */
static void fork_mark_dirty(struct address_space *mapping,
			    struct folio *folio)
{
	struct buffer_head *head = folio_buffers(folio), *bh = head;

	if (head) {
		spin_lock(&mapping->i_private_lock);
		do {
			if (buffer_mapped(bh))
				set_buffer_dirty(bh);
		} while ((bh = bh->b_this_page) != head);
		spin_unlock(&mapping->i_private_lock);
	}
	filemap_dirty_folio(mapping, folio);
}

static void fork_free_buffers(struct folio *folio)
{
	struct buffer_head *head = folio_detach_private(folio), *bh = head;

	do {
		struct buffer_head *next = bh->b_this_page;

		free_buffer_head(bh);
		bh = next;
	} while (bh != head);
}

/* Push this CPU's LRU batches, which hold references, onto the LRU. */
static void fork_lru_drain_local(void)
{
	struct folio_batch fbatch;

	folio_batch_init(&fbatch);
	__folio_batch_release(&fbatch);	/* lru_add_drain(), no folios */
}

static int fork_expected_refs(struct folio *folio)
{
	return fork_policy_expected_refs(folio_test_private(folio));
}

/* What the refusal rules (policy.h) look at, for @old. */
static void fork_facts(struct fork_facts *f, struct address_space *mapping,
		       struct folio *old)
{
	f->large = folio_test_large(old);
	f->supported = fork_mapping_supported(mapping);
	f->uptodate = folio_test_uptodate(old);
	f->dirty = folio_test_dirty(old);
	/* Only a buffer-head mapping's folio private is buffer heads. */
	f->buffers = f->supported && !f->large ? fork_check_buffers(old) :
						 FORK_NR_REASONS;
	f->pinned = folio_maybe_dma_pinned(old);
	f->expected = fork_expected_refs(old);
	f->refs = folio_ref_count(old) - folio_mapcount(old);
}

static struct fork_map *fork_map_find(struct address_space *mapping)
{
	return rhashtable_lookup(&fork_maps_ht, &mapping, fork_map_params);
}

static struct fork_map *fork_map_get(struct address_space *mapping)
{
	struct fork_map *fm, *old;

	rcu_read_lock();
	fm = fork_map_find(mapping);
	rcu_read_unlock();
	if (fm)
		return fm;
	fm = kzalloc(sizeof(*fm), GFP_NOFS | __GFP_NOWARN);
	if (!fm)
		return NULL;
	fm->mapping = mapping;
	xa_init(&fm->recs);
	spin_lock(&fork_lock);
	old = rhashtable_lookup_get_insert_fast(&fork_maps_ht, &fm->node,
						fork_map_params);
	if (!old)
		list_add(&fm->list, &fork_maps);
	spin_unlock(&fork_lock);
	if (old) {
		kfree(fm);
		return IS_ERR(old) ? NULL : old;
	}
	return fm;
}

/*
 * Releases are batched: the end of an I/O only arms the work, which runs
 * FORK_RELEASE_DELAY later on any CPU and releases every ended record in
 * one pass, so that a writer running on while its old folios' I/O ends is
 * not interrupted once per folio.  Nothing waits for a release: fsync,
 * truncate and eviction wait for the I/O itself.
 */
#define FORK_RELEASE_DELAY	(HZ / 50)
/* While forked-off I/O is in flight, the release work looks again this often. */
#define FORK_RELEASE_POLL	(HZ / 10)

static void fork_release_soon(void)
{
	queue_delayed_work(system_unbound_wq, &fork_release_work,
			   FORK_RELEASE_DELAY);
}

/*
 * Check: why @old may not be forked (enum fork_reason), or FORK_NR_REASONS;
 * *@expected is the references it may have.
 */
static enum fork_reason fork_check(struct address_space *mapping,
				   struct folio *old, int *expected)
{
	enum fork_reason reason;
	struct fork_facts facts;

	fork_facts(&facts, mapping, old);
	reason = fork_policy_refusal(&facts);
	/* A reference of this CPU's LRU add batch can be dropped: retry. */
	if (reason == FORK_REFS && !folio_test_lru(old)) {
		fork_lru_drain_local();
		facts.refs = folio_ref_count(old) - folio_mapcount(old);
		reason = fork_policy_refusal(&facts);
	}
	*expected = facts.expected;
	return reason;
}

/* Copy: a locked, uptodate copy of @old with buffer heads like its own. */
static struct folio *fork_copy(struct address_space *mapping,
			       struct folio *old)
{
	struct folio *new;

	new = filemap_alloc_folio(mapping_gfp_constraint(mapping, GFP_NOFS) |
				  __GFP_NORETRY | __GFP_NOWARN, 0);
	if (!new)
		return NULL;
	__folio_set_locked(new);
	if (!fork_copy_buffers(new, old)) {
		folio_unlock(new);
		folio_put(new);
		return NULL;
	}
	folio_copy(new, old);
	__folio_mark_uptodate(new);
	if (folio_test_mappedtodisk(old))
		folio_set_mappedtodisk(new);
	return new;
}

static void fork_copy_free(struct folio *new)
{
	if (folio_test_private(new))
		fork_free_buffers(new);
	folio_unlock(new);
	folio_put(new);
}

/*
 * No process keeps @old mapped (the next fault maps the copy) and nobody
 * else holds it; or why not.
 */
static enum fork_reason fork_isolate(struct address_space *mapping,
				     struct folio *old, int expected)
{
	if (pcache_mutant(7))
		expected += folio_mapcount(old);
	else if (folio_mapped(old))
		unmap_mapping_pages(mapping, old->index, 1, false);
	if (folio_maybe_dma_pinned(old))
		return FORK_PINNED;
	if (folio_ref_count(old) != expected ||
	    (folio_mapped(old) && !pcache_mutant(7)))
		return FORK_REFS;
	return FORK_NR_REASONS;
}

/*
 * Publish @rec for @old: findable by the end of its I/O (fork_recs_ht)
 * before replace_page_cache_folio() clears ->mapping, and by index in its
 * mapping's @fm, whose slot fork_folio() reserved.  FORK_NR_REASONS, or
 * FORK_NOMEM with nothing published.
 */
static enum fork_reason fork_publish(struct fork_rec *rec,
				     struct address_space *mapping,
				     struct fork_map *fm, struct folio *old)
{
	struct fork_rec *prev;

	folio_get(old);			/* the record's */
	rec->old = old;
	rec->mapping = mapping;
	rec->fm = fm;
	rec->index = old->index;
	rec->dev = fork_dev(mapping);
	rec->ino = mapping->host->i_ino;
	rec->forked_ns = ktime_get_ns();
	if (rhashtable_insert_fast(&fork_recs_ht, &rec->node,
				   fork_rec_params))
		goto fail;
	spin_lock(&fork_lock);
	/* Reserved, unless a release emptied the slot since. */
	prev = xa_store(&fm->recs, rec->index, rec, GFP_ATOMIC | __GFP_NOWARN);
	if (xa_is_err(prev)) {
		spin_unlock(&fork_lock);
		rhashtable_remove_fast(&fork_recs_ht, &rec->node,
				       fork_rec_params);
		goto fail;
	}
	if (prev)			/* its I/O has ended */
		prev->fm = NULL;
	list_add_tail(&rec->list, &fork_inflight);
	spin_unlock(&fork_lock);
	atomic_long_inc(&fork_nr_inflight);
	return FORK_NR_REASONS;
fail:
	folio_put(old);
	return FORK_NOMEM;
}

/* Install: @new takes @old's place in the page cache; @old goes on. */
static void fork_install(struct address_space *mapping, struct folio *old,
			 struct folio *new, enum pcache_site site)
{
	pgoff_t index = old->index;

	replace_page_cache_folio(old, new);
	folio_add_lru(new);
	/* On the LRU now: the batch's reference would refuse its own fork. */
	fork_lru_drain_local();
	/* Written again whatever becomes of the old folio's I/O. */
	fork_mark_dirty(mapping, new);
	folio_unlock(new);
	folio_put(new);			/* the page cache holds it now */

	fork_count(FORK_FORKED);
	if (site == PCACHE_SITE_MKWRITE)
		fork_count(FORK_FORKED_MKWRITE);
	trace_pcache_fork(fork_dev(mapping), mapping->host->i_ino, index,
			  site);
	/* Its I/O may have ended before the record could be found. */
	if (!folio_test_writeback(old))
		fork_release_soon();
}

/*
 * Fork @old, locked, referenced by the caller and under writeback, for a
 * writer at @site: check, copy, publish, install.  Returns true once a
 * copy took its place; a refusal leaves everything as it was, counted by
 * its reason.
 */
static bool fork_folio(struct address_space *mapping, struct folio *old,
		       enum pcache_site site)
{
	pgoff_t index = old->index;
	struct fork_rec *rec = NULL;
	struct folio *new = NULL;
	enum fork_reason reason;
	struct fork_map *fm;
	int expected;

	reason = fork_check(mapping, old, &expected);
	if (reason != FORK_NR_REASONS)
		goto refuse;
	reason = FORK_NOMEM;
	fm = fork_map_get(mapping);
	if (!fm || xa_reserve(&fm->recs, index, GFP_NOFS | __GFP_NOWARN))
		goto refuse;
	rec = kzalloc(sizeof(*rec), GFP_NOFS | __GFP_NOWARN);
	new = rec ? fork_copy(mapping, old) : NULL;
	if (!new)
		goto undo;
	reason = fork_isolate(mapping, old, expected);
	if (reason == FORK_NR_REASONS)
		reason = fork_publish(rec, mapping, fm, old);
	if (reason != FORK_NR_REASONS)
		goto undo;
	fork_install(mapping, old, new, site);
	return true;

undo:
	if (new)
		fork_copy_free(new);
	/*
	 * A failed fork_publish() may have had @rec in fork_recs_ht, where
	 * the end of @old's I/O (under RCU, perhaps in interrupt) can
	 * still be looking at it.
	 */
	kfree_rcu(rec, rcu);
	xa_release(&fm->recs, index);
refuse:
	fork_refuse(mapping, old, reason);
	return false;
}

/*
 * The WRITE hook: @folio is referenced, and locked for WRITE_BEGIN.
 * Returns true when it was forked: the caller looks up again (and finds
 * the copy) or retakes the fault (and maps it).
 */
bool pcache_fork_write_folio(struct address_space *mapping,
			     struct folio *folio, enum pcache_site site)
{
	bool locked = site == PCACHE_SITE_WRITE_BEGIN;
	bool forked = false;
	int idx;

	if (!READ_ONCE(fork_enabled) || !folio_test_writeback(folio) ||
	    !mapping || !mapping_stable_writes(mapping) ||
	    !fork_mapping_listed(mapping))
		return false;
	/* Every FGP_WRITE lookup in the tree also asks for FGP_LOCK. */
	if (locked && WARN_ON_ONCE(!folio_test_locked(folio)))
		return false;
	idx = srcu_read_lock(&fork_srcu);
	if (!READ_ONCE(fork_enabled))
		goto out;
	if (!locked)
		folio_lock(folio);
	if (folio->mapping == mapping && folio_test_writeback(folio))
		forked = fork_folio(mapping, folio, site);
	if (!locked)
		folio_unlock(folio);
out:
	srcu_read_unlock(&fork_srcu, idx);
	return forked;
}

/*
 * WB_END, atomic, perhaps in interrupt: flag a forked-off folio's record
 * and name its mapping, whose writeback state the folio still holds.
 */
struct address_space *
pcache_fork_writeback_end(struct folio *folio, struct address_space *mapping)
{
	struct fork_rec *rec;

	if (!atomic_long_read(&fork_nr_inflight))
		return mapping;
	rec = rhashtable_lookup(&fork_recs_ht, &folio, fork_rec_params);
	if (!rec)
		return mapping;
	if (!test_and_set_bit(FORK_REC_ENDED, &rec->flags)) {
		rec->ended_ns = ktime_get_ns();
		fork_release_soon();
	}
	return mapping ?: rec->mapping;
}

/*
 * Wait for the forked-off folios of @mapping in [@first, @last] whose I/O
 * is in flight, other than @except.  Returns how many were waited for.
 */
static unsigned long fork_wait_range(struct address_space *mapping,
				     pgoff_t first, pgoff_t last,
				     struct folio *except)
{
	unsigned long waited = 0, index = first;
	struct fork_map *fm;
	struct fork_rec *rec;
	int idx;

	idx = srcu_read_lock(&fork_srcu);
	rcu_read_lock();
	fm = fork_map_find(mapping);
	if (!fm)
		goto out;
	/*
	 * The caller pins the inode, so eviction does not free @fm while we
	 * sleep, and fork_drain() waits for fork_srcu before it does.
	 */
	for (rec = xa_find(&fm->recs, &index, last, XA_PRESENT); rec;
	     rec = xa_find_after(&fm->recs, &index, last, XA_PRESENT)) {
		struct folio *old = READ_ONCE(rec->old);

		if (old == except || !folio_test_writeback(old) ||
		    !folio_try_get(old))
			continue;
		rcu_read_unlock();
		folio_wait_writeback(old);
		folio_put(old);
		waited++;
		rcu_read_lock();
	}
out:
	rcu_read_unlock();
	srcu_read_unlock(&fork_srcu, idx);
	return waited;
}

/* Is I/O of an older copy of @folio, in its mapping, in flight? */
static bool fork_older_in_flight(struct folio *folio)
{
	struct address_space *mapping = folio->mapping;
	struct fork_map *fm;
	struct fork_rec *rec;
	bool inflight;

	if (!atomic_long_read(&fork_nr_inflight) || !mapping ||
	    folio_test_anon(folio))
		return false;
	rcu_read_lock();
	fm = fork_map_find(mapping);
	rec = fm ? xa_load(&fm->recs, folio->index) : NULL;
	inflight = rec && rec->old != folio && folio_test_writeback(rec->old);
	rcu_read_unlock();
	return inflight;
}

/*
 * WB_BUSY, atomic: background writeback is about to write @folio, dirty
 * and locked.  While an older copy's I/O to the same blocks is in flight,
 * skip it, as background writeback skips a folio under writeback: it
 * stays dirty for a later pass, and the writer goes on without waiting.
 */
bool pcache_fork_writeback_busy(struct folio *folio)
{
	if (pcache_mutant(9) || !fork_older_in_flight(folio))
		return false;
	fork_count(FORK_WB_SKIPPED);
	return true;
}

/*
 * WB_PREPARE: @folio, locked in its mapping, may go under writeback next
 * (data integrity writeback does not skip).  If it is the copy of a folio
 * whose I/O to the same blocks is still in flight, wait for that I/O
 * first.  WB_START: count a start that was not held back (there should be
 * none).
 */
void pcache_fork_writeback(struct folio *folio, enum pcache_site site)
{
	if (!atomic_long_read(&fork_nr_inflight) || !folio->mapping ||
	    folio_test_anon(folio))
		return;
	if (site == PCACHE_SITE_WB_PREPARE && !pcache_mutant(9)) {
		if (fork_wait_range(folio->mapping, folio->index,
				    folio->index, folio))
			fork_count(FORK_WAITED_ORDER);
	} else if (site == PCACHE_SITE_WB_START &&
		   fork_older_in_flight(folio)) {
		fork_count(FORK_ORDER_VIOLATIONS);
	}
}

/* FDATAWAIT: fsync, sync_file_range(), sync(2) wait for forked I/O too. */
void pcache_fork_fdatawait(struct address_space *mapping, loff_t start,
			   loff_t end)
{
	unsigned long n;

	if (!atomic_long_read(&fork_nr_inflight) || end < start ||
	    pcache_mutant(8))
		return;
	n = fork_wait_range(mapping, start >> PAGE_SHIFT, end >> PAGE_SHIFT,
			    NULL);
	if (n)
		pcache_count_add(&fork_counters, FORK_WAITED, n);
}

/* Forget @fm: its inode is going away and no I/O of it is in flight. */
static void fork_map_remove(struct fork_map *fm)
{
	struct fork_rec *rec;
	unsigned long index;

	spin_lock(&fork_lock);
	if (fm->dead) {			/* fork_drain() took it */
		spin_unlock(&fork_lock);
		return;
	}
	fm->dead = true;
	xa_for_each(&fm->recs, index, rec)
		rec->fm = NULL;
	rhashtable_remove_fast(&fork_maps_ht, &fm->node, fork_map_params);
	list_del(&fm->list);
	spin_unlock(&fork_lock);
	xa_destroy(&fm->recs);
	kfree_rcu(fm, rcu);
}

/*
 * TRUNCATE, INVALIDATE2: blocks in the range may be freed or rewritten
 * next, so no forked-off write to them may still be in flight.  EVICT:
 * the inode goes; wait for all of its forked I/O, then let every end of
 * writeback that named this mapping leave its i_pages section.
 */
void pcache_fork_invalidate(struct address_space *mapping, pgoff_t start,
			    pgoff_t end, enum pcache_site site)
{
	struct fork_map *fm;
	unsigned long n;
	int idx;

	if (site == PCACHE_SITE_INVALIDATE)
		return;
	idx = srcu_read_lock(&fork_srcu);	/* fork_drain() frees maps */
	rcu_read_lock();
	fm = fork_map_find(mapping);
	rcu_read_unlock();
	if (!fm)
		goto out;
	if (site == PCACHE_SITE_EVICT) {
		start = 0;
		end = ULONG_MAX;
	}
	n = fork_wait_range(mapping, start, end, NULL);
	if (n)
		pcache_count_add(&fork_counters, FORK_WAITED, n);
	if (site == PCACHE_SITE_EVICT) {
		xa_lock_irq(&mapping->i_pages);
		xa_unlock_irq(&mapping->i_pages);
		fork_map_remove(fm);
	}
out:
	srcu_read_unlock(&fork_srcu, idx);
}

static void fork_hist_add(u64 ns)
{
	pcache_hist_add(&fork_hist, div_u64(ns, NSEC_PER_USEC));
}

/* Drop a record whose folio's I/O has ended, and the folio with it. */
static void fork_release(struct fork_rec *rec)
{
	struct folio *old = rec->old;
	u64 ended = rec->ended_ns ?: ktime_get_ns();

	rhashtable_remove_fast(&fork_recs_ht, &rec->node, fork_rec_params);
	fork_hist_add(ended - rec->forked_ns);
	trace_pcache_fork_release(rec->dev, rec->ino, rec->index,
				  (ended - rec->forked_ns) / NSEC_PER_USEC);
	/*
	 * Out of the page cache, ->mapping NULL: drop the buffer heads so
	 * that the last reference frees the folio.  Should one be busy,
	 * reclaim frees the folio later, as it does truncated ones.
	 */
	folio_lock(old);
	if (folio_buffers(old) && !try_to_free_buffers(old))
		fork_count(FORK_RELEASE_BUSY);
	folio_unlock(old);
	folio_put(old);
	fork_count(FORK_RELEASED);
	atomic_long_dec(&fork_nr_inflight);
	kfree_rcu(rec, rcu);
}

/*
 * Release every record whose I/O has ended: those flagged by the end of
 * writeback, and any whose I/O ended before the record was published.
 * While some remain, look again now and then.
 */
static void fork_release_ended(void)
{
	struct fork_rec *rec, *tmp;
	LIST_HEAD(done);

	mutex_lock(&fork_release_mutex);
	spin_lock(&fork_lock);
	list_for_each_entry_safe(rec, tmp, &fork_inflight, list) {
		if (!test_bit(FORK_REC_ENDED, &rec->flags) &&
		    folio_test_writeback(rec->old))
			continue;
		list_move_tail(&rec->list, &done);
		if (rec->fm)
			xa_cmpxchg(&rec->fm->recs, rec->index, rec, NULL, 0);
	}
	spin_unlock(&fork_lock);
	list_for_each_entry_safe(rec, tmp, &done, list) {
		/* Flagged at the start of the end: let it finish. */
		folio_wait_writeback(rec->old);
		fork_release(rec);
	}
	mutex_unlock(&fork_release_mutex);
}

static void fork_release_workfn(struct work_struct *work)
{
	fork_release_ended();
	if (atomic_long_read(&fork_nr_inflight))
		queue_delayed_work(system_unbound_wq, &fork_release_work,
				   FORK_RELEASE_POLL);
}

/* Wait for every forked-off folio's I/O, release them all. */
static void fork_drain(void)
{
	struct fork_map *fm, *tmp;
	LIST_HEAD(maps);

	while (atomic_long_read(&fork_nr_inflight)) {
		struct fork_rec *rec;
		struct folio *old = NULL;

		spin_lock(&fork_lock);
		list_for_each_entry(rec, &fork_inflight, list) {
			if (folio_test_writeback(rec->old)) {
				old = rec->old;
				folio_get(old);
				break;
			}
		}
		spin_unlock(&fork_lock);
		if (old) {
			folio_wait_writeback(old);
			folio_put(old);
			continue;
		}
		fork_release_ended();
	}
	cancel_delayed_work_sync(&fork_release_work);
	spin_lock(&fork_lock);
	list_splice_init(&fork_maps, &maps);
	list_for_each_entry(fm, &maps, list) {
		fm->dead = true;
		rhashtable_remove_fast(&fork_maps_ht, &fm->node,
				       fork_map_params);
	}
	spin_unlock(&fork_lock);
	/* Waiters that found a map before it went hold fork_srcu. */
	synchronize_srcu(&fork_srcu);
	list_for_each_entry_safe(fm, tmp, &maps, list) {
		xa_destroy(&fm->recs);
		kfree_rcu(fm, rcu);
	}
}

bool pcache_fork_enabled(void)
{
	return READ_ONCE(fork_enabled);
}

static int fork_set_enabled(bool on)
{
	lockdep_assert_held(&pcache_config_mutex);
	if (on == fork_enabled)
		return 0;
	if (on) {
		pcache_feature_ops(PCACHE_FEAT_FORK, true);
		WRITE_ONCE(fork_enabled, true);
	} else {
		WRITE_ONCE(fork_enabled, false);
		synchronize_srcu(&fork_srcu);	/* no fork in progress */
		fork_drain();
		/* The end-of-writeback hook stays until every I/O ended. */
		pcache_feature_ops(PCACHE_FEAT_FORK, false);
	}
	pr_info("%s\n", on ? "enabled" : "disabled, every forked I/O ended");
	return 0;
}

/* sysfs: fork/ */

static int fork_knob_enabled(void *unused, bool on)
{
	return fork_set_enabled(on);
}

PCACHE_ENABLED_KNOB(fork_attr_enabled, &fork_enabled, fork_knob_enabled);

static struct attribute *fork_attrs[] = {
	&fork_attr_enabled.attr.attr,
	&fork_fs.attr.attr,
	NULL,
};

static const struct attribute_group fork_group = {
	.attrs = fork_attrs,
};

/* stats/: the counters, and the forked-off folios under I/O now. */
static long fork_in_flight(void *unused)
{
	return atomic_long_read(&fork_nr_inflight);
}

#define FORK_STAT(_name, _stat)						\
	PCACHE_STAT_COUNTER(fork_stat_##_name, _name, _stat)

PCACHE_STAT_VALUE(fork_stat_in_flight, in_flight, fork_in_flight);
FORK_STAT(forked, FORK_FORKED);
FORK_STAT(forked_mkwrite, FORK_FORKED_MKWRITE);
FORK_STAT(fork_refused, FORK_REFUSED);
FORK_STAT(refused_pinned, FORK_REFUSED_FIRST + FORK_PINNED);
FORK_STAT(refused_refs, FORK_REFUSED_FIRST + FORK_REFS);
FORK_STAT(refused_nomem, FORK_REFUSED_FIRST + FORK_NOMEM);
FORK_STAT(refused_dirty, FORK_REFUSED_FIRST + FORK_DIRTY);
FORK_STAT(refused_large, FORK_REFUSED_FIRST + FORK_LARGE);
FORK_STAT(refused_unsupported, FORK_REFUSED_FIRST + FORK_UNSUPPORTED);
FORK_STAT(waited, FORK_WAITED);
FORK_STAT(waited_order, FORK_WAITED_ORDER);
FORK_STAT(wb_skipped, FORK_WB_SKIPPED);
FORK_STAT(order_violations, FORK_ORDER_VIOLATIONS);
FORK_STAT(released, FORK_RELEASED);
FORK_STAT(release_busy, FORK_RELEASE_BUSY);

static struct attribute *fork_stat_attrs[] = {
	&fork_stat_in_flight.attr.attr,
	&fork_stat_forked.attr.attr,
	&fork_stat_forked_mkwrite.attr.attr,
	&fork_stat_fork_refused.attr.attr,
	&fork_stat_refused_pinned.attr.attr,
	&fork_stat_refused_refs.attr.attr,
	&fork_stat_refused_nomem.attr.attr,
	&fork_stat_refused_dirty.attr.attr,
	&fork_stat_refused_large.attr.attr,
	&fork_stat_refused_unsupported.attr.attr,
	&fork_stat_waited.attr.attr,
	&fork_stat_waited_order.attr.attr,
	&fork_stat_wb_skipped.attr.attr,
	&fork_stat_order_violations.attr.attr,
	&fork_stat_released.attr.attr,
	&fork_stat_release_busy.attr.attr,
	NULL,
};

ATTRIBUTE_GROUPS(fork_stat);

static const struct attribute_group *fork_groups[] = { &fork_group, NULL };

const struct pcache_feature_files pcache_fork_files = {
	.groups		= fork_groups,
	.stats		= &fork_counters,
	.stat_groups	= fork_stat_groups,
};

static void fork_wb_show_sb(struct super_block *sb, void *arg)
{
	struct bdi_writeback *wb = &sb->s_bdi->wb;

	seq_printf(arg, "%u:%u %s writeback %lld reclaimable %lld\n",
		   MAJOR(sb->s_dev), MINOR(sb->s_dev), sb->s_type->name,
		   percpu_counter_sum(&wb->stat[WB_WRITEBACK]),
		   percpu_counter_sum(&wb->stat[WB_RECLAIMABLE]));
}

/*
 * debugfs: fork/wb, the exact writeback and dirty page counts of the bdi
 * of every mounted ext4 and ext2 filesystem (the bdi's debugfs stats show
 * a per-CPU estimate), to check that forks leave them as stock would.
 */
static int fork_wb_show(struct seq_file *s, void *unused)
{
	int i;

	for (i = 0; fork_fs_known[i]; i++) {
		struct file_system_type *type = get_fs_type(fork_fs_known[i]);

		if (!type)
			continue;
		iterate_supers_type(type, fork_wb_show_sb, s);
		module_put(type->owner);
	}
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(fork_wb);

int pcache_fork_init(void)
{
	int ret;

	ret = pcache_counters_init(&fork_counters, FORK_NR_STATS);
	if (ret)
		return ret;
	ret = pcache_fs_list_init(&fork_fs, "ext4 ext2");
	if (ret)
		goto out_counters;
	ret = rhashtable_init(&fork_recs_ht, &fork_rec_params);
	if (ret)
		goto out_fs;
	ret = rhashtable_init(&fork_maps_ht, &fork_map_params);
	if (ret)
		goto out_recs;
	fork_debugfs = debugfs_create_dir("fork", pcache_debugfs_dir());
	pcache_debugfs_hist("avoided_wait_us", fork_debugfs, &fork_hist);
	debugfs_create_file("wb", 0444, fork_debugfs, NULL, &fork_wb_fops);
	return 0;

out_recs:
	rhashtable_destroy(&fork_recs_ht);
out_fs:
	pcache_fs_list_free(&fork_fs);
out_counters:
	pcache_counters_free(&fork_counters);
	return ret;
}

/* Unload, hooks still called: no knob, wait for every forked I/O. */
void pcache_fork_drain(void)
{
	mutex_lock(&pcache_config_mutex);
	fork_set_enabled(false);
	mutex_unlock(&pcache_config_mutex);
	cancel_delayed_work_sync(&fork_release_work);
}

/* Unload, retired: no hook calls fork-on-write any more. */
void pcache_fork_free(void)
{
	debugfs_remove_recursive(fork_debugfs);
	rcu_barrier();			/* kfree_rcu() of records and maps */
	rhashtable_destroy(&fork_maps_ht);
	rhashtable_destroy(&fork_recs_ht);
	pcache_fs_list_free(&fork_fs);
	pcache_counters_free(&fork_counters);
}
