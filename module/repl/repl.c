// SPDX-License-Identifier: GPL-2.0
/*
 * NUMA page cache replication (Nick Piggin, "mm: NUMA replicated
 * pagecache", 2007), rebuilt behind pcache's hooks.
 *
 * A reader on node N of a clean page whose page cache folio (the master)
 * is on another node is given a copy on node N (a replica), so that its
 * reads and its mappings of the page are node-local.  The master stays in
 * the page cache as it is; replicas live here, in a per-mapping index
 * (struct repl_map: page index -> struct repl_page -> one struct
 * repl_copy per node), outside the page cache and off the LRU.
 *
 *   serve	read(2) (READ_BATCH), read faults (READ_FAULT) and
 *		fault-around (MAP_PAGES): a folio of a regular ext4/ext2 file
 *		on another node than the reader is swapped for the reader's
 *		node's replica, made if the policy says so;
 *   collapse	a write-intent lookup (WRITE_BEGIN) or page_mkwrite of the
 *		master (MKWRITE), truncation, hole punch, invalidation and
 *		inode eviction: the page's replicas are unmapped (every PTE
 *		that maps one, found through the mapping's interval tree by
 *		unmap_mapping_pages()) and freed before the write goes on.
 *
 * Piggin's replicas were in the page cache's radix tree, and collapsed
 * when the master was reclaimed or migrated.  Here a page with replicas
 * holds a reference on its master, so reclaim and migration leave the
 * master alone until the shrinker (or a collapse) has freed the replicas;
 * then it is an ordinary folio again.
 *
 * A replica is made only of an order-0 master that is uptodate, clean, not
 * under writeback, locked by us while copied, with no references beyond
 * the page cache, its mappings, its buffers and the caller, of a file with
 * no shared writable mapping (so no PTE can write to a replica, and
 * page_mkwrite always sees the master).  Policy, against the thrashing of
 * the original (about 98 % of replicas zapped again in Schermerhorn's
 * test): a page is replicated on node N after min_remote_reads reads from
 * N, never within its quiet period after a write, and a node's replicas
 * stay under max_percent of its memory.  The quiet period is
 * write_quiet_ms, doubled (up to write_backoff_max times) each time a
 * write collapses replicas of the page that lived less than 8 quiet
 * periods: a page rewritten every few seconds stops being replicated (each
 * replica of it cost a copy, a collapse and, if mapped, a TLB shootdown),
 * and one that stays quiet long enough gets its period back.  A replica
 * is allocated on the reader's node, GFP_NOWAIT and __GFP_ACCOUNT: it is
 * charged to the reader's memory cgroup, and a failed allocation or
 * charge falls back to the master (counted).  The shrinker, per node and
 * memory cgroup, frees replicas coldest first (second chance: a replica
 * read since the last scan is passed over once), so memory.max reclaim
 * frees replicas too; mapped ones are unmapped and freed by reclaim itself
 * when it may sleep (taking only trylocks, see repl_collapse_try()), else,
 * or if busy, by a worker.
 *
 * Coherence.  Every collapse bumps the page's generation under the map's
 * lock and marks its replicas dead; a replica is installed only if the
 * generation it read before copying is still current, so a copy that raced
 * a collapse is dropped.  Faults take the replica's folio lock and check
 * that it is not dead before they map it; a collapse takes and drops the
 * lock of each dead replica, so every fault that found it has mapped it by
 * then, and only then zaps the PTEs and unlinks the replica.  Collapses of
 * one mapping are serialized (map->collapse), so a second writer waits for
 * the first one's zap.  A read(2) that took a replica before the collapse
 * copies the old data; it started before the write returned.  The TLB
 * flushes of the zap are done by unmap_mapping_pages() with i_mmap_rwsem
 * held for read, as truncation does, and only for replicas that are mapped
 * (Piggin's soft lockups came from flushes under the tree lock).
 *
 * Lock order: the master's folio lock (held by WRITE_BEGIN), then
 * map->collapse, then i_mmap_rwsem and the replicas' folio locks; the
 * spinlocks, the map's xa_lock (which also guards the repl_page fields),
 * then repl_nodes[].lock, are innermost.  The read
 * hooks only trylock folios.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": replication: " fmt

#include <linux/debugfs.h>
#include <linux/fs.h>
#include <linux/highmem.h>
#include <linux/jiffies.h>
#include <linux/list_lru.h>
#include <linux/log2.h>
#include <linux/mm.h>
#include <linux/mmzone.h>
#include <linux/nodemask.h>
#include <linux/pagemap.h>
#include <linux/pagevec.h>
#include <linux/percpu.h>
#include <linux/rhashtable.h>
#include <linux/seq_file.h>
#include <linux/shrinker.h>
#include <linux/slab.h>
#include <linux/srcu.h>
#include <linux/sysfs.h>
#include <linux/xarray.h>

#include "../pcache.h"
#include "../trace.h"
#include "policy.h"
#include "repl.h"

enum repl_reason {
	REPL_WRITE,
	REPL_TRUNCATE,
	REPL_INVALIDATE,
	REPL_EVICT,
	REPL_SHRINK,
	REPL_DISABLE,
	REPL_NR_REASONS
};

static const char * const repl_reason_names[REPL_NR_REASONS] = {
	[REPL_WRITE]		= "write",
	[REPL_TRUNCATE]		= "truncate",
	[REPL_INVALIDATE]	= "invalidate",
	[REPL_EVICT]		= "evict",
	[REPL_SHRINK]		= "shrink",
	[REPL_DISABLE]		= "disable",
};

const char *pcache_repl_reason_name(int reason)
{
	return reason >= 0 && reason < REPL_NR_REASONS ?
		repl_reason_names[reason] : "?";
}

/* Counters: the collapse reasons first, in enum repl_reason order. */
enum repl_stat {
	REPL_COLLAPSE_FIRST,
	REPL_REPLICATED = REPL_NR_REASONS,
	REPL_COLLAPSED,
	REPL_READS_LOCAL,
	REPL_READS_REMOTE,
	REPL_ALLOC_FAIL,
	REPL_SKIP_QUIET,
	REPL_SKIP_CAP,
	REPL_SKIP_BUSY,
	REPL_SKIP_LARGE,
	REPL_SHRINK_MAPPED_DIRECT,
	REPL_SHRINK_MAPPED_DEFERRED,
	REPL_BACKOFF,
	REPL_NR_STATS
};

static struct pcache_counters repl_counters;

static void repl_count(enum repl_stat stat, unsigned long n)
{
	pcache_count_add(&repl_counters, stat, n);
}

