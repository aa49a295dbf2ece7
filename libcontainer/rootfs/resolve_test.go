package rootfs

import (
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"golang.org/x/sys/unix"
)

func mustOpenRootDir(t *testing.T, path string) *rootDir {
	t.Helper()
	r, err := openRootDir(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.Close() })
	return r
}

// where returns the path of f relative to root ("/" for root itself), or
// the host path when f is outside root.
func where(t *testing.T, root string, f *os.File) string {
	t.Helper()
	p, err := os.Readlink(procFdPath(f))
	if err != nil {
		t.Fatal(err)
	}
	if p == root {
		return "/"
	}
	if rel, ok := strings.CutPrefix(p, root+"/"); ok {
		return "/" + rel
	}
	return "host:" + p
}

// checkOutcome checks a lookup's result f, err against want: where f must
// be (relative to root), or "error: <text>". It says whether f is open, for
// the caller to check more and close.
func checkOutcome(t *testing.T, root string, f *os.File, err error, want string) bool {
	t.Helper()
	if text, ok := strings.CutPrefix(want, "error: "); ok {
		if err == nil {
			f.Close()
			t.Errorf("accepted, want an error with %q", text)
		} else if !strings.Contains(err.Error(), text) {
			t.Errorf("%v, want an error with %q", err, text)
		}
		return false
	}
	if err != nil {
		t.Fatal(err)
	}
	if got := where(t, root, f); got != want {
		t.Errorf("at %s, want %s", got, want)
	}
	return true
}

