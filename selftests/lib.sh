#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Shared helpers of the pcache selftests.  They run inside the guest (see
# tools/vm.sh), as root, from the top of the source tree.  Each test prints
# TAP: one "ok N name" / "not ok N name" line per check, the plan last.

TOP=${TOP:-$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)}
BUILD=${BUILD:-$TOP/build}
WL=$BUILD/selftests/pcache_workload
PCACHE_KO=${PCACHE_KO:-$TOP/module/pcache.ko}
PCACHE_KUNIT_KO=${PCACHE_KUNIT_KO:-$TOP/module/pcache_kunit.ko}
# The kernel tree the guest booted (its modules: null_blk).
KTREE=${PCACHE_KTREE:-$BUILD/linux}
SYSFS=/sys/kernel/mm/pcache
DEBUGFS=/sys/kernel/debug/pcache
MNT=/tmp/pcache-mnt
CG=/sys/fs/cgroup/pcache-test
DISK=${PCACHE_DISK:-/dev/vda}

KSFT_SKIP=4
t_n=0
t_failed=0

echo "TAP version 13"

# PCACHE_CHECK_TIMES=1: each check also prints the seconds since the
# test began (to see where a test spends its time).
t_time() { [ -z "${PCACHE_CHECK_TIMES:-}" ] || echo "# at ${SECONDS}s"; }
t_ok() { t_n=$((t_n + 1)); echo "ok $t_n $*"; t_time; }
t_fail() { t_n=$((t_n + 1)); t_failed=$((t_failed + 1)); echo "not ok $t_n $*"; t_time; }
t_skip() { t_n=$((t_n + 1)); echo "ok $t_n $* # SKIP"; }
t_diag() { echo "# $*"; }

# t_check NAME CMD...: one check that CMD succeeds.
t_check() {
	local name=$1
	shift
	if "$@"; then t_ok "$name"; else t_fail "$name"; fi
}

# t_check_fails NAME CMD...: one check that CMD fails.
t_check_fails() {
	local name=$1
	shift
	if "$@"; then t_fail "$name"; else t_ok "$name"; fi
}

# t_done: print the plan and exit as kselftest does.
t_done() {
	echo "1..$t_n"
	[ "$t_failed" = 0 ] || exit 1
	exit 0
}

# t_skip_all REASON: the whole test cannot run here.
t_skip_all() {
	echo "1..0 # SKIP $*"
	exit $KSFT_SKIP
}

pcache_loaded() { [ -d /sys/module/pcache ]; }

# A feature's switch, for the tests that switch them all: its enabled
# file, or fault-around's mode (on: adaptive).  feat_file FEAT,
# feat_value FEAT 1|0 (what the file takes), feat_on FEAT (is it on?).
feat_file() {
	if [ "$1" = faultaround ]; then echo "$SYSFS/faultaround/mode"; else echo "$SYSFS/$1/enabled"; fi
}
feat_value() {
	if [ "$1" != faultaround ]; then echo "$2"; elif [ "$2" = 1 ]; then echo adaptive; else echo off; fi
}
feat_on() {
	local v
	read -r v < "$(feat_file "$1")" || return 1
	[ "$v" = 1 ] || [[ "$v" == *"[adaptive]"* || "$v" == *"[fixed]"* ]]
}

# fi_filter START END DEPTH TIMES: failslab and fail_page_alloc fail
# only allocations with START..END (pcache's text) in the first DEPTH
# frames of their stack, sleeping ones and order 0 too, TIMES of them
# (-1: no limit).  The probability stays 0: the caller sets it, or uses
# /proc/thread-self/fail-nth.  fi_reset undoes it.
fi_filter() {
	local a d
	for a in failslab fail_page_alloc; do
		d=/sys/kernel/debug/$a
		echo 0 > "$d/probability" &&
		echo "$1" > "$d/require-start" && echo "$2" > "$d/require-end" &&
		echo 0 > "$d/reject-start" && echo 0 > "$d/reject-end" &&
		echo "$3" > "$d/stacktrace-depth" && echo N > "$d/ignore-gfp-wait" &&
		echo N > "$d/task-filter" && echo 0 > "$d/verbose" &&
		echo 1 > "$d/interval" && echo 0 > "$d/space" &&
		echo "$4" > "$d/times" || return 1
	done
	echo N > /sys/kernel/debug/fail_page_alloc/ignore-gfp-highmem &&
	echo 0 > /sys/kernel/debug/fail_page_alloc/min-order &&
	echo N > /sys/kernel/debug/failslab/cache-filter
}

