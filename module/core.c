// SPDX-License-Identifier: GPL-2.0
/*
 * pcache core: registers the hook ops, shows how often each call site fired
 * and traces the hooks.
 *
 * The features (NUMA replication, tmem, fork-on-write, adaptive
 * fault-around) plug in behind these ops.  Until one is enabled an op is
 * installed only while its tracepoint is enabled, and then it traces and
 * hands the kernel its default answer, so the kernel behaves as stock.
 * The hook series counts every firing itself, so a site whose op is not
 * installed costs a counter increment and no call into the module.
 *
 * hooks_enabled (sysfs, and the module parameter of the same name for the
 * value at load) switches every hook class on or off through the static
 * keys of the hook patch: with 0, no site calls into the module at all.
 *
 * A module parameter per feature (cleancache, frontswap, replication,
 * fork, faultaround) is what its switch file is written at the end of the
 * load, through that file's store: the same values, checks and errors as
 * a write to sysfs.  A value refused fails the load, with everything
 * undone, and dmesg names the parameter.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/module.h>
#include <linux/pagevec.h>
#include <linux/string.h>
#include <linux/swap.h>
#include <linux/swapops.h>

#include "pcache.h"
#include "faultaround/faultaround.h"
#include "fork/fork.h"
#include "repl/repl.h"
#include "tmem/front.h"

#define CREATE_TRACE_POINTS
#include "trace.h"

static bool hooks_enabled_param = true;
module_param_named(hooks_enabled, hooks_enabled_param, bool, 0444);
MODULE_PARM_DESC(hooks_enabled, "Enable the hooks at load (default 1)");

/*
 * The feature parameters, by feature; each is named as its feature and
 * empty unless given.  Given, it is written to the feature's switch
 * file, under /sys/kernel/mm/pcache/, as the load ends.
 */
static char *pcache_feat_param[PCACHE_NR_FEATURES] = {
	[0 ... PCACHE_NR_FEATURES - 1] = "",
};

static const struct {
	const char *file;
	const char *takes;
} pcache_feat_param_file[PCACHE_NR_FEATURES] = {
	[PCACHE_FEAT_CLEANCACHE]	= { "tmem/ephemeral/enabled", "0 or 1" },
	[PCACHE_FEAT_FRONTSWAP]		= { "tmem/persistent/enabled", "0 or 1" },
	[PCACHE_FEAT_REPLICATION]	= { "replication/enabled", "0 or 1" },
	[PCACHE_FEAT_FORK]		= { "fork/enabled", "0 or 1" },
	[PCACHE_FEAT_FAULTAROUND]	= { "faultaround/mode",
					    "off, fixed or adaptive" },
};

module_param_named(cleancache, pcache_feat_param[PCACHE_FEAT_CLEANCACHE],
		   charp, 0444);
MODULE_PARM_DESC(cleancache, "tmem/ephemeral/enabled at load: 0 or 1 (default 0)");
module_param_named(frontswap, pcache_feat_param[PCACHE_FEAT_FRONTSWAP],
		   charp, 0444);
MODULE_PARM_DESC(frontswap, "tmem/persistent/enabled at load: 0 or 1 (default 0)");
module_param_named(replication, pcache_feat_param[PCACHE_FEAT_REPLICATION],
		   charp, 0444);
MODULE_PARM_DESC(replication, "replication/enabled at load: 0 or 1 (default 0)");
module_param_named(fork, pcache_feat_param[PCACHE_FEAT_FORK], charp, 0444);
MODULE_PARM_DESC(fork, "fork/enabled at load: 0 or 1 (default 0)");
module_param_named(faultaround, pcache_feat_param[PCACHE_FEAT_FAULTAROUND],
		   charp, 0444);
MODULE_PARM_DESC(faultaround, "faultaround/mode at load: off, fixed or adaptive (default off)");

/* Serializes knob writes and hook class switching; see pcache.h. */
DEFINE_MUTEX(pcache_config_mutex);
static bool pcache_hooks_on;

