package fs2

import (
	"strconv"
	"strings"

	"github.com/rtproject/rt/cgroups/internal/cgfs"
)

// Stats reads the counters of the controllers the cgroup has; files of
// controllers that are not enabled are skipped.
func (m *Manager) Stats() (*cgfs.Stats, error) {
	s := cgfs.NewStats()
	for _, read := range []func(string, *cgfs.Stats) error{
		statsCPU, statsMemory, statsPids, statsIO, statsCpuset, statsHugetlb,
	} {
		if err := read(m.c.Dir, s); err != nil {
			return nil, err
		}
	}
	return s, nil
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
