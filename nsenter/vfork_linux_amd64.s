#include "textflag.h"

// func rawClone(trap, a1, a2 uintptr) (r1, errno uintptr)
//
// A clone(2) or clone3(2) whose child may share this stack (CLONE_VM). CALL
// left our return address on top of the stack; a child sharing the memory
// would overwrite that slot with its own frames before the parent, suspended
// until the child execs or exits (CLONE_VFORK), gets to read it. So it
// travels in R12 instead, which the kernel restores to both processes, and
// each puts it back after the system call. Nothing between the POPQ and the
// PUSHQ may address the arguments.
TEXT ·rawClone(SB),NOSPLIT|NOFRAME,$0-40
	MOVQ	trap+0(FP), AX
	MOVQ	a1+8(FP), DI
	MOVQ	a2+16(FP), SI
	XORL	DX, DX
	XORL	R10, R10
	XORL	R8, R8
	XORL	R9, R9
	POPQ	R12
	SYSCALL
	PUSHQ	R12
	// -4095..-1 is an errno.
	CMPQ	AX, $-4096
	JHI	failed
	MOVQ	AX, r1+24(FP)
	MOVQ	$0, errno+32(FP)
	RET
failed:
	NEGQ	AX
	MOVQ	AX, errno+32(FP)
	MOVQ	$-1, r1+24(FP)
	RET
