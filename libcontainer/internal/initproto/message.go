package initproto

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/sirupsen/logrus"
	"golang.org/x/sys/unix"
)

// Type is the kind of a message; the package comment gives their order.
type Type string

const (
	MsgIDMapsDone   Type = "idmaps-done"   // rt → init, first, only with IDMapsEnv: the maps are written
	MsgConfig       Type = "config"        // rt → init: Message.Config is the Config
	MsgMountRequest Type = "mount-request" // init → rt (create): clone Message.Mount's source
	MsgMountSource  Type = "mount-source"  // rt → init, carries the detached mount tree
	MsgRunHooks     Type = "run-hooks"     // init → rt (create): set resources, run prestart/createRuntime
	MsgHooksDone    Type = "hooks-done"    // rt → init
	MsgSeccompFd    Type = "seccomp-fd"    // init → rt, carries the notify fd
	MsgSeccompAck   Type = "seccomp-ack"   // rt → init
	MsgReady        Type = "ready"         // init → rt (create): set up, waits for recorded
	MsgRecorded     Type = "recorded"      // rt → init (create): state.json has it; wait on exec.fifo
	MsgExec         Type = "exec"          // init → rt (exec): about to execve the process
	MsgError        Type = "error"         // init → rt: setup failed, Message.Error says why
	MsgLog          Type = "log"           // init → rt: Message.Log is a logrus JSON entry
)

// Message is one message on the init socket.
type Message struct {
	Type   Type            `json:"type"`
	Error  string          `json:"error,omitempty"`
	Log    string          `json:"log,omitempty"`
	Config json.RawMessage `json:"config,omitempty"`
	// Mount is the index in the spec's mounts of a mount-request.
	Mount int `json:"mount,omitempty"`
}

// maxMessage bounds what Recv allocates for a peer's length prefix.
const maxMessage = 64 << 20

// Channel is one end of the init socket.
type Channel struct {
	f *os.File
}

// NewChannel wraps an end of the socketpair.
func NewChannel(f *os.File) *Channel { return &Channel{f: f} }

// Close closes this end.
func (c *Channel) Close() error { return c.f.Close() }

// SetDeadline bounds the calls in progress and to come, as os.File's does;
// it works on an end in non-blocking mode (rt's).
func (c *Channel) SetDeadline(t time.Time) error { return c.f.SetDeadline(t) }

// Send writes m, with fds passed along as SCM_RIGHTS.
func (c *Channel) Send(m Message, fds ...int) error {
	buf, err := Encode(m)
	if err != nil {
		return err
	}
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

// Encode is m as Send writes it: the length, then the JSON. The fast path
// of `rt exec` encodes its exec message before it forks the process that
// writes it with a raw system call.
func Encode(m Message) ([]byte, error) {
	payload, err := json.Marshal(m)
	if err != nil {
		return nil, err
	}
	buf := make([]byte, 4+len(payload))
	binary.LittleEndian.PutUint32(buf, uint32(len(payload)))
	copy(buf[4:], payload)
	return buf, nil
}

// SendConfig sends cfg as the config message.
func (c *Channel) SendConfig(cfg *Config) error {
	data, err := json.Marshal(cfg)
	if err != nil {
		return err
	}
	return c.Send(Message{Type: MsgConfig, Config: data})
}

// Recv reads one message and any fds passed with it (close-on-exec). It
// returns io.EOF when the peer closed the socket between messages.
func (c *Channel) Recv() (Message, []int, error) {
	var m Message
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
	// Memory grows with what arrives, not with what the peer announced.
	payload, err := io.ReadAll(io.LimitReader(c.f, int64(size)))
	if err == nil && len(payload) < int(size) {
		err = io.ErrUnexpectedEOF
	}
	if err != nil {
		return m, fds, err
	}
	if err := json.Unmarshal(payload, &m); err != nil {
		return m, fds, err
	}
	return m, fds, nil
}

// Expect reads the next message and fails unless it has type t; an error
// message from the peer becomes the error.
func (c *Channel) Expect(t Type) (Message, []int, error) {
	m, fds, err := c.Recv()
	if err != nil {
		return m, fds, err
	}
	if m.Type == MsgError {
		return m, fds, errors.New(m.Error)
	}
	if m.Type != t {
		return m, fds, fmt.Errorf("unexpected message %q, want %q", m.Type, t)
	}
	return m, fds, nil
}

// LogWriter carries the init's log entries to rt, which writes them where
// --log says: the init's own stderr belongs to the container.
type LogWriter struct{ Ch *Channel }

func (w LogWriter) Write(p []byte) (int, error) {
	if err := w.Ch.Send(Message{Type: MsgLog, Log: string(p)}); err != nil {
		return 0, err
	}
	return len(p), nil
}

// RelayLog re-logs, in rt, an entry the init sent with LogWriter, with its
// level, message and fields (a trace step's duration, say).
func RelayLog(entry string) {
	var e map[string]any
	if err := json.Unmarshal([]byte(entry), &e); err != nil {
		logrus.Warnf("init: %s", entry)
		return
	}
	lvl, err := logrus.ParseLevel(fmt.Sprint(e[logrus.FieldKeyLevel]))
	if err != nil {
		lvl = logrus.InfoLevel
	}
	// An init's panic or fatal entry is rt's error: whether rt stops is
	// for rt to decide (logrus's own Panic and Fatal would panic or exit).
	if lvl < logrus.ErrorLevel {
		lvl = logrus.ErrorLevel
	}
	if !logrus.IsLevelEnabled(lvl) {
		return
	}
	msg := fmt.Sprint(e[logrus.FieldKeyMsg])
	// rt stamps the entry anew: the two clocks are the same.
	for _, k := range []string{logrus.FieldKeyLevel, logrus.FieldKeyMsg, logrus.FieldKeyTime} {
		delete(e, k)
	}
	logrus.WithFields(e).Log(lvl, msg)
}
