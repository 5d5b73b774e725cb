#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# `make mutants`: mutation testing of the selftests.  Each mutant is
# pcache.ko built with -DPCACHE_MUTANT=N, which compiles in one deliberate
# bug that breaks a data integrity rule (see pcache_mutant() in
# module/pcache.h and the table below).  The selftests of that feature run
# against it in a guest, and must fail: the mutant is then "killed".  A
# mutant that passes "SURVIVED": some rule has no test that catches it.
# Two guests run at once.  Prints one line per mutant and a table
# (build/mutants/mutants.md); exits non-zero if a mutant survived.
#
#   tools/mutants.sh [N...]	(default: every mutant)
set -uo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
out=$top/build/mutants
mkdir -p "$out"

# N|name|what it breaks|selftests|kernel (test, or kasan: a use-after-free
# shows every time, and kmemleak scans, only there)
table=(
	"1|repl-write-keeps-replicas|a write does not collapse the page's replicas|pcache_repl pcache_mounts pcache_faultaround|test"
	"2|repl-truncate-keeps-replicas|a truncate leaves the replicas of its pages mapped|pcache_repl pcache_faultaround|test"
	"3|cc-write-keeps-copy|a write to a page not in memory leaves the pool's older copy, and a write to a shared pool's member does not take it out|pcache_tmem_cleancache pcache_tmem_shared|test"
	"4|cc-truncate-odirect-keep-copy|truncate and O_DIRECT writes do not flush the pool|pcache_tmem_cleancache|test"
	"5|fs-load-wrong-slot|a swap-in loads the page of the neighbouring slot|pcache_tmem_frontswap|test"
	"6|fs-rmmod-drops-pages|rmmod drops the stored pages instead of writing them to swap|pcache_tmem_frontswap|test"
	"7|fork-old-folio-mapped|a fork leaves the old folio mapped (its PTEs not zapped)|pcache_fork|test"
	"8|fork-fsync-no-wait|fsync does not wait for the I/O of forked-off folios|pcache_fork|test"
	"9|fork-wb-while-old-in-flight|the copy goes under writeback while the old folio's I/O is in flight|pcache_fork|test"
	"10|core-feature-after-exit|rmmod frees a feature while the hooks still call it (issue 11's Oops)|pcache_unload_all|kasan"
	"11|repl-backoff-uncapped|the write backoff grows past write_backoff_max|pcache_kunit|test"
	"12|fork-pinned-counted-as-refs|a GUP-pinned folio is refused as refs, not pinned|pcache_kunit|test"
	"13|fs-list-ignored|a filesystem allow-list lets every type through|pcache_repl pcache_mounts|test"
	"14|load-wq-name-long|the backend's workqueue name is too long: the kernel truncates it with a dmesg line at load|pcache_load|test"
	"15|zs-comp-buffer-leak|a compressor's per-CPU buffers are lost, not freed (at unload, after a switch): only kmemleak sees it|pcache_load|kasan"
	"16|load-fail-keeps-features|an insmod that fails at a feature's start leaves the features started before it|pcache_load_faults|test"
	"17|fa-forward-scan-far|adaptive fault-around takes a fault just past the last window (a forward scan) for a far one, and shrinks|pcache_kunit pcache_faultaround|test"
	"18|fa-bounds-ignored|adaptive windows are not held within min_bytes..max_bytes|pcache_kunit pcache_faultaround|test"
	"19|fa-map-young|fault-around maps the pages around a fault young whatever map_old and the sampling say|pcache_faultaround|test"
	"20|fa-retry-grows|a fault retried after its I/O counts as a fault inside the last window and grows it|pcache_kunit|test"
	"21|fa-small-vma-adaptive|a VMA no larger than max_bytes is not mapped whole: its window adapts as a large VMA's does|pcache_kunit pcache_faultaround|test"
	"22|fa-scan-doubles|a fault on the page right after the last window doubles it instead of taking max_bytes|pcache_kunit|test"
)

