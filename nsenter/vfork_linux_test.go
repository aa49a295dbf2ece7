package nsenter

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"unsafe"

	"golang.org/x/sys/unix"
)

// TestSpawnCloneFlags: which children share the caller's memory. The
// intermediate does unless it joins a user namespace (it would become a user
// the container's root can ptrace) or a time namespace (EUSERS); the final
// child does unless it gets a new user namespace (Spawn writes its maps
// while it waits, which Spawn cannot do while it waits for the child).
func TestSpawnCloneFlags(t *testing.T) {
	if !canShareMemory {
		t.Skip("no CLONE_VM clone on " + runtime.GOARCH)
	}
	const vm = unix.CLONE_VM | unix.CLONE_VFORK
	tests := []struct {
		name                 string
		join                 []int
		unshare              uintptr
		joinerVM, finalVM    bool
		finalHasNewNamespace uintptr
	}{
		{"plain", nil, 0, true, true, 0},
		{"create", nil, unix.CLONE_NEWPID | unix.CLONE_NEWNS | unix.CLONE_NEWNET, true, true, unix.CLONE_NEWPID | unix.CLONE_NEWNET},
		{"create-user", nil, unix.CLONE_NEWUSER | unix.CLONE_NEWPID, true, false, unix.CLONE_NEWUSER},
		{"exec", []int{unix.CLONE_NEWPID, unix.CLONE_NEWNS, unix.CLONE_NEWNET, unix.CLONE_NEWCGROUP}, 0, true, true, 0},
		{"join-user", []int{unix.CLONE_NEWNET, unix.CLONE_NEWUSER}, 0, false, true, 0},
		{"join-time", []int{unix.CLONE_NEWTIME, unix.CLONE_NEWNS}, unix.CLONE_NEWPID, false, true, unix.CLONE_NEWPID},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cfg := &SpawnConfig{Unshare: tc.unshare}
			for _, typ := range tc.join {
				cfg.Join = append(cfg.Join, Namespace{Type: typ})
			}
			joiner, final := cloneFlags(cfg)
			if got := joiner&vm == vm; got != tc.joinerVM || joiner&^vm != uintptr(unix.SIGCHLD) {
				t.Errorf("intermediate flags %#x, want CLONE_VM|CLONE_VFORK %v", joiner, tc.joinerVM)
			}
			if got := final&vm == vm; got != tc.finalVM {
				t.Errorf("final flags %#x, want CLONE_VM|CLONE_VFORK %v", final, tc.finalVM)
			}
			if final&unix.CLONE_PARENT == 0 || final&csignal != uintptr(unix.SIGCHLD) || final&tc.finalHasNewNamespace != tc.finalHasNewNamespace {
				t.Errorf("final flags %#x, want CLONE_PARENT, SIGCHLD and %#x", final, tc.finalHasNewNamespace)
			}
		})
	}
}

// testIDMap maps a new user namespace's ids 0-65535 to 100000-165535.
var testIDMap = []syscall.SysProcIDMap{{ContainerID: 0, HostID: 100000, Size: 65536}}

// openBinary opens a program to Spawn, for the rest of the test, or skips
// the test without it.
func openBinary(t *testing.T, path string) *os.File {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Skip(err)
	}
	t.Cleanup(func() { f.Close() })
	return f
}

// helperValues parses nsHelper's output.
func helperValues(t *testing.T, out string) map[string]string {
	t.Helper()
	m := map[string]string{}
	for _, l := range strings.Split(strings.TrimSpace(out), "\n") {
		k, v, ok := strings.Cut(l, "=")
		if !ok {
			t.Fatalf("helper output %q", out)
		}
		m[k] = v
	}
	return m
}

// openNamespaces opens the namespaces names of pid for Join.
func openNamespaces(t *testing.T, pid int, names map[string]int) []Namespace {
	t.Helper()
	var join []Namespace
	for name, typ := range names {
		f, err := os.Open("/proc/" + itoa(pid) + "/ns/" + name)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { f.Close() })
		join = append(join, Namespace{Type: typ, Fd: int(f.Fd())})
	}
	return join
}

