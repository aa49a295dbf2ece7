package initproc

import (
	"bytes"
	"slices"
	"strings"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"

	"github.com/rtproject/rt/libcontainer/internal/initproto"
	"github.com/rtproject/rt/nsenter"
)

// TestPrepareExecProcess: the fresh image sets only what a fork inherits
// (and the cwd), in the exec init's order, and leaves the limits, the
// filter, the user and the capabilities to the child, as ExecProcess.
func TestPrepareExecProcess(t *testing.T) {
	seccomp := &specs.LinuxSeccomp{DefaultAction: specs.ActAllow, Syscalls: []specs.LinuxSyscall{{Names: []string{"mkdir"}, Action: specs.ActErrno}}}
	inherited := []string{
		`write /proc/self/oom_score_adj "300"`,
		"sched_setattr policy=3 nice=0 priority=0 flags=0x0 runtime=0 deadline=0 period=0",
		"ioprio_set class=2 level=7",
		"personality 0x8",
		"sched_setaffinity all",
	}
	for _, tt := range []struct {
		name      string
		mutate    func(p *specs.Process, cfg *initproto.Config)
		failCall  string
		wantCalls []string
		wantErr   string
		check     func(t *testing.T, x *nsenter.ExecProcess)
	}{
		{
			name:      "everything",
			wantCalls: slices.Concat(inherited, []string{"fchdir /work", "umask 0027"}),
			check: func(t *testing.T, x *nsenter.ExecProcess) {
				if x.Path != "/bin/sh" || x.CloseFrom != 5 || x.MemoryTasks != 7 || x.SockFd != 9 || !x.NoNewPrivs || x.Seccomp == nil || x.SeccompFlags == 0 {
					t.Errorf("process: %+v", x)
				}
				if !slices.Equal(x.Rlimits, []nsenter.Rlimit{{Resource: unix.RLIMIT_NOFILE, Soft: 256, Max: 512}}) {
					t.Errorf("rlimits %+v", x.Rlimits)
				}
				if x.UID != 1000 || x.GID != 1000 || !slices.Equal(x.Groups, []uint32{10, 20}) || x.CwdRetry != "" {
					t.Errorf("user or cwd: %+v", x)
				}
				if c := x.Caps; c == nil || len(c.BoundingDrop) != 34 || c.Effective != 0x420 || c.Permitted != 0x2420 || c.Inheritable != 0x420 || !slices.Equal(c.Ambient, []int{10}) {
					t.Errorf("capabilities %+v", x.Caps)
				}
				if !slices.Equal(x.Env, []string{"PATH=/bin", "HOME=/root"}) {
					t.Errorf("env %q", x.Env)
				}
				if !bytes.Contains(x.ExecMessage, []byte(`"exec"`)) {
					t.Errorf("exec message %q", x.ExecMessage)
				}
			},
		},
		{
			name:      "a cwd root may not enter is left to the child",
			failCall:  "fchdir",
			wantCalls: slices.Concat(inherited, []string{"fchdir /work = permission denied", "umask 0027"}),
			check: func(t *testing.T, x *nsenter.ExecProcess) {
				if x.CwdRetry != "/work" || x.CwdRoot < 0 {
					t.Errorf("cwd retry %q in fd %d", x.CwdRetry, x.CwdRoot)
				}
				unix.Close(x.CwdRoot)
			},
		},
		{
			name: "no capabilities, no memory cgroup, no filter",
			mutate: func(p *specs.Process, cfg *initproto.Config) {
				p.Capabilities, cfg.JoinMemoryFd, cfg.Spec.Linux.Seccomp = nil, 0, nil
			},
			check: func(t *testing.T, x *nsenter.ExecProcess) {
				if x.Caps != nil || x.MemoryTasks != -1 || x.Seccomp != nil {
					t.Errorf("process: %+v", x)
				}
			},
		},
		{
			name:    "a missing executable, in runc's words",
			mutate:  func(p *specs.Process, cfg *initproto.Config) { p.Args = []string{"no-such-command"} },
			wantErr: `process.args[0]: exec: "no-such-command": executable file not found in $PATH`,
		},
		{
			name:     "a scheduler the kernel refuses",
			failCall: "sched_setattr",
			wantErr:  "process.scheduler: sched_setattr policy SCHED_BATCH",
		},
	} {
		t.Run(tt.name, func(t *testing.T) {
			rec := fakeContainerRoot(t)
			if tt.failCall != "" {
				rec.Fail(tt.failCall, 1, unix.EACCES)
			}
			p := testProcess()
			p.Cwd, p.Env = "/work", []string{"PATH=/bin", "HOME=/root"}
			cfg := &initproto.Config{
				Mode: initproto.ModeExec, ID: "c1", Process: p, PreserveFds: 2, ConsoleFd: -1, JoinMemoryFd: 7,
				Spec: &specs.Spec{Linux: &specs.Linux{Seccomp: seccomp, Personality: &specs.LinuxPersonality{Domain: specs.PerLinux32}}},
			}
			if tt.mutate != nil {
				tt.mutate(p, cfg)
			}
			x, err := prepareExecProcess(cfg, 9)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("error %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("prepareExecProcess: %v\n%s", err, strings.Join(rec.Calls, "\n"))
			}
			got := slices.DeleteFunc(calls(rec), func(c string) bool { return c == "prctl 27 0" }) // PR_GET_SECUREBITS
			for _, c := range got {
				for _, childOnly := range []string{"prlimit", "seccomp", "setgroups", "setres", "capset", "prctl PR_CAP", "prctl PR_SET_NO_NEW_PRIVS"} {
					if strings.HasPrefix(c, childOnly) {
						t.Errorf("the fresh image made the child's call %q", c)
					}
				}
			}
			if tt.wantCalls != nil && !slices.Equal(got, tt.wantCalls) {
				t.Errorf("calls:\n  %s\nwant:\n  %s", strings.Join(got, "\n  "), strings.Join(tt.wantCalls, "\n  "))
			}
			tt.check(t, x)
		})
	}
}

func TestBoundedLog(t *testing.T) {
	for _, tt := range []struct {
		name           string
		entries, bytes int
		writes         []string
		want           []string
	}{
		{"within the bounds", 3, 100, []string{"a", "b"}, []string{"a", "b"}},
		{"too many entries: one says so", 3, 100, []string{"a", "b", "c", "d"},
			[]string{"a", "b", `{"level":"warning","msg":"exec: the fresh image's further log lines are dropped"}` + "\n"}},
		{"too many bytes", 5, 4, []string{"abc", "defg", "h"},
			[]string{"abc", `{"level":"warning","msg":"exec: the fresh image's further log lines are dropped"}` + "\n"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var got []string
			b := &boundedLog{w: writerFunc(func(p []byte) { got = append(got, string(p)) }), entries: tt.entries, bytes: tt.bytes}
			for _, w := range tt.writes {
				if n, err := b.Write([]byte(w)); n != len(w) || err != nil {
					t.Errorf("Write(%q) = %d, %v", w, n, err)
				}
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("passed on %q, want %q", got, tt.want)
			}
		})
	}
}

type writerFunc func(p []byte)

func (f writerFunc) Write(p []byte) (int, error) { f(p); return len(p), nil }
