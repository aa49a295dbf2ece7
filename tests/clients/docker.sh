#!/usr/bin/env bash
# docker.sh drives $RUNTIME through Docker 20.10 (Debian's docker.io) the way a Docker user
# does: run and exit codes, ps -a and rm, run -ti with a shell as PID 1 on a real terminal,
# detach and attach, nginx with a published port (logs, exec, top, stats, pause, stop, kill,
# restart), limits and docker update, security options, volumes, --restart and --init.
# Every check reads a real outcome: output, exit code, a cgroup file or a /proc value.
#
# Usage: RUNTIME=/abs/path/to/runtime tests/clients/docker.sh
#
# A private dockerd (own data-root, exec-root, pidfile, socket and config; its managed
# containerd under them) runs in private network and mount namespaces: the bridge, iptables
# rules and the published port live in that network namespace, and its mounts vanish with it.
# The runtime is added with --add-runtime and made the default; containers get a relative
# --cgroup-parent, so runtimes nest them under this script's cgroup. Images are built here:
# busybox from busybox-static, nginx from a debootstrap root (tests/scripts/nginx-rootfs.sh,
# cached under /var/cache/rt-tests). Terminal scenarios run the docker CLI in tmux.
# Every runtime invocation goes through an argv-logging wrapper; the distinct command shapes
# land in tests/clients/recorded/docker-invocations.txt.
# dockerd is stopped by its pid at the end, and nothing may be left: no container, cgroup,
# mount or process in its namespaces.
# Prints "N passed, M failed"; exits non-zero on any failure.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$HERE/../.." && pwd)
# shellcheck source=../scripts/lib.sh
. "$REPO/tests/scripts/lib.sh"

# Debian's client, not whatever else is first in PATH.
DOCKER=${DOCKER:-/usr/bin/docker}
DOCKERD=${DOCKERD:-/usr/sbin/dockerd}
BUSYBOX=rt.test/busybox:latest
NGINX=rt.test/nginx:latest
PORT=8080
RECORD=${RECORD:-$HERE/recorded/docker-invocations.txt}
CG_PARENT=rt-docker-$$
DOCKERD_PID=
NETNS=

die() { say "docker.sh: $*"; exit 2; }

dk() { timeout -k 5 60 env DOCKER_CONFIG="$WORK/cli" "$DOCKER" -H "unix://$WORK/docker.sock" "$@"; }

# in_netns runs CMD in dockerd's network namespace (where the published port is).
in_netns() { nsenter -t "$DOCKERD_PID" -n -- "$@"; }

inspect() { dk inspect -f "$1" "$2" 2>/dev/null || echo missing; }

# cg_file CONTAINER CONTROLLER FILE: a cgroup file of the container, read from the host.
cg_file() {
	local id dir
	id=$(inspect '{{.Id}}' "$1")
	dir=$(own_cgroup_dirs "$CG_PARENT" | grep "^/sys/fs/cgroup/$2/") || { echo "no $2 hierarchy"; return; }
	cat "$dir/$id/$3" 2>/dev/null || echo "no $dir/$id/$3"
}

# wait_for SECONDS CMD...: like wait_until, for scenario checks.
wait_for() { wait_until "$@"; }

status_is() { [ "$(inspect '{{.State.Status}}' "$1")" = "$2" ]; }

tmx() { tmux -S "$WORK/tmux.sock" -f /dev/null "$@"; }

# pane_shows SESSION REGEX: the session's screen matches REGEX.
pane_shows() { tmx capture-pane -p -t "$1" | grep -Eq -- "$2"; }

# term SESSION CMD: runs CMD (a shell line) in a new 120x30 terminal; when it ends, the pane
# shows "<SESSION>-exited=<status>" and stays.
term() {
	tmx new-session -d -s "$1" -x 120 -y 30 \
		"env DOCKER_CONFIG=$WORK/cli $2; echo $1-exited=\$?; sleep 600"
}

dk_cmd() { printf '%q -H %q' "$DOCKER" "unix://$WORK/docker.sock"; }

