# lib.sh: helpers shared by the client and bench harnesses. Source it; it sets nothing up.
#
#   require_runtime              check $RUNTIME is an absolute path to an executable
#   require_tools TOOL...        check each TOOL is in PATH
#                                (both call the caller's die on failure)
#   in_tty CMD...                run CMD with a terminal (script's pty); prints its output
#                                without CRs and returns its exit status
#   check NAME CMD...            run CMD; count a pass when it exits 0
#   expect_eq NAME GOT WANT      count a pass when GOT = WANT
#   expect_match NAME GOT REGEX  count a pass when GOT matches the extended REGEX
#   skip NAME REASON             count a check not run here, with the reason
#   print_tally                  print "N passed, M failed" (", K skipped" when K > 0);
#                                returns 1 when M > 0
#   stop_pid PID                 SIGTERM, then SIGKILL after 10s, a process this script started
#   own_cgroup_dirs NAME         the host directories NAME would have, nested under this
#                                process's cgroup in every hierarchy
#   cgroups_below NAME           the cgroup directories below those (what containers left)
#   remove_cgroup_trees NAME     remove those directories and what is below them (deepest first)
#   mount_private_cgroupfs [unified]  in a private mount + cgroup namespace: tmpfs on
#                                /sys/fs/cgroup and the v1 controllers (and cgroup2 at unified
#                                when asked) mounted again, rooted at the caller's cgroups
#   track_new_dir DIR...         remember each DIR that does not exist yet (clients create some
#                                outside any configurable root)
#   remove_new_dirs              remove the empty directories below and including those
#   processes_in_ns TYPE NS      the pids of the processes in namespace NS of TYPE (net, mnt, …;
#                                NS as readlink /proc/PID/ns/TYPE prints it)
#   upstream_runc                print the path of upstream runc $RUNC_UPSTREAM_VERSION ($RUNC_UPSTREAM
#                                when set), built from the Go module proxy once into
#                                /var/cache/rt-tests/runc-<version>; returns 1 when the build fails
#   write_argv_logger FILE RUNTIME LOG   a runtime wrapper that appends "rc=N (caller) ARGS" to LOG
#   record_invocations LOG OUT TITLE...  write the recorded-invocations file from LOG

RUNC_UPSTREAM_VERSION=1.5.2

PASSED=0
FAILED=0
SKIPPED=0

say() { printf '%s\n' "$*" >&2; }

