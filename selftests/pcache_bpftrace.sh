#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# tools/bpftrace/pcache-hooks.bt attaches to the module's tracepoints and
# counts events, by tracepoint and call site, under a small workload.
. "$(dirname "$0")/lib.sh"

command -v bpftrace > /dev/null || t_skip_all "bpftrace is not installed"
script=$TOP/tools/bpftrace/pcache-hooks.bt
out=/tmp/pcache-bpftrace.out

pcache_unload
pcache_load || t_skip_all "cannot load pcache"
t_check "tracepoints are registered under events/pcache" \
	test -d /sys/kernel/tracing/events/pcache/pcache_read

t_check "bpftrace attached to every probe of pcache-hooks.bt" bt_start "$out" "$script"
sleep 1
for _ in 1 2 3; do
	cat /etc/services /etc/passwd > /dev/null
	echo 3 > /proc/sys/vm/drop_caches
	cat /etc/services > /dev/null
done
sleep 1
# bpftrace prints its maps and detaches on SIGINT.
t_check "bpftrace exits within 60 s of SIGINT" bt_stop
sed 's/^/# /' "$out"
t_check "bpftrace saw pcache_read events" \
	grep -qE '^@events\[tracepoint:pcache:pcache_read, [0-9]+\]: [1-9]' "$out"
t_check "bpftrace saw pcache_invalidate events" \
	grep -qE '^@events\[tracepoint:pcache:pcache_invalidate, [0-9]+\]: [1-9]' "$out"
# The same events through ftrace: the printed line names the site.
tr=/sys/kernel/tracing
echo 0 > $tr/tracing_on
echo > $tr/trace
echo 1 > $tr/events/pcache/pcache_sb/enable
echo 1 > $tr/tracing_on
poke_hooks
echo 0 > $tr/tracing_on
echo 0 > $tr/events/pcache/pcache_sb/enable
t_check "ftrace prints pcache_sb events with the site name" \
	grep -qE 'pcache_sb: mount dev=[0-9]+:[0-9]+ type=tmpfs' $tr/trace
grep pcache_sb $tr/trace | head -4 | sed 's/^/# /'

# tools/bpftrace/pcache-tmem.bt on cleancache: puts while a cgroup
# evicts a file it wrote, gets while it reads it back.
if fs_setup && cg_setup 8M; then
	tmem_set ephemeral enabled 1
	out2=/tmp/pcache-bt-tmem.out
	bt_start "$out2" "$TOP/tools/bpftrace/pcache-tmem.bt" ||
		t_diag "pcache-tmem.bt did not attach: $(cat "$out2")"
	mkdir -p "$MNT/bt"
	cg_run "$WL" write "$MNT/bt/f" 16384 3 && cg_run "$WL" verify "$MNT/bt/f" 16384 3
	bt_stop
	sed 's/^/# /' "$out2"
	t_check "pcache-tmem.bt counted cleancache puts" \
		grep -qE '^@ops\[tracepoint:pcache:pcache_tmem_put, 0, 0\]: [1-9]' "$out2"
	t_check "pcache-tmem.bt counted cleancache gets" \
		grep -qE '^@ops\[tracepoint:pcache:pcache_tmem_get, 0, 0\]: [1-9]' "$out2"
	tmem_set ephemeral enabled 0
	rm -rf "$MNT/bt"
	fs_umount
	cg_teardown
else
	t_fail "test disk and cgroup for pcache-tmem.bt"
fi

# tools/bpftrace/pcache-repl.bt: a file written on node 0 and read on
# node 1 is replicated there; a write on node 0 collapses the replicas.
R=$SYSFS/replication
if [ -d "$R" ] && [ -d /sys/devices/system/node/node1 ] && fs_setup; then
	echo 1 > $R/min_remote_reads
	echo 0 > $R/write_quiet_ms
	echo 1 > $R/enabled
	out3=/tmp/pcache-bt-repl.out
	bt_start "$out3" "$TOP/tools/bpftrace/pcache-repl.bt" ||
		t_diag "pcache-repl.bt did not attach: $(cat "$out3")"
	mkdir -p "$MNT/bt"
	n0=$(cut -d, -f1 /sys/devices/system/node/node0/cpulist | cut -d- -f1)
	n1=$(cut -d, -f1 /sys/devices/system/node/node1/cpulist | cut -d- -f1)
	taskset -c "$n0" "$WL" write "$MNT/bt/r" 1024 5 &&
		taskset -c "$n1" "$WL" verify "$MNT/bt/r" 1024 5 &&
		taskset -c "$n0" "$WL" write-at "$MNT/bt/r" 0 65536 6
	bt_stop
	sed 's/^/# /' "$out3"
	t_check "pcache-repl.bt counted replicas made on node 1 of masters on node 0" \
		grep -qE '^@created\[1, 0\]: [1-9]' "$out3"
	t_check "pcache-repl.bt counted replicas collapsed by a write" \
		grep -qE '^@collapsed\[0, 0\]: [1-9]' "$out3"
	echo 0 > $R/enabled
	rm -rf "$MNT/bt"
	fs_umount
else
	t_fail "replication, two nodes and the test disk for pcache-repl.bt"
fi
# tools/bpftrace/pcache-faultaround.bt: adaptive windows of a sequential
# scan through a mapping (max_bytes for a scan) and of random reads
# (shrunk), by process.
FAD=$SYSFS/faultaround
FA=$BUILD/selftests/pcache_fa
if [ -d "$FAD" ] && [ -x "$FA" ] && fs_setup; then
	echo adaptive > $FAD/mode
	mkdir -p "$MNT/bt"
	"$FA" write "$MNT/bt/fa" 4096 1
	out4=/tmp/pcache-bt-fa.out
	bt_start "$out4" "$TOP/tools/bpftrace/pcache-faultaround.bt" ||
		t_diag "pcache-faultaround.bt did not attach: $(cat "$out4")"
	"$FA" seq "$MNT/bt/fa" 4096 1 && "$FA" rand "$MNT/bt/fa" 4096 1 200
	bt_stop
	sed 's/^/# /' "$out4"
	t_check "pcache-faultaround.bt showed pcache_fa's windows up to 512 pages" \
		grep -qE '^\[512, 1K\) +[1-9]' "$out4"
	t_check "pcache-faultaround.bt counted the scan's windows (reason scan)" \
		grep -qE '^@reason\[8\]: [1-9]' "$out4"
	t_check "pcache-faultaround.bt counted windows shrunk" \
		grep -qE '^@reason\[2\]: [1-9]' "$out4"
	echo off > $FAD/mode
	rm -rf "$MNT/bt"
	fs_umount
else
	t_fail "fault-around, pcache_fa and the test disk for pcache-faultaround.bt"
fi
pcache_unload
t_done
