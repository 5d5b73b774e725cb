#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Observe mode (tools/observe/, issue 15): the tools that tell, on a kernel
# without pcache, what each feature would gain, run here with pcache not
# loaded (the hooks' static keys off: the kernel behaves as stock).  Each
# attaches, sees the events of a workload made to produce them, and its
# estimate is checked against what the feature then does with the same
# workload in the same boot:
#
#  - fork-stablewait.bt: rewrites of a page under writeback on a 3 ms
#    null_blk with stable writes (pcache_fork stable) wait in
#    folio_wait_stable(); fork-on-write then forks as many times, sparing
#    waits as long (debugfs fork/avoided_wait_us);
#  - cleancache-refaults.bt: a file twice the size of its memory cgroup,
#    written and read twice, refaults; cleancache then hits about as often
#    (tmem/ephemeral/stats/get_hits);
#  - repl-remotereads.bt: a file cached on node 0, read twice and mapped
#    from node 1, read once and mapped from node 0, and one cached on
#    node 1, read and mapped there (pcache_repl locality): their remote
#    and local folios; replication then counts as many reads, and serves
#    the remote ones from replicas (replication/stats/reads_local,
#    reads_remote, replicated);
#  - faultaround_unused.ko: random reads and a scan through a mapping
#    (pcache_fa): the share of the pages mapped around that are not
#    touched before the VMA's next fault; pcache's adaptive fault-around,
#    held to 64 KiB windows (the kernel's) with map_old, samples the same
#    share (faultaround/stats/used and unused).
#
# PCACHE_OBSERVE_DIR (the scripts) and PCACHE_OBSERVE_KO (the module) may
# name other copies, to see that a broken tool fails its checks;
# PCACHE_OBSERVE_ONLY runs some sections ("fork cleancache repl
# faultaround").
. "$(dirname "$0")/lib.sh"

OBS=${PCACHE_OBSERVE_DIR:-$TOP/tools/observe}
FUKO=${PCACHE_OBSERVE_KO:-$BUILD/observe/faultaround_unused.ko}
PF=$BUILD/selftests/pcache_fork
PR=$BUILD/selftests/pcache_repl
FA=$BUILD/selftests/pcache_fa
RUN=/tmp/pcache-observe
NB=/dev/nullb0
FM=$MNT-observe
FU=/sys/kernel/debug/faultaround_unused/stats

command -v bpftrace > /dev/null || t_skip_all "bpftrace is not installed"
for f in "$WL" "$PF" "$PR" "$FA" "$FUKO"; do
	[ -e "$f" ] || t_skip_all "$f is not built"
done
[ -b "$DISK" ] || t_skip_all "no test disk $DISK"
need_null_blk

cleanup() {
	[ -z "${BT_PID:-}" ] || kill -KILL "$BT_PID" 2>/dev/null
	[ ! -e /sys/module/faultaround_unused ] || rmmod faultaround_unused
	umount "$FM" 2>/dev/null
	fs_umount
	pcache_unload
	rmmod null_blk 2>/dev/null
	cg_teardown
}
trap cleanup EXIT
pcache_unload
rm -rf "$RUN"
mkdir -p "$RUN"

# bt_run NAME SCRIPT CMD...: SCRIPT traces while CMD runs, pcache not
# loaded; its output in $RUN/NAME.bt, shown.  Three checks: pcache is not
# loaded, the script attached, and it printed its maps and exited on
# SIGINT.  CMD's status.
bt_run() {
	local name=$1 script=$2 rc
	shift 2
	t_check "$name: pcache not loaded" test ! -d /sys/module/pcache
	if ! bt_start "$RUN/$name.bt" "$OBS/$script"; then
		t_fail "$name: $script attached"
		sed 's/^/#   /; s/WARN/W-ARN/g' "$RUN/$name.bt"
		bt_stop
		return 1
	fi
	t_ok "$name: $script attached"
	"$@"
	rc=$?
	t_check "$name: $script exits on SIGINT" bt_stop
	# Cleared maps print as empty lines.
	grep -v '^$' "$RUN/$name.bt" | sed 's/^/#   /; s/WARN/W-ARN/g'
	[ $rc = 0 ] || t_diag "$name: the workload failed ($rc)"
	return $rc
}
# btv FILE KEY: the value of FILE's map line "KEY: N" (0 if none).
btv() {
	awk -v k="$2: " 'index($0, k) == 1 { print substr($0, length(k) + 1); f = 1; exit }
		END { if (!f) print 0 }' "$1"
}
# within A B PCT: A is within PCT percent of B, and B > 0.
within() {
	[ "$2" -gt 0 ] && [ $((($1 - $2) * 100)) -le $(($3 * $2)) ] &&
		[ $((($2 - $1) * 100)) -le $(($3 * $2)) ]
}
# median: of "LOW COUNT" lines (a histogram's buckets, in order), the LOW
# of the bucket holding the middle count; 0 if no count.
median() {
	awk '{ b[NR] = $1; c[NR] = $2; n += $2 }
	     END { for (i = 1; i <= NR; i++) { s += c[i]; if (2 * s >= n && n) { print b[i]; exit } }
		   print 0 }'
}
# devof MOUNTPOINT: "MAJ MIN" of its filesystem.
devof() { mountpoint -d "$1" | tr : ' '; }

