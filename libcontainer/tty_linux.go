package libcontainer

import (
	"fmt"
	"io"
	"os"
	"sync"

	"golang.org/x/sys/unix"
)

// Console is the terminal of a container `rt run` started without
// --console-socket: the pty master comes back over a socketpair and is
// copied to and from rt's own stdio.
type Console struct {
	parent, child *os.File
	master        *os.File
	saved         *unix.Termios
	out           sync.WaitGroup
}

// NewConsole makes the socketpair whose child end the init sends the pty master through.
func NewConsole() (*Console, error) {
	p, c, err := newSocketPair("console", false)
	if err != nil {
		return nil, err
	}
	return &Console{parent: p, child: c}, nil
}

// ChildEnd is passed to Create as the console connection.
func (t *Console) ChildEnd() *os.File { return t.child }

// CloseChildEnd drops our copy once the init has its own.
func (t *Console) CloseChildEnd() { t.child.Close() }

// Attach receives the pty master and starts copying; stdin is put in raw mode when it is a terminal.
func (t *Console) Attach() error {
	buf := make([]byte, 64)
	oob := make([]byte, unix.CmsgSpace(4))
	_, oobn, _, _, err := unix.Recvmsg(int(t.parent.Fd()), buf, oob, unix.MSG_CMSG_CLOEXEC)
	if err != nil {
		return fmt.Errorf("receive pty master: %w", err)
	}
	scms, err := unix.ParseSocketControlMessage(oob[:oobn])
	if err != nil || len(scms) != 1 {
		return fmt.Errorf("receive pty master: no fd")
	}
	fds, err := unix.ParseUnixRights(&scms[0])
	if err != nil || len(fds) != 1 {
		return fmt.Errorf("receive pty master: no fd")
	}
	t.master = os.NewFile(uintptr(fds[0]), "pty-master")
	if st, err := unix.IoctlGetTermios(0, unix.TCGETS); err == nil {
		t.saved = st
		raw := *st
		raw.Iflag &^= unix.IGNBRK | unix.BRKINT | unix.PARMRK | unix.ISTRIP | unix.INLCR | unix.IGNCR | unix.ICRNL | unix.IXON
		raw.Oflag &^= unix.OPOST
		raw.Lflag &^= unix.ECHO | unix.ECHONL | unix.ICANON | unix.ISIG | unix.IEXTEN
		raw.Cflag &^= unix.CSIZE | unix.PARENB
		raw.Cflag |= unix.CS8
		raw.Cc[unix.VMIN], raw.Cc[unix.VTIME] = 1, 0
		unix.IoctlSetTermios(0, unix.TCSETS, &raw)
		t.Resize()
	}
	go io.Copy(t.master, os.Stdin)
	t.out.Add(1)
	go func() {
		defer t.out.Done()
		io.Copy(os.Stdout, t.master)
	}()
	return nil
}

// Resize copies our terminal's size to the container's.
func (t *Console) Resize() {
	if t.master == nil {
		return
	}
	if ws, err := unix.IoctlGetWinsize(0, unix.TIOCGWINSZ); err == nil {
		unix.IoctlSetWinsize(int(t.master.Fd()), unix.TIOCSWINSZ, ws)
	}
}

// Wait waits until the container's output is drained (the slave side closed).
func (t *Console) Wait() { t.out.Wait() }

// Close restores the terminal and closes the pty.
func (t *Console) Close() {
	if t.saved != nil {
		unix.IoctlSetTermios(0, unix.TCSETS, t.saved)
	}
	if t.master != nil {
		t.master.Close()
	}
	t.parent.Close()
}
