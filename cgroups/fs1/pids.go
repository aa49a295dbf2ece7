package fs1

import (
	"fmt"
	"math"

	"github.com/opencontainers/runtime-spec/specs-go"
	"github.com/rtproject/rt/cgroups/internal/cgfs"
)

func wantsPids(r *specs.LinuxResources) string {
	if r.Pids != nil && r.Pids.Limit != nil {
		return "pids.limit"
	}
	return ""
}

func setPids(dir string, r *specs.LinuxResources) error {
	if r.Pids == nil || r.Pids.Limit == nil {
		return nil
	}
	if err := cgfs.Write(dir, "pids.max", cgfs.PidsMax(*r.Pids.Limit)); err != nil {
		return fmt.Errorf("linux.resources.pids.limit: %w", err)
	}
	return nil
}

func statsPids(dir string, s *cgfs.Stats) error {
	cur, err := cgfs.ReadUint(dir, "pids.current")
	if err != nil {
		return err
	}
	limit, err := cgfs.ReadUint(dir, "pids.max")
	if err != nil {
		return err
	}
	if limit == math.MaxUint64 {
		limit = 0 // runc reports "max" as no limit
	}
	s.Pids.Current, s.Pids.Limit = cur, limit
	return nil
}
