package rootfs

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"

	"github.com/rtproject/rt/libcontainer/internal/kernel"
)

func fileMode(m os.FileMode) *os.FileMode { return &m }

// defaultDevices are created in every container with a /dev of its own;
// linux.devices entries with the same path replace them.
var defaultDevices = []specs.LinuxDevice{
	{Path: "/dev/null", Type: "c", Major: 1, Minor: 3, FileMode: fileMode(0o666)},
	{Path: "/dev/zero", Type: "c", Major: 1, Minor: 5, FileMode: fileMode(0o666)},
	{Path: "/dev/full", Type: "c", Major: 1, Minor: 7, FileMode: fileMode(0o666)},
	{Path: "/dev/random", Type: "c", Major: 1, Minor: 8, FileMode: fileMode(0o666)},
	{Path: "/dev/urandom", Type: "c", Major: 1, Minor: 9, FileMode: fileMode(0o666)},
	{Path: "/dev/tty", Type: "c", Major: 5, Minor: 0, FileMode: fileMode(0o666)},
}

// devLinks are the /dev symlinks every container gets.
var devLinks = [][2]string{
	{"/proc/self/fd", "fd"},
	{"/proc/self/fd/0", "stdin"},
	{"/proc/self/fd/1", "stdout"},
	{"/proc/self/fd/2", "stderr"},
}

const fifoType = unix.S_IFIFO

// deviceFileType maps the spec's device type to the inode type.
func deviceFileType(t string) (uint32, bool) {
	switch t {
	case "c", "u":
		return unix.S_IFCHR, true
	case "b":
		return unix.S_IFBLK, true
	case "p":
		return fifoType, true
	}
	return 0, false
}

// mountDevTmpfs gives the container a /dev of its own when the spec mounts
// none, so device nodes are never created in the image.
func (s *setup) mountDevTmpfs() error {
	m := specs.Mount{
		Destination: "/dev",
		Type:        "tmpfs",
		Source:      "tmpfs",
		Options:     []string{"nosuid", "strictatime", "mode=755", "size=65536k"},
	}
	if err := s.mount(-1, &m); err != nil {
		return fmt.Errorf("mount tmpfs on /dev: %w", err)
	}
	return nil
}

// Devices lists the device nodes a container with a /dev of its own gets:
// the defaults, each replaced by a linux.devices entry of the same path, then
// the other entries, in order.
func Devices(spec *specs.Spec) []specs.LinuxDevice {
	var own []specs.LinuxDevice
	if spec.Linux != nil {
		own = spec.Linux.Devices
	}
	devs := map[string]specs.LinuxDevice{}
	var order []string
	for _, d := range append(append([]specs.LinuxDevice{}, defaultDevices...), own...) {
		p := filepath.Clean(d.Path)
		if _, seen := devs[p]; !seen {
			order = append(order, p)
		}
		devs[p] = d
	}
	out := make([]specs.LinuxDevice, len(order))
	for i, p := range order {
		out[i] = devs[p]
	}
	return out
}

func (s *setup) createDevices() error {
	// Nothing is mounted while the nodes are made, so one handle of each
	// parent directory (/dev for all the defaults) serves every node in it.
	dirs := map[string]*os.File{}
	defer func() {
		for _, f := range dirs {
			f.Close()
		}
	}()
	for _, d := range Devices(s.cfg.Spec) {
		if err := s.createDevice(d, dirs); err != nil {
			return fmt.Errorf("device %s: %w", filepath.Clean(d.Path), err)
		}
	}
	return nil
}

// createDevice makes the node d in its parent directory, which it looks up
// (and creates) once per directory, keeping the handle in dirs.
func (s *setup) createDevice(d specs.LinuxDevice, dirs map[string]*os.File) error {
	parent := filepath.Dir(filepath.Clean(d.Path))
	dir := dirs[parent]
	if dir == nil {
		var err error
		if dir, err = s.root.mkdirAll(parent); err != nil {
			return fmt.Errorf("create parent directory: %w", err)
		}
		dirs[parent] = dir
	}
	name := filepath.Base(d.Path)
	if s.cfg.UserNS {
		return bindHostDevice(dir, name, d.Path)
	}
	typ, _ := deviceFileType(d.Type)
	perm := uint32(0o666)
	if d.FileMode != nil {
		perm = uint32(d.FileMode.Perm())
	}
	rdev := unix.Mkdev(uint32(d.Major), uint32(d.Minor))
	if typ == unix.S_IFIFO {
		rdev = 0
	}
	err := kernel.Mknodat(int(dir.Fd()), name, typ|perm, int(rdev))
	if errors.Is(err, unix.EEXIST) {
		// The spec allows an existing node only if it is the same device.
		var st unix.Stat_t
		if err := unix.Fstatat(int(dir.Fd()), name, &st, unix.AT_SYMLINK_NOFOLLOW); err != nil {
			return err
		}
		if st.Mode&unix.S_IFMT != typ || (typ != unix.S_IFIFO && st.Rdev != rdev) {
			return fmt.Errorf("a different file already exists there")
		}
		return nil
	}
	if err != nil {
		return fmt.Errorf("mknod: %w", err)
	}
	uid, gid := 0, 0
	if d.UID != nil {
		uid = int(*d.UID)
	}
	if d.GID != nil {
		gid = int(*d.GID)
	}
	if err := kernel.Fchownat(int(dir.Fd()), name, uid, gid, unix.AT_SYMLINK_NOFOLLOW); err != nil {
		return fmt.Errorf("chown: %w", err)
	}
	// mknod applied the umask.
	if err := kernel.Fchmodat(int(dir.Fd()), name, perm, 0); err != nil {
		return fmt.Errorf("chmod: %w", err)
	}
	return nil
}

