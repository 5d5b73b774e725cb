// SPDX-License-Identifier: GPL-2.0
/*
 * pcache adaptive fault-around: the fault-around window chosen for each
 * mapping instead of one global fault_around_bytes.
 *
 * A read fault on a file mapping first maps the already cached pages
 * around the faulting one (do_fault_around(), Shutemov 2014), in a window
 * of fault_around_bytes (64 KiB by default) for every mapping.  A large
 * sequential reader would take fewer faults with a larger window; a
 * sparse random reader pays page table work and RSS for neighbours it
 * never touches.  Behind the FAULT_AROUND hook (patch 0008), this feature
 * chooses the window for each fault:
 *
 *   mode off		no decision: the kernel's window, as stock
 *   mode fixed		fixed_bytes for every mapping
 *   mode adaptive	a window per VMA, from what the VMA's faults did:
 *			a fault on the page right after the last window (a
 *			forward scan that used all of it) takes max_bytes
 *			at once; one at or next to the last window (within
 *			one window's length of it, on either side) doubles
 *			it, a fault away from it halves it, between
 *			min_bytes and max_bytes.  MADV_RANDOM gives
 *			min_bytes and MADV_SEQUENTIAL max_bytes at once,
 *			whatever the history (stock fault-around ignores
 *			MADV_RANDOM); a VMA no larger than max_bytes gets
 *			max_bytes, all of it (a library's segments: an
 *			exec-heavy load faults as with a 2 MiB window).  A
 *			VMA's first fault gets the kernel's window,
 *			bounded, or max_bytes on the VMA's first page,
 *			where a scan begins; a fault retried after its
 *			page's I/O (FAULT_FLAG_TRIED) keeps the window its
 *			first try chose.
 *
 * Why per VMA: the access pattern belongs to a mapping of a range by one
 * process (a library's text and its data are two VMAs of one file, used
 * differently; two processes scanning one file do not disturb each
 * other), and the fault already holds the VMA, so finding its state costs
 * a hash of a pointer.
 *
 * The state is one u64 per VMA (policy.h: the last window and a tag of
 * the VMA) in a table of FA_SLOTS slots, indexed by a hash of the VMA
 * pointer, allocated when the mode becomes adaptive and freed when it
 * leaves it.  A fault reads its slot and writes it back whole, with no
 * allocation and no lock (it runs under the fault's mmap or VMA lock and
 * the hook's rcu_read_lock()); faults of one VMA racing lose a decision at
 * worst.  Two VMAs on one slot take it from each other (the tag tells: the
 * newcomer starts from the kernel's window), and a VMA that goes leaves a
 * slot that the next VMA hashed to it takes over: nothing is kept per VMA
 * beyond the table, so nothing is left to free when a mapping goes.
 *
 * Were the pages mapped around used?  x86 maps them young, so no accessed
 * bit tells.  One window in FA_SAMPLE_EVERY (every window with map_old
 * set) is sampled: the MAP_AROUND op (set_pte_range(), patch 0008) maps
 * its pages old, and the VMA's next fault reads the accessed bits of up
 * to FA_SAMPLE_PTES of them, spread over the window, the faulting page
 * left out: young ones count as used, old ones as unused.  The walk is
 * lockless (the fault's mmap or VMA lock keeps the upper page tables,
 * rcu_read_lock() a PTE table khugepaged retracts) and reads only; a
 * race miscounts one sample.  The policy does not use them: they say how
 * well its decisions fit (pcache_faultaround prints them).  map_old maps
 * every page mapped around old, in fixed mode too, so that reclaim sees
 * untouched ones as cold (as arm64 does for every mapping).
 *
 * The window must be between the kernel's bounds: a power of two pages,
 * at most one page table (PTRS_PER_PTE pages, 2 MiB on x86-64); the hook
 * rounds whatever the op returns into them.  Fault-around itself still
 * happens only where the kernel does it (fault_around_bytes above one
 * page, a ->map_pages, no userfaultfd), and a window of one page is none
 * at all, as fault_around_bytes of one page: the fault takes the ordinary
 * path, where a random reader's misses raise the file's mmap_miss and end
 * mmap read-around (through ->map_pages its hits would lower it, and
 * read-around would go on filling memory).
 *
 * Counters (stats/): faults (decisions taken), the reasons (grow, shrink,
 * keep, first, fixed, madvise_random, madvise_sequential, whole_vma,
 * scan), window_pages
 * (the windows' sizes summed: window_pages / faults is the mean window),
 * pages_mapped_around (pages fault-around mapped besides the faulting
 * ones: what the windows cost) and the samples, used and unused.
 * debugfs faultaround/window_pages counts the windows chosen by size,
 * tracepoint pcache:pcache_fa_window each decision.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": faultaround: " fmt

#include <linux/debugfs.h>
#include <linux/hash.h>
#include <linux/log2.h>
#include <linux/mm.h>
#include <linux/seq_file.h>
#include <linux/slab.h>
#include <linux/sysfs.h>

#include "../pcache.h"
#include "../trace.h"
#include "faultaround.h"
#include "policy.h"

#define FA_SLOT_BITS	12
#define FA_SLOTS	BIT(FA_SLOT_BITS)	/* 32 KiB of u64 */

