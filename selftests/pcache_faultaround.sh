#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Adaptive fault-around (faultaround/): the window each read fault of a
# file mapping maps around it.  pcache_fa scans a cached file through a
# shared mapping, in order or at random, checks every byte it touches and
# counts its minor faults and the mapping's Rss:
#
#   mode off is stock: the faults and RSS of pcache not loaded (and
#     the faults of 20 execs of ls);
#   mode fixed maps fixed_bytes a fault (faults = pages / window);
#   mode adaptive gives a sequential scan max_bytes from its first
#     fault, maps a mapping no larger than max_bytes whole (the execs
#     take at most fixed 2 MiB's faults), shrinks a random reader's
#     window to min_bytes, MADV_RANDOM and MADV_SEQUENTIAL take
#     min_bytes and max_bytes from the first fault, and no window is
#     outside min_bytes..max_bytes;
#   pages_mapped_around counts what the windows mapped, and the sampled
#     windows say a scan used the pages mapped around and a random reader
#     did not;
#   map_old maps the pages around a fault old: the mapping's Referenced
#     is what was touched, not what was mapped, and every window is
#     sampled;
#   truncate and rewrite under adaptive windows, replication off and on:
#     every byte right, SIGBUS past the new end;
#   bad knob values are refused with EINVAL, min_bytes above max_bytes
#     too; the mode needs hooks_enabled and keeps it on;
#   rmmod while scans fault in adaptive mode.
. "$(dirname "$0")/lib.sh"

FA=$BUILD/selftests/pcache_fa
[ -x "$FA" ] || t_skip_all "$FA is not built"
[ -b "$DISK" ] || t_skip_all "no test disk $DISK"
KFA=/sys/kernel/debug/fault_around_bytes
[ -f "$KFA" ] || t_skip_all "no $KFA (CONFIG_DEBUG_FS)"
[ "$(cat $KFA)" = 65536 ] || t_skip_all "fault_around_bytes is $(cat $KFA), not the default 65536"

P=16384			# the file: 64 MiB
SEED=0x5eed
D=$MNT/fa
F=$D/file
FAD=$SYSFS/faultaround
RUN=/tmp/pcache-fa
rm -rf "$RUN"
mkdir -p "$RUN"

pcache_unload
fs_setup || t_skip_all "cannot make the test filesystem"
mkdir -p "$D"
t_check "write a $((P / 256)) MiB file" "$FA" write "$F" $P $SEED

# scan NAME seq|rand [N] [ADVICE]: pcache_fa on the file, cached first;
# its line in $RUN/NAME, fails on a wrong byte.
scan() {
	local name=$1 kind=$2
	shift 2
	cat "$F" > /dev/null
	if [ "$kind" = rand ]; then
		"$FA" rand "$F" $P $SEED "$@" > "$RUN/$name"
	else
		"$FA" seq "$F" $P $SEED "$@" > "$RUN/$name"
	fi
}
# val NAME KEY: a number of scan NAME's line.
val() { kv "$2" "$(cat "$RUN/$1")"; }
fst() { cat "$FAD/stats/$1"; }
# windows: the windows chosen so far, "PAGES COUNT" per size.
windows() { awk '$1 ~ /^[0-9]+$/ && $2 > 0 { print $1, $2 }' "$DEBUGFS/faultaround/window_pages"; }

NR=2000			# random touches
# execs NAME: the benchmark's exec-heavy load, 20 runs of ls with its
# libraries copied to the test disk (ASLR off in the runs: the same
# layout every time), after two runs that cache them; its line in
# $RUN/NAME.
EX=$D/exec
mkdir -p "$EX/bin" "$EX/lib"
cp /usr/bin/ls "$EX/bin/ls"
ldd /usr/bin/ls | awk '$3 ~ /^\// { print $3 }' | xargs -r cp -t "$EX/lib"
execs() {
	LD_LIBRARY_PATH=$EX/lib "$FA" exec 2 "$EX/bin/ls" "$EX/lib" > /dev/null &&
	LD_LIBRARY_PATH=$EX/lib "$FA" exec 20 "$EX/bin/ls" "$EX/lib" > "$RUN/$1"
}
# Stock: pcache not loaded.
t_check "stock: 20 execs of ls" execs stock-exec
t_check "stock: sequential scan, every byte right" scan stock-seq seq
t_check "stock: random reads, every byte right" scan stock-rand rand $NR
t_check "stock: sequential scan with MADV_RANDOM, every byte right" \
	scan stock-madv seq random
