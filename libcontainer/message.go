package libcontainer

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/sirupsen/logrus"
	"golang.org/x/sys/unix"
)

// The parent and the container's init talk over a unix stream socketpair with
// length-prefixed JSON messages; file descriptors ride on the header bytes.

type msgType string

const (
	msgConfig     msgType = "config"      // parent → init: the initConfig
	msgRunHooks   msgType = "run-hooks"   // init → parent: run prestart/createRuntime now
	msgHooksDone  msgType = "hooks-done"  // parent → init
	msgSeccompFd  msgType = "seccomp-fd"  // init → parent, carries the notify fd
	msgSeccompAck msgType = "seccomp-ack" // parent → init
	msgReady      msgType = "ready"       // init → parent: waiting on exec.fifo (or about to exec, for exec)
	msgError      msgType = "error"       // either way: setup failed
	msgLog        msgType = "log"         // init → parent: a logrus JSON entry for rt's own log
)

type message struct {
	Type   msgType         `json:"type"`
	Error  string          `json:"error,omitempty"`
	Pid    int             `json:"pid,omitempty"`
	Config json.RawMessage `json:"config,omitempty"`
}

const maxMessage = 64 << 20

type channel struct {
	f *os.File
}

func (c *channel) send(m message, fds ...int) error {
	payload, err := json.Marshal(m)
	if err != nil {
		return err
	}
	buf := make([]byte, 4+len(payload))
	binary.LittleEndian.PutUint32(buf, uint32(len(payload)))
	copy(buf[4:], payload)
	var oob []byte
	if len(fds) > 0 {
		oob = unix.UnixRights(fds...)
	}
	rc, err := c.f.SyscallConn()
	if err != nil {
		return err
	}
	var n int
	var serr error
	if err := rc.Write(func(fd uintptr) bool {
		n, serr = unix.SendmsgN(int(fd), buf, oob, nil, 0)
		return serr != unix.EAGAIN
	}); err != nil {
		return err
	}
	if serr != nil {
		return fmt.Errorf("send %s message: %w", m.Type, serr)
	}
	if n < len(buf) {
		if _, err := c.f.Write(buf[n:]); err != nil {
			return fmt.Errorf("send %s message: %w", m.Type, err)
		}
	}
	return nil
}

// recv reads one message and any fds passed with it.
func (c *channel) recv() (message, []int, error) {
	var m message
	hdr := make([]byte, 4)
	oob := make([]byte, unix.CmsgSpace(4*4))
	rc, err := c.f.SyscallConn()
	if err != nil {
		return m, nil, err
	}
	var n, oobn int
	var rerr error
	if err := rc.Read(func(fd uintptr) bool {
		n, oobn, _, _, rerr = unix.Recvmsg(int(fd), hdr, oob, unix.MSG_CMSG_CLOEXEC)
		return rerr != unix.EAGAIN
	}); err != nil {
		return m, nil, err
	}
	if rerr != nil {
		return m, nil, rerr
	}
	if n == 0 {
		return m, nil, io.EOF
	}
	if n < 4 {
		if _, err := io.ReadFull(c.f, hdr[n:]); err != nil {
			return m, nil, err
		}
	}
	var fds []int
	if oobn > 0 {
		scms, err := unix.ParseSocketControlMessage(oob[:oobn])
		if err != nil {
			return m, nil, err
		}
		for _, scm := range scms {
			rights, err := unix.ParseUnixRights(&scm)
			if err == nil {
				fds = append(fds, rights...)
			}
		}
	}
	size := binary.LittleEndian.Uint32(hdr)
	if size > maxMessage {
		return m, fds, errors.New("message too large")
	}
	payload := make([]byte, size)
	if _, err := io.ReadFull(c.f, payload); err != nil {
		return m, fds, err
	}
	if err := json.Unmarshal(payload, &m); err != nil {
		return m, fds, err
	}
	return m, fds, nil
}

// expect reads the next message and fails unless it has type t; an error message from the peer becomes the error.
func (c *channel) expect(t msgType) (message, []int, error) {
	m, fds, err := c.recv()
	if err != nil {
		return m, fds, err
	}
	if m.Type == msgError {
		return m, fds, errors.New(m.Error)
	}
	if m.Type != t {
		return m, fds, fmt.Errorf("unexpected message %q, want %q", m.Type, t)
	}
	return m, fds, nil
}

// logWriter carries the init's log entries to the parent, which writes them
// where --log says; the init's own stderr belongs to the container.
type logWriter struct{ ch *channel }

func (w logWriter) Write(p []byte) (int, error) {
	if err := w.ch.send(message{Type: msgLog, Error: string(p)}); err != nil {
		return 0, err
	}
	return len(p), nil
}

// relayLog re-logs an entry the init sent.
func relayLog(entry string) {
	var e struct {
		Level string `json:"level"`
		Msg   string `json:"msg"`
	}
	if err := json.Unmarshal([]byte(entry), &e); err != nil {
		logrus.Warnf("init: %s", entry)
		return
	}
	lvl, err := logrus.ParseLevel(e.Level)
	if err != nil {
		lvl = logrus.InfoLevel
	}
	logrus.StandardLogger().Log(lvl, e.Msg)
}

func newSocketPair(name string) (parent, child *os.File, err error) {
	fds, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return nil, nil, fmt.Errorf("socketpair: %w", err)
	}
	return os.NewFile(uintptr(fds[0]), name+"-parent"), os.NewFile(uintptr(fds[1]), name+"-child"), nil
}
