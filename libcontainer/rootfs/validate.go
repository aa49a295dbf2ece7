package rootfs

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"

	"github.com/opencontainers/runtime-spec/specs-go"

	"github.com/rtproject/rt/internal/field"
)

// Validate checks, without touching the system, every field Setup and
// Finalize apply: mounts, linux.devices, linux.maskedPaths,
// linux.readonlyPaths and linux.rootfsPropagation. Setup runs it again in
// the init. Errors name the JSON field: `mounts[2].options: unknown option "foo"`.
func Validate(s *specs.Spec) error {
	if err := ValidateMounts(s.Mounts); err != nil {
		return err
	}
	if err := validateImpliedIDMaps(s); err != nil {
		return err
	}
	l := s.Linux
	if l == nil {
		return nil
	}
	if err := validateDevices(l.Devices); err != nil {
		return err
	}
	for _, p := range []struct {
		name  string
		paths []string
	}{{"linux.maskedPaths", l.MaskedPaths}, {"linux.readonlyPaths", l.ReadonlyPaths}} {
		for i, path := range p.paths {
			if err := field.Absolute(field.Index(p.name, i), path); err != nil {
				return err
			}
		}
	}
	if _, ok := propagationOptions[l.RootfsPropagation]; l.RootfsPropagation != "" && !ok {
		return fmt.Errorf("linux.rootfsPropagation: unknown propagation %q", l.RootfsPropagation)
	}
	return nil
}

// validateImpliedIDMaps checks that an id-mapped mount without mappings of
// its own has the container's user namespace to take them from.
func validateImpliedIDMaps(s *specs.Spec) error {
	if s.Linux != nil && slices.ContainsFunc(s.Linux.Namespaces, func(ns specs.LinuxNamespace) bool {
		return ns.Type == specs.UserNamespace
	}) {
		return nil
	}
	for i, m := range s.Mounts {
		if o, err := parseOptions(m.Options); err == nil && o.idmap && len(m.UIDMappings) == 0 {
			opt := "idmap"
			if o.ridmap {
				opt = "ridmap"
			}
			return fmt.Errorf("mounts[%d].options: %s without uidMappings/gidMappings takes the container's mapping, but linux.namespaces has no user namespace", i, opt)
		}
	}
	return nil
}

// ValidateRoot checks that root.path names a directory; a relative path is
// relative to the bundle.
func ValidateRoot(root *specs.Root, bundle string) error {
	if root == nil {
		return errors.New("root: missing")
	}
	if root.Path == "" {
		return errors.New("root.path: missing")
	}
	path := root.Path
	if !filepath.IsAbs(path) {
		path = filepath.Join(bundle, path)
	}
	fi, err := os.Stat(path)
	if err != nil {
		var pathErr *os.PathError
		if errors.As(err, &pathErr) {
			err = pathErr.Err
		}
		return fmt.Errorf("root.path: %s: %w", path, err)
	}
	if !fi.IsDir() {
		return fmt.Errorf("root.path: %s: not a directory", path)
	}
	return nil
}

// isCgroup reports whether a mount asks for the container's cgroup hierarchy.
func isCgroup(m *specs.Mount) bool {
	return m.Type == "cgroup" || m.Type == "cgroup2"
}

// ValidateMounts checks the spec's mounts.
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

// destination is where m goes in the container: a relative destination is
// relative to the container's "/", as the runtime-spec says.
func destination(m *specs.Mount) string {
	if filepath.IsAbs(m.Destination) {
		return m.Destination
	}
	return "/" + m.Destination
}

func validateMount(m *specs.Mount) error {
	if m.Destination == "" {
		return fieldError("destination", "missing")
	}
	if err := field.NoNUL("destination", m.Destination); err != nil {
		return err
	}
	if err := field.NoNUL("source", m.Source); err != nil {
		return err
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

// validateDevices checks linux.devices. The spec lets a device live at any
// path in the container, not only under /dev; the path is still resolved
// inside the rootfs. A fifo ("p") has no device number.
func validateDevices(devs []specs.LinuxDevice) error {
	for i, d := range devs {
		f := field.Index("linux.devices", i)
		if err := field.Absolute(f+".path", d.Path); err != nil {
			return err
		}
		if filepath.Clean(d.Path) == "/" {
			return fmt.Errorf("%s.path: must name a file, not /", f)
		}
		if d.Type == "" {
			return fmt.Errorf("%s.type: missing", f)
		}
		typ, ok := deviceFileType(d.Type)
		if !ok {
			return fmt.Errorf("%s.type: unknown device type %q (want c, b, u or p)", f, d.Type)
		}
		if typ == fifoType {
			continue
		}
		// The kernel's dev_t has 12 bits of major and 20 of minor number.
		if d.Major < 0 || d.Major > 0xfff {
			return fmt.Errorf("%s.major: %d is outside 0..4095", f, d.Major)
		}
		if d.Minor < 0 || d.Minor > 0xfffff {
			return fmt.Errorf("%s.minor: %d is outside 0..1048575", f, d.Minor)
		}
	}
	return nil
}
