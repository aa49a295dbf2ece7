//go:build kernel

// These tests make real cgroups below the test's own: they need root and
// run with the kernel tests of the integration suite; fake_test.go runs the
// same code on a fake cgroupfs as any user.

package fs1

import (
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/opencontainers/runtime-spec/specs-go"
	"github.com/rtproject/rt/cgroups/internal/cgfs"
	"github.com/rtproject/rt/cgroups/internal/cgtest"
)

// newReal creates a v1 cgroup "<prefix>/c1" below the test's own cgroups
// with a busy child process in it.
func newReal(t *testing.T) (*Manager, int, func()) {
	t.Helper()
	cgtest.NeedRoot(t)
	h, err := cgfs.Detect()
	if err != nil {
		t.Fatal(err)
	}
	if len(h.V1) == 0 {
		t.Skip("no cgroup v1 hierarchies on this host")
	}
	path := cgtest.Name(t) + "/c1"
	m := New(Paths(h, path), nil, false)
	pid, stop := cgtest.StartBusy(t)
	if err := m.Apply(pid); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		stop()
		m.Destroy()
		// Destroy leaves parents: the test made this one.
		for _, dir := range m.Paths() {
			os.Remove(filepath.Dir(dir))
		}
	})
	// Nested below our own cgroup in every hierarchy.
	for c, dir := range m.Paths() {
		own := h.V1[c].Dir(h.Own[c])
		if !strings.HasPrefix(dir, own+"/"+cgtest.Prefix) {
			t.Fatalf("%s cgroup %s is not below own cgroup %s", c, dir, own)
		}
	}
	return m, pid, stop
}

