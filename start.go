package main

import (
	"github.com/urfave/cli"
)

var startCommand = cli.Command{
	Name:      "start",
	Usage:     "run the program of a created container",
	ArgsUsage: "<container-id>",
	Description: `Start runs the program (process.args of config.json) of a container that
"rt create" set up, and returns once the program has started: the container
is "running" from then on. It does not wait for the program.`,
	Action: func(ctx *cli.Context) error {
		if err := checkArgs(ctx, 1, exactArgs); err != nil {
			return err
		}
		c, err := loadContainerSummary(ctx)
		if err != nil {
			return err
		}
		defer c.Close()
		return c.Start()
	},
}
