package initproc

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"

	"github.com/rtproject/rt/libcontainer/internal/initproto"
	"github.com/rtproject/rt/libcontainer/internal/kernel/kerneltest"
)

func intp(v int) *int { return &v }

// testProcess sets every attribute the init applies, for the order tests
// here and in process_kernel_test.go.
func testProcess() *specs.Process {
	umask := uint32(0o027)
	return &specs.Process{
		Args: []string{"/bin/sh"}, Cwd: "/", Env: []string{"HOME=/"},
		User: specs.User{UID: 1000, GID: 1000, AdditionalGids: []uint32{10, 20}, Umask: &umask},
		Capabilities: &specs.LinuxCapabilities{
			Bounding:    []string{"CAP_CHOWN", "CAP_SETUID", "CAP_SETGID", "CAP_SETPCAP", "CAP_KILL", "CAP_NET_BIND_SERVICE", "CAP_NET_RAW"},
			Permitted:   []string{"CAP_KILL", "CAP_NET_BIND_SERVICE", "CAP_NET_RAW"},
			Effective:   []string{"CAP_KILL", "CAP_NET_BIND_SERVICE"},
			Inheritable: []string{"CAP_KILL", "CAP_NET_BIND_SERVICE"},
			Ambient:     []string{"CAP_NET_BIND_SERVICE"},
		},
		Rlimits:         []specs.POSIXRlimit{{Type: "RLIMIT_NOFILE", Soft: 256, Hard: 512}},
		OOMScoreAdj:     intp(300),
		Scheduler:       &specs.Scheduler{Policy: specs.SchedBatch},
		IOPriority:      &specs.LinuxIOPriority{Class: specs.IOPRIO_CLASS_BE, Priority: 7},
		NoNewPrivileges: true,
	}
}

// fakeContainerRoot makes a temporary directory with a /work the
// container's root (cwdRoot) until the test ends, and returns the fake
// kernel that records the calls made in it.
func fakeContainerRoot(t *testing.T) *kerneltest.Recorder {
	root := t.TempDir()
	if err := os.Mkdir(filepath.Join(root, "work"), 0o755); err != nil {
		t.Fatal(err)
	}
	cwdRoot = root
	t.Cleanup(func() { cwdRoot = "/" })
	return kerneltest.New(t, root)
}

// calls returns what the fake kernel saw, with the runs of bounding-set
// drops folded into one line, the chowns of the test's own stdio left out
// and the filter's length not shown.
func calls(rec *kerneltest.Recorder) []string {
	var out []string
	drops := 0
	flush := func() {
		if drops > 0 {
			out = append(out, fmt.Sprintf("prctl PR_CAPBSET_DROP x%d", drops))
			drops = 0
		}
	}
	for _, c := range rec.Calls {
		switch {
		case strings.HasPrefix(c, "prctl PR_CAPBSET_DROP "):
			drops++
			continue
		case strings.HasPrefix(c, "fchown "):
			continue
		case strings.HasPrefix(c, "seccomp "):
			// The program's length is libseccomp's business.
			c, _, _ = strings.Cut(c, " instructions=")
		}
		flush()
		out = append(out, c)
	}
	flush()
	return out
}

