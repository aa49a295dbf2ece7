package main

import (
	"github.com/urfave/cli"
)

var stateCommand = cli.Command{
	Name:      "state",
	Usage:     "print a container's state as JSON",
	ArgsUsage: "<container-id>",
	Description: `State prints the container's state as the OCI runtime specification defines
it (ociVersion, id, status, pid, bundle, annotations), with rt's additions:
the rootfs path, the creation time and the owner.`,
	Action: func(ctx *cli.Context) error {
		if err := checkArgs(ctx, 1, exactArgs); err != nil {
			return err
		}
		r, id, err := runtimeAndID(ctx)
		if err != nil {
			return err
		}
		st, err := r.Describe(id)
		if err != nil {
			return err
		}
		return printJSON(st)
	},
}
