#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Frontswap (tmem/persistent) data integrity.  A swap file on the test
# disk, a process in a memory cgroup with an anonymous working set three
# times memory.max, of known half-compressible content: it fills its
# memory, checks every byte, then waits, and checks every byte again each
# time it is told to, while this test changes things under it:
# the pool takes the swapped pages (stored_pages, few device writes);
# the compressor switches with pages stored; a tiny pool with writeback on
# and off; swapoff with pages stored; the front disabled with pages
# stored, refused with EBUSY while their writeback cannot happen and done
# once it can; rmmod with pages stored (written back first).  Nothing is
# lost.
. "$(dirname "$0")/lib.sh"

[ -x "$WL" ] || t_skip_all "$WL is not built"
[ -b "$DISK" ] || t_skip_all "no test disk $DISK"

P=persistent
CG_MAX=32M
WS_MIB=96			# the working set
SWAP_MIB=192
SWAPF=$MNT/tmem-swapfile
SEED=4242
OUT_MIN=$(((WS_MIB - 32) * 256 / 2))	# pages that must have gone out

pcache_unload
pcache_load || t_skip_all "cannot load pcache"
if [ ! -d "$TMEM/$P" ]; then
	t_fail "$TMEM/$P exists"
	pcache_unload
	t_done
fi
fs_setup || t_skip_all "cannot make the test filesystem"
cg_setup $CG_MAX || t_skip_all "no memory cgroup"
echo 0 > /sys/module/zswap/parameters/enabled 2>/dev/null

st() { tmem_stat $P "$1"; }
rose() { [ "$(st "$1")" -gt "$2" ]; }
disk_w() { disk_stat 7; }

cleanup() {
	[ -z "${HOLD_JOB:-}" ] || { kill -KILL "$HOLD_PID" 2>/dev/null; wait "$HOLD_JOB"; }
	echo max > "$CG/memory.max"
	swap_teardown "$SWAPF"
	rm -f "$SWAPF"
	pcache_loaded && { tmem_set $P enabled 0; pcache_unload; }
	fs_umount
	cg_teardown
}

# The pool sits in front of swap devices that are switched on while the
# front is enabled: enable first, then swapon.
t_check "enable $P" tmem_set $P enabled 1
t_check "swapon a ${SWAP_MIB} MiB swap file" swap_setup $SWAP_MIB "$SWAPF"

# ---------------------------------------------------------------------
# Swap out to the pool and back.
o0=$(vmstat_get pswpout) i0=$(vmstat_get pswpin) w0=$(disk_w)
puts0=$(st puts) hits0=$(st get_hits)
if ! hold_start $WS_MIB $SEED; then
	t_fail "fill $WS_MIB MiB in a $CG_MAX cgroup and check every byte (workload died)"
	sed 's/^/# /' "$HOLD_DIR/log"
	cleanup
	t_done
fi
t_ok "fill $WS_MIB MiB of anonymous memory in a $CG_MAX cgroup, every byte right"
t_check "second pass: every byte right after swapping in" hold_check
puts=$(($(st puts) - puts0)) out=$(($(vmstat_get pswpout) - o0))
in=$(($(vmstat_get pswpin) - i0)) wsec=$(($(disk_w) - w0))
stored=$(st stored_pages)
t_diag "puts $puts, pswpout $out, pswpin $in, device sectors written $wsec"
t_diag "$(tmem_stats $P)"
t_check "pages were swapped out through the pool (puts $puts >= $OUT_MIN)" \
	test "$puts" -ge $OUT_MIN
t_check "stats/stored_pages > 0 ($stored)" test "$stored" -gt 0
t_check "swapped-out pages came back from the pool (get_hits rose)" rose get_hits "$hits0"
t_check "pswpout ($out) is under a tenth of the pages put ($puts)" \
	test $((out * 10)) -le "$puts"
t_check "device sectors written ($wsec) are under a tenth of the pages put" \
	test "$wsec" -le $((puts * 8 / 10))
t_check "pswpin ($in) is under a tenth of the pages put" test $((in * 10)) -le "$puts"
pb=$(st pool_bytes)
t_check "stored pages are compressed (pool_bytes $pb < 75% of stored_pages * 4096)" \
	test $((pb * 4)) -lt $((stored * 4096 * 3))
t_check "stats/pool_total_size > 0" rose pool_total_size 0
t_check "stats/pools > 0" rose pools 0

# ---------------------------------------------------------------------
# Compressor switch with pages stored: each check loads the pages put
# with the compressor before and puts them again with the new one.
for c in zstd lzo lz4; do
	s=$(st stored_pages)
	t_check "switch to $c with $s pages stored" tmem_set $P compressor $c
	hits0=$(st get_hits)
	t_check "after the switch to $c: every byte right" hold_check
	t_check "  loaded from the pool (get_hits rose)" rose get_hits "$hits0"
done
t_check "stored_pages > 0 after the switches" rose stored_pages 0

