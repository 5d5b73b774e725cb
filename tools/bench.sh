#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# `make bench`, inside the guest: each workload with pcache not loaded
# and loaded (hooks on, no feature on), side by side in this one boot.
# Samples come in adjacent pairs, alternating A B / B A, and the ratio of
# each pair is taken, so that drift of the (TCG) guest cancels.  The
# ratio reported is the median of the pair ratios, with their interquartile
# range; a workload runs until that range is under SPREAD percent (at
# least MIN_ROUNDS, at most MAX_ROUNDS pairs).  The table goes to the
# console and to /tmp/out/bench.md.
#
# Then the feature rows.  Each section runs its setups in rounds (see
# "ratios and their targets" below: FEAT_MIN to FEAT_MAX rounds, until
# every targeted ratio is resolved, at most FEAT_CAP seconds) and prints
# the medians of each setup, then a table of the ratios of each round's
# adjacent runs: median, IQR, N, the target and its verdict.
#
# The transcendent-memory rows (issue 3), setups in rotating order:
#  - swap: an anonymous working set of SWAP_MIB (2x the cgroup's
#    memory.max SWAP_CG), 3/4 compressible, checked and dirtied page by
#    page SWAP_PASSES times, with no pcache and zswap off, with zswap (lz4,
#    zsmalloc), and with pcache frontswap (tmem/persistent, lz4, zswap off):
#    MiB/s of the passes, their CPU time per MiB (the task's user and
#    system time: with the cgroup at its limit, reclaim and compression
#    run in it), pages written to and read from the swap device
#    (pswpout, pswpin), compression ratio (stored_pages * 4096 /
#    pool_total_size, read while the memory is still held);
#  - re-read: a file set of REREAD_MIB (2x REREAD_CG) read REREAD_ROUNDS
#    times in the cgroup after one warm-up round, pcache not loaded vs
#    pcache cleancache (tmem/ephemeral) on: MiB/s and sectors read.
#
# Then the replication rows (issue 4), off vs on in one boot, alternating;
# the shared read and exec rows in the first REPL_ROUNDS rounds, the mixed
# row in every round (its ratio has the target).  Files are written
# and first read on node 0, so their page cache is there:
#  - shared read: a reader on each node reads the same REPL_MIB file
#    REPL_PASSES times with read(2), then through a mapping: MiB/s (sum of
#    both), share of mapped pages on the reader's node (move_pages), and
#    replica memory at the end;
#  - mixed: pwrite writers on node 0 and readers (read(2), mmap, forked,
#    mremap-moved) on node 1 on a 1 MiB hot set for REPL_MIXED_S seconds
#    (pcache_repl torture): operations per second and collapses per
#    second (30 s by default: the write backoff needs a few writes of
#    each cold page to stop replicating it);
#  - exec: EXEC_N runs of a binary copied to the ext4 disk from each node
#    at once: execs per second, share of its text served node-locally.
# QEMU emulates the topology, not the latency: on real NUMA hardware the
# same rows show the latency gain (see Documentation/pcache/benchmarks.md).
#
# Then the fork-on-write rows (issue 5), on a null_blk device whose every
# request takes 3 ms, with stable writes on, ext4: a process rewrites 8
# hot pages FORK_ITERS times (64 bytes at a time, write(2), or stores to a
# shared mapping) and starts writeback of them with sync_file_range()
# every 8 writes (or every 128), so writes hit pages under writeback:
# latency p50 /
# p99 / max of each write or store, writes per second, and sectors
# written to the device, with fork off (stock: the writer waits), fork on,
# and, as the floor, stable writes off (no wait, no stable pages).  The
# filesystem is mounted with lazytime in all three, so that a write's
# mtime update costs no journal transaction.  Each setup runs
# FORK_ROUNDS times, medians reported.
#
# Then the fault-around rows (issue 14): pcache's adaptive windows (and
# with map_old) against the kernel's own fault_around_bytes of 4 KiB,
# 64 KiB (the default) and 2 MiB with pcache not loaded, and pcache
# loaded with the mode off (stock's 64 KiB), each setup run
# FA_ROUNDS times in rotating order, medians reported: (a) exec: FA_EXEC
# runs of ls and its libraries copied to the ext4 disk (ASLR off in the
# runs, so that every setup has the same layout); (b) FA_RAND random
# page touches through a mapping of a cached FA_MIB file; (c) a sequential
# scan of that mapping; (d) (a) and FA_DRAND random touches of another
# FA_MIB file at once, from a cold page cache, in a cgroup of FA_CG MiB
# (less than what they touch): minor faults, wall time,
# the mapping's RSS, and for (d) the cgroup's reclaim scans and file
# refaults (memory.stat pgscan, workingset_refault_file).
# BENCH_ONLY takes "read fault files swap reread repl fa fork".
#
# The data of the plots go to /tmp/out/plot/ (the host's
# tools/bench-plot.sh draws them): swap.dat (the swap medians),
# repl-phases.dat (a reader on node 1 through read passes, a write from
# node 0 and read passes again: the share of its reads served node-locally
# and the replica memory after each phase, replication on, and with node 1
# left out of replication's nodes as the kernel's own placement), fa.dat
# (the fault-around medians by setup) and fork-cdf-MODE-EVERY-SETUP.dat
# (every write's latency in the last round, sorted).
set -u
. "$(dirname "$0")/../selftests/lib.sh" > /dev/null
BENCH=$BUILD/bench/pcache_bench
SPREAD=${SPREAD:-2}
MIN_ROUNDS=${MIN_ROUNDS:-16}
MAX_ROUNDS=${MAX_ROUNDS:-30}

PLOT=/tmp/out/plot
mkdir -p "$PLOT"
uname -r > "$PLOT/kernel"
# The machine, as make bench saw it at the start (PCACHE_BENCH_HOST), and
# the guest.
{
	echo "make bench: host ${PCACHE_BENCH_HOST:-not given}; guest $(uname -r), $(nproc) vCPUs" \
		"in $(ls -d /sys/devices/system/node/node* | wc -l) nodes${BENCH_ONLY:+; BENCH_ONLY=$BENCH_ONLY}"
	echo
} | tee /tmp/out/bench.md

pcache_unload
fs_setup || { echo "bench: no disk"; exit 1; }
echo 0 > "/sys/block/$(basename "$DISK")/queue/stable_writes"
"$WL" write "$MNT/bench-read" 32768 1 > /dev/null
"$WL" write "$MNT/bench-fault" 16384 2 > /dev/null
mkdir -p "$MNT/bench-files"
cat "$MNT/bench-read" "$MNT/bench-fault" > /dev/null

# sample MODE CMD...: one rate with pcache not loaded (off) or loaded (on).
sample() {
	local mode=$1
	shift
	# shellcheck disable=SC2086 # PCACHE_BENCH_PARAMS is a list of words
	if [ "$mode" = on ]; then pcache_load ${PCACHE_BENCH_PARAMS:-} || exit 1; fi
	"$@"
	if [ "$mode" = on ]; then pcache_unload; fi
}

