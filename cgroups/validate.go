package cgroups

import (
	"fmt"

	"github.com/opencontainers/runtime-spec/specs-go"

	"github.com/rtproject/rt/cgroups/internal/cgfs"
	"github.com/rtproject/rt/internal/field"
)

// ValidatePath checks linux.cgroupsPath with the rule New applies:
// "slice:prefix:name" with systemd, otherwise a path without "..".
func ValidatePath(path string, systemd bool) error {
	if path == "" {
		return nil
	}
	_, err := Config{Path: path, Systemd: systemd}.hierarchyPath()
	return err
}

// ValidateResources checks what can be known about linux.resources without
// the host: device rules and unified keys, with the rules (in cgfs) the
// drivers apply as they write them. Create and update run it before
// writing anything; what the host cannot honour (a controller it lacks) is
// Set's to report.
func ValidateResources(r *specs.LinuxResources) error {
	if r == nil {
		return nil
	}
	for i, d := range r.Devices {
		if err := cgfs.ValidateDeviceRule(d); err != nil {
			return fmt.Errorf("linux.resources.devices[%d].%w", i, err)
		}
	}
	for _, k := range field.SortedKeys(r.Unified) {
		if err := cgfs.ValidateUnifiedKey(k); err != nil {
			return fmt.Errorf("%s: %w", field.Key("linux.resources.unified", k), err)
		}
	}
	return nil
}
