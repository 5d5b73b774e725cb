#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# The tmem sysfs interface (/sys/kernel/mm/pcache/tmem/): every knob of
# ephemeral/ (cleancache) and persistent/ (frontswap) has its documented
# default, every counter in stats/ reads a number, every knob refuses bad
# input with -EINVAL and keeps its value, accepts good input, the
# compressor switches at runtime, and hooks_enabled cannot go to 0 while a
# front is enabled (-EBUSY).
. "$(dirname "$0")/lib.sh"

pcache_unload
pcache_load || t_skip_all "cannot load pcache"
if [ ! -d "$TMEM/ephemeral" ] || [ ! -d "$TMEM/persistent" ]; then
	t_fail "$TMEM/ephemeral and $TMEM/persistent exist"
	pcache_unload
	t_done
fi

STATS="puts put_rejects put_reject_compress_poor put_reject_compress_fail
put_reject_alloc_fail put_reject_pool_limit put_reject_large_folio
put_reject_no_pool gets get_hits flushes stored_pages pool_bytes
pool_total_size same_filled_pages raw_pages evicted written_back_pages
pool_limit_hit pools"

# knob_default FRONT KNOB VALUE (the check's name starts with $KD_WHEN)
KD_WHEN=
knob_default() {
	local f=$TMEM/$1/$2 v
	if [ ! -f "$f" ]; then
		t_fail "$KD_WHEN$1/$2 exists"
		return
	fi
	v=$(cat "$f")
	if [ "$v" = "$3" ]; then
		t_ok "$KD_WHEN$1/$2 defaults to '$3'"
	else
		t_fail "$KD_WHEN$1/$2 defaults to '$3' (reads '$v')"
	fi
}

# refuse FRONT KNOB NAME VALUE: VALUE fails with EINVAL, value unchanged.
refuse() { t_refused "$1/$2: $3 ('$4')" "$TMEM/$1/$2" "$4"; }

# accept FRONT KNOB VALUE: VALUE is taken and reads back.
accept() {
	local f=$TMEM/$1/$2 err
	err=$(write_knob "$f" "$3")
	if [ -z "$err" ] && [ "$(cat "$f")" = "$3" ]; then
		t_ok "$1/$2 accepts '$3'"
	else
		t_fail "$1/$2 accepts '$3' (got '${err:-success}', reads '$(cat "$f")')"
	fi
}

# refuse_all FRONT KNOB NAME=VALUE...
refuse_all() {
	local front=$1 knob=$2 nv
	shift 2
	for nv in "$@"; do
		refuse "$front" "$knob" "${nv%%=*}" "${nv#*=}"
	done
	# Real writes of whitespace only (no newline added): EINVAL too.
	refuse_blank "$TMEM/$front/$knob" "$front/$knob"
}

# front_defaults FRONT: one check per knob of FRONT that it reads its
# default, as the ABI document gives it.
front_defaults() {
	local pct=20

	[ "$1" = persistent ] || pct=10
	knob_default "$1" enabled 0
	knob_default "$1" compressor lz4
	knob_default "$1" max_pool_percent $pct
	knob_default "$1" incompressible raw
	knob_default "$1" compress_threshold_percent 75
	if [ "$1" = ephemeral ]; then
		knob_default "$1" filesystems ext4
		knob_default "$1" shared 0
	else
		knob_default "$1" writeback 1
	fi
}

BOOL_BAD=("empty=" "out of range=2" "negative=-1" "text=abc" "101=101"
	  "blank= " "two values=1 1")
PCT_BAD=("empty=" "zero=0" "negative=-1" "text=abc" "over 100=101"
	 "blank= " "overflow=99999999999999999999999" "trailing text=10abc")

