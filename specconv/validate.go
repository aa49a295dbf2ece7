package specconv

import (
	"errors"
	"fmt"
	"strconv"
	"strings"

	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/rtproject/rt/cgroups"
	"github.com/rtproject/rt/libcontainer/hooks"
	"github.com/rtproject/rt/libcontainer/initproc"
	"github.com/rtproject/rt/libcontainer/intelrdt"
	"github.com/rtproject/rt/libcontainer/namespaces"
	"github.com/rtproject/rt/libcontainer/netdev"
	"github.com/rtproject/rt/libcontainer/rootfs"
	"github.com/rtproject/rt/libcontainer/seccomp"
	"github.com/rtproject/rt/libcontainer/system"
)

// Options says what the spec is validated for.
type Options struct {
	// Create: the spec starts a container, so process (with non-empty args) is required.
	Create bool
	// Exec: the spec belongs to a container that already runs. Process is required as for Create, but root.path is
	// not looked at: the rootfs is mounted already and the bundle may have been removed since.
	Exec bool
	// Rootless: rt runs without root on the host, so the container needs a user namespace of its own.
	Rootless bool
	// Systemd: cgroups are managed through systemd, so linux.cgroupsPath has the form "slice:prefix:name".
	Systemd bool
}

// Validate checks everything about s that can be checked without touching the system. What is about the document
// itself (its version, which top-level objects a create needs) is checked here; every field is checked by the
// validator of the package that applies it, the same one that runs again when the field is applied. bundle is the
// directory root.path is relative to. Every error names the JSON field it is about.
func Validate(s *specs.Spec, bundle string, o Options) error {
	if s == nil {
		return errors.New("config.json: empty")
	}
	if err := validateVersion(s.Version); err != nil {
		return err
	}
	if !o.Exec {
		if err := rootfs.ValidateRoot(s.Root, bundle); err != nil {
			return err
		}
	}
	if s.Process == nil {
		if o.Create || o.Exec {
			return errors.New("process: missing")
		}
	} else if err := ValidateProcess(s.Process); err != nil {
		return err
	}
	var l specs.Linux
	if s.Linux != nil {
		l = *s.Linux
	}
	checks := []func() error{
		func() error { return namespaces.Validate(s, o.Rootless) },
		func() error { return rootfs.Validate(s) },
		func() error { return hooks.Validate(s.Hooks) },
		func() error { return system.ValidateLinux(s.Linux) },
		func() error { return seccomp.Validate(l.Seccomp) },
		func() error { return cgroups.ValidatePath(l.CgroupsPath, o.Systemd) },
		func() error { return cgroups.ValidateResources(l.Resources) },
		func() error { return netdev.Validate(s) },
		func() error { return intelrdt.Validate(l.IntelRdt) },
	}
	for _, check := range checks {
		if err := check(); err != nil {
			return err
		}
	}
	return nil
}

// ValidateProcess checks a process, of config.json or on its own as `rt exec --process` reads it from
// process.json, with the validators of the packages that apply its fields.
func ValidateProcess(p *specs.Process) error {
	if err := initproc.ValidateProcess(p); err != nil {
		return err
	}
	// process.capabilities has no validator: a name that is unknown, or a
	// capability the host cannot grant, is the init's to leave out with a
	// warning (runtime-spec: SHOULD NOT fail), as runc does.
	return system.ValidateProcess(p)
}

// semverMajor returns the major part of v when v is a SemVer 2.0.0
// version: numeric parts without leading zeros, then optional dot-separated
// pre-release identifiers (numeric ones without leading zeros) and build
// metadata. By hand rather than by regexp: compiling the grammar cost every
// create and exec 0.2 ms.
func semverMajor(v string) (string, bool) {
	core, build, hasBuild := strings.Cut(v, "+")
	core, pre, hasPre := strings.Cut(core, "-")
	parts := strings.Split(core, ".")
	if len(parts) != 3 {
		return "", false
	}
	for _, p := range parts {
		if !isNumericIdentifier(p) {
			return "", false
		}
	}
	if hasPre && !allIdentifiers(pre, func(id string) bool {
		return isNumericIdentifier(id) || !isDigits(id) && isAlphanumeric(id)
	}) {
		return "", false
	}
	if hasBuild && !allIdentifiers(build, isAlphanumeric) {
		return "", false
	}
	return parts[0], true
}

// allIdentifiers reports whether the dot-separated list s is non-empty and
// each identifier satisfies ok.
func allIdentifiers(s string, ok func(string) bool) bool {
	for id := range strings.SplitSeq(s, ".") {
		if !ok(id) {
			return false
		}
	}
	return true
}

// isNumericIdentifier: digits without a leading zero, or "0".
func isNumericIdentifier(s string) bool {
	return isDigits(s) && (s == "0" || s[0] != '0')
}

func isDigits(s string) bool {
	if s == "" {
		return false
	}
	for _, c := range []byte(s) {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

// isAlphanumeric: SemVer's [0-9A-Za-z-]+.
func isAlphanumeric(s string) bool {
	if s == "" {
		return false
	}
	for _, c := range []byte(s) {
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c == '-') {
			return false
		}
	}
	return true
}

func validateVersion(v string) error {
	if v == "" {
		return errors.New("ociVersion: missing")
	}
	m, ok := semverMajor(v)
	if !ok {
		return fmt.Errorf("ociVersion: %q is not a semantic version", v)
	}
	// Versions within a major release are compatible with each other; another major version is not.
	if major, err := strconv.ParseUint(m, 10, 64); err != nil || major != specs.VersionMajor {
		return fmt.Errorf("ociVersion: %q is not a %d.x version", v, specs.VersionMajor)
	}
	return nil
}
