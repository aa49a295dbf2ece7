package integration

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// startSleeper runs a detached container that lives until the test removes it.
func startSleeper(t *testing.T, mutate func(*specs.Spec)) *bundle {
	t.Helper()
	b := newBundle(t, "sleep", "1000")
	if mutate != nil {
		mutate(b.Spec)
	}
	if r := b.run("--detach"); r.Code != 0 {
		t.Fatalf("rt run --detach: %s", r)
	}
	t.Cleanup(b.remove)
	return b
}

var allNamespaces = []string{"pid", "net", "ipc", "uts", "mnt", "user", "cgroup", "time"}

func withAllNamespaces(s *specs.Spec) {
	s.Linux.Namespaces = append(s.Linux.Namespaces,
		specs.LinuxNamespace{Type: specs.UserNamespace},
		specs.LinuxNamespace{Type: specs.CgroupNamespace},
		specs.LinuxNamespace{Type: specs.TimeNamespace})
	s.Linux.UIDMappings = []specs.LinuxIDMapping{{ContainerID: 0, HostID: 100000, Size: 65536}}
	s.Linux.GIDMappings = []specs.LinuxIDMapping{{ContainerID: 0, HostID: 100000, Size: 65536}}
}

// containerKinds are the two containers exec must serve alike: the default
// one, and one with every namespace of its own, a user namespace included.
var containerKinds = []struct {
	name   string
	mutate func(*specs.Spec)
}{
	{"default", nil},
	{"user-namespaced", withAllNamespaces},
}

func TestExecJoinsEveryNamespace(t *testing.T) {
	for _, tc := range containerKinds {
		t.Run(tc.name, func(t *testing.T) {
			b := startSleeper(t, tc.mutate)
			pid := b.pid()
			script := "for n in " + strings.Join(allNamespaces, " ") + "; do readlink /proc/self/ns/$n; done; cat /proc/self/cgroup"
			r := b.mustRT("exec", b.ID, "sh", "-c", script)
			lines := strings.Split(strings.TrimSpace(r.Stdout), "\n")
			for i, ns := range allNamespaces {
				if want := nsInode(t, pid, ns); lines[i] != want {
					t.Errorf("%s namespace: exec has %s, init has %s", ns, lines[i], want)
				}
			}
			// Same cgroup: compare with the init's own view from inside.
			want := b.mustRT("exec", b.ID, "cat", "/proc/1/cgroup").Stdout
			if got := strings.Join(lines[len(allNamespaces):], "\n") + "\n"; got != want {
				t.Errorf("exec cgroup:\n%s\ninit cgroup:\n%s", got, want)
			}
		})
	}
}

func TestExecUserGroupsCapsAndExitCode(t *testing.T) {
	b := startSleeper(t, nil)
	r := b.mustRT("exec", "--user", "1000:1000", "-g", "10", b.ID, "id")
	if !strings.Contains(r.Stdout, "uid=1000 gid=1000") || !strings.Contains(r.Stdout, "groups=10") {
		t.Errorf("id: %q", r.Stdout)
	}
	r = b.mustRT("exec", "--no-new-privs", "--cap", "CAP_SYS_ADMIN", b.ID, "grep", "-E", "^(Cap...|NoNewPrivs)", "/proc/self/status")
	status := parseStatus(r.Stdout)
	if status["NoNewPrivs"] != "1" {
		t.Errorf("NoNewPrivs: %q", r.Stdout)
	}
	// CAP_SYS_ADMIN is bit 21: --cap adds it to the bounding, effective and
	// permitted sets only, as runc does; nothing more survives an execve.
	for set, want := range map[string]bool{"CapBnd": true, "CapEff": true, "CapPrm": true, "CapInh": false, "CapAmb": false} {
		if v, _ := strconv.ParseUint(status[set], 16, 64); (v&(1<<21) != 0) != want {
			t.Errorf("exec --cap CAP_SYS_ADMIN: %s %s, want CAP_SYS_ADMIN %t", set, status[set], want)
		}
	}
	if r := b.rt("exec", b.ID, "sh", "-c", "exit 42"); r.Code != 42 {
		t.Errorf("exit code: %s", r)
	}
	r = b.mustRT("exec", "--env", "FOO=bar", "--cwd", "/tmp", b.ID, "sh", "-c", "echo $FOO $(pwd)")
	if strings.TrimSpace(r.Stdout) != "bar /tmp" {
		t.Errorf("env and cwd: %q", r.Stdout)
	}
}

