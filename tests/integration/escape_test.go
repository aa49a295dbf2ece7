package integration

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

var (
	probeOnce sync.Once
	probeBin  string
	probeErr  error
)

// escapeProbe builds testdata/escapeprobe once, statically, for busybox rootfses.
func escapeProbe(t *testing.T) string {
	t.Helper()
	probeOnce.Do(func() {
		probeBin = filepath.Join(workDir, "escapeprobe")
		cmd := exec.Command("go", "build", "-mod=vendor", "-o", probeBin, "./testdata/escapeprobe")
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
		if out, err := cmd.CombinedOutput(); err != nil {
			probeErr = fmt.Errorf("build escapeprobe: %v: %s", err, out)
		}
	})
	if probeErr != nil {
		t.Fatal(probeErr)
	}
	return probeBin
}

// withCaps adds capabilities to every set of the container's process.
func withCaps(s *specs.Spec, caps ...string) {
	c := s.Process.Capabilities
	c.Bounding = append(c.Bounding, caps...)
	c.Effective = append(c.Effective, caps...)
	c.Permitted = append(c.Permitted, caps...)
}

// hostileWatcher is a container whose init is the escape probe, with CAP_SYS_PTRACE.
type hostileWatcher struct {
	*bundle
	log string // the probe's report, as the host sees it
}

