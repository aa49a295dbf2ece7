package specconv

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// newBundle makes a bundle directory with an empty rootfs.
func newBundle(t *testing.T) string {
	t.Helper()
	bundle := t.TempDir()
	if err := os.Mkdir(filepath.Join(bundle, "rootfs"), 0o755); err != nil {
		t.Fatal(err)
	}
	return bundle
}

func ptr[T any](v T) *T { return &v }

func withNamespaces(types ...specs.LinuxNamespaceType) func(*specs.Spec) {
	return func(s *specs.Spec) {
		s.Linux.Namespaces = nil
		for _, t := range types {
			s.Linux.Namespaces = append(s.Linux.Namespaces, specs.LinuxNamespace{Type: t})
		}
	}
}

func TestValidate(t *testing.T) {
	create := Options{Create: true}
	userMappings := func(s *specs.Spec) {
		s.Linux.Namespaces = append(s.Linux.Namespaces, specs.LinuxNamespace{Type: specs.UserNamespace})
		s.Linux.UIDMappings = []specs.LinuxIDMapping{{ContainerID: 0, HostID: 100000, Size: 65536}}
		s.Linux.GIDMappings = []specs.LinuxIDMapping{{ContainerID: 0, HostID: 100000, Size: 65536}}
	}
	tests := []struct {
		name   string
		opts   Options
		mutate func(s *specs.Spec)
		want   string // "" for a valid spec; $BUNDLE stands for the bundle directory
	}{
		{name: "example is valid", opts: create, mutate: func(*specs.Spec) {}},
		{name: "rootless example is valid", opts: Options{Create: true, Rootless: true},
			mutate: func(s *specs.Spec) { *s = *Example(true) }},

		// ociVersion
		{name: "version missing", mutate: func(s *specs.Spec) { s.Version = "" }, want: `ociVersion: missing`},
		{name: "version 2.x", mutate: func(s *specs.Spec) { s.Version = "2.0.0" }, want: `ociVersion: "2.0.0" is not a 1.x version`},
		{name: "version 0.x", mutate: func(s *specs.Spec) { s.Version = "0.5.0" }, want: `ociVersion: "0.5.0" is not a 1.x version`},
		{name: "version not semver", mutate: func(s *specs.Spec) { s.Version = "1.0" }, want: `ociVersion: "1.0" is not a semantic version`},
		{name: "version leading zero", mutate: func(s *specs.Spec) { s.Version = "1.01.0" }, want: `ociVersion: "1.01.0" is not a semantic version`},
		{name: "version pre-release", mutate: func(s *specs.Spec) { s.Version = "1.0.2-dev" }},
		{name: "version pre-release and build", mutate: func(s *specs.Spec) { s.Version = "1.0.0-rc.1+build.5" }},

		// root
		{name: "root missing", mutate: func(s *specs.Spec) { s.Root = nil }, want: `root: missing`},
		{name: "root path missing", mutate: func(s *specs.Spec) { s.Root.Path = "" }, want: `root.path: missing`},
		{name: "root path absent", mutate: func(s *specs.Spec) { s.Root.Path = "nope" },
			want: `root.path: $BUNDLE/nope: no such file or directory`},
		{name: "root path is a file", mutate: func(s *specs.Spec) { s.Root.Path = "config.json" },
			want: `root.path: $BUNDLE/config.json: not a directory`},
		{name: "root path absolute", mutate: func(s *specs.Spec) { s.Root.Path = "/" }},
		{name: "exec skips root", opts: Options{Exec: true}, mutate: func(s *specs.Spec) { s.Root.Path = "nope" }},

		// process
		{name: "process missing for create", opts: create, mutate: func(s *specs.Spec) { s.Process = nil }, want: `process: missing`},
		{name: "process missing for exec", opts: Options{Exec: true}, mutate: func(s *specs.Spec) { s.Process = nil }, want: `process: missing`},
		{name: "process optional otherwise", mutate: func(s *specs.Spec) { s.Process = nil }},
		{name: "args empty", mutate: func(s *specs.Spec) { s.Process.Args = nil }, want: `process.args: must not be empty`},
		{name: "args[0] empty", mutate: func(s *specs.Spec) { s.Process.Args = []string{""} }, want: `process.args[0]: must not be empty`},
		{name: "args NUL", mutate: func(s *specs.Spec) { s.Process.Args = []string{"sh", "a\x00b"} }, want: `process.args[1]: contains a NUL byte`},
		{name: "cwd relative", mutate: func(s *specs.Spec) { s.Process.Cwd = "tmp" }, want: `process.cwd: "tmp" is not absolute`},
		{name: "cwd missing", mutate: func(s *specs.Spec) { s.Process.Cwd = "" }, want: `process.cwd: missing`},
		{name: "env without =", mutate: func(s *specs.Spec) { s.Process.Env = append(s.Process.Env, "FOO") },
			want: `process.env[2]: "FOO" is not of the form KEY=VALUE`},
		{name: "env empty key", mutate: func(s *specs.Spec) { s.Process.Env = []string{"=x"} },
			want: `process.env[0]: "=x" is not of the form KEY=VALUE`},
		{name: "env empty value", mutate: func(s *specs.Spec) { s.Process.Env = []string{"FOO="} }},
		{name: "umask", mutate: func(s *specs.Spec) { s.Process.User.Umask = ptr(uint32(0o1022)) },
			want: `process.user.umask: 01022 is not a file mode mask (0 to 0777)`},
		{name: "rlimit unknown", mutate: func(s *specs.Spec) { s.Process.Rlimits[0].Type = "RLIMIT_FOO" },
			want: `process.rlimits[0].type: unknown rlimit "RLIMIT_FOO"`},
		{name: "rlimit duplicate", mutate: func(s *specs.Spec) {
			s.Process.Rlimits = append(s.Process.Rlimits, specs.POSIXRlimit{Type: "RLIMIT_CORE"}, s.Process.Rlimits[0])
		}, want: `process.rlimits[2].type: RLIMIT_NOFILE is already set by process.rlimits[0]`},
		{name: "rlimit soft above hard", mutate: func(s *specs.Spec) { s.Process.Rlimits[0].Soft = 2048 },
			want: `process.rlimits[0]: RLIMIT_NOFILE soft limit 2048 is above its hard limit 1024`},
		// Unknown names are the init's to warn about and leave out (runtime-spec: SHOULD NOT fail).
		{name: "capability unknown", mutate: func(s *specs.Spec) {
			s.Process.Capabilities.Effective = append(s.Process.Capabilities.Effective[:2], "CAP_FOO")
		}},
		{name: "capability last known", mutate: func(s *specs.Spec) {
			s.Process.Capabilities.Bounding = []string{"CAP_CHOWN", "CAP_CHECKPOINT_RESTORE"}
		}},
		{name: "capability lower case", mutate: func(s *specs.Spec) { s.Process.Capabilities.Inheritable = []string{"cap_chown"} }},
		{name: "oomScoreAdj high", mutate: func(s *specs.Spec) { s.Process.OOMScoreAdj = ptr(1001) },
			want: `process.oomScoreAdj: 1001 is outside -1000..1000`},
		{name: "oomScoreAdj low", mutate: func(s *specs.Spec) { s.Process.OOMScoreAdj = ptr(-1001) },
			want: `process.oomScoreAdj: -1001 is outside -1000..1000`},
		{name: "oomScoreAdj bounds", mutate: func(s *specs.Spec) { s.Process.OOMScoreAdj = ptr(-1000) }},
		{name: "scheduler policy unknown", mutate: func(s *specs.Spec) { s.Process.Scheduler = &specs.Scheduler{Policy: "SCHED_FOO"} },
			want: `process.scheduler.policy: unknown scheduling policy "SCHED_FOO"`},
		{name: "scheduler policy missing", mutate: func(s *specs.Spec) { s.Process.Scheduler = &specs.Scheduler{} },
			want: `process.scheduler.policy: missing`},
		{name: "scheduler fifo priority", mutate: func(s *specs.Spec) { s.Process.Scheduler = &specs.Scheduler{Policy: specs.SchedFIFO} },
			want: `process.scheduler.priority: SCHED_FIFO needs a priority in 1..99, not 0`},
		{name: "scheduler other priority", mutate: func(s *specs.Spec) { s.Process.Scheduler = &specs.Scheduler{Policy: specs.SchedOther, Priority: 3} },
			want: `process.scheduler.priority: only SCHED_FIFO and SCHED_RR take a priority; SCHED_OTHER needs 0, not 3`},
		{name: "scheduler nice", mutate: func(s *specs.Spec) { s.Process.Scheduler = &specs.Scheduler{Policy: specs.SchedBatch, Nice: 20} },
			want: `process.scheduler.nice: 20 is outside -20..19`},
		{name: "scheduler flag", mutate: func(s *specs.Spec) {
			s.Process.Scheduler = &specs.Scheduler{Policy: specs.SchedRR, Priority: 10, Flags: []specs.LinuxSchedulerFlag{"SCHED_FLAG_X"}}
		}, want: `process.scheduler.flags[0]: unknown scheduling flag "SCHED_FLAG_X"`},
		{name: "scheduler deadline", mutate: func(s *specs.Spec) {
			s.Process.Scheduler = &specs.Scheduler{Policy: specs.SchedDeadline, Runtime: 20000, Deadline: 10000}
		}, want: `process.scheduler.runtime: 20000 ns is above the deadline 10000 ns`},
		{name: "scheduler iso", mutate: func(s *specs.Spec) { s.Process.Scheduler = &specs.Scheduler{Policy: specs.SchedISO} },
			want: `process.scheduler.policy: SCHED_ISO is reserved but not implemented by Linux`},
		{name: "execCPUAffinity", mutate: func(s *specs.Spec) { s.Process.ExecCPUAffinity = &specs.CPUAffinity{Final: "1-0"} },
			want: `process.execCPUAffinity.final: bad CPU range "1-0" in "1-0"`},
		{name: "scheduler valid", mutate: func(s *specs.Spec) {
			s.Process.Scheduler = &specs.Scheduler{Policy: specs.SchedFIFO, Priority: 50, Flags: []specs.LinuxSchedulerFlag{specs.SchedFlagResetOnFork}}
		}},
		{name: "ioPriority class", mutate: func(s *specs.Spec) { s.Process.IOPriority = &specs.LinuxIOPriority{Class: "IOPRIO_CLASS_FOO"} },
			want: `process.ioPriority.class: unknown I/O priority class "IOPRIO_CLASS_FOO"`},
		{name: "ioPriority level", mutate: func(s *specs.Spec) {
			s.Process.IOPriority = &specs.LinuxIOPriority{Class: specs.IOPRIO_CLASS_BE, Priority: 8}
		}, want: `process.ioPriority.priority: 8 is outside 0..7`},

		// hostname and domainname
		{name: "hostname without uts", mutate: withNamespaces(specs.PIDNamespace, specs.MountNamespace),
			want: `hostname: requires a uts namespace`},
		{name: "domainname without uts", mutate: func(s *specs.Spec) {
			withNamespaces(specs.MountNamespace)(s)
			s.Hostname, s.Domainname = "", "example.org"
		}, want: `domainname: requires a uts namespace`},
		{name: "hostname with joined uts", mutate: func(s *specs.Spec) { s.Linux.Namespaces[3].Path = "/proc/1/ns/uts" }},

		// namespaces
		{name: "namespace unknown", mutate: func(s *specs.Spec) { s.Linux.Namespaces[2].Type = "foo" },
			want: `linux.namespaces[2].type: unknown namespace "foo"`},
		{name: "namespace type missing", mutate: func(s *specs.Spec) { s.Linux.Namespaces[1].Type = "" },
			want: `linux.namespaces[1].type: missing`},
		{name: "namespace duplicate", mutate: func(s *specs.Spec) {
			s.Linux.Namespaces = append(s.Linux.Namespaces, specs.LinuxNamespace{Type: specs.PIDNamespace, Path: "/proc/1/ns/pid"})
		}, want: `linux.namespaces[5].type: namespace "pid" already listed at linux.namespaces[0]`},
		{name: "namespace path relative", mutate: func(s *specs.Spec) { s.Linux.Namespaces[1].Path = "netns/a" },
			want: `linux.namespaces[1].path: "netns/a" is not absolute`},
		{name: "namespace cgroup and time", mutate: func(s *specs.Spec) {
			s.Linux.Namespaces = append(s.Linux.Namespaces, specs.LinuxNamespace{Type: specs.CgroupNamespace}, specs.LinuxNamespace{Type: specs.TimeNamespace})
		}},
		{name: "timeOffsets without time ns", mutate: func(s *specs.Spec) {
			s.Linux.TimeOffsets = map[string]specs.LinuxTimeOffset{"monotonic": {Secs: 10}}
		}, want: `linux.timeOffsets: requires a new time namespace`},
		{name: "timeOffsets with joined time ns", mutate: func(s *specs.Spec) {
			s.Linux.Namespaces = append(s.Linux.Namespaces, specs.LinuxNamespace{Type: specs.TimeNamespace, Path: "/proc/1/ns/time"})
			s.Linux.TimeOffsets = map[string]specs.LinuxTimeOffset{"monotonic": {Secs: 10}}
		}, want: `linux.timeOffsets: requires a new time namespace`},
		{name: "timeOffsets unknown clock", mutate: func(s *specs.Spec) {
			s.Linux.Namespaces = append(s.Linux.Namespaces, specs.LinuxNamespace{Type: specs.TimeNamespace})
			s.Linux.TimeOffsets = map[string]specs.LinuxTimeOffset{"boottime": {Secs: 1}, "realtime": {Secs: 10}}
		}, want: `linux.timeOffsets["realtime"]: unknown clock (want monotonic or boottime)`},
		{name: "timeOffsets nanosecs", mutate: func(s *specs.Spec) {
			s.Linux.Namespaces = append(s.Linux.Namespaces, specs.LinuxNamespace{Type: specs.TimeNamespace})
			s.Linux.TimeOffsets = map[string]specs.LinuxTimeOffset{"boottime": {Nanosecs: 1e9}}
		}, want: `linux.timeOffsets["boottime"].nanosecs: 1000000000 is not below 1000000000`},
		{name: "timeOffsets valid", mutate: func(s *specs.Spec) {
			s.Linux.Namespaces = append(s.Linux.Namespaces, specs.LinuxNamespace{Type: specs.TimeNamespace})
			s.Linux.TimeOffsets = map[string]specs.LinuxTimeOffset{"boottime": {Secs: -5, Nanosecs: 999999999}}
		}},

		// user namespace
		{name: "uidMappings without userns", mutate: func(s *specs.Spec) {
			s.Linux.UIDMappings = []specs.LinuxIDMapping{{HostID: 1000, Size: 1}}
		}, want: `linux.uidMappings: requires a user namespace`},
		{name: "gidMappings without userns", mutate: func(s *specs.Spec) {
			s.Linux.GIDMappings = []specs.LinuxIDMapping{{HostID: 1000, Size: 1}}
		}, want: `linux.gidMappings: requires a user namespace`},
		{name: "new userns without uid mappings", mutate: func(s *specs.Spec) {
			userMappings(s)
			s.Linux.UIDMappings = nil
		}, want: `linux.uidMappings: a new user namespace requires mappings`},
		{name: "new userns without gid mappings", mutate: func(s *specs.Spec) {
			userMappings(s)
			s.Linux.GIDMappings = nil
		}, want: `linux.gidMappings: a new user namespace requires mappings`},
		{name: "userns with mappings", mutate: userMappings},
		{name: "joined userns without mappings", mutate: func(s *specs.Spec) {
			s.Linux.Namespaces = append(s.Linux.Namespaces, specs.LinuxNamespace{Type: specs.UserNamespace, Path: "/proc/1/ns/user"})
		}},
		{name: "joined userns with mappings", mutate: func(s *specs.Spec) {
			userMappings(s)
			s.Linux.Namespaces[len(s.Linux.Namespaces)-1].Path = "/proc/1/ns/user"
		}},
		{name: "rootless without userns", opts: Options{Create: true, Rootless: true}, mutate: func(*specs.Spec) {},
			want: "linux.namespaces: a rootless container requires a user namespace: rt runs without root, " +
				"and only a user namespace of its own lets the container mount and own files (`rt spec --rootless` writes one)"},
		{name: "mapping size 0", mutate: func(s *specs.Spec) {
			userMappings(s)
			s.Linux.UIDMappings = append(s.Linux.UIDMappings, specs.LinuxIDMapping{ContainerID: 70000, HostID: 1})
		}, want: `linux.uidMappings[1].size: must be greater than 0`},
		{name: "mapping overflow", mutate: func(s *specs.Spec) {
			userMappings(s)
			s.Linux.GIDMappings[0].HostID = 4294967295 - 65535
		}, want: `linux.gidMappings[0]: hostID 4294901760 + size 65536 goes beyond 4294967294`},
		{name: "mapping overlap", mutate: func(s *specs.Spec) {
			userMappings(s)
			s.Linux.UIDMappings = append(s.Linux.UIDMappings, specs.LinuxIDMapping{ContainerID: 65535, HostID: 1, Size: 2})
		}, want: `linux.uidMappings[1].containerID: range overlaps linux.uidMappings[0]`},
		{name: "user uid not mapped", mutate: func(s *specs.Spec) {
			userMappings(s)
			s.Process.User.UID = 65536
		}, want: `process.user.uid: 65536 is not mapped by linux.uidMappings`},
		{name: "user additional gid not mapped", mutate: func(s *specs.Spec) {
			userMappings(s)
			s.Process.User.AdditionalGids = []uint32{5, 70000}
		}, want: `process.user.additionalGids[1]: 70000 is not mapped by linux.gidMappings`},

		// mounts and paths
		// Without a mount namespace the container shares the runtime's (rt mounts under the rootfs bind).
		{name: "mounts without mount ns", mutate: withNamespaces(specs.UTSNamespace)},
		{name: "mount destination missing", mutate: func(s *specs.Spec) { s.Mounts[1].Destination = "" },
			want: `mounts[1].destination: missing`},
		{name: "mount destination relative", mutate: func(s *specs.Spec) { s.Mounts[1].Destination = "tmp" }},
		{name: "maskedPaths relative", mutate: func(s *specs.Spec) { s.Linux.MaskedPaths[3] = "proc/keys" },
			want: `linux.maskedPaths[3]: "proc/keys" is not absolute`},
		{name: "readonlyPaths relative", mutate: func(s *specs.Spec) { s.Linux.ReadonlyPaths[0] = "proc/bus" },
			want: `linux.readonlyPaths[0]: "proc/bus" is not absolute`},
		{name: "maskedPaths without mount ns", mutate: func(s *specs.Spec) {
			withNamespaces(specs.UTSNamespace)(s)
			s.Mounts = nil
		}},
		{name: "rootfsPropagation", mutate: func(s *specs.Spec) { s.Linux.RootfsPropagation = "rshard" },
			want: `linux.rootfsPropagation: unknown propagation "rshard"`},

		// hooks
		{name: "hook path relative", mutate: func(s *specs.Spec) { s.Hooks = &specs.Hooks{Prestart: []specs.Hook{{Path: "x"}}} },
			want: `hooks.prestart[0].path: "x" is not absolute`},
		{name: "hook path missing", mutate: func(s *specs.Spec) {
			s.Hooks = &specs.Hooks{Poststop: []specs.Hook{{Path: "/bin/true"}, {}}}
		}, want: `hooks.poststop[1].path: missing`},
		{name: "hook timeout", mutate: func(s *specs.Spec) {
			s.Hooks = &specs.Hooks{CreateRuntime: []specs.Hook{{Path: "/bin/true", Timeout: ptr(0)}}}
		}, want: `hooks.createRuntime[0].timeout: 0 is not greater than 0`},
		{name: "hook env", mutate: func(s *specs.Spec) {
			s.Hooks = &specs.Hooks{StartContainer: []specs.Hook{{Path: "/bin/true", Env: []string{"X"}}}}
		}, want: `hooks.startContainer[0].env[0]: "X" is not of the form KEY=VALUE`},
		{name: "hooks valid", mutate: func(s *specs.Spec) {
			s.Hooks = &specs.Hooks{CreateContainer: []specs.Hook{{Path: "/bin/true", Args: []string{"true"}, Env: []string{"A=b"}, Timeout: ptr(5)}}}
		}},

		// sysctl
		{name: "sysctl net without netns", mutate: func(s *specs.Spec) {
			withNamespaces(specs.MountNamespace, specs.UTSNamespace)(s)
			s.Linux.Sysctl = map[string]string{"net.ipv4.ip_forward": "1"}
		}, want: `linux.sysctl["net.ipv4.ip_forward"]: requires a network namespace`},
		{name: "sysctl ipc without ipcns", mutate: func(s *specs.Spec) {
			withNamespaces(specs.MountNamespace, specs.UTSNamespace)(s)
			s.Linux.Sysctl = map[string]string{"kernel.shmmax": "1"}
		}, want: `linux.sysctl["kernel.shmmax"]: requires an ipc namespace`},
		{name: "sysctl mqueue without ipcns", mutate: func(s *specs.Spec) {
			withNamespaces(specs.MountNamespace, specs.UTSNamespace)(s)
			s.Linux.Sysctl = map[string]string{"fs.mqueue.msg_max": "1"}
		}, want: `linux.sysctl["fs.mqueue.msg_max"]: requires an ipc namespace`},
		{name: "sysctl host-wide", mutate: func(s *specs.Spec) { s.Linux.Sysctl = map[string]string{"vm.swappiness": "1"} },
			want: `linux.sysctl["vm.swappiness"]: not isolated by any namespace, setting it would change the host`},
		{name: "sysctl kernel other", mutate: func(s *specs.Spec) { s.Linux.Sysctl = map[string]string{"kernel.pid_max": "1"} },
			want: `linux.sysctl["kernel.pid_max"]: not isolated by any namespace, setting it would change the host`},
		{name: "sysctl escape", mutate: func(s *specs.Spec) { s.Linux.Sysctl = map[string]string{"net/../../etc": "1"} },
			want: `linux.sysctl["net/../../etc"]: not a valid sysctl name`},
		{name: "sysctl hostname conflict", mutate: func(s *specs.Spec) { s.Linux.Sysctl = map[string]string{"kernel.hostname": "a"} },
			want: `linux.sysctl["kernel.hostname"]: conflicts with hostname`},
		{name: "sysctl namespaced", mutate: func(s *specs.Spec) {
			s.Linux.Sysctl = map[string]string{
				"net.ipv4.ip_forward": "1", "net/ipv4/conf/eth0.1/forwarding": "1", "kernel.msgmax": "1",
				"fs.mqueue.queues_max": "1", "kernel.domainname": "x",
			}
		}},
		{name: "sysctl net with joined netns", mutate: func(s *specs.Spec) {
			s.Linux.Namespaces[1].Path = "/var/run/netns/a"
			s.Linux.Sysctl = map[string]string{"net.core.somaxconn": "256"}
		}},

		// devices
		{name: "device type", mutate: func(s *specs.Spec) {
			s.Linux.Devices = []specs.LinuxDevice{{Path: "/dev/fuse", Type: "c", Major: 10, Minor: 229}, {Path: "/dev/x", Type: "x"}}
		}, want: `linux.devices[1].type: unknown device type "x" (want c, b, u or p)`},
		{name: "device path relative", mutate: func(s *specs.Spec) { s.Linux.Devices = []specs.LinuxDevice{{Path: "dev/x", Type: "c"}} },
			want: `linux.devices[0].path: "dev/x" is not absolute`},
		{name: "device major negative", mutate: func(s *specs.Spec) { s.Linux.Devices = []specs.LinuxDevice{{Path: "/dev/x", Type: "b", Major: -1}} },
			want: `linux.devices[0].major: -1 is outside 0..4095`},
		{name: "device fifo", mutate: func(s *specs.Spec) { s.Linux.Devices = []specs.LinuxDevice{{Path: "/dev/fifo", Type: "p"}} }},

		// personality
		{name: "personality domain", mutate: func(s *specs.Spec) { s.Linux.Personality = &specs.LinuxPersonality{Domain: "LINUX64"} },
			want: `linux.personality.domain: unknown personality domain "LINUX64" (LINUX or LINUX32)`},
		{name: "personality flags", mutate: func(s *specs.Spec) {
			s.Linux.Personality = &specs.LinuxPersonality{Domain: specs.PerLinux32, Flags: []specs.LinuxPersonalityFlag{"ADDR_NO_RANDOMIZE"}}
		}},
		{name: "personality flag unknown", mutate: func(s *specs.Spec) {
			s.Linux.Personality = &specs.LinuxPersonality{Domain: specs.PerLinux, Flags: []specs.LinuxPersonalityFlag{"UNAME26", "NO_SUCH"}}
		}, want: `linux.personality.flags[1]: unknown personality flag "NO_SUCH"`},

		// memoryPolicy (intelRdt, refused whatever the host, is tested in its package)
		{name: "memoryPolicy", mutate: func(s *specs.Spec) {
			s.Linux.MemoryPolicy = &specs.LinuxMemoryPolicy{Mode: specs.MpolBind, Nodes: "0"}
		}},
		{name: "memoryPolicy nodes for default", mutate: func(s *specs.Spec) {
			s.Linux.MemoryPolicy = &specs.LinuxMemoryPolicy{Mode: specs.MpolDefault, Nodes: "0-7"}
		}, want: `linux.memoryPolicy: MPOL_DEFAULT: memory policy mode requires 0 nodes but got 8`},

		// resources
		{name: "device rule type", mutate: func(s *specs.Spec) {
			s.Linux.Resources = &specs.LinuxResources{Devices: []specs.LinuxDeviceCgroup{{Allow: false, Access: "rwm"}, {Allow: true, Type: "x"}}}
		}, want: `linux.resources.devices[1].type: "x" is not one of a, b, c`},
		{name: "device rule access", mutate: func(s *specs.Spec) {
			s.Linux.Resources = &specs.LinuxResources{Devices: []specs.LinuxDeviceCgroup{{Allow: true, Type: "c", Access: "xa"}}}
		}, want: `linux.resources.devices[0].access: "xa" has none of the letters r, w, m`},
		{name: "unified key", mutate: func(s *specs.Spec) {
			s.Linux.Resources = &specs.LinuxResources{Unified: map[string]string{"memory.high": "1M", "../escape": "1"}}
		}, want: `linux.resources.unified["../escape"]: not a cgroup file name`},

		// cgroupsPath
		{name: "cgroupsPath dotdot", mutate: func(s *specs.Spec) { s.Linux.CgroupsPath = "a/../../b" },
			want: `linux.cgroupsPath: "a/../../b" must not contain ".."`},
		{name: "cgroupsPath relative", mutate: func(s *specs.Spec) { s.Linux.CgroupsPath = "rt/test" }},
		{name: "cgroupsPath systemd prefix", opts: Options{Systemd: true}, mutate: func(s *specs.Spec) { s.Linux.CgroupsPath = "system.slice:a/b:c1" },
			want: `linux.cgroupsPath: "system.slice:a/b:c1": systemd unit names cannot contain "/"`},
		{name: "cgroupsPath systemd form", opts: Options{Systemd: true}, mutate: func(s *specs.Spec) { s.Linux.CgroupsPath = "/rt/test" },
			want: `linux.cgroupsPath: "/rt/test" is not "slice:prefix:name" as systemd cgroups need`},
		{name: "cgroupsPath systemd slice", opts: Options{Systemd: true}, mutate: func(s *specs.Spec) { s.Linux.CgroupsPath = "system:rt:c1" },
			want: `linux.cgroupsPath: "system" is not a slice name`},
		{name: "cgroupsPath systemd name", opts: Options{Systemd: true}, mutate: func(s *specs.Spec) { s.Linux.CgroupsPath = "system.slice:rt:" },
			want: `linux.cgroupsPath: "system.slice:rt:" has an empty name`},
		{name: "cgroupsPath systemd valid", opts: Options{Systemd: true}, mutate: func(s *specs.Spec) { s.Linux.CgroupsPath = ":rt:c1" }},

		// netDevices
		{name: "netDevices without netns", mutate: func(s *specs.Spec) {
			withNamespaces(specs.MountNamespace, specs.UTSNamespace)(s)
			s.Linux.NetDevices = map[string]specs.LinuxNetDevice{"eth1": {}}
		}, want: `linux.netDevices: requires a network namespace`},
		{name: "netDevices name", mutate: func(s *specs.Spec) {
			s.Linux.NetDevices = map[string]specs.LinuxNetDevice{"eth1": {Name: "a/b"}}
		}, want: `linux.netDevices["eth1"].name: "a/b" is not a valid interface name`},
		{name: "netDevices template", mutate: func(s *specs.Spec) {
			s.Linux.NetDevices = map[string]specs.LinuxNetDevice{"eth1": {Name: "eth%d"}}
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			bundle := newBundle(t)
			if err := os.WriteFile(filepath.Join(bundle, "config.json"), []byte("{}"), 0o644); err != nil {
				t.Fatal(err)
			}
			s := Example(false)
			tc.mutate(s)
			err := Validate(s, bundle, tc.opts)
			want := strings.ReplaceAll(tc.want, "$BUNDLE", bundle)
			switch {
			case want == "" && err != nil:
				t.Fatalf("unexpected error: %v", err)
			case want != "" && err == nil:
				t.Fatalf("no error, want %q", want)
			case want != "" && err.Error() != want:
				t.Fatalf("error\n got: %s\nwant: %s", err, want)
			}
		})
	}
}

func TestValidateProcess(t *testing.T) {
	p := Example(false).Process
	p.Cwd = "work"
	if err := ValidateProcess(p); err == nil || err.Error() != `process.cwd: "work" is not absolute` {
		t.Fatalf("got %v", err)
	}
	if err := ValidateProcess(nil); err == nil || err.Error() != "process: missing" {
		t.Fatalf("got %v", err)
	}
}
