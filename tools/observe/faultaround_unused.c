// SPDX-License-Identifier: GPL-2.0
/*
 * faultaround_unused	How many of the pages fault-around maps are touched.
 *			For Linux 6.12 on x86-64, no pcache needed: a kprobe
 *			module (bpftrace cannot look at page tables).
 *
 * A read fault on a file mapping also maps the cached pages around the
 * faulting one (do_fault_around(), /sys/kernel/debug/fault_around_bytes,
 * 64 KiB by default).  A scan uses them and takes fewer faults; a sparse
 * random reader pays page-table work and RSS for pages it never touches.
 * x86 maps them young, so no accessed bit tells which.  This module makes
 * it tell: after each fault-around (a kretprobe on filemap_map_pages(), the
 * ->map_pages of ext4, ext2, xfs, tmpfs and most other filesystems) it
 * clears the accessed bit of the pages the window mapped (those not mapped
 * before it, the faulting page left out), as arm64 maps them; at the VMA's
 * next fault (a kprobe on handle_mm_fault()) it reads them back.  Young:
 * touched since (used); old: not (unused).  This is what pcache's adaptive
 * fault-around samples (faultaround/stats/used and unused, with map_old),
 * and what a smaller window would have saved.  An old PTE costs nothing
 * but the hardware setting the bit again on the first touch; reclaim sees
 * an untouched page as cold, as it does on arm64.
 *
 * USAGE:
 *	insmod faultaround_unused.ko [comm=NAME] [sample_every=N]
 *	cat /sys/kernel/debug/faultaround_unused/stats
 *	rmmod faultaround_unused
 *
 *	comm		only the faults of tasks of this name (default: all);
 *			also /sys/module/faultaround_unused/parameters/comm
 *	sample_every	clear and check one window in N (default 1: all)
 *
 * stats:
 *	windows		fault-arounds seen (of tasks named comm)
 *	mapped_around	pages they mapped besides the faulting one
 *	sampled		windows whose pages were made old
 *	used		of their pages, touched before the VMA's next fault
 *	unused		not touched before it
 *	unmapped	no longer mapped at that fault (not counted above)
 *	dropped		sampled windows never checked: another VMA's window
 *			took their slot before the VMA faulted again
 *	pending		sampled windows waiting for their VMA's next fault
 *			(a process that exits leaves its last one here)
 *	missed		fault-arounds not seen (more at once than the
 *			kretprobe's instances: should stay 0)
 *
 * Example: 500 pages touched at random through a shared mapping of a
 * cached 16 MiB file (see faultaround_unused_example.txt):
 *
 * # insmod faultaround_unused.ko comm=pcache_fa
 * # pcache_fa rand /tmp/pcache-mnt/observe-fa 4096 0x0b5e 500
 * # cat /sys/kernel/debug/faultaround_unused/stats
 * windows 286
 * mapped_around 3984
 * sampled 278
 * used 41
 * unused 3807
 * unmapped 0
 * dropped 0
 * pending 14
 * missed 0
 *
 * The estimate: unused / (used + unused) of the pages mapped around are
 * not touched before the next fault; mapped_around * that share is the
 * RSS and page-table work a smaller window would save.  Overhead: two
 * page-table walks of the window per fault-around, a kprobe per fault.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/atomic.h>
#include <linux/bitmap.h>
#include <linux/debugfs.h>
#include <linux/hash.h>
#include <linux/kprobes.h>
#include <linux/mm.h>
#include <linux/module.h>
#include <linux/pgtable.h>
#include <linux/sched.h>
#include <linux/seq_file.h>
#include <linux/slab.h>
#include <linux/spinlock.h>
#include <linux/string.h>

#ifndef CONFIG_X86_64
#error "faultaround_unused clears the x86-64 accessed bit"
#endif

#define FU_SLOT_BITS	10
#define FU_SLOTS	BIT(FU_SLOT_BITS)

static char comm[TASK_COMM_LEN];
module_param_string(comm, comm, sizeof(comm), 0644);
MODULE_PARM_DESC(comm, "only tasks of this name (default: all)");

static unsigned int sample_every = 1;
module_param(sample_every, uint, 0644);
MODULE_PARM_DESC(sample_every, "clear and check one window in N (default 1)");

enum fu_stat {
	FU_WINDOWS,
	FU_MAPPED_AROUND,
	FU_SAMPLED,
	FU_USED,
	FU_UNUSED,
	FU_UNMAPPED,
	FU_DROPPED,
	FU_NR_STATS
};

static const char * const fu_stat_names[FU_NR_STATS] = {
	[FU_WINDOWS]		= "windows",
	[FU_MAPPED_AROUND]	= "mapped_around",
	[FU_SAMPLED]		= "sampled",
	[FU_USED]		= "used",
	[FU_UNUSED]		= "unused",
	[FU_UNMAPPED]		= "unmapped",
	[FU_DROPPED]		= "dropped",
};

static atomic_long_t fu_stats[FU_NR_STATS];
static atomic_t fu_tick;

static void fu_count(enum fu_stat s, long n)
{
	if (n)
		atomic_long_add(n, &fu_stats[s]);
}

/*
 * A sampled window, waiting for its VMA's next fault: the pages it made
 * old.  One per slot, hashed by the VMA; the identity fields tell a slot
 * taken over by another VMA (or by a new VMA in a freed one's place: then
 * at worst one window is miscounted, as the pages are only read).
 */
