package seccomp

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/opencontainers/runtime-spec/specs-go"
)

func uintp(v uint) *uint { return &v }

func TestValidate(t *testing.T) {
	allowMkdir := specs.LinuxSyscall{Names: []string{"mkdir"}, Action: specs.ActAllow}
	tests := []struct {
		name    string
		profile *specs.LinuxSeccomp
		wantErr string // substring; "" means valid
	}{
		{name: "nil profile", profile: nil},
		{name: "minimal", profile: &specs.LinuxSeccomp{DefaultAction: specs.ActAllow}},
		{
			name: "every field valid",
			profile: &specs.LinuxSeccomp{
				DefaultAction:    specs.ActErrno,
				DefaultErrnoRet:  uintp(38),
				Architectures:    []specs.Arch{specs.ArchX86_64, specs.ArchX86, specs.ArchX32},
				Flags:            []specs.LinuxSeccompFlag{flagTsync, specs.LinuxSeccompFlagLog, specs.LinuxSeccompFlagSpecAllow, specs.LinuxSeccompFlagWaitKillableRecv},
				ListenerPath:     "/run/agent.sock",
				ListenerMetadata: "meta",
				Syscalls: []specs.LinuxSyscall{
					allowMkdir,
					{Names: []string{"chmod"}, Action: specs.ActTrace, ErrnoRet: uintp(5)},
					{Names: []string{"personality"}, Action: specs.ActAllow, Args: []specs.LinuxSeccompArg{
						{Index: 0, Value: 8, Op: specs.OpEqualTo}, {Index: 5, Value: 1, ValueTwo: 1, Op: specs.OpMaskedEqual},
					}},
					{Names: []string{"openat"}, Action: specs.ActNotify},
					{Names: []string{"no_such_syscall_anywhere"}, Action: specs.ActLog},
					{Names: []string{"kill"}, Action: specs.ActKillProcess},
					{Names: []string{"tkill"}, Action: specs.ActKillThread},
					{Names: []string{"tgkill"}, Action: specs.ActKill},
					{Names: []string{"uname"}, Action: specs.ActTrap},
				},
			},
		},
		{
			name:    "missing default action",
			profile: &specs.LinuxSeccomp{},
			wantErr: "linux.seccomp.defaultAction: missing",
		},
		{
			name:    "unknown default action",
			profile: &specs.LinuxSeccomp{DefaultAction: "SCMP_ACT_NOPE"},
			wantErr: `linux.seccomp.defaultAction: unknown action "SCMP_ACT_NOPE"`,
		},
		{
			name:    "notify as default action",
			profile: &specs.LinuxSeccomp{DefaultAction: specs.ActNotify, ListenerPath: "/x"},
			wantErr: "linux.seccomp.defaultAction: SCMP_ACT_NOTIFY cannot be the default action",
		},
		{
			name:    "default errno on allow",
			profile: &specs.LinuxSeccomp{DefaultAction: specs.ActAllow, DefaultErrnoRet: uintp(1)},
			wantErr: "linux.seccomp.defaultErrnoRet: only SCMP_ACT_ERRNO and SCMP_ACT_TRACE take an errno",
		},
		{
			name:    "default errno too large",
			profile: &specs.LinuxSeccomp{DefaultAction: specs.ActErrno, DefaultErrnoRet: uintp(70000)},
			wantErr: "linux.seccomp.defaultErrnoRet: 70000 does not fit in 16 bits",
		},
		{
			name:    "unknown architecture",
			profile: &specs.LinuxSeccomp{DefaultAction: specs.ActAllow, Architectures: []specs.Arch{specs.ArchX86_64, "x"}},
			wantErr: `linux.seccomp.architectures[1]: unknown architecture "x"`,
		},
		{
			name:    "unknown flag",
			profile: &specs.LinuxSeccomp{DefaultAction: specs.ActAllow, Flags: []specs.LinuxSeccompFlag{"SECCOMP_FILTER_FLAG_NEW_LISTENER"}},
			wantErr: `linux.seccomp.flags[0]: unknown flag "SECCOMP_FILTER_FLAG_NEW_LISTENER"`,
		},
		{
			name: "unknown rule action",
			profile: &specs.LinuxSeccomp{DefaultAction: specs.ActAllow, Syscalls: []specs.LinuxSyscall{
				allowMkdir, allowMkdir, allowMkdir, {Names: []string{"mkdir"}, Action: "SCMP_ACT_FOO"},
			}},
			wantErr: `linux.seccomp.syscalls[3].action: unknown action "SCMP_ACT_FOO"`,
		},
		{
			name: "rule without names",
			profile: &specs.LinuxSeccomp{DefaultAction: specs.ActAllow, Syscalls: []specs.LinuxSyscall{
				{Action: specs.ActErrno},
			}},
			wantErr: "linux.seccomp.syscalls[0].names: must list at least one syscall",
		},
		{
			name: "empty syscall name",
			profile: &specs.LinuxSeccomp{DefaultAction: specs.ActAllow, Syscalls: []specs.LinuxSyscall{
				{Names: []string{"read", ""}, Action: specs.ActErrno},
			}},
			wantErr: "linux.seccomp.syscalls[0].names[1]: empty syscall name",
		},
		{
			name: "errnoRet on allow rule",
			profile: &specs.LinuxSeccomp{DefaultAction: specs.ActErrno, Syscalls: []specs.LinuxSyscall{
				{Names: []string{"read"}, Action: specs.ActAllow, ErrnoRet: uintp(1)},
			}},
			wantErr: "linux.seccomp.syscalls[0].errnoRet: only SCMP_ACT_ERRNO and SCMP_ACT_TRACE take an errno, not SCMP_ACT_ALLOW",
		},
		{
			name: "unknown operator",
			profile: &specs.LinuxSeccomp{DefaultAction: specs.ActAllow, Syscalls: []specs.LinuxSyscall{
				{Names: []string{"personality"}, Action: specs.ActErrno, Args: []specs.LinuxSeccompArg{
					{Index: 0, Op: specs.OpEqualTo}, {Index: 1, Op: "SCMP_CMP_XX"},
				}},
			}},
			wantErr: `linux.seccomp.syscalls[0].args[1].op: unknown operator "SCMP_CMP_XX"`,
		},
		{
			name: "argument index out of range",
			profile: &specs.LinuxSeccomp{DefaultAction: specs.ActAllow, Syscalls: []specs.LinuxSyscall{
				{Names: []string{"personality"}, Action: specs.ActErrno, Args: []specs.LinuxSeccompArg{{Index: 6, Op: specs.OpEqualTo}}},
			}},
			wantErr: "linux.seccomp.syscalls[0].args[0].index: 6 is out of range",
		},
		{
			name: "notify without listener",
			profile: &specs.LinuxSeccomp{DefaultAction: specs.ActAllow, Syscalls: []specs.LinuxSyscall{
				{Names: []string{"mkdir"}, Action: specs.ActNotify},
			}},
			wantErr: "linux.seccomp.listenerPath: required when a rule uses SCMP_ACT_NOTIFY",
		},
		{
			name: "notify on write",
			profile: &specs.LinuxSeccomp{DefaultAction: specs.ActAllow, ListenerPath: "/x", Syscalls: []specs.LinuxSyscall{
				{Names: []string{"mkdir", "write"}, Action: specs.ActNotify},
			}},
			wantErr: "linux.seccomp.syscalls[0].names[1]: SCMP_ACT_NOTIFY cannot be used for the write syscall",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := Validate(tt.profile)
			switch {
			case tt.wantErr == "" && err != nil:
				t.Fatalf("Validate: unexpected error %v", err)
			case tt.wantErr != "" && err == nil:
				t.Fatalf("Validate: no error, want %q", tt.wantErr)
			case tt.wantErr != "" && !strings.Contains(err.Error(), tt.wantErr):
				t.Fatalf("Validate: error %q, want it to contain %q", err, tt.wantErr)
			}
		})
	}
}

