//go:build kernel

// These tests load filters for real, in children (childtest): they need
// root and run with the kernel tests of the integration suite.

package seccomp_test

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"syscall"
	"testing"
	"unsafe"

	"github.com/opencontainers/runtime-spec/specs-go"
	libseccomp "github.com/seccomp/libseccomp-golang"
	"golang.org/x/sys/unix"

	"github.com/rtproject/rt/internal/childtest"
	"github.com/rtproject/rt/libcontainer/seccomp"
	"github.com/rtproject/rt/libcontainer/seccomp/seccompagent"
)

// Filters cannot be unloaded, so every test that loads one does it in a
// copy of the test binary (childtest). Children print "key=value" results
// that the parent test asserts on.
func init() {
	for name, f := range map[string]func() error{
		"errno":           childErrno,
		"kill":            childKill,
		"kill-process":    childKillProcess,
		"args":            childArgs,
		"flags":           childFlags,
		"notify":          childNotify,
		"default-profile": childDefaultProfile,
	} {
		childtest.Register(name, f)
	}
}

func TestMain(m *testing.M) { childtest.TestMain(m) }

type childResult struct {
	values map[string]string
	stdout string
	stderr string
	state  *os.ProcessState
	pid    int
}

func runChild(t *testing.T, name string, env ...string) childResult {
	t.Helper()
	r := childtest.Exec(t, name, childtest.Options{Env: env})
	res := childResult{values: map[string]string{}, stdout: r.Stdout, stderr: r.Stderr, state: r.State, pid: r.Pid}
	sc := bufio.NewScanner(strings.NewReader(res.stdout))
	for sc.Scan() {
		if k, v, ok := strings.Cut(sc.Text(), "="); ok {
			res.values[k] = v
		}
	}
	return res
}

func (r childResult) mustSucceed(t *testing.T) {
	t.Helper()
	if !r.state.Success() {
		t.Fatalf("child failed: %v\nstdout:\n%s\nstderr:\n%s", r.state, r.stdout, r.stderr)
	}
}

// expect checks that the child reported key=want.
func (r childResult) expect(t *testing.T, key string, want any) {
	t.Helper()
	if got, ok := r.values[key]; !ok || got != fmt.Sprint(want) {
		t.Errorf("child reported %s=%q, want %v\nstdout:\n%s\nstderr:\n%s", key, got, want, r.stdout, r.stderr)
	}
}

func uintp(v uint) *uint { return &v }

// rawErrno runs a syscall directly, so that the test sees exactly the
// syscall the rule names (Go's os package prefers the *at variants).
func rawErrno(nr uintptr, args ...uintptr) (uintptr, syscall.Errno) {
	var a [3]uintptr
	copy(a[:], args)
	r, _, e := unix.Syscall(nr, a[0], a[1], a[2])
	return r, e
}

func cstr(s string) uintptr {
	p, err := unix.BytePtrFromString(s)
	if err != nil {
		panic(err)
	}
	return uintptr(unsafe.Pointer(p))
}

func report(key string, v any) { fmt.Printf("%s=%v\n", key, v) }

// --- errno and errnoRet ---

func childErrno() error {
	dir := os.Getenv("TEST_DIR")
	// Threads that exist before the load must be filtered too (TSYNC).
	runtime.LockOSThread()
	_, err := seccomp.Load(&specs.LinuxSeccomp{
		DefaultAction: specs.ActAllow,
		Syscalls: []specs.LinuxSyscall{
			{Names: []string{"mkdir", "mkdirat"}, Action: specs.ActErrno},
			{Names: []string{"chmod", "fchmodat"}, Action: specs.ActErrno, ErrnoRet: uintp(uint(unix.ENOTTY))},
			{Names: []string{"rmdir"}, Action: specs.ActErrno, ErrnoRet: uintp(38)},
			{Names: []string{"getpid"}, Action: specs.ActAllow},                          // same as default: skipped
			{Names: []string{"not_a_syscall_anywhere", "umask"}, Action: specs.ActTrace}, // unknown name skipped, umask kept
		},
	})
	if err != nil {
		return err
	}
	_, e := rawErrno(unix.SYS_MKDIR, cstr(filepath.Join(dir, "made")), 0o755)
	report("mkdir", int(e))
	_, e = rawErrno(unix.SYS_CHMOD, cstr(dir), 0o700)
	report("chmod", int(e))
	_, e = rawErrno(unix.SYS_RMDIR, cstr(dir))
	report("rmdir", int(e))
	// No tracer is attached, so SCMP_ACT_TRACE fails the syscall with ENOSYS.
	_, e = rawErrno(unix.SYS_UMASK, 0o22)
	report("umask", int(e))
	report("getpid", unix.Getpid() > 0)
	report("unfiltered_threads", unfilteredThreads())
	return nil
}

