#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# NUMA page cache replication (replication/, issue 4).  The guest has two
# nodes: files are written and first read on node 0 (their page cache
# "masters" are there), then read from node 1, where replicas must serve
# the reads and the mapped faults.  Checks: the knobs (defaults, bad input
# refused with EINVAL and the value kept, every counter a number); read(2)
# and mapped pages local on node 1 with replication on and remote with it
# off, the nodes and max_percent knobs obeyed; no reader ever sees data
# older than a write that has returned (pwrite, mmap + msync, both), with
# replicas made as soon as possible (min_remote_reads 1, write_quiet_ms 0);
# truncate and hole punch racing replicated reads; replicas under a small
# memory cgroup; replication switched off, and the module removed, while a
# process maps replicas.  Every word read is checked (pcache_repl).
. "$(dirname "$0")/lib.sh"

RB=$BUILD/selftests/pcache_repl
R=${PCACHE_REPL_SYSFS:-$SYSFS/replication}
TR=/sys/kernel/tracing
D=$MNT/repl
LP=4096		# the locality file: 16 MiB
TP=256		# torture and trunc files: 1 MiB (a small, hot page set)
TORTURE_S=${PCACHE_REPL_TORTURE_S:-20}
TRUNC_S=${PCACHE_REPL_TRUNC_S:-15}
CG_MAX=24M
MP=4096		# memory pressure: 4 files of 16 MiB
HP=4096		# the held file: 16 MiB

[ -x "$RB" ] || t_skip_all "$RB is not built"
[ -b "$DISK" ] || t_skip_all "no test disk $DISK"
for n in 0 1; do
	[ -n "$(cat /sys/devices/system/node/node$n/cpulist 2>/dev/null)" ] ||
		t_skip_all "no NUMA node $n with CPUs (need 2 nodes)"
done

HJ=
cleanup() {
	[ -z "$HJ" ] || kill "$HJ" 2>/dev/null
	[ -z "${SAMPLER:-}" ] || kill "$SAMPLER" 2>/dev/null
	wait 2>/dev/null
	[ -e "$R/enabled" ] && echo 0 > "$R/enabled" 2>/dev/null
	cd /
	fs_umount 2>/dev/null
	pcache_unload 2>/dev/null
	cg_teardown
}

pcache_unload
pcache_load || t_skip_all "cannot load pcache"
if [ ! -e "$R/enabled" ]; then
	pcache_unload
	t_skip_all "no $R/enabled (replication not in this module)"
fi
trap cleanup EXIT
fs_setup || t_skip_all "cannot make the test filesystem"
rm -rf "$D"
mkdir -p "$D"

rget() { cat "$R/$1"; }
rset() { echo "$2" > "$R/$1"; }
rst() { cat "$R/stats/$1"; }
rstats() { stats_line "$R"; }
rose() { [ "$(rst "$1")" -gt "$2" ]; }
# wait_no_replicas: stats/nr_replica_pages is 0 within 5 s.
wait_no_replicas() { wait_zero "$R/stats/nr_replica_pages" 50; }
# collapse_all: replication off (every replica collapsed) and on again.
collapse_all() { rset enabled 0 && wait_no_replicas && rset enabled 1; }
# mapped_on OUT: the on_node count of the first "mapped" line of OUT.
mapped_on() { awk '$1 == "mapped" { print $4; exit }' "$1"; }
mapped_on_last() { awk '$1 == "mapped" { n = $4 } END { print n }' "$1"; }
# pct A B: A >= PCT % of B, as `pct_ge A B PCT`.
pct_ge() { [ $(($1 * 100)) -ge $(($2 * $3)) ]; }
pct_le() { [ $(($1 * 100)) -le $(($2 * $3)) ]; }
# loc NODE PASSES OUT: pcache_repl locality on the locality file.
loc() { "$RB" locality "$F" $LP "$1" "$2" > "$3"; }
section_start=$(date +%s)
section() {
	local t
	t=$(date +%s)
	t_diag "-- $* (previous section: $((t - section_start)) s)"
	section_start=$t
}