/* One replica. */
struct repl_copy {
	struct folio *folio;		/* one reference is ours */
	struct repl_page *rp;
	struct list_head lru;		/* repl_lru: node, memory cgroup */
	struct list_head victim;	/* a collapse's list */
	struct list_head zap;		/* repl_zapq: the shrinker's, mapped */
	unsigned long born;		/* jiffies */
	int nid;
	bool referenced;		/* read since the shrinker looked */
	bool dead;			/* being collapsed: no new user */
	struct rcu_head rcu;
};

/* A page with remote readers: its replicas, one slot per node. */
struct repl_page {
	struct repl_map *map;
	pgoff_t index;
	struct folio *master;		/* referenced while @nr > 0 */
	unsigned int nr;		/* replicas linked */
	unsigned int gen;		/* bumped by every collapse */
	unsigned long last_write;	/* jiffies of the last write, or 0 */
	unsigned int backoff;		/* write_quiet_ms doubled this often */
	struct rcu_head rcu;
	struct repl_copy __rcu *copy[];	/* nr_node_ids, then u32 reads[] */
};

/* A mapping with replicated or remotely read pages. */
struct repl_map {
	struct rhash_head node;
	struct address_space *mapping;	/* the key */
	struct list_head list;		/* repl_maps */
	struct mutex collapse;		/* one collapse at a time */
	struct xarray pages;		/* index -> struct repl_page */
	struct rcu_head rcu;
};

/* Per node: its replicas. */
struct repl_node {
	atomic_long_t pages;
};

static const struct rhashtable_params repl_map_params = {
	.key_len		= sizeof(struct address_space *),
	.key_offset		= offsetof(struct repl_map, mapping),
	.head_offset		= offsetof(struct repl_map, node),
	.automatic_shrinking	= true,
};

static struct rhashtable repl_maps_ht;
static LIST_HEAD(repl_maps);
static DEFINE_SPINLOCK(repl_maps_lock);	/* repl_maps list adds */
static DEFINE_MUTEX(repl_mutex);	/* removing maps: evict, disable */
DEFINE_STATIC_SRCU(repl_srcu);		/* hooks in flight, frees */
static struct repl_node *repl_nodes;	/* nr_node_ids */
static atomic_long_t repl_total;	/* replicas */
static atomic_long_t repl_tracked;	/* struct repl_page */
static struct shrinker *repl_shrinker;
/*
 * Replicas, oldest first, per node and memory cgroup, for the shrinker: a
 * replica is charged to the reader's cgroup, so memory.max reclaim must be
 * able to free it.  struct repl_copy comes from repl_copy_cache with
 * kmem_cache_alloc_lru(), which makes the cgroup's list (list_lru needs
 * that, and a module cannot ask for it directly).
 */
static struct list_lru repl_lru;
static struct kmem_cache *repl_copy_cache;
/*
 * Cold mapped replicas the shrinker took off repl_lru: unmapping sleeps,
 * so repl_zap_work collapses them.
 */
static LIST_HEAD(repl_zapq);
static DEFINE_SPINLOCK(repl_zapq_lock);
static void repl_zap_workfn(struct work_struct *work);
static DECLARE_WORK(repl_zap_work, repl_zap_workfn);
static struct dentry *repl_debugfs;

/* Knobs; written under pcache_config_mutex, read locklessly. */
static bool repl_enabled;
static nodemask_t repl_allowed;
static unsigned int repl_min_remote_reads = 2;
static unsigned int repl_write_quiet_ms = 1000;
static unsigned int repl_max_percent = 10;
static unsigned int repl_write_backoff_max = 6;

/* Where replication works, replication/filesystems. */
static const char * const repl_fs_known[] = { "ext4", "ext2", NULL };
PCACHE_FS_LIST(repl_fs, repl_fs_known, "replication/filesystems",
	       "disable replication instead", NULL);

/* debugfs replication/lifetime: how long replicas lived. */
static struct pcache_hist repl_hist = {
	.header = "replicas freed, by lifetime (ms, below)",
};

/* A master's references that are no user's: the page cache's, the caller's. */
#define REPL_BASE_REFS	2

#define REPL_GFP	(GFP_NOWAIT | __GFP_NOWARN | __GFP_THISNODE | \
			 __GFP_ACCOUNT)

bool pcache_repl_enabled(void)
{
	return READ_ONCE(repl_enabled);
}

static u32 *repl_reads(struct repl_page *rp)
{
	return (u32 *)&rp->copy[nr_node_ids];
}

/*
 * Pages of replicas node @nid may have: max_percent of the node's memory
 * as its MemTotal counts it, the pages the buddy allocator manages (not
 * its present pages: KASAN's shadow, the memmap and other boot-time
 * reservations are nobody's to replicate into).
 */
static unsigned long repl_node_cap(int nid)
{
	pg_data_t *pgdat = NODE_DATA(nid);
	unsigned long pages = 0;
	int z;

	for (z = 0; z < MAX_NR_ZONES; z++)
		pages += zone_managed_pages(&pgdat->node_zones[z]);
	return repl_policy_node_cap(pages, READ_ONCE(repl_max_percent));
}

/*
 * Regular files of filesystems known to call page_mkwrite and to keep no
 * folio references of their own beyond buffer heads.
 */
static bool repl_mapping_ok(struct address_space *mapping)
{
	struct inode *host = mapping ? mapping->host : NULL;

	if (!host || !S_ISREG(host->i_mode) || !host->i_sb->s_bdev)
		return false;
	return pcache_fs_list_has(&repl_fs, host->i_sb);
}

/* Inside repl_srcu, which keeps the map found alive (repl_map_free()). */
static struct repl_map *repl_map_find(struct address_space *mapping)
{
	struct repl_map *m;

	rcu_read_lock();
	m = rhashtable_lookup(&repl_maps_ht, &mapping, repl_map_params);
	rcu_read_unlock();
	return m;
}

/*
 * Find or make the map of @mapping; atomic.  NULL, counted in
 * replica_alloc_fail, if there is no memory for it (or for the table to
 * grow).
 */
static struct repl_map *repl_map_get(struct address_space *mapping)
{
	struct repl_map *m = repl_map_find(mapping), *old;

	if (m)
		return m;
	m = kzalloc(sizeof(*m), GFP_NOWAIT | __GFP_NOWARN);
	if (!m)
		goto nomem;
	m->mapping = mapping;
	mutex_init(&m->collapse);
	xa_init(&m->pages);
	old = rhashtable_lookup_get_insert_fast(&repl_maps_ht, &m->node,
						repl_map_params);
	if (old) {
		kfree(m);
		if (IS_ERR(old))
			goto nomem;
		return old;
	}
	spin_lock(&repl_maps_lock);
	list_add(&m->list, &repl_maps);
	spin_unlock(&repl_maps_lock);
	return m;
nomem:
	repl_count(REPL_ALLOC_FAIL, 1);
	return NULL;
}

