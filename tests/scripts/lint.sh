#!/usr/bin/env bash
# lint.sh: gofmt, go vet and staticcheck (pinned; installed from the Go module proxy if missing).
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

bin=$(go env GOPATH)/bin/staticcheck
if ! "$bin" -version 2>/dev/null | grep -q "${version#v}"; then
	GOFLAGS= go install "honnef.co/go/tools/cmd/staticcheck@$version"
fi
# SA1019: the runtime-spec's deprecated fields (prestart hooks, kernel memory) must still be honoured.
"$bin" -checks inherit,-SA1019 $pkgs
echo "lint: ok"
