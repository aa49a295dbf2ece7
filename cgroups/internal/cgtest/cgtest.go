// Package cgtest helps the cgroup packages' tests create real cgroups below
// the test's own cgroup and prove that none is left behind.
package cgtest

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/rtproject/rt/cgroups/internal/cgfs"
)

// Prefix starts the name of every cgroup a test process creates; it
// carries the pid so parallel test binaries do not see each other's.
var Prefix = fmt.Sprintf("rt-cgtest-%d-", os.Getpid())

// Name returns a fresh top-level relative cgroup name for one test.
func Name(t *testing.T) string {
	return Prefix + strings.ReplaceAll(t.Name(), "/", "_")
}

// NeedRoot skips tests that write cgroups when not root.
func NeedRoot(t *testing.T) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("needs root to create cgroups")
	}
}

// Leftovers lists cgroups named with Prefix below the process's own cgroup
// in every mounted hierarchy.
func Leftovers() []string {
	h, err := cgfs.Detect()
	if err != nil {
		return nil
	}
	var dirs []string
	for c, m := range h.V1 {
		dirs = append(dirs, m.Dir(h.Own[c]))
	}
	if h.V2.Point != "" {
		dirs = append(dirs, h.V2.Dir(h.Own[""]))
	}
	var left []string
	for _, d := range dirs {
		matches, _ := filepath.Glob(filepath.Join(d, Prefix+"*"))
		left = append(left, matches...)
	}
	return left
}

// Main runs the tests and fails the binary if any of them left a cgroup.
func Main(m *testing.M) {
	code := m.Run()
	if left := Leftovers(); len(left) > 0 {
		fmt.Fprintf(os.Stderr, "FAIL: cgroups left behind: %v\n", left)
		code = 1
	}
	os.Exit(code)
}

// StartBusy starts a shell that waits a moment (to be moved into a cgroup
// first), burns a little CPU and memory there, then sleeps. Its pid is
// returned with a stop function that kills and reaps it.
func StartBusy(t *testing.T) (int, func()) {
	t.Helper()
	cmd := exec.Command("sh", "-c", `sleep 0.3; i=0; while [ $i -lt 30000 ]; do i=$((i+1)); done; x=$(seq 1 20000); exec sleep 300`)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	stopped := false
	stop := func() {
		if stopped {
			return
		}
		stopped = true
		_ = cmd.Process.Kill()
		_, _ = cmd.Process.Wait()
	}
	t.Cleanup(stop)
	return cmd.Process.Pid, stop
}

// StartCommand runs script in a shell that first moves itself into the
// cgroup dir (so everything it does is charged there). It returns the
// combined output once the shell exits, or "" if it is still running when
// the test ends.
func StartCommand(t *testing.T, dir, script string) (*exec.Cmd, *strings.Builder) {
	t.Helper()
	var out strings.Builder
	cmd := exec.Command("sh", "-c", `echo $$ > "$CG/cgroup.procs" || exit 99; `+script)
	cmd.Env = append(os.Environ(), "CG="+dir)
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	return cmd, &out
}

// FakeFS makes cgfs create each new cgroup directory (under a test's
// temporary directory) with files, name → content, as the kernel fills a
// new cgroup with its interface files; until the test ends.
func FakeFS(t *testing.T, files map[string]string) {
	t.Helper()
	prev := cgfs.NewDir
	cgfs.NewDir = func(dir string) error {
		if err := os.Mkdir(dir, 0o755); err != nil {
			return err
		}
		return WriteFiles(dir, files)
	}
	t.Cleanup(func() { cgfs.NewDir = prev })
}

// WriteFiles writes files (name → content) into dir.
func WriteFiles(dir string, files map[string]string) error {
	for name, content := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644); err != nil {
			return err
		}
	}
	return nil
}
