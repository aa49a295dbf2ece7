package fs2

import (
	"errors"
	"fmt"
	"math"

	"github.com/opencontainers/runtime-spec/specs-go"
	"github.com/rtproject/rt/cgroups/internal/cgfs"
)

func (m *Manager) setMemory(r *specs.LinuxResources) error {
	mem := r.Memory
	if mem == nil || (mem.Limit == nil && mem.Swap == nil && mem.Reservation == nil) {
		return nil
	}
	if err := m.require("memory", "memory"); err != nil {
		return err
	}
	lim, swap := deref(mem.Limit), deref(mem.Swap)
	if mem.CheckBeforeUpdate != nil && *mem.CheckBeforeUpdate && lim > 0 {
		usage, err := cgfs.ReadUint(m.c.Dir, "memory.current")
		if err != nil {
			return fmt.Errorf("linux.resources.memory.checkBeforeUpdate: %w", err)
		}
		if uint64(lim) < usage {
			return fmt.Errorf("linux.resources.memory.limit: %d is below the current usage %d", lim, usage)
		}
	}
	swapMax, err := SwapToV2(swap, lim)
	if err != nil {
		return fmt.Errorf("linux.resources.memory.swap: %w", err)
	}
	if swapMax != 0 {
		if !cgfs.Exists(m.c.Dir, "memory.swap.max") {
			// Unlimited swap on a host without swap accounting is what
			// the host does anyway.
			if swapMax != -1 {
				return errors.New("linux.resources.memory.swap: swap accounting is off on this host (no memory.swap.max)")
			}
		} else if err := m.write("memory.swap", "memory.swap.max", limit(swapMax)); err != nil {
			return err
		}
	}
	if mem.Limit != nil && lim != 0 {
		if err := m.write("memory.limit", "memory.max", limit(lim)); err != nil {
			return err
		}
	}
	if mem.Reservation != nil && *mem.Reservation != 0 {
		if err := m.write("memory.reservation", "memory.low", limit(*mem.Reservation)); err != nil {
			return err
		}
	}
	return nil
}

func deref(p *int64) int64 {
	if p == nil {
		return 0
	}
	return *p
}

func statsMemory(dir string, s *cgfs.Stats) error {
	if !cgfs.Exists(dir, "memory.current") {
		return nil
	}
	raw, err := cgfs.ReadKeyValues(dir, "memory.stat")
	if err != nil {
		return err
	}
	s.Memory.Raw = raw
	s.Memory.Cache = raw["file"]
	s.Memory.UseHierarchy = true
	if s.Memory.Usage.Usage, err = cgfs.ReadUint(dir, "memory.current"); err != nil {
		return err
	}
	if s.Memory.Usage.Limit, err = cgfs.ReadUint(dir, "memory.max"); err != nil {
		return err
	}
	s.Memory.Usage.Max, _ = cgfs.ReadUint(dir, "memory.peak")
	if ev, err := cgfs.ReadKeyValues(dir, "memory.events"); err == nil {
		s.Memory.Usage.Failcnt = ev["max"]
	}
	// runc reports v2 swap as memory+swap, the v1 meaning.
	if cgfs.Exists(dir, "memory.swap.current") {
		sw, _ := cgfs.ReadUint(dir, "memory.swap.current")
		swMax, _ := cgfs.ReadUint(dir, "memory.swap.max")
		s.Memory.Swap.Usage = s.Memory.Usage.Usage + sw
		s.Memory.Swap.Limit = math.MaxUint64
		if swMax != math.MaxUint64 && s.Memory.Usage.Limit != math.MaxUint64 {
			s.Memory.Swap.Limit = s.Memory.Usage.Limit + swMax
		}
		s.Memory.Swap.Max, _ = cgfs.ReadUint(dir, "memory.swap.peak")
		if ev, err := cgfs.ReadKeyValues(dir, "memory.swap.events"); err == nil {
			s.Memory.Swap.Failcnt = ev["max"]
		}
	}
	s.Memory.PSI = readPSI(dir, "memory.pressure")
	return nil
}
