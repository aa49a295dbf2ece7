package integration

import (
	"strings"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// numaPolicyScript prints the policy of the first mapping of the shell that
// runs it, as runc's memorypolicy.bats reads it.
const numaPolicyScript = `head -n 1 /proc/self/numa_maps | cut -d " " -f 2`

// TestMemoryPolicy: linux.memoryPolicy reaches the container's process and
// every process exec'd into it.
func TestMemoryPolicy(t *testing.T) {
	for _, tc := range []struct {
		policy specs.LinuxMemoryPolicy
		want   string
	}{
		{specs.LinuxMemoryPolicy{Mode: specs.MpolInterleave, Nodes: "0"}, "interleave:0"},
		{specs.LinuxMemoryPolicy{Mode: specs.MpolBind, Nodes: "0", Flags: []specs.MemoryPolicyFlagType{specs.MpolFStaticNodes}}, "bind=static:0"},
		{specs.LinuxMemoryPolicy{Mode: specs.MpolDefault}, "default"},
	} {
		b := newBundle(t, "sh", "-c", numaPolicyScript)
		p := tc.policy
		b.Spec.Linux.MemoryPolicy = &p
		r := b.run()
		if r.Code != 0 || strings.TrimSpace(r.Stdout) != tc.want {
			t.Errorf("%s %v: %s, want policy %s", p.Mode, p.Flags, r, tc.want)
		}
	}

	s := startSleeper(t, func(s *specs.Spec) {
		s.Linux.MemoryPolicy = &specs.LinuxMemoryPolicy{Mode: specs.MpolPreferred, Nodes: "0", Flags: []specs.MemoryPolicyFlagType{specs.MpolFRelativeNodes}}
	})
	r := s.mustRT("exec", s.ID, "sh", "-c", numaPolicyScript)
	if got := strings.TrimSpace(r.Stdout); got != "prefer=relative:0" {
		t.Errorf("exec: policy %q, want prefer=relative:0", got)
	}
}

// TestMemoryPolicyRefused: a policy the kernel would refuse fails create with
// runc's words, before anything is made.
func TestMemoryPolicyRefused(t *testing.T) {
	for _, tc := range []struct {
		policy specs.LinuxMemoryPolicy
		want   string
	}{
		{specs.LinuxMemoryPolicy{}, "invalid memory policy mode"},
		{specs.LinuxMemoryPolicy{Mode: "INTERLEAVE", Nodes: "0"}, `linux.memoryPolicy.mode: invalid memory policy mode \"INTERLEAVE\"`},
		{specs.LinuxMemoryPolicy{Mode: specs.MpolPreferred, Nodes: "0", Flags: []specs.MemoryPolicyFlagType{"badflag"}}, "invalid memory policy flag"},
		{specs.LinuxMemoryPolicy{Mode: specs.MpolDefault, Nodes: "0-7"}, "mode requires 0 nodes but got 8"},
		{specs.LinuxMemoryPolicy{Mode: specs.MpolBind, Nodes: "0-9876543210"}, "invalid memory policy node"},
	} {
		b := newBundle(t, "true")
		p := tc.policy
		b.Spec.Linux.MemoryPolicy = &p
		r := b.run()
		if r.Code != 1 || !strings.Contains(r.Stderr, tc.want) {
			t.Errorf("%+v: %s, want exit 1 and %q", p, r, tc.want)
		}
		assertNoLeaks(t, b, 0)
	}
}
