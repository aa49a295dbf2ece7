// Package keys gives the container's init a session keyring of its own,
// so the container does not share the runtime's (the host's) keys.
package keys

import (
	"errors"
	"fmt"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"

	"github.com/rtproject/rt/libcontainer/internal/kernel"
)

// Search permission bits of a key (include/linux/key.h): for the key's
// owner and for everyone else.
const (
	PermUserSearch  uint32 = 0x00080000
	PermOtherSearch uint32 = 0x00000008
)

// SessionKeyringName is the keyring name init joins for containerID. A
// process started later by `exec` joins the same one by name.
func SessionKeyringName(containerID string) string {
	return "_ses." + containerID
}

// JoinSessionKeyring makes the named keyring the calling process's
// session keyring, creating it if it does not exist, and returns its id.
func JoinSessionKeyring(name string) (int, error) {
	id, err := kernel.KeyctlJoinSessionKeyring(name)
	if err != nil {
		return 0, fmt.Errorf("join session keyring %q: %w", name, err)
	}
	return id, nil
}

// ModKeyringPerm rewrites the permissions of key id as
// (current & keep) | add.
func ModKeyringPerm(id int, keep, add uint32) error {
	desc, err := kernel.KeyctlDescribe(id)
	if err != nil {
		return fmt.Errorf("describe key %d: %w", id, err)
	}
	// "type;uid;gid;perm;description", perm in hex.
	fields := strings.SplitN(desc, ";", 5)
	if len(fields) < 5 {
		return fmt.Errorf("describe key %d: unexpected description %q", id, desc)
	}
	perm, err := strconv.ParseUint(fields[3], 16, 32)
	if err != nil {
		return fmt.Errorf("describe key %d: bad permissions %q: %w", id, fields[3], err)
	}
	newPerm := uint32(perm)&keep | add
	if err := kernel.KeyctlSetperm(id, newPerm); err != nil {
		return fmt.Errorf("set permissions of key %d to %#x: %w", id, newPerm, err)
	}
	return nil
}

// ErrUnavailable marks a keyring that could not be created because keyctl
// is missing (ENOSYS) or filtered (EPERM, e.g. by the seccomp profile of a
// surrounding container). The keyring is a best-effort isolation, so init
// should log it and go on.
var ErrUnavailable = errors.New("session keyring unavailable")

// SetupSessionKeyring joins the container's session keyring and makes it
// searchable, which a fresh keyring is not, by the container's user: its
// owner, or, with a user namespace (where the owner is not mapped the
// same way), everyone. Any failure after the join is fatal: a keyring
// with the wrong permissions is worse than none.
func SetupSessionKeyring(containerID string, userNS bool) (int, error) {
	id, err := JoinSessionKeyring(SessionKeyringName(containerID))
	if err != nil {
		if errors.Is(err, unix.ENOSYS) || errors.Is(err, unix.EPERM) {
			return 0, fmt.Errorf("%w: %w", ErrUnavailable, err)
		}
		return 0, err
	}
	search := PermUserSearch
	if userNS {
		search = PermOtherSearch
	}
	if err := ModKeyringPerm(id, ^uint32(0), search); err != nil {
		return 0, err
	}
	return id, nil
}
