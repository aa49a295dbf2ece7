package capabilities

import (
	"io"
	"slices"
	"strings"
	"testing"

	"github.com/opencontainers/runtime-spec/specs-go"
	"github.com/sirupsen/logrus"
	"golang.org/x/sys/unix"

	"github.com/rtproject/rt/libcontainer/internal/kernel/kerneltest"
)

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
	// Pretend the kernel ends at CAP_PERFMON (38, Linux 5.8).
	rec := kerneltest.New(t, "")
	rec.Proc["sys/kernel/cap_last_cap"] = "38\n"
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

// These run against the fake kernel; capabilities_kernel_test.go applies
// the same sets for real.

// Capability bits, for these tests and the kernel tests.
const (
	capKill           = 1 << 5
	capSetpcap        = 1 << 8
	capNetBindService = 1 << 10
	capNetRaw         = 1 << 13
	capSysResource    = 1 << 24
)

// TestNewTrims: what the runtime cannot grant is left out, with one warning.
func TestNewTrims(t *testing.T) {
	rec := kerneltest.New(t, "")
	log := captureLog(t)
	rec.Permitted = kerneltest.AllCaps &^ capSysResource
	rec.Effective, rec.Bounding = rec.Permitted, rec.Permitted
	s, err := New(&specs.LinuxCapabilities{
		Bounding:  []string{"CAP_SYS_RESOURCE", "CAP_KILL", "CAP_SETPCAP"},
		Permitted: []string{"CAP_SYS_RESOURCE", "CAP_KILL"},
		Effective: []string{"CAP_KILL", "CAP_NET_RAW"},
		Ambient:   []string{"CAP_KILL"},
	})
	if err != nil {
		t.Fatal(err)
	}
	want := Set{Bounding: capKill | capSetpcap, Permitted: capKill, Effective: capKill, Ambient: capKill}
	if *s != want {
		t.Errorf("New = %+v, want %+v", *s, want)
	}
	if !slices.Contains(log.lines, "warning: ignoring unknown or unavailable capabilities: [CAP_NET_RAW CAP_SYS_RESOURCE]") {
		t.Errorf("log %q", log.lines)
	}
	if len(rec.Calls) != 0 {
		t.Errorf("New changed something: %q", rec.Calls)
	}
}

func TestDropBoundingSet(t *testing.T) {
	rec := kerneltest.New(t, "")
	rec.Proc["sys/kernel/cap_last_cap"] = "3\n"
	if err := (&Set{Bounding: 1<<1 | 1<<3}).DropBoundingSet(); err != nil {
		t.Fatal(err)
	}
	if want := []string{"prctl PR_CAPBSET_DROP 0", "prctl PR_CAPBSET_DROP 2"}; !slices.Equal(rec.Calls, want) {
		t.Errorf("calls %q, want %q", rec.Calls, want)
	}
	rec.Reset()
	rec.Fail("prctl", 1, unix.EPERM)
	err := (&Set{}).DropBoundingSet()
	want := "drop CAP_CHOWN from the bounding set: operation not permitted (CAP_SETPCAP is not in the effective set)"
	if err == nil || err.Error() != want {
		t.Errorf("DropBoundingSet = %v, want %q", err, want)
	}
}

