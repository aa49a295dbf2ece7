#!/usr/bin/env bash
# podman.sh drives $RUNTIME through podman 4.3 and conmon: run with output and exit code,
# run -d + exec + pause/unpause + stop + rm, run -it and exec -it under a terminal, kill and
# forced rm, stdin and env, and container checkpoint + restore of a running container (CRIU from
# tests/scripts/get-criu.sh; skipped, with the reason, without one).
#
# Usage: RUNTIME=/abs/path/to/runtime tests/clients/podman.sh
#
# podman keeps everything (storage, run dir, tmp dir, config) under a temp work dir and runs
# inside a private mount + cgroup namespace held open by a `sleep` process: with cgroupfs
# remounted there, podman's absolute cgroup paths (its cgroup parent and conmon's cgroup)
# nest under this script's cgroup, and its mounts vanish with the namespace. A relative
# --cgroup-parent does not help: podman then creates it at the root of every hierarchy.
# Every runtime invocation goes through an argv-logging wrapper; the distinct command shapes
# land in tests/clients/recorded/podman-invocations.txt.
# Prints "N passed, M failed"; exits non-zero on any failure.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$HERE/../.." && pwd)
# shellcheck source=../scripts/lib.sh
. "$REPO/tests/scripts/lib.sh"

IMAGE=localhost/rt-busybox:latest
RECORD=${RECORD:-$HERE/recorded/podman-invocations.txt}
CG_PARENT=rt-podman-$$
STORAGE_DRIVER=${PODMAN_STORAGE_DRIVER:-overlay}
HOLDER_PID=${HOLDER_PID:-}

die() { say "podman.sh: $*"; exit 2; }

# pod runs podman in the test namespace with the private configuration. Under a terminal
# (POD_TTY=1) timeout must leave podman in the terminal's foreground process group, or its
# first tcsetattr stops it with SIGTTOU.
pod() {
	local fg=
	[ "${POD_TTY:-}" = 1 ] && fg=--foreground
	timeout $fg -k 5 60 nsenter -t "$HOLDER_PID" -m -C -- env CONTAINERS_CONF="$WORK/containers.conf" \
		CONTAINERS_STORAGE_CONF="$WORK/storage.conf" TMPDIR="$WORK/tmp" \
		PATH="${CRIU_DIR:+$CRIU_DIR:}$PATH" podman --root "$WORK/root" --runroot "$WORK/runroot" --tmpdir "$WORK/libpod" \
		--runtime "$WRAPPER" --cgroup-manager cgroupfs --events-backend none \
		--storage-driver "$STORAGE_DRIVER" "$@"
}

# run_opts: every container here gets no network and a cgroup parent of its own.
run_opts() { printf '%s\n' --network none --cgroup-parent "/$CG_PARENT"; }

write_config() {
	# podman asks for RLIMIT_NOFILE/NPROC above the hard limits, which fails without
	# CAP_SYS_RESOURCE; ask for what this process has.
	local nofile nproc
	nofile=$(ulimit -Hn)
	nproc=$(ulimit -Hu)
	[ "$nproc" = unlimited ] || [ "$nproc" -gt 32768 ] && nproc=32768
	cat >"$WORK/containers.conf" <<-EOF
		[containers]
		default_ulimits = ["nofile=$nofile:$nofile", "nproc=$nproc:$nproc"]
		log_driver = "k8s-file"
		[engine]
		cgroup_manager = "cgroupfs"
		events_logger = "none"
		[network]
		network_config_dir = "$WORK/net"
	EOF
	cat >"$WORK/storage.conf" <<-EOF
		[storage]
		driver = "$STORAGE_DRIVER"
		runroot = "$WORK/runroot"
		graphroot = "$WORK/root"
	EOF
}

start_namespace() {
	unshare --mount --cgroup --propagation private -- bash -c '
		. "$1"
		mount_private_cgroupfs
		touch "$2"
		exec sleep infinity' holder "$REPO/tests/scripts/lib.sh" "$WORK/holder-ready" &
	HOLDER_PID=$!
	wait_until 10 test -e "$WORK/holder-ready" || die "the test namespace did not come up"
}

import_image() {
	BUNDLE_CGROUPS_PATH="" "$REPO/tests/scripts/mkbundle.sh" "$WORK/image-bundle" >/dev/null
	tar -C "$WORK/image-bundle/rootfs" --numeric-owner -cf "$WORK/rootfs.tar" .
	pod import --change CMD=sh "$WORK/rootfs.tar" "$IMAGE" >"$WORK/import.log" 2>&1 ||
		{ cat "$WORK/import.log" >&2; die "podman import failed"; }
}

status_of() { pod inspect --format '{{.State.Status}}' "$1" 2>/dev/null || echo missing; }

