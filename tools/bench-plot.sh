#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# tools/bench-plot.sh DIR: draw the plots of a `make bench` run, on the
# host, from the data tools/bench.sh wrote to DIR/plot/ in the guest:
#   DIR/pcache-fork-latency.png	CDF of each write's latency, stock, fork
#				and floor (stable writes off), write(2) and
#				mmap stores, sync_file_range() every 8 writes
#   DIR/pcache-swap.png		no pcache and no zswap, zswap, frontswap:
#				throughput, swap device writes, ratio
#   DIR/pcache-faultaround.png	minor faults and RSS by fault-around window
#   DIR/pcache-replication.png	a node-1 reader's local share and the
#				replica memory, phase by phase
# A plot whose data the run did not make (BENCH_ONLY) is left out, said
# so; a plot gnuplot fails to draw fails the script.
set -u
DIR=${1:?usage: tools/bench-plot.sh DIR}
P=$DIR/plot
command -v gnuplot > /dev/null || { echo "bench-plot: no gnuplot (tools/install-deps.sh installs gnuplot-nox)" >&2; exit 1; }
[ -d "$P" ] || { echo "bench-plot: no $P: run make bench first" >&2; exit 1; }
rc=0
KERNEL=$(cat "$P/kernel" 2>/dev/null || echo "benchmark kernel")

# draw NAME DATA... : gnuplot's script on stdin makes DIR/NAME.png when every
# DATA file is there.
draw() {
	local name=$1 f
	shift
	for f in "$@"; do
		if [ ! -s "$P/$f" ]; then
			echo "bench-plot: $name: no $f in this run, not drawn"
			cat > /dev/null
			return
		fi
	done
	# The workload's words: the "# title: " line of the first data file.
	T=$(sed -n 's/^# title: //p' "$P/$1" | head -1 | tr -d "'")
	if gnuplot -e "P='$P'; OUT='$DIR/$name.png'; K='$KERNEL'; T='$T'" -; then
		echo "bench-plot: $DIR/$name.png"
	else
		echo "bench-plot: $name: gnuplot failed" >&2
		rc=1
	fi
}

COMMON="set terminal pngcairo size 1200,520 font 'DejaVu Sans,10' noenhanced
set output OUT
set grid ytics lc rgb '#dddddd'
set border 3
set tics nomirror
set key top left"

draw pcache-fork-latency fork.dat fork-cdf-write-8-off.dat fork-cdf-write-8-on.dat \
	fork-cdf-write-8-floor.dat fork-cdf-mmap-8-off.dat fork-cdf-mmap-8-on.dat \
	fork-cdf-mmap-8-floor.dat <<EOF
$COMMON
set multiplot layout 1,2 title 'Fork-on-write: '.T.' ('.K.')'
set logscale x
set xlabel 'latency, us (log)'
set ylabel 'fraction of writes'
set yrange [0:1]
set key bottom right
set title 'write(2) of 64 bytes, sync_file_range() every 8 writes'
plot P.'/fork-cdf-write-8-off.dat' u 1:2 w l lw 2 lc rgb '#c0392b' t 'stock (waits for the I/O)', \
     P.'/fork-cdf-write-8-on.dat' u 1:2 w l lw 2 lc rgb '#2471a3' t 'fork-on-write', \
     P.'/fork-cdf-write-8-floor.dat' u 1:2 w l lw 1 dt 2 lc rgb '#555555' t 'floor: stable writes off'
set title 'stores to a shared mapping, sync_file_range() every 8 stores'
plot P.'/fork-cdf-mmap-8-off.dat' u 1:2 w l lw 2 lc rgb '#c0392b' t 'stock (waits for the I/O)', \
     P.'/fork-cdf-mmap-8-on.dat' u 1:2 w l lw 2 lc rgb '#2471a3' t 'fork-on-write', \
     P.'/fork-cdf-mmap-8-floor.dat' u 1:2 w l lw 1 dt 2 lc rgb '#555555' t 'floor: stable writes off'
unset multiplot
EOF

