package integration

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

func ptr[T any](v T) *T { return &v }

// cgFile is one cgroup file of the container: controller "" is the
// cgroup2 (unified) hierarchy.
type cgFile struct{ controller, file string }

func (f cgFile) path(b *bundle) string {
	if f.controller == "" {
		return filepath.Join("/sys/fs/cgroup/unified", ownCgroup(""), b.Spec.Linux.CgroupsPath, f.file)
	}
	return filepath.Join("/sys/fs/cgroup", f.controller, ownCgroup(f.controller), b.Spec.Linux.CgroupsPath, f.file)
}

func readCg(t *testing.T, b *bundle, f cgFile) string {
	t.Helper()
	data, err := os.ReadFile(f.path(b))
	if err != nil {
		t.Fatalf("read cgroup file: %v", err)
	}
	return strings.TrimSpace(string(data))
}

// cgCheck is an expected cgroup file content: exact, or a line it must contain.
type cgCheck struct {
	cgFile
	want     string
	contains bool
}

func checkCgroupFiles(t *testing.T, b *bundle, checks []cgCheck) {
	t.Helper()
	for _, c := range checks {
		got := readCg(t, b, c.cgFile)
		ok := got == c.want
		if c.contains {
			ok = false
			for _, l := range strings.Split(got, "\n") {
				if strings.TrimSpace(l) == c.want {
					ok = true
				}
			}
		}
		if !ok {
			t.Errorf("%s/%s = %q, want %q", c.controller, c.file, got, c.want)
		}
	}
}

// allCgroupDirs adds what cgroupDirs leaves out: cpuacct and the cgroup2
// directory (hugetlb lives there on this host).
func allCgroupDirs(rel string) []string {
	return append(cgroupDirs(rel),
		filepath.Join("/sys/fs/cgroup/cpuacct", ownCgroup("cpuacct"), rel),
		filepath.Join("/sys/fs/cgroup/unified", ownCgroup(""), rel))
}

func assertCgroupsGone(t *testing.T, b *bundle) {
	t.Helper()
	for _, d := range allCgroupDirs(b.Spec.Linux.CgroupsPath) {
		if _, err := os.Stat(d); err == nil {
			t.Errorf("cgroup %s left behind", d)
		}
	}
}

// blockDevice returns a real (non-loop, non-zram) block device's major and
// minor, or skips the test.
func blockDevice(t *testing.T) (string, int64, int64) {
	entries, _ := os.ReadDir("/sys/block")
	for _, e := range entries {
		name := e.Name()
		if strings.HasPrefix(name, "loop") || strings.HasPrefix(name, "zram") || strings.HasPrefix(name, "ram") {
			continue
		}
		data, err := os.ReadFile(filepath.Join("/sys/block", name, "dev"))
		if err != nil {
			continue
		}
		var maj, min int64
		if _, err := fmt.Sscanf(strings.TrimSpace(string(data)), "%d:%d", &maj, &min); err == nil {
			return name, maj, min
		}
	}
	t.Skip("no real block device in /sys/block for blkio throttling")
	return "", 0, 0
}

func hostHasHugepages(size string) bool {
	_, err := os.Stat("/sys/kernel/mm/hugepages/hugepages-" + size)
	return err == nil
}

// savedResources reads linux.resources back from the container's state.json.
func savedResources(t *testing.T, b *bundle) *specs.LinuxResources {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(b.Root, b.ID, "state.json"))
	if err != nil {
		t.Fatal(err)
	}
	var st struct {
		Config specs.Spec `json:"config"`
	}
	if err := json.Unmarshal(data, &st); err != nil {
		t.Fatal(err)
	}
	if st.Config.Linux == nil || st.Config.Linux.Resources == nil {
		t.Fatal("state.json has no linux.resources")
	}
	return st.Config.Linux.Resources
}

