package integration

import (
	"strings"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// TestUnappliedFieldsRefused: fields the runtime-spec defines but rt does
// not apply yet fail create with an error naming them, leaving nothing
// behind, instead of being silently ignored.
func TestUnappliedFieldsRefused(t *testing.T) {
	for _, tc := range []struct {
		field  string
		mutate func(*specs.Linux)
	}{
		{"linux.netDevices", func(l *specs.Linux) { l.NetDevices = map[string]specs.LinuxNetDevice{"dummy0": {}} }},
		{"linux.intelRdt", func(l *specs.Linux) { l.IntelRdt = &specs.LinuxIntelRdt{ClosID: "rt-test"} }},
		{"linux.memoryPolicy", func(l *specs.Linux) {
			l.MemoryPolicy = &specs.LinuxMemoryPolicy{Mode: specs.MpolPreferred, Nodes: "0"}
		}},
	} {
		t.Run(tc.field, func(t *testing.T) {
			b := newBundle(t, "true")
			tc.mutate(b.Spec.Linux)
			b.write()
			r := b.rt("create", "--bundle", b.Dir, b.ID)
			if r.Code == 0 || !strings.Contains(r.Stderr, tc.field+": not supported") {
				t.Errorf("create with %s: %s", tc.field, r)
			}
			assertNoLeaks(t, b, 0)
		})
	}
}