t_diag "stock: seq $(cat $RUN/stock-seq); rand $(cat $RUN/stock-rand); seq with MADV_RANDOM $(cat $RUN/stock-madv); execs $(cat $RUN/stock-exec)"

pcache_load || t_skip_all "cannot load pcache"
if [ ! -d "$FAD" ]; then
	t_fail "$FAD exists"
	pcache_unload
	t_done
fi

# ---------------------------------------------------------------------
# off: no decision, byte for byte as stock.
t_check "mode reads [off] after load" test "$(cat $FAD/mode)" = "[off] fixed adaptive"
f0=$(fst faults)
t_check "off: sequential scan, every byte right" scan off-seq seq
t_check "off: random reads, every byte right" scan off-rand rand $NR
t_check "off: 20 execs of ls" execs off-exec
# A batch of execs varies by up to one fault an exec on its own (stock
# gave 2380, 2399, 2400 and 2420 for 20 in one boot): within two an exec.
near_execs() { local d=$(($1 - $2)); [ "${d#-}" -le 40 ]; }
t_check "off: execs: minor faults as stock, within 2 an exec ($(val off-exec minflt), stock $(val stock-exec minflt))" \
	near_execs "$(val off-exec minflt)" "$(val stock-exec minflt)"
for k in seq rand; do
	t_check "off: $k: minor faults as stock ($(val off-$k minflt) = $(val stock-$k minflt))" \
		test "$(val off-$k minflt)" = "$(val stock-$k minflt)"
	t_check "off: $k: Rss as stock ($(val off-$k rss_kib) = $(val stock-$k rss_kib) KiB)" \
		test "$(val off-$k rss_kib)" = "$(val stock-$k rss_kib)"
done
t_check "off: no decision taken (faults +$(($(fst faults) - f0)))" test "$(fst faults)" = "$f0"

# ---------------------------------------------------------------------
# fixed: every fault maps fixed_bytes.
t_check "mode fixed" write_knob "$FAD/mode" fixed
for w in 4096 16384 262144 2097152; do
	t_check "fixed_bytes $w" write_knob "$FAD/fixed_bytes" $w
	[ $w != 2097152 ] || execs fixed-exec || t_fail "fixed $w: execs failed"
	scan fixed-$w seq || t_fail "fixed $w: a wrong byte"
	pages=$((w / 4096)) got=$(val fixed-$w minflt)
	# The mapping need not be aligned to the window: one more.
	want=$(((P + pages - 1) / pages))
	t_check "fixed $w: faults of a sequential scan = pages / window ($got, want $want or $((want + 1)))" \
		test "$got" -ge "$want" -a "$got" -le $((want + 1))
done
write_knob "$FAD/fixed_bytes" 65536

# ---------------------------------------------------------------------
# adaptive.
t_check "mode adaptive" write_knob "$FAD/mode" adaptive
t_check "mode reads [adaptive]" test "$(cat $FAD/mode)" = "off fixed [adaptive]"
g0=$(fst scan) s0=$(fst shrink) a0=$(fst pages_mapped_around)
u0=$(fst used) n0=$(fst unused)
t_check "adaptive: sequential scan, every byte right" scan ad-seq seq
got=$(val ad-seq minflt) around=$(($(fst pages_mapped_around) - a0))
used=$(($(fst used) - u0)) unused=$(($(fst unused) - n0))
t_diag "adaptive seq: $(cat $RUN/ad-seq); scan +$(($(fst scan) - g0)); mapped around +$around; sampled used +$used unused +$unused; windows: $(windows | tr '\n' ' ')"
# Every page is mapped by its own fault or around another one; the rest
# is the other processes' faults (cat, the helper's binary and libraries).
t_check "adaptive: pages mapped around + faults cover the file ($around + $got >= $P, <= $((2 * P)))" \
	test $((around + got)) -ge $P -a $((around + got)) -le $((2 * P))
