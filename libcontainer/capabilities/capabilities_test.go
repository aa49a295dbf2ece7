package capabilities

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/opencontainers/runtime-spec/specs-go"
	"github.com/sirupsen/logrus"
	"golang.org/x/sys/unix"

	"github.com/rtproject/rt/internal/childtest"
	"github.com/rtproject/rt/libcontainer/system"
)

func TestMain(m *testing.M) {
	childtest.Main(map[string]func() error{
		"init-order":         initOrder,
		"apply-root":         applyRoot,
		"apply-user":         applyUser,
		"not-grantable":      notGrantable,
		"drop-needs-setpcap": dropNeedsSetpcap,
	})
	os.Exit(m.Run())
}

// logLines collects what New and Apply log, one "level: message" a line.
type logLines struct{ lines []string }

func (l *logLines) Levels() []logrus.Level { return logrus.AllLevels }
func (l *logLines) Fire(e *logrus.Entry) error {
	l.lines = append(l.lines, e.Level.String()+": "+e.Message)
	return nil
}

// captureLog sends the standard logger's entries (debug included) to the
// returned collector until the test ends.
func captureLog(t *testing.T) *logLines {
	l := &logLines{}
	std := logrus.StandardLogger()
	hooks, out, lvl := std.Hooks, std.Out, std.GetLevel()
	std.ReplaceHooks(logrus.LevelHooks{})
	std.AddHook(l)
	std.SetOutput(io.Discard)
	std.SetLevel(logrus.DebugLevel)
	t.Cleanup(func() {
		std.ReplaceHooks(hooks)
		std.SetOutput(out)
		std.SetLevel(lvl)
	})
	return l
}

func TestNames(t *testing.T) {
	for name, want := range map[string]int{"CAP_CHOWN": 0, "CAP_SYS_ADMIN": 21, "CAP_CHECKPOINT_RESTORE": 40} {
		if got := byName[name]; got != want {
			t.Errorf("byName[%s] = %d, want %d", name, got, want)
		}
		if got := Name(want); got != name {
			t.Errorf("Name(%d) = %s, want %s", want, got, name)
		}
	}
}

func TestKnown(t *testing.T) {
	known := Known()
	if len(known) != len(byName) || known[0] != "CAP_AUDIT_CONTROL" {
		t.Fatalf("Known() = %q", known)
	}
	for _, name := range known {
		if _, ok := Number(name); !ok {
			t.Errorf("Known lists %s, which Number does not know", name)
		}
	}
}

// TestNewIgnored: names that are no capability, and capabilities this
// kernel lacks, are left out with runc's one warning naming them all.
func TestNewIgnored(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root")
	}
	// Pretend the kernel ends at CAP_PERFMON (38, Linux 5.8).
	defer func(f func() (int, error)) { lastCap = f }(lastCap)
	lastCap = func() (int, error) { return 38, nil }
	log := captureLog(t)

	s, err := New(&specs.LinuxCapabilities{
		Bounding:  []string{"CAP_CHOWN", "CAP_BPF", "CAP_PERFMON", "UNKNOWN_CAP", "CAP_UNKNOWN"},
		Effective: []string{"cap_chown"},
	})
	if err != nil {
		t.Fatal(err)
	}
	if want := uint64(1<<0 | 1<<38); s.Bounding != want {
		t.Errorf("Bounding = %#x, want %#x", s.Bounding, want)
	}
	if s.Effective != 0 {
		t.Errorf("Effective = %#x, want 0", s.Effective)
	}
	var warnings []string
	for _, l := range log.lines {
		if strings.HasPrefix(l, "warning: ") {
			warnings = append(warnings, l)
		}
	}
	want := "warning: ignoring unknown or unavailable capabilities: [CAP_BPF CAP_UNKNOWN UNKNOWN_CAP cap_chown]"
	if len(warnings) != 1 || warnings[0] != want {
		t.Errorf("warnings %q, want [%q]", warnings, want)
	}
	for _, detail := range []string{
		"debug: process.capabilities.bounding[1]: CAP_BPF is not supported by this kernel (cap_last_cap is 38)",
		`debug: process.capabilities.effective[0]: "cap_chown" is not a capability`,
	} {
		if !slices.Contains(log.lines, detail) {
			t.Errorf("no %q in %q", detail, log.lines)
		}
	}
}

func TestNewNil(t *testing.T) {
	s, err := New(nil)
	if s != nil || err != nil {
		t.Fatalf("New(nil) = %v, %v; want nil, nil", s, err)
	}
	// A nil set changes nothing.
	if err := s.DropBoundingSet(); err != nil {
		t.Error(err)
	}
	if err := s.Apply(); err != nil {
		t.Error(err)
	}
}

const (
	capChown          = 1 << 0
	capKill           = 1 << 5
	capSetgid         = 1 << 6
	capSetuid         = 1 << 7
	capSetpcap        = 1 << 8
	capNetBindService = 1 << 10
	capNetRaw         = 1 << 13
)

var testCaps = &specs.LinuxCapabilities{
	Bounding:    []string{"CAP_CHOWN", "CAP_SETUID", "CAP_SETGID", "CAP_SETPCAP", "CAP_KILL", "CAP_NET_BIND_SERVICE", "CAP_NET_RAW"},
	Permitted:   []string{"CAP_KILL", "CAP_NET_BIND_SERVICE", "CAP_NET_RAW"},
	Effective:   []string{"CAP_KILL", "CAP_NET_BIND_SERVICE"},
	Inheritable: []string{"CAP_KILL", "CAP_NET_BIND_SERVICE"},
	Ambient:     []string{"CAP_NET_BIND_SERVICE"},
}

func TestApplyRoot(t *testing.T) {
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

func TestApplyWithUserChange(t *testing.T) {
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

func TestNotGrantable(t *testing.T) {
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

func TestDropNeedsSetpcap(t *testing.T) {
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