# status_after NAME WANT waits up to 10 s for the container to reach WANT (podman learns
# of an exit from conmon asynchronously after kill and stop return), then prints its status.
status_after() {
	local name=$1 want=$2
	local i
	for i in $(seq 100); do
		[ "$(status_of "$name")" = "$want" ] && break
		sleep 0.1
	done
	status_of "$name"
}


scenario_run() {
	scenario a-run-exit-code
	local out rc=0
	# shellcheck disable=SC2046
	out=$(pod run --rm $(run_opts) "$IMAGE" sh -c 'echo hello-$((6*7)); exit 3') || rc=$?
	expect_eq "run prints the output" "$out" hello-42
	expect_eq "run passes the exit code" "$rc" 3
}

scenario_detached() {
	scenario b-detached-exec-stop-rm
	local out rc=0
	# shellcheck disable=SC2046
	check "run -d" pod run -d --name sleeper $(run_opts) "$IMAGE" \
		sh -c 'trap "exit 0" TERM; while true; do sleep 0.2; done'
	expect_eq "container is running" "$(status_of sleeper)" running
	out=$(pod exec sleeper sh -c 'echo exec-out-$((6*7)); exit 5') || rc=$?
	expect_eq "exec prints the output" "$out" exec-out-42
	expect_eq "exec passes the exit code" "$rc" 5
	out=$(pod exec -e FOO=bar sleeper sh -c 'echo $FOO') || true
	expect_eq "exec -e sets the environment" "$out" bar
	check "pause" pod pause sleeper
	expect_eq "container is paused" "$(status_of sleeper)" paused
	check "unpause" pod unpause sleeper
	expect_eq "container is running again" "$(status_of sleeper)" running
	out=$(pod top sleeper pid args 2>/dev/null | awk 'NR > 1 { n++ } END { print n + 0 }') || true
	expect_match "top lists the processes" "$out" '^[1-9]'
	check "stop (SIGTERM)" pod stop --time 10 sleeper
	expect_eq "container exited" "$(status_after sleeper exited)" exited
	out=$(pod inspect --format '{{.State.ExitCode}}' sleeper) || true
	expect_eq "exit code after SIGTERM" "$out" 0
	check "rm" pod rm sleeper
}

scenario_tty() {
	scenario c-run-it
	local out rc=0 cmd
	# shellcheck disable=SC2046
	# The sleep: podman 4.3 now and then loses a tty container's last output when the
	# container exits at once (seen with runc too).
	out=$(POD_TTY=1 in_tty "$REPO/tests/clients/podman.sh" __pod run -it --rm $(run_opts) "$IMAGE" \
		sh -c 'tty; sleep 0.5; exit 4') || rc=$?
	expect_match "run -it has a terminal" "$out" '/dev/pts/[0-9]+'
	expect_eq "run -it passes the exit code" "$rc" 4

	scenario c2-exec-it
	# shellcheck disable=SC2046
	check "run -d tty2" pod run -d --name tty2 $(run_opts) "$IMAGE" sleep 1000
	rc=0
	out=$(POD_TTY=1 in_tty "$REPO/tests/clients/podman.sh" __pod exec -it tty2 sh -c 'tty; exit 6') || rc=$?
	expect_match "exec -it has a terminal" "$out" '/dev/pts/[0-9]+'
	expect_eq "exec -it passes the exit code" "$rc" 6
}

scenario_kill() {
	scenario d-kill-and-force-rm
	check "kill" pod kill tty2
	expect_eq "container exited after kill" "$(status_after tty2 exited)" exited
	check "rm -f of an exited container" pod rm -f tty2
	# shellcheck disable=SC2046
	check "run -d k2" pod run -d --name k2 $(run_opts) "$IMAGE" sleep 1000
	check "rm -f of a running container" pod rm -f --time 0 k2
	expect_eq "k2 is gone" "$(status_of k2)" missing
}

scenario_stdin_env() {
	scenario e-stdin-env
	local out
	# shellcheck disable=SC2046
	out=$(printf 'from-stdin\n' | pod run -i --rm -e FOO=bar $(run_opts) "$IMAGE" \
		sh -c 'read x; echo "$x $FOO"') || true
	expect_eq "stdin and env reach the process" "$out" "from-stdin bar"
}

# count NAME prints what the counting container of scenario f last wrote.
count() {
	local v i
	# The counter rewrites the file: a read may catch it empty.
	for i in 1 2 3 4 5; do
		v=$(pod exec "$1" cat /tmp/count 2>/dev/null) || true
		[ -n "$v" ] && break
		sleep 0.05
	done
	echo "${v:-0}"
}

