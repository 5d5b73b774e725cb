/* SPDX-License-Identifier: GPL-2.0 */
/*
 * pcache: the core's view, shared by the features.
 *
 * The core registers struct pcache_hook_ops with the hook patch
 * (include/linux/pcache_hooks.h), enables every hook class, shows the
 * per-site firing counts the hook series keeps, emits a tracepoint per hook
 * class and owns /sys/kernel/mm/pcache/ and /sys/kernel/debug/pcache/.
 *
 * An op is installed only while something needs it: its tracepoint is
 * enabled (the reg/unreg callbacks below) or, later, a feature is on.  An
 * op left NULL costs its call sites a counter increment and no call.
 *
 * Each feature gets a directory under the sysfs root (replication/, tmem/,
 * fork/, faultaround/).
 *
 * Lock order (outermost first):
 *
 *   pcache_config_mutex		core: knobs, hook class switching
 *     pcache_hook_mutex		kernel: mm/pcache_hooks.c
 *       cpus_read_lock, jump_label_mutex	static key switching
 *     repl_mutex		replication: removing maps (evict, disable)
 *     map->collapse		replication: one collapse of a mapping
 *       (taken with the master's folio lock held, above i_mmap_rwsem
 *        and the replicas' folio locks; see repl/repl.c)
 *     fork_release_mutex	fork: one release pass; takes the
 *				forked-off folios' locks
 *     cc_mutex, fs_mutex		tmem fronts: pool creation/teardown
 *       (synchronize_srcu of cc_srcu / fs_srcu: hooks never take these
 *        mutexes inside those SRCU sections)
 *     zs->comp_mutex		compressed backend: compressor switch
 *   pcache_ops_lock (spinlock)	which ops are installed
 *
 * Hooks run with these held by the kernel, so a hook takes none of the
 * mutexes above (sb_event and the first store of a swap type take
 * cc_mutex / fs_mutex, outside any lock of ours) and never sleeps where
 * its site says it may not:
 *   remove_folio		mapping->i_pages xa_lock, interrupts off
 *   read_folio (MAP_PAGES)	rcu_read_lock
 *   writeback (WB_START)	rcu_read_lock, the folio locked
 *   writeback_end (WB_END)	interrupt context possible
 *   swap_invalidate		swap_info_struct->lock
 *
 * Fork-on-write's WRITE hook holds the old folio's lock (taken by the
 * kernel for WRITE_BEGIN, by the hook for MKWRITE), then takes
 * i_mmap_rwsem (unmap_mapping_pages()), the new folio's lock and i_pages
 * (replace_page_cache_folio()); its WB_PREPARE hook sleeps for a
 * forked-off folio's I/O with the copy locked.  fork_lock, a spinlock
 * never taken in interrupt context, is innermost but for the fork maps'
 * xarray locks.
 *
 * Inside the hooks, the tmem locks nest below those: a tmem pool's lock,
 * then the compressed backend's zs->lock (both irq-safe spinlocks).
 * zsmalloc's own locks are taken only in process context with interrupts
 * on and no lock of ours held (never under i_pages: see tmem/zs.c).
 *
 * Unload order: the features first, in the reverse order of init, each
 * in three steps: drain while its hooks still run (fork-on-write stops
 * forking and waits for the I/O of every forked-off folio, whose end of
 * writeback needs its hook, then releases them; replication collapses
 * every replica, unmapping it first; tmem: cleancache drops its pools,
 * frontswap writes every stored page back to swap), then
 * pcache_feature_retire() (the ops stop calling it and the calls in
 * flight return: other features may keep the same ops installed, and
 * removing a debugfs file evicts an inode through the invalidate hook),
 * then free.  Then sysfs (no knob can switch hooks back on), then
 * pcache_unregister_hooks() switches every class off and waits for the
 * callers in flight (RCU and SRCU), then debugfs goes.
 */
#ifndef _PCACHE_H
#define _PCACHE_H

#include <linux/debugfs.h>
#include <linux/kobject.h>
#include <linux/mutex.h>
#include <linux/pcache_hooks.h>

