#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Run pcache selftests inside the guest (tools/vm.sh runs this).  Each test
# prints TAP; this nests it under one top-level line per test, on the
# console and in /tmp/out/results.tap, and keeps each test's nested output
# in /tmp/out/NAME.tap and its top-level line in /tmp/out/NAME.result.  Each selftest runs under the
# timeout that selftests/settings gives it (timeout_NAME, else timeout).
#
#   selftests/run_guest.sh [TEST...]	(default: TEST_PROGS of selftests/Makefile)
cd "$(dirname "$0")/.." || exit 2
export TOP=$PWD

# settings: kselftest's timeout=, and timeout_NAME= per selftest.
declare -A tmo
default_timeout=600
while IFS='=' read -r key val; do
	case $key in
	timeout) default_timeout=$val ;;
	timeout_*) tmo[${key#timeout_}]=$val ;;
	esac
done < <(grep -E '^[a-z_]+=[0-9]+$' selftests/settings)

# hang_dump NAME: what the processes are doing when selftest NAME has run
# out of time, before they are killed: the state and wait channel of each
# user process, and the kernel stack of those not sleeping interruptibly
# (a hang in the kernel shows there).
hang_dump() {
	local pid stat
	echo "# $1 ran out of time; user processes (pid ppid stat wchan args):"
	ps -eo pid=,ppid=,stat=,wchan:32=,args= | awk '$2 != 2 && $1 != 2' |
		cut -c1-160 | sed 's/^/# /'
	ps -eo pid=,ppid=,stat= | while read -r pid _ stat; do
		case $stat in
		D*|R*) ;;
		*) continue ;;
		esac
		[ "$pid" != "$BASHPID" ] || continue
		echo "# stack of $pid ($stat, $(cat "/proc/$pid/comm" 2>/dev/null)):"
		sed 's/^/#   /' "/proc/$pid/stack" 2>/dev/null | head -24
	done
}

# kmemleak (the KASAN test kernel has it; elsewhere the file is missing
# and nothing here runs).  pcache_leaks prints, in full, each object
# kmemleak reports whose allocation backtrace runs through pcache: a
# frame named "[pcache]" or "[pcache_kunit]" while a module is loaded, or
# a bare address inside the code of one of the loads lib.sh logged, once
# it is gone.  Leaks of other code are not pcache's to fail on, and
# neither is one the kernel makes on a path pcache only calls into: a slab
# cache whose sysfs registration fails leaks its kobject's name
# (sysfs_slab_add does not kobject_put after kobject_init_and_add fails;
# fixed upstream by 2420baa8e046 "mm/slab: Allow cache creation to proceed
# even if sysfs registration fails", not in 6.12), which
# pcache_load_faults' failed kmem_cache_create() calls reach.  Those are
# named on stderr only.
# PCACHE_TEXT_LOG: one "0xSTART 0xEND" line per load of pcache, where its
# code was (pcache_load in lib.sh appends them).
KMEMLEAK=/sys/kernel/debug/kmemleak
export PCACHE_TEXT_LOG=/tmp/pcache-text-ranges
pcache_leaks() {
	{ sort -u "$PCACHE_TEXT_LOG" 2>/dev/null; echo ---; cat "$KMEMLEAK"; } |
	awk '
	# Fixed-width hex strings compare as the addresses do.
	function key(a) {
		a = tolower(substr(a, 3))
		while (length(a) < 16)
			a = "0" a
		return "x" a
	}
	function flush() {
		if (rec != "" && ours && slab == 2)
			print "# kmemleak: the kernel'\''s own leak (sysfs_slab_add), not counted: " first > "/dev/stderr"
		else if (rec != "" && ours)
			printf "%s", rec
		rec = ""; ours = 0; slab = 0
	}
	BEGIN { n = 0 }
	!seen && $0 == "---" { seen = 1; next }
	!seen { lo[n] = key($1); hi[n] = key($2); n++; next }
	/^unreferenced object/ { flush(); first = $0 }
	{ rec = rec $0 "\n" }
	slab == 0 && /kobject_set_name_vargs/ { slab = 1 }
	slab == 1 && /sysfs_slab_add/ { slab = 2 }
	/\[pcache(_kunit)?\]/ { ours = 1 }
	$1 ~ /^0x[0-9a-f]+$/ && NF == 1 {
		k = key($1)
		for (i = 0; i < n; i++)
			if (k >= lo[i] && k < hi[i])
				ours = 1
	}
	END { flush() }'
}

