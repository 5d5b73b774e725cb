#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Fork-on-write (fork/, issue 5) on a slow stable-writes device: null_blk,
# memory backed, every request completing after 3 ms (irqmode=2,
# completion_nsec), queue/stable_writes set before mkfs and mount.
#
#  - sysfs: defaults, bad input refused with EINVAL, value kept;
#  - the mapping really needs stable writes: with fork off, writes to a
#    page under writeback reach folio_wait_stable() (its hook counts only
#    when mapping_stable_writes() holds);
#  - integrity torture (pcache_fork torture) on ext4 and on ext2: writes,
#    rewrites under writeback, mmap stores (forked and mremap-moved
#    mappings), truncates, hole punches, fsyncs from several processes;
#    every byte checked, again after sync + drop_caches, and after umount
#    + mount; the raw device holds the newest version of every block,
#    with a valid checksum (no stale, torn or reordered write);
#  - writeback accounting exact afterwards: nr_writeback of every node,
#    the bdi's BdiWriteback, the memory cgroup's file_writeback are 0;
#  - refusal: an O_DIRECT write pinning the page (refused_pinned), a
#    vmsplice holding it (refused_refs), no memory for the copy
#    (fail_page_alloc: refused_nomem): data right in each case;
#  - fsync, fdatasync, O_SYNC, sync_file_range and syncfs return only once
#    forked-off I/O is on the device (read back raw);
#  - disable and rmmod with forked folios in flight (a 100 ms device):
#    they wait, in_flight 0, data right, no splat.
. "$(dirname "$0")/lib.sh"

PF=$BUILD/selftests/pcache_fork
DEV=/dev/nullb0
FM=$MNT-fork
FK=$SYSFS/fork
MODEL=/tmp/pcache-fork-model

[ -x "$PF" ] || t_skip_all "$PF is not built"
need_null_blk

cleanup() {
	umount "$FM" 2>/dev/null
	pcache_unload
	rmmod null_blk 2>/dev/null
	cg_teardown
}
trap cleanup EXIT

# mkfs_mount TYPE: a fresh TYPE filesystem on $DEV at $FM.
mkfs_mount() {
	mkdir -p "$FM"
	"mkfs.$1" -q -F -b 4096 $DEV > /dev/null 2>&1 &&
		mount -t "$1" $DEV "$FM"
}

fget() { cat "$FK/$1"; }
fset() { echo "$2" > "$FK/$1"; }
fst() { cat "$FK/stats/$1"; }
fstats() { stats_line "$FK"; }
# wait_in_flight_0: stats/in_flight is 0 within 10 s.
wait_in_flight_0() { wait_zero "$FK/stats/in_flight" 100; }
# wb_zero: nothing under writeback or dirty once sync returned: the
# nodes' nr_writeback (exact after vm.stat_refresh) and the test cgroup's
# file_writeback and file_dirty (memcg stats are flushed lazily: polled
# for up to 10 s, syncing again, so that only a count that never comes
# back fails).  The bdi's BdiWriteback is shown, not checked: debugfs
# reads its per-CPU counter without summing it.
wb_zero() {
	local _ f n bad bdi
	for _ in $(seq 20); do
		sync
		echo 1 > /proc/sys/vm/stat_refresh 2>/dev/null
		bad=
		for f in /sys/devices/system/node/node*/vmstat; do
			n=$(awk '$1 == "nr_writeback" { print $2 }' "$f")
			[ "$n" = 0 ] || bad="$bad $f:nr_writeback=$n"
		done
		if [ -f "$CG/memory.stat" ]; then
			n=$(awk '$1 == "file_writeback" || $1 == "file_dirty" { s = s " " $1 "=" $2; if ($2 != 0) b = 1 } END { if (b) print s }' "$CG/memory.stat")
			[ -z "$n" ] || bad="$bad memcg:$n"
		fi
		[ -z "$bad" ] && break
		sleep 0.5
	done
	[ -z "$bad" ] || { t_diag "still:$bad"; return 1; }
}
# bdi_zero: the exact writeback and dirty counts of nullb0's bdi (the
# bdi's own debugfs stats show a per-CPU estimate) are 0 after sync.
bdi_zero() {
	local _ dev line
	dev=$(cat /sys/block/nullb0/dev)
	for _ in $(seq 20); do
		sync
		line=$(grep "^$dev " "$DEBUGFS/fork/wb")
		[ -n "$line" ] || { t_diag "$dev not in fork/wb"; return 1; }
		echo "$line" | grep -q " writeback 0 reclaimable 0$" && return 0
		sleep 0.5
	done
	t_diag "bdi: $line"
	return 1
}
section_start=$(date +%s)
section() {
	local t
	t=$(date +%s)
	t_diag "-- $* (previous section: $((t - section_start)) s)"
	section_start=$t
}