// TestCgroupResourcesAndUpdate sets every resource this host supports
// through config.json, reads the cgroup files back, then changes them with
// `rt update` (flags, and JSON from stdin) and reads them again.
func TestCgroupResourcesAndUpdate(t *testing.T) {
	_, maj, min := blockDevice(t)
	dev := fmt.Sprintf("%d:%d", maj, min)
	b := newBundle(t, "sleep", "1000")
	r := b.Spec.Linux.Resources
	r.Memory = &specs.LinuxMemory{
		Limit: ptr(int64(64 << 20)), Reservation: ptr(int64(32 << 20)), Swap: ptr(int64(96 << 20)),
		Swappiness: ptr(uint64(10)), DisableOOMKiller: ptr(true),
	}
	r.CPU = &specs.LinuxCPU{
		Shares: ptr(uint64(512)), Quota: ptr(int64(50000)), Period: ptr(uint64(100000)),
		Burst: ptr(uint64(10000)), Cpus: "0", Mems: "0", Idle: ptr(int64(0)),
	}
	r.Pids = &specs.LinuxPids{Limit: ptr(int64(100))}
	r.BlockIO = &specs.LinuxBlockIO{
		Weight: ptr(uint16(300)),
		// Listed twice, as runc's update.bats does: an update replaces both.
		ThrottleReadBpsDevice: []specs.LinuxThrottleDevice{
			{LinuxBlockIODevice: specs.LinuxBlockIODevice{Major: maj, Minor: min}, Rate: 1 << 20},
			{LinuxBlockIODevice: specs.LinuxBlockIODevice{Major: maj, Minor: min}, Rate: 1 << 20},
		},
		ThrottleWriteIOPSDevice: []specs.LinuxThrottleDevice{{LinuxBlockIODevice: specs.LinuxBlockIODevice{Major: maj, Minor: min}, Rate: 500}},
	}
	hugetlb := hostHasHugepages("2048kB")
	if hugetlb {
		r.HugepageLimits = []specs.LinuxHugepageLimit{{Pagesize: "2MB", Limit: 4 << 20}}
	} else {
		t.Log("no 2 MiB huge pages on this host: hugepageLimits not tested")
	}
	b.create()
	b.mustRT("start", b.ID)

	checks := []cgCheck{
		{cgFile{"memory", "memory.limit_in_bytes"}, strconv.Itoa(64 << 20), false},
		{cgFile{"memory", "memory.soft_limit_in_bytes"}, strconv.Itoa(32 << 20), false},
		{cgFile{"memory", "memory.memsw.limit_in_bytes"}, strconv.Itoa(96 << 20), false},
		{cgFile{"memory", "memory.swappiness"}, "10", false},
		{cgFile{"memory", "memory.oom_control"}, "oom_kill_disable 1", true},
		{cgFile{"cpu", "cpu.shares"}, "512", false},
		{cgFile{"cpu", "cpu.cfs_quota_us"}, "50000", false},
		{cgFile{"cpu", "cpu.cfs_period_us"}, "100000", false},
		{cgFile{"cpu", "cpu.cfs_burst_us"}, "10000", false},
		{cgFile{"cpu", "cpu.idle"}, "0", false},
		{cgFile{"cpuset", "cpuset.cpus"}, "0", false},
		{cgFile{"cpuset", "cpuset.mems"}, "0", false},
		{cgFile{"pids", "pids.max"}, "100", false},
		{cgFile{"blkio", "blkio.bfq.weight"}, "300", false},
		{cgFile{"blkio", "blkio.throttle.read_bps_device"}, dev + " 1048576", true},
		{cgFile{"blkio", "blkio.throttle.write_iops_device"}, dev + " 500", true},
	}
	if hugetlb {
		checks = append(checks, cgCheck{cgFile{"", "hugetlb.2MB.max"}, strconv.Itoa(4 << 20), false})
	}
	checkCgroupFiles(t, b, checks)
	pid := b.pid()
	if got := readCg(t, b, cgFile{"memory", "cgroup.procs"}); !strings.Contains("\n"+got+"\n", fmt.Sprintf("\n%d\n", pid)) {
		t.Errorf("init %d is not in the memory cgroup: %q", pid, got)
	}

	// Individual flags; units as docker and runc accept them.
	b.mustRT("update", "--memory", "128m", "--memory-swap", "256M", "--memory-reservation", "48m",
		"--cpu-share", "256", "--cpu-quota", "20000", "--cpu-period", "50000", "--cpu-burst", "5000",
		"--cpuset-cpus", "0", "--pids-limit", "50", "--blkio-weight", "700", b.ID)
	checkCgroupFiles(t, b, []cgCheck{
		{cgFile{"memory", "memory.limit_in_bytes"}, strconv.Itoa(128 << 20), false},
		{cgFile{"memory", "memory.memsw.limit_in_bytes"}, strconv.Itoa(256 << 20), false},
		{cgFile{"memory", "memory.soft_limit_in_bytes"}, strconv.Itoa(48 << 20), false},
		{cgFile{"memory", "memory.swappiness"}, "10", false}, // untouched
		{cgFile{"cpu", "cpu.shares"}, "256", false},
		{cgFile{"cpu", "cpu.cfs_quota_us"}, "20000", false},
		{cgFile{"cpu", "cpu.cfs_period_us"}, "50000", false},
		{cgFile{"cpu", "cpu.cfs_burst_us"}, "5000", false},
		{cgFile{"pids", "pids.max"}, "50", false},
		{cgFile{"blkio", "blkio.bfq.weight"}, "700", false},
	})

	// JSON on stdin, merged with what the flags set before.
	upd := `{"memory":{"limit":201326592,"swap":268435456},"cpu":{"shares":1024},"pids":{"limit":-1},` +
		`"blockIO":{"throttleReadBpsDevice":[{"major":` + strconv.FormatInt(maj, 10) + `,"minor":` + strconv.FormatInt(min, 10) + `,"rate":2097152}]}`
	if hugetlb {
		upd += `,"hugepageLimits":[{"pageSize":"2MB","limit":8388608}]`
	}
	upd += `}`
	if res := runRT(b.Root, []byte(upd), "update", "--resources", "-", b.ID); res.Code != 0 {
		t.Fatalf("update --resources -: %s", res)
	}
	checks = []cgCheck{
		{cgFile{"memory", "memory.limit_in_bytes"}, strconv.Itoa(192 << 20), false},
		{cgFile{"memory", "memory.soft_limit_in_bytes"}, strconv.Itoa(48 << 20), false},
		{cgFile{"cpu", "cpu.shares"}, "1024", false},
		{cgFile{"cpu", "cpu.cfs_quota_us"}, "20000", false},
		{cgFile{"pids", "pids.max"}, "max", false},
		{cgFile{"blkio", "blkio.throttle.read_bps_device"}, dev + " 2097152", true},
		{cgFile{"blkio", "blkio.throttle.write_iops_device"}, dev + " 500", true},
	}
	if hugetlb {
		checks = append(checks, cgCheck{cgFile{"", "hugetlb.2MB.max"}, strconv.Itoa(8 << 20), false})
	}
	checkCgroupFiles(t, b, checks)

	// The merged resources are in state.json for the next update and for delete.
	saved := savedResources(t, b)
	if got := *saved.Memory.Limit; got != 192<<20 {
		t.Errorf("state.json memory.limit = %d", got)
	}
	if got := *saved.Memory.Reservation; got != 48<<20 {
		t.Errorf("state.json memory.reservation = %d", got)
	}
	if got := *saved.CPU.Quota; got != 20000 {
		t.Errorf("state.json cpu.quota = %d", got)
	}
	if got := *saved.BlockIO.Weight; got != 700 {
		t.Errorf("state.json blockIO.weight = %d", got)
	}
	if len(saved.Devices) == 0 {
		t.Errorf("state.json lost the device rules")
	}

	// cpu.idle last: an idle group refuses cpu.shares.
	b.mustRT("update", "--cpu-idle", "1", b.ID)
	checkCgroupFiles(t, b, []cgCheck{{cgFile{"cpu", "cpu.idle"}, "1", false}})

	// Obsolete kernel memory flags are accepted with a warning, as in runc 1.1.
	if res := b.mustRT("update", "--kernel-memory", "10m", b.ID); !strings.Contains(res.Stderr, "kernel-memory") {
		t.Errorf("--kernel-memory: no warning: %s", res)
	}
	b.remove()
	assertCgroupsGone(t, b)
}