# kmemleak_check FILE: after a selftest (which ends with pcache
# unloaded), the objects pcache allocated and nothing references any
# more, written to FILE (empty if none).  Two scans: kmemleak reports an
# object only when its content did not change since the scan before (the
# first scan after an allocation records it), and only once it is older
# than kmemleak's 5 s minimum age.  Clears the reports, so the next
# selftest starts from none.
kmemleak_check() {
	: > "$1"
	[ -w "$KMEMLEAK" ] || return 0
	sleep 6
	echo scan > "$KMEMLEAK"
	echo scan > "$KMEMLEAK"
	pcache_leaks > "$1"
	echo clear > "$KMEMLEAK"
}

# Reports from boot, before any selftest, are not any selftest's.
if [ -w "$KMEMLEAK" ]; then
	echo scan > "$KMEMLEAK"
	echo clear > "$KMEMLEAK"
fi

tests=("$@")
[ ${#tests[@]} -gt 0 ] || mapfile -t tests < <(make -s -C selftests list)
results=/tmp/out/results.tap
: > "$results"
say() { echo "$*"; echo "$*" >> "$results"; }

say "TAP version 13"
say "1..${#tests[@]}"
n=0
for t in "${tests[@]}"; do
	n=$((n + 1))
	start=$(date +%s)
	limit=${PCACHE_TEST_TIMEOUT:-${tmo[$t]:-$default_timeout}}
	# Nested, live: a guest that dies mid-test leaves what it printed.
	# At the limit the watcher shows what the test's processes are doing;
	# 15 s later timeout kills them.
	rm -f "/tmp/out/$t.hang"
	(
		trap 'kill "$s" 2>/dev/null; exit 0' TERM
		sleep "$limit" & s=$!
		wait "$s" && hang_dump "$t" | sed 's/^/    /' |
			tee "/tmp/out/$t.hang"
	) &
	watcher=$!
	timeout -k 10 $((limit + 15)) "selftests/$t.sh" 2>&1 |
		sed -u 's/^/    /' | tee "/tmp/out/$t.tap"
	rc=${PIPESTATUS[0]}
	kill "$watcher" 2>/dev/null
	wait "$watcher" 2>/dev/null
	[ ! -f "/tmp/out/$t.hang" ] || cat "/tmp/out/$t.hang" >> "/tmp/out/$t.tap"
	cat "/tmp/out/$t.tap" >> "$results"
	took="$(( $(date +%s) - start ))s"
	# A leak fails the selftest; its line keeps how the selftest ended.
	leakf=/tmp/out/$t.kmemleak
	kmemleak_check "$leakf"
	leak=
	if [ -s "$leakf" ]; then
		sed -i 's/^/    # kmemleak: /' "$leakf"
		tee -a "/tmp/out/$t.tap" < "$leakf" >> "$results"
		head -40 "$leakf"
		leak=": kmemleak: $(grep -c '^    # kmemleak: unreferenced object' "$leakf") objects pcache allocated were never freed"
	fi
	case $rc in
	0) line="ok $n selftests: $t ($took)" how=$took ;;
	4) line="ok $n selftests: $t # SKIP ($took)" how="skipped, $took" ;;
	124|137) line="not ok $n selftests: $t: timed out after ${limit}s"
		how="timed out after ${limit}s" ;;
	*) line="not ok $n selftests: $t (exit $rc, $took)" how="exit $rc, $took" ;;
	esac
	[ -z "$leak" ] || line="not ok $n selftests: $t$leak ($how)"
	say "$line"
	echo "$line" > "/tmp/out/$t.result"
done
