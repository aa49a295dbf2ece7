#!/usr/bin/env bash
# run.sh (make bench) times rt, runc and crun side by side on one busybox bundle and prints
# the medians (ms) with the ratios rt/runc and rt/crun:
#
#   run      foreground `run` of /bin/true (create + start + wait + delete in one command)
#   create   `create` of a /bin/true container
#   start    `start` of it
#   delete   `delete` once it has stopped
#   exec     `exec ID /bin/true` into a running `sleep` container
#
# Environment: BENCH_N iterations (default 30), in BENCH_ROUNDS rounds (default 5) that take
# the runtimes in turn, so that the load of a shared machine spreads over all of them; RT,
# RUNC, CRUN binaries (default ./rt, runc and crun from PATH). A runtime that fails is
# reported as "NAME: failed (...)" and the others go on.
#
# rt and runc get a relative cgroupsPath, so their cgroups nest under this script's cgroup.
# crun refuses this hybrid host; it runs with --cgroup-manager=disabled in a private mount
# namespace where a tmpfs covers /sys/fs/cgroup/unified.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$HERE/../.." && pwd)
# shellcheck source=../scripts/lib.sh
. "$REPO/tests/scripts/lib.sh"

BENCH_N=${BENCH_N:-30}
BUILD_DIR=$REPO/_build/bench
OPS=(run create start delete exec)

die() { say "bench: $*"; exit 2; }

now_us() { echo "${EPOCHREALTIME/./}"; }

# ---------------------------------------------------------------- one runtime (re-executed)

rtcmd() { "$BIN" --root "$STATE" "${EXTRA_FLAGS[@]}" "$@"; }

# timed OP CMD... runs CMD and appends "OP microseconds" to the samples; on failure it
# records why and returns 1.
timed() {
	local op=$1 t0 t1 rc=0
	shift
	t0=$(now_us)
	"$@" </dev/null >/dev/null 2>"$WORK/$NAME.err" || rc=$?
	t1=$(now_us)
	if [ $rc -ne 0 ]; then
		echo "FAILED $op: exit $rc: $(grep -v '^\s*$' "$WORK/$NAME.err" | tail -1 | cut -c1-160)" >>"$SAMPLES"
		return 1
	fi
	echo "$op $((t1 - t0))" >>"$SAMPLES"
}

wait_stopped() {
	local i
	for i in $(seq 200); do
		[ "$(rtcmd state "$1" 2>/dev/null | jq -r .status)" = stopped ] && return 0
		sleep 0.01
	done
	echo "FAILED $2: $1 did not stop" >>"$SAMPLES"
	return 1
}

# measure runs ITERATIONS of every operation; ROUND keeps container ids apart.
measure() {
	local i id
	for i in $(seq "$ITERATIONS"); do
		timed run rtcmd run --bundle "$BUILD_DIR/true" "bench-run-$ROUND-$i" || return 0
	done
	for i in $(seq "$ITERATIONS"); do
		id=bench-cs-$ROUND-$i
		timed create rtcmd create --bundle "$BUILD_DIR/true" "$id" || return 0
		timed start rtcmd start "$id" || return 0
		wait_stopped "$id" start || return 0
		timed delete rtcmd delete "$id" || return 0
	done
	id=bench-exec-$ROUND
	timed create-sleep rtcmd create --bundle "$BUILD_DIR/sleep" "$id" || return 0
	timed start-sleep rtcmd start "$id" || return 0
	for i in $(seq "$ITERATIONS"); do
		timed exec rtcmd exec "$id" /bin/true || break
	done
	rtcmd delete --force "$id" >/dev/null 2>&1 || echo "FAILED cleanup: delete --force $id" >>"$SAMPLES"
}

# measure_runtime runs in its own mount namespace (see the header); leftovers are removed
# here too, where crun's view of the host applies.
measure_runtime() {
	if [ "$NAME" = crun ]; then
		mount -t tmpfs -o mode=0755 rt-bench /sys/fs/cgroup/unified
		EXTRA_FLAGS=(--cgroup-manager=disabled)
	else
		EXTRA_FLAGS=()
	fi
	mkdir -p "$STATE"
	trap 'delete_all' EXIT
	measure
}

