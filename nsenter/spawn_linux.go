// Package nsenter starts a process inside existing namespaces without a C constructor.
//
// See README.md for the design and its limits.
package nsenter

import (
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"runtime"
	"syscall"
	"unsafe"

	"golang.org/x/sys/unix"
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
	// Files become the child's fds 0..len(Files)-1.
	Files []*os.File
	// Join lists namespaces to enter, in any order: Spawn enters those it
	// can before the user namespace, then the user namespace, then the rest.
	Join []Namespace
	// Unshare is a set of CLONE_NEW* flags for namespaces to create after joining
	// (never CLONE_NEWUSER: id mappings need a parent to write them).
	Unshare uintptr
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

// Failure stages reported by the children through the error pipe: the
// stage in byte 0, for setns the index of the join in byte 1, the errno in
// bytes 4-7.
const (
	stageOK = iota
	stageSetns
	stageUnshare
	stageClone
	stageDup
	stageExec
	stageSetID
)

var stageNames = map[uint32]string{
	stageSetns:   "setns",
	stageUnshare: "unshare",
	stageClone:   "clone",
	stageDup:     "dup3",
	stageExec:    "execveat",
	stageSetID:   "become root of the joined user namespace",
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
	nsDone  []uint8
	unshare uintptr
	// setIDs: a user namespace is joined, so become its uid/gid 0.
	setIDs bool
	pipe   uintptr
	msg    [8]byte
	sigset unix.Sigset_t
}

// Spawn creates a process that runs cfg.Exe inside the given namespaces and
// returns its pid. The process is a child of the caller: an intermediate
// process joins the namespaces and forks it with CLONE_PARENT, then exits.
func Spawn(cfg *SpawnConfig) (int, error) {
	if cfg.Unshare&unix.CLONE_NEWUSER != 0 {
		return -1, errors.New("nsenter: cannot create a user namespace while joining namespaces")
	}
	a := &childArgs{unshare: cfg.Unshare}
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

	// Every source fd must lie above the child's target range, so that dup3
	// into place never overwrites a source that is still needed.
	var dups []int
	defer func() {
		for _, fd := range dups {
			unix.Close(fd)
		}
	}()
	for _, f := range cfg.Files {
		if f == nil {
			a.fds = append(a.fds, ^uintptr(0))
			continue
		}
		fd, err := unix.FcntlInt(f.Fd(), unix.F_DUPFD_CLOEXEC, len(cfg.Files)+3)
		if err != nil {
			return -1, fmt.Errorf("dup fd: %w", err)
		}
		dups = append(dups, fd)
		a.fds = append(a.fds, uintptr(fd))
	}
	exeFd, err := unix.FcntlInt(cfg.Exe.Fd(), unix.F_DUPFD_CLOEXEC, len(cfg.Files)+3)
	if err != nil {
		return -1, fmt.Errorf("dup exe fd: %w", err)
	}
	dups = append(dups, exeFd)
	a.exeFd = uintptr(exeFd)
	for _, ns := range cfg.Join {
		a.setIDs = a.setIDs || ns.Type == unix.CLONE_NEWUSER
		a.nsTypes = append(a.nsTypes, uintptr(ns.Type))
		a.nsFds = append(a.nsFds, uintptr(ns.Fd))
	}
	a.nsDone = make([]uint8, len(cfg.Join))

	var p [2]int
	if err := unix.Pipe2(p[:], unix.O_CLOEXEC); err != nil {
		return -1, err
	}
	a.pipe = uintptr(p[1])
	rd := os.NewFile(uintptr(p[0]), "nsenter-errpipe")
	defer rd.Close()

	pid1, err := forkJoiner(a)
	unix.Close(p[1])
	runtime.KeepAlive(cfg)
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

	var buf [8]byte
	if _, err := readFull(rd, buf[:]); err != nil {
		return -1, fmt.Errorf("nsenter: intermediate process died: %w", err)
	}
	stage, val := uint32(buf[0]), binary.LittleEndian.Uint32(buf[4:])
	if stage == stageSetns {
		return -1, &JoinError{Index: int(buf[1]), Err: syscall.Errno(val)}
	}
	if stage != stageOK {
		return -1, fmt.Errorf("nsenter: %s: %w", stageNames[stage], syscall.Errno(val))
	}
	pid2 := int(val)
	// The pipe reaches EOF when the final child execs (close-on-exec) or dies.
	n, _ := readFull(rd, buf[:])
	if n == len(buf) {
		stage, val = uint32(buf[0]), binary.LittleEndian.Uint32(buf[4:])
		var ws unix.WaitStatus
		unix.Wait4(pid2, &ws, 0, nil)
		return -1, fmt.Errorf("nsenter: %s: %w", stageNames[stage], syscall.Errno(val))
	}
	return pid2, nil
}

func readFull(f *os.File, b []byte) (int, error) {
	n := 0
	for n < len(b) {
		m, err := f.Read(b[n:])
		n += m
		if err != nil {
			return n, err
		}
	}
	return n, nil
}

// forkJoiner forks the intermediate process with every signal blocked on the
// forking thread, so that no Go signal handler can run in the children.
func forkJoiner(a *childArgs) (int, error) {
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
	pid := joinerChild(a)
	unix.RawSyscall6(unix.SYS_RT_SIGPROCMASK, unix.SIG_SETMASK, uintptr(unsafe.Pointer(&old)), 0, sigsetSize, 0, 0)
	if pid < 0 {
		return -1, syscall.Errno(-pid)
	}
	return pid, nil
}

// joinerChild forks. In the parent it returns the child's pid (or -errno). In
// the child it never returns: it joins, unshares, forks the final process with
// CLONE_PARENT, reports that process's pid and exits.
//
// It runs in a forked copy of a multi-threaded Go process that has only this
// thread, so it must not allocate, grow the stack, take locks or call into the
// runtime: nosplit, raw system calls, memory prepared beforehand.
//
//go:nosplit
//go:norace
func joinerChild(a *childArgs) int {
	r1, _, e := syscall.RawSyscall6(unix.SYS_CLONE, uintptr(unix.SIGCHLD), 0, 0, 0, 0, 0)
	if e != 0 {
		return -int(e)
	}
	if r1 != 0 {
		return int(r1)
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
			a.msg[1] = byte(i)
			childFail(a, stageSetns, e)
		}
	}
	// setns gave us every capability in the joined user namespace, but
	// execve keeps them only for that namespace's root: our uid and gid are
	// still the caller's, usually unmapped there. Drop the caller's
	// supplementary groups too (EPERM where setgroups is denied: none to drop
	// that the kernel would honour).
	if a.setIDs {
		if _, _, e = syscall.RawSyscall(unix.SYS_SETRESGID, 0, 0, 0); e != 0 {
			childFail(a, stageSetID, e)
		}
		if _, _, e = syscall.RawSyscall(unix.SYS_SETGROUPS, 0, 0, 0); e != 0 && e != unix.EPERM {
			childFail(a, stageSetID, e)
		}
		if _, _, e = syscall.RawSyscall(unix.SYS_SETRESUID, 0, 0, 0); e != 0 {
			childFail(a, stageSetID, e)
		}
	}
	if a.unshare != 0 {
		if _, _, e = syscall.RawSyscall(unix.SYS_UNSHARE, a.unshare, 0, 0); e != 0 {
			childFail(a, stageUnshare, e)
		}
	}
	r1, _, e = syscall.RawSyscall6(unix.SYS_CLONE, uintptr(unix.CLONE_PARENT|unix.SIGCHLD), 0, 0, 0, 0, 0)
	if e != 0 {
		childFail(a, stageClone, e)
	}
	if r1 != 0 {
		a.msg[0] = stageOK
		a.msg[4], a.msg[5], a.msg[6], a.msg[7] = byte(r1), byte(r1>>8), byte(r1>>16), byte(r1>>24)
		syscall.RawSyscall(unix.SYS_WRITE, a.pipe, uintptr(unsafe.Pointer(&a.msg[0])), 8)
		syscall.RawSyscall(unix.SYS_EXIT_GROUP, 0, 0, 0)
	}

	// The final child.
	for i := 0; i < len(a.fds); i++ {
		if a.fds[i] == ^uintptr(0) {
			syscall.RawSyscall(unix.SYS_CLOSE, uintptr(i), 0, 0)
			continue
		}
		if _, _, e = syscall.RawSyscall(unix.SYS_DUP3, a.fds[i], uintptr(i), 0); e != 0 {
			childFail(a, stageDup, e)
		}
	}
	syscall.RawSyscall6(unix.SYS_RT_SIGPROCMASK, unix.SIG_SETMASK, uintptr(unsafe.Pointer(&a.sigset)), 0, sigsetSize, 0, 0)
	_, _, e = syscall.RawSyscall6(unix.SYS_EXECVEAT, a.exeFd, uintptr(unsafe.Pointer(a.empty)),
		uintptr(unsafe.Pointer(a.argv)), uintptr(unsafe.Pointer(a.envv)), unix.AT_EMPTY_PATH, 0)
	childFail(a, stageExec, e)
	return 0
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

// sigsetSize is the kernel's sigset_t size, smaller than unix.Sigset_t (glibc's).
const sigsetSize = 8