// escapeRootfs is a rootfs whose links all try to lead out of it.
func escapeRootfs(t *testing.T) string {
	t.Helper()
	root := t.TempDir()
	for _, d := range []string{"etc", "run", "a/b", "dir"} {
		if err := os.MkdirAll(filepath.Join(root, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	for name, target := range map[string]string{
		"abs":          "/",
		"up":           "../../../../../..",
		"a/b/upup":     "../../../../../../etc",
		"etc/hosts":    "/run/hosts",         // dangling, inside
		"etc/resolv":   "../run/resolv.conf", // dangling, relative
		"etc/deep":     "/new/dir/file",      // dangling, parents missing
		"hostetc":      "/../../../etc",
		"procroot":     "/proc/self/root",
		"loop1":        "loop2",
		"loop2":        "loop1",
		"dir/tofile":   "/file",
		"a/b/relchain": "../../a/../a/b/../../dir",
	} {
		if err := os.Symlink(target, filepath.Join(root, name)); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(filepath.Join(root, "file"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	return root
}

// TestRootDirOpen: every lookup stays in the root, whatever the links say;
// the same with pathrs-lite, used where openat2 is missing.
func TestRootDirOpen(t *testing.T) {
	t.Run("openat2", testRootDirOpen)
	t.Run("pathrs-lite", func(t *testing.T) {
		noOpenat2.Store(true)
		t.Cleanup(func() { noOpenat2.Store(false) })
		testRootDirOpen(t)
	})
}

func testRootDirOpen(t *testing.T) {
	root := escapeRootfs(t)
	r := mustOpenRootDir(t, root)
	for _, tc := range []struct {
		path string
		want string // where it lands, or "error: <text>"
	}{
		{"/", "/"},
		{"/abs", "/"},
		{"/abs/etc", "/etc"},
		{"/up", "/"},
		{"/up/etc", "/etc"},
		{"/../../..", "/"},
		{"/a/b/upup", "/etc"},
		{"/hostetc", "/etc"},
		{"/a/b/relchain", "/dir"},
		{"/dir/tofile", "/file"},
		{"/etc/hosts", "error: no such file"},
		{"/procroot", "error: no such file"}, // /proc is not in this rootfs
		{"/loop1", "error: too many levels of symbolic links"},
		{"/file/x", "error: not a directory"},
	} {
		f, err := r.open(tc.path)
		got := ""
		if err != nil {
			got = "error: " + err.Error()
		} else {
			got = where(t, root, f)
			f.Close()
		}
		if want, ok := strings.CutPrefix(tc.want, "error: "); ok {
			if !strings.Contains(got, want) {
				t.Errorf("open %s: %s, want an error with %q", tc.path, got, want)
			}
		} else if got != tc.want {
			t.Errorf("open %s: %s, want %s", tc.path, got, tc.want)
		}
	}
}

// TestRootDirOpenRefusesMagicLinks: /proc/<pid>/fd/N and /proc/<pid>/root
// lead wherever the kernel says; a lookup refuses them, even with the
// host's procfs inside the root.
func TestRootDirOpenRefusesMagicLinks(t *testing.T) {
	r := mustOpenRootDir(t, "/")
	outside, err := os.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer outside.Close()
	for _, p := range []string{
		"/proc/self/root/etc",
		"/proc/self/cwd",
		"/proc/self/fd/" + strconv.Itoa(int(outside.Fd())),
		"/proc/thread-self/fd/" + strconv.Itoa(int(outside.Fd())) + "/x",
	} {
		f, err := r.open(p)
		if err == nil {
			f.Close()
			t.Errorf("open %s: accepted", p)
			continue
		}
		if !errors.Is(err, unix.ELOOP) {
			t.Errorf("open %s: %v, want ELOOP", p, err)
		}
		// Creating it refuses it the same way, and makes nothing.
		f, _, err = openDestination(r, p, true)
		if err == nil {
			f.Close()
			t.Errorf("openDestination %s: accepted", p)
		} else if !strings.Contains(err.Error(), "resolve destination "+p) {
			t.Errorf("openDestination %s: %v", p, err)
		}
	}
}

// TestOpenDestination: a missing destination is made where its links lead,
// always inside the root; the kind must match.
func TestOpenDestination(t *testing.T) {
	for _, tc := range []struct {
		dest    string
		dir     bool
		existed bool
		want    string // where it is made (relative to the root), or "error: <text>"
	}{
		{"/etc", true, true, "/etc"},
		{"/abs", true, true, "/"},
		{"/abs/new-abs", true, false, "/new-abs"},
		{"/up/new-up", true, false, "/new-up"},
		{"/a/b/upup/new-upup", true, false, "/etc/new-upup"},
		{"/hostetc/new-hostetc", true, false, "/etc/new-hostetc"},
		{"/etc/hosts", false, false, "/run/hosts"},
		{"/etc/resolv", false, false, "/run/resolv.conf"},
		{"/etc/deep", false, false, "/new/dir/file"},
		{"/etc/deep", true, false, "/new/dir/file"},
		{"/procroot/x", true, false, "/proc/self/root/x"}, // no procfs here: just names
		{"/a/missing/../made", true, false, "/a/made"},
		{"/a/b/relchain/made", true, false, "/dir/made"},
		{"/x/y/z", false, false, "/x/y/z"},
		{"/dir/tofile", false, true, "/file"},
		{"/file", true, false, "error: destination /file is not a directory"},
		{"/etc", false, false, "error: destination /etc is a directory but the source is not"},
		{"/file/below", true, false, "error: resolve destination /file/below: "},
		{"/loop1/x", true, false, "error: too many levels of symbolic links"},
	} {
		t.Run(strings.ReplaceAll(tc.dest, "/", "_"), func(t *testing.T) {
			root := escapeRootfs(t)
			r := mustOpenRootDir(t, root)
			f, existed, err := openDestination(r, tc.dest, tc.dir)
			if !checkOutcome(t, root, f, err, tc.want) {
				return
			}
			defer f.Close()
			if existed != tc.existed {
				t.Errorf("existed %v, want %v", existed, tc.existed)
			}
			var st unix.Stat_t
			if err := unix.Fstat(int(f.Fd()), &st); err != nil {
				t.Fatal(err)
			}
			if isDir := st.Mode&unix.S_IFMT == unix.S_IFDIR; isDir != tc.dir {
				t.Errorf("directory %v, want %v", isDir, tc.dir)
			}
			if _, err := os.Lstat(filepath.Join(root, "a/missing")); err == nil {
				t.Errorf("/a/missing was made, though .. came back from it")
			}
		})
	}
}

// TestOpenDestinationNothingOnHost: names that try to leave the root make
// nothing outside it.
func TestOpenDestinationNothingOnHost(t *testing.T) {
	root := escapeRootfs(t)
	r := mustOpenRootDir(t, root)
	probe := "rt-unit-resolve-" + filepath.Base(root)
	for _, dest := range []string{"/abs/" + probe, "/up/" + probe, "/../../" + probe, "/hostetc/../" + probe} {
		f, err := prepareDestination(r, dest, false)
		if err != nil {
			t.Fatalf("%s: %v", dest, err)
		}
		if got := where(t, root, f); got != "/"+probe {
			t.Errorf("%s: made at %s, want /%s", dest, got, probe)
		}
		f.Close()
	}
	if _, err := os.Lstat("/" + probe); err == nil {
		os.Remove("/" + probe)
		t.Errorf("/%s was made on the host", probe)
	}
}

// TestRootDirMountedOn: only a mount on the root itself reopens it.
func TestRootDirMountedOn(t *testing.T) {
	root := escapeRootfs(t)
	r := mustOpenRootDir(t, root)
	before := r.f
	etc, err := r.open("/etc")
	if err != nil {
		t.Fatal(err)
	}
	defer etc.Close()
	if err := r.mountedOn(etc); err != nil {
		t.Fatal(err)
	}
	if r.f != before {
		t.Errorf("a mount on /etc reopened the root")
	}
	self, err := r.open("/abs")
	if err != nil {
		t.Fatal(err)
	}
	defer self.Close()
	if err := r.mountedOn(self); err != nil {
		t.Fatal(err)
	}
	if r.f == before {
		t.Errorf("a mount on the root (through /abs) did not reopen it")
	}
}

// TestRootDirMkdirAll: device parents and process.cwd follow links inside
// the root to what exists, and refuse a link that leads nowhere yet.
func TestRootDirMkdirAll(t *testing.T) {
	for _, tc := range []struct {
		path string
		want string // where the directory is, or "error: <text>"
	}{
		{"/etc", "/etc"},
		{"/abs", "/"},
		{"/up/new-up", "/new-up"},
		{"/a/b/upup/x/y", "/etc/x/y"},
		{"/hostetc/new", "/etc/new"},
		{"/a/b/relchain/made", "/dir/made"},
		{"dir/rel", "/dir/rel"},
		{"/new1/new2/./new3", "/new1/new2/new3"},
		{"/etc/hosts", "error: open hosts: not a directory"},     // dangling link
		{"/etc/hosts/x", "error: open hosts: not a directory"},   // through one
		{"/procroot/x", "error: open procroot: not a directory"}, // dangling here
		{"/file", "error: cannot create subdirectories in /file: not a directory"},
		{"/file/x", "error: cannot create subdirectories in /file: not a directory"},
		{"/missing/../x", `error: contains ".."`},
		{"/loop1/x", "error: too many levels of symbolic links"},
	} {
		t.Run(strings.ReplaceAll(tc.path, "/", "_"), func(t *testing.T) {
			root := escapeRootfs(t)
			r := mustOpenRootDir(t, root)
			f, err := r.mkdirAll(tc.path)
			if checkOutcome(t, root, f, err, tc.want) {
				f.Close()
			}
			if _, err := os.Lstat(filepath.Join(root, "run/hosts")); err == nil {
				t.Errorf("/run/hosts was made through the dangling link")
			}
		})
	}
	// Magic links are refused, with the host's procfs inside the root.
	r := mustOpenRootDir(t, "/")
	probe := "rt-unit-mkdir-" + strconv.Itoa(os.Getpid())
	if f, err := r.mkdirAll("/proc/self/root/tmp/" + probe); err == nil {
		f.Close()
		os.Remove("/tmp/" + probe)
		t.Errorf("mkdirAll through /proc/self/root: accepted")
	} else if !errors.Is(err, unix.ELOOP) {
		t.Errorf("mkdirAll through /proc/self/root: %v, want ELOOP", err)
	}
}
