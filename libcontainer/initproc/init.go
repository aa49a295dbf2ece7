// Package initproc is everything that runs as the container's init or as a
// process `rt exec` starts in it: the entry point of `rt init`, the setup
// sequence of a new container, the exec of a joining process, and the
// process attributes, console and seccomp filter both apply.
//
// It runs inside the container's namespaces and sees the host only through
// what initproto.Config hands it: it does not import libcontainer, so it
// cannot reach the state directory, the cgroup managers or other host paths.
package initproc

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"runtime"
	"strconv"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"github.com/sirupsen/logrus"
	"golang.org/x/sys/unix"

	"github.com/rtproject/rt/internal/procfs"
	"github.com/rtproject/rt/internal/trace"
	"github.com/rtproject/rt/libcontainer/hooks"
	"github.com/rtproject/rt/libcontainer/internal/initproto"
	"github.com/rtproject/rt/libcontainer/internal/kernel"
	"github.com/rtproject/rt/libcontainer/namespaces"
	"github.com/rtproject/rt/libcontainer/rootfs"
)

// Init is the entry point of the re-executed `rt init`. It never returns.
func Init() {
	fd, err := strconv.Atoi(os.Getenv(initproto.SockEnv))
	if err != nil {
		fmt.Fprintln(os.Stderr, "rt init: not started by rt")
		os.Exit(255)
	}
	ch := initproto.NewChannel(os.NewFile(uintptr(fd), "init-sock"))
	if os.Getenv(initproto.IDMapsEnv) != "" {
		// Still dumpable: newuidmap only maps for a process whose /proc
		// directory its user owns. Nothing of the container exists yet.
		err := execMapped(ch)
		ch.Send(initproto.Message{Type: initproto.MsgError, Error: err.Error()})
		os.Exit(1)
	}
	// Nobody in the container may look into the init (its fds, memory and
	// root, through /proc/<pid>) until it has exec'd the container's
	// process, which makes it dumpable again.
	unix.Prctl(unix.PR_SET_DUMPABLE, 0, 0, 0, 0)
	// Credentials and namespaces are per thread in the kernel: keep the setup on one.
	runtime.LockOSThread()
	// Until rt has recorded this process it must not outlive rt: die with
	// it (armed and disarmed on this thread: the setting is per thread).
	// Should rt be gone already, the socket says so (EOF) below.
	armParentDeath(true)
	os.Unsetenv(initproto.SockEnv)
	// The binary we were executed from is of no further use, and hooks and
	// the container process must not inherit it.
	if exeFd, err := strconv.Atoi(os.Getenv(initproto.ExeEnv)); err == nil {
		unix.Close(exeFd)
	}
	os.Unsetenv(initproto.ExeEnv)
	cfg, err := readInitConfig(ch)
	if err == nil {
		switch cfg.Mode {
		case initproto.ModeStandard:
			err = standardInit(ch, cfg)
		case initproto.ModeExec:
			err = execInit(ch, cfg)
		default:
			err = fmt.Errorf("unknown init mode %q", cfg.Mode)
		}
	}
	// Only failures get here: success ends in execve.
	ch.Send(initproto.Message{Type: initproto.MsgError, Error: err.Error()})
	os.Exit(1)
}

// execMapped waits until rt has had the maps of our new user namespace
// written, then executes this binary again: started before the maps
// existed, we lost our capabilities at exec, and only an exec as the
// namespace's root gives them back. The socket and the binary stay open
// across it (neither is close-on-exec here). It returns only on failure.
func execMapped(ch *initproto.Channel) error {
	if _, _, err := ch.Expect(initproto.MsgIDMapsDone); err != nil {
		return fmt.Errorf("wait for the user namespace's maps: %w", err)
	}
	exeFd, err := strconv.Atoi(os.Getenv(initproto.ExeEnv))
	if err != nil {
		return fmt.Errorf("no %s to execute again", initproto.ExeEnv)
	}
	os.Unsetenv(initproto.IDMapsEnv)
	err = unix.Exec("/proc/self/fd/"+strconv.Itoa(exeFd), os.Args, os.Environ())
	return fmt.Errorf("execute rt init again in the mapped user namespace: %w", err)
}

// armParentDeath sets or clears SIGKILL on the death of the thread that
// forked us (rt keeps that thread until the create or exec is over). It is
// cleared before the process's attributes are applied: a seccomp filter may
// forbid prctl after, and a credential change clears it anyway. From then
// on the socket is the link: EOF or EPIPE ends the init.
func armParentDeath(on bool) {
	sig := 0
	if on {
		sig = int(unix.SIGKILL)
	}
	if err := kernel.Prctl(unix.PR_SET_PDEATHSIG, uintptr(sig), 0, 0, 0); err != nil {
		logrus.Debugf("prctl PR_SET_PDEATHSIG: %v", err)
	}
}

