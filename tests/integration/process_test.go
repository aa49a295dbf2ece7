package integration

import (
	"fmt"
	"os"
	"os/exec"
	"strings"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

// statusFields returns the named fields of a /proc/<pid>/status dump.
func statusFields(status string, names ...string) map[string]string {
	m := map[string]string{}
	for _, l := range strings.Split(status, "\n") {
		k, v, ok := strings.Cut(l, ":")
		if !ok {
			continue
		}
		for _, n := range names {
			if k == n {
				m[n] = strings.TrimSpace(v)
			}
		}
	}
	return m
}

func TestProcessUserUmaskCwdEnv(t *testing.T) {
	b := newBundle(t, "sh", "-c", `id; umask; pwd; echo "FOO=$FOO HOME=$HOME"; ls -ld /work/dir | cut -c1-10`)
	b.Spec.Process.User = specs.User{UID: 1000, GID: 1001, AdditionalGids: []uint32{10, 20}}
	umask := uint32(0o027)
	b.Spec.Process.User.Umask = &umask
	b.Spec.Process.Cwd = "/work/dir"
	b.Spec.Process.Env = append(b.Spec.Process.Env, "FOO=bar baz")
	out := b.output()
	for _, w := range []string{"uid=1000 gid=1001 groups=10,20", "0027", "/work/dir", "FOO=bar baz HOME=/", "drwxr-xr-x"} {
		if !strings.Contains(out, w) {
			t.Errorf("output lacks %q:\n%s", w, out)
		}
	}
	if strings.Contains(out, "groups=0") || strings.Contains(out, ",0") {
		t.Errorf("supplementary group 0 kept: %s", out)
	}
}

func TestProcessCapabilities(t *testing.T) {
	b := newBundle(t, "sh", "-c", `grep ^Cap /proc/self/status`)
	b.Spec.Process.NoNewPrivileges = false
	b.Spec.Process.User = specs.User{UID: 1000, GID: 1000}
	b.Spec.Process.Capabilities = &specs.LinuxCapabilities{
		Bounding:    []string{"CAP_CHOWN", "CAP_KILL", "CAP_NET_RAW", "CAP_SYS_TIME"},
		Effective:   []string{"CAP_CHOWN", "CAP_KILL"},
		Permitted:   []string{"CAP_CHOWN", "CAP_KILL", "CAP_NET_RAW"},
		Inheritable: []string{"CAP_KILL", "CAP_NET_RAW"},
		Ambient:     []string{"CAP_KILL", "CAP_NET_RAW"},
	}
	out := b.output()
	bit := func(names ...int) string {
		var v uint64
		for _, n := range names {
			v |= 1 << n
		}
		return fmt.Sprintf("%016x", v)
	}
	const chown, kill, netRaw, sysTime = 0, 5, 13, 25
	// A non-root exec keeps only the ambient set in permitted and effective.
	want := map[string]string{
		"CapBnd": bit(chown, kill, netRaw, sysTime),
		"CapInh": bit(kill, netRaw),
		"CapAmb": bit(kill, netRaw),
		"CapPrm": bit(kill, netRaw),
		"CapEff": bit(kill, netRaw),
	}
	got := statusFields(out, "CapBnd", "CapInh", "CapAmb", "CapPrm", "CapEff")
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s = %s, want %s", k, got[k], v)
		}
	}

	// As root, the kernel raises effective to the whole permitted set at
	// exec; no_new_privs keeps permitted from growing past the spec's.
	b = newBundle(t, "sh", "-c", `grep ^Cap /proc/self/status`)
	b.Spec.Process.Capabilities = &specs.LinuxCapabilities{
		Bounding:  []string{"CAP_CHOWN", "CAP_KILL", "CAP_NET_RAW"},
		Effective: []string{"CAP_CHOWN"},
		Permitted: []string{"CAP_CHOWN", "CAP_KILL"},
	}
	got = statusFields(b.output(), "CapBnd", "CapInh", "CapAmb", "CapPrm", "CapEff")
	want = map[string]string{"CapBnd": bit(chown, kill, netRaw), "CapInh": bit(), "CapAmb": bit(), "CapPrm": bit(chown, kill), "CapEff": bit(chown, kill)}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("root: %s = %s, want %s", k, got[k], v)
		}
	}
}

