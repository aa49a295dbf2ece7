#!/usr/bin/env bash
# cri.sh runs Kubernetes' CRI validation suite (critest from sigs.k8s.io/cri-tools) against
# containerd's CRI plugin driving $RUNTIME through the runc v2 shim (BinaryName), as a
# kubelet would: Debian's containerd 1.6, or with CONTAINERD_VERSION=2.x.y containerd 2
# (whose CRI plugin runs user-namespaced pods and recursive read-only mounts, which 1.6
# cannot), built with its runc v2 shim from the Go module proxy once and cached under
# /var/cache/rt-tests/containerd-<version>.
#
# Usage: RUNTIME=/abs/path/to/runtime tests/clients/cri.sh
#        RUNTIME=… CONTAINERD_VERSION=2.4.2 CRITEST_FOCUS='UserNamespaces' tests/clients/cri.sh
# CRITEST_FOCUS (a regular expression) runs only the specs it matches; with CRITEST_NO_SKIP=1
# a focused spec critest skips (it found the runtime lacking a feature) fails.
#
# containerd runs in private mount, cgroup and network namespaces: cgroupfs is mounted again
# there, rooted at a cgroup of this script's own (so the absolute cgroup parents critest
# asks for nest under it), pods get a CNI bridge (Debian's containernetworking-plugins)
# inside, and its mounts vanish with it. critest runs in the same namespaces. It pulls its
# images from registries: containerd's mirrors for them point at tests/clients/cri/registry,
# which serves local stand-ins (tests/clients/cri/images.sh) under the references critest
# asks for. critest and crictl are built once from the Go module proxy and cached under
# /var/cache/rt-tests/cri-tools. Specs in tests/clients/cri/skip.txt are not run, each for
# the reason written there.
# Every runtime invocation goes through an argv-logging wrapper; with RECORD=FILE, the distinct
# command shapes and every invocation land in FILE.
# Prints one line per spec, then "N passed, M failed, K skipped"; exits non-zero on any failure.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$HERE/../.." && pwd)
# shellcheck source=../scripts/lib.sh
. "$REPO/tests/scripts/lib.sh"

CRI_TOOLS_VERSION=v1.37.0
CRI_TOOLS=${RT_TEST_CACHE:-/var/cache/rt-tests}/cri-tools/$CRI_TOOLS_VERSION
CONTAINERD_VERSION=${CONTAINERD_VERSION:-} # empty: Debian's containerd in PATH
CONTAINERD_DIR=${RT_TEST_CACHE:-/var/cache/rt-tests}/containerd-$CONTAINERD_VERSION
CG_NAME=rt-cri-$$
SKIP_LIST=$HERE/cri/skip.txt
RECORD=${RECORD:-} # a file for the runtime invocations (over a thousand, in critest's random order)
CONTAINERD_PID=
REGISTRY_PID=

die() { say "cri.sh: $*"; exit 2; }

# build_cri_tools builds critest (a test binary of the module) and crictl from the module
# proxy, once per version.
build_cri_tools() {
	[ -x "$CRI_TOOLS/critest" ] && [ -x "$CRI_TOOLS/crictl" ] && return
	say "cri.sh: building critest and crictl $CRI_TOOLS_VERSION (a few minutes, once)"
	local dir
	mkdir -p "$CRI_TOOLS"
	GOFLAGS=-mod=mod go mod download sigs.k8s.io/cri-tools@"$CRI_TOOLS_VERSION"
	dir=$(GOFLAGS=-mod=mod go mod download -json sigs.k8s.io/cri-tools@"$CRI_TOOLS_VERSION" | jq -r .Dir)
	(cd "$dir" && GOFLAGS=-mod=mod go test -c -o "$CRI_TOOLS/critest.tmp" ./cmd/critest &&
		GOFLAGS=-mod=mod go build -o "$CRI_TOOLS/crictl.tmp" ./cmd/crictl)
	mv "$CRI_TOOLS/critest.tmp" "$CRI_TOOLS/critest"
	mv "$CRI_TOOLS/crictl.tmp" "$CRI_TOOLS/crictl"
}

