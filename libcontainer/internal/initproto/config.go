package initproto

import (
	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// The environment of `rt init`.
const (
	// SockEnv holds the fd number of the init's end of the socket.
	SockEnv = "_RT_INITSOCK"
	// ExeEnv holds the fd of the rt binary the init was executed from.
	ExeEnv = "_RT_INITEXE"
	// IDMapsEnv is set when the init's new user namespace gets its maps
	// only after the init started (rt without root, newuidmap): the init
	// waits for idmaps-done and executes itself again from ExeEnv.
	IDMapsEnv = "_RT_INITIDMAPS"
)

// FifoErrorPrefix starts what the init writes to exec.fifo when it fails
// after ready instead of exec'ing.
const FifoErrorPrefix = "error: "

// FifoExecFailedPrefix starts what the init writes to exec.fifo when the
// execve of the container's process failed. As with runc, the container
// has started then, and its process exits 255 with the error on its own
// stderr; rt start only traces it.
const FifoExecFailedPrefix = "exec failed: "

// Mode says what `rt init` is to become.
type Mode string

const (
	ModeStandard Mode = "standard" // a new container's init (create)
	ModeExec     Mode = "exec"     // a process joining a running container (exec)
)

// TraceName names the init's side in its start-up trace: "init" for a
// container's init, "exec" for a process joining one.
func (m Mode) TraceName() string {
	if m == ModeExec {
		return "exec"
	}
	return "init"
}

// Config is everything the init needs, sent by rt as the first message. It
// holds paths and fd numbers only as the init sees them, so that the init
// needs nothing of rt's state.
type Config struct {
	Mode    Mode           `json:"mode"`
	ID      string         `json:"id"`
	Bundle  string         `json:"bundle"`
	Rootfs  string         `json:"rootfs"`
	Spec    *specs.Spec    `json:"spec"`
	Process *specs.Process `json:"process"`

	NoPivot      bool `json:"no_pivot,omitempty"`
	NoNewKeyring bool `json:"no_new_keyring,omitempty"`
	// NewUserNS is set when the init was cloned into a new user namespace.
	NewUserNS bool `json:"new_userns,omitempty"`
	// HostSources is set when rt can clone bind-mount sources for the init
	// (mount-request): it has privileges in the initial user namespace.
	HostSources bool `json:"host_sources,omitempty"`
	// CgroupPaths are the container's cgroup directories per controller,
	// which cgroup mounts bind when the container has no cgroup namespace.
	CgroupPaths map[string]string `json:"cgroup_paths,omitempty"`
	// HostPid is the init's pid as the runtime sees it; inside a new pid
	// namespace getpid() says 1, but hooks must get the host's view.
	HostPid int `json:"host_pid,omitempty"`
	// Debug asks the init to send its start-up trace (rt --debug).
	Debug bool `json:"debug,omitempty"`

	// File descriptor numbers in the init.
	FifoFd    int `json:"fifo_fd"`    // O_PATH fd of exec.fifo (standard mode)
	ConsoleFd int `json:"console_fd"` // connected console socket, -1 if none
	// ConsoleToRT is set when the console socket leads to rt's own relay of a
	// foreground run or exec (no --console-socket): the pty then passes "\n"
	// through untranslated, as runc's does. An engine's pty is left as made.
	ConsoleToRT bool `json:"console_to_rt,omitempty"`
	PreserveFds int  `json:"preserve_fds"`
	// JoinMemoryFd, when not 0, is the container's memory cgroup (v1)
	// tasks file, open for writing. The init was born in the container's
	// other cgroups; it joins this one itself, from its main thread (whose
	// cgroup is what /proc/<pid>/cgroup shows and whose memory cgroup its
	// memory is charged to), once the allocating part of its setup is
	// done: a standard init just before run-hooks (rt sets the limits
	// then), or before it makes a new cgroup namespace, which is rooted
	// where it is then; an exec init before it applies the process
	// attributes.
	JoinMemoryFd int `json:"join_memory_fd,omitempty"`
}
