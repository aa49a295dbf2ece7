package rootfs

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"

	"github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"

	"github.com/rtproject/rt/libcontainer/internal/kernel"
)

// This file is the host side of bind mounts: rt's parent process makes the
// detached mount trees that the init, inside the container's user namespace,
// cannot make itself, and the init attaches them (Config.HostSource).
//
// Two cases need the host:
//   - An id-mapped mount. The kernel id-maps a mount only for a caller
//     privileged over the filesystem's user namespace (the initial one for a
//     host directory), and the user namespace carrying the mapping must be
//     given its maps from outside, where the mapped host ids exist.
//   - A bind source the init cannot reach: a directory the container's ids
//     may not search (mode o-rwx, owned by host root) is still open to rt.
//
// The tree is cloned in the init's mount namespace, so a source below a mount
// the init made earlier (a path inside the rootfs) resolves as the init would
// see it.

// Sources clones bind-mount sources for one container's init.
type Sources struct {
	spec   *specs.Spec
	bundle string
	rootfs string
	// initPid is the init as rt sees it: its mount namespace is where
	// sources resolve, its user namespace gives the implied id-mapping.
	initPid int
	// hostMountNS: the container shares rt's mount namespace.
	hostMountNS bool
	// userNS: the container has a user namespace, new or joined.
	hasUserNS bool

	userNS  *os.File            // the init's user namespace, opened on first use
	idmaps  map[string]*os.File // user namespaces made for mount mappings
	work    chan func()         // run on the thread in the init's mount namespace
	started bool
}

// NewSources prepares to clone the sources of spec's mounts for the init
// with pid initPid (rt's view), whose rootfs is at rootfs (Config.Rootfs).
// hostMountNS and userNS say whether the container shares rt's mount
// namespace and whether it has a user namespace (new or joined), as in
// Config. Nothing is opened until Open is called.
func NewSources(spec *specs.Spec, bundle, rootfs string, initPid int, hostMountNS, userNS bool) *Sources {
	return &Sources{
		spec: spec, bundle: bundle, rootfs: rootfs, initPid: initPid,
		hostMountNS: hostMountNS,
		hasUserNS:   userNS,
		idmaps:      map[string]*os.File{},
	}
}

// Open returns a detached mount tree of mounts[index]'s source, id-mapped
// when the mount asks for it, for the init to attach with move_mount.
func (s *Sources) Open(index int) (*os.File, error) {
	if index < 0 || index >= len(s.spec.Mounts) {
		return nil, fmt.Errorf("mount source: no mounts[%d]", index)
	}
	m := &s.spec.Mounts[index]
	o, err := parseOptions(m.Options)
	if err != nil {
		return nil, fmt.Errorf("mounts[%d].options: %w", index, err)
	}
	if !o.bind && m.Type != "bind" || o.remount {
		return nil, fmt.Errorf("mounts[%d]: not a new bind mount", index)
	}
	src := m.Source
	if !filepath.IsAbs(src) {
		src = filepath.Join(s.bundle, src)
	}
	var userns *os.File
	if idmapped(m, o) {
		if userns, err = s.idmapNamespace(m); err != nil {
			return nil, fmt.Errorf("mounts[%d] (bind %s): idmap: %w", index, m.Source, err)
		}
	}
	tree, err := s.inMountNS(func() (*os.File, error) { return cloneTree(s.rootfs, src, o, userns) })
	if err != nil {
		return nil, fmt.Errorf("mounts[%d] (bind %s): %w", index, m.Source, err)
	}
	return tree, nil
}

// idmapped reports whether m is an id-mapped bind mount.
func idmapped(m *specs.Mount, o *mountOptions) bool {
	return o.idmap || len(m.UIDMappings) > 0
}

