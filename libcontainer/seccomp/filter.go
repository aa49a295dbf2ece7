package seccomp

import (
	"encoding/binary"
	"fmt"
	"io"
	"os"

	"github.com/opencontainers/runtime-spec/specs-go"
	libseccomp "github.com/seccomp/libseccomp-golang"
	"github.com/sirupsen/logrus"
	"golang.org/x/sys/unix"
)

// compiled is a profile turned into a BPF program plus what Load needs to
// know to install it.
type compiled struct {
	program    []unix.SockFilter
	usesNotify bool // at least one SCMP_ACT_NOTIFY rule made it into the program
}

// treeOptimizeAbove is the rule count above which libseccomp's binary-tree
// layout is asked for: long allow lists (docker's has ~350 names) otherwise
// compile to a linear chain that every syscall walks. Small filters keep the
// default layout; libseccomp up to 2.5.4 mishandles the tree for empty ones.
const treeOptimizeAbove = 32

func toAction(a specs.LinuxSeccompAction, errnoRet *uint) (libseccomp.ScmpAction, error) {
	act, ok := actions[a]
	if !ok {
		return libseccomp.ActInvalid, fmt.Errorf("unknown action %q", a)
	}
	if act == libseccomp.ActErrno || act == libseccomp.ActTrace {
		ret := uint(unix.EPERM)
		if errnoRet != nil {
			ret = *errnoRet
		}
		act = act.SetReturnCode(int16(uint16(ret)))
	}
	return act, nil
}

// compile validates s and builds its BPF program with libseccomp.
func compile(s *specs.LinuxSeccomp) (*compiled, error) {
	if err := Validate(s); err != nil {
		return nil, err
	}
	defAct, err := toAction(s.DefaultAction, s.DefaultErrnoRet)
	if err != nil {
		return nil, err
	}
	filter, err := libseccomp.NewFilter(defAct)
	if err != nil {
		return nil, fmt.Errorf("create seccomp filter: %w", err)
	}
	defer filter.Release()

	for _, a := range s.Architectures {
		if err := filter.AddArch(archs[a]); err != nil {
			return nil, fmt.Errorf("add architecture %s: %w", a, err)
		}
	}
	rules := 0
	for _, sc := range s.Syscalls {
		rules += len(sc.Names)
	}
	if rules > treeOptimizeAbove {
		if err := filter.SetOptimize(2); err != nil {
			logrus.Debugf("seccomp: binary tree optimisation unavailable: %v", err)
		}
	}

	out := &compiled{}
	for i, sc := range s.Syscalls {
		act, err := toAction(sc.Action, sc.ErrnoRet)
		if err != nil {
			return nil, err
		}
		if act == defAct {
			// libseccomp refuses rules that repeat the default action, and they
			// would change nothing anyway.
			continue
		}
		conds, separate, err := conditions(sc.Args)
		if err != nil {
			return nil, fmt.Errorf("linux.seccomp.syscalls[%d]: %w", i, err)
		}
		for _, name := range sc.Names {
			nr, err := libseccomp.GetSyscallFromName(name)
			if err != nil {
				// Profiles list syscalls of newer kernels and other ABIs; a name
				// this libseccomp cannot resolve cannot be reached either.
				logrus.Debugf("seccomp: skipping unknown syscall %q", name)
				continue
			}
			if err := addRule(filter, nr, act, conds, separate); err != nil {
				return nil, fmt.Errorf("linux.seccomp.syscalls[%d]: add rule for %s: %w", i, name, err)
			}
			if sc.Action == specs.ActNotify {
				out.usesNotify = true
			}
		}
	}

	prog, err := exportBPF(filter)
	if err != nil {
		return nil, err
	}
	stub, err := enosysStub(s)
	if err != nil {
		return nil, err
	}
	out.program = append(stub, prog...)
	return out, nil
}

// conditions converts a rule's argument checks. separate reports that two
// checks test the same argument: libseccomp cannot AND those, so like runc
// (and the profiles written for it) rt adds one rule per check, i.e. ORs them.
func conditions(args []specs.LinuxSeccompArg) (conds []libseccomp.ScmpCondition, separate bool, err error) {
	var seen [maxSyscallArgs]bool
	for j, a := range args {
		c, err := libseccomp.MakeCondition(a.Index, operators[a.Op], a.Value, a.ValueTwo)
		if err != nil {
			return nil, false, fmt.Errorf("args[%d]: %w", j, err)
		}
		if seen[a.Index] {
			separate = true
		}
		seen[a.Index] = true
		conds = append(conds, c)
	}
	return conds, separate, nil
}

func addRule(f *libseccomp.ScmpFilter, nr libseccomp.ScmpSyscall, act libseccomp.ScmpAction, conds []libseccomp.ScmpCondition, separate bool) error {
	switch {
	case len(conds) == 0:
		return f.AddRule(nr, act)
	case separate:
		for _, c := range conds {
			if err := f.AddRuleConditional(nr, act, []libseccomp.ScmpCondition{c}); err != nil {
				return err
			}
		}
		return nil
	default:
		return f.AddRuleConditional(nr, act, conds)
	}
}

// exportBPF gets the compiled program out of libseccomp. rt loads it itself
// (see loadProgram) so that the filter flags do not depend on the libseccomp
// version. The in-memory export needs libseccomp 2.6, so go through a memfd.
func exportBPF(f *libseccomp.ScmpFilter) ([]unix.SockFilter, error) {
	fd, err := unix.MemfdCreate("rt-seccomp-bpf", unix.MFD_CLOEXEC)
	if err != nil {
		return nil, fmt.Errorf("memfd for seccomp export: %w", err)
	}
	file := os.NewFile(uintptr(fd), "rt-seccomp-bpf")
	defer file.Close()
	if err := f.ExportBPF(file); err != nil {
		return nil, fmt.Errorf("export seccomp filter: %w", err)
	}
	if _, err := file.Seek(0, io.SeekStart); err != nil {
		return nil, fmt.Errorf("rewind seccomp export: %w", err)
	}
	raw, err := io.ReadAll(file)
	if err != nil {
		return nil, fmt.Errorf("read seccomp export: %w", err)
	}
	const insnSize = 8 // struct sock_filter: u16 code, u8 jt, u8 jf, u32 k
	if len(raw) == 0 || len(raw)%insnSize != 0 {
		return nil, fmt.Errorf("seccomp export: %d bytes is not a BPF program", len(raw))
	}
	prog := make([]unix.SockFilter, len(raw)/insnSize)
	for i := range prog {
		b := raw[i*insnSize:]
		prog[i] = unix.SockFilter{
			Code: binary.NativeEndian.Uint16(b[0:2]),
			Jt:   b[2],
			Jf:   b[3],
			K:    binary.NativeEndian.Uint32(b[4:8]),
		}
	}
	return prog, nil
}