# ---------------------------------------------------------------------
section "sysfs"
t_check "enabled is 0 by default" test "$(rget enabled)" = 0
t_check "min_remote_reads is 2 by default" test "$(rget min_remote_reads)" = 2
t_check "write_quiet_ms is 1000 by default" test "$(rget write_quiet_ms)" = 1000
t_check "max_percent is 10 by default" test "$(rget max_percent)" = 10
t_check "write_backoff_max is 6 by default" test "$(rget write_backoff_max)" = 6
t_check "nodes is 0-1 by default (all online nodes)" test "$(rget nodes)" = 0-1
t_check "filesystems is 'ext4 ext2' by default" test "$(rget filesystems)" = "ext4 ext2"

# refuse KNOB VALUE WHY: the write fails with EINVAL and changes nothing.
refuse() { t_refused "$1: '$2' ($3)" "$R/$1" "$2"; }
for k in enabled min_remote_reads write_quiet_ms max_percent write_backoff_max nodes filesystems; do
	refuse $k "" empty
	refuse $k abc text
	refuse $k -1 negative
done
refuse enabled 2 "out of range"
refuse min_remote_reads 0 "out of range"
refuse min_remote_reads 1000001 "out of range"
refuse write_quiet_ms 3600001 "out of range"
refuse max_percent 0 "out of range"
refuse max_percent 101 "out of range"
refuse write_backoff_max 11 "out of range"
refuse nodes 5 "offline node"
refuse nodes 0-9 "offline nodes"
refuse nodes x garbage
refuse filesystems xfs "not known to work"
refuse filesystems "ext4 tmpfs" "one not known to work"
t_check "  dmesg says why" sh -c "dmesg | grep -q \"replication/filesystems: 'tmpfs' is not known to work\""

# accept KNOB VALUE [READBACK]
accept() {
	local err
	err=$( (echo "$2" > "$R/$1") 2>&1)
	t_check "$1 accepts '$2'" test -z "$err" -a "$(rget "$1")" = "${3:-$2}"
}
accept min_remote_reads 1000000
accept min_remote_reads 1
accept write_quiet_ms 3600000
accept write_quiet_ms 0
accept max_percent 100
accept max_percent 1
accept write_backoff_max 10
accept write_backoff_max 0
accept nodes 1
accept nodes 0,1 0-1
accept filesystems "ext2,ext4" "ext2 ext4"
accept filesystems "ext4 ext2"
accept enabled 1
accept enabled 0
rset min_remote_reads 2
rset write_quiet_ms 1000
rset max_percent 10
rset write_backoff_max 6

for s in nr_replica_pages replicated collapsed reads_local reads_remote \
	 replica_alloc_fail collapse_write collapse_truncate \
	 collapse_invalidate collapse_evict collapse_shrink collapse_disable \
	 skip_quiet skip_cap skip_busy skip_large shrink_mapped_direct \
	 shrink_mapped_deferred write_backoff; do
	t_check "stats/$s reads a number" grep -qxE '[0-9]+' "$R/stats/$s"
done
t_check "debugfs replication/lifetime exists" test -e "$DEBUGFS/replication/lifetime"
have_tp=0
if [ -d "$TR/events" ]; then
	t_check "tracepoints pcache_repl_create and pcache_repl_collapse exist" \
		test -d "$TR/events/pcache/pcache_repl_create" -a \
		-d "$TR/events/pcache/pcache_repl_collapse"
	[ -d "$TR/events/pcache/pcache_repl_create" ] && have_tp=1
fi

# ---------------------------------------------------------------------
section "locality"
F=$D/loc
t_check "write a 16 MiB file on node 0" env PCACHE_REPL_NODE=0 "$RB" fill "$F" $LP 1
drop_caches
t_check "read it on node 0 (its page cache is made there)" loc 0 1 "$D/l0"
on=$(mapped_on "$D/l0")
t_check "  its pages are on node 0 ($on of $LP)" pct_ge "${on:-0}" $LP 99