func TestApply(t *testing.T) {
	rec := kerneltest.New(t, "")
	s := &Set{Permitted: capKill | capNetRaw, Effective: capKill, Inheritable: capKill | capNetBindService, Ambient: capKill}
	if err := s.Apply(); err != nil {
		t.Fatal(err)
	}
	want := []string{
		"capset effective=0x20 permitted=0x2020 inheritable=0x420",
		"prctl PR_CAP_AMBIENT_CLEAR_ALL",
		"prctl PR_CAP_AMBIENT_RAISE 5",
	}
	if !slices.Equal(rec.Calls, want) {
		t.Errorf("calls:\n  %s\nwant:\n  %s", strings.Join(rec.Calls, "\n  "), strings.Join(want, "\n  "))
	}
	// An ambient capability the kernel refuses is left out with runc's warning.
	rec = kerneltest.New(t, "")
	log := captureLog(t)
	rec.Fail("prctl", 2, unix.EPERM)
	s = &Set{Permitted: capKill, Inheritable: capKill, Ambient: capKill | capNetRaw}
	if err := s.Apply(); err != nil || s.Ambient != capNetRaw {
		t.Errorf("refused ambient: %v, ambient %#x", err, s.Ambient)
	}
	if !slices.Contains(log.lines, "warning: can't raise ambient capability CAP_KILL: operation not permitted") {
		t.Errorf("log %q", log.lines)
	}
	// Kernels before 4.3 have no ambient set: fine unless some were asked for.
	rec = kerneltest.New(t, "")
	rec.Fail("prctl", 1, unix.EINVAL)
	if err := (&Set{Permitted: capKill}).Apply(); err != nil {
		t.Errorf("no ambient set, none asked for: %v", err)
	}
	rec = kerneltest.New(t, "")
	rec.Fail("prctl", 1, unix.EINVAL)
	if err := (&Set{Ambient: capKill}).Apply(); err == nil || err.Error() != "clear the ambient set: invalid argument" {
		t.Errorf("no ambient set, some asked for: %v", err)
	}
}

func TestBoundingDrops(t *testing.T) {
	rec := kerneltest.New(t, "")
	rec.Proc["sys/kernel/cap_last_cap"] = "3\n"
	for _, tt := range []struct {
		bounding uint64
		want     []int
	}{
		{1<<1 | 1<<3, []int{0, 2}},
		{0, []int{0, 1, 2, 3}},
		{0xf, nil},
	} {
		got, err := (&Set{Bounding: tt.bounding}).BoundingDrops()
		if err != nil || !slices.Equal(got, tt.want) {
			t.Errorf("BoundingDrops of %#x = %v, %v; want %v", tt.bounding, got, err, tt.want)
		}
	}
	if len(rec.Calls) != 0 {
		t.Errorf("BoundingDrops changed something: %q", rec.Calls)
	}
}

func TestRaisableAmbient(t *testing.T) {
	for _, tt := range []struct {
		name       string
		set        Set
		securebits int
		want       []int
		warned     []string
	}{
		{"permitted and inheritable", Set{Permitted: capKill | capNetRaw, Inheritable: capKill | capNetRaw, Ambient: capKill | capNetRaw}, 0, []int{5, 13}, nil},
		{"not inheritable", Set{Permitted: capKill | capNetRaw, Inheritable: capKill, Ambient: capKill | capNetRaw}, 0, []int{5},
			[]string{"warning: can't raise ambient capability CAP_NET_RAW: operation not permitted"}},
		{"not permitted", Set{Inheritable: capKill, Ambient: capKill}, 0, nil,
			[]string{"warning: can't raise ambient capability CAP_KILL: operation not permitted"}},
		{"SECBIT_NO_CAP_AMBIENT_RAISE", Set{Permitted: capKill, Inheritable: capKill, Ambient: capKill}, secbitNoCapAmbientRaise, nil,
			[]string{"warning: can't raise ambient capability CAP_KILL: operation not permitted"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			log := captureLog(t)
			s := tt.set
			got := s.RaisableAmbient(tt.securebits)
			if !slices.Equal(got, tt.want) {
				t.Errorf("RaisableAmbient = %v, want %v", got, tt.want)
			}
			var raised uint64
			for _, c := range got {
				raised |= 1 << uint(c)
			}
			if s.Ambient != raised {
				t.Errorf("Ambient left %#x, want %#x", s.Ambient, raised)
			}
			var warnings []string
			for _, l := range log.lines {
				if strings.HasPrefix(l, "warning: ") {
					warnings = append(warnings, l)
				}
			}
			if !slices.Equal(warnings, tt.warned) {
				t.Errorf("warnings %q, want %q", warnings, tt.warned)
			}
		})
	}
}
