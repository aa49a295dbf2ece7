#!/usr/bin/env bash
# mkbundle.sh builds an OCI bundle around the static busybox of busybox-static:
#
#   DIR/rootfs       /bin/busybox, its applets as symlinks, minimal /etc/passwd and /etc/group
#   DIR/config.json  a plain container running ARGS (default: sh)
#
# Usage: tests/scripts/mkbundle.sh DIR [ARG ...]
#
# Environment (all optional):
#   BUNDLE_CGROUPS_PATH  linux.cgroupsPath; default "rt-bundle-<dir name>". It is relative on
#                        purpose: runtimes nest a relative path under their own cgroup, which
#                        keeps test containers below the caller's cgroup (DEVELOPERS.md).
#                        Set it to "" to leave cgroupsPath out.
#   BUNDLE_TERMINAL      process.terminal, true|false (default false)
#   BUNDLE_HOSTNAME      hostname (default "rt-bundle")
#   BUSYBOX              the static busybox to copy (default /bin/busybox)
#
# An existing DIR/rootfs built by this script is kept (only config.json is rewritten), so
# callers can cache bundles.
set -euo pipefail

die() { echo "mkbundle: $*" >&2; exit 1; }

build_rootfs() {
	local rootfs=$1 busybox=${BUSYBOX:-/bin/busybox}
	[ -x "$busybox" ] || die "no busybox at $busybox (install busybox-static)"
	# A dynamically linked busybox would need the host's libraries inside the rootfs.
	if ldd "$busybox" >/dev/null 2>&1; then die "$busybox is not static (install busybox-static)"; fi
	local tmp=$rootfs.tmp.$$
	rm -rf "$tmp"
	mkdir -p "$tmp"/{bin,dev,etc,proc,sys,tmp,root,run,var}
	chmod 1777 "$tmp/tmp"
	chmod 0700 "$tmp/root"
	install -m 0755 "$busybox" "$tmp/bin/busybox"
	# busybox links its applets to the path it runs from; run it chrooted so the links say
	# /bin/busybox, not the host path.
	chroot "$tmp" /bin/busybox --install -s /bin
	cat >"$tmp/etc/passwd" <<-'EOF'
		root:x:0:0:root:/root:/bin/sh
		nobody:x:65534:65534:nobody:/nonexistent:/bin/false
	EOF
	cat >"$tmp/etc/group" <<-'EOF'
		root:x:0:
		tty:x:5:
		nogroup:x:65534:
	EOF
	echo "rt-bundle" >"$tmp/etc/hostname"
	mv "$tmp" "$rootfs"
}

# write_config writes config.json: the usual namespaces, the mounts a shell expects, the
# default masked/read-only paths, a small capability set and the relative cgroups path.
write_config() {
	local dir=$1
	shift
	local name cgpath args
	name=$(basename "$dir")
	cgpath=${BUNDLE_CGROUPS_PATH-rt-bundle-$name}
	[ $# -gt 0 ] || set -- sh
	args=$(printf '%s\n' "$@" | jq -R . | jq -s -c .)
	jq -n \
		--argjson args "$args" \
		--argjson terminal "${BUNDLE_TERMINAL:-false}" \
		--arg hostname "${BUNDLE_HOSTNAME:-rt-bundle}" \
		--arg cgpath "$cgpath" '
	def caps: ["CAP_AUDIT_WRITE", "CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_FOWNER", "CAP_FSETID",
		"CAP_KILL", "CAP_MKNOD", "CAP_NET_BIND_SERVICE", "CAP_NET_RAW", "CAP_SETFCAP",
		"CAP_SETGID", "CAP_SETPCAP", "CAP_SETUID", "CAP_SYS_CHROOT"];
	{
		ociVersion: "1.0.2",
		process: {
			terminal: $terminal,
			user: {uid: 0, gid: 0},
			args: $args,
			env: ["PATH=/bin:/sbin:/usr/bin:/usr/sbin", "HOME=/root", "TERM=xterm"],
			cwd: "/",
			capabilities: {bounding: caps, effective: caps, permitted: caps},
			rlimits: [{type: "RLIMIT_NOFILE", hard: 1024, soft: 1024}],
			noNewPrivileges: true
		},
		root: {path: "rootfs", readonly: false},
		hostname: $hostname,
		mounts: [
			{destination: "/proc", type: "proc", source: "proc"},
			{destination: "/dev", type: "tmpfs", source: "tmpfs",
				options: ["nosuid", "strictatime", "mode=755", "size=65536k"]},
			{destination: "/dev/pts", type: "devpts", source: "devpts",
				options: ["nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620", "gid=5"]},
			{destination: "/dev/shm", type: "tmpfs", source: "shm",
				options: ["nosuid", "noexec", "nodev", "mode=1777", "size=65536k"]},
			{destination: "/dev/mqueue", type: "mqueue", source: "mqueue",
				options: ["nosuid", "noexec", "nodev"]},
			{destination: "/sys", type: "sysfs", source: "sysfs",
				options: ["nosuid", "noexec", "nodev", "ro"]}
		],
		linux: {
			resources: {devices: [{allow: false, access: "rwm"}]},
			namespaces: [{type: "pid"}, {type: "network"}, {type: "ipc"}, {type: "uts"},
				{type: "mount"}],
			maskedPaths: ["/proc/acpi", "/proc/asound", "/proc/kcore", "/proc/keys",
				"/proc/latency_stats", "/proc/timer_list", "/proc/timer_stats",
				"/proc/sched_debug", "/proc/scsi", "/sys/firmware"],
			readonlyPaths: ["/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys",
				"/proc/sysrq-trigger"]
		}
	}
	| if $cgpath != "" then .linux.cgroupsPath = $cgpath else . end
	' >"$dir/config.json.tmp"
	mv "$dir/config.json.tmp" "$dir/config.json"
}

main() {
	[ $# -ge 1 ] || die "usage: mkbundle.sh DIR [ARG ...]"
	local dir=$1
	shift
	command -v jq >/dev/null || die "missing jq (run make deps)"
	mkdir -p "$dir"
	dir=$(cd "$dir" && pwd)
	[ -x "$dir/rootfs/bin/busybox" ] || build_rootfs "$dir/rootfs"
	write_config "$dir" "$@"
}

main "$@"
