package integration

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	libseccomp "github.com/seccomp/libseccomp-golang"
	"golang.org/x/sys/unix"

	"github.com/rtproject/rt/libcontainer/seccomp/seccompagent"
)

func errnoRet(e unix.Errno) *uint {
	v := uint(e)
	return &v
}

// allowExcept is a profile that allows everything but the given rules.
func allowExcept(rules ...specs.LinuxSyscall) *specs.LinuxSeccomp {
	return &specs.LinuxSeccomp{DefaultAction: specs.ActAllow, Syscalls: rules}
}

// defaultProfile is the default-deny profile docker and containerd ship.
func defaultProfile(t *testing.T) *specs.LinuxSeccomp {
	t.Helper()
	data, err := os.ReadFile("../../libcontainer/seccomp/testdata/default.json")
	if err != nil {
		t.Fatal(err)
	}
	var p specs.LinuxSeccomp
	if err := json.Unmarshal(data, &p); err != nil {
		t.Fatalf("default.json: %v", err)
	}
	return &p
}

// procStatus returns the fields of /proc/<pid>/status.
func procStatus(t *testing.T, pid int) map[string]string {
	t.Helper()
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		t.Fatal(err)
	}
	m := map[string]string{}
	for _, line := range strings.Split(string(data), "\n") {
		k, v, ok := strings.Cut(line, ":")
		if ok {
			m[k] = strings.TrimSpace(v)
		}
	}
	return m
}

// checkFilterLoaded checks from outside that the created container's init
// runs in seccomp filter mode with the expected no_new_privs bit.
func checkFilterLoaded(t *testing.T, b *bundle, nnp bool) {
	t.Helper()
	st := procStatus(t, b.pid())
	if st["Seccomp"] != "2" {
		t.Errorf("/proc/%d/status Seccomp: %q, want 2 (filter)", b.pid(), st["Seccomp"])
	}
	if st["Seccomp_filters"] != "1" {
		t.Errorf("/proc/%d/status Seccomp_filters: %q, want 1", b.pid(), st["Seccomp_filters"])
	}
	want := "0"
	if nnp {
		want = "1"
	}
	if st["NoNewPrivs"] != want {
		t.Errorf("/proc/%d/status NoNewPrivs: %q, want %s", b.pid(), st["NoNewPrivs"], want)
	}
}

// runSeccomp runs args under profile with the given no_new_privs setting,
// first created (to check the filter from outside), then started; it
// returns what the container printed.
func runSeccomp(t *testing.T, profile *specs.LinuxSeccomp, nnp bool, args ...string) result {
	t.Helper()
	b := newBundle(t, "sh", "-c", `"$@" >/out 2>&1; echo "exit=$?" >>/out`, "sh")
	b.Spec.Process.Args = append(b.Spec.Process.Args, args...)
	b.Spec.Root.Readonly = false
	b.Spec.Process.NoNewPrivileges = nnp
	b.Spec.Linux.Seccomp = profile
	b.create()
	checkFilterLoaded(t, b, nnp)
	b.mustRT("start", b.ID)
	b.waitStatus("stopped")
	out, err := os.ReadFile(filepath.Join(b.Rootfs, "out"))
	if err != nil {
		t.Fatal(err)
	}
	b.remove()
	i := strings.LastIndex(string(out), "exit=")
	if i < 0 {
		t.Fatalf("container output %q lacks the exit line", out)
	}
	r := result{Stdout: string(out[:i])}
	fmt.Sscan(string(out[i+len("exit="):]), &r.Code)
	return r
}

