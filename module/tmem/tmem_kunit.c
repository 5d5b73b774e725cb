// SPDX-License-Identifier: GPL-2.0
/*
 * KUnit tests of the tmem core: one case per rule in tmem.c's opening
 * comment.  Built as its own module, pcache_kunit.ko, so that loading
 * pcache.ko never runs them; selftests/pcache_kunit.sh loads it in the
 * guest and reports every case.
 *
 * The tests run against a counting wrapper of the raw backend that can
 * be told to refuse the next store, to take the reject path and to check
 * that every stored page is freed exactly once.
 */
#include <kunit/test.h>
#include <linux/highmem.h>
#include <linux/module.h>

#include "tmem.h"

struct test_be {
	int stored, freed, fail_next;
};

static int test_store(void *priv, struct page *page, unsigned long *handle,
		      gfp_t gfp)
{
	struct test_be *t = priv;
	int ret;

	if (t->fail_next) {
		t->fail_next = 0;
		return -E2BIG;
	}
	ret = tmem_backend_raw.store(NULL, page, handle, gfp);
	if (!ret)
		t->stored++;
	return ret;
}

static int test_load(void *priv, unsigned long handle, struct page *page)
{
	return tmem_backend_raw.load(NULL, handle, page);
}

static void test_free(void *priv, unsigned long handle)
{
	struct test_be *t = priv;

	t->freed++;
	tmem_backend_raw.free(NULL, handle);
}

struct tmem_test {
	struct test_be counts;
	struct tmem_backend be;
	struct page *in, *out;
};

static int tmem_test_init(struct kunit *test)
{
	struct tmem_test *t = kunit_kzalloc(test, sizeof(*t), GFP_KERNEL);

	KUNIT_ASSERT_NOT_NULL(test, t);
	t->be = (struct tmem_backend){
		.name = "test", .store = test_store, .load = test_load,
		.free = test_free, .priv = &t->counts,
	};
	t->in = alloc_page(GFP_KERNEL);
	t->out = alloc_page(GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, t->in);
	KUNIT_ASSERT_NOT_NULL(test, t->out);
	test->priv = t;
	return 0;
}

static void tmem_test_exit(struct kunit *test)
{
	struct tmem_test *t = test->priv;

	__free_page(t->in);
	__free_page(t->out);
}

/* Fill t->in with a pattern of @seed; check that t->out holds it. */
static void fill(struct tmem_test *t, u8 seed)
{
	u8 *p = kmap_local_page(t->in);
	int i;

	for (i = 0; i < PAGE_SIZE; i++)
		p[i] = seed + i * 7;
	kunmap_local(p);
}

static bool holds(struct tmem_test *t, u8 seed)
{
	u8 *p = kmap_local_page(t->out);
	bool ok = true;
	int i;

	for (i = 0; i < PAGE_SIZE && ok; i++)
		ok = p[i] == (u8)(seed + i * 7);
	kunmap_local(p);
	return ok;
}

static int new_pool(struct kunit *test, unsigned int flags)
{
	struct tmem_test *t = test->priv;
	uuid_t uuid;
	int id;

	uuid_gen(&uuid);
	id = tmem_new_pool(&t->be, flags, &uuid);
	KUNIT_ASSERT_GE(test, id, 0);
	return id;
}

/* Every stored page was freed once the pool is gone. */
static void destroy_and_check(struct kunit *test, int id)
{
	struct tmem_test *t = test->priv;

	KUNIT_EXPECT_EQ(test, tmem_destroy_pool(id), 0);
	KUNIT_EXPECT_EQ(test, t->counts.freed, t->counts.stored);
}

static void tmem_persistent_put_get(struct kunit *test)
{
	struct tmem_test *t = test->priv;
	int id = new_pool(test, TMEM_POOL_PERSIST);

	fill(t, 1);
	KUNIT_EXPECT_EQ(test, tmem_put_page(id, 42, 7, t->in, GFP_KERNEL), 0);
	KUNIT_EXPECT_EQ(test, tmem_pool_pages(id), 1);
	KUNIT_EXPECT_EQ(test, tmem_get_page(id, 42, 7, t->out), 0);
	KUNIT_EXPECT_TRUE(test, holds(t, 1));
	KUNIT_EXPECT_EQ(test, tmem_get_page(id, 42, 8, t->out), -ENOENT);
	KUNIT_EXPECT_EQ(test, tmem_get_page(id, 43, 7, t->out), -ENOENT);
	destroy_and_check(test, id);
}

