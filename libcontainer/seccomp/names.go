package seccomp

import (
	"slices"

	"github.com/opencontainers/runtime-spec/specs-go"
	libseccomp "github.com/seccomp/libseccomp-golang"
)

// flagTsync is accepted in profiles although the runtime-spec does not define it:
// rt always synchronises the filter across threads, so asking for it changes nothing.
const flagTsync specs.LinuxSeccompFlag = "SECCOMP_FILTER_FLAG_TSYNC"

var actions = map[specs.LinuxSeccompAction]libseccomp.ScmpAction{
	specs.ActKill:        libseccomp.ActKillThread,
	specs.ActKillThread:  libseccomp.ActKillThread,
	specs.ActKillProcess: libseccomp.ActKillProcess,
	specs.ActTrap:        libseccomp.ActTrap,
	specs.ActErrno:       libseccomp.ActErrno,
	specs.ActTrace:       libseccomp.ActTrace,
	specs.ActAllow:       libseccomp.ActAllow,
	specs.ActLog:         libseccomp.ActLog,
	specs.ActNotify:      libseccomp.ActNotify,
}

var operators = map[specs.LinuxSeccompOperator]libseccomp.ScmpCompareOp{
	specs.OpNotEqual:     libseccomp.CompareNotEqual,
	specs.OpLessThan:     libseccomp.CompareLess,
	specs.OpLessEqual:    libseccomp.CompareLessOrEqual,
	specs.OpEqualTo:      libseccomp.CompareEqual,
	specs.OpGreaterEqual: libseccomp.CompareGreaterEqual,
	specs.OpGreaterThan:  libseccomp.CompareGreater,
	specs.OpMaskedEqual:  libseccomp.CompareMaskedEqual,
}

var archs = map[specs.Arch]libseccomp.ScmpArch{
	specs.ArchX86:         libseccomp.ArchX86,
	specs.ArchX86_64:      libseccomp.ArchAMD64,
	specs.ArchX32:         libseccomp.ArchX32,
	specs.ArchARM:         libseccomp.ArchARM,
	specs.ArchAARCH64:     libseccomp.ArchARM64,
	specs.ArchMIPS:        libseccomp.ArchMIPS,
	specs.ArchMIPS64:      libseccomp.ArchMIPS64,
	specs.ArchMIPS64N32:   libseccomp.ArchMIPS64N32,
	specs.ArchMIPSEL:      libseccomp.ArchMIPSEL,
	specs.ArchMIPSEL64:    libseccomp.ArchMIPSEL64,
	specs.ArchMIPSEL64N32: libseccomp.ArchMIPSEL64N32,
	specs.ArchPPC:         libseccomp.ArchPPC,
	specs.ArchPPC64:       libseccomp.ArchPPC64,
	specs.ArchPPC64LE:     libseccomp.ArchPPC64LE,
	specs.ArchS390:        libseccomp.ArchS390,
	specs.ArchS390X:       libseccomp.ArchS390X,
	specs.ArchPARISC:      libseccomp.ArchPARISC,
	specs.ArchPARISC64:    libseccomp.ArchPARISC64,
	specs.ArchRISCV64:     libseccomp.ArchRISCV64,
	specs.ArchLOONGARCH64: libseccomp.ArchLOONGARCH64,
	specs.ArchM68K:        libseccomp.ArchM68K,
	specs.ArchSH:          libseccomp.ArchSH,
	specs.ArchSHEB:        libseccomp.ArchSHEB,
}

// Kernel values of the seccomp(2) filter flags (linux/seccomp.h).
const (
	kernelFlagTsync                 = 1 << 0
	kernelFlagLog                   = 1 << 1
	kernelFlagSpecAllow             = 1 << 2
	kernelFlagNewListener           = 1 << 3
	kernelFlagTsyncESRCH            = 1 << 4
	kernelFlagWaitKillableRecv      = 1 << 5
	seccompSetModeFilter            = 1
	seccompGetActionAvail           = 2
	maxSyscallArgs                  = 6
	maxErrnoRet                uint = 0xffff // SECCOMP_RET_DATA is 16 bits wide
)

// flags maps the profile flags rt knows to the seccomp(2) flag bits they set.
var flags = map[specs.LinuxSeccompFlag]uintptr{
	flagTsync:                              kernelFlagTsync,
	specs.LinuxSeccompFlagLog:              kernelFlagLog,
	specs.LinuxSeccompFlagSpecAllow:        kernelFlagSpecAllow,
	specs.LinuxSeccompFlagWaitKillableRecv: kernelFlagWaitKillableRecv,
}

// subArchitectures lists, for each architecture, the ABIs a process of that
// architecture can also enter the kernel through (docker's and containerd's
// default profiles list them together).
var subArchitectures = map[specs.Arch][]specs.Arch{
	specs.ArchX86_64:      {specs.ArchX86, specs.ArchX32},
	specs.ArchAARCH64:     {specs.ArchARM},
	specs.ArchMIPS64:      {specs.ArchMIPS, specs.ArchMIPS64N32},
	specs.ArchMIPS64N32:   {specs.ArchMIPS, specs.ArchMIPS64},
	specs.ArchMIPSEL64:    {specs.ArchMIPSEL, specs.ArchMIPSEL64N32},
	specs.ArchMIPSEL64N32: {specs.ArchMIPSEL, specs.ArchMIPSEL64},
	specs.ArchS390X:       {specs.ArchS390},
}

// WithSubArchitectures returns arches followed by the sub-architectures of
// each of them that are not listed yet. It is meant for building profiles
// (rt spec, tests); Load applies exactly the architectures a profile names.
func WithSubArchitectures(arches []specs.Arch) []specs.Arch {
	out := slices.Clone(arches)
	for _, a := range arches {
		for _, sub := range subArchitectures[a] {
			if !slices.Contains(out, sub) {
				out = append(out, sub)
			}
		}
	}
	return out
}

func sortedKeys[K ~string, V any](m map[K]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, string(k))
	}
	slices.Sort(out)
	return out
}
