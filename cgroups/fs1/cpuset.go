package fs1

import (
	"fmt"
	"path/filepath"

	"github.com/opencontainers/runtime-spec/specs-go"
	"github.com/rtproject/rt/cgroups/internal/cgfs"
)

func wantsCpuset(r *specs.LinuxResources) string {
	switch {
	case r.CPU == nil:
		return ""
	case r.CPU.Cpus != "":
		return "cpu.cpus"
	case r.CPU.Mems != "":
		return "cpu.mems"
	}
	return ""
}

func setCpuset(dir string, r *specs.LinuxResources) error {
	if r.CPU == nil {
		return nil
	}
	if r.CPU.Cpus != "" {
		if err := cgfs.Write(dir, "cpuset.cpus", r.CPU.Cpus); err != nil {
			return fmt.Errorf("linux.resources.cpu.cpus: %w", err)
		}
	}
	if r.CPU.Mems != "" {
		if err := cgfs.Write(dir, "cpuset.mems", r.CPU.Mems); err != nil {
			return fmt.Errorf("linux.resources.cpu.mems: %w", err)
		}
	}
	return nil
}

// copyParentCpuset fills a new v1 cpuset from its parent: a v1 cpuset
// starts with no cpus and no mems, and no task can be moved into it then.
// A parent still empty was made by another container's create that has not
// filled it yet (both share the new parent level): fill it first, from its
// own parent, rather than copy its emptiness.
func copyParentCpuset(dir string) error {
	parent := filepath.Dir(dir)
	for _, file := range []string{"cpuset.cpus", "cpuset.mems"} {
		v, err := cgfs.Read(parent, file)
		if err == nil && v == "" {
			if err = copyParentCpuset(parent); err == nil {
				v, err = cgfs.Read(parent, file)
			}
		}
		if err != nil {
			return fmt.Errorf("initialise cpuset %s: %w", dir, err)
		}
		if cur, _ := cgfs.Read(dir, file); cur != "" {
			continue
		}
		if err := cgfs.Write(dir, file, v); err != nil {
			return fmt.Errorf("initialise cpuset %s: %w", dir, err)
		}
	}
	return nil
}

func statsCpuset(dir string, s *cgfs.Stats) error {
	var err error
	if v, rerr := cgfs.Read(dir, "cpuset.cpus"); rerr == nil {
		if s.CPUSet.CPUs, err = cgfs.ParseList(v); err != nil {
			return err
		}
	}
	if v, rerr := cgfs.Read(dir, "cpuset.mems"); rerr == nil {
		if s.CPUSet.Mems, err = cgfs.ParseList(v); err != nil {
			return err
		}
	}
	for _, f := range []struct {
		file string
		dst  *uint64
	}{
		{"cpuset.cpu_exclusive", &s.CPUSet.CPUExclusive},
		{"cpuset.mem_hardwall", &s.CPUSet.MemHardwall},
		{"cpuset.mem_exclusive", &s.CPUSet.MemExclusive},
		{"cpuset.memory_migrate", &s.CPUSet.MemoryMigrate},
		{"cpuset.memory_spread_page", &s.CPUSet.MemorySpreadPage},
		{"cpuset.memory_spread_slab", &s.CPUSet.MemorySpreadSlab},
		{"cpuset.memory_pressure", &s.CPUSet.MemoryPressure},
		{"cpuset.sched_load_balance", &s.CPUSet.SchedLoadBalance},
	} {
		if v, err := cgfs.ReadUint(dir, f.file); err == nil {
			*f.dst = v
		}
	}
	if v, err := cgfs.Read(dir, "cpuset.sched_relax_domain_level"); err == nil {
		fmt.Sscan(v, &s.CPUSet.SchedRelaxDomainLevel)
	}
	return nil
}
