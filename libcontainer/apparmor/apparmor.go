// Package apparmor sets the AppArmor profile the container's program is
// executed under.
package apparmor

import (
	"bytes"
	"errors"
	"fmt"
	"os"

	"github.com/rtproject/rt/internal/procfs"
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
	// After pivot_root /proc is whatever the bundle mounted there: a profile
	// written to a look-alike file would silently not apply.
	err := procfs.WriteThreadSelf("attr/apparmor/exec", []byte("exec "+name))
	if errors.Is(err, os.ErrNotExist) {
		err = procfs.WriteThreadSelf("attr/exec", []byte("exec "+name))
	}
	if err != nil {
		return fmt.Errorf("process.apparmorProfile: set profile %q: %w", name, err)
	}
	return nil
}