// readInitConfig sends the init's log to rt over ch and reads its config,
// which says whether rt wants the start-up trace.
func readInitConfig(ch *initproto.Channel) (*initproto.Config, error) {
	logrus.SetOutput(initproto.LogWriter{Ch: ch})
	logrus.SetFormatter(&logrus.JSONFormatter{})
	m, _, err := ch.Expect(initproto.MsgConfig)
	if err != nil {
		return nil, fmt.Errorf("read config: %w", err)
	}
	var cfg initproto.Config
	if err := json.Unmarshal(m.Config, &cfg); err != nil {
		return nil, fmt.Errorf("decode config: %w", err)
	}
	if cfg.Debug {
		logrus.SetLevel(logrus.DebugLevel)
	}
	return &cfg, nil
}

// standardInit turns this process into the container: the whole setup, in the
// order the kernel needs it. Errors before "ready" return to the parent over
// the socket; later ones go to `rt start` through exec.fifo.
func standardInit(ch *initproto.Channel, cfg *initproto.Config) error {
	spec, proc := cfg.Spec, cfg.Process

	// rt sends the config once it has put us in our cgroups: a new cgroup
	// namespace made now is rooted at the container's own cgroup (made at
	// clone, it would show the runtime's cgroups, and let the container
	// create cgroups outside its own).
	if namespaces.IsNew(spec, specs.CgroupNamespace) {
		// Its memory hierarchy too, so the memory cgroup is joined now
		// rather than at run-hooks (the rest of the setup is charged to it).
		if err := joinMemoryCgroup(cfg); err != nil {
			return err
		}
		if err := kernel.Unshare(unix.CLONE_NEWCGROUP); err != nil {
			return fmt.Errorf("unshare cgroup namespace: %w", err)
		}
	}
	// Relative bind-mount sources are relative to the bundle, as with runc.
	if err := os.Chdir(cfg.Bundle); err != nil {
		if namespaces.Has(spec, specs.MountNamespace) && !namespaces.IsNew(spec, specs.MountNamespace) {
			return fmt.Errorf("linux.namespaces: the joined mount namespace does not show the bundle %s: %w", cfg.Bundle, err)
		}
		return fmt.Errorf("chdir to bundle: %w", err)
	}
	// 1. A session of our own; the terminal (if any) becomes its controlling tty below.
	if _, err := unix.Setsid(); err != nil {
		return fmt.Errorf("setsid: %w", err)
	}
	trace.Log("init: pid %d (host pid %d), new session, in %s", os.Getpid(), cfg.HostPid, cfg.Bundle)
	// 2. A time namespace must get its offsets before any process enters it;
	// this process enters it at its final execve.
	if namespaces.IsNew(spec, specs.TimeNamespace) {
		t := trace.Start()
		if err := namespaces.UnshareTime(spec); err != nil {
			return err
		}
		t.Done("init: time namespace unshared, offsets %v", spec.Linux.TimeOffsets)
	}
	// 3. Filesystem: mounts, /dev, devices; then run-hooks (the parent sets
	// the cgroup resources and runs prestart/createRuntime hooks) and
	// createContainer hooks here; then pivot_root.
	rc := &rootfs.Config{
		Spec:        spec,
		Rootfs:      cfg.Rootfs,
		NoPivot:     cfg.NoPivot,
		UserNS:      cfg.NewUserNS || namespaces.Has(spec, specs.UserNamespace),
		CgroupPaths: cfg.CgroupPaths,
		CgroupNS:    namespaces.Has(spec, specs.CgroupNamespace),
		HostMountNS: !namespaces.Has(spec, specs.MountNamespace),
	}
	if cfg.HostSources {
		rc.HostSource = func(index int) (*os.File, error) { return hostMountSource(ch, index) }
	}
	if err := rootfs.Setup(rc, func() error { return createHooks(ch, cfg) }); err != nil {
		return err
	}
	if err := reopenDevNull(); err != nil {
		return err
	}
	// Before root.readonly and readonlyPaths make that impossible.
	if err := createCwd(proc.Cwd); err != nil {
		return err
	}
	// 4. The terminal is created inside the container's devpts.
	if proc.Terminal {
		t := trace.Start()
		if err := setupConsole(cfg, true); err != nil {
			return err
		}
		t.Done("init: terminal created, its master sent to the console socket")
	}
	// 5. Identity of the namespaces we own.
	t := trace.Start()
	if err := namespaces.SetHostname(spec); err != nil {
		return err
	}
	if err := namespaces.WriteSysctls(spec); err != nil {
		return err
	}
	t.Done("init: hostname %q, domainname %q, %d sysctls", spec.Hostname, spec.Domainname, len(spec.Linux.Sysctl))
	// 6. Masked and read-only paths, then the read-only root.
	t = trace.Start()
	if err := rootfs.Finalize(rc); err != nil {
		return err
	}
	t.Done("init: %d masked and %d read-only paths, root read-only %t", len(spec.Linux.MaskedPaths), len(spec.Linux.ReadonlyPaths), spec.Root != nil && spec.Root.Readonly)
	// 7. The process's attributes, ending with the credentials and the seccomp filter.
	armParentDeath(false)
	path, err := prepareProcess(ch, cfg)
	if err != nil {
		return err
	}
	// 8. Ready; once rt has recorded us, wait for `rt start` on exec.fifo,
	// then startContainer hooks and exec. Without the record (rt gone: EOF)
	// nobody would know of this process: it ends.
	trace.Log("init: ready; waiting for rt to record it, then for rt start to open exec.fifo, then %d startContainer hooks and exec %s", startHooks(spec), path)
	if err := ch.Send(initproto.Message{Type: initproto.MsgReady}); err != nil {
		return err
	}
	if _, _, err := ch.Expect(initproto.MsgRecorded); err != nil {
		if errors.Is(err, io.EOF) || errors.Is(err, unix.ECONNRESET) || errors.Is(err, io.ErrUnexpectedEOF) {
			os.Exit(1)
		}
		// A seccomp filter may forbid receiving (EPERM): go on, as rt
		// records an init right after ready.
		logrus.Debugf("wait for recorded: %v", err)
	}
	logrus.SetOutput(io.Discard)
	ch.Close()
	// Reopened through a procfs of our own: the container's /proc is the
	// bundle's to shape.
	fifoPath := os.NewFile(uintptr(cfg.FifoFd), "exec.fifo")
	fifo, err := procfs.ReopenFd(fifoPath, unix.O_WRONLY)
	if err != nil {
		// Nobody is listening on the socket any more: stderr is all we have.
		fmt.Fprintf(os.Stderr, "rt init: open exec fifo: %v\n", err)
		os.Exit(1)
	}
	fifoPath.Close()
	if spec.Hooks != nil && len(spec.Hooks.StartContainer) > 0 {
		st := hooks.State(cfg.ID, cfg.Bundle, spec, specs.StateCreated, cfg.HostPid)
		if err := hooks.Run("startContainer", startContainerHooks(spec.Hooks.StartContainer, proc.Env), st); err != nil {
			fifo.Write([]byte(initproto.FifoErrorPrefix + err.Error()))
			os.Exit(1)
		}
	}
	err = unix.Exec(path, proc.Args, proc.Env)
	// As runc: the container has started, and its process fails. It says
	// why in one bare line on its own stderr and exits 255; rt start learns
	// it through the fifo for its trace.
	msg := (&os.PathError{Op: "exec", Path: path, Err: err}).Error()
	fmt.Fprintln(os.Stderr, msg)
	fifo.Write([]byte(initproto.FifoExecFailedPrefix + msg))
	os.Exit(255)
	return nil
}

