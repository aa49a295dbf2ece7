package rootfs

import (
	"fmt"
	"strings"

	"github.com/opencontainers/runtime-spec/specs-go"
)

// formatIDMap renders mappings in the /proc/PID/uid_map format. Through an
// id-mapped mount, a file stored with id containerID appears as hostID: the
// same reading as a container's own user namespace, so a container whose
// namespace maps 0 to hostID sees its files at their stored ids.
func formatIDMap(maps []specs.LinuxIDMapping) string {
	var b strings.Builder
	for _, m := range maps {
		fmt.Fprintf(&b, "%d %d %d\n", m.ContainerID, m.HostID, m.Size)
	}
	return b.String()
}
