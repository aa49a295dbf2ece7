package main

import (
	"errors"

	"github.com/urfave/cli"

	"github.com/rtproject/rt/libcontainer"
)

var deleteCommand = cli.Command{
	Name:      "delete",
	Usage:     "remove a stopped container and everything it holds",
	ArgsUsage: "<container-id>",
	Description: `Delete removes a container whose program has exited, or one that was
created and never started: its cgroup, its state under --root and whatever
else rt made for it. A container that is still running is refused, unless
--force is given: rt then kills every process in it first.

With --force, a container that does not exist is not an error, so an engine
can delete again whatever it is unsure of. For example:

    rt delete --force web1`,
	Flags: []cli.Flag{
		cli.BoolFlag{Name: "force, f", Usage: "kill the container first (SIGKILL) if it is still running"},
	},
	Action: func(ctx *cli.Context) error {
		if err := checkArgs(ctx, 1, exactArgs); err != nil {
			return err
		}
		force := ctx.Bool("force")
		c, err := loadContainerSummary(ctx)
		if err != nil {
			// containerd's shim always follows delete with delete --force.
			// A directory without state.json is what a create killed at
			// its very start leaves: that goes too.
			if force && errors.Is(err, libcontainer.ErrNotExist) {
				r, rerr := newRuntime(ctx)
				if rerr != nil {
					return rerr
				}
				return r.Purge(ctx.Args().First())
			}
			return err
		}
		defer c.Close()
		return c.Delete(force)
	},
}
