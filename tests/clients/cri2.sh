#!/usr/bin/env bash
# cri2.sh runs critest's user-namespace and recursive read-only mount specs (Kubernetes pods
# with hostUsers: false, and recursiveReadOnly volumes) through cri.sh against containerd 2:
# Debian's containerd 1.6 offers neither to a runtime. A focused spec critest skips (it
# found the runtime handler without the feature) fails.
#
# Usage: RUNTIME=/abs/path/to/runtime tests/clients/cri2.sh   (cri.sh's other variables apply)
export CONTAINERD_VERSION=${CONTAINERD_VERSION:-2.4.2}
export CRITEST_FOCUS=${CRITEST_FOCUS:-UserNamespaces|runtime should support readonly mounts}
export CRITEST_NO_SKIP=${CRITEST_NO_SKIP-1}
exec "$(dirname "${BASH_SOURCE[0]}")/cri.sh" "$@"