/*
 * Find or make the repl_page of @index in @m; atomic.  NULL if as many
 * pages are tracked as max_percent allows (skip_cap), or if there is no
 * memory for it or its xarray slot (replica_alloc_fail).
 */
static struct repl_page *repl_page_get(struct repl_map *m, pgoff_t index)
{
	struct repl_page *rp = xa_load(&m->pages, index), *old;
	size_t size;

	if (rp)
		return rp;
	/* Tracking is bounded, by the pages the nodes may replicate. */
	if (atomic_long_read(&repl_tracked) >
	    repl_policy_track_max(totalram_pages(), READ_ONCE(repl_max_percent))) {
		repl_count(REPL_SKIP_CAP, 1);
		return NULL;
	}
	size = struct_size(rp, copy, nr_node_ids) + nr_node_ids * sizeof(u32);
	rp = kzalloc(size, GFP_NOWAIT | __GFP_NOWARN);
	if (!rp)
		goto nomem;
	rp->map = m;
	rp->index = index;
	xa_lock(&m->pages);
	old = __xa_cmpxchg(&m->pages, index, NULL, rp,
			   GFP_NOWAIT | __GFP_NOWARN);
	xa_unlock(&m->pages);
	if (old) {
		kfree(rp);
		if (xa_is_err(old))
			goto nomem;
		return old;
	}
	atomic_long_inc(&repl_tracked);
	return rp;
nomem:
	repl_count(REPL_ALLOC_FAIL, 1);
	return NULL;
}

static void repl_copy_free(struct rcu_head *rcu)
{
	kmem_cache_free(repl_copy_cache,
			container_of(rcu, struct repl_copy, rcu));
}

static void repl_page_free(struct rcu_head *rcu)
{
	kfree(container_of(rcu, struct repl_page, rcu));
}

static void repl_map_free(struct rcu_head *rcu)
{
	struct repl_map *m = container_of(rcu, struct repl_map, rcu);

	xa_destroy(&m->pages);
	kfree(m);
}

/*
 * Take the replica @c for a reader: referenced, and locked if @locked;
 * NULL if it is going away or busy.
 */
static struct folio *repl_copy_get(struct repl_copy *c, bool locked)
{
	struct folio *rep = c->folio;

	if (!folio_try_get(rep))
		return NULL;
	if (locked && !folio_trylock(rep))
		goto put;
	/* Under the folio lock, a dead replica is seen dead (repl_collapse). */
	if (READ_ONCE(c->dead)) {
		if (locked)
			folio_unlock(rep);
		goto put;
	}
	WRITE_ONCE(c->referenced, true);
	return rep;
put:
	folio_put(rep);
	return NULL;
}

/*
 * Make a replica of @master on @nid, if the policy allows.  @master is
 * locked by the caller if @locked, else trylocked here for the copy.
 * Returns the replica, referenced for the caller (and locked if @locked),
 * or NULL.
 */
/* A quiet period: write_quiet_ms, doubled @backoff times. */
static unsigned long repl_quiet(unsigned int backoff)
{
	return repl_policy_quiet(msecs_to_jiffies(READ_ONCE(repl_write_quiet_ms)),
				 backoff);
}

/* Was @rp's page written less than its quiet period ago? */
static bool repl_write_quiet(struct repl_page *rp)
{
	unsigned long w = READ_ONCE(rp->last_write);
	unsigned long quiet = repl_quiet(READ_ONCE(rp->backoff));

	return repl_policy_in_quiet(jiffies, w, quiet);
}

/*
 * Check, @master locked: may a replica of it be made on @nid now?  Counts
 * this read of @nid's.  Returns the page's struct repl_page, with in *@gen
 * the collapse generation the replica must be linked in, or NULL.
 */
static struct repl_page *repl_check(struct address_space *mapping,
				    struct folio *master, int nid,
				    unsigned int *gen)
{
	struct repl_page *rp;
	struct repl_map *m;
	unsigned int refs;
	u32 *reads;

	if (master->mapping != mapping || !folio_test_uptodate(master) ||
	    folio_test_dirty(master) || folio_test_writeback(master) ||
	    mapping_writably_mapped(mapping))
		return NULL;
	m = repl_map_get(mapping);
	rp = m ? repl_page_get(m, master->index) : NULL;
	if (!rp)
		return NULL;		/* counted by the two above */
	*gen = READ_ONCE(rp->gen);
	/*
	 * Page cache, caller, PTEs, buffer heads, our pin: anything more is
	 * a GUP pin or another user of the page.
	 */
	refs = REPL_BASE_REFS + folio_mapcount(master) +
	       folio_has_private(master) + (READ_ONCE(rp->nr) ? 1 : 0);
	if (folio_ref_count(master) > refs) {
		repl_count(REPL_SKIP_BUSY, 1);
		return NULL;
	}
	reads = repl_reads(rp);
	WRITE_ONCE(reads[nid], READ_ONCE(reads[nid]) + 1);
	if (!repl_policy_enough_reads(READ_ONCE(reads[nid]),
				      READ_ONCE(repl_min_remote_reads)))
		return NULL;
	if (repl_write_quiet(rp)) {
		repl_count(REPL_SKIP_QUIET, 1);
		return NULL;
	}
	if (atomic_long_read(&repl_nodes[nid].pages) >= repl_node_cap(nid)) {
		repl_count(REPL_SKIP_CAP, 1);
		return NULL;
	}
	return rp;
}

/* Copy: a replica of @master on @nid, not linked yet, or NULL. */
static struct repl_copy *repl_copy_new(struct repl_page *rp,
				       struct folio *master, int nid,
				       bool locked)
{
	struct repl_copy *c;
	struct folio *rep;

	rep = __folio_alloc_node(REPL_GFP, 0, nid);
	c = rep ? kmem_cache_alloc_lru(repl_copy_cache, &repl_lru,
				       GFP_NOWAIT | __GFP_NOWARN) : NULL;
	if (!c) {
		if (rep)
			folio_put(rep);
		repl_count(REPL_ALLOC_FAIL, 1);
		return NULL;
	}
	copy_highpage(folio_page(rep, 0), folio_page(master, 0));
	rep->index = master->index;
	folio_mark_uptodate(rep);
	if (locked)
		__folio_set_locked(rep);
	c->folio = rep;
	c->rp = rp;
	c->nid = nid;
	c->born = jiffies;
	c->referenced = true;
	c->dead = false;
	INIT_LIST_HEAD(&c->lru);
	INIT_LIST_HEAD(&c->zap);
	return c;
}

