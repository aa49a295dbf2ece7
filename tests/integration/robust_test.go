package integration

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

// Issue 12, findings 5 to 7: recovering from a kill at any moment, bounded
// waits instead of hangs, and cgroups that are the container's own.

// within is how long a command that must not hang gets.
const within = 30 * time.Second

// TestKilledCreateOrRun (finding 5): rt create or run SIGKILLed while it
// creates or starts the container leaves something that delete --force
// removes completely: no init parked on exec.fifo, no cgroup, no state
// directory; the id is usable again, and a container never shows "created"
// while its program runs.
func TestKilledCreateOrRun(t *testing.T) {
	state := func(b *bundle) killPoint {
		return killPoint{"rename,renameat,renameat2", filepath.Join(b.Root, b.ID, "state.json")}
	}
	fifoGone := func(b *bundle) killPoint {
		return killPoint{"unlink,unlinkat", filepath.Join(b.Root, b.ID, "exec.fifo")}
	}
	for _, tc := range []struct {
		name string
		cmd  string                  // create or run
		kp   func(*bundle) killPoint // nil: hook kills rt
		hook string                  // the hook that kills rt
		// running: rt was killed as it started the program, which runs
		// (or, when the kill came before the init saw the release, still
		// waits): rt must say which, and start must act on it, never hang.
		running bool
	}{
		{name: "create/state.json", cmd: "create", kp: state},
		{name: "run/state.json", cmd: "run", kp: state},
		{name: "create/createRuntime-hook", cmd: "create", hook: "createRuntime"},
		{name: "run/prestart-hook", cmd: "run", hook: "prestart"},
		{name: "run/after-fifo-read", cmd: "run", kp: fifoGone, running: true},
		{name: "run/poststart-hook", cmd: "run", hook: "poststart", running: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b := newBundle(t, "sleep", "1000")
			if tc.hook != "" {
				b.Spec.Hooks = &specs.Hooks{}
				h := []specs.Hook{killHook()}
				switch tc.hook {
				case "createRuntime":
					b.Spec.Hooks.CreateRuntime = h
				case "prestart":
					b.Spec.Hooks.Prestart = h //nolint:staticcheck // runc still runs prestart hooks
				case "poststart":
					b.Spec.Hooks.Poststart = h
				}
			}
			b.write()
			args := []string{tc.cmd, "--bundle", b.Dir, b.ID}
			if tc.cmd == "run" {
				args = []string{"run", "--detach", "--bundle", b.Dir, b.ID}
			}
			if tc.kp != nil {
				k := rtKilledAt(t, b, tc.kp(b), args...)
				if !k.hit {
					t.Fatalf("rt was not killed at %s: %s\n%s", tc.kp(b), k.result, k.trace)
				}
			} else if r := b.rtIn(within, args...); r.Code != 137 && r.Code != -1 {
				t.Fatalf("the %s hook did not kill rt: %s", tc.hook, r)
			}
			checkList(t, b.Root)
			if tc.running {
				assertTruthfulStatus(t, b)
			}
			ns := containerNS(b)
			if r := b.rtIn(within, "delete", "--force", b.ID); r.Code != 0 {
				t.Errorf("delete --force: %s", r)
			}
			assertGone(t, b, ns, "delete --force after the kill")
		})
	}
}

// TestStartFifoOpenedByOther (finding 6): when something else opened
// exec.fifo first (and so started the program), start fails promptly instead
// of waiting forever with the container locked.
func TestStartFifoOpenedByOther(t *testing.T) {
	b := newBundle(t, "sleep", "1000")
	b.create()
	f, err := os.Open(filepath.Join(b.Root, b.ID, "exec.fifo"))
	if err != nil {
		t.Fatal(err)
	}
	io.ReadAll(f) // EOF once the program has started
	f.Close()
	r := runRTWithin(within, b.Root, "start", b.ID)
	if r.Code == 0 || strings.Contains(r.Stderr, "HUNG") {
		t.Errorf("start after another process released the init: %s", r)
	}
	if st := b.status(); st != "running" {
		t.Errorf("status %s, want running", st)
	}
	b.remove()
}

