package libcontainer

import (
	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/rtproject/rt/libcontainer/rootfs"
	"github.com/rtproject/rt/libcontainer/seccomp"
)

// ValidateSpec runs the checks that belong to the packages doing the work
// (seccomp, mounts), after specconv's.
func ValidateSpec(s *specs.Spec) error {
	if err := rootfs.ValidateMounts(s.Mounts); err != nil {
		return err
	}
	if s.Linux != nil && s.Linux.Seccomp != nil {
		if err := seccomp.Validate(s.Linux.Seccomp); err != nil {
			return err
		}
	}
	return nil
}