// TestZeroMeansUnset runs what Docker sends: zeros for every limit it does
// not set at create (blockIO.weight always) and for every limit it does not
// change on update. Like runc, rt leaves those alone; the kernel refuses a
// blkio weight of 0, and a memory limit of 0 would apply a limit nobody
// asked for.
func TestZeroMeansUnset(t *testing.T) {
	b := newBundle(t, "sleep", "1000")
	r := b.Spec.Linux.Resources
	r.Memory = &specs.LinuxMemory{Limit: ptr(int64(0)), Reservation: ptr(int64(0)), Swap: ptr(int64(0)),
		Kernel: ptr(int64(0)), KernelTCP: ptr(int64(0)), DisableOOMKiller: ptr(false)}
	r.CPU = &specs.LinuxCPU{Shares: ptr(uint64(0)), Quota: ptr(int64(0)), Period: ptr(uint64(0)),
		RealtimeRuntime: ptr(int64(0)), RealtimePeriod: ptr(uint64(0))}
	r.BlockIO = &specs.LinuxBlockIO{Weight: ptr(uint16(0)), LeafWeight: ptr(uint16(0))}
	// net_cls is not mounted on every host: a classID of 0 must not need it.
	r.Network = &specs.LinuxNetwork{ClassID: ptr(uint32(0))}
	b.create()
	b.mustRT("start", b.ID)
	unlimited := readCg(t, b, cgFile{"memory", "memory.limit_in_bytes"})
	checkCgroupFiles(t, b, []cgCheck{
		{cgFile{"memory", "memory.soft_limit_in_bytes"}, unlimited, false},
		{cgFile{"memory", "memory.oom_control"}, "oom_kill_disable 0", true},
		{cgFile{"cpu", "cpu.shares"}, "1024", false},
		{cgFile{"cpu", "cpu.cfs_quota_us"}, "-1", false},
		{cgFile{"cpu", "cpu.cfs_period_us"}, "100000", false},
		{cgFile{"blkio", "blkio.bfq.weight"}, "100", false},
	})
	if unlimited == "0" {
		t.Fatalf("memory.limit_in_bytes is 0")
	}

	b.mustRT("update", "--memory", "64m", "--memory-reservation", "32m", "--cpu-share", "512",
		"--cpu-quota", "50000", "--blkio-weight", "300", b.ID)
	// docker update --pids-limit 10, as containerd hands it to the runtime.
	upd := `{"memory":{"limit":0,"reservation":0,"kernel":0},"cpu":{"shares":0,"quota":0,"period":0,"cpus":"","mems":""},` +
		`"blockIO":{"weight":0},"pids":{"limit":10}}`
	if res := runRT(b.Root, []byte(upd), "update", "--resources", "-", b.ID); res.Code != 0 {
		t.Fatalf("update --resources - with zeros: %s", res)
	}
	b.mustRT("update", "--blkio-weight", "0", "--memory", "0", "--cpu-share", "0", b.ID)
	checkCgroupFiles(t, b, []cgCheck{
		{cgFile{"memory", "memory.limit_in_bytes"}, strconv.Itoa(64 << 20), false},
		{cgFile{"memory", "memory.soft_limit_in_bytes"}, strconv.Itoa(32 << 20), false},
		{cgFile{"cpu", "cpu.shares"}, "512", false},
		{cgFile{"cpu", "cpu.cfs_quota_us"}, "50000", false},
		{cgFile{"blkio", "blkio.bfq.weight"}, "300", false},
		{cgFile{"pids", "pids.max"}, "10", false},
	})
	saved := savedResources(t, b)
	if got := *saved.Memory.Limit; got != 64<<20 {
		t.Errorf("state.json memory.limit = %d, want the value before the zeros", got)
	}
	if got := *saved.BlockIO.Weight; got != 300 {
		t.Errorf("state.json blockIO.weight = %d, want the value before the zeros", got)
	}
	b.remove()
	assertCgroupsGone(t, b)
}

