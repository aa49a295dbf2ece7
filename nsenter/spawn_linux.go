// Package nsenter starts a process inside existing namespaces without a C constructor.
//
// See README.md for the design and its limits.
package nsenter

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"unsafe"

	"golang.org/x/sys/unix"

	"github.com/rtproject/rt/internal/procfs"
)

// Namespace is an open namespace to join.
type Namespace struct {
	Type int // CLONE_NEW* constant
	Fd   int
}

// SpawnConfig describes the process Spawn creates.
type SpawnConfig struct {
	// Exe is the binary to run, executed through its fd so that the path is
	// never resolved inside the joined mount namespace.
	Exe  *os.File
	Argv []string
	Env  []string
	// Files become the child's fds 0..len(Files)-1; the child gets no other.
	Files []*os.File
	// Join lists namespaces to enter, in any order: Spawn enters those it
	// can before the user namespace, then the user namespace, then the rest.
	Join []Namespace
	// Root, when set, is a directory that becomes the child's root and
	// working directory (chroot) once the namespaces are joined: the root of
	// a container without a mount namespace of its own.
	Root *os.File
	// Unshare is a set of CLONE_NEW* flags for namespaces to create after
	// joining: the final child is cloned with them. With CLONE_NEWUSER, the
	// new user namespace gets UIDMappings and GIDMappings (written by Spawn)
	// and the other new namespaces are owned by it; it cannot be combined
	// with joining a user namespace.
	Unshare     uintptr
	UIDMappings []syscall.SysProcIDMap
	GIDMappings []syscall.SysProcIDMap
	// SetgroupsAllowed leaves setgroups(2) usable in the new user namespace
	// (only root of the parent namespace may allow it).
	SetgroupsAllowed bool
	// CloneFromExe makes the intermediate process execute Exe before it
	// creates the final child, so that the final child is a copy of that
	// fresh image and not of the caller: set it whenever the final child
	// lands in a pid namespace other processes live in, which could otherwise
	// see the caller's binary and memory through /proc/<pid>/exe and
	// /proc/<pid>/mem while it execs (CVE-2019-5736). Exe must then call
	// RunIntermediate first thing in main.
	CloneFromExe bool
	// CgroupTasks are cgroup v1 "tasks" files open for writing. The
	// intermediate, while it is single-threaded and before it joins any
	// namespace, writes "0" to each: a thread moving itself is the one move
	// the kernel makes without its global threadgroup lock, whose writer
	// waits for an RCU grace period (milliseconds; any other move of a
	// process takes it). The final child is born in those cgroups.
	CgroupTasks []*os.File
	// Cgroup2, when set, is a cgroup v2 directory the intermediate is
	// created in (clone3 with CLONE_INTO_CGROUP), for the same reason; the
	// final child is born there too.
	Cgroup2 *os.File
	// ExecProcess (with CloneFromExe) has the fresh image prepare the
	// process of `rt exec` itself (RunIntermediate's prepareExec) and fork
	// a final child that becomes it (ExecProcess), instead of one that
	// executes Exe again: one Go start-up fewer.
	ExecProcess bool
}

// JoinError is a failure to join SpawnConfig.Join[Index].
type JoinError struct {
	Index int
	Err   syscall.Errno
}

func (e *JoinError) Error() string {
	return fmt.Sprintf("nsenter: setns of namespace #%d: %v", e.Index, e.Err)
}

func (e *JoinError) Unwrap() error { return e.Err }

// Failure stages reported by the children through the error pipe, and the
// three reports that are not failures: the final child's pid (stageOK), or
// its pid while it waits for the maps of its new user namespace (stageMaps),
// and the final child's last word before execveat (stageExecing).
const (
	stageOK = iota
	stageSetns
	stageUnshare
	stageClone
	stageDup
	stageExec
	stageSetID
	stageMaps
	stageIntermediate
	stageExecing
	stageChroot
	stageCgroup
	// stageExecStep: a step of an ExecProcess's final child failed (the
	// step in byte 1, its index in bytes 2-3); stageExecPrepare: the fresh
	// image could not prepare the ExecProcess.
	stageExecStep
	stageExecPrepare
)

var stageNames = map[uint32]string{
	stageSetns:        "setns",
	stageUnshare:      "unshare",
	stageClone:        "clone",
	stageDup:          "dup3",
	stageExec:         "execveat",
	stageSetID:        "become root of the user namespace",
	stageIntermediate: "re-executed intermediate",
	stageChroot:       "chroot",
	stageCgroup:       "join cgroup",
}

// intermediateEnv marks the re-executed intermediate (CloneFromExe). Its
// value is "n,flags,setgroups,index,exec": Exe is at fd n, followed by the
// error pipe, the sync pipe and the pid namespace to join (fdExe… below);
// flags are the final child's CLONE_NEW* flags, setgroups 1 if
// SetgroupsAllowed, index the pid namespace's in SpawnConfig.Join, exec 1
// if ExecProcess.
const intermediateEnv = "_RT_NSENTER_INTERMEDIATE"

// Where the intermediate keeps its fds, relative to n = len(Files).
const (
	fdExe   = 0 // the binary, by fd
	fdPipe  = 1 // the error pipe's write end
	fdSync  = 2 // the sync pipe's read end (CLONE_NEWUSER)
	fdPidns = 3 // the pid namespace to join (CloneFromExe)
	fdCount = 4
)

