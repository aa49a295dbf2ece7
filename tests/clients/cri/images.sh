#!/usr/bin/env bash
# images.sh writes an OCI image layout with local stand-ins for every image critest pulls,
# each under the reference critest asks for (org.opencontainers.image.ref.name holds the
# full reference), for tests/clients/cri/registry to serve:
#
#   busybox-based (busybox-static with its applets as hard links, an /etc with the users and
#   groups critest's images have, ipcs and pgrep scripts):
#     registry.k8s.io/e2e-test-images/busybox:1.29-2        the default test image
#     registry.k8s.io/pause:3.9, k8s.gcr.io/pause:3.9        one image: pause/ (waits, reaps)
#     registry.k8s.io/e2e-test-images/httpd:2.4.39-4         busybox httpd on port 80
#     registry.k8s.io/e2e-test-images/nonewprivs:1.3         a set-user-ID root program that
#                                                            prints its effective uid (nnp/)
#     gcr.io/k8s-staging-cri-tools/test-image-{1,2,3,latest}, test-image-tag:{test,all}
#                                                            one distinct file each
#     gcr.io/k8s-staging-cri-tools/test-image-tags:{1,2,3}   one image under three tags
#     gcr.io/k8s-staging-cri-tools/test-image-user-*, test-image-predefined-group
#                                                            USER as in cri-tools' images/build
#   nginx-based (tests/scripts/nginx-rootfs.sh, busybox's grep first in PATH):
#     registry.k8s.io/e2e-test-images/nginx:1.14-2           nginx on port 80
#     gcr.io/k8s-staging-cri-tools/hostnet-nginx-amd64       nginx also on port 12003
#
# Not made: test-image-digest (critest pulls it by its registry digest; the skip list says so).
#
# Usage: tests/clients/cri/images.sh LAYOUT_DIR   (as root: layers keep owners and modes)
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$HERE/../../.." && pwd)
K8S=registry.k8s.io/e2e-test-images
CRI=gcr.io/k8s-staging-cri-tools

die() { echo "cri/images: $*" >&2; exit 1; }

# blob FILE MEDIATYPE [keep]: stores FILE under blobs/sha256 (moved, or linked/copied with
# keep) and prints its descriptor.
blob() {
	local file=$1 media=$2 digest size dst
	digest=$(sha256sum "$file" | cut -d' ' -f1)
	size=$(stat -c %s "$file")
	dst=$LAYOUT/blobs/sha256/$digest
	if [ "${3:-}" = keep ]; then
		[ -e "$dst" ] || ln "$file" "$dst" 2>/dev/null || cp "$file" "$dst"
	else
		mv "$file" "$dst"
	fi
	jq -n -c --arg m "$media" --arg d "sha256:$digest" --argjson s "$size" \
		'{mediaType: $m, digest: $d, size: $s}'
}

# layer DIR: a reproducible uncompressed layer of DIR's contents; prints its descriptor.
layer() {
	local tarball
	tarball=$(mktemp "$TMP/layer.XXXXXX")
	tar -C "$1" --sort=name --numeric-owner --owner=0 --group=0 --mtime=@0 -cf "$tarball" .
	blob "$tarball" application/vnd.oci.image.layer.v1.tar
}