/* A replica repl_publish() did not link. */
static void repl_copy_discard(struct repl_copy *c, bool locked)
{
	if (locked)
		__folio_clear_locked(c->folio);
	folio_put(c->folio);
	kmem_cache_free(repl_copy_cache, c);
}

/*
 * Publish: link @c in its node's slot of @rp, with a reference for the
 * caller, unless a collapse (a generation other than @gen), another replica
 * or another master got there first.
 */
static bool repl_publish(struct repl_page *rp, struct repl_copy *c,
			 struct folio *master, unsigned int gen)
{
	struct repl_map *m = rp->map;
	int nid = c->nid;

	xa_lock(&m->pages);
	if (rp->gen != gen || rcu_access_pointer(rp->copy[nid]) ||
	    (rp->nr && rp->master != master) ||
	    xa_load(&m->pages, rp->index) != rp) {
		xa_unlock(&m->pages);
		return false;
	}
	if (!rp->nr++) {
		folio_get(master);
		rp->master = master;
	}
	folio_get(c->folio);		/* the caller's */
	rcu_assign_pointer(rp->copy[nid], c);
	list_lru_add_obj(&repl_lru, &c->lru);
	atomic_long_inc(&repl_nodes[nid].pages);
	atomic_long_inc(&repl_total);
	xa_unlock(&m->pages);
	return true;
}

/*
 * A replica of @master on @nid for a reader there, referenced for the
 * caller (and locked if @locked, as @master is), or NULL: check, copy,
 * publish.
 */
static struct folio *repl_create(struct address_space *mapping,
				 struct folio *master, int nid, bool locked)
{
	struct folio *rep = NULL;
	struct repl_page *rp;
	struct repl_copy *c;
	struct repl_map *m;
	unsigned int gen;

	/*
	 * A page written within write_quiet_ms is not replicated: say so
	 * before taking its lock, which its writers hold all the time.
	 */
	m = repl_map_find(mapping);
	rp = m ? xa_load(&m->pages, master->index) : NULL;
	if (rp && repl_write_quiet(rp)) {
		repl_count(REPL_SKIP_QUIET, 1);
		return NULL;
	}
	if (!locked && !folio_trylock(master)) {
		repl_count(REPL_SKIP_BUSY, 1);
		return NULL;
	}
	rp = repl_check(mapping, master, nid, &gen);
	c = rp ? repl_copy_new(rp, master, nid, locked) : NULL;
	if (!c)
		goto out;
	rep = c->folio;
	if (!repl_publish(rp, c, master, gen)) {
		repl_copy_discard(c, locked);
		rep = NULL;
		goto out;
	}
	repl_count(REPL_REPLICATED, 1);
	trace_pcache_repl_create(mapping->host->i_sb->s_dev,
				 mapping->host->i_ino, master->index, nid,
				 folio_nid(master));
out:
	if (!locked)
		folio_unlock(master);
	return rep;
}

/*
 * Serve @master (referenced; locked if @locked) to a reader on this CPU's
 * node: return it, or a replica in the same state after dropping @master.
 * Inside repl_srcu.
 */
static struct folio *repl_serve(struct address_space *mapping,
				struct folio *master, bool locked)
{
	int nid = numa_node_id();
	struct repl_page *rp;
	struct repl_copy *c;
	struct repl_map *m;
	struct folio *rep = NULL;

	if (folio_nid(master) == nid) {
		repl_count(REPL_READS_LOCAL, 1);
		return master;
	}
	if (folio_test_large(master)) {
		repl_count(REPL_SKIP_LARGE, 1);
		goto remote;
	}
	if (!node_isset(nid, repl_allowed))
		goto remote;
	/*
	 * A file that may be written through a mapping keeps its masters
	 * mapped (a replica must never be mapped where it could be written).
	 */
	if (locked && mapping_writably_mapped(mapping))
		goto remote;
	m = repl_map_find(mapping);
	rp = m ? xa_load(&m->pages, master->index) : NULL;
	c = rp ? srcu_dereference(rp->copy[nid], &repl_srcu) : NULL;
	/*
	 * A replica is of the master it pins.  Another folio at the index
	 * means the pinned one left the page cache (truncation, O_DIRECT)
	 * and its collapse is on the way: the replica may be older than
	 * what was written into the new folio since.
	 */
	if (c && READ_ONCE(rp->master) == master)
		rep = repl_copy_get(c, locked);
	else if (!c)
		rep = repl_create(mapping, master, nid, locked);
	if (!rep)
		goto remote;
	if (locked)
		folio_unlock(master);
	folio_put(master);
	repl_count(REPL_READS_LOCAL, 1);
	return rep;
remote:
	repl_count(REPL_READS_REMOTE, 1);
	return master;
}

void pcache_repl_read_batch(struct address_space *mapping,
			    struct folio_batch *fbatch)
{
	unsigned int i;
	int idx;

	if (!pcache_repl_enabled() || !repl_mapping_ok(mapping))
		return;
	idx = srcu_read_lock(&repl_srcu);
	if (pcache_repl_enabled())
		for (i = 0; i < folio_batch_count(fbatch); i++)
			fbatch->folios[i] = repl_serve(mapping,
						       fbatch->folios[i],
						       false);
	srcu_read_unlock(&repl_srcu, idx);
}

/* READ_FAULT and MAP_PAGES: @folio is locked. */
struct folio *pcache_repl_read_folio(struct address_space *mapping,
				     struct folio *folio)
{
	int idx;

	if (!pcache_repl_enabled() || !repl_mapping_ok(mapping))
		return folio;
	idx = srcu_read_lock(&repl_srcu);
	if (pcache_repl_enabled())
		folio = repl_serve(mapping, folio, true);
	srcu_read_unlock(&repl_srcu, idx);
	return folio;
}

static void repl_hist_add(unsigned long born)
{
	pcache_hist_add(&repl_hist, jiffies_to_msecs(jiffies - born));
}

/*
 * Unlink @victims from their pages, m->pages locked (dropped and taken
 * again to release a full batch); the masters left with no replica go to
 * @masters, whose pins the caller drops.  Returns how many.
 */
static int repl_unlink(struct repl_map *m, struct list_head *victims,
		       struct folio_batch *masters)
{
	struct repl_page *rp;
	struct repl_copy *c;
	int nr = 0;

