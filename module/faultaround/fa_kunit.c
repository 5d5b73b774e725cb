// SPDX-License-Identifier: GPL-2.0
/*
 * KUnit tests of adaptive fault-around's window policy
 * (faultaround/policy.h): the state word, what counts as near the last
 * window (inside it, one window after or before, not further), growth and
 * shrinking within the bounds, a scan's next page, a VMA that fits in
 * the largest window, the madvise hints over the history, and a VMA's
 * first fault.  Part of pcache_kunit.ko.
 */
#include <kunit/test.h>

#include "policy.h"

static void fa_state_round_trips(struct kunit *test)
{
	u64 s = fa_state_pack(0x3eef, 9, 0x123456789aULL, false);

	KUNIT_EXPECT_EQ(test, fa_state_tag(s), (u16)0x3eef);
	KUNIT_EXPECT_EQ(test, fa_state_order(s), 9U);
	KUNIT_EXPECT_EQ(test, fa_state_vpn(s), 0x123456789aULL);
	KUNIT_EXPECT_EQ(test, fa_state_start(s), 0x1234567800ULL);
	KUNIT_EXPECT_FALSE(test, fa_state_sampled(s));
	/* A virtual page number keeps its low FA_VPN_BITS bits. */
	s = fa_state_pack(1, 0, BIT_ULL(FA_VPN_BITS) | 5, true);
	KUNIT_EXPECT_EQ(test, fa_state_start(s), 5ULL);
	KUNIT_EXPECT_EQ(test, fa_state_tag(s), (u16)1);
	KUNIT_EXPECT_TRUE(test, fa_state_sampled(s));
	/* The tag keeps FA_TAG_BITS bits and leaves the sampled bit alone. */
	s = fa_state_pack(0xffff, 15, FA_VPN_MASK, false);
	KUNIT_EXPECT_EQ(test, fa_state_tag(s), (u16)0x7fff);
	KUNIT_EXPECT_EQ(test, fa_state_order(s), 15U);
	KUNIT_EXPECT_EQ(test, fa_state_vpn(s), FA_VPN_MASK);
	KUNIT_EXPECT_FALSE(test, fa_state_sampled(s));
}

static void fa_window_start_aligns(struct kunit *test)
{
	KUNIT_EXPECT_EQ(test, fa_window_start(0x1234, 4), 0x1230ULL);
	KUNIT_EXPECT_EQ(test, fa_window_start(0x1234, 0), 0x1234ULL);
	KUNIT_EXPECT_EQ(test, fa_window_start(0x12345, 9), 0x12200ULL);
}

static void fa_near_is_one_window_around(struct kunit *test)
{
	/* The last window: 16 pages from 0x1000. */
	KUNIT_EXPECT_TRUE(test, fa_policy_near(0x1000, 4, 0x1000));
	KUNIT_EXPECT_TRUE(test, fa_policy_near(0x1000, 4, 0x100f));
	/* The next window forwards, the one before backwards. */
	KUNIT_EXPECT_TRUE(test, fa_policy_near(0x1000, 4, 0x1010));
	KUNIT_EXPECT_TRUE(test, fa_policy_near(0x1000, 4, 0x101f));
	KUNIT_EXPECT_TRUE(test, fa_policy_near(0x1000, 4, 0x0ff0));
	/* Further: far. */
	KUNIT_EXPECT_FALSE(test, fa_policy_near(0x1000, 4, 0x1020));
	KUNIT_EXPECT_FALSE(test, fa_policy_near(0x1000, 4, 0x0fef));
	KUNIT_EXPECT_FALSE(test, fa_policy_near(0x1000, 4, 0x900000));
	/* Around page 0: the window before wraps, modulo 2^FA_VPN_BITS. */
	KUNIT_EXPECT_TRUE(test, fa_policy_near(0, 4, FA_VPN_MASK));
	KUNIT_EXPECT_TRUE(test, fa_policy_near(0, 4, 0x1f));
	KUNIT_EXPECT_FALSE(test, fa_policy_near(0, 4, 0x20));
}

static struct fa_facts fa_known(unsigned int order, u64 start, u64 vpn)
{
	return (struct fa_facts) {
		.known = true,
		.state = fa_state_pack(7, order, start, false),
		.vpn = vpn,
		.kernel_order = 4,
		.min_order = 0,
		.max_order = 9,
	};
}

