package namespaces

import (
	"fmt"
	"path/filepath"
	"strings"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"

	"github.com/rtproject/rt/internal/field"
	"github.com/rtproject/rt/libcontainer/internal/kernel"
)

// The functions below run in the container's init, inside its namespaces,
// and check their fields again with the validators the runtime ran.

// UnshareTime creates the new time namespace of linux.namespaces and writes
// linux.timeOffsets into it. The caller enters it at its next execve, so it
// must run before anything else could be started in it.
func UnshareTime(s *specs.Spec) error {
	if err := validateTimeOffsets(s); err != nil {
		return err
	}
	if !IsNew(s, specs.TimeNamespace) {
		return nil
	}
	if err := kernel.Unshare(unix.CLONE_NEWTIME); err != nil {
		return fmt.Errorf("unshare time namespace: %w", err)
	}
	var b strings.Builder
	offsets := linux(s).TimeOffsets
	for _, clock := range field.SortedKeys(offsets) {
		fmt.Fprintf(&b, "%s %d %d\n", clock, offsets[clock].Secs, offsets[clock].Nanosecs)
	}
	if b.Len() == 0 {
		return nil
	}
	if err := kernel.WriteProc("self/timens_offsets", []byte(b.String())); err != nil {
		return fmt.Errorf("linux.timeOffsets: %w", err)
	}
	return nil
}

// SetHostname sets hostname and domainname in the container's uts namespace.
func SetHostname(s *specs.Spec) error {
	if err := validateUTS(s); err != nil {
		return err
	}
	if s.Hostname != "" {
		if err := kernel.Sethostname([]byte(s.Hostname)); err != nil {
			return fmt.Errorf("hostname: %w", err)
		}
	}
	if s.Domainname != "" {
		if err := kernel.Setdomainname([]byte(s.Domainname)); err != nil {
			return fmt.Errorf("domainname: %w", err)
		}
	}
	return nil
}

// WriteSysctls writes linux.sysctl below /proc/sys.
func WriteSysctls(s *specs.Spec) error {
	if err := validateSysctl(s); err != nil {
		return err
	}
	sysctl := linux(s).Sysctl
	for _, k := range field.SortedKeys(sysctl) {
		p := filepath.Join(append([]string{"sys"}, sysctlPath(k)...)...)
		if err := kernel.WriteProc(p, []byte(sysctl[k])); err != nil {
			return fmt.Errorf("%s: %w", field.Key("linux.sysctl", k), err)
		}
	}
	return nil
}
