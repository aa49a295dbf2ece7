package libcontainer

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"

	"github.com/rtproject/rt/internal/trace"
)

// selfImage returns the rt binary the init and exec processes are executed
// from: never rt's own file, which a process in the container could reach
// through /proc/<pid>/exe while it runs rt and later write to
// (CVE-2019-5736), but a view of it nobody can write.
//
// The view is a private, read-only overlayfs over rt's directory (see
// sealedOverlay), which costs tens of microseconds and shares rt's page
// cache. Where the kernel refuses one (no CAP_SYS_ADMIN: a rootless rt;
// kernels without the new mount API), it is a sealed memfd copy, which
// costs a copy of the whole binary per start.
func selfImage() (*os.File, error) {
	f, err := sealedOverlay()
	if err == nil {
		return f, nil
	}
	if trace.Enabled() {
		trace.Log("rt binary: no read-only overlay (%v): a sealed memfd copy", err)
	}
	return cloneSelf()
}

// sealedOverlay opens the rt binary through an overlayfs made for this one
// open and never attached anywhere: two lower layers, rt's directory on top
// of an empty tmpfs (overlayfs wants two when there is no upper layer, and
// one nobody else has cannot overlap rt's directory), and no upper layer, so
// the filesystem itself is read-only. Why that is safe where a read-only
// bind mount of the binary is not:
//
//   - Writes through the file return EROFS whatever its mount's flags say:
//     an overlayfs without an upper layer has nowhere to write, and cannot
//     be reconfigured read-write.
//   - Its mount is detached; the only handle a container process can get is
//     /proc/<pid>/exe (or map_files), which names the file, not the mount's
//     root: mount_setattr and fspick refuse it (EINVAL), where on a
//     detached bind mount of the file itself a process with CAP_SYS_ADMIN
//     in another mount namespace clears MOUNT_ATTR_RDONLY and writes the
//     host's binary. open_tree refuses to clone a detached mount made in
//     another mount namespace.
//   - The file overlayfs maps (map_files) is the real one, on the layer's
//     private mount, which overlayfs makes read-only and no namespace holds.
//
// The binary's identity is checked against /proc/self/exe: an rt replaced
// since it started gives an error, and the caller falls back to the copy.
func sealedOverlay() (*os.File, error) {
	self, err := os.Open("/proc/self/exe")
	if err != nil {
		return nil, err
	}
	defer self.Close()
	exe, err := os.Readlink("/proc/self/exe")
	if err != nil {
		return nil, err
	}
	if !filepath.IsAbs(exe) || strings.HasSuffix(exe, " (deleted)") {
		return nil, fmt.Errorf("rt binary %q is not a file on disk", exe)
	}
	empty, err := detachedMount("tmpfs")
	if err != nil {
		return nil, err
	}
	defer unix.Close(empty)
	dir, name := filepath.Dir(exe), filepath.Base(exe)
	spare := "/proc/self/fd/" + strconv.Itoa(empty)
	fs, err := unix.Fsopen("overlay", unix.FSOPEN_CLOEXEC)
	if err != nil {
		return nil, fmt.Errorf("fsopen overlay: %w", err)
	}
	defer unix.Close(fs)
	// lowerdir+ (Linux 6.8) takes one path per call, unescaped; older
	// kernels take the list, with ':' and ',' escaped.
	if err := unix.FsconfigSetString(fs, "lowerdir+", dir); err == nil {
		if err := unix.FsconfigSetString(fs, "lowerdir+", spare); err != nil {
			return nil, fmt.Errorf("overlay lowerdir+ %s: %w", spare, err)
		}
	} else if err := unix.FsconfigSetString(fs, "lowerdir", escapeLowerdir(dir)+":"+spare); err != nil {
		return nil, fmt.Errorf("overlay lowerdir %s: %w", dir, err)
	}
	if err := unix.FsconfigCreate(fs); err != nil {
		return nil, fmt.Errorf("create overlay: %w", err)
	}
	mnt, err := unix.Fsmount(fs, unix.FSMOUNT_CLOEXEC, unix.MOUNT_ATTR_RDONLY|unix.MOUNT_ATTR_NODEV|unix.MOUNT_ATTR_NOSUID)
	if err != nil {
		return nil, fmt.Errorf("fsmount overlay: %w", err)
	}
	defer unix.Close(mnt)
	fd, err := unix.Openat(mnt, name, unix.O_RDONLY|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, fmt.Errorf("open %s in the overlay: %w", name, err)
	}
	f := os.NewFile(uintptr(fd), "rt-exe")
	if err := sameBinary(self, f); err != nil {
		f.Close()
		return nil, err
	}
	return f, nil
}