start_dockerd() {
	local name=$RUNTIME_NAME
	# unshare execs the shell, which execs dockerd: the pid is dockerd's. containerd 1.6
	# puts its shims' sockets under /run/containerd whatever its config says, and dockerd
	# writes /etc/docker/key.json: both get a tmpfs of this namespace.
	unshare --net --mount --propagation private -- bash -c '
		set -e
		ip link set lo up
		mount -t tmpfs -o mode=0755 rt-docker /run/containerd
		mount -t tmpfs -o mode=0755 rt-docker /etc/docker
		exec "$@"' dockerd-ns \
		"$DOCKERD" --data-root "$WORK/data" --exec-root "$WORK/exec" --pidfile "$WORK/docker.pid" \
		-H "unix://$WORK/docker.sock" --config-file "$WORK/daemon.json" \
		--add-runtime "$name=$WRAPPER" --default-runtime "$name" --cgroup-parent "$CG_PARENT" \
		>"$WORK/dockerd.log" 2>&1 &
	DOCKERD_PID=$!
	wait_until 60 dk version ||
		{ tail -20 "$WORK/dockerd.log" >&2; die "dockerd did not come up"; }
	NETNS=$(readlink "/proc/$DOCKERD_PID/ns/net")
	[ "$NETNS" != "$(readlink /proc/self/ns/net)" ] || die "dockerd runs in the host's network namespace"
}

build_images() {
	BUNDLE_CGROUPS_PATH="" "$REPO/tests/scripts/mkbundle.sh" "$WORK/busybox" >/dev/null
	tar -C "$WORK/busybox/rootfs" --numeric-owner -cf "$WORK/busybox.tar" .
	dk import --change 'CMD ["sh"]' "$WORK/busybox.tar" "$BUSYBOX" >/dev/null
	rm -rf "$WORK/busybox" "$WORK/busybox.tar"
	local nginx
	nginx=$("$REPO/tests/scripts/nginx-rootfs.sh")
	dk import --change 'CMD ["nginx", "-g", "daemon off;"]' --change 'EXPOSE 80' \
		"$nginx" "$NGINX" >/dev/null
}

scenario_run() {
	scenario a-run-exit-codes-ps-rm
	local out rc=0
	out=$(dk run --rm "$BUSYBOX" echo hello) || rc=$?
	expect_eq "run --rm echo hello" "$out" hello
	expect_eq "run --rm exits 0" "$rc" 0
	rc=0
	dk run --name exit3 "$BUSYBOX" sh -c 'exit 3' || rc=$?
	expect_eq "run passes exit code 3" "$rc" 3
	# Docker tells these apart by the runtime's error text.
	rc=0
	out=$(dk run --name notfound "$BUSYBOX" no-such-command 2>&1) || rc=$?
	expect_eq "run of a missing command exits 127" "$rc" 127
	expect_match "... and says why" "$out" 'no-such-command.*(not found|no such file)'
	rc=0
	dk run --name notexec "$BUSYBOX" /etc/passwd >/dev/null 2>&1 || rc=$?
	expect_eq "run of a non-executable file exits 126" "$rc" 126
	dk run --name exit0 "$BUSYBOX" true || true
	out=$(dk ps -a --format '{{.Names}} {{.Status}}' | sort | sed 's/) .*/)/' | tr '\n' ',') || true
	expect_eq "ps -a shows the exited containers with their codes" "$out" \
		"exit0 Exited (0),exit3 Exited (3),notexec Created,notfound Created,"
	check "rm" dk rm exit0 exit3 notexec notfound
	expect_eq "ps -a is empty after rm and --rm" "$(dk ps -aq)" ""
}

