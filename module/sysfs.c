// SPDX-License-Identifier: GPL-2.0
/*
 * pcache sysfs: /sys/kernel/mm/pcache/
 *
 *   hooks_enabled	rw  0 or 1: every hook class on or off
 *   version		ro  the module's version
 *   replication/ tmem/ fork/
 *			the features' directories (struct pcache_feature's
 *			sysfs_dir, two fronts share tmem/), each filled by
 *			its features
 *
 * One value per file.  A write that is not exactly one accepted value
 * (optionally followed by a newline) fails with -EINVAL and changes
 * nothing.  Documented in Documentation/ABI/testing/sysfs-kernel-mm-pcache.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/kernel.h>
#include <linux/kobject.h>
#include <linux/seq_file.h>
#include <linux/string.h>
#include <linux/sysfs.h>

#include "pcache.h"

static struct kobject *pcache_kobj;

/* A feature's directory, or NULL for one that shares an earlier one's. */
static struct kobject *pcache_feature_kobjs[PCACHE_NR_FEATURES];

/*
 * Parse a 0/1 knob value.  Only "0" and "1", with an optional trailing
 * newline, are accepted; kstrtobool()'s "y", "on" and friends are not, so
 * that the file reads back what was written.
 */
int pcache_sysfs_parse_bool(const char *buf, bool *val)
{
	unsigned int v;

	if (kstrtouint(buf, 10, &v) || v > 1)
		return -EINVAL;
	*val = v;
	return 0;
}

/*
 * A feature's enabled knob: 0 or 1, switched by @set under
 * pcache_config_mutex; turning a feature on while hooks_enabled is 0 fails
 * with -EBUSY and says why in dmesg.
 */
ssize_t pcache_sysfs_store_enabled(const char *feature, const char *buf,
				   size_t len, int (*set)(bool on))
{
	bool on;
	int ret;

	if (pcache_sysfs_parse_bool(buf, &on))
		return -EINVAL;
	mutex_lock(&pcache_config_mutex);
	if (on && !pcache_hooks_enabled()) {
		pr_info("%s: enabled: hooks_enabled is 0\n", feature);
		ret = -EBUSY;
	} else {
		ret = set(on);
	}
	mutex_unlock(&pcache_config_mutex);
	return ret ? ret : len;
}

ssize_t pcache_stat_show(struct kobject *k, struct kobj_attribute *a,
			 char *buf)
{
	struct pcache_stat_attr *sa = container_of(a, struct pcache_stat_attr,
						   attr);

	return sysfs_emit(buf, "%lu\n", sa->read(sa->stat));
}

/* Bucket b counts values below 2^b (b > 0), bucket 0 the zeros. */
void pcache_seq_hist(struct seq_file *s, const char *header,
		     atomic_long_t *hist, int buckets)
{
	int b;

	seq_printf(s, "# %s\n", header);
	for (b = 0; b < buckets; b++)
		seq_printf(s, "%10lu %ld\n", b ? 1UL << (b - 1) : 1UL,
			   atomic_long_read(&hist[b]));
}

static ssize_t hooks_enabled_show(struct kobject *kobj,
				  struct kobj_attribute *attr, char *buf)
{
	return sysfs_emit(buf, "%d\n", pcache_hooks_enabled());
}

static ssize_t hooks_enabled_store(struct kobject *kobj,
				   struct kobj_attribute *attr,
				   const char *buf, size_t count)
{
	bool on;
	int ret;

	ret = pcache_sysfs_parse_bool(buf, &on);
	if (ret)
		return ret;
	ret = pcache_set_hooks_enabled(on);
	return ret ? ret : count;
}

static struct kobj_attribute hooks_enabled_attr = __ATTR_RW(hooks_enabled);

static ssize_t version_show(struct kobject *kobj, struct kobj_attribute *attr,
			    char *buf)
{
	return sysfs_emit(buf, "%s\n", PCACHE_VERSION);
}

static struct kobj_attribute version_attr = __ATTR_RO(version);

static struct attribute *pcache_attrs[] = {
	&hooks_enabled_attr.attr,
	&version_attr.attr,
	NULL,
};

static const struct attribute_group pcache_attr_group = {
	.attrs = pcache_attrs,
};

/* The first feature whose directory is @feat's. */
static int pcache_sysfs_dir_owner(int feat)
{
	int i;

	for (i = 0; i < feat; i++)
		if (!strcmp(pcache_features[i].sysfs_dir,
			    pcache_features[feat].sysfs_dir))
			return i;
	return feat;
}

/* The directory of a feature, for it to fill. */
struct kobject *pcache_sysfs_feature_dir(enum pcache_feature_id feat)
{
	return pcache_feature_kobjs[pcache_sysfs_dir_owner(feat)];
}

int pcache_sysfs_init(void)
{
	int i, ret;

	pcache_kobj = kobject_create_and_add("pcache", mm_kobj);
	if (!pcache_kobj)
		return -ENOMEM;
	ret = sysfs_create_group(pcache_kobj, &pcache_attr_group);
	if (ret)
		goto out;
	for (i = 0; i < PCACHE_NR_FEATURES; i++) {
		if (pcache_sysfs_dir_owner(i) != i)
			continue;
		pcache_feature_kobjs[i] =
			kobject_create_and_add(pcache_features[i].sysfs_dir,
					       pcache_kobj);
		if (!pcache_feature_kobjs[i]) {
			ret = -ENOMEM;
			goto out;
		}
	}
	return 0;
out:
	pcache_sysfs_exit();
	return ret;
}

void pcache_sysfs_exit(void)
{
	int i;

	for (i = 0; i < ARRAY_SIZE(pcache_feature_kobjs); i++) {
		kobject_put(pcache_feature_kobjs[i]);
		pcache_feature_kobjs[i] = NULL;
	}
	kobject_put(pcache_kobj);
	pcache_kobj = NULL;
}
