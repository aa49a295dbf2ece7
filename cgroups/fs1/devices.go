package fs1

import (
	"fmt"

	"github.com/opencontainers/runtime-spec/specs-go"
	"github.com/rtproject/rt/cgroups/internal/cgfs"
)

func wantsDevices(r *specs.LinuxResources) string {
	if r.Devices != nil {
		return "devices"
	}
	return ""
}

// setDevices makes the device list default-deny and then replays the
// rules in order, so the cgroup ends up with exactly the listed exceptions
// whatever it allowed before. A nil list leaves the cgroup alone (an
// update that does not mention devices).
func setDevices(dir string, r *specs.LinuxResources) error {
	if r.Devices == nil {
		return nil
	}
	if err := cgfs.Write(dir, "devices.deny", "a"); err != nil {
		return fmt.Errorf("linux.resources.devices: deny all: %w", err)
	}
	for i, d := range r.Devices {
		rule, err := cgfs.DeviceRule(d)
		if err != nil {
			return fmt.Errorf("linux.resources.devices[%d].%w", i, err)
		}
		file := "devices.deny"
		if d.Allow {
			file = "devices.allow"
		}
		if err := cgfs.Write(dir, file, rule); err != nil {
			return fmt.Errorf("linux.resources.devices[%d]: %w", i, err)
		}
	}
	return nil
}