# Control: replication off, node 1 reads node 0's pages.
t_check "replication off: read and map it on node 1, every word right" loc 1 2 "$D/lc"
onc=$(mapped_on "$D/lc")
t_diag "replication off: $onc of $LP mapped pages on node 1, read $(field read_mibs "$D/lc") MiB/s"
t_check "  the pages mapped on node 1 are remote ($onc of $LP local)" pct_le "${onc:-$LP}" $LP 5
t_check "  no replica" test "$(rst nr_replica_pages)" = 0

t_check "min_remote_reads 1" rset min_remote_reads 1
t_check "write_quiet_ms 0" rset write_quiet_ms 0
t_check "enable replication" rset enabled 1
if [ $have_tp = 1 ]; then
	# An earlier test may have left tracing off.
	echo 1 > "$TR/tracing_on"
	echo 1 > "$TR/events/pcache/pcache_repl_create/enable"
	echo > "$TR/trace"
fi
rep0=$(rst replicated)
t_check "first run on node 1 (makes the replicas): every word right" loc 1 3 "$D/l1"
t_diag "first run: $(mapped_on "$D/l1") of $LP mapped pages on node 1; $(rstats)"
t_check "stats/replicated rose" rose replicated "$rep0"
t_check "stats/nr_replica_pages > 0" rose nr_replica_pages 0
if [ $have_tp = 1 ]; then
	echo 0 > "$TR/events/pcache/pcache_repl_create/enable"
	nt=$(grep -c pcache_repl_create "$TR/trace")
	echo > "$TR/trace"
	t_check "tracepoint pcache_repl_create fired ($nt events)" test "$nt" -gt 0
fi
l0=$(rst reads_local) r0=$(rst reads_remote)
t_check "second run on node 1: every word right" loc 1 3 "$D/l2"
dl=$(($(rst reads_local) - l0)) dr=$(($(rst reads_remote) - r0))
on=$(mapped_on "$D/l2")
t_diag "second run: reads_local +$dl reads_remote +$dr; $on of $LP mapped pages on node 1; read $(field read_mibs "$D/l2") MiB/s"
t_check "  reads were counted" test $((dl + dr)) -gt 0
t_check "  99 % or more of its reads were local ($dl of $((dl + dr)))" pct_ge $dl $((dl + dr)) 99
t_check "  99 % or more of its mapped pages are on node 1 ($on of $LP)" pct_ge "${on:-0}" $LP 99
nr=$(rst nr_replica_pages)
t_check "  nr_replica_pages $nr is at most the file's $LP pages" test "$nr" -gt 0 -a "$nr" -le $LP

# Adaptive fault-around maps the neighbours of a fault through the same
# map_pages path: they must be node 1's replicas too, in windows up to
# 2 MiB (the mapping is scanned in order).
FAD=$SYSFS/faultaround
if [ -d "$FAD" ]; then
	fst() { cat "$FAD/stats/$1"; }
	# Windows above the kernel's: grown, a scan's or a small VMA's.
	big() { echo $(($(fst grow) + $(fst scan) + $(fst whole_vma))); }
	fa0=$(fst faults) pm0=$(fst pages_mapped_around) g0=$(big)
	t_check "fault-around adaptive" write_knob "$FAD/mode" adaptive
	t_check "third run on node 1, fault-around adaptive: every word right" loc 1 3 "$D/l3"
	on=$(mapped_on "$D/l3")
	fa=$(($(fst faults) - fa0)) pm=$(($(fst pages_mapped_around) - pm0)) g=$(($(big) - g0))
	t_diag "third run: $on of $LP mapped pages on node 1; fault-around: $fa decisions, grow, scan or whole_vma +$g, $pm pages mapped around; $(rstats)"
	t_check "  fault-around mapped the file around its faults ($fa decisions, grow, scan or whole_vma +$g, $pm pages mapped around >= $LP / 2)" \
		test "$g" -gt 0 -a "$pm" -ge $((LP / 2))
	t_check "  99 % or more of its mapped pages are on node 1 ($on of $LP)" pct_ge "${on:-0}" $LP 99
	t_check "fault-around off" write_knob "$FAD/mode" off
else
	t_fail "$FAD exists"
fi