/* One window in FA_SAMPLE_EVERY is sampled, at most FA_SAMPLE_PTES pages. */
#define FA_SAMPLE_EVERY	8
#define FA_SAMPLE_PTES	16

/* The largest window the kernel can use: one page table. */
#define FA_MAX_ORDER	ilog2(PTRS_PER_PTE)
#define FA_MAX_BYTES	(PTRS_PER_PTE * PAGE_SIZE)

enum fa_mode {
	FA_MODE_OFF,
	FA_MODE_FIXED,
	FA_MODE_ADAPTIVE,
	FA_NR_MODES
};

static const char * const fa_mode_names[FA_NR_MODES] = {
	[FA_MODE_OFF]		= "off",
	[FA_MODE_FIXED]		= "fixed",
	[FA_MODE_ADAPTIVE]	= "adaptive",
};

static const char * const fa_reason_names[FA_NR_REASONS] = {
	[FA_FIRST]		= "first",
	[FA_GROW]		= "grow",
	[FA_SHRINK]		= "shrink",
	[FA_KEEP]		= "keep",
	[FA_MADV_RANDOM]	= "madvise_random",
	[FA_MADV_SEQUENTIAL]	= "madvise_sequential",
	[FA_FIXED]		= "fixed",
	[FA_WHOLE]		= "whole_vma",
	[FA_SCAN]		= "scan",
};

const char *pcache_fa_reason_name(int reason)
{
	return reason >= 0 && reason < FA_NR_REASONS ?
		fa_reason_names[reason] : "?";
}

/* Counters: the reasons first, in enum fa_reason order. */
enum fa_stat {
	FA_STAT_REASON_FIRST,
	FA_STAT_FAULTS = FA_NR_REASONS,
	FA_STAT_WINDOW_PAGES,
	FA_STAT_MAPPED_AROUND,
	FA_STAT_USED,
	FA_STAT_UNUSED,
	FA_STAT_ORDER_FIRST,	/* windows chosen, one counter per order */
	FA_NR_STATS = FA_STAT_ORDER_FIRST + FA_MAX_ORDER + 1
};

static struct pcache_counters fa_counters;

/*
 * Knobs, under pcache_config_mutex; the hook reads each once a fault.
 * min_bytes and max_bytes are one word (min order | max order << 8), so
 * that a fault never sees a min above the max.
 */
static unsigned int fa_mode;
static unsigned int fa_fixed_order;
static unsigned int fa_bounds;
static bool fa_map_old;
static DEFINE_PER_CPU(unsigned int, fa_sample_tick);

#define FA_BOUNDS(min, max)	((min) | (max) << 8)
#define FA_BOUND_MIN(b)		((b) & 0xff)
#define FA_BOUND_MAX(b)		((b) >> 8)

/* The history table, while the mode is adaptive (else NULL). */
static u64 *fa_slots;

static struct dentry *fa_debugfs;

static u16 fa_tag(struct vm_area_struct *vma)
{
	u64 key = (unsigned long)vma ^ vma->vm_start ^
		  (unsigned long)vma->vm_file ^ (u64)vma->vm_pgoff << 32;

	return hash_64(key, FA_TAG_BITS) ?: 1;
}

/*
 * The page table entry of @addr in @vma's mm, or NULL, without a lock:
 * under the fault's mmap or VMA lock and rcu_read_lock(), for reading.
 */