func TestSeccompErrno(t *testing.T) {
	profile := allowExcept(
		specs.LinuxSyscall{Names: []string{"mkdir", "mkdirat"}, Action: specs.ActErrno, ErrnoRet: errnoRet(unix.EPERM)},
		specs.LinuxSyscall{Names: []string{"chmod", "fchmodat", "fchmodat2"}, Action: specs.ActErrno, ErrnoRet: errnoRet(unix.ENOSYS)},
		specs.LinuxSyscall{Names: []string{"rmdir"}, Action: specs.ActErrno, ErrnoRet: errnoRet(unix.ENOTTY)},
	)
	tests := []struct {
		name string
		args []string
		code int
		out  string
	}{
		{"mkdir EPERM", []string{"mkdir", "/tmp/d"}, 1, "Operation not permitted"},
		{"chmod ENOSYS", []string{"chmod", "700", "/tmp"}, 1, "Function not implemented"},
		{"rmdir ENOTTY", []string{"rmdir", "/tmp"}, 1, "Inappropriate ioctl for device"},
		{"others allowed", []string{"sh", "-c", "touch /tmp/f && ls /tmp && echo a | cat"}, 0, "f\na\n"},
	}
	for _, nnp := range []bool{true, false} {
		for _, tc := range tests {
			t.Run(fmt.Sprintf("%s/nnp=%v", tc.name, nnp), func(t *testing.T) {
				r := runSeccomp(t, profile, nnp, tc.args...)
				if r.Code != tc.code || !strings.Contains(r.Stdout, tc.out) {
					t.Fatalf("%v: exit %d, output %q; want exit %d, output containing %q", tc.args, r.Code, r.Stdout, tc.code, tc.out)
				}
			})
		}
	}
}

func TestSeccompKill(t *testing.T) {
	for _, action := range []specs.LinuxSeccompAction{specs.ActKill, specs.ActKillProcess, specs.ActKillThread} {
		t.Run(string(action), func(t *testing.T) {
			// mkdir is the container's init itself: rt run reports 128+SIGSYS.
			b := newBundle(t, "mkdir", "/tmp/d")
			b.Spec.Root.Readonly = false
			b.Spec.Linux.Seccomp = allowExcept(specs.LinuxSyscall{Names: []string{"mkdir", "mkdirat"}, Action: action})
			r := b.run()
			if r.Code != 128+int(unix.SIGSYS) {
				t.Fatalf("rt run: %s, want exit %d (SIGSYS)", r, 128+int(unix.SIGSYS))
			}
			if _, err := os.Stat(filepath.Join(b.Rootfs, "tmp/d")); err == nil {
				t.Errorf("killed mkdir created the directory")
			}
			assertNoLeaks(t, b, 0)
		})
	}
	t.Run("child seen from the shell", func(t *testing.T) {
		r := runSeccomp(t, allowExcept(specs.LinuxSyscall{Names: []string{"mkdir", "mkdirat"}, Action: specs.ActKill}), true,
			"sh", "-c", "/bin/mkdir /tmp/d; echo code=$?")
		if !strings.Contains(r.Stdout, fmt.Sprintf("code=%d", 128+int(unix.SIGSYS))) {
			t.Fatalf("shell saw %q, want code=%d", r.Stdout, 128+int(unix.SIGSYS))
		}
	})
}

// TestSeccompArgs allows personality(2) only for PER_LINUX32 (8): busybox
// linux32 calls personality(8), linux64 personality(0).
func TestSeccompArgs(t *testing.T) {
	const perLinux32 = 8
	profiles := map[string]*specs.LinuxSeccomp{
		"SCMP_CMP_NE errno": allowExcept(specs.LinuxSyscall{Names: []string{"personality"}, Action: specs.ActErrno, ErrnoRet: errnoRet(unix.EPERM),
			Args: []specs.LinuxSeccompArg{{Index: 0, Value: perLinux32, Op: specs.OpNotEqual}}}),
		"SCMP_CMP_MASKED_EQ errno": allowExcept(specs.LinuxSyscall{Names: []string{"personality"}, Action: specs.ActErrno, ErrnoRet: errnoRet(unix.EPERM),
			Args: []specs.LinuxSeccompArg{{Index: 0, Value: 0xff, ValueTwo: 0, Op: specs.OpMaskedEqual}}}),
		// The default-deny profile lists the personalities it allows with SCMP_CMP_EQ;
		// 0xffff (PER_MASK) is not among them.
		"default profile": defaultProfile(t),
	}
	for name, p := range profiles {
		t.Run(name, func(t *testing.T) {
			if r := runSeccomp(t, p, true, "linux32", "uname", "-m"); r.Code != 0 || strings.TrimSpace(r.Stdout) != "i686" {
				t.Errorf("linux32 uname -m: exit %d, %q; want i686", r.Code, r.Stdout)
			}
			if name == "default profile" {
				// personality(0) is allowed too; only odd values are refused.
				if r := runSeccomp(t, p, true, "linux64", "uname", "-m"); r.Code != 0 || strings.TrimSpace(r.Stdout) != "x86_64" {
					t.Errorf("linux64 uname -m: exit %d, %q; want x86_64", r.Code, r.Stdout)
				}
				return
			}
			if r := runSeccomp(t, p, true, "linux64", "uname", "-m"); r.Code == 0 || !strings.Contains(r.Stdout, "Operation not permitted") {
				t.Errorf("linux64 uname -m: exit %d, %q; want personality EPERM", r.Code, r.Stdout)
			}
		})
	}
}