# ---------------------------------------------------------------------
# fork-on-write: writers waiting for writeback in folio_wait_stable().
ROUNDS=20
# fork_load OUT: ROUNDS times, rewrite a page right after its writeback
# started; pcache_fork's line in $RUN/OUT.
fork_load() { "$PF" stable "$FM/stable" $ROUNDS > "$RUN/$1"; }

observe_fork() {
	local bdi line waits avg wmed h f0 forked fn fmed

	if ! nb_load 3000000 || ! mkdir -p "$FM" ||
	   ! mkfs.ext4 -q -F -b 4096 $NB > /dev/null 2>&1 ||
	   ! mount -t ext4 $NB "$FM"; then
		t_fail "fork: null_blk and ext4 on it"
		rmmod null_blk 2>/dev/null
		return
	fi
	bdi=$(cat /sys/block/nullb0/dev)
	bt_run fork fork-stablewait.bt fork_load pf-obs
	t_diag "pcache_fork: $(tr '\n' ' ' < "$RUN/pf-obs")"
	line=$(grep -E "^@waits\[pcache_fork, [0-9]+, $bdi\]: " "$RUN/fork.bt")
	waits=$(echo "$line" | sed -nE 's/.*count ([0-9]+),.*/\1/p')
	avg=$(echo "$line" | sed -nE 's/.*average ([0-9]+),.*/\1/p')
	waits=${waits:-0} avg=${avg:-0}
	# The histogram's "[LOW, HIGH) COUNT |@@@|" lines, as "LOW COUNT".
	awk -v h="@wait_us[pcache_fork, $bdi]:" '
		index($0, h) == 1 { on = 1; next }
		on && /^\[/ {
			b = $1; sub(/^\[/, "", b); sub(/[],].*/, "", b)
			m = b ~ /K$/ ? 1024 : b ~ /M$/ ? 1048576 : 1; sub(/[KM]$/, "", b)
			n = $0; sub(/^[^])]*[])] */, "", n); split(n, f, " ")
			print b * m, f[1]; next }
		on { exit }' "$RUN/fork.bt" > "$RUN/waits-hist"
	wmed=$(median < "$RUN/waits-hist")
	# One wait a round (unless the 3 ms write ended before the rewrite),
	# as long as the write.
	t_check "fork: pcache_fork's waits on $bdi seen, one a round ($waits, want $ROUNDS - 3..$ROUNDS)" \
		test "$waits" -ge $((ROUNDS - 3)) -a "$waits" -le $ROUNDS
	t_check "fork: as long as the device's writes ($avg us, 1000..30000)" \
		test "$avg" -ge 1000 -a "$avg" -le 30000
	t_check "fork: drawn by process and device ($bdi)" \
		grep -q "^@wait_us\[pcache_fork, $bdi\]:" "$RUN/fork.bt"
	t_check "fork: no wait of pcache_fork on another device" \
		test -z "$(grep -E '^@waits\[pcache_fork, ' "$RUN/fork.bt" | grep -v ", $bdi\]: ")"

	pcache_load || t_fail "insmod pcache"
	echo 1 > $SYSFS/fork/enabled
	h=$DEBUGFS/fork/avoided_wait_us
	grep -v '^#' "$h" > "$RUN/hist0"
	f0=$(cat $SYSFS/fork/stats/forked)
	t_check "fork: the same rounds with fork on, data right" fork_load pf-fork
	forked=$(($(cat $SYSFS/fork/stats/forked) - f0))
	echo 0 > $SYSFS/fork/enabled
	# The forks' avoided waits: the histogram's new counts.
	grep -v '^#' "$h" | paste -d' ' "$RUN/hist0" - |
		awk '{ print $1, $4 - $2 }' > "$RUN/hist1"
	fn=$(awk '{ n += $2 } END { print n + 0 }' "$RUN/hist1")
	fmed=$(median < "$RUN/hist1")
	t_diag "fork on: $(tr '\n' ' ' < "$RUN/pf-fork"); forked +$forked; avoided waits +$fn (us, from: +count): $(awk '$2 { printf "%d: +%d  ", $1, $2 }' "$RUN/hist1")"
	# The estimate: a fork for each wait seen, sparing that wait.  A
	# round whose write ends before the rewrite neither waits nor forks
	# (the emulator's timing varies): 25 %.  Both histograms have
	# power-of-two buckets: their medians' are the same or next to each
	# other (one I/O stretched by the emulator moves a mean).
	t_check "fork: forks as many as the waits seen (forked $forked, waits $waits, 25%)" \
		within "$forked" "$waits" 25
	t_check "fork: the avoided waits' median bucket, $fmed us, within one of the waits seen, $wmed us" \
		test "$fn" -gt 0 -a "$fmed" -gt 0 -a "$wmed" -gt 0 -a \
			$((fmed * 2)) -ge "$wmed" -a "$fmed" -le $((wmed * 2))
	pcache_unload
	umount "$FM"
	rmmod null_blk
}

