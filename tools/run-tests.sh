#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# `make test`: the whole pcache test suite.  Builds nothing itself (the
# Makefile has built the kernel, module, initramfs and helpers by now),
# checks the test kernel's config, builds the module through DKMS on the
# host, then boots two guests at once (one TCG vCPU thread each, so one
# core each), splits the selftests between them so both finish together,
# and prints the results in suite order with a closing line
# "N passed, N failed, N skipped".  Exits non-zero if anything failed.
#
# Every failure counts: a failed check; a selftest that failed, crashed or
# timed out, even after it printed checks; a selftest whose plan (1..N)
# is missing or does not match the checks it printed; a selftest the
# guest never reported (it hung or died first); a guest that hung, died
# or printed a kernel splat.
#
#   tools/run-tests.sh [TEST...]		(default: all, TEST_PROGS)
#
#   PCACHE_GUESTS=N	guests at once (default 2; 1 shows the console live)
#   PCACHE_GUEST_TIMEOUT=S	per guest (default 2400)
#   PCACHE_KTREE=DIR	another kernel tree (make test KASAN=1)
#   PCACHE_MODDIR=DIR	pcache.ko and pcache_kunit.ko from DIR (built for
#			PCACHE_KTREE); the DKMS build is then left out
#   PCACHE_TEST_OUT=DIR	the output folder (default build/test)
#   PCACHE_APPEND=ARGS	more guest kernel command line
#   PCACHE_SOAK_SECONDS=S	pcache_soak's length (make soak; not kept as its duration)
#   PCACHE_SLOW=F	timing-based checks wait F times longer (make test KASAN=1: 8)
#   PCACHE_OBSERVE_KO=F	observe mode's module built for PCACHE_KTREE (make test KASAN=1)
set -uo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
out=${PCACHE_TEST_OUT:-$top/build/test}
mkdir -p "$out"
rm -rf "$out"/{results.tap,host.tap,g[0-9]*}

passed=0 failed=0 skipped=0
host() {	# host RESULT NAME
	local line
	if [ "$1" = ok ]; then
		passed=$((passed + 1)); line="ok - $2"
	else
		failed=$((failed + 1)); line="not ok - $2"
	fi
	echo "$line" | tee -a "$out/host.tap"
}

ktree=${PCACHE_KTREE:-$top/build/linux}
moddir=${PCACHE_MODDIR:-$top/module}
genv=(env PCACHE_KO="$moddir/pcache.ko" PCACHE_KUNIT_KO="$moddir/pcache_kunit.ko"
      PCACHE_KTREE="$ktree"
      ${PCACHE_UNLOAD_CYCLES:+PCACHE_UNLOAD_CYCLES=$PCACHE_UNLOAD_CYCLES}
      ${PCACHE_SLOW:+PCACHE_SLOW=$PCACHE_SLOW}
      ${PCACHE_TEST_TIMEOUT:+PCACHE_TEST_TIMEOUT=$PCACHE_TEST_TIMEOUT}
      ${PCACHE_SOAK_SECONDS:+PCACHE_SOAK_SECONDS=$PCACHE_SOAK_SECONDS}
      ${PCACHE_OBSERVE_KO:+PCACHE_OBSERVE_KO=$PCACHE_OBSERVE_KO})

