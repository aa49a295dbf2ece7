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

// ensureCpuset gives a v1 cpuset without cpus or mems its parent's: a v1
// cpuset starts with neither, and no task can be moved into it (or into a
// cgroup below it) then. It fills every level of a container's path, also
// those an engine or another container made and left empty (runc does the
// same).
func ensureCpuset(dir string) error {
	for _, file := range []string{"cpuset.cpus", "cpuset.mems"} {
		cur, err := cgfs.Read(dir, file)
		if err != nil {
			return fmt.Errorf("initialise cpuset %s: %w", dir, err)
		}
		if cur != "" {
			continue
		}
		v, err := cgfs.Read(filepath.Dir(dir), file)
		if err != nil {
			return fmt.Errorf("initialise cpuset %s: %w", dir, err)
		}
		if err := cgfs.Write(dir, file, v); err != nil {
			return fmt.Errorf("initialise cpuset %s: %w", dir, err)
		}
	}
	return nil
}

// cpusetBase is the level from which ensureCpuset must run to make dir
// usable: dir itself, or its highest ancestor without cpus or mems that has
// a parent (the root always has both).
func cpusetBase(dir string) string {
	base := dir
	for d := dir; cgfs.Exists(filepath.Dir(d), "cpuset.cpus"); d = filepath.Dir(d) {
		cpus, _ := cgfs.Read(d, "cpuset.cpus")
		mems, _ := cgfs.Read(d, "cpuset.mems")
		if cpus != "" && mems != "" {
			break
		}
		base = filepath.Dir(d)
	}
	return base
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