scenario_terminal() {
	scenario b-run-ti
	term ti1 "$(dk_cmd) run -ti --name ti1 $BUSYBOX sh"
	if wait_for 20 pane_shows ti1 '^/ #'; then pass "run -ti shows the shell prompt"; else fail "run -ti shows the shell prompt" "$(tmx capture-pane -p -t ti1 | tail -5)"; fi
	tmx send-keys -t ti1 'echo pid=$$ tty=$(tty)' Enter
	wait_for 10 pane_shows ti1 '^pid=1 ' || true
	local screen
	screen=$(tmx capture-pane -p -t ti1)
	expect_match "the shell is PID 1" "$screen" '^pid=1 '
	expect_match "tty is a pts" "$screen" 'tty=/dev/pts/[0-9]+'
	tmx send-keys -t ti1 C-d
	if wait_for 10 pane_shows ti1 'ti1-exited=0'; then pass "Ctrl-D ends run -ti with 0"; else fail "Ctrl-D ends run -ti with 0" "$(tmx capture-pane -p -t ti1 | tail -3)"; fi
	wait_for 10 status_is ti1 exited || true
	expect_eq "the container exited after Ctrl-D" "$(inspect '{{.State.Status}} {{.State.ExitCode}}' ti1)" "exited 0"

	scenario b2-detach-attach
	term ti2 "$(dk_cmd) run -ti --name ti2 $BUSYBOX sh"
	wait_for 20 pane_shows ti2 '^/ #' || true
	tmx send-keys -t ti2 C-p C-q
	if wait_for 10 pane_shows ti2 'ti2-exited=0'; then pass "Ctrl-P Ctrl-Q detaches the client"; else fail "Ctrl-P Ctrl-Q detaches the client" "$(tmx capture-pane -p -t ti2 | tail -3)"; fi
	sleep 0.5
	expect_eq "the container keeps running after detach" "$(inspect '{{.State.Status}}' ti2)" running
	term att "$(dk_cmd) attach ti2"
	sleep 1
	tmx send-keys -t att 'echo answer-$((6*7))' Enter
	if wait_for 10 pane_shows att '^answer-42'; then pass "attach reconnects and the shell answers"; else fail "attach reconnects and the shell answers" "$(tmx capture-pane -p -t att | tail -5)"; fi
	tmx send-keys -t att C-d
	if wait_for 10 pane_shows att 'att-exited=0'; then pass "Ctrl-D through attach ends the container"; else fail "Ctrl-D through attach ends the container" "$(tmx capture-pane -p -t att | tail -3)"; fi
	wait_for 10 status_is ti2 exited || true
	expect_eq "ti2 exited 0" "$(inspect '{{.State.Status}} {{.State.ExitCode}}' ti2)" "exited 0"
	check "rm ti1 ti2" dk rm ti1 ti2
}

page() { in_netns curl -sf --max-time 5 "http://127.0.0.1:$PORT/"; }

page_served() { page | grep -q 'Welcome to nginx!'; }

