#!/usr/bin/env bash
# timeline.sh prints where one `rt run` of /bin/true and one `rt exec` spend their time: each is
# traced with `strace -f -tt -T` inside make bench's namespaces (tests/bench/run.sh --exec), and
# the trace is summarised as milestones (ms since rt's execve) and as time spent in system calls.
# strace slows every system call down, so read the milestones for order and relative size; the
# unperturbed figures are in TIMELINE.md. The traces stay in _build/bench/timeline/.
#
# Usage: tests/bench/timeline.sh [RT]   (default ./rt); --summarise prints the last traces again
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$HERE/../.." && pwd)
OUT=$REPO/_build/bench/timeline

# merged FILE prints the trace with each "<unfinished ...>" call joined to its "resumed" end: one
# line per call, at its start time, with its whole duration.
merged() {
	awk '
	/<unfinished \.\.\.>$/ { pend[$1] = $0; sub(/ <unfinished \.\.\.>$/, "", pend[$1]); next }
	/<\.\.\. [a-z0-9_]+ resumed>/ && ($1 in pend) {
		rest = $0; sub(/^.*resumed> ?/, "", rest); print pend[$1] rest; delete pend[$1]; next
	}
	{ print }' "$1"
}

# milestones FILE prints the events that mark the phases of a start-up.
milestones() {
	merged "$1" | awk '
	function ms(ts,   a) { split(ts, a, ":"); return (a[1] * 3600 + a[2] * 60 + a[3]) * 1000 }
	function dur(line,   m) { if (match(line, /<[0-9.]+>$/)) return substr(line, RSTART + 1, RLENGTH - 2) * 1000; return -1 }
	function show(what,   d) {
		d = dur($0)
		printf "%8.2f  %-7s %-52s %s\n", ms($2) - t0, $1, substr(what, 1, 52), (d >= 0 ? sprintf("(%.2f ms)", d) : "")
	}
	NR == 1 { t0 = ms($2); proc[$1] = 1 }
	# Processes (not threads): their exits are milestones.
	/clone/ && !/CLONE_THREAD/ && match($0, /= [0-9]+ </) { proc[substr($0, RSTART + 2, RLENGTH - 4)] = 1 }
	/execve\(|execveat\(/                              { show("exec " $3); next }
	/memfd_create/                                     { show("memfd_create"); next }
	/sendfile\(/                                       { show("sendfile (copy of the binary)"); next }
	/clone.*CLONE_NEW/                                 { show("clone with new namespaces"); next }
	/clone\(child_stack=NULL, flags=SIGCHLD/           { show("fork (nsenter intermediate)"); next }
	/flags=CLONE_PARENT\|SIGCHLD/                      { show("fork CLONE_PARENT (final child)"); next }
	/flags=CLONE_VM\|CLONE_PIDFD\|CLONE_VFORK,/        { show("clone: Go os package pidfd probe child"); next }
	/cgroup.procs|\/tasks"/ && /openat/                { cg = $0; sub(/.*fs\/cgroup\//, "", cg); sub(/".*/, "", cg); next }
	/^[0-9]+ +[0-9:.]+ write\([0-9]+, "[0-9]+", [0-9]+/ && cg != "" { show("move into " cg); cg = ""; next }
	/pivot_root/                                       { show("pivot_root"); next }
	/rename.*state.json/                               { show("state.json written"); next }
	/exec.fifo/ && /O_WRONLY/                          { show("init: open exec.fifo (blocks until start)"); next }
	/exec.fifo/ && /O_RDONLY\|O_CLOEXEC\)/             { show("start: open exec.fifo"); next }
	/exited with|killed by/ && ($1 in proc)            { show("process exits"); next }
	/wait4\(-1/ && !/= 0 </ && !/ECHILD/               { show("reaped"); next }
	'
	awk '{ print $1 }' "$1" | sort -u | wc -l | xargs printf '  (%s threads/processes)\n'
}

# syscall_time FILE prints the 12 system calls with the most time spent in them (all threads),
# leaving out the Go runtime's idle waits (futex, nanosleep, epoll_pwait).
syscall_time() {
	merged "$1" | awk '
	{
		d = -1
		if (match($0, /<[0-9.]+>$/)) d = substr($0, RSTART + 1, RLENGTH - 2) * 1000
		if (d < 0) next
		name = $3
		if (name == "<...") name = $4
		sub(/\(.*/, "", name)
		if (name == "futex" || name == "nanosleep" || name == "epoll_pwait") next
		t[name] += d; n[name]++
	}
	END { for (k in t) printf "%9.2f ms %6d  %s\n", t[k], n[k], k }' | sort -rn | head -12
}

# inside runs in the benchmark namespaces with a tmpfs WORK.
inside() {
	local rt=$1 work=$2 b
	for b in true sleep; do
		mkdir -p "$work/$b"
	done
	jq --arg rootfs "$REPO/_build/bench/template/rootfs" '.root.path = $rootfs | .process.args = ["/bin/true"]
		| .linux.cgroupsPath = "/bench/t-true"' "$REPO/_build/bench/template/config.json" >"$work/true/config.json"
	jq --arg rootfs "$REPO/_build/bench/template/rootfs" '.root.path = $rootfs | .process.args = ["/bin/sleep", "1000"]
		| .linux.cgroupsPath = "/bench/t-sleep"' "$REPO/_build/bench/template/config.json" >"$work/sleep/config.json"
	# Warm the page cache and the cgroup parents, as in a running system.
	"$rt" --root "$work/state" run --bundle "$work/true" warm
	strace -f -tt -T -o "$OUT/run.strace" "$rt" --root "$work/state" run --bundle "$work/true" t1
	"$rt" --root "$work/state" run --detach --bundle "$work/sleep" s1
	"$rt" --root "$work/state" exec s1 /bin/true
	strace -f -tt -T -o "$OUT/exec.strace" "$rt" --root "$work/state" exec s1 /bin/true
	GODEBUG=inittrace=1 "$rt" --root "$work/state" exec s1 /bin/true 2>"$OUT/exec.inittrace"
	"$rt" --root "$work/state" delete --force s1
}

main() {
	local rt=${1:-$REPO/rt}
	command -v strace >/dev/null || { echo "timeline: install strace" >&2; exit 2; }
	[ -f "$REPO/_build/bench/template/config.json" ] ||
		BUNDLE_CGROUPS_PATH="" "$REPO/tests/scripts/mkbundle.sh" "$REPO/_build/bench/template" /bin/true
	mkdir -p "$OUT"
	"$HERE/run.sh" --exec "$0" --inside "$rt"
	summarise
}

summarise() {
	local f
	for f in run exec; do
		echo "== rt $f: milestones (ms since rt's execve; strace's own overhead included)"
		milestones "$OUT/$f.strace"
		echo "== rt $f: time in system calls (all threads; waits on peers included, Go idle waits not)"
		syscall_time "$OUT/$f.strace"
		echo
	done
	echo "== package init() of the rt CLI (GODEBUG=inittrace=1): sum of clock time"
	awk '/^init / { for (i = 1; i <= NF; i++) if ($i == "clock,") s += $(i - 2) } END { printf "%.2f ms over %d packages\n", s, NR }' "$OUT/exec.inittrace"
}

case ${1:-} in
--inside) inside "$2" "$3" ;;
--summarise) summarise ;; # the traces of the last run again
*) main "$@" ;;
esac
