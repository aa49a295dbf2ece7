package main

import (
	"github.com/urfave/cli"

	"github.com/rtproject/rt/libcontainer"
)

var featuresCommand = cli.Command{
	Name:      "features",
	Usage:     "show the enabled features",
	ArgsUsage: "",
	Description: `Show the enabled features.
   The result is parsable as a JSON.
   See https://github.com/opencontainers/runtime-spec/blob/main/features.md for the type definition.`,
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
		return printJSON(f)
	},
}
