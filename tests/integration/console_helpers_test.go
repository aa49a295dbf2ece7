package integration

import (
	"net"
	"os"
	"testing"
	"time"
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
		master, err := receiveConsole(t, l)
		if err != nil || master == nil {
			close(ch)
			return
		}
		ch <- master
	}()
	return ch
}
