package rootfs

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/opencontainers/selinux/go-selinux"
	"golang.org/x/sys/unix"

	"github.com/rtproject/rt/libcontainer/internal/kernel"
)

// containerRoot is the container's "/" once Setup has switched the root to
// the rootfs: "/" in the init, a test's rootfs directory in unit tests.
var containerRoot = "/"

// Finalize makes the read-only tmpfs mounts read-only (see lateReadonly),
// applies linux.readonlyPaths (a recursive read-only bind of the
// path on itself), then linux.maskedPaths (files get the container's
// /dev/null, checked to be the null device, bound over them; directories a
// read-only tmpfs), then root.readonly. Paths that do
// not exist are skipped. Call it inside the new root after sysctls and the
// hostname are set, since readonlyPaths usually include /proc/sys.
func Finalize(c *Config) error {
	l := c.linux()
	root, err := openRootDir(containerRoot)
	if err != nil {
		return fmt.Errorf("open the container's root: %w", err)
	}
	defer root.Close()
	for i := range c.Spec.Mounts {
		m := &c.Spec.Mounts[i]
		if m.Type != "tmpfs" {
			continue
		}
		o, err := parseOptions(m.Options)
		if err != nil || !lateReadonly(m, o) {
			continue // Setup has refused what does not parse
		}
		if err := readonlyMount(root, destination(m)); err != nil {
			return fmt.Errorf("mounts[%d] (tmpfs on %s): make read-only: %w", i, m.Destination, err)
		}
	}
	// Read-only paths first, as runc: a mask made afterwards stays on top.
	for i, p := range l.ReadonlyPaths {
		if err := readonlyPath(root, p); err != nil {
			return fmt.Errorf("linux.readonlyPaths[%d] %s: %w", i, p, err)
		}
	}
	m := &masker{root: root, label: l.MountLabel}
	defer m.close()
	seen := make(map[string]bool, len(l.MaskedPaths))
	for i, p := range l.MaskedPaths {
		// A path given twice is masked once, as runc does.
		if clean := filepath.Clean("/" + p); seen[clean] {
			continue
		} else {
			seen[clean] = true
		}
		if m.devNull == nil {
			var err error
			if m.devNull, err = openDevNull(root); err != nil {
				return fmt.Errorf("linux.maskedPaths: %w", err)
			}
		}
		if err := m.mask(p); err != nil {
			return fmt.Errorf("linux.maskedPaths[%d] %s: %w", i, p, err)
		}
	}
	if c.Spec.Root != nil && c.Spec.Root.Readonly {
		// Only the root mount: /dev, /proc, tmpfs mounts … keep their own
		// flags. mount_setattr changes nothing but the read-only bit, so the
		// flags a user namespace locked on the root stay.
		attr := unix.MountAttr{Attr_set: unix.MOUNT_ATTR_RDONLY}
		if err := kernel.MountSetattr(unix.AT_FDCWD, "/", 0, &attr); err != nil {
			return fmt.Errorf("root.readonly: %w", err)
		}
	}
	return nil
}

// isMissing reports whether a lookup failed because the path is not there.
func isMissing(err error) bool {
	return errors.Is(err, unix.ENOENT) || errors.Is(err, unix.ENOTDIR)
}

// masker masks paths: files get the container's /dev/null bound over
// them, directories one empty read-only tmpfs, the same for all of them
// (as runc 1.5: one filesystem, however many directories are masked).
// The tmpfs is made on first use; devNull is the caller's to open.
type masker struct {
	root    *rootDir
	label   string
	devNull *os.File
	tmpfs   int // the read-only tmpfs on the first masked directory, cloned onto the others; 0 until made
}

func (m *masker) close() {
	if m.devNull != nil {
		m.devNull.Close()
	}
	if m.tmpfs > 0 {
		unix.Close(m.tmpfs)
	}
}

