// Package kerneltest is the fake kernel of package kernel's seam: a
// Recorder that unit tests swap in to run rootfs, namespace and
// process-attribute logic as an ordinary user, and to assert which system
// calls it makes, with which arguments and in which order.
package kerneltest

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/rtproject/rt/internal/mountinfo"
	"github.com/rtproject/rt/internal/proccgroup"
	"github.com/rtproject/rt/libcontainer/internal/kernel"
)

// Recorder records every call as one line in Calls and answers from a
// small model of the calling process:
//
//   - OpenTree, Fsopen, Fsmount and IDMapNamespace return real descriptors
//     (of the tree's source, or of a file standing for what they make), so
//     that the code under test can close and pass them as usual; OpenTree
//     of an absolute path this machine lacks (a host cgroup directory)
//     answers a descriptor standing for it;
//   - a mount on a descriptor makes MountID report a new mount there for
//     descriptors opened afterwards, as the kernel does;
//   - Mknodat leaves an empty regular file where the node would be;
//   - the capability sets, the bounding set and the umask change as the
//     calls ask; ReadProc and WriteProc use Proc.
//
// Paths below Root are shown as the container sees them ("/dev/null"),
// other absolute paths as "host:/path" (when Root is set), descriptors the
// Recorder made by what they stand for ("fs tmpfs", "new tmpfs").
type Recorder struct {
	Root  string
	Calls []string

	// SourceFlags are what MountFlags reports (statfs's ST_* flags) for a
	// descriptor, by the name the calls show it with ("host:/src"); a
	// mount not listed is rw and relatime.
	SourceFlags map[string]int64
	// Mounts and Cgroups are what Mountinfo and OwnCgroups return.
	Mounts  []mountinfo.Mount
	Cgroups []proccgroup.Hierarchy
	// Proc maps names below /proc ("self/setgroups") to their contents.
	Proc map[string]string
	// The calling thread's capability sets, bit n for capability n.
	Effective, Permitted, Inheritable, Bounding, Ambient uint64
	UmaskValue                                           int
	// Limits are the current rlimits by resource; unlimited when missing.
	Limits map[int]unix.Rlimit

	dir      string
	serial   int
	fails    map[string]map[int]error
	counts   map[string]int
	labels   map[int]label // descriptors that now name a mount: what it is
	mountIDs map[inode][]uint64
	before   map[int]fdMount // mount targets, which keep seeing what was below
	nextID   uint64
	keyring  string
}

type inode struct{ dev, ino uint64 }

// label names what a descriptor stands for while it is the same open file
// (ref is a duplicate kept to compare with, kcmp(2)): fd numbers are reused.
type label struct {
	ref  int
	name string
}

type fdMount struct {
	ino inode
	id  uint64
}

// AllCaps is every capability of a kernel whose cap_last_cap is 40.
const AllCaps = 1<<41 - 1

// New swaps a Recorder in for the rest of the test. root is the directory
// tests use as the container's rootfs ("" if none). The model starts as
// root with every capability, umask 022, setgroups allowed.
func New(t testing.TB, root string) *Recorder {
	t.Helper()
	r := &Recorder{
		Root: root,
		Proc: map[string]string{
			"sys/kernel/cap_last_cap": "40\n",
			"self/setgroups":          "allow\n",
			"self/oom_score_adj":      "0\n",
		},
		// The mount MountID reports for what nothing was mounted on.
		Mounts:    []mountinfo.Mount{{ID: 1, Root: "/", Point: "/", FSType: "ext4", Source: "/dev/root"}},
		Effective: AllCaps, Permitted: AllCaps, Bounding: AllCaps,
		UmaskValue: 0o022,
		dir:        t.TempDir(),
		fails:      map[string]map[int]error{},
		counts:     map[string]int{},
		labels:     map[int]label{},
		mountIDs:   map[inode][]uint64{},
		before:     map[int]fdMount{},
		nextID:     100,
	}
	t.Cleanup(kernel.Swap(r))
	t.Cleanup(func() {
		for _, l := range r.labels {
			unix.Close(l.ref)
		}
	})
	return r
}

