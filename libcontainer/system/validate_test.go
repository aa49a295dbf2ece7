package system

import (
	"testing"

	"github.com/opencontainers/runtime-spec/specs-go"
)

func errString(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

func u32(v uint32) *uint32 { return &v }
func intp(v int) *int      { return &v }

func TestValidateUser(t *testing.T) {
	tests := []struct {
		name string
		user specs.User
		want string
	}{
		{"root", specs.User{}, ""},
		{"user with groups and umask", specs.User{UID: 1000, GID: 1000, AdditionalGids: []uint32{10, 20}, Umask: u32(0o027)}, ""},
		{"uid -1", specs.User{UID: 4294967295}, "process.user.uid: 4294967295 is not a valid user id"},
		{"gid -1", specs.User{GID: 4294967295}, "process.user.gid: 4294967295 is not a valid group id"},
		{"additional gid -1", specs.User{AdditionalGids: []uint32{5, 4294967295}}, "process.user.additionalGids[1]: 4294967295 is not a valid group id"},
		{"too many groups", specs.User{AdditionalGids: make([]uint32, 65537)}, "process.user.additionalGids: 65537 groups, the kernel allows at most 65536"},
		{"umask too wide", specs.User{Umask: u32(0o1777)}, "process.user.umask: 01777 is not a file mode mask (0 to 0777)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := errString(ValidateUser(tt.user)); got != tt.want {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
}

func TestValidateRlimits(t *testing.T) {
	tests := []struct {
		name    string
		rlimits []specs.POSIXRlimit
		want    string
	}{
		{"none", nil, ""},
		{"all known", []specs.POSIXRlimit{
			{Type: "RLIMIT_NOFILE", Soft: 1024, Hard: 4096},
			{Type: "RLIMIT_CORE", Soft: 0, Hard: 0},
			{Type: "RLIMIT_RTTIME", Soft: 1, Hard: 1},
		}, ""},
		{"unknown", []specs.POSIXRlimit{{Type: "RLIMIT_FOO"}}, `process.rlimits[0].type: unknown rlimit "RLIMIT_FOO"`},
		{"lower case", []specs.POSIXRlimit{{Type: "RLIMIT_CORE"}, {Type: "rlimit_nofile"}}, `process.rlimits[1].type: unknown rlimit "rlimit_nofile"`},
		{"duplicate", []specs.POSIXRlimit{{Type: "RLIMIT_NOFILE"}, {Type: "RLIMIT_CORE"}, {Type: "RLIMIT_NOFILE"}}, "process.rlimits[2].type: RLIMIT_NOFILE is already set by process.rlimits[0]"},
		{"soft above hard", []specs.POSIXRlimit{{Type: "RLIMIT_NOFILE", Soft: 2048, Hard: 1024}}, "process.rlimits[0]: RLIMIT_NOFILE soft limit 2048 is above its hard limit 1024"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := errString(ValidateRlimits(tt.rlimits)); got != tt.want {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
}

func TestValidateOOMScoreAdj(t *testing.T) {
	for adj, want := range map[int]string{
		-1000: "", 0: "", 500: "", 1000: "",
		-1001: "process.oomScoreAdj: -1001 is outside -1000..1000",
		1001:  "process.oomScoreAdj: 1001 is outside -1000..1000",
	} {
		if got := errString(ValidateOOMScoreAdj(adj)); got != want {
			t.Errorf("ValidateOOMScoreAdj(%d) = %q, want %q", adj, got, want)
		}
	}
}

func TestValidateScheduler(t *testing.T) {
	tests := []struct {
		name  string
		sched *specs.Scheduler
		want  string
	}{
		{"nil", nil, ""},
		{"other with nice", &specs.Scheduler{Policy: specs.SchedOther, Nice: -5}, ""},
		{"batch", &specs.Scheduler{Policy: specs.SchedBatch, Nice: 19}, ""},
		{"idle", &specs.Scheduler{Policy: specs.SchedIdle}, ""},
		{"fifo", &specs.Scheduler{Policy: specs.SchedFIFO, Priority: 99, Flags: []specs.LinuxSchedulerFlag{specs.SchedFlagResetOnFork}}, ""},
		{"deadline", &specs.Scheduler{Policy: specs.SchedDeadline, Runtime: 10000, Deadline: 100000, Period: 1000000}, ""},
		{"deadline without period", &specs.Scheduler{Policy: specs.SchedDeadline, Runtime: 10000, Deadline: 100000}, ""},
		{"unknown policy", &specs.Scheduler{Policy: "SCHED_FAST"}, `process.scheduler.policy: unknown scheduling policy "SCHED_FAST"`},
		{"empty policy", &specs.Scheduler{}, `process.scheduler.policy: missing`},
		{"iso", &specs.Scheduler{Policy: specs.SchedISO}, `process.scheduler.policy: SCHED_ISO is reserved but not implemented by Linux`},
		{"unknown flag", &specs.Scheduler{Policy: specs.SchedOther, Flags: []specs.LinuxSchedulerFlag{specs.SchedFlagReclaim, "SCHED_FLAG_FOO"}}, `process.scheduler.flags[1]: unknown scheduling flag "SCHED_FLAG_FOO"`},
		{"nice too low", &specs.Scheduler{Policy: specs.SchedOther, Nice: -21}, "process.scheduler.nice: -21 is outside -20..19"},
		{"nice too high", &specs.Scheduler{Policy: specs.SchedBatch, Nice: 20}, "process.scheduler.nice: 20 is outside -20..19"},
		{"rr without priority", &specs.Scheduler{Policy: specs.SchedRR}, "process.scheduler.priority: SCHED_RR needs a priority in 1..99, not 0"},
		{"fifo priority 100", &specs.Scheduler{Policy: specs.SchedFIFO, Priority: 100}, "process.scheduler.priority: SCHED_FIFO needs a priority in 1..99, not 100"},
		{"batch with priority", &specs.Scheduler{Policy: specs.SchedBatch, Priority: 5}, "process.scheduler.priority: only SCHED_FIFO and SCHED_RR take a priority; SCHED_BATCH needs 0, not 5"},
		{"runtime without deadline policy", &specs.Scheduler{Policy: specs.SchedOther, Runtime: 5}, "process.scheduler: runtime, deadline and period are only for SCHED_DEADLINE, not SCHED_OTHER"},
		{"deadline missing", &specs.Scheduler{Policy: specs.SchedDeadline, Runtime: 10000}, "process.scheduler.deadline: SCHED_DEADLINE needs a deadline"},
		{"deadline runtime too small", &specs.Scheduler{Policy: specs.SchedDeadline, Runtime: 100, Deadline: 100000}, "process.scheduler.runtime: 100 ns is below the kernel's minimum of 1024 ns"},
		{"deadline runtime above deadline", &specs.Scheduler{Policy: specs.SchedDeadline, Runtime: 200000, Deadline: 100000}, "process.scheduler.runtime: 200000 ns is above the deadline 100000 ns"},
		{"deadline above period", &specs.Scheduler{Policy: specs.SchedDeadline, Runtime: 10000, Deadline: 100000, Period: 50000}, "process.scheduler.deadline: 100000 ns is above the period 50000 ns"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := errString(ValidateScheduler(tt.sched)); got != tt.want {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
}

func TestValidateIOPriority(t *testing.T) {
	tests := []struct {
		name string
		prio *specs.LinuxIOPriority
		want string
	}{
		{"nil", nil, ""},
		{"be 0", &specs.LinuxIOPriority{Class: specs.IOPRIO_CLASS_BE}, ""},
		{"rt 7", &specs.LinuxIOPriority{Class: specs.IOPRIO_CLASS_RT, Priority: 7}, ""},
		{"idle", &specs.LinuxIOPriority{Class: specs.IOPRIO_CLASS_IDLE}, ""},
		{"unknown class", &specs.LinuxIOPriority{Class: "IOPRIO_CLASS_NONE"}, `process.ioPriority.class: unknown I/O priority class "IOPRIO_CLASS_NONE"`},
		{"priority 8", &specs.LinuxIOPriority{Class: specs.IOPRIO_CLASS_BE, Priority: 8}, "process.ioPriority.priority: 8 is outside 0..7"},
		{"priority -1", &specs.LinuxIOPriority{Class: specs.IOPRIO_CLASS_BE, Priority: -1}, "process.ioPriority.priority: -1 is outside 0..7"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := errString(ValidateIOPriority(tt.prio)); got != tt.want {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
}

func TestIOPrioValue(t *testing.T) {
	for p, want := range map[specs.LinuxIOPriority]int{
		{Class: specs.IOPRIO_CLASS_RT, Priority: 0}:   1 << 13,
		{Class: specs.IOPRIO_CLASS_BE, Priority: 6}:   2<<13 | 6,
		{Class: specs.IOPRIO_CLASS_IDLE, Priority: 0}: 3 << 13,
	} {
		if got := IOPrioValue(&p); got != want {
			t.Errorf("IOPrioValue(%v) = %#x, want %#x", p, got, want)
		}
	}
}

func TestParseCPUList(t *testing.T) {
	tests := []struct {
		list string
		cpus []int
		want string
	}{
		{"0", []int{0}, ""},
		{"0-3,7", []int{0, 1, 2, 3, 7}, ""},
		{" 1 , 3-4 ", []int{1, 3, 4}, ""},
		{"1023", []int{1023}, ""},
		{"", nil, "empty CPU list"},
		{"a", nil, `bad CPU "a" in "a"`},
		{"1-", nil, `bad CPU "" in "1-"`},
		{"3-1", nil, `bad CPU range "3-1" in "3-1"`},
		{"0,,1", nil, `bad CPU "" in "0,,1"`},
		{"-1", nil, `bad CPU "" in "-1"`},
		{"1024", nil, `CPU 1024 in "1024" is beyond the 1024 CPUs supported`},
	}
	for _, tt := range tests {
		set, err := ParseCPUList(tt.list)
		if got := errString(err); got != tt.want {
			t.Errorf("ParseCPUList(%q) error = %q, want %q", tt.list, got, tt.want)
			continue
		}
		if err != nil {
			continue
		}
		if set.Count() != len(tt.cpus) {
			t.Errorf("ParseCPUList(%q) has %d CPUs, want %v", tt.list, set.Count(), tt.cpus)
		}
		for _, c := range tt.cpus {
			if !set.IsSet(c) {
				t.Errorf("ParseCPUList(%q) lacks CPU %d", tt.list, c)
			}
		}
	}
}

func TestValidateExecCPUAffinity(t *testing.T) {
	tests := []struct {
		name string
		aff  *specs.CPUAffinity
		want string
	}{
		{"nil", nil, ""},
		{"empty", &specs.CPUAffinity{}, ""},
		{"both", &specs.CPUAffinity{Initial: "0", Final: "0-1"}, ""},
		{"bad initial", &specs.CPUAffinity{Initial: "x"}, `process.execCPUAffinity.initial: bad CPU "x" in "x"`},
		{"bad final", &specs.CPUAffinity{Initial: "0", Final: "2-1"}, `process.execCPUAffinity.final: bad CPU range "2-1" in "2-1"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := errString(ValidateExecCPUAffinity(tt.aff)); got != tt.want {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
}

func TestValidatePersonality(t *testing.T) {
	tests := []struct {
		name string
		pers *specs.LinuxPersonality
		want string
	}{
		{"nil", nil, ""},
		{"linux", &specs.LinuxPersonality{Domain: specs.PerLinux}, ""},
		{"linux32 with flag", &specs.LinuxPersonality{Domain: specs.PerLinux32, Flags: []specs.LinuxPersonalityFlag{"ADDR_NO_RANDOMIZE"}}, ""},
		{"unknown domain", &specs.LinuxPersonality{Domain: "LINUX64"}, `linux.personality.domain: unknown personality domain "LINUX64" (LINUX or LINUX32)`},
		{"unknown flag", &specs.LinuxPersonality{Domain: specs.PerLinux, Flags: []specs.LinuxPersonalityFlag{"UNAME26", "FAST"}}, `linux.personality.flags[1]: unknown personality flag "FAST"`},
		{"no domain", &specs.LinuxPersonality{}, "linux.personality.domain: missing"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := errString(ValidatePersonality(tt.pers)); got != tt.want {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
}

func TestValidateProcess(t *testing.T) {
	tests := []struct {
		name string
		proc *specs.Process
		want string
	}{
		{"nil", nil, ""},
		{"all valid", &specs.Process{
			User:            specs.User{UID: 1000, GID: 1000},
			Rlimits:         []specs.POSIXRlimit{{Type: "RLIMIT_NOFILE", Soft: 1, Hard: 2}},
			OOMScoreAdj:     intp(500),
			Scheduler:       &specs.Scheduler{Policy: specs.SchedBatch},
			IOPriority:      &specs.LinuxIOPriority{Class: specs.IOPRIO_CLASS_BE, Priority: 4},
			ExecCPUAffinity: &specs.CPUAffinity{Initial: "0"},
		}, ""},
		{"bad user", &specs.Process{User: specs.User{UID: 4294967295}}, "process.user.uid: 4294967295 is not a valid user id"},
		{"bad rlimit", &specs.Process{Rlimits: []specs.POSIXRlimit{{Type: "RLIMIT_FOO"}}}, `process.rlimits[0].type: unknown rlimit "RLIMIT_FOO"`},
		{"bad oom", &specs.Process{OOMScoreAdj: intp(2000)}, "process.oomScoreAdj: 2000 is outside -1000..1000"},
		{"bad scheduler", &specs.Process{Scheduler: &specs.Scheduler{Policy: "x"}}, `process.scheduler.policy: unknown scheduling policy "x"`},
		{"bad ioprio", &specs.Process{IOPriority: &specs.LinuxIOPriority{Class: "x"}}, `process.ioPriority.class: unknown I/O priority class "x"`},
		{"bad affinity", &specs.Process{ExecCPUAffinity: &specs.CPUAffinity{Final: "x"}}, `process.execCPUAffinity.final: bad CPU "x" in "x"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := errString(ValidateProcess(tt.proc)); got != tt.want {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
}

func TestValidateLinux(t *testing.T) {
	for _, tt := range []struct {
		name string
		l    *specs.Linux
		want string
	}{
		{"nil", nil, ""},
		{"personality", &specs.Linux{Personality: &specs.LinuxPersonality{Domain: specs.PerLinux32}}, ""},
		{"bad personality", &specs.Linux{Personality: &specs.LinuxPersonality{Domain: "x"}}, `linux.personality.domain: unknown personality domain "x" (LINUX or LINUX32)`},
		{"memoryPolicy", &specs.Linux{MemoryPolicy: &specs.LinuxMemoryPolicy{Mode: specs.MpolInterleave, Nodes: "0-1"}}, ""},
		{"bad memoryPolicy", &specs.Linux{MemoryPolicy: &specs.LinuxMemoryPolicy{Mode: "INTERLEAVE", Nodes: "0"}},
			`linux.memoryPolicy.mode: invalid memory policy mode "INTERLEAVE" (want one of MPOL_BIND, MPOL_DEFAULT, MPOL_INTERLEAVE, MPOL_LOCAL, MPOL_PREFERRED, MPOL_PREFERRED_MANY, MPOL_WEIGHTED_INTERLEAVE)`},
	} {
		if got := errString(ValidateLinux(tt.l)); got != tt.want {
			t.Errorf("%s: %q, want %q", tt.name, got, tt.want)
		}
	}
}
