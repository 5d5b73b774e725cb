#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Unusual files and mounts on the hooked paths, with every feature on
# (replication, cleancache, frontswap, fork-on-write):
#
#  - tmpfs (a new mount) and 9p (the guest's root): the hooks fire, a
#    9p file read on node 0 and then on node 1 gets no replica, and the
#    new tmpfs mount no ephemeral pool, since neither feature supports
#    them (both fail when an allow-list lets every type through: mutant
#    13); every byte read is right.  No ext4 is mounted meanwhile, so any
#    replica, put or fork would be theirs.
#  - a file written with O_DIRECT and buffered at once, to the same pages,
#    read through read(2) and mappings on the other node (pcache_repl
#    torture direct), on ext4 and on tmpfs: no read older than a write
#    that has returned, and the kernel did not find a page it could not
#    invalidate.
#  - ext4 mounted read-only and remounted: replicas and pool copies made
#    on the read-only mount, a write refused there (EROFS), and after the
#    remount read-write a write no replica or pool copy hides, on the
#    device too.
#  - a swap file on ext4 with fork-on-write on: swap writeback of anonymous
#    pages is not forked, and every byte comes back.
#
# Preconditions asserted: replicas and pool puts made on ext4 (so flat
# counters on tmpfs and 9p mean something), O_DIRECT writes done, pages
# swapped out.
. "$(dirname "$0")/lib.sh"

RB=$BUILD/selftests/pcache_repl
R=$SYSFS/replication
EPH=$SYSFS/tmem/ephemeral
PER=$SYSFS/tmem/persistent
FK=$SYSFS/fork
P=1024			# files of 4 MiB
TORTURE_S=${PCACHE_MOUNTS_TORTURE_S:-10}
T=/tmp/pcache-mounts	# a tmpfs of its own
N1CPUS=$(cat /sys/devices/system/node/node1/cpulist 2>/dev/null)
N0CPUS=$(cat /sys/devices/system/node/node0/cpulist 2>/dev/null)

for b in "$WL" "$RB"; do
	[ -x "$b" ] || t_skip_all "$b is not built"
done
[ -b "$DISK" ] || t_skip_all "no test disk $DISK"
[ -n "$N0CPUS" ] && [ -n "$N1CPUS" ] ||
	t_skip_all "no NUMA nodes 0 and 1 with CPUs"

cleanup() {
	exec 8<&- 9<&-
	cd /
	swap_teardown 2>/dev/null
	for f in "$R" "$EPH" "$PER" "$FK"; do
		[ -e "$f/enabled" ] && echo 0 > "$f/enabled" 2>/dev/null
	done
	mountpoint -q "$MNT" && mount -o remount,rw "$MNT" 2>/dev/null
	fs_umount 2>/dev/null
	pcache_unload 2>/dev/null
	cg_teardown
	mountpoint -q "$T" && umount "$T"
	rm -rf "$T"
}

pcache_unload
fs_umount
pcache_load || t_skip_all "cannot load pcache"
trap cleanup EXIT
rm -rf "$T"
mkdir -p "$T"

st() { cat "$1/stats/$2"; }
counters() {
	echo "replicated $(st "$R" replicated) nr_replica_pages $(st "$R" nr_replica_pages)" \
		"eph.puts $(st "$EPH" puts) eph.gets $(st "$EPH" get_hits)" \
		"per.puts $(st "$PER" puts) forked $(st "$FK" forked)"
}
# flat NAME DIR STAT BEFORE: one check that STAT did not move.
flat() {
	local now
	now=$(st "$2" "$3")
	if [ "$now" = "$4" ]; then
		t_ok "$1 ($3 stayed $4)"
	else
		t_fail "$1 ($3 $4 -> $now)"
		t_diag "counters: $(counters)"
	fi
}
# rose NAME DIR STAT BEFORE: one check that STAT rose.
rose() {
	local now
	now=$(st "$2" "$3")
	if [ "$now" -gt "$4" ]; then
		t_ok "$1 ($3 +$((now - $4)))"
	else
		t_fail "$1 ($3 stayed $4)"
		t_diag "counters: $(counters)"
	fi
}
# uncache: the page cache dropped, replicas first (a page with replicas
# holds a reference on its master, so drop_caches leaves the master).
uncache() {
	echo 0 > "$R/enabled" && wait_zero "$R/stats/nr_replica_pages" 50 &&
		echo 1 > "$R/enabled" && drop_caches
}
# torture_direct FS FILE: pcache_repl torture, O_DIRECT and buffered
# writers on node 0 (to the same pages), readers on node 1: no stale
# read, and O_DIRECT writes were done.
torture_direct() {
	local rc dw line
	"$RB" torture "$2" 256 "$TORTURE_S" 0 1 direct > "$T/t.out" 2>&1
	rc=$?
	while read -r line; do t_diag "$1 torture direct: $line"; done < "$T/t.out"
	t_check "$1: O_DIRECT and buffered writes to the same pages, readers on node 1 (${TORTURE_S} s): no stale read" \
		test $rc = 0
	dw=$(grep -o 'direct_writes [0-9]*' "$T/t.out" | awk '{ print $2 }')
	t_check "  $1: O_DIRECT writes were done (${dw:-none})" test "${dw:-0}" -gt 0
	rm -f "$2"
}
# on1 CMD...: run CMD on node 1's CPUs.
on1() { taskset -c "$N1CPUS" "$@"; }