// Fail makes the n-th call (from 1) of the named kind ("mount",
// "move_mount", …: the first word of its line) fail with err.
func (r *Recorder) Fail(call string, n int, err error) {
	if r.fails[call] == nil {
		r.fails[call] = map[int]error{}
	}
	r.fails[call][n] = err
}

// Only returns the recorded lines of the given kinds, in order.
func (r *Recorder) Only(kinds ...string) []string {
	var out []string
	for _, c := range r.Calls {
		kind, _, _ := strings.Cut(c, " ")
		for _, k := range kinds {
			if kind == k {
				out = append(out, c)
			}
		}
	}
	return out
}

// Reset forgets the calls recorded so far, and how many of each kind Fail counts.
func (r *Recorder) Reset() {
	r.Calls = nil
	r.counts = map[string]int{}
}

// record adds a line and returns the error the test asked this call to fail with.
func (r *Recorder) record(kind, format string, args ...any) error {
	r.counts[kind]++
	err := r.fails[kind][r.counts[kind]]
	line := kind
	if format != "" {
		line += " " + fmt.Sprintf(format, args...)
	}
	if err != nil {
		line += " = " + err.Error()
	}
	r.Calls = append(r.Calls, line)
	return err
}

// path shows p as the container sees it when it lies below Root.
func (r *Recorder) path(p string) string {
	if fd, ok := strings.CutPrefix(p, "/proc/self/fd/"); ok {
		if n, err := strconv.Atoi(fd); err == nil {
			return r.fd(n)
		}
	}
	if r.Root != "" {
		if rel, err := filepath.Rel(r.Root, p); err == nil && rel != ".." && !strings.HasPrefix(rel, "../") {
			return filepath.Join("/", rel)
		}
	}
	if r.Root != "" && filepath.IsAbs(p) {
		return "host:" + p
	}
	return p
}

// at shows dirfd+path as the container sees it.
func (r *Recorder) at(dirfd int, p string) string {
	switch {
	case dirfd == unix.AT_FDCWD || filepath.IsAbs(p):
		return r.path(p)
	case p == "":
		return r.fd(dirfd)
	}
	return filepath.Join(r.fd(dirfd), p)
}

// fd shows what a descriptor names: the mount it was attached as, or its path.
func (r *Recorder) fd(n int) string {
	if l, ok := r.labels[n]; ok && sameFile(n, l.ref) {
		return l.name
	}
	p, err := os.Readlink("/proc/self/fd/" + strconv.Itoa(n))
	if err != nil {
		return "fd" + strconv.Itoa(n)
	}
	return r.path(p)
}

func statFd(fd int) inode {
	var st unix.Stat_t
	if unix.Fstat(fd, &st) != nil {
		return inode{}
	}
	return inode{uint64(st.Dev), st.Ino}
}

// handle returns a real descriptor standing for name ("new tmpfs"), which
// the calls show by that name.
func (r *Recorder) handle(name string) (int, error) {
	r.serial++
	p := filepath.Join(r.dir, "handle-"+strconv.Itoa(r.serial))
	if err := os.WriteFile(p, nil, 0o600); err != nil {
		return -1, err
	}
	fd, err := unix.Open(p, unix.O_PATH|unix.O_CLOEXEC, 0)
	if err != nil {
		return -1, err
	}
	r.setLabel(fd, name)
	return fd, nil
}

// setLabel makes fd show as name for as long as it is the same open file.
func (r *Recorder) setLabel(fd int, name string) {
	if old, ok := r.labels[fd]; ok {
		unix.Close(old.ref)
	}
	ref, err := unix.FcntlInt(uintptr(fd), unix.F_DUPFD_CLOEXEC, 0)
	if err != nil {
		return
	}
	r.labels[fd] = label{ref, name}
}

// sameFile reports whether two descriptors of this process share one open
// file description.
func sameFile(a, b int) bool {
	const kcmpFile = 0
	pid := uintptr(os.Getpid())
	r, _, errno := unix.Syscall6(unix.SYS_KCMP, pid, pid, kcmpFile, uintptr(a), uintptr(b), 0)
	return errno == 0 && r == 0
}

