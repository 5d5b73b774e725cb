#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Cleancache shared pools (tmem/ephemeral/shared): two read-only copies of
# one ext4 filesystem, on two memory-backed null_blk devices, share a pool.
# Pages one copy put are hits for the other, which then reads (almost)
# nothing from its device; with shared off it reads the whole set.  Every
# byte read is checked.  Then the ways sharing could hand one copy's data to
# the other: a member remounted rw and written (write(2) and mmap) leaves
# the pool before its data changes; a copy that has diverged gets a pool of
# its own (shared with copies of its new state) although its uuid is the
# same; a mount that is writable at mount time does not join; a member
# whose cached pages are rewritten through mmap leaves at page_mkwrite.
# Bad input to the knob: -EINVAL, value kept.
. "$(dirname "$0")/lib.sh"

E=ephemeral
CG_MAX=16M
A=/dev/nullb0
B=/dev/nullb1
MA=$MNT-a
MB=$MNT-b
FS_MIB=96
NF=4		# the file set: NF files of FKIB KiB, 32 MiB
FKIB=8192
SET_SECTORS=$((NF * FKIB * 2))

[ -x "$WL" ] || t_skip_all "$WL is not built"
need_null_blk

cleanup() {
	umount "$MA" 2>/dev/null
	umount "$MB" 2>/dev/null
	pcache_unload
	rmmod null_blk 2>/dev/null
	cg_teardown
}
trap cleanup EXIT

if [ -f "$NB_KO" ]; then
	insmod "$NB_KO" nr_devices=2 memory_backed=1 gb=1
else
	modprobe null_blk nr_devices=2 memory_backed=1 gb=1
fi || t_skip_all "cannot load null_blk"
[ -b $A ] && [ -b $B ] || t_skip_all "no $A and $B"
mkdir -p "$MA" "$MB"

content() { if [ $(($1 % 2)) = 1 ]; then echo mixed; else echo random; fi; }
# on_set DIR CMD: CMD (write or verify) on every file of the set in DIR, in
# the test cgroup.
on_set() {
	local i
	for i in $(seq $NF); do
		wl_cg "$(content "$i")" "$2" "$1/f$i" $FKIB "$i" || return 1
	done
}
# read_sectors DEV DIR: verify the set in DIR; prints the sectors read from
# DEV meanwhile, or "bad" on a wrong byte.
read_sectors() {
	local s0
	s0=$(disk_stat 3 "$1")
	on_set "$2" verify || { echo bad; return 1; }
	echo $(($(disk_stat 3 "$1") - s0))
}
st() { tmem_stat $E "$1"; }
rose() { [ "$(st "$1")" -gt "$2" ]; }
is() { [ "$(st "$1")" = "$2" ]; }
# wait_is NAME VALUE: the counter reaches VALUE within 10 s (the leave work).
wait_is() {
	local _
	for _ in $(seq 100); do
		is "$1" "$2" && return 0
		sleep 0.1
	done
	t_diag "stats/$1 is $(st "$1"), not $2"
	return 1
}
copy_a_to_b() {
	dd if=$A of=$B bs=1M count=$FS_MIB conv=fsync status=none
}

# The filesystem, written once on A and copied to B: two identical copies.
cg_setup $CG_MAX || t_skip_all "no memory cgroup"
[ -e "$CG/memory.reclaim" ] || t_skip_all "no memory.reclaim"
mkfs.ext4 -q -F -E lazy_itable_init=0,lazy_journal_init=0 $A ${FS_MIB}M ||
	t_skip_all "cannot make ext4 on $A"
mount -t ext4 $A "$MA" || t_skip_all "cannot mount $A"
t_check "write $NF files of $((FKIB / 1024)) MiB on $A" on_set "$MA" write
umount "$MA"
t_check "copy $A to $B" copy_a_to_b

pcache_unload
pcache_load || t_skip_all "cannot load pcache"

# ---------------------------------------------------------------------
# The knob.
t_check "$E/shared is 0 by default" test "$(tmem_get $E shared)" = 0
for bad in 2 -1 x "" "1 1"; do
	t_check_fails "shared: '$bad' refused" tmem_set $E shared "$bad" 2>/dev/null
	t_check "  and shared still 0" test "$(tmem_get $E shared)" = 0
done
t_check "stats/shared_pools is in ephemeral/stats only" \
	test -e "$TMEM/$E/stats/shared_pools" -a ! -e "$TMEM/persistent/stats/shared_pools"
t_check "shared 1" tmem_set $E shared 1
t_check "enable $E" tmem_set $E enabled 1

mount -t ext4 -o ro $A "$MA" && mount -t ext4 -o ro $B "$MB" ||
	t_skip_all "cannot mount the copies read-only"
t_check "both read-only copies joined one shared pool" is shared_members 2
t_check "  stats/shared_pools 1" is shared_pools 1
t_check "  stats/pools 1" is pools 1

# ---------------------------------------------------------------------
# A reads, reclaim puts its pages; B's reads are hits.
t_check "A: every byte of the set right" on_set "$MA" verify
cg_evict
t_check "A's evicted pages are in the pool" rose stored_pages 0
hits0=$(st get_hits)
b_on=$(read_sectors $B "$MB")
t_check "B: every byte of the set right, read through the shared pool" test "$b_on" != bad
t_check "  get_hits rose" rose get_hits "$hits0"
t_diag "B read $b_on sectors for a set of $SET_SECTORS with the pool shared"
t_check "  B read a quarter or less of the set from its device ($b_on of $SET_SECTORS sectors)" \
	test "$b_on" != bad -a $((b_on * 4)) -le $SET_SECTORS
