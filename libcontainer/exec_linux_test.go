package libcontainer

import (
	"errors"
	"strings"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"

	"github.com/rtproject/rt/nsenter"
)

func TestSubCgroupDirs(t *testing.T) {
	paths := map[string]string{
		"cpu":    "/sys/fs/cgroup/cpu/ct",
		"memory": "/sys/fs/cgroup/memory/ct",
	}
	for _, tt := range []struct {
		name    string
		subs    []string
		want    map[string]string
		wantErr string
	}{
		{"every controller", []string{"sub"}, map[string]string{"cpu": "/sys/fs/cgroup/cpu/ct/sub", "memory": "/sys/fs/cgroup/memory/ct/sub"}, ""},
		{"top, explicitly", []string{"/"}, map[string]string{"cpu": "/sys/fs/cgroup/cpu/ct", "memory": "/sys/fs/cgroup/memory/ct"}, ""},
		{"one controller's top", []string{"cpu:/"}, map[string]string{"cpu": "/sys/fs/cgroup/cpu/ct"}, ""},
		{"two controllers", []string{"cpu,memory:a/b"}, map[string]string{"cpu": "/sys/fs/cgroup/cpu/ct/a/b", "memory": "/sys/fs/cgroup/memory/ct/a/b"}, ""},
		{"parent", []string{".."}, nil, "bad sub cgroup path: .."},
		{"sibling with our prefix", []string{"cpu:../ct-sibling"}, nil, "bad sub cgroup path: ../ct-sibling"},
		{"unknown controller", []string{"whaaat:/"}, nil, "unknown controller whaaat"},
		{"empty controller", []string{":x"}, nil, "empty controller"},
		{"twice", []string{"cpu:a", "cpu:b"}, nil, "cpu given more than once"},
		{"plain path among others", []string{"a", "cpu:b"}, nil, "must be the only --cgroup"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			got, err := subCgroupDirs(paths, tt.subs)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != len(tt.want) {
				t.Fatalf("got %v, want %v", got, tt.want)
			}
			for k, v := range tt.want {
				if got[k] != v {
					t.Errorf("%s: got %s, want %s", k, got[k], v)
				}
			}
		})
	}
}

func TestExecSlowPathReason(t *testing.T) {
	withPid := func() *specs.Spec {
		return &specs.Spec{Linux: &specs.Linux{Namespaces: []specs.LinuxNamespace{{Type: specs.PIDNamespace}, {Type: specs.MountNamespace}}}}
	}
	for _, tt := range []struct {
		name   string
		spec   func(s *specs.Spec)
		proc   func(p *specs.Process)
		late   bool
		reason string
	}{
		{"plain", nil, nil, false, ""},
		{"seccomp without a listener", func(s *specs.Spec) {
			s.Linux.Seccomp = &specs.LinuxSeccomp{DefaultAction: specs.ActAllow, Syscalls: []specs.LinuxSyscall{{Names: []string{"mknod"}, Action: specs.ActErrno}}}
		}, nil, false, ""},
		{"scheduler without RT limits", nil, func(p *specs.Process) {
			p.Scheduler = &specs.Scheduler{Policy: specs.SchedFIFO, Priority: 1}
			p.Rlimits = []specs.POSIXRlimit{{Type: "RLIMIT_NOFILE", Soft: 1, Hard: 1}}
		}, false, ""},
		{"host pid namespace", func(s *specs.Spec) { s.Linux.Namespaces = s.Linux.Namespaces[1:] }, nil, false, "no pid namespace"},
		{"late cgroups", nil, nil, true, "joins its cgroups after it starts"},
		{"AppArmor", nil, func(p *specs.Process) { p.ApparmorProfile = "x" }, false, "AppArmor"},
		{"SELinux", nil, func(p *specs.Process) { p.SelinuxLabel = "x" }, false, "SELinux"},
		{"notify rule", func(s *specs.Spec) {
			s.Linux.Seccomp = &specs.LinuxSeccomp{DefaultAction: specs.ActAllow, Syscalls: []specs.LinuxSyscall{{Names: []string{"mknod"}, Action: specs.ActNotify}}}
		}, nil, false, "notify listener"},
		{"listener path", func(s *specs.Spec) {
			s.Linux.Seccomp = &specs.LinuxSeccomp{DefaultAction: specs.ActAllow, ListenerPath: "/run/agent.sock"}
		}, nil, false, "notify listener"},
		{"deadline", nil, func(p *specs.Process) { p.Scheduler = &specs.Scheduler{Policy: specs.SchedDeadline} }, false, "SCHED_DEADLINE"},
		{"reset on fork", nil, func(p *specs.Process) {
			p.Scheduler = &specs.Scheduler{Policy: specs.SchedOther, Flags: []specs.LinuxSchedulerFlag{specs.SchedFlagResetOnFork}}
		}, false, "reset-on-fork"},
		{"scheduler with RLIMIT_RTPRIO", nil, func(p *specs.Process) {
			p.Scheduler = &specs.Scheduler{Policy: specs.SchedFIFO, Priority: 1}
			p.Rlimits = []specs.POSIXRlimit{{Type: "RLIMIT_RTPRIO", Soft: 1, Hard: 1}}
		}, false, "RLIMIT_RTPRIO"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			s, p := withPid(), &specs.Process{Args: []string{"true"}}
			if tt.spec != nil {
				tt.spec(s)
			}
			if tt.proc != nil {
				tt.proc(p)
			}
			got := execSlowPathReason(s, p, tt.late)
			if (tt.reason == "") != (got == "") || !strings.Contains(got, tt.reason) {
				t.Errorf("execSlowPathReason = %q, want %q", got, tt.reason)
			}
		})
	}
}

