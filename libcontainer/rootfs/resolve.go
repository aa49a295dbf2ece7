package rootfs

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	securejoin "github.com/cyphar/filepath-securejoin"
	pathrs "github.com/cyphar/filepath-securejoin/pathrs-lite"
	"golang.org/x/sys/unix"

	"github.com/rtproject/rt/libcontainer/internal/kernel"
)

// openRoot opens the rootfs afresh for each lookup: a mount stacked on the
// rootfs top directory (a destination resolving to "/") must be seen by the
// next lookup, as it will be by pivot_root.
func openRoot(rootfs string) (*os.File, error) {
	fd, err := unix.Open(rootfs, unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, &os.PathError{Op: "open", Path: rootfs, Err: err}
	}
	return os.NewFile(uintptr(fd), rootfs), nil
}

// openInRoot opens path inside rootfs as an O_PATH handle, resolving every
// symlink as if rootfs were "/".
func openInRoot(rootfs, path string) (*os.File, error) {
	root, err := openRoot(rootfs)
	if err != nil {
		return nil, err
	}
	defer root.Close()
	return pathrs.OpenatInRoot(root, path)
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
func prepareDestination(rootfs, dest string, dir bool) (*os.File, error) {
	f, _, err := openDestination(rootfs, dest, dir)
	return f, err
}

// openDestination is prepareDestination, also saying whether dest existed.
// A missing destination reached through symlinks that lead nowhere yet
// (/etc/hosts -> /run/hosts) is created where they lead, inside the
// rootfs, as runc does: the links are followed within the rootfs to a
// path (securejoin), which is then created and opened without following
// any link out of the rootfs.
func openDestination(rootfs, dest string, dir bool) (*os.File, bool, error) {
	root, err := openRoot(rootfs)
	if err != nil {
		return nil, false, err
	}
	defer root.Close()

	f, err := pathrs.OpenatInRoot(root, dest)
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
	target, err := securejoin.SecureJoin(rootfs, dest)
	if err != nil {
		return nil, false, fmt.Errorf("resolve destination %s: %w", dest, err)
	}
	if target, err = filepath.Rel(rootfs, target); err != nil {
		return nil, false, fmt.Errorf("resolve destination %s: %w", dest, err)
	}
	target = "/" + target
	if dir {
		f, err := pathrs.MkdirAllHandle(root, target, 0o755)
		if err != nil {
			return nil, false, fmt.Errorf("create destination directory %s: %w", describeTarget(dest, target), err)
		}
		return f, false, nil
	}
	parent, err := pathrs.MkdirAllHandle(root, filepath.Dir(target), 0o755)
	if err != nil {
		return nil, false, fmt.Errorf("create parent of destination %s: %w", describeTarget(dest, target), err)
	}
	defer parent.Close()
	// O_NOFOLLOW|O_EXCL: a dangling symlink or a racing creator makes this
	// fail instead of creating a file somewhere else.
	fd, err := unix.Openat(int(parent.Fd()), filepath.Base(target),
		unix.O_CREAT|unix.O_EXCL|unix.O_NOFOLLOW|unix.O_WRONLY|unix.O_CLOEXEC, 0o644)
	if err != nil && !errors.Is(err, unix.EEXIST) {
		return nil, false, fmt.Errorf("create destination file %s: %w", describeTarget(dest, target), err)
	}
	if err == nil {
		unix.Close(fd)
	}
	f, err = pathrs.OpenatInRoot(root, target)
	if err != nil {
		return nil, false, fmt.Errorf("resolve destination %s: %w", describeTarget(dest, target), err)
	}
	if err := checkKind(f, dest, dir); err != nil {
		f.Close()
		return nil, false, err
	}
	return f, false, nil
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

// reopenMounted opens the mount just made on the handle before, which
// itself still points below the new mount. The path is taken from the handle
// (the destination string may have led through a symlink now covered by the
// mount, as with a link to "/"), and the result must be the root of a
// different mount, so a destination swapped while mounting is noticed instead
// of being configured.
func reopenMounted(rootfs string, before *os.File) (*os.File, error) {
	oldID, err := mountID(before)
	if err != nil {
		return nil, err
	}
	where, err := os.Readlink(procFdPath(before))
	if err != nil {
		return nil, fmt.Errorf("locate the mount point: %w", err)
	}
	rel, err := filepath.Rel(rootfs, where)
	if err != nil || rel == ".." || strings.HasPrefix(rel, "../") {
		return nil, fmt.Errorf("mount point %s is outside the rootfs", where)
	}
	f, err := openInRoot(rootfs, rel)
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
