# SPDX-License-Identifier: GPL-2.0
#
# Count a merged results.tap of tools/run-tests.sh.  Prints shell
# assignments: gp, gf, gs (passed, failed, skipped) and why (a "not ok"
# line for each failure that is not a failed check of its own).
#
# Leaf checks are the indented "ok"/"not ok" lines.  A selftest whose own
# line is "not ok" (it failed, crashed or timed out), or whose plan 1..N is
# missing or does not match the checks it printed, is one more failure on
# top of its checks; one that printed no check counts as its own line
# (a skip, or a failure).
function reason(r) { why = why "\n" "not ok - " r }
/^    (not )?ok / {
	sub_n++
	if ($0 ~ /# SKIP/) s++; else if ($1 == "not") f++; else p++
	next
}
/^    1\.\.[0-9]+/ { plan = $1; sub(/^1\.\./, "", plan); plan_seen = 1; next }
/^(not )?ok [0-9]+ selftests: / {
	name = $0; sub(/^(not )?ok [0-9]+ selftests: /, "", name)
	bad = ($1 == "not")
	if (!sub_n) {
		if ($0 ~ /# SKIP/) s++
		else if (bad) f++
		else { f++; reason(name ": printed no check") }
	} else {
		if (bad) { f++; reason(name " (after " sub_n " checks)") }
		if (!plan_seen) { f++; reason(name ": no plan after " sub_n " checks") }
		else if (plan + 0 != sub_n) {
			f++; reason(name ": plan 1.." plan ", " sub_n " checks")
		}
	}
	sub_n = 0; plan_seen = 0; plan = ""
}
END {
	printf "gp=%d gf=%d gs=%d\n", p, f, s
	gsub(/\047/, "", why)
	printf "why=\047%s\047\n", why
}
