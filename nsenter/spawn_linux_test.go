package nsenter

import (
	"errors"
	"io"
	"os"
	"os/exec"
	"path"
	"strconv"
	"strings"
	"syscall"
	"testing"

	"golang.org/x/sys/unix"
)

// newPidNamespace starts a process in a new pid namespace and opens that
// namespace, for a Spawn to join.
func newPidNamespace(t *testing.T) (*exec.Cmd, *os.File) {
	t.Helper()
	target := startInNewNamespaces(t, unix.CLONE_NEWPID, false)
	pidns, err := os.Open("/proc/" + itoa(target.Process.Pid) + "/ns/pid")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { pidns.Close() })
	return target, pidns
}

// startInNewNamespaces starts a sleeping process in fresh namespaces to join.
func startInNewNamespaces(t *testing.T, flags uintptr, userns bool) *exec.Cmd {
	t.Helper()
	cmd := exec.Command("sleep", "30")
	cmd.SysProcAttr = &syscall.SysProcAttr{Cloneflags: flags}
	if userns {
		cmd.SysProcAttr.UidMappings = []syscall.SysProcIDMap{{ContainerID: 0, HostID: 100000, Size: 65536}}
		cmd.SysProcAttr.GidMappings = []syscall.SysProcIDMap{{ContainerID: 0, HostID: 100000, Size: 65536}}
	}
	if err := cmd.Start(); err != nil {
		t.Skipf("cannot create namespaces here: %v", err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	return cmd
}

func nsLink(t *testing.T, pid int, ns string) string {
	t.Helper()
	l, err := os.Readlink("/proc/" + itoa(pid) + "/ns/" + ns)
	if err != nil {
		t.Fatal(err)
	}
	return l
}

func itoa(i int) string { return strconv.Itoa(i) }

func TestSpawnJoinsNamespaces(t *testing.T) {
	tests := []struct {
		name   string
		flags  uintptr
		userns bool
		types  map[string]int
	}{
		{"net+ipc+uts", unix.CLONE_NEWNET | unix.CLONE_NEWIPC | unix.CLONE_NEWUTS, false,
			map[string]int{"net": unix.CLONE_NEWNET, "ipc": unix.CLONE_NEWIPC, "uts": unix.CLONE_NEWUTS}},
		{"mount+pid", unix.CLONE_NEWNS | unix.CLONE_NEWPID, false,
			map[string]int{"mnt": unix.CLONE_NEWNS, "pid": unix.CLONE_NEWPID}},
		{"user-owned", unix.CLONE_NEWUSER | unix.CLONE_NEWNET | unix.CLONE_NEWNS, true,
			map[string]int{"user": unix.CLONE_NEWUSER, "net": unix.CLONE_NEWNET, "mnt": unix.CLONE_NEWNS}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			target := startInNewNamespaces(t, tc.flags, tc.userns)
			var join []Namespace
			for name, typ := range tc.types {
				f, err := os.Open("/proc/" + itoa(target.Process.Pid) + "/ns/" + name)
				if err != nil {
					t.Fatal(err)
				}
				defer f.Close()
				join = append(join, Namespace{Type: typ, Fd: int(f.Fd())})
			}
			exe, err := os.Open("/bin/sleep")
			if err != nil {
				t.Fatal(err)
			}
			defer exe.Close()
			devnull, _ := os.Open(os.DevNull)
			defer devnull.Close()
			pid, err := Spawn(&SpawnConfig{Exe: exe, Argv: []string{"sleep", "30"}, Env: []string{"PATH=/bin"},
				Files: []*os.File{devnull, devnull, devnull}, Join: join})
			if err != nil {
				t.Fatal(err)
			}
			defer func() {
				unix.Kill(pid, unix.SIGKILL)
				var ws unix.WaitStatus
				unix.Wait4(pid, &ws, 0, nil)
			}()
			for name := range tc.types {
				want := nsLink(t, target.Process.Pid, name)
				// pid namespaces apply to children: the spawned process itself is in it.
				if got := nsLink(t, pid, name); got != want {
					t.Errorf("%s: got %s, want %s", name, got, want)
				}
			}
		})
	}
}

func TestSpawnReportsFailures(t *testing.T) {
	exe, err := os.Open("/bin/true")
	if err != nil {
		t.Fatal(err)
	}
	defer exe.Close()
	bad, _ := os.Open(os.DevNull)
	defer bad.Close()
	self, _ := os.Open("/proc/self/ns/uts")
	defer self.Close()
	_, err = Spawn(&SpawnConfig{Exe: exe, Argv: []string{"true"}, Join: []Namespace{
		{Type: unix.CLONE_NEWUTS, Fd: int(self.Fd())},
		{Type: unix.CLONE_NEWNET, Fd: int(bad.Fd())},
	}})
	// The caller learns which join failed, to name its path.
	var je *JoinError
	if !errors.As(err, &je) || je.Index != 1 || je.Err != unix.EINVAL || !strings.Contains(err.Error(), "setns") {
		t.Fatalf("want a setns error for join #1, got %v", err)
	}
	dir, _ := os.Open("/")
	defer dir.Close()
	_, err = Spawn(&SpawnConfig{Exe: dir, Argv: []string{"x"}})
	if err == nil || !strings.Contains(err.Error(), "execveat") {
		t.Fatalf("want an execveat error, got %v", err)
	}
}

// TestMain lets the test binary be Spawn's Exe: the re-executed
// intermediate (CloneFromExe), and the helper the final child runs.
func TestMain(m *testing.M) {
	RunIntermediate(testPrepareExec)
	switch os.Getenv("NSENTER_TEST_HELPER") {
	case "1":
		helper()
	case "cgroup":
		cg, _ := os.ReadFile("/proc/self/cgroup")
		os.Stdout.Write(cg)
		os.Exit(0)
	case "ns":
		nsHelper()
	}
	os.Exit(m.Run())
}

// helper prints what the final child sees of itself: its pid namespace, its
// fds, and whether it may be looked into (dumpable), then exits.
func helper() {
	// Probe the fds before opening any.
	var fds []string
	for fd := 0; fd < 256; fd++ {
		if _, err := unix.FcntlInt(uintptr(fd), unix.F_GETFD, 0); err == nil {
			fds = append(fds, strconv.Itoa(fd))
		}
	}
	ns, _ := os.Readlink("/proc/self/ns/pid")
	os.Stdout.WriteString(ns + "\n" + strings.Join(fds, ",") + "\n")
	os.Exit(0)
}

// nsHelper prints, one "key=value" a line, what the final child is: its pid
// as it sees it (getpid), its uid, its namespaces (by their /proc/self/ns
// names) and its cgroups (cgroups, the lines of /proc/self/cgroup).
func nsHelper() {
	var b strings.Builder
	b.WriteString("getpid=" + strconv.Itoa(os.Getpid()) + "\n")
	b.WriteString("uid=" + strconv.Itoa(os.Getuid()) + "\n")
	for _, ns := range nsNames {
		l, _ := os.Readlink("/proc/self/ns/" + ns)
		b.WriteString(ns + "=" + l + "\n")
	}
	cg, _ := os.ReadFile("/proc/self/cgroup")
	b.WriteString("cgroups=" + strings.ReplaceAll(strings.TrimSpace(string(cg)), "\n", ";") + "\n")
	os.Stdout.WriteString(b.String())
	os.Exit(0)
}

var nsNames = []string{"pid", "mnt", "net", "ipc", "uts", "cgroup", "user"}

// spawnHelper runs this test binary as Spawn's final child (TestMain's
// helper) with cfg, nfiles fds (stdin /dev/null, stdout and stderr a pipe,
// /dev/null for the rest), waits for it and returns what it printed.
func spawnHelper(t *testing.T, cfg *SpawnConfig, nfiles int) (string, unix.WaitStatus) {
	t.Helper()
	exe, err := os.Open("/proc/self/exe")
	if err != nil {
		t.Fatal(err)
	}
	defer exe.Close()
	devnull, err := os.Open(os.DevNull)
	if err != nil {
		t.Fatal(err)
	}
	defer devnull.Close()
	cfg.Exe, cfg.Argv = exe, []string{"helper"}
	// Or the helper's Go runtime opens the cgroup cpu files itself.
	cfg.Env = append(cfg.Env, "GODEBUG=containermaxprocs=0")
	cfg.Files = []*os.File{devnull, nil, nil}
	for len(cfg.Files) < nfiles {
		cfg.Files = append(cfg.Files, devnull)
	}
	return spawnOutput(t, cfg)
}

// spawnOutput runs Spawn with cfg, the child's stdout and stderr a pipe
// (cfg.Files[1] and [2]; a missing stdin is closed), waits for the child and
// returns what it printed.
func spawnOutput(t *testing.T, cfg *SpawnConfig) (string, unix.WaitStatus) {
	t.Helper()
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	for len(cfg.Files) < 3 {
		cfg.Files = append(cfg.Files, nil)
	}
	cfg.Files[1], cfg.Files[2] = w, w
	pid, err := Spawn(cfg)
	w.Close()
	if err != nil {
		t.Fatal(err)
	}
	var ws unix.WaitStatus
	unix.Wait4(pid, &ws, 0, nil)
	out, _ := io.ReadAll(r)
	return string(out), ws
}

// TestSpawnCloneFromExe: with CloneFromExe the final child lands in the
// joined pid namespace with exactly the fds it was given, whatever the caller
// had open without close-on-exec.
func TestSpawnCloneFromExe(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root")
	}
	target, pidns := newPidNamespace(t)
	// An fd the caller leaks (no close-on-exec) must not reach the child.
	leak, err := unix.Open("/", unix.O_RDONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(leak)
	out, ws := spawnHelper(t, &SpawnConfig{Env: []string{"NSENTER_TEST_HELPER=1"},
		Join: []Namespace{{Type: unix.CLONE_NEWPID, Fd: int(pidns.Fd())}}, CloneFromExe: true}, 3)
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != 2 {
		t.Fatalf("helper output %q (wait status %v)", out, ws)
	}
	if want := nsLink(t, target.Process.Pid, "pid"); lines[0] != want {
		t.Errorf("pid namespace %s, want %s", lines[0], want)
	}
	if lines[1] != "0,1,2" {
		t.Errorf("fds %s, want 0,1,2", lines[1])
	}
}

// TestSpawnChildDiesBeforeExec: a final child that cannot exec is an error,
// not a pid.
func TestSpawnChildDiesBeforeExec(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root")
	}
	target := startInNewNamespaces(t, unix.CLONE_NEWPID, false)
	pidns, _ := os.Open("/proc/" + itoa(target.Process.Pid) + "/ns/pid")
	defer pidns.Close()
	exe, _ := os.Open("/proc/self/exe")
	defer exe.Close()
	// The intermediate re-executes itself, so a bad environment kills it.
	_, err := Spawn(&SpawnConfig{Exe: exe, Argv: []string{"x"}, Env: []string{intermediateEnv + "=junk"},
		Join: []Namespace{{Type: unix.CLONE_NEWPID, Fd: int(pidns.Fd())}}, CloneFromExe: true})
	if err == nil {
		t.Fatal("Spawn succeeded with an intermediate that could not run")
	}
	t.Log(err)
}

