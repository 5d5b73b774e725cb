// SPDX-License-Identifier: GPL-2.0
/*
 * pcache core: registers the hook ops, counts each firing per call site and
 * traces it.
 *
 * The features (NUMA replication, tmem, fork-on-write, adaptive
 * fault-around) plug in behind these ops; until one is enabled every op
 * counts, traces and hands the kernel its default answer, so the kernel
 * behaves as stock.
 *
 * hooks_enabled (sysfs, and the module parameter of the same name for the
 * value at load) switches every hook class on or off through the static
 * keys of the hook patch: with 0, no site calls into the module at all.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/module.h>
#include <linux/percpu.h>
#include <linux/swap.h>
#include <linux/swapops.h>

#include "pcache.h"

#define CREATE_TRACE_POINTS
#include "trace.h"

static bool hooks_enabled_param = true;
module_param_named(hooks_enabled, hooks_enabled_param, bool, 0444);
MODULE_PARM_DESC(hooks_enabled, "Enable the hooks at load (default 1)");

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
	[PCACHE_SITE_WB_START]		= { "wb_start",		PCACHE_HOOK_WRITEBACK },
	[PCACHE_SITE_WB_END]		= { "wb_end",		PCACHE_HOOK_WRITEBACK },
	[PCACHE_SITE_WAIT_STABLE]	= { "wait_stable",	PCACHE_HOOK_WRITEBACK },
	[PCACHE_SITE_FDATAWAIT]		= { "fdatawait",	PCACHE_HOOK_WRITEBACK },
	[PCACHE_SITE_FAULT_AROUND]	= { "fault_around",	PCACHE_HOOK_FAULT_AROUND },
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

struct pcache_counters {
	u64 hits[PCACHE_NR_SITES];
};

static struct pcache_counters __percpu *pcache_counters;

/* Safe in any context: this_cpu_inc() is one interrupt-safe instruction. */
void pcache_count(enum pcache_site site)
{
	this_cpu_inc(pcache_counters->hits[site]);
}

u64 pcache_site_count(enum pcache_site site)
{
	u64 sum = 0;
	int cpu;

	for_each_possible_cpu(cpu)
		sum += per_cpu_ptr(pcache_counters, cpu)->hits[site];
	return sum;
}

const char *pcache_site_name(enum pcache_site site)
{
	return pcache_sites[site].name;
}

enum pcache_hook_class pcache_site_class(enum pcache_site site)
{
	return pcache_sites[site].class;
}

/* The ops.  Each counts, traces and gives the kernel its default. */

static struct folio *pcache_op_read_folio(struct address_space *mapping,
					  struct folio *folio,
					  enum pcache_site site)
{
	pcache_count(site);
	trace_pcache_read(site, mapping, folio);
	return folio;
}

static bool pcache_op_write_folio(struct address_space *mapping,
				  struct folio *folio, enum pcache_site site)
{
	pcache_count(site);
	trace_pcache_write(site, mapping, folio);
	return false;
}

static void pcache_op_remove_folio(struct address_space *mapping,
				   struct folio *folio, bool reclaim)
{
	pcache_count(PCACHE_SITE_REMOVE);
	trace_pcache_remove(reclaim ? PCACHE_SITE_REMOVE : PCACHE_SITE_TRUNCATE,
			    mapping, folio);
}

static void pcache_op_invalidate(struct address_space *mapping,
				 pgoff_t start, pgoff_t end,
				 enum pcache_site site)
{
	pcache_count(site);
	trace_pcache_invalidate(site, mapping, start, end);
}

static void pcache_op_sb_event(struct super_block *sb, enum pcache_site site)
{
	pcache_count(site);
	trace_pcache_sb(site, sb);
}

static bool pcache_op_fill_folio(struct address_space *mapping,
				 struct folio *folio, enum pcache_site site)
{
	pcache_count(site);
	trace_pcache_miss(site, mapping, folio);
	return false;
}

static void pcache_op_writeback(struct folio *folio, enum pcache_site site)
{
	pcache_count(site);
	trace_pcache_writeback(site, folio_mapping(folio), folio);
}

