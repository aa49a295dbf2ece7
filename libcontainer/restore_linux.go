package libcontainer

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"github.com/sirupsen/logrus"
	"golang.org/x/sys/unix"

	"github.com/rtproject/rt/cgroups"
	"github.com/rtproject/rt/libcontainer/criu"
	"github.com/rtproject/rt/libcontainer/criu/criurpc"
	"github.com/rtproject/rt/libcontainer/hooks"
	"github.com/rtproject/rt/libcontainer/namespaces"
	"github.com/rtproject/rt/libcontainer/rootfs"
)

// RestoreOpts are the options of `rt restore`.
type RestoreOpts struct {
	ID     string
	Bundle string // absolute
	Spec   *specs.Spec
	// ConsoleSocket receives the new master of the container's terminal.
	ConsoleSocket string
	// ConsoleConn is an already connected console socket (a foreground restore with a terminal).
	ConsoleConn *os.File
	PidFile     string
	// Stdio replace the pipes the checkpointed init had as stdio; nil means rt's own.
	Stdio [3]*os.File
	Criu  CriuOpts
}

// Restore brings a checkpointed container back from o.Criu.ImagePath with
// CRIU, under the id o.ID and the bundle's config, and records it like a
// started container. The restored process tree is the container's own, with
// no rt code in it: its first process is the container's init, which CRIU
// makes a child of ours (so a foreground restore can wait for it). It returns
// the container, locked, and the init. On failure nothing is left behind.
func (r *Runtime) Restore(o *RestoreOpts) (c *Container, proc *os.Process, err error) {
	if err := ValidateID(o.ID); err != nil {
		return nil, nil, err
	}
	if !namespaces.Has(o.Spec, specs.MountNamespace) {
		return nil, nil, errors.New("restore: linux.namespaces has no mount namespace: CRIU restores containers with their own")
	}
	if err := o.Criu.validate(); err != nil {
		return nil, nil, err
	}
	descs, err := readDescriptors(o.Criu.imagePath())
	if err != nil {
		return nil, nil, err
	}
	info, err := o.Criu.probeCriu()
	if err != nil {
		return nil, nil, err
	}
	if c, err = r.newContainer(o.ID); err != nil {
		return nil, nil, err
	}
	rs := &restorer{c: c, o: o, info: info, descs: descs}
	defer func() {
		if err != nil {
			rs.cleanup()
			c, proc = nil, nil
		}
	}()
	if err := rs.restore(); err != nil {
		return nil, nil, err
	}
	return c, rs.proc, nil
}

// restorer holds what a restore has made so far, to undo it on failure.
type restorer struct {
	c       *Container
	o       *RestoreOpts
	info    *criu.Info
	descs   []string
	cgroups cgroups.Manager
	proc    *os.Process
	root    string // the rootfs bind CRIU restores into, while mounted
}

func (rs *restorer) cleanup() {
	if rs.cgroups != nil {
		// Whatever CRIU restored is in the cgroup, and nothing else.
		killInCgroupDirs(rs.cgroups.Paths())
	}
	if rs.proc != nil {
		rs.proc.Kill()
		rs.proc.Wait()
	}
	rs.unmountRoot()
	if rs.cgroups != nil {
		if err := rs.cgroups.Destroy(); err != nil {
			logrus.Warnf("cleanup: remove cgroup: %v", err)
		}
	}
	os.RemoveAll(rs.c.dir)
	rs.c.Close()
}

func (rs *restorer) unmountRoot() {
	if rs.root == "" {
		return
	}
	if err := unix.Unmount(rs.root, unix.MNT_DETACH); err != nil {
		logrus.Warnf("unmount %s: %v", rs.root, err)
		return
	}
	os.Remove(rs.root)
	rs.root = ""
}

