package rootfs

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"

	"github.com/rtproject/rt/internal/mountinfo"
	"github.com/rtproject/rt/libcontainer/internal/kernel"
)

// The container's /proc must be the kernel's: rt writes the container's
// sysctls, oom_score_adj and LSM labels there, its processes read it to find
// themselves, and masks hide parts of it. A volume that lands on /proc (a
// bundle with /data -> /proc and a bind at /data, CVE-2019-19921) or a
// procfs that lands elsewhere (/proc -> /bad-proc) would leave it to the
// bundle. runc's rules, which engines rely on, are kept: on /proc only a
// procfs; below it only the files lxcfs emulates.

// lxcfsProcFiles are the files below /proc a bind mount may cover.
var lxcfsProcFiles = []string{
	"cpuinfo", "diskstats", "meminfo", "stat", "swaps", "uptime", "loadavg", "slabinfo",
	"net/dev", "sys/kernel/ns_last_pid", "sys/crypto/fips_enabled",
}

// checkProcDestination refuses a mount whose resolved destination, at the
// host path where (locate), is /proc but is not a procfs (a new one, or a
// bind of one: bindTree, the detached source of a bind mount), or lies below
// /proc but is not one of lxcfsProcFiles.
func checkProcDestination(rootfs, where string, m *specs.Mount, bindTree *os.File) error {
	rel, err := filepath.Rel(rootfs, where)
	if err != nil {
		return fmt.Errorf("destination %s is outside the rootfs", where)
	}
	switch {
	case rel == "proc":
		if m.Type == "proc" && bindTree == nil {
			return nil
		}
		var st unix.Statfs_t
		if bindTree != nil && unix.Fstatfs(int(bindTree.Fd()), &st) == nil && st.Type == unix.PROC_SUPER_MAGIC {
			return nil
		}
		return fmt.Errorf("%q cannot be mounted because it is not of type proc", "/"+rel)
	case strings.HasPrefix(rel, "proc/"):
		if slices.Contains(lxcfsProcFiles, strings.TrimPrefix(rel, "proc/")) {
			return nil
		}
		return fmt.Errorf("%q cannot be mounted because it is inside /proc", "/"+rel)
	}
	return nil
}

// checkOrdinaryDirectory refuses a procfs or sysfs mount whose destination
// exists as anything but a directory, a symlink included: the filesystem
// would appear somewhere else, or not be where the container looks for it.
func checkOrdinaryDirectory(r *rootDir, m *specs.Mount) error {
	dest := filepath.Clean("/" + m.Destination)
	parent, err := r.open(filepath.Dir(dest))
	if isMissing(err) {
		return nil // made by the mount
	}
	if err != nil {
		return err
	}
	defer parent.Close()
	var st unix.Stat_t
	err = unix.Fstatat(int(parent.Fd()), filepath.Base(dest), &st, unix.AT_SYMLINK_NOFOLLOW)
	if errors.Is(err, unix.ENOENT) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("stat destination %s: %w", dest, err)
	}
	if st.Mode&unix.S_IFMT != unix.S_IFDIR {
		return fmt.Errorf("filesystem %q must be mounted on ordinary directory", m.Type)
	}
	return nil
}

// openDevNull opens the container's /dev/null in root, the container's
// root, for binding over masked files: without following any symlink, and
// only if it is the null device. A bundle's /dev with null ->
// /proc/sys/kernel/core_pattern would otherwise bind the host's
// core_pattern, writable, over a masked path (CVE-2025-31133).
func openDevNull(root *rootDir) (*os.File, error) {
	fd, err := unix.Openat2(int(root.f.Fd()), "dev/null", &unix.OpenHow{
		Flags:   unix.O_PATH | unix.O_NOFOLLOW | unix.O_CLOEXEC,
		Resolve: unix.RESOLVE_IN_ROOT | unix.RESOLVE_NO_SYMLINKS | unix.RESOLVE_NO_MAGICLINKS,
	})
	if err != nil {
		return nil, fmt.Errorf("open /dev/null: %w", err)
	}
	f := os.NewFile(uintptr(fd), "/dev/null")
	if err := isNullDevice(fd); err != nil {
		f.Close()
		return nil, err
	}
	return f, nil
}

// isNullDevice fails unless fd is the character device 1:3. (Unit tests,
// which cannot make device nodes, replace it.)
var isNullDevice = func(fd int) error {
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil {
		return fmt.Errorf("stat /dev/null: %w", err)
	}
	if st.Mode&unix.S_IFMT != unix.S_IFCHR || st.Rdev != unix.Mkdev(1, 3) {
		return fmt.Errorf("/dev/null is not the null device (character device 1:3)")
	}
	return nil
}

// detachHostProcAndSys removes from the mount namespace every full procfs
// and sysfs outside the rootfs, before --no-pivot's chroot: left there, the
// host's unmasked procfs stays reachable to anything that escapes the chroot,
// and its mere presence lets a process in a user namespace mount a fresh,
// unmasked procfs (the kernel allows that when one is fully visible). A mount
// that cannot be detached is covered with an empty tmpfs.
func detachHostProcAndSys(rootfs string) error {
	mounts, err := kernel.Mountinfo()
	if err != nil {
		return err
	}
	// Deepest first, so that covering a parent never hides a child still to do.
	slices.SortFunc(mounts, func(a, b mountinfo.Mount) int { return len(b.Point) - len(a.Point) })
	for _, m := range mounts {
		if (m.FSType != "proc" && m.FSType != "sysfs") || m.Root != "/" ||
			m.Point == rootfs || strings.HasPrefix(m.Point, rootfs+"/") {
			continue
		}
		// Unmount events must not reach the host.
		if err := kernel.Mount("", m.Point, "", unix.MS_SLAVE|unix.MS_REC, ""); err != nil {
			if errors.Is(err, unix.ENOENT) {
				continue // under a mount already detached
			}
			return fmt.Errorf("make %s a slave: %w", m.Point, err)
		}
		err := kernel.Unmount(m.Point, unix.MNT_DETACH)
		if errors.Is(err, unix.EINVAL) || errors.Is(err, unix.EPERM) {
			err = kernel.Mount("tmpfs", m.Point, "tmpfs", unix.MS_RDONLY, "")
		}
		if err != nil && !errors.Is(err, unix.ENOENT) {
			return fmt.Errorf("hide %s %s from the container: %w", m.FSType, m.Point, err)
		}
	}
	return nil
}
