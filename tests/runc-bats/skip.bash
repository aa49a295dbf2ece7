
# ---- appended by rt's tests/runc-bats/run.sh: the tests skip.txt names skip themselves
# at the start of this file's setup and return at the start of its teardown.
rt_harness_listed() {
	local file name reason
	while IFS=$'\t' read -r file name reason; do
		if [[ $file == "${BATS_TEST_FILENAME##*/}" && $name == "$BATS_TEST_DESCRIPTION" ]]; then
			printf '%s' "$reason"
			return 0
		fi
	done <"$RT_HARNESS_SKIPS"
	return 1
}
rt_harness_skip_listed() {
	local reason
	if reason=$(rt_harness_listed); then skip "skip.txt: $reason"; fi
}
