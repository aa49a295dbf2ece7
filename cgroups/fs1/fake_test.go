package fs1

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/opencontainers/runtime-spec/specs-go"

	"github.com/rtproject/rt/cgroups/internal/cgfs"
	"github.com/rtproject/rt/cgroups/internal/cgtest"
)

// These tests drive the v1 driver on a fake cgroupfs: a temporary
// directory per hierarchy, whose new cgroups get their interface files
// from cgtest.FakeFS as the kernel would make them. fs1_kernel_test.go
// runs the driver on the real hierarchies.

// newCgroupFiles are the files a new cgroup of the fake has, in every hierarchy.
var newCgroupFiles = map[string]string{
	"cgroup.procs": "", "cpuset.cpus": "", "cpuset.mems": "",
	"memory.limit_in_bytes": "9223372036854771712", "memory.memsw.limit_in_bytes": "9223372036854771712",
	"memory.soft_limit_in_bytes": "9223372036854771712", "memory.swappiness": "60", "memory.oom_control": "0",
	"memory.use_hierarchy": "1", "memory.usage_in_bytes": "4096", "memory.kmem.tcp.limit_in_bytes": "0",
	"cpu.shares": "1024", "cpu.cfs_quota_us": "-1", "cpu.cfs_period_us": "100000", "cpu.cfs_burst_us": "0",
	"cpu.rt_period_us": "1000000", "cpu.rt_runtime_us": "0",
	"pids.max": "max", "pids.current": "0",
	"freezer.state": "THAWED", "freezer.self_freezing": "0",
	"devices.allow": "", "devices.deny": "",
	"blkio.weight": "500", "blkio.throttle.read_bps_device": "",
}

// hierarchies are the controllers of the fake host, cpu and cpuacct co-mounted.
var hierarchies = map[string]string{
	"cpuset": "cpuset", "memory": "memory", "cpu": "cpu,cpuacct", "cpuacct": "cpu,cpuacct",
	"pids": "pids", "freezer": "freezer", "devices": "devices", "blkio": "blkio",
}

