package system

import (
	"errors"
	"fmt"

	"github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"

	"github.com/rtproject/rt/libcontainer/internal/kernel"
)

// From include/uapi/linux/ioprio.h.
const (
	ioprioWhoProcess = 1
	ioprioClassShift = 13
)

var ioprioClassByName = map[specs.IOPriorityClass]int{
	specs.IOPRIO_CLASS_RT:   1,
	specs.IOPRIO_CLASS_BE:   2,
	specs.IOPRIO_CLASS_IDLE: 3,
}

// ValidateIOPriority checks process.ioPriority.
func ValidateIOPriority(p *specs.LinuxIOPriority) error {
	if p == nil {
		return nil
	}
	if _, ok := ioprioClassByName[p.Class]; !ok {
		return fmt.Errorf("process.ioPriority.class: unknown I/O priority class %q", p.Class)
	}
	if p.Priority < 0 || p.Priority > 7 {
		return fmt.Errorf("process.ioPriority.priority: %d is outside 0..7", p.Priority)
	}
	return nil
}

// IOPrioValue encodes p the way ioprio_set(2) and ioprio_get(2) do.
func IOPrioValue(p *specs.LinuxIOPriority) int {
	return ioprioClassByName[p.Class]<<ioprioClassShift | p.Priority
}

// SetIOPriority applies process.ioPriority to the calling thread; the
// program and its children inherit it. IOPRIO_CLASS_RT needs CAP_SYS_ADMIN
// (or CAP_SYS_NICE), so run it before the capabilities are dropped.
func SetIOPriority(p *specs.LinuxIOPriority) error {
	if p == nil {
		return nil
	}
	if err := ValidateIOPriority(p); err != nil {
		return err
	}
	if err := kernel.IoprioSet(ioprioWhoProcess, 0, IOPrioValue(p)); err != nil {
		if errors.Is(err, unix.EPERM) {
			return fmt.Errorf("process.ioPriority: ioprio_set %s %d: %w (IOPRIO_CLASS_RT needs CAP_SYS_ADMIN or CAP_SYS_NICE)", p.Class, p.Priority, err)
		}
		return fmt.Errorf("process.ioPriority: ioprio_set %s %d: %w", p.Class, p.Priority, err)
	}
	return nil
}
