#!/usr/bin/env bash
# install-go.sh makes sure the Go toolchain that builds rt is installed; safe to run again.
#
# The Makefile uses /usr/local/go/bin/go when it exists, else the go in PATH. When that go
# is missing or older than go.mod's "go" line (Debian 12 ships Go 1.19), this installs
# Go $GO_VERSION at /usr/local/go (replacing an older one there).
#
# The toolchain comes from the Go module proxy ($GOPROXY, default https://proxy.golang.org):
# every Go release is published there as the module golang.org/toolchain, version
# v0.0.1-go<version>.<os>-<arch>, the same zip `go` fetches itself when GOTOOLCHAIN asks for
# a newer release. The zip is checked against the module's h1: hash, pinned below as
# sum.golang.org records it (the hash go.sum would hold), so no Go is needed to install Go.
#
# Environment (optional):
#   RT_GOROOT     where to install (default /usr/local/go); the Makefile only looks there
#   RT_CACHE_DIR  where the downloaded zip is kept (default /var/cache/rt-tests/go-toolchain)
#   GOPROXY       the module proxy list; its first http(s) entry is used
set -euo pipefail

GO_VERSION=1.26.8
declare -A TOOLCHAIN_H1=(
	[linux-amd64]=h1:ZOmGe1OnfREDMIdb1Qi4G9JSuDPBLGExZMQ4nis1RXM=
	[linux-arm64]=h1:sYL/O6MqS68ML0kjsQ36WoYIpJqkw60TxizWUYUKQMc=
)

cd "$(dirname "$0")/../.."
GOROOT_DIR=${RT_GOROOT:-/usr/local/go}
CACHE_DIR=${RT_CACHE_DIR:-/var/cache/rt-tests/go-toolchain}

tmp= # the unpacked download, removed on exit

say() { echo "install-go: $*" >&2; }
die() { say "$*"; exit 1; }

# go_version BINARY prints the release a go binary reports (1.26.8), or nothing.
go_version() {
	local v
	v=$("$1" version 2>/dev/null) || return 0
	v=${v#go version go}
	printf '%s\n' "${v%% *}"
}

# at_least HAVE WANT: is release HAVE >= WANT?
at_least() {
	[ -n "$1" ] && [ "$(printf '%s\n%s\n' "$2" "$1" | sort -V | head -1)" = "$2" ]
}

# module_hash DIR prints the h1: hash of the module files under DIR (Go's dirhash: the
# SHA-256 of the sorted "sha256  path" lines of every file, base64-encoded).
module_hash() {
	local sum
	sum=$(cd "$1" && find . -type f -printf '%P\0' | LC_ALL=C sort -z | xargs -0 sha256sum | sha256sum | cut -c1-64)
	# shellcheck disable=SC2059 # the format is the binary digest, built on purpose
	printf 'h1:%s\n' "$(printf "$(printf '%s' "$sum" | sed 's/../\\x&/g')" | base64)"
}

proxy_url() {
	local p
	IFS=',|' read -ra p <<<"${GOPROXY:-https://proxy.golang.org}"
	for p in "${p[@]}"; do
		case $p in http://* | https://*) printf '%s\n' "${p%/}"; return ;; esac
	done
	die "GOPROXY=$GOPROXY names no proxy URL to download the Go toolchain from"
}

platform() {
	case $(uname -m) in
	x86_64) echo linux-amd64 ;;
	aarch64) echo linux-arm64 ;;
	*) die "no pinned Go toolchain for $(uname -m); install Go >= $1 yourself" ;;
	esac
}

install_toolchain() {
	local want=$1 plat version url zip h1
	plat=$(platform "$want")
	version=v0.0.1-go$GO_VERSION.$plat
	for tool in curl unzip sha256sum base64; do
		command -v "$tool" >/dev/null || die "missing $tool (apt-get install curl unzip ca-certificates)"
	done
	url=$(proxy_url)/golang.org/toolchain/@v/$version.zip
	zip=$CACHE_DIR/$version.zip
	mkdir -p "$CACHE_DIR"
	tmp=$(mktemp -d "$(dirname "$GOROOT_DIR")/.install-go.XXXXXX")
	trap 'rm -rf "$tmp"' EXIT
	if [ ! -s "$zip" ]; then
		say "downloading golang.org/toolchain@$version from $url"
		curl -fsSL --retry 3 -o "$zip.part" "$url"
		mv "$zip.part" "$zip"
	fi
	unzip -q "$zip" -d "$tmp/unpacked"
	local root=$tmp/unpacked/golang.org/toolchain@$version
	[ -d "$root" ] || die "$zip does not hold golang.org/toolchain@$version"
	h1=$(module_hash "$tmp/unpacked")
	if [ "$h1" != "${TOOLCHAIN_H1[$plat]}" ]; then
		rm -f "$zip"
		die "golang.org/toolchain@$version: hash $h1, want ${TOOLCHAIN_H1[$plat]} (download removed; run again)"
	fi
	# Module zips keep no file modes.
	chmod 0755 "$root"/bin/* "$root"/pkg/tool/*/*
	if [ -e "$GOROOT_DIR" ]; then
		mv "$GOROOT_DIR" "$tmp/old"
	fi
	mv "$root" "$GOROOT_DIR"
	[ "$(go_version "$GOROOT_DIR/bin/go")" = "$GO_VERSION" ] || die "$GOROOT_DIR/bin/go does not run"
	say "installed Go $GO_VERSION at $GOROOT_DIR (golang.org/toolchain@$version from the Go module proxy)"
}

main() {
	local want have
	want=$(awk '$1 == "go" { print $2; exit }' go.mod)
	[ -n "$want" ] || die "no go line in go.mod"
	if [ -x "$GOROOT_DIR/bin/go" ]; then
		have=$(go_version "$GOROOT_DIR/bin/go")
		at_least "$have" "$want" && return 0
		say "$GOROOT_DIR has Go ${have:-of unknown version}; rt needs $want or later"
	elif command -v go >/dev/null; then
		have=$(go_version go)
		at_least "$have" "$want" && return 0
		say "$(command -v go) is Go ${have:-of unknown version}; rt needs $want or later"
	fi
	if ! mkdir -p "$(dirname "$GOROOT_DIR")" 2>/dev/null || [ ! -w "$(dirname "$GOROOT_DIR")" ]; then
		die "cannot write $(dirname "$GOROOT_DIR"): run as root to install Go $GO_VERSION"
	fi
	install_toolchain "$want"
}

main "$@"
