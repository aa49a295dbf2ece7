package rootfs

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"

	"github.com/rtproject/rt/libcontainer/internal/kernel"
)

// mount makes mounts[index] of the spec (index -1: a mount of rt's own).
func (s *setup) mount(index int, m *specs.Mount) error {
	o, err := parseOptions(m.Options)
	if err != nil {
		return err
	}
	if m.Type == "bind" {
		o.bind = true
	}
	switch {
	case o.remount:
		return s.remount(m, o)
	case isCgroup(m):
		return s.mountCgroup(m, o)
	case o.bind:
		return s.mountBind(index, m, o)
	}
	err = s.mountFS(m, o)
	if m.Type == "sysfs" && s.cfg.UserNS && (errors.Is(err, unix.EPERM) || errors.Is(err, unix.EBUSY)) {
		// A user namespace may mount sysfs only with a network namespace
		// of its own: bind the host's /sys instead, as runc does.
		return s.bindSys(m)
	}
	return err
}

// bindSys puts the host's /sys, with its submounts, where m wanted a sysfs.
func (s *setup) bindSys(m *specs.Mount) error {
	bind := *m
	bind.Type, bind.Source = "bind", "/sys"
	bind.Options = append([]string{"rbind"}, m.Options...)
	o, err := parseOptions(bind.Options)
	if err != nil {
		return err
	}
	if err := s.mountBind(-1, &bind, o); err != nil {
		return fmt.Errorf("sysfs not allowed without a network namespace, and binding /sys instead failed: %w", err)
	}
	return nil
}

// bindSource makes a relative bind source absolute. The runtime spec makes
// such sources relative to the bundle, and init runs in the bundle directory.
func bindSource(src string) (string, error) {
	if filepath.IsAbs(src) {
		return src, nil
	}
	abs, err := filepath.Abs(src)
	if err != nil {
		return "", fmt.Errorf("source %s: %w", src, err)
	}
	return abs, nil
}

// mountBind clones the source into a detached mount (open_tree), sets its
// flags while nobody can see it yet (see bindFlags: exactly the flags the
// options name, when they name any), and attaches it on the resolved
// destination (move_mount).
func (s *setup) mountBind(index int, m *specs.Mount, o *mountOptions) error {
	tree, err := s.bindTree(index, m, o)
	if err != nil {
		return err
	}
	defer tree.Close()
	var st unix.Stat_t
	if err := unix.Fstat(int(tree.Fd()), &st); err != nil {
		return fmt.Errorf("source %s: %w", m.Source, err)
	}
	if err := s.setBindFlags(int(tree.Fd()), m.Source, o); err != nil {
		return err
	}

	dest, err := prepareDestination(s.root, m.Destination, st.Mode&unix.S_IFMT == unix.S_IFDIR)
	if err != nil {
		return err
	}
	defer dest.Close()
	where, err := locate(dest)
	if err != nil {
		return err
	}
	if err := checkProcDestination(s.root.path, where, m, tree); err != nil {
		return err
	}
	if err := kernel.MoveMount(int(tree.Fd()), "", int(dest.Fd()), "",
		unix.MOVE_MOUNT_F_EMPTY_PATH|unix.MOVE_MOUNT_T_EMPTY_PATH); err != nil {
		return fmt.Errorf("move_mount %s to %s: %w", m.Source, m.Destination, err)
	}
	if err := s.root.mountedOn(dest); err != nil {
		return err
	}
	// The tree handle now names the attached mount.
	return applyAfterMount(tree, o)
}

// bindTree clones the source of a bind mount (with rbind, the whole tree
// below it) into a detached mount. rt's parent process makes the trees the
// init cannot (see Sources): every id-mapped one, and, in a user namespace, a
// source the container's ids may not reach.
func (s *setup) bindTree(index int, m *specs.Mount, o *mountOptions) (*os.File, error) {
	src, err := bindSource(m.Source)
	if err != nil {
		return nil, err
	}
	fromHost := idmapped(m, o)
	if !fromHost && s.cfg.UserNS && s.cfg.HostSource != nil {
		var st unix.Stat_t
		fromHost = errors.Is(unix.Stat(src, &st), unix.EACCES)
	}
	if fromHost {
		if s.cfg.HostSource == nil {
			return nil, errors.New("id-mapped mounts need rt to run with privileges in the initial user namespace (not rootless)")
		}
		return s.cfg.HostSource(index)
	}
	return openSourceTree(s.cfg.Rootfs, src, o.recursive)
}

