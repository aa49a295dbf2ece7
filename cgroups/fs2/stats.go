package fs2

import (
	"bufio"
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/rtproject/rt/cgroups/internal/cgfs"
)

// Stats reads the counters of the controllers the cgroup has; files of
// controllers that are not enabled are skipped.
func (m *Manager) Stats() (*cgfs.Stats, error) {
	s := cgfs.NewStats()
	dir := m.c.Dir
	if kv, err := cgfs.ReadKeyValues(dir, "cpu.stat"); err == nil {
		// v2 counts microseconds, runc's stats nanoseconds.
		s.CPU.Usage.Total = kv["usage_usec"] * 1000
		s.CPU.Usage.User = kv["user_usec"] * 1000
		s.CPU.Usage.Kernel = kv["system_usec"] * 1000
		s.CPU.Throttling.Periods = kv["nr_periods"]
		s.CPU.Throttling.ThrottledPeriods = kv["nr_throttled"]
		s.CPU.Throttling.ThrottledTime = kv["throttled_usec"] * 1000
	} else if !cgfs.IsNotExist(err) {
		return nil, err
	}
	s.CPU.PSI = readPSI(dir, "cpu.pressure")
	if err := memoryStats(dir, s); err != nil {
		return nil, err
	}
	if cgfs.Exists(dir, "pids.current") {
		cur, err := cgfs.ReadUint(dir, "pids.current")
		if err != nil {
			return nil, err
		}
		lim, err := cgfs.ReadUint(dir, "pids.max")
		if err != nil {
			return nil, err
		}
		if lim == math.MaxUint64 {
			lim = 0
		}
		s.Pids.Current, s.Pids.Limit = cur, lim
	}
	if err := ioStats(dir, s); err != nil {
		return nil, err
	}
	s.Blkio.PSI = readPSI(dir, "io.pressure")
	if cgfs.Exists(dir, "cpuset.cpus.effective") {
		v, _ := cgfs.Read(dir, "cpuset.cpus.effective")
		s.CPUSet.CPUs, _ = cgfs.ParseList(v)
		v, _ = cgfs.Read(dir, "cpuset.mems.effective")
		s.CPUSet.Mems, _ = cgfs.ParseList(v)
	}
	for _, size := range cgfs.HugePageSizes() {
		p := "hugetlb." + size
		if !cgfs.Exists(dir, p+".current") {
			continue
		}
		var h cgfs.Hugetlb
		var err error
		if h.Usage, err = cgfs.ReadUint(dir, p+".current"); err != nil {
			return nil, err
		}
		if ev, err := cgfs.ReadKeyValues(dir, p+".events"); err == nil {
			h.Failcnt = ev["max"]
		}
		s.Hugetlb[size] = h
	}
	return s, nil
}

func memoryStats(dir string, s *cgfs.Stats) error {
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

// ioStats turns io.stat ("maj:min rbytes=N wbytes=N rios=N wios=N …")
// into the v1-shaped recursive counters runc reports.
func ioStats(dir string, s *cgfs.Stats) error {
	content, err := cgfs.Read(dir, "io.stat")
	if err != nil {
		if cgfs.IsNotExist(err) {
			return nil
		}
		return err
	}
	sc := bufio.NewScanner(strings.NewReader(content))
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) < 2 {
			continue
		}
		var major, minor uint64
		if _, err := fmt.Sscanf(f[0], "%d:%d", &major, &minor); err != nil {
			return fmt.Errorf("io.stat: bad line %q", sc.Text())
		}
		for _, kv := range f[1:] {
			k, v, _ := strings.Cut(kv, "=")
			n, err := strconv.ParseUint(v, 10, 64)
			if err != nil {
				continue
			}
			e := cgfs.BlkioEntry{Major: major, Minor: minor, Value: n}
			switch k {
			case "rbytes":
				e.Op = "Read"
				s.Blkio.IoServiceBytesRecursive = append(s.Blkio.IoServiceBytesRecursive, e)
			case "wbytes":
				e.Op = "Write"
				s.Blkio.IoServiceBytesRecursive = append(s.Blkio.IoServiceBytesRecursive, e)
			case "rios":
				e.Op = "Read"
				s.Blkio.IoServicedRecursive = append(s.Blkio.IoServicedRecursive, e)
			case "wios":
				e.Op = "Write"
				s.Blkio.IoServicedRecursive = append(s.Blkio.IoServicedRecursive, e)
			}
		}
	}
	return nil
}

// readPSI parses a pressure file; nil when there is none (PSI off).
func readPSI(dir, file string) *cgfs.PSIStats {
	content, err := cgfs.Read(dir, file)
	if err != nil {
		return nil
	}
	var p cgfs.PSIStats
	for _, line := range strings.Split(content, "\n") {
		f := strings.Fields(line)
		if len(f) == 0 {
			continue
		}
		var d *cgfs.PSIData
		switch f[0] {
		case "some":
			d = &p.Some
		case "full":
			d = &p.Full
		default:
			continue
		}
		for _, kv := range f[1:] {
			k, v, _ := strings.Cut(kv, "=")
			switch k {
			case "avg10":
				d.Avg10, _ = strconv.ParseFloat(v, 64)
			case "avg60":
				d.Avg60, _ = strconv.ParseFloat(v, 64)
			case "avg300":
				d.Avg300, _ = strconv.ParseFloat(v, 64)
			case "total":
				d.Total, _ = strconv.ParseUint(v, 10, 64)
			}
		}
	}
	return &p
}