# ---------------------------------------------------------------------
# cleancache: refaults of clean page cache pages, by filesystem.
CGMAX=8M
CKIB=16384
C=$MNT/observe-cc
# cc_load: write a file twice the cgroup's size (no shadow entries: not
# refaults), read it twice (most pages come back each time), every byte
# checked.
cc_load() {
	rm -f "$C" && wl_cg random write "$C" $CKIB 7 &&
		wl_cg random verify "$C" $CKIB 7 && wl_cg random verify "$C" $CKIB 7
}

observe_cleancache() {
	local maj min refaults added g0 h0 p0 gets hits puts

	if ! fs_setup || ! cg_setup $CGMAX; then
		t_fail "cleancache: the test disk and a memory cgroup"
		return
	fi
	read -r maj min < <(devof "$MNT")
	bt_run cleancache cleancache-refaults.bt cc_load
	refaults=$(btv "$RUN/cleancache.bt" "@refaults[$maj, $min]")
	added=$(btv "$RUN/cleancache.bt" "@added[$maj, $min]")
	t_check "cleancache: refaults on $maj:$min seen ($refaults of $added insertions, >= $((CKIB / 4 / 2)))" \
		test "$refaults" -ge $((CKIB / 4 / 2))
	t_check "cleancache: the first writes are not refaults ($added - $refaults >= $((CKIB / 4)))" \
		test $((added - refaults)) -ge $((CKIB / 4))

	# The pool is the mount's: enable the front, then mount.
	fs_umount
	pcache_load || t_fail "insmod pcache"
	tmem_set ephemeral enabled 1
	fs_mount
	g0=$(tmem_stat ephemeral gets) h0=$(tmem_stat ephemeral get_hits)
	p0=$(tmem_stat ephemeral puts)
	t_check "cleancache: the same load with cleancache on, every byte right" cc_load
	gets=$(($(tmem_stat ephemeral gets) - g0)) hits=$(($(tmem_stat ephemeral get_hits) - h0))
	puts=$(($(tmem_stat ephemeral puts) - p0))
	t_diag "cleancache on: puts +$puts gets +$gets get_hits +$hits; refaults seen $refaults"
	# Each refault is a read cleancache can serve, and does while its
	# pool (10 % of memory, far more than the file) holds the page.
	# Reclaim does not evict exactly the same pages twice: 25 %.
	t_check_tmem ephemeral "cleancache: get_hits as many as the refaults seen ($hits, $refaults, 25%)" \
		within "$hits" "$refaults" 25
	tmem_set ephemeral enabled 0
	rm -f "$C"
	fs_umount
	pcache_unload
	cg_teardown
}

# ---------------------------------------------------------------------
# replication: page cache reads from another node than the reader's.
RP=1024
R=$MNT/observe-repl
R1=$MNT/observe-repl1
# repl_load: R is cached on node 0, R1 on node 1.  From node 1, two
# read(2) passes and a mapping of R; from node 0, one and a mapping; from
# node 1, one pass and a mapping of R1 (local: a wrong node for node 1's
# folios shows).  Every word checked.
repl_load() {
	"$PR" locality "$R" $RP 1 2 > "$RUN/repl-n1" &&
		"$PR" locality "$R" $RP 0 1 > "$RUN/repl-n0" &&
		"$PR" locality "$R1" $RP 1 1 > "$RUN/repl-r1"
}

