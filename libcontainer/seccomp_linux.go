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

// loadSeccomp loads the filter in the init and passes a notify fd to the
// parent; the init must make no notified syscall before the parent's ack.
func loadSeccomp(ch *channel, s *specs.LinuxSeccomp) error {
	if s == nil {
		return nil
	}
	fd, err := seccomp.Load(s)
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
