// SPDX-License-Identifier: GPL-2.0
/*
 * pcache debugfs: /sys/kernel/debug/pcache/
 *
 *   hooks		one line per call site: "site class count"
 *   sites/<site>	the count of one call site, as a number
 *   text		the module's core text, "0x<start> 0x<end>" (end
 *			exclusive), for the fault-injection stack filter
 *   <feature>/		a feature's diagnostics, histograms among them
 *
 * Counts run from module load and are never reset; tests compare deltas.
 * debugfs has no ABI promise: stable counters go to sysfs.
 */
#include <linux/debugfs.h>
#include <linux/module.h>
#include <linux/seq_file.h>

#include "pcache.h"

static struct dentry *pcache_debugfs_root;

static int hooks_show(struct seq_file *m, void *v)
{
	int site;

	for (site = 0; site < PCACHE_NR_SITES; site++)
		seq_printf(m, "%-16s %-12s %llu\n", pcache_site_name(site),
			   pcache_class_names[pcache_site_class(site)],
			   pcache_site_hits(site));
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(hooks);

static int site_count_get(void *data, u64 *val)
{
	*val = pcache_site_hits((enum pcache_site)(uintptr_t)data);
	return 0;
}
DEFINE_DEBUGFS_ATTRIBUTE(site_count_fops, site_count_get, NULL, "%llu\n");

/*
 * text: where the module's code is, for failslab and fail_page_alloc.
 * Written to their require-start and require-end (with
 * CONFIG_FAULT_INJECTION_STACKTRACE_FILTER), the two numbers make them
 * fail only allocations with pcache's code on the stack: its own, and
 * the kernel's on its behalf.  /sys/module/pcache/sections/ cannot give
 * the range: since 6.4 the core text (.text and the other executable
 * sections) is an allocation of its own, mem[MOD_TEXT], and .data is in
 * another one, not necessarily after it.  Root only, as sections/ is.
 */
static int text_show(struct seq_file *m, void *v)
{
	const struct module_memory *mem = &THIS_MODULE->mem[MOD_TEXT];

	seq_printf(m, "0x%lx 0x%lx\n", (unsigned long)mem->base,
		   (unsigned long)mem->base + mem->size);
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(text);

void pcache_debugfs_init(void)
{
	struct dentry *sites;
	int site;

	pcache_debugfs_root = debugfs_create_dir("pcache", NULL);
	debugfs_create_file("hooks", 0444, pcache_debugfs_root, NULL,
			    &hooks_fops);
	sites = debugfs_create_dir("sites", pcache_debugfs_root);
	for (site = 0; site < PCACHE_NR_SITES; site++)
		debugfs_create_file_unsafe(pcache_site_name(site), 0444, sites,
					   (void *)(uintptr_t)site,
					   &site_count_fops);
	debugfs_create_file("text", 0400, pcache_debugfs_root, NULL,
			    &text_fops);
}

static int hist_show(struct seq_file *m, void *v)
{
	struct pcache_hist *h = m->private;
	int b;

	seq_printf(m, "# %s\n", h->header);
	for (b = 0; b < PCACHE_HIST_BUCKETS; b++)
		seq_printf(m, "%10lu %ld\n", b ? 1UL << (b - 1) : 1UL,
			   atomic_long_read(&h->bucket[b]));
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(hist);

/*
 * A histogram's file @dir/@name: a "# header" line, then one "bound count"
 * line a bucket (struct pcache_hist, stats.h).  Removed with @dir.
 */
void pcache_debugfs_hist(const char *name, struct dentry *dir,
			 struct pcache_hist *h)
{
	debugfs_create_file(name, 0444, dir, h, &hist_fops);
}

/* The root, for the features' own files. */
struct dentry *pcache_debugfs_dir(void)
{
	return pcache_debugfs_root;
}

void pcache_debugfs_exit(void)
{
	debugfs_remove_recursive(pcache_debugfs_root);
	pcache_debugfs_root = NULL;
}