func read(t *testing.T, dir, file string) string {
	t.Helper()
	s, err := cgfs.Read(dir, file)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestKernelSetReadBack(t *testing.T) {
	m, _, _ := newReal(t)
	p := m.Paths()
	major, minor := rootDisk(t)
	r := &specs.LinuxResources{
		Devices: []specs.LinuxDeviceCgroup{
			{Allow: false, Access: "rwm"},
			{Allow: true, Type: "c", Major: i64(1), Minor: i64(3), Access: "rwm"},
			{Allow: true, Type: "c", Major: i64(1), Minor: i64(5), Access: "r"},
		},
		Memory: &specs.LinuxMemory{
			Limit: i64(64 << 20), Swap: i64(128 << 20), Reservation: i64(32 << 20),
			KernelTCP: i64(16 << 20), Kernel: i64(64 << 20), Swappiness: u64(10),
			DisableOOMKiller: boolp(true), UseHierarchy: boolp(true), CheckBeforeUpdate: boolp(true),
		},
		CPU: &specs.LinuxCPU{
			Shares: u64(512), Quota: i64(50000), Period: u64(100000), Burst: u64(1000),
			RealtimePeriod: u64(900000), RealtimeRuntime: i64(0), Cpus: "0", Mems: "0", Idle: i64(0),
		},
		Pids: &specs.LinuxPids{Limit: i64(32)},
		BlockIO: &specs.LinuxBlockIO{
			ThrottleReadBpsDevice:   []specs.LinuxThrottleDevice{throttle(major, minor, 1<<20)},
			ThrottleWriteBpsDevice:  []specs.LinuxThrottleDevice{throttle(major, minor, 2<<20)},
			ThrottleReadIOPSDevice:  []specs.LinuxThrottleDevice{throttle(major, minor, 100)},
			ThrottleWriteIOPSDevice: []specs.LinuxThrottleDevice{throttle(major, minor, 200)},
		},
	}
	if _, ok := p["blkio"]; ok && (cgfs.Exists(p["blkio"], "blkio.weight") || cgfs.Exists(p["blkio"], "blkio.bfq.weight")) {
		r.BlockIO.Weight = u16(500)
	}
	if err := m.Set(r); err != nil {
		t.Fatal(err)
	}
	checks := []struct{ ctrl, file, want string }{
		{"memory", "memory.limit_in_bytes", "67108864"},
		{"memory", "memory.memsw.limit_in_bytes", "134217728"},
		{"memory", "memory.soft_limit_in_bytes", "33554432"},
		{"memory", "memory.kmem.tcp.limit_in_bytes", "16777216"},
		{"memory", "memory.swappiness", "10"},
		{"memory", "memory.use_hierarchy", "1"},
		{"cpu", "cpu.shares", "512"},
		{"cpu", "cpu.cfs_quota_us", "50000"},
		{"cpu", "cpu.cfs_period_us", "100000"},
		{"cpu", "cpu.cfs_burst_us", "1000"},
		{"cpu", "cpu.rt_period_us", "900000"},
		{"cpu", "cpu.rt_runtime_us", "0"},
		{"cpu", "cpu.idle", "0"},
		{"cpuset", "cpuset.cpus", "0"},
		{"cpuset", "cpuset.mems", "0"},
		{"pids", "pids.max", "32"},
		{"blkio", "blkio.throttle.read_bps_device", major + ":" + minor + " 1048576"},
		{"blkio", "blkio.throttle.write_bps_device", major + ":" + minor + " 2097152"},
		{"blkio", "blkio.throttle.read_iops_device", major + ":" + minor + " 100"},
		{"blkio", "blkio.throttle.write_iops_device", major + ":" + minor + " 200"},
		{"devices", "devices.list", "c 1:3 rwm\nc 1:5 r"},
	}
	if r.BlockIO.Weight != nil {
		f := weightFile(p["blkio"], "blkio.weight", "blkio.bfq.weight")
		checks = append(checks, struct{ ctrl, file, want string }{"blkio", f, "500"})
	}
	for _, c := range checks {
		dir, ok := p[c.ctrl]
		if !ok || !cgfs.Exists(dir, c.file) {
			t.Logf("%s: not on this kernel, not checked", c.file)
			continue
		}
		if got := read(t, dir, c.file); got != c.want {
			t.Errorf("%s = %q, want %q", c.file, got, c.want)
		}
	}
	if got := read(t, p["memory"], "memory.oom_control"); !strings.Contains(got, "oom_kill_disable 1") {
		t.Errorf("memory.oom_control = %q, want oom_kill_disable 1", got)
	}

	// Lower both limits, then raise both: either order only works if
	// Set picks the right one.
	for _, lim := range []struct{ mem, swap int64 }{{16 << 20, 24 << 20}, {256 << 20, 512 << 20}, {-1, -1}} {
		if err := m.Set(&specs.LinuxResources{Memory: &specs.LinuxMemory{Limit: i64(lim.mem), Swap: i64(lim.swap)}}); err != nil {
			t.Fatalf("memory %d swap %d: %v", lim.mem, lim.swap, err)
		}
		if lim.mem > 0 {
			if got := read(t, p["memory"], "memory.limit_in_bytes"); got != itoa(lim.mem) {
				t.Errorf("memory.limit_in_bytes = %s, want %d", got, lim.mem)
			}
		}
	}
}

func TestKernelUnsupportedFieldsAreNamed(t *testing.T) {
	m, _, _ := newReal(t)
	p := m.Paths()
	major, minor := rootDisk(t)
	cases := []struct {
		name  string
		r     *specs.LinuxResources
		field string
		skip  bool
	}{
		{"hugetlb", &specs.LinuxResources{HugepageLimits: []specs.LinuxHugepageLimit{{Pagesize: "2MB", Limit: 1 << 21}}}, "linux.resources.hugepageLimits", p["hugetlb"] != ""},
		{"classID", &specs.LinuxResources{Network: &specs.LinuxNetwork{ClassID: u32(7)}}, "linux.resources.network.classID", p["net_cls"] != ""},
		{"priorities", &specs.LinuxResources{Network: &specs.LinuxNetwork{Priorities: []specs.LinuxInterfacePriority{{Name: "lo", Priority: 1}}}}, "linux.resources.network.priorities", p["net_prio"] != ""},
		{"rdma", &specs.LinuxResources{Rdma: map[string]specs.LinuxRdma{"mlx": {HcaHandles: u32(1)}}}, "linux.resources.rdma", p["rdma"] != ""},
		{"leafWeight", &specs.LinuxResources{BlockIO: &specs.LinuxBlockIO{LeafWeight: u16(100)}}, "linux.resources.blockIO.leafWeight", cgfs.Exists(p["blkio"], "blkio.leaf_weight")},
		{"weightDevice", &specs.LinuxResources{BlockIO: &specs.LinuxBlockIO{WeightDevice: []specs.LinuxWeightDevice{{LinuxBlockIODevice: specs.LinuxBlockIODevice{Major: atoi(major), Minor: atoi(minor)}, Weight: u16(200)}}}}, "linux.resources.blockIO.weightDevice[0].weight", cgfs.Exists(p["blkio"], "blkio.weight_device")},
		{"useHierarchy", &specs.LinuxResources{Memory: &specs.LinuxMemory{UseHierarchy: boolp(false)}}, "linux.resources.memory.useHierarchy", false},
		{"swappiness", &specs.LinuxResources{Memory: &specs.LinuxMemory{Swappiness: u64(101)}}, "linux.resources.memory.swappiness", false},
		{"shares", &specs.LinuxResources{CPU: &specs.LinuxCPU{Shares: u64(1)}}, "linux.resources.cpu.shares", false},
		{"hugepage-unset", &specs.LinuxResources{Pids: &specs.LinuxPids{Limit: i64(0)}}, "", false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if tc.skip {
				t.Skip("this host has the controller")
			}
			err := m.Set(tc.r)
			if tc.field == "" {
				if err != nil {
					t.Fatalf("unexpected error: %v", err)
				}
				return
			}
			if err == nil || !strings.HasPrefix(err.Error(), tc.field) {
				t.Fatalf("error = %v, want one starting with %s", err, tc.field)
			}
		})
	}
}

