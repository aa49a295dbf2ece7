#!/usr/bin/env bash
# demo.sh is `make demo`: builds a busybox bundle under _build/demo and runs a
# container that explains, from the inside, what rt just did.
set -euo pipefail
cd "$(dirname "$0")/../.."
bundle=$PWD/_build/demo
id=rt-demo-$$

read -r -d '' hello <<'SCRIPT' || true
cat <<EOF

Hello from rt!
This message shows that your installation appears to be working correctly.

To generate this message, rt:
 1. read the bundle's config.json and checked it before touching the system;
 2. re-executed itself as the container's init, in new namespaces, with a
    cgroup of its own nested under yours;
 3. bind-mounted the busybox rootfs, mounted /proc, /dev, /sys and friends,
    and pivot_root'ed into it;
 4. dropped capabilities, set rlimits and no_new_privs, and ran this shell.

What this container sees from the inside:
  hostname    $(hostname)
  my pid      $$ (pid 1 of a new pid namespace)
  user        $(id)
  cgroup      $(grep -E ':memory:' /proc/self/cgroup)
  namespaces
$(for n in cgroup ipc mnt net pid uts; do printf '    %-7s %s\n' $n "$(readlink /proc/self/ns/$n)"; done)
  network     $(ls /sys/class/net | tr '\n' ' ')(loopback only)

Try it yourself:
  ./rt spec --bundle DIR     write a default config.json
  ./rt run --bundle DIR ID   run a container
  ./rt --help
EOF
SCRIPT

BUNDLE_HOSTNAME=rt-demo tests/scripts/mkbundle.sh "$bundle" >/dev/null
jq --arg s "$hello" '.process.args = ["sh", "-c", $s]' "$bundle/config.json" >"$bundle/config.json.new"
mv "$bundle/config.json.new" "$bundle/config.json"
exec ./rt run --bundle "$bundle" "$id"
