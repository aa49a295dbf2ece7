package initproc

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"github.com/sirupsen/logrus"
	"golang.org/x/sys/unix"

	"github.com/rtproject/rt/internal/trace"
	"github.com/rtproject/rt/libcontainer/apparmor"
	"github.com/rtproject/rt/libcontainer/capabilities"
	"github.com/rtproject/rt/libcontainer/internal/initproto"
	"github.com/rtproject/rt/libcontainer/internal/kernel"
	"github.com/rtproject/rt/libcontainer/keys"
	"github.com/rtproject/rt/libcontainer/seccomp"
	"github.com/rtproject/rt/libcontainer/selinuxlabel"
	"github.com/rtproject/rt/libcontainer/system"
)

// prepareProcess readies this process to exec cfg.Process: it finds the
// executable (while the container's filesystem is still readable to us),
// applies the process's attributes and marks every fd it is not to inherit
// close-on-exec. It returns the path to exec.
func prepareProcess(ch *initproto.Channel, cfg *initproto.Config) (string, error) {
	p := cfg.Process
	if err := ValidateProcess(p); err != nil {
		return "", err
	}
	path, err := lookPath(p.Args[0], p.Env)
	if err != nil {
		return "", fmt.Errorf("process.args[0]: %w", err)
	}
	trace.Log("%s: process.args[0] %q is %s", cfg.Mode.TraceName(), p.Args[0], path)
	// Nothing rt holds may reach the process, nor serve as its cwd.
	if err := closeExtraFds(3 + cfg.PreserveFds); err != nil {
		return "", err
	}
	if err := applyProcess(ch, cfg); err != nil {
		return "", err
	}
	return path, nil
}

// applyProcess applies the process's attributes in the order the kernel
// needs: what needs privilege first, the credentials and the seccomp filter
// last. It runs in the init (standard and exec), on its locked main thread.
func applyProcess(ch *initproto.Channel, cfg *initproto.Config) error {
	p := cfg.Process
	var sc *seccomp.Program
	if cfg.Spec.Linux != nil {
		var err error
		if sc, err = compileSeccomp(cfg.Spec.Linux.Seccomp, cfg.Mode.TraceName()); err != nil {
			return err
		}
	}
	// The capability sets are computed before anything is dropped.
	caps, err := capabilities.New(p.Capabilities)
	if err != nil {
		return err
	}
	if cfg.Mode == initproto.ModeStandard && !cfg.NoNewKeyring {
		if err := setupKeyring(cfg); err != nil {
			return err
		}
	}
	if p.ApparmorProfile != "" {
		// The package's errors already name process.apparmorProfile.
		if err := apparmor.ApplyProfile(p.ApparmorProfile); err != nil {
			return err
		}
	}
	if p.SelinuxLabel != "" {
		if err := selinuxlabel.SetExecLabel(p.SelinuxLabel); err != nil {
			return fmt.Errorf("process.selinuxLabel: %w", err)
		}
	}
	// Limits and priorities need privileges the user switch takes away.
	t := trace.Start()
	if err := system.SetRlimits(0, p.Rlimits); err != nil {
		return err
	}
	if err := setSchedulingAttrs(cfg); err != nil {
		return err
	}
	t.Done("%s: %d rlimits, oom_score_adj, scheduler, I/O priority, personality, memory policy, CPU affinity set", cfg.Mode.TraceName(), len(p.Rlimits))
	// The cwd is entered while still privileged, as runc does: a process
	// may run in a directory its user could not enter itself. And before
	// any seccomp filter: a profile may deny openat2, which resolves it.
	cwdErr := enterCwd(p.Cwd)
	// Without no_new_privs, loading a filter needs CAP_SYS_ADMIN: load it
	// while we still have every capability.
	if !p.NoNewPrivileges {
		if err := loadSeccomp(ch, sc, cfg.Mode.TraceName()); err != nil {
			return err
		}
	}
	fixStdioOwner(p.User)
	prepareEnv(p)
	t = trace.Start()
	if caps != nil {
		if err := caps.DropBoundingSet(); err != nil {
			return err
		}
	}
	if err := system.SetupUser(p.User); err != nil {
		return err
	}
	if caps != nil {
		if err := caps.Apply(); err != nil {
			return err
		}
		t.Done("%s: user %d:%d (groups %v), capabilities bounding %#x effective %#x permitted %#x inheritable %#x ambient %#x",
			cfg.Mode.TraceName(), p.User.UID, p.User.GID, p.User.AdditionalGids, caps.Bounding, caps.Effective, caps.Permitted, caps.Inheritable, caps.Ambient)
	} else {
		t.Done("%s: user %d:%d (groups %v), capabilities unchanged", cfg.Mode.TraceName(), p.User.UID, p.User.GID, p.User.AdditionalGids)
	}
	if cwdErr != nil {
		// Not even root could enter it (a directory of another user in a
		// user namespace, say): the process's own credentials may.
		if err := enterCwd(p.Cwd); err != nil {
			return fmt.Errorf("process.cwd %s: %w", p.Cwd, err)
		}
	}
	if p.NoNewPrivileges {
		if err := system.SetNoNewPrivs(); err != nil {
			return err
		}
		trace.Log("%s: no_new_privs set", cfg.Mode.TraceName())
		if err := loadSeccomp(ch, sc, cfg.Mode.TraceName()); err != nil {
			return err
		}
	}
	return nil
}

