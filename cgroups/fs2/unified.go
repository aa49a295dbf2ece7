package fs2

import (
	"errors"
	"fmt"
	"os"
	"sort"
	"strings"

	"github.com/opencontainers/runtime-spec/specs-go"
	"github.com/rtproject/rt/cgroups/internal/cgfs"
)

// setUnified writes linux.resources.unified verbatim, in key order. Keys
// are file names in the cgroup: no paths, and the controller they belong
// to must be available.
func (m *Manager) setUnified(r *specs.LinuxResources) error {
	keys := make([]string, 0, len(r.Unified))
	for k := range r.Unified {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		field := fmt.Sprintf("unified[%q]", k)
		if err := cgfs.ValidateUnifiedKey(k); err != nil {
			return fmt.Errorf("linux.resources.%s: %w", field, err)
		}
		ctrl, _, _ := strings.Cut(k, ".")
		if ctrl != "cgroup" && !cgfs.Exists(m.c.Dir, k) {
			if err := m.require(ctrl, field); err != nil {
				return err
			}
		}
		if err := cgfs.Write(m.c.Dir, k, r.Unified[k]); err != nil {
			if errors.Is(err, os.ErrNotExist) {
				return fmt.Errorf("linux.resources.%s: no such cgroup v2 file", field)
			}
			return fmt.Errorf("linux.resources.%s: %w", field, err)
		}
	}
	return nil
}
