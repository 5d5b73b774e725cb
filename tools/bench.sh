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
# Then the transcendent-memory rows (issue 3), each setup run TMEM_ROUNDS
# times in rotating order, medians reported:
#  - swap: an anonymous working set of SWAP_MIB (2x the cgroup's
#    memory.max SWAP_CG), 3/4 compressible, checked and dirtied page by
#    page SWAP_PASSES times, with no pcache and zswap off, with zswap (lz4,
#    zsmalloc), and with pcache frontswap (tmem/persistent, lz4, zswap off):
#    MiB/s of the passes, pages written to and read from the swap device
#    (pswpout, pswpin), compression ratio (stored_pages * 4096 /
#    pool_total_size, read while the memory is still held);
#  - re-read: a file set of REREAD_MIB (2x REREAD_CG) read REREAD_ROUNDS
#    times in the cgroup after one warm-up round, pcache not loaded vs
#    pcache cleancache (tmem/ephemeral) on: MiB/s and sectors read.
# BENCH_ONLY takes "read fault files swap reread".
set -u
. "$(dirname "$0")/../selftests/lib.sh" > /dev/null
BENCH=$BUILD/bench/pcache_bench
SPREAD=${SPREAD:-2}
MIN_ROUNDS=${MIN_ROUNDS:-16}
MAX_ROUNDS=${MAX_ROUNDS:-30}

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
		printf "| %s | %s | %.0f | %.0f | %.3f | %.3f-%.3f | %d |",
			n, u, y[1], z[1], x[1], x[2], x[3], r }')")
	echo "bench: $name: off ${off[*]} / on ${on[*]}" >&2
}

want() { [ -z "${BENCH_ONLY:-}" ] || [[ " $BENCH_ONLY " == *" $1 "* ]]; }
want read && bench "cached read(2), 64 KiB reads of a 32 MiB file" "MiB/s" "$BENCH" read "$MNT/bench-read" 8
want fault && bench "mmap read faults, 16 MiB file, fault-around 64 KiB" "faults/s" "$BENCH" fault "$MNT/bench-fault" 8
want files && bench "small files: create, write 4 KiB, close, unlink" "files/s" "$BENCH" files "$MNT/bench-files" 1500

: > /tmp/out/bench.md
[ ${#rows[@]} -gt 0 ] && {
	echo "Hook cost: pcache not loaded vs loaded with hooks on and no feature on"
	echo "($(uname -r), single-threaded TCG guest, 4 vCPUs in 2 NUMA nodes;"
	echo "medians of N adjacent pairs; ratio = median of the pair ratios loaded/not loaded, with its interquartile range)"
	echo
	echo "| workload | unit | not loaded | pcache loaded | ratio | ratio IQR | N |"
	echo "|---|---|---|---|---|---|---|"
	printf '%s\n' "${rows[@]}"
} | tee /tmp/out/bench.md
rm -rf "$MNT/bench-read" "$MNT/bench-fault" "$MNT/bench-files"

# ---- transcendent memory --------------------------------------------
TMEM_ROUNDS=${TMEM_ROUNDS:-3}
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
# "MiB/s pswpout pswpin ratio" (ratio "-" without a pool).
swap_run() {
	local mode=$1 statdir="" o0 i0 o1 i1 out rate st ratio
	zswap_set 0 2>/dev/null
	case $mode in
	zswap)
		zswap_set 1 || { echo "- - - -"; return; }
		statdir=/sys/kernel/debug/zswap ;;
	pcache)
		# shellcheck disable=SC2086 # PCACHE_BENCH_PARAMS is a list of words
		pcache_load ${PCACHE_BENCH_PARAMS:-} || exit 1
		tmem_set persistent compressor lz4 && tmem_set persistent enabled 1 ||
			{ pcache_unload; echo "- - - -"; return; }
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
	rate=$(echo "$out" | sed -n 1p)
	st=$(echo "$out" | sed -n 2p)
	ratio=$(echo "$st" | awk '{ if (NF == 2 && $2 > 0) printf "%.3f", $1 * 4096 / $2; else print "-" }')
	echo "${rate:--} $((o1 - o0)) $((i1 - i0)) ${ratio:--}"
}

