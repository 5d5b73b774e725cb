#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Cleancache (tmem/ephemeral) data integrity.  ext4 on the test disk, a
# memory cgroup far smaller than the file set: files of known content are
# read again and again, so reclaim puts their pages in the pool and reads
# get them back.  Every byte read is checked.  get_hits and puts rise, and
# a re-read pass reads far fewer sectors from the disk than with the front
# off.  Then every way a page in the pool could go stale: overwrite after
# eviction, truncate then extend, O_DIRECT writes, rename, unlink and
# inode reuse, the front switched off and on, unmount and mount, truncate
# racing reads, a compressor switch, a tiny pool, and the shrinker.
. "$(dirname "$0")/lib.sh"

[ -x "$WL" ] || t_skip_all "$WL is not built"
[ -b "$DISK" ] || t_skip_all "no test disk $DISK"

E=ephemeral
CG_MAX=20M
D=$MNT/tmem-cc
NF=6		# the file set: NF files of FKIB KiB, 48 MiB
FKIB=8192

pcache_unload
pcache_load || t_skip_all "cannot load pcache"
if [ ! -d "$TMEM/$E" ]; then
	t_fail "$TMEM/$E exists"
	pcache_unload
	t_done
fi
fs_setup || t_skip_all "cannot make the test filesystem"
cg_setup $CG_MAX || t_skip_all "no memory cgroup"
[ -e "$CG/memory.reclaim" ] || t_skip_all "no memory.reclaim"

# The pool is the mount's: enable the front, then mount.
fs_umount
t_check "enable $E" tmem_set $E enabled 1
fs_mount || t_skip_all "cannot mount $DISK"
rm -rf "$D"
mkdir -p "$D"

# File i: seed i, mixed (compressible) content for odd i, random for even.
content() { if [ $(($1 % 2)) = 1 ]; then echo mixed; else echo random; fi; }
write_set() {
	local i
	for i in $(seq $NF); do
		wl_cg "$(content "$i")" write "$D/f$i" $FKIB "$i" || return 1
	done
}
# verify_set: read every file of the set in the cgroup, every byte checked.
verify_set() {
	local i
	for i in $(seq $NF); do
		wl_cg "$(content "$i")" verify "$D/f$i" $FKIB "$i" || return 1
	done
}
# pass_sectors: verify the set once; prints the sectors read from the disk
# meanwhile, or "bad" on a wrong byte.
pass_sectors() {
	local s0
	s0=$(disk_stat 3)
	verify_set || { echo bad; return 1; }
	echo $(($(disk_stat 3) - s0))
}
# rose NAME BEFORE: the counter NAME of the front is above BEFORE.
rose() { [ "$(tmem_stat $E "$1")" -gt "$2" ]; }
st() { tmem_stat $E "$1"; }
# vwl CONTENT verify-at|zeros ...: one check in the cgroup.
vwl() { wl_cg "$@"; }
# evict: cg_evict, remembering the counters from before it for tk.
evict() { tmem_evict $E; }
# tk NAME CMD...: a check of what the pool holds or did; when it fails it
# prints the counters it depends on (tmem_diag).
tk() { t_check_tmem $E "$@"; }

# ---------------------------------------------------------------------
# Re-read in the cgroup: the pool serves the reads, every byte right.
puts0=$(st puts) hits0=$(st get_hits) gets0=$(st gets)
t_check "write $NF files of $((FKIB / 1024)) MiB in a $CG_MAX cgroup" write_set
for p in 1 2 3; do
	t_check "re-read pass $p: every byte of the $((NF * FKIB / 1024)) MiB set right" verify_set
done
t_diag "after 3 passes: $(tmem_stats $E)"
tk "stats/puts rose (reclaim put pages in the pool)" rose puts "$puts0"
tk "stats/gets rose" rose gets "$gets0"
tk "stats/get_hits rose (reads came back from the pool)" rose get_hits "$hits0"
tk "stats/stored_pages > 0" rose stored_pages 0
tk "stats/pools > 0 (the mount has a pool)" rose pools 0
tk "stats/pool_bytes > 0" rose pool_bytes 0
tk "stats/pool_total_size > 0" rose pool_total_size 0

# ---------------------------------------------------------------------
# Device reads of one re-read pass, front on and off.
hits0=$(st get_hits)
on=$(pass_sectors)
t_check "re-read pass with $E on: every byte right" test "$on" != bad
tk "  and get_hits rose during it" rose get_hits "$hits0"