# quart V...: "median p25 p75" of the values.
quart() {
	printf '%s\n' "$@" | sort -g | awk '
		function q(p,   i, f) { i = 1 + (NR - 1) * p; f = int(i);
			return v[f] + (i - f) * (v[f + 1] - v[f]) }
		{ v[NR] = $1 } END { v[NR + 1] = v[NR]; printf "%.4f %.4f %.4f\n", q(0.5), q(0.25), q(0.75) }'
}

# ratios: the pair ratios on/off of the arrays off and on.
ratios() {
	local i
	for i in "${!off[@]}"; do
		awk -v a="${off[i]}" -v b="${on[i]}" 'BEGIN { printf "%.5f\n", b / a }'
	done
}

rows=()
bench() {	# bench NAME UNIT CMD...
	local name=$1 unit=$2
	shift 2
	local off=() on=() r q
	for r in $(seq "$MAX_ROUNDS"); do
		if [ $((r % 2)) = 1 ]; then
			off+=("$(sample off "$@")"); on+=("$(sample on "$@")")
		else
			on+=("$(sample on "$@")"); off+=("$(sample off "$@")")
		fi
		[ "$r" -ge "$MIN_ROUNDS" ] || continue
		q=$(quart $(ratios))
		awk -v q="$q" -v s="$SPREAD" 'BEGIN { split(q, a, " ");
			exit !((a[3] - a[2]) * 100 < s) }' && break
	done
	q=$(quart $(ratios))
	rows+=("$(awk -v n="$name" -v u="$unit" -v r="${#off[@]}" -v q="$q" \
		-v a="$(quart "${off[@]}")" -v b="$(quart "${on[@]}")" 'BEGIN {
		split(q, x, " "); split(a, y, " "); split(b, z, " ")
		v = x[2] >= 0.99 ? "met" : x[3] < 0.99 ? "not met" : "not resolved"
		printf "| %s | %s | %.0f | %.0f | %.3f | %.3f-%.3f | %d | >= 0.99 | %s |",
			n, u, y[1], z[1], x[1], x[2], x[3], r, v }')")
	echo "bench: $name: off ${off[*]} / on ${on[*]}" >&2
}

want() { [ -z "${BENCH_ONLY:-}" ] || [[ " $BENCH_ONLY " == *" $1 "* ]]; }

# ---- ratios and their targets (issue 16) ----------------------------
# A feature section runs its setups in rounds, every setup once a round
# (in rotating or alternating order), and takes each round's ratio of its
# adjacent runs.  It runs FEAT_MIN rounds, then more until the IQR of every
# ratio with a target lies on one side of it (resolved), FEAT_MAX rounds
# or FEAT_CAP seconds, whichever comes first.  A ratio whose IQR still
# straddles its target is printed "not resolved", not as a verdict.
FEAT_MIN=${FEAT_MIN:-5}
FEAT_MAX=${FEAT_MAX:-15}
FEAT_CAP=${FEAT_CAP:-1200}
declare -A RAT=()	# ratio key: the ratios of the rounds so far

# ratio_add KEY A B: this round's A / B (none for a failed run, or B 0).
ratio_add() {
	local r
	r=$(awk -v a="$2" -v b="$3" 'BEGIN { n = "^[0-9.]+([eE][-+]?[0-9]+)?$"
		if (a ~ n && b ~ n && b + 0 != 0) printf "%.5f", a / b }')
	[ -z "$r" ] || RAT[$1]+="$r "
}

# verdict KEY OP TARGET: "met", "not met" or "not resolved" (OP >= or <=),
# from the IQR of KEY's ratios (never from fewer than 3); "no data"
# without any.
verdict() {
	local q
	[ -n "${RAT[$1]:-}" ] || { echo "no data"; return; }
	# shellcheck disable=SC2086 # a list of numbers
	q=$(quart ${RAT[$1]})
	# shellcheck disable=SC2086 # a list of numbers
	awk -v q="$q" -v op="$2" -v t="$3" -v n="$(echo ${RAT[$1]} | wc -w)" 'BEGIN { split(q, x, " ")
		if (n < 3) v = "not resolved"
		else if (op == ">=") v = x[2] >= t ? "met" : x[3] < t ? "not met" : "not resolved"
		else v = x[3] <= t ? "met" : x[2] > t ? "not met" : "not resolved"
		print v }'
}

