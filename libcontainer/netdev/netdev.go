// Package netdev owns linux.netDevices: network interfaces of the runtime's
// network namespace that move into the container's, optionally renamed, as
// runc 1.5 moves them.
//
// Once moved, an interface belongs to the container's network namespace:
// the runtime-spec forbids moving it back. When that namespace goes (the
// container's own, at delete), the kernel returns physical interfaces to the
// initial namespace and destroys virtual ones (veth, macvlan…); in a
// namespace joined by path it stays there.
package netdev

import (
	"errors"
	"fmt"
	"os"
	"strings"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"

	"github.com/rtproject/rt/internal/field"
	"github.com/rtproject/rt/libcontainer/namespaces"
)

// Validate checks linux.netDevices of s.
func Validate(s *specs.Spec) error {
	if s.Linux == nil || len(s.Linux.NetDevices) == 0 {
		return nil
	}
	devices := s.Linux.NetDevices
	if !namespaces.Has(s, specs.NetworkNamespace) {
		return errors.New("linux.netDevices: requires a network namespace")
	}
	for _, host := range field.SortedKeys(devices) {
		f := field.Key("linux.netDevices", host)
		if !validInterfaceName(host) {
			return fmt.Errorf("%s: %q is not a valid interface name", f, host)
		}
		if name := devices[host].Name; name != "" && !validInterfaceName(name) {
			return fmt.Errorf("%s.name: %q is not a valid interface name", f, name)
		}
	}
	return nil
}

// validInterfaceName follows the kernel's dev_valid_name: shorter than
// IFNAMSIZ (16), not "." or "..", and without "/", ":" or whitespace.
func validInterfaceName(name string) bool {
	return name != "" && len(name) < 16 && name != "." && name != ".." && !strings.ContainsAny(name, "/: \t\n\v\f\r")
}

// Move moves each interface of linux.netDevices from the caller's network
// namespace into the network namespace at netnsPath (the container init's,
// /proc/<pid>/ns/net): down first, so the host sees no renamed interface
// carrying traffic; moved and renamed in one request; then its permanent
// global addresses put back (the kernel drops them on the way) and up. It
// returns one line per interface for the start-up trace.
//
// Interfaces moved before a failure stay in the container's namespace, to
// go with it (runtime-spec: the kernel, not the runtime, takes them back).
func Move(s *specs.Spec, netnsPath string) ([]string, error) {
	if s.Linux == nil || len(s.Linux.NetDevices) == 0 {
		return nil, nil
	}
	netns, err := os.Open(netnsPath)
	if err != nil {
		return nil, fmt.Errorf("linux.netDevices: open the container's network namespace: %w", err)
	}
	defer netns.Close()
	host, err := openRtnl()
	if err != nil {
		return nil, fmt.Errorf("linux.netDevices: %w", err)
	}
	defer host.Close()
	ctr, err := openRtnlIn(netns)
	if err != nil {
		return nil, fmt.Errorf("linux.netDevices: %w", err)
	}
	defer ctr.Close()

	var done []string
	for _, name := range field.SortedKeys(s.Linux.NetDevices) {
		newName := s.Linux.NetDevices[name].Name
		if newName == "" {
			newName = name
		}
		line, err := move(host, ctr, netns, name, newName)
		if err != nil {
			return done, fmt.Errorf("%s: %w", field.Key("linux.netDevices", name), err)
		}
		done = append(done, line)
	}
	return done, nil
}

func move(host, ctr *rtnl, netns *os.File, name, newName string) (string, error) {
	l, err := host.linkBy(0, name)
	if err != nil {
		return "", fmt.Errorf("no interface %s in the runtime's network namespace: %w", name, err)
	}
	// The kernel would move the interface and only then fail to rename it,
	// leaving it in the container under its old name: check first.
	if !strings.Contains(newName, "%") {
		if _, err := ctr.linkBy(0, newName); err == nil {
			return "", fmt.Errorf("the container's network namespace already has an interface %s (end the name with %%d for the kernel to number it)", newName)
		} else if !errors.Is(err, unix.ENODEV) {
			return "", fmt.Errorf("look for %s in the container's network namespace: %w", newName, err)
		}
	}
	addrs, err := host.permanentGlobalAddrs(l.index)
	if err != nil {
		return "", fmt.Errorf("list the addresses of %s: %w", name, err)
	}
	if err := host.setUp(l.index, false); err != nil {
		return "", fmt.Errorf("set %s down: %w", name, err)
	}
	if err := host.moveTo(l.index, newName, netns); err != nil {
		return "", fmt.Errorf("move %s into the container as %s: %w", name, newName, err)
	}
	// The interface keeps its index unless the container's namespace has
	// that one taken; a name template ("eth%d") is only known by index.
	moved, err := ctr.linkBy(l.index, "")
	if err != nil || !sameName(moved.name, newName) {
		if strings.Contains(newName, "%") {
			return "", fmt.Errorf("find %s in the container's network namespace: its index changed and %q is a template", name, newName)
		}
		if moved, err = ctr.linkBy(0, newName); err != nil {
			return "", fmt.Errorf("find %s in the container's network namespace as %s: %w", name, newName, err)
		}
	}
	var kept []string
	for _, a := range addrs {
		if err := ctr.addAddr(moved.index, a); err != nil {
			return "", fmt.Errorf("put address %s back on %s: %w", a, moved.name, err)
		}
		kept = append(kept, a.String())
	}
	if err := ctr.setUp(moved.index, true); err != nil {
		return "", fmt.Errorf("set %s up: %w", moved.name, err)
	}
	return fmt.Sprintf("%s moved in as %s, up, addresses %v", name, moved.name, kept), nil
}

// sameName reports whether got is want, or what the kernel made of the
// template want ("eth%d" → "eth3").
func sameName(got, want string) bool {
	prefix, suffix, isTemplate := strings.Cut(want, "%d")
	if !isTemplate {
		return got == want
	}
	digits := strings.TrimSuffix(strings.TrimPrefix(got, prefix), suffix)
	if len(digits) == 0 || len(got) != len(prefix)+len(digits)+len(suffix) {
		return false
	}
	return strings.Trim(digits, "0123456789") == ""
}
