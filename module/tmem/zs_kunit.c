// SPDX-License-Identifier: GPL-2.0
/*
 * KUnit tests of the compressed tmem backend (zs.c), in pcache_kunit.ko
 * next to the tmem core's.  Real pages, a real zsmalloc pool and the
 * kernel's compressors, no mocks; every load is compared byte for byte
 * with the page stored.
 *
 * Atomic-context cases store and free under zt_irq_lock, a spinlock taken
 * once from a hard interrupt (an irq_work) so that lockdep knows it as
 * HARDIRQ-safe, as the i_pages lock cleancache puts come under: taking
 * any of zsmalloc's locks, or sleeping, under it would splat.
 */
#include <kunit/test.h>
#include <linux/highmem.h>
#include <linux/delay.h>
#include <linux/irq_work.h>
#include <linux/kthread.h>
#include <linux/random.h>
#include <linux/sched/task.h>
#include <linux/spinlock.h>
#include <linux/string.h>

#include "zs.h"

#define ZT_PAGES	24

enum zt_kind { ZT_PATTERN, ZT_SAME, ZT_ZERO, ZT_RANDOM };

struct zs_test {
	struct tmem_zs *zs;
	const struct tmem_backend *be;
	struct tmem_zs_stats *st;
	struct page *in[ZT_PAGES];
	struct page *out;
	unsigned long handle[ZT_PAGES];
	bool held[ZT_PAGES];
};

static DEFINE_SPINLOCK(zt_irq_lock);

static void zt_irq_work(struct irq_work *work)
{
	spin_lock(&zt_irq_lock);
	spin_unlock(&zt_irq_lock);
}

/* Take zt_irq_lock in hardirq context once: lockdep then checks its nesting. */
static void zt_make_lock_hardirq_safe(void)
{
	struct irq_work work = IRQ_WORK_INIT_HARD(zt_irq_work);

	irq_work_queue(&work);
	irq_work_sync(&work);
}

static long zt_stat(atomic_long_t *v)
{
	return atomic_long_read(v);
}

static long zt_rejects(struct tmem_zs *zs, enum tmem_zs_reject why)
{
	return tmem_zs_rejects(zs, why);
}

static void fill(struct page *page, enum zt_kind kind, u8 seed)
{
	u8 *p = kmap_local_page(page);
	int i;

	switch (kind) {
	case ZT_PATTERN:	/* compresses to well under a quarter */
		for (i = 0; i < PAGE_SIZE; i++)
			p[i] = seed + i * 7;
		break;
	case ZT_SAME:
		memset_l((unsigned long *)p, 0x0123456789abcdefUL ^ seed,
			 PAGE_SIZE / sizeof(unsigned long));
		break;
	case ZT_ZERO:
		memset(p, 0, PAGE_SIZE);
		break;
	case ZT_RANDOM:
		get_random_bytes(p, PAGE_SIZE);
		break;
	}
	kunmap_local(p);
}

static int zt_store(struct zs_test *t, int i, gfp_t gfp)
{
	int ret = t->be->store(t->be->priv, t->in[i], &t->handle[i], gfp);

	if (!ret)
		t->held[i] = true;
	return ret;
}

/* Fill page @i with @kind and store it from process context. */
static void zt_put(struct kunit *test, int i, enum zt_kind kind, u8 seed)
{
	struct zs_test *t = test->priv;

	fill(t->in[i], kind, seed);
	KUNIT_ASSERT_EQ(test, zt_store(t, i, GFP_KERNEL), 0);
}

static void zt_drop(struct zs_test *t, int i)
{
	t->be->free(t->be->priv, t->handle[i]);
	t->held[i] = false;
}

