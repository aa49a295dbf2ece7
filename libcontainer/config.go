package libcontainer

import (
	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// initMode says what the re-executed `rt init` is to become.
type initMode string

const (
	modeStandard initMode = "standard" // a new container's init (create)
	modeExec     initMode = "exec"     // a process joining a running container (exec)
)

// initConfig is everything the child needs, sent by the parent over the init socket.
type initConfig struct {
	Mode    initMode       `json:"mode"`
	ID      string         `json:"id"`
	Bundle  string         `json:"bundle"`
	Rootfs  string         `json:"rootfs"`
	Spec    *specs.Spec    `json:"spec"`
	Process *specs.Process `json:"process"`

	NoPivot      bool `json:"no_pivot,omitempty"`
	NoNewKeyring bool `json:"no_new_keyring,omitempty"`
	// NewUserNS is set when the init was cloned into a new user namespace.
	NewUserNS   bool              `json:"new_userns,omitempty"`
	CgroupPaths map[string]string `json:"cgroup_paths,omitempty"`
	// HostPid is the init's pid as the runtime sees it; inside a new pid
	// namespace getpid() says 1, but hooks must get the host's view.
	HostPid int `json:"host_pid,omitempty"`

	// File descriptor numbers in the child.
	FifoFd        int `json:"fifo_fd"`    // O_PATH fd of exec.fifo (standard mode)
	ConsoleFd     int `json:"console_fd"` // connected console socket, -1 if none
	PreserveFds   int `json:"preserve_fds"`
	PidfdSocketFd int `json:"pidfd_socket_fd"`
}
