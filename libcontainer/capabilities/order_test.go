package capabilities

import (
	"os"
	"strings"
	"testing"

	"github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"

	"github.com/rtproject/rt/internal/childtest"
	"github.com/rtproject/rt/libcontainer/apparmor"
	"github.com/rtproject/rt/libcontainer/keys"
	"github.com/rtproject/rt/libcontainer/selinuxlabel"
	"github.com/rtproject/rt/libcontainer/system"
)

// TestInitOrder runs every step in the order init uses and checks what
// the exec'd program (uid 1000) ends up with.
func TestInitOrder(t *testing.T) {
	out := childtest.Run(t, "init-order")
	for _, want := range []string{
		"Uid:\t1000\t1000\t1000\t1000",
		"Gid:\t1000\t1000\t1000\t1000",
		"Groups:\t10 20 ",
		"CapBnd:\t00000000000025e1",
		"CapEff:\t0000000000000400",
		"CapAmb:\t0000000000000400",
		"NoNewPrivs:\t1",
		"nofile 256 512",
		"oom 300",
		"machine i686",
		"umask 0027",
		"policy 3",
	} {
		if !strings.Contains(out, want+"\n") {
			t.Errorf("missing %q in:\n%s", want, out)
		}
	}
}

func initOrder() error {
	p := &specs.Process{
		User:            specs.User{UID: 1000, GID: 1000, AdditionalGids: []uint32{10, 20}, Umask: func() *uint32 { u := uint32(0o027); return &u }()},
		Capabilities:    testCaps,
		Rlimits:         []specs.POSIXRlimit{{Type: "RLIMIT_NOFILE", Soft: 256, Hard: 512}},
		OOMScoreAdj:     func() *int { v := 300; return &v }(),
		Scheduler:       &specs.Scheduler{Policy: specs.SchedBatch},
		IOPriority:      &specs.LinuxIOPriority{Class: specs.IOPRIO_CLASS_BE, Priority: 7},
		NoNewPrivileges: true,
	}
	personality := &specs.LinuxPersonality{Domain: specs.PerLinux32}
	if err := system.ValidateProcess(p); err != nil {
		return err
	}
	caps, err := New(p.Capabilities)
	if err != nil {
		return err
	}
	if err := selinuxlabel.SetKeyLabel(p.SelinuxLabel); err != nil {
		return err
	}
	if _, err := keys.SetupSessionKeyring("rt-order-test", false); err != nil {
		return err
	}
	if err := apparmor.ApplyProfile(p.ApparmorProfile); err != nil {
		return err
	}
	if err := selinuxlabel.SetExecLabel(p.SelinuxLabel); err != nil {
		return err
	}
	if err := system.SetRlimits(0, p.Rlimits); err != nil {
		return err
	}
	if err := system.SetOOMScoreAdj(*p.OOMScoreAdj); err != nil {
		return err
	}
	if err := system.SetScheduler(p.Scheduler); err != nil {
		return err
	}
	if err := system.SetIOPriority(p.IOPriority); err != nil {
		return err
	}
	if err := system.SetPersonality(personality); err != nil {
		return err
	}
	if err := caps.DropBoundingSet(); err != nil {
		return err
	}
	if err := system.SetupUser(p.User); err != nil {
		return err
	}
	if err := caps.Apply(); err != nil {
		return err
	}
	if err := system.SetNoNewPrivs(); err != nil {
		return err
	}
	script := `grep -E '^(Uid|Gid|Groups|Cap|NoNewPrivs)' /proc/self/status
echo "nofile $(ulimit -Sn) $(ulimit -Hn)"
echo "oom $(cat /proc/self/oom_score_adj)"
echo "machine $(uname -m)"
echo "umask $(umask)"
set -- $(cat /proc/$$/stat); shift 40; echo "policy $1"`
	return unix.Exec("/bin/sh", []string{"sh", "-c", script}, os.Environ())
}
