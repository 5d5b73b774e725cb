#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Unload with every feature on (issue 11's rmmod Oops).  Load cycles under
# load, each with replication, cleancache, frontswap, fork-on-write and
# fault-around (mode adaptive) switched on and used: in half the cycles every feature is switched off
# again before rmmod, in the other half rmmod takes them down itself.
# While it unloads, a loop creates, reads and deletes files and drops the
# dentry and inode caches, so inodes are evicted (through the invalidate
# hook) during every rmmod, as removing pcache's own debugfs files does.
# A feature called after its exit (a freed table) crashes the guest, or on
# a KASAN kernel is a KASAN report, every time.
#
# PCACHE_UNLOAD_CYCLES sets the number of cycles (make test KASAN=1: 2);
# each cycle runs the load until every feature has done work in it, at
# most PCACHE_UNLOAD_RUN_MAX seconds (30).
#
# Preconditions asserted: every feature did its work over the run
# (replicas made, pages put in each tmem pool, folios forked, windows
# chosen), and each switch-off succeeded.  Every byte the workloads read back is checked.
. "$(dirname "$0")/lib.sh"

CYCLES=${PCACHE_UNLOAD_CYCLES:-10}
RB=$BUILD/selftests/pcache_repl
PF=$BUILD/selftests/pcache_fork
D=$MNT/unload-all
for b in "$WL" "$RB" "$PF"; do
	[ -x "$b" ] || t_skip_all "$b is not built"
done
[ -b "$DISK" ] || t_skip_all "no test disk $DISK"
[ -n "$(cat /sys/devices/system/node/node1/cpulist 2>/dev/null)" ] ||
	t_skip_all "no NUMA node 1 with CPUs"

pcache_unload
fs_setup || t_skip_all "cannot make the test filesystem"
cg_setup 24M || t_skip_all "no memory cgroup"
swap_setup 64 || t_skip_all "cannot enable swap"
rm -rf "$D"
mkdir -p "$D/mix" "$D/ev"

stop=/tmp/pcache-unload-all.stop
fail=/tmp/pcache-unload-all.fail
rm -f "$stop" "$fail".*
jobs_=()
# loop NAME CMD...: run CMD until $stop; a failure leaves $fail.NAME.
loop() {
	local name=$1
	shift
	( while [ ! -e "$stop" ]; do
		"$@" > "/tmp/pcache-unload-all.$name.out" 2>&1 ||
			{ touch "$fail.$name"; break; }
		sleep 0.2	# leave the unload some of the guest
	done ) &
	jobs_+=($!)
}

# The replicated file (masters on node 0); the cleancache set, 32 MiB
# written and read in the 24 MiB cgroup (so reading it evicts its own
# pages to the pool).
PCACHE_REPL_NODE=0 "$RB" fill "$D/r" 1024 1 &&
	PCACHE_REPL_NODE=0 "$RB" check "$D/r" 1024 1 ||
	t_fail "write the replicated file"
cg_run "$WL" write "$D/big" 32768 5 > /dev/null || t_fail "write the cleancache set"

loop repl "$RB" locality "$D/r" 1024 1 1
loop cc cg_run "$WL" verify "$D/big" 32768 5
loop swap cg_run "$WL" anon 20 7
loop mix "$WL" mix "$D/mix" 1
loop fork "$PF" hot "$D/hot" 16 400 4 write
# Inode eviction: new inodes, read, deleted, then dentries and inodes
# dropped.
evict() {
	local i
	for i in $(seq 32); do echo "$i" > "$D/ev/f$i"; done
	cat "$D/ev"/f* > /dev/null
	rm -f "$D/ev"/f*
	echo 2 > /proc/sys/vm/drop_caches
}
loop evict evict

