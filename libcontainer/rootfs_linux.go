package libcontainer

import (
	"github.com/rtproject/rt/libcontainer/rootfs"
)

type rootfsConfig = rootfs.Config

func setupRootfs(c *rootfsConfig, beforePivot func() error) error {
	return rootfs.Setup(c, beforePivot)
}

func finalizeRootfs(c *rootfsConfig) error { return rootfs.Finalize(c) }

func mountConsole(slave string) error { return rootfs.MountConsole(slave) }

func mountsAt(path string) (int, error) { return rootfs.MountsAt(path) }

func detachHostMounts(path string, before int) error { return rootfs.DetachHostMounts(path, before) }
