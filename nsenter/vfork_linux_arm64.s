#include "textflag.h"

// func rawClone(trap, a1, a2 uintptr) (r1, errno uintptr)
//
// A clone(2) or clone3(2) whose child may share this stack (CLONE_VM). A leaf
// without a frame: the return address stays in the link register, which the
// child gets a copy of, so neither process reads it from the shared stack
// the other one may have written.
TEXT ·rawClone(SB),NOSPLIT|NOFRAME,$0-40
	MOVD	trap+0(FP), R8
	MOVD	a1+8(FP), R0
	MOVD	a2+16(FP), R1
	MOVD	ZR, R2
	MOVD	ZR, R3
	MOVD	ZR, R4
	MOVD	ZR, R5
	SVC
	// -4095..-1 is an errno: adding 4095 carries out.
	CMN	$4095, R0
	BCS	failed
	MOVD	R0, r1+24(FP)
	MOVD	ZR, errno+32(FP)
	RET
failed:
	NEG	R0, R0
	MOVD	R0, errno+32(FP)
	MOVD	$-1, R0
	MOVD	R0, r1+24(FP)
	RET
