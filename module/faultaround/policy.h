/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Adaptive fault-around's window decisions, apart from the fault they are
 * taken on, so that KUnit (faultaround/fa_kunit.c) can test each rule.
 * faultaround.c reads a mapping's state and the fault's facts and asks
 * here.
 *
 * Windows are powers of two pages, kept as their order: do_fault_around()
 * maps the window of 2^order pages that holds the fault, aligned to its
 * size in the address space, clipped to the VMA (so it never crosses a
 * page table: 2^order <= PTRS_PER_PTE).
 */
#ifndef _PCACHE_FA_POLICY_H
#define _PCACHE_FA_POLICY_H

#include <linux/bits.h>
#include <linux/types.h>

#include "../mutant.h"

/* Why a window was chosen (each a tracepoint reason; some a counter). */
enum fa_reason {
	FA_FIRST,		/* no history: the kernel's window, bounded */
	FA_GROW,		/* at or next to the last window: doubled */
	FA_SHRINK,		/* away from it: halved */
	FA_KEEP,		/* at a bound already */
	FA_MADV_RANDOM,		/* MADV_RANDOM: min_bytes */
	FA_MADV_SEQUENTIAL,	/* MADV_SEQUENTIAL: max_bytes */
	FA_FIXED,		/* mode fixed: fixed_bytes */
	FA_WHOLE,		/* a VMA no larger than max_bytes: all of it */
	FA_SCAN,		/* a scan begins or goes on: max_bytes */
	FA_NR_REASONS
};

/*
 * A mapping's history, one u64 so that a fault reads and writes it whole
 * (faults of one VMA run in parallel under the mmap or VMA read lock; a
 * lost update costs one decision, never a torn state):
 *
 *   bits  0..43	the last fault's page (virtual page number, its low
 *			44 bits: all of it with 5-level paging's 56-bit user
 *			addresses); its window is the aligned 2^order pages
 *			that hold it
 *   bits 44..47	the last window's order
 *   bits 48..62	a tag of the VMA, so that a slot another VMA took over
 *			is not read as this one's history
 *   bit  63		the last window was sampled: the pages mapped around
 *			in it were mapped old, so that a touch shows
 */
#define FA_VPN_BITS	44
#define FA_ORDER_SHIFT	FA_VPN_BITS
#define FA_TAG_SHIFT	48
#define FA_TAG_BITS	15
#define FA_SAMPLED	BIT_ULL(63)
#define FA_VPN_MASK	(BIT_ULL(FA_VPN_BITS) - 1)

static inline u64 fa_state_pack(u16 tag, unsigned int order, u64 vpn,
				bool sampled)
{
	return (sampled ? FA_SAMPLED : 0) |
	       (u64)(tag & (BIT(FA_TAG_BITS) - 1)) << FA_TAG_SHIFT |
	       (u64)(order & 15) << FA_ORDER_SHIFT | (vpn & FA_VPN_MASK);
}

static inline u16 fa_state_tag(u64 s)
{
	return (s >> FA_TAG_SHIFT) & (BIT(FA_TAG_BITS) - 1);
}

static inline unsigned int fa_state_order(u64 s)
{
	return (s >> FA_ORDER_SHIFT) & 15;
}

static inline u64 fa_state_vpn(u64 s)
{
	return s & FA_VPN_MASK;
}

static inline bool fa_state_sampled(u64 s)
{
	return s & FA_SAMPLED;
}

/* The first page of the window of 2^@order pages that holds @vpn. */
static inline u64 fa_window_start(u64 vpn, unsigned int order)
{
	return vpn & ~(BIT_ULL(order) - 1) & FA_VPN_MASK;
}

/* The first page of the last window. */
static inline u64 fa_state_start(u64 s)
{
	return fa_window_start(fa_state_vpn(s), fa_state_order(s));
}

/*
 * Is the fault at @vpn at or next to the last window, of 2^@order pages
 * from @start: inside it (a page that was not cached yet when it was
 * mapped, as in a cold sequential read) or within one window's length
 * after or before it (a scan forwards or backwards that used the window)?
 * Compared modulo 2^FA_VPN_BITS, like the state.
 */
