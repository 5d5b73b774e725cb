/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The two tmem fronts of pcache: cleancache (ephemeral pools, one per
 * filesystem, a victim cache for clean page cache folios) and frontswap (a
 * persistent pool per swap device, in front of the device).  Each front
 * keeps its pages in its own compressed backend (zs.c) and has a directory
 * /sys/kernel/mm/pcache/tmem/{ephemeral,persistent}/ (front.c).
 */
#ifndef _PCACHE_TMEM_FRONT_H
#define _PCACHE_TMEM_FRONT_H

#include <linux/atomic.h>
#include <linux/kobject.h>
#include <linux/mutex.h>
#include <linux/pcache_hooks.h>

#include "../pcache.h"
#include "tmem.h"
#include "zs.h"

/* The counters each front keeps itself; the backend keeps the rest. */
enum pcache_tmem_stat {
	PCACHE_TMEM_PUTS,
	PCACHE_TMEM_PUT_REJECTS,
	PCACHE_TMEM_REJECT_ALLOC_FAIL,
	PCACHE_TMEM_REJECT_POOL_LIMIT,
	PCACHE_TMEM_REJECT_LARGE_FOLIO,
	PCACHE_TMEM_REJECT_NO_POOL,
	PCACHE_TMEM_POOL_ALLOC_FAIL,	/* a pool not created: no memory */
	PCACHE_TMEM_GETS,
	PCACHE_TMEM_GET_HITS,
	PCACHE_TMEM_FLUSHES,
	PCACHE_TMEM_EVICTED,
	PCACHE_TMEM_WRITTEN_BACK,
	PCACHE_TMEM_POOL_LIMIT_HIT,
	PCACHE_TMEM_SHARED_LEFT,	/* ephemeral: members made writable */
	PCACHE_TMEM_SHARED_MISMATCH,	/* ephemeral: same uuid, other data */
	PCACHE_TMEM_NR_STATS
};

/**
 * struct pcache_tmem_front - one front: its knobs, backend and counters
 * @name: "ephemeral" or "persistent", its sysfs directory
 * @persistent: frontswap (true) or cleancache
 * @enabled: on; read locklessly by the hooks
 * @max_pool_percent: pool size limit, percent of RAM
 * @store_raw: incompressible pages are stored raw (else rejected)
 * @threshold: percent of a page above which a page is incompressible
 * @zs: the compressed backend holding the front's pages
 * @pools: number of tmem pools the front has now
 * @stats: enum pcache_tmem_stat counters
 * @set_enabled: switch the front; under pcache_config_mutex
 */
struct pcache_tmem_front {
	const char *name;
	bool persistent;
	bool enabled;
	unsigned int max_pool_percent;
	bool store_raw;
	unsigned int threshold;
	struct tmem_zs *zs;
	atomic_t pools;
	struct pcache_counters stats;
	int (*set_enabled)(bool on);
};

extern struct pcache_tmem_front pcache_cleancache;
extern struct pcache_tmem_front pcache_frontswap;

static inline void pcache_tmem_count(struct pcache_tmem_front *f,
				     enum pcache_tmem_stat stat,
				     unsigned long n)
{
	pcache_count_add(&f->stats, stat, n);
}

/*
 * A put that tmem_put_page() refused with @ret.  -ENOMEM is lack of
 * memory, wherever it was: tmem's entry, object or xarray node, or the
 * backend's entry, staging page or zsmalloc handle.
 */
static inline void pcache_tmem_count_put_reject(struct pcache_tmem_front *f,
						int ret)
{
	pcache_tmem_count(f, PCACHE_TMEM_PUT_REJECTS, 1);
	if (ret == -ENOMEM)
		pcache_tmem_count(f, PCACHE_TMEM_REJECT_ALLOC_FAIL, 1);
}

/* Pages the front may use: max_pool_percent of RAM. */
unsigned long pcache_tmem_limit_pages(struct pcache_tmem_front *f);
bool pcache_tmem_over_limit(struct pcache_tmem_front *f);

/*
 * front.c: a front's backend, and the files every front has: its knobs
 * (enabled, compressor, ...) and its stats/.
 */
extern const struct attribute_group pcache_tmem_front_group;
extern const struct attribute_group *pcache_tmem_front_stat_groups[];
int pcache_tmem_front_init(struct pcache_tmem_front *f);
void pcache_tmem_front_free(struct pcache_tmem_front *f);

/* cleancache.c: the hooks it serves, and its switch. */
void pcache_cc_remove_folio(struct address_space *mapping,
			    struct folio *folio, bool reclaim);
bool pcache_cc_fill_folio(struct address_space *mapping, struct folio *folio);
void pcache_cc_write_folio(struct address_space *mapping, struct folio *folio);
void pcache_cc_invalidate(struct address_space *mapping, pgoff_t start,
			  pgoff_t end, enum pcache_site site);
void pcache_cc_sb_event(struct super_block *sb, enum pcache_site site);
int pcache_cc_set_enabled(bool on);
long pcache_cc_shared_pools(void);
long pcache_cc_shared_members(void);
bool pcache_cc_enabled(void);
extern const struct pcache_feature_files pcache_cc_files;
int pcache_cc_init(void);
void pcache_cc_drain(void);
void pcache_cc_free(void);

/* frontswap.c */
bool pcache_frontswap_store(struct folio *folio);
bool pcache_frontswap_load(struct folio *folio);
void pcache_frontswap_invalidate(int type, pgoff_t offset, unsigned int nr);
void pcache_frontswap_swapoff(int type);
int pcache_frontswap_set_enabled(bool on);
bool pcache_frontswap_enabled(void);
extern const struct pcache_feature_files pcache_frontswap_files;
int pcache_frontswap_init(void);
void pcache_frontswap_drain(void);
void pcache_frontswap_free(void);

#endif /* _PCACHE_TMEM_FRONT_H */
