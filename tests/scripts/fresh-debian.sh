#!/usr/bin/env bash
# fresh-debian.sh checks the README's set-up on a fresh Debian 12 without touching this
# machine's own: a debootstrap'ed bookworm minbase (no make, gcc, curl or Go) in a scratch
# directory, a clone of this repository's HEAD in it, and there, as root:
#
#   tests/scripts/install-deps.sh && make demo    (the README's first command)
#   tests/scripts/install-deps.sh                 (again: nothing to do)
#   make install; man rt-run; the completion; make uninstall
#
# It runs in a private mount namespace (the chroot's /dev, /proc, /sys go away with it) and
# removes the scratch directory at the end. Not part of make test: it downloads the Debian
# packages and the Go toolchain (about 2 GB on disk, a few minutes). The minbase tree is kept
# in /var/cache/rt-tests/debian-bookworm-minbase for the next run.
set -euo pipefail
cd "$(dirname "$0")/../.."
repo=$PWD

die() { echo "fresh-debian: $*" >&2; exit 1; }

[ "$(id -u)" -eq 0 ] || die "run as root"
command -v debootstrap >/dev/null || die "missing debootstrap (apt-get install debootstrap)"
mirror=${DEBIAN_MIRROR:-http://deb.debian.org/debian}
base=/var/cache/rt-tests/debian-bookworm-minbase
if [ ! -x "$base/bin/bash" ]; then
	rm -rf "$base.tmp"
	debootstrap --variant=minbase bookworm "$base.tmp" "$mirror" >/dev/null
	mv "$base.tmp" "$base"
fi

root=$(mktemp -d /var/tmp/rt-fresh-debian.XXXXXX)
trap 'rm -rf "$root"' EXIT
cp -a "$base/." "$root/"
git clone -q "$repo" "$root/root/rt"
cp /etc/resolv.conf "$root/etc/resolv.conf"
# A machine behind a TLS-intercepting proxy trusts its CA; ca-certificates (which
# install-deps.sh installs) picks the host's local ones up from here.
if compgen -G '/usr/local/share/ca-certificates/*.crt' >/dev/null; then
	mkdir -p "$root/usr/local/share/ca-certificates"
	cp /usr/local/share/ca-certificates/*.crt "$root/usr/local/share/ca-certificates/"
fi
# Packages' maintainer scripts must not start daemons (containerd) in the chroot.
printf '#!/bin/sh\nexit 101\n' >"$root/usr/sbin/policy-rc.d"
chmod 0755 "$root/usr/sbin/policy-rc.d"

# What runs inside: the README's commands, then install and uninstall.
cat >"$root/root/check.sh" <<'EOF'
set -euo pipefail
cd /root/rt
passed=0 failed=0
ok() { passed=$((passed + 1)); echo "ok   $1"; }
fail() { failed=$((failed + 1)); echo "FAIL $1"; }
for tool in go make gcc curl; do
	if command -v $tool >/dev/null; then fail "fresh: $tool already installed"; else ok "fresh: no $tool"; fi
done
if tests/scripts/install-deps.sh && make demo; then ok "install-deps.sh && make demo"; else fail "install-deps.sh && make demo"; fi
if [ "$(/usr/local/go/bin/go version 2>/dev/null | cut -d' ' -f3)" = go1.26.8 ]; then ok "Go at /usr/local/go"; else fail "Go at /usr/local/go"; fi
if [ -z "$(tests/scripts/install-deps.sh 2>&1)" ]; then ok "install-deps.sh again: nothing to do"; else fail "install-deps.sh again"; fi
make install >/dev/null
if MANPAGER=cat MANWIDTH=80 man rt-run | grep -q 'rt-run - '; then ok "man rt-run"; else fail "man rt-run"; fi
if bash -c 'source /usr/local/share/bash-completion/completions/rt; COMP_WORDS=(rt ""); COMP_CWORD=1; _rt; [[ " ${COMPREPLY[*]} " == *" run "* ]]'; then
	ok "completion"
else
	fail "completion"
fi
make uninstall >/dev/null
left=$(find /usr/local/bin /usr/local/share/man /usr/local/share/bash-completion /usr/local/share/doc -name 'rt*' 2>/dev/null)
if [ -z "$left" ]; then ok "make uninstall"; else fail "make uninstall left $left"; fi
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
EOF

unshare --mount --propagation private -- bash -c '
	set -e
	root=$1
	# A real machine'\''s / is a mount point; a chroot directory is not until bound onto itself.
	mount --bind "$root" "$root"
	mount --rbind /dev "$root/dev"
	mount -t proc proc "$root/proc"
	mount --rbind /sys "$root/sys"
	mount -t tmpfs tmpfs "$root/run"
	chroot "$root" /usr/bin/env -i HOME=/root TERM=dumb \
		PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin bash /root/check.sh
' bash "$root"
