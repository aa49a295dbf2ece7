package rootfs

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"

	"github.com/rtproject/rt/internal/mountinfo"
	"github.com/rtproject/rt/internal/proccgroup"
	"github.com/rtproject/rt/libcontainer/internal/kernel/kerneltest"
)

// These tests run Setup and Finalize on a temporary rootfs against the
// fake kernel: the directories, files and links they make are real, the
// mounts and device nodes are recorded calls. They run as any user; the
// same code against the real kernel is in setup_kernel_test.go.

// newRootfs makes a rootfs with a few directories and swaps in a Recorder.
func newRootfs(t *testing.T) (string, *kerneltest.Recorder) {
	t.Helper()
	root := t.TempDir()
	for _, d := range []string{"proc", "etc", "tmp", "run/sub"} {
		if err := os.MkdirAll(filepath.Join(root, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(filepath.Join(root, "etc/hostname"), []byte("box\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	return root, kerneltest.New(t, root)
}

// deviceCalls are the calls that make the default devices, in order.
func deviceCalls() []string {
	var out []string
	for _, d := range defaultDevices {
		for _, f := range []string{"mknod %s c %d:%d 0666", "chown %s 0:0", "chmod %s 0666"} {
			out = append(out, sprintf(f, d.Path, d.Major, d.Minor))
		}
	}
	return out
}

// sprintf fills a device's path, major and minor into format.
func sprintf(format, path string, major, minor int64) string {
	s := strings.Replace(format, "%s", path, 1)
	s = strings.Replace(s, "%d", strconv.FormatInt(major, 10), 1)
	return strings.Replace(s, "%d", strconv.FormatInt(minor, 10), 1)
}

var pivotCalls = []string{
	"fchdir /",
	"pivot_root . .",
	"fchdir host:/",
	`mount "" . "" rec|slave ""`,
	"umount . detach",
	"chdir host:/",
}

func concat(parts ...[]string) []string { return slices.Concat(parts...) }

func TestSetupCalls(t *testing.T) {
	devTmpfs := `mount tmpfs /dev tmpfs nosuid|strictatime "mode=755,size=65536k"`
	tests := []struct {
		name   string
		cfg    func(c *Config)
		kinds  []string // only these calls are compared; all when empty
		want   []string
		beside func(t *testing.T, root string) // further checks on the rootfs
	}{
		{
			name: "defaults",
			cfg:  func(*Config) {},
			want: concat([]string{
				`mount "" host:/ "" rec|slave ""`,
				`mount / / "" bind|rec ""`,
				devTmpfs,
			}, deviceCalls(), pivotCalls),
			beside: func(t *testing.T, root string) {
				for link, target := range map[string]string{"dev/fd": "/proc/self/fd", "dev/stdin": "/proc/self/fd/0", "dev/ptmx": "pts/ptmx"} {
					if got, err := os.Readlink(filepath.Join(root, link)); err != nil || got != target {
						t.Errorf("%s -> %q (%v), want %q", link, got, err, target)
					}
				}
			},
		},
		{
			name:  "rootfsPropagation rshared",
			cfg:   func(c *Config) { c.Spec.Linux.RootfsPropagation = "rshared" },
			kinds: []string{"mount"},
			want: []string{
				`mount "" host:/ "" rec|shared ""`,
				`mount / / "" bind|rec ""`,
				devTmpfs,
				`mount "" . "" rec|slave ""`,
				`mount "" host:/ "" rec|shared ""`,
			},
		},
		{
			// rslave (the default) or rprivate leaves no mount shared: the
			// parent is looked at only after rshared.
			name:  "shared parent made private",
			cfg:   func(c *Config) { c.Spec.Linux.RootfsPropagation = "rshared" },
			kinds: []string{"mount"},
			want: []string{
				`mount "" host:/ "" rec|shared ""`,
				`mount "" host:/ "" private ""`,
				`mount / / "" bind|rec ""`,
				devTmpfs,
				`mount "" . "" rec|slave ""`,
				`mount "" host:/ "" rec|shared ""`,
			},
		},
		{
			name:  "no pivot",
			cfg:   func(c *Config) { c.NoPivot = true },
			kinds: []string{"mount", "chroot", "chdir", "pivot_root"},
			want: []string{
				`mount "" host:/ "" rec|slave ""`,
				`mount / / "" bind|rec ""`,
				devTmpfs,
				"chdir /",
				`mount / host:/ "" move ""`,
				"chroot .",
				"chdir host:/",
			},
		},
		{
			name:  "host mount namespace",
			cfg:   func(c *Config) { c.HostMountNS = true; c.Spec.Linux.RootfsPropagation = "rprivate" },
			kinds: []string{"mount", "chroot", "chdir", "pivot_root"},
			want: []string{
				`mount / / "" bind|rec ""`,
				devTmpfs,
				"chdir /",
				"chroot .",
				"chdir host:/",
			},
		},
		{
			name: "spec mounts",
			cfg: func(c *Config) {
				c.Spec.Mounts = []specs.Mount{
					{Destination: "/proc", Type: "proc", Source: "proc", Options: []string{"nosuid", "noexec", "nodev"}},
					{Destination: "/dev", Type: "tmpfs", Source: "tmpfs", Options: []string{"nosuid", "mode=755"}},
					{Destination: "/run", Type: "tmpfs", Options: []string{"rprivate", "rnoexec"}},
					// Relative to "/", as the runtime-spec says.
					{Destination: "var/cache", Type: "tmpfs", Source: "cache", Options: []string{"ro", "strictatime"}},
					{Destination: "/run", Type: "bind", Options: []string{"remount", "ro"}},
				}
			},
			kinds: []string{"mount", "mount_setattr"},
			want: []string{
				`mount "" host:/ "" rec|slave ""`,
				`mount / / "" bind|rec ""`,
				`mount proc /proc proc nosuid|nodev|noexec ""`,
				`mount tmpfs /dev tmpfs nosuid "mode=755"`,
				// The mode of the directory it covers (runc's rule).
				`mount tmpfs /run tmpfs 0 "mode=0755"`,
				"mount_setattr /run recursive propagation=private",
				"mount_setattr /run recursive set=noexec",
				// Read-only later, in Finalize, once what goes in it is there.
				`mount cache /var/cache tmpfs strictatime ""`,
				"mount_setattr /run set=ro",
				`mount "" . "" rec|slave ""`,
			},
			beside: func(t *testing.T, root string) {
				if fi, err := os.Stat(filepath.Join(root, "var/cache")); err != nil || !fi.IsDir() {
					t.Errorf("relative destination var/cache not made in the rootfs: %v", err)
				}
			},
		},
		{
			name: "tmpfs modes: the covered directory's, set-id and sticky bits included; 1777 on a new one",
			cfg: func(c *Config) {
				os.Mkdir(filepath.Join(c.Rootfs, "perm"), 0o755)
				os.Chmod(filepath.Join(c.Rootfs, "perm"), 0o710|os.ModeSetgid|os.ModeSticky)
				c.Spec.Mounts = []specs.Mount{
					{Destination: "/perm", Type: "tmpfs", Options: []string{"size=1m"}},
					{Destination: "/tmp", Type: "tmpfs", Options: []string{"mode=1500"}},
					{Destination: "/new/dir", Type: "tmpfs"},
				}
			},
			kinds: []string{"mount"},
			want: []string{
				`mount "" host:/ "" rec|slave ""`,
				`mount / / "" bind|rec ""`,
				`mount tmpfs /dev tmpfs nosuid|strictatime "mode=755,size=65536k"`,
				`mount tmpfs /perm tmpfs 0 "mode=3710,size=1m"`,
				`mount tmpfs /tmp tmpfs 0 "mode=1500"`,
				`mount tmpfs /new/dir tmpfs 0 ""`,
				`mount "" . "" rec|slave ""`,
			},
		},
		{
			name: "destinations through dangling links are made where they lead, in the rootfs",
			cfg: func(c *Config) {
				src := c.Spec.Annotations["src"]
				os.Symlink("/tmp/foo/bar", filepath.Join(c.Rootfs, "jump"))
				os.Symlink("/jump/baz/hosts", filepath.Join(c.Rootfs, "etc/hosts"))
				os.Symlink("/tmp/dirlink", filepath.Join(c.Rootfs, "etc/dir"))
				os.Symlink("../../../../outside", filepath.Join(c.Rootfs, "etc/escape"))
				c.Spec.Mounts = []specs.Mount{
					{Destination: "/etc/hosts", Type: "bind", Source: filepath.Join(src, "file"), Options: []string{"bind"}},
					{Destination: "/etc/dir", Type: "bind", Source: src, Options: []string{"bind"}},
					{Destination: "/etc/escape", Type: "tmpfs"},
				}
			},
			kinds: []string{"move_mount", "mount"},
			want: []string{
				`mount "" host:/ "" rec|slave ""`,
				`mount / / "" bind|rec ""`,
				`mount tmpfs /dev tmpfs nosuid|strictatime "mode=755,size=65536k"`,
				"move_mount host:$SRC/file -> /tmp/foo/bar/baz/hosts",
				"move_mount host:$SRC -> /tmp/dirlink",
				`mount tmpfs /outside tmpfs 0 ""`,
				`mount "" . "" rec|slave ""`,
			},
			beside: func(t *testing.T, root string) {
				for _, p := range []string{"tmp/foo/bar/baz/hosts", "tmp/dirlink", "outside"} {
					if _, err := os.Lstat(filepath.Join(root, p)); err != nil {
						t.Errorf("%s not made in the rootfs: %v", p, err)
					}
				}
			},
		},
		{
			name: "bind mounts",
			cfg: func(c *Config) {
				src := c.Spec.Annotations["src"]
				c.Spec.Mounts = []specs.Mount{
					{Destination: "/data", Type: "bind", Source: src, Options: []string{"rbind", "ro", "rslave"}},
					{Destination: "/etc/hostname", Source: filepath.Join(src, "file"), Options: []string{"bind", "nosuid"}},
				}
			},
			kinds: []string{"open_tree", "mount_setattr", "move_mount"},
			want: []string{
				"open_tree host:$SRC clone|recursive",
				"mount_setattr host:$SRC set=ro",
				"move_mount host:$SRC -> /data",
				"mount_setattr /data recursive propagation=slave",
				"open_tree host:$SRC/file clone",
				"mount_setattr host:$SRC/file set=nosuid",
				"move_mount host:$SRC/file -> /etc/hostname",
			},
		},
		{
			name:  "user namespace binds the host's devices",
			cfg:   func(c *Config) { c.UserNS = true },
			kinds: []string{"mknod", "open_tree", "move_mount"},
			want: func() []string {
				var out []string
				for _, d := range defaultDevices {
					out = append(out, "open_tree host:"+d.Path+" clone", "move_mount host:"+d.Path+" -> "+d.Path)
				}
				return out
			}(),
		},
		{
			name: "devices of the spec",
			cfg: func(c *Config) {
				uid, gid := uint32(1000), uint32(5)
				c.Spec.Linux.Devices = []specs.LinuxDevice{
					{Path: "/dev/fuse", Type: "c", Major: 10, Minor: 229, FileMode: fileMode(0o600), UID: &uid, GID: &gid},
					// Replaces the default /dev/null.
					{Path: "/dev/null", Type: "c", Major: 1, Minor: 3, FileMode: fileMode(0o640)},
					{Path: "/data/fifo", Type: "p"},
					{Path: "/dev/sda", Type: "b", Major: 8, Minor: 0},
				}
			},
			kinds: []string{"mknod", "chown", "chmod"},
			want: concat(
				[]string{"mknod /dev/null c 1:3 0640", "chown /dev/null 0:0", "chmod /dev/null 0640"},
				deviceCalls()[3:],
				[]string{
					"mknod /dev/fuse c 10:229 0600", "chown /dev/fuse 1000:5", "chmod /dev/fuse 0600",
					"mknod /data/fifo p 0:0 0666", "chown /data/fifo 0:0", "chmod /data/fifo 0666",
					"mknod /dev/sda b 8:0 0666", "chown /dev/sda 0:0", "chmod /dev/sda 0666",
				}),
		},
		{
			name: "a host /dev gets no devices",
			cfg: func(c *Config) {
				c.Spec.Mounts = []specs.Mount{{Destination: "/dev", Type: "bind", Source: c.Spec.Annotations["src"], Options: []string{"rbind"}}}
			},
			kinds: []string{"mknod", "move_mount"},
			want:  []string{"move_mount host:$SRC -> /dev"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			root, rec := newRootfs(t)
			if tt.name == "shared parent made private" {
				rec.Mounts[0].Optional = []string{"shared:1"}
			}
			src := t.TempDir()
			os.WriteFile(filepath.Join(src, "file"), nil, 0o644)
			c := &Config{Spec: &specs.Spec{Linux: &specs.Linux{}, Annotations: map[string]string{"src": src}}, Rootfs: root}
			tt.cfg(c)
			if err := Setup(c, nil); err != nil {
				t.Fatalf("Setup: %v\ncalls:\n%s", err, strings.Join(rec.Calls, "\n"))
			}
			got := rec.Calls
			if len(tt.kinds) > 0 {
				got = rec.Only(tt.kinds...)
			}
			want := make([]string, len(tt.want))
			for i, w := range tt.want {
				want[i] = strings.ReplaceAll(w, "$SRC", src)
			}
			if !slices.Equal(got, want) {
				t.Errorf("calls:\n  %s\nwant:\n  %s", strings.Join(got, "\n  "), strings.Join(want, "\n  "))
			}
			if tt.beside != nil {
				tt.beside(t, root)
			}
		})
	}
}

// TestSetupIDMappedFromHost: the init cannot id-map a host directory; it
// asks rt's parent (Config.HostSource) for the tree of every id-mapped bind
// mount, by its index in mounts, and attaches what it gets.
func TestSetupIDMappedFromHost(t *testing.T) {
	root, rec := newRootfs(t)
	src := t.TempDir()
	ids := []specs.LinuxIDMapping{{ContainerID: 0, HostID: 100000, Size: 65536}}
	spec := &specs.Spec{
		Mounts: []specs.Mount{
			{Destination: "/proc", Type: "proc"},
			{Destination: "/a", Type: "bind", Source: src, Options: []string{"bind", "idmap", "ro"}},
			{Destination: "/b", Type: "bind", Source: src, Options: []string{"rbind", "ridmap"}, UIDMappings: ids, GIDMappings: ids},
			{Destination: "/c", Type: "bind", Source: src, Options: []string{"bind"}},
		},
		Linux: &specs.Linux{Namespaces: []specs.LinuxNamespace{{Type: specs.UserNamespace}}, UIDMappings: ids, GIDMappings: ids},
	}
	var asked []int
	c := &Config{Spec: spec, Rootfs: root, HostSource: func(index int) (*os.File, error) {
		asked = append(asked, index)
		return os.OpenFile(src, unix.O_PATH|unix.O_CLOEXEC, 0)
	}}
	if err := Setup(c, nil); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(asked, []int{1, 2}) {
		t.Errorf("asked rt for mounts %v, want [1 2]", asked)
	}
	want := []string{
		"mount_setattr host:" + src + " set=ro",
		"move_mount host:" + src + " -> /a",
		"move_mount host:" + src + " -> /b",
		"open_tree host:" + src + " clone",
		"move_mount host:" + src + " -> /c",
	}
	if got := rec.Only("open_tree", "mount_setattr", "move_mount"); !slices.Equal(got, want) {
		t.Errorf("calls:\n  %s\nwant:\n  %s", strings.Join(got, "\n  "), strings.Join(want, "\n  "))
	}
	// Without a parent to ask (rootless), an id-mapped mount is refused.
	root, _ = newRootfs(t)
	c = &Config{Spec: spec, Rootfs: root}
	if err := Setup(c, nil); err == nil || !strings.Contains(err.Error(), "id-mapped mounts need rt to run with privileges") {
		t.Errorf("no HostSource: %v", err)
	}
}

// TestSetupBeforePivot: the callback (createContainer hooks) runs after
// every mount and device, before pivot_root.
func TestSetupBeforePivot(t *testing.T) {
	root, rec := newRootfs(t)
	c := &Config{Spec: &specs.Spec{Mounts: []specs.Mount{{Destination: "/proc", Type: "proc"}}}, Rootfs: root}
	var at int
	if err := Setup(c, func() error { at = len(rec.Calls); return nil }); err != nil {
		t.Fatal(err)
	}
	if rec.Calls[at-1] != "chmod /dev/tty 0666" || rec.Calls[at] != "fchdir /" {
		t.Errorf("callback between %q and %q", rec.Calls[at-1], rec.Calls[at])
	}
	root, rec = newRootfs(t)
	c.Rootfs = root
	err := Setup(c, func() error { return errors.New("hook failed") })
	if err == nil || err.Error() != "before pivot_root: hook failed" || slices.Contains(rec.Calls, "pivot_root . .") {
		t.Errorf("failing callback: %v, calls %q", err, rec.Calls)
	}
}

// TestSetupFailureDetachesRootfs: a failure leaves no mount behind in the
// init's namespace: the rootfs bind, and all below it, is detached.
func TestSetupFailureDetachesRootfs(t *testing.T) {
	for _, tt := range []struct {
		call    string
		n       int
		wantErr string
	}{
		{"mount", 4, `mounts[0] (proc on /proc): mount with options "": operation not permitted`},
		{"move_mount", 1, "mounts[1] (bind $SRC on /data): move_mount $SRC to /data: operation not permitted"},
		{"mknod", 2, "device /dev/zero: mknod: operation not permitted"},
		{"pivot_root", 1, "pivot_root: operation not permitted"},
	} {
		t.Run(tt.call, func(t *testing.T) {
			root, rec := newRootfs(t)
			src := t.TempDir()
			c := &Config{Spec: &specs.Spec{Mounts: []specs.Mount{
				{Destination: "/proc", Type: "proc"},
				{Destination: "/data", Source: src, Options: []string{"bind"}},
			}}, Rootfs: root}
			rec.Fail(tt.call, tt.n, unix.EPERM)
			err := Setup(c, nil)
			if want := strings.ReplaceAll(tt.wantErr, "$SRC", src); err == nil || err.Error() != want {
				t.Errorf("error %v, want %q", err, want)
			}
			if last := rec.Calls[len(rec.Calls)-1]; last != "umount / detach" {
				t.Errorf("last call %q, want the rootfs detached", last)
			}
		})
	}
}

// TestSetupDestinationsStayInRoot: a destination through a symlink that
// points at "/" or above is resolved inside the rootfs.
func TestSetupDestinationsStayInRoot(t *testing.T) {
	root, rec := newRootfs(t)
	os.Symlink("/", filepath.Join(root, "abs"))
	os.Symlink("../../../../..", filepath.Join(root, "up"))
	probe := "rt-unit-escape-" + filepath.Base(root)
	c := &Config{Spec: &specs.Spec{Mounts: []specs.Mount{
		{Destination: "/abs/" + probe, Type: "tmpfs"},
		{Destination: "/up/" + probe + "-2", Type: "tmpfs"},
	}}, Rootfs: root}
	if err := Setup(c, nil); err != nil {
		t.Fatal(err)
	}
	want := []string{`mount tmpfs /` + probe + ` tmpfs 0 ""`, `mount tmpfs /` + probe + `-2 tmpfs 0 ""`}
	if got := rec.Only("mount")[3:5]; !slices.Equal(got, want) {
		t.Errorf("mounts %q, want %q", got, want)
	}
	for _, p := range []string{"/" + probe, "/" + probe + "-2"} {
		if _, err := os.Stat(p); err == nil {
			os.Remove(p)
			t.Errorf("%s was made on the host", p)
		}
		if _, err := os.Stat(filepath.Join(root, p)); err != nil {
			t.Errorf("%s not made in the rootfs: %v", p, err)
		}
	}
}

// TestSetupRefusesInvalid: Setup validates the spec again in the init.
func TestSetupRefusesInvalid(t *testing.T) {
	root, rec := newRootfs(t)
	c := &Config{Spec: &specs.Spec{Mounts: []specs.Mount{{Destination: "/x", Type: "tmpfs", Options: []string{"frob"}}}}, Rootfs: root}
	if err := Setup(c, nil); err == nil || err.Error() != `mounts[0].options: unknown option "frob"` || len(rec.Calls) != 0 {
		t.Errorf("Setup = %v after %q", err, rec.Calls)
	}
}

// TestCopyTree: tmpcopyup copies what the tmpfs covers, keeping modes,
// owners (through the seam: only root may give files away), links.
func TestCopyTree(t *testing.T) {
	src, dst := t.TempDir(), t.TempDir()
	rec := kerneltest.New(t, "")
	os.MkdirAll(filepath.Join(src, "sub"), 0o750)
	os.WriteFile(filepath.Join(src, "sub/keep.txt"), []byte("kept"), 0o640)
	os.Symlink("sub/keep.txt", filepath.Join(src, "link"))
	s, _ := os.Open(src)
	d, _ := os.Open(dst)
	defer s.Close()
	defer d.Close()
	if err := copyTree(s, d); err != nil {
		t.Fatal(err)
	}
	if b, err := os.ReadFile(filepath.Join(dst, "sub/keep.txt")); err != nil || string(b) != "kept" {
		t.Errorf("copied file: %q, %v", b, err)
	}
	if l, err := os.Readlink(filepath.Join(dst, "link")); err != nil || l != "sub/keep.txt" {
		t.Errorf("copied link: %q, %v", l, err)
	}
	if fi, err := os.Stat(filepath.Join(dst, "sub")); err != nil || fi.Mode().Perm() != 0o750 {
		t.Errorf("copied directory mode: %v, %v", fi.Mode(), err)
	}
	if n := len(rec.Only("chown")); n != 3 {
		t.Errorf("%d chowns, want one per entry: %q", n, rec.Calls)
	}
}

func TestFinalize(t *testing.T) {
	root, rec := newRootfs(t)
	containerRoot = root
	t.Cleanup(func() { containerRoot = "/" })
	os.MkdirAll(filepath.Join(root, "proc/sys"), 0o755)
	os.MkdirAll(filepath.Join(root, "proc/acpi"), 0o755)
	os.MkdirAll(filepath.Join(root, "proc/scsi"), 0o755)
	os.WriteFile(filepath.Join(root, "proc/kcore"), nil, 0o400)
	// A stand-in for the null device, which only root could make.
	os.MkdirAll(filepath.Join(root, "dev"), 0o755)
	os.WriteFile(filepath.Join(root, "dev/null"), nil, 0o666)
	isNull := isNullDevice
	isNullDevice = func(int) error { return nil }
	t.Cleanup(func() { isNullDevice = isNull })
	spec := &specs.Spec{
		Root: &specs.Root{Readonly: true},
		Mounts: []specs.Mount{
			{Destination: "/dev", Type: "tmpfs", Options: []string{"nosuid", "ro"}},
			{Destination: "/proc", Type: "tmpfs", Options: []string{"ro", "rw"}},
		},
		Linux: &specs.Linux{
			MaskedPaths:   []string{"/proc/kcore", "/proc/acpi", "/proc/nonexistent", "/etc/hostname/below-a-file", "/proc/scsi", "proc/kcore", "/proc//acpi/"},
			ReadonlyPaths: []string{"/proc/sys", "/proc/absent"},
		},
	}
	if err := Finalize(&Config{Spec: spec, Rootfs: root}); err != nil {
		t.Fatalf("Finalize: %v\n%s", err, strings.Join(rec.Calls, "\n"))
	}
	// Read-only tmpfs mounts, read-only paths, then masks with the
	// container's own /dev/null and one read-only tmpfs for every
	// directory; each path once.
	want := []string{
		"mount_setattr /dev set=ro",
		"open_tree /proc/sys clone|recursive",
		"mount_setattr /proc/sys recursive set=ro",
		"move_mount /proc/sys -> /proc/sys",
		"open_tree /dev/null clone",
		"move_mount /dev/null -> /proc/kcore",
		"fsopen tmpfs",
		"fsconfig fs tmpfs create",
		"fsmount tmpfs ro",
		"move_mount new tmpfs -> /proc/acpi",
		"open_tree /proc/acpi clone",
		"move_mount /proc/acpi -> /proc/scsi",
		"mount_setattr host:/ set=ro",
	}
	if !slices.Equal(rec.Calls, want) {
		t.Errorf("calls:\n  %s\nwant:\n  %s", strings.Join(rec.Calls, "\n  "), strings.Join(want, "\n  "))
	}
	rec.Reset()
	rec.Fail("move_mount", 2, unix.EPERM)
	spec.Mounts = nil
	if err := Finalize(&Config{Spec: spec, Rootfs: root}); err == nil || err.Error() != "linux.maskedPaths[0] /proc/kcore: bind /dev/null: operation not permitted" {
		t.Errorf("failing mask: %v", err)
	}
}

func TestMountConsole(t *testing.T) {
	root, rec := newRootfs(t)
	containerRoot = root
	t.Cleanup(func() { containerRoot = "/" })
	os.MkdirAll(filepath.Join(root, "dev/pts"), 0o755)
	if err := MountConsole("/dev/pts/3"); err != nil {
		t.Fatal(err)
	}
	want := []string{"open_tree host:/dev/pts/3 clone", "move_mount host:/dev/pts/3 -> /dev/console"}
	if !slices.Equal(rec.Calls, want) {
		t.Errorf("calls %q, want %q", rec.Calls, want)
	}
	if fi, err := os.Stat(filepath.Join(root, "dev/console")); err != nil || !fi.Mode().IsRegular() {
		t.Errorf("no mount point for the console: %v", err)
	}
}

func TestMountCgroup(t *testing.T) {
	hostMounts := []mountinfo.Mount{
		{ID: 1, Root: "/", Point: "/"},
		{ID: 30, Root: "/", Point: "/sys/fs/cgroup/memory", FSType: "cgroup", SuperOptions: []string{"rw", "memory"}},
		{ID: 31, Root: "/", Point: "/sys/fs/cgroup/cpu,cpuacct", FSType: "cgroup", SuperOptions: []string{"rw", "cpu", "cpuacct"}},
		{ID: 32, Root: "/", Point: "/sys/fs/cgroup/systemd", FSType: "cgroup", SuperOptions: []string{"rw", "xattr", "name=systemd"}},
		{ID: 33, Root: "/", Point: "/sys/fs/cgroup/unified", FSType: "cgroup2", SuperOptions: []string{"rw"}},
	}
	own := []proccgroup.Hierarchy{
		{Controllers: "memory", Path: "/user/rt"}, {Controllers: "cpu,cpuacct", Path: "/user"},
		{Controllers: "name=systemd", Path: "/init.scope"}, {Controllers: "", Path: "/u"},
	}
	cgroupMount := specs.Mount{Destination: "/sys/fs/cgroup", Type: "cgroup", Options: []string{"ro", "nosuid"}}
	tests := []struct {
		name  string
		cfg   func(c *Config)
		kinds []string
		want  []string
		links []string
	}{
		{
			name:  "hybrid, no cgroup namespace: the container's cgroups are bound",
			cfg:   func(c *Config) { c.CgroupPaths = map[string]string{"memory": "/sys/fs/cgroup/memory/user/rt/c1"} },
			kinds: []string{"mount", "open_tree", "move_mount", "mount_setattr"},
			want: []string{
				`mount tmpfs /sys/fs/cgroup tmpfs nosuid|nodev|noexec "mode=755"`,
				"open_tree host:/sys/fs/cgroup/memory/user/rt/c1 clone",
				"mount_setattr host:/sys/fs/cgroup/memory/user/rt/c1 set=ro|nosuid",
				"move_mount host:/sys/fs/cgroup/memory/user/rt/c1 -> /sys/fs/cgroup/memory",
				"open_tree host:/sys/fs/cgroup/cpu,cpuacct/user clone",
				"mount_setattr host:/sys/fs/cgroup/cpu,cpuacct/user set=ro|nosuid",
				"move_mount host:/sys/fs/cgroup/cpu,cpuacct/user -> /sys/fs/cgroup/cpu,cpuacct",
				"open_tree host:/sys/fs/cgroup/systemd/init.scope clone",
				"mount_setattr host:/sys/fs/cgroup/systemd/init.scope set=ro|nosuid",
				"move_mount host:/sys/fs/cgroup/systemd/init.scope -> /sys/fs/cgroup/systemd",
				"open_tree host:/sys/fs/cgroup/unified/u clone",
				"mount_setattr host:/sys/fs/cgroup/unified/u set=ro|nosuid",
				"move_mount host:/sys/fs/cgroup/unified/u -> /sys/fs/cgroup/unified",
				"mount_setattr /sys/fs/cgroup set=ro",
			},
			links: []string{"cpu", "cpuacct"},
		},
		{
			name:  "cgroup namespace: fresh mounts",
			cfg:   func(c *Config) { c.CgroupNS = true },
			kinds: []string{"mount"},
			want: []string{
				`mount tmpfs /sys/fs/cgroup tmpfs nosuid|nodev|noexec "mode=755"`,
				`mount cgroup /sys/fs/cgroup/memory cgroup ro|nosuid "memory"`,
				`mount cgroup /sys/fs/cgroup/cpu,cpuacct cgroup ro|nosuid "cpu,cpuacct"`,
				`mount cgroup /sys/fs/cgroup/systemd cgroup ro|nosuid "name=systemd"`,
				`mount cgroup2 /sys/fs/cgroup/unified cgroup2 ro|nosuid ""`,
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			root, rec := newRootfs(t)
			rec.Mounts, rec.Cgroups = hostMounts, own
			c := &Config{Spec: &specs.Spec{Mounts: []specs.Mount{cgroupMount}}, Rootfs: root}
			tt.cfg(c)
			if err := Setup(c, nil); err != nil {
				t.Fatalf("Setup: %v\n%s", err, strings.Join(rec.Calls, "\n"))
			}
			got := slices.DeleteFunc(rec.Only(tt.kinds...), func(l string) bool {
				return strings.HasPrefix(l, `mount "" `) || strings.HasPrefix(l, "mount / ") || strings.Contains(l, " /dev ")
			})
			if !slices.Equal(got, tt.want) {
				t.Errorf("calls:\n  %s\nwant:\n  %s", strings.Join(got, "\n  "), strings.Join(tt.want, "\n  "))
			}
			for _, l := range tt.links {
				if target, err := os.Readlink(filepath.Join(root, "sys/fs/cgroup", l)); err != nil || target != "cpu,cpuacct" {
					t.Errorf("link %s -> %q (%v)", l, target, err)
				}
			}
		})
	}
}

func TestHostMounts(t *testing.T) {
	root, rec := newRootfs(t)
	rec.Mounts = append(rec.Mounts, mountinfo.Mount{ID: 50, Point: root}, mountinfo.Mount{ID: 51, Point: root}, mountinfo.Mount{ID: 52, Point: root + "/proc"})
	if n, err := MountsAt(root); err != nil || n != 2 {
		t.Errorf("MountsAt = %d, %v; want 2", n, err)
	}
	if err := DetachHostMounts(root, 2); err != nil || len(rec.Calls) != 0 {
		t.Errorf("nothing above the mounts before: %v, %q", err, rec.Calls)
	}
	// The fake's table does not change: detaching never gets below.
	err := DetachHostMounts(root, 1)
	if err == nil || !strings.Contains(err.Error(), "mounts keep reappearing") || len(rec.Only("umount")) != 16 {
		t.Errorf("DetachHostMounts = %v after %d umounts", err, len(rec.Only("umount")))
	}
}