static void fa_sequential_grows_to_max(struct kunit *test)
{
	enum fa_reason why;
	unsigned int order = 4;
	u64 vpn = 0x10000;
	int i;

	/* A fault on the page right after the window: a scan, max at once. */
	{
		struct fa_facts f = fa_known(4, 0x10000, 0x10010);

		KUNIT_EXPECT_EQ(test, fa_policy_order(&f, &why), 9U);
		KUNIT_EXPECT_EQ(test, why, FA_SCAN);
		f.max_order = 6;
		KUNIT_EXPECT_EQ(test, fa_policy_order(&f, &why), 6U);
		KUNIT_EXPECT_EQ(test, why, FA_SCAN);
	}
	/* Each fault a page further into the next window: it doubles. */
	for (i = 0; i < 5; i++) {
		struct fa_facts f = fa_known(order, fa_window_start(vpn, order),
					     vpn + BIT_ULL(order) + 1);

		vpn += BIT_ULL(order);
		order = fa_policy_order(&f, &why);
		KUNIT_EXPECT_EQ(test, why, FA_GROW);
	}
	KUNIT_EXPECT_EQ(test, order, 9U);
	{
		struct fa_facts f = fa_known(9, 0x20000, 0x20200);

		KUNIT_EXPECT_EQ(test, fa_policy_order(&f, &why), 9U);
		KUNIT_EXPECT_EQ(test, why, FA_KEEP);
	}
}

static void fa_small_vma_is_mapped_whole(struct kunit *test)
{
	enum fa_reason why;
	struct fa_facts f = fa_known(0, 0x1000, 0x9000);

	/* Far from a one-page window, but the VMA fits in the largest. */
	f.vma_pages = 300;
	KUNIT_EXPECT_EQ(test, fa_policy_order(&f, &why), 9U);
	KUNIT_EXPECT_EQ(test, why, FA_WHOLE);
	f.known = false;
	KUNIT_EXPECT_EQ(test, fa_policy_order(&f, &why), 9U);
	KUNIT_EXPECT_EQ(test, why, FA_WHOLE);
	/* "The largest" is max_bytes: a VMA above it is adaptive. */
	f.known = true;
	f.max_order = 8;
	KUNIT_EXPECT_EQ(test, fa_policy_order(&f, &why), 0U);
	KUNIT_EXPECT_EQ(test, why, FA_KEEP);
	f.vma_pages = 256;
	KUNIT_EXPECT_EQ(test, fa_policy_order(&f, &why), 8U);
	KUNIT_EXPECT_EQ(test, why, FA_WHOLE);
	/* MADV_RANDOM still gives min_bytes. */
	f.madv_random = true;
	KUNIT_EXPECT_EQ(test, fa_policy_order(&f, &why), 0U);
	KUNIT_EXPECT_EQ(test, why, FA_MADV_RANDOM);
}

static void fa_random_shrinks_to_min(struct kunit *test)
{
	enum fa_reason why;
	unsigned int order = 4;
	int i;

	for (i = 0; i < 4; i++) {
		struct fa_facts f = fa_known(order, 0x1000, 0x1000 + 0x777 * (i + 1));

		order = fa_policy_order(&f, &why);
		KUNIT_EXPECT_EQ(test, why, FA_SHRINK);
	}
	KUNIT_EXPECT_EQ(test, order, 0U);
	{
		struct fa_facts f = fa_known(0, 0x1000, 0x5000);

		KUNIT_EXPECT_EQ(test, fa_policy_order(&f, &why), 0U);
		KUNIT_EXPECT_EQ(test, why, FA_KEEP);
	}
}

static void fa_bounds_hold(struct kunit *test)
{
	enum fa_reason why;
	struct fa_facts f = fa_known(4, 0x1000, 0x1010);

	f.min_order = 2;
	f.max_order = 4;
	KUNIT_EXPECT_EQ(test, fa_policy_order(&f, &why), 4U);
	KUNIT_EXPECT_EQ(test, why, FA_KEEP);
	f.vpn = 0x9000;
	KUNIT_EXPECT_EQ(test, fa_policy_order(&f, &why), 3U);
	/* A history beyond new bounds is brought into them first. */
	f = fa_known(9, 0x1000, 0x9000);
	f.max_order = 5;
	KUNIT_EXPECT_EQ(test, fa_policy_order(&f, &why), 4U);
	KUNIT_EXPECT_EQ(test, why, FA_SHRINK);
	f = fa_known(0, 0x1000, 0x9000);
	f.min_order = 3;
	KUNIT_EXPECT_EQ(test, fa_policy_order(&f, &why), 3U);
	KUNIT_EXPECT_EQ(test, why, FA_KEEP);
}

