/* SPDX-License-Identifier: GPL-2.0 */
/*
 * tmem backend "zs": pages compressed with a kernel crypto compressor and
 * kept in zsmalloc.  See zs.c.
 */
#ifndef _PCACHE_TMEM_ZS_H
#define _PCACHE_TMEM_ZS_H

#include <linux/atomic.h>
#include <linux/types.h>

#include "../stats.h"
#include "tmem.h"

struct tmem_zs;

/**
 * struct tmem_zs_stats - what one compressed backend holds (gauges)
 * @stored: handles held (incl. same-filled, raw, staged)
 * @same_filled: stored as a value, no allocation
 * @raw: stored uncompressed (incompressible, mode raw)
 * @staged: atomic-context stores waiting for the worker
 * @bytes: compressed bytes held (raw pages count PAGE_SIZE, same-filled 0)
 *
 * All read with atomic_long_read().
 */
struct tmem_zs_stats {
	atomic_long_t stored;
	atomic_long_t same_filled;
	atomic_long_t raw;
	atomic_long_t staged;
	atomic_long_t bytes;
};

/* The stores a backend refused, event counters (tmem_zs_rejects()). */
enum tmem_zs_reject {
	TMEM_ZS_REJECT_COMPRESS_POOR,	/* incompressible and mode reject */
	TMEM_ZS_REJECT_COMPRESS_FAIL,	/* the compressor returned an error */
	TMEM_ZS_REJECT_ALLOC_FAIL,	/* zs_malloc / page alloc failed */
	TMEM_ZS_REJECT_KMEMCACHE_FAIL,	/* entry struct alloc failed */
	TMEM_ZS_NR_REJECTS
};

struct tmem_zs *tmem_zs_create(const char *name, const char *compressor);
void tmem_zs_destroy(struct tmem_zs *zs);
const struct tmem_backend *tmem_zs_backend(struct tmem_zs *zs);
int tmem_zs_set_compressor(struct tmem_zs *zs, const char *name);
const char *tmem_zs_compressor(struct tmem_zs *zs);
void tmem_zs_set_store_raw(struct tmem_zs *zs, bool raw);
void tmem_zs_set_threshold(struct tmem_zs *zs, unsigned int pct);
unsigned long tmem_zs_total_pages(struct tmem_zs *zs);
void tmem_zs_drain(struct tmem_zs *zs);
struct tmem_zs_stats *tmem_zs_stats(struct tmem_zs *zs);
unsigned long tmem_zs_rejects(struct tmem_zs *zs, enum tmem_zs_reject why);

#endif /* _PCACHE_TMEM_ZS_H */