// TestUpdateErrors checks that bad requests name the flag or field and
// change nothing.
func TestUpdateErrors(t *testing.T) {
	b := newBundle(t, "sleep", "1000")
	b.Spec.Linux.Resources.Memory = &specs.LinuxMemory{Limit: ptr(int64(64 << 20))}
	b.create()
	tests := []struct {
		name  string
		args  []string
		stdin string
		want  string
	}{
		{"bad-memory", []string{"--memory", "lots"}, "", "memory"},
		{"bad-quota", []string{"--cpu-quota", "x"}, "", "cpu-quota"},
		{"bad-blkio-weight", []string{"--blkio-weight", "5"}, "", "blkio-weight"},
		{"bad-json", []string{"--resources", "-"}, "{not json", "--resources"},
		{"unknown-json-field", []string{"--resources", "-"}, `{"memroy":{}}`, "memroy"},
		{"missing-file", []string{"--resources", "/nonexistent.json"}, "", "--resources"},
		{"rt-runtime-beyond-parent", []string{"--cpu-rt-runtime", "900000"}, "", "cpu.realtimeRuntime"},
		{"bad-cpuset", []string{"--cpuset-cpus", "999"}, "", "cpu.cpus"},
		{"rdt", []string{"--l3-cache-schema", "L3:0=f"}, "", "l3-cache-schema"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var stdin []byte
			if tc.stdin != "" {
				stdin = []byte(tc.stdin)
			}
			res := runRT(b.Root, stdin, append(append([]string{"update"}, tc.args...), b.ID)...)
			if res.Code == 0 || !strings.Contains(res.Stderr, tc.want) {
				t.Errorf("got %s, want an error naming %q", res, tc.want)
			}
		})
	}
	if got := *savedResources(t, b).Memory.Limit; got != 64<<20 {
		t.Errorf("failed updates changed state.json: memory.limit %d", got)
	}
	if res := b.rt("update", "--memory", "32m", "no-such-container"); res.Code == 0 {
		t.Errorf("update of an unknown container: %s", res)
	}
	b.mustRT("kill", b.ID, "KILL")
	b.waitStatus("stopped")
	if res := b.rt("update", "--memory", "32m", b.ID); res.Code == 0 || !strings.Contains(res.Stderr, "not running") {
		t.Errorf("update of a stopped container: %s", res)
	}
	b.remove()
	assertCgroupsGone(t, b)
}

// TestCgroupDevices: a denied device cannot be opened inside.
func TestCgroupDevices(t *testing.T) {
	b := newBundle(t, "sh", "-c", "head -c1 /dev/zero >/dev/null && echo zero-open || echo zero-denied; head -c1 /dev/urandom >/dev/null && echo urandom-open")
	b.Spec.Linux.Resources.Devices = append(b.Spec.Linux.Resources.Devices,
		specs.LinuxDeviceCgroup{Allow: false, Type: "c", Major: ptr(int64(1)), Minor: ptr(int64(5)), Access: "rwm"})
	res := b.run()
	if res.Code != 0 {
		t.Fatalf("run: %s", res)
	}
	if !strings.Contains(res.Stdout, "zero-denied") || !strings.Contains(res.Stdout, "urandom-open") {
		t.Errorf("output %q: want /dev/zero denied and /dev/urandom allowed", res.Stdout)
	}
	assertNoLeaks(t, b, 0)
	assertCgroupsGone(t, b)
}

// TestCgroupUnsupportedNetwork: net_cls and net_prio are not mounted here,
// so asking for them fails at create with the field named, and nothing is
// left behind.
func TestCgroupUnsupportedNetwork(t *testing.T) {
	for _, c := range []string{"net_cls", "net_prio"} {
		if _, err := os.Stat(filepath.Join("/sys/fs/cgroup", c)); err == nil {
			t.Skipf("%s is mounted on this host", c)
		}
	}
	tests := []struct {
		name  string
		net   specs.LinuxNetwork
		field string
	}{
		{"classID", specs.LinuxNetwork{ClassID: ptr(uint32(0x100001))}, "network.classID"},
		{"priorities", specs.LinuxNetwork{Priorities: []specs.LinuxInterfacePriority{{Name: "lo", Priority: 5}}}, "network.priorities"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			b := newBundle(t, "true")
			b.Spec.Linux.Resources.Network = &tc.net
			b.write()
			res := b.rt("create", "--bundle", b.Dir, b.ID)
			if res.Code == 0 || !strings.Contains(res.Stderr, tc.field) {
				t.Fatalf("create: %s, want an error naming %s", res, tc.field)
			}
			assertNoLeaks(t, b, 0)
			assertCgroupsGone(t, b)
		})
	}
}