struct pcache_site_info {
	const char *name;
	enum pcache_hook_class class;
};

static const struct pcache_site_info pcache_sites[PCACHE_NR_SITES] = {
	[PCACHE_SITE_READ_BATCH]	= { "read_batch",	PCACHE_HOOK_READ },
	[PCACHE_SITE_READ_FAULT]	= { "read_fault",	PCACHE_HOOK_READ },
	[PCACHE_SITE_MAP_PAGES]		= { "map_pages",	PCACHE_HOOK_READ },
	[PCACHE_SITE_WRITE_BEGIN]	= { "write_begin",	PCACHE_HOOK_WRITE },
	[PCACHE_SITE_MKWRITE]		= { "mkwrite",		PCACHE_HOOK_WRITE },
	[PCACHE_SITE_REMOVE]		= { "remove",		PCACHE_HOOK_REMOVE },
	[PCACHE_SITE_TRUNCATE]		= { "truncate",		PCACHE_HOOK_INVALIDATE },
	[PCACHE_SITE_INVALIDATE]	= { "invalidate",	PCACHE_HOOK_INVALIDATE },
	[PCACHE_SITE_INVALIDATE2]	= { "invalidate2",	PCACHE_HOOK_INVALIDATE },
	[PCACHE_SITE_EVICT]		= { "evict",		PCACHE_HOOK_INVALIDATE },
	[PCACHE_SITE_MOUNT]		= { "mount",		PCACHE_HOOK_INVALIDATE },
	[PCACHE_SITE_UNMOUNT]		= { "unmount",		PCACHE_HOOK_INVALIDATE },
	[PCACHE_SITE_READ_FOLIO]	= { "read_folio",	PCACHE_HOOK_MISS },
	[PCACHE_SITE_READAHEAD]		= { "readahead",	PCACHE_HOOK_MISS },
	[PCACHE_SITE_WB_BUSY]		= { "wb_busy",		PCACHE_HOOK_WRITEBACK },
	[PCACHE_SITE_WB_PREPARE]	= { "wb_prepare",	PCACHE_HOOK_WRITEBACK },
	[PCACHE_SITE_WB_START]		= { "wb_start",		PCACHE_HOOK_WRITEBACK },
	[PCACHE_SITE_WB_END]		= { "wb_end",		PCACHE_HOOK_WRITEBACK },
	[PCACHE_SITE_WAIT_STABLE]	= { "wait_stable",	PCACHE_HOOK_WRITEBACK },
	[PCACHE_SITE_FDATAWAIT]		= { "fdatawait",	PCACHE_HOOK_WRITEBACK },
	[PCACHE_SITE_FAULT_AROUND]	= { "fault_around",	PCACHE_HOOK_FAULT_AROUND },
	[PCACHE_SITE_MAP_AROUND]	= { "map_around",	PCACHE_HOOK_FAULT_AROUND },
	[PCACHE_SITE_SWAP_STORE]	= { "swap_store",	PCACHE_HOOK_SWAP },
	[PCACHE_SITE_SWAP_LOAD]		= { "swap_load",	PCACHE_HOOK_SWAP },
	[PCACHE_SITE_SWAP_INVALIDATE]	= { "swap_invalidate",	PCACHE_HOOK_SWAP },
	[PCACHE_SITE_SWAPON]		= { "swapon",		PCACHE_HOOK_SWAP },
	[PCACHE_SITE_SWAPOFF]		= { "swapoff",		PCACHE_HOOK_SWAP },
};

const char * const pcache_class_names[PCACHE_NR_HOOK_CLASSES] = {
	[PCACHE_HOOK_READ]		= "read",
	[PCACHE_HOOK_WRITE]		= "write",
	[PCACHE_HOOK_REMOVE]		= "remove",
	[PCACHE_HOOK_INVALIDATE]	= "invalidate",
	[PCACHE_HOOK_MISS]		= "miss",
	[PCACHE_HOOK_WRITEBACK]		= "writeback",
	[PCACHE_HOOK_FAULT_AROUND]	= "fault_around",
	[PCACHE_HOOK_SWAP]		= "swap",
};