# One window in 8 is sampled, every process's: map_old below tells used
# from unused for the scans alone.
t_check "adaptive: windows sampled (used +$used, unused +$unused)" \
	test $((used + unused)) -gt 0
t_check "adaptive: the scan was seen (scan +$(($(fst scan) - g0)))" test "$(fst scan)" -gt "$g0"
# The first fault, on the mapping's first page, and every fault right
# after a window take max_bytes: pages / 512 faults, as the kernel's
# 2 MiB window, one more if the mapping is not 2 MiB aligned.
t_check "adaptive: sequential faults = pages / max ($got <= $((P / 512 + 1)); off: $(val off-seq minflt))" \
	test "$got" -le $((P / 512 + 1))
t_check "adaptive: a window of max_bytes was chosen" \
	grep -Eq '^ *512 [1-9]' "$DEBUGFS/faultaround/window_pages"
u0=$(fst used) n0=$(fst unused)
t_check "adaptive: random reads, every byte right" scan ad-rand rand $NR
t_diag "adaptive rand: $(cat $RUN/ad-rand); shrink +$(($(fst shrink) - s0)); sampled used +$(($(fst used) - u0)) unused +$(($(fst unused) - n0))"
t_check "adaptive: the window shrank (shrink +$(($(fst shrink) - s0)))" test "$(fst shrink)" -gt "$s0"
ar=$(val ad-rand rss_kib) or=$(val off-rand rss_kib)
t_check "adaptive: random reads' Rss a quarter of stock's at most ($ar KiB, stock $or KiB)" \
	test $((ar * 4)) -le "$or"
t_check "adaptive: random reads took more faults than stock ($(val ad-rand minflt) > $(val off-rand minflt))" \
	test "$(val ad-rand minflt)" -gt "$(val off-rand minflt)"

# Execs: each library segment is a VMA no larger than max_bytes, mapped
# whole: the faults of the largest window.
t_check "adaptive: 20 execs of ls" execs ad-exec
t_check "adaptive: execs: minor faults at most fixed 2 MiB's, within 2 an exec ($(val ad-exec minflt) <= $(val fixed-exec minflt) + 40; stock $(val stock-exec minflt))" \
	test "$(val ad-exec minflt)" -le $(($(val fixed-exec minflt) + 40))

# A mapping no larger than max_bytes is mapped whole by its first fault
# (its pages were cached by the scans above): 200 random touches take
# one fault, two if it spans a 2 MiB boundary (a random reader of a large
# mapping takes one a touch, above).
w0=$(fst whole_vma)
small() { "$FA" rand "$F" 256 $SEED 200 > "$RUN/ad-small"; }
t_check "adaptive: random reads of a 1 MiB mapping, every byte right" small
got=$(val ad-small minflt)
t_check "adaptive: a 1 MiB mapping is mapped whole at its first fault ($got faults <= 2, whole_vma +$(($(fst whole_vma) - w0)))" \
	test "$got" -le 2 -a "$(fst whole_vma)" -gt "$w0"

# The hints, from the first fault on.
m0=$(fst madvise_random) q0=$(fst madvise_sequential)
t_check "adaptive: MADV_RANDOM scan, every byte right" scan ad-madv-r seq random
t_check "adaptive: MADV_RANDOM: one fault a page ($(val ad-madv-r minflt) = $P; stock: $(val stock-madv minflt))" \
	test "$(val ad-madv-r minflt)" = $P
t_check "adaptive: madvise_random counted ($(($(fst madvise_random) - m0)))" \
	test $(($(fst madvise_random) - m0)) = $P
