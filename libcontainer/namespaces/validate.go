package namespaces

import (
	"errors"
	"fmt"
	"slices"
	"strings"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"

	"github.com/rtproject/rt/internal/field"
)

// Validate checks linux.namespaces and the fields that configure a
// namespace or need one: hostname and domainname (uts), linux.uidMappings
// and gidMappings (user), linux.timeOffsets (time), linux.sysctl (net, ipc,
// uts). rootless means rt runs without root on the host, so the container
// needs a user namespace of its own.
func Validate(s *specs.Spec, rootless bool) error {
	for _, check := range []func(*specs.Spec) error{
		validateList,
		func(s *specs.Spec) error { return validateUser(s, rootless) },
		validateUTS,
		validateTimeOffsets,
		validateSysctl,
		validateNetSysctlNamespace,
	} {
		if err := check(s); err != nil {
			return err
		}
	}
	return nil
}

func linux(s *specs.Spec) *specs.Linux {
	if s.Linux == nil {
		return &specs.Linux{}
	}
	return s.Linux
}

func validateList(s *specs.Spec) error {
	seen := make(map[specs.LinuxNamespaceType]int)
	for i, n := range linux(s).Namespaces {
		f := field.Index("linux.namespaces", i)
		switch {
		case n.Type == "":
			return fmt.Errorf("%s.type: missing", f)
		case !slices.Contains(Types, n.Type):
			return fmt.Errorf("%s.type: unknown namespace %q", f, n.Type)
		}
		if first, dup := seen[n.Type]; dup {
			return fmt.Errorf("%s.type: namespace %q already listed at %s", f, n.Type, field.Index("linux.namespaces", first))
		}
		seen[n.Type] = i
		if n.Path != "" {
			if err := field.Absolute(f+".path", n.Path); err != nil {
				return err
			}
		}
	}
	return nil
}

// validateUTS refuses a hostname or domainname without a uts namespace:
// setting them would rename the host.
func validateUTS(s *specs.Spec) error {
	if s.Hostname != "" && !Has(s, specs.UTSNamespace) {
		return errors.New("hostname: requires a uts namespace")
	}
	if s.Domainname != "" && !Has(s, specs.UTSNamespace) {
		return errors.New("domainname: requires a uts namespace")
	}
	return nil
}

func validateUser(s *specs.Spec, rootless bool) error {
	l := linux(s)
	if !Has(s, specs.UserNamespace) {
		if rootless {
			return errors.New("linux.namespaces: a rootless container requires a user namespace: rt runs without root, " +
				"and only a user namespace of its own lets the container mount and own files (`rt spec --rootless` writes one)")
		}
		if len(l.UIDMappings) > 0 {
			return errors.New("linux.uidMappings: requires a user namespace")
		}
		if len(l.GIDMappings) > 0 {
			return errors.New("linux.gidMappings: requires a user namespace")
		}
		return nil
	}
	// A joined user namespace has its mappings already, and the kernel
	// allows them to be written once only. containerd and CRI-O still send
	// mappings along with the path (describing that namespace): they are
	// accepted and left unapplied rather than rejected.
	if IsNew(s, specs.UserNamespace) {
		if len(l.UIDMappings) == 0 {
			return errors.New("linux.uidMappings: a new user namespace requires mappings")
		}
		if len(l.GIDMappings) == 0 {
			return errors.New("linux.gidMappings: a new user namespace requires mappings")
		}
	}
	if err := ValidateIDMappings(l.UIDMappings, "linux.uidMappings"); err != nil {
		return err
	}
	if err := ValidateIDMappings(l.GIDMappings, "linux.gidMappings"); err != nil {
		return err
	}
	if s.Process == nil || len(l.UIDMappings) == 0 || len(l.GIDMappings) == 0 {
		return nil
	}
	// setuid, setgid and setgroups fail with EINVAL for ids outside the mappings.
	u := s.Process.User
	if !idMapped(l.UIDMappings, u.UID) {
		return fmt.Errorf("process.user.uid: %d is not mapped by linux.uidMappings", u.UID)
	}
	if !idMapped(l.GIDMappings, u.GID) {
		return fmt.Errorf("process.user.gid: %d is not mapped by linux.gidMappings", u.GID)
	}
	for i, g := range u.AdditionalGids {
		if !idMapped(l.GIDMappings, g) {
			return fmt.Errorf("%s: %d is not mapped by linux.gidMappings", field.Index("process.user.additionalGids", i), g)
		}
	}
	return nil
}

