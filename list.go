package main

import (
	"encoding/json"
	"fmt"
	"os"
	"text/tabwriter"
	"time"

	"github.com/urfave/cli"
)

const formatOptions = `table or json`

var listCommand = cli.Command{
	Name:      "list",
	Usage:     "list the containers under --root",
	ArgsUsage: "",
	Description: `List shows every container whose state is kept under the global --root
directory: its id, the host pid of its init, its status, bundle, creation
time and owner, as a table or, with --format json, as a JSON array. For
example, the containers of a non-default root, ids only:

    rt --root /run/rt-test list -q`,
	Flags: []cli.Flag{
		cli.StringFlag{Name: "format, f", Value: "table", Usage: "output format: " + formatOptions},
		cli.BoolFlag{Name: "quiet, q", Usage: "print only the container ids, one a line"},
	},
	Action: func(ctx *cli.Context) error {
		if err := checkArgs(ctx, 0, exactArgs); err != nil {
			return err
		}
		r, err := newRuntime(ctx)
		if err != nil {
			return err
		}
		// A --root that was typed and does not exist is a mistake; the
		// default one is missing only until the first container.
		if ctx.GlobalIsSet("root") {
			if _, err := os.Stat(r.Root); err != nil {
				return fmt.Errorf("--root: %w", err)
			}
		}
		states, err := r.List()
		if err != nil {
			return err
		}
		if ctx.Bool("quiet") {
			for _, s := range states {
				fmt.Println(s.ID)
			}
			return nil
		}
		switch ctx.String("format") {
		case "table":
			w := tabwriter.NewWriter(os.Stdout, 12, 1, 3, ' ', 0)
			fmt.Fprint(w, "ID\tPID\tSTATUS\tBUNDLE\tCREATED\tOWNER\n")
			for _, s := range states {
				fmt.Fprintf(w, "%s\t%d\t%s\t%s\t%s\t%s\n", s.ID, s.Pid, s.Status, s.Bundle, s.Created.Format(time.RFC3339Nano), s.Owner)
			}
			return w.Flush()
		case "json":
			// One line, as runc prints it: scripts read it line by line.
			return json.NewEncoder(os.Stdout).Encode(states)
		default:
			return fmt.Errorf("invalid format option %q: want %s", ctx.String("format"), formatOptions)
		}
	},
}
