#!/usr/bin/env bash
# run.sh is `make bench`: rt side by side with runc (Debian's 1.1.5 and upstream 1.5.2) and crun,
# in two comparisons (every runtime making cgroups for a bundle with limits; a bundle without
# linux.resources, crun also with --cgroup-manager=disabled), plus throughput, the smallest
# memory limit and scaling to 1,000 containers. Method: tests/bench/README.md.
#
# It builds what it needs (rt is built by make; upstream runc is built once from the Go module
# proxy and cached under /var/cache/rt-tests/runc-<version>/), makes a cgroup of its own in every
# v1 hierarchy, and starts one wrapper: a shell moved into that cgroup, which unshares a mount and
# cgroup namespace, remounts the v1 hierarchies there (rooted at the benchmark's cgroup, with no
# /sys/fs/cgroup/unified, which crun refuses) and execs tests/bench/rtbench. rtbench runs every
# sample inside, timing each command from fork to wait4 with a monotonic clock, so the wrapper
# costs nothing per sample.
#
# Environment:
#   QUICK=1         a short run (10 samples, scaling to 100 containers): a minute or two
#   BENCH_N         samples per latency figure (default 40; QUICK 10)
#   BENCH_SECTIONS  comma list of cgroups,nocgroups,throughput,memory,scaling (default all)
#   RT, RUNC, CRUN  binaries (default ./rt, runc and crun from PATH); RUNC_UPSTREAM a prebuilt
#                   runc 1.5.2 (default: the cached build)
#   RT_BEFORE       another rt binary (a build of an earlier commit), measured in the same run as
#                   the column rt-before: an optimisation's effect is the rt/rt-before ratio
# The table goes to stdout and to _build/bench/last.txt, every sample to _build/bench/samples.json.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$HERE/../.." && pwd)
# shellcheck source=../scripts/lib.sh
. "$REPO/tests/scripts/lib.sh"
export PATH=$PATH:/usr/local/go/bin

BUILD_DIR=$REPO/_build/bench

die() { say "bench: $*"; exit 2; }

# ---------------------------------------------------------------- inside the namespaces

# inside runs as the wrapper, already in the benchmark's cgroup and in fresh mount and cgroup
# namespaces: cgroupfs rooted at that cgroup, a tmpfs for state roots and bundles, then rtbench.
inside() {
	local work=$1
	shift
	mount_private_cgroupfs
	mount -t tmpfs -o mode=0700 rt-bench "$work"
	exec "$@" "$work"
}

# ---------------------------------------------------------------- setup

# bench_cgroup_dirs prints the benchmark's own cgroup in every v1 hierarchy it remounts.
bench_cgroup_dirs() {
	local c
	for c in "${V1_CONTROLLERS[@]}"; do
		own_cgroup_dirs "$CG_NAME" | grep "^/sys/fs/cgroup/$c/" || die "no $c hierarchy"
	done
}