func TestSeccompDefaultProfile(t *testing.T) {
	script := `set -e
ls / >/dev/null
echo hello | cat | tr a-z A-Z
mkdir -p /dev/shm/a/b && ls -d /dev/shm/a/b
for c in "unshare -m true" "mount -t tmpfs none /mnt"; do
	if $c 2>/dev/null; then echo "$c: allowed"; else echo "$c: denied"; fi
done`
	// CAP_SYS_ADMIN is granted so that only the filter can refuse unshare and mount.
	withAdmin := func(b *bundle) {
		c := b.Spec.Process.Capabilities
		c.Bounding = append(c.Bounding, "CAP_SYS_ADMIN")
		c.Effective = append(c.Effective, "CAP_SYS_ADMIN")
		c.Permitted = append(c.Permitted, "CAP_SYS_ADMIN")
	}
	tests := []struct {
		name    string
		profile bool
		nnp     bool
		uid     uint32
		want    string
	}{
		{"no profile", false, true, 0, "unshare -m true: allowed\nmount -t tmpfs none /mnt: allowed"},
		{"nnp=true", true, true, 0, "unshare -m true: denied\nmount -t tmpfs none /mnt: denied"},
		{"nnp=false", true, false, 0, "unshare -m true: denied\nmount -t tmpfs none /mnt: denied"},
		// Without no_new_privs the filter is loaded before the user switch:
		// init's setgroups/setresuid/capset must still get through it.
		{"nnp=false uid 65534", true, false, 65534, "unshare -m true: denied\nmount -t tmpfs none /mnt: denied"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			b := newBundle(t, "sh", "-c", script)
			withAdmin(b)
			b.Spec.Process.NoNewPrivileges = tc.nnp
			b.Spec.Process.User = specs.User{UID: tc.uid, GID: tc.uid}
			if tc.profile {
				b.Spec.Linux.Seccomp = defaultProfile(t)
			}
			b.Spec.Mounts = append(b.Spec.Mounts, specs.Mount{Destination: "/mnt", Type: "tmpfs", Source: "tmpfs"})
			r := b.run()
			want := "HELLO\n/dev/shm/a/b\n" + tc.want + "\n"
			if r.Code != 0 || r.Stdout != want {
				t.Fatalf("rt run: %s\nwant stdout %q", r, want)
			}
			assertNoLeaks(t, b, 0)
		})
	}
}

func TestSeccompFlags(t *testing.T) {
	for _, flags := range [][]specs.LinuxSeccompFlag{
		{specs.LinuxSeccompFlagLog},
		{specs.LinuxSeccompFlagSpecAllow},
		{specs.LinuxSeccompFlagLog, specs.LinuxSeccompFlagSpecAllow},
	} {
		t.Run(fmt.Sprint(flags), func(t *testing.T) {
			p := allowExcept(specs.LinuxSyscall{Names: []string{"mkdir", "mkdirat"}, Action: specs.ActErrno, ErrnoRet: errnoRet(unix.EPERM)})
			p.Flags = flags
			if r := runSeccomp(t, p, true, "mkdir", "/tmp/d"); r.Code != 1 || !strings.Contains(r.Stdout, "Operation not permitted") {
				t.Fatalf("mkdir: exit %d, %q; want EPERM", r.Code, r.Stdout)
			}
		})
	}
}