static void tmem_private_get_is_exclusive(struct kunit *test)
{
	struct tmem_test *t = test->priv;
	int id = new_pool(test, TMEM_POOL_PERSIST);

	fill(t, 2);
	KUNIT_ASSERT_EQ(test, tmem_put_page(id, 1, 0, t->in, GFP_KERNEL), 0);
	KUNIT_EXPECT_EQ(test, tmem_get_page(id, 1, 0, t->out), 0);
	KUNIT_EXPECT_TRUE(test, holds(t, 2));
	KUNIT_EXPECT_EQ(test, tmem_get_page(id, 1, 0, t->out), -ENOENT);
	KUNIT_EXPECT_EQ(test, tmem_pool_pages(id), 0);
	KUNIT_EXPECT_EQ(test, t->counts.freed, 1);
	destroy_and_check(test, id);
}

static void tmem_shared_get_get(struct kunit *test)
{
	struct tmem_test *t = test->priv;
	int id = new_pool(test, TMEM_POOL_SHARED);

	fill(t, 3);
	KUNIT_ASSERT_EQ(test, tmem_put_page(id, 5, 5, t->in, GFP_KERNEL), 0);
	KUNIT_EXPECT_EQ(test, tmem_get_page(id, 5, 5, t->out), 0);
	KUNIT_EXPECT_TRUE(test, holds(t, 3));
	memset(page_address(t->out), 0, PAGE_SIZE);
	KUNIT_EXPECT_EQ(test, tmem_get_page(id, 5, 5, t->out), 0);
	KUNIT_EXPECT_TRUE(test, holds(t, 3));
	KUNIT_EXPECT_EQ(test, tmem_pool_pages(id), 1);
	destroy_and_check(test, id);
}

static void tmem_shared_pool_by_uuid(struct kunit *test)
{
	struct tmem_test *t = test->priv;
	uuid_t a, b;
	int id1, id2, id3;

	uuid_gen(&a);
	uuid_gen(&b);
	id1 = tmem_new_pool(&t->be, TMEM_POOL_SHARED, &a);
	id2 = tmem_new_pool(&t->be, TMEM_POOL_SHARED, &a);
	id3 = tmem_new_pool(&t->be, TMEM_POOL_SHARED, &b);
	KUNIT_ASSERT_GE(test, id1, 0);
	KUNIT_EXPECT_EQ(test, id2, id1);
	KUNIT_EXPECT_NE(test, id3, id1);
	fill(t, 4);
	KUNIT_ASSERT_EQ(test, tmem_put_page(id1, 9, 9, t->in, GFP_KERNEL), 0);
	/* One user leaves: the pool and its page stay for the other. */
	KUNIT_EXPECT_EQ(test, tmem_destroy_pool(id1), 0);
	KUNIT_EXPECT_EQ(test, tmem_get_page(id2, 9, 9, t->out), 0);
	KUNIT_EXPECT_TRUE(test, holds(t, 4));
	destroy_and_check(test, id2);
	KUNIT_EXPECT_EQ(test, tmem_get_page(id1, 9, 9, t->out), -EINVAL);
	KUNIT_EXPECT_EQ(test, tmem_destroy_pool(id3), 0);
}

static void tmem_put_put_get(struct kunit *test)
{
	struct tmem_test *t = test->priv;
	int id = new_pool(test, TMEM_POOL_PERSIST);

	fill(t, 5);
	KUNIT_ASSERT_EQ(test, tmem_put_page(id, 3, 1, t->in, GFP_KERNEL), 0);
	fill(t, 6);
	KUNIT_ASSERT_EQ(test, tmem_put_page(id, 3, 1, t->in, GFP_KERNEL), 0);
	KUNIT_EXPECT_EQ(test, tmem_pool_pages(id), 1);
	KUNIT_EXPECT_EQ(test, t->counts.freed, 1);	/* D1 went at once */
	KUNIT_EXPECT_EQ(test, tmem_get_page(id, 3, 1, t->out), 0);
	KUNIT_EXPECT_TRUE(test, holds(t, 6));
	destroy_and_check(test, id);
}