// setSchedulingAttrs sets what the process inherits from this thread and
// process besides its limits: oom_score_adj, the scheduler, the I/O
// priority, the personality, the memory policy and the CPU affinity. It
// runs on the thread that execs the process (the init's), or on the one
// that forks it (the fresh image of `rt exec`'s fast path: a fork copies
// each of them from the forking thread).
func setSchedulingAttrs(cfg *initproto.Config) error {
	p := cfg.Process
	if p.OOMScoreAdj != nil {
		if err := system.SetOOMScoreAdj(*p.OOMScoreAdj); err != nil {
			return err
		}
	}
	if err := system.SetScheduler(p.Scheduler); err != nil {
		// SCHED_DEADLINE needs the root domain's CPUs: a narrower cpuset
		// is the usual cause, which runc's words name.
		if cpus := containerCPUs(cfg.Spec); cpus != "" && errors.Is(err, unix.EPERM) {
			return fmt.Errorf("process scheduler can't be used together with AllowedCPUs (linux.resources.cpu.cpus %q): %w", cpus, err)
		}
		return err
	}
	if err := system.SetIOPriority(p.IOPriority); err != nil {
		return err
	}
	if cfg.Spec.Linux != nil {
		if err := system.SetPersonality(cfg.Spec.Linux.Personality); err != nil {
			return err
		}
		// For the container's init and every process exec'd into it, as
		// runc: the policy is the thread's, and survives execve.
		if err := system.SetMemoryPolicy(cfg.Spec.Linux.MemoryPolicy); err != nil {
			return err
		}
	}
	// The init and every exec'd process are in the container's cgroup by
	// now: off the caller's CPUs, onto the cgroup's (or final's).
	affinity := p.ExecCPUAffinity
	if cfg.Mode == initproto.ModeStandard {
		affinity = nil // runtime-spec: execCPUAffinity is not for the init
	}
	if err := system.SetCPUAffinity(affinity); err != nil {
		return err
	}
	return nil
}

func setupKeyring(cfg *initproto.Config) error {
	label := cfg.Process.SelinuxLabel
	if label != "" {
		if err := selinuxlabel.SetKeyLabel(label); err != nil {
			return err
		}
		defer selinuxlabel.SetKeyLabel("")
	}
	_, err := keys.SetupSessionKeyring(cfg.ID, cfg.NewUserNS)
	if errors.Is(err, keys.ErrUnavailable) {
		logrus.Debugf("session keyring: %v", err)
		return nil
	}
	return err
}

