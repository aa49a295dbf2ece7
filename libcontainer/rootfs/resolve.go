package rootfs

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"

	pathrs "github.com/cyphar/filepath-securejoin/pathrs-lite"
	"golang.org/x/sys/unix"

	"github.com/rtproject/rt/libcontainer/internal/kernel"
)

// rootDir is a directory in which paths are resolved as if it were "/":
// the rootfs during Setup, the container's root in Finalize. It is opened
// once, and every lookup is one openat2(RESOLVE_IN_ROOT) relative to it: the
// kernel keeps the whole resolution, symlinks and ".." included, inside the
// directory (a ".." racing with a rename or mount makes it fail with
// EAGAIN, and the result is checked to lie below the root before it is
// returned: openat2(2), fs/namei.c), so no procfs check of the result is
// needed.
type rootDir struct {
	path string
	f    *os.File
	// dev and ino identify the directory f is, to notice a mount stacked on
	// it (mountedOn).
	dev, ino uint64
}

// openRootDir opens path (absolute, symlinks evaluated) as a rootDir.
func openRootDir(path string) (*rootDir, error) {
	r := &rootDir{path: path}
	if err := r.reopen(); err != nil {
		return nil, err
	}
	return r, nil
}

// reopen opens the directory again by its path, which crosses whatever is
// mounted on it now.
func (r *rootDir) reopen() error {
	fd, err := unix.Open(r.path, unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return &os.PathError{Op: "open", Path: r.path, Err: err}
	}
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil {
		unix.Close(fd)
		return &os.PathError{Op: "stat", Path: r.path, Err: err}
	}
	if r.f != nil {
		r.f.Close()
	}
	r.f, r.dev, r.ino = os.NewFile(uintptr(fd), r.path), st.Dev, st.Ino
	return nil
}

func (r *rootDir) Close() error { return r.f.Close() }

// mountedOn is told of every mount rt stacks on target. A lookup that
// starts at a directory handle does not cross a mount stacked on that very
// directory, while pivot_root and the container will see it: a mount whose
// destination resolved to the root itself (a link to "/") must be seen by
// the next lookup, so the root is opened again through its path.
func (r *rootDir) mountedOn(target *os.File) error {
	var st unix.Stat_t
	if err := unix.Fstat(int(target.Fd()), &st); err != nil {
		return fmt.Errorf("stat the mount point: %w", err)
	}
	if st.Dev != r.dev || st.Ino != r.ino {
		return nil
	}
	return r.reopen()
}

// noOpenat2 is set once openat2 turned out to be missing (ENOSYS, kernels
// before 5.6, or refused by seccomp): from then on this process resolves
// with pathrs-lite, which walks the path itself where its own probe finds no
// openat2 either (and uses openat2 where it does: no downgrade to the
// userspace walk for a lookup that merely failed). The first lookup is the
// probe, so the fast path costs nothing extra.
var noOpenat2 atomic.Bool

// scopedRetries bounds the retries of a lookup failing with EAGAIN: the
// kernel could not prove a ".." stayed inside the root because something
// was renamed or mounted meanwhile, anywhere on the host. Persistent
// failure means someone keeps doing that on purpose.
const scopedRetries = 64

// inRootHow is how every path in a rootDir is resolved: magic links
// (/proc/<pid>/fd/N, /proc/<pid>/root …) are refused, since they jump to
// wherever the kernel says, outside the root included.
var inRootHow = unix.OpenHow{
	Flags:   unix.O_PATH | unix.O_CLOEXEC,
	Resolve: unix.RESOLVE_IN_ROOT | unix.RESOLVE_NO_MAGICLINKS,
}

// open opens path inside r as an O_PATH handle, following symlinks as if
// r were "/" (the last component's too).
func (r *rootDir) open(path string) (*os.File, error) {
	if !noOpenat2.Load() {
		for try := 0; ; try++ {
			how := inRootHow
			fd, err := unix.Openat2(int(r.f.Fd()), path, &how)
			if err == nil {
				return os.NewFile(uintptr(fd), r.path+"/"+strings.TrimPrefix(path, "/")), nil
			}
			if err == unix.EAGAIN && try < scopedRetries {
				continue
			}
			// EPERM: a seccomp profile that predates openat2 (Docker's
			// before 20.10) refuses it so; an O_PATH lookup has no other
			// reason to get EPERM.
			if err != unix.ENOSYS && err != unix.EPERM {
				return nil, &os.PathError{Op: "openat2", Path: r.path + "/" + strings.TrimPrefix(path, "/"), Err: err}
			}
			noOpenat2.Store(true)
			break
		}
	}
	return pathrs.OpenatInRoot(r.f, path)
}