// sigaction is the kernel's struct sigaction (amd64 and arm64).
type sigaction struct {
	handler  uintptr
	flags    uint64
	restorer uintptr
	mask     uint64
}

// childArgs holds everything the children touch, prepared before the fork so
// that the children only read memory and make raw system calls.
type childArgs struct {
	exeFd   uintptr
	argv    **byte
	envv    **byte
	empty   *byte
	fds     []uintptr
	nsTypes []uintptr
	nsFds   []uintptr
	// nsIndex is each namespace's index in SpawnConfig.Join, for JoinError.
	nsIndex []uint8
	nsDone  []uint8
	// cloneNew: the CLONE_NEW* flags the final child is cloned with.
	cloneNew uintptr
	// joinerFlags and finalFlags are the whole clone flags of the
	// intermediate (clone3 takes them from cloneArgs) and of the final
	// child: with CLONE_VM|CLONE_VFORK where the kernel and the work allow
	// a child sharing its parent's memory (sharedMemoryFlags).
	joinerFlags uintptr
	finalFlags  uintptr
	// setIDs: a user namespace is joined, so become its uid/gid 0.
	setIDs bool
	// rootFd, when not zero, is the directory to chroot into.
	rootFd uintptr
	dot    *byte
	// With CLONE_NEWUSER in cloneNew, the final child's parent reports
	// stageMaps, and the child waits on sync for its maps, then becomes
	// root of the new namespace (dropping its groups if setgroups).
	setgroups bool
	sync      uintptr
	// intermediateEnvv, when set, is the environment to re-execute Exe with
	// (CloneFromExe): the intermediate execs instead of cloning, and leaves
	// the pid namespace (pidnsFd) to its re-executed self, since a process
	// whose children go to another pid namespace cannot start threads.
	intermediateEnvv **byte
	pidnsFd          uintptr
	// pidnsIndex is the pid namespace's index in SpawnConfig.Join.
	pidnsIndex uint8
	// tasks are the cgroup v1 tasks files the intermediate moves itself
	// into; cg2Fd, when not zero, the cgroup v2 directory it is created in.
	tasks     []uintptr
	zero      [1]byte
	cg2Fd     uintptr
	cloneArgs cloneArgs
	pipe      uintptr
	msg       [8]byte
	syncBuf   [1]byte
	sigset    unix.Sigset_t
	sa        sigaction
	// exec, when set, makes the final child an ExecProcess (execChild).
	exec *execArgs
}

