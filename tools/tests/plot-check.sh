#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# tools/bench-plot.sh's own check, on the host: it draws the README's four
# plots from the data of the run they came from (Documentation/images/data,
# copied from build/bench/plot of that `make bench`), leaves out a plot
# whose data is missing and still draws the others, and fails on data
# gnuplot cannot plot.  Run by tools/run-tests.sh before the guests.
set -uo pipefail
cd "$(dirname "$0")/../.." || exit 2
data=Documentation/images/data
plots="pcache-fork-latency pcache-swap pcache-faultaround pcache-replication"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
bad=0
say() { echo "plot-check: $*"; }
[ -s "$data/swap.dat" ] || { say "WRONG: no recorded data in $data"; exit 1; }

# is_png FILE: a PNG of some size.
is_png() {
	[ -s "$1" ] && [ "$(head -c 8 "$1" | od -An -tx1 | tr -d ' \n')" = 89504e470d0a1a0a ] &&
		[ "$(stat -c %s "$1")" -gt 10000 ]
}

# 1. Every plot from the recorded data.
mkdir -p "$tmp/all"
cp -r "$data" "$tmp/all/plot"
if ! tools/bench-plot.sh "$tmp/all" > "$tmp/all.log" 2>&1; then
	cat "$tmp/all.log"; say "WRONG: failed on the recorded data"; bad=1
fi
for p in $plots; do
	if is_png "$tmp/all/$p.png"; then
		say "ok: $p.png drawn ($(stat -c %s "$tmp/all/$p.png") bytes)"
	else
		say "WRONG: $p.png not drawn"; bad=1
	fi
done

# 2. A run without the swap rows (BENCH_ONLY): that plot left out, said so,
# the others drawn, exit 0.
mkdir -p "$tmp/part"
cp -r "$data" "$tmp/part/plot"
rm "$tmp/part/plot/swap.dat"
if tools/bench-plot.sh "$tmp/part" > "$tmp/part.log" 2>&1 &&
   grep -q "pcache-swap: no swap.dat in this run, not drawn" "$tmp/part.log" &&
   [ ! -e "$tmp/part/pcache-swap.png" ] && is_png "$tmp/part/pcache-fork-latency.png"; then
	say "ok: a plot without data is left out, the others drawn"
else
	cat "$tmp/part.log"; say "WRONG: a missing data file"; bad=1
fi

# 3. Data gnuplot cannot plot fails the script.
mkdir -p "$tmp/bad"
cp -r "$data" "$tmp/bad/plot"
printf 'none x y z w\nzswap x y z w\npcache x y z w\n' > "$tmp/bad/plot/swap.dat"
if tools/bench-plot.sh "$tmp/bad" > "$tmp/bad.log" 2>&1; then
	cat "$tmp/bad.log"; say "WRONG: unplottable swap.dat passed"; bad=1
else
	say "ok: unplottable data fails the script"
fi
exit $bad
