package libcontainer

import (
	"errors"
	"fmt"
	"maps"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"

	"github.com/rtproject/rt/cgroups"
	"github.com/rtproject/rt/internal/trace"
	"github.com/rtproject/rt/libcontainer/capabilities"
	"github.com/rtproject/rt/libcontainer/hooks"
	"github.com/rtproject/rt/libcontainer/internal/initproto"
	"github.com/rtproject/rt/libcontainer/namespaces"
	"github.com/rtproject/rt/libcontainer/seccomp"
	"github.com/rtproject/rt/libcontainer/system"
	"github.com/rtproject/rt/nsenter"
)

// ExecOpts are the options of `rt exec`.
type ExecOpts struct {
	Process       *specs.Process
	ConsoleSocket string
	// ConsoleConn is an already connected console socket (foreground exec with a terminal).
	ConsoleConn *os.File
	// PidfdSocket receives a pidfd of the process once it has exec'd.
	PidfdSocket  string
	PidFile      string
	PreserveFds  int
	IgnorePaused bool
	// SubCgroups are --cgroup values: "path" for every controller or "controller:path".
	SubCgroups []string
	Stdio      [3]*os.File
}

// Exec starts a process inside the running container, confined exactly like
// its init: the same namespaces, cgroup, and the process's own user,
// capabilities, rlimits, labels, no_new_privs and the container's seccomp
// filter. It returns once the process has exec'd, having released the
// container's lock once the process joined the container's cgroup.
func (c *Container) Exec(o *ExecOpts) (*os.Process, error) {
	switch st := c.Status(); st {
	case Running, Created:
	case Paused:
		if !o.IgnorePaused {
			return nil, errors.New("cannot exec in a paused container (use --ignore-paused to override)")
		}
	default:
		return nil, fmt.Errorf("cannot exec in a %s container", st)
	}
	spec := c.state.Config
	cp := newChildProcess(o.Stdio, o.PreserveFds)
	cp.alwaysSpawn = true
	cfg := &initproto.Config{
		Mode:        initproto.ModeExec,
		ID:          c.state.ID,
		Bundle:      c.state.Bundle,
		Rootfs:      c.state.Rootfs,
		Spec:        spec,
		Process:     o.Process,
		PreserveFds: o.PreserveFds,
		ConsoleFd:   -1,
		NewUserNS:   namespaces.IsNew(spec, specs.UserNamespace),
	}
	if o.ConsoleConn != nil {
		cfg.ConsoleFd = cp.addFile(o.ConsoleConn)
		cfg.ConsoleToRT = true
	} else if o.ConsoleSocket != "" {
		conn, err := dialConsoleSocket(o.ConsoleSocket)
		if err != nil {
			return nil, err
		}
		defer conn.Close()
		cfg.ConsoleFd = cp.addFile(conn)
	}
	var pidfdConn *os.File
	if o.PidfdSocket != "" {
		var err error
		if pidfdConn, err = dialUnix("--pidfd-socket", o.PidfdSocket); err != nil {
			return nil, err
		}
		defer pidfdConn.Close()
	}
	// Every namespace of the init, found through its /proc entry.
	for _, ns := range spec.Linux.Namespaces {
		cp.joins = append(cp.joins, nsJoin{typ: ns.Type, path: namespaces.ProcPath(c.state.InitPid, ns.Type)})
	}
	if c.state.HostMountNS {
		// The init is chrooted into the rootfs in the host's mount
		// namespace: so is the process, or it would see the host's root.
		root, err := os.OpenFile(c.state.Rootfs, unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
		if err != nil {
			return nil, fmt.Errorf("open the container's root %s: %w", c.state.Rootfs, err)
		}
		defer root.Close()
		cp.root = root
	}

	cp.affinity = o.Process.ExecCPUAffinity
	// Born in the container's cgroups (cgroupEntry), unless systemd's
	// scope or a frozen cgroup wants the process moved once it exists.
	m := c.cgroups()
	if m != nil && !c.state.SystemdCgroup && bornIn(m) {
		dirs := m.Paths()
		if len(o.SubCgroups) > 0 {
			target, err := subCgroupDirs(dirs, o.SubCgroups)
			if err != nil {
				return nil, fmt.Errorf("--cgroup: %w", err)
			}
			maps.Copy(dirs, target)
		}
		entry, err := openCgroupEntry(dirs, c.state.Rootless)
		if err != nil && len(o.SubCgroups) > 0 {
			return nil, fmt.Errorf("--cgroup: error adding pid to cgroups: %w", err)
		}
		if err != nil {
			return nil, err
		}
		defer entry.Close()
		cp.cgroups = entry
		if entry.memory != nil {
			cfg.JoinMemoryFd = cp.addFile(entry.memory)
		}
	}

	cfg.Debug = trace.Enabled()
	fast := ""
	if why := execSlowPathReason(spec, o.Process, m != nil && cp.cgroups == nil); why != "" {
		trace.Log("exec: rt init prepares the process: %s", why)
	} else {
		cp.execConfig = cfg
		fast = " (fast path: the fresh image prepared the process and forked it)"
	}
	t := trace.Start()
	init, err := cp.start()
	if err != nil {
		return nil, describeExecStepError(err, o.Process)
	}
	if trace.Enabled() {
		t.Done("exec: rt init started in container %s, pid %d%s; %s", c.state.ID, init.proc.Pid, fast, cp.describeNamespaces())
	}
	defer init.close()
	ok := false
	defer func() {
		if !ok {
			init.kill()
		}
	}()
	if cp.cgroups == nil {
		t = trace.Start()
		if err := c.joinCgroups(m, init.proc.Pid, o.SubCgroups); err != nil {
			return nil, err
		}
		if len(o.SubCgroups) == 0 {
			t.Done("exec: pid %d joined the container's cgroup", init.proc.Pid)
		} else {
			t.Done("exec: pid %d joined the container's sub-cgroups %v", init.proc.Pid, o.SubCgroups)
		}
	}
	// In a paused container the new process is frozen from here on: resume,
	// which needs the lock, must be able to run while we wait for the exec.
	c.Close()
	t = trace.Start()
	err = init.converse(&conversation{
		cfg:        cfg,
		configSent: cp.execConfig != nil,
		spec:       spec,
		state:      hooks.State(cfg.ID, cfg.Bundle, spec, specs.StateCreating, init.proc.Pid),
		// With --ignore-paused the exec waits for resume; otherwise the
		// container paused under it ends the wait.
		stuck: stuckCheck(init.proc.Pid, m, o.IgnorePaused),
	})
	if err != nil {
		return nil, err
	}
	t.Done("exec: process %v started, pid %d", o.Process.Args, init.proc.Pid)
	if pidfdConn != nil {
		if err := sendPidfd(pidfdConn, init.proc.Pid, "setns"); err != nil {
			return nil, err
		}
	}
	if o.PidFile != "" {
		if err := WritePidFile(o.PidFile, init.proc.Pid); err != nil {
			return nil, err
		}
	}
	ok = true
	return init.proc, nil
}

// execSlowPathReason says why `rt exec` must start the exec init (a third
// Go process) rather than have the fresh image of rt prepare the process
// and fork it (nsenter.SpawnConfig.ExecProcess), or "" when it need not:
//   - no pid namespace is joined: there is no fresh image, Spawn's child
//     executes rt init straight away (two Go processes already);
//   - a seccomp notify listener: its fd must reach the agent through rt
//     (seccomp-fd, seccomp-ack) after the filter is loaded, in the child;
//   - an AppArmor profile or SELinux label: they are set through /proc
//     files of the thread (attr/exec), which the raw child cannot write
//     without a procfs of its own;
//   - SCHED_DEADLINE or reset-on-fork in process.scheduler: the fresh
//     image sets the scheduler on the thread that forks, and the kernel
//     refuses to fork a deadline task and resets the policy of a child of
//     a reset-on-fork one;
//   - process.scheduler together with RLIMIT_RTPRIO or RLIMIT_NICE: the
//     exec init sets the limits first, which may be what allows the
//     policy, and the fast path applies limits last, in the child;
//   - the process is moved into its cgroup once it exists (systemd, a
//     frozen cgroup: lateCgroups): on the fast path it would have exec'd
//     by then.
func execSlowPathReason(spec *specs.Spec, p *specs.Process, lateCgroups bool) string {
	switch {
	case !namespaces.Has(spec, specs.PIDNamespace):
		return "no pid namespace is joined"
	case lateCgroups:
		return "the process joins its cgroups after it starts"
	case p.ApparmorProfile != "" || p.SelinuxLabel != "":
		return "an AppArmor profile or SELinux label is set"
	case seccomp.UsesNotify(spec.Linux.Seccomp):
		return "the seccomp filter has a notify listener"
	}
	if s := p.Scheduler; s != nil {
		if s.Policy == specs.SchedDeadline || slices.Contains(s.Flags, specs.SchedFlagResetOnFork) {
			return "process.scheduler is SCHED_DEADLINE or reset-on-fork"
		}
		for _, r := range p.Rlimits {
			if r.Type == "RLIMIT_RTPRIO" || r.Type == "RLIMIT_NICE" {
				return "process.scheduler with an RLIMIT_RTPRIO or RLIMIT_NICE limit"
			}
		}
	}
	return ""
}

// describeExecStepError gives a failed step of the fast path's forked child
// the words and fields the exec init's error for it would have.
func describeExecStepError(err error, p *specs.Process) error {
	var se *nsenter.ExecStepError
	if !errors.As(err, &se) {
		return err
	}
	switch se.Step {
	case nsenter.ExecStepRlimit:
		if se.Index < len(p.Rlimits) {
			r := p.Rlimits[se.Index]
			hint := ""
			if se.Err == unix.EPERM {
				hint = " (raising a hard limit needs CAP_SYS_RESOURCE)"
			}
			return fmt.Errorf("process.rlimits[%d]: set %s to soft %d hard %d: %w%s", se.Index, r.Type, r.Soft, r.Hard, se.Err, hint)
		}
	case nsenter.ExecStepCwd:
		return fmt.Errorf("process.cwd %s: %w", p.Cwd, se.Err)
	case nsenter.ExecStepExec:
		return fmt.Errorf("exec %s: %w", p.Args[0], se.Err)
	case nsenter.ExecStepSetresuid:
		return fmt.Errorf("setresuid %d: %w%s", p.User.UID, se.Err, system.UnmappedIDHint(se.Err))
	case nsenter.ExecStepSetresgid:
		return fmt.Errorf("setresgid %d: %w%s", p.User.GID, se.Err, system.UnmappedIDHint(se.Err))
	case nsenter.ExecStepSetgroups:
		if se.Err == unix.EPERM {
			return fmt.Errorf("setgroups %v: %w (setgroups may be denied in this user namespace)", p.User.AdditionalGids, se.Err)
		}
		return fmt.Errorf("setgroups %v: %w", p.User.AdditionalGids, se.Err)
	case nsenter.ExecStepSeccomp:
		if se.Err == unix.EACCES {
			return fmt.Errorf("linux.seccomp: load seccomp filter: %w (needs no_new_privs or CAP_SYS_ADMIN)", se.Err)
		}
		return fmt.Errorf("linux.seccomp: load seccomp filter: %w", se.Err)
	case nsenter.ExecStepBounding:
		return fmt.Errorf("drop %s from the bounding set: %w", capabilities.Name(se.Index), se.Err)
	}
	return err
}

// joinCgroups moves pid into the container's cgroups, or into sub-cgroups of
// them (--cgroup "sub" for every controller, "controller[,controller]:sub"
// for some). The texts are runc's, which scripts grep for.
func (c *Container) joinCgroups(m cgroups.Manager, pid int, subs []string) error {
	if m == nil {
		return nil
	}
	if len(subs) == 0 {
		if err := m.Apply(pid); err != nil {
			return fmt.Errorf("error adding pid %d to cgroups: %w", pid, err)
		}
		return nil
	}
	paths := m.Paths()
	target, err := subCgroupDirs(paths, subs)
	if err != nil {
		return fmt.Errorf("--cgroup: %w", err)
	}
	for k, p := range paths {
		dir, ok := target[k]
		if !ok {
			dir = p
		}
		if err := os.WriteFile(filepath.Join(dir, "cgroup.procs"), []byte(strconv.Itoa(pid)), 0); err != nil {
			return fmt.Errorf("--cgroup: error adding pid %d to cgroups: %s: %w", pid, dir, err)
		}
	}
	return nil
}

// subCgroupDirs resolves --cgroup values against the container's cgroup
// paths (controller → directory): each must name the container's own cgroup
// ("/") or one below it.
func subCgroupDirs(paths map[string]string, subs []string) (map[string]string, error) {
	target := map[string]string{}
	below := func(base, sub string) (string, error) {
		dir := path.Join(base, sub)
		if dir != base && !strings.HasPrefix(dir, base+"/") {
			return "", fmt.Errorf("bad sub cgroup path: %s", sub)
		}
		return dir, nil
	}
	for _, s := range subs {
		ctrls, sub, found := strings.Cut(s, ":")
		if !found {
			if len(subs) != 1 {
				return nil, fmt.Errorf("%q: a path for every controller must be the only --cgroup (or use <controller>:<path>)", s)
			}
			for k, p := range paths {
				dir, err := below(p, s)
				if err != nil {
					return nil, err
				}
				target[k] = dir
			}
			continue
		}
		for _, ctrl := range strings.Split(ctrls, ",") {
			if ctrl == "" {
				return nil, fmt.Errorf("%q: empty controller name", s)
			}
			if _, dup := target[ctrl]; dup {
				return nil, fmt.Errorf("controller %s given more than once", ctrl)
			}
			p, ok := paths[ctrl]
			if !ok {
				return nil, fmt.Errorf("unknown controller %s: the container has no %s cgroup", ctrl, ctrl)
			}
			dir, err := below(p, sub)
			if err != nil {
				return nil, err
			}
			target[ctrl] = dir
		}
	}
	return target, nil
}
