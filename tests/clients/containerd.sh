#!/usr/bin/env bash
# containerd.sh drives $RUNTIME through containerd 1.6 and its runc v2 shim, as ctr users do:
# foreground run, detached lifecycle with exec/ps/pause/resume/metrics/kill/delete, a tty task,
# an exec with a tty, kill --all, a forced delete, stdin and env, and a running task checkpointed
# and restored (CRIU from tests/scripts/get-criu.sh; skipped, with the reason, without one).
#
# Usage: RUNTIME=/abs/path/to/runtime tests/clients/containerd.sh
#
# A private containerd (own socket, root and state under a temp work dir, CRI and other
# unused plugins off) runs in a private mount namespace so its snapshot mounts vanish with
# it. Containers get a relative cgroups path, so runtimes nest them under this script's
# cgroup. Every runtime invocation goes through an argv-logging wrapper; the distinct
# command shapes land in tests/clients/recorded/containerd-invocations.txt.
# Prints "N passed, M failed"; exits non-zero on any failure.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$HERE/../.." && pwd)
# shellcheck source=../scripts/lib.sh
. "$REPO/tests/scripts/lib.sh"

NS=rtclients
IMAGE=rt.test/busybox:latest
RECORD=${RECORD:-$HERE/recorded/containerd-invocations.txt}
CG_PARENT=rt-containerd-$$
CONTAINERD_PID=

die() { say "containerd.sh: $*"; exit 2; }

ctrc() { timeout -k 5 30 ctr --address "$WORK/containerd.sock" --namespace "$NS" "$@"; }

# exec_opts: detached execs leave their FIFOs behind; keep them in the work dir.
exec_opts() { printf '%s\n' --fifo-dir "$WORK/fifo"; }

# run_opts ID: what every `ctr run` here needs to use the wrapper and a nested cgroup.
run_opts() {
	printf '%s\n' --runc-binary "$WRAPPER" --runc-root "$WORK/runc" \
		--cgroup "$CG_PARENT/$1" --fifo-dir "$WORK/fifo"
}

write_config() {
	cat >"$WORK/config.toml" <<-EOF
		version = 2
		root = "$WORK/root"
		state = "$WORK/state"
		disabled_plugins = [
		  "io.containerd.grpc.v1.cri",
		  "io.containerd.internal.v1.opt",
		  "io.containerd.internal.v1.tracing",
		  "io.containerd.tracing.processor.v1.otlp",
		  "io.containerd.snapshotter.v1.aufs",
		  "io.containerd.snapshotter.v1.btrfs",
		  "io.containerd.snapshotter.v1.devmapper",
		  "io.containerd.snapshotter.v1.zfs",
		]
		[grpc]
		  address = "$WORK/containerd.sock"
		[ttrpc]
		  address = "$WORK/containerd.sock.ttrpc"
		[debug]
		  address = ""
		  level = "info"
		[metrics]
		  address = ""
		[plugins."io.containerd.monitor.v1.cgroups"]
		  no_prometheus = true
	EOF
}

start_containerd() {
	write_config
	# unshare execs containerd in place: the pid is containerd's. The shims it starts, and
	# the runtime under them, find CRIU in its PATH.
	PATH=${CRIU_DIR:+$CRIU_DIR:}$PATH TMPDIR=$WORK/tmp unshare --mount --propagation private -- \
		containerd --config "$WORK/config.toml" >"$WORK/containerd.log" 2>&1 &
	CONTAINERD_PID=$!
	wait_until 30 ctr --address "$WORK/containerd.sock" version ||
		{ tail -20 "$WORK/containerd.log" >&2; die "containerd did not come up"; }
}

import_image() {
	"$REPO/tests/scripts/oci-image.sh" "$WORK/image.tar" "$IMAGE" sh
	ctrc images import "$WORK/image.tar" >/dev/null
}

task_status() { ctrc task ls | awk -v id="$1" '$1 == id { print $3 }'; }

wait_status() {
	local id=$1 want=$2 i
	for i in $(seq 100); do
		[ "$(task_status "$id")" = "$want" ] && return 0
		sleep 0.1
	done
	return 1
}


scenario_foreground() {
	scenario a-foreground-exit-code
	local out rc=0
	# shellcheck disable=SC2046
	out=$(ctrc run --rm $(run_opts fg1) "$IMAGE" fg1 sh -c 'echo hello-$((6*7)); exit 3') || rc=$?
	expect_eq "foreground run prints the output" "$out" hello-42
	expect_eq "foreground run passes the exit code" "$rc" 3
}