func TestProcessRlimits(t *testing.T) {
	b := newBundle(t, "sh", "-c", `ulimit -n; ulimit -Hn; ulimit -u`)
	b.Spec.Process.Rlimits = []specs.POSIXRlimit{
		{Type: "RLIMIT_NOFILE", Soft: 321, Hard: 654},
		{Type: "RLIMIT_NPROC", Soft: 77, Hard: 77},
	}
	if out := b.output(); out != "321\n654\n77\n" {
		t.Errorf("ulimits inside: %q", out)
	}

	// A low RLIMIT_AS must not keep the seccomp filter from being built.
	b = newBundle(t, "sh", "-c", `ulimit -v`)
	b.Spec.Process.Rlimits = []specs.POSIXRlimit{{Type: "RLIMIT_AS", Soft: 1 << 30, Hard: 2 << 30}}
	b.Spec.Linux.Seccomp = &specs.LinuxSeccomp{DefaultAction: specs.ActAllow, Syscalls: []specs.LinuxSyscall{
		{Names: []string{"getegid32", "kexec_load"}, Action: specs.ActErrno}}}
	if out := b.output(); out != "1048576\n" {
		t.Errorf("ulimit -v with RLIMIT_AS 1 GiB: %q", out)
	}

	var cur unix.Rlimit
	unix.Getrlimit(unix.RLIMIT_NOFILE, &cur)
	b = newBundle(t)
	b.Spec.Process.Rlimits = []specs.POSIXRlimit{{Type: "RLIMIT_NOFILE", Soft: 1024, Hard: cur.Max + 1}}
	b.write()
	r := b.rt("create", "--bundle", b.Dir, b.ID)
	if r.Code == 0 || !strings.Contains(r.Stderr, "process.rlimits[0]") || !strings.Contains(r.Stderr, "operation not permitted") {
		t.Errorf("rlimit above the hard limit: %s", r)
	}
	assertNoLeaks(t, b, 0)
}

func TestNoNewPrivileges(t *testing.T) {
	for _, nnp := range []bool{true, false} {
		b := newBundle(t, "grep", "NoNewPrivs", "/proc/self/status")
		b.Spec.Process.NoNewPrivileges = nnp
		want := "0"
		if nnp {
			want = "1"
		}
		if got := statusFields(b.output(), "NoNewPrivs")["NoNewPrivs"]; got != want {
			t.Errorf("noNewPrivileges %v: NoNewPrivs %s", nnp, got)
		}
	}
}

// startEdited creates and starts a container that sleeps, for checks from outside.
func startEdited(t *testing.T, edit func(*specs.Spec)) (*bundle, int) {
	t.Helper()
	b := newBundle(t, "sleep", "100")
	edit(b.Spec)
	b.create()
	b.mustRT("start", b.ID)
	b.waitStatus("running")
	return b, b.pid()
}

func TestOOMScoreAdj(t *testing.T) {
	adj := 423
	b, pid := startEdited(t, func(s *specs.Spec) { s.Process.OOMScoreAdj = &adj })
	data, _ := os.ReadFile(fmt.Sprintf("/proc/%d/oom_score_adj", pid))
	if strings.TrimSpace(string(data)) != "423" {
		t.Errorf("oom_score_adj from outside: %q", data)
	}
	b.remove()

	neg := -500
	b = newBundle(t)
	b.Spec.Process.OOMScoreAdj = &neg
	b.write()
	r := b.rt("create", "--bundle", b.Dir, b.ID)
	if r.Code == 0 || !strings.Contains(r.Stderr, "process.oomScoreAdj") || !strings.Contains(r.Stderr, "CAP_SYS_RESOURCE") {
		t.Errorf("negative oomScoreAdj: %s", r)
	}
	assertNoLeaks(t, b, 0)
}

func TestSchedulerAndIOPriority(t *testing.T) {
	tests := []struct {
		policy specs.LinuxSchedulerPolicy
		want   uint32
		nice   int32
	}{
		{specs.SchedBatch, unix.SCHED_BATCH, 7},
		{specs.SchedIdle, unix.SCHED_IDLE, 0},
	}
	for _, tc := range tests {
		t.Run(string(tc.policy), func(t *testing.T) {
			b, pid := startEdited(t, func(s *specs.Spec) {
				s.Process.Scheduler = &specs.Scheduler{Policy: tc.policy, Nice: tc.nice}
				s.Process.IOPriority = &specs.LinuxIOPriority{Class: specs.IOPRIO_CLASS_BE, Priority: 6}
			})
			defer b.remove()
			attr, err := unix.SchedGetAttr(pid, 0)
			if err != nil {
				t.Fatal(err)
			}
			if attr.Policy != tc.want || attr.Nice != tc.nice {
				t.Errorf("sched_getattr: policy %d nice %d, want %d %d", attr.Policy, attr.Nice, tc.want, tc.nice)
			}
			const ioprioWhoProcess, classShift = 1, 13
			prio, _, errno := unix.Syscall(unix.SYS_IOPRIO_GET, ioprioWhoProcess, uintptr(pid), 0)
			if errno != 0 {
				t.Fatal(errno)
			}
			if want := uintptr(2<<classShift | 6); prio != want {
				t.Errorf("ioprio_get: %#x, want %#x (BE, 6)", prio, want)
			}
		})
	}
}

