package integration

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// What an operator meets when something goes wrong: warnings they can see,
// runc's exit codes and wording, and the --debug start-up trace.

// TestUnknownCommand: urfave/cli's "No help topic" and a non-zero exit, as runc.
func TestUnknownCommand(t *testing.T) {
	for _, args := range [][]string{{"foo"}, {"foo", "-h"}} {
		r := runRT(workDir, nil, args...)
		if r.Code == 0 || !strings.Contains(r.Stderr, "No help topic for 'foo'") {
			t.Errorf("rt %s: %s", strings.Join(args, " "), r)
		}
	}
}

// TestCapabilitiesWarnNotFail: a capability this host cannot grant
// (CAP_SYS_RESOURCE is not in its bounding set), and a name that is no
// capability, leave the container without them and with runc's warning on
// stderr, also when the log goes to a file (containerd passes rt's stderr on
// as the container's).
func TestCapabilitiesWarnNotFail(t *testing.T) {
	if hostHasCap(t, 24) {
		t.Skip("this host can grant CAP_SYS_RESOURCE")
	}
	const warning = "ignoring unknown or unavailable capabilities: [CAP_SYS_RESOURCE CAP_UNKNOWN UNKNOWN_CAP]"
	for _, withLog := range []bool{false, true} {
		b := newBundle(t, "grep", "^Cap", "/proc/self/status")
		c := b.Spec.Process.Capabilities
		c.Bounding = append(c.Bounding, "CAP_SYS_RESOURCE", "CAP_UNKNOWN", "UNKNOWN_CAP")
		c.Effective = append(c.Effective, "CAP_SYS_RESOURCE")
		c.Permitted = append(c.Permitted, "CAP_SYS_RESOURCE", "CAP_UNKNOWN")
		var extra []string
		log := filepath.Join(b.Dir, "log.json")
		if withLog {
			extra = []string{"--log", log, "--log-format", "json"}
		}
		b.write()
		r := runRT(b.Root, nil, append(extra, "run", "--bundle", b.Dir, b.ID)...)
		if r.Code != 0 {
			t.Fatalf("run (log to a file: %t): %s", withLog, r)
		}
		if !strings.Contains(r.Stderr, warning) {
			t.Errorf("stderr (log to a file: %t) lacks %q: %q", withLog, warning, r.Stderr)
		}
		// CAP_AUDIT_WRITE, CAP_KILL, CAP_NET_BIND_SERVICE: nothing else.
		got := statusFields(r.Stdout, "CapBnd", "CapEff", "CapPrm")
		for k, v := range got {
			if v != "0000000020000420" {
				t.Errorf("%s = %s, want 0000000020000420", k, v)
			}
		}
		if withLog {
			data, _ := os.ReadFile(log)
			if !strings.Contains(string(data), `"level":"warning","msg":"`+warning+`"`) {
				t.Errorf("--log lacks the warning: %s", data)
			}
		}
	}
}

// TestExecUnknownCapabilityWarns: exec --cap with a name that is no
// capability runs the process without it, with the warning (runc 1.5).
func TestExecUnknownCapabilityWarns(t *testing.T) {
	b := startSleeper(t, nil)
	r := b.rt("exec", "--cap", "CAP_NO_SUCH", b.ID, "true")
	if r.Code != 0 || !strings.Contains(r.Stderr, "ignoring unknown or unavailable capabilities: [CAP_NO_SUCH]") {
		t.Errorf("exec --cap CAP_NO_SUCH: %s", r)
	}
}

// TestAmbientWarning: an ambient capability outside the inheritable set is
// not raised, and runc's warning says so.
func TestAmbientWarning(t *testing.T) {
	b := newBundle(t, "grep", "^CapAmb", "/proc/self/status")
	b.Spec.Process.Capabilities.Inheritable = []string{"CAP_KILL"}
	b.Spec.Process.Capabilities.Ambient = []string{"CAP_KILL", "CAP_AUDIT_WRITE"}
	r := b.run()
	if r.Code != 0 || !strings.Contains(r.Stderr, "can't raise ambient capability CAP_AUDIT_WRITE: ") {
		t.Fatalf("run: %s", r)
	}
	if got := statusFields(r.Stdout, "CapAmb")["CapAmb"]; got != "0000000000000020" {
		t.Errorf("CapAmb = %s, want CAP_KILL only", got)
	}
}