t_check "adaptive: MADV_SEQUENTIAL scan, every byte right" scan ad-madv-s seq sequential
got=$(val ad-madv-s minflt)
t_check "adaptive: MADV_SEQUENTIAL: max_bytes from the first fault ($got <= $((P / 512 + 1)))" \
	test "$got" -le $((P / 512 + 1))
t_check "adaptive: madvise_sequential counted" test "$(fst madvise_sequential)" -gt "$q0"

# Bounds: every window between min_bytes and max_bytes.
t_check "max_bytes 131072" write_knob "$FAD/max_bytes" 131072
t_check "min_bytes 16384" write_knob "$FAD/min_bytes" 16384
windows > "$RUN/w0"
scan b-seq seq || t_fail "bounds: sequential scan: a wrong byte"
scan b-rand rand $NR || t_fail "bounds: random reads: a wrong byte"
scan b-madv seq random || t_fail "bounds: MADV_RANDOM scan: a wrong byte"
windows > "$RUN/w1"
# The sizes chosen since w0.
used=$(awk 'NR == FNR { c[$1] = $2; next } $2 > c[$1] { print $1 }' "$RUN/w0" "$RUN/w1" | tr '\n' ' ')
t_diag "bounds 16 KiB..128 KiB: windows chosen (pages): $used; seq $(cat $RUN/b-seq); rand $(cat $RUN/b-rand)"
t_check "bounds: windows of 4 and 32 pages chosen ($used)" \
	test -n "$(echo " $used" | grep ' 4 ')" -a -n "$(echo " $used" | grep ' 32 ')"
t_check "bounds: no window outside 4..32 pages ($used)" \
	test -z "$(for w in $used; do [ "$w" -ge 4 ] && [ "$w" -le 32 ] || echo "$w"; done)"
t_check "bounds: MADV_RANDOM takes min_bytes ($(val b-madv minflt) faults, want $((P / 4)) or $((P / 4 + 1)))" \
	test "$(val b-madv minflt)" -ge $((P / 4)) -a "$(val b-madv minflt)" -le $((P / 4 + 1))

# ---------------------------------------------------------------------
# Bad input: EINVAL, the value kept.
for v in 0 4095 6144 4194304 -1 abc "" "4096 4096" 0x1000; do
	for k in fixed_bytes min_bytes max_bytes; do
		t_refused "$k '$v'" "$FAD/$k" "$v"
	done
done
for v in foo "" "fixed adaptive" 1 "[adaptive]"; do
	t_refused "mode '$v'" "$FAD/mode" "$v"
done
t_refused "min_bytes above max_bytes" "$FAD/min_bytes" 262144
t_refused "max_bytes below min_bytes" "$FAD/max_bytes" 8192
t_check "min_bytes = max_bytes is taken" write_knob "$FAD/min_bytes" 131072
write_knob "$FAD/min_bytes" 4096
write_knob "$FAD/max_bytes" 2097152
err=$(write_knob "$SYSFS/hooks_enabled" 0)
t_check "hooks_enabled=0 refused while the mode is adaptive ('${err:-success}')" \
	test -n "$err" -a "$(cat "$SYSFS/hooks_enabled")" = 1
t_check "mode off" write_knob "$FAD/mode" off
t_check "hooks_enabled=0 with the mode off" write_knob "$SYSFS/hooks_enabled" 0
err=$(write_knob "$FAD/mode" adaptive)
t_check "mode adaptive refused with EBUSY while hooks_enabled is 0 ('${err:-success}')" \
	test -n "$(echo "$err" | grep 'busy')" -a "$(cat $FAD/mode)" = "[off] fixed adaptive"
write_knob "$SYSFS/hooks_enabled" 1