func TestDescribeExecStepError(t *testing.T) {
	p := &specs.Process{Args: []string{"sh"}, Cwd: "/home/u", User: specs.User{UID: 1000, GID: 100, AdditionalGids: []uint32{10}},
		Rlimits: []specs.POSIXRlimit{{Type: "RLIMIT_CORE", Soft: 1, Hard: 1}, {Type: "RLIMIT_NOFILE", Soft: 5, Hard: 6}}}
	step := func(s, i int, e unix.Errno) error { return &nsenter.ExecStepError{Step: s, Index: i, Err: e} }
	for _, tt := range []struct {
		err  error
		want string
	}{
		{step(nsenter.ExecStepRlimit, 1, unix.EPERM), "process.rlimits[1]: set RLIMIT_NOFILE to soft 5 hard 6: operation not permitted (raising a hard limit needs CAP_SYS_RESOURCE)"},
		{step(nsenter.ExecStepRlimit, 0, unix.EINVAL), "process.rlimits[0]: set RLIMIT_CORE to soft 1 hard 1: invalid argument"},
		{step(nsenter.ExecStepCwd, 0, unix.EACCES), "process.cwd /home/u: permission denied"},
		{step(nsenter.ExecStepExec, 0, unix.ENOEXEC), "exec sh: exec format error"},
		{step(nsenter.ExecStepSetresuid, 0, unix.EINVAL), "setresuid 1000: invalid argument (the id is not mapped in the container's user namespace)"},
		{step(nsenter.ExecStepSetresgid, 0, unix.EINVAL), "setresgid 100: invalid argument (the id is not mapped in the container's user namespace)"},
		{step(nsenter.ExecStepSetgroups, 0, unix.EPERM), "setgroups [10]: operation not permitted (setgroups may be denied in this user namespace)"},
		{step(nsenter.ExecStepSeccomp, 0, unix.EACCES), "linux.seccomp: load seccomp filter: permission denied (needs no_new_privs or CAP_SYS_ADMIN)"},
		{step(nsenter.ExecStepBounding, 21, unix.EPERM), "drop CAP_SYS_ADMIN from the bounding set: operation not permitted"},
		{step(nsenter.ExecStepSetsid, 0, unix.EPERM), "exec: setsid: operation not permitted"},
		{errors.New("other"), "other"},
	} {
		if got := describeExecStepError(tt.err, p); got.Error() != tt.want {
			t.Errorf("describeExecStepError(%v) = %q, want %q", tt.err, got, tt.want)
		}
	}
}
