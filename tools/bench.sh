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

{
	echo "Hook cost: pcache not loaded vs loaded with hooks on and no feature on"
	echo "($(uname -r), single-threaded TCG guest, 4 vCPUs in 2 NUMA nodes;"
	echo "medians of N adjacent pairs; ratio = median of the pair ratios loaded/not loaded, with its interquartile range)"
	echo
	echo "| workload | unit | not loaded | pcache loaded | ratio | ratio IQR | N |"
	echo "|---|---|---|---|---|---|---|"
	printf '%s\n' "${rows[@]}"
} | tee /tmp/out/bench.md
rm -rf "$MNT/bench-read" "$MNT/bench-fault" "$MNT/bench-files"
fs_umount