// freezeCgroup makes the freezer cgroup at rel (relative to ours) and freezes
// it; the test thaws and removes it.
func freezeCgroup(t *testing.T, rel string) string {
	t.Helper()
	dir := cgDir("freezer", rel)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		os.WriteFile(filepath.Join(dir, "freezer.state"), []byte("THAWED"), 0)
		for i := 0; i < 100; i++ {
			procs, _ := os.ReadFile(filepath.Join(dir, "cgroup.procs"))
			if len(strings.TrimSpace(string(procs))) == 0 {
				break
			}
			for _, p := range strings.Fields(string(procs)) {
				pid, _ := strconv.Atoi(p)
				unix.Kill(pid, unix.SIGKILL)
			}
			time.Sleep(20 * time.Millisecond)
		}
		for d := dir; d != cgDir("freezer", testCg); d = filepath.Dir(d) {
			os.Remove(d)
		}
	})
	if err := os.WriteFile(filepath.Join(dir, "freezer.state"), []byte("FROZEN"), 0); err != nil {
		t.Fatal(err)
	}
	return dir
}

// TestRefuseFrozenCgroup (finding 6, runc's cgroups.bats): create and run into
// a frozen cgroup, or one below a frozen parent, fail at once with runc's
// message and leave no process and no cgroup of their own; the frozen cgroup
// (not rt's) stays.
func TestRefuseFrozenCgroup(t *testing.T) {
	for _, tc := range []struct{ name, cmd, frozen string }{
		{"create", "create", ""},
		{"run", "run", ""},
		{"frozen-parent", "run", ".."},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b := newBundle(t, "sleep", "1000")
			b.Spec.Linux.CgroupsPath = testCg + "/frozen-" + b.ID + "/c"
			dir := freezeCgroup(t, filepath.Join(b.Spec.Linux.CgroupsPath, tc.frozen))
			b.write()
			args := []string{tc.cmd, "--bundle", b.Dir, b.ID}
			if tc.cmd == "run" {
				args = []string{"run", "--detach", "--bundle", b.Dir, b.ID}
			}
			r := b.rtIn(within, args...)
			if r.Code == 0 || !strings.Contains(r.Stderr, "container's cgroup unexpectedly frozen") {
				t.Errorf("%s into a frozen cgroup: %s", tc.cmd, r)
			}
			if _, err := os.Stat(dir); err != nil {
				t.Errorf("the frozen cgroup, not rt's, was removed: %v", err)
			}
			os.WriteFile(filepath.Join(dir, "freezer.state"), []byte("THAWED"), 0)
			waitNoStrays(t, b, nil, tc.cmd)
			if _, err := os.Stat(filepath.Join(b.Root, b.ID)); err == nil {
				t.Errorf("state directory left behind")
			}
		})
	}
}

// TestRefuseNonEmptyCgroup (finding 6, runc's cgroups.bats): a second
// container whose cgroupsPath is a running container's is refused, and the
// first keeps its processes and cgroups.
func TestRefuseNonEmptyCgroup(t *testing.T) {
	a := newBundle(t, "sleep", "1000")
	a.start()
	for _, cmd := range []string{"create", "run"} {
		b := newBundle(t, "sleep", "1000")
		b.Spec.Linux.CgroupsPath = a.Spec.Linux.CgroupsPath
		b.write()
		args := []string{cmd, "--bundle", b.Dir, b.ID}
		if cmd == "run" {
			args = []string{"run", "--detach", "--bundle", b.Dir, b.ID}
		}
		r := runRTWithin(within, b.Root, args...)
		if r.Code == 0 || !strings.Contains(r.Stderr, "container's cgroup is not empty") {
			t.Errorf("%s into a running container's cgroup: %s", cmd, r)
			b.rt("delete", "--force", b.ID)
		}
		for _, d := range cgroupDirs(a.Spec.Linux.CgroupsPath) {
			if _, err := os.Stat(d); err != nil {
				t.Errorf("after the refused %s: %v", cmd, err)
			}
		}
		if st := a.status(); st != "running" {
			t.Errorf("after the refused %s the first container is %s", cmd, st)
		}
	}
	a.remove()
}

