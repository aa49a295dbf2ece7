package main

import (
	"encoding/json"
	"os"
	"time"

	"github.com/rtproject/rt/libcontainer"

	"github.com/urfave/cli"
)

var eventsCommand = cli.Command{
	Name:      "events",
	Usage:     "stream a container's resource usage and OOM kills as JSON",
	ArgsUsage: "<container-id>",
	Description: `Events prints one JSON object a line: a "stats" event with the counters
of the container's cgroup (cpu, memory, pids, block I/O, hugetlb) every
--interval, and an "oom" event each time the kernel's OOM killer strikes in
the container. It ends when the container stops. With --stats it prints the
counters once and exits.`,
	Flags: []cli.Flag{
		cli.DurationFlag{Name: "interval", Value: 5 * time.Second, Usage: "time between two stats events (e.g. 500ms, 10s)"},
		cli.BoolFlag{Name: "stats", Usage: "print the counters once and exit"},
	},
	Action: func(ctx *cli.Context) error {
		if err := checkArgs(ctx, 1, exactArgs); err != nil {
			return err
		}
		c, err := inspectContainer(ctx)
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
