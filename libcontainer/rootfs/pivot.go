package rootfs

import (
	"fmt"
	"os"

	"golang.org/x/sys/unix"

	"github.com/rtproject/rt/internal/mountinfo"
	"github.com/rtproject/rt/libcontainer/internal/kernel"
)

// prepareRoot cuts propagation to the host and makes the rootfs a mount of
// its own, which pivot_root and MS_MOVE need.
func prepareRoot(rootfs string, propagation uintptr, hostMountNS bool) error {
	if hostMountNS {
		// The namespace is the host's: leave its propagation alone.
		if err := kernel.Mount(rootfs, rootfs, "", unix.MS_BIND|unix.MS_REC, ""); err != nil {
			return fmt.Errorf("bind rootfs %s on itself: %w", rootfs, err)
		}
		return nil
	}
	// rslave by default: host mounts still appear, ours never leave.
	flags := uintptr(unix.MS_SLAVE | unix.MS_REC)
	// An unbindable / would refuse the rootfs bind below (when the rootfs
	// sits on it); Setup makes the new root unbindable after pivot_root.
	if propagation != 0 && propagation&unix.MS_UNBINDABLE == 0 {
		flags = propagation
	}
	if err := kernel.Mount("", "/", "", flags, ""); err != nil {
		return fmt.Errorf("set propagation of /: %w", err)
	}
	// pivot_root refuses a new root whose parent mount is shared, and a
	// shared parent (rootfsPropagation: rshared) would also carry the rootfs
	// bind back to the host. After a recursive change to anything but
	// shared (rslave, the default, or rprivate) no mount of the namespace is
	// shared any more: then there is nothing to look up in mountinfo.
	if flags&unix.MS_REC == 0 || flags&unix.MS_SHARED != 0 {
		if err := makeParentPrivate(rootfs); err != nil {
			return err
		}
	}
	if err := kernel.Mount(rootfs, rootfs, "", unix.MS_BIND|unix.MS_REC, ""); err != nil {
		return fmt.Errorf("bind rootfs %s on itself: %w", rootfs, err)
	}
	return nil
}

func makeParentPrivate(rootfs string) error {
	f, err := os.OpenFile(rootfs, unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return err
	}
	defer f.Close()
	id, err := mountID(f)
	if err != nil {
		return err
	}
	mi, err := findMount(id)
	if err != nil {
		return fmt.Errorf("find the mount of rootfs %s: %w", rootfs, err)
	}
	if !mi.Shared() {
		return nil
	}
	if err := kernel.Mount("", mi.Point, "", unix.MS_PRIVATE, ""); err != nil {
		return fmt.Errorf("make %s private: %w", mi.Point, err)
	}
	return nil
}

func findMount(id uint64) (mountinfo.Mount, error) {
	mounts, err := kernel.Mountinfo()
	if err != nil {
		return mountinfo.Mount{}, err
	}
	for _, m := range mounts {
		if m.ID == id {
			return m, nil
		}
	}
	return mountinfo.Mount{}, fmt.Errorf("mount id %d not in /proc/self/mountinfo", id)
}

// pivotRoot makes rootfs the root with pivot_root(".", "."), which stacks the
// old root on the new one, and then detaches the old root. No directory for
// the old root is needed in the container.
func pivotRoot(rootfs string) error {
	oldRoot, err := unix.Open("/", unix.O_DIRECTORY|unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		return fmt.Errorf("open old root: %w", err)
	}
	defer unix.Close(oldRoot)
	newRoot, err := unix.Open(rootfs, unix.O_DIRECTORY|unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		return fmt.Errorf("open new root %s: %w", rootfs, err)
	}
	defer unix.Close(newRoot)
	if err := kernel.Fchdir(newRoot); err != nil {
		return fmt.Errorf("chdir to new root: %w", err)
	}
	if err := kernel.PivotRoot(".", "."); err != nil {
		return fmt.Errorf("pivot_root: %w", err)
	}
	if err := kernel.Fchdir(oldRoot); err != nil {
		return fmt.Errorf("chdir to old root: %w", err)
	}
	// Unmounting a shared old root would unmount the host's mounts too.
	if err := kernel.Mount("", ".", "", unix.MS_SLAVE|unix.MS_REC, ""); err != nil {
		return fmt.Errorf("make old root rslave: %w", err)
	}
	if err := kernel.Unmount(".", unix.MNT_DETACH); err != nil {
		return fmt.Errorf("detach old root: %w", err)
	}
	if err := kernel.Chdir("/"); err != nil {
		return fmt.Errorf("chdir /: %w", err)
	}
	return nil
}

// moveRoot is the --no-pivot path for roots pivot_root cannot leave (ramfs):
// move the rootfs mount onto / and chroot into it. The old root stays
// reachable to anything that can escape a chroot.
// chrootRoot enters the rootfs without changing the mount namespace's root.
func chrootRoot(rootfs string) error {
	if err := kernel.Chdir(rootfs); err != nil {
		return fmt.Errorf("chdir to new root: %w", err)
	}
	if err := kernel.Chroot("."); err != nil {
		return fmt.Errorf("chroot: %w", err)
	}
	if err := kernel.Chdir("/"); err != nil {
		return fmt.Errorf("chdir /: %w", err)
	}
	return nil
}

func moveRoot(rootfs string) error {
	if err := detachHostProcAndSys(rootfs); err != nil {
		return err
	}
	if err := kernel.Chdir(rootfs); err != nil {
		return fmt.Errorf("chdir to new root: %w", err)
	}
	if err := kernel.Mount(rootfs, "/", "", unix.MS_MOVE, ""); err != nil {
		return fmt.Errorf("move rootfs to /: %w", err)
	}
	if err := kernel.Chroot("."); err != nil {
		return fmt.Errorf("chroot: %w", err)
	}
	if err := kernel.Chdir("/"); err != nil {
		return fmt.Errorf("chdir /: %w", err)
	}
	return nil
}
