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
 * enabled (the reg/unreg callbacks below) or a feature whose
 * struct pcache_feature.ops names it is on.  An op left NULL costs its
 * call sites a counter increment and no call.  That is why the registered
 * struct pcache_hook_ops stays writable while hooks run: core.c rewrites
 * each op pointer with WRITE_ONCE() under pcache_ops_lock, the hook series
 * reads each pointer once per call (READ_ONCE) and calls what it read, and
 * every op is safe to call at any time (it calls a feature only while that
 * feature is live), so a reader sees either the old op or the new one,
 * both valid.  pcache_feature_ops() then waits for the calls in flight.
 *
 * Each feature gets a directory under the sysfs root (replication/, tmem/,
 * fork/, faultaround/), named in its struct pcache_feature.
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
 *     cc_mutex, frontswap_mutex	tmem fronts: pool creation/teardown
 *       (synchronize_srcu of cc_srcu / frontswap_srcu: hooks never take
 *        these mutexes inside those SRCU sections)
 *     zs->comp_mutex		compressed backend: compressor switch
 *   pcache_ops_lock (spinlock)	which ops are installed
 *
 * Hooks run with these held by the kernel, so a hook takes none of the
 * mutexes above (sb_event and the first store of a swap type take
 * cc_mutex / frontswap_mutex, outside any lock of ours) and never sleeps
 * where its site says it may not:
 *   remove_folio		mapping->i_pages xa_lock, interrupts off
 *   read_folio (MAP_PAGES)	rcu_read_lock
 *   writeback (WB_START)	rcu_read_lock, the folio locked
 *   writeback_end (WB_END)	interrupt context possible
 *   swap_invalidate		swap_info_struct->lock (a freed slot), or
 *				the folio locked in swap_writepage() (the
 *				zeromap or zswap took it): atomic either way
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
 * Unload order: the features first, in the reverse order of init
 * (pcache_features[] walked backwards), each in three steps: ->drain()
 * while its hooks still run (fork-on-write stops
 * forking and waits for the I/O of every forked-off folio, whose end of
 * writeback needs its hook, then releases them; replication collapses
 * every replica, unmapping it first; cleancache drops its pools,
 * frontswap writes every stored page back to swap), then the core
 * retires it (the ops stop calling it and the calls in
 * flight return: other features may keep the same ops installed, and
 * removing a debugfs file evicts an inode through the invalidate hook),
 * then ->free().  Then sysfs (no knob can switch hooks back on), then
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
#include "stats.h"

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

/* sysfs: /sys/kernel/mm/pcache/, the core's files and helpers (sysfs.c). */
int pcache_sysfs_init(void);
void pcache_sysfs_exit(void);
int pcache_sysfs_parse_bool(const char *buf, bool *val);

/*
 * A directory of files about one object, its @owner (a tmem front, say):
 * the files find it with pcache_sysfs_owner().  @counters, if not NULL,
 * are the event counters its struct pcache_stat_attr files show.  Removed,
 * files and all, by kobject_put(); NULL if it cannot be created.
 */
struct kobject *pcache_sysfs_dir_add(struct kobject *parent, const char *name,
				     void *owner,
				     struct pcache_counters *counters,
				     const struct attribute_group **groups);
void *pcache_sysfs_owner(struct kobject *dir);

/**
 * struct pcache_stat_attr - a read-only file of a stats/ directory
 * @attr: the file
 * @value: if set, what the file shows (a gauge, or a count kept
 *	elsewhere), given the directory's owner
 * @stat: else, which of the directory's event counters it shows
 */
struct pcache_stat_attr {
	struct kobj_attribute attr;
	long (*value)(void *owner);
	unsigned int stat;
};

ssize_t pcache_stat_show(struct kobject *k, struct kobj_attribute *a,
			 char *buf);

#define PCACHE_STAT_COUNTER(_var, _name, _stat)				\
static struct pcache_stat_attr _var = {					\
	.attr = __ATTR(_name, 0444, pcache_stat_show, NULL),		\
	.stat = _stat,							\
}

