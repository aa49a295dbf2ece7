package rootfs

import (
	"strings"
	"testing"

	"github.com/opencontainers/runtime-spec/specs-go"
)

// TestSourcesOpenRefuses: rt clones only what the spec makes a new bind
// mount, whatever index the init asks for.
func TestSourcesOpenRefuses(t *testing.T) {
	spec := &specs.Spec{Mounts: []specs.Mount{
		{Destination: "/proc", Type: "proc", Source: "proc"},
		{Destination: "/b", Type: "bind", Options: []string{"remount", "bind", "ro"}},
	}}
	s := NewSources(spec, "/bundle", "/bundle/rootfs", 1, true, false)
	defer s.Close()
	for _, tt := range []struct {
		index int
		want  string
	}{
		{-1, "mount source: no mounts[-1]"},
		{3, "mount source: no mounts[3]"},
		{0, "mounts[0]: not a new bind mount"},
		{1, "mounts[1]: not a new bind mount"},
	} {
		if f, err := s.Open(tt.index); err == nil || !strings.HasPrefix(err.Error(), tt.want) {
			if f != nil {
				f.Close()
			}
			t.Errorf("Open(%d): %v, want %q", tt.index, err, tt.want)
		}
	}
}
