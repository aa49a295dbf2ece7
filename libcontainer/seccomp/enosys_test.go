package seccomp

import (
	"encoding/binary"
	"testing"

	"github.com/opencontainers/runtime-spec/specs-go"
	libseccomp "github.com/seccomp/libseccomp-golang"
	"golang.org/x/sys/unix"
)

// runBPF runs a classic BPF program (the subset seccomp filters use) on a
// seccomp_data of arch and nr, and returns what it returns.
func runBPF(t *testing.T, prog []unix.SockFilter, arch, nr uint32) uint32 {
	t.Helper()
	data := make([]byte, 64)
	binary.NativeEndian.PutUint32(data[0:], nr)
	binary.NativeEndian.PutUint32(data[4:], arch)
	var a uint32
	var mem [16]uint32
	for pc := 0; pc < len(prog); pc++ {
		in := prog[pc]
		switch in.Code {
		case unix.BPF_LD | unix.BPF_W | unix.BPF_ABS:
			a = binary.NativeEndian.Uint32(data[in.K:])
		case unix.BPF_LD | unix.BPF_MEM:
			a = mem[in.K]
		case unix.BPF_ST:
			mem[in.K] = a
		case unix.BPF_ALU | unix.BPF_AND | unix.BPF_K:
			a &= in.K
		case unix.BPF_JMP | unix.BPF_JA:
			pc += int(in.K)
		case jumpK(unix.BPF_JEQ), jumpK(unix.BPF_JGT), jumpK(unix.BPF_JGE), jumpK(unix.BPF_JSET):
			var cond bool
			switch in.Code {
			case jumpK(unix.BPF_JEQ):
				cond = a == in.K
			case jumpK(unix.BPF_JGT):
				cond = a > in.K
			case jumpK(unix.BPF_JGE):
				cond = a >= in.K
			default:
				cond = a&in.K != 0
			}
			if cond {
				pc += int(in.Jt)
			} else {
				pc += int(in.Jf)
			}
		case unix.BPF_RET | unix.BPF_K:
			return in.K
		default:
			t.Fatalf("instruction %d: opcode %#x not modelled", pc, in.Code)
		}
	}
	t.Fatal("ran off the end of the program")
	return 0
}

func nrOf(t *testing.T, name string, arch libseccomp.ScmpArch) uint32 {
	t.Helper()
	nr, err := libseccomp.GetSyscallFromNameByArch(name, arch)
	if err != nil {
		t.Fatal(err)
	}
	return uint32(nr)
}

// TestENOSYSStub: under a profile that denies by default, a syscall above
// the highest the profile names gets ENOSYS on each of its architectures,
// x32 apart from x86-64; the others get the profile's own answer.
func TestENOSYSStub(t *testing.T) {
	const retEPERM = unix.SECCOMP_RET_ERRNO | uint32(unix.EPERM)
	profile := &specs.LinuxSeccomp{
		DefaultAction: specs.ActErrno,
		Architectures: []specs.Arch{specs.ArchX86_64, specs.ArchX86, specs.ArchX32},
		Syscalls: []specs.LinuxSyscall{
			// newfstatat is not i386's, socketcall not x86-64's: libseccomp resolves
			// them there to negative pseudo-numbers, which are no limit.
			{Names: []string{"read", "write", "exit_group", "openat", "newfstatat", "socketcall"}, Action: specs.ActAllow},
			{Names: []string{"mkdir"}, Action: specs.ActErrno, ErrnoRet: uintp(uint(unix.EACCES))},
		},
	}
	c, err := compile(profile)
	if err != nil {
		t.Fatal(err)
	}
	amd64, i386 := uint32(unix.AUDIT_ARCH_X86_64), uint32(unix.AUDIT_ARCH_I386)
	for _, tt := range []struct {
		name     string
		arch, nr uint32
		want     uint32
	}{
		{"allowed", amd64, nrOf(t, "read", libseccomp.ArchAMD64), unix.SECCOMP_RET_ALLOW},
		{"its own errno", amd64, nrOf(t, "mkdir", libseccomp.ArchAMD64), unix.SECCOMP_RET_ERRNO | uint32(unix.EACCES)},
		{"known to the profile's range, not listed", amd64, nrOf(t, "mount", libseccomp.ArchAMD64), retEPERM},
		{"newer than the profile (clone3)", amd64, nrOf(t, "clone3", libseccomp.ArchAMD64), retENOSYS},
		{"syscall 1000", amd64, 1000, retENOSYS},
		{"i386: allowed", i386, nrOf(t, "read", libseccomp.ArchX86), unix.SECCOMP_RET_ALLOW},
		{"i386: newer", i386, nrOf(t, "clone3", libseccomp.ArchX86), retENOSYS},
		{"x32: allowed", amd64, nrOf(t, "read", libseccomp.ArchX32), unix.SECCOMP_RET_ALLOW},
		{"x32: newer", amd64, nrOf(t, "clone3", libseccomp.ArchX32), retENOSYS},
	} {
		if got := runBPF(t, c.program, tt.arch, tt.nr); got != tt.want {
			t.Errorf("%s (arch %#x, nr %d): %#x, want %#x", tt.name, tt.arch, tt.nr, got, tt.want)
		}
	}
}

func TestENOSYSStubWhenNeeded(t *testing.T) {
	rules := []specs.LinuxSyscall{{Names: []string{"write"}, Action: specs.ActErrno}}
	for _, tt := range []struct {
		def  specs.LinuxSeccompAction
		want bool
	}{
		{specs.ActAllow, false}, {specs.ActLog, false}, {specs.ActTrace, false},
		{specs.ActErrno, true}, {specs.ActKillProcess, true}, {specs.ActTrap, true},
	} {
		stub, err := enosysStub(&specs.LinuxSeccomp{DefaultAction: tt.def, Syscalls: rules})
		if err != nil || (len(stub) > 0) != tt.want {
			t.Errorf("default %s: %d instructions (%v), want a stub %t", tt.def, len(stub), err, tt.want)
		}
	}
	// No x32 syscall named: x32 goes to the filter as it is.
	stub, err := enosysStub(&specs.LinuxSeccomp{DefaultAction: specs.ActErrno, Syscalls: []specs.LinuxSyscall{{Names: []string{"write"}, Action: specs.ActAllow}}})
	if err != nil {
		t.Fatal(err)
	}
	prog := append(stub, unix.SockFilter{Code: unix.BPF_RET | unix.BPF_K, K: 7})
	if got := runBPF(t, prog, unix.AUDIT_ARCH_X86_64, x32SyscallBit|1000); got != 7 {
		t.Errorf("an x32 syscall without x32 in the profile: %#x, want the filter's", got)
	}
	if got := runBPF(t, prog, unix.AUDIT_ARCH_AARCH64, 1000); got != 7 {
		t.Errorf("an architecture the profile lacks: %#x, want the filter's", got)
	}
}
