// Package cgroups puts a container's processes in cgroups and applies
// linux.resources, whichever way the host mounts cgroups (v1, hybrid,
// unified) and whether or not systemd manages them.
package cgroups

import (
	"fmt"
	"slices"
	"strings"

	"github.com/opencontainers/runtime-spec/specs-go"
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
}

// Manager is one container's cgroup(s).
type Manager interface {
	// Apply creates the cgroup (with missing parents) and moves pid in; a
	// pid <= 0 only creates. Joining an existing cgroup is fine.
	Apply(pid int) error
	// Set writes every resource; one the host cannot honour is an error
	// naming its field, unless it is unset.
	Set(r *specs.LinuxResources) error
	Freeze() error
	Thaw() error
	// FreezerState is "frozen" or "thawed".
	FreezerState() (string, error)
	// Pids lists every process in the cgroup, recursively.
	Pids() ([]int, error)
	Stats() (*Stats, error)
	// OOMNotify signals once per OOM kill; closed when the cgroup goes.
	OOMNotify() (<-chan struct{}, error)
	// Destroy removes the cgroup, its children and the empty parent
	// levels of its path. It kills nothing: an occupied cgroup is an
	// error.
	Destroy() error
	// Paths maps each v1 controller, and "" for cgroup v2, to the
	// absolute directory; persist it and hand it to Load.
	Paths() map[string]string
}

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
// Apply.
func New(c Config) (Manager, error) {
	h, err := cgfs.Detect()
	if err != nil {
		return nil, err
	}
	if c.Systemd {
		sc, err := systemd.ParsePath(c.Path, c.Name)
		if err != nil {
			return nil, err
		}
		conn, err := systemd.Connect(c.Rootless)
		if err != nil {
			return nil, err
		}
		inner, err := newFS(h, sc.CgroupPath(), 1, c.Rootless)
		if err != nil {
			conn.Close()
			return nil, err
		}
		return systemd.New(sc, conn, inner, h.Mode == Legacy || h.Mode == Hybrid), nil
	}
	path := c.Path
	if path == "" {
		if c.Name == "" {
			return nil, fmt.Errorf("cgroups: neither a path nor a container name")
		}
		path = "/" + c.Name
	}
	if slices.Contains(strings.Split(path, "/"), "..") {
		return nil, fmt.Errorf("linux.cgroupsPath: %q must not contain \"..\"", c.Path)
	}
	return newFS(h, path, cgfs.Depth(path), c.Rootless)
}

// newFS picks the driver for the host; depth is how many trailing levels
// of path the container owns (a systemd scope owns one: never its slice).
func newFS(h *cgfs.Host, path string, depth int, rootless bool) (Manager, error) {
	switch h.Mode {
	case cgfs.Legacy:
		return fs1.New(h, path, depth, rootless), nil
	case cgfs.Unified:
		return fs2.New(fs2.Config{
			Mount: h.V2.Point, Dir: h.V2.Dir(cgfs.Resolve(path, h.Own[""])),
			Depth: depth, Rootless: rootless,
		}), nil
	case cgfs.Hybrid:
		return hybrid.New(fs1.New(h, path, depth, rootless), fs2.New(fs2.Config{
			Mount: h.V2.Point, Dir: h.V2.Dir(cgfs.Resolve(path, h.Own[""])),
			Depth: depth, Controllers: []string{}, Rootless: rootless,
		}), h.V2.Point, h), nil
	}
	return nil, fmt.Errorf("cgroups: no cgroup hierarchy is mounted")
}

// Load rebuilds the manager of an existing container from the paths its
// manager reported; c must be the Config it was created with.
func Load(c Config, paths map[string]string) (Manager, error) {
	h, err := cgfs.Detect()
	if err != nil {
		return nil, err
	}
	path := c.Path
	if c.Systemd {
		sc, err := systemd.ParsePath(c.Path, c.Name)
		if err != nil {
			return nil, err
		}
		path = sc.CgroupPath()
	} else if path == "" {
		path = "/" + c.Name
	}
	depth := cgfs.Depth(path)
	if c.Systemd {
		depth = 1
	}
	var inner Manager
	unified, hasV2 := paths[""]
	v1paths := map[string]string{}
	for k, v := range paths {
		if k != "" {
			v1paths[k] = v
		}
	}
	switch {
	case hasV2 && len(v1paths) == 0:
		inner = fs2.New(fs2.Config{Mount: h.V2.Point, Dir: unified, Depth: depth, Rootless: c.Rootless})
	case hasV2:
		inner = hybrid.New(fs1.Load(v1paths, depth, c.Rootless),
			fs2.New(fs2.Config{Mount: h.V2.Point, Dir: unified, Depth: depth, Controllers: []string{}, Rootless: c.Rootless}),
			h.V2.Point, h)
	case len(v1paths) > 0:
		inner = fs1.Load(v1paths, depth, c.Rootless)
	default:
		return nil, fmt.Errorf("cgroups: no paths to load for container %s", c.Name)
	}
	if c.Systemd {
		sc, _ := systemd.ParsePath(c.Path, c.Name)
		conn, err := systemd.Connect(c.Rootless)
		if err != nil {
			return nil, err
		}
		return systemd.New(sc, conn, inner, h.Mode != Unified), nil
	}
	return inner, nil
}

var (
	_ Manager = (*fs1.Manager)(nil)
	_ Manager = (*fs2.Manager)(nil)
	_ Manager = (*hybrid.Manager)(nil)
	_ Manager = (*systemd.Manager)(nil)
)