# image CONFIG_JSON LAYER_DESCRIPTORS REF...: writes the config and manifest and adds one
# index entry per REF. CONFIG_JSON is the image's "config" object (Env is added).
image() {
	local cfg=$1 layers=$2 config manifest ref tmp
	shift 2
	tmp=$(mktemp "$TMP/json.XXXXXX")
	jq -n -c --argjson cfg "$cfg" --argjson layers "$layers" '{
		architecture: "amd64", os: "linux", created: "1970-01-01T00:00:00Z",
		config: ({Env: ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"], WorkingDir: "/"} + $cfg),
		rootfs: {type: "layers", diff_ids: [$layers[].digest]},
		history: [{created: "1970-01-01T00:00:00Z", created_by: "tests/clients/cri/images.sh"}]
	}' >"$tmp"
	config=$(blob "$tmp" application/vnd.oci.image.config.v1+json)
	jq -n -c --argjson c "$config" --argjson l "$layers" '{
		schemaVersion: 2, mediaType: "application/vnd.oci.image.manifest.v1+json", config: $c, layers: $l
	}' >"$tmp"
	manifest=$(blob "$tmp" application/vnd.oci.image.manifest.v1+json)
	for ref in "$@"; do
		jq -c --arg ref "$ref" '. + {platform: {architecture: "amd64", os: "linux"},
			annotations: {"org.opencontainers.image.ref.name": $ref}}' <<<"$manifest" >>"$TMP/index.lines"
	done
}

# file_layer PATH [MODE] < CONTENT: a layer holding one file.
file_layer() {
	local dir
	dir=$(mktemp -d "$TMP/dir.XXXXXX")
	mkdir -p "$dir/$(dirname "$1")"
	cat >"$dir/$1"
	chmod "${2:-0644}" "$dir/$1"
	layer "$dir"
}

