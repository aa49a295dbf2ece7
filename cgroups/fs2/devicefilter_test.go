package fs2

import (
	"testing"

	"github.com/opencontainers/runtime-spec/specs-go"
)

// run interprets the few instructions DeviceFilter emits, as the kernel
// would, for a device access: 1 allows it, 0 denies it.
func run(t *testing.T, prog DeviceProgram, typ, access, major, minor uint32) int32 {
	t.Helper()
	var reg [11]uint64
	ctx := [3]uint32{access<<16 | typ, major, minor}
	for pc, steps := 0, 0; steps < 1000; steps++ {
		if pc < 0 || pc >= len(prog) {
			t.Fatalf("pc %d outside the program (%d instructions)", pc, len(prog))
		}
		in := prog[pc]
		dst, src := in.regs&0xf, in.regs>>4
		pc++
		switch in.code {
		case opLoadWord:
			if src != r1 || in.off%4 != 0 || in.off < 0 || in.off > 8 {
				t.Fatalf("load from r%d+%d", src, in.off)
			}
			reg[dst] = uint64(ctx[in.off/4])
		case opMov32Reg:
			reg[dst] = uint64(uint32(reg[src]))
		case opMov32Imm:
			reg[dst] = uint64(uint32(in.imm))
		case opAnd32Imm:
			reg[dst] = uint64(uint32(reg[dst]) & uint32(in.imm))
		case opRsh32Imm:
			reg[dst] = uint64(uint32(reg[dst]) >> uint32(in.imm))
		case opJumpEqImm:
			if reg[dst] == uint64(int64(in.imm)) {
				pc += int(in.off)
			}
		case opJumpNeImm:
			if reg[dst] != uint64(int64(in.imm)) {
				pc += int(in.off)
			}
		case opExit:
			return int32(reg[r0])
		default:
			t.Fatalf("unknown opcode %#x", in.code)
		}
	}
	t.Fatal("no exit")
	return 0
}

func TestDeviceFilter(t *testing.T) {
	i64 := func(v int64) *int64 { return &v }
	c := func(major, minor int64, access string) specs.LinuxDeviceCgroup {
		return specs.LinuxDeviceCgroup{Allow: true, Type: "c", Major: i64(major), Minor: i64(minor), Access: access}
	}
	deny := specs.LinuxDeviceCgroup{Allow: false, Access: "rwm"}
	type probe struct {
		typ, access, major, minor uint32
		want                      int32
	}
	for _, tt := range []struct {
		name   string
		rules  []specs.LinuxDeviceCgroup
		probes []probe
	}{
		{"no rules: all denied", nil, []probe{{devChar, accRead, 1, 3, 0}}},
		{"allow all", []specs.LinuxDeviceCgroup{{Allow: true, Access: "rwm"}}, []probe{{devBlock, accWrite, 8, 0, 1}}},
		{"deny all, /dev/null rwm, /dev/zero r", []specs.LinuxDeviceCgroup{deny, c(1, 3, "rwm"), c(1, 5, "r")}, []probe{
			{devChar, accRead | accWrite, 1, 3, 1},
			{devChar, accMknod, 1, 3, 1},
			{devBlock, accRead, 1, 3, 0},
			{devChar, accRead, 1, 5, 1},
			{devChar, accWrite, 1, 5, 0},
			{devChar, accRead | accWrite, 1, 5, 0},
			{devChar, accRead, 1, 7, 0},
		}},
		{"a later deny overrides", []specs.LinuxDeviceCgroup{deny, c(1, 5, "rwm"), {Allow: false, Type: "c", Major: i64(1), Minor: i64(5), Access: "w"}}, []probe{
			{devChar, accRead, 1, 5, 1},
			{devChar, accWrite, 1, 5, 0},
			{devChar, accRead | accWrite, 1, 5, 0},
		}},
		{"wildcards", []specs.LinuxDeviceCgroup{deny, {Allow: true, Type: "c", Major: i64(136), Minor: i64(-1), Access: "rwm"}, {Allow: true, Type: "b", Access: "m"}}, []probe{
			{devChar, accRead, 136, 42, 1},
			{devChar, accRead, 137, 42, 0},
			{devBlock, accMknod, 8, 1, 1},
			{devBlock, accRead, 8, 1, 0},
		}},
		{"rules before an unconditional one never decide", []specs.LinuxDeviceCgroup{c(1, 3, "rwm"), deny}, []probe{{devChar, accRead, 1, 3, 0}}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			prog, err := DeviceFilter(tt.rules)
			if err != nil {
				t.Fatal(err)
			}
			for _, p := range tt.probes {
				if got := run(t, prog, p.typ, p.access, p.major, p.minor); got != p.want {
					t.Errorf("type %d access %d %d:%d: verdict %d, want %d", p.typ, p.access, p.major, p.minor, got, p.want)
				}
			}
		})
	}
	if _, err := DeviceFilter([]specs.LinuxDeviceCgroup{{Type: "x"}}); err == nil {
		t.Error("a rule of type x compiled")
	}
}