// openSourceTree clones the bind source src (with recursive, the whole tree
// below it) into a detached mount. A source inside the rootfs is resolved
// there as in the container: its symlinks, the image's, cannot lead out of
// it to a host directory.
func openSourceTree(rootfs, src string, recursive bool) (*os.File, error) {
	flags := uint(unix.OPEN_TREE_CLONE | unix.OPEN_TREE_CLOEXEC)
	if recursive {
		flags |= unix.AT_RECURSIVE
	}
	dirfd, path := unix.AT_FDCWD, src
	if rel, err := filepath.Rel(rootfs, src); err == nil && rel != ".." && !strings.HasPrefix(rel, "../") {
		f, err := openInRoot(rootfs, rel)
		if err != nil {
			return nil, fmt.Errorf("source %s: %w", src, err)
		}
		defer f.Close()
		dirfd, path = int(f.Fd()), ""
		flags |= unix.AT_EMPTY_PATH
	}
	fd, err := kernel.OpenTree(dirfd, path, flags)
	if err != nil {
		if errors.Is(err, unix.ENOENT) || errors.Is(err, unix.EACCES) || errors.Is(err, unix.ENOTDIR) {
			return nil, fmt.Errorf("source %s: %w", src, err)
		}
		return nil, fmt.Errorf("open_tree %s: %w", src, err)
	}
	return os.NewFile(uintptr(fd), src), nil
}

// setBindFlags gives the bind mount mnt (an fd of its root, still
// detached) the flags its options ask for, if they name any. In a user
// namespace the flags the kernel locked on the source are judged from the
// source's own flags, also for a tree rt's parent cloned (which the kernel
// has not locked), so that the parent's help grants the container nothing.
func (s *setup) setBindFlags(mnt int, source string, o *mountOptions) error {
	if !o.namesBindFlags() {
		return nil
	}
	st, err := kernel.MountFlags(mnt)
	if err != nil {
		return fmt.Errorf("statfs %s: %w", source, err)
	}
	src := statfsFlags(st)
	flags, err := o.bindFlags(src, s.cfg.UserNS)
	if err != nil {
		return fmt.Errorf("bind %s: %w", source, err)
	}
	attr := changeAttr(src, flags)
	if attr.Attr_set|attr.Attr_clr == 0 {
		return nil
	}
	if err := kernel.MountSetattr(mnt, "", unix.AT_EMPTY_PATH, &attr); err != nil {
		return fmt.Errorf("set the flags %s on the bind mount of %s: %w", flagNames(flags), source, err)
	}
	return nil
}

// keepLocked drops from attr every change a user namespace may forbid: the
// kernel locks ro, nosuid, nodev, noexec and the atime mode of mounts that
// came from a more privileged namespace, and refuses to clear them. mnt is an
// fd of the mount.
func keepLocked(attr *unix.MountAttr, mnt int) {
	st, err := kernel.MountFlags(mnt)
	if err != nil {
		return
	}
	for _, b := range mountFlagBits {
		if b.ms&lockedFlags != 0 && st&b.st != 0 {
			attr.Attr_clr &^= b.attr
		}
	}
	if attr.Attr_clr&unix.MOUNT_ATTR__ATIME != 0 {
		attr.Attr_clr &^= unix.MOUNT_ATTR__ATIME
		attr.Attr_set &^= unix.MOUNT_ATTR__ATIME
	}
}

