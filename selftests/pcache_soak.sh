#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Soak (issue 13): every feature on at once (fault-around in mode
# adaptive), under load, while the features are switched off and on,
# hooks_enabled is flipped, the compressor changes and the module is
# removed and loaded again.
#
# Where: an ext4 on the virtio disk and an ext4 on a stable-writes
# null_blk (fork-on-write's ground), both nodes, a memory cgroup smaller
# than the working set, a swap file.
#
# Load, every byte checked: pcache_fsx (random read, write, mmap read and
# write, MAP_PRIVATE writes, truncate, hole punch, zero range, fallocate,
# fsync, O_DIRECT, ops done by forked children and through mremap-moved
# mappings, each file against a model after every operation) on both
# filesystems, checked again after drop_caches in every round; stress-ng
# --verify (vm, mmap on a file, hdd); fio with verify=crc32c (buffered,
# mmap, O_DIRECT); pcache_workload's mix and anonymous memory in the
# cgroup (swap); a replicated file read from node 1; pcache_fork's hot
# rewrites on the null_blk.
#
# At the end: the fsx files checked after drop_caches, then again after
# rmmod, umount and mount.  Preconditions asserted: every feature did work
# over the soak, each kind of chaos happened.  Figures: operations by kind,
# bytes verified, toggles, flips, switches and reloads survived.
#
#   PCACHE_SOAK_SECONDS	how long the load runs at least (default 150;
#			make soak MINUTES=N sets N * 60)
#   PCACHE_SOAK_MAX_SECONDS	how long it may run on until every
#			precondition holds (default PCACHE_SOAK_SECONDS
#			+ 450 * PCACHE_SLOW: on the KASAN kernel, where a
#			reload takes minutes, 450 s were not enough)
#   PCACHE_SOAK_RELOAD	seconds between two rmmod/insmod (default 60)
#   PCACHE_SOAK_FAULTS=1	inject allocation failures into pcache, at
#			PCACHE_SOAK_FAULT_PERCENT (default 20) percent
#			(pcache_soak_faults)
#
# With PCACHE_SOAK_FAULTS=1, failslab and fail_page_alloc fail that share
# of every allocation made with pcache's code on the stack (the stack
# filter: require-start and require-end are the module's text, from
# debugfs pcache/text, set again after every load), GFP_KERNEL ones too,
# while the loads run.  Every feature must then fall back to the stock
# path and count it (replica_alloc_fail, put_reject_alloc_fail,
# pool_alloc_fail, refused_nomem), and every byte must still be right; a
# knob write or a switch-on may fail with -ENOMEM.  The injection stops
# before each rmmod (the unload must be able to write the swap pages
# back).
. "$(dirname "$0")/lib.sh"

SECS=${PCACHE_SOAK_SECONDS:-150}
MAX_SECS=${PCACHE_SOAK_MAX_SECONDS:-$((SECS + 450 * ${PCACHE_SLOW:-1}))}
FAULTS=${PCACHE_SOAK_FAULTS:-0}
FAULT_PERCENT=${PCACHE_SOAK_FAULT_PERCENT:-20}
FI=/sys/kernel/debug
FAULT_TIMES=2000000000		# the failures each fault_attr may inject
# The frames of an allocation's stack the filter looks at for pcache's
# code.  Over a whole pcache_soak_faults (25682 failures injected, their
# stacks counted with bpftrace), pcache's first frame was at most 13
# frames from the failure point (zstd's workspaces under
# crypto_alloc_base, xas_store's nodes, zs_malloc's pages, the bio of a
# swap writeback): pcache's own allocations and those of the kernel
# functions it calls.  Deeper, a stack holds work that a pcache
# allocation only set off, such as the memory cgroup reclaim that
# frontswap's writeback (pcache_swap_writeback(), GFP_KERNEL, as zswap's)
# can enter, which prunes the cgroup's dentries; a 9p dentry's release
# sends a clunk some 22 frames above pcache's.  Failing that tests 9p,
# not pcache: 9p forgets a fid whose clunk failed while the server keeps
# it, and reuses the number, which the server then refuses with EINVAL.
# A CI run with a depth of 32 failed so: every load's exec of a binary
# from the guest's 9p root failed now and then with EINVAL, only while
# failures were injected (not seen again in six runs here).
FAULT_DEPTH=20
RELOAD=${PCACHE_SOAK_RELOAD:-60}
FSX=$BUILD/selftests/pcache_fsx
RB=$BUILD/selftests/pcache_repl
PF=$BUILD/selftests/pcache_fork
D=$MNT/soak
NB=/dev/nullb0
NM=/tmp/pcache-soak-nb		# the null_blk's ext4
MODELS=/tmp/pcache-soak-models	# fsx's models, on the guest's tmpfs
RUN=/tmp/pcache-soak		# loads' output, stop and fail marks
FSX_ROUND=20			# seconds of one fsx round
FSX_WORKERS=3