/* Load page @i into t->out: every byte must be the stored one. */
static void zt_check(struct kunit *test, int i)
{
	struct zs_test *t = test->priv;
	u8 *in, *out;
	int off;

	fill(t->out, ZT_RANDOM, 0);	/* no leftover of an earlier load */
	KUNIT_ASSERT_TRUE(test, t->held[i]);
	KUNIT_EXPECT_EQ(test, t->be->load(t->be->priv, t->handle[i], t->out), 0);
	in = kmap_local_page(t->in[i]);
	out = kmap_local_page(t->out);
	for (off = 0; off < PAGE_SIZE; off++)
		if (in[off] != out[off])
			break;
	kunmap_local(out);
	kunmap_local(in);
	KUNIT_EXPECT_EQ_MSG(test, off, (int)PAGE_SIZE,
			    "page %d differs at byte %d", i, off);
}

/* Everything freed and drained: every gauge back to 0. */
static void zt_expect_empty(struct kunit *test)
{
	struct zs_test *t = test->priv;

	tmem_zs_drain(t->zs);
	KUNIT_EXPECT_EQ(test, zt_stat(&t->st->stored), 0);
	KUNIT_EXPECT_EQ(test, zt_stat(&t->st->same_filled), 0);
	KUNIT_EXPECT_EQ(test, zt_stat(&t->st->raw), 0);
	KUNIT_EXPECT_EQ(test, zt_stat(&t->st->staged), 0);
	KUNIT_EXPECT_EQ(test, zt_stat(&t->st->bytes), 0);
	KUNIT_EXPECT_EQ(test, tmem_zs_total_pages(t->zs), 0UL);
}

static int zt_init(struct kunit *test)
{
	struct zs_test *t = kunit_kzalloc(test, sizeof(*t), GFP_KERNEL);
	int i;

	KUNIT_ASSERT_NOT_NULL(test, t);
	test->priv = t;
	t->zs = tmem_zs_create("pcache_kunit", "lz4");
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, t->zs);
	t->be = tmem_zs_backend(t->zs);
	t->st = tmem_zs_stats(t->zs);
	for (i = 0; i < ZT_PAGES; i++) {
		t->in[i] = alloc_page(GFP_KERNEL);
		KUNIT_ASSERT_NOT_NULL(test, t->in[i]);
	}
	t->out = alloc_page(GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, t->out);
	return 0;
}

static void zt_exit(struct kunit *test)
{
	struct zs_test *t = test->priv;
	int i;

	if (!t)
		return;
	for (i = 0; i < ZT_PAGES; i++) {
		if (t->held[i])
			zt_drop(t, i);
		if (t->in[i])
			__free_page(t->in[i]);
	}
	if (t->out)
		__free_page(t->out);
	if (!IS_ERR_OR_NULL(t->zs))
		tmem_zs_destroy(t->zs);
}

static const char * const zt_compressors[] = { "lz4", "lzo", "zstd" };

static void zt_compressor_desc(const char * const *name, char *desc)
{
	strscpy(desc, *name, KUNIT_PARAM_DESC_SIZE);
}

KUNIT_ARRAY_PARAM(zt_compressor, zt_compressors, zt_compressor_desc);

static void zs_round_trip(struct kunit *test)
{
	const char * const *name = test->param_value;
	struct zs_test *t = test->priv;
	int i, n = 8;

	KUNIT_ASSERT_EQ(test, tmem_zs_set_compressor(t->zs, *name), 0);
	KUNIT_EXPECT_STREQ(test, tmem_zs_compressor(t->zs), *name);
	for (i = 0; i < n; i++)
		zt_put(test, i, ZT_PATTERN, i * 13);
	KUNIT_EXPECT_EQ(test, zt_stat(&t->st->stored), n);
	KUNIT_EXPECT_EQ(test, zt_stat(&t->st->raw), 0);
	KUNIT_EXPECT_EQ(test, zt_stat(&t->st->staged), 0);
	KUNIT_EXPECT_GT(test, zt_stat(&t->st->bytes), 0);
	KUNIT_EXPECT_LE(test, zt_stat(&t->st->bytes), (long)(n * PAGE_SIZE / 4));
	KUNIT_EXPECT_GT(test, tmem_zs_total_pages(t->zs), 0UL);
	for (i = 0; i < n; i++)
		zt_check(test, i);
	/* A load does not consume: load again. */
	for (i = 0; i < n; i++)
		zt_check(test, i);
	for (i = 0; i < n; i++)
		zt_drop(t, i);
	zt_expect_empty(test);
}

