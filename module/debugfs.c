// SPDX-License-Identifier: GPL-2.0
/*
 * pcache debugfs: /sys/kernel/debug/pcache/
 *
 *   hooks		one line per call site: "site class count"
 *   sites/<site>	the count of one call site, as a number
 *   <feature>/		a feature's diagnostics, histograms among them
 *
 * Counts run from module load and are never reset; tests compare deltas.
 * debugfs has no ABI promise: stable counters go to sysfs.
 */
#include <linux/debugfs.h>
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
