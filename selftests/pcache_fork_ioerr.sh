#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# A write error on the I/O of a folio forked out of the page cache (fork/,
# issue 12).  The hook series lets mapping_set_error() ignore a NULL
# mapping, because ext4_finish_bio() and mpage_write_end_io() record a
# write error through folio->mapping, which a forked-off folio no longer
# has.  This checks that the error is neither an oops nor lost data:
#
#  - null_blk made through configfs (memory backed, 512-byte sectors,
#    every request completing after 20 ms, stable writes), ext4 with
#    1 KiB blocks, so that a page is four blocks and a write of one block
#    leaves three of them to the fork's own dirtying;
#  - a 4 KiB file is written and synced (P), then the device's sectors of
#    its page are made bad (null_blk badblocks), the page is rewritten (A)
#    and its writeback started (sync_file_range), and at once one of its
#    blocks is rewritten (B): the write forks the page under writeback;
#  - the old folio's I/O fails (EIO on every block of A);
#  - the sectors are made good again, then fsync().
#
# What must happen, and is asserted: the fork happened; ext4 reported the
# error of A's write; the first fsync() returns EIO (ext4_end_bio() records
# the error on the inode's mapping, which the fork does not change) and the
# second returns 0; and the newer copy was written over all four blocks,
# so the device holds A with B in block 1, every byte, read raw with
# O_DIRECT after umount (and the file reads the same after mount).  A copy
# whose clean blocks were not rewritten would leave P on the device in
# blocks 0, 2 and 3.
. "$(dirname "$0")/lib.sh"

PF=$BUILD/selftests/pcache_fork
NBCFG=/sys/kernel/config/nullb/pcache-ioerr
FM=$MNT-ioerr
FK=$SYSFS/fork
WORK=/tmp/pcache-fork-ioerr

[ -x "$PF" ] || t_skip_all "$PF is not built"
need_null_blk

cleanup() {
	umount "$FM" 2>/dev/null
	pcache_unload
	if [ -d "$NBCFG" ]; then
		echo 0 > "$NBCFG/power" 2>/dev/null
		rmdir "$NBCFG"
	fi
	rmmod null_blk 2>/dev/null
	rm -rf "$WORK"
}
trap cleanup EXIT

