#!/usr/bin/env bash
# inside.sh is the part of run.sh that runs inside the test namespace, as pid 1 of its pid
# namespace: it mounts the cgroup hierarchies again (rooted, by the cgroup namespace, at the
# run's private cgroups), gives the suite a private /run and a loopback, and runs each test
# file with bats, under a watchdog, cleaning up after each file.
#
# Environment (from run.sh): WORK (scratch dir), RUNC, TEST_TIMEOUT, FILE_TIMEOUT, CRIU_DIR
# (a directory with a working `criu`, put first in PATH; may be empty).
# Writes $WORK/tap/FILE.tap per file, $WORK/tap/files.tsv ("FILE RC SECS" per file) and
# $WORK/leftovers (what the watchdog and the cleanup had to kill or remove).
set -uo pipefail

WATCHDOG_GRACE=${WATCHDOG_GRACE:-15}
RUNC_EXE=$(readlink -f "$RUNC")

note() { echo "$*" >>"$WORK/leftovers"; }

# mount_cgroups replaces the host's cgroup mounts with the same hierarchies mounted from
# this cgroup namespace. The host's are unmounted, not covered: runtimes read mountinfo.
mount_cgroups() {
	local mnt fstype opts
	umount -R /sys/fs/cgroup || return 1
	mount -t tmpfs -o mode=0755,nosuid,nodev,noexec rt-runc-bats /sys/fs/cgroup || return 1
	while read -r mnt fstype opts; do
		mkdir -p "$mnt" && mount -t "$fstype" -o "$opts" "$fstype" "$mnt" || return 1
	done <"$WORK/cgroup-mounts"
}

# hierarchies prints the mount point of every cgroup hierarchy.
hierarchies() {
	local mnt fstype opts
	while read -r mnt fstype opts; do echo "$mnt"; done <"$WORK/cgroup-mounts"
}

thaw_all() {
	local h
	for h in $(hierarchies); do
		find "$h" -mindepth 2 -name freezer.state -exec sh -c 'echo THAWED >"$1"' _ {} \; 2>/dev/null
		find "$h" -mindepth 2 -name cgroup.freeze -exec sh -c 'echo 0 >"$1"' _ {} \; 2>/dev/null
	done
	return 0
}

# kill_containers kills every process in a cgroup below the namespace's root: containers
# (the suite's own shells stay in the root).
kill_containers() {
	local h pid
	thaw_all
	for h in $(hierarchies); do
		while read -r pid; do
			kill -KILL "$pid" 2>/dev/null
		done < <(find "$h" -mindepth 2 -name cgroup.procs -exec cat {} + 2>/dev/null)
	done
}

# kill_runtimes kills the runtime's processes: the binary under test, and what runs from a
# sealed memfd copy of it.
kill_runtimes() {
	local p exe
	for p in /proc/[0-9]*; do
		exe=$(readlink "$p/exe" 2>/dev/null) || continue
		case $exe in
		"$RUNC_EXE" | /memfd:*) kill -KILL "${p#/proc/}" 2>/dev/null ;;
		esac
	done
}

# test_process prints the pid of the running test's shell: the bats-exec-test whose parent
# is bats-exec-file (the test's subshells carry the same command line).
test_process() {
	ps -eo pid=,ppid=,args= | awk '{ parent[$1] = $2; args[$1] = $0 }
		END { for (p in args) if (args[p] ~ /bats-exec-test/ && args[parent[p]] ~ /bats-exec-file/) print p }'
}

# descendants PID prints every descendant of PID.
descendants() {
	ps -eo pid=,ppid= | awk -v root="$1" '{ kids[$2] = kids[$2] " " $1 }
		END {
			n = split(kids[root], q, " ")
			for (i = 1; i <= n; i++) {
				print q[i]
				m = split(kids[q[i]], more, " ")
				for (j = 1; j <= m; j++) q[++n] = more[j]
			}
		}'
}