func TestKernelProcessLifecycle(t *testing.T) {
	m, pid, stop := newReal(t)
	pids, err := m.Pids()
	if err != nil || !slices.Contains(pids, pid) {
		t.Fatalf("Pids() = %v, %v; want %d in it", pids, err, pid)
	}
	if err := m.Freeze(); err != nil {
		t.Fatal(err)
	}
	if st, err := m.FreezerState(); err != nil || st != "frozen" {
		t.Fatalf("FreezerState after Freeze = %q, %v", st, err)
	}
	if state := procState(t, pid); state != "D" && state != "S" {
		t.Logf("frozen task state %s", state)
	}
	if err := m.Thaw(); err != nil {
		t.Fatal(err)
	}
	if st, err := m.FreezerState(); err != nil || st != "thawed" {
		t.Fatalf("FreezerState after Thaw = %q, %v", st, err)
	}
	oom, err := m.OOMNotify()
	if err != nil {
		t.Fatal(err)
	}

	// Wait for the child to have spent CPU and memory in the cgroup.
	var s *cgfs.Stats
	for deadline := time.Now().Add(10 * time.Second); ; {
		if s, err = m.Stats(); err != nil {
			t.Fatal(err)
		}
		if s.CPU.Usage.Total > 0 && s.Memory.Usage.Usage > 0 || time.Now().After(deadline) {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	if s.CPU.Usage.Total == 0 || len(s.CPU.Usage.Percpu) == 0 {
		t.Errorf("cpu usage = %+v, want non-zero", s.CPU.Usage)
	}
	if s.Memory.Usage.Usage == 0 || s.Memory.Usage.Limit == 0 || len(s.Memory.Raw) == 0 {
		t.Errorf("memory = %+v, want usage, limit and raw counters", s.Memory.Usage)
	}
	if s.Pids.Current == 0 {
		t.Errorf("pids.current = 0")
	}
	if len(s.CPUSet.CPUs) == 0 {
		t.Errorf("cpuset cpus empty")
	}

	stop()
	dirs := m.Paths()
	if err := m.Destroy(); err != nil {
		t.Fatal(err)
	}
	for c, dir := range dirs {
		if _, err := os.Stat(dir); !os.IsNotExist(err) {
			t.Errorf("%s: %s still exists after Destroy", c, dir)
		}
		// Parents are never the container's to remove.
		if _, err := os.Stat(filepath.Dir(dir)); err != nil {
			t.Errorf("%s: parent of %s removed by Destroy: %v", c, dir, err)
		}
	}
	// Removing the memory cgroup closes the OOM channel.
	select {
	case _, open := <-oom:
		if open {
			t.Errorf("OOM reported without an OOM")
		}
	case <-time.After(5 * time.Second):
		t.Errorf("OOM channel not closed after the cgroup was removed")
	}
}

// TestOOMNotify runs a memory hog in a small cgroup and waits for the event.
func TestKernelOOMNotify(t *testing.T) {
	m, _, stop := newReal(t)
	stop()
	if err := m.Set(&specs.LinuxResources{Memory: &specs.LinuxMemory{Limit: i64(8 << 20), Swap: i64(8 << 20)}}); err != nil {
		t.Fatal(err)
	}
	ch, err := m.OOMNotify()
	if err != nil {
		t.Fatal(err)
	}
	cgtest.StartCommand(t, m.Paths()["memory"], `x=$(head -c 67108864 /dev/zero | tr '\0' a); echo ${#x}`)
	select {
	case <-ch:
	case <-time.After(20 * time.Second):
		t.Fatal("no OOM event")
	}
}

func procState(t *testing.T, pid int) string {
	b, err := os.ReadFile("/proc/" + itoa(int64(pid)) + "/stat")
	if err != nil {
		t.Fatal(err)
	}
	f := strings.Fields(string(b[strings.LastIndexByte(string(b), ')')+1:]))
	return f[0]
}

// rootDisk finds a whole block device to throttle.
func rootDisk(t *testing.T) (string, string) {
	entries, _ := os.ReadDir("/sys/block")
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), "loop") || strings.HasPrefix(e.Name(), "ram") {
			continue
		}
		b, err := os.ReadFile("/sys/block/" + e.Name() + "/dev")
		if err != nil {
			continue
		}
		major, minor, _ := strings.Cut(strings.TrimSpace(string(b)), ":")
		return major, minor
	}
	t.Skip("no block device to throttle")
	return "", ""
}

