package main

import (
	"fmt"
	"strconv"
	"strings"
	"syscall"

	"github.com/urfave/cli"
	"golang.org/x/sys/unix"
)

var killCommand = cli.Command{
	Name:      "kill",
	Usage:     "send a signal to a container's init (SIGTERM by default)",
	ArgsUsage: "<container-id> [<signal>]",
	Description: `Kill sends a signal to the container's init process, or with --all to every
process in the container. The signal is a name, with or without its SIG
prefix and in either case (TERM, SIGKILL, hup), or a number (9). Without
one, it is SIGTERM. For example, to stop container web1 at once:

    rt kill web1 KILL`,
	Flags: []cli.Flag{
		cli.BoolFlag{Name: "all, a", Usage: "signal every process in the container, not only its init"},
	},
	Action: func(ctx *cli.Context) error {
		if err := checkArgs(ctx, 1, minArgs); err != nil {
			return err
		}
		if err := checkArgs(ctx, 2, maxArgs); err != nil {
			return err
		}
		sigstr := ctx.Args().Get(1)
		if sigstr == "" {
			sigstr = "SIGTERM"
		}
		sig, err := parseSignal(sigstr)
		if err != nil {
			return err
		}
		c, err := loadContainerSummary(ctx)
		if err != nil {
			return err
		}
		defer c.Close()
		return c.Signal(sig, ctx.Bool("all"))
	},
}

// parseSignal accepts a number, a name, or a name without its SIG prefix.
// 0 checks that the container runs, as kill(1) does for a process.
func parseSignal(raw string) (syscall.Signal, error) {
	if n, err := strconv.Atoi(raw); err == nil {
		if n < 0 || n > 64 {
			return -1, fmt.Errorf("invalid signal %q", raw)
		}
		return syscall.Signal(n), nil
	}
	name := strings.ToUpper(raw)
	if !strings.HasPrefix(name, "SIG") {
		name = "SIG" + name
	}
	if sig := unix.SignalNum(name); sig != 0 {
		return sig, nil
	}
	return -1, fmt.Errorf("unknown signal %q", raw)
}
