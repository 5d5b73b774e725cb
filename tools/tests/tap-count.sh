#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# The harness's own check: tools/tap-count.awk counts every kind of
# failure a selftest can have.  Each case is a results.tap and the counts
# it must give; run by tools/run-tests.sh on the host before the guests.
set -uo pipefail
cd "$(dirname "$0")/../.." || exit 2
bad=0
case_() {	# case_ NAME WANT(gp gf gs) TAP
	local name=$1 want=$2 got
	got=$(printf '%s\n' "$3" | awk -f tools/tap-count.awk | sed -n 1p)
	if [ "$got" = "$want" ]; then
		echo "tap-count: ok: $name"
	else
		echo "tap-count: WRONG: $name: got '$got', want '$want'"
		bad=1
	fi
}
case_ "all passed" "gp=2 gf=0 gs=0" "    ok 1 a
    ok 2 b
    1..2
ok 1 selftests: t (3s)"
case_ "a failed check" "gp=1 gf=1 gs=0" "    ok 1 a
    not ok 2 b
    1..2
ok 1 selftests: t (3s)"
case_ "died after its checks (exit 1, no plan)" "gp=2 gf=2 gs=0" "    ok 1 a
    ok 2 b
not ok 1 selftests: t (exit 1, 3s)"
case_ "timed out after its checks" "gp=1 gf=2 gs=0" "    ok 1 a
not ok 1 selftests: t: timed out after 600s"
case_ "short plan" "gp=2 gf=1 gs=0" "    ok 1 a
    ok 2 b
    1..3
ok 1 selftests: t (3s)"
case_ "no plan, exit 0" "gp=1 gf=1 gs=0" "    ok 1 a
ok 1 selftests: t (3s)"
case_ "skipped whole" "gp=0 gf=0 gs=1" "    1..0 # SKIP no disk
ok 1 selftests: t # SKIP (0s)"
case_ "printed nothing, exit 0" "gp=0 gf=1 gs=0" "ok 1 selftests: t (0s)"
case_ "never ran" "gp=0 gf=1 gs=0" "not ok 1 selftests: t: never ran (guest 0 hung or died first)"
case_ "a skipped check" "gp=1 gf=0 gs=1" "    ok 1 a
    ok 2 b # SKIP
    1..2
ok 1 selftests: t (1s)"
exit $bad
