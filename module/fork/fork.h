/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Fork-on-write: the hooks it serves and its switch.  See fork.c.
 */
#ifndef _PCACHE_FORK_H
#define _PCACHE_FORK_H

#include <linux/kobject.h>
#include <linux/pcache_hooks.h>

struct address_space;
struct folio;

bool pcache_fork_write_folio(struct address_space *mapping,
			     struct folio *folio, enum pcache_site site);
void pcache_fork_writeback(struct folio *folio, enum pcache_site site);
bool pcache_fork_writeback_busy(struct folio *folio);
struct address_space *pcache_fork_writeback_end(struct folio *folio,
						struct address_space *mapping);
void pcache_fork_fdatawait(struct address_space *mapping, loff_t start,
			   loff_t end);
void pcache_fork_invalidate(struct address_space *mapping, pgoff_t start,
			    pgoff_t end, enum pcache_site site);

extern const struct pcache_feature_files pcache_fork_files;
int pcache_fork_init(void);
void pcache_fork_drain(void);
void pcache_fork_free(void);
bool pcache_fork_enabled(void);

#endif /* _PCACHE_FORK_H */
