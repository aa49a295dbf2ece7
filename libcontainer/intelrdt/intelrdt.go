// Package intelrdt owns linux.intelRdt: a resctrl group (cache and memory
// bandwidth allocation, monitoring) for the container. rt does not manage
// resctrl, so Validate refuses the field, as runc does where resctrl is not
// available; whoever implements it replaces the refusal.
package intelrdt

import (
	"errors"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// Validate checks linux.intelRdt.
func Validate(r *specs.LinuxIntelRdt) error {
	if r == nil {
		return nil
	}
	return errors.New("linux.intelRdt: not supported: rt does not manage Intel RDT (resctrl) yet")
}
