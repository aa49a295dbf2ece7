#!/usr/bin/env bash
# run.sh runs runc v1.5.2's own integration suite (its tests/integration/*.bats) against
# $RUNTIME: rt, or upstream runc 1.5.2 built from the same module (RUNTIME=upstream), so a
# test that passes with one and fails with the other points at a difference of the runtime.
#
# Usage: RUNTIME=/abs/path/to/rt tests/runc-bats/run.sh [FILE.bats ...]
#        RUNTIME=upstream tests/runc-bats/run.sh [FILE.bats ...]
#
# Prints one line per test file, the failing tests, and ends with
#   N passed, M failed, K skipped (S by skip.txt)
# Exit status: 0 when no test failed, 1 when one did, 2 when the harness itself broke.
#
# What it does:
#   - takes github.com/opencontainers/runc@v1.5.2 from the Go module proxy and builds, once
#     per runc and Go version, the suite's helper programs (tests/cmd/*, static), cached
#     with the suite in $RT_TEST_CACHE/runc-bats/; upstream runc itself is the project's
#     one build of it (upstream_runc in tests/scripts/lib.sh, with libseccomp);
#   - builds local stand-ins for the two images the suite's get-images.sh downloads: busybox
#     from Debian's busybox-static and a Debian root from debootstrap --variant=minbase,
#     cached in $RT_TEST_CACHE/images/ keyed by package version / suite;
#   - copies the suite to a scratch dir where every test named in skip.txt skips itself,
#     with its reason, before its file's setup runs (the only tests not run);
#   - runs each file with bats inside a private mount + cgroup + pid + network + ipc + uts
#     namespace whose cgroup root is a private cgroup made below this process's own cgroup in
#     every hierarchy: the suite's absolute cgroup paths land there, never in the machine's
#     cgroups. Everything is removed afterwards.
#
# Every test has a time limit (RUNC_BATS_TEST_TIMEOUT), kept by a watchdog (inside.sh):
# a test that runs past it counts as failed ("timeout"), and its containers, the runtime's
# processes and then the test's own processes are killed, so a hang fails that test, not
# the run. A whole file is limited to RUNC_BATS_FILE_TIMEOUT; its unreported tests fail.
#
# Environment:
#   RUNTIME                 runtime under test: an absolute path, or "upstream" (required)
#   RUNC_BATS_FILES         the test files to run when none are given (default: all)
#   RUNC_BATS_RESULTS       where the TAP files and results.tsv go
#                           (default _build/runc-bats/results/<runtime name>)
#   RUNC_BATS_SKIP_LIST     the skip list (default tests/runc-bats/skip.txt)
#   RUNC_BATS_TEST_TIMEOUT  seconds per test (default 120)
#   RUNC_BATS_FILE_TIMEOUT  seconds per file (default 900)
#   RT_TEST_CACHE           cache of built artefacts (default /var/cache/rt-tests)
#   DEBIAN_MIRROR           mirror for debootstrap (default http://deb.debian.org/debian)
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$HERE/../.." && pwd)
# shellcheck source=../scripts/lib.sh
. "$REPO/tests/scripts/lib.sh"

RUNC_MODULE=github.com/opencontainers/runc
# The suite is the one of the upstream runc the project compares with.
RUNC_VERSION=v$RUNC_UPSTREAM_VERSION
# Helper programs helpers.bash and the .bats files run from tests/cmd/_bin.
HELPERS=(recvtty seccompagent fs-idmap pidfd-kill remap-rootfs key_label sd-helper)
# Bump when the way a cached artefact is built changes, so old caches are not reused.
SUITE_RECIPE=2
IMAGE_RECIPE=1
DEBIAN_SUITE=bookworm

