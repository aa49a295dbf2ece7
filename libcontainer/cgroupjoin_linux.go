package libcontainer

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"

	"golang.org/x/sys/unix"

	"github.com/rtproject/rt/cgroups"
)

// cgroupEntry is how a child rt starts is born in the container's cgroups
// rather than moved there. Moving a running process writes its pid to
// cgroup.procs, which takes the kernel's global threadgroup lock for writing
// and so waits for an RCU grace period: 5 to 30 ms on a busy machine, on the
// critical path of every create and exec. Instead, nsenter.Spawn's
// intermediate, single-threaded, writes "0" to each v1 hierarchy's tasks
// file (a thread moving itself needs no lock) before it creates the child,
// and on cgroup v2 the intermediate is cloned into its cgroup
// (CLONE_INTO_CGROUP).
//
// The memory hierarchy (v1) is left to the init itself (memory below), which
// joins it with the same self-move on its main thread once it has done the
// allocating part of its work (see initproto.Config.JoinMemoryFd): what the
// init's Go runtime allocated stays charged to its caller, so a container
// whose memory limit is smaller than rt's own start-up runs.
type cgroupEntry struct {
	tasks  []*os.File // v1 tasks files, open for writing
	v2     *os.File   // the cgroup v2 directory, or nil
	memory *os.File   // the memory hierarchy's tasks file for the init, or nil
}

// openCgroupEntry opens the files to join the cgroup directories dirs
// (controller → directory, "" for cgroup v2): the memory hierarchy's apart.
// A rootless rt skips what it may not write, as Manager.Apply does.
func openCgroupEntry(dirs map[string]string, rootless bool) (e *cgroupEntry, err error) {
	e = &cgroupEntry{}
	defer func() {
		if err != nil {
			e.Close()
			e = nil
		}
	}()
	open := func(path string, flags int) (*os.File, error) {
		f, err := os.OpenFile(path, flags|unix.O_CLOEXEC, 0)
		if err != nil && rootless && (errors.Is(err, os.ErrPermission) || errors.Is(err, unix.EROFS)) {
			return nil, nil
		}
		if err != nil {
			return nil, fmt.Errorf("join cgroup: %w", err)
		}
		return f, nil
	}
	// One write per directory: co-mounted controllers share one.
	byDir := map[string]bool{}
	for ctrl, dir := range dirs {
		if ctrl == "" {
			if e.v2, err = open(dir, unix.O_PATH|unix.O_DIRECTORY); err != nil {
				return nil, err
			}
			continue
		}
		byDir[dir] = byDir[dir] || ctrl == "memory"
	}
	sorted := make([]string, 0, len(byDir))
	for dir := range byDir {
		sorted = append(sorted, dir)
	}
	sort.Strings(sorted)
	for _, dir := range sorted {
		f, err := open(filepath.Join(dir, "tasks"), os.O_WRONLY)
		if err != nil {
			return nil, err
		}
		switch {
		case f == nil:
		case byDir[dir]:
			e.memory = f
		default:
			e.tasks = append(e.tasks, f)
		}
	}
	return e, nil
}

// Close closes what is still open.
func (e *cgroupEntry) Close() {
	if e == nil {
		return
	}
	for _, f := range e.tasks {
		f.Close()
	}
	if e.v2 != nil {
		e.v2.Close()
	}
	if e.memory != nil {
		e.memory.Close()
	}
}

// bornIn reports whether a child can be born in m's existing cgroups (see
// cgroupEntry): not in a frozen one, where the intermediate would freeze
// before it created the child (exec --ignore-paused into a paused
// container). Under systemd, whose scope takes the pid over D-Bus, the
// caller moves the child instead.
func bornIn(m cgroups.Manager) bool {
	st, err := m.FreezerState()
	return err == nil && st == "thawed"
}