# A file in the pool, changed while the front is off: the pool must not
# give the old data back once the front is on again.
X=$D/x
t_check "write x (4 MiB)" wl_cg mixed write "$X" 4096 301
vwl mixed verify "$X" 4096 301 > /dev/null
evict
t_check "disable $E" tmem_set $E enabled 0
t_check "x: overwrite 1 MiB in the middle (unaligned) with the front off" \
	wl_cg mixed write-at "$X" 1000000 1048576 302
verify_set > /dev/null
off_warm=$(pass_sectors)
off=$(pass_sectors)
t_check "re-read passes with $E off: every byte right" \
	test "$off" != bad -a "$off_warm" != bad
t_diag "sectors read by one re-read pass of $((NF * FKIB / 1024)) MiB: $E on $on, off $off"
t_check "a re-read pass with $E on reads half or less of the sectors it reads with it off ($on vs $off)" \
	test "$off" != bad -a "$on" != bad -a $((on * 2)) -le "${off:-0}"
t_check "enable $E again" tmem_set $E enabled 1
verify_set > /dev/null
hits0=$(st get_hits)
t_check "pass after re-enabling: every byte right" verify_set
tk "  and get_hits rose again" rose get_hits "$hits0"
evict
t_check "x after off/overwrite/on and eviction: head right" vwl mixed verify-at "$X" 0 1000000 301
t_check "x: overwritten range has the new data" vwl mixed verify-at "$X" 1000000 1048576 302
t_check "x: tail right" vwl mixed verify-at "$X" 2048576 $((4194304 - 2048576)) 301

# ---------------------------------------------------------------------
# Overwrite after eviction: partial pages (read-modify-write through the
# pool) and whole pages (no read), then evict again: the new data.
#
# The file is held open meanwhile.  Once reclaim has replaced an idle
# file's pages by shadow entries, the same memory.reclaim may free those
# shadow nodes (the workingset shrinker; whether it does depends on when
# the cgroup's statistics were last flushed), and the inode, now without
# pages or users, goes to the inode LRU and is evicted, which rightly
# flushes its pages from the pool (a new inode may reuse the number).
# The section would then overwrite pages that are not in the pool.
O=$D/o
wl_cg mixed write "$O" 4096 101
exec {o_fd}< "$O"
vwl mixed verify "$O" 4096 101
evict
s0=$(st stored_pages)
tk "o: evicted pages are in the pool (stored_pages $s0 > 0)" test "$s0" -gt 0
t_check "o: overwrite [1000000, +2 MiB) (unaligned) over evicted pages" \
	wl_cg mixed write-at "$O" 1000000 2097152 102
t_check "o: overwrite [3 MiB, +256 KiB) (whole pages) over evicted pages" \
	wl_cg mixed write-at "$O" 3145728 262144 103
check_o() {
	vwl mixed verify-at "$O" 0 1000000 101 &&
	vwl mixed verify-at "$O" 1000000 2097152 102 &&
	vwl mixed verify-at "$O" 3097152 $((3145728 - 3097152)) 101 &&
	vwl mixed verify-at "$O" 3145728 262144 103 &&
	vwl mixed verify-at "$O" 3407872 $((4194304 - 3407872)) 101
}
t_check "o: every byte right before eviction" check_o
evict
t_check "o: every byte right after eviction (new data, never the old)" check_o
evict
t_check "o: and after a second eviction" check_o
exec {o_fd}<&-

# ---------------------------------------------------------------------
# Truncate then extend: the cut-off part reads as zeros, not as the pages
# the pool held.  The file is held open, as o is: an evicted inode would
# have its pages flushed before the truncation could.
T=$D/t
wl_cg random write "$T" 4096 111
exec {t_fd}< "$T"
vwl random verify "$T" 4096 111
evict
s0=$(st stored_pages) flushes0=$(st flushes)
tk "t: evicted pages are in the pool (stored_pages $s0 > 0)" test "$s0" -gt 0
t_check "t: truncate to 1500000 (inside a page) over evicted pages" cg_run truncate -s 1500000 "$T"
tk "  and the truncation flushed the cut-off pages (flushes rose)" rose flushes "$flushes0"
t_check "t: extend to 4 MiB" cg_run truncate -s 4M "$T"
check_t1() {
	vwl random verify-at "$T" 0 1500000 111 &&
	vwl random zeros "$T" 1500000 $((4194304 - 1500000))
}
t_check "t: head right, extended part all zeros" check_t1
evict
t_check "t: after eviction: head right, extended part all zeros" check_t1
cg_run truncate -s 0 "$T"
cg_run truncate -s 4M "$T"
evict
check_t() { vwl random zeros "$T" 0 4194304; }
t_check "t: truncated to 0 and extended: all zeros" check_t
exec {t_fd}<&-

