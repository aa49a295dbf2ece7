//go:build kernel

// These tests mount a cgroup2 hierarchy and load device programs for real:
// they need root and run with the kernel tests of the integration suite.

package fs2

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/opencontainers/runtime-spec/specs-go"
	"github.com/rtproject/rt/cgroups/internal/cgfs"
	"github.com/rtproject/rt/cgroups/internal/cgtest"
	"golang.org/x/sys/unix"
)

const helperEnv = "RT_FS2_TEST_IN_NAMESPACE"

// TestKernelRealCgroup2 runs the v2 driver against a real cgroup2 hierarchy: the
// test binary re-executes itself in private mount and cgroup namespaces
// and mounts its own cgroup2 there, so nothing is mounted on the host.
func TestKernelRealCgroup2(t *testing.T) {
	if os.Getenv(helperEnv) == "" {
		cgtest.NeedRoot(t)
		if _, err := exec.LookPath("unshare"); err != nil {
			t.Skip("unshare(1) not installed")
		}
		var st unix.Statfs_t
		if unix.Statfs("/sys/fs/cgroup", &st) == nil && st.Type != unix.CGROUP2_SUPER_MAGIC {
			if h, _ := cgfs.Detect(); h == nil || h.V2.Point == "" {
				t.Skip("kernel has no cgroup2 mounted anywhere")
			}
		}
		cmd := exec.Command("unshare", "--mount", "--cgroup", "--propagation", "private",
			os.Args[0], "-test.run", "^TestKernelRealCgroup2$", "-test.v", "-test.count=1")
		cmd.Env = append(os.Environ(), helperEnv+"=1")
		out, err := cmd.CombinedOutput()
		t.Logf("namespace helper:\n%s", out)
		if err != nil {
			t.Fatalf("namespace helper failed: %v", err)
		}
		if strings.Contains(string(out), "--- SKIP") {
			t.Skip("helper skipped (see log)")
		}
		return
	}

	mnt := t.TempDir()
	if err := unix.Mount("none", mnt, "cgroup2", 0, ""); err != nil {
		t.Skipf("mount cgroup2: %v", err)
	}
	defer unix.Unmount(mnt, unix.MNT_DETACH)
	own, err := cgfs.ParseCgroupFile("/proc/self/cgroup")
	if err != nil {
		t.Fatal(err)
	}
	// In the new cgroup namespace our cgroup is its root: the mount shows it.
	if own[""] != "/" {
		t.Fatalf("own cgroup in the new namespace = %q, want /", own[""])
	}
	base := filepath.Join(mnt, cgtest.Name(t))
	m := New(Config{Mount: mnt, Dir: filepath.Join(base, "c1"), Controllers: []string{}})
	pid, stop := cgtest.StartBusy(t)
	if err := m.Apply(pid); err != nil {
		t.Fatal(err)
	}
	undoRoot := func() {}
	defer func() { stop(); m.Destroy(); os.Remove(base); undoRoot() }()

	pids, err := m.Pids()
	if err != nil || !slices.Contains(pids, pid) {
		t.Fatalf("Pids() = %v, %v; want %d", pids, err, pid)
	}

	t.Run("freeze", func(t *testing.T) {
		if !cgfs.Exists(m.Dir(), "cgroup.freeze") {
			t.Skip("kernel has no cgroup.freeze")
		}
		if err := m.Freeze(); err != nil {
			t.Fatal(err)
		}
		if st, err := m.FreezerState(); err != nil || st != "frozen" {
			t.Fatalf("after Freeze: %q, %v", st, err)
		}
		if err := m.Thaw(); err != nil {
			t.Fatal(err)
		}
		if st, err := m.FreezerState(); err != nil || st != "thawed" {
			t.Fatalf("after Thaw: %q, %v", st, err)
		}
	})

	t.Run("hugetlb", func(t *testing.T) {
		avail, _ := cgfs.Read(mnt, "cgroup.controllers")
		if !slices.Contains(strings.Fields(avail), "hugetlb") {
			t.Skip("no hugetlb controller on cgroup2 here")
		}
		sizes := cgfs.HugePageSizes()
		if len(sizes) == 0 {
			t.Skip("no huge page sizes")
		}
		rootHad, _ := cgfs.Read(mnt, "cgroup.subtree_control")
		if !slices.Contains(strings.Fields(rootHad), "hugetlb") {
			// Enabling at the root is a host-wide change: undo it once
			// the test's cgroups are gone.
			undoRoot = func() {
				if err := cgfs.Write(mnt, "cgroup.subtree_control", "-hugetlb"); err != nil {
					t.Logf("could not disable hugetlb at the root again: %v", err)
				}
			}
		}
		r := &specs.LinuxResources{HugepageLimits: []specs.LinuxHugepageLimit{{Pagesize: sizes[0], Limit: 4 << 30}}}
		if err := m.Set(r); err != nil {
			t.Fatal(err)
		}
		for _, f := range []string{".max", ".rsvd.max"} {
			file := "hugetlb." + sizes[0] + f
			if !cgfs.Exists(m.Dir(), file) {
				continue
			}
			if got, _ := cgfs.Read(m.Dir(), file); got != "4294967296" {
				t.Errorf("%s = %q", file, got)
			}
		}
		s, err := m.Stats()
		if err != nil {
			t.Fatal(err)
		}
		if _, ok := s.Hugetlb[sizes[0]]; !ok {
			t.Errorf("stats lack hugetlb %s: %+v", sizes[0], s.Hugetlb)
		}
	})

	t.Run("stats", func(t *testing.T) {
		var s *cgfs.Stats
		for deadline := time.Now().Add(10 * time.Second); ; {
			if s, err = m.Stats(); err != nil {
				t.Fatal(err)
			}
			if s.CPU.Usage.Total > 0 || time.Now().After(deadline) {
				break
			}
			time.Sleep(50 * time.Millisecond)
		}
		if s.CPU.Usage.Total == 0 {
			t.Errorf("cpu.stat usage stays 0")
		}
	})

	t.Run("unavailable controller", func(t *testing.T) {
		avail, _ := cgfs.Read(mnt, "cgroup.controllers")
		if slices.Contains(strings.Fields(avail), "pids") {
			t.Skip("pids is available here")
		}
		err := m.Set(&specs.LinuxResources{Pids: &specs.LinuxPids{Limit: i64(5)}})
		if err == nil || !strings.HasPrefix(err.Error(), "linux.resources.pids.limit") {
			t.Fatalf("error = %v", err)
		}
	})

	t.Run("devices", func(t *testing.T) { testDeviceFilter(t, mnt) })

	stop()
	if err := m.Destroy(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(m.Dir()); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("%s still exists after Destroy", m.Dir())
	}
	// The parent is not the container's: it stays.
	if err := os.Remove(base); err != nil {
		t.Errorf("parent %s after Destroy: %v", base, err)
	}
}

