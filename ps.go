package main

import "github.com/urfave/cli"

var psCommand = cli.Command{
	Name:      "ps",
	Usage:     "ps displays the processes running inside a container",
	ArgsUsage: `<container-id> [ps options]`,
	Flags: []cli.Flag{
		cli.StringFlag{Name: "format, f", Value: "table", Usage: `select one of: ` + formatOptions},
	},
	SkipArgReorder: true,
	Action:         notImplemented("ps"),
}