nb_load 3000000 || t_skip_all "cannot load null_blk"
mkfs_mount ext4 || t_skip_all "cannot make and mount ext4 on $DEV"
pcache_load || { t_fail "insmod pcache"; t_done; }

# ---------------------------------------------------------------------
section "sysfs"
t_check "enabled is 0 by default" test "$(fget enabled)" = 0
t_check "filesystems is 'ext4 ext2' by default" test "$(fget filesystems)" = "ext4 ext2"
# refuse KNOB VALUE WHY: the write fails with EINVAL and changes nothing.
refuse() { t_refused "$1: '$2' ($3)" "$FK/$1" "$2"; }
refuse enabled "" empty
refuse enabled 2 "out of range"
refuse enabled yes text
refuse enabled -1 negative
refuse filesystems xfs "not known to work"
refuse filesystems "ext4 btrfs" "one not known to work"
refuse filesystems "ext4,tmpfs" "one not known to work"
t_check "  dmesg says why" sh -c "dmesg | grep -q \"filesystems: 'btrfs' is not known to work\""
accept() {
	local err
	err=$( (echo "$2" > "$FK/$1") 2>&1)
	t_check "$1 accepts '$2'" test -z "$err" -a "$(fget "$1")" = "${3:-$2}"
}
accept filesystems ext2
accept filesystems "ext2,ext4" "ext2 ext4"
accept filesystems "ext4 ext2"
accept enabled 1
accept enabled 0
for s in in_flight forked forked_mkwrite fork_refused refused_pinned \
	 refused_refs refused_nomem refused_dirty refused_large \
	 refused_unsupported waited waited_order wb_skipped order_violations released \
	 release_busy; do
	t_check "stats/$s reads a number" grep -qxE '[0-9]+' "$FK/stats/$s"
done
t_check "debugfs fork/avoided_wait_us exists" test -e "$DEBUGFS/fork/avoided_wait_us"
t_check "debugfs fork/wb lists the ext4 test filesystem" \
	grep -q "^$(cat /sys/block/nullb0/dev) ext4 writeback" "$DEBUGFS/fork/wb"
echo 0 > $SYSFS/hooks_enabled
t_check_fails "enabled=1 refused while hooks_enabled is 0" sh -c "echo 1 > $FK/enabled"
echo 1 > $SYSFS/hooks_enabled
fset enabled 1
t_check_fails "hooks_enabled=0 refused while fork is enabled" sh -c "echo 0 > $SYSFS/hooks_enabled"
fset enabled 0

# ---------------------------------------------------------------------
section "stable writes: the mapping needs them, fork on skips the wait"
ws0=$(site_count wait_stable)
"$PF" stable "$FM/stable" 20 > /tmp/pf.out 2>&1
rc=$?
ws1=$(site_count wait_stable)
doff=$((ws1 - ws0))
t_diag "fork off: $(tr '\n' ' ' < /tmp/pf.out)"
t_check "fork off: stable run exit 0 (data right)" test $rc = 0
t_check "fork off: writes to pages under writeback reach folio_wait_stable (+$doff)" \
	test $doff -ge 10
fset enabled 1
f0=$(fst forked)
# Traced with tools/bpftrace/pcache-fork.bt (pcache_bpftrace leaves
# tracing off).
echo 1 > /sys/kernel/tracing/tracing_on 2>/dev/null
bto=/tmp/pcache-bt-fork.out
bt_start $bto "$TOP/tools/bpftrace/pcache-fork.bt" ||
	t_diag "pcache-fork.bt did not attach: $(cat $bto)"
ws1=$(site_count wait_stable)
"$PF" stable "$FM/stable" 20 > /tmp/pf.out 2>&1
rc=$?
ws2=$(site_count wait_stable)
bt_stop
sed 's/^/# /' $bto
t_diag "fork on: $(tr '\n' ' ' < /tmp/pf.out)"
t_diag "fork on: $(fstats)"
t_check "fork on: stable run exit 0 (data right)" test $rc = 0
t_check "fork on: rewrites under writeback were forked (+$(($(fst forked) - f0)))" \
	test $(($(fst forked) - f0)) -ge 10
t_check "pcache-fork.bt counted forks at write_begin" \
	grep -qE '^@forked\[3\]: [1-9]' $bto
