package fs2

import (
	"fmt"

	"github.com/cilium/ebpf/asm"
	"github.com/opencontainers/runtime-spec/specs-go"
	"github.com/rtproject/rt/cgroups/internal/cgfs"
)

// Values of struct bpf_cgroup_dev_ctx, the program's only input:
// access_type = access<<16 | type, then major, then minor (u32 each).
const (
	devBlock = 1 // BPF_DEVCG_DEV_BLOCK
	devChar  = 2 // BPF_DEVCG_DEV_CHAR

	accMknod = 1 // BPF_DEVCG_ACC_MKNOD
	accRead  = 2 // BPF_DEVCG_ACC_READ
	accWrite = 4 // BPF_DEVCG_ACC_WRITE
)

// DeviceFilter compiles device rules into a BPF_PROG_TYPE_CGROUP_DEVICE
// program with the v1 list's meaning: everything is denied unless a rule
// says otherwise, and a later rule overrides an earlier one. Rules are
// therefore tested last to first and the first one that decides wins: an
// allow rule decides when it covers every access asked for, a deny rule
// when it covers any of them.
func DeviceFilter(rules []specs.LinuxDeviceCgroup) (asm.Instructions, error) {
	// R2 = type, R3 = access, R4 = major, R5 = minor; R1 is scratch after.
	insns := asm.Instructions{
		asm.LoadMem(asm.R2, asm.R1, 0, asm.Word),
		asm.Mov.Reg32(asm.R3, asm.R2),
		asm.And.Imm32(asm.R2, 0xFFFF),
		asm.RSh.Imm32(asm.R3, 16),
		asm.LoadMem(asm.R4, asm.R1, 4, asm.Word),
		asm.LoadMem(asm.R5, asm.R1, 8, asm.Word),
	}
	block := 0
	for i := len(rules) - 1; i >= 0; i-- {
		r := rules[i]
		if err := cgfs.ValidateDeviceRule(r); err != nil {
			return nil, fmt.Errorf("linux.resources.devices[%d].%w", i, err)
		}
		next := fmt.Sprintf("rule%d", block+1)
		var b asm.Instructions
		switch r.Type {
		case "b":
			b = append(b, asm.JNE.Imm(asm.R2, devBlock, next))
		case "c":
			b = append(b, asm.JNE.Imm(asm.R2, devChar, next))
		}
		access := accessMask(r.Access)
		if r.Allow && access != accMknod|accRead|accWrite {
			// Undecided if anything asked for is outside the rule.
			b = append(b,
				asm.Mov.Reg32(asm.R1, asm.R3),
				asm.And.Imm32(asm.R1, int32(^access&7)),
				asm.JNE.Imm(asm.R1, 0, next))
		}
		if !r.Allow && access != accMknod|accRead|accWrite {
			// Undecided if nothing asked for is in the rule.
			b = append(b,
				asm.Mov.Reg32(asm.R1, asm.R3),
				asm.And.Imm32(asm.R1, int32(access)),
				asm.JEq.Imm(asm.R1, 0, next))
		}
		if r.Type != "" && r.Type != "a" {
			if r.Major != nil && *r.Major >= 0 {
				b = append(b, asm.JNE.Imm(asm.R4, int32(*r.Major), next))
			}
			if r.Minor != nil && *r.Minor >= 0 {
				b = append(b, asm.JNE.Imm(asm.R5, int32(*r.Minor), next))
			}
		}
		verdict := int32(0)
		if r.Allow {
			verdict = 1
		}
		unconditional := len(b) == 0
		b = append(b, asm.Mov.Imm32(asm.R0, verdict), asm.Return())
		b[0] = b[0].WithSymbol(fmt.Sprintf("rule%d", block))
		insns = append(insns, b...)
		block++
		if unconditional {
			// Rules before this one can never decide, and the verifier
			// rejects unreachable code.
			return insns, nil
		}
	}
	insns = append(insns,
		asm.Mov.Imm32(asm.R0, 0).WithSymbol(fmt.Sprintf("rule%d", block)),
		asm.Return())
	return insns, nil
}

// accessMask turns access letters (valid by cgfs.ValidateDeviceRule) into
// the program's bits.
func accessMask(s string) uint32 {
	if s == "" {
		s = "rwm"
	}
	var m uint32
	for _, c := range s {
		switch c {
		case 'r':
			m |= accRead
		case 'w':
			m |= accWrite
		case 'm':
			m |= accMknod
		}
	}
	return m
}
