package cgfs

import "github.com/opencontainers/runtime-spec/specs-go"

// The interface every driver implements, next to the Stats it returns: the
// drivers (fs1, fs2, hybrid, systemd) cannot import package cgroups, which
// picks among them, so it lives here and cgroups names it Manager.

// Manager is one container's cgroup(s).
type Manager interface {
	// Apply creates the cgroup (with missing parents) and moves pid in; a
	// pid <= 0 only creates. Joining an existing cgroup is fine.
	Apply(pid int) error
	// Set writes every resource; one the host cannot honour is an error
	// naming its field, unless it is unset.
	Set(r *specs.LinuxResources) error
	Freeze() error
	Thaw() error
	// FreezerState is "frozen" or "thawed".
	FreezerState() (string, error)
	// Pids lists every process in the cgroup, recursively.
	Pids() ([]int, error)
	Stats() (*Stats, error)
	// OOMNotify signals once per OOM kill; closed when the cgroup goes.
	OOMNotify() (<-chan struct{}, error)
	// Destroy removes the cgroup, its children and the empty parent
	// levels of its path. It kills nothing: an occupied cgroup is an
	// error.
	Destroy() error
	// Paths maps each v1 controller, and "" for cgroup v2, to the
	// absolute directory; persist it and hand it to Load.
	Paths() map[string]string
}
