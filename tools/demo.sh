#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# `make run`: the demo, inside the guest.  Loads pcache, shows its sysfs
# tree, runs a short workload over every hooked path (file I/O on ext4,
# mmap, O_DIRECT, truncate, drop_caches, swap in a memory cgroup), prints
# the live hook counters and unloads.
set -u
. "$(dirname "$0")/../selftests/lib.sh" > /dev/null

echo "== NUMA nodes: $(ls -d /sys/devices/system/node/node* | xargs -n1 basename | tr '\n' ' ')"
pcache_unload
pcache_load || exit 1
echo "== loaded: $(dmesg | grep 'pcache: version' | tail -1 | sed 's/^\[[^]]*\] //')"
echo "== /sys/kernel/mm/pcache/"
for f in "$SYSFS"/*; do
	if [ -d "$f" ]; then echo "  $(basename "$f")/"; else echo "  $(basename "$f") = $(cat "$f")"; fi
done

fs_setup || { echo "no test disk"; exit 1; }
cg_setup 16M
swap_setup 32
echo "== workload: 3 s of mixed file I/O, then 24 MiB of anonymous memory in a 16 MiB cgroup"
"$WL" mix "$MNT" 3 || exit 1
cg_run "$WL" anon 24 1 && echo "anon: 24 MiB swapped out and back, every byte checked" || exit 1
drop_caches
swap_teardown
fs_umount
cg_teardown

echo "== hook counters (/sys/kernel/debug/pcache/hooks): site, class, count"
sed 's/^/  /' "$DEBUGFS/hooks"
pcache_unload && echo "== unloaded"