# ---------------------------------------------------------------------
# A tiny pool (1% of RAM, less than the swapped-out part).
mem_kib=$(awk '$1 == "MemTotal:" { print $2 }' /proc/meminfo)
lim_bytes=$((mem_kib * 1024 / 100 + 1048576))
t_check "max_pool_percent=1" tmem_set $P max_pool_percent 1
# writeback=1: the oldest pages go to the device to make room.
lim0=$(st pool_limit_hit) wb0=$(st written_back_pages) o0=$(vmstat_get pswpout)
# One pass re-stores every page (the workload dirties each one it checks).
t_check "tiny pool, writeback=1: every byte right" hold_check
t_diag "tiny pool, writeback=1: $(tmem_stats $P)"
t_check "tiny pool, writeback=1: pool_limit_hit rose" rose pool_limit_hit "$lim0"
t_check "tiny pool, writeback=1: written_back_pages rose" rose written_back_pages "$wb0"
t_check "tiny pool, writeback=1: pswpout rose (pages reached the device)" \
	test "$(vmstat_get pswpout)" -gt "$o0"
size=$(st pool_total_size)
t_check "tiny pool: pool_total_size $size <= 1% of RAM + 1 MiB" test "$size" -le $lim_bytes
# writeback=0: a full pool rejects, the page goes to the device as without pcache.
t_check "writeback=0" tmem_set $P writeback 0
lim0=$(st pool_limit_hit) rj0=$(st put_reject_pool_limit)
wb0=$(st written_back_pages) o0=$(vmstat_get pswpout)
# One pass re-stores every page (the workload dirties each one it checks).
t_check "tiny pool, writeback=0: every byte right" hold_check
t_diag "tiny pool, writeback=0: $(tmem_stats $P)"
t_check "tiny pool, writeback=0: put_reject_pool_limit rose" rose put_reject_pool_limit "$rj0"
t_check "tiny pool, writeback=0: pool_limit_hit rose" rose pool_limit_hit "$lim0"
t_check "tiny pool, writeback=0: written_back_pages unchanged" \
	test "$(st written_back_pages)" = "$wb0"
t_check "tiny pool, writeback=0: pswpout rose (rejected pages went to the device)" \
	test "$(vmstat_get pswpout)" -gt "$o0"
size=$(st pool_total_size)
t_check "tiny pool: pool_total_size $size <= 1% of RAM + 1 MiB" test "$size" -le $lim_bytes
tmem_set $P writeback 1
tmem_set $P max_pool_percent 20
t_check "pool back to 20%: every byte right" hold_check

# ---------------------------------------------------------------------
# swapoff with pages stored: they come back from the pool, none lost.
s=$(st stored_pages)
t_check "before swapoff: stored_pages > 0 ($s)" test "$s" -gt 0
echo max > "$CG/memory.max"		# room for all of it, no OOM kill
t_check "swapoff with $s pages stored and the process alive" swap_teardown "$SWAPF"
t_check "after swapoff: stored_pages is 0" test "$(st stored_pages)" = 0
t_check "after swapoff: every byte right" hold_check
t_check "swapon again" swap_setup $SWAP_MIB "$SWAPF"
echo $CG_MAX > "$CG/memory.max"
puts0=$(st puts)
t_check "after swapon: every byte right" hold_check
t_check "after swapon: pages go to the pool again (puts rose, stored_pages > 0)" \
	eval "rose puts $puts0 && rose stored_pages 0"

