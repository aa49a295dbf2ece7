# rt — an OCI container runtime.
PREFIX ?= /usr/local
GO ?= go
# tests/scripts/install-go.sh (make deps) installs Go at /usr/local/go when the go in PATH is
# missing or too old, and keeps one there recent enough: recipes and the scripts they run
# find it first.
export PATH := /usr/local/go/bin:$(PATH)
VERSION := $(shell cat VERSION 2>/dev/null || echo 0.1.0-dev)
COMMIT := $(shell git rev-parse --short HEAD 2>/dev/null || echo unknown)
# rt is linked statically (libseccomp included): `rt exec` runs it inside the
# container's mount namespace, where no dynamic loader of the host exists.
LDFLAGS := -s -w -X main.version=$(VERSION) -X main.gitCommit=$(COMMIT) -linkmode external -extldflags -static
BUILD_TAGS := osusergo,netgo,urfave_cli_no_docs
GOFLAGS_BUILD := -mod=vendor -trimpath -tags $(BUILD_TAGS) -ldflags "$(LDFLAGS)"
STATICCHECK_VERSION := v0.8.2
RUNTIME ?= $(CURDIR)/rt

.PHONY: all rt deps test unit integration demo lint notices install bench conformance test-containerd test-podman clean

all: rt

rt:
	CGO_ENABLED=1 $(GO) build $(GOFLAGS_BUILD) -o rt .

# deps installs what building and testing rt needs on a Debian machine; safe to run again.
deps:
	@tests/scripts/install-deps.sh

test: deps rt
	@tests/scripts/test.sh

unit: rt
	$(GO) test -mod=vendor -count=1 $$($(GO) list -mod=vendor ./... | grep -v /tests/)

integration: rt
	$(GO) test -mod=vendor -count=1 -timeout 20m ./tests/integration/...

demo: deps rt
	@tests/scripts/demo.sh

lint:
	@BUILD_TAGS=$(BUILD_TAGS) tests/scripts/lint.sh $(STATICCHECK_VERSION)

# THIRD_PARTY_NOTICES follows vendor/ and the build tags; make lint checks it is current.
notices:
	BUILD_TAGS=$(BUILD_TAGS) tests/scripts/notices.sh >THIRD_PARTY_NOTICES

install: rt
	install -D -m 0755 rt $(DESTDIR)$(PREFIX)/bin/rt

bench: deps rt
	@tests/bench/run.sh

conformance: deps rt
	@RUNTIME=$(RUNTIME) tests/conformance/run.sh

test-containerd: deps rt
	@RUNTIME=$(RUNTIME) tests/clients/containerd.sh

test-podman: deps rt
	@RUNTIME=$(RUNTIME) tests/clients/podman.sh

clean:
	rm -rf rt _build
