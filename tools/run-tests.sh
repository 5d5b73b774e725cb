#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# `make test`: the whole pcache test suite.  Builds nothing itself (the
# Makefile has built the kernel, module, initramfs and helpers by now),
# builds the module through DKMS on the host, boots the guest once, runs
# every selftest there and prints the results with a closing line
# "N passed, N failed, N skipped".  Exits non-zero if anything failed,
# including the guest itself (hang, panic, or any kernel splat).
#
#   tools/run-tests.sh [TEST...]		(default: all)
set -uo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
out=$top/build/test
mkdir -p "$out"
rm -f "$out"/{results.tap,host.tap}

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

echo "== host: DKMS build"
if tools/dkms-build.sh; then
	host ok "dkms build of pcache against the patched tree"
else
	host fail "dkms build of pcache against the patched tree (see build/dkms/log)"
fi

echo "== guest: selftests"
start=$(date +%s)
tools/vm.sh --disk 512 --timeout "${PCACHE_GUEST_TIMEOUT:-2400}" --out "$out" \
	-- selftests/run_guest.sh "$@"
vmrc=$?
echo "== guest ran $(( $(date +%s) - start )) s, exit $vmrc"

# Count the leaf results: the subtests of each selftest (indented), or
# the selftest's own line where it printed no subtest (crash, timeout).
if [ -f "$out/results.tap" ]; then
	eval "$(awk '
		/^    (not )?ok / {
			sub_seen = 1
			if ($0 ~ /# SKIP/) s++; else if ($1 == "not") f++; else p++
			next
		}
		/^(not )?ok / {
			if (!sub_seen) {
				if ($0 ~ /# SKIP/) s++; else if ($1 == "not") f++; else p++
			}
			sub_seen = 0
		}
		END { printf "gp=%d gf=%d gs=%d\n", p, f, s }
	' "$out/results.tap")"
	passed=$((passed + gp)) failed=$((failed + gf)) skipped=$((skipped + gs))
	echo
	echo "== results by selftest"
	grep -E '^(not )?ok ' "$out/results.tap"
else
	failed=$((failed + 1))
	echo "not ok - the guest wrote no results"
fi
if [ "$vmrc" = 0 ]; then
	host ok "guest: booted, ran the suite, powered off, no kernel splat"
else
	host fail "guest: exit $vmrc (124 hang, 125 died, 126 splat; see $out/console.log)"
fi

echo
line="$passed passed, $failed failed"
[ "$skipped" -gt 0 ] && line="$line, $skipped skipped"
echo "$line"
[ "$failed" = 0 ]
