package main

import "github.com/urfave/cli"

// notImplementedYet ends the description of the commands below.
const notImplementedYet = `

rt takes runc's flags for this command but does not implement it yet: it
exits with an error.`

const (
	usageCgroupsMode = "how CRIU treats cgroups: soft, full, strict or ignore (default soft)"
	usageEmptyNs     = "create this namespace type empty instead of restoring what it held; repeat for more"
	usageExtUnixSk   = "allow unix sockets connected to peers outside the container"
	usageShellJob    = "allow a container run from a shell, on a terminal, with job control"
	usageWorkPath    = "directory for CRIU's work files and logs"
)

var checkpointCommand = cli.Command{
	Name:        "checkpoint",
	Usage:       "save a running container to disk with CRIU (not implemented yet)",
	ArgsUsage:   "<container-id>",
	Description: `Checkpoint would save the state of a running container with CRIU, for "rt restore" to bring it back.` + notImplementedYet,
	Flags: []cli.Flag{
		cli.StringFlag{Name: "image-path", Usage: "directory to write CRIU's image files to"},
		cli.StringFlag{Name: "work-path", Usage: usageWorkPath},
		cli.StringFlag{Name: "parent-path", Usage: "directory of the images of an earlier pre-dump"},
		cli.BoolFlag{Name: "leave-running", Usage: "keep the container running after the checkpoint"},
		cli.BoolFlag{Name: "tcp-established", Usage: "save established TCP connections too"},
		cli.BoolFlag{Name: "ext-unix-sk", Usage: usageExtUnixSk},
		cli.BoolFlag{Name: "shell-job", Usage: usageShellJob},
		cli.BoolFlag{Name: "lazy-pages", Usage: "leave memory pages to be copied on demand (userfaultfd) when the container is restored"},
		cli.IntFlag{Name: "status-fd", Value: -1, Usage: "fd on which CRIU writes a zero byte once it serves lazy pages"},
		cli.StringFlag{Name: "page-server", Usage: "send memory pages to the page server at ADDRESS:PORT"},
		cli.BoolFlag{Name: "file-locks", Usage: "save file locks too"},
		cli.BoolFlag{Name: "pre-dump", Usage: "save memory only, leaving the container running, for a later incremental checkpoint"},
		cli.StringFlag{Name: "manage-cgroups-mode", Usage: usageCgroupsMode},
		cli.StringSliceFlag{Name: "empty-ns", Usage: usageEmptyNs},
		cli.BoolFlag{Name: "auto-dedup", Usage: "drop from the parent's images the pages this checkpoint saves again"},
	},
	Action: notImplemented("checkpoint"),
}

var restoreCommand = cli.Command{
	Name:        "restore",
	Usage:       "bring a checkpointed container back with CRIU (not implemented yet)",
	ArgsUsage:   "<container-id>",
	Description: `Restore would recreate a container from the images "rt checkpoint" saved, under a new container id.` + notImplementedYet,
	Flags: []cli.Flag{
		cli.StringFlag{Name: "console-socket", Usage: usageConsoleSocket},
		cli.StringFlag{Name: "image-path", Usage: "directory of CRIU's image files to restore from"},
		cli.StringFlag{Name: "work-path", Usage: usageWorkPath},
		cli.BoolFlag{Name: "tcp-established", Usage: "restore established TCP connections"},
		cli.BoolFlag{Name: "ext-unix-sk", Usage: usageExtUnixSk},
		cli.BoolFlag{Name: "shell-job", Usage: usageShellJob},
		cli.BoolFlag{Name: "file-locks", Usage: "restore file locks"},
		cli.StringFlag{Name: "manage-cgroups-mode", Usage: usageCgroupsMode},
		cli.StringFlag{Name: "bundle, b", Usage: usageBundle},
		cli.BoolFlag{Name: "detach, d", Usage: "return once the container runs again, without waiting for it"},
		cli.StringFlag{Name: "pid-file", Usage: "write the host pid of the restored init to this file"},
		cli.BoolFlag{Name: "no-subreaper", Usage: usageNoSubreaper},
		cli.BoolFlag{Name: "no-pivot", Usage: usageNoPivot},
		cli.StringSliceFlag{Name: "empty-ns", Usage: usageEmptyNs},
		cli.BoolFlag{Name: "auto-dedup", Usage: "free the images' pages as they are restored"},
		cli.BoolFlag{Name: "lazy-pages", Usage: "copy memory pages on demand (userfaultfd) instead of up front"},
		cli.StringFlag{Name: "lsm-profile", Usage: "LSM profile to restore the process under, as TYPE:NAME"},
		cli.StringFlag{Name: "lsm-mount-context", Usage: "LSM (SELinux) context for the restored container's mounts"},
	},
	Action: notImplemented("restore"),
}