for b in "$WL" "$RB" "$PF" "$FSX"; do
	[ -x "$b" ] || t_skip_all "$b is not built"
done
for c in stress-ng fio; do
	command -v $c > /dev/null || t_skip_all "no $c"
done
[ -b "$DISK" ] || t_skip_all "no test disk $DISK"
[ -n "$(cat /sys/devices/system/node/node1/cpulist 2>/dev/null)" ] ||
	t_skip_all "no NUMA node 1 with CPUs"
need_null_blk
if [ "$FAULTS" = 1 ]; then
	for a in failslab fail_page_alloc; do
		[ -e "$FI/$a/require-start" ] ||
			t_skip_all "no $FI/$a/require-start (CONFIG_FAULT_INJECTION_STACKTRACE_FILTER)"
	done
fi
# 1 GiB, memory backed, 3 ms a request: writeback takes long enough for
# rewrites to find pages under it (fork-on-write's case).
NB_ARGS="nr_devices=1 memory_backed=1 gb=1 bs=4096 irqmode=2 completion_nsec=3000000"

cleanup() {
	faults_off 2>/dev/null
	fi_reset
	[ -z "${jobs_[*]:-}" ] || { touch "$RUN/stop"; wait "${jobs_[@]}"; }
	swap_teardown 2>/dev/null
	umount "$NM" 2>/dev/null
	fs_umount 2>/dev/null
	pcache_unload 2>/dev/null
	rmmod null_blk 2>/dev/null
	cg_teardown
}
trap cleanup EXIT

pcache_unload
fs_setup || t_skip_all "cannot make the test filesystem"
if [ -f "$NB_KO" ]; then
	insmod "$NB_KO" $NB_ARGS
else
	modprobe null_blk $NB_ARGS
fi || t_skip_all "cannot load null_blk"
udevadm settle 2>/dev/null
echo 1 > /sys/block/nullb0/queue/stable_writes
mkdir -p "$NM"
mkfs.ext4 -q -F -b 4096 $NB > /dev/null 2>&1 && mount -t ext4 $NB "$NM" ||
	t_skip_all "cannot make the null_blk filesystem"
cg_setup 48M || t_skip_all "no memory cgroup"
swap_setup 128 || t_skip_all "cannot enable swap"
rm -rf "$D" "$MODELS" "$RUN" "$NM/soak"
mkdir -p "$D"/{mix,sng,fio} "$NM/soak" "$MODELS"/{v,n} "$RUN"
dmesg -c > /dev/null

jobs_=()
# loop NAME CMD...: run CMD until $RUN/stop; CMD's output goes to
# $RUN/NAME.out (the last run's), a failure leaves $RUN/NAME.fail, and
# every run that passed adds a line to $RUN/NAME.rounds.
loop() {
	local name=$1
	shift
	( while [ ! -e "$RUN/stop" ]; do
		if "$@" > "$RUN/$name.out" 2>&1; then
			echo ok >> "$RUN/$name.rounds"
		else
			touch "$RUN/$name.fail"
			break
		fi
	done ) &
	jobs_+=($!)
}

# fsx_round FS DIR SEED: one round of pcache_fsx in the cgroup, then every
# byte checked again after drop_caches.  The summary lines go to
# $RUN/fsx.FS.sum.
fsx_round() {
	local out
	out=$(cg_run "$FSX" run "$2" "$MODELS/$1" $FSX_ROUND $FSX_WORKERS "$3" 512) ||
		{ echo "$out"; return 1; }
	echo "$out" >> "$RUN/fsx.$1.sum"
	echo 3 > /proc/sys/vm/drop_caches
	out=$("$FSX" check "$2" "$MODELS/$1" $FSX_WORKERS) || { echo "$out"; return 1; }
	echo "$out" >> "$RUN/fsx.$1.sum"
}