t_check "pcache-fork.bt drew the avoided waits" grep -q '^@avoided_wait_us' $bto

# torture FSTYPE: the integrity torture on FSTYPE, checks through the page
# cache, after drop_caches, on the raw device and after a remount.
torture() {
	local fs=$1 f0 m0 fn rc m
	rm -rf "$MODEL" && mkdir -p "$MODEL"
	f0=$(fst forked) m0=$(fst forked_mkwrite)
	cg_run "$PF" torture "$FM" 4 ${FORK_ITERS:-1500} 42 "$MODEL" > /tmp/pf.out 2>&1
	rc=$?
	grep -E '^(worker|torture|#)' /tmp/pf.out | head -30 | sed 's/^/# /'
	# A worker that made no progress for 2 minutes is shown (above) and
	# killed (torture_hung): the check fails then, not the timeout.
	t_check "$fs torture: exit 0, no mismatch, no worker hung ($(field torture_ops /tmp/pf.out) ops)" \
		test $rc = 0 -a "$(field torture_mismatches /tmp/pf.out)" = 0 \
		-a -z "$(field torture_hung /tmp/pf.out)"
	t_diag "$fs: $(fstats)"
	t_check "$fs torture: writes were forked (+$(($(fst forked) - f0)))" \
		test $(($(fst forked) - f0)) -gt 0
	t_check "$fs torture: mmap write faults were forked (+$(($(fst forked_mkwrite) - m0)))" \
		test $(($(fst forked_mkwrite) - m0)) -gt 0
	t_check "$fs torture: no copy's writeback started before its old I/O ended" \
		test "$(fst order_violations)" = 0
	sync
	t_check "$fs: in_flight back to 0" wait_in_flight_0
	t_check "$fs: every forked folio released (released == forked)" \
		test "$(fst released)" = "$(fst forked)"
	t_check "$fs: nothing under writeback or dirty after sync (nodes, memcg)" wb_zero
	t_check "$fs: the bdi's writeback and dirty counts exactly 0 after sync" bdi_zero
	# The verifier's status is kept first: the $(...) in a check's name
	# would reset $?.
	"$PF" verify "$FM" "$MODEL" > /tmp/pf.out 2>&1
	rc=$?
	t_check "$fs: every byte right after sync ($(field verify_blocks /tmp/pf.out) blocks)" test $rc = 0
	drop_caches
	"$PF" verify "$FM" "$MODEL" > /tmp/pf.out 2>&1
	rc=$?
	t_check "$fs: every byte right after drop_caches" test $rc = 0
	for m in "$MODEL"/*; do
		[ -f "$m" ] || continue
		case $m in *.map | *.[0-9]*) continue ;; esac
		"$PF" fiemap "$FM/$(basename "$m")" "$m.map" > /dev/null 2>&1 ||
			t_diag "fiemap $(basename "$m") failed"
	done
	umount "$FM"
	local bad=0 checked=0 line
	for m in "$MODEL"/*.map; do
		"$PF" rawcheck $DEV "$m" "${m%.map}" > /tmp/pf.out 2>&1 || {
			bad=$((bad + 1))
			grep -E '^raw_' /tmp/pf.out | tr '\n' ' ' | sed "s|^|# $(basename "$m"): |"
			echo
		}
		checked=$((checked + $(field raw_checked /tmp/pf.out) + 0))
	done
	t_check "$fs raw device: newest version of every block, valid checksums ($checked blocks)" \
		test $bad = 0 -a $checked -gt 0
	mount -t "$fs" $DEV "$FM"
	"$PF" verify "$FM" "$MODEL" > /tmp/pf.out 2>&1
	rc=$?
	t_check "$fs: every byte right after umount and mount" test $rc = 0
}

cg_setup 256M || t_fail "memory cgroup"
section "integrity torture, ext4"
torture ext4

# ---------------------------------------------------------------------
section "refusal: GUP pin, pipe reference, no memory"
p0=$(fst refused_pinned) f0=$(fst forked)
"$PF" pin-dio "$FM" 20 > /tmp/pf.out 2>&1
rc=$?
t_diag "pin-dio: $(grep -E '^pin' /tmp/pf.out | tr '\n' ' ') refused_pinned +$(($(fst refused_pinned) - p0))"
t_check "O_DIRECT write from the page while it is rewritten: data right" test $rc = 0
t_check "  fork refused for the pinned page (refused_pinned +$(($(fst refused_pinned) - p0)))" \
	test $(($(fst refused_pinned) - p0)) -gt 0
r0=$(fst refused_refs)
"$PF" pin-vmsplice "$FM" 20 > /tmp/pf.out 2>&1
rc=$?
t_diag "pin-vmsplice: $(grep -E '^vmsplice' /tmp/pf.out | tr '\n' ' ')"
t_check "vmsplice of the page while it is rewritten: data right" test $rc = 0
t_check "  fork refused for the page a pipe holds (refused_refs +$(($(fst refused_refs) - r0)))" \
	test $(($(fst refused_refs) - r0)) -gt 0
FA=/sys/kernel/debug/fail_page_alloc
if [ -d $FA ]; then
	n0=$(fst refused_nomem)
	fi_reset
	echo Y > $FA/task-filter
	echo N > $FA/ignore-gfp-wait
	echo N > $FA/ignore-gfp-highmem
	echo 0 > $FA/verbose
	echo 100 > $FA/probability
	echo 1 > $FA/interval
	echo 8 > $FA/times
	echo 0 > $FA/min-order
	PCACHE_FORK_MAKE_IT_FAIL=1 "$PF" stable "$FM/stable" 20 > /tmp/pf.out 2>&1
	rc=$?
	fi_reset
	t_diag "no memory: $(tr '\n' ' ' < /tmp/pf.out)"
	t_check "no memory for the copy: data right" test $rc = 0
	t_check "  fork refused, counted (refused_nomem +$(($(fst refused_nomem) - n0)))" \
		test $(($(fst refused_nomem) - n0)) -gt 0
else
	t_skip "no memory for the copy: no fail_page_alloc"
fi

# ---------------------------------------------------------------------
section "fsync and friends wait for forked-off I/O"
w0=$(fst waited)
"$PF" fsync-raw "$FM" $DEV 40 > /tmp/pf.out 2>&1
rc=$?
t_diag "$(grep -E '^fsync' /tmp/pf.out | tr '\n' ' ')"
t_check "fsync, fdatasync, O_SYNC, sync_file_range, syncfs: the device holds the newest data" \
	test $rc = 0
t_check "  they waited for forked-off I/O (waited +$(($(fst waited) - w0)))" \
	test $(($(fst waited) - w0)) -gt 0

# ---------------------------------------------------------------------
section "integrity torture, ext2"
umount "$FM"
if mkfs_mount ext2; then
	torture ext2
else
	t_fail "mkfs.ext2 and mount"
fi
umount "$FM"

# ---------------------------------------------------------------------
section "disable and rmmod with forked folios in flight (100 ms device)"
rmmod null_blk
nb_load 100000000 && mkfs_mount ext4 || t_fail "null_blk with 100 ms requests"
fset enabled 1
# A writer rewriting 32 hot pages, starting their writeback every 32
# writes and pausing 20 ms after each: for a few seconds, forked-off
# folios are in flight most of the time.
PCACHE_FORK_HOT_NAP_US=20000 "$PF" hot "$FM/hot" 32 8000 32 write > /tmp/pf-hot.out 2>&1 &
hp=$!
# wait_in_flight: stats/in_flight above 0 within 10 s; prints it.
wait_in_flight() {
	local _ n=0
	for _ in $(seq 200); do
		n=$(fst in_flight)
		[ "$n" -gt 0 ] && break
		sleep 0.05
	done
	echo "$n"
}
inf=$(wait_in_flight)
t_check "forked folios in flight ($inf)" test "$inf" -gt 0
fset enabled 0
t_check "enabled=0 waited for them: in_flight 0 when it returned" test "$(fst in_flight)" = 0
t_check "  every forked folio released" test "$(fst released)" = "$(fst forked)"
fset enabled 1
inf=$(wait_in_flight)
t_check "forked folios in flight again ($inf)" test "$inf" -gt 0
t_check "rmmod with forked folios in flight" rmmod pcache
wait $hp
rc=$?
t_diag "writer: $(tr '\n' ' ' < /tmp/pf-hot.out)"
t_check "  the writer's data right (it checks every page at the end)" \
	test $rc = 0 -a "$(field hot_bad /tmp/pf-hot.out)" = 0
t_check "  nothing under writeback or dirty after sync" wb_zero
cp "$FM/hot" /tmp/pcache-fork-hot
umount "$FM" && mount -t ext4 $DEV "$FM"
t_check "  data right after umount and mount" cmp -s "$FM/hot" /tmp/pcache-fork-hot
rm -f /tmp/pcache-fork-hot

t_done