static inline bool fa_policy_near(u64 start, unsigned int order, u64 vpn)
{
	u64 n = BIT_ULL(order);
	u64 d = (vpn - start + n) & FA_VPN_MASK;

	if (pcache_mutant(17))
		return d < 2 * n;	/* a forward scan is "far" */
	return d < 3 * n;
}

/*
 * Is the fault at @vpn on the page right after the last window, of
 * 2^@order pages from @start: a forward scan that used all of it?
 */
static inline bool fa_policy_next(u64 start, unsigned int order, u64 vpn)
{
	return ((start + BIT_ULL(order)) & FA_VPN_MASK) == vpn;
}

/* What to do with a mapping's fault, given its history. */
struct fa_facts {
	bool known;		/* @state is this VMA's history */
	u64 state;
	u64 vpn;		/* the fault's virtual page number */
	bool madv_random;	/* VM_RAND_READ */
	bool madv_sequential;	/* VM_SEQ_READ */
	bool retry;		/* FAULT_FLAG_TRIED: the fault again, after I/O */
	unsigned long vma_pages; /* the VMA's size */
	bool vma_first;		/* the fault is on the VMA's first page */
	unsigned int kernel_order; /* the kernel's own window */
	unsigned int min_order, max_order;
};

static inline unsigned int fa_clamp_order(unsigned int order,
					  const struct fa_facts *f)
{
	if (pcache_mutant(18))
		return order > 9 ? 9 : order;	/* one page table, no bounds */
	return order < f->min_order ? f->min_order :
	       order > f->max_order ? f->max_order : order;
}

/*
 * The adaptive window's order for a fault, and why, in this order:
 *  - the madvise hints, whatever the history;
 *  - a VMA no larger than the largest window gets that window, which maps
 *    all of it that is cached (a library's segments, a small file): what
 *    a fault there can cost is bounded by the VMA, and every later fault
 *    that it saves is one less (exec-heavy loads fault less, as with the
 *    kernel's 2 MiB window);
 *  - without history, the kernel's window, or the largest one if the
 *    fault is on the VMA's first page (where a scan begins);
 *  - a retried fault keeps its window;
 *  - a fault on the page right after the last window (a forward scan that
 *    used all of it) gets the largest window at once;
 *  - else the last window doubles when the fault is near it and halves
 *    when it is not,
 * always within min_order..max_order.
 */
static inline unsigned int fa_policy_order(const struct fa_facts *f,
					   enum fa_reason *why)
{
	unsigned int old, order;

	if (f->madv_random) {
		*why = FA_MADV_RANDOM;
		return f->min_order;
	}
	if (f->madv_sequential) {
		*why = FA_MADV_SEQUENTIAL;
		return f->max_order;
	}
	if (f->vma_pages && f->vma_pages <= BIT(f->max_order) &&
	    !pcache_mutant(21)) {
		*why = FA_WHOLE;
		return f->max_order;
	}
	if (!f->known) {
		if (f->vma_first) {
			*why = FA_SCAN;
			return f->max_order;
		}
		*why = FA_FIRST;
		return fa_clamp_order(f->kernel_order, f);
	}
	old = fa_clamp_order(fa_state_order(f->state), f);
	/*
	 * A fault retried after its page was read (the first try dropped the
	 * lock for the I/O) is the same fault: the window its first try
	 * chose, not a fault inside the last window (which would grow it, so
	 * that every miss of a cold random reader undid its shrinking).
	 */
	if (f->retry && !pcache_mutant(20)) {
		*why = FA_KEEP;
		return old;
	}
	if (fa_policy_next(fa_state_start(f->state), fa_state_order(f->state),
			   f->vpn) && !pcache_mutant(22)) {
		*why = old < f->max_order ? FA_SCAN : FA_KEEP;
		return f->max_order;
	}
	if (fa_policy_near(fa_state_start(f->state), fa_state_order(f->state),
			   f->vpn))
		order = old + 1;
	else
		order = old ? old - 1 : 0;
	order = fa_clamp_order(order, f);
	if (order > old)
		*why = FA_GROW;
	else if (order < old)
		*why = FA_SHRINK;
	else
		*why = FA_KEEP;
	return order;
}

#endif /* _PCACHE_FA_POLICY_H */