// unfilteredThreads counts the threads of this process in seccomp mode 0.
func unfilteredThreads() int {
	tasks, _ := filepath.Glob("/proc/self/task/*/status")
	n := 0
	for _, p := range tasks {
		b, err := os.ReadFile(p)
		if err == nil && !bytes.Contains(b, []byte("\nSeccomp:\t2\n")) {
			n++
		}
	}
	return n
}

func TestKernelLoadErrno(t *testing.T) {
	dir := t.TempDir()
	r := runChild(t, "errno", "TEST_DIR="+dir)
	r.mustSucceed(t)
	r.expect(t, "mkdir", int(unix.EPERM))
	r.expect(t, "chmod", int(unix.ENOTTY))
	r.expect(t, "rmdir", 38)
	r.expect(t, "umask", int(unix.ENOSYS))
	r.expect(t, "getpid", true)
	r.expect(t, "unfiltered_threads", 0)
	if _, err := os.Stat(filepath.Join(dir, "made")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("mkdir was not blocked: stat: %v", err)
	}
	// The test process itself is untouched.
	if err := os.Mkdir(filepath.Join(dir, "parent"), 0o755); err != nil {
		t.Errorf("test process got filtered: %v", err)
	}
}

// --- kill actions ---

func childKill() error {
	if _, err := seccomp.Load(&specs.LinuxSeccomp{
		DefaultAction: specs.ActAllow,
		Syscalls:      []specs.LinuxSyscall{{Names: []string{"mkdir", "mkdirat"}, Action: specs.ActKill}},
	}); err != nil {
		return err
	}
	// SCMP_ACT_KILL kills the thread only; run a single-threaded program so that
	// the process dies with it (as a container's process would).
	unix.Setrlimit(unix.RLIMIT_CORE, &unix.Rlimit{})
	return unix.Exec("/bin/mkdir", []string{"mkdir", filepath.Join(os.Getenv("TEST_DIR"), "made")}, os.Environ())
}

func childKillProcess() error {
	unix.Setrlimit(unix.RLIMIT_CORE, &unix.Rlimit{})
	if _, err := seccomp.Load(&specs.LinuxSeccomp{
		DefaultAction: specs.ActAllow,
		Syscalls:      []specs.LinuxSyscall{{Names: []string{"mkdir"}, Action: specs.ActKillProcess}},
	}); err != nil {
		return err
	}
	rawErrno(unix.SYS_MKDIR, cstr(filepath.Join(os.Getenv("TEST_DIR"), "made")), 0o755)
	report("survived", true)
	return nil
}

func TestKernelLoadKill(t *testing.T) {
	for _, name := range []string{"kill", "kill-process"} {
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			r := runChild(t, name, "TEST_DIR="+dir)
			ws, ok := r.state.Sys().(syscall.WaitStatus)
			if !ok || !ws.Signaled() || ws.Signal() != unix.SIGSYS {
				t.Fatalf("child ended with %v, want killed by SIGSYS\nstdout:\n%s\nstderr:\n%s", r.state, r.stdout, r.stderr)
			}
			if _, err := os.Stat(filepath.Join(dir, "made")); !errors.Is(err, os.ErrNotExist) {
				t.Errorf("mkdir was not blocked: stat: %v", err)
			}
		})
	}
}

// --- argument conditions ---

const personalityQuery = 0xffffffff

