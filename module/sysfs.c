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

#include <linux/err.h>
#include <linux/fs.h>
#include <linux/kernel.h>
#include <linux/kobject.h>
#include <linux/module.h>
#include <linux/rcupdate.h>
#include <linux/slab.h>
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

/* Directories with an owner: a tmem front's, every stats/ directory. */
struct pcache_sysfs_dir {
	struct kobject kobj;
	void *owner;
	struct pcache_counters *counters;
};

static void pcache_sysfs_dir_release(struct kobject *kobj)
{
	kfree(container_of(kobj, struct pcache_sysfs_dir, kobj));
}

static const struct kobj_type pcache_sysfs_dir_ktype = {
	.sysfs_ops	= &kobj_sysfs_ops,
	.release	= pcache_sysfs_dir_release,
};

struct kobject *pcache_sysfs_dir_add(struct kobject *parent, const char *name,
				     void *owner,
				     struct pcache_counters *counters,
				     const struct attribute_group **groups)
{
	struct pcache_sysfs_dir *d;

	d = kzalloc(sizeof(*d), GFP_KERNEL);
	if (!d)
		return NULL;
	d->owner = owner;
	d->counters = counters;
	if (kobject_init_and_add(&d->kobj, &pcache_sysfs_dir_ktype, parent,
				 "%s", name))
		goto out;
	if (groups && sysfs_create_groups(&d->kobj, groups))
		goto out;
	return &d->kobj;
out:
	kobject_put(&d->kobj);
	return NULL;
}

/* The owner of @dir, NULL for a directory not made by the function above. */
void *pcache_sysfs_owner(struct kobject *dir)
{
	if (dir->ktype != &pcache_sysfs_dir_ktype)
		return NULL;
	return container_of(dir, struct pcache_sysfs_dir, kobj)->owner;
}

ssize_t pcache_stat_show(struct kobject *k, struct kobj_attribute *a,
			 char *buf)
{
	struct pcache_stat_attr *sa = container_of(a, struct pcache_stat_attr,
						   attr);
	struct pcache_sysfs_dir *d = container_of(k, struct pcache_sysfs_dir,
						  kobj);

	if (WARN_ON_ONCE(k->ktype != &pcache_sysfs_dir_ktype))
		return -EIO;
	if (sa->value)
		return sysfs_emit(buf, "%ld\n", sa->value(d->owner));
	if (WARN_ON_ONCE(!d->counters || sa->stat >= d->counters->nr))
		return -EIO;
	return sysfs_emit(buf, "%lu\n",
			  pcache_counter_read(d->counters, sa->stat));
}

/* A knob's value: a static variable, or a field of the directory's owner. */
static void *pcache_knob_val(struct kobject *k, void *val, size_t field)
{
	return val ?: (char *)pcache_sysfs_owner(k) + field;
}

ssize_t pcache_uint_knob_show(struct kobject *k, struct kobj_attribute *a,
			      char *buf)
{
	struct pcache_uint_knob *kn = container_of(a, struct pcache_uint_knob,
						   attr);
	unsigned int *v = pcache_knob_val(k, kn->val, kn->field);

	return sysfs_emit(buf, "%u\n", READ_ONCE(*v));
}

ssize_t pcache_uint_knob_store(struct kobject *k, struct kobj_attribute *a,
			       const char *buf, size_t len)
{
	struct pcache_uint_knob *kn = container_of(a, struct pcache_uint_knob,
						   attr);
	unsigned int *v = pcache_knob_val(k, kn->val, kn->field);
	unsigned int n;

	if (kstrtouint(buf, 10, &n) || n < kn->min || n > kn->max)
		return -EINVAL;
	mutex_lock(&pcache_config_mutex);
	WRITE_ONCE(*v, n);
	if (kn->changed)
		kn->changed(pcache_sysfs_owner(k), n);
	mutex_unlock(&pcache_config_mutex);
	return len;
}

ssize_t pcache_bool_knob_show(struct kobject *k, struct kobj_attribute *a,
			      char *buf)
{
	struct pcache_bool_knob *kn = container_of(a, struct pcache_bool_knob,
						   attr);
	bool *v = pcache_knob_val(k, kn->val, kn->field);

	return sysfs_emit(buf, "%d\n", READ_ONCE(*v));
}

/*
 * Switched by ->set() under pcache_config_mutex; a feature's enabled=1
 * while hooks_enabled is 0 fails with -EBUSY and says why in dmesg.
 */
ssize_t pcache_bool_knob_store(struct kobject *k, struct kobj_attribute *a,
			       const char *buf, size_t len)
{
	struct pcache_bool_knob *kn = container_of(a, struct pcache_bool_knob,
						   attr);
	bool on;
	int ret;

	if (pcache_sysfs_parse_bool(buf, &on))
		return -EINVAL;
	mutex_lock(&pcache_config_mutex);
	if (on && kn->needs_hooks && !pcache_hooks_enabled()) {
		pr_info("%s/%s: hooks_enabled is 0: enable the hooks first\n",
			kobject_name(k), a->attr.name);
		ret = -EBUSY;
	} else {
		ret = kn->set(pcache_sysfs_owner(k), on);
	}
	mutex_unlock(&pcache_config_mutex);
	return ret ? ret : len;
}