scenario_nginx() {
	scenario c-nginx-published-port
	local out rc=0 pid t0 n
	check "run -d -p nginx" dk run -d --name web -p "127.0.0.1:$PORT:80" "$NGINX"
	if wait_for 20 page_served; then pass "nginx serves its page on the published port"; else fail "nginx serves its page on the published port" "$(page 2>&1 | head -3)"; fi
	out=$(dk logs web 2>&1) || true
	expect_match "logs show the request" "$out" '"GET / HTTP/1.1" 200'

	scenario c2-exec
	out=$(dk exec web sh -c 'echo exec-$((6*7)); exit 5') || rc=$?
	expect_eq "exec prints the output" "$out" exec-42
	expect_eq "exec passes the exit code" "$rc" 5
	rc=0
	out=$(in_tty "$DOCKER" -H "unix://$WORK/docker.sock" exec -ti web sh -c 'tty; exit 6') || rc=$?
	expect_match "exec -ti has a terminal" "$out" '/dev/pts/[0-9]+'
	expect_eq "exec -ti passes the exit code" "$rc" 6

	scenario c3-top-stats
	out=$(dk top web) || true
	expect_match "top shows the nginx master" "$out" 'nginx: master process'
	expect_match "top shows a worker" "$out" 'nginx: worker process'
	n=$(printf '%s\n' "$out" | awk 'NR > 1 { n++ } END { print n + 0 }')
	out=$(dk stats --no-stream --format '{{.PIDs}}|{{.MemUsage}}' web) || true
	expect_eq "stats counts the processes top lists" "${out%%|*}" "$n"
	expect_match "stats reports memory in use" "${out#*|}" '^[0-9.]+[KMG]iB / '

	scenario c4-pause
	check "pause" dk pause web
	expect_eq "paused" "$(inspect '{{.State.Status}}' web)" paused
	expect_eq "freezer.state is FROZEN" "$(cg_file web freezer freezer.state)" FROZEN
	check "unpause" dk unpause web
	expect_eq "freezer.state is THAWED" "$(cg_file web freezer freezer.state)" THAWED
	if page_served; then pass "nginx serves after unpause"; else fail "nginx serves after unpause" "no page"; fi

	scenario c5-stop-kill-restart
	t0=$SECONDS
	check "stop -t 10" dk stop -t 10 web
	# nginx exits 0 on SIGTERM; a SIGKILL after the timeout would give 137.
	expect_eq "SIGTERM reached nginx: exit 0" "$(inspect '{{.State.Status}} {{.State.ExitCode}}' web)" "exited 0"
	if [ $((SECONDS - t0)) -lt 9 ]; then pass "stop returned before its timeout"; else fail "stop returned before its timeout" "$((SECONDS - t0)) s"; fi
	check "start" dk start web
	wait_for 20 page_served || true
	check "kill" dk kill web
	wait_for 10 status_is web exited || true
	expect_eq "kill: exited 137" "$(inspect '{{.State.Status}} {{.State.ExitCode}}' web)" "exited 137"
	check "start again" dk start web
	pid=$(inspect '{{.State.Pid}}' web)
	check "restart" dk restart -t 5 web
	expect_eq "running after restart" "$(inspect '{{.State.Status}}' web)" running
	if [ "$(inspect '{{.State.Pid}}' web)" != "$pid" ]; then pass "restart started a new process"; else fail "restart started a new process" "pid still $pid"; fi
	if wait_for 20 page_served; then pass "nginx serves after restart"; else fail "nginx serves after restart" "no page"; fi
	check "rm -f web" dk rm -f web
}