// Spawn creates a process that runs cfg.Exe inside the given namespaces and
// returns its pid. The process is a child of the caller: an intermediate
// process joins the namespaces and forks it with CLONE_PARENT, then exits.
func Spawn(cfg *SpawnConfig) (int, error) {
	a := &childArgs{cloneNew: cfg.Unshare, setgroups: cfg.SetgroupsAllowed}
	newUser := cfg.Unshare&unix.CLONE_NEWUSER != 0
	for _, ns := range cfg.Join {
		a.setIDs = a.setIDs || ns.Type == unix.CLONE_NEWUSER
	}
	if newUser && a.setIDs {
		return -1, errors.New("nsenter: cannot both join and create a user namespace")
	}
	a.joinerFlags, a.finalFlags = cloneFlags(cfg)
	argv, err := syscall.SlicePtrFromStrings(cfg.Argv)
	if err != nil {
		return -1, err
	}
	envv, err := syscall.SlicePtrFromStrings(cfg.Env)
	if err != nil {
		return -1, err
	}
	a.argv, a.envv = &argv[0], &envv[0]
	a.empty, _ = syscall.BytePtrFromString("")
	a.dot, _ = syscall.BytePtrFromString(".")

	// Every fd the children use must lie above the child's target range
	// (0..n-1, then fdCount more), so that dup3 into place never overwrites
	// one that is still needed.
	n := len(cfg.Files)
	above := n + fdCount
	var dups []int
	defer func() {
		for _, fd := range dups {
			unix.Close(fd)
		}
	}()
	dupAbove := func(fd uintptr) (uintptr, error) {
		d, err := unix.FcntlInt(fd, unix.F_DUPFD_CLOEXEC, above)
		if err != nil {
			return 0, err
		}
		dups = append(dups, d)
		return uintptr(d), nil
	}
	for _, f := range cfg.Files {
		if f == nil {
			a.fds = append(a.fds, ^uintptr(0))
			continue
		}
		fd, err := dupAbove(f.Fd())
		if err != nil {
			return -1, fmt.Errorf("dup fd: %w", err)
		}
		a.fds = append(a.fds, fd)
	}
	if a.exeFd, err = dupAbove(cfg.Exe.Fd()); err != nil {
		return -1, fmt.Errorf("dup exe fd: %w", err)
	}
	if cfg.Root != nil {
		if a.rootFd, err = dupAbove(cfg.Root.Fd()); err != nil {
			return -1, fmt.Errorf("dup root fd: %w", err)
		}
	}
	for _, f := range cfg.CgroupTasks {
		a.tasks = append(a.tasks, f.Fd())
	}
	a.zero[0] = '0'
	if cfg.Cgroup2 != nil {
		a.cg2Fd = cfg.Cgroup2.Fd()
		a.cloneArgs = cloneArgs{flags: unix.CLONE_INTO_CGROUP | uint64(a.joinerFlags&^csignal),
			exitSignal: uint64(unix.SIGCHLD), cgroup: uint64(a.cg2Fd)}
	}
	pidnsIndex := 0
	for i, ns := range cfg.Join {
		fd, err := dupAbove(uintptr(ns.Fd))
		if err != nil {
			return -1, fmt.Errorf("dup namespace fd: %w", err)
		}
		if cfg.CloneFromExe && ns.Type == unix.CLONE_NEWPID {
			a.pidnsFd, pidnsIndex = fd, i
			continue
		}
		a.nsTypes = append(a.nsTypes, uintptr(ns.Type))
		a.nsFds = append(a.nsFds, fd)
		a.nsIndex = append(a.nsIndex, uint8(i))
	}
	if cfg.CloneFromExe && a.pidnsFd == 0 {
		return -1, errors.New("nsenter: CloneFromExe needs a pid namespace to join")
	}
	if cfg.ExecProcess && (!cfg.CloneFromExe || cfg.Unshare != 0) {
		return -1, errors.New("nsenter: ExecProcess needs CloneFromExe and no new namespaces")
	}
	a.nsDone = make([]uint8, len(a.nsTypes))
	if cfg.CloneFromExe {
		setgroups := 0
		if cfg.SetgroupsAllowed {
			setgroups = 1
		}
		execProcess := 0
		if cfg.ExecProcess {
			execProcess = 1
		}
		marker := fmt.Sprintf("%s=%d,%d,%d,%d,%d", intermediateEnv, n, cfg.Unshare, setgroups, pidnsIndex, execProcess)
		ienv, err := syscall.SlicePtrFromStrings(append(cfg.Env[:len(cfg.Env):len(cfg.Env)], marker))
		if err != nil {
			return -1, err
		}
		a.intermediateEnvv = &ienv[0]
	}

	// The error pipe's write end and the sync pipe's read end belong to the
	// children: the caller closes its copies right after the fork, so that
	// EOF on the error pipe means they are done.
	var childEnds []int
	closeChildEnds := func() {
		for _, fd := range childEnds {
			unix.Close(fd)
		}
		childEnds = nil
	}
	defer closeChildEnds()
	var p [2]int
	if err := unix.Pipe2(p[:], unix.O_CLOEXEC); err != nil {
		return -1, err
	}
	rd := os.NewFile(uintptr(p[0]), "nsenter-errpipe")
	defer rd.Close()
	wfd, err := unix.FcntlInt(uintptr(p[1]), unix.F_DUPFD_CLOEXEC, above)
	unix.Close(p[1])
	if err != nil {
		return -1, fmt.Errorf("dup error pipe: %w", err)
	}
	childEnds = append(childEnds, wfd)
	a.pipe = uintptr(wfd)
	var syncW *os.File
	if newUser {
		var s [2]int
		if err := unix.Pipe2(s[:], unix.O_CLOEXEC); err != nil {
			return -1, err
		}
		syncW = os.NewFile(uintptr(s[1]), "nsenter-sync")
		defer syncW.Close()
		sfd, err := unix.FcntlInt(uintptr(s[0]), unix.F_DUPFD_CLOEXEC, above)
		unix.Close(s[0])
		if err != nil {
			return -1, fmt.Errorf("dup sync pipe: %w", err)
		}
		childEnds = append(childEnds, sfd)
		a.sync = uintptr(sfd)
	}

	pid1, err := forkBlocked(a, startIntermediate)
	closeChildEnds()
	// With CLONE_VM the children read all of it in place, not in a copy.
	runtime.KeepAlive(a)
	runtime.KeepAlive(cfg)
	runtime.KeepAlive(argv)
	runtime.KeepAlive(envv)
	if err != nil {
		return -1, fmt.Errorf("fork: %w", err)
	}
	// Reap the intermediate process whatever it reports.
	defer func() {
		var ws unix.WaitStatus
		for {
			_, err := unix.Wait4(pid1, &ws, 0, nil)
			if err != unix.EINTR {
				break
			}
		}
	}()

	return awaitFinal(rd, func(pid int) error {
		if err := writeIDMaps(pid, cfg); err != nil {
			return err
		}
		if _, err := syncW.Write([]byte{0}); err != nil {
			return fmt.Errorf("nsenter: release the child: %w", err)
		}
		return nil
	})
}

func stageError(stage, index, index2, errno uint32) error {
	switch stage {
	case stageSetns:
		return &JoinError{Index: int(index), Err: syscall.Errno(errno)}
	case stageExecStep:
		return &ExecStepError{Step: int(index), Index: int(index2), Err: syscall.Errno(errno)}
	case stageExecPrepare:
		return ErrExecPrepare
	}
	name, ok := stageNames[stage]
	if !ok {
		name = "stage " + strconv.Itoa(int(stage))
	}
	return fmt.Errorf("nsenter: %s: %w", name, syscall.Errno(errno))
}