make_bench_cgroups() {
	local d
	for d in $(bench_cgroup_dirs); do
		mkdir -p "$d"
		case $d in
		/sys/fs/cgroup/cpuset/*)
			cat "$(dirname "$d")/cpuset.cpus" >"$d/cpuset.cpus"
			cat "$(dirname "$d")/cpuset.mems" >"$d/cpuset.mems"
			;;
		esac
	done
}

# kill_leftovers kills, by pid, what is left in the benchmark's cgroups (containers of a
# rtbench that died): every process there was started by this benchmark.
kill_leftovers() {
	local d pid
	for d in $(bench_cgroup_dirs 2>/dev/null); do
		[ -d "$d" ] || continue
		for pid in $(find "$d" -name cgroup.procs -exec cat {} + 2>/dev/null); do
			say "bench: killing leftover process $pid ($(cat /proc/"$pid"/comm 2>/dev/null))"
			kill -KILL "$pid" 2>/dev/null || true
		done
	done
}

cleanup() {
	local rc=$?
	set +e
	kill_leftovers
	sleep 0.2
	remove_cgroup_trees "$CG_NAME"
	[ -n "${WORK:-}" ] && rm -rf "$WORK"
	exit $rc
}

main() {
	require_tools jq unshare go
	local rt=${RT:-$REPO/rt} distro_runc=${RUNC:-$(command -v runc || true)} crun=${CRUN:-$(command -v crun || true)}
	[ -x "$rt" ] || die "no rt binary at $rt (make rt)"
	local args=(-runtime "rt=$rt") runc15 v
	if [ -n "${RT_BEFORE:-}" ]; then
		[ -x "$RT_BEFORE" ] || die "RT_BEFORE: no rt binary at $RT_BEFORE"
		args+=(-runtime "rt-before=$RT_BEFORE")
	fi
	if runc15=$(upstream_runc) && [ -x "$runc15" ]; then
		args+=(-runtime "runc-$RUNC_UPSTREAM_VERSION=$runc15")
	else
		say "bench: no runc $RUNC_UPSTREAM_VERSION (build failed); going on without it"
	fi
	if [ -x "$distro_runc" ]; then
		v=$("$distro_runc" --version | head -1 | grep -o '[0-9]\+\.[0-9]\+\.[0-9]\+' | head -1)
		args+=(-runtime "runc-$v=$distro_runc")
	fi
	if [ -x "$crun" ]; then
		args+=(-runtime "crun=$crun,--cgroup-manager=cgroupfs" -runtime "crun-nocg=$crun,--cgroup-manager=disabled")
	fi
	[ "${QUICK:-0}" = 1 ] && args+=(-quick)
	[ -n "${BENCH_N:-}" ] && args+=(-n "$BENCH_N")
	[ -n "${BENCH_SECTIONS:-}" ] && args+=(-sections "$BENCH_SECTIONS")

	mkdir -p "$BUILD_DIR"
	(cd "$REPO" && go build -mod=vendor -o "$BUILD_DIR/rtbench" ./tests/bench/rtbench)
	BUNDLE_CGROUPS_PATH="" "$REPO/tests/scripts/mkbundle.sh" "$BUILD_DIR/template" /bin/true
	# A dynamically linked program whose loader the busybox rootfs lacks: its execve fails with
	# ENOENT, so a runtime's exec process exits and reports its own peak RSS (rtbench).
	install -m 0755 "$(type -P true)" "$BUILD_DIR/template/rootfs/bin/noexec"
	args+=(-template "$BUILD_DIR/template" -out "$BUILD_DIR/samples.json")
	in_bench_namespace "$BUILD_DIR/rtbench" "${args[@]}" -work | tee "$BUILD_DIR/last.txt"
}

# in_bench_namespace CMD... runs CMD WORKDIR in the benchmark's cgroup and namespaces (see the
# header), WORKDIR being a tmpfs there, and removes what it leaves behind.
in_bench_namespace() {
	CG_NAME=rt-bench-$$
	WORK=$(mktemp -d /tmp/rt-bench.XXXXXX)
	trap cleanup EXIT
	trap 'exit 130' INT TERM
	make_bench_cgroups
	# The wrapper moves itself (single-threaded, before any runtime starts) into the benchmark's
	# cgroups, which the cgroup namespace then takes as its root.
	# shellcheck disable=SC2016
	CG_DIRS="$(bench_cgroup_dirs | tr '\n' ' ')" bash -c 'for d in $CG_DIRS; do echo $$ >"$d/cgroup.procs"; done; exec "$@"' \
		wrapper unshare --mount --cgroup --propagation private -- "$HERE/run.sh" --inside "$WORK" "$@"
}

case ${1:-} in
--inside)
	shift
	inside "$@"
	;;
--exec)
	# run.sh --exec CMD... runs CMD WORKDIR in the benchmark's namespaces (tests/bench/timeline.sh).
	shift
	in_bench_namespace "$@"
	;;
*)
	main "$@"
	;;
esac