func parseStatus(s string) map[string]string {
	m := map[string]string{}
	for _, line := range strings.Split(s, "\n") {
		k, v, ok := strings.Cut(line, ":")
		if ok {
			m[k] = strings.TrimSpace(v)
		}
	}
	return m
}

func TestExecProcessJSONAndDetach(t *testing.T) {
	b := startSleeper(t, nil)
	p := *b.Spec.Process
	p.Args = []string{"sh", "-c", "echo detached > /dev/shm/out; sleep 1000"}
	data, _ := json.Marshal(p)
	procFile := filepath.Join(b.Dir, "process.json")
	os.WriteFile(procFile, data, 0o644)
	pidFile := filepath.Join(b.Dir, "exec.pid")
	b.mustRT("exec", "--process", procFile, "--detach", "--pid-file", pidFile, b.ID)
	raw, err := os.ReadFile(pidFile)
	if err != nil {
		t.Fatal(err)
	}
	pid, _ := strconv.Atoi(string(raw))
	if _, err := os.Stat(fmt.Sprintf("/proc/%d", pid)); err != nil {
		t.Fatalf("detached exec pid %d not alive: %v", pid, err)
	}
	if ns := nsInode(t, pid, "mnt"); ns != nsInode(t, b.pid(), "mnt") {
		t.Errorf("detached exec in mount namespace %s", ns)
	}
	// The init's status is unaffected; the process shows in ps of the container.
	out := b.mustRT("exec", b.ID, "sh", "-c", "for i in $(seq 200); do [ -s /dev/shm/out ] && break; sleep 0.05; done; cat /dev/shm/out").Stdout
	if strings.TrimSpace(out) != "detached" {
		t.Errorf("detached process output %q", out)
	}
}

func TestExecErrors(t *testing.T) {
	b := startSleeper(t, nil)
	bad := filepath.Join(b.Dir, "bad-process.json")
	os.WriteFile(bad, []byte(`{"args":[],"cwd":"/"}`), 0o644)
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"unknown container", []string{"exec", "no-such-container", "true"}, "does not exist"},
		{"no command", []string{"exec", b.ID}, "command"},
		{"invalid process.json", []string{"exec", "--process", bad, b.ID}, "process.args"},
		{"bad user", []string{"exec", "--user", "root", b.ID, "true"}, "--user"},
		{"missing binary", []string{"exec", b.ID, "/no/such/binary"}, "no/such/binary"},
		{"pid file in a missing directory", []string{"exec", "--pid-file", filepath.Join(b.Dir, "no-dir/pid"), b.ID, "true"}, "pid file"},
		{"sub-cgroup above the container's", []string{"exec", "--cgroup", "..", b.ID, "true"}, "bad sub cgroup path"},
		{"missing sub-cgroup", []string{"exec", "--cgroup", "nonexistent", b.ID, "true"}, "adding pid"},
		{"unknown controller", []string{"exec", "--cgroup", "whaaat:/", b.ID, "true"}, "unknown controller whaaat"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := b.rt(tc.args...)
			// As runc: 255 tells a failure to run the process from the process's own status.
			if r.Code != 255 || !strings.Contains(r.Stderr, tc.want) {
				t.Errorf("rt %s: %s, want exit 255 and an error mentioning %q", strings.Join(tc.args, " "), r, tc.want)
			}
		})
	}
	// The container's own cgroup, named explicitly, as runc accepts it.
	for _, top := range []string{"/", "memory:/"} {
		if r := b.rt("exec", "--cgroup", top, b.ID, "true"); r.Code != 0 {
			t.Errorf("exec --cgroup %s: %s", top, r)
		}
	}
	// Nothing the failed execs started is left in the container.
	// The shell expands the glob itself: it and the init are all there should be.
	if out := b.mustRT("exec", b.ID, "sh", "-c", "echo /proc/[0-9]*").Stdout; len(strings.Fields(out)) != 2 {
		t.Errorf("processes in the container after failed execs: %s", out)
	}

	stopped := newBundle(t, "true")
	if r := stopped.run("--keep"); r.Code != 0 {
		t.Fatal(r)
	}
	if r := stopped.rt("exec", stopped.ID, "true"); r.Code == 0 || !strings.Contains(r.Stderr, "stopped") {
		t.Errorf("exec into a stopped container: %s", r)
	}
	stopped.mustRT("delete", stopped.ID)
}

