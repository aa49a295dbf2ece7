package fs1

import (
	"errors"
	"fmt"
	"time"

	"github.com/rtproject/rt/cgroups/internal/cgfs"
)

var errNoFreezer = errors.New("the cgroup v1 freezer controller is not mounted on this host")

// Freeze freezes every task of the cgroup and waits until the kernel
// reports FROZEN (tasks in uninterruptible sleep keep it FREEZING a while).
func (m *Manager) Freeze() error {
	return m.setFreezer("FROZEN")
}

// Thaw resumes the cgroup's tasks.
func (m *Manager) Thaw() error {
	return m.setFreezer("THAWED")
}

func (m *Manager) setFreezer(want string) error {
	dir, ok := m.paths["freezer"]
	if !ok {
		return errNoFreezer
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		if err := cgfs.Write(dir, "freezer.state", want); err != nil {
			return err
		}
		got, err := cgfs.Read(dir, "freezer.state")
		if err != nil {
			return err
		}
		if got == want {
			return nil
		}
		if time.Now().After(deadline) {
			if want == "FROZEN" {
				_ = cgfs.Write(dir, "freezer.state", "THAWED")
			}
			return fmt.Errorf("cgroup %s: freezer stuck in %s, wanted %s", dir, got, want)
		}
		time.Sleep(time.Millisecond)
	}
}

// FreezerState is "frozen" or "thawed"; a cgroup still FREEZING counts
// as thawed because its tasks may still run.
func (m *Manager) FreezerState() (string, error) {
	dir, ok := m.paths["freezer"]
	if !ok {
		return "thawed", nil
	}
	s, err := cgfs.Read(dir, "freezer.state")
	if err != nil {
		return "", err
	}
	if s == "FROZEN" {
		return "frozen", nil
	}
	return "thawed", nil
}