// procState is field 3 of /proc/<pid>/stat.
func procState(t *testing.T, pid int) string {
	t.Helper()
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		t.Fatal(err)
	}
	s := string(data)
	return strings.Fields(s[strings.LastIndexByte(s, ')')+1:])[0]
}

func listStatus(t *testing.T, b *bundle) string {
	t.Helper()
	var states []map[string]any
	res := b.mustRT("list", "--format", "json")
	if err := json.Unmarshal([]byte(res.Stdout), &states); err != nil {
		t.Fatalf("list JSON: %v: %s", err, res.Stdout)
	}
	for _, s := range states {
		if s["id"] == b.ID {
			return s["status"].(string)
		}
	}
	return "absent"
}

func TestPauseResume(t *testing.T) {
	b := newBundle(t, "sleep", "1000")
	if res := b.rt("pause", "no-such-container"); res.Code == 0 {
		t.Errorf("pause of an unknown container: %s", res)
	}
	b.create()
	// A created container can be paused and resumed too.
	b.mustRT("pause", b.ID)
	if st := b.status(); st != "paused" {
		t.Errorf("paused created container: status %s", st)
	}
	b.mustRT("resume", b.ID)
	if st := b.status(); st != "created" {
		t.Errorf("resumed created container: status %s", st)
	}
	b.mustRT("start", b.ID)
	pid := b.pid()
	if res := b.rt("resume", b.ID); res.Code == 0 || !strings.Contains(res.Stderr, "container not paused") {
		t.Errorf("resume of a running container: %s", res)
	}
	b.mustRT("pause", b.ID)
	if st := b.status(); st != "paused" {
		t.Errorf("state after pause: %s", st)
	}
	if st := listStatus(t, b); st != "paused" {
		t.Errorf("list after pause: %s", st)
	}
	checkCgroupFiles(t, b, []cgCheck{{cgFile{"freezer", "freezer.state"}, "FROZEN", false}})
	// Frozen tasks sleep uninterruptibly in the freezer.
	if st := procState(t, pid); st != "D" {
		t.Errorf("paused init %d is in state %s, want D", pid, st)
	}
	if res := b.rt("pause", b.ID); res.Code == 0 || !strings.Contains(res.Stderr, "container not running") {
		t.Errorf("pause of a paused container: %s", res)
	}
	b.mustRT("resume", b.ID)
	if st := b.status(); st != "running" {
		t.Errorf("state after resume: %s", st)
	}
	checkCgroupFiles(t, b, []cgCheck{{cgFile{"freezer", "freezer.state"}, "THAWED", false}})
	// Just thawed, the init may still be running (R) on its way back to its sleep.
	st := procState(t, pid)
	for i := 0; i < 100 && st == "R"; i++ {
		time.Sleep(10 * time.Millisecond)
		st = procState(t, pid)
	}
	if st != "S" {
		t.Errorf("resumed init %d is in state %s, want S", pid, st)
	}
	// delete --force kills a paused container.
	b.mustRT("pause", b.ID)
	if res := b.rt("delete", b.ID); res.Code == 0 {
		t.Errorf("delete without --force of a paused container: %s", res)
	}
	b.remove()
	assertCgroupsGone(t, b)
	if res := b.rt("pause", b.ID); res.Code == 0 {
		t.Errorf("pause of a deleted container: %s", res)
	}
}

func TestPauseStopped(t *testing.T) {
	b := newBundle(t, "sleep", "1000")
	b.create()
	b.mustRT("start", b.ID)
	b.mustRT("kill", b.ID, "KILL")
	b.waitStatus("stopped")
	if res := b.rt("pause", b.ID); res.Code == 0 || !strings.Contains(res.Stderr, "container not running") {
		t.Errorf("pause of a stopped container: %s", res)
	}
	if res := b.rt("resume", b.ID); res.Code == 0 || !strings.Contains(res.Stderr, "container not paused") {
		t.Errorf("resume of a stopped container: %s", res)
	}
	b.remove()
}