// TestFrozenInitDuringCreate (finding 6): an init frozen while rt waits for it
// (here by a createRuntime hook) ends the wait with an error, and rt removes
// the container it was creating.
func TestFrozenInitDuringCreate(t *testing.T) {
	b := newBundle(t, "sleep", "1000")
	freezer := filepath.Join(cgDir("freezer", b.Spec.Linux.CgroupsPath), "freezer.state")
	b.Spec.Hooks = &specs.Hooks{CreateRuntime: []specs.Hook{{
		Path: "/bin/sh", Args: []string{"sh", "-c", "echo FROZEN > " + freezer},
	}}}
	b.write()
	r := b.rtIn(within, "create", "--bundle", b.Dir, b.ID)
	if r.Code == 0 || !strings.Contains(r.Stderr, "frozen") {
		t.Errorf("create with an init frozen during setup: %s", r)
	}
	if strings.Contains(r.Stderr, "HUNG") {
		os.WriteFile(freezer, []byte("THAWED"), 0)
	}
	b.rt("delete", "--force", b.ID)
	assertGone(t, b, nil, "failed create")
}

// TestCgroupsOwnLeafOnly (finding 7): delete and a failed start remove the
// container's own cgroup and nothing above it, even where rt made the parent.
func TestCgroupsOwnLeafOnly(t *testing.T) {
	for _, tc := range []struct {
		name  string
		args  []string
		fails bool
	}{
		{"delete", []string{"sleep", "1000"}, false},
		{"failed-start", []string{"/no/such/program"}, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b := newBundle(t, tc.args...)
			parent := testCg + "/pod-" + b.ID
			b.Spec.Linux.CgroupsPath = parent + "/c"
			var parents []string
			for _, d := range cgroupDirs(parent) {
				if err := os.MkdirAll(d, 0o755); err != nil {
					t.Fatal(err)
				}
				parents = append(parents, d)
			}
			// The cpuset parent needs cpus and mems before the child can: fill it here.
			fillCpuset(t, cgDir("cpuset", parent))
			t.Cleanup(func() {
				for _, d := range parents {
					os.Remove(d)
				}
			})
			b.write()
			r := runRTWithin(within, b.Root, "run", "--detach", "--bundle", b.Dir, b.ID)
			if (r.Code != 0) != tc.fails {
				t.Fatalf("run: %s", r)
			}
			if !tc.fails {
				b.remove()
			}
			for _, d := range parents {
				if _, err := os.Stat(d); err != nil {
					t.Errorf("the pre-existing parent cgroup is gone: %v", err)
				}
			}
			for _, d := range cgroupDirs(b.Spec.Linux.CgroupsPath) {
				if _, err := os.Stat(d); err == nil {
					t.Errorf("the container's cgroup %s is left", d)
				}
			}
		})
	}
}

// fillCpuset gives a v1 cpuset cgroup its parent's cpus and mems.
func fillCpuset(t *testing.T, dir string) {
	t.Helper()
	for _, f := range []string{"cpuset.cpus", "cpuset.mems"} {
		v, err := os.ReadFile(filepath.Join(filepath.Dir(dir), f))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, f), v, 0); err != nil {
			t.Fatal(err)
		}
	}
}

