package fs2

import (
	"errors"
	"fmt"
	"math"
	"os"
	"sort"
	"strconv"
	"strings"

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

func (m *Manager) setCPU(r *specs.LinuxResources) error {
	c := r.CPU
	if c == nil {
		return nil
	}
	if c.Shares != nil && *c.Shares != 0 {
		if err := m.require("cpu", "cpu.shares"); err != nil {
			return err
		}
		if err := m.write("cpu.shares", "cpu.weight", strconv.FormatUint(CPUSharesToWeight(*c.Shares), 10)); err != nil {
			return err
		}
	}
	if c.Idle != nil {
		if err := m.require("cpu", "cpu.idle"); err != nil {
			return err
		}
		if err := m.write("cpu.idle", "cpu.idle", strconv.FormatInt(*c.Idle, 10)); err != nil {
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

func (m *Manager) setIO(r *specs.LinuxResources) error {
	b := r.BlockIO
	if b == nil || (b.Weight == nil && len(b.WeightDevice) == 0 && len(b.ThrottleReadBpsDevice) == 0 &&
		len(b.ThrottleWriteBpsDevice) == 0 && len(b.ThrottleReadIOPSDevice) == 0 && len(b.ThrottleWriteIOPSDevice) == 0) {
		return nil
	}
	if err := m.require("io", "blockIO"); err != nil {
		return err
	}
	// BFQ takes blkio's own scale; io.weight (the cost model) its own.
	bfq := cgfs.Exists(m.c.Dir, "io.bfq.weight")
	weight := func(w uint16) (string, string) {
		if bfq {
			return "io.bfq.weight", strconv.FormatUint(uint64(w), 10)
		}
		return "io.weight", strconv.FormatUint(BlkioWeightToIOWeight(uint64(w)), 10)
	}
	if b.Weight != nil && *b.Weight != 0 {
		file, v := weight(*b.Weight)
		if !cgfs.Exists(m.c.Dir, file) {
			return fmt.Errorf("linux.resources.blockIO.weight: this kernel has no %s", file)
		}
		if err := m.write("blockIO.weight", file, v); err != nil {
			return err
		}
	}
	for i, d := range b.WeightDevice {
		if d.Weight == nil {
			continue
		}
		file, v := weight(*d.Weight)
		if err := m.write(fmt.Sprintf("blockIO.weightDevice[%d].weight", i), file, fmt.Sprintf("%d:%d %s", d.Major, d.Minor, v)); err != nil {
			return err
		}
	}
	for _, t := range []struct {
		field, key string
		devs       []specs.LinuxThrottleDevice
	}{
		{"throttleReadBpsDevice", "rbps", b.ThrottleReadBpsDevice},
		{"throttleWriteBpsDevice", "wbps", b.ThrottleWriteBpsDevice},
		{"throttleReadIOPSDevice", "riops", b.ThrottleReadIOPSDevice},
		{"throttleWriteIOPSDevice", "wiops", b.ThrottleWriteIOPSDevice},
	} {
		for i, d := range t.devs {
			// v1 uses 0 to lift a limit; v2 spells that "max".
			rate := "max"
			if d.Rate != 0 {
				rate = strconv.FormatUint(d.Rate, 10)
			}
			line := fmt.Sprintf("%d:%d %s=%s", d.Major, d.Minor, t.key, rate)
			if err := m.write(fmt.Sprintf("blockIO.%s[%d]", t.field, i), "io.max", line); err != nil {
				return err
			}
		}
	}
	return nil
}

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

func (m *Manager) setHugetlb(r *specs.LinuxResources) error {
	if len(r.HugepageLimits) == 0 {
		return nil
	}
	if err := m.require("hugetlb", "hugepageLimits"); err != nil {
		return err
	}
	for i, l := range r.HugepageLimits {
		file := "hugetlb." + l.Pagesize + ".max"
		if !cgfs.Exists(m.c.Dir, file) {
			return fmt.Errorf("linux.resources.hugepageLimits[%d].pageSize: %q is not a huge page size of this host", i, l.Pagesize)
		}
		v := strconv.FormatUint(l.Limit, 10)
		if err := m.write(fmt.Sprintf("hugepageLimits[%d].limit", i), file, v); err != nil {
			return err
		}
		// Limit reservations too where the kernel counts them, so a
		// mapping reserved but not yet faulted cannot get past the limit.
		if rsvd := "hugetlb." + l.Pagesize + ".rsvd.max"; cgfs.Exists(m.c.Dir, rsvd) {
			if err := m.write(fmt.Sprintf("hugepageLimits[%d].limit", i), rsvd, v); err != nil {
				return err
			}
		}
	}
	return nil
}

func (m *Manager) setRdma(r *specs.LinuxResources) error {
	if len(r.Rdma) == 0 {
		return nil
	}
	if err := m.require("rdma", "rdma"); err != nil {
		return err
	}
	return cgfs.SetRdma(m.c.Dir, r.Rdma)
}

// setUnified writes linux.resources.unified verbatim, in key order. Keys
// are file names in the cgroup: no paths, and the controller they belong
// to must be available.
func (m *Manager) setUnified(r *specs.LinuxResources) error {
	keys := make([]string, 0, len(r.Unified))
	for k := range r.Unified {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		field := fmt.Sprintf("unified[%q]", k)
		if strings.ContainsAny(k, "/\x00") || k == "." || k == ".." || k == "" {
			return fmt.Errorf("linux.resources.%s: not a cgroup file name", field)
		}
		ctrl, _, ok := strings.Cut(k, ".")
		if !ok {
			return fmt.Errorf("linux.resources.%s: not a cgroup file name", field)
		}
		if ctrl != "cgroup" && !cgfs.Exists(m.c.Dir, k) {
			if err := m.require(ctrl, field); err != nil {
				return err
			}
		}
		if err := cgfs.Write(m.c.Dir, k, r.Unified[k]); err != nil {
			if errors.Is(err, os.ErrNotExist) {
				return fmt.Errorf("linux.resources.%s: no such cgroup v2 file", field)
			}
			return fmt.Errorf("linux.resources.%s: %w", field, err)
		}
	}
	return nil
}
