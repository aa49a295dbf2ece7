package rootfs

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

// mount makes one spec mount.
func (s *setup) mount(m *specs.Mount) error {
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
		return s.mountBind(m, o)
	default:
		return s.mountFS(m, o)
	}
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
// attributes and id-mapping while nobody can see it yet, and attaches it on
// the resolved destination (move_mount). Unlike a MS_BIND + MS_REMOUNT pair,
// attributes the options do not name are kept from the source, so flags the
// kernel locked in a user namespace stay as they are.
func (s *setup) mountBind(m *specs.Mount, o *mountOptions) error {
	src, err := bindSource(m.Source)
	if err != nil {
		return err
	}
	var st unix.Stat_t
	if err := unix.Stat(src, &st); err != nil {
		return fmt.Errorf("source %s: %w", src, err)
	}
	flags := uint(unix.OPEN_TREE_CLONE | unix.OPEN_TREE_CLOEXEC)
	if o.recursive {
		flags |= unix.AT_RECURSIVE
	}
	fd, err := unix.OpenTree(unix.AT_FDCWD, src, flags)
	if err != nil {
		return fmt.Errorf("open_tree %s: %w", src, err)
	}
	tree := os.NewFile(uintptr(fd), src)
	defer tree.Close()

	if o.idmap || len(m.UIDMappings) > 0 {
		if err := s.idmapTree(tree, m, o); err != nil {
			return err
		}
	}
	attr := o.bindAttr()
	if s.cfg.UserNS {
		keepLocked(&attr, src)
	}
	if attr.Attr_set|attr.Attr_clr != 0 {
		if err := unix.MountSetattr(int(tree.Fd()), "", unix.AT_EMPTY_PATH, &attr); err != nil {
			return fmt.Errorf("set mount attributes of %s: %w", src, err)
		}
	}

	dest, err := prepareDestination(s.cfg.Rootfs, m.Destination, st.Mode&unix.S_IFMT == unix.S_IFDIR)
	if err != nil {
		return err
	}
	defer dest.Close()
	if err := unix.MoveMount(int(tree.Fd()), "", int(dest.Fd()), "",
		unix.MOVE_MOUNT_F_EMPTY_PATH|unix.MOVE_MOUNT_T_EMPTY_PATH); err != nil {
		return fmt.Errorf("move_mount %s to %s: %w", src, m.Destination, err)
	}
	// The tree handle now names the attached mount.
	return applyAfterMount(tree, o)
}

// keepLocked drops from attr every change a user namespace may forbid: the
// kernel locks ro, nosuid, nodev, noexec and the atime mode of mounts that
// came from a more privileged namespace, and refuses to clear them.
func keepLocked(attr *unix.MountAttr, src string) {
	var sfs unix.Statfs_t
	if err := unix.Statfs(src, &sfs); err != nil {
		return
	}
	locked := []struct {
		st   int64
		attr uint64
	}{
		{unix.ST_RDONLY, unix.MOUNT_ATTR_RDONLY},
		{unix.ST_NOSUID, unix.MOUNT_ATTR_NOSUID},
		{unix.ST_NODEV, unix.MOUNT_ATTR_NODEV},
		{unix.ST_NOEXEC, unix.MOUNT_ATTR_NOEXEC},
	}
	for _, l := range locked {
		if sfs.Flags&l.st != 0 {
			attr.Attr_clr &^= l.attr
		}
	}
	if attr.Attr_clr&unix.MOUNT_ATTR__ATIME != 0 {
		attr.Attr_clr &^= unix.MOUNT_ATTR__ATIME
		attr.Attr_set &^= unix.MOUNT_ATTR__ATIME
	}
}

// idmapTree id-maps the detached tree with the mount's own mappings, or the
// container's when the mount names none.
func (s *setup) idmapTree(tree *os.File, m *specs.Mount, o *mountOptions) error {
	uids, gids := m.UIDMappings, m.GIDMappings
	if len(uids) == 0 {
		uids, gids = s.cfg.linux().UIDMappings, s.cfg.linux().GIDMappings
	}
	if len(uids) == 0 || len(gids) == 0 {
		return fmt.Errorf("idmap: neither the mount nor linux.uidMappings/gidMappings give mappings")
	}
	key := formatIDMap(uids) + "/" + formatIDMap(gids)
	ns, ok := s.userns[key]
	if !ok {
		var err error
		if ns, err = newUserNamespace(uids, gids); err != nil {
			return fmt.Errorf("idmap: %w", err)
		}
		s.userns[key] = ns
	}
	flags := uint(unix.AT_EMPTY_PATH)
	if o.ridmap {
		flags |= unix.AT_RECURSIVE
	}
	attr := unix.MountAttr{Attr_set: unix.MOUNT_ATTR_IDMAP, Userns_fd: uint64(ns.Fd())}
	if err := unix.MountSetattr(int(tree.Fd()), "", flags, &attr); err != nil {
		return fmt.Errorf("idmap %s: %w", m.Source, err)
	}
	return nil
}

// mountFS mounts a new filesystem instance (tmpfs, proc, overlay, …) on the
// resolved destination.
func (s *setup) mountFS(m *specs.Mount, o *mountOptions) error {
	dest, err := prepareDestination(s.cfg.Rootfs, m.Destination, true)
	if err != nil {
		return err
	}
	defer dest.Close()

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
	if err := unix.Mount(source, procFdPath(dest), m.Type, o.flags, data); err != nil {
		if errors.Is(err, unix.EINVAL) && data != "" {
			// The kernel does not say which option it refused.
			return fmt.Errorf("mount with options %q: %w (%s refuses one of them)", data, err, m.Type)
		}
		return fmt.Errorf("mount with options %q: %w", data, err)
	}
	top, err := reopenMounted(s.cfg.Rootfs, dest)
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

// remount changes an existing mount at the destination ("remount" option).
func (s *setup) remount(m *specs.Mount, o *mountOptions) error {
	top, err := openInRoot(s.cfg.Rootfs, m.Destination)
	if err != nil {
		return fmt.Errorf("remount: %w", err)
	}
	defer top.Close()
	if o.bind {
		attr := o.bindAttr()
		if s.cfg.UserNS {
			keepLocked(&attr, procFdPath(top))
		}
		if err := unix.MountSetattr(int(top.Fd()), "", unix.AT_EMPTY_PATH, &attr); err != nil {
			return fmt.Errorf("remount: %w", err)
		}
	} else {
		data := s.mountLabel(strings.Join(o.data, ","))
		if err := unix.Mount(m.Source, procFdPath(top), m.Type, o.flags|unix.MS_REMOUNT, data); err != nil {
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
		if err := unix.MountSetattr(int(mnt.Fd()), "", flags, &attr); err != nil {
			return fmt.Errorf("set propagation: %w", err)
		}
	}
	if o.recAttr.Attr_set|o.recAttr.Attr_clr != 0 {
		attr := o.recAttr
		if err := unix.MountSetattr(int(mnt.Fd()), "", unix.AT_EMPTY_PATH|unix.AT_RECURSIVE, &attr); err != nil {
			return fmt.Errorf("set recursive mount attributes: %w", err)
		}
	}
	return nil
}
