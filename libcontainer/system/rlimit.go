package system

import (
	"errors"
	"fmt"

	"github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"

	"github.com/rtproject/rt/libcontainer/internal/kernel"
)

var rlimitByName = map[string]int{
	"RLIMIT_AS":         unix.RLIMIT_AS,
	"RLIMIT_CORE":       unix.RLIMIT_CORE,
	"RLIMIT_CPU":        unix.RLIMIT_CPU,
	"RLIMIT_DATA":       unix.RLIMIT_DATA,
	"RLIMIT_FSIZE":      unix.RLIMIT_FSIZE,
	"RLIMIT_LOCKS":      unix.RLIMIT_LOCKS,
	"RLIMIT_MEMLOCK":    unix.RLIMIT_MEMLOCK,
	"RLIMIT_MSGQUEUE":   unix.RLIMIT_MSGQUEUE,
	"RLIMIT_NICE":       unix.RLIMIT_NICE,
	"RLIMIT_NOFILE":     unix.RLIMIT_NOFILE,
	"RLIMIT_NPROC":      unix.RLIMIT_NPROC,
	"RLIMIT_RSS":        unix.RLIMIT_RSS,
	"RLIMIT_RTPRIO":     unix.RLIMIT_RTPRIO,
	"RLIMIT_RTTIME":     unix.RLIMIT_RTTIME,
	"RLIMIT_SIGPENDING": unix.RLIMIT_SIGPENDING,
	"RLIMIT_STACK":      unix.RLIMIT_STACK,
}

// RlimitNumber returns the setrlimit(2) resource of an rlimit type named as in the spec ("RLIMIT_NOFILE").
func RlimitNumber(name string) (int, bool) {
	r, ok := rlimitByName[name]
	return r, ok
}

// ValidateRlimits checks process.rlimits: known types, each at most once
// (the spec requires an error on duplicates), soft not above hard.
func ValidateRlimits(rlimits []specs.POSIXRlimit) error {
	seen := make(map[string]int)
	for i, r := range rlimits {
		if _, ok := rlimitByName[r.Type]; !ok {
			return fmt.Errorf("process.rlimits[%d].type: unknown rlimit %q", i, r.Type)
		}
		if j, dup := seen[r.Type]; dup {
			return fmt.Errorf("process.rlimits[%d].type: %s is already set by process.rlimits[%d]", i, r.Type, j)
		}
		seen[r.Type] = i
		if r.Soft > r.Hard {
			return fmt.Errorf("process.rlimits[%d]: %s soft limit %d is above its hard limit %d", i, r.Type, r.Soft, r.Hard)
		}
	}
	return nil
}

// SetRlimits applies rlimits to process pid (0: the calling process).
//
// Init should apply them to itself with pid 0, late, while it still has
// CAP_SYS_RESOURCE (before the bounding-set drop and the change of user):
// through prlimit on itself Go also forgets the RLIMIT_NOFILE it raised at
// start-up, which it would otherwise restore at execve — a parent setting
// the child's limits from outside would be undone by exactly that.
func SetRlimits(pid int, rlimits []specs.POSIXRlimit) error {
	if err := ValidateRlimits(rlimits); err != nil {
		return err
	}
	for i, r := range rlimits {
		res := rlimitByName[r.Type]
		var old unix.Rlimit
		if err := kernel.Prlimit(pid, res, nil, &old); err != nil {
			return fmt.Errorf("process.rlimits[%d]: get %s: %w", i, r.Type, err)
		}
		lim := unix.Rlimit{Cur: r.Soft, Max: r.Hard}
		if err := kernel.Prlimit(pid, res, &lim, nil); err != nil {
			if errors.Is(err, unix.EPERM) && r.Hard > old.Max {
				return fmt.Errorf("process.rlimits[%d]: set %s to soft %d hard %d: raising the hard limit above the current %d needs CAP_SYS_RESOURCE, which the runtime lacks: %w",
					i, r.Type, r.Soft, r.Hard, old.Max, err)
			}
			return fmt.Errorf("process.rlimits[%d]: set %s to soft %d hard %d: %w", i, r.Type, r.Soft, r.Hard, err)
		}
	}
	return nil
}
