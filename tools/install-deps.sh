#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Install the Debian packages pcache's build, guest and tests use, if any
# is missing.  Extra package names may be given as arguments.
set -euo pipefail

pkgs=(
	build-essential bc bison flex libelf-dev libssl-dev cpio kmod xz-utils
	rsync python3 linux-source-6.12 qemu-system-x86 busybox-static
	e2fsprogs util-linux bpftrace stress-ng fio numactl dkms python3-ply
	python3-docutils gnuplot-nox
	"$@"
)

missing=()
for p in "${pkgs[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' ||
		missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

if [ "$(id -u)" != 0 ]; then
	echo "install-deps: missing packages: ${missing[*]}; run as root" >&2
	exit 1
fi
echo "install-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
