package integration

import (
	"os"
	"os/exec"
	"strings"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

// flagSource mounts a tmpfs with every flag clear and then remounts it with
// the per-mount flags hostFlags, as runc's mounts_sshfs.bats prepares its
// source; it is unmounted when the test ends.
func flagSource(t *testing.T, hostFlags string) string {
	t.Helper()
	dir, err := os.MkdirTemp(workDir, "bindsrc")
	if err != nil {
		t.Fatal(err)
	}
	os.Chmod(dir, 0o755)
	if out, err := exec.Command("mount", "-t", "tmpfs", "-o", "rw,suid,dev,exec,diratime,strictatime", "tmpfs", dir).CombinedOutput(); err != nil {
		t.Fatalf("mount tmpfs: %v: %s", err, out)
	}
	t.Cleanup(func() { unix.Unmount(dir, unix.MNT_DETACH); os.Remove(dir) })
	for _, o := range []string{"remount,diratime,atime,strictatime", "remount," + hostFlags} {
		if out, err := exec.Command("mount", "--bind", "-o", o, dir).CombinedOutput(); err != nil {
			t.Fatalf("mount --bind -o %s: %v: %s", o, err, out)
		}
	}
	return dir
}

// mntFlags returns the options /proc/self/mounts shows for /mnt in the
// container's output.
func mntFlags(out string) map[string]bool {
	flags := map[string]bool{}
	for _, line := range strings.Split(out, "\n") {
		f := strings.Fields(line)
		if len(f) > 3 && f[1] == "/mnt" {
			for _, o := range strings.Split(f[3], ",") {
				flags[o] = true
			}
		}
	}
	return flags
}

// TestBindMountFlags: a bind mount that names any flag gets exactly those
// (the others cleared, rw by default; the atime state kept unless named),
// one that names none keeps the source's; in a user namespace the flags the
// kernel locks are kept when not named, and naming them cleared fails with
// EPERM. As runc 1.5 (its mounts_sshfs.bats, here on a tmpfs source).
func TestBindMountFlags(t *testing.T) {
	for _, tt := range []struct {
		host, bind string
		userns     bool
		has, lacks []string
		fails      bool
	}{
		{host: "ro,noexec,nosymfollow,nodiratime", bind: "bind", has: []string{"ro", "noexec", "nosymfollow", "nodiratime"}},
		{host: "ro,noexec,nosymfollow,nodiratime", bind: "bind,dev", has: []string{"rw", "nodiratime"}, lacks: []string{"ro", "noexec", "nosymfollow"}},
		{host: "ro,noexec,nosymfollow,nodiratime", bind: "bind,dev", userns: true, has: []string{"ro", "noexec", "nodiratime"}, lacks: []string{"nosymfollow"}},
		{host: "ro", bind: "bind,nosuid,nodev,rprivate", has: []string{"rw", "nosuid", "nodev"}},
		{host: "ro", bind: "bind,nosuid,nodev,rprivate", userns: true, has: []string{"ro", "nosuid", "nodev"}},
		{host: "ro", bind: "bind,rw,nosuid,nodev", userns: true, fails: true},
		{host: "nosuid,nodev,noexec,noatime", bind: "bind,dev,suid,exec,atime", has: []string{"rw", "noatime"}, lacks: []string{"nosuid", "nodev", "noexec"}},
		{host: "rw,nodev,nosuid,noexec,noatime", bind: "bind,ro", userns: true, has: []string{"ro", "nosuid", "nodev", "noexec", "noatime"}},
		{host: "noatime", bind: "bind,relatime", has: []string{"relatime"}, lacks: []string{"noatime"}},
		{host: "relatime", bind: "bind,noatime", userns: true, fails: true},
	} {
		t.Run(tt.bind+" of "+tt.host, func(t *testing.T) {
			src := flagSource(t, tt.host)
			b := newBundle(t, "cat", "/proc/self/mounts")
			b.Spec.Mounts = append(b.Spec.Mounts, specs.Mount{Destination: "/mnt", Type: "bind", Source: src, Options: strings.Split(tt.bind, ",")})
			if tt.userns {
				withUserNS(b)
				b.mkdirs("mnt")
			}
			r := b.run()
			if tt.fails {
				if r.Code == 0 || !strings.Contains(r.Stderr, "operation not permitted") || !strings.Contains(r.Stderr, "locked on the source") {
					t.Errorf("want a refusal with EPERM: %s", r)
				}
				assertNoLeaks(t, b, 0)
				return
			}
			if r.Code != 0 {
				t.Fatalf("run: %s", r)
			}
			got := mntFlags(r.Stdout)
			for _, f := range tt.has {
				if !got[f] {
					t.Errorf("/mnt lacks %s: %v", f, got)
				}
			}
			for _, f := range tt.lacks {
				if got[f] {
					t.Errorf("/mnt has %s: %v", f, got)
				}
			}
		})
	}
}