# more_rounds R T0 [KEY OP TARGET]...: after round R of a section started
# at T0 (in SECONDS), run another?
more_rounds() {
	local r=$1 t0=$2
	shift 2
	[ "$r" -lt "$FEAT_MAX" ] && [ $((SECONDS - t0)) -lt "$FEAT_CAP" ] || return 1
	[ "$r" -ge "$FEAT_MIN" ] || return 0
	while [ $# -ge 3 ]; do
		[ "$(verdict "$1" "$2" "$3")" != "not resolved" ] || return 0
		shift 3
	done
	return 1
}

# ratio_row KEY LABEL [OP TARGET]: "| LABEL | median | IQR | N | target |
# verdict |" of KEY's ratios.
ratio_row() {
	local q="- - -" n=0 t="" v=""
	if [ -n "${RAT[$1]:-}" ]; then
		# shellcheck disable=SC2086 # a list of numbers
		q=$(quart ${RAT[$1]}) n=$(echo ${RAT[$1]} | wc -w)
	fi
	[ $# -lt 4 ] || { t="$3 $4"; v=$(verdict "$1" "$3" "$4"); }
	awk -v l="$2" -v q="$q" -v n="$n" -v t="$t" -v v="$v" 'BEGIN { split(q, x, " ")
		if (x[1] == "-") printf "| %s | - | - | 0 | %s | %s |\n", l, t, v
		else printf "| %s | %.3f | %.3f-%.3f | %d | %s | %s |\n", l, x[1], x[2], x[3], n, t, v }'
}
ratio_head() {
	echo "| ratio (of each round's adjacent runs) | median | IQR | N | target | verdict |"
	echo "|---|---|---|---|---|---|"
}
want read && bench "cached read(2), 64 KiB reads of a 32 MiB file" "MiB/s" "$BENCH" read "$MNT/bench-read" 8
want fault && bench "mmap read faults, 16 MiB file, fault-around 64 KiB" "faults/s" "$BENCH" fault "$MNT/bench-fault" 8
want files && bench "small files: create, write 4 KiB, close, unlink" "files/s" "$BENCH" files "$MNT/bench-files" 1500

[ ${#rows[@]} -gt 0 ] && {
	echo "Hook cost: pcache not loaded vs loaded with hooks on and no feature on"
	echo "($(uname -r), single-threaded TCG guest, 4 vCPUs in 2 NUMA nodes;"
	echo "medians of N adjacent pairs; ratio = median of the pair ratios loaded/not loaded, with its interquartile range)"
	echo
	echo "| workload | unit | not loaded | pcache loaded | ratio | ratio IQR | N | target | verdict |"
	echo "|---|---|---|---|---|---|---|---|---|"
	printf '%s\n' "${rows[@]}"
} | tee -a /tmp/out/bench.md
rm -rf "$MNT/bench-read" "$MNT/bench-fault" "$MNT/bench-files"

# ---- transcendent memory --------------------------------------------
SWAP_CG=${SWAP_CG:-64}
SWAP_MIB=${SWAP_MIB:-$((2 * SWAP_CG))}
SWAP_PASSES=${SWAP_PASSES:-3}
REREAD_CG=${REREAD_CG:-32}
REREAD_MIB=${REREAD_MIB:-$((2 * REREAD_CG))}
REREAD_ROUNDS=${REREAD_ROUNDS:-4}
ZSW=/sys/module/zswap/parameters
SWAPF=$MNT/bench-swap
tmem_md=()

med() { quart "$@" | cut -d' ' -f1; }
# fmt V: a number, or "-" for none.
fmt() { awk -v v="$1" -v f="${2:-%.0f}" 'BEGIN { if (v == "" || v == "-") print "-"; else printf f "\n", v }'; }
# rel A B: A / B, or "-".
rel() { awk -v a="$1" -v b="$2" 'BEGIN { if (a == "-" || b == "-" || a == "" || b == "" || b + 0 == 0) print "-"; else printf "%.2f\n", a / b }'; }

zswap_set() {	# zswap_set 0|1
	[ -d "$ZSW" ] || return 1
	if [ "$1" = 1 ]; then
		# As shipped: no shrinker writeback (6.12's default).
		echo 0 > "$ZSW/shrinker_enabled" 2>/dev/null
		echo lz4 > "$ZSW/compressor" && echo zsmalloc > "$ZSW/zpool" &&
			echo 1 > "$ZSW/enabled"
	else
		echo 0 > "$ZSW/enabled"
	fi
}

# swap_run MODE: one run of the swap workload; prints (last, once all is
# torn down)
# "MiB/s cpu_ms_per_MiB pswpout pswpin ratio" (ratio "-" without a pool).
swap_run() {
	local mode=$1 statdir="" o0 i0 o1 i1 out rate st ratio
	zswap_set 0 2>/dev/null
	case $mode in
	zswap)
		zswap_set 1 || { echo "- - - - -"; return; }
		statdir=/sys/kernel/debug/zswap ;;
	pcache)
		# shellcheck disable=SC2086 # PCACHE_BENCH_PARAMS is a list of words
		pcache_load ${PCACHE_BENCH_PARAMS:-} || exit 1
		tmem_set persistent compressor lz4 && tmem_set persistent enabled 1 ||
			{ pcache_unload; echo "- - - - -"; return; }
		statdir=$TMEM/persistent/stats ;;
	esac
	swapon "$SWAPF" || exit 1
	o0=$(vmstat_get pswpout) i0=$(vmstat_get pswpin)
	# shellcheck disable=SC2086 # no statdir: no argument
	out=$(cg_run "$BENCH" swap "$SWAP_MIB" "$SWAP_PASSES" $statdir) ||
		echo "bench: swap workload ($mode): wrong data or failure" >&2
	o1=$(vmstat_get pswpout) i1=$(vmstat_get pswpin)
	swapoff "$SWAPF"
	case $mode in
	zswap) zswap_set 0 ;;
	pcache) tmem_set persistent enabled 0; pcache_unload ;;
	esac
	rate=$(echo "$out" | sed -n 1p | awk 'NF == 2 { print $1, $2 }')
	st=$(echo "$out" | sed -n 2p)
	ratio=$(echo "$st" | awk '{ if (NF == 2 && $2 > 0) printf "%.3f", $1 * 4096 / $2; else print "-" }')
	echo "${rate:-- -} $((o1 - o0)) $((i1 - i0)) ${ratio:--}"
}

if want swap; then
	cg_setup "${SWAP_CG}M" || exit 1
	[ -f "$SWAPF" ] || { dd if=/dev/zero of="$SWAPF" bs=1M count=$((SWAP_MIB * 2)) status=none &&
		chmod 600 "$SWAPF" && mkswap -q "$SWAPF" > /dev/null; } || exit 1
	modes=(none zswap pcache)
	declare -A rate=() cpu=() pout=() pin=() ratio=() cur=()
	r=0 t0=$SECONDS
	while :; do
		r=$((r + 1))
		for k in 0 1 2; do
			m=${modes[$(((k + r - 1) % 3))]}
			read -r a e b c d < <(swap_run "$m")
			a=${a:--} e=${e:--} b=${b:--} c=${c:--} d=${d:--}
			echo "bench: swap $m: $a MiB/s, $e CPU ms/MiB, pswpout $b, pswpin $c, ratio $d" >&2
			rate[$m]+="$a " cpu[$m]+="$e " pout[$m]+="$b " pin[$m]+="$c " ratio[$m]+="$d "
			cur[$m.rate]=$a cur[$m.cpu]=$e
		done
		ratio_add swap.pz "${cur[pcache.rate]}" "${cur[zswap.rate]}"
		ratio_add swap.pn "${cur[pcache.rate]}" "${cur[none.rate]}"
		ratio_add swap.cpz "${cur[pcache.cpu]}" "${cur[zswap.cpu]}"
		more_rounds $r $t0 swap.pz ">=" 1.0 || break
	done
	swap_n=$r
	for m in "${modes[@]}"; do
		for v in rate cpu pout pin ratio; do
			declare -n arr=$v
			# shellcheck disable=SC2086 # a list of numbers
			if [[ "${arr[$m]}" == *-* ]]; then
				declare "med_${v}_$m=-"
			else
				declare "med_${v}_$m=$(med ${arr[$m]})"
			fi
			unset -n arr
		done
	done
	w="swap: $SWAP_MIB MiB anon, 3/4 compressible, in a $SWAP_CG MiB cgroup, $SWAP_PASSES check+dirty passes"
	row() {	# row METRIC VAR FORMAT
		local n z p
		n=$(eval echo "\$med_${2}_none") z=$(eval echo "\$med_${2}_zswap")
		p=$(eval echo "\$med_${2}_pcache")
		echo "| $w | $1 | $(fmt "$n" "$3") | $(fmt "$z" "$3") | $(fmt "$p" "$3") | $(rel "$p" "$z") | $(rel "$p" "$n") |"
	}
	tmem_md+=("Swap: no pcache and no zswap, zswap, pcache frontswap ($(uname -r); medians of $swap_n runs of each, setups in rotating order)")
	tmem_md+=("")
	tmem_md+=("| workload | metric | no pcache, no zswap | zswap (lz4, zsmalloc) | pcache frontswap (lz4) | pcache / zswap | pcache / none |")
	tmem_md+=("|---|---|---|---|---|---|---|")
	tmem_md+=("$(row "throughput, MiB/s" rate %.1f)")
	tmem_md+=("$(row "CPU time of the passes per MiB, ms (user + system, reclaim included)" cpu %.2f)")
	tmem_md+=("$(row "pages written to the swap device (pswpout)" pout %.0f)")
	tmem_md+=("$(row "pages read from the swap device (pswpin)" pin %.0f)")
	tmem_md+=("$(row "compression ratio (stored_pages * 4096 / pool_total_size)" ratio %.2f)")
	tmem_md+=("")
	tmem_md+=("$(ratio_head)")
	tmem_md+=("$(ratio_row swap.pz "swap throughput, pcache frontswap / zswap" ">=" 1.0)")
	tmem_md+=("$(ratio_row swap.cpz "swap CPU time per MiB, pcache frontswap / zswap")")
	tmem_md+=("$(ratio_row swap.pn "swap throughput, pcache frontswap / no pcache, no zswap")")
	tmem_md+=("")
	{
		echo "# title: $SWAP_MIB MiB anonymous, 3/4 compressible, in a $SWAP_CG MiB cgroup, medians of $swap_n runs"
		echo "# setup MiB/s pswpout pswpin ratio"
		for m in "${modes[@]}"; do
			echo "$m $(eval echo "\$med_rate_$m \$med_pout_$m \$med_pin_$m \$med_ratio_$m")"
		done
	} > "$PLOT/swap.dat"
	rm -f "$SWAPF"
	cg_teardown