// cloneTree clones the mount (or with rbind the mount tree) at src, and
// id-maps it with userns when that is not nil: only the top mount, or every
// mount of the tree with ridmap.
func cloneTree(rootfs, src string, o *mountOptions, userns *os.File) (*os.File, error) {
	tree, err := openSourceTree(rootfs, src, o.recursive)
	if err != nil {
		return nil, err
	}
	if userns == nil {
		return tree, nil
	}
	setFlags := uint(unix.AT_EMPTY_PATH)
	if o.ridmap {
		setFlags |= unix.AT_RECURSIVE
	}
	attr := unix.MountAttr{Attr_set: unix.MOUNT_ATTR_IDMAP, Userns_fd: uint64(userns.Fd())}
	if err := kernel.MountSetattr(int(tree.Fd()), "", setFlags, &attr); err != nil {
		tree.Close()
		return nil, fmt.Errorf("id-map %s: %w", src, err)
	}
	return tree, nil
}

// idmapNamespace returns a user namespace whose maps are the mount's own
// uidMappings/gidMappings or, when it names none, the container's: the
// init's own user namespace, created with linux.uidMappings or joined by
// path (whose maps are then the implied mapping).
func (s *Sources) idmapNamespace(m *specs.Mount) (*os.File, error) {
	if len(m.UIDMappings) == 0 {
		if !s.hasUserNS {
			return nil, errors.New("the mount has no uidMappings/gidMappings and the container no user namespace to take them from")
		}
		if s.userNS == nil {
			f, err := os.Open(fmt.Sprintf("/proc/%d/ns/user", s.initPid))
			if err != nil {
				return nil, fmt.Errorf("open the container's user namespace: %w", err)
			}
			s.userNS = f
		}
		return s.userNS, nil
	}
	key := formatIDMap(m.UIDMappings) + "/" + formatIDMap(m.GIDMappings)
	if ns, ok := s.idmaps[key]; ok {
		return ns, nil
	}
	ns, err := kernel.IDMapNamespace(formatIDMap(m.UIDMappings), formatIDMap(m.GIDMappings))
	if err != nil {
		return nil, err
	}
	s.idmaps[key] = ns
	return ns, nil
}

// inMountNS runs fn on a thread in the init's mount namespace. The thread is
// made on first use and ends with Close; it never runs other goroutines.
func (s *Sources) inMountNS(fn func() (*os.File, error)) (*os.File, error) {
	if s.hostMountNS {
		return fn()
	}
	if !s.started {
		if err := s.startThread(); err != nil {
			return nil, err
		}
	}
	type result struct {
		f   *os.File
		err error
	}
	done := make(chan result, 1)
	s.work <- func() {
		f, err := fn()
		done <- result{f, err}
	}
	r := <-done
	return r.f, r.err
}

func (s *Sources) startThread() error {
	ns, err := os.Open(fmt.Sprintf("/proc/%d/ns/mnt", s.initPid))
	if err != nil {
		return fmt.Errorf("open the init's mount namespace: %w", err)
	}
	defer ns.Close()
	work := make(chan func())
	errc := make(chan error, 1)
	go func() {
		// Never unlocked: the Go runtime ends the thread, with its
		// namespace, when this goroutine returns.
		runtime.LockOSThread()
		// setns(CLONE_NEWNS) is refused to a thread sharing its root and
		// cwd with the rest of the process.
		if err := unix.Unshare(unix.CLONE_FS); err != nil {
			errc <- fmt.Errorf("unshare CLONE_FS: %w", err)
			return
		}
		if err := unix.Setns(int(ns.Fd()), unix.CLONE_NEWNS); err != nil {
			errc <- fmt.Errorf("join the init's mount namespace: %w", err)
			return
		}
		errc <- nil
		for fn := range work {
			fn()
		}
	}()
	if err := <-errc; err != nil {
		return err
	}
	s.work, s.started = work, true
	return nil
}

// Close ends the thread and closes the user namespaces.
func (s *Sources) Close() {
	if s.started {
		close(s.work)
		s.started = false
	}
	if s.userNS != nil {
		s.userNS.Close()
		s.userNS = nil
	}
	for k, ns := range s.idmaps {
		ns.Close()
		delete(s.idmaps, k)
	}
}