# stress-ng's stressors that verify what they wrote: vm (anonymous, swaps
# in the cgroup), mmap of a file, hdd (file writes read back).  Exit 3 is
# stress-ng's "aborted early, out of system resources" (on the KASAN
# kernel the vm stressor's mmap() failed 100 times in a row in the full
# cgroup): with no "fail:" line, nothing was found wrong, and nothing was
# verified by that stressor either, so the round counts as starved
# ($RUN/sng.starved), neither right nor wrong.
sng_round() {
	local out rc=0
	out=$(cg_run stress-ng --vm 1 --vm-bytes 16M --mmap 1 --mmap-bytes 8M --mmap-file \
		--hdd 1 --hdd-bytes 8M --verify --temp-path "$D/sng" \
		--timeout 20s --metrics-brief 2>&1) || rc=$?
	printf '%s\n' "$out"
	if [ "$rc" = 3 ] && ! grep -q ' fail: ' <<< "$out"; then
		echo starved >> "$RUN/sng.starved"
		return 0
	fi
	return "$rc"
}

# fio: random writes then a crc32c check of every block, buffered, through
# mmap and with O_DIRECT, the three at once.
fio_round() {
	cg_run fio --directory="$D/fio" --size=8M --bs=4k --rw=randwrite \
		--verify=crc32c --verify_fatal=1 --do_verify=1 \
		--name=buffered --ioengine=psync \
		--name=mmap --ioengine=mmap \
		--name=direct --ioengine=psync --direct=1
}

# The replicated file (masters on node 0), the cleancache set (32 MiB read
# in the 48 MiB cgroup with everything else).
PCACHE_REPL_NODE=0 "$RB" fill "$D/r" 1024 1 &&
	PCACHE_REPL_NODE=0 "$RB" check "$D/r" 1024 1 ||
	t_fail "write the replicated file"
cg_run "$WL" write "$D/big" 32768 5 > /dev/null || t_fail "write the cleancache set"

# faults_on: failslab and fail_page_alloc fail FAULT_PERCENT of the
# allocations with pcache's text on the stack (PCACHE_SOAK_FAULTS=1).
# faults_off: no more, and the failures each injected added to injected[].
declare -A injected=()
faults_on() {
	[ "$FAULTS" = 1 ] || return 0
	local start end a
	read -r start end < "$DEBUGFS/text" &&
		fi_filter "$start" "$end" "$FAULT_DEPTH" "$FAULT_TIMES" || return 1
	for a in failslab fail_page_alloc; do
		echo "$FAULT_PERCENT" > "$FI/$a/probability" || return 1
	done
	FAULTS_ARMED=1
}
faults_off() {
	[ "${FAULTS_ARMED:-0}" = 1 ] || return 0
	local a left
	for a in failslab fail_page_alloc; do
		echo 0 > "$FI/$a/probability"
		read -r left < "$FI/$a/times"
		injected[$a]=$(( ${injected[$a]:-0} + FAULT_TIMES - left ))
	done
	FAULTS_ARMED=0
}