# listed_out KNOB VALUE DEFAULT WHAT OUT: with replication/KNOB set to
# VALUE, which leaves out node 1 or the file's ext4, node 1's reads and
# faults make no replica; then KNOB is DEFAULT again.
listed_out() {
	local knob=$1 val=$2 def=$3 what=$4 out=$D/$5 on
	t_check "replication off: every replica collapsed" rset enabled 0
	t_check "  nr_replica_pages is 0 within 5 s" wait_no_replicas
	t_check "$knob $val" rset "$knob" "$val"
	rset enabled 1
	rep0=$(rst replicated)
	t_check "$knob $val: read and map on node 1, every word right" loc 1 1 "$out"
	on=$(mapped_on "$out")
	t_check "  no replica $what (replicated unchanged, nr_replica_pages 0)" \
		test "$(rst replicated)" = "$rep0" -a "$(rst nr_replica_pages)" = 0
	t_check "  the mapped pages stay remote ($on of $LP on node 1)" pct_le "${on:-$LP}" $LP 5
	t_check "$knob $def" rset "$knob" "$def"
}
# The nodes knob: node 1 not listed, no replica there.
listed_out nodes 0 0-1 "on node 1" ln
# The filesystems knob: ext4 (the file's) not listed, no replica.
listed_out filesystems ext2 "ext4 ext2" "of the ext4 file" lf

# max_percent 1: at most 1 % of node 1's memory in replicas.
collapse_all
t_check "max_percent 1" rset max_percent 1
cap0=$(rst skip_cap)
node1_kib=$(awk '/MemTotal:/ { print $4 }' /sys/devices/system/node/node1/meminfo)
t_check "max_percent 1: read and map on node 1 twice, every word right" loc 1 2 "$D/lm"
nr=$(rst nr_replica_pages)
t_diag "max_percent 1: nr_replica_pages $nr, node 1 has $node1_kib KiB; $(rstats)"
t_check "  nr_replica_pages $nr <= 1 % of node 1 ($((node1_kib / 100 / 4)) pages) + 64" \
	test "$nr" -le $((node1_kib / 100 / 4 + 64))
t_check "  stats/skip_cap rose" rose skip_cap "$cap0"
rset max_percent 10

# ---------------------------------------------------------------------
section "write backoff"
# One page, write_quiet_ms 1000: replicated on node 1, then rewritten in
# place on node 0 at once (the replica lived < 8 quiet periods), so its
# quiet period doubles to 2000 ms: read again 300 ms after the write
# (and the time the readers take to start: up to 1.7 s is tolerated, for
# slow TCG guests) it is not replicated, 2300 ms after it is.  With
# write_backoff_max 0 it is replicated 1300 ms after such a write, which
# the doubled period would refuse.  On a slow kernel (make test KASAN=1
# sets PCACHE_SLOW=8) every period and wait here is that many times
# longer: the readers alone take seconds to start there.
BF=$D/backoff
cpu0=$(cut -d, -f1 /sys/devices/system/node/node0/cpulist | cut -d- -f1)
# bwrite: rewrite page 0 in place (same bytes) on node 0, and sync it.
bwrite() {
	taskset -c "$cpu0" dd if="$BF" of="$BF" bs=4096 count=1 conv=notrunc,fsync status=none
}
# bread: two read(2) passes of the page on node 1 (min_remote_reads 2).
bread() {
	env PCACHE_REPL_NODE=1 "$RB" check "$BF" 1 5 &&
		env PCACHE_REPL_NODE=1 "$RB" check "$BF" 1 5
}
# backoff_run MAX S1 S2: prints "backoff+ replicated+ replicated+", the
# replicas made by reads S1 s after the write and S2 s after those.
backoff_run() {
	local b0 r0 r1 r2
	rset write_backoff_max "$1"
	env PCACHE_REPL_NODE=0 "$RB" fill "$BF" 1 5
	bread
	b0=$(rst write_backoff) r0=$(rst replicated)
	bwrite
	sleep "$2"
	bread
	r1=$(rst replicated)
	sleep "$3"
	bread
	r2=$(rst replicated)
	echo "$(($(rst write_backoff) - b0)) $((r1 - r0)) $((r2 - r1))"
}
SLOW=${PCACHE_SLOW:-1}
ms() { echo $(($1 * SLOW)); }
sec() { awk -v ms="$(ms "$1")" 'BEGIN { printf "%.3f", ms / 1000 }'; }
collapse_all
rset write_quiet_ms "$(ms 1000)"
read -r db a1 a2 < <(backoff_run 6 "$(sec 300)" "$(sec 2000)")
t_diag "write_backoff_max 6: write_backoff +$db, replicated +$a1 at $(ms 300) ms, +$a2 at $(ms 2300) ms"
t_check "a write soon after replicating raises the page's backoff (write_backoff +$db)" \
	test "$db" = 1