// awaitFinal reads the final child's pid and waits for the pipe to close,
// which it does once the final child has exec'd (the pipe is close-on-exec
// there) and the intermediate has exited. A failure report from either, or
// a final child that closed the pipe without saying it was about to exec
// (it died), is an error, and a final child is then killed and reaped. When
// the final child waits for the maps of its new user namespace, mapUser
// writes them and releases it.
func awaitFinal(rd *os.File, mapUser func(pid int) error) (int, error) {
	pid2 := -1
	execing := false
	var failure error
	for {
		var buf [8]byte
		n, err := io.ReadFull(rd, buf[:])
		if err == io.EOF {
			break
		}
		if err != nil {
			failure = fmt.Errorf("nsenter: short report from a child (%d bytes): %w", n, err)
			break
		}
		// The stage in byte 0, for setns the index of the join in byte 1
		// (an ExecProcess's step, and its index in bytes 2-3), the errno or
		// pid in bytes 4-7.
		stage, index, val := uint32(buf[0]), uint32(buf[1]), binary.LittleEndian.Uint32(buf[4:])
		index2 := uint32(binary.LittleEndian.Uint16(buf[2:]))
		switch {
		case stage == stageOK && pid2 < 0:
			pid2 = int(val)
		case stage == stageMaps && pid2 < 0:
			pid2 = int(val)
			if failure == nil {
				failure = mapUser(pid2)
			}
		case stage == stageExecing:
			execing = true
		case failure == nil:
			failure = stageError(stage, index, index2, val)
		}
		// After a failure, read on only for the pid of a final child, to
		// reap it: one that fails reports before its parent, which waits
		// for it while they share memory, reports its pid.
		if failure != nil && pid2 >= 0 {
			break
		}
	}
	switch {
	case failure != nil:
	case pid2 < 0:
		failure = errors.New("nsenter: intermediate process died before it created the child")
	case !execing:
		failure = errors.New("nsenter: the child died before it exec'd")
	}
	if failure != nil {
		if pid2 > 0 {
			unix.Kill(pid2, unix.SIGKILL)
			var ws unix.WaitStatus
			unix.Wait4(pid2, &ws, 0, nil)
		}
		return -1, failure
	}
	return pid2, nil
}

// writeIDMaps gives the intermediate's new user namespace its mappings, as
// the parent of a process in a new user namespace must.
func writeIDMaps(pid int, cfg *SpawnConfig) error {
	setgroups := "deny"
	if cfg.SetgroupsAllowed {
		setgroups = "allow"
	}
	for _, f := range []struct{ name, data string }{
		{"setgroups", setgroups},
		{"uid_map", formatIDMap(cfg.UIDMappings)},
		{"gid_map", formatIDMap(cfg.GIDMappings)},
	} {
		if err := procfs.WritePid(pid, f.name, []byte(f.data)); err != nil {
			return fmt.Errorf("nsenter: %w", err)
		}
	}
	return nil
}

func formatIDMap(m []syscall.SysProcIDMap) string {
	var b strings.Builder
	for _, e := range m {
		fmt.Fprintf(&b, "%d %d %d\n", e.ContainerID, e.HostID, e.Size)
	}
	return b.String()
}

// sharedMemoryFlags make a child that runs in its parent's memory, on its
// stack, while the parent waits until the child has exec'd or exited: no
// copy of the caller's page tables (and no copy-on-write faults in the
// caller afterwards), as Go's own fork does. See rawClone.
const sharedMemoryFlags = unix.CLONE_VM | unix.CLONE_VFORK

// csignal is the exit signal's part of clone's flags.
const csignal = 0xff

// cloneFlags are the clone flags of Spawn's intermediate and final child.
//
// The intermediate shares the caller's memory unless it joins a user or a
// time namespace. The kernel refuses the time namespace to a process that
// shares its memory (EUSERS). It lets one join a user namespace (it asks
// only for one thread and an fs_struct of its own), but the intermediate's
// credentials then belong to that namespace, whose root holds
// CAP_SYS_PTRACE over them: with the caller's memory still mapped, and
// dumpable (a flag of the memory: setting it would set the caller's), a
// process of the container that can see the intermediate could read and
// write the caller through /proc/<pid>/mem. Becoming the namespace's root
// would also change that flag of the caller's memory. A non-dumpable copy
// of the caller gives a ptracer nothing, and a final child cloned from it
// may share the copy's memory.
func cloneFlags(cfg *SpawnConfig) (joiner, final uintptr) {
	joiner = uintptr(unix.SIGCHLD)
	if canShareMemory {
		joiner |= sharedMemoryFlags
	}
	for _, ns := range cfg.Join {
		if ns.Type == unix.CLONE_NEWUSER || ns.Type == unix.CLONE_NEWTIME {
			joiner &^= sharedMemoryFlags
		}
	}
	return joiner, finalCloneFlags(cfg.Unshare)
}

// finalCloneFlags are the flags of the final child, which gets the new
// namespaces unshare. It shares its parent's memory unless it gets a new user
// namespace: then it waits for the maps Spawn writes, which Spawn cannot do
// while the parent it would share memory with waits on the child.
func finalCloneFlags(unshare uintptr) uintptr {
	flags := unix.CLONE_PARENT | uintptr(unix.SIGCHLD) | unshare
	if canShareMemory && unshare&unix.CLONE_NEWUSER == 0 {
		flags |= sharedMemoryFlags
	}
	return flags
}

