/* SPDX-License-Identifier: GPL-2.0 */
/*
 * NUMA page cache replication: the hooks it serves and its switch.
 * See repl.c.
 */
#ifndef _PCACHE_REPL_H
#define _PCACHE_REPL_H

#include <linux/kobject.h>
#include <linux/pcache_hooks.h>

struct address_space;
struct folio;
struct folio_batch;

void pcache_repl_read_batch(struct address_space *mapping,
			    struct folio_batch *fbatch);
struct folio *pcache_repl_read_folio(struct address_space *mapping,
				     struct folio *folio);
void pcache_repl_write_folio(struct address_space *mapping,
			     struct folio *folio);
void pcache_repl_invalidate(struct address_space *mapping, pgoff_t start,
			    pgoff_t end, enum pcache_site site);

extern const struct pcache_feature_files pcache_repl_files;
int pcache_repl_init(void);
void pcache_repl_drain(void);
void pcache_repl_free(void);
bool pcache_repl_enabled(void);

#endif /* _PCACHE_REPL_H */
