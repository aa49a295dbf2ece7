package system

import (
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
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
	const path = "/proc/self/oom_score_adj"
	f, err := os.OpenFile(path, os.O_WRONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		return fmt.Errorf("process.oomScoreAdj: open %s: %w", path, err)
	}
	defer f.Close()
	if _, err := f.WriteString(strconv.Itoa(adj)); err != nil {
		// The kernel answers EACCES when the value is below the lowest
		// one this process may set without CAP_SYS_RESOURCE.
		if errors.Is(err, unix.EACCES) || errors.Is(err, unix.EPERM) {
			cur, _ := os.ReadFile(path)
			return fmt.Errorf("process.oomScoreAdj: set %d (now %s): lowering oom_score_adj needs CAP_SYS_RESOURCE, which the runtime lacks: %w",
				adj, strings.TrimSpace(string(cur)), err)
		}
		return fmt.Errorf("process.oomScoreAdj: write %d to %s: %w", adj, path, err)
	}
	return nil
}
