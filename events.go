package main

import (
	"encoding/json"
	"os"
	"time"

	"github.com/rtproject/rt/libcontainer"

	"github.com/urfave/cli"
)

var eventsCommand = cli.Command{
	Name:  "events",
	Usage: "display container events such as OOM notifications, cpu, memory, and IO usage statistics",
	ArgsUsage: `<container-id>

Where "<container-id>" is the name for the instance of the container.`,
	Description: `The events command displays information about the container. By default the
information is displayed once every 5 seconds.`,
	Flags: []cli.Flag{
		cli.DurationFlag{Name: "interval", Value: 5 * time.Second, Usage: "set the stats collection interval"},
		cli.BoolFlag{Name: "stats", Usage: "display the container's stats then exit"},
	},
	Action: func(ctx *cli.Context) error {
		if err := checkArgs(ctx, 1, exactArgs); err != nil {
			return err
		}
		c, err := loadContainer(ctx)
		if err != nil {
			return err
		}
		defer c.Close()
		enc := json.NewEncoder(os.Stdout)
		if ctx.Bool("stats") {
			s, err := c.Stats()
			if err != nil {
				return err
			}
			return enc.Encode(libcontainer.Event{Type: "stats", ID: c.ID(), Data: s})
		}
		return c.Watch(ctx.Duration("interval"), func(e libcontainer.Event) error {
			return enc.Encode(e)
		})
	},
}