for front in ephemeral persistent; do
	front_defaults $front
	if [ $front = ephemeral ]; then
		t_check_fails "ephemeral has no writeback knob" test -e "$TMEM/$front/writeback"
	else
		t_check_fails "persistent has no filesystems knob" test -e "$TMEM/$front/filesystems"
		t_check_fails "persistent has no shared knob" test -e "$TMEM/$front/shared"
	fi

	# Counters: each file is there and reads a number.
	stats=$STATS
	[ $front = persistent ] ||
		stats="$stats shared_pools shared_members shared_left shared_mismatch"
	for s in $stats; do
		f=$TMEM/$front/stats/$s
		if [ ! -f "$f" ]; then
			t_fail "$front/stats/$s exists"
		elif [[ "$(cat "$f")" =~ ^[0-9]+$ ]]; then
			t_ok "$front/stats/$s reads a number ($(cat "$f"))"
		else
			t_fail "$front/stats/$s reads a number (reads '$(cat "$f")')"
		fi
	done
	err=$(write_knob "$TMEM/$front/stats/puts" 5)
	t_check "$front/stats/puts is read-only" test -n "$err"

	# Bad input: EINVAL, value kept.  Each knob from its default and from
	# a second good value, so "kept" is not the default by luck.
	for start in 0 1; do
		echo "$start" > "$TMEM/$front/enabled"
		refuse_all $front enabled "${BOOL_BAD[@]}"
	done
	echo 0 > "$TMEM/$front/enabled"
	if [ $front = persistent ]; then
		for start in 1 0; do
			echo "$start" > "$TMEM/$front/writeback"
			refuse_all $front writeback "${BOOL_BAD[@]}"
		done
		echo 1 > "$TMEM/$front/writeback"
	else
		for start in 1 0; do
			echo "$start" > "$TMEM/$front/shared"
			refuse_all $front shared "${BOOL_BAD[@]}"
		done
	fi
	for knob in max_pool_percent compress_threshold_percent; do
		def=$(cat "$TMEM/$front/$knob")
		for start in "$def" 37; do
			echo "$start" > "$TMEM/$front/$knob"
			refuse_all $front $knob "${PCT_BAD[@]}"
		done
		accept $front $knob 1
		accept $front $knob 100
		accept $front $knob "$def"
	done
	for start in lz4 zstd; do
		echo "$start" > "$TMEM/$front/compressor"
		refuse_all $front compressor "empty=" "unknown compressor=nosuchcomp" \
			"not a compressor (a hash)=sha256" "number=2" "negative=-1"
	done
	for start in raw reject; do
		echo "$start" > "$TMEM/$front/incompressible"
		refuse_all $front incompressible "empty=" "text=abc" "number=2" \
			"negative=-1" "two values=raw reject"
	done
	accept $front incompressible raw
	if [ $front = ephemeral ]; then
		refuse_all $front filesystems "empty=" "unknown filesystem=nosuchfs" \
			"one unknown of two=ext4 nosuchfs" "number=2" "negative=-1"
		accept $front filesystems ext4
	fi

	# The compressor, switched at runtime: lz4 -> lzo -> zstd -> lz4.
	for c in lz4 lzo zstd lz4; do
		accept $front compressor $c
	done

	# enabled takes 0 and 1.
	accept $front enabled 1
	accept $front enabled 0

	# hooks_enabled=0 would cut the front off its hooks: -EBUSY while
	# the front is enabled; it works once the front is off.
	echo 1 > "$TMEM/$front/enabled"
	err=$(write_knob "$SYSFS/hooks_enabled" 0)
	if [[ "$err" == *"Device or resource busy"* ]] &&
	   [ "$(cat "$SYSFS/hooks_enabled")" = 1 ]; then
		t_ok "hooks_enabled=0 refused with EBUSY while $front is enabled"
	else
		t_fail "hooks_enabled=0 while $front is enabled: got '${err:-success}', hooks_enabled $(cat "$SYSFS/hooks_enabled")"
	fi
	t_check "$front stays enabled after the refused hooks_enabled=0" \
		test "$(cat "$TMEM/$front/enabled")" = 1
	echo 0 > "$TMEM/$front/enabled"
	err=$(write_knob "$SYSFS/hooks_enabled" 0)
	t_check "hooks_enabled=0 works once $front is disabled" \
		test -z "$err" -a "$(cat "$SYSFS/hooks_enabled")" = 0
	err=$(write_knob "$SYSFS/hooks_enabled" 1)
	t_check "hooks_enabled=1 again" test -z "$err" -a "$(cat "$SYSFS/hooks_enabled")" = 1
done

# Both fronts on: still EBUSY with one of them left on.
echo 1 > "$TMEM/ephemeral/enabled"
echo 1 > "$TMEM/persistent/enabled"
echo 0 > "$TMEM/ephemeral/enabled"
err=$(write_knob "$SYSFS/hooks_enabled" 0)
t_check "hooks_enabled=0 refused while persistent alone is still enabled" \
	test "$(cat "$SYSFS/hooks_enabled")" = 1 -a -n "$err"
echo 0 > "$TMEM/persistent/enabled"

# The knobs are the module's: a new load starts from the defaults again.
# Every knob is set to a value other than its default first, so the
# checks after the reload cannot pass on values left from before.
# nondefault FRONT KNOB VALUE
nondefault() {
	echo "$3" > "$TMEM/$1/$2"
	t_check "before rmmod: $1/$2 set to non-default '$3'" \
		test "$(cat "$TMEM/$1/$2")" = "$3"
}
for front in ephemeral persistent; do
	nondefault $front compressor zstd
	nondefault $front max_pool_percent 37
	nondefault $front incompressible reject
	nondefault $front compress_threshold_percent 50
done
nondefault ephemeral filesystems "ext4 ext2"
nondefault ephemeral shared 1
nondefault persistent writeback 0
nondefault ephemeral enabled 1
nondefault persistent enabled 1

t_check "rmmod pcache" pcache_unload
t_check "load pcache again" pcache_load
KD_WHEN="after reload: "
for front in ephemeral persistent; do
	front_defaults $front
done
pcache_unload
t_done
