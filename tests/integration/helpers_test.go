// Package integration runs the real rt binary against busybox containers.
package integration

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/rtproject/rt/specconv"
)

var (
	rtBinary string // the rt under test
	workDir  string // world-searchable scratch dir (user-namespace tests need that)
	template string // busybox rootfs every bundle hard-links from
	testCg   string // relative cgroup parent for this run's containers
	seq      atomic.Int64
)

func TestMain(m *testing.M) {
	os.Exit(run(m))
}

func run(m *testing.M) int {
	if os.Geteuid() != 0 {
		fmt.Println("integration tests need root; skipping")
		return 0
	}
	var err error
	workDir, err = os.MkdirTemp("/tmp", "rt-it-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	os.Chmod(workDir, 0o755)
	defer os.RemoveAll(workDir)

	rtBinary = os.Getenv("RT_BINARY")
	if rtBinary == "" {
		rtBinary = filepath.Join(workDir, "rt")
		// The same static build as the Makefile's: exec runs rt inside the container.
		build := exec.Command("go", "build", "-mod=vendor", "-tags", "osusergo,netgo,urfave_cli_no_docs",
			"-ldflags", "-s -w -linkmode external -extldflags -static", "-o", rtBinary, ".")
		build.Dir = "../.."
		build.Stdout, build.Stderr = os.Stdout, os.Stderr
		if err := build.Run(); err != nil {
			fmt.Fprintln(os.Stderr, "build rt:", err)
			return 1
		}
	}
	template = filepath.Join(workDir, "rootfs")
	if err := makeBusyboxRootfs(template); err != nil {
		fmt.Fprintln(os.Stderr, "busybox rootfs:", err)
		return 1
	}
	testCg = fmt.Sprintf("rt-it-%d", os.Getpid())
	code := m.Run()
	if left := leftoverCgroups(); len(left) > 0 {
		fmt.Fprintf(os.Stderr, "cgroups left behind: %v\n", left)
		code = 1
	}
	removeTestCgroups()
	return code
}

// makeBusyboxRootfs builds a minimal rootfs from Debian's busybox-static.
func makeBusyboxRootfs(dir string) error {
	bin := filepath.Join(dir, "bin")
	if err := os.MkdirAll(bin, 0o755); err != nil {
		return err
	}
	src, err := os.ReadFile("/bin/busybox")
	if err != nil {
		return fmt.Errorf("%w (apt-get install busybox-static)", err)
	}
	if err := os.WriteFile(filepath.Join(bin, "busybox"), src, 0o755); err != nil {
		return err
	}
	out, err := exec.Command("/bin/busybox", "--list").Output()
	if err != nil {
		return err
	}
	for _, applet := range strings.Fields(string(out)) {
		if applet == "busybox" {
			continue
		}
		os.Symlink("busybox", filepath.Join(bin, applet))
	}
	for _, d := range []string{"proc", "sys", "dev", "tmp", "etc", "root", "usr"} {
		os.MkdirAll(filepath.Join(dir, d), 0o755)
	}
	os.Chmod(filepath.Join(dir, "tmp"), 0o1777)
	os.WriteFile(filepath.Join(dir, "etc/passwd"), []byte("root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/:/bin/false\n"), 0o644)
	os.WriteFile(filepath.Join(dir, "etc/group"), []byte("root:x:0:\nnogroup:x:65534:\n"), 0o644)
	return nil
}

// bundle is a container bundle made for one test.
type bundle struct {
	t      *testing.T
	Dir    string
	Rootfs string
	Spec   *specs.Spec
	ID     string
	Root   string // rt --root
}

// newBundle makes a bundle with a fresh rootfs (hard links to the template)
// and a config that keeps the container's cgroup nested under ours.
func newBundle(t *testing.T, args ...string) *bundle {
	t.Helper()
	n := seq.Add(1)
	dir := filepath.Join(workDir, fmt.Sprintf("b%d", n))
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	rootfs := filepath.Join(dir, "rootfs")
	if out, err := exec.Command("cp", "-a", "--link", template, rootfs).CombinedOutput(); err != nil {
		t.Fatalf("copy rootfs: %v: %s", err, out)
	}
	spec := specconv.Example(false)
	spec.Process.Terminal = false
	if len(args) == 0 {
		args = []string{"true"}
	}
	spec.Process.Args = args
	spec.Hostname = "rt-test"
	id := fmt.Sprintf("it%d-%s", n, sanitize(t.Name()))
	spec.Linux.CgroupsPath = testCg + "/" + id
	b := &bundle{t: t, Dir: dir, Rootfs: rootfs, Spec: spec, ID: id, Root: filepath.Join(workDir, "state")}
	t.Cleanup(func() {
		// A failed test may leave the container: force it away, then check nothing leaked.
		b.rt("delete", "--force", b.ID)
		os.RemoveAll(dir)
	})
	return b
}

func sanitize(s string) string {
	s = strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' {
			return r
		}
		return '-'
	}, s)
	if len(s) > 40 {
		s = s[:40]
	}
	return s
}

