package seccomp

import (
	"fmt"
	"slices"

	"github.com/opencontainers/runtime-spec/specs-go"
	libseccomp "github.com/seccomp/libseccomp-golang"
	"golang.org/x/sys/unix"
)

// The ENOSYS stub: a profile that denies by default also denies syscalls
// newer than it knows, with its default errno (EPERM, mostly). Programs
// probing a new syscall (glibc's clone3, then clone) treat only ENOSYS as
// "not there, use the old one", and EPERM as a failure. So, as runc does,
// a short program runs before the profile's: on each of the profile's
// architectures, a syscall above the highest number the profile names
// returns ENOSYS; every other one goes on to the profile's filter.
//
// Not for profiles that allow (or log, or trace) by default: they already
// let a new syscall reach the kernel. Not on s390: unknown syscalls arrive
// there multiplexed as number 0, which needs a rule of its own.

// x32SyscallBit marks the syscalls of the x32 ABI, which share x86-64's
// audit architecture.
const x32SyscallBit = 0x40000000

// retENOSYS is SECCOMP_RET_ERRNO with ENOSYS.
const retENOSYS = unix.SECCOMP_RET_ERRNO | uint32(unix.ENOSYS)

// auditArchs maps libseccomp's architectures to the AUDIT_ARCH_* value the
// kernel puts in seccomp_data.arch.
var auditArchs = map[libseccomp.ScmpArch]uint32{
	libseccomp.ArchX86:         unix.AUDIT_ARCH_I386,
	libseccomp.ArchAMD64:       unix.AUDIT_ARCH_X86_64,
	libseccomp.ArchX32:         unix.AUDIT_ARCH_X86_64,
	libseccomp.ArchARM:         unix.AUDIT_ARCH_ARM,
	libseccomp.ArchARM64:       unix.AUDIT_ARCH_AARCH64,
	libseccomp.ArchMIPS:        unix.AUDIT_ARCH_MIPS,
	libseccomp.ArchMIPS64:      unix.AUDIT_ARCH_MIPS64,
	libseccomp.ArchMIPS64N32:   unix.AUDIT_ARCH_MIPS64N32,
	libseccomp.ArchMIPSEL:      unix.AUDIT_ARCH_MIPSEL,
	libseccomp.ArchMIPSEL64:    unix.AUDIT_ARCH_MIPSEL64,
	libseccomp.ArchMIPSEL64N32: unix.AUDIT_ARCH_MIPSEL64N32,
	libseccomp.ArchPPC:         unix.AUDIT_ARCH_PPC,
	libseccomp.ArchPPC64:       unix.AUDIT_ARCH_PPC64,
	libseccomp.ArchPPC64LE:     unix.AUDIT_ARCH_PPC64LE,
	libseccomp.ArchPARISC:      unix.AUDIT_ARCH_PARISC,
	libseccomp.ArchPARISC64:    unix.AUDIT_ARCH_PARISC64,
	libseccomp.ArchRISCV64:     unix.AUDIT_ARCH_RISCV64,
	libseccomp.ArchLOONGARCH64: unix.AUDIT_ARCH_LOONGARCH64,
	libseccomp.ArchM68K:        unix.AUDIT_ARCH_M68K,
	libseccomp.ArchSH:          unix.AUDIT_ARCH_SHEL,
	libseccomp.ArchSHEB:        unix.AUDIT_ARCH_SH,
}

// archLimits are the highest syscall numbers a profile names on one audit
// architecture: for its native ABI and, on x86-64, for x32 (0: none).
type archLimits struct {
	audit       uint32
	native, x32 uint32
}

// syscallLimits returns, per audit architecture of the profile (the native
// one included, as libseccomp always filters it), the highest syscall
// numbers the profile names.
func syscallLimits(s *specs.LinuxSeccomp) []archLimits {
	set := map[libseccomp.ScmpArch]bool{}
	if native, err := libseccomp.GetNativeArch(); err == nil {
		set[native] = true
	}
	for _, a := range s.Architectures {
		set[archs[a]] = true
	}
	byAudit := map[uint32]*archLimits{}
	for arch := range set {
		audit, ok := auditArchs[arch]
		if !ok {
			continue
		}
		var highest uint32
		for _, sc := range s.Syscalls {
			for _, name := range sc.Names {
				// Names this architecture lacks resolve to libseccomp's
				// negative pseudo-numbers: not syscalls of it.
				if nr, err := libseccomp.GetSyscallFromNameByArch(name, arch); err == nil && nr > 0 && uint32(nr) > highest {
					highest = uint32(nr)
				}
			}
		}
		if highest == 0 {
			continue
		}
		l := byAudit[audit]
		if l == nil {
			l = &archLimits{audit: audit}
			byAudit[audit] = l
		}
		if arch == libseccomp.ArchX32 {
			l.x32 = highest
		} else {
			l.native = highest
		}
	}
	var out []archLimits
	for _, l := range byAudit {
		out = append(out, *l)
	}
	slices.SortFunc(out, func(a, b archLimits) int { return int(int64(a.audit) - int64(b.audit)) })
	return out
}

