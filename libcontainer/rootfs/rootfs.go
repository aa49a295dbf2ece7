// Package rootfs builds the container's filesystem view from inside the
// container's init: the spec's mounts, /dev and its devices, pivot_root, and
// afterwards the masked and read-only paths and a read-only root.
//
// Everything runs in the init's own mount namespace. Destinations are resolved
// inside the rootfs (symlinks cannot lead out of it) and mounts are made on the
// resolved handles, so swapping a path component for a symlink while mounting
// cannot redirect a mount to the host.
package rootfs

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"

	"github.com/opencontainers/runtime-spec/specs-go"
	"github.com/opencontainers/selinux/go-selinux"
	"github.com/opencontainers/selinux/go-selinux/label"
	"golang.org/x/sys/unix"

	"github.com/rtproject/rt/internal/trace"
	"github.com/rtproject/rt/libcontainer/internal/kernel"
)

// Config is what Setup and Finalize need besides the spec.
type Config struct {
	// Spec supplies mounts, root.readonly and linux.{devices, maskedPaths,
	// readonlyPaths, rootfsPropagation, mountLabel, uidMappings, gidMappings}.
	Spec *specs.Spec
	// Rootfs is the absolute host path of the rootfs, symlinks evaluated.
	Rootfs string
	// NoPivot moves the rootfs onto / and chroots instead of pivot_root,
	// for hosts whose root is a ramfs.
	NoPivot bool
	// UserNS is set when init runs in a new user namespace: device nodes are
	// bind-mounted from the host instead of created, and flags the kernel
	// locked on host mounts are never cleared.
	UserNS bool
	// CgroupPaths maps a controller ("memory", "name=systemd", "" for
	// cgroup2) to the container's cgroup directory on the host, for cgroup
	// mounts without a cgroup namespace. Controllers missing here fall back to
	// init's own cgroup as /proc/self/cgroup shows it.
	CgroupPaths map[string]string
	// CgroupNS is set when the container has its own cgroup namespace.
	CgroupNS bool
	// HostSource asks rt's parent process for a detached mount tree of
	// mounts[index]'s source (Sources.Open, on the host): for every
	// id-mapped mount, and in a user namespace for a bind source the init
	// cannot reach. nil when the parent cannot help (rootless).
	HostSource func(index int) (*os.File, error)
	// HostMountNS is set when the container shares the runtime's mount
	// namespace (the spec has no mount namespace): / keeps its propagation,
	// every mount lands under the rootfs bind (which delete detaches), and
	// the root changes with chroot, since pivot_root would move the root of
	// every process in the namespace.
	HostMountNS bool
}

func (c *Config) linux() *specs.Linux {
	if c.Spec.Linux == nil {
		return &specs.Linux{}
	}
	return c.Spec.Linux
}

// rootPropagation returns the mount(2) flags of linux.rootfsPropagation, or 0.
func (c *Config) rootPropagation() (uintptr, error) {
	p := c.linux().RootfsPropagation
	if p == "" {
		return 0, nil
	}
	flags, ok := propagationOptions[p]
	if !ok {
		return 0, fmt.Errorf("linux.rootfsPropagation: unknown propagation %q", p)
	}
	return flags, nil
}

