/* SPDX-License-Identifier: GPL-2.0 */
/*
 * pcache tracepoints: one per hook class, as tracepoint:pcache:* in
 * bpftrace (args->site is the call site, enum pcache_site).
 */
#undef TRACE_SYSTEM
#define TRACE_SYSTEM pcache

#if !defined(_PCACHE_TRACE_H) || defined(TRACE_HEADER_MULTI_READ)
#define _PCACHE_TRACE_H

#include <linux/fs.h>
#include <linux/mm.h>
#include <linux/pcache_hooks.h>
#include <linux/tracepoint.h>

#include "pcache.h"

/* Site names come from the core's table (core.c), the one list of sites. */
#define pcache_show_site(site)	pcache_site_name(site)

#ifndef _PCACHE_TRACE_HELPERS
#define _PCACHE_TRACE_HELPERS
static inline unsigned long pcache_trace_ino(struct address_space *mapping)
{
	return mapping && mapping->host ? mapping->host->i_ino : 0;
}
#endif

/* A hook about one page cache folio. */
DECLARE_EVENT_CLASS(pcache_folio_class,
	TP_PROTO(int site, struct address_space *mapping, struct folio *folio),
	TP_ARGS(site, mapping, folio),
	TP_STRUCT__entry(
		__field(int, site)
		__field(unsigned long, ino)
		__field(unsigned long, index)
		__field(unsigned int, nr)
	),
	TP_fast_assign(
		__entry->site = site;
		__entry->ino = pcache_trace_ino(mapping);
		__entry->index = folio->index;
		__entry->nr = folio_nr_pages(folio);
	),
	TP_printk("%s ino=%lu index=%lu nr=%u", pcache_show_site(__entry->site),
		  __entry->ino, __entry->index, __entry->nr)
);

/*
 * Enabling an event installs the ops it traces (pcache_trace_*_reg() in
 * core.c); disabling it removes them again.
 */