/* Filesystem allow-lists. */
#define PCACHE_FS_NAME_LEN	32

struct pcache_fs_names {
	struct rcu_head rcu;
	unsigned int nr;
	char name[PCACHE_FS_LIST_MAX][PCACHE_FS_NAME_LEN];
};

/* One name of a write: -EINVAL (and why, in dmesg) if @l may not hold it. */
static int pcache_fs_list_check(struct pcache_fs_list *l, const char *name,
				unsigned int nr)
{
	struct file_system_type *type;
	int i;

	if (nr == PCACHE_FS_LIST_MAX) {
		pr_info("%s: more than %d names\n", l->what,
			PCACHE_FS_LIST_MAX);
		return -EINVAL;
	}
	if (strlen(name) >= PCACHE_FS_NAME_LEN) {
		pr_info("%s: '%.*s...' is too long\n", l->what,
			PCACHE_FS_NAME_LEN, name);
		return -EINVAL;
	}
	if (l->known) {
		char known[PCACHE_FS_LIST_MAX * PCACHE_FS_NAME_LEN] = "";

		for (i = 0; l->known[i]; i++) {
			if (!strcmp(name, l->known[i]))
				return 0;
			strlcat(known, " ", sizeof(known));
			strlcat(known, l->known[i], sizeof(known));
		}
		pr_info("%s: '%s' is not known to work (known:%s)\n", l->what,
			name, known);
		return -EINVAL;
	}
	type = get_fs_type(name);
	if (!type) {
		pr_info("%s: no filesystem type '%s'\n", l->what, name);
		return -EINVAL;
	}
	module_put(type->owner);	/* put_filesystem() */
	return 0;
}

/* Parse @buf into @n: 0, or -EINVAL with the reason in dmesg. */
static int pcache_fs_list_parse(struct pcache_fs_list *l, const char *buf,
				struct pcache_fs_names *n)
{
	char *s, *p, *name;
	unsigned int i;
	int ret = 0;

	s = kstrdup(buf, GFP_KERNEL);
	if (!s)
		return -ENOMEM;
	p = s;
	while ((name = strsep(&p, " ,\t\n"))) {
		if (!*name)
			continue;
		for (i = 0; i < n->nr; i++)
			if (!strcmp(name, n->name[i]))
				break;
		if (i < n->nr)
			continue;	/* listed twice */
		ret = pcache_fs_list_check(l, name, n->nr);
		if (ret)
			break;
		strscpy(n->name[n->nr++], name, PCACHE_FS_NAME_LEN);
	}
	kfree(s);
	if (!ret && !n->nr) {
		pr_info("%s: empty: %s\n", l->what, l->empty);
		ret = -EINVAL;
	}
	return ret;
}

/* A new list parsed from @buf, or an ERR_PTR (why, in dmesg). */
static struct pcache_fs_names *pcache_fs_names_new(struct pcache_fs_list *l,
						   const char *buf)
{
	struct pcache_fs_names *n;
	int ret;

	n = kzalloc(sizeof(*n), GFP_KERNEL);
	if (!n)
		return ERR_PTR(-ENOMEM);
	ret = pcache_fs_list_parse(l, buf, n);
	if (ret) {
		kfree(n);
		return ERR_PTR(ret);
	}
	return n;
}

static struct pcache_fs_names *pcache_fs_list_get(struct pcache_fs_list *l)
{
	return rcu_dereference_protected(l->names,
					 lockdep_is_held(&pcache_config_mutex));
}

/* Set up @l holding @names, at a feature's init. */
int pcache_fs_list_init(struct pcache_fs_list *l, const char *names)
{
	struct pcache_fs_names *n = pcache_fs_names_new(l, names);

	if (IS_ERR(n))
		return PTR_ERR(n);
	RCU_INIT_POINTER(l->names, n);
	return 0;
}

/* At a feature's free: no reader is left. */
void pcache_fs_list_free(struct pcache_fs_list *l)
{
	kfree(rcu_dereference_protected(l->names, true));
	RCU_INIT_POINTER(l->names, NULL);
}

/* Whether @sb's filesystem type is listed; any context. */
bool pcache_fs_list_has(struct pcache_fs_list *l, struct super_block *sb)
{
	const char *type = sb->s_type->name;
	struct pcache_fs_names *n;
	bool found = pcache_mutant(13);
	unsigned int i;

	rcu_read_lock();
	n = rcu_dereference(l->names);
	for (i = 0; n && i < n->nr && !found; i++)
		found = !strcmp(type, n->name[i]);
	rcu_read_unlock();
	return found;
}