t_check "  no replica $(ms 300) ms after that write (quiet period $(ms 2000) ms; +$a1)" test "$a1" = 0
t_check "  a replica $(ms 2300) ms after it (+$a2)" test "$a2" = 1
collapse_all
read -r db a1 a2 < <(backoff_run 0 "$(sec 1300)" 0)
t_diag "write_backoff_max 0: write_backoff +$db, replicated +$a1 at $(ms 1300) ms"
t_check "write_backoff_max 0: no backoff (write_backoff +$db), a replica $(ms 1300) ms after the write (+$a1)" \
	test "$db" = 0 -a "$a1" = 1
t_check "the page's bytes are right on node 1" env PCACHE_REPL_NODE=1 "$RB" check "$BF" 1 5
rset write_backoff_max 6
rset write_quiet_ms 1000
rm -f "$BF"

# ---------------------------------------------------------------------
section "coherence torture"
# The races below are worth something only while hot pages are replicated
# again soon after each write: as soon as possible (min_remote_reads 1,
# write_quiet_ms 0) and no backoff for pages written soon after being
# replicated (write_backoff_max 0; the write-backoff section above leaves
# 1000 ms and 6).  Each run must show replicas made and collapsed.
t_check "policy for the races: min_remote_reads 1, write_quiet_ms 0, write_backoff_max 0" \
	eval "rset min_remote_reads 1 && rset write_quiet_ms 0 && rset write_backoff_max 0"
# rose_check NAME STAT BEFORE: one check that STAT rose above BEFORE; every
# counter is printed when it did not.
rose_check() {
	if rose "$2" "$3"; then
		t_ok "$1"
	else
		t_fail "$1"
		t_diag "counters: $(rstats)"
	fi
}
collapse_all
for mode in write mmap mixed; do
	c0=$(rst collapsed) rep0=$(rst replicated)
	"$RB" torture "$D/tort-$mode" $TP "$TORTURE_S" 0 1 $mode > "$D/t.out" 2>&1
	rc=$?
	while read -r line; do t_diag "torture $mode: $line"; done < "$D/t.out"
	dr=$(($(rst replicated) - rep0)) dc=$(($(rst collapsed) - c0))
	t_diag "torture $mode: replicated +$dr collapsed +$dc"
	t_check "torture $mode (writers on node 0, 4 readers on node 1, ${TORTURE_S} s): no stale read, final content right" \
		test $rc = 0
	rose_check "  torture $mode: replicas were made meanwhile (replicated +$dr)" \
		replicated "$rep0"
	rose_check "  torture $mode: and collapsed by the writes (collapsed +$dc)" \
		collapsed "$c0"
	rm -f "$D/tort-$mode"
done
t_diag "after torture: $(rstats)"

# ---------------------------------------------------------------------
section "truncate and hole punch"
collapse_all
tr0=$(rst collapse_truncate) inv0=$(rst collapse_invalidate)
c0=$(rst collapsed) rep0=$(rst replicated)
"$RB" trunc "$D/trunc" $TP "$TRUNC_S" 1 > "$D/t.out" 2>&1
rc=$?
while read -r line; do t_diag "trunc: $line"; done < "$D/t.out"
dr=$(($(rst replicated) - rep0)) dc=$(($(rst collapsed) - c0))
dt=$(($(rst collapse_truncate) - tr0)) di=$(($(rst collapse_invalidate) - inv0))
t_diag "trunc: replicated +$dr collapsed +$dc (collapse_truncate +$dt collapse_invalidate +$di)"
t_check "truncate/punch on node 0 racing 4 readers on node 1 (${TRUNC_S} s): no stale read, final content right" \
	test $rc = 0
