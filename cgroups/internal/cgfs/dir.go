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
// directory), calling created for each level it made, top-down, so that
// callers can initialise a new level before the next is made below it
// (v1 cpuset needs that).
//
// A parent can vanish between its EEXIST and the mkdir below it: another
// container's Destroy removes the empty parent levels it shares with this
// one ("a/<id1>", "a/<id2>" created and deleted in parallel). Then the walk
// starts again from root.
func Mkdir(root, dir string, created func(dir string) error) error {
	rel, err := filepath.Rel(root, dir)
	if err != nil || rel == ".." || filepath.IsAbs(rel) || (len(rel) > 2 && rel[:3] == "../") {
		return fmt.Errorf("cgroup %s is not below %s", dir, root)
	}
	if rel == "." {
		return nil
	}
	for attempt := 0; ; attempt++ {
		err := mkdirAll(root, splitPath(rel), created)
		if !errors.Is(err, os.ErrNotExist) || attempt >= 10 {
			return err
		}
	}
}

func mkdirAll(root string, parts []string, created func(dir string) error) error {
	cur := root
	for _, part := range parts {
		cur = filepath.Join(cur, part)
		err := NewDir(cur)
		if errors.Is(err, os.ErrExist) {
			continue
		}
		if err != nil {
			return fmt.Errorf("create cgroup %s: %w", cur, err)
		}
		if created != nil {
			if err := created(cur); err != nil {
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

func rmdir(dir string) error {
	delay := time.Millisecond
	for i := 0; ; i++ {
		err := unix.Rmdir(dir)
		if err == nil || errors.Is(err, unix.ENOENT) {
			return nil
		}
		if !errors.Is(err, unix.EBUSY) || i >= 12 {
			return fmt.Errorf("remove cgroup %s: %w", dir, err)
		}
		time.Sleep(delay)
		if delay < 100*time.Millisecond {
			delay *= 2
		}
	}
}

// RemoveEmptyParents removes up to levels ancestors of dir, stopping at the
// first that is still in use, so that nesting created for a container
// ("a/b/<id>") does not outlive it.
func RemoveEmptyParents(dir string, levels int) {
	for ; levels > 0; levels-- {
		dir = filepath.Dir(dir)
		if err := unix.Rmdir(dir); err != nil {
			return
		}
	}
}
