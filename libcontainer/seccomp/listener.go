package seccomp

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"slices"

	"github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

// SendListener connects to the seccomp agent at listenerPath and sends it the
// notify fd together with the container process state, as the runtime-spec
// describes: one SCM_RIGHTS message whose data is the specs.ContainerProcessState
// JSON (fds ["seccompFd"], metadata = listenerMetadata, state = the container
// state). The caller keeps notifyFd and closes it afterwards.
//
// listenerPath is a host path: call this from a process in the host mount
// namespace (rt's parent side), not from init.
func SendListener(listenerPath string, metadata string, state specs.State, notifyFd int) error {
	if notifyFd < 0 {
		return fmt.Errorf("send seccomp fd to %s: no notify fd", listenerPath)
	}
	msg, err := json.Marshal(specs.ContainerProcessState{
		Version:  specs.Version,
		Fds:      []string{specs.SeccompFdName},
		Pid:      state.Pid,
		Metadata: metadata,
		State:    state,
	})
	if err != nil {
		return fmt.Errorf("encode container process state: %w", err)
	}
	conn, err := net.DialUnix("unix", nil, &net.UnixAddr{Name: listenerPath, Net: "unix"})
	if err != nil {
		return fmt.Errorf("failed to connect with seccomp agent: %w", err)
	}
	defer conn.Close()
	// The fd rides with the first bytes; a large state (annotations) may not
	// fit one sendmsg on the non-blocking socket, so the rest follows as data.
	n, oobn, err := conn.WriteMsgUnix(msg, unix.UnixRights(notifyFd), nil)
	if err == nil && oobn == 0 {
		err = errors.New("fd not sent")
	}
	if err == nil && n < len(msg) {
		_, err = conn.Write(msg[n:])
	}
	if err != nil {
		return fmt.Errorf("send seccomp fd to %s: %w", listenerPath, err)
	}
	return nil
}

// ReceiveListener is the agent's side of SendListener: it reads one container
// process state and returns the seccomp notify fd it carried (close-on-exec).
// Other fds that came with it are closed.
func ReceiveListener(conn *net.UnixConn) (notifyFd int, st *specs.ContainerProcessState, err error) {
	buf := make([]byte, 64*1024)
	oob := make([]byte, unix.CmsgSpace(4*8)) // room for a few fds
	n, oobn, _, _, err := conn.ReadMsgUnix(buf, oob)
	if err != nil {
		return -1, nil, fmt.Errorf("read container process state: %w", err)
	}
	fds, err := parseRights(oob[:oobn])
	if err != nil {
		return -1, nil, err
	}
	keep := -1
	defer func() {
		for i, fd := range fds {
			if i != keep {
				unix.Close(fd)
			}
		}
	}()
	// The JSON may not have fit one read; the rest follows on the stream.
	rest, err := io.ReadAll(conn)
	if err != nil {
		return -1, nil, fmt.Errorf("read container process state: %w", err)
	}
	st = &specs.ContainerProcessState{}
	if err := json.Unmarshal(append(buf[:n], rest...), st); err != nil {
		return -1, nil, fmt.Errorf("decode container process state: %w", err)
	}
	i := slices.Index(st.Fds, specs.SeccompFdName)
	if i < 0 || i >= len(fds) {
		return -1, nil, fmt.Errorf("container process state names fds %q, received %d fds: no %s", st.Fds, len(fds), specs.SeccompFdName)
	}
	keep = i
	return fds[i], st, nil
}

func parseRights(oob []byte) ([]int, error) {
	msgs, err := unix.ParseSocketControlMessage(oob)
	if err != nil {
		return nil, fmt.Errorf("parse control message: %w", err)
	}
	var fds []int
	for _, m := range msgs {
		got, err := unix.ParseUnixRights(&m)
		if err != nil {
			continue
		}
		for _, fd := range got {
			unix.CloseOnExec(fd)
		}
		fds = append(fds, got...)
	}
	if len(fds) == 0 {
		return nil, errors.New("container process state came without fds")
	}
	return fds, nil
}
