#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# pcache through DKMS as a user installs it, against the patched tree in
# build/linux (release KREL): `dkms add`, `dkms build`, `dkms install`,
# then `dkms remove`, and that dkms.conf refuses a kernel without the hook
# series, saying what it lacks.  Prints one "ok - ..." or "not ok - ..."
# line per check and exits non-zero if any failed (tools/run-tests.sh's
# DKMS step).  What the guest needs stays in BUILD_DIR/dkms/:
#
#   root/lib/modules/KREL/	what `dkms install` put there
#				(updates/dkms/pcache.ko) and depmod's index
#				of it, for the guest's `modprobe -d root`
#				(selftests/pcache_dkms.sh)
#   pcache.ko			the same module
#   krel			KREL
#   log				what dkms and depmod printed
#
# DKMS works in trees of its own under BUILD_DIR/dkms/ (--dkmstree,
# --sourcetree, --installtree): this never touches /usr/src,
# /var/lib/dkms or /lib/modules, and leaves no DKMS state behind.  The
# install tree holds what a kernel's `make modules_install` puts next to
# its modules (modules.order, modules.builtin*), not the kernel's own
# modules.  DKMS runs depmod on /lib/modules only, so the install runs
# with --no-depmod and depmod runs here, on the install tree.
#
#   tools/dkms-build.sh [BUILD_DIR]
set -uo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$top/build}
out=$build/dkms
tree=$build/linux
ver=$(sed -n 's/^PACKAGE_VERSION="\(.*\)"/\1/p' "$top/dkms.conf")
krel=$(make -s -C "$tree" kernelrelease) || exit 1
inst=$out/install/lib/modules/$krel
log=$out/log

"$top/tools/install-deps.sh" dkms || exit 1
rm -rf "$out"
mkdir -p "$out/src" "$out/state/dkms" "$out/state/src" "$inst"
# The source DKMS gets: what a clean clone has, without build outputs.
cp -r "$top/dkms.conf" "$top/Kbuild" "$top/module" "$out/src/"
find "$out/src" \( -name '*.o' -o -name '*.ko' -o -name '*.mod*' -o \
	-name '.*.cmd' -o -name 'modules.order' -o -name 'Module.symvers' \) \
	-delete
echo "$krel" > "$out/krel"

failed=0
check() {	# check NAME CMD...
	local name=$1
	shift
	if "$@"; then
		echo "ok - dkms: $name"
	else
		echo "not ok - dkms: $name (see $log)"
		failed=$((failed + 1))
	fi
}

dkms_() {	# dkms ACTION ARGS..., in our trees, output to the log
	echo "== dkms $*" >> "$log"
	dkms "$1" --dkmstree "$out/state/dkms" --sourcetree "$out/state/src" \
		--installtree "$out/install/lib/modules" "${@:2}" >> "$log" 2>&1
}

depmod_() {
	echo "== depmod $krel" >> "$log"
	depmod -b "$out/install" -F "$tree/System.map" "$krel" >> "$log" 2>&1
}

# refused KREL DIR OPT: `dkms build` for the kernel tree DIR exits 77 and
# says it lacks OPT, and only OPT.
refused() {
	local rc
	echo "== dkms build -k $1 (a tree without $3)" >> "$log"
	dkms build -m pcache -v "$ver" -k "$1" --kernelsourcedir "$2" \
		--dkmstree "$out/state/dkms" --sourcetree "$out/state/src" \
		--installtree "$out/install/lib/modules" > "$2/out" 2>&1
	rc=$?
	cat "$2/out" >> "$log"
	echo "exit $rc" >> "$log"
	[ "$rc" = 77 ] &&
		grep -q "^pcache: kernel $1 ($2) lacks $3; pcache needs" "$2/out"
}

check "dkms add" dkms_ add "$out/src"

# An unpatched kernel, refused: a tree whose .config lacks each option
# in turn (DKMS looks at nothing else before it refuses), and one with
# only include/generated/autoconf.h.
for opt in CONFIG_PCACHE_HOOKS CONFIG_SWAP CONFIG_ZSMALLOC; do
	k=$out/unpatched-$opt
	mkdir -p "$k"
	grep -v "^$opt=" "$tree/.config" > "$k/.config"
	check "build refused (exit 77) for a kernel without $opt, saying so" \
		refused "$krel-no-$opt" "$k" "$opt"
done
k=$out/unpatched-autoconf
mkdir -p "$k/include/generated"
grep -v '^#define CONFIG_PCACHE_HOOKS 1$' "$tree/include/generated/autoconf.h" \
	> "$k/include/generated/autoconf.h"
check "build refused (exit 77) for a tree with autoconf.h, no .config, without CONFIG_PCACHE_HOOKS" \
	refused "$krel-no-autoconf" "$k" CONFIG_PCACHE_HOOKS

check "dkms build for $krel (build/linux)" \
	dkms_ build -m pcache -v "$ver" -k "$krel" --kernelsourcedir "$tree"
# What a kernel's modules_install puts beside its modules.
cp "$tree"/modules.{order,builtin,builtin.modinfo} "$inst/"
check "dkms install for $krel" \
	dkms_ install -m pcache -v "$ver" -k "$krel" --kernelsourcedir "$tree" \
	--no-depmod
ko=$inst/updates/dkms/pcache.ko
check "dkms install put pcache.ko in updates/dkms/" test -f "$ko"
check "dkms status says installed" \
	grep -q "^pcache/$ver, $krel, x86_64: installed" \
	<(dkms status --dkmstree "$out/state/dkms" --sourcetree "$out/state/src" \
	  --installtree "$out/install/lib/modules" -m pcache 2>&1)
check "depmod indexes it" depmod_
check "modules.dep lists updates/dkms/pcache.ko" \
	grep -qx "updates/dkms/pcache.ko:" "$inst/modules.dep"
check "the installed module is version $ver for $krel" \
	test "$(modinfo -F version "$ko" 2>/dev/null)" = "$ver" -a \
	     "$(modinfo -F vermagic "$ko" 2>/dev/null | cut -d' ' -f1)" = "$krel"
# The guest's copy, made before dkms remove takes it away.
mkdir -p "$out/root/lib/modules"
cp -a "$inst" "$out/root/lib/modules/" && cp "$ko" "$out/pcache.ko" 2>/dev/null

# What remove must take away: there before it.
had_ko=$(test -f "$ko" && echo 1)
had_dep=$(grep -c pcache "$inst/modules.dep" 2>/dev/null)
check "dkms remove --all" dkms_ remove -m pcache -v "$ver" --all --no-depmod
check "dkms remove took pcache.ko out of the install tree" \
	test "$had_ko" = 1 -a ! -e "$ko"
depmod_
check "modules.dep no longer lists it" \
	test "${had_dep:-0}" -gt 0 -a -z "$(grep pcache "$inst/modules.dep" 2>/dev/null)"
check "dkms keeps no state of pcache" test ! -e "$out/state/dkms/pcache"

rm -rf "$out/state" "$out/install" "$out"/unpatched-*
if [ "$failed" != 0 ]; then
	echo "dkms-build: $failed checks failed; dkms's output: $log" >&2
	exit 1
fi
echo "dkms-build: pcache $ver for $krel, as dkms install put it: $out/root/lib/modules/$krel/"