static pte_t *fa_pte(struct vm_area_struct *vma, unsigned long addr)
{
	pgd_t *pgd = pgd_offset(vma->vm_mm, addr);
	p4d_t *p4d;
	pud_t *pud;
	pmd_t pmd;

	if (!pgd_present(pgdp_get(pgd)))
		return NULL;
	p4d = p4d_offset(pgd, addr);
	if (!p4d_present(p4dp_get(p4d)))
		return NULL;
	pud = pud_offset(p4d, addr);
	if (!pud_present(pudp_get(pud)) || pud_leaf(pudp_get(pud)))
		return NULL;
	pmd = pmdp_get_lockless(pmd_offset(pud, addr));
	if (!pmd_present(pmd) || pmd_leaf(pmd))
		return NULL;
	return (pte_t *)pmd_page_vaddr(pmd) + pte_index(addr);
}

/*
 * Count the sampled window of @state, the last of @vma: pages of it mapped
 * around that were touched since (young) and that were not (old).
 */
static void fa_sample(struct vm_area_struct *vma, u64 state)
{
	unsigned int order = fa_state_order(state);
	unsigned long n = 1UL << order, step = max(n / FA_SAMPLE_PTES, 1UL);
	u64 fault = fa_state_vpn(state);
	unsigned long start = fa_state_start(state) << PAGE_SHIFT;
	unsigned int used = 0, unused = 0;
	unsigned long i, addr;
	pte_t *ptep, pte;

	if (!order)
		return;
	ptep = fa_pte(vma, start);
	if (!ptep)
		return;
	for (i = 0; i < n; i += step) {
		addr = start + (i << PAGE_SHIFT);
		if (addr < vma->vm_start || addr >= vma->vm_end ||
		    ((addr >> PAGE_SHIFT) & FA_VPN_MASK) == fault)
			continue;
		pte = ptep_get_lockless(ptep + i);
		if (!pte_present(pte))
			continue;
		if (pte_young(pte))
			used++;
		else
			unused++;
	}
	pcache_count_add(&fa_counters, FA_STAT_USED, used);
	pcache_count_add(&fa_counters, FA_STAT_UNUSED, unused);
}

/* The slot of @vma's history, or NULL while the mode is not adaptive. */
static u64 *fa_slot(struct vm_area_struct *vma)
{
	u64 *slots = READ_ONCE(fa_slots);

	return slots ? &slots[hash_ptr(vma, FA_SLOT_BITS)] : NULL;
}

/*
 * The FAULT_AROUND op: the window for this fault, in pages (the kernel's
 * @nr_pages when the mode is off).  Atomic: under the fault's locks and
 * rcu_read_lock(), no allocation, no lock of its own.
 */
unsigned long pcache_fa_fault_around(struct vm_fault *vmf,
				     unsigned long nr_pages)
{
	struct vm_area_struct *vma = vmf->vma;
	unsigned int bounds = READ_ONCE(fa_bounds);
	struct fa_facts f = {
		.vpn		= vmf->address >> PAGE_SHIFT,
		.madv_random	= vma->vm_flags & VM_RAND_READ,
		.madv_sequential = vma->vm_flags & VM_SEQ_READ,
		.retry		= vmf->flags & FAULT_FLAG_TRIED,
		.vma_pages	= vma_pages(vma),
		.vma_first	= vmf->address >> PAGE_SHIFT ==
				  vma->vm_start >> PAGE_SHIFT,
		.kernel_order	= ilog2(nr_pages),
		.min_order	= FA_BOUND_MIN(bounds),
		.max_order	= FA_BOUND_MAX(bounds),
	};
	unsigned int old = f.kernel_order, order;
	enum fa_reason why;
	bool sampled;
	u64 *slot;
	u16 tag;

	switch (READ_ONCE(fa_mode)) {
	case FA_MODE_FIXED:
		order = READ_ONCE(fa_fixed_order);
		why = FA_FIXED;
		break;
	case FA_MODE_ADAPTIVE:
		slot = fa_slot(vma);
		if (!slot)
			return nr_pages;
		tag = fa_tag(vma);
		f.state = READ_ONCE(*slot);
		f.known = fa_state_tag(f.state) == tag;
		if (f.known) {
			old = fa_state_order(f.state);
			if (fa_state_sampled(f.state))
				fa_sample(vma, f.state);
		}
		order = fa_policy_order(&f, &why);
		/* A retry leaves the state its first try wrote. */
		if (f.known && f.retry)
			break;
		sampled = READ_ONCE(fa_map_old) ||
			  !(this_cpu_inc_return(fa_sample_tick) %
			    FA_SAMPLE_EVERY);
		WRITE_ONCE(*slot, fa_state_pack(tag, order, f.vpn, sampled));
		break;
	default:
		return nr_pages;
	}
	pcache_count(&fa_counters, FA_STAT_FAULTS);
	pcache_count(&fa_counters, FA_STAT_REASON_FIRST + why);
	pcache_count_add(&fa_counters, FA_STAT_WINDOW_PAGES, 1UL << order);
	pcache_count(&fa_counters, FA_STAT_ORDER_FIRST + order);
	trace_pcache_fa_window(vmf, 1UL << old, 1UL << order, why);
	return 1UL << order;
}

