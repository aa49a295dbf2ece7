// Package selinuxlabel applies process.selinuxLabel in the container's
// init. It wraps go-selinux to fail clearly when a label is asked for on a
// host without SELinux (go-selinux would write it to /proc anyway and the
// kernel's answer names no field).
package selinuxlabel

import (
	"errors"
	"fmt"

	"github.com/opencontainers/selinux/go-selinux"
)

// ErrNotEnabled is returned when a label is asked for on a host without
// SELinux.
var ErrNotEnabled = errors.New("process.selinuxLabel: SELinux is not enabled on this host")

// SetExecLabel makes the next execve of the calling thread run under
// label. An empty label changes nothing. The attribute belongs to the
// thread, so init must call it from the thread that will exec.
func SetExecLabel(label string) error {
	if label == "" {
		return nil
	}
	if !selinux.GetEnabled() {
		return ErrNotEnabled
	}
	if err := selinux.SetExecLabel(label); err != nil {
		return fmt.Errorf("process.selinuxLabel: set exec label %q: %w", label, err)
	}
	return nil
}

// SetKeyLabel labels the keys the calling thread creates from now on, so
// the session keyring init creates carries the container's label. Call
// it before keys.SetupSessionKeyring, and with "" afterwards.
func SetKeyLabel(label string) error {
	if !selinux.GetEnabled() {
		if label == "" {
			return nil
		}
		return ErrNotEnabled
	}
	if err := selinux.SetKeyLabel(label); err != nil {
		return fmt.Errorf("process.selinuxLabel: set key label %q: %w", label, err)
	}
	return nil
}
