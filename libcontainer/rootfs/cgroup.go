package rootfs

import (
	"errors"
	"fmt"
	"os"
	"path"
	"path/filepath"
	"strings"

	"github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"

	"github.com/rtproject/rt/internal/mountinfo"
	"github.com/rtproject/rt/internal/proccgroup"
	"github.com/rtproject/rt/libcontainer/internal/kernel"
)

// hierarchy is one line of /proc/self/cgroup.
type hierarchy struct{ proccgroup.Hierarchy }

// keys are the CgroupPaths keys that may name this hierarchy.
func (h hierarchy) keys() []string {
	if h.Unified() {
		return []string{"", "unified"}
	}
	keys := strings.Split(h.Controllers, ",")
	if name, ok := strings.CutPrefix(h.Controllers, "name="); ok {
		keys = append(keys, name)
	}
	return append(keys, h.Controllers)
}

// hostMount finds where the host mounts a hierarchy (its mountinfo entry).
func hostMount(h hierarchy, mounts []mountinfo.Mount) (mountinfo.Mount, bool) {
	for _, m := range mounts {
		if h.Unified() {
			if m.FSType == "cgroup2" {
				return m, true
			}
			continue
		}
		if m.FSType != "cgroup" {
			continue
		}
		all := true
		for _, c := range strings.Split(h.Controllers, ",") {
			if !m.HasSuperOption(c) {
				all = false
				break
			}
		}
		if all {
			return m, true
		}
	}
	return mountinfo.Mount{}, false
}

// dirName is the directory a hierarchy gets under the cgroup mount: the one
// the host uses, so paths inside the container match the host's layout.
func (h hierarchy) dirName(host mountinfo.Mount, found bool) string {
	if found {
		return path.Base(host.Point)
	}
	if h.Unified() {
		return "unified"
	}
	return strings.TrimPrefix(h.Controllers, "name=")
}

// cgroupDir is one hierarchy as a container sees it under its cgroup mount.
type cgroupDir struct {
	h hierarchy
	// name is its directory under the mount; "" when it is the mount itself
	// (a cgroup2-only host).
	name string
}

// cgroupLayout decides what a cgroup mount shows: on a cgroup2-only host the
// one hierarchy at the mount itself; on a v1 or hybrid host a tmpfs holding a
// directory per hierarchy the host mounts (cgroup2 included on a hybrid host).
// Hierarchies the runtime's mount namespace does not mount are left out unless
// the container has a cgroup namespace (it mounts afresh) or a cgroup path there.
func cgroupLayout(cgroupNS bool, cgroupPaths map[string]string) ([]cgroupDir, []mountinfo.Mount, error) {
	own, err := kernel.OwnCgroups()
	if err != nil {
		return nil, nil, err
	}
	mounts, err := kernel.Mountinfo()
	if err != nil {
		return nil, nil, err
	}
	var v1 []hierarchy
	var v2 *hierarchy
	for _, h := range own {
		if h.Unified() {
			v2 = &hierarchy{h}
		} else {
			v1 = append(v1, hierarchy{h})
		}
	}
	if len(v1) == 0 {
		if v2 == nil {
			return nil, nil, errors.New("no cgroup hierarchies in /proc/self/cgroup")
		}
		return []cgroupDir{{h: *v2}}, mounts, nil
	}
	if v2 != nil {
		if _, ok := hostMount(*v2, mounts); ok {
			v1 = append(v1, *v2) // hybrid: cgroup2 beside the v1 controllers
		}
	}
	var dirs []cgroupDir
	for _, h := range v1 {
		hm, found := hostMount(h, mounts)
		if !found && !cgroupNS && !hasCgroupPath(h, cgroupPaths) {
			// Listed in /proc/self/cgroup but not mounted where rt runs
			// (a private cgroupfs, as engines set up): nothing to show.
			continue
		}
		dirs = append(dirs, cgroupDir{h: h, name: h.dirName(hm, found)})
	}
	return dirs, mounts, nil
}

// CgroupBind is a host cgroup directory that a container without a cgroup
// namespace sees at Destination.
type CgroupBind struct{ Destination, Source string }

// CgroupBinds returns the host directories a cgroup mount at dest binds into
// a container without a cgroup namespace, as Setup makes them; cgroupPaths is
// Config.CgroupPaths. Checkpoint and restore describe them to CRIU, which
// cannot dump a bind of a directory outside the container.
func CgroupBinds(dest string, cgroupPaths map[string]string) ([]CgroupBind, error) {
	dirs, mounts, err := cgroupLayout(false, cgroupPaths)
	if err != nil {
		return nil, err
	}
	var binds []CgroupBind
	for _, d := range dirs {
		src, err := cgroupSource(d.h, mounts, cgroupPaths)
		if err != nil {
			return nil, err
		}
		binds = append(binds, CgroupBind{Destination: path.Join(dest, d.name), Source: src})
	}
	return binds, nil
}

