package fs2

import (
	"fmt"
	"math"
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