observe_repl() {
	local maj min ino ino1 o rr rf lr lf b1r b1f b1x l0 r0 c0 rl rr2 made
	local P=$SYSFS/replication

	if [ ! -d /sys/devices/system/node/node1 ] || ! fs_setup ||
	   ! PCACHE_REPL_NODE=0 "$PR" fill "$R" $RP 1 ||
	   ! PCACHE_REPL_NODE=1 "$PR" fill "$R1" $RP 1; then
		t_fail "repl: two nodes, the test disk, a file on each node"
		return
	fi
	read -r maj min < <(devof "$MNT")
	ino=$(stat -c %i "$R") ino1=$(stat -c %i "$R1")
	bt_run repl repl-remotereads.bt repl_load
	t_diag "node 1: $(tr '\n' ' ' < "$RUN/repl-n1")"
	o=$RUN/repl.bt
	rr=$(btv "$o" "@remote[$maj, $min, $ino, read]")
	rf=$(btv "$o" "@remote[$maj, $min, $ino, fault]")
	lr=$(btv "$o" "@local[$maj, $min, $ino, read]")
	lf=$(btv "$o" "@local[$maj, $min, $ino, fault]")
	t_check "repl: remote read(2)s of the file ($rr, want $((2 * RP)) +- 5%)" within "$rr" $((2 * RP)) 5
	t_check "repl: remote folios mapped by faults ($rf, want $RP +- 5%)" within "$rf" $RP 5
	t_check "repl: local read(2)s ($lr, want $RP +- 5%)" within "$lr" $RP 5
	t_check "repl: local folios mapped ($lf, want $RP +- 5%)" within "$lf" $RP 5
	b1r=$(btv "$o" "@local[$maj, $min, $ino1, read]")
	b1f=$(btv "$o" "@local[$maj, $min, $ino1, fault]")
	b1x=$(($(btv "$o" "@remote[$maj, $min, $ino1, read]") + $(btv "$o" "@remote[$maj, $min, $ino1, fault]")))
	t_check "repl: node 1's own file: local read(2)s and mappings ($b1r, $b1f, want $RP +- 5% each)" \
		eval 'within "$b1r" $RP 5 && within "$b1f" $RP 5'
	t_check "repl: node 1's own file: no remote read ($b1x, want <= $((RP / 20)))" \
		test "$b1x" -le $((RP / 20))
	t_check "repl: by node: node 1 read node 0's folios (@by_node[1, 0] >= $((3 * RP)))" \
		test "$(btv "$o" "@by_node[1, 0]")" -ge $((3 * RP))
	lr=$((lr + b1r)) lf=$((lf + b1f)) rr=$((rr + b1x))

	pcache_load || t_fail "insmod pcache"
	echo 1 > $P/min_remote_reads
	echo 0 > $P/write_quiet_ms
	echo 1 > $P/enabled
	l0=$(cat $P/stats/reads_local) r0=$(cat $P/stats/reads_remote)
	c0=$(cat $P/stats/replicated)
	t_check "repl: the same reads with replication on, every word right" repl_load
	rl=$(($(cat $P/stats/reads_local) - l0)) rr2=$(($(cat $P/stats/reads_remote) - r0))
	made=$(($(cat $P/stats/replicated) - c0))
	t_diag "node 1: $(tr '\n' ' ' < "$RUN/repl-n1")"
	t_diag "replication on: reads_local +$rl reads_remote +$rr2 replicated +$made; seen local $((lr + lf)) remote $((rr + rf))"
	echo 0 > $P/enabled
	# Replication counts the same folio reads (read(2)'s batches, each
	# folio mapped), and with min_remote_reads 1 serves every remote one
	# from a replica made on the reader's node at its first read.
	t_check "repl: replication counted as many reads ($((rl + rr2)), seen $((lr + lf + rr + rf)), 5%)" \
		within $((rl + rr2)) $((lr + lf + rr + rf)) 5
	t_check "repl: the remote reads seen became local ($((rl - lr - lf)) more local than seen, $((rr + rf)) remote seen, 10%)" \
		within $((rl - lr - lf)) $((rr + rf)) 10
	t_check "repl: a replica for each page read remotely (replicated +$made, $RP pages)" \
		within "$made" $RP 5
	pcache_unload
	rm -f "$R" "$R1"
	fs_umount
}