# ---------------------------------------------------------------------
# O_DIRECT writes over evicted pages, then buffered reads.
W=$D/d
wl_cg mixed write "$W" 4096 121
vwl mixed verify "$W" 4096 121
evict
t_check "d: O_DIRECT write of [1 MiB, +1 MiB) over evicted pages" \
	wl_cg mixed odirect-at "$W" 1048576 1048576 122
check_d1() {
	vwl mixed verify-at "$W" 0 1048576 121 &&
	vwl mixed verify-at "$W" 1048576 1048576 122 &&
	vwl mixed verify-at "$W" 2097152 2097152 121
}
t_check "d: buffered read right (O_DIRECT data, never the pool's copy)" check_d1
evict
t_check "d: after eviction, right" check_d1
# O_DIRECT over pages that are cached and in the pool at once.
vwl mixed verify-at "$W" 2097152 524288 121
t_check "d: O_DIRECT write of [2 MiB, +512 KiB) over cached pages" \
	wl_cg mixed odirect-at "$W" 2097152 524288 123
check_d() {
	vwl mixed verify-at "$W" 0 1048576 121 &&
	vwl mixed verify-at "$W" 1048576 1048576 122 &&
	vwl mixed verify-at "$W" 2097152 524288 123 &&
	vwl mixed verify-at "$W" 2621440 $((4194304 - 2621440)) 121
}
t_check "d: buffered read right after the second O_DIRECT write" check_d
evict
t_check "d: after eviction, right (second write)" check_d

# ---------------------------------------------------------------------
# Rename, and rename over a file: a name's data is its inode's.
R1=$D/r1 R2=$D/r2
wl_cg mixed write "$R1" 4096 131
wl_cg random write "$R2" 4096 132
vwl mixed verify "$R1" 4096 131
vwl random verify "$R2" 4096 132
evict
t_check "rename r1 -> r1b" mv "$R1" "$D/r1b"
t_check "r1b: every byte right" vwl mixed verify "$D/r1b" 4096 131
evict
t_check "rename r2 over r1b" mv "$R2" "$D/r1b"
t_check "r1b is r2's data" vwl random verify "$D/r1b" 4096 132
evict
t_check "r1b is r2's data after eviction" vwl random verify "$D/r1b" 4096 132

# Unlink files whose pages are in the pool, then create sparse files (the
# inode numbers come back): their holes must read as zeros.
for i in 1 2 3; do
	wl_cg random write "$D/u$i" 4096 $((140 + i))
	vwl random verify "$D/u$i" 4096 $((140 + i))
done
evict
rm -f "$D/r1b" "$D"/u?
sync
ok=0
for i in 1 2 3 4 5 6; do
	f=$D/s$i
	wl_cg mixed write-at "$f" 0 65536 $((150 + i)) &&
	cg_run truncate -s 4M "$f" && ok=$((ok + 1))
done
evict
bad=0
for i in 1 2 3 4 5 6; do
	f=$D/s$i
	vwl mixed verify-at "$f" 0 65536 $((150 + i)) || bad=$((bad + 1))
	vwl mixed zeros "$f" 65536 $((4194304 - 65536)) || bad=$((bad + 1))
done
t_check "6 sparse files on reused inodes: data right, holes all zeros" \
	test "$ok" = 6 -a "$bad" = 0
rm -f "$D"/s?

# ---------------------------------------------------------------------
# Unmount and mount: the pool goes with the mount; nothing stale after.
verify_set > /dev/null
evict
t_check "umount with pages in the pool" fs_umount
t_check "mount again" fs_mount
t_check "after remount: every byte of the set right" verify_set
t_check "after remount: o right" check_o
t_check "after remount: t right" check_t
t_check "after remount: d right" check_d
verify_set > /dev/null
hits0=$(st get_hits)
t_check "after remount: re-read pass right" verify_set
tk "after remount: get_hits rose (a new pool serves the mount)" rose get_hits "$hits0"

