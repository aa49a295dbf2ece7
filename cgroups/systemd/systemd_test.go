package systemd

import (
	"context"
	"math"
	"testing"

	"github.com/coreos/go-systemd/v22/dbus"
	godbus "github.com/godbus/dbus/v5"
	"github.com/opencontainers/runtime-spec/specs-go"
	"github.com/rtproject/rt/cgroups/internal/cgfs"
)

func TestParsePathAndExpandSlice(t *testing.T) {
	for _, tc := range []struct {
		path, id  string
		slice, cg string
		bad       bool
	}{
		{"", "abc", "system.slice", "/system.slice/rt-abc.scope", false},
		{"machine.slice:docker:abc", "abc", "machine.slice", "/machine.slice/docker-abc.scope", false},
		{"a-b-c.slice:p:n", "n", "a-b-c.slice", "/a.slice/a-b.slice/a-b-c.slice/p-n.scope", false},
		{":rt:abc", "abc", "system.slice", "/system.slice/rt-abc.scope", false},
		{"-.slice::abc", "abc", "-.slice", "/abc.scope", false},
		{"/abs/path", "abc", "", "", true},
		{"a--b.slice:p:n", "n", "", "", true},
		{"notaslice:p:n", "n", "", "", true},
		{"system.slice:p:", "n", "", "", true},
	} {
		s, err := ParsePath(tc.path, tc.id)
		if (err != nil) != tc.bad {
			t.Errorf("ParsePath(%q): %v", tc.path, err)
			continue
		}
		if !tc.bad && (s.Slice != tc.slice || s.CgroupPath() != tc.cg) {
			t.Errorf("ParsePath(%q) = %+v → %s, want %s %s", tc.path, s, s.CgroupPath(), tc.slice, tc.cg)
		}
	}
}

type fakeConn struct {
	started, stopped string
	props            []dbus.Property
	set              []dbus.Property
	startErr         error
	closed           bool
}

func (f *fakeConn) StartTransientUnitContext(_ context.Context, name, _ string, props []dbus.Property, ch chan<- string) (int, error) {
	if f.startErr != nil {
		return 0, f.startErr
	}
	f.started, f.props = name, props
	ch <- "done"
	return 1, nil
}

func (f *fakeConn) StopUnitContext(_ context.Context, name, _ string, ch chan<- string) (int, error) {
	f.stopped = name
	ch <- "done"
	return 2, nil
}

func (f *fakeConn) SetUnitPropertiesContext(_ context.Context, _ string, _ bool, props ...dbus.Property) error {
	f.set = append(f.set, props...)
	return nil
}

func (f *fakeConn) Close() { f.closed = true }

type fakeFS struct {
	applied   int
	set       *specs.LinuxResources
	destroyed bool
}

func (f *fakeFS) Apply(pid int) error                 { f.applied = pid; return nil }
func (f *fakeFS) Set(r *specs.LinuxResources) error   { f.set = r; return nil }
func (f *fakeFS) Freeze() error                       { return nil }
func (f *fakeFS) Thaw() error                         { return nil }
func (f *fakeFS) FreezerState() (string, error)       { return "thawed", nil }
func (f *fakeFS) Pids() ([]int, error)                { return nil, nil }
func (f *fakeFS) Stats() (*cgfs.Stats, error)         { return cgfs.NewStats(), nil }
func (f *fakeFS) OOMNotify() (<-chan struct{}, error) { return nil, nil }
func (f *fakeFS) Destroy() error                      { f.destroyed = true; return nil }
func (f *fakeFS) Paths() map[string]string            { return nil }
func (f *fakeFS) Existing() []string                  { return nil }
func (f *fakeFS) Joinable() error                     { return nil }

func prop(props []dbus.Property, name string) (any, bool) {
	for _, p := range props {
		if p.Name == name {
			return p.Value.Value(), true
		}
	}
	return nil, false
}

