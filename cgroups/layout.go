package cgroups

import (
	"maps"
	"slices"

	"github.com/rtproject/rt/cgroups/internal/cgfs"
)

// Layout is what Load needs to know of how the host mounts cgroups, besides
// the container's own directories. A container's state keeps the layout it
// was created under (HostLayout), so that the commands after create rebuild
// its manager without reading the host's mount table, which costs every
// command a few hundred microseconds and grows with every mount on the host.
type Layout struct {
	Mode Mode `json:"mode"`
	// V2Mount is where the cgroup2 hierarchy is mounted ("" without one).
	V2Mount string `json:"v2_mount,omitempty"`
	// V1 names the controllers of the v1 hierarchies ("memory",
	// "name=systemd"), whatever the container has a directory in.
	V1 []string `json:"v1,omitempty"`
}

// HostLayout is this host's layout (detected once per process).
func HostLayout() (*Layout, error) {
	h, err := cgfs.Detect()
	if err != nil {
		return nil, err
	}
	return &Layout{Mode: h.Mode, V2Mount: h.V2.Point, V1: slices.Sorted(maps.Keys(h.V1))}, nil
}

// host is the part of cgfs.Host that l records: enough for manager, which
// reads the mode, the cgroup2 mount point and which controllers v1 holds.
func (l *Layout) host() *cgfs.Host {
	h := &cgfs.Host{Mode: l.Mode, V2: cgfs.Mount{Point: l.V2Mount}, V1: make(map[string]cgfs.Mount, len(l.V1))}
	for _, c := range l.V1 {
		h.V1[c] = cgfs.Mount{}
	}
	return h
}
