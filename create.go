package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"github.com/urfave/cli"

	"github.com/rtproject/rt/internal/trace"
	"github.com/rtproject/rt/libcontainer"
	"github.com/rtproject/rt/specconv"
)

// Flag texts that several commands share.
const (
	usageBundle        = "bundle directory (default: the current directory)"
	usageConsoleSocket = "AF_UNIX socket to send the master fd of the process's pseudo-terminal to"
	usageNoPivot       = "enter the rootfs with chroot instead of pivot_root, for a rootfs on an initramfs where pivot_root fails"
	usageNoSubreaper   = "do not become the child subreaper: processes the container orphans go to the host's init, not to rt"
	newIDArgs          = `

<container-id> names the new container. It is made of letters, digits, "_",
"+", "-" and ".", and unique among the containers under --root.`
)

// createFlags are shared by create and run.
var createFlags = []cli.Flag{
	cli.StringFlag{Name: "bundle, b", Value: "", Usage: usageBundle},
	cli.StringFlag{Name: "console-socket", Value: "", Usage: usageConsoleSocket + " (with process.terminal)"},
	cli.StringFlag{Name: "pidfd-socket", Usage: "AF_UNIX socket to send a pidfd of the container's init to (SCM_RIGHTS), as runc does"},
	cli.StringFlag{Name: "pid-file", Value: "", Usage: "write the host pid of the container's init to this file"},
	cli.BoolFlag{Name: "no-pivot", Usage: usageNoPivot},
	cli.BoolFlag{Name: "no-new-keyring", Usage: "keep the caller's session keyring instead of giving the container a new one"},
	cli.IntFlag{Name: "preserve-fds", Usage: "also pass the N inherited fds that follow stdio (and any $LISTEN_FDS) to the container"},
}

var createCommand = cli.Command{
	Name:      "create",
	Usage:     "set up a container from a bundle, ready to start",
	ArgsUsage: "<container-id>",
	Description: `Create sets up a container as the bundle's config.json describes it:
namespaces, cgroup, mounts, devices and the attributes of its process. The
program (process.args) does not run yet: the container waits in the "created"
state until "rt start" runs it, so that an engine can finish preparing it (its
network, for example) in between.` + newIDArgs,
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
	if err := libcontainer.ValidateID(id); err != nil {
		return nil, nil, err
	}
	t := trace.Start()
	bundle, spec, err := loadBundle(ctx.String("bundle"), ctx.GlobalBool("systemd-cgroup"))
	if err != nil {
		return nil, nil, err
	}
	t.Done("create: %s/config.json loaded and valid", bundle)
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
		PidfdSocket:   ctx.String("pidfd-socket"),
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
	if err := specconv.Validate(spec, abs, specconv.Options{Create: true, Systemd: systemdCgroup, Rootless: os.Geteuid() != 0}); err != nil {
		// runc's words, which scripts and its tests look for.
		return "", nil, fmt.Errorf("invalid configuration: %w", err)
	}
	return abs, spec, nil
}
