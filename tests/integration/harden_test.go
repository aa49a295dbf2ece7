package integration

import (
	"fmt"
	"os"
	"runtime"
	"strings"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

// Regression tests for the smaller findings of issue 12 (finding 8): each
// failed against rt before its fix.

// TestNetSysctlInHostNetworkNamespace: net.* sysctls are refused when the
// network namespace joined is the runtime's own (runc's rule), which they
// would change.
func TestNetSysctlInHostNetworkNamespace(t *testing.T) {
	cur, err := os.ReadFile("/proc/sys/net/ipv4/ip_forward")
	if err != nil {
		t.Fatal(err)
	}
	b := newBundle(t, "true")
	// The namespace of this thread, from which rt is started, and not
	// /proc/<pid>/ns/net: that is the main thread's, which another test's
	// goroutine may have locked, moved into a container's namespace and
	// retired (dialInNetns), leaving it there.
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	b.setNamespace(specs.NetworkNamespace, fmt.Sprintf("/proc/%d/task/%d/ns/net", os.Getpid(), unix.Gettid()))
	// The host's own value: nothing changes even if it were written.
	b.Spec.Linux.Sysctl = map[string]string{"net.ipv4.ip_forward": strings.TrimSpace(string(cur))}
	r := b.run()
	// The error line is logrus's: the quotes come escaped.
	if r.Code == 0 || !strings.Contains(strings.ReplaceAll(r.Stderr, `\"`, `"`), `sysctl "net.ipv4.ip_forward" not allowed in host network namespace`) {
		t.Errorf("net.* sysctl in the host's network namespace: %s, want runc's refusal", r)
	}
	assertNoLeaks(t, b, 0)
}

// TestExecAdditionalGids: exec -g sets exactly the groups given, as runc
// does (rt gave "5 5" for a single -g 5).
func TestExecAdditionalGids(t *testing.T) {
	b := startSleeper(t, nil)
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"-g", "5"}, "5"},
		{[]string{"--additional-gids", "5"}, "5"},
		{[]string{"-g", "5", "-g", "7"}, "5 7"},
		{nil, ""},
	} {
		args := append(append([]string{"exec", "--user", "1000:1000"}, tc.args...), b.ID, "grep", "Groups", "/proc/self/status")
		r := b.mustRT(args...)
		if got := strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(r.Stdout), "Groups:")); got != tc.want {
			t.Errorf("exec %v: groups %q, want %q", tc.args, got, tc.want)
		}
	}
}

// TestSysctlDottedInterface: a '/'-separated sysctl name keeps the dots of
// an interface name (net/ipv4/conf/eth0.100/forwarding), and a dotted one
// reads '/' as '.', as sysctl(8) does.
func TestSysctlDottedInterface(t *testing.T) {
	for _, key := range []string{"net/ipv4/conf/rt0.100/forwarding", "net.ipv4.conf.rt0/100.forwarding"} {
		t.Run(sanitize(key), func(t *testing.T) {
			b := newBundle(t, "cat", "/proc/sys/net/ipv4/conf/rt0.100/forwarding")
			// The interface is made in the container's network namespace
			// before the init writes the sysctls.
			b.Spec.Hooks = &specs.Hooks{CreateRuntime: []specs.Hook{{Path: "/bin/sh", Args: []string{"sh", "-c",
				`pid=$(sed -n 's/.*"pid":\([0-9]*\).*/\1/p'); nsenter --net=/proc/$pid/ns/net ip link add rt0.100 type veth peer name rt0peer`}}}}
			b.Spec.Linux.Sysctl = map[string]string{key: "1"}
			r := b.run()
			if r.Code != 0 || strings.TrimSpace(r.Stdout) != "1" {
				t.Errorf("sysctl %s: %s, want forwarding 1 on rt0.100", key, r)
			}
		})
	}
}
