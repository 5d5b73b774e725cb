#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Build pcache.ko for another kernel tree from a copy of the sources, so
# the objects of one tree never mix with another's (the KASAN and
# benchmark kernels, each mutant of `make mutants`).
#
#   tools/module-copy.sh TREE DIR [MAKE-ARG...]
#
# Copies Kbuild and module/ (no build outputs) to DIR, then builds there
# against TREE: DIR/module/pcache.ko.  MAKE-ARGs go to the kernel's make
# (KCFLAGS=-DPCACHE_MUTANT=N, -s).
set -euo pipefail
[ $# -ge 2 ] || { echo "usage: $0 TREE DIR [MAKE-ARG...]" >&2; exit 2; }
tree=$1 dir=$2
shift 2
cd "$(dirname "$0")/.."
mkdir -p "$dir"
rsync -a --delete --exclude '*.o' --exclude '*.ko' --exclude '.*.cmd' \
	--exclude '*.mod' --exclude '*.mod.c' --exclude 'modules.order' \
	--exclude 'Module.symvers' --exclude '.*.d' Kbuild module "$dir/"
exec make -C "$tree" M="$(cd "$dir" && pwd)" "$@" modules
