#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Allocation failures where pcache starts things: insmod, each feature
# switched on, the compressor switched.  Each is done once with nothing
# failed, which counts the allocations it makes with pcache's code on the
# stack (T), then with the Nth of them failed, for N in 1..T: every N if
# PCACHE_LOAD_FAULTS_TRIES=0, else that many (default 24) picked at random,
# one in each of as many equal slices of 1..T (the Ns are printed;
# PCACHE_LOAD_FAULTS_NS="N ..." tries those).  pcache_failnth does each
# try through /proc/thread-self/fail-nth, with failslab's and
# fail_page_alloc's stack filter (require-start, require-end) on the
# module's text, so that only pcache's own allocations count
# (Documentation/fault-injection/fault-injection.rst).
#
# Each try must either succeed or fail cleanly: a failed insmod leaves no
# module, no /sys/kernel/mm/pcache and no debugfs directory, and prints a
# line that says why; a failed switch-on leaves the feature off; a failed
# compressor switch leaves the compressor there was.  Leaks are the KASAN
# run's kmemleak check's (run_guest.sh), splats the harness's.
#
# The filter needs the module's text before insmod: a first load tells it,
# and every later load must land at the same place (checked: the kernel
# gives a module loaded again the space the one before freed).
. "$(dirname "$0")/lib.sh"

FI=/sys/kernel/debug
FN=$BUILD/selftests/pcache_failnth
TRIES=${PCACHE_LOAD_FAULTS_TRIES:-24}
[ -x "$FN" ] || t_skip_all "$FN is not built"
[ -w /proc/thread-self/fail-nth ] && [ -d "$FI/failslab" ] && [ -d "$FI/fail_page_alloc" ] ||
	t_skip_all "no fail-nth, failslab or fail_page_alloc"

trap 'fi_reset; pcache_unload' EXIT
pcache_unload
pcache_load || { t_fail "insmod pcache"; t_done; }
read -r TSTART TEND < "$DEBUGFS/text"
pcache_unload || { t_fail "rmmod pcache"; t_done; }
t_diag "pcache's text: $TSTART $TEND"

# fail-nth counts only allocations with pcache's text in the first 64
# frames; probability 0, so nothing else fails.
t_check "fault injection set on pcache's text" fi_filter "$TSTART" "$TEND" 64 -1

# text_same: the module loaded where the filter looks.
text_same() {
	local s e
	read -r s e < "$DEBUGFS/text" && [ "$s $e" = "$TSTART $TEND" ]
}

# fn N ARGS...: pcache_failnth; sets COUNTED, FAILED and ERR.
fn() {
	local out rc
	out=$("$FN" "$@" 2> /tmp/pcache-lf.err)
	rc=$?
	read -r _ COUNTED _ FAILED _ ERR <<< "$out"
	return $rc
}
# pick T: the Ns to try.
pick() {
	local t=$1 i lo hi
	if [ -n "${PCACHE_LOAD_FAULTS_NS:-}" ]; then
		echo "$PCACHE_LOAD_FAULTS_NS"
	elif [ "$TRIES" = 0 ] || [ "$t" -le "$TRIES" ]; then
		[ "$t" -gt 0 ] && seq 1 "$t"
	else
		for ((i = 0; i < TRIES; i++)); do
			lo=$((i * t / TRIES + 1)) hi=$(((i + 1) * t / TRIES))
			echo $((lo + RANDOM % (hi - lo + 1)))
		done
	fi
}