func (rs *restorer) restore() error {
	o, spec := rs.o, rs.o.Spec
	st, err := rs.c.newState(o.ID, o.Bundle, spec)
	if err != nil {
		return err
	}
	rootfsPath := st.Rootfs

	// The cgroup is recorded before CRIU puts anything in it: delete
	// --force cleans up after a restore killed half-way.
	m, err := rs.c.newCgroupManager()
	if err != nil {
		return err
	}
	if m != nil {
		rs.cgroups = m
		st.CgroupPaths = m.Paths()
		st.CgroupExisting = m.Existing()
		if st.CgroupLayout, err = cgroups.HostLayout(); err != nil {
			return err
		}
	}
	if err := writeState(rs.c.dir, st); err != nil {
		return fmt.Errorf("write state: %w", err)
	}
	if m != nil {
		if err := m.Joinable(); err != nil {
			return err
		}
		if err := m.Apply(-1); err != nil {
			return fmt.Errorf("apply cgroup: %w", err)
		}
	}

	if err := rootfs.PrepareRestore(rootfsPath, o.Bundle, spec.Mounts); err != nil {
		return err
	}
	images, work, err := o.Criu.openDirs(false)
	if err != nil {
		return err
	}
	defer images.Close()
	if work != nil {
		defer work.Close()
	}
	const logFile = "restore.log"
	opts := o.Criu.baseRPC(spec)
	opts.ImagesDirFd = int32(images.Fd())
	if work != nil {
		opts.WorkDirFd = new(int32(work.Fd()))
	}
	opts.LogFile = logFile
	// Device files of the host the container had open are found by
	// device number, wherever they are.
	opts.EvasiveDevices = new(true)
	// The container's init becomes our child, not CRIU's.
	opts.RstSibling = new(true)
	opts.LsmProfile = o.Criu.LsmProfile
	opts.LsmMountContext = o.Criu.LsmMountContext

	// CRIU's root must be a mount point whose parent is not covered: a
	// bind of the rootfs in the state directory.
	root := filepath.Join(rs.c.dir, criuRootDir)
	if err := os.Mkdir(root, 0o755); err != nil {
		return err
	}
	if err := unix.Mount(rootfsPath, root, "", unix.MS_BIND|unix.MS_REC, ""); err != nil {
		os.Remove(root)
		return fmt.Errorf("bind rootfs for CRIU: %w", err)
	}
	rs.root = root
	opts.Root = root

	nsFiles, err := rs.namespaces(opts)
	defer func() {
		for _, f := range nsFiles {
			f.Close()
		}
	}()
	if err != nil {
		return err
	}
	if opts.ExtMnt, err = externalMounts(spec, rootfsPath, o.Bundle, st.CgroupPaths, true); err != nil {
		return err
	}
	if spec.Linux != nil && len(spec.Linux.MaskedPaths) > 0 {
		opts.ExtMnt = append(opts.ExtMnt, extMount("/dev/null", "/dev/null"))
	}
	// The init's stdio that were pipes become CRIU's own stdio, which are
	// the restorer's: the engine hands new pipes to the restored process.
	for i, d := range rs.descs {
		if strings.HasPrefix(d, "pipe:") {
			opts.InheritFd = append(opts.InheritFd, criurpc.InheritFd{Key: d, Fd: int32(i)})
		}
	}

	var console *os.File
	if spec.Process != nil && spec.Process.Terminal {
		switch {
		case o.ConsoleConn != nil:
			console = o.ConsoleConn
		case o.ConsoleSocket != "":
			conn, err := dialConsoleSocket(o.ConsoleSocket)
			if err != nil {
				return err
			}
			defer conn.Close()
			console = conn
		default:
			return errors.New("process.terminal is set but no --console-socket was given")
		}
	}

	stdio := o.Stdio
	for i, f := range []*os.File{os.Stdin, os.Stdout, os.Stderr} {
		if stdio[i] == nil {
			stdio[i] = f
		}
	}
	s, err := criu.Start(criu.Options{Path: rs.info.Path, Stdio: stdio, ExtraFiles: nsFiles})
	if err != nil {
		return err
	}
	criuDone := false
	defer func() {
		if !criuDone {
			s.Close()
		}
	}()
	// CRIU starts the restored tasks inside its own cgroup: the container's.
	if m != nil {
		if err := m.Apply(s.Pid()); err != nil {
			return fmt.Errorf("apply cgroup: %w", err)
		}
		if err := rs.c.setCgroupResources(m); err != nil {
			return err
		}
		if opts.CgRoot, err = cgroupRoots(s.Pid()); err != nil {
			return err
		}
	}
	var restoredPid int
	_, err = s.Request(&criurpc.Req{Type: criurpc.ReqRestore, Opts: opts}, func(n criurpc.Notify, fds []int) error {
		switch n.Script {
		case "setup-namespaces":
			// The namespaces exist, nothing runs yet: runc's moment
			// for the hooks a create runs before the process starts.
			if h := spec.Hooks; h != nil {
				state := hooks.State(o.ID, o.Bundle, spec, specs.StateCreating, int(n.Pid))
				if err := hooks.Run("prestart", h.Prestart, state); err != nil {
					return err
				}
				return hooks.Run("createRuntime", h.CreateRuntime, state)
			}
		case "post-restore":
			restoredPid = int(n.Pid)
		case "orphan-pts-master":
			if len(fds) != 1 {
				return fmt.Errorf("got %d fds, want the pty master", len(fds))
			}
			if console == nil {
				return errors.New("the checkpoint has a terminal but process.terminal is not set")
			}
			if err := unix.Sendmsg(int(console.Fd()), []byte("/dev/ptmx"), unix.UnixRights(fds[0]), nil, 0); err != nil {
				return fmt.Errorf("send pty master over console socket: %w", err)
			}
		}
		return nil
	})
	if err != nil {
		return o.Criu.criuFailed(err, logFile)
	}
	criuDone = true
	if err := s.Close(); err != nil {
		return o.Criu.criuFailed(err, logFile)
	}
	if restoredPid <= 0 {
		return errors.New("criu restore: no post-restore notification with the restored pid")
	}
	if rs.proc, err = os.FindProcess(restoredPid); err != nil {
		return err
	}
	rs.unmountRoot()

	startTime, _, err := procStartTime(restoredPid)
	if err != nil {
		return fmt.Errorf("restored init exited: %w", err)
	}
	st.InitPid, st.InitStartTime = restoredPid, startTime
	st.Creating = false
	st.Config = withRestoredTimeNamespace(spec, restoredPid)
	if err := writeState(rs.c.dir, st); err != nil {
		return fmt.Errorf("write state: %w", err)
	}
	if o.PidFile != "" {
		if err := WritePidFile(o.PidFile, restoredPid); err != nil {
			return err
		}
	}
	return nil
}