scenario_detached() {
	scenario b-detached-lifecycle
	local out rc=0
	# shellcheck disable=SC2046
	check "run -d" ctrc run -d $(run_opts sleeper) "$IMAGE" sleeper \
		sh -c 'trap "exit 0" TERM; while true; do sleep 0.2; done'
	expect_eq "task is RUNNING" "$(task_status sleeper)" RUNNING
	out=$(ctrc task exec $(exec_opts) --exec-id e1 sleeper sh -c 'echo alive; exit 5') || rc=$?
	expect_eq "exec prints the output" "$out" alive
	expect_eq "exec passes the exit code" "$rc" 5
	check "exec --detach" ctrc task exec $(exec_opts) --detach --exec-id e2 sleeper sleep 2
	out=$(ctrc task ps sleeper | awk 'NR > 1 { n++ } END { print n + 0 }') || true
	expect_match "task ps lists the processes" "$out" '^[2-9]'
	check "pause" ctrc task pause sleeper
	expect_eq "task is PAUSED" "$(task_status sleeper)" PAUSED
	check "resume" ctrc task resume sleeper
	expect_eq "task is RUNNING again" "$(task_status sleeper)" RUNNING
	out=$(ctrc task exec $(exec_opts) --exec-id e3 sleeper sh -c 'echo after-resume') || true
	expect_eq "exec after resume" "$out" after-resume

	scenario d-metrics
	out=$(ctrc task metrics sleeper 2>&1) || true
	expect_match "task metrics reports memory" "$out" 'memory\.(usage|current)'
	expect_match "task metrics reports pids" "$out" 'pids\.current'

	scenario b2-kill-delete
	check "kill (SIGTERM)" ctrc task kill sleeper
	if wait_status sleeper STOPPED; then pass "task STOPPED after SIGTERM"; else fail "task STOPPED after SIGTERM" "status $(task_status sleeper)"; fi
	check "task delete" ctrc task delete sleeper
	check "container delete" ctrc containers delete sleeper
}

scenario_tty() {
	scenario c-tty
	local out rc=0
	# shellcheck disable=SC2046
	out=$(in_tty ctr --address "$WORK/containerd.sock" --namespace "$NS" run -t --rm \
		$(run_opts tty1) "$IMAGE" tty1 sh -c 'tty; exit 4') || rc=$?
	expect_match "run -t has a terminal" "$out" '/dev/pts/[0-9]+'
	expect_eq "run -t passes the exit code" "$rc" 4

	scenario c2-exec-tty
	# shellcheck disable=SC2046
	check "run -d tty2" ctrc run -d $(run_opts tty2) "$IMAGE" tty2 sleep 1000
	rc=0
	out=$(in_tty ctr --address "$WORK/containerd.sock" --namespace "$NS" task exec -t $(exec_opts) \
		--exec-id t1 tty2 sh -c 'tty; exit 6') || rc=$?
	expect_match "exec -t has a terminal" "$out" '/dev/pts/[0-9]+'
	expect_eq "exec -t passes the exit code" "$rc" 6
}

scenario_kill_all() {
	scenario e-kill-all-and-force-delete
	check "exec --detach bg" ctrc task exec $(exec_opts) --detach --exec-id bg tty2 sleep 1000
	check "kill --all SIGKILL" ctrc task kill --all --signal SIGKILL tty2
	if wait_status tty2 STOPPED; then pass "task STOPPED after kill --all"; else fail "task STOPPED after kill --all" "status $(task_status tty2)"; fi
	check "task delete tty2" ctrc task delete tty2
	check "container delete tty2" ctrc containers delete tty2
	# shellcheck disable=SC2046
	check "run -d force1" ctrc run -d $(run_opts force1) "$IMAGE" force1 sleep 1000
	check "task delete --force of a running task" ctrc task delete --force force1
	check "container delete force1" ctrc containers delete force1
}

scenario_stdin_env() {
	scenario f-stdin-and-env
	local out
	# shellcheck disable=SC2046
	out=$(printf 'from-stdin\n' | ctrc run --rm --env FOO=bar $(run_opts in1) "$IMAGE" in1 \
		sh -c 'read x; echo "$x $FOO"') || true
	expect_eq "stdin and env reach the process" "$out" "from-stdin bar"
}

# count ID prints what the counting task of scenario g last wrote.
count() {
	local v i
	# shellcheck disable=SC2046
	# The counter rewrites the file: a read may catch it empty.
	for i in 1 2 3 4 5; do
		v=$(ctrc task exec $(exec_opts) --exec-id "c$RANDOM" "$1" cat /tmp/count 2>/dev/null) || true
		[ -n "$v" ] && break
		sleep 0.05
	done
	echo "${v:-0}"
}