static void zs_same_filled(struct kunit *test)
{
	struct zs_test *t = test->priv;
	unsigned long flags;
	int i, ret[2];

	zt_put(test, 0, ZT_SAME, 1);
	zt_put(test, 1, ZT_ZERO, 0);
	zt_put(test, 2, ZT_SAME, 0xff);
	/* Same-filled in atomic context: no allocation, nothing staged. */
	fill(t->in[3], ZT_SAME, 7);
	fill(t->in[4], ZT_ZERO, 0);
	zt_make_lock_hardirq_safe();
	spin_lock_irqsave(&zt_irq_lock, flags);
	ret[0] = zt_store(t, 3, GFP_NOWAIT);
	ret[1] = zt_store(t, 4, GFP_NOWAIT);
	spin_unlock_irqrestore(&zt_irq_lock, flags);
	KUNIT_EXPECT_EQ(test, ret[0], 0);
	KUNIT_EXPECT_EQ(test, ret[1], 0);

	KUNIT_EXPECT_EQ(test, zt_stat(&t->st->stored), 5);
	KUNIT_EXPECT_EQ(test, zt_stat(&t->st->same_filled), 5);
	KUNIT_EXPECT_EQ(test, zt_stat(&t->st->staged), 0);
	KUNIT_EXPECT_EQ(test, zt_stat(&t->st->bytes), 0);
	KUNIT_EXPECT_EQ(test, tmem_zs_total_pages(t->zs), 0UL);
	for (i = 0; i < 5; i++)
		zt_check(test, i);
	for (i = 0; i < 5; i++)
		zt_drop(t, i);
	zt_expect_empty(test);
}

static void zs_incompressible_raw(struct kunit *test)
{
	struct zs_test *t = test->priv;

	zt_put(test, 0, ZT_RANDOM, 0);
	KUNIT_EXPECT_EQ(test, zt_stat(&t->st->stored), 1);
	KUNIT_EXPECT_EQ(test, zt_stat(&t->st->raw), 1);
	KUNIT_EXPECT_EQ(test, zt_stat(&t->st->bytes), (long)PAGE_SIZE);
	KUNIT_EXPECT_EQ(test, zt_rejects(t->zs, TMEM_ZS_REJECT_COMPRESS_POOR), 0);
	KUNIT_EXPECT_GE(test, tmem_zs_total_pages(t->zs), 1UL);
	zt_check(test, 0);
	zt_drop(t, 0);
	zt_expect_empty(test);
}

static void zs_incompressible_reject(struct kunit *test)
{
	struct zs_test *t = test->priv;

	tmem_zs_set_store_raw(t->zs, false);
	fill(t->in[0], ZT_RANDOM, 0);
	KUNIT_EXPECT_EQ(test, zt_store(t, 0, GFP_KERNEL), -E2BIG);
	KUNIT_EXPECT_EQ(test, zt_rejects(t->zs, TMEM_ZS_REJECT_COMPRESS_POOR), 1);
	KUNIT_EXPECT_EQ(test, zt_stat(&t->st->stored), 0);
	KUNIT_EXPECT_EQ(test, zt_stat(&t->st->bytes), 0);

	/* A compressible page still goes in... */
	zt_put(test, 1, ZT_PATTERN, 3);
	zt_check(test, 1);
	/* ...unless the threshold says it compresses too little. */
	tmem_zs_set_threshold(t->zs, 1);
	fill(t->in[2], ZT_PATTERN, 4);
	KUNIT_EXPECT_EQ(test, zt_store(t, 2, GFP_KERNEL), -E2BIG);
	KUNIT_EXPECT_EQ(test, zt_rejects(t->zs, TMEM_ZS_REJECT_COMPRESS_POOR), 2);
	/* Same-filled pages are never rejected. */
	zt_put(test, 3, ZT_ZERO, 0);
	zt_check(test, 3);
	KUNIT_EXPECT_EQ(test, zt_stat(&t->st->stored), 2);
	KUNIT_EXPECT_EQ(test, zt_stat(&t->st->raw), 0);
	KUNIT_EXPECT_EQ(test, zt_rejects(t->zs, TMEM_ZS_REJECT_COMPRESS_FAIL), 0);
	KUNIT_EXPECT_EQ(test, zt_rejects(t->zs, TMEM_ZS_REJECT_ALLOC_FAIL), 0);
	zt_drop(t, 1);
	zt_drop(t, 3);
	zt_expect_empty(test);
}