# sweep NAME GOOD BAD ARGS...: pcache_failnth N ARGS... once with nothing
# failed (GOOD RC must hold), then for each N picked: BAD RC if the Nth
# allocation failed, GOOD RC if the try made fewer than N.
declare -A sw
sweep() {
	local name=$1 good=$2 bad=$3 total n rc ns wrong=0 inj=0 refused=0 took=0
	shift 3
	dmesg -c > /dev/null
	fn 1000000 "$@"
	rc=$?
	total=$COUNTED
	if ! [[ "$total" =~ ^[0-9]+$ ]]; then
		t_fail "$name: pcache_failnth: $(cat /tmp/pcache-lf.err)"
		return
	fi
	"$good" "$rc" || { t_diag "$name: with nothing failed: rc $rc, err $ERR"; wrong=$((wrong + 1)); }
	ns=$(pick "$total")
	for n in $ns; do
		dmesg -c > /dev/null
		fn "$n" "$@"
		rc=$?
		if [ "$rc" = 2 ]; then
			t_diag "$name: N $n: $(cat /tmp/pcache-lf.err)"
			wrong=$((wrong + 1))
		elif [ "$FAILED" != 1 ]; then
			"$good" "$rc" || { t_diag "$name: N $n, none failed ($COUNTED made): rc $rc, err $ERR"; wrong=$((wrong + 1)); }
		else
			inj=$((inj + 1))
			if [ "$rc" = 0 ]; then took=$((took + 1)); else refused=$((refused + 1)); fi
			"$bad" "$rc" || { t_diag "$name: N $n failed, rc $rc, err $ERR: not clean"; wrong=$((wrong + 1)); }
		fi
		[ "$wrong" -lt 5 ] || { t_diag "$name: stopped after 5 tries that went wrong"; break; }
	done
	t_diag "$name: $total allocations; tried N =" $ns
	t_check "$name: with $inj of its $total allocations failed in turn, it failed cleanly ($refused) or fell back ($took); with none, it worked" \
		test "$wrong" = 0
	sw[$name]=$total
	sw[$name.refused]=$refused
}

# insmod.
insmod_good() {
	local ok=0
	[ "$1" = 0 ] && pcache_loaded && [ -d "$SYSFS" ] && text_same || ok=1
	pcache_unload || ok=1
	return $ok
}
insmod_bad() {
	local why ok=0
	if [ "$1" = 0 ]; then
		# A fallback (debugfs is optional): loaded all the same,
		# with its sysfs tree; it must go again.
		pcache_loaded && [ -d "$SYSFS" ] &&
			{ [ ! -e "$DEBUGFS/text" ] || text_same; } || ok=1
		pcache_unload || ok=1
		return $ok
	fi
	why=$(dmesg | grep -m1 -E '^(\[ *[0-9.]+\] )?pcache: ')
	! pcache_loaded && [ ! -e "$SYSFS" ] && [ ! -e "$DEBUGFS" ] && [ -n "$why" ] ||
		{ t_diag "after the failed insmod: loaded $(pcache_loaded && echo yes || echo no), sysfs $([ -e "$SYSFS" ] && echo left || echo gone), debugfs $([ -e "$DEBUGFS" ] && echo left || echo gone), line from pcache '$why'; dmesg: $(dmesg | tail -4 | tr '\n' '|')"; return 1; }
}
sweep insmod insmod_good insmod_bad insmod "$PCACHE_KO"
# The preconditions: the filter saw pcache's allocations, and some
# failures took insmod's error paths.
t_check "insmod makes allocations the filter sees (${sw[insmod]:-0})" test "${sw[insmod]:-0}" -gt 10
t_check "  and failed cleanly for some (${sw[insmod.refused]:-0})" test "${sw[insmod.refused]:-0}" -gt 0
t_check "insmod with nothing failed, after the sweep" pcache_load
t_check "  at the same text" text_same

# Each feature switched on.
FEAT=
on_good() {
	[ "$1" = 0 ] && [ "$(cat "$SYSFS/$FEAT/enabled")" = 1 ] &&
		echo 0 > "$SYSFS/$FEAT/enabled"
}
on_bad() {
	local v
	v=$(cat "$SYSFS/$FEAT/enabled")
	if [ "$1" = 0 ]; then
		[ "$v" = 1 ] && echo 0 > "$SYSFS/$FEAT/enabled"
	else
		[ "$v" = 0 ] || { t_diag "$FEAT: refused (rc $1) but reads $v"; return 1; }
	fi
}
for FEAT in replication tmem/ephemeral tmem/persistent fork; do
	sweep "$FEAT on" on_good on_bad write "$SYSFS/$FEAT/enabled" 1
