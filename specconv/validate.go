package specconv

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"sync"

	specs "github.com/opencontainers/runtime-spec/specs-go"
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

// Validate checks everything about s that can be checked without touching the system, apart from the seccomp
// profile and mount options, which their own packages check. bundle is the directory root.path is relative to.
// Every error names the JSON field it is about.
func Validate(s *specs.Spec, bundle string, o Options) error {
	if s == nil {
		return errors.New("config.json: empty")
	}
	if err := validateVersion(s.Version); err != nil {
		return err
	}
	if !o.Exec {
		if err := validateRoot(s.Root, bundle); err != nil {
			return err
		}
	}
	if s.Process == nil {
		if o.Create || o.Exec {
			return errors.New("process: missing")
		}
	} else if err := ValidateProcess(s.Process, "process"); err != nil {
		return err
	}
	if err := validateNamespaces(s.Linux); err != nil {
		return err
	}
	ns := namespacesOf(s.Linux)
	if err := validateUTS(s, ns); err != nil {
		return err
	}
	if err := validateMounts(s.Mounts, ns); err != nil {
		return err
	}
	if err := validateHooks(s.Hooks); err != nil {
		return err
	}
	return validateLinux(s, ns, o)
}

// semverPattern is the grammar of SemVer 2.0.0: numeric parts without leading zeros, then optional dot-separated
// pre-release identifiers (numeric ones without leading zeros) and build metadata.
// Compiled on first use: rt init runs this binary too, and start-up time counts.
var semverPattern = sync.OnceValue(func() *regexp.Regexp {
	const (
		num   = `(0|[1-9][0-9]*)`
		pre   = `(0|[1-9][0-9]*|[0-9]*[A-Za-z-][0-9A-Za-z-]*)`
		build = `[0-9A-Za-z-]+`
	)
	return regexp.MustCompile(`^` + num + `\.` + num + `\.` + num +
		`(-` + pre + `(\.` + pre + `)*)?` + `(\+` + build + `(\.` + build + `)*)?$`)
})

func validateVersion(v string) error {
	if v == "" {
		return errors.New("ociVersion: missing")
	}
	m := semverPattern().FindStringSubmatch(v)
	if m == nil {
		return fmt.Errorf("ociVersion: %q is not a semantic version", v)
	}
	// Versions within a major release are compatible with each other; another major version is not.
	if major, err := strconv.ParseUint(m[1], 10, 64); err != nil || major != specs.VersionMajor {
		return fmt.Errorf("ociVersion: %q is not a %d.x version", v, specs.VersionMajor)
	}
	return nil
}

func validateRoot(root *specs.Root, bundle string) error {
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

func validateUTS(s *specs.Spec, ns namespaces) error {
	// Setting them without a UTS namespace would rename the host.
	if s.Hostname != "" && !ns.has(specs.UTSNamespace) {
		return errors.New("hostname: requires a uts namespace")
	}
	if s.Domainname != "" && !ns.has(specs.UTSNamespace) {
		return errors.New("domainname: requires a uts namespace")
	}
	return nil
}

// validateMounts checks what the mount entries need in any case; options, types and sources are
// rootfs.ValidateMounts' job.
func validateMounts(mounts []specs.Mount, ns namespaces) error {
	for i, m := range mounts {
		field := indexed("mounts", i) + ".destination"
		// A relative destination is deprecated but allowed on Linux: it is relative to "/" of the container.
		if m.Destination == "" {
			return fmt.Errorf("%s: missing", field)
		}
		if err := checkNoNUL(field, m.Destination); err != nil {
			return err
		}
		if err := checkNoNUL(indexed("mounts", i)+".source", m.Source); err != nil {
			return err
		}
	}
	return nil
}
