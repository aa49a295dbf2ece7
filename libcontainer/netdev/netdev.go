// Package netdev owns linux.netDevices: network interfaces of the host to
// move into the container's network namespace. rt does not move them yet,
// so Validate refuses the field after checking its shape; whoever
// implements the move replaces the refusal and applies it here.
package netdev

import (
	"errors"
	"fmt"
	"strings"

	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/rtproject/rt/internal/field"
	"github.com/rtproject/rt/libcontainer/namespaces"
)

// Validate checks linux.netDevices of s.
func Validate(s *specs.Spec) error {
	if s.Linux == nil || len(s.Linux.NetDevices) == 0 {
		return nil
	}
	devices := s.Linux.NetDevices
	if !namespaces.Has(s, specs.NetworkNamespace) {
		return errors.New("linux.netDevices: requires a network namespace")
	}
	for _, host := range field.SortedKeys(devices) {
		f := field.Key("linux.netDevices", host)
		if !validInterfaceName(host) {
			return fmt.Errorf("%s: %q is not a valid interface name", f, host)
		}
		if name := devices[host].Name; name != "" && !validInterfaceName(name) {
			return fmt.Errorf("%s.name: %q is not a valid interface name", f, name)
		}
	}
	return errors.New("linux.netDevices: not supported: rt does not move network devices into the container yet")
}

// validInterfaceName follows the kernel's dev_valid_name: shorter than
// IFNAMSIZ (16), not "." or "..", and without "/", ":" or whitespace.
func validInterfaceName(name string) bool {
	return name != "" && len(name) < 16 && name != "." && name != ".." && !strings.ContainsAny(name, "/: \t\n\v\f\r")
}
