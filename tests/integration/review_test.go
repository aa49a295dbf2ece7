package integration

import (
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// pidFromStdinHook is a hook that SIGKILLs the pid of the state it is given.
var pidFromStdinHook = specs.Hook{Path: "/bin/sh", Args: []string{"sh", "-c", `kill -9 $(sed -n 's/.*"pid":\([0-9]*\).*/\1/p')`}}

// closingSocket accepts one connection on a unix socket and closes it at once.
func closingSocket(t *testing.T) string {
	t.Helper()
	path := filepath.Join(workDir, "closing-"+sanitize(t.Name())+".sock")
	l, err := net.ListenUnix("unix", &net.UnixAddr{Name: path, Net: "unix"})
	if err != nil {
		t.Fatal(err)
	}
	go func() {
		defer l.Close()
		l.SetDeadline(time.Now().Add(20 * time.Second))
		if c, err := l.AcceptUnix(); err == nil {
			c.Close()
		}
	}()
	return path
}

// TestReviewCreateFailures: create failing at each stage leaves nothing behind,
// with and without a pid namespace of its own.
func TestReviewCreateFailures(t *testing.T) {
	tests := []struct {
		name   string
		modify func(*testing.T, *bundle) []string
	}{
		{"console-socket-closes", func(t *testing.T, b *bundle) []string {
			b.Spec.Process.Terminal = true
			return []string{"--console-socket", closingSocket(t)}
		}},
		{"init-killed-in-hook", func(t *testing.T, b *bundle) []string {
			b.Spec.Hooks = &specs.Hooks{CreateRuntime: []specs.Hook{pidFromStdinHook}}
			return nil
		}},
		{"seccomp-listener-refuses", func(t *testing.T, b *bundle) []string {
			b.Spec.Linux.Seccomp = &specs.LinuxSeccomp{DefaultAction: specs.ActAllow, ListenerPath: filepath.Join(workDir, "no-such.sock"),
				Syscalls: []specs.LinuxSyscall{{Names: []string{"mkdirat"}, Action: specs.ActNotify}}}
			return nil
		}},
		{"cpu-rt-runtime", func(t *testing.T, b *bundle) []string {
			rt := int64(1 << 40)
			b.Spec.Linux.Resources.CPU = &specs.LinuxCPU{RealtimeRuntime: &rt}
			return nil
		}},
		{"late-mount-fails", func(t *testing.T, b *bundle) []string {
			b.Spec.Mounts = append(b.Spec.Mounts, specs.Mount{Destination: "/mnt", Type: "bind", Source: "/no/such/src", Options: []string{"rbind"}})
			return nil
		}},
		{"unknown-binary-in-path", func(t *testing.T, b *bundle) []string {
			b.Spec.Process.Args = []string{"nosuchcmd"}
			return nil
		}},
		{"user-not-mapped", func(t *testing.T, b *bundle) []string {
			withUserNS(b)
			b.Spec.Process.User.UID = 70000
			return nil
		}},
		{"late-mount-fails-host-mntns", func(t *testing.T, b *bundle) []string {
			b.dropNamespace("mount")
			b.Spec.Mounts = append(b.Spec.Mounts, specs.Mount{Destination: "/mnt", Type: "bind", Source: "/no/such/src", Options: []string{"rbind"}})
			return nil
		}},
		{"init-killed-host-mntns", func(t *testing.T, b *bundle) []string {
			b.dropNamespace("mount")
			b.Spec.Hooks = &specs.Hooks{CreateRuntime: []specs.Hook{pidFromStdinHook}}
			return nil
		}},
	}
	for _, tc := range tests {
		for _, pidns := range []bool{true, false} {
			name := tc.name
			if !pidns {
				name += "-nopidns"
			}
			t.Run(name, func(t *testing.T) {
				b := newBundle(t, "sleep", "100")
				if !pidns {
					b.dropNamespace("pid")
				}
				extra := tc.modify(t, b)
				b.write()
				r := b.rt(append(append([]string{"create", "--bundle", b.Dir}, extra...), b.ID)...)
				if r.Code == 0 {
					t.Fatalf("create succeeded: %s", r)
				}
				t.Logf("create: %s", strings.TrimSpace(r.Stderr))
				time.Sleep(100 * time.Millisecond)
				assertNoLeaks(t, b, 0)
				if left := cgroupDirsLeft(b); len(left) > 0 {
					t.Errorf("cgroups left: %v", left)
				}
				if out, _ := os.ReadFile("/proc/self/mountinfo"); strings.Contains(string(out), b.Rootfs) {
					t.Errorf("mounts left under %s", b.Rootfs)
				}
			})
		}
	}
}

// TestReviewRunFailures: rt run (foreground and detached) whose container
// fails at start leaves nothing behind.
func TestReviewRunFailures(t *testing.T) {
	fail := specs.Hook{Path: "/bin/false"}
	for _, detach := range []bool{false, true} {
		for _, hook := range []string{"startContainer", "prestart", "createContainer"} {
			name := hook
			if detach {
				name += "-detach"
			}
			t.Run(name, func(t *testing.T) {
				b := newBundle(t, "sleep", "100")
				b.Spec.Root.Readonly = false
				switch hook {
				case "startContainer":
					b.Spec.Hooks = &specs.Hooks{StartContainer: []specs.Hook{fail}}
				case "prestart":
					b.Spec.Hooks = &specs.Hooks{Prestart: []specs.Hook{fail}}
				case "createContainer":
					b.Spec.Hooks = &specs.Hooks{CreateContainer: []specs.Hook{fail}}
				}
				var extra []string
				if detach {
					extra = []string{"--detach"}
				}
				r := b.run(extra...)
				if r.Code == 0 {
					t.Fatalf("run succeeded: %s", r)
				}
				t.Logf("run: %s", strings.TrimSpace(r.Stderr))
				time.Sleep(100 * time.Millisecond)
				assertNoLeaks(t, b, 0)
				if left := cgroupDirsLeft(b); len(left) > 0 {
					t.Errorf("cgroups left: %v", left)
				}
			})
		}
	}
}
