package initproto

import (
	"encoding/binary"
	"encoding/json"
	"io"
	"os"
	"testing"

	"github.com/sirupsen/logrus"
	"golang.org/x/sys/unix"
)

// frame encodes m as Send puts it on the wire.
func frame(m Message) []byte {
	payload, _ := json.Marshal(m)
	return append(binary.LittleEndian.AppendUint32(nil, uint32(len(payload))), payload...)
}

// FuzzRecv feeds rt's end of the init socket whatever a broken or hostile
// init could write, and relays its log entries as converse does: Recv must
// return messages or an error, never panic, hang or allocate what a length
// prefix merely announces.
func FuzzRecv(f *testing.F) {
	for _, m := range []Message{
		{Type: MsgRunHooks}, {Type: MsgReady}, {Type: MsgExec}, {Type: MsgSeccompFd},
		{Type: MsgError, Error: "mounts[0]: boom"},
		{Type: MsgLog, Log: `{"level":"warning","msg":"hi","step_ms":3}`},
		{Type: MsgLog, Log: `{"level":"panic","msg":"stop rt"}`},
		{Type: MsgConfig, Config: json.RawMessage(`{"mode":"exec","id":"c1"}`)},
	} {
		f.Add(frame(m))
	}
	f.Add(append(frame(Message{Type: MsgLog, Log: "not json"}), frame(Message{Type: MsgReady})...))
	f.Add([]byte{0xff, 0xff, 0xff, 0x03, '{'})
	f.Add([]byte{2, 0, 0, 0, '{', '}'})
	f.Add([]byte{1, 0})
	logrus.SetOutput(io.Discard)
	logrus.SetLevel(logrus.TraceLevel)
	f.Fuzz(func(t *testing.T, data []byte) {
		fds, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
		if err != nil {
			t.Fatal(err)
		}
		peer := os.NewFile(uintptr(fds[1]), "init")
		go func() {
			peer.Write(data)
			peer.Close()
		}()
		ch := NewChannel(os.NewFile(uintptr(fds[0]), "rt"))
		defer ch.Close()
		for i := 0; ; i++ {
			m, passed, err := ch.Recv()
			for _, fd := range passed {
				unix.Close(fd)
			}
			if err != nil {
				return
			}
			if i > len(data) {
				t.Fatalf("%d messages out of %d bytes", i, len(data))
			}
			if m.Type == MsgLog {
				RelayLog(m.Log)
			}
		}
	})
}