func TestSeccompNotify(t *testing.T) {
	for _, nnp := range []bool{true, false} {
		t.Run(fmt.Sprintf("nnp=%v", nnp), func(t *testing.T) {
			var mu sync.Mutex
			var seen []string
			sock := filepath.Join(workDir, fmt.Sprintf("agent%d.sock", seq.Add(1)))
			// The agent fakes success for mkdir without making anything.
			agent, err := seccompagent.Start(sock, func(st *specs.ContainerProcessState, req *libseccomp.ScmpNotifReq) libseccomp.ScmpNotifResp {
				name, _ := req.Data.Syscall.GetName()
				mu.Lock()
				seen = append(seen, name)
				mu.Unlock()
				if name == "mkdir" || name == "mkdirat" {
					return libseccomp.ScmpNotifResp{}
				}
				return libseccomp.ScmpNotifResp{Error: int32(unix.ENOSYS)}
			})
			if err != nil {
				t.Fatal(err)
			}
			defer os.Remove(sock)
			closed := false
			defer func() {
				if !closed {
					agent.Close()
				}
			}()

			b := newBundle(t, "sh", "-c", `mkdir /tmp/fake && echo mkdir-ok >/out; ls /tmp >>/out`)
			b.Spec.Root.Readonly = false
			b.Spec.Process.NoNewPrivileges = nnp
			b.Spec.Linux.Seccomp = allowExcept(specs.LinuxSyscall{Names: []string{"mkdir", "mkdirat"}, Action: specs.ActNotify})
			b.Spec.Linux.Seccomp.ListenerPath = sock
			b.Spec.Linux.Seccomp.ListenerMetadata = "test-metadata"
			b.Spec.Annotations = map[string]string{"org.example.seccomp": "yes"}
			b.create()
			checkFilterLoaded(t, b, nnp)

			states := agent.States()
			if len(states) != 1 {
				t.Fatalf("agent received %d container process states, want 1", len(states))
			}
			st := states[0]
			if st.Metadata != "test-metadata" || !slices.Equal(st.Fds, []string{specs.SeccompFdName}) || st.Version == "" {
				t.Errorf("container process state: metadata %q, fds %q, version %q", st.Metadata, st.Fds, st.Version)
			}
			if st.State.ID != b.ID || st.State.Status != specs.StateCreating || st.State.Bundle != b.Dir ||
				st.State.Pid != b.pid() || st.Pid != b.pid() || st.State.Annotations["org.example.seccomp"] != "yes" {
				t.Errorf("state sent to the agent: %+v (pid %d); want id %s, status creating, bundle %s, pid %d", st.State, st.Pid, b.ID, b.Dir, b.pid())
			}

			b.mustRT("start", b.ID)
			b.waitStatus("stopped")
			out, _ := os.ReadFile(filepath.Join(b.Rootfs, "out"))
			if string(out) != "mkdir-ok\n" {
				t.Errorf("container output %q, want mkdir-ok and an empty /tmp", out)
			}
			if _, err := os.Stat(filepath.Join(b.Rootfs, "tmp/fake")); err == nil {
				t.Errorf("the faked mkdir made /tmp/fake")
			}
			b.remove()
			closed = true
			if err := agent.Close(); err != nil {
				t.Errorf("agent: %v", err)
			}
			mu.Lock()
			defer mu.Unlock()
			if !slices.ContainsFunc(seen, func(s string) bool { return s == "mkdir" || s == "mkdirat" }) || slices.ContainsFunc(seen, func(s string) bool { return s != "mkdir" && s != "mkdirat" }) {
				t.Errorf("agent was notified of %q, want mkdir only", seen)
			}
		})
	}
}