func childArgs() error {
	if _, err := seccomp.Load(&specs.LinuxSeccomp{
		DefaultAction: specs.ActAllow,
		Syscalls: []specs.LinuxSyscall{
			// Only the query form of personality is allowed.
			{Names: []string{"personality"}, Action: specs.ActErrno, Args: []specs.LinuxSeccompArg{
				{Index: 0, Value: personalityQuery, Op: specs.OpNotEqual},
			}},
			// Two checks on one argument are ORed: everything but 2 is refused.
			{Names: []string{"setpgid"}, Action: specs.ActErrno, ErrnoRet: uintp(uint(unix.ENOTTY)), Args: []specs.LinuxSeccompArg{
				{Index: 1, Value: 2, Op: specs.OpLessThan}, {Index: 1, Value: 2, Op: specs.OpGreaterThan},
			}},
			// Checks on different arguments are ANDed; MASKED_EQ tests (arg & value) == valueTwo.
			{Names: []string{"getpriority"}, Action: specs.ActErrno, ErrnoRet: uintp(uint(unix.EXDEV)), Args: []specs.LinuxSeccompArg{
				{Index: 0, Value: 0x2, ValueTwo: 0x2, Op: specs.OpMaskedEqual}, {Index: 1, Value: 0, Op: specs.OpEqualTo},
			}},
			{Names: []string{"getpgid"}, Action: specs.ActErrno, Args: []specs.LinuxSeccompArg{
				{Index: 0, Value: 1000, Op: specs.OpGreaterEqual},
			}},
			{Names: []string{"getsid"}, Action: specs.ActErrno, Args: []specs.LinuxSeccompArg{
				{Index: 0, Value: 1000, Op: specs.OpLessEqual},
			}},
			{Names: []string{"kill"}, Action: specs.ActErrno, Args: []specs.LinuxSeccompArg{
				{Index: 1, Value: 0, Op: specs.OpEqualTo},
			}},
		},
	}); err != nil {
		return err
	}
	_, e := rawErrno(unix.SYS_PERSONALITY, personalityQuery)
	report("personality_query", int(e))
	_, e = rawErrno(unix.SYS_PERSONALITY, 0)
	report("personality_0", int(e))
	for _, pgid := range []uintptr{1, 2, 3} {
		// pid 0x7fffffff does not exist: an unfiltered call fails with ESRCH.
		_, e = rawErrno(unix.SYS_SETPGID, 0x7fffffff, pgid)
		report(fmt.Sprintf("setpgid_%d", pgid), int(e))
	}
	_, e = rawErrno(unix.SYS_GETPRIORITY, unix.PRIO_USER, 0)
	report("getpriority_user_0", int(e))
	_, e = rawErrno(unix.SYS_GETPRIORITY, unix.PRIO_PROCESS, 0)
	report("getpriority_process_0", int(e))
	_, e = rawErrno(unix.SYS_GETPRIORITY, unix.PRIO_USER, 0x7ffffffe)
	report("getpriority_user_other", int(e))
	_, e = rawErrno(unix.SYS_GETPGID, 999)
	report("getpgid_999", int(e))
	_, e = rawErrno(unix.SYS_GETPGID, 1000)
	report("getpgid_1000", int(e))
	_, e = rawErrno(unix.SYS_GETSID, 1000)
	report("getsid_1000", int(e))
	_, e = rawErrno(unix.SYS_GETSID, 1001)
	report("getsid_1001", int(e))
	_, e = rawErrno(unix.SYS_KILL, uintptr(unix.Getpid()), 0)
	report("kill_sig0", int(e))
	_, e = rawErrno(unix.SYS_KILL, uintptr(unix.Getpid()), uintptr(unix.SIGURG))
	report("kill_sigurg", int(e))
	return nil
}

func TestKernelLoadArgs(t *testing.T) {
	r := runChild(t, "args")
	r.mustSucceed(t)
	eperm, esrch := int(unix.EPERM), int(unix.ESRCH)
	r.expect(t, "personality_query", 0)
	r.expect(t, "personality_0", eperm)
	r.expect(t, "setpgid_1", int(unix.ENOTTY))
	r.expect(t, "setpgid_2", esrch)
	r.expect(t, "setpgid_3", int(unix.ENOTTY))
	r.expect(t, "getpriority_user_0", int(unix.EXDEV))
	r.expect(t, "getpriority_process_0", 0)
	r.expect(t, "getpriority_user_other", esrch)
	r.expect(t, "getpgid_999", esrch)
	r.expect(t, "getpgid_1000", eperm)
	r.expect(t, "getsid_1000", eperm)
	r.expect(t, "getsid_1001", esrch)
	r.expect(t, "kill_sig0", eperm)
	r.expect(t, "kill_sigurg", 0)
}

