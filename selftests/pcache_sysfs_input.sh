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

# Knobs that take 0/1.  Each feature adds its own here.
for knob in hooks_enabled; do
	f=$SYSFS/$knob
	for start in 1 0; do
		echo "$start" > "$f"
		for i in "${!bad_inputs[@]}"; do
			t_refused "$knob=$start: ${bad_names[i]}" "$f" "${bad_inputs[i]}"
		done
		# Real writes of whitespace only, no newline added.
		refuse_blank "$f" "$knob=$start"
	done
	for v in 0 1; do
		err=$(write_knob "$f" "$v")
		t_check "$knob accepts $v" test -z "$err" -a "$(cat "$f")" = "$v"
	done
done

# List knobs: one rule for all of them.  A write with no item (empty,
# blank, spaces only, a lone newline) is refused with EINVAL and the list
# kept; it never empties the list.  Each from two starting values, so
# "kept" is not the default by luck.
list_knob() {
	local f=$SYSFS/$1 start
	shift
	if [ ! -e "$f" ]; then
		t_fail "${f#"$SYSFS"/} exists"
		return
	fi
	for start in "$@"; do
		echo "$start" > "$f"
		if [ "$(cat "$f")" != "$start" ]; then
			t_fail "${f#"$SYSFS"/}: set to '$start' (reads '$(cat "$f")')"
			continue
		fi
		for i in 3 4; do	# "" and " ", by echo: a lone newline, " \n"
			t_refused "${f#"$SYSFS"/}='$start': ${bad_names[i]} (echo)" \
				"$f" "${bad_inputs[i]}"
		done
		refuse_blank "$f" "${f#"$SYSFS"/}='$start'"
	done
}
list_knob fork/filesystems "ext2" "ext4 ext2"
list_knob replication/filesystems "ext2" "ext4 ext2"
list_knob tmem/ephemeral/filesystems "ext4 ext2" "ext4"
list_knob replication/nodes "1" "0-1"

ro_err=$( (echo 1 > "$SYSFS/version") 2>&1)
t_check "version is read-only" test -n "$ro_err"
pcache_unload
t_done
