package libcontainer

import (
	"fmt"
	"io"
	"os"

	"golang.org/x/sys/unix"
)

// cloneSelf copies the rt binary into a sealed memfd and returns it.
//
// The re-executed init and exec processes run inside the container's
// namespaces, where a hostile process may open /proc/<pid>/exe and later write
// through it (CVE-2019-5736). Running a sealed, anonymous copy means that
// handle can never reach the rt binary on the host.
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
