package rootfs

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

// The tests that mount run in a child: the test binary re-executed in new
// mount (and pid) namespaces, selected by childEnv. The child prints its
// failed checks and exits non-zero; the parent then checks that nothing the
// child did is visible in its own mount table.
const (
	childEnv    = "RT_ROOTFS_TEST_CHILD"
	childDirEnv = "RT_ROOTFS_TEST_DIR"
)

var scenarios = map[string]func(dir string) error{}

func TestMain(m *testing.M) {
	if name := os.Getenv(childEnv); name != "" {
		run, ok := scenarios[name]
		if !ok {
			fmt.Fprintf(os.Stderr, "no scenario %q\n", name)
			os.Exit(2)
		}
		if err := run(os.Getenv(childDirEnv)); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// runScenario runs scenario name in a child with the given namespaces and
// fails t with the child's report. The scenario gets dir, a fresh temporary
// directory, which it shares with the parent.
func runScenario(t *testing.T, name, dir string, attr *syscall.SysProcAttr) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("needs root")
	}
	before := mountTable(t)
	out, err := startScenario(name, dir, attr)
	if err != nil {
		t.Fatalf("scenario %s: %v\n%s", name, err, out)
	}
	t.Logf("scenario %s:\n%s", name, out)
	after := mountTable(t)
	for line := range after {
		if !before[line] && (strings.Contains(line, dir) || mountPointOf(line) == "/" || strings.HasPrefix(mountPointOf(line), "/escape")) {
			t.Errorf("mount leaked into the test's namespace: %s", line)
		}
	}
	for line := range before {
		if !after[line] && mountPointOf(line) == "/" {
			t.Errorf("host root mount changed: %s", line)
		}
	}
	for _, p := range []string{"/escape1", "/escape2"} {
		if _, err := os.Lstat(p); err == nil {
			t.Errorf("%s was created on the host", p)
		}
	}
}

func mountPointOf(line string) string {
	f := strings.Fields(line)
	if len(f) < 5 {
		return ""
	}
	return f[4]
}

// startScenario re-executes the test binary as scenario name.
func startScenario(name, dir string, attr *syscall.SysProcAttr) ([]byte, error) {
	cmd := exec.Command("/proc/self/exe", "-test.run=^$")
	cmd.Env = append(os.Environ(), childEnv+"="+name, childDirEnv+"="+dir)
	cmd.SysProcAttr = attr
	return cmd.CombinedOutput()
}

// mountTable returns the lines of this process's mountinfo.
func mountTable(t *testing.T) map[string]bool {
	t.Helper()
	f, err := os.Open("/proc/self/mountinfo")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	lines := map[string]bool{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		lines[sc.Text()] = true
	}
	return lines
}

// newTestDir makes a temporary directory the child (maybe in a user
// namespace) can reach.
func newTestDir(t *testing.T) string {
	dir, err := os.MkdirTemp("/tmp", "rt-rootfs-test-")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	return dir
}

// buildRootfs lays out a small busybox rootfs under dir/rootfs.
func buildRootfs(t *testing.T, dir string) string {
	t.Helper()
	rootfs := filepath.Join(dir, "rootfs")
	for _, d := range []string{"bin", "etc", "proc", "sys", "dev", "tmp", "run/sub"} {
		if err := os.MkdirAll(filepath.Join(rootfs, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	bb, err := os.ReadFile("/bin/busybox")
	if err != nil {
		t.Skipf("no busybox: %v", err)
	}
	mustWrite(t, filepath.Join(rootfs, "bin/busybox"), string(bb), 0o755)
	mustWrite(t, filepath.Join(rootfs, "rt-marker"), "inside", 0o644)
	mustWrite(t, filepath.Join(rootfs, "etc/hostname"), "box\n", 0o644)
	mustWrite(t, filepath.Join(rootfs, "run/sub/keep.txt"), "kept", 0o640)
	if err := os.Chown(filepath.Join(rootfs, "run/sub/keep.txt"), 1234, 5678); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("sub/keep.txt", filepath.Join(rootfs, "run/link")); err != nil {
		t.Fatal(err)
	}
	// Destinations through these must stay inside the rootfs.
	if err := os.Symlink("/", filepath.Join(rootfs, "evil")); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("../../..", filepath.Join(rootfs, "evil2")); err != nil {
		t.Fatal(err)
	}
	return rootfs
}

func mustWrite(t *testing.T, path, content string, mode os.FileMode) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), mode); err != nil {
		t.Fatal(err)
	}
}

// checks collects the failed checks of a scenario.
type checks struct{ errs []error }

func (c *checks) fail(format string, args ...any) {
	c.errs = append(c.errs, fmt.Errorf(format, args...))
}

func (c *checks) err() error { return errors.Join(c.errs...) }
