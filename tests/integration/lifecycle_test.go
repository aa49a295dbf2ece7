package integration

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
)

func TestRunExitCodes(t *testing.T) {
	tests := []struct {
		name string
		args []string
		code int
	}{
		{"success", []string{"true"}, 0},
		{"exit-3", []string{"sh", "-c", "exit 3"}, 3},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			b := newBundle(t, tc.args...)
			r := b.run()
			if r.Code != tc.code {
				t.Fatalf("rt run: %s, want exit %d", r, tc.code)
			}
			assertNoLeaks(t, b, 0)
		})
	}
}

func TestRunKilledExitCode(t *testing.T) {
	b := newBundle(t, "sleep", "100")
	done := make(chan result, 1)
	go func() { done <- b.run() }()
	b.waitStatus("running")
	b.mustRT("kill", b.ID, "KILL")
	if r := <-done; r.Code != 137 {
		t.Fatalf("rt run of a killed container: %s, want exit 137", r)
	}
	assertNoLeaks(t, b, 0)
}

func TestCreateStartStateDelete(t *testing.T) {
	b := newBundle(t, "sleep", "100")
	b.create()
	if st := b.status(); st != "created" {
		t.Fatalf("after create: %s", st)
	}
	pid := b.pid()
	b.mustRT("start", b.ID)
	if st := b.status(); st != "running" {
		t.Fatalf("after start: %s", st)
	}
	if r := b.rt("start", b.ID); r.Code == 0 || !strings.Contains(r.Stderr, "running") {
		t.Errorf("second start: %s", r)
	}
	if r := b.rt("delete", b.ID); r.Code == 0 || !strings.Contains(r.Stderr, "not stopped") {
		t.Errorf("delete of a running container: %s", r)
	}
	b.mustRT("kill", b.ID, "KILL")
	b.waitStatus("stopped")
	if r := b.rt("kill", b.ID, "TERM"); r.Code == 0 {
		t.Errorf("kill of a stopped container succeeded: %s", r)
	}
	b.mustRT("delete", b.ID)
	assertNoLeaks(t, b, pid)
	if r := b.rt("state", b.ID); r.Code == 0 {
		t.Errorf("state after delete: %s", r)
	}
}

// TestIllegalTransitions: every command refused in a state says why and
// leaves the container as it was.
func TestIllegalTransitions(t *testing.T) {
	b := newBundle(t, "sleep", "100")
	b.create()
	pid := b.pid()

	// created: delete without --force is refused (the runtime-spec allows
	// delete only of stopped containers; runc deletes a created one).
	if r := b.rt("delete", b.ID); r.Code == 0 || !strings.Contains(r.Stderr, "not stopped") {
		t.Errorf("delete of a created container: %s", r)
	}
	if st := b.status(); st != "created" || !pidAlive(pid) {
		t.Fatalf("after a refused delete: status %s, init alive %v", st, pidAlive(pid))
	}
	// A second create with the same id fails and leaves the first alone.
	other := newBundle(t, "true")
	other.write()
	if r := other.rt("create", "--bundle", other.Dir, b.ID); r.Code == 0 || !strings.Contains(r.Stderr, "container with id exists") {
		t.Errorf("create with an existing id: %s", r)
	}
	if st := b.state(); st["status"] != "created" || int(st["pid"].(float64)) != pid || st["bundle"] != b.Dir {
		t.Errorf("existing container after a duplicate create: %v", st)
	}

	b.mustRT("start", b.ID)
	if r := b.rt("start", b.ID); r.Code == 0 || !strings.Contains(r.Stderr, "running") {
		t.Errorf("start of a running container: %s", r)
	}
	if r := b.rt("delete", b.ID); r.Code == 0 || !strings.Contains(r.Stderr, "not stopped") {
		t.Errorf("delete of a running container: %s", r)
	}
	if st := b.status(); st != "running" || !pidAlive(pid) {
		t.Fatalf("after a refused delete: status %s, init alive %v", st, pidAlive(pid))
	}

	b.mustRT("kill", b.ID, "KILL")
	b.waitStatus("stopped")
	if st := b.state(); st["pid"].(float64) != 0 {
		t.Errorf("pid of a stopped container: %v, want 0", st["pid"])
	}
	if r := b.rt("start", b.ID); r.Code == 0 || !strings.Contains(r.Stderr, "stopped") {
		t.Errorf("start of a stopped container: %s", r)
	}
	if r := b.rt("kill", b.ID, "KILL"); r.Code == 0 || !strings.Contains(r.Stderr, "not running") {
		t.Errorf("kill of a stopped container: %s", r)
	}
	b.deleteAndCheck(pid)
}