// mountCgroup gives the container the cgroup filesystems the host has.
// With a cgroup namespace the kernel roots fresh mounts at the container's
// cgroups; without one, the container's own cgroup directories are bound.
func (s *setup) mountCgroup(m *specs.Mount, o *mountOptions) error {
	dirs, mounts, err := cgroupLayout(s.cfg.CgroupNS, s.cfg.CgroupPaths)
	if err != nil {
		return err
	}
	if len(dirs) == 1 && dirs[0].name == "" {
		dest, err := prepareDestination(s.root, m.Destination, true)
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
		if err := s.mountHierarchy(dirs[0].h, mounts, dest, o); err != nil {
			return err
		}
		if err := s.root.mountedOn(dest); err != nil {
			return err
		}
		top, err := reopenMounted(s.root, dest, where)
		if err != nil {
			return err
		}
		defer top.Close()
		return applyAfterMount(top, o)
	}

	// v1 or hybrid: a tmpfs holding one directory per hierarchy. It stays
	// writable until the directories exist.
	tmpfs := specs.Mount{
		Destination: m.Destination, Type: "tmpfs", Source: "tmpfs",
		Options: []string{"nosuid", "nodev", "noexec", "mode=755"},
	}
	if err := s.mount(-1, &tmpfs); err != nil {
		return err
	}
	top, err := s.root.open(m.Destination)
	if err != nil {
		return err
	}
	defer top.Close()
	for _, d := range dirs {
		name := d.name
		if err := unix.Mkdirat(int(top.Fd()), name, 0o755); err != nil {
			return fmt.Errorf("mkdir %s/%s: %w", m.Destination, name, err)
		}
		sub, err := openAt(int(top.Fd()), name, unix.O_PATH|unix.O_DIRECTORY|unix.O_NOFOLLOW, 0)
		if err != nil {
			return err
		}
		err = s.mountHierarchy(d.h, mounts, sub, o)
		sub.Close()
		if err != nil {
			return fmt.Errorf("%s/%s: %w", m.Destination, name, err)
		}
		// Co-mounted controllers ("cpu,cpuacct") get one link per controller.
		if strings.Contains(name, ",") {
			for _, c := range strings.Split(name, ",") {
				if err := unix.Symlinkat(name, int(top.Fd()), c); err != nil && !errors.Is(err, unix.EEXIST) {
					return fmt.Errorf("symlink %s/%s: %w", m.Destination, c, err)
				}
			}
		}
	}
	if o.flags&unix.MS_RDONLY != 0 {
		attr := unix.MountAttr{Attr_set: unix.MOUNT_ATTR_RDONLY}
		if err := kernel.MountSetattr(int(top.Fd()), "", unix.AT_EMPTY_PATH, &attr); err != nil {
			return fmt.Errorf("make %s read-only: %w", m.Destination, err)
		}
	}
	return applyAfterMount(top, o)
}

// mountHierarchy mounts one hierarchy on the directory handle at.
func (s *setup) mountHierarchy(h hierarchy, mounts []mountinfo.Mount, at *os.File, o *mountOptions) error {
	if s.cfg.CgroupNS {
		fsType, data := "cgroup", h.Controllers
		if h.Unified() {
			fsType, data = "cgroup2", ""
		}
		if err := kernel.Mount(fsType, procFdPath(at), fsType, o.flags, data); err != nil {
			return fmt.Errorf("mount %s: %w", fsType, err)
		}
		return nil
	}
	src, err := cgroupSource(h, mounts, s.cfg.CgroupPaths)
	if err != nil {
		return err
	}
	fd, err := kernel.OpenTree(unix.AT_FDCWD, src, unix.OPEN_TREE_CLONE|unix.OPEN_TREE_CLOEXEC)
	if err != nil {
		return fmt.Errorf("open_tree %s: %w", src, err)
	}
	defer unix.Close(fd)
	if err := s.setBindFlags(fd, src, o); err != nil {
		return err
	}
	if err := kernel.MoveMount(fd, "", int(at.Fd()), "", unix.MOVE_MOUNT_F_EMPTY_PATH|unix.MOVE_MOUNT_T_EMPTY_PATH); err != nil {
		return fmt.Errorf("bind %s: %w", src, err)
	}
	return nil
}

func hasCgroupPath(h hierarchy, cgroupPaths map[string]string) bool {
	for _, k := range h.keys() {
		if cgroupPaths[k] != "" {
			return true
		}
	}
	return false
}

// cgroupSource is the host directory of the container's cgroup in h:
// CgroupPaths when it names one, else init's own cgroup under the host mount.
func cgroupSource(h hierarchy, mounts []mountinfo.Mount, cgroupPaths map[string]string) (string, error) {
	for _, k := range h.keys() {
		if p, ok := cgroupPaths[k]; ok && p != "" {
			return p, nil
		}
	}
	hm, found := hostMount(h, mounts)
	if !found {
		return "", fmt.Errorf("cgroup hierarchy %q is not mounted on the host", h.Controllers)
	}
	rel, err := filepath.Rel(hm.Root, h.Path)
	if err != nil || rel == ".." || strings.HasPrefix(rel, "../") {
		return "", fmt.Errorf("cgroup %s is outside the host's mount of %q", h.Path, h.Controllers)
	}
	return filepath.Join(hm.Point, rel), nil
}
