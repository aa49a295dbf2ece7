package libcontainer

import (
	"os"
	"os/signal"

	"github.com/sirupsen/logrus"
	"golang.org/x/sys/unix"
)

// SignalForwarder relays the signals `rt run` receives to the container's
// init and reaps children (rt run is their subreaper) until the init exits.
type SignalForwarder struct {
	ch chan os.Signal
}

// earlySignals are caught from NewSignalForwarder on: those a user, a shell
// or an engine sends a foreground rt, and the two rt acts on itself.
var earlySignals = []os.Signal{
	unix.SIGINT, unix.SIGTERM, unix.SIGHUP, unix.SIGQUIT, unix.SIGUSR1, unix.SIGUSR2,
	unix.SIGCHLD, unix.SIGWINCH,
}

// NewSignalForwarder starts catching signals; call it before the container
// exists. It returns once earlySignals are caught; the others are caught in
// the background, while rt starts the container: Go enables each caught
// signal with a round trip to its signal-mask thread, and the sixty-odd of
// them took 2 to 3 ms of every foreground run and exec.
func NewSignalForwarder() *SignalForwarder {
	s := &SignalForwarder{ch: make(chan os.Signal, 128)}
	signal.Notify(s.ch, earlySignals...)
	go signal.Notify(s.ch)
	return s
}

// Forward relays signals to proc until it exits and returns its exit code,
// 128+signal when it was killed. The signals stay caught, and are dropped,
// until rt exits: giving them back would cost the same round trips.
func (s *SignalForwarder) Forward(proc *os.Process, tty *Console) int {
	pid := proc.Pid
	if code, done := reap(pid); done {
		return code
	}
	for sig := range s.ch {
		switch sig {
		case unix.SIGCHLD:
			if code, done := reap(pid); done {
				return code
			}
		case unix.SIGWINCH:
			if tty != nil {
				tty.Resize()
			}
		case unix.SIGURG:
			// The Go runtime's own preemption signal.
		default:
			if err := unix.Kill(pid, sig.(unix.Signal)); err != nil {
				logrus.Debugf("forward %s to %d: %v", sig, pid, err)
			}
		}
	}
	return 255
}

// reap collects every exited child; done is set once pid has exited.
func reap(pid int) (code int, done bool) {
	for {
		var ws unix.WaitStatus
		wpid, err := unix.Wait4(-1, &ws, unix.WNOHANG, nil)
		if err == unix.EINTR {
			continue
		}
		if err != nil || wpid <= 0 {
			return code, done
		}
		if wpid == pid {
			code, done = exitCode(ws), true
		}
	}
}

func exitCode(ws unix.WaitStatus) int {
	if ws.Signaled() {
		return 128 + int(ws.Signal())
	}
	return ws.ExitStatus()
}