if want swap; then
	cg_setup "${SWAP_CG}M" || exit 1
	[ -f "$SWAPF" ] || { dd if=/dev/zero of="$SWAPF" bs=1M count=$((SWAP_MIB * 2)) status=none &&
		chmod 600 "$SWAPF" && mkswap -q "$SWAPF" > /dev/null; } || exit 1
	modes=(none zswap pcache)
	declare -A rate=() pout=() pin=() ratio=()
	for r in $(seq "$TMEM_ROUNDS"); do
		for k in 0 1 2; do
			m=${modes[$(((k + r - 1) % 3))]}
			read -r a b c d < <(swap_run "$m")
			a=${a:--} b=${b:--} c=${c:--} d=${d:--}
			echo "bench: swap $m: $a MiB/s, pswpout $b, pswpin $c, ratio $d" >&2
			rate[$m]+="$a " pout[$m]+="$b " pin[$m]+="$c " ratio[$m]+="$d "
		done
	done
	for m in "${modes[@]}"; do
		for v in rate pout pin ratio; do
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
	tmem_md+=("Swap: no pcache and no zswap, zswap, pcache frontswap ($(uname -r); medians of $TMEM_ROUNDS runs of each, setups in rotating order)")
	tmem_md+=("")
	tmem_md+=("| workload | metric | no pcache, no zswap | zswap (lz4, zsmalloc) | pcache frontswap (lz4) | pcache / zswap | pcache / none |")
	tmem_md+=("|---|---|---|---|---|---|---|")
	tmem_md+=("$(row "throughput, MiB/s" rate %.1f)")
	tmem_md+=("$(row "pages written to the swap device (pswpout)" pout %.0f)")
	tmem_md+=("$(row "pages read from the swap device (pswpin)" pin %.0f)")
	tmem_md+=("$(row "compression ratio (stored_pages * 4096 / pool_total_size)" ratio %.2f)")
	tmem_md+=("")
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
	declare -A rrate=() rsect=()
	for r in $(seq "$TMEM_ROUNDS"); do
		if [ $((r % 2)) = 1 ]; then order="off on"; else order="on off"; fi
		for m in $order; do
			read -r a b < <(reread_run "$m")
			a=${a:--} b=${b:--}
			echo "bench: reread $m: $a MiB/s, $b sectors read" >&2
			rrate[$m]+="$a " rsect[$m]+="$b "
		done
	done
	w="re-read: $REREAD_MIB MiB in 4 files, in a $REREAD_CG MiB cgroup, $REREAD_ROUNDS rounds after 1 warm-up"
	# shellcheck disable=SC2086 # lists of numbers
	{
		ro=$(med ${rrate[off]}); rn=$(med ${rrate[on]})
		so=$(med ${rsect[off]}); sn=$(med ${rsect[on]})
	} 2>/dev/null
	[[ "${rrate[on]}" == *-* ]] && rn=- sn=-
	[[ "${rrate[off]}" == *-* ]] && ro=- so=-
	tmem_md+=("Re-read: pcache not loaded vs pcache cleancache ($(uname -r); medians of $TMEM_ROUNDS runs of each, alternating)")
	tmem_md+=("")
	tmem_md+=("| workload | metric | no pcache | pcache cleancache (lz4) | cleancache / none |")
	tmem_md+=("|---|---|---|---|---|")
	tmem_md+=("| $w | throughput, MiB/s | $(fmt "$ro" %.1f) | $(fmt "$rn" %.1f) | $(rel "$rn" "$ro") |")
	tmem_md+=("| $w | sectors read from the disk | $(fmt "$so") | $(fmt "$sn") | $(rel "$sn" "$so") |")
	rm -rf "$MNT/bench-reread"
	cg_teardown
fi

if [ ${#tmem_md[@]} -gt 0 ]; then
	{ echo; printf '%s\n' "${tmem_md[@]}"; } | tee -a /tmp/out/bench.md
fi
fs_umount