#define PCACHE_FOLIO_EVENT(name)					\
DEFINE_EVENT_FN(pcache_folio_class, pcache_##name,			\
	TP_PROTO(int site, struct address_space *mapping, struct folio *folio), \
	TP_ARGS(site, mapping, folio),					\
	pcache_trace_##name##_reg, pcache_trace_##name##_unreg)

PCACHE_FOLIO_EVENT(read);
PCACHE_FOLIO_EVENT(write);
PCACHE_FOLIO_EVENT(remove);
PCACHE_FOLIO_EVENT(miss);
PCACHE_FOLIO_EVENT(writeback);

/* Truncate, invalidate and eviction of a range of a mapping. */
TRACE_EVENT_FN(pcache_invalidate,
	TP_PROTO(int site, struct address_space *mapping, pgoff_t start,
		 pgoff_t end),
	TP_ARGS(site, mapping, start, end),
	TP_STRUCT__entry(
		__field(int, site)
		__field(unsigned long, ino)
		__field(unsigned long, start)
		__field(unsigned long, end)
	),
	TP_fast_assign(
		__entry->site = site;
		__entry->ino = pcache_trace_ino(mapping);
		__entry->start = start;
		__entry->end = end;
	),
	TP_printk("%s ino=%lu start=%lu end=%lu",
		  pcache_show_site(__entry->site), __entry->ino,
		  __entry->start, __entry->end),
	pcache_trace_invalidate_reg, pcache_trace_invalidate_unreg
);

/* Superblock mount and shutdown. */
TRACE_EVENT_FN(pcache_sb,
	TP_PROTO(int site, struct super_block *sb),
	TP_ARGS(site, sb),
	TP_STRUCT__entry(
		__field(int, site)
		__field(unsigned int, dev)
		__array(char, fstype, 16)
	),
	TP_fast_assign(
		__entry->site = site;
		__entry->dev = sb->s_dev;
		strscpy(__entry->fstype, sb->s_type->name, 16);
	),
	TP_printk("%s dev=%u:%u type=%s", pcache_show_site(__entry->site),
		  MAJOR(__entry->dev), MINOR(__entry->dev), __entry->fstype),
	pcache_trace_sb_reg, pcache_trace_sb_unreg
);

/* The fault-around window chosen for one fault. */
TRACE_EVENT_FN(pcache_fault_around,
	TP_PROTO(struct vm_fault *vmf, unsigned long nr_pages),
	TP_ARGS(vmf, nr_pages),
	TP_STRUCT__entry(
		__field(int, site)
		__field(unsigned long, ino)
		__field(unsigned long, pgoff)
		__field(unsigned long, nr_pages)
	),
	TP_fast_assign(
		__entry->site = PCACHE_SITE_FAULT_AROUND;
		__entry->ino = vmf->vma->vm_file ?
			pcache_trace_ino(vmf->vma->vm_file->f_mapping) : 0;
		__entry->pgoff = vmf->pgoff;
		__entry->nr_pages = nr_pages;
	),
	TP_printk("ino=%lu pgoff=%lu nr_pages=%lu", __entry->ino,
		  __entry->pgoff, __entry->nr_pages),
	pcache_trace_fault_around_reg, pcache_trace_fault_around_unreg
);

/* Swap store, load, invalidate, swapon and swapoff. */
TRACE_EVENT_FN(pcache_swap,
	TP_PROTO(int site, int type, unsigned long offset, unsigned long nr),
	TP_ARGS(site, type, offset, nr),
	TP_STRUCT__entry(
		__field(int, site)
		__field(int, type)
		__field(unsigned long, offset)
		__field(unsigned long, nr)
	),
	TP_fast_assign(
		__entry->site = site;
		__entry->type = type;
		__entry->offset = offset;
		__entry->nr = nr;
	),
	TP_printk("%s type=%d offset=%lu nr=%lu",
		  pcache_show_site(__entry->site), __entry->type,
		  __entry->offset, __entry->nr),
	pcache_trace_swap_reg, pcache_trace_swap_unreg
);

/*
 * tmem: a put, get or flush of a cleancache (persistent=0) or frontswap
 * (persistent=1) pool.  These trace the features, not a hook class: they
 * install no op.  Fields use plain C types: bpftrace without BTF reads
 * them from the format files.
 */
DECLARE_EVENT_CLASS(pcache_tmem_class,
	TP_PROTO(bool persistent, int pool, u64 oid, u32 index, int ret),
	TP_ARGS(persistent, pool, oid, index, ret),
	TP_STRUCT__entry(
		__field(int, persistent)
		__field(int, pool)
		__field(unsigned long long, oid)
		__field(unsigned int, index)
		__field(int, ret)
	),
	TP_fast_assign(
		__entry->persistent = persistent;
		__entry->pool = pool;
		__entry->oid = oid;
		__entry->index = index;
		__entry->ret = ret;
	),
	TP_printk("%s pool=%d oid=%llu index=%u ret=%d",
		  __entry->persistent ? "persistent" : "ephemeral",
		  __entry->pool, __entry->oid, __entry->index, __entry->ret)
);

DEFINE_EVENT(pcache_tmem_class, pcache_tmem_put,
	TP_PROTO(bool persistent, int pool, u64 oid, u32 index, int ret),
	TP_ARGS(persistent, pool, oid, index, ret));

DEFINE_EVENT(pcache_tmem_class, pcache_tmem_get,
	TP_PROTO(bool persistent, int pool, u64 oid, u32 index, int ret),
	TP_ARGS(persistent, pool, oid, index, ret));

/* Pages @first..@last of an object were flushed; @nr of them were held. */
TRACE_EVENT(pcache_tmem_flush,
	TP_PROTO(bool persistent, int pool, u64 oid, unsigned long first,
		 unsigned long last, int nr),
	TP_ARGS(persistent, pool, oid, first, last, nr),
	TP_STRUCT__entry(
		__field(int, persistent)
		__field(int, pool)
		__field(unsigned long long, oid)
		__field(unsigned long, first)
		__field(unsigned long, last)
		__field(int, nr)
	),
	TP_fast_assign(
		__entry->persistent = persistent;
		__entry->pool = pool;
		__entry->oid = oid;
		__entry->first = first;
		__entry->last = last;
		__entry->nr = nr;
	),
	TP_printk("%s pool=%d oid=%llu first=%lu last=%lu nr=%d",
		  __entry->persistent ? "persistent" : "ephemeral",
		  __entry->pool, __entry->oid, __entry->first, __entry->last,
		  __entry->nr)
);

/*
 * Replication: a replica of page @index of inode @ino (device @dev) made
 * on node @nid from its master on @master_nid, and replicas dropped
 * (@nr of them, for @reason, enum repl_reason in repl/repl.c).
 */
TRACE_EVENT(pcache_repl_create,
	TP_PROTO(unsigned int dev, unsigned long ino, unsigned long index,
		 int nid, int master_nid),
	TP_ARGS(dev, ino, index, nid, master_nid),
	TP_STRUCT__entry(
		__field(unsigned int, dev)
		__field(unsigned long, ino)
		__field(unsigned long, index)
		__field(int, nid)
		__field(int, master_nid)
	),
	TP_fast_assign(
		__entry->dev = dev;
		__entry->ino = ino;
		__entry->index = index;
		__entry->nid = nid;
		__entry->master_nid = master_nid;
	),
	TP_printk("dev=%u:%u ino=%lu index=%lu node=%d master_node=%d",
		  MAJOR(__entry->dev), MINOR(__entry->dev), __entry->ino,
		  __entry->index, __entry->nid, __entry->master_nid)
);

TRACE_EVENT(pcache_repl_collapse,
	TP_PROTO(unsigned int dev, unsigned long ino, unsigned long index,
		 int nr, int mapped, int reason),
	TP_ARGS(dev, ino, index, nr, mapped, reason),
	TP_STRUCT__entry(
		__field(unsigned int, dev)
		__field(unsigned long, ino)
		__field(unsigned long, index)
		__field(int, nr)
		__field(int, mapped)
		__field(int, reason)
	),
	TP_fast_assign(
		__entry->dev = dev;
		__entry->ino = ino;
		__entry->index = index;
		__entry->nr = nr;
		__entry->mapped = mapped;
		__entry->reason = reason;
	),
	TP_printk("dev=%u:%u ino=%lu index=%lu nr=%d mapped=%d reason=%s",
		  MAJOR(__entry->dev), MINOR(__entry->dev), __entry->ino,
		  __entry->index, __entry->nr, __entry->mapped,
		  pcache_repl_reason_name(__entry->reason))
);

/*
 * Fork-on-write: a folio under writeback forked for a writer at @site
 * (write_begin or mkwrite), a fork refused for @reason (enum fork_reason
 * in fork/fork.c), and a forked-off folio released after its I/O ended,
 * @wait_us after the fork (the wait the writer was spared).
 */
TRACE_EVENT(pcache_fork,
	TP_PROTO(unsigned int dev, unsigned long ino, unsigned long index,
		 int site),
	TP_ARGS(dev, ino, index, site),
	TP_STRUCT__entry(
		__field(unsigned int, dev)
		__field(unsigned long, ino)
		__field(unsigned long, index)
		__field(int, site)
	),
	TP_fast_assign(
		__entry->dev = dev;
		__entry->ino = ino;
		__entry->index = index;
		__entry->site = site;
	),
	TP_printk("dev=%u:%u ino=%lu index=%lu site=%s",
		  MAJOR(__entry->dev), MINOR(__entry->dev), __entry->ino,
		  __entry->index, pcache_show_site(__entry->site))
);

TRACE_EVENT(pcache_fork_refused,
	TP_PROTO(unsigned int dev, unsigned long ino, unsigned long index,
		 int reason),
	TP_ARGS(dev, ino, index, reason),
	TP_STRUCT__entry(
		__field(unsigned int, dev)
		__field(unsigned long, ino)
		__field(unsigned long, index)
		__field(int, reason)
	),
	TP_fast_assign(
		__entry->dev = dev;
		__entry->ino = ino;
		__entry->index = index;
		__entry->reason = reason;
	),
	TP_printk("dev=%u:%u ino=%lu index=%lu reason=%s",
		  MAJOR(__entry->dev), MINOR(__entry->dev), __entry->ino,
		  __entry->index, pcache_fork_reason_name(__entry->reason))
);

TRACE_EVENT(pcache_fork_release,
	TP_PROTO(unsigned int dev, unsigned long ino, unsigned long index,
		 unsigned long wait_us),
	TP_ARGS(dev, ino, index, wait_us),
	TP_STRUCT__entry(
		__field(unsigned int, dev)
		__field(unsigned long, ino)
		__field(unsigned long, index)
		__field(unsigned long, wait_us)
	),
	TP_fast_assign(
		__entry->dev = dev;
		__entry->ino = ino;
		__entry->index = index;
		__entry->wait_us = wait_us;
	),
	TP_printk("dev=%u:%u ino=%lu index=%lu wait_us=%lu",
		  MAJOR(__entry->dev), MINOR(__entry->dev), __entry->ino,
		  __entry->index, __entry->wait_us)
);

/*
 * Adaptive fault-around's decision for one fault: the window before (the
 * mapping's last one, or the kernel's) and the one chosen, in pages.
 */
TRACE_EVENT(pcache_fa_window,
	TP_PROTO(struct vm_fault *vmf, unsigned long old_pages,
		 unsigned long new_pages, int reason),
	TP_ARGS(vmf, old_pages, new_pages, reason),
	TP_STRUCT__entry(
		__field(unsigned int, dev)
		__field(unsigned long, ino)
		__field(unsigned long, address)
		__field(unsigned long, old_pages)
		__field(unsigned long, new_pages)
		__field(int, reason)
	),
	TP_fast_assign(
		struct file *file = vmf->vma->vm_file;

		__entry->dev = file ? file_inode(file)->i_sb->s_dev : 0;
		__entry->ino = file ? file_inode(file)->i_ino : 0;
		__entry->address = vmf->address;
		__entry->old_pages = old_pages;
		__entry->new_pages = new_pages;
		__entry->reason = reason;
	),
	TP_printk("dev=%u:%u ino=%lu address=0x%lx old_pages=%lu new_pages=%lu reason=%s",
		  MAJOR(__entry->dev), MINOR(__entry->dev), __entry->ino,
		  __entry->address, __entry->old_pages, __entry->new_pages,
		  pcache_fa_reason_name(__entry->reason))
);

#endif /* _PCACHE_TRACE_H */

#undef TRACE_INCLUDE_PATH
#define TRACE_INCLUDE_PATH .
#undef TRACE_INCLUDE_FILE
#define TRACE_INCLUDE_FILE trace
#include <trace/define_trace.h>
