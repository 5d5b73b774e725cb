// SPDX-License-Identifier: GPL-2.0
/* tmem.c again, for pcache_kunit.ko (see module/Kbuild). */
#include "tmem.c"
