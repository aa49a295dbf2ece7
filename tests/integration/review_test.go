package integration

import (
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
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

// seccompAgent accepts connections on a unix socket and keeps them open until the test ends.
func seccompAgent(t *testing.T) string {
	t.Helper()
	path := filepath.Join(workDir, "agent-"+sanitize(t.Name())+".sock")
	l, err := net.ListenUnix("unix", &net.UnixAddr{Name: path, Net: "unix"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	go func() {
		for {
			c, err := l.AcceptUnix()
			if err != nil {
				return
			}
			t.Cleanup(func() { c.Close() })
		}
	}()
	return path
}

// cgroupProcs returns the pids in every hierarchy's cgroup.procs of the container.
func cgroupProcs(b *bundle) map[string][]string {
	procs := map[string][]string{}
	for _, d := range cgroupDirs(b.Spec.Linux.CgroupsPath) {
		data, err := os.ReadFile(filepath.Join(d, "cgroup.procs"))
		if err != nil {
			continue
		}
		procs[d] = strings.Fields(string(data))
	}
	return procs
}

// subCgroups lists the directories below the container's cgroups.
func subCgroups(b *bundle) []string {
	var subs []string
	for _, d := range cgroupDirs(b.Spec.Linux.CgroupsPath) {
		filepath.WalkDir(d, func(p string, e os.DirEntry, err error) error {
			if err == nil && e.IsDir() && p != d {
				subs = append(subs, p)
			}
			return nil
		})
	}
	return subs
}

// TestReviewExecFailures: an exec that fails mid-way leaves no process in the
// container and no stray cgroup.
func TestReviewExecFailures(t *testing.T) {
	agent := seccompAgent(t)
	b := startSleeper(t, func(s *specs.Spec) {
		withAllNamespaces(s)
		s.Linux.Seccomp = &specs.LinuxSeccomp{DefaultAction: specs.ActAllow, ListenerPath: agent,
			Syscalls: []specs.LinuxSyscall{{Names: []string{"mkdirat"}, Action: specs.ActNotify}}}
	})
	init := b.pid()
	tests := []struct {
		name string
		args []string
	}{
		{"missing-cwd", []string{"exec", "--cwd", "/no/such/dir", b.ID, "true"}},
		{"unmapped-user", []string{"exec", "--user", "70000", b.ID, "true"}},
		{"unknown-binary", []string{"exec", b.ID, "nosuchcmd"}},
		{"missing-sub-cgroup", []string{"exec", "--cgroup", "nosub", b.ID, "true"}},
		{"bad-apparmor", []string{"exec", "--apparmor", "no-such-profile", b.ID, "true"}},
		{"preserve-fds-not-open", []string{"exec", "--preserve-fds", "20", b.ID, "true"}},
		{"pid-file-dir-missing", []string{"exec", "--pid-file", "/no/such/dir/pid", b.ID, "sleep", "100"}},
		{"pid-file-dir-missing-detach", []string{"exec", "-d", "--pid-file", "/no/such/dir/pid", b.ID, "sleep", "100"}},
		{"sub-cgroup-escape", []string{"exec", "--cgroup", "../..", b.ID, "true"}},
		// Last: the agent goes away, so the exec cannot hand over its listener.
		{"seccomp-agent-gone", []string{"exec", b.ID, "true"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if tc.name == "seccomp-agent-gone" {
				os.Remove(agent)
			}
			r := b.rt(tc.args...)
			if r.Code == 0 {
				t.Errorf("rt %s succeeded: %s", strings.Join(tc.args, " "), r)
			}
			t.Logf("%s", strings.TrimSpace(r.Stderr))
			time.Sleep(50 * time.Millisecond)
			for d, pids := range cgroupProcs(b) {
				if len(pids) != 1 || pids[0] != strconv.Itoa(init) {
					t.Errorf("%s: processes %v, want only the init %d", d, pids, init)
				}
			}
			if subs := subCgroups(b); len(subs) > 0 {
				t.Errorf("stray cgroups: %v", subs)
			}
		})
	}
}

// TestReviewExecCreated: exec into a created container works (as runc's), and the
// container can still be started afterwards.
func TestReviewExecCreated(t *testing.T) {
	b := newBundle(t, "sleep", "100")
	b.create()
	t.Cleanup(b.remove)
	r := b.mustRT("exec", b.ID, "sh", "-c", "cat /proc/1/cmdline | tr '\\0' ' '")
	if !strings.Contains(r.Stdout, "init") {
		t.Logf("pid 1 of a created container: %q", r.Stdout)
	}
	if st := b.status(); st != "created" {
		t.Errorf("status after exec: %s, want created", st)
	}
	b.mustRT("start", b.ID)
	b.waitStatus("running")
}

// TestReviewExecInitDies: rt exec returns when the init dies under it, and
// nothing of the container is left.
func TestReviewExecInitDies(t *testing.T) {
	for _, pidns := range []bool{true, false} {
		t.Run(map[bool]string{true: "pidns", false: "nopidns"}[pidns], func(t *testing.T) {
			b := newBundle(t, "sleep", "100")
			if !pidns {
				b.dropNamespace("pid")
			}
			b.create()
			b.mustRT("start", b.ID)
			init := b.pid()
			ex := b.startRT(nil, "exec", b.ID, "sleep", "30")
			time.Sleep(300 * time.Millisecond)
			syscall.Kill(init, syscall.SIGKILL)
			done := make(chan result, 1)
			go func() { done <- ex.wait() }()
			select {
			case r := <-done:
				t.Logf("exec: %s", r)
			case <-time.After(5 * time.Second):
				if pidns {
					t.Errorf("rt exec still running 5s after the init died")
				}
			}
			b.waitStatus("stopped")
			b.remove()
			if left := cgroupDirsLeft(b); len(left) > 0 {
				t.Errorf("cgroups left: %v", left)
			}
		})
	}
}

// TestReviewDeleteForce: delete --force of a paused container, of one whose
// init is gone but whose other processes remain (no pid namespace), and of a
// created container with a terminal leaves nothing behind; kill --all works on
// a paused container.
func TestReviewDeleteForce(t *testing.T) {
	for _, pidns := range []bool{true, false} {
		sfx := map[bool]string{true: "", false: "-nopidns"}[pidns]
		t.Run("paused"+sfx, func(t *testing.T) {
			b := newBundle(t, "sh", "-c", "sleep 1000 & sleep 1001 & wait")
			if !pidns {
				b.dropNamespace("pid")
			}
			b.create()
			b.mustRT("start", b.ID)
			containerPids(t, b, 3)
			b.mustRT("pause", b.ID)
			b.waitStatus("paused")
			// Thaw whatever is left should delete fail, so that the test run can clean up.
			defer b.rt("resume", b.ID)
			b.remove()
			if left := cgroupDirsLeft(b); len(left) > 0 {
				t.Errorf("cgroups left: %v", left)
			}
		})
		t.Run("kill-all-paused"+sfx, func(t *testing.T) {
			b := newBundle(t, "sh", "-c", "sleep 1000 & sleep 1001 & wait")
			if !pidns {
				b.dropNamespace("pid")
			}
			b.create()
			b.mustRT("start", b.ID)
			pids := containerPids(t, b, 3)
			b.mustRT("pause", b.ID)
			b.waitStatus("paused")
			b.mustRT("kill", "--all", b.ID, "KILL")
			deadline := time.Now().Add(5 * time.Second)
			for _, p := range pids {
				for pidAlive(p) && time.Now().Before(deadline) {
					time.Sleep(20 * time.Millisecond)
				}
				if pidAlive(p) {
					t.Errorf("pid %d alive after kill --all KILL of a paused container (%s)", p, procState(t, p))
				}
			}
			b.waitStatus("stopped")
			b.mustRT("delete", b.ID)
			assertNoLeaks(t, b, 0)
		})
	}
	t.Run("init-gone-others-remain", func(t *testing.T) {
		b := newBundle(t, "sh", "-c", "sleep 1000 & sleep 1001 & wait")
		b.dropNamespace("pid")
		b.create()
		b.mustRT("start", b.ID)
		pids := containerPids(t, b, 3)
		syscall.Kill(b.pid(), syscall.SIGKILL)
		b.waitStatus("stopped")
		b.remove()
		for _, p := range pids {
			if pidAlive(p) {
				t.Errorf("pid %d of the container survived delete --force", p)
			}
		}
		if left := cgroupDirsLeft(b); len(left) > 0 {
			t.Errorf("cgroups left: %v", left)
		}
	})
	t.Run("created-with-terminal", func(t *testing.T) {
		b := newBundle(t, "sh")
		b.Spec.Process.Terminal = true
		sock, ch := consoleSocket(t)
		b.create("--console-socket", sock)
		if m := <-ch; m != nil {
			defer m.Close()
		}
		b.remove()
	})
}

// fdList lists the shell's fds; ls runs in a child, so its own do not show.
const fdList = `ls -l /proc/$$/fd`

// fdsOf parses fdList's output into fd -> target.
func fdsOf(out string) map[string]string {
	fds := map[string]string{}
	for _, line := range strings.Split(strings.ReplaceAll(out, "\r", ""), "\n") {
		if before, target, ok := strings.Cut(line, " -> "); ok {
			f := strings.Fields(before)
			fds[f[len(f)-1]] = target
		}
	}
	return fds
}

// checkFds fails unless the fds are exactly 0..n-1.
func checkFds(t *testing.T, what, out string, n int) {
	t.Helper()
	fds := fdsOf(out)
	for fd, target := range fds {
		i, err := strconv.Atoi(fd)
		if err != nil || i >= n {
			t.Errorf("%s: unexpected fd %s -> %s (all: %v)", what, fd, target, fds)
		}
	}
	if len(fds) < n {
		t.Errorf("%s: fds %v, want 0..%d", what, fds, n-1)
	}
}

// TestReviewFdHygiene: processes in the container see only their stdio (and
// preserved fds); the init's executable is a view of rt nobody can write, not rt's file.
func TestReviewFdHygiene(t *testing.T) {
	if _, err := exec.LookPath("script"); err != nil {
		t.Skip("script(1) not installed")
	}
	t.Run("run-terminal", func(t *testing.T) {
		b := newBundle(t, "sh", "-c", fdList)
		b.Spec.Process.Terminal = true
		b.write()
		cmd := exec.Command("script", "-qec", strings.Join([]string{rtBinary, "--root", b.Root, "run", "--bundle", b.Dir, b.ID}, " "), "/dev/null")
		cmd.Stdin = strings.NewReader("")
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("rt run: %v: %s", err, out)
		}
		checkFds(t, "rt run -t", string(out), 3)
		assertNoLeaks(t, b, 0)
	})
	b := newBundle(t, "sleep", "1000")
	b.create()
	t.Cleanup(b.remove)
	t.Run("created-init", func(t *testing.T) {
		// The init waiting on exec.fifo holds no cgroup file a process of
		// the container could reopen read-write through /proc/1/fd.
		ents, _ := os.ReadDir(fmt.Sprintf("/proc/%d/fd", b.pid()))
		for _, e := range ents {
			l, _ := os.Readlink(fmt.Sprintf("/proc/%d/fd/%s", b.pid(), e.Name()))
			if strings.Contains(l, "cpu.") || strings.Contains(l, "cgroup") {
				t.Errorf("init of a created container holds fd %s -> %s", e.Name(), l)
			}
		}
		r := b.rt("exec", b.ID, "sh", "-c", "ls -l /proc/1/fd")
		if strings.Contains(r.Stdout, "cpu.") {
			t.Errorf("cgroup files reachable through /proc/1/fd: %s", r.Stdout)
		}
	})
	t.Run("exec-tty", func(t *testing.T) {
		cmd := exec.Command("script", "-qec", strings.Join([]string{rtBinary, "--root", b.Root, "exec", "-t", b.ID, "sh", "-c", "'" + fdList + "'"}, " "), "/dev/null")
		cmd.Stdin = strings.NewReader("")
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("rt exec -t: %v: %s", err, out)
		}
		checkFds(t, "rt exec -t", string(out), 3)
	})
	t.Run("exec-preserve-fds", func(t *testing.T) {
		f, err := os.Create(filepath.Join(t.TempDir(), "fd3"))
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		r := runRTFiles(b.Root, []*os.File{f}, "exec", "--preserve-fds", "1", b.ID, "sh", "-c", fdList)
		if r.Code != 0 {
			t.Fatal(r)
		}
		checkFds(t, "rt exec --preserve-fds 1", r.Stdout, 4)
	})
	t.Run("init-exe-sealed", func(t *testing.T) {
		host, err := os.Stat(rtBinary)
		if err != nil {
			t.Fatal(err)
		}
		if exe, err := os.Stat(fmt.Sprintf("/proc/%d/exe", b.pid())); err != nil || os.SameFile(host, exe) {
			t.Errorf("init's exe is the host rt binary (%v)", err)
		}
		r := b.rt("exec", b.ID, "sh", "-c", "readlink /proc/1/exe; echo pwned >>/proc/1/exe && echo WROTE; dd if=/dev/zero of=/proc/1/exe bs=1 count=1 conv=notrunc 2>&1 && echo WROTE")
		t.Logf("%s", r)
		if strings.Contains(r.Stdout, "WROTE") {
			t.Errorf("writing /proc/1/exe from the container succeeded: %s", r)
		}
		// The created init is not dumpable: a process without CAP_SYS_PTRACE
		// may not even look. What it would see is rt's read-only overlay view
		// of its binary, or the sealed memfd copy where there is none.
		if !strings.Contains(r.Stdout, "memfd:") && !strings.Contains(r.Stdout, "/"+filepath.Base(rtBinary)) &&
			!strings.Contains(r.Stdout+r.Stderr, "Permission denied") {
			t.Errorf("/proc/1/exe of a created container: %q, want rt's read-only view, a memfd or no access", r.Stdout)
		}
		var fs unix.Statfs_t
		exe := fmt.Sprintf("/proc/%d/exe", b.pid())
		link, _ := os.Readlink(exe)
		if err := unix.Statfs(exe, &fs); err != nil {
			t.Errorf("statfs %s: %v", exe, err)
		} else if fs.Type != unix.OVERLAYFS_SUPER_MAGIC && !strings.HasPrefix(link, "/memfd:") {
			t.Errorf("%s -> %s is on a filesystem of type %#x, want a read-only overlayfs or a memfd", exe, link, fs.Type)
		}
		if f, err := os.OpenFile(exe, os.O_WRONLY, 0); err == nil {
			f.Close()
			t.Errorf("the host opened %s for writing", exe)
		}
		// A process with CAP_SYS_ADMIN holding the init's exe can neither
		// make its mount writable nor clone it (it could, were the view a
		// detached bind mount of the binary itself).
		if fd, err := unix.Open(exe, unix.O_PATH|unix.O_CLOEXEC, 0); err != nil {
			t.Errorf("open %s: %v", exe, err)
		} else {
			attr := unix.MountAttr{Attr_clr: unix.MOUNT_ATTR_RDONLY}
			if err := unix.MountSetattr(fd, "", unix.AT_EMPTY_PATH, &attr); err == nil {
				t.Errorf("mount_setattr cleared MOUNT_ATTR_RDONLY on %s", exe)
			}
			if tree, err := unix.OpenTree(fd, "", unix.OPEN_TREE_CLONE|unix.OPEN_TREE_CLOEXEC|unix.AT_EMPTY_PATH); err == nil {
				unix.Close(tree)
				t.Errorf("open_tree cloned the mount of %s", exe)
			}
			unix.Close(fd)
		}
	})
}

// TestReviewConcurrency: delete --force racing exec, and two creates of the
// same id at once (exactly one wins), leave nothing behind.
func TestReviewConcurrency(t *testing.T) {
	for _, pidns := range []bool{true, false} {
		t.Run("delete-racing-exec"+map[bool]string{true: "", false: "-nopidns"}[pidns], func(t *testing.T) {
			for i := 0; i < 10; i++ {
				b := newBundle(t, "sleep", "1000")
				if !pidns {
					b.dropNamespace("pid")
				}
				b.write()
				b.mustRT("run", "--detach", "--bundle", b.Dir, b.ID)
				init := b.pid()
				var execs []*bgRT
				for j := 0; j < 3; j++ {
					execs = append(execs, b.startRT(nil, "exec", b.ID, "sleep", "1000"))
				}
				time.Sleep(time.Duration(i*5) * time.Millisecond)
				r := b.rt("delete", "--force", b.ID)
				if r.Code != 0 {
					t.Errorf("delete --force: %s", r)
				}
				done := make(chan result, len(execs))
				for _, e := range execs {
					go func() { done <- e.wait() }()
				}
				for range execs {
					select {
					case <-done:
					case <-time.After(10 * time.Second):
						t.Fatalf("rt exec still running 10s after delete --force")
					}
				}
				time.Sleep(50 * time.Millisecond)
				assertNoLeaks(t, b, init)
				if left := cgroupDirsLeft(b); len(left) > 0 {
					t.Errorf("cgroups left: %v", left)
				}
			}
		})
	}
	t.Run("same-id-create", func(t *testing.T) {
		for i := 0; i < 5; i++ {
			b := newBundle(t, "sleep", "1000")
			b.write()
			results := make(chan result, 2)
			for j := 0; j < 2; j++ {
				go func() { results <- b.rt("create", "--bundle", b.Dir, b.ID) }()
			}
			r1, r2 := <-results, <-results
			if (r1.Code == 0) == (r2.Code == 0) {
				t.Fatalf("two creates of one id: %s; %s", r1, r2)
			}
			if st := b.status(); st != "created" {
				t.Errorf("status after the race: %s", st)
			}
			b.mustRT("start", b.ID)
			b.waitStatus("running")
			b.remove()
		}
	})
}

// TestReviewMoreFailures: more failing paths, each leaving nothing behind.
func TestReviewMoreFailures(t *testing.T) {
	t.Run("kill-paused-init", func(t *testing.T) {
		b := newBundle(t, "sleep", "1000")
		b.create()
		b.mustRT("start", b.ID)
		b.mustRT("pause", b.ID)
		b.waitStatus("paused")
		b.mustRT("kill", b.ID, "KILL")
		b.waitStatus("stopped")
		b.mustRT("delete", b.ID)
		assertNoLeaks(t, b, 0)
	})
	t.Run("exec-tty-socket-closes", func(t *testing.T) {
		b := startSleeper(t, nil)
		init := b.pid()
		r := b.rt("exec", "-t", "--console-socket", closingSocket(t), b.ID, "sh")
		if r.Code == 0 {
			t.Errorf("exec with a closing console socket: %s", r)
		}
		t.Logf("%s", strings.TrimSpace(r.Stderr))
		time.Sleep(50 * time.Millisecond)
		for d, pids := range cgroupProcs(b) {
			if len(pids) != 1 || pids[0] != strconv.Itoa(init) {
				t.Errorf("%s: processes %v, want only the init %d", d, pids, init)
			}
		}
	})
	t.Run("unmapped-additional-gid", func(t *testing.T) {
		b := newBundle(t, "sleep", "100")
		withUserNS(b)
		b.Spec.Process.User.AdditionalGids = []uint32{70000}
		b.write()
		r := b.rt("create", "--bundle", b.Dir, b.ID)
		t.Logf("%s", r)
		if r.Code == 0 {
			t.Errorf("create with an unmapped additional gid succeeded")
		}
		assertNoLeaks(t, b, 0)
	})
	t.Run("run-detach-terminal-no-socket", func(t *testing.T) {
		b := newBundle(t, "sleep", "100")
		b.Spec.Process.Terminal = true
		r := b.run("--detach")
		if r.Code == 0 {
			t.Errorf("run -d with a terminal and no console socket: %s", r)
		}
		t.Logf("%s", strings.TrimSpace(r.Stderr))
		assertNoLeaks(t, b, 0)
	})
	t.Run("poststart-fails", func(t *testing.T) {
		b := newBundle(t, "sleep", "100")
		b.Spec.Hooks = &specs.Hooks{Poststart: []specs.Hook{{Path: "/bin/false"}}}
		r := b.run("--detach")
		t.Logf("%s", r)
		if r.Code == 0 {
			b.remove()
		} else {
			assertNoLeaks(t, b, 0)
		}
	})
}

// TestReviewPreserveFdsOwnFds: --preserve-fds beyond the fds rt was given
// fails instead of passing rt's own (its state dir, sockets) into the container.
func TestReviewPreserveFdsOwnFds(t *testing.T) {
	f, err := os.Create(filepath.Join(t.TempDir(), "fd3"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	b := startSleeper(t, nil)
	r := runRTFiles(b.Root, []*os.File{f}, "exec", "--preserve-fds", "4", b.ID, "sh", "-c", fdList)
	if r.Code == 0 || !strings.Contains(r.Stderr, "--preserve-fds") {
		t.Errorf("exec --preserve-fds 4 with one fd given: %s", r)
	}
	run := newBundle(t, "sh", "-c", fdList)
	run.write()
	r = runRTFiles(run.Root, []*os.File{f}, "run", "--preserve-fds", "3", "--bundle", run.Dir, run.ID)
	if r.Code == 0 || !strings.Contains(r.Stderr, "--preserve-fds") {
		t.Errorf("run --preserve-fds 3 with one fd given: %s", r)
	}
	assertNoLeaks(t, run, 0)
}
