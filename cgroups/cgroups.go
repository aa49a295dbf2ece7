// Package cgroups puts a container's processes in cgroups and applies
// linux.resources, whichever way the host mounts cgroups (v1, hybrid,
// unified) and whether or not systemd manages them.
package cgroups

import (
	"fmt"
	"maps"
	"os"
	"slices"
	"strings"

	"github.com/rtproject/rt/cgroups/fs1"
	"github.com/rtproject/rt/cgroups/fs2"
	"github.com/rtproject/rt/cgroups/hybrid"
	"github.com/rtproject/rt/cgroups/internal/cgfs"
	"github.com/rtproject/rt/cgroups/systemd"
)

// Config names a container's cgroup.
type Config struct {
	Name string // container id
	// Path is linux.cgroupsPath as in config.json: absolute, relative to
	// rt's own cgroup (per hierarchy), or "slice:prefix:name" with
	// Systemd. "" means "/<Name>", or "system.slice:rt:<Name>" with
	// Systemd.
	Path     string
	Systemd  bool
	Rootless bool
	// Existing is what Manager.Existing reported when the container was
	// created, for Load: the hierarchies whose cgroup it joined.
	Existing []string
	// Layout is what HostLayout reported when the container was created,
	// for Load; nil makes Load detect the host's layout (a state written
	// before layouts were recorded).
	Layout *Layout
}

// Manager is one container's cgroup(s), whichever driver serves it.
type Manager = cgfs.Manager

// Mode is how the host mounts cgroups.
type Mode = cgfs.Mode

const (
	Legacy  = cgfs.Legacy
	Hybrid  = cgfs.Hybrid
	Unified = cgfs.Unified
)

// HostMode detects the host's cgroup layout (once per process).
func HostMode() (Mode, error) {
	h, err := cgfs.Detect()
	if err != nil {
		return 0, err
	}
	return h.Mode, nil
}

// New returns the manager for c on this host; nothing is created before
// Apply. It notes which of the container's directories exist already
// (Manager.Existing); c.Existing is ignored.
func New(c Config) (Manager, error) {
	h, err := cgfs.Detect()
	if err != nil {
		return nil, err
	}
	path, err := c.hierarchyPath()
	if err != nil {
		return nil, err
	}
	paths := map[string]string{}
	if h.Mode == Legacy || h.Mode == Hybrid {
		maps.Copy(paths, fs1.Paths(h, path))
	}
	if h.Mode == Unified || h.Mode == Hybrid {
		paths[""] = h.V2.Dir(cgfs.Resolve(path, h.Own[""]))
	}
	c.Existing = nil
	for k, dir := range paths {
		if _, err := os.Stat(dir); err == nil {
			c.Existing = append(c.Existing, k)
		}
	}
	return manager(h, c, paths)
}

// Load rebuilds the manager of an existing container from the paths its
// manager reported; c must be the Config it was created with.
func Load(c Config, paths map[string]string) (Manager, error) {
	var h *cgfs.Host
	if c.Layout != nil && c.Layout.Mode != 0 {
		h = c.Layout.host()
	} else {
		var err error
		if h, err = cgfs.Detect(); err != nil {
			return nil, err
		}
	}
	if len(paths) == 0 {
		return nil, fmt.Errorf("cgroups: no paths to load for container %s", c.Name)
	}
	if _, err := c.hierarchyPath(); err != nil {
		return nil, err
	}
	return manager(h, c, paths)
}

// hierarchyPath is the container's cgroup path in each hierarchy: absolute,
// or relative to rt's own cgroup there.
func (c Config) hierarchyPath() (string, error) {
	if c.Systemd {
		sc, err := systemd.ParsePath(c.Path, c.Name)
		if err != nil {
			return "", err
		}
		return sc.CgroupPath(), nil
	}
	path := c.Path
	if path == "" {
		if c.Name == "" {
			return "", fmt.Errorf("cgroups: neither a path nor a container name")
		}
		path = "/" + c.Name
	}
	if strings.IndexByte(path, 0) >= 0 {
		return "", fmt.Errorf("linux.cgroupsPath: contains a NUL byte")
	}
	// ".." would let a relative path climb out of the cgroup rt places containers under.
	if slices.Contains(strings.Split(path, "/"), "..") {
		return "", fmt.Errorf("linux.cgroupsPath: %q must not contain \"..\"", c.Path)
	}
	return path, nil
}

// manager is the one place that picks the driver: by how the host mounts
// cgroups, over the container's directories (paths: controller, or "" for
// cgroup v2, to directory), wrapped in a systemd scope when c asks for one.
func manager(h *cgfs.Host, c Config, paths map[string]string) (Manager, error) {
	v1 := maps.Clone(paths)
	delete(v1, "")
	v2 := func(controllers []string) *fs2.Manager {
		return fs2.New(fs2.Config{Mount: h.V2.Point, Dir: paths[""], Existing: slices.Contains(c.Existing, ""),
			Controllers: controllers, Rootless: c.Rootless})
	}
	// A rootless container may have been left without a cgroup v2
	// directory it could not create; on a hybrid host its v1 cgroups are
	// then all it has.
	_, hasV2 := paths[""]
	if !hasV2 && h.Mode != Legacy && !c.Rootless {
		return nil, fmt.Errorf("cgroups: container %s has no cgroup v2 directory", c.Name)
	}
	var inner Manager
	switch {
	case h.Mode == Legacy:
		inner = fs1.New(v1, c.Existing, c.Rootless)
	case h.Mode == Unified:
		// nil: enable every controller the parent offers.
		inner = v2(nil)
	case h.Mode == Hybrid && !hasV2:
		inner = fs1.New(v1, c.Existing, c.Rootless)
	case h.Mode == Hybrid:
		// The cgroup2 side only gets the controllers v1 left it, on demand.
		inner = hybrid.New(fs1.New(v1, c.Existing, c.Rootless), v2([]string{}), h.V2.Point, h)
	default:
		return nil, fmt.Errorf("cgroups: no cgroup hierarchy is mounted")
	}
	if !c.Systemd {
		return inner, nil
	}
	sc, err := systemd.ParsePath(c.Path, c.Name)
	if err != nil {
		return nil, err
	}
	conn, err := systemd.Connect(c.Rootless)
	if err != nil {
		return nil, err
	}
	return systemd.New(sc, conn, inner, h.Mode != Unified), nil
}

var (
	_ Manager = (*fs1.Manager)(nil)
	_ Manager = (*fs2.Manager)(nil)
	_ Manager = (*hybrid.Manager)(nil)
	_ Manager = (*systemd.Manager)(nil)
)