func TestSeccompInvalidProfile(t *testing.T) {
	notify := specs.LinuxSyscall{Names: []string{"mkdir"}, Action: specs.ActNotify}
	tests := []struct {
		name    string
		profile *specs.LinuxSeccomp
		field   string
	}{
		{"unknown action", allowExcept(specs.LinuxSyscall{Names: []string{"mkdir"}, Action: "SCMP_ACT_FOO"}), "linux.seccomp.syscalls[0].action"},
		{"unknown default action", &specs.LinuxSeccomp{DefaultAction: "SCMP_ACT_BAR"}, "linux.seccomp.defaultAction"},
		{"unknown arch", &specs.LinuxSeccomp{DefaultAction: specs.ActAllow, Architectures: []specs.Arch{specs.ArchX86_64, "SCMP_ARCH_PDP11"}}, "linux.seccomp.architectures[1]"},
		// Known, but of the other endianness: libseccomp cannot filter it here.
		{"foreign arch", &specs.LinuxSeccomp{DefaultAction: specs.ActAllow, Architectures: []specs.Arch{specs.ArchX86_64, specs.ArchS390X}}, "linux.seccomp.architectures[1]"},
		{"bad operator", allowExcept(specs.LinuxSyscall{Names: []string{"personality"}, Action: specs.ActErrno,
			Args: []specs.LinuxSeccompArg{{Index: 0, Value: 8, Op: "SCMP_CMP_ALMOST"}}}), "linux.seccomp.syscalls[0].args[0].op"},
		{"unknown flag", &specs.LinuxSeccomp{DefaultAction: specs.ActAllow, Flags: []specs.LinuxSeccompFlag{"SECCOMP_FILTER_FLAG_FOO"}}, "linux.seccomp.flags[0]"},
		{"errnoRet on allow", allowExcept(specs.LinuxSyscall{Names: []string{"mkdir"}, Action: specs.ActAllow, ErrnoRet: errnoRet(unix.EPERM)}), "linux.seccomp.syscalls[0].errnoRet"},
		{"notify without listenerPath", allowExcept(notify), "linux.seccomp.listenerPath"},
		// Valid, but nobody listens there: create fails once init has loaded the filter.
		{"listener absent", &specs.LinuxSeccomp{DefaultAction: specs.ActAllow, Syscalls: []specs.LinuxSyscall{notify},
			ListenerPath: "/nonexistent/agent.sock"}, "linux.seccomp.listenerPath"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			b := newBundle(t, "true")
			b.Spec.Linux.Seccomp = tc.profile
			b.write()
			r := b.rt("create", "--bundle", b.Dir, b.ID)
			if r.Code == 0 {
				t.Fatalf("create succeeded with an invalid profile")
			}
			if !strings.Contains(r.Stderr, tc.field) {
				t.Errorf("create error %q does not name %s", r.Stderr, tc.field)
			}
			if s := b.rt("state", b.ID); s.Code == 0 {
				t.Errorf("state after failed create: %s", s)
			}
			assertNoLeaks(t, b, 0)
		})
	}
}

// TestSeccompDenyingNewMountAPI: a profile that denies openat2 and the new
// mount API (runc's "verify syscall compatibility" test) does not keep rt
// from starting the process, with or without no_new_privs: everything rt
// needs of them happens before the filter is loaded.
func TestSeccompDenyingNewMountAPI(t *testing.T) {
	for _, nnp := range []bool{false, true} {
		b := newBundle(t, "true")
		b.Spec.Process.NoNewPrivileges = nnp
		enosys := uint(38)
		b.Spec.Linux.Seccomp = &specs.LinuxSeccomp{
			DefaultAction: specs.ActAllow,
			Syscalls: []specs.LinuxSyscall{{
				Names:  []string{"close_range", "fsopen", "fsconfig", "fspick", "openat2", "open_tree", "move_mount", "mount_setattr"},
				Action: specs.ActErrno, ErrnoRet: &enosys,
			}},
		}
		if r := b.run(); r.Code != 0 {
			t.Errorf("noNewPrivileges %t: %s", nnp, r)
		}
		assertNoLeaks(t, b, 0)
	}
}
