package libcontainer

import (
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"github.com/sirupsen/logrus"
	"golang.org/x/sys/unix"

	"github.com/rtproject/rt/cgroups"
	"github.com/rtproject/rt/internal/trace"
	"github.com/rtproject/rt/libcontainer/hooks"
	"github.com/rtproject/rt/libcontainer/internal/initproto"
	"github.com/rtproject/rt/libcontainer/namespaces"
	"github.com/rtproject/rt/libcontainer/netdev"
	"github.com/rtproject/rt/libcontainer/rootfs"
)

// CreateOpts are the options of `rt create` and `rt run`.
type CreateOpts struct {
	ID            string
	Bundle        string // absolute
	Spec          *specs.Spec
	ConsoleSocket string
	// ConsoleConn is an already connected console socket (rt run with a terminal).
	ConsoleConn *os.File
	// PidfdSocket receives a pidfd of the init once it is ready.
	PidfdSocket  string
	PidFile      string
	NoPivot      bool
	NoNewKeyring bool
	PreserveFds  int
	// Stdio of the container's init; nil means rt's own.
	Stdio [3]*os.File
}

// Create creates the container and leaves its init waiting on exec.fifo. It
// returns the container (locked) and the init process. On failure nothing is left behind.
func (r *Runtime) Create(o *CreateOpts) (c *Container, proc *os.Process, err error) {
	if err := ValidateID(o.ID); err != nil {
		return nil, nil, err
	}
	if c, err = r.newContainer(o.ID); err != nil {
		return nil, nil, err
	}
	b := &builder{c: c, o: o}
	defer func() {
		if err != nil {
			b.cleanup()
			c = nil
			proc = nil
		}
	}()
	if err := b.build(); err != nil {
		return nil, nil, err
	}
	return c, b.init.proc, nil
}

// newContainer makes the state directory of a new container, locked: the one
// place that refuses an id in use.
func (r *Runtime) newContainer(id string) (*Container, error) {
	if err := r.makeRoot(); err != nil {
		return nil, err
	}
	dir := r.dir(id)
	if err := os.Mkdir(dir, 0o700); err != nil {
		if errors.Is(err, os.ErrExist) {
			return nil, fmt.Errorf("container with id exists: %s", id)
		}
		return nil, fmt.Errorf("create state dir in the state root %s: %w", r.Root, withRootHint(err))
	}
	lock, err := lockDir(dir)
	if err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	return &Container{rt: r, dir: dir, lock: lock}, nil
}

// newState makes the first record of a container being made (created or
// restored), with its rootfs resolved: Creating until it is ready.
func (c *Container) newState(id, bundle string, spec *specs.Spec) (*State, error) {
	rootfsPath := spec.Root.Path
	if !filepath.IsAbs(rootfsPath) {
		rootfsPath = filepath.Join(bundle, rootfsPath)
	}
	rootfsPath, err := filepath.EvalSymlinks(rootfsPath)
	if err != nil {
		return nil, fmt.Errorf("root.path: %w", err)
	}
	c.state = &State{
		ID:       id,
		Bundle:   bundle,
		Rootfs:   rootfsPath,
		Created:  time.Now().UTC(),
		Owner:    ownerName(os.Geteuid()),
		Config:   spec,
		Creating: true,

		Rootless:      c.rt.Rootless,
		SystemdCgroup: c.rt.SystemdCgroup,
	}
	return c.state, nil
}

// builder holds what a create has made so far, to undo it on failure.
type builder struct {
	c       *Container
	o       *CreateOpts
	init    *initProcess
	cgroups cgroups.Manager
	// joined is set once the init is in the cgroups: only then is what is
	// in them the container's to kill (and to thaw for that).
	joined bool
}

