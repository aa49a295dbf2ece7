package namespaces

import (
	"slices"
	"strings"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/rtproject/rt/libcontainer/internal/kernel/kerneltest"
)

func spec(ns ...specs.LinuxNamespaceType) *specs.Spec {
	s := &specs.Spec{Process: &specs.Process{}, Linux: &specs.Linux{}}
	for _, t := range ns {
		s.Linux.Namespaces = append(s.Linux.Namespaces, specs.LinuxNamespace{Type: t})
	}
	return s
}

func TestValidate(t *testing.T) {
	all := []specs.LinuxNamespaceType{specs.PIDNamespace, specs.NetworkNamespace, specs.IPCNamespace, specs.UTSNamespace, specs.MountNamespace}
	mapped := func(s *specs.Spec) {
		s.Linux.Namespaces = append(s.Linux.Namespaces, specs.LinuxNamespace{Type: specs.UserNamespace})
		s.Linux.UIDMappings = []specs.LinuxIDMapping{{HostID: 100000, Size: 1000}}
		s.Linux.GIDMappings = []specs.LinuxIDMapping{{HostID: 100000, Size: 1000}}
	}
	for _, tt := range []struct {
		name     string
		ns       []specs.LinuxNamespaceType
		mutate   func(*specs.Spec)
		rootless bool
		want     string
	}{
		{"none", nil, func(*specs.Spec) {}, false, ""},
		{"all", all, func(*specs.Spec) {}, false, ""},
		{"joined by path", nil, func(s *specs.Spec) {
			s.Linux.Namespaces = []specs.LinuxNamespace{{Type: specs.NetworkNamespace, Path: "/run/netns/x"}}
		}, false, ""},
		{"relative path", nil, func(s *specs.Spec) {
			s.Linux.Namespaces = []specs.LinuxNamespace{{Type: specs.NetworkNamespace, Path: "netns/x"}}
		}, false, `linux.namespaces[0].path: "netns/x" is not absolute`},
		{"unknown", all, func(s *specs.Spec) { s.Linux.Namespaces[1].Type = "foo" }, false, `linux.namespaces[1].type: unknown namespace "foo"`},
		{"duplicate", all, func(s *specs.Spec) { s.Linux.Namespaces[4].Type = specs.PIDNamespace }, false,
			`linux.namespaces[4].type: namespace "pid" already listed at linux.namespaces[0]`},
		{"hostname without uts", nil, func(s *specs.Spec) { s.Hostname = "h" }, false, "hostname: requires a uts namespace"},
		{"rootless without userns", all, func(*specs.Spec) {}, true, "linux.namespaces: a rootless container requires a user namespace: rt runs without root, " +
			"and only a user namespace of its own lets the container mount and own files (`rt spec --rootless` writes one)"},
		{"rootless with userns", all, mapped, true, ""},
		{"user not mapped", all, func(s *specs.Spec) { mapped(s); s.Process.User.GID = 1000 }, false,
			"process.user.gid: 1000 is not mapped by linux.gidMappings"},
		{"time offsets", []specs.LinuxNamespaceType{specs.TimeNamespace}, func(s *specs.Spec) {
			s.Linux.TimeOffsets = map[string]specs.LinuxTimeOffset{"monotonic": {Secs: 1}}
		}, false, ""},
		{"sysctl net", all, func(s *specs.Spec) { s.Linux.Sysctl = map[string]string{"net.ipv4.ip_forward": "1"} }, false, ""},
		{"sysctl without its namespace", nil, func(s *specs.Spec) { s.Linux.Sysctl = map[string]string{"kernel.sem": "1"} }, false,
			`linux.sysctl["kernel.sem"]: requires an ipc namespace`},
		// The runtime's own network namespace, joined: its sysctls are the host's.
		{"sysctl net in the host's network namespace", all, func(s *specs.Spec) {
			s.Linux.Namespaces[1].Path = "/proc/self/ns/net"
			s.Linux.Sysctl = map[string]string{"net.ipv4.ip_forward": "1", "kernel.sem": "1"}
		}, false, `linux.sysctl["net.ipv4.ip_forward"]: sysctl "net.ipv4.ip_forward" not allowed in host network namespace`},
		{"sysctl net in another network namespace", all, func(s *specs.Spec) {
			s.Linux.Namespaces[1].Path = "/proc/self/ns/ipc" // not the runtime's network namespace
			s.Linux.Sysctl = map[string]string{"net.ipv4.ip_forward": "1"}
		}, false, ""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			s := spec(tt.ns...)
			tt.mutate(s)
			err := Validate(s, tt.rootless)
			if got := errString(err); got != tt.want {
				t.Errorf("Validate = %q, want %q", got, tt.want)
			}
		})
	}
}

