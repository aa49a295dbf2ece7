# tap.awk turns the TAP output of one `bats --tap --timing FILE` run into result rows, one
# per test of the file, in order:
#   FILE <TAB> STATUS <TAB> MS <TAB> TEST NAME <TAB> DETAIL
# STATUS is pass, fail, timeout or skip; DETAIL is the skip reason or why it failed
# without a TAP line. A test the watchdog timed out (its number is in TIMEOUTS) is a
# timeout whatever bats reported; a test bats did not report (killed) is a fail.
#
# Usage: awk -f tap.awk -v file=NAME -v rc=BATS_EXIT_STATUS BATSFILE TAPFILE TIMEOUTS
BEGIN { OFS = "\t" }

FILENAME == ARGV[1] {
	if (match($0, /^@test ".*" \{$/)) names[++ntests] = substr($0, 8, length($0) - 10)
	next
}

FILENAME == ARGV[3] { timedout[$1 + 0] = 1; next }

/^(not )?ok [0-9]+ / {
	num = ($1 == "ok") ? $2 + 0 : $3 + 0
	st = ($1 == "ok") ? "pass" : "fail"
	line = $0
	sub(/^(not )?ok [0-9]+ /, "", line)
	det = ""
	if (match(line, / # skip( .*)?$/)) {
		st = "skip"
		det = substr(line, RSTART + 8)
		line = substr(line, 1, RSTART - 1)
	}
	t = ""
	if (match(line, / in [0-9]+ms$/)) {
		t = substr(line, RSTART + 4, RLENGTH - 6)
		line = substr(line, 1, RSTART - 1)
	}
	status[num] = st; ms[num] = t; name[num] = line; detail[num] = det
}

END {
	for (i = 1; i <= ntests; i++) {
		if (!(i in status)) {
			status[i] = "fail"; name[i] = names[i]; detail[i] = "not reported (bats exited " rc ")"
		}
		if (i in timedout) {
			status[i] = "timeout"; detail[i] = "ran past the time limit"
		}
		print file, status[i], ms[i], name[i], detail[i]
	}
}