// testCgroups makes a cgroup in the v1 pids hierarchy and, where cgroup2
// is mounted, one in it, below this process's own, and opens them for Spawn.
// It returns the paths /proc/<pid>/cgroup shows of a process in them, by
// the line's controllers ("" for cgroup2).
func testCgroups(t *testing.T, cfg *SpawnConfig) map[string]string {
	t.Helper()
	v1 := testCgroup(t, "/sys/fs/cgroup/pids", false)
	tasks, err := os.OpenFile(v1+"/tasks", os.O_WRONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { tasks.Close() })
	cfg.CgroupTasks = []*os.File{tasks}
	want := map[string]string{"pids": strings.TrimPrefix(v1, "/sys/fs/cgroup/pids")}
	v2mnt := "/sys/fs/cgroup/unified"
	if _, err := os.Stat(v2mnt + "/cgroup.controllers"); err != nil {
		return want
	}
	v2 := testCgroup(t, v2mnt, true)
	if cfg.Cgroup2, err = os.OpenFile(v2, unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cfg.Cgroup2.Close() })
	want[""] = strings.TrimPrefix(v2, v2mnt)
	return want
}

// parseCgroups maps the controllers of each line of a /proc/<pid>/cgroup
// file (lines apart by sep) to its path.
func parseCgroups(s, sep string) map[string]string {
	m := map[string]string{}
	for _, l := range strings.Split(strings.TrimSpace(s), sep) {
		if f := strings.SplitN(l, ":", 3); len(f) == 3 {
			m[f[1]] = f[2]
		}
	}
	return m
}

// TestSpawnCreateLike: the final child gets new namespaces (as `rt create`
// asks), is born in the cgroups, and is pid 1 of its new pid namespace,
// whichever children share the caller's memory.
func TestSpawnCreateLike(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root")
	}
	tests := []struct {
		name    string
		unshare uintptr
		// join: namespaces of a process in new ones (flags, user owned)
		join    map[string]int
		joinNew uintptr
		userns  bool
		uid     string
	}{
		{name: "new-pid-mnt-net-ipc-uts", unshare: unix.CLONE_NEWPID | unix.CLONE_NEWNS | unix.CLONE_NEWNET | unix.CLONE_NEWIPC | unix.CLONE_NEWUTS, uid: "0"},
		{name: "new-user", unshare: unix.CLONE_NEWUSER | unix.CLONE_NEWPID | unix.CLONE_NEWNS | unix.CLONE_NEWNET, uid: "0"},
		{name: "joined-net", unshare: unix.CLONE_NEWPID | unix.CLONE_NEWNS,
			join: map[string]int{"net": unix.CLONE_NEWNET, "uts": unix.CLONE_NEWUTS}, joinNew: unix.CLONE_NEWNET | unix.CLONE_NEWUTS, uid: "0"},
		{name: "joined-user", unshare: unix.CLONE_NEWPID | unix.CLONE_NEWNS,
			join: map[string]int{"user": unix.CLONE_NEWUSER, "net": unix.CLONE_NEWNET}, joinNew: unix.CLONE_NEWUSER | unix.CLONE_NEWNET, userns: true, uid: "0"},
	}
	self := helperValues(t, selfNamespaces(t))
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cfg := &SpawnConfig{Unshare: tc.unshare, Env: []string{"NSENTER_TEST_HELPER=ns"}, SetgroupsAllowed: true}
			if tc.unshare&unix.CLONE_NEWUSER != 0 {
				cfg.UIDMappings, cfg.GIDMappings = testIDMap, testIDMap
			}
			var target int
			if tc.join != nil {
				target = startInNewNamespaces(t, tc.joinNew, tc.userns).Process.Pid
				cfg.Join = openNamespaces(t, target, tc.join)
			}
			cgroups := testCgroups(t, cfg)
			out, ws := spawnHelper(t, cfg, 3)
			got := helperValues(t, out)
			if !ws.Exited() || ws.ExitStatus() != 0 {
				t.Errorf("helper: %v", ws)
			}
			if got["getpid"] != "1" || got["uid"] != tc.uid {
				t.Errorf("pid %s uid %s, want 1 and %s", got["getpid"], got["uid"], tc.uid)
			}
			for _, ns := range nsNames {
				var want string
				switch {
				case tc.join[ns] != 0:
					want = nsLink(t, target, ns)
				case ns == "cgroup" || tc.unshare&uintptr(nsFlag[ns]) == 0:
					want = self[ns]
				}
				if want != "" && got[ns] != want {
					t.Errorf("%s namespace %s, want %s", ns, got[ns], want)
				}
				if want == "" && got[ns] == self[ns] {
					t.Errorf("%s namespace %s is the caller's, want a new one", ns, got[ns])
				}
			}
			in := parseCgroups(got["cgroups"], ";")
			for ctl, path := range cgroups {
				if in[ctl] != path {
					t.Errorf("cgroups %s, want %q in %s", got["cgroups"], ctl, path)
				}
			}
		})
	}
}

