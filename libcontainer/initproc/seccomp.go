package initproc

import (
	"fmt"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"

	"github.com/rtproject/rt/libcontainer/internal/initproto"
	"github.com/rtproject/rt/libcontainer/seccomp"
)

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
func loadSeccomp(ch *initproto.Channel, p *seccomp.Program) error {
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
	if err := ch.Send(initproto.Message{Type: initproto.MsgSeccompFd}, fd); err != nil {
		return err
	}
	_, _, err = ch.Expect(initproto.MsgSeccompAck)
	return err
}
