package libcontainer

import (
	"errors"
	"fmt"
	"os"
	"os/user"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"github.com/sirupsen/logrus"
	"golang.org/x/sys/unix"

	"github.com/rtproject/rt/cgroups"
	"github.com/rtproject/rt/libcontainer/hooks"
	"github.com/rtproject/rt/libcontainer/namespaces"
	"github.com/rtproject/rt/libcontainer/rootfs"
)

// ErrNotExist is returned for a container id with no state.
var ErrNotExist = errors.New("container does not exist")

// Runtime holds the global options every command shares.
type Runtime struct {
	Root          string
	SystemdCgroup bool
	Rootless      bool
}

// Container is a loaded, locked container. Close releases the lock.
type Container struct {
	rt    *Runtime
	dir   string
	lock  *os.File
	state *State
	// partial is set when state.Config holds only what readStateSummary
	// keeps of the spec (Describe, LoadSummary).
	partial bool
}

func (r *Runtime) dir(id string) string { return filepath.Join(r.Root, id) }

// Load locks and reads the container id, for a command that changes it.
func (r *Runtime) Load(id string) (*Container, error) {
	return r.load(id, true)
}

// Inspect reads the container id without its lock, for a command that only
// looks (state, list, ps, events): state.json is replaced atomically, and a
// look must not wait for, or hang behind, a create, start or exec in
// progress.
func (r *Runtime) Inspect(id string) (*Container, error) {
	return r.load(id, false)
}

// Describe is what `state` prints of the container id: Inspect with only
// the parts of the spec a description needs read (readStateSummary).
func (r *Runtime) Describe(id string) (ContainerState, error) {
	c, err := r.loadWith(id, false, true)
	if err != nil {
		return ContainerState{}, err
	}
	defer c.Close()
	return c.Describe(), nil
}

// LoadSummary is Load for start, kill and delete, which read no more of the
// spec than readStateSummary keeps. Never for a command that writes
// state.json back (update refuses such a container).
func (r *Runtime) LoadSummary(id string) (*Container, error) {
	return r.loadWith(id, true, true)
}

func (r *Runtime) load(id string, locked bool) (*Container, error) {
	return r.loadWith(id, locked, false)
}

// loadWith reads the container id, holding its lock when locked, with the
// whole spec or, when summary, only what readStateSummary keeps of it.
func (r *Runtime) loadWith(id string, locked, summary bool) (*Container, error) {
	if err := ValidateID(id); err != nil {
		return nil, err
	}
	dir := r.dir(id)
	var lock *os.File
	if locked {
		var err error
		if lock, err = lockDir(dir); err != nil {
			if errors.Is(err, os.ErrNotExist) {
				return nil, fmt.Errorf("container %s: %w", id, ErrNotExist)
			}
			return nil, err
		}
	}
	read := readState
	if summary {
		read = readStateSummary
	}
	s, err := read(dir)
	if err != nil {
		if lock != nil {
			lock.Close()
		}
		if errors.Is(err, os.ErrNotExist) {
			return nil, fmt.Errorf("container %s: %w", id, ErrNotExist)
		}
		return nil, err
	}
	return &Container{rt: r, dir: dir, lock: lock, state: s, partial: summary}, nil
}

// Purge removes the state directory of id when it holds no state.json: what
// a create killed right after making the directory leaves, before it could
// record anything else. A create in progress holds the lock until it has
// written state.json, so taking the lock tells the two apart.
func (r *Runtime) Purge(id string) error {
	if err := ValidateID(id); err != nil {
		return err
	}
	dir := r.dir(id)
	lock, err := lockDir(dir)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return nil
		}
		return err
	}
	defer lock.Close()
	if _, err := os.Stat(filepath.Join(dir, stateFile)); err == nil {
		return fmt.Errorf("container %s: state.json appeared", id)
	}
	return os.RemoveAll(dir)
}

// Close releases the container's lock.
func (c *Container) Close() {
	if c.lock != nil {
		c.lock.Close()
		c.lock = nil
	}
}

func (c *Container) ID() string { return c.state.ID }

