package seccomp_test

import (
	"slices"
	"testing"

	"github.com/rtproject/rt/libcontainer/seccomp"
)

func TestFeatures(t *testing.T) {
	f := seccomp.Features()
	if f.Enabled == nil || !*f.Enabled {
		t.Fatal("Features: seccomp not enabled")
	}
	for _, want := range []string{"SCMP_ACT_KILL", "SCMP_ACT_KILL_PROCESS", "SCMP_ACT_KILL_THREAD", "SCMP_ACT_TRAP",
		"SCMP_ACT_ERRNO", "SCMP_ACT_TRACE", "SCMP_ACT_ALLOW", "SCMP_ACT_LOG", "SCMP_ACT_NOTIFY"} {
		if !slices.Contains(f.Actions, want) {
			t.Errorf("Features.Actions %v lacks %s", f.Actions, want)
		}
	}
	if len(f.Operators) != 7 {
		t.Errorf("Features.Operators = %v, want the 7 operators", f.Operators)
	}
	if !slices.Contains(f.Archs, "SCMP_ARCH_X86_64") || !slices.Contains(f.Archs, "SCMP_ARCH_AARCH64") {
		t.Errorf("Features.Archs = %v lacks common architectures", f.Archs)
	}
	if len(f.KnownFlags) != 4 {
		t.Errorf("Features.KnownFlags = %v, want 4 flags", f.KnownFlags)
	}
	// Every supported flag must be known, and on this kernel (>= 4.17) these are.
	for _, s := range f.SupportedFlags {
		if !slices.Contains(f.KnownFlags, s) {
			t.Errorf("supported flag %s is not in KnownFlags", s)
		}
	}
	for _, want := range []string{"SECCOMP_FILTER_FLAG_TSYNC", "SECCOMP_FILTER_FLAG_LOG", "SECCOMP_FILTER_FLAG_SPEC_ALLOW"} {
		if !slices.Contains(f.SupportedFlags, want) {
			t.Errorf("Features.SupportedFlags = %v lacks %s", f.SupportedFlags, want)
		}
	}
}