// TestRunExecveFailure: the container starts and its process fails as with
// runc: one bare line on its stderr, exit 255.
func TestRunExecveFailure(t *testing.T) {
	b := newBundle(t, "/run.sh")
	os.WriteFile(filepath.Join(b.Rootfs, "run.sh"), []byte("#!/mmnnttbb foo bar\nsh\n"), 0o755)
	r := b.run()
	if r.Code != 255 || r.Stderr != "exec /run.sh: no such file or directory\n" {
		t.Errorf("run: %s, want exit 255 and only the execve error", r)
	}
	assertNoLeaks(t, b, 0)
}

// TestHookFailureWording: runc's prefix, which scripts grep for.
func TestHookFailureWording(t *testing.T) {
	b := newBundle(t, "true")
	b.Spec.Hooks = &specs.Hooks{CreateRuntime: []specs.Hook{{Path: "/bin/true"}, {Path: "/bin/false"}}}
	if r := b.run(); r.Code == 0 || !strings.Contains(r.Stderr, "error running createRuntime hook #1: ") {
		t.Errorf("run with a failing hook: %s", r)
	}
	assertNoLeaks(t, b, 0)
}

// TestDebugTrace: --debug logs each step of create, init, start and exec,
// with its duration, to stderr or --log in either format; without --debug
// nothing of it appears.
func TestDebugTrace(t *testing.T) {
	steps := []string{
		"create: ",
		"config.json loaded and valid",
		"create: rt init started, pid ",
		"new namespaces: ",
		"create: init joined its cgroup: ",
		"init: mounts[0]: proc on /proc",
		"init: pivot_root to ",
		"init: seccomp filter compiled",
		"seccomp filter flags: ",
		"init: user 0:0",
		"create: init ready",
		"start: container process started",
	}
	b := newBundle(t, "echo", "hello")
	b.Spec.Linux.Seccomp = &specs.LinuxSeccomp{DefaultAction: specs.ActAllow,
		Syscalls: []specs.LinuxSyscall{{Names: []string{"mkdirat"}, Action: specs.ActErrno}}}
	b.write()
	r := runRT(b.Root, nil, "--debug", "run", "--bundle", b.Dir, b.ID)
	if r.Code != 0 || r.Stdout != "hello\n" {
		t.Fatalf("--debug run: %s", r)
	}
	for _, s := range steps {
		if !strings.Contains(r.Stderr, s) {
			t.Errorf("--debug run: no %q in the trace:\n%s", s, r.Stderr)
		}
	}
	if !strings.Contains(r.Stderr, "level=debug") || !strings.Contains(r.Stderr, " duration=") {
		t.Errorf("--debug run: no timed debug lines:\n%s", r.Stderr)
	}

	// To --log, as JSON: stderr stays clean.
	log := filepath.Join(b.Dir, "debug.json")
	r = runRT(b.Root, nil, "--debug", "--log", log, "--log-format", "json", "run", "--bundle", b.Dir, b.ID)
	if r.Code != 0 || strings.Contains(r.Stderr, "debug") {
		t.Fatalf("--debug --log run: %s", r)
	}
	data, _ := os.ReadFile(log)
	var timed int
	for _, line := range strings.Split(strings.TrimSpace(string(data)), "\n") {
		var e map[string]any
		if err := json.Unmarshal([]byte(line), &e); err != nil {
			t.Fatalf("--log-format json: %q: %v", line, err)
		}
		if e["level"] == "debug" && e["duration"] != nil {
			timed++
		}
	}
	if timed < 5 || !strings.Contains(string(data), "init: pivot_root to ") {
		t.Errorf("--debug --log json: %d timed steps:\n%s", timed, data)
	}

	// exec, from both sides.
	s := startSleeper(t, nil)
	r = runRT(s.Root, nil, "--debug", "exec", s.ID, "true")
	for _, step := range []string{"exec: rt init started in container ", "joined mount /proc/", "is /bin/true", "exec: process [true] started"} {
		if r.Code != 0 || !strings.Contains(r.Stderr, step) {
			t.Errorf("--debug exec: no %q: %s", step, r)
		}
	}

	// Off, nothing.
	r = s.mustRT("exec", s.ID, "true")
	if strings.Contains(r.Stderr, "debug") {
		t.Errorf("exec without --debug: %s", r)
	}
}

