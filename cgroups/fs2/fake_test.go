package fs2

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/opencontainers/runtime-spec/specs-go"
	"github.com/rtproject/rt/cgroups/internal/cgfs"
)

func i64(v int64) *int64   { return &v }
func u64(v uint64) *uint64 { return &v }
func u16(v uint16) *uint16 { return &v }
func u32(v uint32) *uint32 { return &v }
func boolp(v bool) *bool   { return &v }

// fakeCgroup lays out a directory that imitates a cgroup2 mount with one
// child cgroup "c" holding every interface file Set and Stats touch.
func fakeCgroup(t *testing.T) (*Manager, string) {
	t.Helper()
	root := t.TempDir()
	dir := filepath.Join(root, "c")
	all := "cpuset cpu io memory hugetlb pids rdma"
	files := map[string]string{
		"cgroup.controllers": all, "cgroup.subtree_control": "", "cgroup.procs": "",
		"cgroup.freeze": "0", "cgroup.events": "populated 1\nfrozen 0\n",
		"memory.max": "max", "memory.swap.max": "max", "memory.low": "0", "memory.high": "max",
		"memory.current": "4096", "memory.peak": "8192",
		"memory.stat":         "anon 1024\nfile 2048\n",
		"memory.events":       "low 0\nhigh 0\nmax 3\noom 1\noom_kill 1\n",
		"memory.swap.current": "100", "memory.pressure": "some avg10=1.50 avg60=0.00 avg300=0.00 total=42\nfull avg10=0.00 avg60=0.00 avg300=0.00 total=7\n",
		"cpu.weight": "100", "cpu.max": "max 100000", "cpu.max.burst": "0", "cpu.idle": "0",
		"cpu.stat":    "usage_usec 100\nuser_usec 60\nsystem_usec 40\nnr_periods 5\nnr_throttled 2\nthrottled_usec 9\n",
		"cpuset.cpus": "", "cpuset.mems": "", "cpuset.cpus.effective": "0-1", "cpuset.mems.effective": "0",
		"io.weight": "default 100", "io.max": "", "io.stat": "254:0 rbytes=10 wbytes=20 rios=1 wios=2 dbytes=0 dios=0\n",
		"pids.max": "max", "pids.current": "2",
		"hugetlb.2MB.max": "max", "hugetlb.2MB.rsvd.max": "max", "hugetlb.2MB.current": "0", "hugetlb.2MB.events": "max 0\n",
		"rdma.max": "",
	}
	for _, d := range []string{root, dir} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
		for name, content := range files {
			if d == root && name != "cgroup.controllers" && name != "cgroup.subtree_control" && name != "cgroup.procs" {
				continue
			}
			if err := os.WriteFile(filepath.Join(d, name), []byte(content), 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
	return New(Config{Mount: root, Dir: dir}), dir
}

func TestFakeApplyEnablesControllers(t *testing.T) {
	m, dir := fakeCgroup(t)
	if err := m.Apply(0); err != nil {
		t.Fatal(err)
	}
	got, _ := cgfs.Read(filepath.Dir(dir), "cgroup.subtree_control")
	if got != "+cpuset +cpu +io +memory +hugetlb +pids +rdma" {
		t.Errorf("root subtree_control = %q", got)
	}
}

func TestFakeSetWritesEveryFile(t *testing.T) {
	m, dir := fakeCgroup(t)
	r := &specs.LinuxResources{
		Memory: &specs.LinuxMemory{Limit: i64(1 << 20), Swap: i64(3 << 20), Reservation: i64(1 << 19), KernelTCP: i64(5)},
		CPU:    &specs.LinuxCPU{Shares: u64(1024), Quota: i64(50000), Burst: u64(1000), Idle: i64(1), Cpus: "0-1", Mems: "0"},
		Pids:   &specs.LinuxPids{Limit: i64(100)},
		BlockIO: &specs.LinuxBlockIO{
			Weight:                  u16(500),
			WeightDevice:            []specs.LinuxWeightDevice{{LinuxBlockIODevice: specs.LinuxBlockIODevice{Major: 8, Minor: 0}, Weight: u16(100)}},
			ThrottleWriteIOPSDevice: []specs.LinuxThrottleDevice{{LinuxBlockIODevice: specs.LinuxBlockIODevice{Major: 8, Minor: 0}, Rate: 300}},
		},
		HugepageLimits: []specs.LinuxHugepageLimit{{Pagesize: "2MB", Limit: 4 << 20}},
		Rdma:           map[string]specs.LinuxRdma{"mlx5_0": {HcaHandles: u32(3), HcaObjects: u32(1000)}},
		Unified:        map[string]string{"memory.high": "2097152"},
	}
	if err := m.Set(r); err != nil {
		t.Fatal(err)
	}
	for file, want := range map[string]string{
		"memory.max": "1048576", "memory.swap.max": "2097152", "memory.low": "524288", "memory.high": "2097152",
		"cpu.weight": "39", "cpu.max": "50000 100000", "cpu.max.burst": "1000", "cpu.idle": "1",
		"cpuset.cpus": "0-1", "cpuset.mems": "0",
		// Files are plain here, so only the last io.weight write shows.
		"io.weight": "8:0 910", "io.max": "8:0 wiops=300",
		"pids.max": "100", "hugetlb.2MB.max": "4194304", "hugetlb.2MB.rsvd.max": "4194304",
		"rdma.max": "mlx5_0 hca_handle=3 hca_object=1000",
	} {
		if got, _ := cgfs.Read(dir, file); got != want {
			t.Errorf("%s = %q, want %q", file, got, want)
		}
	}

	// Period alone keeps the quota already there.
	if err := m.Set(&specs.LinuxResources{CPU: &specs.LinuxCPU{Period: u64(200000)}}); err != nil {
		t.Fatal(err)
	}
	if got, _ := cgfs.Read(dir, "cpu.max"); got != "50000 200000" {
		t.Errorf("cpu.max = %q, want the quota kept", got)
	}
	// Unlimited memory without swap lifts the swap limit too.
	if err := m.Set(&specs.LinuxResources{Memory: &specs.LinuxMemory{Limit: i64(-1)}}); err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{"memory.max", "memory.swap.max"} {
		if got, _ := cgfs.Read(dir, f); got != "max" {
			t.Errorf("%s = %q, want max", f, got)
		}
	}
}

func TestFakeSetRefusesWhatV2Lacks(t *testing.T) {
	m, _ := fakeCgroup(t)
	for _, tc := range []struct {
		r     *specs.LinuxResources
		field string
	}{
		{&specs.LinuxResources{Memory: &specs.LinuxMemory{Kernel: i64(1)}}, "linux.resources.memory.kernel"},
		{&specs.LinuxResources{Memory: &specs.LinuxMemory{Swappiness: u64(10)}}, "linux.resources.memory.swappiness"},
		{&specs.LinuxResources{Memory: &specs.LinuxMemory{DisableOOMKiller: boolp(true)}}, "linux.resources.memory.disableOOMKiller"},
		{&specs.LinuxResources{Memory: &specs.LinuxMemory{Limit: i64(100), Swap: i64(50)}}, "linux.resources.memory.swap"},
		{&specs.LinuxResources{Memory: &specs.LinuxMemory{Limit: i64(1024), CheckBeforeUpdate: boolp(true)}}, "linux.resources.memory.limit"},
		{&specs.LinuxResources{CPU: &specs.LinuxCPU{RealtimeRuntime: i64(1000)}}, "linux.resources.cpu.realtimeRuntime"},
		{&specs.LinuxResources{CPU: &specs.LinuxCPU{RealtimePeriod: u64(1000)}}, "linux.resources.cpu.realtimePeriod"},
		{&specs.LinuxResources{BlockIO: &specs.LinuxBlockIO{LeafWeight: u16(10)}}, "linux.resources.blockIO.leafWeight"},
		{&specs.LinuxResources{Network: &specs.LinuxNetwork{ClassID: u32(1)}}, "linux.resources.network.classID"},
		{&specs.LinuxResources{HugepageLimits: []specs.LinuxHugepageLimit{{Pagesize: "3MB", Limit: 1}}}, "linux.resources.hugepageLimits[0].pageSize"},
		{&specs.LinuxResources{Unified: map[string]string{"../escape": "1"}}, `linux.resources.unified["../escape"]`},
		{&specs.LinuxResources{Unified: map[string]string{"memory.nonexistent": "1"}}, `linux.resources.unified["memory.nonexistent"]`},
		{&specs.LinuxResources{Unified: map[string]string{"misc.max": "1"}}, `linux.resources.unified["misc.max"]`},
	} {
		err := m.Set(tc.r)
		if err == nil || !strings.HasPrefix(err.Error(), tc.field) {
			t.Errorf("Set(%s) error = %v, want one starting with it", tc.field, err)
		}
	}
}

func TestFakeStats(t *testing.T) {
	m, _ := fakeCgroup(t)
	s, err := m.Stats()
	if err != nil {
		t.Fatal(err)
	}
	if s.CPU.Usage.Total != 100000 || s.CPU.Usage.User != 60000 || s.CPU.Usage.Kernel != 40000 ||
		s.CPU.Throttling.Periods != 5 || s.CPU.Throttling.ThrottledPeriods != 2 || s.CPU.Throttling.ThrottledTime != 9000 {
		t.Errorf("cpu = %+v", s.CPU)
	}
	if s.Memory.Usage.Usage != 4096 || s.Memory.Usage.Max != 8192 || s.Memory.Usage.Failcnt != 3 || s.Memory.Cache != 2048 ||
		s.Memory.Swap.Usage != 4196 || s.Memory.PSI == nil || s.Memory.PSI.Some.Avg10 != 1.5 || s.Memory.PSI.Full.Total != 7 {
		t.Errorf("memory = %+v", s.Memory)
	}
	if s.Pids.Current != 2 || s.Pids.Limit != 0 {
		t.Errorf("pids = %+v", s.Pids)
	}
	if len(s.CPUSet.CPUs) != 2 || len(s.Blkio.IoServiceBytesRecursive) != 2 || s.Blkio.IoServicedRecursive[1].Value != 2 {
		t.Errorf("cpuset %+v blkio %+v", s.CPUSet, s.Blkio)
	}
	b, _ := json.Marshal(s)
	for _, key := range []string{`"throttledPeriods":2`, `"ioServiceBytesRecursive":[`, `"op":"Read"`, `"usage":{"limit":`, `"hugetlb":{`, `"intel_rdt":{}`, `"network_interfaces":null`} {
		if !strings.Contains(string(b), key) {
			t.Errorf("stats JSON lacks %s: %s", key, b)
		}
	}
}

func TestFakeFreezer(t *testing.T) {
	m, dir := fakeCgroup(t)
	// The fake kernel has already "frozen" the cgroup.
	os.WriteFile(filepath.Join(dir, "cgroup.events"), []byte("populated 1\nfrozen 1\n"), 0o644)
	if err := m.Freeze(); err != nil {
		t.Fatal(err)
	}
	if got, _ := cgfs.Read(dir, "cgroup.freeze"); got != "1" {
		t.Errorf("cgroup.freeze = %q", got)
	}
	if st, err := m.FreezerState(); err != nil || st != "frozen" {
		t.Errorf("FreezerState = %q, %v", st, err)
	}
}

// TestFakeRootlessAbsent: a rootless manager whose cgroup could not be
// made reports no path, accepts rt's default device rules, and refuses a
// limit, naming the field and why.
func TestFakeRootlessAbsent(t *testing.T) {
	m, _ := fakeCgroup(t)
	m.c.Rootless, m.absent = true, true
	if p := m.Paths(); len(p) != 0 {
		t.Errorf("Paths = %v, want none", p)
	}
	if err := m.Set(&specs.LinuxResources{Devices: []specs.LinuxDeviceCgroup{{Allow: false, Access: "rwm"}}}); err != nil {
		t.Errorf("device rules only: %v", err)
	}
	err := m.Set(&specs.LinuxResources{Pids: &specs.LinuxPids{Limit: i64(10)}})
	if err == nil || !strings.HasPrefix(err.Error(), "linux.resources.pids: rt runs rootless") {
		t.Errorf("pids limit without a cgroup: %v", err)
	}
}
