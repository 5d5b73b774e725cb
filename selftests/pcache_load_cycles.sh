#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# 10 load/unload cycles while a workload hits every hook class: buffered
# read/write, mmap read/write, fault-around, O_DIRECT, truncate, unlink,
# drop_caches, and swap in a memory cgroup.  The workload checks every byte
# it reads back; the guest launcher fails the run on any kernel splat.
. "$(dirname "$0")/lib.sh"

CYCLES=${CYCLES:-10}
[ -x "$WL" ] || t_skip_all "$WL is not built"
[ -b "$DISK" ] || t_skip_all "no test disk $DISK"

pcache_unload
fs_setup || t_skip_all "cannot make the test filesystem"
cg_setup 12M || t_skip_all "no memory cgroup"
swap_setup 64 || t_skip_all "cannot enable swap"

stop=/tmp/pcache-cycles.stop
rm -f "$stop" /tmp/pcache-cycles.fail.*
mkdir -p "$MNT/cycles"

# Three loops until $stop exists; each leaves a .fail file on a wrong byte.
( while [ ! -e "$stop" ]; do
	"$WL" mix "$MNT/cycles" 1 > /dev/null || { touch /tmp/pcache-cycles.fail.mix; break; }
done ) &
mix=$!
( while [ ! -e "$stop" ]; do
	cg_run "$WL" anon 20 7 || { touch /tmp/pcache-cycles.fail.swap; break; }
done ) &
swp=$!
( while [ ! -e "$stop" ]; do
	drop_caches; sleep 0.5
done ) &
drop=$!

loaded=0 fired=0
for i in $(seq "$CYCLES"); do
	pcache_load || break
	loaded=$((loaded + 1))
	sleep 0.3
	[ "$(hooks_total)" -gt 0 ] && fired=$((fired + 1))
	pcache_unload || break
done
touch "$stop"
wait $mix $swp $drop

t_check "$CYCLES insmod/rmmod cycles completed under load" test "$loaded" = "$CYCLES"
t_check "hooks fired in every cycle ($fired of $CYCLES)" test "$fired" = "$CYCLES"
t_check_fails "module is unloaded at the end" pcache_loaded
t_check "file workload: every byte right" test ! -e /tmp/pcache-cycles.fail.mix
t_check "swap workload: every byte right" test ! -e /tmp/pcache-cycles.fail.swap
swap_teardown
rm -rf "$MNT/cycles"
fs_umount
cg_teardown
t_done