# nb_make: a 128 MiB memory-backed null_blk from configfs (badblocks are
# a configfs attribute only); sets DEV.
nb_make() {
	if [ -f "$NB_KO" ]; then
		insmod "$NB_KO" nr_devices=0
	else
		modprobe null_blk nr_devices=0
	fi || return 1
	mkdir "$NBCFG" || return 1
	echo 1 > "$NBCFG/memory_backed" &&
		echo 128 > "$NBCFG/size" &&
		echo 512 > "$NBCFG/blocksize" &&
		echo 2 > "$NBCFG/irqmode" &&
		echo 20000000 > "$NBCFG/completion_nsec" &&
		echo 1 > "$NBCFG/power" || return 1
	DEV=/dev/${NBCFG##*/}		# a configfs null_blk has its item's name
	udevadm settle 2>/dev/null
	[ -b "$DEV" ] || return 1
	echo 1 > "/sys/block/${DEV#/dev/}/queue/stable_writes"
}

nb_make || t_skip_all "cannot make a null_blk through configfs"
mkdir -p "$FM" "$WORK"
mkfs.ext4 -q -F -b 1024 -E lazy_itable_init=0,lazy_journal_init=0 "$DEV" \
	> /dev/null 2>&1 && mount -t ext4 "$DEV" "$FM" ||
	t_skip_all "cannot make and mount ext4 on $DEV"
pcache_load || { t_fail "insmod pcache"; t_done; }
t_check "fork-on-write switched on" sh -c "echo 1 > $FK/enabled"

# The page's contents, one byte value per 1 KiB block: P (synced first),
# A (the forked-off folio's, whose write fails), B (block 1 rewritten).
F=$FM/f
perl -e 'print map { chr(ord("p") + $_) x 1024 } 0..3' > "$WORK/P"
perl -e 'print map { chr(ord("A") + $_) x 1024 } 0..3' > "$WORK/A"
perl -e 'print "A" x 1024, "x" x 1024, "C" x 1024, "D" x 1024' > "$WORK/expect"
cp "$WORK/P" "$F" && sync
"$PF" fiemap "$F" "$WORK/map" > /dev/null
phys=$(awk '$1 == 0 { print $2 }' "$WORK/map")
[ -n "$phys" ] || { t_fail "page 0 of $F is mapped on disk"; t_done; }
sector=$((phys / 512))
t_diag "page 0 of $F at byte $phys of $DEV (sector $sector)"
dd if="$DEV" bs=512 skip=$sector count=8 iflag=direct of="$WORK/raw0" 2>/dev/null
t_check "the device holds P before the test" cmp "$WORK/P" "$WORK/raw0"

# The write sequence, from one process: the fsync() results are those of
# the file description that wrote A and B.
cat > "$WORK/seq.pl" << 'EOF'
use strict;
use warnings;
use Fcntl;
use IO::Handle;

my ($file, $fk, $bb, $first, $last) = @ARGV;
sub get { open(my $f, '<', $_[0]) or die "$_[0]: $!"; my $v = <$f>; chomp $v; $v }
sub put { open(my $f, '>', $_[0]) or die "$_[0]: $!"; print $f $_[1]; close($f) or die "$_[0] <- $_[1]: $!" }
sub pw {
	my ($fh, $data, $off) = @_;
	sysseek($fh, $off, 0) or die "seek: $!";
	syswrite($fh, $data) == length($data) or die "pwrite: $!";
}

sysopen(my $fh, $file, O_RDWR) or die "$file: $!";
my $forked = get("$fk/stats/forked");
put($bb, "+$first-$last");
pw($fh, join('', map { chr(ord('A') + $_) x 1024 } 0..3), 0);
# sync_file_range(fd, 0, 4096, SYNC_FILE_RANGE_WRITE): start, not wait
syscall(277, fileno($fh), 0, 4096, 2) == 0 or die "sync_file_range: $!";
pw($fh, 'x' x 1024, 1024);
print "forked ", get("$fk/stats/forked") - $forked, "\n";
for (1..200) {
	last if get("$fk/stats/in_flight") == 0;
	select(undef, undef, undef, 0.05);
}
print "in_flight ", get("$fk/stats/in_flight"), "\n";
put($bb, "-$first-$last");
for my $n (1, 2) {
	my $err = $fh->sync ? 0 : $! + 0;
	print "fsync$n $err\n";
}
close($fh);
EOF
dmesg > "$WORK/dmesg0"
perl "$WORK/seq.pl" "$F" "$FK" "$NBCFG/badblocks" $sector $((sector + 7)) \
	> "$WORK/out" 2>&1
sed 's/^/# /' "$WORK/out"
ino=$(stat -c %i "$F")
out() { awk -v k="$1" '$1 == k { print $2 }' "$WORK/out"; }
t_check "the rewrite of block 1 forked the page under writeback" test "$(out forked)" = 1
t_check "the forked-off folio's I/O ended" test "$(out in_flight)" = 0
t_check "its write failed: ext4 reported an I/O error writing to inode $ino" \
	sh -c "dmesg | tail -n +$(($(wc -l < "$WORK/dmesg0") + 1)) | grep -q 'I/O error 10 writing to inode $ino '"
t_check "the first fsync() reports the error: EIO" test "$(out fsync1)" = 5
t_check "the second fsync() returns 0" test "$(out fsync2)" = 0
t_check "no bad blocks left on the device" test -z "$(cat "$NBCFG/badblocks")"
umount "$FM"
dd if="$DEV" bs=512 skip=$sector count=8 iflag=direct of="$WORK/raw" 2>/dev/null
t_check "the device holds the newer copy, A with B in block 1, every byte" \
	cmp "$WORK/expect" "$WORK/raw"
if ! cmp -s "$WORK/expect" "$WORK/raw"; then
	t_diag "the device's page (od -c):"
	od -A d -c "$WORK/raw" | head -16 | sed 's/^/#   /'
fi
mount -t ext4 "$DEV" "$FM"
t_check "the file reads the same after mount" cmp "$WORK/expect" "$F"
umount "$FM"
t_check "fork-on-write switched off" sh -c "echo 0 > $FK/enabled"
t_done
