#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Run the pcache selftests inside the guest (tools/vm.sh runs this).
# Each test prints TAP; this nests it under one top-level line per test,
# on the console and in /tmp/out/results.tap.
#
#   selftests/run_guest.sh [TEST...]	(default: all, in order)
cd "$(dirname "$0")/.." || exit 2
export TOP=$PWD

tests=("$@")
[ ${#tests[@]} -gt 0 ] || tests=(
	pcache_load
	pcache_sysfs_input
	pcache_hook_sites
	pcache_bpftrace
	pcache_dkms
	pcache_load_cycles
	pcache_kunit
	pcache_tmem_sysfs
	pcache_tmem_cleancache
	pcache_tmem_shared
	pcache_tmem_frontswap
	pcache_repl
	pcache_fork
)
results=/tmp/out/results.tap
: > "$results"
say() { echo "$*"; echo "$*" >> "$results"; }

say "TAP version 13"
say "1..${#tests[@]}"
n=0
for t in "${tests[@]}"; do
	n=$((n + 1))
	start=$(date +%s)
	timeout -k 10 "${PCACHE_TEST_TIMEOUT:-600}" "selftests/$t.sh" > /tmp/test.out 2>&1
	rc=$?
	sed 's/^/    /' /tmp/test.out | tee -a "$results"
	took="$(( $(date +%s) - start ))s"
	case $rc in
	0) say "ok $n selftests: $t ($took)" ;;
	4) say "ok $n selftests: $t # SKIP ($took)" ;;
	124) say "not ok $n selftests: $t: timed out" ;;
	*) say "not ok $n selftests: $t (exit $rc, $took)" ;;
	esac
done
