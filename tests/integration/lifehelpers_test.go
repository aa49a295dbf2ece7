package integration

import (
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// start creates and starts the container and returns its init pid.
func (b *bundle) start(extra ...string) int {
	b.t.Helper()
	b.create(extra...)
	b.mustRT("start", b.ID)
	return b.pid()
}

// setNamespace adds or replaces the namespace of type t in the spec.
func (b *bundle) setNamespace(t specs.LinuxNamespaceType, path string) {
	for i, ns := range b.Spec.Linux.Namespaces {
		if ns.Type == t {
			b.Spec.Linux.Namespaces[i].Path = path
			return
		}
	}
	b.Spec.Linux.Namespaces = append(b.Spec.Linux.Namespaces, specs.LinuxNamespace{Type: t, Path: path})
}

// dropNamespace removes the namespace of type t from the spec.
func (b *bundle) dropNamespace(t specs.LinuxNamespaceType) {
	var kept []specs.LinuxNamespace
	for _, ns := range b.Spec.Linux.Namespaces {
		if ns.Type != t {
			kept = append(kept, ns)
		}
	}
	b.Spec.Linux.Namespaces = kept
}

// deleteAndCheck deletes a stopped container (without --force) and checks for leaks.
func (b *bundle) deleteAndCheck(pid int) {
	b.t.Helper()
	b.mustRT("delete", b.ID)
	assertNoLeaks(b.t, b, pid)
}

// procStatusField returns a field (e.g. "Uid") of /proc/<pid>/status.
func procStatusField(t *testing.T, pid int, field string) string {
	t.Helper()
	data, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/status")
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(data), "\n") {
		if v, ok := strings.CutPrefix(line, field+":"); ok {
			return strings.Join(strings.Fields(v), " ")
		}
	}
	t.Fatalf("/proc/%d/status: no %s line", pid, field)
	return ""
}

// waitFile polls until path exists and has content, and returns it.
func waitFile(t *testing.T, path string) string {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		if data, err := os.ReadFile(path); err == nil && len(data) > 0 {
			return string(data)
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s did not appear", path)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// pidAlive reports whether pid exists and is not a zombie.
func pidAlive(pid int) bool {
	st, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	return err == nil && !strings.Contains(string(st), ") Z ")
}

// rootfsFile is a path in the bundle's rootfs as the host sees it.
func (b *bundle) rootfsFile(name string) string { return filepath.Join(b.Rootfs, name) }

// bgRT is an rt command running in the background, its output in files.
type bgRT struct {
	cmd      *exec.Cmd
	out, err *os.File
}

// startRT starts rt (e.g. `rt run`) without waiting for it; extra become its fds 3, 4, ….
func (b *bundle) startRT(extra []*os.File, args ...string) *bgRT {
	b.t.Helper()
	cmd := exec.Command(rtBinary, append([]string{"--root", b.Root}, args...)...)
	out, _ := os.CreateTemp(workDir, "stdout")
	errf, _ := os.CreateTemp(workDir, "stderr")
	cmd.Stdout, cmd.Stderr, cmd.ExtraFiles = out, errf, extra
	if err := cmd.Start(); err != nil {
		b.t.Fatal(err)
	}
	bg := &bgRT{cmd: cmd, out: out, err: errf}
	b.t.Cleanup(func() {
		if cmd.ProcessState == nil {
			cmd.Process.Kill()
			cmd.Wait()
		}
		os.Remove(out.Name())
		os.Remove(errf.Name())
	})
	return bg
}

// wait waits for the command and returns its result.
func (g *bgRT) wait() result {
	timer := time.AfterFunc(rtTimeout, func() { g.cmd.Process.Kill() })
	defer timer.Stop()
	err := g.cmd.Wait()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		code = -1
	}
	o, _ := os.ReadFile(g.out.Name())
	e, _ := os.ReadFile(g.err.Name())
	return result{Stdout: string(o), Stderr: string(e), Code: code}
}