// TestSpawnManyFiles: the error pipe and the binary stay usable however many
// fds the child gets (the children's own fds lie above the child's range, or
// dup3 into place would overwrite them): a failing exec is still reported.
func TestSpawnManyFiles(t *testing.T) {
	devnull, _ := os.Open(os.DevNull)
	defer devnull.Close()
	files := make([]*os.File, 24)
	for i := range files {
		files[i] = devnull
	}
	dir, _ := os.Open("/")
	defer dir.Close()
	_, err := Spawn(&SpawnConfig{Exe: dir, Argv: []string{"x"}, Files: files})
	if err == nil || !strings.Contains(err.Error(), "execveat") {
		t.Fatalf("want an execveat error, got %v", err)
	}
	exe, _ := os.Open("/bin/true")
	defer exe.Close()
	pid, err := Spawn(&SpawnConfig{Exe: exe, Argv: []string{"true"}, Files: files})
	if err != nil {
		t.Fatal(err)
	}
	var ws unix.WaitStatus
	unix.Wait4(pid, &ws, 0, nil)
	if !ws.Exited() || ws.ExitStatus() != 0 {
		t.Errorf("true: %v", ws)
	}
}

// testCgroup makes a cgroup below the test's own in the v1 pids hierarchy,
// or in the cgroup v2 hierarchy mounted at mnt when v2 is set, and removes
// it at the end of the test.
func testCgroup(t *testing.T, mnt string, v2 bool) string {
	t.Helper()
	own, err := os.ReadFile("/proc/self/cgroup")
	if err != nil {
		t.Fatal(err)
	}
	var base string
	for _, l := range strings.Split(strings.TrimSpace(string(own)), "\n") {
		parts := strings.SplitN(l, ":", 3)
		if len(parts) == 3 && ((v2 && parts[0] == "0") || (!v2 && parts[1] == "pids")) {
			base = parts[2]
		}
	}
	if _, err := os.Stat(mnt + "/cgroup.procs"); err != nil || base == "" {
		t.Skipf("no cgroup hierarchy at %s", mnt)
	}
	dir := path.Join(mnt, base, "nsenter-test-"+itoa(os.Getpid()))
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.Remove(dir) })
	return dir
}

