package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"github.com/urfave/cli"

	"github.com/rtproject/rt/libcontainer"
	"github.com/rtproject/rt/specconv"
)

var execCommand = cli.Command{
	Name:  "exec",
	Usage: "execute new process inside the container",
	ArgsUsage: `<container-id> <command> [command options]  || -p process.json <container-id>

Where "<container-id>" is the name for the instance of the container and
"<command>" is the command to be executed in the container.
"<command>" can't be empty unless a "-p" flag provided.

EXAMPLE:
For example, if the container is configured to run the linux ps command the
following will output a list of processes running in the container:

       # rt exec <container-id> ps`,
	Flags: []cli.Flag{
		cli.StringFlag{Name: "console-socket", Usage: "path to an AF_UNIX socket which will receive a file descriptor referencing the master end of the console's pseudoterminal"},
		cli.StringFlag{Name: "pidfd-socket", Usage: "path to an AF_UNIX socket which will receive a file descriptor referencing the exec process"},
		cli.StringFlag{Name: "cwd", Usage: "current working directory in the container"},
		cli.StringSliceFlag{Name: "env, e", Usage: "set environment variables"},
		cli.BoolFlag{Name: "tty, t", Usage: "allocate a pseudo-TTY"},
		cli.StringFlag{Name: "user, u", Usage: "UID (format: <uid>[:<gid>])"},
		cli.Int64SliceFlag{Name: "additional-gids, g", Usage: "additional gids"},
		cli.StringFlag{Name: "process, p", Usage: "path to the process.json"},
		cli.BoolFlag{Name: "detach, d", Usage: "detach from the container's process"},
		cli.StringFlag{Name: "pid-file", Value: "", Usage: "specify the file to write the process id to"},
		cli.StringFlag{Name: "process-label", Usage: "set the asm process label for the process commonly used with selinux"},
		cli.StringFlag{Name: "apparmor", Usage: "set the apparmor profile for the process"},
		cli.BoolFlag{Name: "no-new-privs", Usage: "set the no new privileges value for the process"},
		cli.StringSliceFlag{Name: "cap, c", Value: &cli.StringSlice{}, Usage: "add a capability to the bounding set for the process"},
		cli.IntFlag{Name: "preserve-fds", Usage: "Pass N additional file descriptors to the container (stdio + $LISTEN_FDS + N in total)"},
		cli.StringSliceFlag{Name: "cgroup", Usage: "run the process in an (existing) sub-cgroup(s). Format is [<controller>:]<cgroup>."},
		cli.BoolFlag{Name: "ignore-paused", Usage: "allow exec in a paused container"},
	},
	SkipArgReorder: true,
	Action: func(ctx *cli.Context) error {
		if err := checkArgs(ctx, 1, minArgs); err != nil {
			return err
		}
		code, err := execProcess(ctx)
		if err != nil {
			return err
		}
		os.Exit(code)
		return nil
	},
}

func execProcess(ctx *cli.Context) (int, error) {
	if ctx.String("pidfd-socket") != "" {
		return -1, errors.New("--pidfd-socket: not supported")
	}
	if err := checkPreserveFds(ctx.Int("preserve-fds")); err != nil {
		return -1, err
	}
	c, err := loadContainer(ctx)
	if err != nil {
		return -1, err
	}
	p, err := execProcessSpec(ctx, c.Config())
	if err != nil {
		c.Close()
		return -1, err
	}
	detach := ctx.Bool("detach")
	var sh *libcontainer.SignalForwarder
	if !detach {
		sh = libcontainer.NewSignalForwarder()
		defer sh.Stop()
	}
	opts := &libcontainer.ExecOpts{
		Process:       p,
		ConsoleSocket: ctx.String("console-socket"),
		PidFile:       ctx.String("pid-file"),
		PreserveFds:   ctx.Int("preserve-fds"),
		IgnorePaused:  ctx.Bool("ignore-paused"),
		SubCgroups:    ctx.StringSlice("cgroup"),
	}
	tty, err := ownConsole(detach, opts.ConsoleSocket, p.Terminal)
	if err != nil {
		c.Close()
		return -1, err
	}
	if tty != nil {
		opts.ConsoleConn = tty.ChildEnd()
	}
	proc, err := c.Exec(opts)
	// Concurrent execs, state and kill must not wait for this process.
	c.Close()
	if tty != nil {
		tty.CloseChildEnd()
	}
	if err != nil {
		if tty != nil {
			tty.Close()
		}
		return -1, err
	}
	if detach {
		return 0, nil
	}
	if tty != nil {
		if err := tty.Attach(); err != nil {
			proc.Kill()
			return -1, err
		}
		defer tty.Close()
	}
	return waitForeground(sh, proc, tty), nil
}