ssize_t pcache_fs_list_attr_show(struct kobject *k, struct kobj_attribute *a,
				 char *buf)
{
	struct pcache_fs_list *l = container_of(a, struct pcache_fs_list, attr);
	struct pcache_fs_names *n;
	unsigned int i;
	ssize_t len = 0;

	mutex_lock(&pcache_config_mutex);
	n = pcache_fs_list_get(l);
	for (i = 0; i < n->nr; i++)
		len += sysfs_emit_at(buf, len, "%s%s", i ? " " : "",
				     n->name[i]);
	mutex_unlock(&pcache_config_mutex);
	return len + sysfs_emit_at(buf, len, "\n");
}

/*
 * A new list, or -EINVAL and the list kept.  Readers see the old list or
 * the new one; ->changed() is told under pcache_config_mutex.
 */
ssize_t pcache_fs_list_attr_store(struct kobject *k, struct kobj_attribute *a,
				  const char *buf, size_t len)
{
	struct pcache_fs_list *l = container_of(a, struct pcache_fs_list, attr);
	struct pcache_fs_names *n = pcache_fs_names_new(l, buf), *old;

	if (IS_ERR(n))
		return PTR_ERR(n);
	mutex_lock(&pcache_config_mutex);
	old = pcache_fs_list_get(l);
	rcu_assign_pointer(l->names, n);
	if (l->changed)
		l->changed();
	mutex_unlock(&pcache_config_mutex);
	kfree_rcu(old, rcu);
	return len;
}

/* Call @fn for every mounted superblock of a listed type; may sleep. */
void pcache_fs_list_iterate_supers(struct pcache_fs_list *l,
				   void (*fn)(struct super_block *sb, void *arg),
				   void *arg)
{
	struct file_system_type *type;
	struct pcache_fs_names *n;
	unsigned int i;

	n = pcache_fs_list_get(l);
	for (i = 0; i < n->nr; i++) {
		type = get_fs_type(n->name[i]);
		if (!type)
			continue;
		iterate_supers_type(type, fn, arg);
		module_put(type->owner);	/* put_filesystem() */
	}
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

/* The directory of a feature, shared or its own. */
static struct kobject *pcache_sysfs_feature_dir(enum pcache_feature_id feat)
{
	return pcache_feature_kobjs[pcache_sysfs_dir_owner(feat)];
}

/* A feature's files: its subdirectory, or its groups in its directory. */
static struct kobject *pcache_files_kobjs[PCACHE_NR_FEATURES];
static struct kobject *pcache_stats_kobjs[PCACHE_NR_FEATURES];

int pcache_sysfs_feature_add(enum pcache_feature_id feat)
{
	const struct pcache_feature_files *files = pcache_features[feat].files;
	struct kobject *dir = pcache_sysfs_feature_dir(feat);
	struct kobject *kobj;

	if (!files)
		return 0;
	if (files->subdir) {
		kobj = pcache_sysfs_dir_add(dir, files->subdir, files->owner,
					    NULL, files->groups);
		if (!kobj)
			return -ENOMEM;
	} else {
		if (sysfs_create_groups(dir, files->groups))
			return -ENOMEM;
		kobj = dir;
	}
	pcache_files_kobjs[feat] = kobj;
	pcache_stats_kobjs[feat] = pcache_sysfs_dir_add(kobj, "stats",
							files->owner,
							files->stats,
							files->stat_groups);
	if (!pcache_stats_kobjs[feat]) {
		pcache_sysfs_feature_remove(feat);
		return -ENOMEM;
	}
	return 0;
}

/* Removing a file waits for its show and store in flight (kernfs). */
void pcache_sysfs_feature_remove(enum pcache_feature_id feat)
{
	const struct pcache_feature_files *files = pcache_features[feat].files;

	if (!pcache_files_kobjs[feat])
		return;
	kobject_put(pcache_stats_kobjs[feat]);
	pcache_stats_kobjs[feat] = NULL;
	if (files->subdir)
		kobject_put(pcache_files_kobjs[feat]);
	else
		sysfs_remove_groups(pcache_files_kobjs[feat], files->groups);
	pcache_files_kobjs[feat] = NULL;
}

int pcache_sysfs_feature_write(enum pcache_feature_id feat, const char *name,
			       const char *val)
{
	const struct attribute_group **g = pcache_features[feat].files->groups;
	struct kobj_attribute *ka;
	struct attribute **a;
	ssize_t ret;

	if (WARN_ON_ONCE(!pcache_files_kobjs[feat]))
		return -ENOENT;
	for (; *g; g++) {
		for (a = (*g)->attrs; *a; a++) {
			if (strcmp((*a)->name, name))
				continue;
			ka = container_of(*a, struct kobj_attribute, attr);
			ret = ka->store(pcache_files_kobjs[feat], ka, val,
					strlen(val));
			return ret < 0 ? ret : 0;
		}
	}
	WARN_ONCE(1, "%s has no file %s\n", pcache_features[feat].name, name);
	return -ENOENT;
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