// Config is the spec the container was created from; a container loaded
// with a summary of it reads the whole of it first.
func (c *Container) Config() *specs.Spec {
	if c.partial {
		if st, err := readState(c.dir); err == nil {
			c.state.Config, c.partial = st.Config, false
		}
	}
	return c.state.Config
}

// initAlive reports whether the recorded init process still exists and is not
// a zombie; a different start time means the pid was reused.
func (c *Container) initAlive() bool {
	if c.state.InitPid <= 0 {
		return false
	}
	st, state, err := procStartTime(c.state.InitPid)
	if err != nil || st != c.state.InitStartTime {
		return false
	}
	return state != 'Z' && state != 'X'
}

// Status derives the container's status from the live process, not only from the file.
func (c *Container) Status() Status {
	if c.state.Creating {
		// A create is in progress only while its rt holds the lock: once
		// it is gone (killed), what it left is stopped, for delete.
		if c.lock == nil && lockedByOther(c.dir) {
			return Creating
		}
		return Stopped
	}
	if !c.initAlive() {
		return Stopped
	}
	// A created container can be paused too; it reports paused until
	// resumed, as with runc.
	if m := c.cgroups(); m != nil {
		if st, err := m.FreezerState(); err == nil && st == "frozen" {
			return Paused
		}
	}
	if c.waitsOnFifo() {
		return Created
	}
	return Running
}

// waitsOnFifo reports whether the init still waits for start: exec.fifo
// exists and the init still holds it on the fd it waits with. A start
// killed after releasing the init, or a process that opened the fifo first,
// leaves the fifo with an init that is already on its way to exec.
func (c *Container) waitsOnFifo() bool {
	var fifo unix.Stat_t
	if err := unix.Stat(filepath.Join(c.dir, execFifoName), &fifo); err != nil {
		return false
	}
	if c.state.InitFifoFd <= 0 {
		return true
	}
	var held unix.Stat_t
	err := unix.Stat(fmt.Sprintf("/proc/%d/fd/%d", c.state.InitPid, c.state.InitFifoFd), &held)
	if errors.Is(err, unix.EACCES) || errors.Is(err, unix.EPERM) {
		return true // not ours to look into (rootless): trust the fifo
	}
	return err == nil && held.Dev == fifo.Dev && held.Ino == fifo.Ino
}

// OCIState is the runtime-spec state, as hooks receive it.
func (c *Container) OCIState() specs.State {
	st := c.Status()
	pid := c.state.InitPid
	if st == Stopped {
		pid = 0
	}
	return hooks.State(c.state.ID, c.state.Bundle, c.state.Config, specs.ContainerState(st), pid)
}

// ContainerState is the JSON `rt state` and `rt list --format json` print, field for field runc's.
type ContainerState struct {
	Version     string            `json:"ociVersion"`
	ID          string            `json:"id"`
	Pid         int               `json:"pid"`
	Status      string            `json:"status"`
	Bundle      string            `json:"bundle"`
	Rootfs      string            `json:"rootfs"`
	Created     time.Time         `json:"created"`
	Annotations map[string]string `json:"annotations,omitempty"`
	Owner       string            `json:"owner"`
}

// Describe returns the state as `rt state` prints it.
func (c *Container) Describe() ContainerState {
	s := c.OCIState()
	return ContainerState{
		Version:     s.Version,
		ID:          s.ID,
		Pid:         s.Pid,
		Status:      string(s.Status),
		Bundle:      s.Bundle,
		Rootfs:      c.state.Rootfs,
		Created:     c.state.Created,
		Annotations: s.Annotations,
		Owner:       c.state.Owner,
	}
}

// List describes every container under the root, sorted by id.
func (r *Runtime) List() ([]ContainerState, error) {
	entries, err := os.ReadDir(r.Root)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return nil, nil
		}
		return nil, err
	}
	var out []ContainerState
	for _, e := range entries {
		if !e.IsDir() {
			continue
		}
		d, err := r.Describe(e.Name())
		if err != nil {
			// A container being created or deleted concurrently.
			logrus.Debugf("list: skip %s: %v", e.Name(), err)
			continue
		}
		out = append(out, d)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out, nil
}

