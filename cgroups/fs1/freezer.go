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

// FreezerState is "frozen" or "thawed". FREEZING is passed through while
// the kernel gets there: a task that joins a frozen cgroup (exec
// --ignore-paused) makes it FREEZING until that task is frozen too. A
// cgroup still FREEZING after that counts as frozen when it was asked to
// freeze itself (freezer.self_freezing), thawed otherwise: its tasks may
// still run, but only resume undoes the request.
func (m *Manager) FreezerState() (string, error) {
	dir, ok := m.paths["freezer"]
	if !ok {
		return "thawed", nil
	}
	for i := 0; ; i++ {
		s, err := cgfs.Read(dir, "freezer.state")
		if err != nil {
			return "", err
		}
		switch {
		case s == "FROZEN":
			return "frozen", nil
		case s != "FREEZING":
			return "thawed", nil
		case i < 100:
			time.Sleep(time.Millisecond)
			continue
		}
		if self, err := cgfs.Read(dir, "freezer.self_freezing"); err == nil && self == "1" {
			return "frozen", nil
		}
		return "thawed", nil
	}
}