// write saves the spec as config.json.
func (b *bundle) write() {
	b.t.Helper()
	data, err := json.MarshalIndent(b.Spec, "", "  ")
	if err != nil {
		b.t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(b.Dir, "config.json"), data, 0o644); err != nil {
		b.t.Fatal(err)
	}
}

// result is one finished rt invocation.
type result struct {
	Stdout, Stderr string
	Code           int
}

func (r result) String() string {
	return fmt.Sprintf("exit %d, stdout %q, stderr %q", r.Code, r.Stdout, r.Stderr)
}

// rt runs the binary with --root and waits for it.
func (b *bundle) rt(args ...string) result {
	return runRT(b.Root, nil, args...)
}

// rtTimeout bounds one rt command, so that a hang fails its test instead of the whole suite.
const rtTimeout = 2 * time.Minute

func runRT(root string, stdin []byte, args ...string) result {
	ctx, cancel := context.WithTimeout(context.Background(), rtTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, rtBinary, append([]string{"--root", root}, args...)...)
	if stdin != nil {
		cmd.Stdin = bytes.NewReader(stdin)
	}
	r := runCmd(cmd)
	if ctx.Err() != nil {
		r.Stderr += "\n(killed after " + rtTimeout.String() + ")"
	}
	return r
}

// runCmd runs cmd to completion. Its output goes to files, not pipes: a
// created container inherits rt's stdio and would keep a pipe open (and
// Wait waiting) for as long as it lives.
func runCmd(cmd *exec.Cmd) result {
	out, _ := os.CreateTemp(workDir, "stdout")
	errf, _ := os.CreateTemp(workDir, "stderr")
	defer os.Remove(out.Name())
	defer os.Remove(errf.Name())
	defer out.Close()
	defer errf.Close()
	cmd.Stdout, cmd.Stderr = out, errf
	err := cmd.Run()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		code = -1
	}
	o, _ := os.ReadFile(out.Name())
	e, _ := os.ReadFile(errf.Name())
	if err != nil && code == -1 {
		e = append(e, err.Error()...)
	}
	return result{Stdout: string(o), Stderr: string(e), Code: code}
}

// mustRT fails the test unless rt exits 0.
func (b *bundle) mustRT(args ...string) result {
	b.t.Helper()
	r := b.rt(args...)
	if r.Code != 0 {
		b.t.Fatalf("rt %s: %s", strings.Join(args, " "), r)
	}
	return r
}

// create writes the config and creates the container from the bundle.
func (b *bundle) create(extra ...string) {
	b.t.Helper()
	b.write()
	b.mustRT(append(append([]string{"create", "--bundle", b.Dir}, extra...), b.ID)...)
}

// runForeground runs the container to completion and returns rt's result.
func (b *bundle) run(extra ...string) result {
	b.t.Helper()
	b.write()
	return b.rt(append(append([]string{"run", "--bundle", b.Dir}, extra...), b.ID)...)
}

// state returns the container's `rt state`.
func (b *bundle) state() map[string]any {
	b.t.Helper()
	r := b.mustRT("state", b.ID)
	var st map[string]any
	if err := json.Unmarshal([]byte(r.Stdout), &st); err != nil {
		b.t.Fatalf("state JSON: %v: %s", err, r.Stdout)
	}
	return st
}

func (b *bundle) status() string { return b.state()["status"].(string) }

func (b *bundle) pid() int { return int(b.state()["pid"].(float64)) }

