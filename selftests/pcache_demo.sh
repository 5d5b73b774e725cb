#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# `make run`'s demo (tools/demo.sh) works: every feature, off then on on
# its own small workload, does its work with every byte read right, and
# the table at the end has a row for each.  The demo's own checks say
# what "did its work" means (pages moved to node 1, fewer sectors read,
# fewer swap writes, pages forked, less RSS and fewer sequential faults).
. "$(dirname "$0")/lib.sh"

need_null_blk
pcache_unload
"$TOP/tools/demo.sh" > /tmp/pcache-demo.out 2>&1
rc=$?
sed 's/^/# /' /tmp/pcache-demo.out
t_check "the demo ends well (exit 0, every feature did its work, no wrong byte)" \
	test "$rc" = 0 -a "$(tail -1 /tmp/pcache-demo.out)" = "demo: every feature did its work, no wrong byte"
for f in replication cleancache frontswap fork-on-write fault-around; do
	t_check "its table has $f" grep -q "^| $f | [^|]* | [^|]* | [^|]* | [^|]* |$" /tmp/pcache-demo.out
done
t_check "pcache is unloaded after it" test ! -d /sys/module/pcache
t_done
