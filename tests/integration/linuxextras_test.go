package integration

import (
	"context"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

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

// runRTInNetns runs rt inside the network namespace at netns (nsenter
// changes only that one), so that the test's interfaces stay off the host.
func runRTInNetns(netns, root string, args ...string) result {
	ctx, cancel := context.WithTimeout(context.Background(), rtTimeout)
	defer cancel()
	return runCmd(exec.CommandContext(ctx, "nsenter", append([]string{"--net=" + netns, rtBinary, "--root", root}, args...)...))
}

// ipIn runs ip(8) in the named network namespace at netns.
func ipIn(t *testing.T, netns string, args ...string) string {
	t.Helper()
	out, err := exec.Command("ip", append([]string{"-n", filepath.Base(netns)}, args...)...).CombinedOutput()
	if err != nil {
		t.Fatalf("ip -n %s %s: %v: %s", filepath.Base(netns), strings.Join(args, " "), err, out)
	}
	return string(out)
}

// TestNetDevices: an interface of the runtime's network namespace moves
// into the container's, renamed, up, with its permanent global address;
// it goes with the container's own namespace (a veth is destroyed, its peer
// with it) and stays in one joined by path. This machine has no dummy link
// type: the tests use veth pairs in namespaces of their own.
func TestNetDevices(t *testing.T) {
	host := newNetns(t) // the runtime's network namespace
	ipIn(t, host, "link", "add", "rtnda", "type", "veth", "peer", "name", "rtndb")
	ipIn(t, host, "addr", "add", "10.99.0.1/24", "dev", "rtnda")

	b := newBundle(t, "sh", "-c", "ip -o link show ctr0; ip -o addr show ctr0")
	b.Spec.Linux.NetDevices = map[string]specs.LinuxNetDevice{"rtnda": {Name: "ctr0"}}
	b.write()
	r := runRTInNetns(host, b.Root, "run", "--bundle", b.Dir, b.ID)
	if r.Code != 0 {
		t.Fatalf("run: %s", r)
	}
	for _, want := range []string{"ctr0", ",UP", "inet 10.99.0.1/24 scope global ctr0"} {
		if !strings.Contains(r.Stdout, want) {
			t.Errorf("inside: no %q in %q", want, r.Stdout)
		}
	}
	// The container's namespace is gone: the kernel destroyed the veth,
	// and its peer with it.
	deadline := time.Now().Add(5 * time.Second)
	for strings.Contains(ipIn(t, host, "link"), "rtndb") {
		if time.Now().After(deadline) {
			t.Fatalf("the veth peer outlived the container's network namespace:\n%s", ipIn(t, host, "link"))
		}
		time.Sleep(50 * time.Millisecond)
	}
	assertNoLeaks(t, b, 0)

	// A network namespace joined by path keeps the interface after delete.
	ctrNS := newNetns(t)
	ipIn(t, host, "link", "add", "rtndc", "type", "veth", "peer", "name", "rtndd")
	b = newBundle(t, "true")
	for i, ns := range b.Spec.Linux.Namespaces {
		if ns.Type == specs.NetworkNamespace {
			b.Spec.Linux.Namespaces[i].Path = ctrNS
		}
	}
	b.Spec.Linux.NetDevices = map[string]specs.LinuxNetDevice{"rtndc": {}}
	b.write()
	if r := runRTInNetns(host, b.Root, "run", "--bundle", b.Dir, b.ID); r.Code != 0 {
		t.Fatalf("run in a joined namespace: %s", r)
	}
	if out := ipIn(t, ctrNS, "-o", "link", "show", "rtndc"); !strings.Contains(out, "UP") {
		t.Errorf("after delete, the joined namespace has %q", out)
	}
	if strings.Contains(ipIn(t, host, "-o", "link"), "rtndc") {
		t.Errorf("rtndc is back in the runtime's namespace")
	}
}

// TestNetDevicesRefused: an interface that is not there, or a name already
// taken inside, fails create naming the field, and leaves nothing.
func TestNetDevicesRefused(t *testing.T) {
	host := newNetns(t)
	ipIn(t, host, "link", "add", "rtnde", "type", "veth", "peer", "name", "rtndf")
	for _, tc := range []struct {
		devs map[string]specs.LinuxNetDevice
		want string
	}{
		{map[string]specs.LinuxNetDevice{"rtnd-none": {}}, `linux.netDevices[\"rtnd-none\"]: no interface rtnd-none in the runtime's network namespace`},
		{map[string]specs.LinuxNetDevice{"rtnde": {Name: "lo"}}, "already has an interface lo"},
	} {
		b := newBundle(t, "true")
		b.Spec.Linux.NetDevices = tc.devs
		b.write()
		r := runRTInNetns(host, b.Root, "run", "--bundle", b.Dir, b.ID)
		if r.Code != 1 || !strings.Contains(r.Stderr, tc.want) {
			t.Errorf("%v: %s, want %q", tc.devs, r, tc.want)
		}
		assertNoLeaks(t, b, 0)
	}
	// The refused move left rtnde where it was.
	if out := ipIn(t, host, "-o", "link"); !strings.Contains(out, "rtnde") {
		t.Errorf("rtnde left the runtime's namespace: %s", out)
	}
}
