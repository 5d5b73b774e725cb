/* SPDX-License-Identifier: GPL-2.0 */
/*
 * pcache's counters and histograms: one kind of each for every feature.
 *
 * An event counter only goes up (puts, forks, collapses): it is a per-CPU
 * unsigned long, one add in any context, interrupts included, summed over
 * the possible CPUs when read.  A value that goes up and down (pages held
 * now) is a gauge: an atomic_long_t of its owner, read exactly.
 *
 * Header-only, so that pcache_kunit.ko, which builds tmem/zs.c in, needs
 * no symbol of pcache.ko.  The sysfs files that show them are
 * struct pcache_stat_attr (pcache.h), the debugfs histogram file
 * pcache_debugfs_hist() (debugfs.c).
 */
#ifndef _PCACHE_STATS_H
#define _PCACHE_STATS_H

#include <linux/atomic.h>
#include <linux/cpumask.h>
#include <linux/log2.h>
#include <linux/percpu.h>

/**
 * struct pcache_counters - a set of event counters
 * @pcpu: @nr counters on each CPU
 * @nr: the number of counters, 0 before pcache_counters_init()
 */
struct pcache_counters {
	unsigned long __percpu *pcpu;
	unsigned int nr;
};

static inline int pcache_counters_init(struct pcache_counters *c,
				       unsigned int nr)
{
	c->pcpu = __alloc_percpu(nr * sizeof(unsigned long),
				 __alignof__(unsigned long));
	c->nr = c->pcpu ? nr : 0;
	return c->pcpu ? 0 : -ENOMEM;
}

static inline void pcache_counters_free(struct pcache_counters *c)
{
	free_percpu(c->pcpu);
	c->pcpu = NULL;
	c->nr = 0;
}

static inline void pcache_count_add(struct pcache_counters *c,
				    unsigned int i, unsigned long n)
{
	this_cpu_add(c->pcpu[i], n);
}

static inline void pcache_count(struct pcache_counters *c, unsigned int i)
{
	this_cpu_inc(c->pcpu[i]);
}

static inline unsigned long pcache_counter_read(struct pcache_counters *c,
						unsigned int i)
{
	unsigned long sum = 0;
	int cpu;

	for_each_possible_cpu(cpu)
		sum += *per_cpu_ptr(c->pcpu + i, cpu);
	return sum;
}

/*
 * A power-of-two histogram: bucket 0 counts the zeros, bucket b > 0 the
 * values below 2^b (and at least 2^(b-1)), the last one everything above.
 * Shown by pcache_debugfs_hist(), one "bound count" line a bucket.
 */
#define PCACHE_HIST_BUCKETS	24

struct pcache_hist {
	const char *header;	/* what is counted, in which unit */
	atomic_long_t bucket[PCACHE_HIST_BUCKETS];
};

static inline void pcache_hist_add(struct pcache_hist *h, u64 v)
{
	unsigned int b = v ? min_t(unsigned int, ilog2(v) + 1,
				   PCACHE_HIST_BUCKETS - 1) : 0;

	atomic_long_inc(&h->bucket[b]);
}

#endif /* _PCACHE_STATS_H */
