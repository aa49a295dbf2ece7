package fs2

import (
	"fmt"

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

// The registers the program keeps the context in; r0 is the verdict, r1
// the context pointer and then scratch.
const (
	r0, r1, r2, r3, r4, r5 = 0, 1, 2, 3, 4, 5
	// rType … rMinor name them by what they hold.
	rType, rAccess, rMajor, rMinor = r2, r3, r4, r5
)

// insn is one eBPF instruction, the kernel's struct bpf_insn: an opcode,
// the destination and source registers (4 bits each), an offset (jumps: in
// instructions, after this one) and an immediate.
type insn struct {
	code uint8
	regs uint8
	off  int16
	imm  int32
}

// The few opcodes a device filter needs (linux/bpf_common.h, linux/bpf.h).
const (
	opLoadWord  = 0x61 // BPF_LDX | BPF_MEM | BPF_W
	opMov32Reg  = 0xbc // BPF_ALU | BPF_MOV | BPF_X
	opMov32Imm  = 0xb4 // BPF_ALU | BPF_MOV | BPF_K
	opAnd32Imm  = 0x54 // BPF_ALU | BPF_AND | BPF_K
	opRsh32Imm  = 0x74 // BPF_ALU | BPF_RSH | BPF_K
	opJumpEqImm = 0x15 // BPF_JMP | BPF_JEQ | BPF_K
	opJumpNeImm = 0x55 // BPF_JMP | BPF_JNE | BPF_K
	opExit      = 0x95 // BPF_JMP | BPF_EXIT
)

func regs(dst, src uint8) uint8 { return src<<4 | dst }

func loadWord(dst, src uint8, off int16) insn { return insn{opLoadWord, regs(dst, src), off, 0} }
func mov32Reg(dst, src uint8) insn            { return insn{opMov32Reg, regs(dst, src), 0, 0} }
func mov32Imm(dst uint8, imm int32) insn      { return insn{opMov32Imm, regs(dst, 0), 0, imm} }
func and32Imm(dst uint8, imm int32) insn      { return insn{opAnd32Imm, regs(dst, 0), 0, imm} }
func rsh32Imm(dst uint8, imm int32) insn      { return insn{opRsh32Imm, regs(dst, 0), 0, imm} }
func exit() insn                              { return insn{code: opExit} }

// DeviceProgram is a compiled device filter, ready for LoadDeviceFilter.
type DeviceProgram []insn

// DeviceFilter compiles device rules into a BPF_PROG_TYPE_CGROUP_DEVICE
// program with the v1 list's meaning: everything is denied unless a rule
// says otherwise, and a later rule overrides an earlier one. Rules are
// therefore tested last to first and the first one that decides wins: an
// allow rule decides when it covers every access asked for, a deny rule
// when it covers any of them.
//
// Each rule is a block of conditional jumps to the next block, then the
// verdict; the jumps are resolved once every block's length is known.
func DeviceFilter(rules []specs.LinuxDeviceCgroup) (DeviceProgram, error) {
	prog := DeviceProgram{
		loadWord(rType, r1, 0),
		mov32Reg(rAccess, rType),
		and32Imm(rType, 0xFFFF),
		rsh32Imm(rAccess, 16),
		loadWord(rMajor, r1, 4),
		loadWord(rMinor, r1, 8),
	}
	// toNext are the jumps to the block after the current one.
	var toNext []int
	skipUnless := func(op uint8, reg uint8, imm int32) {
		toNext = append(toNext, len(prog))
		prog = append(prog, insn{op, regs(reg, 0), 0, imm})
	}
	endBlock := func() {
		for _, j := range toNext {
			prog[j].off = int16(len(prog) - j - 1)
		}
		toNext = toNext[:0]
	}
	for i := len(rules) - 1; i >= 0; i-- {
		r := rules[i]
		if err := cgfs.ValidateDeviceRule(r); err != nil {
			return nil, fmt.Errorf("linux.resources.devices[%d].%w", i, err)
		}
		switch r.Type {
		case "b":
			skipUnless(opJumpNeImm, rType, devBlock)
		case "c":
			skipUnless(opJumpNeImm, rType, devChar)
		}
		access := accessMask(r.Access)
		if r.Allow && access != accMknod|accRead|accWrite {
			// Undecided if anything asked for is outside the rule.
			prog = append(prog, mov32Reg(r1, rAccess), and32Imm(r1, int32(^access&7)))
			skipUnless(opJumpNeImm, r1, 0)
		}
		if !r.Allow && access != accMknod|accRead|accWrite {
			// Undecided if nothing asked for is in the rule.
			prog = append(prog, mov32Reg(r1, rAccess), and32Imm(r1, int32(access)))
			skipUnless(opJumpEqImm, r1, 0)
		}
		if r.Type != "" && r.Type != "a" {
			if r.Major != nil && *r.Major >= 0 {
				skipUnless(opJumpNeImm, rMajor, int32(*r.Major))
			}
			if r.Minor != nil && *r.Minor >= 0 {
				skipUnless(opJumpNeImm, rMinor, int32(*r.Minor))
			}
		}
		verdict := int32(0)
		if r.Allow {
			verdict = 1
		}
		unconditional := len(toNext) == 0
		prog = append(prog, mov32Imm(r0, verdict), exit())
		endBlock()
		if unconditional {
			// Rules before this one can never decide, and the verifier
			// rejects unreachable code.
			return prog, nil
		}
	}
	return append(prog, mov32Imm(r0, 0), exit()), nil
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
