package libcontainer

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"

	"github.com/rtproject/rt/internal/trace"
	"github.com/rtproject/rt/libcontainer/hooks"
	"github.com/rtproject/rt/libcontainer/internal/initproto"
)

// Start releases a created container's init to exec the user process, then
// runs the poststart hooks once that process has started. A failing
// poststart hook fails Start and stops the container (runtime-spec 1.3,
// lifecycle step 9; runc does the same); `run` then deletes it.
func (c *Container) Start() error {
	if st := c.Status(); st != Created {
		return fmt.Errorf("cannot start a container that is %s", st)
	}
	t := trace.Start()
	pidfd, err := openPid(c.state.InitPid, c.state.InitStartTime)
	if err != nil {
		return fmt.Errorf("cannot start a container that is %s", Stopped)
	}
	defer unix.Close(pidfd)
	fifoPath := filepath.Join(c.dir, execFifoName)
	// Opening for read releases the init blocked opening it for write; not
	// blocking here, as the init may be gone or released by someone else.
	fd, err := unix.Open(fifoPath, unix.O_RDONLY|unix.O_NONBLOCK|unix.O_CLOEXEC, 0)
	if err != nil {
		return fmt.Errorf("open exec fifo: %w", err)
	}
	// Released, the container is running: say so at once, even if this
	// command is killed in the next instant.
	os.Remove(fifoPath)
	data, err := c.readFifo(fd, pidfd)
	if err != nil {
		return err
	}
	msg := string(data)
	if m, ok := strings.CutPrefix(msg, initproto.FifoErrorPrefix); ok {
		return fmt.Errorf("start container: %s", m)
	}
	if m, ok := strings.CutPrefix(msg, initproto.FifoExecFailedPrefix); ok {
		t.Done("start: the container's process could not be run: %s (it exits 255)", m)
	} else {
		t.Done("start: container process started (pid %d)", c.state.InitPid)
	}
	if h := c.state.Config.Hooks; h != nil && len(h.Poststart) > 0 {
		t := trace.Start()
		st := c.OCIState()
		st.Status = specs.StateRunning
		if err := hooks.Run("poststart", h.Poststart, st); err != nil {
			if kerr := c.killAndWait(); kerr != nil {
				return errors.Join(err, fmt.Errorf("stop the container after its poststart hook failed: %w", kerr))
			}
			return err
		}
		t.Done("start: %d poststart hooks ran", len(h.Poststart))
	}
	return nil
}

// readFifo reads what the init writes to exec.fifo until it closes it: it
// runs the startContainer hooks, then execs, and its write end is
// close-on-exec, so EOF means the user process has started. A failure
// arrives as a message instead. The wait ends too when the init dies, when
// it can make no progress, or when it has stopped holding the fifo without
// this reader seeing it close (another process opened the fifo first and
// took its EOF).
func (c *Container) readFifo(fd, pidfd int) ([]byte, error) {
	// Through Go's poller: the wait parks this goroutine, no thread.
	f := os.NewFile(uintptr(fd), execFifoName)
	defer f.Close()
	rc, err := f.SyscallConn()
	if err != nil {
		return nil, err
	}
	var stuck func() error // made on the first check: most starts need none
	released := 0
	check := func() error {
		if stuck == nil {
			stuck = stuckCheck(c.state.InitPid, c.cgroups(), false)
		}
		if err := stuck(); err != nil {
			return err
		}
		// The init closes its end when it execs, and the fifo hangs up a
		// moment after the fd has gone: only a second look tells.
		if c.initStarting(fd) {
			released = 0
		} else if released++; released > 1 {
			return errors.New("exec.fifo was opened by another process: the container was started by it")
		}
		return nil
	}
	// Readable means data or a hang-up after a writer came: poll(2)
	// tells, where read(2) would return EOF before the init has opened
	// its end at all.
	ready := func(fd uintptr) bool {
		fds := []unix.PollFd{{Fd: int32(fd), Events: unix.POLLIN}}
		n, _ := unix.Poll(fds, 0)
		return n > 0
	}
	var data []byte
	buf := make([]byte, 4096)
	drain := func() bool { // false at EOF
		for {
			n, err := unix.Read(fd, buf)
			if n > 0 {
				data = append(data, buf[:n]...)
				continue
			}
			return err == unix.EAGAIN || err == unix.EINTR
		}
	}
	for {
		f.SetReadDeadline(time.Now().Add(checkInterval))
		err := rc.Read(ready)
		switch {
		case err == nil:
			if !drain() {
				return data, nil // EOF: the writer closed it
			}
		case errors.Is(err, os.ErrDeadlineExceeded):
			if waitPidfd(pidfd, 0) {
				// Its last words, if any, are in the fifo already.
				drain()
				if len(data) > 0 {
					return data, nil
				}
				return nil, errors.New("start container: the container's init exited")
			}
			if err := check(); err != nil {
				return nil, fmt.Errorf("start container: %w", err)
			}
		default:
			return nil, fmt.Errorf("read exec fifo: %w", err)
		}
	}
}

// initStarting reports whether the init may still close exec.fifo under
// this reader: it holds the fifo (waiting to open it, or writing to it
// before exec), or it is still rt's init, or in the middle of its exec (the
// command line reads empty while the new program is loaded, and a loaded
// system can take long over the exec of a multi-threaded process).
func (c *Container) initStarting(fd int) bool {
	if argv, err := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", c.state.InitPid)); err != nil || len(argv) == 0 || string(argv) == initArgv {
		return true // gone (the pidfd tells), still rt's, or exec'ing
	}
	var fifo unix.Stat_t
	if err := unix.Fstat(fd, &fifo); err != nil {
		return true
	}
	fdDir := fmt.Sprintf("/proc/%d/fd", c.state.InitPid)
	entries, err := os.ReadDir(fdDir)
	if err != nil {
		return true // not ours to look into, or gone: the pidfd tells
	}
	for _, e := range entries {
		var st unix.Stat_t
		if unix.Stat(filepath.Join(fdDir, e.Name()), &st) == nil && st.Dev == fifo.Dev && st.Ino == fifo.Ino {
			return true
		}
	}
	return false
}
