package libcontainer

import (
	"fmt"
	"sort"
	"strings"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"github.com/sirupsen/logrus"

	"github.com/rtproject/rt/cgroups"
)

// cgroupConfig is what the cgroup driver needs of the container. state and
// list call it on a summary of the spec (readStateSummary), which carries
// only what this and hooks.State read: a field read here must be added
// there too (TestSummaryDescribesAsFullState).
func (c *Container) cgroupConfig() cgroups.Config {
	cfg := cgroups.Config{Name: c.state.ID, Systemd: c.state.SystemdCgroup, Rootless: c.state.Rootless,
		Existing: c.state.CgroupExisting, Layout: c.state.CgroupLayout}
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
		if !strings.HasPrefix(err.Error(), "linux.") {
			err = fmt.Errorf("linux.cgroupsPath: %w", err)
		}
		return nil, err
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
	if err := cgroups.ValidateResources(&r); err != nil {
		return err
	}
	r.Devices = withDefaultDevices(r.Devices)
	if err := m.Set(cgroups.WithoutUnset(&r)); err != nil {
		if strings.HasPrefix(err.Error(), "linux.resources") {
			return err
		}
		return fmt.Errorf("linux.resources: %w", err)
	}
	return nil
}

// withDefaultDevices returns deny-all, the spec's rules in their order (the
// device cgroup lists them so, and the runtime-spec wants them applied in
// order), then the default devices every container needs, less what the
// spec denies after its last "deny all": a bundle can still deny one of
// them (e.g. c 1:5 w, /dev/zero).
func withDefaultDevices(spec []specs.LinuxDeviceCgroup) []specs.LinuxDeviceCgroup {
	var denies []specs.LinuxDeviceCgroup
	for _, d := range spec {
		switch {
		case !d.Allow && (d.Type == "" || d.Type == "a"):
			denies = denies[:0]
		case !d.Allow:
			denies = append(denies, d)
		}
	}
	out := []specs.LinuxDeviceCgroup{{Allow: false, Access: "rwm"}}
	out = append(out, spec...)
	for _, def := range cgroups.DefaultAllowedDevices() {
		for _, d := range denies {
			if deviceMatches(d, def) {
				denied := d.Access
				if denied == "" {
					denied = "rwm" // the runtime-spec's default: all
				}
				def.Access = strings.Map(func(r rune) rune {
					if strings.ContainsRune(denied, r) {
						return -1
					}
					return r
				}, def.Access)
			}
		}
		if def.Access != "" {
			out = append(out, def)
		}
	}
	return out
}

// deviceMatches reports whether rule covers the device of def (wildcards included).
func deviceMatches(rule, def specs.LinuxDeviceCgroup) bool {
	if rule.Type != def.Type {
		return false
	}
	num := func(r, d *int64) bool { return r == nil || *r == -1 || (d != nil && *r == *d) }
	return num(rule.Major, def.Major) && num(rule.Minor, def.Minor)
}

// describeCgroupPaths lists, for the start-up trace, the container's cgroup
// directories with the controllers in each ("cpu,cpuacct=/sys/fs/cgroup/cpu,cpuacct/x").
func describeCgroupPaths(paths map[string]string) string {
	byDir := map[string][]string{}
	for ctrl, dir := range paths {
		if ctrl == "" {
			ctrl = "unified"
		}
		byDir[dir] = append(byDir[dir], ctrl)
	}
	var out []string
	for dir, ctrls := range byDir {
		sort.Strings(ctrls)
		out = append(out, strings.Join(ctrls, ",")+"="+dir)
	}
	sort.Strings(out)
	return strings.Join(out, " ")
}
