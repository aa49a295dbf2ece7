package kernel

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"unsafe"

	"golang.org/x/sys/unix"

	"github.com/rtproject/rt/internal/mountinfo"
	"github.com/rtproject/rt/internal/proccgroup"
	"github.com/rtproject/rt/internal/procfs"
)

// Host is the running kernel.
type Host struct{}

func (Host) Mount(source, target, fstype string, flags uintptr, data string) error {
	return unix.Mount(source, target, fstype, flags, data)
}
func (Host) Unmount(target string, flags int) error { return unix.Unmount(target, flags) }
func (Host) OpenTree(dirfd int, path string, flags uint) (int, error) {
	return unix.OpenTree(dirfd, path, flags)
}
func (Host) MoveMount(fromDirfd int, fromPath string, toDirfd int, toPath string, flags int) error {
	return unix.MoveMount(fromDirfd, fromPath, toDirfd, toPath, flags)
}
func (Host) MountSetattr(dirfd int, path string, flags uint, attr *unix.MountAttr) error {
	return unix.MountSetattr(dirfd, path, flags, attr)
}
func (Host) Fsopen(fsName string, flags int) (int, error) { return unix.Fsopen(fsName, flags) }
func (Host) FsconfigSetString(fd int, key, value string) error {
	return unix.FsconfigSetString(fd, key, value)
}
func (Host) FsconfigCreate(fd int) error { return unix.FsconfigCreate(fd) }
func (Host) Fsmount(fd, flags, attrs int) (int, error) {
	return unix.Fsmount(fd, flags, attrs)
}
func (Host) PivotRoot(newroot, putold string) error { return unix.PivotRoot(newroot, putold) }

func (Host) MountID(fd int) (uint64, bool, error) {
	var stx unix.Statx_t
	if err := unix.Statx(fd, "", unix.AT_EMPTY_PATH|unix.AT_SYMLINK_NOFOLLOW, unix.STATX_MNT_ID, &stx); err != nil {
		return 0, false, err
	}
	return stx.Mnt_id, stx.Attributes&unix.STATX_ATTR_MOUNT_ROOT != 0, nil
}

func (Host) MountFlags(fd int) (int64, error) {
	var sfs unix.Statfs_t
	if err := unix.Fstatfs(fd, &sfs); err != nil {
		return 0, err
	}
	return sfs.Flags, nil
}

func (Host) Mountinfo() ([]mountinfo.Mount, error) { return mountinfo.Read() }

func (Host) OwnCgroups() ([]proccgroup.Hierarchy, error) {
	return proccgroup.ReadFile("/proc/self/cgroup")
}

func (Host) IDMapNamespace(uidMap, gidMap string) (*os.File, error) {
	return newUserNamespace(uidMap, gidMap)
}

func (Host) Mknodat(dirfd int, path string, mode uint32, dev int) error {
	return unix.Mknodat(dirfd, path, mode, dev)
}
func (Host) Fchownat(dirfd int, path string, uid, gid, flags int) error {
	return unix.Fchownat(dirfd, path, uid, gid, flags)
}
func (Host) Fchmodat(dirfd int, path string, mode uint32, flags int) error {
	return unix.Fchmodat(dirfd, path, mode, flags)
}
func (Host) Fchown(fd, uid, gid int) error   { return unix.Fchown(fd, uid, gid) }
func (Host) Chroot(path string) error        { return unix.Chroot(path) }
func (Host) Chdir(path string) error         { return unix.Chdir(path) }
func (Host) Fchdir(fd int) error             { return unix.Fchdir(fd) }
func (Host) Unshare(flags int) error         { return unix.Unshare(flags) }
func (Host) Sethostname(name []byte) error   { return unix.Sethostname(name) }
func (Host) Setdomainname(name []byte) error { return unix.Setdomainname(name) }