func TestUnknownContainer(t *testing.T) {
	b := newBundle(t)
	tests := []struct {
		args []string
		ok   bool
	}{
		{[]string{"state", "no-such-id"}, false},
		{[]string{"start", "no-such-id"}, false},
		{[]string{"kill", "no-such-id", "KILL"}, false},
		{[]string{"delete", "no-such-id"}, false},
		// containerd's shim deletes with --force whatever is left.
		{[]string{"delete", "--force", "no-such-id"}, true},
	}
	for _, tc := range tests {
		r := b.rt(tc.args...)
		if (r.Code == 0) != tc.ok {
			t.Errorf("rt %s: %s, want success %v", strings.Join(tc.args, " "), r, tc.ok)
		}
		if !tc.ok && !strings.Contains(r.Stderr, "does not exist") {
			t.Errorf("rt %s: %s, want \"does not exist\"", strings.Join(tc.args, " "), r)
		}
	}
}

func TestDeleteForce(t *testing.T) {
	for _, started := range []bool{false, true} {
		name := map[bool]string{false: "created", true: "running"}[started]
		t.Run(name, func(t *testing.T) {
			b := newBundle(t, "sleep", "100")
			b.create()
			if started {
				b.mustRT("start", b.ID)
			}
			if st := b.status(); st != name {
				t.Fatalf("status %s, want %s", st, name)
			}
			b.remove()
		})
	}
}

// TestKillSignals: names with and without SIG, and numbers, reach the init.
func TestKillSignals(t *testing.T) {
	tests := []struct {
		sig  string
		code int // exit code of rt run: 128+signal, or the trap's
	}{
		{"KILL", 137},
		{"SIGKILL", 137},
		{"9", 137},
		{"TERM", 42},
		{"SIGUSR1", 43},
		{"10", 43},
	}
	for _, tc := range tests {
		t.Run(tc.sig, func(t *testing.T) {
			b := newBundle(t, "sh", "-c", `trap "exit 42" TERM; trap "exit 43" USR1; echo ok >/tmp/ready; while true; do sleep 0.05; done`)
			b.Spec.Root.Readonly = false
			b.write()
			run := b.startRT(nil, "run", "--bundle", b.Dir, b.ID)
			waitFile(t, b.rootfsFile("tmp/ready"))
			b.mustRT("kill", b.ID, tc.sig)
			if r := run.wait(); r.Code != tc.code {
				t.Fatalf("rt run after kill %s: %s, want exit %d", tc.sig, r, tc.code)
			}
			assertNoLeaks(t, b, 0)
		})
	}
	t.Run("invalid", func(t *testing.T) {
		b := newBundle(t, "sleep", "100")
		pid := b.start()
		// 0 is valid: it checks liveness (TestKillSignalZero).
		for _, sig := range []string{"NOSUCH", "65", "-1"} {
			if r := b.rt("kill", b.ID, sig); r.Code == 0 {
				t.Errorf("kill %s: %s", sig, r)
			}
		}
		if !pidAlive(pid) {
			t.Error("init died of an invalid signal")
		}
		b.remove()
	})
}

