/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Replication policy: the arithmetic of when a page may be replicated,
 * apart from the page state it is applied to, so that KUnit
 * (repl/repl_kunit.c) can test its edge cases.  See repl.c's header for
 * the policy and why.
 *
 * Times are jiffies; "quiet" is write_quiet_ms in jiffies.
 */
#ifndef _PCACHE_REPL_POLICY_H
#define _PCACHE_REPL_POLICY_H

#include <linux/jiffies.h>
#include <linux/types.h>

#include "../mutant.h"

/*
 * A write collapsing replicas younger than this many quiet periods was
 * thrash: the page's quiet period doubles.
 */
#define REPL_BACKOFF_LIFE	8
/* Pages tracked (read counts kept) per page a node may replicate. */
#define REPL_TRACK_PER_CAP	4

/* The quiet period of a page whose backoff is @backoff. */
static inline unsigned long repl_policy_quiet(unsigned long quiet,
					      unsigned int backoff)
{
	return quiet << backoff;
}

/*
 * Is a page last written at @written (0: never written since tracked) in
 * its quiet period @period at @now?
 */
static inline bool repl_policy_in_quiet(unsigned long now,
					unsigned long written,
					unsigned long period)
{
	return written && time_before(now, written + period);
}

/*
 * The backoff of a page after a write at @now collapsed its replicas, the
 * oldest born at @born: one more (at most @max) if they lived less than
 * REPL_BACKOFF_LIFE quiet periods, else back to 0.
 */
static inline unsigned int repl_policy_backoff(unsigned int backoff,
					       unsigned int max,
					       unsigned long now,
					       unsigned long born,
					       unsigned long quiet)
{
	if (time_before(now, born + REPL_BACKOFF_LIFE *
			repl_policy_quiet(quiet, backoff)))
		return backoff < max || pcache_mutant(11) ? backoff + 1 :
							     backoff;
	return 0;
}

/* May a node with @reads reads of the page replicate it? */
static inline bool repl_policy_enough_reads(u32 reads,
					    unsigned int min_remote_reads)
{
	return reads >= min_remote_reads;
}

/* Replica pages a node of @present pages may hold at @percent. */
static inline unsigned long repl_policy_node_cap(unsigned long present,
						 unsigned int percent)
{
	return present / 100 * percent;
}

/* Pages whose read counts are kept, for @total pages of memory. */
static inline unsigned long repl_policy_track_max(unsigned long total,
						  unsigned int percent)
{
	return REPL_TRACK_PER_CAP * repl_policy_node_cap(total, percent);
}

#endif /* _PCACHE_REPL_POLICY_H */
