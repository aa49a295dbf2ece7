package fs2

import (
	"fmt"
	"math"
	"os"
	"strconv"

	"github.com/opencontainers/runtime-spec/specs-go"
	"github.com/rtproject/rt/cgroups/internal/cgfs"
)

// Set writes every resource. What cgroup v2 has no knob for (realtime
// CPU, blkio leaf weights, net_cls/net_prio, kernel memory limits, …) is
// an error naming the field when it is set. "unified" goes last so that
// it can override anything written before.
func (m *Manager) Set(r *specs.LinuxResources) error {
	if r == nil {
		return nil
	}
	if err := unsupported(r); err != nil {
		return err
	}
	if m.absent {
		if field := requested(r); field != "" {
			return fmt.Errorf("linux.resources.%s: rt runs rootless and may not create its cgroup %s (none is delegated to uid %d)", field, m.c.Dir, os.Geteuid())
		}
		return nil
	}
	for _, step := range []func(*specs.LinuxResources) error{
		m.setCPU, m.setCpuset, m.setMemory, m.setIO, m.setPids, m.setHugetlb, m.setRdma, m.setDevices, m.setUnified,
	} {
		if err := step(r); err != nil {
			if m.c.Rootless && isPermission(err) {
				continue
			}
			return err
		}
	}
	return nil
}

// requested names the first resource r asks of the cgroup, leaving out the
// device rules: rt always sends its defaults, and in the user namespace a
// rootless container has, device nodes cannot be made anyway.
func requested(r *specs.LinuxResources) string {
	switch {
	case r.Memory != nil:
		return "memory"
	case r.CPU != nil:
		return "cpu"
	case r.Pids != nil:
		return "pids"
	case r.BlockIO != nil:
		return "blockIO"
	case len(r.HugepageLimits) > 0:
		return "hugepageLimits"
	case len(r.Rdma) > 0:
		return "rdma"
	case len(r.Unified) > 0:
		return "unified"
	}
	return ""
}

func unsupported(r *specs.LinuxResources) error {
	var field string
	switch {
	case r.Memory != nil && r.Memory.Kernel != nil && *r.Memory.Kernel != 0:
		field = "memory.kernel"
	case r.Memory != nil && r.Memory.Swappiness != nil && *r.Memory.Swappiness != math.MaxUint64:
		field = "memory.swappiness"
	case r.Memory != nil && r.Memory.DisableOOMKiller != nil && *r.Memory.DisableOOMKiller:
		field = "memory.disableOOMKiller"
	case r.Memory != nil && r.Memory.UseHierarchy != nil && !*r.Memory.UseHierarchy:
		field = "memory.useHierarchy" // v2 is always hierarchical
	case r.CPU != nil && r.CPU.RealtimeRuntime != nil && *r.CPU.RealtimeRuntime != 0:
		field = "cpu.realtimeRuntime"
	case r.CPU != nil && r.CPU.RealtimePeriod != nil && *r.CPU.RealtimePeriod != 0:
		field = "cpu.realtimePeriod"
	case r.BlockIO != nil && r.BlockIO.LeafWeight != nil:
		field = "blockIO.leafWeight"
	case r.Network != nil && r.Network.ClassID != nil:
		field = "network.classID"
	case r.Network != nil && len(r.Network.Priorities) > 0:
		field = "network.priorities"
	}
	if r.BlockIO != nil {
		for i, d := range r.BlockIO.WeightDevice {
			if d.LeafWeight != nil {
				field = fmt.Sprintf("blockIO.weightDevice[%d].leafWeight", i)
			}
		}
	}
	if field != "" {
		return fmt.Errorf("linux.resources.%s: cgroup v2 has no such setting", field)
	}
	return nil
}

// limit formats a byte or count limit: -1 is "max".
func limit(v int64) string {
	if v < 0 {
		return "max"
	}
	return strconv.FormatInt(v, 10)
}

func (m *Manager) write(field, file, value string) error {
	if err := cgfs.Write(m.c.Dir, file, value); err != nil {
		return fmt.Errorf("linux.resources.%s: %w", field, err)
	}
	return nil
}