rose_check "  truncate/punch: replicas were made meanwhile (replicated +$dr)" \
	replicated "$rep0"
rose_check "  truncate/punch: and collapsed (collapsed +$dc)" collapsed "$c0"
rm -f "$D/trunc"
# The policy the sections below were written for.
rset write_quiet_ms 1000
rset write_backoff_max 6

# ---------------------------------------------------------------------
section "memory cgroup"
if cg_setup $CG_MAX; then
	# The masters are read outside the cgroup (charged to the root);
	# the replicas are the cgroup reader's.
	ok=1
	for i in 1 2 3 4; do
		env PCACHE_REPL_NODE=0 "$RB" fill "$D/m$i" $MP $((10 + i)) || ok=0
	done
	drop_caches
	for i in 1 2 3 4; do
		env PCACHE_REPL_NODE=0 "$RB" check "$D/m$i" $MP $((10 + i)) || ok=0
	done
	t_check "write and read 64 MiB on node 0 (outside the cgroup)" test $ok = 1
	collapse_all
	shr0=$(rst collapse_shrink) af0=$(rst replica_alloc_fail) ev0=$(rst collapse_evict)
	rm -f "$D/stop" "$D/max"
	(
		max=0
		while [ ! -e "$D/stop" ]; do
			n=$(rst nr_replica_pages)
			[ "$n" -gt "$max" ] && max=$n
			sleep 0.2
		done
		echo "$max" > "$D/max"
	) &
	SAMPLER=$!
	ok=1
	for pass in 1 2; do
		for i in 1 2 3 4; do
			cg_run env PCACHE_REPL_NODE=1 "$RB" check "$D/m$i" $MP $((10 + i))
			rc=$?
			[ $rc = 0 ] || { ok=0; t_diag "pass $pass, m$i: exit $rc"; }
		done
	done
	touch "$D/stop"
	wait $SAMPLER
	SAMPLER=
	max=$(cat "$D/max" 2>/dev/null)
	dshr=$(($(rst collapse_shrink) - shr0)) daf=$(($(rst replica_alloc_fail) - af0))
	t_check "read the 64 MiB twice on node 1 in a $CG_MAX cgroup: every word right" test $ok = 1
	oom=$(awk '$1 == "oom_kill" { print $2 }' "$CG/memory.events")
	t_diag "cgroup: max nr_replica_pages $max; collapse_shrink +$dshr replica_alloc_fail +$daf collapse_evict +$(($(rst collapse_evict) - ev0)); memory.current $(cat "$CG/memory.current"); oom_kill $oom"
	t_check "  no OOM kill in the cgroup (replicas give way: oom_kill ${oom:-?})" test "${oom:-1}" = 0
	t_check "  nr_replica_pages stayed within the cgroup's $CG_MAX (max $max <= 6144)" \
		test -n "$max" -a "${max:-0}" -le 6144
	t_check "  replicas were shrunk or not made (collapse_shrink +$dshr, replica_alloc_fail +$daf)" \
		test $((dshr + daf)) -gt 0
	t_check "  the files are right on node 1 outside the cgroup" \
		env PCACHE_REPL_NODE=1 "$RB" check "$D/m1" $MP 11

	# The cgroup asks for memory while its replicas are all mapped:
	# reclaim itself unmaps and frees them (a worker may run too late for
	# the charge, which then calls the OOM killer).  One process maps 16
	# MiB of replicas, then anonymous memory needs 4 MiB more than the
	# cgroup has left (there is no swap: only replicas can give way).
	collapse_all
	cg_evict
	bash -c 'echo $$ > "$0/cgroup.procs" && exec "$@"' "$CG" \
		"$RB" hold "$D/m1" $MP 1 120 11 > "$D/h0.log" 2>&1 &
	h0=$!
	for _ in $(seq 1200); do
		grep -q '^ready' "$D/h0.log" && break
		kill -0 $h0 2>/dev/null || break
		sleep 0.1
	done
	n0=$(rst nr_replica_pages)
	cur=$(cat "$CG/memory.current") max=$(cat "$CG/memory.max")
	anon=$(((max - cur) / 1048576 + 4))
	dir0=$(rst shrink_mapped_direct)
	hs=0
	if [ "$n0" -lt 2048 ]; then
		hs=4
	elif ! hold_start $anon 5; then
		hs=1
	else
		hold_check || hs=2
		hold_stop || { [ $hs != 0 ] || hs=3; }
	fi
	ddir=$(($(rst shrink_mapped_direct) - dir0))
	kill -USR1 $h0 2>/dev/null
	wait $h0; r0=$?
	t_diag "anon $anon MiB beside $n0 mapped replicas (memory.current $cur): hold status $hs, shrink_mapped_direct +$ddir deferred $(rst shrink_mapped_deferred), swap $(awk 'NR > 1 { n++ } END { print n + 0 }' /proc/swaps) devices"
	t_check "$anon MiB of anonymous memory in the cgroup beside $n0 mapped replicas: every byte right" \
		test $hs = 0
	t_check "  reclaim freed mapped replicas itself (shrink_mapped_direct +$ddir)" \
		test "$ddir" -gt 0
	t_check "  the process mapping them reads every word right after" \
		test "$r0" = 0
	oom=$(awk '$1 == "oom_kill" { print $2 }' "$CG/memory.events")
	t_check "  no OOM kill in the cgroup (oom_kill ${oom:-?})" test "${oom:-1}" = 0
	rm -f "$D/h0.log"

	# Mapped replicas give way too: two processes in the cgroup map 32
	# MiB; reclaim there (memory.reclaim) has the worker unmap and free
	# the cold ones, and the processes fault the pages in again.
	collapse_all
	shr1=$(rst collapse_shrink)
	# (cg_run's own bash, so that $! is the holder itself.)
	bash -c 'echo $$ > "$0/cgroup.procs" && exec "$@"' "$CG" \
		"$RB" hold "$D/m1" $MP 1 120 11 > "$D/h1.log" 2>&1 &
	h1=$!
	bash -c 'echo $$ > "$0/cgroup.procs" && exec "$@"' "$CG" \
		"$RB" hold "$D/m2" $MP 1 120 12 > "$D/h2.log" 2>&1 &
	h2=$!
	for _ in $(seq 1200); do
		grep -q '^ready' "$D/h1.log" && grep -q '^ready' "$D/h2.log" && break
		kill -0 $h1 2>/dev/null && kill -0 $h2 2>/dev/null || break
		sleep 0.1
	done
	n1=$(rst nr_replica_pages)
	# The pages the holders mapped on node 1 (replicas: the masters
	# are on node 0).  The cgroup's own reclaim may have freed some
	# before both were ready, so nr_replica_pages alone may read 0.
	m1=$(cat "$D/h1.log" "$D/h2.log" | awk '$1 == "mapped_nodes" {
		for (i = 2; i <= NF; i++) if ($i ~ /^1:/) { sub(/^1:/, "", $i); n += $i } }
		END { print n + 0 }')
	cg_evict
	sleep 1
	cg_evict
	sleep 1
	n2=$(rst nr_replica_pages)
	kill -USR1 $h1 $h2 2>/dev/null
	wait $h1; r1=$?
	wait $h2; r2=$?
	dshr=$(($(rst collapse_shrink) - shr1))
	t_diag "two holders: $m1 pages mapped on node 1, $n1 replicas when both were ready, $n2 after reclaim, collapse_shrink +$dshr"
	t_check "two processes mapping 32 MiB in the cgroup read every word right after reclaim" \
		test "$r1" = 0 -a "$r2" = 0
	t_check "  they mapped replicas ($m1 pages on node 1)" test "$m1" -gt 0
	t_check "  reclaim unmapped and freed mapped replicas (collapse_shrink +$dshr, $m1 mapped -> $n2)" \
		test "$dshr" -gt 0 -a "$n2" -lt "$m1"
	oom=$(awk '$1 == "oom_kill" { print $2 }' "$CG/memory.events")
	t_check "  no OOM kill in the cgroup (oom_kill ${oom:-?})" test "${oom:-1}" = 0
	rm -f "$D"/m? "$D"/h?.log
	cg_teardown