/* Counts at load: the hook series counts from boot. */
static u64 pcache_site_base[PCACHE_NR_SITES];

u64 pcache_site_hits(enum pcache_site site)
{
	return pcache_site_count(site) - pcache_site_base[site];
}

const char *pcache_site_name(enum pcache_site site)
{
	return (unsigned int)site < PCACHE_NR_SITES ? pcache_sites[site].name : "?";
}

enum pcache_hook_class pcache_site_class(enum pcache_site site)
{
	return pcache_sites[site].class;
}

/*
 * Which features may be called: a feature's bit is set once its init has
 * returned 0 and cleared by pcache_feature_retire() at unload, after its
 * ->drain() has drained what it holds (forked I/O, replicas, stored swap pages) and
 * before it frees what its hooks use.  The ops below call a feature only
 * while its bit is set, so no feature is ever called outside its own
 * init..exit, whichever other feature keeps the op installed.
 */
static unsigned long pcache_feat_live;	/* bit per enum pcache_feature_id */

static inline bool pcache_live(enum pcache_feature_id feat)
{
	return READ_ONCE(pcache_feat_live) & BIT(feat);
}

static void pcache_feature_live(enum pcache_feature_id feat)
{
	set_bit(feat, &pcache_feat_live);
}

/*
 * The end of a feature's life for the hooks: from the return on, no hook
 * calls into @feat, which may then free what its hooks use.
 */
static void pcache_feature_retire(enum pcache_feature_id feat)
{
	if (pcache_mutant(10))
		return;
	clear_bit(feat, &pcache_feat_live);
	pcache_sync_hooks();	/* no call into @feat is in flight */
}

/*
 * The ops.  Each traces and gives the kernel its default; the hook series
 * has already counted the firing.  Each calls the features that want its
 * event, explicitly and in a fixed order, because the order is part of
 * correctness:
 *
 * - write_folio: replication collapses the replicas of the folio first
 *   (a write must never leave a stale node-local copy), then cleancache
 *   drops a shared pool's copy, and fork-on-write comes last: its answer
 *   (true: the kernel must look the folio up again, it was replaced by a
 *   copy) is the op's return value, and the copy it makes is of the one
 *   folio left once the replicas are gone.
 * - read_folio: only replication may hand back another folio (a
 *   node-local replica, or the master again) in place of @folio.
 * - invalidate: replication, cleancache, then fork: replicas collapse
 *   before the range leaves the page cache, pool copies go next, and
 *   fork forgets its forked-off folios of the range last.
 * - writeback_end: fork names the mapping a forked-off folio's end of
 *   writeback accounts to; the tracepoint shows that mapping.
 *
 * A notifier chain would hide this order, so there is none: a new feature
 * adds its call here, where the order is written down.
 */

static void pcache_op_read_batch(struct address_space *mapping,
				 struct folio_batch *fbatch)
{
	unsigned int i;

	for (i = 0; i < folio_batch_count(fbatch); i++)
		trace_pcache_read(PCACHE_SITE_READ_BATCH, mapping,
				  fbatch->folios[i]);
	if (pcache_live(PCACHE_FEAT_REPLICATION))
		pcache_repl_read_batch(mapping, fbatch);
}

static struct folio *pcache_op_read_folio(struct address_space *mapping,
					  struct folio *folio,
					  enum pcache_site site)
{
	trace_pcache_read(site, mapping, folio);
	if (!pcache_live(PCACHE_FEAT_REPLICATION))
		return folio;
	return pcache_repl_read_folio(mapping, folio);
}

static bool pcache_op_write_folio(struct address_space *mapping,
				  struct folio *folio, enum pcache_site site)
{
	trace_pcache_write(site, mapping, folio);
	if (site != PCACHE_SITE_WRITE_BEGIN && site != PCACHE_SITE_MKWRITE)
		return false;
	if (pcache_live(PCACHE_FEAT_REPLICATION))
		pcache_repl_write_folio(mapping, folio);
	if (pcache_live(PCACHE_FEAT_CLEANCACHE))
		pcache_cc_write_folio(mapping, folio);
	if (!pcache_live(PCACHE_FEAT_FORK))
		return false;
	return pcache_fork_write_folio(mapping, folio, site);
}

