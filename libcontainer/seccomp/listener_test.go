package seccomp

import (
	"net"
	"path/filepath"
	"strings"
	"testing"

	"github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

func TestSendReceiveListener(t *testing.T) {
	tests := []struct {
		name        string
		annotations map[string]string
	}{
		{name: "small state"},
		// Larger than one read and one non-blocking sendmsg.
		{name: "large annotations", annotations: map[string]string{"big": strings.Repeat("x", 1<<20)}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sock := filepath.Join(t.TempDir(), "agent.sock")
			ln, err := net.ListenUnix("unix", &net.UnixAddr{Name: sock, Net: "unix"})
			if err != nil {
				t.Fatal(err)
			}
			defer ln.Close()
			// Any fd will do as the payload; a memfd lets us recognise it on arrival.
			sent, err := unix.MemfdCreate("notify-stand-in", unix.MFD_CLOEXEC)
			if err != nil {
				t.Fatal(err)
			}
			defer unix.Close(sent)
			state := specs.State{Version: specs.Version, ID: "c1", Status: specs.StateCreating, Pid: 4242, Bundle: "/b", Annotations: tt.annotations}

			errc := make(chan error, 1)
			go func() { errc <- SendListener(sock, "meta", state, sent) }()
			conn, err := ln.AcceptUnix()
			if err != nil {
				t.Fatal(err)
			}
			fd, st, err := ReceiveListener(conn)
			conn.Close()
			if err != nil {
				t.Fatalf("ReceiveListener: %v", err)
			}
			defer unix.Close(fd)
			if err := <-errc; err != nil {
				t.Fatalf("SendListener: %v", err)
			}
			var a, b unix.Stat_t
			if unix.Fstat(sent, &a) != nil || unix.Fstat(fd, &b) != nil || a.Ino != b.Ino || a.Dev != b.Dev {
				t.Errorf("received fd %d is not the sent memfd", fd)
			}
			if st.Pid != 4242 || st.Metadata != "meta" || st.State.ID != "c1" || len(st.Fds) != 1 || st.Fds[0] != specs.SeccompFdName ||
				st.State.Annotations["big"] != tt.annotations["big"] {
				t.Errorf("received state %+v does not match the sent one", st.State.ID)
			}
		})
	}
}

func TestSendListenerErrors(t *testing.T) {
	if err := SendListener("/nonexistent/agent.sock", "", specs.State{}, 0); err == nil || !strings.Contains(err.Error(), "failed to connect with seccomp agent") {
		t.Errorf("missing socket: got %v", err)
	}
	if err := SendListener("/x", "", specs.State{}, -1); err == nil || !strings.Contains(err.Error(), "no notify fd") {
		t.Errorf("negative fd: got %v", err)
	}
}
