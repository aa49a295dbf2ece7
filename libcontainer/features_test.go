package libcontainer

import (
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"github.com/opencontainers/runtime-spec/specs-go/features"

	"github.com/rtproject/rt/libcontainer/seccomp"
	"github.com/rtproject/rt/specconv"
)

// exampleBundle returns rt's default spec and a bundle dir for it.
func exampleBundle(t *testing.T) (*specs.Spec, string) {
	t.Helper()
	dir := t.TempDir()
	if err := os.Mkdir(filepath.Join(dir, "rootfs"), 0o755); err != nil {
		t.Fatal(err)
	}
	return specconv.Example(false), dir
}

func TestFeaturesJSON(t *testing.T) {
	data, err := json.Marshal(Features())
	if err != nil {
		t.Fatal(err)
	}
	var f features.Features
	if err := json.Unmarshal(data, &f); err != nil {
		t.Fatalf("features JSON does not parse: %v", err)
	}
	if f.OCIVersionMin != "1.0.0" || f.OCIVersionMax != specs.Version {
		t.Errorf("oci versions %q..%q", f.OCIVersionMin, f.OCIVersionMax)
	}
	l := f.Linux
	if l == nil || l.Cgroup == nil || l.Seccomp == nil || l.Apparmor == nil || l.Selinux == nil ||
		l.IntelRdt == nil || l.MountExtensions == nil || l.MountExtensions.IDMap == nil {
		t.Fatalf("linux section incomplete: %s", data)
	}
	for name, got := range map[string]*bool{
		"cgroup.v1": l.Cgroup.V1, "cgroup.v2": l.Cgroup.V2, "cgroup.systemd": l.Cgroup.Systemd,
		"cgroup.rdma": l.Cgroup.Rdma, "seccomp.enabled": l.Seccomp.Enabled, "apparmor.enabled": l.Apparmor.Enabled,
		"selinux.enabled": l.Selinux.Enabled, "mountExtensions.idmap.enabled": l.MountExtensions.IDMap.Enabled,
	} {
		if got == nil || !*got {
			t.Errorf("%s: want true", name)
		}
	}
	for name, got := range map[string]*bool{"cgroup.systemdUser": l.Cgroup.SystemdUser, "intelRdt.enabled": l.IntelRdt.Enabled} {
		if got == nil || *got {
			t.Errorf("%s: want false", name)
		}
	}
	if v := f.Annotations["io.github.seccomp.libseccomp.version"]; strings.Count(v, ".") != 2 {
		t.Errorf("libseccomp version annotation %q", v)
	}
}

// TestFeaturesAccepted checks the reported names against what the bundle
// validation accepts: every version, namespace and hook rt reports must pass
// it, and an unknown one must not.
func TestFeaturesAccepted(t *testing.T) {
	f := Features()
	validate := func(mutate func(*specs.Spec)) error {
		s, dir := exampleBundle(t)
		mutate(s)
		return specconv.Validate(s, dir, specconv.Options{Create: true})
	}
	for _, v := range []string{f.OCIVersionMin, f.OCIVersionMax} {
		if err := validate(func(s *specs.Spec) { s.Version = v }); err != nil {
			t.Errorf("ociVersion %s: %v", v, err)
		}
	}
	if len(f.Linux.Namespaces) != 8 {
		t.Errorf("namespaces %q, want all eight", f.Linux.Namespaces)
	}
	for _, ns := range append(slices.Clone(f.Linux.Namespaces), "nonsense") {
		err := validate(func(s *specs.Spec) {
			s.Linux.Namespaces = []specs.LinuxNamespace{{Type: specs.MountNamespace}, {Type: specs.UserNamespace}}
			if ns != string(specs.MountNamespace) && ns != string(specs.UserNamespace) {
				s.Linux.Namespaces = append(s.Linux.Namespaces, specs.LinuxNamespace{Type: specs.LinuxNamespaceType(ns)})
			}
			s.Linux.UIDMappings = []specs.LinuxIDMapping{{HostID: 1000, Size: 65536}}
			s.Linux.GIDMappings = []specs.LinuxIDMapping{{HostID: 1000, Size: 65536}}
			// The example's mounts and paths need namespaces this spec may lack.
			s.Mounts, s.Linux.MaskedPaths, s.Linux.ReadonlyPaths, s.Hostname = nil, nil, nil, ""
		})
		if (err == nil) != (ns != "nonsense") {
			t.Errorf("namespace %s: validation says %v", ns, err)
		}
	}
	if !slices.Equal(f.Hooks, []string{"prestart", "createRuntime", "createContainer", "startContainer", "poststart", "poststop"}) {
		t.Errorf("hooks %q", f.Hooks)
	}
	for _, h := range f.Hooks {
		// A relative hook path is invalid: the error must come from the list named h.
		err := validate(func(s *specs.Spec) {
			hooks := []specs.Hook{{Path: "relative"}}
			s.Hooks = &specs.Hooks{}
			switch h {
			case "prestart":
				s.Hooks.Prestart = hooks //nolint:staticcheck // deprecated but supported
			case "createRuntime":
				s.Hooks.CreateRuntime = hooks
			case "createContainer":
				s.Hooks.CreateContainer = hooks
			case "startContainer":
				s.Hooks.StartContainer = hooks
			case "poststart":
				s.Hooks.Poststart = hooks
			case "poststop":
				s.Hooks.Poststop = hooks
			}
		})
		if err == nil || !strings.Contains(err.Error(), "hooks."+h) {
			t.Errorf("hook %s not checked: %v", h, err)
		}
	}
	if !slices.Contains(f.Linux.Capabilities, "CAP_SYS_ADMIN") || !slices.Contains(f.Linux.Capabilities, "CAP_CHECKPOINT_RESTORE") {
		t.Errorf("capabilities %q", f.Linux.Capabilities)
	}
	for _, opt := range []string{"ro", "rbind", "rro", "idmap", "rprivate"} {
		if !slices.Contains(f.MountOptions, opt) {
			t.Errorf("mountOptions lacks %s", opt)
		}
	}
}

