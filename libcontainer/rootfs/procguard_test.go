package rootfs

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/opencontainers/runtime-spec/specs-go"
)

// TestOpenDevNull: only the real null device, never through a link.
func TestOpenDevNull(t *testing.T) {
	root := t.TempDir()
	containerRoot = root
	t.Cleanup(func() { containerRoot = "/" })
	os.MkdirAll(filepath.Join(root, "dev"), 0o755)
	for _, tc := range []struct {
		name  string
		setup func()
		want  string
	}{
		{"missing", func() {}, "no such file"},
		{"regular file", func() { os.WriteFile(filepath.Join(root, "dev/null"), nil, 0o666) }, "not the null device"},
		{"symlink to a file", func() { os.Symlink("/proc/sys/kernel/core_pattern", filepath.Join(root, "dev/null")) }, "not the null device"},
		{"symlink to the host's", func() { os.Symlink("/dev/null", filepath.Join(root, "dev/null")) }, "not the null device"},
		{"/dev a symlink", func() { os.RemoveAll(filepath.Join(root, "dev")); os.Symlink("/dev", filepath.Join(root, "dev")) }, "symbolic links"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			os.Remove(filepath.Join(root, "dev/null"))
			tc.setup()
			f, err := openDevNull(mustOpenRootDir(t, root))
			if err == nil {
				f.Close()
				t.Fatal("accepted")
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %q, want %q", err, tc.want)
			}
		})
	}
	// The host's own /dev/null is the device.
	containerRoot = "/"
	f, err := openDevNull(mustOpenRootDir(t, "/"))
	if err != nil {
		t.Fatalf("the host's /dev/null: %v", err)
	}
	f.Close()
}

// TestCheckProcDestination: runc's rules for what may be mounted on and
// below /proc, on the resolved destination.
func TestCheckProcDestination(t *testing.T) {
	rootfs := t.TempDir()
	for _, d := range []string{"proc/sys/kernel", "proc/net", "data"} {
		os.MkdirAll(filepath.Join(rootfs, d), 0o755)
	}
	for _, f := range []string{"proc/cpuinfo", "proc/net/dev", "proc/self", "proc/sys/kernel/core_pattern"} {
		os.WriteFile(filepath.Join(rootfs, f), nil, 0o644)
	}
	procTree, err := os.Open("/proc")
	if err != nil {
		t.Fatal(err)
	}
	defer procTree.Close()
	dirTree, err := os.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer dirTree.Close()
	for _, tc := range []struct {
		dest string
		m    specs.Mount
		tree *os.File
		want string
	}{
		{"proc", specs.Mount{Type: "proc"}, nil, ""},
		{"proc", specs.Mount{Type: "bind"}, procTree, ""},
		{"proc", specs.Mount{Type: "bind"}, dirTree, `"/proc" cannot be mounted because it is not of type proc`},
		{"proc", specs.Mount{Type: "tmpfs"}, nil, `"/proc" cannot be mounted because it is not of type proc`},
		{"proc/cpuinfo", specs.Mount{Type: "bind"}, dirTree, ""},
		{"proc/net/dev", specs.Mount{Type: "bind"}, dirTree, ""},
		{"proc/self", specs.Mount{Type: "bind"}, dirTree, `"/proc/self" cannot be mounted because it is inside /proc`},
		{"proc/sys/kernel/core_pattern", specs.Mount{Type: "bind"}, procTree, "inside /proc"},
		{"data", specs.Mount{Type: "tmpfs"}, nil, ""},
	} {
		dest, err := os.Open(filepath.Join(rootfs, tc.dest))
		if err != nil {
			t.Fatal(err)
		}
		where, err := locate(dest)
		dest.Close()
		if err != nil {
			t.Fatal(err)
		}
		err = checkProcDestination(rootfs, where, &tc.m, tc.tree)
		switch {
		case tc.want == "" && err != nil:
			t.Errorf("%s %s: %v", tc.m.Type, tc.dest, err)
		case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
			t.Errorf("%s %s: %v, want %q", tc.m.Type, tc.dest, err, tc.want)
		}
	}
}

// TestCheckOrdinaryDirectory: procfs and sysfs need a real directory, or
// none yet.
func TestCheckOrdinaryDirectory(t *testing.T) {
	rootfs := t.TempDir()
	os.MkdirAll(filepath.Join(rootfs, "real"), 0o755)
	os.Symlink("/real", filepath.Join(rootfs, "link"))
	os.WriteFile(filepath.Join(rootfs, "file"), nil, 0o644)
	for dest, want := range map[string]string{
		"/real": "", "/missing": "", "/missing/below": "",
		"/link": `filesystem "proc" must be mounted on ordinary directory`,
		"/file": `filesystem "proc" must be mounted on ordinary directory`,
	} {
		err := checkOrdinaryDirectory(mustOpenRootDir(t, rootfs), &specs.Mount{Destination: dest, Type: "proc"})
		if (err == nil) != (want == "") || err != nil && err.Error() != want {
			t.Errorf("%s: %v, want %q", dest, err, want)
		}
	}
}
