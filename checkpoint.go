package main

import (
	"github.com/urfave/cli"

	"github.com/rtproject/rt/libcontainer"
)

// Flag texts checkpoint and restore share.
const (
	usageCgroupsMode = "how CRIU treats cgroups: soft, full, strict or ignore (default soft)"
	usageEmptyNs     = "create this namespace type empty instead of restoring what it held; repeat for more"
	usageExtUnixSk   = "allow unix sockets connected to peers outside the container"
	usageShellJob    = "allow a container run from a shell, on a terminal, with job control"
	usageWorkPath    = "directory for CRIU's work files and logs (default: the image directory)"
)

var checkpointCommand = cli.Command{
	Name:      "checkpoint",
	Usage:     "save a running container to disk with CRIU",
	ArgsUsage: "<container-id>",
	Description: `Checkpoint saves the processes of a running (or paused) container with CRIU,
for "rt restore" to bring them back, here or on another host with the same
rootfs. Unless --leave-running or --pre-dump is given, the container's
processes end once saved and the container is deleted.

The container's stdio must be pipes, its terminal or /dev/null (as engines
give them): another file of the host is outside the container's mounts, and
CRIU refuses it.
The CRIU used is the global --criu; it is checked before anything is done.`,
	Flags: []cli.Flag{
		cli.StringFlag{Name: "image-path", Usage: "directory to write CRIU's image files to (default: ./checkpoint)"},
		cli.StringFlag{Name: "work-path", Usage: usageWorkPath},
		cli.StringFlag{Name: "parent-path", Usage: "directory of the images of an earlier pre-dump, relative to --image-path"},
		cli.BoolFlag{Name: "leave-running", Usage: "keep the container running after the checkpoint"},
		cli.BoolFlag{Name: "tcp-established", Usage: "save established TCP connections too"},
		cli.BoolFlag{Name: "ext-unix-sk", Usage: usageExtUnixSk},
		cli.BoolFlag{Name: "shell-job", Usage: usageShellJob},
		cli.BoolFlag{Name: "lazy-pages", Usage: "leave memory pages to be copied on demand (userfaultfd) when the container is restored"},
		cli.IntFlag{Name: "status-fd", Value: -1, Usage: "fd on which CRIU writes a zero byte once it serves lazy pages"},
		cli.StringFlag{Name: "page-server", Usage: "send memory pages to the page server at ADDRESS:PORT"},
		cli.BoolFlag{Name: "file-locks", Usage: "save file locks too"},
		cli.BoolFlag{Name: "pre-dump", Usage: "save memory only, leaving the container running, for a later incremental checkpoint (needs soft-dirty page tracking in the kernel)"},
		cli.StringFlag{Name: "manage-cgroups-mode", Usage: usageCgroupsMode},
		cli.StringSliceFlag{Name: "empty-ns", Usage: usageEmptyNs},
		cli.BoolFlag{Name: "auto-dedup", Usage: "drop from the parent's images the pages this checkpoint saves again"},
		cli.BoolFlag{Name: "link-remap", Usage: "save files the container still holds open but that were deleted, by linking them back"},
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
		return c.Checkpoint(criuOptions(ctx))
	},
}

// criuOptions collects the flags checkpoint and restore share with runc; libcontainer validates them.
func criuOptions(ctx *cli.Context) *libcontainer.CriuOpts {
	// Only checkpoint has --status-fd: restore must not read an absent flag as fd 0.
	statusFd := -1
	if ctx.IsSet("status-fd") {
		statusFd = ctx.Int("status-fd")
	}
	return &libcontainer.CriuOpts{
		CriuPath:          ctx.GlobalString("criu"),
		ImagePath:         ctx.String("image-path"),
		WorkPath:          ctx.String("work-path"),
		ParentPath:        ctx.String("parent-path"),
		LeaveRunning:      ctx.Bool("leave-running"),
		TCPEstablished:    ctx.Bool("tcp-established"),
		ExtUnixSk:         ctx.Bool("ext-unix-sk"),
		ShellJob:          ctx.Bool("shell-job"),
		FileLocks:         ctx.Bool("file-locks"),
		PreDump:           ctx.Bool("pre-dump"),
		AutoDedup:         ctx.Bool("auto-dedup"),
		LazyPages:         ctx.Bool("lazy-pages"),
		LinkRemap:         ctx.Bool("link-remap"),
		StatusFd:          statusFd,
		PageServer:        ctx.String("page-server"),
		ManageCgroupsMode: ctx.String("manage-cgroups-mode"),
		EmptyNs:           ctx.StringSlice("empty-ns"),
		LsmProfile:        ctx.String("lsm-profile"),
		LsmMountContext:   ctx.String("lsm-mount-context"),
	}
}