// execProcessSpec builds the process to run: --process, or the container's
// own process with the command line's overrides.
func execProcessSpec(ctx *cli.Context, spec *specs.Spec) (*specs.Process, error) {
	if path := ctx.String("process"); path != "" {
		data, err := os.ReadFile(path)
		if err != nil {
			return nil, fmt.Errorf("--process: %w", err)
		}
		var p specs.Process
		if err := json.Unmarshal(data, &p); err != nil {
			return nil, fmt.Errorf("--process %s: %w", path, err)
		}
		if err := specconv.ValidateProcess(&p, "process"); err != nil {
			return nil, fmt.Errorf("--process %s: %w", path, err)
		}
		return &p, nil
	}
	if ctx.NArg() < 2 {
		return nil, errors.New("exec: a command is required (or --process)")
	}
	p := *spec.Process
	p.Args = ctx.Args()[1:]
	p.Env = append(append([]string(nil), p.Env...), ctx.StringSlice("env")...)
	p.Terminal = ctx.Bool("tty")
	if cwd := ctx.String("cwd"); cwd != "" {
		p.Cwd = cwd
	}
	if l := ctx.String("process-label"); l != "" {
		p.SelinuxLabel = l
	}
	if a := ctx.String("apparmor"); a != "" {
		p.ApparmorProfile = a
	}
	if ctx.IsSet("no-new-privs") {
		p.NoNewPrivileges = ctx.Bool("no-new-privs")
	}
	if caps := ctx.StringSlice("cap"); len(caps) > 0 {
		c := specs.LinuxCapabilities{}
		if p.Capabilities != nil {
			c = *p.Capabilities
		}
		// An added capability must survive the exec as a non-root user too: ambient needs inheritable.
		c.Bounding = append(append([]string(nil), c.Bounding...), caps...)
		c.Effective = append(append([]string(nil), c.Effective...), caps...)
		c.Permitted = append(append([]string(nil), c.Permitted...), caps...)
		c.Inheritable = append(append([]string(nil), c.Inheritable...), caps...)
		c.Ambient = append(append([]string(nil), c.Ambient...), caps...)
		p.Capabilities = &c
	}
	if u := ctx.String("user"); u != "" {
		uidStr, gidStr, hasGid := strings.Cut(u, ":")
		uid, err := strconv.ParseUint(uidStr, 10, 32)
		if err != nil {
			return nil, fmt.Errorf("--user %q: uid must be a number", u)
		}
		p.User.UID = uint32(uid)
		if hasGid {
			gid, err := strconv.ParseUint(gidStr, 10, 32)
			if err != nil {
				return nil, fmt.Errorf("--user %q: gid must be a number", u)
			}
			p.User.GID = uint32(gid)
		}
	}
	if gids := ctx.Int64Slice("additional-gids"); len(gids) > 0 {
		p.User.AdditionalGids = nil
		for _, g := range gids {
			if g < 0 || g > 1<<32-1 {
				return nil, fmt.Errorf("--additional-gids: %d is out of range", g)
			}
			p.User.AdditionalGids = append(p.User.AdditionalGids, uint32(g))
		}
	}
	if err := specconv.ValidateProcess(&p, "process"); err != nil {
		return nil, err
	}
	return &p, nil
}