// enosysStub returns the program to run before the profile's filter, or
// nil when the profile needs none.
func enosysStub(s *specs.LinuxSeccomp) ([]unix.SockFilter, error) {
	switch s.DefaultAction {
	case specs.ActAllow, specs.ActLog, specs.ActTrace:
		return nil, nil
	}
	limits := syscallLimits(s)
	if len(limits) == 0 {
		return nil, nil
	}
	var p bpfProgram
	p.add(bpfInsn{code: unix.BPF_LD | unix.BPF_W | unix.BPF_ABS, k: offsetArch})
	for i, l := range limits {
		next := fmt.Sprintf("arch%d", i+1)
		p.label(fmt.Sprintf("arch%d", i))
		p.add(bpfInsn{code: jumpK(unix.BPF_JEQ), k: l.audit, jf: next})
		p.add(bpfInsn{code: unix.BPF_LD | unix.BPF_W | unix.BPF_ABS, k: offsetNr})
		if l.audit == unix.AUDIT_ARCH_X86_64 {
			x32 := fmt.Sprintf("x32-%d", i)
			p.add(bpfInsn{code: jumpK(unix.BPF_JSET), k: x32SyscallBit, jt: x32})
			p.limit(l.native)
			p.label(x32)
			p.limit(l.x32)
		} else {
			p.limit(l.native)
		}
	}
	p.label(fmt.Sprintf("arch%d", len(limits)))
	p.add(bpfInsn{code: unix.BPF_JMP | unix.BPF_JA, jt: "filter"})
	p.label("enosys")
	p.add(bpfInsn{code: unix.BPF_RET | unix.BPF_K, k: retENOSYS})
	p.label("filter")
	return p.assemble()
}

// The offsets of struct seccomp_data's fields.
const (
	offsetNr   = 0
	offsetArch = 4
)

func jumpK(op uint16) uint16 { return unix.BPF_JMP | op | unix.BPF_K }

// bpfInsn is a BPF instruction whose jumps name labels: jt and jf of a
// conditional jump ("" falls through), jt of BPF_JA.
type bpfInsn struct {
	code   uint16
	k      uint32
	jt, jf string
}

// bpfProgram assembles a short program with forward jumps to labels.
type bpfProgram struct {
	insns  []bpfInsn
	labels map[string]int
}

func (p *bpfProgram) add(i bpfInsn) { p.insns = append(p.insns, i) }

func (p *bpfProgram) label(name string) {
	if p.labels == nil {
		p.labels = map[string]int{}
	}
	p.labels[name] = len(p.insns)
}

// limit sends a syscall number (in A) above highest to ENOSYS and every
// other one to the filter; with highest 0 (no syscall of this ABI named)
// everything goes to the filter.
func (p *bpfProgram) limit(highest uint32) {
	if highest == 0 {
		p.add(bpfInsn{code: unix.BPF_JMP | unix.BPF_JA, jt: "filter"})
		return
	}
	p.add(bpfInsn{code: jumpK(unix.BPF_JGT), k: highest, jt: "enosys", jf: "filter"})
}

func (p *bpfProgram) assemble() ([]unix.SockFilter, error) {
	out := make([]unix.SockFilter, len(p.insns))
	offset := func(at int, label string, max int) (int, error) {
		if label == "" {
			return 0, nil
		}
		to, ok := p.labels[label]
		if !ok || to <= at {
			return 0, fmt.Errorf("seccomp ENOSYS stub: bad jump to %q", label)
		}
		if d := to - at - 1; d <= max {
			return d, nil
		}
		return 0, fmt.Errorf("seccomp ENOSYS stub: jump to %q too long", label)
	}
	for i, in := range p.insns {
		f := unix.SockFilter{Code: in.code, K: in.k}
		if in.code == unix.BPF_JMP|unix.BPF_JA {
			d, err := offset(i, in.jt, 1<<31)
			if err != nil {
				return nil, err
			}
			f.K = uint32(d)
		} else {
			jt, err := offset(i, in.jt, 255)
			if err != nil {
				return nil, err
			}
			jf, err := offset(i, in.jf, 255)
			if err != nil {
				return nil, err
			}
			f.Jt, f.Jf = uint8(jt), uint8(jf)
		}
		out[i] = f
	}
	return out, nil
}