# fi_reset: failslab and fail_page_alloc as they are at boot (no
# failure, no filter).  A selftest that set them up calls it when it is
# done, so that the next finds no stack filter on an old load's text.
fi_reset() {
	local a d
	for a in failslab fail_page_alloc; do
		d=/sys/kernel/debug/$a
		[ -d "$d" ] || continue
		echo 0 > "$d/probability"
		echo 1 > "$d/interval"
		echo 1 > "$d/times"
		echo 0 > "$d/space"
		echo 2 > "$d/verbose"
		echo N > "$d/task-filter"
		echo 0 > "$d/require-start"
		echo 18446744073709551615 > "$d/require-end"
		echo 0 > "$d/reject-start"
		echo 0 > "$d/reject-end"
		echo 32 > "$d/stacktrace-depth" 2>/dev/null
		echo Y > "$d/ignore-gfp-wait"
	done 2>/dev/null
	[ -d /sys/kernel/debug/fail_page_alloc ] || return 0
	echo Y > /sys/kernel/debug/fail_page_alloc/ignore-gfp-highmem
	echo 1 > /sys/kernel/debug/fail_page_alloc/min-order
	echo N > /sys/kernel/debug/failslab/cache-filter 2>/dev/null
	return 0
}

# pcache_load [PARAM=VALUE...] [--ko FILE]: insmod the module.  Under
# run_guest.sh, where the load had its code goes to $PCACHE_TEXT_LOG (its
# kmemleak check tells pcache's allocations by it once the module is gone
# and the addresses in a backtrace no longer have names).
pcache_load() {
	local ko=$PCACHE_KO
	if [ "${1:-}" = --ko ]; then ko=$2; shift 2; fi
	insmod "$ko" "$@" || return
	[ -z "${PCACHE_TEXT_LOG:-}" ] ||
		cat "$DEBUGFS/text" >> "$PCACHE_TEXT_LOG" 2>/dev/null
	return 0
}

pcache_unload() {
	pcache_loaded || return 0
	rmmod pcache
}

# site_count SITE: the count of one hook call site.
site_count() { cat "$DEBUGFS/sites/$1"; }

site_names() { ls "$DEBUGFS/sites"; }

# snapshot ARRAY: save every site's count into the associative array.
snapshot() {
	local -n snap=$1
	local s
	for s in $(site_names); do
		snap[$s]=$(site_count "$s")
	done
}

hooks_total() { awk '{ n += $3 } END { print n + 0 }' "$DEBUGFS/hooks"; }

# fs_setup: ext4 on the test disk, stable pages on (so folio_wait_stable()
# has a wait to announce), mounted at $MNT.
fs_setup() {
	[ -b "$DISK" ] || return 1
	mkdir -p "$MNT"
	echo 1 > "/sys/block/$(basename "$DISK")/queue/stable_writes" || return 1
	if [ ! -e /tmp/.pcache-mkfs ]; then
		mkfs.ext4 -q -F -E lazy_itable_init=0,lazy_journal_init=0 "$DISK" ||
			return 1
		touch /tmp/.pcache-mkfs
	fi
	fs_mount
}

fs_mount() { mountpoint -q "$MNT" || mount -t ext4 "$DISK" "$MNT"; }
fs_umount() { ! mountpoint -q "$MNT" || umount "$MNT"; }

# cg_setup MAX: a memory cgroup limited to MAX.
cg_setup() {
	grep -q memory /sys/fs/cgroup/cgroup.subtree_control ||
		echo +memory > /sys/fs/cgroup/cgroup.subtree_control || return 1
	mkdir -p "$CG"
	echo "$1" > "$CG/memory.max"
}

# cg_run CMD...: run CMD inside the test cgroup.
cg_run() {
	bash -c 'echo $$ > "$0/cgroup.procs" && exec "$@"' "$CG" "$@"
}

cg_teardown() { [ ! -d "$CG" ] || rmdir "$CG" 2>/dev/null || true; }

# swap_setup MIB [FILE]: a swap file on the test filesystem (default
# $MNT/swapfile; an existing one is reused as it is), enabled.
swap_setup() {
	local f=${2:-$MNT/swapfile}
	[ -f "$f" ] || {
		dd if=/dev/zero of="$f" bs=1M count="$1" status=none &&
		chmod 600 "$f" && mkswap -q "$f" >/dev/null
	} || return 1
	swapon "$f"
}

