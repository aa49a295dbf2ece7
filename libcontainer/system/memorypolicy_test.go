package system

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"

	"github.com/rtproject/rt/libcontainer/internal/kernel/kerneltest"
)

func TestParseMemoryPolicy(t *testing.T) {
	static, relative := memoryPolicyFlags[specs.MpolFStaticNodes], memoryPolicyFlags[specs.MpolFRelativeNodes]
	for _, tt := range []struct {
		name      string
		p         specs.LinuxMemoryPolicy
		wantMode  int
		wantNodes []int
		wantErr   string // runc's words, which its tests grep for
	}{
		{"interleave", specs.LinuxMemoryPolicy{Mode: specs.MpolInterleave, Nodes: "0"}, 3, []int{0}, ""},
		{"bind static", specs.LinuxMemoryPolicy{Mode: specs.MpolBind, Nodes: "0-2,5", Flags: []specs.MemoryPolicyFlagType{specs.MpolFStaticNodes}}, 2 | static, []int{0, 1, 2, 5}, ""},
		{"preferred relative", specs.LinuxMemoryPolicy{Mode: specs.MpolPreferred, Nodes: " 1 ,, ", Flags: []specs.MemoryPolicyFlagType{specs.MpolFRelativeNodes}}, 1 | relative, []int{1}, ""},
		{"preferred without nodes", specs.LinuxMemoryPolicy{Mode: specs.MpolPreferred}, 1, nil, ""},
		{"default", specs.LinuxMemoryPolicy{Mode: specs.MpolDefault}, 0, nil, ""},
		{"highest node", specs.LinuxMemoryPolicy{Mode: specs.MpolBind, Nodes: "1023"}, 2, []int{1023}, ""},
		{"empty", specs.LinuxMemoryPolicy{}, 0, nil, `linux.memoryPolicy.mode: invalid memory policy mode ""`},
		{"unknown mode", specs.LinuxMemoryPolicy{Mode: "INTERLEAVE", Nodes: "0"}, 0, nil, "invalid memory policy mode"},
		{"unknown flag", specs.LinuxMemoryPolicy{Mode: specs.MpolPreferred, Nodes: "0", Flags: []specs.MemoryPolicyFlagType{specs.MpolFRelativeNodes, "badflag"}}, 0, nil,
			`linux.memoryPolicy.flags[1]: invalid memory policy flag "badflag"`},
		{"nodes for default", specs.LinuxMemoryPolicy{Mode: specs.MpolDefault, Nodes: "0-7"}, 0, nil, "mode requires 0 nodes but got 8"},
		{"nodes for local", specs.LinuxMemoryPolicy{Mode: specs.MpolLocal, Nodes: "3"}, 0, nil, "mode requires 0 nodes but got 1"},
		{"no nodes for bind", specs.LinuxMemoryPolicy{Mode: specs.MpolBind}, 0, nil, "requires at least one node but got 0"},
		{"node number too large", specs.LinuxMemoryPolicy{Mode: specs.MpolBind, Nodes: "0-9876543210"}, 0, nil, "invalid memory policy node"},
		{"node above the kernel's", specs.LinuxMemoryPolicy{Mode: specs.MpolBind, Nodes: "1024"}, 0, nil, "node 1024 is above the largest"},
		{"backwards range", specs.LinuxMemoryPolicy{Mode: specs.MpolBind, Nodes: "3-1"}, 0, nil, `range "3-1" ends before it starts`},
		{"not a number", specs.LinuxMemoryPolicy{Mode: specs.MpolBind, Nodes: "a"}, 0, nil, `"a" is not a node number`},
		{"static and relative", specs.LinuxMemoryPolicy{Mode: specs.MpolBind, Nodes: "0", Flags: []specs.MemoryPolicyFlagType{specs.MpolFStaticNodes, specs.MpolFRelativeNodes}}, 0, nil, "exclude each other"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			mp, err := parseMemoryPolicy(&tt.p)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if mp.mode != tt.wantMode {
				t.Errorf("mode %#x, want %#x", mp.mode, tt.wantMode)
			}
			var want nodeMask
			for _, n := range tt.wantNodes {
				want[n/64] |= 1 << (n % 64)
			}
			if mp.nodes != want {
				t.Errorf("nodes %v, want %v", mp.nodes, tt.wantNodes)
			}
		})
	}
	if mp, err := parseMemoryPolicy(nil); mp != nil || err != nil {
		t.Errorf("nil: %v, %v", mp, err)
	}
}

// TestSetMemoryPolicyCalls applies policies on the fake kernel;
// memorypolicy_kernel_test.go reads one back from a real process.
func TestSetMemoryPolicyCalls(t *testing.T) {
	rec := kerneltest.New(t, "")
	if err := SetMemoryPolicy(&specs.LinuxMemoryPolicy{Mode: specs.MpolBind, Nodes: "0-1,3", Flags: []specs.MemoryPolicyFlagType{specs.MpolFStaticNodes}}); err != nil {
		t.Fatal(err)
	}
	want := fmt.Sprintf("set_mempolicy mode=%#x nodes=[0 1 3] maxnode=%d", 2|memoryPolicyFlags[specs.MpolFStaticNodes], maxNUMANodes+1)
	if !slices.Equal(rec.Calls, []string{want}) {
		t.Errorf("calls %q, want %q", rec.Calls, want)
	}
	rec = kerneltest.New(t, "")
	rec.Fail("set_mempolicy", 1, unix.EINVAL)
	err := SetMemoryPolicy(&specs.LinuxMemoryPolicy{Mode: specs.MpolInterleave, Nodes: "7"})
	if err == nil || err.Error() != `linux.memoryPolicy: set_mempolicy MPOL_INTERLEAVE [] nodes "7": invalid argument` {
		t.Errorf("refused policy: %v", err)
	}
	rec = kerneltest.New(t, "")
	if err := SetMemoryPolicy(nil); err != nil || len(rec.Calls) != 0 {
		t.Errorf("no policy: %v, %q", err, rec.Calls)
	}
}
