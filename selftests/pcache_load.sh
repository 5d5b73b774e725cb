#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Load and unload: the sysfs and debugfs trees appear and go, the module
# parameter sets hooks_enabled at load, the loader refuses a second insmod.
. "$(dirname "$0")/lib.sh"

pcache_unload
mark=$(dmesg | wc -l)
t_check "insmod pcache" pcache_load
# What loading printed: the one "loaded" line and nothing else (a
# workqueue name too long once printed a truncation warning here).
# The kernel's own taint notice at a boot's first out-of-tree load is not
# pcache's.
load_log=$(dmesg | tail -n +"$((mark + 1))" | grep -v 'taints kernel')
t_diag "load printed: $load_log"
t_check "load prints exactly one line, 'version ... loaded'" \
	test "$(printf '%s\n' "$load_log" | grep -c .)" = 1 -a \
	     -n "$(printf '%s\n' "$load_log" | grep 'pcache: version .* loaded, hooks enabled')"
t_check "sysfs root /sys/kernel/mm/pcache exists" test -d "$SYSFS"
# One directory per feature table entry's sysfs_dir (the two tmem
# fronts share tmem/), and no other.
dirs=$(cd "$SYSFS" && find . -mindepth 1 -maxdepth 1 -type d -printf '%f\n' | sort | tr '\n' ' ')
t_diag "feature directories: $dirs"
t_check "feature directories are exactly faultaround/ fork/ replication/ tmem/" \
	test "$dirs" = "faultaround fork replication tmem "
t_check "hooks_enabled is 1 after a default load" \
	test "$(cat "$SYSFS/hooks_enabled")" = 1
t_check "version reads the module's version" \
	test "$(cat "$SYSFS/version")" = "$(cat /sys/module/pcache/version)"
t_check "debugfs hooks lists all 27 call sites" \
	test "$(wc -l < "$DEBUGFS/hooks")" = 27
t_check "debugfs has one counter file per site" \
	test "$(ls "$DEBUGFS/sites" | wc -l)" = 27
# The module loader itself refuses a second module of the same name
# (EEXIST) before pcache's init runs.  So this does not reach pcache's own
# refusal, pcache_register_hooks() returning -EBUSY while another set of
# ops is registered: no insmod of a module named pcache can get there
# while pcache is loaded.
err=$(pcache_load 2>&1)
rc=$?
t_diag "second insmod: exit $rc: $err"
t_check "a second insmod of the loaded module is refused by the loader (EEXIST)" \
	test $rc != 0 -a -n "$(echo "$err" | grep 'File exists')"
t_check "the first instance is still loaded" test -d "$SYSFS"
t_check "rmmod pcache" pcache_unload
t_check "sysfs root is gone after rmmod" test ! -e "$SYSFS"
t_check "debugfs root is gone after rmmod" test ! -e "$DEBUGFS"
t_check "insmod with hooks_enabled=0" pcache_load hooks_enabled=0
t_check "hooks_enabled reads 0" test "$(cat "$SYSFS/hooks_enabled")" = 0
before=$(hooks_total)
poke_hooks
t_check "no hook fires while hooks_enabled=0" test "$(hooks_total)" = "$before"
echo 1 > "$SYSFS/hooks_enabled"
poke_hooks
t_check "hooks fire once hooks_enabled=1" test "$(hooks_total)" -gt "$before"
t_check "rmmod with hooks enabled" pcache_unload
t_done
