package libcontainer

import (
	"fmt"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"github.com/sirupsen/logrus"

	"github.com/rtproject/rt/cgroups"
)

func (c *Container) cgroupConfig() cgroups.Config {
	cfg := cgroups.Config{Name: c.state.ID, Systemd: c.state.SystemdCgroup, Rootless: c.state.Rootless}
	if s := c.state.Config; s != nil && s.Linux != nil {
		cfg.Path = s.Linux.CgroupsPath
	}
	return cfg
}

// cgroups returns the manager of the container's cgroup, nil when it has none.
func (c *Container) cgroups() cgroups.Manager {
	if len(c.state.CgroupPaths) == 0 {
		return nil
	}
	m, err := cgroups.Load(c.cgroupConfig(), c.state.CgroupPaths)
	if err != nil {
		logrus.Warnf("container %s: load cgroup: %v", c.state.ID, err)
		return nil
	}
	return m
}

// newCgroupManager returns the manager for a container being created.
func (c *Container) newCgroupManager() (cgroups.Manager, error) {
	m, err := cgroups.New(c.cgroupConfig())
	if err != nil {
		return nil, fmt.Errorf("linux.cgroupsPath: %w", err)
	}
	return m, nil
}

// setCgroupResources writes linux.resources, with the device rules every
// container needs inserted among the spec's own.
func (c *Container) setCgroupResources(m cgroups.Manager) error {
	var r specs.LinuxResources
	if s := c.state.Config; s.Linux != nil && s.Linux.Resources != nil {
		r = *s.Linux.Resources
	}
	r.Devices = withDefaultDevices(r.Devices)
	if err := m.Set(&r); err != nil {
		return fmt.Errorf("linux.resources: %w", err)
	}
	return nil
}

// withDefaultDevices returns deny-all, the spec's rules up to its last
// "deny all", the default devices, then the rest of the spec's rules. The
// defaults must come after a deny-all that would wipe them (specs usually
// start with one), and before the rules that follow it, so that a bundle
// can still deny one of them (e.g. c 1:5, /dev/zero).
func withDefaultDevices(spec []specs.LinuxDeviceCgroup) []specs.LinuxDeviceCgroup {
	split := 0
	for i, d := range spec {
		if !d.Allow && (d.Type == "" || d.Type == "a") {
			split = i + 1
		}
	}
	out := []specs.LinuxDeviceCgroup{{Allow: false, Access: "rwm"}}
	out = append(out, spec[:split]...)
	out = append(out, cgroups.DefaultAllowedDevices()...)
	return append(out, spec[split:]...)
}
