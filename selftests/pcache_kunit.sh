#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# The KUnit suites of pcache (module/pcache_kunit.ko): loading the module
# runs them; each case's result, read from /sys/kernel/debug/kunit, is one
# check here.
. "$(dirname "$0")/lib.sh"

ko=$PCACHE_KUNIT_KO
[ -f "$ko" ] || t_skip_all "$ko is not built"
[ -d /sys/kernel/debug/kunit ] || t_skip_all "no KUnit debugfs (CONFIG_KUNIT_DEBUGFS)"

rmmod pcache_kunit 2> /dev/null
t_check "insmod pcache_kunit.ko (runs the suites)" insmod "$ko"
suites=(pcache_tmem pcache_tmem_zs pcache_repl_policy pcache_fork_policy
	pcache_faultaround_policy)
for s in "${suites[@]}"; do
	r=/sys/kernel/debug/kunit/$s/results
	if [ ! -f "$r" ]; then
		t_fail "suite $s ran (no $r)"
		continue
	fi
	# Cases are the indented "ok N name" lines; the suite's own is not.
	grep -E '^ +(not )?ok [0-9]+ ' "$r" > /tmp/kunit-cases
	n=0
	while read -r line; do
		case "$line" in
		"ok "*"# SKIP"*) t_skip "$s: ${line#ok * }"; n=$((n + 1)) ;;
		"ok "*) t_ok "$s: $(echo "$line" | cut -d' ' -f3-)"; n=$((n + 1)) ;;
		"not ok "*) t_fail "$s: $(echo "$line" | cut -d' ' -f4-)"; n=$((n + 1)) ;;
		esac
	done < /tmp/kunit-cases
	[ "$n" -gt 0 ] || t_fail "suite $s reported no case"
	grep -E '^ +# |^ +not ok' "$r" | sed 's/^ */# /' | head -40
done
t_check "rmmod pcache_kunit" rmmod pcache_kunit
t_done
