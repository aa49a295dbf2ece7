package initproc

import (
	"fmt"
	"math"

	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/rtproject/rt/internal/field"
)

// ValidateProcess checks the fields of process the init itself applies:
// args and env (its execve), cwd (its chdir) and consoleSize (its pty). The attributes other
// packages apply (user, rlimits, capabilities, …) are theirs to check.
func ValidateProcess(p *specs.Process) error {
	if p == nil {
		return fmt.Errorf("process: missing")
	}
	if len(p.Args) == 0 {
		return fmt.Errorf("process.args: must not be empty")
	}
	if p.Args[0] == "" {
		return fmt.Errorf("process.args[0]: must not be empty")
	}
	for i, a := range p.Args {
		if err := field.NoNUL(field.Index("process.args", i), a); err != nil {
			return err
		}
	}
	if err := field.Absolute("process.cwd", p.Cwd); err != nil {
		return err
	}
	// The kernel's window size holds 16 bits per dimension.
	if b := p.ConsoleSize; b != nil {
		if b.Height > math.MaxUint16 {
			return fmt.Errorf("process.consoleSize.height: %d is more than %d rows", b.Height, math.MaxUint16)
		}
		if b.Width > math.MaxUint16 {
			return fmt.Errorf("process.consoleSize.width: %d is more than %d columns", b.Width, math.MaxUint16)
		}
	}
	return field.Env("process.env", p.Env)
}