	list_for_each_entry(c, victims, victim) {
		rp = c->rp;
		RCU_INIT_POINTER(rp->copy[c->nid], NULL);
		list_lru_del_obj(&repl_lru, &c->lru);
		spin_lock(&repl_zapq_lock);
		list_del_init(&c->zap);
		spin_unlock(&repl_zapq_lock);
		atomic_long_dec(&repl_nodes[c->nid].pages);
		atomic_long_dec(&repl_total);
		if (!--rp->nr) {
			if (!folio_batch_add(masters, rp->master)) {
				xa_unlock(&m->pages);
				folio_batch_release(masters);
				xa_lock(&m->pages);
			}
			rp->master = NULL;
		}
		nr++;
	}
	return nr;
}

/* Drop the read counts of @first..@last's pages with no replica, locked. */
static void repl_forget(struct repl_map *m, pgoff_t first, pgoff_t last)
{
	struct repl_page *rp;
	unsigned long index;

	xa_for_each_range(&m->pages, index, rp, first, last) {
		if (rp->nr)
			continue;
		__xa_erase(&m->pages, index);
		atomic_long_dec(&repl_tracked);
		call_srcu(&repl_srcu, &rp->rcu, repl_page_free);
	}
}

/* Free @victims, unlinked, once the hooks in flight let go of them. */
static void repl_free_victims(struct repl_map *m, struct list_head *victims,
			      enum repl_reason why)
{
	struct inode *host = m->mapping->host;
	struct repl_copy *c, *tmp;

	list_for_each_entry_safe(c, tmp, victims, victim) {
		trace_pcache_repl_collapse(host->i_sb->s_dev, host->i_ino,
					   c->rp->index, 1,
					   folio_mapped(c->folio), why);
		repl_hist_add(c->born);
		folio_put(c->folio);
		call_srcu(&repl_srcu, &c->rcu, repl_copy_free);
	}
}

/*
 * Collapse, second half: the replicas on @victims are dead, and no fault
 * maps them any more.  Zap their PTEs, unlink them, unpin the masters and
 * free them; with @forget, also drop the read counts of @first..@last.
 * Under m->collapse; sleeps.  Returns the number freed.
 */
static int repl_collapse_finish(struct repl_map *m, struct list_head *victims,
				pgoff_t first, pgoff_t last,
				enum repl_reason why, bool forget)
{
	struct folio_batch masters;
	struct repl_copy *c;
	int nr;

	lockdep_assert_held(&m->collapse);
	/* Zap the PTEs of the mapped ones. */
	list_for_each_entry(c, victims, victim)
		if (folio_mapped(c->folio))
			unmap_mapping_pages(m->mapping, c->rp->index, 1, false);

	folio_batch_init(&masters);
	xa_lock(&m->pages);
	nr = repl_unlink(m, victims, &masters);
	if (forget)
		repl_forget(m, first, last);
	xa_unlock(&m->pages);
	folio_batch_release(&masters);
	repl_free_victims(m, victims, why);
	if (nr) {
		repl_count(REPL_COLLAPSED, nr);
		repl_count(REPL_COLLAPSE_FIRST + why, nr);
	}
	return nr;
}

/*
 * A write collapses replicas of @rp's page, the oldest made at @born.  If
 * they lived less than REPL_BACKOFF_LIFE quiet periods, replicating the
 * page was thrash (a copy, then a collapse and its TLB shootdown, for a
 * page written that often): its quiet period doubles, up to
 * write_backoff_max times.  A replica that outlived that resets it.
 * Under the map's xa_lock.
 */
static void repl_write_backoff(struct repl_page *rp, unsigned long born)
{
	unsigned int b = rp->backoff;
	unsigned int nb;

	nb = repl_policy_backoff(b, READ_ONCE(repl_write_backoff_max), jiffies,
				 born,
				 msecs_to_jiffies(READ_ONCE(repl_write_quiet_ms)));
	if (nb > b)
		repl_count(REPL_BACKOFF, 1);
	if (nb != b)
		WRITE_ONCE(rp->backoff, nb);
}

/*
 * Drop every replica of pages @first..@last of @m, unmapping them first;
 * with @forget, also the pages' remote read counts.  Sleeps.
 */
static void repl_collapse(struct repl_map *m, pgoff_t first, pgoff_t last,
			  enum repl_reason why, bool forget)
{
	struct repl_copy *c;
	struct repl_page *rp;
	LIST_HEAD(victims);
	unsigned long index;
	int nid;

	mutex_lock(&m->collapse);
	/* 1: no new replica, no new user of these. */
	xa_lock(&m->pages);
	xa_for_each_range(&m->pages, index, rp, first, last) {
		unsigned long born = jiffies;

		rp->gen++;
		for (nid = 0; nid < nr_node_ids; nid++) {
			c = rcu_dereference_protected(rp->copy[nid],
						      lockdep_is_held(&m->pages.xa_lock));
			if (!c)
				continue;
			if (time_before(c->born, born))
				born = c->born;
			WRITE_ONCE(c->dead, true);
			list_add_tail(&c->victim, &victims);
		}
		if (why == REPL_WRITE) {
			if (rp->nr)
				repl_write_backoff(rp, born);
			WRITE_ONCE(rp->last_write, jiffies ?: 1);
		}
	}
	xa_unlock(&m->pages);

	/* 2: faults that took a replica before have mapped it by now. */
	list_for_each_entry(c, &victims, victim) {
		folio_lock(c->folio);
		folio_unlock(c->folio);
	}
	/* 3, 4: zap, unlink, free. */
	repl_collapse_finish(m, &victims, first, last, why, forget);
	mutex_unlock(&m->collapse);
}

/*
 * The shrinker's collapse of page @index of @m, from reclaim: it may sleep
 * on i_mmap_rwsem (for read, as try_to_unmap() in reclaim does) but takes
 * the collapse mutex and the replicas' folio locks only by trylock, since
 * the reclaiming task may hold one of them (a fault allocating its page
 * table with the replica locked).  Holding every replica's lock while it
 * is marked dead does what step 2 of repl_collapse() waits for.  Returns
 * the number of replicas freed, or -EBUSY if a lock was taken.
 */
