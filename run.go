package main

import (
	"fmt"
	"os"

	"github.com/urfave/cli"
	"golang.org/x/sys/unix"

	"github.com/rtproject/rt/internal/trace"
	"github.com/rtproject/rt/libcontainer"
)

var runCommand = cli.Command{
	Name:      "run",
	Usage:     "create a container and start it, in one step",
	ArgsUsage: "<container-id>",
	Description: `Run does "rt create" and "rt start" at once. Unless --detach is given, rt
then stays in the foreground: it forwards signals (and its terminal, when
process.terminal is true) to the container's process, waits for it to exit,
deletes the container (unless --keep is given), and exits with the process's
exit status, 128+N when signal N killed it.` + newIDArgs,
	Flags: append([]cli.Flag{
		cli.BoolFlag{Name: "detach, d", Usage: "return once the container's program has started, leaving it to run"},
		cli.BoolFlag{Name: "keep", Usage: "keep the stopped container after its program exits (for \"rt delete\" to remove)"},
		cli.BoolFlag{Name: "no-subreaper", Usage: usageNoSubreaper},
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
	}
	opts, r, err := createOptions(ctx)
	if err != nil {
		return -1, err
	}
	c, proc, tty, err := withOwnConsole(detach, opts.ConsoleSocket, opts.Spec.Process.Terminal,
		func(conn *os.File) (*libcontainer.Container, *os.Process, error) {
			opts.ConsoleConn = conn
			return r.Create(opts)
		})
	if err != nil {
		return -1, err
	}
	if tty != nil {
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
	trace.Log("run: container %s's process exited with status %d", ctx.Args().First(), code)
	if !ctx.Bool("keep") {
		if c, err := r.Load(ctx.Args().First()); err == nil {
			if err := c.Delete(true); err != nil {
				return code, err
			}
		}
	}
	return code, nil
}
