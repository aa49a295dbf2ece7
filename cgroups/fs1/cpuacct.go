package fs1

import (
	"bufio"
	"fmt"
	"strconv"
	"strings"

	"github.com/rtproject/rt/cgroups/internal/cgfs"
)

// userHZ is the unit of cpuacct.stat; Linux fixes it at 100 for userspace.
const userHZ = 100

func statsCpuacct(dir string, s *cgfs.Stats) error {
	total, err := cgfs.ReadUint(dir, "cpuacct.usage")
	if err != nil {
		return err
	}
	s.CPU.Usage.Total = total
	if line, err := cgfs.Read(dir, "cpuacct.usage_percpu"); err == nil {
		s.CPU.Usage.Percpu, err = parseUints(line)
		if err != nil {
			return fmt.Errorf("cpuacct.usage_percpu: %w", err)
		}
	}
	// usage_all: a header, then "cpu user system" in nanoseconds.
	if all, err := cgfs.Read(dir, "cpuacct.usage_all"); err == nil {
		sc := bufio.NewScanner(strings.NewReader(all))
		sc.Scan()
		for sc.Scan() {
			f, err := parseUints(sc.Text())
			if err != nil || len(f) != 3 {
				return fmt.Errorf("cpuacct.usage_all: bad line %q", sc.Text())
			}
			s.CPU.Usage.PercpuUser = append(s.CPU.Usage.PercpuUser, f[1])
			s.CPU.Usage.PercpuKernel = append(s.CPU.Usage.PercpuKernel, f[2])
		}
	}
	kv, err := cgfs.ReadKeyValues(dir, "cpuacct.stat")
	if err != nil {
		return err
	}
	s.CPU.Usage.User = kv["user"] * (1e9 / userHZ)
	s.CPU.Usage.Kernel = kv["system"] * (1e9 / userHZ)
	return nil
}

func parseUints(s string) ([]uint64, error) {
	var out []uint64
	for _, f := range strings.Fields(s) {
		v, err := strconv.ParseUint(f, 10, 64)
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, nil
}