// forkBlocked runs fork (which clones) with syscall.ForkLock held and every
// signal blocked on a locked thread, so that no Go signal handler can run in
// the children; they restore a.sigset.
func forkBlocked(a *childArgs, fork func(*childArgs) int) (int, error) {
	syscall.ForkLock.Lock()
	defer syscall.ForkLock.Unlock()
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()

	var all, old unix.Sigset_t
	for i := range all.Val {
		all.Val[i] = ^uint64(0)
	}
	if _, _, e := unix.RawSyscall6(unix.SYS_RT_SIGPROCMASK, unix.SIG_SETMASK, uintptr(unsafe.Pointer(&all)), uintptr(unsafe.Pointer(&old)), sigsetSize, 0, 0); e != 0 {
		return -1, e
	}
	a.sigset = old
	pid := fork(a)
	unix.RawSyscall6(unix.SYS_RT_SIGPROCMASK, unix.SIG_SETMASK, uintptr(unsafe.Pointer(&old)), 0, sigsetSize, 0, 0)
	if pid < 0 {
		return -1, syscall.Errno(-pid)
	}
	return pid, nil
}

// startIntermediate clones the intermediate process (clone3 into the cgroup
// v2 directory when there is one). In the parent it returns the child's pid
// (or -errno); with CLONE_VM that is once the intermediate has exec'd or
// exited. The child runs intermediate, which never returns.
//
// It runs in the caller, which may not allocate or grow the stack either
// between rawClone's two returns; nosplit, as everything the children run.
//
//go:nosplit
//go:norace
func startIntermediate(a *childArgs) int {
	var r1, e uintptr
	if a.cg2Fd != 0 {
		r1, e = rawClone(unix.SYS_CLONE3, uintptr(unsafe.Pointer(&a.cloneArgs)), unsafe.Sizeof(a.cloneArgs))
	} else {
		r1, e = rawClone(unix.SYS_CLONE, a.joinerFlags, 0)
	}
	// The parent: a child that shared the memory has run on the stack below
	// this frame and in its outgoing arguments. Only rawClone's results,
	// written after it was gone, may be used, and this frame's own return
	// address, which it never touched.
	if e != 0 {
		return -int(e)
	}
	if r1 != 0 {
		return int(r1)
	}
	intermediate(a)
	return 0
}

