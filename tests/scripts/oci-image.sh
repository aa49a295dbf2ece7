#!/usr/bin/env bash
# oci-image.sh writes an OCI image archive (an image layout in a tar) of the busybox rootfs,
# to be loaded with `ctr images import` or `podman load`:
#
#   oci-layout, index.json, blobs/sha256/{layer tar, config, manifest}
#
# Usage: tests/scripts/oci-image.sh OUT.tar IMAGE_NAME [CMD ...]
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

die() { echo "oci-image: $*" >&2; exit 1; }

# put_blob FILE MEDIATYPE stores FILE under blobs/sha256 and prints its descriptor.
put_blob() {
	local file=$1 media=$2 digest size
	digest=$(sha256sum "$file" | cut -d' ' -f1)
	size=$(stat -c %s "$file")
	mv "$file" "$LAYOUT/blobs/sha256/$digest"
	jq -n -c --arg m "$media" --arg d "sha256:$digest" --argjson s "$size" \
		'{mediaType: $m, digest: $d, size: $s}'
}

main() {
	[ $# -ge 2 ] || die "usage: oci-image.sh OUT.tar IMAGE_NAME [CMD ...]"
	local out=$1 name=$2 layer config manifest diff_id cmd
	shift 2
	[ $# -gt 0 ] || set -- sh
	cmd=$(printf '%s\n' "$@" | jq -R . | jq -s -c .)
	tmp=$(mktemp -d) # global: the EXIT trap needs it
	trap 'rm -rf "$tmp"' EXIT
	LAYOUT=$tmp/layout
	mkdir -p "$LAYOUT/blobs/sha256"

	BUNDLE_CGROUPS_PATH="" "$HERE/mkbundle.sh" "$tmp/bundle" >/dev/null
	# Reproducible layer: fixed owners and times, sorted names.
	tar -C "$tmp/bundle/rootfs" --sort=name --numeric-owner --owner=0 --group=0 \
		--mtime=@0 -cf "$tmp/layer.tar" .
	diff_id=sha256:$(sha256sum "$tmp/layer.tar" | cut -d' ' -f1)
	layer=$(put_blob "$tmp/layer.tar" application/vnd.oci.image.layer.v1.tar)

	jq -n -c --arg diff "$diff_id" --argjson cmd "$cmd" '{
		architecture: "amd64", os: "linux", created: "1970-01-01T00:00:00Z",
		config: {Env: ["PATH=/bin:/sbin:/usr/bin:/usr/sbin"], Cmd: $cmd, WorkingDir: "/"},
		rootfs: {type: "layers", diff_ids: [$diff]},
		history: [{created: "1970-01-01T00:00:00Z", created_by: "tests/scripts/oci-image.sh"}]
	}' >"$tmp/config.json"
	config=$(put_blob "$tmp/config.json" application/vnd.oci.image.config.v1+json)

	jq -n -c --argjson c "$config" --argjson l "$layer" '{
		schemaVersion: 2, mediaType: "application/vnd.oci.image.manifest.v1+json",
		config: $c, layers: [$l]
	}' >"$tmp/manifest.json"
	manifest=$(put_blob "$tmp/manifest.json" application/vnd.oci.image.manifest.v1+json)

	# containerd names the image after io.containerd.image.name, podman after the ref name.
	jq -n -c --argjson m "$manifest" --arg name "$name" '{
		schemaVersion: 2,
		manifests: [$m + {
			platform: {architecture: "amd64", os: "linux"},
			annotations: {"io.containerd.image.name": $name,
				"org.opencontainers.image.ref.name": ($name | sub(".*:"; ""))}
		}]
	}' >"$LAYOUT/index.json"
	echo '{"imageLayoutVersion":"1.0.0"}' >"$LAYOUT/oci-layout"
	tar -C "$LAYOUT" --sort=name --numeric-owner --owner=0 --group=0 -cf "$out" .
}

main "$@"