// Setup prepares the rootfs and switches init's root to it. In order:
// it makes / rslave (or linux.rootfsPropagation) so nothing propagates to the
// host, binds the rootfs on itself, mounts a tmpfs on /dev unless the spec
// mounts /dev, makes every spec mount in order, creates the devices and /dev
// links, calls beforePivot (createContainer hooks), then pivots (or moves and
// chroots with NoPivot), detaches the old root, chdirs to / and applies
// linux.rootfsPropagation to the new root.
//
// Setup fails without leaving mounts behind in init's namespace: on error the
// rootfs bind, and every mount made under it, is detached.
func Setup(c *Config, beforePivot func() error) (retErr error) {
	if c.Spec == nil {
		return errors.New("rootfs: no spec")
	}
	if !filepath.IsAbs(c.Rootfs) {
		return fmt.Errorf("rootfs %q is not an absolute path", c.Rootfs)
	}
	if err := Validate(c.Spec); err != nil {
		return err
	}
	propagation, err := c.rootPropagation()
	if err != nil {
		return err
	}
	t := trace.Start()
	if err := prepareRoot(c.Rootfs, propagation, c.HostMountNS); err != nil {
		return err
	}
	t.Done("init: rootfs %s bound on itself (linux.rootfsPropagation %q)", c.Rootfs, c.linux().RootfsPropagation)
	defer func() {
		if retErr != nil {
			_ = kernel.Unmount(c.Rootfs, unix.MNT_DETACH)
		}
	}()

	// Opened after the bind above, which it must see; mountedOn reopens it
	// should a mount land on it.
	root, err := openRootDir(c.Rootfs)
	if err != nil {
		return err
	}
	defer root.Close()
	s := &setup{cfg: c, root: root}

	mounts := slices.Clone(c.Spec.Mounts)
	devMount := -1
	for i := range mounts {
		mounts[i].Destination = destination(&mounts[i])
		if filepath.Clean(mounts[i].Destination) == "/dev" {
			devMount = i
		}
	}
	if devMount < 0 {
		t := trace.Start()
		if err := s.mountDevTmpfs(); err != nil {
			return err
		}
		t.Done("init: tmpfs on /dev")
	}
	for i := range mounts {
		m := &mounts[i]
		t := trace.Start()
		if err := s.mount(i, m); err != nil {
			return fmt.Errorf("mounts[%d] (%s on %s): %w", i, mountKind(m), m.Destination, err)
		}
		t.Done("init: mounts[%d]: %s on %s %v", i, mountKind(m), m.Destination, m.Options)
	}
	// A /dev bound from the host is the host's: create nothing in it.
	if devMount < 0 || !isBind(&mounts[devMount]) {
		t := trace.Start()
		if err := s.createDevices(); err != nil {
			return err
		}
		if err := s.createDevLinks(); err != nil {
			return err
		}
		t.Done("init: /dev: default devices and %d of linux.devices created", len(c.linux().Devices))
	}
	if beforePivot != nil {
		if err := beforePivot(); err != nil {
			return fmt.Errorf("before pivot_root: %w", err)
		}
	}
	t = trace.Start()
	switch {
	case c.HostMountNS:
		if err := chrootRoot(c.Rootfs); err != nil {
			return err
		}
		t.Done("init: chroot to %s (no mount namespace of its own)", c.Rootfs)
		return nil
	case c.NoPivot:
		err = moveRoot(c.Rootfs)
	default:
		err = pivotRoot(c.Rootfs)
	}
	if err != nil {
		return err
	}
	if c.NoPivot {
		t.Done("init: rootfs moved onto / and chroot (--no-pivot)")
	} else {
		t.Done("init: pivot_root to %s", c.Rootfs)
	}
	if propagation != 0 {
		if err := kernel.Mount("", "/", "", propagation, ""); err != nil {
			return fmt.Errorf("linux.rootfsPropagation: set on new root: %w", err)
		}
	}
	return nil
}

// setup carries state across the mounts of one Setup call.
type setup struct {
	cfg  *Config
	root *rootDir // c.Rootfs, where every destination is resolved
}

// mountLabel formats data with the SELinux mount context; a no-op when
// SELinux is disabled or no label is set.
func (s *setup) mountLabel(data string) string {
	// The label package adds context= whatever the host: filesystems reject
	// that option without SELinux, and runc ignores the label there too.
	if !selinux.GetEnabled() {
		return data
	}
	return label.FormatMountLabel(data, s.cfg.linux().MountLabel)
}

func isBind(m *specs.Mount) bool {
	if m.Type == "bind" {
		return true
	}
	for _, o := range m.Options {
		if o == "bind" || o == "rbind" {
			return true
		}
	}
	return false
}

// mountKind names a mount in errors: its type, or "bind".
func mountKind(m *specs.Mount) string {
	if isBind(m) {
		return "bind " + m.Source
	}
	return m.Type
}
