package libcontainer

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"time"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"

	"github.com/rtproject/rt/libcontainer/internal/initproto"
	"github.com/rtproject/rt/libcontainer/namespaces"
	"github.com/rtproject/rt/libcontainer/system"
	"github.com/rtproject/rt/nsenter"
)

// initArgv is the command line of `rt init` as /proc/<pid>/cmdline shows it:
// until the init execs the container's process, it reads so.
const initArgv = "rt\x00init\x00"

type nsJoin struct {
	typ  specs.LinuxNamespaceType
	path string
}

// childProcess describes the re-executed `rt init` to start.
type childProcess struct {
	stdio [3]*os.File
	// extra become fds 3, 4, … in the child.
	extra []*os.File
	// preserveFds is how many of extra are rt's own fds 3, 4, … passed on.
	preserveFds int
	// cloneflags creates new namespaces (the time namespace excepted: init unshares it).
	cloneflags uintptr
	uidMaps    []syscall.SysProcIDMap
	gidMaps    []syscall.SysProcIDMap
	joins      []nsJoin
	// root, when set, becomes the child's root directory (exec into a
	// container without a mount namespace, whose init is chrooted).
	root *os.File
	// alwaysSpawn forces the raw-clone path (exec: the binary must not be
	// looked up inside the container's mount namespace).
	alwaysSpawn bool
	// affinity pins the child from its first instruction (exec's
	// execCPUAffinity.initial).
	affinity *specs.CPUAffinity
	// threadJoined is set once the forking thread joined namespaces.
	threadJoined bool
	// cgroups, when set, are the cgroups the child is born in (through
	// nsenter.Spawn, whose intermediate moves itself there first).
	cgroups *cgroupEntry
	// execConfig, when set, is exec's config for the fast path
	// (nsenter.SpawnConfig.ExecProcess): the fresh image reads it while
	// Spawn waits for the process's exec, so start sends it at once.
	execConfig *initproto.Config
}

// newChildProcess gives the child stdio (rt's own where nil) and the
// preserved fds, which keep their numbers 3, 4, …; rt's own fds follow them.
func newChildProcess(stdio [3]*os.File, preserveFds int) *childProcess {
	cp := &childProcess{stdio: stdio, preserveFds: preserveFds}
	for i, f := range cp.stdio {
		if f == nil {
			cp.stdio[i] = []*os.File{os.Stdin, os.Stdout, os.Stderr}[i]
		}
	}
	for i := 0; i < preserveFds; i++ {
		cp.extra = append(cp.extra, os.NewFile(uintptr(3+i), "preserved-"+strconv.Itoa(3+i)))
	}
	return cp
}

// addFile makes f the child's next fd and returns its number there.
func (cp *childProcess) addFile(f *os.File) int {
	cp.extra = append(cp.extra, f)
	return 2 + len(cp.extra)
}

// start launches `rt init` from a read-only view of the rt binary, with a
// socket to talk to it over, which it adds as the child's last fd.
//
// The init arms a parent-death signal while it is being set up, so that a
// kill of rt takes it along. The kernel sends that signal when the thread
// that forked the child ends, not the process, and Go ends a thread whenever
// a goroutine exits while locked to it: the child is forked from a thread of
// its own, kept until initProcess.release.
func (cp *childProcess) start() (*initProcess, error) {
	parentSock, childSock, err := newSocketPair("init", true)
	if err != nil {
		return nil, err
	}
	defer childSock.Close()
	sockFd := cp.addFile(childSock)
	ch := initproto.NewChannel(parentSock)
	var configSent chan error
	if cp.execConfig != nil {
		configSent = make(chan error, 1)
		go func() { configSent <- ch.SendConfig(cp.execConfig) }()
	}
	type started struct {
		proc *os.Process
		err  error
	}
	res := make(chan started, 1)
	release := make(chan struct{})
	go func() {
		runtime.LockOSThread()
		var proc *os.Process
		err := system.WithInitialCPUAffinity(cp.affinity, func() error {
			var err error
			proc, err = cp.spawn(sockFd)
			return err
		})
		res <- started{proc, err}
		if err == nil {
			<-release
		}
		// A thread that joined namespaces or was pinned to CPUs ends with
		// this goroutine; a clean one goes back to the runtime.
		if !cp.threadJoined && (cp.affinity == nil || cp.affinity.Initial == "") {
			runtime.UnlockOSThread()
		}
	}()
	r := <-res
	if r.err != nil {
		if configSent != nil {
			childSock.Close()
			r.err = freshImageError(ch, r.err)
		}
		parentSock.Close()
		return nil, r.err
	}
	p := &initProcess{proc: r.proc, ch: ch, release: func() { close(release) }}
	if configSent != nil {
		// The fresh image read it before it forked the process.
		if err := <-configSent; err != nil {
			p.pidfd = -1
			p.kill()
			p.close()
			return nil, fmt.Errorf("send config to the exec's fresh image: %w", err)
		}
	}
	if p.pidfd, err = unix.PidfdOpen(r.proc.Pid, 0); err != nil {
		p.pidfd = -1
		p.kill()
		p.close()
		return nil, fmt.Errorf("pidfd_open of init %d: %w", r.proc.Pid, err)
	}
	if cp.mapsByHelpers() {
		if err := writeMapsByHelpers(r.proc.Pid, cp.uidMaps, cp.gidMaps); err != nil {
			p.kill()
			p.close()
			return nil, err
		}
		if err := p.ch.Send(initproto.Message{Type: initproto.MsgIDMapsDone}); err != nil {
			p.kill()
			p.close()
			return nil, fmt.Errorf("start init: %w", err)
		}
	}
	return p, nil
}

