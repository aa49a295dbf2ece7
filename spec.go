package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/urfave/cli"

	"github.com/rtproject/rt/specconv"
)

var specCommand = cli.Command{
	Name:      "spec",
	Usage:     "write a starter config.json for a bundle",
	ArgsUsage: "",
	Description: `Spec writes config.json into the bundle directory, to edit from there; it
does not overwrite one that exists. The configuration runs "sh" on a terminal,
as root, in new pid, network, ipc, uts and mount namespaces, with the root
filesystem "rootfs" read-only, the usual /proc, /dev and /sys mounts, and
only the capabilities CAP_AUDIT_WRITE, CAP_KILL and CAP_NET_BIND_SERVICE.
With --rootless it is made for an unprivileged user instead: a user
namespace that maps the user to root, the host's network, and no cgroup
settings.

For example, a bundle around the static busybox of Debian's busybox-static:

    mkdir -p box/rootfs/bin && cd box
    cp /bin/busybox rootfs/bin/
    for a in $(rootfs/bin/busybox --list); do ln -s busybox rootfs/bin/$a; done
    rt spec
    rt run box1`,
	Flags: []cli.Flag{
		cli.StringFlag{Name: "bundle, b", Value: "", Usage: usageBundle},
		cli.BoolFlag{Name: "rootless", Usage: "make the configuration for a container an unprivileged user runs"},
	},
	Action: func(ctx *cli.Context) error {
		if err := checkArgs(ctx, 0, exactArgs); err != nil {
			return err
		}
		spec := specconv.Example(ctx.Bool("rootless"))
		path := filepath.Join(ctx.String("bundle"), "config.json")
		if _, err := os.Stat(path); err == nil {
			return fmt.Errorf("file %s exists: remove it first", path)
		} else if !errors.Is(err, os.ErrNotExist) {
			return err
		}
		data, err := json.MarshalIndent(spec, "", "\t")
		if err != nil {
			return err
		}
		return os.WriteFile(path, data, 0o666)
	},
}