// mountFS mounts a new filesystem instance (tmpfs, proc, overlay, …) on the
// resolved destination.
func (s *setup) mountFS(m *specs.Mount, o *mountOptions) error {
	if m.Type == "proc" || m.Type == "sysfs" {
		if err := checkOrdinaryDirectory(s.root, m); err != nil {
			return err
		}
	}
	dest, existed, err := openDestination(s.root, m.Destination, true)
	if err != nil {
		return err
	}
	defer dest.Close()
	where, err := locate(dest)
	if err != nil {
		return err
	}
	if err := checkProcDestination(s.root.path, where, m, nil); err != nil {
		return err
	}
	if m.Type == "tmpfs" && existed {
		if o.data, err = inheritTmpfsMode(dest, o.data); err != nil {
			return err
		}
	}

	var hidden *os.File
	if o.tmpcopyup {
		// Opened before the tmpfs covers it, this still reads the old contents.
		if hidden, err = openAt(int(dest.Fd()), ".", unix.O_RDONLY|unix.O_DIRECTORY, 0); err != nil {
			return fmt.Errorf("open %s for tmpcopyup: %w", m.Destination, err)
		}
		defer hidden.Close()
	}

	data := strings.Join(o.data, ",")
	switch m.Type {
	case "proc", "sysfs", "mqueue":
		// These take no context= option.
	default:
		data = s.mountLabel(data)
	}
	source := m.Source
	if source == "" {
		source = m.Type
	}
	flags := o.flags
	if lateReadonly(m, o) {
		// Read-only only once its submounts and device nodes exist
		// (a read-only /dev could not get /dev/pts): Finalize.
		flags &^= unix.MS_RDONLY
	}
	if err := kernel.Mount(source, procFdPath(dest), m.Type, flags, data); err != nil {
		if errors.Is(err, unix.EINVAL) && data != "" {
			// The kernel does not say which option it refused.
			return fmt.Errorf("mount with options %q: %w (%s refuses one of them)", data, err, m.Type)
		}
		return fmt.Errorf("mount with options %q: %w", data, err)
	}
	if err := s.root.mountedOn(dest); err != nil {
		return err
	}
	top, err := reopenMounted(s.root, dest, where)
	if err != nil {
		return err
	}
	defer top.Close()
	if hidden != nil {
		dst, err := openAt(int(top.Fd()), ".", unix.O_RDONLY|unix.O_DIRECTORY, 0)
		if err != nil {
			return fmt.Errorf("tmpcopyup: %w", err)
		}
		defer dst.Close()
		if err := copyTree(hidden, dst); err != nil {
			return fmt.Errorf("tmpcopyup: %w", err)
		}
	}
	return applyAfterMount(top, o)
}

// lateReadonly says whether m is a read-only tmpfs, which Setup mounts
// read-write and Finalize makes read-only, as runc does: what is mounted or
// created in it (/dev/pts, device nodes, tmpcopyup's copy) comes first.
func lateReadonly(m *specs.Mount, o *mountOptions) bool {
	return m.Type == "tmpfs" && o.flags&unix.MS_RDONLY != 0 && !o.bind && !o.remount
}

// inheritTmpfsMode gives a tmpfs mounted over an existing directory that
// directory's mode, set-id and sticky bits included, unless data names a
// mode, as runc does: the kernel's default would be 1777, open to every
// user, where the image asked for less.
func inheritTmpfsMode(dir *os.File, data []string) ([]string, error) {
	for _, d := range data {
		if strings.HasPrefix(d, "mode=") {
			return data, nil
		}
	}
	var st unix.Stat_t
	if err := unix.Fstat(int(dir.Fd()), &st); err != nil {
		return nil, fmt.Errorf("stat the tmpfs mount point: %w", err)
	}
	return append([]string{fmt.Sprintf("mode=%04o", st.Mode&0o7777)}, data...), nil
}

// remount changes an existing mount at the destination ("remount" option).
func (s *setup) remount(m *specs.Mount, o *mountOptions) error {
	top, err := s.root.open(m.Destination)
	if err != nil {
		return fmt.Errorf("remount: %w", err)
	}
	defer top.Close()
	if o.bind {
		attr := o.bindAttr()
		if s.cfg.UserNS {
			keepLocked(&attr, int(top.Fd()))
		}
		if err := kernel.MountSetattr(int(top.Fd()), "", unix.AT_EMPTY_PATH, &attr); err != nil {
			return fmt.Errorf("remount: %w", err)
		}
	} else {
		data := s.mountLabel(strings.Join(o.data, ","))
		if err := kernel.Mount(m.Source, procFdPath(top), m.Type, o.flags|unix.MS_REMOUNT, data); err != nil {
			return fmt.Errorf("remount: %w", err)
		}
	}
	return applyAfterMount(top, o)
}

// applyAfterMount sets the propagation options in order, then the recursive
// ("r*") attributes, on the mount whose root mnt is.
func applyAfterMount(mnt *os.File, o *mountOptions) error {
	for _, p := range o.propagation {
		flags := uint(unix.AT_EMPTY_PATH)
		if p&unix.MS_REC != 0 {
			flags |= unix.AT_RECURSIVE
		}
		attr := unix.MountAttr{Propagation: uint64(p &^ unix.MS_REC)}
		if err := kernel.MountSetattr(int(mnt.Fd()), "", flags, &attr); err != nil {
			return fmt.Errorf("set propagation: %w", err)
		}
	}
	if o.recAttr.Attr_set|o.recAttr.Attr_clr != 0 {
		attr := o.recAttr
		if err := kernel.MountSetattr(int(mnt.Fd()), "", unix.AT_EMPTY_PATH|unix.AT_RECURSIVE, &attr); err != nil {
			return fmt.Errorf("set recursive mount attributes: %w", err)
		}
	}
	return nil
}
