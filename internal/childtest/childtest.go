// Package childtest runs parts of a test in a fresh copy of the test
// binary, for tests that change process state which cannot be undone
// (mounts, user, capabilities, keyrings, seccomp filters, no_new_privs)
// and must not leak into the rest of the test run.
//
// A test package registers its scenarios (Register) and has TestMain call
// childtest.TestMain; a test calls Run (or Exec, to see how the child
// ended) with a scenario's name. The
// scenario runs on the main thread, locked to it (the attributes under test
// are per thread), and reports through stdout; it may end by exec'ing a
// program whose output is the report. Every such test needs root: they
// belong to the kernel tests (build tag kernel), which the integration
// suite runs, not to the unit tests.
package childtest

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"syscall"
	"testing"
)

const envVar = "RT_CHILDTEST_SCENARIO"

func init() {
	// Keeps main (and so TestMain and the scenario) on the process's main
	// thread, the one /proc/self/status describes.
	runtime.LockOSThread()
}

var scenarios = map[string]func() error{}

// Register adds a scenario; a test file registers its scenarios from init.
func Register(name string, scenario func() error) {
	if _, dup := scenarios[name]; dup {
		panic("childtest: scenario " + name + " registered twice")
	}
	scenarios[name] = scenario
}

// TestMain is the TestMain of a package with scenarios: in a child it runs
// the scenario named in the environment and exits, otherwise the tests.
func TestMain(m *testing.M) {
	if name, ok := os.LookupEnv(envVar); ok {
		f, ok := scenarios[name]
		if !ok {
			fmt.Fprintf(os.Stderr, "unknown scenario %q\n", name)
			os.Exit(2)
		}
		if err := f(); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// Command returns the command that runs scenario in a copy of the test
// binary, for a scenario that starts another (in a new namespace, say).
func Command(scenario string, env ...string) *exec.Cmd {
	cmd := exec.Command("/proc/self/exe", "-test.run=^$")
	cmd.Env = append(append(os.Environ(), envVar+"="+scenario), env...)
	return cmd
}

// Options adjust the child of Exec.
type Options struct {
	Env []string
	// SysProcAttr starts the child in new namespaces, for instance.
	SysProcAttr *syscall.SysProcAttr
}

// Result is how a child ended.
type Result struct {
	Stdout, Stderr string
	State          *os.ProcessState
	Pid            int
}

// Exec runs scenario in a child and returns how it ended, whether it
// succeeded or not. It skips the test unless run as root.
func Exec(t *testing.T, scenario string, o Options) Result {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("needs root")
	}
	cmd := Command(scenario, o.Env...)
	cmd.SysProcAttr = o.SysProcAttr
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	var exitErr *exec.ExitError
	if err != nil && !errors.As(err, &exitErr) {
		t.Fatalf("scenario %s: %v", scenario, err)
	}
	return Result{Stdout: stdout.String(), Stderr: stderr.String(), State: cmd.ProcessState, Pid: cmd.Process.Pid}
}

// Run runs scenario in a child and returns its stdout. It fails the test
// when the child fails, and skips it unless run as root.
func Run(t *testing.T, scenario string, env ...string) string {
	t.Helper()
	r := Exec(t, scenario, Options{Env: env})
	if !r.State.Success() {
		t.Fatalf("scenario %s: %v\nstdout:\n%s\nstderr:\n%s", scenario, r.State, r.Stdout, r.Stderr)
	}
	return r.Stdout
}

// RunFailing runs scenario, which is expected to fail, and returns its
// stderr.
func RunFailing(t *testing.T, scenario string, env ...string) string {
	t.Helper()
	r := Exec(t, scenario, Options{Env: env})
	if r.State.Success() {
		t.Fatalf("scenario %s succeeded, want failure\nstdout:\n%s", scenario, r.Stdout)
	}
	return r.Stderr
}