// mounted notes a new mount on the target descriptor (if the target is one).
func (r *Recorder) mounted(target string, targetFd int, name string) {
	if targetFd < 0 {
		fd, ok := strings.CutPrefix(target, "/proc/self/fd/")
		if !ok {
			return
		}
		n, err := strconv.Atoi(fd)
		if err != nil {
			return
		}
		targetFd = n
	}
	ino := statFd(targetFd)
	ids := r.mountIDs[ino]
	below := uint64(1)
	if len(ids) > 0 {
		below = ids[len(ids)-1]
	}
	r.before[targetFd] = fdMount{ino, below}
	r.nextID++
	r.mountIDs[ino] = append(ids, r.nextID)
	_ = name
}

func (r *Recorder) Mount(source, target, fstype string, flags uintptr, data string) error {
	if strings.HasPrefix(source, "/") {
		source = r.path(source)
	}
	err := r.record("mount", "%s %s %s %s %q", orNone(source), r.path(target), orNone(fstype), msFlags(flags), data)
	if err == nil && flags&(unix.MS_REMOUNT|unix.MS_PRIVATE|unix.MS_SLAVE|unix.MS_SHARED|unix.MS_UNBINDABLE|unix.MS_MOVE) == 0 {
		r.mounted(target, -1, fstype)
	}
	return err
}

func (r *Recorder) Unmount(target string, flags int) error {
	f := "0"
	if flags&unix.MNT_DETACH != 0 {
		f = "detach"
	}
	return r.record("umount", "%s %s", r.path(target), f)
}

func (r *Recorder) OpenTree(dirfd int, path string, flags uint) (int, error) {
	var fl []string
	if flags&unix.OPEN_TREE_CLONE != 0 {
		fl = append(fl, "clone")
	}
	if flags&unix.AT_RECURSIVE != 0 {
		fl = append(fl, "recursive")
	}
	if err := r.record("open_tree", "%s %s", r.at(dirfd, path), strings.Join(fl, "|")); err != nil {
		return -1, err
	}
	oflags := unix.O_PATH | unix.O_CLOEXEC
	var fd int
	var err error
	if path == "" {
		fd, err = unix.Openat(dirfd, "/proc/self/fd/"+strconv.Itoa(dirfd), oflags, 0)
		if l, ok := r.labels[dirfd]; ok && err == nil && sameFile(dirfd, l.ref) {
			// A clone of what the Recorder made stands for the same thing.
			r.setLabel(fd, l.name)
		}
	} else {
		fd, err = unix.Openat(dirfd, path, oflags, 0)
	}
	if errors.Is(err, unix.ENOENT) && dirfd == unix.AT_FDCWD && filepath.IsAbs(path) {
		// A host path the test cannot make (a cgroup directory): a
		// handle that stands for it.
		return r.handle(r.path(path))
	}
	return fd, err
}

func (r *Recorder) MoveMount(fromDirfd int, fromPath string, toDirfd int, toPath string, flags int) error {
	from, to := r.at(fromDirfd, fromPath), r.at(toDirfd, toPath)
	if err := r.record("move_mount", "%s -> %s", from, to); err != nil {
		return err
	}
	if toPath == "" {
		r.mounted("", toDirfd, from)
		// The detached tree's descriptor now names the mount at its target.
		if fromPath == "" {
			r.setLabel(fromDirfd, to)
		}
	}
	return nil
}

func (r *Recorder) MountSetattr(dirfd int, path string, flags uint, attr *unix.MountAttr) error {
	var parts []string
	if flags&unix.AT_RECURSIVE != 0 {
		parts = append(parts, "recursive")
	}
	if attr.Attr_set != 0 {
		parts = append(parts, "set="+attrFlags(attr.Attr_set))
	}
	if attr.Attr_clr != 0 {
		parts = append(parts, "clr="+attrFlags(attr.Attr_clr))
	}
	if attr.Propagation != 0 {
		parts = append(parts, "propagation="+msFlags(uintptr(attr.Propagation)))
	}
	if attr.Attr_set&unix.MOUNT_ATTR_IDMAP != 0 {
		parts = append(parts, "userns="+r.fd(int(attr.Userns_fd)))
	}
	return r.record("mount_setattr", "%s %s", r.at(dirfd, path), strings.Join(parts, " "))
}

func (r *Recorder) Fsopen(fsName string, flags int) (int, error) {
	if err := r.record("fsopen", "%s", fsName); err != nil {
		return -1, err
	}
	return r.handle("fs " + fsName)
}