func startHooks(spec *specs.Spec) int {
	if spec.Hooks == nil {
		return 0
	}
	return len(spec.Hooks.StartContainer)
}

// startContainerHooks returns the hooks with env given to those that have
// none: as runc, a startContainer hook without env inherits the process's
// (a de facto behaviour hooks rely on, not the runtime-spec's).
func startContainerHooks(hs []specs.Hook, env []string) []specs.Hook {
	out := make([]specs.Hook, len(hs))
	for i, h := range hs {
		if len(h.Env) == 0 {
			h.Env = env
		}
		out[i] = h
	}
	return out
}

// createHooks runs between the mounts and pivot_root: the parent runs
// prestart and createRuntime in the runtime namespace, then we run
// createContainer in the container's.
func createHooks(ch *initproto.Channel, cfg *initproto.Config) error {
	// rt writes the memory limit on run-hooks: what the init charges until
	// then stays its caller's.
	if err := joinMemoryCgroup(cfg); err != nil {
		return err
	}
	if err := ch.Send(initproto.Message{Type: initproto.MsgRunHooks}); err != nil {
		return err
	}
	if _, _, err := ch.Expect(initproto.MsgHooksDone); err != nil {
		return err
	}
	if h := cfg.Spec.Hooks; h != nil && len(h.CreateContainer) > 0 {
		t := trace.Start()
		// As with runc, they run in the rootfs: hooks use paths relative to it.
		if err := kernel.Chdir(cfg.Rootfs); err != nil {
			return fmt.Errorf("createContainer hooks: chdir to the rootfs: %w", err)
		}
		st := hooks.State(cfg.ID, cfg.Bundle, cfg.Spec, specs.StateCreating, cfg.HostPid)
		if err := hooks.Run("createContainer", h.CreateContainer, st); err != nil {
			return err
		}
		t.Done("init: %d createContainer hooks ran", len(h.CreateContainer))
	}
	return nil
}