static void zs_switch_compressor(struct kunit *test)
{
	static const char * const names[] = { "lz4", "lzo", "zstd", "lz4" };
	struct zs_test *t = test->priv;
	int c, i;

	KUNIT_EXPECT_STREQ(test, tmem_zs_compressor(t->zs), "lz4");
	for (c = 0; c < ARRAY_SIZE(names); c++) {
		KUNIT_ASSERT_EQ(test, tmem_zs_set_compressor(t->zs, names[c]), 0);
		KUNIT_EXPECT_STREQ(test, tmem_zs_compressor(t->zs), names[c]);
		for (i = c * 4; i < c * 4 + 4; i++)
			zt_put(test, i, i % 4 == 3 ? ZT_RANDOM : ZT_PATTERN, i);
	}
	KUNIT_EXPECT_EQ(test, tmem_zs_set_compressor(t->zs, "no-such-comp"),
			-EINVAL);
	KUNIT_EXPECT_STREQ(test, tmem_zs_compressor(t->zs), "lz4");
	for (i = 0; i < 16; i++)
		zt_check(test, i);

	/* lzo's pages gone, switching frees it; the others still load. */
	for (i = 4; i < 8; i++)
		zt_drop(t, i);
	KUNIT_EXPECT_EQ(test, tmem_zs_set_compressor(t->zs, "zstd"), 0);
	KUNIT_EXPECT_EQ(test, tmem_zs_set_compressor(t->zs, "lzo"), 0);
	zt_put(test, 4, ZT_PATTERN, 99);
	for (i = 0; i < 16; i++)
		if (i < 5 || i >= 8)
			zt_check(test, i);
	for (i = 0; i < 16; i++)
		if (i < 5 || i >= 8)
			zt_drop(t, i);
	zt_expect_empty(test);
}

static enum zt_kind zt_mix(int i)
{
	static const enum zt_kind kinds[] = {
		ZT_PATTERN, ZT_RANDOM, ZT_PATTERN, ZT_SAME, ZT_PATTERN, ZT_ZERO,
	};

	return kinds[i % ARRAY_SIZE(kinds)];
}

static void zs_atomic_store(struct kunit *test)
{
	struct zs_test *t = test->priv;
	int i, ret[ZT_PAGES], nrandom = 0;
	unsigned long flags;

	for (i = 0; i < ZT_PAGES; i++) {
		fill(t->in[i], zt_mix(i), i);
		nrandom += zt_mix(i) == ZT_RANDOM;
	}
	zt_make_lock_hardirq_safe();
	spin_lock_irqsave(&zt_irq_lock, flags);
	for (i = 0; i < ZT_PAGES; i++)
		ret[i] = zt_store(t, i, GFP_NOWAIT);
	spin_unlock_irqrestore(&zt_irq_lock, flags);
	for (i = 0; i < ZT_PAGES; i++)
		KUNIT_EXPECT_EQ(test, ret[i], 0);
	KUNIT_EXPECT_EQ(test, zt_stat(&t->st->stored), ZT_PAGES);

	/* While the worker converts them. */
	for (i = 0; i < ZT_PAGES; i++)
		zt_check(test, i);

	tmem_zs_drain(t->zs);
	KUNIT_EXPECT_EQ(test, zt_stat(&t->st->staged), 0);
	KUNIT_EXPECT_EQ(test, zt_stat(&t->st->raw), nrandom);
	KUNIT_EXPECT_LT(test, zt_stat(&t->st->bytes),
			(long)((nrandom + 1) * PAGE_SIZE));
	/* Only zsmalloc holds them now (no raw page kept). */
	KUNIT_EXPECT_LE(test, tmem_zs_total_pages(t->zs),
			(unsigned long)nrandom + 8);
	for (i = 0; i < ZT_PAGES; i++)
		zt_check(test, i);
	for (i = 0; i < ZT_PAGES; i++)
		zt_drop(t, i);
	zt_expect_empty(test);
}

