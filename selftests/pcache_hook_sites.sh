#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Every hook call site fires under a workload that exercises it (its
# counter rises), and none fires once hooks_enabled is 0.  The workload
# checks every byte it reads back.
. "$(dirname "$0")/lib.sh"

[ -x "$WL" ] || t_skip_all "$WL is not built"
[ -b "$DISK" ] || t_skip_all "no test disk $DISK"

# workload: one pass over every hooked path; prints nothing, fails on a
# wrong byte or a failed command.
workload() {
	local f=$MNT/sites-file big=$MNT/sites-big rc=0
	fs_mount || return 1				# mount
	"$WL" write "$f" 2048 11 || rc=1		# write_begin wb_* wait_stable fdatawait
	"$WL" verify "$f" 2048 11 || rc=1		# read_batch
	"$WL" dontneed "$f" || rc=1			# invalidate
	"$WL" verify "$f" 2048 11 || rc=1		# readahead
	"$WL" mmap-read "$f" 2048 11 || rc=1		# fault_around map_pages
	# A read fault that fault-around does not serve (the hook is for read
	# faults only): fault-around off for one pass.
	fab=$(cat /sys/kernel/debug/fault_around_bytes)
	echo 4096 > /sys/kernel/debug/fault_around_bytes
	"$WL" mmap-read "$f" 2048 11 || rc=1		# read_fault
	echo "$fab" > /sys/kernel/debug/fault_around_bytes
	"$WL" dontneed "$f" || rc=1
	"$WL" mmap-random "$f" 2048 11 || rc=1		# read_folio
	"$WL" mmap-write "$f" 2048 12 || rc=1		# mkwrite
	"$WL" verify "$f" 2048 12 || rc=1
	"$WL" odirect-write "$f" 2048 13 || rc=1	# invalidate2
	"$WL" verify "$f" 2048 13 || rc=1
	truncate -s 4096 "$f" || rc=1			# truncate
	"$WL" verify "$f" 4 13 || rc=1
	rm -f "$f" || rc=1				# evict
	"$WL" write "$big" 32768 14 || rc=1
	drop_caches
	cg_run "$WL" verify "$big" 32768 14 || rc=1	# remove (reclaim)
	rm -f "$big"
	swap_setup 64 || rc=1				# swapon
	cg_run "$WL" anon 40 15 || rc=1		# swap_store swap_load swap_invalidate
	swap_teardown || rc=1				# swapoff
	fs_umount || rc=1				# unmount
	return $rc
}

pcache_unload
fs_setup || t_skip_all "cannot make the test filesystem"
fs_umount
cg_setup 16M || t_skip_all "no memory cgroup"
pcache_load || t_skip_all "cannot load pcache"

declare -A before after
snapshot before
t_check "workload with hooks enabled: every byte right" workload
snapshot after
for s in $(site_names); do
	if [ "${after[$s]}" -gt "${before[$s]}" ]; then
		t_ok "site $s fires ($((after[$s] - before[$s])) times)"
	else
		t_fail "site $s did not fire (count ${after[$s]})"
	fi
done

echo 0 > "$SYSFS/hooks_enabled"
declare -A off0 off1
snapshot off0
t_check "workload with hooks disabled: every byte right" workload
snapshot off1
fired=
for s in $(site_names); do
	[ "${off1[$s]}" = "${off0[$s]}" ] || fired="$fired $s"
done
if [ -z "$fired" ]; then
	t_ok "no site fires with hooks_enabled=0"
else
	t_fail "sites fired with hooks_enabled=0:$fired"
fi

pcache_unload
cg_teardown
t_done