# build_containerd builds containerd $CONTAINERD_VERSION and its runc v2 shim from the Go
# module proxy, once per version, into $CONTAINERD_DIR, and puts them first in PATH.
build_containerd() {
	if [ ! -x "$CONTAINERD_DIR/containerd" ] || [ ! -x "$CONTAINERD_DIR/containerd-shim-runc-v2" ]; then
		say "cri.sh: building containerd $CONTAINERD_VERSION (several minutes, once)"
		local dir tmp
		dir=$(GOFLAGS=-mod=mod go mod download -json github.com/containerd/containerd/v2@v"$CONTAINERD_VERSION" | jq -r .Dir)
		tmp=$(mktemp -d "$CONTAINERD_DIR.XXXXXX")
		# Static, without the cgo snapshotters (btrfs, devmapper, zfs): overlayfs is used.
		(cd "$dir" && CGO_ENABLED=0 GOTOOLCHAIN=local GOFLAGS="-mod=mod -buildvcs=false" go build -trimpath \
			-tags "no_btrfs no_devmapper no_zfs urfave_cli_no_docs" \
			-ldflags "-X github.com/containerd/containerd/v2/version.Version=v$CONTAINERD_VERSION" \
			-o "$tmp/" ./cmd/containerd ./cmd/containerd-shim-runc-v2) || { rm -rf "$tmp"; die "containerd build failed"; }
		rm -rf "$CONTAINERD_DIR"
		mv "$tmp" "$CONTAINERD_DIR"
		chmod 0755 "$CONTAINERD_DIR"
	fi
	PATH=$CONTAINERD_DIR:$PATH
}

# write_config writes containerd's config: version 2 for containerd 1.6, version 3 for 2.x.
write_config() {
	if [ -n "$CONTAINERD_VERSION" ]; then
		write_config_v3
	else
		write_config_v2
	fi
	write_cni_config
}

# config_head VERSION PLUGIN... prints what both config versions start with: where
# containerd keeps its data and sockets, and the plugins it leaves out (tracing and PLUGINs).
config_head() {
	local version=$1 p
	shift
	printf 'version = %s\nroot = "%s"\nstate = "%s"\ndisabled_plugins = [\n' "$version" "$WORK/root" "$WORK/state"
	for p in io.containerd.internal.v1.tracing io.containerd.tracing.processor.v1.otlp "$@"; do
		printf '  "%s",\n' "$p"
	done
	cat <<-EOF
		]
		[grpc]
		  address = "$WORK/containerd.sock"
		[ttrpc]
		  address = "$WORK/containerd.sock.ttrpc"
		[debug]
		  level = "info"
	EOF
}

write_config_v3() {
	local host
	config_head 3 io.containerd.nri.v1.nri >"$WORK/config.toml"
	cat >>"$WORK/config.toml" <<-EOF
		[plugins."io.containerd.internal.v1.opt"]
		  path = "$WORK/opt"
		[plugins."io.containerd.grpc.v1.cri"]
		  stream_server_address = "127.0.0.1"
		  stream_server_port = "0"
		[plugins."io.containerd.cri.v1.images"]
		  snapshotter = "overlayfs"
		  [plugins."io.containerd.cri.v1.images".pinned_images]
		    sandbox = "registry.k8s.io/pause:3.9"
		  [plugins."io.containerd.cri.v1.images".registry]
		    config_path = "$WORK/registries"
		[plugins."io.containerd.cri.v1.runtime"]
		  enable_selinux = false
		  # Pods ask for oom_score_adj -998, which needs CAP_SYS_RESOURCE (not here).
		  restrict_oom_score_adj = true
		  [plugins."io.containerd.cri.v1.runtime".containerd]
		    default_runtime_name = "test"
		    [plugins."io.containerd.cri.v1.runtime".containerd.runtimes.test]
		      runtime_type = "io.containerd.runc.v2"
		      [plugins."io.containerd.cri.v1.runtime".containerd.runtimes.test.options]
		        BinaryName = "$WRAPPER"
		        Root = "$WORK/runc"
		        SystemdCgroup = false
		  [plugins."io.containerd.cri.v1.runtime".cni]
		    bin_dirs = ["/usr/lib/cni"]
		    conf_dir = "$WORK/cni"
		    max_conf_num = 1
	EOF
	for host in registry.k8s.io k8s.gcr.io gcr.io docker.io; do
		mkdir -p "$WORK/registries/$host"
		printf 'server = "https://%s"\n[host."http://127.0.0.1:5000"]\n  capabilities = ["pull", "resolve"]\n' \
			"$host" >"$WORK/registries/$host/hosts.toml"
	done
}

