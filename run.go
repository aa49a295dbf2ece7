package main

import (
	"fmt"
	"os"

	"github.com/urfave/cli"
	"golang.org/x/sys/unix"

	"github.com/rtproject/rt/libcontainer"
)

var runCommand = cli.Command{
	Name:  "run",
	Usage: "create and run a container",
	ArgsUsage: `<container-id>

Where "<container-id>" is your name for the instance of the container that you
are starting. The name you provide for the container instance must be unique on
your host.`,
	Description: `The run command creates an instance of a container for a bundle. The bundle
is a directory with a specification file named "config.json" and a root
filesystem.`,
	Flags: append([]cli.Flag{
		cli.BoolFlag{Name: "detach, d", Usage: "detach from the container's process"},
		cli.BoolFlag{Name: "keep", Usage: "do not delete the container after it exits"},
		cli.BoolFlag{Name: "no-subreaper", Usage: "disable the use of the subreaper used to reap reparented processes"},
	}, createFlags...),
	Action: func(ctx *cli.Context) error {
		if err := checkArgs(ctx, 1, exactArgs); err != nil {
			return err
		}
		code, err := runContainer(ctx)
		if err != nil {
			return err
		}
		os.Exit(code)
		return nil
	},
}

// runContainer is create + start, then, unless detached, waits for the
// container and returns its exit code (128+signal when killed).
func runContainer(ctx *cli.Context) (int, error) {
	detach := ctx.Bool("detach")
	if !detach && !ctx.Bool("no-subreaper") {
		// Processes the container orphans are re-parented to us, not to the host's init.
		if err := unix.Prctl(unix.PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0); err != nil {
			return -1, fmt.Errorf("set child subreaper: %w", err)
		}
	}
	// Signals are caught before the container exists so none is lost.
	var sh *libcontainer.SignalForwarder
	if !detach {
		sh = libcontainer.NewSignalForwarder()
		defer sh.Stop()
	}
	opts, r, err := createOptions(ctx)
	if err != nil {
		return -1, err
	}
	tty, err := ownConsole(detach, opts.ConsoleSocket, opts.Spec.Process.Terminal)
	if err != nil {
		return -1, err
	}
	if tty != nil {
		opts.ConsoleConn = tty.ChildEnd()
	}
	c, proc, err := r.Create(opts)
	if tty != nil {
		tty.CloseChildEnd()
	}
	if err != nil {
		if tty != nil {
			tty.Close()
		}
		return -1, err
	}
	if tty != nil {
		if err := tty.Attach(); err != nil {
			c.Delete(true)
			return -1, err
		}
		defer tty.Close()
	}
	if err := c.Start(); err != nil {
		c.Delete(true)
		return -1, err
	}
	if detach {
		c.Close()
		return 0, nil
	}
	// Release the lock while the container runs so that state, kill and exec work.
	c.Close()
	code := waitForeground(sh, proc, tty)
	if !ctx.Bool("keep") {
		if c, err := r.Load(ctx.Args().First()); err == nil {
			if err := c.Delete(true); err != nil {
				return code, err
			}
		}
	}
	return code, nil
}
