// Package childtest runs parts of a test in a fresh copy of the test
// binary, for tests that change process state which cannot be undone
// (user, capabilities, keyrings, no_new_privs) and must not leak into the
// rest of the test run.
//
// A test package calls Main from TestMain with its scenarios; a test calls
// Run with a scenario's name. The scenario runs on the main thread, locked
// to it (the attributes under test are per thread), and reports through
// stdout; it may end by exec'ing a program whose output is the report.
package childtest

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"testing"
)

const envVar = "RT_CHILDTEST_SCENARIO"

func init() {
	// Keeps main (and so TestMain and the scenario) on the process's main
	// thread, the one /proc/self/status describes.
	runtime.LockOSThread()
}

// Main runs the scenario named in the environment and exits, or returns
// when this is not a child so TestMain can go on with m.Run.
func Main(scenarios map[string]func() error) {
	name, ok := os.LookupEnv(envVar)
	if !ok {
		return
	}
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

// Run runs scenario in a child test binary and returns its stdout. It
// fails the test when the child fails, and skips it unless run as root.
func Run(t *testing.T, scenario string, env ...string) string {
	t.Helper()
	out, stderr, err := run(t, scenario, env...)
	if err != nil {
		t.Fatalf("scenario %s: %v\nstdout:\n%s\nstderr:\n%s", scenario, err, out, stderr)
	}
	return out
}

// RunFailing runs scenario, which is expected to fail, and returns its
// stderr.
func RunFailing(t *testing.T, scenario string, env ...string) string {
	t.Helper()
	out, stderr, err := run(t, scenario, env...)
	if err == nil {
		t.Fatalf("scenario %s succeeded, want failure\nstdout:\n%s", scenario, out)
	}
	return stderr
}

func run(t *testing.T, scenario string, env ...string) (string, string, error) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("needs root")
	}
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(append(os.Environ(), envVar+"="+scenario), env...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	return stdout.String(), stderr.String(), err
}
