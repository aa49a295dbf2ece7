package fs2

import (
	"bufio"
	"fmt"
	"strconv"
	"strings"

	"github.com/opencontainers/runtime-spec/specs-go"
	"github.com/rtproject/rt/cgroups/internal/cgfs"
)

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

// statsIO turns io.stat ("maj:min rbytes=N wbytes=N rios=N wios=N …")
// into the v1-shaped recursive counters runc reports.
func statsIO(dir string, s *cgfs.Stats) error {
	s.Blkio.PSI = readPSI(dir, "io.pressure")
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
