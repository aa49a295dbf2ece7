package fs1

import (
	"fmt"
	"strconv"

	"github.com/opencontainers/runtime-spec/specs-go"
	"github.com/rtproject/rt/cgroups/internal/cgfs"
)

func wantsHugetlb(r *specs.LinuxResources) string {
	if len(r.HugepageLimits) > 0 {
		return "hugepageLimits"
	}
	return ""
}

func setHugetlb(dir string, r *specs.LinuxResources) error {
	for i, l := range r.HugepageLimits {
		file := "hugetlb." + l.Pagesize + ".limit_in_bytes"
		if !cgfs.Exists(dir, file) {
			return fmt.Errorf("linux.resources.hugepageLimits[%d].pageSize: %q is not a huge page size of this host", i, l.Pagesize)
		}
		v := strconv.FormatUint(l.Limit, 10)
		if err := cgfs.Write(dir, file, v); err != nil {
			return fmt.Errorf("linux.resources.hugepageLimits[%d].limit: %w", i, err)
		}
		// Reservations are limited too, where the kernel counts them, so
		// that a reserved-but-unfaulted mapping cannot exceed the limit.
		if rsvd := "hugetlb." + l.Pagesize + ".rsvd.limit_in_bytes"; cgfs.Exists(dir, rsvd) {
			if err := cgfs.Write(dir, rsvd, v); err != nil {
				return fmt.Errorf("linux.resources.hugepageLimits[%d].limit: %w", i, err)
			}
		}
	}
	return nil
}

func statsHugetlb(dir string, s *cgfs.Stats) error {
	for _, size := range cgfs.HugePageSizes() {
		var h cgfs.Hugetlb
		var err error
		p := "hugetlb." + size
		if h.Usage, err = cgfs.ReadUint(dir, p+".usage_in_bytes"); err != nil {
			return err
		}
		if h.Max, err = cgfs.ReadUint(dir, p+".max_usage_in_bytes"); err != nil {
			return err
		}
		if h.Failcnt, err = cgfs.ReadUint(dir, p+".failcnt"); err != nil {
			return err
		}
		s.Hugetlb[size] = h
	}
	return nil
}