write_config_v2() {
	local r=io.containerd.grpc.v1.cri host
	config_head 2 io.containerd.snapshotter.v1.{aufs,btrfs,devmapper,zfs} >"$WORK/config.toml"
	cat >>"$WORK/config.toml" <<-EOF
		[plugins."io.containerd.monitor.v1.cgroups"]
		  no_prometheus = true
		[plugins."$r"]
		  sandbox_image = "registry.k8s.io/pause:3.9"
		  stream_server_address = "127.0.0.1"
		  stream_server_port = "0"
		  enable_selinux = false
		  # Pods ask for oom_score_adj -998, which needs CAP_SYS_RESOURCE (not here): keep it
		  # at containerd's own, as on hosts where the kubelet runs without it.
		  restrict_oom_score_adj = true
		[plugins."$r".containerd]
		  default_runtime_name = "test"
		  snapshotter = "overlayfs"
		[plugins."$r".containerd.runtimes.test]
		  runtime_type = "io.containerd.runc.v2"
		[plugins."$r".containerd.runtimes.test.options]
		  BinaryName = "$WRAPPER"
		  Root = "$WORK/runc"
		  SystemdCgroup = false
		[plugins."$r".cni]
		  bin_dir = "/usr/lib/cni"
		  conf_dir = "$WORK/cni"
		  max_conf_num = 1
	EOF
	for host in registry.k8s.io k8s.gcr.io gcr.io docker.io; do
		printf '[plugins."%s".registry.mirrors."%s"]\n  endpoint = ["http://127.0.0.1:5000"]\n' "$r" "$host" >>"$WORK/config.toml"
	done
}

write_cni_config() {
	mkdir -p "$WORK/cni"
	cat >"$WORK/cni/10-rt-cri.conflist" <<-EOF
		{
		  "cniVersion": "0.4.0",
		  "name": "rt-cri",
		  "plugins": [
		    {"type": "bridge", "bridge": "rtcri0", "isGateway": true, "ipMasq": true, "hairpinMode": true,
		     "ipam": {"type": "host-local", "ranges": [[{"subnet": "10.88.0.0/16"}]], "routes": [{"dst": "0.0.0.0/0"}],
		              "dataDir": "$WORK/cni-ipam"}},
		    {"type": "portmap", "capabilities": {"portMappings": true}}
		  ]
		}
	EOF
}

# start_containerd starts containerd in its namespaces; its pid is their handle. The
# helper first moves itself into a cgroup of its own below this script's (still nested), so
# that the new cgroup namespace, and the cgroupfs mounted in it, is rooted there.
start_containerd() {
	cat >"$WORK/enter-ns" <<-'EOF'
		#!/usr/bin/env bash
		set -euo pipefail
		. "$LIB"
		if [ "$1" = outer ]; then
			shift
			while read -r d; do
				mkdir -p "$d"
				# A new v1 cpuset has no cpus or mems: nothing could join it.
				for f in cpuset.cpus cpuset.mems; do
					[ ! -f "$d/$f" ] || [ -n "$(cat "$d/$f")" ] || cat "$d/../$f" >"$d/$f"
				done
				echo $$ >"$d/cgroup.procs"
			done < <(own_cgroup_dirs "$CG_NAME")
			exec unshare --net --mount --cgroup --propagation private -- "$0" inner "$@"
		fi
		shift
		# The host's layout: v1 controllers, name=systemd and cgroup2 at unified. The
		# shim's cgroup library needs a mount for every line of /proc/PID/cgroup.
		mount_private_cgroupfs unified
		mkdir /sys/fs/cgroup/systemd
		mount -t cgroup -o none,name=systemd cgroup /sys/fs/cgroup/systemd
		ip link set lo up
		# containerd puts shim sockets under /run/containerd and pod network namespaces
		# under /run/netns, and libcni its cache under /var/lib/cni, whatever the config
		# says: each gets a tmpfs of this namespace.
		for d in /run/containerd /run/netns /var/lib/cni; do
			mount -t tmpfs -o mode=0755 rt-cri "$d"
		done
		exec "$@"
	EOF
	chmod 0755 "$WORK/enter-ns"
	track_new_dir /run/containerd /run/netns /var/lib/cni
	mkdir -p /run/containerd /run/netns /var/lib/cni
	LIB=$REPO/tests/scripts/lib.sh CG_NAME=$CG_NAME TMPDIR=$WORK/tmp \
		"$WORK/enter-ns" outer containerd --config "$WORK/config.toml" >"$WORK/containerd.log" 2>&1 &
	CONTAINERD_PID=$!
	local i
	for i in $(seq 300); do
		crictl version >/dev/null 2>&1 && return
		kill -0 "$CONTAINERD_PID" 2>/dev/null || break
		sleep 0.1
	done
	tail -20 "$WORK/containerd.log" >&2
	die "containerd did not come up"
}