static void zs_free_irqs_off(struct kunit *test)
{
	struct zs_test *t = test->priv;
	unsigned long flags;
	int i, round, ret[ZT_PAGES];

	zt_make_lock_hardirq_safe();

	/* In zsmalloc: the frees are deferred to the worker. */
	for (i = 0; i < ZT_PAGES; i++)
		zt_put(test, i, zt_mix(i), i);
	for (i = 0; i < ZT_PAGES; i++)
		zt_check(test, i);
	spin_lock_irqsave(&zt_irq_lock, flags);
	for (i = 0; i < ZT_PAGES; i++)
		zt_drop(t, i);
	spin_unlock_irqrestore(&zt_irq_lock, flags);
	KUNIT_EXPECT_EQ(test, zt_stat(&t->st->stored), 0);
	zt_expect_empty(test);

	/*
	 * Staged ones freed at once, or while the worker converts them:
	 * whichever comes first, each is released exactly once.
	 */
	for (round = 0; round < 32; round++) {
		fill(t->in[round % ZT_PAGES], zt_mix(round), round);
		spin_lock_irqsave(&zt_irq_lock, flags);
		for (i = 0; i < ZT_PAGES; i++) {
			ret[i] = zt_store(t, i, GFP_NOWAIT);
			if (!ret[i] && i % 2)
				zt_drop(t, i);
		}
		spin_unlock_irqrestore(&zt_irq_lock, flags);
		for (i = 0; i < ZT_PAGES; i++)
			KUNIT_ASSERT_EQ(test, ret[i], 0);
		for (i = 0; i < ZT_PAGES; i += 2)
			zt_check(test, i);
		spin_lock_irqsave(&zt_irq_lock, flags);
		for (i = 0; i < ZT_PAGES; i += 2)
			zt_drop(t, i);
		spin_unlock_irqrestore(&zt_irq_lock, flags);
	}
	zt_expect_empty(test);
}

static void zs_stats_balance(struct kunit *test)
{
	struct zs_test *t = test->priv;
	unsigned long flags;
	int i, ret[ZT_PAGES];

	tmem_zs_set_compressor(t->zs, "zstd");
	zt_make_lock_hardirq_safe();
	for (i = 0; i < ZT_PAGES / 2; i++)
		zt_put(test, i, zt_mix(i), i);
	for (i = ZT_PAGES / 2; i < ZT_PAGES; i++)
		fill(t->in[i], zt_mix(i), i);
	spin_lock_irqsave(&zt_irq_lock, flags);
	for (i = ZT_PAGES / 2; i < ZT_PAGES; i++)
		ret[i] = zt_store(t, i, GFP_NOWAIT);
	spin_unlock_irqrestore(&zt_irq_lock, flags);
	for (i = ZT_PAGES / 2; i < ZT_PAGES; i++)
		KUNIT_EXPECT_EQ(test, ret[i], 0);
	tmem_zs_drain(t->zs);
	KUNIT_EXPECT_EQ(test, zt_stat(&t->st->stored), ZT_PAGES);
	KUNIT_EXPECT_EQ(test, zt_stat(&t->st->same_filled), ZT_PAGES / 3);
	KUNIT_EXPECT_EQ(test, zt_stat(&t->st->raw), ZT_PAGES / 6);
	KUNIT_EXPECT_GT(test, zt_stat(&t->st->bytes),
			(long)(ZT_PAGES / 6 * PAGE_SIZE));
	for (i = 0; i < ZT_PAGES; i++)
		zt_check(test, i);
	/* Half in process context, half with interrupts off. */
	for (i = 0; i < ZT_PAGES; i += 2)
		zt_drop(t, i);
	spin_lock_irqsave(&zt_irq_lock, flags);
	for (i = 1; i < ZT_PAGES; i += 2)
		zt_drop(t, i);
	spin_unlock_irqrestore(&zt_irq_lock, flags);
	zt_expect_empty(test);
	KUNIT_EXPECT_EQ(test, zt_rejects(t->zs, TMEM_ZS_REJECT_COMPRESS_POOR), 0);
	KUNIT_EXPECT_EQ(test, zt_rejects(t->zs, TMEM_ZS_REJECT_COMPRESS_FAIL), 0);
	KUNIT_EXPECT_EQ(test, zt_rejects(t->zs, TMEM_ZS_REJECT_ALLOC_FAIL), 0);
	KUNIT_EXPECT_EQ(test, zt_rejects(t->zs, TMEM_ZS_REJECT_KMEMCACHE_FAIL), 0);
}

