/* SPDX-License-Identifier: GPL-2.0 */
/*
 * pcache: the core's view, shared by the features.
 *
 * The core registers struct pcache_hook_ops with the hook patch
 * (include/linux/pcache_hooks.h), counts every hook firing per call site,
 * emits a tracepoint per hook class and owns /sys/kernel/mm/pcache/ and
 * /sys/kernel/debug/pcache/.  Each feature gets a directory under the sysfs
 * root (replication/, tmem/, fork/, faultaround/).
 *
 * Lock order (outermost first):
 *
 *   pcache_config_mutex		core: knobs, hook class switching
 *     pcache_hook_mutex		kernel: mm/pcache_hooks.c
 *       cpus_read_lock, jump_label_mutex	static key switching
 *
 * Hooks run with these held by the kernel, so a hook takes none of the
 * mutexes above and never sleeps where its site says it may not:
 *   remove_folio		mapping->i_pages xa_lock, interrupts off
 *   read_folio (MAP_PAGES)	rcu_read_lock
 *   writeback (WB_END)		interrupt context possible
 *   swap_invalidate		swap_info_struct->lock
 *
 * Unload order: sysfs goes first (no knob can switch hooks back on), then
 * pcache_unregister_hooks() switches every class off and waits for the
 * callers in flight (SRCU), then debugfs and the counters are freed.
 */
#ifndef _PCACHE_H
#define _PCACHE_H

#include <linux/kobject.h>
#include <linux/mutex.h>
#include <linux/pcache_hooks.h>

#define PCACHE_VERSION	"0.1.0"

/* Per-site hook counters. */
void pcache_count(enum pcache_site site);
u64 pcache_site_count(enum pcache_site site);
const char *pcache_site_name(enum pcache_site site);
enum pcache_hook_class pcache_site_class(enum pcache_site site);
extern const char * const pcache_class_names[PCACHE_NR_HOOK_CLASSES];

/* Switching hooks (sysfs hooks_enabled). */
extern struct mutex pcache_config_mutex;
bool pcache_hooks_enabled(void);
int pcache_set_hooks_enabled(bool on);

/* sysfs: /sys/kernel/mm/pcache/. */
int pcache_sysfs_init(void);
void pcache_sysfs_exit(void);
int pcache_sysfs_parse_bool(const char *buf, bool *val);

/* debugfs: /sys/kernel/debug/pcache/. */
void pcache_debugfs_init(void);
void pcache_debugfs_exit(void);

#endif /* _PCACHE_H */