# kill_orphans PID kills every process but this namespace's init, the calling shell and
# PID's tree (bats and what runs it) and the caller's own.
kill_orphans() {
	local self=$BASHPID keep p
	keep=" 1 $self $1 $(descendants "$1" | tr '\n' ' ') $(descendants "$self" | tr '\n' ' ') "
	for p in /proc/[0-9]*; do
		p=${p#/proc/}
		[[ $keep == *" $p "* ]] || kill -KILL "$p" 2>/dev/null
	done
}

# watchdog is the per-test time limit. bats' own (BATS_TEST_TIMEOUT) cannot be used: its
# countdown is a background job of the test's shell, so a test's bare `wait` (events.bats)
# waits for it, and it cannot end a test while a frozen or hung process holds the test's
# output pipe. The watchdog sees a test run from the previous result line in the TAP file.
# When one has run for TEST_TIMEOUT seconds it records the test as timed out and kills the
# containers and the runtime's processes (the test then normally fails by itself); every
# WATCHDOG_GRACE seconds after that it kills more: the test's processes, then its shell and
# every process outside bats' own tree. Once every test of the file has reported, bats
# must end: if it has not after WATCHDOG_GRACE seconds, something a test left running (a
# failed update.bats test leaves its recvtty) holds bats' output open, and that is killed.
watchdog() {
	local file=$1 tap=$2 pid=$3 size last=-1 since=$SECONDS stage=0 elapsed ntests n p kids tick=$WORK/watchdog.fifo
	ntests=$(grep -c '^@test ' "$WORK/tests/integration/$file")
	# A read that times out on a fifo nobody writes is a sleep without a child process.
	[ -p "$tick" ] || mkfifo "$tick"
	while kill -0 "$pid" 2>/dev/null; do
		read -r -t 5 _ <>"$tick"
		size=$(stat -c %s "$tap" 2>/dev/null) || size=0
		if [ "$size" != "$last" ]; then
			last=$size since=$SECONDS stage=0
			continue
		fi
		elapsed=$((SECONDS - since))
		[ $elapsed -ge "$WATCHDOG_GRACE" ] || continue
		# The running test: the one after the last reported.
		n=$(awk '$1 == "ok" { n = $2 } $1 == "not" && $2 == "ok" { n = $3 } END { print n + 1 }' "$tap")
		if [ "$n" -gt "$ntests" ]; then
			note "$file: bats still running ${elapsed}s after its last test: killed the processes its tests left behind"
			kill_orphans "$pid"
			since=$SECONDS
			continue
		fi
		case $stage in
		0)
			[ $elapsed -ge "$TEST_TIMEOUT" ] || continue
			echo "$n" >>"$tap.timeouts"
			note "timeout: $file: test $n ran past ${TEST_TIMEOUT}s: killed its containers and the runtime's processes"
			kill_containers
			kill_runtimes
			;;
		1)
			[ $elapsed -ge $((TEST_TIMEOUT + WATCHDOG_GRACE)) ] || continue
			note "timeout: $file: test $n still running: killed its processes"
			for p in $(test_process); do
				mapfile -t kids < <(descendants "$p")
				[ ${#kids[@]} = 0 ] || kill -KILL "${kids[@]}" 2>/dev/null
			done
			;;
		2)
			[ $elapsed -ge $((TEST_TIMEOUT + 2 * WATCHDOG_GRACE)) ] || continue
			note "timeout: $file: test $n still running: killed its shell and the processes it left"
			for p in $(test_process); do
				kill -KILL "$p" 2>/dev/null
			done
			kill_orphans "$pid"
			;;
		*) continue ;;
		esac
		stage=$((stage + 1))
	done
}