# ---------------------------------------------------------------------
# map_old.  The file is cached by readahead (pcache_fa cache), which does
# not mark its pages accessed as cat's read(2) does, so that the
# mapping's Referenced is its young PTEs.  fixed 64 KiB, random reads:
# each fault maps 16 pages, one of them touched.  The bounds are the
# defaults again.
# scan_ra NAME: random reads after caching by readahead.
scan_ra() {
	"$FA" cache "$F" $P $SEED && "$FA" rand "$F" $P $SEED 500 > "$RUN/$1"
}
t_check "map_old reads 0" test "$(cat $FAD/map_old)" = 0
t_check "mode fixed, 64 KiB" write_knob "$FAD/mode" fixed
t_check "map_old 0: random reads, every byte right" scan_ra mo0
t_check "map_old 1" write_knob "$FAD/map_old" 1
t_check "map_old 1: random reads, every byte right" scan_ra mo1
t_diag "map_old 0: $(cat $RUN/mo0); map_old 1: $(cat $RUN/mo1)"
r0=$(val mo0 ref_kib) s0=$(val mo0 rss_kib) r1=$(val mo1 ref_kib) s1=$(val mo1 rss_kib)
t_check "map_old 0: every page mapped is young, as x86 maps them (Referenced $r0 = Rss $s0 KiB)" \
	test -n "$r0" -a "$r0" = "$s0"
young=0	# 500 touches, about 2000 KiB: Referenced is them, not all Rss
[ -n "$r1" ] && [ -n "$s1" ] && [ $((r1 * 4)) -le "$s1" ] && [ "$r1" -ge 1000 ] && young=1
t_check "map_old 1: only the touched pages are young (Referenced $r1 KiB <= Rss $s1 / 4, >= 1000)" \
	test $young = 1
t_check "mode adaptive, map_old 1" write_knob "$FAD/mode" adaptive
u0=$(fst used) n0=$(fst unused)
scan mo-rand rand $NR || t_fail "map_old 1, adaptive: random reads: a wrong byte"
ur=$(($(fst used) - u0)) nr=$(($(fst unused) - n0))
# Windows of 64 KiB at most: 1024 faults, so that the scan's samples
# outnumber the other processes' (their libraries' windows, mostly unused).
write_knob "$FAD/max_bytes" 65536
u0=$(fst used) n0=$(fst unused)
scan mo-seq seq || t_fail "map_old 1, adaptive: sequential scan: a wrong byte"
us=$(($(fst used) - u0)) ns=$(($(fst unused) - n0))
write_knob "$FAD/max_bytes" 2097152
t_diag "map_old 1, adaptive: rand $(cat $RUN/mo-rand), sampled used +$ur unused +$nr; seq $(cat $RUN/mo-seq), used +$us unused +$ns"
t_check "map_old 1: every window sampled: random reads left the pages around unused (unused +$nr > used +$ur)" \
	test "$nr" -gt "$ur"
t_check "map_old 1: a sequential scan used them (used +$us > unused +$ns)" \
	test "$us" -gt "$ns"
write_knob "$FAD/map_old" 0
for v in 2 -1 yes "" "1 1"; do
	t_refused "map_old '$v'" "$FAD/map_old" "$v"
done

# ---------------------------------------------------------------------
# Truncate and rewrite under adaptive windows, replication off and on:
# every byte right through one mapping, the half page past the new end
# zero, the page after it SIGBUS, as stock (pcache_fa trunc).
T=$D/trunc
TP=1024
REP=$SYSFS/replication
N0=$(cat /sys/devices/system/node/node0/cpulist 2>/dev/null)
N1=$(cat /sys/devices/system/node/node1/cpulist 2>/dev/null)
rst() { cat "$REP/stats/$1"; }
# trunc NAME SEED [CPUS]: 4 rounds of pcache_fa trunc, its line in $RUN/NAME.
trunc_run() {
	taskset -c "${3:-$N0}" "$FA" trunc "$T" $TP "$2" 4 > "$RUN/$1"
}
t_check "mode adaptive for the truncate checks" write_knob "$FAD/mode" adaptive
t_check "write a $((TP / 256)) MiB file" taskset -c "$N0" "$FA" write "$T" $TP 0x70
f0=$(fst faults) pm0=$(fst pages_mapped_around)
t_check "replication off: truncate and rewrite 4 times, every byte right, SIGBUS past the end" \
	trunc_run tr-off 0x70
