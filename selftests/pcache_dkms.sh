#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# pcache installed and loaded as a user does.
#
# The module parameters (the tree's pcache.ko, by insmod): each feature's
# parameter switches it on at load as a write of the same value to its
# sysfs switch would; a value the switch refuses fails the load with its
# error (EINVAL for a bad value) and a dmesg line naming the parameter,
# and leaves nothing loaded, whatever was switched on before it.
#
# DKMS (what tools/dkms-build.sh, run by `make test` before the guest
# boots, left in build/dkms/: the tree `dkms install` wrote for the test
# kernel, with depmod's index): modprobe finds the module by name there,
# modinfo shows it, options from a modprobe.d file take effect, and
# modprobe -r unloads it.  The guest's /lib/modules is the host's, read
# only, without the test kernel's release, so modprobe and modinfo look in
# build/dkms/root/lib/modules/KREL (-d, -b); the modprobe.d file is
# /run/modprobe.d/pcache.conf, one of modprobe's own configuration
# directories (the guest's /run is its own).  dkms add, build, install and
# remove, and dkms.conf's refusal of an unpatched kernel, are checked on
# the host by tools/dkms-build.sh.
. "$(dirname "$0")/lib.sh"

ko=${PCACHE_DKMS_KO:-$BUILD/dkms/pcache.ko}
root=$(dirname "$ko")/root
conf=/run/modprobe.d/pcache.conf
FEATS="cleancache frontswap replication fork faultaround"
# EINVAL from init_module, as insmod and modprobe say it.
EINVAL_INSMOD="Invalid parameters"
EINVAL_MODPROBE="Invalid argument"

trap 'rm -f "$conf"; pcache_unload' EXIT
pcache_unload

# param_file FEAT: the sysfs switch FEAT's parameter writes.
param_file() {
	case $1 in
	cleancache) echo "$SYSFS/tmem/ephemeral/enabled" ;;
	frontswap) echo "$SYSFS/tmem/persistent/enabled" ;;
	faultaround) echo "$SYSFS/faultaround/mode" ;;
	*) echo "$SYSFS/$1/enabled" ;;
	esac
}
# is_on FEAT: FEAT's switch reads on (fault-around: adaptive).
is_on() {
	local v
	v=$(cat "$(param_file "$1")") || return 1
	[ "$v" = 1 ] || [ "$v" = "off fixed [adaptive]" ]
}
# switches: every feature's switch, on one line, for diagnostics.
switches() {
	local f
	for f in $FEATS; do
		printf '%s=%s ' "$f" "$(cat "$(param_file "$f")" 2>/dev/null || echo -)"
	done
}
# tc NAME DIAG CMD...: t_check, and DIAG as a diagnostic if CMD fails.
tc() {
	local name=$1 diag=$2
	shift 2
	if "$@"; then t_ok "$name"; else t_fail "$name"; t_diag "$diag"; fi
}
# nr_on: how many features are on.
nr_on() {
	local f n=0
	for f in $FEATS; do is_on "$f" && n=$((n + 1)); done
	echo $n
}
# new_dmesg: what the kernel printed since the last mark.
mark() { MARK=$(dmesg | wc -l); }
new_dmesg() { dmesg | tail -n +"$((MARK + 1))"; }
# gone: nothing of pcache is left (a failed load).
gone() { ! pcache_loaded && [ ! -e "$SYSFS" ] && [ ! -e "$DEBUGFS" ]; }

# refused WHAT ERRNO_TEXT DMESG_LINE LOADER...: LOADER fails with the
# errno whose text is ERRNO_TEXT, dmesg has DMESG_LINE (a grep -E
# pattern), and nothing is left loaded.
refused() {
	local what=$1 errtext=$2 line=$3 err rc
	shift 3
	mark
	err=$("$@" 2>&1)
	rc=$?
	if [ "$rc" = 0 ]; then
		t_fail "$what: refused (loaded: $(switches))"
		pcache_unload
		return
	fi
	tc "$what: refused, '$errtext'" "exit $rc: $err" grep -q "$errtext" <<< "$err"
	tc "  dmesg: $line" "dmesg: $(new_dmesg | tr '\n' '|')" \
		grep -qE "$line" <<< "$(new_dmesg)"
	t_check "  nothing left loaded" gone
}

# ---- the module parameters, with insmod of the tree's module.
for f in cleancache frontswap replication fork; do
	t_check "insmod $f=1" pcache_load "$f=1"
	tc "  $f is on" "$(switches)" is_on "$f"
	t_check "  parameters/$f reads 1, mode 0444" \
		test "$(cat "/sys/module/pcache/parameters/$f")" = 1 -a \
		     "$(stat -c %a "/sys/module/pcache/parameters/$f")" = 444
	t_check "  rmmod" pcache_unload
	file=$(param_file "$f")
	refused "insmod $f=yes" "$EINVAL_INSMOD" \
		"pcache: parameter $f=yes: invalid, ${file#"$SYSFS"/} takes 0 or 1" \
		pcache_load "$f=yes"
done
for m in fixed adaptive; do
	t_check "insmod faultaround=$m" pcache_load "faultaround=$m"
	t_check "  faultaround/mode reads $m" \
		grep -q "\[$m\]" "$SYSFS/faultaround/mode"
	t_check "  rmmod" pcache_unload
done
refused "insmod faultaround=on" "$EINVAL_INSMOD" \
	"pcache: parameter faultaround=on: invalid, faultaround/mode takes off, fixed or adaptive" \
	pcache_load faultaround=on

