// SPDX-License-Identifier: GPL-2.0
/*
 * KUnit tests of the replication policy (repl/policy.h): the quiet period
 * after a write, its backoff, min_remote_reads and the node cap, with
 * their edge cases (never written, the end of a period, jiffies wrapping,
 * write_quiet_ms 0, the backoff cap, small nodes).  Part of
 * pcache_kunit.ko.
 */
#include <kunit/test.h>

#include "policy.h"

static void repl_quiet_doubles_per_backoff(struct kunit *test)
{
	KUNIT_EXPECT_EQ(test, repl_policy_quiet(100, 0), 100UL);
	KUNIT_EXPECT_EQ(test, repl_policy_quiet(100, 1), 200UL);
	KUNIT_EXPECT_EQ(test, repl_policy_quiet(100, 6), 6400UL);
	/* write_quiet_ms 0: no quiet period, whatever the backoff. */
	KUNIT_EXPECT_EQ(test, repl_policy_quiet(0, 10), 0UL);
}

static void repl_never_written_is_never_quiet(struct kunit *test)
{
	KUNIT_EXPECT_FALSE(test, repl_policy_in_quiet(1000, 0, 100));
	KUNIT_EXPECT_FALSE(test, repl_policy_in_quiet(1, 0, ULONG_MAX / 4));
}

static void repl_quiet_period_ends_on_time(struct kunit *test)
{
	KUNIT_EXPECT_TRUE(test, repl_policy_in_quiet(1000, 1000, 100));
	KUNIT_EXPECT_TRUE(test, repl_policy_in_quiet(1099, 1000, 100));
	KUNIT_EXPECT_FALSE(test, repl_policy_in_quiet(1100, 1000, 100));
	KUNIT_EXPECT_FALSE(test, repl_policy_in_quiet(5000, 1000, 100));
	/* A zero period is never quiet, even at the write itself. */
	KUNIT_EXPECT_FALSE(test, repl_policy_in_quiet(1000, 1000, 0));
}

static void repl_quiet_period_across_jiffies_wrap(struct kunit *test)
{
	unsigned long w = ULONG_MAX - 10;

	KUNIT_EXPECT_TRUE(test, repl_policy_in_quiet(w + 5, w, 100));
	KUNIT_EXPECT_TRUE(test, repl_policy_in_quiet(w + 50, w, 100));
	KUNIT_EXPECT_FALSE(test, repl_policy_in_quiet(w + 100, w, 100));
}

static void repl_backoff_grows_on_thrash(struct kunit *test)
{
	/* Replicas born at 1000, collapsed at 1100: younger than 8 x 100. */
	KUNIT_EXPECT_EQ(test, repl_policy_backoff(0, 6, 1100, 1000, 100), 1U);
	KUNIT_EXPECT_EQ(test, repl_policy_backoff(3, 6, 1100, 1000, 100), 4U);
	/* The limit is 8 quiet periods of the current (doubled) period. */
	KUNIT_EXPECT_EQ(test, repl_policy_backoff(1, 6, 1000 + 1599, 1000, 100),
			2U);
	KUNIT_EXPECT_EQ(test, repl_policy_backoff(1, 6, 1000 + 1600, 1000, 100),
			0U);
}

static void repl_backoff_is_capped(struct kunit *test)
{
	KUNIT_EXPECT_EQ(test, repl_policy_backoff(6, 6, 1100, 1000, 100), 6U);
	/* write_backoff_max 0 turns the backoff off. */
	KUNIT_EXPECT_EQ(test, repl_policy_backoff(0, 0, 1100, 1000, 100), 0U);
}

static void repl_backoff_resets_after_a_long_life(struct kunit *test)
{
	KUNIT_EXPECT_EQ(test, repl_policy_backoff(5, 6, 1000 + 8 * 3200,
						  1000, 100), 0U);
	KUNIT_EXPECT_EQ(test, repl_policy_backoff(0, 6, 100000, 1000, 100), 0U);
}

static void repl_backoff_without_quiet_period(struct kunit *test)
{
	/* write_quiet_ms 0: no replica is "young", the backoff stays 0. */
	KUNIT_EXPECT_EQ(test, repl_policy_backoff(0, 6, 1000, 1000, 0), 0U);
	KUNIT_EXPECT_EQ(test, repl_policy_backoff(2, 6, 1001, 1000, 0), 0U);
}

static void repl_backoff_across_jiffies_wrap(struct kunit *test)
{
	unsigned long born = ULONG_MAX - 10;

	KUNIT_EXPECT_EQ(test, repl_policy_backoff(0, 6, born + 20, born, 100),
			1U);
	KUNIT_EXPECT_EQ(test, repl_policy_backoff(0, 6, born + 900, born, 100),
			0U);
}

static void repl_min_remote_reads(struct kunit *test)
{
	KUNIT_EXPECT_FALSE(test, repl_policy_enough_reads(0, 1));
	KUNIT_EXPECT_TRUE(test, repl_policy_enough_reads(1, 1));
	KUNIT_EXPECT_FALSE(test, repl_policy_enough_reads(1, 2));
	KUNIT_EXPECT_TRUE(test, repl_policy_enough_reads(2, 2));
	KUNIT_EXPECT_TRUE(test, repl_policy_enough_reads(U32_MAX, 1000000));
}

static void repl_node_cap(struct kunit *test)
{
	KUNIT_EXPECT_EQ(test, repl_policy_node_cap(262144, 10), 26210UL);
	KUNIT_EXPECT_EQ(test, repl_policy_node_cap(262144, 100), 262100UL);
	KUNIT_EXPECT_EQ(test, repl_policy_node_cap(262144, 1), 2621UL);
	/* A node of fewer than 100 pages may hold no replica. */
	KUNIT_EXPECT_EQ(test, repl_policy_node_cap(99, 100), 0UL);
	KUNIT_EXPECT_EQ(test, repl_policy_node_cap(0, 10), 0UL);
}

static void repl_track_max(struct kunit *test)
{
	KUNIT_EXPECT_EQ(test, repl_policy_track_max(524288, 10),
			REPL_TRACK_PER_CAP * 52420UL);
	KUNIT_EXPECT_EQ(test, repl_policy_track_max(50, 10), 0UL);
}

static struct kunit_case repl_policy_cases[] = {
	KUNIT_CASE(repl_quiet_doubles_per_backoff),
	KUNIT_CASE(repl_never_written_is_never_quiet),
	KUNIT_CASE(repl_quiet_period_ends_on_time),
	KUNIT_CASE(repl_quiet_period_across_jiffies_wrap),
	KUNIT_CASE(repl_backoff_grows_on_thrash),
	KUNIT_CASE(repl_backoff_is_capped),
	KUNIT_CASE(repl_backoff_resets_after_a_long_life),
	KUNIT_CASE(repl_backoff_without_quiet_period),
	KUNIT_CASE(repl_backoff_across_jiffies_wrap),
	KUNIT_CASE(repl_min_remote_reads),
	KUNIT_CASE(repl_node_cap),
	KUNIT_CASE(repl_track_max),
	{}
};

static struct kunit_suite repl_policy_suite = {
	.name = "pcache_repl_policy",
	.test_cases = repl_policy_cases,
};

kunit_test_suite(repl_policy_suite);