delete_all() {
	local id
	for id in $(rtcmd list -q 2>/dev/null); do
		rtcmd delete --force "$id" >/dev/null 2>&1 || say "bench: cannot delete $NAME container $id"
	done
}

# ---------------------------------------------------------------- report

median_ms() {
	local op=$1 file=$2
	awk -v op="$op" '$1 == op { print $2 }' "$file" | sort -n |
		awk '{ v[NR] = $1 } END {
			if (NR == 0) { print "-"; exit }
			m = (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2
			printf "%.2f\n", m / 1000 }'
}

ratio() {
	awk -v a="$1" -v b="$2" 'BEGIN { if (a == "-" || b == "-" || b == 0) print "-"; else printf "%.2f\n", a / b }'
}

report() {
	local op name m
	declare -A med
	printf '\nbench: %d iterations, busybox bundle, medians in ms (%s)\n' "$BENCH_N" "$(uname -r)"
	for name in "${NAMES[@]}"; do
		if grep -q '^FAILED' "$WORK/$name.samples" 2>/dev/null; then
			printf '%s: failed (%s)\n' "$name" "$(grep -m1 '^FAILED' "$WORK/$name.samples" | cut -d' ' -f2-)"
		fi
	done
	printf '%-8s %9s %9s %9s %8s %8s\n' operation rt runc crun rt/runc rt/crun
	for op in "${OPS[@]}"; do
		for name in rt runc crun; do
			m=-
			[ -f "$WORK/$name.samples" ] && m=$(median_ms "$op" "$WORK/$name.samples")
			med[$name]=$m
		done
		printf '%-8s %9s %9s %9s %8s %8s\n' "$op" "${med[rt]}" "${med[runc]}" "${med[crun]}" \
			"$(ratio "${med[rt]}" "${med[runc]}")" "$(ratio "${med[rt]}" "${med[crun]}")"
	done
}

# ---------------------------------------------------------------- main

build_bundles() {
	BUNDLE_CGROUPS_PATH=$CG_PARENT/true "$REPO/tests/scripts/mkbundle.sh" "$BUILD_DIR/true" /bin/true
	BUNDLE_CGROUPS_PATH=$CG_PARENT/sleep "$REPO/tests/scripts/mkbundle.sh" "$BUILD_DIR/sleep" sleep 100000
}

cleanup() {
	local rc=$?
	set +e
	remove_cgroup_trees "$CG_PARENT"
	rm -rf "$WORK"
	exit $rc
}

main() {
	command -v jq >/dev/null || die "missing jq (run make deps)"
	local name bin
	declare -A bins=([rt]=${RT:-$REPO/rt} [runc]=${RUNC:-$(command -v runc || true)} [crun]=${CRUN:-$(command -v crun || true)})
	NAMES=(rt runc crun)
	CG_PARENT=rt-bench-$$
	WORK=$(mktemp -d /tmp/rt-bench.XXXXXX)
	trap cleanup EXIT
	trap 'exit 130' INT TERM
	build_bundles

	for name in "${NAMES[@]}"; do
		bin=${bins[$name]}
		: >"$WORK/$name.samples"
		if [ -z "$bin" ] || [ ! -x "$bin" ]; then
			echo "FAILED setup: no binary ${bin:-in PATH}" >"$WORK/$name.samples"
			continue
		fi
		say "bench: $name ($("$bin" --version 2>/dev/null | head -1))"
	done
	local rounds=${BENCH_ROUNDS:-5} round
	[ "$rounds" -le "$BENCH_N" ] || rounds=$BENCH_N
	for round in $(seq "$rounds"); do
		for name in "${NAMES[@]}"; do
			# A runtime that failed once is out.
			grep -q '^FAILED' "$WORK/$name.samples" && continue
			NAME=$name BIN=${bins[$name]} STATE=$WORK/$name.state SAMPLES=$WORK/$name.samples \
				WORK=$WORK ROUND=$round ITERATIONS=$(((BENCH_N + rounds - 1) / rounds)) \
				unshare --mount --propagation private -- "$0" --measure ||
				echo "FAILED harness: measuring $name broke" >>"$WORK/$name.samples"
		done
	done
	report
}

if [ "${1:-}" = --measure ]; then
	measure_runtime
else
	main "$@"
fi