// bindHostDevice binds the host's node at hostPath onto an empty file: a
// user namespace may not create device nodes.
func bindHostDevice(dir *os.File, name, hostPath string) error {
	if err := createEmptyFile(dir, name); err != nil {
		return fmt.Errorf("create mount point: %w", err)
	}
	target, err := openAt(int(dir.Fd()), name, unix.O_PATH|unix.O_NOFOLLOW, 0)
	if err != nil {
		return err
	}
	defer target.Close()
	return bindOnto(hostPath, target)
}

// bindFdOnto clones the mount of the file src is (not recursively), with
// src as its root, and attaches the clone on target.
func bindFdOnto(src, target *os.File) error {
	tree, err := kernel.OpenTree(int(src.Fd()), "", unix.OPEN_TREE_CLONE|unix.OPEN_TREE_CLOEXEC|unix.AT_EMPTY_PATH)
	if err != nil {
		return fmt.Errorf("open_tree %s: %w", src.Name(), err)
	}
	defer unix.Close(tree)
	if err := kernel.MoveMount(tree, "", int(target.Fd()), "",
		unix.MOVE_MOUNT_F_EMPTY_PATH|unix.MOVE_MOUNT_T_EMPTY_PATH); err != nil {
		return fmt.Errorf("bind %s: %w", src.Name(), err)
	}
	return nil
}

// bindOnto clones src (not recursively) and attaches the clone on target.
func bindOnto(src string, target *os.File) error {
	tree, err := kernel.OpenTree(unix.AT_FDCWD, src, unix.OPEN_TREE_CLONE|unix.OPEN_TREE_CLOEXEC)
	if err != nil {
		return fmt.Errorf("open_tree %s: %w", src, err)
	}
	defer unix.Close(tree)
	if err := kernel.MoveMount(tree, "", int(target.Fd()), "",
		unix.MOVE_MOUNT_F_EMPTY_PATH|unix.MOVE_MOUNT_T_EMPTY_PATH); err != nil {
		return fmt.Errorf("bind %s: %w", src, err)
	}
	return nil
}

func (s *setup) createDevLinks() error {
	dev, err := prepareDestination(s.root, "/dev", true)
	if err != nil {
		return err
	}
	defer dev.Close()
	links := devLinks
	if _, err := os.Stat("/proc/kcore"); err == nil {
		links = append(links, [2]string{"/proc/kcore", "core"})
	}
	for _, l := range links {
		err := unix.Symlinkat(l[0], int(dev.Fd()), l[1])
		if err != nil && !errors.Is(err, unix.EEXIST) {
			return fmt.Errorf("symlink /dev/%s: %w", l[1], err)
		}
	}
	// /dev/ptmx must be the devpts instance's multiplexer, whatever a device
	// entry created there.
	if err := unix.Unlinkat(int(dev.Fd()), "ptmx", 0); err != nil && !errors.Is(err, unix.ENOENT) {
		return fmt.Errorf("remove /dev/ptmx: %w", err)
	}
	if err := unix.Symlinkat("pts/ptmx", int(dev.Fd()), "ptmx"); err != nil {
		return fmt.Errorf("symlink /dev/ptmx: %w", err)
	}
	return nil
}

// MountConsole binds the container's pty slave (a path in the container, such
// as /dev/pts/0) on /dev/console. Call it after Setup, inside the new root.
func MountConsole(slavePath string) error {
	dev, err := openInRoot(containerRoot, "/dev")
	if err != nil {
		return fmt.Errorf("console: %w", err)
	}
	defer dev.Close()
	if err := createEmptyFile(dev, "console"); err != nil {
		return fmt.Errorf("console: create /dev/console: %w", err)
	}
	target, err := openAt(int(dev.Fd()), "console", unix.O_PATH|unix.O_NOFOLLOW, 0)
	if err != nil {
		return fmt.Errorf("console: %w", err)
	}
	defer target.Close()
	if err := bindOnto(slavePath, target); err != nil {
		return fmt.Errorf("console: %w", err)
	}
	return nil
}

// createEmptyFile makes a mount point file, leaving whatever is there alone:
// opening an existing device node to create it could have side effects.
func createEmptyFile(dir *os.File, name string) error {
	fd, err := unix.Openat(int(dir.Fd()), name, unix.O_CREAT|unix.O_EXCL|unix.O_NOFOLLOW|unix.O_WRONLY|unix.O_CLOEXEC, 0)
	if errors.Is(err, unix.EEXIST) {
		return nil
	}
	if err != nil {
		return err
	}
	return unix.Close(fd)
}