static int repl_collapse_try(struct repl_map *m, pgoff_t index)
{
	struct repl_copy *c;
	struct repl_page *rp;
	LIST_HEAD(victims);
	int nid, nr;

	if (!mutex_trylock(&m->collapse))
		return -EBUSY;
	xa_lock(&m->pages);
	rp = xa_load(&m->pages, index);
	for (nid = 0; rp && nid < nr_node_ids; nid++) {
		c = rcu_dereference_protected(rp->copy[nid],
					      lockdep_is_held(&m->pages.xa_lock));
		if (!c)
			continue;
		if (!folio_trylock(c->folio))
			goto busy;
		list_add_tail(&c->victim, &victims);
	}
	if (rp)
		rp->gen++;
	list_for_each_entry(c, &victims, victim) {
		WRITE_ONCE(c->dead, true);
		folio_unlock(c->folio);
	}
	xa_unlock(&m->pages);
	nr = repl_collapse_finish(m, &victims, index, index, REPL_SHRINK,
				  false);
	mutex_unlock(&m->collapse);
	return nr;
busy:
	list_for_each_entry(c, &victims, victim)
		folio_unlock(c->folio);
	xa_unlock(&m->pages);
	mutex_unlock(&m->collapse);
	return -EBUSY;
}

/*
 * A write is coming to @folio (WRITE_BEGIN, locked; MKWRITE): its replicas
 * go first.
 */
void pcache_repl_write_folio(struct address_space *mapping,
			     struct folio *folio)
{
	struct repl_page *rp;
	struct repl_map *m;
	int idx;

	if (!pcache_repl_enabled() || !mapping || pcache_mutant(1))
		return;
	idx = srcu_read_lock(&repl_srcu);
	m = repl_map_find(mapping);
	rp = m ? xa_load(&m->pages, folio->index) : NULL;
	if (rp) {
		if (READ_ONCE(rp->nr))
			repl_collapse(m, folio->index,
				      folio_next_index(folio) - 1, REPL_WRITE,
				      false);
		else
			WRITE_ONCE(rp->last_write, jiffies ?: 1);
	}
	srcu_read_unlock(&repl_srcu, idx);
}

static void repl_map_remove(struct repl_map *m)
{
	rhashtable_remove_fast(&repl_maps_ht, &m->node, repl_map_params);
	spin_lock(&repl_maps_lock);
	list_del(&m->list);
	spin_unlock(&repl_maps_lock);
}

void pcache_repl_invalidate(struct address_space *mapping, pgoff_t start,
			    pgoff_t end, enum pcache_site site)
{
	struct repl_map *m;
	int idx;

	if (!pcache_repl_enabled())
		return;
	idx = srcu_read_lock(&repl_srcu);
	m = repl_map_find(mapping);
	if (!m)
		goto out;
	switch (site) {
	case PCACHE_SITE_EVICT:
		/* Nothing maps or reads the inode any more. */
		mutex_lock(&repl_mutex);
		if (repl_map_find(mapping) == m) {
			repl_map_remove(m);
			mutex_unlock(&repl_mutex);
			repl_collapse(m, 0, ULONG_MAX, REPL_EVICT, true);
			call_srcu(&repl_srcu, &m->rcu, repl_map_free);
		} else {
			mutex_unlock(&repl_mutex);
		}
		break;
	case PCACHE_SITE_TRUNCATE:
		if (pcache_mutant(2))
			break;
		repl_collapse(m, start, end, REPL_TRUNCATE, true);
		break;
	default:
		repl_collapse(m, start, end, REPL_INVALIDATE, true);
		break;
	}
out:
	srcu_read_unlock(&repl_srcu, idx);
}

/* Collapse everything and free every map; replication is off. */
static void repl_drop_all(void)
{
	struct repl_map *m;

	mutex_lock(&repl_mutex);
	for (;;) {
		spin_lock(&repl_maps_lock);
		m = list_first_entry_or_null(&repl_maps, struct repl_map, list);
		spin_unlock(&repl_maps_lock);
		if (!m)
			break;
		repl_map_remove(m);
		repl_collapse(m, 0, ULONG_MAX, REPL_DISABLE, true);
		call_srcu(&repl_srcu, &m->rcu, repl_map_free);
		cond_resched();
	}
	mutex_unlock(&repl_mutex);
}

/*
 * The shrinker: unmapped replicas of the node and memory cgroup reclaim
 * asks for, oldest first, second chance.
 */
static unsigned long repl_shrink_count(struct shrinker *s,
				       struct shrink_control *sc)
{
	return list_lru_shrink_count(&repl_lru, sc);
}

struct repl_shrink {
	struct folio_batch masters;
	struct list_head victims;
	unsigned long queued;
};

/* Under the list's lock: take @item's replica out if it may go. */
static enum lru_status repl_isolate(struct list_head *item,
				    struct list_lru_one *list,
				    spinlock_t *lock, void *arg)
{
	struct repl_copy *c = container_of(item, struct repl_copy, lru);
	struct repl_shrink *rs = arg;
	struct repl_page *rp = c->rp;
	struct repl_map *m = rp->map;

	if (READ_ONCE(c->referenced)) {
		WRITE_ONCE(c->referenced, false);
		return LRU_ROTATE;
	}
	if (!folio_batch_space(&rs->masters))
		return LRU_STOP;
	if (READ_ONCE(c->dead))
		return LRU_ROTATE;
	if (folio_mapped(c->folio)) {
		/* Cold but mapped: the worker unmaps and collapses it. */
		list_lru_isolate(list, item);
		spin_lock(&repl_zapq_lock);
		list_add_tail(&c->zap, &repl_zapq);
		spin_unlock(&repl_zapq_lock);
		rs->queued++;
		return LRU_REMOVED;
	}
	if (!spin_trylock(&m->pages.xa_lock))
		return LRU_SKIP;
	if (!folio_trylock(c->folio)) {
		xa_unlock(&m->pages);
		return LRU_SKIP;
	}
	/* Locked: no fault maps it from now on, none has. */
	if (folio_mapped(c->folio) || c->dead) {
		folio_unlock(c->folio);
		xa_unlock(&m->pages);
		return LRU_ROTATE;
	}
	WRITE_ONCE(c->dead, true);
	folio_unlock(c->folio);
	RCU_INIT_POINTER(rp->copy[c->nid], NULL);
	list_lru_isolate(list, item);
	if (!--rp->nr) {
		folio_batch_add(&rs->masters, rp->master);
		rp->master = NULL;
	}
	xa_unlock(&m->pages);
	atomic_long_dec(&repl_nodes[c->nid].pages);
	atomic_long_dec(&repl_total);
	list_add(&c->victim, &rs->victims);
	return LRU_REMOVED;
}

/*
 * Collapse up to @n of the cold mapped replicas queued on repl_zapq, from
 * reclaim: a memory cgroup at memory.max whose replicas are all mapped
 * must get pages back before its charge gives up and calls the OOM
 * killer, which a worker (that may not run in time) cannot promise.  One
 * that is busy is queued again for the worker, if no collapse has it.
 * Inside repl_srcu.  Returns the number of replicas freed.
 */
