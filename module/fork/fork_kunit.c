// SPDX-License-Identifier: GPL-2.0
/*
 * KUnit tests of fork-on-write's refusal decisions (fork/policy.h): each
 * reason, the order in which they are counted, the reference arithmetic
 * (page cache, caller, buffer heads, one per PTE) and the buffer head
 * states a copy may take over.  Part of pcache_kunit.ko.
 */
#include <kunit/test.h>

#include "policy.h"

/* A folio fork may copy: uptodate, clean, plain buffers, no extra refs. */
static struct fork_facts fork_ok(void)
{
	return (struct fork_facts) {
		.supported = true,
		.uptodate = true,
		.buffers = FORK_NR_REASONS,
		.refs = fork_policy_expected_refs(true),
		.expected = fork_policy_expected_refs(true),
	};
}

static void fork_plain_folio_is_forked(struct kunit *test)
{
	struct fork_facts f = fork_ok();

	KUNIT_EXPECT_EQ(test, fork_policy_refusal(&f), FORK_NR_REASONS);
}

static void fork_each_reason(struct kunit *test)
{
	struct fork_facts f;

	f = fork_ok();
	f.large = true;
	KUNIT_EXPECT_EQ(test, fork_policy_refusal(&f), FORK_LARGE);
	f = fork_ok();
	f.supported = false;
	KUNIT_EXPECT_EQ(test, fork_policy_refusal(&f), FORK_UNSUPPORTED);
	f = fork_ok();
	f.uptodate = false;
	KUNIT_EXPECT_EQ(test, fork_policy_refusal(&f), FORK_UNSUPPORTED);
	f = fork_ok();
	f.dirty = true;
	KUNIT_EXPECT_EQ(test, fork_policy_refusal(&f), FORK_DIRTY);
	f = fork_ok();
	f.buffers = FORK_DIRTY;
	KUNIT_EXPECT_EQ(test, fork_policy_refusal(&f), FORK_DIRTY);
	f = fork_ok();
	f.buffers = FORK_UNSUPPORTED;
	KUNIT_EXPECT_EQ(test, fork_policy_refusal(&f), FORK_UNSUPPORTED);
	f = fork_ok();
	f.pinned = true;
	KUNIT_EXPECT_EQ(test, fork_policy_refusal(&f), FORK_PINNED);
	f = fork_ok();
	f.refs++;
	KUNIT_EXPECT_EQ(test, fork_policy_refusal(&f), FORK_REFS);
}

/*
 * A pinned folio also has more references than expected: it must count
 * as pinned (the O_DIRECT case), not as refs.  A large dirty folio counts
 * as large: its buffers are never looked at.
 */
static void fork_reason_order(struct kunit *test)
{
	struct fork_facts f = fork_ok();

	f.pinned = true;
	f.refs += 1024;
	KUNIT_EXPECT_EQ(test, fork_policy_refusal(&f), FORK_PINNED);
	f.dirty = true;
	KUNIT_EXPECT_EQ(test, fork_policy_refusal(&f), FORK_DIRTY);
	f.uptodate = false;
	KUNIT_EXPECT_EQ(test, fork_policy_refusal(&f), FORK_UNSUPPORTED);
	f.large = true;
	KUNIT_EXPECT_EQ(test, fork_policy_refusal(&f), FORK_LARGE);
}

static void fork_expected_refs(struct kunit *test)
{
	struct fork_facts f = fork_ok();

	/* ext2's mpage folios have no buffer heads: one fewer. */
	KUNIT_EXPECT_EQ(test, fork_policy_expected_refs(false), 2);
	KUNIT_EXPECT_EQ(test, fork_policy_expected_refs(true), 3);
	f.expected = fork_policy_expected_refs(false);
	f.refs = 2;
	KUNIT_EXPECT_EQ(test, fork_policy_refusal(&f), FORK_NR_REASONS);
	/* Fewer references than expected is someone else's business too. */
	f.refs = 1;
	KUNIT_EXPECT_EQ(test, fork_policy_refusal(&f), FORK_REFS);
}

static void fork_buffer_states(struct kunit *test)
{
	unsigned long clean = BIT(BH_Uptodate) | BIT(BH_Mapped) | BIT(BH_Req);

	KUNIT_EXPECT_EQ(test, fork_policy_buffer(clean, false), FORK_NR_REASONS);
	KUNIT_EXPECT_EQ(test, fork_policy_buffer(0, false), FORK_NR_REASONS);
	KUNIT_EXPECT_EQ(test, fork_policy_buffer(clean | BIT(BH_Unwritten) |
						 BIT(BH_New), false),
			FORK_NR_REASONS);
	KUNIT_EXPECT_EQ(test, fork_policy_buffer(clean | BIT(BH_Dirty), false),
			FORK_DIRTY);
	/* Delayed allocation: the reservation belongs to the old folio. */
	KUNIT_EXPECT_EQ(test, fork_policy_buffer(clean | BIT(BH_Delay), false),
			FORK_UNSUPPORTED);
	/* Dirty is counted first. */
	KUNIT_EXPECT_EQ(test, fork_policy_buffer(BIT(BH_Dirty) | BIT(BH_Delay),
						 false), FORK_DIRTY);
	/* jbd2's and filesystems' own bits, and b_private. */
	KUNIT_EXPECT_EQ(test, fork_policy_buffer(clean | BIT(BH_PrivateStart),
						 false), FORK_UNSUPPORTED);
	KUNIT_EXPECT_EQ(test, fork_policy_buffer(clean, true), FORK_UNSUPPORTED);
}

static void fork_copied_state_is_not_private(struct kunit *test)
{
	/* What a copy takes over is state a copy may have. */
	KUNIT_EXPECT_EQ(test, FORK_BH_COPY & ~FORK_BH_ANY, 0UL);
	KUNIT_EXPECT_EQ(test, FORK_BH_COPY & BIT(BH_Dirty), 0UL);
	KUNIT_EXPECT_EQ(test, FORK_BH_COPY & BIT(BH_Lock), 0UL);
	KUNIT_EXPECT_EQ(test, FORK_BH_COPY & BIT(BH_Async_Write), 0UL);
}

static struct kunit_case fork_policy_cases[] = {
	KUNIT_CASE(fork_plain_folio_is_forked),
	KUNIT_CASE(fork_each_reason),
	KUNIT_CASE(fork_reason_order),
	KUNIT_CASE(fork_expected_refs),
	KUNIT_CASE(fork_buffer_states),
	KUNIT_CASE(fork_copied_state_is_not_private),
	{}
};

static struct kunit_suite fork_policy_suite = {
	.name = "pcache_fork_policy",
	.test_cases = fork_policy_cases,
};

kunit_test_suite(fork_policy_suite);
