package initproc

import (
	"fmt"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"

	"github.com/rtproject/rt/internal/trace"
	"github.com/rtproject/rt/libcontainer/internal/initproto"
	"github.com/rtproject/rt/libcontainer/seccomp"
)

// compileSeccomp builds the filter of linux.seccomp, before anything
// (process.rlimits) can limit the memory libseccomp needs.
func compileSeccomp(s *specs.LinuxSeccomp, who string) (*seccomp.Program, error) {
	t := trace.Start()
	p, err := seccomp.Compile(s)
	if err != nil {
		return nil, fmt.Errorf("linux.seccomp: %w", err)
	}
	if p != nil {
		t.Done("%s: seccomp filter compiled: default action %s, %d syscall rules, %d BPF instructions", who, s.DefaultAction, len(s.Syscalls), p.Len())
	}
	return p, nil
}

// loadSeccomp loads the filter in the init and passes a notify fd to the
// parent; the init must make no notified syscall before the parent's ack.
func loadSeccomp(ch *initproto.Channel, p *seccomp.Program, who string) error {
	if p == nil {
		return nil
	}
	t := trace.Start()
	fd, err := p.Load()
	if err != nil {
		return fmt.Errorf("linux.seccomp: %w", err)
	}
	// runc's words and value, which its tests look for.
	trace.Log("seccomp filter flags: %d", p.ProfileFlags())
	t.Done("%s: seccomp filter loaded, seccomp(2) flags %#x", who, p.Flags())
	if fd < 0 {
		return nil
	}
	defer unix.Close(fd)
	t = trace.Start()
	if err := ch.Send(initproto.Message{Type: initproto.MsgSeccompFd}, fd); err != nil {
		return err
	}
	if _, _, err := ch.Expect(initproto.MsgSeccompAck); err != nil {
		return err
	}
	t.Done("%s: seccomp notify fd handed to the agent", who)
	return nil
}