t_check "A: still every byte right" on_set "$MA" verify

# Control: shared off, each copy has its own pool and B reads its disk.
t_check "shared 0 (pools rebuilt)" tmem_set $E shared 0
t_check "  two private pools" is pools 2
t_check "  no shared pool" is shared_pools 0
on_set "$MA" verify > /dev/null
cg_evict
b_off=$(read_sectors $B "$MB")
t_diag "B read $b_off sectors for a set of $SET_SECTORS with private pools"
t_check "with private pools B reads its set from its device ($b_off sectors)" \
	test "$b_off" != bad -a $((b_off * 4)) -ge $((SET_SECTORS * 3))
t_check "shared 1 again" tmem_set $E shared 1
t_check "  the copies share again" is shared_members 2

# ---------------------------------------------------------------------
# B remounted rw and written: it leaves the pool before its data changes.
on_set "$MA" verify > /dev/null
cg_evict
left0=$(st shared_left)
t_check "remount B rw" mount -o remount,rw "$MB"
t_check "B: write(2) 1 MiB into f1 at 1000000 (unaligned)" \
	wl_cg mixed write-at "$MB/f1" 1000000 1048576 11
t_check "B left the shared pool (shared_left rose)" rose shared_left "$left0"
t_check "  shared_members 1" wait_is shared_members 1
t_check "  B has a private pool (pools 2)" wait_is pools 2
t_check "  dmesg says why" sh -c "dmesg | grep -q 'nullb1 was made writable'"
t_check "B: mmap rewrite of f2 (seed 12)" wl_cg random mmap-write "$MB/f2" $FKIB 12
check_b() {
	wl_cg mixed verify-at "$MB/f1" 0 1000000 1 &&
	wl_cg mixed verify-at "$MB/f1" 1000000 1048576 11 &&
	wl_cg mixed verify-at "$MB/f1" 2048576 $((FKIB * 1024 - 2048576)) 1 &&
	wl_cg random verify "$MB/f2" $FKIB 12 &&
	wl_cg mixed verify "$MB/f3" $FKIB 3 &&
	wl_cg random verify "$MB/f4" $FKIB 4
}
cg_evict
t_check "B: its new data, every byte, after eviction" check_b
t_check "A: its own (old) data, every byte" on_set "$MA" verify
cg_evict
t_check "B: again after eviction" check_b
t_check "A: again after eviction" on_set "$MA" verify
t_check "remount B ro" mount -o remount,ro "$MB"
t_check "  B stays out of the shared pool" is shared_members 1
cg_evict
t_check "B (ro again): every byte right" check_b
t_check "A: every byte right" on_set "$MA" verify

# ---------------------------------------------------------------------
# B, diverged, mounted again read-only: same uuid, other contents.
umount "$MB"
mm0=$(st shared_mismatch)
t_check "mount the diverged B read-only" mount -t ext4 -o ro $B "$MB"
t_check "  its uuid matches but its contents do not (shared_mismatch rose)" \
	rose shared_mismatch "$mm0"
t_check "  it starts a shared pool of its own (shared_pools 2, pools 2)" \
	sh -c "[ $(st shared_pools) = 2 ] && [ $(st pools) = 2 ]"
on_set "$MA" verify > /dev/null
cg_evict
t_check "B: its own data, every byte, never A's" check_b
cg_evict
t_check "A: its data, every byte" on_set "$MA" verify

# ---------------------------------------------------------------------
# Identical again; B mounted rw does not join, and leaves nothing behind.
umount "$MB"
umount "$MA"
t_check "both unmounted: no pool left" \
	sh -c "[ $(st pools) = 0 ] && [ $(st shared_pools) = 0 ] && [ $(st shared_members) = 0 ]"
t_check "copy A to B again" copy_a_to_b
mount -t ext4 -o ro $A "$MA"
t_check "mount B read-write" mount -t ext4 $B "$MB"
t_check "  B does not join (shared_members 1, pools 2)" \
	sh -c "[ $(st shared_members) = 1 ] && [ $(st pools) = 2 ]"
on_set "$MA" verify > /dev/null
cg_evict
t_check "B (rw): every byte right" on_set "$MB" verify
umount "$MB"

# Identical again, both read-only: B's f3 is cached, B is remounted rw and
# f3 rewritten through mmap: no read, the first hook is page_mkwrite.
t_check "copy A to B once more" copy_a_to_b
mount -t ext4 -o ro $B "$MB"
t_check "the copies share again" is shared_members 2
on_set "$MA" verify > /dev/null
cg_evict
wl_cg mixed verify "$MB/f3" $FKIB 3
left0=$(st shared_left)
mount -o remount,rw "$MB"
t_check "B: mmap rewrite of its cached f3 (seed 13)" wl_cg mixed mmap-write "$MB/f3" $FKIB 13
t_check "  B left the shared pool" rose shared_left "$left0"
t_check "  shared_members 1" wait_is shared_members 1
cg_evict
t_check "B: f3 has the new data after eviction" wl_cg mixed verify "$MB/f3" $FKIB 13
t_check "A: f3 has its own data" wl_cg mixed verify "$MA/f3" $FKIB 3
cg_evict
t_check "A: every byte right" on_set "$MA" verify
umount "$MB"
umount "$MA"

t_check "disable $E" tmem_set $E enabled 0
t_check "shared 0" tmem_set $E shared 0
t_check "rmmod pcache" pcache_unload
t_check "rmmod null_blk" rmmod null_blk
trap - EXIT
cg_teardown
t_done
