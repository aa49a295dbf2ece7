package initproto

import (
	"io"
	"os"
	"strings"
	"testing"

	"github.com/sirupsen/logrus"
	"golang.org/x/sys/unix"
)

// pair returns the two ends of a socketpair as channels.
func pair(t *testing.T) (*Channel, *Channel) {
	t.Helper()
	fds, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	a, b := NewChannel(os.NewFile(uintptr(fds[0]), "a")), NewChannel(os.NewFile(uintptr(fds[1]), "b"))
	t.Cleanup(func() { a.Close(); b.Close() })
	return a, b
}

func TestSendRecv(t *testing.T) {
	for _, tt := range []struct {
		name string
		msg  Message
	}{
		{"bare", Message{Type: MsgReady}},
		{"error", Message{Type: MsgError, Error: "mounts[0]: boom"}},
		{"log", Message{Type: MsgLog, Log: `{"level":"warning","msg":"hi"}`}},
		// Bigger than a socket buffer: the rest follows the first sendmsg.
		{"large", Message{Type: MsgLog, Log: strings.Repeat("x", 1<<20)}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			a, b := pair(t)
			errc := make(chan error, 1)
			go func() { errc <- a.Send(tt.msg) }()
			got, fds, err := b.Recv()
			if err != nil {
				t.Fatal(err)
			}
			if err := <-errc; err != nil {
				t.Fatal(err)
			}
			if got.Type != tt.msg.Type || got.Error != tt.msg.Error || got.Log != tt.msg.Log || len(fds) != 0 {
				t.Errorf("got %q %q %d bytes of log, %d fds", got.Type, got.Error, len(got.Log), len(fds))
			}
		})
	}
}

func TestSendRecvFd(t *testing.T) {
	a, b := pair(t)
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	defer w.Close()
	if err := a.Send(Message{Type: MsgSeccompFd}, int(w.Fd())); err != nil {
		t.Fatal(err)
	}
	m, fds, err := b.Recv()
	if err != nil || m.Type != MsgSeccompFd || len(fds) != 1 {
		t.Fatalf("got %+v, fds %v, err %v", m, fds, err)
	}
	got := os.NewFile(uintptr(fds[0]), "received")
	defer got.Close()
	if flags, err := unix.FcntlInt(got.Fd(), unix.F_GETFD, 0); err != nil || flags&unix.FD_CLOEXEC == 0 {
		t.Errorf("received fd is not close-on-exec (flags %#x, %v)", flags, err)
	}
	// The received fd is the pipe's write end.
	if _, err := got.Write([]byte("x")); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 1)
	if _, err := r.Read(buf); err != nil || buf[0] != 'x' {
		t.Errorf("read %q, %v", buf, err)
	}
}

func TestConfigRoundTrip(t *testing.T) {
	a, b := pair(t)
	cfg := &Config{Mode: ModeExec, ID: "c1", ConsoleFd: -1, CgroupPaths: map[string]string{"memory": "/sys/fs/cgroup/memory/c1"}}
	if err := a.SendConfig(cfg); err != nil {
		t.Fatal(err)
	}
	m, _, err := b.Expect(MsgConfig)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(m.Config), `"mode":"exec"`) || !strings.Contains(string(m.Config), `"console_fd":-1`) {
		t.Errorf("config %s", m.Config)
	}
}

func TestExpect(t *testing.T) {
	for _, tt := range []struct {
		name    string
		send    *Message // nil: close the socket
		wantErr string
	}{
		{"match", &Message{Type: MsgHooksDone}, ""},
		{"other type", &Message{Type: MsgReady}, `unexpected message "ready", want "hooks-done"`},
		{"peer error", &Message{Type: MsgError, Error: "linux.sysctl: no"}, "linux.sysctl: no"},
		{"closed", nil, io.EOF.Error()},
	} {
		t.Run(tt.name, func(t *testing.T) {
			a, b := pair(t)
			if tt.send != nil {
				if err := a.Send(*tt.send); err != nil {
					t.Fatal(err)
				}
			} else {
				a.Close()
			}
			_, _, err := b.Expect(MsgHooksDone)
			switch {
			case tt.wantErr == "" && err != nil:
				t.Errorf("unexpected error %v", err)
			case tt.wantErr != "" && (err == nil || err.Error() != tt.wantErr):
				t.Errorf("error %v, want %q", err, tt.wantErr)
			}
		})
	}
}

func TestRecvRefusesHugeLength(t *testing.T) {
	a, b := pair(t)
	// A length prefix above maxMessage must not make Recv allocate it.
	if _, err := a.f.Write([]byte{0xff, 0xff, 0xff, 0xff}); err != nil {
		t.Fatal(err)
	}
	if _, _, err := b.Recv(); err == nil || !strings.Contains(err.Error(), "too large") {
		t.Errorf("err %v, want message too large", err)
	}
}

func TestLogWriter(t *testing.T) {
	a, b := pair(t)
	if n, err := (LogWriter{Ch: a}).Write([]byte("entry")); n != 5 || err != nil {
		t.Fatalf("Write = %d, %v", n, err)
	}
	m, _, err := b.Recv()
	if err != nil || m.Type != MsgLog || m.Log != "entry" {
		t.Errorf("got %+v, %v", m, err)
	}
	b.Close()
	a.Close()
	if _, err := (LogWriter{Ch: a}).Write([]byte("late")); err == nil {
		t.Errorf("write on a closed channel succeeded")
	}
}

// TestRelayLog: an entry of the init is logged again by rt with its level,
// message and fields (a trace step's duration), and only at levels rt logs.
func TestRelayLog(t *testing.T) {
	var buf strings.Builder
	std := logrus.StandardLogger()
	out, lvl, f := std.Out, std.GetLevel(), std.Formatter
	std.SetOutput(&buf)
	std.SetFormatter(&logrus.JSONFormatter{DisableTimestamp: true})
	defer func() { std.SetOutput(out); std.SetLevel(lvl); std.SetFormatter(f) }()

	step := `{"duration":"1.2ms","level":"debug","msg":"init: pivot_root to /r","time":"2026-12-02T08:00:00Z"}`
	std.SetLevel(logrus.InfoLevel)
	RelayLog(step)
	if buf.Len() != 0 {
		t.Errorf("a debug entry relayed at info level: %q", buf.String())
	}
	std.SetLevel(logrus.DebugLevel)
	RelayLog(step)
	RelayLog(`{"level":"warning","msg":"ignoring unknown or unavailable capabilities: [CAP_X]"}`)
	RelayLog(`not json`)
	want := `{"duration":"1.2ms","level":"debug","msg":"init: pivot_root to /r"}
{"level":"warning","msg":"ignoring unknown or unavailable capabilities: [CAP_X]"}
{"level":"warning","msg":"init: not json"}
`
	if buf.String() != want {
		t.Errorf("relayed:\n%s\nwant:\n%s", buf.String(), want)
	}
}