tests=("$@")
[ ${#tests[@]} -gt 0 ] || mapfile -t tests < <(make -s -C selftests list)
guests=${PCACHE_GUESTS:-2}
[ "$guests" -ge 1 ] 2>/dev/null || guests=1
[ "$guests" -le "${#tests[@]}" ] || guests=${#tests[@]}

# host_check NAME HEADING OK FAIL: run tools/tests/NAME.sh, its output in
# $out/NAME.log (shown on failure).
host_check() {
	echo "== host: $2"
	if "tools/tests/$1.sh" > "$out/$1.log" 2>&1; then
		host ok "$3"
	else
		cat "$out/$1.log"
		host fail "tools/tests/$1.sh: $4 (see above)"
	fi
}
host_check tap-count "the harness counts every kind of failure" \
	"tools/tap-count.awk counts failed, crashed, timed-out and short selftests" \
	"tools/tap-count.awk miscounts"
host_check doc-check "the ABI document and the admin guide cover every sysfs file" \
	"every sysfs file and module parameter is in the ABI document and the admin guide (doc-check)" \
	"sysfs files or parameters undocumented"
host_check plot-check "make bench's plots draw from the README's recorded data" \
	"tools/bench-plot.sh draws the four plots, leaves out one without data, fails on bad data (plot-check)" \
	"the bench plots"

echo "== host: the test kernel has what selftests/config asks for"
missing=$(grep -E '^CONFIG_' selftests/config | grep -vxFf "$ktree/.config")
if [ -z "$missing" ]; then
	host ok "kernel config has every option of selftests/config"
else
	host fail "kernel config lacks: $(echo $missing)"
fi

if [ "$ktree" = "$top/build/linux" ] && [ "$moddir" = "$top/module" ]; then
	echo "== host: DKMS build"
	if tools/dkms-build.sh; then
		host ok "dkms add, build, install and remove of pcache against the patched tree"
	else
		host fail "dkms add, build, install or remove of pcache against the patched tree (see build/dkms/log)"
	fi
else
	genv+=(PCACHE_DKMS_KO=/nonexistent)	# built for build/linux only
fi
# Observe mode's module: built for build/linux unless one is given.
[ -n "${PCACHE_OBSERVE_KO:-}" ] || [ "$ktree" = "$top/build/linux" ] ||
	genv+=(PCACHE_OBSERVE_KO=/nonexistent)

# Split: longest first, each to the guest with the least expected time
# (expect_NAME in selftests/settings; the last run's time where known).
declare -A expect
while IFS='=' read -r key val; do
	expect[${key#expect_}]=$val
done < <(grep -E '^expect_[a-z_]+=[0-9]+$' selftests/settings)
durations=$top/build/test-durations
if [ -f "$durations" ]; then
	while read -r t s; do expect[$t]=$s; done < "$durations"
fi
declare -A guest_of
load=()
for ((g = 0; g < guests; g++)); do load[g]=0; done
while read -r _ t; do
	best=0
	for ((g = 1; g < guests; g++)); do
		[ "${load[g]}" -lt "${load[best]}" ] && best=$g
	done
	guest_of[$t]=$best
	load[best]=$((load[best] + ${expect[$t]:-60}))
done < <(for t in "${tests[@]}"; do echo "${expect[$t]:-60} $t"; done | sort -rn)

echo "== guest: selftests in $guests guest(s)"
start=$(date +%s)
pids=()
for ((g = 0; g < guests; g++)); do
	mine=()
	for t in "${tests[@]}"; do
		[ "${guest_of[$t]}" = "$g" ] && mine+=("$t")
	done
	mkdir -p "$out/g$g"
	echo "guest $g (about ${load[g]} s): ${mine[*]}"
	cmd=(tools/vm.sh --kernel "$ktree/arch/x86/boot/bzImage" --disk 512
	     ${PCACHE_APPEND:+--append "$PCACHE_APPEND"}
	     --timeout "${PCACHE_GUEST_TIMEOUT:-2400}" --out "$out/g$g" --
	     "${genv[@]}" selftests/run_guest.sh "${mine[@]}")
	if [ "$guests" = 1 ]; then
		"${cmd[@]}" 2>&1 | tee "$out/g$g/run.log"
		echo "${PIPESTATUS[0]}" > "$out/g$g/rc"
	else
		( "${cmd[@]}" > "$out/g$g/run.log" 2>&1; echo $? > "$out/g$g/rc" ) &
		pids+=($!)
	fi
done
[ ${#pids[@]} -eq 0 ] || wait "${pids[@]}"
echo "== guests ran $(( $(date +%s) - start )) s"

# Merge the guests' results in suite order, renumbered: each selftest's
# nested output, then its own line (or why there is none).
{
	echo "TAP version 13"
	echo "1..${#tests[@]}"
	n=0
	for t in "${tests[@]}"; do
		n=$((n + 1))
		d=$out/g${guest_of[$t]}
		[ -f "$d/$t.tap" ] && cat "$d/$t.tap"
		if [ -s "$d/$t.result" ]; then
			sed -E "s/^(not )?ok [0-9]+ /\1ok $n /" "$d/$t.result"
		elif [ -f "$d/$t.tap" ]; then
			echo "not ok $n selftests: $t: did not finish (guest ${guest_of[$t]} hung or died; see build/test/g${guest_of[$t]}/console.log)"
		else
			echo "not ok $n selftests: $t: never ran (guest ${guest_of[$t]} hung or died first)"
		fi
	done
} > "$out/results.tap"

# Durations, for the next split (from runs of the usual kernel and module,
# with the soak at its usual length).
if [ -z "${PCACHE_KTREE:-}${PCACHE_MODDIR:-}${PCACHE_SOAK_SECONDS:-}" ]; then
	{
		[ -f "$durations" ] && cat "$durations"
		sed -nE 's/^ok [0-9]+ selftests: ([a-z_]+) \(([0-9]+)s\)$/\1 \2/p' \
			"$out/results.tap"
	} | awk '{ d[$1] = $2 } END { for (t in d) print t, d[t] }' | sort \
		> "$durations.new" && mv "$durations.new" "$durations"
fi

# Count.  Leaf checks are the indented "ok"/"not ok" lines; a selftest
# whose own line is "not ok", or whose plan is missing or short, is one
# more failure on top of its checks; one that printed no check counts as
# its own line.
eval "$(awk -f tools/tap-count.awk "$out/results.tap")"
passed=$((passed + gp)) failed=$((failed + gf)) skipped=$((skipped + gs))

echo
echo "== results by selftest"
cat "$out/results.tap"
echo
echo "== summary"
grep -E '^(not )?ok [0-9]+ selftests: ' "$out/results.tap"
[ -z "$why" ] || echo "${why#$'\n'}"
for ((g = 0; g < guests; g++)); do
	vmrc=$(cat "$out/g$g/rc" 2>/dev/null || echo 125)
	if [ "$vmrc" = 0 ]; then
		host ok "guest $g: booted, ran its selftests, powered off, no kernel splat"
	else
		host fail "guest $g: exit $vmrc (124 hang, 125 died, 126 splat; see $out/g$g/console.log)"
		[ -s "$out/g$g/splats.txt" ] && sed 's/^/    /' "$out/g$g/splats.txt"
	fi
done

echo
line="$passed passed, $failed failed"
[ "$skipped" -gt 0 ] && line="$line, $skipped skipped"
echo "$line"
[ "$failed" = 0 ]
