// The Go runtime would otherwise keep the caller's cgroup cpu files open for
// GOMAXPROCS updates: in `rt init` a created container's processes could
// reopen them read-write through /proc/1/fd, past the read-only cgroup mount.
//
//go:debug containermaxprocs=0

// Command rt is an OCI container runtime with a runc-compatible command line.
package main

import (
	"errors"
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
	"github.com/rtproject/rt/nsenter"
)

// Set at build time by the Makefile.
var (
	version   = "0.1.0-dev"
	gitCommit = ""
)

// The first line is the name line of --help; runc's own test suite expects it.
const usage = `Open Container Initiative runtime

rt runs containers from OCI bundles. A bundle is a directory holding the
container's configuration, config.json ("rt spec" writes a starter one), and
its root filesystem.

A container goes through the states of the OCI runtime specification:
"rt create" sets it up and stops short of running its program, "rt start"
runs the program, "rt kill" signals it and "rt delete" removes what is left.
"rt run" creates and starts in one step and, unless detached, waits for the
program to exit.

rt takes runc's commands, flags and output formats, so container engines
(containerd, Docker, podman) can run it wherever they would run runc.`

// rt init stays on the main thread, which package initialisation runs on:
// its thread is the process's leader, which /proc/<pid>/cgroup describes
// and whose memory cgroup the process's memory is charged to
// (initproc.joinMemoryCgroup moves that thread).
func init() {
	if len(os.Args) > 1 && os.Args[1] == "init" {
		runtime.LockOSThread()
	}
}

func main() {
	// nsenter.Spawn's intermediate process, re-executed to clone the init
	// from this fresh image (or, for exec's fast path, to prepare the
	// process and fork it), never gets further.
	nsenter.RunIntermediate(initproc.PrepareExec)
	// The re-executed container init never reaches the CLI.
	if len(os.Args) > 1 && os.Args[1] == "init" {
		initproc.Init()
		return
	}

	// Errors are printed by fatal with runc's format and exit codes.
	cli.ErrWriter = io.Discard
	if err := newApp().Run(os.Args); err != nil {
		code := 1
		// An unknown command ("No help topic for 'foo'") and exec's failures
		// carry their own exit status.
		var ec cli.ExitCoder
		if errors.As(err, &ec) {
			code = ec.ExitCode()
		}
		fatalWithCode(err, code)
	}
}

// newApp defines rt's command line. The man pages and the bash completion
// are generated from it too (docs.go, built with the rtdocs tag).
func newApp() *cli.App {
	app := cli.NewApp()
	app.Name = "rt"
	app.Usage = usage
	app.Version = versionString()
	app.Flags = []cli.Flag{
		cli.BoolFlag{Name: "debug", Usage: "log at debug level, with a trace of each step of create, start and exec (and of the container's init) and how long it took"},
		cli.StringFlag{Name: "log", Usage: "write rt's log to this file instead of stderr (appending)"},
		cli.StringFlag{Name: "log-format", Value: "text", Usage: "format of log lines: text or json"},
		cli.StringFlag{Name: "root", Value: "/run/rt", Usage: "directory holding the state of rt's containers; on a tmpfs, so that none outlives a reboot (for a user other than root: $XDG_RUNTIME_DIR/rt)"},
		cli.StringFlag{Name: "criu", Value: "criu", Usage: "criu binary for checkpoint and restore"},
		cli.BoolFlag{Name: "systemd-cgroup", Usage: "manage cgroups through systemd; linux.cgroupsPath is then \"slice:prefix:name\", e.g. \"system.slice:rt:web1\""},
		cli.StringFlag{Name: "rootless", Value: "auto", Usage: "run containers without the cgroups rt may not write: true, false or auto (when rt runs without root or inside a user namespace)"},
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
	// Errors, exit codes included, reach main: urfave/cli would otherwise
	// exit on its own, printing them nowhere.
	app.ExitErrHandler = func(*cli.Context, error) {}
	return app
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
		// The caller must learn what rt left out (a capability, say) even
		// when the log goes to a file nobody reads: containerd's shim passes
		// rt's stderr on as the container's, conmon as podman's error.
		logrus.AddHook(stderrWarnings{})
	}
	switch f := ctx.GlobalString("log-format"); f {
	case "", "text":
		logrus.SetFormatter(textFormat)
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

var textFormat = &logrus.TextFormatter{DisableColors: true}

// stderrWarnings copies warnings to stderr, in text, when --log sends the
// log to a file. Errors reach stderr through fatal.
type stderrWarnings struct{}

func (stderrWarnings) Levels() []logrus.Level { return []logrus.Level{logrus.WarnLevel} }

func (stderrWarnings) Fire(e *logrus.Entry) error {
	line, err := textFormat.Format(e)
	if err != nil {
		return err
	}
	_, err = os.Stderr.Write(line)
	return err
}

// logToStderr is false once --log sends the log elsewhere.
var logToStderr = true

// fatalWithCode logs err where --log says (containerd's shim reads the last
// error line of that file) and prints it on stderr, then exits with code.
func fatalWithCode(err error, code int) {
	logrus.Error(err)
	if !logToStderr {
		fmt.Fprintln(os.Stderr, err)
	}
	os.Exit(code)
}
