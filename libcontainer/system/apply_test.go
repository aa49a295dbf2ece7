package system

import (
	"slices"
	"strings"
	"testing"

	"github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"

	"github.com/rtproject/rt/libcontainer/internal/kernel/kerneltest"
)

// These tests apply the attributes against the fake kernel and check the
// calls; apply_kernel_test.go checks the same functions against the real one.

func u32p(v uint32) *uint32 { return &v }

// check compares the recorded calls and the error with what a case wants.
func check(t *testing.T, rec *kerneltest.Recorder, err error, wantCalls []string, wantErr string) {
	t.Helper()
	if got := errString(err); got != wantErr {
		t.Errorf("error %q, want %q", got, wantErr)
	}
	if !slices.Equal(rec.Calls, wantCalls) {
		t.Errorf("calls:\n  %s\nwant:\n  %s", strings.Join(rec.Calls, "\n  "), strings.Join(wantCalls, "\n  "))
	}
}

func TestSetupUserCalls(t *testing.T) {
	tests := []struct {
		name      string
		user      specs.User
		setgroups string // /proc/self/setgroups
		fail      string // a call that fails with EINVAL
		want      []string
		wantErr   string
	}{
		{"root drops the inherited groups", specs.User{}, "allow", "", []string{
			"setgroups []", "prctl PR_SET_KEEPCAPS 1", "setresgid 0 0 0", "setresuid 0 0 0", "prctl PR_SET_KEEPCAPS 0",
		}, ""},
		{"user with groups and umask", specs.User{UID: 1000, GID: 100, AdditionalGids: []uint32{10, 20}, Umask: u32p(0o027)}, "allow", "", []string{
			"setgroups [10 20]", "prctl PR_SET_KEEPCAPS 1", "setresgid 100 100 100", "setresuid 1000 1000 1000",
			"prctl PR_SET_KEEPCAPS 0", "umask 0027",
		}, ""},
		{"setgroups denied, no groups asked", specs.User{UID: 1}, "deny", "", []string{
			"setgroups [] = operation not permitted", "prctl PR_SET_KEEPCAPS 1", "setresgid 0 0 0", "setresuid 1 1 1", "prctl PR_SET_KEEPCAPS 0",
		}, ""},
		{"setgroups denied, groups asked", specs.User{AdditionalGids: []uint32{10}}, "deny", "", []string{"setgroups [10] = operation not permitted"},
			`process.user.additionalGids: cannot be set: setgroups is denied in this user namespace (/proc/self/setgroups is "deny")`},
		{"unmapped uid", specs.User{UID: 5000}, "allow", "setresuid", []string{
			"setgroups []", "prctl PR_SET_KEEPCAPS 1", "setresgid 0 0 0", "setresuid 5000 5000 5000 = invalid argument",
		}, "setresuid 5000: invalid argument (the id is not mapped in the container's user namespace)"},
		{"refused for another reason", specs.User{}, "allow", "setgroups", []string{"setgroups [] = invalid argument"},
			"setgroups []: invalid argument"},
		{"invalid", specs.User{UID: ^uint32(0)}, "allow", "", nil, "process.user.uid: 4294967295 is not a valid user id"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := kerneltest.New(t, "")
			rec.Proc["self/setgroups"] = tt.setgroups + "\n"
			if tt.fail != "" {
				rec.Fail(tt.fail, 1, unix.EINVAL)
			}
			check(t, rec, SetupUser(tt.user), tt.want, tt.wantErr)
		})
	}
}

func TestSetRlimitsCalls(t *testing.T) {
	tests := []struct {
		name    string
		rlimits []specs.POSIXRlimit
		fail    bool
		want    []string
		wantErr string
	}{
		{"in order", []specs.POSIXRlimit{{Type: "RLIMIT_NOFILE", Soft: 512, Hard: 1024}, {Type: "RLIMIT_CORE"}}, false,
			[]string{"prlimit 0 RLIMIT_NOFILE 512 1024", "prlimit 0 RLIMIT_CORE 0 0"}, ""},
		{"raising the hard limit without CAP_SYS_RESOURCE", []specs.POSIXRlimit{{Type: "RLIMIT_NOFILE", Soft: 100, Hard: 2048}}, true,
			[]string{"prlimit 0 RLIMIT_NOFILE 100 2048 = operation not permitted"},
			"process.rlimits[0]: set RLIMIT_NOFILE to soft 100 hard 2048: raising the hard limit above the current 1024 needs CAP_SYS_RESOURCE, which the runtime lacks: operation not permitted"},
		{"invalid", []specs.POSIXRlimit{{Type: "RLIMIT_NOFILE", Soft: 2, Hard: 1}}, false, nil,
			"process.rlimits[0]: RLIMIT_NOFILE soft limit 2 is above its hard limit 1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := kerneltest.New(t, "")
			rec.Limits = map[int]unix.Rlimit{unix.RLIMIT_NOFILE: {Cur: 1024, Max: 1024}}
			if tt.fail {
				rec.Fail("prlimit", 1, unix.EPERM)
			}
			check(t, rec, SetRlimits(0, tt.rlimits), tt.want, tt.wantErr)
		})
	}
}

