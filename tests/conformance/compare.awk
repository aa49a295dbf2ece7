# compare.awk checks a conformance report against a baseline report (same layout).
#
# Usage: awk -f compare.awk -v partial=0|1 BASELINE REPORT
#
# A regression is an assertion the baseline passes that REPORT fails: one that fails more
# often in REPORT than in BASELINE, unless the baseline program aborted before it ran its
# assertions (its runtime failed to create the container, "harness: exited" or "exit
# status"); a program with fewer passing assertions than in the baseline; or, unless
# partial=1 (only some programs were run), a baseline program that REPORT lacks. Programs listed on a "# flaky: NAME ..." line
# of the baseline only warn. Exit status 1 when there is a regression.

FILENAME == ARGV[1] && /^# flaky:/ {
	for (i = 3; i <= NF; i++) flaky[$i] = 1
	next
}

/^(PASS|FAIL) / {
	prog = $2
	if (FILENAME == ARGV[1]) {
		in_base[prog] = 1
		base_ok[prog] = $3
	} else {
		in_report[prog] = 1
		# A program that passes whole is never a regression.
		if ($1 == "FAIL") report_ok[prog] = $3
	}
	next
}

/^ +not ok x[0-9]+: / {
	line = $0
	sub(/^ +not ok x/, "", line)
	n = line + 0
	sub(/^[0-9]+: /, "", line)
	key = prog SUBSEP line
	if (FILENAME == ARGV[1]) {
		base[key] = n
		if (line ~ /^harness: exited|exit status [0-9]+$/) aborted[prog] = 1
	} else report[key] = n
}

END {
	bad = 0
	for (key in report) {
		split(key, part, SUBSEP)
		was = (key in base) ? base[key] : 0
		if (report[key] <= was) continue
		if ((part[1] in aborted) && report_ok[part[1]] >= base_ok[part[1]]) continue
		what = sprintf("%s: \"%s\" fails %d time(s), baseline %d", part[1], part[2], report[key], was)
		if (part[1] in flaky) {
			print "conformance: warning (flaky program): " what
		} else {
			print "conformance: REGRESSION " what
			bad++
		}
	}
	for (prog in report_ok) {
		if (!(prog in base_ok) || report_ok[prog] >= base_ok[prog] || (prog in flaky)) continue
		printf "conformance: REGRESSION %s: %d assertions pass, baseline %d\n", prog, report_ok[prog], base_ok[prog]
		bad++
	}
	if (!partial) {
		for (prog in in_base) {
			if (prog in in_report) continue
			print "conformance: REGRESSION " prog ": in the baseline but not run"
			bad++
		}
	}
	if (bad > 0) {
		printf "conformance: %d regression(s) against the baseline\n", bad
		exit 1
	}
	print "conformance: no regressions against the baseline"
}