// ReadProc and WriteProc go through a procfs of rt's own (internal/procfs):
// in the init, the /proc path is the bundle's to shape. WriteProc writes
// with one write(2), as procfs files want.
func (Host) ReadProc(name string) ([]byte, error)     { return procfs.Read(name) }
func (Host) WriteProc(name string, data []byte) error { return procfs.Write(name, data) }

func (Host) Prlimit(pid, resource int, newLimit, old *unix.Rlimit) error {
	return unix.Prlimit(pid, resource, newLimit, old)
}
func (Host) SchedSetAttr(pid int, attr *unix.SchedAttr, flags uint) error {
	return unix.SchedSetAttr(pid, attr, flags)
}
func (Host) SchedGetaffinity(pid int, set *unix.CPUSet) error { return unix.SchedGetaffinity(pid, set) }
func (Host) SchedSetaffinity(pid int, set *unix.CPUSet) error { return unix.SchedSetaffinity(pid, set) }
func (Host) IoprioSet(which, who, prio int) error {
	if _, _, e := unix.Syscall(unix.SYS_IOPRIO_SET, uintptr(which), uintptr(who), uintptr(prio)); e != 0 {
		return e
	}
	return nil
}
func (Host) Personality(persona uintptr) error {
	if _, _, e := unix.Syscall(unix.SYS_PERSONALITY, persona, 0, 0); e != 0 {
		return e
	}
	return nil
}
func (Host) Prctl(option int, arg2, arg3, arg4, arg5 uintptr) error {
	return unix.Prctl(option, arg2, arg3, arg4, arg5)
}
func (Host) PrctlRetInt(option int, arg2, arg3, arg4, arg5 uintptr) (int, error) {
	return unix.PrctlRetInt(option, arg2, arg3, arg4, arg5)
}
func (Host) Capget(hdr *unix.CapUserHeader, data *[2]unix.CapUserData) error {
	return unix.Capget(hdr, &data[0])
}
func (Host) Capset(hdr *unix.CapUserHeader, data *[2]unix.CapUserData) error {
	return unix.Capset(hdr, &data[0])
}

// Setgroups changes every thread: syscall's does, x/sys/unix's only the
// calling one's.
// Setgroups, Setresgid and Setresuid change the calling thread's
// credentials only: the raw system calls, not Go's (or, with cgo, libc's)
// versions, which signal every other thread of the process and wait until
// each has changed too (three rounds per start of a container process:
// 0.35 ms of an exec). The init changes user on its locked thread right
// before it executes the container's process, and execve keeps only that
// thread's credentials; the runtime's other threads die in it. (On amd64
// and arm64, rt's targets, these calls take 32-bit ids.)
func (Host) Setgroups(gids []int) error {
	list := make([]uint32, len(gids))
	for i, g := range gids {
		list[i] = uint32(g)
	}
	var p unsafe.Pointer
	if len(list) > 0 {
		p = unsafe.Pointer(&list[0])
	}
	_, _, e := unix.RawSyscall(unix.SYS_SETGROUPS, uintptr(len(list)), uintptr(p), 0)
	runtime.KeepAlive(list)
	return errnoErr(e)
}

func (Host) Setresgid(rgid, egid, sgid int) error {
	_, _, e := unix.RawSyscall(unix.SYS_SETRESGID, uintptr(rgid), uintptr(egid), uintptr(sgid))
	return errnoErr(e)
}

func (Host) Setresuid(ruid, euid, suid int) error {
	_, _, e := unix.RawSyscall(unix.SYS_SETRESUID, uintptr(ruid), uintptr(euid), uintptr(suid))
	return errnoErr(e)
}

func errnoErr(e syscall.Errno) error {
	if e != 0 {
		return e
	}
	return nil
}
func (Host) Umask(mask int) int { return unix.Umask(mask) }

func (Host) SetMempolicy(mode int, nodes []uint64, maxnode uint64) error {
	_, _, e := unix.Syscall(unix.SYS_SET_MEMPOLICY, uintptr(mode), uintptr(unsafe.Pointer(&nodes[0])), uintptr(maxnode))
	runtime.KeepAlive(nodes)
	if e != 0 {
		return e
	}
	return nil
}