t_check "every feature on (replication at once: min_remote_reads 1, write_quiet_ms 0)" \
	eval 'echo 1 > "$R/min_remote_reads" && echo 0 > "$R/write_quiet_ms" &&
	echo 0 > "$R/write_backoff_max" && echo 1 > "$R/enabled" &&
	echo 1 > "$EPH/enabled" && echo 1 > "$PER/enabled" &&
	echo 1 > "$FK/enabled"'

# ---------------------------------------------------------------------
t_diag "-- tmpfs and 9p, no ext4 mounted: $(counters)"
rep0=$(st "$R" replicated) put0=$(st "$EPH" puts) fk0=$(st "$FK" forked)
h0=$(hooks_total) pools0=$(st "$EPH" pools)
mount -t tmpfs -o size=64m pcache-mounts "$T"
t_check "mount a tmpfs" test $? = 0
flat "  the tmpfs mount gets no ephemeral pool" "$EPH" pools "$pools0"

PCACHE_REPL_NODE=0 "$RB" fill "$T/f" $P 1 > /dev/null
"$RB" locality "$T/f" $P 1 2 1 > "$T/loc.out" 2>&1
rc=$?
t_diag "tmpfs: $(grep '^mapped ' "$T/loc.out" | head -1)"
t_check "tmpfs: written on node 0, read and mapped on node 1, every word right" \
	test $rc = 0
on=$(awk '$1 == "mapped" { print $4; exit }' "$T/loc.out")
t_check "tmpfs: the mapped pages stay on node 0 (none on node 1: ${on:-?})" \
	test "${on:-x}" = 0
torture_direct tmpfs "$T/tort"
rm -f "$T/f"

# 9p: the guest's root, read-only, cache=loose (reads go through the page
# cache).  A file the host does not change: read on node 0, on node 1,
# and after the page cache is dropped, the same every time.
F9=$PCACHE_KO
drop_caches	# its pages come in on node 0 below, not where insmod read them
s0=$(taskset -c "$N0CPUS" sha256sum "$F9" | cut -d' ' -f1)
s1=$(on1 sha256sum "$F9" | cut -d' ' -f1)
s2=$(on1 sha256sum "$F9" | cut -d' ' -f1)
drop_caches
s3=$(on1 sha256sum "$F9" | cut -d' ' -f1)
t_diag "9p: $F9 ($(stat -c %s "$F9") bytes, on $(findmnt -n -o FSTYPE -T "$F9")): $s0"
t_check "9p: a file read on node 0, twice on node 1 and after drop_caches is the same" \
	test -n "$s0" -a "$s0" = "$s1" -a "$s0" = "$s2" -a "$s0" = "$s3"
h1=$(hooks_total)
t_check "tmpfs and 9p: the hooks fired (+$((h1 - h0)))" test "$h1" -gt "$h0"
flat "tmpfs and 9p: no replica" "$R" replicated "$rep0"
# Not checks (no reclaim ran, tmpfs has no writeback): what the other
# features did meanwhile.
t_diag "tmpfs and 9p: ephemeral puts +$(( $(st "$EPH" puts) - put0 )), forked +$(( $(st "$FK" forked) - fk0 ))"

# ---------------------------------------------------------------------
fs_setup || { t_fail "make the test filesystem"; t_done; }
cg_setup 24M || { t_fail "memory cgroup"; t_done; }
# cgcheck FILE ROUND: pcache_repl check of FILE on node 1, in the test
# cgroup (so cg_evict reclaims its pages, through the ephemeral pool).
cgcheck() { cg_run env PCACHE_REPL_NODE=1 "$RB" check "$1" $P "$2"; }
n0() { env PCACHE_REPL_NODE=0 "$RB" "$@"; }
n1() { env PCACHE_REPL_NODE=1 "$RB" "$@"; }
D=$MNT/mounts
rm -rf "$D"
mkdir -p "$D"
t_diag "-- ext4, read-only and remounted: $(counters)"
rep0=$(st "$R" replicated) put0=$(st "$EPH" puts) hit0=$(st "$EPH" get_hits)
n0 fill "$D/f" $P 1 && n0 check "$D/f" $P 1
t_check "write the file (round 1) on node 0" test $? = 0
t_check "remount read-only" mount -o remount,ro "$MNT"
"$RB" locality "$D/f" $P 1 2 1 > "$T/loc.out" 2>&1
rc=$?
t_diag "ro ext4: $(grep '^mapped ' "$T/loc.out" | head -1)"
t_check "ro ext4: read and mapped on node 1, every word right" test $rc = 0
rose "ro ext4: replicas were made" "$R" replicated "$rep0"
uncache
# Files held open (fds 8 and 9) while cg_evict reclaims: otherwise the
# reclaim evicts their inodes too, which flushes their pages from the pool.
exec 8< "$D/f"
cgcheck "$D/f" 1 && cg_evict && cgcheck "$D/f" 1
t_check "ro ext4: read in a 24 MiB cgroup, reclaimed, read again: every word right" test $? = 0
rose "ro ext4: the reclaimed pages went to the ephemeral pool" "$EPH" puts "$put0"
rose "ro ext4: and came back from it" "$EPH" get_hits "$hit0"
err=$( (n0 fill "$D/f" $P 2) 2>&1)
rc=$?
t_diag "write on the ro mount: exit $rc: $err"
t_check "ro ext4: a write is refused (EROFS)" \
	eval 'test $rc != 0 && grep -q "Read-only file system" <<< "$err"'
