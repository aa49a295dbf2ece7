#!/usr/bin/env bash
# compare.sh puts two runs of run.sh side by side (rt and upstream runc 1.5.2 on the same
# machine, same skip list): the totals of each, then the tests whose outcome differs.
#
# Usage: tests/runc-bats/compare.sh RT_RESULTS_DIR RUNC_RESULTS_DIR
# (the RUNC_BATS_RESULTS directories of the two runs, each holding results.tsv)
set -euo pipefail

[ $# = 2 ] || { echo "usage: compare.sh RT_RESULTS_DIR RUNC_RESULTS_DIR" >&2; exit 2; }
for d in "$@"; do
	[ -f "$d/results.tsv" ] || { echo "compare.sh: no results.tsv in $d" >&2; exit 2; }
done

awk -F '\t' '
	function outcome(s) { return s == "timeout" ? "fail" : s }
	FNR == 1 { run++ }
	{
		key = $1 "\t" $4
		if (!(key in seen)) { seen[key] = 1; order[++n] = key }
		res[run, key] = outcome($2)
		count[run, outcome($2)]++
		if ($2 == "skip" && $5 ~ /^skip\.txt: /) listed[run]++
	}
	END {
		printf "# runc v1.5.2 integration suite, same machine, same skip list\n"
		printf "# %-22s %7s %7s %8s %10s\n", "runtime", "passed", "failed", "skipped", "(skip.txt)"
		split("rt upstream-runc-1.5.2", name, " ")
		for (r = 1; r <= 2; r++)
			printf "  %-22s %7d %7d %8d %10d\n", name[r], count[r, "pass"], count[r, "fail"], count[r, "skip"], listed[r]
		for (pass = 1; pass <= 3; pass++) {
			m = 0
			for (i = 1; i <= n; i++) {
				k = order[i]; a = res[1, k]; b = res[2, k]
				if (pass == 1 && !(a == "fail" && b == "pass")) continue
				if (pass == 2 && !(a == "pass" && b == "fail")) continue
				if (pass == 3 && !(a != b && (a == "" || b == "" || a == "skip" || b == "skip"))) continue
				lines[++m] = k
			}
			title = pass == 1 ? "rt fails, runc passes" : pass == 2 ? "rt passes, runc fails" : "run by one, skipped or absent in the other"
			printf "# %s: %d\n", title, m
			for (j = 1; j <= m; j++) {
				split(lines[j], f, "\t")
				printf "  %s: %s%s\n", f[1], f[2], pass == 3 ? sprintf(" (rt %s, runc %s)", res[1, lines[j]] == "" ? "absent" : res[1, lines[j]], res[2, lines[j]] == "" ? "absent" : res[2, lines[j]]) : ""
			}
		}
	}' "$1/results.tsv" "$2/results.tsv"
