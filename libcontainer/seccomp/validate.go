package seccomp

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"

	"github.com/opencontainers/runtime-spec/specs-go"
)

// Validate checks a profile before anything touches the system. Errors name
// the JSON field, e.g. `linux.seccomp.syscalls[3].action: unknown action "SCMP_ACT_FOO"`.
// Unknown syscall names are not errors: they may exist on another kernel or
// libseccomp, and Load skips them.
func Validate(s *specs.LinuxSeccomp) error {
	if s == nil {
		return nil
	}
	const field = "linux.seccomp"
	if err := validateAction(field+".defaultAction", s.DefaultAction); err != nil {
		return err
	}
	if s.DefaultAction == specs.ActNotify {
		// Every syscall init makes after loading the filter (including the one
		// that hands the notify fd out) would wait for an agent that never got it.
		return fmt.Errorf("%s.defaultAction: %s cannot be the default action", field, specs.ActNotify)
	}
	if err := validateErrnoRet(field+".defaultErrnoRet", s.DefaultAction, s.DefaultErrnoRet); err != nil {
		return err
	}
	for i, a := range s.Architectures {
		if _, ok := archs[a]; !ok {
			return fmt.Errorf("%s.architectures[%d]: unknown architecture %q", field, i, a)
		}
		// libseccomp refuses architectures of the other endianness; without
		// this check the container would only fail in init, after its mounts.
		if !slices.Contains(addableArchs(), string(a)) {
			return fmt.Errorf("%s.architectures[%d]: %s cannot be filtered on this host (supported: %s)", field, i, a, strings.Join(addableArchs(), ", "))
		}
	}
	for i, f := range s.Flags {
		if _, ok := flags[f]; !ok {
			return fmt.Errorf("%s.flags[%d]: unknown flag %q", field, i, f)
		}
	}
	usesNotify := false
	for i, sc := range s.Syscalls {
		f := fmt.Sprintf("%s.syscalls[%d]", field, i)
		if len(sc.Names) == 0 {
			return fmt.Errorf("%s.names: must list at least one syscall", f)
		}
		for j, name := range sc.Names {
			if name == "" {
				return fmt.Errorf("%s.names[%d]: empty syscall name", f, j)
			}
		}
		if err := validateAction(f+".action", sc.Action); err != nil {
			return err
		}
		if err := validateErrnoRet(f+".errnoRet", sc.Action, sc.ErrnoRet); err != nil {
			return err
		}
		if sc.Action == specs.ActNotify {
			usesNotify = true
			for j, name := range sc.Names {
				// init hands the notify fd to its parent with write/sendmsg after the
				// filter is loaded; notifying them would hang the container start.
				if name == "write" || name == "sendmsg" {
					return fmt.Errorf("%s.names[%d]: %s cannot be used for the %s syscall", f, j, specs.ActNotify, name)
				}
			}
		}
		for j, a := range sc.Args {
			af := fmt.Sprintf("%s.args[%d]", f, j)
			if a.Index >= maxSyscallArgs {
				return fmt.Errorf("%s.index: %d is out of range (syscalls have %d arguments)", af, a.Index, maxSyscallArgs)
			}
			if _, ok := operators[a.Op]; !ok {
				return fmt.Errorf("%s.op: unknown operator %q", af, a.Op)
			}
		}
	}
	if usesNotify && s.ListenerPath == "" {
		return errors.New(field + ".listenerPath: required when a rule uses " + string(specs.ActNotify))
	}
	return nil
}

func validateAction(field string, a specs.LinuxSeccompAction) error {
	if a == "" {
		return fmt.Errorf("%s: missing", field)
	}
	if _, ok := actions[a]; !ok {
		return fmt.Errorf("%s: unknown action %q", field, a)
	}
	return nil
}

// validateErrnoRet enforces the runtime-spec rule that an errno may only be
// given to actions that carry one.
func validateErrnoRet(field string, a specs.LinuxSeccompAction, ret *uint) error {
	if ret == nil {
		return nil
	}
	if a != specs.ActErrno && a != specs.ActTrace {
		return fmt.Errorf("%s: only %s and %s take an errno, not %s", field, specs.ActErrno, specs.ActTrace, a)
	}
	if *ret > maxErrnoRet {
		return fmt.Errorf("%s: %d does not fit in 16 bits", field, *ret)
	}
	return nil
}

// addableArchs caches supportedArchs: the linked libseccomp does not change.
var addableArchs = sync.OnceValue(supportedArchs)

// UsesNotify reports whether the profile hands a notify listener to an
// agent (a listenerPath, or a rule whose action is SCMP_ACT_NOTIFY): then
// the process that loads the filter must pass the listener's fd on, and
// wait for the agent, before it goes on. A nil profile uses none.
func UsesNotify(s *specs.LinuxSeccomp) bool {
	if s == nil {
		return false
	}
	if s.ListenerPath != "" || s.DefaultAction == specs.ActNotify {
		return true
	}
	for _, sc := range s.Syscalls {
		if sc.Action == specs.ActNotify {
			return true
		}
	}
	return false
}