/*
 * The MAP_AROUND op: fault-around maps @nr pages besides the faulting one;
 * true maps them old.  Under the PTE lock: no allocation, no lock.
 */
bool pcache_fa_map_around(struct vm_fault *vmf, unsigned int nr)
{
	u64 *slot, state;

	pcache_count_add(&fa_counters, FA_STAT_MAPPED_AROUND, nr);
	if (pcache_mutant(19))
		return false;
	if (READ_ONCE(fa_map_old))
		return true;
	/* A sampled window: this VMA's, decided for this fault. */
	slot = fa_slot(vmf->vma);
	if (!slot)
		return false;
	state = READ_ONCE(*slot);
	/* Once per folio mapped: the cheap tests first, the tag's hash last. */
	return fa_state_sampled(state) &&
	       fa_state_vpn(state) == ((vmf->address >> PAGE_SHIFT) & FA_VPN_MASK) &&
	       fa_state_tag(state) == fa_tag(vmf->vma);
}

bool pcache_fa_enabled(void)
{
	return READ_ONCE(fa_mode) != FA_MODE_OFF;
}

/*
 * Switch the mode.  Entering adaptive allocates a fresh history table;
 * leaving it retires the table once no fault reads it any more.  The op
 * is installed while the mode is not off.
 */
static int fa_set_mode(unsigned int mode)
{
	unsigned int old = fa_mode;
	u64 *slots = NULL, *old_slots = fa_slots;

	lockdep_assert_held(&pcache_config_mutex);
	if (mode == old)
		return 0;
	if (mode == FA_MODE_ADAPTIVE) {
		slots = kvcalloc(FA_SLOTS, sizeof(*slots),
				 GFP_KERNEL | __GFP_NOWARN);
		if (!slots) {
			pr_info("mode adaptive: no memory for the history table\n");
			return -ENOMEM;
		}
	}
	if (old == FA_MODE_OFF)
		pcache_feature_ops(PCACHE_FEAT_FAULTAROUND, true);
	/* The table before the mode: a fault that sees adaptive sees it. */
	smp_store_release(&fa_slots, slots);
	WRITE_ONCE(fa_mode, mode);
	if (mode == FA_MODE_OFF)
		pcache_feature_ops(PCACHE_FEAT_FAULTAROUND, false);
	else if (old_slots)
		pcache_sync_hooks();	/* no fault reads the old table */
	kvfree(old_slots);
	pr_info("mode %s\n", fa_mode_names[mode]);
	return 0;
}

/* sysfs: faultaround/ */

static ssize_t mode_show(struct kobject *k, struct kobj_attribute *a,
			 char *buf)
{
	unsigned int mode = READ_ONCE(fa_mode);
	int i, n = 0;

	for (i = 0; i < FA_NR_MODES; i++)
		n += sysfs_emit_at(buf, n, i == mode ? "[%s] " : "%s ",
				   fa_mode_names[i]);
	buf[n - 1] = '\n';
	return n;
}