// openInRoot opens path inside rootfs as an O_PATH handle, resolving every
// symlink as if rootfs were "/": for the lookups outside Setup.
func openInRoot(rootfs, path string) (*os.File, error) {
	r, err := openRootDir(rootfs)
	if err != nil {
		return nil, err
	}
	defer r.Close()
	return r.open(path)
}

// procFdPath names an open file so that mount(2), which only takes paths,
// acts on exactly the inode resolved earlier, whatever happens to the path.
func procFdPath(f *os.File) string {
	return "/proc/self/fd/" + strconv.Itoa(int(f.Fd()))
}

// prepareDestination resolves dest inside rootfs, creating it (with parents)
// when missing: a directory when dir is true, otherwise an empty file. An
// existing destination of the other kind is an error, which the kernel would
// report less clearly as ENOTDIR.
func prepareDestination(r *rootDir, dest string, dir bool) (*os.File, error) {
	f, _, err := openDestination(r, dest, dir)
	return f, err
}

// openDestination is prepareDestination, also saying whether dest existed.
// A missing destination reached through symlinks that lead nowhere yet
// (/etc/hosts -> /run/hosts) is created where they lead, inside the
// rootfs, as runc does (createMissing).
func openDestination(r *rootDir, dest string, dir bool) (*os.File, bool, error) {
	f, err := r.open(dest)
	if err == nil {
		if err := checkKind(f, dest, dir); err != nil {
			f.Close()
			return nil, false, err
		}
		return f, true, nil
	}
	if !errors.Is(err, unix.ENOENT) {
		return nil, false, fmt.Errorf("resolve destination %s: %w", dest, err)
	}
	f, err = r.createMissing(dest, dir)
	if err != nil {
		return nil, false, err
	}
	return f, false, nil
}

// inRootStep is one component of a path walked by createMissing: an
// O_PATH handle of what is there, or nil for a name still to be created.
type inRootStep struct {
	name string
	f    *os.File
}

// maxLinks bounds the symlinks one createMissing follows, as the kernel's
// 40 does a lookup.
const maxLinks = 40

