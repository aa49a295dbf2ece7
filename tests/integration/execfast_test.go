package integration

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// The fast path of exec: the fresh image of rt prepares the process and
// forks it, and the child takes the last steps with raw system calls.
const (
	fastPathTrace = "fast path: the fresh image prepared the process"
	slowPathTrace = "exec: rt init prepares the process: "
)

// withDenyMknod gives the container a seccomp filter (mode 2 in
// /proc/<pid>/status) that denies mknod.
func withDenyMknod(s *specs.Spec) {
	s.Linux.Seccomp = &specs.LinuxSeccomp{
		DefaultAction: specs.ActAllow,
		Syscalls:      []specs.LinuxSyscall{{Names: []string{"mknod", "mknodat"}, Action: specs.ActErrno}},
	}
}

// writeProcess writes p as a process.json in b's directory.
func writeProcess(t *testing.T, b *bundle, name string, p *specs.Process) string {
	t.Helper()
	data, err := json.Marshal(p)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(b.Dir, name)
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// TestExecFastPathAttributes: a process exec'd through the fast path gets
// exactly what the spec asks for: session, user and groups, every
// capability set, no_new_privs, the seccomp filter, rlimits, umask, cwd
// and env, in a default and a user-namespaced container, with and without
// no_new_privs (which moves the seccomp filter before or after the user
// switch).
func TestExecFastPathAttributes(t *testing.T) {
	const probe = `echo "sid $$ $(cut -d' ' -f6 /proc/$$/stat)"; ` +
		`grep -E '^(Uid|Gid|Groups|CapInh|CapPrm|CapEff|CapBnd|CapAmb|NoNewPrivs|Seccomp):' /proc/self/status; ` +
		`grep 'Max open files' /proc/self/limits; echo "cwd $(pwd)"; echo "env FOO=$FOO HOME=$HOME"; echo "umask $(umask)"`
	umask := uint32(0o027)
	for _, kind := range containerKinds {
		for _, nnp := range []bool{false, true} {
			name := kind.name + "/no_new_privs=false"
			if nnp {
				name = kind.name + "/no_new_privs=true"
			}
			t.Run(name, func(t *testing.T) {
				b := startSleeper(t, func(s *specs.Spec) {
					if kind.mutate != nil {
						kind.mutate(s)
					}
					withDenyMknod(s)
				})
				p := *b.Spec.Process
				p.Args = []string{"sh", "-c", probe}
				p.Env = []string{"PATH=/bin", "FOO=bar"}
				p.Cwd = "/tmp"
				p.User = specs.User{UID: 1000, GID: 1000, AdditionalGids: []uint32{10, 20}, Umask: &umask}
				p.NoNewPrivileges = nnp
				p.Capabilities = &specs.LinuxCapabilities{
					Bounding:    []string{"CAP_CHOWN", "CAP_KILL", "CAP_NET_BIND_SERVICE"},
					Effective:   []string{"CAP_KILL", "CAP_NET_BIND_SERVICE"},
					Permitted:   []string{"CAP_KILL", "CAP_NET_BIND_SERVICE"},
					Inheritable: []string{"CAP_NET_BIND_SERVICE"},
					Ambient:     []string{"CAP_NET_BIND_SERVICE"},
				}
				p.Rlimits = []specs.POSIXRlimit{{Type: "RLIMIT_NOFILE", Soft: 100, Hard: 200}}
				r := b.mustRT("--debug", "exec", "--process", writeProcess(t, b, "process.json", &p), b.ID)
				if !strings.Contains(r.Stderr, fastPathTrace) {
					t.Errorf("the fast path was not taken: %s", r)
				}
				status := parseStatus(r.Stdout)
				nnpWant := "0"
				if nnp {
					nnpWant = "1"
				}
				// uid 1000 keeps only its ambient CAP_NET_BIND_SERVICE (bit
				// 10) across execve; the bounding set is CHOWN, KILL and it.
				for field, want := range map[string]string{
					"Uid": "1000\t1000\t1000\t1000", "Gid": "1000\t1000\t1000\t1000", "Groups": "10 20",
					"CapInh": "0000000000000400", "CapPrm": "0000000000000400", "CapEff": "0000000000000400",
					"CapBnd": "0000000000000421", "CapAmb": "0000000000000400",
					"NoNewPrivs": nnpWant, "Seccomp": "2",
				} {
					if got := status[field]; got != want {
						t.Errorf("%s = %q, want %q\n%s", field, got, want, r.Stdout)
					}
				}
				lines := strings.Split(r.Stdout, "\n")
				if sid := strings.Fields(lines[0]); len(sid) != 3 || sid[1] != sid[2] {
					t.Errorf("the process is not a session leader (pid, sid): %q", lines[0])
				}
				for _, want := range []string{"cwd /tmp\n", "env FOO=bar HOME=/", "umask 0027\n"} {
					if !strings.Contains(r.Stdout, want) {
						t.Errorf("output lacks %q:\n%s", want, r.Stdout)
					}
				}
				limitOK := false
				for _, l := range lines {
					if rest, ok := strings.CutPrefix(l, "Max open files"); ok {
						f := strings.Fields(rest)
						limitOK = len(f) >= 2 && f[0] == "100" && f[1] == "200"
					}
				}
				if !limitOK {
					t.Errorf("RLIMIT_NOFILE is not soft 100 hard 200:\n%s", r.Stdout)
				}
			})
		}
	}
}

// TestExecFastPathFailures: a step that fails, in the fresh image (a missing
// executable) or in the forked child (a cwd that does not exist, a limit
// that cannot be raised), fails the exec with exit 255 and an error that
// names it, and leaves no process in the container.
func TestExecFastPathFailures(t *testing.T) {
	b := startSleeper(t, nil)
	tests := []struct {
		name   string
		mutate func(p *specs.Process)
		want   []string
	}{
		{"missing executable", func(p *specs.Process) { p.Args = []string{"no-such-command"} },
			[]string{"process.args[0]: exec: ", "no-such-command", "executable file not found in $PATH"}},
		{"missing cwd", func(p *specs.Process) { p.Cwd = "/no/such/dir" },
			[]string{"process.cwd /no/such/dir: ", "no such file or directory"}},
		{"rlimit above the hard limit", func(p *specs.Process) {
			p.Rlimits = []specs.POSIXRlimit{{Type: "RLIMIT_NOFILE", Soft: 1 << 30, Hard: 1 << 30}}
		}, []string{"process.rlimits[0]: set RLIMIT_NOFILE", "operation not permitted"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := *b.Spec.Process
			p.Args = []string{"true"}
			tc.mutate(&p)
			r := b.rt("--debug", "exec", "--process", writeProcess(t, b, "process.json", &p), b.ID)
			if r.Code != 255 {
				t.Errorf("exit %d, want 255: %s", r.Code, r)
			}
			for _, want := range tc.want {
				if !strings.Contains(r.Stderr, want) {
					t.Errorf("the error lacks %q: %s", want, r.Stderr)
				}
			}
		})
	}
	// The shell expands the glob itself: it and the init are all there should be.
	if out := b.mustRT("exec", b.ID, "sh", "-c", "echo /proc/[0-9]*").Stdout; len(strings.Fields(out)) != 2 {
		t.Errorf("processes in the container after failed execs: %s", out)
	}
}

// TestExecSlowPathStillServes: what the fast path leaves to the exec init
// (here a reset-on-fork scheduler, which a fork from the fresh image would
// lose) goes through it, with the same result.
func TestExecSlowPathStillServes(t *testing.T) {
	b := startSleeper(t, nil)
	p := *b.Spec.Process
	p.Args = []string{"grep", "-E", "^(Uid|NoNewPrivs):", "/proc/self/status"}
	p.User = specs.User{UID: 1000, GID: 1000}
	p.NoNewPrivileges = true
	p.Scheduler = &specs.Scheduler{Policy: specs.SchedOther, Flags: []specs.LinuxSchedulerFlag{specs.SchedFlagResetOnFork}}
	r := b.mustRT("--debug", "exec", "--process", writeProcess(t, b, "process.json", &p), b.ID)
	if !strings.Contains(r.Stderr, slowPathTrace+"process.scheduler is SCHED_DEADLINE or reset-on-fork") || strings.Contains(r.Stderr, fastPathTrace) {
		t.Errorf("the exec init was not used: %s", r)
	}
	status := parseStatus(r.Stdout)
	if status["Uid"] != "1000\t1000\t1000\t1000" || status["NoNewPrivs"] != "1" {
		t.Errorf("status: %s", r.Stdout)
	}
}
