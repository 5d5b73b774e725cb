/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Adaptive fault-around: the hook it serves and its switch.  See
 * faultaround.c.
 */
#ifndef _PCACHE_FAULTAROUND_H
#define _PCACHE_FAULTAROUND_H

struct vm_fault;

unsigned long pcache_fa_fault_around(struct vm_fault *vmf,
				     unsigned long nr_pages);
bool pcache_fa_map_around(struct vm_fault *vmf, unsigned int nr);

extern const struct pcache_feature_files pcache_fa_files;
int pcache_fa_init(void);
void pcache_fa_drain(void);
void pcache_fa_free(void);
bool pcache_fa_enabled(void);

#endif /* _PCACHE_FAULTAROUND_H */
