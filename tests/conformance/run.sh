#!/usr/bin/env bash
# Runs the OCI runtime-tools validation suite against $RUNTIME and prints one line per program:
#
#   PASS|FAIL name ok notok skip secs      (+ failing assertions and the first stderr line)
#   ...
#   N passed, M failed, K skipped          (assertions)
#
# Usage: RUNTIME=/abs/path/to/runtime tests/conformance/run.sh [program ...]
#
# Environment:
#   RUNTIME               runtime binary, absolute path (required)
#   CONFORMANCE_BASELINE  report file to compare with: exit 1 if an assertion fails here that
#                         the baseline passes (programs named "# flaky: NAME" in it only warn)
#   CONFORMANCE_REPORT    also write the report to this file
#   TEST_TIMEOUT          seconds per program (default 60)
#   HIDE_CGROUP2          0: mount cgroup2 at /sys/fs/cgroup/unified in the test namespace;
#                         1: leave it out (crun refuses hybrid hosts); auto (default): 1 for crun
#   ISOLATE_ROOT          1 (default): the runtime keeps its state in the work dir (--root)
#
# Exit status: 0 when the suite ran (assertion failures are reported, not fatal), 1 on a
# baseline regression, 2 when the harness itself broke.
#
# The programs need absolute cgroup paths; they run inside a private mount + cgroup namespace
# with cgroupfs remounted, so every cgroup they make nests under the caller's own cgroups.
set -euo pipefail

RT_TOOLS_MODULE=github.com/opencontainers/runtime-tools
RT_TOOLS_VERSION=v0.9.1-0.20251114084447-edf4cb3d2116

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$HERE/../.." && pwd)
# shellcheck source=../scripts/lib.sh
. "$REPO/tests/scripts/lib.sh"
BUILD_DIR=${CONFORMANCE_BUILD_DIR:-$REPO/_build/conformance}
BIN_DIR=$BUILD_DIR/bin
TEST_TIMEOUT=${TEST_TIMEOUT:-60}
ISOLATE_ROOT=${ISOLATE_ROOT:-1}
HIDE_CGROUP2=${HIDE_CGROUP2:-auto}

die() { echo "conformance: $*" >&2; exit 2; }
log() { echo "conformance: $*" >&2; }

# ---------------------------------------------------------------- building the suite

suite_is_built() {
	[ -f "$BIN_DIR/.version" ] && [ "$(cat "$BIN_DIR/.version")" = "$RT_TOOLS_VERSION" ] &&
		[ -x "$BIN_DIR/runtimetest" ] && [ -f "$BIN_DIR/rootfs-amd64.tar.gz" ] &&
		[ -s "$BIN_DIR/programs.txt" ]
}

# build_suite fetches the module zip from the Go module proxy and builds every validation
# program plus a static runtimetest. The zip has no vendor tree, so dependencies resolve
# with -mod=mod in a writable copy.
build_suite() {
	suite_is_built && return 0
	log "building runtime-tools $RT_TOOLS_VERSION in $BUILD_DIR"
	local dir src=$BUILD_DIR/src
	mkdir -p "$BUILD_DIR"
	dir=$(cd "$BUILD_DIR" && GOFLAGS= GOWORK=off go mod download -json "$RT_TOOLS_MODULE@$RT_TOOLS_VERSION" | jq -r .Dir)
	[ -d "$dir" ] || die "go mod download gave no module dir"
	rm -rf "$src" "$BIN_DIR"
	cp -r "$dir" "$src"
	chmod -R u+w "$src"
	rm -rf "$src/vendor"
	mkdir -p "$BIN_DIR"
	(
		cd "$src"
		export GOWORK=off GOTOOLCHAIN=local GOFLAGS="-mod=mod -buildvcs=false"
		go build -o "$BIN_DIR/" ./validation/...
		CGO_ENABLED=0 go build -o "$BIN_DIR/runtimetest" ./cmd/runtimetest
	) || die "building the validation programs failed"
	cp "$src/rootfs-amd64.tar.gz" "$BIN_DIR/"
	find "$src/validation" -mindepth 1 -maxdepth 1 -type d ! -name util -printf '%f\n' | sort >"$BIN_DIR/programs.txt"
	echo "$RT_TOOLS_VERSION" >"$BIN_DIR/.version"
}

# ---------------------------------------------------------------- inside the namespace

cgroup_dirs() {
	find /sys/fs/cgroup -mindepth 2 -type d 2>/dev/null | sort
}

# remove_new_cgroups removes the cgroups the run created (deepest first), leaving those that
# existed before it started.
remove_new_cgroups() {
	local before=$1 d left=0
	while read -r d; do
		rmdir "$d" 2>/dev/null || { left=1; log "cannot remove cgroup $d"; }
	done < <(comm -13 "$before" <(cgroup_dirs) | sort -r)
	return $left
}

# delete_leftover_containers force-deletes what a failed or timed-out program left behind.
delete_leftover_containers() {
	[ "$ISOLATE_ROOT" = 1 ] || return 0
	local id
	for id in $("$RUNTIME" --root "$STATE_DIR" list -q 2>/dev/null); do
		log "deleting leftover container $id"
		"$RUNTIME" --root "$STATE_DIR" delete --force "$id" >/dev/null 2>&1 || log "cannot delete $id"
	done
}

