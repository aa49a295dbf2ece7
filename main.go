// The Go runtime would otherwise keep the caller's cgroup cpu files open for
// GOMAXPROCS updates: in `rt init` a created container's processes could
// reopen them read-write through /proc/1/fd, past the read-only cgroup mount.
//
//go:debug containermaxprocs=0

// Command rt is an OCI container runtime with a runc-compatible command line.
package main

import (
	"fmt"
	"io"
	"os"
	"runtime"
	"strings"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	seccomp "github.com/seccomp/libseccomp-golang"
	"github.com/sirupsen/logrus"
	"github.com/urfave/cli"

	"github.com/rtproject/rt/libcontainer/initproc"
)

// Set at build time by the Makefile.
var (
	version   = "0.1.0-dev"
	gitCommit = ""
)

const usage = `Open Container Initiative runtime

rt is a command line client for running applications packaged according to
the Open Container Initiative (OCI) format. Its commands and flags are those
of runc, so engines such as containerd and podman can drive it in runc's place.

Containers are configured using bundles. A bundle for a container is a
directory that includes a specification file named "config.json" and a root
filesystem.`

func main() {
	// The re-executed container init never reaches the CLI.
	if len(os.Args) > 1 && os.Args[1] == "init" {
		initproc.Init()
		return
	}

	app := cli.NewApp()
	app.Name = "rt"
	app.Usage = usage
	app.Version = versionString()
	app.Flags = []cli.Flag{
		cli.BoolFlag{Name: "debug", Usage: "enable debug logging"},
		cli.StringFlag{Name: "log", Usage: "set the log file to write rt logs to (default is '/dev/stderr')"},
		cli.StringFlag{Name: "log-format", Value: "text", Usage: "set the log format ('text' (default), or 'json')"},
		cli.StringFlag{Name: "root", Value: "/run/rt", Usage: "root directory for storage of container state (this should be located in tmpfs)"},
		cli.StringFlag{Name: "criu", Value: "criu", Usage: "path to the criu binary used for checkpoint and restore"},
		cli.BoolFlag{Name: "systemd-cgroup", Usage: "enable systemd cgroup support, expects cgroupsPath to be of form \"slice:prefix:name\" for e.g. \"system.slice:runc:434234\""},
		cli.StringFlag{Name: "rootless", Value: "auto", Usage: "ignore cgroup permission errors ('true', 'false', or 'auto')"},
	}
	app.Commands = []cli.Command{
		checkpointCommand,
		createCommand,
		deleteCommand,
		eventsCommand,
		execCommand,
		featuresCommand,
		killCommand,
		listCommand,
		pauseCommand,
		psCommand,
		restoreCommand,
		resumeCommand,
		runCommand,
		specCommand,
		startCommand,
		stateCommand,
		updateCommand,
	}
	app.Before = setupLogging
	// Errors are printed by fatal with runc's format and exit codes.
	cli.ErrWriter = io.Discard
	if err := app.Run(os.Args); err != nil {
		fatal(err)
	}
}

func versionString() string {
	major, minor, micro := seccomp.GetLibraryVersion()
	commit := gitCommit
	if commit == "" {
		commit = "unknown"
	}
	return strings.Join([]string{
		version,
		"commit: " + commit,
		"spec: " + specs.Version,
		"go: " + runtime.Version(),
		fmt.Sprintf("libseccomp: %d.%d.%d", major, minor, micro),
	}, "\n")
}

func setupLogging(ctx *cli.Context) error {
	if ctx.GlobalBool("debug") {
		logrus.SetLevel(logrus.DebugLevel)
	}
	if path := ctx.GlobalString("log"); path != "" {
		f, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY|os.O_APPEND|os.O_SYNC, 0o644)
		if err != nil {
			return fmt.Errorf("--log %s: %w", path, err)
		}
		logrus.SetOutput(f)
		logToStderr = false
	}
	switch f := ctx.GlobalString("log-format"); f {
	case "", "text":
		logrus.SetFormatter(&logrus.TextFormatter{DisableColors: true})
	case "json":
		logrus.SetFormatter(&logrus.JSONFormatter{})
	default:
		return fmt.Errorf("--log-format: unknown format %q (want text or json)", f)
	}
	switch r := ctx.GlobalString("rootless"); r {
	case "auto", "true", "false":
	default:
		return fmt.Errorf("--rootless: invalid value %q (want true, false or auto)", r)
	}
	return nil
}

// logToStderr is false once --log sends the log elsewhere.
var logToStderr = true

// fatal logs err where --log says (containerd's shim reads the last error
// line of that file) and prints it on stderr, then exits 1.
func fatal(err error) {
	fatalWithCode(err, 1)
}

func fatalWithCode(err error, code int) {
	logrus.Error(err)
	if !logToStderr {
		fmt.Fprintln(os.Stderr, err)
	}
	os.Exit(code)
}
