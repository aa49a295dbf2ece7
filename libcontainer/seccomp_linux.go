package libcontainer

import (
	"errors"
	"fmt"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"

	"github.com/rtproject/rt/libcontainer/seccomp"
)

// sendSeccompListener hands the init's seccomp notify fd to the agent at
// linux.seccomp.listenerPath, from the parent, which still sees host paths.
func (b *builder) sendSeccompListener(fds []int) error {
	sc := b.o.Spec.Linux.Seccomp
	if len(fds) != 1 || sc == nil || sc.ListenerPath == "" {
		return errors.New("unexpected seccomp notify fd from init")
	}
	if err := seccomp.SendListener(sc.ListenerPath, sc.ListenerMetadata, b.creatingState(), fds[0]); err != nil {
		return fmt.Errorf("linux.seccomp.listenerPath: %w", err)
	}
	return nil
}

// compileSeccomp builds the filter of linux.seccomp, before anything
// (process.rlimits) can limit the memory libseccomp needs.
func compileSeccomp(s *specs.LinuxSeccomp) (*seccomp.Program, error) {
	p, err := seccomp.Compile(s)
	if err != nil {
		return nil, fmt.Errorf("linux.seccomp: %w", err)
	}
	return p, nil
}

// loadSeccomp loads the filter in the init and passes a notify fd to the
// parent; the init must make no notified syscall before the parent's ack.
func loadSeccomp(ch *channel, p *seccomp.Program) error {
	if p == nil {
		return nil
	}
	fd, err := p.Load()
	if err != nil {
		return fmt.Errorf("linux.seccomp: %w", err)
	}
	if fd < 0 {
		return nil
	}
	defer unix.Close(fd)
	if err := ch.send(message{Type: msgSeccompFd}, fd); err != nil {
		return err
	}
	_, _, err = ch.expect(msgSeccompAck)
	return err
}