in_ns() { nsenter -t "$CONTAINERD_PID" -n -m -C -- "$@"; }

crictl() { timeout -k 5 60 "$CRI_TOOLS/crictl" --runtime-endpoint "unix://$WORK/containerd.sock" --image-endpoint "unix://$WORK/containerd.sock" "$@"; }

start_registry() {
	(cd "$REPO" && go build -mod=vendor -trimpath -o "$WORK/registry" ./tests/clients/cri/registry)
	"$HERE/cri/images.sh" "$WORK/layout"
	nsenter -t "$CONTAINERD_PID" -n -- "$WORK/registry" -listen 127.0.0.1:5000 -layout "$WORK/layout" \
		>"$WORK/registry.log" 2>&1 &
	REGISTRY_PID=$!
	wait_until 10 in_ns curl -sf http://127.0.0.1:5000/v2/ || { cat "$WORK/registry.log" >&2; die "the registry did not come up"; }
}

# skip_regex joins the skip list's expressions for --ginkgo.skip.
skip_regex() { grep -v -e '^#' -e '^[[:space:]]*$' "$SKIP_LIST" | sed 's/ | .*//' | paste -sd'|'; }

# skip_reason NAME: the reason of the first skip list entry that matches NAME.
skip_reason() {
	local line
	while IFS= read -r line; do
		case $line in '#'* | '') continue ;; esac
		if printf '%s' "$1" | grep -Eq -- "${line%% | *}"; then
			echo "${line#* | }"
			return
		fi
	done <"$SKIP_LIST"
	echo "not run by critest"
}

run_critest() {
	local rc=0
	scenario "critest-$CRI_TOOLS_VERSION-containerd-$(containerd --version | awk '{print $3}')"
	# critest looks for crictl.yaml next to itself and in the working directory.
	(cd "$WORK" && in_ns timeout -k 10 "${CRITEST_TIMEOUT:-1500}" "$CRI_TOOLS/critest" \
		--runtime-endpoint "unix://$WORK/containerd.sock" --image-endpoint "unix://$WORK/containerd.sock" \
		--ginkgo.no-color --ginkgo.skip "$(skip_regex)" \
		--ginkgo.json-report "$WORK/report.json" ${CRITEST_FOCUS:+--ginkgo.focus "$CRITEST_FOCUS"} \
		>"$WORK/critest.log" 2>&1) || rc=$?
	[ -s "$WORK/report.json" ] || { tail -40 "$WORK/critest.log"; fail "critest ran" "exit $rc, no report"; return; }
	# One line per spec; the failure's message for those that failed.
	jq -r '.[].SpecReports[] | select(.LeafNodeType == "It") |
		[.State, ([.ContainerHierarchyTexts[], .LeafNodeText] | join(" ")),
		 ((.Failure.Message // "") | gsub("\n"; " ") | gsub("  +"; " ") | .[-400:])] | @tsv' "$WORK/report.json" |
		sort -t$'\t' -k2 >"$WORK/results.tsv"
	local state name msg
	while IFS=$'\t' read -r state name msg; do
		# With a focus, ginkgo reports every other spec as skipped: not ours to list.
		if [ -n "${CRITEST_FOCUS:-}" ] && ! printf '%s' "$name" | grep -Eq -- "$CRITEST_FOCUS"; then
			continue
		fi
		case $state in
		passed) pass "$name" ;;
		skipped) if [ -n "${CRITEST_NO_SKIP:-}" ]; then fail "$name" "skipped: ${msg:-$(skip_reason "$name")}"; continue; fi
			# critest's own Skip() says why (no AppArmor here, …); the others are the skip list's.
			skip "$name" "${msg:+critest: }${msg:-$(skip_reason "$name")}" ;;
		pending) ;;
		*) fail "$name" "$state: $msg" ;;
		esac
	done <"$WORK/results.tsv"
	grep -E '^(Ran|FAIL!|SUCCESS!)' "$WORK/critest.log" | sed 's/^/critest: /' || true
}