static unsigned long repl_shrink_mapped(unsigned long n)
{
	unsigned long freed = 0, deferred = 0;
	struct repl_page *rp;
	struct repl_copy *c;
	struct repl_map *m;
	int ret;

	while (n--) {
		spin_lock(&repl_zapq_lock);
		c = list_first_entry_or_null(&repl_zapq, struct repl_copy, zap);
		if (c)
			list_del_init(&c->zap);
		spin_unlock(&repl_zapq_lock);
		if (!c)
			break;
		rp = c->rp;
		m = rp->map;
		ret = repl_collapse_try(m, rp->index);
		if (ret >= 0) {
			freed += ret;
			continue;
		}
		xa_lock(&m->pages);
		if (rcu_access_pointer(rp->copy[c->nid]) == c &&
		    !READ_ONCE(c->dead)) {
			spin_lock(&repl_zapq_lock);
			list_add_tail(&c->zap, &repl_zapq);
			spin_unlock(&repl_zapq_lock);
		}
		xa_unlock(&m->pages);
		deferred++;
	}
	repl_count(REPL_SHRINK_MAPPED_DIRECT, freed);
	repl_count(REPL_SHRINK_MAPPED_DEFERRED, deferred);
	return freed;
}

static unsigned long repl_shrink_scan(struct shrinker *s,
				      struct shrink_control *sc)
{
	struct repl_shrink rs;
	struct repl_copy *c, *tmp;
	unsigned long freed;
	int idx;

	folio_batch_init(&rs.masters);
	INIT_LIST_HEAD(&rs.victims);
	rs.queued = 0;
	idx = srcu_read_lock(&repl_srcu);
	freed = list_lru_shrink_walk(&repl_lru, sc, repl_isolate, &rs);
	/* Reclaim that may sleep collapses the mapped ones itself. */
	if (rs.queued && (sc->gfp_mask & __GFP_DIRECT_RECLAIM))
		repl_shrink_mapped(rs.queued);
	srcu_read_unlock(&repl_srcu, idx);
	folio_batch_release(&rs.masters);
	list_for_each_entry_safe(c, tmp, &rs.victims, victim) {
		repl_hist_add(c->born);
		folio_put(c->folio);
		call_srcu(&repl_srcu, &c->rcu, repl_copy_free);
	}
	if (rs.queued && !list_empty_careful(&repl_zapq))
		queue_work(system_unbound_wq, &repl_zap_work);
	if (freed > rs.queued) {
		repl_count(REPL_COLLAPSED, freed - rs.queued);
		repl_count(REPL_COLLAPSE_FIRST + REPL_SHRINK, freed - rs.queued);
	}
	return freed;
}

/*
 * Collapse the pages of the cold mapped replicas the shrinker queued.
 * repl_srcu keeps a popped replica's page and map allocated, whatever
 * collapse frees them meanwhile (that one took it off the queue, and this
 * collapse then finds nothing).
 */
static void repl_zap_workfn(struct work_struct *work)
{
	struct repl_copy *c;
	struct repl_map *m;
	pgoff_t index;
	int idx;

	idx = srcu_read_lock(&repl_srcu);
	for (;;) {
		spin_lock(&repl_zapq_lock);
		c = list_first_entry_or_null(&repl_zapq, struct repl_copy, zap);
		if (c) {
			list_del_init(&c->zap);
			m = c->rp->map;
			index = c->rp->index;
		}
		spin_unlock(&repl_zapq_lock);
		if (!c)
			break;
		repl_collapse(m, index, index, REPL_SHRINK, false);
		cond_resched();
	}
	srcu_read_unlock(&repl_srcu, idx);
}

static int repl_set_enabled(bool on)
{
	lockdep_assert_held(&pcache_config_mutex);
	if (on == repl_enabled)
		return 0;
	if (on) {
		pcache_feature_ops(PCACHE_FEAT_REPLICATION, true);
		WRITE_ONCE(repl_enabled, true);
	} else {
		WRITE_ONCE(repl_enabled, false);
		synchronize_srcu(&repl_srcu);	/* no hook makes replicas */
		flush_work(&repl_zap_work);
		repl_drop_all();
		srcu_barrier(&repl_srcu);
		pcache_feature_ops(PCACHE_FEAT_REPLICATION, false);
	}
	pr_info("%s\n", on ? "enabled" : "disabled, every replica collapsed");
	return 0;
}

/* sysfs: replication/ */

static int repl_knob_enabled(void *unused, bool on)
{
	return repl_set_enabled(on);
}

static ssize_t nodes_show(struct kobject *k, struct kobj_attribute *a,
			  char *buf)
{
	return sysfs_emit(buf, "%*pbl\n", nodemask_pr_args(&repl_allowed));
}

/*
 * A node list (as in cpuset.mems), each node with memory, at least one: a
 * write with no node in it (empty, blank, a lone newline) is refused with
 * -EINVAL and the list kept, as for every list knob.
 */
static ssize_t nodes_store(struct kobject *k, struct kobj_attribute *a,
			   const char *buf, size_t len)
{
	nodemask_t mask;
	char *s, *p;
	int ret;

	s = kstrdup(buf, GFP_KERNEL);
	if (!s)
		return -ENOMEM;
	p = strim(s);
	ret = *p ? nodelist_parse(p, mask) : -EINVAL;
	if (!ret && (nodes_empty(mask) ||
		     !nodes_subset(mask, node_states[N_MEMORY])))
		ret = -EINVAL;
	if (ret)
		pr_info("nodes: '%s' is not a list of nodes with memory\n", p);
	kfree(s);
	if (ret)
		return -EINVAL;
	mutex_lock(&pcache_config_mutex);
	repl_allowed = mask;
	mutex_unlock(&pcache_config_mutex);
	return len;
}

PCACHE_ENABLED_KNOB(repl_attr_enabled, &repl_enabled, repl_knob_enabled);
PCACHE_UINT_KNOB(repl_attr_min_remote_reads, min_remote_reads,
		 &repl_min_remote_reads, 1, 1000000);
PCACHE_UINT_KNOB(repl_attr_write_quiet_ms, write_quiet_ms,
		 &repl_write_quiet_ms, 0, 3600000);
PCACHE_UINT_KNOB(repl_attr_max_percent, max_percent, &repl_max_percent,
		 1, 100);
PCACHE_UINT_KNOB(repl_attr_write_backoff_max, write_backoff_max,
		 &repl_write_backoff_max, 0, 10);
static struct kobj_attribute repl_attr_nodes = __ATTR_RW(nodes);