# ---------------------------------------------------------------------
# Truncate racing reads through the pool.  The file (24 MiB) is larger
# than the cgroup (20 MiB), so the readers' passes push its pages out
# through the pool and read them back from it while the writer truncates
# and rewrites it (a file that fits stays in the page cache: its reads
# never reach the pool).  The evicter adds reclaim at random moments.
# The cgroup is emptied first, so the puts counted are the race file's.
# Whether a truncation finds pages still in the pool (gets are exclusive)
# is timing: the flushes are shown, not checked (the t section above
# checks them where nothing reads).
evict
stop=/tmp/pcache-cc.stop
rm -f "$stop"
( while [ ! -e "$stop" ]; do evict; sleep 0.2; done ) &
evicter=$!
puts0=$(st puts) hits0=$(st get_hits) flushes0=$(st flushes)
t_check "truncate racing two readers for 15 s: no stale byte" \
	wl_cg mixed trunc-race "$D/race" 24576 15
touch "$stop"
wait $evicter
tk "  the race file went through the pool (puts rose)" rose puts "$puts0"
tk "  and its reads came back from it (get_hits rose)" rose get_hits "$hits0"
t_diag "during the race: puts +$(($(st puts) - puts0)), get_hits +$(($(st get_hits) - hits0)), flushes +$(($(st flushes) - flushes0))"
rm -f "$D/race"

# ---------------------------------------------------------------------
# Compressor switch with pages stored: lz4 -> zstd -> lzo -> lz4, each
# pass getting pages put with the compressor before.  The files are held
# open: reclaim may otherwise evict an idle inode, which rightly flushes
# its pages from the pool.
exec 7< "$D/f1" 8< "$D/f2" 9< "$D/f3"
sw_fds=()
for i in 4 5 6; do exec {fd}< "$D/f$i"; sw_fds+=("$fd"); done
verify_set > /dev/null
evict
for c in zstd lzo lz4; do
	s0=$(st stored_pages)
	t_check "switch to $c with $s0 pages stored" tmem_set $E compressor $c
	hits0=$(st get_hits)
	t_check "after the switch to $c: every byte right" verify_set
	tk "  served from the pool (get_hits rose)" rose get_hits "$hits0"
	evict
done
t_check "compressor reads back lz4" test "$(tmem_get $E compressor)" = lz4
exec 7<&- 8<&- 9<&-
for fd in "${sw_fds[@]}"; do exec {fd}<&-; done

# ---------------------------------------------------------------------
# A tiny pool: 1% of RAM holds less than the set.
mem_kib=$(awk '$1 == "MemTotal:" { print $2 }' /proc/meminfo)
lim0=$(st pool_limit_hit) ev0=$(st evicted)
t_check "max_pool_percent=1" tmem_set $E max_pool_percent 1
for p in 1 2; do
	t_check "tiny pool pass $p: every byte right" verify_set
done
t_check "tiny pool: o, t, d right" eval "check_o && check_t && check_d"
t_diag "tiny pool: $(tmem_stats $E)"
tk "tiny pool: pool_limit_hit or evicted rose" \
	eval "rose pool_limit_hit $lim0 || rose evicted $ev0"
size=$(st pool_total_size)
tk "tiny pool: pool_total_size $size <= 1% of RAM + 1 MiB" \
	test "$size" -le $((mem_kib * 1024 / 100 + 1048576))
tmem_set $E max_pool_percent 10

# ---------------------------------------------------------------------
# The shrinker: drop_caches=2 runs the shrinkers (and not the page cache
# invalidation of drop_caches=1).  The files stay open, so their inodes
# are not evicted (which would flush them): open before the eviction,
# which may evict an idle inode (see o above).
exec 7< "$D/f1" 8< "$D/f2" 9< "$D/f3"
for i in 4 5 6; do exec {fd}< "$D/f$i"; fds+=("$fd"); done
verify_set > /dev/null
evict
s0=$(st stored_pages) ev0=$(st evicted)
echo 2 > /proc/sys/vm/drop_caches
echo 2 > /proc/sys/vm/drop_caches
s1=$(st stored_pages) ev1=$(st evicted)
t_diag "shrinker: stored_pages $s0 -> $s1, evicted $ev0 -> $ev1"
tk "shrinker: stored_pages $s0 > 0 before" test "$s0" -gt 0
tk "shrinker: evicted rose or stored_pages fell" \
	test "$ev1" -gt "$ev0" -o "$s1" -lt "$s0"
t_check "shrinker: every byte of the set right after" verify_set
exec 7<&- 8<&- 9<&-
for fd in "${fds[@]}"; do exec {fd}<&-; done
t_check "shrinker: o, t, d right after" eval "check_o && check_t && check_d"

# ---------------------------------------------------------------------
t_diag "end: $(tmem_stats $E)"
rm -rf "$D"
t_check "disable $E" tmem_set $E enabled 0
t_check "umount" fs_umount
cg_teardown
t_check "rmmod pcache" pcache_unload
t_done
