package libcontainer

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"

	"github.com/rtproject/rt/cgroups"
)

// Status is a container's place in the runtime-spec state machine.
type Status string

const (
	Creating Status = "creating"
	Created  Status = "created"
	Running  Status = "running"
	Paused   Status = "paused"
	Stopped  Status = "stopped"
)

const (
	stateFile    = "state.json"
	execFifoName = "exec.fifo"
)

// State is what rt remembers about a container between invocations, in <root>/<id>/state.json.
type State struct {
	ID      string    `json:"id"`
	Bundle  string    `json:"bundle"`
	Rootfs  string    `json:"rootfs"`
	Created time.Time `json:"created"`
	Owner   string    `json:"owner,omitempty"`

	// Creating is set from the moment the state directory exists until
	// the init is ready: the record of a create in progress, which a
	// killed create leaves for delete --force to find.
	Creating bool `json:"creating,omitempty"`

	// InitPid and InitStartTime identify the init process; the start time
	// (field 22 of /proc/<pid>/stat) tells a live init from a reused pid.
	InitPid       int    `json:"init_pid"`
	InitStartTime uint64 `json:"init_start_time"`
	// InitFifoFd is the init's fd on exec.fifo while it waits for start:
	// the fifo alone does not say the init still waits (a start killed
	// after releasing it, another process that opened the fifo first).
	InitFifoFd int `json:"init_fifo_fd,omitempty"`

	// CgroupPaths are the container's cgroup directories, per hierarchy;
	// CgroupExisting those of them it joined rather than made, which
	// delete leaves.
	CgroupPaths    map[string]string `json:"cgroup_paths,omitempty"`
	CgroupExisting []string          `json:"cgroup_existing,omitempty"`
	// CgroupLayout is how the host mounted cgroups at create: the
	// cgroups' manager is rebuilt from it without reading the host's
	// mount table again.
	CgroupLayout *cgroups.Layout `json:"cgroup_layout,omitempty"`

	// HostMountNS is set when the container shares rt's mount namespace; its
	// mounts then sit on a bind of the rootfs over RootfsMounts earlier ones,
	// which delete detaches.
	HostMountNS  bool `json:"host_mount_ns,omitempty"`
	RootfsMounts int  `json:"rootfs_mounts,omitempty"`

	Rootless      bool `json:"rootless,omitempty"`
	SystemdCgroup bool `json:"systemd_cgroup,omitempty"`

	// Config is the validated spec the container was created from.
	Config *specs.Spec `json:"config"`
}

// writeState replaces state.json atomically: a reader sees the old file or the new one, never a torn write.
func writeState(dir string, s *State) error {
	data, err := json.Marshal(s)
	if err != nil {
		return err
	}
	return writeFileAtomic(filepath.Join(dir, stateFile), data, 0o600)
}

// writeFileAtomic writes data to a temporary file next to path and renames it
// over path. No fsync: the state lives on tmpfs and must not outlive a reboot.
func writeFileAtomic(path string, data []byte, perm os.FileMode) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Chmod(perm); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}

func readState(dir string) (*State, error) {
	var s State
	if err := decodeState(dir, &s); err != nil {
		return nil, err
	}
	return &s, nil
}

