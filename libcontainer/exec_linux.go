package libcontainer

import (
	"errors"
	"fmt"
	"maps"
	"os"
	"path"
	"path/filepath"
	"strconv"
	"strings"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"

	"github.com/rtproject/rt/cgroups"
	"github.com/rtproject/rt/internal/trace"
	"github.com/rtproject/rt/libcontainer/hooks"
	"github.com/rtproject/rt/libcontainer/internal/initproto"
	"github.com/rtproject/rt/libcontainer/namespaces"
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

	t := trace.Start()
	init, err := cp.start()
	if err != nil {
		return nil, err
	}
	if trace.Enabled() {
		t.Done("exec: rt init started in container %s, pid %d; %s", c.state.ID, init.proc.Pid, cp.describeNamespaces())
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
	cfg.Debug = trace.Enabled()
	t = trace.Start()
	err = init.converse(&conversation{
		cfg:   cfg,
		spec:  spec,
		state: hooks.State(cfg.ID, cfg.Bundle, spec, specs.StateCreating, init.proc.Pid),
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