scenario_limits() {
	scenario d-limits
	local out rc=0
	check "run -d with --memory --pids-limit --cpus" \
		dk run -d --name lim --memory 64m --pids-limit 20 --cpus 0.5 --memory-reservation 32m "$BUSYBOX" sleep 1000
	expect_eq "memory.limit_in_bytes" "$(cg_file lim memory memory.limit_in_bytes)" $((64 << 20))
	expect_eq "memory.soft_limit_in_bytes" "$(cg_file lim memory memory.soft_limit_in_bytes)" $((32 << 20))
	expect_eq "pids.max" "$(cg_file lim pids pids.max)" 20
	expect_eq "cpu.cfs_quota_us" "$(cg_file lim cpu cpu.cfs_quota_us)" 50000
	expect_eq "cpu.cfs_period_us" "$(cg_file lim cpu cpu.cfs_period_us)" 100000
	out=$(dk exec lim cat /sys/fs/cgroup/memory/memory.limit_in_bytes) || true
	expect_eq "the container sees its memory limit" "$out" $((64 << 20))

	scenario d2-update
	check "update --memory --memory-swap" dk update --memory 128m --memory-swap 256m lim
	expect_eq "update: memory.limit_in_bytes" "$(cg_file lim memory memory.limit_in_bytes)" $((128 << 20))
	if [ -e "$(own_cgroup_dirs "$CG_PARENT" | grep '^/sys/fs/cgroup/memory/')/$(inspect '{{.Id}}' lim)/memory.memsw.limit_in_bytes" ]; then
		expect_eq "update: memory.memsw.limit_in_bytes" "$(cg_file lim memory memory.memsw.limit_in_bytes)" $((256 << 20))
	fi
	check "update --cpus" dk update --cpus 1.5 lim
	expect_eq "update: cpu.cfs_quota_us" "$(cg_file lim cpu cpu.cfs_quota_us)" 150000
	check "update --pids-limit" dk update --pids-limit 40 lim
	expect_eq "update: pids.max" "$(cg_file lim pids pids.max)" 40
	# Each update sends 0 for what it does not change: those stay as they were.
	expect_eq "unchanged: memory.limit_in_bytes" "$(cg_file lim memory memory.limit_in_bytes)" $((128 << 20))
	expect_eq "unchanged: memory.soft_limit_in_bytes" "$(cg_file lim memory memory.soft_limit_in_bytes)" $((32 << 20))
	expect_eq "unchanged: cpu.cfs_quota_us" "$(cg_file lim cpu cpu.cfs_quota_us)" 150000
	expect_eq "unchanged: cpu.shares" "$(cg_file lim cpu cpu.shares)" 1024
	check "rm -f lim" dk rm -f lim

	scenario d3-pids-limit-enforced
	out=$(dk run --rm --pids-limit 5 "$BUSYBOX" sh -c 'for i in 1 2 3 4 5 6 7 8; do sleep 1 & done; wait' 2>&1) || true
	expect_match "forks beyond --pids-limit fail" "$out" "can't fork"

	scenario d4-oom
	rc=0
	dk run --name oom --memory 32m --memory-swap 32m "$BUSYBOX" \
		sh -c 'x=$(head -c 200000000 /dev/zero | tr "\0" a); echo survived' >/dev/null 2>&1 || rc=$?
	expect_eq "OOM: exit 137" "$rc" 137
	expect_eq "OOM: reported as OOMKilled" "$(inspect '{{.State.OOMKilled}}' oom)" true
	check "rm oom" dk rm oom

	scenario d5-blkio-weight
	rc=0
	out=$(dk run --rm --blkio-weight 300 "$BUSYBOX" sh -c \
		'cat /sys/fs/cgroup/blkio/blkio.weight 2>/dev/null || cat /sys/fs/cgroup/blkio/blkio.bfq.weight' 2>&1) || rc=$?
	expect_eq "run --blkio-weight exits 0" "$rc" 0
	if printf '%s' "$out" | grep -q 'Weight discarded'; then
		# Docker finds no blkio.weight at the hierarchy's root (BFQ-only kernels) and drops it.
		expect_match "weight discarded by Docker: the default stays" "$out" '^100$'
	else
		expect_eq "blkio weight applied" "$out" 300
	fi
}