// --- flags ---

func childFlags() error {
	if _, err := seccomp.Load(&specs.LinuxSeccomp{
		DefaultAction: specs.ActAllow,
		Flags: []specs.LinuxSeccompFlag{
			"SECCOMP_FILTER_FLAG_TSYNC", specs.LinuxSeccompFlagLog, specs.LinuxSeccompFlagSpecAllow,
			specs.LinuxSeccompFlagWaitKillableRecv, // no notify rule: ignored
		},
		Syscalls: []specs.LinuxSyscall{{Names: []string{"mkdir"}, Action: specs.ActErrno}},
	}); err != nil {
		return err
	}
	_, e := rawErrno(unix.SYS_MKDIR, cstr(filepath.Join(os.TempDir(), "never")), 0o755)
	report("mkdir", int(e))
	return nil
}

func TestKernelLoadFlags(t *testing.T) {
	r := runChild(t, "flags")
	r.mustSucceed(t)
	r.expect(t, "mkdir", int(unix.EPERM))
}

// --- user notification ---

func childNotify() error {
	profile := &specs.LinuxSeccomp{
		DefaultAction:    specs.ActAllow,
		ListenerPath:     os.Getenv("TEST_SOCKET"),
		ListenerMetadata: "agent-metadata",
		Syscalls:         []specs.LinuxSyscall{{Names: []string{"mkdir", "mkdirat"}, Action: specs.ActNotify}},
	}
	if slices.Contains(seccomp.Features().SupportedFlags, string(specs.LinuxSeccompFlagWaitKillableRecv)) { // Linux 5.19
		profile.Flags = append(profile.Flags, specs.LinuxSeccompFlagWaitKillableRecv)
	}
	fd, err := seccomp.Load(profile)
	if err != nil {
		return err
	}
	if fd < 0 {
		return errors.New("Load returned no notify fd")
	}
	state := specs.State{Version: specs.Version, ID: "seccomp-test", Status: specs.StateCreating, Pid: os.Getpid(), Bundle: "/bundle"}
	if err := seccomp.SendListener(profile.ListenerPath, profile.ListenerMetadata, state, fd); err != nil {
		return err
	}
	unix.Close(fd)
	r, e := rawErrno(unix.SYS_MKDIR, cstr(filepath.Join(os.Getenv("TEST_DIR"), "made")), 0o755)
	report("mkdir_errno", int(e))
	report("mkdir_ret", r)
	_, e = rawErrno(unix.SYS_MKDIR, cstr(filepath.Join(os.Getenv("TEST_DIR"), "refused")), 0o755)
	report("mkdir_refused_errno", int(e))
	return nil
}

func TestKernelLoadNotify(t *testing.T) {
	dir := t.TempDir()
	sock := filepath.Join(dir, "agent.sock")
	var seen []string
	agent, err := seccompagent.Start(sock, func(st *specs.ContainerProcessState, req *libseccomp.ScmpNotifReq) libseccomp.ScmpNotifResp {
		name, _ := req.Data.Syscall.GetName()
		seen = append(seen, name)
		// Pretend to have made the first directory; refuse the second.
		if len(seen) == 1 {
			return libseccomp.ScmpNotifResp{Val: 0}
		}
		return libseccomp.ScmpNotifResp{Error: int32(unix.EROFS)}
	})
	if err != nil {
		t.Fatal(err)
	}
	r := runChild(t, "notify", "TEST_DIR="+dir, "TEST_SOCKET="+sock)
	if err := agent.Close(); err != nil {
		t.Errorf("agent: %v", err)
	}
	r.mustSucceed(t)
	r.expect(t, "mkdir_errno", 0)
	r.expect(t, "mkdir_ret", 0)
	r.expect(t, "mkdir_refused_errno", int(unix.EROFS))
	if _, err := os.Stat(filepath.Join(dir, "made")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("the kernel ran mkdir instead of the agent answering it: stat: %v", err)
	}
	if !slices.Equal(seen, []string{"mkdir", "mkdir"}) {
		t.Errorf("agent saw syscalls %q, want two mkdir", seen)
	}
	states := agent.States()
	if len(states) != 1 {
		t.Fatalf("agent got %d container process states, want 1", len(states))
	}
	st := states[0]
	if !slices.Equal(st.Fds, []string{"seccompFd"}) || st.Metadata != "agent-metadata" || st.Pid != r.pid ||
		st.State.ID != "seccomp-test" || st.State.Pid != r.pid || st.State.Status != specs.StateCreating || st.Version != specs.Version {
		b, _ := json.Marshal(st)
		t.Errorf("container process state %s does not match the child (pid %d)", b, r.pid)
	}
}

