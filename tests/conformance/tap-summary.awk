# tap-summary.awk turns one validation program's TAP output into one block of the report:
#
#   PASS|FAIL  name  ok notok skip secs
#            not ok xN: <assertion>          (failing assertions, grouped, first-seen order)
#            stderr: <first telling line>     (FAIL only)
#
# Usage: awk -f tap-summary.awk -v name=N -v rc=RC -v secs=S -v tmpdir=T -v timeout=60 \
#            STDOUT_FILE STDERR_FILE
#
# Besides TAP's own "not ok" lines, three things count as one failed assertion each, because
# a program that stops early would otherwise look like a pass: a non-zero exit status, the
# timeout, and a diagnostic YAML block that carries an "error" but belongs to no test point
# (the suite reports some lifecycle errors that way, e.g. the hook programs). A YAML block
# belongs to a test point when one came after the previous block ("Refer to:" lines may sit
# between them).

function abstract_tmp(s,    i) {
	# The programs put bundles under $TMPDIR with random names; keep lines comparable.
	if (tmpdir == "") return s
	while ((i = index(s, tmpdir)) > 0)
		s = substr(s, 1, i - 1) "$TMPDIR" substr(s, i + length(tmpdir))
	gsub(/ocitest[0-9]+/, "ocitest<n>", s)
	return s
}

function fail(desc) {
	desc = abstract_tmp(desc)
	if (!(desc in failcount)) order[nfail_kinds++] = desc
	failcount[desc]++
	notok++
}

BEGIN { ok = 0; notok = 0; skip = 0; nfail_kinds = 0; test_since_yaml = 0; in_yaml = 0 }

# First file: the program's stdout (TAP).
FILENAME == ARGV[1] {
	if (in_yaml) {
		if ($0 ~ /^  \.\.\.$/) {
			in_yaml = 0
			test_since_yaml = 0
			if (orphan_yaml && orphan_error != "") fail("harness: error diagnostic: " orphan_error)
			next
		}
		if (orphan_yaml && !orphan_error && $0 ~ /^ *"error": "/) {
			e = $0
			sub(/^ *"error": "/, "", e)
			sub(/\\n.*$/, "", e)
			sub(/",?$/, "", e)
			orphan_error = e
		}
		next
	}
	if ($0 ~ /^  ---$/) {
		in_yaml = 1
		orphan_yaml = !test_since_yaml
		orphan_error = ""
		next
	}
	if ($0 ~ /^ok [0-9]+/) {
		if (tolower($0) ~ /^ok [0-9]+ (- .*)?# skip/) skip++
		else ok++
		test_since_yaml = 1
		next
	}
	if ($0 ~ /^not ok [0-9]+/) {
		d = $0
		sub(/^not ok [0-9]+( - )?/, "", d)
		fail(d)
		test_since_yaml = 1
		next
	}
	next
}

# Second file: the program's stderr. Keep the first line that says something about the
# failure; the suite's own generic lines and logrus timestamps say nothing.
{
	if (stderr_line != "") next
	line = $0
	if (line ~ /^[ \t]*$/ || line == "failed to create the container" || line ~ /^exit status [0-9]+$/) next
	sub(/^time="[^"]*" /, "", line)
	stderr_line = substr(abstract_tmp(line), 1, 220)
}

END {
	if (rc == 124 || rc == 137) fail("harness: timed out after " timeout "s")
	else if (rc != 0) fail("harness: exited with status " rc)
	# The hook programs print no test point when all went well: count the clean run.
	if (ok + notok + skip == 0) ok = 1
	status = notok == 0 ? "PASS" : "FAIL"
	printf "%-6s %-31s %5d %5d %4d %6.1f\n", status, name, ok, notok, skip, secs
	for (i = 0; i < nfail_kinds; i++)
		printf "         not ok x%d: %s\n", failcount[order[i]], order[i]
	if (status == "FAIL" && stderr_line != "")
		printf "         stderr: %s\n", stderr_line
}
