package integration

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// Regression tests for the rootfs escape paths of issue 12 (findings 2 and
// 3): each failed against rt before its fix.

// replaceMount swaps the spec's mount at dest for m (or appends m).
func (b *bundle) replaceMount(dest string, m specs.Mount) {
	for i := range b.Spec.Mounts {
		if b.Spec.Mounts[i].Destination == dest {
			b.Spec.Mounts[i] = m
			return
		}
	}
	b.Spec.Mounts = append(b.Spec.Mounts, m)
}

// TestEscapeMaskedPathViaDevNullSymlink (CVE-2025-31133 class): a bundle
// whose /dev has null -> /proc/sys/kernel/core_pattern must not get the host's
// core_pattern bound, writable, over a masked path.
func TestEscapeMaskedPathViaDevNullSymlink(t *testing.T) {
	b := newBundle(t, "sh", "-c", "stat -L -c '%F %t:%T' /masked; head -c 64 /masked")
	if err := os.WriteFile(b.rootfsFile("masked"), []byte("secret\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	evil := b.rootfsFile("evildev")
	if err := os.MkdirAll(evil, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("/proc/sys/kernel/core_pattern", filepath.Join(evil, "null")); err != nil {
		t.Fatal(err)
	}
	b.replaceMount("/dev", specs.Mount{Destination: "/dev", Type: "bind", Source: evil, Options: []string{"rbind"}})
	b.Spec.Linux.MaskedPaths = []string{"/masked"}
	r := b.run()
	t.Logf("%s", r)
	pattern, _ := os.ReadFile("/proc/sys/kernel/core_pattern")
	if p := strings.TrimSpace(string(pattern)); p != "" && strings.Contains(r.Stdout, p) {
		t.Fatalf("the masked file shows the host's core_pattern: %s", r)
	}
	if r.Code == 0 && !strings.Contains(r.Stdout, "character special file 1:3") {
		t.Errorf("the masked file is not the null device: %s", r)
	}
	if r.Code != 0 && !strings.Contains(r.Stderr, "/dev/null") {
		t.Errorf("refused without naming /dev/null: %s", r)
	}
	assertNoLeaks(t, b, 0)
}

// TestEscapeVolumeOnProc (CVE-2019-19921 class): with /data -> /proc in the
// image, a volume at /data must not land on /proc, where rt would then write
// the container's sysctls and oom_score_adj into the volume's files.
func TestEscapeVolumeOnProc(t *testing.T) {
	b := newBundle(t, "true")
	if err := os.Symlink("/proc", b.rootfsFile("data")); err != nil {
		t.Fatal(err)
	}
	fake := filepath.Join(b.Dir, "fakeproc")
	for _, f := range []string{"sys/kernel/shmmax", "self/oom_score_adj", "thread-self/oom_score_adj"} {
		os.MkdirAll(filepath.Join(fake, filepath.Dir(f)), 0o755)
		os.WriteFile(filepath.Join(fake, f), []byte("FAKE\n"), 0o644)
	}
	b.Spec.Mounts = append(b.Spec.Mounts, specs.Mount{Destination: "/data", Type: "bind", Source: fake, Options: []string{"rbind"}})
	b.Spec.Linux.Sysctl = map[string]string{"kernel.shmmax": "123456789"}
	adj := 100
	b.Spec.Process.OOMScoreAdj = &adj
	r := b.run()
	for _, f := range []string{"sys/kernel/shmmax", "self/oom_score_adj"} {
		if got, _ := os.ReadFile(filepath.Join(fake, f)); string(got) != "FAKE\n" {
			t.Errorf("rt wrote %q into the volume's %s", got, f)
		}
	}
	if r.Code == 0 || !strings.Contains(r.Stderr, "cannot be mounted because it is not of type proc") {
		t.Errorf("a volume resolving to /proc: %s, want runc's refusal", r)
	}
	assertNoLeaks(t, b, 0)
}

// TestEscapeProcSysSymlink: /proc (or /sys) in the rootfs must be a real
// directory; a symlink would move procfs elsewhere (runc: "must be mounted
// on ordinary directory").
func TestEscapeProcSysSymlink(t *testing.T) {
	for _, dir := range []string{"proc", "sys"} {
		for _, kind := range []string{"symlink", "file"} {
			t.Run(dir+"-"+kind, func(t *testing.T) {
				b := newBundle(t, "true")
				os.RemoveAll(b.rootfsFile(dir))
				os.MkdirAll(b.rootfsFile("bad-"+dir), 0o755)
				var err error
				if kind == "symlink" {
					err = os.Symlink("/bad-"+dir, b.rootfsFile(dir))
				} else {
					err = os.WriteFile(b.rootfsFile(dir), nil, 0o644)
				}
				if err != nil {
					t.Fatal(err)
				}
				r := b.run()
				if r.Code == 0 || !strings.Contains(r.Stderr, "must be mounted on ordinary directory") {
					t.Errorf("%s as a %s: %s, want a refusal", dir, kind, r)
				}
				if entries, _ := os.ReadDir(b.rootfsFile("bad-" + dir)); len(entries) > 0 {
					t.Errorf("something was mounted on /bad-%s", dir)
				}
				assertNoLeaks(t, b, 0)
			})
		}
	}
}

// TestEscapeNoPivotProc: with --no-pivot the host's full procfs must not
// stay in the container's mount namespace: a process in a user namespace of
// its own could then mount a fresh procfs, with nothing masked (the kernel
// allows it while one is fully visible).
func TestEscapeNoPivotProc(t *testing.T) {
	b := newBundle(t, "unshare", "-mrpf", "sh", "-c", "mount -t proc none /proc && echo MOUNTED")
	// Not root: mapping uid 0 in a new user namespace takes CAP_SETFCAP.
	b.Spec.Process.User = specs.User{UID: 1000, GID: 1000}
	r := b.run("--no-pivot")
	if strings.Contains(r.Stdout, "MOUNTED") {
		t.Errorf("a fresh procfs could be mounted in a --no-pivot container: %s", r)
	}
	if !strings.Contains(r.Stderr, "mount") {
		t.Errorf("the container did not try (or rt failed): %s", r)
	}
}