# run_program runs one validation program and appends its report block.
run_program() {
	local name=$1 rc=0 out err t0 t1 secs
	out=$WORK/out/$name.tap err=$WORK/out/$name.err
	t0=$(date +%s.%N)
	(cd "$BIN_DIR" && RUNTIME=$SUITE_RUNTIME TMPDIR=$TEST_TMP \
		timeout --kill-after=5 "$TEST_TIMEOUT" "./$name" >"$out" 2>"$err" </dev/null) || rc=$?
	t1=$(date +%s.%N)
	secs=$(awk -v a="$t0" -v b="$t1" 'BEGIN { print b - a }')
	awk -f "$HERE/tap-summary.awk" -v name="$name" -v rc="$rc" -v secs="$secs" \
		-v tmpdir="$TEST_TMP" -v timeout="$TEST_TIMEOUT" "$out" "$err" | tee -a "$REPORT"
}

inside() {
	# The hierarchies are rooted (by the cgroup namespace) at the caller's cgroups.
	if [ "$HIDE_CGROUP2" = 0 ]; then mount_private_cgroupfs unified; else mount_private_cgroupfs; fi
	local program t0
	cgroup_dirs >"$WORK/cgroups-before"
	trap 'delete_leftover_containers; remove_new_cgroups "$WORK/cgroups-before" || true' EXIT
	t0=$SECONDS
	while read -r program; do
		run_program "$program"
		delete_leftover_containers
	done <"$WORK/programs"
	echo "# wall time $((SECONDS - t0))s" | tee -a "$REPORT"
}

# ---------------------------------------------------------------- outside

write_runtime_wrapper() {
	if [ "$ISOLATE_ROOT" = 1 ]; then
		SUITE_RUNTIME=$WORK/runtime
		printf '#!/bin/sh\nexec %q --root %q "$@"\n' "$RUNTIME" "$STATE_DIR" >"$SUITE_RUNTIME"
		chmod 0755 "$SUITE_RUNTIME"
	else
		SUITE_RUNTIME=$RUNTIME
	fi
}

write_header() {
	local version host_cg=hybrid
	version=$("$RUNTIME" --version 2>/dev/null | head -1) || version="version unknown"
	[ -d /sys/fs/cgroup/unified ] || host_cg=unknown
	[ "$(stat -fc %T /sys/fs/cgroup)" = cgroup2fs ] && host_cg=unified
	{
		echo "# runtime-tools $RT_TOOLS_MODULE@$RT_TOOLS_VERSION"
		echo "# RUNTIME=$RUNTIME ($version)"
		echo "# CGROUP_MODE=ns HIDE_CGROUP2=$HIDE_CGROUP2 ISOLATE_ROOT=$ISOLATE_ROOT TEST_TIMEOUT=${TEST_TIMEOUT}s kernel=$(uname -r) host-cgroups=$host_cg"
		printf '# %-6s %-29s %5s %5s %4s %6s\n' status program ok notok skip secs
	} | tee "$REPORT"
}

write_totals() {
	local totals
	totals=$(awk '$1 == "PASS" || $1 == "FAIL" { p += $3; f += $4; s += $5 }
		END { printf "%d passed, %d failed, %d skipped\n", p, f, s }' "$REPORT")
	echo "$totals" >>"$REPORT"
	echo "$totals"
}

cleanup() {
	local rc=$?
	[ -n "${WORK:-}" ] && [ -d "$WORK" ] && rm -rf "$WORK"
	exit $rc
}

main() {
	[ -n "${RUNTIME:-}" ] || die "set RUNTIME to the runtime binary (absolute path)"
	case $RUNTIME in /*) ;; *) die "RUNTIME must be an absolute path: $RUNTIME" ;; esac
	[ -x "$RUNTIME" ] || die "RUNTIME is not executable: $RUNTIME"
	for tool in go jq unshare timeout; do
		command -v $tool >/dev/null || die "missing $tool (run make deps)"
	done
	if [ "$HIDE_CGROUP2" = auto ]; then
		HIDE_CGROUP2=0
		"$RUNTIME" --version 2>/dev/null | grep -q '^crun' && HIDE_CGROUP2=1
	fi

	build_suite

	# World-searchable: the user-namespace programs run container processes as other uids.
	WORK=$(mktemp -d /tmp/rt-conformance.XXXXXX)
	trap cleanup EXIT
	trap 'exit 130' INT TERM
	chmod 0755 "$WORK"
	TEST_TMP=$WORK/tmp STATE_DIR=$WORK/state REPORT=$WORK/report
	mkdir -m 0755 "$TEST_TMP" "$WORK/out"
	mkdir -m 0711 "$STATE_DIR"
	if [ $# -gt 0 ]; then
		printf '%s\n' "$@" >"$WORK/programs"
	else
		cp "$BIN_DIR/programs.txt" "$WORK/programs"
	fi
	while read -r p; do [ -x "$BIN_DIR/$p" ] || die "no validation program $p"; done <"$WORK/programs"
	write_runtime_wrapper
	write_header

	export RUNTIME SUITE_RUNTIME WORK TEST_TMP STATE_DIR REPORT HIDE_CGROUP2 ISOLATE_ROOT TEST_TIMEOUT
	unshare --mount --cgroup --propagation private -- "$0" --inside || die "the run in the test namespace broke"

	write_totals
	[ -n "${CONFORMANCE_REPORT:-}" ] && cp "$REPORT" "$CONFORMANCE_REPORT"
	if [ -n "${CONFORMANCE_BASELINE:-}" ]; then
		[ -f "$CONFORMANCE_BASELINE" ] || die "no baseline file $CONFORMANCE_BASELINE"
		awk -f "$HERE/compare.awk" -v partial="$([ $# -gt 0 ] && echo 1 || echo 0)" \
			"$CONFORMANCE_BASELINE" "$REPORT" >&2 || return 1
	fi
}

if [ "${1:-}" = --inside ]; then
	inside
else
	main "$@"
fi
