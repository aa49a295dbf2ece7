package specconv

import (
	"errors"
	"fmt"
	"slices"
	"strings"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

var namespaceTypes = []specs.LinuxNamespaceType{
	specs.PIDNamespace, specs.NetworkNamespace, specs.MountNamespace, specs.IPCNamespace,
	specs.UTSNamespace, specs.UserNamespace, specs.CgroupNamespace, specs.TimeNamespace,
}

// namespaces maps each namespace type of linux.namespaces to its path ("" for a new namespace).
type namespaces map[specs.LinuxNamespaceType]string

func namespacesOf(l *specs.Linux) namespaces {
	ns := make(namespaces)
	if l == nil {
		return ns
	}
	for _, n := range l.Namespaces {
		if _, dup := ns[n.Type]; !dup {
			ns[n.Type] = n.Path
		}
	}
	return ns
}

// has says whether the container gets a namespace of type t, new or joined.
func (ns namespaces) has(t specs.LinuxNamespaceType) bool {
	_, ok := ns[t]
	return ok
}

// isNew says whether rt creates a namespace of type t for the container.
func (ns namespaces) isNew(t specs.LinuxNamespaceType) bool {
	path, ok := ns[t]
	return ok && path == ""
}

func validateNamespaces(l *specs.Linux) error {
	if l == nil {
		return nil
	}
	seen := make(map[specs.LinuxNamespaceType]int)
	for i, n := range l.Namespaces {
		field := indexed("linux.namespaces", i)
		switch {
		case n.Type == "":
			return fmt.Errorf("%s.type: missing", field)
		case !slices.Contains(namespaceTypes, n.Type):
			return fmt.Errorf("%s.type: unknown namespace %q", field, n.Type)
		}
		if first, dup := seen[n.Type]; dup {
			return fmt.Errorf("%s.type: namespace %q already listed at %s", field, n.Type,
				indexed("linux.namespaces", first))
		}
		seen[n.Type] = i
		if n.Path != "" {
			if err := checkAbsolute(field+".path", n.Path); err != nil {
				return err
			}
		}
	}
	return nil
}

func validateLinux(s *specs.Spec, ns namespaces, o Options) error {
	l := s.Linux
	if l == nil {
		l = &specs.Linux{}
	}
	checks := []func() error{
		func() error { return validateUserNamespace(s, l, ns, o.Rootless) },
		func() error { return validateTimeOffsets(l.TimeOffsets, ns) },
		func() error { return validateSysctl(l.Sysctl, ns, s.Hostname, s.Domainname) },
		func() error { return validateDevices(l.Devices) },
		func() error { return validateContainerPaths(l.MaskedPaths, "linux.maskedPaths", ns) },
		func() error { return validateContainerPaths(l.ReadonlyPaths, "linux.readonlyPaths", ns) },
		func() error { return validatePersonality(l.Personality) },
		func() error { return validateCgroupsPath(l.CgroupsPath, o.Systemd) },
		func() error { return validateRootfsPropagation(l.RootfsPropagation) },
		func() error { return validateNetDevices(l.NetDevices, ns) },
	}
	for _, check := range checks {
		if err := check(); err != nil {
			return err
		}
	}
	return nil
}

func validateUserNamespace(s *specs.Spec, l *specs.Linux, ns namespaces, rootless bool) error {
	if !ns.has(specs.UserNamespace) {
		if rootless {
			return errors.New("linux.namespaces: a rootless container requires a user namespace")
		}
		if len(l.UIDMappings) > 0 {
			return errors.New("linux.uidMappings: requires a user namespace")
		}
		if len(l.GIDMappings) > 0 {
			return errors.New("linux.gidMappings: requires a user namespace")
		}
		return nil
	}
	// When the user namespace is joined, its mappings are set already and the kernel allows them to be written
	// once only. containerd and CRI-O still send mappings along with the path (describing that namespace), so
	// they are accepted and left unapplied rather than rejected.
	if ns.isNew(specs.UserNamespace) {
		if len(l.UIDMappings) == 0 {
			return errors.New("linux.uidMappings: a new user namespace requires mappings")
		}
		if len(l.GIDMappings) == 0 {
			return errors.New("linux.gidMappings: a new user namespace requires mappings")
		}
	}
	if err := validateIDMappings(l.UIDMappings, "linux.uidMappings"); err != nil {
		return err
	}
	if err := validateIDMappings(l.GIDMappings, "linux.gidMappings"); err != nil {
		return err
	}
	if s.Process == nil || len(l.UIDMappings) == 0 || len(l.GIDMappings) == 0 {
		return nil
	}
	// setuid/setgid/setgroups fail with EINVAL inside the container for IDs outside the mappings.
	u := s.Process.User
	if !idMapped(l.UIDMappings, u.UID) {
		return fmt.Errorf("process.user.uid: %d is not mapped by linux.uidMappings", u.UID)
	}
	if !idMapped(l.GIDMappings, u.GID) {
		return fmt.Errorf("process.user.gid: %d is not mapped by linux.gidMappings", u.GID)
	}
	for i, g := range u.AdditionalGids {
		if !idMapped(l.GIDMappings, g) {
			return fmt.Errorf("%s: %d is not mapped by linux.gidMappings", indexed("process.user.additionalGids", i), g)
		}
	}
	return nil
}

// validateIDMappings applies the rules the kernel enforces when uid_map or gid_map is written
// (user_namespaces(7)): non-empty ranges that stay within 32 bits and do not overlap on either side.
func validateIDMappings(m []specs.LinuxIDMapping, field string) error {
	const limit = 1<<32 - 1 // (uid_t)-1 means "no ID" and cannot be mapped
	for i, e := range m {
		f := indexed(field, i)
		if e.Size == 0 {
			return fmt.Errorf("%s.size: must be greater than 0", f)
		}
		if uint64(e.ContainerID)+uint64(e.Size) > limit {
			return fmt.Errorf("%s: containerID %d + size %d goes beyond %d", f, e.ContainerID, e.Size, uint32(limit-1))
		}
		if uint64(e.HostID)+uint64(e.Size) > limit {
			return fmt.Errorf("%s: hostID %d + size %d goes beyond %d", f, e.HostID, e.Size, uint32(limit-1))
		}
		for j, prev := range m[:i] {
			if overlaps(e.ContainerID, e.Size, prev.ContainerID, prev.Size) {
				return fmt.Errorf("%s.containerID: range overlaps %s", f, indexed(field, j))
			}
			if overlaps(e.HostID, e.Size, prev.HostID, prev.Size) {
				return fmt.Errorf("%s.hostID: range overlaps %s", f, indexed(field, j))
			}
		}
	}
	return nil
}

func overlaps(a, aSize, b, bSize uint32) bool {
	return uint64(a) < uint64(b)+uint64(bSize) && uint64(b) < uint64(a)+uint64(aSize)
}

func idMapped(m []specs.LinuxIDMapping, id uint32) bool {
	for _, e := range m {
		if id >= e.ContainerID && uint64(id) < uint64(e.ContainerID)+uint64(e.Size) {
			return true
		}
	}
	return false
}

func validateTimeOffsets(offsets map[string]specs.LinuxTimeOffset, ns namespaces) error {
	if len(offsets) == 0 {
		return nil
	}
	// Offsets can only be written into a time namespace before any process has entered it, so a joined one
	// keeps the offsets it has.
	if !ns.isNew(specs.TimeNamespace) {
		return errors.New("linux.timeOffsets: requires a new time namespace")
	}
	for _, clock := range sortedKeys(offsets) {
		field := keyed("linux.timeOffsets", clock)
		if clock != "monotonic" && clock != "boottime" { // the clocks time_namespaces(7) can offset
			return fmt.Errorf("%s: unknown clock (want monotonic or boottime)", field)
		}
		if n := offsets[clock].Nanosecs; n >= 1e9 {
			return fmt.Errorf("%s.nanosecs: %d is not below 1000000000", field, n)
		}
	}
	return nil
}

// ipcSysctls are the kernel.* sysctls that belong to the IPC namespace.
var ipcSysctls = []string{"msgmax", "msgmnb", "msgmni", "sem", "shmall", "shmmax", "shmmni", "shm_rmid_forced"}

func validateSysctl(sysctl map[string]string, ns namespaces, hostname, domainname string) error {
	for _, key := range sortedKeys(sysctl) {
		field := keyed("linux.sysctl", key)
		// sysctl(8): names are separated by "/" when the first separator is "/" (so "." can be part of an
		// interface name), by "." otherwise. The name becomes a path below /proc/sys.
		sep := "."
		if i := strings.IndexAny(key, "./"); i >= 0 && key[i] == '/' {
			sep = "/"
		}
		parts := strings.Split(key, sep)
		if len(parts) < 2 || slices.ContainsFunc(parts, badSysctlPart) {
			return fmt.Errorf("%s: not a valid sysctl name", field)
		}
		var need specs.LinuxNamespaceType
		switch {
		case parts[0] == "net":
			need = specs.NetworkNamespace
		case parts[0] == "fs" && parts[1] == "mqueue",
			parts[0] == "kernel" && len(parts) == 2 && slices.Contains(ipcSysctls, parts[1]):
			need = specs.IPCNamespace
		case parts[0] == "kernel" && len(parts) == 2 && (parts[1] == "hostname" || parts[1] == "domainname"):
			need = specs.UTSNamespace
			if parts[1] == "hostname" && hostname != "" {
				return fmt.Errorf("%s: conflicts with hostname", field)
			}
			if parts[1] == "domainname" && domainname != "" {
				return fmt.Errorf("%s: conflicts with domainname", field)
			}
		default:
			return fmt.Errorf("%s: not isolated by any namespace, setting it would change the host", field)
		}
		if !ns.has(need) {
			article := "a"
			if need == specs.IPCNamespace {
				article = "an"
			}
			return fmt.Errorf("%s: requires %s %s namespace", field, article, need)
		}
	}
	return nil
}

// badSysctlPart catches the name parts that would not stay one directory level below /proc/sys.
func badSysctlPart(p string) bool {
	return p == "" || p == "." || p == ".." || strings.ContainsAny(p, "/\x00")
}

func validateDevices(devices []specs.LinuxDevice) error {
	for i, d := range devices {
		field := indexed("linux.devices", i)
		if err := checkAbsolute(field+".path", d.Path); err != nil {
			return err
		}
		switch d.Type {
		case "c", "b", "u":
			if d.Major < 0 {
				return fmt.Errorf("%s.major: %d is negative", field, d.Major)
			}
			if d.Minor < 0 {
				return fmt.Errorf("%s.minor: %d is negative", field, d.Minor)
			}
		case "p":
		case "":
			return fmt.Errorf("%s.type: missing", field)
		default:
			return fmt.Errorf("%s.type: unknown device type %q (want c, b, u or p)", field, d.Type)
		}
	}
	return nil
}

func validateContainerPaths(paths []string, field string, ns namespaces) error {
	for i, p := range paths {
		if err := checkAbsolute(indexed(field, i), p); err != nil {
			return err
		}
	}
	return nil
}

func validatePersonality(p *specs.LinuxPersonality) error {
	if p == nil {
		return nil
	}
	switch p.Domain {
	case specs.PerLinux, specs.PerLinux32:
	case "":
		return errors.New("linux.personality.domain: missing")
	default:
		return fmt.Errorf("linux.personality.domain: unknown domain %q", p.Domain)
	}
	// The spec defines no flags yet, so any value is one rt cannot honour.
	if len(p.Flags) > 0 {
		return fmt.Errorf("linux.personality.flags[0]: unsupported flag %q", p.Flags[0])
	}
	return nil
}

func validateCgroupsPath(path string, systemd bool) error {
	const field = "linux.cgroupsPath"
	if path == "" {
		return nil
	}
	if err := checkNoNUL(field, path); err != nil {
		return err
	}
	if systemd {
		parts := strings.Split(path, ":")
		if len(parts) != 3 {
			return fmt.Errorf("%s: %q is not of the form \"slice:prefix:name\" used with systemd", field, path)
		}
		slice, prefix, name := parts[0], parts[1], parts[2]
		if slice != "" && !strings.HasSuffix(slice, ".slice") {
			return fmt.Errorf("%s: slice %q does not end in \".slice\"", field, slice)
		}
		if name == "" {
			return fmt.Errorf("%s: %q has an empty name", field, path)
		}
		if strings.Contains(slice+prefix+name, "/") {
			return fmt.Errorf("%s: %q: systemd unit names cannot contain \"/\"", field, path)
		}
		return nil
	}
	// ".." would let a relative path climb out of the cgroup rt places containers under.
	if slices.Contains(strings.Split(path, "/"), "..") {
		return fmt.Errorf("%s: %q must not contain \"..\"", field, path)
	}
	return nil
}

var propagationModes = []string{"shared", "slave", "private", "unbindable", "rshared", "rslave", "rprivate", "runbindable"}

func validateRootfsPropagation(mode string) error {
	if mode != "" && !slices.Contains(propagationModes, mode) {
		return fmt.Errorf("linux.rootfsPropagation: unknown propagation %q", mode)
	}
	return nil
}

func validateNetDevices(devices map[string]specs.LinuxNetDevice, ns namespaces) error {
	if len(devices) == 0 {
		return nil
	}
	if !ns.has(specs.NetworkNamespace) {
		return errors.New("linux.netDevices: requires a network namespace")
	}
	for _, host := range sortedKeys(devices) {
		field := keyed("linux.netDevices", host)
		if !validInterfaceName(host) {
			return fmt.Errorf("%s: %q is not a valid interface name", field, host)
		}
		if name := devices[host].Name; name != "" && !validInterfaceName(name) {
			return fmt.Errorf("%s.name: %q is not a valid interface name", field, name)
		}
	}
	return nil
}

// validInterfaceName follows the kernel's dev_valid_name: shorter than IFNAMSIZ (16), not "." or "..", and
// without "/", ":" or whitespace.
func validInterfaceName(name string) bool {
	return name != "" && len(name) < 16 && name != "." && name != ".." && !strings.ContainsAny(name, "/: \t\n\v\f\r")
}