// testDeviceFilter attaches a filter to a real cgroup, checks what a shell
// in it can open, then replaces the filter and checks again.
func testDeviceFilter(t *testing.T, mnt string) {
	m := New(Config{Mount: mnt, Dir: filepath.Join(mnt, cgtest.Name(t)), Controllers: []string{}})
	if err := m.Apply(0); err != nil {
		t.Fatal(err)
	}
	defer m.Destroy()
	c := func(major, minor int64, access string) specs.LinuxDeviceCgroup {
		return specs.LinuxDeviceCgroup{Allow: true, Type: "c", Major: &major, Minor: &minor, Access: access}
	}
	deny := specs.LinuxDeviceCgroup{Allow: false, Access: "rwm"}
	err := m.Set(&specs.LinuxResources{Devices: []specs.LinuxDeviceCgroup{deny, c(1, 3, "rwm"), c(1, 5, "rwm"), {Allow: false, Type: "c", Major: i64(1), Minor: i64(5), Access: "w"}}})
	if err != nil {
		if errors.Is(err, unix.EPERM) || errors.Is(err, unix.EINVAL) {
			t.Skipf("kernel refuses the device filter: %v", err)
		}
		t.Fatal(err)
	}
	// Each open is tried in a subshell with stderr closed, so a denied
	// device neither stops the script nor needs /dev/null.
	probe := `for p in "null <" "zero <" "zero >" "full <"; do set -- $p; (eval "exec 3$2/dev/$1") 2>&- && echo "$1$2"; done; true`
	run := func() string {
		cmd, out := cgtest.StartCommand(t, m.Dir(), probe)
		cmd.Wait()
		return strings.Join(strings.Fields(out.String()), " ")
	}
	if got := run(); got != "null< zero<" {
		t.Errorf("first filter: shell could open %q, want \"null< zero<\"", got)
	}
	if err := m.Set(&specs.LinuxResources{Devices: []specs.LinuxDeviceCgroup{deny, c(1, 7, "r")}}); err != nil {
		t.Fatal(err)
	}
	if ids, err := DevicePrograms(m.Dir()); err != nil || len(ids) != 1 {
		t.Errorf("after replacing: programs %v, %v; want exactly one", ids, err)
	}
	if got := run(); got != "full<" {
		t.Errorf("second filter: shell could open %q, want \"full<\"", got)
	}
}

func TestKernelDeviceFilterLoads(t *testing.T) {
	cgtest.NeedRoot(t)
	// Only a kernel that loads no device program at all is a reason to skip:
	// any program DeviceFilter assembles must then load.
	fd, err := LoadDeviceFilter(DeviceProgram{mov32Imm(r0, 1), exit()})
	if err != nil {
		t.Skipf("kernel loads no device program: %v", err)
	}
	unix.Close(fd)
	for i, rules := range [][]specs.LinuxDeviceCgroup{
		nil,
		{{Allow: true, Access: "rwm"}},
		{{Allow: false, Access: "rwm"}, {Allow: true, Type: "b", Major: i64(8), Access: "r"}, {Allow: false, Type: "c", Minor: i64(4), Access: "mw"}},
	} {
		insns, err := DeviceFilter(rules)
		if err != nil {
			t.Fatal(err)
		}
		fd, err := LoadDeviceFilter(insns)
		if err != nil {
			t.Errorf("rule set %d: %v", i, err)
			continue
		}
		unix.Close(fd)
	}
	// A program the verifier refuses (r0 unset at exit): the error says why.
	if _, err := LoadDeviceFilter(DeviceProgram{exit()}); err == nil || !strings.Contains(err.Error(), "R0") {
		t.Errorf("refused program: %v, want the verifier's log naming R0", err)
	}
	if _, err := DeviceFilter([]specs.LinuxDeviceCgroup{{Type: "x"}}); err == nil || !strings.Contains(err.Error(), "devices[0].type") {
		t.Errorf("bad type: %v", err)
	}
}