static void pcache_op_remove_folio(struct address_space *mapping,
				   struct folio *folio, bool reclaim)
{
	trace_pcache_remove(reclaim ? PCACHE_SITE_REMOVE : PCACHE_SITE_TRUNCATE,
			    mapping, folio);
	if (pcache_live(PCACHE_FEAT_CLEANCACHE))
		pcache_cc_remove_folio(mapping, folio, reclaim);
}

static void pcache_op_invalidate(struct address_space *mapping,
				 pgoff_t start, pgoff_t end,
				 enum pcache_site site)
{
	trace_pcache_invalidate(site, mapping, start, end);
	if (pcache_live(PCACHE_FEAT_REPLICATION))
		pcache_repl_invalidate(mapping, start, end, site);
	if (pcache_live(PCACHE_FEAT_CLEANCACHE))
		pcache_cc_invalidate(mapping, start, end, site);
	if (pcache_live(PCACHE_FEAT_FORK))
		pcache_fork_invalidate(mapping, start, end, site);
}

static void pcache_op_sb_event(struct super_block *sb, enum pcache_site site)
{
	trace_pcache_sb(site, sb);
	if (pcache_live(PCACHE_FEAT_CLEANCACHE))
		pcache_cc_sb_event(sb, site);
}

static bool pcache_op_fill_folio(struct address_space *mapping,
				 struct folio *folio, enum pcache_site site)
{
	trace_pcache_miss(site, mapping, folio);
	if (!pcache_live(PCACHE_FEAT_CLEANCACHE))
		return false;
	return pcache_cc_fill_folio(mapping, folio);
}

static void pcache_op_writeback(struct folio *folio, enum pcache_site site)
{
	trace_pcache_writeback(site, folio_mapping(folio), folio);
	if (pcache_live(PCACHE_FEAT_FORK))
		pcache_fork_writeback(folio, site);
}

static bool pcache_op_writeback_busy(struct folio *folio)
{
	trace_pcache_writeback(PCACHE_SITE_WB_BUSY, folio->mapping, folio);
	if (!pcache_live(PCACHE_FEAT_FORK))
		return false;
	return pcache_fork_writeback_busy(folio);
}

static struct address_space *
pcache_op_writeback_end(struct folio *folio, struct address_space *mapping)
{
	if (pcache_live(PCACHE_FEAT_FORK))
		mapping = pcache_fork_writeback_end(folio, mapping);
	trace_pcache_writeback(PCACHE_SITE_WB_END, mapping, folio);
	return mapping;
}

static void pcache_op_fdatawait(struct address_space *mapping, loff_t start,
				loff_t end)
{
	trace_pcache_invalidate(PCACHE_SITE_FDATAWAIT, mapping,
				start >> PAGE_SHIFT, end >> PAGE_SHIFT);
	if (pcache_live(PCACHE_FEAT_FORK))
		pcache_fork_fdatawait(mapping, start, end);
}

static unsigned long pcache_op_fault_around(struct vm_fault *vmf,
					    unsigned long nr_pages)
{
	trace_pcache_fault_around(vmf, nr_pages);
	if (!pcache_live(PCACHE_FEAT_FAULTAROUND))
		return nr_pages;
	return pcache_fa_fault_around(vmf, nr_pages);
}

/* Not traced: it runs for every page mapped around. */
static bool pcache_op_map_around(struct vm_fault *vmf, unsigned int nr)
{
	if (!pcache_live(PCACHE_FEAT_FAULTAROUND))
		return false;
	return pcache_fa_map_around(vmf, nr);
}

static bool pcache_op_swap_store(struct folio *folio)
{
	trace_pcache_swap(PCACHE_SITE_SWAP_STORE, swp_type(folio->swap),
			  swp_offset(folio->swap), folio_nr_pages(folio));
	if (!pcache_live(PCACHE_FEAT_FRONTSWAP))
		return false;
	return pcache_frontswap_store(folio);
}

