#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Build the guest initramfs: busybox-static and tools/guest/init.
#   tools/mkinitramfs.sh OUTPUT.cpio.gz
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
out=$1
"$top/tools/install-deps.sh"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p "$work"/{bin,dev,proc,sys,host,tmp}
cp /bin/busybox "$work/bin/busybox"
install -m 0755 "$top/tools/guest/init" "$work/init"
(cd "$work" && find . | cpio -o -H newc --quiet | gzip -9) > "$out.tmp"
mv "$out.tmp" "$out"
echo "mkinitramfs: $out"
