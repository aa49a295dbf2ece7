package integration

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

// TestPidsLimitZero: linux.resources.pids.limit 0 is a limit of 0 tasks
// (runtime-spec: "0 is a valid limit value ... SHOULD be treated as such"),
// never "max"; -1 is no limit. The same through `update`.
func TestPidsLimitZero(t *testing.T) {
	b := newBundle(t, "sleep", "100")
	zero := int64(0)
	b.Spec.Linux.Resources = &specs.LinuxResources{Pids: &specs.LinuxPids{Limit: &zero}}
	pid := b.start()
	pidsMax := cgFile{"pids", "pids.max"}
	checkCgroupFiles(t, b, []cgCheck{{pidsMax, "0", false}})
	// Joining the cgroup is allowed; forking in it is not.
	if r := b.rt("exec", b.ID, "sh", "-c", "/bin/true; /bin/true"); r.Code == 0 {
		t.Errorf("a fork in a container with pids.max 0 succeeded: %s", r)
	}
	for _, step := range []struct{ flag, want string }{{"-1", "max"}, {"10", "10"}, {"0", "0"}} {
		b.mustRT("update", "--pids-limit", step.flag, b.ID)
		checkCgroupFiles(t, b, []cgCheck{{pidsMax, step.want, false}})
	}
	b.rt("kill", b.ID, "KILL")
	b.waitStatus("stopped")
	b.deleteAndCheck(pid)
}

// TestCPUAffinityReset: the container's init and exec'd processes do not
// inherit the affinity of whoever ran rt (`taskset -c 0 rt run`): they get
// every CPU the container's cpuset allows, as with runc. execCPUAffinity
// applies to exec'd processes only: final when given, initial kept alone.
func TestCPUAffinityReset(t *testing.T) {
	var online unix.CPUSet
	if err := unix.SchedGetaffinity(0, &online); err != nil {
		t.Fatal(err)
	}
	if !online.IsSet(0) || !online.IsSet(1) {
		t.Skip("needs CPUs 0 and 1")
	}
	all := mustRead(t, "/proc/self/status")
	all = all[strings.Index(all, "Cpus_allowed_list:"):]
	all = strings.TrimSpace(strings.TrimPrefix(all[:strings.Index(all, "\n")], "Cpus_allowed_list:"))
	pinned := func(b *bundle, args ...string) result {
		ctx, cancel := context.WithTimeout(context.Background(), rtTimeout)
		defer cancel()
		return runCmd(exec.CommandContext(ctx, "taskset", append([]string{"-c", "0", rtBinary, "--root", b.Root}, args...)...))
	}
	cpus := func(r result) string {
		return strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(r.Stdout), "Cpus_allowed_list:"))
	}
	grep := []string{"grep", "Cpus_allowed_list", "/proc/self/status"}
	for _, tt := range []struct {
		name, cpuset, want string
	}{
		{"no cpuset: every CPU", "", all},
		{"cpuset 1, not the caller's 0", "1", "1"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			b := newBundle(t, grep...)
			if tt.cpuset != "" {
				b.Spec.Linux.Resources = &specs.LinuxResources{CPU: &specs.LinuxCPU{Cpus: tt.cpuset, Mems: "0"}}
			}
			b.write()
			if r := pinned(b, "run", "--bundle", b.Dir, b.ID); r.Code != 0 || cpus(r) != tt.want {
				t.Errorf("taskset -c 0 rt run: %s, want CPUs %s", r, tt.want)
			}
			b = newBundle(t, "sleep", "100")
			if tt.cpuset != "" {
				b.Spec.Linux.Resources = &specs.LinuxResources{CPU: &specs.LinuxCPU{Cpus: tt.cpuset, Mems: "0"}}
			}
			pid := b.start()
			if r := pinned(b, append([]string{"exec", b.ID}, grep...)...); r.Code != 0 || cpus(r) != tt.want {
				t.Errorf("taskset -c 0 rt exec: %s, want CPUs %s", r, tt.want)
			}
			b.rt("kill", b.ID, "KILL")
			b.waitStatus("stopped")
			b.deleteAndCheck(pid)
		})
	}

	b := newBundle(t, "sleep", "100")
	pid := b.start()
	proc := filepath.Join(b.Dir, "process.json")
	for _, tt := range []struct {
		affinity, want string
	}{
		{`{"initial": "1", "final": "0"}`, "0"},
		{`{"initial": "1"}`, "1"}, // runtime-spec: no final, no change after the cgroup move
	} {
		os.WriteFile(proc, []byte(`{"args": ["grep", "Cpus_allowed_list", "/proc/self/status"], "cwd": "/", "execCPUAffinity": `+tt.affinity+`}`), 0o644)
		if r := b.rt("exec", "--process", proc, b.ID); r.Code != 0 || cpus(r) != tt.want {
			t.Errorf("exec with execCPUAffinity %s: %s, want CPUs %s", tt.affinity, r, tt.want)
		}
	}
	b.rt("kill", b.ID, "KILL")
	b.waitStatus("stopped")
	b.deleteAndCheck(pid)
}