#include "mutant.h"

#define PCACHE_VERSION	"0.1.0"

/*
 * Per-site hook counters: the hook series counts every firing while a class
 * is on; the core shows the counts since the module was loaded.
 */
u64 pcache_site_hits(enum pcache_site site);
const char *pcache_site_name(enum pcache_site site);
enum pcache_hook_class pcache_site_class(enum pcache_site site);
extern const char * const pcache_class_names[PCACHE_NR_HOOK_CLASSES];

/* Tracepoint reg/unreg callbacks: install and remove the ops they trace. */
int pcache_trace_read_reg(void);
void pcache_trace_read_unreg(void);
int pcache_trace_write_reg(void);
void pcache_trace_write_unreg(void);
int pcache_trace_remove_reg(void);
void pcache_trace_remove_unreg(void);
int pcache_trace_miss_reg(void);
void pcache_trace_miss_unreg(void);
int pcache_trace_writeback_reg(void);
void pcache_trace_writeback_unreg(void);
int pcache_trace_invalidate_reg(void);
void pcache_trace_invalidate_unreg(void);
int pcache_trace_sb_reg(void);
void pcache_trace_sb_unreg(void);
int pcache_trace_fault_around_reg(void);
void pcache_trace_fault_around_unreg(void);
int pcache_trace_swap_reg(void);
void pcache_trace_swap_unreg(void);

/* Switching hooks (sysfs hooks_enabled). */
extern struct mutex pcache_config_mutex;
bool pcache_hooks_enabled(void);
int pcache_set_hooks_enabled(bool on);

/* sysfs: /sys/kernel/mm/pcache/. */
int pcache_sysfs_init(void);
void pcache_sysfs_exit(void);
int pcache_sysfs_parse_bool(const char *buf, bool *val);
struct kobject *pcache_sysfs_feature_dir(const char *name);
ssize_t pcache_sysfs_store_enabled(const char *feature, const char *buf,
				   size_t len, int (*set)(bool on));

/*
 * A read-only counter file of a feature's stats/ directory: shows
 * @read(@stat) (a feature's own numbering; negative ones are gauges).
 */
struct pcache_stat_attr {
	struct kobj_attribute attr;
	unsigned long (*read)(int stat);
	int stat;
};

ssize_t pcache_stat_show(struct kobject *k, struct kobj_attribute *a,
			 char *buf);

#define PCACHE_STAT_ATTR(_var, _name, _read, _stat)			\
static struct pcache_stat_attr _var = {					\
	.attr = __ATTR(_name, 0444, pcache_stat_show, NULL),		\
	.read = _read,							\
	.stat = _stat,							\
}

/* debugfs: a power-of-two histogram, one "bound count" line a bucket. */
struct seq_file;
void pcache_seq_hist(struct seq_file *s, const char *header,
		     atomic_long_t *hist, int buckets);

/* core.c: which ops the features need installed. */
enum pcache_feature {
	PCACHE_FEAT_CLEANCACHE,
	PCACHE_FEAT_FRONTSWAP,
	PCACHE_FEAT_REPLICATION,
	PCACHE_FEAT_FORK,
	PCACHE_NR_FEATURES
};

void pcache_feature_ops(enum pcache_feature feat, bool on);
/*
 * The end of a feature's life for the hooks: from the return on, no hook
 * calls into @feat, which may then free what its hooks use.  Its exit
 * calls this once it has drained, and the core has set it live once its
 * init returned 0.
 */
void pcache_feature_retire(enum pcache_feature feat);

/* repl/repl.c: a collapse reason's name, for the tracepoint. */
const char *pcache_repl_reason_name(int reason);
/* fork/fork.c: a refusal reason's name, for the tracepoint. */
const char *pcache_fork_reason_name(int reason);

/* debugfs: /sys/kernel/debug/pcache/. */
void pcache_debugfs_init(void);
void pcache_debugfs_exit(void);
struct dentry *pcache_debugfs_dir(void);

#endif /* _PCACHE_H */