scenario_security() {
	scenario e-security
	local out
	out=$(dk run --rm --read-only "$BUSYBOX" sh -c 'touch /x 2>&1; echo rc=$?') || true
	expect_match "--read-only: the root is read-only" "$out" 'Read-only file system'
	out=$(dk run --rm --cap-drop ALL "$BUSYBOX" sh -c 'grep CapEff /proc/self/status; chown 1 /tmp 2>&1; echo rc=$?') || true
	expect_match "--cap-drop ALL: no effective capability" "$out" 'CapEff:[[:space:]]+0000000000000000'
	expect_match "--cap-drop ALL: chown refused" "$out" 'rc=1'
	out=$(dk run --rm --cap-drop ALL --cap-add CHOWN "$BUSYBOX" sh -c 'grep CapEff /proc/self/status; chown 1 /tmp; echo rc=$?') || true
	expect_match "--cap-add CHOWN: only CAP_CHOWN" "$out" 'CapEff:[[:space:]]+0000000000000001'
	expect_match "--cap-add CHOWN: chown works" "$out" 'rc=0'
	out=$(dk run --rm --security-opt no-new-privileges "$BUSYBOX" grep NoNewPrivs /proc/self/status) || true
	expect_match "no-new-privileges sets NoNewPrivs" "$out" 'NoNewPrivs:[[:space:]]+1'
	out=$(dk run --rm "$BUSYBOX" sh -c 'grep -E "NoNewPrivs|Seccomp:" /proc/self/status; unshare -U true 2>&1; echo rc=$?') || true
	expect_match "default: NoNewPrivs 0" "$out" 'NoNewPrivs:[[:space:]]+0'
	expect_match "default seccomp profile is a filter" "$out" 'Seccomp:[[:space:]]+2'
	# unshare(CLONE_NEWUSER) needs no capability: only the profile refuses it.
	expect_match "default seccomp profile blocks unshare" "$out" 'Operation not permitted'
	out=$(dk run --rm --security-opt seccomp=unconfined "$BUSYBOX" sh -c 'unshare -U true; echo rc=$?') || true
	expect_eq "seccomp=unconfined allows unshare" "$out" rc=0
	out=$(dk run --rm --user 65534:65534 "$BUSYBOX" sh -c 'id; grep -E "^(Uid|Gid):" /proc/self/status | tr -s "\t" " "') || true
	expect_match "--user sets the ids" "$out" 'uid=65534\(nobody\) gid=65534\(nogroup\)'
	expect_match "--user: /proc shows uid 65534" "$out" 'Uid: 65534 65534 65534 65534'
	scenario e2-privileged
	local rc=0
	out=$(dk run --rm --privileged "$BUSYBOX" sh -c \
		'eff=$(awk "/^CapEff/ { print \$2 }" /proc/self/status); bnd=$(awk "/^CapBnd/ { print \$2 }" /proc/self/status)
		[ "$eff" = "$bnd" ] && echo "caps=bounding"; echo "eff=$eff"; grep Seccomp: /proc/self/status
		mount -t tmpfs none /tmp && echo mounted; test -e /dev/loop-control && echo host-dev' 2>&1) || rc=$?
	# Docker 20.10 gives --privileged every capability up to cap_last_cap, whatever the
	# daemon's own bounding set; runc then fails to raise one the host withholds.
	if [ $rc -ne 0 ] && printf '%s' "$out" | grep -q 'apply caps' && ! host_bounding_complete; then
		skip "--privileged" "this host's bounding set lacks $(missing_caps), which Docker grants to --privileged: the runtime refuses ($(printf '%s' "$out" | grep -o 'unable to apply caps[^:]*: [a-z ]*'))"
		return
	fi
	expect_match "--privileged: effective = bounding" "$out" 'caps=bounding'
	expect_match "--privileged: CAP_SYS_ADMIN" "$out" 'eff=[0-9a-f]*[2367abef][0-9a-f]{5}$'
	expect_match "--privileged: no seccomp" "$out" 'Seccomp:[[:space:]]+0'
	expect_match "--privileged: mount works" "$out" mounted
	expect_match "--privileged: host devices" "$out" host-dev
}

CAP_NAMES=(CHOWN DAC_OVERRIDE DAC_READ_SEARCH FOWNER FSETID KILL SETGID SETUID SETPCAP
	LINUX_IMMUTABLE NET_BIND_SERVICE NET_BROADCAST NET_ADMIN NET_RAW IPC_LOCK IPC_OWNER SYS_MODULE
	SYS_RAWIO SYS_CHROOT SYS_PTRACE SYS_PACCT SYS_ADMIN SYS_BOOT SYS_NICE SYS_RESOURCE SYS_TIME
	SYS_TTY_CONFIG MKNOD LEASE AUDIT_WRITE AUDIT_CONTROL SETFCAP MAC_OVERRIDE MAC_ADMIN SYSLOG
	WAKE_ALARM BLOCK_SUSPEND AUDIT_READ PERFMON BPF CHECKPOINT_RESTORE)

# missing_caps: the capabilities up to cap_last_cap that this process's bounding set lacks.
missing_caps() {
	local last bnd c out=
	last=$(cat /proc/sys/kernel/cap_last_cap)
	bnd=$((16#$(awk '/^CapBnd/ { print $2 }' /proc/self/status)))
	for c in $(seq 0 "$last"); do
		[ $(((bnd >> c) & 1)) -eq 1 ] || out="$out CAP_${CAP_NAMES[c]:-$c}"
	done
	echo "${out# }"
}

host_bounding_complete() { [ -z "$(missing_caps)" ]; }

scenario_volumes() {
	scenario f-volumes
	local out
	mkdir -p "$WORK/vol"
	echo from-host >"$WORK/vol/in"
	out=$(dk run --rm -v "$WORK/vol:/data" "$BUSYBOX" sh -c 'cat /data/in; echo from-container >/data/out') || true
	expect_eq "bind mount: the container reads the host file" "$out" from-host
	expect_eq "bind mount: the host reads the container's file" "$(cat "$WORK/vol/out" 2>/dev/null)" from-container
	out=$(dk run --rm -v "$WORK/vol:/data:ro" "$BUSYBOX" sh -c 'cat /data/in; { echo x >/data/in; } 2>&1; echo rc=$?') || true
	expect_match ":ro bind mount: readable" "$out" from-host
	expect_match ":ro bind mount: writes refused" "$out" 'Read-only file system'
	expect_eq ":ro bind mount: host file unchanged" "$(cat "$WORK/vol/in")" from-host
	dk run --rm -v rt-vol:/v "$BUSYBOX" sh -c 'echo persisted >/v/p' || true
	out=$(dk run --rm -v rt-vol:/v "$BUSYBOX" cat /v/p) || true
	expect_eq "named volume persists across containers" "$out" persisted
	check "volume rm" dk volume rm rt-vol
	out=$(dk run --rm --tmpfs /scratch:size=1m "$BUSYBOX" sh -c \
		'grep " /scratch " /proc/mounts; head -c 2000000 /dev/zero >/scratch/big 2>/dev/null; echo rc=$? size=$(wc -c </scratch/big)') || true
	expect_match "--tmpfs mounts a 1 MiB tmpfs" "$out" 'tmpfs /scratch tmpfs .*size=1024k'
	expect_match "--tmpfs: its size is enforced" "$out" 'rc=1 size=(10[0-4][0-9]{4}|[0-9]{1,6})$'
	# Without mode=, a tmpfs over an image directory keeps that directory's mode
	# (the image's /root is 0700, not world-writable); over a new one it is 1777.
	# (An explicit mode= is not checked here: Debian's runc 1.1.5 overrides it.)
	out=$(dk run --rm --tmpfs /root --tmpfs /scratch "$BUSYBOX" stat -c '%a %n' /root /scratch) || true
	expect_eq "--tmpfs modes: the covered directory's, 1777 on a new one" "${out//$'\n'/ }" "700 /root 1777 /scratch"
}

restarted_twice() { [ "$(inspect '{{.RestartCount}} {{.State.Status}}' rs)" = "2 exited" ]; }

scenario_restart_init() {
	scenario g-restart-init
	local out rc=0
	check "run -d --restart on-failure:2" dk run -d --name rs --restart on-failure:2 "$BUSYBOX" sh -c 'exit 5'
	if wait_for 30 restarted_twice; then pass "on-failure:2 restarted twice, then stopped"; else fail "on-failure:2 restarted twice, then stopped" "$(inspect '{{.RestartCount}} {{.State.Status}}' rs)"; fi
	expect_eq "its last exit code" "$(inspect '{{.State.ExitCode}}' rs)" 5
	check "rm rs" dk rm -f rs
	out=$(dk run --rm --init "$BUSYBOX" sh -c 'cat /proc/1/comm; echo sh=$$; exit 4') || rc=$?
	expect_match "--init: PID 1 is docker-init" "$out" '^(docker-init|tini)'
	expect_match "--init: the command is not PID 1" "$out" 'sh=([2-9]|[1-9][0-9]+)$'
	expect_eq "--init passes the exit code" "$rc" 4
}

scenario_leftovers() {
	scenario z-leftovers
	local left mntns
	expect_eq "docker lists no containers" "$(dk ps -aq | tr '\n' ' ')" ""
	mntns=$(readlink "/proc/$DOCKERD_PID/ns/mnt")
	stop_pid "$DOCKERD_PID"
	if kill -0 "$DOCKERD_PID" 2>/dev/null; then fail "dockerd stopped" "still running"; else pass "dockerd stopped by its pid"; fi
	DOCKERD_PID=
	left=$(processes_in_ns net "$NETNS" | tr '\n' ' ')
	expect_eq "no process left in dockerd's network namespace" "$left" ""
	left=$(processes_in_ns mnt "$mntns" | tr '\n' ' ')
	expect_eq "no process left in dockerd's mount namespace" "$left" ""
	# dockerd 20.10 gives every runtime the state root runtime-runc/moby under its exec-root.
	left=$("$RUNTIME" --root "$WORK/exec/runtime-runc/moby" list -q 2>/dev/null | tr '\n' ' ')
	expect_eq "runtime lists no containers" "$left" ""
	left=$(cgroups_below "$CG_PARENT" | head -3) || true
	expect_eq "no container cgroups left" "$left" ""
	left=$(grep -F "$WORK" /proc/self/mountinfo | head -3) || true
	expect_eq "no mounts left on the host" "$left" ""
}

cleanup() {
	local rc=$? id f
	set +e
	[ -S "$WORK/tmux.sock" ] && tmx kill-server >/dev/null 2>&1
	if [ -n "$DOCKERD_PID" ] && kill -0 "$DOCKERD_PID" 2>/dev/null; then
		for id in $(dk ps -aq 2>/dev/null); do
			dk rm -f "$id" >/dev/null 2>&1
		done
		stop_pid "$DOCKERD_PID"
	fi
	for f in $(find "$WORK/exec" -name shim.pid 2>/dev/null); do
		stop_pid "$(cat "$f")"
	done
	for id in $("$RUNTIME" --root "$WORK/exec/runtime-runc/moby" list -q 2>/dev/null); do
		"$RUNTIME" --root "$WORK/exec/runtime-runc/moby" delete --force "$id" >/dev/null 2>&1
	done
	remove_cgroup_trees "$CG_PARENT"
	remove_new_dirs
	rm -rf "$WORK"
	exit $rc
}

main() {
	require_runtime
	require_tools "$DOCKER" "$DOCKERD" containerd docker-proxy jq tmux script unshare nsenter ip curl iptables

	# dockerd refuses a runtime named runc: that name is its own.
	RUNTIME_NAME=$(basename "$RUNTIME")
	[ "$RUNTIME_NAME" != runc ] || RUNTIME_NAME=runc-under-test
	WORK=$(mktemp -d /tmp/rt-docker.XXXXXX)
	export DOCKER_CONFIG=$WORK/cli # the terminal scenarios' clients too
	trap cleanup EXIT
	trap 'exit 130' INT TERM
	chmod 0755 "$WORK"
	mkdir -p "$WORK/data" "$WORK/exec" "$WORK/cli"
	# dockerd makes /run/docker/plugins whatever its exec-root.
	track_new_dir /run/containerd /etc/docker /run/docker
	mkdir -p /run/containerd /etc/docker
	echo '{}' >"$WORK/daemon.json"
	INVOCATION_LOG=$WORK/invocations.log
	WRAPPER=$WORK/runtime
	: >"$INVOCATION_LOG"
	write_argv_logger "$WRAPPER" "$RUNTIME" "$INVOCATION_LOG"

	start_dockerd
	build_images

	scenario_run
	scenario_terminal
	scenario_nginx
	scenario_limits
	scenario_security
	scenario_volumes
	scenario_restart_init
	scenario_leftovers

	mkdir -p "$(dirname "$RECORD")"
	record_invocations "$INVOCATION_LOG" "$RECORD" "$WORK" \
		"Runtime invocations made under Docker $("$DOCKERD" --version | awk '{print $3}' | tr -d ,) (dockerd, its containerd and containerd-shim-runc-v2)" \
		"driven by the docker CLI, recorded by an argv-logging wrapper given as --add-runtime." \
		"Generated by tests/clients/docker.sh against: $("$RUNTIME" --version 2>/dev/null | head -1)"
	print_tally
}

main "$@"
