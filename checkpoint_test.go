package main

import (
	"flag"
	"reflect"
	"testing"

	"github.com/urfave/cli"

	"github.com/rtproject/rt/libcontainer"
)

// criuOptions reads the flags each command has, and no other.
func TestCriuOptions(t *testing.T) {
	tests := []struct {
		cmd  cli.Command
		args []string
		want libcontainer.CriuOpts
	}{
		{checkpointCommand, []string{"--lazy-pages", "--status-fd", "5", "--empty-ns", "network", "--link-remap"},
			libcontainer.CriuOpts{LazyPages: true, StatusFd: 5, EmptyNs: []string{"network"}, LinkRemap: true}},
		{checkpointCommand, []string{"--image-path", "i", "--work-path", "w", "--parent-path", "p", "--pre-dump", "--manage-cgroups-mode", "ignore"},
			libcontainer.CriuOpts{ImagePath: "i", WorkPath: "w", ParentPath: "p", PreDump: true, ManageCgroupsMode: "ignore", StatusFd: -1}},
		// restore has no --status-fd: an absent flag is not fd 0.
		{restoreCommand, []string{"--lazy-pages", "--tcp-established", "--lsm-profile", "apparmor:x", "--lsm-mount-context", "ctx"},
			libcontainer.CriuOpts{LazyPages: true, TCPEstablished: true, LsmProfile: "apparmor:x", LsmMountContext: "ctx", StatusFd: -1}},
	}
	for _, tt := range tests {
		set := flag.NewFlagSet(tt.cmd.Name, flag.ContinueOnError)
		for _, f := range tt.cmd.Flags {
			f.Apply(set)
		}
		if err := set.Parse(append(tt.args, "id")); err != nil {
			t.Fatalf("%s %v: %v", tt.cmd.Name, tt.args, err)
		}
		ctx := cli.NewContext(cli.NewApp(), set, nil)
		ctx.Command = tt.cmd
		got := *criuOptions(ctx)
		if len(got.EmptyNs) == 0 {
			got.EmptyNs = nil
		}
		if !reflect.DeepEqual(got, tt.want) {
			t.Errorf("%s %v:\n got %+v\nwant %+v", tt.cmd.Name, tt.args, got, tt.want)
		}
	}
}