// TestList: table, JSON and quiet output with runc's columns and fields.
func TestList(t *testing.T) {
	root := filepath.Join(workDir, "list-root")
	a := newBundle(t, "sleep", "100")
	a.Root = root
	a.create()
	b := newBundle(t, "sleep", "100")
	b.Root = root
	pidB := b.start()

	r := a.mustRT("list")
	lines := strings.Split(strings.TrimSpace(r.Stdout), "\n")
	if len(lines) != 3 || strings.Join(strings.Fields(lines[0]), " ") != "ID PID STATUS BUNDLE CREATED OWNER" {
		t.Fatalf("list table: %q", r.Stdout)
	}
	if f := strings.Fields(lines[2]); len(f) != 6 || f[0] != b.ID || f[1] != strconv.Itoa(pidB) || f[2] != "running" || f[3] != b.Dir || f[5] != "root" {
		t.Errorf("list row of %s: %q", b.ID, lines[2])
	}
	if f := strings.Fields(lines[1]); len(f) != 6 || f[0] != a.ID || f[2] != "created" {
		t.Errorf("list row of %s: %q", a.ID, lines[1])
	}

	r = a.mustRT("list", "--format", "json")
	// One line, as runc prints it.
	if n := strings.Count(r.Stdout, "\n"); n != 1 {
		t.Errorf("list --format json: %d lines, want 1: %q", n, r.Stdout)
	}
	var states []map[string]any
	if err := json.Unmarshal([]byte(r.Stdout), &states); err != nil || len(states) != 2 {
		t.Fatalf("list --format json: %v: %s", err, r.Stdout)
	}
	for _, key := range []string{"ociVersion", "id", "pid", "status", "bundle", "rootfs", "created", "owner"} {
		if _, ok := states[1][key]; !ok {
			t.Errorf("list --format json: no %q in %v", key, states[1])
		}
	}
	if states[1]["id"] != b.ID || states[1]["status"] != "running" || states[1]["rootfs"] != b.Rootfs {
		t.Errorf("list --format json entry: %v", states[1])
	}

	r = a.mustRT("list", "-q")
	if got := strings.Fields(r.Stdout); len(got) != 2 || got[0] != a.ID || got[1] != b.ID {
		t.Errorf("list -q: %q", r.Stdout)
	}
	a.remove()
	b.remove()
	if r := a.mustRT("list", "-q"); strings.TrimSpace(r.Stdout) != "" {
		t.Errorf("list -q after delete: %q", r.Stdout)
	}
	// A --root typed on the command line must exist.
	if r := runRT(filepath.Join(workDir, "no-such-root"), nil, "list"); r.Code == 0 || !strings.Contains(r.Stderr, "--root") {
		t.Errorf("list under a missing --root: %s", r)
	}
}

// TestRunSignalForwarding: signals sent to `rt run` reach the container.
func TestRunSignalForwarding(t *testing.T) {
	for _, tc := range []struct {
		sig  syscall.Signal
		code int
		// SIGALRM is one of the signals rt catches in the background while
		// it starts the container (libcontainer.NewSignalForwarder).
	}{{syscall.SIGTERM, 42}, {syscall.SIGUSR1, 43}, {syscall.SIGHUP, 44}, {syscall.SIGALRM, 45}} {
		t.Run(tc.sig.String(), func(t *testing.T) {
			b := newBundle(t, "sh", "-c", `trap "exit 42" TERM; trap "exit 43" USR1; trap "exit 44" HUP; trap "exit 45" ALRM; echo ok >/tmp/ready; while true; do sleep 0.05; done`)
			b.Spec.Root.Readonly = false
			b.write()
			run := b.startRT(nil, "run", "--bundle", b.Dir, b.ID)
			waitFile(t, b.rootfsFile("tmp/ready"))
			run.cmd.Process.Signal(tc.sig)
			if r := run.wait(); r.Code != tc.code {
				t.Fatalf("rt run sent %s: %s, want exit %d", tc.sig, r, tc.code)
			}
			assertNoLeaks(t, b, 0)
		})
	}
}

func TestRunDetach(t *testing.T) {
	b := newBundle(t, "sleep", "100")
	b.write()
	r := b.mustRT("run", "--detach", "--bundle", b.Dir, b.ID)
	if r.Stdout != "" {
		t.Errorf("run --detach output: %s", r)
	}
	if st := b.status(); st != "running" {
		t.Fatalf("after run --detach: %s", st)
	}
	b.remove()
}

func TestRunKeep(t *testing.T) {
	b := newBundle(t, "sh", "-c", "exit 3")
	if r := b.run("--keep"); r.Code != 3 {
		t.Fatalf("run --keep: %s, want exit 3", r)
	}
	if st := b.state(); st["status"] != "stopped" || st["pid"].(float64) != 0 {
		t.Fatalf("state after run --keep: %v", st)
	}
	b.deleteAndCheck(0)
}