func errString(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

// TestSysctlPath: the validator and WriteSysctls read a name the same way.
func TestSysctlPath(t *testing.T) {
	for key, want := range map[string]string{
		"net.ipv4.ip_forward":             "net/ipv4/ip_forward",
		"net/ipv4/conf/eth0.1/forwarding": "net/ipv4/conf/eth0.1/forwarding",
		// In a dotted name a slash stands for a dot, as with sysctl(8).
		"net.ipv4.conf.eth0/1.forwarding": "net/ipv4/conf/eth0.1/forwarding",
		"kernel.shmmax":                   "kernel/shmmax",
	} {
		if got := strings.Join(sysctlPath(key), "/"); got != want {
			t.Errorf("sysctlPath(%q) = %s, want %s", key, got, want)
		}
	}
	// Parts that would leave their directory level are refused.
	for _, key := range []string{"net.//.x", "net/../x", "net/./x", "net..x"} {
		if parts := sysctlPath(key); !slices.ContainsFunc(parts, badSysctlPart) {
			t.Errorf("%q: %q, no part refused", key, parts)
		}
	}
}

func TestHelpers(t *testing.T) {
	s := &specs.Spec{Linux: &specs.Linux{Namespaces: []specs.LinuxNamespace{
		{Type: specs.PIDNamespace}, {Type: specs.NetworkNamespace, Path: "/run/netns/a"},
	}}}
	if !Has(s, specs.NetworkNamespace) || IsNew(s, specs.NetworkNamespace) || !IsNew(s, specs.PIDNamespace) || Has(s, specs.UserNamespace) {
		t.Error("Has/IsNew disagree with the spec")
	}
	if Has(nil, specs.PIDNamespace) || Has(&specs.Spec{}, specs.PIDNamespace) {
		t.Error("a spec without linux has namespaces")
	}
	if ProcPath(42, specs.MountNamespace) != "/proc/42/ns/mnt" || CloneFlag(specs.UserNamespace) == 0 || FlagName(CloneFlag(specs.UTSNamespace)) != "uts" {
		t.Error("names and flags wrong")
	}
	for _, typ := range Types {
		if CloneFlag(typ) == 0 || procNames[typ] == "" {
			t.Errorf("%s lacks a flag or a /proc name", typ)
		}
	}
}

func TestApply(t *testing.T) {
	full := func(s *specs.Spec) *specs.Spec {
		s.Hostname, s.Domainname = "box", "example.org"
		s.Linux.Sysctl = map[string]string{"net.ipv4.ip_forward": "1", "net/ipv4/conf/eth0.1/forwarding": "0", "kernel.shmmax": "4096"}
		s.Linux.TimeOffsets = map[string]specs.LinuxTimeOffset{"monotonic": {Secs: 5}, "boottime": {Secs: -1, Nanosecs: 5}}
		return s
	}
	all := []specs.LinuxNamespaceType{specs.NetworkNamespace, specs.IPCNamespace, specs.UTSNamespace, specs.TimeNamespace}
	rec := kerneltest.New(t, "")
	s := full(spec(all...))
	for _, apply := range []func(*specs.Spec) error{UnshareTime, SetHostname, WriteSysctls} {
		if err := apply(s); err != nil {
			t.Fatal(err)
		}
	}
	want := []string{
		"unshare CLONE_NEWTIME",
		`write /proc/self/timens_offsets "boottime -1 5\nmonotonic 5 0\n"`,
		"sethostname box",
		"setdomainname example.org",
		`write /proc/sys/kernel/shmmax "4096"`,
		`write /proc/sys/net/ipv4/ip_forward "1"`,
		`write /proc/sys/net/ipv4/conf/eth0.1/forwarding "0"`,
	}
	if !slices.Equal(rec.Calls, want) {
		t.Errorf("calls:\n  %s\nwant:\n  %s", strings.Join(rec.Calls, "\n  "), strings.Join(want, "\n  "))
	}

	// In the init the same rules run again: nothing is applied that they refuse.
	rec = kerneltest.New(t, "")
	s = full(spec(specs.UTSNamespace))
	for _, apply := range []func(*specs.Spec) error{UnshareTime, WriteSysctls} {
		if err := apply(s); err == nil {
			t.Error("applied without the namespaces")
		}
	}
	if len(rec.Calls) != 0 {
		t.Errorf("calls %q", rec.Calls)
	}
	// A time namespace joined by path is not unshared.
	rec = kerneltest.New(t, "")
	s = spec()
	s.Linux.Namespaces = []specs.LinuxNamespace{{Type: specs.TimeNamespace, Path: "/proc/1/ns/time"}}
	if err := UnshareTime(s); err != nil || len(rec.Calls) != 0 {
		t.Errorf("joined time namespace: %v, %q", err, rec.Calls)
	}
}
