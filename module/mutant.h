/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Mutation testing (make mutants, tools/mutants.sh): a build with
 * -DPCACHE_MUTANT=N compiles in deliberate bug N, one that breaks a data
 * integrity rule or a policy rule, which the selftests (or KUnit cases)
 * of that feature must catch.  Production builds never set it, and
 * pcache_mutant() is then constant false.
 */
#ifndef _PCACHE_MUTANT_H
#define _PCACHE_MUTANT_H

#ifndef PCACHE_MUTANT
#define PCACHE_MUTANT 0
#endif
#define pcache_mutant(n)	(PCACHE_MUTANT == (n))

#endif /* _PCACHE_MUTANT_H */