static bool pcache_op_swap_load(struct folio *folio)
{
	trace_pcache_swap(PCACHE_SITE_SWAP_LOAD, swp_type(folio->swap),
			  swp_offset(folio->swap), folio_nr_pages(folio));
	if (!pcache_live(PCACHE_FEAT_FRONTSWAP))
		return false;
	return pcache_frontswap_load(folio);
}

static void pcache_op_swap_invalidate(int type, pgoff_t offset,
				      unsigned int nr)
{
	trace_pcache_swap(PCACHE_SITE_SWAP_INVALIDATE, type, offset, nr);
	if (pcache_live(PCACHE_FEAT_FRONTSWAP))
		pcache_frontswap_invalidate(type, offset, nr);
}

static void pcache_op_swapon(int type, unsigned long max_pages)
{
	trace_pcache_swap(PCACHE_SITE_SWAPON, type, 0, max_pages);
}

static void pcache_op_swapoff(int type)
{
	trace_pcache_swap(PCACHE_SITE_SWAPOFF, type, 0, 0);
	if (pcache_live(PCACHE_FEAT_FRONTSWAP))
		pcache_frontswap_swapoff(type);
}

/* Registered with every op NULL; each is installed while it is needed. */
static struct pcache_hook_ops pcache_core_ops;

#define PCACHE_OPS_SWAP	(BIT(PCACHE_OP_SWAP_STORE) | BIT(PCACHE_OP_SWAP_LOAD) | \
			 BIT(PCACHE_OP_SWAP_INVALIDATE) |			\
			 BIT(PCACHE_OP_SWAPON) | BIT(PCACHE_OP_SWAPOFF))
#define PCACHE_OPS_WRITEBACK (BIT(PCACHE_OP_WRITEBACK) |			\
			      BIT(PCACHE_OP_WRITEBACK_BUSY) |		\
			      BIT(PCACHE_OP_WRITEBACK_END))

/*
 * The features, in init order.  Adding one: its file or folder, its calls
 * in the ops above, and an entry here.
 */
const struct pcache_feature pcache_features[PCACHE_NR_FEATURES] = {
	[PCACHE_FEAT_CLEANCACHE] = {
		.name		= "cleancache",
		.sysfs_dir	= "tmem",
		.files		= &pcache_cc_files,
		.ops		= BIT(PCACHE_OP_WRITE_FOLIO) |
				  BIT(PCACHE_OP_REMOVE_FOLIO) |
				  BIT(PCACHE_OP_FILL_FOLIO) |
				  BIT(PCACHE_OP_INVALIDATE) |
				  BIT(PCACHE_OP_SB_EVENT),
		.enabled	= pcache_cc_enabled,
		.init		= pcache_cc_init,
		.drain		= pcache_cc_drain,
		.free		= pcache_cc_free,
	},
	[PCACHE_FEAT_FRONTSWAP] = {
		.name		= "frontswap",
		.sysfs_dir	= "tmem",
		.files		= &pcache_frontswap_files,
		.ops		= PCACHE_OPS_SWAP,
		.enabled	= pcache_frontswap_enabled,
		.init		= pcache_frontswap_init,
		.drain		= pcache_frontswap_drain,
		.free		= pcache_frontswap_free,
	},
	[PCACHE_FEAT_REPLICATION] = {
		.name		= "replication",
		.sysfs_dir	= "replication",
		.files		= &pcache_repl_files,
		.ops		= BIT(PCACHE_OP_READ_BATCH) |
				  BIT(PCACHE_OP_READ_FOLIO) |
				  BIT(PCACHE_OP_WRITE_FOLIO) |
				  BIT(PCACHE_OP_INVALIDATE),
		.enabled	= pcache_repl_enabled,
		.init		= pcache_repl_init,
		.drain		= pcache_repl_drain,
		.free		= pcache_repl_free,
	},
	[PCACHE_FEAT_FORK] = {
		.name		= "fork",
		.sysfs_dir	= "fork",
		.files		= &pcache_fork_files,
		.ops		= BIT(PCACHE_OP_WRITE_FOLIO) |
				  PCACHE_OPS_WRITEBACK |
				  BIT(PCACHE_OP_INVALIDATE) |
				  BIT(PCACHE_OP_FDATAWAIT),
		.enabled	= pcache_fork_enabled,
		.init		= pcache_fork_init,
		.drain		= pcache_fork_drain,
		.free		= pcache_fork_free,
	},
	[PCACHE_FEAT_FAULTAROUND] = {
		.name		= "faultaround",
		.sysfs_dir	= "faultaround",
		.files		= &pcache_fa_files,
		.ops		= BIT(PCACHE_OP_FAULT_AROUND) |
				  BIT(PCACHE_OP_MAP_AROUND),
		.enabled	= pcache_fa_enabled,
		.init		= pcache_fa_init,
		.drain		= pcache_fa_drain,
		.free		= pcache_fa_free,
	},
};

