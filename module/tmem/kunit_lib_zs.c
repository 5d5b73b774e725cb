// SPDX-License-Identifier: GPL-2.0
/* zs.c again, for pcache_kunit.ko (see module/Kbuild). */
#include "zs.c"