func TestPidFile(t *testing.T) {
	b := newBundle(t, "sleep", "100")
	dir := t.TempDir()
	pidFile := filepath.Join(dir, "init.pid")
	b.create("--pid-file", pidFile)
	if got := mustRead(t, pidFile); got != strconv.Itoa(b.pid()) {
		t.Errorf("pid file: %q, want %d", got, b.pid())
	}
	// Written by rename: nothing else is left in the directory.
	if entries, _ := os.ReadDir(dir); len(entries) != 1 {
		t.Errorf("pid file directory: %v", entries)
	}
	if st, _ := os.Stat(pidFile); st.Mode().Perm() != 0o644 {
		t.Errorf("pid file mode %v", st.Mode())
	}
	b.remove()

	// A relative pid file is relative to rt's working directory.
	r := newBundle(t, "true")
	r.write()
	cmd := exec.Command(rtBinary, "--root", r.Root, "run", "--bundle", r.Dir, "--pid-file", "rel.pid", r.ID)
	cmd.Dir = dir
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("run --pid-file rel.pid: %v: %s", err, out)
	}
	if n, err := strconv.Atoi(mustRead(t, filepath.Join(dir, "rel.pid"))); err != nil || n <= 0 {
		t.Errorf("relative pid file: %v %d", err, n)
	}
	assertNoLeaks(t, r, 0)
}

// TestPreserveFds: fd 3 reaches the container only with --preserve-fds.
func TestPreserveFds(t *testing.T) {
	for _, preserve := range []bool{true, false} {
		t.Run(fmt.Sprint(preserve), func(t *testing.T) {
			b := newBundle(t, "sh", "-c", "echo through-fd3 >&3")
			f, err := os.Create(filepath.Join(t.TempDir(), "fd3"))
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			args := []string{"run", "--bundle", b.Dir}
			if preserve {
				args = append(args, "--preserve-fds", "1")
			}
			b.write()
			r := b.startRT([]*os.File{f}, append(args, b.ID)...).wait()
			got := mustRead(t, f.Name())
			if preserve && (r.Code != 0 || got != "through-fd3\n") {
				t.Errorf("--preserve-fds 1: %s, fd 3 got %q", r, got)
			}
			if !preserve && (r.Code == 0 || got != "") {
				t.Errorf("without --preserve-fds: %s, fd 3 got %q", r, got)
			}
			assertNoLeaks(t, b, 0)
		})
	}
}

