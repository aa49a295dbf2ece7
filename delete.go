package main

import (
	"errors"

	"github.com/urfave/cli"

	"github.com/rtproject/rt/libcontainer"
)

var deleteCommand = cli.Command{
	Name:  "delete",
	Usage: "delete any resources held by the container often used with detached container",
	ArgsUsage: `<container-id>

Where "<container-id>" is the name for the instance of the container.

EXAMPLE:
For example, if the container id is "ubuntu01" and rt list currently shows the
status of "ubuntu01" as "stopped" the following will delete resources held for
"ubuntu01" removing "ubuntu01" from the rt list of containers:

       # rt delete ubuntu01`,
	Flags: []cli.Flag{
		cli.BoolFlag{Name: "force, f", Usage: "Forcibly deletes the container if it is still running (uses SIGKILL)"},
	},
	Action: func(ctx *cli.Context) error {
		if err := checkArgs(ctx, 1, exactArgs); err != nil {
			return err
		}
		force := ctx.Bool("force")
		c, err := loadContainer(ctx)
		if err != nil {
			// containerd's shim always follows delete with delete --force.
			if force && errors.Is(err, libcontainer.ErrNotExist) {
				return nil
			}
			return err
		}
		defer c.Close()
		return c.Delete(force)
	},
}
