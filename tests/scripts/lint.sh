#!/usr/bin/env bash
# lint.sh: gofmt, go vet and staticcheck (pinned; installed from the Go module proxy if missing),
# and THIRD_PARTY_NOTICES up to date (BUILD_TAGS: those of make rt).
set -euo pipefail
version=${1:?usage: lint.sh STATICCHECK_VERSION}
cd "$(dirname "$0")/../.."

pkgs=$(go list -mod=vendor ./...)
unformatted=$(gofmt -l $(git ls-files '*.go' | grep -v '^vendor/') || true)
if [ -n "$unformatted" ]; then
	echo "gofmt: these files need formatting:" >&2
	echo "$unformatted" >&2
	exit 1
fi
go vet -mod=vendor $pkgs
go vet -mod=vendor -tags kernel $pkgs # the kernel tests (see DEVELOPERS.md)
go vet -mod=vendor -tags rtdocs . # the man page and completion generator (docs.go)

bin=$(go env GOPATH)/bin/staticcheck
if ! "$bin" -version 2>/dev/null | grep -q "${version#v}"; then
	GOFLAGS= go install "honnef.co/go/tools/cmd/staticcheck@$version"
fi
# SA1019: the runtime-spec's deprecated fields (prestart hooks, kernel memory) must still be honoured.
"$bin" -checks inherit,-SA1019 $pkgs
"$bin" -checks inherit,-SA1019 -tags kernel $pkgs
if ! tests/scripts/notices.sh | diff -u THIRD_PARTY_NOTICES - >&2; then
	echo "lint: THIRD_PARTY_NOTICES is out of date (vendor/ or the build tags changed): run make notices" >&2
	exit 1
fi
echo "lint: ok"