var nsFlag = map[string]int{"pid": unix.CLONE_NEWPID, "mnt": unix.CLONE_NEWNS, "net": unix.CLONE_NEWNET,
	"ipc": unix.CLONE_NEWIPC, "uts": unix.CLONE_NEWUTS, "cgroup": unix.CLONE_NEWCGROUP, "user": unix.CLONE_NEWUSER}

// selfNamespaces prints the caller's namespaces as nsHelper does.
func selfNamespaces(t *testing.T) string {
	t.Helper()
	var b strings.Builder
	for _, ns := range nsNames {
		b.WriteString(ns + "=" + nsLink(t, os.Getpid(), ns) + "\n")
	}
	return b.String()
}

// TestSpawnExecLike: the final child joins every namespace of a running
// process (as `rt exec` does), the pid namespace through the re-executed
// intermediate, and lands in the cgroups.
func TestSpawnExecLike(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root")
	}
	names := map[string]int{"pid": unix.CLONE_NEWPID, "mnt": unix.CLONE_NEWNS, "net": unix.CLONE_NEWNET,
		"ipc": unix.CLONE_NEWIPC, "uts": unix.CLONE_NEWUTS, "cgroup": unix.CLONE_NEWCGROUP}
	for _, fromExe := range []bool{true, false} {
		t.Run(map[bool]string{true: "clone-from-exe", false: "cloned-by-intermediate"}[fromExe], func(t *testing.T) {
			var flags uintptr
			for _, typ := range names {
				flags |= uintptr(typ)
			}
			target := startInNewNamespaces(t, flags, false).Process.Pid
			cfg := &SpawnConfig{Env: []string{"NSENTER_TEST_HELPER=ns"}, Join: openNamespaces(t, target, names), CloneFromExe: fromExe}
			cgroups := testCgroups(t, cfg)
			out, ws := spawnHelper(t, cfg, 3)
			got := helperValues(t, out)
			if !ws.Exited() || ws.ExitStatus() != 0 {
				t.Errorf("helper: %v", ws)
			}
			for ns := range names {
				// Without CloneFromExe the intermediate joins the pid
				// namespace: its children go there.
				if want := nsLink(t, target, ns); got[ns] != want {
					t.Errorf("%s namespace %s, want %s", ns, got[ns], want)
				}
			}
			// The target is pid 1 there.
			if got["getpid"] == "1" || got["getpid"] == "" {
				t.Errorf("pid %q in the joined pid namespace", got["getpid"])
			}
			// In the target's cgroup namespace, rooted at its cgroups.
			b, err := os.ReadFile("/proc/" + itoa(target) + "/cgroup")
			if err != nil {
				t.Fatal(err)
			}
			roots, in := parseCgroups(string(b), "\n"), parseCgroups(got["cgroups"], ";")
			for ctl, path := range cgroups {
				if root := roots[ctl]; root != "/" {
					path = strings.TrimPrefix(path, root)
				}
				if in[ctl] != path {
					t.Errorf("cgroups %s, want %q in %s", got["cgroups"], ctl, path)
				}
			}
		})
	}
}

// childPids lists this process's children, zombies included.
func childPids(t *testing.T) map[int]bool {
	t.Helper()
	tasks, err := os.ReadDir("/proc/self/task")
	if err != nil {
		t.Fatal(err)
	}
	pids := map[int]bool{}
	for _, task := range tasks {
		b, err := os.ReadFile("/proc/self/task/" + task.Name() + "/children")
		if err != nil && !os.IsNotExist(err) {
			t.Fatal(err)
		}
		for _, f := range strings.Fields(string(b)) {
			pid, _ := strconv.Atoi(f)
			pids[pid] = true
		}
	}
	return pids
}

