package fs2

import (
	"math"

	"github.com/opencontainers/runtime-spec/specs-go"
	"github.com/rtproject/rt/cgroups/internal/cgfs"
)

func (m *Manager) setPids(r *specs.LinuxResources) error {
	if r.Pids == nil || r.Pids.Limit == nil {
		return nil
	}
	if err := m.require("pids", "pids.limit"); err != nil {
		return err
	}
	return m.write("pids.limit", "pids.max", cgfs.PidsMax(*r.Pids.Limit))
}

func statsPids(dir string, s *cgfs.Stats) error {
	if !cgfs.Exists(dir, "pids.current") {
		return nil
	}
	cur, err := cgfs.ReadUint(dir, "pids.current")
	if err != nil {
		return err
	}
	lim, err := cgfs.ReadUint(dir, "pids.max")
	if err != nil {
		return err
	}
	if lim == math.MaxUint64 {
		lim = 0
	}
	s.Pids.Current, s.Pids.Limit = cur, lim
	return nil
}
