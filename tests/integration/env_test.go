package integration

import (
	"strings"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// TestProcessEnv: process.env reaches the process (its execve, seen in
// /proc/self/environ) with one entry per name, the last one given winning
// in its place, and a missing or empty HOME replaced by the user's home from
// the container's /etc/passwd, as runc does.
func TestProcessEnv(t *testing.T) {
	for _, tt := range []struct {
		name string
		env  []string
		want []string
	}{
		{"last value wins", []string{"ONE=one", "TWO=two", "ONE="}, []string{"TWO=two", "ONE=", "HOME=/root"}},
		{"empty HOME overridden", []string{"HOME="}, []string{"HOME=/root"}},
		{"HOME overridden, then emptied", []string{"HOME=/override", "HOME="}, []string{"HOME=/root"}},
		{"HOME kept", []string{"HOME=/override"}, []string{"HOME=/override"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			b := newBundle(t, "cat", "/proc/self/environ")
			b.Spec.Process.Env = append([]string{"PATH=/bin"}, tt.env...)
			r := b.run()
			want := "PATH=/bin\x00" + strings.Join(tt.want, "\x00") + "\x00"
			if r.Code != 0 || r.Stdout != want {
				t.Errorf("%s, want stdout %q", r, want)
			}
		})
	}
}

// TestTerminalOwner: the pty of a process run as another user becomes that
// user's, and keeps devpts' tty group (5) rather than the user's group.
func TestTerminalOwner(t *testing.T) {
	b := newBundle(t, "stat", "-L", "-c", "%u:%g", "/proc/self/fd/0")
	b.Spec.Process.Terminal = true
	b.Spec.Process.User = specs.User{UID: 1000, GID: 100}
	if r := b.run(); r.Code != 0 || r.Stdout != "1000:5\n" {
		t.Errorf("run as 1000:100 with a terminal: %s, want the pty 1000:5", r)
	}
	assertNoLeaks(t, b, 0)

	b = newBundle(t, "sleep", "100")
	pid := b.start()
	if r := b.rt("exec", "-t", "--user", "1000:100", b.ID, "stat", "-L", "-c", "%u:%g", "/proc/self/fd/0"); r.Code != 0 || r.Stdout != "1000:5\n" {
		t.Errorf("exec -t as 1000:100: %s, want the pty 1000:5", r)
	}
	b.rt("kill", b.ID, "KILL")
	b.waitStatus("stopped")
	b.deleteAndCheck(pid)
}
