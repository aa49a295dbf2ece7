package integration

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// hookLog is a directory in the bundle's rootfs that hooks write to: host
// hooks through the host path, startContainer through the container path.
type hookLog struct {
	t         *testing.T
	host, ctr string
}

func newHookLog(b *bundle) *hookLog {
	b.Spec.Root.Readonly = false
	h := &hookLog{t: b.t, host: b.rootfsFile("hooklog"), ctr: "/hooklog"}
	if err := os.MkdirAll(h.host, 0o777); err != nil {
		b.t.Fatal(err)
	}
	return h
}

// hook returns a hook that saves its stdin as <name>.json and appends
// "<name> <$HOOKVAR> <its mount namespace>" to order, then runs extra.
// inContainer selects the container path of the log (startContainer).
func (h *hookLog) hook(name string, inContainer bool, extra string) specs.Hook {
	dir := h.host
	if inContainer {
		dir = h.ctr
	}
	script := `cat >"$D/$1.json"; echo "$1 $HOOKVAR $(readlink /proc/self/ns/mnt)" >>"$D/order"` + extra
	return specs.Hook{
		Path: "/bin/sh",
		Args: []string{"sh", "-c", script, "sh", name},
		Env:  []string{"D=" + dir, "HOOKVAR=var-" + name},
	}
}

// order returns the lines of the order log: name, env value, mount namespace.
func (h *hookLog) order() [][]string {
	data, err := os.ReadFile(filepath.Join(h.host, "order"))
	if err != nil && !os.IsNotExist(err) {
		h.t.Fatal(err)
	}
	var out [][]string
	for _, line := range strings.Split(strings.TrimSpace(string(data)), "\n") {
		if line != "" {
			out = append(out, strings.Fields(line))
		}
	}
	return out
}

func (h *hookLog) names() []string {
	var n []string
	for _, l := range h.order() {
		n = append(n, l[0])
	}
	return n
}

// state reads the state JSON the hook got on stdin.
func (h *hookLog) state(name string) specs.State {
	h.t.Helper()
	var st specs.State
	data, err := os.ReadFile(filepath.Join(h.host, name+".json"))
	if err != nil {
		h.t.Fatalf("hook %s: %v", name, err)
	}
	if err := json.Unmarshal(data, &st); err != nil {
		h.t.Fatalf("hook %s state %q: %v", name, data, err)
	}
	return st
}