// createMissing makes dest, which does not resolve, inside r: a directory
// when dir is true, else an empty file, with missing parents as
// directories. It first walks dest one component at a time without
// following any link with the kernel: a symlink's text is expanded in
// place, an absolute one starting again at r, and ".." goes back to the
// handle before it, never above r, so the walk is that of RESOLVE_IN_ROOT
// (and securejoin) on a path that stops existing somewhere. Every missing
// name is then created with mkdirat (or O_CREAT|O_EXCL|O_NOFOLLOW) in the
// handle of its parent, and opened with O_NOFOLLOW: a component swapped for
// a symlink meanwhile makes it fail instead of leading anywhere.
func (r *rootDir) createMissing(dest string, dir bool) (_ *os.File, retErr error) {
	var steps []inRootStep
	defer func() {
		for _, s := range steps {
			if s.f != nil {
				s.f.Close()
			}
		}
	}()
	parent := func() *os.File {
		if len(steps) == 0 {
			return r.f
		}
		return steps[len(steps)-1].f
	}
	target := func() string {
		names := make([]string, len(steps))
		for i, s := range steps {
			names[i] = s.name
		}
		return "/" + strings.Join(names, "/")
	}
	pop := func() {
		if n := len(steps); n > 0 {
			if steps[n-1].f != nil {
				steps[n-1].f.Close()
			}
			steps = steps[:n-1]
		}
	}
	links := 0
	remaining := strings.Split(dest, "/")
	for len(remaining) > 0 {
		name := remaining[0]
		remaining = remaining[1:]
		switch name {
		case "", ".":
			continue
		case "..":
			pop()
			continue
		}
		at := parent()
		if at == nil {
			// Below a missing name everything is missing.
			steps = append(steps, inRootStep{name: name})
			continue
		}
		f, err := openAt(int(at.Fd()), name, unix.O_PATH|unix.O_NOFOLLOW, 0)
		if isMissing(err) {
			steps = append(steps, inRootStep{name: name})
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("resolve destination %s: %w", dest, err)
		}
		var st unix.Stat_t
		if err := unix.Fstat(int(f.Fd()), &st); err != nil {
			f.Close()
			return nil, fmt.Errorf("resolve destination %s: %w", dest, err)
		}
		if st.Mode&unix.S_IFMT != unix.S_IFLNK {
			steps = append(steps, inRootStep{name: name, f: f})
			continue
		}
		link, err := readlinkAt(int(f.Fd()), "")
		f.Close()
		if err != nil {
			return nil, fmt.Errorf("resolve destination %s: %w", dest, err)
		}
		if links++; links > maxLinks {
			return nil, fmt.Errorf("resolve destination %s: %w", dest, unix.ELOOP)
		}
		if filepath.IsAbs(link) {
			for len(steps) > 0 {
				pop()
			}
		}
		remaining = append(strings.Split(link, "/"), remaining...)
	}

	where := describeTarget(dest, target())
	// The deepest handle of what exists; the names after it are created.
	first := len(steps)
	for first > 0 && steps[first-1].f == nil {
		first--
	}
	at := r.f
	if first > 0 {
		at = steps[first-1].f
	}
	if first == len(steps) {
		// It exists now (made meanwhile, or reached differently by the walk).
		return openOfKind(at, ".", dest, where, dir)
	}
	last := len(steps) - 1
	for i := first; i < len(steps); i++ {
		name := steps[i].name
		if i == last && !dir {
			// O_NOFOLLOW|O_EXCL: a dangling symlink or a racing creator
			// makes this fail instead of creating a file somewhere else.
			fd, err := unix.Openat(int(at.Fd()), name,
				unix.O_CREAT|unix.O_EXCL|unix.O_NOFOLLOW|unix.O_WRONLY|unix.O_CLOEXEC, 0o644)
			if err != nil && !errors.Is(err, unix.EEXIST) {
				return nil, fmt.Errorf("create destination file %s: %w", where, err)
			}
			if err == nil {
				unix.Close(fd)
			}
			return openOfKind(at, name, dest, where, dir)
		}
		what := "create destination directory"
		if !dir {
			what = "create parent of destination"
		}
		// EEXIST: made meanwhile; the O_NOFOLLOW|O_DIRECTORY open below
		// refuses it unless it is a directory.
		if err := unix.Mkdirat(int(at.Fd()), name, 0o755); err != nil && !errors.Is(err, unix.EEXIST) {
			return nil, fmt.Errorf("%s %s: mkdirat %s: %w", what, where, name, err)
		}
		f, err := openAt(int(at.Fd()), name, unix.O_PATH|unix.O_NOFOLLOW|unix.O_DIRECTORY, 0)
		if err != nil {
			return nil, fmt.Errorf("%s %s: open %s: %w", what, where, name, err)
		}
		steps[i].f = f
		at = f
	}
	// The handle returned is no longer the steps' to close.
	steps[last].f = nil
	return at, nil
}

// openOfKind opens name in the directory at as an O_PATH handle, without
// following a link, and checks it is of the destination's kind (checkKind).
// where names it in errors.
func openOfKind(at *os.File, name, dest, where string, dir bool) (*os.File, error) {
	f, err := openAt(int(at.Fd()), name, unix.O_PATH|unix.O_NOFOLLOW, 0)
	if err != nil {
		return nil, fmt.Errorf("resolve destination %s: %w", where, err)
	}
	if err := checkKind(f, dest, dir); err != nil {
		f.Close()
		return nil, err
	}
	return f, nil
}

// describeTarget names a destination in errors, with where its links led.
func describeTarget(dest, target string) string {
	if filepath.Clean(dest) == target {
		return dest
	}
	return dest + " (" + target + " in the rootfs)"
}

func checkKind(f *os.File, dest string, dir bool) error {
	var st unix.Stat_t
	if err := unix.Fstat(int(f.Fd()), &st); err != nil {
		return fmt.Errorf("stat destination %s: %w", dest, err)
	}
	isDir := st.Mode&unix.S_IFMT == unix.S_IFDIR
	switch {
	case dir && !isDir:
		return fmt.Errorf("destination %s is not a directory", dest)
	case !dir && isDir:
		return fmt.Errorf("destination %s is a directory but the source is not", dest)
	}
	return nil
}

// mountID returns the id of the mount f lives on, as /proc/self/mountinfo
// numbers it.
func mountID(f *os.File) (uint64, error) {
	id, _, err := kernel.MountID(int(f.Fd()))
	if err != nil {
		return 0, fmt.Errorf("statx %s: %w", f.Name(), err)
	}
	return id, nil
}

