# rt — an OCI container runtime.
PREFIX ?= /usr/local
GO ?= go
# tests/scripts/install-go.sh (make deps) installs Go at /usr/local/go when the go in PATH is
# missing or too old, and keeps one there recent enough: recipes and the scripts they run
# find it first.
export PATH := /usr/local/go/bin:$(PATH)
# encoding/json implemented by json/v2 (the same v1 API and output): a process's first decode of a
# spec, which every rt process pays (config.json, state.json, the init's config), takes 0.7 ms
# instead of 1.5; make bench measured 7 to 12% less time for every command. Exported, so the
# tests' own builds of rt get it too; rt builds and passes its tests without it as well.
export GOEXPERIMENT := jsonv2
VERSION := $(shell cat VERSION 2>/dev/null || echo 0.1.0-dev)
COMMIT := $(shell git rev-parse --short HEAD 2>/dev/null || echo unknown)
# rt is linked statically (libseccomp included): `rt exec` runs it inside the
# container's mount namespace, where no dynamic loader of the host exists.
LDFLAGS := -s -w -X main.version=$(VERSION) -X main.gitCommit=$(COMMIT) -linkmode external -extldflags -static
BUILD_TAGS := osusergo,netgo,urfave_cli_no_docs
GOFLAGS_BUILD := -mod=vendor -trimpath -tags $(BUILD_TAGS) -ldflags "$(LDFLAGS)"
STATICCHECK_VERSION := v0.8.2
RUNTIME ?= $(CURDIR)/rt

.PHONY: all rt deps test unit integration fuzz demo lint notices docs-tool man completion install uninstall bench conformance test-containerd test-podman test-docker test-cri test-cri2 test-runc-bats clean

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

# fuzz runs every fuzz target for FUZZTIME each (go test's -fuzztime: 30s, 1m, or 10000x). Their seed corpora
# (f.Add and testdata/fuzz/) run as ordinary tests in make unit. New crashers land in testdata/fuzz/: commit them
# with the fix.
FUZZTIME ?= 30s
FUZZ_TARGETS := .:FuzzParseSignal .:FuzzParseMemory .:FuzzDecodeResources ./specconv:FuzzLoadAndValidate ./specconv:FuzzSemverMajor \
	./libcontainer/internal/initproto:FuzzRecv ./libcontainer/criu/criurpc:FuzzDecodeResp

fuzz:
	@for t in $(FUZZ_TARGETS); do \
		pkg=$${t%%:*}; fn=$${t#*:}; echo "=== $$fn ($$pkg, $(FUZZTIME))"; \
		$(GO) test -mod=vendor -run '^$$' -fuzz "^$$fn\$$" -fuzztime $(FUZZTIME) $$pkg || exit 1; \
	done

# The kernel tests (build tag kernel) run the library packages against the
# real kernel as root; the unit tests run the same code on fakes as any user.
integration: rt
	$(GO) test -mod=vendor -count=1 -timeout 20m ./tests/integration/...
	$(GO) test -mod=vendor -count=1 -tags kernel -run '^TestKernel' $$($(GO) list -mod=vendor ./... | grep -v /tests/)

demo: deps rt
	@tests/scripts/demo.sh

lint:
	@BUILD_TAGS=$(BUILD_TAGS) tests/scripts/lint.sh $(STATICCHECK_VERSION)

# THIRD_PARTY_NOTICES follows vendor/ and the build tags; make lint checks it is current.
notices:
	BUILD_TAGS=$(BUILD_TAGS) tests/scripts/notices.sh >THIRD_PARTY_NOTICES

# The man pages and the bash completion are generated from rt's command definitions by a
# build of package main with the rtdocs tag (docs.go), which the shipped rt never contains.
DOCS_DATE := $(shell git log -1 --format=%cs 2>/dev/null)

docs-tool:
	CGO_ENABLED=1 $(GO) build -mod=vendor -tags $(BUILD_TAGS),rtdocs -o _build/rt-docs .

man: docs-tool
	rm -rf _build/man
	RT_DOCS_VERSION=$(VERSION) RT_DOCS_DATE=$(DOCS_DATE) _build/rt-docs man _build/man

completion: docs-tool
	_build/rt-docs completion _build/completion/rt

BINDIR ?= $(PREFIX)/bin
MANDIR ?= $(PREFIX)/share/man
BASHCOMPDIR ?= $(PREFIX)/share/bash-completion/completions
DOCDIR ?= $(PREFIX)/share/doc/rt

install: rt man completion
	install -D -m 0755 rt $(DESTDIR)$(BINDIR)/rt
	install -d $(DESTDIR)$(MANDIR)/man8
	install -m 0644 _build/man/*.8 $(DESTDIR)$(MANDIR)/man8/
	install -D -m 0644 _build/completion/rt $(DESTDIR)$(BASHCOMPDIR)/rt
	install -D -m 0644 -t $(DESTDIR)$(DOCDIR) LICENSE THIRD_PARTY_NOTICES

# uninstall removes what install put there; the directories it shares with other programs stay.
uninstall: man
	rm -f $(DESTDIR)$(BINDIR)/rt $(DESTDIR)$(BASHCOMPDIR)/rt
	rm -f $(addprefix $(DESTDIR)$(MANDIR)/man8/,$(notdir $(wildcard _build/man/*.8)))
	rm -rf $(DESTDIR)$(DOCDIR)

# make bench QUICK=1: a short run (fewer samples, scaling to 100 containers).
bench: deps rt
	@QUICK=$(QUICK) tests/bench/run.sh

conformance: deps rt
	@RUNTIME=$(RUNTIME) tests/conformance/run.sh

test-containerd: deps rt
	@RUNTIME=$(RUNTIME) tests/clients/containerd.sh

test-podman: deps rt
	@RUNTIME=$(RUNTIME) tests/clients/podman.sh

test-docker: deps rt
	@RUNTIME=$(RUNTIME) tests/clients/docker.sh

test-cri: deps rt
	@RUNTIME=$(RUNTIME) tests/clients/cri.sh

test-cri2: deps rt
	@RUNTIME=$(RUNTIME) tests/clients/cri2.sh

# runc v1.5.2's own bats suite; RUNTIME=upstream runs upstream runc 1.5.2 built from the
# same module; RUNC_BATS_FILES="kill.bats exec.bats" runs some files only.
test-runc-bats: deps rt
	@RUNTIME=$(RUNTIME) RUNC_BATS_FILES="$(RUNC_BATS_FILES)" tests/runc-bats/run.sh

clean:
	rm -rf rt _build