func (r *Recorder) FsconfigSetString(fd int, key, value string) error {
	return r.record("fsconfig", "%s %s=%s", r.fd(fd), key, value)
}

func (r *Recorder) FsconfigCreate(fd int) error { return r.record("fsconfig", "%s create", r.fd(fd)) }

func (r *Recorder) Fsmount(fd, flags, attrs int) (int, error) {
	name := strings.TrimPrefix(r.fd(fd), "fs ")
	if err := r.record("fsmount", "%s %s", name, attrFlags(uint64(attrs))); err != nil {
		return -1, err
	}
	return r.handle("new " + name)
}

func (r *Recorder) PivotRoot(newroot, putold string) error {
	return r.record("pivot_root", "%s %s", r.path(newroot), r.path(putold))
}

func (r *Recorder) MountID(fd int) (uint64, bool, error) {
	ino := statFd(fd)
	if b, ok := r.before[fd]; ok && b.ino == ino {
		return b.id, false, nil
	}
	if ids := r.mountIDs[ino]; len(ids) > 0 {
		return ids[len(ids)-1], true, nil
	}
	return 1, false, nil
}

func (r *Recorder) MountFlags(fd int) (int64, error) {
	if f, ok := r.SourceFlags[r.fd(fd)]; ok {
		return f, nil
	}
	return unix.ST_RELATIME, nil
}

func (r *Recorder) Mountinfo() ([]mountinfo.Mount, error) { return r.Mounts, nil }

func (r *Recorder) OwnCgroups() ([]proccgroup.Hierarchy, error) { return r.Cgroups, nil }

func (r *Recorder) IDMapNamespace(uidMap, gidMap string) (*os.File, error) {
	desc := "userns " + strings.TrimSpace(uidMap) + " / " + strings.TrimSpace(gidMap)
	if err := r.record("userns", "%q %q", strings.TrimSpace(uidMap), strings.TrimSpace(gidMap)); err != nil {
		return nil, err
	}
	fd, err := r.handle(desc)
	if err != nil {
		return nil, err
	}
	return os.NewFile(uintptr(fd), desc), nil
}

func (r *Recorder) Mknodat(dirfd int, path string, mode uint32, dev int) error {
	t := map[uint32]string{unix.S_IFCHR: "c", unix.S_IFBLK: "b", unix.S_IFIFO: "p"}[mode&unix.S_IFMT]
	err := r.record("mknod", "%s %s %d:%d %04o", r.at(dirfd, path), t, unix.Major(uint64(dev)), unix.Minor(uint64(dev)), mode&0o7777)
	if err != nil {
		return err
	}
	fd, err := unix.Openat(dirfd, path, unix.O_CREAT|unix.O_EXCL|unix.O_WRONLY|unix.O_NOFOLLOW|unix.O_CLOEXEC, mode&0o777)
	if err != nil {
		return err
	}
	return unix.Close(fd)
}

func (r *Recorder) Fchownat(dirfd int, path string, uid, gid, flags int) error {
	return r.record("chown", "%s %d:%d", r.at(dirfd, path), uid, gid)
}

func (r *Recorder) Fchmodat(dirfd int, path string, mode uint32, flags int) error {
	if err := r.record("chmod", "%s %04o", r.at(dirfd, path), mode); err != nil {
		return err
	}
	// Keep the placeholder's permissions honest for what follows.
	return unix.Fchmodat(dirfd, path, mode&0o777, flags)
}

func (r *Recorder) Fchown(fd, uid, gid int) error {
	return r.record("fchown", "%d %d:%d", fd, uid, gid)
}

func (r *Recorder) Chroot(path string) error { return r.record("chroot", "%s", r.path(path)) }
func (r *Recorder) Chdir(path string) error  { return r.record("chdir", "%s", r.path(path)) }
func (r *Recorder) Fchdir(fd int) error      { return r.record("fchdir", "%s", r.fd(fd)) }

func (r *Recorder) Unshare(flags int) error { return r.record("unshare", "%s", cloneFlags(flags)) }

func (r *Recorder) Sethostname(name []byte) error   { return r.record("sethostname", "%s", name) }
func (r *Recorder) Setdomainname(name []byte) error { return r.record("setdomainname", "%s", name) }

