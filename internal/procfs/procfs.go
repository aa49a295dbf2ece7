// Package procfs is the one way rt reads and writes files in /proc.
//
// In the container's init, /proc is whatever the bundle made of it: a volume
// mounted over it, a symlink, or a procfs file bound over another (a
// procfs-to-procfs redirect, CVE-2025-52881) could turn a write meant for
// /proc/self/oom_score_adj into one to /proc/sys/kernel/core_pattern. So
// nothing here resolves a path under "/proc". Every file is looked up in a
// procfs instance of rt's own (fsopen, or a detached clone of /proc, or
// /proc itself verified to be the root of a procfs, in that order of
// preference) without following symlinks out of it, magic links or mount
// crossings, and reopened for reading or writing through its own fd. The
// result is checked to be a procfs file before a byte is written.
//
// The lookups are those of github.com/cyphar/filepath-securejoin's procfs
// package, which keeps one private "subset=pid" instance per process for the
// pid files; sysctls need a full instance, which lives only for the write.
package procfs

import (
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"

	pathrs "github.com/cyphar/filepath-securejoin/pathrs-lite"
	"github.com/cyphar/filepath-securejoin/pathrs-lite/procfs"
	"golang.org/x/sys/unix"
)

// A base says which directory of /proc a name is relative to.
type base int

const (
	self       base = iota // /proc/self: the calling process
	threadSelf             // /proc/thread-self: the calling thread
	root                   // /proc
)

// open returns an O_PATH handle of the file and the function to call once
// done with it (thread-self handles pin the OS thread).
func open(b base, name string) (*os.File, func(), error) {
	var h *procfs.Handle
	var err error
	if b == root {
		// The pid-only instance has no /proc/sys: use a full one, for as
		// short a time as possible.
		h, err = procfs.OpenUnsafeProcRoot()
	} else {
		h, err = procfs.OpenProcRoot()
	}
	if err != nil {
		return nil, nil, fmt.Errorf("open a private procfs: %w", err)
	}
	defer h.Close()
	switch b {
	case self:
		f, err := h.OpenSelf(name)
		return f, func() {}, err
	case threadSelf:
		f, done, err := h.OpenThreadSelf(name)
		if err != nil {
			return nil, nil, err
		}
		return f, done, nil
	default:
		f, err := h.OpenRoot(name)
		return f, func() {}, err
	}
}

// reopen opens the file the O_PATH handle names with flags, through the
// handle itself, and checks that it is on a procfs.
func reopen(handle *os.File, flags int) (*os.File, error) {
	f, err := pathrs.Reopen(handle, flags|unix.O_CLOEXEC)
	if err != nil {
		return nil, err
	}
	var st unix.Statfs_t
	if err := unix.Fstatfs(int(f.Fd()), &st); err != nil {
		f.Close()
		return nil, err
	}
	if st.Type != unix.PROC_SUPER_MAGIC {
		f.Close()
		return nil, fmt.Errorf("not a procfs file (filesystem %#x)", st.Type)
	}
	return f, nil
}

func display(b base, name string) string {
	switch b {
	case self:
		return "/proc/self/" + name
	case threadSelf:
		return "/proc/thread-self/" + name
	}
	return "/proc/" + name
}

// pathError names the file as /proc/… whatever name the private procfs
// gave the fd, keeping the cause.
func pathError(op string, b base, name string, err error) error {
	var pe *os.PathError
	if errors.As(err, &pe) {
		err = pe.Err
	}
	return &os.PathError{Op: op, Path: display(b, name), Err: err}
}

func write(b base, name string, data []byte) error {
	handle, done, err := open(b, name)
	if err != nil {
		return pathError("open", b, name, err)
	}
	defer done()
	defer handle.Close()
	f, err := reopen(handle, unix.O_WRONLY)
	if err != nil {
		return pathError("open", b, name, err)
	}
	defer f.Close()
	// One write: files such as uid_map take their whole content at once.
	n, err := f.Write(data)
	if err == nil && n < len(data) {
		err = io.ErrShortWrite
	}
	if err != nil {
		return pathError("write", b, name, err)
	}
	return nil
}

func read(b base, name string) ([]byte, error) {
	handle, done, err := open(b, name)
	if err != nil {
		return nil, pathError("open", b, name, err)
	}
	defer done()
	defer handle.Close()
	f, err := reopen(handle, unix.O_RDONLY)
	if err != nil {
		return nil, pathError("open", b, name, err)
	}
	defer f.Close()
	data, err := io.ReadAll(f)
	if err != nil {
		return nil, pathError("read", b, name, err)
	}
	return data, nil
}

// WriteSelf writes data to /proc/self/<name> (e.g. "oom_score_adj").
func WriteSelf(name string, data []byte) error { return write(self, name, data) }

// ReadSelf reads /proc/self/<name>.
func ReadSelf(name string) ([]byte, error) { return read(self, name) }

// WriteThreadSelf writes data to /proc/thread-self/<name>, the calling OS
// thread's (e.g. "attr/exec"): the caller must have locked its goroutine to
// the thread.
func WriteThreadSelf(name string, data []byte) error { return write(threadSelf, name, data) }

// WritePid writes data to /proc/<pid>/<name>, pid as the calling process's
// pid namespace numbers it.
func WritePid(pid int, name string, data []byte) error {
	return write(root, strconv.Itoa(pid)+"/"+name, data)
}

// ReadPid reads /proc/<pid>/<name>.
func ReadPid(pid int, name string) ([]byte, error) {
	return read(root, strconv.Itoa(pid)+"/"+name)
}

// Write writes data to /proc/<name>, name as "self/oom_score_adj",
// "thread-self/attr/exec", "1234/uid_map" or "sys/net/ipv4/ip_forward".
// Sysctls are written in the namespaces of the calling thread.
func Write(name string, data []byte) error {
	b, rest := split(name)
	return write(b, rest, data)
}

// Read reads /proc/<name>, named as for Write.
func Read(name string) ([]byte, error) {
	b, rest := split(name)
	return read(b, rest)
}

func split(name string) (base, string) {
	first, rest, _ := strings.Cut(name, "/")
	switch first {
	case "self":
		return self, rest
	case "thread-self":
		return threadSelf, rest
	}
	return root, name
}

// OpenNamespace opens /proc/<pid>/ns/<ns> (say "user") for setns or
// mount_setattr, pid as the calling process's pid namespace numbers it.
func OpenNamespace(pid int, ns string) (*os.File, error) {
	name := strconv.Itoa(pid) + "/ns"
	dir, done, err := open(root, name)
	if err != nil {
		return nil, pathError("open", root, name, err)
	}
	defer done()
	defer dir.Close()
	// The magic link is followed from a directory of our own procfs.
	fd, err := unix.Openat(int(dir.Fd()), ns, unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, pathError("open", root, name+"/"+ns, err)
	}
	f := os.NewFile(uintptr(fd), display(root, name+"/"+ns))
	var st unix.Statfs_t
	if err := unix.Fstatfs(fd, &st); err != nil || st.Type != unix.NSFS_MAGIC {
		f.Close()
		return nil, pathError("open", root, name+"/"+ns, errors.New("not a namespace"))
	}
	return f, nil
}

// ReopenFd opens the file f refers to (an O_PATH fd, say) again with flags,
// through a private procfs.
func ReopenFd(f *os.File, flags int) (*os.File, error) {
	return pathrs.Reopen(f, flags|unix.O_CLOEXEC)
}