fi

# reread_run MODE: one run of the re-read workload; prints "MiB/s sectors".
reread_run() {
	local mode=$1 s0 rate
	if [ "$mode" = on ]; then
		# shellcheck disable=SC2086 # PCACHE_BENCH_PARAMS is a list of words
		pcache_load ${PCACHE_BENCH_PARAMS:-} || exit 1
		tmem_set ephemeral compressor lz4 && tmem_set ephemeral enabled 1 ||
			{ pcache_unload; echo "- -"; return; }
	fi
	# A fresh mount (the pool is the mount's) and a cold page cache.
	fs_umount && fs_mount || exit 1
	cg_run "$BENCH" reread "$MNT/bench-reread" 1 > /dev/null
	s0=$(disk_stat 3)
	rate=$(cg_run "$BENCH" reread "$MNT/bench-reread" "$REREAD_ROUNDS")
	s0=$(($(disk_stat 3) - s0))
	if [ "$mode" = on ]; then
		tmem_set ephemeral enabled 0
		fs_umount && fs_mount
		pcache_unload
	fi
	# Last: the caller reads this line and goes on at once.
	echo "${rate:--} $s0"
}

if want reread; then
	cg_setup "${REREAD_CG}M" || exit 1
	mkdir -p "$MNT/bench-reread"
	for i in 1 2 3 4; do
		PCACHE_WL_CONTENT=mixed "$WL" write "$MNT/bench-reread/f$i" $((REREAD_MIB * 256)) "$i" > /dev/null
	done
	declare -A rrate=() rsect=() cur=()
	r=0 t0=$SECONDS
	while :; do
		r=$((r + 1))
		if [ $((r % 2)) = 1 ]; then order="off on"; else order="on off"; fi
		for m in $order; do
			read -r a b < <(reread_run "$m")
			a=${a:--} b=${b:--}
			echo "bench: reread $m: $a MiB/s, $b sectors read" >&2
			rrate[$m]+="$a " rsect[$m]+="$b "
			cur[$m]=$a
		done
		ratio_add reread.rate "${cur[on]}" "${cur[off]}"
		more_rounds $r $t0 || break
	done
	w="re-read: $REREAD_MIB MiB in 4 files, in a $REREAD_CG MiB cgroup, $REREAD_ROUNDS rounds after 1 warm-up"
	# shellcheck disable=SC2086 # lists of numbers
	{
		ro=$(med ${rrate[off]}); rn=$(med ${rrate[on]})
		so=$(med ${rsect[off]}); sn=$(med ${rsect[on]})
	} 2>/dev/null
	[[ "${rrate[on]}" == *-* ]] && rn=- sn=-
	[[ "${rrate[off]}" == *-* ]] && ro=- so=-
	tmem_md+=("Re-read: pcache not loaded vs pcache cleancache ($(uname -r); medians of $r runs of each, alternating)")
	tmem_md+=("")
	tmem_md+=("| workload | metric | no pcache | pcache cleancache (lz4) | cleancache / none |")
	tmem_md+=("|---|---|---|---|---|")
	tmem_md+=("| $w | throughput, MiB/s | $(fmt "$ro" %.1f) | $(fmt "$rn" %.1f) | $(rel "$rn" "$ro") |")
	tmem_md+=("| $w | sectors read from the disk | $(fmt "$so") | $(fmt "$sn") | $(rel "$sn" "$so") |")
	tmem_md+=("")
	tmem_md+=("$(ratio_head)")
	tmem_md+=("$(ratio_row reread.rate "re-read throughput, cleancache / no pcache")")
	rm -rf "$MNT/bench-reread"
	cg_teardown
fi