# ---------------------------------------------------------------------
# fault-around: the pages mapped around a fault, and which were touched.
FP=4096
FF=$MNT/observe-fa
FSEED=0x0b5e
NR=500
FAD=$SYSFS/faultaround
fu_stat() { awk -v k="$1" '$1 == k { print $2 }' $FU; }
# fa_run NAME KIND: pcache_fa KIND (rand: NR random reads; seq: a scan)
# through a mapping of the file, cached by readahead first (which does
# not mark pages accessed); its line in $RUN/NAME.
fa_run() {
	local extra=
	[ "$2" = rand ] && extra=$NR
	"$FA" cache "$FF" $FP $FSEED && "$FA" "$2" "$FF" $FP $FSEED $extra > "$RUN/$1"
}
# pct USED UNUSED: the unused share, percent (-1 with no sample).
pct() { echo $(($1 + $2 > 0 ? $2 * 100 / ($1 + $2) : -1)); }

observe_faultaround() {
	local kind u0 n0 w0 u n w rc so sp
	local -A share

	if ! fs_setup || ! "$FA" write "$FF" $FP $FSEED; then
		t_fail "fault-around: the test disk and a file"
		return
	fi
	t_check "fault-around: pcache not loaded" test ! -d /sys/module/pcache
	t_check "fault-around: insmod faultaround_unused.ko comm=pcache_fa" \
		insmod "$FUKO" comm=pcache_fa
	for kind in rand seq; do
		u0=$(fu_stat used) n0=$(fu_stat unused) w0=$(fu_stat windows)
		fa_run fu-$kind $kind
		rc=$?
		u=$(($(fu_stat used) - u0)) n=$(($(fu_stat unused) - n0))
		w=$(($(fu_stat windows) - w0))
		share[obs-$kind]=$(pct $u $n)
		t_diag "observed $kind: $(cat "$RUN/fu-$kind"); windows +$w used +$u unused +$n; stats now:"
		sed 's/^/#   /' $FU
		t_check "fault-around: $kind reads seen (rc $rc, windows +$w, samples $((u + n)) >= 100)" \
			test $rc = 0 -a $w -gt 0 -a $((u + n)) -ge 100
	done
	t_check "fault-around: random reads leave most pages around untouched (${share[obs-rand]}% >= 70%)" \
		test "${share[obs-rand]}" -ge 70
	t_check "fault-around: a scan touches them (${share[obs-seq]}% unused, 0..30%)" \
		test "${share[obs-seq]}" -ge 0 -a "${share[obs-seq]}" -le 30
	t_check "fault-around: rmmod faultaround_unused" rmmod faultaround_unused

	pcache_load || t_fail "insmod pcache"
	echo 65536 > $FAD/min_bytes
	echo 65536 > $FAD/max_bytes
	echo adaptive > $FAD/mode
	echo 1 > $FAD/map_old
	# pcache samples every process's windows: the counters are read by
	# the shell itself, not by a new process whose libraries' windows
	# would be sampled as well.
	for kind in rand seq; do
		read -r u0 < $FAD/stats/used
		read -r n0 < $FAD/stats/unused
		fa_run pc-$kind $kind
		read -r u < $FAD/stats/used
		read -r n < $FAD/stats/unused
		u=$((u - u0)) n=$((n - n0))
		share[pc-$kind]=$(pct $u $n)
		t_diag "pcache $kind: $(cat "$RUN/pc-$kind"); used +$u unused +$n"
		# The same 64 KiB windows of the same faults, sampled at the
		# VMA's next fault by both.  pcache's samples also hold the
		# other processes' few windows, and a window's pages mapped
		# before it (the tool counts only those it mapped): 15 points.
		so=${share[obs-$kind]} sp=${share[pc-$kind]}
		t_check "fault-around: $kind: unused share seen $so%, pcache's $sp% (within 15 points)" \
			test "$sp" -ge 0 -a $((so - sp)) -le 15 -a $((sp - so)) -le 15
	done
	echo 0 > $FAD/map_old
	echo off > $FAD/mode
	echo 4096 > $FAD/min_bytes
	echo 2097152 > $FAD/max_bytes
	pcache_unload
	rm -f "$FF"
	fs_umount
}

for sec in ${PCACHE_OBSERVE_ONLY:-fork cleancache repl faultaround}; do
	"observe_$sec"
done
t_done
