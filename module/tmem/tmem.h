/* SPDX-License-Identifier: GPL-2.0 */
/*
 * tmem: transcendent memory pools (Magenheimer, 2009), the core under
 * pcache's cleancache and frontswap.  See tmem.c.
 */
#ifndef _PCACHE_TMEM_H
#define _PCACHE_TMEM_H

#include <linux/mm_types.h>
#include <linux/types.h>
#include <linux/uuid.h>

/* new_pool flags */
#define TMEM_POOL_PERSIST	BIT(0)	/* pages stay until flushed */
#define TMEM_POOL_SHARED	BIT(1)	/* found by uuid; gets do not remove */

/**
 * struct tmem_backend - where a pool keeps its page copies
 * @name: shown in sysfs
 * @store: keep a copy of @page; set *@handle; may fail (-ENOMEM, -E2BIG).
 *	Called with no tmem lock held, in the context of the put (@gfp).
 * @load: copy the data of @handle into @page.  No tmem lock held.
 * @free: release @handle.  May be called with interrupts off.
 * @priv: the backend's own state, passed to every op
 */
struct tmem_backend {
	const char *name;
	int (*store)(void *priv, struct page *page, unsigned long *handle,
		     gfp_t gfp);
	int (*load)(void *priv, unsigned long handle, struct page *page);
	void (*free)(void *priv, unsigned long handle);
	void *priv;
};

int tmem_new_pool(const struct tmem_backend *be, unsigned int flags,
		  const uuid_t *uuid);
int tmem_destroy_pool(int pool_id);
int tmem_put_page(int pool_id, u64 oid, u32 index, struct page *page,
		  gfp_t gfp);
int tmem_get_page(int pool_id, u64 oid, u32 index, struct page *page);
int tmem_flush_page(int pool_id, u64 oid, u32 index);
int tmem_flush_object(int pool_id, u64 oid);
long tmem_pool_pages(int pool_id);

/* For the fronts: beyond the original API. */
int tmem_peek_page(int pool_id, u64 oid, u32 index, struct page *page);
int tmem_flush_range(int pool_id, u64 oid, u32 first, u32 last);
long tmem_evict_oldest(int pool_id, long nr);
int tmem_oldest(int pool_id, u64 *oid, u32 *index);
int tmem_touch(int pool_id, u64 oid, u32 index);

extern const struct tmem_backend tmem_backend_raw;

#endif /* _PCACHE_TMEM_H */
