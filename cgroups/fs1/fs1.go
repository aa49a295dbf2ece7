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
	"strings"

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
	paths map[string]string // controller or "name=…" → absolute directory
	// existing are the directories that were there before the container:
	// it joined them, and Destroy leaves them to whoever made them.
	existing map[string]bool
	rootless bool
}

// Paths resolves cgroupsPath (absolute, or relative to rt's own cgroup in
// each hierarchy) in every v1 hierarchy of h: those with a controller rt
// drives, and the named ones (name=systemd), where a container's processes
// are grouped too, as runc and crun do.
func Paths(h *cgfs.Host, cgroupsPath string) map[string]string {
	paths := map[string]string{}
	for _, c := range controllers {
		if mnt, ok := h.V1[c.name]; ok {
			paths[c.name] = mnt.Dir(cgfs.Resolve(cgroupsPath, h.Own[c.name]))
		}
	}
	for name, mnt := range h.V1 {
		if strings.HasPrefix(name, "name=") {
			paths[name] = mnt.Dir(cgfs.Resolve(cgroupsPath, h.Own[name]))
		}
	}
	return paths
}

// New returns the manager of the cgroup at paths (from Paths or persisted);
// nothing is created yet. existing lists the keys of paths whose directory
// was there before the container (see Existing).
func New(paths map[string]string, existing []string, rootless bool) *Manager {
	m := &Manager{paths: maps.Clone(paths), existing: map[string]bool{}, rootless: rootless}
	for _, k := range existing {
		if dir, ok := paths[k]; ok {
			m.existing[dir] = true
		}
	}
	return m
}

// Paths returns controller → directory.
func (m *Manager) Paths() map[string]string { return maps.Clone(m.paths) }

// Existing lists the keys of Paths whose directory the container joined
// rather than made.
func (m *Manager) Existing() []string {
	var out []string
	for k, dir := range m.paths {
		if m.existing[dir] {
			out = append(out, k)
		}
	}
	sort.Strings(out)
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

// hierarchies lists the keys of paths in the order Apply joins them: the
// controllers in their order (cpuset first), then the named hierarchies.
func (m *Manager) hierarchies() []string {
	var out []string
	for _, c := range controllers {
		if _, ok := m.paths[c.name]; ok {
			out = append(out, c.name)
		}
	}
	var named []string
	for k := range m.paths {
		if strings.HasPrefix(k, "name=") {
			named = append(named, k)
		}
	}
	sort.Strings(named)
	return append(out, named...)
}

// Apply creates the cgroup in every hierarchy and moves pid into it; a
// pid <= 0 only creates. An existing cgroup is joined as it is.
func (m *Manager) Apply(pid int) error {
	done := map[string]bool{}
	for _, name := range m.hierarchies() {
		dir := m.paths[name]
		if done[dir] {
			continue
		}
		// A cpuset level is unusable until it has cpus and mems, also
		// where cpuset is co-mounted with another controller: from the
		// highest empty one an engine or another container left, every
		// level gets its parent's.
		base, each := existingAncestor(dir), (func(string) error)(nil)
		if name == "cpuset" || dir == m.paths["cpuset"] {
			base, each = cpusetBase(base), ensureCpuset
		}
		if err := cgfs.Mkdir(base, dir, each); err != nil {
			if m.rootless && isPermission(err) {
				delete(m.paths, name)
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

// Joinable checks the directories the container would join but did not
// make for processes, and the freezer state the container would get.
func (m *Manager) Joinable() error {
	for _, dir := range m.dirs() {
		if m.existing[dir] {
			if err := cgfs.CheckEmpty(dir); err != nil && !(m.rootless && isPermission(err)) {
				return err
			}
		}
	}
	dir, ok := m.paths["freezer"]
	if !ok {
		return nil
	}
	// A cgroup not made yet is born with the state of its nearest
	// existing ancestor; the root has no freezer.state and is never frozen.
	at := existingAncestor(dir)
	if !cgfs.Exists(at, "freezer.state") {
		return nil
	}
	state, err := cgfs.Read(at, "freezer.state")
	if err != nil {
		if m.rootless && isPermission(err) {
			return nil
		}
		return fmt.Errorf("read freezer state of %s: %w", at, err)
	}
	if state != "THAWED" {
		return cgfs.ErrFrozen(at)
	}
	return nil
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

// Destroy removes the container's cgroup (and the cgroups below it) from
// every hierarchy where the container made it. Parents stay, whoever made
// them: other containers may be created below them at any moment.
func (m *Manager) Destroy() error {
	var errs []error
	for _, dir := range m.dirs() {
		if m.existing[dir] {
			continue
		}
		if err := cgfs.RemoveTree(dir); err != nil {
			errs = append(errs, err)
		}
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