if [ ${#tmem_md[@]} -gt 0 ]; then
	{ echo; printf '%s\n' "${tmem_md[@]}"; } | tee -a /tmp/out/bench.md
fi
# ---- replication ------------------------------------------------------
REPL_ROUNDS=${REPL_ROUNDS:-3}
REPL_MIB=${REPL_MIB:-16}
REPL_PASSES=${REPL_PASSES:-4}
REPL_MIXED_S=${REPL_MIXED_S:-30}
EXEC_N=${EXEC_N:-100}
RB=$BUILD/selftests/pcache_repl
RS=$SYSFS/replication
repl_md=()
cpu_of() { cut -d, -f1 "/sys/devices/system/node/node$1/cpulist" | cut -d- -f1; }
rstat() { cat "$RS/stats/$1" 2>/dev/null || echo 0; }

# repl_on MODE: load pcache, and switch replication on for "on".
repl_on() {
	# shellcheck disable=SC2086 # PCACHE_BENCH_PARAMS is a list of words
	pcache_load ${PCACHE_BENCH_PARAMS:-} || exit 1
	if [ "$1" = on ]; then
		echo 2 > "$RS/min_remote_reads"
		echo 1000 > "$RS/write_quiet_ms"
		echo 1 > "$RS/enabled" || exit 1
	fi
}
repl_off() { [ ! -e "$RS/enabled" ] || echo 0 > "$RS/enabled"; pcache_unload; }

# shared_run MODE: prints "MiB/s local_share replica_KiB".
shared_run() {
	local f=$MNT/bench-repl/shared pages=$((REPL_MIB * 256)) o0 o1 rate loc kib
	repl_on "$1"
	o0=$MNT/bench-repl/out0 o1=$MNT/bench-repl/out1
	"$RB" locality "$f" $pages 0 "$REPL_PASSES" > "$o0" &
	"$RB" locality "$f" $pages 1 "$REPL_PASSES" > "$o1"
	wait
	kib=$(($(rstat nr_replica_pages) * 4))
	rate=$(cat "$o0" "$o1" | awk '$1 == "read_mibs" || $1 == "mmap_mibs" { s += $2 } END { print s + 0 }')
	loc=$(cat "$o0" "$o1" | awk -v p=$pages '$1 == "mapped" { n += $4 } END { printf "%.3f\n", n / (2 * p) }')
	rm -f "$o0" "$o1"
	repl_off
	echo "$rate $loc $kib"
}

# mixed_run MODE: prints "ops/s collapses/s".
mixed_run() {
	local f=$MNT/bench-repl/hot c0 out ops
	repl_on "$1"
	c0=$(rstat collapsed)
	out=$("$RB" torture "$f" 256 "$REPL_MIXED_S" 0 1 write 2>&1)
	ops=$(echo "$out" | awk -v s="$REPL_MIXED_S" '$1 == "writes" { printf "%.0f\n", ($2 + $4) / s }')
	echo "$out" | grep -q "violations 0" || ops=-
	c0=$(awk -v a="$(rstat collapsed)" -v b="$c0" -v s="$REPL_MIXED_S" 'BEGIN { printf "%.1f\n", (a - b) / s }')
	repl_off
	# Last: the caller reads this line and goes on at once.
	echo "${ops:--} $c0"
}

# exec_run MODE: prints "execs/s local_share".
exec_run() {
	local bin=$MNT/bench-repl/bin/ls l0 r0 t0 t1
	repl_on "$1"
	l0=$(rstat reads_local) r0=$(rstat reads_remote)
	t0=$(date +%s.%N)
	for n in 0 1; do
		taskset -c "$(cpu_of $n)" sh -c "i=0; while [ \$i -lt $EXEC_N ]; do $bin / > /dev/null; i=\$((i + 1)); done" &
	done
	wait
	t1=$(date +%s.%N)
	l0=$(awk -v t0="$t0" -v t1="$t1" -v n=$((2 * EXEC_N)) -v l="$(($(rstat reads_local) - l0))" \
		-v r="$(($(rstat reads_remote) - r0))" -v on="$1" \
		'BEGIN { s = "-"; if (on == "on" && l + r > 0) s = sprintf("%.3f", l / (l + r)); printf "%.1f %s\n", n / (t1 - t0), s }')
	repl_off
	echo "$l0"
}

# repl_phases MODE: a reader on node 1 through the phases of a file cached
# on node 0, replication on with every node (MODE on) or with node 0 alone
# (MODE kernel: node 1 is served the node-0 pages, as by the kernel);
# prints "phase share_local replica_KiB" per phase (share "-" for the
# write).  After the write, it waits out the write's quiet period (doubled
# once by the backoff: the replicas it collapsed were young).
repl_phases() {
	local f=$MNT/bench-repl/phases pages=$((REPL_MIB * 256)) round=1 ph
	local l0 r0
	PCACHE_REPL_NODE=0 "$RB" fill "$f" "$pages" 1 || exit 1
	drop_caches
	PCACHE_REPL_NODE=0 "$RB" check "$f" "$pages" 1 || exit 1
	repl_on on
	[ "$1" = on ] || echo 0 > "$RS/nodes" || exit 1
	for ph in read1 read2 read3 write read4 wait read5 read6; do
		l0=$(rstat reads_local) r0=$(rstat reads_remote)
		case $ph in
		write)
			round=2
			PCACHE_REPL_NODE=0 PCACHE_REPL_NOTRUNC=1 \
				"$RB" fill "$f" "$pages" $round || exit 1 ;;
		wait) sleep 3 ;;
		*) PCACHE_REPL_NODE=1 "$RB" check "$f" "$pages" $round > /dev/null ||
			echo "bench: repl phases $1: wrong data in $ph" >&2 ;;
		esac
		awk -v p="$ph" -v l="$(($(rstat reads_local) - l0))" \
			-v r="$(($(rstat reads_remote) - r0))" -v k="$(($(rstat nr_replica_pages) * 4))" \
			'BEGIN { s = "-"; if (p ~ /^read/ && l + r > 0) s = sprintf("%.3f", l / (l + r))
				if (p == "write") p = "write(node0)"; if (p == "wait") p = "wait(3s)"; print p, s, k }'
	done
	repl_off
	rm -f "$f"
}