// TestListenFds: socket activation passes LISTEN_FDS fds and rewrites LISTEN_PID.
func TestListenFds(t *testing.T) {
	b := newBundle(t, "sh", "-c", `echo "$LISTEN_FDS $LISTEN_PID"; echo via-listen-fd >&3`)
	f, err := os.Create(filepath.Join(t.TempDir(), "fd3"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	b.write()
	// LISTEN_PID must be rt's own pid: exec keeps the shell's.
	script := fmt.Sprintf(`LISTEN_FDS=1 LISTEN_PID=$$ exec %s --root %s run --bundle %s %s`, rtBinary, b.Root, b.Dir, b.ID)
	cmd := exec.Command("sh", "-c", script)
	cmd.ExtraFiles = []*os.File{f}
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("rt run with LISTEN_FDS: %v: %s", err, out)
	}
	if strings.TrimSpace(string(out)) != "1 1" {
		t.Errorf("LISTEN_FDS LISTEN_PID inside: %q, want \"1 1\"", out)
	}
	if got := mustRead(t, f.Name()); got != "via-listen-fd\n" {
		t.Errorf("listen fd 3: %q", got)
	}
	assertNoLeaks(t, b, 0)
}

// TestRunSubreaper: a process the container orphans is re-parented to `rt
// run` (a child subreaper), not to the host's init. Without a pid namespace,
// so that the container's init is not the reaper.
func TestRunSubreaper(t *testing.T) {
	b := newBundle(t, "sh", "-c", `(sh -c 'sleep 0.1; grep PPid /proc/$$/status >/tmp/ppid.tmp; mv /tmp/ppid.tmp /tmp/ppid' &); while [ ! -f /tmp/ppid ]; do sleep 0.05; done`)
	b.Spec.Root.Readonly = false
	b.dropNamespace("pid")
	b.write()
	run := b.startRT(nil, "run", "--bundle", b.Dir, b.ID)
	ppid := waitFile(t, b.rootfsFile("tmp/ppid"))
	if r := run.wait(); r.Code != 0 {
		t.Fatalf("rt run: %s", r)
	}
	if got := strings.Fields(ppid); len(got) != 2 || got[1] != strconv.Itoa(run.cmd.Process.Pid) {
		t.Errorf("parent of the orphan: %q, want rt run (pid %d)", ppid, run.cmd.Process.Pid)
	}
	assertNoLeaks(t, b, 0)
}

// TestCreateFailureLeavesNothing: create failing at any stage leaves no
// process, mount, cgroup or state directory, and the id can be reused.
func TestCreateFailureLeavesNothing(t *testing.T) {
	tests := []struct {
		name   string
		modify func(*bundle)
		extra  []string
		msg    string
	}{
		{"missing-executable", func(b *bundle) { b.Spec.Process.Args = []string{"/no/such/binary"} }, nil, "/no/such/binary"},
		{"console-socket-missing", func(b *bundle) { b.Spec.Process.Terminal = true }, []string{"--console-socket", "/nonexistent/sock"}, "console-socket"},
		{"pid-file-dir-missing", nil, []string{"--pid-file", "/nonexistent/dir/pid"}, "pid file"},
		{"bad-sysctl", func(b *bundle) { b.Spec.Linux.Sysctl = map[string]string{"net.ipv4.no_such_knob": "1"} }, nil, "sysctl"},
		{"bad-cwd", func(b *bundle) { b.Spec.Process.Cwd = "/bin/busybox/sub" }, nil, "cwd"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			b := newBundle(t, "sleep", "100")
			if tc.modify != nil {
				tc.modify(b)
			}
			b.write()
			r := b.rt(append(append([]string{"create", "--bundle", b.Dir}, tc.extra...), b.ID)...)
			if r.Code == 0 || !strings.Contains(r.Stderr, tc.msg) {
				t.Fatalf("create: %s, want an error about %q", r, tc.msg)
			}
			assertNoLeaks(t, b, 0)
			if left := cgroupDirsLeft(b); len(left) > 0 {
				t.Errorf("cgroups left: %v", left)
			}
			// The id is free again.
			ok := newBundle(t, "true")
			ok.write()
			ok.mustRT("create", "--bundle", ok.Dir, b.ID)
			ok.mustRT("delete", "--force", b.ID)
		})
	}
}

// cgroupDirsLeft lists the container's cgroup directories still present, the unified one included.
func cgroupDirsLeft(b *bundle) []string {
	var left []string
	for _, d := range append(cgroupDirs(b.Spec.Linux.CgroupsPath), filepath.Join("/sys/fs/cgroup/unified", ownCgroup(""), b.Spec.Linux.CgroupsPath)) {
		if _, err := os.Stat(d); err == nil {
			left = append(left, d)
		}
	}
	return left
}

// TestNoMountNamespace: a container without a mount namespace shares rt's;
// its mounts sit under the rootfs bind and are gone after delete.
func TestNoMountNamespace(t *testing.T) {
	b := newBundle(t, "sh", "-c", "grep -c ' /proc ' /proc/self/mountinfo; sleep 100")
	b.dropNamespace("mount")
	b.create()
	pid := b.pid()
	if got, want := nsInode(t, pid, "mnt"), nsInode(t, os.Getpid(), "mnt"); got != want {
		t.Errorf("mount namespace %s, want rt's %s", got, want)
	}
	data, _ := os.ReadFile("/proc/self/mountinfo")
	if !strings.Contains(string(data), b.Rootfs+"/proc ") {
		t.Errorf("the container's /proc is not under its rootfs in the shared namespace")
	}
	b.mustRT("start", b.ID)
	b.remove()
}
