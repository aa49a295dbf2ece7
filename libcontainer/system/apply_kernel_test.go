//go:build kernel

// These tests apply the attributes for real, each in a child process
// (childtest): they need root and run with the kernel tests of the
// integration suite.

package system

import (
	"bufio"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"

	"github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"

	"github.com/rtproject/rt/internal/childtest"
)

func init() {
	for name, f := range map[string]func() error{
		"user":             setupUserScenario,
		"setgroups-denied": setgroupsDeniedScenario,
		"setgroups-inner":  setgroupsInnerScenario,
		"rlimits":          rlimitsScenario,
		"rlimit-raise":     rlimitRaiseScenario,
		"oom":              oomScenario,
		"oom-lower":        oomLowerScenario,
		"nnp":              nnpScenario,
		"sched-batch":      schedScenario(specs.SchedBatch, 10),
		"sched-idle":       schedScenario(specs.SchedIdle, 0),
		"ioprio":           ioprioScenario,
		"personality":      personalityScenario,
		"affinity":         affinityScenario,
	} {
		childtest.Register(name, f)
	}
}

func TestMain(m *testing.M) { childtest.TestMain(m) }

// statusField returns a field of /proc/thread-self/status.
func statusField(name string) (string, error) {
	f, err := os.Open("/proc/thread-self/status")
	if err != nil {
		return "", err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), name+":"); ok {
			return strings.TrimSpace(v), nil
		}
	}
	return "", fmt.Errorf("no %s in /proc/thread-self/status", name)
}

// dropEffective removes capability c from the calling thread's effective
// set, to act as init does on a machine without it.
func dropEffective(c uint) error {
	hdr := unix.CapUserHeader{Version: unix.LINUX_CAPABILITY_VERSION_3}
	var data [2]unix.CapUserData
	if err := unix.Capget(&hdr, &data[0]); err != nil {
		return err
	}
	data[c/32].Effective &^= 1 << (c % 32)
	return unix.Capset(&hdr, &data[0])
}

const capSysResource = 24

func TestKernelSetupUser(t *testing.T) {
	out := childtest.Run(t, "user")
	want := "resuid=1000,1000,1000 resgid=1000,1000,1000 groups=[10 20] umask=027\n" +
		"CapPrm kept: true\nCapEff: 0000000000000000\n"
	if out != want {
		t.Errorf("got\n%s\nwant\n%s", out, want)
	}
}

func setupUserScenario() error {
	before, err := statusField("CapPrm")
	if err != nil {
		return err
	}
	if err := SetupUser(specs.User{UID: 1000, GID: 1000, AdditionalGids: []uint32{10, 20}, Umask: u32(0o027)}); err != nil {
		return err
	}
	ruid, euid, suid := unix.Getresuid()
	rgid, egid, sgid := unix.Getresgid()
	groups, err := unix.Getgroups()
	if err != nil {
		return err
	}
	umask := unix.Umask(0)
	fmt.Printf("resuid=%d,%d,%d resgid=%d,%d,%d groups=%v umask=%03o\n", ruid, euid, suid, rgid, egid, sgid, groups, umask)
	after, err := statusField("CapPrm")
	if err != nil {
		return err
	}
	eff, err := statusField("CapEff")
	if err != nil {
		return err
	}
	fmt.Printf("CapPrm kept: %v\nCapEff: %s\n", before == after && after != "0000000000000000", eff)
	return nil
}

func TestKernelSetupUserSetgroupsDenied(t *testing.T) {
	out := childtest.Run(t, "setgroups-denied")
	want := "with groups: process.user.additionalGids: cannot be set: setgroups is denied in this user namespace (/proc/self/setgroups is \"deny\")\n" +
		"without groups: uid=0 gid=0\n"
	if out != want {
		t.Errorf("got\n%s\nwant\n%s", out, want)
	}
}

// setgroupsDeniedScenario starts setgroups-inner in a user namespace that
// maps only root and denies setgroups, as unprivileged container managers
// set up. (A Go process cannot unshare its user namespace: it has threads.)
func setgroupsDeniedScenario() error {
	cmd := childtest.Command("setgroups-inner")
	cmd.Stdout, cmd.Stderr = os.Stdout, os.Stderr
	cmd.SysProcAttr = &syscall.SysProcAttr{
		Cloneflags:                 syscall.CLONE_NEWUSER,
		UidMappings:                []syscall.SysProcIDMap{{ContainerID: 0, HostID: os.Getuid(), Size: 1}},
		GidMappings:                []syscall.SysProcIDMap{{ContainerID: 0, HostID: os.Getgid(), Size: 1}},
		GidMappingsEnableSetgroups: false,
	}
	return cmd.Run()
}