func startHostileWatcher(t *testing.T, mutate func(*specs.Spec)) *hostileWatcher {
	t.Helper()
	probe := escapeProbe(t)
	marker := filepath.Join(workDir, "host-marker")
	if err := os.WriteFile(marker, []byte("host\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	var st syscall.Stat_t
	if err := syscall.Stat(rtBinary, &st); err != nil {
		t.Fatal(err)
	}
	b := newBundle(t, "/escapeprobe", "/tmp/probe.log", fmt.Sprintf("%d:%d", st.Dev, st.Ino), marker)
	data, err := os.ReadFile(probe)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(b.rootfsFile("escapeprobe"), data, 0o755); err != nil {
		t.Fatal(err)
	}
	withCaps(b.Spec, "CAP_SYS_PTRACE")
	b.Spec.Root.Readonly = false
	if mutate != nil {
		mutate(b.Spec)
	}
	if r := b.run("--detach"); r.Code != 0 {
		t.Fatalf("rt run --detach: %s", r)
	}
	t.Cleanup(b.remove)
	w := &hostileWatcher{bundle: b, log: b.rootfsFile("tmp/probe.log")}
	if !strings.HasPrefix(waitFile(t, w.log), "READY") {
		t.Fatalf("probe did not start")
	}
	return w
}

// findings returns the probe's report lines that start with one of prefixes,
// and how many processes it saw.
func (w *hostileWatcher) findings(t *testing.T, prefixes ...string) (bad []string, seen int) {
	t.Helper()
	// Let the probe finish with the last process.
	time.Sleep(200 * time.Millisecond)
	data, err := os.ReadFile(w.log)
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(data), "\n") {
		if strings.HasPrefix(line, "SEEN ") {
			seen++
		}
		for _, k := range prefixes {
			if strings.HasPrefix(line, k) {
				bad = append(bad, line)
			}
		}
	}
	return bad, seen
}

// lines returns the probe's report lines that start with prefix.
func (w *hostileWatcher) lines(t *testing.T, prefix string) []string {
	l, _ := w.findings(t, prefix)
	return l
}

// TestEscapeExecExposesNothingOfTheHost: a container process with
// CAP_SYS_PTRACE that watches for the processes `rt exec` starts in its pid
// namespace must never get the host's rt binary through /proc/<pid>/exe
// (CVE-2019-5736), nor a host directory through /proc/<pid>/{fd,cwd,root},
// not even one rt's caller leaked to rt (fd 3 here, a host directory that
// --preserve-fds does not pass on).
func TestEscapeExecExposesNothingOfTheHost(t *testing.T) {
	for _, tc := range containerKinds {
		t.Run(tc.name, func(t *testing.T) {
			w := startHostileWatcher(t, tc.mutate)
			hostDir, err := os.Open(workDir)
			if err != nil {
				t.Fatal(err)
			}
			defer hostDir.Close()
			const tries = 30
			for i := 0; i < tries; i++ {
				g := w.startRT([]*os.File{hostDir}, "exec", w.ID, "true")
				if r := g.wait(); r.Code != 0 {
					t.Fatalf("exec %d: %s", i, r)
				}
			}
			bad, seen := w.findings(t, "HOST-")
			t.Logf("the probe inspected %d processes of %d execs", seen, tries)
			for _, l := range bad {
				t.Errorf("reached from the container: %s", l)
			}
			if seen == 0 {
				t.Errorf("the probe saw none of the exec'd processes: the test proves nothing")
			}
		})
	}
}

// TestEscapeJoinedPidNamespace: a container created into another's pid
// namespace must not show the host's rt binary, or rt's fds, to a process
// there with CAP_SYS_PTRACE. (The init itself works on the host's rootfs
// until pivot_root, with host directories as root, cwd and mount handles: a
// peer with CAP_SYS_PTRACE in the initial user namespace can always reach
// those, as with runc, since it could as well ptrace the init. So only what
// a process running the host's image shows is checked here.)
func TestEscapeJoinedPidNamespace(t *testing.T) {
	w := startHostileWatcher(t, nil)
	pidns := fmt.Sprintf("/proc/%d/ns/pid", w.pid())
	const tries = 10
	for i := 0; i < tries; i++ {
		b := newBundle(t, "true")
		b.setNamespace(specs.PIDNamespace, pidns)
		b.write()
		if r := b.rt("run", "--bundle", b.Dir, b.ID); r.Code != 0 {
			t.Fatalf("run %d: %s", i, r)
		}
	}
	bad, seen := w.findings(t, "HOST-EXE")
	for _, l := range w.lines(t, "HOST-") {
		if strings.HasSuffix(l, " host") {
			bad = append(bad, l)
		}
	}
	t.Logf("the probe inspected %d processes of %d containers", seen, tries)
	for _, l := range bad {
		t.Errorf("reached from the container: %s", l)
	}
	if seen == 0 {
		t.Errorf("the probe saw none of the joining inits: the test proves nothing")
	}
}

// TestJoinPidNamespaceWithNewUserNamespace: joining a pid namespace goes
// through nsenter.Spawn, which then also creates the container's new user
// namespace and writes its maps (the other new namespaces are owned by it).
func TestJoinPidNamespaceWithNewUserNamespace(t *testing.T) {
	a := newBundle(t, "sleep", "100")
	pidA := a.start()
	b := newBundle(t, "sh", "-c", "id -u >/tmp/id.tmp; mv /tmp/id.tmp /tmp/id; exec sleep 100")
	b.Spec.Root.Readonly = false
	withUserNS(b)
	b.setNamespace(specs.PIDNamespace, fmt.Sprintf("/proc/%d/ns/pid", pidA))
	// A user namespace of its own may not mount a procfs of a pid namespace
	// the initial one owns: bind the host's, as runc's tests do then.
	for i, m := range b.Spec.Mounts {
		if m.Type == "proc" {
			b.Spec.Mounts[i] = specs.Mount{Destination: "/proc", Type: "bind", Source: "/proc", Options: []string{"rbind", "nosuid", "nodev", "noexec"}}
		}
	}
	pidB := b.start()
	if got, want := nsInode(t, pidB, "pid"), nsInode(t, pidA, "pid"); got != want {
		t.Errorf("joined pid namespace: %s, want %s", got, want)
	}
	if got := strings.TrimSpace(waitFile(t, b.rootfsFile("tmp/id"))); got != "0" {
		t.Errorf("id -u inside: %q, want 0", got)
	}
	if uid := procStatusField(t, pidB, "Uid"); uid != "100000 100000 100000 100000" {
		t.Errorf("Uid of the init from the host: %q", uid)
	}
	if m, _ := os.ReadFile(fmt.Sprintf("/proc/%d/uid_map", pidB)); !strings.Contains(string(m), "100000") {
		t.Errorf("uid_map: %q", m)
	}
	if self, user := nsInode(t, os.Getpid(), "user"), nsInode(t, pidB, "user"); self == user {
		t.Errorf("no user namespace of its own: %s", user)
	}
	b.remove()
	a.remove()
}

// TestEscapeCwdThroughFd (CVE-2024-21626 class): process.cwd and exec
// --cwd of /proc/self/fd/N must not give the container a directory outside
// its root, whether N is an fd rt's caller leaked to it or one of rt's own.
func TestEscapeCwdThroughFd(t *testing.T) {
	marker := filepath.Join(workDir, "cwd-marker")
	if err := os.WriteFile(marker, []byte("HOST-DIRECTORY\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	hostDir, err := os.Open(workDir)
	if err != nil {
		t.Fatal(err)
	}
	defer hostDir.Close()
	devnull, _ := os.Open(os.DevNull)
	defer devnull.Close()
	// A host directory rt's caller leaks to it (without --preserve-fds), at
	// fd 4 and, above the fds rt passes its init itself, at fd 10.
	leaked := []*os.File{devnull, hostDir, devnull, devnull, devnull, devnull, devnull, hostDir}
	const probe = "pwd; cat cwd-marker 2>/dev/null; ls sysrq-trigger 2>/dev/null; true"
	check := func(t *testing.T, what string, r result) {
		t.Helper()
		out := r.Stdout + r.Stderr
		if strings.Contains(out, "HOST-DIRECTORY") || strings.Contains(out, "(unreachable)") || strings.Contains(r.Stdout, "sysrq-trigger") {
			t.Errorf("%s: the container's cwd is outside its root: %s", what, r)
		}
	}
	t.Run("process.cwd", func(t *testing.T) {
		for fd := 3; fd <= 12; fd++ {
			b := newBundle(t, "sh", "-c", probe)
			b.Spec.Process.Cwd = "/proc/self/fd/" + strconv.Itoa(fd)
			b.write()
			r := b.startRT(leaked, "run", "--bundle", b.Dir, b.ID).wait()
			check(t, fmt.Sprintf("cwd %s", b.Spec.Process.Cwd), r)
			b.rt("delete", "--force", b.ID)
		}
	})
	t.Run("exec --cwd", func(t *testing.T) {
		b := startSleeper(t, nil)
		for fd := 3; fd <= 12; fd++ {
			r := b.startRT(leaked, "exec", "--cwd", "/proc/self/fd/"+strconv.Itoa(fd), b.ID, "sh", "-c", probe).wait()
			check(t, fmt.Sprintf("exec --cwd /proc/self/fd/%d", fd), r)
		}
	})
}

// TestEscapeExecWithoutMountNamespace: the init of a container without a
// mount namespace is chrooted into its rootfs; a process rt exec starts
// there must be too (it ran in the host's root).
func TestEscapeExecWithoutMountNamespace(t *testing.T) {
	b := startSleeper(t, func(s *specs.Spec) {
		var kept []specs.LinuxNamespace
		for _, ns := range s.Linux.Namespaces {
			if ns.Type != specs.MountNamespace {
				kept = append(kept, ns)
			}
		}
		s.Linux.Namespaces = kept
		s.Root.Readonly = false
	})
	if err := os.WriteFile(b.rootfsFile("in-rootfs"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	r := b.mustRT("exec", b.ID, "sh", "-c", "ls /in-rootfs; ls -d "+workDir+" 2>&1; ls -d /proc/1/root/bin")
	if !strings.Contains(r.Stdout, "/in-rootfs") || strings.Contains(r.Stdout, workDir+"\n") {
		t.Errorf("exec into a container without a mount namespace sees: %s", r)
	}
	for _, cwd := range []string{"/", "/tmp"} {
		r := b.mustRT("exec", "--cwd", cwd, b.ID, "sh", "-c", "pwd; ls -d in-rootfs ../in-rootfs 2>/dev/null; true")
		if !strings.Contains(r.Stdout, "in-rootfs") {
			t.Errorf("exec --cwd %s: %s", cwd, r)
		}
	}
}

// TestCreatedInitHoldsNoHostFd: besides its stdio and exec.fifo (as with
// runc), a created container's init holds nothing of the host: no fd rt's
// caller leaked to rt, no host device (it held the host's /dev/null), only
// procfs handles of its own and the Go runtime's anonymous inodes.
func TestCreatedInitHoldsNoHostFd(t *testing.T) {
	b := newBundle(t, "true")
	hostDir, err := os.Open(workDir)
	if err != nil {
		t.Fatal(err)
	}
	defer hostDir.Close()
	b.write()
	// The leaked directory is the caller's fd 9 (no --preserve-fds).
	leaked := []*os.File{hostDir, hostDir, hostDir, hostDir, hostDir, hostDir, hostDir}
	if r := b.startRT(leaked, "create", "--bundle", b.Dir, b.ID).wait(); r.Code != 0 {
		t.Fatal(r)
	}
	pid := b.pid()
	dir := fmt.Sprintf("/proc/%d/fd", pid)
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		fd, _ := strconv.Atoi(e.Name())
		target, _ := os.Readlink(dir + "/" + e.Name())
		if fd <= 2 || strings.HasSuffix(target, "/exec.fifo") || strings.HasPrefix(target, "anon_inode:") ||
			strings.HasPrefix(target, "socket:") || strings.HasPrefix(target, "pipe:") {
			continue
		}
		var st syscall.Statfs_t
		if err := syscall.Statfs(dir+"/"+e.Name(), &st); err == nil && st.Type == 0x9fa0 { // PROC_SUPER_MAGIC
			continue
		}
		t.Errorf("the created init holds fd %d -> %s", fd, target)
	}
	b.remove()
}