func (r *Recorder) ReadProc(name string) ([]byte, error) {
	v, ok := r.Proc[name]
	if !ok {
		return nil, &os.PathError{Op: "open", Path: "/proc/" + name, Err: unix.ENOENT}
	}
	return []byte(v), nil
}

func (r *Recorder) WriteProc(name string, data []byte) error {
	if err := r.record("write", "/proc/%s %q", name, data); err != nil {
		return &os.PathError{Op: "write", Path: "/proc/" + name, Err: err}
	}
	r.Proc[name] = string(data)
	return nil
}

func (r *Recorder) Prlimit(pid, resource int, newLimit, old *unix.Rlimit) error {
	if newLimit == nil {
		if old != nil {
			*old = unix.Rlimit{Cur: unix.RLIM_INFINITY, Max: unix.RLIM_INFINITY}
			if l, ok := r.Limits[resource]; ok {
				*old = l
			}
		}
		return nil
	}
	if err := r.record("prlimit", "%d %s %d %d", pid, rlimitName(resource), newLimit.Cur, newLimit.Max); err != nil {
		return err
	}
	if r.Limits == nil {
		r.Limits = map[int]unix.Rlimit{}
	}
	r.Limits[resource] = *newLimit
	return nil
}

func (r *Recorder) SchedSetAttr(pid int, attr *unix.SchedAttr, flags uint) error {
	return r.record("sched_setattr", "policy=%d nice=%d priority=%d flags=%#x runtime=%d deadline=%d period=%d",
		attr.Policy, attr.Nice, attr.Priority, attr.Flags, attr.Runtime, attr.Deadline, attr.Period)
}

func (r *Recorder) SchedGetaffinity(pid int, set *unix.CPUSet) error {
	set.Zero()
	set.Set(0)
	set.Set(1)
	return nil
}

func (r *Recorder) SchedSetaffinity(pid int, set *unix.CPUSet) error {
	if set.Count() == 1024 {
		return r.record("sched_setaffinity", "all")
	}
	var cpus []string
	for c := 0; c < 1024; c++ {
		if set.IsSet(c) {
			cpus = append(cpus, strconv.Itoa(c))
		}
	}
	return r.record("sched_setaffinity", "%s", strings.Join(cpus, ","))
}

func (r *Recorder) IoprioSet(which, who, prio int) error {
	return r.record("ioprio_set", "class=%d level=%d", prio>>13, prio&0x1fff)
}

func (r *Recorder) Personality(persona uintptr) error {
	return r.record("personality", "%#x", persona)
}

func (r *Recorder) Prctl(option int, arg2, arg3, arg4, arg5 uintptr) error {
	switch option {
	case unix.PR_CAPBSET_DROP:
		if err := r.record("prctl", "PR_CAPBSET_DROP %d", arg2); err != nil {
			return err
		}
		r.Bounding &^= 1 << arg2
		return nil
	case unix.PR_CAP_AMBIENT:
		switch arg2 {
		case unix.PR_CAP_AMBIENT_CLEAR_ALL:
			r.Ambient = 0
			return r.record("prctl", "PR_CAP_AMBIENT_CLEAR_ALL")
		case unix.PR_CAP_AMBIENT_RAISE:
			if err := r.record("prctl", "PR_CAP_AMBIENT_RAISE %d", arg3); err != nil {
				return err
			}
			r.Ambient |= 1 << arg3
			return nil
		}
	case unix.PR_SET_NO_NEW_PRIVS:
		return r.record("prctl", "PR_SET_NO_NEW_PRIVS %d", arg2)
	case unix.PR_SET_KEEPCAPS:
		return r.record("prctl", "PR_SET_KEEPCAPS %d", arg2)
	}
	return r.record("prctl", "%d %d %d", option, arg2, arg3)
}

func (r *Recorder) PrctlRetInt(option int, arg2, arg3, arg4, arg5 uintptr) (int, error) {
	if option == unix.PR_CAPBSET_READ {
		// The kernel knows capabilities up to Proc's cap_last_cap.
		if last, err := strconv.Atoi(strings.TrimSpace(r.Proc["sys/kernel/cap_last_cap"])); err == nil && int(arg2) > last {
			return 0, unix.EINVAL
		}
		if r.Bounding&(1<<arg2) != 0 {
			return 1, nil
		}
		return 0, nil
	}
	return 0, r.record("prctl", "%d %d", option, arg2)
}