/*
 * The ops each tracepoint needs installed to fire (enum pcache_trace_group
 * is the tracepoint's bit in pcache_trace_on).
 */
enum pcache_trace_group {
	PCACHE_TRACE_READ,
	PCACHE_TRACE_WRITE,
	PCACHE_TRACE_REMOVE,
	PCACHE_TRACE_MISS,
	PCACHE_TRACE_WRITEBACK,
	PCACHE_TRACE_INVALIDATE,
	PCACHE_TRACE_SB,
	PCACHE_TRACE_FAULT_AROUND,
	PCACHE_TRACE_SWAP,
	PCACHE_NR_TRACE_GROUPS
};

static const unsigned long pcache_trace_ops[PCACHE_NR_TRACE_GROUPS] = {
	[PCACHE_TRACE_READ]	= BIT(PCACHE_OP_READ_BATCH) |
				  BIT(PCACHE_OP_READ_FOLIO),
	[PCACHE_TRACE_WRITE]	= BIT(PCACHE_OP_WRITE_FOLIO),
	[PCACHE_TRACE_REMOVE]	= BIT(PCACHE_OP_REMOVE_FOLIO),
	[PCACHE_TRACE_MISS]	= BIT(PCACHE_OP_FILL_FOLIO),
	[PCACHE_TRACE_WRITEBACK] = PCACHE_OPS_WRITEBACK,
	[PCACHE_TRACE_INVALIDATE] = BIT(PCACHE_OP_INVALIDATE) |
				    BIT(PCACHE_OP_FDATAWAIT),
	[PCACHE_TRACE_SB]	= BIT(PCACHE_OP_SB_EVENT),
	[PCACHE_TRACE_FAULT_AROUND] = BIT(PCACHE_OP_FAULT_AROUND),
	[PCACHE_TRACE_SWAP]	= PCACHE_OPS_SWAP,
};

/*
 * Which ops are installed: an op is set while a tracepoint or an enabled
 * feature needs it (the two tables above), and NULL otherwise.
 * Tracepoint pcache_<event>'s reg/unreg callbacks (made by
 * PCACHE_TRACE_OPS()) and the features switch their bits and recompute the
 * ops under pcache_ops_lock.  Why the ops may change under running hooks:
 * see pcache.h.  The module is not unloaded before
 * pcache_unregister_hooks() has waited for every call in flight.
 */
static DEFINE_SPINLOCK(pcache_ops_lock);
static unsigned long pcache_trace_on;	/* bit per enum pcache_trace_group */
static unsigned long pcache_feat_on;	/* bit per enum pcache_feature_id */

