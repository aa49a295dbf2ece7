// Package seccomp turns the runtime-spec seccomp profile into a BPF filter
// (through libseccomp, rt's only cgo), loads it, and hands the user
// notification fd to the seccomp agent named by the profile.
package seccomp

import (
	"errors"
	"fmt"

	"github.com/opencontainers/runtime-spec/specs-go"
	"github.com/sirupsen/logrus"
	"golang.org/x/sys/unix"

	"github.com/rtproject/rt/libcontainer/internal/kernel"
)

// Load builds the filter and loads it into the calling process, on every
// thread (TSYNC): the Go runtime may run the final execve on any of them.
// It returns the notify listener fd when any rule uses SCMP_ACT_NOTIFY, else -1.
// The fd is close-on-exec; the caller passes it on and closes it.
//
// Without no_new_privs the kernel requires CAP_SYS_ADMIN (in the caller's user
// namespace) to load a filter; Load does not set no_new_privs itself, that is
// process.noNewPrivileges' business.
func Load(s *specs.LinuxSeccomp) (notifyFd int, err error) {
	p, err := Compile(s)
	if err != nil || p == nil {
		return -1, err
	}
	return p.Load()
}

// Program is a filter compiled by Compile, ready for Load.
type Program struct {
	filter []unix.SockFilter
	flags  uintptr
}

// Compile builds the filter without loading it. libseccomp allocates with
// malloc while compiling: the init compiles before process.rlimits apply, so
// a low RLIMIT_AS cannot make that fail. A nil profile gives a nil Program.
func Compile(s *specs.LinuxSeccomp) (*Program, error) {
	if s == nil {
		return nil, nil
	}
	c, err := compile(s)
	if err != nil {
		return nil, err
	}
	fl, err := filterFlags(s, c.usesNotify)
	if err != nil {
		return nil, err
	}
	return &Program{filter: c.program, flags: fl}, nil
}

// Flags are the flags seccomp(2) gets with the filter.
func (p *Program) Flags() uintptr { return p.flags }

// ProfileFlags are the flags the profile asks for (linux.seccomp.flags, and
// the listener for a notify rule): Flags without the thread-sync ones rt adds
// because its init is multi-threaded. runc, single-threaded there, passes
// exactly these, and its --debug line reports them.
func (p *Program) ProfileFlags() uintptr {
	return p.flags &^ (kernelFlagTsync | kernelFlagTsyncESRCH)
}

// Len is the number of BPF instructions of the filter.
func (p *Program) Len() int { return len(p.filter) }

// SockFprog is the filter as seccomp(2) takes it, for a process that loads
// it with a raw system call (the final child of `rt exec`'s fast path); it
// points into p, which must stay alive until then.
func (p *Program) SockFprog() *unix.SockFprog {
	return &unix.SockFprog{Len: uint16(len(p.filter)), Filter: &p.filter[0]}
}

// Load loads the compiled filter as the package-level Load does; a nil
// Program loads nothing and returns -1.
func (p *Program) Load() (notifyFd int, err error) {
	if p == nil {
		return -1, nil
	}
	fd, err := loadProgram(p.filter, p.flags)
	if err != nil {
		if errors.Is(err, unix.EACCES) {
			return -1, fmt.Errorf("load seccomp filter: %w (needs no_new_privs or CAP_SYS_ADMIN)", err)
		}
		return -1, fmt.Errorf("load seccomp filter: %w", err)
	}
	return fd, nil
}

func filterFlags(s *specs.LinuxSeccomp, usesNotify bool) (uintptr, error) {
	fl := uintptr(kernelFlagTsync)
	for i, f := range s.Flags {
		bit := flags[f]
		if bit == kernelFlagWaitKillableRecv && !usesNotify {
			// The kernel rejects the flag without a listener, and without one it means nothing.
			logrus.Debugf("seccomp: %s ignored: no rule uses %s", f, specs.ActNotify)
			continue
		}
		if !flagSupported(bit) {
			return 0, fmt.Errorf("linux.seccomp.flags[%d]: %s is not supported by this kernel", i, f)
		}
		fl |= bit
	}
	if usesNotify {
		// TSYNC and NEW_LISTENER both want the return value; TSYNC_ESRCH makes
		// a failed sync report ESRCH instead of a thread id (Linux 5.7).
		fl |= kernelFlagNewListener | kernelFlagTsyncESRCH
	}
	return fl, nil
}

// loadProgram installs prog with seccomp(2). It returns the listener fd when
// flags ask for one, else -1.
func loadProgram(prog []unix.SockFilter, flags uintptr) (int, error) {
	fprog := unix.SockFprog{Len: uint16(len(prog)), Filter: &prog[0]}
	r, err := kernel.SeccompFilter(flags, &fprog)
	if err != nil {
		return -1, err
	}
	if flags&kernelFlagNewListener != 0 {
		return r, nil
	}
	if r != 0 {
		// Plain TSYNC reports the thread it could not synchronise.
		return -1, fmt.Errorf("thread %d could not be synchronised", r)
	}
	return -1, nil
}

// flagSupported asks the kernel whether it knows a filter flag: it checks the
// flags before it reads the (here missing) program, so EFAULT means "known".
func flagSupported(bit uintptr) bool {
	if bit == kernelFlagWaitKillableRecv {
		bit |= kernelFlagNewListener // only valid together
	}
	_, _, errno := unix.Syscall(unix.SYS_SECCOMP, seccompSetModeFilter, bit, 0)
	return errno == unix.EFAULT
}
