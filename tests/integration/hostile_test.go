package integration

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// hostileCase is one bundle a hostile image or config author could hand rt.
type hostileCase struct {
	name string
	// setup changes the bundle; it may return raw config.json bytes to
	// write instead of the spec (JSON that encoding/json would not produce).
	setup func(t *testing.T, b *bundle) []byte
	// refuse is a piece of the error rt must give; empty means the
	// container must run (and exit 0).
	refuse string
}

// TestHostileBundles: whatever the bundle, rt gives a clear error or runs a
// container confined to its rootfs; never a panic, a hang, a leftover or a
// write on the host.
func TestHostileBundles(t *testing.T) {
	canary := filepath.Join(workDir, "canary")
	if err := os.MkdirAll(filepath.Join(canary, "dir"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(canary, "file"), []byte("host\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	symlink := func(t *testing.T, target, link string) {
		t.Helper()
		os.RemoveAll(link)
		if err := os.Symlink(target, link); err != nil {
			t.Fatal(err)
		}
	}
	mountsAt := func(b *bundle, dest string, n int, opts ...string) {
		for i := 0; i < n; i++ {
			b.Spec.Mounts = append(b.Spec.Mounts, specs.Mount{Destination: fmt.Sprintf("%s/m%d", dest, i), Type: "tmpfs", Source: "tmpfs", Options: opts})
		}
	}
	cases := []hostileCase{
		{"one huge argument", func(t *testing.T, b *bundle) []byte {
			b.Spec.Process.Args = []string{"true", strings.Repeat("a", 1<<20)}
			return nil
		}, "argument list too long"},
		// 100000 pointers and strings: 1 MB of the 2 MB execve allows here.
		{"100000 arguments", func(t *testing.T, b *bundle) []byte {
			b.Spec.Process.Args = append([]string{"true"}, strings.Split(strings.Repeat("x ", 100000), " ")[:100000]...)
			return nil
		}, ""},
		{"huge environment", func(t *testing.T, b *bundle) []byte {
			b.Spec.Process.Env = append(b.Spec.Process.Env, "BIG="+strings.Repeat("e", 1<<20))
			return nil
		}, "argument list too long"},
		{"non-UTF-8 strings", func(t *testing.T, b *bundle) []byte {
			b.Spec.Process.Args = []string{"sh", "-c", "echo ARG; true", "ARG"}
			b.Spec.Hostname = "HOST"
			b.Spec.Mounts = append(b.Spec.Mounts, specs.Mount{Destination: "/mnt/DIR", Type: "tmpfs", Source: "tmpfs"})
			data := mustJSON(t, b.Spec)
			for _, s := range []string{`"ARG"`, `"HOST"`, `"/mnt/DIR"`} {
				data = strings.ReplaceAll(data, s, strings.TrimSuffix(s, `"`)+"\xff\xfe\"")
			}
			return []byte(data)
		}, ""},
		{"10000 mounts", func(t *testing.T, b *bundle) []byte {
			mountsAt(b, "/mnt", 10000, "size=4k")
			return nil
		}, ""},
		{"deeply nested destination", func(t *testing.T, b *bundle) []byte {
			b.Spec.Mounts = append(b.Spec.Mounts, specs.Mount{Destination: strings.Repeat("/d", 120), Type: "tmpfs", Source: "tmpfs"})
			return nil
		}, ""},
		{"destination longer than PATH_MAX", func(t *testing.T, b *bundle) []byte {
			b.Spec.Mounts = append(b.Spec.Mounts, specs.Mount{Destination: strings.Repeat("/dd", 2000), Type: "tmpfs", Source: "tmpfs"})
			return nil
		}, "mounts["},
		{"NUL in a destination", func(t *testing.T, b *bundle) []byte {
			b.Spec.Mounts = append(b.Spec.Mounts, specs.Mount{Destination: "/mnt/a\x00b", Type: "tmpfs", Source: "tmpfs"})
			return nil
		}, "mounts["},
		{"NUL in an argument", func(t *testing.T, b *bundle) []byte {
			b.Spec.Process.Args = []string{"echo", "a\x00b"}
			return nil
		}, "process.args"},
		{"NUL in the environment", func(t *testing.T, b *bundle) []byte {
			b.Spec.Process.Env = append(b.Spec.Process.Env, "X=a\x00b")
			return nil
		}, "process.env"},
		{"NUL in the cwd", func(t *testing.T, b *bundle) []byte {
			b.Spec.Process.Cwd = "/tmp\x00x"
			return nil
		}, "process.cwd"},
		// The kernel takes it, in the container's own uts namespace.
		{"NUL in the hostname", func(t *testing.T, b *bundle) []byte {
			b.Spec.Hostname = "a\x00b"
			return nil
		}, ""},
		{"huge hostname", func(t *testing.T, b *bundle) []byte {
			b.Spec.Hostname = strings.Repeat("h", 100000)
			return nil
		}, "hostname"},
		{"rootfs is a file", func(t *testing.T, b *bundle) []byte {
			os.RemoveAll(b.Rootfs)
			os.WriteFile(b.Rootfs, []byte("not a directory\n"), 0o644)
			return nil
		}, "root.path"},
		{"rootfs is a symlink to a directory of the bundle", func(t *testing.T, b *bundle) []byte {
			real := filepath.Join(b.Dir, "real-rootfs")
			if err := os.Rename(b.Rootfs, real); err != nil {
				t.Fatal(err)
			}
			symlink(t, "real-rootfs", b.Rootfs)
			return nil
		}, ""},
		{"rootfs is a dangling symlink", func(t *testing.T, b *bundle) []byte {
			os.RemoveAll(b.Rootfs)
			symlink(t, "nowhere", b.Rootfs)
			return nil
		}, "root.path"},
		{"rootfs is a symlink loop", func(t *testing.T, b *bundle) []byte {
			os.RemoveAll(b.Rootfs)
			symlink(t, "rootfs", b.Rootfs)
			return nil
		}, "root.path"},
		{"/proc is a symlink to the host's /proc", func(t *testing.T, b *bundle) []byte {
			symlink(t, "/proc", b.rootfsFile("proc"))
			return nil
		}, "must be mounted on ordinary directory"},
		{"/proc is a file", func(t *testing.T, b *bundle) []byte {
			os.RemoveAll(b.rootfsFile("proc"))
			os.WriteFile(b.rootfsFile("proc"), nil, 0o644)
			return nil
		}, "must be mounted on ordinary directory"},
		{"/sys is a symlink", func(t *testing.T, b *bundle) []byte {
			symlink(t, "/tmp", b.rootfsFile("sys"))
			return nil
		}, "must be mounted on ordinary directory"},
		// Resolved in the rootfs, the link points at itself.
		{"/dev is a symlink to the host's /dev", func(t *testing.T, b *bundle) []byte {
			symlink(t, "../../../../../../dev", b.rootfsFile("dev"))
			return nil
		}, "/dev"},
		// The /dev tmpfs lands on /etc, but masks take /dev/null only where
		// no link leads.
		{"/dev is a symlink to another directory", func(t *testing.T, b *bundle) []byte {
			symlink(t, "/etc", b.rootfsFile("dev"))
			return nil
		}, "linux.maskedPaths: open /dev/null"},
		{"/dev is a file", func(t *testing.T, b *bundle) []byte {
			os.RemoveAll(b.rootfsFile("dev"))
			os.WriteFile(b.rootfsFile("dev"), nil, 0o644)
			return nil
		}, "/dev"},
		{"volume through a symlink to a host directory", func(t *testing.T, b *bundle) []byte {
			symlink(t, filepath.Join(canary, "dir"), b.rootfsFile("tmp"))
			return nil
		}, ""},
		{"masked path through a symlink to a host file", func(t *testing.T, b *bundle) []byte {
			symlink(t, filepath.Join(canary, "file"), b.rootfsFile("etc/evil"))
			b.Spec.Linux.MaskedPaths = append(b.Spec.Linux.MaskedPaths, "/etc/evil")
			b.Spec.Linux.ReadonlyPaths = append(b.Spec.Linux.ReadonlyPaths, "/etc/evil")
			return nil
		}, ""},
		// The link resolves in the rootfs, to a directory that is not there.
		{"device node through a symlink out of the rootfs", func(t *testing.T, b *bundle) []byte {
			symlink(t, filepath.Join(canary, "dir"), b.rootfsFile("devlink"))
			b.Spec.Linux.Devices = append(b.Spec.Linux.Devices, specs.LinuxDevice{Path: "/devlink/null", Type: "c", Major: 1, Minor: 3})
			return nil
		}, "device /devlink/null"},
		{"cwd through a symlink to a magic link", func(t *testing.T, b *bundle) []byte {
			symlink(t, "/proc/self/fd/3", b.rootfsFile("cwdlink"))
			b.Spec.Process.Cwd = "/cwdlink"
			return nil
		}, "process.cwd"},
		{"JSON nested past the decoder's depth", func(t *testing.T, b *bundle) []byte {
			data := mustJSON(t, b.Spec)
			return []byte(strings.Replace(data, "{", `{"x":`+strings.Repeat("[", 20000)+strings.Repeat("]", 20000)+",", 1))
		}, "config.json"},
		{"8 MB annotation", func(t *testing.T, b *bundle) []byte {
			b.Spec.Annotations = map[string]string{"big": strings.Repeat("z", 8<<20)}
			return nil
		}, ""},
	}
	for _, tc := range cases {
		t.Run(sanitize(tc.name), func(t *testing.T) {
			b := newBundle(t, "true")
			b.Spec.Root.Readonly = false
			raw := tc.setup(t, b)
			b.write()
			if raw != nil {
				if err := os.WriteFile(filepath.Join(b.Dir, "config.json"), raw, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			hostname, _ := os.ReadFile("/proc/sys/kernel/hostname")
			start := time.Now()
			r := b.rt("run", "--bundle", b.Dir, b.ID)
			took := time.Since(start)
			t.Logf("exit %d in %v: %s", r.Code, took.Round(time.Millisecond), firstLine(r.Stderr))
			out := r.Stdout + r.Stderr
			switch {
			case strings.Contains(out, "panic:") || strings.Contains(out, "goroutine ") || strings.Contains(out, "SIGSEGV"):
				t.Errorf("rt crashed: %s", r)
			case strings.Contains(r.Stderr, "(killed after"):
				t.Errorf("rt hung: %s", r)
			case tc.refuse == "" && r.Code != 0:
				t.Errorf("want a container that runs: %s", r)
			case tc.refuse != "" && (r.Code == 0 || !strings.Contains(r.Stderr, tc.refuse)):
				t.Errorf("want an error naming %q: %s", tc.refuse, r)
			}
			if now, _ := os.ReadFile("/proc/sys/kernel/hostname"); string(now) != string(hostname) {
				t.Errorf("the host's hostname changed to %q", now)
			}
			checkCanary(t, canary)
			b.rt("delete", "--force", b.ID)
			assertNoLeaks(t, b, 0)
		})
	}
}

func mustJSON(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func firstLine(s string) string {
	s, _, _ = strings.Cut(strings.TrimSpace(s), "\n")
	if len(s) > 200 {
		s = s[:200] + "…"
	}
	return s
}

// checkCanary fails unless the host directory the bundles aim at is as it
// was: its two entries, the file's content, and nothing mounted on it.
func checkCanary(t *testing.T, canary string) {
	t.Helper()
	entries, _ := os.ReadDir(canary)
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	if strings.Join(names, ",") != "dir,file" {
		t.Errorf("host canary %s now holds %v", canary, names)
	}
	if inner, _ := os.ReadDir(filepath.Join(canary, "dir")); len(inner) != 0 {
		t.Errorf("something was written in the host's %s/dir", canary)
	}
	if data, _ := os.ReadFile(filepath.Join(canary, "file")); string(data) != "host\n" {
		t.Errorf("host canary file now reads %q", data)
	}
	f, err := os.Open("/proc/self/mountinfo")
	if err != nil {
		return
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if strings.Contains(sc.Text(), canary) {
			t.Errorf("mount on the host canary: %s", sc.Text())
		}
	}
}
