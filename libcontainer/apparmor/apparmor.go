// Package apparmor sets the AppArmor profile the container's program is
// executed under.
package apparmor

import (
	"bytes"
	"errors"
	"fmt"
	"os"

	"golang.org/x/sys/unix"
)

// Enabled reports whether AppArmor is active on this host: the module
// says so and its securityfs is there to load profiles through.
func Enabled() bool {
	if _, err := os.Stat("/sys/kernel/security/apparmor"); err != nil {
		return false
	}
	b, err := os.ReadFile("/sys/module/apparmor/parameters/enabled")
	return err == nil && bytes.HasPrefix(b, []byte("Y"))
}

// ErrNotEnabled is returned when a profile is asked for on a host without
// AppArmor.
var ErrNotEnabled = errors.New("process.apparmorProfile: AppArmor is not enabled on this host")

// ApplyProfile makes the next execve of the calling thread switch to
// profile name. An empty name changes nothing. The attribute belongs to
// the thread, so init must call it from the thread that will exec.
func ApplyProfile(name string) error {
	if name == "" {
		return nil
	}
	if !Enabled() {
		return ErrNotEnabled
	}
	// Since Linux 5.8 AppArmor has its own attr directory, so that it can
	// be stacked with other LSMs; older kernels only have the shared one.
	err := writeAttr("/proc/thread-self/attr/apparmor/exec", "exec "+name)
	if errors.Is(err, os.ErrNotExist) {
		err = writeAttr("/proc/thread-self/attr/exec", "exec "+name)
	}
	if err != nil {
		return fmt.Errorf("process.apparmorProfile: set profile %q: %w", name, err)
	}
	return nil
}

func writeAttr(path, value string) error {
	f, err := os.OpenFile(path, os.O_WRONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		return err
	}
	// After pivot_root /proc is whatever the bundle mounted there; a
	// profile written to a look-alike file would silently not apply.
	var st unix.Statfs_t
	if err := unix.Fstatfs(int(f.Fd()), &st); err != nil {
		f.Close()
		return fmt.Errorf("statfs %s: %w", path, err)
	}
	if st.Type != unix.PROC_SUPER_MAGIC {
		f.Close()
		return fmt.Errorf("%s is not on procfs", path)
	}
	_, err = f.WriteString(value)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}
