package namespaces

import (
	"slices"
	"strings"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
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
		{"rootless without userns", all, func(*specs.Spec) {}, true, "linux.namespaces: a rootless container requires a user namespace"},
		{"rootless with userns", all, mapped, true, ""},
		{"user not mapped", all, func(s *specs.Spec) { mapped(s); s.Process.User.GID = 1000 }, false,
			"process.user.gid: 1000 is not mapped by linux.gidMappings"},
		{"time offsets", []specs.LinuxNamespaceType{specs.TimeNamespace}, func(s *specs.Spec) {
			s.Linux.TimeOffsets = map[string]specs.LinuxTimeOffset{"monotonic": {Secs: 1}}
		}, false, ""},
		{"sysctl net", all, func(s *specs.Spec) { s.Linux.Sysctl = map[string]string{"net.ipv4.ip_forward": "1"} }, false, ""},
		{"sysctl without its namespace", nil, func(s *specs.Spec) { s.Linux.Sysctl = map[string]string{"kernel.sem": "1"} }, false,
			`linux.sysctl["kernel.sem"]: requires an ipc namespace`},
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
		"net.ipv4.conf.eth0/1.forwarding": "net/ipv4/conf/eth0/1/forwarding",
		"kernel.shmmax":                   "kernel/shmmax",
	} {
		if got := strings.Join(sysctlPath(key), "/"); got != want {
			t.Errorf("sysctlPath(%q) = %s, want %s", key, got, want)
		}
	}
	// "eth0/1" as one part would leave its directory level: refused.
	if parts := sysctlPath("net.ipv4.conf.eth0/1.forwarding"); !slices.ContainsFunc(parts, badSysctlPart) {
		t.Errorf("%q: no part refused", parts)
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
