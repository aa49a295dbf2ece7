package libcontainer

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"time"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
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

	// InitPid and InitStartTime identify the init process; the start time
	// (field 22 of /proc/<pid>/stat) tells a live init from a reused pid.
	InitPid       int    `json:"init_pid"`
	InitStartTime uint64 `json:"init_start_time"`

	// CgroupPaths are the container's cgroup directories, per controller.
	CgroupPaths map[string]string `json:"cgroup_paths,omitempty"`

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
	data, err := os.ReadFile(filepath.Join(dir, stateFile))
	if err != nil {
		return nil, err
	}
	var s State
	if err := json.Unmarshal(data, &s); err != nil {
		return nil, fmt.Errorf("parse %s: %w", filepath.Join(dir, stateFile), err)
	}
	return &s, nil
}

// lockDir takes an exclusive flock on the container directory, so that commands
// on one container serialise while commands on different containers do not.
func lockDir(dir string) (*os.File, error) {
	f, err := os.OpenFile(dir, os.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, err
	}
	for {
		err = unix.Flock(int(f.Fd()), unix.LOCK_EX)
		if err != unix.EINTR {
			break
		}
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
