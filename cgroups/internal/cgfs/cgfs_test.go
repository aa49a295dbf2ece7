package cgfs

import (
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/opencontainers/runtime-spec/specs-go"
)

func TestParseList(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want []uint16
		bad  bool
	}{
		{"", nil, false},
		{"0", []uint16{0}, false},
		{"0-3,7", []uint16{0, 1, 2, 3, 7}, false},
		{"1,3-4\n", []uint16{1, 3, 4}, false},
		{"3-1", nil, true},
		{"x", nil, true},
	} {
		got, err := ParseList(tc.in)
		if (err != nil) != tc.bad || !reflect.DeepEqual(got, tc.want) {
			t.Errorf("ParseList(%q) = %v, %v; want %v (error %v)", tc.in, got, err, tc.want, tc.bad)
		}
	}
}

func TestPageSizeName(t *testing.T) {
	for in, want := range map[uint64]string{2 << 20: "2MB", 1 << 30: "1GB", 64 << 10: "64KB", 32 << 20: "32MB"} {
		if got := PageSizeName(in); got != want {
			t.Errorf("PageSizeName(%d) = %q, want %q", in, got, want)
		}
	}
}

func TestParseMountinfoAndPaths(t *testing.T) {
	dir := t.TempDir()
	mi := filepath.Join(dir, "mountinfo")
	os.WriteFile(mi, []byte(`31 23 0:28 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755
32 31 0:29 / /sys/fs/cgroup/cpu,cpuacct rw,relatime - cgroup cgroup rw,cpu,cpuacct
35 31 0:32 /ctr /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory
40 31 0:37 / /sys/fs/cgroup/systemd rw,relatime - cgroup cgroup rw,xattr,name=systemd
41 31 0:38 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw
50 31 0:40 / /mnt/with\040space rw - ext4 /dev/vda rw
`), 0o644)
	cg := filepath.Join(dir, "cgroup")
	os.WriteFile(cg, []byte("4:memory:/ctr/a\n2:cpu,cpuacct:/b\n1:name=systemd:/\n0::/u\n"), 0o644)
	h, err := detect(mi, cg)
	if err != nil {
		t.Fatal(err)
	}
	if h.V1["cpu"] != h.V1["cpuacct"] || h.V1["cpu"].Point != "/sys/fs/cgroup/cpu,cpuacct" {
		t.Errorf("co-mounted cpu,cpuacct: %+v", h.V1)
	}
	if _, ok := h.V1["name=systemd"]; !ok {
		t.Errorf("named hierarchy missing: %+v", h.V1)
	}
	if h.V2.Point != "/sys/fs/cgroup/unified" {
		t.Errorf("v2 mount = %q", h.V2.Point)
	}
	if h.Own["memory"] != "/ctr/a" || h.Own["cpuacct"] != "/b" || h.Own[""] != "/u" {
		t.Errorf("own = %v", h.Own)
	}
	for _, tc := range []struct {
		mount     Mount
		path, own string
		want      string
	}{
		{h.V1["cpu"], "x/y", h.Own["cpu"], "/sys/fs/cgroup/cpu,cpuacct/b/x/y"},
		{h.V1["cpu"], "/abs", h.Own["cpu"], "/sys/fs/cgroup/cpu,cpuacct/abs"},
		// The memory mount shows only /ctr of its hierarchy.
		{h.V1["memory"], "x", h.Own["memory"], "/sys/fs/cgroup/memory/a/x"},
		{h.V2, "c", h.Own[""], "/sys/fs/cgroup/unified/u/c"},
	} {
		if got := tc.mount.Dir(Resolve(tc.path, tc.own)); got != tc.want {
			t.Errorf("Dir(Resolve(%q, %q)) = %q, want %q", tc.path, tc.own, got, tc.want)
		}
	}
}

func TestDeviceRule(t *testing.T) {
	n := func(v int64) *int64 { return &v }
	for _, tc := range []struct {
		in   specs.LinuxDeviceCgroup
		want string
		bad  bool
	}{
		{specs.LinuxDeviceCgroup{Access: "rwm"}, "a *:* rwm", false},
		{specs.LinuxDeviceCgroup{Type: "c", Major: n(1), Minor: n(3), Access: "rw"}, "c 1:3 rw", false},
		{specs.LinuxDeviceCgroup{Type: "c", Major: n(136)}, "c 136:* rwm", false},
		{specs.LinuxDeviceCgroup{Type: "b", Major: n(-1), Minor: n(-1), Access: "m"}, "b *:* m", false},
		{specs.LinuxDeviceCgroup{Type: "p"}, "", true},
		// Letters the kernel does not know are dropped, as runc does.
		{specs.LinuxDeviceCgroup{Type: "c", Major: n(1), Minor: n(11), Access: "rwa"}, "c 1:11 rw", false},
		{specs.LinuxDeviceCgroup{Type: "c", Access: "mxr"}, "c *:* rm", false},
		{specs.LinuxDeviceCgroup{Type: "c", Access: "xa"}, "", true},
	} {
		got, err := DeviceRule(tc.in)
		if (err != nil) != tc.bad || got != tc.want {
			t.Errorf("DeviceRule(%+v) = %q, %v; want %q (error %v)", tc.in, got, err, tc.want, tc.bad)
		}
	}
}

func TestParseUint(t *testing.T) {
	for in, want := range map[string]uint64{"12\n": 12, "max": 1<<64 - 1, "-1": 0} {
		if got, err := ParseUint(in); err != nil || got != want {
			t.Errorf("ParseUint(%q) = %d, %v", in, got, err)
		}
	}
}

// TestMkdirRaces: every level is handed to each, made or found; a level
// that vanishes under Mkdir (a parent removed by someone else) is made again.
func TestMkdirRaces(t *testing.T) {
	root := t.TempDir()
	if err := os.Mkdir(filepath.Join(root, "a"), 0o755); err != nil {
		t.Fatal(err)
	}
	var seen []string
	removed := false
	each := func(dir string) error {
		rel, _ := filepath.Rel(root, dir)
		seen = append(seen, rel)
		if rel == "a" && !removed {
			removed = true
			return os.Remove(dir)
		}
		return nil
	}
	if err := Mkdir(root, filepath.Join(root, "a/b/c"), each); err != nil {
		t.Fatal(err)
	}
	if want := []string{"a", "a", "a/b", "a/b/c"}; !reflect.DeepEqual(seen, want) {
		t.Errorf("levels seen %v, want %v", seen, want)
	}
	if _, err := os.Stat(filepath.Join(root, "a/b/c")); err != nil {
		t.Error(err)
	}
	if err := Mkdir(root, "/elsewhere", nil); err == nil {
		t.Error("Mkdir outside root succeeded")
	}
}

func TestPidsMax(t *testing.T) {
	for _, tt := range []struct {
		limit int64
		want  string
	}{
		{-1, "max"},
		{-2, "max"},
		{0, "0"}, // runtime-spec: 0 is a valid limit
		{1, "1"},
		{32768, "32768"},
	} {
		if got := PidsMax(tt.limit); got != tt.want {
			t.Errorf("PidsMax(%d) = %q, want %q", tt.limit, got, tt.want)
		}
	}
}