// cleanup undoes a create that failed. What is in the container's cgroup by
// now is the container's (an occupied cgroup was refused): it goes, thawed
// first should something have frozen it, as a frozen process takes no
// signal.
func (b *builder) cleanup() {
	if b.joined {
		if st, err := b.cgroups.FreezerState(); err == nil && st == "frozen" {
			b.cgroups.Thaw()
		}
	}
	b.init.kill()
	b.init.close()
	if b.cgroups != nil {
		if b.joined {
			killCgroup(b.cgroups)
		}
		if err := b.cgroups.Destroy(); err != nil {
			logrus.Warnf("cleanup: remove cgroup: %v", err)
		}
	}
	if st := b.c.state; st != nil && st.HostMountNS {
		if err := rootfs.DetachHostMounts(st.Rootfs, st.RootfsMounts); err != nil {
			logrus.Warnf("cleanup: %v", err)
		}
	}
	os.RemoveAll(b.c.dir)
	b.c.Close()
}

func (b *builder) build() error {
	o, spec := b.o, b.o.Spec
	st, err := b.c.newState(o.ID, o.Bundle, spec)
	if err != nil {
		return err
	}
	rootfsPath := st.Rootfs
	trace.Log("create: container %s, state in %s, rootfs %s", o.ID, b.c.dir, rootfsPath)
	if !namespaces.Has(spec, specs.MountNamespace) {
		st.HostMountNS = true
		if st.RootfsMounts, err = rootfs.MountsAt(rootfsPath); err != nil {
			return err
		}
	}
	m, err := b.c.newCgroupManager()
	if err != nil {
		return err
	}
	if m != nil {
		b.cgroups = m
		st.CgroupPaths = m.Paths()
		st.CgroupExisting = m.Existing()
		if st.CgroupLayout, err = cgroups.HostLayout(); err != nil {
			return err
		}
	}
	// Recorded before anything of the container exists on the host: from
	// here on, whatever a kill of rt leaves, delete --force finds it here.
	if err := writeState(b.c.dir, st); err != nil {
		return fmt.Errorf("write state: %w", err)
	}
	if m != nil {
		if err := m.Joinable(); err != nil {
			return err
		}
	}

	fifoPath := filepath.Join(b.c.dir, execFifoName)
	if err := unix.Mkfifo(fifoPath, 0o622); err != nil {
		return fmt.Errorf("create exec fifo: %w", err)
	}
	// Not subject to the umask: the init may write it as any user.
	if err := os.Chmod(fifoPath, 0o622); err != nil {
		return fmt.Errorf("create exec fifo: %w", err)
	}
	fifo, err := os.OpenFile(fifoPath, unix.O_PATH|unix.O_CLOEXEC, 0)
	if err != nil {
		return fmt.Errorf("open exec fifo: %w", err)
	}
	defer fifo.Close()

	cp := newChildProcess(o.Stdio, o.PreserveFds)
	cfg := &initproto.Config{
		Mode:         initproto.ModeStandard,
		ID:           o.ID,
		Bundle:       o.Bundle,
		Rootfs:       rootfsPath,
		Spec:         spec,
		Process:      spec.Process,
		NoPivot:      o.NoPivot,
		NoNewKeyring: o.NoNewKeyring,
		PreserveFds:  o.PreserveFds,
		ConsoleFd:    -1,
		// rt's root can clone sources the container cannot reach; a
		// rootless rt can reach nothing more than its container.
		HostSources: os.Geteuid() == 0,
	}
	cfg.FifoFd = cp.addFile(fifo)
	if o.ConsoleConn != nil {
		cfg.ConsoleFd = cp.addFile(o.ConsoleConn)
		cfg.ConsoleToRT = true
	} else if o.ConsoleSocket != "" {
		conn, err := dialConsoleSocket(o.ConsoleSocket)
		if err != nil {
			return err
		}
		defer conn.Close()
		cfg.ConsoleFd = cp.addFile(conn)
	}
	var pidfdConn *os.File
	if o.PidfdSocket != "" {
		// Connected before anything starts: a wrong path fails with nothing to undo.
		if pidfdConn, err = dialUnix("--pidfd-socket", o.PidfdSocket); err != nil {
			return err
		}
		defer pidfdConn.Close()
	}

	for _, ns := range spec.Linux.Namespaces {
		if ns.Path != "" {
			cp.joins = append(cp.joins, nsJoin{typ: ns.Type, path: ns.Path})
			continue
		}
		switch ns.Type {
		case specs.TimeNamespace:
			// Made by init with unshare, after it has written the offsets.
		case specs.CgroupNamespace:
			// Made by init with unshare once rt has put it in its cgroups:
			// the namespace is rooted where the init is when it is made.
		case specs.UserNamespace:
			cp.cloneflags |= unix.CLONE_NEWUSER
			cp.uidMaps, cp.gidMaps = idMaps(spec.Linux.UIDMappings), idMaps(spec.Linux.GIDMappings)
			cfg.NewUserNS = true
		default:
			cp.cloneflags |= uintptr(namespaces.CloneFlag(ns.Type))
		}
	}

	// The init is born in its cgroups (cgroupEntry), which therefore exist
	// first; under systemd, whose scope takes the init's pid, and for a
	// rootless rt that needs newuidmap, it is moved there once started.
	tcg := trace.Start()
	if m != nil && !st.SystemdCgroup && !cp.mapsByHelpers() {
		if err := m.Apply(-1); err != nil {
			return fmt.Errorf("apply cgroup: %w", err)
		}
		if bornIn(m) {
			if cp.cgroups, err = openCgroupEntry(m.Paths(), st.Rootless); err != nil {
				return err
			}
			defer cp.cgroups.Close()
			if cp.cgroups.memory != nil {
				cfg.JoinMemoryFd = cp.addFile(cp.cgroups.memory)
			}
			b.joined = true
		}
	}

	t := trace.Start()
	if b.init, err = cp.start(); err != nil {
		return err
	}
	pid := b.init.proc.Pid
	st.InitPid = pid
	if trace.Enabled() {
		t.Done("create: rt init started, pid %d; %s", pid, cp.describeNamespaces())
	}

	switch {
	case cp.cgroups != nil:
		// Rootless, Apply left out the hierarchies it may not write.
		st.CgroupPaths = m.Paths()
		cfg.CgroupPaths = st.CgroupPaths
		if trace.Enabled() {
			tcg.Done("create: init joined its cgroup: %s (born in it; memory joined by the init itself: %t)",
				describeCgroupPaths(st.CgroupPaths), cfg.JoinMemoryFd > 0)
		}
	case m != nil:
		t = trace.Start()
		b.joined = true
		wanted := st.CgroupPaths
		if err := m.Apply(pid); err != nil {
			return fmt.Errorf("apply cgroup: %w", err)
		}
		// Rootless, Apply leaves out the hierarchies it may not write.
		st.CgroupPaths = m.Paths()
		if skipped := len(wanted) - len(st.CgroupPaths); skipped > 0 {
			logrus.Debugf("create: rootless: %d of %d cgroup hierarchies not writable by uid %d; the container stays in rt's own cgroup there",
				skipped, len(wanted), os.Geteuid())
		}
		cfg.CgroupPaths = st.CgroupPaths
		if trace.Enabled() && len(st.CgroupPaths) > 0 {
			t.Done("create: init joined its cgroup: %s", describeCgroupPaths(st.CgroupPaths))
		}
	default:
		trace.Log("create: no cgroup (linux.cgroupsPath unset and no resources)")
	}

	// Before any hook runs: an engine's createRuntime hook may configure
	// the moved interface.
	t = trace.Start()
	moved, err := netdev.Move(spec, namespaces.ProcPath(pid, specs.NetworkNamespace))
	if err != nil {
		return err
	}
	if len(moved) > 0 {
		t.Done("create: linux.netDevices: %s", strings.Join(moved, "; "))
	}

	cfg.HostPid = pid
	cfg.Debug = trace.Enabled()
	sources := rootfs.NewSources(spec, o.Bundle, rootfsPath, pid, st.HostMountNS, namespaces.Has(spec, specs.UserNamespace))
	defer sources.Close()
	t = trace.Start()
	creating := hooks.State(o.ID, o.Bundle, spec, specs.StateCreating, pid)
	err = b.init.converse(&conversation{
		cfg:     cfg,
		spec:    spec,
		state:   creating,
		sources: sources,
		runHooks: func() error {
			// Resources are set once the init has made /dev, as runc
			// does: a bundle that denies a default device (say c 1:5)
			// must still get its node, only not access to it.
			if b.cgroups != nil {
				t := trace.Start()
				if err := b.c.setCgroupResources(b.cgroups); err != nil {
					return err
				}
				t.Done("create: linux.resources written to the cgroup")
			}
			if h := spec.Hooks; h != nil {
				t := trace.Start()
				if err := hooks.Run("prestart", h.Prestart, creating); err != nil {
					return err
				}
				if err := hooks.Run("createRuntime", h.CreateRuntime, creating); err != nil {
					return err
				}
				t.Done("create: %d prestart and %d createRuntime hooks ran", len(h.Prestart), len(h.CreateRuntime))
			}
			return nil
		},
		stuck: stuckCheck(pid, m, false),
	})
	if err != nil {
		return err
	}

	t.Done("create: init ready")
	startTime, _, err := procStartTime(pid)
	if err != nil {
		return fmt.Errorf("init exited during create: %w", err)
	}
	st.InitStartTime = startTime
	st.InitFifoFd = cfg.FifoFd
	st.Creating = false
	if err := writeState(b.c.dir, st); err != nil {
		return fmt.Errorf("write state: %w", err)
	}
	// Only now may the init outlive us.
	if err := b.init.ch.Send(initproto.Message{Type: initproto.MsgRecorded}); err != nil {
		return fmt.Errorf("container init: %w", err)
	}
	b.init.close()
	if pidfdConn != nil {
		if err := sendPidfd(pidfdConn, pid, "standard"); err != nil {
			return err
		}
	}
	if o.PidFile != "" {
		if err := WritePidFile(o.PidFile, pid); err != nil {
			return err
		}
	}
	trace.Log("create: container %s created, init pid %d waits on %s", o.ID, pid, fifoPath)
	return nil
}