// TestApplyProcessOrder checks the order the kernel needs: what needs
// privilege first (the cwd too, as runc enters it), then the bounding set,
// the user, the capabilities, and the seccomp filter as early as possible
// without no_new_privs (loading it needs CAP_SYS_ADMIN then) or last with it.
func TestApplyProcessOrder(t *testing.T) {
	seccomp := &specs.LinuxSeccomp{DefaultAction: specs.ActAllow, Syscalls: []specs.LinuxSyscall{{Names: []string{"mkdir"}, Action: specs.ActErrno}}}
	attrs := []string{
		"prlimit 0 RLIMIT_NOFILE 256 512",
		`write /proc/self/oom_score_adj "300"`,
		"sched_setattr policy=3 nice=0 priority=0 flags=0x0 runtime=0 deadline=0 period=0",
		"ioprio_set class=2 level=7",
		"personality 0x8",
	}
	user := []string{
		"setgroups [10 20]", "prctl PR_SET_KEEPCAPS 1", "setresgid 1000 1000 1000", "setresuid 1000 1000 1000",
		"prctl PR_SET_KEEPCAPS 0", "umask 0027",
		"capset effective=0x420 permitted=0x2420 inheritable=0x420", "prctl PR_CAP_AMBIENT_CLEAR_ALL", "prctl PR_CAP_AMBIENT_RAISE 10",
	}
	tests := []struct {
		name   string
		mode   initproto.Mode
		mutate func(p *specs.Process, cfg *initproto.Config)
		want   []string
	}{
		{
			name: "a container's init with no_new_privs",
			mode: initproto.ModeStandard,
			want: slices.Concat(
				[]string{"keyctl join _ses.c1", "keyctl setperm 1000 0x3f090000"},
				attrs,
				[]string{"sched_setaffinity all", "fchdir /work", "prctl PR_CAPBSET_DROP x34"},
				user,
				[]string{"prctl PR_SET_NO_NEW_PRIVS 1", "seccomp flags=0x1"},
			),
		},
		{
			name: "without no_new_privs the filter goes in first, with CAP_SYS_ADMIN",
			mode: initproto.ModeStandard,
			mutate: func(p *specs.Process, cfg *initproto.Config) {
				p.NoNewPrivileges = false
				cfg.NoNewKeyring = true
			},
			want: slices.Concat(
				attrs,
				// The cwd before the filter, which may deny openat2.
				[]string{"sched_setaffinity all", "fchdir /work", "seccomp flags=0x1", "prctl PR_CAPBSET_DROP x34"},
				user,
			),
		},
		{
			name: "an exec'd process without execCPUAffinity: off the caller's CPUs",
			mode: initproto.ModeExec,
			want: slices.Concat(
				attrs,
				[]string{"sched_setaffinity all", "fchdir /work", "prctl PR_CAPBSET_DROP x34"},
				user,
				[]string{"prctl PR_SET_NO_NEW_PRIVS 1", "seccomp flags=0x1"},
			),
		},
		{
			name: "the init ignores execCPUAffinity",
			mode: initproto.ModeStandard,
			mutate: func(p *specs.Process, cfg *initproto.Config) {
				p.ExecCPUAffinity = &specs.CPUAffinity{Final: "1"}
				cfg.NoNewKeyring = true
			},
			want: slices.Concat(
				attrs,
				[]string{"sched_setaffinity all", "fchdir /work", "prctl PR_CAPBSET_DROP x34"},
				user,
				[]string{"prctl PR_SET_NO_NEW_PRIVS 1", "seccomp flags=0x1"},
			),
		},
		{
			name: "an exec'd process: no keyring, its own CPU affinity",
			mode: initproto.ModeExec,
			mutate: func(p *specs.Process, cfg *initproto.Config) {
				p.ExecCPUAffinity = &specs.CPUAffinity{Initial: "0", Final: "1"}
			},
			want: slices.Concat(
				attrs,
				[]string{"sched_setaffinity 1", "fchdir /work", "prctl PR_CAPBSET_DROP x34"},
				user,
				[]string{"prctl PR_SET_NO_NEW_PRIVS 1", "seccomp flags=0x1"},
			),
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := fakeContainerRoot(t)
			p := testProcess()
			p.Args, p.Cwd, p.Env = []string{"/bin/sh"}, "/work", []string{"HOME=/root"}
			cfg := &initproto.Config{
				Mode: tt.mode, ID: "c1", Process: p,
				Spec: &specs.Spec{Linux: &specs.Linux{Seccomp: seccomp, Personality: &specs.LinuxPersonality{Domain: specs.PerLinux32}}},
			}
			if tt.mutate != nil {
				tt.mutate(p, cfg)
			}
			if err := applyProcess(nil, cfg); err != nil {
				t.Fatalf("applyProcess: %v\n%s", err, strings.Join(rec.Calls, "\n"))
			}
			if got := calls(rec); !slices.Equal(got, tt.want) {
				t.Errorf("calls:\n  %s\nwant:\n  %s", strings.Join(got, "\n  "), strings.Join(tt.want, "\n  "))
			}
		})
	}
}

// TestApplyProcessFailures: the error names the field, and nothing after
// the failing step is applied.
func TestApplyProcessFailures(t *testing.T) {
	for _, tt := range []struct {
		fail, want string
	}{
		{"prlimit", "process.rlimits[0]: set RLIMIT_NOFILE to soft 1 hard 2: operation not permitted"},
		{"setresuid", "setresuid 1000: operation not permitted"},
		{"seccomp", "linux.seccomp: load seccomp filter: operation not permitted"},
	} {
		t.Run(tt.fail, func(t *testing.T) {
			rec := kerneltest.New(t, "")
			rec.Fail(tt.fail, 1, unix.EPERM)
			cfg := &initproto.Config{Mode: initproto.ModeExec, Process: &specs.Process{
				Args: []string{"/bin/sh"}, Cwd: "/", Env: []string{"HOME=/"}, NoNewPrivileges: true,
				User:    specs.User{UID: 1000, GID: 1000},
				Rlimits: []specs.POSIXRlimit{{Type: "RLIMIT_NOFILE", Soft: 1, Hard: 2}},
			}, Spec: &specs.Spec{Linux: &specs.Linux{Seccomp: &specs.LinuxSeccomp{DefaultAction: specs.ActAllow,
				Syscalls: []specs.LinuxSyscall{{Names: []string{"mkdir"}, Action: specs.ActErrno}}}}}}
			err := applyProcess(nil, cfg)
			if err == nil || err.Error() != tt.want {
				t.Errorf("error %v, want %q", err, tt.want)
			}
			last := rec.Calls[len(rec.Calls)-1]
			if !strings.HasPrefix(last, tt.fail+" ") {
				t.Errorf("went on after the failure: last call %q", last)
			}
		})
	}
}