func TestApparmorAndSelinuxWhenDisabled(t *testing.T) {
	b := newBundle(t)
	b.Spec.Process.ApparmorProfile = "rt-test-profile"
	b.write()
	r := b.rt("create", "--bundle", b.Dir, b.ID)
	if r.Code == 0 || !strings.Contains(r.Stderr, "process.apparmorProfile") || !strings.Contains(r.Stderr, "not enabled") {
		t.Errorf("apparmorProfile without AppArmor: %s", r)
	}
	assertNoLeaks(t, b, 0)

	// A process label cannot be honoured without SELinux: a clear error.
	b = newBundle(t)
	b.Spec.Process.SelinuxLabel = "system_u:system_r:container_t:s0:c1,c2"
	b.write()
	r = b.rt("create", "--bundle", b.Dir, b.ID)
	if r.Code == 0 || !strings.Contains(r.Stderr, "process.selinuxLabel") || !strings.Contains(r.Stderr, "not enabled") {
		t.Errorf("selinuxLabel without SELinux: %s", r)
	}
	assertNoLeaks(t, b, 0)

	// The mount label is ignored, as masked paths already do and as runc
	// does: filesystems reject context= without SELinux.
	b = newBundle(t, "echo", "ran")
	b.Spec.Linux.MountLabel = "system_u:object_r:container_file_t:s0:c1,c2"
	if out := b.output(); out != "ran\n" {
		t.Errorf("mountLabel with SELinux off: %q", out)
	}
}

func TestSessionKeyring(t *testing.T) {
	unmaskKeys := func(s *specs.Spec) {
		var kept []string
		for _, p := range s.Linux.MaskedPaths {
			if p != "/proc/keys" {
				kept = append(kept, p)
			}
		}
		s.Linux.MaskedPaths = kept
	}
	b := newBundle(t, "sh", "-c", `grep keyring /proc/keys; echo done`)
	unmaskKeys(b.Spec)
	if out := b.output(); !strings.Contains(out, "_ses."+b.ID) {
		t.Errorf("no session keyring _ses.%s inside:\n%s", b.ID, out)
	}

	b = newBundle(t, "sh", "-c", `grep keyring /proc/keys; echo done`)
	unmaskKeys(b.Spec)
	if out := b.output("--no-new-keyring"); strings.Contains(out, "_ses."+b.ID) {
		t.Errorf("session keyring with --no-new-keyring:\n%s", out)
	}
}

func TestFileDescriptors(t *testing.T) {
	// A file the test holds without close-on-exec: rt inherits it, the container must not.
	leak, err := os.Open("/etc/hostname")
	if err != nil {
		t.Fatal(err)
	}
	defer leak.Close()
	if _, err := unix.FcntlInt(leak.Fd(), unix.F_SETFD, 0); err != nil {
		t.Fatal(err)
	}
	b := newBundle(t, "sh", "-c", `ls /proc/self/fd | tr '\n' ' '`)
	r := runRTWith(b, nil, "run", "--bundle", b.Dir, b.ID)
	if r.Code != 0 {
		t.Fatalf("run: %s", r)
	}
	// ls itself opens one fd (3) for the directory.
	if r.Stdout != "0 1 2 3 " {
		t.Errorf("fds inside: %q, want only stdio and the one ls opens", r.Stdout)
	}
	assertNoLeaks(t, b, 0)

	f3, _ := os.Open("/etc/hostname")
	f4, _ := os.Open("/etc/passwd")
	defer f3.Close()
	defer f4.Close()
	b = newBundle(t, "sh", "-c", `ls /proc/self/fd | tr '\n' ' '; cat <&3 | head -c 0 && echo fd3-readable; head -1 <&4`)
	r = runRTWith(b, []*os.File{f3, f4}, "run", "--preserve-fds", "2", "--bundle", b.Dir, b.ID)
	if r.Code != 0 {
		t.Fatalf("run --preserve-fds 2: %s", r)
	}
	if !strings.HasPrefix(r.Stdout, "0 1 2 3 4 5 ") || strings.HasPrefix(r.Stdout, "0 1 2 3 4 5 6") ||
		!strings.Contains(r.Stdout, "fd3-readable") || !strings.Contains(r.Stdout, "root:x:0:0") {
		t.Errorf("with --preserve-fds 2: %q", r.Stdout)
	}
	assertNoLeaks(t, b, 0)
}

// runRTWith runs rt with extra files as fds 3, 4, … (exec.Cmd ExtraFiles).
func runRTWith(b *bundle, extra []*os.File, args ...string) result {
	b.t.Helper()
	b.write()
	return runRTFiles(b.Root, extra, args...)
}

func runRTFiles(root string, extra []*os.File, args ...string) result {
	cmd := exec.Command(rtBinary, append([]string{"--root", root}, args...)...)
	out, _ := os.CreateTemp(workDir, "stdout")
	errf, _ := os.CreateTemp(workDir, "stderr")
	defer os.Remove(out.Name())
	defer os.Remove(errf.Name())
	defer out.Close()
	defer errf.Close()
	cmd.Stdout, cmd.Stderr, cmd.ExtraFiles = out, errf, extra
	err := cmd.Run()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		code = -1
	}
	o, _ := os.ReadFile(out.Name())
	e, _ := os.ReadFile(errf.Name())
	return result{Stdout: string(o), Stderr: string(e), Code: code}
}
