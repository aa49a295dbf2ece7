package integration

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

// Helpers of the fault tests: kill rt at a chosen moment without any hook in
// rt itself, and find what a killed rt left behind.

// killPoint names the moment strace SIGKILLs rt: when rt enters one of
// syscalls (strace's syntax) on path. rt is killed on entry, so the call
// itself never happens.
type killPoint struct {
	syscalls string
	path     string // "": any call of syscalls
}

func (k killPoint) String() string { return k.syscalls + " " + k.path }

// killed is what rtKilledAt saw.
type killed struct {
	result
	hit   bool   // rt died of the injected SIGKILL
	trace string // strace's log
}

// rtKilledAt runs `rt --root root args...` under strace, which SIGKILLs rt at
// kp. strace follows rt's children (the init too) only to catch calls made on
// a thread rt starts; it detaches from them once rt is gone.
func rtKilledAt(t *testing.T, b *bundle, kp killPoint, args ...string) killed {
	t.Helper()
	if _, err := exec.LookPath("strace"); err != nil {
		t.Fatal("strace is needed to kill rt at a system call (apt-get install strace)")
	}
	log := filepath.Join(t.TempDir(), "strace.log")
	// -I1: strace takes SIGTERM (to detach) even when it runs a command with -o.
	sargs := []string{"-I1", "-f", "-q", "-o", log, "-e", "signal=none"}
	if kp.path != "" {
		sargs = append(sargs, "-P", kp.path)
	}
	sargs = append(sargs, "-e", "trace="+kp.syscalls, "-e", "inject="+kp.syscalls+":signal=KILL",
		rtBinary, "--root", b.Root)
	cmd := exec.Command("strace", append(sargs, args...)...)
	cmd.Dir = b.Dir // see strays
	out, _ := os.CreateTemp(workDir, "stdout")
	errf, _ := os.CreateTemp(workDir, "stderr")
	defer os.Remove(out.Name())
	defer os.Remove(errf.Name())
	defer out.Close()
	defer errf.Close()
	cmd.Stdout, cmd.Stderr = out, errf
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	tracer := cmd.Process.Pid
	// Wait for rt, strace's child, to be gone (strace forks probes of its
	// own first: rt is the child running rtBinary).
	rtPid := 0
	deadline := time.Now().Add(rtTimeout)
	for time.Now().Before(deadline) && cmd.ProcessState == nil {
		kids := childrenOf(tracer)
		if rtPid == 0 {
			for _, k := range kids {
				if argv0, _, _ := strings.Cut(readFile(fmt.Sprintf("/proc/%d/cmdline", k)), "\x00"); argv0 == rtBinary {
					rtPid = k
				}
			}
		} else if !slices.Contains(kids, rtPid) {
			break
		}
		time.Sleep(2 * time.Millisecond)
	}
	cmd.Process.Signal(unix.SIGTERM)
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		cmd.Process.Kill()
		<-done
	}
	o, _ := os.ReadFile(out.Name())
	e, _ := os.ReadFile(errf.Name())
	tr, _ := os.ReadFile(log)
	k := killed{result: result{Stdout: string(o), Stderr: string(e), Code: -1}, trace: string(tr)}
	// Killed on entry, the call never returns: strace logs it as "= ?",
	// maybe on a "resumed" line of its own.
	lines := strings.Split(k.trace, "\n")
	marks := func(line string) bool {
		if kp.path != "" {
			return strings.Contains(line, kp.path+"\"")
		}
		for _, sc := range strings.Split(kp.syscalls, ",") {
			if strings.Contains(line, " "+sc+"(") {
				return true
			}
		}
		return false
	}
	for i, line := range lines {
		if !marks(line) {
			continue
		}
		pid, _, _ := strings.Cut(line, " ")
		for _, l := range lines[i:] {
			if strings.HasPrefix(l, pid+" ") && strings.HasSuffix(l, "= ?") {
				k.hit = true
			}
		}
	}
	return k
}

// childrenOf lists the children of pid (every thread's).
func childrenOf(pid int) []int {
	var out []int
	tasks, _ := os.ReadDir(fmt.Sprintf("/proc/%d/task", pid))
	for _, task := range tasks {
		data, _ := os.ReadFile(fmt.Sprintf("/proc/%d/task/%s/children", pid, task.Name()))
		for _, f := range strings.Fields(string(data)) {
			if n, err := strconv.Atoi(f); err == nil {
				out = append(out, n)
			}
		}
	}
	return out
}

// A killed rt leaves processes nobody waits for: they are found by what ties
// them to the container. Everything rt starts works in rt's current
// directory until it is set up (the fault tests run rt from the bundle
// directory), and whatever later joins the container's namespaces shares
// them (ns: their /proc/<pid>/ns links, recorded while the container ran).

// strays lists the live processes tied to b, with what they are.
func strays(b *bundle, ns []string) map[int]string {
	found := map[int]string{}
	entries, _ := os.ReadDir("/proc")
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil || pid == os.Getpid() {
			continue
		}
		stat := readFile(fmt.Sprintf("/proc/%d/stat", pid))
		if stat == "" || strings.Contains(stat, ") Z ") {
			continue
		}
		tied := false
		if cwd, err := os.Readlink(fmt.Sprintf("/proc/%d/cwd", pid)); err == nil && cwd == b.Dir {
			tied = true
		}
		for _, n := range []string{"pid", "mnt"} {
			if l, err := os.Readlink(fmt.Sprintf("/proc/%d/ns/%s", pid, n)); err == nil && slices.Contains(ns, l) {
				tied = true
			}
		}
		if tied {
			cmdline := readFile(fmt.Sprintf("/proc/%d/cmdline", pid))
			cg := readFile(fmt.Sprintf("/proc/%d/cgroup", pid))
			found[pid] = fmt.Sprintf("%q in %s", strings.ReplaceAll(cmdline, "\x00", " "), strings.ReplaceAll(strings.TrimSpace(cg), "\n", " "))
		}
	}
	return found
}