static void tmem_failed_put_flushes_older(struct kunit *test)
{
	struct tmem_test *t = test->priv;
	int id = new_pool(test, TMEM_POOL_PERSIST);

	fill(t, 7);
	KUNIT_ASSERT_EQ(test, tmem_put_page(id, 4, 2, t->in, GFP_KERNEL), 0);
	fill(t, 8);
	t->counts.fail_next = 1;
	KUNIT_EXPECT_EQ(test, tmem_put_page(id, 4, 2, t->in, GFP_KERNEL), -E2BIG);
	/* Neither D2 (rejected) nor D1 (stale) may come back. */
	KUNIT_EXPECT_EQ(test, tmem_get_page(id, 4, 2, t->out), -ENOENT);
	KUNIT_EXPECT_EQ(test, tmem_pool_pages(id), 0);
	destroy_and_check(test, id);
}

static void tmem_flush_page_drops_one(struct kunit *test)
{
	struct tmem_test *t = test->priv;
	int id = new_pool(test, TMEM_POOL_PERSIST);

	fill(t, 9);
	KUNIT_ASSERT_EQ(test, tmem_put_page(id, 6, 0, t->in, GFP_KERNEL), 0);
	KUNIT_ASSERT_EQ(test, tmem_put_page(id, 6, 1, t->in, GFP_KERNEL), 0);
	KUNIT_EXPECT_EQ(test, tmem_flush_page(id, 6, 0), 0);
	KUNIT_EXPECT_EQ(test, tmem_flush_page(id, 6, 0), -ENOENT);
	KUNIT_EXPECT_EQ(test, tmem_get_page(id, 6, 0, t->out), -ENOENT);
	KUNIT_EXPECT_EQ(test, tmem_get_page(id, 6, 1, t->out), 0);
	KUNIT_EXPECT_TRUE(test, holds(t, 9));
	destroy_and_check(test, id);
}

static void tmem_flush_object_drops_all(struct kunit *test)
{
	struct tmem_test *t = test->priv;
	int id = new_pool(test, TMEM_POOL_PERSIST);
	u32 i;

	fill(t, 10);
	for (i = 0; i < 16; i++)
		KUNIT_ASSERT_EQ(test, tmem_put_page(id, 100, i * 1000, t->in,
						    GFP_KERNEL), 0);
	KUNIT_ASSERT_EQ(test, tmem_put_page(id, 101, 0, t->in, GFP_KERNEL), 0);
	KUNIT_EXPECT_EQ(test, tmem_flush_object(id, 100), 16);
	for (i = 0; i < 16; i++)
		KUNIT_EXPECT_EQ(test, tmem_get_page(id, 100, i * 1000, t->out),
				-ENOENT);
	KUNIT_EXPECT_EQ(test, tmem_pool_pages(id), 1);
	KUNIT_EXPECT_EQ(test, tmem_get_page(id, 101, 0, t->out), 0);
	KUNIT_EXPECT_TRUE(test, holds(t, 10));
	destroy_and_check(test, id);
}

static void tmem_handles_are_64_and_32_bit(struct kunit *test)
{
	struct tmem_test *t = test->priv;
	int id = new_pool(test, TMEM_POOL_PERSIST);

	fill(t, 11);
	KUNIT_ASSERT_EQ(test, tmem_put_page(id, U64_MAX, U32_MAX, t->in,
					    GFP_KERNEL), 0);
	fill(t, 12);
	KUNIT_ASSERT_EQ(test, tmem_put_page(id, U64_MAX - 1, U32_MAX, t->in,
					    GFP_KERNEL), 0);
	KUNIT_EXPECT_EQ(test, tmem_get_page(id, U64_MAX, U32_MAX, t->out), 0);
	KUNIT_EXPECT_TRUE(test, holds(t, 11));
	destroy_and_check(test, id);
}

