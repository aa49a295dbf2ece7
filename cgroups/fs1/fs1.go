// Package fs1 drives cgroup v1 hierarchies through their files: one
// directory per controller, each controller's knobs in its own file here.
package fs1

import (
	"errors"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"sort"
	"strconv"

	"github.com/opencontainers/runtime-spec/specs-go"
	"github.com/rtproject/rt/cgroups/internal/cgfs"
)

// controller is one v1 subsystem: set writes its part of the resources,
// stats reads its counters, wants names the first resource field it would
// have to honour (so its absence can be reported).
type controller struct {
	name  string
	set   func(dir string, r *specs.LinuxResources) error
	stats func(dir string, s *cgfs.Stats) error
	wants func(r *specs.LinuxResources) string
}

// controllers in the order their settings are written: cpuset first
// because a task cannot run in a cpuset without cpus, freezer last.
var controllers = []controller{
	{"cpuset", setCpuset, statsCpuset, wantsCpuset},
	{"devices", setDevices, nil, wantsDevices},
	{"memory", setMemory, statsMemory, wantsMemory},
	{"cpu", setCPU, statsCPU, wantsCPU},
	{"cpuacct", nil, statsCpuacct, nil},
	{"pids", setPids, statsPids, wantsPids},
	{"blkio", setBlkio, statsBlkio, wantsBlkio},
	{"hugetlb", setHugetlb, statsHugetlb, wantsHugetlb},
	{"net_cls", setNetCls, nil, wantsNetCls},
	{"net_prio", setNetPrio, nil, wantsNetPrio},
	{"perf_event", nil, nil, nil},
	{"freezer", nil, nil, nil},
	{"rdma", setRdma, nil, wantsRdma},
	{"misc", nil, nil, nil},
}

// Manager is a container's cgroup in every mounted v1 hierarchy.
type Manager struct {
	paths    map[string]string // controller → absolute directory
	depth    int               // levels of the cgroups path, for cleanup
	rootless bool
}

// Paths resolves cgroupsPath (absolute, or relative to rt's own cgroup in
// each hierarchy) in every v1 hierarchy of h that has a controller rt drives.
func Paths(h *cgfs.Host, cgroupsPath string) map[string]string {
	paths := map[string]string{}
	for _, c := range controllers {
		if mnt, ok := h.V1[c.name]; ok {
			paths[c.name] = mnt.Dir(cgfs.Resolve(cgroupsPath, h.Own[c.name]))
		}
	}
	return paths
}

// New returns the manager of the cgroup at paths (controller → directory,
// from Paths or persisted); nothing is created yet. depth is how many
// trailing levels of the path belong to the container and may be removed by
// Destroy when empty.
func New(paths map[string]string, depth int, rootless bool) *Manager {
	return &Manager{paths: maps.Clone(paths), depth: depth, rootless: rootless}
}

// Paths returns controller → directory.
func (m *Manager) Paths() map[string]string {
	out := make(map[string]string, len(m.paths))
	for k, v := range m.paths {
		out[k] = v
	}
	return out
}

// dirs returns the distinct directories (co-mounted controllers share one).
func (m *Manager) dirs() []string {
	seen := map[string]bool{}
	var out []string
	for _, d := range m.paths {
		if !seen[d] {
			seen[d] = true
			out = append(out, d)
		}
	}
	sort.Strings(out)
	return out
}

// Apply creates the cgroup in every hierarchy and moves pid into it; a
// pid <= 0 only creates. An existing cgroup is joined as it is.
func (m *Manager) Apply(pid int) error {
	done := map[string]bool{}
	for _, c := range controllers {
		dir, ok := m.paths[c.name]
		if !ok || done[dir] {
			continue
		}
		// A new cpuset level is unusable until it has cpus and mems, also
		// where cpuset is co-mounted with another controller.
		var init func(string) error
		if c.name == "cpuset" || dir == m.paths["cpuset"] {
			init = copyParentCpuset
		}
		if err := cgfs.Mkdir(existingAncestor(dir), dir, init); err != nil {
			if m.rootless && isPermission(err) {
				delete(m.paths, c.name)
				continue
			}
			return err
		}
		done[dir] = true
		if pid > 0 {
			if err := cgfs.Write(dir, "cgroup.procs", strconv.Itoa(pid)); err != nil {
				if m.rootless && isPermission(err) {
					continue
				}
				return fmt.Errorf("move pid %d into cgroup: %w", pid, err)
			}
		}
	}
	return nil
}

// existingAncestor is the deepest directory of dir's path that exists: the
// levels below it are the ones Apply creates.
func existingAncestor(dir string) string {
	for d := dir; ; d = filepath.Dir(d) {
		if fi, err := os.Stat(d); err == nil && fi.IsDir() || d == "/" {
			return d
		}
	}
}

func isPermission(err error) bool { return cgfs.IsPermission(err) }

// Set writes every resource. A resource asked for whose controller is not
// mounted is an error naming the field.
func (m *Manager) Set(r *specs.LinuxResources) error {
	if r == nil {
		return nil
	}
	for _, c := range controllers {
		dir, ok := m.paths[c.name]
		if !ok {
			// Device rules are always sent (rt's defaults): a rootless
			// container does without them, its user namespace makes no nodes.
			if c.wants == nil || m.rootless && c.name == "devices" {
				continue
			}
			if field := c.wants(r); field != "" {
				if m.rootless {
					return fmt.Errorf("linux.resources.%s: rt runs rootless and has no cgroup v1 %s hierarchy to write (none is mounted, or none delegated to uid %d)", field, c.name, os.Geteuid())
				}
				return fmt.Errorf("linux.resources.%s: the cgroup v1 %s controller is not mounted on this host", field, c.name)
			}
			continue
		}
		if c.set == nil {
			continue
		}
		if err := c.set(dir, r); err != nil {
			if m.rootless && isPermission(err) {
				continue
			}
			return err
		}
	}
	return nil
}

// Stats reads the counters of every mounted controller.
func (m *Manager) Stats() (*cgfs.Stats, error) {
	s := cgfs.NewStats()
	for _, c := range controllers {
		dir, ok := m.paths[c.name]
		if !ok || c.stats == nil {
			continue
		}
		if err := c.stats(dir, s); err != nil {
			return nil, fmt.Errorf("%s stats: %w", c.name, err)
		}
	}
	return s, nil
}

// Pids lists every process in the container's cgroup and below it.
func (m *Manager) Pids() ([]int, error) {
	for _, name := range []string{"freezer", "pids", "memory", "devices", "cpu", "cpuacct", "cpuset", "blkio"} {
		if dir, ok := m.paths[name]; ok {
			return cgfs.Procs(dir)
		}
	}
	return nil, errors.New("list container pids: no cgroup v1 hierarchy joined")
}

// Destroy removes the cgroup (and its children) from every hierarchy, then
// any parent levels of the cgroups path that are left empty.
func (m *Manager) Destroy() error {
	var errs []error
	for _, dir := range m.dirs() {
		if err := cgfs.RemoveTree(dir); err != nil {
			errs = append(errs, err)
			continue
		}
		cgfs.RemoveEmptyParents(dir, m.depth-1)
	}
	return errors.Join(errs...)
}

// Exists reports whether the container's cgroup is still there.
func (m *Manager) Exists() bool {
	for _, dir := range m.paths {
		if _, err := os.Stat(dir); err == nil {
			return true
		}
	}
	return false
}
