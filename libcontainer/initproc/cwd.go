package initproc

import (
	"errors"
	"fmt"

	"golang.org/x/sys/unix"

	"github.com/rtproject/rt/libcontainer/internal/kernel"
	"github.com/rtproject/rt/libcontainer/rootfs"
)

// cwdRoot is the container's root: "/" in the init, a directory of the
// test's in unit tests.
var cwdRoot = "/"

// process.cwd is resolved inside the container's root, "/" by the time it is
// used: a symlink there cannot lead out, and no magic link is followed, so
// neither /proc/self/fd/<n> of a directory fd rt inherited or holds, nor
// /proc/self/cwd of another process, can put the container's process in a
// directory of the host (CVE-2024-21626).

// createCwd makes process.cwd exist, as runc does, before the root becomes
// read-only and credentials change.
func createCwd(cwd string) error {
	if cwd == "" {
		return nil
	}
	if err := rootfs.MkdirAllInRoot(cwdRoot, cwd); err != nil {
		return fmt.Errorf("process.cwd %s: %w", cwd, err)
	}
	return nil
}

// enterCwd makes process.cwd the working directory.
func enterCwd(cwd string) error {
	if cwd == "" {
		return nil
	}
	fd, err := unix.Open(cwdRoot, unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return fmt.Errorf("open the container's root: %w", err)
	}
	defer unix.Close(fd)
	dir, err := unix.Openat2(fd, cwd, &unix.OpenHow{
		Flags:   unix.O_PATH | unix.O_DIRECTORY | unix.O_CLOEXEC,
		Resolve: unix.RESOLVE_IN_ROOT | unix.RESOLVE_NO_MAGICLINKS,
	})
	if errors.Is(err, unix.EXDEV) || errors.Is(err, unix.ELOOP) {
		return fmt.Errorf("resolve %s: leads through a magic link or out of the container's root: %w", cwd, err)
	}
	if err != nil {
		return fmt.Errorf("resolve %s: %w", cwd, err)
	}
	defer unix.Close(dir)
	// fchdir checks search permission with the credentials of the moment.
	if err := kernel.Fchdir(dir); err != nil {
		return err
	}
	return nil
}