# swap_teardown [FILE]
swap_teardown() {
	local f=${1:-$MNT/swapfile}
	if grep -q "^$f " /proc/swaps; then
		swapoff "$f"
	fi
}

# need_null_blk: skip the whole selftest unless null_blk can be loaded
# afresh (built in $KTREE or installed, and not loaded and busy).
NB_KO=$KTREE/drivers/block/null_blk/null_blk.ko
need_null_blk() {
	[ -e /sys/module/null_blk ] && ! rmmod null_blk 2>/dev/null &&
		t_skip_all "null_blk is loaded and busy"
	[ -f "$NB_KO" ] || modinfo null_blk > /dev/null 2>&1 ||
		t_skip_all "no null_blk module"
}

# nb_load NSEC: a 1 GiB memory-backed null_blk (/dev/nullb0) whose
# requests each take NSEC ns, 4 KiB blocks, stable writes on.
nb_load() {
	local args="nr_devices=1 memory_backed=1 gb=1 bs=4096 irqmode=2 completion_nsec=$1"
	# shellcheck disable=SC2086 # a list of parameters
	if [ -f "$NB_KO" ]; then
		insmod "$NB_KO" $args
	else
		modprobe null_blk $args
	fi || return 1
	udevadm settle 2>/dev/null
	[ -b /dev/nullb0 ] && echo 1 > /sys/block/nullb0/queue/stable_writes
}

drop_caches() { sync; echo 3 > /proc/sys/vm/drop_caches; }

# poke_hooks: make a few hooks fire for sure (mount and unmount a tmpfs,
# read a file through the page cache).
poke_hooks() {
	mkdir -p /tmp/pcache-poke
	mount -t tmpfs none /tmp/pcache-poke && umount /tmp/pcache-poke
	cat /etc/os-release > /dev/null
}

# ---- transcendent memory (tmem/ephemeral = cleancache, tmem/persistent =
# frontswap); see Documentation/ABI/testing/sysfs-kernel-mm-pcache.
TMEM=${PCACHE_TMEM:-$SYSFS/tmem}

# tmem_get FRONT KNOB, tmem_set FRONT KNOB VALUE, tmem_stat FRONT COUNTER
tmem_get() { cat "$TMEM/$1/$2"; }
tmem_set() { echo "$3" > "$TMEM/$1/$2"; }
tmem_stat() { cat "$TMEM/$1/stats/$2"; }