scenario_leftovers() {
	scenario z-leftovers
	local left netns dir
	expect_eq "crictl lists no pods" "$(crictl pods -q 2>/dev/null | tr '\n' ' ')" ""
	expect_eq "crictl lists no containers" "$(crictl ps -aq 2>/dev/null | tr '\n' ' ')" ""
	netns=$(readlink "/proc/$CONTAINERD_PID/ns/net")
	stop_pid "$REGISTRY_PID"
	REGISTRY_PID=
	stop_pid "$CONTAINERD_PID"
	CONTAINERD_PID=
	left=$(processes_in_ns net "$netns" | tr '\n' ' ')
	expect_eq "no process left in containerd's namespaces" "$left" ""
	left=$("$RUNTIME" --root "$WORK/runc/k8s.io" list -q 2>/dev/null | tr '\n' ' ')
	expect_eq "runtime lists no containers" "$left" ""
	# Pods' cgroups are <parent>/<id>: two levels below the namespace's root.
	left=$(while read -r dir; do [ -d "$dir" ] && find "$dir" -mindepth 2 -type d; done < <(own_cgroup_dirs "$CG_NAME") | head -3)
	expect_eq "no container cgroups left" "$left" ""
}

cleanup() {
	local rc=$? id f
	set +e
	[ -n "$REGISTRY_PID" ] && stop_pid "$REGISTRY_PID"
	if [ -n "$CONTAINERD_PID" ] && kill -0 "$CONTAINERD_PID" 2>/dev/null; then
		for id in $(crictl pods -q 2>/dev/null); do
			crictl stopp "$id" >/dev/null 2>&1
			crictl rmp -f "$id" >/dev/null 2>&1
		done
		stop_pid "$CONTAINERD_PID"
	fi
	for f in "$WORK"/state/io.containerd.runtime.v2.task/*/*/shim.pid; do
		[ -f "$f" ] && stop_pid "$(cat "$f")"
	done
	for id in $("$RUNTIME" --root "$WORK/runc/k8s.io" list -q 2>/dev/null); do
		"$RUNTIME" --root "$WORK/runc/k8s.io" delete --force "$id" >/dev/null 2>&1
	done
	remove_cgroup_trees "$CG_NAME"
	remove_new_dirs
	# KEEP_LOGS=DIR keeps containerd's and critest's logs and report.
	if [ -n "${KEEP_LOGS:-}" ]; then
		mkdir -p "$KEEP_LOGS"
		cp "$WORK"/*.log "$WORK"/report.json "$KEEP_LOGS"/ 2>/dev/null
	fi
	rm -rf "$WORK"
	exit $rc
}

main() {
	require_runtime
	[ -z "$CONTAINERD_VERSION" ] || build_containerd
	require_tools containerd containerd-shim-runc-v2 go jq curl unshare nsenter ip iptables
	[ -x /usr/lib/cni/bridge ] && [ -x /usr/lib/cni/portmap ] || die "missing the CNI plugins (run make deps)"
	build_cri_tools

	WORK=$(mktemp -d /tmp/rt-cri.XXXXXX)
	trap cleanup EXIT
	trap 'exit 130' INT TERM
	chmod 0755 "$WORK"
	mkdir -p "$WORK/tmp" "$WORK/runc"
	WRAPPER=$WORK/runtime
	INVOCATION_LOG=$WORK/invocations.log
	: >"$INVOCATION_LOG"
	write_argv_logger "$WRAPPER" "$RUNTIME" "$INVOCATION_LOG"

	write_config
	start_containerd
	start_registry
	run_critest
	scenario_leftovers

	[ -z "$RECORD" ] || record_invocations "$INVOCATION_LOG" "$RECORD" "$WORK" \
		"Runtime invocations made by containerd $(containerd --version | awk '{print $3}')'s CRI plugin (runc v2 shim)" \
		"while critest $CRI_TOOLS_VERSION ran, recorded by an argv-logging wrapper given as BinaryName." \
		"Generated by tests/clients/cri.sh against: $("$RUNTIME" --version 2>/dev/null | head -1)"
	print_tally
}

main "$@"
