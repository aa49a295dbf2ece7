package fs2

import (
	"github.com/opencontainers/runtime-spec/specs-go"
	"github.com/rtproject/rt/cgroups/internal/cgfs"
)

func (m *Manager) setCpuset(r *specs.LinuxResources) error {
	if r.CPU == nil || (r.CPU.Cpus == "" && r.CPU.Mems == "") {
		return nil
	}
	if err := m.require("cpuset", "cpu.cpus"); err != nil {
		return err
	}
	if r.CPU.Cpus != "" {
		if err := m.write("cpu.cpus", "cpuset.cpus", r.CPU.Cpus); err != nil {
			return err
		}
	}
	if r.CPU.Mems != "" {
		if err := m.write("cpu.mems", "cpuset.mems", r.CPU.Mems); err != nil {
			return err
		}
	}
	return nil
}

func statsCpuset(dir string, s *cgfs.Stats) error {
	if cgfs.Exists(dir, "cpuset.cpus.effective") {
		v, _ := cgfs.Read(dir, "cpuset.cpus.effective")
		s.CPUSet.CPUs, _ = cgfs.ParseList(v)
		v, _ = cgfs.Read(dir, "cpuset.mems.effective")
		s.CPUSet.Mems, _ = cgfs.ParseList(v)
	}
	return nil
}