// TestHooksAll: the six hooks run in order, each at its moment, in its
// namespace, with its env and the container state of that moment.
func TestHooksAll(t *testing.T) {
	b := newBundle(t, "sleep", "100")
	h := newHookLog(b)
	// poststart reads the command line of the pid it got: the user process, already exec'd.
	poststart := `; pid=$(sed -n 's/.*"pid":\([0-9]*\).*/\1/p' "$D/$1.json"); tr '\0' ' ' </proc/$pid/cmdline >"$D/$1.cmdline"`
	b.Spec.Annotations = map[string]string{"org.example.hooks": "yes"}
	b.Spec.Hooks = &specs.Hooks{
		Prestart:        []specs.Hook{h.hook("prestart", false, "")},
		CreateRuntime:   []specs.Hook{h.hook("createRuntime", false, "")},
		CreateContainer: []specs.Hook{h.hook("createContainer", false, `; test -e "`+b.Dir+`/config.json" && echo host-paths >"$D/$1.where"`)},
		StartContainer:  []specs.Hook{h.hook("startContainer", true, `; test -x /bin/busybox && test ! -e "`+b.Dir+`" && echo container-paths >"$D/$1.where"`)},
		Poststart:       []specs.Hook{h.hook("poststart", false, poststart)},
		Poststop:        []specs.Hook{h.hook("poststop", false, "")},
	}
	b.create()
	pid := b.pid()
	hostMnt := nsInode(t, os.Getpid(), "mnt")
	ctrMnt := nsInode(t, pid, "mnt")
	if got := h.names(); strings.Join(got, " ") != "prestart createRuntime createContainer" {
		t.Fatalf("hooks run by create: %v", got)
	}
	b.mustRT("start", b.ID)
	// poststart ran during start, before it returned.
	if got := h.names(); strings.Join(got, " ") != "prestart createRuntime createContainer startContainer poststart" {
		t.Fatalf("hooks run by create and start: %v", got)
	}
	if got := mustRead(t, filepath.Join(h.host, "poststart.cmdline")); got != "sleep 100 " {
		t.Errorf("poststart saw process %q, want the user process", got)
	}
	b.mustRT("kill", b.ID, "KILL")
	b.waitStatus("stopped")
	if got := h.names(); len(got) != 5 {
		t.Errorf("hooks before delete: %v", got)
	}
	b.deleteAndCheck(pid)

	want := []struct {
		name, status, mnt string
		pid               int
	}{
		{"prestart", "creating", hostMnt, pid},
		{"createRuntime", "creating", hostMnt, pid},
		{"createContainer", "creating", ctrMnt, pid},
		{"startContainer", "created", ctrMnt, pid},
		{"poststart", "running", hostMnt, pid},
		{"poststop", "stopped", hostMnt, 0},
	}
	order := h.order()
	if len(order) != len(want) {
		t.Fatalf("hook log: %v", order)
	}
	for i, w := range want {
		if order[i][0] != w.name || len(order[i]) != 3 {
			t.Errorf("hook #%d: %v, want %s", i, order[i], w.name)
			continue
		}
		if order[i][1] != "var-"+w.name {
			t.Errorf("%s: HOOKVAR %q, want the hook's env", w.name, order[i][1])
		}
		if order[i][2] != w.mnt {
			t.Errorf("%s ran in mount namespace %s, want %s", w.name, order[i][2], w.mnt)
		}
		st := h.state(w.name)
		if st.ID != b.ID || string(st.Status) != w.status || st.Pid != w.pid || st.Bundle != b.Dir || st.Version == "" || st.Annotations["org.example.hooks"] != "yes" {
			t.Errorf("%s state: %+v, want id %s, status %s, pid %d, bundle %s, the annotations", w.name, st, b.ID, w.status, w.pid, b.Dir)
		}
	}
	if got := mustRead(t, filepath.Join(h.host, "createContainer.where")); got != "host-paths\n" {
		t.Errorf("createContainer: %q", got)
	}
	if got := mustRead(t, filepath.Join(h.host, "startContainer.where")); got != "container-paths\n" {
		t.Errorf("startContainer: %q", got)
	}
}