# stats_line DIR: every counter of DIR/stats/ on one line, "name=value",
# for diagnostics.
stats_line() {
	local f
	for f in "$1"/stats/*; do
		printf '%s=%s ' "$(basename "$f")" "$(cat "$f")"
	done
	echo
}

# tmem_stats FRONT: every counter of FRONT on one line.
tmem_stats() { stats_line "$TMEM/$1"; }

# wait_zero FILE TENTHS: FILE (a gauge in sysfs) reads 0 within TENTHS
# tenths of a second; says what it still reads if not.
wait_zero() {
	local _
	for _ in $(seq "$2"); do
		[ "$(cat "$1")" = 0 ] && return 0
		sleep 0.1
	done
	t_diag "$(basename "$1") still $(cat "$1")"
	return 1
}

# field KEY FILE: the second word of FILE's first line starting with KEY.
field() { awk -v k="$1" '$1 == k { print $2; exit }' "$2"; }
# kv KEY LINE...: the value after KEY in a "key value key value ..." line.
kv() { local k=$1; shift; echo "$*" | awk -v k="$k" '{ for (i = 1; i < NF; i++) if ($i == k) { print $(i + 1); exit } }'; }

# disk_stat FIELD [DISK]: one field of /sys/block/DEV/stat (3: sectors
# read, 7: sectors written).
disk_stat() {
	awk -v f="$1" '{ print $f }' "/sys/block/$(basename "${2:-$DISK}")/stat"
}

# vmstat_get NAME: a counter of /proc/vmstat (pswpin, pswpout, ...).
vmstat_get() { awk -v k="$1" '$1 == k { print $2 }' /proc/vmstat; }

# cg_evict: write back, then push the test cgroup's page cache out of
# memory by memory pressure on the cgroup (memory.reclaim, 5.19+), which
# takes the reclaim path (a clean folio removed with a shadow entry), as
# hitting memory.max does.  fadvise DONTNEED and drop_caches would
# invalidate instead.
cg_evict() {
	local _
	[ -e "$CG/memory.reclaim" ] || return 1
	sync
	# It may stop short with EAGAIN when nothing more is reclaimable.
	for _ in 1 2 3; do
		echo "$(($(cat "$CG/memory.current") + 1048576))" \
			> "$CG/memory.reclaim" 2>/dev/null && break
	done
	return 0
}

# cg_file_kib: KiB of page cache charged to the test cgroup.
cg_file_kib() { awk '$1 == "file" { print int($2 / 1024) }' "$CG/memory.stat"; }

# wl_cg CONTENT CMD ARG...: pcache_workload in the test cgroup, with
# CONTENT (mixed: half-compressible pages, random: the plain pattern).
wl_cg() {
	local content=$1
	shift
	cg_run env PCACHE_WL_CONTENT="$content" "$WL" "$@"
}

# hold_start MIB SEED: `pcache_workload anon-hold` in the test cgroup, in
# the background: fills MIB of anonymous memory (mixed content), checks it
# once, then waits.  Sets HOLD_PID (the workload) and HOLD_JOB (to wait
# for).  Fails if the workload died before it was ready.
HOLD_DIR=/tmp/pcache-hold
hold_start() {
	rm -rf "$HOLD_DIR"
	mkdir -p "$HOLD_DIR"
	cg_run "$WL" anon-hold "$1" "$2" "$HOLD_DIR" > "$HOLD_DIR/log" 2>&1 &
	HOLD_JOB=$!
	HOLD_PID=
	while [ ! -s "$HOLD_DIR/ready" ]; do
		kill -0 "$HOLD_JOB" 2>/dev/null || { wait "$HOLD_JOB"; return 1; }
		sleep 0.2
	done
	HOLD_PID=$(cat "$HOLD_DIR/ready")
}

# hold_check: the held workload checks every byte now (swapping it all
# back in); true if every byte was right.
hold_lines() { if [ -f "$HOLD_DIR/status" ]; then wc -l < "$HOLD_DIR/status"; else echo 0; fi; }
hold_check() {
	local n
	n=$(hold_lines)
	kill -USR1 "$HOLD_PID" 2>/dev/null || return 1
	while [ "$(hold_lines)" -le "$n" ]; do
		kill -0 "$HOLD_JOB" 2>/dev/null || return 1
		sleep 0.2
	done
	tail -1 "$HOLD_DIR/status" | grep -q '^ok '
}

# hold_stop: a last check of every byte, then the workload exits; its
# exit status (0: every byte right).
hold_stop() {
	[ -n "${HOLD_JOB:-}" ] || return 1
	kill -USR2 "$HOLD_PID" 2>/dev/null
	wait "$HOLD_JOB"
	local rc=$?
	HOLD_JOB=
	return $rc
}

# ---- diagnostics of the checks that pages are (or went) in a tmem pool

# cg_mem_line: the test cgroup's memory.current and the page cache
# counters of its memory.stat, on one line.
cg_mem_line() {
	[ -d "$CG" ] || { echo "no cgroup $CG"; return; }
	printf 'memory.current=%s ' "$(cat "$CG/memory.current")"
	awk '$1 ~ /^(file|file_dirty|file_writeback|active_file|inactive_file|slab_reclaimable|workingset_nodereclaim)$/ {
		printf "%s=%s ", $1, $2 }' "$CG/memory.stat"
	echo
}

# tmem_evict FRONT: cg_evict, keeping what FRONT's counters and the test
# cgroup read just before it, for tmem_diag.
tmem_evict() {
	TMEM_EVICT_BEFORE="$(tmem_stats "$1")"
	CG_EVICT_BEFORE=$(cg_mem_line)
	cg_evict
}

# tmem_diag FRONT: what a check of FRONT's pool depends on, as diagnostics:
# FRONT's counters and the test cgroup's memory now, and both as they were
# before the last tmem_evict.
tmem_diag() {
	t_diag "$1 now: $(tmem_stats "$1")"
	t_diag "cgroup now: $(cg_mem_line)"
	t_diag "inode-nr (inodes, unused): $(cat /proc/sys/fs/inode-nr)"
	[ -z "${TMEM_EVICT_BEFORE:-}" ] || {
		t_diag "$1 before the last tmem_evict: $TMEM_EVICT_BEFORE"
		t_diag "cgroup before the last tmem_evict: $CG_EVICT_BEFORE"
	}
}

# t_check_tmem FRONT NAME CMD...: t_check, and tmem_diag FRONT when CMD
# fails.
t_check_tmem() {
	local front=$1 name=$2
	shift 2
	if "$@"; then
		t_ok "$name"
	else
		t_fail "$name"
		tmem_diag "$front"
	fi
}

# ---- blank writes.  An empty printf format issues no write(2) at all;
# these are real writes of whitespace only, which every knob refuses with
# EINVAL.
# Each is one write(2) of the bytes given (printf %b; no newline added).
BLANK_INPUTS=('\n' ' ' '   ')
BLANK_NAMES=("a lone newline" "a single space" "spaces only")

# write_raw FILE BYTES: one write(2) of BYTES (printf %b escapes) to FILE;
# prints the error, if any.
write_raw() { (printf '%b' "$2" > "$1") 2>&1; }

# write_knob FILE VALUE: write like `echo VALUE > FILE`; prints the error.
write_knob() { (echo "$2" > "$1") 2>&1; }

# t_refused LABEL FILE VALUE [raw]: one check, named LABEL, that writing
# VALUE to the knob FILE fails with EINVAL and leaves FILE reading as
# before.  The write is `echo VALUE`, or with raw `printf '%b' VALUE` (no
# newline added).  A value that changed is put back, so one failure does
# not cascade.
t_refused() {
	local label=$1 f=$2 before err after
	before=$(cat "$f")
	if [ "${4:-}" = raw ]; then
		err=$(write_raw "$f" "$3")
	else
		err=$(write_knob "$f" "$3")
	fi
	after=$(cat "$f")
	if [[ "$err" == *"Invalid argument"* ]] && [ "$after" = "$before" ]; then
		t_ok "$label refused with EINVAL, '$before' kept"
	else
		t_fail "$label: got '${err:-success}', '$before' -> '$after'"
		[ "$after" = "$before" ] || echo "$before" > "$f"
	fi
}

# refuse_blank FILE LABEL: each of BLANK_INPUTS written to FILE is
# refused (t_refused), one check each.
refuse_blank() {
	local i
	for i in "${!BLANK_INPUTS[@]}"; do
		t_refused "$2: ${BLANK_NAMES[i]}" "$1" "${BLANK_INPUTS[i]}" raw
	done
}

# ---- bpftrace.  It prints "Attaching N probes..." before it attaches
# them, and a background job of a script starts with SIGINT ignored
# until bpftrace installs its handler: a workload run, or a SIGINT sent,
# right after that line can come too early (the events are missed, the
# SIGINT is lost and bpftrace runs on).

# bt_start OUT SCRIPT [ARG...]: bpftrace SCRIPT in the background, its
# output in OUT, its pid in BT_PID; returns once every probe it announced
# is attached (one perf event each), or fails after 120 s.
bt_start() {
	local out=$1 n have _
	shift
	BPFTRACE_NO_USER_SYMBOLS=1 bpftrace "$@" > "$out" 2>&1 &
	BT_PID=$!
	for _ in $(seq 240); do
		n=$(sed -nE 's/^Attaching ([0-9]+) probes?.*/\1/p' "$out" | head -1)
		if [ -n "$n" ]; then
			have=$(ls -l "/proc/$BT_PID/fd" 2>/dev/null | grep -c perf_event)
			[ "$have" -ge "$n" ] && return 0
		fi
		kill -0 "$BT_PID" 2>/dev/null || return 1
		sleep 0.5
	done
	return 1
}

# bt_stop: SIGINT to bpftrace (again every 10 s, in case one came before
# its handler), so it prints its maps and exits; after 60 s it is shown
# (each thread's state and kernel stack) and killed.  True if it exited
# on SIGINT.
bt_stop() {
	local i t
	for i in $(seq 120); do
		[ $((i % 20)) = 1 ] && kill -INT "$BT_PID" 2>/dev/null
		kill -0 "$BT_PID" 2>/dev/null || break
		sleep 0.5
	done
	if kill -0 "$BT_PID" 2>/dev/null; then
		for t in /proc/$BT_PID/task/*; do
			t_diag "bpftrace task ${t##*/} $(cat "$t/comm") state $(awk '{print $3}' "$t/stat")"
			sed 's/^/#   /' "$t/stack" 2>/dev/null
		done
		kill -KILL "$BT_PID"
		wait "$BT_PID" 2>/dev/null
		return 1
	fi
	wait "$BT_PID" 2>/dev/null
	return 0
}
