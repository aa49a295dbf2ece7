package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"slices"
	"strconv"
	"strings"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"github.com/urfave/cli"

	"github.com/rtproject/rt/libcontainer"
	"github.com/rtproject/rt/specconv"
)

var execCommand = cli.Command{
	Name:      "exec",
	Usage:     "run another process in a container",
	ArgsUsage: "<container-id> <command> [<argument>...]  |  --process <process.json> <container-id>",
	Description: `Exec starts a process in a created or running container (a paused one too,
with --ignore-paused): in all of the container's namespaces and its cgroup,
with the user, capabilities, rlimits, seccomp filter, LSM labels, environment
and working directory of the container's own process, except where the flags
change them. Name the program after the container id, or give the whole
process as a JSON file with --process, in the form of config.json's "process".

Unless --detach is given, rt stays in the foreground, forwards signals (and
the terminal, with --tty) to the process, and exits with its exit status.
When the process cannot be started (no such container or program, a paused
container, a pid file that cannot be written) rt exec exits 255, as runc does.
For example, to see the container's processes from inside:

    rt exec web1 ps`,
	Flags: []cli.Flag{
		cli.StringFlag{Name: "console-socket", Usage: usageConsoleSocket + " (with --tty)"},
		cli.StringFlag{Name: "pidfd-socket", Usage: "AF_UNIX socket to send a pidfd of the new process to (SCM_RIGHTS), as runc does"},
		cli.StringFlag{Name: "cwd", Usage: "working directory of the process, inside the container"},
		cli.StringSliceFlag{Name: "env, e", Usage: "add NAME=value to the process's environment; repeat for more"},
		cli.BoolFlag{Name: "tty, t", Usage: "give the process a new pseudo-terminal"},
		cli.StringFlag{Name: "user, u", Usage: "run as this numeric user and group: <uid>[:<gid>]"},
		// A string slice: urfave/cli copies an int slice between a flag's
		// names by appending its value again (-g 5 gave groups 5 5).
		cli.StringSliceFlag{Name: "additional-gids, g", Usage: "supplementary group id, in place of the container's; repeat for more"},
		cli.StringFlag{Name: "process, p", Usage: "JSON file with the whole process to run (config.json's \"process\" object)"},
		cli.BoolFlag{Name: "detach, d", Usage: "return once the process has started, without waiting for it"},
		cli.StringFlag{Name: "pid-file", Value: "", Usage: "write the host pid of the new process to this file"},
		cli.StringFlag{Name: "process-label", Usage: "SELinux label to run the process with"},
		cli.StringFlag{Name: "apparmor", Usage: "AppArmor profile to run the process under"},
		cli.BoolFlag{Name: "no-new-privs", Usage: "set no_new_privs: the process cannot gain privileges through execve"},
		cli.StringSliceFlag{Name: "cap, c", Value: &cli.StringSlice{}, Usage: "grant the process this capability beyond the container's (e.g. CAP_NET_ADMIN); repeat for more"},
		cli.IntFlag{Name: "preserve-fds", Usage: "also pass the N inherited fds that follow stdio to the process"},
		cli.StringSliceFlag{Name: "cgroup", Usage: "put the process in this existing cgroup below the container's, for every controller or one: [<controller>:]<path>; repeat for more"},
		cli.BoolFlag{Name: "ignore-paused", Usage: "run the process even if the container is paused"},
	},
	SkipArgReorder: true,
	Action: func(ctx *cli.Context) error {
		if err := checkArgs(ctx, 1, minArgs); err != nil {
			return err
		}
		code, err := execProcess(ctx)
		if err != nil {
			// As runc: 255 tells a failure to start the process from the
			// process's own exit status.
			return withExitCode(fmt.Errorf("exec failed: %w", err), 255)
		}
		os.Exit(code)
		return nil
	},
}

func execProcess(ctx *cli.Context) (int, error) {
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
	}
	opts := &libcontainer.ExecOpts{
		Process:       p,
		ConsoleSocket: ctx.String("console-socket"),
		PidfdSocket:   ctx.String("pidfd-socket"),
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

// addExecCaps returns the container's capabilities with exec --cap's added,
// as runc does: to the bounding, effective and permitted sets only, so
// nothing is granted across an execve that was not asked for. Ambient gets
// them only when the process has an inheritable set at all (the kernel
// raises an ambient capability only if it is also inheritable; the init
// warns about those it cannot raise).
func addExecCaps(base *specs.LinuxCapabilities, caps []string) *specs.LinuxCapabilities {
	c := specs.LinuxCapabilities{}
	if base != nil {
		c = *base
	}
	c.Bounding = append(slices.Clone(c.Bounding), caps...)
	c.Effective = append(slices.Clone(c.Effective), caps...)
	c.Permitted = append(slices.Clone(c.Permitted), caps...)
	if c.Inheritable != nil {
		c.Ambient = append(slices.Clone(c.Ambient), caps...)
	}
	return &c
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
		if err := specconv.ValidateProcess(&p); err != nil {
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
		p.Capabilities = addExecCaps(p.Capabilities, caps)
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
	if gids := ctx.StringSlice("additional-gids"); len(gids) > 0 {
		p.User.AdditionalGids = nil
		for _, s := range gids {
			g, err := strconv.ParseUint(s, 10, 32)
			if err != nil {
				return nil, fmt.Errorf("--additional-gids %q: not a group id", s)
			}
			p.User.AdditionalGids = append(p.User.AdditionalGids, uint32(g))
		}
	}
	if err := specconv.ValidateProcess(&p); err != nil {
		return nil, err
	}
	return &p, nil
}