struct fu_slot {
	spinlock_t lock;		/* guards the fields below */
	bool live;
	struct vm_area_struct *vma;
	struct mm_struct *mm;
	struct file *file;
	unsigned long start;		/* address of the window's first page */
	unsigned int nr;		/* pages in the window */
	DECLARE_BITMAP(old, PTRS_PER_PTE);	/* made old by us */
};

static struct fu_slot *fu_slots;

/* One filemap_map_pages() call, from entry to return. */
struct fu_call {
	struct vm_fault *vmf;
	unsigned long start;
	unsigned int nr;
	DECLARE_BITMAP(present, PTRS_PER_PTE);	/* mapped before it */
};

static bool fu_task_ok(void)
{
	char want[TASK_COMM_LEN];

	strscpy(want, comm, sizeof(want));
	strim(want);
	return !want[0] || !strncmp(current->comm, want, TASK_COMM_LEN);
}

/*
 * The PTE table entry of @addr and the PMD value it hangs from, or NULL
 * (no table, or a huge PMD).  Lockless: under the fault's mmap or VMA lock,
 * which keeps the upper levels, and rcu_read_lock(), which keeps a PTE
 * table that khugepaged retracts.
 */
static pte_t *fu_pte(struct mm_struct *mm, unsigned long addr, pmd_t **pmdp,
		     pmd_t *pmdval)
{
	pgd_t *pgd = pgd_offset(mm, addr);
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
	*pmdp = pmd_offset(pud, addr);
	pmd = pmdp_get_lockless(*pmdp);
	if (!pmd_present(pmd) || pmd_leaf(pmd))
		return NULL;
	*pmdval = pmd;
	return (pte_t *)pmd_page_vaddr(pmd) + pte_index(addr);
}

static int fu_entry(struct kretprobe_instance *ri, struct pt_regs *regs)
{
	struct fu_call *c = (struct fu_call *)ri->data;
	struct vm_fault *vmf = (void *)regs_get_kernel_argument(regs, 0);
	pgoff_t first = regs_get_kernel_argument(regs, 1);
	pgoff_t last = regs_get_kernel_argument(regs, 2);
	struct vm_area_struct *vma = vmf->vma;
	pmd_t *pmdp, pmdval;
	pte_t *ptep;
	unsigned int i;

	if (!fu_task_ok() || last < first || last - first >= PTRS_PER_PTE)
		return 1;
	c->vmf = vmf;
	c->nr = last - first + 1;
	c->start = vma->vm_start + ((first - vma->vm_pgoff) << PAGE_SHIFT);
	bitmap_zero(c->present, PTRS_PER_PTE);
	rcu_read_lock();
	ptep = fu_pte(vma->vm_mm, c->start, &pmdp, &pmdval);
	for (i = 0; ptep && i < c->nr; i++)
		if (pte_present(ptep_get_lockless(ptep + i)))
			__set_bit(i, c->present);
	rcu_read_unlock();
	return 0;
}

/* After the fault-around: make the pages it mapped old, remember them. */
static int fu_return(struct kretprobe_instance *ri, struct pt_regs *regs)
{
	struct fu_call *c = (struct fu_call *)ri->data;
	struct vm_area_struct *vma = c->vmf->vma;
	unsigned long fault = c->vmf->address & PAGE_MASK;
	unsigned int i, around = 0, n = sample_every ?: 1;
	DECLARE_BITMAP(old, PTRS_PER_PTE);
	struct fu_slot *s;
	pmd_t *pmdp, pmdval;
	spinlock_t *ptl;		/* the PTE table's */
	bool sample;
	pte_t *ptep;

	fu_count(FU_WINDOWS, 1);
	sample = !((unsigned int)atomic_inc_return(&fu_tick) % n);
	bitmap_zero(old, PTRS_PER_PTE);
	rcu_read_lock();
	ptep = fu_pte(vma->vm_mm, c->start, &pmdp, &pmdval);
	if (!ptep)
		goto out;
	ptl = pte_lockptr(vma->vm_mm, &pmdval);
	spin_lock(ptl);
	/* The table may have gone between the walk and the lock. */
	if (!pmd_same(pmdval, pmdp_get_lockless(pmdp))) {
		spin_unlock(ptl);
		goto out;
	}
	for (i = 0; i < c->nr; i++) {
		pte_t *p = ptep + i;

		if (test_bit(i, c->present) || !pte_present(ptep_get(p)) ||
		    c->start + ((unsigned long)i << PAGE_SHIFT) == fault)
			continue;
		around++;
		if (!sample)
			continue;
		/* ptep_test_and_clear_young(), which is not exported */
		if (pte_young(ptep_get(p)))
			clear_bit(_PAGE_BIT_ACCESSED, (unsigned long *)&p->pte);
		__set_bit(i, old);
	}
	spin_unlock(ptl);
out:
	rcu_read_unlock();
	fu_count(FU_MAPPED_AROUND, around);
	if (!sample || !around)
		return 0;
	fu_count(FU_SAMPLED, 1);
	s = &fu_slots[hash_ptr(vma, FU_SLOT_BITS)];
	spin_lock(&s->lock);
	if (s->live && s->vma != vma)
		fu_count(FU_DROPPED, 1);
	s->live = true;
	s->vma = vma;
	s->mm = vma->vm_mm;
	s->file = vma->vm_file;
	s->start = c->start;
	s->nr = c->nr;
	bitmap_copy(s->old, old, PTRS_PER_PTE);
	spin_unlock(&s->lock);
	return 0;
}