func TestScopeLifecycle(t *testing.T) {
	scope, _ := ParsePath("machine.slice:rt:abc", "abc")
	conn, fs := &fakeConn{}, &fakeFS{}
	m := New(scope, conn, fs, false)
	if err := m.Apply(42); err != nil {
		t.Fatal(err)
	}
	if conn.started != "rt-abc.scope" || fs.applied != 42 {
		t.Fatalf("started %q, fs applied %d", conn.started, fs.applied)
	}
	for name, want := range map[string]any{"Slice": "machine.slice", "Delegate": true, "PIDs": []uint32{42}, "IOAccounting": true} {
		got, ok := prop(conn.props, name)
		if !ok || godbus.MakeVariant(got).String() != godbus.MakeVariant(want).String() {
			t.Errorf("property %s = %v, want %v", name, got, want)
		}
	}
	r := &specs.LinuxResources{CPU: &specs.LinuxCPU{Shares: ptr(uint64(1024))}}
	if err := m.Set(r); err != nil {
		t.Fatal(err)
	}
	if w, _ := prop(conn.set, "CPUWeight"); w != uint64(39) || fs.set != r {
		t.Errorf("CPUWeight %v, fs got %v", w, fs.set)
	}
	if err := m.Destroy(); err != nil {
		t.Fatal(err)
	}
	if conn.stopped != "rt-abc.scope" || !fs.destroyed || !conn.closed {
		t.Errorf("stop %q, fs destroyed %v, closed %v", conn.stopped, fs.destroyed, conn.closed)
	}
}

func TestJoinExistingScope(t *testing.T) {
	scope, _ := ParsePath("", "abc")
	conn := &fakeConn{startErr: godbus.Error{Name: "org.freedesktop.systemd1.UnitExists"}}
	fs := &fakeFS{}
	if err := New(scope, conn, fs, true).Apply(7); err != nil || fs.applied != 7 {
		t.Fatalf("joining existing scope: %v (fs applied %d)", err, fs.applied)
	}
}

func TestProperties(t *testing.T) {
	for _, tc := range []struct {
		name   string
		r      specs.LinuxResources
		legacy bool
		prop   string
		want   uint64
	}{
		{"memory v2", specs.LinuxResources{Memory: &specs.LinuxMemory{Limit: ptr(int64(1 << 20))}}, false, "MemoryMax", 1 << 20},
		{"memory v1", specs.LinuxResources{Memory: &specs.LinuxMemory{Limit: ptr(int64(-1))}}, true, "MemoryLimit", math.MaxUint64},
		{"shares v1", specs.LinuxResources{CPU: &specs.LinuxCPU{Shares: ptr(uint64(512))}}, true, "CPUShares", 512},
		{"quota", specs.LinuxResources{CPU: &specs.LinuxCPU{Quota: ptr(int64(50000)), Period: ptr(uint64(100000))}}, false, "CPUQuotaPerSecUSec", 500000},
		{"quota rounds up", specs.LinuxResources{CPU: &specs.LinuxCPU{Quota: ptr(int64(1234))}}, false, "CPUQuotaPerSecUSec", 20000},
		{"tasks", specs.LinuxResources{Pids: &specs.LinuxPids{Limit: ptr(int64(64))}}, false, "TasksMax", 64},
		{"tasks unlimited", specs.LinuxResources{Pids: &specs.LinuxPids{Limit: ptr(int64(-1))}}, false, "TasksMax", math.MaxUint64},
		{"tasks 0: systemd's nearest", specs.LinuxResources{Pids: &specs.LinuxPids{Limit: ptr(int64(0))}}, false, "TasksMax", 1},
	} {
		got, ok := prop(Properties(&tc.r, tc.legacy), tc.prop)
		if !ok || got != tc.want {
			t.Errorf("%s: %s = %v, want %d", tc.name, tc.prop, got, tc.want)
		}
	}
}

func ptr[T any](v T) *T { return &v }
