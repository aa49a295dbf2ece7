package rootfs

import (
	"fmt"
	"path/filepath"

	"github.com/opencontainers/runtime-spec/specs-go"
)

// isCgroup reports whether a mount asks for the container's cgroup hierarchy.
func isCgroup(m *specs.Mount) bool {
	return m.Type == "cgroup" || m.Type == "cgroup2"
}

// ValidateMounts checks the spec's mounts without touching the system, so a
// bad bundle fails before any namespace or mount exists. Errors name the
// JSON field: `mounts[2].options: unknown option "foo"`.
func ValidateMounts(mounts []specs.Mount) error {
	for i := range mounts {
		if err := validateMount(&mounts[i]); err != nil {
			return fmt.Errorf("mounts[%d].%w", i, err)
		}
	}
	return nil
}

// fieldError is an error about one field of a mount; ValidateMounts prefixes
// it with the mount's index.
func fieldError(field, format string, args ...any) error {
	return fmt.Errorf("%s: %w", field, fmt.Errorf(format, args...))
}

func validateMount(m *specs.Mount) error {
	if m.Destination == "" {
		return fieldError("destination", "required")
	}
	if !filepath.IsAbs(m.Destination) {
		return fieldError("destination", "must be absolute, got %q", m.Destination)
	}
	o, err := parseOptions(m.Options)
	if err != nil {
		return fieldError("options", "%v", err)
	}
	if m.Type == "bind" {
		o.bind = true
	}
	if err := checkData(m.Type, o); err != nil {
		return fieldError("options", "%v", err)
	}
	switch {
	case o.bind && !o.remount:
		if m.Source == "" {
			return fieldError("source", "required for a bind mount")
		}
	case isCgroup(m):
	case m.Type == "":
		return fieldError("type", "required unless the mount is a bind mount")
	}
	if o.tmpcopyup && (m.Type != "tmpfs" || o.bind || o.remount) {
		return fieldError("options", "tmpcopyup needs a new tmpfs mount")
	}
	hasMappings := len(m.UIDMappings) > 0 || len(m.GIDMappings) > 0
	if (o.idmap || hasMappings) && (!o.bind || o.remount) {
		return fieldError("options", "id-mapped mounts need a new bind mount")
	}
	if len(m.UIDMappings) > 0 && len(m.GIDMappings) == 0 {
		return fieldError("gidMappings", "required with uidMappings")
	}
	if len(m.GIDMappings) > 0 && len(m.UIDMappings) == 0 {
		return fieldError("uidMappings", "required with gidMappings")
	}
	for j, mp := range m.UIDMappings {
		if mp.Size == 0 {
			return fieldError(fmt.Sprintf("uidMappings[%d].size", j), "must be positive")
		}
	}
	for j, mp := range m.GIDMappings {
		if mp.Size == 0 {
			return fieldError(fmt.Sprintf("gidMappings[%d].size", j), "must be positive")
		}
	}
	return nil
}
