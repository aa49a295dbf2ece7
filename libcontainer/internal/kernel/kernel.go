// Package kernel is the seam between the container's setup logic (rootfs,
// namespaces, process attributes, the init) and the system calls that need
// privilege or change the calling process for good: mounts, device nodes,
// the root directory, namespaces, credentials, capabilities, limits,
// scheduling, seccomp, and writes below /proc.
//
// Callers use the package functions (kernel.Mount, kernel.Capset, …), which
// go to the running kernel. A unit test swaps in a Recorder (Swap), which
// records every call in order and answers from a small model of the
// process, so that the logic around the calls runs as an ordinary user.
// Everything else (opening, creating and resolving files in the rootfs)
// stays real and works on a test's temporary directory.
package kernel

import (
	"os"

	"golang.org/x/sys/unix"

	"github.com/rtproject/rt/internal/mountinfo"
	"github.com/rtproject/rt/internal/proccgroup"
)

// Interface is every call that goes through the seam.
type Interface interface {
	// The mount table.
	Mount(source, target, fstype string, flags uintptr, data string) error
	Unmount(target string, flags int) error
	OpenTree(dirfd int, path string, flags uint) (int, error)
	MoveMount(fromDirfd int, fromPath string, toDirfd int, toPath string, flags int) error
	MountSetattr(dirfd int, path string, flags uint, attr *unix.MountAttr) error
	Fsopen(fsName string, flags int) (int, error)
	FsconfigSetString(fd int, key, value string) error
	FsconfigCreate(fd int) error
	Fsmount(fd, flags, mountAttrs int) (int, error)
	PivotRoot(newroot, putold string) error
	// MountID says which mount fd is on, as mountinfo numbers it, and
	// whether fd is the root of that mount.
	MountID(fd int) (id uint64, root bool, err error)
	// MountFlags are the flags of the mount fd is on, as statfs(2) reports
	// them (ST_RDONLY, ST_NOSUID, …, ST_RELATIME).
	MountFlags(fd int) (int64, error)
	Mountinfo() ([]mountinfo.Mount, error)
	// OwnCgroups is /proc/self/cgroup.
	OwnCgroups() ([]proccgroup.Hierarchy, error)
	// IDMapNamespace returns a user namespace with the given uid_map and
	// gid_map contents, for mount_setattr(MOUNT_ATTR_IDMAP).
	IDMapNamespace(uidMap, gidMap string) (*os.File, error)

	// Files only a privileged process may make as the spec wants them.
	Mknodat(dirfd int, path string, mode uint32, dev int) error
	Fchownat(dirfd int, path string, uid, gid, flags int) error
	Fchmodat(dirfd int, path string, mode uint32, flags int) error
	Fchown(fd, uid, gid int) error

	// The process's root, working directory and namespaces.
	Chroot(path string) error
	Chdir(path string) error
	Fchdir(fd int) error
	Unshare(flags int) error
	Sethostname(name []byte) error
	Setdomainname(name []byte) error

	// Files below /proc; name is relative to /proc ("self/oom_score_adj").
	ReadProc(name string) ([]byte, error)
	WriteProc(name string, data []byte) error

	// Process attributes.
	Prlimit(pid, resource int, newLimit, old *unix.Rlimit) error
	SchedSetAttr(pid int, attr *unix.SchedAttr, flags uint) error
	SchedGetaffinity(pid int, set *unix.CPUSet) error
	SchedSetaffinity(pid int, set *unix.CPUSet) error
	IoprioSet(which, who, prio int) error
	Personality(persona uintptr) error
	Prctl(option int, arg2, arg3, arg4, arg5 uintptr) error
	PrctlRetInt(option int, arg2, arg3, arg4, arg5 uintptr) (int, error)
	Capget(hdr *unix.CapUserHeader, data *[2]unix.CapUserData) error
	Capset(hdr *unix.CapUserHeader, data *[2]unix.CapUserData) error
	// Setgroups, Setresgid and Setresuid change the calling thread's
	// credentials, not the whole process's.
	Setgroups(gids []int) error
	Setresgid(rgid, egid, sgid int) error
	Setresuid(ruid, euid, suid int) error
	Umask(mask int) int
	// SeccompFilter is seccomp(SECCOMP_SET_MODE_FILTER, flags, prog).
	SeccompFilter(flags uintptr, prog *unix.SockFprog) (int, error)
	// SetMempolicy is set_mempolicy(2): nodes is the node mask, maxnode its
	// length in bits as the kernel counts them.
	SetMempolicy(mode int, nodes []uint64, maxnode uint64) error
	// Session keyrings (keyctl(2)).
	KeyctlJoinSessionKeyring(name string) (int, error)
	KeyctlDescribe(id int) (string, error)
	KeyctlSetperm(id int, perm uint32) error
}

var current Interface = Host{}

// Swap makes i answer every call until the returned function restores the
// previous implementation. For tests; not safe with parallel tests.
func Swap(i Interface) (restore func()) {
	prev := current
	current = i
	return func() { current = prev }
}

