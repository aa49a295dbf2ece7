//go:build amd64 || arm64

package nsenter

// canShareMemory: rawClone (vfork_linux_$GOARCH.s) keeps its return address
// off the stack, so its child may run on the caller's stack (CLONE_VM) while
// the caller waits (CLONE_VFORK).
const canShareMemory = true

// rawClone makes the clone or clone3 system call trap with the arguments a1
// and a2 (the flags and a null stack for clone, the clone_args and their
// size for clone3). It returns twice, in the parent and in the child (r1 0).
// With CLONE_VM the child runs on the caller's stack: a caller must use
// nothing of its own frame after the call in the parent, only r1 and errno,
// and return; the child must never return from the caller.
func rawClone(trap, a1, a2 uintptr) (r1, errno uintptr)