#define PCACHE_STAT_VALUE(_var, _name, _value)				\
static struct pcache_stat_attr _var = {					\
	.attr = __ATTR(_name, 0444, pcache_stat_show, NULL),		\
	.value = _value,						\
}

/*
 * Knobs: one value per file.  A write that is not exactly one accepted
 * value (optionally followed by a newline) fails with -EINVAL and changes
 * nothing; an accepted one is stored under pcache_config_mutex.  A knob's
 * value is a static variable (@val), or with @val NULL, the field at
 * offset @field of its directory's owner (pcache_sysfs_owner()).
 */

/**
 * struct pcache_uint_knob - an unsigned integer of @min..@max
 * @attr: the file
 * @val: the value, read locklessly with READ_ONCE()
 * @field: if @val is NULL, the offset of the value in the directory's owner
 * @min: the lowest value accepted
 * @max: the highest
 * @changed: if set, told the new value, under pcache_config_mutex
 */
struct pcache_uint_knob {
	struct kobj_attribute attr;
	unsigned int *val;
	size_t field;
	unsigned int min, max;
	void (*changed)(void *owner, unsigned int v);
};

ssize_t pcache_uint_knob_show(struct kobject *k, struct kobj_attribute *a,
			      char *buf);
ssize_t pcache_uint_knob_store(struct kobject *k, struct kobj_attribute *a,
			       const char *buf, size_t len);

#define PCACHE_UINT_KNOB(_var, _name, _val, _min, _max)			\
static struct pcache_uint_knob _var = {					\
	.attr = __ATTR(_name, 0644, pcache_uint_knob_show,		\
		       pcache_uint_knob_store),				\
	.val = _val, .min = _min, .max = _max,				\
}

#define PCACHE_UINT_FIELD_KNOB(_var, _name, _type, _f, _min, _max, _changed) \
static struct pcache_uint_knob _var = {					\
	.attr = __ATTR(_name, 0644, pcache_uint_knob_show,		\
		       pcache_uint_knob_store),				\
	.field = offsetof(_type, _f), .min = _min, .max = _max,	\
	.changed = _changed,						\
}

/**
 * struct pcache_bool_knob - 0 or 1, switched by a function
 * @attr: the file
 * @val: the value, read locklessly with READ_ONCE()
 * @field: if @val is NULL, the offset of the value in the directory's owner
 * @set: switches it, under pcache_config_mutex; 0 or an error
 * @needs_hooks: a feature's enabled: 1 is refused with -EBUSY, and dmesg
 *	says why, while hooks_enabled is 0
 */
struct pcache_bool_knob {
	struct kobj_attribute attr;
	bool *val;
	size_t field;
	int (*set)(void *owner, bool on);
	bool needs_hooks;
};

ssize_t pcache_bool_knob_show(struct kobject *k, struct kobj_attribute *a,
			      char *buf);
ssize_t pcache_bool_knob_store(struct kobject *k, struct kobj_attribute *a,
			       const char *buf, size_t len);

#define __PCACHE_BOOL_KNOB(_var, _name, _set, _hooks, _where...)	\
static struct pcache_bool_knob _var = {					\
	.attr = __ATTR(_name, 0644, pcache_bool_knob_show,		\
		       pcache_bool_knob_store),				\
	.set = _set, .needs_hooks = _hooks, _where			\
}

/* A feature's enabled file. */
#define PCACHE_ENABLED_KNOB(_var, _val, _set)				\
	__PCACHE_BOOL_KNOB(_var, enabled, _set, true, .val = _val)
#define PCACHE_ENABLED_FIELD_KNOB(_var, _type, _f, _set)		\
	__PCACHE_BOOL_KNOB(_var, enabled, _set, true,			\
			   .field = offsetof(_type, _f))