func Mount(source, target, fstype string, flags uintptr, data string) error {
	return current.Mount(source, target, fstype, flags, data)
}
func Unmount(target string, flags int) error { return current.Unmount(target, flags) }
func OpenTree(dirfd int, path string, flags uint) (int, error) {
	return current.OpenTree(dirfd, path, flags)
}
func MoveMount(fromDirfd int, fromPath string, toDirfd int, toPath string, flags int) error {
	return current.MoveMount(fromDirfd, fromPath, toDirfd, toPath, flags)
}
func MountSetattr(dirfd int, path string, flags uint, attr *unix.MountAttr) error {
	return current.MountSetattr(dirfd, path, flags, attr)
}
func Fsopen(fsName string, flags int) (int, error) { return current.Fsopen(fsName, flags) }
func FsconfigSetString(fd int, key, value string) error {
	return current.FsconfigSetString(fd, key, value)
}
func FsconfigCreate(fd int) error                 { return current.FsconfigCreate(fd) }
func Fsmount(fd, flags, attrs int) (int, error)   { return current.Fsmount(fd, flags, attrs) }
func PivotRoot(newroot, putold string) error      { return current.PivotRoot(newroot, putold) }
func MountID(fd int) (uint64, bool, error)        { return current.MountID(fd) }
func MountFlags(fd int) (int64, error)            { return current.MountFlags(fd) }
func Mountinfo() ([]mountinfo.Mount, error)       { return current.Mountinfo() }
func OwnCgroups() ([]proccgroup.Hierarchy, error) { return current.OwnCgroups() }
func IDMapNamespace(uidMap, gidMap string) (*os.File, error) {
	return current.IDMapNamespace(uidMap, gidMap)
}
func Mknodat(dirfd int, path string, mode uint32, dev int) error {
	return current.Mknodat(dirfd, path, mode, dev)
}
func Fchownat(dirfd int, path string, uid, gid, flags int) error {
	return current.Fchownat(dirfd, path, uid, gid, flags)
}
func Fchmodat(dirfd int, path string, mode uint32, flags int) error {
	return current.Fchmodat(dirfd, path, mode, flags)
}
func Fchown(fd, uid, gid int) error            { return current.Fchown(fd, uid, gid) }
func Chroot(path string) error                 { return current.Chroot(path) }
func Chdir(path string) error                  { return current.Chdir(path) }
func Fchdir(fd int) error                      { return current.Fchdir(fd) }
func Unshare(flags int) error                  { return current.Unshare(flags) }
func Sethostname(name []byte) error            { return current.Sethostname(name) }
func Setdomainname(name []byte) error          { return current.Setdomainname(name) }
func ReadProc(name string) ([]byte, error)     { return current.ReadProc(name) }
func WriteProc(name string, data []byte) error { return current.WriteProc(name, data) }
func Prlimit(pid, resource int, newLimit, old *unix.Rlimit) error {
	return current.Prlimit(pid, resource, newLimit, old)
}
func SchedSetAttr(pid int, attr *unix.SchedAttr, flags uint) error {
	return current.SchedSetAttr(pid, attr, flags)
}
func SchedGetaffinity(pid int, set *unix.CPUSet) error { return current.SchedGetaffinity(pid, set) }
func SchedSetaffinity(pid int, set *unix.CPUSet) error { return current.SchedSetaffinity(pid, set) }
func IoprioSet(which, who, prio int) error             { return current.IoprioSet(which, who, prio) }
func Personality(persona uintptr) error                { return current.Personality(persona) }
func Prctl(option int, arg2, arg3, arg4, arg5 uintptr) error {
	return current.Prctl(option, arg2, arg3, arg4, arg5)
}
func PrctlRetInt(option int, arg2, arg3, arg4, arg5 uintptr) (int, error) {
	return current.PrctlRetInt(option, arg2, arg3, arg4, arg5)
}
func Capget(hdr *unix.CapUserHeader, data *[2]unix.CapUserData) error {
	return current.Capget(hdr, data)
}
func Capset(hdr *unix.CapUserHeader, data *[2]unix.CapUserData) error {
	return current.Capset(hdr, data)
}
func Setgroups(gids []int) error           { return current.Setgroups(gids) }
func Setresgid(rgid, egid, sgid int) error { return current.Setresgid(rgid, egid, sgid) }
func Setresuid(ruid, euid, suid int) error { return current.Setresuid(ruid, euid, suid) }
func Umask(mask int) int                   { return current.Umask(mask) }
func SeccompFilter(flags uintptr, prog *unix.SockFprog) (int, error) {
	return current.SeccompFilter(flags, prog)
}
func SetMempolicy(mode int, nodes []uint64, maxnode uint64) error {
	return current.SetMempolicy(mode, nodes, maxnode)
}
func KeyctlJoinSessionKeyring(name string) (int, error) {
	return current.KeyctlJoinSessionKeyring(name)
}
func KeyctlDescribe(id int) (string, error)   { return current.KeyctlDescribe(id) }
func KeyctlSetperm(id int, perm uint32) error { return current.KeyctlSetperm(id, perm) }
