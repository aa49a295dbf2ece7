package nsenter

import (
	"errors"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"testing"

	"golang.org/x/sys/unix"
)

// startInNewNamespaces starts a sleeping process in fresh namespaces to join.
func startInNewNamespaces(t *testing.T, flags uintptr, userns bool) *exec.Cmd {
	t.Helper()
	cmd := exec.Command("sleep", "30")
	cmd.SysProcAttr = &syscall.SysProcAttr{Cloneflags: flags}
	if userns {
		cmd.SysProcAttr.UidMappings = []syscall.SysProcIDMap{{ContainerID: 0, HostID: 100000, Size: 65536}}
		cmd.SysProcAttr.GidMappings = []syscall.SysProcIDMap{{ContainerID: 0, HostID: 100000, Size: 65536}}
	}
	if err := cmd.Start(); err != nil {
		t.Skipf("cannot create namespaces here: %v", err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	return cmd
}

func nsLink(t *testing.T, pid int, ns string) string {
	t.Helper()
	l, err := os.Readlink("/proc/" + itoa(pid) + "/ns/" + ns)
	if err != nil {
		t.Fatal(err)
	}
	return l
}

func itoa(i int) string { return strconv.Itoa(i) }

func TestSpawnJoinsNamespaces(t *testing.T) {
	tests := []struct {
		name   string
		flags  uintptr
		userns bool
		types  map[string]int
	}{
		{"net+ipc+uts", unix.CLONE_NEWNET | unix.CLONE_NEWIPC | unix.CLONE_NEWUTS, false,
			map[string]int{"net": unix.CLONE_NEWNET, "ipc": unix.CLONE_NEWIPC, "uts": unix.CLONE_NEWUTS}},
		{"mount+pid", unix.CLONE_NEWNS | unix.CLONE_NEWPID, false,
			map[string]int{"mnt": unix.CLONE_NEWNS, "pid": unix.CLONE_NEWPID}},
		{"user-owned", unix.CLONE_NEWUSER | unix.CLONE_NEWNET | unix.CLONE_NEWNS, true,
			map[string]int{"user": unix.CLONE_NEWUSER, "net": unix.CLONE_NEWNET, "mnt": unix.CLONE_NEWNS}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			target := startInNewNamespaces(t, tc.flags, tc.userns)
			var join []Namespace
			for name, typ := range tc.types {
				f, err := os.Open("/proc/" + itoa(target.Process.Pid) + "/ns/" + name)
				if err != nil {
					t.Fatal(err)
				}
				defer f.Close()
				join = append(join, Namespace{Type: typ, Fd: int(f.Fd())})
			}
			exe, err := os.Open("/bin/sleep")
			if err != nil {
				t.Fatal(err)
			}
			defer exe.Close()
			devnull, _ := os.Open(os.DevNull)
			defer devnull.Close()
			pid, err := Spawn(&SpawnConfig{Exe: exe, Argv: []string{"sleep", "30"}, Env: []string{"PATH=/bin"},
				Files: []*os.File{devnull, devnull, devnull}, Join: join})
			if err != nil {
				t.Fatal(err)
			}
			defer func() {
				unix.Kill(pid, unix.SIGKILL)
				var ws unix.WaitStatus
				unix.Wait4(pid, &ws, 0, nil)
			}()
			for name := range tc.types {
				want := nsLink(t, target.Process.Pid, name)
				// pid namespaces apply to children: the spawned process itself is in it.
				if got := nsLink(t, pid, name); got != want {
					t.Errorf("%s: got %s, want %s", name, got, want)
				}
			}
		})
	}
}

func TestSpawnReportsFailures(t *testing.T) {
	exe, err := os.Open("/bin/true")
	if err != nil {
		t.Fatal(err)
	}
	defer exe.Close()
	bad, _ := os.Open(os.DevNull)
	defer bad.Close()
	self, _ := os.Open("/proc/self/ns/uts")
	defer self.Close()
	_, err = Spawn(&SpawnConfig{Exe: exe, Argv: []string{"true"}, Join: []Namespace{
		{Type: unix.CLONE_NEWUTS, Fd: int(self.Fd())},
		{Type: unix.CLONE_NEWNET, Fd: int(bad.Fd())},
	}})
	// The caller learns which join failed, to name its path.
	var je *JoinError
	if !errors.As(err, &je) || je.Index != 1 || je.Err != unix.EINVAL || !strings.Contains(err.Error(), "setns") {
		t.Fatalf("want a setns error for join #1, got %v", err)
	}
	dir, _ := os.Open("/")
	defer dir.Close()
	_, err = Spawn(&SpawnConfig{Exe: dir, Argv: []string{"x"}})
	if err == nil || !strings.Contains(err.Error(), "execveat") {
		t.Fatalf("want an execveat error, got %v", err)
	}
}
