package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"github.com/urfave/cli"

	"github.com/rtproject/rt/libcontainer"
	"github.com/rtproject/rt/specconv"
)

// createFlags are shared by create and run.
var createFlags = []cli.Flag{
	cli.StringFlag{Name: "bundle, b", Value: "", Usage: `path to the root of the bundle directory, defaults to the current directory`},
	cli.StringFlag{Name: "console-socket", Value: "", Usage: "path to an AF_UNIX socket which will receive a file descriptor referencing the master end of the console's pseudoterminal"},
	cli.StringFlag{Name: "pidfd-socket", Usage: "path to an AF_UNIX socket which will receive a file descriptor referencing the init process"},
	cli.StringFlag{Name: "pid-file", Value: "", Usage: "specify the file to write the process id to"},
	cli.BoolFlag{Name: "no-pivot", Usage: "do not use pivot root to jail process inside rootfs.  This should be used whenever the rootfs is on top of a ramdisk"},
	cli.BoolFlag{Name: "no-new-keyring", Usage: "do not create a new session keyring for the container.  This will cause the container to inherit the calling processes session key"},
	cli.IntFlag{Name: "preserve-fds", Usage: "Pass N additional file descriptors to the container (stdio + $LISTEN_FDS + N in total)"},
}

var createCommand = cli.Command{
	Name:  "create",
	Usage: "create a container",
	ArgsUsage: `<container-id>

Where "<container-id>" is your name for the instance of the container that you
are starting. The name you provide for the container instance must be unique on
your host.`,
	Description: `The create command creates an instance of a container for a bundle. The bundle
is a directory with a specification file named "config.json" and a root
filesystem.

The specification file includes an args parameter. The args parameter is used
to specify command(s) that get run when the container is started. To change the
command(s) that get executed on start, edit the args parameter of the spec. See
"rt spec --help" for more explanation.`,
	Flags: createFlags,
	Action: func(ctx *cli.Context) error {
		if err := checkArgs(ctx, 1, exactArgs); err != nil {
			return err
		}
		opts, r, err := createOptions(ctx)
		if err != nil {
			return err
		}
		c, _, err := r.Create(opts)
		if err != nil {
			return err
		}
		c.Close()
		return nil
	},
}

// createOptions validates the id and the bundle and turns the command's flags into CreateOpts.
func createOptions(ctx *cli.Context) (*libcontainer.CreateOpts, *libcontainer.Runtime, error) {
	id := ctx.Args().First()
	if err := specconv.ValidateContainerID(id); err != nil {
		return nil, nil, err
	}
	bundle, spec, err := loadBundle(ctx.String("bundle"), ctx.GlobalBool("systemd-cgroup"))
	if err != nil {
		return nil, nil, err
	}
	if ctx.String("pidfd-socket") != "" {
		return nil, nil, fmt.Errorf("--pidfd-socket: not supported")
	}
	preserve := ctx.Int("preserve-fds")
	if preserve < 0 {
		return nil, nil, fmt.Errorf("--preserve-fds: must not be negative")
	}
	// Socket activation: pass the listening fds on and tell the process they are its.
	if n, err := strconv.Atoi(os.Getenv("LISTEN_FDS")); err == nil && n > 0 && os.Getenv("LISTEN_PID") == strconv.Itoa(os.Getpid()) {
		spec.Process.Env = append(spec.Process.Env, "LISTEN_FDS="+strconv.Itoa(n), "LISTEN_PID=1")
		preserve += n
	}
	if err := checkPreserveFds(preserve); err != nil {
		return nil, nil, err
	}
	r, err := newRuntime(ctx)
	if err != nil {
		return nil, nil, err
	}
	return &libcontainer.CreateOpts{
		ID:            id,
		Bundle:        bundle,
		Spec:          spec,
		ConsoleSocket: ctx.String("console-socket"),
		PidFile:       ctx.String("pid-file"),
		NoPivot:       ctx.Bool("no-pivot"),
		NoNewKeyring:  ctx.Bool("no-new-keyring"),
		PreserveFds:   preserve,
	}, r, nil
}

// loadBundle reads and validates the bundle's config.json before anything touches the system.
func loadBundle(bundle string, systemdCgroup bool) (string, *specs.Spec, error) {
	if bundle == "" {
		bundle = "."
	}
	abs, err := filepath.Abs(bundle)
	if err != nil {
		return "", nil, fmt.Errorf("--bundle: %w", err)
	}
	spec, err := specconv.LoadBundle(abs)
	if err != nil {
		return "", nil, err
	}
	if err := specconv.Validate(spec, abs, specconv.Options{Create: true, Systemd: systemdCgroup}); err != nil {
		return "", nil, err
	}
	if err := libcontainer.ValidateSpec(spec); err != nil {
		return "", nil, err
	}
	return abs, spec, nil
}