want=("$@")
sel=()
for row in "${table[@]}"; do
	n=${row%%|*}
	if [ ${#want[@]} -eq 0 ] || printf '%s\n' "${want[@]}" | grep -qx "$n"; then
		sel+=("$row")
	fi
done
[ ${#sel[@]} -gt 0 ] || { echo "mutants: no such mutant: $*" >&2; exit 2; }

# Build every selected mutant first (one kernel build tree at a time).
for row in "${sel[@]}"; do
	IFS='|' read -r n name what tests kernel <<< "$row"
	ktree=$top/build/linux
	[ "$kernel" = kasan ] && ktree=$top/build/linux-kasan
	d=$out/$n
	mkdir -p "$d"
	if tools/module-copy.sh "$ktree" "$d" -s KCFLAGS="-DPCACHE_MUTANT=$n" \
		> "$d/build.log" 2>&1; then
		echo "mutants: built mutant $n ($name) for $(basename "$ktree")"
	else
		echo "mutants: mutant $n ($name) does not build; see $d/build.log" >&2
		exit 1
	fi
done

# run ROW: its selftests against it, alone in a guest.
run() {
	local n name what tests kernel ktree
	IFS='|' read -r n name what tests kernel <<< "$1"
	ktree=$top/build/linux
	[ "$kernel" = kasan ] && ktree=$top/build/linux-kasan
	local kasan_env=()
	# On KASAN, the first report panics: the mutant is caught there.
	[ "$kernel" = kasan ] && kasan_env=(PCACHE_UNLOAD_CYCLES=2
		PCACHE_TEST_TIMEOUT=3000
		PCACHE_APPEND="acpi=noirq watchdog_thresh=60 kasan.fault=panic")
	env "${kasan_env[@]}" PCACHE_GUESTS=1 PCACHE_KTREE="$ktree" \
		PCACHE_MODDIR="$out/$n/module" PCACHE_TEST_OUT="$out/$n/test" \
		tools/run-tests.sh $tests > "$out/$n/run.log" 2>&1
	echo $? > "$out/$n/rc"
}

start=$(date +%s)
i=0
while [ $i -lt ${#sel[@]} ]; do
	run "${sel[i]}" &
	a=$!
	b=
	if [ $((i + 1)) -lt ${#sel[@]} ]; then
		run "${sel[i + 1]}" &
		b=$!
	fi
	wait $a ${b:+$b}
	i=$((i + 2))
done

survived=0
{
	echo "| mutant | what it breaks | selftests | kernel | result | how it was caught |"
	echo "|---|---|---|---|---|---|"
} > "$out/mutants.md"
for row in "${sel[@]}"; do
	IFS='|' read -r n name what tests kernel <<< "$row"
	rc=$(cat "$out/$n/rc" 2>/dev/null || echo 0)
	closing=$(grep -E '^[0-9]+ passed, [0-9]+ failed' "$out/$n/run.log" | tail -1)
	if [ "$rc" != 0 ]; then
		result=killed
		# The selftests' own failed checks, else the harness's lines (a
		# timeout, a host check); a data check (a wrong byte) named first.
		fails=$(grep -hE '^ +not ok' "$out/$n/test/results.tap" 2>/dev/null)
		[ -n "$fails" ] || fails=$(grep -hE '^ *not ok' \
			"$out/$n/test/results.tap" "$out/$n/test/host.tap" 2>/dev/null)
		first=$(printf '%s\n' "$fails" |
			grep -E 'stale|byte|right|intact|zeros' | head -1)
		[ -n "$first" ] || first=$(printf '%s\n' "$fails" | head -1)
		how=
		[ -z "$fails" ] || how="$(printf '%s\n' "$fails" | grep -c .) checks failed, e.g. $(
			printf '%s\n' "$first" |
			sed 's/^ *not ok [0-9-]* *//' | cut -c1-100)"
		grep -q 'KASAN' "$out/$n/test"/g*/splats.txt 2>/dev/null &&
			how="KASAN report; $how"
		# A run that failed without a failed check (the guest did not
		# boot, a build failed) proves nothing.
		if [ -z "$how" ]; then
			result=ERROR
			how="(no check failed; see build/mutants/$n/run.log)"
			survived=$((survived + 1))
		fi
	else
		result=SURVIVED
		how="($closing)"
		survived=$((survived + 1))
	fi
	printf 'mutant %-2s %-32s %s  %s\n' "$n" "$name" "$result" "$closing"
	echo "| $n $name | $what | $tests | $kernel | $result | ${how//|//} |" >> "$out/mutants.md"
done
echo
cat "$out/mutants.md"
echo
echo "mutants: ${#sel[@]} run in $(( $(date +%s) - start )) s, $survived survived or failed to run"
[ "$survived" = 0 ]