func dialConsoleSocket(path string) (*os.File, error) { return dialUnix("--console-socket", path) }

// dialUnix connects to the unix socket at path, named by flag in errors.
func dialUnix(flag, path string) (*os.File, error) {
	conn, err := net.Dial("unix", path)
	if err != nil {
		return nil, fmt.Errorf("%s %s: %w", flag, path, err)
	}
	defer conn.Close()
	f, err := conn.(*net.UnixConn).File()
	if err != nil {
		return nil, fmt.Errorf("%s %s: %w", flag, path, err)
	}
	return f, nil
}

// sendPidfd sends a pidfd of pid (a child of ours, so the pid is still its)
// over conn with SCM_RIGHTS, as runc's --pidfd-socket does: the message
// says which kind of process it is ("standard" for an init, "setns" for an
// exec'd process), in runc's words.
func sendPidfd(conn *os.File, pid int, kind string) error {
	fd, err := unix.PidfdOpen(pid, 0)
	if err != nil {
		return fmt.Errorf("--pidfd-socket: pidfd_open %d: %w", pid, err)
	}
	defer unix.Close(fd)
	if err := unix.Sendmsg(int(conn.Fd()), []byte(kind), unix.UnixRights(fd), nil, 0); err != nil {
		return fmt.Errorf("--pidfd-socket: send the pidfd of %d: %w", pid, err)
	}
	return nil
}

// WritePidFile writes pid to path atomically, as containerd and conmon read it as soon as it appears.
func WritePidFile(path string, pid int) error {
	abs, err := filepath.Abs(path)
	if err != nil {
		return err
	}
	if err := writeFileAtomic(abs, []byte(strconv.Itoa(pid)), 0o644); err != nil {
		return fmt.Errorf("write pid file %s: %w", path, err)
	}
	return nil
}
