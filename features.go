package main

import (
	"github.com/urfave/cli"

	"github.com/rtproject/rt/libcontainer"
)

var featuresCommand = cli.Command{
	Name:      "features",
	Usage:     "print what this rt supports, as JSON",
	ArgsUsage: "",
	Description: `Features prints the runtime-spec "features" document of this build of rt:
the OCI versions, hooks, mount options, namespaces, capabilities, cgroup and
seccomp support it has, so that an engine can check before it asks. The
format is defined by the runtime-spec (features.md).`,
	Action: func(ctx *cli.Context) error {
		if err := checkArgs(ctx, 0, exactArgs); err != nil {
			return err
		}
		f := libcontainer.Features()
		// Keys under the project's own (reverse-DNS) prefix, as the spec asks.
		f.Annotations["com.github.rtproject.rt.version"] = version
		if gitCommit != "" {
			f.Annotations["com.github.rtproject.rt.commit"] = gitCommit
		}
		// runc's key, which engines read, says whether checkpoint and
		// restore can work: that needs a CRIU (--criu) this host can run,
		// which is asked, not assumed. rt's own key says which, or why not.
		if v, err := libcontainer.CheckpointSupport(ctx.GlobalString("criu")); err == nil {
			f.Annotations["org.opencontainers.runc.checkpoint.enabled"] = "true"
			f.Annotations["com.github.rtproject.rt.criu"] = v
		} else {
			f.Annotations["org.opencontainers.runc.checkpoint.enabled"] = "false"
			f.Annotations["com.github.rtproject.rt.criu"] = "unusable: " + err.Error()
		}
		return printJSON(f)
	},
}
