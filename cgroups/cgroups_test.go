package cgroups

import (
	"encoding/json"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

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
	if len(insns) == 0 {
		t.Error("empty device program")
	}
}

// TestManagerPicksDriver: the one place that picks the driver, by the
// host's cgroup mode, for New and Load alike.
func TestManagerPicksDriver(t *testing.T) {
	v1 := map[string]cgfs.Mount{"memory": {Point: "/sys/fs/cgroup/memory", Root: "/"}}
	v2 := cgfs.Mount{Point: "/sys/fs/cgroup/unified", Root: "/"}
	both := map[string]string{"memory": "/sys/fs/cgroup/memory/c1", "": "/sys/fs/cgroup/unified/c1"}
	for _, tt := range []struct {
		name  string
		host  *cgfs.Host
		paths map[string]string
		want  string
	}{
		{"legacy", &cgfs.Host{Mode: Legacy, V1: v1}, map[string]string{"memory": "/sys/fs/cgroup/memory/c1"}, "*fs1.Manager"},
		{"unified", &cgfs.Host{Mode: Unified, V2: v2}, map[string]string{"": "/sys/fs/cgroup/unified/c1"}, "*fs2.Manager"},
		{"hybrid", &cgfs.Host{Mode: Hybrid, V1: v1, V2: v2}, both, "*hybrid.Manager"},
		// Whatever the recorded paths look like, the host decides.
		{"hybrid with only name=systemd in v1", &cgfs.Host{Mode: Hybrid, V1: map[string]cgfs.Mount{"name=systemd": {}}, V2: v2},
			map[string]string{"": "/sys/fs/cgroup/unified/c1"}, "*hybrid.Manager"},
		{"unified without a v2 directory", &cgfs.Host{Mode: Unified, V2: v2}, map[string]string{"memory": "/x"},
			"cgroups: container c1 has no cgroup v2 directory"},
		{"no hierarchy", &cgfs.Host{}, map[string]string{"": "/x"}, "cgroups: no cgroup hierarchy is mounted"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			m, err := manager(tt.host, Config{Name: "c1"}, tt.paths)
			got := fmt.Sprintf("%T", m)
			if err != nil {
				got = err.Error()
			}
			if got != tt.want {
				t.Errorf("manager = %s, want %s", got, tt.want)
			}
		})
	}
}

func TestHierarchyPath(t *testing.T) {
	for _, tt := range []struct {
		c    Config
		path string
	}{
		{Config{Name: "c1"}, "/c1"},
		{Config{Name: "c1", Path: "a/b/c1"}, "a/b/c1"},
		{Config{Name: "c1", Path: "/abs/c1"}, "/abs/c1"},
		{Config{Name: "c1", Systemd: true}, "/system.slice/rt-c1.scope"},
		{Config{Name: "c1", Systemd: true, Path: "machine-a.slice:p:n"}, "/machine.slice/machine-a.slice/p-n.scope"},
	} {
		path, err := tt.c.hierarchyPath()
		if err != nil || path != tt.path {
			t.Errorf("%+v: %q %v, want %q", tt.c, path, err, tt.path)
		}
	}
}

// TestLayoutRebuildsTheSameManager: Load from a recorded layout must build
// what Load from the detected host builds, for every mode, and the layout
// must survive state.json (JSON) unchanged.
func TestLayoutRebuildsTheSameManager(t *testing.T) {
	v2dir := t.TempDir()
	// The hybrid manager reads which controllers cgroup2 offers.
	if err := os.WriteFile(filepath.Join(v2dir, "cgroup.controllers"), []byte("cpu memory hugetlb pids\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	v1 := map[string]cgfs.Mount{"memory": {Point: "/sys/fs/cgroup/memory", Root: "/"},
		"pids": {Point: "/sys/fs/cgroup/pids", Root: "/"}, "name=systemd": {Point: "/sys/fs/cgroup/systemd", Root: "/"}}
	v2 := cgfs.Mount{Point: v2dir, Root: "/"}
	for _, tt := range []struct {
		name  string
		host  *cgfs.Host
		paths map[string]string
	}{
		{"legacy", &cgfs.Host{Mode: Legacy, V1: v1}, map[string]string{"memory": "/sys/fs/cgroup/memory/c1", "pids": "/sys/fs/cgroup/pids/c1"}},
		{"unified", &cgfs.Host{Mode: Unified, V2: v2}, map[string]string{"": v2dir + "/c1"}},
		{"hybrid", &cgfs.Host{Mode: Hybrid, V1: v1, V2: v2}, map[string]string{"memory": "/sys/fs/cgroup/memory/c1", "": v2dir + "/c1"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			l := &Layout{Mode: tt.host.Mode, V2Mount: tt.host.V2.Point, V1: slices.Sorted(maps.Keys(tt.host.V1))}
			data, err := json.Marshal(l)
			if err != nil {
				t.Fatal(err)
			}
			var recorded Layout
			if err := json.Unmarshal(data, &recorded); err != nil {
				t.Fatalf("%s: %v", data, err)
			}
			if !reflect.DeepEqual(&recorded, l) {
				t.Fatalf("layout %s read back as %+v, want %+v", data, recorded, *l)
			}
			c := Config{Name: "c1", Existing: []string{"memory"}}
			want, err := manager(tt.host, c, tt.paths)
			if err != nil {
				t.Fatal(err)
			}
			got, err := manager(recorded.host(), c, tt.paths)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, want) {
				t.Errorf("manager from the layout %+v, from the host %+v", got, want)
			}
		})
	}
	var bad Layout
	if err := json.Unmarshal([]byte(`{"mode":"v3"}`), &bad); err == nil {
		t.Errorf("an unknown mode was accepted: %+v", bad)
	}
}

// TestLoadUsesTheRecordedLayout: Load rebuilds the manager from the layout
// it is given, not from the host it runs on (which it then never reads):
// a layout of another mode than this host's gives that mode's driver.
func TestLoadUsesTheRecordedLayout(t *testing.T) {
	host, err := HostMode()
	if err != nil {
		t.Fatal(err)
	}
	v2 := t.TempDir()
	layout, paths, want := &Layout{Mode: Unified, V2Mount: v2}, map[string]string{"": v2 + "/c1"}, "*fs2.Manager"
	if host == Unified {
		layout, paths, want = &Layout{Mode: Legacy, V1: []string{"memory"}}, map[string]string{"memory": "/sys/fs/cgroup/memory/c1"}, "*fs1.Manager"
	}
	m, err := Load(Config{Name: "c1", Layout: layout}, paths)
	if err != nil {
		t.Fatal(err)
	}
	if got := fmt.Sprintf("%T", m); got != want {
		t.Errorf("Load with a %v layout on a %v host gave %s, want %s", layout.Mode, host, got, want)
	}
}
