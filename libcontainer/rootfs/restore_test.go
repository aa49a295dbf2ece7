package rootfs

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/opencontainers/runtime-spec/specs-go"

	"github.com/rtproject/rt/internal/proccgroup"
)

func TestResolve(t *testing.T) {
	rootfs := t.TempDir()
	for _, d := range []string{"real/conf", "etc"} {
		if err := os.MkdirAll(filepath.Join(rootfs, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	os.Symlink("/real/conf", filepath.Join(rootfs, "conf"))
	os.Symlink("../../../real", filepath.Join(rootfs, "etc/up"))
	os.Symlink("/etc/passwd", filepath.Join(rootfs, "hostlink"))
	tests := []struct {
		path, want string
	}{
		{"/conf", "/real/conf"},          // an absolute link, inside the rootfs
		{"conf", "/real/conf"},           // relative destinations are relative to /
		{"/etc/up/conf", "/real/conf"},   // .. stops at the rootfs top
		{"/hostlink", "/hostlink"},       // its target does not exist inside: as given
		{"/missing/dir", "/missing/dir"}, // not there: as given, cleaned
		{"/etc//./", "/etc"},
		{"/", "/"},
	}
	for _, tt := range tests {
		if got := Resolve(rootfs, tt.path); got != tt.want {
			t.Errorf("Resolve(%q) = %q, want %q", tt.path, got, tt.want)
		}
	}
}

func TestPrepareRestore(t *testing.T) {
	dir := t.TempDir()
	rootfs := filepath.Join(dir, "rootfs")
	bundleDir := filepath.Join(dir, "data") // relative source "data"
	nested := filepath.Join(dir, "nested")  // bound at /test/for/nested, inside data
	file := filepath.Join(dir, "hosts")     // a file source
	for _, d := range []string{rootfs, bundleDir, nested, filepath.Join(rootfs, "real")} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	os.WriteFile(file, nil, 0o644)
	os.Symlink("/real", filepath.Join(rootfs, "conf"))
	mounts := []specs.Mount{
		{Destination: "/proc", Type: "proc", Source: "proc"},
		{Destination: "/dev", Type: "tmpfs", Source: "tmpfs"},
		{Destination: "/dev/pts", Type: "devpts", Source: "devpts"},
		{Destination: "/sys/fs/cgroup", Type: "cgroup", Source: "cgroup"},
		{Destination: "/test", Type: "bind", Source: "data", Options: []string{"rbind"}},
		{Destination: "/test/for/nested", Type: "bind", Source: nested},
		{Destination: "/etc/hosts", Type: "bind", Source: file, Options: []string{"bind"}},
		{Destination: "/conf/sub", Type: "tmpfs", Source: "tmpfs"},
	}
	if err := PrepareRestore(rootfs, dir, mounts); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		path string
		dir  bool
		want bool
	}{
		{filepath.Join(rootfs, "proc"), true, true},
		{filepath.Join(rootfs, "dev"), true, true},
		{filepath.Join(rootfs, "dev/pts"), true, false},       // on the /dev tmpfs: CRIU's
		{filepath.Join(rootfs, "sys/fs/cgroup"), true, false}, // the cgroup mount's own
		{filepath.Join(rootfs, "test"), true, true},
		{filepath.Join(bundleDir, "for/nested"), true, true}, // where the bind shows it
		{filepath.Join(rootfs, "test/for"), true, false},
		{filepath.Join(rootfs, "etc/hosts"), false, true},
		{filepath.Join(rootfs, "real/sub"), true, true}, // through the link
	}
	for _, tt := range tests {
		st, err := os.Lstat(tt.path)
		switch {
		case tt.want && err != nil:
			t.Errorf("%s not made: %v", tt.path, err)
		case !tt.want && err == nil:
			t.Errorf("%s made, want it left alone", tt.path)
		case tt.want && st.IsDir() != tt.dir:
			t.Errorf("%s: directory %v, want %v", tt.path, st.IsDir(), tt.dir)
		}
	}
	// A source that is missing is an error naming the mount.
	bad := []specs.Mount{{Destination: "/x", Type: "bind", Source: "/nonexistent/src"}}
	if err := PrepareRestore(rootfs, dir, bad); err == nil || !strings.Contains(err.Error(), "mounts[0].source") {
		t.Errorf("missing source: %v", err)
	}
}

func TestDevices(t *testing.T) {
	mode := os.FileMode(0o600)
	spec := &specs.Spec{Linux: &specs.Linux{Devices: []specs.LinuxDevice{
		{Path: "/dev/fuse", Type: "c", Major: 10, Minor: 229},
		{Path: "/dev/null/", Type: "c", Major: 1, Minor: 3, FileMode: &mode},
	}}}
	var paths []string
	for _, d := range Devices(spec) {
		paths = append(paths, d.Path)
		if d.Path == "/dev/null/" && (d.FileMode == nil || *d.FileMode != mode) {
			t.Errorf("/dev/null not replaced by the spec's entry: %+v", d)
		}
	}
	want := "/dev/null/ /dev/zero /dev/full /dev/random /dev/urandom /dev/tty /dev/fuse"
	if got := strings.Join(paths, " "); got != want {
		t.Errorf("Devices = %s, want %s", got, want)
	}
	if n := len(Devices(&specs.Spec{})); n != len(defaultDevices) {
		t.Errorf("no linux section: %d devices, want the %d defaults", n, len(defaultDevices))
	}
}

// CgroupBinds mirrors what Setup binds: one directory per hierarchy this
// process sees mounted, each bound from the directory CgroupPaths names.
func TestCgroupBinds(t *testing.T) {
	hs, err := proccgroup.ReadFile("/proc/self/cgroup")
	if err != nil {
		t.Skip(err)
	}
	paths := map[string]string{}
	for _, h := range hs {
		for _, k := range (hierarchy{h}).keys() {
			paths[k] = "/host/" + strings.ReplaceAll(h.Controllers, ",", "+")
		}
	}
	binds, err := CgroupBinds("/sys/fs/cgroup", paths)
	if err != nil {
		t.Skip(err) // no cgroup mounted where the test runs
	}
	if len(binds) == 0 {
		t.Fatal("no binds")
	}
	for _, b := range binds {
		if b.Destination != "/sys/fs/cgroup" && !strings.HasPrefix(b.Destination, "/sys/fs/cgroup/") {
			t.Errorf("bind at %s, outside the cgroup mount", b.Destination)
		}
		if !strings.HasPrefix(b.Source, "/host/") {
			t.Errorf("bind of %s at %s, want the CgroupPaths directory", b.Source, b.Destination)
		}
	}
}