done
# Fault-around's mode adaptive (its history table): refused, it stays off.
FAM=$SYSFS/faultaround/mode
mode_good() { [ "$1" = 0 ] && [ "$(cat $FAM)" = "off fixed [adaptive]" ] && echo off > $FAM; }
mode_bad() {
	if [ "$1" = 0 ]; then
		[ "$(cat $FAM)" = "off fixed [adaptive]" ] && echo off > $FAM
	else
		[ "$(cat $FAM)" = "[off] fixed adaptive" ] ||
			{ t_diag "faultaround: refused (rc $1) but the mode reads $(cat $FAM)"; return 1; }
	fi
}
sweep "faultaround adaptive" mode_good mode_bad write "$FAM" adaptive
# One failure is not enough to refuse it: kvcalloc() falls back from
# kmalloc to vmalloc.  With every allocation of the writer failed (the
# task filter, at 100 %), it is -ENOMEM, the mode stays off, dmesg says why.
fa_nomem() {
	local a err why
	for a in failslab fail_page_alloc; do
		echo Y > "$FI/$a/task-filter" && echo 100 > "$FI/$a/probability" || return 1
	done
	dmesg -c > /dev/null
	err=$(bash -c "echo 1 > /proc/self/make-it-fail; echo adaptive > $FAM" 2>&1)
	for a in failslab fail_page_alloc; do
		echo 0 > "$FI/$a/probability"
		echo N > "$FI/$a/task-filter"
	done
	why=$(dmesg | grep -m1 'faultaround: mode adaptive: no memory')
	t_diag "faultaround adaptive, every allocation failed: '$err'; dmesg '$why'"
	[[ "$err" == *"Cannot allocate memory"* ]] && [ -n "$why" ] &&
		[ "$(cat $FAM)" = "[off] fixed adaptive" ]
}
t_check "faultaround adaptive, every allocation failed: ENOMEM, mode off, dmesg says why" fa_nomem

# The compressor of each tmem front switched, the front on: a refused
# switch keeps the compressor there was.
COMP=
comp_now() { cat "$SYSFS/$FEAT/compressor"; }
comp_good() {
	[ "$1" = 0 ] && [ "$(comp_now)" = zstd ] && echo "$COMP" > "$SYSFS/$FEAT/compressor"
}
comp_bad() {
	if [ "$1" = 0 ]; then
		[ "$(comp_now)" = zstd ] && echo "$COMP" > "$SYSFS/$FEAT/compressor"
	else
		[ "$(comp_now)" = "$COMP" ] ||
			{ t_diag "$FEAT: switch refused (rc $1) but the compressor is $(comp_now)"; return 1; }
	fi
}
for FEAT in tmem/ephemeral tmem/persistent; do
	echo 1 > "$SYSFS/$FEAT/enabled"
	echo lz4 > "$SYSFS/$FEAT/compressor"
	COMP=lz4
	sweep "$FEAT compressor" comp_good comp_bad write "$SYSFS/$FEAT/compressor" zstd
	t_check "  and refused cleanly for some (${sw[$FEAT compressor.refused]:-0})" \
		test "${sw[$FEAT compressor.refused]:-0}" -gt 0
	echo 0 > "$SYSFS/$FEAT/enabled"
done

fi_reset
t_check "every feature on at once after the sweeps" \
	bash -c "for f in replication tmem/ephemeral tmem/persistent fork; do echo 1 > $SYSFS/\$f/enabled || exit; done; echo adaptive > $FAM"
t_check "rmmod with every feature on" pcache_unload
t_done