func TestWithSubArchitectures(t *testing.T) {
	tests := []struct {
		in, want []specs.Arch
	}{
		{in: []specs.Arch{specs.ArchX86_64}, want: []specs.Arch{specs.ArchX86_64, specs.ArchX86, specs.ArchX32}},
		{in: []specs.Arch{specs.ArchAARCH64}, want: []specs.Arch{specs.ArchAARCH64, specs.ArchARM}},
		{in: []specs.Arch{specs.ArchX86, specs.ArchX86_64}, want: []specs.Arch{specs.ArchX86, specs.ArchX86_64, specs.ArchX32}},
		{in: []specs.Arch{specs.ArchRISCV64}, want: []specs.Arch{specs.ArchRISCV64}},
		{in: nil, want: nil},
	}
	for _, tt := range tests {
		got := WithSubArchitectures(tt.in)
		if strings.Join(archStrings(got), ",") != strings.Join(archStrings(tt.want), ",") {
			t.Errorf("WithSubArchitectures(%v) = %v, want %v", tt.in, got, tt.want)
		}
	}
}

func archStrings(a []specs.Arch) []string {
	out := make([]string, len(a))
	for i, x := range a {
		out[i] = string(x)
	}
	return out
}

// TestValidateArchNotAddable: an architecture rt knows but this host's
// libseccomp cannot put in a filter (other endianness) fails validation,
// before any container is set up.
func TestValidateArchNotAddable(t *testing.T) {
	var foreign specs.Arch
	for a := range archs {
		if !slices.Contains(supportedArchs(), string(a)) {
			foreign = a
			break
		}
	}
	if foreign == "" {
		t.Skip("libseccomp can filter every known architecture here")
	}
	err := Validate(&specs.LinuxSeccomp{DefaultAction: specs.ActAllow, Architectures: []specs.Arch{specs.Arch(supportedArchs()[0]), foreign}})
	want := fmt.Sprintf("linux.seccomp.architectures[1]: %s cannot be filtered on this host", foreign)
	if err == nil || !strings.HasPrefix(err.Error(), want) {
		t.Fatalf("Validate = %v, want %s", err, want)
	}
}

func TestUsesNotify(t *testing.T) {
	rule := func(a specs.LinuxSeccompAction) []specs.LinuxSyscall {
		return []specs.LinuxSyscall{{Names: []string{"mknod"}, Action: specs.ActErrno}, {Names: []string{"mount"}, Action: a}}
	}
	for _, tt := range []struct {
		name string
		s    *specs.LinuxSeccomp
		want bool
	}{
		{"no profile", nil, false},
		{"errno rules only", &specs.LinuxSeccomp{DefaultAction: specs.ActAllow, Syscalls: rule(specs.ActKill)}, false},
		{"a notify rule", &specs.LinuxSeccomp{DefaultAction: specs.ActAllow, Syscalls: rule(specs.ActNotify)}, true},
		{"a listener path without a rule", &specs.LinuxSeccomp{DefaultAction: specs.ActAllow, ListenerPath: "/run/agent.sock"}, true},
		{"notify as the default", &specs.LinuxSeccomp{DefaultAction: specs.ActNotify}, true},
	} {
		if got := UsesNotify(tt.s); got != tt.want {
			t.Errorf("%s: UsesNotify = %v, want %v", tt.name, got, tt.want)
		}
	}
}
