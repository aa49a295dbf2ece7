package integration

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// TestTmpfsMode: a tmpfs over an existing directory gets that directory's
// mode, set-id and sticky bits included, unless its options name one; a
// tmpfs on a new directory gets the kernel's 1777 (runc's rules).
func TestTmpfsMode(t *testing.T) {
	b := newBundle(t, "stat", "-c", "%a %n", "/perm", "/explicit", "/new/dir", "/new")
	os.Mkdir(b.rootfsFile("perm"), 0o700)
	os.Chmod(b.rootfsFile("perm"), 0o710|os.ModeSetgid|os.ModeSticky)
	os.Mkdir(b.rootfsFile("explicit"), 0o755)
	b.Spec.Mounts = append(b.Spec.Mounts,
		specs.Mount{Destination: "/perm", Type: "tmpfs", Source: "tmpfs", Options: []string{"size=1m"}},
		specs.Mount{Destination: "/explicit", Type: "tmpfs", Source: "tmpfs", Options: []string{"mode=1500"}},
		specs.Mount{Destination: "/new/dir", Type: "tmpfs", Source: "tmpfs"},
	)
	want := "3710 /perm\n1500 /explicit\n1777 /new/dir\n755 /new\n"
	if got := b.output(); got != want {
		t.Errorf("modes inside:\n%s\nwant\n%s", got, want)
	}
}

// TestBindThroughDanglingLinks: a bind destination reached through symlinks
// that lead nowhere yet is created where they lead, inside the rootfs, for
// a file and a directory; a link pointing out of the rootfs stays inside.
func TestBindThroughDanglingLinks(t *testing.T) {
	src := t.TempDir()
	os.WriteFile(filepath.Join(src, "hosts"), []byte("mine\n"), 0o644)
	os.Mkdir(filepath.Join(src, "dir"), 0o755)
	var st syscall.Stat_t
	syscall.Stat(filepath.Join(src, "hosts"), &st)
	b := newBundle(t, "sh", "-c", "cat /tmp/foo/bar/baz/hosts; stat -c %i /tmp/foo/bar/baz/hosts; test -d /tmp/dirlink && echo dir; test -d /outside && echo inside")
	os.Symlink("/tmp/foo/bar", b.rootfsFile("jump"))
	os.Remove(b.rootfsFile("etc/hosts"))
	os.Symlink("/jump/baz/hosts", b.rootfsFile("etc/hosts"))
	os.Symlink("/tmp/dirlink", b.rootfsFile("etc/dirlink"))
	os.Symlink("../../../../../outside", b.rootfsFile("etc/escape"))
	outside := filepath.Join(filepath.Dir(b.Dir), "outside")
	b.Spec.Mounts = append(b.Spec.Mounts,
		specs.Mount{Destination: "/etc/hosts", Type: "bind", Source: filepath.Join(src, "hosts"), Options: []string{"bind"}},
		specs.Mount{Destination: "/etc/dirlink", Type: "bind", Source: filepath.Join(src, "dir"), Options: []string{"bind"}},
		specs.Mount{Destination: "/etc/escape", Type: "bind", Source: filepath.Join(src, "dir"), Options: []string{"bind"}},
	)
	want := fmt.Sprintf("mine\n%d\ndir\ninside\n", st.Ino)
	if got := b.output(); got != want {
		t.Errorf("inside:\n%q\nwant\n%q", got, want)
	}
	for _, p := range []string{"tmp/foo/bar/baz/hosts", "tmp/dirlink", "outside"} {
		if _, err := os.Lstat(b.rootfsFile(p)); err != nil {
			t.Errorf("%s was not made in the rootfs: %v", p, err)
		}
	}
	if _, err := os.Lstat(outside); err == nil || !strings.Contains(err.Error(), "no such file") {
		t.Errorf("something was made outside the rootfs: %s (%v)", outside, err)
	}
}

// TestMaskedPathsOnceSharedTmpfs: a path listed twice is masked once; every masked
// directory shows one read-only tmpfs (as runc 1.5), files the null device.
func TestMaskedPathsOnceSharedTmpfs(t *testing.T) {
	b := newBundle(t, "sh", "-c", `grep -c ' /testdir ' /proc/self/mounts; grep -c ' /testfile ' /proc/self/mounts
stat -c %d /testdir /testdir2 /testdir3 | uniq | wc -l; touch /testdir2/x 2>&1 | grep -c Read-only; cat /testfile; echo end`)
	for _, d := range []string{"testdir", "testdir2", "testdir3"} {
		os.Mkdir(b.rootfsFile(d), 0o755)
	}
	os.WriteFile(b.rootfsFile("testfile"), []byte("secret\n"), 0o644)
	b.Spec.Linux.MaskedPaths = append(b.Spec.Linux.MaskedPaths, "/testdir", "/testfile", "/testdir2", "/testdir/", "/testdir3", "/testfile")
	if got, want := b.output(), "1\n1\n1\n1\nend\n"; got != want {
		t.Errorf("inside:\n%q\nwant\n%q", got, want)
	}
}

// TestReadonlyDevTmpfs: a read-only tmpfs on /dev gets its submounts and
// device nodes first and is read-only afterwards, as with runc.
func TestReadonlyDevTmpfs(t *testing.T) {
	b := newBundle(t, "sh", "-c", `grep '^tmpfs /dev ' /proc/mounts | cut -d' ' -f4 | cut -d, -f1; test -c /dev/null && echo null; grep -c ' /dev/pts ' /proc/mounts; touch /dev/x 2>&1 | grep -c Read-only`)
	for i, m := range b.Spec.Mounts {
		if m.Destination == "/dev" {
			b.Spec.Mounts[i].Options = append(m.Options, "ro")
		}
	}
	if got, want := b.output(), "ro\nnull\n1\n1\n"; got != want {
		t.Errorf("inside:\n%q\nwant\n%q", got, want)
	}
}
