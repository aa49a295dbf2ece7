#!/usr/bin/env bash
# test.sh is `make test`: unit tests, integration tests through the real binary,
# the OCI runtime-tools validation suite (no assertion runc 1.1.5 passes here may
# fail), containerd, podman, Docker and Kubernetes' CRI validation (critest on
# containerd's CRI plugin) driving rt, and runc v1.5.2's own bats suite with rt and with
# upstream runc 1.5.2 built from the same module.
# It ends with one summary line.
#
# The client scripts also run with runc, which must pass them too (the scripts
# themselves are then known good).
# make test records the runtime invocations under its log directory, never into the tree:
# tests/clients/recorded/ is refreshed by running a client script by hand.
#
# cri2 runs critest's user-namespace and recursive read-only mount specs against containerd 2
# (built from the Go module proxy; Debian's 1.6 cannot run them), cri2-runc the same with
# upstream runc 1.5.2 (Debian's runc 1.1.5 has no id-mapped mounts, so containerd would not
# offer user namespaces).
#
# TEST_SUITES selects suites (default: "unit integration conformance containerd podman
# docker cri cri2 containerd-runc podman-runc docker-runc cri-runc cri2-runc runc-bats runc-bats-runc").
set -uo pipefail
cd "$(dirname "$0")/../.."
root=$(pwd)
suites=${TEST_SUITES:-unit integration conformance containerd podman docker cri cri2 containerd-runc podman-runc docker-runc cri-runc cri2-runc runc-bats runc-bats-runc}
logdir=$(mktemp -d /tmp/rt-test-logs.XXXXXX)
chmod 755 "$logdir"
passed=0
failed=0
failures=()
declare -A times

# count_go adds the results of a `go test -json` stream to the totals.
count_go() {
	local log=$1 p f
	p=$(jq -r 'select(.Test != null and .Action == "pass") | .Test' "$log" 2>/dev/null | wc -l)
	f=$(jq -r 'select(.Test != null and .Action == "fail") | .Test' "$log" 2>/dev/null | wc -l)
	passed=$((passed + p))
	failed=$((failed + f))
	if [ "$f" -gt 0 ]; then
		failures+=($(jq -r 'select(.Test != null and .Action == "fail") | .Package + "." + .Test' "$log" | sed 's#github.com/rtproject/rt/##'))
	fi
}