FEATS=(replication tmem/ephemeral tmem/persistent fork faultaround)
knobs() {	# replicas at once; fork-on-write on ext4 (the default)
	echo 1 > "$SYSFS/replication/min_remote_reads" &&
	echo 0 > "$SYSFS/replication/write_quiet_ms" &&
	echo 0 > "$SYSFS/replication/write_backoff_max"
}
all_on() {
	local f n=0
	knobs || return 1
	for f in "${FEATS[@]}"; do
		feat_value "$f" 1 > "$(feat_file "$f")" && n=$((n + 1))
	done
	[ "$n" = ${#FEATS[@]} ]
}
pcache_load || { t_fail "insmod pcache"; t_done; }
t_check "every feature on at the start" all_on
[ "$FAULTS" = 1 ] && t_check "allocation failures injected from now on ($FAULT_PERCENT %)" faults_on

loop fsx_v fsx_round v "$D/fsx" 11
loop fsx_n fsx_round n "$NM/soak/fsx" 12
loop sng sng_round
loop fio fio_round
loop repl "$RB" locality "$D/r" 1024 1 1
loop cc cg_run "$WL" verify "$D/big" 32768 5
loop swap cg_run "$WL" anon 20 7
loop mix cg_run "$WL" mix "$D/mix" 5
loop fork "$PF" hot "$NM/soak/hot" 16 400 4 write
# Reclaim from the cgroup every 2 s (memory.reclaim), so that the fsx
# files' clean pages go to cleancache mid-run and come back from it.
reclaim_round() { cg_evict && sleep 2; }
loop reclaim reclaim_round

# Knob writers: three at once, each writing random valid and invalid
# values to random knobs (every knob but enabled, hooks_enabled and the
# compressor, which the chaos below writes).  KNOBS: path, kind (int:LO:HI,
# word:A,B or list), valid values and invalid ones, ';'-separated.  Every
# valid list keeps ext4, so the features keep working on the test disks.
KNOBS=(
	"replication/min_remote_reads|int:1:1000000|1;2;3|0;-1;abc;1000001;1 2"
	"replication/write_quiet_ms|int:0:3600000|0;5;0|-1;3600001;1.5"
	"replication/max_percent|int:1:100|10;50;100|0;101;x"
	"replication/write_backoff_max|int:0:10|0;6;10|11;-1; "
	"replication/nodes|list|0-1;0,1;1;0|;7;a;0-9"
	"replication/filesystems|list|ext4 ext2;ext4;ext2,ext4|nosuchfs;ext4 nosuchfs;"
	"fork/filesystems|list|ext4 ext2;ext4;ext4,ext2|nosuchfs;tmpfs;"
	"tmem/ephemeral/filesystems|list|ext4;ext4 ext2|nosuchfs;"
	"tmem/ephemeral/max_pool_percent|int:1:100|10;20;50|0;101;ten"
	"tmem/persistent/max_pool_percent|int:1:100|10;20;50|0;101;-3"
	"tmem/ephemeral/compress_threshold_percent|int:1:100|75;90;50|0;101"
	"tmem/persistent/compress_threshold_percent|int:1:100|75;90;50|0;101"
	"tmem/ephemeral/incompressible|word:raw,reject|raw;reject|foo;raw reject"
	"tmem/persistent/incompressible|word:raw,reject|raw;reject|foo;"
	"tmem/ephemeral/shared|word:0,1|0;1|2;yes"
	"tmem/persistent/writeback|word:0,1|1;0;1|2;-1"
	"faultaround/fixed_bytes|int:4096:2097152|4096;65536;2097152|0;4095;6144;4194304;abc"
	"faultaround/min_bytes|int:4096:16384|4096;8192;16384|0;6144;4194304;x"
	"faultaround/max_bytes|int:262144:2097152|262144;1048576;2097152|4095;3000000;-1"
	"faultaround/map_old|word:0,1|0;1;0|2;yes;"
)
# knob_writer W: until $RUN/stop; counts in $RUN/knobs.W.KIND: valid
# (accepted), busy (valid, -EBUSY), nomem (-ENOMEM, valid or not: the
# copy of the text fails first; only with PCACHE_SOAK_FAULTS=1), refused
# (invalid, -EINVAL), gone (the file was missing, or the write failed
# while the module was being reloaded: $RUN/reloading), wrong (anything
# else: a failure, described in $RUN/knobs.W.log).
knob_writer() {
	local w=$1 e path kind good bad v err want vals reloading
	declare -A c=()
	while [ ! -e "$RUN/stop" ]; do
		e=${KNOBS[RANDOM % ${#KNOBS[@]}]}
		IFS='|' read -r path kind good bad <<< "$e"
		if [ $((RANDOM % 2)) = 0 ]; then
			want=ok; IFS=';' read -ra vals <<< "$good"
		else
			want=inval; IFS=';' read -ra vals <<< "$bad"
			[ ${#vals[@]} -gt 0 ] || vals=("")
		fi
		v=${vals[RANDOM % ${#vals[@]}]}
		[ -e "$SYSFS/$path" ] || { c[gone]=$((${c[gone]:-0} + 1)); sleep 0.5; continue; }
		reloading=0
		[ -e "$RUN/reloading" ] && reloading=1
		err=$( (printf '%s\n' "$v" > "$SYSFS/$path") 2>&1 )
		[ -e "$RUN/reloading" ] && reloading=1
		case "$want:$err" in
		ok:) c[valid]=$((${c[valid]:-0} + 1)) ;;
		ok:*busy*) c[busy]=$((${c[busy]:-0} + 1)) ;;
		*"Cannot allocate memory"*)
			if [ "$FAULTS" = 1 ]; then
				c[nomem]=$((${c[nomem]:-0} + 1))
			else
				c[wrong]=$((${c[wrong]:-0} + 1))
				echo "$path <- '$v': $err" >> "$RUN/knobs.$w.log"
			fi ;;
		inval:*"Invalid argument"*) c[refused]=$((${c[refused]:-0} + 1)) ;;
		*"No such"*) c[gone]=$((${c[gone]:-0} + 1)) ;;
		*)	if [ "$reloading" = 1 ] && [ -n "$err" ]; then
				# The module's files come and go around
				# the write (EACCES, ENODEV): not an answer.
				c[gone]=$((${c[gone]:-0} + 1))
			else
				c[wrong]=$((${c[wrong]:-0} + 1))
				echo "$path <- '$v': wanted $want, got '${err:-success}'" >> "$RUN/knobs.$w.log"
			fi ;;
		esac
		sleep 0.$((RANDOM % 5))
	done
	for e in "${!c[@]}"; do echo "${c[$e]}" > "$RUN/knobs.$w.$e"; done
}
# knob_valid ENTRY: the knob reads back a valid value of its kind.
knob_valid() {
	local path kind v lo hi x
	IFS='|' read -r path kind _ <<< "$1"
	v=$(cat "$SYSFS/$path") || return 1
	case $kind in
	int:*)	IFS=: read -r _ lo hi <<< "$kind"
		[[ "$v" =~ ^[0-9]+$ ]] && [ "$v" -ge "$lo" ] && [ "$v" -le "$hi" ] ;;
	word:*)	[[ ",${kind#word:}," == *",$v,"* ]] ;;
	list)	[ -n "$v" ] && for x in $v; do
			[[ "$x" =~ ^(ext4|ext2|[0-9,-]+)$ ]] || return 1
		done ;;
	esac
}
for w in 1 2 3; do
	knob_writer $w &
	jobs_+=($!)
done
LOADS=(fsx_v fsx_n sng fio repl cc swap mix fork reclaim)

# Counters summed over the module's lifetimes (they start at 0 at load).
declare -A total=()
COUNTERS=(replication:replicated tmem/ephemeral:puts tmem/persistent:puts
	  tmem/ephemeral:get_hits tmem/persistent:get_hits fork:forked
	  replication:replica_alloc_fail tmem/ephemeral:put_reject_alloc_fail
	  tmem/ephemeral:pool_alloc_fail tmem/persistent:put_reject_alloc_fail
	  tmem/persistent:pool_alloc_fail fork:refused_nomem faultaround:faults
	  faultaround:grow faultaround:shrink faultaround:scan faultaround:whole_vma
	  faultaround:pages_mapped_around
	  faultaround:used faultaround:unused)
add_counters() {
	local c v
	for c in "${COUNTERS[@]}"; do
		read -r v 2> /dev/null < "$SYSFS/${c%%:*}/stats/${c#*:}" || continue
		total[$c]=$(( ${total[$c]:-0} + v ))
	done
}

# Where the chaos loop's time goes (ms by kind), for the figures.
declare -A took=()
timed() {
	local kind=$1 t0=$EPOCHREALTIME rc
	shift
	"$@"
	rc=$?
	took[$kind]=$(( ${took[$kind]:-0} + (${EPOCHREALTIME/./} - ${t0/./}) / 1000 ))
	return $rc
}
# The chaos, counted.
declare -A ev=()
count() { ev[$1]=$(( ${ev[$1]:-0} + 1 )); }
# try KIND FILE VALUE: write VALUE to FILE; counts KIND.ok, or KIND.busy
# for -EBUSY, or KIND.error (anything else: a failure).
try() {
	local err
	err=$( (echo "$3" > "$2") 2>&1 )
	if [ -z "$err" ]; then
		count "$1.ok"
	elif [[ "$err" == *"busy"* ]]; then
		count "$1.busy"
	elif [ "$FAULTS" = 1 ] && [[ "$err" == *"Cannot allocate memory"* ]]; then
		count "$1.nomem"
	else
		count "$1.error"
		t_diag "writing $3 to $2: $err"
	fi
	[ -z "$err" ]
}
toggle() {
	local f=${FEATS[RANDOM % ${#FEATS[@]}]}
	if feat_on "$f"; then
		try off "$(feat_file "$f")" "$(feat_value "$f" 0)"
	else
		try on "$(feat_file "$f")" "$(feat_value "$f" 1)"
	fi
}
# hooks_flip: every feature off (hooks_enabled=0 is refused while one is
# on), hooks off for a second, on again, the features on again.
hooks_flip() {
	local f
	for f in "${FEATS[@]}"; do try off "$(feat_file "$f")" "$(feat_value "$f" 0)"; done
	if try hooks "$SYSFS/hooks_enabled" 0; then
		sleep 1
		try hooks "$SYSFS/hooks_enabled" 1
	fi
	for f in "${FEATS[@]}"; do try on "$(feat_file "$f")" "$(feat_value "$f" 1)"; done
}
COMPRESSORS=(lz4 lzo zstd)
compressor() {
	local front=${FEATS[1 + RANDOM % 2]} before after
	before=$(cat "$SYSFS/$front/compressor")
	try compressor "$SYSFS/$front/compressor" "${COMPRESSORS[RANDOM % 3]}" && return
	# A refused switch keeps the compressor there was.
	after=$(cat "$SYSFS/$front/compressor")
	if [ "$after" != "$before" ]; then
		count compressor.error
		t_diag "$front: a refused switch changed the compressor from $before to $after"
	fi
}
reload() {
	touch "$RUN/reloading"
	faults_off
	add_counters
	if timed rmmod pcache_unload; then
		count reload.rmmod
	else
		count reload.error
		t_diag "rmmod failed"
		rm -f "$RUN/reloading"
		return
	fi
	sleep 1
	if timed insmod pcache_load && timed reload_on all_on && faults_on; then
		count reload.ok
	else
		count reload.error
		t_diag "insmod or switching every feature on failed"
	fi
	rm -f "$RUN/reloading"
}

# The counters that must have moved over the soak (the checks below).
NEED=(replication:replicated tmem/ephemeral:puts tmem/persistent:puts fork:forked
      faultaround:faults)
[ "$FAULTS" = 1 ] && NEED+=(replication:replica_alloc_fail
	tmem/ephemeral:put_reject_alloc_fail tmem/persistent:put_reject_alloc_fail
	fork:refused_nomem)
# preconds_met: every kind of chaos had its turn (7 steps), a reload was
# done, and every counter of NEED is above 0 (summed over the loads so
# far, plus the live value).  Prints what is still missing.  Called every
# round of the chaos loop, so it reads the counters without a fork: under
# injection every allocation in the guest unwinds its stack for the
# filter, and a fork and exec of cat took seconds there.
preconds_met() {
	local c v missing=
	[ "$step" -ge 7 ] || missing="$missing chaos-steps($step)"
	[ "${ev[reload.ok]:-0}" -gt 0 ] || missing="$missing reload"
	for c in "${NEED[@]}"; do
		read -r v 2> /dev/null < "$SYSFS/${c%%:*}/stats/${c#*:}" || v=0
		[ $(( ${total[$c]:-0} + v )) -gt 0 ] || missing="$missing $c"
	done
	echo "$missing"
	[ -z "$missing" ]
}

# The soak runs SECS seconds, and on a slow kernel (KASAN: a reload takes
# minutes there) on until every precondition above holds, at most
# MAX_SECS; the checks then fail on what is still missing.
t_diag "soak: ${SECS} s (until every precondition holds, at most ${MAX_SECS} s), a reload every ${RELOAD} s"
start=$SECONDS
next_reload=$((start + RELOAD))
step=0
met_at=
loops=0
while { [ $((SECONDS - start)) -lt "$SECS" ] || [ -z "$met_at" ]; } &&
      [ $((SECONDS - start)) -lt "$MAX_SECS" ]; do
	loops=$((loops + 1))
	sleep 0.$((RANDOM % 10))
	[ -z "$met_at" ] && timed preconds preconds_met > /dev/null &&
		met_at=$((SECONDS - start))
	if [ "$SECONDS" -ge "$next_reload" ]; then
		timed reload reload
		next_reload=$((SECONDS + RELOAD))
		continue
	fi
	pcache_loaded || continue
	# Every kind in turn, each with its own random pick.
	case $((step++ % 7)) in
	0|2|4) timed toggle toggle ;;
	1|5) timed compressor compressor ;;
	3) timed hooks_flip hooks_flip ;;
	6) timed all_on all_on > /dev/null 2>&1; count allon ;;
	esac
