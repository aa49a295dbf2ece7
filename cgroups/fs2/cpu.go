package fs2

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/opencontainers/runtime-spec/specs-go"
	"github.com/rtproject/rt/cgroups/internal/cgfs"
)

func (m *Manager) setCPU(r *specs.LinuxResources) error {
	c := r.CPU
	if c == nil {
		return nil
	}
	// An idle group has no weight: the kernel refuses cpu.weight then (and
	// keeps the last one for when it leaves idle). So a group leaves idle
	// before its weight is written, gets it before it becomes idle, and
	// gets none while it stays idle.
	idle := c.Idle != nil && *c.Idle != 0
	setIdle := func() error {
		if err := m.require("cpu", "cpu.idle"); err != nil {
			return err
		}
		return m.write("cpu.idle", "cpu.idle", strconv.FormatInt(*c.Idle, 10))
	}
	if c.Idle != nil && !idle {
		if err := setIdle(); err != nil {
			return err
		}
	}
	if c.Shares != nil && *c.Shares != 0 && !(idle && m.isIdle()) {
		if err := m.require("cpu", "cpu.shares"); err != nil {
			return err
		}
		if err := m.write("cpu.shares", "cpu.weight", strconv.FormatUint(CPUSharesToWeight(*c.Shares), 10)); err != nil {
			return err
		}
	}
	if idle {
		if err := setIdle(); err != nil {
			return err
		}
	}
	if (c.Quota != nil && *c.Quota != 0) || (c.Period != nil && *c.Period != 0) {
		if err := m.require("cpu", "cpu.quota"); err != nil {
			return err
		}
		// cpu.max holds both numbers; keep the one not given.
		cur, err := cgfs.Read(m.c.Dir, "cpu.max")
		if err != nil {
			return fmt.Errorf("linux.resources.cpu.quota: %w", err)
		}
		quota, period, _ := strings.Cut(cur, " ")
		if c.Quota != nil && *c.Quota != 0 {
			quota = limit(*c.Quota)
		}
		if c.Period != nil && *c.Period != 0 {
			period = strconv.FormatUint(*c.Period, 10)
		}
		if err := m.write("cpu.quota", "cpu.max", quota+" "+period); err != nil {
			return err
		}
	}
	if c.Burst != nil {
		if err := m.require("cpu", "cpu.burst"); err != nil {
			return err
		}
		if err := m.write("cpu.burst", "cpu.max.burst", strconv.FormatUint(*c.Burst, 10)); err != nil {
			return err
		}
	}
	return nil
}

// isIdle says whether the group is idle now.
func (m *Manager) isIdle() bool {
	v, err := cgfs.Read(m.c.Dir, "cpu.idle")
	return err == nil && v == "1"
}

func statsCPU(dir string, s *cgfs.Stats) error {
	if kv, err := cgfs.ReadKeyValues(dir, "cpu.stat"); err == nil {
		// v2 counts microseconds, runc's stats nanoseconds.
		s.CPU.Usage.Total = kv["usage_usec"] * 1000
		s.CPU.Usage.User = kv["user_usec"] * 1000
		s.CPU.Usage.Kernel = kv["system_usec"] * 1000
		s.CPU.Throttling.Periods = kv["nr_periods"]
		s.CPU.Throttling.ThrottledPeriods = kv["nr_throttled"]
		s.CPU.Throttling.ThrottledTime = kv["throttled_usec"] * 1000
	} else if !cgfs.IsNotExist(err) {
		return err
	}
	s.CPU.PSI = readPSI(dir, "cpu.pressure")
	return nil
}