// mask masks p, if it exists.
func (m *masker) mask(p string) error {
	target, err := m.root.open(p)
	if isMissing(err) {
		return nil
	}
	if err != nil {
		return err
	}
	defer target.Close()
	var st unix.Stat_t
	if err := unix.Fstat(int(target.Fd()), &st); err != nil {
		return err
	}
	if st.Mode&unix.S_IFMT != unix.S_IFDIR {
		if err := bindFdOnto(m.devNull, target); err != nil {
			return err
		}
		return m.root.mountedOn(target)
	}
	const moveFlags = unix.MOVE_MOUNT_F_EMPTY_PATH | unix.MOVE_MOUNT_T_EMPTY_PATH
	if m.tmpfs == 0 {
		mnt, err := emptyTmpfs(m.label)
		if err != nil {
			return err
		}
		if err := kernel.MoveMount(mnt, "", int(target.Fd()), "", moveFlags); err != nil {
			unix.Close(mnt)
			return fmt.Errorf("mount tmpfs: %w", err)
		}
		// Attached, it can be cloned (the kernel clones only mounts of the
		// caller's namespace): the next directories get a bind of it.
		m.tmpfs = mnt
		return m.root.mountedOn(target)
	}
	// A clone of the one tmpfs: the same filesystem, read-only as it is.
	tree, err := kernel.OpenTree(m.tmpfs, "", unix.OPEN_TREE_CLONE|unix.OPEN_TREE_CLOEXEC|unix.AT_EMPTY_PATH)
	if err != nil {
		return fmt.Errorf("clone the masking tmpfs: %w", err)
	}
	defer unix.Close(tree)
	if err := kernel.MoveMount(tree, "", int(target.Fd()), "", moveFlags); err != nil {
		return fmt.Errorf("bind the masking tmpfs: %w", err)
	}
	return m.root.mountedOn(target)
}

// emptyTmpfs makes an empty read-only tmpfs, detached: no path is looked
// up to mount it.
func emptyTmpfs(mountLabel string) (int, error) {
	fs, err := kernel.Fsopen("tmpfs", unix.FSOPEN_CLOEXEC)
	if err != nil {
		return -1, fmt.Errorf("fsopen tmpfs: %w", err)
	}
	defer unix.Close(fs)
	if mountLabel != "" && selinux.GetEnabled() {
		if err := kernel.FsconfigSetString(fs, "context", mountLabel); err != nil {
			return -1, fmt.Errorf("tmpfs context: %w", err)
		}
	}
	if err := kernel.FsconfigCreate(fs); err != nil {
		return -1, fmt.Errorf("create tmpfs: %w", err)
	}
	mnt, err := kernel.Fsmount(fs, unix.FSMOUNT_CLOEXEC, unix.MOUNT_ATTR_RDONLY)
	if err != nil {
		return -1, fmt.Errorf("fsmount tmpfs: %w", err)
	}
	return mnt, nil
}

// readonlyMount makes the mount on p read-only; nothing else of it changes.
func readonlyMount(root *rootDir, p string) error {
	target, err := root.open(p)
	if err != nil {
		return err
	}
	defer target.Close()
	attr := unix.MountAttr{Attr_set: unix.MOUNT_ATTR_RDONLY}
	return kernel.MountSetattr(int(target.Fd()), "", unix.AT_EMPTY_PATH, &attr)
}

func readonlyPath(root *rootDir, p string) error {
	target, err := root.open(p)
	if isMissing(err) {
		return nil
	}
	if err != nil {
		return err
	}
	defer target.Close()
	tree, err := kernel.OpenTree(int(target.Fd()), "", unix.OPEN_TREE_CLONE|unix.OPEN_TREE_CLOEXEC|unix.AT_RECURSIVE|unix.AT_EMPTY_PATH)
	if err != nil {
		return fmt.Errorf("open_tree: %w", err)
	}
	defer unix.Close(tree)
	attr := unix.MountAttr{Attr_set: unix.MOUNT_ATTR_RDONLY}
	if err := kernel.MountSetattr(tree, "", unix.AT_EMPTY_PATH|unix.AT_RECURSIVE, &attr); err != nil {
		return fmt.Errorf("make read-only: %w", err)
	}
	if err := kernel.MoveMount(tree, "", int(target.Fd()), "", unix.MOVE_MOUNT_F_EMPTY_PATH|unix.MOVE_MOUNT_T_EMPTY_PATH); err != nil {
		return fmt.Errorf("bind read-only: %w", err)
	}
	return root.mountedOn(target)
}
