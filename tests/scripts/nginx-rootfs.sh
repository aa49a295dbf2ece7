#!/usr/bin/env bash
# nginx-rootfs.sh prints the path of a tar of a Debian root filesystem with nginx-light, built
# with debootstrap (minbase) and cached under /var/cache/rt-tests/nginx, keyed by the Debian
# suite and the nginx-light version apt would install. nginx logs to the container's stdout
# and stderr, as in Docker's official image; its default site answers "Welcome to nginx!".
#
# Usage: tests/scripts/nginx-rootfs.sh   (as root; needs debootstrap and Debian's mirror)
#
# debootstrap runs in two stages: the first downloads and unpacks; the second, which runs the
# packages' maintainer scripts, runs chrooted in private mount, pid and network namespaces
# with a policy-rc.d that forbids starting services, so nothing it starts can reach the host.
set -euo pipefail

CACHE=${RT_TEST_CACHE:-/var/cache/rt-tests}/nginx

die() { echo "nginx-rootfs: $*" >&2; exit 1; }

main() {
	command -v debootstrap >/dev/null || die "missing debootstrap (run make deps)"
	local suite version mirror out tmp
	suite=$(. /etc/os-release && echo "$VERSION_CODENAME")
	version=$(apt-cache policy nginx-light | awk '$1 == "Candidate:" { print $2 }')
	[ -n "$suite" ] && [ -n "$version" ] && [ "$version" != "(none)" ] ||
		die "cannot tell the Debian suite or the nginx-light version (apt-get update?)"
	mirror=${DEBIAN_MIRROR:-http://deb.debian.org/debian}
	out=$CACHE/$suite-nginx-light-${version//[^A-Za-z0-9.+-]/_}.tar
	if [ -s "$out" ]; then
		echo "$out"
		return
	fi
	mkdir -p "$CACHE"
	tmp=$(mktemp -d "$CACHE/build.XXXXXX")
	# shellcheck disable=SC2064 # expand now: tmp is local
	trap "rm -rf '$tmp'" EXIT
	echo "nginx-rootfs: building $out (debootstrap, a few minutes)" >&2
	debootstrap --foreign --variant=minbase --include=nginx-light "$suite" "$tmp/root" "$mirror" \
		>"$tmp/stage1.log" 2>&1 || { tail -20 "$tmp/stage1.log" >&2; die "debootstrap (download) failed"; }
	printf '#!/bin/sh\nexit 101\n' >"$tmp/root/usr/sbin/policy-rc.d"
	chmod 0755 "$tmp/root/usr/sbin/policy-rc.d"
	unshare --mount --pid --net --fork --propagation private -- \
		chroot "$tmp/root" /debootstrap/debootstrap --second-stage >"$tmp/stage2.log" 2>&1 ||
		{ tail -20 "$tmp/stage2.log" >&2; die "debootstrap (install) failed"; }
	rm -f "$tmp/root/usr/sbin/policy-rc.d"
	rm -rf "$tmp/root/var/cache/apt/archives/"*.deb "$tmp/root/var/lib/apt/lists/"*
	ln -sf /dev/stdout "$tmp/root/var/log/nginx/access.log"
	ln -sf /dev/stderr "$tmp/root/var/log/nginx/error.log"
	tar -C "$tmp/root" --numeric-owner -cf "$tmp/rootfs.tar" .
	mv "$tmp/rootfs.tar" "$out"
	echo "$out"
}

main "$@"
