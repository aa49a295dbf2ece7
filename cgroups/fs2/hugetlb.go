package fs2

import (
	"fmt"
	"strconv"

	"github.com/opencontainers/runtime-spec/specs-go"
	"github.com/rtproject/rt/cgroups/internal/cgfs"
)

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

func statsHugetlb(dir string, s *cgfs.Stats) error {
	for _, size := range cgfs.HugePageSizes() {
		p := "hugetlb." + size
		if !cgfs.Exists(dir, p+".current") {
			continue
		}
		var h cgfs.Hugetlb
		var err error
		if h.Usage, err = cgfs.ReadUint(dir, p+".current"); err != nil {
			return err
		}
		if ev, err := cgfs.ReadKeyValues(dir, p+".events"); err == nil {
			h.Failcnt = ev["max"]
		}
		s.Hugetlb[size] = h
	}
	return nil
}