// freshImageError is the error of a failed Spawn for exec's fast path: the
// fresh image reports a failure of its own (the exec init's, with its
// words: a missing executable, a bad cwd) over the init socket, where it
// may have logged before. Spawn's error stands otherwise.
func freshImageError(ch *initproto.Channel, spawnErr error) error {
	// The fresh image has exited: what it sent is in the socket, and our
	// copy of its end is closed, so the reads end in EOF.
	ch.SetDeadline(time.Now().Add(killTimeout))
	for {
		m, fds, err := ch.Recv()
		for _, fd := range fds {
			unix.Close(fd)
		}
		switch {
		case err != nil:
			return spawnErr
		case m.Type == initproto.MsgLog:
			initproto.RelayLog(m.Log)
		case m.Type == initproto.MsgError:
			return errors.New(m.Error)
		}
	}
}

// mapsByHelpers reports whether the new user namespace gets its maps from
// newuidmap and newgidmap: rt without root may write a map only of its own
// uid (and gid), one id each, and then only with setgroups denied.
func (cp *childProcess) mapsByHelpers() bool {
	return cp.cloneflags&unix.CLONE_NEWUSER != 0 && needMapHelpers(os.Geteuid(), os.Getegid(), cp.uidMaps, cp.gidMaps)
}

// needMapHelpers reports whether a process with euid and egid needs the
// setuid helpers to write uidMaps and gidMaps.
func needMapHelpers(euid, egid int, uidMaps, gidMaps []syscall.SysProcIDMap) bool {
	if euid == 0 {
		return false
	}
	own := func(m []syscall.SysProcIDMap, id int) bool {
		return len(m) == 1 && m[0].HostID == id && m[0].Size == 1
	}
	return !own(uidMaps, euid) || !own(gidMaps, egid)
}

