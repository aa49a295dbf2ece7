// Package namespaces knows the Linux namespaces a container can have: their
// clone(2) flags, their names under /proc/<pid>/ns, and which of them a spec
// creates or joins. Both the runtime and the container's init read the spec
// through it.
package namespaces

import (
	"strconv"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

// Types are the linux.namespaces types rt creates and joins, sorted.
var Types = []specs.LinuxNamespaceType{
	specs.CgroupNamespace, specs.IPCNamespace, specs.MountNamespace, specs.NetworkNamespace,
	specs.PIDNamespace, specs.TimeNamespace, specs.UserNamespace, specs.UTSNamespace,
}

var cloneFlags = map[specs.LinuxNamespaceType]int{
	specs.PIDNamespace:     unix.CLONE_NEWPID,
	specs.NetworkNamespace: unix.CLONE_NEWNET,
	specs.MountNamespace:   unix.CLONE_NEWNS,
	specs.IPCNamespace:     unix.CLONE_NEWIPC,
	specs.UTSNamespace:     unix.CLONE_NEWUTS,
	specs.UserNamespace:    unix.CLONE_NEWUSER,
	specs.CgroupNamespace:  unix.CLONE_NEWCGROUP,
	specs.TimeNamespace:    unix.CLONE_NEWTIME,
}

var procNames = map[specs.LinuxNamespaceType]string{
	specs.PIDNamespace:     "pid",
	specs.NetworkNamespace: "net",
	specs.MountNamespace:   "mnt",
	specs.IPCNamespace:     "ipc",
	specs.UTSNamespace:     "uts",
	specs.UserNamespace:    "user",
	specs.CgroupNamespace:  "cgroup",
	specs.TimeNamespace:    "time",
}

// CloneFlag is the CLONE_NEW* flag of t, 0 for an unknown type.
func CloneFlag(t specs.LinuxNamespaceType) int { return cloneFlags[t] }

// ProcName is t's entry under /proc/<pid>/ns ("net" for network), the name
// CRIU uses for it too.
func ProcName(t specs.LinuxNamespaceType) string { return procNames[t] }

// ProcPath is where process pid's namespace of type t is found.
func ProcPath(pid int, t specs.LinuxNamespaceType) string {
	return "/proc/" + strconv.Itoa(pid) + "/ns/" + procNames[t]
}

// FlagName names a CLONE_NEW* flag by its namespace type, for errors.
func FlagName(flag int) string {
	for t, f := range cloneFlags {
		if f == flag {
			return string(t)
		}
	}
	return strconv.Itoa(flag)
}

// Has reports whether the container gets a namespace of type t, new or joined.
func Has(spec *specs.Spec, t specs.LinuxNamespaceType) bool {
	_, ok := find(spec, t)
	return ok
}

// IsNew reports whether rt creates a namespace of type t for the container.
func IsNew(spec *specs.Spec, t specs.LinuxNamespaceType) bool {
	ns, ok := find(spec, t)
	return ok && ns.Path == ""
}

// Path is the path of the namespace of type t the container joins, "" when
// it gets a new one or none.
func Path(spec *specs.Spec, t specs.LinuxNamespaceType) string {
	ns, _ := find(spec, t)
	return ns.Path
}

func find(spec *specs.Spec, t specs.LinuxNamespaceType) (specs.LinuxNamespace, bool) {
	if spec == nil || spec.Linux == nil {
		return specs.LinuxNamespace{}, false
	}
	for _, ns := range spec.Linux.Namespaces {
		if ns.Type == t {
			return ns, true
		}
	}
	return specs.LinuxNamespace{}, false
}