#define PCACHE_BOOL_KNOB(_var, _name, _val, _set)			\
	__PCACHE_BOOL_KNOB(_var, _name, _set, false, .val = _val)

/*
 * A filesystems file (fork/filesystems, ...): filesystem type names
 * separated by blanks or commas, at least one, at most
 * PCACHE_FS_LIST_MAX, each of @known (a NULL-terminated list of the types
 * a feature is known to work on) or, with @known NULL, a registered
 * filesystem type.  Readers test a superblock's type in any context
 * (RCU); a write publishes a new list.
 */
#define PCACHE_FS_LIST_MAX	8

struct pcache_fs_names;
struct super_block;

/**
 * struct pcache_fs_list - a filesystem allow-list knob
 * @attr: its file
 * @names: the list now; RCU, replaced under pcache_config_mutex
 * @known: the types it may hold, or NULL: any registered type
 * @what: the knob's name in dmesg ("fork/filesystems")
 * @empty: what to do instead of an empty list, for dmesg
 * @changed: if set, told of a new list, under pcache_config_mutex
 */
struct pcache_fs_list {
	struct kobj_attribute attr;
	struct pcache_fs_names __rcu *names;
	const char * const *known;
	const char *what;
	const char *empty;
	void (*changed)(void);
};

ssize_t pcache_fs_list_attr_show(struct kobject *k, struct kobj_attribute *a,
				 char *buf);
ssize_t pcache_fs_list_attr_store(struct kobject *k, struct kobj_attribute *a,
				  const char *buf, size_t len);

#define PCACHE_FS_LIST(_var, _known, _what, _empty, _changed)		\
static struct pcache_fs_list _var = {					\
	.attr = __ATTR(filesystems, 0644, pcache_fs_list_attr_show,	\
		       pcache_fs_list_attr_store),			\
	.known = _known, .what = _what, .empty = _empty,		\
	.changed = _changed,						\
}

int pcache_fs_list_init(struct pcache_fs_list *l, const char *names);
void pcache_fs_list_free(struct pcache_fs_list *l);
bool pcache_fs_list_has(struct pcache_fs_list *l, struct super_block *sb);
void pcache_fs_list_iterate_supers(struct pcache_fs_list *l,
				   void (*fn)(struct super_block *sb, void *arg),
				   void *arg);

/*
 * The features, in the order the core starts them; unload is the reverse.
 * Each is one entry of the core's table, pcache_features[] in core.c.
 */
enum pcache_feature_id {
	PCACHE_FEAT_CLEANCACHE,
	PCACHE_FEAT_FRONTSWAP,
	PCACHE_FEAT_REPLICATION,
	PCACHE_FEAT_FORK,
	PCACHE_FEAT_FAULTAROUND,
	PCACHE_NR_FEATURES
};

/* The ops of struct pcache_hook_ops, as bits of struct pcache_feature.ops. */
enum pcache_op {
	PCACHE_OP_READ_BATCH,
	PCACHE_OP_READ_FOLIO,
	PCACHE_OP_WRITE_FOLIO,
	PCACHE_OP_REMOVE_FOLIO,
	PCACHE_OP_FILL_FOLIO,
	PCACHE_OP_WRITEBACK,
	PCACHE_OP_WRITEBACK_BUSY,
	PCACHE_OP_WRITEBACK_END,
	PCACHE_OP_INVALIDATE,
	PCACHE_OP_FDATAWAIT,
	PCACHE_OP_SB_EVENT,
	PCACHE_OP_FAULT_AROUND,
	PCACHE_OP_MAP_AROUND,
	PCACHE_OP_SWAP_STORE,
	PCACHE_OP_SWAP_LOAD,
	PCACHE_OP_SWAP_INVALIDATE,
	PCACHE_OP_SWAPON,
	PCACHE_OP_SWAPOFF,
	PCACHE_NR_OPS
};

