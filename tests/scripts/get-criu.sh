#!/usr/bin/env bash
# get-criu.sh prints the path of a `criu` (4.2 or newer) that works on this host, for the
# checkpoint/restore tests, and nothing else on stdout. It exits non-zero with the
# reason on stderr when there is none.
#
# Debian 12's CRIU (3.17) cannot initialise on recent kernels (its vDSO parser fails),
# and Debian 13's (4.1.1) cannot dump an inet socket on kernels 6.16 and later
# (getsockopt SO_PASSSEC/SO_PASSCRED now fail there: CRIU issue #2705, fixed in 4.2).
# So the tests use Debian testing's (forky, 4.2.x): `debootstrap --variant=minbase
# --include=criu forky` into a cache outside the repository, and a wrapper that runs
# that root's criu through that root's own dynamic loader (the host's loader cannot
# load a newer libc, so LD_LIBRARY_PATH alone does not work).
#
#   CRIU=PATH          use this criu instead (it must pass `criu check`)
#   CRIU_SUITE=NAME    the Debian suite to take CRIU from (default forky)
#   CRIU_CACHE=DIR     cache root (default /var/cache/rt-tests); the root goes to
#                      DIR/criu-<version>/root, the wrapper to DIR/criu-<version>/bin/criu
#   DEBIAN_MIRROR=URL  where debootstrap fetches from (default: the host's apt mirror)
#
# The cache is shared by every caller on the machine: a lock serialises the first build.
set -euo pipefail

CACHE=${CRIU_CACHE:-/var/cache/rt-tests}
SUITE=${CRIU_SUITE:-forky}
MIN_VERSION=4.2

die() {
	echo "get-criu: $*" >&2
	exit 1
}

# at_least A B succeeds when version A >= version B.
at_least() {
	[ "$(printf '%s\n%s\n' "$2" "$1" | sort -V | head -1)" = "$2" ]
}

# usable PATH succeeds when PATH is a criu of at least MIN_VERSION that passes `criu check`.
usable() {
	local criu=$1 version out
	version=$(timeout 30 "$criu" --version 2>/dev/null | sed -n 's/^Version: *//p') || true
	if [ -z "$version" ] || ! at_least "$version" "$MIN_VERSION"; then
		echo "get-criu: $criu is CRIU ${version:-of unknown version}; need $MIN_VERSION or newer" >&2
		return 1
	fi
	# check writes its verdict and any error to stderr; keep it for the caller's message.
	if ! out=$(timeout 60 "$criu" check 2>&1); then
		echo "get-criu: $criu check failed: $(printf '%s\n' "$out" | grep -m3 -i error)" >&2
		return 1
	fi
}

# cached prints the newest complete cached wrapper.
cached() {
	local d v
	for d in $(printf '%s\n' "$CACHE"/criu-[0-9]*/ | sort -rV); do
		[ -d "$d" ] || continue
		v=${d%/}
		v=${v##*/criu-}
		if [ -f "$d/.complete" ] && [ -x "$d/bin/criu" ] && at_least "$v" "$MIN_VERSION"; then
			printf '%s\n' "${d%/}/bin/criu"
			return 0
		fi
	done
	return 1
}

host_mirror() {
	local m
	m=$(sed -n 's/^URIs: *\(http[^ ]*debian\)\/*$/\1/p' /etc/apt/sources.list.d/*.sources 2>/dev/null | head -1)
	[ -n "$m" ] || m=$(awk '$1 == "deb" && $2 ~ /^http/ && $2 !~ /security/ {print $2; exit}' /etc/apt/sources.list 2>/dev/null)
	printf '%s\n' "${m:-http://deb.debian.org/debian}"
}

write_wrapper() {
	local dir=$1
	mkdir -p "$dir/bin"
	cat >"$dir/bin/criu" <<-EOF
		#!/bin/sh
		# CRIU from Debian $SUITE, run through that root's own loader (made by tests/scripts/get-criu.sh).
		root=$(printf %q "$dir/root")
		exec "\$root/usr/lib64/ld-linux-x86-64.so.2" --library-path "\$root/usr/lib/x86_64-linux-gnu" "\$root/usr/sbin/criu" "\$@"
	EOF
	chmod 0755 "$dir/bin/criu"
}

build() {
	command -v debootstrap >/dev/null || die "debootstrap is not installed (apt-get install debootstrap)"
	[ "$(id -u)" -eq 0 ] || die "building the CRIU root needs root"
	local tmp version dir
	tmp=$(mktemp -d "$CACHE/criu-build.XXXXXX")
	# shellcheck disable=SC2064
	trap "rm -rf '$tmp'" EXIT
	echo "get-criu: debootstrap Debian $SUITE with criu into $CACHE (a minute or two, once)" >&2
	# The host's debootstrap may predate the suite: Debian's suites share sid's script.
	local script=/usr/share/debootstrap/scripts/$SUITE
	[ -e "$script" ] || script=/usr/share/debootstrap/scripts/sid
	if ! debootstrap --variant=minbase --include=criu "$SUITE" "$tmp/root" "${DEBIAN_MIRROR:-$(host_mirror)}" "$script" >"$tmp/debootstrap.log" 2>&1; then
		tail -5 "$tmp/debootstrap.log" >&2
		die "debootstrap failed (log above)"
	fi
	version=$(dpkg-query --admindir="$tmp/root/var/lib/dpkg" -W -f '${Version}' criu)
	version=${version%%-*}
	version=${version#*:}
	[ -n "$version" ] || die "no criu package in the $SUITE root"
	dir="$CACHE/criu-$version"
	rm -rf "$dir"
	mkdir -p "$dir"
	mv "$tmp/root" "$dir/root"
	write_wrapper "$dir"
	usable "$dir/bin/criu" || die "CRIU $version from Debian $SUITE does not work on this host"
	touch "$dir/.complete"
	printf '%s\n' "$dir/bin/criu"
}

main() {
	if [ -n "${CRIU:-}" ]; then
		usable "$CRIU" || exit 1
		printf '%s\n' "$CRIU"
		return
	fi
	mkdir -p "$CACHE"
	exec 9>"$CACHE/criu.lock"
	flock -w 600 9 || die "timed out waiting for $CACHE/criu.lock"
	local criu
	if criu=$(cached); then
		usable "$criu" || die "cached $criu does not work; remove $(dirname "$(dirname "$criu")") to rebuild it"
		printf '%s\n' "$criu"
		return
	fi
	build
}

main "$@"