static ssize_t mode_store(struct kobject *k, struct kobj_attribute *a,
			  const char *buf, size_t len)
{
	int mode = sysfs_match_string(fa_mode_names, buf);
	int ret;

	if (mode < 0)
		return -EINVAL;
	mutex_lock(&pcache_config_mutex);
	if (mode != FA_MODE_OFF && !pcache_hooks_enabled()) {
		pr_info("mode: hooks_enabled is 0: enable the hooks first\n");
		ret = -EBUSY;
	} else {
		ret = fa_set_mode(mode);
	}
	mutex_unlock(&pcache_config_mutex);
	return ret ? ret : len;
}

/*
 * A window in bytes: a power of two from PAGE_SIZE to one page table's
 * reach, or -EINVAL.
 */
static int fa_parse_bytes(const char *buf, unsigned int *order)
{
	unsigned long v;

	if (kstrtoul(buf, 10, &v) || v < PAGE_SIZE || v > FA_MAX_BYTES ||
	    !is_power_of_2(v))
		return -EINVAL;
	*order = ilog2(v >> PAGE_SHIFT);
	return 0;
}

static ssize_t fa_show_order(char *buf, unsigned int order)
{
	return sysfs_emit(buf, "%lu\n", PAGE_SIZE << order);
}

static ssize_t fixed_bytes_show(struct kobject *k, struct kobj_attribute *a,
				char *buf)
{
	return fa_show_order(buf, READ_ONCE(fa_fixed_order));
}

static ssize_t fixed_bytes_store(struct kobject *k, struct kobj_attribute *a,
				 const char *buf, size_t len)
{
	unsigned int order;

	if (fa_parse_bytes(buf, &order))
		return -EINVAL;
	mutex_lock(&pcache_config_mutex);
	WRITE_ONCE(fa_fixed_order, order);
	mutex_unlock(&pcache_config_mutex);
	return len;
}

static ssize_t min_bytes_show(struct kobject *k, struct kobj_attribute *a,
			      char *buf)
{
	return fa_show_order(buf, FA_BOUND_MIN(READ_ONCE(fa_bounds)));
}

static ssize_t max_bytes_show(struct kobject *k, struct kobj_attribute *a,
			      char *buf)
{
	return fa_show_order(buf, FA_BOUND_MAX(READ_ONCE(fa_bounds)));
}

/* min_bytes (@max false) or max_bytes: never min above max. */
static ssize_t fa_bound_store(const char *buf, size_t len, bool max)
{
	unsigned int order, lo, hi;
	int ret = 0;

	if (fa_parse_bytes(buf, &order))
		return -EINVAL;
	mutex_lock(&pcache_config_mutex);
	lo = max ? FA_BOUND_MIN(fa_bounds) : order;
	hi = max ? order : FA_BOUND_MAX(fa_bounds);
	if (lo > hi) {
		pr_info("%s: min_bytes %lu would be above max_bytes %lu\n",
			max ? "max_bytes" : "min_bytes", PAGE_SIZE << lo,
			PAGE_SIZE << hi);
		ret = -EINVAL;
	} else {
		WRITE_ONCE(fa_bounds, FA_BOUNDS(lo, hi));
	}
	mutex_unlock(&pcache_config_mutex);
	return ret ? ret : len;
}

static ssize_t min_bytes_store(struct kobject *k, struct kobj_attribute *a,
			       const char *buf, size_t len)
{
	return fa_bound_store(buf, len, false);
}

static ssize_t max_bytes_store(struct kobject *k, struct kobj_attribute *a,
			       const char *buf, size_t len)
{
	return fa_bound_store(buf, len, true);
}

static int fa_set_map_old(void *owner, bool on)
{
	WRITE_ONCE(fa_map_old, on);
	return 0;
}

PCACHE_BOOL_KNOB(fa_attr_map_old, map_old, &fa_map_old, fa_set_map_old);

static struct kobj_attribute fa_attr_mode = __ATTR_RW(mode);
static struct kobj_attribute fa_attr_fixed_bytes = __ATTR_RW(fixed_bytes);
static struct kobj_attribute fa_attr_min_bytes = __ATTR_RW(min_bytes);
static struct kobj_attribute fa_attr_max_bytes = __ATTR_RW(max_bytes);

static struct attribute *fa_attrs[] = {
	&fa_attr_mode.attr,
	&fa_attr_fixed_bytes.attr,
	&fa_attr_min_bytes.attr,
	&fa_attr_max_bytes.attr,
	&fa_attr_map_old.attr.attr,
	NULL,
};