declare -A total=()
add() { total[$1]=$(( ${total[$1]:-0} + $2 )); }
knobs() {	# the policy that makes replicas at once
	echo 1 > "$SYSFS/replication/min_remote_reads" &&
	echo 0 > "$SYSFS/replication/write_quiet_ms" &&
	echo 0 > "$SYSFS/replication/write_backoff_max"
}
FEATS=(replication tmem/ephemeral tmem/persistent fork faultaround)
RUN_MAX=${PCACHE_UNLOAD_RUN_MAX:-30}
# all_busy: every feature did work in this cycle (its counters start at
# 0 with each load).  Read without forking: it is asked twice a second.
all_busy() {
	local c v
	for c in replication:replicated tmem/ephemeral:puts tmem/persistent:puts \
		 fork:forked faultaround:faults; do
		read -r v 2> /dev/null < "$SYSFS/${c%%:*}/stats/${c#*:}" || return 1
		[ "$v" -gt 0 ] || return 1
	done
}
loaded=0 switched_on=0 switched_off=0 off_tried=0
declare -A secs=()
lap() {	# lap PHASE: add the time since the last lap to PHASE
	local t ms
	t=$(date +%s%N)
	ms=$(( (t - t0) / 1000000 ))
	secs[$1]=$(( ${secs[$1]:-0} + ms ))
	laps="$laps $1 $ms"
	t0=$t
}
for i in $(seq "$CYCLES"); do
	t0=$(date +%s%N)
	laps=
	pcache_load || { t_diag "cycle $i: insmod failed"; break; }
	loaded=$((loaded + 1))
	on=0
	knobs && for f in "${FEATS[@]}"; do
		feat_value "$f" 1 > "$(feat_file "$f")" && on=$((on + 1))
	done
	[ "$on" = ${#FEATS[@]} ] && switched_on=$((switched_on + 1))
	lap on
	# Run until every feature has done some work in this cycle (its
	# counters start at 0 with each load): at least 1 s, at most
	# RUN_MAX s, so that a slow guest (KASAN) also unloads with all of
	# them in use.
	sleep 1
	for _ in $(seq $((RUN_MAX * 2))); do
		all_busy && break
		sleep 0.5
	done
	lap run
	add replicated "$(cat "$SYSFS/replication/stats/replicated")"
	add cc_puts "$(cat "$SYSFS/tmem/ephemeral/stats/puts")"
	add fs_puts "$(cat "$SYSFS/tmem/persistent/stats/puts")"
	add forked "$(cat "$SYSFS/fork/stats/forked")"
	add fa_faults "$(cat "$SYSFS/faultaround/stats/faults")"
	if [ $((i % 2)) = 1 ]; then
		off_tried=$((off_tried + 1))
		off=0
		for f in faultaround fork tmem/persistent tmem/ephemeral replication; do
			feat_value "$f" 0 > "$(feat_file "$f")" && off=$((off + 1))
		done
		if [ "$off" = ${#FEATS[@]} ]; then
			switched_off=$((switched_off + 1))
		else
			t_diag "cycle $i: $off of ${#FEATS[@]} switched off"
		fi
		lap off
	fi
	pcache_unload || { t_diag "cycle $i: rmmod failed"; break; }
	lap rmmod
	t_diag "cycle $i (ms):$laps"
done
touch "$stop"
wait "${jobs_[@]}"

t_diag "time in ms: load and switch on ${secs[on]:-0}, run ${secs[run]:-0}, switch off ${secs[off]:-0}, rmmod ${secs[rmmod]:-0}"
t_diag "over $loaded cycles: replicated ${total[replicated]:-0}, cleancache puts ${total[cc_puts]:-0}, frontswap puts ${total[fs_puts]:-0}, forked ${total[forked]:-0}, fault-around decisions ${total[fa_faults]:-0}"
t_check "$CYCLES load/unload cycles with every feature on ($loaded)" \
	test "$loaded" = "$CYCLES"
t_check "every feature switched on in every cycle ($switched_on of $loaded)" \
	test "$switched_on" = "$loaded"
t_check "every feature switched off before rmmod in every odd cycle ($switched_off of $off_tried)" \
	test "$switched_off" = "$off_tried"
t_check "replication made replicas (${total[replicated]:-0})" \
	test "${total[replicated]:-0}" -gt 0
t_check "cleancache took pages (${total[cc_puts]:-0} puts)" \
	test "${total[cc_puts]:-0}" -gt 0
t_check "frontswap took pages (${total[fs_puts]:-0} puts)" \
	test "${total[fs_puts]:-0}" -gt 0
t_check "fork-on-write forked folios (${total[forked]:-0})" \
	test "${total[forked]:-0}" -gt 0
t_check "fault-around chose windows (${total[fa_faults]:-0})" \
	test "${total[fa_faults]:-0}" -gt 0
t_check_fails "the module is unloaded at the end" pcache_loaded
for w in repl cc swap mix fork evict; do
	if [ -e "$fail.$w" ]; then
		t_fail "$w workload: every byte right"
		sed 's/^/# /' "/tmp/pcache-unload-all.$w.out" | tail -5
	else
		t_ok "$w workload: every byte right"
	fi
done
t_check "the replicated file is intact" "$RB" check "$D/r" 1024 1
t_check "the cleancache set is intact" "$WL" verify "$D/big" 32768 5
swap_teardown
rm -rf "$D"
fs_umount
cg_teardown
t_done
