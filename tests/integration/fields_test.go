package integration

import (
	"os"
	"strings"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// TestIntelRdtRefused: linux.intelRdt, which rt does not apply, fails create
// with an error naming it (and, on a host without resctrl, saying so),
// leaving nothing behind, instead of being silently ignored.
func TestIntelRdtRefused(t *testing.T) {
	want := "linux.intelRdt: Intel RDT is not enabled on this host: no resctrl filesystem is mounted"
	if data, _ := os.ReadFile("/proc/self/mountinfo"); strings.Contains(string(data), " - resctrl ") {
		want = "linux.intelRdt: not supported"
	}
	b := newBundle(t, "true")
	b.Spec.Linux.IntelRdt = &specs.LinuxIntelRdt{ClosID: "rt-test", L3CacheSchema: "L3:0=f"}
	b.write()
	r := b.rt("create", "--bundle", b.Dir, b.ID)
	if r.Code == 0 || !strings.Contains(r.Stderr, want) {
		t.Errorf("create with linux.intelRdt: %s, want %q", r, want)
	}
	assertNoLeaks(t, b, 0)
}
