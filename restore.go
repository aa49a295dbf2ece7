package main

import (
	"fmt"
	"os"

	"github.com/urfave/cli"
	"golang.org/x/sys/unix"

	"github.com/rtproject/rt/libcontainer"
)

var restoreCommand = cli.Command{
	Name:      "restore",
	Usage:     "bring a checkpointed container back with CRIU",
	ArgsUsage: "<container-id>",
	Description: `Restore recreates a container from the images "rt checkpoint" saved, under
the id given (the checkpointed one or a new one) and with the bundle's
config.json, and the processes go on from where they were saved. The
container is then running like any other: state, exec, kill, pause and
delete work on it.

The restored process gets rt's stdio in place of the pipes it had, and a
new terminal, sent over --console-socket, in place of the one it had.
Without --detach, rt waits for the container like "rt run" and deletes it
when it exits.` + newIDArgs,
	Flags: []cli.Flag{
		cli.StringFlag{Name: "console-socket", Usage: usageConsoleSocket + " (the checkpoint had a terminal)"},
		cli.StringFlag{Name: "image-path", Usage: "directory of CRIU's image files to restore from (default: ./checkpoint)"},
		cli.StringFlag{Name: "work-path", Usage: usageWorkPath},
		cli.BoolFlag{Name: "tcp-established", Usage: "restore established TCP connections"},
		cli.BoolFlag{Name: "ext-unix-sk", Usage: usageExtUnixSk},
		cli.BoolFlag{Name: "shell-job", Usage: usageShellJob},
		cli.BoolFlag{Name: "file-locks", Usage: "restore file locks"},
		cli.StringFlag{Name: "manage-cgroups-mode", Usage: usageCgroupsMode},
		cli.StringFlag{Name: "bundle, b", Usage: usageBundle},
		cli.BoolFlag{Name: "detach, d", Usage: "return once the container runs again, without waiting for it"},
		cli.StringFlag{Name: "pid-file", Usage: "write the host pid of the restored init to this file"},
		cli.BoolFlag{Name: "no-subreaper", Usage: usageNoSubreaper},
		// Accepted as runc accepts it: CRIU restores the root the checkpoint had.
		cli.BoolFlag{Name: "no-pivot", Usage: usageNoPivot + " (no effect: CRIU restores the root as it was)"},
		cli.StringSliceFlag{Name: "empty-ns", Usage: usageEmptyNs},
		cli.BoolFlag{Name: "auto-dedup", Usage: "free the images' pages as they are restored"},
		cli.BoolFlag{Name: "lazy-pages", Usage: "copy memory pages on demand (userfaultfd) instead of up front"},
		cli.StringFlag{Name: "lsm-profile", Usage: "LSM profile to restore the process under, as TYPE:NAME"},
		cli.StringFlag{Name: "lsm-mount-context", Usage: "LSM (SELinux) context for the restored container's mounts"},
	},
	Action: func(ctx *cli.Context) error {
		if err := checkArgs(ctx, 1, exactArgs); err != nil {
			return err
		}
		code, err := restoreContainer(ctx)
		if err != nil {
			return err
		}
		os.Exit(code)
		return nil
	},
}

// restoreContainer restores, then, unless detached, waits for the restored
// init like run waits for a new one, and removes the container once it exits.
func restoreContainer(ctx *cli.Context) (int, error) {
	id := ctx.Args().First()
	if err := libcontainer.ValidateID(id); err != nil {
		return -1, err
	}
	bundle, spec, err := loadBundle(ctx.String("bundle"), ctx.GlobalBool("systemd-cgroup"))
	if err != nil {
		return -1, err
	}
	r, err := newRuntime(ctx)
	if err != nil {
		return -1, err
	}
	detach := ctx.Bool("detach")
	if !detach && !ctx.Bool("no-subreaper") {
		if err := unix.Prctl(unix.PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0); err != nil {
			return -1, fmt.Errorf("set child subreaper: %w", err)
		}
	}
	var sh *libcontainer.SignalForwarder
	if !detach {
		sh = libcontainer.NewSignalForwarder()
	}
	opts := &libcontainer.RestoreOpts{
		ID:            id,
		Bundle:        bundle,
		Spec:          spec,
		ConsoleSocket: ctx.String("console-socket"),
		PidFile:       ctx.String("pid-file"),
		Criu:          *criuOptions(ctx),
	}
	c, proc, tty, err := withOwnConsole(detach, opts.ConsoleSocket, spec.Process.Terminal,
		func(conn *os.File) (*libcontainer.Container, *os.Process, error) {
			opts.ConsoleConn = conn
			return r.Restore(opts)
		})
	if err != nil {
		return -1, err
	}
	if tty != nil {
		defer tty.Close()
	}
	// Release the lock while the container runs so that state, kill and exec work.
	c.Close()
	if detach {
		return 0, nil
	}
	code := waitForeground(sh, proc, tty)
	if c, err := r.Load(id); err == nil {
		if err := c.Delete(true); err != nil {
			return code, err
		}
	}
	return code, nil
}