// TestCpusetEmptyParent (runc's update.bats, pod cgroup): an existing v1
// cpuset ancestor without cpus or mems gets its parent's, as runc does, so
// the container can join; rt does not remove that ancestor.
func TestCpusetEmptyParent(t *testing.T) {
	b := newBundle(t, "sleep", "1000")
	parent := testCg + "/pod-" + b.ID
	b.Spec.Linux.CgroupsPath = parent + "/c"
	dir := cgDir("cpuset", parent)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		for _, d := range cgroupDirs(parent) {
			os.Remove(d)
		}
	})
	if cpus, _ := os.ReadFile(filepath.Join(dir, "cpuset.cpus")); strings.TrimSpace(string(cpus)) != "" {
		t.Skipf("a new cpuset has cpus here (%q): clone_children is set", cpus)
	}
	b.write()
	b.mustRT("run", "--detach", "--bundle", b.Dir, b.ID)
	b.remove()
	if _, err := os.Stat(dir); err != nil {
		t.Errorf("the existing cpuset parent is gone: %v", err)
	}
}

// TestParallelSiblings (finding 7): containers created and deleted in
// parallel under one parent that none of them owns alone never fail.
func TestParallelSiblings(t *testing.T) {
	const rounds, width = 20, 3
	parent := fmt.Sprintf("%s/siblings-%d", testCg, seq.Add(1))
	t.Cleanup(func() {
		for _, d := range cgroupDirs(parent) {
			os.Remove(d)
		}
	})
	var bundles []*bundle
	for i := 0; i < width; i++ {
		b := newBundle(t, "true")
		b.Spec.Linux.CgroupsPath = fmt.Sprintf("%s/c%d", parent, i)
		b.write()
		bundles = append(bundles, b)
	}
	failures := 0
	for round := 0; round < rounds; round++ {
		var wg sync.WaitGroup
		errs := make(chan string, width)
		for _, b := range bundles {
			wg.Add(1)
			go func() {
				defer wg.Done()
				if r := runRTWithin(within, b.Root, "run", "--bundle", b.Dir, b.ID); r.Code != 0 {
					errs <- fmt.Sprintf("round %d, %s: %s", round, b.ID, r)
				}
			}()
		}
		wg.Wait()
		close(errs)
		for e := range errs {
			failures++
			t.Error(e)
		}
		if failures > 5 {
			t.FailNow()
		}
	}
}

// TestNamedHierarchy (finding 7): the container gets a cgroup in every
// mounted hierarchy, the named name=systemd one included, as runc and crun
// make it, and delete removes it.
func TestNamedHierarchy(t *testing.T) {
	if _, err := os.Stat("/sys/fs/cgroup/systemd/cgroup.procs"); err != nil {
		t.Skip("no name=systemd hierarchy mounted")
	}
	b := newBundle(t, "sleep", "1000")
	pid := b.start()
	dir := cgDir("systemd", b.Spec.Linux.CgroupsPath)
	procs, err := os.ReadFile(filepath.Join(dir, "cgroup.procs"))
	if err != nil || !strings.Contains("\n"+string(procs), "\n"+strconv.Itoa(pid)+"\n") {
		t.Errorf("init %d not in the name=systemd cgroup %s: %q, %v", pid, dir, procs, err)
	}
	b.remove()
}

// TestCgroupNamespaceRoot (finding 7, runc's delete.bats): a new cgroup
// namespace is rooted at the container's own cgroup: /proc/self/cgroup says
// "/" in every hierarchy, and a cgroup made inside lands below the
// container's, which delete removes with it.
func TestCgroupNamespaceRoot(t *testing.T) {
	b := newBundle(t, "sh", "-c", "cat /proc/self/cgroup >/out; mkdir /sys/fs/cgroup/memory/sub && echo made >>/out; sleep 1000")
	b.setNamespace(specs.CgroupNamespace, "")
	b.Spec.Root.Readonly = false
	for i, m := range b.Spec.Mounts {
		if m.Type == "cgroup" {
			b.Spec.Mounts[i].Options = []string{"nosuid", "noexec", "nodev", "relatime", "rw"}
		}
	}
	b.start()
	out := b.rootfsFile("out")
	deadline := time.Now().Add(10 * time.Second)
	for !strings.Contains(readFile(out), "made") && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	got := readFile(out)
	for _, line := range strings.Split(strings.TrimSpace(got), "\n") {
		if line == "made" {
			continue
		}
		if !strings.HasSuffix(line, ":/") {
			t.Errorf("inside the cgroup namespace: %q, want the root /", line)
		}
	}
	sub := filepath.Join(cgDir("memory", b.Spec.Linux.CgroupsPath), "sub")
	if _, err := os.Stat(sub); err != nil {
		t.Errorf("the cgroup made inside is not below the container's (%v); output %q", err, got)
		os.Remove(filepath.Join(cgDir("memory", testCg), "sub"))
	}
	b.remove()
}