scenario_checkpoint() {
	scenario g-checkpoint-restore
	if [ -z "$CRIU_DIR" ]; then
		say "skip g-checkpoint-restore: $CRIU_MISSING"
		return
	fi
	local ref=rt.test/checkpoint:cr1 saved first second i
	# shellcheck disable=SC2046
	check "run -d a counting task" ctrc run -d $(run_opts cr1) "$IMAGE" cr1 \
		sh -c 'i=0; while :; do i=$((i+1)); echo $i >/tmp/count; sleep 0.1; done'
	for i in $(seq 100); do [ "$(count cr1)" -ge 30 ] && break; sleep 0.1; done
	# The task is saved with its rw layer and goes on running meanwhile.
	check "containers checkpoint --task --rw" ctrc containers checkpoint --task --rw cr1 "$ref"
	saved=$(count cr1)
	check "kill the original" ctrc task kill --signal SIGKILL cr1
	wait_status cr1 STOPPED || true
	check "task delete" ctrc task delete cr1
	check "container delete" ctrc containers delete cr1
	check "containers restore --live --rw" ctrc containers restore --live --rw cr1 "$ref"
	expect_eq "restored task is RUNNING" "$(task_status cr1)" RUNNING
	first=$(count cr1)
	sleep 0.5
	second=$(count cr1)
	# From the saved count on: a fresh start would count from 1 again.
	if [ "$first" -ge "$((saved - 5))" ] && [ "$second" -gt "$first" ]; then
		pass "the restored task counts on ($saved at the checkpoint, then $first, $second)"
	else
		fail "the restored task counts on" "$saved at the checkpoint, then $first, $second"
	fi
	check "kill the restored task" ctrc task kill --signal SIGKILL cr1
	wait_status cr1 STOPPED || true
	check "task delete (restored)" ctrc task delete cr1
	check "container delete (restored)" ctrc containers delete cr1
	ctrc images rm "$ref" >/dev/null 2>&1 || true
}

# no_leftovers checks that the runtime removed what it made.
scenario_leftovers() {
	scenario z-leftovers
	local left
	left=$("$RUNTIME" --root "$WORK/runc/$NS" list -q 2>/dev/null | tr '\n' ' ')
	expect_eq "runtime lists no containers" "$left" ""
	left=$(cgroups_below "$CG_PARENT" | head -3) || true
	expect_eq "no container cgroups left" "$left" ""
}

cleanup() {
	local rc=$? id f
	set +e
	if [ -n "$CONTAINERD_PID" ] && kill -0 "$CONTAINERD_PID" 2>/dev/null; then
		for id in $(ctrc task ls -q 2>/dev/null); do
			ctrc task kill --all --signal SIGKILL "$id" >/dev/null 2>&1
			ctrc task delete --force "$id" >/dev/null 2>&1
		done
		for id in $(ctrc containers ls -q 2>/dev/null); do
			ctrc containers delete "$id" >/dev/null 2>&1
		done
		stop_pid "$CONTAINERD_PID"
	fi
	for f in "$WORK"/state/io.containerd.runtime.v2.task/*/*/shim.pid; do
		[ -f "$f" ] && stop_pid "$(cat "$f")"
	done
	for id in $("$RUNTIME" --root "$WORK/runc/$NS" list -q 2>/dev/null); do
		"$RUNTIME" --root "$WORK/runc/$NS" delete --force "$id" >/dev/null 2>&1
	done
	remove_cgroup_trees "$CG_PARENT"
	remove_new_dirs
	rm -rf "$WORK"
	exit $rc
}

main() {
	require_runtime
	require_tools containerd ctr containerd-shim-runc-v2 jq script unshare

	WORK=$(mktemp -d /tmp/rt-containerd.XXXXXX)
	trap cleanup EXIT
	trap 'exit 130' INT TERM
	chmod 0755 "$WORK"
	mkdir -p "$WORK/fifo" "$WORK/runc" "$WORK/tmp"
	# The 1.6 shim puts its sockets under /run/containerd/s whatever the config says.
	track_new_dir /run/containerd
	INVOCATION_LOG=$WORK/invocations.log
	WRAPPER=$WORK/runtime
	: >"$INVOCATION_LOG"
	write_argv_logger "$WRAPPER" "$RUNTIME" "$INVOCATION_LOG"

	# Checkpoint/restore needs a CRIU that works on this kernel (Debian 12's does not).
	CRIU_DIR= CRIU_MISSING=
	if criu=$("$REPO/tests/scripts/get-criu.sh" 2>"$WORK/get-criu.log"); then
		CRIU_DIR=$(dirname "$criu")
	else
		CRIU_MISSING=$(tail -1 "$WORK/get-criu.log")
	fi
	start_containerd
	import_image

	scenario_foreground
	scenario_detached
	scenario_tty
	scenario_kill_all
	scenario_stdin_env
	scenario_checkpoint
	scenario_leftovers

	mkdir -p "$(dirname "$RECORD")"
	record_invocations "$INVOCATION_LOG" "$RECORD" "$WORK" \
		"Runtime invocations made by containerd-shim-runc-v2 ($(containerd --version | awk '{print $3}'))" \
		"driven by ctr, recorded by an argv-logging wrapper passed as --runc-binary." \
		"Generated by tests/clients/containerd.sh against: $("$RUNTIME" --version 2>/dev/null | head -1)"
	print_tally
}

main "$@"
