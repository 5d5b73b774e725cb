#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Every knob refuses bad input with -EINVAL and keeps its value.
. "$(dirname "$0")/lib.sh"

pcache_unload
pcache_load || t_skip_all "cannot load pcache"

long=$(printf '1%.0s' $(seq 5000))
bad_inputs=("abc" "2" "-1" "" " " "1 1" "0x1" "1abc" "y" "on" "true"
	    "99999999999999999999999" "$long")
bad_names=("text" "out of range" "negative" "empty" "blank" "two values"
	   "hex" "trailing text" "y" "on" "true" "overflow" "overlong")

# write_knob FILE VALUE: write like `echo VALUE > FILE`; prints the error.
write_knob() { (echo "$2" > "$1") 2>&1; }

# Knobs that take 0/1.  Each feature adds its own here.
for knob in hooks_enabled; do
	f=$SYSFS/$knob
	for start in 1 0; do
		echo "$start" > "$f"
		for i in "${!bad_inputs[@]}"; do
			err=$(write_knob "$f" "${bad_inputs[i]}")
			if [[ "$err" == *"Invalid argument"* ]] &&
			   [ "$(cat "$f")" = "$start" ]; then
				t_ok "$knob=$start: ${bad_names[i]} refused with EINVAL, value kept"
			else
				t_fail "$knob=$start: ${bad_names[i]}: got '${err:-success}', value $(cat "$f")"
			fi
		done
		# A truly empty write (no newline) must not change anything.
		printf '' > "$f" 2>/dev/null
		t_check "$knob=$start: zero-length write keeps the value" \
			test "$(cat "$f")" = "$start"
	done
	for v in 0 1; do
		err=$(write_knob "$f" "$v")
		t_check "$knob accepts $v" test -z "$err" -a "$(cat "$f")" = "$v"
	done
done

ro_err=$( (echo 1 > "$SYSFS/version") 2>&1)
t_check "version is read-only" test -n "$ro_err"
pcache_unload
t_done
