package integration

import (
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

// The fault table of issue 12: rt killed at each stage of each command, a
// child failing mid-setup, a hook hanging past its timeout, a full state
// disk, a stale lock. After each, `rt delete --force` (or nothing, where rt
// cleans up after itself) leaves no process, mount, cgroup (in every
// hierarchy, name=systemd included), fifo or state directory, the id can be
// used again, and `rt list` never shows a corrupt entry.

// fault is one row of the table.
type fault struct {
	name string
	// prepare changes the bundle before it is written.
	prepare func(b *bundle)
	// before brings the container where the fault strikes (created,
	// running), with rt commands that must succeed.
	before []string
	// cmd is the rt command hit by the fault ({id} and {bundle} are
	// replaced).
	cmd []string
	// kill is where strace kills rt; nil: the command runs to its end
	// (a hook in it may kill rt).
	kill func(b *bundle) killPoint
	// fails: rt itself must report the failure (and clean up).
	fails string
	// alive: the container still runs after the fault; every process rt
	// left must be inside the container's cgroup.
	alive bool
}

func expand(args []string, b *bundle) []string {
	out := make([]string, len(args))
	for i, a := range args {
		out[i] = strings.NewReplacer("{id}", b.ID, "{bundle}", b.Dir).Replace(a)
	}
	return out
}

var (
	createArgs = []string{"create", "--bundle", "{bundle}", "{id}"}
	runArgs    = []string{"run", "--detach", "--bundle", "{bundle}", "{id}"}
	startArgs  = []string{"start", "{id}"}
	execArgs   = []string{"exec", "--detach", "{id}", "sleep", "1000"}
	deleteArgs = []string{"delete", "--force", "{id}"}
)

// Where strace kills rt, by the system call that marks a stage.
func atFifoMade(b *bundle) killPoint { // the state dir exists, no child yet
	return killPoint{"mknod,mknodat", filepath.Join(b.Root, b.ID, "exec.fifo")}
}

// The child exists, born in its cgroups but memory (which the init joins
// itself): rt reaps nsenter.Spawn's intermediate, its first wait4.
func atChildMade(b *bundle) killPoint {
	return killPoint{"wait4", ""}
}

func atResources(b *bundle) killPoint { // in its cgroups, mounts made, before the hooks
	return killPoint{"open,openat", filepath.Join(cgDir("pids", b.Spec.Linux.CgroupsPath), "pids.max")}
}

func atPidFile(b *bundle) killPoint { // recorded, the init waits on exec.fifo
	return killPoint{"rename,renameat,renameat2", filepath.Join(b.Dir, "pid")}
}

func atFifoOpen(b *bundle) killPoint { // start: the init still waits
	return killPoint{"open,openat", filepath.Join(b.Root, b.ID, "exec.fifo")}
}

func atFifoRelease(b *bundle) killPoint { // start: the init is released
	return killPoint{"unlink,unlinkat", filepath.Join(b.Root, b.ID, "exec.fifo")}
}

func atCgroupRemove(b *bundle) killPoint { // delete: the processes are dead, the cgroups still there
	return killPoint{"rmdir,unlinkat", cgDir("blkio", b.Spec.Linux.CgroupsPath)}
}

func withHook(kind string, h specs.Hook) func(*bundle) {
	return func(b *bundle) {
		if b.Spec.Hooks == nil {
			b.Spec.Hooks = &specs.Hooks{}
		}
		switch kind {
		case "createRuntime":
			b.Spec.Hooks.CreateRuntime = append(b.Spec.Hooks.CreateRuntime, h)
		case "createContainer":
			b.Spec.Hooks.CreateContainer = append(b.Spec.Hooks.CreateContainer, h)
		case "poststart":
			b.Spec.Hooks.Poststart = append(b.Spec.Hooks.Poststart, h)
		case "poststop":
			b.Spec.Hooks.Poststop = append(b.Spec.Hooks.Poststop, h)
		}
	}
}

func faultTable() []fault {
	pidLimit := func(b *bundle) { b.Spec.Linux.Resources.Pids = &specs.LinuxPids{Limit: ptr(int64(100))} }
	withPidFile := func(cmd []string) []string {
		return append([]string{cmd[0], "--pid-file", "{bundle}/pid"}, cmd[1:]...)
	}
	hang := 1
	var rows []fault
	for _, cmd := range [][]string{createArgs, runArgs} {
		name := cmd[0]
		rows = append(rows,
			fault{name: name + "/killed/before-the-child", cmd: cmd, kill: atFifoMade},
			fault{name: name + "/killed/after-clone", cmd: cmd, kill: atChildMade},
			fault{name: name + "/killed/after-cgroups", prepare: pidLimit, cmd: cmd, kill: atResources},
			fault{name: name + "/killed/in-createRuntime-hook", prepare: withHook("createRuntime", killHook()), cmd: cmd},
			fault{name: name + "/killed/init-waits-on-fifo", cmd: withPidFile(cmd), kill: atPidFile},
			fault{name: name + "/child-fails-mid-setup", cmd: cmd, fails: "no such file or directory", prepare: func(b *bundle) {
				b.Spec.Mounts = append(b.Spec.Mounts, specs.Mount{Destination: "/mnt", Type: "bind", Source: "/no/such/source", Options: []string{"bind"}})
			}},
			fault{name: name + "/createRuntime-hook-past-timeout", cmd: cmd, fails: "timed out",
				prepare: withHook("createRuntime", specs.Hook{Path: "/bin/sleep", Args: []string{"sleep", "100"}, Timeout: &hang})},
			fault{name: name + "/createContainer-hook-past-timeout", cmd: cmd, fails: "timed out",
				prepare: withHook("createContainer", specs.Hook{Path: "/bin/sleep", Args: []string{"sleep", "100"}, Timeout: &hang})},
		)
	}
	rows = append(rows,
		fault{name: "run/killed/after-fifo-release", cmd: runArgs, kill: atFifoRelease, alive: true},
		fault{name: "run/killed/in-poststart-hook", prepare: withHook("poststart", killHook()), cmd: runArgs, alive: true},
		fault{name: "start/killed/before-fifo-open", before: createArgs, cmd: startArgs, kill: atFifoOpen},
		fault{name: "start/killed/after-fifo-release", before: createArgs, cmd: startArgs, kill: atFifoRelease, alive: true},
		fault{name: "start/killed/in-poststart-hook", prepare: withHook("poststart", killHook()), before: createArgs, cmd: startArgs, alive: true},
		fault{name: "exec/killed/before-the-child", before: runArgs, cmd: execArgs, alive: true,
			kill: func(b *bundle) killPoint { return killPoint{"open,openat", fmt.Sprintf("/proc/%d/ns/pid", b.pid())} }},
		fault{name: "exec/killed/after-clone", before: runArgs, cmd: execArgs, kill: atChildMade, alive: true},
		fault{name: "delete/killed/before-cgroup-removal", before: runArgs, cmd: deleteArgs, kill: atCgroupRemove},
		fault{name: "delete/killed/in-poststop-hook", before: runArgs, cmd: deleteArgs, prepare: func(b *bundle) {
			withHook("poststop", killHookOnce(filepath.Join(b.Dir, "killed")))(b)
		}},
	)
	return rows
}

// TestFaultTable runs every row of the table on a fresh container.
func TestFaultTable(t *testing.T) {
	for _, f := range faultTable() {
		t.Run(f.name, func(t *testing.T) {
			b := newBundle(t, "sleep", "1000")
			if f.prepare != nil {
				f.prepare(b)
			}
			b.write()
			init, ns := 0, []string(nil)
			if f.before != nil {
				if r := b.rtIn(within, expand(f.before, b)...); r.Code != 0 {
					t.Fatalf("rt %s: %s", strings.Join(f.before, " "), r)
				}
				init, ns = b.pid(), containerNS(b)
			}
			args := expand(f.cmd, b)
			switch {
			case f.kill != nil:
				kp := f.kill(b)
				if k := rtKilledAt(t, b, kp, args...); !k.hit {
					t.Fatalf("rt %s was not killed at %s: %s\n%s", strings.Join(args, " "), kp, k.result, k.trace)
				}
			case f.fails != "":
				r := b.rtIn(within, args...)
				if r.Code == 0 || !strings.Contains(r.Stderr, f.fails) {
					t.Fatalf("rt %s: %s, want a failure about %q", strings.Join(args, " "), r, f.fails)
				}
				// rt cleaned up after itself: nothing to delete.
				checkList(t, b.Root)
				assertGone(t, b, ns, "failed "+f.cmd[0])
				return
			default:
				r := b.rtIn(within, args...)
				if strings.Contains(r.Stderr, "HUNG") {
					t.Fatalf("rt %s: %s", strings.Join(args, " "), r)
				}
			}
			checkList(t, b.Root)
			if f.alive {
				assertInsideContainer(t, b, init, ns)
			}
			if r := b.rtIn(within, "delete", "--force", b.ID); r.Code != 0 {
				t.Errorf("delete --force: %s", r)
			}
			assertGone(t, b, ns, "delete --force after the fault")
		})
	}
}

// assertInsideContainer checks that every process a killed rt left is in
// the container's cgroup (where delete --force finds it), and that the
// container lives and says truly whether it waits or runs.
func assertInsideContainer(t *testing.T, b *bundle, init int, ns []string) {
	t.Helper()
	leaf := "memory:" + filepath.Join(ownCgroup("memory"), b.Spec.Linux.CgroupsPath)
	for deadline := time.Now().Add(5 * time.Second); ; {
		stray := map[int]string{}
		for pid, desc := range strays(b, ns) {
			if !strings.Contains(readFile(fmt.Sprintf("/proc/%d/cgroup", pid)), leaf+"\n") {
				stray[pid] = desc
			}
		}
		if len(stray) == 0 {
			break
		}
		if time.Now().After(deadline) {
			for pid, desc := range stray {
				t.Errorf("process %d outside the container's cgroup: %s", pid, desc)
			}
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	assertTruthfulStatus(t, b)
	if init > 0 && !pidAlive(init) {
		t.Errorf("init %d died of the fault", init)
	}
}

// TestFaultRandomKill: create and run SIGKILLed at a random moment, many
// times: whatever window the kill hits, delete --force removes all.
func TestFaultRandomKill(t *testing.T) {
	for i := 0; i < 16; i++ {
		cmd := [][]string{createArgs, runArgs}[i%2]
		t.Run(fmt.Sprintf("%s-%d", cmd[0], i), func(t *testing.T) {
			b := newBundle(t, "sleep", "1000")
			b.write()
			c := exec.Command(rtBinary, append([]string{"--root", b.Root}, expand(cmd, b)...)...)
			c.Dir = b.Dir // see strays
			if err := c.Start(); err != nil {
				t.Fatal(err)
			}
			time.Sleep(time.Duration(rand.IntN(120)) * time.Millisecond)
			c.Process.Signal(syscall.SIGKILL)
			c.Wait()
			checkList(t, b.Root)
			if r := b.rtIn(within, "delete", "--force", b.ID); r.Code != 0 {
				t.Errorf("delete --force: %s", r)
			}
			assertGone(t, b, nil, "delete --force after a random kill")
		})
	}
}

// TestFaultFullStateDisk: a --root with no room for state.json, or room for
// the first record but not the last, fails create with a clear error and
// leaves nothing.
func TestFaultFullStateDisk(t *testing.T) {
	for _, free := range []int{0, 1} {
		t.Run(fmt.Sprintf("%d-pages-free", free), func(t *testing.T) {
			root := filepath.Join(t.TempDir(), "root")
			os.MkdirAll(root, 0o700)
			if err := unix.Mount("tmpfs", root, "tmpfs", 0, "size=256k"); err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { unix.Unmount(root, unix.MNT_DETACH) })
			fillTo(t, root, free)
			b := newBundle(t, "sleep", "1000")
			b.Root = root
			b.write()
			r := b.rtIn(within, expand(createArgs, b)...)
			if r.Code == 0 || !strings.Contains(r.Stderr, "no space left on device") {
				t.Fatalf("create on a full --root: %s", r)
			}
			checkList(t, root)
			os.Remove(filepath.Join(root, "fill"))
			assertGone(t, b, nil, "create on a full disk")
		})
	}
}

// fillTo fills the filesystem at dir until pages pages are free.
func fillTo(t *testing.T, dir string, pages int) {
	t.Helper()
	var st unix.Statfs_t
	if err := unix.Statfs(dir, &st); err != nil {
		t.Fatal(err)
	}
	size := (int64(st.Bavail) - int64(pages)) * st.Bsize
	if err := os.WriteFile(filepath.Join(dir, "fill"), make([]byte, size), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := unix.Statfs(dir, &st); err != nil || int(st.Bavail) != pages {
		t.Fatalf("%d pages free, want %d (%v)", st.Bavail, pages, err)
	}
}

// TestFaultStaleLock: a process that holds a container's lock and is
// stopped does not hang anyone: state and list do not need the lock, and
// delete names the holder instead of waiting for ever; a temporary file
// that a killed write left is no corrupt entry and goes with delete.
func TestFaultStaleLock(t *testing.T) {
	b := newBundle(t, "sleep", "1000")
	b.create()
	ns := containerNS(b)
	dir := filepath.Join(b.Root, b.ID)
	os.WriteFile(filepath.Join(dir, ".state.json.123456"), []byte(`{"id":`), 0o600)
	// -o: only flock itself holds the lock, not the sleep it runs.
	holder := exec.Command("flock", "-o", dir, "sleep", "1000")
	holder.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := holder.Start(); err != nil {
		t.Fatal(err)
	}
	release := func() {
		syscall.Kill(-holder.Process.Pid, syscall.SIGKILL)
		holder.Wait()
	}
	defer release()
	// Wait for the lock to be taken, then stop the holder.
	for deadline := time.Now().Add(5 * time.Second); ; {
		if data, _ := os.ReadFile("/proc/locks"); strings.Contains(string(data), fmt.Sprintf(" %d ", holder.Process.Pid)) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("flock did not take the lock")
		}
		time.Sleep(10 * time.Millisecond)
	}
	holder.Process.Signal(syscall.SIGSTOP)
	if st := b.status(); st != "created" {
		t.Errorf("state with the lock held: %s", st)
	}
	checkList(t, b.Root)
	r := b.rtIn(within, "delete", "--force", b.ID)
	if r.Code == 0 || !strings.Contains(r.Stderr, "which is stopped") {
		t.Errorf("delete --force behind a stopped lock holder: %s", r)
	}
	release()
	if r := b.rtIn(within, "delete", "--force", b.ID); r.Code != 0 {
		t.Errorf("delete --force: %s", r)
	}
	assertGone(t, b, ns, "delete after a stale lock")
}

// TestFaultIncompleteStateDir: a state directory without state.json, as a
// create killed right after making it leaves (a fifo, a temporary file), is
// not listed, and delete --force removes it.
func TestFaultIncompleteStateDir(t *testing.T) {
	b := newBundle(t, "sleep", "1000")
	dir := filepath.Join(b.Root, b.ID)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	unix.Mkfifo(filepath.Join(dir, "exec.fifo"), 0o622)
	os.WriteFile(filepath.Join(dir, ".state.json.42"), nil, 0o600)
	for _, e := range checkList(t, b.Root) {
		if e["id"] == b.ID {
			t.Errorf("rt list shows the incomplete %s: %v", b.ID, e)
		}
	}
	if r := b.rtIn(within, "delete", "--force", b.ID); r.Code != 0 {
		t.Errorf("delete --force: %s", r)
	}
	assertGone(t, b, nil, "delete of an incomplete state dir")
}