// intermediate joins, puts the fds in place and closes every other, then
// either re-executes Exe (CloneFromExe) or clones the final process with
// CLONE_PARENT, reports that process's pid and exits. It never returns.
//
// It runs in a clone of a multi-threaded Go process that has only this
// thread, in the caller's memory or a copy of it, so it must not allocate,
// grow the stack, take locks or call into the runtime: nosplit, raw system
// calls, memory prepared beforehand. It must not write a pointer either
// (no write barrier may run), and what it writes to a, the caller sees.
//
//go:nosplit
//go:norace
func intermediate(a *childArgs) {
	var e syscall.Errno
	// Nobody in the namespaces we join may look into this copy of the
	// caller. Sharing the caller's memory, it is no copy: it is as visible
	// as the caller itself (it never enters a pid namespace, and joins no
	// user namespace), and the flag belongs to that memory, the caller's.
	if a.joinerFlags&unix.CLONE_VM == 0 {
		syscall.RawSyscall6(unix.SYS_PRCTL, unix.PR_SET_DUMPABLE, 0, 0, 0, 0, 0)
	}

	// Into the v1 cgroups while we are one thread and still hold the
	// host's privileges; "0" is this thread.
	for i := 0; i < len(a.tasks); i++ {
		if _, _, e = syscall.RawSyscall(unix.SYS_WRITE, a.tasks[i], uintptr(unsafe.Pointer(&a.zero[0])), 1); e != 0 {
			childFail(a, stageCgroup, e)
		}
	}

	// Enter every namespace the initial user namespace may enter, then the
	// user namespace, then those only its owner may enter.
	for pass := 0; pass < 3; pass++ {
		for i := 0; i < len(a.nsTypes); i++ {
			if a.nsDone[i] != 0 {
				continue
			}
			isUser := a.nsTypes[i] == unix.CLONE_NEWUSER
			if (pass == 1) != isUser {
				continue
			}
			_, _, e = syscall.RawSyscall(unix.SYS_SETNS, a.nsFds[i], a.nsTypes[i], 0)
			if e == 0 {
				a.nsDone[i] = 1
				continue
			}
			if pass == 0 && e == unix.EPERM {
				continue
			}
			a.msg[1] = a.nsIndex[i]
			childFail(a, stageSetns, e)
		}
	}
	// setns gave us every capability in the joined user namespace, but
	// execve keeps them only for that namespace's root: our uid and gid are
	// still the caller's, usually unmapped there. Drop the caller's
	// supplementary groups too (EPERM where setgroups is denied: none to drop
	// that the kernel would honour).
	if a.setIDs {
		becomeRoot(a, true)
	}
	if a.rootFd != 0 {
		if _, _, e = syscall.RawSyscall(unix.SYS_FCHDIR, a.rootFd, 0, 0); e != 0 {
			childFail(a, stageChroot, e)
		}
		if _, _, e = syscall.RawSyscall(unix.SYS_CHROOT, uintptr(unsafe.Pointer(a.dot)), 0, 0); e != 0 {
			childFail(a, stageChroot, e)
		}
	}

	// The fds: Files at 0..n-1, then the intermediate's own (kept across its
	// re-execution, close-on-exec otherwise), and nothing else, whatever the
	// caller had open without close-on-exec.
	n := uintptr(len(a.fds))
	for i := uintptr(0); i < n; i++ {
		if a.fds[i] == ^uintptr(0) {
			syscall.RawSyscall(unix.SYS_CLOSE, i, 0, 0)
			continue
		}
		if _, _, e = syscall.RawSyscall(unix.SYS_DUP3, a.fds[i], i, 0); e != 0 {
			childFail(a, stageDup, e)
		}
	}
	var cloexec uintptr = unix.O_CLOEXEC
	if a.intermediateEnvv != nil {
		cloexec = 0
	}
	if _, _, e = syscall.RawSyscall(unix.SYS_DUP3, a.pipe, n+fdPipe, cloexec); e != 0 {
		childFail(a, stageDup, e)
	}
	a.pipe = n + fdPipe
	if _, _, e = syscall.RawSyscall(unix.SYS_DUP3, a.exeFd, n+fdExe, cloexec); e != 0 {
		childFail(a, stageDup, e)
	}
	a.exeFd = n + fdExe
	if a.sync != 0 {
		if _, _, e = syscall.RawSyscall(unix.SYS_DUP3, a.sync, n+fdSync, cloexec); e != 0 {
			childFail(a, stageDup, e)
		}
		a.sync = n + fdSync
	}
	if a.pidnsFd != 0 {
		if _, _, e = syscall.RawSyscall(unix.SYS_DUP3, a.pidnsFd, n+fdPidns, cloexec); e != 0 {
			childFail(a, stageDup, e)
		}
		a.pidnsFd = n + fdPidns
	}
	// The slots left unused would pass on whatever the caller had there.
	if a.sync == 0 {
		syscall.RawSyscall(unix.SYS_CLOSE, n+fdSync, 0, 0)
	}
	if a.pidnsFd == 0 {
		syscall.RawSyscall(unix.SYS_CLOSE, n+fdPidns, 0, 0)
	}
	syscall.RawSyscall(unix.SYS_CLOSE_RANGE, n+fdCount, ^uintptr(0), 0)
	resetSignalHandlers(a)

	if a.intermediateEnvv != nil {
		syscall.RawSyscall6(unix.SYS_RT_SIGPROCMASK, unix.SIG_SETMASK, uintptr(unsafe.Pointer(&a.sigset)), 0, sigsetSize, 0, 0)
		_, _, e = syscall.RawSyscall6(unix.SYS_EXECVEAT, a.exeFd, uintptr(unsafe.Pointer(a.empty)),
			uintptr(unsafe.Pointer(a.argv)), uintptr(unsafe.Pointer(a.intermediateEnvv)), unix.AT_EMPTY_PATH, 0)
		childFail(a, stageExec, e)
	}
	cloneFinal(a)
}

// becomeRoot makes the process uid and gid 0 of its user namespace, dropping
// its supplementary groups when dropGroups.
//
//go:nosplit
//go:norace
func becomeRoot(a *childArgs, dropGroups bool) {
	if _, _, e := syscall.RawSyscall(unix.SYS_SETRESGID, 0, 0, 0); e != 0 {
		childFail(a, stageSetID, e)
	}
	if dropGroups {
		if _, _, e := syscall.RawSyscall(unix.SYS_SETGROUPS, 0, 0, 0); e != 0 && e != unix.EPERM {
			childFail(a, stageSetID, e)
		}
	}
	if _, _, e := syscall.RawSyscall(unix.SYS_SETRESUID, 0, 0, 0); e != 0 {
		childFail(a, stageSetID, e)
	}
}

// cloneFinal clones the final child with CLONE_PARENT, so that it is the
// caller's child, into the new namespaces (a.finalFlags), reports its pid and
// exits. Sharing our memory, the child has exec'd (or died) by then: its
// report that it is about to exec precedes ours. It never returns.
//
//go:nosplit
//go:norace
func cloneFinal(a *childArgs) {
	pid, e := startFinal(a)
	if e != 0 {
		childFail(a, stageClone, e)
	}
	a.msg[0], a.msg[1], a.msg[2], a.msg[3] = stageOK, 0, 0, 0
	if a.cloneNew&unix.CLONE_NEWUSER != 0 {
		a.msg[0] = stageMaps
	}
	a.msg[4], a.msg[5], a.msg[6], a.msg[7] = byte(pid), byte(pid>>8), byte(pid>>16), byte(pid>>24)
	syscall.RawSyscall(unix.SYS_WRITE, a.pipe, uintptr(unsafe.Pointer(&a.msg[0])), 8)
	syscall.RawSyscall(unix.SYS_EXIT_GROUP, 0, 0, 0)
}