/**
 * struct pcache_feature_files - a feature's sysfs files, made by the core
 * @subdir: a directory of its own in the feature's @sysfs_dir (the tmem
 *	fronts: tmem/ephemeral, tmem/persistent), or NULL for @sysfs_dir
 * @owner: what pcache_sysfs_owner() gives the files of @subdir
 * @groups: its knobs, NULL-terminated
 * @stats: the event counters its stats/ directory shows
 * @stat_groups: the files of stats/, NULL-terminated
 *
 * The core makes them once the feature's @init has returned 0 and removes
 * them before its @drain, so that no knob ever runs outside init..drain.
 */
struct pcache_feature_files {
	const char *subdir;
	void *owner;
	const struct attribute_group **groups;
	struct pcache_counters *stats;
	const struct attribute_group **stat_groups;
};

/**
 * struct pcache_feature - a feature, as the core sees it
 * @name: its name in dmesg
 * @sysfs_dir: its directory under /sys/kernel/mm/pcache/; two features
 *	may share one (tmem/ holds both tmem fronts)
 * @files: its knobs and its stats/, in @sysfs_dir
 * @ops: BIT(enum pcache_op) of every op it needs installed while it is on
 * @enabled: whether it is on; while it is, hooks_enabled=0 is refused.  A
 *	feature that holds data (replicas, fork's forked-off folios under
 *	I/O, frontswap's stored pages) gives it all back inside its disable,
 *	under pcache_config_mutex, or stays on (frontswap's -EBUSY): so
 *	"enabled" is also "may hold data its hooks must still serve"
 * @init: set up, off; 0, or an error with everything it did undone
 * @drain: the first step of unload, while its hooks are still called and
 *	its files are gone (no knob can turn it on again): switch it off and
 *	give back everything it holds, writing back what exists nowhere
 *	else (frontswap's stored pages, fork's forked-off folios under I/O)
 * @free: the last step, once no hook calls it: free what its hooks used
 *
 * Between @drain and @free the core retires the feature (see
 * pcache_feature_retire() in core.c).  Adding a feature is a file (or a
 * folder) and an entry in pcache_features[].
 */
struct pcache_feature {
	const char *name;
	const char *sysfs_dir;
	const struct pcache_feature_files *files;
	unsigned long ops;
	bool (*enabled)(void);
	int (*init)(void);
	void (*drain)(void);
	void (*free)(void);
};

extern const struct pcache_feature pcache_features[PCACHE_NR_FEATURES];
/*
 * sysfs.c: a feature's files (struct pcache_feature_files), made once its
 * init has returned and removed before its drain.
 */
int pcache_sysfs_feature_add(enum pcache_feature_id feat);
void pcache_sysfs_feature_remove(enum pcache_feature_id feat);
/*
 * Write @val to the file @name of a feature's files as a write from user
 * space would: the same store, checks and errors.  0 or the store's error.
 */
int pcache_sysfs_feature_write(enum pcache_feature_id feat, const char *name,
			       const char *val);

/*
 * A feature needs its ops (@on) or not any more.  Returns once every hook
 * call in flight has returned, so every call from then on sees the change.
 * Might sleep; the caller holds no lock a hook takes (cc_mutex,
 * frontswap_mutex).
 */
void pcache_feature_ops(enum pcache_feature_id feat, bool on);

/* repl/repl.c: a collapse reason's name, for the tracepoint. */
const char *pcache_repl_reason_name(int reason);
/* fork/fork.c: a refusal reason's name, for the tracepoint. */
const char *pcache_fork_reason_name(int reason);
/* faultaround/faultaround.c: a window decision's reason, for the tracepoint. */
const char *pcache_fa_reason_name(int reason);

/* debugfs: /sys/kernel/debug/pcache/. */
void pcache_debugfs_init(void);
void pcache_debugfs_exit(void);
struct dentry *pcache_debugfs_dir(void);
void pcache_debugfs_hist(const char *name, struct dentry *dir,
			 struct pcache_hist *h);

#endif /* _PCACHE_H */
