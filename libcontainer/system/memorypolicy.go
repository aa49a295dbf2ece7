package system

import (
	"errors"

	"github.com/opencontainers/runtime-spec/specs-go"
)

// ValidateMemoryPolicy refuses linux.memoryPolicy: rt does not call
// set_mempolicy(2) yet, and a NUMA policy silently left unapplied would be
// worse than an error. Whoever implements it replaces this with the real
// check and applies the policy in the init.
func ValidateMemoryPolicy(p *specs.LinuxMemoryPolicy) error {
	if p == nil {
		return nil
	}
	return errors.New("linux.memoryPolicy: not supported: rt does not apply NUMA memory policies yet")
}
