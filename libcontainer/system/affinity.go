package system

import (
	"errors"
	"fmt"
	"runtime"
	"strconv"
	"strings"

	"github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"

	"github.com/rtproject/rt/libcontainer/internal/kernel"
)

// maxCPUs is how many CPUs a unix.CPUSet can name.
const maxCPUs = 1024

// ParseCPUList parses a list like "0-3,7" into a CPU set.
func ParseCPUList(list string) (*unix.CPUSet, error) {
	var set unix.CPUSet
	list = strings.TrimSpace(list)
	if list == "" {
		return nil, errors.New("empty CPU list")
	}
	for _, part := range strings.Split(list, ",") {
		lo, hi, isRange := strings.Cut(strings.TrimSpace(part), "-")
		first, err := strconv.ParseUint(lo, 10, 16)
		if err != nil {
			return nil, fmt.Errorf("bad CPU %q in %q", lo, list)
		}
		last := first
		if isRange {
			if last, err = strconv.ParseUint(hi, 10, 16); err != nil {
				return nil, fmt.Errorf("bad CPU %q in %q", hi, list)
			}
			if last < first {
				return nil, fmt.Errorf("bad CPU range %q in %q", part, list)
			}
		}
		if last >= maxCPUs {
			return nil, fmt.Errorf("CPU %d in %q is beyond the %d CPUs supported", last, list, maxCPUs)
		}
		for c := first; c <= last; c++ {
			set.Set(int(c))
		}
	}
	return &set, nil
}

// ValidateExecCPUAffinity checks process.execCPUAffinity.
func ValidateExecCPUAffinity(a *specs.CPUAffinity) error {
	if a == nil {
		return nil
	}
	if a.Initial != "" {
		if _, err := ParseCPUList(a.Initial); err != nil {
			return fmt.Errorf("process.execCPUAffinity.initial: %w", err)
		}
	}
	if a.Final != "" {
		if _, err := ParseCPUList(a.Final); err != nil {
			return fmt.Errorf("process.execCPUAffinity.final: %w", err)
		}
	}
	return nil
}

// WithInitialCPUAffinity runs start (which forks the runtime's child for
// `exec`) with the calling thread pinned to a.Initial, then restores the
// thread. The spec wants the child on those CPUs from the start, before it
// joins the container's cgroup; a forked child inherits the affinity of
// the forking thread, so every thread of the child is born pinned, which
// setting it on the child's pid afterwards could not promise.
// execCPUAffinity is for exec processes, not the container's init.
func WithInitialCPUAffinity(a *specs.CPUAffinity, start func() error) error {
	if a == nil || a.Initial == "" {
		return start()
	}
	set, err := ParseCPUList(a.Initial)
	if err != nil {
		return fmt.Errorf("process.execCPUAffinity.initial: %w", err)
	}
	runtime.LockOSThread()
	var saved unix.CPUSet
	if err := kernel.SchedGetaffinity(0, &saved); err != nil {
		runtime.UnlockOSThread()
		return fmt.Errorf("sched_getaffinity: %w", err)
	}
	if err := kernel.SchedSetaffinity(0, set); err != nil {
		runtime.UnlockOSThread()
		return fmt.Errorf("process.execCPUAffinity.initial: sched_setaffinity %q: %w", a.Initial, err)
	}
	startErr := start()
	if err := kernel.SchedSetaffinity(0, &saved); err != nil {
		// Leave the thread locked so no other goroutine runs on the pinned
		// CPUs; Go retires it when this goroutine ends.
		return errors.Join(startErr, fmt.Errorf("restore the runtime's CPU affinity: %w", err))
	}
	runtime.UnlockOSThread()
	return startErr
}

// SetCPUAffinity sets the calling thread's CPU affinity once the process
// is in the container's cgroup, before it execs:
//   - process.execCPUAffinity.final when given (exec'd processes only; the
//     spec's field does not apply to the container's init, whose a is nil);
//   - nothing when only initial was given: the runtime-spec says the
//     runtime SHOULD NOT change it then (runc keeps initial too);
//   - otherwise every CPU, which the kernel narrows to the cgroup's cpuset:
//     the process must not inherit the affinity of whoever ran rt (`taskset
//     -c 0 rt run`), as runc resets it too.
func SetCPUAffinity(a *specs.CPUAffinity) error {
	set := &unix.CPUSet{}
	switch {
	case a != nil && a.Final != "":
		var err error
		if set, err = ParseCPUList(a.Final); err != nil {
			return fmt.Errorf("process.execCPUAffinity.final: %w", err)
		}
	case a != nil && a.Initial != "":
		return nil
	default:
		set.Fill()
	}
	if err := kernel.SchedSetaffinity(0, set); err != nil {
		if a != nil && a.Final != "" {
			return fmt.Errorf("process.execCPUAffinity.final: sched_setaffinity %q: %w", a.Final, err)
		}
		return fmt.Errorf("reset the CPU affinity to every CPU of the container: %w", err)
	}
	return nil
}
