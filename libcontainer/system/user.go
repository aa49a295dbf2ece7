package system

import (
	"bytes"
	"errors"
	"fmt"
	"os"

	"github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"

	"github.com/rtproject/rt/libcontainer/internal/kernel"
)

// ngroupsMax is the kernel's limit on supplementary groups (NGROUPS_MAX).
const ngroupsMax = 65536

// ValidateUser checks process.user. An id of 4294967295 is (uid_t)-1,
// which set*id(2) reads as "leave unchanged": it would silently keep root.
func ValidateUser(u specs.User) error {
	const unchanged = ^uint32(0)
	if u.UID == unchanged {
		return fmt.Errorf("process.user.uid: %d is not a valid user id", u.UID)
	}
	if u.GID == unchanged {
		return fmt.Errorf("process.user.gid: %d is not a valid group id", u.GID)
	}
	for i, g := range u.AdditionalGids {
		if g == unchanged {
			return fmt.Errorf("process.user.additionalGids[%d]: %d is not a valid group id", i, g)
		}
	}
	if len(u.AdditionalGids) > ngroupsMax {
		return fmt.Errorf("process.user.additionalGids: %d groups, the kernel allows at most %d", len(u.AdditionalGids), ngroupsMax)
	}
	if u.Umask != nil && *u.Umask > 0o777 {
		return fmt.Errorf("process.user.umask: %#o is not a file mode mask (0 to 0777)", *u.Umask)
	}
	return nil
}

// SetupUser changes the calling thread to the container's user: the
// supplementary groups, then gid, then uid (in that order: after setresuid
// the thread may no longer change its groups), then the umask. Only the
// thread: the caller is the init's locked thread, which then executes the
// container's process, and execve keeps that thread's credentials alone.
//
// PR_SET_KEEPCAPS is held across setresuid so the permitted set survives
// the change away from uid 0; the caller then trims and re-raises the
// capabilities (capabilities.Set.Apply). The effective set is empty on
// return when the new uid is not 0.
func SetupUser(u specs.User) error {
	if err := ValidateUser(u); err != nil {
		return err
	}
	// An empty list is still applied: it drops the groups init inherited
	// from the host. /proc/self/setgroups is read only when the kernel
	// refuses: the first look into /proc makes the process a private
	// procfs (internal/procfs), which costs an exec 0.3 ms or more.
	gids := make([]int, len(u.AdditionalGids))
	for i, g := range u.AdditionalGids {
		gids[i] = int(g)
	}
	if err := kernel.Setgroups(gids); err != nil {
		if !errors.Is(err, unix.EPERM) {
			return fmt.Errorf("setgroups %v: %w", u.AdditionalGids, err)
		}
		allowed, aerr := setgroupsAllowed()
		switch {
		case aerr != nil:
			return aerr
		case allowed:
			return fmt.Errorf("setgroups %v: %w", u.AdditionalGids, err)
		case len(u.AdditionalGids) > 0:
			return errors.New("process.user.additionalGids: cannot be set: setgroups is denied in this user namespace (/proc/self/setgroups is \"deny\")")
		}
		// Denied in this user namespace, and no groups asked for: the
		// process keeps the (unmapped) ones it has, as with runc.
	}

	if err := kernel.Prctl(unix.PR_SET_KEEPCAPS, 1, 0, 0, 0); err != nil {
		return fmt.Errorf("prctl(PR_SET_KEEPCAPS, 1): %w", err)
	}
	if err := kernel.Setresgid(int(u.GID), int(u.GID), int(u.GID)); err != nil {
		return fmt.Errorf("setresgid %d: %w%s", u.GID, err, UnmappedIDHint(err))
	}
	if err := kernel.Setresuid(int(u.UID), int(u.UID), int(u.UID)); err != nil {
		return fmt.Errorf("setresuid %d: %w%s", u.UID, err, UnmappedIDHint(err))
	}
	// execve clears KEEPCAPS anyway; clearing it here keeps init's own
	// state the same as the program's will be.
	if err := kernel.Prctl(unix.PR_SET_KEEPCAPS, 0, 0, 0, 0); err != nil {
		return fmt.Errorf("prctl(PR_SET_KEEPCAPS, 0): %w", err)
	}
	if u.Umask != nil {
		kernel.Umask(int(*u.Umask))
	}
	return nil
}

// UnmappedIDHint explains the EINVAL of setresuid and setresgid, and says
// nothing of any other error.
func UnmappedIDHint(err error) string {
	if errors.Is(err, unix.EINVAL) {
		return " (the id is not mapped in the container's user namespace)"
	}
	return ""
}

// setgroupsAllowed reports whether setgroups(2) may be called: in a user
// namespace whose /proc/self/setgroups says "deny" it always fails.
func setgroupsAllowed() (bool, error) {
	b, err := kernel.ReadProc("self/setgroups")
	if errors.Is(err, os.ErrNotExist) {
		return true, nil // kernels before 3.19
	}
	if err != nil {
		return false, fmt.Errorf("read /proc/self/setgroups: %w", err)
	}
	return !bytes.Equal(bytes.TrimSpace(b), []byte("deny")), nil
}