// TestHooksCreateFailure: a failing (or timed-out) hook of create aborts it
// and leaves nothing behind: no process, mount, cgroup or state.
func TestHooksCreateFailure(t *testing.T) {
	timeout := 1
	tests := []struct {
		name string
		set  func(*specs.Hooks, specs.Hook)
		hook func(h *hookLog) specs.Hook
		msg  string
	}{
		{"prestart", func(s *specs.Hooks, k specs.Hook) { s.Prestart = []specs.Hook{k} }, nil, "exit status 3"},
		{"createRuntime", func(s *specs.Hooks, k specs.Hook) { s.CreateRuntime = []specs.Hook{k} }, nil, "exit status 3"},
		{"createContainer", func(s *specs.Hooks, k specs.Hook) { s.CreateContainer = []specs.Hook{k} }, nil, "exit status 3"},
		{"prestart-timeout", func(s *specs.Hooks, k specs.Hook) { s.Prestart = []specs.Hook{k} }, func(h *hookLog) specs.Hook {
			k := h.hook("prestart-timeout", false, `; sleep 30 & echo $! >"$D/child"; wait`)
			k.Timeout = &timeout
			return k
		}, "timed out"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			b := newBundle(t, "sleep", "100")
			h := newHookLog(b)
			k := h.hook(tc.name, false, "; exit 3")
			if tc.hook != nil {
				k = tc.hook(h)
			}
			b.Spec.Hooks = &specs.Hooks{}
			tc.set(b.Spec.Hooks, k)
			// A later hook must not run once one failed.
			b.Spec.Hooks.CreateContainer = append(b.Spec.Hooks.CreateContainer, h.hook("after", false, ""))
			b.write()
			r := b.rt("create", "--bundle", b.Dir, b.ID)
			// runc's wording, which its tests and scripts grep for.
			kind, _, _ := strings.Cut(tc.name, "-")
			if r.Code == 0 || !strings.Contains(r.Stderr, tc.msg) || !strings.Contains(r.Stderr, "error running "+kind+" hook #0: ") {
				t.Fatalf("create with a failing %s hook: %s, want %q after \"error running %s hook #0: \"", tc.name, r, tc.msg, kind)
			}
			if got := h.names(); len(got) != 1 || got[0] != tc.name {
				t.Errorf("hooks run: %v, want only %s", got, tc.name)
			}
			st := h.state(tc.name)
			if st.Pid <= 0 {
				t.Errorf("hook state pid %d", st.Pid)
			}
			assertNoLeaks(t, b, st.Pid)
			// A timed-out hook is killed with its children.
			if data, err := os.ReadFile(filepath.Join(h.host, "child")); err == nil {
				child, _ := strconv.Atoi(strings.TrimSpace(string(data)))
				for deadline := time.Now().Add(10 * time.Second); pidAlive(child) && time.Now().Before(deadline); {
					time.Sleep(20 * time.Millisecond)
				}
				if pidAlive(child) {
					t.Errorf("the timed-out hook's child %d is still running", child)
				}
			}
			if r := b.rt("state", b.ID); r.Code == 0 {
				t.Errorf("state after a failed create: %s", r)
			}
		})
	}
}

// TestHooksStartContainerFailure: start fails, and the container can be deleted.
func TestHooksStartContainerFailure(t *testing.T) {
	b := newBundle(t, "sleep", "100")
	h := newHookLog(b)
	b.Spec.Hooks = &specs.Hooks{
		StartContainer: []specs.Hook{h.hook("startContainer", true, "; exit 3")},
		Poststart:      []specs.Hook{h.hook("poststart", false, "")},
	}
	b.create()
	pid := b.pid()
	if r := b.rt("start", b.ID); r.Code == 0 || !strings.Contains(r.Stderr, "startContainer") {
		t.Fatalf("start with a failing startContainer hook: %s", r)
	}
	if got := h.names(); strings.Join(got, " ") != "startContainer" {
		t.Errorf("hooks run: %v (poststart must not run)", got)
	}
	b.waitStatus("stopped")
	b.deleteAndCheck(pid)
}

// TestHooksPoststopWarnOnly: poststop failures are warnings; the remaining
// hooks still run and delete succeeds.
func TestHooksPoststopWarnOnly(t *testing.T) {
	b := newBundle(t, "sleep", "100")
	h := newHookLog(b)
	b.Spec.Hooks = &specs.Hooks{
		Poststop: []specs.Hook{h.hook("poststop1", false, "; exit 3"), h.hook("poststop2", false, "")},
	}
	pid := b.start()
	r := b.mustRT("delete", "--force", b.ID)
	if !strings.Contains(r.Stderr, "poststop") {
		t.Errorf("no warning for the failed poststop hook: %s", r)
	}
	assertNoLeaks(t, b, pid)
	if got := strings.Join(h.names(), " "); got != "poststop1 poststop2" {
		t.Errorf("hooks run: %s", got)
	}
}

