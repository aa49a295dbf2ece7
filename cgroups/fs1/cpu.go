package fs1

import (
	"fmt"
	"strconv"

	"github.com/opencontainers/runtime-spec/specs-go"
	"github.com/rtproject/rt/cgroups/internal/cgfs"
)

func wantsCPU(r *specs.LinuxResources) string {
	c := r.CPU
	switch {
	case c == nil:
		return ""
	case c.Shares != nil:
		return "cpu.shares"
	case c.Quota != nil:
		return "cpu.quota"
	case c.Period != nil:
		return "cpu.period"
	case c.Burst != nil:
		return "cpu.burst"
	case c.RealtimeRuntime != nil:
		return "cpu.realtimeRuntime"
	case c.RealtimePeriod != nil:
		return "cpu.realtimePeriod"
	case c.Idle != nil:
		return "cpu.idle"
	}
	return ""
}

func setCPU(dir string, r *specs.LinuxResources) error {
	c := r.CPU
	if c == nil {
		return nil
	}
	// An idle group has no weight: the kernel refuses cpu.shares then
	// (and keeps the last ones for when it leaves idle). So a group leaves
	// idle before its shares are written, gets them before it becomes
	// idle, and gets none while it stays idle.
	idle := c.Idle != nil && *c.Idle != 0
	if c.Idle != nil && !idle {
		if err := writeIdle(dir, *c.Idle); err != nil {
			return err
		}
	}
	if c.Shares != nil && *c.Shares != 0 && !(idle && isIdle(dir)) {
		if err := cgfs.Write(dir, "cpu.shares", strconv.FormatUint(*c.Shares, 10)); err != nil {
			return fmt.Errorf("linux.resources.cpu.shares: %w", err)
		}
		// The kernel clamps shares silently; a value it changed is one
		// the user did not get.
		got, err := cgfs.ReadUint(dir, "cpu.shares")
		if err != nil {
			return fmt.Errorf("linux.resources.cpu.shares: %w", err)
		}
		if got != *c.Shares {
			return fmt.Errorf("linux.resources.cpu.shares: %d is out of range, the kernel set %d", *c.Shares, got)
		}
	}
	var period, quota, rtPeriod, rtRuntime *knob
	if c.Period != nil && *c.Period != 0 {
		period = &knob{"cpu.cfs_period_us", strconv.FormatUint(*c.Period, 10), "cpu.period"}
	}
	if c.Quota != nil && *c.Quota != 0 {
		quota = &knob{"cpu.cfs_quota_us", strconv.FormatInt(*c.Quota, 10), "cpu.quota"}
	}
	if err := writePair(dir, period, quota); err != nil {
		return err
	}
	if c.Burst != nil {
		if err := cgfs.Write(dir, "cpu.cfs_burst_us", strconv.FormatUint(*c.Burst, 10)); err != nil {
			return fmt.Errorf("linux.resources.cpu.burst: %w", err)
		}
	}
	if c.RealtimePeriod != nil && *c.RealtimePeriod != 0 {
		rtPeriod = &knob{"cpu.rt_period_us", strconv.FormatUint(*c.RealtimePeriod, 10), "cpu.realtimePeriod"}
	}
	if c.RealtimeRuntime != nil {
		rtRuntime = &knob{"cpu.rt_runtime_us", strconv.FormatInt(*c.RealtimeRuntime, 10), "cpu.realtimeRuntime"}
	}
	if err := writePair(dir, rtPeriod, rtRuntime); err != nil {
		return err
	}
	if idle {
		return writeIdle(dir, *c.Idle)
	}
	return nil
}

// isIdle says whether the group is idle now.
func isIdle(dir string) bool {
	v, err := cgfs.Read(dir, "cpu.idle")
	return err == nil && v == "1"
}

func writeIdle(dir string, idle int64) error {
	if err := cgfs.Write(dir, "cpu.idle", strconv.FormatInt(idle, 10)); err != nil {
		return fmt.Errorf("linux.resources.cpu.idle: %w", err)
	}
	return nil
}

type knob struct{ file, value, field string }

func (k *knob) write(dir string) error {
	if k == nil {
		return nil
	}
	if err := cgfs.Write(dir, k.file, k.value); err != nil {
		return fmt.Errorf("linux.resources.%s: %w", k.field, err)
	}
	return nil
}

// writePair writes a period and the budget within it. Either order can
// be the invalid one (a new period shorter than the old budget, or a new
// budget longer than the old period), so on failure the other is tried.
func writePair(dir string, period, budget *knob) error {
	if err := period.write(dir); err != nil {
		if budget == nil {
			return err
		}
		if err := budget.write(dir); err != nil {
			return err
		}
		return period.write(dir)
	}
	return budget.write(dir)
}

func statsCPU(dir string, s *cgfs.Stats) error {
	kv, err := cgfs.ReadKeyValues(dir, "cpu.stat")
	if err != nil {
		return err
	}
	s.CPU.Throttling.Periods = kv["nr_periods"]
	s.CPU.Throttling.ThrottledPeriods = kv["nr_throttled"]
	s.CPU.Throttling.ThrottledTime = kv["throttled_time"]
	return nil
}