t_diag "replication off: $(cat $RUN/tr-off); fault-around +$(($(fst faults) - f0)) decisions, +$(($(fst pages_mapped_around) - pm0)) pages mapped around"
t_check "  fault-around mapped pages around its faults" test "$(fst pages_mapped_around)" -gt "$pm0"
if [ -d "$REP" ] && [ -n "$N1" ]; then
	t_check "replication on at once (min_remote_reads 1, write_quiet_ms 0)" \
		eval 'echo 1 > "$REP/min_remote_reads" && echo 0 > "$REP/write_quiet_ms" &&
		echo 1 > "$REP/enabled"'
	t_check "write the file again on node 0" taskset -c "$N0" "$FA" write "$T" $TP 0x80
	drop_caches
	taskset -c "$N0" cat "$T" > /dev/null
	r0=$(rst replicated) c0=$(rst collapsed) pm0=$(fst pages_mapped_around)
	ct0=$(rst collapse_truncate)
	t_check "replication on, the mapping on node 1: truncate and rewrite 4 times, every byte right, SIGBUS past the end" \
		trunc_run tr-on 0x80 "$N1"
	t_diag "replication on: $(cat $RUN/tr-on); replicated +$(($(rst replicated) - r0)) collapsed +$(($(rst collapsed) - c0)); +$(($(fst pages_mapped_around) - pm0)) pages mapped around; $(stats_line "$REP")"
	t_check "  replicas were made and collapsed under the mapping (replicated +$(($(rst replicated) - r0)), collapsed +$(($(rst collapsed) - c0)))" \
		test "$(rst replicated)" -gt "$r0" -a "$(rst collapsed)" -gt "$c0"
	t_check "  fault-around mapped pages around its faults" test "$(fst pages_mapped_around)" -gt "$pm0"
	t_check "  the truncations collapsed the replicas past the end (collapse_truncate +$(($(rst collapse_truncate) - ct0)))" \
		test "$(rst collapse_truncate)" -gt "$ct0"
	t_check "replication off" write_knob "$REP/enabled" 0
	echo 2 > "$REP/min_remote_reads"
	echo 1000 > "$REP/write_quiet_ms"
else
	t_fail "replication and a node 1 for the truncate checks"
fi
rm -f "$T"

# ---------------------------------------------------------------------
# Mode switches and rmmod while scans fault: every byte still right.
t_check "mode adaptive again" write_knob "$FAD/mode" adaptive
for i in 1 2; do
	( while [ ! -e $RUN/stop ]; do
		"$FA" seq "$F" $P $SEED > /dev/null 2>> $RUN/bgerr || echo wrong >> $RUN/bg$i
		"$FA" rand "$F" $P $SEED 500 > /dev/null 2>> $RUN/bgerr || echo wrong >> $RUN/bg$i
		echo scanned >> $RUN/bg$i
	  done ) &
done
for m in fixed off adaptive fixed adaptive; do
	sleep 1
	write_knob "$FAD/mode" $m > /dev/null || t_fail "mode $m while scans fault"
done
t_check "rmmod while scans fault, the mode adaptive" pcache_unload
sleep 1
t_check "insmod again" pcache_load
t_check "mode adaptive after the reload" write_knob "$FAD/mode" adaptive
sleep 2
touch $RUN/stop
wait
n=$(cat $RUN/bg* | grep -c scanned)
t_check "scans across mode switches, rmmod and insmod: every byte right ($n scans)" \
	test -z "$(grep wrong $RUN/bg*)" -a "$n" -gt 2
[ -s $RUN/bgerr ] && head -5 $RUN/bgerr | sed 's/^/# /'
t_check "rmmod with the mode adaptive" pcache_unload
t_done