// TestSpawnFailuresLeaveNothing: a failure in the intermediate or the final
// child, sharing the caller's memory or not, is reported with its stage, and
// every child Spawn made is reaped.
func TestSpawnFailuresLeaveNothing(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root")
	}
	if _, err := os.Stat("/proc/self/task/" + itoa(unix.Gettid()) + "/children"); err != nil {
		t.Skip("no /proc/<pid>/task/<tid>/children")
	}
	devnull, err := os.Open(os.DevNull)
	if err != nil {
		t.Fatal(err)
	}
	defer devnull.Close()
	dir, err := os.Open("/")
	if err != nil {
		t.Fatal(err)
	}
	defer dir.Close()
	trueExe := openBinary(t, "/bin/true")
	tests := []struct {
		name string
		cfg  func(t *testing.T) *SpawnConfig
		// want is in the error's text; joinIndex, when not -1, the JoinError's.
		want      string
		joinIndex int
	}{
		{"setns", func(t *testing.T) *SpawnConfig {
			self, _ := os.Open("/proc/self/ns/uts")
			t.Cleanup(func() { self.Close() })
			return &SpawnConfig{Exe: trueExe, Join: []Namespace{{Type: unix.CLONE_NEWUTS, Fd: int(self.Fd())}, {Type: unix.CLONE_NEWNET, Fd: int(devnull.Fd())}}}
		}, "setns", 1},
		{"setns-after-user", func(t *testing.T) *SpawnConfig {
			target := startInNewNamespaces(t, unix.CLONE_NEWUSER|unix.CLONE_NEWNET, true).Process.Pid
			join := openNamespaces(t, target, map[string]int{"user": unix.CLONE_NEWUSER})
			return &SpawnConfig{Exe: trueExe, Join: append(join, Namespace{Type: unix.CLONE_NEWNET, Fd: int(devnull.Fd())})}
		}, "setns", 1},
		{"cgroup", func(t *testing.T) *SpawnConfig {
			// Not open for writing.
			return &SpawnConfig{Exe: trueExe, CgroupTasks: []*os.File{devnull}, Unshare: unix.CLONE_NEWPID}
		}, "join cgroup: bad file descriptor", -1},
		{"chroot", func(t *testing.T) *SpawnConfig {
			return &SpawnConfig{Exe: trueExe, Root: devnull}
		}, "chroot: not a directory", -1},
		{"clone", func(t *testing.T) *SpawnConfig {
			// The kernel refuses a new ipc namespace with a shared undo list.
			return &SpawnConfig{Exe: trueExe, Unshare: unix.CLONE_NEWIPC | unix.CLONE_SYSVSEM}
		}, "clone: invalid argument", -1},
		{"exec", func(t *testing.T) *SpawnConfig {
			return &SpawnConfig{Exe: dir, Unshare: unix.CLONE_NEWPID | unix.CLONE_NEWNS}
		}, "execveat", -1},
		{"exec-new-user", func(t *testing.T) *SpawnConfig {
			return &SpawnConfig{Exe: dir, Unshare: unix.CLONE_NEWUSER | unix.CLONE_NEWPID, UIDMappings: testIDMap, GIDMappings: testIDMap}
		}, "execveat", -1},
		{"exec-after-user", func(t *testing.T) *SpawnConfig {
			target := startInNewNamespaces(t, unix.CLONE_NEWUSER, true).Process.Pid
			return &SpawnConfig{Exe: dir, Join: openNamespaces(t, target, map[string]int{"user": unix.CLONE_NEWUSER})}
		}, "execveat", -1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cfg := tc.cfg(t)
			cfg.Argv = []string{"x"}
			before := childPids(t)
			_, err := Spawn(cfg)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("got %v, want an error with %q", err, tc.want)
			}
			var je *JoinError
			if tc.joinIndex >= 0 && (!errors.As(err, &je) || je.Index != tc.joinIndex) {
				t.Errorf("got %v, want a JoinError for join #%d", err, tc.joinIndex)
			}
			for pid := range childPids(t) {
				if !before[pid] {
					b, _ := os.ReadFile("/proc/" + itoa(pid) + "/stat")
					t.Errorf("child %d left behind: %s", pid, b)
				}
			}
		})
	}
}

// TestSpawnRestoresSignalMask: the final child execs with the caller's
// signal mask, not with every signal blocked.
func TestSpawnRestoresSignalMask(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root")
	}
	tests := []struct {
		name string
		cfg  SpawnConfig
	}{
		{"plain", SpawnConfig{}},
		{"new-pid", SpawnConfig{Unshare: unix.CLONE_NEWPID | unix.CLONE_NEWNS}},
		{"new-user", SpawnConfig{Unshare: unix.CLONE_NEWUSER, UIDMappings: testIDMap, GIDMappings: testIDMap}},
	}
	grep := openBinary(t, "/bin/grep")
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cfg := tc.cfg
			cfg.Exe, cfg.Argv = grep, []string{"grep", "SigBlk", "/proc/self/status"}
			// SIGUSR2 blocked on the calling thread, which Spawn clones from.
			runtime.LockOSThread()
			defer runtime.UnlockOSThread()
			set, old := uint64(1)<<(unix.SIGUSR2-1), uint64(0)
			if _, _, e := unix.RawSyscall6(unix.SYS_RT_SIGPROCMASK, unix.SIG_BLOCK, uintptr(unsafe.Pointer(&set)), uintptr(unsafe.Pointer(&old)), 8, 0, 0); e != 0 {
				t.Fatal(e)
			}
			out, ws := spawnOutput(t, &cfg)
			unix.RawSyscall6(unix.SYS_RT_SIGPROCMASK, unix.SIG_SETMASK, uintptr(unsafe.Pointer(&old)), 0, 8, 0, 0)
			if want := fmt.Sprintf("SigBlk:\t%016x\n", set|old); out != want {
				t.Errorf("got %q (%v), want %q", out, ws, want)
			}
		})
	}
}

