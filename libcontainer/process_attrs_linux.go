package libcontainer

import (
	"fmt"

	"golang.org/x/sys/unix"
)

// applyProcess applies the process's attributes in the order the kernel needs:
// everything that needs privilege first, the credentials last.
func applyProcess(ch *channel, cfg *initConfig) error {
	u := cfg.Process.User
	gids := make([]int, 0, len(u.AdditionalGids))
	for _, g := range u.AdditionalGids {
		gids = append(gids, int(g))
	}
	if err := unix.Setgroups(gids); err != nil && !cfg.NewUserNS {
		return fmt.Errorf("process.user.additionalGids: %w", err)
	}
	if err := unix.Setresgid(int(u.GID), int(u.GID), int(u.GID)); err != nil {
		return fmt.Errorf("process.user.gid: %w", err)
	}
	if err := unix.Setresuid(int(u.UID), int(u.UID), int(u.UID)); err != nil {
		return fmt.Errorf("process.user.uid: %w", err)
	}
	if cfg.Process.Cwd != "" {
		if err := unix.Chdir(cfg.Process.Cwd); err != nil {
			return fmt.Errorf("process.cwd: %w", err)
		}
	}
	return nil
}