func setgroupsInnerScenario() error {
	err := SetupUser(specs.User{AdditionalGids: []uint32{10}})
	fmt.Printf("with groups: %v\n", err)
	if err := SetupUser(specs.User{}); err != nil {
		return err
	}
	fmt.Printf("without groups: uid=%d gid=%d\n", unix.Getuid(), unix.Getgid())
	return nil
}

func TestKernelSetRlimits(t *testing.T) {
	// The program exec'd after SetRlimits sees the limits: Go must not
	// put back the RLIMIT_NOFILE it raised at start-up.
	out := childtest.Run(t, "rlimits")
	if want := "512 1024\n"; out != want {
		t.Errorf("limits after exec = %q, want %q", out, want)
	}
}

func rlimitsScenario() error {
	if err := SetRlimits(0, []specs.POSIXRlimit{{Type: "RLIMIT_NOFILE", Soft: 512, Hard: 1024}}); err != nil {
		return err
	}
	return unix.Exec("/bin/sh", []string{"sh", "-c", `echo "$(ulimit -Sn) $(ulimit -Hn)"`}, os.Environ())
}

func TestKernelSetRlimitsRaiseHard(t *testing.T) {
	out := childtest.Run(t, "rlimit-raise")
	want := "process.rlimits[1]: set RLIMIT_NOFILE to soft 100 hard 2048: raising the hard limit above the current 1024 needs CAP_SYS_RESOURCE, which the runtime lacks: operation not permitted\n"
	if out != want {
		t.Errorf("got  %q\nwant %q", out, want)
	}
}

func rlimitRaiseScenario() error {
	if err := unix.Prlimit(0, unix.RLIMIT_NOFILE, &unix.Rlimit{Cur: 1024, Max: 1024}, nil); err != nil {
		return err
	}
	if err := dropEffective(capSysResource); err != nil {
		return err
	}
	err := SetRlimits(0, []specs.POSIXRlimit{
		{Type: "RLIMIT_CORE", Soft: 0, Hard: 0},
		{Type: "RLIMIT_NOFILE", Soft: 100, Hard: 2048},
	})
	fmt.Println(err)
	return nil
}

func TestKernelSetOOMScoreAdj(t *testing.T) {
	if out := childtest.Run(t, "oom"); out != "500\n" {
		t.Errorf("oom_score_adj = %q, want 500", out)
	}
	out := childtest.Run(t, "oom-lower")
	want := "process.oomScoreAdj: set -500 (now 500): lowering oom_score_adj needs CAP_SYS_RESOURCE, which the runtime lacks: write /proc/self/oom_score_adj: permission denied\n"
	if out != want {
		t.Errorf("got  %q\nwant %q", out, want)
	}
}

func oomScenario() error {
	if err := SetOOMScoreAdj(500); err != nil {
		return err
	}
	b, err := os.ReadFile("/proc/self/oom_score_adj")
	fmt.Print(string(b))
	return err
}

func oomLowerScenario() error {
	if err := dropEffective(capSysResource); err != nil {
		return err
	}
	if err := SetOOMScoreAdj(500); err != nil {
		return err
	}
	fmt.Println(SetOOMScoreAdj(-500))
	return nil
}

func TestKernelSetNoNewPrivs(t *testing.T) {
	if out := childtest.Run(t, "nnp"); out != "0 1\n" {
		t.Errorf("NoNewPrivs before and after = %q, want \"0 1\"", out)
	}
}

func nnpScenario() error {
	before, err := statusField("NoNewPrivs")
	if err != nil {
		return err
	}
	if err := SetNoNewPrivs(); err != nil {
		return err
	}
	after, err := statusField("NoNewPrivs")
	fmt.Println(before, after)
	return err
}

func TestKernelSetScheduler(t *testing.T) {
	for _, tt := range []struct {
		scenario, want string
	}{
		{"sched-batch", "policy=3 nice=10 exec policy=3\n"},
		{"sched-idle", "policy=5 nice=0 exec policy=5\n"},
	} {
		if out := childtest.Run(t, tt.scenario); out != tt.want {
			t.Errorf("%s: got %q, want %q", tt.scenario, out, tt.want)
		}
	}
}

