// SPDX-License-Identifier: GPL-2.0
/*
 * tmem backend "raw": one uncompressed page per stored page.  The
 * reference the compressed backends are checked against.
 */
#include <linux/gfp.h>
#include <linux/highmem.h>

#include "tmem.h"

static int raw_store(void *priv, struct page *page, unsigned long *handle,
		     gfp_t gfp)
{
	struct page *copy = alloc_page(gfp | __GFP_NOWARN);

	if (!copy)
		return -ENOMEM;
	copy_highpage(copy, page);
	*handle = (unsigned long)copy;
	return 0;
}

static int raw_load(void *priv, unsigned long handle, struct page *page)
{
	copy_highpage(page, (struct page *)handle);
	return 0;
}

static void raw_free(void *priv, unsigned long handle)
{
	__free_page((struct page *)handle);
}

const struct tmem_backend tmem_backend_raw = {
	.name	= "raw",
	.store	= raw_store,
	.load	= raw_load,
	.free	= raw_free,
};
