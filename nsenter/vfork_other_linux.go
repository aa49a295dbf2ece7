//go:build !amd64 && !arm64

package nsenter

import "syscall"

// canShareMemory: without an assembly rawClone for this architecture, a
// child gets its own copy of the memory (no CLONE_VM): the return address
// of a Go system call lies on the stack, which a child sharing it would
// overwrite before the parent returns through it.
const canShareMemory = false

// rawClone makes the clone or clone3 system call trap with the arguments a1
// and a2, never with CLONE_VM.
//
//go:nosplit
//go:norace
func rawClone(trap, a1, a2 uintptr) (r1, errno uintptr) {
	r, _, e := syscall.RawSyscall(trap, a1, a2, 0)
	return r, uintptr(e)
}