func schedScenario(policy specs.LinuxSchedulerPolicy, nice int32) func() error {
	return func() error {
		if err := SetScheduler(&specs.Scheduler{Policy: policy, Nice: nice}); err != nil {
			return err
		}
		attr, err := unix.SchedGetAttr(0, 0)
		if err != nil {
			return err
		}
		fmt.Printf("policy=%d nice=%d ", attr.Policy, attr.Nice)
		os.Stdout.Sync()
		// Field 41 of /proc/PID/stat is the policy; the comm field before
		// it ("sh") has no spaces.
		return unix.Exec("/bin/sh", []string{"sh", "-c", `set -- $(cat /proc/$$/stat); shift 40; echo "exec policy=$1"`}, os.Environ())
	}
}

func TestKernelSetIOPriority(t *testing.T) {
	want := fmt.Sprintf("%#x %#x\n", 2<<13|6, 3<<13)
	if out := childtest.Run(t, "ioprio"); out != want {
		t.Errorf("ioprio_get = %q, want %q", out, want)
	}
}

func ioprioScenario() error {
	get := func() (uintptr, error) {
		v, _, errno := unix.Syscall(unix.SYS_IOPRIO_GET, ioprioWhoProcess, 0, 0)
		if errno != 0 {
			return 0, errno
		}
		return v, nil
	}
	for _, p := range []specs.LinuxIOPriority{
		{Class: specs.IOPRIO_CLASS_BE, Priority: 6},
		{Class: specs.IOPRIO_CLASS_IDLE},
	} {
		if err := SetIOPriority(&p); err != nil {
			return err
		}
		v, err := get()
		if err != nil {
			return err
		}
		fmt.Printf("%#x", v)
		if p.Class == specs.IOPRIO_CLASS_BE {
			fmt.Print(" ")
		}
	}
	fmt.Println()
	return nil
}

func TestKernelSetPersonality(t *testing.T) {
	if out := childtest.Run(t, "personality"); out != "i686\n" {
		t.Errorf("uname -m = %q, want i686", out)
	}
}

func personalityScenario() error {
	if err := SetPersonality(&specs.LinuxPersonality{Domain: specs.PerLinux32}); err != nil {
		return err
	}
	return unix.Exec("/usr/bin/uname", []string{"uname", "-m"}, os.Environ())
}

func TestKernelExecCPUAffinity(t *testing.T) {
	var online unix.CPUSet
	if err := unix.SchedGetaffinity(0, &online); err != nil {
		t.Fatal(err)
	}
	if online.Count() < 2 || !online.IsSet(0) || !online.IsSet(1) {
		t.Skip("needs CPUs 0 and 1")
	}
	out := childtest.Run(t, "affinity")
	want := "initial child: 0\nruntime thread restored: true\nfinal: 1\ninitial kept: 1\nreset: 0-1\n"
	if out != want {
		t.Errorf("got\n%s\nwant\n%s", out, want)
	}
}

func affinityScenario() error {
	var before unix.CPUSet
	if err := unix.SchedGetaffinity(0, &before); err != nil {
		return err
	}
	var childOut []byte
	err := WithInitialCPUAffinity(&specs.CPUAffinity{Initial: "0"}, func() error {
		var err error
		childOut, err = exec.Command("/bin/grep", "Cpus_allowed_list", "/proc/self/status").Output()
		return err
	})
	if err != nil {
		return err
	}
	fmt.Printf("initial child: %s\n", strings.TrimSpace(strings.TrimPrefix(string(childOut), "Cpus_allowed_list:")))
	var after unix.CPUSet
	if err := unix.SchedGetaffinity(0, &after); err != nil {
		return err
	}
	fmt.Printf("runtime thread restored: %v\n", after == before)

	if err := SetCPUAffinity(&specs.CPUAffinity{Initial: "0", Final: "1"}); err != nil {
		return err
	}
	final, err := statusField("Cpus_allowed_list")
	if err != nil {
		return err
	}
	fmt.Printf("final: %s\n", final)
	// Only initial given: left as it is.
	if err := SetCPUAffinity(&specs.CPUAffinity{Initial: "0"}); err != nil {
		return err
	}
	kept, err := statusField("Cpus_allowed_list")
	if err != nil {
		return err
	}
	fmt.Printf("initial kept: %s\n", kept)
	// Nothing given: every CPU.
	if err := SetCPUAffinity(nil); err != nil {
		return err
	}
	reset, err := statusField("Cpus_allowed_list")
	fmt.Printf("reset: %s\n", reset)
	return err
}