main() {
	[ $# -eq 1 ] || die "usage: images.sh LAYOUT_DIR"
	LAYOUT=$1
	TMP=$(mktemp -d)
	trap 'rm -rf "$TMP"' EXIT
	mkdir -p "$LAYOUT/blobs/sha256"
	: >"$TMP/index.lines"

	BUNDLE_CGROUPS_PATH="" "$REPO/tests/scripts/mkbundle.sh" "$TMP/bundle" >/dev/null
	local busybox etc tools base pause www nnp hostnet nginx nginx_grep name
	# Applets as hard links, as in the busybox image: a masked /bin/ls must not mask busybox.
	find "$TMP/bundle/rootfs/bin" -type l -lname /bin/busybox -exec ln -f "$TMP/bundle/rootfs/bin/busybox" {} \;
	busybox=$(layer "$TMP/bundle/rootfs")
	mkdir -p "$TMP/etc/etc"
	cat >"$TMP/etc/etc/passwd" <<-'EOF'
		root:x:0:0:root:/root:/bin/sh
		www-data:x:33:33:www-data:/var/www:/bin/false
		default-user:x:1000:1000:Linux User,,,:/home/default-user:/bin/sh
		nobody:x:65534:65534:nobody:/nonexistent:/bin/false
	EOF
	cat >"$TMP/etc/etc/group" <<-'EOF'
		root:x:0:
		tty:x:5:
		www-data:x:33:
		users:x:100:
		default-user:x:1000:
		group-defined-in-image:x:50000:default-user
		nogroup:x:65534:
	EOF
	etc=$(layer "$TMP/etc")
	# What Debian's busybox lacks and critest runs: ipcs -m and pgrep, as small scripts.
	mkdir -p "$TMP/tools/usr/bin"
	cat >"$TMP/tools/usr/bin/ipcs" <<-'EOF'
		#!/bin/sh
		# Stand-in for ipcs -m: the shared memory segments of this IPC namespace.
		echo "------ Shared Memory Segments --------"
		echo "key        shmid"
		awk 'NR > 1 { printf "0x%08x %s\n", $1, $2 }' /proc/sysvipc/shm
	EOF
	cat >"$TMP/tools/usr/bin/pgrep" <<-'EOF'
		#!/bin/sh
		# Stand-in for pgrep NAME: the pids of the processes called NAME.
		found=1
		for p in /proc/[0-9]*; do
			[ "$(cat "$p/comm" 2>/dev/null)" = "$1" ] && echo "${p#/proc/}" && found=0
		done
		exit $found
	EOF
	chmod 0755 "$TMP/tools/usr/bin/ipcs" "$TMP/tools/usr/bin/pgrep"
	tools=$(layer "$TMP/tools")
	base="$busybox,$etc,$tools"
	mkdir -p "$TMP/pause" "$TMP/nnp/usr/local/bin"
	(cd "$REPO" && CGO_ENABLED=0 go build -mod=vendor -trimpath -o "$TMP/pause/pause" ./tests/clients/cri/pause &&
		CGO_ENABLED=0 go build -mod=vendor -trimpath -o "$TMP/nnp/usr/local/bin/nnp" ./tests/clients/cri/nnp)
	pause=$(layer "$TMP/pause")
	www=$(file_layer www/index.html <<<'<html><body><h1>It works!</h1></body></html>')
	chmod 4755 "$TMP/nnp/usr/local/bin/nnp"
	nnp=$(layer "$TMP/nnp")
	hostnet=$(file_layer etc/nginx/conf.d/hostnet.conf <<-'EOF'
		server {
			listen 12003;
			root /var/www/html;
			index index.nginx-debian.html index.html;
		}
	EOF
	)
	nginx=$(blob "$("$REPO/tests/scripts/nginx-rootfs.sh")" application/vnd.oci.image.layer.v1.tar keep)
	# The nginx image critest was written for had a grep that prints "Binary file matches"
	# on stdout; bookworm's says so on stderr, which critest wants empty. busybox's grep
	# prints the line.
	mkdir -p "$TMP/grep/usr/local/bin"
	cp "$TMP/bundle/rootfs/bin/busybox" "$TMP/grep/usr/local/bin/busybox"
	ln "$TMP/grep/usr/local/bin/busybox" "$TMP/grep/usr/local/bin/grep"
	nginx_grep=$(layer "$TMP/grep")

	image '{"Cmd": ["sh"]}' "[$base]" "$K8S/busybox:1.29-2"
	image '{"Entrypoint": ["/pause"]}' "[$base,$pause]" registry.k8s.io/pause:3.9 k8s.gcr.io/pause:3.9
	image '{"Cmd": ["sh", "-c", "echo httpd: serving /www on port 80; exec httpd -f -p 80 -h /www"], "ExposedPorts": {"80/tcp": {}}}' \
		"[$base,$www]" "$K8S/httpd:2.4.39-4"
	image '{"Entrypoint": ["/usr/local/bin/nnp"]}' "[$base,$nnp]" "$K8S/nonewprivs:1.3"
	for name in test-image-1 test-image-2 test-image-3 test-image-latest; do
		image '{"Cmd": ["sh"]}' "[$base,$(file_layer "$name" </dev/null)]" "$CRI/$name:latest"
	done
	image '{"Cmd": ["sh"]}' "[$base,$(file_layer same-image </dev/null)]" \
		"$CRI/test-image-tags:1" "$CRI/test-image-tags:2" "$CRI/test-image-tags:3"
	for name in test all; do
		image '{"Cmd": ["sh"]}' "[$base,$(file_layer "$name" </dev/null)]" "$CRI/test-image-tag:$name"
	done
	# USER as cri-tools' images/build gives it.
	for name in user-uid:1002 user-username:www-data user-uid-group:1003:1004 \
		user-username-group:www-data:1004 predefined-group:1000; do
		image "$(jq -n -c --arg u "${name#*:}" '{Cmd: ["sh"], User: $u}')" "[$base]" "$CRI/test-image-${name%%:*}:latest"
	done
	local nginx_cfg='{"Cmd": ["nginx", "-g", "daemon off;"], "ExposedPorts": {"80/tcp": {}}}'
	image "$nginx_cfg" "[$nginx,$nginx_grep]" "$K8S/nginx:1.14-2"
	image "$nginx_cfg" "[$nginx,$nginx_grep,$hostnet]" "$CRI/hostnet-nginx-amd64:latest"

	jq -s -c '{schemaVersion: 2, manifests: .}' "$TMP/index.lines" >"$LAYOUT/index.json"
	echo '{"imageLayoutVersion":"1.0.0"}' >"$LAYOUT/oci-layout"
}

main "$@"