draw pcache-swap swap.dat <<EOF
$COMMON
set multiplot layout 1,3 title 'Swap: '.T.' ('.K.')'
set style data histograms
set style fill solid 0.8 border -1
set boxwidth 0.7
set key off
set yrange [0:*]
set xtics ("no pcache,\nno zswap" 0, "zswap\n(lz4, zsmalloc)" 1, "pcache\nfrontswap (lz4)" 2)
set xrange [-0.6:2.6]
set bmargin 4
array C[3] = [0xaaaaaa, 0xd68910, 0x2471a3]
set title 'throughput, MiB/s (higher is better)'
plot P.'/swap.dat' u 0:2:(C[int(\$0) + 1]) w boxes lc rgb var, '' u 0:2:(sprintf('%.1f', \$2)) w labels offset 0,0.7
set title 'pages written to the swap device (lower is better)'
plot P.'/swap.dat' u 0:3:(C[int(\$0) + 1]) w boxes lc rgb var, '' u 0:3:(sprintf('%.0f', \$3)) w labels offset 0,0.7
set title 'compression ratio of the pool'
plot P.'/swap.dat' u 0:(\$5 == \$5 ? \$5 : 0):(C[int(\$0) + 1]) w boxes lc rgb var, '' u 0:(\$5 == \$5 ? \$5 : 0):(\$5 == \$5 ? sprintf('%.2f', \$5) : 'no pool') w labels offset 0,0.7
unset multiplot
EOF

draw pcache-faultaround fa.dat <<EOF
$COMMON
set terminal pngcairo size 1200,800 font 'DejaVu Sans,10' noenhanced
set output OUT
set multiplot layout 2,2 title 'Fault-around: the kernel window (pcache not loaded) vs pcache adaptive ('.T.'; '.K.')'
set style fill solid 0.8 border -1
set boxwidth 0.7
set key off
set yrange [0:*]
set xtics ("4 KiB" 0, "64 KiB\n(default)" 1, "2 MiB" 2, "off\n(pcache loaded)" 3, "adaptive" 4, "adaptive,\nmap_old" 5)
set xrange [-0.6:5.6]
set bmargin 4
array C[6] = [0xaaaaaa, 0x888888, 0x555555, 0xd68910, 0x2471a3, 0x5dade2]
set title '(a) exec of ls and its libraries: minor faults'
plot P.'/fa.dat' u 0:2:(C[int(\$0) + 1]) w boxes lc rgb var, '' u 0:2:(sprintf('%.0f', \$2)) w labels offset 0,0.7
set title '(b) random touches of a cached file: minor faults'
plot P.'/fa.dat' u 0:4:(C[int(\$0) + 1]) w boxes lc rgb var, '' u 0:4:(sprintf('%.0f', \$4)) w labels offset 0,0.7
set title '(b) random touches: RSS of the mapping, KiB'
plot P.'/fa.dat' u 0:5:(C[int(\$0) + 1]) w boxes lc rgb var, '' u 0:5:(sprintf('%.0f', \$5)) w labels offset 0,0.7
set title '(c) sequential scan of the mapping: minor faults'
plot P.'/fa.dat' u 0:7:(C[int(\$0) + 1]) w boxes lc rgb var, '' u 0:7:(sprintf('%.0f', \$7)) w labels offset 0,0.7
unset multiplot
EOF

draw pcache-replication repl-phases.dat <<EOF
$COMMON
set title 'Replication: '.T.', phase by phase ('.K.')'
set style fill solid 0.35 border -1
set boxwidth 0.6
set ylabel "share of node 1's reads served from node 1"
set yrange [0:1.1]
set y2label 'replica memory after the phase, MiB'
set y2range [0:*]
set y2tics
set key outside bottom center horizontal maxrows 2
set datafile missing '-'
plot P.'/repl-phases.dat' u 0:(\$4 / 1024.0):xtic(1) axes x1y2 w boxes lc rgb '#5dade2' t 'replica memory (replication on)', \
     '' u 0:2 w lp lw 2 pt 7 lc rgb '#c0392b' t 'node 1 not replicated: node-0 pages, as the kernel serves them', \
     '' u 0:3 w lp lw 2 pt 7 lc rgb '#2471a3' t 'replication on (min_remote_reads 2, write_quiet_ms 1000)'
EOF

exit $rc
