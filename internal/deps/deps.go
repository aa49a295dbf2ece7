// Package deps pins the modules rt vendors while the packages that use them are being written.
package deps

import (
	_ "github.com/cilium/ebpf"
	_ "github.com/coreos/go-systemd/v22/dbus"
	_ "github.com/cyphar/filepath-securejoin"
	_ "github.com/godbus/dbus/v5"
	_ "github.com/moby/sys/capability"
	_ "github.com/opencontainers/runtime-spec/specs-go"
	_ "github.com/opencontainers/runtime-spec/specs-go/features"
	_ "github.com/opencontainers/selinux/go-selinux"
	_ "github.com/seccomp/libseccomp-golang"
	_ "github.com/sirupsen/logrus"
	_ "github.com/urfave/cli"
	_ "golang.org/x/sys/unix"
)
