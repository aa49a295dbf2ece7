// Package seccompagent is a minimal seccomp agent for tests: it listens where
// a profile's listenerPath points, takes the notify fds rt sends, and answers
// each notification with a caller-supplied handler.
package seccompagent

import (
	"errors"
	"fmt"
	"net"
	"sync"

	"github.com/opencontainers/runtime-spec/specs-go"
	libseccomp "github.com/seccomp/libseccomp-golang"
	"golang.org/x/sys/unix"

	"github.com/rtproject/rt/libcontainer/seccomp"
)

// Handler decides the outcome of one notified syscall. The agent fills in
// the response ID.
type Handler func(st *specs.ContainerProcessState, req *libseccomp.ScmpNotifReq) libseccomp.ScmpNotifResp

// Agent serves one listener socket.
type Agent struct {
	ln      *net.UnixListener
	handler Handler
	stop    int // eventfd that wakes every poll loop on Close
	wg      sync.WaitGroup

	mu     sync.Mutex
	states []specs.ContainerProcessState
	errs   []error
}

// Start listens on socketPath (which must not exist) and serves until Close.
func Start(socketPath string, h Handler) (*Agent, error) {
	ln, err := net.ListenUnix("unix", &net.UnixAddr{Name: socketPath, Net: "unix"})
	if err != nil {
		return nil, fmt.Errorf("seccomp agent: %w", err)
	}
	stop, err := unix.Eventfd(0, unix.EFD_CLOEXEC)
	if err != nil {
		ln.Close()
		return nil, fmt.Errorf("seccomp agent: eventfd: %w", err)
	}
	a := &Agent{ln: ln, handler: h, stop: stop}
	a.wg.Add(1)
	go a.accept()
	return a, nil
}

// States returns the container process states received so far.
func (a *Agent) States() []specs.ContainerProcessState {
	a.mu.Lock()
	defer a.mu.Unlock()
	return append([]specs.ContainerProcessState(nil), a.states...)
}

// Close stops the agent and returns the first error any connection hit.
func (a *Agent) Close() error {
	a.ln.Close()
	var one = []byte{1, 0, 0, 0, 0, 0, 0, 0}
	unix.Write(a.stop, one)
	a.wg.Wait()
	unix.Close(a.stop)
	a.mu.Lock()
	defer a.mu.Unlock()
	return errors.Join(a.errs...)
}

func (a *Agent) fail(err error) {
	a.mu.Lock()
	a.errs = append(a.errs, err)
	a.mu.Unlock()
}

func (a *Agent) accept() {
	defer a.wg.Done()
	for {
		conn, err := a.ln.AcceptUnix()
		if err != nil {
			return // closed
		}
		fd, st, err := seccomp.ReceiveListener(conn)
		conn.Close()
		if err != nil {
			a.fail(err)
			continue
		}
		a.mu.Lock()
		a.states = append(a.states, *st)
		a.mu.Unlock()
		a.wg.Add(1)
		go a.serve(fd, st)
	}
}

// serve answers notifications until the filtered processes are gone (the
// kernel then reports POLLHUP) or the agent is closed.
func (a *Agent) serve(fd int, st *specs.ContainerProcessState) {
	defer a.wg.Done()
	defer unix.Close(fd)
	for {
		pfds := []unix.PollFd{{Fd: int32(fd), Events: unix.POLLIN}, {Fd: int32(a.stop), Events: unix.POLLIN}}
		if _, err := unix.Poll(pfds, -1); err != nil {
			if errors.Is(err, unix.EINTR) {
				continue
			}
			a.fail(fmt.Errorf("poll notify fd: %w", err))
			return
		}
		if pfds[1].Revents != 0 {
			return
		}
		if pfds[0].Revents&unix.POLLIN == 0 {
			return // POLLHUP: no process uses the filter any more
		}
		req, err := libseccomp.NotifReceive(libseccomp.ScmpFd(fd))
		if err != nil {
			// The notifying process may have died in between (ENOENT).
			continue
		}
		resp := a.handler(st, req)
		resp.ID = req.ID
		if err := libseccomp.NotifRespond(libseccomp.ScmpFd(fd), &resp); err != nil && !errors.Is(err, unix.ENOENT) {
			a.fail(fmt.Errorf("respond to notification %d: %w", req.ID, err))
		}
	}
}