// reopenDevNull gives the container its own /dev/null in place of the
// host's on stdio (what an engine passes for no input): the host's node is on
// a mount outside the container, which CRIU cannot checkpoint. The
// container's node (made here, or bound from the host's in a user namespace:
// the same inode on a mount of the container's) is used only if it is the
// null device, and is never followed through a link.
func reopenDevNull() error {
	fd, err := unix.Open("/dev/null", unix.O_PATH|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil // no /dev/null of its own: stdio stays as given
	}
	node := os.NewFile(uintptr(fd), "/dev/null")
	defer node.Close()
	own, ok := nullDevice(fd)
	if !ok {
		return nil
	}
	var dev *os.File
	for i := 0; i < 3; i++ {
		if st, ok := nullDevice(i); !ok || st == own {
			continue
		}
		if dev == nil {
			if dev, err = procfs.ReopenFd(node, unix.O_RDWR); err != nil {
				return fmt.Errorf("reopen /dev/null for stdio: %w", err)
			}
			defer dev.Close()
		}
		if err := unix.Dup3(int(dev.Fd()), i, 0); err != nil {
			return fmt.Errorf("dup /dev/null to fd %d: %w", i, err)
		}
	}
	return nil
}

// nullFile says where a null device is: its mount and inode.
type nullFile struct {
	mount, ino uint64
}

// nullDevice reports whether fd is the null device (1:3), and where it is.
func nullDevice(fd int) (nullFile, bool) {
	var stx unix.Statx_t
	if err := unix.Statx(fd, "", unix.AT_EMPTY_PATH|unix.AT_SYMLINK_NOFOLLOW, unix.STATX_TYPE|unix.STATX_INO|unix.STATX_MNT_ID, &stx); err != nil {
		return nullFile{}, false
	}
	if stx.Mode&unix.S_IFMT != unix.S_IFCHR || stx.Rdev_major != 1 || stx.Rdev_minor != 3 {
		return nullFile{}, false
	}
	return nullFile{mount: stx.Mnt_id, ino: stx.Ino}, true
}

// hostMountSource asks rt for the source of mounts[index] as a detached
// mount tree (see initproto: mount-request).
func hostMountSource(ch *initproto.Channel, index int) (*os.File, error) {
	if err := ch.Send(initproto.Message{Type: initproto.MsgMountRequest, Mount: index}); err != nil {
		return nil, err
	}
	_, fds, err := ch.Expect(initproto.MsgMountSource)
	if err == nil && len(fds) != 1 {
		err = fmt.Errorf("mount-source carried %d fds, want 1", len(fds))
	}
	if err != nil {
		for _, fd := range fds {
			unix.Close(fd)
		}
		return nil, fmt.Errorf("mount source from rt: %w", err)
	}
	return os.NewFile(uintptr(fds[0]), "mount-source"), nil
}

// joinMemoryCgroup moves the calling thread, the init's main thread, into
// the container's memory cgroup (Config.JoinMemoryFd): a thread moving
// itself takes no global lock. The other threads of the init's Go runtime
// stay behind and die at its execve; the main thread is the one whose
// cgroup /proc/<pid>/cgroup shows and whose memory cgroup the process's
// memory is charged to from now on.
func joinMemoryCgroup(cfg *initproto.Config) error {
	if cfg.JoinMemoryFd <= 0 {
		return nil
	}
	tasks := os.NewFile(uintptr(cfg.JoinMemoryFd), "memory-tasks")
	cfg.JoinMemoryFd = 0
	defer tasks.Close()
	if _, err := tasks.Write([]byte("0")); err != nil {
		return fmt.Errorf("join the container's memory cgroup: %w", err)
	}
	trace.Log("%s: joined the container's memory cgroup", cfg.Mode.TraceName())
	return nil
}