// fixStdioOwner gives the container's user its stdio, so that it can reopen
// /proc/self/fd/{0,1,2} (e.g. `echo > /dev/stdout`) after the user switch.
// Only the owner changes, as with runc: a pty keeps devpts' tty group.
func fixStdioOwner(u specs.User) { fixOwner(u.UID, []int{0, 1, 2}) }

func fixOwner(uid uint32, fds []int) {
	var null unix.Stat_t
	unix.Stat("/dev/null", &null)
	for _, fd := range fds {
		var st unix.Stat_t
		if unix.Fstat(fd, &st) != nil {
			continue
		}
		// Leave shared character devices (/dev/null) and what is already the user's alone.
		if st.Rdev == null.Rdev && st.Mode&unix.S_IFMT == unix.S_IFCHR || st.Uid == uid {
			continue
		}
		kernel.Fchown(fd, int(uid), -1)
	}
}

// prepareEnv makes process.env what the process gets, as runc does: one
// entry per name, the last one given winning (in the place of that last
// one), and HOME from the container's /etc/passwd when it is missing or
// empty ("/" for a user it does not list).
func prepareEnv(p *specs.Process) {
	seen := make(map[string]bool, len(p.Env))
	env := make([]string, 0, len(p.Env)+1)
	home := false
	for i := len(p.Env) - 1; i >= 0; i-- {
		name, value, _ := strings.Cut(p.Env[i], "=")
		if seen[name] {
			continue
		}
		seen[name] = true
		if name == "HOME" {
			if value == "" {
				continue
			}
			home = true
		}
		env = append(env, p.Env[i])
	}
	slices.Reverse(env)
	if !home {
		env = append(env, "HOME="+passwdHome(p.User.UID))
	}
	p.Env = env
}

// passwdHome returns uid's home directory in the container's /etc/passwd.
func passwdHome(uid uint32) string {
	f, err := os.Open("/etc/passwd")
	if err != nil {
		return "/"
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Split(sc.Text(), ":")
		if len(fields) >= 6 && fields[2] == strconv.FormatUint(uint64(uid), 10) {
			return fields[5]
		}
	}
	return "/"
}

func containerCPUs(s *specs.Spec) string {
	if s.Linux != nil && s.Linux.Resources != nil && s.Linux.Resources.CPU != nil {
		return s.Linux.Resources.CPU.Cpus
	}
	return ""
}

// lookPath finds the executable the way execvp would with the process's PATH.
func lookPath(file string, env []string) (string, error) {
	if strings.Contains(file, "/") {
		if err := checkExecutable(file); err != nil {
			return "", fmt.Errorf("exec: %q: %w", file, err)
		}
		return file, nil
	}
	path := "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
	for _, e := range env {
		if v, ok := strings.CutPrefix(e, "PATH="); ok {
			path = v
		}
	}
	for _, dir := range filepath.SplitList(path) {
		if dir == "" {
			dir = "."
		}
		p := filepath.Join(dir, file)
		if checkExecutable(p) == nil {
			return p, nil
		}
	}
	return "", fmt.Errorf("exec: %q: executable file not found in $PATH", file)
}

func checkExecutable(p string) error {
	st, err := os.Stat(p)
	if err != nil {
		return err
	}
	if st.IsDir() {
		return errors.New("is a directory")
	}
	if st.Mode()&0o111 == 0 {
		return os.ErrPermission
	}
	return nil
}

// closeExtraFds marks every fd from first on close-on-exec, so nothing of
// rt's reaches the container process.
func closeExtraFds(first int) error {
	if err := unix.CloseRange(uint(first), ^uint(0), unix.CLOSE_RANGE_CLOEXEC); err != nil {
		return fmt.Errorf("mark fds close-on-exec: %w", err)
	}
	return nil
}
