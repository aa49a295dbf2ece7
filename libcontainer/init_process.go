package libcontainer

import (
	"errors"
	"fmt"
	"io"
	"os"
	"syscall"
	"time"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"github.com/sirupsen/logrus"
	"golang.org/x/sys/unix"

	"github.com/rtproject/rt/libcontainer/internal/initproto"
	"github.com/rtproject/rt/libcontainer/rootfs"
	"github.com/rtproject/rt/libcontainer/seccomp"
)

// initProcess is rt's side of an `rt init` it started, for a create or an
// exec: the process (and a pidfd of it), and the socket to talk to it over.
type initProcess struct {
	proc  *os.Process
	pidfd int
	ch    *initproto.Channel
	// release lets the thread that forked the init go (see
	// childProcess.start).
	release func()
}

// conversation is what converse needs to answer the init.
type conversation struct {
	cfg *initproto.Config
	// spec is the container's: linux.seccomp names the agent.
	spec *specs.Spec
	// state is what the seccomp agent and the prestart and createRuntime
	// hooks receive.
	state specs.State
	// sources answers mount-request; nil for an exec.
	sources *rootfs.Sources
	// runHooks answers run-hooks: set the cgroup resources, run the
	// prestart and createRuntime hooks. nil for an exec, whose init never
	// asks.
	runHooks func() error
	// stuck tells, every checkInterval of the conversation, whether the
	// init can still answer (stuckCheck); nil: no check.
	stuck func() error
	// configSent: start sent cfg already (exec's fast path).
	configSent bool
}

// converse sends the config and answers the init until it is ready (create)
// or has exec'd the process (exec), following the protocol of package
// initproto. Any error means the init failed or is to be killed. Every step
// is bounded: a watch ends it when the init exits without closing the
// socket, or when it can make no progress.
func (p *initProcess) converse(c *conversation) error {
	stop := p.watch(c.stuck)
	err := p.talk(c)
	if werr := stop(); werr != nil && err != nil {
		return fmt.Errorf("container init (pid %d): %w", p.proc.Pid, werr)
	}
	return err
}

// watch checks the init every checkInterval until stop is called. When
// check fails, or the init has exited while its socket stays open (held by
// something it started), it ends the socket call in progress by moving the
// socket's deadline into the past; stop returns the reason.
func (p *initProcess) watch(check func() error) (stop func() error) {
	done := make(chan struct{})
	result := make(chan error, 1)
	go func() {
		t := time.NewTicker(checkInterval)
		defer t.Stop()
		exited := 0
		for {
			select {
			case <-done:
				result <- nil
				return
			case <-t.C:
			}
			var err error
			if check != nil {
				err = check()
			}
			if err == nil && p.pidfd >= 0 && waitPidfd(p.pidfd, 0) {
				// Its socket closes with it but for something it started:
				// leave its last words a moment to arrive.
				if exited++; exited > 2 {
					err = errExited
				}
			}
			if err != nil {
				p.ch.SetDeadline(time.Now())
				<-done
				result <- err
				return
			}
		}
	}()
	return func() error {
		close(done)
		err := <-result
		p.ch.SetDeadline(time.Time{})
		return err
	}
}

