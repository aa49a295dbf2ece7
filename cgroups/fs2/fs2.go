// Package fs2 drives the unified cgroup v2 hierarchy: one directory per
// cgroup, controllers enabled along the path through cgroup.subtree_control.
package fs2

import (
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/rtproject/rt/cgroups/internal/cgfs"
)

// Config locates a cgroup on a cgroup2 mount.
type Config struct {
	Mount string // where the hierarchy is mounted
	Dir   string // the container's cgroup, absolute, below Mount
	// Existing is set when Dir was there before the container, which
	// joined it: Destroy leaves it to whoever made it.
	Existing bool
	// Controllers to enable for the cgroup at Apply; nil means every one
	// the parent offers. Set enables what a resource needs on demand.
	Controllers []string
	Rootless    bool
}

// Manager is a container's cgroup v2.
type Manager struct {
	c Config
	// absent: Rootless, and the cgroup could not be made; the container
	// stays in rt's own cgroup and the manager reports no path.
	absent bool
}

// New returns a manager for c; nothing is created until Apply.
func New(c Config) *Manager {
	c.Dir = filepath.Clean(c.Dir)
	return &Manager{c: c}
}

// Dir is the container's cgroup directory.
func (m *Manager) Dir() string { return m.c.Dir }

// Paths has the cgroup under the key "" (the unified hierarchy), or
// nothing when it is absent.
func (m *Manager) Paths() map[string]string {
	if m.absent {
		return map[string]string{}
	}
	return map[string]string{"": m.c.Dir}
}

// Existing is [""] when the container joined a cgroup it did not make.
func (m *Manager) Existing() []string {
	if m.c.Existing {
		return []string{""}
	}
	return nil
}

// Apply creates the cgroup with its parents, enables controllers along
// the path, and moves pid in (pid <= 0 only creates).
func (m *Manager) Apply(pid int) error {
	if err := cgfs.Mkdir(m.c.Mount, m.c.Dir, nil); err != nil {
		if m.c.Rootless && isPermission(err) {
			m.absent = true
			return nil
		}
		return err
	}
	want := m.c.Controllers
	if want == nil {
		avail, err := cgfs.Read(m.c.Mount, "cgroup.controllers")
		if err != nil {
			return fmt.Errorf("list cgroup v2 controllers: %w", err)
		}
		want = strings.Fields(avail)
	}
	if err := m.enable(want); err != nil && !(m.c.Rootless && isPermission(err)) {
		return err
	}
	if pid > 0 {
		if err := cgfs.Write(m.c.Dir, "cgroup.procs", strconv.Itoa(pid)); err != nil {
			return fmt.Errorf("move pid %d into cgroup: %w", pid, err)
		}
	}
	return nil
}

// enable turns controllers on in every level's cgroup.subtree_control from
// the mount down to the cgroup's parent, skipping ones a level does not
// offer (the cgroup then simply lacks their files).
func (m *Manager) enable(controllers []string) error {
	if len(controllers) == 0 {
		return nil
	}
	rel, err := filepath.Rel(m.c.Mount, filepath.Dir(m.c.Dir))
	if err != nil || strings.HasPrefix(rel, "..") {
		return fmt.Errorf("cgroup %s is not below %s", m.c.Dir, m.c.Mount)
	}
	levels := []string{m.c.Mount}
	if rel != "." {
		cur := m.c.Mount
		for _, p := range strings.Split(rel, "/") {
			cur = filepath.Join(cur, p)
			levels = append(levels, cur)
		}
	}
	for _, dir := range levels {
		avail, err := cgfs.Read(dir, "cgroup.controllers")
		if err != nil {
			return fmt.Errorf("list controllers of %s: %w", dir, err)
		}
		enabled, _ := cgfs.Read(dir, "cgroup.subtree_control")
		var add []string
		for _, c := range controllers {
			if slices.Contains(strings.Fields(avail), c) && !slices.Contains(strings.Fields(enabled), c) {
				add = append(add, "+"+c)
			}
		}
		if len(add) == 0 {
			continue
		}
		if err := cgfs.Write(dir, "cgroup.subtree_control", strings.Join(add, " ")); err != nil {
			return fmt.Errorf("enable controllers %v: %w", add, err)
		}
	}
	return nil
}