static void tmem_destroy_frees_everything(struct kunit *test)
{
	struct tmem_test *t = test->priv;
	int id = new_pool(test, 0);	/* ephemeral, private */
	u32 i;

	fill(t, 13);
	for (i = 0; i < 64; i++)
		KUNIT_ASSERT_EQ(test, tmem_put_page(id, i % 4, i, t->in,
						    GFP_KERNEL), 0);
	KUNIT_EXPECT_EQ(test, tmem_pool_pages(id), 64);
	destroy_and_check(test, id);
	KUNIT_EXPECT_EQ(test, t->counts.freed, 64);
	KUNIT_EXPECT_EQ(test, tmem_pool_pages(id), -EINVAL);
}

static void tmem_bad_arguments(struct kunit *test)
{
	struct tmem_test *t = test->priv;

	KUNIT_EXPECT_EQ(test, tmem_new_pool(NULL, 0, NULL), -EINVAL);
	KUNIT_EXPECT_EQ(test, tmem_new_pool(&t->be, BIT(7), NULL), -EINVAL);
	KUNIT_EXPECT_EQ(test, tmem_new_pool(&t->be, TMEM_POOL_SHARED, NULL),
			-EINVAL);
	KUNIT_EXPECT_EQ(test, tmem_put_page(-1, 0, 0, t->in, GFP_KERNEL), -EINVAL);
	KUNIT_EXPECT_EQ(test, tmem_get_page(INT_MAX, 0, 0, t->out), -EINVAL);
	KUNIT_EXPECT_EQ(test, tmem_destroy_pool(INT_MAX), -EINVAL);
}

/* Peek: a get that leaves the page, whatever the pool. */
static void tmem_peek_keeps_the_page(struct kunit *test)
{
	struct tmem_test *t = test->priv;
	int id = new_pool(test, TMEM_POOL_PERSIST);

	fill(t, 14);
	KUNIT_ASSERT_EQ(test, tmem_put_page(id, 3, 3, t->in, GFP_KERNEL), 0);
	KUNIT_EXPECT_EQ(test, tmem_peek_page(id, 3, 3, NULL), 0);
	KUNIT_EXPECT_EQ(test, tmem_peek_page(id, 3, 3, t->out), 0);
	KUNIT_EXPECT_TRUE(test, holds(t, 14));
	KUNIT_EXPECT_EQ(test, tmem_pool_pages(id), 1);
	KUNIT_EXPECT_EQ(test, tmem_peek_page(id, 3, 4, NULL), -ENOENT);
	KUNIT_EXPECT_EQ(test, tmem_get_page(id, 3, 3, t->out), 0);
	KUNIT_EXPECT_EQ(test, tmem_peek_page(id, 3, 3, NULL), -ENOENT);
	destroy_and_check(test, id);
}

/* flush_range drops exactly the pages in the range, of that object. */
static void tmem_flush_range_drops_the_range(struct kunit *test)
{
	struct tmem_test *t = test->priv;
	int id = new_pool(test, TMEM_POOL_PERSIST);
	u32 i;

	fill(t, 15);
	for (i = 0; i < 32; i++) {
		KUNIT_ASSERT_EQ(test, tmem_put_page(id, 5, i, t->in, GFP_KERNEL), 0);
		KUNIT_ASSERT_EQ(test, tmem_put_page(id, 6, i, t->in, GFP_KERNEL), 0);
	}
	KUNIT_EXPECT_EQ(test, tmem_flush_range(id, 5, 8, 15), 8);
	for (i = 0; i < 32; i++)
		KUNIT_EXPECT_EQ(test, tmem_peek_page(id, 5, i, NULL),
				i >= 8 && i <= 15 ? -ENOENT : 0);
	KUNIT_EXPECT_EQ(test, tmem_flush_range(id, 5, 0, U32_MAX), 24);
	KUNIT_EXPECT_EQ(test, tmem_flush_range(id, 5, 0, 100), 0);
	/* The object's last page going takes the object too. */
	KUNIT_EXPECT_EQ(test, tmem_flush_range(id, 6, 0, 31), 32);
	KUNIT_EXPECT_EQ(test, tmem_pool_pages(id), 0);
	KUNIT_EXPECT_EQ(test, t->counts.freed, 64);
	destroy_and_check(test, id);
}

