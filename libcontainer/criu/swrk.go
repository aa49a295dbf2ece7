// Package criu drives CRIU through its RPC interface: `criu swrk` started on
// one end of a socketpair, protobuf requests and replies (package criurpc)
// on the other.
//
// It knows the protocol (requests, notifications, fds passed with them, a
// bounded wait for every reply and for the process) and nothing about
// containers: what to dump and how to describe it is the caller's business.
package criu

import (
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"github.com/rtproject/rt/libcontainer/criu/criurpc"
)

// DefaultTimeout bounds each wait for a reply from CRIU, and the wait for
// its exit. A dump or restore of a large container is one reply away.
const DefaultTimeout = 10 * time.Minute

// maxMessage is larger than any reply CRIU sends (its own limit is 8 KiB).
const maxMessage = 64 << 10

// Options say how to start `criu swrk`.
type Options struct {
	// Path is the criu binary; a name without a slash is looked up in $PATH.
	Path string
	// Stdio become CRIU's fds 0-2, nil meaning /dev/null. A restored
	// process tree inherits them where its image says "inherit" (pipes).
	Stdio [3]*os.File
	// ExtraFiles become fds 4, 5, … in CRIU (3 is the RPC socket).
	ExtraFiles []*os.File
	// Timeout bounds each reply and the exit; DefaultTimeout when zero.
	Timeout time.Duration
}

// FirstExtraFd is the fd number the first of Options.ExtraFiles gets in CRIU.
const FirstExtraFd = 4

// Notify handles one notification ("post-dump", "orphan-pts-master", …) while
// CRIU waits for the answer. fds are those that came with it; they are closed
// when Notify returns. A non-nil error aborts the request.
type Notify func(n criurpc.Notify, fds []int) error

// Swrk is a running `criu swrk` and the client end of its socket.
type Swrk struct {
	cmd     *exec.Cmd
	conn    *net.UnixConn
	stderr  *os.File // a memfd, when Options.Stdio[2] was nil
	timeout time.Duration
	exited  bool
	state   *os.ProcessState
}

// Start starts `criu swrk 3`. The caller must Close it.
func Start(o Options) (*Swrk, error) {
	path := o.Path
	if path == "" {
		path = "criu"
	}
	fds, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_SEQPACKET|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return nil, fmt.Errorf("criu: socketpair: %w", err)
	}
	client := os.NewFile(uintptr(fds[0]), "criu-client")
	server := os.NewFile(uintptr(fds[1]), "criu-server")
	defer server.Close()

	s := &Swrk{timeout: o.Timeout}
	if s.timeout <= 0 {
		s.timeout = DefaultTimeout
	}
	stdio := o.Stdio
	var devnull *os.File
	for i := range stdio {
		if stdio[i] != nil {
			continue
		}
		if i == 2 {
			// Kept for the error message should CRIU die before it can
			// answer (it reports start-up failures only on stderr).
			if s.stderr, err = memfd("criu-stderr"); err == nil {
				stdio[i] = s.stderr
				continue
			}
		}
		if devnull == nil {
			if devnull, err = os.OpenFile(os.DevNull, os.O_RDWR|unix.O_CLOEXEC, 0); err != nil {
				client.Close()
				s.closeStderr()
				return nil, err
			}
			defer devnull.Close()
		}
		stdio[i] = devnull
	}
	s.cmd = &exec.Cmd{
		Path:       path,
		Args:       []string{path, "swrk", "3"},
		Stdin:      stdio[0],
		Stdout:     stdio[1],
		Stderr:     stdio[2],
		ExtraFiles: append([]*os.File{server}, o.ExtraFiles...),
	}
	if !strings.Contains(path, "/") {
		lp, err := exec.LookPath(path)
		if err != nil {
			client.Close()
			s.closeStderr()
			return nil, fmt.Errorf("criu: %w", err)
		}
		s.cmd.Path = lp
	}
	if err := s.cmd.Start(); err != nil {
		client.Close()
		s.closeStderr()
		return nil, fmt.Errorf("criu: start %s: %w", path, err)
	}
	conn, err := net.FileConn(client)
	client.Close()
	if err != nil {
		s.cmd.Process.Kill()
		s.wait()
		s.closeStderr()
		return nil, fmt.Errorf("criu: %w", err)
	}
	s.conn = conn.(*net.UnixConn)
	return s, nil
}

func memfd(name string) (*os.File, error) {
	fd, err := unix.MemfdCreate(name, unix.MFD_CLOEXEC)
	if err != nil {
		return nil, err
	}
	return os.NewFile(uintptr(fd), name), nil
}

// Pid is CRIU's process id (a restore's cgroup is applied to it).
func (s *Swrk) Pid() int { return s.cmd.Process.Pid }

// Request sends req and answers CRIU's notifications with notify (nil
// acknowledges them all) until the reply to req arrives. A reply that says
// CRIU failed is returned with an *Error.
func (s *Swrk) Request(req *criurpc.Req, notify Notify) (*criurpc.Resp, error) {
	if err := s.send(req); err != nil {
		return nil, err
	}
	for {
		resp, fds, err := s.recv()
		if err != nil {
			return nil, err
		}
		if !resp.Success {
			closeFds(fds)
			return resp, &Error{Type: resp.Type, Errno: int(resp.CrErrno), Msg: resp.CrErrmsg}
		}
		if resp.Type != criurpc.ReqNotify {
			closeFds(fds)
			if resp.Type != req.Type {
				return resp, fmt.Errorf("criu: reply of type %s to a %s request", resp.Type, req.Type)
			}
			return resp, nil
		}
		var n criurpc.Notify
		if resp.Notify != nil {
			n = *resp.Notify
		}
		var nerr error
		if notify != nil {
			nerr = notify(n, fds)
		}
		closeFds(fds)
		if nerr != nil {
			// Answering "failed" makes CRIU undo what it did (thaw a
			// dumped tree, kill a half-restored one) before it replies.
			s.send(&criurpc.Req{Type: criurpc.ReqNotify, NotifySuccess: false})
			return nil, fmt.Errorf("criu %s notification: %w", n.Script, nerr)
		}
		if err := s.send(&criurpc.Req{Type: criurpc.ReqNotify, NotifySuccess: true}); err != nil {
			return nil, err
		}
	}
}