// ValidateIDMappings applies the rules the kernel enforces when uid_map or
// gid_map is written (user_namespaces(7)): non-empty ranges that stay within
// 32 bits and do not overlap on either side. name is the field ("linux.uidMappings").
func ValidateIDMappings(m []specs.LinuxIDMapping, name string) error {
	const limit = 1<<32 - 1 // (uid_t)-1 means "no id" and cannot be mapped
	for i, e := range m {
		f := field.Index(name, i)
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
				return fmt.Errorf("%s.containerID: range overlaps %s", f, field.Index(name, j))
			}
			if overlaps(e.HostID, e.Size, prev.HostID, prev.Size) {
				return fmt.Errorf("%s.hostID: range overlaps %s", f, field.Index(name, j))
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

// validateTimeOffsets: offsets can only be written into a time namespace
// before any process entered it, so a joined one keeps the offsets it has.
func validateTimeOffsets(s *specs.Spec) error {
	offsets := linux(s).TimeOffsets
	if len(offsets) == 0 {
		return nil
	}
	if !IsNew(s, specs.TimeNamespace) {
		return errors.New("linux.timeOffsets: requires a new time namespace")
	}
	for _, clock := range field.SortedKeys(offsets) {
		f := field.Key("linux.timeOffsets", clock)
		if clock != "monotonic" && clock != "boottime" { // the clocks time_namespaces(7) can offset
			return fmt.Errorf("%s: unknown clock (want monotonic or boottime)", f)
		}
		if n := offsets[clock].Nanosecs; n >= 1e9 {
			return fmt.Errorf("%s.nanosecs: %d is not below 1000000000", f, n)
		}
	}
	return nil
}

// ipcSysctls are the kernel.* sysctls that belong to the IPC namespace.
var ipcSysctls = []string{"msgmax", "msgmnb", "msgmni", "sem", "shmall", "shmmax", "shmmni", "shm_rmid_forced"}

// validateSysctl allows only the sysctls a namespace of the container
// isolates, and only names that stay below /proc/sys.
func validateSysctl(s *specs.Spec) error {
	sysctl := linux(s).Sysctl
	for _, key := range field.SortedKeys(sysctl) {
		f := field.Key("linux.sysctl", key)
		parts := sysctlPath(key)
		if len(parts) < 2 || slices.ContainsFunc(parts, badSysctlPart) {
			return fmt.Errorf("%s: not a valid sysctl name", f)
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
			if parts[1] == "hostname" && s.Hostname != "" {
				return fmt.Errorf("%s: conflicts with hostname", f)
			}
			if parts[1] == "domainname" && s.Domainname != "" {
				return fmt.Errorf("%s: conflicts with domainname", f)
			}
		default:
			return fmt.Errorf("%s: not isolated by any namespace, setting it would change the host", f)
		}
		if !Has(s, need) {
			article := "a"
			if need == specs.IPCNamespace {
				article = "an"
			}
			return fmt.Errorf("%s: requires %s %s namespace", f, article, need)
		}
	}
	return nil
}

// validateNetSysctlNamespace refuses net.* sysctls when the network
// namespace the container joins is the runtime's own: writing them would
// change the host's network settings. It runs where rt starts, never in the
// init, which is inside the namespace by then.
func validateNetSysctlNamespace(s *specs.Spec) error {
	var path string
	for _, n := range linux(s).Namespaces {
		if n.Type == specs.NetworkNamespace {
			path = n.Path
		}
	}
	if path == "" {
		return nil
	}
	for _, key := range field.SortedKeys(linux(s).Sysctl) {
		if sysctlPath(key)[0] != "net" {
			continue
		}
		var joined, own unix.Stat_t
		if unix.Stat(path, &joined) != nil || unix.Stat("/proc/self/ns/net", &own) != nil {
			// A missing namespace fails when the init joins it.
			return nil
		}
		if joined.Dev == own.Dev && joined.Ino == own.Ino {
			return fmt.Errorf("%s: sysctl %q not allowed in host network namespace", field.Key("linux.sysctl", key), key)
		}
	}
	return nil
}

// sysctlPath splits a sysctl name into its directories below /proc/sys. As
// with sysctl(8), names are separated by "/" when the first separator is "/"
// (so that "." can be part of an interface name: net/ipv4/conf/eth0.100/rp_filter),
// by "." otherwise, where a "/" stands for a "." (net.ipv4.conf.eth0/100.rp_filter).
func sysctlPath(key string) []string {
	if i := strings.IndexAny(key, "./"); i >= 0 && key[i] == '/' {
		return strings.Split(key, "/")
	}
	parts := strings.Split(key, ".")
	for i, p := range parts {
		parts[i] = strings.ReplaceAll(p, "/", ".")
	}
	return parts
}

// badSysctlPart catches the name parts that would not stay one directory level below /proc/sys.
func badSysctlPart(p string) bool {
	return p == "" || p == "." || p == ".." || strings.ContainsAny(p, "/\x00")
}
