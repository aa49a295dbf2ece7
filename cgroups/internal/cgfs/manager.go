package cgfs

import "github.com/opencontainers/runtime-spec/specs-go"

// The interface every driver implements, next to the Stats it returns: the
// drivers (fs1, fs2, hybrid, systemd) cannot import package cgroups, which
// picks among them, so it lives here and cgroups names it Manager.

// Manager is one container's cgroup(s).
type Manager interface {
	// Apply creates the cgroup (with missing parents) and moves pid in; a
	// pid <= 0 only creates. Joining an existing cgroup is fine. It is
	// safe against containers created and deleted beside it at the same
	// time.
	Apply(pid int) error
	// Set writes every resource; one the host cannot honour is an error
	// naming its field, unless it is unset.
	Set(r *specs.LinuxResources) error
	// Joinable fails, before anything joins, when the cgroup cannot take
	// a new container: an existing one holds processes, or it is frozen,
	// or would be made below a frozen parent.
	Joinable() error
	Freeze() error
	Thaw() error
	// FreezerState is "frozen" or "thawed".
	FreezerState() (string, error)
	// Pids lists every process in the cgroup, recursively.
	Pids() ([]int, error)
	Stats() (*Stats, error)
	// OOMNotify signals once per OOM kill; closed when the cgroup goes.
	OOMNotify() (<-chan struct{}, error)
	// Destroy removes the cgroup and its children where the container made
	// it (see Existing), never a parent. It kills nothing: an occupied
	// cgroup is an error.
	Destroy() error
	// Paths maps each v1 hierarchy (controller, or "name=…" for a named
	// one), and "" for cgroup v2, to the absolute directory; persist it
	// and hand it to Load.
	Paths() map[string]string
	// Existing lists the keys of Paths whose directory was there before
	// the container (New looks): the container joined those, and Destroy
	// leaves them to whoever made them. Persist it with Paths.
	Existing() []string
}