done
spent=""
for k in $(printf '%s\n' "${!took[@]}" | sort); do spent="$spent $k $((took[$k] / 1000))"; done
t_diag "chaos loop: $loops rounds, $step steps; seconds in:$spent"
if [ -n "$met_at" ]; then
	t_diag "every precondition held after $met_at s"
else
	missing=$(preconds_met) || t_diag "at ${MAX_SECS} s still missing:$missing"
fi
all_on || t_diag "not every feature back on at the end"
touch "$RUN/stop"
faults_off
t_diag "soak over after $((SECONDS - start)) s; waiting for the loads' last rounds"
wait "${jobs_[@]}"
jobs_=()
add_counters

for w in "${LOADS[@]}"; do
	r=$(cat "$RUN/$w.rounds" 2>/dev/null | wc -l)
	st=$(cat "$RUN/$w.starved" 2>/dev/null | wc -l)
	r=$((r - st)) stx=
	[ "$st" = 0 ] || stx=", $st starved"
	if [ -e "$RUN/$w.fail" ]; then
		t_fail "$w: every round right ($r passed before one failed)"
		tail -15 "$RUN/$w.out" | sed 's/^/# /'
	else
		t_check "$w: every round right ($r$stx)" test "$r" -gt 0
	fi
done

# The knobs: what the writers saw, and every knob valid now.
declare -A kn=()
for f in "$RUN"/knobs.*.*; do
	[ -e "$f" ] || continue
	k=${f##*.}
	[ "$k" = log ] && continue
	kn[$k]=$(( ${kn[$k]:-0} + $(cat "$f") ))
done
t_diag "knob writes: valid ${kn[valid]:-0}, busy ${kn[busy]:-0}, nomem ${kn[nomem]:-0}, refused ${kn[refused]:-0}, gone ${kn[gone]:-0}, wrong ${kn[wrong]:-0}"
if [ "${kn[wrong]:-0}" != 0 ]; then
	t_fail "every valid knob write taken, every invalid one refused with EINVAL (${kn[wrong]} not)"
	cat "$RUN"/knobs.*.log | head -10 | sed 's/^/# /'
else
	t_check "every valid knob write taken, every invalid one refused with EINVAL (${kn[valid]:-0} and ${kn[refused]:-0})" \
		test "${kn[valid]:-0}" -gt 0 -a "${kn[refused]:-0}" -gt 0
fi
badk=
for e in "${KNOBS[@]}"; do
	knob_valid "$e" || badk="$badk ${e%%|*}=$(cat "$SYSFS/${e%%|*}")"
done
t_check "every knob reads back a valid value${badk:+:$badk}" test -z "$badk"

# Every fsx file once more: through the caches, then from the disks after
# rmmod, umount and mount.
fsx_check() { "$FSX" check "$2" "$MODELS/$1" $FSX_WORKERS; }
drop_caches
t_check "fsx files right after drop_caches (virtio)" fsx_check v "$D/fsx"
t_check "fsx files right after drop_caches (null_blk)" fsx_check n "$NM/soak/fsx"
t_check "rmmod with every feature on, at the end" pcache_unload
swap_teardown
umount "$NM" && fs_umount && mount -t ext4 $NB "$NM" && fs_mount ||
	t_fail "umount and mount both filesystems"
t_check "fsx files right after umount and mount (virtio)" fsx_check v "$D/fsx"
t_check "fsx files right after umount and mount (null_blk)" fsx_check n "$NM/soak/fsx"

# Figures.
for c in "${COUNTERS[@]}"; do
	t_diag "counter $c over the soak: ${total[$c]:-0}"
done
ops=$(cat "$RUN"/fsx.*.sum 2>/dev/null | awk '
	$1 == "fsx:" { for (i = 2; i <= NF; i++) { split($i, kv, "="); s[kv[1]] += kv[2] } }
	$1 == "fsx-check:" { for (i = 2; i <= NF; i++) { split($i, kv, "="); c[kv[1]] += kv[2] } }
	END {
		printf "ops %.0f:", s["ops"]
		for (k in s) if (k != "ops" && k != "workers" && k != "bytes_verified" && k != "bad")
			printf " %s %.0f", k, s[k]
		printf "; bytes verified %.0f (+%.0f by checks); bad %.0f\n",
			s["bytes_verified"], c["bytes_verified"], s["bad"] + c["bad"]
	}')
t_diag "fsx: $ops"
rounds=""
for w in "${LOADS[@]}"; do
	rounds="$rounds $w $(( $(cat "$RUN/$w.rounds" 2>/dev/null | wc -l) - $(cat "$RUN/$w.starved" 2>/dev/null | wc -l) ))"
done
t_diag "rounds passed:$rounds"
t_diag "fio verified $(( $(cat "$RUN/fio.rounds" 2>/dev/null | wc -l) * 24 )) MiB"
chaos=""
for k in $(printf '%s\n' "${!ev[@]}" | sort); do chaos="$chaos $k ${ev[$k]}"; done
t_diag "chaos:$chaos"
t_diag "cgroup memory.events: $(tr '\n' ' ' < "$CG/memory.events")"

t_check "replication made replicas (${total[replication:replicated]:-0})" \
	test "${total[replication:replicated]:-0}" -gt 0
t_check "cleancache took pages (${total[tmem/ephemeral:puts]:-0} puts)" \
	test "${total[tmem/ephemeral:puts]:-0}" -gt 0
t_check "frontswap took pages (${total[tmem/persistent:puts]:-0} puts)" \
	test "${total[tmem/persistent:puts]:-0}" -gt 0
t_check "fork-on-write forked folios (${total[fork:forked]:-0})" \
	test "${total[fork:forked]:-0}" -gt 0
t_check "fault-around chose windows (${total[faultaround:faults]:-0}: grow ${total[faultaround:grow]:-0}, shrink ${total[faultaround:shrink]:-0}, scan ${total[faultaround:scan]:-0}, whole_vma ${total[faultaround:whole_vma]:-0})" \
	test "${total[faultaround:faults]:-0}" -gt 0
t_check "features switched off (${ev[off.ok]:-0}) and on (${ev[on.ok]:-0}) under load" \
	test "${ev[off.ok]:-0}" -gt 0 -a "${ev[on.ok]:-0}" -gt 0
t_check "hooks_enabled flipped (${ev[hooks.ok]:-0} writes)" test "${ev[hooks.ok]:-0}" -gt 0
# Under injection a switch may be refused with -ENOMEM (the new
# compressor's transforms are allocated first; the old one stays): such a
# refusal took the path under test, so it counts as a switch tried.
if [ "$FAULTS" = 1 ]; then
	t_check "compressor switched (${ev[compressor.ok]:-0}) or refused for memory (${ev[compressor.nomem]:-0})" \
		test $(( ${ev[compressor.ok]:-0} + ${ev[compressor.nomem]:-0} )) -gt 0
else
	t_check "compressor switched (${ev[compressor.ok]:-0})" test "${ev[compressor.ok]:-0}" -gt 0
fi
t_check "rmmod and insmod under load (${ev[reload.ok]:-0})" test "${ev[reload.ok]:-0}" -gt 0
t_check "no knob write failed but with EBUSY (${ev[on.error]:-0} ${ev[off.error]:-0} ${ev[hooks.error]:-0} ${ev[compressor.error]:-0} ${ev[reload.error]:-0})" \
	test $(( ${ev[on.error]:-0} + ${ev[off.error]:-0} + ${ev[hooks.error]:-0} + ${ev[compressor.error]:-0} + ${ev[reload.error]:-0} )) = 0
t_check "no OOM kill in the cgroup" \
	test "$(awk '$1 == "oom_kill" { print $2 }' "$CG/memory.events")" = 0
if [ "$FAULTS" = 1 ]; then
	t_diag "injected: failslab ${injected[failslab]:-0}, fail_page_alloc ${injected[fail_page_alloc]:-0}"
	t_check "failures were injected ($(( ${injected[failslab]:-0} + ${injected[fail_page_alloc]:-0} )))" \
		test $(( ${injected[failslab]:-0} + ${injected[fail_page_alloc]:-0} )) -gt 0
	for c in replication:replica_alloc_fail tmem/ephemeral:put_reject_alloc_fail \
		 tmem/persistent:put_reject_alloc_fail fork:refused_nomem; do
		t_check "${c%%:*} counted allocation failures (${c#*:} ${total[$c]:-0})" \
			test "${total[$c]:-0}" -gt 0
	done
fi
bad=$(dmesg | grep -E 'invalidation failure|I/O error|EXT4-fs error' | head -5)
t_check "dmesg has no I/O error, ext4 error or stale-cache line${bad:+: $bad}" test -z "$bad"

umount "$NM"
fs_umount
rmmod null_blk
cg_teardown
fi_reset
trap - EXIT
t_done