// namespaces tells CRIU about the namespaces the spec joins by path: network
// and pid ones by the fds it inherits (their key in the images says where
// they go), the others to be joined. It returns the fds to pass.
func (rs *restorer) namespaces(opts *criurpc.Opts) ([]*os.File, error) {
	var files []*os.File
	spec := rs.o.Spec
	for i, ns := range spec.Linux.Namespaces {
		if ns.Path == "" {
			continue
		}
		switch ns.Type {
		case specs.NetworkNamespace, specs.PIDNamespace:
			f, err := os.OpenFile(ns.Path, os.O_RDONLY|unix.O_CLOEXEC, 0)
			if err != nil {
				return files, fmt.Errorf("linux.namespaces[%d].path: %w", i, err)
			}
			opts.InheritFd = append(opts.InheritFd, criurpc.InheritFd{
				Key: criuNsKey(ns.Type),
				Fd:  int32(criu.FirstExtraFd + len(files)),
			})
			files = append(files, f)
		case specs.CgroupNamespace:
			return files, fmt.Errorf("linux.namespaces[%d]: CRIU cannot restore into an existing cgroup namespace", i)
		default:
			opts.JoinNs = append(opts.JoinNs, criurpc.JoinNamespace{Ns: namespaces.ProcName(ns.Type), NsFile: ns.Path})
		}
	}
	return files, nil
}

// cgroupRoots maps each hierarchy to pid's cgroup there (CRIU's, in the
// container's cgroup): CRIU rebases the checkpoint's cgroups onto them.
func cgroupRoots(pid int) ([]criurpc.CgroupRoot, error) {
	f, err := os.Open(fmt.Sprintf("/proc/%d/cgroup", pid))
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var roots []criurpc.CgroupRoot
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		parts := strings.SplitN(sc.Text(), ":", 3)
		if len(parts) != 3 {
			continue
		}
		for _, ctrl := range strings.Split(parts[1], ",") {
			roots = append(roots, criurpc.CgroupRoot{Ctrl: ctrl, Path: parts[2]})
		}
	}
	return roots, sc.Err()
}

// withRestoredTimeNamespace records the time namespace CRIU restores a tree
// into (to keep its clocks continuous), so that exec joins it too.
func withRestoredTimeNamespace(spec *specs.Spec, pid int) *specs.Spec {
	if namespaces.Has(spec, specs.TimeNamespace) {
		return spec
	}
	theirs, err1 := os.Readlink(fmt.Sprintf("/proc/%d/ns/time", pid))
	ours, err2 := os.Readlink("/proc/self/ns/time")
	if err1 != nil || err2 != nil || theirs == ours {
		return spec
	}
	s := *spec
	l := *spec.Linux
	l.Namespaces = append(append([]specs.LinuxNamespace(nil), l.Namespaces...), specs.LinuxNamespace{Type: specs.TimeNamespace})
	s.Linux = &l
	return &s
}