// containerNS records the namespaces of b's init, for strays.
func containerNS(b *bundle) []string {
	var ns []string
	if r := b.rt("state", b.ID); r.Code != 0 {
		return nil
	}
	pid := b.pid()
	for _, n := range []string{"pid", "mnt"} {
		if l, err := os.Readlink(fmt.Sprintf("/proc/%d/ns/%s", pid, n)); err == nil {
			ns = append(ns, l)
		}
	}
	// The host's own are no container's.
	for _, n := range []string{"pid", "mnt"} {
		if l, err := os.Readlink("/proc/self/ns/" + n); err == nil {
			ns = slices.DeleteFunc(ns, func(s string) bool { return s == l })
		}
	}
	return ns
}

// waitNoStrays waits briefly for b's strays to go (a SIGKILLed process
// takes a moment to exit) and fails the test for each one left, which it
// kills.
func waitNoStrays(t *testing.T, b *bundle, ns []string, what string) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		left := strays(b, ns)
		if len(left) == 0 {
			return
		}
		if time.Now().After(deadline) {
			for pid, desc := range left {
				t.Errorf("%s: process %d left behind: %s", what, pid, desc)
				unix.Kill(pid, unix.SIGKILL)
			}
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// runRTWithin runs rt like runRT but gives it only d: a command that must not
// hang fails its test in good time.
func runRTWithin(d time.Duration, root string, args ...string) result {
	return runRTIn("", d, root, args...)
}

// rtIn runs rt from the bundle directory (see strays), within d.
func (b *bundle) rtIn(d time.Duration, args ...string) result {
	return runRTIn(b.Dir, d, b.Root, args...)
}

func runRTIn(dir string, d time.Duration, root string, args ...string) result {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	defer cancel()
	cmd := exec.CommandContext(ctx, rtBinary, append([]string{"--root", root}, args...)...)
	cmd.Dir = dir
	r := runCmd(cmd)
	if ctx.Err() != nil {
		r.Stderr += fmt.Sprintf("\n(HUNG: killed after %s)", d)
		r.Code = -1
	}
	return r
}

// checkList fails the test unless `rt list --format json` succeeds and every
// entry is whole: a known status, its id, a pid for a live container.
func checkList(t *testing.T, root string) []map[string]any {
	t.Helper()
	r := runRTWithin(30*time.Second, root, "list", "--format", "json")
	if r.Code != 0 {
		t.Errorf("rt list: %s", r)
		return nil
	}
	var entries []map[string]any
	if err := json.Unmarshal([]byte(r.Stdout), &entries); err != nil {
		t.Errorf("rt list: %v: %s", err, r.Stdout)
		return nil
	}
	for _, e := range entries {
		id, _ := e["id"].(string)
		status, _ := e["status"].(string)
		pid, _ := e["pid"].(float64)
		switch status {
		case "creating": // the pid comes once the init exists
		case "created", "running", "paused":
			if pid <= 0 {
				t.Errorf("rt list: %s is %s without a pid: %v", id, status, e)
			}
		case "stopped":
		default:
			t.Errorf("rt list: %s has status %q: %v", id, status, e)
		}
		if id == "" {
			t.Errorf("rt list: entry without an id: %v", e)
		}
	}
	return entries
}

// cgDir is the directory of the relative cgroup path rel in the hierarchy
// mounted at /sys/fs/cgroup/<mount> ("memory", "systemd", "unified").
func cgDir(mount, rel string) string {
	own := ""
	switch mount {
	case "systemd":
		own = ownCgroup("name=systemd")
	case "unified":
		own = ownCgroup("")
	default:
		own = ownCgroup(mount)
	}
	return filepath.Join("/sys/fs/cgroup", mount, own, rel)
}

// assertGone checks after delete --force (or a failure rt cleaned up after
// itself) that nothing of b is left: no process (strays, with the
// container's namespaces ns), no mount, no cgroup in any hierarchy, no
// state directory (fifo included), and that the id can be used again.
func assertGone(t *testing.T, b *bundle, ns []string, what string) {
	t.Helper()
	waitNoStrays(t, b, ns, what)
	assertNoLeaks(t, b, 0)
	if t.Failed() {
		return
	}
	reuse := newBundle(t, "true")
	reuse.ID, reuse.Root = b.ID, b.Root
	reuse.write()
	if r := reuse.rtIn(30*time.Second, "create", "--bundle", reuse.Dir, b.ID); r.Code != 0 {
		t.Errorf("%s: the id is not usable again: %s", what, r)
		return
	}
	if r := reuse.rtIn(30*time.Second, "delete", "--force", b.ID); r.Code != 0 {
		t.Errorf("%s: delete of the reused id: %s", what, r)
	}
	waitNoStrays(t, reuse, nil, what+" (reused id)")
	assertNoLeaks(t, reuse, 0)
}

// killHook is a hook that SIGKILLs the rt running it.
func killHook() specs.Hook {
	return specs.Hook{Path: "/bin/sh", Args: []string{"sh", "-c", "kill -9 $PPID"}}
}

// killHookOnce is killHook for the first run only (marker notes it): a
// poststop hook runs again in the delete that cleans up.
func killHookOnce(marker string) specs.Hook {
	return specs.Hook{Path: "/bin/sh", Args: []string{"sh", "-c", "[ -e " + marker + " ] && exit 0; touch " + marker + "; kill -9 $PPID"}}
}
