package cgroups

import "github.com/opencontainers/runtime-spec/specs-go"

// DefaultAllowedDevices are the device rules every container gets on top
// of its own: the spec's default devices (null, zero, full, random,
// urandom, tty, console, ptmx) plus the pty slaves under /dev/pts. The
// caller puts them after a deny-all rule and before the bundle's rules.
func DefaultAllowedDevices() []specs.LinuxDeviceCgroup {
	c := func(major, minor int64) specs.LinuxDeviceCgroup {
		rule := specs.LinuxDeviceCgroup{Allow: true, Type: "c", Major: &major, Access: "rwm"}
		if minor >= 0 {
			rule.Minor = &minor
		}
		return rule
	}
	return []specs.LinuxDeviceCgroup{
		c(1, 3),    // /dev/null
		c(1, 5),    // /dev/zero
		c(1, 7),    // /dev/full
		c(1, 8),    // /dev/random
		c(1, 9),    // /dev/urandom
		c(5, 0),    // /dev/tty
		c(5, 1),    // /dev/console
		c(5, 2),    // /dev/ptmx
		c(136, -1), // /dev/pts/*
	}
}