if want repl && [ -x "$RB" ] && [ -n "$(cat /sys/devices/system/node/node1/cpulist 2>/dev/null)" ]; then
	mkdir -p "$MNT/bench-repl/bin"
	cp /usr/bin/ls "$MNT/bench-repl/bin/ls"
	PCACHE_REPL_NODE=0 "$RB" fill "$MNT/bench-repl/shared" $((REPL_MIB * 256)) 1
	PCACHE_REPL_NODE=0 "$RB" fill "$MNT/bench-repl/hot" 256 1
	drop_caches
	PCACHE_REPL_NODE=0 "$RB" check "$MNT/bench-repl/shared" $((REPL_MIB * 256)) 1
	PCACHE_REPL_NODE=0 "$RB" check "$MNT/bench-repl/hot" 256 1
	taskset -c "$(cpu_of 0)" cat "$MNT/bench-repl/bin/ls" > /dev/null
	declare -A srate=() sloc=() skib=() mops=() mcol=() erate=() eloc=() cur=()
	r=0 t0=$SECONDS
	while :; do
		r=$((r + 1))
		if [ $((r % 2)) = 1 ]; then order="off on"; else order="on off"; fi
		for m in $order; do
			if [ "$r" -le "$REPL_ROUNDS" ]; then
				read -r a b c < <(shared_run "$m")
				srate[$m]+="$a " sloc[$m]+="$b " skib[$m]+="$c "
				cur[$m.s]=$a
			fi
			read -r a b < <(mixed_run "$m")
			mops[$m]+="$a " mcol[$m]+="$b "
			cur[$m.m]=$a
			if [ "$r" -le "$REPL_ROUNDS" ]; then
				read -r a b < <(exec_run "$m")
				erate[$m]+="$a " eloc[$m]+="$b "
				cur[$m.e]=$a
			fi
			echo "bench: repl $m round $r: shared ${cur[$m.s]:-} MiB/s, mixed ${cur[$m.m]} ops/s, exec ${cur[$m.e]:-}/s" >&2
		done
		ratio_add repl.mixed "${cur[on.m]}" "${cur[off.m]}"
		if [ "$r" -le "$REPL_ROUNDS" ]; then
			ratio_add repl.shared "${cur[on.s]}" "${cur[off.s]}"
			ratio_add repl.exec "${cur[on.e]}" "${cur[off.e]}"
		fi
		more_rounds $r $t0 repl.mixed ">=" 0.95 || break
	done
	# shellcheck disable=SC2086 # lists of numbers
	{
		v() { med ${1}; }
		so=$(v "${srate[off]}"); sn=$(v "${srate[on]}")
		lo=$(v "${sloc[off]}"); ln=$(v "${sloc[on]}")
		ko=$(v "${skib[off]}"); kn=$(v "${skib[on]}")
		mo=$(v "${mops[off]}"); mn=$(v "${mops[on]}")
		co=$(v "${mcol[off]}"); cn=$(v "${mcol[on]}")
		eo=$(v "${erate[off]}"); en=$(v "${erate[on]}")
		eln=$(v "${eloc[on]}")
	} 2>/dev/null
	w1="shared read: $REPL_MIB MiB file cached on node 0, a reader on each node, $REPL_PASSES read(2) + $REPL_PASSES mmap passes"
	w2="mixed: pwrite on node 0, 4 readers on node 1, 1 MiB hot set, $REPL_MIXED_S s"
	w3="exec: $EXEC_N runs of ls from the ext4 disk on each node at once"
	repl_md+=("Replication: off vs on ($(uname -r); medians of $REPL_ROUNDS runs of each (mixed: $r), alternating; min_remote_reads 2, write_quiet_ms 1000)")
	repl_md+=("")
	repl_md+=("| workload | metric | replication off | replication on | on / off |")
	repl_md+=("|---|---|---|---|---|")
	repl_md+=("| $w1 | throughput, MiB/s (both readers) | $(fmt "$so" %.1f) | $(fmt "$sn" %.1f) | $(rel "$sn" "$so") |")
	repl_md+=("| $w1 | mapped pages on the reader's node | $(fmt "$lo" %.3f) | $(fmt "$ln" %.3f) | |")
	repl_md+=("| $w1 | replica memory, KiB | $(fmt "$ko") | $(fmt "$kn") | |")
	repl_md+=("| $w2 | operations/s (reads + writes) | $(fmt "$mo") | $(fmt "$mn") | $(rel "$mn" "$mo") |")
	repl_md+=("| $w2 | collapses/s | $(fmt "$co" %.1f) | $(fmt "$cn" %.1f) | |")
	repl_md+=("| $w3 | execs/s | $(fmt "$eo" %.1f) | $(fmt "$en" %.1f) | $(rel "$en" "$eo") |")
	repl_md+=("| $w3 | faults and reads served node-locally | - | $(fmt "$eln" %.3f) | |")
	repl_md+=("")
	repl_md+=("$(ratio_head)")
	repl_md+=("$(ratio_row repl.mixed "mixed operations/s, on / off" ">=" 0.95)")
	repl_md+=("$(ratio_row repl.shared "shared read MiB/s, on / off")")
	repl_md+=("$(ratio_row repl.exec "execs/s, on / off")")
	repl_phases kernel > "$MNT/bench-repl/ph-kernel"
	repl_phases on > "$MNT/bench-repl/ph-on"
	{
		echo "# title: a reader on node 1 of a $REPL_MIB MiB file cached on node 0"
		echo "# phase kernel_share on_share on_replica_KiB"
		paste -d' ' "$MNT/bench-repl/ph-kernel" "$MNT/bench-repl/ph-on" | awk '{ print $1, $2, $5, $6 }'
	} > "$PLOT/repl-phases.dat"
	echo "bench: repl phases: $(tr '\n' ' ' < "$PLOT/repl-phases.dat")" >&2
	rm -rf "$MNT/bench-repl"
fi

if [ ${#repl_md[@]} -gt 0 ]; then
	{ echo; printf '%s\n' "${repl_md[@]}"; } | tee -a /tmp/out/bench.md
fi

# ---- adaptive fault-around ------------------------------------------
FA_ROUNDS=${FA_ROUNDS:-3}
FA_MIB=${FA_MIB:-64}
FA_RAND=${FA_RAND:-4000}
FA_DRAND=${FA_DRAND:-12000}
FA_EXEC=${FA_EXEC:-100}
FA_CG=${FA_CG:-32}
FA_SETUPS="k4k k64k k2m off adaptive adaptive_old"
PFA=$BUILD/selftests/pcache_fa
KFA=/sys/kernel/debug/fault_around_bytes
FAD=$SYSFS/faultaround
FAB=$MNT/bench-fa
fa_md=()

# fa_setup SETUP / fa_teardown SETUP: the kernel's window (pcache not
# loaded), pcache loaded with the mode off (the kernel's 64 KiB: off must
# be stock), or pcache adaptive (with map_old for adaptive_old).
fa_setup() {
	case $1 in
	k4k) echo 4096 > $KFA ;;
	k64k) echo 65536 > $KFA ;;
	k2m) echo 2097152 > $KFA ;;
	off)
		# shellcheck disable=SC2086 # PCACHE_BENCH_PARAMS is a list of words
		pcache_load ${PCACHE_BENCH_PARAMS:-} || exit 1 ;;
	adaptive*)
		# shellcheck disable=SC2086 # PCACHE_BENCH_PARAMS is a list of words
		pcache_load ${PCACHE_BENCH_PARAMS:-} || exit 1
		echo adaptive > "$FAD/mode" || exit 1
		[ "$1" = adaptive ] || echo 1 > "$FAD/map_old" || exit 1 ;;
	esac
}
fa_teardown() {
	echo 65536 > $KFA
	case $1 in
	off) pcache_unload ;;
	adaptive*) echo off > "$FAD/mode"; pcache_unload ;;
	esac
}
cgstat() { awk -v k="$1" '$1 == k { print $2 }' "$CG/memory.stat"; }
fa_exec() { LD_LIBRARY_PATH=$FAB/lib "$PFA" exec "$1" "$FAB/bin/ls" "$FAB/lib"; }
# fa_run SETUP: one line of figures,
# "a_flt a_ms b_flt b_rss b_ms c_flt c_rss c_ms d_ms d_scan d_refault d_flt".
fa_run() {
	local a b c d e s0 f0 t0
	fa_setup "$1"
	fa_exec 5 > /dev/null
	a=$(fa_exec "$FA_EXEC")
	cat "$FAB/data" > /dev/null
	b=$("$PFA" rand "$FAB/data" $((FA_MIB * 256)) 7 "$FA_RAND")
	c=$("$PFA" seq "$FAB/data" $((FA_MIB * 256)) 7)
	drop_caches
	s0=$(cgstat pgscan) f0=$(cgstat workingset_refault_file) t0=$(date +%s%N)
	cg_run bash -c "LD_LIBRARY_PATH=$FAB/lib $PFA exec $FA_EXEC $FAB/bin/ls $FAB/lib" > "$FAB/d-exec" &
	d=$(cg_run "$PFA" rand "$FAB/data2" $((FA_MIB * 256)) 8 "$FA_DRAND")
	wait
	e=$(cat "$FAB/d-exec")
	echo "$(kv minflt "$a") $(kv wall_ms "$a") $(kv minflt "$b") $(kv rss_kib "$b") $(kv wall_ms "$b")" \
		"$(kv minflt "$c") $(kv rss_kib "$c") $(kv wall_ms "$c") $((($(date +%s%N) - t0) / 1000000))" \
		"$(($(cgstat pgscan) - s0)) $(($(cgstat workingset_refault_file) - f0))" \
		"$(($(kv minflt "$d") + $(kv minflt "$e")))"
	fa_teardown "$1"
}