// waitStatus polls until the container reaches want.
func (b *bundle) waitStatus(want string) {
	b.t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		got := "absent"
		if r := b.rt("state", b.ID); r.Code == 0 {
			got = b.status()
		}
		if got == want {
			return
		}
		if time.Now().After(deadline) {
			b.t.Fatalf("container %s: status %s, want %s", b.ID, got, want)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// remove deletes the container and checks nothing of it is left on the host.
func (b *bundle) remove() {
	b.t.Helper()
	pid := 0
	if r := b.rt("state", b.ID); r.Code == 0 {
		pid = b.pid()
	}
	b.mustRT("delete", "--force", b.ID)
	assertNoLeaks(b.t, b, pid)
}

// assertNoLeaks checks that no process, mount, state dir or cgroup of the container remains.
func assertNoLeaks(t *testing.T, b *bundle, pid int) {
	t.Helper()
	if pid > 0 {
		if _, err := os.Stat("/proc/" + strconv.Itoa(pid)); err == nil {
			if st, _ := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat"); !strings.Contains(string(st), ") Z ") {
				t.Errorf("container process %d still alive", pid)
			}
		}
	}
	f, err := os.Open("/proc/self/mountinfo")
	if err == nil {
		sc := bufio.NewScanner(f)
		for sc.Scan() {
			if strings.Contains(sc.Text(), b.Dir) {
				t.Errorf("mount left behind: %s", sc.Text())
			}
		}
		f.Close()
	}
	if _, err := os.Stat(filepath.Join(b.Root, b.ID)); err == nil {
		t.Errorf("state dir %s left behind", filepath.Join(b.Root, b.ID))
	}
	for _, dir := range cgroupDirs(b.Spec.Linux.CgroupsPath) {
		if _, err := os.Stat(dir); err == nil {
			t.Errorf("cgroup %s left behind", dir)
		}
	}
}

// ownCgroup returns this process's cgroup path in a v1 controller (or "" for the unified one).
func ownCgroup(controller string) string {
	data, _ := os.ReadFile("/proc/self/cgroup")
	for _, line := range strings.Split(string(data), "\n") {
		parts := strings.SplitN(line, ":", 3)
		if len(parts) != 3 {
			continue
		}
		for _, c := range strings.Split(parts[1], ",") {
			if c == controller {
				return parts[2]
			}
		}
		if controller == "" && parts[1] == "" {
			return parts[2]
		}
	}
	return ""
}

// cgroupDirs lists the directories a relative cgroupsPath maps to on this
// host, in every mounted hierarchy (name=systemd and the unified one too).
func cgroupDirs(rel string) []string {
	var dirs []string
	data, _ := os.ReadFile("/proc/self/cgroup")
	for _, line := range strings.Split(strings.TrimSpace(string(data)), "\n") {
		parts := strings.SplitN(line, ":", 3)
		if len(parts) != 3 {
			continue
		}
		mount := strings.TrimPrefix(parts[1], "name=")
		if mount == "" {
			mount = "unified"
		}
		if _, err := os.Stat(filepath.Join("/sys/fs/cgroup", mount)); err != nil {
			continue
		}
		dirs = append(dirs, filepath.Join("/sys/fs/cgroup", mount, parts[2], rel))
	}
	return dirs
}

func leftoverCgroups() []string {
	var left []string
	for _, d := range cgroupDirs(testCg) {
		entries, err := os.ReadDir(d)
		if err != nil {
			continue
		}
		for _, e := range entries {
			if e.IsDir() {
				left = append(left, filepath.Join(d, e.Name()))
			}
		}
	}
	return left
}

// removeTestCgroups removes this run's cgroup parent in every hierarchy, and
// what a failed test left under it (reported first by leftoverCgroups): a
// failing run must not leave cgroups on the machine either.
func removeTestCgroups() {
	for _, d := range cgroupDirs(testCg) {
		var dirs []string
		filepath.WalkDir(d, func(p string, e os.DirEntry, err error) error {
			if err == nil && e.IsDir() {
				dirs = append(dirs, p)
			}
			return nil
		})
		// Deepest first: rmdir of a cgroup needs its children gone.
		for i := len(dirs) - 1; i >= 0; i-- {
			os.Remove(dirs[i])
		}
	}
}

// nsInode returns the namespace link of pid, e.g. "net:[4026531840]".
func nsInode(t *testing.T, pid int, ns string) string {
	t.Helper()
	l, err := os.Readlink(fmt.Sprintf("/proc/%d/ns/%s", pid, ns))
	if err != nil {
		t.Fatal(err)
	}
	return l
}