func TestPrepareProcess(t *testing.T) {
	rec := kerneltest.New(t, "")
	bin := t.TempDir()
	os.WriteFile(filepath.Join(bin, "tool"), []byte("#!/bin/sh\n"), 0o755)
	os.WriteFile(filepath.Join(bin, "data"), nil, 0o644)
	for _, tt := range []struct {
		args0, path, want, err string
	}{
		{"tool", bin, filepath.Join(bin, "tool"), ""},
		{"tool", "/nonexistent:" + bin, filepath.Join(bin, "tool"), ""},
		{filepath.Join(bin, "tool"), "", filepath.Join(bin, "tool"), ""},
		{"data", bin, "", `process.args[0]: exec: "data": executable file not found in $PATH`},
		{filepath.Join(bin, "data"), "", "", fmt.Sprintf("process.args[0]: exec: %q: permission denied", filepath.Join(bin, "data"))},
		{bin, "", "", fmt.Sprintf("process.args[0]: exec: %q: is a directory", bin)},
	} {
		cfg := &initproto.Config{Mode: initproto.ModeExec, Spec: &specs.Spec{}, Process: &specs.Process{
			Args: []string{tt.args0}, Cwd: "/", Env: []string{"HOME=/", "PATH=" + tt.path},
		}}
		got, err := prepareProcess(nil, cfg)
		if got != tt.want || errString(err) != tt.err {
			t.Errorf("%s in %q: %q, %v; want %q, %q", tt.args0, tt.path, got, err, tt.want, tt.err)
		}
	}
	// An invalid process is refused before anything is applied.
	rec.Reset()
	if _, err := prepareProcess(nil, &initproto.Config{Process: &specs.Process{Args: []string{"x"}, Cwd: "rel"}}); err == nil || len(rec.Calls) != 0 {
		t.Errorf("invalid process: %v, calls %q", err, rec.Calls)
	}
}

func errString(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

// TestPrepareEnv: one entry per name, the last given winning in its own
// place; HOME from /etc/passwd (the host's here: uid 0 is root in every one)
// when missing or empty, "/" for a user it does not list.
func TestPrepareEnv(t *testing.T) {
	for _, tt := range []struct {
		name string
		uid  uint32
		env  []string
		want []string
	}{
		{"HOME given", 0, []string{"HOME=/mine"}, []string{"HOME=/mine"}},
		{"HOME from passwd", 0, nil, []string{"HOME=/root"}},
		{"unknown user", 4000000, []string{"A=1"}, []string{"A=1", "HOME=/"}},
		{"empty HOME is overridden", 0, []string{"HOME="}, []string{"HOME=/root"}},
		{"the last HOME wins, and empty is overridden", 0, []string{"HOME=/override", "A=1", "HOME="}, []string{"A=1", "HOME=/root"}},
		{"last value wins, in its place", 0, []string{"ONE=1", "TWO=2", "ONE=", "HOME=/h"}, []string{"TWO=2", "ONE=", "HOME=/h"}},
		{"values may hold =", 0, []string{"A=x=y", "HOME=/h"}, []string{"A=x=y", "HOME=/h"}},
	} {
		p := &specs.Process{Env: tt.env, User: specs.User{UID: tt.uid}}
		prepareEnv(p)
		if !slices.Equal(p.Env, tt.want) {
			t.Errorf("%s: %q, want %q", tt.name, p.Env, tt.want)
		}
	}
}

// TestFixOwner: stdio becomes the user's, the group stays what it was (a
// pty keeps devpts' tty group), and what is already the user's or the null
// device is left alone.
func TestFixOwner(t *testing.T) {
	rec := kerneltest.New(t, "")
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	defer w.Close()
	null, err := os.Open("/dev/null")
	if err != nil {
		t.Fatal(err)
	}
	defer null.Close()
	fds := []int{int(r.Fd()), int(w.Fd()), int(null.Fd())}
	for _, tt := range []struct {
		uid  uint32
		want []string
	}{
		{1000, []string{fmt.Sprintf("fchown %d 1000:-1", r.Fd()), fmt.Sprintf("fchown %d 1000:-1", w.Fd())}},
		{uint32(os.Getuid()), nil},
	} {
		rec.Reset()
		fixOwner(tt.uid, fds)
		if !slices.Equal(rec.Calls, tt.want) {
			t.Errorf("uid %d: %q, want %q", tt.uid, rec.Calls, tt.want)
		}
	}
}
