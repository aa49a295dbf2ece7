//go:build kernel

// These tests set capabilities for real, each in a child process
// (childtest): they need root and run with the kernel tests of the
// integration suite.

package capabilities

import (
	"bufio"
	"fmt"
	"os"
	"strconv"
	"strings"
	"testing"

	"github.com/opencontainers/runtime-spec/specs-go"
	"github.com/sirupsen/logrus"
	"golang.org/x/sys/unix"

	"github.com/rtproject/rt/internal/childtest"
	"github.com/rtproject/rt/libcontainer/system"
)

func init() {
	childtest.Register("apply-root", applyRoot)
	childtest.Register("apply-user", applyUser)
	childtest.Register("not-grantable", notGrantable)
	childtest.Register("drop-needs-setpcap", dropNeedsSetpcap)
}

func TestMain(m *testing.M) { childtest.TestMain(m) }

const (
	capChown  = 1 << 0
	capSetgid = 1 << 6
	capSetuid = 1 << 7
)

var testCaps = &specs.LinuxCapabilities{
	Bounding:    []string{"CAP_CHOWN", "CAP_SETUID", "CAP_SETGID", "CAP_SETPCAP", "CAP_KILL", "CAP_NET_BIND_SERVICE", "CAP_NET_RAW"},
	Permitted:   []string{"CAP_KILL", "CAP_NET_BIND_SERVICE", "CAP_NET_RAW"},
	Effective:   []string{"CAP_KILL", "CAP_NET_BIND_SERVICE"},
	Inheritable: []string{"CAP_KILL", "CAP_NET_BIND_SERVICE"},
	Ambient:     []string{"CAP_NET_BIND_SERVICE"},
}

func TestKernelApplyRoot(t *testing.T) {
	got := parseStatus(t, childtest.Run(t, "apply-root"))
	want := map[string]uint64{
		"CapBnd": capChown | capSetuid | capSetgid | capSetpcap | capKill | capNetBindService | capNetRaw,
		"CapPrm": capKill | capNetBindService | capNetRaw,
		"CapEff": capKill | capNetBindService,
		"CapInh": capKill | capNetBindService,
		"CapAmb": capNetBindService,
	}
	checkCaps(t, got, want)
}

// applyRoot applies testCaps without a change of user and reports the
// thread's sets.
func applyRoot() error {
	s, err := New(testCaps)
	if err != nil {
		return err
	}
	if err := s.DropBoundingSet(); err != nil {
		return err
	}
	if err := s.Apply(); err != nil {
		return err
	}
	return printStatus("/proc/thread-self/status")
}

func TestKernelApplyWithUserChange(t *testing.T) {
	out := childtest.Run(t, "apply-user")
	before, after, ok := strings.Cut(out, "--- exec\n")
	if !ok {
		t.Fatalf("no exec marker in %q", out)
	}
	if want := "resuid=1000,1000,1000 resgid=1000,1000,1000 groups=[10 20]\n"; !strings.HasPrefix(before, want) {
		t.Errorf("ids: got %q, want prefix %q", before, want)
	}
	bnd := uint64(capChown | capSetuid | capSetgid | capSetpcap | capKill | capNetBindService | capNetRaw)
	// Init, after setresuid with PR_SET_KEEPCAPS and capset.
	checkCaps(t, parseStatus(t, before), map[string]uint64{
		"CapBnd": bnd,
		"CapPrm": capKill | capNetBindService | capNetRaw,
		"CapEff": capKill | capNetBindService,
		"CapInh": capKill | capNetBindService,
		"CapAmb": capNetBindService,
	})
	// The program exec'd by uid 1000 keeps exactly its ambient set.
	checkCaps(t, parseStatus(t, after), map[string]uint64{
		"CapBnd": bnd,
		"CapPrm": capNetBindService,
		"CapEff": capNetBindService,
		"CapInh": capKill | capNetBindService,
		"CapAmb": capNetBindService,
	})
}

// applyUser runs init's order: bounding set, user, capabilities; then
// execs grep as uid 1000 to show what the program gets.
func applyUser() error {
	s, err := New(testCaps)
	if err != nil {
		return err
	}
	if err := s.DropBoundingSet(); err != nil {
		return err
	}
	if err := system.SetupUser(specs.User{UID: 1000, GID: 1000, AdditionalGids: []uint32{10, 20}}); err != nil {
		return err
	}
	if err := s.Apply(); err != nil {
		return err
	}
	ruid, euid, suid := unix.Getresuid()
	rgid, egid, sgid := unix.Getresgid()
	groups, err := unix.Getgroups()
	if err != nil {
		return err
	}
	fmt.Printf("resuid=%d,%d,%d resgid=%d,%d,%d groups=%v\n", ruid, euid, suid, rgid, egid, sgid, groups)
	if err := printStatus("/proc/thread-self/status"); err != nil {
		return err
	}
	fmt.Println("--- exec")
	os.Stdout.Sync()
	return unix.Exec("/bin/grep", []string{"grep", "^Cap", "/proc/self/status"}, os.Environ())
}