struct zt_thread {
	struct task_struct *task;
	const struct tmem_backend *be;
	int id, errors, loads;
};

/*
 * One of several threads storing (in atomic context or not), loading and
 * freeing (with interrupts off or not) while the compressor changes under
 * them: loads race the worker's conversions, frees race them too.
 */
static int zt_thread_fn(void *arg)
{
	struct zt_thread *w = arg;
	const struct tmem_backend *be = w->be;
	struct page *in = alloc_page(GFP_KERNEL);
	struct page *out = alloc_page(GFP_KERNEL);
	unsigned long handle, flags;
	int i, ret;

	if (!in || !out) {
		w->errors++;
		goto out;
	}
	for (i = 0; i < 256; i++) {
		fill(in, zt_mix(i + w->id), i ^ w->id);
		if (i & 1) {
			spin_lock_irqsave(&zt_irq_lock, flags);
			ret = be->store(be->priv, in, &handle, GFP_NOWAIT);
			spin_unlock_irqrestore(&zt_irq_lock, flags);
		} else {
			ret = be->store(be->priv, in, &handle, GFP_KERNEL);
		}
		if (ret) {
			w->errors++;
			continue;
		}
		/* Now and then freed unread, maybe before the worker saw it. */
		if (i % 5 != 4) {
			fill(out, ZT_RANDOM, 0);
			ret = be->load(be->priv, handle, out);
			if (ret || memcmp(page_address(in), page_address(out),
					  PAGE_SIZE))
				w->errors++;
			w->loads++;
		}
		if (i & 2) {
			spin_lock_irqsave(&zt_irq_lock, flags);
			be->free(be->priv, handle);
			spin_unlock_irqrestore(&zt_irq_lock, flags);
		} else {
			be->free(be->priv, handle);
		}
		cond_resched();
	}
out:
	if (in)
		__free_page(in);
	if (out)
		__free_page(out);
	return 0;
}

static void zs_concurrent(struct kunit *test)
{
	static const char * const names[] = { "lzo", "zstd", "lz4" };
	struct zs_test *t = test->priv;
	struct zt_thread w[4] = {};
	int i, n;

	zt_make_lock_hardirq_safe();
	for (n = 0; n < ARRAY_SIZE(w); n++) {
		w[n].be = t->be;
		w[n].id = n;
		w[n].task = kthread_create(zt_thread_fn, &w[n], "zt_zs/%d", n);
		if (IS_ERR(w[n].task))
			break;
		get_task_struct(w[n].task);
		wake_up_process(w[n].task);
	}
	for (i = 0; i < 30; i++) {
		KUNIT_EXPECT_EQ(test, tmem_zs_set_compressor(t->zs,
							     names[i % 3]), 0);
		msleep(20);
	}
	for (i = 0; i < n; i++) {
		kthread_stop(w[i].task);
		put_task_struct(w[i].task);
		KUNIT_EXPECT_EQ(test, w[i].errors, 0);
		KUNIT_EXPECT_GT(test, w[i].loads, 0);
	}
	KUNIT_EXPECT_EQ(test, n, (int)ARRAY_SIZE(w));
	zt_expect_empty(test);
}