func TestExecConcurrent(t *testing.T) {
	b := startSleeper(t, nil)
	const n = 20
	var wg sync.WaitGroup
	results := make([]result, n)
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			results[i] = b.rt("exec", b.ID, "sh", "-c", "echo "+strconv.Itoa(i))
		}(i)
	}
	wg.Wait()
	for i, r := range results {
		if r.Code != 0 || strings.TrimSpace(r.Stdout) != strconv.Itoa(i) {
			t.Errorf("exec %d: %s", i, r)
		}
	}
}

func TestExecTTYConsoleSocket(t *testing.T) {
	b := startSleeper(t, nil)
	sock := filepath.Join(b.Dir, "console.sock")
	recv := listenConsole(t, sock)
	b.mustRT("exec", "--tty", "--console-socket", sock, "--detach", b.ID, "sh")
	master := <-recv
	defer master.Close()
	fmt.Fprintf(master, "echo tty-$((6*7)); tty; exit\n")
	out := readUntil(master, "tty-42")
	if !strings.Contains(out, "tty-42") {
		t.Fatalf("pty output: %q", out)
	}
}

func TestExecSeccompAndSignals(t *testing.T) {
	b := startSleeper(t, func(s *specs.Spec) {
		s.Linux.Seccomp = &specs.LinuxSeccomp{
			DefaultAction: specs.ActAllow,
			Syscalls: []specs.LinuxSyscall{
				{Names: []string{"mkdir", "mkdirat"}, Action: specs.ActErrno},
			},
		}
	})
	// The exec'd process gets the container's filter: mkdir fails with EPERM, as in the init.
	r := b.rt("exec", b.ID, "mkdir", "/dev/shm/x")
	if r.Code == 0 || !strings.Contains(r.Stderr, "Operation not permitted") {
		t.Errorf("mkdir under the container's seccomp filter: %s", r)
	}
	if st := parseStatus(b.mustRT("exec", b.ID, "cat", "/proc/self/status").Stdout); st["Seccomp"] != "2" {
		t.Errorf("exec process Seccomp mode %q, want 2 (filter)", st["Seccomp"])
	}
	// Signals sent to a foreground rt exec reach the process.
	g := b.startRT(nil, "exec", b.ID, "sh", "-c", "trap 'exit 42' TERM; touch /dev/shm/ready; while true; do sleep 0.05; done")
	if out := b.mustRT("exec", b.ID, "sh", "-c", "for i in $(seq 200); do [ -e /dev/shm/ready ] && exit 0; sleep 0.05; done; exit 1"); out.Code != 0 {
		t.Fatalf("the exec'd shell never set its trap: %s", out)
	}
	g.cmd.Process.Signal(syscall.SIGTERM)
	if r := g.wait(); r.Code != 42 {
		t.Errorf("rt exec after SIGTERM: %s, want exit 42", r)
	}
}

func TestExecPausedContainer(t *testing.T) {
	b := startSleeper(t, nil)
	b.mustRT("pause", b.ID)
	if r := b.rt("exec", b.ID, "true"); r.Code != 255 || !strings.Contains(r.Stderr, "cannot exec in a paused container") {
		t.Errorf("exec into a paused container: %s", r)
	}
	// With --ignore-paused the process is created (frozen with the rest) and runs after resume.
	g := b.startRT(nil, "exec", "--ignore-paused", b.ID, "sh", "-c", "exit 7")
	b.mustRT("resume", b.ID)
	if r := g.wait(); r.Code != 7 {
		t.Errorf("exec --ignore-paused after resume: %s, want exit 7", r)
	}
}