static void pcache_op_fdatawait(struct address_space *mapping, loff_t start,
				loff_t end)
{
	pcache_count(PCACHE_SITE_FDATAWAIT);
	trace_pcache_invalidate(PCACHE_SITE_FDATAWAIT, mapping,
				start >> PAGE_SHIFT, end >> PAGE_SHIFT);
}

static unsigned long pcache_op_fault_around(struct vm_fault *vmf,
					    unsigned long nr_pages)
{
	pcache_count(PCACHE_SITE_FAULT_AROUND);
	trace_pcache_fault_around(vmf, nr_pages);
	return nr_pages;
}

static bool pcache_op_swap_store(struct folio *folio)
{
	pcache_count(PCACHE_SITE_SWAP_STORE);
	trace_pcache_swap(PCACHE_SITE_SWAP_STORE, swp_type(folio->swap),
			  swp_offset(folio->swap), folio_nr_pages(folio));
	return false;
}

static bool pcache_op_swap_load(struct folio *folio)
{
	pcache_count(PCACHE_SITE_SWAP_LOAD);
	trace_pcache_swap(PCACHE_SITE_SWAP_LOAD, swp_type(folio->swap),
			  swp_offset(folio->swap), folio_nr_pages(folio));
	return false;
}

static void pcache_op_swap_invalidate(int type, pgoff_t offset,
				      unsigned int nr)
{
	pcache_count(PCACHE_SITE_SWAP_INVALIDATE);
	trace_pcache_swap(PCACHE_SITE_SWAP_INVALIDATE, type, offset, nr);
}

static void pcache_op_swapon(int type, unsigned long max_pages)
{
	pcache_count(PCACHE_SITE_SWAPON);
	trace_pcache_swap(PCACHE_SITE_SWAPON, type, 0, max_pages);
}

static void pcache_op_swapoff(int type)
{
	pcache_count(PCACHE_SITE_SWAPOFF);
	trace_pcache_swap(PCACHE_SITE_SWAPOFF, type, 0, 0);
}

static const struct pcache_hook_ops pcache_ops = {
	.read_folio		= pcache_op_read_folio,
	.write_folio		= pcache_op_write_folio,
	.remove_folio		= pcache_op_remove_folio,
	.invalidate		= pcache_op_invalidate,
	.sb_event		= pcache_op_sb_event,
	.fill_folio		= pcache_op_fill_folio,
	.writeback		= pcache_op_writeback,
	.fdatawait		= pcache_op_fdatawait,
	.fault_around		= pcache_op_fault_around,
	.swap_store		= pcache_op_swap_store,
	.swap_load		= pcache_op_swap_load,
	.swap_invalidate	= pcache_op_swap_invalidate,
	.swapon			= pcache_op_swapon,
	.swapoff		= pcache_op_swapoff,
};

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
	int ret;

	mutex_lock(&pcache_config_mutex);
	ret = pcache_enable_hooks(&pcache_ops, classes);
	if (!ret)
		WRITE_ONCE(pcache_hooks_on, on);
	mutex_unlock(&pcache_config_mutex);
	return ret;
}

static int __init pcache_init(void)
{
	int ret;

	pcache_counters = alloc_percpu(struct pcache_counters);
	if (!pcache_counters)
		return -ENOMEM;

	ret = pcache_register_hooks(&pcache_ops);
	if (ret) {
		pr_err("cannot register the page cache hooks (%d): another user holds them\n",
		       ret);
		goto free_counters;
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
	pr_info("version %s loaded, hooks %s\n", PCACHE_VERSION,
		pcache_hooks_on ? "enabled" : "disabled");
	return 0;

unregister:
	pcache_unregister_hooks(&pcache_ops);
	pcache_debugfs_exit();
free_counters:
	free_percpu(pcache_counters);
	return ret;
}

static void __exit pcache_exit(void)
{
	pcache_sysfs_exit();
	pcache_unregister_hooks(&pcache_ops);
	pcache_debugfs_exit();
	free_percpu(pcache_counters);
	pr_info("unloaded\n");
}

module_init(pcache_init);
module_exit(pcache_exit);

MODULE_LICENSE("GPL");
MODULE_AUTHOR("pcache developers");
MODULE_DESCRIPTION("Page cache replication, transcendent memory, fork-on-write and adaptive fault-around");
MODULE_VERSION(PCACHE_VERSION);