/* Oldest first: eviction, tmem_oldest() and tmem_touch() follow put order. */
static void tmem_oldest_first(struct kunit *test)
{
	struct tmem_test *t = test->priv;
	int eph = new_pool(test, 0), per = new_pool(test, TMEM_POOL_PERSIST);
	u64 oid;
	u32 i, index;

	fill(t, 16);
	for (i = 0; i < 8; i++) {
		KUNIT_ASSERT_EQ(test, tmem_put_page(eph, 1, i, t->in, GFP_KERNEL), 0);
		KUNIT_ASSERT_EQ(test, tmem_put_page(per, 2, i, t->in, GFP_KERNEL), 0);
	}
	/* A put again of page 0 makes it the newest. */
	KUNIT_ASSERT_EQ(test, tmem_put_page(eph, 1, 0, t->in, GFP_KERNEL), 0);
	KUNIT_EXPECT_EQ(test, tmem_evict_oldest(eph, 3), 3);
	for (i = 0; i < 8; i++)
		KUNIT_EXPECT_EQ(test, tmem_peek_page(eph, 1, i, NULL),
				i >= 1 && i <= 3 ? -ENOENT : 0);
	KUNIT_EXPECT_EQ(test, tmem_evict_oldest(eph, 100), 5);
	KUNIT_EXPECT_EQ(test, tmem_pool_pages(eph), 0);
	KUNIT_EXPECT_EQ(test, tmem_oldest(eph, &oid, &index), -ENOENT);
	/* A persistent pool never loses a page to eviction. */
	KUNIT_EXPECT_EQ(test, tmem_evict_oldest(per, 1), -EINVAL);
	KUNIT_EXPECT_EQ(test, tmem_oldest(per, &oid, &index), 0);
	KUNIT_EXPECT_EQ(test, oid, 2);
	KUNIT_EXPECT_EQ(test, index, 0);
	KUNIT_EXPECT_EQ(test, tmem_touch(per, 2, 0), 0);
	KUNIT_EXPECT_EQ(test, tmem_oldest(per, &oid, &index), 0);
	KUNIT_EXPECT_EQ(test, index, 1);
	KUNIT_EXPECT_EQ(test, tmem_touch(per, 2, 99), -ENOENT);
	KUNIT_EXPECT_EQ(test, tmem_destroy_pool(eph), 0);
	KUNIT_EXPECT_EQ(test, tmem_pool_pages(per), 8);
	destroy_and_check(test, per);
}

static struct kunit_case tmem_test_cases[] = {
	KUNIT_CASE(tmem_persistent_put_get),
	KUNIT_CASE(tmem_private_get_is_exclusive),
	KUNIT_CASE(tmem_shared_get_get),
	KUNIT_CASE(tmem_shared_pool_by_uuid),
	KUNIT_CASE(tmem_put_put_get),
	KUNIT_CASE(tmem_failed_put_flushes_older),
	KUNIT_CASE(tmem_flush_page_drops_one),
	KUNIT_CASE(tmem_flush_object_drops_all),
	KUNIT_CASE(tmem_handles_are_64_and_32_bit),
	KUNIT_CASE(tmem_destroy_frees_everything),
	KUNIT_CASE(tmem_bad_arguments),
	KUNIT_CASE(tmem_peek_keeps_the_page),
	KUNIT_CASE(tmem_flush_range_drops_the_range),
	KUNIT_CASE(tmem_oldest_first),
	{}
};

static struct kunit_suite tmem_test_suite = {
	.name = "pcache_tmem",
	.init = tmem_test_init,
	.exit = tmem_test_exit,
	.test_cases = tmem_test_cases,
};

kunit_test_suites(&tmem_test_suite);

MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("KUnit tests of pcache's tmem core");