// TestSpawnChroot: the intermediate, sharing the caller's memory but not its
// filesystem context, makes Root the child's root and working directory.
func TestSpawnChroot(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root")
	}
	// A static shell: the new root has no loader.
	busybox := openBinary(t, "/bin/busybox")
	root := t.TempDir()
	if err := os.WriteFile(filepath.Join(root, "marker"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	rootDir, err := os.Open(root)
	if err != nil {
		t.Fatal(err)
	}
	defer rootDir.Close()
	out, ws := spawnOutput(t, &SpawnConfig{Exe: busybox, Argv: []string{"sh", "-c", "pwd; test -e /marker && echo marker"},
		Root: rootDir})
	if out != "/\nmarker\n" {
		t.Errorf("the child saw %q (%v), want / with /marker", out, ws)
	}
	// The caller's own root and working directory are untouched.
	if wd, _ := os.Getwd(); wd == "/" {
		t.Errorf("the caller's working directory became /")
	}
	if _, err := os.Stat(filepath.Join(root, "marker")); err != nil {
		t.Errorf("the caller's root changed: %v", err)
	}
}

// TestSpawnConcurrentMemoryIntact: children that run on the calling thread's
// stack and in the caller's memory leave both as they were: many Spawns from
// several goroutines while others allocate and collect garbage, each Spawn's
// pid the child that exits 0, and the callers' stacks and heaps unchanged.
func TestSpawnConcurrentMemoryIntact(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root")
	}
	exe := openBinary(t, "/bin/true")
	const spawners, each = 4, 50
	stop := make(chan struct{})
	var churn sync.WaitGroup
	churnErr := make(chan error, 2)
	for g := 0; g < 2; g++ {
		churn.Add(1)
		go func(g int) {
			defer churn.Done()
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				s := make([]uint64, 1024+i%4096)
				for j := range s {
					s[j] = uint64(g<<32 | j)
				}
				if i%64 == 0 {
					runtime.GC()
				}
				for j := range s {
					if s[j] != uint64(g<<32|j) {
						churnErr <- fmt.Errorf("heap word %d of %d is %#x", j, len(s), s[j])
						return
					}
				}
			}
		}(g)
	}
	var wg sync.WaitGroup
	errs := make(chan error, spawners*each)
	pids := make(chan int, spawners*each)
	for g := 0; g < spawners; g++ {
		wg.Add(1)
		go func(g int) {
			defer wg.Done()
			var frame [64]uint64
			for i := range frame {
				frame[i] = uint64(g)<<56 | uint64(i)*0x9e3779b97f4a7c15
			}
			argv := []string{"true", "arg-" + strconv.Itoa(g)}
			for i := 0; i < each; i++ {
				cfg := &SpawnConfig{Exe: exe, Argv: argv}
				if i%2 == 1 {
					cfg.Unshare = unix.CLONE_NEWPID | unix.CLONE_NEWNS | unix.CLONE_NEWUTS
				}
				pid, err := Spawn(cfg)
				if err != nil {
					errs <- err
					continue
				}
				var ws unix.WaitStatus
				got, err := unix.Wait4(pid, &ws, 0, nil)
				if err != nil || got != pid || !ws.Exited() || ws.ExitStatus() != 0 {
					errs <- fmt.Errorf("wait4(%d) = %d, %v, %v", pid, got, ws, err)
				}
				pids <- pid
				for j := range frame {
					if frame[j] != uint64(g)<<56|uint64(j)*0x9e3779b97f4a7c15 {
						errs <- fmt.Errorf("spawner %d: stack word %d changed to %#x", g, j, frame[j])
						return
					}
				}
				if argv[1] != "arg-"+strconv.Itoa(g) || len(cfg.Argv) != 2 {
					errs <- fmt.Errorf("spawner %d: argv changed to %q", g, cfg.Argv)
					return
				}
			}
		}(g)
	}
	wg.Wait()
	close(stop)
	churn.Wait()
	close(errs)
	close(pids)
	close(churnErr)
	for err := range churnErr {
		t.Error(err)
	}
	n := 0
	for err := range errs {
		if n++; n <= 10 {
			t.Error(err)
		}
	}
	if len(pids) != spawners*each {
		t.Errorf("%d children, want %d", len(pids), spawners*each)
	}
}