if want fa && [ -x "$PFA" ] && [ -w "$KFA" ]; then
	cg_setup "${FA_CG}M" || exit 1
	mkdir -p "$FAB/bin" "$FAB/lib"
	cp /usr/bin/ls "$FAB/bin/ls"
	ldd /usr/bin/ls | awk '$3 ~ /^\// { print $3 }' | xargs -r cp -t "$FAB/lib"
	"$PFA" write "$FAB/data" $((FA_MIB * 256)) 7 > /dev/null
	"$PFA" write "$FAB/data2" $((FA_MIB * 256)) 8 > /dev/null
	declare -A fav=()
	read -ra order <<< "$FA_SETUPS"
	for r in $(seq "$FA_ROUNDS"); do
		for m in "${order[@]}"; do
			line=$(fa_run "$m")
			echo "bench: fa $m: $line" >&2
			i=0
			for v in $line; do fav[$m.$i]+="$v "; i=$((i + 1)); done
		done
		# The next round starts one setup later.
		order=("${order[@]:1}" "${order[0]}")
	done
	# shellcheck disable=SC2086 # a list of numbers
	fmed() { med ${fav[$1.$2]}; }
	wa="(a) exec: $FA_EXEC runs of ls and its libraries from the ext4 disk"
	wb="(b) random: $FA_RAND pages touched at random through a mapping of a cached $FA_MIB MiB file"
	wc="(c) sequential: every page of that mapping in order"
	wd="(d) (a) and $FA_DRAND random touches of another $FA_MIB MiB file at once, from a cold page cache, in a $FA_CG MiB cgroup"
	faw=("$wa" "$wa" "$wb" "$wb" "$wb" "$wc" "$wc" "$wc" "$wd" "$wd" "$wd" "$wd")
	fas=("(a) exec" "(a) exec" "(b) random" "(b) random" "(b) random" "(c) sequential"
	     "(c) sequential" "(c) sequential" "(d) exec beside random" "(d) exec beside random"
	     "(d) exec beside random" "(d) exec beside random")
	fan=("minor faults" "wall time, ms" "minor faults" "RSS of the mapping, KiB" "wall time, ms"
	     "minor faults" "RSS of the mapping, KiB" "wall time, ms"
	     "wall time, ms" "reclaim scans (pgscan)" "file refaults" "minor faults")
	fa_md+=("Fault-around: the kernel's window (pcache not loaded) vs pcache adaptive ($(uname -r); medians of $FA_ROUNDS runs of each setup, rotating order; off: pcache loaded, mode off, the kernel's 64 KiB; ratio = adaptive / the best kernel window)")
	fa_md+=("")
	# Each round's adaptive / the best kernel window of that round.
	for i in 0 2 3 5 8 10; do
		for r in $(seq "$FA_ROUNDS"); do
			# shellcheck disable=SC2086 # lists of numbers
			ratio_add "fa.$i" "$(echo ${fav[adaptive.$i]} | cut -d' ' -f"$r")" \
				"$(printf '%s\n' "$(echo ${fav[k4k.$i]} | cut -d' ' -f"$r")" \
				"$(echo ${fav[k64k.$i]} | cut -d' ' -f"$r")" \
				"$(echo ${fav[k2m.$i]} | cut -d' ' -f"$r")" | sort -g | head -1)"
		done
	done
	fa_md+=("| workload | metric | 4 KiB | 64 KiB (default) | 2 MiB | off (pcache loaded) | adaptive | adaptive, map_old | adaptive / best |")
	fa_md+=("|---|---|---|---|---|---|---|---|---|")
	for i in "${!fan[@]}"; do
		w=${faw[i]}
		k4=$(fmed k4k $i) k64=$(fmed k64k $i) k2=$(fmed k2m $i) of=$(fmed off $i)
		ad=$(fmed adaptive $i) ao=$(fmed adaptive_old $i)
		best=$(printf '%s\n' "$k4" "$k64" "$k2" | sort -g | head -1)
		fa_md+=("| $w | ${fan[i]} | $(fmt "$k4") | $(fmt "$k64") | $(fmt "$k2") | $(fmt "$of") | $(fmt "$ad") | $(fmt "$ao") | $(rel "$ad" "$best") |")
	done
	{
		echo "# title: medians of $FA_ROUNDS runs of each setup"
		echo "# setup, then the medians of: $(printf '%s; ' "${fan[@]}" | tr ' ' '_')"
		for m in $FA_SETUPS; do
			echo "$m $(for i in "${!fan[@]}"; do fmed "$m" "$i"; done | tr '\n' ' ')"
		done
	} > "$PLOT/fa.dat"
	fa_md+=("")
	fa_md+=("$(ratio_head)")
	for i in 0 2 3 5 8 10; do
		fa_md+=("$(ratio_row "fa.$i" "${fas[i]}: ${fan[i]}, adaptive / the round's best kernel window")")
	done
	rm -rf "$FAB"
	cg_teardown
	{ echo; printf '%s\n' "${fa_md[@]}"; } | tee -a /tmp/out/bench.md
fi
fs_umount

# ---- fork-on-write ----------------------------------------------------
FORK_ROUNDS=${FORK_ROUNDS:-3}
FORK_ITERS=${FORK_ITERS:-2000}
FORK_EVERY=${FORK_EVERY:-8 128}
PF=$BUILD/selftests/pcache_fork
FK=$SYSFS/fork
FMNT=$MNT-fork
fork_md=()

# fork_setup: the slow stable-writes device, ext4, mounted at $FMNT.
# lib.sh's loader, with the benchmark kernel's null_blk (modprobe's where
# there is no such tree: bench.sh run on a machine's own kernel).
fork_setup() {
	NB_KO=$BUILD/linux-perf/drivers/block/null_blk/null_blk.ko nb_load 3000000 || return 1
	mkdir -p "$FMNT"
	mkfs.ext4 -q -F -b 4096 /dev/nullb0 > /dev/null 2>&1
}

# fork_mount STABLE: mount it with stable_writes STABLE (the flag is read
# at mount and inode creation), lazytime (so that the mtime update of a
# write costs no journal transaction, in every setup alike).
fork_mount() {
	! mountpoint -q "$FMNT" || umount "$FMNT"
	echo "$1" > /sys/block/nullb0/queue/stable_writes &&
		mount -t ext4 -o lazytime /dev/nullb0 "$FMNT"
}

# fork_run MODE EVERY SETUP: SETUP is off (stock), on (fork) or floor
# (stable writes off); sync_file_range() every EVERY writes.  Prints
# "p50 p99 max writes/s sectors_written".
fork_run() {
	local mode=$1 every=$2 setup=$3 w0 out nf=-
	if [ "$setup" = floor ]; then fork_mount 0; else fork_mount 1; fi || exit 1
	pcache_load || exit 1
	[ "$setup" = on ] && echo 1 > "$FK/enabled"
	rm -f "$FMNT/hot"
	"$PF" hot "$FMNT/hot" 8 8 8 "$mode" > /dev/null 2>&1	# allocate
	w0=$(awk '{ print $7 }' /sys/block/nullb0/stat)
	out=$(PCACHE_FORK_HOT_CDF=$PLOT/fork-cdf-$mode-$every-$setup.dat \
		"$PF" hot "$FMNT/hot" 8 "$FORK_ITERS" "$every" "$mode" 2>&1)
	sync
	w0=$(($(awk '{ print $7 }' /sys/block/nullb0/stat) - w0))
	if [ "$setup" = on ]; then
		nf=$(cat "$FK/stats/forked")
		echo 0 > "$FK/enabled"
	fi
	pcache_unload
	echo "$out" | awk -v w="$w0" -v nf="$nf" '
		{ v[$1] = $2 }
		END { if (v["hot_bad"] != "0") { print "- - - - - -"; exit }
		      printf "%s %s %s %s %s %s\n", v["hot_p50_us"], v["hot_p99_us"],
			     v["hot_max_us"], v["hot_ops_per_s"], w, nf }'
}

if want fork && [ -x "$PF" ] && fork_setup; then
	declare -A fp50=() fp99=() fmax=() fops=() fsec=() fnf=() cur=()
	setups=(off on floor)
	r=0 t0=$SECONDS
	while :; do
		r=$((r + 1))
		for mode in write mmap; do
			for every in $FORK_EVERY; do
				for i in 0 1 2; do
					setup=${setups[$(((i + r - 1) % 3))]}
					read -r a b c d e f < <(fork_run $mode "$every" "$setup")
					k=$mode.$every.$setup
					fp50[$k]+="$a " fp99[$k]+="$b " fmax[$k]+="$c "
					fops[$k]+="$d " fsec[$k]+="$e " fnf[$k]+="$f "
					cur[$k]=$b
					echo "bench: fork $mode every $every $setup: p99 $b us p50 $a us max $c us, $d writes/s, $e sectors, $f forks" >&2
				done
				ratio_add "fork.$mode.$every.gain" "${cur[$mode.$every.off]}" "${cur[$mode.$every.on]}"
				ratio_add "fork.$mode.$every.floor" "${cur[$mode.$every.on]}" "${cur[$mode.$every.floor]}"
			done
		done
		more_rounds $r $t0 fork.write.8.gain ">=" 50 fork.mmap.8.gain ">=" 50 \
			fork.write.8.floor "<=" 2 fork.mmap.8.floor "<=" 2 || break
	done
	FORK_ROUNDS=$r
	fork_md+=("Fork-on-write: a writer rewriting 8 hot pages under writeback ($(uname -r); null_blk, 3 ms per request, stable writes, ext4 with lazytime; $FORK_ITERS writes of 64 bytes, sync_file_range() of the 8 pages every 8 or every 128 writes; medians of $FORK_ROUNDS runs)")
	fork_md+=("")
	fork_md+=("| workload | metric | stock (waits for the I/O) | fork on | stock / fork (latency), fork / stock (writes, sectors) | floor: stable writes off |")
	fork_md+=("|---|---|---|---|---|---|")
	for mode in write mmap; do
		for every in $FORK_EVERY; do
			if [ $mode = write ]; then w="write(2)"; else w="mmap stores"; fi
			w="$w, sync_file_range every $every"
			b=$mode.$every
			# shellcheck disable=SC2086 # lists of numbers
			{
				o50=$(med ${fp50[$b.off]}); n50=$(med ${fp50[$b.on]}); l50=$(med ${fp50[$b.floor]})
				o99=$(med ${fp99[$b.off]}); n99=$(med ${fp99[$b.on]}); l99=$(med ${fp99[$b.floor]})
				omx=$(med ${fmax[$b.off]}); nmx=$(med ${fmax[$b.on]}); lmx=$(med ${fmax[$b.floor]})
				oop=$(med ${fops[$b.off]}); nop=$(med ${fops[$b.on]}); lop=$(med ${fops[$b.floor]})
				osc=$(med ${fsec[$b.off]}); nsc=$(med ${fsec[$b.on]}); lsc=$(med ${fsec[$b.floor]})
				nnf=$(med ${fnf[$b.on]})
			} 2>/dev/null
			fork_md+=("| $w | latency p50, us | $(fmt "$o50" %.1f) | $(fmt "$n50" %.1f) | $(rel "$o50" "$n50") | $(fmt "$l50" %.1f) |")
			fork_md+=("| $w | latency p99, us | $(fmt "$o99" %.1f) | $(fmt "$n99" %.1f) | $(rel "$o99" "$n99") | $(fmt "$l99" %.1f) |")
			fork_md+=("| $w | latency max, us | $(fmt "$omx" %.1f) | $(fmt "$nmx" %.1f) | $(rel "$omx" "$nmx") | $(fmt "$lmx" %.1f) |")
			fork_md+=("| $w | writes/s | $(fmt "$oop") | $(fmt "$nop") | $(rel "$nop" "$oop") | $(fmt "$lop") |")
			fork_md+=("| $w | sectors written to the device | $(fmt "$osc") | $(fmt "$nsc") | $(rel "$nsc" "$osc") | $(fmt "$lsc") |")
			fork_md+=("| $w | pages forked | - | $(fmt "$nnf") | | - |")
		done
	done
	fork_md+=("")
	fork_md+=("$(ratio_head)")
	for mode in write mmap; do
		for every in $FORK_EVERY; do
			if [ $mode = write ]; then w="write(2)"; else w="mmap stores"; fi
			t1=() t2=()
			[ "$every" != 8 ] || t1=(">=" 50) t2=("<=" 2)
			fork_md+=("$(ratio_row "fork.$mode.$every.gain" "$w every $every: p99 stock / fork" "${t1[@]}")")
			fork_md+=("$(ratio_row "fork.$mode.$every.floor" "$w every $every: p99 fork / floor" "${t2[@]}")")
		done
	done
	{
		echo "# title: $FORK_ITERS writes to 8 hot pages under writeback, null_blk 3 ms per request, stable writes; the last of $FORK_ROUNDS runs"
		echo "# mode every setup p50_us p99_us max_us (medians)"
		for k in "${!fp50[@]}"; do
			# shellcheck disable=SC2086 # lists of numbers
			echo "${k//./ } $(med ${fp50[$k]}) $(med ${fp99[$k]}) $(med ${fmax[$k]})"
		done | sort
	} > "$PLOT/fork.dat"
	umount "$FMNT"
	rmmod null_blk
fi
if [ ${#fork_md[@]} -gt 0 ]; then
	{ echo; printf '%s\n' "${fork_md[@]}"; } | tee -a /tmp/out/bench.md
fi
