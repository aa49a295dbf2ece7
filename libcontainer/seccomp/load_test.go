package seccomp

import (
	"strings"
	"testing"

	"github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"

	"github.com/rtproject/rt/libcontainer/internal/kernel/kerneltest"
)

// TestLoadCalls loads compiled profiles into the fake kernel: the flags
// the filter is installed with, and the listener fd of a notifying one.
func TestLoadCalls(t *testing.T) {
	errno := specs.LinuxSyscall{Names: []string{"mkdir"}, Action: specs.ActErrno}
	notify := specs.LinuxSyscall{Names: []string{"mkdir"}, Action: specs.ActNotify}
	tests := []struct {
		name      string
		profile   *specs.LinuxSeccomp
		wantFlags string
		wantFd    bool
	}{
		{"errno", &specs.LinuxSeccomp{DefaultAction: specs.ActAllow, Syscalls: []specs.LinuxSyscall{errno}}, "flags=0x1 ", false},
		{"log flag", &specs.LinuxSeccomp{DefaultAction: specs.ActAllow, Flags: []specs.LinuxSeccompFlag{"SECCOMP_FILTER_FLAG_LOG"}, Syscalls: []specs.LinuxSyscall{errno}}, "flags=0x3 ", false},
		// TSYNC, NEW_LISTENER and TSYNC_ESRCH.
		{"notify", &specs.LinuxSeccomp{DefaultAction: specs.ActAllow, ListenerPath: "/run/agent.sock", Syscalls: []specs.LinuxSyscall{notify}}, "flags=0x19 ", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := kerneltest.New(t, "")
			p, err := Compile(tt.profile)
			if err != nil {
				t.Fatal(err)
			}
			fd, err := p.Load()
			if err != nil {
				t.Fatal(err)
			}
			if (fd >= 0) != tt.wantFd {
				t.Errorf("Load returned fd %d", fd)
			}
			if fd >= 0 {
				unix.Close(fd)
			}
			if len(rec.Calls) != 1 || !strings.HasPrefix(rec.Calls[0], "seccomp "+tt.wantFlags) {
				t.Errorf("calls %q, want one seccomp with %s", rec.Calls, tt.wantFlags)
			}
		})
	}
	rec := kerneltest.New(t, "")
	rec.Fail("seccomp", 1, unix.EACCES)
	p, _ := Compile(tests[0].profile)
	if _, err := p.Load(); err == nil || err.Error() != "load seccomp filter: permission denied (needs no_new_privs or CAP_SYS_ADMIN)" {
		t.Errorf("refused load: %v", err)
	}
	if fd, err := (*Program)(nil).Load(); fd != -1 || err != nil {
		t.Errorf("nil program: %d, %v", fd, err)
	}
}