func TestKernelNotGrantable(t *testing.T) {
	out := childtest.Run(t, "not-grantable")
	for _, want := range []string{
		"debug: process.capabilities.bounding: CAP_SYS_RESOURCE cannot be granted: not in the runtime's bounding set",
		"debug: process.capabilities.permitted: CAP_SYS_RESOURCE cannot be granted: not in the runtime's permitted set",
		"debug: process.capabilities.effective: CAP_NET_RAW cannot be granted: not in the permitted set",
		"warning: ignoring unknown or unavailable capabilities: [CAP_NET_RAW CAP_SYS_RESOURCE]",
		// As runc: the kernel refuses an ambient capability outside the inheritable set.
		"warning: can't raise ambient capability CAP_KILL: operation not permitted",
		"applied",
	} {
		if !strings.Contains(out, want+"\n") {
			t.Errorf("missing line %q in:\n%s", want, out)
		}
	}
}

// notGrantable takes CAP_SYS_RESOURCE away from the child, as on this
// machine, then asks for it (and for sets the kernel would refuse): New
// must leave those out with warnings so that Apply succeeds.
func notGrantable() error {
	logrus.SetLevel(logrus.DebugLevel)
	logrus.SetOutput(os.Stdout)
	logrus.SetFormatter(messageOnly{})
	const sysResource = 24
	if err := unix.Prctl(unix.PR_CAPBSET_DROP, sysResource, 0, 0, 0); err != nil {
		return err
	}
	cur, err := current()
	if err != nil {
		return err
	}
	if err := setThreadCaps(cur.effective&^(1<<sysResource), cur.permitted&^(1<<sysResource), cur.inheritable); err != nil {
		return err
	}
	s, err := New(&specs.LinuxCapabilities{
		Bounding:  []string{"CAP_SYS_RESOURCE", "CAP_KILL", "CAP_SETPCAP"},
		Permitted: []string{"CAP_SYS_RESOURCE", "CAP_KILL"},
		Effective: []string{"CAP_KILL", "CAP_NET_RAW"},
		Ambient:   []string{"CAP_KILL"},
	})
	if err != nil {
		return err
	}
	if err := s.DropBoundingSet(); err != nil {
		return err
	}
	if err := s.Apply(); err != nil {
		return err
	}
	fmt.Println("applied")
	return nil
}

func TestKernelDropNeedsSetpcap(t *testing.T) {
	stderr := childtest.RunFailing(t, "drop-needs-setpcap")
	want := "drop CAP_CHOWN from the bounding set: operation not permitted (CAP_SETPCAP is not in the effective set)"
	if !strings.Contains(stderr, want) {
		t.Errorf("stderr = %q, want it to contain %q", stderr, want)
	}
}

func dropNeedsSetpcap() error {
	s, err := New(&specs.LinuxCapabilities{Bounding: []string{"CAP_KILL"}})
	if err != nil {
		return err
	}
	cur, err := current()
	if err != nil {
		return err
	}
	if err := setThreadCaps(cur.effective&^capSetpcap, cur.permitted, cur.inheritable); err != nil {
		return err
	}
	return s.DropBoundingSet()
}

// messageOnly formats an entry as "level: message".
type messageOnly struct{}

func (messageOnly) Format(e *logrus.Entry) ([]byte, error) {
	return []byte(e.Level.String() + ": " + e.Message + "\n"), nil
}

func setThreadCaps(eff, prm, inh mask) error {
	return (&Set{Effective: uint64(eff), Permitted: uint64(prm), Inheritable: uint64(inh)}).Apply()
}

func printStatus(path string) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if strings.HasPrefix(sc.Text(), "Cap") {
			fmt.Println(sc.Text())
		}
	}
	return sc.Err()
}

func parseStatus(t *testing.T, out string) map[string]uint64 {
	t.Helper()
	m := make(map[string]uint64)
	for _, line := range strings.Split(out, "\n") {
		k, v, ok := strings.Cut(line, ":")
		if !ok || !strings.HasPrefix(k, "Cap") {
			continue
		}
		n, err := strconv.ParseUint(strings.TrimSpace(v), 16, 64)
		if err != nil {
			t.Fatalf("bad line %q: %v", line, err)
		}
		m[k] = n
	}
	return m
}

func checkCaps(t *testing.T, got, want map[string]uint64) {
	t.Helper()
	for k, w := range want {
		if g, ok := got[k]; !ok || g != w {
			t.Errorf("%s = %#x, want %#x", k, g, w)
		}
	}
}