// startFinal clones the final child, which runs finalChild, and returns its
// pid in the parent, using nothing of its own frame after the clone (see
// startIntermediate).
//
//go:nosplit
//go:norace
func startFinal(a *childArgs) (uintptr, syscall.Errno) {
	r1, e := rawClone(unix.SYS_CLONE, a.finalFlags, 0)
	if e != 0 || r1 != 0 {
		return r1, syscall.Errno(e)
	}
	if a.exec != nil {
		execChild(a)
	}
	finalChild(a)
	return 0, 0
}

// finalChild, once its user namespace has maps, restores the signal mask and
// executes Exe. It never returns.
//
//go:nosplit
//go:norace
func finalChild(a *childArgs) {
	// A copy of the caller's memory is nobody's to look into (a copy of an
	// intermediate that shared the caller's memory is not non-dumpable yet).
	if a.finalFlags&unix.CLONE_VM == 0 {
		syscall.RawSyscall6(unix.SYS_PRCTL, unix.PR_SET_DUMPABLE, 0, 0, 0, 0, 0)
	}
	if a.cloneNew&unix.CLONE_NEWUSER != 0 {
		r1, _, e := syscall.RawSyscall(unix.SYS_READ, a.sync, uintptr(unsafe.Pointer(&a.syncBuf[0])), 1)
		if e != 0 || r1 != 1 {
			// The caller gave up on us.
			syscall.RawSyscall(unix.SYS_EXIT_GROUP, 127, 0, 0)
		}
		becomeRoot(a, a.setgroups)
	}
	resetSignalHandlers(a)
	syscall.RawSyscall6(unix.SYS_RT_SIGPROCMASK, unix.SIG_SETMASK, uintptr(unsafe.Pointer(&a.sigset)), 0, sigsetSize, 0, 0)
	reportExecing(a)
	_, _, e := syscall.RawSyscall6(unix.SYS_EXECVEAT, a.exeFd, uintptr(unsafe.Pointer(a.empty)),
		uintptr(unsafe.Pointer(a.argv)), uintptr(unsafe.Pointer(a.envv)), unix.AT_EMPTY_PATH, 0)
	childFail(a, stageExec, e)
}

// reportExecing is a final child's last word before its execve: EOF on the
// error pipe without it means the child died before the exec.
//
//go:nosplit
//go:norace
func reportExecing(a *childArgs) {
	a.msg[0], a.msg[1], a.msg[2], a.msg[3] = stageExecing, 0, 0, 0
	a.msg[4], a.msg[5], a.msg[6], a.msg[7] = 0, 0, 0, 0
	syscall.RawSyscall(unix.SYS_WRITE, a.pipe, uintptr(unsafe.Pointer(&a.msg[0])), 8)
}

// resetSignalHandlers sets every signal the Go runtime handles back to its
// default before the mask is restored, as Go's own fork does: a signal
// arriving between unmasking and exec must not run a Go handler in a copy
// without a runtime. Ignored signals stay ignored, as across execve.
//
//go:nosplit
//go:norace
func resetSignalHandlers(a *childArgs) {
	for sig := uintptr(1); sig <= 64; sig++ {
		if sig == uintptr(unix.SIGKILL) || sig == uintptr(unix.SIGSTOP) {
			continue
		}
		if _, _, e := syscall.RawSyscall6(unix.SYS_RT_SIGACTION, sig, 0, uintptr(unsafe.Pointer(&a.sa)), sigsetSize, 0, 0); e != 0 {
			continue
		}
		if a.sa.handler == 0 || a.sa.handler == 1 { // SIG_DFL, SIG_IGN
			continue
		}
		a.sa.handler, a.sa.flags, a.sa.restorer, a.sa.mask = 0, 0, 0, 0
		syscall.RawSyscall6(unix.SYS_RT_SIGACTION, sig, uintptr(unsafe.Pointer(&a.sa)), 0, sigsetSize, 0, 0)
	}
}

//go:nosplit
//go:norace
func childFail(a *childArgs, stage byte, e syscall.Errno) {
	// msg[1] is set by the caller where it names what failed (the join).
	a.msg[0], a.msg[2], a.msg[3] = stage, 0, 0
	a.msg[4], a.msg[5], a.msg[6], a.msg[7] = byte(e), byte(e>>8), 0, 0
	syscall.RawSyscall(unix.SYS_WRITE, a.pipe, uintptr(unsafe.Pointer(&a.msg[0])), 8)
	syscall.RawSyscall(unix.SYS_EXIT_GROUP, 127, 0, 0)
}