// childPids returns the pids of the container's processes other than init,
// waiting until there are want of them.
func containerPids(t *testing.T, b *bundle, want int) []int {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		res := b.mustRT("ps", "--format", "json", b.ID)
		var pids []int
		if err := json.Unmarshal([]byte(res.Stdout), &pids); err != nil {
			t.Fatalf("ps --format json: %v: %q", err, res.Stdout)
		}
		if len(pids) >= want || time.Now().After(deadline) {
			return pids
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func TestPs(t *testing.T) {
	b := newBundle(t, "sh", "-c", "sleep 1001 & sleep 1002 & wait")
	b.create()
	b.mustRT("start", b.ID)
	pid := b.pid()
	pids := containerPids(t, b, 3)
	if len(pids) != 3 {
		t.Fatalf("ps json: %v, want init and two sleeps", pids)
	}
	var cmds []string
	for _, p := range pids {
		cmd, _ := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", p))
		cmds = append(cmds, strings.ReplaceAll(strings.TrimRight(string(cmd), "\x00"), "\x00", " "))
	}
	joined := strings.Join(cmds, "|")
	if !strings.Contains(joined, "sleep 1001") || !strings.Contains(joined, "sleep 1002") {
		t.Errorf("ps json pids run %q", joined)
	}
	found := false
	for _, p := range pids {
		found = found || p == pid
	}
	if !found {
		t.Errorf("ps json %v lacks init %d", pids, pid)
	}

	// Table: ps -ef filtered to the container's rows.
	res := b.mustRT("ps", b.ID)
	lines := strings.Split(strings.TrimSpace(res.Stdout), "\n")
	if len(lines) != 4 || !strings.Contains(lines[0], "PID") {
		t.Fatalf("ps table: %q, want a header and 3 rows", res.Stdout)
	}
	for _, l := range lines[1:] {
		if !strings.Contains(l, "sleep") && !strings.Contains(l, "sh -c") {
			t.Errorf("ps row not of the container: %q", l)
		}
	}
	// ps arguments after the id, with or without "--".
	for _, args := range [][]string{{"-o", "pid,comm"}, {"--", "-o", "pid,comm"}} {
		res = b.mustRT(append([]string{"ps", b.ID}, args...)...)
		lines = strings.Split(strings.TrimSpace(res.Stdout), "\n")
		if len(lines) != 4 || strings.Fields(lines[0])[0] != "PID" || !strings.Contains(res.Stdout, strconv.Itoa(pid)) {
			t.Errorf("ps %v: %q", args, res.Stdout)
		}
	}
	if res := b.rt("ps", b.ID, "-o", "comm"); res.Code == 0 {
		t.Errorf("ps without a PID column succeeded: %s", res)
	}
	if res := b.rt("ps", "--format", "yaml", b.ID); res.Code == 0 {
		t.Errorf("ps --format yaml succeeded: %s", res)
	}
	b.remove()
	assertCgroupsGone(t, b)
}

// TestKillAll: without a pid namespace of its own, killing the init leaves
// the other processes; kill --all reaches them through the cgroup.
func TestKillAll(t *testing.T) {
	b := newBundle(t, "sh", "-c", "sleep 1001 & sleep 1002 & wait")
	var ns []specs.LinuxNamespace
	for _, n := range b.Spec.Linux.Namespaces {
		if n.Type != specs.PIDNamespace {
			ns = append(ns, n)
		}
	}
	b.Spec.Linux.Namespaces = ns
	b.Spec.Linux.MaskedPaths = nil // /proc is the host's; keep it simple
	b.create()
	b.mustRT("start", b.ID)
	pids := containerPids(t, b, 3)
	if len(pids) != 3 {
		t.Fatalf("container pids %v, want 3", pids)
	}
	b.mustRT("kill", "--all", b.ID, "KILL")
	deadline := time.Now().Add(10 * time.Second)
	for _, p := range pids {
		for {
			st, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", p))
			if err != nil || strings.Contains(string(st), ") Z ") {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("pid %d survived kill --all", p)
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	b.waitStatus("stopped")
	b.mustRT("delete", b.ID)
	assertNoLeaks(t, b, 0)
	assertCgroupsGone(t, b)
}

type event struct {
	Type string          `json:"type"`
	ID   string          `json:"id"`
	Data json.RawMessage `json:"data"`
}

// onBlockDevice reports whether path is on a filesystem backed by a block
// device (not tmpfs or overlay), whose writes the blkio controller counts.
func onBlockDevice(t *testing.T, path string) bool {
	var st unix.Statfs_t
	if err := unix.Statfs(path, &st); err != nil {
		t.Fatal(err)
	}
	switch st.Type {
	case unix.TMPFS_MAGIC, unix.OVERLAYFS_SUPER_MAGIC, unix.RAMFS_MAGIC:
		return false
	}
	return true
}

func TestEventsStats(t *testing.T) {
	// Burn some CPU and memory before sleeping.
	b := newBundle(t, "sh", "-c", "i=0; while [ $i -lt 20000 ]; do i=$((i+1)); done; dd if=/dev/zero of=/tmp/blob bs=1M count=4 conv=fsync 2>/dev/null; touch /tmp/ready; sleep 1000")
	b.Spec.Linux.Resources.Pids = &specs.LinuxPids{Limit: ptr(int64(64))}
	b.Spec.Root.Readonly = false
	b.create()
	b.mustRT("start", b.ID)
	deadline := time.Now().Add(20 * time.Second)
	for {
		if _, err := os.Stat(filepath.Join(b.Rootfs, "tmp/ready")); err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("container did not get ready")
		}
		time.Sleep(50 * time.Millisecond)
	}
	res := b.mustRT("events", "--stats", b.ID)
	var ev event
	if err := json.Unmarshal([]byte(res.Stdout), &ev); err != nil {
		t.Fatalf("events --stats: %v: %q", err, res.Stdout)
	}
	if ev.Type != "stats" || ev.ID != b.ID {
		t.Errorf("event type %q id %q", ev.Type, ev.ID)
	}
	var data struct {
		CPU struct {
			Usage struct {
				Total  uint64   `json:"total"`
				Percpu []uint64 `json:"percpu"`
			} `json:"usage"`
		} `json:"cpu"`
		Memory struct {
			Usage struct {
				Usage uint64 `json:"usage"`
				Limit uint64 `json:"limit"`
			} `json:"usage"`
		} `json:"memory"`
		Pids struct {
			Current uint64 `json:"current"`
			Limit   uint64 `json:"limit"`
		} `json:"pids"`
		Blkio struct {
			IoServiceBytesRecursive []struct {
				Op    string `json:"op"`
				Value uint64 `json:"value"`
			} `json:"ioServiceBytesRecursive"`
		} `json:"blkio"`
	}
	if err := json.Unmarshal(ev.Data, &data); err != nil {
		t.Fatalf("stats data: %v: %s", err, ev.Data)
	}
	if data.CPU.Usage.Total == 0 || len(data.CPU.Usage.Percpu) == 0 {
		t.Errorf("cpu usage %+v", data.CPU.Usage)
	}
	if data.Memory.Usage.Usage == 0 {
		t.Errorf("memory usage %+v", data.Memory.Usage)
	}
	if data.Pids.Current == 0 || data.Pids.Limit != 64 {
		t.Errorf("pids %+v, want current > 0, limit 64", data.Pids)
	}
	// The 4 MiB written and synced are counted by whichever I/O layer
	// counts on this kernel (the throttle layer where no disk uses bfq).
	if onBlockDevice(t, b.Rootfs) {
		var written uint64
		for _, e := range data.Blkio.IoServiceBytesRecursive {
			if e.Op == "Write" {
				written += e.Value
			}
		}
		if written < 4<<20 {
			t.Errorf("blkio: %d bytes written, want at least 4 MiB: %s", written, ev.Data)
		}
	}
	b.mustRT("kill", b.ID, "KILL")
	b.waitStatus("stopped")
	if res := b.rt("events", "--stats", b.ID); res.Code == 0 || !strings.Contains(res.Stderr, "not running") {
		t.Errorf("events --stats of a stopped container: %s", res)
	}
	b.remove()
	assertCgroupsGone(t, b)
}

// referenceRunc finds a runc 1.5 to compare with: $RT_REFERENCE_RUNC, the
// one tests/scripts cache, or runc in PATH if it is 1.5; "" when none.
func referenceRunc() string {
	for _, c := range []string{os.Getenv("RT_REFERENCE_RUNC"), "/var/cache/rt-tests/runc-1.5.2/runc", "runc"} {
		if c == "" {
			continue
		}
		out, err := exec.Command(c, "--version").Output()
		if err == nil && strings.HasPrefix(string(out), "runc version 1.5") {
			return c
		}
	}
	return ""
}

// statsFields lists the JSON paths of the non-zero values of an event
// ("data.memory.usage.usage"), array indices dropped.
func statsFields(t *testing.T, event string) map[string]bool {
	t.Helper()
	var v any
	if err := json.Unmarshal([]byte(event), &v); err != nil {
		t.Fatalf("%v: %q", err, event)
	}
	out := map[string]bool{}
	var walk func(prefix string, v any)
	walk = func(prefix string, v any) {
		switch x := v.(type) {
		case map[string]any:
			for k, e := range x {
				walk(prefix+"."+k, e)
			}
		case []any:
			for _, e := range x {
				walk(prefix+"[]", e)
			}
		default:
			out[strings.TrimPrefix(prefix, ".")] = true
		}
	}
	walk("", v)
	return out
}

// TestEventsStatsFieldsMatchRunc: on the same workload, rt's events --stats
// fills every field runc 1.5's does, and no other.
func TestEventsStatsFieldsMatchRunc(t *testing.T) {
	runc := referenceRunc()
	if runc == "" {
		t.Skip("no runc 1.5 to compare with (set RT_REFERENCE_RUNC)")
	}
	script := "dd if=/dev/zero of=/tmp/blob bs=1M count=2 conv=fsync 2>/dev/null; cat /tmp/blob > /dev/null; touch /tmp/ready; sleep 1000"
	stats := func(b *bundle, bin string) map[string]bool {
		b.Spec.Root.Readonly = false
		b.write()
		run := func(args ...string) result {
			ctx, cancel := context.WithTimeout(context.Background(), rtTimeout)
			defer cancel()
			return runCmd(exec.CommandContext(ctx, bin, append([]string{"--root", b.Root}, args...)...))
		}
		if r := run("run", "-d", "--bundle", b.Dir, b.ID); r.Code != 0 {
			t.Fatalf("%s run: %s", bin, r)
		}
		defer run("delete", "-f", b.ID)
		deadline := time.Now().Add(20 * time.Second)
		for {
			if _, err := os.Stat(filepath.Join(b.Rootfs, "tmp/ready")); err == nil {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("%s: the container did not get ready", bin)
			}
			time.Sleep(50 * time.Millisecond)
		}
		r := run("events", "--stats", b.ID)
		if r.Code != 0 {
			t.Fatalf("%s events --stats: %s", bin, r)
		}
		return statsFields(t, r.Stdout)
	}
	ours := stats(newBundle(t, "sh", "-c", script), rtBinary)
	rb := newBundle(t, "sh", "-c", script)
	rb.Root = filepath.Join(workDir, "runc-state")
	theirs := stats(rb, runc)
	for f := range theirs {
		if !ours[f] {
			t.Errorf("runc fills %s, rt does not", f)
		}
	}
	runcHugetlb := false
	for f := range theirs {
		runcHugetlb = runcHugetlb || strings.HasPrefix(f, "data.hugetlb.")
	}
	for f := range ours {
		// On a hybrid host hugetlb lives only in the cgroup2 mount, which
		// runc's v1 driver never reads; rt reports it whenever the
		// controller is enabled there (by whoever enabled it), so its
		// fields are a superset, not a difference.
		if !runcHugetlb && strings.HasPrefix(f, "data.hugetlb.") {
			continue
		}
		if !theirs[f] {
			t.Errorf("rt fills %s, runc does not", f)
		}
	}
}

// TestCgroupsBornIn: the init and exec'd processes are born in the
// container's cgroups (no move of a running process), the init joins its
// memory cgroup last, so a container whose limit is smaller than rt's own
// start-up runs, and a new cgroup namespace is rooted at the container's
// cgroups, as with runc.
func TestCgroupsBornIn(t *testing.T) {
	t.Run("1MiB", func(t *testing.T) {
		for i := 0; i < 10; i++ {
			b := newBundle(t, "true")
			b.Spec.Linux.Resources.Memory = &specs.LinuxMemory{Limit: ptr(int64(1 << 20))}
			if r := b.run(); r.Code != 0 {
				t.Fatalf("run %d of /bin/true with a 1 MiB memory limit: %s", i, r)
			}
			assertCgroupsGone(t, b)
		}
	})
	t.Run("created-and-exec", func(t *testing.T) {
		b := newBundle(t, "sleep", "1000")
		b.Spec.Linux.Resources.Memory = &specs.LinuxMemory{Limit: ptr(int64(1 << 20))}
		b.create()
		t.Cleanup(b.remove)
		for _, c := range []string{"memory", "pids", "cpu", "freezer", "devices"} {
			if got, want := procCgroup(t, b.pid(), c), filepath.Join(ownCgroup(c), b.Spec.Linux.CgroupsPath); got != want {
				t.Errorf("created init in %s cgroup %s, want %s", c, got, want)
			}
		}
		b.mustRT("start", b.ID)
		for i := 0; i < 5; i++ {
			r := b.mustRT("exec", b.ID, "cat", "/proc/self/cgroup")
			for _, c := range []string{"memory", "pids"} {
				want := ":" + c + ":" + filepath.Join(ownCgroup(c), b.Spec.Linux.CgroupsPath) + "\n"
				if !strings.Contains(r.Stdout, want) {
					t.Errorf("exec'd process's cgroups:\n%s\nwant %q", r.Stdout, want)
				}
			}
		}
	})
	t.Run("cgroupns", func(t *testing.T) {
		b := newBundle(t, "cat", "/proc/self/cgroup")
		b.Spec.Linux.Namespaces = append(b.Spec.Linux.Namespaces, specs.LinuxNamespace{Type: specs.CgroupNamespace})
		r := b.run()
		if r.Code != 0 {
			t.Fatal(r)
		}
		for _, l := range strings.Split(strings.TrimSpace(r.Stdout), "\n") {
			if !strings.HasSuffix(l, ":/") {
				t.Errorf("in its cgroup namespace the container sees %q, want its cgroups at /", l)
			}
		}
	})
}

// TestCgroupLayoutRecorded: create records how the host mounts cgroups in
// state.json, and the later commands rebuild the container's cgroups from
// it instead of reading the host's mount table; a state without it, as an
// older rt wrote, still serves them all.
func TestCgroupLayoutRecorded(t *testing.T) {
	for _, withLayout := range []bool{true, false} {
		t.Run(fmt.Sprintf("layout-%t", withLayout), func(t *testing.T) {
			b := newBundle(t, "sleep", "1000")
			b.create()
			path := filepath.Join(b.Root, b.ID, "state.json")
			data, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			var st map[string]any
			if err := json.Unmarshal(data, &st); err != nil {
				t.Fatal(err)
			}
			layout, ok := st["cgroup_layout"].(map[string]any)
			if !ok {
				t.Fatalf("state.json has no cgroup_layout: %s", data)
			}
			var statfs unix.Statfs_t
			want := "legacy"
			if err := unix.Statfs("/sys/fs/cgroup", &statfs); err == nil && statfs.Type == unix.CGROUP2_SUPER_MAGIC {
				want = "unified"
			} else if err := unix.Statfs("/sys/fs/cgroup/unified", &statfs); err == nil && statfs.Type == unix.CGROUP2_SUPER_MAGIC {
				want = "hybrid"
			}
			// The tests may run in a namespace that hides cgroup2 (make bench does).
			if mode := layout["mode"]; mode != want && !(want == "hybrid" && mode == "legacy") {
				t.Errorf("cgroup_layout.mode = %v, want %s", mode, want)
			}
			if !withLayout {
				delete(st, "cgroup_layout")
				data, _ = json.Marshal(st)
				if err := os.WriteFile(path, data, 0o600); err != nil {
					t.Fatal(err)
				}
			}
			b.mustRT("start", b.ID)
			b.mustRT("pause", b.ID)
			checkCgroupFiles(t, b, []cgCheck{{cgFile{"freezer", "freezer.state"}, "FROZEN", false}})
			if st := b.status(); st != "paused" {
				t.Errorf("status after pause: %s", st)
			}
			b.mustRT("resume", b.ID)
			b.mustRT("kill", b.ID, "KILL")
			b.mustRT("delete", "--force", b.ID)
			assertCgroupsGone(t, b)
		})
	}
}