// detachedMount makes a fresh, empty, read-only filesystem of type fsType
// that is mounted nowhere, and returns its mount fd.
func detachedMount(fsType string) (int, error) {
	fs, err := unix.Fsopen(fsType, unix.FSOPEN_CLOEXEC)
	if err != nil {
		return -1, fmt.Errorf("fsopen %s: %w", fsType, err)
	}
	defer unix.Close(fs)
	if err := unix.FsconfigCreate(fs); err != nil {
		return -1, fmt.Errorf("create %s: %w", fsType, err)
	}
	mnt, err := unix.Fsmount(fs, unix.FSMOUNT_CLOEXEC, unix.MOUNT_ATTR_RDONLY|unix.MOUNT_ATTR_NODEV|unix.MOUNT_ATTR_NOSUID|unix.MOUNT_ATTR_NOEXEC)
	if err != nil {
		return -1, fmt.Errorf("fsmount %s: %w", fsType, err)
	}
	return mnt, nil
}

// sameBinary checks that view is the running binary self: same inode
// number, size and modification time (overlayfs reports the real file's).
func sameBinary(self, view *os.File) error {
	var a, b unix.Stat_t
	if err := unix.Fstat(int(self.Fd()), &a); err != nil {
		return err
	}
	if err := unix.Fstat(int(view.Fd()), &b); err != nil {
		return err
	}
	if a.Ino != b.Ino || a.Size != b.Size || a.Mtim != b.Mtim || b.Mode&unix.S_IFMT != unix.S_IFREG {
		return errors.New("the rt binary was replaced since rt started")
	}
	return nil
}

// escapeLowerdir escapes a path for overlayfs's lowerdir list.
func escapeLowerdir(p string) string {
	return strings.NewReplacer(`\`, `\\`, `:`, `\:`, `,`, `\,`).Replace(p)
}

// cloneSelf copies the rt binary into a sealed memfd and returns it: the
// fallback of selfImage. A sealed, anonymous copy can never reach the rt
// binary on the host.
func cloneSelf() (*os.File, error) {
	src, err := os.Open("/proc/self/exe")
	if err != nil {
		return nil, err
	}
	defer src.Close()
	fd, err := unix.MemfdCreate("rt-init", unix.MFD_CLOEXEC|unix.MFD_ALLOW_SEALING)
	if err != nil {
		return nil, fmt.Errorf("memfd_create: %w", err)
	}
	dst := os.NewFile(uintptr(fd), "rt-init")
	st, err := src.Stat()
	if err != nil {
		dst.Close()
		return nil, err
	}
	// Sendfile into a memfd avoids a user-space copy of the binary.
	remain := st.Size()
	for remain > 0 {
		n, err := unix.Sendfile(fd, int(src.Fd()), nil, int(remain))
		if err != nil || n == 0 {
			if err == nil {
				err = io.ErrUnexpectedEOF
			}
			dst.Close()
			return nil, fmt.Errorf("copy rt binary to memfd: %w", err)
		}
		remain -= int64(n)
	}
	seals := unix.F_SEAL_SEAL | unix.F_SEAL_SHRINK | unix.F_SEAL_GROW | unix.F_SEAL_WRITE
	if _, err := unix.FcntlInt(uintptr(fd), unix.F_ADD_SEALS, seals); err != nil {
		dst.Close()
		return nil, fmt.Errorf("seal memfd: %w", err)
	}
	return dst, nil
}
