#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# tools/pcachectl (issue 15), against the real sysfs files:
#   - without pcache: status fails with exit 2 and says it is not loaded;
#   - status lists every feature, off at load, and --json gives every
#     knob as the file reads (fault-around's mode unbracketed) and the
#     counters as numbers;
#   - set writes several knobs in the order given; get reads them back;
#   - a value out of its range is refused before anything is written
#     (exit 2, the range named), a knob that does not exist too;
#   - what the kernel refuses is said in words: -EINVAL with what the
#     knob takes and pcache's dmesg line (fault-around's min_bytes above
#     max_bytes), -EBUSY with why (hooks_enabled=0 while replication is
#     on: exit 1, the feature named), and the knobs not written after it;
#   - watch prints the counters' change per interval, as text and JSON
#     lines, and sees fault-around's decisions of a scan made meanwhile;
#   - make install-tools installs it.
. "$(dirname "$0")/lib.sh"

CTL=${PCACHECTL:-$TOP/tools/pcachectl}
FA=$BUILD/selftests/pcache_fa
command -v python3 > /dev/null || t_skip_all "no python3"
[ -x "$FA" ] || t_skip_all "$FA is not built"
OUT=/tmp/pcache-ctl
rm -rf "$OUT"
mkdir -p "$OUT"

# ctl NAME ARGS...: run pcachectl, its stdout and stderr in $OUT/NAME.out
# and .err, its exit status in $OUT/NAME.rc; returns it.
ctl() {
	local name=$1 rc=0
	shift
	"$CTL" "$@" > "$OUT/$name.out" 2> "$OUT/$name.err" || rc=$?
	echo "$rc" > "$OUT/$name.rc"
	return "$rc"
}
rc() { cat "$OUT/$1.rc"; }
err() { tr '\n' ' ' < "$OUT/$1.err"; }
show() { sed 's/^/# /' "$OUT/$1.out" "$OUT/$1.err"; }

pcache_unload
ctl notloaded status
t_check "not loaded: status exits 2 ($(rc notloaded))" test "$(rc notloaded)" = 2
t_check "not loaded: it says so ($(err notloaded))" grep -q "not loaded" "$OUT/notloaded.err"

pcache_load || { t_fail "insmod pcache"; t_done; }
trap 'pcache_unload; fs_umount' EXIT

t_check "status exits 0" ctl status status
show status
for f in replication cleancache frontswap fork faultaround; do
	t_check "status shows $f off" grep -Eq "^$f +off " "$OUT/status.out"
done

# status --json: every knob as its file reads, every counter a number.
t_check "status --json exits 0" ctl json status --json
json_check() {
	python3 - "$OUT/json.out" "$SYSFS" <<'EOF'
import json, os, re, sys
snap = json.load(open(sys.argv[1]))
root = sys.argv[2]
bad = []
for name, f in snap["features"].items():
    for k, v in f["knobs"].items():
        raw = open(os.path.join(root, f["path"], k)).read().strip()
        if k == "mode":
            raw = re.search(r"\[(\w+)\]", raw).group(1)
        if raw != v:
            bad.append("%s.%s %r != %r" % (name, k, v, raw))
    for c, v in f["counters"].items():
        if not isinstance(v, int):
            bad.append("%s.%s not a number" % (name, c))
    if not f["counters"]:
        bad.append("%s has no counter" % name)
if len(snap["features"]) != 5:
    bad.append("features: %s" % sorted(snap["features"]))
if snap["hooks_enabled"] != int(open(root + "/hooks_enabled").read()):
    bad.append("hooks_enabled")
print("\n".join(bad))
sys.exit(1 if bad else 0)
EOF
}
t_check "status --json: five features, every knob as its file reads, counters numbers" json_check

# set: several knobs, in the order given.
t_check "set three knobs and a feature's switch" \
	ctl set1 set replication.min_remote_reads=4 tmem.persistent.compressor=zstd \
	frontswap.max_pool_percent=15 faultaround=adaptive
ctl get1 get replication.min_remote_reads frontswap.compressor \
	tmem.persistent.max_pool_percent faultaround
got=$(tr '\n' ' ' < "$OUT/get1.out")
t_check "  they read back (get: $got)" test "$got" = "4 zstd 15 adaptive "
t_check "  the files say so too" test "$(cat $SYSFS/replication/min_remote_reads)" = 4 \
	-a "$(cat $SYSFS/faultaround/mode)" = "off fixed [adaptive]"
# Order: max_bytes down to 16 KiB is refused while min_bytes is 64 KiB,
# taken once min_bytes is lowered first.
ctl order1 set faultaround.min_bytes=65536 faultaround.max_bytes=16384
t_check "min_bytes 65536 then max_bytes 16384: the kernel refuses the second (exit $(rc order1))" \
	test "$(rc order1)" = 1
show order1
t_check "  in words: EINVAL and what it takes ($(err order1))" \
	grep -q "EINVAL.*it takes a power of two" "$OUT/order1.err"
t_check "  with pcache's dmesg line, once: one write, one refusal ($(grep -c 'kernel: pcache' "$OUT/order1.err"))" \
	test "$(grep -c 'kernel: pcache' "$OUT/order1.err")" = 1
