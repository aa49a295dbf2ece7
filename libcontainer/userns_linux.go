package libcontainer

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
)

// InInitialUserNamespace reports whether rt runs in the host's own user
// namespace, whose uid_map is the identity over all 2^32 ids.
func InInitialUserNamespace() bool {
	data, err := os.ReadFile("/proc/self/uid_map")
	if err != nil {
		return true
	}
	return strings.Join(strings.Fields(string(data)), " ") == "0 0 4294967295"
}

// makeRoot creates the state root.
func (r *Runtime) makeRoot() error {
	if err := os.MkdirAll(r.Root, 0o700); err != nil {
		return fmt.Errorf("create state root: %w", withRootHint(err))
	}
	return nil
}

// withRootHint says what to do when rt without root may not write the state
// root (usually the default one, root's).
func withRootHint(err error) error {
	if errors.Is(err, os.ErrPermission) && os.Geteuid() != 0 {
		return fmt.Errorf("%w (rt runs as uid %d without root: set XDG_RUNTIME_DIR, "+
			"or give --root a directory of that user's)", err, os.Geteuid())
	}
	return err
}

// writeMapsByHelpers gives the user namespace of process pid its maps
// through newuidmap and newgidmap (Debian's uidmap), which map for a user
// without root the ranges /etc/subuid and /etc/subgid grant it.
func writeMapsByHelpers(pid int, uidMaps, gidMaps []syscall.SysProcIDMap) error {
	for _, h := range []struct {
		helper, field, file string
		maps                []syscall.SysProcIDMap
	}{
		{"newuidmap", "linux.uidMappings", "/etc/subuid", uidMaps},
		{"newgidmap", "linux.gidMappings", "/etc/subgid", gidMaps},
	} {
		args := []string{strconv.Itoa(pid)}
		for _, m := range h.maps {
			args = append(args, strconv.Itoa(m.ContainerID), strconv.Itoa(m.HostID), strconv.Itoa(m.Size))
		}
		path, err := exec.LookPath(h.helper)
		if err != nil {
			return fmt.Errorf("%s: rt runs as uid %d without root, which may map only its own id; "+
				"other ids need %s (Debian package uidmap): %w", h.field, os.Geteuid(), h.helper, err)
		}
		out, err := exec.Command(path, args...).CombinedOutput()
		if err != nil {
			msg := strings.TrimSpace(string(out))
			if msg == "" {
				msg = err.Error()
			}
			return fmt.Errorf("%s: %s %s: %s (rt runs as uid %d without root: the ids must be its own or granted to it in %s)",
				h.field, h.helper, strings.Join(args, " "), msg, os.Geteuid(), h.file)
		}
	}
	return nil
}
