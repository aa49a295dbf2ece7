package fs1

import (
	"fmt"

	"github.com/opencontainers/runtime-spec/specs-go"
	"github.com/rtproject/rt/cgroups/internal/cgfs"
)

func wantsNetPrio(r *specs.LinuxResources) string {
	if r.Network != nil && len(r.Network.Priorities) > 0 {
		return "network.priorities"
	}
	return ""
}

func setNetPrio(dir string, r *specs.LinuxResources) error {
	if r.Network == nil {
		return nil
	}
	// The kernel takes one "ifname prio" pair per write.
	for i, p := range r.Network.Priorities {
		if err := cgfs.Write(dir, "net_prio.ifpriomap", fmt.Sprintf("%s %d", p.Name, p.Priority)); err != nil {
			return fmt.Errorf("linux.resources.network.priorities[%d]: %w", i, err)
		}
	}
	return nil
}