// TestDebugTraceShowsWhereItStopped: a container that cannot be made
// shows the steps done, then the error naming the field.
func TestDebugTraceShowsWhereItStopped(t *testing.T) {
	b := newBundle(t, "/no/such/binary")
	b.write()
	r := runRT(b.Root, nil, "--debug", "run", "--bundle", b.Dir, b.ID)
	if r.Code == 0 {
		t.Fatalf("run of a missing binary: %s", r)
	}
	lines := strings.Split(strings.TrimSpace(r.Stderr), "\n")
	last := lines[len(lines)-1]
	if !strings.Contains(last, "level=error") || !strings.Contains(last, `process.args[0]: exec: \"/no/such/binary\"`) {
		t.Errorf("last line %q, want the error naming process.args[0]", last)
	}
	if !strings.Contains(r.Stderr, "init: 10 masked and 5 read-only paths") {
		t.Errorf("the trace does not show the steps done:\n%s", r.Stderr)
	}
	assertNoLeaks(t, b, 0)
}

// hostHasCap reports whether this process's bounding set holds capability c.
func hostHasCap(t *testing.T, c uint) bool {
	t.Helper()
	data, err := os.ReadFile("/proc/self/status")
	if err != nil {
		t.Fatal(err)
	}
	n, err := strconv.ParseUint(statusFields(string(data), "CapBnd")["CapBnd"], 16, 64)
	if err != nil {
		t.Fatal(err)
	}
	return n&(1<<c) != 0
}

// TestErrorsCarryTheValues: errors name the field and carry what the
// operator needs to fix it, with runc's words where scripts look for them.
func TestErrorsCarryTheValues(t *testing.T) {
	for _, tc := range []struct {
		name   string
		mutate func(*specs.Spec)
		want   []string
	}{
		{"validation", func(s *specs.Spec) { s.Process.Rlimits[0].Type = "RLIMIT_FOO" },
			[]string{"invalid configuration: ", "process.rlimits[0].type"}},
		{"rejected mount option", func(s *specs.Spec) {
			s.Mounts = append(s.Mounts, specs.Mount{Destination: "/mnt", Type: "tmpfs", Source: "tmpfs", Options: []string{"size=-1x"}})
		}, []string{"tmpfs on /mnt", `size=-1x`, "invalid argument"}},
		{"namespace path", func(s *specs.Spec) {
			for i, ns := range s.Linux.Namespaces {
				if ns.Type == specs.UTSNamespace {
					s.Linux.Namespaces[i].Path = "/proc/self/ns/net"
				}
			}
		}, []string{"join uts namespace /proc/self/ns/net: invalid argument"}},
	} {
		b := newBundle(t, "true")
		tc.mutate(b.Spec)
		r := b.run()
		for _, w := range tc.want {
			if r.Code == 0 || !strings.Contains(r.Stderr, w) {
				t.Errorf("%s: %s, want %q", tc.name, r, w)
			}
		}
		assertNoLeaks(t, b, 0)
	}

	// A memory limit below what the container uses and the kernel cannot
	// reclaim (a tmpfs file, without swap): the usage is in the error.
	if swaps, _ := os.ReadFile("/proc/swaps"); strings.Count(string(swaps), "\n") > 1 {
		t.Skip("with swap the kernel can reclaim the tmpfs file")
	}
	b := startSleeper(t, func(s *specs.Spec) {
		s.Process.Args = []string{"sh", "-c", "head -c 8000000 /dev/zero > /dev/shm/x; touch /dev/shm/ready; sleep 1000"}
	})
	b.mustRT("exec", b.ID, "sh", "-c", "for i in $(seq 100); do [ -e /dev/shm/ready ] && exit 0; sleep 0.05; done; exit 1")
	r := b.rt("update", "--memory", "1048576", b.ID)
	if r.Code == 0 || !strings.Contains(r.Stderr, "linux.resources.memory.limit: 1048576 is below the current usage ") {
		t.Errorf("update below the usage: %s", r)
	}
}
