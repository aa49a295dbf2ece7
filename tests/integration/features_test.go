package integration

import (
	"encoding/json"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"github.com/opencontainers/runtime-spec/specs-go/features"
)

func TestFeatures(t *testing.T) {
	r := runRT(workDir+"/features-state", nil, "features")
	if r.Code != 0 {
		t.Fatalf("rt features: %s", r)
	}
	var f features.Features
	dec := json.NewDecoder(strings.NewReader(r.Stdout))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&f); err != nil {
		t.Fatalf("rt features output does not parse as features.Features: %v\n%s", err, r.Stdout)
	}
	if f.OCIVersionMin != "1.0.0" || f.OCIVersionMax != specs.Version {
		t.Errorf("OCI versions %q..%q, want 1.0.0..%s", f.OCIVersionMin, f.OCIVersionMax, specs.Version)
	}
	if !slices.Equal(f.Hooks, []string{"prestart", "createRuntime", "createContainer", "startContainer", "poststart", "poststop"}) {
		t.Errorf("hooks %q", f.Hooks)
	}
	for _, opt := range []string{"ro", "rw", "bind", "rbind", "nosuid", "nodev", "noexec", "rprivate", "rslave", "rro", "rnoexec", "idmap", "ridmap", "tmpcopyup", "nosymfollow"} {
		if !slices.Contains(f.MountOptions, opt) {
			t.Errorf("mountOptions lacks %s", opt)
		}
	}
	for _, opt := range []string{"size", "mode=755", "uid"} {
		if slices.Contains(f.MountOptions, opt) {
			t.Errorf("mountOptions lists filesystem data option %s", opt)
		}
	}

	l := f.Linux
	if l == nil {
		t.Fatalf("no linux section: %s", r.Stdout)
	}
	ns := slices.Sorted(slices.Values(l.Namespaces))
	if !slices.Equal(ns, []string{"cgroup", "ipc", "mount", "network", "pid", "time", "user", "uts"}) {
		t.Errorf("namespaces %q, want all eight", l.Namespaces)
	}
	// Every capability this kernel has must be recognised.
	data, err := os.ReadFile("/proc/sys/kernel/cap_last_cap")
	if err != nil {
		t.Fatal(err)
	}
	last, _ := strconv.Atoi(strings.TrimSpace(string(data)))
	if len(l.Capabilities) < last+1 || !slices.Contains(l.Capabilities, "CAP_SYS_ADMIN") || !slices.Contains(l.Capabilities, "CAP_BPF") {
		t.Errorf("capabilities %q: the kernel has %d", l.Capabilities, last+1)
	}

	type flag struct {
		name string
		got  *bool
		want bool
	}
	var flags []flag
	if c := l.Cgroup; c != nil {
		flags = append(flags, flag{"cgroup.v1", c.V1, true}, flag{"cgroup.v2", c.V2, true}, flag{"cgroup.systemd", c.Systemd, true},
			flag{"cgroup.systemdUser", c.SystemdUser, false}, flag{"cgroup.rdma", c.Rdma, true})
	} else {
		t.Error("no linux.cgroup")
	}
	if l.Apparmor != nil && l.Selinux != nil && l.IntelRdt != nil && l.MountExtensions != nil && l.MountExtensions.IDMap != nil {
		flags = append(flags, flag{"apparmor", l.Apparmor.Enabled, true}, flag{"selinux", l.Selinux.Enabled, true},
			flag{"intelRdt", l.IntelRdt.Enabled, false}, flag{"mountExtensions.idmap", l.MountExtensions.IDMap.Enabled, true})
	} else {
		t.Errorf("linux section incomplete: %s", r.Stdout)
	}
	for _, fl := range flags {
		if fl.got == nil || *fl.got != fl.want {
			t.Errorf("%s: got %v, want %v", fl.name, fl.got, fl.want)
		}
	}

	sc := l.Seccomp
	if sc == nil || sc.Enabled == nil || !*sc.Enabled {
		t.Fatalf("seccomp not enabled: %s", r.Stdout)
	}
	for _, a := range []string{"SCMP_ACT_ALLOW", "SCMP_ACT_ERRNO", "SCMP_ACT_KILL", "SCMP_ACT_KILL_PROCESS", "SCMP_ACT_NOTIFY", "SCMP_ACT_LOG", "SCMP_ACT_TRACE", "SCMP_ACT_TRAP"} {
		if !slices.Contains(sc.Actions, a) {
			t.Errorf("seccomp actions lack %s", a)
		}
	}
	if len(sc.Operators) != 7 {
		t.Errorf("seccomp operators %q, want all seven", sc.Operators)
	}
	for _, a := range []string{"SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32"} {
		if !slices.Contains(sc.Archs, a) {
			t.Errorf("seccomp archs lack %s", a)
		}
	}
	// TestSeccompFlags loads filters with these on this kernel.
	for _, fl := range []string{"SECCOMP_FILTER_FLAG_LOG", "SECCOMP_FILTER_FLAG_SPEC_ALLOW"} {
		if !slices.Contains(sc.KnownFlags, fl) || !slices.Contains(sc.SupportedFlags, fl) {
			t.Errorf("seccomp flag %s: known %q, supported %q", fl, sc.KnownFlags, sc.SupportedFlags)
		}
	}
	if v := f.Annotations["io.github.seccomp.libseccomp.version"]; v == "" {
		t.Errorf("annotations %v lack the libseccomp version", f.Annotations)
	}
	if v := f.Annotations["com.github.rtproject.rt.version"]; v == "" {
		t.Errorf("annotations %v lack rt's version", f.Annotations)
	}

	if r := runRT(workDir+"/features-state", nil, "features", "extra"); r.Code == 0 {
		t.Errorf("rt features with an argument succeeded: %s", r)
	}
}
