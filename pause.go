package main

import "github.com/urfave/cli"

var pauseCommand = cli.Command{
	Name:      "pause",
	Usage:     "freeze every process in a container",
	ArgsUsage: "<container-id>",
	Description: `Pause freezes all of the container's processes with the cgroup freezer.
They keep their memory and open files but get no CPU time until "rt resume";
meanwhile the container's status is "paused".`,
	Action: func(ctx *cli.Context) error {
		if err := checkArgs(ctx, 1, exactArgs); err != nil {
			return err
		}
		c, err := loadContainer(ctx)
		if err != nil {
			return err
		}
		defer c.Close()
		return c.Pause()
	},
}

var resumeCommand = cli.Command{
	Name:        "resume",
	Usage:       "thaw a paused container",
	ArgsUsage:   "<container-id>",
	Description: `Resume thaws the processes "rt pause" froze; the container is "running" again.`,
	Action: func(ctx *cli.Context) error {
		if err := checkArgs(ctx, 1, exactArgs); err != nil {
			return err
		}
		c, err := loadContainer(ctx)
		if err != nil {
			return err
		}
		defer c.Close()
		return c.Resume()
	},
}