func (p *initProcess) talk(c *conversation) error {
	if !c.configSent {
		if err := p.ch.SendConfig(c.cfg); err != nil {
			return fmt.Errorf("send config to init: %w", err)
		}
	}
	execing := false
	for {
		m, fds, err := p.ch.Recv()
		if err == io.EOF && execing {
			// The socket is close-on-exec in the init: the process started.
			return nil
		}
		if err != nil {
			if c.cfg.Mode == initproto.ModeExec {
				// Not reaped here: in a paused container (exec
				// --ignore-paused) the process may be frozen.
				return fmt.Errorf("exec init ended before it exec'd the process: %w", err)
			}
			return fmt.Errorf("container init exited before it was ready: %w", p.exitError(err))
		}
		switch {
		case m.Type == initproto.MsgLog:
			initproto.RelayLog(m.Log)
		case m.Type == initproto.MsgMountRequest && c.sources != nil:
			tree, err := c.sources.Open(m.Mount)
			if err != nil {
				return err
			}
			err = p.ch.Send(initproto.Message{Type: initproto.MsgMountSource}, int(tree.Fd()))
			tree.Close()
			if err != nil {
				return err
			}
		case m.Type == initproto.MsgRunHooks && c.runHooks != nil:
			if err := c.runHooks(); err != nil {
				return err
			}
			if err := p.ch.Send(initproto.Message{Type: initproto.MsgHooksDone}); err != nil {
				return err
			}
		case m.Type == initproto.MsgSeccompFd:
			err := sendSeccompListener(c.spec, c.state, fds)
			for _, fd := range fds {
				unix.Close(fd)
			}
			if err != nil {
				return err
			}
			if err := p.ch.Send(initproto.Message{Type: initproto.MsgSeccompAck}); err != nil {
				return err
			}
		case m.Type == initproto.MsgReady && c.cfg.Mode == initproto.ModeStandard:
			return nil
		case m.Type == initproto.MsgExec && c.cfg.Mode == initproto.ModeExec:
			execing = true
		case m.Type == initproto.MsgError:
			return errors.New(m.Error)
		default:
			if c.cfg.Mode == initproto.ModeExec {
				return fmt.Errorf("unexpected message %q from exec init", m.Type)
			}
			return fmt.Errorf("unexpected message %q from init", m.Type)
		}
	}
}

// sendSeccompListener hands the init's seccomp notify fd to the agent at
// linux.seccomp.listenerPath, from rt, which still sees host paths.
func sendSeccompListener(spec *specs.Spec, state specs.State, fds []int) error {
	var sc *specs.LinuxSeccomp
	if spec.Linux != nil {
		sc = spec.Linux.Seccomp
	}
	if len(fds) != 1 || sc == nil || sc.ListenerPath == "" {
		return errors.New("unexpected seccomp notify fd from init")
	}
	if err := seccomp.SendListener(sc.ListenerPath, sc.ListenerMetadata, state, fds[0]); err != nil {
		return fmt.Errorf("linux.seccomp.listenerPath: %w", err)
	}
	return nil
}

// exitError explains why the init's socket closed: it reaps the init once
// it has exited (a closed socket with a live init is only reported).
func (p *initProcess) exitError(err error) error {
	if p.proc == nil || (p.pidfd >= 0 && !waitPidfd(p.pidfd, time.Second)) {
		return err
	}
	ps, werr := p.proc.Wait()
	p.proc = nil
	if werr != nil {
		return err
	}
	if ws, ok := ps.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
		return fmt.Errorf("killed by signal %s", ws.Signal())
	}
	return fmt.Errorf("exit status %d", ps.ExitCode())
}

// killTimeout bounds the wait for a SIGKILLed process: only a frozen one
// (which the caller thaws first) or one stuck in the kernel outlasts it.
const killTimeout = 5 * time.Second

// kill ends an init that is not to be, and reaps it once it has gone.
func (p *initProcess) kill() {
	if p == nil || p.proc == nil {
		return
	}
	if p.pidfd >= 0 {
		unix.PidfdSendSignal(p.pidfd, unix.SIGKILL, nil, 0)
		if !waitPidfd(p.pidfd, killTimeout) {
			logrus.Warnf("init %d did not die after SIGKILL", p.proc.Pid)
			return
		}
	} else {
		p.proc.Kill()
	}
	p.proc.Wait()
	p.proc = nil
}

// close drops rt's end of the socket, and the pidfd, and lets the forking
// thread go.
func (p *initProcess) close() {
	if p == nil {
		return
	}
	p.ch.Close()
	if p.pidfd >= 0 {
		unix.Close(p.pidfd)
		p.pidfd = -1
	}
	if p.release != nil {
		p.release()
		p.release = nil
	}
}