# run_go runs go test with -json into a log and prints go test's own package lines.
run_go() {
	local name=$1
	shift
	echo "=== $name"
	go test -mod=vendor -count=1 -json "$@" >"$logdir/$name.json" 2>"$logdir/$name.stderr"
	local rc=$?
	jq -r 'select(.Test == null and (.Action == "pass" or .Action == "fail" or .Action == "skip")) |
		(if .Action == "pass" then "ok  " elif .Action == "skip" then "?   " else "FAIL" end) + "\t" + .Package + "\t" + ((.Elapsed // 0) | tostring) + "s"' \
		"$logdir/$name.json"
	if [ $rc -ne 0 ]; then
		# Show the output of failing tests.
		jq -r 'select(.Action == "output") | .Output' "$logdir/$name.json" | grep -E -B2 -A20 -- '--- FAIL' | head -200
		cat "$logdir/$name.stderr" | tail -20
	fi
	count_go "$logdir/$name.json"
	if [ $rc -ne 0 ] && ! jq -e 'select(.Action == "fail")' "$logdir/$name.json" >/dev/null; then
		# A build failure has no failing test to count.
		failed=$((failed + 1))
		failures+=("$name: go test exited $rc")
	fi
}

# run_script runs a harness that ends with "N passed, M failed" and adds its counts.
run_script() {
	local name=$1
	shift
	echo "=== $name"
	local t0=$SECONDS
	"$@" 2>&1 | tee "$logdir/$name.log"
	local rc=${PIPESTATUS[0]}
	local line p f
	times[$name]="$((SECONDS - t0)) s"
	line=$(grep -E '^[0-9]+ passed, [0-9]+ failed' "$logdir/$name.log" | tail -1)
	if [ "$name" = conformance ]; then
		# Assertions that fail for runc too are the machine's or the suite's: the
		# gate is "no regression against runc", counted as one test.
		if [ $rc -eq 0 ]; then passed=$((passed + 1)); else failed=$((failed + 1)); failures+=("conformance: regression against runc 1.1.5 ($line)"); fi
		return
	fi
	if [ -n "$line" ]; then
		p=${line%% passed*}
		f=${line#*passed, }
		f=${f%% failed*}
		passed=$((passed + p))
		failed=$((failed + f))
	fi
	if [ $rc -ne 0 ]; then
		[ -n "$line" ] && [ "${f:-0}" -gt 0 ] || failed=$((failed + 1))
		failures+=("$name (exit $rc)")
	fi
}

for s in $suites; do
	case $s in
	unit)
		run_go unit $(go list -mod=vendor ./... | grep -v /tests/)
		# The raw-clone primitive runs Go code in a forked child: keep it race-clean.
		run_go unit-race -race ./nsenter/
		;;
	integration)
		RT_BINARY=$root/rt run_go integration -timeout 15m ./tests/integration/
		# The library packages against the real kernel (build tag kernel).
		run_go kernel -tags kernel -run '^TestKernel' $(go list -mod=vendor ./... | grep -v /tests/)
		;;
	conformance) run_script conformance env RUNTIME="$root/rt" CONFORMANCE_BASELINE="$root/tests/conformance/baseline-runc.txt" tests/conformance/run.sh ;;
	containerd) run_script containerd env RUNTIME="$root/rt" RECORD="$logdir/containerd-invocations.txt" tests/clients/containerd.sh ;;
	podman) run_script podman env RUNTIME="$root/rt" RECORD="$logdir/podman-invocations.txt" tests/clients/podman.sh ;;
	containerd-runc) run_script containerd-runc env RUNTIME="$(command -v runc)" RECORD="$logdir/containerd-runc-invocations.txt" tests/clients/containerd.sh ;;
	podman-runc) run_script podman-runc env RUNTIME="$(command -v runc)" RECORD="$logdir/podman-runc-invocations.txt" tests/clients/podman.sh ;;
	docker) run_script docker env RUNTIME="$root/rt" RECORD="$logdir/docker-invocations.txt" tests/clients/docker.sh ;;
	docker-runc) run_script docker-runc env RUNTIME="$(command -v runc)" RECORD="$logdir/docker-runc-invocations.txt" tests/clients/docker.sh ;;
	cri) run_script cri env RUNTIME="$root/rt" tests/clients/cri.sh ;;
	cri-runc) run_script cri-runc env RUNTIME="$(command -v runc)" RECORD="$logdir/cri-runc-invocations.txt" tests/clients/cri.sh ;;
	cri2) run_script cri2 env RUNTIME="$root/rt" tests/clients/cri2.sh ;;
	cri2-runc) run_script cri2-runc env RUNTIME="$(bash -c '. tests/scripts/lib.sh && upstream_runc')" tests/clients/cri2.sh ;;
	runc-bats) run_script runc-bats env RUNTIME="$root/rt" RUNC_BATS_RESULTS="$logdir/runc-bats" tests/runc-bats/run.sh ;;
	runc-bats-runc) run_script runc-bats-runc env RUNTIME=upstream RUNC_BATS_RESULTS="$logdir/runc-bats-runc" tests/runc-bats/run.sh ;;
	*) echo "unknown suite $s" >&2; exit 2 ;;
	esac
done

# client_summary prints each engine suite next to its runc run, with their times and
# the checks each skipped (by name, with the reason).
client_summary() {
	local c r line
	for c in containerd podman docker cri cri2; do
		for r in "$c" "$c-runc"; do
			[ -f "$logdir/$r.log" ] || continue
			line=$(grep -E '^[0-9]+ passed, [0-9]+ failed' "$logdir/$r.log" | tail -1)
			printf '%-16s %-36s %s\n' "$r" "${line:-no summary line}" "${times[$r]:-}"
			grep -E '^skip ' "$logdir/$r.log" | sed 's/^/    /'
		done
	done
}

# rt and upstream runc side by side on runc's own suite, when both ran.
if [ -f "$logdir/runc-bats/results.tsv" ] && [ -f "$logdir/runc-bats-runc/results.tsv" ]; then
	echo
	tests/runc-bats/compare.sh "$logdir/runc-bats" "$logdir/runc-bats-runc"
fi

echo
client_summary
for f in "${failures[@]}"; do echo "FAILED: $f"; done
echo "logs: $logdir"
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