func readFile(path string) string {
	data, _ := os.ReadFile(path)
	return string(data)
}

// TestKillHostPidns (runc's kill.bats): without a pid namespace of its own,
// kill KILL ends every process of the container, also once its init is
// gone; signal 0 checks liveness.
func TestKillHostPidns(t *testing.T) {
	for _, initGone := range []bool{false, true} {
		t.Run(map[bool]string{false: "init-alive", true: "init-gone"}[initGone], func(t *testing.T) {
			b := newBundle(t, "sleep", "1000")
			b.dropNamespace("pid")
			init := b.start()
			for i := 0; i < 3; i++ {
				b.mustRT("exec", "--detach", b.ID, "sleep", "1000")
			}
			pids := containerPids(t, b, 4)
			if initGone {
				unix.Kill(init, unix.SIGKILL)
				for pidAlive(init) {
					time.Sleep(10 * time.Millisecond)
				}
			}
			b.mustRT("kill", b.ID, "KILL")
			deadline := time.Now().Add(10 * time.Second)
			for _, p := range pids {
				for pidAlive(p) && time.Now().Before(deadline) {
					time.Sleep(20 * time.Millisecond)
				}
				if pidAlive(p) {
					t.Errorf("pid %d survived kill KILL", p)
				}
			}
			b.waitStatus("stopped")
			b.mustRT("delete", b.ID)
			assertNoLeaks(t, b, 0)
		})
	}
}

// TestKillSignalZero (runc's kill.bats): signal 0 checks that the container
// runs; on a stopped one it fails with "container not running", unless
// --all is given.
func TestKillSignalZero(t *testing.T) {
	b := newBundle(t, "sleep", "1000")
	b.start()
	b.mustRT("kill", b.ID, "0")
	b.mustRT("kill", b.ID, "KILL")
	b.waitStatus("stopped")
	if r := b.rt("kill", b.ID, "0"); r.Code == 0 || !strings.Contains(r.Stderr, "container not running") {
		t.Errorf("kill 0 of a stopped container: %s", r)
	}
	b.mustRT("kill", "--all", b.ID, "0")
	b.mustRT("delete", b.ID)
}

// assertTruthfulStatus checks, after a start was killed, that the status
// says what the init does: created while it still waits (then start runs
// it), running once the program runs (then start refuses); start never
// hangs.
func assertTruthfulStatus(t *testing.T, b *bundle) {
	t.Helper()
	pid := b.pid()
	program := func() bool {
		return strings.HasPrefix(readFile(fmt.Sprintf("/proc/%d/cmdline", pid)), "sleep\x00")
	}
	// A released init may take a moment to exec.
	deadline := time.Now().Add(2 * time.Second)
	for !program() && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	st := b.status()
	switch {
	case program() && st != "running":
		t.Errorf("status %q while the program runs", st)
	case !program() && st != "created":
		t.Errorf("status %q while the init waits for start", st)
	}
	r := runRTWithin(within, b.Root, "start", b.ID)
	switch {
	case strings.Contains(r.Stderr, "HUNG"):
		t.Errorf("start after the kill: %s", r)
	case st == "created" && r.Code != 0:
		t.Errorf("start of the waiting init: %s", r)
	case st == "running" && r.Code == 0:
		t.Errorf("start of a running container succeeded: %s", r)
	}
	if st := b.status(); st != "running" {
		t.Errorf("status %q after start", st)
	}
}