CACHE=${RT_TEST_CACHE:-/var/cache/rt-tests}
SKIP_LIST=${RUNC_BATS_SKIP_LIST:-$HERE/skip.txt}
TEST_TIMEOUT=${RUNC_BATS_TEST_TIMEOUT:-120}
FILE_TIMEOUT=${RUNC_BATS_FILE_TIMEOUT:-900}
DEBIAN_MIRROR=${DEBIAN_MIRROR:-http://deb.debian.org/debian}

die() { echo "runc-bats: $*" >&2; exit 2; }
log() { echo "runc-bats: $*" >&2; }

# go_env runs go for building a module outside rt's tree: no vendor dir, no workspace,
# no toolchain download.
go_env() {
	env GOWORK=off GOTOOLCHAIN=local GOFLAGS="-mod=mod -buildvcs=false" "$@"
}

# with_lock FILE CMD... runs CMD holding an exclusive lock on FILE: two runs (or two
# engineers) building the same cache entry wait for each other.
with_lock() {
	local lock=$1
	shift
	mkdir -p "$(dirname "$lock")"
	(
		flock 9
		"$@"
	) 9>"$lock"
}

# ---------------------------------------------------------------- the suite and runc

# build_suite builds the helper programs and a pristine copy of tests/integration into
# $SUITE (once per runc version, Go version and recipe).
build_suite() {
	[ -f "$SUITE/.complete" ] && return 0
	log "building runc $RUNC_VERSION's test helpers and suite in $SUITE"
	local tmp=$SUITE.tmp dir
	rm -rf "$tmp"
	mkdir -p "$tmp/bin"
	dir=$(cd "$tmp" && go_env go mod download -json "$RUNC_MODULE@$RUNC_VERSION" | jq -r .Dir)
	[ -d "$dir/tests/integration" ] || die "go mod download $RUNC_MODULE@$RUNC_VERSION gave no tests/integration"
	cp -r "$dir" "$tmp/src"
	chmod -R u+w "$tmp/src"
	# Static: selinux.bats copies key_label into the container. seccompagent uses libseccomp.
	(cd "$tmp/src" && go_env CGO_ENABLED=1 go build -trimpath -tags "seccomp urfave_cli_no_docs netgo osusergo" \
		-ldflags "-linkmode external -extldflags -static" -o "$tmp/bin/" ./tests/cmd/...) ||
		die "building runc $RUNC_VERSION's test helpers failed"
	local h
	for h in "${HELPERS[@]}"; do
		[ -x "$tmp/bin/$h" ] || die "helper $h was not built from tests/cmd"
	done
	cp -r "$tmp/src/tests/integration" "$tmp/integration"
	# Tests also run scripts that live with the helpers' sources.
	cp -r "$tmp/src/tests/cmd" "$tmp/cmd"
	# Module zips keep no file modes.
	find "$tmp/integration" "$tmp/cmd" -name '*.sh' -exec chmod a+x {} +
	chmod a+x "$tmp/integration"/*.bats
	# spec.bats reads the runtime-spec version from ../../go.mod.
	cp "$tmp/src/go.mod" "$tmp/go.mod"
	rm -rf "$tmp/src"
	echo "$RUNC_MODULE@$RUNC_VERSION" >"$tmp/.complete"
	rm -rf "$SUITE"
	mv "$tmp" "$SUITE"
}

# ---------------------------------------------------------------- images

# build_image OUT FILL writes OUT, a tar of the root filesystem FILL DIR makes, unless OUT
# exists. The tar is uncompressed because every test extracts it again.
build_image() {
	local out=$1 fill=$2 tmp=$1.tmp.d
	[ -f "$out" ] && return 0
	log "building the image $out"
	rm -rf "$tmp"
	mkdir -p "$tmp"
	"$fill" "$tmp"
	tar -C "$tmp" --numeric-owner -cf "$out.tmp" .
	rm -rf "$tmp"
	mv "$out.tmp" "$out"
}

# busybox_root fills DIR like the suite's busybox image: the static busybox with its
# applets linked in /bin, and the passwd/group of that image (no user 1000: tests rely on
# uid 1000 having no passwd entry).
busybox_root() {
	local tmp=$1
	# No /proc or /sys: as in the image; tests replace them with symlinks.
	mkdir -p "$tmp"/{bin,dev,etc,home,root,tmp,usr/sbin,var/spool/mail,var/www}
	chmod 1777 "$tmp/tmp"
	chmod 0700 "$tmp/root"
	install -m 0755 /bin/busybox "$tmp/bin/busybox"
	# Hard links in /bin, as in the image; run chrooted so the links are made inside it.
	chroot "$tmp" /bin/busybox --install /bin
	cat >"$tmp/etc/passwd" <<-'EOF'
		root:x:0:0:root:/root:/bin/sh
		daemon:x:1:1:daemon:/usr/sbin:/bin/false
		bin:x:2:2:bin:/bin:/bin/false
		sys:x:3:3:sys:/dev:/bin/false
		sync:x:4:100:sync:/bin:/bin/sync
		mail:x:8:8:mail:/var/spool/mail:/bin/false
		www-data:x:33:33:www-data:/var/www:/bin/false
		operator:x:37:37:Operator:/var:/bin/false
		nobody:x:65534:65534:nobody:/home:/bin/false
	EOF
	cat >"$tmp/etc/group" <<-'EOF'
		root:x:0:
		daemon:x:1:
		bin:x:2:
		sys:x:3:
		adm:x:4:
		tty:x:5:
		disk:x:6:
		lp:x:7:
		mail:x:8:
		kmem:x:9:
		wheel:x:10:root
		cdrom:x:11:
		dialout:x:18:
		floppy:x:19:
		video:x:26:
		audio:x:29:
		tape:x:32:
		www-data:x:33:
		operator:x:37:
		users:x:100:
		nogroup:x:65534:
	EOF
}

# debian_root fills DIR with a minimal Debian (the suite uses Debian "slim"): apt's package
# lists and caches, docs and locales left out.
debian_root() {
	local tmp=$1 log=$1.log
	debootstrap --variant=minbase "$DEBIAN_SUITE" "$tmp" "$DEBIAN_MIRROR" >"$log" 2>&1 ||
		{ tail -20 "$log" >&2; rm -rf "$tmp"; die "debootstrap $DEBIAN_SUITE failed (log: $log)"; }
	rm -f "$log"
	rm -rf "$tmp"/var/cache/apt/* "$tmp"/var/lib/apt/lists/* "$tmp"/usr/share/doc/* \
		"$tmp"/usr/share/man/* "$tmp"/usr/share/info/* "$tmp"/usr/share/locale/*
	# debootstrap copies the host's; the container should not see them.
	: >"$tmp/etc/resolv.conf"
	echo debian >"$tmp/etc/hostname"
}

build_images() {
	local bb_version
	bb_version=$(dpkg-query -W -f='${Version}' busybox-static 2>/dev/null) || die "busybox-static is not installed (make deps)"
	BUSYBOX_TAR=$CACHE/images/busybox-static-${bb_version//:/_}-r$IMAGE_RECIPE.tar
	DEBIAN_TAR=$CACHE/images/debian-$DEBIAN_SUITE-minbase-r$IMAGE_RECIPE.tar
	mkdir -p "$CACHE/images"
	with_lock "$BUSYBOX_TAR.lock" build_image "$BUSYBOX_TAR" busybox_root
	# debootstrap: about a minute.
	with_lock "$DEBIAN_TAR.lock" build_image "$DEBIAN_TAR" debian_root
}

# ---------------------------------------------------------------- the scratch copy

# apply_skip_list makes each test skip.txt names skip itself, with its reason, before its
# file's setup does anything (a setup can fail where the test cannot run at all): the
# file's setup and teardown get a first statement on their own line (so line numbers in
# failure reports stay upstream's), and skip.bash is appended. It fails when an entry names
# no test of the suite: the list must stay exact.
apply_skip_list() {
	local dir=$1 f
	[ -f "$SKIP_LIST" ] || die "no skip list $SKIP_LIST"
	awk -F ' [|] ' '
		/^[[:space:]]*(#|$)/ { next }
		NF != 3 { printf "%s:%d: want \"FILE | TEST NAME | REASON\"\n", FILENAME, FNR > "/dev/stderr"; bad = 1; next }
		seen[$1 SUBSEP $2]++ { printf "%s:%d: duplicate entry\n", FILENAME, FNR > "/dev/stderr"; bad = 1 }
		{ print $1 "\t" $2 "\t" $3 }
		END { exit bad }' "$SKIP_LIST" >"$WORK/skips.tsv" || die "bad skip list $SKIP_LIST"
	cut -f1 "$WORK/skips.tsv" | sort -u | while read -r f; do
		[ -f "$dir/$f" ] || die "skip list names $f, which the suite does not have"
		awk -F '\t' -v file="$f" '
			FILENAME != ARGV[2] { if ($1 == file) listed[$2] = 1; next }
			/^function setup\(\) \{$/ { $0 = $0 " rt_harness_skip_listed;"; setups++ }
			/^function teardown\(\) \{$/ { $0 = $0 " rt_harness_listed >/dev/null && return 0;"; teardowns++ }
			match($0, /^@test ".*" \{$/) { delete listed[substr($0, 8, length($0) - 10)] }
			{ print }
			END {
				for (n in listed) { printf "skip list: %s has no test \"%s\"\n", file, n > "/dev/stderr"; bad = 1 }
				if (setups > 1 || teardowns > 1) { printf "%s: more than one setup or teardown\n", file > "/dev/stderr"; bad = 1 }
				if (!setups) print "function setup() { rt_harness_skip_listed; }"
				if (!teardowns) print "function teardown() { rt_harness_listed >/dev/null && return 0; return 0; }"
				exit bad
			}' "$WORK/skips.tsv" "$dir/$f" >"$dir/$f.new" || die "skip list does not match the suite"
		cat "$HERE/skip.bash" >>"$dir/$f.new"
		mv "$dir/$f.new" "$dir/$f"
	done
}

prepare_scratch() {
	local it=$WORK/tests/integration
	mkdir -p "$WORK/tests" "$WORK/tmp" "$WORK/tap"
	cp -r "$SUITE/integration" "$it"
	cp -r "$SUITE/cmd" "$WORK/tests/cmd"
	cp "$SUITE/go.mod" "$WORK/go.mod"
	ln -s "$SUITE/bin" "$WORK/tests/cmd/_bin"
	# get-images.sh downloads only what is missing; these names are what it looks for.
	local arch
	arch=$(go env GOARCH)
	ln -s "$BUSYBOX_TAR" "$it/testdata/busybox-$arch.tar.xz"
	ln -s "$DEBIAN_TAR" "$it/testdata/debian-$arch.tar.xz"
	apply_skip_list "$it"
	if [ $# -gt 0 ]; then
		printf '%s\n' "$@" >"$WORK/files"
	else
		(cd "$it" && ls -- *.bats) >"$WORK/files"
	fi
	local f
	while read -r f; do [ -f "$it/$f" ] || die "no test file $f in the suite"; done <"$WORK/files"
}

# ---------------------------------------------------------------- CRIU

# use_criu finds a CRIU that works on this kernel for checkpoint.bats (the runtime and the
# suite run `criu`, so its directory goes first in the suite's PATH), or, failing that,
# has every test of checkpoint.bats skipped with the reason: the suite's own check only
# asks whether a `criu` exists, and Debian 12's exists but fails here.
use_criu() {
	local criu reason
	CRIU_DIR=
	if criu=$("$REPO/tests/scripts/get-criu.sh" 2>"$WORK/get-criu.log"); then
		CRIU_DIR=$(dirname "$criu")
		log "CRIU for checkpoint.bats: $("$criu" --version | sed -n 's/^Version: //p') ($criu)"
	else
		reason=$(tail -1 "$WORK/get-criu.log")
		log "no CRIU for checkpoint.bats: $reason"
		cp "$SKIP_LIST" "$WORK/skip-list.txt"
		sed -n 's/^@test "\(.*\)" {$/\1/p' "$SUITE/integration/checkpoint.bats" | while read -r t; do
			grep -qF "checkpoint.bats | $t |" "$SKIP_LIST" || echo "checkpoint.bats | $t | criu: $reason"
		done >>"$WORK/skip-list.txt"
		SKIP_LIST=$WORK/skip-list.txt
	fi
}

# ---------------------------------------------------------------- private cgroups

# cgroup_mounts lists the host's cgroup hierarchies under /sys/fs/cgroup as
# "MOUNTPOINT FSTYPE SUPEROPTIONS" (the namespace mounts them again the same way).
cgroup_mounts() {
	awk '{ for (i = 7; $i != "-"; i++); fstype = $(i + 1); opts = $(i + 3) }
		(fstype == "cgroup" || fstype == "cgroup2") && $5 ~ "^/sys/fs/cgroup/" { print $5, fstype, opts }' \
		/proc/self/mountinfo
}

# make_private_cgroups makes $CG_NAME below this process's cgroup in every hierarchy and
# records the directories; the namespace is rooted there.
# lowest_mntns_cpu prints a CPU on which a mount namespace made now has a smaller id than
# one made later on any CPU. Kernel 6.18 gives namespaces ids from per-CPU batches, so a
# namespace made on one CPU can carry a smaller id than one made earlier on another, and it
# compares those ids to refuse binding a mount namespace's file where it could make a loop:
# `unshare --mount=FILE` (mounts_propagation_unsafe.bats) then fails with EINVAL, for runc
# as for rt, whenever the suite's own namespace has the larger id. The suite's namespace is
# made on the CPU printed here; the suite itself runs on every CPU, as before.
lowest_mntns_cpu() {
	local cpus c
	# This shell's CPUs, one a line ("0-2,5" is 0 1 2 5).
	cpus=$(taskset -pc $$ | sed 's/.*: //' | tr ',' '\n' |
		awk -F- '{ for (i = $1; i <= ($2 == "" ? $1 : $2); i++) print i }')
	for c in $cpus; do
		# shellcheck disable=SC2016,SC2086 # expanded by that shell; $1 is a list
		if taskset -c "$c" unshare --mount --propagation private sh -c '
			d=$(mktemp -d) || exit 1
			ok=0
			if mount --bind "$d" "$d" && mount --make-private "$d" && touch "$d/ns"; then
				for c in $1; do
					taskset -c "$c" unshare --mount="$d/ns" true 2>/dev/null && umount "$d/ns" || ok=1
				done
				umount -l "$d"
			else
				ok=1
			fi
			rm -rf "$d"
			exit $ok' _ "$cpus"; then
			echo "$c"
			return
		fi
	done
	echo "${cpus%%[!0-9]*}"
}

make_private_cgroups() {
	local dir parent
	cgroup_mounts >"$WORK/cgroup-mounts"
	[ -s "$WORK/cgroup-mounts" ] || die "no cgroup hierarchies under /sys/fs/cgroup"
	own_cgroup_dirs "$CG_NAME" >"$WORK/cgroup-dirs"
	while read -r dir; do
		parent=${dir%/*}
		mkdir "$dir"
		# A new v1 cpuset cgroup has no CPUs or memory nodes: nothing could join it.
		if [ -f "$dir/cpuset.cpus" ]; then
			cat "$parent/cpuset.cpus" >"$dir/cpuset.cpus"
			cat "$parent/cpuset.mems" >"$dir/cpuset.mems"
		fi
		# Nor any real-time budget, which update.bats hands down from the root it sees.
		if [ -f "$dir/cpu.rt_runtime_us" ]; then
			cat "$parent/cpu.rt_period_us" >"$dir/cpu.rt_period_us"
			cat "$parent/cpu.rt_runtime_us" >"$dir/cpu.rt_runtime_us" 2>/dev/null ||
				log "cannot give $dir the real-time runtime of its parent (another run holds it?)"
		fi
	done <"$WORK/cgroup-dirs"
}

# remove_private_cgroups thaws and kills whatever is still in the private cgroups (only
# processes this run started can be there), then removes them, deepest first. Killed
# processes can take seconds to leave their cgroups on a loaded machine: it retries for a
# minute.
remove_private_cgroups() {
	[ -s "${WORK:-}/cgroup-dirs" ] || return 0
	local dir d pid left deadline=$((SECONDS + 60))
	while :; do
		left=0
		while read -r dir; do
			[ -d "$dir" ] || continue
			find "$dir" -name freezer.state -exec sh -c 'echo THAWED >"$1"' _ {} \; 2>/dev/null || true
			find "$dir" -name cgroup.freeze -exec sh -c 'echo 0 >"$1"' _ {} \; 2>/dev/null || true
			while read -r pid; do
				kill -KILL "$pid" 2>/dev/null || true
			done < <(find "$dir" -name cgroup.procs -exec cat {} + 2>/dev/null)
			while read -r d; do
				rmdir "$d" 2>/dev/null || left=1
			done < <(find "$dir" -depth -type d)
		done <"$WORK/cgroup-dirs"
		[ $left = 0 ] && return 0
		[ $SECONDS -lt $deadline ] || break
		sleep 0.5
	done
	while read -r dir; do
		[ -d "$dir" ] && log "cannot remove cgroup $dir: $(find "$dir" -type d | wc -l) left"
	done <"$WORK/cgroup-dirs"
	return 1
}

# ---------------------------------------------------------------- results

# collect turns the TAP files into results.tsv (FILE, STATUS, MS, TEST, DETAIL; STATUS is
# pass, fail, timeout or skip) and copies the TAP files to $RESULTS.
collect() {
	local f rc secs it=$WORK/tests/integration
	mkdir -p "$RESULTS"
	rm -f "$RESULTS"/*.tap "$RESULTS/results.tsv" "$RESULTS/files.tsv"
	: >"$WORK/results.tsv"
	while read -r f rc secs; do
		[ -f "$WORK/tap/$f.tap.timeouts" ] || : >"$WORK/tap/$f.tap.timeouts"
		awk -f "$HERE/tap.awk" -v file="$f" -v rc="$rc" "$it/$f" \
			"$WORK/tap/$f.tap" "$WORK/tap/$f.tap.timeouts" >>"$WORK/results.tsv"
		cp "$WORK/tap/$f.tap" "$RESULTS/"
	done <"$WORK/tap/files.tsv"
	cp "$WORK/results.tsv" "$WORK/tap/files.tsv" "$RESULTS/"
}

report() {
	local f rc secs
	echo "# runc $RUNC_VERSION integration suite, RUNTIME=$RUNTIME_DESC"
	printf '# %-34s %6s %6s %6s %6s\n' file passed failed skipped secs
	while read -r f rc secs; do
		awk -F '\t' -v file="$f" -v secs="$secs" '$1 == file { n[$2]++ }
			END { printf "  %-34s %6d %6d %6d %6d\n", file, n["pass"], n["fail"] + n["timeout"], n["skip"], secs }' \
			"$WORK/results.tsv"
	done <"$WORK/tap/files.tsv"
	awk -F '\t' '$2 == "fail" || $2 == "timeout" { printf "FAIL %s: %s%s\n", $1, $4, ($2 == "timeout" ? " (timeout)" : "") }' \
		"$WORK/results.tsv"
	[ -s "$WORK/leftovers" ] && sed 's/^/harness: /' "$WORK/leftovers"
	echo "# TAP output: $RESULTS"
	echo "# wall time $((SECONDS - START))s"
	awk -F '\t' '{ n[$2]++ } $2 == "skip" && $5 ~ /^skip.txt: / { listed++ }
		END { printf "%d passed, %d failed, %d skipped (%d by skip.txt)\n", n["pass"], n["fail"] + n["timeout"], n["skip"], listed }' \
		"$WORK/results.tsv"
}

# ---------------------------------------------------------------- main

cleanup() {
	local rc=$?
	remove_private_cgroups || rc=2
	[ -n "${WORK:-}" ] && [ -d "$WORK" ] && rm -rf "$WORK"
	exit $rc
}

main() {
	START=$SECONDS
	[ "$(id -u)" = 0 ] || die "run as root"
	local t
	for t in bats gawk go jq gcc unshare timeout flock debootstrap ip losetup; do
		command -v "$t" >/dev/null || die "missing $t (run make deps)"
	done
	export PATH=$PATH:/usr/local/go/bin
	SUITE=$CACHE/runc-bats/runc-$RUNC_VERSION-$(go env GOVERSION)-r$SUITE_RECIPE
	with_lock "$SUITE.lock" build_suite
	build_images

	case ${RUNTIME:-} in
	"") die "set RUNTIME to the runtime binary (absolute path), or to \"upstream\" for runc $RUNC_VERSION" ;;
	upstream) RUNC=$(upstream_runc) || die "building upstream runc $RUNC_VERSION failed" ;;
	/*) RUNC=$RUNTIME ;;
	*) die "RUNTIME must be an absolute path or \"upstream\": $RUNTIME" ;;
	esac
	[ -x "$RUNC" ] || die "not executable: $RUNC"
	RUNTIME_DESC="$RUNC ($("$RUNC" --version 2>/dev/null | sed -n 1p))"
	local name=upstream-runc
	[ "$RUNTIME" = upstream ] || name=$(basename "$RUNC")
	RESULTS=${RUNC_BATS_RESULTS:-$REPO/_build/runc-bats/results/$name}

	# World-searchable: tests in user namespaces reach the bundle as other uids.
	WORK=$(mktemp -d /tmp/rt-runc-bats.XXXXXX)
	chmod 0755 "$WORK"
	CG_NAME=rt-runc-bats-$$
	trap cleanup EXIT
	trap 'exit 130' INT TERM HUP PIPE
	# shellcheck disable=SC2086 # a list of file names
	[ $# -gt 0 ] || set -- ${RUNC_BATS_FILES:-}
	use_criu
	prepare_scratch "$@"
	make_private_cgroups

	log "running $(wc -l <"$WORK/files") files against $RUNTIME_DESC"
	# The shell joins the private cgroups, then becomes unshare: the new cgroup namespace is
	# rooted at the cgroups it is in.
	# In the background, so that a signal to this script is handled at once (cleanup kills
	# the namespace through its cgroups).
	local rc=0
	# shellcheck disable=SC2016 # expanded by that shell
	local ns_cpu all_cpus
	ns_cpu=$(lowest_mntns_cpu)
	all_cpus=$(taskset -pc $$ | sed 's/.*: //')
	env WORK="$WORK" RUNC="$RUNC" TEST_TIMEOUT="$TEST_TIMEOUT" FILE_TIMEOUT="$FILE_TIMEOUT" CRIU_DIR="$CRIU_DIR" \
		sh -c 'while read -r d; do echo $$ >"$d/cgroup.procs"; done <"$1/cgroup-dirs"
			exec taskset -c "$3" unshare --mount --cgroup --pid --net --ipc --uts --fork --propagation private --mount-proc \
				taskset -c "$4" "$2"' \
		_ "$WORK" "$HERE/inside.sh" "$ns_cpu" "$all_cpus" </dev/null &
	wait $! || rc=$?
	[ $rc = 0 ] || die "the namespace exited $rc"
	collect
	report | tee "$RESULTS/summary.txt"
	awk -F '\t' '$2 == "fail" || $2 == "timeout" { failed = 1 } END { exit failed }' "$WORK/results.tsv"
}

main "$@"
