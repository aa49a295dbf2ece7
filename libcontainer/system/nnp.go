package system

import (
	"fmt"

	"golang.org/x/sys/unix"

	"github.com/rtproject/rt/libcontainer/internal/kernel"
)

// SetNoNewPrivs sets no_new_privs on the calling thread; execve passes it
// on and it can never be cleared.
func SetNoNewPrivs() error {
	if err := kernel.Prctl(unix.PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0); err != nil {
		return fmt.Errorf("prctl(PR_SET_NO_NEW_PRIVS): %w", err)
	}
	return nil
}
