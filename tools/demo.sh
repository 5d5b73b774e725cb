#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# `make run`: the demo, inside the guest.  Each feature of pcache, off
# then on, on a small workload of its own, every figure measured in this
# boot, every byte the workloads read checked; one table at the end:
#
#   replication	a 4 MiB file cached on node 0, read (read(2), then
#		a mapping) by a process on node 1: the share of the
#		pages it maps that are on its own node, replica memory
#   cleancache	24 MiB of files re-read twice in a 12 MiB memory cgroup:
#		sectors read from the disk
#   frontswap	32 MiB of anonymous memory (3/4 compressible) in a
#		16 MiB cgroup with a swap file: pages written to the swap
#		device, compression ratio
#   fork	2000 rewrites (64 bytes each) of 8 hot pages of a file on
#		a stable-writes device (null_blk, 3 ms a request), writeback
#		started every 8 writes: write(2) latency p99, and the time
#		spent in those write(2) calls
#   fault-around	a cached 16 MiB file mapped and read at random
#		(500 pages) and in order: minor faults and RSS
#
# "off" is pcache loaded with the feature off (the kernel's behaviour),
# except for frontswap, where it is no pcache and no zswap.  The figures
# are of one run under TCG: see make bench for repeated runs and ratios.
# VERBOSE=1 also shows the sysfs tree and the hook counters.  Exits 1 if
# a byte read was wrong or a feature could not be switched on.
set -u
. "$(dirname "$0")/../selftests/lib.sh" > /dev/null

VERBOSE=${VERBOSE:-0}
RB=$BUILD/selftests/pcache_repl
PF=$BUILD/selftests/pcache_fork
PFA=$BUILD/selftests/pcache_fa
BENCH=$BUILD/bench/pcache_bench
BAD=/tmp/pcache-demo.bad
rm -f "$BAD"
rows=()

say() { echo "== $*"; }
# bad WHY: a failure, noted in a file (bad runs in subshells too).
bad() { echo "demo: $*" >&2; echo "$*" >> "$BAD"; }
# row FEATURE WORKLOAD MEASURE OFF ON
row() { rows+=("| $1 | $2 | $3 | $4 | $5 |"); }
pct() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.0f %%", 100 * a / b; else print "-" }'; }
load() { pcache_load > /dev/null || { bad "cannot load pcache"; exit 1; }; }

