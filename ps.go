package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"strings"

	"github.com/urfave/cli"
)

var psCommand = cli.Command{
	Name:      "ps",
	Usage:     "list the processes in a container",
	ArgsUsage: "<container-id> [--] [<ps option>...]",
	Description: `Ps shows the processes in the container's cgroup. As a table (the default)
it runs the host's ps(1) with the options given after the container id
(default -ef) and keeps the header and the rows of the container's
processes, so the options must keep a PID column. With --format json it
prints the host pids of those processes as a JSON array. For example:

    rt ps web1 -- -o pid,user,rss,args`,
	Flags: []cli.Flag{
		cli.StringFlag{Name: "format, f", Value: "table", Usage: "output format: " + formatOptions},
	},
	SkipArgReorder: true,
	Action: func(ctx *cli.Context) error {
		if err := checkArgs(ctx, 1, minArgs); err != nil {
			return err
		}
		format := ctx.String("format")
		if format != "table" && format != "json" {
			return fmt.Errorf("invalid format option %q: want %s", format, formatOptions)
		}
		c, err := inspectContainer(ctx)
		if err != nil {
			return err
		}
		pids, err := c.Processes()
		c.Close()
		if err != nil {
			return err
		}
		if format == "json" {
			return json.NewEncoder(os.Stdout).Encode(pids)
		}
		psArgs := []string(ctx.Args()[1:])
		// `rt ps ID -- aux`: the separator only ends rt's own options.
		if len(psArgs) > 0 && psArgs[0] == "--" {
			psArgs = psArgs[1:]
		}
		if len(psArgs) == 0 {
			psArgs = []string{"-ef"}
		}
		out, err := exec.Command("ps", psArgs...).Output()
		if err != nil {
			var ee *exec.ExitError
			if errors.As(err, &ee) {
				return fmt.Errorf("ps %s: %w: %s", strings.Join(psArgs, " "), err, bytes.TrimSpace(ee.Stderr))
			}
			return fmt.Errorf("ps %s: %w", strings.Join(psArgs, " "), err)
		}
		return filterPs(out, pids, os.Stdout)
	},
}

// filterPs prints the header of ps's output and the rows whose PID column
// is one of pids.
func filterPs(out []byte, pids []int, w *os.File) error {
	sc := bufio.NewScanner(bytes.NewReader(out))
	sc.Buffer(make([]byte, 64*1024), 1<<20)
	if !sc.Scan() {
		return errors.New("ps printed nothing")
	}
	header := sc.Text()
	col := slices.Index(strings.Fields(header), "PID")
	if col < 0 {
		return fmt.Errorf("no PID column in ps output %q: the ps options must include the pid", header)
	}
	bw := bufio.NewWriter(w)
	fmt.Fprintln(bw, header)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if col >= len(fields) {
			continue
		}
		pid, err := strconv.Atoi(fields[col])
		if err != nil {
			continue
		}
		if slices.Contains(pids, pid) {
			fmt.Fprintln(bw, sc.Text())
		}
	}
	if err := sc.Err(); err != nil {
		return err
	}
	return bw.Flush()
}
