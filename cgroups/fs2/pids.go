package fs2

import (
	"math"
	"strconv"

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
	v := "max"
	if *r.Pids.Limit > 0 {
		v = strconv.FormatInt(*r.Pids.Limit, 10)
	}
	return m.write("pids.limit", "pids.max", v)
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