static struct attribute *repl_attrs[] = {
	&repl_attr_enabled.attr.attr,
	&repl_attr_nodes.attr,
	&repl_fs.attr.attr,
	&repl_attr_min_remote_reads.attr.attr,
	&repl_attr_write_quiet_ms.attr.attr,
	&repl_attr_max_percent.attr.attr,
	&repl_attr_write_backoff_max.attr.attr,
	NULL,
};

static const struct attribute_group repl_group = {
	.attrs = repl_attrs,
};

/* stats/: the counters, and the replicas now. */
static long repl_nr_replicas(void *unused)
{
	return atomic_long_read(&repl_total);
}

#define REPL_STAT(_name, _stat)						\
	PCACHE_STAT_COUNTER(repl_stat_##_name, _name, _stat)

PCACHE_STAT_VALUE(repl_stat_nr_replica_pages, nr_replica_pages,
		  repl_nr_replicas);
REPL_STAT(replicated, REPL_REPLICATED);
REPL_STAT(collapsed, REPL_COLLAPSED);
REPL_STAT(reads_local, REPL_READS_LOCAL);
REPL_STAT(reads_remote, REPL_READS_REMOTE);
REPL_STAT(replica_alloc_fail, REPL_ALLOC_FAIL);
REPL_STAT(skip_quiet, REPL_SKIP_QUIET);
REPL_STAT(skip_cap, REPL_SKIP_CAP);
REPL_STAT(skip_busy, REPL_SKIP_BUSY);
REPL_STAT(skip_large, REPL_SKIP_LARGE);
REPL_STAT(shrink_mapped_direct, REPL_SHRINK_MAPPED_DIRECT);
REPL_STAT(shrink_mapped_deferred, REPL_SHRINK_MAPPED_DEFERRED);
REPL_STAT(write_backoff, REPL_BACKOFF);
REPL_STAT(collapse_write, REPL_COLLAPSE_FIRST + REPL_WRITE);
REPL_STAT(collapse_truncate, REPL_COLLAPSE_FIRST + REPL_TRUNCATE);
REPL_STAT(collapse_invalidate, REPL_COLLAPSE_FIRST + REPL_INVALIDATE);
REPL_STAT(collapse_evict, REPL_COLLAPSE_FIRST + REPL_EVICT);
REPL_STAT(collapse_shrink, REPL_COLLAPSE_FIRST + REPL_SHRINK);
REPL_STAT(collapse_disable, REPL_COLLAPSE_FIRST + REPL_DISABLE);

static struct attribute *repl_stat_attrs[] = {
	&repl_stat_nr_replica_pages.attr.attr,
	&repl_stat_replicated.attr.attr,
	&repl_stat_collapsed.attr.attr,
	&repl_stat_reads_local.attr.attr,
	&repl_stat_reads_remote.attr.attr,
	&repl_stat_replica_alloc_fail.attr.attr,
	&repl_stat_skip_quiet.attr.attr,
	&repl_stat_skip_cap.attr.attr,
	&repl_stat_skip_busy.attr.attr,
	&repl_stat_skip_large.attr.attr,
	&repl_stat_shrink_mapped_direct.attr.attr,
	&repl_stat_shrink_mapped_deferred.attr.attr,
	&repl_stat_write_backoff.attr.attr,
	&repl_stat_collapse_write.attr.attr,
	&repl_stat_collapse_truncate.attr.attr,
	&repl_stat_collapse_invalidate.attr.attr,
	&repl_stat_collapse_evict.attr.attr,
	&repl_stat_collapse_shrink.attr.attr,
	&repl_stat_collapse_disable.attr.attr,
	NULL,
};

ATTRIBUTE_GROUPS(repl_stat);

static const struct attribute_group *repl_groups[] = { &repl_group, NULL };

const struct pcache_feature_files pcache_repl_files = {
	.groups		= repl_groups,
	.stats		= &repl_counters,
	.stat_groups	= repl_stat_groups,
};

int pcache_repl_init(void)
{
	int ret;

	repl_allowed = node_states[N_MEMORY];
	ret = pcache_counters_init(&repl_counters, REPL_NR_STATS);
	if (ret)
		return ret;
	ret = pcache_fs_list_init(&repl_fs, "ext4 ext2");
	if (ret)
		goto out_counters;
	repl_nodes = kcalloc(nr_node_ids, sizeof(*repl_nodes), GFP_KERNEL);
	if (!repl_nodes) {
		ret = -ENOMEM;
		goto out_fs;
	}
	/* Not merged: list_lru needs these objects' own cgroup lists. */
	repl_copy_cache = KMEM_CACHE(repl_copy, SLAB_ACCOUNT | SLAB_NO_MERGE);
	if (!repl_copy_cache) {
		ret = -ENOMEM;
		goto out_nodes;
	}
	ret = rhashtable_init(&repl_maps_ht, &repl_map_params);
	if (ret)
		goto out_cache;
	repl_shrinker = shrinker_alloc(SHRINKER_NUMA_AWARE |
				       SHRINKER_MEMCG_AWARE,
				       "pcache-replication");
	if (!repl_shrinker) {
		ret = -ENOMEM;
		goto out_ht;
	}
	ret = list_lru_init_memcg(&repl_lru, repl_shrinker);
	if (ret) {
		shrinker_free(repl_shrinker);
		goto out_ht;
	}
	repl_shrinker->count_objects = repl_shrink_count;
	repl_shrinker->scan_objects = repl_shrink_scan;
	shrinker_register(repl_shrinker);
	repl_debugfs = debugfs_create_dir("replication", pcache_debugfs_dir());
	pcache_debugfs_hist("lifetime", repl_debugfs, &repl_hist);
	return 0;

out_ht:
	rhashtable_destroy(&repl_maps_ht);
out_cache:
	kmem_cache_destroy(repl_copy_cache);
out_nodes:
	kfree(repl_nodes);
out_fs:
	pcache_fs_list_free(&repl_fs);
out_counters:
	pcache_counters_free(&repl_counters);
	return ret;
}

/* Unload, hooks still called: no knob, collapse every replica. */
void pcache_repl_drain(void)
{
	mutex_lock(&pcache_config_mutex);
	repl_set_enabled(false);
	mutex_unlock(&pcache_config_mutex);
}

/* Unload, retired: no hook calls replication any more. */
void pcache_repl_free(void)
{
	shrinker_free(repl_shrinker);
	flush_work(&repl_zap_work);
	srcu_barrier(&repl_srcu);
	list_lru_destroy(&repl_lru);
	kmem_cache_destroy(repl_copy_cache);
	debugfs_remove_recursive(repl_debugfs);
	rhashtable_destroy(&repl_maps_ht);
	kfree(repl_nodes);
	pcache_fs_list_free(&repl_fs);
	pcache_counters_free(&repl_counters);
}