# reap removes what a file left behind: every process in this pid namespace but this
# script, mounts under the scratch dir, loop devices backed there, and every cgroup.
reap() {
	local file=$1 p n=0 cgs h d m deadline
	thaw_all
	for p in /proc/[0-9]*; do
		p=${p#/proc/}
		[ "$p" = $$ ] && continue
		kill -KILL "$p" 2>/dev/null && n=$((n + 1))
	done
	[ $n = 0 ] || note "after $file: killed $n leftover processes"
	while read -r m; do
		umount -l "$m" 2>/dev/null
	done < <(awk -v w="$WORK/" 'index($5, w) == 1 { print $5 }' /proc/self/mountinfo | sort -r)
	for d in $(losetup -l -n -O NAME,BACK-FILE 2>/dev/null | awk -v w="$WORK/" 'index($2, w) == 1 { print $1 }'); do
		note "after $file: detached loop device $d"
		losetup -d "$d"
	done
	cgs=0
	# Killed processes can take seconds to leave their cgroups on a loaded machine.
	deadline=$((SECONDS + 30))
	for h in $(hierarchies); do
		while :; do
			while read -r d; do
				rmdir "$d" 2>/dev/null && cgs=$((cgs + 1))
			done < <(find "$h" -mindepth 1 -depth -type d 2>/dev/null)
			[ -z "$(find "$h" -mindepth 1 -type d 2>/dev/null)" ] && break
			[ $SECONDS -lt $deadline ] || break
			sleep 0.5
		done
		d=$(find "$h" -mindepth 1 -type d 2>/dev/null | head -1)
		[ -z "$d" ] || note "after $file: cannot remove cgroup $d"
	done
	[ $cgs = 0 ] || note "after $file: removed $cgs leftover cgroup directories"
	rm -rf "${WORK:?}"/tmp/*
}

# run_file runs one test file. bats gets a terminal, as in runc's CI (script -e): a
# foreground `runc run` with process.terminal opens /dev/tty. Its output goes straight to
# the TAP file, not through the terminal (which would add CRs). The terminal's input is a
# fifo nobody writes: from /dev/null, script would pass an end-of-file to it, which the
# first foreground container of the file reads as a NUL byte in its output.
run_file() {
	local file=$1 tap=$WORK/tap/$1.tap t0=$SECONDS rc bats_pid wd_pid cmd
	cmd=$(printf '%q ' env -u RUNC_USE_SYSTEMD -u ROOTLESS_FEATURES -u BATS_TEST_TIMEOUT RUNC="$RUNC" \
		TMPDIR="$WORK/tmp" RT_HARNESS_SKIPS="$WORK/skips.tsv" bats --tap --timing "$file")
	(
		cd "$WORK/tests/integration" &&
			exec timeout -k 10 "$FILE_TIMEOUT" script -qec "exec $cmd >$(printf %q "$tap") 2>&1" /dev/null
	) <>"$WORK/stdin.fifo" >/dev/null 2>&1 &
	bats_pid=$!
	watchdog "$file" "$tap" "$bats_pid" &
	wd_pid=$!
	wait "$bats_pid"
	rc=$?
	kill "$wd_pid" 2>/dev/null
	wait "$wd_pid" 2>/dev/null
	[ $rc = 124 ] || [ $rc = 137 ] && note "$file: the whole file ran past ${FILE_TIMEOUT}s and was killed"
	echo "$file $rc $((SECONDS - t0))" >>"$WORK/tap/files.tsv"
	printf '  %-34s exit %3d %5ds\n' "$file" "$rc" "$((SECONDS - t0))" >&2
	reap "$file"
}

main() {
	: >"$WORK/tap/files.tsv"
	: >"$WORK/leftovers"
	mkfifo "$WORK/stdin.fifo"
	mount_cgroups || { echo "inside: cannot mount the cgroup hierarchies" >&2; exit 1; }
	# ip netns and the like write below /run: keep that private to the run.
	mount -t tmpfs -o mode=0755,nosuid,nodev rt-runc-bats-run /run || exit 1
	# checkpoint.bats writes CRIU's configuration (/etc/criu/default.conf), which every CRIU
	# on the machine would read: /etc takes this run's writes in an overlay of its own.
	mkdir -p "$WORK/etc/upper" "$WORK/etc/work" || exit 1
	mount -t overlay rt-runc-bats-etc -o "lowerdir=/etc,upperdir=$WORK/etc/upper,workdir=$WORK/etc/work" /etc || exit 1
	[ -n "${CRIU_DIR:-}" ] && export PATH=$CRIU_DIR:$PATH
	ip link set lo up || exit 1
	local file
	while read -r file; do
		run_file "$file"
	done <"$WORK/files"
}

main