verbose_tree() {
	[ "$VERBOSE" = 1 ] || return 0
	echo "== /sys/kernel/mm/pcache/"
	for f in "$SYSFS"/*; do
		if [ -d "$f" ]; then echo "  $(basename "$f")/"; else echo "  $(basename "$f") = $(cat "$f")"; fi
	done
}

echo "== NUMA nodes: $(cd /sys/devices/system/node && echo node[0-9]*)"
pcache_unload
load
echo "== loaded: $(dmesg | grep 'pcache: version' | tail -1 | sed 's/^\[[^]]*\] //')"
verbose_tree
pcache_unload
fs_setup || { echo "demo: no test disk"; exit 1; }
D=$MNT/demo
rm -rf "$D"
mkdir -p "$D"

# ---- replication ------------------------------------------------------
# locality NODE: "on_node mapped" of one run on node 1 (4 read(2) passes,
# then 4 passes over a mapping, every word checked).
repl_read() {
	local out
	out=$("$RB" locality "$D/repl" 1024 1 4) || { bad "replication: wrong data read on node 1"; echo "0 0"; return; }
	echo "$out" | awk '$1 == "mapped" { print $4, $2 }'
}
if [ -n "$(cat /sys/devices/system/node/node1/cpulist 2>/dev/null)" ]; then
	say "replication: a 4 MiB file cached on node 0, read on node 1"
	PCACHE_REPL_NODE=0 "$RB" fill "$D/repl" 1024 1 &&
		drop_caches && PCACHE_REPL_NODE=0 "$RB" check "$D/repl" 1024 1 ||
		bad "replication: wrong data read on node 0"
	load
	read -r l0 n0 < <(repl_read)
	echo 2 > "$SYSFS/replication/min_remote_reads"
	echo 1 > "$SYSFS/replication/enabled" || bad "replication: cannot switch it on"
	read -r l1 n1 < <(repl_read)
	kib=$(($(cat "$SYSFS/replication/stats/nr_replica_pages") * 4))
	echo 0 > "$SYSFS/replication/enabled"
	pcache_unload
	echo "   off: $l0 of $n0 pages on node 1; on: $l1 of $n1, replicas $kib KiB"
	[ "$l1" -gt "$l0" ] || bad "replication: no page came closer"
	row replication "4 MiB file cached on node 0, read on node 1" \
		"pages node 1 maps from its own node" "$(pct "$l0" "$n0")" "$(pct "$l1" "$n1")"
	row replication "" "replica memory" "0 KiB" "$kib KiB"
else
	say "replication: skipped, node 1 has no CPU"
fi

# ---- cleancache -------------------------------------------------------
# reread: remount (a cold page cache; cleancache's pool is the mount's),
# read every file once in the cgroup, then twice more, every byte
# checked; prints the sectors read from the disk by the last two.
reread() {
	local s0 i r
	fs_umount && fs_mount || exit 1
	for r in 0 1 2; do
		[ "$r" = 1 ] && s0=$(disk_stat 3)
		for i in 1 2 3; do
			PCACHE_WL_CONTENT=mixed cg_run "$WL" verify "$D/cc/f$i" 8192 "$i" > /dev/null ||
				bad "cleancache: wrong data in f$i"
		done
	done
	echo $(($(disk_stat 3) - s0))
}
say "cleancache: 24 MiB of files re-read in a 12 MiB cgroup"
cg_setup 12M || exit 1
mkdir -p "$D/cc"
for i in 1 2 3; do
	PCACHE_WL_CONTENT=mixed "$WL" write "$D/cc/f$i" 8192 "$i" > /dev/null
done
load
s_off=$(reread)
tmem_set ephemeral compressor lz4 && tmem_set ephemeral enabled 1 || bad "cleancache: cannot switch it on"
s_on=$(reread)
hits=$(tmem_stat ephemeral get_hits 2>/dev/null || echo 0)
tmem_set ephemeral enabled 0
fs_umount && fs_mount
pcache_unload
cg_teardown
echo "   off: $s_off sectors read; on: $s_on, $hits pages from cleancache"
[ "$s_on" -lt "$s_off" ] || bad "cleancache: the disk read no less"
row cleancache "24 MiB re-read twice in a 12 MiB cgroup" "sectors read from the disk" "$s_off" "$s_on"

# ---- frontswap --------------------------------------------------------
# swap_run STATDIR: pages written to the swap device while 32 MiB are
# filled, checked and dirtied once in the cgroup; with STATDIR, also
# "stored total" of the pool.
swap_run() {
	local o0 out
	swapon "$D/swapfile" || exit 1
	o0=$(vmstat_get pswpout)
	# shellcheck disable=SC2086 # no statdir: no argument
	out=$(cg_run "$BENCH" swap 32 1 $1) || bad "frontswap: wrong data read back"
	echo "$(($(vmstat_get pswpout) - o0)) $(echo "$out" | sed -n 2p)"
	swapoff "$D/swapfile"
}
say "frontswap: 32 MiB of anonymous memory in a 16 MiB cgroup"
cg_setup 16M || exit 1
dd if=/dev/zero of="$D/swapfile" bs=1M count=64 status=none && chmod 600 "$D/swapfile" &&
	mkswap -q "$D/swapfile" > /dev/null || exit 1
zs=/sys/module/zswap/parameters/enabled
[ ! -w $zs ] || echo 0 > $zs
read -r w_off _ < <(swap_run "")
load
tmem_set persistent compressor lz4 && tmem_set persistent enabled 1 || bad "frontswap: cannot switch it on"
read -r w_on st tot < <(swap_run "$TMEM/persistent/stats")
tmem_set persistent enabled 0
pcache_unload
cg_teardown
ratio=$(awk -v s="${st:-0}" -v t="${tot:-0}" 'BEGIN { if (t > 0) printf "%.2f", s * 4096 / t; else print "-" }')
echo "   no frontswap: $w_off pages written to swap; frontswap: $w_on, ratio $ratio"
[ "$w_on" -lt "$w_off" ] || bad "frontswap: the swap device got no fewer writes"
row frontswap "32 MiB anonymous in a 16 MiB cgroup" "pages written to the swap device" "$w_off" "$w_on"
row frontswap "" "compression ratio of what it holds" "-" "$ratio"

# ---- fork-on-write ----------------------------------------------------
say "fork-on-write: rewrites under writeback on a 3 ms stable-writes device"
fork_hot() {
	local out
	out=$("$PF" hot "$FM/hot" 8 2000 8 write 2>&1)
	[ "$(kv hot_bad "$out")" = 0 ] || bad "fork-on-write: wrong data after the rewrites"
	echo "$(kv hot_p99_us "$out") $(kv hot_total_ms "$out")"
}
FM=$MNT-fork
if [ -e /sys/module/null_blk ]; then rmmod null_blk 2>/dev/null; fi
if nb_load 3000000 2>/dev/null &&
	mkfs.ext4 -q -F -b 4096 /dev/nullb0 > /dev/null 2>&1 &&
	mkdir -p "$FM" && mount -o lazytime /dev/nullb0 "$FM"; then
	load
	read -r p_off t_off < <(fork_hot)
	echo 1 > "$SYSFS/fork/enabled" || bad "fork-on-write: cannot switch it on"
	read -r p_on t_on < <(fork_hot)
	nf=$(cat "$SYSFS/fork/stats/forked")
	echo 0 > "$SYSFS/fork/enabled"
	pcache_unload
	umount "$FM"
	rmmod null_blk
	echo "   off: p99 $p_off us, $t_off ms in write(2); on: p99 $p_on us, $t_on ms, $nf pages forked"
	[ "$nf" -gt 0 ] || bad "fork-on-write: nothing was forked"
	row fork-on-write "2000 rewrites of 8 hot pages, writeback every 8" \
		"write(2) latency p99" "$p_off us" "$p_on us"
	row fork-on-write "" "time in write(2), all 2000" "$t_off ms" "$t_on ms"
else
	say "fork-on-write: skipped, no null_blk"
fi

# ---- fault-around -----------------------------------------------------
say "fault-around: a cached 16 MiB file read through a mapping"
"$PFA" write "$D/fa" 4096 7 > /dev/null
cat "$D/fa" > /dev/null
fa_run() {	# prints "rand_faults rand_rss seq_faults"
	local r s
	r=$("$PFA" rand "$D/fa" 4096 7 500) || bad "fault-around: wrong data (random)"
	s=$("$PFA" seq "$D/fa" 4096 7) || bad "fault-around: wrong data (sequential)"
	echo "$(kv minflt "$r") $(kv rss_kib "$r") $(kv minflt "$s")"
}
load
read -r rf0 rr0 sf0 < <(fa_run)
echo adaptive > "$SYSFS/faultaround/mode" || bad "fault-around: cannot switch it on"
read -r rf1 rr1 sf1 < <(fa_run)
echo off > "$SYSFS/faultaround/mode"
pcache_unload
echo "   kernel's 64 KiB: random $rf0 faults, $rr0 KiB; sequential $sf0 faults"
echo "   adaptive:        random $rf1 faults, $rr1 KiB; sequential $sf1 faults"
[ "$rr1" -lt "$rr0" ] && [ "$sf1" -lt "$sf0" ] || bad "fault-around: adaptive did no better"
row fault-around "500 random pages of a 16 MiB mapping" "RSS of the mapping" "$rr0 KiB" "$rr1 KiB"
row fault-around "" "minor faults" "$rf0" "$rf1"
row fault-around "every page in order" "minor faults" "$sf0" "$sf1"

rm -rf "$D"
fs_umount

if [ "$VERBOSE" = 1 ]; then
	load
	poke_hooks
	echo "== hook counters (/sys/kernel/debug/pcache/hooks): site, class, count"
	sed 's/^/  /' "$DEBUGFS/hooks"
	pcache_unload
fi

echo
echo "pcache on $(uname -r), one run of each (off: the kernel's own behaviour), every byte read checked"
echo
echo "| feature | workload | measure | off | on |"
echo "|---|---|---|---|---|"
printf '%s\n' "${rows[@]}"
echo
if [ ! -s "$BAD" ]; then
	echo "demo: every feature did its work, no wrong byte"
	exit 0
fi
echo "demo: FAILED: $(paste -sd';' "$BAD")"
exit 1