# ---------------------------------------------------------------------
# The front disabled at runtime with pages stored.  It writes every page
# back first (pcache_swap_writeback(): a new swap cache folio for the
# slot, filled from the pool and written to the device) and, if that
# cannot finish within 10 s, refuses with EBUSY and stays enabled.  Which
# of the two must happen depends on a set-up this test controls.
#
# (b) Writeback cannot happen: the disabling write runs in the writing
# task (sysfs store -> pcache_frontswap_set_enabled() -> frontswap_writeback()), so
# fail_page_alloc with its task filter fails every page allocation of that
# one task, and so the swap cache folio of every writeback.  User pages
# (__GFP_HIGHMEM) are left alone so that the writer itself runs on.
FA=/sys/kernel/debug/fail_page_alloc
# disable_failing: echo 0 > enabled from a task whose page allocations
# fail; prints the error.  The file is opened before the failing starts.
disable_failing() {
	(
		exec 3> "$TMEM/$P/enabled" || exit
		echo 1 > "/proc/$BASHPID/make-it-fail" || exit
		echo 0 >&3
	) 2>&1
}
if [ -d $FA ] && [ -e /proc/self/make-it-fail ]; then
	s=$(st stored_pages) wb0=$(st written_back_pages)
	echo Y > $FA/task-filter
	echo N > $FA/ignore-gfp-wait
	echo Y > $FA/ignore-gfp-highmem
	echo 1 > $FA/verbose
	echo 0 > $FA/min-order
	echo 1 > $FA/interval
	echo -1 > $FA/times
	echo 0 > $FA/space
	echo 100 > $FA/probability
	dl=$(dmesg | wc -l)
	t0=$(date +%s)
	err=$(disable_failing)
	took=$(($(date +%s) - t0))
	echo 0 > $FA/probability
	echo N > $FA/task-filter
	t_diag "disable with page allocations failing: '${err:-success}' after $took s; $(tmem_stats $P)"
	dmesg | tail -n +$((dl + 1)) > /tmp/fs-dmesg
	t_diag "dmesg: $(grep -E 'frontswap|FAULT_INJECTION' /tmp/fs-dmesg | head -3 | tr '\n' ' ')"
	if [[ "$err" == *"Device or resource busy"* ]]; then
		t_ok "writeback impossible: disable $P with $s pages stored refused with EBUSY"
	else
		t_fail "writeback impossible: disable $P with $s pages stored: got '${err:-success}', want EBUSY"
	fi
	t_check "  after trying for 10 s ($took s)" test "$took" -ge 9
	t_check "  enabled stays 1" test "$(tmem_get $P enabled)" = 1
	# (Swap-ins elsewhere may take a few: "none written back" is exact.)
	t_check "  the stored pages kept (stored_pages $(st stored_pages) >= 90 % of $s)" \
		test $(($(st stored_pages) * 10)) -ge $((s * 9))
	t_check "  none written back (written_back_pages +$(($(st written_back_pages) - wb0)))" \
		test "$(st written_back_pages)" = "$wb0"
	t_check "  dmesg says why" \
		grep -q 'cannot disable: .* stored pages could not be written back' /tmp/fs-dmesg
	hits0=$(st get_hits) puts0=$(st puts)
	t_check "  after the refused disable: every byte right" hold_check
	t_check "  the pool still serves its pages (get_hits +$(($(st get_hits) - hits0)))" \
		rose get_hits "$hits0"
	t_check "  and takes new ones (puts +$(($(st puts) - puts0)))" rose puts "$puts0"
	rm -f /tmp/fs-dmesg
else
	t_skip "disable with writeback impossible: no fail_page_alloc task filter"
fi

# (a) Writeback can happen (nothing fails): disable must succeed, every
# stored page written to the device first.
s=$(st stored_pages) w0=$(disk_w) wb0=$(st written_back_pages)
o0=$(vmstat_get pswpout)
t_check "before disabling: stored_pages > 0 ($s)" test "$s" -gt 0
err=$( (echo 0 > "$TMEM/$P/enabled") 2>&1)
out=$(($(vmstat_get pswpout) - o0)) wsec=$(($(disk_w) - w0))
t_diag "written_back_pages $wb0 -> $(st written_back_pages), pswpout +$out, sectors written +$wsec"
t_check "writeback possible: disable $P with $s pages stored succeeds (got '${err:-success}')" \
	test -z "$err"
t_check "  enabled reads 0" test "$(tmem_get $P enabled)" = 0
t_check "  stored_pages is 0 after" test "$(st stored_pages)" = 0
t_check "  every stored page was written back (written_back_pages +$(($(st written_back_pages) - wb0)) >= $s)" \
	test $(($(st written_back_pages) - wb0)) -ge "$s"
t_check "  all $s pages were written to the device first (pswpout +$out, sectors +$wsec)" \
	test "$out" -ge "$s" -o "$wsec" -ge $((s * 8))
t_check "after disabling: every byte right" hold_check
# On again, in front of a swap device switched on after it.
echo max > "$CG/memory.max"
swap_teardown "$SWAPF"
tmem_set $P enabled 1
t_check "enable $P again" test "$(tmem_get $P enabled)" = 1
swap_setup $SWAP_MIB "$SWAPF"
echo $CG_MAX > "$CG/memory.max"
t_check "enabled again: every byte right" hold_check

# ---------------------------------------------------------------------
# rmmod with pages stored and the process alive: pcache writes them all
# back to the swap device first.
s=$(st stored_pages) o0=$(vmstat_get pswpout) i0=$(vmstat_get pswpin) w0=$(disk_w)
t_check "before rmmod: stored_pages > 0 ($s)" test "$s" -gt 0
t_check "rmmod pcache with $s pages stored" pcache_unload
out=$(($(vmstat_get pswpout) - o0)) wsec=$(($(disk_w) - w0))
t_diag "rmmod: $s stored pages, pswpout +$out, sectors written +$wsec"
t_check "rmmod wrote the $s stored pages to the device (pswpout +$out, sectors +$wsec)" \
	test "$out" -ge "$s" -o "$wsec" -ge $((s * 8))
t_check "after rmmod: every byte right (read back from the device)" hold_check
t_check "  the pages came from the device (pswpin rose)" \
	test "$(vmstat_get pswpin)" -gt "$i0"
t_check "last check, workload exits 0" hold_stop

cleanup
t_done