// locate returns the host path of the resolved destination dest, for the
// checks that go by where it is (checkProcDestination) and to find the
// mount made there (reopenMounted).
func locate(dest *os.File) (string, error) {
	where, err := os.Readlink(procFdPath(dest))
	if err != nil {
		return "", fmt.Errorf("locate the destination: %w", err)
	}
	return where, nil
}

// reopenMounted opens the mount just made on the handle before, which
// itself still points below the new mount, at where (locate, taken before
// mounting). The path is taken from the handle (the destination string may
// have led through a symlink now covered by the mount, as with a link to
// "/"), and the result must be the root of a different mount, so a
// destination swapped while mounting is noticed instead of being
// configured. r must already have been told of the mount (mountedOn), so
// that a mount on the root itself is seen.
func reopenMounted(r *rootDir, before *os.File, where string) (*os.File, error) {
	oldID, err := mountID(before)
	if err != nil {
		return nil, err
	}
	rel, err := filepath.Rel(r.path, where)
	if err != nil || rel == ".." || strings.HasPrefix(rel, "../") {
		return nil, fmt.Errorf("mount point %s is outside the rootfs", where)
	}
	f, err := r.open(rel)
	if err != nil {
		return nil, fmt.Errorf("reopen %s after mounting: %w", where, err)
	}
	id, root, err := kernel.MountID(int(f.Fd()))
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("statx %s: %w", where, err)
	}
	if id == oldID || !root {
		f.Close()
		return nil, fmt.Errorf("%s: the new mount is not where it was made (destination changed while mounting)", where)
	}
	return f, nil
}

// mkdirAll opens the directory path inside r, creating what is missing of
// it. Unlike a mount destination (createMissing), a symlink that leads
// nowhere yet is an error, not followed: the longest leading part of path
// that resolves (openat2, as open) is the parent of the rest, whose names
// are created one by one with mkdirat and opened with O_NOFOLLOW, so a
// dangling link among them, or one swapped in meanwhile, makes it fail. The
// names to create may not hold "..".
func (r *rootDir) mkdirAll(path string) (*os.File, error) {
	existing, rest := path, ""
	var at *os.File
	for {
		f, err := r.open(existing)
		if err == nil {
			at = f
			break
		}
		if !isMissing(err) {
			return nil, err
		}
		i := strings.LastIndexByte(existing, '/')
		if i <= 0 {
			// Nothing of it resolves but the root itself.
			if at, err = openAt(int(r.f.Fd()), ".", unix.O_PATH|unix.O_DIRECTORY, 0); err != nil {
				return nil, err
			}
			existing, rest = "/", path
			break
		}
		existing, rest = existing[:i], path[i+1:]
	}
	var st unix.Stat_t
	if err := unix.Fstat(int(at.Fd()), &st); err != nil {
		at.Close()
		return nil, err
	}
	if st.Mode&unix.S_IFMT != unix.S_IFDIR {
		at.Close()
		return nil, fmt.Errorf("cannot create subdirectories in %s: %w", existing, unix.ENOTDIR)
	}
	names := strings.Split(rest, "/")
	if slices.Contains(names, "..") {
		at.Close()
		return nil, fmt.Errorf("the part of %s to create, %q, contains \"..\": %w", path, rest, unix.ENOENT)
	}
	for _, name := range names {
		if name == "" || name == "." {
			continue
		}
		// EEXIST: made meanwhile, or a dangling link, which the open refuses.
		if err := unix.Mkdirat(int(at.Fd()), name, 0o755); err != nil && !errors.Is(err, unix.EEXIST) {
			at.Close()
			return nil, &os.PathError{Op: "mkdirat", Path: name, Err: err}
		}
		next, err := openAt(int(at.Fd()), name, unix.O_PATH|unix.O_NOFOLLOW|unix.O_DIRECTORY, 0)
		at.Close()
		if err != nil {
			return nil, &os.PathError{Op: "open", Path: name, Err: err}
		}
		at = next
	}
	return at, nil
}

// MkdirAllInRoot makes the directory dir, with its parents, inside root
// (the container's root, once Setup is done), as rootDir.mkdirAll does: its
// symlinks stay in root, magic links and dangling links are refused.
func MkdirAllInRoot(root, dir string) error {
	r, err := openRootDir(root)
	if err != nil {
		return err
	}
	defer r.Close()
	f, err := r.mkdirAll(dir)
	if err != nil {
		return err
	}
	return f.Close()
}
