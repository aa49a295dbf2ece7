package cgroups

import (
	"errors"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/cilium/ebpf"
	"github.com/opencontainers/runtime-spec/specs-go"
	"github.com/rtproject/rt/cgroups/fs2"
	"github.com/rtproject/rt/cgroups/internal/cgfs"
	"github.com/rtproject/rt/cgroups/internal/cgtest"
)

func TestMain(m *testing.M) { cgtest.Main(m) }

func TestHostModeIsStable(t *testing.T) {
	a, err := HostMode()
	if err != nil {
		t.Fatal(err)
	}
	b, _ := HostMode()
	if a != b || a.String() == "unknown" {
		t.Fatalf("HostMode = %v then %v", a, b)
	}
}

// TestLifecycle drives the manager this host gets through New, Load and
// Destroy with a relative path below the test's own cgroups.
func TestLifecycle(t *testing.T) {
	cgtest.NeedRoot(t)
	c := Config{Name: "ctr", Path: cgtest.Name(t) + "/ctr"}
	m, err := New(c)
	if err != nil {
		t.Fatal(err)
	}
	pid, stop := cgtest.StartBusy(t)
	if err := m.Apply(pid); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { stop(); m.Destroy() })
	h, _ := cgfs.Detect()
	paths := m.Paths()
	if h.Mode != Legacy {
		if _, ok := paths[""]; !ok {
			t.Errorf("paths %v lack the cgroup2 directory", paths)
		}
	}
	if err := m.Set(&specs.LinuxResources{
		Pids:    &specs.LinuxPids{Limit: ptr(int64(64))},
		Devices: append([]specs.LinuxDeviceCgroup{{Allow: false, Access: "rwm"}}, DefaultAllowedDevices()...),
	}); err != nil {
		t.Fatal(err)
	}

	loaded, err := Load(c, paths)
	if err != nil {
		t.Fatal(err)
	}
	pids, err := loaded.Pids()
	if err != nil || !slices.Contains(pids, pid) {
		t.Fatalf("loaded manager's Pids = %v, %v; want %d", pids, err, pid)
	}
	s, err := loaded.Stats()
	if err != nil {
		t.Fatal(err)
	}
	if s.Pids.Current == 0 || s.Pids.Limit != 64 {
		t.Errorf("pids stats = %+v, want current > 0 and limit 64", s.Pids)
	}
	// An occupied cgroup is not removed: Destroy kills nothing.
	if err := loaded.Destroy(); err == nil {
		t.Errorf("Destroy succeeded with a live process inside")
	}
	stop()
	if err := loaded.Destroy(); err != nil {
		t.Fatal(err)
	}
	for k, dir := range paths {
		if _, err := os.Stat(dir); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("%q: %s left behind", k, dir)
		}
	}
}

func TestRejectsEscapingPath(t *testing.T) {
	_, err := New(Config{Name: "x", Path: "../../etc"})
	if err == nil || !strings.HasPrefix(err.Error(), "linux.cgroupsPath") {
		t.Fatalf("error = %v", err)
	}
}

func TestDefaultAllowedDevices(t *testing.T) {
	rules := DefaultAllowedDevices()
	want := map[string]bool{"c 1:3 rwm": true, "c 1:5 rwm": true, "c 1:7 rwm": true, "c 1:8 rwm": true,
		"c 1:9 rwm": true, "c 5:0 rwm": true, "c 5:1 rwm": true, "c 5:2 rwm": true, "c 136:* rwm": true}
	for _, r := range rules {
		s, err := cgfs.DeviceRule(r)
		if err != nil || !r.Allow || !want[s] {
			t.Errorf("unexpected default rule %q (allow %v, %v)", s, r.Allow, err)
		}
		delete(want, s)
	}
	if len(want) != 0 {
		t.Errorf("missing default rules: %v", want)
	}
	// The list must compile into a device program the kernel accepts.
	insns, err := fs2.DeviceFilter(append([]specs.LinuxDeviceCgroup{{Access: "rwm"}}, rules...))
	if err != nil {
		t.Fatal(err)
	}
	if os.Geteuid() == 0 {
		p, err := ebpf.NewProgram(&ebpf.ProgramSpec{Type: ebpf.CGroupDevice, Instructions: insns, License: "Apache-2.0"})
		if err != nil {
			t.Skipf("kernel refuses device programs: %v", err)
		}
		p.Close()
	}
}

func ptr[T any](v T) *T { return &v }
