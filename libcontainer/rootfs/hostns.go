package rootfs

import (
	"fmt"

	"golang.org/x/sys/unix"

	"github.com/rtproject/rt/libcontainer/internal/kernel"
)

// MountsAt counts the mounts stacked on path in the caller's mount namespace.
// For a container without a mount namespace (Config.HostMountNS) the parent
// records it before create, so that DetachHostMounts knows what was there.
func MountsAt(path string) (int, error) {
	mounts, err := kernel.Mountinfo()
	if err != nil {
		return 0, err
	}
	n := 0
	for _, m := range mounts {
		if m.Point == path {
			n++
		}
	}
	return n, nil
}

// DetachHostMounts removes what a container sharing the host's mount
// namespace stacked on its rootfs (its bind and everything under it), down
// to the before mounts that were there when it was created.
func DetachHostMounts(rootfs string, before int) error {
	for i := 0; i < 16; i++ {
		n, err := MountsAt(rootfs)
		if err != nil {
			return err
		}
		if n <= before {
			return nil
		}
		if err := kernel.Unmount(rootfs, unix.MNT_DETACH); err != nil {
			return fmt.Errorf("unmount rootfs %s: %w", rootfs, err)
		}
	}
	return fmt.Errorf("unmount rootfs %s: mounts keep reappearing", rootfs)
}