t_check "insmod with every feature's parameter" pcache_load cleancache=1 \
	frontswap=1 replication=1 fork=1 faultaround=adaptive
on=$(nr_on)
tc "  all five on ($on)" "$(switches)" test "$on" = 5
t_check "  rmmod" pcache_unload
t_check "insmod with empty values and 0: the defaults" pcache_load \
	cleancache= frontswap=0 replication=0 fork= faultaround=off
on=$(nr_on)
tc "  none on ($on)" "$(switches)" test "$on" = 0
t_check "  rmmod" pcache_unload
# The last parameter applied is refused: the four switched on before it
# are switched off and unloaded with the rest.
refused "insmod with faultaround=bogus after four features on" \
	"$EINVAL_INSMOD" "pcache: parameter faultaround=bogus: invalid" \
	pcache_load cleancache=1 frontswap=1 replication=1 fork=1 faultaround=bogus
t_check "  its features were on before the refusal" \
	grep -q "replication: enabled" <<< "$(new_dmesg)"
# A switch's own refusal, not a bad value: its error and its dmesg line.
refused "insmod hooks_enabled=0 fork=1" "Device or resource busy" \
	"pcache: parameter fork=1: fork/enabled refused it \(-16\)" \
	pcache_load hooks_enabled=0 fork=1
t_check "  and the switch's own dmesg line" \
	grep -q "fork/enabled: hooks_enabled is 0" <<< "$(new_dmesg)"

# ---- DKMS: modprobe of what dkms install wrote.
if [ ! -f "$ko" ]; then
	t_skip "DKMS: no DKMS-built module at $ko (see build/dkms/log)"
	t_done
fi
krel=$(uname -r)
dir=$root/lib/modules/$krel
inst=$dir/updates/dkms/pcache.ko
t_check "DKMS: built for the running kernel ($(cat "$(dirname "$ko")/krel"))" \
	test "$(cat "$(dirname "$ko")/krel")" = "$krel"
t_check "  dkms install's pcache.ko and depmod's index are there" \
	test -f "$inst" -a -f "$dir/modules.dep.bin"
# modprobe_ ARGS...: modprobe in the DKMS install tree; after a load,
# where pcache's code is for run_guest.sh's kmemleak check (as
# pcache_load does).
modprobe_() {
	modprobe -d "$root" "$@" || return
	[ -z "${PCACHE_TEXT_LOG:-}" ] || ! pcache_loaded ||
		cat "$DEBUGFS/text" >> "$PCACHE_TEXT_LOG" 2>/dev/null
	return 0
}
t_check "modprobe resolves pcache to dkms install's file" \
	grep -qx "insmod $inst *" <<< "$(modprobe -d "$root" --show-depends pcache)"
info=$(modinfo -b "$root" pcache 2>&1)
t_diag "modinfo: $(grep -E '^(filename|version|vermagic):' <<< "$info" | tr -s ' ' | tr '\n' '|')"
t_check "modinfo pcache: that file" grep -qx "filename: *$inst" <<< "$info"
t_check "  version $(sed -n 's/^PACKAGE_VERSION="\(.*\)"/\1/p' "$TOP/dkms.conf") (dkms.conf)" \
	grep -qx "version: *$(sed -n 's/^PACKAGE_VERSION="\(.*\)"/\1/p' "$TOP/dkms.conf")" <<< "$info"
t_check "  vermagic of the running kernel" grep -q "^vermagic: *$krel " <<< "$info"
t_check "  every parameter described" \
	test "$(grep -cE '^parm: *(hooks_enabled|cleancache|frontswap|replication|fork|faultaround):.+ \([a-z]+\)$' <<< "$info")" = 6

mkdir -p "$(dirname "$conf")"
echo "options pcache cleancache=1 frontswap=1 replication=1 fork=1 faultaround=adaptive" > "$conf"
t_check "modprobe reads $conf" \
	grep -q "^options pcache cleancache=1 frontswap=1 replication=1 fork=1 faultaround=adaptive" \
	<<< "$(modprobe -c 2>/dev/null)"
t_check "modprobe pcache" modprobe_ pcache
# The build ID: the tree's module, from the same sources, has another.
loaded_id=$(tail -c 20 /sys/module/pcache/notes/.note.gnu.build-id 2>/dev/null |
	    od -An -tx1 | tr -d ' \n')
file_id=$(readelf -n "$inst" | sed -n 's/^ *Build ID: *//p')
tc "  the module loaded is the file dkms install wrote (build ID)" \
	"loaded $loaded_id, $inst $file_id" test -n "$file_id" -a "$loaded_id" = "$file_id"
on=$(nr_on)
tc "  $conf's options took effect: all five on ($on)" "$(switches)" \
	test "$on" = 5
t_check "  parameters/ shows them" \
	test "$(cat /sys/module/pcache/parameters/faultaround)" = adaptive
before=$(hooks_total)
poke_hooks
t_check "  its hooks fire" test "$(hooks_total)" -gt "$before"
t_check "modprobe -r pcache" modprobe -d "$root" -r pcache
t_check "  unloaded" gone
echo "options pcache fork=2" > "$conf"
refused "modprobe with $conf's fork=2" "$EINVAL_MODPROBE" \
	"pcache: parameter fork=2: invalid" modprobe_ pcache
rm -f "$conf"
t_check "modprobe pcache without options" modprobe_ pcache
on=$(nr_on)
tc "  none on ($on)" "$(switches)" test "$on" = 0
t_check "modprobe -r pcache" modprobe -d "$root" -r pcache
t_done