// TestUpdateCPUIdle: cpu.idle goes on and off through update, whatever the
// container's cpu.shares: the kernel refuses shares while a group is idle,
// so they are written before it becomes idle and after it leaves.
func TestUpdateCPUIdle(t *testing.T) {
	if _, err := os.Stat("/sys/fs/cgroup/cpu/cpu.idle"); err != nil {
		t.Skip("no cpu.idle in the v1 cpu controller")
	}
	b := newBundle(t, "sleep", "100")
	shares := uint64(100)
	b.Spec.Linux.Resources = &specs.LinuxResources{CPU: &specs.LinuxCPU{Shares: &shares}}
	pid := b.start()
	idle := cgFile{"cpu", "cpu.idle"}
	checkCgroupFiles(t, b, []cgCheck{{idle, "0", false}, {cgFile{"cpu", "cpu.shares"}, "100", false}})
	for _, v := range []string{"1", "0", "1"} {
		if r := runRT(b.Root, []byte(`{"cpu": {"idle": `+v+`}}`), "update", "-r", "-", b.ID); r.Code != 0 {
			t.Fatalf("update -r {cpu.idle %s}: %s", v, r)
		}
		checkCgroupFiles(t, b, []cgCheck{{idle, v, false}})
	}
	for _, v := range []string{"0", "1"} {
		b.mustRT("update", "--cpu-idle", v, b.ID)
		checkCgroupFiles(t, b, []cgCheck{{idle, v, false}})
	}
	// Another field leaves idle as it is.
	b.mustRT("update", "--cpu-period", "10000", b.ID)
	checkCgroupFiles(t, b, []cgCheck{{idle, "1", false}, {cgFile{"cpu", "cpu.cfs_period_us"}, "10000", false}})
	// Out of idle, the shares are the container's again.
	b.mustRT("update", "--cpu-idle", "0", "--cpu-share", "200", b.ID)
	checkCgroupFiles(t, b, []cgCheck{{idle, "0", false}, {cgFile{"cpu", "cpu.shares"}, "200", false}})
	b.rt("kill", b.ID, "KILL")
	b.waitStatus("stopped")
	b.deleteAndCheck(pid)
}

// TestDeviceRuleUnknownAccessLetters: a device rule's access letters other
// than r, w, m are ignored, as runc ignores them ("rwa" is "rw"); the rule
// still applies, and updates work.
func TestDeviceRuleUnknownAccessLetters(t *testing.T) {
	b := newBundle(t, "sleep", "100")
	kmsg := int64(11)
	one := int64(1)
	b.Spec.Linux.Devices = append(b.Spec.Linux.Devices, specs.LinuxDevice{Path: "/dev/kmsg", Type: "c", Major: 1, Minor: 11})
	b.Spec.Linux.Resources = &specs.LinuxResources{Devices: []specs.LinuxDeviceCgroup{
		{Allow: false, Access: "rwm"},
		{Allow: true, Type: "c", Major: &one, Minor: &kmsg, Access: "rwa"},
	}}
	pid := b.start()
	checkCgroupFiles(t, b, []cgCheck{{cgFile{"devices", "devices.list"}, "c 1:11 rw", true}})
	b.mustRT("update", "--pids-limit", "30", b.ID)
	b.rt("kill", b.ID, "KILL")
	b.waitStatus("stopped")
	b.deleteAndCheck(pid)
}