// TestHooksPoststartFailure: a failing poststart hook fails start and stops
// the container (runtime-spec 1.3 lifecycle step 9, as runc); the later
// poststart hooks do not run. `run` then deletes the container, poststop
// hooks included.
func TestHooksPoststartFailure(t *testing.T) {
	b := newBundle(t, "sleep", "100")
	h := newHookLog(b)
	b.Spec.Hooks = &specs.Hooks{
		Poststart: []specs.Hook{h.hook("poststart1", false, "; exit 3"), h.hook("poststart2", false, "")},
		Poststop:  []specs.Hook{h.hook("poststop", false, "")},
	}
	b.create()
	pid := b.pid()
	if r := b.rt("start", b.ID); r.Code == 0 || !strings.Contains(r.Stderr, "error running poststart hook #0") {
		t.Errorf("start with a failing poststart hook: %s", r)
	}
	if st := b.status(); st != "stopped" {
		t.Errorf("status after the failed poststart hook: %s, want stopped", st)
	}
	b.deleteAndCheck(pid)
	if got := strings.Join(h.names(), " "); got != "poststart1 poststop" {
		t.Errorf("hooks run: %s, want poststart1 poststop", got)
	}

	b = newBundle(t, "sleep", "100")
	h = newHookLog(b)
	b.Spec.Hooks = &specs.Hooks{
		Poststart: []specs.Hook{h.hook("poststart", false, "; exit 3")},
		Poststop:  []specs.Hook{h.hook("poststop", false, "")},
	}
	if r := b.run(); r.Code == 0 || !strings.Contains(r.Stderr, "error running poststart hook #0") {
		t.Errorf("run with a failing poststart hook: %s", r)
	}
	if r := b.rt("state", b.ID); r.Code == 0 {
		t.Errorf("the container is still there after run failed: %s", r)
	}
	if got := strings.Join(h.names(), " "); got != "poststart poststop" {
		t.Errorf("hooks run: %s, want poststart poststop", got)
	}
	assertNoLeaks(t, b, 0)
}

// TestHooksStartContainerEnv: a startContainer hook without env of its own
// gets the process's (runc's de facto behaviour), one with env keeps it.
func TestHooksStartContainerEnv(t *testing.T) {
	b := newBundle(t, "true")
	b.Spec.Root.Readonly = false
	b.Spec.Process.Env = []string{"PATH=/bin", "ONE=two", "ONE=three"}
	b.Spec.Hooks = &specs.Hooks{StartContainer: []specs.Hook{
		{Path: "/bin/sh", Args: []string{"sh", "-c", `echo "$ONE $HOME" >/inherited`}},
		{Path: "/bin/sh", Args: []string{"sh", "-c", `echo "${ONE-unset} $OWN" >/own`}, Env: []string{"OWN=mine"}},
	}}
	if r := b.run(); r.Code != 0 {
		t.Fatalf("run: %s", r)
	}
	for file, want := range map[string]string{"inherited": "three /root\n", "own": "unset mine\n"} {
		if got := mustRead(t, b.rootfsFile(file)); got != want {
			t.Errorf("startContainer hook env (%s): %q, want %q", file, got, want)
		}
	}
}

// TestHooksCreateContainerCwd: createContainer hooks run in the container's
// rootfs, as with runc (hooks write paths relative to it).
func TestHooksCreateContainerCwd(t *testing.T) {
	b := newBundle(t, "true")
	b.Spec.Root.Readonly = false
	b.Spec.Hooks = &specs.Hooks{CreateContainer: []specs.Hook{
		{Path: "/bin/sh", Args: []string{"sh", "-c", "pwd -P >./hook-cwd"}},
	}}
	if r := b.run(); r.Code != 0 {
		t.Fatalf("run: %s", r)
	}
	want, err := filepath.EvalSymlinks(b.Rootfs)
	if err != nil {
		t.Fatal(err)
	}
	if got := mustRead(t, b.rootfsFile("hook-cwd")); got != want+"\n" {
		t.Errorf("createContainer hook cwd: %q, want %q", got, want)
	}
}
