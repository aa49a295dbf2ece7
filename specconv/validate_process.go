package specconv

import (
	"errors"
	"fmt"
	"strings"

	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/rtproject/rt/libcontainer/capabilities"
	"github.com/rtproject/rt/libcontainer/system"
)

// ValidateProcess checks a process on its own, as `rt exec --process` reads it from process.json. field is the
// JSON name errors use for p ("process").
func ValidateProcess(p *specs.Process, field string) error {
	if p == nil {
		return fmt.Errorf("%s: missing", field)
	}
	if len(p.Args) == 0 {
		return fmt.Errorf("%s.args: must not be empty", field)
	}
	if p.Args[0] == "" {
		return fmt.Errorf("%s.args[0]: must not be empty", field)
	}
	for i, a := range p.Args {
		if err := checkNoNUL(indexed(field+".args", i), a); err != nil {
			return err
		}
	}
	if err := checkAbsolute(field+".cwd", p.Cwd); err != nil {
		return err
	}
	if err := validateEnv(p.Env, field+".env"); err != nil {
		return err
	}
	if u := p.User.Umask; u != nil && *u > 0o777 {
		return fmt.Errorf("%s.user.umask: %#o has bits outside 0777", field, *u)
	}
	if err := validateCapabilities(p.Capabilities, field+".capabilities"); err != nil {
		return err
	}
	if err := validateRlimits(p.Rlimits, field+".rlimits"); err != nil {
		return err
	}
	if adj := p.OOMScoreAdj; adj != nil && (*adj < -1000 || *adj > 1000) {
		return fmt.Errorf("%s.oomScoreAdj: %d is outside [-1000, 1000]", field, *adj)
	}
	if err := validateScheduler(p.Scheduler, field+".scheduler"); err != nil {
		return err
	}
	return validateIOPriority(p.IOPriority, field+".ioPriority")
}

func validateEnv(env []string, field string) error {
	for i, kv := range env {
		f := indexed(field, i)
		if k, _, ok := strings.Cut(kv, "="); !ok || k == "" {
			return fmt.Errorf("%s: %q is not of the form KEY=VALUE", f, kv)
		}
		if err := checkNoNUL(f, kv); err != nil {
			return err
		}
	}
	return nil
}

func validateCapabilities(c *specs.LinuxCapabilities, field string) error {
	if c == nil {
		return nil
	}
	sets := []struct {
		name string
		caps []string
	}{
		{"bounding", c.Bounding}, {"effective", c.Effective}, {"inheritable", c.Inheritable},
		{"permitted", c.Permitted}, {"ambient", c.Ambient},
	}
	// The spec (1.3) asks only for a warning about capabilities that cannot be granted, but a name that is no
	// capability at all is a typo; the runtime-tools suite (process_capabilities_fail) expects an error for it.
	for _, set := range sets {
		for i, name := range set.caps {
			if _, ok := capabilities.Number(name); !ok {
				return fmt.Errorf("%s: unknown capability %q", indexed(field+"."+set.name, i), name)
			}
		}
	}
	return nil
}

func validateRlimits(rlimits []specs.POSIXRlimit, field string) error {
	seen := make(map[string]int)
	for i, r := range rlimits {
		f := indexed(field, i)
		if _, ok := system.RlimitNumber(r.Type); !ok {
			return fmt.Errorf("%s.type: unknown rlimit %q", f, r.Type)
		}
		if first, dup := seen[r.Type]; dup {
			return fmt.Errorf("%s.type: %s already set by %s", f, r.Type, indexed(field, first))
		}
		seen[r.Type] = i
		if r.Soft > r.Hard {
			return fmt.Errorf("%s.soft: %d is above the hard limit %d", f, r.Soft, r.Hard)
		}
	}
	return nil
}

var schedulerFlags = []specs.LinuxSchedulerFlag{
	specs.SchedFlagResetOnFork, specs.SchedFlagReclaim, specs.SchedFlagDLOverrun, specs.SchedFlagKeepPolicy,
	specs.SchedFlagKeepParams, specs.SchedFlagUtilClampMin, specs.SchedFlagUtilClampMax,
}

func validateScheduler(s *specs.Scheduler, field string) error {
	if s == nil {
		return nil
	}
	switch s.Policy {
	case specs.SchedFIFO, specs.SchedRR:
		// sched_setattr(2): real-time policies take a static priority of 1 to 99.
		if s.Priority < 1 || s.Priority > 99 {
			return fmt.Errorf("%s.priority: %d is outside [1, 99] for %s", field, s.Priority, s.Policy)
		}
	case specs.SchedOther, specs.SchedBatch, specs.SchedIdle, specs.SchedDeadline:
		if s.Priority != 0 {
			return fmt.Errorf("%s.priority: must be 0 for %s", field, s.Policy)
		}
	case "":
		return fmt.Errorf("%s.policy: missing", field)
	default:
		// SCHED_ISO is in the spec but was never merged into Linux.
		return fmt.Errorf("%s.policy: unknown policy %q", field, s.Policy)
	}
	if s.Nice < -20 || s.Nice > 19 {
		return fmt.Errorf("%s.nice: %d is outside [-20, 19]", field, s.Nice)
	}
	for i, flag := range s.Flags {
		known := false
		for _, k := range schedulerFlags {
			known = known || flag == k
		}
		if !known {
			return fmt.Errorf("%s: unknown flag %q", indexed(field+".flags", i), flag)
		}
	}
	if s.Policy == specs.SchedDeadline {
		if s.Runtime == 0 || s.Deadline == 0 {
			return errors.New(field + ": SCHED_DEADLINE requires runtime and deadline")
		}
		// sched_setattr(2): runtime <= deadline <= period, where a zero period means the deadline.
		if s.Runtime > s.Deadline || (s.Period != 0 && s.Deadline > s.Period) {
			return errors.New(field + ": SCHED_DEADLINE requires runtime <= deadline <= period")
		}
	}
	return nil
}

func validateIOPriority(p *specs.LinuxIOPriority, field string) error {
	if p == nil {
		return nil
	}
	switch p.Class {
	case specs.IOPRIO_CLASS_RT, specs.IOPRIO_CLASS_BE, specs.IOPRIO_CLASS_IDLE:
	case "":
		return fmt.Errorf("%s.class: missing", field)
	default:
		return fmt.Errorf("%s.class: unknown class %q", field, p.Class)
	}
	// ioprio_set(2): the level within the class is 0 (highest) to 7.
	if p.Priority < 0 || p.Priority > 7 {
		return fmt.Errorf("%s.priority: %d is outside [0, 7]", field, p.Priority)
	}
	return nil
}