#define PCACHE_SET_OP(op, OP)						\
	WRITE_ONCE(pcache_core_ops.op,					\
		   want & BIT(PCACHE_OP_##OP) ? pcache_op_##op : NULL)

static void pcache_ops_update(void)
{
	unsigned long want = 0;
	int i;

	lockdep_assert_held(&pcache_ops_lock);
	for_each_set_bit(i, &pcache_trace_on, PCACHE_NR_TRACE_GROUPS)
		want |= pcache_trace_ops[i];
	for_each_set_bit(i, &pcache_feat_on, PCACHE_NR_FEATURES)
		want |= pcache_features[i].ops;
	PCACHE_SET_OP(read_batch, READ_BATCH);
	PCACHE_SET_OP(read_folio, READ_FOLIO);
	PCACHE_SET_OP(write_folio, WRITE_FOLIO);
	PCACHE_SET_OP(remove_folio, REMOVE_FOLIO);
	PCACHE_SET_OP(fill_folio, FILL_FOLIO);
	PCACHE_SET_OP(writeback, WRITEBACK);
	PCACHE_SET_OP(writeback_busy, WRITEBACK_BUSY);
	PCACHE_SET_OP(writeback_end, WRITEBACK_END);
	PCACHE_SET_OP(invalidate, INVALIDATE);
	PCACHE_SET_OP(fdatawait, FDATAWAIT);
	PCACHE_SET_OP(sb_event, SB_EVENT);
	PCACHE_SET_OP(fault_around, FAULT_AROUND);
	PCACHE_SET_OP(map_around, MAP_AROUND);
	PCACHE_SET_OP(swap_store, SWAP_STORE);
	PCACHE_SET_OP(swap_load, SWAP_LOAD);
	PCACHE_SET_OP(swap_invalidate, SWAP_INVALIDATE);
	PCACHE_SET_OP(swapon, SWAPON);
	PCACHE_SET_OP(swapoff, SWAPOFF);
}

static void pcache_ops_set(unsigned long *mask, int bit, bool on)
{
	spin_lock(&pcache_ops_lock);
	if (on)
		__set_bit(bit, mask);
	else
		__clear_bit(bit, mask);
	pcache_ops_update();
	spin_unlock(&pcache_ops_lock);
}

void pcache_feature_ops(enum pcache_feature_id feat, bool on)
{
	pcache_ops_set(&pcache_feat_on, feat, on);
	pcache_sync_hooks();
}

#define PCACHE_TRACE_OPS(event, group)					\
int pcache_trace_##event##_reg(void)					\
{									\
	pcache_ops_set(&pcache_trace_on, group, true);			\
	return 0;							\
}									\
void pcache_trace_##event##_unreg(void)					\
{									\
	pcache_ops_set(&pcache_trace_on, group, false);			\
}

PCACHE_TRACE_OPS(read, PCACHE_TRACE_READ)
PCACHE_TRACE_OPS(write, PCACHE_TRACE_WRITE)
PCACHE_TRACE_OPS(remove, PCACHE_TRACE_REMOVE)
PCACHE_TRACE_OPS(miss, PCACHE_TRACE_MISS)
PCACHE_TRACE_OPS(writeback, PCACHE_TRACE_WRITEBACK)
PCACHE_TRACE_OPS(invalidate, PCACHE_TRACE_INVALIDATE)
PCACHE_TRACE_OPS(sb, PCACHE_TRACE_SB)
PCACHE_TRACE_OPS(fault_around, PCACHE_TRACE_FAULT_AROUND)
PCACHE_TRACE_OPS(swap, PCACHE_TRACE_SWAP)

bool pcache_hooks_enabled(void)
{
	return READ_ONCE(pcache_hooks_on);
}

/*
 * Switch every hook class on or off.  Switching off returns only once no
 * caller is inside a hook any more.
 */
int pcache_set_hooks_enabled(bool on)
{
	unsigned long classes = on ? BIT(PCACHE_NR_HOOK_CLASSES) - 1 : 0;
	int i, ret;

	mutex_lock(&pcache_config_mutex);
	for (i = 0; !on && i < PCACHE_NR_FEATURES; i++) {
		if (!pcache_features[i].enabled())
			continue;
		mutex_unlock(&pcache_config_mutex);
		pr_info("hooks_enabled: %s is enabled: disable it first\n",
			pcache_features[i].name);
		return -EBUSY;
	}
	ret = pcache_enable_hooks(&pcache_core_ops, classes);
	if (!ret)
		WRITE_ONCE(pcache_hooks_on, on);
	mutex_unlock(&pcache_config_mutex);
	return ret;
}

/* Unload the features @last, @last - 1, ... down to the first one. */
static void pcache_features_exit(int last)
{
	int i;

	for (i = last; i >= 0; i--) {
		pcache_sysfs_feature_remove(i);
		pcache_features[i].drain();
		pcache_feature_retire(i);
		pcache_features[i].free();
	}
}

static int pcache_features_init(void)
{
	const struct pcache_feature *f;
	int i, ret;

	for (i = 0; i < PCACHE_NR_FEATURES; i++) {
		f = &pcache_features[i];
		ret = f->init();
		if (ret) {
			pr_err("%s: cannot start (%d)\n", f->name, ret);
			/* Mutant 16: the features already started stay. */
			if (!pcache_mutant(16))
				pcache_features_exit(i - 1);
			return ret;
		}
		pcache_feature_live(i);
		ret = pcache_sysfs_feature_add(i);
		if (ret) {
			pr_err("%s: cannot create its sysfs files (%d)\n",
			       f->name, ret);
			pcache_features_exit(i);
			return ret;
		}
	}
	return 0;
}

/* The feature parameters given, in the features' init order. */
static int __init pcache_feat_params_apply(void)
{
	const char *val, *file;
	int i, ret;

	for (i = 0; i < PCACHE_NR_FEATURES; i++) {
		val = pcache_feat_param[i];
		file = pcache_feat_param_file[i].file;
		if (!*val)
			continue;
		ret = pcache_sysfs_feature_write(i, kbasename(file), val);
		if (ret == -EINVAL)
			pr_err("parameter %s=%s: invalid, %s takes %s\n",
			       pcache_features[i].name, val, file,
			       pcache_feat_param_file[i].takes);
		else if (ret)
			pr_err("parameter %s=%s: %s refused it (%d)\n",
			       pcache_features[i].name, val, file, ret);
		if (ret)
			return ret;
	}
	return 0;
}

static int __init pcache_init(void)
{
	int site, ret;

	for (site = 0; site < PCACHE_NR_SITES; site++)
		pcache_site_base[site] = pcache_site_count(site);
	ret = pcache_register_hooks(&pcache_core_ops);
	if (ret) {
		pr_err("cannot register the page cache hooks (%d): another user holds them\n",
		       ret);
		return ret;
	}
	pcache_debugfs_init();
	ret = pcache_set_hooks_enabled(hooks_enabled_param);
	if (ret)
		goto unregister;
	ret = pcache_sysfs_init();
	if (ret) {
		pr_err("cannot create /sys/kernel/mm/pcache (%d)\n", ret);
		goto unregister;
	}
	ret = pcache_features_init();
	if (ret)
		goto sysfs;
	ret = pcache_feat_params_apply();
	if (ret)
		goto features;
	pr_info("version %s loaded, hooks %s\n", PCACHE_VERSION,
		pcache_hooks_on ? "enabled" : "disabled");
	return 0;

features:
	pcache_features_exit(PCACHE_NR_FEATURES - 1);
sysfs:
	pcache_sysfs_exit();
unregister:
	pcache_unregister_hooks(&pcache_core_ops);
	pcache_debugfs_exit();
	return ret;
}

static void __exit pcache_exit(void)
{
	/* The features first, last one first: see "Unload order", pcache.h. */
	pcache_features_exit(PCACHE_NR_FEATURES - 1);
	pcache_sysfs_exit();
	pcache_unregister_hooks(&pcache_core_ops);
	pcache_debugfs_exit();
	pr_info("unloaded\n");
}

module_init(pcache_init);
module_exit(pcache_exit);

MODULE_LICENSE("GPL");
MODULE_AUTHOR("pcache developers");
MODULE_DESCRIPTION("Page cache replication, transcendent memory, fork-on-write and adaptive fault-around");
MODULE_VERSION(PCACHE_VERSION);