func (Host) KeyctlJoinSessionKeyring(name string) (int, error) {
	return unix.KeyctlJoinSessionKeyring(name)
}
func (Host) KeyctlDescribe(id int) (string, error) {
	return unix.KeyctlString(unix.KEYCTL_DESCRIBE, id)
}
func (Host) KeyctlSetperm(id int, perm uint32) error { return unix.KeyctlSetperm(id, perm) }

// seccompSetModeFilter is SECCOMP_SET_MODE_FILTER of seccomp(2).
const seccompSetModeFilter = 1

func (Host) SeccompFilter(flags uintptr, prog *unix.SockFprog) (int, error) {
	r, _, errno := unix.Syscall(unix.SYS_SECCOMP, seccompSetModeFilter, flags, uintptr(unsafe.Pointer(prog)))
	runtime.KeepAlive(prog)
	if errno != 0 {
		return -1, errno
	}
	return int(r), nil
}

// newUserNamespace returns a handle of a fresh user namespace carrying the
// given uid_map and gid_map contents, as mount_setattr(MOUNT_ATTR_IDMAP) needs.
//
// A process cannot unshare a user namespace once it has threads, so a child
// is created in one. Rather than depending on what the binary does when run,
// the child is traced: it stops on the SIGTRAP that follows a traced execve,
// before any of its own code runs, and stays there until it is killed once
// its namespace has been opened.
func newUserNamespace(uidMap, gidMap string) (*os.File, error) {
	// A tracee's stops go to the thread that started it.
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()

	pidfd := -1
	cmd := &exec.Cmd{
		Path: "/proc/self/exe",
		Args: []string{"rt-userns-holder"},
		SysProcAttr: &syscall.SysProcAttr{
			Cloneflags: syscall.CLONE_NEWUSER,
			Ptrace:     true,
			PidFD:      &pidfd,
			Pdeathsig:  syscall.SIGKILL,
		},
	}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start user namespace holder: %w", err)
	}
	defer func() {
		_ = cmd.Process.Kill()
		reap(cmd.Process.Pid)
		_ = cmd.Process.Release()
		if pidfd >= 0 {
			unix.Close(pidfd)
		}
	}()

	// The pid the clone returned is in our pid namespace, and so is the
	// private procfs; the pidfd's fdinfo gives the pid as that numbers it,
	// which keeps the two in agreement whatever procfs serves.
	pid, err := procPidOfPidfd(pidfd)
	if err != nil {
		return nil, err
	}
	if err := procfs.WritePid(pid, "uid_map", []byte(uidMap)); err != nil {
		return nil, err
	}
	if err := procfs.WritePid(pid, "gid_map", []byte(gidMap)); err != nil {
		return nil, err
	}
	ns, err := procfs.OpenNamespace(pid, "user")
	if err != nil {
		return nil, fmt.Errorf("open user namespace: %w", err)
	}
	return ns, nil
}

// reap waits for the killed holder. Its ptrace stop may be reported before
// its death, so wait until it is really gone.
func reap(pid int) {
	for {
		var ws unix.WaitStatus
		_, err := unix.Wait4(pid, &ws, unix.WALL, nil)
		if err == unix.EINTR {
			continue
		}
		if err != nil || ws.Exited() || ws.Signaled() {
			return
		}
	}
}

func procPidOfPidfd(pidfd int) (int, error) {
	info, err := procfs.ReadSelf("fdinfo/" + strconv.Itoa(pidfd))
	if err != nil {
		return 0, fmt.Errorf("read pidfd info: %w", err)
	}
	sc := bufio.NewScanner(bytes.NewReader(info))
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "Pid:"); ok {
			pid, err := strconv.Atoi(strings.TrimSpace(v))
			if err != nil || pid <= 0 {
				return 0, fmt.Errorf("pidfd info: holder pid %q not visible in /proc", v)
			}
			return pid, nil
		}
	}
	return 0, fmt.Errorf("pidfd info: no Pid line")
}
