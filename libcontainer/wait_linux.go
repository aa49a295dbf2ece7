package libcontainer

import (
	"errors"
	"fmt"
	"os"
	"time"

	"golang.org/x/sys/unix"

	"github.com/rtproject/rt/cgroups"
)

// Every wait of rt on a process it started is bounded, so that no command
// hangs on a dead or frozen peer: it waits through Go's poller with a
// deadline, and at each deadline looks at the process's pidfd and at
// whether it can make progress (its cgroup frozen, the process stopped).

// checkInterval is how often a wait looks at a process that keeps it
// waiting; two strikes in a row end the wait.
const checkInterval = 250 * time.Millisecond

// errExited ends a wait whose process exited without a word.
var errExited = errors.New("exited")

// stuckCheck returns the check for a wait on pid, in the container's
// cgroup m (nil: none): the process is frozen (unless frozenOK: exec
// --ignore-paused waits for resume) or stopped, twice in a row.
func stuckCheck(pid int, m cgroups.Manager, frozenOK bool) func() error {
	strikes := 0
	return func() error {
		why := ""
		if m != nil && !frozenOK {
			if st, err := m.FreezerState(); err == nil && st == "frozen" {
				why = "its cgroup is frozen"
			}
		}
		if why == "" {
			if _, state, err := procStartTime(pid); err == nil && state == 'T' {
				why = "it is stopped"
			}
		}
		if why == "" {
			strikes = 0
			return nil
		}
		if strikes++; strikes < 2 {
			return nil
		}
		return fmt.Errorf("process %d cannot go on: %s", pid, why)
	}
}

// openPid returns a pidfd of pid if it is still the process that started at
// startTime (0: any): a pid compared by start time cannot be reused under a
// pidfd, so signals and waits through it reach that process only.
func openPid(pid int, startTime uint64) (int, error) {
	if pid <= 0 {
		return -1, os.ErrProcessDone
	}
	fd, err := unix.PidfdOpen(pid, 0)
	if err != nil {
		if err == unix.ESRCH {
			return -1, os.ErrProcessDone
		}
		return -1, fmt.Errorf("pidfd_open %d: %w", pid, err)
	}
	if startTime != 0 {
		if st, state, err := procStartTime(pid); err != nil || st != startTime || state == 'Z' || state == 'X' {
			unix.Close(fd)
			return -1, os.ErrProcessDone
		}
	}
	return fd, nil
}

// waitPidfd waits up to d for the process behind pidfd to exit.
func waitPidfd(pidfd int, d time.Duration) bool {
	deadline := time.Now().Add(d)
	for {
		left := time.Until(deadline)
		if left < 0 {
			left = 0
		}
		fds := []unix.PollFd{{Fd: int32(pidfd), Events: unix.POLLIN}}
		n, err := unix.Poll(fds, int(left/time.Millisecond))
		if err == unix.EINTR {
			continue
		}
		return err == nil && n > 0
	}
}
