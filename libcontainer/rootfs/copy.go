package rootfs

import (
	"errors"
	"fmt"
	"io"
	"os"

	"golang.org/x/sys/unix"

	"github.com/rtproject/rt/libcontainer/internal/kernel"
)

// copyTree copies the contents of directory src into directory dst, keeping
// owners, modes, symlinks and special files. It works on open directories so
// that src can be the directory a tmpfs was just mounted over (tmpcopyup):
// the open handle still reaches the hidden contents.
func copyTree(src, dst *os.File) error {
	entries, err := src.ReadDir(-1)
	if err != nil {
		return fmt.Errorf("read %s: %w", src.Name(), err)
	}
	sfd, dfd := int(src.Fd()), int(dst.Fd())
	for _, e := range entries {
		name := e.Name()
		var st unix.Stat_t
		if err := unix.Fstatat(sfd, name, &st, unix.AT_SYMLINK_NOFOLLOW); err != nil {
			return fmt.Errorf("stat %s/%s: %w", src.Name(), name, err)
		}
		if err := copyEntry(src, dst, name, &st); err != nil {
			return fmt.Errorf("copy %s/%s: %w", src.Name(), name, err)
		}
		if err := kernel.Fchownat(dfd, name, int(st.Uid), int(st.Gid), unix.AT_SYMLINK_NOFOLLOW); err != nil {
			return fmt.Errorf("chown %s: %w", name, err)
		}
		if st.Mode&unix.S_IFMT != unix.S_IFLNK {
			// After chown, which clears set-id bits.
			if err := kernel.Fchmodat(dfd, name, st.Mode&0o7777, 0); err != nil {
				return fmt.Errorf("chmod %s: %w", name, err)
			}
		}
	}
	return nil
}

func copyEntry(src, dst *os.File, name string, st *unix.Stat_t) error {
	sfd, dfd := int(src.Fd()), int(dst.Fd())
	switch st.Mode & unix.S_IFMT {
	case unix.S_IFDIR:
		if err := unix.Mkdirat(dfd, name, 0o700); err != nil {
			return err
		}
		s, err := openAt(sfd, name, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_NOFOLLOW, 0)
		if err != nil {
			return err
		}
		defer s.Close()
		d, err := openAt(dfd, name, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_NOFOLLOW, 0)
		if err != nil {
			return err
		}
		defer d.Close()
		return copyTree(s, d)
	case unix.S_IFREG:
		s, err := openAt(sfd, name, unix.O_RDONLY|unix.O_NOFOLLOW, 0)
		if err != nil {
			return err
		}
		defer s.Close()
		d, err := openAt(dfd, name, unix.O_WRONLY|unix.O_CREAT|unix.O_EXCL|unix.O_NOFOLLOW, 0o600)
		if err != nil {
			return err
		}
		_, err = io.Copy(d, s)
		return errors.Join(err, d.Close())
	case unix.S_IFLNK:
		target, err := readlinkAt(sfd, name)
		if err != nil {
			return err
		}
		return unix.Symlinkat(target, dfd, name)
	default: // devices, fifos, sockets
		return kernel.Mknodat(dfd, name, st.Mode, int(st.Rdev))
	}
}

func openAt(dirfd int, name string, flags int, mode uint32) (*os.File, error) {
	fd, err := unix.Openat(dirfd, name, flags|unix.O_CLOEXEC, mode)
	if err != nil {
		return nil, err
	}
	return os.NewFile(uintptr(fd), name), nil
}

func readlinkAt(dirfd int, name string) (string, error) {
	for size := 256; ; size *= 2 {
		buf := make([]byte, size)
		n, err := unix.Readlinkat(dirfd, name, buf)
		if err != nil {
			return "", err
		}
		if n < size {
			return string(buf[:n]), nil
		}
	}
}
