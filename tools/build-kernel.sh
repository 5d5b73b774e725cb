#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Build a pcache guest kernel: Debian's linux-source-6.12, the series in
# hooks-patch/, tinyconfig plus config fragments.
#
#   tools/build-kernel.sh TREE FRAGMENT...
#
# make uses build/linux with tools/kconfig/pcache.config and debug.config
# (the test kernel: lockdep and friends), and build/linux-perf with
# pcache.config alone (the benchmark kernel).  A second run with nothing
# changed does nothing; a changed series is reverse-applied and applied
# again, and the files that come out as they were keep their times, so
# make rebuilds only what the change touches; a changed fragment
# reconfigures.  The version used is written to TREE.version and printed.
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
[ $# -ge 2 ] || { echo "usage: tools/build-kernel.sh TREE FRAGMENT..." >&2; exit 2; }
tree=$(realpath -m "$1")
shift
fragments=()
for f in "$@"; do
	[ -f "$f" ] || { echo "build-kernel: no config fragment $f" >&2; exit 2; }
	fragments+=("$(realpath "$f")")
done
tarball=/usr/src/linux-source-6.12.tar.xz
pkg=linux-source-6.12
series=$top/hooks-patch/series
jobs=$(nproc)

log() { printf 'build-kernel: %s\n' "$*"; }
die() { printf 'build-kernel: error: %s\n' "$*" >&2; exit 1; }

mkdir -p "$(dirname "$tree")"
applied=$tree.applied
# One build of a tree at a time (two makes at once would patch it twice).
exec 9> "$tree.lock"
flock 9

if [ ! -f "$tarball" ]; then
	log "installing $pkg"
	"$top/tools/install-deps.sh" "$pkg"
fi
[ -f "$tarball" ] || die "$tarball is missing after installing $pkg"
pkgver=$(dpkg-query -W -f='${Version}' "$pkg" 2>/dev/null || echo unknown)

# 1. Unpack, once per package version.
if [ "$(cat "$tree/.pcache-source" 2>/dev/null)" != "$pkgver" ]; then
	log "unpacking $tarball ($pkg $pkgver)"
	rm -rf "$tree" "$applied"
	mkdir -p "$tree"
	tar -xf "$tarball" -C "$tree" --strip-components=1
	echo "$pkgver" > "$tree/.pcache-source"
fi
kver=$(make -s -C "$tree" kernelversion)

# 2. Patches: undo what was applied before if the series changed.
want=$(cd "$top/hooks-patch" && cat series $(cat series) | sha256sum | cut -d' ' -f1)
have=$(cat "$applied/.hash" 2>/dev/null || true)
if [ "$want" != "$have" ]; then
	# Files the old series touched keep their times where the new one
	# leaves them as they were: a changed patch rebuilds what it
	# changes, not every includer of pagemap.h.
	stamps=$(mktemp)
	if [ -f "$applied/series" ]; then
		(cd "$tree" && sed -n 's,^+++ b/,,p' $(sed "s,^,$applied/," "$applied/series") |
			sort -u | while read -r f; do
				[ -f "$f" ] && echo "$(stat -c %Y "$f") $(sha256sum < "$f" | cut -d' ' -f1) $f"
			done) > "$stamps"
	fi
	if [ -f "$applied/series" ]; then
		log "reverting the previously applied series"
		tac "$applied/series" | while read -r p; do
			patch -d "$tree" -p1 -R -s -N < "$applied/$p" ||
				die "cannot revert $p; remove $tree and run again"
		done
	fi
	rm -rf "$applied"
	mkdir -p "$applied"
	while read -r p; do
		[ -n "$p" ] || continue
		log "applying $p"
		patch -d "$tree" -p1 -s -N < "$top/hooks-patch/$p" ||
			die "$p does not apply to linux $kver ($pkg $pkgver)"
		cp "$top/hooks-patch/$p" "$applied/$p"
		echo "$p" >> "$applied/series"
	done < "$series"
	echo "$want" > "$applied/.hash"
	while read -r t sum f; do
		[ -f "$tree/$f" ] && [ "$(sha256sum < "$tree/$f" | cut -d' ' -f1)" = "$sum" ] &&
			touch -d "@$t" "$tree/$f"
	done < "$stamps"
	rm -f "$stamps"
fi

# 3. Configure when a fragment changed.
fhash=$(cat "${fragments[@]}" | sha256sum | cut -d' ' -f1)
if [ ! -f "$tree/.config" ] || [ "$(cat "$tree.config-hash" 2>/dev/null)" != "$fhash" ]; then
	log "configuring: tinyconfig + $(printf '%s ' "${fragments[@]##*/}")"
	make -s -C "$tree" tinyconfig >/dev/null
	(cd "$tree" && scripts/kconfig/merge_config.sh -m -Q .config "${fragments[@]}" >/dev/null)
	make -s -C "$tree" olddefconfig >/dev/null
	missing=0
	while IFS= read -r line; do
		case "$line" in
		CONFIG_*=*) grep -qxF "$line" "$tree/.config" || { log "not set as asked: $line"; missing=1; } ;;
		"# CONFIG_"*" is not set")
			# Unset, or not there at all: an option whose
			# dependencies fail (UNWINDER_GUESS once kmemleak
			# selects STACKDEPOT) is not in .config.
			opt=${line#\# }
			opt=${opt%% *}
			! grep -qE "^$opt=" "$tree/.config" || { log "not unset: $line"; missing=1; } ;;
		esac
	done < <(cat "${fragments[@]}")
	[ "$missing" = 0 ] || die "the config fragments did not take; fix their dependencies"
	echo "$fhash" > "$tree.config-hash"
fi

# 4. Build.  `make modules` writes Module.symvers, which out-of-tree
# modules need to resolve kernel symbols.
start=$(date +%s)
make -s -C "$tree" -j"$jobs" bzImage modules_prepare
make -s -C "$tree" -j"$jobs" modules
krel=$(make -s -C "$tree" kernelrelease)
echo "$krel ($pkg $pkgver)" > "$tree.version"
log "linux $krel from $pkg $pkgver, $(wc -l < "$series") patches, $(printf '%s ' "${fragments[@]##*/}")in $tree, built in $(( $(date +%s) - start )) s"
