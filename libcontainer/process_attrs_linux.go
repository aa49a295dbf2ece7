package libcontainer

import (
	"fmt"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

// applyProcess applies the process's attributes in the order the kernel needs:
// everything that needs privilege first, the credentials last.
func applyProcess(ch *channel, cfg *initConfig) error {
	var sc *specs.LinuxSeccomp
	if cfg.Spec.Linux != nil {
		sc = cfg.Spec.Linux.Seccomp
	}
	// Without no_new_privs, loading a filter needs CAP_SYS_ADMIN: load it
	// while we still have every capability.
	if !cfg.Process.NoNewPrivileges {
		if err := loadSeccomp(ch, sc); err != nil {
			return err
		}
	}
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
	if cfg.Process.NoNewPrivileges {
		if err := unix.Prctl(unix.PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0); err != nil {
			return fmt.Errorf("process.noNewPrivileges: %w", err)
		}
		if err := loadSeccomp(ch, sc); err != nil {
			return err
		}
	}
	return nil
}