func u32(v uint32) *uint32 { return &v }

func itoa(v int64) string { return strconv.FormatInt(v, 10) }

// TestKernelOwnership: Apply makes the cgroup in every hierarchy, the named ones
// included; Destroy removes only what the container made, never a parent;
// Joinable refuses an occupied or frozen cgroup, and one below a frozen
// parent; an empty v1 cpuset level on the way gets its parent's cpus.
func TestKernelOwnership(t *testing.T) {
	cgtest.NeedRoot(t)
	h, err := cgfs.Detect()
	if err != nil {
		t.Fatal(err)
	}
	if len(h.V1) == 0 {
		t.Skip("no cgroup v1 hierarchies on this host")
	}
	parent := cgtest.Name(t)
	pp := Paths(h, parent)
	t.Cleanup(func() {
		for _, d := range pp {
			os.WriteFile(filepath.Join(d, "freezer.state"), []byte("THAWED"), 0)
			os.Remove(d)
		}
	})
	for _, d := range pp {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	paths := Paths(h, parent+"/c")
	for k := range h.V1 {
		if _, ok := paths[k]; !ok && strings.HasPrefix(k, "name=") {
			t.Errorf("no cgroup in the named hierarchy %s", k)
		}
	}
	// A leaf that exists already (an engine made it) is joined and kept.
	joined := "pids"
	if err := os.Mkdir(paths[joined], 0o755); err != nil {
		t.Fatal(err)
	}
	m := New(paths, []string{joined}, false)
	if got := m.Existing(); !slices.Equal(got, []string{joined}) {
		t.Errorf("Existing() = %v", got)
	}
	if cs, ok := pp["cpuset"]; ok {
		if cpus := read(t, cs, "cpuset.cpus"); cpus != "" {
			t.Logf("a new cpuset has cpus here (%q): clone_children is set", cpus)
		}
	}
	if err := m.Joinable(); err != nil {
		t.Fatalf("Joinable: %v", err)
	}
	pid, stop := cgtest.StartBusy(t)
	defer stop()
	if err := m.Apply(pid); err != nil {
		t.Fatalf("Apply below an empty cpuset parent: %v", err)
	}
	if cs, ok := pp["cpuset"]; ok && read(t, cs, "cpuset.cpus") == "" {
		t.Errorf("the empty cpuset parent was not filled")
	}
	// A second container in the same cgroup is refused.
	if err := New(paths, keys(paths), false).Joinable(); err == nil || !strings.Contains(err.Error(), "container's cgroup is not empty") {
		t.Errorf("Joinable of an occupied cgroup: %v", err)
	}
	stop()
	for deadline := time.Now().Add(5 * time.Second); ; {
		if pids, _ := m.Pids(); len(pids) == 0 || time.Now().After(deadline) {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	if err := m.Destroy(); err != nil {
		t.Fatal(err)
	}
	for k, d := range paths {
		_, err := os.Stat(d)
		if (err == nil) != (k == joined) {
			t.Errorf("%s: after Destroy, %s exists: %v (only the joined %s must)", k, d, err == nil, joined)
		}
		if _, err := os.Stat(filepath.Dir(d)); err != nil {
			t.Errorf("%s: the parent went with Destroy: %v", k, err)
		}
	}
	os.Remove(paths[joined])
	// Frozen: the cgroup itself, or the parent of one not made yet.
	if fz, ok := pp["freezer"]; ok {
		if err := os.WriteFile(filepath.Join(fz, "freezer.state"), []byte("FROZEN"), 0); err != nil {
			t.Fatal(err)
		}
		if err := New(paths, nil, false).Joinable(); err == nil || !strings.Contains(err.Error(), "container's cgroup unexpectedly frozen") {
			t.Errorf("Joinable below a frozen parent: %v", err)
		}
		os.WriteFile(filepath.Join(fz, "freezer.state"), []byte("THAWED"), 0)
	}
}

func keys(m map[string]string) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}