func TestSetOOMScoreAdjCalls(t *testing.T) {
	rec := kerneltest.New(t, "")
	check(t, rec, SetOOMScoreAdj(500), []string{`write /proc/self/oom_score_adj "500"`}, "")

	rec = kerneltest.New(t, "")
	rec.Proc["self/oom_score_adj"] = "300\n"
	rec.Fail("write", 1, unix.EACCES)
	check(t, rec, SetOOMScoreAdj(-500), []string{`write /proc/self/oom_score_adj "-500" = permission denied`},
		"process.oomScoreAdj: set -500 (now 300): lowering oom_score_adj needs CAP_SYS_RESOURCE, which the runtime lacks: write /proc/self/oom_score_adj: permission denied")

	rec = kerneltest.New(t, "")
	check(t, rec, SetOOMScoreAdj(1001), nil, "process.oomScoreAdj: 1001 is outside -1000..1000")
}

func TestSetSchedulerCalls(t *testing.T) {
	tests := []struct {
		name  string
		sched *specs.Scheduler
		fail  bool
		want  []string
		err   string
	}{
		{"none", nil, false, nil, ""},
		{"batch", &specs.Scheduler{Policy: specs.SchedBatch, Nice: 10}, false,
			[]string{"sched_setattr policy=3 nice=10 priority=0 flags=0x0 runtime=0 deadline=0 period=0"}, ""},
		{"fifo with a flag", &specs.Scheduler{Policy: specs.SchedFIFO, Priority: 50, Flags: []specs.LinuxSchedulerFlag{specs.SchedFlagResetOnFork}}, false,
			[]string{"sched_setattr policy=1 nice=0 priority=50 flags=0x1 runtime=0 deadline=0 period=0"}, ""},
		{"deadline", &specs.Scheduler{Policy: specs.SchedDeadline, Runtime: 10000, Deadline: 20000, Period: 40000}, false,
			[]string{"sched_setattr policy=6 nice=0 priority=0 flags=0x0 runtime=10000 deadline=20000 period=40000"}, ""},
		{"not permitted", &specs.Scheduler{Policy: specs.SchedRR, Priority: 1}, true,
			[]string{"sched_setattr policy=2 nice=0 priority=1 flags=0x0 runtime=0 deadline=0 period=0 = operation not permitted"},
			"process.scheduler: sched_setattr policy SCHED_RR nice 0 priority 1: operation not permitted (needs CAP_SYS_NICE or a higher RLIMIT_RTPRIO/RLIMIT_NICE)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := kerneltest.New(t, "")
			if tt.fail {
				rec.Fail("sched_setattr", 1, unix.EPERM)
			}
			check(t, rec, SetScheduler(tt.sched), tt.want, tt.err)
		})
	}
}

func TestSetIOPriorityCalls(t *testing.T) {
	rec := kerneltest.New(t, "")
	check(t, rec, SetIOPriority(&specs.LinuxIOPriority{Class: specs.IOPRIO_CLASS_BE, Priority: 6}), []string{"ioprio_set class=2 level=6"}, "")
	rec = kerneltest.New(t, "")
	rec.Fail("ioprio_set", 1, unix.EPERM)
	check(t, rec, SetIOPriority(&specs.LinuxIOPriority{Class: specs.IOPRIO_CLASS_RT}), []string{"ioprio_set class=1 level=0 = operation not permitted"},
		"process.ioPriority: ioprio_set IOPRIO_CLASS_RT 0: operation not permitted (IOPRIO_CLASS_RT needs CAP_SYS_ADMIN or CAP_SYS_NICE)")
}

func TestSetPersonalityCalls(t *testing.T) {
	for _, tt := range []struct {
		p    *specs.LinuxPersonality
		want []string
	}{
		{nil, nil},
		{&specs.LinuxPersonality{Domain: specs.PerLinux32}, []string{"personality 0x8"}},
		{&specs.LinuxPersonality{Domain: specs.PerLinux, Flags: []specs.LinuxPersonalityFlag{"ADDR_NO_RANDOMIZE", "UNAME26"}}, []string{"personality 0x60000"}},
	} {
		rec := kerneltest.New(t, "")
		check(t, rec, SetPersonality(tt.p), tt.want, "")
	}
}

func TestSetNoNewPrivsCalls(t *testing.T) {
	rec := kerneltest.New(t, "")
	check(t, rec, SetNoNewPrivs(), []string{"prctl PR_SET_NO_NEW_PRIVS 1"}, "")
}

func TestExecCPUAffinityCalls(t *testing.T) {
	rec := kerneltest.New(t, "")
	started := false
	err := WithInitialCPUAffinity(&specs.CPUAffinity{Initial: "1"}, func() error {
		started = len(rec.Calls) == 1
		return nil
	})
	// The fake's own affinity is CPUs 0 and 1, which the runtime gets back.
	check(t, rec, err, []string{"sched_setaffinity 1", "sched_setaffinity 0,1"}, "")
	if !started {
		t.Error("start did not run between pinning and restoring")
	}
	for _, tt := range []struct {
		name string
		a    *specs.CPUAffinity
		want []string
	}{
		{"final", &specs.CPUAffinity{Initial: "0", Final: "2-3"}, []string{"sched_setaffinity 2,3"}},
		{"only initial: left as it is", &specs.CPUAffinity{Initial: "0"}, nil},
		{"none: every CPU (the kernel narrows it to the cpuset)", nil, []string{"sched_setaffinity all"}},
		{"empty", &specs.CPUAffinity{}, []string{"sched_setaffinity all"}},
	} {
		rec := kerneltest.New(t, "")
		err := SetCPUAffinity(tt.a)
		if err != nil || !slices.Equal(rec.Calls, tt.want) {
			t.Errorf("%s: %v, calls %q, want %q", tt.name, err, rec.Calls, tt.want)
		}
	}
}