func closeFds(fds []int) {
	for _, fd := range fds {
		unix.Close(fd)
	}
}

func (s *Swrk) send(req *criurpc.Req) error {
	s.conn.SetWriteDeadline(time.Now().Add(s.timeout))
	if _, err := s.conn.Write(req.Marshal()); err != nil {
		return s.deadError(fmt.Errorf("criu: send %s request: %w", req.Type, err))
	}
	return nil
}

func (s *Swrk) recv() (*criurpc.Resp, []int, error) {
	buf := make([]byte, maxMessage)
	oob := make([]byte, unix.CmsgSpace(4*16))
	s.conn.SetReadDeadline(time.Now().Add(s.timeout))
	n, oobn, flags, _, err := s.conn.ReadMsgUnix(buf, oob)
	if err != nil {
		if errors.Is(err, os.ErrDeadlineExceeded) {
			return nil, nil, fmt.Errorf("criu: no reply within %s", s.timeout)
		}
		return nil, nil, s.deadError(fmt.Errorf("criu: read reply: %w", err))
	}
	var fds []int
	if oobn > 0 {
		scms, err := unix.ParseSocketControlMessage(oob[:oobn])
		if err != nil {
			return nil, nil, fmt.Errorf("criu: control message: %w", err)
		}
		for i := range scms {
			if got, err := unix.ParseUnixRights(&scms[i]); err == nil {
				for _, fd := range got {
					unix.CloseOnExec(fd)
				}
				fds = append(fds, got...)
			}
		}
	}
	if n == 0 {
		closeFds(fds)
		return nil, nil, s.deadError(io.ErrUnexpectedEOF)
	}
	if flags&(unix.MSG_TRUNC|unix.MSG_CTRUNC) != 0 {
		closeFds(fds)
		return nil, nil, errors.New("criu: reply truncated")
	}
	resp := &criurpc.Resp{}
	if err := resp.Unmarshal(buf[:n]); err != nil {
		closeFds(fds)
		return nil, nil, fmt.Errorf("criu: decode reply: %w", err)
	}
	return resp, fds, nil
}

// deadError explains a broken socket by CRIU's exit and what it printed.
func (s *Swrk) deadError(err error) error {
	s.conn.Close()
	if werr := s.wait(); werr != nil {
		err = werr
	}
	if msg := s.stderrText(); msg != "" {
		return fmt.Errorf("%w: %s", err, msg)
	}
	return err
}

// Close ends the session (CRIU exits when its socket closes) and waits for
// CRIU, killing it when it does not go within the timeout. The error is
// CRIU's exit status when that is not success.
func (s *Swrk) Close() error {
	if s.conn != nil {
		s.conn.Close()
	}
	err := s.wait()
	s.closeStderr()
	return err
}

// wait reaps CRIU once, bounded by the timeout.
func (s *Swrk) wait() error {
	if !s.exited {
		s.exited = true
		done := make(chan struct{})
		go func() {
			s.state, _ = s.cmd.Process.Wait()
			close(done)
		}()
		select {
		case <-done:
		case <-time.After(s.timeout):
			s.cmd.Process.Kill()
			<-done
		}
	}
	if s.state == nil || s.state.Success() {
		return nil
	}
	if ws, ok := s.state.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
		return fmt.Errorf("criu: killed by signal %s", ws.Signal())
	}
	return fmt.Errorf("criu: exit status %d", s.state.ExitCode())
}

// stderrText is the error lines CRIU printed, for a failure it could not report over the socket.
func (s *Swrk) stderrText() string {
	if s.stderr == nil {
		return ""
	}
	data := make([]byte, 16<<10)
	n, _ := s.stderr.ReadAt(data, 0)
	return ErrorLines(string(data[:n]), 3)
}

func (s *Swrk) closeStderr() {
	if s.stderr != nil {
		s.stderr.Close()
		s.stderr = nil
	}
}

// ErrorLines returns the last max lines of a CRIU log that report errors
// (the cause comes before a summary or two), joined with "; "; the last
// non-empty lines when none says "Error".
func ErrorLines(log string, max int) string {
	var errs, all []string
	for _, l := range strings.Split(log, "\n") {
		l = strings.TrimSpace(l)
		if l == "" {
			continue
		}
		all = append(all, l)
		if strings.Contains(l, "Error") {
			errs = append(errs, l)
		}
	}
	if len(errs) == 0 {
		errs = all
	}
	if len(errs) > max {
		errs = errs[len(errs)-max:]
	}
	return strings.Join(errs, "; ")
}

// Error is a reply in which CRIU says the request failed.
type Error struct {
	Type  criurpc.ReqType
	Errno int
	Msg   string
}

func (e *Error) Error() string {
	s := "criu " + strings.ToLower(strings.ReplaceAll(e.Type.String(), "_", "-")) + " failed"
	if msg := strings.TrimSpace(e.Msg); msg != "" {
		s += ": " + msg
	}
	if e.Errno != 0 {
		s += fmt.Sprintf(" (%s)", unix.Errno(e.Errno))
	}
	return s
}
