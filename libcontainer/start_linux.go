package libcontainer

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

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
	fifoPath := filepath.Join(c.dir, execFifoName)
	// Opening for read releases the init blocked opening it for write.
	f, err := os.OpenFile(fifoPath, os.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		return fmt.Errorf("open exec fifo: %w", err)
	}
	// The init runs the startContainer hooks, then execs: its write end is
	// close-on-exec, so EOF here means the user process has started (or the
	// init died). A failure arrives as a message instead.
	data, err := io.ReadAll(f)
	f.Close()
	if err != nil {
		return fmt.Errorf("read exec fifo: %w", err)
	}
	os.Remove(fifoPath)
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