else
	t_skip "no memory cgroup"
fi

# ---------------------------------------------------------------------
section "off and rmmod with replicas mapped"
H=$D/hold
env PCACHE_REPL_NODE=0 "$RB" fill "$H" $HP 7
drop_caches
env PCACHE_REPL_NODE=0 "$RB" check "$H" $HP 7
collapse_all

# hold_start: a process on node 1 that maps the held file (replicas).
hold_start() {
	local _
	"$RB" hold "$H" $HP 1 120 7 > "$D/hold.log" 2>&1 &
	HJ=$!
	for _ in $(seq 600); do
		grep -q '^ready' "$D/hold.log" && return 0
		kill -0 "$HJ" 2>/dev/null || break
		sleep 0.1
	done
	cat "$D/hold.log" >&2
	return 1
}
# hold_stop: the holder checks every word again now; its exit status.
hold_stop() {
	local rc
	kill -USR1 "$HJ"
	wait "$HJ"
	rc=$?
	HJ=
	while read -r line; do t_diag "hold: $line"; done < "$D/hold.log"
	return $rc
}

# node1_free: KiB free on node 1, with the pages in per-CPU free lists
# (a freed page goes there first, and MemFree does not count it).
node1_free() {
	awk '$1 == "Node" { node = $2 + 0 } node == 1 && $1 == "count:" { pcp += $2 }
	     END { print pcp * 4 }' /proc/zoneinfo | {
		read -r pcp
		awk -v p="$pcp" '/MemFree:/ { print $4 + p }' \
			/sys/devices/system/node/node1/meminfo
	}
}
free0=$(node1_free)
t_check "a process on node 1 maps the file" hold_start
free1=$(node1_free)
on=$(mapped_on "$D/hold.log")
t_check "  its mapped pages are replicas on node 1 ($on of $HP)" pct_ge "${on:-0}" $HP 99
t_check "  nr_replica_pages > 0" rose nr_replica_pages 0
d0=$(rst collapse_disable)
t_check "replication off while they are mapped" rset enabled 0
t_check "  nr_replica_pages is 0 within 5 s" wait_no_replicas
t_check "  collapse_disable rose" rose collapse_disable "$d0"
free2=$(node1_free)
t_diag "node 1 free: $free0 KiB before, $free1 with $HP replicas mapped, $free2 after off"
# (Half of it: other allocations on node 1 come and go meanwhile.)
t_check "  node 1 got the replicas' memory back (free $free2 KiB >= $free1 + $((HP * 4 / 2)))" \
	test "$free2" -ge $((free1 + HP * 4 / 2))
t_check "  the process reads every word right after (mapping and read(2))" hold_stop
on=$(mapped_on_last "$D/hold.log")
t_check "  its pages are node 0's masters again ($on of $HP on node 1)" pct_le "${on:-$HP}" $HP 5

t_check "replication on" rset enabled 1
t_check "a process on node 1 maps the file again" hold_start
t_check "  nr_replica_pages > 0" rose nr_replica_pages 0
t_check "rmmod pcache while it maps replicas" rmmod pcache
t_check "  the process reads every word right after" hold_stop
t_check "  the file is right on node 1 without pcache" \
	env PCACHE_REPL_NODE=1 "$RB" check "$H" $HP 7
t_check "load pcache again" pcache_load
t_check "  replication is off, no replica" \
	test "$(rget enabled)" = 0 -a "$(rst nr_replica_pages)" = 0

# ---------------------------------------------------------------------
section "end"
rm -rf "$D"
t_check "umount" fs_umount
t_check "rmmod pcache" pcache_unload
trap - EXIT
cg_teardown
t_done
