package libcontainer

import (
	"fmt"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"github.com/opencontainers/runtime-spec/specs-go/features"
	libseccomp "github.com/seccomp/libseccomp-golang"

	"github.com/rtproject/rt/libcontainer/capabilities"
	"github.com/rtproject/rt/libcontainer/namespaces"
	"github.com/rtproject/rt/libcontainer/rootfs"
	"github.com/rtproject/rt/libcontainer/seccomp"
	"github.com/rtproject/rt/libcontainer/system"
)

// Hooks are the hook lists of config.json rt runs, in lifecycle order.
var Hooks = []string{"prestart", "createRuntime", "createContainer", "startContainer", "poststart", "poststop"}

// Features is what `rt features` reports. Following the runtime-spec, each
// "enabled" says whether rt implements the feature, not whether this host
// has it; the seccomp section is the exception the spec makes, with
// supportedFlags probed on this kernel and libseccomp.
func Features() *features.Features {
	yes, no := true, false
	nsTypes := make([]string, len(namespaces.Types))
	for i, n := range namespaces.Types {
		nsTypes[i] = string(n)
	}
	major, minor, micro := libseccomp.GetLibraryVersion()
	return &features.Features{
		OCIVersionMin: "1.0.0",
		OCIVersionMax: specs.Version,
		Hooks:         append([]string(nil), Hooks...),
		MountOptions:  rootfs.KnownOptions(),
		Linux: &features.Linux{
			Namespaces:   nsTypes,
			Capabilities: capabilities.Known(),
			Cgroup: &features.Cgroup{
				V1:      &yes,
				V2:      &yes,
				Systemd: &yes,
				// --systemd-cgroup for rootless containers (the user's
				// systemd instance) is not supported end to end.
				SystemdUser: &no,
				Rdma:        &yes,
			},
			Seccomp: seccomp.Features(),
			// Both are implemented (libcontainer/apparmor, selinuxlabel);
			// whether the host enforces them is a separate matter.
			Apparmor: &features.Apparmor{Enabled: &yes},
			Selinux:  &features.Selinux{Enabled: &yes},
			// rt does not manage resctrl.
			IntelRdt: &features.IntelRdt{Enabled: &no},
			MemoryPolicy: &features.MemoryPolicy{
				Modes: system.MemoryPolicyModes(),
				Flags: system.MemoryPolicyFlags(),
			},
			MountExtensions: &features.MountExtensions{
				IDMap: &features.IDMap{Enabled: &yes},
			},
			NetDevices: &features.NetDevices{Enabled: &yes},
		},
		// Config annotations that change what rt does: a CRIU
		// configuration file of the container's choosing.
		PotentiallyUnsafeConfigAnnotations: []string{criuConfigAnnotation},
		Annotations: map[string]string{
			// The key runc uses too: engines read it to know what the
			// filter can express.
			"io.github.seccomp.libseccomp.version": fmt.Sprintf("%d.%d.%d", major, minor, micro),
		},
	}
}