static struct kretprobe fu_kretprobe = {
	.kp.symbol_name	= "filemap_map_pages",
	.entry_handler	= fu_entry,
	.handler	= fu_return,
	.data_size	= sizeof(struct fu_call),
};

/* A fault of @vma: count the pages of its sampled window touched since. */
static int fu_fault(struct kprobe *kp, struct pt_regs *regs)
{
	struct vm_area_struct *vma = (void *)regs_get_kernel_argument(regs, 0);
	unsigned long addr = regs_get_kernel_argument(regs, 1) & PAGE_MASK;
	struct fu_slot *s = &fu_slots[hash_ptr(vma, FU_SLOT_BITS)];
	unsigned int used = 0, unused = 0, gone = 0, i;
	pmd_t *pmdp, pmdval;
	pte_t *ptep, pte;

	if (!READ_ONCE(s->live))
		return 0;
	spin_lock(&s->lock);
	if (!s->live || s->vma != vma || s->mm != vma->vm_mm ||
	    s->file != vma->vm_file || s->start < vma->vm_start ||
	    s->start + ((unsigned long)s->nr << PAGE_SHIFT) > vma->vm_end) {
		spin_unlock(&s->lock);
		return 0;
	}
	s->live = false;
	rcu_read_lock();
	ptep = fu_pte(vma->vm_mm, s->start, &pmdp, &pmdval);
	for_each_set_bit(i, s->old, s->nr) {
		if (!ptep) {
			gone++;
			continue;
		}
		pte = ptep_get_lockless(ptep + i);
		if (!pte_present(pte))
			gone++;
		else if (pte_young(pte) ||
			 s->start + ((unsigned long)i << PAGE_SHIFT) == addr)
			used++;		/* or faulting on it now (a write) */
		else
			unused++;
	}
	rcu_read_unlock();
	spin_unlock(&s->lock);
	fu_count(FU_USED, used);
	fu_count(FU_UNUSED, unused);
	fu_count(FU_UNMAPPED, gone);
	return 0;
}

static struct kprobe fu_kprobe = {
	.symbol_name	= "handle_mm_fault",
	.pre_handler	= fu_fault,
};

static int fu_stats_show(struct seq_file *m, void *v)
{
	long pending = 0;
	int i;

	for (i = 0; i < FU_NR_STATS; i++)
		seq_printf(m, "%s %ld\n", fu_stat_names[i],
			   atomic_long_read(&fu_stats[i]));
	for (i = 0; i < FU_SLOTS; i++)
		pending += READ_ONCE(fu_slots[i].live);
	seq_printf(m, "pending %ld\n", pending);
	seq_printf(m, "missed %d\n", fu_kretprobe.nmissed);
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(fu_stats);

static struct dentry *fu_dir;

static int __init fu_init(void)
{
	int i, ret;

	fu_slots = kvcalloc(FU_SLOTS, sizeof(*fu_slots), GFP_KERNEL);
	if (!fu_slots)
		return -ENOMEM;
	for (i = 0; i < FU_SLOTS; i++)
		spin_lock_init(&fu_slots[i].lock);
	fu_kretprobe.maxactive = max_t(int, 16, 2 * num_possible_cpus());
	ret = register_kprobe(&fu_kprobe);
	if (ret) {
		pr_err("cannot probe handle_mm_fault: %d\n", ret);
		goto out_free;
	}
	ret = register_kretprobe(&fu_kretprobe);
	if (ret) {
		pr_err("cannot probe filemap_map_pages: %d\n", ret);
		goto out_kprobe;
	}
	fu_dir = debugfs_create_dir(KBUILD_MODNAME, NULL);
	debugfs_create_file("stats", 0444, fu_dir, NULL, &fu_stats_fops);
	return 0;

out_kprobe:
	unregister_kprobe(&fu_kprobe);
out_free:
	kvfree(fu_slots);
	return ret;
}

static void __exit fu_exit(void)
{
	debugfs_remove_recursive(fu_dir);
	unregister_kretprobe(&fu_kretprobe);
	unregister_kprobe(&fu_kprobe);
	kvfree(fu_slots);
}

module_init(fu_init);
module_exit(fu_exit);
MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("How many of the pages fault-around maps are touched");