/* A tmem pool on top: puts and gets through the tmem core. */
static void zs_tmem_pool(struct kunit *test)
{
	struct zs_test *t = test->priv;
	int id, i, ret[ZT_PAGES];
	unsigned long flags;
	u8 *in, *out;
	int off;

	id = tmem_new_pool(t->be, TMEM_POOL_PERSIST, NULL);
	KUNIT_ASSERT_GE(test, id, 0);
	zt_make_lock_hardirq_safe();
	for (i = 0; i < ZT_PAGES; i++)
		fill(t->in[i], zt_mix(i), i + 40);
	for (i = 0; i < ZT_PAGES / 2; i++)
		KUNIT_EXPECT_EQ(test, tmem_put_page(id, 7, i, t->in[i],
						    GFP_KERNEL), 0);
	/* The rest as cleancache would: interrupts off, under a lock. */
	spin_lock_irqsave(&zt_irq_lock, flags);
	for (i = ZT_PAGES / 2; i < ZT_PAGES; i++)
		ret[i] = tmem_put_page(id, 8, i, t->in[i], GFP_NOWAIT);
	spin_unlock_irqrestore(&zt_irq_lock, flags);
	for (i = ZT_PAGES / 2; i < ZT_PAGES; i++)
		KUNIT_EXPECT_EQ(test, ret[i], 0);
	KUNIT_EXPECT_EQ(test, tmem_pool_pages(id), ZT_PAGES);
	KUNIT_EXPECT_EQ(test, zt_stat(&t->st->stored), ZT_PAGES);

	for (i = 0; i < ZT_PAGES; i++) {
		fill(t->out, ZT_RANDOM, 0);
		KUNIT_EXPECT_EQ(test, tmem_get_page(id, i < ZT_PAGES / 2 ? 7 : 8,
						    i, t->out), 0);
		in = kmap_local_page(t->in[i]);
		out = kmap_local_page(t->out);
		for (off = 0; off < PAGE_SIZE; off++)
			if (in[off] != out[off])
				break;
		kunmap_local(out);
		kunmap_local(in);
		KUNIT_EXPECT_EQ_MSG(test, off, (int)PAGE_SIZE,
				    "page %d differs at byte %d", i, off);
	}
	/* A private pool's get removes the page. */
	KUNIT_EXPECT_EQ(test, tmem_pool_pages(id), 0);
	KUNIT_EXPECT_EQ(test, zt_stat(&t->st->stored), 0);

	/* Put again, flush some with interrupts off, destroy with the rest. */
	for (i = 0; i < ZT_PAGES; i++)
		KUNIT_EXPECT_EQ(test, tmem_put_page(id, i % 3, i, t->in[i],
						    GFP_KERNEL), 0);
	spin_lock_irqsave(&zt_irq_lock, flags);
	for (i = 0; i < ZT_PAGES; i += 3)
		ret[i] = tmem_flush_page(id, 0, i);
	spin_unlock_irqrestore(&zt_irq_lock, flags);
	for (i = 0; i < ZT_PAGES; i += 3)
		KUNIT_EXPECT_EQ(test, ret[i], 0);
	KUNIT_EXPECT_EQ(test, tmem_pool_pages(id), ZT_PAGES - ZT_PAGES / 3);
	KUNIT_EXPECT_EQ(test, tmem_destroy_pool(id), 0);
	zt_expect_empty(test);
}

static struct kunit_case zs_test_cases[] = {
	KUNIT_CASE_PARAM(zs_round_trip, zt_compressor_gen_params),
	KUNIT_CASE(zs_same_filled),
	KUNIT_CASE(zs_incompressible_raw),
	KUNIT_CASE(zs_incompressible_reject),
	KUNIT_CASE(zs_switch_compressor),
	KUNIT_CASE(zs_atomic_store),
	KUNIT_CASE(zs_free_irqs_off),
	KUNIT_CASE(zs_stats_balance),
	KUNIT_CASE(zs_tmem_pool),
	KUNIT_CASE(zs_concurrent),
	{}
};

static struct kunit_suite zs_test_suite = {
	.name = "pcache_tmem_zs",
	.init = zt_init,
	.exit = zt_exit,
	.test_cases = zs_test_cases,
};

kunit_test_suite(zs_test_suite);