func (r *Recorder) Capget(hdr *unix.CapUserHeader, data *[2]unix.CapUserData) error {
	data[0] = unix.CapUserData{Effective: uint32(r.Effective), Permitted: uint32(r.Permitted), Inheritable: uint32(r.Inheritable)}
	data[1] = unix.CapUserData{Effective: uint32(r.Effective >> 32), Permitted: uint32(r.Permitted >> 32), Inheritable: uint32(r.Inheritable >> 32)}
	return nil
}

func (r *Recorder) Capset(hdr *unix.CapUserHeader, data *[2]unix.CapUserData) error {
	eff := uint64(data[0].Effective) | uint64(data[1].Effective)<<32
	prm := uint64(data[0].Permitted) | uint64(data[1].Permitted)<<32
	inh := uint64(data[0].Inheritable) | uint64(data[1].Inheritable)<<32
	if err := r.record("capset", "effective=%#x permitted=%#x inheritable=%#x", eff, prm, inh); err != nil {
		return err
	}
	if prm&^r.Permitted != 0 || eff&^prm != 0 {
		return errors.New("capset: the kernel would refuse to grow the permitted set")
	}
	r.Effective, r.Permitted, r.Inheritable = eff, prm, inh
	return nil
}

// Setgroups fails with EPERM, as the kernel's does, when Proc's
// "self/setgroups" says "deny".
func (r *Recorder) Setgroups(gids []int) error {
	if strings.TrimSpace(r.Proc["self/setgroups"]) == "deny" {
		r.Fail("setgroups", r.counts["setgroups"]+1, unix.EPERM)
	}
	return r.record("setgroups", "%v", gids)
}

func (r *Recorder) Setresgid(rgid, egid, sgid int) error {
	return r.record("setresgid", "%d %d %d", rgid, egid, sgid)
}

func (r *Recorder) Setresuid(ruid, euid, suid int) error {
	if err := r.record("setresuid", "%d %d %d", ruid, euid, suid); err != nil {
		return err
	}
	// Leaving uid 0 clears the effective set (the permitted set stays
	// with PR_SET_KEEPCAPS, which the model does not track).
	if ruid != 0 {
		r.Effective = 0
	}
	return nil
}

func (r *Recorder) Umask(mask int) int {
	old := r.UmaskValue
	r.UmaskValue = mask
	r.record("umask", "%04o", mask)
	return old
}

func (r *Recorder) SeccompFilter(flags uintptr, prog *unix.SockFprog) (int, error) {
	if err := r.record("seccomp", "flags=%#x instructions=%d", flags, prog.Len); err != nil {
		return -1, err
	}
	const newListener = 1 << 3 // SECCOMP_FILTER_FLAG_NEW_LISTENER
	if flags&newListener != 0 {
		return r.handle("seccomp listener")
	}
	return 0, nil
}

func (r *Recorder) SetMempolicy(mode int, nodes []uint64, maxnode uint64) error {
	var set []string
	for n := 0; n < len(nodes)*64; n++ {
		if nodes[n/64]&(1<<(n%64)) != 0 {
			set = append(set, strconv.Itoa(n))
		}
	}
	return r.record("set_mempolicy", "mode=%#x nodes=[%s] maxnode=%d", mode, strings.Join(set, " "), maxnode)
}

func (r *Recorder) KeyctlJoinSessionKeyring(name string) (int, error) {
	if err := r.record("keyctl", "join %s", name); err != nil {
		return 0, err
	}
	r.keyring = name
	return 1000, nil
}

func (r *Recorder) KeyctlDescribe(id int) (string, error) {
	return "keyring;0;0;3f010000;" + r.keyring, nil
}

func (r *Recorder) KeyctlSetperm(id int, perm uint32) error {
	return r.record("keyctl", "setperm %d %#x", id, perm)
}

func orNone(s string) string {
	if s == "" {
		return `""`
	}
	return s
}

var _ kernel.Interface = (*Recorder)(nil)