// Signal sends sig to the init, or with all to every process in the
// container's cgroup. Signal 0 only checks that the container runs.
//
// SIGKILL of a container without a pid namespace of its own goes to every
// process in its cgroup, as with runc: there, killing the init does not end
// the rest, which may outlive it.
func (c *Container) Signal(sig syscall.Signal, all bool) error {
	status := c.Status()
	m := c.cgroups()
	if all || (sig == unix.SIGKILL && c.sharesPidNamespace() && m != nil) {
		if status == Stopped && m == nil {
			if all {
				return nil // runc: --all on a stopped container is no error
			}
			return ErrNotRunning
		}
		return c.signalAll(m, sig)
	}
	if status == Stopped || status == Creating {
		return ErrNotRunning
	}
	pidfd, err := openPid(c.state.InitPid, c.state.InitStartTime)
	if err != nil {
		return ErrNotRunning
	}
	defer unix.Close(pidfd)
	if err := unix.PidfdSendSignal(pidfd, sig, nil, 0); err != nil {
		if err == unix.ESRCH {
			return ErrNotRunning
		}
		return fmt.Errorf("signal init (pid %d): %w", c.state.InitPid, err)
	}
	// A v1-frozen init takes the SIGKILL only once thawed.
	if m != nil && sig == unix.SIGKILL && status == Paused {
		_ = m.Thaw()
	}
	return nil
}

// signalAll signals every process of the container. With SIGKILL the
// cgroup is frozen first, so that no process forks one the list missed, and
// thawed afterwards, so that a paused container's processes take it.
func (c *Container) signalAll(m cgroups.Manager, sig syscall.Signal) error {
	if m == nil {
		if c.initAlive() && sig != 0 {
			return unix.Kill(c.state.InitPid, sig)
		}
		return nil
	}
	if sig == 0 {
		return nil
	}
	if sig == unix.SIGKILL {
		if st, err := m.FreezerState(); err == nil && st != "frozen" {
			if err := m.Freeze(); err == nil {
				defer m.Thaw()
			}
		} else {
			defer m.Thaw()
		}
	}
	pids, err := m.Pids()
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("list container pids: %w", err)
	}
	for _, pid := range pids {
		if err := unix.Kill(pid, sig); err != nil && err != unix.ESRCH {
			logrus.Warnf("signal pid %d: %v", pid, err)
		}
	}
	return nil
}

// Delete removes a stopped container, or with force kills a live one first.
func (c *Container) Delete(force bool) error {
	status := c.Status()
	if status != Stopped && !force {
		return fmt.Errorf("cannot delete container %s that is not stopped: %s", c.state.ID, status)
	}
	if status != Stopped {
		if err := c.killAndWait(); err != nil {
			return err
		}
	}
	return c.destroy()
}

// killAndWait kills every process of the container and waits for the init
// to go, through a pidfd: no pid reuse race, no polling.
func (c *Container) killAndWait() error {
	pidfd, err := openPid(c.state.InitPid, c.state.InitStartTime)
	if err != nil {
		pidfd = -1
	} else {
		defer unix.Close(pidfd)
	}
	m := c.cgroups()
	if m != nil && c.sharesPidNamespace() {
		// Without a pid namespace of its own, the init's death ends
		// nothing else.
		_ = c.signalAll(m, unix.SIGKILL)
	} else if pidfd >= 0 {
		// The kernel ends every process of the init's pid namespace with
		// it. A v1-frozen init takes the SIGKILL only once thawed; destroy
		// then kills what else is in the cgroup.
		_ = unix.PidfdSendSignal(pidfd, unix.SIGKILL, nil, 0)
		if m != nil {
			if st, err := m.FreezerState(); err == nil && st == "frozen" {
				_ = m.Thaw()
			}
		}
	}
	if pidfd >= 0 && !waitPidfd(pidfd, killTimeout) {
		return fmt.Errorf("container %s: init (pid %d) did not die after SIGKILL", c.state.ID, c.state.InitPid)
	}
	return nil
}