static void fa_madvise_over_history(struct kunit *test)
{
	enum fa_reason why;
	struct fa_facts f = fa_known(4, 0x1000, 0x1010);

	f.madv_random = true;
	KUNIT_EXPECT_EQ(test, fa_policy_order(&f, &why), 0U);
	KUNIT_EXPECT_EQ(test, why, FA_MADV_RANDOM);
	f.min_order = 2;
	KUNIT_EXPECT_EQ(test, fa_policy_order(&f, &why), 2U);
	f.madv_random = false;
	f.madv_sequential = true;
	f.vpn = 0x900000;
	KUNIT_EXPECT_EQ(test, fa_policy_order(&f, &why), 9U);
	KUNIT_EXPECT_EQ(test, why, FA_MADV_SEQUENTIAL);
	f.max_order = 6;
	KUNIT_EXPECT_EQ(test, fa_policy_order(&f, &why), 6U);
}

static void fa_first_fault_takes_the_kernels(struct kunit *test)
{
	enum fa_reason why;
	struct fa_facts f = fa_known(9, 0x1000, 0x1010);

	f.known = false;
	KUNIT_EXPECT_EQ(test, fa_policy_order(&f, &why), 4U);
	KUNIT_EXPECT_EQ(test, why, FA_FIRST);
	f.max_order = 2;
	KUNIT_EXPECT_EQ(test, fa_policy_order(&f, &why), 2U);
	f.max_order = 9;
	f.min_order = 6;
	KUNIT_EXPECT_EQ(test, fa_policy_order(&f, &why), 6U);
	/* On the VMA's first page, where a scan begins: the largest. */
	f.min_order = 0;
	f.vma_first = true;
	KUNIT_EXPECT_EQ(test, fa_policy_order(&f, &why), 9U);
	KUNIT_EXPECT_EQ(test, why, FA_SCAN);
	/* With history, the first page is a fault like the others. */
	f = fa_known(2, 0x9000, 0x1000);
	f.vma_first = true;
	KUNIT_EXPECT_EQ(test, fa_policy_order(&f, &why), 1U);
	KUNIT_EXPECT_EQ(test, why, FA_SHRINK);
}

static void fa_retry_keeps_the_window(struct kunit *test)
{
	enum fa_reason why;
	struct fa_facts f = fa_known(2, 0x1000, 0x1000);

	/* The fault again at the same page: inside the window, it grows... */
	KUNIT_EXPECT_EQ(test, fa_policy_order(&f, &why), 3U);
	KUNIT_EXPECT_EQ(test, why, FA_GROW);
	/* ...unless it is the retry of that fault after its I/O. */
	f.retry = true;
	KUNIT_EXPECT_EQ(test, fa_policy_order(&f, &why), 2U);
	KUNIT_EXPECT_EQ(test, why, FA_KEEP);
	/* A cold random reader: each miss shrinks, its retry keeps. */
	f = fa_known(4, 0x1000, 0x9000);
	KUNIT_EXPECT_EQ(test, fa_policy_order(&f, &why), 3U);
	f = fa_known(3, 0x9000, 0x9000);
	f.retry = true;
	KUNIT_EXPECT_EQ(test, fa_policy_order(&f, &why), 3U);
	/* The hints still come first. */
	f.madv_sequential = true;
	KUNIT_EXPECT_EQ(test, fa_policy_order(&f, &why), 9U);
}

static struct kunit_case fa_policy_cases[] = {
	KUNIT_CASE(fa_state_round_trips),
	KUNIT_CASE(fa_window_start_aligns),
	KUNIT_CASE(fa_near_is_one_window_around),
	KUNIT_CASE(fa_sequential_grows_to_max),
	KUNIT_CASE(fa_small_vma_is_mapped_whole),
	KUNIT_CASE(fa_random_shrinks_to_min),
	KUNIT_CASE(fa_bounds_hold),
	KUNIT_CASE(fa_retry_keeps_the_window),
	KUNIT_CASE(fa_madvise_over_history),
	KUNIT_CASE(fa_first_fault_takes_the_kernels),
	{}
};

static struct kunit_suite fa_policy_suite = {
	.name = "pcache_faultaround_policy",
	.test_cases = fa_policy_cases,
};

kunit_test_suite(fa_policy_suite);