// require makes sure the cgroup has controller c, enabling it along the
// path if needed, and names field in the error when the host lacks it.
func (m *Manager) require(c, field string) error {
	if has(m.c.Dir, c) {
		return nil
	}
	if err := m.enable([]string{c}); err != nil {
		return fmt.Errorf("linux.resources.%s: %w", field, err)
	}
	if !has(m.c.Dir, c) {
		return fmt.Errorf("linux.resources.%s: invalid configuration: the cgroup v2 %s controller is not available on this host", field, c)
	}
	return nil
}

func has(dir, controller string) bool {
	avail, err := cgfs.Read(dir, "cgroup.controllers")
	return err == nil && slices.Contains(strings.Fields(avail), controller)
}

// Pids lists every process in the cgroup and below it.
func (m *Manager) Pids() ([]int, error) { return cgfs.Procs(m.c.Dir) }

// Destroy removes the cgroup and its children, if the container made it.
// Parents stay, whoever made them: other containers may be created below
// them at any moment.
func (m *Manager) Destroy() error {
	if m.c.Existing {
		return nil
	}
	return cgfs.RemoveTree(m.c.Dir)
}

// Freeze uses cgroup.freeze and waits for cgroup.events to say frozen.
func (m *Manager) Freeze() error { return m.freeze("1") }

// Thaw resumes the cgroup.
func (m *Manager) Thaw() error { return m.freeze("0") }

func (m *Manager) freeze(v string) error {
	if err := cgfs.Write(m.c.Dir, "cgroup.freeze", v); err != nil {
		return err
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		got, err := frozen(m.c.Dir)
		if err != nil {
			return err
		}
		if got == v {
			return nil
		}
		if time.Now().After(deadline) {
			if v == "1" {
				_ = cgfs.Write(m.c.Dir, "cgroup.freeze", "0")
			}
			return fmt.Errorf("cgroup %s: not frozen=%s after 10s", m.c.Dir, v)
		}
		time.Sleep(time.Millisecond)
	}
}

// frozen reads the "frozen" key of cgroup.events, the kernel's report
// of the actual state (cgroup.freeze is only the request).
func frozen(dir string) (string, error) {
	ev, err := cgfs.ReadKeyValues(dir, "cgroup.events")
	if err != nil {
		return "", err
	}
	v, ok := ev["frozen"]
	if !ok {
		return "", errors.New("this kernel has no cgroup v2 freezer (no frozen in cgroup.events)")
	}
	return strconv.FormatUint(v, 10), nil
}

// Joinable checks a cgroup the container did not make for processes, and
// the freezer state the container would get.
func (m *Manager) Joinable() error {
	if m.c.Existing {
		if err := cgfs.CheckEmpty(m.c.Dir); err != nil {
			return err
		}
	}
	at := cgfs.NearestExisting(m.c.Mount, m.c.Dir)
	if at == m.c.Mount {
		return nil // the root cannot be frozen
	}
	if v, err := frozen(at); err == nil && v == "1" {
		return cgfs.ErrFrozen(at)
	}
	if v, err := cgfs.Read(at, "cgroup.freeze"); err == nil && v == "1" {
		return cgfs.ErrFrozen(at)
	}
	return nil
}

// FreezerState is "frozen" or "thawed".
func (m *Manager) FreezerState() (string, error) {
	v, err := frozen(m.c.Dir)
	if err != nil {
		return "", err
	}
	if v == "1" {
		return "frozen", nil
	}
	return "thawed", nil
}

func isPermission(err error) bool { return cgfs.IsPermission(err) }
