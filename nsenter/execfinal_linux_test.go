package nsenter

import (
	"errors"
	"strings"
	"syscall"
	"testing"

	"golang.org/x/sys/unix"
)

func TestExecProcessPrepare(t *testing.T) {
	filter := []unix.SockFilter{{Code: unix.BPF_RET | unix.BPF_K, K: 0x7fff0000}}
	valid := func() *ExecProcess {
		return &ExecProcess{Path: "/bin/true", Argv: []string{"true"}, Env: []string{"A=b"}, MemoryTasks: -1,
			CloseFrom: 3, ExecMessage: []byte("msg"), SockFd: 5, CwdRoot: -1}
	}
	tests := []struct {
		name    string
		mutate  func(p *ExecProcess)
		wantErr string
		check   func(t *testing.T, x *execArgs)
	}{
		{"plain", func(p *ExecProcess) {}, "", func(t *testing.T, x *execArgs) {
			if x.hasMemory || x.caps || x.fprog != nil || x.cwdRetry != nil || x.closeFrom != 3 || x.sockFd != 5 {
				t.Errorf("unexpected raw arguments: %+v", x)
			}
			if x.iov.Len != 3 || x.msghdr.Iovlen != 1 {
				t.Errorf("exec message: iov %+v msghdr %+v", x.iov, x.msghdr)
			}
		}},
		{"everything", func(p *ExecProcess) {
			p.MemoryTasks = 7
			p.Rlimits = []Rlimit{{Resource: unix.RLIMIT_NOFILE, Soft: 10, Max: 20}}
			p.Seccomp, p.SeccompFlags = &unix.SockFprog{Len: 1, Filter: &filter[0]}, 1
			p.Caps = &ExecCaps{BoundingDrop: []int{1, 2}, Effective: 1 << 33, Permitted: 1<<33 | 1, Ambient: []int{0}}
			p.CwdRetry, p.CwdRoot = "/home/u", 9
		}, "", func(t *testing.T, x *execArgs) {
			if !x.hasMemory || x.memoryTasks != 7 || len(x.rlimits) != 1 || x.rlimits[0].lim.Max != 20 || x.fprog == nil || x.fflags != 1 {
				t.Errorf("memory, rlimits or seccomp: %+v", x)
			}
			if !x.caps || len(x.capDrop) != 2 || x.capData[1].Effective != 2 || x.capData[0].Permitted != 1 || x.capData[1].Permitted != 2 || len(x.ambient) != 1 {
				t.Errorf("capabilities: %+v", x)
			}
			if x.cwdRetry == nil || x.cwdRoot != 9 || x.openHow.Resolve != unix.RESOLVE_IN_ROOT|unix.RESOLVE_NO_MAGICLINKS {
				t.Errorf("cwd retry: %+v", x)
			}
		}},
		{"NUL in the path", func(p *ExecProcess) { p.Path = "/bin/a\x00b" }, "process.args[0]", nil},
		{"NUL in an argument", func(p *ExecProcess) { p.Argv = []string{"a\x00"} }, "process.args", nil},
		{"NUL in the environment", func(p *ExecProcess) { p.Env = []string{"A=\x00"} }, "process.env", nil},
		{"NUL in the cwd", func(p *ExecProcess) { p.CwdRetry = "/a\x00" }, "process.cwd", nil},
		{"empty filter", func(p *ExecProcess) { p.Seccomp = &unix.SockFprog{} }, "empty filter", nil},
		{"no exec message", func(p *ExecProcess) { p.ExecMessage = nil }, "no exec message", nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := valid()
			tc.mutate(p)
			x, err := p.prepare()
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("prepare: %v, want an error with %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			tc.check(t, x)
		})
	}
}

func TestExecStageErrors(t *testing.T) {
	tests := []struct {
		stage, index, index2, errno uint32
		want                        string
		check                       func(error) bool
	}{
		{stageExecStep, ExecStepRlimit, 2, uint32(unix.EPERM), "exec: prlimit64: operation not permitted", func(err error) bool {
			var se *ExecStepError
			return errors.As(err, &se) && se.Step == ExecStepRlimit && se.Index == 2 && errors.Is(err, syscall.EPERM)
		}},
		{stageExecStep, ExecStepCwd, 0, uint32(unix.ENOENT), "exec: enter process.cwd: no such file or directory", nil},
		{stageExecStep, 99, 0, uint32(unix.EIO), "exec: step 99: input/output error", nil},
		{stageExecPrepare, 0, 0, 0, ErrExecPrepare.Error(), func(err error) bool { return errors.Is(err, ErrExecPrepare) }},
	}
	for _, tc := range tests {
		err := stageError(tc.stage, tc.index, tc.index2, tc.errno)
		if err.Error() != tc.want || (tc.check != nil && !tc.check(err)) {
			t.Errorf("stageError(%d, %d, %d, %d) = %v, want %q", tc.stage, tc.index, tc.index2, tc.errno, err, tc.want)
		}
	}
}
