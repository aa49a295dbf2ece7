package cgfs

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"golang.org/x/sys/unix"
)

// NewDir makes one cgroup directory. Tests on a fake cgroupfs replace it
// (cgtest.FakeFS) to do what the kernel does: fill a new cgroup with its
// interface files.
var NewDir = func(dir string) error { return os.Mkdir(dir, 0o755) }

// Mkdir creates dir and its missing parents below root (an existing
// directory). each, when not nil, is called for every level from the top
// down, whether Mkdir made it or found it, so that a level can be completed
// before the next is made below it (v1 cpuset needs that, also for levels
// another container or an engine made).
//
// Containers are created and deleted side by side under shared parents, and
// rt never removes a parent, but others may: a level that vanishes under us
// is made again.
func Mkdir(root, dir string, each func(dir string) error) error {
	rel, err := filepath.Rel(root, dir)
	if err != nil || rel == ".." || filepath.IsAbs(rel) || (len(rel) > 2 && rel[:3] == "../") {
		return fmt.Errorf("cgroup %s is not below %s", dir, root)
	}
	if rel == "." {
		return nil
	}
	for attempt := 0; ; attempt++ {
		err := mkdirLevels(root, splitPath(rel), each)
		if err == nil || !errors.Is(err, os.ErrNotExist) || attempt >= 10 {
			return err
		}
	}
}

func mkdirLevels(root string, parts []string, each func(dir string) error) error {
	cur := root
	for _, part := range parts {
		cur = filepath.Join(cur, part)
		if err := NewDir(cur); err != nil && !errors.Is(err, os.ErrExist) {
			return fmt.Errorf("create cgroup %s: %w", cur, err)
		}
		if each != nil {
			if err := each(cur); err != nil {
				return err
			}
		}
	}
	return nil
}

func splitPath(rel string) []string {
	var parts []string
	for rel != "." && rel != "/" && rel != "" {
		d, f := filepath.Split(rel)
		parts = append([]string{f}, parts...)
		rel = filepath.Clean(d)
	}
	return parts
}

// RemoveTree removes the cgroup dir and every cgroup below it, children
// first. A cgroup whose last task has just exited can still report EBUSY
// for a moment, so rmdir is retried briefly. A dir already gone is fine.
func RemoveTree(dir string) error {
	entries, err := os.ReadDir(dir)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return nil
		}
		return fmt.Errorf("remove cgroup %s: %w", dir, err)
	}
	for _, e := range entries {
		if e.IsDir() {
			if err := RemoveTree(filepath.Join(dir, e.Name())); err != nil {
				return err
			}
		}
	}
	return rmdir(dir)
}

// rmdirPatience bounds the EBUSY retries: a task that has exited still
// counts in its cgroup until the kernel has finished with it, which on a
// loaded machine can take well after its parent saw it die (0.6 s was once
// not enough with 50 containers deleted at once on 2 cores).
const rmdirPatience = 2 * time.Second

func rmdir(dir string) error {
	delay := time.Millisecond
	deadline := time.Now().Add(rmdirPatience)
	for {
		err := unix.Rmdir(dir)
		if err == nil || errors.Is(err, unix.ENOENT) {
			return nil
		}
		if !errors.Is(err, unix.EBUSY) || time.Now().After(deadline) {
			return fmt.Errorf("remove cgroup %s: %w", dir, err)
		}
		time.Sleep(delay)
		if delay < 100*time.Millisecond {
			delay *= 2
		}
	}
}

// NearestExisting returns dir, or its closest ancestor that exists, not
// above mount: a cgroup not made yet is born with that one's freezer state.
func NearestExisting(mount, dir string) string {
	for {
		if _, err := os.Stat(dir); err == nil || dir == mount || len(dir) <= len(mount) {
			return dir
		}
		dir = filepath.Dir(dir)
	}
}

// CheckEmpty fails with the message runc gives when a cgroup the container
// is to join holds processes already: a second container there would share
// its limits, be paused with it, and be killed by its delete.
func CheckEmpty(dir string) error {
	pids, err := Procs(dir)
	if err != nil && !IsNotExist(err) {
		return fmt.Errorf("list the processes of cgroup %s: %w", dir, err)
	}
	if len(pids) > 0 {
		return fmt.Errorf("container's cgroup is not empty: %d process(es) in %s", len(pids), dir)
	}
	return nil
}

// ErrFrozen is runc's message for a cgroup (or a parent of one not made yet)
// that is frozen: the init would be frozen the moment it joined, and every
// command waiting for it would wait until someone thawed it.
func ErrFrozen(dir string) error {
	return fmt.Errorf("container's cgroup unexpectedly frozen (%s)", dir)
}