t_check "  the first was written, the second kept" \
	test "$(cat $SYSFS/faultaround/min_bytes)" = 65536 -a "$(cat $SYSFS/faultaround/max_bytes)" = 2097152
t_check "min_bytes 4096 then max_bytes 16384: taken in that order" \
	ctl order2 set faultaround.min_bytes=4096 faultaround.max_bytes=16384
t_check "  both read back" \
	test "$(cat $SYSFS/faultaround/min_bytes)" = 4096 -a "$(cat $SYSFS/faultaround/max_bytes)" = 16384
ctl order3 set faultaround.max_bytes=2097152

# Out of range: refused before anything is written.
ctl range set replication.min_remote_reads=9 replication.max_percent=101
t_check "max_percent=101: refused before writing, exit 2 ($(rc range))" test "$(rc range)" = 2
t_check "  the range named ($(err range))" grep -q "1\.\.100" "$OUT/range.err"
t_check "  the knob before it not written either" \
	test "$(cat $SYSFS/replication/min_remote_reads)" = 4
for bad in "faultaround.fixed_bytes=6144" "faultaround=sideways" "replication=2" \
	   "tmem.persistent.incompressible=maybe" "fork.filesystems=btrfs" \
	   "replication.nodes=" "hooks_enabled=yes"; do
	ctl bad set "$bad"
	t_check "$bad: refused before writing, exit 2, the range named ($(err bad))" \
		test "$(rc bad)" = 2 -a -n "$(grep 'it takes' "$OUT/bad.err")"
done
ctl nosuch set replication.no_such_knob=1
t_check "a knob that does not exist: exit 2 ($(err nosuch))" \
	test "$(rc nosuch)" = 2 -a -n "$(grep 'no such knob' "$OUT/nosuch.err")"
ctl usage set replication
t_check "set without '=': exit 2" test "$(rc usage)" = 2

# What only the kernel knows: an unknown compressor, a busy switch.
ctl comp set tmem.persistent.compressor=nosuchalg
t_check "compressor nosuchalg: the kernel refuses it, exit 1 ($(err comp))" \
	test "$(rc comp)" = 1 -a -n "$(grep EINVAL "$OUT/comp.err")"
t_check "  the compressor kept" test "$(cat $SYSFS/tmem/persistent/compressor)" = zstd
t_check "replication on" ctl on set replication=1
ctl busy set hooks_enabled=0 fork=1
show busy
t_check "hooks_enabled=0 while replication is on: exit 1" test "$(rc busy)" = 1
t_check "  EBUSY, and why: the features on, named ($(err busy))" \
	grep -q "EBUSY.*switch them off first" "$OUT/busy.err"
t_check "  replication named as on" grep -q "on now: .*replication" "$OUT/busy.err"
t_check "  pcache's dmesg line about it" grep -q "kernel: pcache" "$OUT/busy.err"
t_check "  fork=1 after it not written, and said so" \
	test "$(cat $SYSFS/fork/enabled)" = 0 -a -n "$(grep 'not written: fork.enabled' "$OUT/busy.err")"
t_check "  hooks_enabled still 1" test "$(cat $SYSFS/hooks_enabled)" = 1
t_check "status shows replication on" sh -c "'$CTL' status | grep -Eq '^replication +on '"

# watch: deltas per interval while a scan faults through adaptive windows.
fs_setup || t_fail "make the test filesystem"
mkdir -p "$MNT/ctl"
"$FA" write "$MNT/ctl/f" 4096 1 > /dev/null
echo 1048576 > $SYSFS/faultaround/max_bytes
"$CTL" watch 1 -n 6 --json > "$OUT/watchj.out" 2> "$OUT/watchj.err" &
w=$!
# The scan once watch has printed its first interval: its counts fall in
# a later one.
for i in $(seq 100); do [ -s "$OUT/watchj.out" ] && break; sleep 0.2; done
"$FA" seq "$MNT/ctl/f" 4096 1 > /dev/null
wait $w
t_check "watch --json: 6 lines ($(wc -l < "$OUT/watchj.out"))" test "$(wc -l < "$OUT/watchj.out")" = 6
sum=$(python3 -c '
import json, sys
print(sum(json.loads(l)["counters"]["faultaround.faults"] for l in open(sys.argv[1])))' "$OUT/watchj.out")
t_check "watch --json: the scan's fault-around decisions counted ($sum)" test "${sum:-0}" -gt 0
t_check "watch 1 -n 2: a header and two lines of numbers" ctl watch watch 1 -n 2
show watch
t_check "  the columns: repl ... fa_around" grep -q "repl .*fa_around" "$OUT/watch.out"
t_check "  two lines of numbers" test "$(grep -Ec '^[ 0-9-]+$' "$OUT/watch.out")" = 2

# make install-tools.
DEST=/tmp/pcache-ctl-inst
rm -rf "$DEST"
t_check "make install-tools DESTDIR=$DEST" make -s -C "$TOP" install-tools DESTDIR="$DEST"
t_check "  pcachectl installed in /usr/local/sbin, runs" \
	sh -c "'$DEST/usr/local/sbin/pcachectl' --help | grep -q 'pcachectl status'"
rm -rf "$DEST" "$MNT/ctl"
echo off > $SYSFS/faultaround/mode
echo 0 > $SYSFS/replication/enabled
t_done
