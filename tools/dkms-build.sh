#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Build pcache through DKMS against the patched tree in build/linux, as a
# user would on an installed patched kernel, and keep the result in
# build/dkms/pcache.ko for the guest to load.  Leaves no DKMS state behind.
#
#   tools/dkms-build.sh [BUILD_DIR]
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$top/build}
out=$build/dkms
tree=$build/linux
ver=$(sed -n 's/^PACKAGE_VERSION="\(.*\)"/\1/p' "$top/dkms.conf")
krel=$(make -s -C "$tree" kernelrelease)

"$top/tools/install-deps.sh" dkms
rm -rf "$out"
mkdir -p "$out/src"
# The source DKMS gets: what a clean clone has, without build outputs.
cp -r "$top/dkms.conf" "$top/Kbuild" "$top/module" "$out/src/"
find "$out/src" -name '*.o' -o -name '*.ko' -o -name '*.mod*' -o -name '.*.cmd' \
	-o -name 'modules.order' -o -name 'Module.symvers' | xargs rm -f

# dkms add copies the source to /usr/src/pcache-VER; a marker tells our
# copy from a real installation, which this script must not touch.
src=/usr/src/pcache-$ver
if [ -e "$src" ] && [ ! -e "$src/PCACHE_DKMS_TEST" ]; then
	echo "dkms-build: $src belongs to an installed pcache; not touching it" >&2
	exit 1
fi
touch "$out/src/PCACHE_DKMS_TEST"
cleanup() {
	dkms remove -m pcache -v "$ver" --all > /dev/null 2>&1 || true
	[ ! -e "$src/PCACHE_DKMS_TEST" ] || rm -rf "$src"
}
cleanup
trap cleanup EXIT
{
	dkms add "$out/src"
	dkms build -m pcache -v "$ver" -k "$krel" --kernelsourcedir "$tree"
} > "$out/log" 2>&1 || { cat "$out/log" >&2; exit 1; }
cp "/var/lib/dkms/pcache/$ver/$krel/x86_64/module/pcache.ko" "$out/pcache.ko"
echo "dkms-build: pcache $ver built by dkms for $krel: $out/pcache.ko"