// RunIntermediate is the second half of Spawn with CloneFromExe: when this
// process is Spawn's re-executed intermediate (it already sits in every
// namespace and holds exactly the final child's fds), it clones the final
// child from itself, reports its pid and exits. Otherwise it returns at once.
// Call it first thing in main.
//
// With SpawnConfig.ExecProcess, it calls prepareExec first, on this locked
// thread and before it joins the pid namespace: prepareExec does the Go
// work of `rt exec`'s process (it reads its config from rt, and may set
// what a fork inherits from this thread and process) and returns the steps
// only the final child can take. On failure it has reported the error to
// rt itself; the final child is then never created.
func RunIntermediate(prepareExec func() (*ExecProcess, error)) {
	v, ok := os.LookupEnv(intermediateEnv)
	if !ok {
		return
	}
	var n, setgroups, execProcess int
	var cloneNew uintptr
	var pidnsIndex uint8
	if _, err := fmt.Sscanf(v, "%d,%d,%d,%d,%d", &n, &cloneNew, &setgroups, &pidnsIndex, &execProcess); err != nil || n < 0 {
		fmt.Fprintln(os.Stderr, "nsenter: bad", intermediateEnv)
		os.Exit(127)
	}
	// The final child is a copy of us, never in our memory: it appears in a
	// pid namespace where others live, and one of them that may ptrace it
	// (CAP_SYS_PTRACE over our memory's user namespace) could write our
	// memory through it, and we resume, in the host's pid namespace, when
	// it execs.
	a := &childArgs{exeFd: uintptr(n + fdExe), pipe: uintptr(n + fdPipe), sync: uintptr(n + fdSync),
		pidnsFd: uintptr(n + fdPidns), pidnsIndex: pidnsIndex, cloneNew: cloneNew, setgroups: setgroups == 1,
		finalFlags: unix.CLONE_PARENT | uintptr(unix.SIGCHLD) | cloneNew}
	fail := func(err error) {
		var errno syscall.Errno
		if !errors.As(err, &errno) {
			errno = unix.EINVAL
		}
		var msg [8]byte
		binary.LittleEndian.PutUint32(msg[:4], stageIntermediate)
		binary.LittleEndian.PutUint32(msg[4:], uint32(errno))
		unix.Write(int(a.pipe), msg[:])
		os.Exit(127)
	}
	// Exe and the pipe were kept open across our exec for this; the final
	// child gets them close-on-exec, like the rest of Spawn's children.
	if _, err := unix.FcntlInt(a.exeFd, unix.F_SETFD, unix.FD_CLOEXEC); err != nil {
		fail(err)
	}
	if _, err := unix.FcntlInt(a.pipe, unix.F_SETFD, unix.FD_CLOEXEC); err != nil {
		fail(err)
	}
	if cloneNew&unix.CLONE_NEWUSER != 0 {
		if _, err := unix.FcntlInt(a.sync, unix.F_SETFD, unix.FD_CLOEXEC); err != nil {
			fail(err)
		}
	}
	// The final child is a copy of us in the pid namespace: nobody there may
	// look into it until it has exec'd.
	if err := unix.Prctl(unix.PR_SET_DUMPABLE, 0, 0, 0, 0); err != nil {
		fail(err)
	}
	os.Unsetenv(intermediateEnv)
	if execProcess == 1 {
		runExecProcess(a, prepareExec, fail)
	}
	argv, err := syscall.SlicePtrFromStrings(os.Args)
	if err != nil {
		fail(err)
	}
	envv, err := syscall.SlicePtrFromStrings(os.Environ())
	if err != nil {
		fail(err)
	}
	a.argv, a.envv = &argv[0], &envv[0]
	a.empty, _ = syscall.BytePtrFromString("")
	_, err = forkBlocked(a, joinPidAndClone)
	runtime.KeepAlive(a)
	runtime.KeepAlive(argv)
	runtime.KeepAlive(envv)
	if err != nil {
		fail(err)
	}
	// Not reached: cloneFinal reports and exits.
	os.Exit(127)
}

// runExecProcess is RunIntermediate for an ExecProcess: the fresh image
// prepares the process, then forks the final child that becomes it. It
// never returns.
func runExecProcess(a *childArgs, prepareExec func() (*ExecProcess, error), fail func(error)) {
	if prepareExec == nil {
		fail(errors.New("nsenter: no prepareExec for an ExecProcess"))
	}
	p, err := prepareExec()
	if err != nil {
		var msg [8]byte
		msg[0] = stageExecPrepare
		unix.Write(int(a.pipe), msg[:])
		os.Exit(1)
	}
	if p.raw == nil {
		if err := p.Prepare(); err != nil {
			fail(err)
		}
	}
	a.exec = p.raw
	_, err = forkBlocked(a, joinPidAndClone)
	runtime.KeepAlive(a)
	runtime.KeepAlive(p)
	fail(err)
}

// joinPidAndClone joins the pid namespace on this (locked) thread, which
// then cannot start threads any more, and clones the final child into it.
// Both sides end in cloneFinal: the parent reports the pid and exits, the
// child execs.
//
//go:nosplit
//go:norace
func joinPidAndClone(a *childArgs) int {
	if _, _, e := syscall.RawSyscall(unix.SYS_SETNS, a.pidnsFd, unix.CLONE_NEWPID, 0); e != 0 {
		a.msg[1] = a.pidnsIndex
		childFail(a, stageSetns, e)
	}
	syscall.RawSyscall(unix.SYS_CLOSE, a.pidnsFd, 0, 0)
	cloneFinal(a)
	return 0
}

// cloneArgs is the kernel's struct clone_args (clone3), up to cgroup.
type cloneArgs struct {
	flags      uint64
	pidfd      uint64
	childTid   uint64
	parentTid  uint64
	exitSignal uint64
	stack      uint64
	stackSize  uint64
	tls        uint64
	setTid     uint64
	setTidSize uint64
	cgroup     uint64
}

// sigsetSize is the kernel's sigset_t size, smaller than unix.Sigset_t (glibc's).
const sigsetSize = 8
