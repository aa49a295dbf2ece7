package libcontainer

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"github.com/sirupsen/logrus"
	"golang.org/x/sys/unix"

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
	parentSock, childSock, err := newSocketPair("exec")
	if err != nil {
		return nil, err
	}
	defer parentSock.Close()
	defer childSock.Close()

	cp := newChildProcess(o.Stdio, o.PreserveFds)
	cp.alwaysSpawn = true
	cfg := &initConfig{
		Mode:        modeExec,
		ID:          c.state.ID,
		Bundle:      c.state.Bundle,
		Rootfs:      c.state.Rootfs,
		Spec:        spec,
		Process:     o.Process,
		PreserveFds: o.PreserveFds,
		ConsoleFd:   -1,
		NewUserNS:   hasNewNamespace(spec, specs.UserNamespace),
	}
	sockFd := cp.addFile(childSock)
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
		cp.joins = append(cp.joins, nsJoin{typ: ns.Type, path: fmt.Sprintf("/proc/%d/ns/%s", c.state.InitPid, nsProcName[ns.Type])})
	}

	var proc *os.Process
	start := func() error {
		var err error
		proc, err = cp.start(sockFd)
		return err
	}
	if err := system.WithInitialCPUAffinity(o.Process.ExecCPUAffinity, start); err != nil {
		return nil, err
	}
	childSock.Close()
	ok := false
	defer func() {
		if !ok {
			proc.Kill()
			proc.Wait()
		}
	}()
	if err := c.joinCgroups(proc.Pid, o.SubCgroups); err != nil {
		return nil, err
	}
	// In a paused container the new process is frozen from here on: resume,
	// which needs the lock, must be able to run while we wait for the exec.
	c.Close()
	ch := &channel{f: parentSock}
	data, err := json.Marshal(cfg)
	if err != nil {
		return nil, err
	}
	if err := ch.send(message{Type: msgConfig, Config: data}); err != nil {
		return nil, fmt.Errorf("send config to exec init: %w", err)
	}
	// The socket is close-on-exec in the child: EOF without an error means the process started.
	for {
		m, fds, err := ch.recv()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("exec init: %w", err)
		}
		switch m.Type {
		case msgLog:
			relayLog(m.Error)
		case msgSeccompFd:
			b := &builder{c: c, o: &CreateOpts{ID: c.state.ID, Bundle: c.state.Bundle, Spec: spec}, proc: proc}
			err := b.sendSeccompListener(fds)
			for _, fd := range fds {
				unix.Close(fd)
			}
			if err != nil {
				return nil, err
			}
			if err := ch.send(message{Type: msgSeccompAck}); err != nil {
				return nil, err
			}
		case msgError:
			return nil, errors.New(m.Error)
		default:
			return nil, fmt.Errorf("unexpected message %q from exec init", m.Type)
		}
	}
	if o.PidFile != "" {
		if err := WritePidFile(o.PidFile, proc.Pid); err != nil {
			return nil, err
		}
	}
	ok = true
	return proc, nil
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

// execInit runs in a process already inside every namespace of the
// container: it applies the process's attributes and execs.
func execInit(ch *channel, cfg *initConfig) error {
	proc := cfg.Process
	if _, err := unix.Setsid(); err != nil {
		return fmt.Errorf("setsid: %w", err)
	}
	if proc.Terminal {
		if err := setupConsole(cfg.ConsoleFd, false); err != nil {
			return err
		}
	} else if cfg.ConsoleFd >= 0 {
		unix.Close(cfg.ConsoleFd)
	}
	path, err := lookPath(proc.Args[0], proc.Env)
	if err != nil {
		return err
	}
	if err := applyProcess(ch, cfg); err != nil {
		return err
	}
	if err := closeExtraFds(3 + cfg.PreserveFds); err != nil {
		return err
	}
	logrus.SetOutput(io.Discard)
	err = unix.Exec(path, proc.Args, proc.Env)
	return fmt.Errorf("exec %s: %w", proc.Args[0], err)
}