// TestSpawnBornInCgroups: the intermediate moves itself into the v1 cgroups
// (CgroupTasks) and the final child is cloned into the v2 one (Cgroup2), on
// both paths: forked from the caller, and from the re-executed intermediate.
func TestSpawnBornInCgroups(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root")
	}
	v1 := testCgroup(t, "/sys/fs/cgroup/pids", false)
	v2mnt := "/sys/fs/cgroup/unified"
	if _, err := os.Stat(v2mnt + "/cgroup.procs"); err != nil {
		v2mnt = "/sys/fs/cgroup"
	}
	var v2 string
	if _, err := os.Stat(v2mnt + "/cgroup.controllers"); err == nil {
		v2 = testCgroup(t, v2mnt, true)
	}
	for _, fromExe := range []bool{false, true} {
		t.Run(map[bool]string{false: "forked", true: "clone-from-exe"}[fromExe], func(t *testing.T) {
			tasks, err := os.OpenFile(v1+"/tasks", os.O_WRONLY|unix.O_CLOEXEC, 0)
			if err != nil {
				t.Fatal(err)
			}
			defer tasks.Close()
			cfg := &SpawnConfig{CgroupTasks: []*os.File{tasks}}
			if v2 != "" {
				if cfg.Cgroup2, err = os.OpenFile(v2, unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0); err != nil {
					t.Fatal(err)
				}
				defer cfg.Cgroup2.Close()
			}
			cfg.Env = []string{"NSENTER_TEST_HELPER=cgroup"}
			if fromExe {
				target := startInNewNamespaces(t, unix.CLONE_NEWPID, false)
				pidns, err := os.Open("/proc/" + itoa(target.Process.Pid) + "/ns/pid")
				if err != nil {
					t.Fatal(err)
				}
				defer pidns.Close()
				cfg.Join, cfg.CloneFromExe = []Namespace{{Type: unix.CLONE_NEWPID, Fd: int(pidns.Fd())}}, true
			}
			got, _ := spawnHelper(t, cfg, 3)
			if !strings.Contains(got, ":pids:"+strings.TrimPrefix(v1, "/sys/fs/cgroup/pids")+"\n") {
				t.Errorf("child's cgroups:\n%s\nwant pids %s", got, v1)
			}
			if v2 != "" && !strings.Contains(got, "0::"+strings.TrimPrefix(v2, v2mnt)+"\n") {
				t.Errorf("child's cgroups:\n%s\nwant cgroup v2 %s", got, v2)
			}
		})
	}
}

// TestSpawnClosesUnusedSlots: the fd numbers Spawn keeps for the
// intermediate (the sync pipe, the pid namespace) pass on nothing of the
// caller's when they are not used.
func TestSpawnClosesUnusedSlots(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root")
	}
	const n = 10 // the child's fds
	leak, err := unix.Open("/", unix.O_RDONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(leak)
	for _, fd := range []int{n + fdSync, n + fdPidns} {
		if _, err := unix.FcntlInt(uintptr(fd), unix.F_GETFD, 0); err == nil {
			t.Skipf("fd %d is in use", fd)
		}
		if err := unix.Dup3(leak, fd, 0); err != nil {
			t.Fatal(err)
		}
		defer unix.Close(fd)
	}
	out, _ := spawnHelper(t, &SpawnConfig{Env: []string{"NSENTER_TEST_HELPER=1"}}, n)
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != 2 || lines[1] != "0,1,2,3,4,5,6,7,8,9" {
		t.Errorf("helper output %q, want fds 0 to 9", out)
	}
}