// readStateSummary reads state.json with no more of the spec than describing,
// starting, signalling and deleting the container take: its annotations (the
// OCI state), its hooks (poststart, poststop), linux.cgroupsPath (the
// cgroups, the freezer's state) and linux.namespaces (whether killing the
// init ends the container's other processes). The spec's many types make a
// process's first decode of one its costliest (0.3 to 0.7 ms): `list` reads
// every container's state, and start, kill and delete are a few
// milliseconds each.
func readStateSummary(dir string) (*State, error) {
	var s struct {
		State
		// Shadows State.Config: encoding/json takes the less nested field.
		Config *struct {
			Annotations map[string]string `json:"annotations,omitempty"`
			Hooks       *specs.Hooks      `json:"hooks,omitempty"`
			Linux       *struct {
				CgroupsPath string                 `json:"cgroupsPath,omitempty"`
				Namespaces  []specs.LinuxNamespace `json:"namespaces,omitempty"`
			} `json:"linux,omitempty"`
		} `json:"config"`
	}
	if err := decodeState(dir, &s); err != nil {
		return nil, err
	}
	st := s.State
	if c := s.Config; c != nil {
		st.Config = &specs.Spec{Annotations: c.Annotations, Hooks: c.Hooks}
		if c.Linux != nil {
			st.Config.Linux = &specs.Linux{CgroupsPath: c.Linux.CgroupsPath, Namespaces: c.Linux.Namespaces}
		}
	}
	return &st, nil
}

func decodeState(dir string, v any) error {
	data, err := os.ReadFile(filepath.Join(dir, stateFile))
	if err != nil {
		return err
	}
	if err := json.Unmarshal(data, v); err != nil {
		return fmt.Errorf("parse %s: %w", filepath.Join(dir, stateFile), err)
	}
	return nil
}

// lockDir takes an exclusive flock on the container directory, so that commands
// on one container serialise while commands on different containers do not.
//
// A holder that is stopped (SIGSTOP, a debugger) would keep the lock, and
// every command on the container waiting, for ever: such a holder is named
// in an error instead. A holder that works (a create running its hooks) is
// waited for.
func lockDir(dir string) (*os.File, error) {
	f, err := os.OpenFile(dir, os.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, err
	}
	delay := 100 * time.Microsecond
	var waited time.Duration
	for {
		err = unix.Flock(int(f.Fd()), unix.LOCK_EX|unix.LOCK_NB)
		if err != unix.EWOULDBLOCK && err != unix.EINTR {
			break
		}
		if waited >= checkInterval {
			waited = 0
			if pid := stoppedHolder(f); pid > 0 {
				f.Close()
				return nil, fmt.Errorf("lock %s: held by process %d, which is stopped", dir, pid)
			}
		}
		time.Sleep(delay)
		waited += delay
		delay = min(2*delay, 20*time.Millisecond)
	}
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("lock %s: %w", dir, err)
	}
	// The directory may have been removed by a delete we waited for.
	var st unix.Stat_t
	if err := unix.Fstat(int(f.Fd()), &st); err != nil || st.Nlink == 0 {
		f.Close()
		return nil, os.ErrNotExist
	}
	return f, nil
}

// lockedByOther reports whether someone holds the lock of dir (a create in
// progress), without waiting or taking it.
func lockedByOther(dir string) bool {
	f, err := os.OpenFile(dir, os.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return false
	}
	defer f.Close()
	return unix.Flock(int(f.Fd()), unix.LOCK_SH|unix.LOCK_NB) == unix.EWOULDBLOCK
}

// stoppedHolder returns the pid of a process holding a flock on f's inode
// that is stopped, from /proc/locks; 0 if there is none.
func stoppedHolder(f *os.File) int {
	var st unix.Stat_t
	if err := unix.Fstat(int(f.Fd()), &st); err != nil {
		return 0
	}
	data, err := os.ReadFile("/proc/locks")
	if err != nil {
		return 0
	}
	want := fmt.Sprintf("%02x:%02x:%d", unix.Major(st.Dev), unix.Minor(st.Dev), st.Ino)
	for _, line := range strings.Split(string(data), "\n") {
		// "1: FLOCK  ADVISORY  WRITE 1234 00:2e:5678 0 EOF"; waiters
		// have "->" after the number.
		f := strings.Fields(line)
		if len(f) < 6 || f[1] != "FLOCK" || f[5] != want {
			continue
		}
		pid, err := strconv.Atoi(f[4])
		if err != nil {
			continue
		}
		if _, state, err := procStartTime(pid); err == nil && state == 'T' {
			return pid
		}
	}
	return 0
}
