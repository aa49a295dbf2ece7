package integration

import (
	"net"
	"os"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// listenConsole listens on a unix socket as containerd does for
// --console-socket and delivers the pty master rt sends.
func listenConsole(t *testing.T, path string) <-chan *os.File {
	t.Helper()
	l, err := net.ListenUnix("unix", &net.UnixAddr{Name: path, Net: "unix"})
	if err != nil {
		t.Fatal(err)
	}
	ch := make(chan *os.File, 1)
	go func() {
		defer l.Close()
		l.SetDeadline(time.Now().Add(20 * time.Second))
		conn, err := l.AcceptUnix()
		if err != nil {
			close(ch)
			return
		}
		defer conn.Close()
		buf := make([]byte, 256)
		oob := make([]byte, unix.CmsgSpace(4))
		_, oobn, _, _, err := conn.ReadMsgUnix(buf, oob)
		if err != nil {
			close(ch)
			return
		}
		scms, _ := unix.ParseSocketControlMessage(oob[:oobn])
		if len(scms) != 1 {
			close(ch)
			return
		}
		fds, _ := unix.ParseUnixRights(&scms[0])
		if len(fds) != 1 {
			close(ch)
			return
		}
		ch <- os.NewFile(uintptr(fds[0]), "pty-master")
	}()
	return ch
}

// readUntil reads from f until want appears or a deadline passes.
func readUntil(t *testing.T, f *os.File, want string) string {
	t.Helper()
	var out strings.Builder
	done := make(chan struct{})
	go func() {
		defer close(done)
		buf := make([]byte, 1024)
		for !strings.Contains(out.String(), want) {
			n, err := f.Read(buf)
			out.Write(buf[:n])
			if err != nil {
				return
			}
		}
	}()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Errorf("timed out waiting for %q", want)
	}
	return out.String()
}
