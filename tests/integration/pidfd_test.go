package integration

import (
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"golang.org/x/sys/unix"
)

// listenPidfd listens on a unix socket in the test's directory and returns
// its path and a channel that gets the message and the pidfd the first
// connection sends (SCM_RIGHTS).
func listenPidfd(t *testing.T) (string, <-chan pidfdMsg) {
	t.Helper()
	dir, err := os.MkdirTemp(workDir, "pidfd")
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "pidfd.sock")
	ln, err := net.ListenUnix("unix", &net.UnixAddr{Name: path, Net: "unix"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close(); os.RemoveAll(dir) })
	ch := make(chan pidfdMsg, 1)
	go func() {
		defer close(ch)
		conn, err := ln.AcceptUnix()
		if err != nil {
			return
		}
		defer conn.Close()
		buf := make([]byte, 64)
		oob := make([]byte, unix.CmsgSpace(4))
		n, oobn, _, _, err := conn.ReadMsgUnix(buf, oob)
		if err != nil {
			return
		}
		msgs, err := unix.ParseSocketControlMessage(oob[:oobn])
		if err != nil || len(msgs) != 1 {
			return
		}
		fds, err := unix.ParseUnixRights(&msgs[0])
		if err != nil || len(fds) != 1 {
			return
		}
		ch <- pidfdMsg{kind: string(buf[:n]), fd: fds[0]}
	}()
	return path, ch
}

type pidfdMsg struct {
	kind string
	fd   int
}

// pidOfPidfd returns the pid a pidfd refers to, from its fdinfo.
func pidOfPidfd(t *testing.T, fd int) string {
	t.Helper()
	for _, l := range strings.Split(mustRead(t, "/proc/self/fdinfo/"+strconv.Itoa(fd)), "\n") {
		if v, ok := strings.CutPrefix(l, "Pid:"); ok {
			return strings.TrimSpace(v)
		}
	}
	t.Fatalf("fd %d is not a pidfd", fd)
	return ""
}

// TestPidfdSocket: create, run and exec with --pidfd-socket send a pidfd of
// the container's init (of the exec'd process) over the socket, as runc
// does; a signal sent through it reaches that process.
func TestPidfdSocket(t *testing.T) {
	for _, cmd := range []string{"create", "run"} {
		t.Run(cmd, func(t *testing.T) {
			b := newBundle(t, "sleep", "100")
			b.write()
			sock, ch := listenPidfd(t)
			args := []string{cmd, "--bundle", b.Dir, "--pidfd-socket", sock, b.ID}
			if cmd == "run" {
				args = append([]string{cmd, "-d"}, args[1:]...)
			}
			b.mustRT(args...)
			got, ok := <-ch
			if !ok {
				t.Fatal("no pidfd received")
			}
			defer unix.Close(got.fd)
			pid := b.pid()
			if got.kind != "standard" || pidOfPidfd(t, got.fd) != strconv.Itoa(pid) {
				t.Errorf("received %q, a pidfd of pid %s; want \"standard\" and the init %d", got.kind, pidOfPidfd(t, got.fd), pid)
			}
			if err := unix.PidfdSendSignal(got.fd, unix.SIGKILL, nil, 0); err != nil {
				t.Fatalf("pidfd_send_signal: %v", err)
			}
			b.waitStatus("stopped")
			b.deleteAndCheck(pid)
		})
	}
	t.Run("exec", func(t *testing.T) {
		b := newBundle(t, "sleep", "100")
		pid := b.start()
		sock, ch := listenPidfd(t)
		pidFile := filepath.Join(b.Dir, "exec.pid")
		b.mustRT("exec", "-d", "--pid-file", pidFile, "--pidfd-socket", sock, b.ID, "sleep", "100")
		got, ok := <-ch
		if !ok {
			t.Fatal("no pidfd received")
		}
		defer unix.Close(got.fd)
		execPid := mustRead(t, pidFile)
		if got.kind != "setns" || pidOfPidfd(t, got.fd) != execPid {
			t.Errorf("received %q, a pidfd of pid %s; want \"setns\" and the exec'd process %s", got.kind, pidOfPidfd(t, got.fd), execPid)
		}
		if err := unix.PidfdSendSignal(got.fd, unix.SIGKILL, nil, 0); err != nil {
			t.Fatalf("pidfd_send_signal: %v", err)
		}
		if st := b.status(); st != "running" {
			t.Errorf("the container is %s after its exec'd process was killed", st)
		}
		b.rt("kill", b.ID, "KILL")
		b.waitStatus("stopped")
		b.deleteAndCheck(pid)
	})
	// A socket nobody listens on fails before anything starts.
	b := newBundle(t, "true")
	b.write()
	if r := b.rt("create", "--bundle", b.Dir, "--pidfd-socket", filepath.Join(workDir, "nobody.sock"), b.ID); r.Code == 0 {
		t.Errorf("create with a dead --pidfd-socket: %s", r)
	}
	assertNoLeaks(t, b, 0)
}
