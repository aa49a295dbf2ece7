package system

import (
	"errors"
	"fmt"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"

	"github.com/rtproject/rt/libcontainer/internal/kernel"
)

// ValidateOOMScoreAdj checks process.oomScoreAdj against the kernel's range.
func ValidateOOMScoreAdj(adj int) error {
	if adj < -1000 || adj > 1000 {
		return fmt.Errorf("process.oomScoreAdj: %d is outside -1000..1000", adj)
	}
	return nil
}

// SetOOMScoreAdj writes adj to the calling process's oom_score_adj. Run it
// before the change of user: afterwards the process is no longer dumpable
// and its /proc files belong to root.
func SetOOMScoreAdj(adj int) error {
	if err := ValidateOOMScoreAdj(adj); err != nil {
		return err
	}
	err := kernel.WriteProc("self/oom_score_adj", []byte(strconv.Itoa(adj)))
	if err == nil {
		return nil
	}
	// The kernel answers EACCES when the value is below the lowest one
	// this process may set without CAP_SYS_RESOURCE.
	if errors.Is(err, unix.EACCES) || errors.Is(err, unix.EPERM) {
		cur, _ := kernel.ReadProc("self/oom_score_adj")
		return fmt.Errorf("process.oomScoreAdj: set %d (now %s): lowering oom_score_adj needs CAP_SYS_RESOURCE, which the runtime lacks: %w",
			adj, strings.TrimSpace(string(cur)), err)
	}
	return fmt.Errorf("process.oomScoreAdj: %w", err)
}