n1 check "$D/f" $P 1
t_check "ro ext4: the file still holds round 1" test $? = 0

# Read-write again: f's pages cached on node 0 with replicas on node 1,
# g's in the ephemeral pool, when both are rewritten.
t_check "remount read-write" mount -o remount,rw "$MNT"
uncache
rep0=$(st "$R" replicated) put0=$(st "$EPH" puts)
n0 fill "$D/g" $P 1 && exec 9< "$D/g" && uncache && cgcheck "$D/g" 1 && cg_evict &&
	n0 check "$D/f" $P 1 && n1 check "$D/f" $P 1
t_check "rw ext4: f read on node 0 then 1, g read in the cgroup and reclaimed" test $? = 0
rose "  rw ext4: f has replicas" "$R" replicated "$rep0"
rose "  rw ext4: g went to the ephemeral pool" "$EPH" puts "$put0"
# In place (no truncate first): the write path must collapse and flush.
PCACHE_REPL_NOTRUNC=1 n0 fill "$D/f" $P 2 &&
	PCACHE_REPL_NOTRUNC=1 n0 fill "$D/g" $P 2
t_check "rw ext4: overwrite both in place with round 2 on node 0" test $? = 0
n1 check "$D/f" $P 2
t_check "rw ext4: f holds round 2 on node 1 (no older replica)" test $? = 0
uncache
cgcheck "$D/g" 2
t_check "rw ext4: g holds round 2 after drop_caches (no older pool copy)" test $? = 0
cg_evict && cgcheck "$D/g" 2
t_check "rw ext4: g holds round 2 after reclaim through the pool" test $? = 0
t_check "remount read-only with the files' pages cached, then read-write" \
	eval 'mount -o remount,ro "$MNT" && mount -o remount,rw "$MNT"'
exec 8<&- 9<&-
fs_umount && fs_mount
t_check "umount and mount" test $? = 0
uncache
n1 check "$D/f" $P 2 && n1 check "$D/g" $P 2
t_check "on the device: both hold round 2" test $? = 0
rm -f "$D/f" "$D/g"

# ---------------------------------------------------------------------
t_diag "-- O_DIRECT and buffered at once on ext4: $(counters)"
rep0=$(st "$R" replicated)
torture_direct ext4 "$D/tort"
rose "  ext4: replicas were made meanwhile" "$R" replicated "$rep0"
t_check_fails "  the kernel found no page cache page it could not invalidate after an O_DIRECT write" \
	sh -c 'dmesg | grep -q "Page cache invalidation failure"'

# ---------------------------------------------------------------------
t_diag "-- a swap file on ext4, fork-on-write on: $(counters)"
swap_setup 64 "$D/swapfile"
t_check "swap file on ext4 enabled" test $? = 0
echo 0 > "$PER/enabled"
fk0=$(st "$FK" forked) out0=$(vmstat_get pswpout)
cg_run "$WL" anon 40 11 > "$T/anon.out" 2>&1
t_check "frontswap off: 40 MiB of anonymous memory in 24 MiB, every byte right" \
	test $? = 0
t_check "  pages were written to the swap file (pswpout +$(( $(vmstat_get pswpout) - out0 )))" \
	test "$(vmstat_get pswpout)" -gt "$out0"
flat "  swap writeback was not forked" "$FK" forked "$fk0"
echo 1 > "$PER/enabled"
put0=$(st "$PER" puts)
cg_run "$WL" anon 40 12 > "$T/anon.out" 2>&1
t_check "frontswap on: again, every byte right" test $? = 0
rose "  frontswap took pages" "$PER" puts "$put0"
flat "  nothing forked" "$FK" forked "$fk0"
t_check "swapoff" swap_teardown "$D/swapfile"
rm -f "$D/swapfile"

t_diag "at the end: $(counters)"
t_done
