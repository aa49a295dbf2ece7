package nsenter

import (
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
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

// testExecCase names the ExecProcess the test binary's fresh image prepares
// (testPrepareExec), passed through Spawn's environment.
const testExecCase = "NSENTER_TEST_EXEC"

// testExecProbe prints what TestSpawnExecProcess checks of the process.
// The grep is the shell's child: its PPid and its session (NSsid, both in
// the host's pid namespace, which /proc here is of) are the shell's.
const testExecProbe = `grep -E '^(PPid|NSsid|Uid|Gid|Groups|NoNewPrivs|Seccomp|CapEff|CapBnd):' /proc/self/status; ` +
	`grep 'Max open files' /proc/self/limits; ls /proc/self/fd | tr '\n' ' '; echo; echo "cwd $(pwd)"`

// testAllowAll is a seccomp filter that allows everything (mode 2 all the same).
var testAllowAll = []unix.SockFilter{{Code: unix.BPF_RET | unix.BPF_K, K: 0x7fff0000}}

// testPrepareExec is RunIntermediate's prepareExec in the test binary: fd
// 3 is the "init socket", the process is a shell printing testExecProbe.
func testPrepareExec() (*ExecProcess, error) {
	p := &ExecProcess{Path: "/bin/sh", Argv: []string{"sh", "-c", testExecProbe}, Env: []string{"PATH=/bin:/usr/bin"},
		MemoryTasks: -1, CloseFrom: 3, SockFd: 3, ExecMessage: []byte("exec"), CwdRoot: -1}
	switch os.Getenv(testExecCase) {
	case "attributes":
		p.Rlimits = []Rlimit{{Resource: unix.RLIMIT_NOFILE, Soft: 50, Max: 60}}
		p.UID, p.GID, p.Groups = 1000, 1000, []uint32{10, 20}
		p.NoNewPrivs = true
		p.Seccomp = &unix.SockFprog{Len: 1, Filter: &testAllowAll[0]}
		p.SeccompFlags = 0
		// CAP_KILL (5) only, and CAP_CHOWN (0) left in the bounding set.
		p.Caps = &ExecCaps{BoundingDrop: []int{1, 2, 3, 4}, Effective: 1 << 5, Permitted: 1 << 5, Inheritable: 1 << 5, Ambient: []int{5}}
		// /tmp is entered by the child (root's attempt "failed").
		root, err := unix.Open("/", unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
		if err != nil {
			return nil, err
		}
		p.CwdRetry, p.CwdRoot = "/tmp", root
	case "rlimit":
		p.Rlimits = []Rlimit{{Resource: unix.RLIMIT_CORE, Soft: 0, Max: 0}, {Resource: unix.RLIMIT_NOFILE, Soft: 1 << 40, Max: 1 << 40}}
	case "cwd":
		p.CwdRetry, p.CwdRoot = "/no/such/dir", int(unix.AT_FDCWD)
	case "exec":
		p.Path = "/no/such/binary"
	case "prepare":
		return nil, errors.New("prepare failed")
	}
	return p, nil
}

// TestSpawnExecProcess: the final child of an ExecProcess takes its steps
// with the kernel (session, credentials, capabilities, limits, seccomp, cwd,
// fds, the exec message), and a step that fails, or a failed prepareExec,
// is Spawn's error with no process left.
func TestSpawnExecProcess(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root")
	}
	_, pidns := newPidNamespace(t)
	exe, err := os.Open("/proc/self/exe")
	if err != nil {
		t.Fatal(err)
	}
	defer exe.Close()
	for _, tc := range []struct {
		name    string
		wantErr func(error) bool
		want    []string
	}{
		{"attributes", nil, []string{"Uid:\t1000\t1000\t1000\t1000", "Gid:\t1000\t1000\t1000\t1000", "Groups:\t10 20",
			"NoNewPrivs:\t1", "Seccomp:\t2", "CapEff:\t0000000000000020",
			"cwd /tmp\n", "\n0 1 2 "}},
		{"rlimit", func(err error) bool {
			var se *ExecStepError
			return errors.As(err, &se) && se.Step == ExecStepRlimit && se.Index == 1 && se.Err == unix.EPERM
		}, nil},
		{"cwd", func(err error) bool {
			var se *ExecStepError
			return errors.As(err, &se) && se.Step == ExecStepCwd && se.Err == unix.ENOENT
		}, nil},
		{"exec", func(err error) bool {
			var se *ExecStepError
			return errors.As(err, &se) && se.Step == ExecStepExec && se.Err == unix.ENOENT
		}, nil},
		{"prepare", func(err error) bool { return errors.Is(err, ErrExecPrepare) }, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			sock, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
			if err != nil {
				t.Fatal(err)
			}
			ours, theirs := os.NewFile(uintptr(sock[0]), "sock"), os.NewFile(uintptr(sock[1]), "sock-child")
			defer ours.Close()
			r, w, err := os.Pipe()
			if err != nil {
				t.Fatal(err)
			}
			defer r.Close()
			cfg := &SpawnConfig{Exe: exe, Argv: []string{"rt", "init"}, Env: []string{testExecCase + "=" + tc.name, "GODEBUG=containermaxprocs=0"},
				Files: []*os.File{nil, w, w, theirs}, Join: []Namespace{{Type: unix.CLONE_NEWPID, Fd: int(pidns.Fd())}},
				CloneFromExe: true, ExecProcess: true}
			pid, err := Spawn(cfg)
			w.Close()
			theirs.Close()
			if tc.wantErr != nil {
				if err == nil || !tc.wantErr(err) {
					t.Fatalf("Spawn: %v, want the %s failure", err, tc.name)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			var ws unix.WaitStatus
			unix.Wait4(pid, &ws, 0, nil)
			out, _ := io.ReadAll(r)
			msg, _ := io.ReadAll(ours)
			if string(msg) != "exec" {
				t.Errorf("exec message %q, want \"exec\"", msg)
			}
			for _, want := range tc.want {
				if !strings.Contains(string(out), want) {
					t.Errorf("output lacks %q:\n%s", want, out)
				}
			}
			fields := map[string]string{}
			for _, l := range strings.Split(string(out), "\n") {
				if k, v, ok := strings.Cut(l, ":"); ok {
					fields[k] = strings.TrimSpace(v)
				}
			}
			if tc.name == "attributes" {
				// Ours less CAP_DAC_OVERRIDE … CAP_FOWNER (1-4), dropped.
				status, _ := os.ReadFile("/proc/self/status")
				var ours uint64
				for _, l := range strings.Split(string(status), "\n") {
					if v, ok := strings.CutPrefix(l, "CapBnd:\t"); ok {
						ours, _ = strconv.ParseUint(v, 16, 64)
					}
				}
				if want := fmt.Sprintf("%016x", ours&^0x1e); fields["CapBnd"] != want {
					t.Errorf("CapBnd %s, want %s", fields["CapBnd"], want)
				}
			}
			if sid := strings.Fields(fields["NSsid"]); len(sid) == 0 || sid[0] != fields["PPid"] {
				t.Errorf("the shell (pid %s) does not lead its session (%s)", fields["PPid"], fields["NSsid"])
			}
			if !strings.Contains(string(out), "Max open files            50                   60") {
				t.Errorf("RLIMIT_NOFILE not 50/60:\n%s", out)
			}
		})
	}
}