require_runtime() {
	[ -n "${RUNTIME:-}" ] || die "set RUNTIME to the runtime binary (absolute path)"
	case $RUNTIME in /*) ;; *) die "RUNTIME must be an absolute path: $RUNTIME" ;; esac
	[ -x "$RUNTIME" ] || die "RUNTIME is not executable: $RUNTIME"
}

require_tools() {
	local tool
	for tool in "$@"; do
		command -v "$tool" >/dev/null || die "missing $tool (run make deps)"
	done
}

in_tty() {
	local cmd
	cmd=$(printf '%q ' "$@")
	timeout -k 5 60 script -qec "$cmd" /dev/null </dev/null | tr -d '\r'
	return "${PIPESTATUS[0]}"
}

pass() {
	PASSED=$((PASSED + 1))
	printf 'ok   %s\n' "$1"
}

fail() {
	FAILED=$((FAILED + 1))
	printf 'FAIL %s: %s\n' "$1" "$2"
}

skip() {
	SKIPPED=$((SKIPPED + 1))
	printf 'skip %s: %s\n' "$1" "$2"
}

check() {
	local name=$1 out rc=0
	shift
	out=$("$@" 2>&1) || rc=$?
	if [ $rc -eq 0 ]; then pass "$name"; else fail "$name" "exit $rc: $(printf '%s' "$out" | tail -3)"; fi
	return 0
}

expect_eq() {
	if [ "$2" = "$3" ]; then pass "$1"; else fail "$1" "got '$2', want '$3'"; fi
}

expect_match() {
	if printf '%s' "$2" | grep -Eq -- "$3"; then pass "$1"; else fail "$1" "got '$2', want /$3/"; fi
}

print_tally() {
	if [ "$SKIPPED" -gt 0 ]; then
		echo "$PASSED passed, $FAILED failed, $SKIPPED skipped"
	else
		echo "$PASSED passed, $FAILED failed"
	fi
	[ "$FAILED" -eq 0 ]
}

# wait_until SECONDS CMD... polls CMD every 0.1s until it succeeds.
wait_until() {
	local deadline=$((SECONDS + $1))
	shift
	until "$@" >/dev/null 2>&1; do
		[ $SECONDS -lt $deadline ] || return 1
		sleep 0.1
	done
}

stop_pid() {
	local pid=$1 i
	kill -0 "$pid" 2>/dev/null || return 0
	kill -TERM "$pid" 2>/dev/null || true
	for i in $(seq 100); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	if kill -0 "$pid" 2>/dev/null; then
		say "pid $pid ignored SIGTERM; killing it"
		kill -KILL "$pid" 2>/dev/null || true
	fi
	wait "$pid" 2>/dev/null || true
}

# own_cgroup_dirs maps each line of /proc/self/cgroup to the hierarchy's mount point under
# /sys/fs/cgroup (v1 controllers by name, name=systemd as systemd, cgroup2 as unified).
own_cgroup_dirs() {
	local name=$1 unified=/sys/fs/cgroup/unified id ctrls path mnt
	[ "$(stat -fc %T /sys/fs/cgroup)" = cgroup2fs ] && unified=/sys/fs/cgroup
	while IFS=: read -r id ctrls path; do
		case $ctrls in
		"") mnt=$unified ;;
		name=*) mnt=/sys/fs/cgroup/${ctrls#name=} ;;
		*) mnt=/sys/fs/cgroup/${ctrls%%,*} ;;
		esac
		[ -d "$mnt" ] || continue
		printf '%s\n' "${mnt}${path%/}/$name"
	done </proc/self/cgroup | sort -u
}

cgroups_below() {
	local dir
	while read -r dir; do
		if [ -d "$dir" ]; then find "$dir" -mindepth 1 -type d; fi
	done < <(own_cgroup_dirs "$1")
}

remove_cgroup_trees() {
	local dir d
	while read -r dir; do
		[ -d "$dir" ] || continue
		while read -r d; do
			rmdir "$d" 2>/dev/null || say "cannot remove cgroup $d"
		done < <(find "$dir" -depth -type d)
	done < <(own_cgroup_dirs "$1")
}

NEW_DIRS=()

track_new_dir() {
	local d
	for d in "$@"; do
		[ -e "$d" ] || NEW_DIRS+=("$d")
	done
}

remove_new_dirs() {
	local d
	for d in "${NEW_DIRS[@]}"; do
		[ -d "$d" ] && find "$d" -depth -type d -empty -delete 2>/dev/null
		[ -e "$d" ] && say "left in place (not empty): $d"
	done
	return 0
}

V1_CONTROLLERS=(memory pids cpu cpuacct cpuset devices freezer blkio)

mount_private_cgroupfs() {
	# Unmount the host's hierarchies rather than cover them: runtimes read mountinfo, and a
	# covered name=systemd mount there sends them to a path that does not exist.
	umount -R /sys/fs/cgroup
	mount -t tmpfs -o mode=0755 rt-tests /sys/fs/cgroup
	local c
	for c in "${V1_CONTROLLERS[@]}"; do
		mkdir /sys/fs/cgroup/"$c"
		mount -t cgroup -o "$c" cgroup /sys/fs/cgroup/"$c"
	done
	if [ "${1:-}" = unified ]; then
		mkdir /sys/fs/cgroup/unified
		mount -t cgroup2 cgroup2 /sys/fs/cgroup/unified
	fi
}

processes_in_ns() {
	local p
	for p in /proc/[0-9]*; do
		[ "$(readlink "$p/ns/$1" 2>/dev/null)" = "$2" ] && echo "${p#/proc/}"
	done
	return 0
}

write_argv_logger() {
	local file=$1 runtime=$2 log=$3
	cat >"$file" <<-EOF
		#!/bin/sh
		# Logs each runtime invocation (argv, exit status, calling process) to $log and keeps
		# the first exec process.json. Runs the runtime as a child to see its exit status.
		log=$(printf %q "$log")
		prev=
		for a in "\$@"; do
		    if [ "\$prev" = --process ] && [ ! -e "\$log.process.json" ]; then cp "\$a" "\$log.process.json" 2>/dev/null; fi
		    prev=\$a
		done
		$(printf %q "$runtime") "\$@"
		rc=\$?
		printf 'rc=%s (%s) %s\n' "\$rc" "\$(cat /proc/\$PPID/comm 2>/dev/null || echo unknown)" "\$*" >>"\$log"
		exit \$rc
	EOF
	chmod 0755 "$file"
}

# scenario NAME marks the start of a scenario in the invocation log and on stdout.
scenario() {
	echo "# scenario $1" >>"$INVOCATION_LOG"
	echo "== $1"
}

# record_invocations writes OUT: distinct command shapes with counts, then every invocation
# in order with the work dir as $W, then the first exec process.json.
record_invocations() {
	local log=$1 out=$2 work=$3
	shift 3
	{
		printf '# %s\n' "$@"
		echo "# Placeholders: \$W = private work dir, <cid> = 64-hex id, <n> = long digits, <path> = absolute path."
		echo "#"
		echo "# ---- distinct shapes (count, (calling process), global flags + subcommand + flags; values abstracted)"
		grep -v '^#' "$log" | awk -f "$(dirname "${BASH_SOURCE[0]}")/shape.awk" | sort | uniq -c | sort -k2
		echo "#"
		echo "# ---- every invocation, in order"
		sed -e "s|$work|\$W|g" -e 's/[0-9a-f]\{64\}/<cid>/g' -e 's/[0-9]\{6,\}/<n>/g' \
			-e 's/conmon-term\.[A-Za-z0-9]\{6\}/conmon-term.XXXXXX/g' "$log"
		if [ -f "$log.process.json" ]; then
			echo "#"
			echo "# ---- a process.json passed via 'exec --process' (first one seen)"
			cat "$log.process.json"
			echo
		fi
	} >"$out"
}

# upstream_runc is built as runc's Makefile `runc` target does, without libpathrs (a Rust
# library Debian 12 does not ship).
upstream_runc() {
	if [ -n "${RUNC_UPSTREAM:-}" ]; then
		echo "$RUNC_UPSTREAM"
		return
	fi
	local cache=${RT_TEST_CACHE:-/var/cache/rt-tests}/runc-$RUNC_UPSTREAM_VERSION
	if [ ! -x "$cache/runc" ]; then
		say "building runc $RUNC_UPSTREAM_VERSION into $cache (once)"
		local scratch dir
		scratch=$(mktemp -d /tmp/rt-runc-build.XXXXXX)
		dir=$(cd "$scratch" && GOFLAGS=-mod=mod GOTOOLCHAIN=local \
			go mod download -json "github.com/opencontainers/runc@v$RUNC_UPSTREAM_VERSION" | jq -r .Dir)
		cp -r "$dir" "$scratch/src"
		chmod -R u+w "$scratch/src"
		if ! (cd "$scratch/src" && CGO_ENABLED=1 GOFLAGS=-mod=mod GOTOOLCHAIN=local go build -trimpath \
			-buildvcs=false -buildmode=pie -tags "seccomp urfave_cli_no_docs" \
			-ldflags "-X main.gitCommit=v$RUNC_UPSTREAM_VERSION" -o runc .) >&2; then
			rm -rf "$scratch"
			return 1
		fi
		mkdir -p "$cache"
		install -m 0755 "$scratch/src/runc" "$cache/runc.tmp"
		mv "$cache/runc.tmp" "$cache/runc"
		rm -rf "$scratch"
	fi
	echo "$cache/runc"
}
