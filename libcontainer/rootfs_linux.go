package libcontainer

import (
	"fmt"
	"os"
	"strings"

	securejoin "github.com/cyphar/filepath-securejoin"
	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

// rootfsConfig is what the filesystem setup needs to know.
type rootfsConfig struct {
	Spec        *specs.Spec
	Rootfs      string
	NoPivot     bool
	UserNS      bool
	CgroupPaths map[string]string
	CgroupNS    bool
}

// setupRootfs is a minimal filesystem setup: bind the rootfs, mount the spec's
// mounts, run beforePivot, pivot_root.
func setupRootfs(c *rootfsConfig, beforePivot func() error) error {
	if err := unix.Mount("", "/", "", unix.MS_REC|unix.MS_SLAVE, ""); err != nil {
		return fmt.Errorf("make / rslave: %w", err)
	}
	if err := unix.Mount(c.Rootfs, c.Rootfs, "", unix.MS_BIND|unix.MS_REC, ""); err != nil {
		return fmt.Errorf("bind rootfs: %w", err)
	}
	for i, m := range c.Spec.Mounts {
		if m.Type == "cgroup" {
			continue
		}
		dest, err := securejoin.SecureJoin(c.Rootfs, m.Destination)
		if err != nil {
			return fmt.Errorf("mounts[%d].destination: %w", i, err)
		}
		if err := os.MkdirAll(dest, 0o755); err != nil {
			return fmt.Errorf("mounts[%d].destination: %w", i, err)
		}
		var flags uintptr
		var data []string
		for _, o := range m.Options {
			switch o {
			case "ro":
				flags |= unix.MS_RDONLY
			case "nosuid":
				flags |= unix.MS_NOSUID
			case "nodev":
				flags |= unix.MS_NODEV
			case "noexec":
				flags |= unix.MS_NOEXEC
			case "bind":
				flags |= unix.MS_BIND
			case "rbind":
				flags |= unix.MS_BIND | unix.MS_REC
			case "rw", "private", "rprivate", "strictatime", "relatime", "noatime", "rslave", "slave":
			default:
				data = append(data, o)
			}
		}
		typ := m.Type
		if flags&unix.MS_BIND != 0 {
			typ = ""
		}
		if err := unix.Mount(m.Source, dest, typ, flags, strings.Join(data, ",")); err != nil {
			return fmt.Errorf("mounts[%d] (%s on %s): %w", i, m.Type, m.Destination, err)
		}
	}
	if err := beforePivot(); err != nil {
		return err
	}
	if err := unix.Chdir(c.Rootfs); err != nil {
		return err
	}
	if err := unix.PivotRoot(".", "."); err != nil {
		return fmt.Errorf("pivot_root: %w", err)
	}
	if err := unix.Unmount(".", unix.MNT_DETACH); err != nil {
		return fmt.Errorf("detach old root: %w", err)
	}
	return unix.Chdir("/")
}

func finalizeRootfs(c *rootfsConfig) error { return nil }

func mountConsole(slave string) error { return nil }
