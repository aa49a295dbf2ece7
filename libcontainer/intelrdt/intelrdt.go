// Package intelrdt owns linux.intelRdt: a resctrl group (cache and memory
// bandwidth allocation, monitoring) for the container.
//
// rt does not manage resctrl groups: the hosts it is tested on have no
// resctrl, and a setting applied without a test is a setting that may be
// silently wrong. Validate therefore refuses the field, saying whether the
// host could do it at all, rather than accept and ignore it.
package intelrdt

import (
	"errors"
	"fmt"

	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/rtproject/rt/internal/mountinfo"
)

// resctrlMounted reports whether a resctrl filesystem is mounted, which is
// how the kernel offers Intel RDT (and AMD's equivalent) to user space.
// A variable so tests can pretend.
var resctrlMounted = func() (bool, error) {
	mounts, err := mountinfo.Read()
	if err != nil {
		return false, err
	}
	for _, m := range mounts {
		if m.FSType == "resctrl" {
			return true, nil
		}
	}
	return false, nil
}

// Validate checks linux.intelRdt: any setting is refused, naming the field.
func Validate(r *specs.LinuxIntelRdt) error {
	if r == nil {
		return nil
	}
	mounted, err := resctrlMounted()
	if err != nil {
		return fmt.Errorf("linux.intelRdt: look for resctrl: %w", err)
	}
	if !mounted {
		return errors.New("linux.intelRdt: Intel RDT is not enabled on this host: no resctrl filesystem is mounted (the CPU or kernel lacks it, or it needs mount -t resctrl resctrl /sys/fs/resctrl)")
	}
	return errors.New("linux.intelRdt: not supported: rt does not manage resctrl groups")
}