static const struct attribute_group fa_group = {
	.attrs = fa_attrs,
};

#define FA_STAT(_name, _stat)						\
	PCACHE_STAT_COUNTER(fa_stat_##_name, _name, _stat)

FA_STAT(faults, FA_STAT_FAULTS);
FA_STAT(window_pages, FA_STAT_WINDOW_PAGES);
FA_STAT(pages_mapped_around, FA_STAT_MAPPED_AROUND);
FA_STAT(used, FA_STAT_USED);
FA_STAT(unused, FA_STAT_UNUSED);
FA_STAT(first, FA_STAT_REASON_FIRST + FA_FIRST);
FA_STAT(grow, FA_STAT_REASON_FIRST + FA_GROW);
FA_STAT(shrink, FA_STAT_REASON_FIRST + FA_SHRINK);
FA_STAT(keep, FA_STAT_REASON_FIRST + FA_KEEP);
FA_STAT(fixed, FA_STAT_REASON_FIRST + FA_FIXED);
FA_STAT(madvise_random, FA_STAT_REASON_FIRST + FA_MADV_RANDOM);
FA_STAT(madvise_sequential, FA_STAT_REASON_FIRST + FA_MADV_SEQUENTIAL);
FA_STAT(whole_vma, FA_STAT_REASON_FIRST + FA_WHOLE);
FA_STAT(scan, FA_STAT_REASON_FIRST + FA_SCAN);

static struct attribute *fa_stat_attrs[] = {
	&fa_stat_faults.attr.attr,
	&fa_stat_window_pages.attr.attr,
	&fa_stat_pages_mapped_around.attr.attr,
	&fa_stat_used.attr.attr,
	&fa_stat_unused.attr.attr,
	&fa_stat_first.attr.attr,
	&fa_stat_grow.attr.attr,
	&fa_stat_shrink.attr.attr,
	&fa_stat_keep.attr.attr,
	&fa_stat_fixed.attr.attr,
	&fa_stat_madvise_random.attr.attr,
	&fa_stat_madvise_sequential.attr.attr,
	&fa_stat_whole_vma.attr.attr,
	&fa_stat_scan.attr.attr,
	NULL,
};

ATTRIBUTE_GROUPS(fa_stat);

static const struct attribute_group *fa_groups[] = { &fa_group, NULL };

const struct pcache_feature_files pcache_fa_files = {
	.groups		= fa_groups,
	.stats		= &fa_counters,
	.stat_groups	= fa_stat_groups,
};

/*
 * debugfs faultaround/window_pages: the windows chosen, one "pages count"
 * line per size.  Per-CPU counters, not a struct pcache_hist, whose
 * shared atomics every fault would bounce between CPUs.
 */
static int fa_windows_show(struct seq_file *m, void *v)
{
	unsigned int o;

	seq_puts(m, "# windows chosen, by pages\n");
	for (o = 0; o <= FA_MAX_ORDER; o++)
		seq_printf(m, "%10lu %lu\n", 1UL << o,
			   pcache_counter_read(&fa_counters,
					       FA_STAT_ORDER_FIRST + o));
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(fa_windows);

int pcache_fa_init(void)
{
	int ret;

	ret = pcache_counters_init(&fa_counters, FA_NR_STATS);
	if (ret)
		return ret;
	fa_mode = FA_MODE_OFF;
	fa_fixed_order = ilog2(SZ_64K >> PAGE_SHIFT);
	fa_bounds = FA_BOUNDS(0, FA_MAX_ORDER);
	fa_map_old = false;
	fa_debugfs = debugfs_create_dir("faultaround", pcache_debugfs_dir());
	debugfs_create_file("window_pages", 0444, fa_debugfs, NULL,
			    &fa_windows_fops);
	return 0;
}

/* Unload, hooks still called: no knob any more; back to the kernel's. */
void pcache_fa_drain(void)
{
	mutex_lock(&pcache_config_mutex);
	fa_set_mode(FA_MODE_OFF);
	mutex_unlock(&pcache_config_mutex);
}

/* Unload, retired: no hook calls fault-around any more. */
void pcache_fa_free(void)
{
	debugfs_remove_recursive(fa_debugfs);
	pcache_counters_free(&fa_counters);
}