// --- docker's default profile ---

func childDefaultProfile() error {
	b, err := os.ReadFile("testdata/default.json")
	if err != nil {
		return err
	}
	var profile specs.LinuxSeccomp
	if err := json.Unmarshal(b, &profile); err != nil {
		return err
	}
	// The container side of process.noNewPrivileges=true: no CAP_SYS_ADMIN needed then.
	if err := unix.Prctl(unix.PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0); err != nil {
		return err
	}
	if _, err := seccomp.Load(&profile); err != nil {
		return err
	}
	report("unshare", int(errnoOf(unix.Unshare(unix.CLONE_NEWUTS))))
	_, e := rawErrno(unix.SYS_CLONE3, 0, 0)
	report("clone3", int(e))
	// Newer than every syscall the profile names: the ENOSYS stub's.
	_, e = rawErrno(1000, 0xdeadbeef)
	report("syscall1000", int(e))
	// Older, not allowed: the profile's default errno.
	_, e = rawErrno(unix.SYS_ACCT, 0)
	report("acct", int(e))
	report("mount", int(errnoOf(unix.Mount("none", os.TempDir(), "tmpfs", 0, ""))))
	report("socket_unix", int(errnoOf(closeFd(unix.Socket(unix.AF_UNIX, unix.SOCK_STREAM, 0)))))
	report("socket_vsock", int(errnoOf(closeFd(unix.Socket(unix.AF_VSOCK, unix.SOCK_STREAM, 0)))))
	shell := "/bin/sh"
	if _, err := os.Stat("/bin/busybox"); err == nil {
		shell = "/bin/busybox"
	}
	dir := os.Getenv("TEST_DIR")
	script := `set -e; ls / >/dev/null; mkdir "$D/x"; echo hello > "$D/x/f"; cat "$D/x/f"; rm -r "$D/x"; /bin/true; echo done=1`
	args := []string{"sh", "-c", script}
	if shell == "/bin/busybox" {
		args = append([]string{"busybox"}, args...)
	}
	return unix.Exec(shell, args, append(os.Environ(), "D="+dir))
}

func errnoOf(err error) syscall.Errno {
	var e syscall.Errno
	if errors.As(err, &e) {
		return e
	}
	return 0
}

func closeFd(fd int, err error) error {
	if err == nil {
		unix.Close(fd)
	}
	return err
}

func TestKernelLoadDefaultProfile(t *testing.T) {
	dir := t.TempDir()
	r := runChild(t, "default-profile", "TEST_DIR="+dir)
	r.mustSucceed(t)
	r.expect(t, "unshare", int(unix.EPERM))
	r.expect(t, "clone3", int(unix.ENOSYS))
	r.expect(t, "syscall1000", int(unix.ENOSYS))
	r.expect(t, "acct", int(unix.EPERM))
	r.expect(t, "mount", int(unix.EPERM))
	r.expect(t, "socket_unix", 0)
	r.expect(t, "socket_vsock", int(unix.EPERM))
	r.expect(t, "done", 1)
	if !strings.Contains(r.stdout, "hello\n") {
		t.Errorf("shell output %q lacks the file it wrote", r.stdout)
	}
}
