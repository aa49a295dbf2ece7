package integration

import (
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
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
