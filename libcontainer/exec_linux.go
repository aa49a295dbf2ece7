package libcontainer

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/rtproject/rt/libcontainer/hooks"
	"github.com/rtproject/rt/libcontainer/internal/initproto"
	"github.com/rtproject/rt/libcontainer/namespaces"
	"github.com/rtproject/rt/libcontainer/system"
)

// ExecOpts are the options of `rt exec`.
type ExecOpts struct {
	Process       *specs.Process
	ConsoleSocket string
	// ConsoleConn is an already connected console socket (foreground exec with a terminal).
	ConsoleConn  *os.File
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
	} else if o.ConsoleSocket != "" {
		conn, err := dialConsoleSocket(o.ConsoleSocket)
		if err != nil {
			return nil, err
		}
		defer conn.Close()
		cfg.ConsoleFd = cp.addFile(conn)
	}
	// Every namespace of the init, found through its /proc entry.
	for _, ns := range spec.Linux.Namespaces {
		cp.joins = append(cp.joins, nsJoin{typ: ns.Type, path: namespaces.ProcPath(c.state.InitPid, ns.Type)})
	}

	var init *initProcess
	start := func() error {
		var err error
		init, err = cp.start()
		return err
	}
	if err := system.WithInitialCPUAffinity(o.Process.ExecCPUAffinity, start); err != nil {
		return nil, err
	}
	defer init.close()
	ok := false
	defer func() {
		if !ok {
			init.kill()
		}
	}()
	if err := c.joinCgroups(init.proc.Pid, o.SubCgroups); err != nil {
		return nil, err
	}
	// In a paused container the new process is frozen from here on: resume,
	// which needs the lock, must be able to run while we wait for the exec.
	c.Close()
	err := init.converse(&conversation{
		cfg:   cfg,
		spec:  spec,
		state: hooks.State(cfg.ID, cfg.Bundle, spec, specs.StateCreating, init.proc.Pid),
	})
	if err != nil {
		return nil, err
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
// them (--cgroup "sub" for every controller, "controller:sub" for one).
func (c *Container) joinCgroups(pid int, subs []string) error {
	m := c.cgroups()
	if m == nil {
		return nil
	}
	if len(subs) == 0 {
		if err := m.Apply(pid); err != nil {
			return fmt.Errorf("join container cgroup: %w", err)
		}
		return nil
	}
	paths := m.Paths()
	target := map[string]string{}
	for _, s := range subs {
		ctrl, sub, found := strings.Cut(s, ":")
		if !found {
			sub, ctrl = ctrl, ""
		}
		if filepath.IsAbs(sub) || strings.Contains(sub, "..") {
			return fmt.Errorf("--cgroup %q: must be a relative path inside the container's cgroup", s)
		}
		if ctrl == "" {
			for k, p := range paths {
				target[k] = filepath.Join(p, sub)
			}
			continue
		}
		for _, c1 := range strings.Split(ctrl, ",") {
			p, ok := paths[c1]
			if !ok {
				return fmt.Errorf("--cgroup %q: the container has no %s cgroup", s, c1)
			}
			target[c1] = filepath.Join(p, sub)
		}
	}
	for k, p := range paths {
		dir, ok := target[k]
		if !ok {
			dir = p
		}
		if err := os.WriteFile(filepath.Join(dir, "cgroup.procs"), []byte(strconv.Itoa(pid)), 0); err != nil {
			return fmt.Errorf("--cgroup: join %s: %w", dir, err)
		}
	}
	return nil
}