// spawn starts the child from the calling thread, which start has locked
// and keeps.
func (cp *childProcess) spawn(sockFd int) (*os.Process, error) {
	exe, err := selfImage()
	if err != nil {
		return nil, err
	}
	defer exe.Close()

	// Open every namespace before joining any: a path may be relative to a
	// namespace we are about to leave.
	var nsFiles []*os.File
	defer func() {
		for _, f := range nsFiles {
			f.Close()
		}
	}()
	var joins []nsenter.Namespace
	needSpawn := cp.alwaysSpawn || cp.cgroups != nil
	joinsPid := false
	for _, j := range cp.joins {
		f, err := os.OpenFile(j.path, os.O_RDONLY|unix.O_CLOEXEC, 0)
		if err != nil {
			return nil, fmt.Errorf("open %s namespace %s: %w", j.typ, j.path, err)
		}
		nsFiles = append(nsFiles, f)
		joins = append(joins, nsenter.Namespace{Type: namespaces.CloneFlag(j.typ), Fd: int(f.Fd())})
		switch j.typ {
		case specs.UserNamespace, specs.TimeNamespace, specs.MountNamespace:
			if cp.cloneflags&unix.CLONE_NEWUSER != 0 {
				return nil, fmt.Errorf("a new user namespace cannot be combined with joining a user, mount or time namespace by path")
			}
			needSpawn = true
		case specs.PIDNamespace:
			// The child appears in a pid namespace where others live:
			// only Spawn makes sure they never see a copy of this process.
			needSpawn, joinsPid = true, true
		}
	}
	env := []string{initproto.SockEnv + "=" + strconv.Itoa(sockFd)}
	argv := strings.Split(strings.TrimSuffix(initArgv, "\x00"), "\x00")

	if needSpawn {
		files := append(cp.stdio[:], cp.extra...)
		sc := &nsenter.SpawnConfig{
			Exe: exe, Argv: argv, Env: env, Files: files, Join: joins, Unshare: cp.cloneflags, Root: cp.root,
			UIDMappings: cp.uidMaps, GIDMappings: cp.gidMaps,
			// As below: only root of the parent namespace may allow setgroups.
			SetgroupsAllowed: os.Geteuid() == 0,
			CloneFromExe:     joinsPid,
			ExecProcess:      cp.execConfig != nil,
		}
		if cp.cgroups != nil {
			sc.CgroupTasks, sc.Cgroup2 = cp.cgroups.tasks, cp.cgroups.v2
		}
		pid, err := nsenter.Spawn(sc)
		var je *nsenter.JoinError
		if errors.As(err, &je) && je.Index < len(cp.joins) {
			j := cp.joins[je.Index]
			return nil, fmt.Errorf("join %s namespace %s: %w", j.typ, j.path, je.Err)
		}
		if err != nil {
			return nil, err
		}
		return os.FindProcess(pid)
	}
	// Go's fork passes on every fd without close-on-exec: those rt's caller
	// gave it beyond --preserve-fds are not the container's.
	if err := unix.CloseRange(uint(3+cp.preserveFds), ^uint(0), unix.CLOSE_RANGE_CLOEXEC); err != nil {
		return nil, fmt.Errorf("mark inherited fds close-on-exec: %w", err)
	}

	// The binary is executed through the child's own fd table, as the last
	// extra fd (its number is fixed once the fds are rearranged): a child in a
	// new user namespace may not look into /proc/<our pid>/fd.
	exeFd := 3 + len(cp.extra)
	cmd := &exec.Cmd{
		Path:       "/proc/self/fd/" + strconv.Itoa(exeFd),
		Args:       argv,
		Env:        append(env, initproto.ExeEnv+"="+strconv.Itoa(exeFd)),
		Stdin:      cp.stdio[0],
		Stdout:     cp.stdio[1],
		Stderr:     cp.stdio[2],
		ExtraFiles: append(cp.extra[:len(cp.extra):len(cp.extra)], exe),
		SysProcAttr: &syscall.SysProcAttr{
			Cloneflags:  cp.cloneflags,
			UidMappings: cp.uidMaps,
			GidMappings: cp.gidMaps,
		},
	}
	switch {
	case cp.mapsByHelpers():
		// The maps are written once the child exists, by setuid helpers:
		// the init waits for them and executes itself again, which makes
		// it root of its namespace with every capability there.
		cmd.SysProcAttr.UidMappings, cmd.SysProcAttr.GidMappings = nil, nil
		cmd.Env = append(cmd.Env, initproto.IDMapsEnv+"=1")
	case cp.cloneflags&unix.CLONE_NEWUSER != 0:
		// Writing the maps does not change the child's credentials: it would
		// exec as our (unmapped) uid and lose every capability in its new
		// namespace. Become root of that namespace first, and drop our
		// supplementary groups; setgroups stays allowed when we are root (the
		// kernel requires "deny" otherwise), as the spec's additionalGids need it.
		root := os.Geteuid() == 0
		cmd.SysProcAttr.Credential = &syscall.Credential{Uid: 0, Gid: 0, NoSetGroups: !root}
		cmd.SysProcAttr.GidMappingsEnableSetgroups = root
	}
	// Joined on this thread, which start never hands back to the runtime.
	cp.threadJoined = len(joins) > 0
	for i, j := range joins {
		if err := unix.Setns(j.Fd, j.Type); err != nil {
			return nil, fmt.Errorf("join %s namespace %s: %w", cp.joins[i].typ, cp.joins[i].path, err)
		}
	}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start init: %w", err)
	}
	return cmd.Process, nil
}

// describeNamespaces says, for the start-up trace, which namespaces the
// child was given.
func (cp *childProcess) describeNamespaces() string {
	var created []string
	for _, t := range namespaces.Types {
		if f := namespaces.CloneFlag(t); f != 0 && cp.cloneflags&uintptr(f) != 0 {
			created = append(created, string(t))
		}
	}
	out := "new namespaces: " + strings.Join(created, ", ")
	if len(created) == 0 {
		out = "no new namespaces"
	}
	for _, j := range cp.joins {
		out += fmt.Sprintf("; joined %s %s", j.typ, j.path)
	}
	return out
}

// idMaps converts spec id mappings for SysProcAttr.
func idMaps(m []specs.LinuxIDMapping) []syscall.SysProcIDMap {
	var out []syscall.SysProcIDMap
	for _, e := range m {
		out = append(out, syscall.SysProcIDMap{ContainerID: int(e.ContainerID), HostID: int(e.HostID), Size: int(e.Size)})
	}
	return out
}

// newSocketPair returns a unix stream socketpair; with pollable, the parent
// end goes through Go's poller (deadlines bound every wait on it), while the
// child's end stays blocking.
func newSocketPair(name string, pollable bool) (parent, child *os.File, err error) {
	fds, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return nil, nil, fmt.Errorf("socketpair: %w", err)
	}
	if err := unix.SetNonblock(fds[0], pollable); err != nil {
		unix.Close(fds[0])
		unix.Close(fds[1])
		return nil, nil, fmt.Errorf("socketpair: %w", err)
	}
	return os.NewFile(uintptr(fds[0]), name+"-parent"), os.NewFile(uintptr(fds[1]), name+"-child"), nil
}