// fakeHost makes the hierarchies' roots and returns the paths of the
// container's cgroup "a/b/c1" in each, which Apply has yet to create.
func fakeHost(t *testing.T) map[string]string {
	t.Helper()
	root := t.TempDir()
	cgtest.FakeFS(t, newCgroupFiles)
	paths := map[string]string{}
	for ctrl, dir := range hierarchies {
		mnt := filepath.Join(root, dir)
		if err := os.MkdirAll(mnt, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := cgtest.WriteFiles(mnt, map[string]string{"cpuset.cpus": "0-3", "cpuset.mems": "0", "cgroup.procs": "1\n"}); err != nil {
			t.Fatal(err)
		}
		paths[ctrl] = filepath.Join(mnt, "a/b/c1")
	}
	return paths
}

func TestFakeApply(t *testing.T) {
	paths := fakeHost(t)
	m := New(paths, nil, false)
	if err := m.Apply(42); err != nil {
		t.Fatal(err)
	}
	for ctrl, dir := range paths {
		if got, _ := cgfs.Read(dir, "cgroup.procs"); got != "42" {
			t.Errorf("%s: cgroup.procs = %q, want 42", ctrl, got)
		}
	}
	// Every new cpuset level got its parent's cpus and mems.
	for _, level := range []string{"a", "a/b", "a/b/c1"} {
		dir := filepath.Join(filepath.Dir(filepath.Dir(filepath.Dir(paths["cpuset"]))), level)
		if cpus, _ := cgfs.Read(dir, "cpuset.cpus"); cpus != "0-3" {
			t.Errorf("%s: cpuset.cpus = %q", level, cpus)
		}
	}
	// Only the cpuset hierarchy's levels are initialised that way.
	if cpus, _ := cgfs.Read(filepath.Dir(paths["memory"]), "cpuset.cpus"); cpus != "" {
		t.Errorf("memory hierarchy level got cpus %q", cpus)
	}
	// Joining an existing cgroup is fine.
	if err := New(paths, nil, false).Apply(43); err != nil {
		t.Errorf("second Apply: %v", err)
	}
}

func TestFakeSet(t *testing.T) {
	paths := fakeHost(t)
	m := New(paths, nil, false)
	if err := m.Apply(0); err != nil {
		t.Fatal(err)
	}
	r := &specs.LinuxResources{
		Devices: []specs.LinuxDeviceCgroup{{Allow: true, Type: "c", Major: i64(1), Minor: i64(3), Access: "rwm"}},
		Memory: &specs.LinuxMemory{
			Limit: i64(64 << 20), Swap: i64(128 << 20), Reservation: i64(32 << 20), KernelTCP: i64(16 << 20),
			Swappiness: u64(10), DisableOOMKiller: boolp(true),
		},
		CPU:     &specs.LinuxCPU{Shares: u64(1024), Quota: i64(50000), Period: u64(200000), Burst: u64(1000), Cpus: "1", Mems: "0"},
		Pids:    &specs.LinuxPids{Limit: i64(32)},
		BlockIO: &specs.LinuxBlockIO{Weight: u16(300), ThrottleReadBpsDevice: []specs.LinuxThrottleDevice{throttle("8", "0", 1<<20)}},
	}
	if err := m.Set(r); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct{ ctrl, file, want string }{
		{"memory", "memory.limit_in_bytes", "67108864"},
		{"memory", "memory.memsw.limit_in_bytes", "134217728"},
		{"memory", "memory.soft_limit_in_bytes", "33554432"},
		{"memory", "memory.kmem.tcp.limit_in_bytes", "16777216"},
		{"memory", "memory.swappiness", "10"},
		{"memory", "memory.oom_control", "1"},
		{"cpu", "cpu.shares", "1024"},
		{"cpu", "cpu.cfs_quota_us", "50000"},
		{"cpu", "cpu.cfs_period_us", "200000"},
		{"cpu", "cpu.cfs_burst_us", "1000"},
		{"cpuset", "cpuset.cpus", "1"},
		{"pids", "pids.max", "32"},
		{"blkio", "blkio.weight", "300"},
		{"blkio", "blkio.throttle.read_bps_device", "8:0 1048576"},
		// Plain files keep only the last write: the rule after deny-all.
		{"devices", "devices.allow", "c 1:3 rwm"},
		{"devices", "devices.deny", "a"},
	} {
		if got, _ := cgfs.Read(paths[c.ctrl], c.file); got != c.want {
			t.Errorf("%s = %q, want %q", c.file, got, c.want)
		}
	}
	// checkBeforeUpdate refuses a limit below the usage (4096 here).
	err := m.Set(&specs.LinuxResources{Memory: &specs.LinuxMemory{Limit: i64(1024), CheckBeforeUpdate: boolp(true)}})
	if err == nil || err.Error() != "linux.resources.memory.limit: 1024 is below the current usage 4096" {
		t.Errorf("checkBeforeUpdate: %v", err)
	}
}

// TestFakeSetNamesMissingController: a resource whose controller the host
// lacks is an error naming the field; rootless, the controller may also be
// there but not writable, and the error says both; rt's default device
// rules are then left out.
func TestFakeSetNamesMissingController(t *testing.T) {
	paths := fakeHost(t)
	delete(paths, "pids")
	delete(paths, "blkio")
	for _, tt := range []struct {
		r    *specs.LinuxResources
		want string
	}{
		{&specs.LinuxResources{Pids: &specs.LinuxPids{Limit: i64(5)}}, "linux.resources.pids.limit: the cgroup v1 pids controller is not mounted on this host"},
		{&specs.LinuxResources{BlockIO: &specs.LinuxBlockIO{Weight: u16(10)}}, "linux.resources.blockIO.weight: the cgroup v1 blkio controller is not mounted on this host"},
	} {
		if err := New(paths, nil, false).Set(tt.r); err == nil || err.Error() != tt.want {
			t.Errorf("Set = %v, want %q", err, tt.want)
		}
		rootless := strings.Replace(tt.want, "the cgroup v1", "rt runs rootless and has no cgroup v1", 1)
		rootless = strings.Replace(rootless, "controller is not mounted on this host", "hierarchy to write (none is mounted, or none delegated to uid", 1)
		if err := New(paths, nil, true).Set(tt.r); err == nil || !strings.HasPrefix(err.Error(), rootless) {
			t.Errorf("rootless Set = %v, want %q…", err, rootless)
		}
	}
	delete(paths, "devices")
	if err := New(paths, nil, true).Set(&specs.LinuxResources{Devices: []specs.LinuxDeviceCgroup{{Access: "rwm"}}}); err != nil {
		t.Errorf("rootless Set of device rules without a devices cgroup: %v", err)
	}
}

func TestFakeFreezer(t *testing.T) {
	paths := fakeHost(t)
	m := New(paths, nil, false)
	if err := m.Apply(0); err != nil {
		t.Fatal(err)
	}
	state := func() string {
		t.Helper()
		s, err := m.FreezerState()
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	if err := m.Freeze(); err != nil || state() != "frozen" {
		t.Errorf("after Freeze: %v, %s", err, state())
	}
	if err := m.Thaw(); err != nil || state() != "thawed" {
		t.Errorf("after Thaw: %v, %s", err, state())
	}
	// FREEZING that does not settle: frozen only when asked of this cgroup.
	dir := paths["freezer"]
	cgtest.WriteFiles(dir, map[string]string{"freezer.state": "FREEZING", "freezer.self_freezing": "1"})
	if s := state(); s != "frozen" {
		t.Errorf("FREEZING, self_freezing 1: %s", s)
	}
	cgtest.WriteFiles(dir, map[string]string{"freezer.self_freezing": "0"})
	if s := state(); s != "thawed" {
		t.Errorf("FREEZING, self_freezing 0: %s", s)
	}
	if s, err := New(map[string]string{"memory": paths["memory"]}, nil, false).FreezerState(); err != nil || s != "thawed" {
		t.Errorf("no freezer hierarchy: %s, %v", s, err)
	}
}

func TestFakeStatsAndPids(t *testing.T) {
	paths := fakeHost(t)
	m := New(paths, nil, false)
	if err := m.Apply(0); err != nil {
		t.Fatal(err)
	}
	cgtest.WriteFiles(paths["memory"], map[string]string{
		"memory.stat":                 "cache 100\nrss 200\ntotal_cache 100\n",
		"memory.max_usage_in_bytes":   "8192",
		"memory.failcnt":              "3",
		"memory.memsw.usage_in_bytes": "5000",
	})
	cgtest.WriteFiles(paths["pids"], map[string]string{"pids.current": "2", "pids.max": "10"})
	// The freezer hierarchy is the first Pids looks in.
	cgtest.WriteFiles(paths["freezer"], map[string]string{"cgroup.procs": "7\n8\n"})
	cgtest.WriteFiles(paths["cpu"], map[string]string{"cpu.stat": "nr_periods 4\nnr_throttled 1\nthrottled_time 99\n", "cpuacct.usage": "123", "cpuacct.stat": "user 10\nsystem 20\n"})
	s, err := m.Stats()
	if err != nil {
		t.Fatal(err)
	}
	if s.Memory.Usage.Usage != 4096 || s.Memory.Usage.Max != 8192 || s.Memory.Usage.Failcnt != 3 || s.Memory.Cache != 100 {
		t.Errorf("memory stats %+v", s.Memory)
	}
	if s.Pids.Current != 2 || s.Pids.Limit != 10 {
		t.Errorf("pids stats %+v", s.Pids)
	}
	if s.CPU.Throttling.Periods != 4 || s.CPU.Throttling.ThrottledPeriods != 1 || s.CPU.Throttling.ThrottledTime != 99 {
		t.Errorf("cpu stats %+v", s.CPU)
	}
	pids, err := m.Pids()
	if slices.Sort(pids); err != nil || !slices.Equal(pids, []int{7, 8}) {
		t.Errorf("Pids = %v, %v", pids, err)
	}
	if !strings.HasPrefix(m.Paths()["cpuacct"], m.Paths()["cpu"]) {
		t.Errorf("co-mounted controllers differ: %v", m.Paths())
	}
}

// TestFakeJoinable: a cgroup the container joins rather than makes is
// noted (Existing) and refused when it holds processes; a cgroup below a
// frozen one (which it would be born into) is refused; named hierarchies
// get the container's cgroup too.
func TestFakeJoinable(t *testing.T) {
	paths := fakeHost(t)
	if err := New(paths, nil, false).Joinable(); err != nil {
		t.Fatalf("Joinable of a cgroup to make: %v", err)
	}
	freezerParent := filepath.Dir(paths["freezer"])
	if err := os.MkdirAll(freezerParent, 0o755); err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(freezerParent, "freezer.state"), []byte("FROZEN\n"), 0o644)
	if err := New(paths, nil, false).Joinable(); err == nil || !strings.Contains(err.Error(), "container's cgroup unexpectedly frozen") {
		t.Errorf("Joinable below a frozen parent: %v", err)
	}
	os.WriteFile(filepath.Join(freezerParent, "freezer.state"), []byte("THAWED\n"), 0o644)
	if err := New(paths, nil, false).Apply(42); err != nil {
		t.Fatal(err)
	}
	m := New(paths, []string{"pids"}, false)
	if got := m.Existing(); !slices.Equal(got, []string{"pids"}) {
		t.Errorf("Existing = %v", got)
	}
	if err := m.Joinable(); err == nil || !strings.Contains(err.Error(), "container's cgroup is not empty: 1 process(es)") {
		t.Errorf("Joinable of an occupied cgroup: %v", err)
	}
	h := &cgfs.Host{V1: map[string]cgfs.Mount{
		"pids":         {Point: "/sys/fs/cgroup/pids", Root: "/"},
		"name=systemd": {Point: "/sys/fs/cgroup/systemd", Root: "/"},
	}, Own: map[string]string{"pids": "/", "name=systemd": "/a"}}
	if got := Paths(h, "b/c1"); got["name=systemd"] != "/sys/fs/cgroup/systemd/a/b/c1" || got["pids"] != "/sys/fs/cgroup/pids/b/c1" {
		t.Errorf("Paths = %v", got)
	}
}