// TestFeaturesSeccomp checks that every action, operator, architecture and
// flag rt reports passes seccomp.Validate.
func TestFeaturesSeccomp(t *testing.T) {
	sc := Features().Linux.Seccomp
	for _, want := range []string{string(specs.ActNotify), string(specs.ActKillProcess), string(specs.ActErrno)} {
		if !slices.Contains(sc.Actions, want) {
			t.Errorf("seccomp actions lack %s", want)
		}
	}
	for _, a := range sc.Actions {
		if a == string(specs.ActNotify) {
			continue // needs a listenerPath; covered below
		}
		if err := seccomp.Validate(&specs.LinuxSeccomp{DefaultAction: specs.LinuxSeccompAction(a)}); err != nil {
			t.Errorf("action %s: %v", a, err)
		}
	}
	notify := &specs.LinuxSeccomp{DefaultAction: specs.ActAllow, ListenerPath: "/run/agent.sock",
		Syscalls: []specs.LinuxSyscall{{Names: []string{"mkdir"}, Action: specs.ActNotify}}}
	if err := seccomp.Validate(notify); err != nil {
		t.Errorf("action %s: %v", specs.ActNotify, err)
	}
	for _, op := range sc.Operators {
		p := &specs.LinuxSeccomp{DefaultAction: specs.ActAllow, Syscalls: []specs.LinuxSyscall{{Names: []string{"personality"},
			Action: specs.ActErrno, Args: []specs.LinuxSeccompArg{{Op: specs.LinuxSeccompOperator(op)}}}}}
		if err := seccomp.Validate(p); err != nil {
			t.Errorf("operator %s: %v", op, err)
		}
	}
	if !slices.Contains(sc.Archs, string(specs.ArchX86_64)) {
		t.Errorf("archs %q lack %s", sc.Archs, specs.ArchX86_64)
	}
	for _, a := range sc.Archs {
		if err := seccomp.Validate(&specs.LinuxSeccomp{DefaultAction: specs.ActAllow, Architectures: []specs.Arch{specs.Arch(a)}}); err != nil {
			t.Errorf("arch %s: %v", a, err)
		}
	}
	for _, fl := range sc.SupportedFlags {
		if !slices.Contains(sc.KnownFlags, fl) {
			t.Errorf("supported flag %s is not among the known flags %q", fl, sc.KnownFlags)
		}
	}
	for _, fl := range sc.KnownFlags {
		if err := seccomp.Validate(&specs.LinuxSeccomp{DefaultAction: specs.ActAllow, Flags: []specs.LinuxSeccompFlag{specs.LinuxSeccompFlag(fl)}}); err != nil {
			t.Errorf("flag %s: %v", fl, err)
		}
	}
}
