package rootfs

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"strings"
	"syscall"

	"github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

// formatIDMap renders mappings in the /proc/PID/uid_map format. Through an
// id-mapped mount, a file stored with id containerID appears as hostID: the
// same reading as a container's own user namespace, so a container whose
// namespace maps 0 to hostID sees its files at their stored ids.
func formatIDMap(maps []specs.LinuxIDMapping) string {
	var b strings.Builder
	for _, m := range maps {
		fmt.Fprintf(&b, "%d %d %d\n", m.ContainerID, m.HostID, m.Size)
	}
	return b.String()
}

// newUserNamespace returns a handle of a fresh user namespace carrying the
// given mappings, as mount_setattr(MOUNT_ATTR_IDMAP) needs.
//
// A process cannot unshare a user namespace once it has threads, so a child
// is created in one. Rather than depending on what the binary does when run,
// the child is traced: it stops on the SIGTRAP that follows a traced execve,
// before any of its own code runs, and stays there until it is killed once
// its namespace has been opened.
func newUserNamespace(uidMap, gidMap []specs.LinuxIDMapping) (*os.File, error) {
	// A tracee's stops go to the thread that started it.
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()

	pidfd := -1
	cmd := &exec.Cmd{
		Path: "/proc/self/exe",
		Args: []string{"rt-userns-holder"},
		SysProcAttr: &syscall.SysProcAttr{
			Cloneflags: syscall.CLONE_NEWUSER,
			Ptrace:     true,
			PidFD:      &pidfd,
			Pdeathsig:  syscall.SIGKILL,
		},
	}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start user namespace holder: %w", err)
	}
	defer func() {
		_ = cmd.Process.Kill()
		reap(cmd.Process.Pid)
		_ = cmd.Process.Release()
		if pidfd >= 0 {
			unix.Close(pidfd)
		}
	}()

	// The pid the clone returned is in our pid namespace, but /proc may
	// belong to another (the host's, before pivot_root); the pidfd's fdinfo
	// gives the pid as that /proc numbers it.
	pid, err := procPidOfPidfd(pidfd)
	if err != nil {
		return nil, err
	}
	dir := "/proc/" + strconv.Itoa(pid)
	if err := os.WriteFile(dir+"/uid_map", []byte(formatIDMap(uidMap)), 0); err != nil {
		return nil, fmt.Errorf("write uid_map: %w", err)
	}
	if err := os.WriteFile(dir+"/gid_map", []byte(formatIDMap(gidMap)), 0); err != nil {
		return nil, fmt.Errorf("write gid_map: %w", err)
	}
	ns, err := os.OpenFile(dir+"/ns/user", os.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, fmt.Errorf("open user namespace: %w", err)
	}
	return ns, nil
}

// reap waits for the killed holder. Its ptrace stop may be reported before
// its death, so wait until it is really gone.
func reap(pid int) {
	for {
		var ws unix.WaitStatus
		_, err := unix.Wait4(pid, &ws, unix.WALL, nil)
		if err == unix.EINTR {
			continue
		}
		if err != nil || ws.Exited() || ws.Signaled() {
			return
		}
	}
}

func procPidOfPidfd(pidfd int) (int, error) {
	info, err := os.ReadFile("/proc/self/fdinfo/" + strconv.Itoa(pidfd))
	if err != nil {
		return 0, fmt.Errorf("read pidfd info: %w", err)
	}
	sc := bufio.NewScanner(bytes.NewReader(info))
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "Pid:"); ok {
			pid, err := strconv.Atoi(strings.TrimSpace(v))
			if err != nil || pid <= 0 {
				return 0, fmt.Errorf("pidfd info: holder pid %q not visible in /proc", v)
			}
			return pid, nil
		}
	}
	return 0, fmt.Errorf("pidfd info: no Pid line")
}
