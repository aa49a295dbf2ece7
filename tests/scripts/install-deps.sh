#!/usr/bin/env bash
# install-deps.sh installs the Debian packages that building and testing rt need, and only
# those that are missing; it runs apt-get update only when something is to be installed.
# Then install-go.sh installs the Go toolchain when the machine's is missing or too old.
# Safe to run again (make deps).
set -euo pipefail

PACKAGES=(
	build-essential # gcc and make; cgo for the seccomp package
	ca-certificates # install-go.sh: HTTPS to the Go module proxy
	curl # docker.sh, cri.sh: the published port, the local registry
	unzip
	git
	pkg-config
	libseccomp-dev
	busybox-static # the static busybox of test bundles (tests/scripts/mkbundle.sh)
	jq
	runc # conformance baseline, bench
	crun # bench
	containerd # tests/clients/containerd.sh (ctr, containerd-shim-runc-v2)
	podman # tests/clients/podman.sh (with conmon)
	uidmap # newuidmap/newgidmap for user-namespace tests
	util-linux # unshare, nsenter
	bsdutils # script: a tty for the terminal scenarios (and for runc's bats suite)
	debootstrap # tests/scripts/get-criu.sh: a CRIU that works on current kernels, from Debian testing; docker.sh's nginx image (nginx-rootfs.sh); the Debian image of runc's bats suite
	iproute2 # ip netns: the network namespace of the checkpoint test with an established TCP connection; docker.sh, cri.sh, runc's bats suite
	iptables # CRIU locks the network with iptables-restore during a checkpoint with --tcp-established; dockerd's bridge rules
	man-db # man -l: the generated man pages are checked
	docker.io # tests/clients/docker.sh (dockerd 20.10, docker-proxy, docker-init)
	tmux # docker.sh: run -ti, detach and attach on a real terminal
	containernetworking-plugins # cri.sh: the CNI bridge of containerd's CRI plugin
	bats # tests/runc-bats: runc's integration suite
	gawk # runc's bats helpers
	procps # ps, for tests/runc-bats' watchdog and runc's suite
	mount # losetup, for runc's bats suite
	strace # the fault tests kill rt at a chosen system call (tests/integration/faults_test.go)
)

is_installed() {
	[ "$(dpkg-query -W -f='${Status}' "$1" 2>/dev/null)" = "install ok installed" ]
}

install_packages() {
	local missing=() p
	for p in "${PACKAGES[@]}"; do
		is_installed "$p" || missing+=("$p")
	done
	if [ ${#missing[@]} -eq 0 ]; then
		return 0
	fi
	if [ "$(id -u)" -ne 0 ]; then
		echo "install-deps: missing ${missing[*]}; run as root to install them" >&2
		return 1
	fi
	echo "install-deps: installing ${missing[*]}"
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -qq
	# Packages with daemons (docker.io, containerd) start them on install, on the host's
	# network: a policy-rc.d that refuses keeps them stopped. One already there is kept.
	local policy=/usr/sbin/policy-rc.d own_policy=
	if [ ! -e "$policy" ]; then
		printf '#!/bin/sh\n# install-deps.sh: no service starts while packages install\nexit 101\n' >"$policy"
		chmod 0755 "$policy"
		own_policy=1
	fi
	local rc=0
	apt-get install -y -qq "${missing[@]}" || rc=$?
	[ -z "$own_policy" ] || rm -f "$policy"
	return $rc
}

main() {
	install_packages
	"$(dirname "$0")/install-go.sh"
}

main "$@"