// killCgroup SIGKILLs what is left in the cgroup (thawing it, as a frozen
// process takes no signal) and waits briefly for it to go.
func killCgroup(m cgroups.Manager) {
	deadline := time.Now().Add(killTimeout)
	for delay := time.Millisecond; time.Now().Before(deadline); delay = min(2*delay, 50*time.Millisecond) {
		pids, err := m.Pids()
		if err != nil || len(pids) == 0 {
			return
		}
		for _, pid := range pids {
			unix.Kill(pid, unix.SIGKILL)
		}
		if st, err := m.FreezerState(); err == nil && st == "frozen" {
			m.Thaw()
		}
		time.Sleep(delay)
	}
}

// killInCgroupDirs SIGKILLs every process in any of the directories (each
// hierarchy's, as a half-done move into the cgroups may leave a process in
// some only) until they are empty, for a few seconds at most.
func killInCgroupDirs(paths map[string]string) {
	for i := 0; i < 500; i++ {
		left := false
		for _, dir := range paths {
			data, err := os.ReadFile(filepath.Join(dir, "cgroup.procs"))
			if err != nil {
				continue
			}
			for _, f := range strings.Fields(string(data)) {
				if pid, err := strconv.Atoi(f); err == nil && pid > 0 {
					unix.Kill(pid, unix.SIGKILL)
					left = true
				}
			}
		}
		if !left {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// sharesPidNamespace is true when the container has no pid namespace of
// its own (none, or another's joined): then killing the init does not end
// the other processes.
func (c *Container) sharesPidNamespace() bool {
	return !namespaces.IsNew(c.state.Config, specs.PIDNamespace)
}

// destroy removes what the container holds on the host, then runs poststop hooks.
func (c *Container) destroy() error {
	var errs []error
	if m := c.cgroups(); m != nil {
		// What is left in the cgroup is the container's: processes that
		// outlived an init without a pid namespace of its own, or a frozen
		// init a killed create left.
		killCgroup(m)
		// A create or restore killed half-way may have left its init (or
		// CRIU) in some hierarchies only, having moved it into them one
		// by one.
		if c.state.Creating {
			killInCgroupDirs(c.state.CgroupPaths)
		}
		if err := m.Destroy(); err != nil {
			errs = append(errs, fmt.Errorf("remove cgroup: %w", err))
		}
	}
	// Also after a create that was killed: its prestart and createRuntime
	// hooks may have run, and poststop is where they are undone.
	if c.state.Config != nil && c.state.Config.Hooks != nil {
		st := c.OCIState()
		st.Status = specs.StateStopped
		hooks.RunWarn("poststop", c.state.Config.Hooks.Poststop, st)
	}
	if c.state.HostMountNS {
		if err := rootfs.DetachHostMounts(c.state.Rootfs, c.state.RootfsMounts); err != nil {
			errs = append(errs, err)
		}
	}
	// A restore killed half-way leaves the rootfs bound here: removing
	// the state directory must not descend into it.
	if err := unix.Unmount(filepath.Join(c.dir, criuRootDir), unix.MNT_DETACH); err != nil && err != unix.ENOENT && err != unix.EINVAL {
		errs = append(errs, fmt.Errorf("unmount %s: %w", criuRootDir, err))
	}
	if err := os.RemoveAll(c.dir); err != nil {
		errs = append(errs, err)
	}
	c.Close()
	return errors.Join(errs...)
}

// procStartTime returns field 22 (starttime) and field 3 (state) of /proc/<pid>/stat.
func procStartTime(pid int) (uint64, byte, error) {
	data, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return 0, 0, err
	}
	// The command name may contain spaces and parentheses: parse after the last ')'.
	s := string(data)
	i := strings.LastIndexByte(s, ')')
	if i < 0 {
		return 0, 0, fmt.Errorf("malformed /proc/%d/stat", pid)
	}
	fields := strings.Fields(s[i+1:])
	// fields[0] is field 3 (state); starttime is field 22.
	if len(fields) < 20 {
		return 0, 0, fmt.Errorf("malformed /proc/%d/stat", pid)
	}
	st, err := strconv.ParseUint(fields[19], 10, 64)
	if err != nil {
		return 0, 0, err
	}
	return st, fields[0][0], nil
}

// ownerName returns the user name of uid, or "#uid" as runc does when unknown.
func ownerName(uid int) string {
	if u, err := user.LookupId(strconv.Itoa(uid)); err == nil {
		return u.Username
	}
	return "#" + strconv.Itoa(uid)
}
