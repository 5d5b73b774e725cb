/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Fork-on-write's refusal decisions, apart from the folio they are taken
 * on, so that KUnit (fork/fork_kunit.c) can test each rule and their
 * order.  fork.c gathers the facts of a folio and asks here.
 */
#ifndef _PCACHE_FORK_POLICY_H
#define _PCACHE_FORK_POLICY_H

#include <linux/bits.h>
#include <linux/buffer_head.h>
#include <linux/types.h>

#include "../mutant.h"

/* Why a folio was not forked (each a stats counter, refused_<name>). */
enum fork_reason {
	FORK_PINNED,		/* GUP pin (O_DIRECT, io_uring, RDMA) */
	FORK_REFS,		/* other references: pipes, ptrace, ... */
	FORK_NOMEM,		/* no memory for the copy */
	FORK_DIRTY,		/* folio or a buffer dirty */
	FORK_LARGE,		/* large folio */
	FORK_UNSUPPORTED,	/* not a plain buffer-head file folio */
	FORK_NR_REASONS		/* none: it may be forked */
};

/* The buffer state a copy takes over; I/O and private bits stay behind. */
#define FORK_BH_COPY	(BIT(BH_Uptodate) | BIT(BH_Req) | BIT(BH_Mapped) | \
			 BIT(BH_New) | BIT(BH_Delay) | BIT(BH_Boundary) | \
			 BIT(BH_Unwritten) | BIT(BH_Meta) | BIT(BH_Prio))
#define FORK_BH_ANY	(BIT(BH_PrivateStart) - 1)

/*
 * References on a candidate that are not someone else's, besides one per
 * mapping PTE: the page cache's, the caller's, and the buffer heads' if
 * it has them.
 */
#define FORK_BASE_REFS	2

static inline int fork_policy_expected_refs(bool has_private)
{
	return FORK_BASE_REFS + has_private;
}

/*
 * May a copy take over a buffer head in state @b_state (with b_private
 * set if @has_private)?  Not a dirty one, nor one with delayed allocation
 * (the reservation is the old folio's), journal or fs-private state.
 */
static inline enum fork_reason fork_policy_buffer(unsigned long b_state,
						  bool has_private)
{
	if (b_state & BIT(BH_Dirty))
		return FORK_DIRTY;
	if (b_state & BIT(BH_Delay))
		return FORK_UNSUPPORTED;
	if (b_state & ~FORK_BH_ANY)
		return FORK_UNSUPPORTED;
	if (has_private)
		return FORK_UNSUPPORTED;
	return FORK_NR_REASONS;
}

/* What fork_folio() knows of a folio under writeback that a writer wants. */
struct fork_facts {
	bool large;		/* folio_test_large() */
	bool supported;		/* a buffer-head mapping fork can copy */
	bool uptodate;
	bool dirty;
	enum fork_reason buffers; /* the first refusal of its buffer heads */
	bool pinned;		/* folio_maybe_dma_pinned() */
	int refs;		/* references, less one per mapping PTE */
	int expected;		/* fork_policy_expected_refs() */
};

/*
 * The refusal, in this order (the first that applies is counted), or
 * FORK_NR_REASONS: the folio may be forked.
 */
static inline enum fork_reason fork_policy_refusal(const struct fork_facts *f)
{
	if (f->large)
		return FORK_LARGE;
	if (!f->supported || !f->uptodate)
		return FORK_UNSUPPORTED;
	if (f->dirty)
		return FORK_DIRTY;
	if (f->buffers != FORK_NR_REASONS)
		return f->buffers;
	if (pcache_mutant(12) && f->refs != f->expected)
		return FORK_REFS;
	if (f->pinned)
		return FORK_PINNED;
	if (f->refs != f->expected)
		return FORK_REFS;
	return FORK_NR_REASONS;
}

#endif /* _PCACHE_FORK_POLICY_H */