scenario_checkpoint() {
	scenario f-checkpoint-restore
	if [ -z "$CRIU_DIR" ]; then
		say "skip f-checkpoint-restore: $CRIU_MISSING"
		return
	fi
	local saved first second i
	# shellcheck disable=SC2046
	check "run -d a counting container" pod run -d --name cr1 $(run_opts) "$IMAGE" \
		sh -c 'i=0; while :; do i=$((i+1)); echo $i >/tmp/count; sleep 0.1; done'
	for i in $(seq 100); do [ "$(count cr1)" -ge 30 ] && break; sleep 0.1; done
	saved=$(count cr1)
	check "container checkpoint" pod container checkpoint cr1
	expect_eq "the checkpointed container has exited" "$(status_of cr1)" exited
	check "container restore" pod container restore cr1
	expect_eq "the restored container is running" "$(status_of cr1)" running
	first=$(count cr1)
	sleep 0.5
	second=$(count cr1)
	# From the saved count on: a fresh start would count from 1 again.
	if [ "$first" -ge "$saved" ] && [ "$second" -gt "$first" ]; then
		pass "the restored container counts on ($saved before the checkpoint, then $first, $second)"
	else
		fail "the restored container counts on" "$saved before the checkpoint, then $first, $second"
	fi
	check "rm -f the restored container" pod rm -f --time 0 cr1
}

scenario_leftovers() {
	scenario z-leftovers
	local left
	left=$(pod ps -aq | tr '\n' ' ')
	expect_eq "podman lists no containers" "$left" ""
	left=$(cgroups_below "$CG_PARENT" | grep /libpod- | head -3) || true
	expect_eq "no container cgroups left" "$left" ""
}

cleanup() {
	local rc=$? id f
	set +e
	if [ -n "$HOLDER_PID" ] && kill -0 "$HOLDER_PID" 2>/dev/null; then
		for id in $(pod ps -aq --no-trunc 2>/dev/null); do
			pod rm -f --time 0 "$id" >/dev/null 2>&1
			# podman's default runtime root is the runtime's own; leave nothing there.
			"$RUNTIME" delete --force "$id" >/dev/null 2>&1
		done
		for f in "$WORK"/runroot/*-containers/*/userdata/conmon.pid; do
			[ -f "$f" ] && stop_pid "$(cat "$f")"
		done
		pod rmi -af >/dev/null 2>&1
		stop_pid "$HOLDER_PID"
	fi
	remove_cgroup_trees "$CG_PARENT"
	remove_new_dirs
	rm -rf "$WORK"
	exit $rc
}

main() {
	require_runtime
	require_tools podman conmon jq script unshare nsenter

	WORK=$(mktemp -d /tmp/rt-podman.XXXXXX)
	trap cleanup EXIT
	trap 'exit 130' INT TERM
	chmod 0755 "$WORK"
	mkdir -p "$WORK/tmp" "$WORK/libpod" "$WORK/net"
	# Not configurable: netavark's run dir, and the runtime's default state root (conmon
	# passes no --root).
	track_new_dir /run/containers "/run/$(basename "$RUNTIME")"
	INVOCATION_LOG=$WORK/invocations.log
	WRAPPER=$WORK/runtime
	: >"$INVOCATION_LOG"
	write_argv_logger "$WRAPPER" "$RUNTIME" "$INVOCATION_LOG"
	write_config
	# Checkpoint/restore needs a CRIU that works on this kernel (Debian 12's does not);
	# podman checks it too, so it goes first in podman's PATH.
	CRIU_DIR= CRIU_MISSING=
	if criu=$("$REPO/tests/scripts/get-criu.sh" 2>"$WORK/get-criu.log"); then
		CRIU_DIR=$(dirname "$criu")
	else
		CRIU_MISSING=$(tail -1 "$WORK/get-criu.log")
	fi
	start_namespace
	# The terminal scenarios re-enter this script under `script`; they need these.
	export WORK WRAPPER HOLDER_PID STORAGE_DRIVER CRIU_DIR

	import_image
	scenario_run
	scenario_detached
	scenario_tty
	scenario_kill
	scenario_stdin_env
	scenario_checkpoint
	scenario_leftovers

	mkdir -p "$(dirname "$RECORD")"
	record_invocations "$INVOCATION_LOG" "$RECORD" "$WORK" \
		"Runtime invocations made under podman $(podman --version | awk '{print $3}') / conmon $(conmon --version | awk 'NR == 1 {print $3}')" \
		"(caller in parentheses: conmon, podman, or another process), recorded by an argv-logging" \
		"wrapper passed as --runtime. Generated by tests/clients/podman.sh against: $("$RUNTIME" --version 2>/dev/null | head -1)"
	print_tally
}

if [ "${1:-}" = __pod ]; then
	shift
	pod "$@"
else
	main "$@"
fi
