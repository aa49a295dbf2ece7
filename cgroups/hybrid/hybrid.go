// Package hybrid drives hosts that mount v1 controllers and also a
// cgroup2 hierarchy (usually /sys/fs/cgroup/unified) holding whatever
// controllers v1 did not claim: a container gets a cgroup in both, and
// each resource goes to the hierarchy that has its controller.
package hybrid

import (
	"errors"
	"maps"
	"slices"
	"strings"

	"github.com/opencontainers/runtime-spec/specs-go"
	"github.com/rtproject/rt/cgroups/fs1"
	"github.com/rtproject/rt/cgroups/fs2"
	"github.com/rtproject/rt/cgroups/internal/cgfs"
)

// Manager is a container's cgroups on a hybrid host.
type Manager struct {
	V1 *fs1.Manager
	V2 *fs2.Manager
	// v2Controllers are the controllers the cgroup2 mount offers that v1
	// does not have mounted.
	v2Controllers []string
}

// New combines the two; v2Mount is the cgroup2 mount point, h tells
// which controllers v1 has.
func New(v1 *fs1.Manager, v2 *fs2.Manager, v2Mount string, h *cgfs.Host) *Manager {
	m := &Manager{V1: v1, V2: v2}
	avail, _ := cgfs.Read(v2Mount, "cgroup.controllers")
	for _, c := range strings.Fields(avail) {
		if _, inV1 := h.V1[c]; !inV1 {
			m.v2Controllers = append(m.v2Controllers, c)
		}
	}
	return m
}

func (m *Manager) Apply(pid int) error {
	if err := m.V1.Apply(pid); err != nil {
		return err
	}
	if err := m.V2.Apply(pid); err != nil {
		return errors.Join(err, m.V1.Destroy())
	}
	return nil
}

// Joinable checks both sides: a process frozen in either is frozen.
func (m *Manager) Joinable() error {
	if err := m.V1.Joinable(); err != nil {
		return err
	}
	return m.V2.Joinable()
}

// routes says which resources belong to which v2 controller; a resource
// moves to v2 when its controller lives there.
var routes = []struct {
	controller string
	move       func(from, to *specs.LinuxResources)
}{
	{"hugetlb", func(f, t *specs.LinuxResources) { t.HugepageLimits, f.HugepageLimits = f.HugepageLimits, nil }},
	{"rdma", func(f, t *specs.LinuxResources) { t.Rdma, f.Rdma = f.Rdma, nil }},
	{"pids", func(f, t *specs.LinuxResources) { t.Pids, f.Pids = f.Pids, nil }},
	{"io", func(f, t *specs.LinuxResources) { t.BlockIO, f.BlockIO = f.BlockIO, nil }},
	{"memory", func(f, t *specs.LinuxResources) { t.Memory, f.Memory = f.Memory, nil }},
}

// Split divides r between the hierarchies.
func (m *Manager) Split(r *specs.LinuxResources) (v1, v2 *specs.LinuxResources) {
	a, b := *r, specs.LinuxResources{Unified: r.Unified}
	a.Unified = nil
	for _, rt := range routes {
		if slices.Contains(m.v2Controllers, rt.controller) {
			rt.move(&a, &b)
		}
	}
	return &a, &b
}

func (m *Manager) Set(r *specs.LinuxResources) error {
	if r == nil {
		return nil
	}
	v1, v2 := m.Split(r)
	if err := m.V1.Set(v1); err != nil {
		return err
	}
	return m.V2.Set(v2)
}

// Freeze prefers the v1 freezer; without it cgroup.freeze on the v2 side
// does the job.
func (m *Manager) Freeze() error {
	if _, ok := m.V1.Paths()["freezer"]; ok {
		return m.V1.Freeze()
	}
	return m.V2.Freeze()
}

func (m *Manager) Thaw() error {
	if _, ok := m.V1.Paths()["freezer"]; ok {
		return m.V1.Thaw()
	}
	return m.V2.Thaw()
}

func (m *Manager) FreezerState() (string, error) {
	if _, ok := m.V1.Paths()["freezer"]; ok {
		return m.V1.FreezerState()
	}
	return m.V2.FreezerState()
}

func (m *Manager) Pids() ([]int, error) { return m.V1.Pids() }

// Stats merges the v2 side's counters for the controllers only it has.
func (m *Manager) Stats() (*cgfs.Stats, error) {
	s, err := m.V1.Stats()
	if err != nil {
		return nil, err
	}
	s2, err := m.V2.Stats()
	if err != nil {
		return nil, err
	}
	for k, v := range s2.Hugetlb {
		s.Hugetlb[k] = v
	}
	if slices.Contains(m.v2Controllers, "pids") {
		s.Pids = s2.Pids
	}
	if slices.Contains(m.v2Controllers, "memory") {
		s.Memory = s2.Memory
	}
	if slices.Contains(m.v2Controllers, "io") {
		s.Blkio = s2.Blkio
	}
	return s, nil
}

func (m *Manager) OOMNotify() (<-chan struct{}, error) {
	if slices.Contains(m.v2Controllers, "memory") {
		return m.V2.OOMNotify()
	}
	return m.V1.OOMNotify()
}

func (m *Manager) Destroy() error {
	return errors.Join(m.V1.Destroy(), m.V2.Destroy())
}

// Existing joins both sides' lists.
func (m *Manager) Existing() []string { return append(m.V1.Existing(), m.V2.Existing()...) }

// Paths has the v1 controllers and the cgroup2 directory under "".
func (m *Manager) Paths() map[string]string {
	p := m.V1.Paths()
	maps.Copy(p, m.V2.Paths())
	return p
}
